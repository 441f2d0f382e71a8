//! `grant_depth`: a token an issuer granted below another says how deep,
//! and every depth limit (delegating, verifying) counts from there.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use captoken_core::b64;
use captoken_core::json::Value;
use captoken_core::ops::call_named;

mod lit;
use lit::json;

mod common;
use common::{AUD, ISS, NOW, op_key as key, op_ok as ok};

fn code(op: &str, request: &Value) -> String {
    match call_named(op, &request.to_vec()) {
        Ok(out) => panic!("{op} accepted: {}", String::from_utf8_lossy(&out)),
        Err(err) => err.code().to_owned(),
    }
}

fn issue_request(grant_depth: Value) -> Value {
    json!({
        "key": key(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300,
        "entropy": b64::encode(&[90; 16]),
        "claims": { "sub": "helper", "aud": AUD, "cnf": { "jwk": key(2)["public_jwk"] },
                    "grant_depth": grant_depth,
                    "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }] }
    })
}

/// A child of `parent` by the holder of key `holder`, for key `next`,
/// minted by software allowing `max_depth`.
fn delegate(parent: &Value, holder: u8, next: u8, max_depth: u64) -> Value {
    json!({ "parent": parent, "jwks": { "keys": [key(1)["public_jwk"]] }, "issuer": ISS,
            "audience": AUD, "now": NOW + 1, "key": key(holder)["private_jwk"], "ttl": 60,
            "max_depth": max_depth, "entropy": b64::encode(&[next; 16]),
            "claims": { "sub": "sub-helper", "aud": AUD, "cnf": { "jwk": key(next)["public_jwk"] },
                        "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }] } })
}

fn verify(token: &Value) -> Value {
    json!({ "token": token, "jwks": { "keys": [key(1)["public_jwk"]] }, "issuer": ISS,
            "audience": AUD, "now": NOW + 2 })
}

#[test]
fn a_granted_root_counts_its_depth_in_every_limit() {
    let root = ok("issue", &issue_request(json!(2)))["token"].clone();
    // Two deep already: one delegation makes three, the default limit.
    let child = ok("delegate", &delegate(&root, 2, 3, 3))["token"].clone();
    let verified = ok("verify", &verify(&child));
    assert_eq!(verified["claims"]["grant_depth"], 2, "carried unchanged");
    assert_eq!(
        code("delegate", &delegate(&child, 3, 4, 3)),
        "delegation_too_deep"
    );
    // Minted by software allowing more, it is still refused where three is
    // the limit.
    let deeper = ok("delegate", &delegate(&child, 3, 4, 8))["token"].clone();
    assert_eq!(code("verify", &verify(&deeper)), "delegation_too_deep");
    // A child cannot say it is shallower than its parent.
    let mut shallower = delegate(&root, 2, 3, 3);
    shallower["claims"]["grant_depth"] = json!(1);
    assert_eq!(code("delegate", &shallower), "delegation_escalation");
    // A root granted past the limit is refused on its own.
    let too_deep = ok("issue", &issue_request(json!(4)))["token"].clone();
    assert_eq!(code("verify", &verify(&too_deep)), "delegation_too_deep");
}

#[test]
fn a_grant_depth_that_is_not_a_depth_is_refused_at_issue() {
    for bad in [
        json!(0),
        json!(17),
        json!(-1),
        json!(1.5),
        json!("2"),
        json!(null),
    ] {
        assert_eq!(
            code("issue", &issue_request(bad.clone())),
            "bad_claims",
            "{bad:?}"
        );
    }
}
