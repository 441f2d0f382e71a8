//! Revocation: refusing tokens by `jti`, and a signed revocation list that a
//! verifier (a browser console, say) can check offline.
//!
//! Revocation state belongs to the caller: a host or JS supplies its own
//! store through [`RevocationCheck`], and [`check_chain`] refuses a token
//! when any `jti` of its chain is in it. An issuer can also publish its
//! revocations as a list signed with its token key, in compact JWS form:
//!
//! ```text
//! header  {"alg":"EdDSA","kid":"<thumbprint>","typ":"captoken-rl+jwt"}
//! payload {"iat":..,"iss":..,"next_update":..,"revoked":[{"jti":..,"reason":..,"revoked_at":..}],"seq":..,"ver":1}
//! ```
//!
//! [`verify_list`] checks it in a fixed order and returns a [`CheckedList`]
//! that says whether the list is still fresh: what a stale list means (fail
//! closed, or accept it for a while) is the caller's decision, and the types
//! make the caller take it.

use crate::codes::ErrorCode;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::json::{Map, Value};
use ed25519_dalek::{Signature, VerifyingKey};
use signature::{Keypair, Signer};

use crate::claims::MAX_SAFE_INTEGER;
use crate::error::TokenError;
use crate::jws::{self, Limits};
use crate::keys::{self, KeySet};
use crate::token::{DEFAULT_LEEWAY, MAX_LEEWAY};

/// The `typ` header of a revocation list. It differs from a token's, so a
/// token can never pass as a list, nor a list as a token.
pub const TYP: &str = "captoken-rl+jwt";

/// The revocation list schema version this crate writes and reads.
pub const LIST_VERSION: u64 = 1;

/// Default bounds for a revocation list a verifier reads: 1 MiB, and the
/// schema nests three levels deep.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_token_len: 1024 * 1024,
    max_json_depth: 8,
};

/// The longest list [`RevocationListIssuer::sign`] signs: 64 KiB under
/// what verifiers read, so that a list and what comes with it (a token,
/// a key set) still fit one 1 MiB module request. About 12,900 entries
/// without reasons.
pub const MAX_SIGNED_LEN: usize = DEFAULT_LIMITS.max_token_len - 64 * 1024;

/// Payload members; anything else is refused.
const LIST_MEMBERS: &[&str] = &["ver", "iss", "seq", "iat", "next_update", "revoked"];
/// Entry members; anything else is refused.
const ENTRY_MEMBERS: &[&str] = &["jti", "revoked_at", "reason"];

/// Why a token was refused as revoked, or a revocation list was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationError {
    /// A `jti` in the token's chain is revoked.
    Revoked {
        /// The revoked `jti`.
        jti: String,
    },
    /// The list is older than one already seen: replaying it would un-revoke
    /// whatever was revoked since.
    Rollback {
        /// The list's sequence number.
        seq: u64,
        /// The highest sequence number seen before.
        last_seen: u64,
    },
    /// The caller required a fresh list and this one is past `next_update`.
    Stale {
        /// The list's `next_update`.
        since: i64,
    },
    /// The list does not fit the schema, or cannot be signed as given.
    BadList {
        /// Path of the member at fault, e.g. `revoked[2].jti`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Signed, the list would be longer than [`MAX_SIGNED_LEN`], so it is
    /// not signed: it must lose entries first (they leave as the tokens
    /// they revoke expire).
    TooLarge {
        /// The length the signed list would have, in bytes.
        len: usize,
        /// The most this crate signs ([`MAX_SIGNED_LEN`]), in bytes.
        max: usize,
        /// How many entries the list holds.
        entries: usize,
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
        /// The list's issued-at.
        iat: i64,
    },
    /// The JWS was refused (size, structure, header policy, key, signature),
    /// or signing failed.
    Token(TokenError),
}

