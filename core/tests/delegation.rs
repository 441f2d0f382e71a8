//! Delegation chains: minting, verifying, and every way a chain can lie.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use captoken_core::delegation::{self, DEFAULT_MAX_DEPTH, Delegation};
use captoken_core::scope::{self, Context, Request};
use captoken_core::{SigningKey, SliceEntropy, TokenRequest, VerifiedToken, b64, keys};
use common::*;
use proptest::prelude::*;
mod lit;
use captoken_core::json::{Map, Value};
use lit::json;

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn child_request(holder: &SigningKey, caps: Value, aud: Value) -> TokenRequest {
    TokenRequest::from_json(
        json!({
            "sub": format!("delegate-{}", keys::thumbprint(&holder.verifying_key())),
            "aud": aud,
            "cnf": { "jwk": keys::public_jwk(&holder.verifying_key()) },
            "caps": caps,
        })
        .as_object()
        .unwrap()
        .clone(),
    )
    .unwrap()
}

fn drive_robot7() -> Value {
    json!([{ "actions": ["drive"], "resources": ["robot:7"], "constraints": { "domains": ["b.example.com"], "max_purchase": 0, "pii_access": false } }])
}

fn verify(text: &str, now: i64) -> Result<VerifiedToken, captoken_core::TokenError> {
    let keys = keyset();
    verifier(&keys).verify(text, now)
}

fn code(text: &str) -> &'static str {
    match verify(text, NOW + 1) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

/// Delegate `parent_text` (held by `holder`) to `to`, at NOW + 1.
fn delegate(
    parent_text: &str,
    holder: &SigningKey,
    to: &SigningKey,
    caps: Value,
    ttl: u64,
) -> Result<String, captoken_core::TokenError> {
    let parent = verify(parent_text, NOW + 1).unwrap();
    Delegation::of(&parent)
        .ttl(ttl)
        .max_depth(DEFAULT_MAX_DEPTH)
        .sign(
            holder,
            child_request(to, caps, json!(AUD)),
            NOW + 1,
            &mut SliceEntropy::new(&[to.to_bytes()[0]; 16]),
        )
        .map(|issued| issued.token)
}

/// A hand-made child of `parent_text` with arbitrary claims, signed by
/// `signer`: what a malicious holder could produce without `delegate`.
fn forge_child(parent_text: &str, signer: &SigningKey, edit: impl FnOnce(&mut Map)) -> String {
    let parent = verify(parent_text, NOW + 1).unwrap();
    let leaf = parent_text.split('~').next().unwrap();
    let mut claims = json!({
        "ver": 1, "iss": ISS, "sub": "forged", "aud": AUD,
        "iat": NOW + 1, "nbf": NOW + 1, "exp": parent.claims().exp,
        "jti": b64::encode(&[0xAB; 16]),
        "cnf": { "jwk": keys::public_jwk(&key(50).verifying_key()) },
        "caps": drive_robot7(),
        "prf": b64::encode(&sha(leaf)),
    });
    // Children carry their parent's plan and extra claims unchanged.
    let inherited = claims.as_object_mut().unwrap();
    if let Some(plan) = &parent.claims().request.plan_id {
        inherited.insert("plan_id".into(), plan.clone().into());
    }
    for (k, v) in &parent.claims().request.extra {
        inherited.insert(k.clone(), v.clone());
    }
    edit(claims.as_object_mut().unwrap());
    let header = json!({ "alg": "EdDSA", "typ": "captoken+jwt", "kid": keys::thumbprint(&signer.verifying_key()) });
    format!(
        "{}~{parent_text}",
        sign_raw_with(signer, &header.to_string(), &claims.to_string())
    )
}

fn sha(text: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).into()
}

