//! Token errors and their stable codes.
//!
//! Every error has a code: a short snake_case string that is the same in
//! Rust (`code()`), JS (`err.code`), the raw ABI, HTTP bodies and the CLI.
//! Codes are API: they are never renamed, only added.

use crate::codes::ErrorCode;
use alloc::string::String;
use core::fmt;

use crate::b64::B64Error;
use crate::claims::ClaimsError;
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
    Delegation(crate::delegation::DelegationError),
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
