//! JWS compact serialization (RFC 7515 §7.1) restricted to EdDSA.
//!
//! This layer knows nothing of captoken claims: it is what RFC 8037's
//! examples exercise. It enforces the algorithm allow-list and refuses every
//! header that would let the token choose its own key.

use alloc::string::String;
use alloc::vec::Vec;

use crate::json::{Map, Value};
use alloc::string::ToString;
use ed25519_dalek::{Signature, VerifyingKey};
use signature::Signer;

use crate::b64;
use crate::error::{Part, TokenError};
use crate::json;

/// Bounds applied before any parsing or cryptography.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest token accepted, in bytes.
    pub max_token_len: usize,
    /// Deepest JSON nesting accepted in header and payload.
    pub max_json_depth: usize,
}

impl Limits {
    /// A token's bounds. 16 KiB leaves room for a depth-3 delegation chain
    /// carried inside a token; a bearer token bigger than that is an attack
    /// or a mistake.
    pub const TOKEN: Limits = Limits {
        max_token_len: 16 * 1024,
        max_json_depth: 16,
    };

    /// Refuse a text (a token, or a whole chain) longer than these limits
    /// allow, before anything in it is read.
    ///
    /// # Errors
    /// [`TokenError::TooLarge`].
    pub fn check_len(&self, text: &str) -> Result<(), TokenError> {
        if text.len() > self.max_token_len {
            return Err(TokenError::TooLarge {
                len: text.len(),
                max: self.max_token_len,
            });
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::TOKEN
    }
}

/// Header members that would make the token carry or point at its own key.
/// Trusting any of them lets the attacker sign with a key of their choosing.
const KEY_CARRYING: &[&str] = &["jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256"];

/// A compact JWS whose structure and header policy have been checked, and
/// whose signature has not.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Compact<'t> {
    /// The protected header.
    pub header: Map,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the signed bytes.
    pub signing_input: &'t str,
    /// The decoded payload (unauthenticated until `verify_signature`).
    pub payload: Vec<u8>,
    signature: Signature,
}

fn decode(part: Part, text: &str) -> Result<Vec<u8>, TokenError> {
    b64::decode(text.as_bytes()).map_err(|err| TokenError::Base64 { part, err })
}

/// Parse a compact JWS and apply the EdDSA-only header policy.
///
/// # Errors
/// See the verification order in `docs/FORMAT.md`: size, segment count,
/// base64url, header JSON, `alg`, key-carrying headers, `crit`, signature
/// encoding.
pub fn parse<'t>(token: &'t str, limits: &Limits) -> Result<Compact<'t>, TokenError> {
    limits.check_len(token)?;
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed(
            "a token has exactly three `.`-separated segments",
        ));
    };
    let header_bytes = decode(Part::Header, h64)?;
    let header = json::parse_object(&header_bytes, limits.max_json_depth).map_err(|err| {
        TokenError::Json {
            part: Part::Header,
            err,
        }
    })?;

    match header.get("alg") {
        Some(Value::String(alg)) if alg == "EdDSA" => {}
        Some(Value::String(alg)) => return Err(TokenError::UnsupportedAlg(alg.clone())),
        _ => return Err(TokenError::UnsupportedAlg(String::new())),
    }
    if let Some(name) = KEY_CARRYING.iter().find(|n| header.contains_key(n)) {
        return Err(TokenError::UntrustedKeyHeader(name));
    }
    // We implement no JWS extension, so any `crit` names one we don't know
    // (RFC 7515 §4.1.11 requires rejecting it); a malformed `crit` too.
    if header.contains_key("crit") {
        return Err(TokenError::UnknownCrit);
    }

    let payload = decode(Part::Payload, p64)?;
    let sig_bytes = decode(Part::Signature, s64)?;
    let sig: [u8; 64] = sig_bytes.try_into().map_err(|_| TokenError::BadSignature)?;
    let signing_input = token
        .get(..h64.len() + 1 + p64.len())
        .ok_or(TokenError::Malformed("truncated"))?;
    Ok(Compact {
        header,
        signing_input,
        payload,
        signature: Signature::from_bytes(&sig),
    })
}

impl Compact<'_> {
    /// Check the signature with `verify_strict`: it refuses small-order keys
    /// and the non-canonical encodings that make signatures malleable.
    ///
    /// # Errors
    /// [`TokenError::BadSignature`], deliberately without detail.
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<(), TokenError> {
        key.verify_strict(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| TokenError::BadSignature)
    }
}

