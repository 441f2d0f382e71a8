//! What the host pays around the module, each beside its alternative in the
//! same run:
//!
//! 1. loading: compiling the module vs loading it precompiled from the
//!    cache (`RuntimeConfig::cache_dir`);
//! 2. per call: a fresh pooled instance for every call (what `Runtime`
//!    does) priced by the smallest operation, `info`, beside a `verify`, the
//!    gateway's most frequent call. The gap between a fresh instance and a
//!    warm one is at most the `info` time, so the ratio bounds what a pool
//!    of warm instances (which would share state between requests) could
//!    save.
//!
//!    Then each of the two with the instance slot's pages unmapped after
//!    every call (the default) beside reset in place
//!    (`RuntimeConfig::keep_resident`), and the page faults each takes.
//!
//! 3. issue: the private key handed to the module (which derives the
//!    public key and signs in wasm) vs the gateway's way, the key kept in
//!    the host: prepare, sign natively, `attach_signature` (which verifies
//!    the signature in wasm before assembling the token).
//!
//!     cargo bench -p captoken-host --bench module_load
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::Instant;

use captoken_core::b64;
use captoken_host::gateway::{KeyFileSigner, TokenSigner};
use captoken_host::{ModuleSource, Runtime, RuntimeConfig, now};
use serde_json::json;

/// This process's minor page faults so far (Linux), for the slot lines.
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 10; the command name (field 2) may hold spaces, so count from
    // the parenthesis that closes it.
    let after = stat.get(stat.rfind(')')? + 2..)?;
    after.split(' ').nth(7)?.parse().ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn micros(f: &mut impl FnMut(), batch: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..batch {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(batch)
}

/// Medians of `a` and `b` over interleaved rounds.
fn compare(mut a: impl FnMut(), mut b: impl FnMut(), batch: u32, rounds: usize) -> (f64, f64) {
    micros(&mut a, 1);
    micros(&mut b, 1);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        x.push(micros(&mut a, batch));
        y.push(micros(&mut b, batch));
    }
    (median(x), median(y))
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let cached = || Runtime::embedded_with(RuntimeConfig::default().cache_dir(dir.path())).unwrap();
    assert!(matches!(
        cached().module_source(),
        ModuleSource::CacheWritten(_)
    ));
    assert!(matches!(
        cached().module_source(),
        ModuleSource::CacheHit(_)
    ));
    let (compile, load) = compare(
        || drop(Runtime::embedded().unwrap()),
        || drop(cached()),
        1,
        9,
    );
    println!(
        "load    compile {:>9.0} us   precompiled {:>7.0} us   {:>6.1}x faster",
        compile,
        load,
        compile / load
    );

    let runtime = Runtime::embedded().unwrap();
    let issuer = runtime.keygen([7; 32]).unwrap();
    let holder = runtime.keygen([9; 32]).unwrap();
    // One issue request, signed by the key in the module or by a signer.
    let issue_request = |key: serde_json::Value| {
        let mut request = json!({
            "issuer": "https://issuer.example",
            "now": now(),
            "ttl": 600,
            "entropy": b64::encode(&[5; 32]),
            "claims": {
                "sub": "operator-1", "aud": "robot-gateway",
                "cnf": { "jwk": holder["public_jwk"] },
                "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }],
            },
        });
        request
            .as_object_mut()
            .unwrap()
            .extend(key.as_object().unwrap().clone());
        request
    };
    let with_key = issue_request(json!({ "key": issuer["private_jwk"] }));
    let issued = runtime.issue(&with_key).unwrap();
    let request = json!({
        "token": issued["token"],
        "jwks": { "keys": [issuer["public_jwk"]] },
        "issuer": "https://issuer.example",
        "audience": "robot-gateway",
        "now": now(),
    });
    let (info, verify) = compare(
        || drop(runtime.info().unwrap()),
        || drop(runtime.verify(&request).unwrap()),
        50,
        9,
    );
    println!(
        "call    info (fresh instance + smallest op) {info:>6.1} us   verify {verify:>6.1} us   \
         instance share of a verify <= {:.1}%",
        100.0 * info / verify
    );

    // The same calls with every slot's pages given back after each call
    // (the default) beside `keep_resident`, which resets the pages a call
    // dirtied in place where Linux can find them (and there is no swap).
    let unmapping = &runtime;
    let resetting =
        Runtime::embedded_with(RuntimeConfig::default().keep_resident(1 << 20)).unwrap();
    for (name, call) in [
        (
            "info  ",
            &(|rt: &Runtime| drop(rt.info().unwrap())) as &dyn Fn(&Runtime),
        ),
        ("verify", &|rt: &Runtime| drop(rt.verify(&request).unwrap())),
    ] {
        let faults = |rt: &Runtime, call: &dyn Fn(&Runtime)| {
            let before = minor_faults();
            for _ in 0..100 {
                call(rt);
            }
            minor_faults().map(|after| (after - before.unwrap_or(after)) as f64 / 100.0)
        };
        let kept = faults(&resetting, call);
        let unmapped = faults(unmapping, call);
        let (in_place, given_back) = compare(|| call(&resetting), || call(unmapping), 50, 9);
        println!(
            "slots   {name} pages reset in place {in_place:>6.1} us ({} faults/call)   \
             unmapped {given_back:>6.1} us ({} faults/call)   {:.2}x",
            kept.map_or("?".into(), |f| format!("{f:.1}")),
            unmapped.map_or("?".into(), |f| format!("{f:.1}")),
            given_back / in_place
        );
    }

    let signer =
        KeyFileSigner::from_private_jwk(issuer["private_jwk"].as_object().unwrap()).unwrap();
    let (issue_op, attach_op) = (
        runtime.op_id("issue").unwrap(),
        runtime.op_id("attach_signature").unwrap(),
    );
    let with_signer = issue_request(json!({ "signer": { "public_jwk": signer.public_jwk() } }));
    let (in_module, in_host) = compare(
        || drop(runtime.call_json(issue_op, &with_key).unwrap()),
        || {
            let prepared = runtime.call_json(issue_op, &with_signer).unwrap();
            let input = prepared["signing_input"].as_str().unwrap();
            let signature = signer.sign(input.as_bytes()).unwrap();
            let attached = runtime
                .call_json(
                    attach_op,
                    &json!({
                        "signing_input": input,
                        "signature": b64::encode(&signature),
                        "public_jwk": signer.public_jwk(),
                    }),
                )
                .unwrap();
            assert!(attached["token"].is_string());
        },
        20,
        9,
    );
    println!(
        "issue   key in the module {in_module:>6.1} us   key in the host {in_host:>6.1} us   {:.2}x",
        in_host / in_module
    );
}
