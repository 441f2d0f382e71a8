//! Token errors and their stable codes.
//!
//! Every error has a code: a short snake_case string that is the same in
//! Rust (`code()`), JS (`err.code`), the raw ABI, HTTP bodies and the CLI.
//! Codes are API: they are never renamed, only added.

use crate::codes::ErrorCode;
use alloc::format;
use alloc::string::String;
use core::fmt;

use crate::b64::B64Error;
use crate::json::JsonError;
use crate::keys::KeyError;

/// Which segment of a compact token an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The protected header.
    Header,
    /// The claims payload.
    Payload,
    /// The signature.
    Signature,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        })
    }
}

/// Why a token could not be issued or was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// Longer than the configured limit; checked before anything else.
    TooLarge {
        /// Length of the token.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not three segments.
    Malformed(&'static str),
    /// A segment is not strict base64url.
    Base64 {
        /// Which segment.
        part: Part,
        /// What is wrong with it.
        err: B64Error,
    },
    /// Header or payload is not a strict JSON object.
    Json {
        /// Which segment.
        part: Part,
        /// What is wrong with it.
        err: JsonError,
    },
    /// `alg` is not exactly `EdDSA`.
    UnsupportedAlg(String),
    /// `typ` is missing or not the one this kind of JWS must carry.
    BadTyp {
        /// The `typ` required here (`captoken+jwt`, `captoken-pop+jwt`, …).
        expected: &'static str,
        /// The `typ` found, if any.
        found: Option<String>,
    },
    /// A header member that carries or points at a key (`jwk`, `jku`, `x5u`, `x5c`, …).
    UntrustedKeyHeader(&'static str),
    /// A `crit` header: no extension is understood, so none may be critical.
    UnknownCrit,
    /// A header member this format does not define.
    BadHeader(String),
    /// No `kid` header.
    MissingKid,
    /// No trusted key has this `kid`.
    UnknownKid(String),
    /// The key exists but is outside its validity window.
    KeyNotValid(String),
    /// The signature does not verify. Deliberately says no more.
    BadSignature,
    /// The claims do not fit the schema.
    Claims(ClaimsError),
    /// `exp` has passed (`exp <= now - leeway`).
    Expired {
        /// Verification time.
        now: i64,
        /// The token's expiry.
        exp: i64,
    },
    /// `nbf` is in the future beyond leeway.
    NotYetValid {
        /// Verification time.
        now: i64,
        /// The token's not-before.
        nbf: i64,
    },
    /// `iat` is in the future beyond leeway.
    IssuedInFuture {
        /// Verification time.
        now: i64,
        /// The token's issued-at.
        iat: i64,
    },
    /// `aud` does not name this verifier.
    BadAudience {
        /// The audience this verifier serves.
        expected: String,
    },
    /// `iss` is not the issuer the signing key belongs to.
    BadIssuer {
        /// The issuer of the key set.
        expected: String,
        /// The `iss` in the token.
        found: String,
    },
    /// A key could not be used.
    Key(KeyError),
    /// A delegation chain link was refused.
    Delegation(DelegationError),
    /// `ttl` or `now` out of range when issuing.
    BadTtl(&'static str),
    /// The entropy source could not supply bytes for `jti`.
    EntropyUnavailable,
    /// The signer refused or failed.
    SigningFailed,
}

impl TokenError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            TokenError::TooLarge { .. } => ErrorCode::TokenTooLarge,
            TokenError::Malformed(_) => ErrorCode::MalformedToken,
            TokenError::Base64 { .. } => ErrorCode::BadBase64,
            TokenError::Json { err, .. } => err.error_code(),
            TokenError::UnsupportedAlg(_) => ErrorCode::UnsupportedAlg,
            TokenError::BadTyp { .. } => ErrorCode::BadTyp,
            TokenError::UntrustedKeyHeader(_) => ErrorCode::UntrustedKeyHeader,
            TokenError::UnknownCrit => ErrorCode::UnknownCrit,
            TokenError::BadHeader(_) => ErrorCode::BadHeader,
            TokenError::MissingKid => ErrorCode::MissingKid,
            TokenError::UnknownKid(_) => ErrorCode::UnknownKid,
            TokenError::KeyNotValid(_) => ErrorCode::KeyNotValid,
            TokenError::BadSignature => ErrorCode::BadSignature,
            TokenError::Claims(err) => err.error_code(),
            TokenError::Expired { .. } => ErrorCode::Expired,
            TokenError::NotYetValid { .. } => ErrorCode::NotYetValid,
            TokenError::IssuedInFuture { .. } => ErrorCode::IssuedInFuture,
            TokenError::BadAudience { .. } => ErrorCode::BadAudience,
            TokenError::BadIssuer { .. } => ErrorCode::BadIssuer,
            TokenError::Key(err) => err.error_code(),
            TokenError::Delegation(err) => err.error_code(),
            TokenError::BadTtl(_) => ErrorCode::BadTtl,
            TokenError::EntropyUnavailable => ErrorCode::EntropyUnavailable,
            TokenError::SigningFailed => ErrorCode::SigningFailed,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::TooLarge { len, max } => {
                write!(f, "token is {len} bytes, the limit is {max}")
            }
            TokenError::Malformed(why) => write!(f, "malformed token: {why}"),
            TokenError::Base64 { part, err } => write!(f, "token {part}: {err}"),
            TokenError::Json { part, err } => write!(f, "token {part}: {err}"),
            TokenError::UnsupportedAlg(alg) => {
                write!(f, "algorithm `{alg}` is not allowed, only `EdDSA`")
            }
            TokenError::BadTyp {
                expected,
                found: None,
            } => write!(f, "header `typ` is missing, expected `{expected}`"),
            TokenError::BadTyp {
                expected,
                found: Some(t),
            } => write!(f, "header `typ` is `{t}`, expected `{expected}`"),
            TokenError::UntrustedKeyHeader(h) => {
                write!(
                    f,
                    "header `{h}` is refused: keys come from the trusted key set only"
                )
            }
            TokenError::UnknownCrit => {
                f.write_str("header `crit` names an extension this verifier does not implement")
            }
            TokenError::BadHeader(h) => write!(f, "header member `{h}` is not part of the format"),
            TokenError::MissingKid => f.write_str("header `kid` is missing"),
            TokenError::UnknownKid(kid) => write!(f, "no trusted key has `kid` `{kid}`"),
            TokenError::KeyNotValid(kid) => write!(f, "key `{kid}` is outside its validity window"),
            TokenError::BadSignature => f.write_str("signature verification failed"),
            TokenError::Claims(err) => write!(f, "{err}"),
            TokenError::Expired { now, exp } => write!(f, "token expired at {exp} (now {now})"),
            TokenError::NotYetValid { now, nbf } => {
                write!(f, "token is not valid before {nbf} (now {now})")
            }
            TokenError::IssuedInFuture { now, iat } => {
                write!(f, "token issued in the future at {iat} (now {now})")
            }
            TokenError::BadAudience { expected } => {
                write!(f, "token audience does not include `{expected}`")
            }
            TokenError::BadIssuer { expected, found } => {
                write!(
                    f,
                    "token issuer `{found}` is not the key's issuer `{expected}`"
                )
            }
            TokenError::Key(err) => write!(f, "{err}"),
            TokenError::Delegation(err) => write!(f, "{err}"),
            TokenError::BadTtl(why) => write!(f, "invalid lifetime: {why}"),
            TokenError::EntropyUnavailable => {
                f.write_str("entropy source could not supply a token id")
            }
            TokenError::SigningFailed => f.write_str("signing failed"),
        }
    }
}

