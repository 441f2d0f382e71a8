//! Recorded delegations (`/v1/capabilities/grant`): listing, audit records, id
//! conflicts, revocation by id or bare jti, and refused delegations.

use std::path::Path;

use captoken_core::b64;
use captoken_host::now;
use serde_json::{Value, json};

use super::support::*;

#[test]
fn a_recorded_grant_is_listed_audited_and_revocable_by_capability() {
    let server = start("grant");
    let addr = server.addr;
    let (holder_private, holder_public) = holder(20);
    let (_, child_public) = holder(21);
    let parent = post(
        addr,
        "/v1/tokens",
        true,
        &json!({
            "subject": "operator-1",
            "subject_public_key": holder_public,
            "capabilities": [{ "actions": ["drive", "stop"], "resources": ["robot:7"] }],
            "workspace_id": "ws-7",
        }),
    );
    assert_eq!(parent.status, 201);
    let parent = parent.json();
    let parent_jti = parent["jti"].as_str().unwrap();
    let child = delegate(
        &server,
        parent["token"].as_str().unwrap(),
        &holder_private,
        &child_public,
    );
    let child_token = child["token"].as_str().unwrap();
    let child_id = child["id"].as_str().unwrap();

    let granted = grant(addr, child_token);
    assert_eq!(
        granted.status,
        201,
        "{}",
        String::from_utf8_lossy(&granted.body)
    );
    let granted = granted.json();
    assert_eq!(granted["token_id"], child_id);
    assert_eq!(granted["parent_token_id"], parent_jti);
    assert_eq!(granted["issued_to_principal_id"], "operator-1-helper");
    assert_eq!(granted["granted_by_principal_id"], "operator-1");
    // A child lives in its parent's workspace unless the grant names one.
    assert_eq!(granted["workspace_id"], "ws-7");
    assert_eq!(granted["depth"], 1);
    assert_eq!(
        granted["capabilities"],
        json!([{ "actions": ["stop"], "resources": ["robot:7"] }])
    );
    assert_eq!(granted["already_recorded"], false);

    let listed = get(
        addr,
        "/v1/capabilities?principal_id=operator-1-helper",
        true,
    )
    .json();
    assert_eq!(listed["count"], 1);
    let row = &listed["tokens"][0];
    assert_eq!(
        (
            row["token_id"].clone(),
            row["parent_token_id"].clone(),
            row["status"].clone()
        ),
        (json!(child_id), json!(parent_jti), json!("active"))
    );
    let conn = rusqlite::Connection::open(sqlite_file(&server.paths.db)).unwrap();
    let edge: (String, String, i64) = conn
        .query_row(
            "SELECT parent_token_id, child_token_id, depth FROM sec_delegation_edges",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(edge, (parent_jti.to_owned(), child_id.to_owned(), 1));

    // Recording again changes nothing and leaves no second record.
    let again = grant(addr, child_token);
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["already_recorded"], true);
    let records = audit_records(sqlite_file(&server.paths.db));
    let events: Vec<&str> = records
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["token_issued", "agent.capability.granted"]);
    assert_eq!(
        records[1]["data"],
        json!({
            "id": child_id,
            "parent_id": parent_jti,
            "sub": "operator-1-helper",
            "caps": granted["capabilities"],
            "exp": granted["expires_at"],
        })
    );

    // TASK-103's revoke: the child falls, its parent stands.
    let revoked = post(
        addr,
        "/v1/capabilities/revoke",
        true,
        &json!({ "token_id": child_id, "reason": "helper done" }),
    );
    assert_eq!(revoked.status, 200);
    let revoked = revoked.json();
    assert_eq!(
        (revoked["token_id"].clone(), revoked["known_token"].clone()),
        (json!(child_id), json!(true))
    );
    verify(addr, child_token).expect_error(401, "revoked");
    assert_eq!(verify(addr, parent["token"].as_str().unwrap()).status, 200);
    let listed = get(
        addr,
        "/v1/capabilities?principal_id=operator-1-helper&include_inactive=true",
        true,
    )
    .json();
    assert_eq!(listed["tokens"][0]["status"], "revoked");
    let last = audit_records(sqlite_file(&server.paths.db)).pop().unwrap();
    assert_eq!(last["event"], "agent.capability.revoked");
    assert_eq!(
        last["data"],
        json!({ "id": child_id, "reason": "helper done" })
    );
    post(
        addr,
        "/v1/capabilities/revoke",
        true,
        &json!({ "token_id": "nope" }),
    )
    .expect_error(400, "invalid_value");
    post(
        addr,
        "/v1/capabilities/revoke",
        true,
        &json!({ "token_id": child_id, "jti": child_id }),
    )
    .expect_error(400, "unknown_field");
}

