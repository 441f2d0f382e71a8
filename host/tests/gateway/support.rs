//! Shared by every module: a raw HTTP/1.1 client, in-process and child-process
//! servers, and helpers that issue, delegate, revoke and read the store.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use captoken_core::b64;
use captoken_host::gateway::{self, AdminToken, Database, Gateway, GatewayConfig, Paths};
use captoken_host::{Runtime, entropy, now};
use serde_json::{Value, json};

pub(crate) const ADMIN: &str = "test-admin-token-0123456789";
pub(crate) const ISSUER: &str = "urn:captoken:gateway";
pub(crate) const AUDIENCE: &str = "captoken";

pub(crate) fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    Arc::clone(RUNTIME.get_or_init(|| Arc::new(Runtime::embedded().unwrap())))
}

// ---------------------------------------------------------------- client

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "status {}: body is not json ({err}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts an error reply: its status, and the body `{error, reason}`.
    pub(crate) fn expect_error(&self, status: u16, code: &str) -> Value {
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
pub(crate) fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> Reply {
    try_raw(addr, head, body).unwrap_or_else(|err| panic!("{err}"))
}

/// [`raw`], with a failure to get a whole reply as an error.
pub(crate) fn try_raw(addr: SocketAddr, head: &str, body: &[u8]) -> Result<Reply, String> {
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

pub(crate) fn parse(reply: &[u8]) -> Result<Reply, String> {
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

pub(crate) fn dechunk(mut data: &[u8]) -> Vec<u8> {
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

pub(crate) fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> Reply {
    let mut head = format!("{method} {path} HTTP/1.1\r\nContent-Length: {}", body.len());
    if method == "POST" {
        head.push_str("\r\nContent-Type: application/json");
    }
    if let Some(auth) = auth {
        head.push_str(&format!("\r\nAuthorization: {auth}"));
    }
    raw(addr, &head, body.as_bytes())
}

pub(crate) fn admin() -> String {
    format!("Bearer {ADMIN}")
}

pub(crate) fn post(addr: SocketAddr, path: &str, admin_auth: bool, body: &Value) -> Reply {
    let auth = admin_auth.then(admin);
    request(addr, "POST", path, auth.as_deref(), &body.to_string())
}

pub(crate) fn get(addr: SocketAddr, path: &str, admin_auth: bool) -> Reply {
    let auth = admin_auth.then(admin);
    request(addr, "GET", path, auth.as_deref(), "")
}

// ---------------------------------------------------------------- server

/// A gateway served in this process on a random port, with its own
/// directory and tokio runtime; it stops when dropped.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) gateway: Gateway,
    pub(crate) paths: Paths,
    pub(crate) dir: PathBuf,
    pub(crate) tokio: Option<tokio::runtime::Runtime>,
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

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gateway-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn paths_in(dir: &Path) -> Paths {
    Paths {
        db: Database::Sqlite(dir.join("data/captoken.db")),
        key_dir: dir.join("keys"),
        policy: dir.join("policy.json"),
    }
}

/// The SQLite file of a test gateway's store (every test gateway but the
/// shared-state tests' has one).
pub(crate) fn sqlite_file(db: &Database) -> &Path {
    db.sqlite_path()
        .unwrap_or_else(|| panic!("{db} is not a SQLite store"))
}

pub(crate) fn start(name: &str) -> Server {
    let dir = temp_dir(name);
    restart(paths_in(&dir), dir)
}

/// The gateway over the state in `paths`, with the default configuration:
/// a fresh one, or the same one again, as after a restart.
pub(crate) fn open_gateway(paths: &Paths) -> Gateway {
    Gateway::open(
        runtime(),
        paths,
        AdminToken::new(ADMIN).unwrap(),
        GatewayConfig::default(),
    )
    .unwrap()
    .0
}

pub(crate) fn serve_gateway(gateway: Gateway, paths: Paths, dir: PathBuf) -> Server {
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

/// The gateway over the state in `paths` again, as after a restart.
pub(crate) fn restart(paths: Paths, dir: PathBuf) -> Server {
    serve_gateway(open_gateway(&paths), paths, dir)
}

/// `captoken serve` as a child process on a random port.
pub(crate) struct Process {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Drop for Process {
    /// A test that fails midway must not leave its server running: it
    /// would hold the test's output pipe open, and cargo would wait on it.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub(crate) fn spawn_binary(dir: &Path) -> Process {
    spawn_binary_with(dir, "")
}

/// [`spawn_binary`], started by `sh -c '<shell>exec captoken serve …'`.
pub(crate) fn spawn_binary_with(dir: &Path, shell: &str) -> Process {
    spawn_serve(dir, shell, &[], &[])
}

/// `captoken serve --listen 127.0.0.1:0 <args…>` in `dir` with `env` set,
/// started by `sh -c '<shell>exec …'`.
pub(crate) fn spawn_serve(dir: &Path, shell: &str, args: &[&str], env: &[(&str, &str)]) -> Process {
    let mut child = Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg(format!(
            "{shell}exec \"$0\" serve --listen 127.0.0.1:0 \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_captoken"))
        .args(args)
        .envs(env.iter().copied())
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

/// `captoken serve --listen 127.0.0.1:0 <args…>` in `dir` with `env` set,
/// which must refuse to start (exit 2): its stderr.
pub(crate) fn refused_at_start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_captoken"))
        .current_dir(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .env(gateway::ADMIN_TOKEN_ENV, ADMIN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

// ---------------------------------------------------------------- helpers

/// A holder key pair: (private JWK, public JWK).
pub(crate) fn holder(seed: u8) -> (Value, Value) {
    let pair = runtime().keygen([seed; 32]).unwrap();
    (pair["private_jwk"].clone(), pair["public_jwk"].clone())
}

pub(crate) fn issue_body(subject: &str, public_jwk: &Value) -> Value {
    json!({
        "subject": subject,
        "subject_public_key": public_jwk,
        "capabilities": [{ "actions": ["drive", "stop"], "resources": ["robot:7"] }],
        "expires_in_seconds": 600,
    })
}

/// Issues through the API; returns the 201 body.
pub(crate) fn issue(addr: SocketAddr, subject: &str, public_jwk: &Value) -> Value {
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
pub(crate) fn issue_token(addr: SocketAddr, subject: &str, public_jwk: &Value) -> String {
    text(&issue(addr, subject, public_jwk), "token")
}

/// A string member of a JSON reply, owned.
pub(crate) fn text(value: &Value, member: &str) -> String {
    value[member]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{member}` in {value}"))
        .to_owned()
}

/// A verify that spends a single-use token (or its chain).
pub(crate) fn spend(addr: SocketAddr, token: &str) -> Reply {
    post(
        addr,
        "/v1/tokens/verify",
        false,
        &json!({ "token": token, "single_use": true }),
    )
}

pub(crate) fn verify(addr: SocketAddr, token: &str) -> Reply {
    post(addr, "/v1/tokens/verify", false, &json!({ "token": token }))
}

pub(crate) fn revoke(addr: SocketAddr, jti: &str) -> Reply {
    post(addr, "/v1/tokens/revoke", true, &json!({ "jti": jti }))
}

/// A child of `parent` minted by its holder through the module's
/// `delegate` operation, as a holder's own software would.
pub(crate) fn delegate(
    server: &Server,
    parent: &str,
    holder_private: &Value,
    child_public: &Value,
) -> Value {
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
pub(crate) fn delegate_as(
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

pub(crate) fn grant(addr: SocketAddr, token: &str) -> Reply {
    post(
        addr,
        "/v1/capabilities/grant",
        true,
        &json!({ "token": token }),
    )
}

/// Issues `READ` on `doc:1` (granted by the sample policy's and the
/// reduced policy's `everyone-reads` rule); returns the reply.
pub(crate) fn issue_read(addr: SocketAddr, subject: &str, public_jwk: &Value) -> Reply {
    let body = json!({
        "subject": subject,
        "subject_public_key": public_jwk,
        "capabilities": [{ "actions": ["READ"], "resources": ["doc:1"] }],
        "expires_in_seconds": 60,
    });
    post(addr, "/v1/tokens", true, &body)
}

/// The holder's proof of possession for `token`, addressed to `audience`.
pub(crate) fn proof(
    token: &str,
    holder_private: &Value,
    audience: &str,
    nonce: Option<&str>,
) -> String {
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

/// Verifies a list from `GET /v1/revocations` as an offline verifier
/// would: with the module, against the published JWKS.
pub(crate) fn check_list(
    addr: SocketAddr,
    list: &Value,
    last_seen_seq: Option<u64>,
) -> Result<Value, String> {
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

/// The stored audit records, in order, as the module wrote them.
pub(crate) fn audit_records(db: &Path) -> Vec<Value> {
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
pub(crate) fn audit_verify(
    db: &(impl AsRef<std::ffi::OsStr> + ?Sized),
    extra: &[&str],
) -> (i32, Value, String) {
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
pub(crate) fn tamper(db: &Path, sql: &str) {
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

/// A signer standing in for an HSM: signs with `key` (perhaps not the
/// gateway's), or fails; counts what it was asked to sign.
pub(crate) struct FakeHsm {
    pub(crate) public_jwk: Value,
    pub(crate) key: Option<gateway::KeyFileSigner>,
    pub(crate) asked: std::sync::atomic::AtomicU32,
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

/// The server the shared-state tests run on (scripts/test.sh starts a
/// throwaway PostgreSQL and sets it).
pub(crate) const POSTGRES_ENV: &str = "CAPTOKEN_TEST_POSTGRES";

/// A `postgres://` URL of an empty schema of its own on the server
/// [`POSTGRES_ENV`] names; `None`, with a loud SKIPPED line, without one.
pub(crate) fn postgres_store(test: &str) -> Option<String> {
    let Ok(base) = std::env::var(POSTGRES_ENV) else {
        eprintln!(
            "SKIPPED: gateway test `{test}`: {POSTGRES_ENV} is not set \
             (scripts/test.sh starts a throwaway PostgreSQL and sets it)"
        );
        return None;
    };
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let schema = format!(
        "gw{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        now()
    );
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let join = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{join}options=-csearch_path%3D{schema}"))
}
