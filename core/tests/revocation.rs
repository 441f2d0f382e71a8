//! Revocation by `jti` and the signed revocation list: every refusal with
//! its stable code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeSet;

use captoken_core::Delegation;
use captoken_core::b64;
use captoken_core::jws::Limits;
use captoken_core::keys;
use captoken_core::revocation::{
    self, CheckedList, RevocationCheck, RevocationError, RevocationList, RevocationListIssuer,
    RevocationListVerifier, RevokedEntry, VerifiedRevocationList, check_chain, verify_list,
};
use captoken_core::{KeySet, SigningKey, TrustedKey};
use common::*;
mod lit;
use captoken_core::json::{Map, Value};
use lit::json;

const NEXT: i64 = NOW + 3600;

fn jti(n: u8) -> String {
    b64::encode(&[n; 16])
}

fn list(seq: u64) -> RevocationList {
    RevocationList::new(ISS, seq, NOW, NEXT)
        .revoke(RevokedEntry::new(jti(3), NOW - 10).reason("key compromise"))
        .revoke(RevokedEntry::new(jti(1), NOW - 30))
        .revoke(RevokedEntry::new(jti(2), NOW - 20).reason("operator left"))
}

fn sign(list: &RevocationList) -> String {
    RevocationListIssuer::new(&issuer_key()).sign(list).unwrap()
}

fn code(result: Result<CheckedList, RevocationError>) -> &'static str {
    match result {
        Ok(CheckedList::Fresh(_)) => "fresh",
        Ok(CheckedList::Stale { .. }) => "stale",
        Err(e) => e.code(),
    }
}

fn verify_code(text: &str) -> &'static str {
    code(verify_list(text, &keyset(), NOW, None))
}

fn fresh(result: Result<CheckedList, RevocationError>) -> VerifiedRevocationList {
    match result.unwrap() {
        CheckedList::Fresh(list) => list,
        other => panic!("expected a fresh list, got {other:?}"),
    }
}

fn list_header() -> Value {
    json!({ "alg": "EdDSA", "typ": "captoken-rl+jwt", "kid": keys::thumbprint(&issuer_key().verifying_key()) })
}

fn list_payload() -> Value {
    json!({
        "ver": 1, "iss": ISS, "seq": 7, "iat": NOW, "next_update": NEXT,
        "revoked": [
            { "jti": jti(1), "revoked_at": NOW - 30 },
            { "jti": jti(2), "revoked_at": NOW - 20, "reason": "operator left" },
        ],
    })
}

fn with_payload(f: impl FnOnce(&mut Map)) -> String {
    let mut p = list_payload();
    f(p.as_object_mut().unwrap());
    sign_values(&list_header(), &p)
}

fn with_entry(f: impl FnOnce(&mut Map)) -> String {
    with_payload(|p| f(p["revoked"][1].as_object_mut().unwrap()))
}

fn with_header(f: impl FnOnce(&mut Map)) -> String {
    let mut h = list_header();
    f(h.as_object_mut().unwrap());
    sign_values(&h, &list_payload())
}

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
fn revoked_jtis_are_found_and_others_are_not() {
    let verified = fresh(verify_list(&sign(&list(7)), &keyset(), NOW, None));
    for n in [1, 2, 3] {
        assert!(verified.is_revoked(&jti(n)));
        assert!(RevocationCheck::is_revoked(&verified, &jti(n)));
    }
    for n in [0, 4, 42] {
        assert!(!verified.is_revoked(&jti(n)));
        assert_eq!(verified.entry(&jti(n)), None);
    }
    assert!(!verified.is_revoked(""));
    // The issued token's `jti` is `[42; 16]`: not revoked by this list.
    let token = verifier(&keyset())
        .verify(&issue_at(NOW, 300), NOW)
        .unwrap();
    check_chain([token.claims().jti.as_str()], &verified).unwrap();

    let revoking_it = RevocationList::new(ISS, 8, NOW, NEXT)
        .revoke(RevokedEntry::new(token.claims().jti.clone(), NOW));
    let verified = fresh(verify_list(&sign(&revoking_it), &keyset(), NOW, Some(7)));
    let err = check_chain([token.claims().jti.as_str()], &verified).unwrap_err();
    assert_eq!(err.code(), "revoked");
    assert_eq!(
        err,
        RevocationError::Revoked {
            jti: token.claims().jti.clone()
        }
    );
    assert_eq!(
        err.to_string(),
        format!("token `{}` is revoked", token.claims().jti)
    );
}

