//! Proof of possession: the holder of a token proves it holds the key the
//! token binds (`cnf`) by signing a short-lived presentation with it.
//!
//! Modelled on DPoP (RFC 9449): the presentation is a compact JWS
//!
//! ```text
//! header  {"alg":"EdDSA","kid":"<thumbprint of the holder key>","typ":"captoken-pop+jwt"}
//! payload {"ath":..,"aud":..,"iat":..,"jti":..,"nonce"?:..,"req"?:..}
//! ```
//!
//! `ath` binds it to one token: the base64url SHA-256 of the token's own
//! compact text (for a delegated chain `leaf~parent~…`, of the leaf, which
//! names its ancestors by hash in turn). `aud` binds it to one verifier,
//! `iat` and the verifier's `max_age` make it short-lived, `jti` goes
//! through a replay guard so it is used once, and the optional `nonce` (a
//! server-chosen challenge) and `req` (a caller-defined hash of the request
//! being authorized) narrow it further.
//!
//! The verifier takes the holder key from the verified token's `cnf`, never
//! from the proof: `kid` only says which key was meant.

use crate::codes::ErrorCode;
use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;

use crate::json::{Map, Value};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use signature::{Keypair, Signer};

use crate::b64;
use crate::claims::MAX_SAFE_INTEGER;
use crate::delegation::CHAIN_SEPARATOR;
use crate::entropy::Entropy;
use crate::error::{Part, TokenError};
use crate::json;
use crate::jws::{self, Limits};
use crate::keys::{self, KeyError};
use crate::replay::{ReplayError, ReplayGuard};
use crate::token::{MAX_LEEWAY, VerifiedToken};

/// The `typ` header of a presentation: neither a token nor a revocation
/// list can pass as one, nor it as them.
pub const TYP: &str = "captoken-pop+jwt";

/// Default longest age of a presentation, in seconds.
pub const DEFAULT_MAX_AGE: i64 = 60;
/// Largest `max_age` a verifier may be configured with, in seconds: a
/// presentation is a one-shot proof, not a session.
pub const MAX_MAX_AGE: i64 = 300;
/// Default clock skew tolerated for a presentation issued in the future.
pub const DEFAULT_LEEWAY: i64 = 5;

/// Default bounds for a presentation: a flat object of short strings.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_token_len: 4 * 1024,
    max_json_depth: 4,
};

/// Payload members; anything else is refused.
const PAYLOAD_MEMBERS: &[&str] = &["aud", "iat", "jti", "ath", "nonce", "req"];
/// Bytes of entropy in a presentation `jti` (128 bits).
const JTI_BYTES: usize = 16;
/// Longest `jti` accepted, in decoded bytes: the replay guard stores it.
const MAX_JTI_BYTES: usize = 64;

/// Why a presentation could not be made, or was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PopError {
    /// The JWS was refused (size, structure, header policy, signature), or
    /// the host's entropy or signer failed.
    Token(TokenError),
    /// The proof's `kid` is not the thumbprint of the key the token binds.
    KeyMismatch {
        /// The `kid` in the proof.
        kid: String,
    },
    /// The token's holder key is not a usable public key.
    Key(KeyError),
    /// The token is a bearer token: it binds no key to prove.
    Bearer,
    /// The payload does not fit the schema, or the inputs to make one do not.
    BadPresentation {
        /// The member at fault, e.g. `jti`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The proof was made for another token (`ath`), or the token text given
    /// is not the verified token.
    TokenMismatch,
    /// `aud` is not this verifier.
    BadAudience {
        /// The audience this verifier serves.
        expected: String,
        /// The `aud` in the proof.
        found: String,
    },
    /// The proof is `max_age` seconds old or older.
    Stale {
        /// Verification time.
        now: i64,
        /// The proof's issued-at.
        iat: i64,
        /// The longest age accepted.
        max_age: i64,
    },
    /// `iat` is in the future beyond leeway.
    InFuture {
        /// Verification time.
        now: i64,
        /// The proof's issued-at.
        iat: i64,
    },
    /// A challenge was expected and the proof lacks it or has another.
    NonceMismatch {
        /// The `nonce` in the proof, if any.
        found: Option<String>,
    },
    /// A request hash was expected and the proof lacks it or has another.
    RequestMismatch {
        /// The `req` in the proof, if any.
        found: Option<String>,
    },
    /// The replay guard refused the proof's `jti` (seen before, or full).
    Replay(ReplayError),
}

