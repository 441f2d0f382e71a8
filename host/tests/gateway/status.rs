//! Status lists (`/v1/status-lists/{n}`): every issued token names its
//! place, the list says when it is revoked, offline, for its whole chain;
//! and the published lists stay within their bounds at 20,000 revocations.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use captoken_host::now;
use serde_json::{Value, json};

use super::support::*;

/// The `status` claim a gateway token names, read by the module.
fn place(addr: SocketAddr, token: &str) -> Value {
    verify(addr, token).json()["claims"]["status"]["status_list"].clone()
}

/// Verifies a list from `GET /v1/status-lists/{n}` as an offline verifier
/// would (the module, the published JWKS), asking about `idx`.
fn check_status(addr: SocketAddr, list: &Value, uri: &str, idx: &Value) -> Result<Value, String> {
    let request = json!({
        "list": list["list"],
        "jwks": get(addr, "/.well-known/jwks.json", false).json(),
        "issuer": ISSUER,
        "now": now(),
        "uri": uri,
        "idx": idx,
    });
    runtime()
        .call_json(runtime().op_id("status_list_verify").unwrap(), &request)
        .map_err(|err| err.code().to_owned())
}

/// `token` verified offline against the published status list it names.
fn verify_offline(server: &Server, token: &str, list: &Value) -> Result<Value, String> {
    let request = json!({
        "token": token,
        "jwks": server.gateway.jwks(),
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "now": now(),
        "status_list": list["list"],
    });
    runtime()
        .call_json(runtime().op_id("verify").unwrap(), &request)
        .map_err(|err| err.code().to_owned())
}

