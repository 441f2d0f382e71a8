//! Policy evaluation at issuance: the seed scenario, load-time validation,
//! the step budget, and the algebra checked against `scope` semantics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use captoken_core::policy::{
    DEFAULT_BUDGET, DEFAULT_MAX_TTL, Decision, DenialCode, Effect, MAX_RULES, Policy, PolicyError,
    PolicyRequest, Rule, Subject, Subjects,
};
use captoken_core::scope::{self, Context, Request};
use captoken_core::{Capability, Constraints, SliceEntropy, TokenIssuer, TokenRequest};
use common::*;
use proptest::prelude::*;
mod lit;
use captoken_core::json::Value;
use lit::json;
use std::collections::BTreeMap;

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn policy(v: Value) -> Policy {
    Policy::from_json(&bytes(&v)).unwrap()
}

fn load_err(v: Value) -> PolicyError {
    Policy::from_json(&bytes(&v)).unwrap_err()
}

fn ask(subject: Value, caps: Value, ttl: u64) -> PolicyRequest {
    PolicyRequest::from_json(&bytes(
        &json!({ "subject": subject, "capabilities": caps, "ttl": ttl }),
    ))
    .unwrap()
}

fn cap(v: Value) -> Capability {
    Capability::from_json(&v, "cap").unwrap()
}

fn caps(v: Value) -> Vec<Capability> {
    Capability::list_from_json(&v, "caps").unwrap()
}

fn eval(p: &Policy, r: &PolicyRequest) -> Decision {
    let decision = p.evaluate(r, DEFAULT_BUDGET).unwrap();
    assert_eq!(p.explain(r, DEFAULT_BUDGET).unwrap().decision, decision);
    decision
}

struct Grant {
    caps: Vec<Capability>,
    ttl: u64,
    rules: Vec<String>,
    narrowed: bool,
}

fn granted(d: Decision) -> Grant {
    match d {
        Decision::Granted {
            capabilities,
            ttl,
            matched_rules,
            narrowed,
        } => Grant {
            caps: capabilities,
            ttl,
            rules: matched_rules,
            narrowed,
        },
        other => panic!("expected a grant, got {other:?}"),
    }
}

fn denied(d: Decision) -> (DenialCode, Option<String>, String) {
    match d {
        Decision::Denied { code, rule, reason } => (code, rule, reason),
        other => panic!("expected a denial, got {other:?}"),
    }
}

fn req(action: &str, resource: &str, ctx: Value) -> Request {
    Request::new(action, resource, Context::from_json(ctx).unwrap())
}

fn allows(caps: &[Capability], r: &Request) -> bool {
    scope::authorize_caps(caps, r).is_ok()
}

// ---------------------------------------------------------------------------
// The seed scenario: "Capability Token Service"

fn seed_policy() -> Value {
    json!({
        "version": 1,
        "rules": [
            { "id": "agents-browse", "effect": "allow",
              "subjects": { "patterns": ["agent-*"] },
              "capabilities": [ { "actions": ["CAP_READ", "CAP_INTERACT", "CAP_NAVIGATE"], "resources": ["*"] } ],
              "required_constraints": { "max_purchase": 0, "pii_access": false } },
            { "id": "operators-drive", "effect": "allow",
              "subjects": { "ids": ["operator-1"], "attributes": { "role": ["operator"], "site": ["lab", "hall"] } },
              "capabilities": [ { "actions": ["drive", "stop"], "resources": ["robot:*"] } ],
              "required_constraints": { "pii_access": false },
              "max_ttl": 120 },
            { "id": "agents-never-pii", "effect": "deny",
              "subjects": { "patterns": ["agent-*"] },
              "capabilities": [ { "actions": ["*"], "resources": ["pii:*"] } ] }
        ]
    })
}

fn spotify_request(subject: &str) -> PolicyRequest {
    ask(
        json!({ "id": subject }),
        json!([{ "actions": ["CAP_READ", "CAP_INTERACT"], "resources": ["web:*"],
                 "constraints": { "domains": ["spotify.com", "*.spotify.com"], "max_purchase": 5000 } }]),
        3600,
    )
}

#[test]
fn seed_scenario_grants_with_required_constraints_merged_and_ttl_capped() {
    let p = seed_policy_loaded();
    let g = granted(eval(&p, &spotify_request("agent-12345")));
    assert_eq!(
        g.caps,
        caps(
            json!([{ "actions": ["CAP_INTERACT", "CAP_READ"], "resources": ["web:*"],
            "constraints": { "domains": ["spotify.com", "*.spotify.com"], "max_purchase": 0, "pii_access": false } }])
        )
    );
    assert_eq!(g.ttl, DEFAULT_MAX_TTL);
    assert_eq!(g.ttl, 300);
    assert_eq!(g.rules, ["agents-browse"]);
    // A purchase limit of 0 is stricter than the 5000 asked for.
    assert!(g.narrowed);

    // The grant is a token's `caps`: issue it, verify it, use it.
    let mut claims = request_json();
    claims["sub"] = "agent-12345".into();
    claims["caps"] = Capability::list_to_json(&g.caps);
    let token_request = TokenRequest::from_json(claims.as_object().unwrap().clone()).unwrap();
    let issued = TokenIssuer::new(&issuer_key(), ISS)
        .issue(token_request, NOW, g.ttl, &mut SliceEntropy::new(&[42; 16]))
        .unwrap();
    assert_eq!(issued.claims.exp, NOW + 300);
    let keys = keyset();
    let token = verifier(&keys).verify(&issued.token, NOW).unwrap();
    let browse = req(
        "CAP_READ",
        "web:home",
        json!({ "domain": "open.spotify.com" }),
    );
    assert!(token.authorize(&browse).is_ok());
    let buy = req(
        "CAP_INTERACT",
        "web:checkout",
        json!({ "domain": "open.spotify.com", "purchase_amount": 1 }),
    );
    assert_eq!(
        token.authorize(&buy).unwrap_err().code(),
        "constraint_violated"
    );
    let pii = req(
        "CAP_READ",
        "web:profile",
        json!({ "domain": "spotify.com", "pii": true }),
    );
    assert_eq!(
        token.authorize(&pii).unwrap_err().code(),
        "constraint_violated"
    );
}

fn seed_policy_loaded() -> Policy {
    policy(seed_policy())
}

