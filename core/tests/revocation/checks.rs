//! What a verified list decides: revoked jtis and whole chains, staleness and
//! rollback, the issuer, key window and issue time, and stable codes.

use std::collections::BTreeSet;

use captoken_core::Delegation;
use captoken_core::keys;
use captoken_core::revocation::{
    CheckedList, RevocationCheck, RevocationError, RevocationList, RevocationListIssuer,
    RevocationListVerifier, RevokedEntry, check_chain, verify_list,
};
use captoken_core::{KeySet, SigningKey, TrustedKey};

use super::common::*;
use super::lit::json;
use super::support::*;

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
