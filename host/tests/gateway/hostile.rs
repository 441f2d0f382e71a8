//! Hostile clients and limits: oversized bodies and headers, stalled clients,
//! the connection cap and the file-descriptor limit.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use captoken_host::gateway::{AdminToken, Gateway, GatewayConfig};

use super::support::*;

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
