//! The signed revocation list (`/v1/revocations`): its contents, long and
//! oversized lists, signing failures, and revocations across a restart.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use captoken_host::gateway::{self, AdminToken, Gateway, GatewayConfig};
use captoken_host::now;
use serde_json::json;

use super::support::*;

#[test]
fn the_signed_revocation_list_verifies_and_lists_what_was_revoked() {
    let dir = temp_dir("revocations");
    let paths = paths_in(&dir);
    let config = GatewayConfig {
        revocation_list_interval: Duration::from_secs(120),
        ..GatewayConfig::default()
    };
    let (gateway, _) =
        Gateway::open(runtime(), &paths, AdminToken::new(ADMIN).unwrap(), config).unwrap();
    let server = serve_gateway(gateway, paths, dir);
    let addr = server.addr;

    let empty = get(addr, "/v1/revocations", false);
    assert_eq!(empty.status, 200);
    assert!(empty.header("cache-control").unwrap().contains("max-age"));
    assert_eq!(empty.header("access-control-allow-origin"), Some("*"));
    let empty = empty.json();
    assert_eq!(
        (empty["seq"].clone(), empty["count"].clone()),
        (json!(0), json!(0))
    );
    let checked = check_list(addr, &empty, None).unwrap();
    assert_eq!(checked["status"], "fresh");
    assert_eq!(checked["revoked"], json!([]));

    let (holder_private, public) = holder(14);
    let (_, child_public) = holder(15);
    let issued = issue(addr, "operator-1", &public);
    let jti = issued["jti"].as_str().unwrap();
    let body = json!({ "jti": jti, "reason": "key lost" });
    assert_eq!(post(addr, "/v1/tokens/revoke", true, &body).status, 200);
    // A delegated token's id, which this gateway never issued.
    let other = issue(addr, "operator-2", &public);
    let child = delegate(
        &server,
        other["token"].as_str().unwrap(),
        &holder_private,
        &child_public,
    );
    let child_id = child["id"].as_str().unwrap();
    let revoked_child = revoke(addr, child_id);
    assert_eq!(revoked_child.status, 200);
    let revoked_child = revoked_child.json();
    // Not an id: refused, and so never in a list.
    post(
        addr,
        "/v1/tokens/revoke",
        true,
        &json!({ "jti": "not-an-id" }),
    )
    .expect_error(400, "invalid_value");

    // Two revocations; the token this gateway issued is revoked by its
    // bit in a status list (status.rs), so only the child's id is listed.
    let list = get(addr, "/v1/revocations", false).json();
    assert_eq!(
        (list["seq"].clone(), list["count"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(
        list["status_lists"],
        json!([format!("http://{addr}/v1/status-lists/0")])
    );
    assert_eq!(
        get(addr, "/v1/status-lists/0", false).json()["count"],
        1,
        "{jti}"
    );
    // Asked again with nothing revoked since: the same signed list, not a
    // new signature per reader.
    assert_eq!(get(addr, "/v1/revocations", false).json(), list);
    assert_eq!(
        list["next_update"].as_i64().unwrap() - list["iat"].as_i64().unwrap(),
        120
    );
    let checked = check_list(addr, &list, Some(0)).unwrap();
    assert_eq!(checked["status"], "fresh");
    assert_eq!(checked["seq"], 2);
    assert_eq!(checked["kid"], server.gateway.jwks()["keys"][0]["kid"]);
    let entries = checked["revoked"].as_array().unwrap();
    let entry = |id: &str| entries.iter().find(|e| e["jti"] == id).cloned();
    assert_eq!(entry(jti), None);
    assert_eq!(
        entry(child_id).unwrap(),
        json!({ "jti": child_id, "revoked_at": revoked_child["revoked_at"], "reason": "unspecified" })
    );

    // Revoking again is no new revocation: the same seq. A verifier that
    // saw seq 2 refuses an older list (a rollback).
    assert_eq!(revoke(addr, jti).status, 200);
    assert_eq!(get(addr, "/v1/revocations", false).json()["seq"], 2);
    assert_eq!(
        check_list(addr, &empty, Some(2)).unwrap_err(),
        "revocation_list_rollback"
    );
}

/// Adds `n` revoked ids straight to the store (as years of revocations
/// would), and moves the list's sequence on as a revocation does.
fn pile_up_revocations(db: &Path, from: u32, n: u32) {
    pile_up_revocations_with(db, from, n, None);
}

/// [`pile_up_revocations`], each with `reason`.
fn pile_up_revocations_with(db: &Path, from: u32, n: u32, reason: Option<&str>) {
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let tx = conn.transaction().unwrap();
    for i in from..from + n {
        let mut id = [9u8; 16];
        id[..4].copy_from_slice(&i.to_be_bytes());
        tx.execute(
            "INSERT INTO sec_revocations VALUES (?1, ?2, 'test', ?3)",
            rusqlite::params![captoken_core::b64::encode(&id), now(), reason],
        )
        .unwrap();
    }
    tx.execute("UPDATE sec_revocation_list_state SET seq = seq + 1", [])
        .unwrap();
    tx.commit().unwrap();
}

/// How many `revocation_list_sign` calls the module has answered.
fn sign_calls(addr: SocketAddr) -> u64 {
    let metrics = String::from_utf8(get(addr, "/metrics", false).body).unwrap();
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(r#"captoken_module_call_seconds_count{op="revocation_list_sign"} "#)
        })
        .map_or(0, |n| n.parse().unwrap())
}

#[test]
fn revocation_lists_longer_than_a_token_are_signed_and_verify() {
    let server = start("long-list");
    let addr = server.addr;
    let (_, public) = holder(55);
    let revoked = issue(addr, "operator-1", &public);
    assert_eq!(revoke(addr, revoked["jti"].as_str().unwrap()).status, 200);
    // The gateway signs in the host, through the module's prepare and
    // attach: 200 entries are past a token's 16 KiB, 5,000 far past it.
    let mut seen = None;
    for (from, n) in [(0, 200), (200, 4_800)] {
        pile_up_revocations_with(sqlite_file(&server.paths.db), from, n, Some("key lost"));
        let listed = get(addr, "/v1/revocations", false);
        assert_eq!(
            listed.status,
            200,
            "{}",
            String::from_utf8_lossy(&listed.body)
        );
        let listed = listed.json();
        let text = listed["list"].as_str().unwrap();
        assert!(text.len() > 16 * 1024, "{} bytes", text.len());
        let read = check_list(addr, &listed, seen).unwrap();
        // The issued token's revocation is its bit in a status list.
        let count = usize::try_from(from + n).unwrap();
        assert_eq!(read["revoked"].as_array().unwrap().len(), count);
        assert_eq!(listed["count"], count);
        seen = read["seq"].as_u64();
    }
}

#[test]
fn a_failure_to_sign_the_revocation_list_is_kept_for_its_sequence() {
    // A signer that always fails: the refusal is computed once per `seq`,
    // not once per reader of this public route.
    let dir = temp_dir("failing-list");
    let paths = paths_in(&dir);
    let gateway = open_gateway(&paths);
    let hsm = Arc::new(FakeHsm {
        public_jwk: gateway.jwks()["keys"][0].clone(),
        key: None,
        asked: 0.into(),
    });
    let server = serve_gateway(
        gateway.with_signer(Arc::clone(&hsm) as Arc<dyn gateway::TokenSigner>),
        paths,
        dir,
    );
    let addr = server.addr;
    let readers: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(move || get(addr, "/v1/revocations", false)))
        .collect();
    for reader in readers {
        reader.join().unwrap().expect_error(500, "signing_failed");
    }
    get(addr, "/v1/revocations", false).expect_error(500, "signing_failed");
    assert_eq!(hsm.asked.load(Ordering::Relaxed), 1, "one signing attempt");
    // A revocation moves the sequence on: the next reader tries again.
    pile_up_revocations(sqlite_file(&server.paths.db), 0, 1);
    get(addr, "/v1/revocations", false).expect_error(500, "signing_failed");
    assert_eq!(hsm.asked.load(Ordering::Relaxed), 2);
}

#[test]
fn a_revocation_list_too_large_to_sign_is_a_kept_503_and_verify_still_refuses() {
    let server = start("big-list");
    let addr = server.addr;
    let (_, public) = holder(54);
    let revoked = issue(addr, "operator-1", &public);
    assert_eq!(revoke(addr, revoked["jti"].as_str().unwrap()).status, 200);

    // 15,000 entries: the request (~57 bytes an entry) fits the module's
    // 1 MiB input, the signed list (~76 bytes an entry) would not fit a
    // verifier, so the module refuses to sign it.
    pile_up_revocations(sqlite_file(&server.paths.db), 0, 15_000);
    let refused =
        get(addr, "/v1/revocations", false).expect_error(503, "revocation_list_too_large");
    assert_eq!(refused["count"], 15_000);
    // Readable across origins, like the list itself.
    assert_eq!(
        get(addr, "/v1/revocations", false).header("access-control-allow-origin"),
        Some("*")
    );
    // Kept for this sequence: the next readers get the same answer without
    // another module call.
    let signs = sign_calls(addr);
    assert!(signs >= 1, "the refusal came from a module call");
    assert_eq!(
        get(addr, "/v1/revocations", false).expect_error(503, "revocation_list_too_large"),
        refused
    );
    assert_eq!(sign_calls(addr), signs);
    // The gateway itself still refuses what was revoked.
    verify(addr, revoked["token"].as_str().unwrap()).expect_error(401, "revoked");

    // Past the module's input limit: the same answer, from the host.
    pile_up_revocations(sqlite_file(&server.paths.db), 15_000, 5_000);
    let refused =
        get(addr, "/v1/revocations", false).expect_error(503, "revocation_list_too_large");
    assert_eq!(refused["count"], 20_000);

    // Once entries leave (here: deleted), a signed list is served again.
    tamper(
        sqlite_file(&server.paths.db),
        "DELETE FROM sec_revocations WHERE revoked_by_principal_id = 'test';
         UPDATE sec_revocation_list_state SET seq = seq + 1;",
    );
    let listed = get(addr, "/v1/revocations", false);
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["count"], 0);
}

#[test]
fn revocations_outlive_a_restart() {
    let server = start("restart");
    let (_, public) = holder(8);
    let issued = issue(server.addr, "operator-1", &public);
    let token = text(&issued, "token");
    assert_eq!(
        revoke(server.addr, issued["jti"].as_str().unwrap()).status,
        200
    );
    let (paths, dir) = (server.paths.clone(), server.dir.clone());
    drop(server);

    let again = restart(paths, dir);
    verify(again.addr, &token).expect_error(401, "revoked");
    // The revocation list's sequence is persisted, never restarted.
    let list = get(again.addr, "/v1/revocations", false).json();
    assert_eq!(
        (list["seq"].clone(), list["count"].clone()),
        (json!(1), json!(0))
    );
    // …and the token's bit with it.
    assert_eq!(
        get(again.addr, "/v1/status-lists/0", false).json()["count"],
        1
    );
}
