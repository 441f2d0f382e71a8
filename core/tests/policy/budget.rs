//! The step budget: exceeded rather than overrun, charged for long pattern
//! lists, and enough by default for a thousand rules.

use captoken_core::json::Value;
use captoken_core::policy::{DEFAULT_BUDGET, Policy, PolicyError};

use super::lit::json;
use super::support::*;

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
