//! The HTTP gateway end to end: a real server on 127.0.0.1 (in-process, or
//! the `captoken serve` binary for the crash test), driven over TCP by a
//! small HTTP/1.1 client so that malformed and oversized requests can be
//! sent exactly as written.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use captoken_core::b64;
use captoken_host::gateway::{self, AdminToken, Gateway, GatewayConfig, Paths};
use captoken_host::{Runtime, RuntimeConfig, entropy, now};
use serde_json::{Value, json};

const ADMIN: &str = "test-admin-token-0123456789";
const ISSUER: &str = "urn:captoken:gateway";
const AUDIENCE: &str = "captoken";

fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    Arc::clone(RUNTIME.get_or_init(|| Arc::new(Runtime::embedded().unwrap())))
}

// ---------------------------------------------------------------- client

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "status {}: body is not json ({err}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts an error reply: its status, and the body `{error, reason}`.
    fn expect_error(&self, status: u16, code: &str) -> Value {
        let body = self.json();
        assert_eq!(
            (self.status, body["error"].as_str()),
            (status, Some(code)),
            "body: {body}"
        );
        assert!(
            body["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{body}"
        );
        body
    }
}

/// Sends `head` (request line and headers, without the blank line) and
/// `body` as they are, and reads the reply to the end of the connection.
fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> Reply {
    try_raw(addr, head, body).unwrap_or_else(|err| panic!("{err}"))
}

/// [`raw`], with a failure to get a whole reply as an error.
fn try_raw(addr: SocketAddr, head: &str, body: &[u8]) -> Result<Reply, String> {
    let mut stream = TcpStream::connect(addr).map_err(|err| format!("connect: {err}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|err| err.to_string())?;
    let mut bytes = format!("{head}\r\nHost: test\r\nConnection: close\r\n\r\n").into_bytes();
    bytes.extend_from_slice(body);
    // The server may answer (413) and hang up before reading everything.
    let _ = stream.write_all(&bytes);
    let mut reply = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
            // A reset after the reply arrived: keep what was read.
            Err(_) if !reply.is_empty() => break,
            Err(err) => return Err(format!("no reply: {err}")),
        }
    }
    parse(&reply)
}

fn parse(reply: &[u8]) -> Result<Reply, String> {
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no head in {:?}", String::from_utf8_lossy(reply)))?;
    let head = std::str::from_utf8(&reply[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_owned(), value.trim().to_owned())
        })
        .collect();
    let mut body = reply[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 4 + size..];
    }
}

fn request(addr: SocketAddr, method: &str, path: &str, auth: Option<&str>, body: &str) -> Reply {
    let mut head = format!("{method} {path} HTTP/1.1\r\nContent-Length: {}", body.len());
    if method == "POST" {
        head.push_str("\r\nContent-Type: application/json");
    }
    if let Some(auth) = auth {
        head.push_str(&format!("\r\nAuthorization: {auth}"));
    }
    raw(addr, &head, body.as_bytes())
}

fn admin() -> String {
    format!("Bearer {ADMIN}")
}

fn post(addr: SocketAddr, path: &str, admin_auth: bool, body: &Value) -> Reply {
    let auth = admin_auth.then(admin);
    request(addr, "POST", path, auth.as_deref(), &body.to_string())
}

fn get(addr: SocketAddr, path: &str, admin_auth: bool) -> Reply {
    let auth = admin_auth.then(admin);
    request(addr, "GET", path, auth.as_deref(), "")
}

// ---------------------------------------------------------------- server

/// A gateway served in this process on a random port, with its own
/// directory and tokio runtime; it stops when dropped.
struct Server {
    addr: SocketAddr,
    gateway: Gateway,
    paths: Paths,
    dir: PathBuf,
    tokio: Option<tokio::runtime::Runtime>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Wait for the server's tasks to be dropped, so its store is
        // closed when the test goes on to read or tamper with the file.
        if let Some(tokio) = self.tokio.take() {
            tokio.shutdown_timeout(std::time::Duration::from_secs(10));
        }
    }
}

fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gateway-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn paths_in(dir: &Path) -> Paths {
    Paths {
        db: dir.join("data/captoken.db"),
        key_dir: dir.join("keys"),
        policy: dir.join("policy.json"),
    }
}

fn start(name: &str) -> Server {
    let dir = temp_dir(name);
    restart(paths_in(&dir), dir)
}

/// The gateway over the state in `paths`, with the default configuration:
/// a fresh one, or the same one again, as after a restart.
fn open_gateway(paths: &Paths) -> Gateway {
    Gateway::open(
        runtime(),
        paths,
        AdminToken::new(ADMIN).unwrap(),
        GatewayConfig::default(),
    )
    .unwrap()
    .0
}

fn serve_gateway(gateway: Gateway, paths: Paths, dir: PathBuf) -> Server {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = tokio
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio.spawn(gateway::serve(
        listener,
        gateway.clone(),
        std::future::pending(),
    ));
    Server {
        addr,
        gateway,
        paths,
        dir,
        tokio: Some(tokio),
    }
}

// ---------------------------------------------------------------- helpers

/// A holder key pair: (private JWK, public JWK).
fn holder(seed: u8) -> (Value, Value) {
    let pair = runtime().keygen([seed; 32]).unwrap();
    (pair["private_jwk"].clone(), pair["public_jwk"].clone())
}

fn issue_body(subject: &str, public_jwk: &Value) -> Value {
    json!({
        "subject": subject,
        "subject_public_key": public_jwk,
        "capabilities": [{ "actions": ["drive", "stop"], "resources": ["robot:7"] }],
        "expires_in_seconds": 600,
    })
}