#[test]
fn a_second_token_under_a_recorded_id_is_a_conflict_never_already_recorded() {
    let server = start("id-conflict");
    let addr = server.addr;
    let (holder_private, holder_public) = holder(58);
    let (_, child_public) = holder(59);
    let parent = issue_token(addr, "operator-1", &holder_public);
    // The holder mints two children with the same `jti` (the same
    // entropy): a narrow short one, then a wide long one.
    let entropy = b64::encode(&[0x5a; 32]);
    let mint = |actions: Value, ttl: u64| {
        runtime()
            .call_json(
                runtime().op_id("delegate").unwrap(),
                &json!({
                    "parent": parent, "jwks": server.gateway.jwks(), "issuer": ISSUER,
                    "audience": AUDIENCE, "now": now(), "key": holder_private, "ttl": ttl,
                    "entropy": entropy,
                    "claims": { "sub": "helper", "aud": AUDIENCE, "cnf": { "jwk": child_public },
                                "caps": [{ "actions": actions, "resources": ["robot:7"] }] },
                }),
            )
            .unwrap()
    };
    let narrow = mint(json!(["stop"]), 30);
    let wide = mint(json!(["drive", "stop"]), 600);
    assert_eq!(narrow["id"], wide["id"]);
    assert_eq!(grant(addr, &text(&narrow, "token")).status, 201);

    let refused = grant(addr, &text(&wide, "token")).expect_error(409, "id_conflict");
    assert!(refused.get("capabilities").is_none(), "{refused}");
    let records = audit_records(sqlite_file(&server.paths.db));
    let last = records.last().unwrap();
    assert_eq!(last["event"], "agent.delegation.attempted");
    assert_eq!(last["data"]["code"], "id_conflict");
    // What is recorded, listed and answered is the first token.
    let listed = get(addr, "/v1/capabilities?principal_id=helper", true).json();
    assert_eq!(listed["count"], 1);
    assert_eq!(
        listed["tokens"][0]["scopes"]["caps"],
        json!([{ "actions": ["stop"], "resources": ["robot:7"] }])
    );
    let again = grant(addr, &text(&narrow, "token"));
    assert_eq!(again.status, 200);
    let again = again.json();
    assert_eq!(again["already_recorded"], true);
    assert_eq!(
        again["capabilities"],
        json!([{ "actions": ["stop"], "resources": ["robot:7"] }])
    );
    assert_eq!(again["expires_at"], narrow["exp"]);
    assert_eq!(again["depth"], 1);
}

#[test]
fn a_delegated_principal_id_with_a_control_character_is_not_recorded() {
    let server = start("grant-controls");
    let (holder_private, holder_public) = holder(63);
    let (_, child_public) = holder(64);
    let parent = issue_token(server.addr, "operator-1", &holder_public);
    let child = delegate_as(
        &server,
        &parent,
        &holder_private,
        &child_public,
        "helper\r\nroot",
        3,
    );
    grant(server.addr, &text(&child, "token")).expect_error(400, "invalid_value");
    let listed = get(server.addr, "/v1/capabilities?principal_id=helper", true).json();
    assert_eq!(listed["count"], 0);
}

