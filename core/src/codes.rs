//! Every stable error code the module reports, in one enum.
//!
//! A code is API: the same string in Rust (`error_code().as_str()`), JS
//! (`err.code`), the raw ABI, HTTP bodies and the CLI. Codes are never
//! renamed or reused, only added; the TypeScript `ErrorCode` union is
//! generated from [`ErrorCode::ALL`].

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal,)*) => {
        /// A stable error code. Its string form ([`ErrorCode::as_str`]) is what
        /// every host reports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable string form, e.g. `bad_signature`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The code whose string form is `code`.
            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|c| c.as_str() == code)
            }
        }
    };
}

codes! {
    /// A record does not fit the record format (missing, mistyped or unknown member, unknown event, `v` not the event's version).
    AuditBadRecord = "audit_bad_record",
    /// `hash` is not the hash of the record's content: the record was edited.
    AuditBadHash = "audit_bad_hash",
    /// `prev` is not the `hash` of the record before (or not `GENESIS_PREV` for `seq` 0, or `GENESIS_PREV` for any other).
    AuditBrokenLink = "audit_broken_link",
    /// A record is not where its `seq` says: one was removed, inserted or moved.
    AuditBadSequence = "audit_bad_sequence",
    /// The chain is intact but does not end at the anchored head: records were removed from its end, or it was rewritten.
    AuditHeadMismatch = "audit_head_mismatch",
    /// No records: an empty chain proves nothing, so it is not reported valid.
    AuditEmptyChain = "audit_empty_chain",
    /// `ver` is not a version this crate understands.
    UnsupportedVersion = "unsupported_version",
    /// A registered date claim (`iat`, `nbf`, `exp`) is not an integer in range.
    BadDate = "bad_date",
    /// `exp` is absent: captoken tokens are always short-lived.
    MissingExp = "missing_exp",
    /// A required claim is absent.
    BadClaims = "bad_claims",
    /// The signer is not the key the parent token binds.
    DelegationNotHolder = "delegation_not_holder",
    /// More delegations than allowed.
    DelegationTooDeep = "delegation_too_deep",
    /// The child would allow more than its parent.
    DelegationEscalation = "delegation_escalation",
    /// The child is not signed by its parent's holder key.
    DelegationBrokenLink = "delegation_broken_link",
    /// The parent presented is not the one the child was minted from (or a token signed by the issuer claims to have a parent).
    DelegationParentMismatch = "delegation_parent_mismatch",
    /// A `jti` appears twice in one chain.
    DelegationCycle = "delegation_cycle",
    /// Longer than the configured limit; checked before anything else.
    TokenTooLarge = "token_too_large",
    /// Not three segments.
    MalformedToken = "malformed_token",
    /// A segment is not strict base64url.
    BadBase64 = "bad_base64",
    /// `alg` is not exactly `EdDSA`.
    UnsupportedAlg = "unsupported_alg",
    /// `typ` is missing or not the one this kind of JWS must carry.
    BadTyp = "bad_typ",
    /// A header member that carries or points at a key (`jwk`, `jku`, `x5u`, `x5c`, …).
    UntrustedKeyHeader = "untrusted_key_header",
    /// A `crit` header: no extension is understood, so none may be critical.
    UnknownCrit = "unknown_crit",
    /// A header member this format does not define.
    BadHeader = "bad_header",
    /// No `kid` header.
    MissingKid = "missing_kid",
    /// No trusted key has this `kid`.
    UnknownKid = "unknown_kid",
    /// The key exists but is outside its validity window.
    KeyNotValid = "key_not_valid",
    /// The signature does not verify. Deliberately says no more.
    BadSignature = "bad_signature",
    /// `exp` has passed (`exp <= now - leeway`).
    Expired = "expired",
    /// `nbf` is in the future beyond leeway.
    NotYetValid = "not_yet_valid",
    /// `iat` is in the future beyond leeway.
    IssuedInFuture = "issued_in_future",
    /// `aud` does not name this verifier.
    BadAudience = "bad_audience",
    /// `iss` is not the issuer the signing key belongs to.
    BadIssuer = "bad_issuer",
    /// `ttl` or `now` out of range when issuing.
    BadTtl = "bad_ttl",
    /// The entropy source could not supply bytes for `jti`.
    EntropyUnavailable = "entropy_unavailable",
    /// The signer refused or failed.
    SigningFailed = "signing_failed",
    /// Not well-formed JSON (includes invalid UTF-8 and lone surrogates).
    BadJson = "bad_json",
    /// An object names the same key twice.
    DuplicateKey = "duplicate_key",
    /// Arrays and objects nest deeper than allowed.
    JsonTooDeep = "json_too_deep",
    /// Not a JSON object, or a member has the wrong JSON type.
    BadKey = "bad_key",
    /// `kty` is not `OKP` or `crv` is not `Ed25519`.
    UnsupportedKeyType = "unsupported_key_type",
    /// `use` is present and is not `sig`, or `key_ops` does not allow it.
    BadKeyUse = "bad_key_use",
    /// `alg` is present and is not `EdDSA`.
    BadKeyAlg = "bad_key_alg",
    /// The public key has small order: any signature \"verifies\" under it.
    WeakKey = "weak_key",
    /// A public key set carries a private key member (`d`).
    PrivateKeyInPublicSet = "private_key_in_public_set",
    /// Two keys in one set share a `kid`.
    DuplicateKid = "duplicate_kid",
    /// A `kid` that is not the key's RFC 7638 thumbprint.
    KidMismatch = "kid_mismatch",
    /// A private JWK whose `x` is not the public key of its `d`.
    KeyPairMismatch = "key_pair_mismatch",
    /// No operation has this id or name.
    UnknownOp = "unknown_op",
    /// The request is not valid JSON of the operation's shape.
    BadRequest = "bad_request",
    /// A deny rule for this subject overlaps the request.
    DeniedByRule = "denied_by_rule",
    /// No allow rule grants this subject any requested capability.
    NoMatchingRule = "no_matching_rule",
    /// A bearer token (no `cnf`) was asked for and no allow rule that would grant it allows bearer tokens.
    BearerNotAllowed = "bearer_not_allowed",
    /// `version` is not a version this crate reads.
    UnsupportedPolicyVersion = "unsupported_policy_version",
    /// A policy member is missing, unknown, of the wrong type or out of range.
    BadPolicy = "bad_policy",
    /// A subject, action, resource or domain pattern in the policy is malformed.
    BadPattern = "bad_pattern",
    /// A constraint kind this version does not understand: refused at load, so a rule never grants something no verifier can check.
    UnknownConstraint = "unknown_constraint",
    /// Two rules share an id, so a decision naming it would be ambiguous.
    DuplicateRuleId = "duplicate_rule_id",
    /// More rules than `MAX_RULES`.
    TooManyRules = "too_many_rules",
    /// Evaluation needed more steps than its budget allowed.
    PolicyBudgetExceeded = "policy_budget_exceeded",
    /// The proof's `kid` is not the thumbprint of the key the token binds.
    PopKeyMismatch = "pop_key_mismatch",
    /// The payload does not fit the schema, or the inputs to make one do not.
    BadPresentation = "bad_presentation",
    /// The proof was made for another token (`ath`), or the token text given is not the verified token.
    PopTokenMismatch = "pop_token_mismatch",
    /// `aud` is not this verifier.
    PopBadAudience = "pop_bad_audience",
    /// The proof is `max_age` seconds old or older.
    PopStale = "pop_stale",
    /// `iat` is in the future beyond leeway.
    PopInFuture = "pop_in_future",
    /// A challenge was expected and the proof lacks it or has another.
    PopNonceMismatch = "pop_nonce_mismatch",
    /// A request hash was expected and the proof lacks it or has another.
    PopRequestMismatch = "pop_request_mismatch",
    /// A bearer token binds no holder key: it carries no proof of possession, cannot be delegated (nor hold delegated children) and cannot be refreshed.
    BearerToken = "bearer_token",
    /// A delegated token: its delegator, not the issuer, decides what it holds.
    RefreshNotRoot = "refresh_not_root",
    /// This `jti` was already used and its token is still acceptable.
    Replayed = "replayed",
    /// The token is past its `exp` (and the leeway): recording it would be useless and accepting it wrong.
    ReplayExpired = "replay_expired",
    /// The guard holds `capacity` live entries. It refuses rather than evict one, because an evicted `jti` could be used again.
    ReplayGuardFull = "replay_guard_full",
    /// A `jti` in the token's chain is revoked.
    Revoked = "revoked",
    /// The list is older than one already seen: replaying it would un-revoke whatever was revoked since.
    RevocationListRollback = "revocation_list_rollback",
    /// The caller required a fresh list and this one is past `next_update`.
    RevocationListStale = "revocation_list_stale",
    /// The list does not fit the schema, or cannot be signed as given.
    BadRevocationList = "bad_revocation_list",
    /// Signed, the list would be longer than `MAX_SIGNED_LEN`, so it is not signed: it must lose entries first (they leave as the tokens they revoke expire).
    RevocationListTooLarge = "revocation_list_too_large",
    /// A status list does not fit the schema (or its `lst` is not a zlib stream of at most 2^24 bits), or cannot be signed as given.
    BadStatusList = "bad_status_list",
    /// The status list is another one than the token names (its `sub` is not the token's `status.status_list.uri`).
    WrongStatusList = "wrong_status_list",
    /// The token's status index is past the end of the list.
    StatusIndexOutOfRange = "status_index_out_of_range",
    /// The caller required a fresh status list and this one is past its `exp`.
    StatusListStale = "status_list_stale",
    /// The token names a status list and revocation was checked against the id list alone: pass the status list too.
    StatusListRequired = "status_list_required",
    /// No capability allows this action on this resource.
    NotGranted = "not_granted",
    /// A capability allows the action and resource, but a constraint refuses.
    ConstraintViolated = "constraint_violated",
    /// A constraint applies but the request context lacks the value it needs.
    MissingContext = "missing_context",
    /// The request context is malformed.
    BadContext = "bad_context",
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_is_distinct_snake_case_and_found_by_its_string() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            let text = code.as_str();
            assert!(
                !text.is_empty()
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{text}"
            );
            assert_eq!(ErrorCode::from_code(text), Some(*code));
            assert!(
                ErrorCode::ALL.iter().take(i).all(|c| c.as_str() != text),
                "{text} twice"
            );
        }
        assert_eq!(ErrorCode::from_code("no_such_code"), None);
    }
}