impl PopError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            PopError::Token(err) => err.error_code(),
            PopError::KeyMismatch { .. } => ErrorCode::PopKeyMismatch,
            PopError::Key(err) => err.error_code(),
            PopError::Bearer => ErrorCode::BearerToken,
            PopError::BadPresentation { .. } => ErrorCode::BadPresentation,
            PopError::TokenMismatch => ErrorCode::PopTokenMismatch,
            PopError::BadAudience { .. } => ErrorCode::PopBadAudience,
            PopError::Stale { .. } => ErrorCode::PopStale,
            PopError::InFuture { .. } => ErrorCode::PopInFuture,
            PopError::NonceMismatch { .. } => ErrorCode::PopNonceMismatch,
            PopError::RequestMismatch { .. } => ErrorCode::PopRequestMismatch,
            PopError::Replay(err) => err.error_code(),
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    fn bad(path: &str, reason: &str) -> Self {
        PopError::BadPresentation {
            path: path.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for PopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PopError::Token(err) => write!(f, "{err}"),
            PopError::KeyMismatch { kid } => {
                write!(f, "proof `kid` `{kid}` is not the token's holder key")
            }
            PopError::Key(err) => write!(f, "token holder key: {err}"),
            PopError::Bearer => f.write_str(crate::error::BEARER),
            PopError::BadPresentation { path, reason } => {
                write!(f, "proof claim `{path}` is invalid: {reason}")
            }
            PopError::TokenMismatch => f.write_str("proof is not bound to this token"),
            PopError::BadAudience { expected, found } => {
                write!(f, "proof audience `{found}` is not `{expected}`")
            }
            PopError::Stale { now, iat, max_age } => write!(
                f,
                "proof issued at {iat} is {max_age} seconds old or older (now {now})"
            ),
            PopError::InFuture { now, iat } => {
                write!(f, "proof issued in the future at {iat} (now {now})")
            }
            PopError::NonceMismatch { found: None } => {
                f.write_str("proof has no `nonce`, and a challenge was expected")
            }
            PopError::NonceMismatch { found: Some(n) } => {
                write!(f, "proof `nonce` `{n}` is not the expected challenge")
            }
            PopError::RequestMismatch { found: None } => {
                f.write_str("proof has no `req`, and a request hash was expected")
            }
            PopError::RequestMismatch { found: Some(r) } => {
                write!(f, "proof `req` `{r}` is not the expected request hash")
            }
            PopError::Replay(err) => write!(f, "proof of possession: {err}"),
        }
    }
}

impl From<TokenError> for PopError {
    fn from(err: TokenError) -> Self {
        PopError::Token(err)
    }
}

impl From<KeyError> for PopError {
    fn from(err: KeyError) -> Self {
        PopError::Key(err)
    }
}

impl From<ReplayError> for PopError {
    fn from(err: ReplayError) -> Self {
        PopError::Replay(err)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PopError {}

/// SHA-256 of the token's own compact text: of the leaf, for a chain.
fn token_hash(token_text: &str) -> [u8; 32] {
    let leaf = token_text.split(CHAIN_SEPARATOR).next().unwrap_or_default();
    Sha256::digest(leaf.as_bytes()).into()
}

fn in_range(n: i64) -> bool {
    (0..=MAX_SAFE_INTEGER).contains(&n)
}

/// Make a presentation of `token` for the verifier `audience`, signed by
/// the token's holder key at `now`, with a fresh `jti` from `entropy`.
///
/// `nonce` is the verifier's challenge, if it issued one; `request_hash`
/// binds the proof to one request (its format is the caller's: e.g. the
/// base64url SHA-256 of a canonical request).
///
/// `holder` is not checked against the token's `cnf` here: a proof signed
/// by another key is refused by the verifier (`pop_key_mismatch`).
///
/// # Errors
/// [`PopError::BadPresentation`] for an empty `audience`, `nonce` or
/// `request_hash`, or `now` outside `0..=2^53-1`;
/// [`TokenError::EntropyUnavailable`] and [`TokenError::SigningFailed`]
/// (as [`PopError::Token`]) when the host's parts fail.
pub fn create_presentation<S>(
    holder: &S,
    token: &str,
    audience: &str,
    nonce: Option<&str>,
    request_hash: Option<&str>,
    now: i64,
    entropy: &mut dyn Entropy,
) -> Result<String, PopError>
where
    S: Signer<Signature> + Keypair<VerifyingKey = VerifyingKey>,
{
    if !in_range(now) {
        return Err(PopError::bad("iat", "`now` must be in 0..=2^53-1"));
    }
    if audience.is_empty() {
        return Err(PopError::bad("aud", "must be a non-empty string"));
    }
    if nonce == Some("") {
        return Err(PopError::bad("nonce", "must be non-empty when present"));
    }
    if request_hash == Some("") {
        return Err(PopError::bad("req", "must be non-empty when present"));
    }
    let mut jti = [0u8; JTI_BYTES];
    entropy
        .fill(&mut jti)
        .map_err(|_| TokenError::EntropyUnavailable)?;

    let mut payload = Map::new();
    payload.insert("ath".into(), b64::encode(&token_hash(token)).into());
    payload.insert("aud".into(), audience.into());
    payload.insert("iat".into(), now.into());
    payload.insert("jti".into(), b64::encode(&jti).into());
    if let Some(nonce) = nonce {
        payload.insert("nonce".into(), nonce.into());
    }
    if let Some(req) = request_hash {
        payload.insert("req".into(), req.into());
    }
    let payload = json::object_to_vec(&payload);
    let kid = keys::thumbprint(&holder.verifying_key());
    Ok(jws::sign_compact(
        &jws::header(TYP, &kid),
        &payload,
        holder,
    )?)
}

/// What a verifier requires of a presentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopOptions {
    audience: String,
    max_age: i64,
    leeway: i64,
    expected_nonce: Option<String>,
    expected_request_hash: Option<String>,
    limits: Limits,
}

impl PopOptions {
    /// Accept presentations made for `audience` (this verifier), at most
    /// [`DEFAULT_MAX_AGE`] seconds old, with [`DEFAULT_LEEWAY`].
    pub fn new(audience: impl Into<String>) -> Self {
        PopOptions {
            audience: audience.into(),
            max_age: DEFAULT_MAX_AGE,
            leeway: DEFAULT_LEEWAY,
            expected_nonce: None,
            expected_request_hash: None,
            limits: DEFAULT_LIMITS,
        }
    }

