//! Status lists: one bit per issued token, compressed and signed, so that
//! revocation reaches a million tokens in a list a browser downloads in
//! one go. The shape is the IETF OAuth Token Status List draft's: a token
//! names its place (`status.status_list.idx`) in a list (`…uri`), and the
//! list is a JWS of its own `typ`:
//!
//! ```text
//! header  {"alg":"EdDSA","kid":"<thumbprint>","typ":"statuslist+jwt"}
//! payload {"exp":..,"iat":..,"iss":..,"status_list":{"bits":1,"lst":"<base64url of zlib>"},"sub":"<uri>","ttl":..}
//! ```
//!
//! Bit `idx` is bit `idx % 8` (least significant first) of byte `idx / 8`
//! of the decompressed `lst`; 1 means the token is revoked (the draft's
//! INVALID), 0 that it is not. Only one bit per token (`bits: 1`) is
//! written or read. The list covers what its issuer signed; a delegated
//! token has no place of its own and stays covered by the id list
//! ([`crate::revocation`]), where revoking it is recorded.
//!
//! [`StatusListVerifier::verify`] checks a list in a fixed order and
//! returns a [`CheckedStatusList`] that says whether it is still fresh (its
//! `exp` not reached): what a stale list means is the caller's decision.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use ed25519_dalek::{Signature, VerifyingKey};
use signature::{Keypair, Signer};

use crate::b64;
use crate::claims::MAX_SAFE_INTEGER;
use crate::codes::ErrorCode;
use crate::error::TokenError;
use crate::json::{Map, Value};
use crate::jws::{self, Limits};
use crate::keys::{self, KeySet};
use crate::token::{DEFAULT_LEEWAY, MAX_LEEWAY};
use crate::zlib;

/// The `typ` header of a status list (the draft's), unlike a token's or a
/// revocation list's, so that none can pass for another.
pub const TYP: &str = "statuslist+jwt";

/// The most tokens one list covers: 2^24 (2 MiB of bits before
/// compression). A decompressed `lst` longer than that is refused.
pub const MAX_TOKENS: u64 = 1 << 24;

/// Bounds for a status list a verifier reads: 1 MiB, as a revocation
/// list's; the schema nests two levels deep.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_token_len: 1024 * 1024,
    max_json_depth: 4,
};

/// The longest list [`StatusListIssuer::sign`] signs: 64 KiB under what
/// verifiers read, so that a list and what comes with it (a token, a key
/// set) fit one 1 MiB module request. A list of 2^24 tokens compresses to
/// well under it however many are revoked.
pub const MAX_SIGNED_LEN: usize = DEFAULT_LIMITS.max_token_len - 64 * 1024;

mod claim;
pub use claim::StatusRef;

/// Payload members; anything else is refused.
const LIST_MEMBERS: &[&str] = &["sub", "iss", "iat", "exp", "ttl", "status_list"];
const STATUS_LIST_MEMBERS: &[&str] = &["bits", "lst"];

/// Why a status list was refused, or a token's status could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusError {
    /// The list does not fit the schema, or cannot be signed as given.
    BadList {
        /// Path of the member at fault, e.g. `status_list.lst`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The list is another one than the token names (`sub` is not the
    /// token's `status.status_list.uri`).
    WrongList {
        /// The `uri` the token names.
        expected: String,
        /// The list's `sub`.
        found: String,
    },
    /// The token's `idx` is past the end of the list.
    IndexOutOfRange {
        /// The token's `idx`.
        idx: u64,
        /// How many tokens the list covers.
        len: u64,
    },
    /// The caller required a fresh list and this one is past its `exp`.
    Stale {
        /// The list's `exp`: stale since then.
        since: i64,
    },
    /// The token names a status list and revocation was checked against
    /// the id list alone, which need not list it (a gateway lists in its
    /// status lists what they cover).
    Required {
        /// The list the token names.
        uri: String,
    },
    /// `iss` is not the issuer the signing key belongs to.
    BadIssuer {
        /// The issuer of the key set.
        expected: String,
        /// The `iss` in the list.
        found: String,
    },
    /// `iat` is in the future beyond leeway.
    IssuedInFuture {
        /// Verification time.
        now: i64,
        /// The list's `iat`.
        iat: i64,
    },
    /// The JWS was refused (size, structure, header policy, key,
    /// signature), or signing failed.
    Token(TokenError),
}

