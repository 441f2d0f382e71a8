//! `verify`'s `valid_from` / `valid_until`: the same request gives the same
//! answer at every `now` in between and is refused at every `now` outside,
//! whatever the links' `nbf`, `iat` and `exp`, the issuer key's window and
//! the leeway. A host caching verified tokens (the gateway) relies on it.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use captoken_core::b64;
use captoken_core::json::Value;
use captoken_core::keys;
use proptest::prelude::*;

mod common;
use common::{
    AUD, ISS, NOW, claims_json, header_json, holder_key, issuer_key, op_call, sign_values,
};

macro_rules! json {
    ($($t:tt)+) => {
        ::serde_json::from_value::<Value>(::serde_json::json!($($t)+)).unwrap()
    };
}

#[derive(Debug, Clone)]
struct Case {
    nbf: i64,
    iat: i64,
    exp: i64,
    key_window: (Option<i64>, Option<i64>),
    leeway: i64,
    /// Each delegation: (its time after the root's latest start, its ttl).
    links: Vec<(i64, u64)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        -50i64..50,
        -50i64..50,
        1i64..400,
        (
            proptest::option::of(-100i64..100),
            proptest::option::of(0i64..500),
        ),
        0i64..60,
        proptest::collection::vec((0i64..20, 1u64..200), 0..3),
    )
        .prop_map(|(nbf, iat, life, key_window, leeway, links)| Case {
            nbf: NOW + nbf,
            iat: NOW + iat,
            exp: NOW + nbf.max(iat) + life,
            key_window: (key_window.0.map(|t| NOW + t), key_window.1.map(|t| NOW + t)),
            leeway,
            links,
        })
}

fn jwks(case: &Case) -> Value {
    let mut jwk = keys::public_jwk(&issuer_key().verifying_key());
    if let Some(nbf) = case.key_window.0 {
        jwk["nbf"] = json!(nbf);
    }
    if let Some(exp) = case.key_window.1 {
        jwk["exp"] = json!(exp);
    }
    json!({ "keys": [jwk] })
}

fn request(token: &str, case: &Case, now: i64) -> Value {
    json!({ "token": token, "jwks": jwks(case), "issuer": ISS, "audience": AUD,
            "now": now, "leeway": case.leeway })
}

/// The root token of `case`, and its chain when delegations can be made
/// (each while its parent verifies; one that cannot be made ends it).
fn token(case: &Case) -> String {
    let mut claims = claims_json();
    claims["nbf"] = json!(case.nbf);
    claims["iat"] = json!(case.iat);
    claims["exp"] = json!(case.exp);
    let mut token = sign_values(&header_json(), &claims);
    let mut at = case.nbf.max(case.iat);
    let holder = keys::private_jwk(&holder_key());
    for (n, (after, ttl)) in case.links.iter().enumerate() {
        at += after;
        let mut delegate = request(&token, case, at);
        let parent = delegate.as_object_mut().unwrap().remove("token").unwrap();
        delegate["parent"] = parent;
        delegate["key"] = holder.clone();
        delegate["ttl"] = json!(ttl);
        delegate["entropy"] = json!(b64::encode(&[n as u8 + 1; 16]));
        // The same holder key each link: a chain of one holder, which the
        // rules allow; what matters here is each link's times.
        delegate["claims"] = json!({ "sub": format!("link-{n}"), "aud": AUD,
            "cnf": { "jwk": keys::public_jwk(&holder_key().verifying_key()) },
            "caps": claims_json()["caps"] });
        match op_call("delegate", &delegate) {
            Ok(child) => token = child["token"].as_str().unwrap().to_string(),
            Err(_) => break,
        }
    }
    token
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn the_answer_holds_exactly_between_valid_from_and_valid_until(case in case()) {
        let token = token(&case);
        // Find a time it verifies at, if any: its window, searched.
        let found = (NOW - 200..NOW + 1200)
            .step_by(7)
            .find_map(|now| op_call("verify", &request(&token, &case, now)).ok());
        let Some(answer) = found else { return Ok(()) };
        let from = answer["valid_from"].as_i64().unwrap();
        let until = answer["valid_until"].as_i64().unwrap();
        prop_assert!(from < until);
        for now in [from - 1, from, from + 1, (from + until) / 2, until - 1, until, until + 1] {
            match op_call("verify", &request(&token, &case, now)) {
                Ok(again) => {
                    prop_assert!(from <= now && now < until, "verified at {} outside [{}, {})", now, from, until);
                    prop_assert_eq!(&again, &answer);
                }
                Err(code) => prop_assert!(
                    now < from || now >= until,
                    "refused ({}) at {} inside [{}, {})", code, now, from, until
                ),
            }
        }
    }
}

#[test]
fn with_a_proof_or_a_revocation_list_the_answer_names_no_window() {
    let case = Case {
        nbf: NOW,
        iat: NOW,
        exp: NOW + 300,
        key_window: (None, None),
        leeway: 0,
        links: Vec::new(),
    };
    let token = token(&case);
    let plain = op_call("verify", &request(&token, &case, NOW + 1)).unwrap();
    assert_eq!(plain["valid_from"], json!(NOW));
    assert_eq!(plain["valid_until"], json!(NOW + 300));
    let list = op_call(
        "revocation_list_sign",
        &json!({ "key": keys::private_jwk(&issuer_key()), "list": { "iss": ISS, "seq": 1,
                 "iat": NOW, "next_update": NOW + 60, "revoked": [] } }),
    )
    .unwrap();
    let mut with_list = request(&token, &case, NOW + 1);
    with_list["revocation_list"] = list["list"].clone();
    let listed = op_call("verify", &with_list).unwrap();
    assert!(listed.get("valid_from").is_none() && listed.get("valid_until").is_none());
    assert_eq!(listed["claims"], plain["claims"]);
}