/// Sign `payload` under `header` (written with sorted keys, no whitespace)
/// and return the compact serialization.
///
/// # Errors
/// [`TokenError::SigningFailed`] when the signer fails.
pub fn sign_compact<S: Signer<Signature> + ?Sized>(
    header: &Map,
    payload: &[u8],
    signer: &S,
) -> Result<String, TokenError> {
    let header_bytes = json::object_to_vec(header);
    let mut token = b64::encode(&header_bytes);
    token.push('.');
    token.push_str(&b64::encode(payload));
    let signature = signer
        .try_sign(token.as_bytes())
        .map_err(|_| TokenError::SigningFailed)?;
    token.push('.');
    token.push_str(&b64::encode(&signature.to_bytes()));
    Ok(token)
}

/// The length of the compact serialization [`sign_compact`] makes of
/// `header` and a payload of `payload_len` bytes, before signing.
pub fn compact_len(header: &Map, payload_len: usize) -> usize {
    let b64_len = |n: usize| n.saturating_mul(4).div_ceil(3);
    b64_len(json::object_to_vec(header).len())
        .saturating_add(1)
        .saturating_add(b64_len(payload_len))
        .saturating_add(1)
        .saturating_add(b64_len(64))
}

/// The EdDSA header `{"alg":"EdDSA","kid":kid,"typ":typ}`.
pub fn header(typ: &str, kid: &str) -> Map {
    let mut map = Map::new();
    map.insert("alg".to_string(), "EdDSA".into());
    map.insert("kid".to_string(), kid.into());
    map.insert("typ".to_string(), typ.into());
    map
}

/// The members a captoken-family header has, and no others.
const TYPED_HEADER_MEMBERS: &[&str] = &["alg", "typ", "kid"];

/// The header policy shared by every JWS this crate reads (tokens,
/// revocation lists, presentations): no member beyond `alg`, `typ` and
/// `kid`, `typ` exactly `typ` (so one kind can never pass for another), and
/// a non-empty `kid`, which is returned.
///
/// # Errors
/// [`TokenError::BadHeader`], [`TokenError::BadTyp`], [`TokenError::MissingKid`].
pub fn typed_kid(header: &Map, typ: &'static str) -> Result<String, TokenError> {
    if let Some(extra) = header
        .keys()
        .find(|k| !TYPED_HEADER_MEMBERS.contains(&k.as_str()))
    {
        return Err(TokenError::BadHeader(extra.clone()));
    }
    match header.get("typ") {
        Some(Value::String(t)) if t == typ => {}
        found => {
            return Err(TokenError::BadTyp {
                expected: typ,
                found: found.map(|v| match v {
                    Value::String(t) => t.clone(),
                    other => other.to_string(),
                }),
            });
        }
    }
    match header.get("kid") {
        Some(Value::String(k)) if !k.is_empty() => Ok(k.clone()),
        _ => Err(TokenError::MissingKid),
    }
}

/// A signed document of kind `typ` (a revocation list, a status list)
/// checked up to its payload: size, structure and the header policy
/// ([`parse`], [`typed_kid`]), its `kid` trusted in `keys`, the signature,
/// the key's window at `now` give or take `leeway`, and the payload a
/// strict JSON object. Returns the `kid` and the payload.
///
/// # Errors
/// The first [`TokenError`] met in that order.
pub(crate) fn verify_document(
    text: &str,
    keys: &crate::keys::KeySet,
    typ: &'static str,
    limits: &Limits,
    now: i64,
    leeway: i64,
) -> Result<(String, Map), TokenError> {
    let jws = parse(text, limits)?;
    let kid = typed_kid(&jws.header, typ)?;
    let trusted = keys
        .get(&kid)
        .ok_or_else(|| TokenError::UnknownKid(kid.clone()))?;
    jws.verify_signature(trusted.key())?;
    if !trusted.in_window(now, leeway) {
        return Err(TokenError::KeyNotValid(kid));
    }
    let payload = json::parse_object(&jws.payload, limits.max_json_depth).map_err(|err| {
        TokenError::Json {
            part: Part::Payload,
            err,
        }
    })?;
    Ok((kid, payload))
}
