//! A token's place in a status list, through the operations: the issuer
//! names it, a delegated child carries it unchanged, and the root's bit
//! refuses the whole chain wherever it is verified with the list.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use captoken_core::b64;
use captoken_core::json::Value;
use captoken_core::ops::call_named;

mod lit;
use lit::json;

mod common;
use common::{AUD, ISS, NOW, op_key as key, op_ok as ok};

const URI: &str = "https://gateway.example/v1/status-lists/0";

fn code(op: &str, request: &Value) -> String {
    match call_named(op, &request.to_vec()) {
        Ok(out) => panic!("{op} accepted: {}", String::from_utf8_lossy(&out)),
        Err(err) => err.code().to_owned(),
    }
}

fn list(revoked: &[u64]) -> Value {
    ok(
        "status_list_sign",
        &json!({ "key": key(1)["private_jwk"],
                 "list": { "iss": ISS, "sub": URI, "iat": NOW - 10, "exp": NOW + 100, "size": 64, "revoked": revoked } }),
    )["list"]
        .clone()
}

#[test]
fn the_roots_bit_refuses_the_chain_and_a_child_cannot_move_its_place() {
    let root = ok(
        "issue",
        &json!({
            "key": key(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300,
            "entropy": b64::encode(&[3; 16]),
            "claims": { "sub": "principal-2", "aud": AUD, "cnf": { "jwk": key(2)["public_jwk"] },
                        "status": { "status_list": { "idx": 5, "uri": URI } },
                        "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }] }
        }),
    )["token"]
        .clone();
    let trust = |token: &Value, list: Value| {
        json!({ "token": token, "jwks": { "keys": [key(1)["public_jwk"]] }, "issuer": ISS,
                "audience": AUD, "now": NOW + 1, "status_list": list })
    };
    let delegate = |claims: Value| {
        json!({ "parent": root, "jwks": { "keys": [key(1)["public_jwk"]] }, "issuer": ISS,
                "audience": AUD, "now": NOW + 1, "key": key(2)["private_jwk"], "ttl": 60,
                "entropy": b64::encode(&[4; 16]), "claims": claims })
    };
    let child_claims = json!({ "sub": "helper", "aud": AUD, "cnf": { "jwk": key(3)["public_jwk"] },
                               "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }] });
    let child = ok("delegate", &delegate(child_claims.clone()))["token"].clone();
    // The child carries the root's place, as it carries its other claims.
    let verified = ok("verify", &trust(&child, list(&[])));
    assert_eq!(
        verified["claims"]["status"],
        json!({ "status_list": { "idx": 5, "uri": URI } })
    );
    // Other bits set: both verify; the root's bit set: both are refused.
    ok("verify", &trust(&root, list(&[4, 6])));
    ok("verify", &trust(&child, list(&[4, 6])));
    assert_eq!(code("verify", &trust(&root, list(&[5]))), "revoked");
    assert_eq!(code("verify", &trust(&child, list(&[5]))), "revoked");
    assert_eq!(
        code("authorize", &{
            let mut r = trust(&child, list(&[5]));
            r["request"] = json!({ "action": "drive", "resource": "robot:7" });
            r
        }),
        "revoked"
    );
    // A holder cannot point its child at another place (escalation).
    let mut moved = child_claims;
    moved["status"] = json!({ "status_list": { "idx": 6, "uri": URI } });
    assert_eq!(code("delegate", &delegate(moved)), "delegation_escalation");
}

#[test]
fn a_refresh_takes_the_place_it_is_given_or_keeps_the_old_one() {
    let place = |idx: u64| json!({ "status_list": { "idx": idx, "uri": URI } });
    let token = ok(
        "issue",
        &json!({
            "key": key(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300,
            "entropy": b64::encode(&[5; 16]),
            "claims": { "sub": "principal-2", "aud": AUD, "cnf": { "jwk": key(2)["public_jwk"] },
                        "status": place(5),
                        "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }] }
        }),
    )["token"]
        .clone();
    let refresh = |status: Option<Value>| {
        let mut request = json!({
            "token": token, "jwks": { "keys": [key(1)["public_jwk"]] }, "issuer": ISS,
            "audience": AUD, "now": NOW + 1, "key": key(1)["private_jwk"],
            "entropy": b64::encode(&[6; 16]),
            "policy": { "version": 1, "rules": [
                { "id": "all", "effect": "allow", "subjects": { "ids": ["principal-2"] },
                  "capabilities": [{ "actions": ["drive"], "resources": ["robot:*"] }] } ] }
        });
        if let Some(status) = status {
            request["status"] = status;
        }
        request
    };
    let verified = |request: &Value| {
        let token = ok("refresh", request)["token"].clone();
        ok(
            "verify",
            &json!({ "token": token, "jwks": { "keys": [key(1)["public_jwk"]] }, "issuer": ISS,
                     "audience": AUD, "now": NOW + 2, "status_list": list(&[]) }),
        )["claims"]["status"]
            .clone()
    };
    // Given a place, the new token has it; given none, it keeps the old.
    assert_eq!(verified(&refresh(Some(place(9)))), place(9));
    assert_eq!(verified(&refresh(None)), place(5));
    // A place is checked as strictly as at issue.
    for bad in [
        json!({ "status_list": { "idx": 9 } }),
        json!({ "status_list": { "idx": -1, "uri": URI } }),
        json!({ "status_list": { "idx": 9, "uri": URI }, "other": 1 }),
        json!("status"),
    ] {
        assert_eq!(code("refresh", &refresh(Some(bad))), "bad_claims");
    }
}
