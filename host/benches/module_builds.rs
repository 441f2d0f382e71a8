//! Two or more builds of the module side by side, each in wasmtime with a
//! fresh instance per call (the gateway's way), rounds alternating between
//! them: what a change to the module bought or cost, per operation, in the
//! same run. The requests are the gateway's: an `issue` through the sample
//! policy with the key outside the module (the prepare), its
//! `attach_signature`, a `verify` of the token, and `info` (the price of an
//! instance and the smallest call).
//!
//!     cargo bench -p captoken-host --bench module_builds -- A.wasm B.wasm …
//!
//! e.g. `git show HEAD:npm/dist/captoken_bg.wasm > /tmp/head.wasm` beside a
//! fresh `scripts/build-wasm.sh /tmp/new` build.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::Instant;

use captoken_core::b64;
use captoken_host::Runtime;
use captoken_host::gateway::{KeyFileSigner, TokenSigner};
use serde_json::{Value, json};

const ROUNDS: usize = 7;
const CALLS: u32 = 200;
const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "http://127.0.0.1:8080";

/// The gateway's sample policy (host/src/gateway/setup.rs), as it sends it.
const POLICY: &str = r#"{"version": 1, "max_ttl": 3600, "rules": [
  {"id": "operators-drive", "effect": "allow", "subjects": {"patterns": ["operator-*"]},
   "capabilities": [{"actions": ["drive", "stop"], "resources": ["robot:*"]}], "max_ttl": 900},
  {"id": "agents-browse", "effect": "allow", "subjects": {"patterns": ["agent-*"]},
   "capabilities": [{"actions": ["CAP_READ", "CAP_INTERACT", "CAP_NAVIGATE"], "resources": ["web:*"]}],
   "required_constraints": {"max_purchase": 0, "pii_access": false}, "max_ttl": 300, "bearer": {"max_ttl": 300}},
  {"id": "paired-keys-input", "effect": "allow", "subjects": {"patterns": ["key:*"]},
   "capabilities": [{"actions": ["INPUT", "USER"], "resources": ["*"]}]},
  {"id": "everyone-reads", "effect": "allow", "subjects": {"patterns": ["*"]},
   "capabilities": [{"actions": ["READ"], "resources": ["*"]}]},
  {"id": "agents-never-pii", "effect": "deny", "subjects": {"patterns": ["agent-*"]},
   "capabilities": [{"actions": ["*"], "resources": ["pii:*"]}]}]}"#;

const OPS: [&str; 4] = [
    "info",
    "issue (prepare, policy)",
    "attach_signature",
    "verify",
];

fn per_call(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..CALLS {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS)
}

/// One build's runtime and the gateway's four requests for it.
struct Build {
    name: String,
    runtime: Runtime,
    calls: Vec<(u32, Value)>,
}

impl Build {
    fn load(path: &str) -> Self {
        let wasm = std::fs::read(path).expect("a module file");
        let runtime = Runtime::from_bytes(&wasm, &captoken_runtime::sha256_hex(&wasm)).unwrap();
        let op = |name: &str| runtime.op_id(name).unwrap();
        let issuer = runtime.keygen([7; 32]).unwrap();
        let holder = runtime.keygen([9; 32]).unwrap();
        let signer =
            KeyFileSigner::from_private_jwk(issuer["private_jwk"].as_object().unwrap()).unwrap();
        let prepare = json!({
            "issuer": ISSUER, "now": NOW, "entropy": b64::encode(&[3; 32]), "ttl": 3600,
            "claims": {
                "sub": "key:0123456789abcdef0123456789abcdef0123456789a", "aud": "captoken",
                "caps": [{"actions": ["INPUT"], "resources": ["*"]}],
                "cnf": {"jwk": holder["public_jwk"]},
                "status": {"status_list": {"idx": 5, "uri": format!("{ISSUER}/v1/status-lists/0")}},
            },
            "signer": {"public_jwk": signer.public_jwk()},
            "policy": serde_json::from_str::<Value>(POLICY).unwrap(),
        });
        let prepared = runtime.call_json(op("issue"), &prepare).unwrap();
        let input = prepared["signing_input"].as_str().unwrap().to_owned();
        let attach = json!({
            "signing_input": input,
            "signature": b64::encode(&signer.sign(input.as_bytes()).unwrap()),
            "public_jwk": signer.public_jwk(),
        });
        let token = runtime.call_json(op("attach_signature"), &attach).unwrap()["token"].clone();
        let verify = json!({
            "token": token, "jwks": {"keys": [signer.public_jwk()]}, "issuer": ISSUER,
            "audience": "captoken", "now": NOW + 5,
        });
        let calls = vec![
            (op("info"), json!({})),
            (op("issue"), prepare),
            (op("attach_signature"), attach),
            (op("verify"), verify),
        ];
        Self {
            name: path.to_owned(),
            runtime,
            calls,
        }
    }

    fn round(&self) -> Vec<f64> {
        self.calls
            .iter()
            .map(|(op, request)| per_call(|| drop(self.runtime.call_json(*op, request).unwrap())))
            .collect()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if files.is_empty() {
        eprintln!("usage: cargo bench -p captoken-host --bench module_builds -- A.wasm B.wasm …");
        return;
    }
    let builds: Vec<Build> = files.iter().map(|f| Build::load(f)).collect();
    for b in &builds {
        b.round(); // warm up
    }
    let mut times = vec![vec![Vec::new(); OPS.len()]; builds.len()];
    for _ in 0..ROUNDS {
        for (b, build) in builds.iter().enumerate() {
            for (o, t) in build.round().into_iter().enumerate() {
                times[b][o].push(t);
            }
        }
    }
    println!(
        "µs per call, fresh instance, medians of {ROUNDS} x {CALLS}; ratio to the first build"
    );
    let first: Vec<f64> = times[0].iter().map(|t| median(t.clone())).collect();
    for (b, build) in builds.iter().enumerate() {
        println!("{}", build.name);
        for (o, name) in OPS.iter().enumerate() {
            let m = median(times[b][o].clone());
            println!("  {name:<26} {m:>8.1} µs {:>6.2}x", m / first[o]);
        }
    }
}
