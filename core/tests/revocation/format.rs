//! Refused lists: tampering, lists and tokens taken for each other, the header
//! and member rules, and strict JSON.

use captoken_core::b64;
use captoken_core::json::Value;
use captoken_core::keys;
use captoken_core::revocation::{RevocationError, verify_list};

use super::common::*;
use super::lit::json;
use super::support::*;

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
