//! Every in-process side of the benchmark, in one run, rounds alternating:
//! for issue, verify, authorize and delegate + verify the chain,
//!
//! - the floors: raw ed25519-dalek sign / verify_strict natively, and the
//!   same crate compiled to a bare .wasm (`bench/floor`) in a warm
//!   wasmtime instance;
//! - captoken: the operations table natively (the same JSON requests the
//!   module gets), the module in a warm wasmtime instance (its raw ABI, one
//!   instance for every call), and in a fresh pooled instance per call
//!   (`captoken-runtime`, the gateway's way);
//! - the peers: jsonwebtoken (EdDSA, pure-Rust backend) and biscuit-auth
//!   (create, attenuate, authorize with its Datalog authorizer).
//!
//!     captoken-bench-sides --floor <floor.wasm> [--rounds 7] [--calls 200] [--json out.json]
//!
//! It prints each side's median microseconds per call and its ratio to
//! the native floor of the operation, and writes them as JSON. Timing is
//! its output, never a verdict (`--calls 2 --rounds 1` is CI's smoke).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::hint::black_box;
use std::time::Instant;

use biscuit_auth::macros::{authorizer, biscuit, block};
use biscuit_auth::{Biscuit, KeyPair};
use captoken_runtime::Runtime;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use wasmtime::{Engine, Instance, Linker, Memory, Module, Store, TypedFunc};

const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://gw.example";
const AUDIENCE: &str = "robot-gateway";

fn b64(bytes: &[u8]) -> String {
    captoken_core::b64::encode(bytes)
}

/// A module instance kept for every call: the raw ABI (docs/ABI.md).
struct Warm {
    store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    free: TypedFunc<(i32, i32), ()>,
    call: TypedFunc<(i32, i32, i32), i32>,
    out_ptr: TypedFunc<(), i32>,
    out_len: TypedFunc<(), i32>,
}

fn instantiate(engine: &Engine, wasm: &[u8]) -> (Store<()>, Instance) {
    let module = Module::new(engine, wasm).unwrap();
    let mut linker = Linker::new(engine);
    linker.define_unknown_imports_as_traps(&module).unwrap();
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

impl Warm {
    fn new(engine: &Engine, wasm: &[u8]) -> Self {
        let (mut store, instance) = instantiate(engine, wasm);
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let alloc = instance.get_typed_func(&mut store, "ct_alloc").unwrap();
        let free = instance.get_typed_func(&mut store, "ct_free").unwrap();
        let call = instance.get_typed_func(&mut store, "ct_call").unwrap();
        let out_ptr = instance.get_typed_func(&mut store, "ct_out_ptr").unwrap();
        let out_len = instance.get_typed_func(&mut store, "ct_out_len").unwrap();
        Warm {
            store,
            memory,
            alloc,
            free,
            call,
            out_ptr,
            out_len,
        }
    }

    fn call(&mut self, op: u32, request: &[u8]) -> Vec<u8> {
        let len = i32::try_from(request.len()).unwrap();
        let ptr = self.alloc.call(&mut self.store, len).unwrap();
        self.memory
            .write(&mut self.store, usize::try_from(ptr).unwrap(), request)
            .unwrap();
        let op = i32::try_from(op).unwrap();
        let status = self.call.call(&mut self.store, (op, ptr, len)).unwrap();
        self.free.call(&mut self.store, (ptr, len)).unwrap();
        let at = usize::try_from(self.out_ptr.call(&mut self.store, ()).unwrap()).unwrap();
        let n = usize::try_from(self.out_len.call(&mut self.store, ()).unwrap()).unwrap();
        let out = self.memory.data(&self.store)[at..at + n].to_vec();
        assert_eq!(status, 0, "{}", String::from_utf8_lossy(&out));
        out
    }
}

/// The bare dalek module (`bench/floor`), kept warm.
struct Floor {
    store: Store<()>,
    memory: Memory,
    buf: usize,
    sign: TypedFunc<i32, i32>,
    verify: TypedFunc<i32, i32>,
}

impl Floor {
    fn new(engine: &Engine, wasm: &[u8]) -> Self {
        let (mut store, instance) = instantiate(engine, wasm);
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let buf: TypedFunc<(), i32> = instance.get_typed_func(&mut store, "floor_buf").unwrap();
        let buf = usize::try_from(buf.call(&mut store, ()).unwrap()).unwrap();
        // The issuer's key, derived once, as captoken's key handle and
        // the native floor hold it.
        memory.data_mut(&mut store)[buf..buf + 32].copy_from_slice(&[1; 32]);
        let keep: TypedFunc<(), i32> = instance.get_typed_func(&mut store, "floor_key").unwrap();
        assert_eq!(keep.call(&mut store, ()).unwrap(), 1);
        Floor {
            sign: instance.get_typed_func(&mut store, "floor_sign").unwrap(),
            verify: instance.get_typed_func(&mut store, "floor_verify").unwrap(),
            store,
            memory,
            buf,
        }
    }

    /// Put the key (seed or public), signature and message in place.
    fn load(&mut self, key: &[u8; 32], signature: &[u8; 64], message: &[u8]) -> i32 {
        let data = self.memory.data_mut(&mut self.store);
        data[self.buf..self.buf + 32].copy_from_slice(key);
        data[self.buf + 32..self.buf + 96].copy_from_slice(signature);
        data[self.buf + 96..self.buf + 96 + message.len()].copy_from_slice(message);
        i32::try_from(message.len()).unwrap()
    }
}

/// One side of one operation: its name, what kind of side it is, and one call.
struct Side<'a> {
    name: &'static str,
    kind: &'static str,
    run: Box<dyn FnMut() + 'a>,
}

