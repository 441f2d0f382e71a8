//! Issue and verify of the native core beside the raw Ed25519 operation each
//! one is built on, measured in the same run and printed as ratios.
//!
//!     cargo bench -p captoken-core --bench issue_verify
//!
//! Target (issue #2): issue <= 1.3x raw `sign`, verify <= 1.3x raw
//! `verify_strict`, on the same signing input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::time::Instant;

use captoken_core::{
    KeySet, SigningKey, SliceEntropy, TokenIssuer, TokenRequest, TrustedKey, Verifier,
};
use ed25519_dalek::{Signature, Signer};
use serde_json::json;

const NOW: i64 = 1_700_000_000;

fn time_batch(f: &mut impl FnMut(), batch: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..batch {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(batch)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median per-call time of `ours` and of `raw`, in microseconds, with the
/// rounds interleaved so that load from elsewhere hits both sides alike.
fn compare(mut ours: impl FnMut(), mut raw: impl FnMut(), batch: u32, rounds: usize) -> (f64, f64) {
    time_batch(&mut ours, batch);
    time_batch(&mut raw, batch);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        a.push(time_batch(&mut ours, batch));
        b.push(time_batch(&mut raw, batch));
    }
    (median(a), median(b))
}

fn main() {
    let issuer_key = SigningKey::from_bytes(&[7; 32]);
    let holder = SigningKey::from_bytes(&[9; 32]).verifying_key();
    let request = TokenRequest::from_json(
        serde_json::from_value::<captoken_core::json::Value>(json!({
            "sub": "operator-1", "aud": "robot-gateway",
            "cnf": { "jwk": captoken_core::keys::public_jwk(&holder) },
            "caps": [{ "actions": ["drive"], "resources": ["robot:7"],
                       "constraints": { "domains": ["*.example.com"], "max_purchase": 0, "pii_access": false } }],
        }))
        .unwrap()
        .as_object()
        .unwrap()
        .clone(),
    )
    .unwrap();
    let issuer = TokenIssuer::new(&issuer_key, "https://gw.example");
    let token = issuer
        .issue(request.clone(), NOW, 300, &mut SliceEntropy::new(&[1; 16]))
        .unwrap()
        .token;
    let mut keys = KeySet::new("https://gw.example");
    keys.insert(TrustedKey::new(issuer_key.verifying_key(), None, None))
        .unwrap();
    let verifier = Verifier::new(&keys, "robot-gateway");

    // The raw operations sign / verify exactly the bytes a token signs.
    let (signing_input, sig64) = token.rsplit_once('.').unwrap();
    let sig = Signature::from_bytes(&captoken_core::b64::decode_array::<64>(sig64).unwrap());
    let vk = issuer_key.verifying_key();

    let (batch, rounds) = (100, 61);
    let (issue, raw_sign) = compare(
        || {
            drop(black_box(
                issuer
                    .issue(request.clone(), NOW, 300, &mut SliceEntropy::new(&[1; 16]))
                    .unwrap(),
            ))
        },
        || {
            black_box(issuer_key.sign(black_box(signing_input.as_bytes())));
        },
        batch,
        rounds,
    );
    let (verify, raw_verify) = compare(
        || drop(black_box(verifier.verify(black_box(&token), NOW).unwrap())),
        || {
            vk.verify_strict(black_box(signing_input.as_bytes()), black_box(&sig))
                .unwrap()
        },
        batch,
        rounds,
    );

    println!(
        "token: {} bytes, signing input {} bytes",
        token.len(),
        signing_input.len()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>8}",
        "operation", "captoken", "raw", "ratio"
    );
    println!(
        "{:<34} {:>8.1}us {:>8.1}us {:>7.2}x",
        "issue  vs ed25519 sign",
        issue,
        raw_sign,
        issue / raw_sign
    );
    println!(
        "{:<34} {:>8.1}us {:>8.1}us {:>7.2}x",
        "verify vs ed25519 verify_strict",
        verify,
        raw_verify,
        verify / raw_verify
    );
}
