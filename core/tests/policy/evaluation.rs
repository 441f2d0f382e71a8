//! Evaluation: the seed scenario, subject matching, deny over allow, narrowing,
//! TTLs and required constraints, explanations and (de)serialization.

use captoken_core::json::Value;
use captoken_core::policy::{
    DEFAULT_BUDGET, DEFAULT_MAX_TTL, DenialCode, Effect, Policy, PolicyRequest, Rule, Subject,
    Subjects,
};
use captoken_core::scope;
use captoken_core::{Capability, Constraints, SliceEntropy, TokenIssuer, TokenRequest};
use std::collections::BTreeMap;

use super::common::*;
use super::lit::json;
use super::support::*;

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
        bearer_max_ttl: None,
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