#[test]
fn a_chain_of_three_delegations_verifies_offline_from_the_root_keys() {
    let root = issue_at(NOW, 300); // held by holder_key()
    let (a, b, c) = (key(21), key(22), key(23));
    let t1 = delegate(&root, &holder_key(), &a, drive_robot7(), 200).unwrap();
    let t2 = delegate(&t1, &a, &b, drive_robot7(), 200).unwrap();
    let t3 = delegate(&t2, &b, &c, drive_robot7(), 200).unwrap();
    assert_eq!(t3.matches('~').count(), 3);
    let v = verify(&t3, NOW + 1).unwrap();
    assert_eq!(v.depth(), 3);
    assert_eq!(v.holder().unwrap().key().unwrap(), c.verifying_key());
    assert_eq!(
        v.chain()[0].kid,
        keys::thumbprint(&issuer_key().verifying_key())
    );
    assert_eq!(v.chain_jtis().count(), 4);
    // now + ttl, inside the parent's lifetime.
    assert_eq!(v.claims().exp, NOW + 1 + 200);
    let mut context = Context::default();
    context.domain = Some("b.example.com".into());
    let ok = Request::new("drive", "robot:7", context);
    assert!(v.authorize(&ok).is_ok());
    // A fourth delegation is refused when minting and when verifying.
    let err = delegate(&t3, &c, &key(24), drive_robot7(), 100).unwrap_err();
    assert_eq!(err.code(), "delegation_too_deep");
    let forged = forge_child(&t3, &c, |_| {});
    assert_eq!(code(&forged), "delegation_too_deep");
    let keys = keyset();
    assert!(
        verifier(&keys)
            .max_delegation_depth(4)
            .verify(&forged, NOW + 1)
            .is_ok()
    );
}

#[test]
fn escalations_are_refused_when_minting() {
    let root = issue_at(NOW, 300);
    let a = key(21);
    let wider = [
        json!([{ "actions": ["drive", "stop"], "resources": ["robot:7"], "constraints": { "domains": ["b.example.com"], "max_purchase": 0, "pii_access": false } }]),
        json!([{ "actions": ["drive"], "resources": ["robot:*"], "constraints": { "domains": ["b.example.com"], "max_purchase": 0, "pii_access": false } }]),
        json!([{ "actions": ["drive"], "resources": ["robot:7"], "constraints": { "domains": ["b.example.com"], "max_purchase": 1, "pii_access": false } }]),
        json!([{ "actions": ["drive"], "resources": ["robot:7"], "constraints": { "domains": ["*.example.com"], "max_purchase": 0 } }]),
        json!([{ "actions": ["drive"], "resources": ["robot:7"] }]),
    ];
    for caps in wider {
        let err = delegate(&root, &holder_key(), &a, caps.clone(), 100).unwrap_err();
        assert_eq!(err.code(), "delegation_escalation", "{caps}");
    }
    let parent = verify(&root, NOW + 1).unwrap();
    let err = Delegation::of(&parent)
        .ttl(100)
        .max_depth(3)
        .sign(
            &holder_key(),
            child_request(&a, drive_robot7(), json!([AUD, "elsewhere"])),
            NOW + 1,
            &mut SliceEntropy::new(&[1; 16]),
        )
        .unwrap_err();
    assert_eq!(err.code(), "delegation_escalation");
    // A longer ttl is capped, not refused: the child simply ends with its parent.
    let t = delegate(&root, &holder_key(), &a, drive_robot7(), 10_000).unwrap();
    assert_eq!(verify(&t, NOW + 1).unwrap().claims().exp, NOW + 300);
}

#[test]
fn only_the_holder_may_delegate() {
    let root = issue_at(NOW, 300);
    let err = delegate(&root, &key(99), &key(21), drive_robot7(), 100).unwrap_err();
    assert_eq!(err.code(), "delegation_not_holder");
}