#[test]
fn a_subject_no_rule_matches_is_denied_by_default() {
    let p = seed_policy_loaded();
    let (code, rule, reason) = denied(eval(&p, &spotify_request("mallory")));
    assert_eq!(code, DenialCode::NoMatchingRule);
    assert_eq!(code.code(), "no_matching_rule");
    assert_eq!(rule, None);
    assert_eq!(reason, "no allow rule applies to subject `mallory`");

    // A rule applies but grants nothing asked for: still the default deny.
    let r = ask(
        json!({ "id": "agent-1" }),
        json!([{ "actions": ["drive"], "resources": ["robot:1"] }]),
        60,
    );
    let (code, rule, reason) = denied(eval(&p, &r));
    assert_eq!((code, rule), (DenialCode::NoMatchingRule, None));
    assert_eq!(
        reason,
        "no allow rule for subject `agent-1` grants any requested capability"
    );
}

#[test]
fn deny_overrides_allow_and_names_the_rule() {
    let p = seed_policy_loaded();
    // `agents-browse` allows CAP_READ on `*`, which includes `pii:alice`.
    let r = ask(
        json!({ "id": "agent-7" }),
        json!([
            { "actions": ["CAP_READ"], "resources": ["web:*"] },
            { "actions": ["CAP_READ"], "resources": ["pii:alice"] }
        ]),
        60,
    );
    let (code, rule, reason) = denied(eval(&p, &r));
    assert_eq!(code.code(), "denied_by_rule");
    assert_eq!(rule.as_deref(), Some("agents-never-pii"));
    assert_eq!(
        reason,
        "deny rule `agents-never-pii` forbids requested capability 1 (`CAP_READ` on `pii:alice`)"
    );
    // A request that only overlaps the deny rule through a wildcard is
    // denied too: the whole request, not the overlapping part.
    let wide = ask(
        json!({ "id": "agent-7" }),
        json!([{ "actions": ["CAP_READ"], "resources": ["*"] }]),
        60,
    );
    assert_eq!(
        denied(eval(&p, &wide)).1.as_deref(),
        Some("agents-never-pii")
    );
    // The deny rule applies to agents only.
    let operator = ask(
        json!({ "id": "operator-1" }),
        json!([{ "actions": ["drive"], "resources": ["robot:1"] }]),
        60,
    );
    assert!(eval(&p, &operator).is_granted());
}

#[test]
fn deny_wins_whatever_the_rule_order() {
    let mut doc = seed_policy();
    doc["rules"].as_array_mut().unwrap().reverse();
    let p = policy(doc);
    let r = ask(
        json!({ "id": "agent-7" }),
        json!([{ "actions": ["CAP_READ"], "resources": ["*"] }]),
        60,
    );
    assert_eq!(denied(eval(&p, &r)).1.as_deref(), Some("agents-never-pii"));
}

#[test]
fn attributes_are_and_across_names_and_or_within_values() {
    let p = policy(json!({ "version": 1, "rules": [
        { "id": "site-operators", "effect": "allow",
          "subjects": { "attributes": { "role": ["operator", "admin"], "site": ["lab"] } },
          "capabilities": [ { "actions": ["drive"], "resources": ["robot:*"] } ] }
    ]}));
    let caps = json!([{ "actions": ["drive"], "resources": ["robot:1"] }]);
    let decide = |attrs: Value| {
        eval(
            &p,
            &ask(json!({ "id": "u", "attributes": attrs }), caps.clone(), 60),
        )
    };
    assert!(decide(json!({ "role": "operator", "site": "lab" })).is_granted());
    assert!(decide(json!({ "role": "admin", "site": "lab", "team": "x" })).is_granted());
    assert!(!decide(json!({ "role": "operator" })).is_granted());
    assert!(!decide(json!({ "site": "lab" })).is_granted());
    assert!(!decide(json!({ "role": "operator", "site": "hall" })).is_granted());
    assert!(!decide(json!({ "role": "guest", "site": "lab" })).is_granted());
    assert!(!decide(json!({})).is_granted());
}

#[test]
fn ids_patterns_and_attributes_are_alternatives() {
    let p = seed_policy_loaded();
    let drive = json!([{ "actions": ["drive"], "resources": ["robot:1"] }]);
    let explain = |subject: Value| {
        let e = p
            .explain(&ask(subject, drive.clone(), 60), DEFAULT_BUDGET)
            .unwrap();
        (e.rules[1].matched_by.clone(), e.decision.is_granted())
    };
    assert_eq!(
        explain(json!({ "id": "operator-1" })),
        (Some("ids[0]".into()), true)
    );
    assert_eq!(
        explain(json!({ "id": "u", "attributes": { "role": "operator", "site": "hall" } })),
        (Some("attributes".into()), true)
    );
    assert_eq!(explain(json!({ "id": "operator-2" })), (None, false));
}

#[test]
fn subject_patterns_use_the_scope_pattern_syntax() {
    let rule = |pattern: &str| {
        policy(json!({ "version": 1, "rules": [
            { "id": "r", "effect": "allow", "subjects": { "patterns": [pattern] },
              "capabilities": [ { "actions": ["read"], "resources": ["*"] } ] }
        ]}))
    };
    let r = |id: &str| {
        ask(
            json!({ "id": id }),
            json!([{ "actions": ["read"], "resources": ["doc:1"] }]),
            60,
        )
    };
    assert!(eval(&rule("agent:*"), &r("agent:7")).is_granted());
    assert!(!eval(&rule("agent:*"), &r("agents:7")).is_granted());
    assert!(!eval(&rule("agent:7"), &r("agent:70")).is_granted());
    assert!(eval(&rule("*"), &r("anyone")).is_granted());
}

#[test]
fn narrowing_grants_the_allowed_part_only() {
    let p = seed_policy_loaded();
    let asked = caps(json!([
        { "actions": ["drive", "fly"], "resources": ["robot:*", "drone:*"] },
        { "actions": ["stop"], "resources": ["robot:3"], "constraints": { "pii_access": false } }
    ]));
    let r = PolicyRequest::new(
        Subject::new("operator-1", BTreeMap::new()),
        asked.clone(),
        60,
    );
    let g = granted(eval(&p, &r));
    assert_eq!(
        g.caps,
        caps(json!([
            { "actions": ["drive"], "resources": ["robot:*"], "constraints": { "pii_access": false } },
            { "actions": ["stop"], "resources": ["robot:3"], "constraints": { "pii_access": false } }
        ]))
    );
    assert!(g.narrowed);
    let rule_caps = &p.rules()[1].capabilities;
    assert_eq!(scope::first_uncovered(&asked, &g.caps), None);
    // Covered by the rule with its required constraint merged.
    let mut required = rule_caps.clone();
    for c in &mut required {
        c.constraints.pii_access = Some(false);
    }
    assert_eq!(scope::first_uncovered(&required, &g.caps), None);

    // Asking for exactly what is allowed is not narrowed.
    let mut exact = r.clone();
    exact.capabilities = required.clone();
    let g = granted(eval(&p, &exact));
    assert!(!g.narrowed);
    assert_eq!(g.caps, required);
}