#[test]
fn revoking_a_delegated_token_by_its_bare_jti_revokes_it_or_is_refused() {
    let server = start("bare-jti");
    let addr = server.addr;
    let (holder_private, holder_public) = holder(65);
    let (_, child_public) = holder(66);
    let parent = issue_token(addr, "operator-1", &holder_public);
    let child = delegate(&server, &parent, &holder_private, &child_public);
    let child_token = text(&child, "token");
    assert_eq!(grant(addr, &child_token).status, 201);
    // A delegated token's id is its chain's jtis joined by `.`.
    let id = text(&child, "id");
    let (_, jti) = id.rsplit_once('.').unwrap();

    // The bare jti names one recorded token: that token is revoked, by
    // its id, and stops verifying and spending.
    let done = revoke(addr, jti);
    assert_eq!(done.status, 200);
    assert_eq!(done.json()["id"], child["id"]);
    verify(addr, &child_token).expect_error(401, "revoked");
    spend(addr, &child_token).expect_error(401, "revoked");
    assert_eq!(verify(addr, &parent).status, 200);

    // `id` is the member the docs name; a jti no recorded token has is 404
    // and lists nothing; one several recorded tokens have is 409.
    let unknown = b64::encode(&[0x42; 16]);
    post(addr, "/v1/tokens/revoke", true, &json!({ "id": unknown }))
        .expect_error(404, "unknown_token");
    let seq = get(addr, "/v1/revocations", false).json()["seq"].clone();
    assert_eq!(seq, 1, "only the child's revocation moved the list");
    let twin = |parent: &str, holder_private: &Value| {
        runtime()
            .call_json(
                runtime().op_id("delegate").unwrap(),
                &json!({
                    "parent": parent, "jwks": server.gateway.jwks(), "issuer": ISSUER,
                    "audience": AUDIENCE, "now": now(), "key": holder_private, "ttl": 60,
                    "entropy": b64::encode(&[0x77; 32]),
                    "claims": { "sub": "twin", "aud": AUDIENCE, "cnf": { "jwk": child_public },
                                "caps": [{ "actions": ["stop"], "resources": ["robot:7"] }] },
                }),
            )
            .unwrap()
    };
    let (other_private, other_public) = holder(67);
    let other_parent = issue_token(addr, "operator-2", &other_public);
    let a = twin(&parent, &holder_private);
    let b = twin(&other_parent, &other_private);
    assert_eq!(grant(addr, &text(&a, "token")).status, 201);
    assert_eq!(grant(addr, &text(&b, "token")).status, 201);
    let bare = text(&a, "id").rsplit('.').next().unwrap().to_owned();
    let refused = revoke(addr, &bare).expect_error(409, "ambiguous_id");
    let mut candidates = vec![a["id"].clone(), b["id"].clone()];
    candidates.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
    assert_eq!(refused["candidates"], json!(candidates));
    assert_eq!(verify(addr, &text(&a, "token")).status, 200);
    // Either is revoked by its id.
    assert_eq!(
        post(addr, "/v1/tokens/revoke", true, &json!({ "id": a["id"] })).status,
        200
    );
    verify(addr, &text(&a, "token")).expect_error(401, "revoked");
    assert_eq!(verify(addr, &text(&b, "token")).status, 200);
}