#[test]
fn escalations_are_refused_when_verifying_a_forged_child() {
    let root = issue_at(NOW, 300);
    let holder = holder_key();
    let cases: Vec<(&str, Value)> = vec![
        ("caps", json!([{ "actions": ["*"], "resources": ["*"] }])),
        ("exp", json!(NOW + 301)),
        ("nbf", json!(NOW - 1)),
        ("aud", json!([AUD, "elsewhere"])),
    ];
    for (claim, value) in cases {
        let forged = forge_child(&root, &holder, |c| {
            c.insert(claim.into(), value.clone());
        });
        assert_eq!(code(&forged), "delegation_escalation", "{claim} = {value}");
    }
    assert_eq!(code(&forge_child(&root, &holder, |_| {})), "ok");
}

#[test]
fn a_child_signed_by_anyone_but_the_parent_holder_is_a_broken_link() {
    let root = issue_at(NOW, 300);
    assert_eq!(
        code(&forge_child(&root, &key(66), |_| {})),
        "delegation_broken_link"
    );
    // Claiming the holder's kid while signing with another key fails the signature.
    let forged = forge_child(&root, &key(66), |_| {});
    let (child, rest) = forged.split_once('~').unwrap();
    let parts: Vec<&str> = child.split('.').collect();
    let header = json!({ "alg": "EdDSA", "typ": "captoken+jwt", "kid": keys::thumbprint(&holder_key().verifying_key()) });
    let spoofed = format!(
        "{}.{}.{}~{rest}",
        b64::encode(header.to_string().as_bytes()),
        parts[1],
        parts[2]
    );
    assert_eq!(code(&spoofed), "bad_signature");
}

#[test]
fn swapping_the_parent_is_detected() {
    let root_a = issue_at(NOW, 300);
    let root_b = common::issue_at(NOW + 1, 200); // same holder, another jti
    assert_ne!(root_a, root_b);
    let child = delegate(&root_a, &holder_key(), &key(21), drive_robot7(), 100).unwrap();
    let (leaf, _) = child.split_once('~').unwrap();
    assert_eq!(
        code(&format!("{leaf}~{root_b}")),
        "delegation_parent_mismatch"
    );
    // A token the issuer signed may not claim a parent.
    let with_prf = sign_values(&header_json(), &{
        let mut c = claims_json();
        c["prf"] = b64::encode(&[1; 32]).into();
        c
    });
    assert_eq!(code(&with_prf), "delegation_parent_mismatch");
    // Presenting the child alone: its signer is no issuer key.
    assert_eq!(code(leaf), "unknown_kid");
}

#[test]
fn a_repeated_jti_in_a_chain_is_a_cycle() {
    let root = issue_at(NOW, 300);
    let root_jti = verify(&root, NOW + 1).unwrap().claims().jti.clone();
    let forged = forge_child(&root, &holder_key(), |c| {
        c.insert("jti".into(), root_jti.clone().into());
    });
    assert_eq!(code(&forged), "delegation_cycle");
}