#[test]
fn ttl_is_the_least_of_request_policy_and_contributing_rules() {
    let doc = |global: u64| {
        json!({ "version": 1, "max_ttl": global, "rules": [
            { "id": "a", "effect": "allow", "subjects": { "ids": ["u"] },
              "capabilities": [ { "actions": ["drive"], "resources": ["*"] } ], "max_ttl": 120 },
            { "id": "b", "effect": "allow", "subjects": { "ids": ["u"] },
              "capabilities": [ { "actions": ["read"], "resources": ["*"] } ], "max_ttl": 60 },
            { "id": "c", "effect": "allow", "subjects": { "ids": ["u"] },
              "capabilities": [ { "actions": ["write"], "resources": ["*"] } ] }
        ]})
    };
    let ttl = |global: u64, actions: Value, ttl: u64| {
        let r = ask(
            json!({ "id": "u" }),
            json!([{ "actions": actions, "resources": ["x"] }]),
            ttl,
        );
        granted(eval(&policy(doc(global)), &r)).ttl
    };
    assert_eq!(ttl(300, json!(["drive", "read"]), 100), 60);
    assert_eq!(ttl(300, json!(["drive", "read"]), 30), 30);
    assert_eq!(ttl(300, json!(["drive"]), 1000), 120);
    assert_eq!(ttl(300, json!(["drive"]), 100), 100);
    assert_eq!(ttl(50, json!(["drive"]), 100), 50);
    assert_eq!(ttl(300, json!(["write"]), 1000), 300);
    assert_eq!(ttl(1000, json!(["write"]), 900), 900);
    // A rule that applies but contributes nothing caps nothing.
    assert_eq!(ttl(300, json!(["write", "fly"]), 1000), 300);
    // No `ttl` asks for as long as the policy allows.
    let r = PolicyRequest::from_json(&bytes(&json!({
        "subject": { "id": "u" }, "capabilities": [{ "actions": ["write"], "resources": ["x"] }]
    })))
    .unwrap();
    assert_eq!(granted(eval(&policy(doc(300)), &r)).ttl, 300);
}

#[test]
fn required_constraints_apply_to_their_own_rules_grants_only() {
    let p = policy(json!({ "version": 1, "rules": [
        { "id": "drive-cheap", "effect": "allow", "subjects": { "ids": ["u"] },
          "capabilities": [ { "actions": ["drive"], "resources": ["robot:*"] } ],
          "required_constraints": { "max_purchase": 0 } },
        { "id": "watch-no-pii", "effect": "allow", "subjects": { "ids": ["u"] },
          "capabilities": [ { "actions": ["read"], "resources": ["cam:*"] } ],
          "required_constraints": { "pii_access": false, "rooms": ["lab"] } }
    ]}));
    let r = ask(
        json!({ "id": "u" }),
        json!([
            { "actions": ["drive"], "resources": ["robot:1"] },
            { "actions": ["read"], "resources": ["cam:1"], "constraints": { "rooms": ["lab", "hall"] } }
        ]),
        60,
    );
    let g = granted(eval(&p, &r));
    assert_eq!(
        g.caps,
        caps(json!([
            { "actions": ["drive"], "resources": ["robot:1"], "constraints": { "max_purchase": 0 } },
            { "actions": ["read"], "resources": ["cam:1"], "constraints": { "pii_access": false, "rooms": ["lab"] } }
        ]))
    );
    assert_eq!(g.rules, ["drive-cheap", "watch-no-pii"]);
    // Driving is not limited to the lab, watching has no purchase limit.
    assert!(allows(
        &g.caps,
        &req("drive", "robot:1", json!({ "room": "roof", "pii": true }))
    ));
    assert!(allows(
        &g.caps,
        &req(
            "read",
            "cam:1",
            json!({ "room": "lab", "purchase_amount": 9 })
        )
    ));
    assert!(!allows(
        &g.caps,
        &req("drive", "robot:1", json!({ "purchase_amount": 1 }))
    ));
    assert!(!allows(
        &g.caps,
        &req("read", "cam:1", json!({ "room": "hall" }))
    ));
}

#[test]
fn a_broader_grant_subsumes_a_narrower_one() {
    let p = policy(json!({ "version": 1, "rules": [
        { "id": "narrow", "effect": "allow", "subjects": { "ids": ["u"] },
          "capabilities": [ { "actions": ["drive"], "resources": ["robot:1"] } ],
          "required_constraints": { "max_purchase": 0 }, "max_ttl": 30 },
        { "id": "broad", "effect": "allow", "subjects": { "ids": ["u"] },
          "capabilities": [ { "actions": ["*"], "resources": ["robot:*"] } ] }
    ]}));
    let r = ask(
        json!({ "id": "u" }),
        json!([{ "actions": ["drive"], "resources": ["robot:1"] }]),
        300,
    );
    let g = granted(eval(&p, &r));
    assert_eq!(
        g.caps,
        caps(json!([{ "actions": ["drive"], "resources": ["robot:1"] }]))
    );
    assert!(!g.narrowed);
    // Both contributed, so both cap the lifetime.
    assert_eq!(g.rules, ["narrow", "broad"]);
    assert_eq!(g.ttl, 30);
}

