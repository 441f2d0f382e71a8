//! Issuing, verifying and revoking tokens: the policy's decisions, verify's
//! refusals, delegated chains, single use and proof of possession.

use captoken_core::b64;
use captoken_host::gateway;
use captoken_host::now;
use serde_json::{Value, json};

use super::support::*;

#[test]
fn issue_verify_list_revoke_round_trip() {
    let server = start("round-trip");
    let addr = server.addr;
    let (_, public) = holder(1);
    let issued = issue(addr, "operator-1", &public);
    assert_eq!(issued["subject"], "operator-1");
    assert_eq!(issued["matched_rules"], json!(["operators-drive"]));
    assert_eq!(
        issued["expires_at"].as_i64().unwrap() - issued["issued_at"].as_i64().unwrap(),
        600
    );
    let token = issued["token"].as_str().unwrap();
    let jti = issued["jti"].as_str().unwrap();

    let verified = verify(addr, token);
    assert_eq!(verified.status, 200);
    let verified = verified.json();
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["jti"], jti);
    assert_eq!(verified["sub"], "operator-1");
    assert_eq!(verified["scope"], issued["capabilities"]);
    assert_eq!(verified["expires_at"], issued["expires_at"]);
    // The token carries the key's public essentials (RFC 7638 members).
    assert_eq!(verified["subject_public_key"]["x"], public["x"]);
    assert_eq!(verified["subject_public_key"]["kty"], "OKP");
    assert_eq!(verified["depth"], 0);

    let listed = get(addr, "/v1/capabilities?principal_id=operator-1", true);
    assert_eq!(listed.status, 200);
    let listed = listed.json();
    assert_eq!(listed["count"], 1);
    let row = &listed["tokens"][0];
    assert_eq!(row["token_id"], jti);
    assert_eq!(row["status"], "active");
    assert_eq!(row["granted_by_principal_id"], "admin");
    assert_eq!(row["workspace_id"], "default");
    assert_eq!(row["scopes"]["caps"], issued["capabilities"]);
    assert_eq!(row["valid_until"], issued["expires_at"]);

    let revoked = revoke(addr, jti);
    assert_eq!(revoked.status, 200);
    let revoked = revoked.json();
    assert_eq!(revoked["already_revoked"], false);
    assert_eq!(revoked["known_token"], true);
    assert_eq!(revoked["rows_marked"], 1);
    verify(addr, token).expect_error(401, "revoked");

    let again = revoke(addr, jti).json();
    assert_eq!(again["already_revoked"], true);
    assert_eq!(again["revoked_at"], revoked["revoked_at"]);

    let active = get(addr, "/v1/capabilities?principal_id=operator-1", true).json();
    assert_eq!(active["count"], 0);
    let all = get(
        addr,
        "/v1/capabilities?principal_id=operator-1&include_inactive=true",
        true,
    )
    .json();
    assert_eq!(all["tokens"][0]["status"], "revoked");
    assert_eq!(all["tokens"][0]["revoked_at"], revoked["revoked_at"]);
}

