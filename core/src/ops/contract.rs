//! The request of every operation, described once.
//!
//! Each operation reads its request member by member (`ops/fields.rs`);
//! this table says which members those are, their JSON shapes and whether
//! they may be left out. The readers are held to it: in debug builds (every
//! test run) reading a member the table does not declare panics, and so
//! does finishing a request without having asked for a member it declares
//! (unless the member is only read [`Presence::With`] another). The
//! generated TypeScript request types and the JS wrappers' option maps come
//! from it (`npm/ops.d.ts`, `npm/ops.js`), and a test fails when those
//! files drift from it. In a release build nothing reads the table, so it
//! costs the `.wasm` nothing.

pub(super) use super::shape::member;
pub use super::shape::{Contract, Member, Members, Presence, Shape};

use crate::{delegation, policy, pop, token};
use Presence::{Either, Optional, Required, With};

/// How a verifying operation trusts a token.
pub const TRUST: &[Member] = &[
    member(
        "leeway",
        Shape::Integer,
        Optional,
        "Clock skew allowed on time claims, in seconds.",
    )
    .defaults_to(token::DEFAULT_LEEWAY as u64),
    member(
        "max_depth",
        Shape::Uint,
        Optional,
        "Most delegation steps accepted.",
    )
    .defaults_to(delegation::DEFAULT_MAX_DEPTH as u64),
    member(
        "revoked",
        Shape::Strings,
        Optional,
        "Token ids (`jti`) the caller knows are revoked; a revoked ancestor revokes its descendants.",
    ),
    member(
        "revocation_list",
        Shape::String,
        Optional,
        "A signed revocation list to check the chain against too.",
    ),
    member(
        "status_list",
        Shape::String,
        Optional,
        "The signed status list the token's `status` claim names: its bit refuses the chain. Required with `revocation_list` for a token that names one.",
    ),
    member(
        "max_stale",
        Shape::Integer,
        Optional,
        "How long past its `next_update` (a status list: its `exp`) a list may still be used, in seconds.",
    ),
    member(
        "last_seen_seq",
        Shape::Uint,
        Optional,
        "The highest revocation list `seq` accepted before: an older list is refused.",
    ),
    member(
        "jwks",
        Shape::Named("Jwks"),
        Required,
        "The issuer's public keys.",
    ),
    member(
        "issuer",
        Shape::Names,
        Required,
        "The issuer (`iss`) trusted, or several names it goes by.",
    ),
    member(
        "audience",
        Shape::Names,
        Required,
        "This verifier's audience, or several: the token's `aud` must name one.",
    ),
    member("now", Shape::Now, Required, "The time to verify at."),
];

/// Who signs: a private key, or a signer outside the module.
pub const SIGNER: &[Member] = &[
    member(
        "key",
        Shape::Named("PrivateKey"),
        Either("signer"),
        "The private Ed25519 JWK to sign with, or its key handle (`keygen`'s `handle`: no public key derived per call).",
    ),
    member(
        "signer",
        Shape::Object(&[&[member(
            "public_jwk",
            Shape::Named("Jwk"),
            Required,
            "The public JWK of the key that will sign.",
        )]]),
        Either("key"),
        "Sign outside the module: the answer holds `signing_input` for `attach_signature`.",
    ),
];

/// A signed list (revocation or status) and what it is checked against.
const SIGNED_LIST: &[Member] = &[
    member("list", Shape::String, Required, "The signed list."),
    member(
        "jwks",
        Shape::Named("Jwks"),
        Required,
        "The issuer's public keys.",
    ),
    member(
        "issuer",
        Shape::Names,
        Required,
        "The issuer trusted, or several names it goes by.",
    ),
    member("now", Shape::Now, Required, "The time to verify at."),
];

const LIST_LEEWAY: Member = member(
    "leeway",
    Shape::Integer,
    Optional,
    "Clock skew allowed, in seconds.",
)
.defaults_to(token::DEFAULT_LEEWAY as u64);

const ENTROPY: Member = member(
    "entropy",
    Shape::Entropy,
    Required,
    "16 random bytes for the `jti`.",
);

const BUDGET: Member = member(
    "budget",
    Shape::Uint,
    Optional,
    "Policy evaluation steps allowed.",
)
.defaults_to(policy::DEFAULT_BUDGET);

const TOKEN: Member = member("token", Shape::String, Required, "The token, as issued.");

