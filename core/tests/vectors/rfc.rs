//! RFC examples (8032, 8037, 7515) through the key, JWS and token layers, and
//! an HS256 token MACed with the issuer's public key.

use std::collections::BTreeMap;

use captoken_core::b64;
use captoken_core::jws::{self, Limits};
use captoken_core::keys::{self, thumbprint};
use captoken_core::{KeySet, SigningKey, TrustedKey, Verifier};
use ed25519_dalek::Signer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::helpers::*;
use super::support;

// ---------------------------------------------------------------------------
// 4. RFC examples
// ---------------------------------------------------------------------------

#[test]
fn rfc8032_test_1_to_3_sign_and_verify() {
    let Some(dir) = support::vectors_dir("rfc8032_test_1_to_3_sign_and_verify") else {
        return;
    };
    let doc = support::read_json(&dir, "rfc/rfc-examples.json");
    let cases = array_at(&doc, "rfc8032_ed25519");
    assert_eq!(cases.len(), 3);
    for c in cases {
        let name = str_at(c, "name");
        let sk: [u8; 32] = unhex(str_at(c, "secret_key")).try_into().unwrap();
        let key = SigningKey::from_bytes(&sk);
        assert_eq!(
            key.verifying_key().as_bytes().to_vec(),
            unhex(str_at(c, "public_key")),
            "{name}"
        );
        let msg = unhex(str_at(c, "message"));
        let sig = key.sign(&msg);
        assert_eq!(
            sig.to_bytes().to_vec(),
            unhex(str_at(c, "signature")),
            "{name}"
        );
        assert!(
            key.verifying_key().verify_strict(&msg, &sig).is_ok(),
            "{name}"
        );
        // One more message byte and the same signature is refused.
        let mut longer = msg.clone();
        longer.push(0);
        assert!(
            key.verifying_key().verify_strict(&longer, &sig).is_err(),
            "{name}"
        );
    }
}