#[test]
fn policy_decides_what_is_granted_or_answers_403_with_its_code() {
    let server = start("policy");
    let addr = server.addr;
    let (_, public) = holder(2);

    let denied = post(
        addr,
        "/v1/tokens",
        true,
        &json!({
            "subject": "agent-7",
            "subject_public_key": public,
            "capabilities": [{ "actions": ["read"], "resources": ["pii:records"] }],
        }),
    );
    let body = denied.expect_error(403, "denied_by_rule");
    assert_eq!(body["rule"], "agents-never-pii");

    let nobody = post(addr, "/v1/tokens", true, &issue_body("mallory", &public));
    assert_eq!(
        nobody.expect_error(403, "no_matching_rule")["rule"],
        Value::Null
    );

    // Granted, but narrowed: the rule's constraints merged, its TTL cap applied.
    let narrowed = post(
        addr,
        "/v1/tokens",
        true,
        &json!({
            "subject": "agent-7",
            "subject_public_key": public,
            "capabilities": [{ "actions": ["CAP_READ"], "resources": ["web:*"],
                               "constraints": { "max_purchase": 5000 } }],
            "expires_in_seconds": 86_400,
            "plan_id": "plan-1",
        }),
    );
    assert_eq!(narrowed.status, 201);
    let narrowed = narrowed.json();
    assert_eq!(narrowed["expires_in_seconds"], 300);
    assert_eq!(narrowed["narrowed"], true);
    let constraints = &narrowed["capabilities"][0]["constraints"];
    assert_eq!(constraints["max_purchase"], 0);
    assert_eq!(constraints["pii_access"], false);
    let claims = verify(addr, narrowed["token"].as_str().unwrap()).json()["claims"].clone();
    assert_eq!(claims["plan_id"], "plan-1");
    assert_eq!(claims["caps"], narrowed["capabilities"]);

    // The seed documents' tiers are accepted as `scope`.
    let tier = post(
        addr,
        "/v1/tokens",
        true,
        &json!({ "subject": "device-1", "subject_public_key": public, "scope": "READ" }),
    );
    assert_eq!(tier.status, 201);
    assert_eq!(
        tier.json()["capabilities"],
        json!([{ "actions": ["READ"], "resources": ["*"] }])
    );
}

