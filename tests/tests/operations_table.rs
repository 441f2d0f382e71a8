//! One table of operations and their expected outcomes, run natively, in
//! wasmtime (raw ABI) and in Node (JS API): every row must give the same
//! outcome and byte-identical responses in all three.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use captoken_host::Runtime;
use serde_json::{Value, json};

const NOW: i64 = 1_700_000_000;
const ISS: &str = "https://gw.example";
const AUD: &str = "robot-gateway";

struct Row {
    name: &'static str,
    op: &'static str,
    request: Value,
    /// `"ok"` or the expected error code.
    expect: &'static str,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn native(op: &str, request: &Value) -> Result<Vec<u8>, Vec<u8>> {
    captoken_core::ops::call_named(op, &serde_json::to_vec(request).unwrap())
        .map_err(|e| e.to_json())
}

fn ok(op: &str, request: &Value) -> Value {
    serde_json::from_slice(&native(op, request).unwrap()).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    captoken_core::b64::encode(bytes)
}

fn trust(token: &str) -> Value {
    json!({ "token": token, "jwks": { "keys": [keygen(1)["public_jwk"]] }, "issuer": ISS, "audience": AUD, "now": NOW + 1, "leeway": 0 })
}

fn keygen(n: u8) -> Value {
    ok("keygen", &json!({ "seed": b64(&[n; 32]) }))
}

fn drive7() -> Value {
    json!([{ "actions": ["drive", "stop"], "resources": ["robot:7"], "constraints": { "domains": ["*.example.com"], "max_purchase": 100, "rooms": ["lab"] } }])
}

