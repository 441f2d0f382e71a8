//! JWK / JWKS import: what a verifier trusts, and what it refuses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use captoken_core::KeySet;
use captoken_core::keys::{
    self, private_jwk, public_jwk, signing_key_from_jwk, thumbprint, verifying_key_from_jwk,
};
use common::*;
mod lit;
use captoken_core::json::{Map, Value};
use lit::json;

fn jwks_code(jwks: Value) -> &'static str {
    match KeySet::from_jwks(ISS, &jwks) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

fn with(f: impl FnOnce(&mut Map)) -> Value {
    let mut jwk = public_jwk(&issuer_key().verifying_key());
    f(jwk.as_object_mut().unwrap());
    json!({ "keys": [jwk] })
}

#[test]
fn a_public_set_round_trips() {
    let set = KeySet::from_jwks(ISS, &json!({ "keys": [public_jwk(&issuer_key().verifying_key()), public_jwk(&holder_key().verifying_key())] })).unwrap();
    assert_eq!(set.keys().len(), 2);
    assert_eq!(KeySet::from_jwks(ISS, &set.to_jwks()).unwrap(), set);
    // Members that are optional in RFC 8037 may be absent.
    let bare = with(|m| {
        m.remove("kid");
        m.remove("alg");
        m.remove("use");
    });
    assert_eq!(jwks_code(bare), "ok");
}

#[test]
fn private_keys_are_refused_in_a_public_set() {
    let jwks = json!({ "keys": [private_jwk(&issuer_key())] });
    assert_eq!(jwks_code(jwks), "private_key_in_public_set");
}

/// Every way a key can be meant for something else than Ed25519
/// signatures, with the code the single-key reader refuses it with.
fn foreign_keys() -> Vec<(Value, &'static str)> {
    let mutated = |f: &dyn Fn(&mut Map)| {
        let mut jwk = public_jwk(&issuer_key().verifying_key());
        f(jwk.as_object_mut().unwrap());
        jwk
    };
    vec![
        (
            mutated(&|m| {
                m.insert("kty".into(), "RSA".into());
            }),
            "unsupported_key_type",
        ),
        (
            mutated(&|m| {
                m.insert("kty".into(), "EC".into());
            }),
            "unsupported_key_type",
        ),
        (
            mutated(&|m| {
                m.insert("crv".into(), "X25519".into());
            }),
            "unsupported_key_type",
        ),
        (
            mutated(&|m| {
                m.insert("crv".into(), "Ed448".into());
            }),
            "unsupported_key_type",
        ),
        (
            mutated(&|m| {
                m.remove("kty");
            }),
            "unsupported_key_type",
        ),
        (
            mutated(&|m| {
                m.insert("use".into(), "enc".into());
            }),
            "bad_key_use",
        ),
        (
            mutated(&|m| {
                m.insert("key_ops".into(), json!(["encrypt"]));
            }),
            "bad_key_use",
        ),
        (
            mutated(&|m| {
                m.insert("alg".into(), "ES256".into());
            }),
            "bad_key_alg",
        ),
        (
            mutated(&|m| {
                m.insert("alg".into(), "none".into());
            }),
            "bad_key_alg",
        ),
    ]
}

#[test]
fn a_key_for_another_type_curve_use_or_alg_is_refused_alone() {
    for (jwk, expected) in foreign_keys() {
        let got = verifying_key_from_jwk(&jwk)
            .map(|_| ())
            .map_err(|e| e.code());
        assert_eq!(got, Err(expected), "{jwk}");
    }
}

#[test]
fn a_set_skips_keys_for_anything_but_ed25519_signatures() {
    let holder = public_jwk(&holder_key().verifying_key());
    for (jwk, _) in foreign_keys() {
        // Beside an Ed25519 key: the set loads that key only, so the
        // foreign key can never verify a token.
        let set =
            KeySet::from_jwks(ISS, &json!({ "keys": [jwk.clone(), holder.clone()] })).unwrap();
        assert_eq!(set.keys().len(), 1, "{jwk}");
        assert_eq!(
            set.keys()[0].kid(),
            thumbprint(&holder_key().verifying_key())
        );
        // Alone: an empty set, which verifies nothing.
        let alone = KeySet::from_jwks(ISS, &json!({ "keys": [jwk.clone()] })).unwrap();
        assert!(alone.keys().is_empty(), "{jwk}");
    }
}

#[test]
fn a_set_that_publishes_a_secret_of_any_type_is_refused() {
    let rsa_private = json!({ "kty": "RSA", "kid": "r1", "n": "AQAB", "e": "AQAB", "d": "AQAB" });
    let symmetric = json!({ "kty": "oct", "kid": "h1", "k": "c2VjcmV0" });
    let holder = public_jwk(&holder_key().verifying_key());
    for secret in [rsa_private, symmetric] {
        assert_eq!(
            jwks_code(json!({ "keys": [holder.clone(), secret.clone()] })),
            "private_key_in_public_set",
            "{secret}"
        );
    }
    // A malformed Ed25519 key still refuses the whole set.
    assert_eq!(
        jwks_code(json!({ "keys": [holder, { "kty": "OKP", "crv": "Ed25519", "x": "short" }] })),
        "bad_key"
    );
}

