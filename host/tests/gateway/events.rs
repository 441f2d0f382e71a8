//! `GET /v1/events`: the audit chain as event envelopes, paged as JSON and
//! followed live as server-sent events, resumable, per workspace.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::support::*;

fn page(addr: std::net::SocketAddr, query: &str) -> Value {
    let reply = get(addr, &format!("/v1/events{query}"), true);
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

#[test]
fn events_page_the_audit_chain_in_order_per_workspace() {
    let server = start("events");
    let addr = server.addr;
    let (_, public) = holder(21);
    let first = issue(addr, "operator-1", &public);
    let mut body = issue_body("operator-2", &public);
    body["workspace_id"] = json!("ws-2");
    let second = post(addr, "/v1/tokens", true, &body);
    assert_eq!(second.status, 201);
    let second = second.json();
    assert_eq!(revoke(addr, second["jti"].as_str().unwrap()).status, 200);

    let all = page(addr, "");
    let events = all["events"].as_array().unwrap();
    let records = audit_records(sqlite_file(&server.paths.db));
    assert_eq!(events.len(), records.len());
    for (event, record) in events.iter().zip(&records) {
        // Each envelope is its record: place, link, type, time and facts.
        assert_eq!(event["seq"], record["seq"]);
        assert_eq!(event["hash"], record["hash"]);
        assert_eq!(event["type"], record["event"]);
        assert_eq!(event["time"], record["time"]);
        assert_eq!(event["data"], record["data"]);
        assert_eq!(event["version"], 1);
    }
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["token_issued", "token_issued", "token_revoked"]);
    assert_eq!(events[0]["workspace_id"], "default");
    assert_eq!(events[0]["data"]["jti"], first["jti"]);
    // The revocation is in the revoked token's workspace.
    assert_eq!(events[1]["workspace_id"], "ws-2");
    assert_eq!(events[2]["workspace_id"], "ws-2");
    assert_eq!(all["next_after"], events[2]["seq"]);

    let ws2 = page(addr, "?workspace_id=ws-2");
    assert_eq!(ws2["events"].as_array().unwrap().len(), 2);
    assert!(
        page(addr, "?workspace_id=nowhere")["events"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Paging: `after` the last seen, `limit` at a time.
    let one = page(addr, "?limit=1");
    assert_eq!(one["events"].as_array().unwrap().len(), 1);
    let rest = page(addr, &format!("?after={}", one["next_after"]));
    assert_eq!(rest["events"].as_array().unwrap().len(), 2);
    assert_eq!(rest["events"][0]["seq"], events[1]["seq"]);
    assert!(
        page(addr, &format!("?after={}", all["next_after"]))["events"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    get(addr, "/v1/events", false).expect_error(401, "missing_credentials");
    get(addr, "/v1/events?after=x", true).expect_error(400, "invalid_value");
    get(addr, "/v1/events?limit=0", true).expect_error(400, "invalid_value");
    get(addr, "/v1/events?colour=red", true).expect_error(400, "unknown_field");
}

/// Reads a server-sent event stream until `done` holds for what arrived,
/// or fails after 20 s.
fn read_until(stream: &mut TcpStream, seen: &mut String, done: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut chunk = [0u8; 4096];
    while !done(seen) {
        assert!(
            Instant::now() < deadline,
            "the stream did not deliver; got:\n{seen}"
        );
        match stream.read(&mut chunk) {
            Ok(0) => panic!("the stream ended; got:\n{seen}"),
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&chunk[..n])),
            Err(err)
                if err.kind() == std::io::ErrorKind::WouldBlock
                    || err.kind() == std::io::ErrorKind::TimedOut => {}
            Err(err) => panic!("reading the stream: {err}"),
        }
    }
}

fn open_stream(addr: std::net::SocketAddr, last_event_id: Option<i64>) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut head = format!(
        "GET /v1/events HTTP/1.1\r\nHost: test\r\nAuthorization: {}\r\nAccept: text/event-stream\r\n",
        admin()
    );
    if let Some(id) = last_event_id {
        head.push_str(&format!("Last-Event-ID: {id}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

#[test]
fn the_event_stream_delivers_new_events_as_they_commit_and_resumes() {
    let server = start("event-stream");
    let addr = server.addr;
    let (_, public) = holder(22);
    let first = issue(addr, "operator-1", &public);

    // A stream from now on: the token issued before is not replayed…
    let mut live = open_stream(addr, None);
    let mut seen = String::new();
    read_until(&mut live, &mut seen, |s| s.contains("text/event-stream"));
    // …a token issued after arrives as it commits.
    let second = issue(addr, "operator-2", &public);
    let jti = second["jti"].as_str().unwrap().to_owned();
    read_until(&mut live, &mut seen, |s| s.contains(&jti));
    assert!(!seen.contains(first["jti"].as_str().unwrap()), "{seen}");
    assert!(seen.contains("event: token_issued"), "{seen}");
    assert!(seen.contains("id: 1\n"), "{seen}");
    drop(live);

    // Resuming after event 0 gets event 1 again, then what came since.
    assert_eq!(revoke(addr, &jti).status, 200);
    let mut resumed = open_stream(addr, Some(0));
    let mut again = String::new();
    read_until(&mut resumed, &mut again, |s| s.contains("token_revoked"));
    assert!(again.contains(&jti), "{again}");
    assert!(
        again.contains("id: 1\n") && again.contains("id: 2\n"),
        "{again}"
    );
    assert!(!again.contains("id: 0\n"), "{again}");
    let data = again
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(data.last().unwrap()["type"], "token_revoked");
    assert_eq!(data.last().unwrap()["version"], 1);
}