#[test]
fn an_issued_token_names_its_place_and_its_list_says_when_it_is_revoked() {
    let server = start("status-lists");
    let addr = server.addr;
    let uri = format!("http://{addr}/v1/status-lists/0");
    let (holder_private, public) = holder(61);
    let (_, child_public) = holder(62);
    let kept = issue(addr, "operator-1", &public);
    let revoked = issue(addr, "operator-2", &public);
    let (kept_token, revoked_token) = (text(&kept, "token"), text(&revoked, "token"));
    let (kept_place, revoked_place) = (place(addr, &kept_token), place(addr, &revoked_token));
    assert_eq!(kept_place["uri"], uri.as_str());
    assert_eq!(revoked_place["uri"], uri.as_str());
    assert_ne!(kept_place["idx"], revoked_place["idx"], "a place each");
    let child = delegate(&server, &revoked_token, &holder_private, &child_public);
    let child = child["token"].as_str().unwrap();

    let listed = get(addr, "/v1/status-lists/0", false);
    assert_eq!(listed.status, 200);
    assert!(listed.header("cache-control").unwrap().contains("max-age"));
    assert_eq!(listed.header("access-control-allow-origin"), Some("*"));
    let before = listed.json();
    assert_eq!(
        (before["uri"].as_str(), before["count"].clone()),
        (Some(uri.as_str()), json!(0))
    );
    let checked = check_status(addr, &before, &uri, &revoked_place["idx"]).unwrap();
    assert_eq!(
        (checked["status"].clone(), checked["revoked"].clone()),
        (json!("fresh"), json!(false))
    );
    assert_eq!(checked["size"], 1 << 20);
    verify_offline(&server, child, &before).unwrap();

    assert_eq!(revoke(addr, &text(&revoked, "jti")).status, 200);
    let after = get(addr, "/v1/status-lists/0", false).json();
    assert!(after["seq"].as_i64() > before["seq"].as_i64());
    assert_eq!(after["count"], 1);
    let checked = check_status(addr, &after, &uri, &revoked_place["idx"]).unwrap();
    assert_eq!(checked["revoked"], true);
    let checked = check_status(addr, &after, &uri, &kept_place["idx"]).unwrap();
    assert_eq!(checked["revoked"], false);
    // Offline, the root's bit refuses the token and the child it carries
    // its place to; the other token is untouched.
    assert_eq!(
        verify_offline(&server, &revoked_token, &after).unwrap_err(),
        "revoked"
    );
    assert_eq!(
        verify_offline(&server, child, &after).unwrap_err(),
        "revoked"
    );
    verify_offline(&server, &kept_token, &after).unwrap();
    // A list is signed for its URI only.
    let elsewhere = format!("http://{addr}/v1/status-lists/1");
    assert_eq!(
        check_status(addr, &after, &elsewhere, &json!(0)).unwrap_err(),
        "wrong_status_list"
    );

    // The id list leaves the revoked token's id to its bit, names the
    // lists, and a verifier with the id list alone is told to fetch them.
    let ids = get(addr, "/v1/revocations", false).json();
    assert_eq!(ids["count"], 0);
    assert_eq!(ids["status_lists"], json!([uri]));
    let id_list_only = json!({
        "token": revoked_token, "jwks": server.gateway.jwks(), "issuer": ISSUER,
        "audience": AUDIENCE, "now": now(), "revocation_list": ids["list"],
    });
    assert_eq!(
        runtime()
            .call_json(runtime().op_id("verify").unwrap(), &id_list_only)
            .unwrap_err()
            .code(),
        "status_list_required"
    );

    // A refresh gets a place of its own: revoking the old one does not
    // revoke it (the old one is refused as revoked before it refreshes).
    let refreshed = post(
        addr,
        "/v1/tokens/refresh",
        false,
        &json!({ "token": kept_token, "proof": proof(&kept_token, &holder_private, AUDIENCE, None) }),
    );
    assert_eq!(
        refreshed.status,
        201,
        "{}",
        String::from_utf8_lossy(&refreshed.body)
    );
    let fresh_token = text(&refreshed.json(), "token");
    let fresh_place = place(addr, &fresh_token);
    assert_ne!(fresh_place["idx"], kept_place["idx"]);
    assert_eq!(revoke(addr, &text(&kept, "jti")).status, 200);
    let list = get(addr, "/v1/status-lists/0", false).json();
    assert_eq!(
        check_status(addr, &list, &uri, &fresh_place["idx"]).unwrap()["revoked"],
        false
    );
    verify_offline(&server, &fresh_token, &list).unwrap();

    // Only lists with places handed out exist, each under one spelling.
    for path in [
        "/v1/status-lists/1",
        "/v1/status-lists/00",
        "/v1/status-lists/-1",
        "/v1/status-lists/x",
        "/v1/status-lists/99999999999999999999999",
    ] {
        let refused = get(addr, path, false);
        assert_eq!(
            refused.header("access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        refused.expect_error(404, "unknown_status_list");
    }
}

/// Records `count` revoked tokens straight in the store (as years of
/// issuing would), at places `first`, `first + step`, …, and moves the
/// places handed out and the revocation sequence on.
fn pile_up_revoked_places(db: &Path, first: i64, step: i64, count: i64) {
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let tx = conn.transaction().unwrap();
    let at = now();
    for k in 0..count {
        let place = first + k * step;
        let mut id = [7u8; 16];
        id[..8].copy_from_slice(&place.to_be_bytes());
        let id = captoken_core::b64::encode(&id);
        tx.execute(
            "INSERT INTO sec_capability_tokens (token_id, workspace_id, issued_to_principal_id,
                 granted_by_principal_id, valid_until, revoked_at, created_at, status_idx)
             VALUES (?1, 'default', 'pile', 'admin', ?2, ?3, ?3, ?4)",
            rusqlite::params![id, at + 3600, at, place],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO sec_revocations VALUES (?1, ?2, 'test', 'key lost')",
            rusqlite::params![id, at],
        )
        .unwrap();
    }
    tx.execute(
        "UPDATE sec_status_state SET next_idx = max(next_idx, ?1)",
        [first + count * step],
    )
    .unwrap();
    tx.execute("UPDATE sec_revocation_list_state SET seq = seq + 1", [])
        .unwrap();
    tx.commit().unwrap();
}

#[test]
fn twenty_thousand_revocations_publish_within_the_bounds() {
    let server = start("status-bounds");
    let addr = server.addr;
    let (_, public) = holder(63);
    let issued = issue(addr, "operator-1", &public);
    // 10,000 revoked in each of two lists of 2^20, spread over them (the
    // worst case for compression is spread out, not clustered).
    let list_size: i64 = 1 << 20;
    pile_up_revoked_places(sqlite_file(&server.paths.db), 1_000, 104, 10_000);
    pile_up_revoked_places(sqlite_file(&server.paths.db), list_size + 7, 103, 10_000);

    // 20,000 revocations: the id list has none of them (each is a bit),
    // 200 and far under 256 KiB.
    let ids = get(addr, "/v1/revocations", false);
    assert_eq!(ids.status, 200, "{}", String::from_utf8_lossy(&ids.body));
    assert!(ids.body.len() <= 256 << 10, "{} bytes", ids.body.len());
    let ids = ids.json();
    assert_eq!(ids["count"], 0);
    let lists: Vec<String> = serde_json::from_value(ids["status_lists"].clone()).unwrap();
    assert_eq!(lists.len(), 2);

    // Each list: 2^20 tokens with 10,000 revoked, at most 64 KiB signed.
    for (n, (uri, (first, step))) in lists
        .iter()
        .zip([(1_000, 104), (list_size + 7, 103)])
        .enumerate()
    {
        let reply = get(addr, &format!("/v1/status-lists/{n}"), false);
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let list = reply.json();
        let text = list["list"].as_str().unwrap();
        assert!(text.len() <= 64 << 10, "list {n}: {} bytes", text.len());
        assert_eq!(list["count"], 10_000);
        let idx = |place: i64| json!(place - list_size * i64::try_from(n).unwrap());
        let checked = check_status(addr, &list, uri, &idx(first + 500 * step)).unwrap();
        assert_eq!(
            (checked["revoked_count"].clone(), checked["revoked"].clone()),
            (json!(10_000), json!(true))
        );
        let checked = check_status(addr, &list, uri, &idx(first + 500 * step + 1)).unwrap();
        assert_eq!(checked["revoked"], false);
    }
    // The gateway's own token is in neither list as revoked, and verifies.
    assert_eq!(verify(addr, &text(&issued, "token")).status, 200);
}

#[test]
fn a_public_url_that_cannot_name_a_list_is_refused_at_start() {
    let dir = temp_dir("bad-public-url");
    for (args, env) in [
        (vec!["--public-url", "ftp://gw.example"], vec![]),
        (vec!["--public-url", "https://gw.example/?a=1"], vec![]),
        (vec!["--public-url", "https://"], vec![]),
        (vec![], vec![("CAPTOKEN_PUBLIC_URL", "gw.example")]),
    ] {
        let stderr = refused_at_start(&dir, &args, &env);
        assert!(stderr.contains("bad_public_url"), "{stderr}");
    }
}

#[test]
fn listening_on_every_address_needs_a_public_url() {
    let dir = temp_dir("unspecified-listen");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_captoken"))
        .current_dir(&dir)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env(captoken_host::gateway::ADMIN_TOKEN_ENV, ADMIN)
        .env_remove("CAPTOKEN_PUBLIC_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("public_url_required"), "{stderr}");
}