impl StatusError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            StatusError::BadList { .. } => ErrorCode::BadStatusList,
            StatusError::WrongList { .. } => ErrorCode::WrongStatusList,
            StatusError::IndexOutOfRange { .. } => ErrorCode::StatusIndexOutOfRange,
            StatusError::Stale { .. } => ErrorCode::StatusListStale,
            StatusError::Required { .. } => ErrorCode::StatusListRequired,
            StatusError::BadIssuer { .. } => ErrorCode::BadIssuer,
            StatusError::IssuedInFuture { .. } => ErrorCode::IssuedInFuture,
            StatusError::Token(err) => err.error_code(),
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    fn bad(path: impl Into<String>, reason: impl fmt::Display) -> Self {
        StatusError::BadList {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusError::BadList { path, reason } => {
                write!(f, "status list `{path}` is invalid: {reason}")
            }
            StatusError::WrongList { expected, found } => write!(
                f,
                "the status list is `{found}`, not the token's `{expected}`"
            ),
            StatusError::IndexOutOfRange { idx, len } => write!(
                f,
                "status index {idx} is past the end of the list ({len} tokens)"
            ),
            StatusError::Stale { since } => write!(f, "status list is stale since {since}"),
            StatusError::Required { uri } => write!(
                f,
                "the token's revocation is in the status list `{uri}`: check it with that list too"
            ),
            StatusError::BadIssuer { expected, found } => write!(
                f,
                "status list issuer `{found}` is not the key's issuer `{expected}`"
            ),
            StatusError::IssuedInFuture { now, iat } => {
                write!(f, "status list issued in the future at {iat} (now {now})")
            }
            StatusError::Token(err) => write!(f, "{err}"),
        }
    }
}

impl From<TokenError> for StatusError {
    fn from(err: TokenError) -> Self {
        StatusError::Token(err)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for StatusError {}

const DATE_RULE: &str = "must be an integer number of seconds in 0..=2^53-1";

fn date(map: &Map, name: &'static str) -> Result<Option<i64>, StatusError> {
    match map.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_i64()
            .filter(|n| (0..=MAX_SAFE_INTEGER).contains(n))
            .map(Some)
            .ok_or_else(|| StatusError::bad(name, DATE_RULE)),
    }
}

/// The content of a status list: whose, which, when, and the bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    /// The issuer whose tokens these are; a verifier requires its own.
    pub iss: String,
    /// The list's URI: the `uri` its tokens name.
    pub sub: String,
    /// When the list was made.
    pub iat: i64,
    /// When it stops being fresh.
    pub exp: i64,
    /// How long a verifier may cache it, in seconds (the draft's `ttl`).
    pub ttl: Option<u64>,
    /// One bit per token, `idx % 8` of byte `idx / 8`.
    bits: Vec<u8>,
}

impl StatusList {
    /// A list of `len` tokens (rounded up to a whole byte), none revoked.
    ///
    /// # Errors
    /// [`StatusError::BadList`] when `len` is 0 or above [`MAX_TOKENS`].
    pub fn new(
        iss: impl Into<String>,
        sub: impl Into<String>,
        iat: i64,
        exp: i64,
        len: u64,
    ) -> Result<Self, StatusError> {
        if len == 0 || len > MAX_TOKENS {
            return Err(StatusError::bad(
                "size",
                format_args!("must be 1 to {MAX_TOKENS} tokens"),
            ));
        }
        Ok(StatusList {
            iss: iss.into(),
            sub: sub.into(),
            iat,
            exp,
            ttl: None,
            bits: alloc::vec![0; len.div_ceil(8) as usize],
        })
    }

    /// How many tokens the list covers: every index below this.
    pub fn len(&self) -> u64 {
        self.bits.len() as u64 * 8
    }

    /// Whether the list covers no token (never, for a list made by
    /// [`StatusList::new`] or read from a signed one).
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Marks the token at `idx` revoked.
    ///
    /// # Errors
    /// [`StatusError::IndexOutOfRange`] past the end of the list.
    pub fn revoke(&mut self, idx: u64) -> Result<(), StatusError> {
        let len = self.len();
        let byte = usize::try_from(idx / 8)
            .ok()
            .and_then(|i| self.bits.get_mut(i))
            .ok_or(StatusError::IndexOutOfRange { idx, len })?;
        *byte |= 1 << (idx % 8);
        Ok(())
    }

    /// Whether the token at `idx` is revoked.
    ///
    /// # Errors
    /// [`StatusError::IndexOutOfRange`] past the end of the list.
    pub fn is_revoked(&self, idx: u64) -> Result<bool, StatusError> {
        let len = self.len();
        let byte = usize::try_from(idx / 8)
            .ok()
            .and_then(|i| self.bits.get(i))
            .ok_or(StatusError::IndexOutOfRange { idx, len })?;
        Ok(byte >> (idx % 8) & 1 == 1)
    }

