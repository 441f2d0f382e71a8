//! The same operations run natively (captoken-core), in wasmtime
//! (captoken-host over the committed .wasm) and in Node (the npm package over
//! the same file), and must give identical bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use captoken_host::Runtime;
use serde_json::{Value, json};

const NOW: i64 = 1_700_000_000;

#[derive(Clone, Copy, Debug)]
enum Host {
    Native,
    Wasmtime,
    Node,
}

const HOSTS: [Host; 3] = [Host::Native, Host::Wasmtime, Host::Node];

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::embedded().unwrap())
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Run `op` on `request` in `host`; Ok(response bytes) or Err(error bytes).
fn run(host: Host, op: &str, request: &Value) -> Result<Vec<u8>, Vec<u8>> {
    let body = serde_json::to_vec(request).unwrap();
    match host {
        Host::Native => captoken_core::ops::call_named(op, &body).map_err(|e| e.to_json()),
        Host::Wasmtime => {
            let id = captoken_core::OPERATIONS
                .iter()
                .find(|o| o.name == op)
                .unwrap()
                .id;
            runtime().call(id, &body).map_err(|e| {
                serde_json::to_vec(&json!({ "code": e.code(), "message": e.to_string() })).unwrap()
            })
        }
        Host::Node => {
            let mut child = Command::new("node")
                .arg(root().join("tests/js/call.mjs"))
                .arg(op)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("node (>= 18) must be on PATH for the cross-host tests");
            child.stdin.take().unwrap().write_all(&body).unwrap();
            let out = child.wait_with_output().unwrap();
            if out.status.success() {
                Ok(out.stdout)
            } else {
                Err(out.stdout)
            }
        }
    }
}

fn seed(n: u8) -> String {
    captoken_core::b64::encode(&[n; 32])
}

fn keygen(n: u8) -> Value {
    serde_json::from_slice(&run(Host::Native, "keygen", &json!({ "seed": seed(n) })).unwrap())
        .unwrap()
}

fn issue_request(entropy: u8) -> Value {
    let issuer = keygen(1);
    let holder = keygen(2);
    json!({
        "key": issuer["private_jwk"],
        "issuer": "https://gw.example",
        "now": NOW,
        "ttl": 300,
        "entropy": captoken_core::b64::encode(&[entropy; 16]),
        "claims": {
            "sub": "operator-1",
            "aud": ["robot-gateway", "console"],
            "cnf": { "jwk": holder["public_jwk"] },
            "caps": [{ "actions": ["drive"], "resources": ["robot:7"],
                       "constraints": { "domains": ["*.example.com"], "max_purchase": 500, "pii_access": false, "rooms": ["lab"] } }],
            "plan_id": "plan-1",
            "note": "caf\u{e9} \u{1f916} \"quoted\" \\ \u{1}",
        }
    })
}

fn verify_request(token: &str, now: i64, audience: &str) -> Value {
    json!({
        "token": token,
        "jwks": { "keys": [keygen(1)["public_jwk"]] },
        "issuer": "https://gw.example",
        "audience": audience,
        "now": now,
        "leeway": 0,
    })
}

#[test]
fn keygen_is_identical_everywhere() {
    let req = json!({ "seed": seed(5) });
    let outs: Vec<_> = HOSTS
        .iter()
        .map(|h| run(*h, "keygen", &req).unwrap())
        .collect();
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
}

