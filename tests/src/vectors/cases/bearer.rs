//! Bearer tokens: granted only by a policy rule that allows them, short
//! -lived, and refused wherever a holder key is needed (proof of
//! possession, delegation, refresh).

use serde_json::{Value, json};

use super::super::build::*;

/// The seed's token service: agents get five-minute tokens without a
/// holder key for reading; anything else stays holder-bound.
fn bearer_policy() -> Value {
    json!({
        "version": 1,
        "max_ttl": 3600,
        "rules": [
            { "id": "executor-read", "effect": "allow",
              "subjects": { "patterns": ["agent:*"] },
              "capabilities": [{ "actions": ["CAP_READ"], "resources": ["web:*"] }],
              "bearer": { "max_ttl": 300 } },
            { "id": "agents-drive", "effect": "allow",
              "subjects": { "patterns": ["agent:*"] },
              "capabilities": [{ "actions": ["drive"], "resources": ["robot:*"] }] }
        ]
    })
}

fn bearer_claims(sub: &str, caps: Value) -> Value {
    json!({ "sub": sub, "aud": AUD, "caps": caps })
}

fn read_web() -> Value {
    json!([{ "actions": ["CAP_READ"], "resources": ["web:player"] }])
}

/// The cases, over the root token's issue request.
#[allow(clippy::too_many_lines)]
pub(super) fn rows(issue: &Value) -> Vec<Row> {
    let through = |claims: Value, ttl: u64| {
        json!({ "key": keygen(1)["private_jwk"], "issuer": ISS, "now": NOW, "entropy": b64(&[11; 16]),
                "policy": bearer_policy(), "ttl": ttl, "bearer": true, "claims": claims })
    };
    let bearer = ok(
        "issue",
        &through(bearer_claims("agent:7", read_web()), 3600),
    )["token"]
        .as_str()
        .unwrap()
        .to_string();
    // A token a holder delegated, presented as the child of the bearer
    // token: no holder key above it could have signed it.
    let holder_token = ok("issue", issue)["token"].as_str().unwrap().to_string();
    let child = {
        let mut r = trust(&holder_token);
        let m = r.as_object_mut().unwrap();
        m.remove("token");
        m.insert("parent".into(), holder_token.clone().into());
        m.insert("key".into(), keygen(2)["private_jwk"].clone());
        m.insert("ttl".into(), 60.into());
        m.insert("entropy".into(), b64(&[12; 16]).into());
        m.insert("claims".into(), claims(4, drive7()));
        ok("delegate", &r)["token"]
            .as_str()
            .unwrap()
            .split('~')
            .next()
            .unwrap()
            .to_string()
    };
    let policy_request = |caps: Value, bearer: bool| {
        json!({ "policy": bearer_policy(),
                "request": { "subject": { "id": "agent:7" }, "capabilities": caps, "ttl": 3600, "bearer": bearer } })
    };
    vec![
        Row {
            name: "issue bearer through a rule that allows it",
            op: "issue",
            request: through(bearer_claims("agent:7", read_web()), 3600),
            expect: "ok",
        },
        Row {
            name: "issue bearer where no rule allows it",
            op: "issue",
            request: through(
                bearer_claims("agent:7", json!([{ "actions": ["drive"], "resources": ["robot:1"] }])),
                60,
            ),
            expect: "ok",
        },
        Row {
            name: "issue without cnf and without a policy",
            op: "issue",
            request: with(issue.clone(), "claims", bearer_claims("agent:7", read_web())),
            expect: "bad_claims",
        },
        Row {
            name: "issue without cnf through a policy, not asking for bearer",
            op: "issue",
            request: {
                let mut r = through(bearer_claims("agent:7", read_web()), 60);
                r.as_object_mut().unwrap().remove("bearer");
                r
            },
            expect: "bad_claims",
        },
        Row {
            name: "issue bearer with a cnf",
            op: "issue",
            request: through(with(bearer_claims("agent:7", read_web()), "cnf", claims(2, read_web())["cnf"].clone()), 60),
            expect: "bad_claims",
        },
        Row {
            name: "issue bearer without a policy",
            op: "issue",
            request: with(
                with(issue.clone(), "claims", bearer_claims("agent:7", read_web())),
                "bearer",
                json!(true),
            ),
            expect: "bad_request",
        },
        Row {
            name: "policy_evaluate bearer where a deny rule overlaps",
            op: "policy_evaluate",
            request: {
                let mut r = policy_request(read_web(), true);
                r["policy"]["rules"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({ "id": "no-player", "effect": "deny", "subjects": { "patterns": ["*"] },
                                  "capabilities": [{ "actions": ["*"], "resources": ["web:player"] }] }));
                r
            },
            expect: "ok",
        },
        Row {
            name: "policy_evaluate bearer capped by the rule's max_ttl below its bearer max_ttl",
            op: "policy_evaluate",
            request: {
                let mut r = policy_request(read_web(), true);
                r["policy"]["rules"][0]["max_ttl"] = json!(60);
                r
            },
            expect: "ok",
        },
        Row {
            name: "policy_evaluate holder-bound, not capped by bearer max_ttl",
            op: "policy_evaluate",
            request: policy_request(read_web(), false),
            expect: "ok",
        },
        Row {
            name: "policy_explain bearer",
            op: "policy_explain",
            request: policy_request(
                json!([{ "actions": ["CAP_READ", "drive"], "resources": ["web:player", "robot:1"] }]),
                true,
            ),
            expect: "ok",
        },
        Row {
            name: "policy_evaluate bearer not a boolean",
            op: "policy_evaluate",
            request: {
                let mut r = policy_request(read_web(), true);
                r["request"]["bearer"] = json!("yes");
                r
            },
            expect: "bad_request",
        },
        Row {
            name: "policy_check bearer on a deny rule",
            op: "policy_check",
            request: json!({ "policy": { "version": 1, "rules": [
                { "id": "d", "effect": "deny", "subjects": { "patterns": ["*"] },
                  "capabilities": [{ "actions": ["*"], "resources": ["x"] }], "bearer": { "max_ttl": 60 } } ] } }),
            expect: "bad_policy",
        },
        Row {
            name: "policy_check bearer living an hour and more",
            op: "policy_check",
            request: {
                let mut p = bearer_policy();
                p["rules"][0]["bearer"]["max_ttl"] = json!(3601);
                json!({ "policy": p })
            },
            expect: "bad_policy",
        },
        Row {
            name: "verify bearer",
            op: "verify",
            request: trust(&bearer),
            expect: "ok",
        },
        Row {
            name: "pop_create for a bearer token (the token is not read: verifiers refuse the proof)",
            op: "pop_create",
            request: json!({ "key": keygen(2)["private_jwk"], "token": bearer, "audience": "svc", "now": NOW + 1, "entropy": b64(&[2; 16]) }),
            expect: "ok",
        },
        Row {
            name: "pop_verify bearer",
            op: "pop_verify",
            request: with(
                with(
                    trust(&bearer),
                    "proof",
                    ok("pop_create", &json!({ "key": keygen(2)["private_jwk"], "token": bearer, "audience": "svc", "now": NOW + 1, "entropy": b64(&[2; 16]) }))["proof"].clone(),
                ),
                "pop_audience",
                json!("svc"),
            ),
            expect: "bearer_token",
        },
        Row {
            name: "delegate bearer",
            op: "delegate",
            request: {
                let mut r = trust(&bearer);
                let m = r.as_object_mut().unwrap();
                m.remove("token");
                m.insert("parent".into(), bearer.clone().into());
                m.insert("key".into(), keygen(2)["private_jwk"].clone());
                m.insert("ttl".into(), 60.into());
                m.insert("entropy".into(), b64(&[13; 16]).into());
                m.insert("claims".into(), claims(4, read_web()));
                r
            },
            expect: "bearer_token",
        },
        Row {
            name: "verify a chain below a bearer token",
            op: "verify",
            request: trust(&format!("{child}~{bearer}")),
            expect: "bearer_token",
        },
        Row {
            name: "refresh bearer",
            op: "refresh",
            request: with(
                with(
                    with(
                        with(trust(&bearer), "key", keygen(1)["private_jwk"].clone()),
                        "policy",
                        bearer_policy(),
                    ),
                    "entropy",
                    json!(b64(&[14; 16])),
                ),
                "ttl",
                json!(60),
            ),
            expect: "bearer_token",
        },
    ]
}
