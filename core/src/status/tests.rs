//! Status lists signed, read back, refused.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
use super::*;
use crate::keys::TrustedKey;
use ed25519_dalek::SigningKey;

const URI: &str = "https://gateway.example/v1/status-lists/0";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn keys(key: &SigningKey) -> KeySet {
    let mut set = KeySet::new("urn:captoken:gateway");
    set.insert(TrustedKey::new(key.verifying_key(), None, None))
        .unwrap();
    set
}

fn list(len: u64, revoked: &[u64]) -> StatusList {
    let mut list = StatusList::new("urn:captoken:gateway", URI, 1000, 1300, len).unwrap();
    for &idx in revoked {
        list.revoke(idx).unwrap();
    }
    list
}

#[test]
fn a_signed_list_reads_back_bit_for_bit() {
    let key = key();
    let text = StatusListIssuer::new(&key)
        .sign(&list(1_000_000, &[0, 7, 8, 999_999, 123_456]))
        .unwrap();
    let keys = keys(&key);
    let verified = StatusListVerifier::new(&keys)
        .verify(&text, URI, 1100)
        .unwrap()
        .require_fresh()
        .unwrap();
    let read = verified.list();
    assert_eq!(read.len(), 1_000_000);
    assert_eq!(read.revoked_count(), 5);
    for idx in [0, 7, 8, 999_999, 123_456] {
        assert!(read.is_revoked(idx).unwrap(), "{idx}");
    }
    for idx in [1, 6, 9, 999_998, 123_455, 500_000] {
        assert!(!read.is_revoked(idx).unwrap(), "{idx}");
    }
    assert_eq!(
        read.is_revoked(1_000_000),
        Err(StatusError::IndexOutOfRange {
            idx: 1_000_000,
            len: 1_000_000
        })
    );
    // Past `exp` it is stale, and says since when.
    let stale = StatusListVerifier::new(&keys)
        .verify(&text, URI, 1300)
        .unwrap();
    assert_eq!(
        stale.require_fresh(),
        Err(StatusError::Stale { since: 1300 })
    );
}

#[test]
fn another_list_another_key_or_a_token_is_refused() {
    let key = key();
    let keys = keys(&key);
    let text = StatusListIssuer::new(&key).sign(&list(8, &[3])).unwrap();
    let verifier = StatusListVerifier::new(&keys);
    let err = verifier.verify(&text, "https://gateway.example/v1/status-lists/1", 1100);
    assert_eq!(err.unwrap_err().code(), "wrong_status_list");
    let other = SigningKey::from_bytes(&[8; 32]);
    let forged = StatusListIssuer::new(&other).sign(&list(8, &[])).unwrap();
    assert_eq!(
        verifier.verify(&forged, URI, 1100).unwrap_err().code(),
        "unknown_kid"
    );
    // A revocation list's `typ` is not a status list's.
    let rl = crate::revocation::RevocationListIssuer::new(&key)
        .sign(&crate::revocation::RevocationList::new(
            "urn:captoken:gateway",
            1,
            1000,
            1300,
        ))
        .unwrap();
    assert_eq!(
        verifier.verify(&rl, URI, 1100).unwrap_err().code(),
        "bad_typ"
    );
    assert_eq!(
        verifier
            .verify(&text, URI, 900 - DEFAULT_LEEWAY)
            .unwrap_err()
            .code(),
        "issued_in_future"
    );
}

#[test]
fn a_million_tokens_with_ten_thousand_revoked_sign_under_64_kib() {
    let key = key();
    let mut big = list(1_000_000, &[]);
    let mut state = 3u64;
    while big.revoked_count() < 10_000 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        big.revoke((state >> 33) % 1_000_000).unwrap();
    }
    let text = StatusListIssuer::new(&key).sign(&big).unwrap();
    assert!(text.len() <= 64 * 1024, "{} bytes", text.len());
}

#[test]
fn a_malformed_payload_is_refused_with_its_path() {
    let key = key();
    let keys = keys(&key);
    let sign = |payload: &str| {
        jws::sign_compact(
            &jws::header(TYP, &keys::thumbprint(&key.verifying_key())),
            payload.as_bytes(),
            &key,
        )
        .unwrap()
    };
    let lst = b64::encode(&zlib::compress(&[0, 1]));
    let cases = [
        (
            format!(
                r#"{{"sub":"{URI}","iss":"urn:captoken:gateway","iat":1000,"exp":1300,"status_list":{{"bits":2,"lst":"{lst}"}}}}"#
            ),
            "status_list.bits",
        ),
        (
            format!(
                r#"{{"sub":"{URI}","iss":"urn:captoken:gateway","iat":1000,"exp":1300,"status_list":{{"bits":1,"lst":"AAAA"}}}}"#
            ),
            "status_list.lst",
        ),
        (
            format!(
                r#"{{"sub":"{URI}","iss":"urn:captoken:gateway","iat":1000,"exp":1300,"status_list":{{"bits":1,"lst":"{lst}","x":1}}}}"#
            ),
            "status_list.x",
        ),
        (
            format!(
                r#"{{"sub":"{URI}","iss":"urn:captoken:gateway","iat":1000,"status_list":{{"bits":1,"lst":"{lst}"}}}}"#
            ),
            "exp",
        ),
        (
            format!(
                r#"{{"sub":"{URI}","iss":"urn:captoken:gateway","iat":1000,"exp":1300,"aud":"x","status_list":{{"bits":1,"lst":"{lst}"}}}}"#
            ),
            "aud",
        ),
    ];
    for (payload, path) in cases {
        match StatusListVerifier::new(&keys).verify(&sign(&payload), URI, 1100) {
            Err(StatusError::BadList { path: found, .. }) => assert_eq!(found, path),
            other => panic!("{payload}: {other:?}"),
        }
    }
}