    /// How many tokens the list marks revoked.
    pub fn revoked_count(&self) -> u64 {
        self.bits.iter().map(|b| u64::from(b.count_ones())).sum()
    }

    fn check(&self) -> Result<(), StatusError> {
        if self.iss.is_empty() {
            return Err(StatusError::bad("iss", "must be a non-empty string"));
        }
        if self.sub.is_empty() {
            return Err(StatusError::bad("sub", "must be a non-empty string"));
        }
        for (name, n) in [("iat", self.iat), ("exp", self.exp)] {
            if !(0..=MAX_SAFE_INTEGER).contains(&n) {
                return Err(StatusError::bad(name, DATE_RULE));
            }
        }
        if self.exp <= self.iat {
            return Err(StatusError::bad("exp", "must be after `iat`"));
        }
        if self
            .ttl
            .is_some_and(|t| t == 0 || t > MAX_SAFE_INTEGER.unsigned_abs())
        {
            return Err(StatusError::bad("ttl", "must be an integer in 1..=2^53-1"));
        }
        Ok(())
    }

    fn to_json(&self) -> Value {
        let mut list = Map::new();
        list.insert("bits".into(), 1u64.into());
        list.insert(
            "lst".into(),
            b64::encode(&zlib::compress(&self.bits)).into(),
        );
        let mut map = Map::new();
        map.insert("sub".into(), self.sub.clone().into());
        map.insert("iss".into(), self.iss.clone().into());
        map.insert("iat".into(), self.iat.into());
        map.insert("exp".into(), self.exp.into());
        if let Some(ttl) = self.ttl {
            map.insert("ttl".into(), ttl.into());
        }
        map.insert("status_list".into(), Value::Object(list));
        Value::Object(map)
    }

    fn from_json(mut map: Map) -> Result<Self, StatusError> {
        if let Some(extra) = map.keys().find(|k| !LIST_MEMBERS.contains(&k.as_str())) {
            return Err(StatusError::bad(
                extra.as_str(),
                "is not a member of a status list",
            ));
        }
        let mut text = |name: &'static str| match map.remove(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            _ => Err(StatusError::bad(name, "must be a non-empty string")),
        };
        let (iss, sub) = (text("iss")?, text("sub")?);
        let iat = date(&map, "iat")?.ok_or_else(|| StatusError::bad("iat", DATE_RULE))?;
        let exp = date(&map, "exp")?.ok_or_else(|| StatusError::bad("exp", DATE_RULE))?;
        let ttl = match map.get("ttl") {
            None => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| StatusError::bad("ttl", "must be an integer in 1..=2^53-1"))?,
            ),
        };
        let Some(Value::Object(mut list)) = map.remove("status_list") else {
            return Err(StatusError::bad("status_list", "must be an object"));
        };
        if let Some(extra) = list
            .keys()
            .find(|k| !STATUS_LIST_MEMBERS.contains(&k.as_str()))
        {
            return Err(StatusError::bad(
                format!("status_list.{extra}"),
                "is not a member of a status list",
            ));
        }
        if list.get("bits").and_then(Value::as_u64) != Some(1) {
            return Err(StatusError::bad(
                "status_list.bits",
                "must be 1: one bit per token is all this crate reads",
            ));
        }
        let Some(Value::String(lst)) = list.remove("lst") else {
            return Err(StatusError::bad("status_list.lst", "must be a string"));
        };
        let packed = b64::decode(lst.as_bytes())
            .map_err(|_| StatusError::bad("status_list.lst", "must be base64url"))?;
        let bits = zlib::decompress(&packed, (MAX_TOKENS / 8) as usize)
            .map_err(|err| StatusError::bad("status_list.lst", err))?;
        if bits.is_empty() {
            return Err(StatusError::bad("status_list.lst", "holds no token"));
        }
        let list = StatusList {
            iss,
            sub,
            iat,
            exp,
            ttl,
            bits,
        };
        list.check()?;
        Ok(list)
    }
}

/// Signs status lists with an issuer's token key.
#[derive(Debug)]
pub struct StatusListIssuer<'s, S> {
    signer: &'s S,
    kid: String,
}

