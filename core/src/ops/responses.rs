//! The response of every operation, described once (`described.rs` holds
//! the operations to it in debug builds).
//!
//! Each operation gives one of its answers (an issue through a policy
//! answers a token and its grant, or a denial): every member an answer
//! holds is declared there, every required one is present, and each has
//! its shape. `ops::call` checks every answer against its operation's
//! answers in every debug build (every test run), so an answer can never
//! hold what is not described; release builds never read this table. The
//! npm package's result types are rendered from it
//! (`tests/tests/npm_contract.rs`), each answer under its `name`.

use super::contract::{Member, Members, Presence, Shape, member as out};

use Presence::{Either, Optional, Required, With};

const STRING: Shape = Shape::String;
const INT: Shape = Shape::Integer;
const UINT: Shape = Shape::Uint;

/// One answer an operation may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// Its name, as the TypeScript declarations export it.
    pub name: &'static str,
    /// One line of doc.
    pub doc: &'static str,
    /// Its members.
    pub members: Members,
}

const fn answer(name: &'static str, doc: &'static str, members: Members) -> Answer {
    Answer { name, doc, members }
}

/// The text an operation that signs hands out, or, with an external
/// signer, what to sign.
const SIGNED_TEXT: &[Member] = &[
    out(
        "token",
        STRING,
        Either("signing_input"),
        "The signed token; for a delegation, the whole chain `child~parent~…~root`.",
    ),
    out(
        "signing_input",
        STRING,
        Either("token"),
        "With `signer`: the bytes to sign, for `attach_signature`.",
    ),
    out(
        "chain_rest",
        STRING,
        With("signing_input"),
        "With `signer`, for a delegation: the parents, for `attach_signature`.",
    ),
];

/// A signed list (revocation or status), or with an external signer what
/// to sign.
const SIGNED_LIST: &[Member] = &[
    out("list", STRING, Either("signing_input"), "The signed list."),
    out(
        "signing_input",
        STRING,
        Either("list"),
        "With `signer`: the bytes to sign.",
    ),
    out("kid", STRING, Required, "The signing key's id."),
];

/// How a signed list that verified stands: fresh, or stale (an outcome).
const CHECKED_LIST: &[Member] = &[
    out(
        "status",
        Shape::OneOf(&["fresh", "stale"]),
        Required,
        "`stale`: past its freshness (a revocation list's `next_update`, a status list's `exp`); fetch a newer list, or decide to accept it.",
    ),
    out(
        "stale_since",
        Shape::Nullable(&INT),
        Required,
        "Stale since (its `next_update` or `exp`).",
    ),
    out("kid", STRING, Required, "The signing key's id."),
    out("iss", STRING, Required, "The issuer."),
];

const AUDIT_EVENT: Shape = Shape::Object(&[&[
    out(
        "event",
        Shape::Named("AuditEvent"),
        Required,
        "The event's name.",
    ),
    out(
        "data",
        Shape::Named("Record<string, unknown>"),
        Required,
        "Its data.",
    ),
]]);

const HEADER: Shape = Shape::Object(&[&[
    out("alg", Shape::OneOf(&["EdDSA"]), Required, "The algorithm."),
    out(
        "typ",
        Shape::OneOf(&[crate::token::TYP]),
        Required,
        "The type.",
    ),
    out("kid", STRING, Required, "The signing key's id."),
]]);

const ISSUED: &[Member] = &[
    out("kid", STRING, Required, "The signing key's id."),
    out("jti", STRING, Required, "The token's id."),
    out("iat", INT, Required, "Issued at."),
    out("exp", INT, Required, "Expires at."),
    out(
        "audit",
        AUDIT_EVENT,
        Required,
        "The event to append to the audit log (`token_issued` for `issue` and `refresh`, \
         `agent.capability.granted` for `delegate`).",
    ),
];

const GRANTED: &[Member] = &[
    out("decision", Shape::OneOf(&["granted"]), Required, "Granted."),
    out(
        "capabilities",
        Shape::Named("Capability[]"),
        Required,
        "What is granted: the request met with the allow rules, required constraints merged in.",
    ),
    out(
        "ttl",
        UINT,
        Required,
        "The lifetime granted, in seconds (capped by the policy).",
    ),
    out(
        "matched_rules",
        Shape::Strings,
        Required,
        "The allow rules that granted it.",
    ),
    out(
        "narrowed",
        Shape::Boolean,
        Required,
        "Whether less than asked is granted.",
    ),
];

const DENIED: &[Member] = &[
    out("decision", Shape::OneOf(&["denied"]), Required, "Denied."),
    out(
        "code",
        Shape::OneOf(&["denied_by_rule", "no_matching_rule", "bearer_not_allowed"]),
        Required,
        "Why, as a stable code.",
    ),
    out(
        "rule",
        Shape::Nullable(&STRING),
        Required,
        "The deny rule, if one denied.",
    ),
    out("reason", STRING, Required, "Why, for a person."),
];