impl From<ClaimsError> for TokenError {
    fn from(err: ClaimsError) -> Self {
        TokenError::Claims(err)
    }
}

impl From<KeyError> for TokenError {
    fn from(err: KeyError) -> Self {
        TokenError::Key(err)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TokenError {}
#[cfg(feature = "std")]
impl std::error::Error for KeyError {}
#[cfg(feature = "std")]
impl std::error::Error for ClaimsError {}
#[cfg(feature = "std")]
impl std::error::Error for JsonError {}

/// What every refusal for want of a holder key says (`bearer_token`).
pub(crate) const BEARER: &str = "a bearer token has no holder key to prove, delegate or refresh";

/// Why a delegation was refused, when minting or when verifying a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DelegationError {
    /// The signer is not the key the parent token binds.
    NotHolder,
    /// A bearer token binds no holder key: it cannot be delegated, and no
    /// holder may delegate one (only a policy grants bearer tokens).
    Bearer,
    /// More delegations than allowed.
    TooDeep {
        /// Depth of the refused token.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// The child would allow more than its parent.
    Escalation {
        /// Depth of the child in its chain.
        depth: usize,
        /// What widened, e.g. `caps[1]`, `aud`, `exp`.
        path: String,
    },
    /// The child is not signed by its parent's holder key.
    BrokenLink {
        /// Depth of the child.
        depth: usize,
    },
    /// The parent presented is not the one the child was minted from (or a
    /// token signed by the issuer claims to have a parent).
    ParentMismatch {
        /// Depth of the token whose parent does not match.
        depth: usize,
    },
    /// A `jti` appears twice in one chain.
    Cycle {
        /// The repeated `jti`.
        jti: String,
    },
}

impl DelegationError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            DelegationError::NotHolder => ErrorCode::DelegationNotHolder,
            DelegationError::Bearer => ErrorCode::BearerToken,
            DelegationError::TooDeep { .. } => ErrorCode::DelegationTooDeep,
            DelegationError::Escalation { .. } => ErrorCode::DelegationEscalation,
            DelegationError::BrokenLink { .. } => ErrorCode::DelegationBrokenLink,
            DelegationError::ParentMismatch { .. } => ErrorCode::DelegationParentMismatch,
            DelegationError::Cycle { .. } => ErrorCode::DelegationCycle,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl fmt::Display for DelegationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DelegationError::NotHolder => {
                f.write_str("only the holder of the parent token's key may delegate it")
            }
            DelegationError::Bearer => f.write_str(BEARER),
            DelegationError::TooDeep { depth, max } => {
                write!(f, "delegation depth {depth} exceeds the limit of {max}")
            }
            DelegationError::Escalation { depth, path } => write!(
                f,
                "delegated token at depth {depth} widens `{path}` beyond its parent"
            ),
            DelegationError::BrokenLink { depth } => write!(
                f,
                "delegated token at depth {depth} is not signed by its parent's holder"
            ),
            DelegationError::ParentMismatch { depth } => write!(
                f,
                "token at depth {depth} was not minted from the parent presented with it"
            ),
            DelegationError::Cycle { jti } => write!(f, "`jti` `{jti}` appears twice in one chain"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DelegationError {}

impl From<DelegationError> for TokenError {
    fn from(err: DelegationError) -> Self {
        TokenError::Delegation(err)
    }
}

/// Why a claims set was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimsError {
    /// `ver` is not a version this crate understands.
    UnsupportedVersion(String),
    /// A registered date claim (`iat`, `nbf`, `exp`) is not an integer in range.
    BadDate(&'static str),
    /// `exp` is absent: captoken tokens are always short-lived.
    MissingExp,
    /// A required claim is absent.
    Missing(&'static str),
    /// A claim does not have the shape the schema requires.
    Invalid {
        /// Path of the claim, e.g. `caps[0].constraints.max_purchase`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl ClaimsError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ClaimsError::UnsupportedVersion(_) => ErrorCode::UnsupportedVersion,
            ClaimsError::BadDate(_) => ErrorCode::BadDate,
            ClaimsError::MissingExp => ErrorCode::MissingExp,
            ClaimsError::Missing(_) | ClaimsError::Invalid { .. } => ErrorCode::BadClaims,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
    pub(crate) fn invalid(path: impl Into<String>, reason: impl fmt::Display) -> Self {
        ClaimsError::Invalid {
            path: path.into(),
            reason: format!("{reason}"),
        }
    }
}

impl fmt::Display for ClaimsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimsError::UnsupportedVersion(v) => write!(f, "unsupported claims version `{v}`"),
            ClaimsError::BadDate(c) => {
                write!(
                    f,
                    "claim `{c}` must be an integer number of seconds in 0..=2^53-1"
                )
            }
            ClaimsError::MissingExp => f.write_str("claim `exp` is required"),
            ClaimsError::Missing(c) => write!(f, "claim `{c}` is required"),
            ClaimsError::Invalid { path, reason } => {
                write!(f, "claim `{path}` is invalid: {reason}")
            }
        }
    }
}

/// Why a request was not authorized, or a scope could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeError {
    /// No capability allows this action on this resource.
    NotGranted {
        /// The requested action.
        action: String,
        /// The requested resource.
        resource: String,
    },
    /// A capability allows the action and resource, but a constraint refuses.
    ConstraintViolated {
        /// Path of the constraint, e.g. `caps[0].constraints.max_purchase`.
        path: String,
        /// What the request did that the constraint forbids.
        reason: String,
    },
    /// A constraint applies but the request context lacks the value it needs.
    MissingContext {
        /// Path of the constraint.
        path: String,
        /// The context member that is needed.
        member: &'static str,
    },
    /// A constraint kind this version does not understand: fail closed.
    UnknownConstraint {
        /// Path of the constraint.
        path: String,
    },
    /// The request context is malformed.
    BadContext(String),
    /// A pattern is malformed.
    BadPattern {
        /// Where it is.
        path: String,
        /// The pattern.
        pattern: String,
    },
}

impl ScopeError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ScopeError::NotGranted { .. } => ErrorCode::NotGranted,
            ScopeError::ConstraintViolated { .. } => ErrorCode::ConstraintViolated,
            ScopeError::MissingContext { .. } => ErrorCode::MissingContext,
            ScopeError::UnknownConstraint { .. } => ErrorCode::UnknownConstraint,
            ScopeError::BadContext(_) => ErrorCode::BadContext,
            ScopeError::BadPattern { .. } => ErrorCode::BadPattern,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The path of the capability or constraint at fault, when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            ScopeError::ConstraintViolated { path, .. }
            | ScopeError::MissingContext { path, .. }
            | ScopeError::UnknownConstraint { path }
            | ScopeError::BadPattern { path, .. } => Some(path),
            _ => None,
        }
    }
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeError::NotGranted { action, resource } => {
                write!(f, "no capability allows `{action}` on `{resource}`")
            }
            ScopeError::ConstraintViolated { path, reason } => write!(f, "`{path}`: {reason}"),
            ScopeError::MissingContext { path, member } => {
                write!(
                    f,
                    "`{path}` applies but the request context has no `{member}`"
                )
            }
            ScopeError::UnknownConstraint { path } => {
                write!(
                    f,
                    "`{path}` is a constraint kind this verifier does not understand"
                )
            }
            ScopeError::BadContext(why) => write!(f, "bad request context: {why}"),
            ScopeError::BadPattern { path, pattern } => {
                write!(f, "`{path}`: `{pattern}` is not a valid pattern")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ScopeError {}