    /// Accept presentations younger than this, clamped to
    /// `1..=MAX_MAX_AGE` seconds. The replay guard keeps each `jti` until
    /// `iat + max_age`, so this is also how long it remembers one.
    #[must_use]
    pub fn max_age(mut self, seconds: i64) -> Self {
        self.max_age = seconds.clamp(1, MAX_MAX_AGE);
        self
    }

    /// Tolerate a presentation this far in the future, clamped to
    /// `0..=MAX_LEEWAY` seconds. It does not extend `max_age`: an older
    /// proof would outlive its replay record.
    #[must_use]
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.leeway = seconds.clamp(0, MAX_LEEWAY);
        self
    }

    /// Require this `nonce` (the challenge this verifier issued).
    #[must_use]
    pub fn expect_nonce(mut self, nonce: impl Into<String>) -> Self {
        self.expected_nonce = Some(nonce.into());
        self
    }

    /// Require this `req` (the hash of the request being authorized).
    #[must_use]
    pub fn expect_request_hash(mut self, hash: impl Into<String>) -> Self {
        self.expected_request_hash = Some(hash.into());
        self
    }

    /// Use these size and depth limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// A presentation whose signature, binding, age and uniqueness have been
/// checked. Only [`verify_presentation`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedPresentation {
    kid: String,
    aud: String,
    iat: i64,
    jti: String,
    nonce: Option<String>,
    req: Option<String>,
    replay_key: String,
    replay_exp: i64,
}

impl VerifiedPresentation {
    /// The holder key's thumbprint.
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The verifier audience it was made for.
    pub fn audience(&self) -> &str {
        &self.aud
    }
    /// When it was made.
    pub fn iat(&self) -> i64 {
        self.iat
    }
    /// Its unique id, now recorded by the replay guard.
    pub fn jti(&self) -> &str {
        &self.jti
    }
    /// The challenge it answers, if any.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
    /// The request hash it is bound to, if any.
    pub fn request_hash(&self) -> Option<&str> {
        self.req.as_deref()
    }
    /// The key the replay guard recorded it under.
    pub fn replay_key(&self) -> &str {
        &self.replay_key
    }
    /// Until when the guard must keep that record: after it, the proof is
    /// refused as stale anyway.
    pub fn replay_exp(&self) -> i64 {
        self.replay_exp
    }
}

/// The payload, parsed to the schema.
struct Payload {
    ath: [u8; 32],
    aud: String,
    iat: i64,
    jti: String,
    nonce: Option<String>,
    req: Option<String>,
}

fn take_string(map: &mut Map, name: &'static str) -> Result<String, PopError> {
    match map.remove(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(PopError::bad(name, "must be a non-empty string")),
    }
}

fn take_optional(map: &mut Map, name: &'static str) -> Result<Option<String>, PopError> {
    if map.contains_key(name) {
        take_string(map, name).map(Some)
    } else {
        Ok(None)
    }
}