#[test]
fn rfc8037_keys_and_thumbprint() {
    let Some(dir) = support::vectors_dir("rfc8037_keys_and_thumbprint") else {
        return;
    };
    let doc = support::read_json(&dir, "rfc/rfc-examples.json");
    let a = &doc["rfc8037_appendix_a"];
    let private = signing_key_from_jwk(&a["A.1_private_jwk"]).unwrap();
    let public = verifying_key_from_jwk(&a["A.2_public_jwk"]).unwrap();
    assert_eq!(private.verifying_key(), public);
    // RFC 8037's key is RFC 8032 TEST 1's.
    let test1 = &array_at(&doc, "rfc8032_ed25519")[0];
    assert_eq!(
        private.to_bytes().to_vec(),
        unhex(str_at(test1, "secret_key"))
    );

    let tp = str_at(a, "A.3_thumbprint_sha256_b64url");
    assert_eq!(thumbprint(&public), tp);
    assert_eq!(
        b64::encode(&Sha256::digest(
            str_at(a, "A.3_thumbprint_input").as_bytes()
        )),
        tp
    );

    // The thumbprint is the only `kid` captoken accepts for this key.
    let mut with_kid = a["A.2_public_jwk"].clone();
    with_kid["kid"] = tp.into();
    assert_eq!(verifying_key_from_jwk(&with_kid).unwrap(), public);
    with_kid["kid"] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4j".into();
    assert_eq!(
        verifying_key_from_jwk(&with_kid).unwrap_err().code(),
        "kid_mismatch"
    );
    // The private JWK is refused where a public key is expected.
    assert_eq!(
        verifying_key_from_jwk(&a["A.1_private_jwk"])
            .unwrap_err()
            .code(),
        "private_key_in_public_set"
    );
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[test]
fn rfc8037_jws_verifies_and_every_signature_flip_fails() {
    let Some(dir) = support::vectors_dir("rfc8037_jws_verifies_and_every_signature_flip_fails")
    else {
        return;
    };
    let doc = support::read_json(&dir, "rfc/rfc-examples.json");
    let a = &doc["rfc8037_appendix_a"];
    assert_eq!(a["A.5_expected"], "valid");
    let token = str_at(a, "A.4_jws_compact");
    let key = verifying_key_from_jwk(&a["A.2_public_jwk"]).unwrap();

    let jws = jws::parse(token, &Limits::default()).unwrap();
    jws.verify_signature(&key).unwrap();
    assert_eq!(jws.payload, str_at(a, "A.4_payload").as_bytes());
    let header: Value = serde_json::from_str(str_at(a, "A.4_protected_header")).unwrap();
    assert_eq!(
        captoken_core::json::Value::Object(jws.header.clone()),
        cv(&header)
    );

    // Ed25519 is deterministic: signing the same input reproduces the RFC's JWS.
    let private = signing_key_from_jwk(&a["A.1_private_jwk"]).unwrap();
    let sig = private.sign(jws.signing_input.as_bytes());
    assert_eq!(
        format!("{}.{}", jws.signing_input, b64::encode(&sig.to_bytes())),
        token
    );

    // Flip each signature character to two other alphabet characters.
    let sig_start = token.rfind('.').unwrap() + 1;
    let mut codes = Vec::new();
    for i in sig_start..token.len() {
        let idx = B64URL
            .iter()
            .position(|&c| c == token.as_bytes()[i])
            .unwrap();
        for step in [1, 32] {
            let mut bytes = token.as_bytes().to_vec();
            bytes[i] = B64URL[(idx + step) % 64];
            let mutated = String::from_utf8(bytes).unwrap();
            let result =
                jws::parse(&mutated, &Limits::default()).and_then(|j| j.verify_signature(&key));
            let c = code(&result, |e| e.code());
            assert!(
                matches!(c, "bad_signature" | "bad_base64"),
                "flip at {i} (+{step}): `{c}`"
            );
            codes.push(c);
        }
    }
    assert_eq!(token.len() - sig_start, 86);
    // Only the last character has unused bits; +1 sets them (non-canonical),
    // +32 changes real bits.
    assert_eq!(
        tally(codes),
        BTreeMap::from([("bad_base64", 1), ("bad_signature", 171)])
    );

    // The full token verifier refuses the same JWS for its missing `typ`,
    // even with the RFC key trusted: explicit typing, not a key failure.
    let mut keyset = KeySet::new("rfc8037");
    keyset.insert(TrustedKey::new(key, None, None)).unwrap();
    let err = Verifier::new(&keyset, "aud")
        .verify(token, 1_700_000_000)
        .unwrap_err();
    assert_eq!(err.code(), "bad_typ");
}

#[test]
fn rfc7515_hs256_and_unsecured_are_refused() {
    let Some(dir) = support::vectors_dir("rfc7515_hs256_and_unsecured_are_refused") else {
        return;
    };
    let doc = support::read_json(&dir, "rfc/rfc-examples.json");
    let keyset = issuer_keyset();
    let verifier = Verifier::new(&keyset, AUD);

    let none = str_at(
        &doc["rfc7515_appendix_A5_rfc7519_6_1_unsecured"],
        "jws_compact",
    );
    assert!(
        none.ends_with('.'),
        "alg:none has an empty signature segment"
    );
    assert_eq!(parse_code(none), "unsupported_alg");
    assert_eq!(
        verifier.verify(none, NOW).unwrap_err().code(),
        "unsupported_alg"
    );

    let hs = &doc["rfc7515_appendix_A1_hs256"];
    let hs_token = str_at(hs, "jws_compact");
    assert_eq!(parse_code(hs_token), "unsupported_alg");
    assert_eq!(
        verifier.verify(hs_token, NOW).unwrap_err().code(),
        "unsupported_alg"
    );

    // The hand-rolled HMAC used by the key-confusion test reproduces A.1.
    let k = b64::decode(str_at(&hs["jwk"], "k").as_bytes()).unwrap();
    let (input, sig) = hs_token.rsplit_once('.').unwrap();
    assert_eq!(b64::encode(&hmac_sha256(&k, input.as_bytes())), sig);
}

// ---------------------------------------------------------------------------
// Key confusion: an HS256 token MACed with the issuer's *public* key
// ---------------------------------------------------------------------------

/// The classic RS256→HS256 confusion, transposed to EdDSA: a verifier that
/// let the header pick the algorithm would MAC with the "key" it holds, the
/// public key. Every spelling of that public key as an HMAC secret is tried.
#[test]
fn hs256_key_confusion_with_public_key_is_refused() {
    let token = issue_real_token();
    let keyset = issuer_keyset();
    let verifier = Verifier::new(&keyset, AUD);
    // Baseline: the untouched token verifies, so any refusal below is the forgery's.
    verifier.verify(&token, NOW + 10).unwrap();

    let public = issuer_key().verifying_key();
    let kid = thumbprint(&public);
    let payload64 = token.split('.').nth(1).unwrap();
    let header = json!({ "alg": "HS256", "kid": kid, "typ": "captoken+jwt" }).to_string();
    let input = format!("{}.{payload64}", b64::encode(header.as_bytes()));

    let jwk_text = keys::public_jwk(&public).to_string();
    let jwks_text = keyset.to_jwks().to_string();
    let x_text = b64::encode(public.as_bytes());
    let secrets: [&[u8]; 4] = [
        public.as_bytes(),
        jwk_text.as_bytes(),
        jwks_text.as_bytes(),
        x_text.as_bytes(),
    ];
    for secret in secrets {
        let forged = format!(
            "{input}.{}",
            b64::encode(&hmac_sha256(secret, input.as_bytes()))
        );
        assert_eq!(parse_code(&forged), "unsupported_alg");
        assert_eq!(
            verifier.verify(&forged, NOW + 10).unwrap_err().code(),
            "unsupported_alg"
        );
    }

    // Keeping `alg: EdDSA` and attaching the 32-byte MAC is just a bad signature.
    let honest_header = token.split('.').next().unwrap();
    let input = format!("{honest_header}.{payload64}");
    let forged = format!(
        "{input}.{}",
        b64::encode(&hmac_sha256(public.as_bytes(), input.as_bytes()))
    );
    assert_eq!(
        verifier.verify(&forged, NOW + 10).unwrap_err().code(),
        "bad_signature"
    );
}