impl RevocationError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            RevocationError::Revoked { .. } => ErrorCode::Revoked,
            RevocationError::Rollback { .. } => ErrorCode::RevocationListRollback,
            RevocationError::Stale { .. } => ErrorCode::RevocationListStale,
            RevocationError::BadList { .. } => ErrorCode::BadRevocationList,
            RevocationError::TooLarge { .. } => ErrorCode::RevocationListTooLarge,
            RevocationError::BadIssuer { .. } => ErrorCode::BadIssuer,
            RevocationError::IssuedInFuture { .. } => ErrorCode::IssuedInFuture,
            RevocationError::Token(err) => err.error_code(),
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    fn bad(path: impl Into<String>, reason: impl fmt::Display) -> Self {
        RevocationError::BadList {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for RevocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevocationError::Revoked { jti } => write!(f, "token `{jti}` is revoked"),
            RevocationError::Rollback { seq, last_seen } => write!(
                f,
                "revocation list sequence {seq} is older than the last one seen ({last_seen})"
            ),
            RevocationError::Stale { since } => {
                write!(f, "revocation list is stale since {since}")
            }
            RevocationError::BadList { path, reason } => {
                write!(f, "revocation list `{path}` is invalid: {reason}")
            }
            RevocationError::TooLarge { len, max, entries } => write!(
                f,
                "a revocation list of {entries} entries would be {len} bytes signed, \
                 over the {max} bytes a list may have"
            ),
            RevocationError::BadIssuer { expected, found } => write!(
                f,
                "revocation list issuer `{found}` is not the key's issuer `{expected}`"
            ),
            RevocationError::IssuedInFuture { now, iat } => {
                write!(
                    f,
                    "revocation list issued in the future at {iat} (now {now})"
                )
            }
            RevocationError::Token(err) => write!(f, "{err}"),
        }
    }
}

impl From<TokenError> for RevocationError {
    fn from(err: TokenError) -> Self {
        RevocationError::Token(err)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RevocationError {}

/// A store that knows which `jti`s are revoked. The host supplies it: a
/// database, a set in memory, or a [`VerifiedRevocationList`].
pub trait RevocationCheck {
    /// Whether the token with this `jti` is revoked.
    fn is_revoked(&self, jti: &str) -> bool;
}

impl RevocationCheck for BTreeSet<String> {
    fn is_revoked(&self, jti: &str) -> bool {
        self.contains(jti)
    }
}

/// Refuse a token when any `jti` of its chain (its own, and its ancestors'
/// once delegation exists) is revoked: revoking a parent revokes everything
/// minted from it.
///
/// # Errors
/// [`RevocationError::Revoked`] naming the first revoked `jti`.
pub fn check_chain<'a>(
    jtis: impl IntoIterator<Item = &'a str>,
    store: &dyn RevocationCheck,
) -> Result<(), RevocationError> {
    match jtis.into_iter().find(|jti| store.is_revoked(jti)) {
        Some(jti) => Err(RevocationError::Revoked {
            jti: jti.to_string(),
        }),
        None => Ok(()),
    }
}

/// One revoked token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevokedEntry {
    /// The revoked token's `jti`.
    pub jti: String,
    /// When it was revoked (seconds since the epoch).
    pub revoked_at: i64,
    /// Why, in the issuer's words; never interpreted.
    pub reason: Option<String>,
}

impl RevokedEntry {
    /// `jti` revoked at `revoked_at`, without a reason.
    pub fn new(jti: impl Into<String>, revoked_at: i64) -> Self {
        RevokedEntry {
            jti: jti.into(),
            revoked_at,
            reason: None,
        }
    }

    /// Record why.
    #[must_use]
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    fn check(&self, i: usize) -> Result<(), RevocationError> {
        // A token id: a `jti`, or for a delegated token the `jti`s of its
        // chain joined by `.` (`VerifiedToken::id`).
        if !crate::token::is_token_id(&self.jti) {
            return Err(RevocationError::bad(
                format!("revoked[{i}].jti"),
                "must be a token id: base64url of at least 128 bits, or such `jti`s joined by `.`",
            ));
        }
        if !in_range(self.revoked_at) {
            return Err(RevocationError::bad(
                format!("revoked[{i}].revoked_at"),
                DATE_RULE,
            ));
        }
        if self.reason.as_deref() == Some("") {
            // Absent and empty would be two spellings of "no reason".
            return Err(RevocationError::bad(
                format!("revoked[{i}].reason"),
                "must be non-empty when present",
            ));
        }
        Ok(())
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("jti".into(), self.jti.clone().into());
        map.insert("revoked_at".into(), self.revoked_at.into());
        if let Some(reason) = &self.reason {
            map.insert("reason".into(), reason.clone().into());
        }
        Value::Object(map)
    }