const DENIAL: Answer = answer(
    "Denied",
    "A denial: a decision, not an error; nothing is signed.",
    &[DENIED],
);

const LINK: Shape = Shape::Object(&[&[
    out("jti", STRING, Required, "The ancestor's `jti`."),
    out("id", STRING, Required, "Its revocation key."),
    out("sub", STRING, Required, "Its subject."),
    out("kid", STRING, Required, "The key that signed it."),
]]);

const REPLAY: Shape = Shape::Object(&[&[
    out("key", STRING, Required, "The replay key to record."),
    out("exp", INT, Required, "Until when to keep it."),
]]);

const PROOF: &[Member] = &[
    out(
        "kid",
        STRING,
        Required,
        "The holder key that signed the proof.",
    ),
    out("jti", STRING, Required, "The proof's id."),
    out("iat", INT, Required, "When it was made."),
    out("aud", STRING, Required, "Who it is for."),
    out(
        "nonce",
        Shape::Nullable(&STRING),
        Required,
        "The nonce it carries.",
    ),
    out(
        "request_hash",
        Shape::Nullable(&STRING),
        Required,
        "The request hash it carries.",
    ),
    out(
        "replay",
        REPLAY,
        Required,
        "Record `key` until `exp` and pass recorded keys as `seen`: the module keeps no state.",
    ),
];

const VERIFIED: &[Member] = &[
    out("header", HEADER, Required, "The leaf's protected header."),
    out(
        "claims",
        Shape::Named("Claims"),
        Required,
        "The leaf's claims (the token presented first).",
    ),
    out(
        "depth",
        UINT,
        Required,
        "Delegations between the issuer and this token (0: signed by the issuer).",
    ),
    out(
        "id",
        STRING,
        Required,
        "The revocation key: the `jti`, or for a delegated token the chain's `jti`s joined by `.`.",
    ),
    out(
        "chain",
        Shape::List(&LINK),
        Required,
        "The leaf's ancestors, root first; empty for a token signed by the issuer.",
    ),
    out(
        "root_sub",
        STRING,
        Required,
        "The principal the issuer vouched for.",
    ),
    out(
        "bearer",
        Shape::Boolean,
        Required,
        "Whether it is a bearer token: whoever holds its text may present it (no proof of possession).",
    ),
];

const RULE_TRACE: Shape = Shape::Object(&[&[
    out("id", STRING, Required, "The rule's id."),
    out(
        "effect",
        Shape::OneOf(&["allow", "deny"]),
        Required,
        "Its effect.",
    ),
    out(
        "subject_matched",
        Shape::Boolean,
        Required,
        "Whether it names the subject.",
    ),
    out(
        "matched_by",
        Shape::Nullable(&STRING),
        Required,
        "What named it: `ids`, `patterns[1]` or `attributes`.",
    ),
    out(
        "overlapped",
        Shape::Boolean,
        Required,
        "Whether its capabilities overlap the request.",
    ),
    out(
        "contributed",
        Shape::Named("Capability[]"),
        Required,
        "What an allow rule contributed.",
    ),
    out(
        "ttl_cap",
        Shape::Nullable(&UINT),
        Required,
        "The lifetime cap it imposed.",
    ),
    out(
        "bearer_refused",
        Shape::Boolean,
        Optional,
        "`true`: it applied to a request for a bearer token and allows none, so it contributed nothing.",
    ),
]]);