impl Payload {
    fn from_json(mut map: Map) -> Result<Self, PopError> {
        if let Some(extra) = map.keys().find(|k| !PAYLOAD_MEMBERS.contains(&k.as_str())) {
            return Err(PopError::BadPresentation {
                path: extra.clone(),
                reason: "is not a member of a presentation".into(),
            });
        }
        let ath = take_string(&mut map, "ath")?;
        let ath = b64::decode_array::<32>(&ath)
            .ok_or_else(|| PopError::bad("ath", "must be base64url of a SHA-256 digest"))?;
        let aud = take_string(&mut map, "aud")?;
        let iat = map
            .get("iat")
            .and_then(Value::as_i64)
            .filter(|n| in_range(*n))
            .ok_or_else(|| {
                PopError::bad("iat", "must be an integer number of seconds in 0..=2^53-1")
            })?;
        let jti = take_string(&mut map, "jti")?;
        if !b64::decode(jti.as_bytes())
            .is_ok_and(|b| (JTI_BYTES..=MAX_JTI_BYTES).contains(&b.len()))
        {
            return Err(PopError::bad("jti", "must be base64url of 128 to 512 bits"));
        }
        let nonce = take_optional(&mut map, "nonce")?;
        let req = take_optional(&mut map, "req")?;
        Ok(Payload {
            ath,
            aud,
            iat,
            jti,
            nonce,
            req,
        })
    }
}

/// Verify a presentation of `token` at `now`, and record its `jti` in
/// `replay` so it cannot be used again.
///
/// `token` is the caller's to verify first, at the same `now`: the proof
/// must be bound to the text it was verified from (its leaf's hash, `ath`).
///
/// The order: size, structure and the EdDSA header policy
/// ([`jws::parse`]); no unknown header member; `typ`; `kid` is the
/// thumbprint of the token's `cnf` key; signature by that key; strict
/// payload JSON and schema; `ath`; `aud`; age; `nonce`; `req`; then the
/// replay guard, last, so a proof refused for any other reason is not
/// recorded. The guard keys the record `pop:<kid>:<jti>`, so proof ids
/// cannot collide with token ids or another holder's proofs in a shared
/// guard.
///
/// # Errors
/// The first [`PopError`] met in that order.
pub fn verify_presentation(
    proof: &str,
    token: &VerifiedToken,
    opts: &PopOptions,
    now: i64,
    replay: &mut dyn ReplayGuard,
) -> Result<VerifiedPresentation, PopError> {
    let jws = jws::parse(proof, &opts.limits)?;
    let kid = &jws::typed_kid(&jws.header, TYP)?;
    let holder = token.holder().ok_or(PopError::Bearer)?;
    if *kid != holder.thumbprint() {
        return Err(PopError::KeyMismatch { kid: kid.clone() });
    }
    jws.verify_signature(&holder.key()?)?;

    let payload = json::parse_object(&jws.payload, opts.limits.max_json_depth).map_err(|err| {
        TokenError::Json {
            part: Part::Payload,
            err,
        }
    })?;
    let payload = Payload::from_json(payload)?;

    if payload.ath != *token.token_hash() {
        return Err(PopError::TokenMismatch);
    }
    if payload.aud != opts.audience {
        return Err(PopError::BadAudience {
            expected: opts.audience.clone(),
            found: payload.aud,
        });
    }
    let iat = payload.iat;
    // INVARIANT: accepted only while `now < iat + max_age`, the expiry the
    // replay guard is given, so a proof is never accepted after its record
    // may have been forgotten.
    let exp = iat.saturating_add(opts.max_age);
    if now >= exp {
        return Err(PopError::Stale {
            now,
            iat,
            max_age: opts.max_age,
        });
    }
    if iat > now.saturating_add(opts.leeway) {
        return Err(PopError::InFuture { now, iat });
    }
    if let Some(expected) = &opts.expected_nonce
        && payload.nonce.as_ref() != Some(expected)
    {
        return Err(PopError::NonceMismatch {
            found: payload.nonce,
        });
    }
    if let Some(expected) = &opts.expected_request_hash
        && payload.req.as_ref() != Some(expected)
    {
        return Err(PopError::RequestMismatch { found: payload.req });
    }
    let replay_key = format!("pop:{kid}:{}", payload.jti);
    replay.check_and_record(&replay_key, exp, now)?;
    Ok(VerifiedPresentation {
        kid: kid.clone(),
        aud: payload.aud,
        iat,
        jti: payload.jti,
        nonce: payload.nonce,
        req: payload.req,
        replay_key,
        replay_exp: exp,
    })
}