#[test]
fn refused_delegations_are_403_and_audited_as_attempts() {
    let server = start("grant-refused");
    let addr = server.addr;
    let (holder_private, holder_public) = holder(22);
    let (child_private, child_public) = holder(23);
    let first = issue(addr, "operator-1", &holder_public);
    let second = issue(addr, "operator-1", &holder_public);
    let first_token = first["token"].as_str().unwrap();
    let second_token = second["token"].as_str().unwrap();
    let attempts = |db: &Path| -> Vec<Value> {
        audit_records(db)
            .into_iter()
            .filter(|r| r["event"] == "agent.delegation.attempted")
            .map(|r| r["data"].clone())
            .collect()
    };

    // A root token is not a delegation.
    grant(addr, first_token).expect_error(400, "not_delegated");

    // Parent swap: a child of the first token presented on the second
    // (same holder key, so only the `prf` binding tells).
    let child = delegate(&server, first_token, &holder_private, &child_public);
    let child_token = child["token"].as_str().unwrap();
    let (child_link, _) = child_token.split_once('~').unwrap();
    grant(addr, &format!("{child_link}~{second_token}"))
        .expect_error(403, "delegation_parent_mismatch");
    assert_eq!(
        attempts(sqlite_file(&server.paths.db)),
        [json!({ "parent_id": second["jti"], "code": "delegation_parent_mismatch" })]
    );

    // Too deep: the holders' software allows 4 links, the gateway 3. Each
    // link is recorded, parent first, until the one too many.
    let mut chain = child_token.to_owned();
    let mut key = child_private;
    assert_eq!(grant(addr, &chain).status, 201);
    for depth in 2..=4u8 {
        let (next_private, next_public) = holder(30 + depth);
        let next = delegate_as(
            &server,
            &chain,
            &key,
            &next_public,
            &format!("helper-{depth}"),
            4,
        );
        chain = text(&next, "token");
        key = next_private;
        if depth < 4 {
            assert_eq!(grant(addr, &chain).status, 201, "depth {depth}");
        }
    }
    let refused = grant(addr, &chain).expect_error(403, "delegation_too_deep");
    assert!(
        refused["reason"].as_str().unwrap().contains('4'),
        "{refused}"
    );
    let last_attempt = attempts(sqlite_file(&server.paths.db)).pop().unwrap();
    assert_eq!(last_attempt["code"], "delegation_too_deep");
    assert_eq!(
        last_attempt["parent_id"]
            .as_str()
            .unwrap()
            .matches('.')
            .count(),
        3
    );

    // A grandchild whose parent was never recorded cannot be recorded.
    let (other_private, other_public) = holder(40);
    let unrecorded = delegate(&server, second_token, &holder_private, &other_public);
    let grandchild = delegate_as(
        &server,
        unrecorded["token"].as_str().unwrap(),
        &other_private,
        &child_public,
        "helper-x",
        3,
    );
    grant(addr, grandchild["token"].as_str().unwrap()).expect_error(409, "parent_not_recorded");

    // A recorded child, revoked, presented again: its parent is sound, so
    // that is a refused delegation, audited with whom it was for.
    assert_eq!(revoke(addr, child["id"].as_str().unwrap()).status, 200);
    grant(addr, child_token).expect_error(403, "revoked");
    assert_eq!(
        attempts(sqlite_file(&server.paths.db)).pop().unwrap(),
        json!({ "parent_id": first["jti"], "sub": "operator-1-helper", "code": "revoked" })
    );

    // A child of a revoked token: the chain is simply invalid (its parent
    // is), so 401 and no attempt recorded.
    let before = attempts(sqlite_file(&server.paths.db)).len();
    assert_eq!(revoke(addr, second["jti"].as_str().unwrap()).status, 200);
    grant(addr, unrecorded["token"].as_str().unwrap()).expect_error(401, "revoked");
    assert_eq!(attempts(sqlite_file(&server.paths.db)).len(), before);
    // Nor is a broken link below it an attempt: the module finds the
    // parent sound, the gateway finds its root revoked.
    let grandchild_token = grandchild["token"].as_str().unwrap();
    let (leaf, rest) = grandchild_token.split_once('~').unwrap();
    let at = leaf.len() - 10;
    let swapped = if &leaf[at..=at] == "A" { "B" } else { "A" };
    let broken = format!("{}{swapped}{}~{rest}", &leaf[..at], &leaf[at + 1..]);
    grant(addr, &broken).expect_error(401, "bad_signature");
    assert_eq!(attempts(sqlite_file(&server.paths.db)).len(), before);

    // Garbage is a 401 with the module's code, and no attempt.
    grant(addr, "a.b.c~d.e.f").expect_error(401, "bad_base64");
    assert_eq!(attempts(sqlite_file(&server.paths.db)).len(), before);
    let (code, report, stderr) = audit_verify(sqlite_file(&server.paths.db), &[]);
    assert_eq!(code, 0, "{report} {stderr}");
}