/// Every operation's answers, by operation name.
pub const RESPONSES: &[(&str, &[Answer])] = &[
    (
        "info",
        &[answer(
            "ModuleInfo",
            "The module's versions and its operations table.",
            &[&[
                out("abi", UINT, Required, "The ABI version."),
                out("version", STRING, Required, "The crate version."),
                out(
                    "ops",
                    Shape::List(&Shape::Object(&[&[
                        out("id", UINT, Required, "The id the raw ABI calls it by."),
                        out("name", STRING, Required, "Its name."),
                    ]])),
                    Required,
                    "Every operation.",
                ),
            ]],
        )],
    ),
    (
        "keygen",
        &[answer(
            "GeneratedKey",
            "A key, as the module answers it (the JS API renames its members: `KeyPair`).",
            &[&[
                out("kid", STRING, Required, "The key's id."),
                out(
                    "private_jwk",
                    Shape::Named("Jwk"),
                    Required,
                    "The private JWK.",
                ),
                out(
                    "public_jwk",
                    Shape::Named("Jwk"),
                    Required,
                    "The public JWK.",
                ),
                out(
                    "handle",
                    STRING,
                    Required,
                    "The key handle (`ckh1.`…): as secret as the private JWK, and signs without re-deriving the public key.",
                ),
            ]],
        )],
    ),
    (
        "issue",
        &[
            answer("Issued", "A token, signed.", &[SIGNED_TEXT, ISSUED]),
            answer(
                "IssuedAndGranted",
                "An issue through a policy that granted: the token and the grant.",
                &[SIGNED_TEXT, ISSUED, GRANTED],
            ),
            DENIAL,
        ],
    ),
    (
        "verify",
        &[answer(
            "Verified",
            "A token or chain that verified.",
            &[
                VERIFIED,
                &[
                    out(
                        "proof",
                        Shape::Object(&[PROOF]),
                        Optional,
                        "With the `proof` option: the holder's proof of possession, checked in the same call.",
                    ),
                    out(
                        "valid_from",
                        Shape::Integer,
                        Optional,
                        "Without `proof` or `revocation_list`: the first `now` at which this request gives this answer (every link's `nbf` and `iat`, the key's window, less the leeway).",
                    ),
                    out(
                        "valid_until",
                        Shape::Integer,
                        Optional,
                        "With `valid_from`: the first `now` at which it no longer does (the earliest `exp` or key window end, plus the leeway). Revocation is the caller's to check on every use.",
                    ),
                ],
            ],
        )],
    ),
    (
        "authorize",
        &[answer(
            "Authorized",
            "A request the token allows.",
            &[&[
                out("allowed", Shape::True, Required, "Allowed."),
                out(
                    "cap_index",
                    UINT,
                    Required,
                    "Index in `claims.caps` of the capability that allowed it.",
                ),
                out("sub", STRING, Required, "The token's subject."),
                out(
                    "root_sub",
                    STRING,
                    Required,
                    "The principal the issuer vouched for.",
                ),
                out("jti", STRING, Required, "The token's `jti`."),
                out("id", STRING, Required, "The revocation key."),
                out(
                    "depth",
                    UINT,
                    Required,
                    "Delegations below the issuer's token.",
                ),
            ]],
        )],
    ),
    (
        "delegate",
        &[answer(
            "Delegated",
            "A child token, signed by the holder: the whole chain.",
            &[
                SIGNED_TEXT,
                ISSUED,
                &[
                    out("depth", UINT, Required, "The child's depth."),
                    out("id", STRING, Required, "The child's revocation key."),
                ],
            ],
        )],
    ),
    (
        "scope_meet",
        &[answer(
            "ScopeMeet",
            "Exactly the requests both lists allow.",
            &[&[out(
                "caps",
                Shape::Named("Capability[]"),
                Required,
                "min(a, b).",
            )]],
        )],
    ),
    (
        "policy_check",
        &[answer(
            "PolicyCheck",
            "A policy that is valid.",
            &[&[
                out("valid", Shape::True, Required, "Valid."),
                out("rules", UINT, Required, "How many rules."),
                out("max_ttl", UINT, Required, "The policy's TTL cap."),
                out(
                    "policy",
                    Shape::Named("Policy"),
                    Required,
                    "The policy in normal form.",
                ),
            ]],
        )],
    ),
    (
        "policy_evaluate",
        &[answer("Granted", "A grant.", &[GRANTED]), DENIAL],
    ),
    (
        "policy_explain",
        &[answer(
            "PolicyExplanation",
            "An evaluation, rule by rule.",
            &[&[
                out("requested_ttl", UINT, Required, "The lifetime asked for."),
                out("policy_max_ttl", UINT, Required, "The policy's TTL cap."),
                out(
                    "rules",
                    Shape::List(&RULE_TRACE),
                    Required,
                    "One entry per rule visited, in order.",
                ),
                out("steps", UINT, Required, "Evaluation steps spent."),
                out(
                    "decision",
                    Shape::Named("Decision"),
                    Required,
                    "The decision.",
                ),
            ]],
        )],
    ),
    (
        "revocation_list_sign",
        &[answer(
            "SignedRevocationList",
            "A revocation list, signed.",
            &[SIGNED_LIST],
        )],
    ),
    (
        "revocation_list_verify",
        &[answer(
            "CheckedRevocationList",
            "A revocation list that verified; a stale list is an outcome, not an error.",
            &[
                CHECKED_LIST,
                &[
                    out(
                        "seq",
                        UINT,
                        Required,
                        "Monotonic: a verifier refuses a list older than one it has seen.",
                    ),
                    out("iat", INT, Required, "Issued at."),
                    out("next_update", INT, Required, "When a newer list is due."),
                    out(
                        "revoked",
                        Shape::Named("RevokedEntry[]"),
                        Required,
                        "The revoked ids.",
                    ),
                ],
            ],
        )],
    ),
    (
        "pop_create",
        &[answer(
            "CreatedProof",
            "A proof of possession, signed by the holder.",
            &[&[
                out("proof", STRING, Either("signing_input"), "The proof."),
                out(
                    "signing_input",
                    STRING,
                    Either("proof"),
                    "With `signer`: the bytes to sign.",
                ),
            ]],
        )],
    ),
    (
        "pop_verify",
        &[answer(
            "VerifiedProof",
            "A proof of possession that verified, and the token it was for.",
            &[
                PROOF,
                &[
                    out(
                        "token_jti",
                        STRING,
                        Required,
                        "The presented token's `jti`.",
                    ),
                    out("token_id", STRING, Required, "Its revocation key."),
                    out("sub", STRING, Required, "Its subject."),
                    out(
                        "root_sub",
                        STRING,
                        Required,
                        "The principal the issuer vouched for.",
                    ),
                ],
            ],
        )],
    ),
    (
        "audit_append",
        &[answer(
            "AuditRecord",
            "A record of an audit hash chain.",
            &[&[
                out("seq", UINT, Required, "The record's place in the chain."),
                out("time", INT, Required, "When the event happened."),
                out(
                    "event",
                    Shape::Named("AuditEvent"),
                    Required,
                    "The event name.",
                ),
                out("v", UINT, Required, "The event's data version."),
                out(
                    "data",
                    Shape::Named("Record<string, unknown>"),
                    Required,
                    "The event's data (integers only among numbers: a record must hash one way).",
                ),
                out("prev", STRING, Required, "The previous record's hash."),
                out("hash", STRING, Required, "This record's hash."),
            ]],
        )],
    ),
    (
        "audit_verify",
        &[answer(
            "AuditSummary",
            "An audit chain that verified.",
            &[&[
                out("valid", Shape::True, Required, "Valid."),
                out("first_seq", UINT, Required, "The first record's `seq`."),
                out("last_seq", UINT, Required, "The last record's `seq`."),
                out("count", UINT, Required, "How many records."),
                out("head", STRING, Required, "The last record's hash."),
            ]],
        )],
    ),
    (
        "refresh",
        &[answer(
            "Refreshed",
            "A token re-issued through the policy in force.",
            &[
                SIGNED_TEXT,
                ISSUED,
                &[
                    out(
                        "replaces",
                        STRING,
                        Required,
                        "The `jti` of the token refreshed.",
                    ),
                    out(
                        "caps",
                        Shape::Named("Capability[]"),
                        Required,
                        "The new grant.",
                    ),
                ],
            ],
        )],
    ),
    (
        "decode",
        &[answer(
            "Decoded",
            "A token's headers and claims, read but NOT verified: nothing in it is authenticated.",
            &[&[
                out(
                    "header",
                    Shape::Named("Record<string, unknown>"),
                    Required,
                    "The leaf's protected header.",
                ),
                out(
                    "claims",
                    Shape::Named("UnverifiedClaims"),
                    Required,
                    "The leaf's claims, as the token states them.",
                ),
                out(
                    "chain",
                    Shape::List(&Shape::Object(&[&[
                        out(
                            "header",
                            Shape::Named("Record<string, unknown>"),
                            Required,
                            "The ancestor's protected header.",
                        ),
                        out(
                            "claims",
                            Shape::Named("UnverifiedClaims"),
                            Required,
                            "Its claims, as stated.",
                        ),
                    ]])),
                    Required,
                    "The leaf's ancestors, root first; empty for a single token.",
                ),
            ]],
        )],
    ),
    (
        "status_list_sign",
        &[answer(
            "SignedStatusList",
            "A status list, signed.",
            &[SIGNED_LIST],
        )],
    ),
    (
        "status_list_verify",
        &[answer(
            "CheckedStatusList",
            "A status list that verified; a stale list is an outcome, not an error.",
            &[
                CHECKED_LIST,
                &[
                    out("sub", STRING, Required, "The list's URI."),
                    out("iat", INT, Required, "When it was made."),
                    out("exp", INT, Required, "When it stops being fresh."),
                    out(
                        "ttl",
                        Shape::Nullable(&Shape::Uint),
                        Required,
                        "How long it may be cached, in seconds, if the issuer said.",
                    ),
                    out("size", Shape::Uint, Required, "How many tokens it covers."),
                    out(
                        "revoked_count",
                        Shape::Uint,
                        Required,
                        "How many of them are revoked.",
                    ),
                    out(
                        "revoked",
                        Shape::Nullable(&Shape::Boolean),
                        Required,
                        "With `idx`: whether that token is revoked; else `null`.",
                    ),
                ],
            ],
        )],
    ),
    (
        "attach_signature",
        &[answer(
            "AttachedSignature",
            "The assembled text.",
            &[&[out("token", STRING, Required, "The assembled text.")]],
        )],
    ),
];