#[test]
fn explain_traces_every_rule_it_visits() {
    let p = seed_policy_loaded();
    let e = p
        .explain(&spotify_request("agent-1"), DEFAULT_BUDGET)
        .unwrap();
    assert_eq!(e.requested_ttl, 3600);
    assert_eq!(e.policy_max_ttl, 300);
    let ids: Vec<_> = e.rules.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        ["agents-browse", "operators-drive", "agents-never-pii"]
    );
    let [browse, drive, never] = &e.rules[..] else {
        panic!()
    };
    assert!(browse.subject_matched && browse.overlapped);
    assert_eq!(browse.matched_by.as_deref(), Some("patterns[0]"));
    assert_eq!(browse.effect, Effect::Allow);
    assert_eq!(browse.contributed.len(), 1);
    assert_eq!(browse.ttl_cap, None);
    assert!(!drive.subject_matched && !drive.overlapped && drive.contributed.is_empty());
    assert!(never.subject_matched && !never.overlapped);
    assert_eq!(
        e.decision,
        p.evaluate(&spotify_request("agent-1"), DEFAULT_BUDGET)
            .unwrap()
    );

    // A denial stops evaluation at the deny rule.
    let mut doc = seed_policy();
    doc["rules"].as_array_mut().unwrap().rotate_right(1);
    let p = policy(doc);
    let r = ask(
        json!({ "id": "agent-1" }),
        json!([{ "actions": ["x"], "resources": ["*"] }]),
        60,
    );
    let e = p.explain(&r, DEFAULT_BUDGET).unwrap();
    assert_eq!(e.rules.len(), 1);
    assert!(e.rules[0].overlapped);
    assert_eq!(e.rules[0].effect, Effect::Deny);
}

#[test]
fn decisions_and_explanations_serialize() {
    let p = seed_policy_loaded();
    let d = eval(&p, &spotify_request("agent-1"));
    assert_eq!(
        Value::Object(d.to_json()),
        json!({
            "decision": "granted",
            "capabilities": [{ "actions": ["CAP_INTERACT", "CAP_READ"], "resources": ["web:*"],
                "constraints": { "domains": ["spotify.com", "*.spotify.com"], "max_purchase": 0, "pii_access": false } }],
            "ttl": 300,
            "matched_rules": ["agents-browse"],
            "narrowed": true
        })
    );
    let d = eval(&p, &spotify_request("mallory"));
    assert_eq!(
        Value::Object(d.to_json()),
        json!({ "decision": "denied", "code": "no_matching_rule", "rule": null,
                "reason": "no allow rule applies to subject `mallory`" })
    );
    let e = Value::Object(
        p.explain(&spotify_request("agent-1"), DEFAULT_BUDGET)
            .unwrap()
            .to_json(),
    );
    assert_eq!(e["decision"]["decision"], "granted");
    assert_eq!(
        e["rules"][0],
        json!({
            "id": "agents-browse", "effect": "allow", "subject_matched": true, "matched_by": "patterns[0]",
            "overlapped": true, "ttl_cap": null,
            "contributed": [{ "actions": ["CAP_INTERACT", "CAP_READ"], "resources": ["web:*"],
                "constraints": { "domains": ["spotify.com", "*.spotify.com"], "max_purchase": 0, "pii_access": false } }]
        })
    );
    assert_eq!(e["rules"][2]["effect"], "deny");
    assert!(e["steps"].as_u64().unwrap() > 0);
}

#[test]
fn policies_round_trip_through_json() {
    let p = seed_policy_loaded();
    let again = Policy::from_json(&bytes(&Value::Object(p.to_json()))).unwrap();
    assert_eq!(again, p);
    assert_eq!(p.max_ttl(), DEFAULT_MAX_TTL);
    let doc = Value::Object(p.to_json());
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["max_ttl"], 300);
    assert_eq!(
        doc["rules"][2]["capabilities"],
        seed_policy()["rules"][2]["capabilities"]
    );
    assert!(doc["rules"][2].get("required_constraints").is_none());
    assert!(doc["rules"][2].get("max_ttl").is_none());
}

#[test]
fn policies_can_be_built_in_code() {
    let rule = Rule {
        id: "r".into(),
        effect: Effect::Allow,
        subjects: Subjects {
            ids: vec!["u".into()],
            ..Subjects::default()
        },
        capabilities: vec![cap(json!({ "actions": ["read"], "resources": ["*"] }))],
        required_constraints: Constraints::default(),
        max_ttl: Some(0),
    };
    let err = Policy::new(300, vec![rule.clone()]).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("bad_policy", Some("rules[0].max_ttl"))
    );
    let p = Policy::new(
        300,
        vec![Rule {
            max_ttl: None,
            ..rule
        }],
    )
    .unwrap();
    assert_eq!(p.rules().len(), 1);
    let err = Policy::new(0, Vec::new()).unwrap_err();
    assert_eq!(err.path(), Some("max_ttl"));
}

#[test]
fn an_empty_policy_denies_everything() {
    let p = policy(json!({ "version": 1, "rules": [] }));
    let (code, ..) = denied(eval(&p, &spotify_request("agent-1")));
    assert_eq!(code, DenialCode::NoMatchingRule);
}

// ---------------------------------------------------------------------------
// Load-time validation: one case per fault, with its code and exact path

fn valid_rule() -> Value {
    json!({ "id": "r", "effect": "allow", "subjects": { "ids": ["u"] },
            "capabilities": [ { "actions": ["drive", "stop"], "resources": ["robot:*"] } ] })
}

/// The policy `{version: 1, rules: [valid, valid with `edit` applied]}`.
fn with_rule(edit: impl FnOnce(&mut Value)) -> Value {
    let mut second = valid_rule();
    second["id"] = "s".into();
    edit(&mut second);
    json!({ "version": 1, "rules": [valid_rule(), second] })
}

fn assert_refused(doc: Value, code: &str, path: &str) {
    let err = load_err(doc);
    assert_eq!((err.code(), err.path()), (code, Some(path)), "{err}");
}

#[test]
fn unknown_members_are_refused_anywhere() {
    let mut doc = with_rule(|_| {});
    doc["comment"] = "x".into();
    assert_refused(doc, "bad_policy", "comment");
    assert_refused(
        with_rule(|r| r["efect"] = "allow".into()),
        "bad_policy",
        "rules[1].efect",
    );
    assert_refused(
        with_rule(|r| r["subjects"]["roles"] = json!(["x"])),
        "bad_policy",
        "rules[1].subjects.roles",
    );
    assert_refused(
        with_rule(|r| r["capabilities"][0]["constraint"] = json!({})),
        "bad_policy",
        "rules[1].capabilities[0].constraint",
    );
    assert_refused(
        with_rule(|r| r["a.b"] = json!(1)),
        "bad_policy",
        "rules[1][\"a.b\"]",
    );
}

