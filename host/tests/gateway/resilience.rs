//! Failures and load: a starved module, a broken store, concurrent clients,
//! and acknowledged revocations across a SIGKILL.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use captoken_host::gateway;
use captoken_host::{Runtime, RuntimeConfig};
use serde_json::json;

use super::support::*;

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
    tamper(sqlite_file(&server.paths.db), "DROP TABLE sec_replay;");
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
