//! Issuing and reading lists: the signed fields, canonical signing, the
//! issuer's own refusals, and size limits on both sides.

use captoken_core::b64;
use captoken_core::jws::Limits;
use captoken_core::keys;
use captoken_core::revocation::{
    self, RevocationError, RevocationList, RevocationListIssuer, RevocationListVerifier,
    RevokedEntry, verify_list,
};

use super::common::*;
use super::support::*;

#[test]
fn baseline_raw_list_is_accepted() {
    assert_eq!(
        verify_code(&sign_values(&list_header(), &list_payload())),
        "fresh"
    );
}

#[test]
fn signed_list_verifies_fresh_with_its_fields() {
    let text = sign(&list(7));
    let checked = verify_list(&text, &keyset(), NOW, None);
    assert!(!checked.as_ref().unwrap().is_stale());
    assert_eq!(checked.as_ref().unwrap().seq(), 7);
    let verified = fresh(checked);
    assert_eq!(verified.iss(), ISS);
    assert_eq!(
        verified.kid(),
        keys::thumbprint(&issuer_key().verifying_key())
    );
    assert_eq!(verified.seq(), 7);
    assert_eq!(verified.iat(), NOW);
    assert_eq!(verified.next_update(), NEXT);
    // Written sorted by `jti`, whatever order they were given in.
    let jtis: Vec<&str> = verified.entries().iter().map(|e| e.jti.as_str()).collect();
    assert_eq!(jtis, [jti(1), jti(2), jti(3)]);
    assert_eq!(
        verified.entry(&jti(3)),
        Some(&RevokedEntry::new(jti(3), NOW - 10).reason("key compromise"))
    );
}

#[test]
fn signing_is_canonical() {
    let text = sign(&list(7));
    let header = b64::decode(text.split('.').next().unwrap().as_bytes()).unwrap();
    let kid = keys::thumbprint(&issuer_key().verifying_key());
    assert_eq!(
        String::from_utf8(header).unwrap(),
        format!(r#"{{"alg":"EdDSA","kid":"{kid}","typ":"captoken-rl+jwt"}}"#)
    );
    let mut reordered = list(7);
    reordered.revoked.reverse();
    assert_eq!(sign(&reordered), text);
    let payload = b64::decode(text.split('.').nth(1).unwrap().as_bytes()).unwrap();
    assert_eq!(
        String::from_utf8(payload).unwrap(),
        format!(
            concat!(
                r#"{{"iat":{now},"iss":"{iss}","next_update":{next},"revoked":["#,
                r#"{{"jti":"{j1}","revoked_at":{r1}}},"#,
                r#"{{"jti":"{j2}","reason":"operator left","revoked_at":{r2}}},"#,
                r#"{{"jti":"{j3}","reason":"key compromise","revoked_at":{r3}}}"#,
                r#"],"seq":7,"ver":1}}"#
            ),
            now = NOW,
            iss = ISS,
            next = NEXT,
            j1 = jti(1),
            j2 = jti(2),
            j3 = jti(3),
            r1 = NOW - 30,
            r2 = NOW - 20,
            r3 = NOW - 10,
        )
    );
    assert_eq!(
        RevocationListIssuer::new(&issuer_key()).kid(),
        keys::thumbprint(&issuer_key().verifying_key())
    );
}

#[test]
fn issuer_refuses_lists_that_would_not_verify() {
    let key = issuer_key();
    let issuer = RevocationListIssuer::new(&key);
    let dup = list(1).revoke(RevokedEntry::new(jti(2), NOW));
    let err = issuer.sign(&dup).unwrap_err();
    assert_eq!(err.code(), "bad_revocation_list");
    assert_eq!(
        err.to_string(),
        format!(
            "revocation list `revoked` is invalid: `{}` is listed twice",
            jti(2)
        )
    );
    for bad in [
        RevocationList::new("", 1, NOW, NEXT),
        RevocationList::new(ISS, 1 << 53, NOW, NEXT),
        RevocationList::new(ISS, 1, NOW, NOW),
        RevocationList::new(ISS, 1, -1, NEXT),
        RevocationList::new(ISS, 1, NOW, 1 << 53),
        list(1).revoke(RevokedEntry::new("not-a-jti", NOW)),
        list(1).revoke(RevokedEntry::new(jti(9), -5)),
        list(1).revoke(RevokedEntry::new(jti(9), NOW).reason("")),
    ] {
        assert_eq!(
            issuer.sign(&bad).unwrap_err().code(),
            "bad_revocation_list",
            "{bad:?}"
        );
    }
}

#[test]
fn size_is_checked_first() {
    let text = sign(&list(7));
    let keys = keyset();
    let small = RevocationListVerifier::new(&keys).limits(Limits {
        max_token_len: text.len() - 1,
        ..revocation::DEFAULT_LIMITS
    });
    assert_eq!(code(small.verify(&text, NOW, None)), "token_too_large");
    let exact = RevocationListVerifier::new(&keys).limits(Limits {
        max_token_len: text.len(),
        ..revocation::DEFAULT_LIMITS
    });
    assert_eq!(code(exact.verify(&text, NOW, None)), "fresh");
    let huge = "a".repeat(revocation::DEFAULT_LIMITS.max_token_len + 1);
    assert_eq!(verify_code(&huge), "token_too_large");
}

#[test]
fn a_large_list_round_trips() {
    let mut big = RevocationList::new(ISS, 1, NOW, NEXT);
    for i in 0..2000u32 {
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&i.to_be_bytes());
        big.revoked
            .push(RevokedEntry::new(b64::encode(&bytes), NOW - i64::from(i)));
    }
    let verified = fresh(verify_list(&sign(&big), &keyset(), NOW, None));
    assert_eq!(verified.entries().len(), 2000);
    for i in [0u32, 1, 999, 1999] {
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&i.to_be_bytes());
        assert!(verified.is_revoked(&b64::encode(&bytes)));
    }
    assert!(!verified.is_revoked(&jti(0xff)));
}