fn small_caps() -> impl Strategy<Value = Value> {
    let cap = (
        prop::sample::subsequence(vec!["drive", "stop", "*", "dr*"], 1..=2),
        prop::sample::subsequence(vec!["robot:7", "robot:*", "cam:1"], 1..=2),
        proptest::option::of(prop::sample::select(vec![0u64, 5, 50])),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(a, r, m, p)| {
            let mut c = Map::new();
            if let Some(m) = m {
                c.insert("max_purchase".into(), m.into());
            }
            if let Some(p) = p {
                c.insert("pii_access".into(), p.into());
            }
            json!({ "actions": a, "resources": r, "constraints": c })
        });
    prop::collection::vec(cap, 1..3).prop_map(Value::from)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever a holder asks to delegate, the child never allows a request
    /// its parent refuses; what is refused is refused as an escalation.
    #[test]
    fn a_child_never_grants_what_its_parent_does_not(parent_caps in small_caps(), child_caps in small_caps()) {
        let mut req = request_json();
        req["caps"] = parent_caps;
        let root = captoken_core::TokenIssuer::new(&issuer_key(), ISS)
            .issue(TokenRequest::from_json(req.as_object().unwrap().clone()).unwrap(), NOW, 300, &mut SliceEntropy::new(&[7; 16]))
            .unwrap()
            .token;
        match delegate(&root, &holder_key(), &key(21), child_caps, 100) {
            Ok(child) => {
                let parent = verify(&root, NOW + 1).unwrap();
                let child = verify(&child, NOW + 1).unwrap();
                for action in ["drive", "stop", "dx"] {
                    for resource in ["robot:7", "robot:8", "cam:1"] {
                        for purchase in [None, Some(5u64), Some(50)] {
                            for pii in [None, Some(true)] {
                                let mut context = Context::default();
                                context.purchase_amount = purchase;
                                context.pii = pii;
                                let r = Request::new(action, resource, context);
                                prop_assert!(child.authorize(&r).is_err() || parent.authorize(&r).is_ok(), "{:?}", r);
                            }
                        }
                    }
                }
            }
            Err(e) => prop_assert_eq!(e.code(), "delegation_escalation"),
        }
    }

    /// Changing any byte of any link of a chain is detected.
    #[test]
    fn tampering_with_any_link_is_detected(pos in any::<prop::sample::Index>(), byte in 0x21u8..0x7f) {
        let root = issue_at(NOW, 300);
        let t1 = delegate(&root, &holder_key(), &key(21), drive_robot7(), 200).unwrap();
        let chain = delegate(&t1, &key(21), &key(22), drive_robot7(), 200).unwrap();
        let mut bytes = chain.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let mutated = String::from_utf8(bytes).unwrap();
        prop_assert_ne!(code(&mutated), "ok", "mutation at {} accepted", i);
    }
}

/// A chain of `n` delegations below a root issued at NOW, each link minted
/// at NOW + 1 with `max_depth` as the limit (and its parent verified with
/// the same limit): the chain, or the first refusal.
fn chain_of(n: usize, max_depth: usize) -> Result<String, captoken_core::TokenError> {
    let keys = keyset();
    let verifier = verifier(&keys).max_delegation_depth(max_depth);
    let mut text = issue_at(NOW, 300);
    let mut holder = holder_key();
    for i in 0..n {
        let parent = verifier.verify(&text, NOW + 1)?;
        let next = key(100 + u8::try_from(i).unwrap());
        text = Delegation::of(&parent)
            .ttl(200)
            .max_depth(max_depth)
            .sign(
                &holder,
                child_request(&next, drive_robot7(), json!(AUD)),
                NOW + 1,
                &mut SliceEntropy::new(&[next.to_bytes()[0]; 16]),
            )?
            .token;
        holder = next;
    }
    Ok(text)
}

proptest! {
    // 42 (m, n) pairs: at 256 cases each is missed with probability
    // (41/42)^256 < 0.3%. A case costs at most ~60 signature operations,
    // ~8 ms on average in a debug build (whose crypto crates are optimized,
    // see the root Cargo.toml): ~2 s in all on a loaded 2-core machine.
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// With a configured maximum depth `m`, a chain of `n` delegations can
    /// be minted iff `n <= m`; a verifier with the same `m` accepts a
    /// chain of `n` iff `n <= m` and refuses a longer one as too deep,
    /// naming its depth and the limit.
    #[test]
    fn the_delegation_depth_bound_holds_when_minting_and_when_verifying(m in 0usize..=5, n in 0usize..=6) {
        match chain_of(n, m) {
            Ok(chain) => {
                prop_assert!(n <= m, "{} delegations minted under max depth {}", n, m);
                prop_assert_eq!(chain.matches('~').count(), n);
            }
            Err(err) => {
                prop_assert!(n > m, "{} delegations refused under max depth {}: {}", n, m, err);
                // Refused at the first link past the limit.
                prop_assert_eq!(
                    err,
                    captoken_core::TokenError::Delegation(delegation::DelegationError::TooDeep { depth: m + 1, max: m })
                );
            }
        }
        // The same chain minted under a limit that allows it, presented to
        // a verifier with limit m.
        let chain = chain_of(n, 6).unwrap();
        let keys = keyset();
        match verifier(&keys).max_delegation_depth(m).verify(&chain, NOW + 1) {
            Ok(v) => {
                prop_assert!(n <= m, "a chain of {} verified under max depth {}", n, m);
                prop_assert_eq!(v.depth(), n);
            }
            Err(err) => {
                prop_assert!(n > m, "a chain of {} refused under max depth {}: {}", n, m, err);
                prop_assert_eq!(
                    err,
                    captoken_core::TokenError::Delegation(delegation::DelegationError::TooDeep { depth: n, max: m })
                );
            }
        }
    }
}