#[test]
fn verify_answers_401_with_the_modules_code() {
    let server = start("verify-401");
    let addr = server.addr;
    let (_, public) = holder(5);
    let issued = issue(addr, "operator-1", &public);
    let token = issued["token"].as_str().unwrap();

    verify(addr, "not-a-token").expect_error(401, "malformed_token");
    post(
        addr,
        "/v1/tokens/verify",
        false,
        &json!({ "token": token, "audience": "elsewhere" }),
    )
    .expect_error(401, "bad_audience");

    // Tampered payload: the signature no longer matches.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut sig = parts[2].clone().into_bytes();
    sig[0] = if sig[0] == b'A' { b'B' } else { b'A' };
    parts[2] = String::from_utf8(sig).unwrap();
    verify(addr, &parts.join(".")).expect_error(401, "bad_signature");

    // Signed by a key the gateway does not publish.
    let stranger = runtime().keygen([99; 32]).unwrap();
    let foreign = runtime()
        .issue_now(
            &stranger["private_jwk"],
            ISSUER,
            60,
            &json!({ "sub": "x", "aud": AUDIENCE, "cnf": { "jwk": public },
                     "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }] }),
        )
        .unwrap();
    verify(addr, foreign["token"].as_str().unwrap()).expect_error(401, "unknown_kid");

    // The gateway's own key, but long expired.
    let key: Value = serde_json::from_slice(
        &std::fs::read(server.paths.key_dir.join(gateway::SIGNING_KEY_FILE)).unwrap(),
    )
    .unwrap();
    let old = runtime()
        .issue(&json!({
            "key": key, "issuer": ISSUER, "now": now() - 10_000, "ttl": 60,
            "entropy": b64::encode(&[1; 32]),
            "claims": { "sub": "x", "aud": AUDIENCE, "cnf": { "jwk": public },
                        "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }] },
        }))
        .unwrap();
    verify(addr, old["token"].as_str().unwrap()).expect_error(401, "expired");
}

#[test]
fn revoking_a_parent_refuses_its_delegated_child() {
    let server = start("delegation");
    let addr = server.addr;
    let (holder_private, holder_public) = holder(6);
    let (_, child_public) = holder(7);
    let parent = issue(addr, "operator-1", &holder_public);
    let parent_token = parent["token"].as_str().unwrap();

    let child = delegate(&server, parent_token, &holder_private, &child_public);
    let child_token = child["token"].as_str().unwrap();
    let verified = verify(addr, child_token);
    assert_eq!(verified.status, 200);
    let verified = verified.json();
    assert_eq!(verified["depth"], 1);
    assert_eq!(verified["sub"], "operator-1-helper");
    assert_eq!(verified["root_sub"], "operator-1");
    assert_eq!(verified["jti"], child["jti"]);
    assert_eq!(verified["id"], child["id"]);

    // Revoking the child alone (by its id, which its delegator cannot
    // choose to collide with another token's) leaves the parent valid.
    let second = delegate(&server, parent_token, &holder_private, &child_public);
    let second_token = second["token"].as_str().unwrap();
    assert_eq!(
        revoke(addr, second["id"].as_str().unwrap()).json()["known_token"],
        false
    );
    verify(addr, second_token).expect_error(401, "revoked");
    assert_eq!(verify(addr, parent_token).status, 200);
    assert_eq!(verify(addr, child_token).status, 200);

    // Revoking the parent refuses the parent and every descendant.
    assert_eq!(revoke(addr, parent["jti"].as_str().unwrap()).status, 200);
    verify(addr, parent_token).expect_error(401, "revoked");
    let refused = verify(addr, child_token).expect_error(401, "revoked");
    assert!(
        refused["reason"].as_str().unwrap().contains("ancestor"),
        "{refused}"
    );
}

#[test]
fn a_single_use_token_is_spent_once_even_across_a_restart() {
    let server = start("single-use");
    let (_, public) = holder(70);
    let token = issue_token(server.addr, "operator-1", &public);
    let other = issue_token(server.addr, "operator-2", &public);

    // Plain verifies do not spend it.
    assert_eq!(verify(server.addr, &token).status, 200);
    let first = spend(server.addr, &token);
    assert_eq!(first.status, 200);
    assert_eq!(first.json()["single_use"], true);
    spend(server.addr, &token).expect_error(401, "replayed");
    // Another token is its own.
    assert_eq!(spend(server.addr, &other).status, 200);
    post(
        server.addr,
        "/v1/tokens/verify",
        false,
        &json!({ "token": token, "single_use": "yes" }),
    )
    .expect_error(400, "wrong_type");

    let (paths, dir) = (server.paths.clone(), server.dir.clone());
    drop(server);
    let server = restart(paths, dir);
    spend(server.addr, &token).expect_error(401, "replayed");
    spend(server.addr, &other).expect_error(401, "replayed");
}

#[test]
fn spending_a_delegated_token_spends_the_grant_it_came_from() {
    let server = start("single-use-chain");
    let (holder_private, public) = holder(73);
    let (_, child_public) = holder(74);
    let root = issue_token(server.addr, "operator-1", &public);
    // The holder mints itself two children to use the grant twice.
    let first = text(
        &delegate(&server, &root, &holder_private, &child_public),
        "token",
    );
    let second = text(
        &delegate(&server, &root, &holder_private, &child_public),
        "token",
    );
    assert_eq!(spend(server.addr, &first).status, 200);
    spend(server.addr, &second).expect_error(401, "replayed");
    spend(server.addr, &root).expect_error(401, "replayed");
    // Plain verification is untouched by spending.
    assert_eq!(verify(server.addr, &second).status, 200);
}

#[test]
fn a_proof_of_possession_binds_the_presenter_to_the_key_once() {
    let server = start("pop");
    let (holder_private, public) = holder(71);
    let (stranger_private, _) = holder(72);
    let token = issue_token(server.addr, "operator-1", &public);
    let present = |body: Value| post(server.addr, "/v1/tokens/verify", false, &body);

    let good = proof(&token, &holder_private, AUDIENCE, Some("n-1"));
    let ok = present(json!({ "token": token, "proof": good, "nonce": "n-1" }));
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let ok = ok.json();
    assert_eq!(ok["proof"]["aud"], AUDIENCE);
    assert_eq!(ok["proof"]["nonce"], "n-1");
    let holder_kid = runtime().keygen([71; 32]).unwrap()["kid"].clone();
    assert!(holder_kid.is_string());
    assert_eq!(ok["proof"]["kid"], holder_kid);
    // The same proof again is a replay; a fresh one is fine.
    present(json!({ "token": token, "proof": good, "nonce": "n-1" })).expect_error(401, "replayed");
    let again = proof(&token, &holder_private, AUDIENCE, None);
    assert_eq!(
        present(json!({ "token": token, "proof": again })).status,
        200
    );

    // Someone who copied the token but not the key.
    let stolen = proof(&token, &stranger_private, AUDIENCE, None);
    present(json!({ "token": token, "proof": stolen })).expect_error(401, "pop_key_mismatch");
    // A proof addressed to another verifier, or for another nonce.
    let elsewhere = proof(&token, &holder_private, "another-service", None);
    present(json!({ "token": token, "proof": elsewhere })).expect_error(401, "pop_bad_audience");
    let nonced = proof(&token, &holder_private, AUDIENCE, Some("n-2"));
    present(json!({ "token": token, "proof": nonced, "nonce": "n-3" }))
        .expect_error(401, "pop_nonce_mismatch");
    // Proof qualifiers without a proof are a malformed request.
    present(json!({ "token": token, "nonce": "n-1" })).expect_error(400, "missing_field");
}

/// The seed how-to's issue request, verbatim: a raw public key, a tier and
/// a day's lifetime. The sample policy grants paired keys INPUT; the
/// lifetime is capped by the policy, and the answer says so.
#[test]
fn the_how_to_request_verbatim_is_issued_to_the_key_itself() {
    let server = start("how-to");
    let addr = server.addr;
    let (_, public) = holder(7);
    let raw = b64::decode(public["x"].as_str().unwrap().as_bytes()).unwrap();
    // Standard base64, as `base64` prints it (the how-to's form): core's
    // base64url with the other two letters, padded.
    let url = public["x"].as_str().unwrap();
    let standard = format!("{}=", url.replace('-', "+").replace('_', "/"));
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let thumbprint = public["kid"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            captoken_core::keys::thumbprint(
                &captoken_core::keys::verifying_key_from_raw(&hex).unwrap(),
            )
        });

    let reply = post(
        addr,
        "/v1/tokens",
        true,
        &json!({ "subject_pubkey": standard, "scope": "INPUT", "expires_in_seconds": 86400 }),
    );
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let issued = reply.json();
    assert_eq!(issued["subject"], format!("key:{thumbprint}"));
    assert_eq!(
        issued["capabilities"],
        json!([{ "actions": ["INPUT"], "resources": ["*"] }])
    );
    assert_eq!(
        issued["expires_in_seconds"], 3600,
        "the sample policy's cap"
    );
    assert_eq!(issued["requested_expires_in_seconds"], 86400);
    assert_eq!(issued["ttl_capped"], true);
    let verified = verify(addr, issued["token"].as_str().unwrap()).json();
    assert_eq!(verified["subject_public_key"]["x"], public["x"]);

    // The same key in hex and in base64url; a subject given names it.
    for (form, subject) in [
        (hex.clone(), None),
        (public["x"].as_str().unwrap().to_owned(), Some("device-7")),
    ] {
        let mut body = json!({ "subject_pubkey": form, "scope": "READ" });
        if let Some(subject) = subject {
            body["subject"] = json!(subject);
        }
        let issued = post(addr, "/v1/tokens", true, &body);
        assert_eq!(
            issued.status,
            201,
            "{}",
            String::from_utf8_lossy(&issued.body)
        );
        let expected = subject.map_or(format!("key:{thumbprint}"), str::to_owned);
        assert_eq!(issued.json()["subject"], expected);
        assert_eq!(issued.json()["ttl_capped"], false);
    }

    // What is not a strong Ed25519 public key is refused with core's codes.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let identity: String = identity.iter().map(|b| format!("{b:02x}")).collect();
    for (form, code) in [
        (identity.as_str(), "weak_key"),
        ("not a key", "bad_key"),
        (&hex[..62], "bad_key"),
        ("+/-_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "bad_key"),
    ] {
        post(
            addr,
            "/v1/tokens",
            true,
            &json!({ "subject_pubkey": form, "scope": "READ" }),
        )
        .expect_error(400, code);
    }
    post(
        addr,
        "/v1/tokens",
        true,
        &json!({ "subject_pubkey": hex, "subject_public_key": public, "scope": "READ" }),
    )
    .expect_error(400, "invalid_value");
    post(addr, "/v1/tokens", true, &json!({ "scope": "READ" })).expect_error(400, "missing_field");
}

#[test]
fn verify_with_an_action_authorizes_it_through_the_module() {
    let server = start("authorize");
    let addr = server.addr;
    let (_, public) = holder(5);
    let issued = post(
        addr,
        "/v1/tokens",
        true,
        &json!({
            "subject": "agent-9",
            "subject_public_key": public,
            "capabilities": [{ "actions": ["CAP_READ"], "resources": ["web:*"],
                               "constraints": { "domains": ["*.spotify.com"] } }],
        }),
    );
    assert_eq!(issued.status, 201);
    let token = text(&issued.json(), "token");
    let ask = |extra: Value| {
        let mut body = json!({ "token": token });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        post(addr, "/v1/tokens/verify", false, &body)
    };

    let allowed = ask(json!({ "action": "CAP_READ", "resource": "web:player",
                              "context": { "domain": "open.spotify.com", "purchase_amount": 0 } }));
    assert_eq!(
        allowed.status,
        200,
        "{}",
        String::from_utf8_lossy(&allowed.body)
    );
    let authorized = &allowed.json()["authorized"];
    assert_eq!(authorized["action"], "CAP_READ");
    assert_eq!(authorized["resource"], "web:player");
    assert_eq!(authorized["cap_index"], 0);
    // Without an action, verify answers as before: nothing authorized.
    assert_eq!(ask(json!({})).json()["authorized"], Value::Null);

    ask(json!({ "action": "CAP_BUY", "resource": "web:player", "context": { "domain": "open.spotify.com" } }))
        .expect_error(403, "not_granted");
    let over = ask(json!({ "action": "CAP_READ", "resource": "web:player",
                           "context": { "domain": "open.spotify.com", "purchase_amount": 1 } }));
    assert_eq!(
        over.expect_error(403, "constraint_violated")["path"],
        "caps[0].constraints.max_purchase"
    );
    let nowhere = ask(json!({ "action": "CAP_READ", "resource": "web:player" }));
    assert_eq!(
        nowhere.expect_error(403, "missing_context")["path"],
        "caps[0].constraints.domains"
    );
    ask(json!({ "action": "CAP_READ", "resource": "web:player", "context": { "domian": "x" } }))
        .expect_error(400, "bad_context");
    // Half a request is no request.
    ask(json!({ "action": "CAP_READ" })).expect_error(400, "missing_field");
    ask(json!({ "context": { "domain": "open.spotify.com" } })).expect_error(400, "missing_field");

    // A refused request spends nothing: the single-use token is still whole.
    ask(json!({ "action": "CAP_BUY", "resource": "web:player", "single_use": true }))
        .expect_error(403, "not_granted");
    assert_eq!(
        ask(
            json!({ "action": "CAP_READ", "resource": "web:player", "single_use": true,
                    "context": { "domain": "open.spotify.com" } })
        )
        .status,
        200
    );
    spend(addr, &token).expect_error(401, "replayed");

    // The token is checked first: a revoked one is 401 whatever is asked.
    let jti = text(&issued.json(), "jti");
    assert_eq!(revoke(addr, &jti).status, 200);
    ask(json!({ "action": "CAP_READ", "resource": "web:player", "context": { "domain": "open.spotify.com" } }))
        .expect_error(401, "revoked");
}

#[test]
fn refresh_trades_a_proven_token_for_a_fresh_one_the_policy_still_grants() {
    let server = start("refresh");
    let addr = server.addr;
    let (holder_private, public) = holder(81);
    let (stranger_private, _) = holder(82);
    let issued = issue(addr, "operator-1", &public);
    let token = text(&issued, "token");
    let refresh = |body: Value| post(addr, "/v1/tokens/refresh", false, &body);

    let fresh =
        refresh(json!({ "token": token, "proof": proof(&token, &holder_private, AUDIENCE, None) }));
    assert_eq!(
        fresh.status,
        201,
        "{}",
        String::from_utf8_lossy(&fresh.body)
    );
    let fresh = fresh.json();
    assert_ne!(fresh["jti"], issued["jti"]);
    assert_eq!(fresh["replaces"], issued["jti"]);
    assert_eq!(fresh["subject"], "operator-1");
    assert_eq!(fresh["capabilities"], issued["capabilities"]);
    assert_eq!(fresh["workspace_id"], "default");
    let new_token = text(&fresh, "token");
    let verified = verify(addr, &new_token).json();
    assert_eq!(verified["claims"]["cnf"]["jwk"]["x"], public["x"]);
    // Recorded and audited like an issue: listed, and in the chain.
    let listed = get(addr, "/v1/capabilities?principal_id=operator-1", true).json();
    assert!(
        listed.to_string().contains(fresh["jti"].as_str().unwrap()),
        "{listed}"
    );
    let events: Vec<Value> = audit_records(sqlite_file(&server.paths.db));
    assert!(
        events
            .iter()
            .any(|r| r["data"]["jti"] == fresh["jti"] && r["event"] == "token_issued")
    );

    // No proof, a proof by someone else, a proof used before: refused.
    refresh(json!({ "token": token })).expect_error(400, "missing_field");
    let stolen = proof(&token, &stranger_private, AUDIENCE, None);
    refresh(json!({ "token": token, "proof": stolen })).expect_error(401, "pop_key_mismatch");
    let once = proof(&token, &holder_private, AUDIENCE, None);
    assert_eq!(
        refresh(json!({ "token": token, "proof": once })).status,
        201
    );
    refresh(json!({ "token": token, "proof": once })).expect_error(401, "replayed");

    // The policy in force decides: a subject it no longer grants is 403.
    let (_, other_public) = holder(83);
    let reader = issue(addr, "operator-2", &other_public);
    std::fs::write(
        &server.paths.policy,
        r#"{ "version": 1, "rules": [ { "id": "only-operator-1", "effect": "allow",
             "subjects": { "ids": ["operator-1"] },
             "capabilities": [ { "actions": ["drive"], "resources": ["robot:7"] } ] } ] }"#,
    )
    .unwrap();
    assert!(server.gateway.reload().unwrap().policy_changed);
    let (other_private, _) = holder(83);
    let reader_token = text(&reader, "token");
    refresh(json!({ "token": reader_token, "proof": proof(&reader_token, &other_private, AUDIENCE, None) }))
        .expect_error(403, "no_matching_rule");
    // Narrowed, never widened: operator-1 keeps only what both allow.
    let narrowed =
        refresh(json!({ "token": token, "proof": proof(&token, &holder_private, AUDIENCE, None) }));
    assert_eq!(
        narrowed.status,
        201,
        "{}",
        String::from_utf8_lossy(&narrowed.body)
    );
    assert_eq!(
        narrowed.json()["capabilities"],
        json!([{ "actions": ["drive"], "resources": ["robot:7"] }])
    );

    // A revoked token is not refreshed.
    assert_eq!(revoke(addr, issued["jti"].as_str().unwrap()).status, 200);
    refresh(json!({ "token": token, "proof": proof(&token, &holder_private, AUDIENCE, None) }))
        .expect_error(401, "revoked");
}