#[test]
fn an_empty_list_revokes_nothing() {
    let text = sign(&RevocationList::new(ISS, 0, NOW, NEXT));
    let verified = fresh(verify_list(&text, &keyset(), NOW, None));
    assert!(verified.entries().is_empty());
    assert!(!verified.is_revoked(&jti(1)));
}

#[test]
fn check_chain_refuses_a_revoked_ancestor() {
    let (root, parent, leaf) = (jti(1), jti(2), jti(3));
    let mut store = BTreeSet::new();
    check_chain([root.as_str(), parent.as_str(), leaf.as_str()], &store).unwrap();
    check_chain([], &store).unwrap();

    store.insert(parent.clone());
    let err = check_chain([root.as_str(), parent.as_str(), leaf.as_str()], &store).unwrap_err();
    assert_eq!(
        err,
        RevocationError::Revoked {
            jti: parent.clone()
        }
    );
    assert_eq!(err.code(), "revoked");
    // The parent's sibling branch is untouched.
    check_chain([root.as_str(), jti(4).as_str()], &store).unwrap();

    // The first revoked `jti` is the one reported.
    store.insert(root.clone());
    let err = check_chain([root.as_str(), parent.as_str(), leaf.as_str()], &store).unwrap_err();
    assert_eq!(err, RevocationError::Revoked { jti: root });
}

#[test]
fn staleness_is_an_explicit_outcome() {
    let text = sign(&list(7));
    assert_eq!(code(verify_list(&text, &keyset(), NEXT - 1, None)), "fresh");
    let checked = verify_list(&text, &keyset(), NEXT, None).unwrap();
    assert!(checked.is_stale());
    assert_eq!(checked.seq(), 7);
    let CheckedList::Stale { list, since } = checked.clone() else {
        panic!("expected stale");
    };
    assert_eq!(since, NEXT);
    assert!(list.is_revoked(&jti(1)));

    // Failing closed on staleness is one call.
    let err = checked.clone().require_fresh().unwrap_err();
    assert_eq!(err, RevocationError::Stale { since: NEXT });
    assert_eq!(err.code(), "revocation_list_stale");
    // Accepting a stale list is one visibly named call.
    assert!(checked.allow_stale().is_revoked(&jti(2)));
    assert_eq!(
        code(verify_list(&text, &keyset(), NEXT + 86_400, None)),
        "stale"
    );
    // Leeway does not stretch freshness.
    let keys = keyset();
    let lenient = RevocationListVerifier::new(&keys).leeway(300);
    assert_eq!(code(lenient.verify(&text, NEXT, None)), "stale");
}

#[test]
fn an_older_list_is_a_rollback() {
    let text = sign(&list(4));
    let err = verify_list(&text, &keyset(), NOW, Some(5)).unwrap_err();
    assert_eq!(
        err,
        RevocationError::Rollback {
            seq: 4,
            last_seen: 5
        }
    );
    assert_eq!(err.code(), "revocation_list_rollback");
    assert_eq!(
        code(verify_list(&text, &keyset(), NOW, Some(4))),
        "fresh",
        "the same list again is fine"
    );
    assert_eq!(code(verify_list(&text, &keyset(), NOW, Some(3))), "fresh");
    assert_eq!(code(verify_list(&text, &keyset(), NOW, Some(0))), "fresh");
    assert_eq!(code(verify_list(&text, &keyset(), NOW, None)), "fresh");
    // Rollback is judged before staleness: an old stale list is still a rollback.
    assert_eq!(
        code(verify_list(&text, &keyset(), NEXT, Some(5))),
        "revocation_list_rollback"
    );
    assert_eq!(code(verify_list(&text, &keyset(), NEXT, Some(4))), "stale");
}