fn claims(holder: u8, caps: Value) -> Value {
    json!({ "sub": format!("principal-{holder}"), "aud": AUD, "cnf": { "jwk": keygen(holder)["public_jwk"] }, "caps": caps })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

/// The seed's policy: agents may read and interact on spotify, never buy
/// and never touch personal data, for at most five minutes.
fn policy_doc() -> Value {
    json!({
        "version": 1,
        "max_ttl": 300,
        "rules": [
            { "id": "agents-browse", "effect": "allow",
              "subjects": { "patterns": ["agent:*"] },
              "capabilities": [{ "actions": ["CAP_READ", "CAP_INTERACT", "CAP_NAVIGATE"], "resources": ["web:*"],
                                 "constraints": { "domains": ["spotify.com", "*.spotify.com"] } }],
              "required_constraints": { "max_purchase": 0, "pii_access": false } },
            { "id": "no-checkout", "effect": "deny",
              "subjects": { "patterns": ["*"] },
              "capabilities": [{ "actions": ["*"], "resources": ["web:checkout"] }] }
        ]
    })
}

fn policy_request(subject: &str) -> Value {
    json!({
        "subject": { "id": subject },
        "capabilities": [{ "actions": ["CAP_READ", "CAP_INTERACT"], "resources": ["web:player"],
                           "constraints": { "domains": ["open.spotify.com"], "max_purchase": 500 } }],
        "ttl": 3600
    })
}

fn verify_jti(token: &str) -> Value {
    ok("verify", &trust(token))["claims"]["jti"].clone()
}

fn table() -> Vec<Row> {
    let issue = json!({ "key": keygen(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300, "entropy": b64(&[3; 16]), "claims": claims(2, drive7()) });
    let issued = ok("issue", &issue);
    let token = issued["token"].as_str().unwrap().to_string();
    let root_jti = issued["jti"].clone();
    let delegate_req = |to: u8, signer: u8, caps: Value| {
        let mut r = trust(&token);
        let m = r.as_object_mut().unwrap();
        m.remove("token");
        m.insert("parent".into(), token.clone().into());
        m.insert("key".into(), keygen(signer)["private_jwk"].clone());
        m.insert("ttl".into(), 120.into());
        m.insert("entropy".into(), b64(&[to; 16]).into());
        m.insert("claims".into(), claims(to, caps));
        r
    };
    let narrow = json!([{ "actions": ["drive"], "resources": ["robot:7"], "constraints": { "domains": ["a.example.com"], "max_purchase": 10, "rooms": ["lab"] } }]);
    let child = ok("delegate", &delegate_req(4, 2, narrow.clone()))["token"]
        .as_str()
        .unwrap()
        .to_string();
    let act = |action: &str, context: Value| json!({ "action": action, "resource": "robot:7", "context": context });
    let good_ctx = json!({ "domain": "a.example.com", "purchase_amount": 10, "room": "lab" });
    vec![
        Row {
            name: "info",
            op: "info",
            request: json!({}),
            expect: "ok",
        },
        Row {
            name: "keygen",
            op: "keygen",
            request: json!({ "seed": b64(&[9; 32]) }),
            expect: "ok",
        },
        Row {
            name: "keygen short seed",
            op: "keygen",
            request: json!({ "seed": b64(&[9; 31]) }),
            expect: "bad_request",
        },
        Row {
            name: "issue",
            op: "issue",
            request: issue.clone(),
            expect: "ok",
        },
        Row {
            name: "issue bad pattern",
            op: "issue",
            request: with(
                issue.clone(),
                "claims",
                claims(2, json!([{ "actions": ["dr*ve"], "resources": ["r"] }])),
            ),
            expect: "bad_claims",
        },
        Row {
            name: "verify",
            op: "verify",
            request: trust(&token),
            expect: "ok",
        },
        Row {
            name: "verify chain",
            op: "verify",
            request: trust(&child),
            expect: "ok",
        },
        Row {
            name: "verify chain too deep for verifier",
            op: "verify",
            request: with(trust(&child), "max_depth", json!(0)),
            expect: "delegation_too_deep",
        },
        Row {
            name: "authorize",
            op: "authorize",
            request: with(trust(&token), "request", act("drive", good_ctx.clone())),
            expect: "ok",
        },
        Row {
            name: "authorize over limit",
            op: "authorize",
            request: with(
                trust(&token),
                "request",
                act(
                    "drive",
                    with(good_ctx.clone(), "purchase_amount", json!(101)),
                ),
            ),
            expect: "constraint_violated",
        },
        Row {
            name: "authorize wrong action",
            op: "authorize",
            request: with(trust(&token), "request", act("fly", good_ctx.clone())),
            expect: "not_granted",
        },
        Row {
            name: "authorize no room",
            op: "authorize",
            request: with(
                trust(&token),
                "request",
                act("drive", json!({ "domain": "a.example.com" })),
            ),
            expect: "missing_context",
        },
        Row {
            name: "authorize typo in context",
            op: "authorize",
            request: with(
                trust(&token),
                "request",
                act("drive", json!({ "purchse_amount": 1 })),
            ),
            expect: "bad_context",
        },
        Row {
            name: "authorize evil domain",
            op: "authorize",
            request: with(
                trust(&token),
                "request",
                act(
                    "drive",
                    with(good_ctx.clone(), "domain", json!("example.com.evil")),
                ),
            ),
            expect: "constraint_violated",
        },
        Row {
            name: "authorize chain",
            op: "authorize",
            request: with(trust(&child), "request", act("drive", good_ctx.clone())),
            expect: "ok",
        },
        Row {
            name: "authorize chain beyond child",
            op: "authorize",
            request: with(trust(&child), "request", act("stop", good_ctx.clone())),
            expect: "not_granted",
        },
        Row {
            name: "verify revoked",
            op: "verify",
            request: with(trust(&token), "revoked", json!([root_jti.clone()])),
            expect: "revoked",
        },
        Row {
            name: "a revoked parent revokes its child",
            op: "authorize",
            request: with(
                with(trust(&child), "revoked", json!([root_jti.clone()])),
                "request",
                act("drive", good_ctx.clone()),
            ),
            expect: "revoked",
        },
        Row {
            name: "revoking the child leaves the parent",
            op: "verify",
            request: with(trust(&token), "revoked", json!([verify_jti(&child)])),
            expect: "ok",
        },
        Row {
            name: "null is not absent: revoked",
            op: "verify",
            request: with(trust(&token), "revoked", Value::Null),
            expect: "bad_request",
        },
        Row {
            name: "null is not absent: purchase amount",
            op: "authorize",
            request: with(
                trust(&token),
                "request",
                act(
                    "drive",
                    with(good_ctx.clone(), "purchase_amount", Value::Null),
                ),
            ),
            expect: "bad_context",
        },
        Row {
            name: "scope_meet too many pairs",
            op: "scope_meet",
            request: json!({ "a": vec![drive7()[0].clone(); 9], "b": vec![narrow[0].clone(); 8] }),
            expect: "bad_request",
        },
        Row {
            name: "delegate",
            op: "delegate",
            request: delegate_req(5, 2, narrow.clone()),
            expect: "ok",
        },
        Row {
            name: "delegate escalation",
            op: "delegate",
            request: delegate_req(
                5,
                2,
                json!([{ "actions": ["*"], "resources": ["robot:7"] }]),
            ),
            expect: "delegation_escalation",
        },
        Row {
            name: "delegate not holder",
            op: "delegate",
            request: delegate_req(5, 6, narrow.clone()),
            expect: "delegation_not_holder",
        },
        Row {
            name: "scope_meet",
            op: "scope_meet",
            request: json!({ "a": drive7(), "b": narrow.clone() }),
            expect: "ok",
        },
        Row {
            name: "scope_meet bad pattern",
            op: "scope_meet",
            request: json!({ "a": drive7(), "b": [{ "actions": ["*x"], "resources": ["r"] }] }),
            expect: "bad_pattern",
        },
        Row {
            name: "policy_check",
            op: "policy_check",
            request: json!({ "policy": policy_doc() }),
            expect: "ok",
        },
        Row {
            name: "policy_check duplicate rule",
            op: "policy_check",
            request: json!({ "policy": with(policy_doc(), "rules", json!([policy_doc()["rules"][0], policy_doc()["rules"][0]])) }),
            expect: "duplicate_rule_id",
        },
        Row {
            name: "policy_evaluate granted",
            op: "policy_evaluate",
            request: json!({ "policy": policy_doc(), "request": policy_request("agent:planner") }),
            expect: "ok",
        },
        Row {
            name: "policy_evaluate denied is a decision",
            op: "policy_evaluate",
            request: json!({ "policy": policy_doc(), "request": policy_request("stranger") }),
            expect: "ok",
        },
        Row {
            name: "policy_evaluate over budget",
            op: "policy_evaluate",
            request: json!({ "policy": policy_doc(), "request": policy_request("agent:planner"), "budget": 1 }),
            expect: "policy_budget_exceeded",
        },
        Row {
            name: "policy_explain",
            op: "policy_explain",
            request: json!({ "policy": policy_doc(), "request": policy_request("agent:planner") }),
            expect: "ok",
        },
        Row {
            name: "unknown op",
            op: "frobnicate",
            request: json!({}),
            expect: "unknown_op",
        },
    ]
}

fn outcome(result: &Result<Vec<u8>, Vec<u8>>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(body) => serde_json::from_slice::<Value>(body).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_string(),
    }
}

#[test]
fn every_operation_gives_the_same_bytes_natively_in_wasmtime_and_in_node() {
    let rows = table();
    let runtime = Runtime::embedded().unwrap();

    let batch: Vec<Value> = rows
        .iter()
        .map(|r| json!([r.op, r.request.to_string()]))
        .collect();
    let mut child = Command::new("node")
        .arg(root().join("tests/js/batch.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node (>= 18) must be on PATH for the cross-host tests");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::from(batch).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let node: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(node.len(), rows.len());

    for (row, node) in rows.iter().zip(node) {
        let body = serde_json::to_vec(&row.request).unwrap();
        let n = native(row.op, &row.request);
        let id = captoken_core::OPERATIONS
            .iter()
            .find(|o| o.name == row.op)
            .map_or(u32::MAX, |o| o.id);
        let w = runtime.call(id, &body).map_err(|e| match e {
            captoken_host::HostError::Op { .. } => {
                json!({ "code": e.code(), "message": e.to_string() })
            }
            other => panic!("{}: wasmtime failed to run: {other}", row.name),
        });
        let node_body = node["body"].as_str().unwrap().as_bytes().to_vec();
        let j = if node["ok"] == true {
            Ok(node_body)
        } else {
            Err(node_body)
        };

        assert_eq!(outcome(&n), row.expect, "{}: native", row.name);
        match (&n, &w) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}: native vs wasmtime", row.name),
            (Err(a), Err(b)) => {
                let a: Value = serde_json::from_slice(a).unwrap();
                assert_eq!(a["code"], b["code"], "{}: native vs wasmtime", row.name);
                // An unknown name has no id to send over the raw ABI, so only
                // known operations can be compared message for message.
                if row.expect != "unknown_op" {
                    assert_eq!(
                        a["message"], b["message"],
                        "{}: native vs wasmtime",
                        row.name
                    );
                }
            }
            _ => panic!(
                "{}: native and wasmtime disagree: {:?} vs {:?}",
                row.name,
                outcome(&n),
                w
            ),
        }
        assert_eq!(n.is_ok(), j.is_ok(), "{}: native vs node", row.name);
        let (a, b) = match (&n, &j) {
            (Ok(a), Ok(b)) | (Err(a), Err(b)) => (a, b),
            _ => unreachable!(),
        };
        if n.is_ok() {
            assert_eq!(a, b, "{}: native vs node bytes", row.name);
        } else {
            let (a, b): (Value, Value) = (
                serde_json::from_slice(a).unwrap(),
                serde_json::from_slice(b).unwrap(),
            );
            assert_eq!(
                (&a["code"], &a["message"]),
                (&b["code"], &b["message"]),
                "{}: native vs node",
                row.name
            );
        }
    }
}
