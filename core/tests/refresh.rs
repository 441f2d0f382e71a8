//! Refresh: through the policy again, never wider than the token it replaces.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use captoken_core::Delegation;
use captoken_core::policy::{DEFAULT_BUDGET, Policy};
use captoken_core::{
    RefreshRequest, SliceEntropy, TokenIssuer, TokenRequest, VerifiedToken, keys, refresh,
};
use common::*;
mod lit;
use captoken_core::json::Value;
use lit::json;

fn policy(rules: Value) -> Policy {
    Policy::from_value(&json!({ "version": 1, "max_ttl": 300, "rules": rules })).unwrap()
}

fn allow(caps: Value) -> Value {
    json!([{ "id": "ops", "effect": "allow", "subjects": { "patterns": ["operator-*"] }, "capabilities": caps }])
}

fn current(caps: Value) -> (String, VerifiedToken) {
    let mut req = request_json();
    req["caps"] = caps;
    req["tenant"] = json!("acme");
    let token = TokenIssuer::new(&issuer_key(), ISS)
        .issue(
            TokenRequest::from_json(req.as_object().unwrap().clone()).unwrap(),
            NOW,
            300,
            &mut SliceEntropy::new(&[7; 16]),
        )
        .unwrap()
        .token;
    let keys = keyset();
    let v = verifier(&keys).verify(&token, NOW + 100).unwrap();
    (token, v)
}

fn run(
    v: &VerifiedToken,
    p: &Policy,
    revoked: &BTreeSet<String>,
) -> Result<captoken_core::IssuedToken, captoken_core::RefreshError> {
    let req = RefreshRequest {
        policy: p,
        attributes: BTreeMap::new(),
        ttl: 600,
        budget: DEFAULT_BUDGET,
        status: None,
    };
    refresh(
        &TokenIssuer::new(&issuer_key(), ISS),
        v,
        revoked,
        &req,
        NOW + 100,
        &mut SliceEntropy::new(&[9; 16]),
    )
}

fn drive(max: u64) -> Value {
    json!([{ "actions": ["drive"], "resources": ["robot:*"], "constraints": { "max_purchase": max } }])
}

#[test]
fn refresh_keeps_the_grant_renews_the_token_and_caps_its_life() {
    let (_, v) = current(drive(10));
    let fresh = run(&v, &policy(allow(drive(10))), &BTreeSet::new()).unwrap();
    assert_ne!(fresh.claims.jti, v.claims().jti);
    assert_eq!(fresh.claims.iat, NOW + 100);
    assert_eq!(
        fresh.claims.exp,
        NOW + 100 + 300,
        "ttl asked 600, policy caps at 300"
    );
    assert_eq!(fresh.claims.request.caps, v.claims().request.caps);
    assert_eq!(fresh.claims.request.sub, v.claims().request.sub);
    assert_eq!(fresh.claims.request.extra["tenant"], "acme");
    assert_eq!(fresh.claims.request.cnf, v.claims().request.cnf);
    let keys = keyset();
    assert!(verifier(&keys).verify(&fresh.token, NOW + 101).is_ok());
}

#[test]
fn refresh_never_widens_even_when_the_policy_now_allows_more() {
    let (_, v) = current(drive(10));
    let generous = policy(allow(json!([{ "actions": ["*"], "resources": ["*"] }])));
    let fresh = run(&v, &generous, &BTreeSet::new()).unwrap();
    assert_eq!(fresh.claims.request.caps, v.claims().request.caps);
}

#[test]
fn refresh_narrows_when_the_policy_narrowed() {
    let (_, v) = current(drive(100));
    let fresh = run(&v, &policy(allow(drive(10))), &BTreeSet::new()).unwrap();
    assert_eq!(
        fresh.claims.request.caps[0].constraints.max_purchase,
        Some(10)
    );
}

#[test]
fn refresh_is_refused_when_denied_revoked_delegated_or_foreign() {
    let (_, v) = current(drive(10));
    let nothing = policy(
        json!([{ "id": "others", "effect": "allow", "subjects": { "ids": ["someone-else"] }, "capabilities": drive(10) }]),
    );
    assert_eq!(
        run(&v, &nothing, &BTreeSet::new()).unwrap_err().code(),
        "no_matching_rule"
    );
    let mut rules = allow(drive(10));
    rules.as_array_mut().unwrap().push(json!({ "id": "robots-off", "effect": "deny", "subjects": { "patterns": ["*"] }, "capabilities": [{ "actions": ["*"], "resources": ["robot:*"] }] }));
    assert_eq!(
        run(&v, &policy(rules), &BTreeSet::new())
            .unwrap_err()
            .code(),
        "denied_by_rule"
    );
    let revoked: BTreeSet<String> = [v.claims().jti.clone()].into();
    assert_eq!(
        run(&v, &policy(allow(drive(10))), &revoked)
            .unwrap_err()
            .code(),
        "revoked"
    );

    let friend = captoken_core::SigningKey::from_bytes(&[21; 32]);
    let child_req = TokenRequest::from_json(json!({ "sub": "operator-2", "aud": AUD, "cnf": { "jwk": keys::public_jwk(&friend.verifying_key()) }, "caps": drive(5) }).as_object().unwrap().clone()).unwrap();
    let child = Delegation::of(&v)
        .ttl(60)
        .max_depth(3)
        .sign(
            &holder_key(),
            child_req,
            NOW + 100,
            &mut SliceEntropy::new(&[3; 16]),
        )
        .unwrap();
    let keys = keyset();
    let cv = verifier(&keys).verify(&child.token, NOW + 100).unwrap();
    assert_eq!(
        run(&cv, &policy(allow(drive(10))), &BTreeSet::new())
            .unwrap_err()
            .code(),
        "refresh_not_root"
    );

    let signer = issuer_key();
    let other = TokenIssuer::new(&signer, "https://other.example");
    let req = RefreshRequest {
        policy: &policy(allow(drive(10))),
        attributes: BTreeMap::new(),
        ttl: 60,
        budget: DEFAULT_BUDGET,
        status: None,
    };
    let err = refresh(
        &other,
        &v,
        &BTreeSet::new(),
        &req,
        NOW + 100,
        &mut SliceEntropy::new(&[9; 16]),
    )
    .unwrap_err();
    assert_eq!(err.code(), "bad_issuer");
}
