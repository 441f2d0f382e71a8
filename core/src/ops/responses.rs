//! The response of every operation, described once, and the check that
//! holds the operations to it in debug builds.
//!
//! Each operation answers one of its alternatives (an issue through a
//! policy answers a token or a denial): every member the answer holds is
//! declared there, every required one is present, and each has its shape.
//! `ops::call` checks every answer against its operation's alternatives in
//! every debug build (every test run), so an answer can never hold what is
//! not described; release builds never read this table.

use super::contract::{Member, Members, Presence, Shape, member as out};

use Presence::{Either, Optional, Required};

const STRING: Shape = Shape::String;
const INT: Shape = Shape::Integer;
const UINT: Shape = Shape::Uint;

/// The text an operation that signs hands out, or, with an external
/// signer, what to sign.
const SIGNED_TEXT: &[Member] = &[
    out(
        "token",
        STRING,
        Either("signing_input"),
        "The signed token (a chain for a delegation).",
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
        Optional,
        "With `signer`, for a delegation: the parents, for `attach_signature`.",
    ),
];

const ISSUED: &[Member] = &[
    out("kid", STRING, Required, "The signing key's id."),
    out("jti", STRING, Required, "The token's id."),
    out("iat", INT, Required, "Issued at."),
    out("exp", INT, Required, "Expires at."),
    out(
        "audit",
        Shape::Named("AuditEventRecord"),
        Required,
        "The event the host appends to its audit log.",
    ),
];

const GRANTED: &[Member] = &[
    out("decision", STRING, Required, "`granted`."),
    out(
        "capabilities",
        Shape::Named("Capability[]"),
        Required,
        "What is granted.",
    ),
    out("ttl", UINT, Required, "The lifetime granted, in seconds."),
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
    out("decision", STRING, Required, "`denied`."),
    out(
        "code",
        STRING,
        Required,
        "`denied_by_rule` or `no_matching_rule`.",
    ),
    out(
        "rule",
        Shape::Nullable(&STRING),
        Required,
        "The deny rule, if one denied.",
    ),
    out("reason", STRING, Required, "Why, for a person."),
];

/// An issue through a policy answers the decision's members as well.
const GRANTED_OPTIONAL: &[Member] = &[
    out("decision", STRING, Optional, "Through a policy: `granted`."),
    out(
        "capabilities",
        Shape::Named("Capability[]"),
        Optional,
        "Through a policy: what is granted.",
    ),
    out(
        "ttl",
        UINT,
        Optional,
        "Through a policy: the lifetime granted.",
    ),
    out(
        "matched_rules",
        Shape::Strings,
        Optional,
        "Through a policy: the allow rules that granted it.",
    ),
    out(
        "narrowed",
        Shape::Boolean,
        Optional,
        "Through a policy: whether less than asked is granted.",
    ),
];

