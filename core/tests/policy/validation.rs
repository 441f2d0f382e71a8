//! Load-time validation: one case per fault, with its code and exact path.

use captoken_core::json::Value;
use captoken_core::policy::{
    DEFAULT_BUDGET, MAX_RULES, Policy, PolicyError, PolicyRequest, Subject,
};

use super::lit::json;
use super::support::*;

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
