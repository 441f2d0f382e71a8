//! One test per hostile input: each must be refused with its stable code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use captoken_core::b64;
use captoken_core::jws::Limits;
use captoken_core::{KeySet, TrustedKey, Verifier};
use common::*;
mod lit;
use captoken_core::json::{Map, Value};
use lit::json;

fn with_header(f: impl FnOnce(&mut Map)) -> String {
    let mut h = header_json();
    f(h.as_object_mut().unwrap());
    sign_values(&h, &claims_json())
}

fn with_claims(f: impl FnOnce(&mut Map)) -> String {
    let mut c = claims_json();
    f(c.as_object_mut().unwrap());
    sign_values(&header_json(), &c)
}

#[test]
fn baseline_is_accepted() {
    assert_eq!(code_of(&sign_values(&header_json(), &claims_json())), "ok");
    assert_eq!(code_of(&issue_at(NOW, 300)), "ok");
}

#[test]
fn alg_must_be_exactly_eddsa() {
    for alg in [
        json!("none"),
        json!("NONE"),
        json!("None"),
        json!("HS256"),
        json!("ES256"),
        json!("eddsa"),
        json!("Ed25519"),
        json!(""),
        json!(1),
        json!(null),
    ] {
        let token = with_header(|h| {
            h.insert("alg".into(), alg.clone());
        });
        assert_eq!(code_of(&token), "unsupported_alg", "alg {alg}");
    }
    let token = with_header(|h| {
        h.remove("alg");
    });
    assert_eq!(code_of(&token), "unsupported_alg");
}

#[test]
fn alg_none_with_empty_signature_is_refused() {
    let h = b64::encode(br#"{"alg":"none","typ":"captoken+jwt"}"#);
    let p = b64::encode(claims_json().to_string().as_bytes());
    assert_eq!(code_of(&format!("{h}.{p}.")), "unsupported_alg");
}

#[test]
fn typ_is_required_and_explicit() {
    let missing = with_header(|h| {
        h.remove("typ");
    });
    assert_eq!(code_of(&missing), "bad_typ");
    for typ in [
        json!("JWT"),
        json!("jwt"),
        json!("at+jwt"),
        json!("CAPTOKEN+JWT"),
        json!(7),
    ] {
        let token = with_header(|h| {
            h.insert("typ".into(), typ.clone());
        });
        assert_eq!(code_of(&token), "bad_typ", "typ {typ}");
    }
}

#[test]
fn kid_is_required_and_must_be_trusted() {
    let missing = with_header(|h| {
        h.remove("kid");
    });
    assert_eq!(code_of(&missing), "missing_kid");
    let unknown = with_header(|h| {
        h.insert("kid".into(), "not-a-key-we-know".into());
    });
    assert_eq!(code_of(&unknown), "unknown_kid");
}

#[test]
fn embedded_or_referenced_keys_are_never_trusted() {
    let jwk = captoken_core::keys::public_jwk(&issuer_key().verifying_key());
    for (name, value) in [
        ("jwk", jwk),
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("x5c", json!(["MIIB"])),
        ("x5t", json!("abc")),
        ("x5t#S256", json!("abc")),
    ] {
        let token = with_header(|h| {
            h.insert(name.into(), value.clone());
        });
        assert_eq!(code_of(&token), "untrusted_key_header", "header {name}");
    }
}

#[test]
fn any_crit_is_unknown() {
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("x")] {
        let token = with_header(|h| {
            h.insert("crit".into(), crit.clone());
        });
        assert_eq!(code_of(&token), "unknown_crit", "crit {crit}");
    }
}

#[test]
fn unknown_header_members_are_refused() {
    let token = with_header(|h| {
        h.insert("cty".into(), "JWT".into());
    });
    assert_eq!(code_of(&token), "bad_header");
}