/// `n` distinct entries, all the same length.
fn big_list(n: u32) -> RevocationList {
    (0..n).fold(RevocationList::new(ISS, 1, NOW, NEXT), |list, i| {
        let mut id = [7u8; 16];
        id[..4].copy_from_slice(&i.to_be_bytes());
        list.revoke(RevokedEntry::new(b64::encode(&id), NOW - 10))
    })
}

#[test]
fn a_list_too_long_for_verifiers_is_refused_before_signing() {
    let issuer_key = issuer_key();
    let issuer = RevocationListIssuer::new(&issuer_key);
    let max = revocation::MAX_SIGNED_LEN;
    // Room for a token and a key set beside it in one 1 MiB request.
    assert!(max <= revocation::DEFAULT_LIMITS.max_token_len - 64 * 1024);
    // The most entries that still fit, by bisection.
    let (mut fits, mut too_many) = (1u32, 40_000u32);
    assert!(issuer.sign(&big_list(fits)).is_ok());
    assert!(issuer.sign(&big_list(too_many)).is_err());
    while too_many - fits > 1 {
        let mid = fits + (too_many - fits) / 2;
        match issuer.sign(&big_list(mid)) {
            Ok(_) => fits = mid,
            Err(_) => too_many = mid,
        }
    }
    // The longest list signed is one verifiers accept, and close to the limit.
    let text = issuer.sign(&big_list(fits)).unwrap();
    assert!(
        text.len() <= max && text.len() > max - 100,
        "{}",
        text.len()
    );
    assert_eq!(
        fresh(verify_list(&text, &keyset(), NOW, None))
            .entries()
            .len(),
        fits as usize
    );
    // One entry more is refused with the length it would have had.
    match issuer.sign(&big_list(too_many)) {
        Err(
            err @ RevocationError::TooLarge {
                len,
                max: limit,
                entries,
            },
        ) => {
            assert_eq!((limit, entries), (max, too_many as usize));
            assert!(len > max && len <= text.len() + 100, "{len}");
            assert_eq!(err.code(), "revocation_list_too_large");
            assert!(
                err.to_string().contains(&format!("{too_many} entries")),
                "{err}"
            );
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}