#[test]
fn wrong_types_are_refused_with_their_path() {
    let mut doc = with_rule(|_| {});
    doc["max_ttl"] = "300".into();
    assert_refused(doc, "bad_policy", "max_ttl");
    let mut doc = with_rule(|_| {});
    doc["rules"] = json!({});
    assert_refused(doc, "bad_policy", "rules");
    assert_refused(
        with_rule(|r| r["capabilities"][0]["actions"][1] = json!(5)),
        "bad_policy",
        "rules[1].capabilities[0].actions[1]",
    );
    assert_refused(
        with_rule(|r| r["subjects"]["attributes"] = json!({ "role": "operator" })),
        "bad_policy",
        "rules[1].subjects.attributes.role",
    );
    assert_refused(
        with_rule(|r| {
            r["required_constraints"] = json!({ "pii_access": false, "max_purchase": "0" })
        }),
        "bad_policy",
        "rules[1].required_constraints.max_purchase",
    );
    assert_refused(
        with_rule(|r| r["required_constraints"] = json!({ "max_purchase": null })),
        "bad_policy",
        "rules[1].required_constraints.max_purchase",
    );
    assert_refused(
        with_rule(|r| r["effect"] = "permit".into()),
        "bad_policy",
        "rules[1].effect",
    );
    assert_refused(
        with_rule(|r| r["id"] = json!(7)),
        "bad_policy",
        "rules[1].id",
    );
    assert_refused(
        with_rule(|r| r["max_ttl"] = json!(-1)),
        "bad_policy",
        "rules[1].max_ttl",
    );
    assert_refused(
        with_rule(|r| {
            r.as_object_mut().unwrap().remove("subjects");
        }),
        "bad_policy",
        "rules[1].subjects",
    );
}

#[test]
fn only_version_1_is_read() {
    for version in [json!(2), json!(0), json!("1"), json!(1.5)] {
        let mut doc = with_rule(|_| {});
        doc["version"] = version.clone();
        let err = load_err(doc);
        assert_eq!(err.code(), "unsupported_policy_version", "{version}");
        assert_eq!(err.path(), Some("version"));
        assert_eq!(
            err.to_string(),
            format!("unsupported policy version `{version}`")
        );
    }
    let mut doc = with_rule(|_| {});
    doc.as_object_mut().unwrap().remove("version");
    assert_refused(doc, "bad_policy", "version");
}

#[test]
fn bad_patterns_are_refused_where_they_are() {
    assert_refused(
        with_rule(|r| r["capabilities"][0]["actions"][1] = "st*p".into()),
        "bad_pattern",
        "rules[1].capabilities[0].actions[1]",
    );
    assert_refused(
        with_rule(|r| r["capabilities"][0]["resources"][0] = "".into()),
        "bad_pattern",
        "rules[1].capabilities[0].resources[0]",
    );
    assert_refused(
        with_rule(|r| r["capabilities"][0]["constraints"] = json!({ "domains": ["a.*.com"] })),
        "bad_pattern",
        "rules[1].capabilities[0].constraints.domains[0]",
    );
    assert_refused(
        with_rule(|r| r["subjects"] = json!({ "patterns": ["agent-*", "a*b"] })),
        "bad_pattern",
        "rules[1].subjects.patterns[1]",
    );
    assert_refused(
        with_rule(|r| r["required_constraints"] = json!({ "domains": ["ok.com", "**"] })),
        "bad_pattern",
        "rules[1].required_constraints.domains[1]",
    );
    let err = load_err(with_rule(|r| {
        r["capabilities"][0]["actions"][1] = "st*p".into()
    }));
    assert_eq!(
        err.to_string(),
        "policy `rules[1].capabilities[0].actions[1]`: `st*p` is not a valid pattern"
    );
}

#[test]
fn unknown_constraint_kinds_fail_closed_at_load() {
    assert_refused(
        with_rule(|r| r["capabilities"][0]["constraints"] = json!({ "max_speed": 5 })),
        "unknown_constraint",
        "rules[1].capabilities[0].constraints.max_speed",
    );
    assert_refused(
        with_rule(|r| r["required_constraints"] = json!({ "pii_access": false, "max_speed": 5 })),
        "unknown_constraint",
        "rules[1].required_constraints.max_speed",
    );
}

#[test]
fn rule_ids_are_unique_and_non_empty() {
    let err = load_err(with_rule(|r| r["id"] = "r".into()));
    assert_eq!(
        (err.code(), err.path()),
        ("duplicate_rule_id", Some("rules[1].id"))
    );
    assert_eq!(
        err.to_string(),
        "policy `rules[1].id`: rule id `r` is already used"
    );
    assert_refused(
        with_rule(|r| r["id"] = "".into()),
        "bad_policy",
        "rules[1].id",
    );
}

#[test]
fn max_ttl_must_be_positive() {
    assert_refused(
        with_rule(|r| r["max_ttl"] = json!(0)),
        "bad_policy",
        "rules[1].max_ttl",
    );
    let mut doc = with_rule(|_| {});
    doc["max_ttl"] = json!(0);
    assert_refused(doc, "bad_policy", "max_ttl");
    let mut doc = with_rule(|_| {});
    doc["max_ttl"] = json!(1u64 << 53);
    assert_refused(doc, "bad_policy", "max_ttl");
}

#[test]
fn too_many_rules_are_refused() {
    let rules: Vec<Value> = (0..=MAX_RULES)
        .map(|i| {
            let mut r = valid_rule();
            r["id"] = format!("r{i}").into();
            r
        })
        .collect();
    let err = load_err(json!({ "version": 1, "rules": rules }));
    assert_eq!((err.code(), err.path()), ("too_many_rules", Some("rules")));
    assert_eq!(
        err,
        PolicyError::TooManyRules {
            count: MAX_RULES + 1,
            limit: MAX_RULES
        }
    );
}

#[test]
fn subjects_must_match_someone() {
    assert_refused(
        with_rule(|r| r["subjects"] = json!({})),
        "bad_policy",
        "rules[1].subjects",
    );
    assert_refused(
        with_rule(|r| r["subjects"] = json!({ "ids": [] })),
        "bad_policy",
        "rules[1].subjects.ids",
    );
    assert_refused(
        with_rule(|r| r["subjects"] = json!({ "ids": ["u", ""] })),
        "bad_policy",
        "rules[1].subjects.ids[1]",
    );
    assert_refused(
        with_rule(|r| r["subjects"] = json!({ "attributes": {} })),
        "bad_policy",
        "rules[1].subjects.attributes",
    );
    assert_refused(
        with_rule(|r| r["subjects"] = json!({ "attributes": { "role": [] } })),
        "bad_policy",
        "rules[1].subjects.attributes.role",
    );
}