const LINK: Shape = Shape::Object(&[&[
    out("jti", STRING, Required, "The ancestor's `jti`."),
    out("id", STRING, Required, "Its id."),
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
        Shape::Nullable(&REPLAY),
        Required,
        "The replay record to keep.",
    ),
];

const VERIFIED: &[Member] = &[
    out(
        "header",
        Shape::Named("Header"),
        Required,
        "The leaf's protected header.",
    ),
    out(
        "claims",
        Shape::Named("Claims"),
        Required,
        "The leaf's claims.",
    ),
    out(
        "depth",
        UINT,
        Required,
        "Delegations below the issuer's token.",
    ),
    out("id", STRING, Required, "The revocation key."),
    out(
        "chain",
        Shape::List(&LINK),
        Required,
        "The ancestors, root first.",
    ),
    out(
        "root_sub",
        STRING,
        Required,
        "The principal the issuer vouched for.",
    ),
];

/// Every operation's answer, as alternatives, by operation name.
pub const RESPONSES: &[(&str, &[Members])] = &[
    (
        "info",
        &[&[&[
            out("abi", UINT, Required, "The ABI version."),
            out("version", STRING, Required, "The crate version."),
            out(
                "ops",
                Shape::List(&Shape::Object(&[&[
                    out("id", UINT, Required, "The operation's id."),
                    out("name", STRING, Required, "Its name."),
                ]])),
                Required,
                "The operations.",
            ),
        ]]],
    ),
    (
        "keygen",
        &[&[&[
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
        ]]],
    ),
    (
        "issue",
        &[&[SIGNED_TEXT, ISSUED, GRANTED_OPTIONAL], &[DENIED]],
    ),
    (
        "verify",
        &[&[
            VERIFIED,
            &[out(
                "proof",
                Shape::Object(&[PROOF]),
                Optional,
                "With `proof`: the proof, checked.",
            )],
        ]],
    ),
    (
        "authorize",
        &[&[&[
            out("allowed", Shape::Boolean, Required, "`true`."),
            out(
                "cap_index",
                UINT,
                Required,
                "The capability that allowed it.",
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
        ]]],
    ),
    (
        "delegate",
        &[&[
            SIGNED_TEXT,
            ISSUED,
            &[
                out("depth", UINT, Required, "The child's depth."),
                out("id", STRING, Required, "The child's revocation key."),
            ],
        ]],
    ),
    (
        "scope_meet",
        &[&[&[out(
            "caps",
            Shape::Named("Capability[]"),
            Required,
            "min(a, b).",
        )]]],
    ),
    (
        "policy_check",
        &[&[&[
            out("valid", Shape::Boolean, Required, "`true`."),
            out("rules", UINT, Required, "How many rules."),
            out("max_ttl", UINT, Required, "The policy's TTL cap."),
            out(
                "policy",
                Shape::Named("Policy"),
                Required,
                "The policy as read.",
            ),
        ]]],
    ),
    ("policy_evaluate", &[&[GRANTED], &[DENIED]]),
    (
        "policy_explain",
        &[&[&[
            out("requested_ttl", UINT, Required, "The lifetime asked for."),
            out("policy_max_ttl", UINT, Required, "The policy's TTL cap."),
            out(
                "rules",
                Shape::Named("RuleTrace[]"),
                Required,
                "Each rule's part.",
            ),
            out("steps", UINT, Required, "Evaluation steps spent."),
            out(
                "decision",
                Shape::Named("Decision"),
                Required,
                "The decision.",
            ),
        ]]],
    ),
    (
        "revocation_list_sign",
        &[&[&[
            out("list", STRING, Either("signing_input"), "The signed list."),
            out(
                "signing_input",
                STRING,
                Either("list"),
                "With `signer`: the bytes to sign.",
            ),
            out("kid", STRING, Required, "The signing key's id."),
        ]]],
    ),
    (
        "revocation_list_verify",
        &[&[&[
            out("status", STRING, Required, "`fresh` or `stale`."),
            out(
                "stale_since",
                Shape::Nullable(&INT),
                Required,
                "Past `next_update` since.",
            ),
            out("kid", STRING, Required, "The signing key's id."),
            out("iss", STRING, Required, "The issuer."),
            out("seq", UINT, Required, "The list's sequence number."),
            out("iat", INT, Required, "Issued at."),
            out("next_update", INT, Required, "When a newer list is due."),
            out(
                "revoked",
                Shape::Named("RevokedEntry[]"),
                Required,
                "The revoked ids.",
            ),
        ]]],
    ),
    (
        "pop_create",
        &[&[&[
            out("proof", STRING, Either("signing_input"), "The proof."),
            out(
                "signing_input",
                STRING,
                Either("proof"),
                "With `signer`: the bytes to sign.",
            ),
        ]]],
    ),
    (
        "pop_verify",
        &[&[
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
        ]],
    ),
    (
        "audit_append",
        &[&[&[
            out("seq", UINT, Required, "The record's place in the chain."),
            out("time", INT, Required, "When the event happened."),
            out("event", STRING, Required, "The event name."),
            out("v", UINT, Required, "The event's data version."),
            out(
                "data",
                Shape::Named("Record<string, unknown>"),
                Required,
                "The event's data.",
            ),
            out("prev", STRING, Required, "The previous record's hash."),
            out("hash", STRING, Required, "This record's hash."),
        ]]],
    ),
    (
        "audit_verify",
        &[&[&[
            out("valid", Shape::Boolean, Required, "`true`."),
            out("first_seq", UINT, Required, "The first record's `seq`."),
            out("last_seq", UINT, Required, "The last record's `seq`."),
            out("count", UINT, Required, "How many records."),
            out("head", STRING, Required, "The last record's hash."),
        ]]],
    ),
    (
        "refresh",
        &[&[
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
        ]],
    ),
    (
        "attach_signature",
        &[&[&[out("token", STRING, Required, "The assembled text.")]]],
    ),
];

/// Why `value` does not fit `shape`, if it does not.
#[cfg(debug_assertions)]
fn misfit(shape: Shape, value: &crate::json::Value) -> Option<alloc::string::String> {
    use crate::json::Value;
    let ok = match shape {
        Shape::String | Shape::Bytes | Shape::Entropy => value.as_str().is_some(),
        Shape::Integer | Shape::Now => value.as_i64().is_some(),
        Shape::Uint => value.as_u64().is_some(),
        Shape::Boolean => value.as_bool().is_some(),
        Shape::Strings => value
            .as_array()
            .is_some_and(|items| items.iter().all(|v| v.as_str().is_some())),
        Shape::Named(_) => true,
        Shape::Nullable(inner) => {
            return if value.is_null() {
                None
            } else {
                misfit(*inner, value)
            };
        }
        Shape::List(inner) => {
            let Some(items) = value.as_array() else {
                return Some("not a list".into());
            };
            return items.iter().find_map(|item| misfit(*inner, item));
        }
        Shape::Object(members) => {
            let Value::Object(map) = value else {
                return Some("not an object".into());
            };
            return mismatch(members, map);
        }
    };
    (!ok).then(|| alloc::format!("not a {shape:?}"))
}

/// Why `map` does not fit `members`, if it does not.
#[cfg(debug_assertions)]
pub(super) fn mismatch(members: Members, map: &crate::json::Map) -> Option<alloc::string::String> {
    use alloc::format;
    for (name, value) in map.iter() {
        let Some(member) = super::contract::find(members, name) else {
            return Some(format!("`{name}` is not declared"));
        };
        if let Some(why) = misfit(member.shape, value) {
            return Some(format!("`{name}`: {why}"));
        }
    }
    let all = members.iter().flat_map(|g| g.iter());
    for member in all {
        let present = map.get(member.name).is_some();
        let missing = match member.presence {
            Presence::Required => !present,
            Presence::Either(other) => !present && map.get(other).is_none(),
            Presence::Optional | Presence::With(_) => false,
        };
        if missing {
            return Some(format!("`{}` is missing", member.name));
        }
    }
    None
}

/// Panics unless `response`, the answer of `op`, fits one of its
/// alternatives.
#[cfg(debug_assertions)]
pub(super) fn assert_described(op: &str, response: &[u8]) {
    let parsed = crate::json::parse_object(response, 64);
    assert!(parsed.is_ok(), "`{op}` answered with no JSON object");
    let Ok(map) = parsed else { return };
    let alternatives = RESPONSES
        .iter()
        .find(|(name, _)| *name == op)
        .map(|(_, a)| *a);
    assert!(alternatives.is_some(), "`{op}` has no response contract");
    let reasons: alloc::vec::Vec<_> = alternatives
        .unwrap_or_default()
        .iter()
        .map(|members| mismatch(members, &map))
        .collect();
    assert!(
        reasons.iter().any(Option::is_none),
        "`{op}` answered outside its contract: {reasons:?}"
    );
}