    fn from_json(i: usize, value: Value) -> Result<Self, RevocationError> {
        let Value::Object(mut map) = value else {
            return Err(RevocationError::bad(
                format!("revoked[{i}]"),
                "must be an object",
            ));
        };
        if let Some(extra) = map.keys().find(|k| !ENTRY_MEMBERS.contains(&k.as_str())) {
            return Err(RevocationError::bad(
                format!("revoked[{i}].{extra}"),
                "is not a member of a revocation entry",
            ));
        }
        let jti = match map.remove("jti") {
            Some(Value::String(s)) => s,
            _ => {
                return Err(RevocationError::bad(
                    format!("revoked[{i}].jti"),
                    "must be a string",
                ));
            }
        };
        let revoked_at = date(map.get("revoked_at"))
            .ok_or_else(|| RevocationError::bad(format!("revoked[{i}].revoked_at"), DATE_RULE))?;
        let reason = match map.remove("reason") {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                return Err(RevocationError::bad(
                    format!("revoked[{i}].reason"),
                    "must be a string",
                ));
            }
        };
        Ok(RevokedEntry {
            jti,
            revoked_at,
            reason,
        })
    }
}

const DATE_RULE: &str = "must be an integer number of seconds in 0..=2^53-1";

/// An integer in `0..=2^53-1`; floats, strings and negatives are not.
fn date(value: Option<&Value>) -> Option<i64> {
    value.and_then(Value::as_i64).filter(|n| in_range(*n))
}

fn in_range(n: i64) -> bool {
    (0..=MAX_SAFE_INTEGER).contains(&n)
}

fn check_date(path: &'static str, n: i64) -> Result<(), RevocationError> {
    if in_range(n) {
        Ok(())
    } else {
        Err(RevocationError::bad(path, DATE_RULE))
    }
}

/// The payload of a revocation list: which tokens an issuer has revoked, as
/// of `iat`, until `next_update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList {
    /// The issuer whose tokens these are; a verifier requires its own.
    pub iss: String,
    /// Sequence number, increasing with every list the issuer publishes
    /// (at most 2^53-1). A verifier refuses one lower than it has seen.
    pub seq: u64,
    /// When the list was made.
    pub iat: i64,
    /// When the next list is due; from then on this one is stale.
    pub next_update: i64,
    /// The revoked tokens, in any order; signing writes them sorted by `jti`.
    pub revoked: Vec<RevokedEntry>,
}

impl RevocationList {
    /// An empty list.
    pub fn new(iss: impl Into<String>, seq: u64, iat: i64, next_update: i64) -> Self {
        RevocationList {
            iss: iss.into(),
            seq,
            iat,
            next_update,
            revoked: Vec::new(),
        }
    }

    /// Add an entry.
    #[must_use]
    pub fn revoke(mut self, entry: RevokedEntry) -> Self {
        self.revoked.push(entry);
        self
    }

    /// Every rule except the order of entries.
    fn check(&self) -> Result<(), RevocationError> {
        if self.iss.is_empty() {
            return Err(RevocationError::bad("iss", "must be a non-empty string"));
        }
        if self.seq > MAX_SAFE_INTEGER.unsigned_abs() {
            return Err(RevocationError::bad("seq", "must be at most 2^53-1"));
        }
        check_date("iat", self.iat)?;
        check_date("next_update", self.next_update)?;
        if self.next_update <= self.iat {
            return Err(RevocationError::bad("next_update", "must be after `iat`"));
        }
        for (i, entry) in self.revoked.iter().enumerate() {
            entry.check(i)?;
        }
        Ok(())
    }