const PROOF_CHECKS: &[Member] = &[
    member(
        "max_age",
        Shape::Integer,
        Optional,
        "How old the proof may be, in seconds.",
    )
    .defaults_to(pop::DEFAULT_MAX_AGE as u64),
    member(
        "nonce",
        Shape::String,
        Optional,
        "The nonce the proof must carry.",
    ),
    member(
        "request_hash",
        Shape::String,
        Optional,
        "The request hash the proof must carry.",
    ),
    member(
        "seen",
        Shape::Strings,
        Optional,
        "Replay keys already recorded: a proof among them is `replayed`.",
    ),
];

const POLICY_ARGS: &[Member] = &[
    member(
        "policy",
        Shape::Named("Policy"),
        Required,
        "The policy document.",
    ),
    member(
        "request",
        Shape::Named("PolicyRequest"),
        Required,
        "Who asks for what, for how long.",
    ),
    BUDGET,
];

/// Every operation's request, in the order of [`super::OPERATIONS`].
pub const CONTRACTS: &[Contract] = &[
    Contract {
        op: "info",
        request: &[],
    },
    Contract {
        op: "keygen",
        request: &[&[member(
            "seed",
            Shape::Bytes,
            Required,
            "The 32-byte private key seed.",
        )]],
    },
    Contract {
        op: "issue",
        request: &[
            SIGNER,
            &[
                member("issuer", Shape::String, Required, "The issuer (`iss`)."),
                member("now", Shape::Now, Required, "The issue time (`iat`)."),
                member(
                    "policy",
                    Shape::Named("Policy"),
                    Optional,
                    "Decide through this policy what is granted, and for how long.",
                ),
                member(
                    "attributes",
                    Shape::Named("Record<string, string>"),
                    With("policy"),
                    "What the issuer knows of the subject, for the policy's rules.",
                ),
                member(
                    "budget",
                    Shape::Uint,
                    With("policy"),
                    "Policy evaluation steps allowed.",
                )
    .defaults_to(policy::DEFAULT_BUDGET),
                member(
                    "bearer",
                    Shape::Boolean,
                    With("policy"),
                    "`true`: a bearer token, its claims without `cnf`; only a policy rule with `bearer` grants one.",
                ),
                member(
                    "ttl",
                    Shape::Uint,
                    Optional,
                    "Lifetime in seconds; through a policy, capped by it (absent: as long as it allows).",
                )
    .defaults_to(token::DEFAULT_TTL),
                ENTROPY,
                member(
                    "claims",
                    Shape::Named("TokenRequest"),
                    Required,
                    "`sub`, `aud`, `caps`, `cnf` (none with `bearer`) and the optional claims.",
                ),
            ],
        ],
    },
    Contract {
        op: "verify",
        request: &[
            &[TOKEN],
            TRUST,
            &[member(
                "proof",
                Shape::Object(&[
                    &[
                        member(
                            "proof",
                            Shape::String,
                            Required,
                            "The holder's proof of possession.",
                        ),
                        member(
                            "audience",
                            Shape::String,
                            Optional,
                            "The proof's audience (default: this verifier's).",
                        ),
                    ],
                    PROOF_CHECKS,
                ]),
                Optional,
                "Check the holder's proof of possession in the same call.",
            ),
            member(
                "grant",
                Shape::Boolean,
                Optional,
                "The chain is presented to be recorded as a delegation: a refusal whose parent verifies carries the `agent.delegation.attempted` event to append (`audit`).",
            )],
        ],
    },
    Contract {
        op: "authorize",
        request: &[
            &[TOKEN],
            TRUST,
            &[member(
                "request",
                Shape::Object(&[&[
                    member(
                        "context",
                        Shape::Named("Context"),
                        Optional,
                        "Facts the constraints are checked against.",
                    ),
                    member(
                        "action",
                        Shape::String,
                        Required,
                        "The action, e.g. `drive`.",
                    ),
                    member(
                        "resource",
                        Shape::String,
                        Required,
                        "The resource, e.g. `robot:7`.",
                    ),
                ]]),
                Required,
                "The action on a resource to authorize.",
            )],
        ],
    },
    Contract {
        op: "delegate",
        request: &[
            &[member(
                "parent",
                Shape::String,
                Required,
                "The parent token (a chain for a delegated parent).",
            )],
            TRUST,
            SIGNER,
            &[
                member(
                    "ttl",
                    Shape::Uint,
                    Optional,
                    "The child's lifetime in seconds, within the parent's.",
                )
    .defaults_to(token::DEFAULT_TTL),
                ENTROPY,
                member(
                    "claims",
                    Shape::Named("TokenRequest"),
                    Required,
                    "The child's claims; its `caps` must lie within the parent's.",
                ),
            ],
        ],
    },
    Contract {
        op: "scope_meet",
        request: &[&[
            member(
                "a",
                Shape::Named("Capability[]"),
                Required,
                "One list of capabilities.",
            ),
            member("b", Shape::Named("Capability[]"), Required, "The other."),
        ]],
    },
    Contract {
        op: "policy_check",
        request: &[&[member(
            "policy",
            Shape::Named("Policy"),
            Required,
            "The policy document.",
        )]],
    },
    Contract {
        op: "policy_evaluate",
        request: &[POLICY_ARGS],
    },
    Contract {
        op: "policy_explain",
        request: &[POLICY_ARGS],
    },
    Contract {
        op: "revocation_list_sign",
        request: &[
            SIGNER,
            &[member(
                "list",
                Shape::Named("RevocationListContent"),
                Required,
                "The list's claims: `iss`, `seq`, `iat`, `next_update`, `revoked`.",
            )],
        ],
    },
    Contract {
        op: "revocation_list_verify",
        request: &[
            SIGNED_LIST,
            &[
                member(
                    "last_seen_seq",
                    Shape::Uint,
                    Optional,
                    "The highest list `seq` accepted before: an older list is refused.",
                ),
                LIST_LEEWAY,
            ],
        ],
    },
    Contract {
        op: "pop_create",
        request: &[
            SIGNER,
            &[
                member(
                    "token",
                    Shape::String,
                    Required,
                    "The token the proof presents.",
                ),
                member("audience", Shape::String, Required, "Who the proof is for."),
                member(
                    "nonce",
                    Shape::String,
                    Optional,
                    "A nonce the verifier issued.",
                ),
                member(
                    "request_hash",
                    Shape::String,
                    Optional,
                    "A hash of the request the proof authorizes.",
                ),
                member("now", Shape::Now, Required, "The proof's time (`iat`)."),
                ENTROPY,
            ],
        ],
    },
    Contract {
        op: "pop_verify",
        request: &[
            &[
                member(
                    "proof",
                    Shape::String,
                    Required,
                    "The holder's proof of possession.",
                ),
                TOKEN,
            ],
            TRUST,
            &[member(
                "pop_audience",
                Shape::String,
                Required,
                "The audience the proof must name.",
            )],
            PROOF_CHECKS,
        ],
    },
    Contract {
        op: "audit_append",
        request: &[&[
            member(
                "last",
                Shape::Named("AuditRecord"),
                Optional,
                "The chain's last record (absent: the genesis record is made).",
            ),
            member("time", Shape::Now, Required, "When the event happened."),
            member(
                "event",
                Shape::Named("AuditEvent"),
                Required,
                "The event name.",
            ),
            member("data", Shape::Named("Record<string, unknown>"), Required, "The event's data."),
        ]],
    },
    Contract {
        op: "audit_verify",
        request: &[&[
            member(
                "records",
                Shape::Named("AuditRecord[]"),
                Required,
                "The records, in order.",
            ),
            member(
                "head",
                Shape::String,
                Optional,
                "The anchored hash the chain must end at.",
            ),
            member(
                "genesis",
                Shape::Boolean,
                Optional,
                "`true`: the records must start at the genesis record.",
            ),
            member(
                "after",
                Shape::Object(&[&[
                    member(
                        "seq",
                        Shape::Uint,
                        Required,
                        "The last verified record's `seq`.",
                    ),
                    member("hash", Shape::String, Required, "Its `hash`."),
                ]]),
                Optional,
                "Resume after a record verified before.",
            ),
        ]],
    },
    Contract {
        op: "refresh",
        request: &[
            &[TOKEN],
            TRUST,
            SIGNER,
            &[
                member(
                    "policy",
                    Shape::Named("Policy"),
                    Required,
                    "The policy the refreshed grant must still pass.",
                ),
                member(
                    "attributes",
                    Shape::Named("Record<string, string>"),
                    Optional,
                    "What the issuer knows of the subject.",
                ),
                member(
                    "ttl",
                    Shape::Uint,
                    Optional,
                    "The new token's lifetime in seconds.",
                )
    .defaults_to(token::DEFAULT_TTL),
                member(
                    "status",
                    Shape::Named("StatusClaim"),
                    Optional,
                    "The new token's own place in a status list; without it the new token \
                     keeps the place of the one it replaces (revoking that place refuses both).",
                ),
                BUDGET,
                ENTROPY,
            ],
        ],
    },
    Contract {
        op: "attach_signature",
        request: &[&[
            member(
                "signing_input",
                Shape::String,
                Required,
                "`header.payload`, as prepared.",
            ),
            member(
                "signature",
                Shape::Bytes,
                Required,
                "The 64-byte Ed25519 signature over it.",
            ),
            member(
                "public_jwk",
                Shape::Named("Jwk"),
                Required,
                "The public key that signed.",
            ),
            member(
                "chain_rest",
                Shape::String,
                Optional,
                "`~parent~…`, as prepared for a delegated token.",
            ),
        ]],
    },
    Contract {
        op: "decode",
        request: &[&[TOKEN]],
    },
    Contract {
        op: "status_list_sign",
        request: &[
            SIGNER,
            &[member(
                "list",
                Shape::Object(&[&[
                    member("iss", Shape::String, Required, "The issuer."),
                    member(
                        "sub",
                        Shape::String,
                        Required,
                        "The list's URI: the `status.status_list.uri` its tokens name.",
                    ),
                    member("iat", Shape::Integer, Required, "When the list is made."),
                    member(
                        "exp",
                        Shape::Integer,
                        Required,
                        "When it stops being fresh (after `iat`).",
                    ),
                    member(
                        "ttl",
                        Shape::Uint,
                        Optional,
                        "How long a verifier may cache it, in seconds.",
                    ),
                    member(
                        "size",
                        Shape::Uint,
                        Required,
                        "How many tokens it covers (1 to 2^24; rounded up to a multiple of 8).",
                    ),
                    member(
                        "revoked",
                        Shape::List(&Shape::Uint),
                        Required,
                        "The indices of the revoked tokens, in any order.",
                    ),
                ]]),
                Required,
                "The list's content; the module sets the bits and compresses them.",
            )],
        ],
    },
    Contract {
        op: "status_list_verify",
        request: &[
            SIGNED_LIST,
            &[
                member(
                    "uri",
                    Shape::String,
                    Required,
                    "The `status.status_list.uri` the token names: the list's `sub` must be it.",
                ),
                member(
                    "idx",
                    Shape::Uint,
                    Optional,
                    "A token's `status.status_list.idx`: the answer says whether it is revoked.",
                ),
                LIST_LEEWAY,
            ],
        ],
    },
];

