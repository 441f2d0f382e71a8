//! Start-up and the public routes: the key and sample policy created on first
//! start, refused configurations, health, JWKS, metrics, unknown routes and the
//! OpenAPI document.

use std::path::Path;
use std::process::Command;

use captoken_host::Runtime;
use captoken_host::gateway::{self, AdminToken, Gateway, GatewayConfig};
use serde_json::Value;

use super::support::*;

#[test]
fn health_jwks_and_metrics_answer() {
    let server = start("health");
    let health = get(server.addr, "/healthz", false);
    assert_eq!(health.status, 200);
    let health = health.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["module_sha256"], Runtime::embedded_module_sha256());
    assert_eq!(health["schema_version"], gateway::SCHEMA_VERSION);

    let jwks = get(server.addr, "/.well-known/jwks.json", false);
    assert_eq!(jwks.status, 200);
    assert!(jwks.header("cache-control").unwrap().contains("max-age"));
    // A console on another origin may read it; admin answers get no CORS.
    assert_eq!(jwks.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        get(server.addr, "/v1/capabilities?principal_id=x", true)
            .header("access-control-allow-origin"),
        None
    );
    let keys = jwks.json()["keys"].clone();
    assert_eq!(keys.as_array().unwrap().len(), 1);
    assert!(keys[0].get("d").is_none(), "private key published: {keys}");
    assert_eq!(keys[0]["kid"], health["kid"]);

    let metrics = get(server.addr, "/metrics", false);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(
        text.contains(
            "captoken_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("captoken_module_call_seconds_count{op=\"info\"} 1"),
        "{text}"
    );
}

#[test]
fn bare_serve_creates_a_private_key_and_a_sample_policy_and_reuses_them() {
    let server = start("setup");
    let key = server.paths.key_dir.join(gateway::SIGNING_KEY_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key), 0o600);
        // The store (principals, scopes, the audit log) is as private.
        assert_eq!(mode(sqlite_file(&server.paths.db)), 0o600);
        assert_eq!(mode(sqlite_file(&server.paths.db).parent().unwrap()), 0o700);
    }
    let policy: Value =
        serde_json::from_slice(&std::fs::read(&server.paths.policy).unwrap()).unwrap();
    assert_eq!(policy["version"], 1);
    let kid = server.gateway.jwks()["keys"][0]["kid"].clone();
    let paths = server.paths.clone();
    drop(server);

    // Restarting keeps the key: tokens issued before stay verifiable.
    let (again, startup) = Gateway::open(
        runtime(),
        &paths,
        AdminToken::new(ADMIN).unwrap(),
        GatewayConfig::default(),
    )
    .unwrap();
    assert!(!startup.key.created && !startup.policy_created);
    assert_eq!(again.jwks()["keys"][0]["kid"], kid);

    // A key file others can read is refused, as ssh refuses one.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Gateway::open(
            runtime(),
            &paths,
            AdminToken::new(ADMIN).unwrap(),
            GatewayConfig::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "key_file_permissions");
    }
}

#[test]
fn an_invalid_policy_file_stops_start_up() {
    let dir = temp_dir("bad-policy");
    let paths = paths_in(&dir);
    std::fs::write(
        &paths.policy,
        r#"{"version": 1, "max_tll": 5, "rules": []}"#,
    )
    .unwrap();
    let err = Gateway::open(
        runtime(),
        &paths,
        AdminToken::new(ADMIN).unwrap(),
        GatewayConfig::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "bad_policy_file");
}

#[test]
fn a_weak_admin_token_stops_start_up() {
    let dir = temp_dir("weak-admin");
    let out = Command::new(env!("CARGO_BIN_EXE_captoken"))
        .current_dir(&dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env(gateway::ADMIN_TOKEN_ENV, "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("weak_admin_token") && stderr.contains(gateway::ADMIN_TOKEN_ENV),
        "{stderr}"
    );
}

#[test]
fn unknown_routes_and_methods_answer_json() {
    let server = start("routes");
    let nope = get(server.addr, "/v2/nothing", false);
    nope.expect_error(404, "not_found");
    assert!(
        nope.header("content-type")
            .unwrap()
            .contains("application/json")
    );
    get(server.addr, "/v1/tokens", true).expect_error(405, "method_not_allowed");
    request(server.addr, "DELETE", "/healthz", None, "").expect_error(405, "method_not_allowed");
}

#[test]
fn the_openapi_document_describes_every_route() {
    let openapi =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.yaml"))
            .unwrap();
    let server = start("openapi");
    for path in [
        "/v1/tokens",
        "/v1/tokens/verify",
        "/v1/tokens/refresh",
        "/v1/tokens/revoke",
        "/v1/capabilities",
        "/v1/capabilities/grant",
        "/v1/capabilities/revoke",
        "/v1/revocations",
        "/v1/status-lists/{n}",
        "/v1/events",
        "/.well-known/jwks.json",
        "/healthz",
        "/metrics",
        "/console",
    ] {
        assert!(
            openapi.contains(&format!("\n  {path}:\n")),
            "{path} undocumented"
        );
        // …and the route exists: anything but the JSON 404 of an unknown path.
        let reply = request(server.addr, "OPTIONS", path, None, "");
        assert_ne!(reply.status, 404, "{path}");
    }
}