#[test]
fn meet_gives_the_delegated_scope() {
    // min(parent, granted): what a delegator may hand on when asked for more.
    let parent: Vec<captoken_core::Capability> = captoken_core::Capability::list_from_json(&json!([{ "actions": ["drive", "stop"], "resources": ["robot:*"], "constraints": { "max_purchase": 10 } }]), "caps").unwrap();
    let asked: Vec<captoken_core::Capability> = captoken_core::Capability::list_from_json(&json!([{ "actions": ["drive", "fly"], "resources": ["robot:7"], "constraints": { "max_purchase": 100, "pii_access": false } }]), "caps").unwrap();
    let granted = scope::meet(&parent, &asked).unwrap();
    assert_eq!(
        captoken_core::Capability::list_to_json(&granted),
        json!([{ "actions": ["drive"], "resources": ["robot:7"], "constraints": { "max_purchase": 10, "pii_access": false } }])
    );
    let root = {
        let mut req = request_json();
        req["caps"] = captoken_core::Capability::list_to_json(&parent);
        captoken_core::TokenIssuer::new(&issuer_key(), ISS)
            .issue(
                TokenRequest::from_json(req.as_object().unwrap().clone()).unwrap(),
                NOW,
                300,
                &mut SliceEntropy::new(&[7; 16]),
            )
            .unwrap()
            .token
    };
    assert!(
        delegate(
            &root,
            &holder_key(),
            &key(21),
            captoken_core::Capability::list_to_json(&granted),
            100
        )
        .is_ok()
    );
    assert_eq!(
        delegate(
            &root,
            &holder_key(),
            &key(21),
            captoken_core::Capability::list_to_json(&asked),
            100
        )
        .unwrap_err()
        .code(),
        "delegation_escalation"
    );
}

/// Review finding: a delegator must not rewrite the issuer's statements
/// (plan, tenant, any extra claim) for the token it hands on.
#[test]
fn a_child_inherits_plan_and_extra_claims_and_cannot_rewrite_them() {
    let mut req = request_json();
    req["tenant"] = json!("acme");
    let root = captoken_core::TokenIssuer::new(&issuer_key(), ISS)
        .issue(
            TokenRequest::from_json(req.as_object().unwrap().clone()).unwrap(),
            NOW,
            300,
            &mut SliceEntropy::new(&[7; 16]),
        )
        .unwrap()
        .token;
    // Left out of the request: inherited.
    let child = delegate(&root, &holder_key(), &key(21), drive_robot7(), 100).unwrap();
    let v = verify(&child, NOW + 1).unwrap();
    assert_eq!(v.claims().request.extra["tenant"], "acme");
    assert_eq!(v.claims().request.plan_id.as_deref(), Some("plan-1"));
    // Changed in the request: refused when minting.
    let parent = verify(&root, NOW + 1).unwrap();
    for (k, val) in [
        ("tenant", json!("victim-corp")),
        ("plan_id", json!("enterprise")),
        ("role", json!("admin")),
    ] {
        let mut r = child_request(&key(21), drive_robot7(), json!(AUD));
        if k == "plan_id" {
            r.plan_id = Some("enterprise".into());
        } else {
            r.extra.insert(k.into(), val.clone());
        }
        let err = Delegation::of(&parent)
            .ttl(100)
            .max_depth(3)
            .sign(&holder_key(), r, NOW + 1, &mut SliceEntropy::new(&[1; 16]))
            .unwrap_err();
        assert_eq!(err.code(), "delegation_escalation", "{k}");
    }
    // Changed in a hand-made child: refused when verifying.
    for (k, val) in [
        ("tenant", json!("victim-corp")),
        ("plan_id", json!("enterprise")),
        ("role", json!("admin")),
    ] {
        let forged = forge_child(&root, &holder_key(), |c| {
            c.insert(k.into(), val.clone());
        });
        assert_eq!(code(&forged), "delegation_escalation", "{k}");
    }
    let dropped = forge_child(&root, &holder_key(), |c| {
        c.remove("tenant");
    });
    assert_eq!(code(&dropped), "delegation_escalation");
}