#[test]
fn tampering_breaks_the_signature() {
    let text = sign(&list(7));
    let parts: Vec<&str> = text.split('.').collect();

    // Un-revoke a token by dropping its entry, keeping the signature.
    let mut payload: Value =
        serde_json::from_slice(&b64::decode(parts[1].as_bytes()).unwrap()).unwrap();
    payload["revoked"].as_array_mut().unwrap().remove(0);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64::encode(payload.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(verify_code(&forged), "bad_signature");

    // Bump `seq` to get past a rollback floor.
    let mut payload: Value =
        serde_json::from_slice(&b64::decode(parts[1].as_bytes()).unwrap()).unwrap();
    payload["seq"] = json!(1000);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64::encode(payload.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(verify_code(&forged), "bad_signature");

    let mut sig = b64::decode(parts[2].as_bytes()).unwrap();
    sig[0] ^= 1;
    let forged = format!("{}.{}.{}", parts[0], parts[1], b64::encode(&sig));
    assert_eq!(verify_code(&forged), "bad_signature");
}

#[test]
fn a_token_is_not_a_list() {
    let token = issue_at(NOW, 300);
    let err = verify_list(&token, &keyset(), NOW, None).unwrap_err();
    assert_eq!(err.code(), "bad_typ");
    assert_eq!(
        err,
        RevocationError::Token(captoken_core::TokenError::BadTyp {
            expected: captoken_core::revocation::TYP,
            found: Some("captoken+jwt".into())
        })
    );
    assert_eq!(
        err.to_string(),
        "header `typ` is `captoken+jwt`, expected `captoken-rl+jwt`"
    );
}

#[test]
fn a_list_is_not_a_token() {
    let text = sign(&list(7));
    // Pinned: the token verifier refuses it on `typ`, before any key lookup.
    assert_eq!(code_of(&text), "bad_typ");
    // Even a list dressed in a token's `typ` header fails the token schema.
    let mut h = list_header();
    h["typ"] = json!("captoken+jwt");
    let dressed = sign_values(&h, &list_payload());
    assert_eq!(code_of(&dressed), "missing_exp");
    assert_eq!(verify_code(&dressed), "bad_typ");
}

#[test]
fn typ_is_required_and_exact() {
    for typ in [
        json!("captoken-rl+JWT"),
        json!("application/captoken-rl+jwt"),
        json!("captoken-pop+jwt"),
        json!("JWT"),
        json!(1),
        json!(null),
    ] {
        let text = with_header(|h| {
            h.insert("typ".into(), typ.clone());
        });
        assert_eq!(verify_code(&text), "bad_typ", "typ {typ}");
    }
    let text = with_header(|h| {
        h.remove("typ");
    });
    let err = verify_list(&text, &keyset(), NOW, None).unwrap_err();
    assert_eq!(
        err,
        RevocationError::Token(captoken_core::TokenError::BadTyp {
            expected: captoken_core::revocation::TYP,
            found: None
        })
    );
}

#[test]
fn header_policy_applies() {
    let text = with_header(|h| {
        h.insert("cty".into(), json!("x"));
    });
    assert_eq!(verify_code(&text), "bad_header");
    let text = with_header(|h| {
        h.insert("alg".into(), json!("none"));
    });
    assert_eq!(verify_code(&text), "unsupported_alg");
    let text = with_header(|h| {
        h.insert(
            "jwk".into(),
            keys::public_jwk(&issuer_key().verifying_key()),
        );
    });
    assert_eq!(verify_code(&text), "untrusted_key_header");
    let text = with_header(|h| {
        h.insert("crit".into(), json!(["exp"]));
    });
    assert_eq!(verify_code(&text), "unknown_crit");
    let text = with_header(|h| {
        h.remove("kid");
    });
    assert_eq!(verify_code(&text), "missing_kid");
    assert_eq!(verify_code("a.b"), "malformed_token");
}

#[test]
fn unknown_members_are_refused() {
    let text = with_payload(|p| {
        p.insert("note".into(), json!("x"));
    });
    let err = verify_list(&text, &keyset(), NOW, None).unwrap_err();
    assert_eq!(err.code(), "bad_revocation_list");
    assert_eq!(
        err.to_string(),
        "revocation list `note` is invalid: is not a member of a revocation list"
    );
    let text = with_entry(|e| {
        e.insert("sub".into(), json!("operator-1"));
    });
    let err = verify_list(&text, &keyset(), NOW, None).unwrap_err();
    assert_eq!(
        err,
        RevocationError::BadList {
            path: "revoked[1].sub".into(),
            reason: "is not a member of a revocation entry".into()
        }
    );
}

#[test]
fn required_members_and_types() {
    for member in ["ver", "iss", "seq", "iat", "next_update", "revoked"] {
        let text = with_payload(|p| {
            p.remove(member);
        });
        assert_eq!(
            verify_code(&text),
            "bad_revocation_list",
            "without {member}"
        );
    }
    for (member, value) in [
        ("ver", json!(2)),
        ("ver", json!("1")),
        ("iss", json!("")),
        ("iss", json!(["a"])),
        ("revoked", json!({})),
        ("revoked", json!(null)),
        ("revoked", json!([1])),
    ] {
        let text = with_payload(|p| {
            p.insert(member.into(), value.clone());
        });
        assert_eq!(
            verify_code(&text),
            "bad_revocation_list",
            "{member}: {value}"
        );
    }
    for (member, value) in [
        ("jti", json!(1)),
        ("jti", json!("")),
        ("jti", json!("short")),
        ("jti", json!(b64::encode(&[1; 15]))),
        ("jti", json!(format!("{}=", b64::encode(&[1; 16])))),
        ("reason", json!(1)),
        ("reason", json!("")),
        ("reason", json!(null)),
    ] {
        let text = with_entry(|e| {
            e.insert(member.into(), value.clone());
        });
        assert_eq!(
            verify_code(&text),
            "bad_revocation_list",
            "{member}: {value}"
        );
    }
    let text = with_entry(|e| {
        e.remove("jti");
    });
    assert_eq!(verify_code(&text), "bad_revocation_list");
}

#[test]
fn dates_and_seq_must_be_safe_integers() {
    let max = (1i64 << 53) - 1;
    for member in ["iat", "next_update", "seq"] {
        for value in [
            json!(1.5),
            json!(-1),
            json!("1700000000"),
            json!(max + 1),
            json!(null),
        ] {
            let text = with_payload(|p| {
                p.insert(member.into(), value.clone());
            });
            assert_eq!(
                verify_code(&text),
                "bad_revocation_list",
                "{member}: {value}"
            );
        }
    }
    for value in [json!(1.5), json!(-1), json!("1"), json!(max + 1)] {
        let text = with_entry(|e| {
            e.insert("revoked_at".into(), value.clone());
        });
        assert_eq!(
            verify_code(&text),
            "bad_revocation_list",
            "revoked_at: {value}"
        );
    }
    // Floats that happen to be whole are still floats.
    let kid = keys::thumbprint(&issuer_key().verifying_key());
    let header = format!(r#"{{"alg":"EdDSA","kid":"{kid}","typ":"captoken-rl+jwt"}}"#);
    for (iat, next, at) in [
        ("1700000000.0", "1700003600", "1"),
        ("1700000000", "1.7000036e9", "1"),
        ("1700000000", "1700003600", "1.0"),
    ] {
        let payload = format!(
            r#"{{"ver":1,"iss":"{ISS}","seq":1,"iat":{iat},"next_update":{next},"revoked":[{{"jti":"{}","revoked_at":{at}}}]}}"#,
            jti(1)
        );
        assert_eq!(
            verify_code(&sign_raw(&header, &payload)),
            "bad_revocation_list",
            "{payload}"
        );
    }
    let text = with_payload(|p| {
        p.insert("seq".into(), json!(2.0));
    });
    assert_eq!(verify_code(&text), "bad_revocation_list");
    // The largest safe values are fine.
    let text = with_payload(|p| {
        p.insert("seq".into(), json!(max));
    });
    assert_eq!(verify_code(&text), "fresh");
    // `next_update` must come after `iat`.
    let text = with_payload(|p| {
        p.insert("next_update".into(), json!(NOW));
    });
    assert_eq!(verify_code(&text), "bad_revocation_list");
}

#[test]
fn entries_are_sorted_and_unique() {
    let text = with_payload(|p| {
        p["revoked"].as_array_mut().unwrap().reverse();
    });
    assert_eq!(verify_code(&text), "bad_revocation_list");

    let text = with_payload(|p| {
        let entries = p["revoked"].as_array_mut().unwrap();
        let mut twin = entries[1].clone();
        twin["revoked_at"] = json!(NOW - 1);
        entries.push(twin);
    });
    let err = verify_list(&text, &keyset(), NOW, None).unwrap_err();
    assert_eq!(err.code(), "bad_revocation_list");
    assert_eq!(
        err.to_string(),
        format!(
            "revocation list `revoked[2].jti` is invalid: `{}` is listed twice",
            jti(2)
        )
    );
}

#[test]
fn strict_json_applies() {
    let kid = keys::thumbprint(&issuer_key().verifying_key());
    let header = format!(r#"{{"alg":"EdDSA","kid":"{kid}","typ":"captoken-rl+jwt"}}"#);
    let payload = format!(
        r#"{{"ver":1,"iss":"{ISS}","seq":1,"seq":9,"iat":{NOW},"next_update":{NEXT},"revoked":[]}}"#
    );
    assert_eq!(verify_code(&sign_raw(&header, &payload)), "duplicate_key");
    assert_eq!(verify_code(&sign_raw(&header, "[1]")), "bad_json");
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
fn a_list_from_another_issuer_is_refused() {
    let other = SigningKey::from_bytes(&[11; 32]);
    // Signed by a key we do not trust, even claiming to be our issuer.
    let text = RevocationListIssuer::new(&other).sign(&list(7)).unwrap();
    assert_eq!(verify_code(&text), "unknown_kid");

    // Signed by our key, but naming another issuer.
    let mut theirs = list(7);
    theirs.iss = "https://other.example".into();
    let err = verify_list(&sign(&theirs), &keyset(), NOW, None).unwrap_err();
    assert_eq!(err.code(), "bad_issuer");
    assert_eq!(
        err,
        RevocationError::BadIssuer {
            expected: ISS.into(),
            found: "https://other.example".into()
        }
    );

    // The other issuer's own list, checked against its own keys, is fine.
    let mut their_keys = KeySet::new("https://other.example");
    their_keys
        .insert(TrustedKey::new(other.verifying_key(), None, None))
        .unwrap();
    let text = RevocationListIssuer::new(&other).sign(&theirs).unwrap();
    assert_eq!(code(verify_list(&text, &their_keys, NOW, None)), "fresh");
    // …and not against ours.
    assert_eq!(verify_code(&text), "unknown_kid");
}

#[test]
fn the_key_window_applies() {
    let mut keys = KeySet::new(ISS);
    keys.insert(TrustedKey::new(
        issuer_key().verifying_key(),
        None,
        Some(NOW),
    ))
    .unwrap();
    let text = sign(&RevocationList::new(ISS, 7, NOW - 10, NEXT));
    let strict = RevocationListVerifier::new(&keys).leeway(0);
    assert_eq!(code(strict.verify(&text, NOW - 1, None)), "fresh");
    assert_eq!(code(strict.verify(&text, NOW, None)), "key_not_valid");
}

#[test]
fn a_list_from_the_future_is_refused() {
    let text = sign(&RevocationList::new(ISS, 1, NOW + 100, NOW + 3600));
    let err = verify_list(&text, &keyset(), NOW, None).unwrap_err();
    assert_eq!(
        err,
        RevocationError::IssuedInFuture {
            now: NOW,
            iat: NOW + 100
        }
    );
    assert_eq!(err.code(), "issued_in_future");
    // Within leeway it is fine (default 30 s).
    assert_eq!(code(verify_list(&text, &keyset(), NOW + 70, None)), "fresh");
    let keys = keyset();
    let strict = RevocationListVerifier::new(&keys).leeway(0);
    assert_eq!(
        code(strict.verify(&text, NOW + 99, None)),
        "issued_in_future"
    );
    assert_eq!(code(strict.verify(&text, NOW + 100, None)), "fresh");
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

#[test]
fn codes_are_stable() {
    let cases = [
        (RevocationError::Revoked { jti: "x".into() }, "revoked"),
        (
            RevocationError::Rollback {
                seq: 1,
                last_seen: 2,
            },
            "revocation_list_rollback",
        ),
        (RevocationError::Stale { since: 1 }, "revocation_list_stale"),
        (
            RevocationError::BadList {
                path: "x".into(),
                reason: "y".into(),
            },
            "bad_revocation_list",
        ),
        (
            RevocationError::Token(captoken_core::TokenError::BadTyp {
                expected: captoken_core::revocation::TYP,
                found: None,
            }),
            "bad_typ",
        ),
        (
            RevocationError::Token(captoken_core::TokenError::BadSignature),
            "bad_signature",
        ),
    ];
    for (err, code) in cases {
        assert_eq!(err.code(), code);
        let msg = err.to_string();
        assert!(!msg.ends_with('.'), "{msg}");
        assert_eq!(
            msg.chars().next(),
            msg.to_lowercase().chars().next(),
            "{msg}"
        );
    }
}

#[test]
fn revoking_a_parent_revokes_its_delegated_children() {
    let parent_text = issue_at(NOW, 300);
    let keys = keyset();
    let parent = verifier(&keys).verify(&parent_text, NOW).unwrap();
    let mut req = request_json();
    req["cnf"] =
        json!({ "jwk": keys::public_jwk(&SigningKey::from_bytes(&[13; 32]).verifying_key()) });
    let chain = Delegation::of(&parent)
        .ttl(60)
        .max_depth(3)
        .sign(
            &holder_key(),
            captoken_core::TokenRequest::from_json(req.as_object().unwrap().clone()).unwrap(),
            NOW,
            &mut captoken_core::SliceEntropy::new(&[44; 16]),
        )
        .unwrap()
        .token;
    let child = verifier(&keys).verify(&chain, NOW).unwrap();
    assert_eq!(child.chain_jtis().count(), 2);

    let none = fresh(verify_list(
        &sign(&RevocationList::new(ISS, 1, NOW, NEXT)),
        &keys,
        NOW,
        None,
    ));
    check_chain(child.chain_jtis(), &none).unwrap();

    let revoking_parent = RevocationList::new(ISS, 2, NOW, NEXT)
        .revoke(RevokedEntry::new(parent.claims().jti.clone(), NOW));
    let list = fresh(verify_list(&sign(&revoking_parent), &keys, NOW, Some(1)));
    let err = check_chain(child.chain_jtis(), &list).unwrap_err();
    assert_eq!(
        err,
        RevocationError::Revoked {
            jti: parent.claims().jti.clone()
        }
    );
    // The child alone, without its ancestors, would have slipped through:
    // that is why the whole chain is checked.
    check_chain([child.claims().jti.as_str()], &list).unwrap();
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