fn side<'a>(name: &'static str, kind: &'static str, run: impl FnMut() + 'a) -> Side<'a> {
    Side {
        name,
        kind,
        run: Box::new(run),
    }
}

fn batch(run: &mut dyn FnMut(), calls: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        run();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Each side's median µs per call, the sides taking turns every round.
fn measure(op: &str, mut sides: Vec<Side<'_>>, rounds: usize, calls: u32) -> Value {
    for s in &mut sides {
        batch(&mut s.run, calls.min(20));
    }
    let mut times = vec![Vec::new(); sides.len()];
    for _ in 0..rounds {
        for (s, t) in sides.iter_mut().zip(&mut times) {
            t.push(batch(&mut s.run, calls));
        }
    }
    let medians: Vec<f64> = times.into_iter().map(median).collect();
    let floor = medians[0];
    println!("{op}");
    let rows: Vec<Value> = sides
        .iter()
        .zip(&medians)
        .map(|(s, &m)| {
            println!("  {:<58} {:>9.1} µs  {:>6.2}x", s.name, m, m / floor);
            json!({ "side": s.name, "kind": s.kind, "median_us": m, "vs_floor": m / floor })
        })
        .collect();
    json!({ "op": op, "floor": sides[0].name, "sides": rows })
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[allow(clippy::too_many_lines)]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = arg(&args, "--rounds").map_or(7, |r| r.parse().unwrap());
    let calls: u32 = arg(&args, "--calls").map_or(200, |c| c.parse().unwrap());
    let floor_wasm = std::fs::read(arg(&args, "--floor").expect("--floor <floor.wasm>")).unwrap();

    // Keys and requests, the same for every side.
    let native = |op: &str, request: &Value| -> Value {
        let out = captoken_core::ops::call_named(op, &serde_json::to_vec(request).unwrap())
            .unwrap_or_else(|e| panic!("{op}: {}", String::from_utf8_lossy(&e.to_json())));
        serde_json::from_slice(&out).unwrap()
    };
    let keygen = |seed: u8| native("keygen", &json!({ "seed": b64(&[seed; 32]) }));
    let (issuer, holder, friend) = (keygen(1), keygen(2), keygen(3));
    let caps = json!([{ "actions": ["drive"], "resources": ["robot:7"],
        "constraints": { "domains": ["*.example.com"], "max_purchase": 0, "pii_access": false } }]);
    let claims = json!({ "sub": "operator-1", "aud": AUDIENCE, "cnf": { "jwk": holder["public_jwk"] }, "caps": caps });
    let issue_req = json!({ "key": issuer["handle"], "issuer": ISSUER, "now": NOW, "ttl": 3600,
        "entropy": b64(&[5; 16]), "claims": claims });
    let token = native("issue", &issue_req)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let trust = json!({ "jwks": { "keys": [issuer["public_jwk"]] }, "issuer": ISSUER,
        "audience": AUDIENCE, "now": NOW + 1 });
    let mut verify_req = trust.clone();
    verify_req["token"] = json!(token);
    let mut authorize_req = verify_req.clone();
    authorize_req["request"] = json!({ "action": "drive", "resource": "robot:7",
        "context": { "domain": "a.example.com", "purchase_amount": 0, "pii": false } });
    let mut delegate_req = trust.clone();
    delegate_req["parent"] = json!(token);
    delegate_req["key"] = holder["handle"].clone();
    delegate_req["ttl"] = json!(60);
    delegate_req["entropy"] = json!(b64(&[6; 16]));
    delegate_req["claims"] = json!({ "sub": "operator-2", "aud": AUDIENCE,
        "cnf": { "jwk": friend["public_jwk"] },
        "caps": [{ "actions": ["drive"], "resources": ["robot:7"],
                   "constraints": { "domains": ["a.example.com"], "max_purchase": 0, "pii_access": false } }] });
    let bytes = |v: &Value| serde_json::to_vec(v).unwrap();
    let (issue_b, verify_b, authorize_b, delegate_b) = (
        bytes(&issue_req),
        bytes(&verify_req),
        bytes(&authorize_req),
        bytes(&delegate_req),
    );
    // Delegate, then verify the two-link chain it answers.
    let chain_b = |delegated: &[u8]| -> Vec<u8> {
        let child: Value = serde_json::from_slice(delegated).unwrap();
        let mut request = verify_req.clone();
        request["token"] = child["token"].clone();
        bytes(&request)
    };

    // The floor signs and verifies the very bytes captoken signs.
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let signing_input = signing_input.as_bytes().to_vec();
    let signature: [u8; 64] = captoken_core::b64::decode(signature.as_bytes())
        .unwrap()
        .try_into()
        .unwrap();
    let dalek = SigningKey::from_bytes(&[1; 32]);
    let dalek_public = dalek.verifying_key();
    assert!(
        dalek_public
            .verify_strict(
                &signing_input,
                &ed25519_dalek::Signature::from_bytes(&signature)
            )
            .is_ok(),
        "keygen's seed 1 is the issuer"
    );

    let engine = Engine::default();
    let mut floor = Floor::new(&engine, &floor_wasm);
    let runtime = Runtime::embedded().unwrap();
    let mut warm = Warm::new(&engine, Runtime::embedded_module());
    let id = |name: &str| runtime.op_id(name).unwrap();
    let (issue_op, verify_op, authorize_op, delegate_op) =
        (id("issue"), id("verify"), id("authorize"), id("delegate"));
    let fresh = |op: u32, request: &[u8]| runtime.call(op, request).unwrap();

    // jsonwebtoken: the same claims, signed and checked as EdDSA.
    let pkcs8 = [
        &[
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ][..],
        &[1; 32],
    ]
    .concat();
    let jwt_key = jsonwebtoken::EncodingKey::from_ed_der(&pkcs8);
    let jwt_public =
        jsonwebtoken::DecodingKey::from_ed_components(issuer["public_jwk"]["x"].as_str().unwrap())
            .unwrap();
    let mut jwt_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    jwt_header.kid = issuer["kid"].as_str().map(str::to_owned);
    let mut jwt_claims = claims.clone();
    jwt_claims["iss"] = json!(ISSUER);
    jwt_claims["iat"] = json!(NOW);
    jwt_claims["nbf"] = json!(NOW);
    jwt_claims["exp"] = json!(NOW + 3600);
    jwt_claims["jti"] = json!(b64(&[5; 16]));
    let jwt = jsonwebtoken::encode(&jwt_header, &jwt_claims, &jwt_key).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    // Its clock is the real one; the token's times are 2023's.
    validation.validate_exp = false;
    validation.validate_nbf = false;

    // biscuit-auth: a token granting the same right, attenuated and authorized.
    let root = KeyPair::new();
    let root_public = root.public();
    let create = || {
        biscuit!(r#"user("operator-1"); right("robot:7", "drive"); check if time($t), $t < 2030-01-01T00:00:00Z;"#)
            .build(&root)
            .unwrap()
            .to_vec()
            .unwrap()
    };
    let biscuit_token = create();
    let authorize_biscuit = |token: &[u8]| {
        let token = Biscuit::from(token, root_public).unwrap();
        let mut authorizer = authorizer!(
            r#"resource("robot:7"); operation("drive"); time(2026-01-01T00:00:00Z);
               allow if right($r, $op), resource($r), operation($op);"#
        )
        .build(&token)
        .unwrap();
        authorizer.authorize().unwrap();
    };

    let mut report = Vec::new();
    let issue_sides = vec![
        side("ed25519-dalek sign, native", "floor", || {
            black_box(dalek.sign(&signing_input));
        }),
        side(
            "ed25519-dalek sign, bare .wasm in wasmtime (warm)",
            "floor",
            || {
                let len = floor.load(&[1; 32], &signature, &signing_input);
                assert_eq!(floor.sign.call(&mut floor.store, len).unwrap(), 1);
            },
        ),
        side(
            "captoken issue, native (operations table)",
            "captoken",
            || {
                black_box(captoken_core::ops::call_named("issue", &issue_b).unwrap());
            },
        ),
        side("captoken issue, wasmtime warm instance", "captoken", || {
            black_box(warm.call(issue_op, &issue_b));
        }),
        side(
            "captoken issue, wasmtime fresh instance per call",
            "captoken",
            || {
                black_box(fresh(issue_op, &issue_b));
            },
        ),
        side("jsonwebtoken encode (EdDSA)", "peer", || {
            black_box(jsonwebtoken::encode(&jwt_header, &jwt_claims, &jwt_key).unwrap());
        }),
        side("biscuit-auth create", "peer", || {
            black_box(create());
        }),
    ];
    report.push(measure("issue", issue_sides, rounds, calls));

    let mut floor = Floor::new(&engine, &floor_wasm);
    let mut warm = Warm::new(&engine, Runtime::embedded_module());
    let public_bytes = dalek_public.to_bytes();
    let verify_sides = vec![
        side("ed25519-dalek verify_strict, native", "floor", || {
            let key = ed25519_dalek::VerifyingKey::from_bytes(&public_bytes).unwrap();
            key.verify_strict(
                &signing_input,
                &ed25519_dalek::Signature::from_bytes(&signature),
            )
            .unwrap();
        }),
        side(
            "ed25519-dalek verify_strict, bare .wasm in wasmtime (warm)",
            "floor",
            || {
                let len = floor.load(&public_bytes, &signature, &signing_input);
                assert_eq!(floor.verify.call(&mut floor.store, len).unwrap(), 1);
            },
        ),
        side(
            "captoken verify, native (operations table)",
            "captoken",
            || {
                black_box(captoken_core::ops::call_named("verify", &verify_b).unwrap());
            },
        ),
        side(
            "captoken verify, wasmtime warm instance",
            "captoken",
            || {
                black_box(warm.call(verify_op, &verify_b));
            },
        ),
        side(
            "captoken verify, wasmtime fresh instance per call",
            "captoken",
            || {
                black_box(fresh(verify_op, &verify_b));
            },
        ),
        side("jsonwebtoken decode (EdDSA)", "peer", || {
            black_box(jsonwebtoken::decode::<Value>(&jwt, &jwt_public, &validation).unwrap());
        }),
        side("biscuit-auth parse and verify", "peer", || {
            black_box(Biscuit::from(&biscuit_token, root_public).unwrap());
        }),
    ];
    report.push(measure("verify", verify_sides, rounds, calls));

    let mut warm = Warm::new(&engine, Runtime::embedded_module());
    let authorize_sides = vec![
        side(
            "captoken authorize, native (operations table)",
            "captoken",
            || {
                black_box(captoken_core::ops::call_named("authorize", &authorize_b).unwrap());
            },
        ),
        side(
            "captoken authorize, wasmtime warm instance",
            "captoken",
            || {
                black_box(warm.call(authorize_op, &authorize_b));
            },
        ),
        side(
            "captoken authorize, wasmtime fresh instance per call",
            "captoken",
            || {
                black_box(fresh(authorize_op, &authorize_b));
            },
        ),
        side(
            "biscuit-auth verify and authorize (Datalog)",
            "peer",
            || {
                authorize_biscuit(&biscuit_token);
            },
        ),
    ];
    report.push(measure("authorize", authorize_sides, rounds, calls));

    let mut warm = Warm::new(&engine, Runtime::embedded_module());
    let delegate_sides = vec![
        side(
            "captoken delegate + verify chain, native (operations table)",
            "captoken",
            || {
                let child = captoken_core::ops::call_named("delegate", &delegate_b).unwrap();
                black_box(captoken_core::ops::call_named("verify", &chain_b(&child)).unwrap());
            },
        ),
        side(
            "captoken delegate + verify chain, wasmtime warm instance",
            "captoken",
            || {
                let child = warm.call(delegate_op, &delegate_b);
                black_box(warm.call(verify_op, &chain_b(&child)));
            },
        ),
        side(
            "captoken delegate + verify chain, wasmtime fresh instances",
            "captoken",
            || {
                let child = fresh(delegate_op, &delegate_b);
                black_box(fresh(verify_op, &chain_b(&child)));
            },
        ),
        side(
            "biscuit-auth attenuate + verify and authorize",
            "peer",
            || {
                let token = Biscuit::from(&biscuit_token, root_public).unwrap();
                let child = token
                    .append(block!(r#"check if operation("drive");"#))
                    .unwrap()
                    .to_vec()
                    .unwrap();
                authorize_biscuit(&child);
            },
        ),
    ];
    report.push(measure(
        "delegate + verify chain",
        delegate_sides,
        rounds,
        calls,
    ));

    let out = json!({
        "generated_by": "bench/sides",
        "rounds": rounds,
        "calls_per_round": calls,
        "ops": report,
    });
    if let Some(path) = arg(&args, "--json") {
        std::fs::write(&path, serde_json::to_vec_pretty(&out).unwrap()).unwrap();
        println!("wrote {path}");
    }
}