#[test]
fn capabilities_must_fit_the_token_schema() {
    assert_refused(
        with_rule(|r| r["capabilities"] = json!([])),
        "bad_policy",
        "rules[1].capabilities",
    );
    assert_refused(
        with_rule(|r| r["capabilities"][0]["actions"] = json!([])),
        "bad_policy",
        "rules[1].capabilities[0].actions",
    );
    assert_refused(
        with_rule(|r| r["capabilities"][0]["constraints"] = json!({ "max_purchase": 1u64 << 53 })),
        "bad_policy",
        "rules[1].capabilities[0].constraints.max_purchase",
    );
}

#[test]
fn deny_rules_carry_no_constraints_or_ttl() {
    let deny = |r: &mut Value| r["effect"] = "deny".into();
    assert_refused(
        with_rule(|r| {
            deny(r);
            r["capabilities"][0]["constraints"] = json!({ "max_purchase": 10 });
        }),
        "bad_policy",
        "rules[1].capabilities[0].constraints",
    );
    assert_refused(
        with_rule(|r| {
            deny(r);
            r["required_constraints"] = json!({ "pii_access": false });
        }),
        "bad_policy",
        "rules[1].required_constraints",
    );
    assert_refused(
        with_rule(|r| {
            deny(r);
            r["max_ttl"] = json!(10);
        }),
        "bad_policy",
        "rules[1].max_ttl",
    );
}

#[test]
fn policy_json_is_strict() {
    let err = Policy::from_json(br#"{"version":1,"rules":[],"rules":[]}"#).unwrap_err();
    assert_eq!(err.code(), "duplicate_key");
    assert_eq!(err.to_string(), "policy: duplicate json key `rules`");
    assert_eq!(Policy::from_json(b"[]").unwrap_err().code(), "bad_json");
    let deep = format!(r#"{{"version":1,"rules":{}"#, "[".repeat(64));
    assert_eq!(
        Policy::from_json(deep.as_bytes()).unwrap_err().code(),
        "json_too_deep"
    );
}

#[test]
fn malformed_requests_are_errors_not_denials() {
    let p = seed_policy_loaded();
    let bad = |doc: Value| PolicyRequest::from_json(&bytes(&doc)).unwrap_err();
    let ok_caps = json!([{ "actions": ["read"], "resources": ["x"] }]);
    let cases = [
        (
            json!({ "subject": { "id": "u" }, "capabilities": ok_caps, "ttl": 0 }),
            "ttl",
        ),
        (
            json!({ "subject": { "id": "" }, "capabilities": ok_caps }),
            "subject.id",
        ),
        (
            json!({ "subject": { "id": "u", "attributes": { "role": ["x"] } }, "capabilities": ok_caps }),
            "subject.attributes.role",
        ),
        (
            json!({ "subject": { "id": "u" }, "capabilities": ok_caps, "ttl": 60, "aud": "x" }),
            "aud",
        ),
        (
            json!({ "subject": { "id": "u" }, "capabilities": [] }),
            "capabilities",
        ),
        (
            json!({ "subject": { "id": "u" }, "capabilities": [{ "actions": ["r*d"], "resources": ["x"] }] }),
            "capabilities[0].actions[0]",
        ),
        (
            json!({ "subject": { "id": "u" }, "capabilities": [{ "actions": ["r"], "resources": ["x"], "constraints": { "max_speed": 1 } }] }),
            "capabilities[0].constraints.max_speed",
        ),
        (
            json!({ "subject": { "name": "u" }, "capabilities": ok_caps }),
            "subject.name",
        ),
        (json!({ "capabilities": ok_caps }), "subject"),
    ];
    for (doc, path) in cases {
        let err = bad(doc.clone());
        assert_eq!(
            (err.code(), err.path()),
            ("bad_request", Some(path)),
            "{doc}"
        );
    }
    assert_eq!(
        bad(json!({ "subject": { "id": "u" }, "capabilities": [{ "actions": ["r*d"], "resources": ["x"] }] })).to_string(),
        "request `capabilities[0].actions[0]`: `r*d` is not a valid pattern"
    );
    // A request built in code is checked on evaluation.
    let built = PolicyRequest::new(Subject::default(), caps(ok_caps.clone()), 60);
    let err = p.evaluate(&built, DEFAULT_BUDGET).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("bad_request", Some("subject.id"))
    );
    assert_eq!(p.explain(&built, DEFAULT_BUDGET).unwrap_err(), err);
}

// ---------------------------------------------------------------------------
// The step budget

fn many_rules(n: usize, subject: impl Fn(usize) -> Value) -> Policy {
    let rules: Vec<Value> = (0..n)
        .map(|i| {
            json!({ "id": format!("r{i}"), "effect": "allow", "subjects": subject(i),
                    "capabilities": [ { "actions": [format!("act{i}")], "resources": ["robot:*"] } ],
                    "required_constraints": { "pii_access": false } })
        })
        .collect();
    policy(json!({ "version": 1, "rules": rules }))
}

#[test]
fn a_tiny_budget_is_exceeded_not_overrun() {
    let p = many_rules(200, |i| json!({ "ids": [format!("user-{i}")] }));
    let r = ask(
        json!({ "id": "user-199" }),
        json!([{ "actions": ["act199"], "resources": ["robot:1"] }]),
        60,
    );
    let err = p.evaluate(&r, 50).unwrap_err();
    assert_eq!(err, PolicyError::BudgetExceeded { budget: 50 });
    assert_eq!(err.code(), "policy_budget_exceeded");
    assert_eq!(p.explain(&r, 50).unwrap_err(), err);
    // The budget is exact: what explain reports spending is enough, one
    // step less is not.
    let steps = p.explain(&r, DEFAULT_BUDGET).unwrap().steps;
    assert!(p.evaluate(&r, steps).unwrap().is_granted());
    assert_eq!(
        p.evaluate(&r, steps - 1).unwrap_err().code(),
        "policy_budget_exceeded"
    );
    assert_eq!(
        p.evaluate(&r, 0).unwrap_err().code(),
        "policy_budget_exceeded"
    );
}

#[test]
fn long_pattern_lists_cost_steps_too() {
    // One capability pair, but 64 actions (the most a list may hold) to
    // compare: a step is about one string comparison, not one capability,
    // so size is not free. The pair alone costs (66 + 3)^2 = 4761 steps.
    let actions: Vec<String> = (0..64).map(|i| format!("act{i}")).collect();
    let p = policy(json!({ "version": 1, "rules": [
        { "id": "wide", "effect": "allow", "subjects": { "patterns": ["*"] },
          "capabilities": [ { "actions": actions, "resources": ["*"] } ] }
    ]}));
    let r = ask(
        json!({ "id": "u" }),
        json!([{ "actions": ["*"], "resources": ["robot:1"] }]),
        60,
    );
    assert_eq!(
        p.evaluate(&r, 4_000).unwrap_err().code(),
        "policy_budget_exceeded"
    );
    let g = granted(p.evaluate(&r, DEFAULT_BUDGET).unwrap());
    assert_eq!(g.caps[0].actions.len(), 64);
    // Longer lists are refused when the policy loads.
    let too_many: Vec<String> = (0..65).map(|i| format!("act{i}")).collect();
    let err = load_err(json!({ "version": 1, "rules": [
        { "id": "wide", "effect": "allow", "subjects": { "patterns": ["*"] },
          "capabilities": [ { "actions": too_many, "resources": ["*"] } ] }
    ]}));
    assert_eq!(err.code(), "bad_policy");
}

#[test]
fn the_default_budget_handles_a_thousand_rules() {
    // Typical: one rule per subject, the request's rule last.
    let p = many_rules(1000, |i| json!({ "ids": [format!("user-{i}")] }));
    let r = ask(
        json!({ "id": "user-999" }),
        json!([{ "actions": ["act999", "act5"], "resources": ["robot:1"] }]),
        60,
    );
    let e = p.explain(&r, DEFAULT_BUDGET).unwrap();
    let g = granted(e.decision);
    assert_eq!(g.rules, ["r999"]);
    assert!(g.narrowed);
    assert!(e.steps < 10_000, "{}", e.steps);

    // Worst case for this size: every rule applies and contributes.
    let p = many_rules(1000, |_| json!({ "patterns": ["*"] }));
    let r = ask(
        json!({ "id": "anyone" }),
        json!([{ "actions": ["*"], "resources": ["robot:*"] }]),
        60,
    );
    let e = p.explain(&r, DEFAULT_BUDGET).unwrap();
    let g = granted(e.decision);
    assert_eq!(g.caps.len(), 1000);
    assert_eq!(g.rules.len(), 1000);
    assert!(e.steps <= DEFAULT_BUDGET, "{}", e.steps);
}

// ---------------------------------------------------------------------------
// The algebra, over random small policies and a small universe of requests

fn pick<T: Clone + std::fmt::Debug + 'static>(
    items: &'static [T],
) -> impl Strategy<Value = Vec<T>> {
    prop::sample::subsequence(items.to_vec(), 1..=items.len().min(3))
}