/// A delegator names its child's `jti`, and could copy another token's.
/// Ids scope a child's `jti` under its parent's id, so revoking (or
/// guarding) by id never reaches a token outside the delegator's subtree.
#[test]
fn a_copied_jti_cannot_make_a_child_collide_with_another_token() {
    use captoken_core::revocation::check_chain;
    use std::collections::BTreeSet;

    let root = issue_at(NOW, 300);
    // Another token of the same issuer, with its own jti.
    let victim = captoken_core::TokenIssuer::new(&issuer_key(), ISS)
        .issue(request(), NOW, 300, &mut SliceEntropy::new(&[43; 16]))
        .unwrap()
        .token;
    let victim_v = verify(&victim, NOW + 1).unwrap();
    let victim_jti = victim_v.claims().jti.clone();
    let holder = holder_key();
    let child = forge_child(&root, &holder, |c| {
        c.insert("jti".into(), victim_jti.clone().into());
    });
    let child_v = verify(&child, NOW + 1).unwrap();
    let root_v = verify(&root, NOW + 1).unwrap();
    assert_eq!(child_v.claims().jti, victim_jti, "the copy went through");
    assert_eq!(
        victim_v.id(),
        victim_jti,
        "an issuer's token is named by its jti"
    );
    assert_eq!(child_v.id(), format!("{}.{victim_jti}", root_v.id()));
    assert_eq!(
        child_v.chain_ids().collect::<Vec<_>>(),
        [root_v.id(), child_v.id()]
    );
    assert_eq!(child_v.chain()[0].id, root_v.id());

    // Revoking the child by its id leaves the victim alone...
    let revoked: BTreeSet<String> = [child_v.id().to_string()].into();
    assert_eq!(
        check_chain(child_v.chain_ids(), &revoked)
            .unwrap_err()
            .code(),
        "revoked"
    );
    check_chain(victim_v.chain_ids(), &revoked).unwrap();
    // ...and revoking the victim leaves the child (and its parent) alone.
    let revoked: BTreeSet<String> = [victim_jti.clone()].into();
    check_chain(child_v.chain_ids(), &revoked).unwrap();
    assert_eq!(
        check_chain(victim_v.chain_ids(), &revoked)
            .unwrap_err()
            .code(),
        "revoked"
    );
    // Grandchildren nest: root.child.grandchild, the root still revokes all.
    let grand = delegate(&child, &key(50), &key(51), drive_robot7(), 60).unwrap();
    let grand_v = verify(&grand, NOW + 1).unwrap();
    assert_eq!(
        grand_v.id(),
        format!("{}.{}", child_v.id(), grand_v.claims().jti)
    );
    let revoked: BTreeSet<String> = [root_v.id().to_string()].into();
    assert_eq!(
        check_chain(grand_v.chain_ids(), &revoked)
            .unwrap_err()
            .code(),
        "revoked"
    );
}