    /// Entries must be strictly increasing by `jti`, so a list has one
    /// spelling and lookups can bisect.
    fn check_order(entries: &[RevokedEntry]) -> Result<(), RevocationError> {
        for (i, pair) in entries.windows(2).enumerate() {
            if let [a, b] = pair {
                if a.jti == b.jti {
                    return Err(RevocationError::bad(
                        format!("revoked[{}].jti", i + 1),
                        format_args!("`{}` is listed twice", b.jti),
                    ));
                }
                if a.jti > b.jti {
                    return Err(RevocationError::bad(
                        format!("revoked[{}].jti", i + 1),
                        "entries must be sorted by `jti`",
                    ));
                }
            }
        }
        Ok(())
    }

    fn to_json(&self, sorted: &[&RevokedEntry]) -> Value {
        let mut map = Map::new();
        map.insert("ver".into(), LIST_VERSION.into());
        map.insert("iss".into(), self.iss.clone().into());
        map.insert("seq".into(), self.seq.into());
        map.insert("iat".into(), self.iat.into());
        map.insert("next_update".into(), self.next_update.into());
        map.insert(
            "revoked".into(),
            Value::Array(sorted.iter().map(|e| e.to_json()).collect()),
        );
        Value::Object(map)
    }

    fn from_json(map: Map) -> Result<Self, RevocationError> {
        let list = Self::read(map)?;
        Self::check_order(&list.revoked)?;
        Ok(list)
    }

    /// A list to sign from its JSON form: the members of the signed payload
    /// (`ver` optional), entries in any order; [`RevocationListIssuer::sign`]
    /// sorts them and refuses a `jti` listed twice.
    ///
    /// # Errors
    /// [`RevocationError::BadList`] with the path of the first fault.
    pub fn from_unsigned_json(mut map: Map) -> Result<Self, RevocationError> {
        if !map.contains_key("ver") {
            map.insert("ver".into(), LIST_VERSION.into());
        }
        Self::read(map)
    }

    fn read(mut map: Map) -> Result<Self, RevocationError> {
        if let Some(extra) = map.keys().find(|k| !LIST_MEMBERS.contains(&k.as_str())) {
            return Err(RevocationError::bad(
                extra.as_str(),
                "is not a member of a revocation list",
            ));
        }
        match map.get("ver") {
            Some(v) if v.as_u64() == Some(LIST_VERSION) => {}
            Some(v) => {
                return Err(RevocationError::bad(
                    "ver",
                    format_args!("unsupported version `{v}`"),
                ));
            }
            None => return Err(RevocationError::bad("ver", "is required")),
        }
        let iss = match map.remove("iss") {
            Some(Value::String(s)) => s,
            _ => return Err(RevocationError::bad("iss", "must be a non-empty string")),
        };
        let seq = map
            .get("seq")
            .and_then(Value::as_u64)
            .ok_or_else(|| RevocationError::bad("seq", "must be an integer in 0..=2^53-1"))?;
        let iat = date(map.get("iat")).ok_or_else(|| RevocationError::bad("iat", DATE_RULE))?;
        let next_update = date(map.get("next_update"))
            .ok_or_else(|| RevocationError::bad("next_update", DATE_RULE))?;
        let revoked = match map.remove("revoked") {
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| RevokedEntry::from_json(i, v))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(RevocationError::bad("revoked", "must be an array")),
        };
        let list = RevocationList {
            iss,
            seq,
            iat,
            next_update,
            revoked,
        };
        list.check()?;
        Ok(list)
    }
}

/// Signs revocation lists with an issuer's token key.
///
/// Generic over [`signature::Signer`], like [`crate::TokenIssuer`].
#[derive(Debug)]
pub struct RevocationListIssuer<'s, S> {
    signer: &'s S,
    kid: String,
}