#[test]
fn duplicate_kids_are_refused() {
    let jwk = public_jwk(&issuer_key().verifying_key());
    assert_eq!(
        jwks_code(json!({ "keys": [jwk.clone(), jwk] })),
        "duplicate_kid"
    );
}

#[test]
fn kid_must_be_the_thumbprint() {
    assert_eq!(
        jwks_code(with(|m| {
            m.insert("kid".into(), "signing-key-2026-01".into());
        })),
        "kid_mismatch"
    );
}

#[test]
fn bad_key_material_is_refused() {
    assert_eq!(
        jwks_code(with(|m| {
            m.insert("x".into(), "AAAA".into());
        })),
        "bad_key"
    );
    assert_eq!(
        jwks_code(with(|m| {
            m.remove("x");
        })),
        "bad_key"
    );
    assert_eq!(
        jwks_code(with(|m| {
            m.insert("x".into(), 5.into());
        })),
        "bad_key"
    );
    // The identity point has small order: any signature would "verify".
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(
        jwks_code(with(|m| {
            m.remove("kid");
            m.insert("x".into(), captoken_core::b64::encode(&identity).into());
        })),
        "weak_key"
    );
    assert_eq!(jwks_code(json!({ "keys": {} })), "bad_key");
    assert_eq!(jwks_code(json!([])), "bad_key");
}

#[test]
fn private_jwk_must_match_its_public_half() {
    let good = private_jwk(&issuer_key());
    assert_eq!(
        signing_key_from_jwk(&good).unwrap().to_bytes(),
        issuer_key().to_bytes()
    );
    let mut swapped = good.clone();
    swapped["x"] = public_jwk(&holder_key().verifying_key())["x"].clone();
    swapped.as_object_mut().unwrap().remove("kid");
    assert_eq!(
        signing_key_from_jwk(&swapped).unwrap_err().code(),
        "key_pair_mismatch"
    );
    assert_eq!(
        signing_key_from_jwk(&public_jwk(&issuer_key().verifying_key()))
            .unwrap_err()
            .code(),
        "bad_key"
    );
}

#[test]
fn kid_is_the_rfc7638_thumbprint_of_the_public_jwk() {
    let key = issuer_key().verifying_key();
    assert_eq!(public_jwk(&key)["kid"], thumbprint(&key));
    assert_eq!(verifying_key_from_jwk(&public_jwk(&key)).unwrap(), key);
    assert_ne!(
        thumbprint(&key),
        keys::thumbprint(&holder_key().verifying_key())
    );
}

#[test]
fn non_canonical_key_encodings_are_refused() {
    // y = p + 3 (found by the CCTV/Wycheproof sweep): decodes to the same
    // point as `03 00..00` under a lenient decoder, with another thumbprint.
    let jwk =
        json!({"kty": "OKP", "crv": "Ed25519", "x": "8P_______________________________________38"});
    assert_eq!(verifying_key_from_jwk(&jwk).unwrap_err().code(), "bad_key");
    let mut canonical = [0u8; 32];
    canonical[0] = 3;
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": captoken_core::b64::encode(&canonical)});
    assert!(verifying_key_from_jwk(&jwk).is_ok());
}

#[test]
fn a_raw_public_key_reads_from_hex_base64_and_base64url() {
    let key = issuer_key().verifying_key();
    let bytes = key.as_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let url = captoken_core::b64::encode(bytes);
    let standard = format!("{}=", url.replace('-', "+").replace('_', "/"));
    for text in [
        hex.clone(),
        hex.to_uppercase(),
        url.clone(),
        standard.clone(),
        standard.trim_end_matches('=').to_owned(),
    ] {
        assert_eq!(keys::verifying_key_from_raw(&text).unwrap(), key, "{text}");
    }
    let code = |text: &str| {
        keys::verifying_key_from_raw(text)
            .map(|_| ())
            .map_err(|e| e.code())
    };
    // Short, long, padded twice, or two alphabets at once: refused.
    assert_eq!(code(&hex[..62]), Err("bad_key"));
    assert_eq!(code(&format!("{hex}00")), Err("bad_key"));
    assert_eq!(code(&format!("{standard}=")), Err("bad_key"));
    // The key's own text with one `-` among standard base64's letters and
    // padding: the two alphabets never mix.
    let mixed = format!("{}-{}", &standard[..20], &standard[21..]).replace('_', "A");
    assert!(mixed.contains('-') && mixed.ends_with('='));
    assert_eq!(code(&mixed), Err("bad_key"));
    // The identity point has small order.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let identity: String = identity.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(code(&identity), Err("weak_key"));
}
