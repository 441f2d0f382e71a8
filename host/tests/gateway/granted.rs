//! `POST /v1/capabilities/grant` in TASK-103's shape: the gateway mints
//! the grant, at the root through the policy, or below a recorded parent
//! as min(parent, asked), capped at the parent's expiry, at most three
//! deep, falling with any ancestor.

use serde_json::{Value, json};

use super::support::*;

/// The TASK-103 request: `issued_to` gets `scopes` from `granted_by`,
/// below `parent` if given, bound to `public`.
fn grant_body(issued_to: &str, parent: Option<&str>, scopes: Value, public: &Value) -> Value {
    let mut body = json!({
        "workspace_id": "ws-robots",
        "issued_to_principal_id": issued_to,
        "granted_by_principal_id": "operator-1",
        "scopes": scopes,
        "expires_in_seconds": 86_400,
        "subject_public_key": public,
    });
    if let Some(parent) = parent {
        body["parent_token_id"] = json!(parent);
    }
    body
}

fn granted(addr: std::net::SocketAddr, body: &Value) -> Value {
    let reply = post(addr, "/v1/capabilities/grant", true, body);
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

fn drive() -> Value {
    json!([{ "actions": ["drive"], "resources": ["robot:7"] }])
}

#[test]
fn a_grant_without_a_parent_goes_through_the_policy_like_an_issue() {
    let server = start("grant-root");
    let addr = server.addr;
    let (_, public) = holder(71);
    let root = granted(addr, &grant_body("operator-7", None, drive(), &public));
    assert_eq!(
        (root["depth"].clone(), root["parent_token_id"].clone()),
        (json!(0), Value::Null)
    );
    assert_eq!(root["token_id"], root["jti"]);
    assert_eq!(root["issued_to_principal_id"], "operator-7");
    assert_eq!(root["granted_by_principal_id"], "operator-1");
    assert_eq!(root["workspace_id"], "ws-robots");
    // The sample policy caps operators at 900 s.
    assert_eq!(
        (
            root["expires_in_seconds"].clone(),
            root["ttl_capped"].clone()
        ),
        (json!(900), json!(true))
    );
    assert_eq!(verify(addr, &text(&root, "token")).status, 200);
    // TASK-103: a grant emits `agent.capability.granted`, in its workspace.
    let events = get(addr, "/v1/events?workspace_id=ws-robots", true).json();
    let granted_event = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["id"] == root["jti"])
        .unwrap_or_else(|| panic!("no event for the grant in {events}"));
    assert_eq!(granted_event["type"], "agent.capability.granted");
    assert_eq!(granted_event["data"]["sub"], "operator-7");
    assert_eq!(granted_event["data"]["caps"], root["capabilities"]);
    assert!(granted_event["data"].get("parent_id").is_none());
    let listed = get(addr, "/v1/capabilities?principal_id=operator-7", true).json();
    assert!(
        listed.to_string().contains(root["jti"].as_str().unwrap()),
        "{listed}"
    );
    // What the policy grants nobody is its 403, never a 400.
    let denied = post(
        addr,
        "/v1/capabilities/grant",
        true,
        &grant_body(
            "stranger",
            None,
            json!([{ "actions": ["drive"], "resources": ["robot:7"] }]),
            &public,
        ),
    );
    denied.expect_error(403, "no_matching_rule");
    // Malformed requests are named.
    let mut both = grant_body("operator-7", None, drive(), &public);
    both["valid_until"] = json!(4_000_000_000_u64);
    post(addr, "/v1/capabilities/grant", true, &both).expect_error(400, "invalid_value");
    let mut no_scopes = grant_body("operator-7", None, drive(), &public);
    no_scopes.as_object_mut().unwrap().remove("scopes");
    post(addr, "/v1/capabilities/grant", true, &no_scopes).expect_error(400, "missing_field");
    post(
        addr,
        "/v1/capabilities/grant",
        false,
        &grant_body("operator-7", None, drive(), &public),
    )
    .expect_error(401, "missing_credentials");
}

