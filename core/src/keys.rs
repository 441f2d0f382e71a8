//! Ed25519 keys as JWKs (RFC 8037), `kid` as the RFC 7638 thumbprint, and
//! the trusted key set a verifier consults.

use crate::codes::ErrorCode;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::json::{Map, Value, object};
use ed25519_dalek::hazmat::{self, ExpandedSecretKey};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256, Sha512};

use crate::b64;

/// Why a key or key set was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a JSON object, or a member has the wrong JSON type.
    Malformed(String),
    /// `kty` is not `OKP` or `crv` is not `Ed25519`.
    UnsupportedKeyType {
        /// The `kty` found.
        kty: String,
        /// The `crv` found.
        crv: String,
    },
    /// `use` is present and is not `sig`, or `key_ops` does not allow it.
    BadUse(String),
    /// `alg` is present and is not `EdDSA`.
    BadAlg(String),
    /// `x` (or `d`) is not 32 bytes of strict base64url, or not a curve point.
    BadKeyMaterial(&'static str),
    /// The public key has small order: any signature "verifies" under it.
    WeakKey,
    /// A public key set carries a private key member (`d`).
    PrivateKeyInPublicSet {
        /// The `kid` of the offending key.
        kid: String,
    },
    /// Two keys in one set share a `kid`.
    DuplicateKid(String),
    /// A `kid` that is not the key's RFC 7638 thumbprint.
    KidMismatch {
        /// The `kid` the document claimed.
        claimed: String,
        /// The thumbprint of the key.
        thumbprint: String,
    },
    /// A private JWK whose `x` is not the public key of its `d`.
    KeyPairMismatch,
    /// Not a key handle as `keygen` makes them (prefix, length, encoding).
    BadHandle,
    /// A key handle whose tag does not bind its public half to its secret:
    /// altered, or assembled by hand.
    HandleMismatch,
}

impl KeyError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            KeyError::Malformed(_) => ErrorCode::BadKey,
            KeyError::UnsupportedKeyType { .. } => ErrorCode::UnsupportedKeyType,
            KeyError::BadUse(_) => ErrorCode::BadKeyUse,
            KeyError::BadAlg(_) => ErrorCode::BadKeyAlg,
            KeyError::BadKeyMaterial(_) => ErrorCode::BadKey,
            KeyError::WeakKey => ErrorCode::WeakKey,
            KeyError::PrivateKeyInPublicSet { .. } => ErrorCode::PrivateKeyInPublicSet,
            KeyError::DuplicateKid(_) => ErrorCode::DuplicateKid,
            KeyError::KidMismatch { .. } => ErrorCode::KidMismatch,
            KeyError::KeyPairMismatch | KeyError::HandleMismatch => ErrorCode::KeyPairMismatch,
            KeyError::BadHandle => ErrorCode::BadKey,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Malformed(msg) => write!(f, "malformed jwk: {msg}"),
            KeyError::UnsupportedKeyType { kty, crv } => {
                write!(
                    f,
                    "unsupported key type `{kty}`/`{crv}`, expected `OKP`/`Ed25519`"
                )
            }
            KeyError::BadUse(u) => write!(f, "key use `{u}` does not allow signatures"),
            KeyError::BadAlg(a) => write!(f, "key algorithm `{a}` is not `EdDSA`"),
            KeyError::BadKeyMaterial(which) => {
                write!(f, "jwk member `{which}` is not a valid ed25519 key")
            }
            KeyError::WeakKey => f.write_str("public key has small order"),
            KeyError::PrivateKeyInPublicSet { kid } => {
                write!(f, "public key set contains a private key (`kid` `{kid}`)")
            }
            KeyError::DuplicateKid(kid) => write!(f, "duplicate `kid` `{kid}` in key set"),
            KeyError::KidMismatch {
                claimed,
                thumbprint,
            } => write!(
                f,
                "`kid` `{claimed}` is not the key's rfc 7638 thumbprint `{thumbprint}`"
            ),
            KeyError::KeyPairMismatch => f.write_str("jwk `x` is not the public key of `d`"),
            KeyError::BadHandle => write!(
                f,
                "not a key handle (`{HANDLE_PREFIX}` and {HANDLE_LEN} bytes of base64url, from `keygen`)"
            ),
            KeyError::HandleMismatch => {
                f.write_str("the key handle's public key is not bound to its secret (altered?)")
            }
        }
    }
}

