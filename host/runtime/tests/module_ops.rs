//! The embedded module's operations through the host: identity checks, the
//! token life cycle, and the module's own rejections arriving as `Op` errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::OnceLock;

use captoken_core::b64;
use captoken_runtime::{HostError, Runtime, RuntimeConfig, entropy, now, op};
use serde_json::{Value, json};

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "robot-gateway";

/// Compiling the module takes seconds in a debug build: share one runtime.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::embedded().unwrap())
}

struct Issued {
    token: String,
    issuer_jwks: Value,
    iat: i64,
    exp: i64,
}

fn claims() -> Value {
    let holder = runtime().keygen([9; 32]).unwrap();
    json!({
        "sub": "agent:planner",
        "aud": AUDIENCE,
        "cnf": { "jwk": holder["public_jwk"] },
        "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }],
        "plan_id": "plan-42",
    })
}

fn issue(ttl: u64) -> Issued {
    let rt = runtime();
    let issuer = rt.keygen([7; 32]).unwrap();
    let issued = rt
        .issue_now(&issuer["private_jwk"], ISSUER, ttl, &claims())
        .unwrap();
    Issued {
        token: issued["token"].as_str().unwrap().to_owned(),
        issuer_jwks: json!({ "keys": [issuer["public_jwk"]] }),
        iat: issued["iat"].as_i64().unwrap(),
        exp: issued["exp"].as_i64().unwrap(),
    }
}

fn verify_request(issued: &Issued, audience: &str, now: i64) -> Value {
    json!({
        "token": issued.token,
        "jwks": issued.issuer_jwks,
        "issuer": ISSUER,
        "audience": audience,
        "now": now,
    })
}

fn op_code(err: &HostError) -> &str {
    assert!(
        matches!(err, HostError::Op { .. }),
        "expected the module's rejection, got {err:?}"
    );
    err.code()
}

#[test]
fn embedded_module_matches_its_shipped_digest() {
    let rt = runtime();
    assert_eq!(rt.module_sha256(), Runtime::embedded_module_sha256());
    assert_eq!(rt.module_sha256().len(), 64);
}

#[test]
fn flipped_byte_is_refused_as_digest_mismatch() {
    let mut bytes = Runtime::embedded_module().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let err = Runtime::from_bytes(&bytes, Runtime::embedded_module_sha256()).unwrap_err();
    assert_eq!(err.code(), "module_digest_mismatch");
    assert!(matches!(err, HostError::ModuleDigestMismatch { .. }));
}

#[test]
fn info_reports_abi_1_and_the_operations() {
    let info = runtime().info().unwrap();
    assert_eq!(info["abi"], 1);
    let listed = info["ops"].as_array().unwrap();
    // Each operation is listed with its id, which is what a host calls.
    for op in listed {
        let name = op["name"].as_str().unwrap();
        assert_eq!(
            op["id"].as_u64().map(|id| u32::try_from(id).unwrap()),
            Some(runtime().op_id(name).unwrap())
        );
    }
    let ops: Vec<&str> = listed
        .iter()
        .map(|op| op["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            "info",
            "keygen",
            "issue",
            "verify",
            "authorize",
            "delegate",
            "scope_meet",
            "policy_check",
            "policy_evaluate",
            "policy_explain",
            "revocation_list_sign",
            "revocation_list_verify",
            "pop_create",
            "pop_verify",
            "audit_append",
            "audit_verify",
            "refresh",
            "attach_signature",
            "decode",
            "status_list_sign",
            "status_list_verify",
        ]
    );
    let (_, info_fuel) = runtime().metered_call(op::INFO, b"{}").unwrap();
    assert!(info_fuel < 200_000, "info used {info_fuel} fuel");
}

#[test]
fn keygen_is_deterministic_in_the_seed_and_never_mixes_halves() {
    let rt = runtime();
    let a = rt.keygen([1; 32]).unwrap();
    assert_eq!(a, rt.keygen([1; 32]).unwrap());
    assert_ne!(a["kid"], rt.keygen([2; 32]).unwrap()["kid"]);
    assert!(a["private_jwk"].get("d").is_some());
    assert!(a["public_jwk"].get("d").is_none());
}

#[test]
fn issue_then_verify_round_trips_the_claims() {
    let issued = issue(300);
    assert_eq!(issued.exp - issued.iat, 300);
    let verified = runtime()
        .verify(&verify_request(&issued, AUDIENCE, now()))
        .unwrap();
    let claims = &verified["claims"];
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], "agent:planner");
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["plan_id"], "plan-42");
    assert_eq!(claims["caps"][0]["actions"], json!(["drive"]));
    assert_eq!(claims["caps"][0]["resources"], json!(["robot:7"]));
    assert_eq!(verified["header"]["alg"], "EdDSA");
}

#[test]
fn wrong_audience_is_bad_audience() {
    let issued = issue(300);
    let err = runtime()
        .verify(&verify_request(&issued, "elsewhere", now()))
        .unwrap_err();
    assert_eq!(op_code(&err), "bad_audience");
}