#[test]
fn each_host_issues_the_same_token_and_every_host_verifies_every_token() {
    // Ed25519 is deterministic, so with the same key, time and entropy the
    // three hosts must produce byte-identical tokens.
    let tokens: Vec<(Host, Vec<u8>)> = HOSTS
        .iter()
        .map(|h| (*h, run(*h, "issue", &issue_request(3)).unwrap()))
        .collect();
    assert_eq!(tokens[0].1, tokens[1].1, "native vs wasmtime issue");
    assert_eq!(tokens[0].1, tokens[2].1, "native vs node issue");

    // Distinct tokens (different jti) issued by each host, verified by each host.
    let mut claims_out = Vec::new();
    for (i, issuer_host) in HOSTS.iter().enumerate() {
        let issued: Value = serde_json::from_slice(
            &run(*issuer_host, "issue", &issue_request(10 + i as u8)).unwrap(),
        )
        .unwrap();
        let token = issued["token"].as_str().unwrap();
        let verified: Vec<Vec<u8>> = HOSTS
            .iter()
            .map(|vh| {
                run(*vh, "verify", &verify_request(token, NOW + 1, "console")).unwrap_or_else(|e| {
                    panic!(
                        "{vh:?} refused a token from {issuer_host:?}: {}",
                        String::from_utf8_lossy(&e)
                    )
                })
            })
            .collect();
        assert_eq!(
            verified[0], verified[1],
            "token from {issuer_host:?}: native vs wasmtime"
        );
        assert_eq!(
            verified[0], verified[2],
            "token from {issuer_host:?}: native vs node"
        );
        let v: Value = serde_json::from_slice(&verified[0]).unwrap();
        assert_eq!(v["claims"]["jti"], issued["jti"]);
        assert_eq!(
            v["claims"]["note"],
            "caf\u{e9} \u{1f916} \"quoted\" \\ \u{1}"
        );
        claims_out.push(v);
    }
    assert_ne!(
        claims_out[0]["claims"]["jti"],
        claims_out[1]["claims"]["jti"]
    );
}

#[test]
fn rejections_carry_the_same_code_everywhere() {
    let issued: Value =
        serde_json::from_slice(&run(Host::Native, "issue", &issue_request(4)).unwrap()).unwrap();
    let token = issued["token"].as_str().unwrap();
    let cases = [
        (verify_request(token, NOW + 300, "console"), "expired"),
        (verify_request(token, NOW, "elsewhere"), "bad_audience"),
        (
            verify_request(&token.replace('.', ".."), NOW, "console"),
            "malformed_token",
        ),
        (json!({ "token": token }), "bad_request"),
    ];
    for (req, code) in cases {
        for host in HOSTS {
            let err = run(host, "verify", &req).expect_err("must be refused");
            let err: Value = serde_json::from_slice(&err).unwrap();
            assert_eq!(err["code"], code, "{host:?}");
        }
    }
}

/// A list that fits the ABI's 1 MiB request but, signed, exceeds the 1 MiB
/// a verifier takes, is refused when signing, in every host. (Too large to
/// be a vector file: 15,000 entries.)
#[test]
fn a_revocation_list_too_large_for_verifiers_is_refused_everywhere() {
    let revoked: Vec<Value> = (0..15_000u32)
        .map(|i| {
            let jti = [i.to_be_bytes(), [7; 4], [7; 4], [7; 4]].concat();
            json!({ "jti": captoken_core::b64::encode(&jti), "revoked_at": NOW })
        })
        .collect();
    let request = json!({ "key": keygen(1)["private_jwk"], "list": {
        "iss": "https://gw.example", "seq": 1, "iat": NOW, "next_update": NOW + 60, "revoked": revoked } });
    for host in HOSTS {
        let err = run(host, "revocation_list_sign", &request).expect_err("must be refused");
        let err: Value = serde_json::from_slice(&err).unwrap();
        assert_eq!(err["code"], "revocation_list_too_large", "{host:?}");
    }
}

#[test]
fn host_and_npm_load_the_same_module() {
    let file = std::fs::read(root().join("npm/dist/captoken_bg.wasm")).unwrap();
    assert_eq!(
        Runtime::embedded_module(),
        file.as_slice(),
        "host embeds the committed bytes"
    );
    let out = Command::new("node")
        .args([
            "--input-type=module",
            "-e",
            "import { moduleSha256 } from './npm/index.js'; process.stdout.write(moduleSha256)",
        ])
        .current_dir(root())
        .output()
        .expect("node (>= 18) must be on PATH for the cross-host tests");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let npm_digest = String::from_utf8(out.stdout).unwrap();
    assert_eq!(runtime().module_sha256(), npm_digest);
    assert_eq!(npm_digest.len(), 64);
}