/// The RFC 7638 thumbprint of an Ed25519 public key: the `kid` captoken uses.
///
/// The hashed text is the required members in lexicographic order with no
/// whitespace, as RFC 8037 §2 and RFC 7638 §3.2 prescribe.
pub fn thumbprint(key: &VerifyingKey) -> String {
    thumbprint_of(key.as_bytes())
}

/// The RFC 7638 thumbprint of an encoded Ed25519 public key.
pub fn thumbprint_of(x: &[u8; 32]) -> String {
    let x = b64::encode(x);
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    b64::encode(&Sha256::digest(canonical.as_bytes()))
}

/// The public JWK of a key, with `kid`, `alg` and `use` filled in.
pub fn public_jwk(key: &VerifyingKey) -> Value {
    object! {
        "kty" => "OKP",
        "crv" => "Ed25519",
        "x" => b64::encode(key.as_bytes()),
        "kid" => thumbprint(key),
        "alg" => "EdDSA",
        "use" => "sig",
    }
}

/// The private JWK of a key (RFC 8037 §2: `d` is the 32-byte seed).
pub fn private_jwk(key: &SigningKey) -> Value {
    let mut jwk = public_jwk(&key.verifying_key());
    if let Value::Object(map) = &mut jwk {
        map.insert("d".into(), Value::String(b64::encode(key.as_bytes())));
    }
    jwk
}

fn str_member<'a>(jwk: &'a Map, name: &str) -> Result<Option<&'a str>, KeyError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::Malformed(format!(
            "member `{name}` must be a string"
        ))),
    }
}

/// RFC 8032 §5.1.3: an encoding whose y (the low 255 bits, little-endian) is
/// not below p = 2^255 - 19 must not decode. dalek reduces it instead, which
/// would give one key several encodings and so several `kid`s. The other
/// non-canonical form (x = 0 with the sign bit set) only exists for the two
/// small-order points with x = 0, which `is_weak` refuses.
fn y_is_canonical(bytes: &[u8; 32]) -> bool {
    let [lo, mid @ .., hi] = *bytes;
    let y_ge_p = hi & 0x7f == 0x7f && mid.iter().all(|b| *b == 0xff) && lo >= 0xed;
    !y_ge_p
}

/// Checks every member that says what the key is for, and that `x` is 32
/// bytes in canonical encoding; returns those bytes, not yet decoded.
/// Whether a key set member is meant for Ed25519 signatures: the keys
/// [`KeySet::from_jwks`] loads (and checks strictly); it skips the others.
fn is_ed25519_signature_key(jwk: &Map) -> Result<bool, KeyError> {
    let ed25519 =
        str_member(jwk, "kty")? == Some("OKP") && str_member(jwk, "crv")? == Some("Ed25519");
    let for_signatures = str_member(jwk, "use")?.is_none_or(|u| u == "sig");
    let for_eddsa = str_member(jwk, "alg")?.is_none_or(|a| a == "EdDSA");
    let ops = match jwk.get("key_ops") {
        None => true,
        Some(ops) => ops
            .as_array()
            .ok_or_else(|| KeyError::Malformed("member `key_ops` must be an array".into()))?
            .iter()
            .any(|o| matches!(o.as_str(), Some("verify" | "sign"))),
    };
    Ok(ed25519 && for_signatures && for_eddsa && ops)
}

