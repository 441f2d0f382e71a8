//! Key handles: `keygen`'s `handle` signs exactly as its private JWK does,
//! in every operation that signs, and a handle whose public half was
//! changed is refused before anything is signed.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use captoken_core::SigningKey;
use captoken_core::b64;
use captoken_core::json::Value;
use captoken_core::keys::{HANDLE_LEN, HANDLE_PREFIX, KeyError, KeyHandle};
use ed25519_dalek::Signer;
use proptest::prelude::*;

mod lit;
use lit::json;

mod common;
use common::{AUD, ISS, NOW, op_call as call, op_key as key, op_ok as ok};

fn handle(n: u8) -> Value {
    key(n)["handle"].clone()
}

fn issue_request(signing: Value) -> Value {
    json!({
        "key": signing, "issuer": ISS, "now": NOW, "ttl": 300,
        "entropy": b64::encode(&[3; 16]),
        "claims": { "sub": "principal-2", "aud": AUD, "cnf": { "jwk": key(2)["public_jwk"] },
                    "caps": [{ "actions": ["drive", "stop"], "resources": ["robot:7"] }] }
    })
}

fn trust(token: &Value) -> Value {
    json!({ "token": token, "jwks": { "keys": [key(1)["public_jwk"]] }, "issuer": ISS,
            "audience": AUD, "now": NOW + 1 })
}

/// The request `op` signs with `signing` (a private JWK or a handle of the
/// key it names), for each operation that signs.
fn signing_requests(signing: impl Fn(u8) -> Value) -> Vec<(&'static str, Value)> {
    let root = ok("issue", &issue_request(key(1)["private_jwk"].clone()))["token"].clone();
    let mut delegate = trust(&root);
    let parent = delegate.as_object_mut().unwrap().remove("token").unwrap();
    delegate["parent"] = parent;
    delegate["key"] = signing(2);
    delegate["ttl"] = json!(60);
    delegate["entropy"] = json!(b64::encode(&[4; 16]));
    delegate["claims"] = json!({ "sub": "principal-3", "aud": AUD,
        "cnf": { "jwk": key(3)["public_jwk"] },
        "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }] });
    let mut refresh = trust(&root);
    refresh["key"] = signing(1);
    refresh["policy"] = json!({ "version": 1, "max_ttl": 120, "rules": [
        { "id": "drivers", "effect": "allow", "subjects": { "ids": ["principal-2"] },
          "capabilities": [{ "actions": ["drive"], "resources": ["robot:*"] }] } ] });
    refresh["ttl"] = json!(300);
    refresh["entropy"] = json!(b64::encode(&[6; 16]));
    vec![
        ("issue", issue_request(signing(1))),
        ("delegate", delegate),
        ("refresh", refresh),
        (
            "pop_create",
            json!({ "key": signing(2), "token": root, "audience": "svc", "nonce": "n1",
                    "now": NOW + 10, "entropy": b64::encode(&[5; 16]) }),
        ),
        (
            "revocation_list_sign",
            json!({ "key": signing(1), "list": { "iss": ISS, "seq": 1, "iat": NOW,
                    "next_update": NOW + 60, "revoked": [] } }),
        ),
    ]
}

#[test]
fn every_operation_that_signs_answers_the_same_bytes_with_a_handle() {
    let by_jwk = signing_requests(|n| key(n)["private_jwk"].clone());
    let by_handle = signing_requests(handle);
    for ((op, jwk_request), (_, handle_request)) in by_jwk.iter().zip(&by_handle) {
        assert!(
            handle_request["key"].as_str().is_some(),
            "{op} is given the handle"
        );
        assert_eq!(ok(op, jwk_request), ok(op, handle_request), "{op}");
    }
}

/// `handle` with its bytes after the prefix changed by `edit`.
fn edited(handle: &Value, edit: impl Fn(&mut [u8; HANDLE_LEN])) -> Value {
    let text = handle.as_str().unwrap();
    let mut bytes = b64::decode_array::<HANDLE_LEN>(&text[HANDLE_PREFIX.len()..]).unwrap();
    edit(&mut bytes);
    json!(format!("{HANDLE_PREFIX}{}", b64::encode(&bytes)))
}

#[test]
fn a_handle_whose_public_half_or_tag_was_changed_signs_nothing() {
    let other = key(5)["handle"].clone();
    let other_public = {
        let text = other.as_str().unwrap();
        b64::decode_array::<HANDLE_LEN>(&text[HANDLE_PREFIX.len()..]).unwrap()
    };
    let cases = [
        // Key 1's seed paired with key 5's public key and its tag: the pair
        // a signer must never sign with (it would leak key 1's secret).
        (
            "another key's public half",
            edited(&handle(1), |b| b[32..].copy_from_slice(&other_public[32..])),
        ),
        ("one public byte", edited(&handle(1), |b| b[40] ^= 1)),
        (
            "one tag byte",
            edited(&handle(1), |b| b[HANDLE_LEN - 1] ^= 0x80),
        ),
        ("one seed byte", edited(&handle(1), |b| b[0] ^= 1)),
    ];
    for (case, bad) in cases {
        for (op, mut request) in signing_requests(handle) {
            request["key"] = bad.clone();
            assert_eq!(
                call(op, &request).unwrap_err(),
                "key_pair_mismatch",
                "{case}: {op}"
            );
        }
    }
}

#[test]
fn text_that_is_not_a_handle_is_bad_key() {
    let good = handle(1);
    let text = good.as_str().unwrap();
    let body = &text[HANDLE_PREFIX.len()..];
    for bad in [
        String::new(),
        body.to_string(),
        format!("ckh2.{body}"),
        format!("{HANDLE_PREFIX}{}", &body[1..]),
        format!("{text}A"),
        format!("{HANDLE_PREFIX}{}=", body),
        text.replace('-', "+").replace('_', "/"),
        key(1)["private_jwk"]["d"].as_str().unwrap().to_string(),
    ] {
        if bad == text {
            continue;
        }
        let err = KeyHandle::from_text(&bad).unwrap_err();
        assert_eq!(err, KeyError::BadHandle, "{bad:?}");
        let mut request = issue_request(json!(bad));
        assert_eq!(call("issue", &request).unwrap_err(), "bad_key", "{bad:?}");
        request["key"] = json!(42);
        assert_eq!(call("issue", &request).unwrap_err(), "bad_key");
    }
}

#[test]
fn a_handle_is_not_printed() {
    let text = handle(1);
    let read = KeyHandle::from_text(text.as_str().unwrap()).unwrap();
    let printed = format!("{read:?}");
    let seed = &text.as_str().unwrap()[HANDLE_PREFIX.len()..][..40];
    assert!(!printed.contains(seed), "{printed}");
    assert!(printed.starts_with("KeyHandle"), "{printed}");
}

proptest! {
    #[test]
    fn a_handle_signs_what_its_seed_signs(seed in any::<[u8; 32]>(), message in proptest::collection::vec(any::<u8>(), 0..300)) {
        let key = SigningKey::from_bytes(&seed);
        let read = KeyHandle::from_text(&KeyHandle::text_of(&key)).unwrap();
        prop_assert_eq!(read.verifying_key(), key.verifying_key());
        prop_assert_eq!(read.sign(&message), key.sign(&message));
    }
}