impl<'s, S> RevocationListIssuer<'s, S>
where
    S: Signer<Signature> + Keypair<VerifyingKey = VerifyingKey>,
{
    /// Sign with `signer`; the `kid` is computed once here.
    pub fn new(signer: &'s S) -> Self {
        RevocationListIssuer {
            signer,
            kid: keys::thumbprint(&signer.verifying_key()),
        }
    }

    /// The `kid` this issuer stamps on its lists.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Sign `list`, its entries written sorted by `jti`.
    ///
    /// # Errors
    /// [`RevocationError::BadList`] when the list breaks a schema rule
    /// (empty `iss`, a number past 2^53-1, `next_update` not after `iat`, a
    /// `jti` that is not base64url of 128 bits or more, an empty reason, a
    /// `jti` listed twice); [`RevocationError::TooLarge`] when the signed
    /// list would be longer than [`MAX_SIGNED_LEN`];
    /// [`TokenError::SigningFailed`] when the signer fails.
    pub fn sign(&self, list: &RevocationList) -> Result<String, RevocationError> {
        list.check()?;
        let mut sorted: Vec<&RevokedEntry> = list.revoked.iter().collect();
        sorted.sort_by(|a, b| a.jti.cmp(&b.jti));
        if let Some(pair) = sorted
            .windows(2)
            .find(|p| matches!(p, [a, b] if a.jti == b.jti))
        {
            let jti = pair.first().map(|e| e.jti.as_str()).unwrap_or_default();
            return Err(RevocationError::bad(
                "revoked",
                format_args!("`{jti}` is listed twice"),
            ));
        }
        let payload = list.to_json(&sorted).to_vec();
        let header = jws::header(TYP, &self.kid);
        // Refused before signing: a list no verifier accepts is no use,
        // and the signer (perhaps an HSM) is not asked for it.
        let len = jws::compact_len(&header, payload.len());
        let max = MAX_SIGNED_LEN;
        if len > max {
            return Err(RevocationError::TooLarge {
                len,
                max,
                entries: sorted.len(),
            });
        }
        Ok(jws::sign_compact(&header, &payload, self.signer)?)
    }
}

/// A revocation list whose signature, issuer and sequence have been
/// checked. Only [`RevocationListVerifier::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRevocationList {
    kid: String,
    // INVARIANT: entries are strictly increasing by `jti` (checked when
    // parsing), so lookups bisect.
    list: RevocationList,
}

impl VerifiedRevocationList {
    /// The issuer.
    pub fn iss(&self) -> &str {
        &self.list.iss
    }
    /// The `kid` of the key that signed it.
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The sequence number: store it, and pass it as `last_seen_seq` next time.
    pub fn seq(&self) -> u64 {
        self.list.seq
    }
    /// When the list was made.
    pub fn iat(&self) -> i64 {
        self.list.iat
    }
    /// When the next list is due.
    pub fn next_update(&self) -> i64 {
        self.list.next_update
    }
    /// The entries, sorted by `jti`.
    pub fn entries(&self) -> &[RevokedEntry] {
        &self.list.revoked
    }
    /// The entry for `jti`, if it is revoked.
    pub fn entry(&self, jti: &str) -> Option<&RevokedEntry> {
        let entries = &self.list.revoked;
        entries
            .binary_search_by(|e| e.jti.as_str().cmp(jti))
            .ok()
            .and_then(|i| entries.get(i))
    }
    /// Whether the list revokes `jti`.
    pub fn is_revoked(&self, jti: &str) -> bool {
        self.entry(jti).is_some()
    }
}

impl RevocationCheck for VerifiedRevocationList {
    fn is_revoked(&self, jti: &str) -> bool {
        self.entry(jti).is_some()
    }
}

/// An authentic revocation list, fresh or stale. A stale list still revokes
/// what it names, but may miss later revocations: whether to use it is a
/// decision only the caller can make, so there is no way to the list that
/// does not pass through that decision.
#[must_use = "decide what a stale revocation list means before using it"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedList {
    /// `now < next_update`.
    Fresh(VerifiedRevocationList),
    /// `now >= next_update`: a newer list is due.
    Stale {
        /// The list.
        list: VerifiedRevocationList,
        /// Its `next_update`: stale since then.
        since: i64,
    },
}