#[test]
fn token_checked_after_exp_is_expired() {
    let issued = issue(60);
    let later = issued.exp + 3600;
    let err = runtime()
        .verify(&verify_request(&issued, AUDIENCE, later))
        .unwrap_err();
    assert_eq!(op_code(&err), "expired");
}

#[test]
fn another_issuers_key_set_does_not_verify() {
    let rt = runtime();
    let mut issued = issue(300);
    let stranger = rt.keygen([3; 32]).unwrap();
    issued.issuer_jwks = json!({ "keys": [stranger["public_jwk"]] });
    let err = rt
        .verify(&verify_request(&issued, AUDIENCE, now()))
        .unwrap_err();
    assert!(err.is_rejection(), "{err:?}");
}

#[test]
fn empty_verify_request_is_rejected_by_the_module_not_a_trap() {
    let err = runtime().call(op::VERIFY, b"{}").unwrap_err();
    assert_eq!(op_code(&err), "bad_request");
}

#[test]
fn unknown_op_is_rejected_as_unknown_op() {
    let err = runtime().call(999, b"{}").unwrap_err();
    assert_eq!(op_code(&err), "unknown_op");
}

#[test]
fn invalid_utf8_is_rejected_and_the_runtime_serves_the_next_call() {
    let rt = runtime();
    let err = rt
        .call(op::INFO, &[0xff, 0xfe, b'{', 0x80, b'}'])
        .unwrap_err();
    assert!(err.is_rejection(), "{err:?}");
    assert_eq!(rt.info().unwrap()["abi"], 1);
}

#[test]
fn short_entropy_is_refused_rather_than_stretched() {
    let rt = runtime();
    let issuer = rt.keygen([7; 32]).unwrap();
    let err = rt
        .issue(&json!({
            "key": issuer["private_jwk"],
            "issuer": ISSUER,
            "now": now(),
            "ttl": 60,
            "entropy": b64::encode(&[0; 4]),
            "claims": claims(),
        }))
        .unwrap_err();
    assert_eq!(op_code(&err), "entropy_unavailable");
}

#[test]
fn out_of_fuel_costs_one_call_and_the_next_call_succeeds() {
    // Enough for `info` (asserted above to need < 200,000), far too little
    // for an issue (millions: see the headroom test below).
    let starved = Runtime::embedded_with(RuntimeConfig::default().fuel(200_000)).unwrap();
    let issuer = runtime().keygen([7; 32]).unwrap();
    let err = starved
        .issue(&json!({
            "key": issuer["private_jwk"],
            "issuer": ISSUER,
            "now": now(),
            "ttl": 60,
            "entropy": b64::encode(&entropy::<32>().unwrap()),
            "claims": claims(),
        }))
        .unwrap_err();
    assert_eq!(err.code(), "guest_out_of_fuel", "{err:?}");
    assert_eq!(starved.info().unwrap()["abi"], 1);
}

#[test]
fn default_fuel_budget_leaves_issue_and_verify_wide_headroom() {
    let rt = runtime();
    let issued = issue(300);
    let request = serde_json::to_vec(&verify_request(&issued, AUDIENCE, now())).unwrap();
    let (_, verify_fuel) = rt.metered_call(op::VERIFY, &request).unwrap();
    let issuer = rt.keygen([7; 32]).unwrap();
    let issue_request = serde_json::to_vec(&json!({
        "key": issuer["private_jwk"],
        "issuer": ISSUER,
        "now": now(),
        "ttl": 60,
        "entropy": b64::encode(&[5; 32]),
        "claims": claims(),
    }))
    .unwrap();
    let (_, issue_fuel) = rt.metered_call(op::ISSUE, &issue_request).unwrap();
    println!("fuel: issue {issue_fuel}, verify {verify_fuel}");
    let budget = 2_000_000_000 / 10;
    assert!(
        issue_fuel > 0 && issue_fuel < budget,
        "issue used {issue_fuel}"
    );
    assert!(
        verify_fuel > 0 && verify_fuel < budget,
        "verify used {verify_fuel}"
    );
}

#[test]
fn many_threads_share_one_runtime() {
    let issued = issue(300);
    let rt = runtime();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..5 {
                    let verified = rt
                        .verify(&verify_request(&issued, AUDIENCE, now()))
                        .unwrap();
                    assert_eq!(verified["claims"]["sub"], "agent:planner");
                }
            });
        }
    });
}

#[test]
fn a_refusal_keeps_the_path_the_module_gives() {
    let rt = runtime();
    let err = rt
        .call_json(
            rt.op_id("scope_meet").unwrap(),
            &json!({ "a": [{ "actions": ["a"], "resources": ["r*x"] }], "b": [] }),
        )
        .unwrap_err();
    assert_eq!(op_code(&err), "bad_pattern");
    // (The module names the list `caps`, not the request's `a`.)
    assert_eq!(err.path(), Some("caps[0].resources[0]"));
    assert!(
        err.to_string().ends_with("(at `caps[0].resources[0]`)"),
        "{err}"
    );
    // A refusal without a place has none.
    let err = rt
        .call_json(rt.op_id("info").unwrap(), &json!({ "x": 1 }))
        .unwrap_err();
    assert_eq!(err.path(), None);
}