fn check_public_members(jwk: &Map) -> Result<[u8; 32], KeyError> {
    let kty = str_member(jwk, "kty")?.unwrap_or_default();
    let crv = str_member(jwk, "crv")?.unwrap_or_default();
    if kty != "OKP" || crv != "Ed25519" {
        return Err(KeyError::UnsupportedKeyType {
            kty: kty.into(),
            crv: crv.into(),
        });
    }
    if let Some(u) = str_member(jwk, "use")?
        && u != "sig"
    {
        return Err(KeyError::BadUse(u.into()));
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops
            .as_array()
            .ok_or_else(|| KeyError::Malformed("member `key_ops` must be an array".into()))?;
        if !ops
            .iter()
            .any(|o| matches!(o.as_str(), Some("verify" | "sign")))
        {
            return Err(KeyError::BadUse("key_ops".into()));
        }
    }
    if let Some(a) = str_member(jwk, "alg")?
        && a != "EdDSA"
    {
        return Err(KeyError::BadAlg(a.into()));
    }
    let x = str_member(jwk, "x")?.ok_or(KeyError::BadKeyMaterial("x"))?;
    let bytes = b64::decode_array::<32>(x).ok_or(KeyError::BadKeyMaterial("x"))?;
    if !y_is_canonical(&bytes) {
        return Err(KeyError::BadKeyMaterial("x"));
    }
    if let Some(kid) = str_member(jwk, "kid")? {
        let tp = thumbprint_of(&bytes);
        if kid != tp {
            return Err(KeyError::KidMismatch {
                claimed: kid.into(),
                thumbprint: tp,
            });
        }
    }
    Ok(bytes)
}

/// Decode a public key and refuse small-order points.
///
/// # Errors
/// [`KeyError::BadKeyMaterial`] when the bytes are not a canonical curve
/// point, [`KeyError::WeakKey`] when it has small order.
pub fn decode_public(bytes: &[u8; 32]) -> Result<VerifyingKey, KeyError> {
    if !y_is_canonical(bytes) {
        return Err(KeyError::BadKeyMaterial("x"));
    }
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::BadKeyMaterial("x"))?;
    if key.is_weak() {
        return Err(KeyError::WeakKey);
    }
    Ok(key)
}

fn as_object(jwk: &Value) -> Result<&Map, KeyError> {
    jwk.as_object()
        .ok_or_else(|| KeyError::Malformed("a jwk must be a json object".into()))
}

/// Read a public Ed25519 JWK. A `d` member is refused: a public key slot
/// that receives a private key is a leak waiting to be logged.
///
/// # Errors
/// [`KeyError`] when the JWK is not a valid, strong Ed25519 signature key.
pub fn verifying_key_from_jwk(jwk: &Value) -> Result<VerifyingKey, KeyError> {
    decode_public(&public_key_bytes_from_jwk(jwk)?)
}

/// Read a public Ed25519 JWK down to its checked 32-byte encoding, without
/// decoding the point (which costs a field exponentiation).
///
/// # Errors
/// As [`verifying_key_from_jwk`], except that point validity and small
/// order are left to [`decode_public`].
pub fn public_key_bytes_from_jwk(jwk: &Value) -> Result<[u8; 32], KeyError> {
    let map = as_object(jwk)?;
    let bytes = check_public_members(map)?;
    if map.contains_key("d") {
        return Err(KeyError::PrivateKeyInPublicSet {
            kid: thumbprint_of(&bytes),
        });
    }
    Ok(bytes)
}