/// Issues through the API; returns the 201 body.
fn issue(addr: SocketAddr, subject: &str, public_jwk: &Value) -> Value {
    let reply = post(addr, "/v1/tokens", true, &issue_body(subject, public_jwk));
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

/// Issues through the API; returns the token text.
fn issue_token(addr: SocketAddr, subject: &str, public_jwk: &Value) -> String {
    text(&issue(addr, subject, public_jwk), "token")
}

/// A string member of a JSON reply, owned.
fn text(value: &Value, member: &str) -> String {
    value[member]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{member}` in {value}"))
        .to_owned()
}

/// A verify that spends a single-use token (or its chain).
fn spend(addr: SocketAddr, token: &str) -> Reply {
    post(
        addr,
        "/v1/tokens/verify",
        false,
        &json!({ "token": token, "single_use": true }),
    )
}

fn verify(addr: SocketAddr, token: &str) -> Reply {
    post(addr, "/v1/tokens/verify", false, &json!({ "token": token }))
}

fn revoke(addr: SocketAddr, jti: &str) -> Reply {
    post(addr, "/v1/tokens/revoke", true, &json!({ "jti": jti }))
}

/// A child of `parent` minted by its holder through the module's
/// `delegate` operation, as a holder's own software would.
fn delegate(server: &Server, parent: &str, holder_private: &Value, child_public: &Value) -> Value {
    delegate_as(
        server,
        parent,
        holder_private,
        child_public,
        "operator-1-helper",
        3,
    )
}

/// [`delegate`] for subject `sub`, with the holder's software allowing
/// chains `max_depth` deep (the gateway allows 3).
fn delegate_as(
    server: &Server,
    parent: &str,
    holder_private: &Value,
    child_public: &Value,
    sub: &str,
    max_depth: u32,
) -> Value {
    runtime()
        .call_json(
            runtime().op_id("delegate").unwrap(),
            &json!({
                "parent": parent,
                "jwks": server.gateway.jwks(),
                "issuer": ISSUER,
                "audience": AUDIENCE,
                "now": now(),
                "max_depth": max_depth,
                "key": holder_private,
                "ttl": 60,
                "entropy": b64::encode(&entropy::<32>().unwrap()),
                "claims": {
                    "sub": sub,
                    "aud": AUDIENCE,
                    "cnf": { "jwk": child_public },
                    "caps": [{ "actions": ["stop"], "resources": ["robot:7"] }],
                },
            }),
        )
        .unwrap()
}

fn grant(addr: SocketAddr, token: &str) -> Reply {
    post(
        addr,
        "/v1/capabilities/grant",
        true,
        &json!({ "token": token }),
    )
}

/// The stored audit records, in order, as the module wrote them.
fn audit_records(db: &Path) -> Vec<Value> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut statement = conn
        .prepare("SELECT record FROM audit_events ORDER BY seq")
        .unwrap();
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .map(|text| serde_json::from_str(&text.unwrap()).unwrap())
        .collect()
}

/// `captoken audit verify --db DB [extra…] --json`: its exit code and report.
fn audit_verify(db: &Path, extra: &[&str]) -> (i32, Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_captoken"))
        .args(["audit", "verify", "--json", "--db"])
        .arg(db)
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (
        output.status.code().unwrap(),
        report,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs SQL on the store as someone with write access to the file would,
/// around the append-only triggers.
fn tamper(db: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS audit_events_append_only_update;
         DROP TRIGGER IF EXISTS audit_events_append_only_delete;",
    )
    .unwrap();
    conn.execute_batch(sql).unwrap();
}

// ---------------------------------------------------------------- tests

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
        assert_eq!(mode(&server.paths.db), 0o600);
        assert_eq!(mode(server.paths.db.parent().unwrap()), 0o700);
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
fn admin_endpoints_refuse_missing_or_wrong_credentials() {
    let server = start("auth");
    let addr = server.addr;
    let (_, public) = holder(3);
    let body = issue_body("operator-1", &public).to_string();
    let cases: [(&str, &str, &str); 5] = [
        ("POST", "/v1/tokens", body.as_str()),
        ("POST", "/v1/tokens/revoke", r#"{"jti": "x"}"#),
        ("POST", "/v1/capabilities/grant", r#"{"token": "x"}"#),
        ("POST", "/v1/capabilities/revoke", r#"{"token_id": "x"}"#),
        ("GET", "/v1/capabilities?principal_id=operator-1", ""),
    ];
    for (method, path, body) in cases {
        let none = request(addr, method, path, None, body);
        none.expect_error(401, "missing_credentials");
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));
        request(addr, method, path, Some(&format!("Basic {ADMIN}")), body)
            .expect_error(401, "missing_credentials");
        request(addr, method, path, Some("Bearer not-the-token"), body)
            .expect_error(401, "bad_credentials");
        request(addr, method, path, Some(&format!("Bearer {ADMIN}x")), body)
            .expect_error(401, "bad_credentials");
    }
    // Nothing was issued or revoked by the refused calls.
    let listed = get(addr, "/v1/capabilities?principal_id=operator-1", true).json();
    assert_eq!(listed["count"], 0);
    // The scheme is case-insensitive (RFC 7235).
    let lower = request(
        addr,
        "GET",
        "/v1/capabilities?principal_id=operator-1",
        Some(&format!("bearer {ADMIN}")),
        "",
    );
    assert_eq!(lower.status, 200);
}

#[test]
fn repeated_admin_failures_are_delayed_and_the_right_token_is_not() {
    let server = start("auth-backoff");
    let addr = server.addr;
    let wrong = move || {
        request(
            addr,
            "GET",
            "/v1/capabilities?principal_id=x",
            Some("Bearer guess-0123456789abcdefghijklmnop"),
            "",
        )
        .expect_error(401, "bad_credentials");
    };
    // (refused at once, refused after a delay), from /metrics.
    let refusals = || {
        let metrics = String::from_utf8(get(addr, "/metrics", false).body).unwrap();
        let count = |delayed: &str| -> u64 {
            let prefix = format!("captoken_admin_refusals_total{{delayed=\"{delayed}\"}} ");
            metrics
                .lines()
                .find_map(|line| line.strip_prefix(&prefix))
                .map_or(0, |n| n.parse().unwrap())
        };
        (count("false"), count("true"))
    };
    for _ in 0..5 {
        wrong();
    }
    assert_eq!(refusals(), (5, 0));
    // From the sixth failure in a row on, each waits its turn and a delay
    // (the delays themselves: auth.rs's unit test).
    for _ in 0..3 {
        wrong();
    }
    assert_eq!(refusals(), (5, 3));
    let guessers: Vec<_> = (0..4).map(|_| std::thread::spawn(wrong)).collect();
    for guesser in guessers {
        guesser.join().unwrap();
    }
    assert_eq!(refusals(), (5, 7));
    // The admin is let in, never delayed, and the count starts again.
    assert_eq!(
        get(addr, "/v1/capabilities?principal_id=x", true).status,
        200
    );
    wrong();
    assert_eq!(refusals(), (6, 7));
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
fn malformed_requests_get_400_with_a_stable_code() {
    let server = start("bad-input");
    let addr = server.addr;
    let (private, public) = holder(4);
    let caps = json!([{ "actions": ["drive"], "resources": ["robot:7"] }]);
    let cases: Vec<(&str, String, &str)> =
        vec![
        ("/v1/tokens", "{".to_owned(), "malformed_json"),
        ("/v1/tokens", String::new(), "malformed_json"),
        ("/v1/tokens", "[1, 2]".to_owned(), "wrong_type"),
        (
            "/v1/tokens",
            json!({ "subject": 7, "subject_public_key": public, "capabilities": caps }).to_string(),
            "wrong_type",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": "abc", "capabilities": caps })
                .to_string(),
            "wrong_type",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "capabilities": caps,
                    "expires_in_seconds": "60" })
            .to_string(),
            "wrong_type",
        ),
        (
            "/v1/tokens",
            json!({ "subject_public_key": public, "capabilities": caps }).to_string(),
            "missing_field",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public }).to_string(),
            "missing_field",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "capabilities": caps,
                    "expires_in": 60 })
            .to_string(),
            "unknown_field",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "capabilities": caps,
                    "expires_in_seconds": 0 })
            .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "", "subject_public_key": public, "capabilities": caps })
                .to_string(),
            "invalid_value",
        ),
        // Control characters in principal ids and other strings.
        (
            "/v1/tokens",
            json!({ "subject": "operator\u{0}1", "subject_public_key": public, "capabilities": caps })
                .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1\nforged line", "subject_public_key": public,
                    "capabilities": caps })
                .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "capabilities": caps,
                    "workspace_id": "ws\u{1b}[2J" })
                .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens/revoke",
            json!({ "jti": "AAAAAAAAAAAAAAAAAAAAAA", "reason": "lost\u{85}" }).to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "capabilities": caps,
                    "scope": "READ" })
            .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public, "scope": "ROOT" })
                .to_string(),
            "invalid_value",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": private, "capabilities": caps })
                .to_string(),
            "private_key_submitted",
        ),
        // The module's own codes for what it refuses to evaluate or sign.
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": public,
                    "capabilities": [{ "actions": [], "resources": ["robot:7"] }] })
            .to_string(),
            "bad_request",
        ),
        (
            "/v1/tokens",
            json!({ "subject": "operator-1", "subject_public_key": { "kty": "OKP" },
                    "capabilities": caps })
            .to_string(),
            "bad_claims",
        ),
        ("/v1/tokens/verify", json!({ "token": 5 }).to_string(), "wrong_type"),
        ("/v1/tokens/verify", json!({}).to_string(), "missing_field"),
        (
            "/v1/tokens/verify",
            json!({ "token": "a.b.c", "leeway": 5 }).to_string(),
            "unknown_field",
        ),
        ("/v1/tokens/revoke", json!({ "jti": null }).to_string(), "wrong_type"),
        ("/v1/tokens/revoke", json!({ "reason": "x" }).to_string(), "missing_field"),
        (
            "/v1/tokens/revoke",
            json!({ "jti": "x".repeat(300) }).to_string(),
            "invalid_value",
        ),
    ];
    // Read with the module's strict rules: a duplicate key is refused,
    // never taken last-wins; and only as JSON.
    let doubled = r#"{"token": "a.b.c", "token": "x.y.z"}"#;
    request(addr, "POST", "/v1/tokens/verify", None, doubled).expect_error(400, "duplicate_key");
    let subject_twice = format!(
        r#"{{"subject": "operator-1", "subject": "admin", "subject_public_key": {public},
             "capabilities": {caps}}}"#
    );
    request(addr, "POST", "/v1/tokens", Some(&admin()), &subject_twice)
        .expect_error(400, "duplicate_key");
    let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
    request(
        addr,
        "POST",
        "/v1/tokens/verify",
        None,
        &format!(r#"{{"token": {deep}}}"#),
    )
    .expect_error(400, "json_too_deep");
    let token = json!({ "token": "a.b.c" }).to_string();
    for content_type in [
        "",
        "\r\nContent-Type: text/plain",
        "\r\nContent-Type: application/x-www-form-urlencoded",
    ] {
        let head = format!(
            "POST /v1/tokens/verify HTTP/1.1\r\nContent-Length: {}{content_type}",
            token.len()
        );
        raw(addr, &head, token.as_bytes()).expect_error(415, "unsupported_media_type");
    }
    let head = format!(
        "POST /v1/tokens/verify HTTP/1.1\r\nContent-Length: {}\r\nContent-Type: Application/JSON; charset=utf-8",
        token.len()
    );
    raw(addr, &head, token.as_bytes()).expect_error(401, "bad_base64");
    for (path, body, code) in &cases {
        let reply = request(addr, "POST", path, Some(&admin()), body);
        let got = reply.json();
        assert_eq!(
            (reply.status, got["error"].as_str()),
            (400, Some(*code)),
            "POST {path} {body}: {got}"
        );
    }
    let queries = [
        ("/v1/capabilities", "missing_field"),
        ("/v1/capabilities?principal_id=", "missing_field"),
        ("/v1/capabilities?principal_id=a%00b", "invalid_value"),
        (
            "/v1/capabilities?principal_id=a&workspace_id=w%0A",
            "invalid_value",
        ),
        (
            "/v1/capabilities?principal_id=a&colour=red",
            "unknown_field",
        ),
        ("/v1/capabilities?principal_id=a&limit=0", "invalid_value"),
        (
            "/v1/capabilities?principal_id=a&include_inactive=yes",
            "invalid_value",
        ),
    ];
    for (path, code) in queries {
        get(addr, path, true).expect_error(400, code);
    }
}

#[test]
fn a_refusal_names_the_path_of_the_offending_member() {
    let server = start("paths");
    let (_, public) = holder(68);
    let mut body = issue_body("operator-1", &public);
    body["capabilities"][0]["constraints"] = json!({ "colour": "red" });
    let refused = post(server.addr, "/v1/tokens", true, &body).expect_error(400, "bad_request");
    assert_eq!(refused["path"], "capabilities[0].constraints.colour");
}

#[test]
fn oversized_bodies_and_headers_are_refused() {
    let server = start("limits");
    let addr = server.addr;
    let limit = GatewayConfig::default().max_body_bytes;

    // Announced too large: refused before a byte of it is read.
    let head = format!(
        "POST /v1/tokens/verify HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}",
        limit + 1
    );
    raw(addr, &head, b"").expect_error(413, "body_too_large");

    // Streamed without a length: refused once the limit is passed.
    let chunk = vec![b' '; 8192];
    let mut body = Vec::new();
    for _ in 0..=(limit / chunk.len()) {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(&chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let head = "POST /v1/tokens/verify HTTP/1.1\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked";
    raw(addr, head, &body).expect_error(413, "body_too_large");

    // Just under the limit is read (and refused for what it says instead).
    let padded = format!("{{\"token\": \"x\"{}}}", " ".repeat(limit - 20));
    request(addr, "POST", "/v1/tokens/verify", None, &padded).expect_error(401, "malformed_token");

    // Headers: one too large, or too many.
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nX-Filler: {}",
        "a".repeat(32 << 10)
    );
    assert_eq!(raw(addr, &huge, b"").status, 431);
    let mut many = "GET /healthz HTTP/1.1".to_owned();
    for i in 0..100 {
        many.push_str(&format!("\r\nX-H{i}: v"));
    }
    assert_eq!(raw(addr, &many, b"").status, 431);

    // And the server still answers.
    assert_eq!(get(addr, "/healthz", false).status, 200);
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
    let conn = rusqlite::Connection::open(&server.paths.db).unwrap();
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
    let records = audit_records(&server.paths.db);
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
    let last = audit_records(&server.paths.db).pop().unwrap();
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
    let records = audit_records(&server.paths.db);
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
        attempts(&server.paths.db),
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
    let last_attempt = attempts(&server.paths.db).pop().unwrap();
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
        attempts(&server.paths.db).pop().unwrap(),
        json!({ "parent_id": first["jti"], "sub": "operator-1-helper", "code": "revoked" })
    );

    // A child of a revoked token: the chain is simply invalid (its parent
    // is), so 401 and no attempt recorded.
    let before = attempts(&server.paths.db).len();
    assert_eq!(revoke(addr, second["jti"].as_str().unwrap()).status, 200);
    grant(addr, unrecorded["token"].as_str().unwrap()).expect_error(401, "revoked");
    assert_eq!(attempts(&server.paths.db).len(), before);
    // Nor is a broken link below it an attempt: the module finds the
    // parent sound, the gateway finds its root revoked.
    let grandchild_token = grandchild["token"].as_str().unwrap();
    let (leaf, rest) = grandchild_token.split_once('~').unwrap();
    let at = leaf.len() - 10;
    let swapped = if &leaf[at..=at] == "A" { "B" } else { "A" };
    let broken = format!("{}{swapped}{}~{rest}", &leaf[..at], &leaf[at + 1..]);
    grant(addr, &broken).expect_error(401, "bad_signature");
    assert_eq!(attempts(&server.paths.db).len(), before);

    // Garbage is a 401 with the module's code, and no attempt.
    grant(addr, "a.b.c~d.e.f").expect_error(401, "bad_base64");
    assert_eq!(attempts(&server.paths.db).len(), before);
    let (code, report, stderr) = audit_verify(&server.paths.db, &[]);
    assert_eq!(code, 0, "{report} {stderr}");
}

#[test]
fn every_issue_and_revoke_is_in_the_audit_chain_and_edits_are_found() {
    let server = start("audit");
    let addr = server.addr;
    let (_, public) = holder(12);
    let first = issue(addr, "operator-1", &public);
    let second = issue(addr, "operator-2", &public);
    let jti = first["jti"].as_str().unwrap();
    let revoked = post(
        addr,
        "/v1/tokens/revoke",
        true,
        &json!({ "jti": jti, "reason": "key lost" }),
    );
    assert_eq!(revoked.status, 200);
    // Already revoked, a denial and a verify change nothing: no record.
    assert_eq!(revoke(addr, jti).status, 200);
    post(addr, "/v1/tokens", true, &issue_body("mallory", &public))
        .expect_error(403, "no_matching_rule");
    assert_eq!(verify(addr, second["token"].as_str().unwrap()).status, 200);

    let db = server.paths.db.clone();
    let records = audit_records(&db);
    let events: Vec<&str> = records
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["token_issued", "token_issued", "token_revoked"]);
    assert_eq!(records[0]["data"]["jti"], first["jti"]);
    assert_eq!(records[0]["data"]["sub"], "operator-1");
    assert_eq!(records[0]["data"]["caps"], first["capabilities"]);
    assert_eq!(records[1]["data"]["jti"], second["jti"]);
    assert_eq!(
        records[2]["data"],
        json!({ "id": jti, "reason": "key lost" })
    );
    assert_eq!(records[2]["time"], revoked.json()["revoked_at"]);
    assert_eq!(records[1]["prev"], records[0]["hash"]);
    assert_eq!(records[2]["prev"], records[1]["hash"]);

    let (code, report, _) = audit_verify(&db, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        (
            report["valid"].clone(),
            report["count"].clone(),
            report["last_seq"].clone()
        ),
        (json!(true), json!(3), json!(2))
    );
    let head = text(&report, "head");
    assert_eq!(head, records[2]["hash"]);
    drop(server);

    // Cutting the last record leaves a valid shorter chain; only the head
    // kept from before tells.
    tamper(&db, "DELETE FROM audit_events WHERE seq = 2");
    assert_eq!(audit_verify(&db, &[]).0, 0);
    let (code, report, stderr) = audit_verify(&db, &["--head", &head]);
    assert_eq!(code, 1, "{report} {stderr}");
    assert_eq!(report["code"], "audit_head_mismatch");
    assert!(
        stderr.starts_with("error: audit_head_mismatch: "),
        "{stderr}"
    );

    // Editing a record's facts: found at that record.
    let edited = serde_json::to_string(&{
        let mut record = records[1].clone();
        record["data"]["sub"] = json!("operator-9");
        record
    })
    .unwrap();
    tamper(
        &db,
        &format!(
            "UPDATE audit_events SET record = '{}' WHERE seq = 1",
            edited.replace('\'', "''")
        ),
    );
    let (code, report, stderr) = audit_verify(&db, &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        (
            report["valid"].clone(),
            report["code"].clone(),
            report["seq"].clone()
        ),
        (json!(false), json!("audit_bad_hash"), json!(1))
    );
    assert!(
        stderr.starts_with("error: audit_bad_hash: at seq 1: "),
        "{stderr}"
    );
}

#[test]
fn a_tampered_last_record_stops_the_gateway_from_extending_the_log() {
    let server = start("audit-refuse");
    let addr = server.addr;
    let (_, public) = holder(13);
    issue(addr, "operator-1", &public);
    let db = server.paths.db.clone();
    let record = audit_records(&db)[0].clone();
    let mut edited = record.clone();
    edited["data"]["sub"] = json!("operator-9");
    tamper(
        &db,
        &format!(
            "UPDATE audit_events SET record = '{}' WHERE seq = 0",
            serde_json::to_string(&edited).unwrap().replace('\'', "''")
        ),
    );
    // The module refuses to link a record to one that is not what its hash
    // says; the issue fails as a whole and nothing is handed out.
    post(addr, "/v1/tokens", true, &issue_body("operator-2", &public))
        .expect_error(500, "audit_bad_hash");
    let listed = get(addr, "/v1/capabilities?principal_id=operator-2", true).json();
    assert_eq!(listed["count"], 0);
    assert_eq!(audit_records(&db).len(), 1);
}

/// Verifies a list from `GET /v1/revocations` as an offline verifier
/// would: with the module, against the published JWKS.
fn check_list(addr: SocketAddr, list: &Value, last_seen_seq: Option<u64>) -> Result<Value, String> {
    let jwks = get(addr, "/.well-known/jwks.json", false).json();
    let mut request = json!({
        "list": list["list"],
        "jwks": jwks,
        "issuer": ISSUER,
        "now": now(),
    });
    if let Some(seq) = last_seen_seq {
        request["last_seen_seq"] = json!(seq);
    }
    runtime()
        .call_json(runtime().op_id("revocation_list_verify").unwrap(), &request)
        .map_err(|err| err.code().to_owned())
}

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
    let revoked = post(addr, "/v1/tokens/revoke", true, &body).json();
    // A delegated token's id, which this gateway never issued.
    let other = issue(addr, "operator-2", &public);
    let child = delegate(
        &server,
        other["token"].as_str().unwrap(),
        &holder_private,
        &child_public,
    );
    let child_id = child["id"].as_str().unwrap();
    assert_eq!(revoke(addr, child_id).status, 200);
    // Not an id: refused, and so never in a list.
    post(
        addr,
        "/v1/tokens/revoke",
        true,
        &json!({ "jti": "not-an-id" }),
    )
    .expect_error(400, "invalid_value");

    let list = get(addr, "/v1/revocations", false).json();
    assert_eq!(
        (list["seq"].clone(), list["count"].clone()),
        (json!(2), json!(2))
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
    assert_eq!(
        entry(jti).unwrap(),
        json!({ "jti": jti, "revoked_at": revoked["revoked_at"], "reason": "key lost" })
    );
    assert_eq!(entry(child_id).unwrap()["reason"], "unspecified");

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
    for (from, n) in [(0, 199), (199, 4_800)] {
        pile_up_revocations_with(&server.paths.db, from, n, Some("key lost"));
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
        let count = usize::try_from(from + n + 1).unwrap();
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
    pile_up_revocations(&server.paths.db, 0, 1);
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
    pile_up_revocations(&server.paths.db, 0, 15_000);
    let refused =
        get(addr, "/v1/revocations", false).expect_error(503, "revocation_list_too_large");
    assert_eq!(refused["count"], 15_001);
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
    pile_up_revocations(&server.paths.db, 15_000, 5_000);
    let refused =
        get(addr, "/v1/revocations", false).expect_error(503, "revocation_list_too_large");
    assert_eq!(refused["count"], 20_001);

    // Once entries leave (here: deleted), a signed list is served again.
    tamper(
        &server.paths.db,
        "DELETE FROM sec_revocations WHERE revoked_by_principal_id = 'test';
         UPDATE sec_revocation_list_state SET seq = seq + 1;",
    );
    let listed = get(addr, "/v1/revocations", false);
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["count"], 1);
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
        (json!(1), json!(1))
    );
}

/// A signer standing in for an HSM: signs with `key` (perhaps not the
/// gateway's), or fails; counts what it was asked to sign.
struct FakeHsm {
    public_jwk: Value,
    key: Option<gateway::KeyFileSigner>,
    asked: std::sync::atomic::AtomicU32,
}

impl gateway::TokenSigner for FakeHsm {
    fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }
    fn sign(&self, message: &[u8]) -> Result<[u8; 64], String> {
        self.asked.fetch_add(1, Ordering::Relaxed);
        match &self.key {
            Some(key) => key.sign(message),
            None => Err("device offline".to_owned()),
        }
    }
}

#[test]
fn the_gateway_signs_in_the_host_and_a_faulty_signer_hands_out_nothing() {
    let dir = temp_dir("signer");
    let paths = paths_in(&dir);
    let gateway = open_gateway(&paths);
    let public_jwk = gateway.jwks()["keys"][0].clone();
    // The key file's key, through the TokenSigner interface an HSM would
    // implement: issues and signed revocation lists work as before.
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(paths.key_dir.join(gateway::SIGNING_KEY_FILE)).unwrap(),
    )
    .unwrap();
    let own = gateway::KeyFileSigner::from_private_jwk(file.as_object().unwrap()).unwrap();
    let hsm = Arc::new(FakeHsm {
        public_jwk: public_jwk.clone(),
        key: Some(own),
        asked: 0.into(),
    });
    let server = serve_gateway(
        gateway.with_signer(Arc::clone(&hsm) as Arc<dyn gateway::TokenSigner>),
        paths.clone(),
        dir.clone(),
    );
    let (_, holder_public) = holder(60);
    let issued = issue(server.addr, "operator-1", &holder_public);
    assert_eq!(
        verify(server.addr, issued["token"].as_str().unwrap()).status,
        200
    );
    let list = get(server.addr, "/v1/revocations", false).json();
    assert_eq!(
        check_list(server.addr, &list, None).unwrap()["status"],
        "fresh"
    );
    assert_eq!(hsm.asked.load(Ordering::Relaxed), 2);
    drop(server);

    // A device that fails; one that signs with another key; and one that
    // signs with another key and says so (its own public key): 500
    // signing_failed, nothing stored, nothing handed out. Signatures are
    // checked against the published key, never the signer's word.
    let (other, other_public) = holder(61);
    let wrong = || gateway::KeyFileSigner::from_private_jwk(other.as_object().unwrap()).unwrap();
    for (key, says) in [
        (None, public_jwk.clone()),
        (Some(wrong()), public_jwk.clone()),
        (Some(wrong()), other_public.clone()),
    ] {
        let server = serve_gateway(
            gateway.with_signer(Arc::new(FakeHsm {
                public_jwk: says,
                key,
                asked: 0.into(),
            })),
            paths.clone(),
            dir.clone(),
        );
        let reply = post(
            server.addr,
            "/v1/tokens",
            true,
            &issue_body("operator-2", &holder_public),
        );
        let body = reply.expect_error(500, "signing_failed");
        assert!(body.get("token").is_none());
        // The signer's own words stay in the log.
        assert!(
            !body["reason"].as_str().unwrap().contains("offline"),
            "{body}"
        );
        get(server.addr, "/v1/revocations", false).expect_error(500, "signing_failed");
        let listed = get(
            server.addr,
            "/v1/capabilities?principal_id=operator-2",
            true,
        )
        .json();
        assert_eq!(listed["count"], 0);
    }
    // Only the one issue is in the audit log.
    let events: Vec<Value> = audit_records(&paths.db)
        .into_iter()
        .map(|r| r["event"].clone())
        .collect();
    assert_eq!(events, [json!("token_issued")]);
}

/// The holder's proof of possession for `token`, addressed to `audience`.
fn proof(token: &str, holder_private: &Value, audience: &str, nonce: Option<&str>) -> String {
    let mut request = json!({
        "key": holder_private,
        "token": token,
        "audience": audience,
        "now": now(),
        "entropy": b64::encode(&entropy::<32>().unwrap()),
    });
    if let Some(nonce) = nonce {
        request["nonce"] = json!(nonce);
    }
    runtime()
        .call_json(runtime().op_id("pop_create").unwrap(), &request)
        .unwrap()["proof"]
        .as_str()
        .unwrap()
        .to_owned()
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

/// `captoken_module_instances_total` from `/metrics`, by operation.
fn module_instances(addr: SocketAddr) -> BTreeMap<String, u64> {
    let metrics = String::from_utf8(get(addr, "/metrics", false).body).unwrap();
    metrics
        .lines()
        .filter_map(|line| line.strip_prefix("captoken_module_instances_total{op=\""))
        .map(|rest| {
            let (op, count) = rest.split_once("\"} ").unwrap();
            (op.to_owned(), count.parse().unwrap())
        })
        .collect()
}

/// What `work` cost in module instances, by operation.
fn instances_of(addr: SocketAddr, work: impl FnOnce()) -> BTreeMap<String, u64> {
    let before = module_instances(addr);
    work();
    module_instances(addr)
        .into_iter()
        .filter_map(|(op, after)| {
            let spent = after - before.get(&op).copied().unwrap_or(0);
            (spent > 0).then_some((op, spent))
        })
        .collect()
}

#[test]
fn metrics_count_the_module_instances_each_request_costs() {
    // A runtime of its own: the shared one counts every other test's calls.
    let dir = temp_dir("instances");
    let paths = paths_in(&dir);
    let gateway = Gateway::open(
        Arc::new(Runtime::embedded().unwrap()),
        &paths,
        AdminToken::new(ADMIN).unwrap(),
        GatewayConfig::default(),
    )
    .unwrap()
    .0;
    let server = serve_gateway(gateway, paths, dir);
    let addr = server.addr;
    let (holder_private, public) = holder(73);
    let counts = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(op, n)| ((*op).to_owned(), *n)).collect()
    };
    // Start-up read the operation names and checked the policy.
    let at_start = module_instances(addr);
    assert_eq!(at_start.get("info"), Some(&1), "{at_start:?}");
    assert!(
        at_start.get("abi_version").is_some_and(|n| *n >= 1),
        "{at_start:?}"
    );

    // An issue: the policy's decision and the unsigned token in one call,
    // then the signature attached. Its audit record is appended by core
    // natively, inside the write, never by an instance. A denial is one.
    let mut answer = Value::Null;
    let issued = instances_of(addr, || answer = issue(addr, "operator-1", &public));
    let token = text(&answer, "token");
    assert_eq!(issued, counts(&[("issue", 1), ("attach_signature", 1)]));
    let denied = instances_of(addr, || {
        post(
            addr,
            "/v1/tokens",
            true,
            &issue_body("nobody-known", &public),
        )
        .expect_error(403, "no_matching_rule");
    });
    assert_eq!(denied, counts(&[("issue", 1)]));
    // A verify is one instance; so is a refused one.
    let verified = instances_of(addr, || assert_eq!(verify(addr, &token).status, 200));
    assert_eq!(verified, counts(&[("verify", 1)]));
    let refused = instances_of(addr, || {
        verify(addr, &format!("{token}x")).expect_error(401, "bad_base64");
    });
    assert_eq!(refused, counts(&[("verify", 1)]));
    // A verify with a proof of possession: the token and the proof, in one.
    let good = proof(&token, &holder_private, AUDIENCE, None);
    let presented = instances_of(addr, || {
        let reply = post(
            addr,
            "/v1/tokens/verify",
            false,
            &json!({ "token": token, "proof": good }),
        );
        assert_eq!(reply.status, 200);
    });
    assert_eq!(presented, counts(&[("verify", 1)]));
    // A revocation asks the module nothing: the store records it and
    // appends its audit record natively.
    let jti = text(&answer, "jti");
    let revoked = instances_of(addr, || assert_eq!(revoke(addr, &jti).status, 200));
    assert_eq!(revoked, counts(&[]));
}

/// The gateway over the state in `paths` again, as after a restart.
fn restart(paths: Paths, dir: PathBuf) -> Server {
    serve_gateway(open_gateway(&paths), paths, dir)
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| text(k, "kid"))
        .collect()
}

#[test]
fn a_rotated_key_keeps_verifying_its_tokens_until_its_window_ends() {
    let server = start("rotate");
    let (_, public) = holder(50);
    let old_kid = server.gateway.jwks()["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let old = issue(server.addr, "operator-1", &public);
    let old_token = text(&old, "token");
    let (paths, dir) = (server.paths.clone(), server.dir.clone());
    drop(server);

    let rotation = gateway::rotate_signing_key(&runtime(), &paths.key_dir, 3600, now()).unwrap();
    assert_eq!(rotation.retired_kid, old_kid);
    assert_ne!(rotation.kid, old_kid);
    let key_file = paths.key_dir.join(gateway::SIGNING_KEY_FILE);
    assert!(
        std::fs::read_to_string(&key_file)
            .unwrap()
            .contains(&rotation.kid)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let retired = std::fs::read_to_string(paths.key_dir.join(gateway::RETIRED_KEYS_FILE)).unwrap();
    assert!(
        !retired.contains("\"d\""),
        "a retired key is kept public only"
    );

    let server = restart(paths, dir);
    // Served: the new key first, the retired one with the end of its window.
    let jwks = get(server.addr, "/.well-known/jwks.json", false).json();
    assert_eq!(kids(&jwks), [rotation.kid.clone(), old_kid.clone()]);
    assert_eq!(jwks["keys"][1]["exp"], rotation.retired_until);
    assert_eq!(verify(server.addr, &old_token).status, 200);
    let new = issue(server.addr, "operator-2", &public);
    assert_eq!(new["kid"], rotation.kid.as_str());
    let new_token = text(&new, "token");
    assert_eq!(verify(server.addr, &new_token).status, 200);
    let (paths, dir) = (server.paths.clone(), server.dir.clone());
    drop(server);

    // A compromised key: retired with no window, its tokens stop at once;
    // the first retired key keeps its window.
    let second = gateway::rotate_signing_key(&runtime(), &paths.key_dir, 0, now()).unwrap();
    let server = restart(paths, dir);
    assert_eq!(
        kids(&get(server.addr, "/.well-known/jwks.json", false).json()),
        [second.kid.clone(), old_kid]
    );
    verify(server.addr, &new_token).expect_error(401, "unknown_kid");
    assert_eq!(verify(server.addr, &old_token).status, 200);
    let (paths, dir) = (server.paths.clone(), server.dir.clone());
    drop(server);

    // The window is the module's rule, with the verifier's leeway (30 s):
    // a key whose window closed 5 s ago still verifies its tokens (it is
    // no longer published), one closed 100 s ago does not.
    let retired_file = paths.key_dir.join(gateway::RETIRED_KEYS_FILE);
    let listed: Value =
        serde_json::from_str(&std::fs::read_to_string(&retired_file).unwrap()).unwrap();
    for (closed_ago, status) in [(5, 200), (100, 401)] {
        let mut keys = listed.clone();
        keys["keys"][0]["exp"] = json!(now() - closed_ago);
        std::fs::write(&retired_file, keys.to_string()).unwrap();
        let server = restart(paths.clone(), dir.clone());
        let published = kids(&get(server.addr, "/.well-known/jwks.json", false).json());
        assert_eq!(published, std::slice::from_ref(&second.kid));
        let reply = verify(server.addr, &old_token);
        assert_eq!(
            reply.status,
            status,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    std::fs::write(&retired_file, listed.to_string()).unwrap();

    // Once its window has closed, a retired key is dropped at the next
    // rotation (and never served after its `exp` in any case).
    let later = now() + 3601;
    let third = gateway::rotate_signing_key(&runtime(), &paths.key_dir, 60, later).unwrap();
    assert_eq!(third.dropped, [rotation.retired_kid]);
    let _ = (dir, third);
}

/// Issues `READ` on `doc:1` (granted by the sample policy's and the
/// reduced policy's `everyone-reads` rule); returns the reply.
fn issue_read(addr: SocketAddr, subject: &str, public_jwk: &Value) -> Reply {
    let body = json!({
        "subject": subject,
        "subject_public_key": public_jwk,
        "capabilities": [{ "actions": ["READ"], "resources": ["doc:1"] }],
        "expires_in_seconds": 60,
    });
    post(addr, "/v1/tokens", true, &body)
}

#[test]
fn reload_puts_a_rotated_key_and_an_edited_policy_in_force_all_or_nothing() {
    let server = start("reload");
    let addr = server.addr;
    let (_, public) = holder(52);
    let old = issue(addr, "operator-1", &public);
    let old_kid = text(&old, "kid");
    let old_token = text(&old, "token");

    // Rotated on disk: the running gateway signs with the old key until told.
    let rotation =
        gateway::rotate_signing_key(&runtime(), &server.paths.key_dir, 3600, now()).unwrap();
    assert_eq!(issue(addr, "operator-1", &public)["kid"], old_kid.as_str());
    // A revocation list signed now is kept for readers...
    assert_eq!(
        get(addr, "/v1/revocations", false).json()["kid"],
        old_kid.as_str()
    );
    let reloads = |outcome: &str| {
        let metrics = String::from_utf8(get(addr, "/metrics", false).body).unwrap();
        let prefix = format!("captoken_reloads_total{{outcome=\"{outcome}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .map(|n| n.parse::<u64>().unwrap())
    };
    assert_eq!((reloads("applied"), reloads("refused")), (Some(0), Some(0)));
    let reloaded = server.gateway.reload().unwrap();
    assert_eq!(
        (
            reloaded.kid.as_str(),
            reloaded.previous_kid.as_str(),
            reloaded.retired.clone(),
            reloaded.policy_changed
        ),
        (
            rotation.kid.as_str(),
            old_kid.as_str(),
            vec![old_kid.clone()],
            false
        )
    );
    assert_eq!(
        issue(addr, "operator-1", &public)["kid"],
        rotation.kid.as_str()
    );
    assert_eq!(verify(addr, &old_token).status, 200);
    assert_eq!(
        kids(&get(addr, "/.well-known/jwks.json", false).json()),
        [rotation.kid.clone(), old_kid.clone()]
    );
    assert_eq!(
        get(addr, "/healthz", false).json()["kid"],
        rotation.kid.as_str()
    );
    // ...but not past a reload to a new key: the next one is signed by it.
    assert_eq!(
        get(addr, "/v1/revocations", false).json()["kid"],
        rotation.kid.as_str()
    );

    // An edited policy: operators may no longer drive, everyone still reads.
    let reduced = json!({ "version": 1, "rules": [
        { "id": "everyone-reads", "effect": "allow", "subjects": { "patterns": ["*"] },
          "capabilities": [{ "actions": ["READ"], "resources": ["*"] }] },
    ]});
    std::fs::write(&server.paths.policy, reduced.to_string()).unwrap();
    assert_eq!(
        issue(addr, "operator-1", &public)["kid"],
        rotation.kid.as_str()
    );
    assert!(server.gateway.reload().unwrap().policy_changed);
    post(addr, "/v1/tokens", true, &issue_body("operator-1", &public))
        .expect_error(403, "no_matching_rule");
    assert_eq!(issue_read(addr, "operator-1", &public).status, 201);

    // A new key with a broken policy: refused whole, the new key included.
    let next = gateway::rotate_signing_key(&runtime(), &server.paths.key_dir, 3600, now()).unwrap();
    std::fs::write(&server.paths.policy, "{ not json").unwrap();
    let refused = server.gateway.reload().unwrap_err();
    assert_eq!(refused.code(), "bad_policy_file");
    let read = issue_read(addr, "operator-1", &public);
    assert_eq!(
        (read.status, read.json()["kid"].clone()),
        (201, json!(rotation.kid))
    );
    post(addr, "/v1/tokens", true, &issue_body("operator-1", &public))
        .expect_error(403, "no_matching_rule");

    assert_eq!((reloads("applied"), reloads("refused")), (Some(2), Some(1)));

    // Mended: both take effect.
    std::fs::write(&server.paths.policy, reduced.to_string()).unwrap();
    let reloaded = server.gateway.reload().unwrap();
    assert_eq!(
        (reloaded.kid.as_str(), reloaded.policy_changed),
        (next.kid.as_str(), false)
    );
    assert_eq!(
        issue_read(addr, "operator-1", &public).json()["kid"],
        next.kid.as_str()
    );

    // A reload never creates what start-up would: a vanished file is an
    // error, not a fresh key or the sample policy.
    std::fs::remove_file(&server.paths.policy).unwrap();
    assert_eq!(server.gateway.reload().unwrap_err().code(), "io_error");
    assert!(!server.paths.policy.exists());
    std::fs::write(&server.paths.policy, reduced.to_string()).unwrap();
    let key_file = server.paths.key_dir.join(gateway::SIGNING_KEY_FILE);
    std::fs::remove_file(&key_file).unwrap();
    assert_eq!(server.gateway.reload().unwrap_err().code(), "io_error");
    assert!(!key_file.exists());
    assert_eq!(
        issue_read(addr, "operator-1", &public).json()["kid"],
        next.kid.as_str()
    );
}

#[test]
fn a_rotation_cut_short_still_starts_and_rotating_again_finishes_it() {
    let server = start("rotate-crash");
    let (_, public) = holder(51);
    let token = issue_token(server.addr, "operator-1", &public);
    let current = server.gateway.jwks()["keys"][0].clone();
    let (paths, dir) = (server.paths.clone(), server.dir.clone());
    drop(server);
    // The first write of a rotation landed, the second did not: the
    // current key is also listed as retired.
    let mut listed = current.clone();
    listed["exp"] = json!(now() + 600);
    std::fs::write(
        paths.key_dir.join(gateway::RETIRED_KEYS_FILE),
        json!({ "keys": [listed] }).to_string(),
    )
    .unwrap();
    let server = restart(paths, dir);
    assert_eq!(
        kids(&server.gateway.jwks()),
        [current["kid"].as_str().unwrap()]
    );
    assert_eq!(verify(server.addr, &token).status, 200);
    let (paths, dir) = (server.paths.clone(), server.dir.clone());
    drop(server);

    let done = gateway::rotate_signing_key(&runtime(), &paths.key_dir, 600, now()).unwrap();
    let server = restart(paths.clone(), dir.clone());
    assert_eq!(kids(&server.gateway.jwks()), [done.kid, done.retired_kid]);
    assert_eq!(verify(server.addr, &token).status, 200);
    drop(server);

    // A retired-keys file holding a private key is refused at start-up.
    let (private, _) = holder(52);
    let mut private = private;
    private["exp"] = json!(now() + 600);
    std::fs::write(
        paths.key_dir.join(gateway::RETIRED_KEYS_FILE),
        json!({ "keys": [private] }).to_string(),
    )
    .unwrap();
    let err = Gateway::open(
        runtime(),
        &paths,
        AdminToken::new(ADMIN).unwrap(),
        GatewayConfig::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "bad_signing_key");
    let _ = dir;
}

#[test]
fn a_failing_module_costs_one_request_and_the_server_keeps_serving() {
    let healthy = start("starved");
    let (_, public) = holder(9);
    let issued = issue(healthy.addr, "operator-1", &public);
    let token = issued["token"].as_str().unwrap();

    // The same gateway under a fuel budget that `info` fits in (healthz),
    // but an issue or a verify does not.
    let starved_runtime =
        Arc::new(Runtime::embedded_with(RuntimeConfig::default().fuel(1_000_000)).unwrap());
    let starved = healthy.gateway.with_runtime(starved_runtime).unwrap();
    let server = serve_gateway(starved, healthy.paths.clone(), healthy.dir.clone());
    let addr = server.addr;

    for _ in 0..3 {
        post(addr, "/v1/tokens", true, &issue_body("operator-1", &public))
            .expect_error(500, "guest_out_of_fuel");
        verify(addr, token).expect_error(500, "guest_out_of_fuel");
        assert_eq!(get(addr, "/healthz", false).status, 200);
    }
    let metrics = String::from_utf8(get(addr, "/metrics", false).body).unwrap();
    assert!(
        metrics
            .contains("captoken_module_failures_total{op=\"verify\",code=\"guest_out_of_fuel\"} 3"),
        "{metrics}"
    );
    // The healthy server, on the same store, is unaffected.
    assert_eq!(verify(healthy.addr, token).status, 200);
}

#[test]
fn a_failing_store_answers_500_without_its_internals() {
    let server = start("store-fails");
    let (_, public) = holder(62);
    let token = issue_token(server.addr, "operator-1", &public);
    // The replay guard's table vanishes under the running gateway.
    tamper(&server.paths.db, "DROP TABLE sec_replay;");
    let body = spend(server.addr, &token).expect_error(500, "store_error");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        !reason.contains("sqlite") && !reason.contains("sec_replay"),
        "{reason}"
    );
    assert_eq!(get(server.addr, "/healthz", false).status, 200);
}

#[test]
fn concurrent_issues_and_verifies_all_succeed() {
    let server = start("concurrent");
    let addr = server.addr;
    let (_, public) = holder(10);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let public = &public;
            scope.spawn(move || {
                for i in 0..5 {
                    let issued = issue(addr, &format!("operator-{t}-{i}"), public);
                    assert_eq!(verify(addr, issued["token"].as_str().unwrap()).status, 200);
                }
            });
        }
    });
    let listed = get(addr, "/v1/capabilities?principal_id=operator-3-4", true).json();
    assert_eq!(listed["count"], 1);
    // Twenty appends from four clients at once: one unbroken chain.
    let auditor = gateway::Auditor::new(runtime()).unwrap();
    let report = gateway::verify_log(&server.paths.db, &auditor, None).unwrap();
    assert!(
        matches!(
            report,
            gateway::AuditReport::Valid {
                count: 20,
                last_seq: 19,
                ..
            }
        ),
        "{report:?}"
    );
}

// ---------------------------------------------------------------- hostile clients

/// A gateway with short deadlines and a small connection cap.
fn start_strict(name: &str, max_connections: usize) -> Server {
    let dir = temp_dir(name);
    let paths = paths_in(&dir);
    let config = GatewayConfig {
        header_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(1),
        max_connections,
        ..GatewayConfig::default()
    };
    let (gateway, _) =
        Gateway::open(runtime(), &paths, AdminToken::new(ADMIN).unwrap(), config).unwrap();
    serve_gateway(gateway, paths, dir)
}

/// A client that sends a request's headers and the start of its body,
/// then stalls.
fn stall(addr: SocketAddr, method: &str, path: &str, admin_auth: bool) -> TcpStream {
    let auth = if admin_auth {
        format!("Authorization: {}\r\n", admin())
    } else {
        String::new()
    };
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            format!(
                "{method} {path} HTTP/1.1\r\nHost: test\r\n{auth}Content-Type: application/json\r\n\
                 Content-Length: 100\r\n\r\n{{\"tok"
            )
            .as_bytes(),
        )
        .unwrap();
    stream
}

/// Everything the server sends until it closes the connection, or an
/// error if it has not closed it within `limit`.
fn until_closed(stream: &mut TcpStream, limit: Duration) -> Result<Vec<u8>, String> {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut reply = Vec::new();
    match stream.read_to_end(&mut reply) {
        Ok(_) => Ok(reply),
        // A reset after the reply: the connection is closed too.
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => Ok(reply),
        Err(err) => Err(format!(
            "still open after {limit:?} ({err}); received {:?}",
            String::from_utf8_lossy(&reply)
        )),
    }
}

#[test]
fn a_stalled_body_is_answered_408_and_its_connection_closed() {
    let server = start_strict("stalled-body", 64);
    let addr = server.addr;
    for (path, admin_auth) in [
        ("/v1/tokens/verify", false),
        ("/v1/tokens/revoke", true),
        ("/v1/tokens", true),
        ("/v1/capabilities/grant", true),
    ] {
        let mut stalled = stall(addr, "POST", path, admin_auth);
        let reply = parse(&until_closed(&mut stalled, Duration::from_secs(10)).unwrap()).unwrap();
        reply.expect_error(408, "request_timeout");
        assert_eq!(reply.header("connection"), Some("close"), "{path}");
    }
    // A route that reads no body: answered at once, and the connection is
    // not kept waiting for the rest of the body either.
    let mut stalled = stall(addr, "GET", "/healthz", false);
    let reply = parse(&until_closed(&mut stalled, Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(reply.status, 200);
    // Nor is one refused before its body was read.
    let mut stalled = stall(addr, "POST", "/v1/tokens/revoke", false);
    let reply = parse(&until_closed(&mut stalled, Duration::from_secs(10)).unwrap()).unwrap();
    reply.expect_error(401, "missing_credentials");
    // An idle keep-alive connection is closed after the header deadline.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    let reply = parse(&until_closed(&mut idle, Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(reply.status, 200);
    let timeouts = String::from_utf8(get(addr, "/metrics", false).body).unwrap();
    assert!(
        timeouts
            .lines()
            .any(|line| line.starts_with("captoken_http_requests_total")
                && line.contains(r#"status="408""#)),
        "{timeouts}"
    );
}

#[test]
fn stalled_clients_past_the_connection_cap_cannot_starve_health_revoke_or_issue() {
    let server = start_strict("stalled-many", 8);
    let addr = server.addr;
    let (_, public) = holder(57);
    let issued = issue(addr, "operator-1", &public);
    // Three times the cap of clients that stall mid-body: each is cut at
    // its deadline, and the connections waiting behind them are served.
    let stalled: Vec<TcpStream> = (0..24)
        .map(|_| stall(addr, "POST", "/v1/tokens/revoke", true))
        .collect();
    let health = std::thread::spawn(move || get(addr, "/healthz", false).status);
    let jti = text(&issued, "jti");
    let revoked = std::thread::spawn(move || revoke(addr, &jti).status);
    let issuing = std::thread::spawn(move || issue_read(addr, "operator-2", &public).status);
    assert_eq!(health.join().unwrap(), 200);
    assert_eq!(revoked.join().unwrap(), 200);
    assert_eq!(issuing.join().unwrap(), 201);
    for mut stream in stalled {
        let reply = parse(&until_closed(&mut stream, Duration::from_secs(30)).unwrap()).unwrap();
        reply.expect_error(408, "request_timeout");
    }
    verify(addr, &text(&issued, "token")).expect_error(401, "revoked");
}

#[test]
fn serve_raises_its_file_descriptor_limit() {
    let dir = temp_dir("fd-limit");
    let mut server = spawn_binary_with(&dir, "ulimit -Sn 256 && ");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.child.id())).unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(
        numbers[0], numbers[1],
        "soft limit raised to the hard one: {line}"
    );
    assert_eq!(get(server.addr, "/healthz", false).status, 200);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

// ---------------------------------------------------------------- crash

/// `captoken serve` as a child process on a random port.
struct Process {
    child: Child,
    addr: SocketAddr,
}

fn spawn_binary(dir: &Path) -> Process {
    spawn_binary_with(dir, "")
}

/// [`spawn_binary`], started by `sh -c '<shell>exec captoken serve …'`.
fn spawn_binary_with(dir: &Path, shell: &str) -> Process {
    let mut child = Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg(format!("{shell}exec \"$0\" serve --listen 127.0.0.1:0"))
        .arg(env!("CARGO_BIN_EXE_captoken"))
        .env(gateway::ADMIN_TOKEN_ENV, ADMIN)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    // Keep reading, so the server never writes to a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let addr = first
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    Process { child, addr }
}

#[test]
fn acknowledged_revocations_survive_kill_9() {
    let dir = temp_dir("crash");
    let mut server = spawn_binary(&dir);
    let addr = server.addr;
    let (_, public) = holder(11);
    let tokens: Vec<(String, String)> = (0..120)
        .map(|i| {
            let issued = issue(addr, &format!("operator-{i}"), &public);
            (text(&issued, "jti"), text(&issued, "token"))
        })
        .collect();

    // Four clients revoke tokens as fast as they can; the server is killed
    // with SIGKILL midway. A revocation counts as acknowledged once its
    // 200 status line has arrived: the server sends it only after the commit.
    let attempted = Mutex::new(Vec::<usize>::new());
    let acknowledged = Mutex::new(Vec::<usize>::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (attempted, acknowledged, tokens) = (&attempted, &acknowledged, &tokens);
            scope.spawn(move || {
                for i in (t..tokens.len()).step_by(4) {
                    if Instant::now() > deadline {
                        return;
                    }
                    attempted.lock().unwrap().push(i);
                    let body = json!({ "jti": tokens[i].0 }).to_string();
                    let head = format!(
                        "POST /v1/tokens/revoke HTTP/1.1\r\nAuthorization: {}\r\n\
                         Content-Type: application/json\r\nContent-Length: {}",
                        admin(),
                        body.len()
                    );
                    // A request cut off by the kill has no whole reply.
                    match try_raw(addr, &head, body.as_bytes()) {
                        Ok(reply) if reply.status == 200 => acknowledged.lock().unwrap().push(i),
                        _ => return,
                    }
                }
            });
        }
        while acknowledged.lock().unwrap().len() < 30 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        server.child.kill().unwrap(); // SIGKILL
    });
    server.child.wait().unwrap();
    let attempted = attempted.into_inner().unwrap();
    let acknowledged = acknowledged.into_inner().unwrap();
    eprintln!(
        "{} of {} revocations acknowledged before the kill, {} attempted",
        acknowledged.len(),
        tokens.len(),
        attempted.len()
    );
    assert!(
        acknowledged.len() >= 30,
        "only {} acknowledged",
        acknowledged.len()
    );

    let mut restarted = spawn_binary(&dir);
    for (i, (_, token)) in tokens.iter().enumerate() {
        let reply = verify(restarted.addr, token);
        if acknowledged.contains(&i) {
            reply.expect_error(401, "revoked");
        } else if !attempted.contains(&i) {
            // Never revoked: the kill must not have revoked it either.
            assert_eq!(reply.status, 200, "token {i}");
        }
        // Attempted but unacknowledged: either answer is correct.
    }
    assert_eq!(get(restarted.addr, "/healthz", false).status, 200);
    restarted.child.kill().unwrap();
    restarted.child.wait().unwrap();

    // The audit chain survived the kill whole: every issue, and a record
    // for every acknowledged revocation (and perhaps for some attempted
    // ones that committed just before the kill), all linked.
    let (code, report, stderr) = audit_verify(&dir.join("captoken-data/captoken.db"), &[]);
    assert_eq!(code, 0, "{report} {stderr}");
    let count = report["count"].as_u64().unwrap() as usize;
    assert!(
        (tokens.len() + acknowledged.len()..=tokens.len() + attempted.len()).contains(&count),
        "{count} records for {} issues, {} acknowledged and {} attempted revocations",
        tokens.len(),
        acknowledged.len(),
        attempted.len()
    );
}

#[test]
fn sighup_makes_a_running_server_sign_with_the_rotated_key() {
    let dir = temp_dir("sighup");
    let mut server = spawn_binary(&dir);
    let (_, public) = holder(53);
    let old = issue(server.addr, "operator-1", &public);
    let key_dir = dir.join("captoken-data/keys");
    let rotation = gateway::rotate_signing_key(&runtime(), &key_dir, 3600, now()).unwrap();
    assert_eq!(rotation.retired_kid, old["kid"].as_str().unwrap());

    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-HUP", &pid]).status().unwrap();
    assert!(status.success());
    // The reload runs beside the requests; wait for it to show.
    let deadline = Instant::now() + Duration::from_secs(20);
    while get(server.addr, "/healthz", false).json()["kid"] != rotation.kid.as_str() {
        assert!(Instant::now() < deadline, "SIGHUP did not reload the key");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        issue(server.addr, "operator-2", &public)["kid"],
        rotation.kid.as_str()
    );
    assert_eq!(
        verify(server.addr, old["token"].as_str().unwrap()).status,
        200
    );
    // Still serving, and still the same process.
    assert!(server.child.try_wait().unwrap().is_none());
    server.child.kill().unwrap();
    server.child.wait().unwrap();
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
        "/v1/tokens/revoke",
        "/v1/capabilities",
        "/v1/capabilities/grant",
        "/v1/capabilities/revoke",
        "/v1/revocations",
        "/.well-known/jwks.json",
        "/healthz",
        "/metrics",
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