impl CheckedList {
    /// Whether the list is past its `next_update`.
    pub fn is_stale(&self) -> bool {
        matches!(self, CheckedList::Stale { .. })
    }

    /// The list's sequence number, fresh or stale: an authentic stale list
    /// still moves the rollback floor.
    pub fn seq(&self) -> u64 {
        match self {
            CheckedList::Fresh(list) | CheckedList::Stale { list, .. } => list.seq(),
        }
    }

    /// The list if it is fresh: fail closed on staleness.
    ///
    /// # Errors
    /// [`RevocationError::Stale`] when the list is past `next_update`.
    pub fn require_fresh(self) -> Result<VerifiedRevocationList, RevocationError> {
        match self {
            CheckedList::Fresh(list) => Ok(list),
            CheckedList::Stale { since, .. } => Err(RevocationError::Stale { since }),
        }
    }

    /// The list, fresh or stale: the caller accepts that a stale list may
    /// miss revocations made after it.
    pub fn allow_stale(self) -> VerifiedRevocationList {
        match self {
            CheckedList::Fresh(list) | CheckedList::Stale { list, .. } => list,
        }
    }
}

/// Verifies the revocation lists of one issuer.
#[derive(Debug, Clone)]
pub struct RevocationListVerifier<'k> {
    keys: &'k KeySet,
    leeway: i64,
    limits: Limits,
}

impl<'k> RevocationListVerifier<'k> {
    /// Trust lists signed by `keys`, for the issuer they name.
    pub fn new(keys: &'k KeySet) -> Self {
        RevocationListVerifier {
            keys,
            leeway: DEFAULT_LEEWAY,
            limits: DEFAULT_LIMITS,
        }
    }

    /// Tolerate this much clock skew, clamped to `0..=MAX_LEEWAY` seconds.
    /// It applies to `iat` and the key window, not to `next_update`.
    #[must_use]
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.leeway = seconds.clamp(0, MAX_LEEWAY);
        self
    }

    /// Use these size and depth limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Verify a list at `now`. `last_seen_seq` is the highest `seq` the
    /// caller has accepted before (`None` the first time); persist
    /// [`CheckedList::seq`] after accepting a list.
    ///
    /// The order: size, structure and the EdDSA header policy
    /// ([`jws::parse`]); no unknown header member; `typ`; `kid` present and
    /// trusted; signature; key window; strict payload JSON and schema;
    /// issuer; `iat` not in the future; no rollback; then freshness.
    ///
    /// # Errors
    /// The first [`RevocationError`] met in that order.
    pub fn verify(
        &self,
        text: &str,
        now: i64,
        last_seen_seq: Option<u64>,
    ) -> Result<CheckedList, RevocationError> {
        let (kid, payload) =
            jws::verify_document(text, self.keys, TYP, &self.limits, now, self.leeway)?;
        let list = RevocationList::from_json(payload)?;
        if !self.keys.signs_for(&list.iss) {
            return Err(RevocationError::BadIssuer {
                expected: self.keys.issuer_names(),
                found: list.iss,
            });
        }
        if list.iat > now.saturating_add(self.leeway) {
            return Err(RevocationError::IssuedInFuture { now, iat: list.iat });
        }
        if let Some(last_seen) = last_seen_seq
            && list.seq < last_seen
        {
            return Err(RevocationError::Rollback {
                seq: list.seq,
                last_seen,
            });
        }
        let since = list.next_update;
        let verified = VerifiedRevocationList { kid, list };
        Ok(if now >= since {
            CheckedList::Stale {
                list: verified,
                since,
            }
        } else {
            CheckedList::Fresh(verified)
        })
    }
}

/// Verify a revocation list with the default leeway and limits; see
/// [`RevocationListVerifier::verify`].
///
/// # Errors
/// As [`RevocationListVerifier::verify`].
pub fn verify_list(
    text: &str,
    keys: &KeySet,
    now: i64,
    last_seen_seq: Option<u64>,
) -> Result<CheckedList, RevocationError> {
    RevocationListVerifier::new(keys).verify(text, now, last_seen_seq)
}