/// The request members of operation `op`.
pub fn request(op: &str) -> Option<Members> {
    CONTRACTS.iter().find(|c| c.op == op).map(|c| c.request)
}

/// Member `name` of `members`, if declared.
pub fn find(members: Members, name: &str) -> Option<&'static Member> {
    members
        .iter()
        .flat_map(|g| g.iter())
        .find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::{CONTRACTS, Members, Presence, Shape, find};
    use crate::ops::OPERATIONS;

    fn check(members: Members, at: &str) {
        let all: alloc::vec::Vec<_> = members.iter().flat_map(|g| g.iter()).collect();
        for (i, m) in all.iter().enumerate() {
            assert!(
                all.iter().take(i).all(|o| o.name != m.name),
                "{at}: `{}` twice",
                m.name
            );
            match m.presence {
                Presence::With(other) => assert!(find(members, other).is_some(), "{at}.{}", m.name),
                Presence::Either(other) => assert_eq!(
                    find(members, other).map(|o| o.presence),
                    Some(Presence::Either(m.name)),
                    "{at}.{}",
                    m.name
                ),
                Presence::Required | Presence::Optional => {}
            }
            if let Shape::Object(inner) = m.shape {
                check(inner, &alloc::format!("{at}.{}", m.name));
            }
        }
    }

    #[test]
    fn every_operation_has_one_contract_in_table_order_and_each_is_consistent() {
        let ops: alloc::vec::Vec<_> = OPERATIONS.iter().map(|o| o.name).collect();
        let contracts: alloc::vec::Vec<_> = CONTRACTS.iter().map(|c| c.op).collect();
        assert_eq!(ops, contracts);
        for c in CONTRACTS {
            check(c.request, c.op);
        }
    }
}