fn strings(v: Vec<&str>) -> Vec<String> {
    v.into_iter().map(String::from).collect()
}

fn cap_strategy() -> impl Strategy<Value = Capability> {
    (
        pick(&["drive", "stop", "read", "*", "dr*"]),
        pick(&["robot:1", "robot:2", "robot:*", "*", "cam:1"]),
        proptest::option::of(pick(&["*.a.com", "a.com", "b.a.com", "*"])),
        proptest::option::of(prop::sample::select(vec![0u64, 10, 100])),
        proptest::option::of(any::<bool>()),
        proptest::option::of(prop::sample::subsequence(vec!["lab", "hall"], 0..=2)),
    )
        .prop_map(|(a, r, d, m, p, rooms)| {
            let mut constraints = Constraints::default();
            constraints.domains = d.map(strings);
            constraints.max_purchase = m;
            constraints.pii_access = p;
            constraints.rooms = rooms.map(strings);
            Capability::new(strings(a), strings(r), constraints)
        })
}

fn deny_cap_strategy() -> impl Strategy<Value = Capability> {
    (
        pick(&["drive", "stop", "read", "*", "st*"]),
        pick(&["robot:1", "robot:*", "cam:*", "*"]),
    )
        .prop_map(|(a, r)| Capability::new(strings(a), strings(r), Constraints::default()))
}

fn required_strategy() -> impl Strategy<Value = Constraints> {
    (
        proptest::option::of(pick(&["*.a.com", "b.a.com"])),
        proptest::option::of(prop::sample::select(vec![0u64, 10])),
        proptest::option::of(Just(false)),
        proptest::option::of(prop::sample::subsequence(vec!["lab", "hall"], 1..=2)),
    )
        .prop_map(|(d, m, p, rooms)| {
            let mut constraints = Constraints::default();
            constraints.domains = d.map(strings);
            constraints.max_purchase = m;
            constraints.pii_access = p;
            constraints.rooms = rooms.map(strings);
            constraints
        })
}

fn subjects_strategy() -> impl Strategy<Value = Subjects> {
    (
        prop::sample::subsequence(vec!["a", "b"], 0..=2),
        prop::sample::subsequence(vec!["a*", "agent:*", "*"], 0..=1),
        proptest::option::of(prop::sample::subsequence(vec!["op", "agent"], 1..=2)),
        proptest::option::of(Just(vec!["lab"])),
    )
        .prop_map(|(ids, patterns, role, site)| {
            let mut attributes = BTreeMap::new();
            if let Some(role) = role {
                attributes.insert("role".to_string(), strings(role));
            }
            if let Some(site) = site {
                attributes.insert("site".to_string(), strings(site));
            }
            let mut s = Subjects {
                ids: strings(ids),
                patterns: strings(patterns),
                attributes,
            };
            if s.ids.is_empty() && s.patterns.is_empty() && s.attributes.is_empty() {
                s.ids.push("a".into());
            }
            s
        })
}

fn rule_strategy() -> impl Strategy<
    Value = (
        bool,
        Subjects,
        Vec<Capability>,
        Vec<Capability>,
        Constraints,
        Option<u64>,
    ),
> {
    (
        prop::bool::weighted(0.3),
        subjects_strategy(),
        prop::collection::vec(cap_strategy(), 1..3),
        prop::collection::vec(deny_cap_strategy(), 1..3),
        required_strategy(),
        proptest::option::of(prop::sample::select(vec![10u64, 60, 600])),
    )
}

