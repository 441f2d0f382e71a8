//! What the cases are built from: a row as an author writes it, native
//! calls, and the keys, claims, trust and policy the rows share.

use serde_json::{Value, json};

use super::{Case, Request};

pub(crate) const NOW: i64 = 1_700_000_000;
pub(crate) const ISS: &str = "https://gw.example";
pub(crate) const AUD: &str = "robot-gateway";

pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) op: &'static str,
    pub(crate) request: Value,
    /// `"ok"` or the expected error code.
    pub(crate) expect: &'static str,
}

impl From<Row> for Case {
    fn from(row: Row) -> Case {
        Case {
            what: row.name.to_owned(),
            op: row.op.to_owned(),
            request: Request::Json(row.request),
            expect: row.expect.to_owned(),
        }
    }
}

pub(crate) fn native(op: &str, request: &Value) -> Result<Vec<u8>, Vec<u8>> {
    captoken_core::ops::call_named(op, &serde_json::to_vec(request).unwrap())
        .map_err(|e| e.to_json())
}

pub(crate) fn ok(op: &str, request: &Value) -> Value {
    serde_json::from_slice(&native(op, request).unwrap()).unwrap()
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    captoken_core::b64::encode(bytes)
}

pub(crate) fn trust(token: &str) -> Value {
    json!({ "token": token, "jwks": { "keys": [keygen(1)["public_jwk"]] }, "issuer": ISS, "audience": AUD, "now": NOW + 1, "leeway": 0 })
}

pub(crate) fn keygen(n: u8) -> Value {
    ok("keygen", &json!({ "seed": b64(&[n; 32]) }))
}

pub(crate) fn drive7() -> Value {
    json!([{ "actions": ["drive", "stop"], "resources": ["robot:7"], "constraints": { "domains": ["*.example.com"], "max_purchase": 100, "rooms": ["lab"] } }])
}

pub(crate) fn claims(holder: u8, caps: Value) -> Value {
    json!({ "sub": format!("principal-{holder}"), "aud": AUD, "cnf": { "jwk": keygen(holder)["public_jwk"] }, "caps": caps })
}

pub(crate) fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

/// The seed's policy: agents may read and interact on spotify, never buy
/// and never touch personal data, for at most five minutes.
pub(crate) fn policy_doc() -> Value {
    json!({
        "version": 1,
        "max_ttl": 300,
        "rules": [
            { "id": "agents-browse", "effect": "allow",
              "subjects": { "patterns": ["agent:*"] },
              "capabilities": [{ "actions": ["CAP_READ", "CAP_INTERACT", "CAP_NAVIGATE"], "resources": ["web:*"],
                                 "constraints": { "domains": ["spotify.com", "*.spotify.com"] } }],
              "required_constraints": { "max_purchase": 0, "pii_access": false } },
            { "id": "no-checkout", "effect": "deny",
              "subjects": { "patterns": ["*"] },
              "capabilities": [{ "actions": ["*"], "resources": ["web:checkout"] }] }
        ]
    })
}

pub(crate) fn policy_request(subject: &str) -> Value {
    json!({
        "subject": { "id": subject },
        "capabilities": [{ "actions": ["CAP_READ", "CAP_INTERACT"], "resources": ["web:player"],
                           "constraints": { "domains": ["open.spotify.com"], "max_purchase": 500 } }],
        "ttl": 3600
    })
}

/// An issue through the seed's policy of `caps` for `sub`, held by key 2.
pub(crate) fn through_policy(sub: &str, caps: Value) -> Value {
    json!({ "key": keygen(1)["private_jwk"], "issuer": ISS, "now": NOW, "entropy": b64(&[8; 16]),
            "policy": policy_doc(),
            "claims": { "sub": sub, "aud": AUD, "cnf": { "jwk": keygen(2)["public_jwk"] }, "caps": caps } })
}

pub(crate) fn verify_jti(token: &str) -> Value {
    ok("verify", &trust(token))["claims"]["jti"].clone()
}