impl<'s, S> StatusListIssuer<'s, S>
where
    S: Signer<Signature> + Keypair<VerifyingKey = VerifyingKey>,
{
    /// Sign with `signer`; the `kid` is computed once here.
    pub fn new(signer: &'s S) -> Self {
        StatusListIssuer {
            signer,
            kid: keys::thumbprint(&signer.verifying_key()),
        }
    }

    /// The `kid` this issuer stamps on its lists.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Sign `list`, its bits compressed ([`zlib::compress`]).
    ///
    /// # Errors
    /// [`StatusError::BadList`] when the list breaks a schema rule, or
    /// signed would be longer than [`MAX_SIGNED_LEN`];
    /// [`TokenError::SigningFailed`] when the signer fails.
    pub fn sign(&self, list: &StatusList) -> Result<String, StatusError> {
        list.check()?;
        let payload = list.to_json().to_vec();
        let header = jws::header(TYP, &self.kid);
        let len = jws::compact_len(&header, payload.len());
        if len > MAX_SIGNED_LEN {
            return Err(StatusError::bad(
                "status_list.lst",
                format_args!("signed, the list would be {len} bytes, over {MAX_SIGNED_LEN}"),
            ));
        }
        Ok(jws::sign_compact(&header, &payload, self.signer)?)
    }
}

/// A status list whose signature, issuer and time have been checked.
/// Only [`StatusListVerifier::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedStatusList {
    kid: String,
    list: StatusList,
}

impl VerifiedStatusList {
    /// The `kid` of the key that signed it.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The list.
    pub fn list(&self) -> &StatusList {
        &self.list
    }
}

/// An authentic status list, fresh or stale (see
/// [`crate::revocation::CheckedList`]: the same decision, the same shape).
#[must_use = "decide what a stale status list means before using it"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedStatusList {
    /// `now < exp`.
    Fresh(VerifiedStatusList),
    /// `now >= exp`: a newer list is due.
    Stale {
        /// The list.
        list: VerifiedStatusList,
        /// Its `exp`: stale since then.
        since: i64,
    },
}

impl CheckedStatusList {
    /// The list if it is fresh: fail closed on staleness.
    ///
    /// # Errors
    /// [`StatusError::Stale`] when the list is past its `exp`.
    pub fn require_fresh(self) -> Result<VerifiedStatusList, StatusError> {
        match self {
            CheckedStatusList::Fresh(list) => Ok(list),
            CheckedStatusList::Stale { since, .. } => Err(StatusError::Stale { since }),
        }
    }

    /// The list, fresh or stale: the caller accepts that a stale list may
    /// miss revocations made after it.
    pub fn allow_stale(self) -> VerifiedStatusList {
        match self {
            CheckedStatusList::Fresh(list) | CheckedStatusList::Stale { list, .. } => list,
        }
    }
}

/// Verifies the status lists of one issuer.
#[derive(Debug, Clone)]
pub struct StatusListVerifier<'k> {
    keys: &'k KeySet,
    leeway: i64,
    limits: Limits,
}

impl<'k> StatusListVerifier<'k> {
    /// Trust lists signed by `keys`, for the issuer they name.
    pub fn new(keys: &'k KeySet) -> Self {
        StatusListVerifier {
            keys,
            leeway: DEFAULT_LEEWAY,
            limits: DEFAULT_LIMITS,
        }
    }

    /// Tolerate this much clock skew, clamped to `0..=MAX_LEEWAY` seconds.
    /// It applies to `iat` and the key window, not to `exp`.
    #[must_use]
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.leeway = seconds.clamp(0, MAX_LEEWAY);
        self
    }

    /// Verify the list at `uri` (the `uri` a token names; `sub` must be
    /// it) at `now`.
    ///
    /// The order: size, structure and the EdDSA header policy; no unknown
    /// header member; `typ`; `kid` present and trusted; signature; key
    /// window; strict payload JSON and schema, `lst` decompressed within
    /// [`MAX_TOKENS`]; issuer; `sub`; `iat` not in the future; then
    /// freshness.
    ///
    /// # Errors
    /// The first [`StatusError`] met in that order.
    pub fn verify(
        &self,
        text: &str,
        uri: &str,
        now: i64,
    ) -> Result<CheckedStatusList, StatusError> {
        let (kid, payload) =
            jws::verify_document(text, self.keys, TYP, &self.limits, now, self.leeway)?;
        let list = StatusList::from_json(payload)?;
        if !self.keys.signs_for(&list.iss) {
            return Err(StatusError::BadIssuer {
                expected: self.keys.issuer_names(),
                found: list.iss,
            });
        }
        if list.sub != uri {
            return Err(StatusError::WrongList {
                expected: uri.to_string(),
                found: list.sub,
            });
        }
        if list.iat > now.saturating_add(self.leeway) {
            return Err(StatusError::IssuedInFuture { now, iat: list.iat });
        }
        let since = list.exp;
        let verified = VerifiedStatusList { kid, list };
        Ok(if now >= since {
            CheckedStatusList::Stale {
                list: verified,
                since,
            }
        } else {
            CheckedStatusList::Fresh(verified)
        })
    }
}

#[cfg(test)]
mod tests;
