//! Shared by every module: reading policies and requests, evaluating with
//! the default budget, and the seed scenario's policy and request.

use captoken_core::Capability;
use captoken_core::json::Value;
use captoken_core::policy::{
    DEFAULT_BUDGET, Decision, DenialCode, Policy, PolicyError, PolicyRequest,
};
use captoken_core::scope::{self, Context, Request};

use super::lit::json;

pub(crate) fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

pub(crate) fn policy(v: Value) -> Policy {
    Policy::from_json(&bytes(&v)).unwrap()
}

pub(crate) fn load_err(v: Value) -> PolicyError {
    Policy::from_json(&bytes(&v)).unwrap_err()
}

pub(crate) fn ask(subject: Value, caps: Value, ttl: u64) -> PolicyRequest {
    PolicyRequest::from_json(&bytes(
        &json!({ "subject": subject, "capabilities": caps, "ttl": ttl }),
    ))
    .unwrap()
}

pub(crate) fn cap(v: Value) -> Capability {
    Capability::from_json(&v, "cap").unwrap()
}

pub(crate) fn caps(v: Value) -> Vec<Capability> {
    Capability::list_from_json(&v, "caps").unwrap()
}

pub(crate) fn eval(p: &Policy, r: &PolicyRequest) -> Decision {
    let decision = p.evaluate(r, DEFAULT_BUDGET).unwrap();
    assert_eq!(p.explain(r, DEFAULT_BUDGET).unwrap().decision, decision);
    decision
}

pub(crate) struct Grant {
    pub(crate) caps: Vec<Capability>,
    pub(crate) ttl: u64,
    pub(crate) rules: Vec<String>,
    pub(crate) narrowed: bool,
}

pub(crate) fn granted(d: Decision) -> Grant {
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

pub(crate) fn denied(d: Decision) -> (DenialCode, Option<String>, String) {
    match d {
        Decision::Denied { code, rule, reason } => (code, rule, reason),
        other => panic!("expected a denial, got {other:?}"),
    }
}

pub(crate) fn req(action: &str, resource: &str, ctx: Value) -> Request {
    Request::new(action, resource, Context::from_json(ctx).unwrap())
}

pub(crate) fn allows(caps: &[Capability], r: &Request) -> bool {
    scope::authorize_caps(caps, r).is_ok()
}

// ---------------------------------------------------------------------------
// The seed scenario: "Capability Token Service"

pub(crate) fn seed_policy() -> Value {
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

pub(crate) fn spotify_request(subject: &str) -> PolicyRequest {
    ask(
        json!({ "id": subject }),
        json!([{ "actions": ["CAP_READ", "CAP_INTERACT"], "resources": ["web:*"],
                 "constraints": { "domains": ["spotify.com", "*.spotify.com"], "max_purchase": 5000 } }]),
        3600,
    )
}

pub(crate) fn seed_policy_loaded() -> Policy {
    policy(seed_policy())
}
