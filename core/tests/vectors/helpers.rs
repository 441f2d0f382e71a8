//! Shared by every module: reading vector files, raw `verify_strict` and
//! `verify`, result codes, HMAC-SHA256, `did:key`, and a real captoken issuer.

use std::collections::BTreeMap;

use captoken_core::b64;
use captoken_core::jws::{self, Limits};
use captoken_core::keys::{self, KeyError};
use captoken_core::{KeySet, SigningKey, SliceEntropy, TokenIssuer, TokenRequest, TrustedKey};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A vector file's JSON as the core's value type.
pub(crate) fn cv(v: &Value) -> captoken_core::json::Value {
    serde_json::from_value(v.clone()).unwrap()
}

pub(crate) fn verifying_key_from_jwk(jwk: &Value) -> Result<VerifyingKey, KeyError> {
    keys::verifying_key_from_jwk(&cv(jwk))
}

pub(crate) fn signing_key_from_jwk(jwk: &Value) -> Result<SigningKey, KeyError> {
    keys::signing_key_from_jwk(&cv(jwk))
}

pub(crate) fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex `{s}`: {e}"))
}

pub(crate) fn str_at<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("member `{key}` is not a string in {v}"))
}

pub(crate) fn array_at<'v>(v: &'v Value, key: &str) -> &'v Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("member `{key}` is not an array"))
}

/// `verify_strict` over raw bytes; a key or signature of the wrong length,
/// or a key that does not decode, counts as a rejection.
pub(crate) fn strict_accepts(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pk), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    key.verify_strict(msg, &Signature::from_bytes(&sig)).is_ok()
}

/// The permissive `verify` (cofactorless, accepts small-order keys), pinned
/// beside `verify_strict` to show what the strict variant buys.
pub(crate) fn lax_accepts(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    use ed25519_dalek::Verifier as _;
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pk), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    key.verify(msg, &Signature::from_bytes(&sig)).is_ok()
}

/// A bare public Ed25519 JWK (no `kid`) for raw key bytes.
pub(crate) fn okp_jwk(pk: &[u8]) -> Value {
    json!({ "kty": "OKP", "crv": "Ed25519", "x": b64::encode(pk) })
}

/// The stable code of a `Result` from any captoken layer, `"ok"` on success.
pub(crate) fn code<T, E>(r: &Result<T, E>, code_of: impl Fn(&E) -> &'static str) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => code_of(e),
    }
}

pub(crate) fn parse_code(token: &str) -> &'static str {
    code(&jws::parse(token, &Limits::default()), |e| e.code())
}

pub(crate) fn tally<'a>(codes: impl IntoIterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut m = BTreeMap::new();
    for c in codes {
        *m.entry(c).or_insert(0) += 1;
    }
    m
}

/// HMAC-SHA256 (RFC 2104), by hand: 15 lines beat a dependency for one test.
/// Checked against RFC 7515 A.1 in `rfc7515_hs256_and_unsecured_are_refused`.
pub(crate) fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer);
    out
}

/// Base58btc (Bitcoin alphabet), for UCAN `did:key` issuers.
pub(crate) fn base58btc_decode(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut le: Vec<u8> = Vec::new();
    for c in s.bytes() {
        let mut carry = u32::try_from(ALPHABET.iter().position(|&a| a == c)?).ok()?;
        for b in &mut le {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            le.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; s.bytes().take_while(|&c| c == b'1').count()];
    out.extend(le.iter().rev());
    Some(out)
}

/// The Ed25519 key of a `did:key:z6Mk…` (multicodec `0xed 0x01` + 32 bytes).
pub(crate) fn did_key_ed25519(did: &str) -> Option<[u8; 32]> {
    let raw = base58btc_decode(did.strip_prefix("did:key:z")?)?;
    let key = raw.strip_prefix(&[0xed, 0x01])?;
    key.try_into().ok()
}

pub(crate) const ISS: &str = "https://gw.example";
pub(crate) const AUD: &str = "robot-gateway";
pub(crate) const NOW: i64 = 1_700_000_000;

pub(crate) fn issuer_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

pub(crate) fn issuer_keyset() -> KeySet {
    let mut keys = KeySet::new(ISS);
    keys.insert(TrustedKey::new(issuer_key().verifying_key(), None, None))
        .unwrap();
    keys
}

pub(crate) fn issue_real_token() -> String {
    let holder = SigningKey::from_bytes(&[9; 32]).verifying_key();
    let request = TokenRequest::from_json(
        cv(&json!({
            "sub": "operator-1", "aud": AUD,
            "cnf": { "jwk": keys::public_jwk(&holder) },
            "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }],
        }))
        .as_object()
        .unwrap()
        .clone(),
    )
    .unwrap();
    TokenIssuer::new(&issuer_key(), ISS)
        .issue(request, NOW, 300, &mut SliceEntropy::new(&[42; 16]))
        .unwrap()
        .token
}