#[test]
fn a_child_grant_is_the_meet_capped_three_deep_and_falls_with_its_ancestors() {
    let server = start("grant-child");
    let addr = server.addr;
    let (holder_private, public) = holder(72);
    let mut body = issue_body("operator-1", &public);
    body["plan_id"] = json!("plan-gold");
    let root = post(addr, "/v1/tokens", true, &body).json();
    let root_id = text(&root, "jti");
    let root_place = verify(addr, &text(&root, "token")).json()["claims"]["status"].clone();

    // min(parent, asked): `fly` and `robot:8` are not the parent's.
    let asked = json!([{ "actions": ["drive", "fly"], "resources": ["robot:7", "robot:8"] }]);
    let child = granted(
        addr,
        &grant_body("helper-1", Some(&root_id), asked, &public),
    );
    assert_eq!(child["capabilities"], drive());
    assert_eq!(
        (child["narrowed"].clone(), child["depth"].clone()),
        (json!(true), json!(1))
    );
    assert_eq!(child["parent_token_id"], root_id.as_str());
    // Never past the parent's expiry.
    assert_eq!(child["ttl_capped"], true);
    assert!(child["expires_at"].as_i64().unwrap() <= root["expires_at"].as_i64().unwrap());
    let child_token = text(&child, "token");
    let verified = verify(addr, &child_token).json();
    assert_eq!(verified["claims"]["sub"], "helper-1");
    // It says how deep it was granted, for every verifier's depth limit.
    assert_eq!(verified["claims"]["grant_depth"], 1);
    // A place of its own in the status lists, and its parent's plan.
    let place = verified["claims"]["status"]["status_list"].clone();
    assert_ne!(place, root_place["status_list"]);
    assert_eq!(place["uri"], root_place["status_list"]["uri"]);
    assert_eq!(verified["claims"]["plan_id"], "plan-gold");
    // Asked exactly what the parent holds: not narrowed; no workspace
    // named: the parent's.
    let mut body = grant_body(
        "helper-2",
        Some(&text(&child, "token_id")),
        drive(),
        &public,
    );
    body.as_object_mut().unwrap().remove("workspace_id");
    let same = granted(addr, &body);
    assert_eq!(
        (same["narrowed"].clone(), same["depth"].clone()),
        (json!(false), json!(2))
    );
    assert_eq!(same["workspace_id"], "ws-robots");
    let third = granted(
        addr,
        &grant_body("helper-3", Some(&text(&same, "token_id")), drive(), &public),
    );
    assert_eq!(third["depth"], 3);
    // A fourth level, by the gateway or by the holder's own delegation, is
    // refused and audited.
    post(
        addr,
        "/v1/capabilities/grant",
        true,
        &grant_body(
            "helper-4",
            Some(&text(&third, "token_id")),
            drive(),
            &public,
        ),
    )
    .expect_error(403, "delegation_too_deep");
    let (_, fourth_public) = holder(73);
    let minted = runtime()
        .call_json(
            runtime().op_id("delegate").unwrap(),
            &json!({
                "parent": text(&third, "token"), "jwks": server.gateway.jwks(), "issuer": ISSUER,
                "audience": AUDIENCE, "now": captoken_host::now(), "key": holder_private, "ttl": 60, "max_depth": 8,
                "entropy": captoken_core::b64::encode(&[8; 32]),
                "claims": { "sub": "helper-4", "aud": AUDIENCE, "cnf": { "jwk": fourth_public }, "caps": drive() },
            }),
        )
        .unwrap();
    grant(addr, minted["token"].as_str().unwrap()).expect_error(403, "delegation_too_deep");
    let attempts = audit_records(sqlite_file(&server.paths.db))
        .into_iter()
        .filter(|r| r["event"] == "agent.delegation.attempted")
        .count();
    assert_eq!(attempts, 2);
    // Nothing of what was asked within the parent: refused.
    post(
        addr,
        "/v1/capabilities/grant",
        true,
        &grant_body(
            "helper-5",
            Some(&root_id),
            json!([{ "actions": ["fly"], "resources": ["robot:7"] }]),
            &public,
        ),
    )
    .expect_error(403, "delegation_escalation");
    post(
        addr,
        "/v1/capabilities/grant",
        true,
        &grant_body("helper-5", Some("AAAAAAAAAAAAAAAAAAAAAA"), drive(), &public),
    )
    .expect_error(404, "unknown_token");
    // An expired parent grants nothing (its end moved into the past, as
    // time would).
    tamper(
        sqlite_file(&server.paths.db),
        &format!(
            "UPDATE sec_capability_tokens SET valid_until = 1 WHERE token_id = '{}'",
            text(&third, "token_id")
        ),
    );
    post(
        addr,
        "/v1/capabilities/grant",
        true,
        &grant_body(
            "helper-5",
            Some(&text(&third, "token_id")),
            drive(),
            &public,
        ),
    )
    .expect_error(403, "expired");
    // The grantor, not the policy, renews a child.
    let refresh = json!({ "token": child_token, "proof": proof(&child_token, &holder_private, AUDIENCE, None) });
    post(addr, "/v1/tokens/refresh", false, &refresh).expect_error(403, "refresh_not_root");

    // Revoking the middle grant refuses it and everything below it, not
    // its parent: here, and offline with the status list alone (each has
    // its own bit, set when it or an ancestor is revoked).
    assert_eq!(revoke(addr, &text(&same, "token_id")).status, 200);
    verify(addr, &text(&same, "token")).expect_error(401, "revoked");
    verify(addr, &text(&third, "token")).expect_error(401, "revoked");
    assert_eq!(verify(addr, &child_token).status, 200);
    let list = get(addr, "/v1/status-lists/0", false).json();
    assert_eq!(list["count"], 2);
    let offline = |token: &str| {
        runtime().call_json(
            runtime().op_id("verify").unwrap(),
            &json!({ "token": token, "jwks": server.gateway.jwks(), "issuer": ISSUER,
                     "audience": AUDIENCE, "now": captoken_host::now(), "status_list": list["list"] }),
        )
    };
    for token in [text(&same, "token"), text(&third, "token")] {
        assert_eq!(offline(&token).unwrap_err().code(), "revoked");
    }
    offline(&child_token).unwrap();
    post(
        addr,
        "/v1/capabilities/grant",
        true,
        &grant_body("helper-6", Some(&text(&same, "token_id")), drive(), &public),
    )
    .expect_error(403, "revoked");
    // Revoking the root: the child falls too, and both bits say so.
    assert_eq!(revoke(addr, &root_id).status, 200);
    verify(addr, &child_token).expect_error(401, "revoked");
    assert_eq!(get(addr, "/v1/status-lists/0", false).json()["count"], 4);
}