/// Read a raw Ed25519 public key as people paste one: its 32 bytes in hex
/// (64 digits), standard base64 (padded or not) or base64url, checked to
/// be a canonical, strong curve point.
///
/// # Errors
/// [`KeyError::BadKeyMaterial`] when the text is none of these forms of 32
/// bytes or not a canonical point, [`KeyError::WeakKey`] for a small-order
/// point.
pub fn verifying_key_from_raw(text: &str) -> Result<VerifyingKey, KeyError> {
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let digits = core::str::from_utf8(pair).map_err(|_| KeyError::BadKeyMaterial("x"))?;
            *byte = u8::from_str_radix(digits, 16).map_err(|_| KeyError::BadKeyMaterial("x"))?;
        }
        bytes
    } else {
        // Standard base64 is base64url with two other letters, and padding
        // (one `=` for 32 bytes); the two alphabets never mix.
        let standard = text.contains(['+', '/']) || text.ends_with('=');
        if standard && text.contains(['-', '_']) {
            return Err(KeyError::BadKeyMaterial("x"));
        }
        let unpadded = text.strip_suffix('=').unwrap_or(text);
        let url: String = unpadded
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        b64::decode_array::<32>(&url).ok_or(KeyError::BadKeyMaterial("x"))?
    };
    decode_public(&bytes)
}

/// Read a private Ed25519 JWK.
///
/// # Errors
/// [`KeyError`] when the JWK is not an Ed25519 private key, or `x` does not
/// belong to `d`.
pub fn signing_key_from_jwk(jwk: &Value) -> Result<SigningKey, KeyError> {
    let map = as_object(jwk)?;
    let public = decode_public(&check_public_members(map)?)?;
    let d = str_member(map, "d")?.ok_or(KeyError::BadKeyMaterial("d"))?;
    let seed = b64::decode_array::<32>(d).ok_or(KeyError::BadKeyMaterial("d"))?;
    let key = SigningKey::from_bytes(&seed);
    if key.verifying_key() != public {
        return Err(KeyError::KeyPairMismatch);
    }
    Ok(key)
}

/// What every key handle starts with: a reader (or a secret scanner) can
/// tell one from a JWK or a token at a glance.
pub const HANDLE_PREFIX: &str = "ckh1.";

/// The bytes after the prefix: seed, public key, tag.
pub const HANDLE_LEN: usize = 32 + 32 + 16;

/// Separates the handle tag from every other hash of the same seed.
const HANDLE_DOMAIN: &[u8] = b"captoken key handle v1\0";

fn handle_tag(seed: &[u8; 32], public: &[u8; 32]) -> [u8; 16] {
    let digest = Sha512::new()
        .chain_update(HANDLE_DOMAIN)
        .chain_update(seed)
        .chain_update(public)
        .finalize();
    let mut tag = [0; 16];
    for (t, d) in tag.iter_mut().zip(digest.iter()) {
        *t = *d;
    }
    tag
}

/// A signing key read once and reused: `keygen` answers it as a string
/// (`ckh1.` + base64url of seed, public key and a 16-byte tag) and every
/// operation that signs takes that string as its `key`.
///
/// Reading a private JWK derives the public key from the seed (a basepoint
/// multiplication, as costly as the signature itself) to check `x`. A
/// handle carries the public key, bound to the seed by the tag
/// `SHA-512(domain, seed, public)`, so reading one costs hashes and a point
/// decompression. The tag is what makes carrying the public key safe: an
/// Ed25519 signer handed a public key that is not its own leaks its secret
/// (two signatures of one message under two public keys give it away), and
/// only someone who knows the seed can make a tag for another public key,
/// which they need not do to sign. A handle is as secret as the seed in it.
pub struct KeyHandle {
    expanded: ExpandedSecretKey,
    public: VerifyingKey,
}