#[test]
fn a_bearer_token_only_where_the_policy_allows_one_and_never_proven_delegated_or_refreshed() {
    let server = start("bearer");
    let addr = server.addr;
    let ask = |subject: Option<&str>, caps: Value, ttl: u64| {
        let mut body = json!({ "capabilities": caps, "expires_in_seconds": ttl, "bearer": true });
        if let Some(subject) = subject {
            body["subject"] = json!(subject);
        }
        post(addr, "/v1/tokens", true, &body)
    };
    let browse = json!([{ "actions": ["CAP_READ"], "resources": ["web:player"] }]);

    // The sample policy's `agents-browse` rule allows bearer tokens for five
    // minutes: asked for an hour, the token lives five minutes and says so.
    let issued = ask(Some("agent-7"), browse.clone(), 3600);
    assert_eq!(
        issued.status,
        201,
        "{}",
        String::from_utf8_lossy(&issued.body)
    );
    let issued = issued.json();
    assert_eq!(issued["bearer"], true);
    assert_eq!(issued["expires_in_seconds"], 300);
    assert_eq!(issued["ttl_capped"], true);
    assert_eq!(issued["matched_rules"], json!(["agents-browse"]));
    let token = text(&issued, "token");
    let verified = verify(addr, &token);
    assert_eq!(
        verified.status,
        200,
        "{}",
        String::from_utf8_lossy(&verified.body)
    );
    let verified = verified.json();
    assert_eq!(verified["bearer"], true);
    assert_eq!(verified["subject_public_key"], Value::Null);
    assert!(verified["claims"].get("cnf").is_none(), "{verified}");
    // Whoever holds it may present it; it allows what it says.
    let allowed = post(
        addr,
        "/v1/tokens/verify",
        false,
        &json!({ "token": token, "action": "CAP_READ", "resource": "web:player",
                 "context": { "purchase_amount": 0, "pii": false } }),
    );
    assert_eq!(
        allowed.status,
        200,
        "{}",
        String::from_utf8_lossy(&allowed.body)
    );

    // No key to prove: a proof, a refresh and a holder's delegation are refused.
    let (someone, _) = holder(91);
    post(
        addr,
        "/v1/tokens/verify",
        false,
        &json!({ "token": token, "proof": proof(&token, &someone, AUDIENCE, None) }),
    )
    .expect_error(401, "bearer_token");
    post(
        addr,
        "/v1/tokens/refresh",
        false,
        &json!({ "token": token, "proof": proof(&token, &someone, AUDIENCE, None) }),
    )
    .expect_error(401, "bearer_token");
    let (_, child_public) = holder(92);
    let child = runtime().call_json(
        runtime().op_id("delegate").unwrap(),
        &json!({ "parent": token, "jwks": server.gateway.jwks(),
                 "issuer": ISSUER, "audience": AUDIENCE, "now": now(),
                 "key": someone, "ttl": 60, "entropy": b64::encode(&[7; 16]),
                 "claims": { "sub": "agent-8", "aud": AUDIENCE, "cnf": { "jwk": child_public },
                             "caps": browse } }),
    );
    assert_eq!(
        child.unwrap_err().code(),
        "bearer_token",
        "a holder cannot delegate a bearer token"
    );

    // Where no rule allows one: 403 with the policy's code, nothing issued.
    ask(
        Some("operator-1"),
        json!([{ "actions": ["drive"], "resources": ["robot:7"] }]),
        60,
    )
    .expect_error(403, "bearer_not_allowed");
    // Neither a key nor a subject: nothing to issue to. A bearer token is
    // asked for by name: a subject without a key and without `bearer` is
    // still a missing key, and a key with `bearer` a contradiction.
    ask(None, browse.clone(), 60).expect_error(400, "missing_field");
    post(
        addr,
        "/v1/tokens",
        true,
        &json!({ "subject": "agent-7", "capabilities": browse }),
    )
    .expect_error(400, "missing_field");
    let (_, key) = holder(93);
    post(
        addr,
        "/v1/tokens",
        true,
        &json!({ "subject": "agent-7", "subject_public_key": key, "capabilities": browse, "bearer": true }),
    )
    .expect_error(400, "invalid_value");
    // Revoked like any token: the gateway's verify refuses it from then on.
    assert_eq!(revoke(addr, issued["jti"].as_str().unwrap()).status, 200);
    verify(addr, &token).expect_error(401, "revoked");
    // A server-side grant binds its child to a key, asked for before anything else.
    post(
        addr,
        "/v1/capabilities/grant",
        true,
        &json!({ "issued_to_principal_id": "agent-8", "granted_by_principal_id": "agent-7",
                 "parent_token_id": issued["jti"], "scopes": [{ "actions": ["CAP_READ"], "resources": ["web:player"] }] }),
    )
    .expect_error(400, "missing_field");
}