fn policy_strategy() -> impl Strategy<Value = Policy> {
    (
        prop::collection::vec(rule_strategy(), 0..5),
        prop::sample::select(vec![100u64, 300]),
    )
        .prop_map(|(rules, max_ttl)| {
            let rules = rules
                .into_iter()
                .enumerate()
                .map(
                    |(i, (deny, subjects, allow_caps, deny_caps, required, ttl))| Rule {
                        id: format!("r{i}"),
                        effect: if deny { Effect::Deny } else { Effect::Allow },
                        subjects,
                        capabilities: if deny { deny_caps } else { allow_caps },
                        required_constraints: if deny {
                            Constraints::default()
                        } else {
                            required
                        },
                        max_ttl: if deny { None } else { ttl },
                    },
                )
                .collect();
            Policy::new(max_ttl, rules).unwrap()
        })
}

fn request_strategy() -> impl Strategy<Value = PolicyRequest> {
    (
        prop::sample::select(vec!["a", "b", "agent:1", "c"]),
        proptest::option::of(prop::sample::select(vec!["op", "agent", "x"])),
        any::<bool>(),
        prop::collection::vec(cap_strategy(), 1..3),
        prop::sample::select(vec![1u64, 50, 200, 1000]),
    )
        .prop_map(|(id, role, lab, capabilities, ttl)| {
            let mut attributes = BTreeMap::new();
            if let Some(role) = role {
                attributes.insert("role".to_string(), role.to_string());
            }
            if lab {
                attributes.insert("site".to_string(), "lab".to_string());
            }
            PolicyRequest::new(Subject::new(id, attributes), capabilities, ttl)
        })
}

/// An independent reading of the subject rules of `docs/POLICY.md`.
fn applies(s: &Subjects, subject: &Subject) -> bool {
    s.ids.contains(&subject.id)
        || s.patterns
            .iter()
            .any(|p| scope::pattern_matches(p, &subject.id))
        || (!s.attributes.is_empty()
            && s.attributes.iter().all(|(name, values)| {
                subject
                    .attributes
                    .get(name)
                    .is_some_and(|v| values.contains(v))
            }))
}

/// What an allow rule grants at most: its capabilities, required
/// constraints merged.
fn with_required(rule: &Rule) -> Vec<Capability> {
    rule.capabilities
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.constraints =
                scope::meet_constraints(&c.constraints, &rule.required_constraints).unwrap();
            c
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn grants_are_exactly_request_and_allowed_and_never_denied(
        p in policy_strategy(),
        r in request_strategy(),
    ) {
        let decision = p.evaluate(&r, DEFAULT_BUDGET).unwrap();
        let applicable: Vec<&Rule> = p.rules().iter().filter(|rule| applies(&rule.subjects, &r.subject)).collect();
        let first_deny = applicable.iter().find(|rule| {
            rule.effect == Effect::Deny
                && !scope::meet(&rule.capabilities, &r.capabilities).unwrap().is_empty()
        });
        let allow: Vec<&Rule> = applicable
            .iter()
            .copied()
            .filter(|rule| rule.effect == Effect::Allow)
            .filter(|rule| !scope::meet(&r.capabilities, &with_required(rule)).unwrap().is_empty())
            .collect();
        match decision {
            Decision::Denied { code: DenialCode::DeniedByRule, rule, .. } => {
                // (b) Denied exactly when a matching deny rule overlaps, naming the first.
                prop_assert_eq!(rule, first_deny.map(|d| d.id.clone()));
            }
            Decision::Denied { code: DenialCode::NoMatchingRule, rule, .. } => {
                prop_assert!(first_deny.is_none());
                prop_assert!(allow.is_empty());
                prop_assert_eq!(rule, None);
            }
            Decision::Granted { capabilities, ttl, matched_rules, narrowed } => {
                prop_assert!(first_deny.is_none());
                let ids: Vec<String> = allow.iter().map(|rule| rule.id.clone()).collect();
                prop_assert_eq!(&matched_rules, &ids);
                let cap = allow.iter().filter_map(|rule| rule.max_ttl).min().unwrap_or(u64::MAX);
                prop_assert_eq!(ttl, r.ttl.min(p.max_ttl()).min(cap));
                prop_assert_eq!(narrowed, scope::first_uncovered(&capabilities, &r.capabilities).is_some());
                // (a) Syntactically inside the request and inside the allow rules...
                prop_assert_eq!(scope::first_uncovered(&r.capabilities, &capabilities), None);
                let allowed: Vec<Capability> = allow.iter().flat_map(|rule| with_required(rule)).collect();
                prop_assert_eq!(scope::first_uncovered(&allowed, &capabilities), None);
                // ...and semantically exactly their intersection.
                for q in all_requests() {
                    let by_rule = allow.iter().any(|rule| allows(&with_required(rule), &q));
                    prop_assert_eq!(
                        allows(&capabilities, &q),
                        allows(&r.capabilities, &q) && by_rule,
                        "{:?}", q
                    );
                }
                // (b) Nothing granted overlaps a deny rule that applies.
                for rule in applicable.iter().filter(|rule| rule.effect == Effect::Deny) {
                    prop_assert!(scope::meet(&rule.capabilities, &capabilities).unwrap().is_empty());
                }
            }
            Decision::Denied { code, .. } => prop_assert!(false, "unexpected denial {:?}", code),
        }
    }

    #[test]
    fn explain_never_disagrees_with_evaluate(
        p in policy_strategy(),
        r in request_strategy(),
        budget in prop_oneof![Just(DEFAULT_BUDGET), 0u64..60],
    ) {
        let evaluated = p.evaluate(&r, budget);
        let explained = p.explain(&r, budget);
        match (&evaluated, &explained) {
            (Ok(d), Ok(e)) => {
                prop_assert_eq!(d, &e.decision);
                prop_assert!(e.steps <= budget);
                // The same steps again suffice; the trace covers each visited rule once.
                prop_assert_eq!(&p.evaluate(&r, e.steps).unwrap(), d);
                let ids: Vec<&str> = p.rules().iter().take(e.rules.len()).map(|rule| rule.id.as_str()).collect();
                let traced: Vec<&str> = e.rules.iter().map(|t| t.id.as_str()).collect();
                prop_assert_eq!(ids, traced);
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            _ => prop_assert!(false, "evaluate {:?} but explain {:?}", evaluated, explained),
        }
    }

    #[test]
    fn random_policies_round_trip(p in policy_strategy()) {
        let again = Policy::from_json(&serde_json::to_vec(&p.to_json()).unwrap()).unwrap();
        prop_assert_eq!(again, p);
    }
}