impl fmt::Debug for KeyHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyHandle")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl KeyHandle {
    /// The handle text of `key`.
    pub fn text_of(key: &SigningKey) -> String {
        let seed = key.as_bytes();
        let public = key.verifying_key().to_bytes();
        let mut bytes = Vec::with_capacity(HANDLE_LEN);
        bytes.extend_from_slice(seed);
        bytes.extend_from_slice(&public);
        bytes.extend_from_slice(&handle_tag(seed, &public));
        let text = format!("{HANDLE_PREFIX}{}", b64::encode(&bytes));
        bytes.fill(0);
        text
    }

    /// The key read from a private JWK (`x` already checked against `d`).
    pub fn of(key: &SigningKey) -> Self {
        KeyHandle {
            expanded: ExpandedSecretKey::from(key.as_bytes()),
            public: key.verifying_key(),
        }
    }

    /// Read a handle made by [`KeyHandle::text_of`].
    ///
    /// # Errors
    /// [`KeyError::BadHandle`] when `text` is not a handle;
    /// [`KeyError::HandleMismatch`] when its tag does not bind its public
    /// key to its seed.
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        let body = text
            .strip_prefix(HANDLE_PREFIX)
            .ok_or(KeyError::BadHandle)?;
        let mut bytes = b64::decode_array::<HANDLE_LEN>(body).ok_or(KeyError::BadHandle)?;
        let (seed, rest) = bytes.split_first_chunk::<32>().ok_or(KeyError::BadHandle)?;
        let (public, tag) = rest.split_first_chunk::<32>().ok_or(KeyError::BadHandle)?;
        let tag: &[u8; 16] = tag.try_into().map_err(|_| KeyError::BadHandle)?;
        let public = *public;
        // Compared without an early exit: the tag is what stands between a
        // caller who can alter the public half and the secret.
        let diff = tag
            .iter()
            .zip(handle_tag(seed, &public))
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        let tagged = diff == 0;
        let expanded = ExpandedSecretKey::from(seed);
        bytes.fill(0);
        if !tagged {
            return Err(KeyError::HandleMismatch);
        }
        Ok(KeyHandle {
            expanded,
            public: decode_public(&public)?,
        })
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.public
    }

    /// The Ed25519 signature of `message` (RFC 8032 §5.1.6), the same bytes
    /// `SigningKey::sign` gives for the seed.
    pub fn sign(&self, message: &[u8]) -> Signature {
        hazmat::raw_sign::<Sha512>(&self.expanded, message, &self.public)
    }
}

/// A key trusted to sign tokens for one issuer, with an optional window.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrustedKey {
    kid: String,
    key: VerifyingKey,
    not_before: Option<i64>,
    not_after: Option<i64>,
}

impl TrustedKey {
    /// Trust `key` from `not_before` (inclusive) until `not_after` (exclusive).
    pub fn new(key: VerifyingKey, not_before: Option<i64>, not_after: Option<i64>) -> Self {
        TrustedKey {
            kid: thumbprint(&key),
            key,
            not_before,
            not_after,
        }
    }
    /// The key's `kid` (its thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }
    /// The times `now` for which [`TrustedKey::in_window`] holds with
    /// `leeway`: from the first (inclusive) to the second (exclusive).
    pub fn window(&self, leeway: i64) -> (i64, i64) {
        (
            self.not_before
                .map_or(i64::MIN, |nbf| nbf.saturating_sub(leeway)),
            self.not_after
                .map_or(i64::MAX, |end| end.saturating_add(leeway)),
        )
    }

    /// Whether the key may vouch for tokens at `now`, give or take `leeway`.
    pub fn in_window(&self, now: i64, leeway: i64) -> bool {
        let started = self
            .not_before
            .is_none_or(|nbf| now.saturating_add(leeway) >= nbf);
        let not_ended = self
            .not_after
            .is_none_or(|end| now.saturating_sub(leeway) < end);
        started && not_ended
    }
}

/// The keys one issuer signs with: what a verifier trusts, and nothing else.
///
/// Rotation: publish the new key beside the old one, and give the old one a
/// `exp` (our JWK extension member, seconds since the epoch) at which
/// verifiers stop accepting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySet {
    issuer: String,
    /// Other names the same issuer goes by (a verifier told to accept
    /// several `iss` values for one key set).
    aliases: Vec<String>,
    keys: Vec<TrustedKey>,
}