#[test]
fn exactly_three_segments() {
    let good = issue_at(NOW, 300);
    let parts: Vec<&str> = good.split('.').collect();
    for bad in [
        String::new(),
        parts[0].to_string(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.{}", parts[2]),
        format!("{good}."),
        "..".to_string(),
    ] {
        let code = code_of(&bad);
        assert!(code == "malformed_token" || bad == "..", "{bad}: {code}");
    }
    // ".." has three (empty) segments: the header then fails as JSON.
    assert_eq!(code_of(".."), "bad_json");
}

#[test]
fn lenient_base64url_is_refused_in_every_segment() {
    let good = issue_at(NOW, 300);
    let parts: Vec<String> = good.split('.').map(String::from).collect();
    for seg in 0..3 {
        let mutations = [
            format!("{}=", parts[seg]),
            parts[seg].replacen(
                |c: char| c == '-' || c == '_' || c.is_ascii_alphabetic(),
                "+",
                1,
            ),
            format!(" {}", parts[seg]),
            format!("{}\n", parts[seg]),
        ];
        for m in mutations {
            let mut p = parts.clone();
            p[seg] = m.clone();
            let token = p.join(".");
            assert_eq!(code_of(&token), "bad_base64", "segment {seg}: {m:?}");
        }
    }
}

#[test]
fn non_canonical_trailing_bits_are_refused() {
    let good = issue_at(NOW, 300);
    let parts: Vec<&str> = good.split('.').collect();
    // A 64-byte signature is 86 chars: the last char carries 4 unused bits.
    let sig = parts[2];
    let last = sig.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let sibling = alphabet.chars().nth(idx ^ 1).unwrap();
    let bad = format!(
        "{}.{}.{}{}",
        parts[0],
        parts[1],
        &sig[..sig.len() - 1],
        sibling
    );
    assert_eq!(code_of(&bad), "bad_base64");
}

#[test]
fn header_and_payload_must_be_strict_json_objects() {
    let h = header_json().to_string();
    let c = claims_json().to_string();
    assert_eq!(code_of(&sign_raw("[]", &c)), "bad_json");
    assert_eq!(code_of(&sign_raw("\"EdDSA\"", &c)), "bad_json");
    assert_eq!(code_of(&sign_raw(&h, "[1,2]")), "bad_json");
    assert_eq!(code_of(&sign_raw(&h, "null")), "bad_json");
    assert_eq!(code_of(&sign_raw(&h, &format!("{c} trailing"))), "bad_json");
    // Invalid UTF-8 inside the payload.
    let input = format!(
        "{}.{}",
        b64::encode(h.as_bytes()),
        b64::encode(b"{\"sub\":\"\xff\xfe\"}")
    );
    let sig = ed25519_dalek::Signer::sign(&issuer_key(), input.as_bytes());
    assert_eq!(
        code_of(&format!("{input}.{}", b64::encode(&sig.to_bytes()))),
        "bad_json"
    );
}

#[test]
fn duplicate_keys_are_refused() {
    let kid = captoken_core::keys::thumbprint(&issuer_key().verifying_key());
    let h = format!(r#"{{"alg":"EdDSA","typ":"captoken+jwt","kid":"{kid}","alg":"EdDSA"}}"#);
    assert_eq!(
        code_of(&sign_raw(&h, &claims_json().to_string())),
        "duplicate_key"
    );
    let c = claims_json().to_string();
    let dup = format!(r#"{{"aud":"someone-else",{}"#, &c[1..]);
    assert_eq!(
        code_of(&sign_raw(&header_json().to_string(), &dup)),
        "duplicate_key"
    );
}

#[test]
fn dates_must_be_integers() {
    for name in ["exp", "nbf", "iat"] {
        for bad in [
            json!(1_700_000_300.5),
            json!(1.7e9),
            json!("1700000300"),
            json!(-1),
            json!(9_007_199_254_740_992_i64),
            json!(true),
        ] {
            let token = with_claims(|c| {
                c.insert(name.into(), bad.clone());
            });
            assert_eq!(code_of(&token), "bad_date", "{name} = {bad}");
        }
    }
}

#[test]
fn exp_is_required() {
    let token = with_claims(|c| {
        c.remove("exp");
    });
    assert_eq!(code_of(&token), "missing_exp");
}

#[test]
fn exp_boundary_is_exclusive() {
    let keys = keyset();
    let token = issue_at(NOW, 300);
    let exp = NOW + 300;
    let v0 = Verifier::new(&keys, AUD).leeway(0);
    assert!(v0.verify(&token, exp - 1).is_ok());
    assert_eq!(v0.verify(&token, exp).unwrap_err().code(), "expired");
    let v30 = Verifier::new(&keys, AUD).leeway(30);
    assert!(v30.verify(&token, exp + 29).is_ok());
    assert_eq!(v30.verify(&token, exp + 30).unwrap_err().code(), "expired");
}

#[test]
fn future_nbf_and_iat_beyond_leeway_are_refused() {
    let keys = keyset();
    let token = issue_at(NOW + 100, 300);
    let v = Verifier::new(&keys, AUD).leeway(30);
    assert_eq!(v.verify(&token, NOW).unwrap_err().code(), "not_yet_valid");
    assert!(v.verify(&token, NOW + 70).is_ok());
    let iat_only = with_claims(|c| {
        c.insert("iat".into(), (NOW + 10).into());
    });
    assert_eq!(code_of(&iat_only), "issued_in_future");
}

#[test]
fn audience_must_name_us() {
    let missing = with_claims(|c| {
        c.remove("aud");
    });
    assert_eq!(code_of(&missing), "bad_claims");
    let other = with_claims(|c| {
        c.insert("aud".into(), "another-service".into());
    });
    assert_eq!(code_of(&other), "bad_audience");
    let list = with_claims(|c| {
        c.insert("aud".into(), json!(["another-service", AUD]));
    });
    assert_eq!(code_of(&list), "ok");
    let empty = with_claims(|c| {
        c.insert("aud".into(), json!([]));
    });
    assert_eq!(code_of(&empty), "bad_claims");
}

#[test]
fn issuer_must_own_the_key() {
    let token = with_claims(|c| {
        c.insert("iss".into(), "https://someone-else.example".into());
    });
    assert_eq!(code_of(&token), "bad_issuer");
}

#[test]
fn size_is_checked_before_anything_else() {
    // No dots at all: a parser would say malformed, the size check comes first.
    let huge = "A".repeat(Limits::default().max_token_len + 1);
    assert_eq!(code_of(&huge), "token_too_large");
    let keys = keyset();
    let small = Verifier::new(&keys, AUD).limits(Limits {
        max_token_len: 100,
        max_json_depth: 16,
    });
    assert_eq!(
        small.verify(&issue_at(NOW, 300), NOW).unwrap_err().code(),
        "token_too_large"
    );
}

#[test]
fn deep_json_is_refused() {
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let token = with_claims(|c| {
        c.insert("x".into(), serde_json::from_str(&deep).unwrap());
    });
    assert_eq!(code_of(&token), "json_too_deep");
    let kid = captoken_core::keys::thumbprint(&issuer_key().verifying_key());
    let h = format!(r#"{{"alg":"EdDSA","typ":"captoken+jwt","kid":"{kid}","n":{deep}}}"#);
    assert_eq!(
        code_of(&sign_raw(&h, &claims_json().to_string())),
        "json_too_deep"
    );
}

#[test]
fn tampering_breaks_the_signature() {
    let token = issue_at(NOW, 300);
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = claims_json();
    claims["caps"][0]["actions"] = json!(["drive", "self-destruct"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64::encode(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(code_of(&forged), "bad_signature");
    let short_sig = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        &parts[2][..parts[2].len() - 2]
    );
    assert_eq!(code_of(&short_sig), "bad_signature");
    let other_key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
    let resigned = sign_raw_with(
        &other_key,
        &header_json().to_string(),
        &claims_json().to_string(),
    );
    assert_eq!(code_of(&resigned), "bad_signature");
}

#[test]
fn unknown_schema_version_is_refused() {
    for ver in [json!(2), json!(0), json!("1"), json!(1.0)] {
        let token = with_claims(|c| {
            c.insert("ver".into(), ver.clone());
        });
        assert_eq!(code_of(&token), "unsupported_version", "ver {ver}");
    }
}

#[test]
fn short_jti_is_refused() {
    let token = with_claims(|c| {
        c.insert("jti".into(), "abc".into());
    });
    assert_eq!(code_of(&token), "bad_claims");
}

#[test]
fn retired_keys_stop_verifying_at_the_end_of_their_window() {
    let mut keys = KeySet::new(ISS);
    keys.insert(TrustedKey::new(
        issuer_key().verifying_key(),
        Some(NOW - 1000),
        Some(NOW + 100),
    ))
    .unwrap();
    let token = issue_at(NOW, 300);
    let v = Verifier::new(&keys, AUD).leeway(0);
    assert!(v.verify(&token, NOW + 99).is_ok());
    assert_eq!(
        v.verify(&token, NOW + 100).unwrap_err().code(),
        "key_not_valid"
    );
}

#[test]
fn extra_claims_are_preserved_and_registered_names_protected() {
    let token = with_claims(|c| {
        c.insert("tenant".into(), json!({"id": "t-1", "tier": [1, 2]}));
    });
    let keys = keyset();
    let verified = verifier(&keys).verify(&token, NOW).unwrap();
    assert_eq!(
        verified.claims().request.extra["tenant"],
        json!({"id": "t-1", "tier": [1, 2]})
    );
    assert_eq!(verified.claims().to_json()["tenant"]["id"], "t-1");
}

#[test]
fn bad_cnf_and_caps_are_refused() {
    let cases: Vec<(&str, Value)> = vec![
        (
            "cnf",
            json!({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "short"}}),
        ),
        ("cnf", json!({"kid": "abc"})),
        (
            "cnf",
            json!({"jwk": captoken_core::keys::private_jwk(&holder_key())}),
        ),
        ("caps", json!([])),
        ("caps", json!([{"actions": [], "resources": ["r"]}])),
        (
            "caps",
            json!([{"actions": ["a"], "resources": ["r"], "scope": "x"}]),
        ),
        (
            "caps",
            json!([{"actions": ["a"], "resources": ["r"], "constraints": {"max_purchase": -1}}]),
        ),
        (
            "caps",
            json!([{"actions": ["a"], "resources": ["r"], "constraints": {"max_purchase": 9_007_199_254_740_992_u64}}]),
        ),
        (
            "caps",
            json!([{"actions": ["a"], "resources": ["r"], "constraints": {"pii_access": "yes"}}]),
        ),
    ];
    for (name, value) in cases {
        let token = with_claims(|c| {
            c.insert(name.into(), value.clone());
        });
        assert_eq!(code_of(&token), "bad_claims", "{name} = {value}");
    }
}

#[test]
fn a_weak_holder_key_is_refused_when_issuing_and_when_used() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = json!({ "jwk": { "kty": "OKP", "crv": "Ed25519", "x": b64::encode(&identity) } });
    let mut req = request_json();
    req["cnf"] = weak.clone();
    let err = captoken_core::TokenRequest::from_json(req.as_object().unwrap().clone()).unwrap_err();
    assert_eq!(err.code(), "bad_claims");
    // A verifier checks the encoding but decodes the point only when a
    // possession proof or delegation needs it, and fails closed then.
    let token = with_claims(|c| {
        c.insert("cnf".into(), weak.clone());
    });
    let keys = keyset();
    let verified = verifier(&keys).verify(&token, NOW).unwrap();
    assert_eq!(
        verified.holder().unwrap().key().unwrap_err().code(),
        "weak_key"
    );
    let good = verifier(&keys).verify(&issue_at(NOW, 300), NOW).unwrap();
    assert_eq!(
        good.holder().unwrap().key().unwrap(),
        holder_key().verifying_key()
    );
}

/// A `jti` longer than 256 bits would make ids (which join a chain's
/// `jti`s) too long for any store to index: a delegator could mint a
/// child nobody can revoke on its own.
#[test]
fn overlong_jti_is_refused() {
    for (bytes, code) in [
        (32usize, "ok"),
        (33, "bad_claims"),
        (3000, "bad_claims"),
        (15, "bad_claims"),
    ] {
        let token = with_claims(|c| {
            c.insert("jti".into(), b64::encode(&vec![7u8; bytes]).into());
        });
        assert_eq!(code_of(&token), code, "{bytes} bytes");
    }
}

/// Extra claims and unknown constraint kinds are carried as they are, so
/// their numbers must read alike in every host: JavaScript rounds integers
/// past 2^53 and turns `1E400` into `Infinity`.
#[test]
fn numbers_a_javascript_host_would_read_differently_are_refused() {
    for number in ["1E400", "9007199254740992", "-9007199254740992", "1.5"] {
        let n = lit::parse(number.as_bytes());
        let token = with_claims(|c| {
            c.insert("limit".into(), n.clone());
        });
        assert_eq!(code_of(&token), "bad_claims", "extra {number}");
        let token = with_claims(|c| {
            // Built directly: through serde, `1E400` would become `null`.
            c["caps"][0]["constraints"]["max_speed"] = Value::Array(vec![n.clone()]);
        });
        assert_eq!(code_of(&token), "bad_claims", "constraint {number}");
    }
    let token = with_claims(|c| {
        c.insert(
            "limit".into(),
            json!([9_007_199_254_740_991i64, -9_007_199_254_740_991i64]),
        );
    });
    assert_eq!(code_of(&token), "ok");
}