fn window_member(jwk: &Map, name: &str) -> Result<Option<i64>, KeyError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| KeyError::Malformed(format!("member `{name}` must be an integer"))),
    }
}

impl KeySet {
    /// An empty set for `issuer`.
    pub fn new(issuer: impl Into<String>) -> Self {
        KeySet {
            issuer: issuer.into(),
            aliases: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// Add a key.
    ///
    /// # Errors
    /// [`KeyError::DuplicateKid`] when the set already has this key.
    pub fn insert(&mut self, key: TrustedKey) -> Result<(), KeyError> {
        if self.get(key.kid()).is_some() {
            return Err(KeyError::DuplicateKid(key.kid.clone()));
        }
        self.keys.push(key);
        Ok(())
    }

    /// Load a public JWKS (`{"keys": [...]}`) whose Ed25519 signature keys
    /// sign for `issuer`.
    ///
    /// Keys that are not for Ed25519 signatures (another `kty` or `crv`, a
    /// `use` other than `sig`, `key_ops` without `verify` or `sign`, an `alg`
    /// other than `EdDSA`) are skipped, so an issuer's set that also holds
    /// RSA, EC or encryption keys loads; they can never verify a token.
    ///
    /// # Errors
    /// [`KeyError`] for the first Ed25519 signature key that is malformed, a
    /// private key of any type (`d`, or a symmetric key's `k`: a set that
    /// publishes a secret is refused, not trimmed), or a duplicate `kid`.
    /// One bad Ed25519 key refuses the whole set: a half-loaded set hides the
    /// mistake until rotation day.
    pub fn from_jwks(issuer: impl Into<String>, jwks: &Value) -> Result<Self, KeyError> {
        let keys = jwks
            .as_object()
            .and_then(|m| m.get("keys"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                KeyError::Malformed("a jwks must be an object with a `keys` array".into())
            })?;
        let mut set = KeySet::new(issuer);
        for jwk in keys {
            let map = as_object(jwk)?;
            if !is_ed25519_signature_key(map)? {
                if map.contains_key("d") || map.contains_key("k") {
                    return Err(KeyError::PrivateKeyInPublicSet {
                        kid: str_member(map, "kid")?.unwrap_or_default().into(),
                    });
                }
                continue;
            }
            if let Some(kid) = str_member(map, "kid")?
                && set.get(kid).is_some()
            {
                return Err(KeyError::DuplicateKid(kid.to_string()));
            }
            let key = verifying_key_from_jwk(jwk)?;
            let trusted =
                TrustedKey::new(key, window_member(map, "nbf")?, window_member(map, "exp")?);
            set.insert(trusted)?;
        }
        Ok(set)
    }

    /// The public JWKS of this set, windows included.
    pub fn to_jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                let mut jwk = public_jwk(&k.key);
                if let Value::Object(map) = &mut jwk {
                    if let Some(nbf) = k.not_before {
                        map.insert("nbf".into(), nbf.into());
                    }
                    if let Some(exp) = k.not_after {
                        map.insert("exp".into(), exp.into());
                    }
                }
                jwk
            })
            .collect();
        object! { "keys" => keys }
    }

    /// The issuer these keys sign for.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Accept `iss` values of `issuer` too, for tokens and revocation lists
    /// signed by these keys.
    #[must_use]
    pub fn also_issuer(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        if !self.signs_for(&issuer) {
            self.aliases.push(issuer);
        }
        self
    }

    /// Whether these keys sign for an `iss` of `iss`.
    pub fn signs_for(&self, iss: &str) -> bool {
        self.issuer == iss || self.aliases.iter().any(|a| a == iss)
    }

    /// Every issuer name these keys sign for, for an error message.
    pub fn issuer_names(&self) -> String {
        let mut names = self.issuer.clone();
        for alias in &self.aliases {
            names.push_str("` or `");
            names.push_str(alias);
        }
        names
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// All keys.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }
}
