//! Several gateways, one state: two `captoken serve` processes on one
//! PostgreSQL database, sharing the signing key directory and the policy
//! (docs/SCALE.md). What one acknowledges, the other enforces: a
//! revocation, a spent single-use token, and the one audit chain both
//! append to.

use std::path::PathBuf;
use std::time::Instant;

use captoken_host::now;
use serde_json::{Value, json};

use crate::support::*;

/// Gateway A (its store named by `--db`) and B (by
/// `CAPTOKEN_DATABASE_URL`), each in a directory of its own, with one key
/// directory and one policy: A creates them, B reads them.
struct Pair {
    a: Process,
    b: Process,
    url: String,
    _dir: PathBuf,
}

/// The URL both gateways of a pair are reached at.
const PUBLIC_URL: &str = "https://gw.example/";

fn two_gateways(test: &str) -> Option<Pair> {
    let url = postgres_store(test)?;
    let dir = temp_dir(test);
    let keys = dir.join("keys");
    let policy = dir.join("policy.json");
    let shared = [
        "--key-dir",
        keys.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ];
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
    }
    // Both behind one name, as behind a load balancer.
    let mut a_args = vec!["--db", url.as_str(), "--public-url", PUBLIC_URL];
    a_args.extend(shared);
    let a = spawn_serve(&dir.join("a"), "", &a_args, &[]);
    let b = spawn_serve(
        &dir.join("b"),
        "",
        &shared,
        &[
            ("CAPTOKEN_DATABASE_URL", url.as_str()),
            ("CAPTOKEN_PUBLIC_URL", PUBLIC_URL),
        ],
    );
    Some(Pair {
        a,
        b,
        url,
        _dir: dir,
    })
}

#[test]
fn a_revocation_through_one_gateway_is_refused_by_the_other_at_once() {
    let Some(pair) = two_gateways("shared-revoke") else {
        return;
    };
    let (_, public) = holder(90);
    let mut delays = Vec::new();
    for round in 0..20 {
        let issued = issue(pair.a.addr, &format!("operator-{round}"), &public);
        let token = text(&issued, "token");
        // B verifies A's token (and keeps its signature verified).
        assert_eq!(verify(pair.b.addr, &token).status, 200);
        assert_eq!(revoke(pair.a.addr, &text(&issued, "jti")).status, 200);
        // Acknowledged by A: B's very next verify refuses it.
        let acknowledged = Instant::now();
        verify(pair.b.addr, &token).expect_error(401, "revoked");
        delays.push(acknowledged.elapsed());
    }
    delays.sort();
    // The propagation delay, for docs/SCALE.md (printed, never asserted:
    // it is one verify's round trip, since B reads the shared table).
    println!(
        "revoked on A, refused by B: median {:?}, max {:?} (the first verify after the 200)",
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );
    // A revocation through B of A's token, seen by A, and listed by both.
    let issued = issue(pair.a.addr, "operator-x", &public);
    let token = text(&issued, "token");
    assert_eq!(revoke(pair.b.addr, &text(&issued, "jti")).status, 200);
    verify(pair.a.addr, &token).expect_error(401, "revoked");
    let list_a = get(pair.a.addr, "/v1/revocations", false).json();
    let list_b = get(pair.b.addr, "/v1/revocations", false).json();
    assert_eq!(list_a["seq"], 21, "{list_a}");
    assert_eq!(list_b["seq"], 21, "{list_b}");
}

#[test]
fn a_single_use_token_spent_on_one_gateway_is_replayed_on_the_other() {
    let Some(pair) = two_gateways("shared-single-use") else {
        return;
    };
    let (_, public) = holder(91);
    let token = issue_token(pair.a.addr, "operator-1", &public);
    assert_eq!(spend(pair.b.addr, &token).status, 200);
    spend(pair.a.addr, &token).expect_error(401, "replayed");
    spend(pair.b.addr, &token).expect_error(401, "replayed");

    // Spent on both at once, many times: exactly one is accepted.
    let token = issue_token(pair.b.addr, "operator-2", &public);
    let addrs = [pair.a.addr, pair.b.addr];
    let accepted: usize = std::thread::scope(|scope| {
        let tries: Vec<_> = (0..8)
            .map(|i| {
                let token = token.clone();
                scope.spawn(move || spend(addrs[i % 2], &token).status == 200)
            })
            .collect();
        tries
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum()
    });
    assert_eq!(
        accepted, 1,
        "a single-use token was accepted more than once"
    );
}

#[test]
fn both_gateways_append_to_one_audit_chain_that_verifies() {
    let Some(pair) = two_gateways("shared-audit") else {
        return;
    };
    let (_, public) = holder(92);
    let addrs = [pair.a.addr, pair.b.addr];
    // Issues and revocations from both gateways at once, 4 clients each.
    let per_client: usize = 6;
    std::thread::scope(|scope| {
        for client in 0..8 {
            let public = public.clone();
            scope.spawn(move || {
                let addr = addrs[client % 2];
                for n in 0..per_client {
                    let issued = issue(addr, &format!("operator-{client}-{n}"), &public);
                    if n % 3 == 0 {
                        // Revoked through the other gateway.
                        let other = addrs[(client + 1) % 2];
                        assert_eq!(revoke(other, &text(&issued, "jti")).status, 200);
                    }
                }
            });
        }
    });
    let issued = 8 * per_client;
    let revoked = 8 * per_client.div_ceil(3);
    let (code, report, stderr) = audit_verify(pair.url.as_str(), &[]);
    assert_eq!(code, 0, "{report} {stderr}");
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["count"], issued + revoked, "{report}");

    // Either gateway's event stream holds every event, in one order.
    let page = |addr| -> Vec<Value> {
        let reply = get(addr, "/v1/events?limit=1000", true);
        assert_eq!(reply.status, 200);
        reply.json()["events"].as_array().unwrap().clone()
    };
    let (from_a, from_b) = (page(pair.a.addr), page(pair.b.addr));
    assert_eq!(from_a.len(), issued + revoked);
    assert_eq!(from_a, from_b);
    let seqs: Vec<u64> = from_a.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>());
}

#[test]
fn gateways_on_one_database_hand_out_places_once_and_publish_one_list() {
    let Some(pair) = two_gateways("shared-status") else {
        return;
    };
    let (_, public) = holder(92);
    let place =
        |addr, token: &str| verify(addr, token).json()["claims"]["status"]["status_list"].clone();
    // Issued on both at once: every place distinct, all in list 0 under
    // the one public URL.
    let issue_on = |addr| {
        let public = public.clone();
        std::thread::spawn(move || {
            (0..20)
                .map(|_| text(&issue(addr, "operator-1", &public), "token"))
                .collect::<Vec<_>>()
        })
    };
    let (on_a, on_b) = (issue_on(pair.a.addr), issue_on(pair.b.addr));
    let tokens: Vec<String> = [on_a, on_b]
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let places: Vec<Value> = tokens.iter().map(|t| place(pair.a.addr, t)).collect();
    let mut idx: Vec<u64> = places.iter().map(|p| p["idx"].as_u64().unwrap()).collect();
    idx.sort_unstable();
    idx.dedup();
    assert_eq!(idx.len(), 40, "{places:?}");
    assert!(
        places
            .iter()
            .all(|p| p["uri"] == "https://gw.example/v1/status-lists/0")
    );

    // Revoked through A: B publishes the bit, in the same signed list.
    let revoked = &tokens[25];
    let jti = verify(pair.a.addr, revoked).json()["jti"].clone();
    assert_eq!(revoke(pair.a.addr, jti.as_str().unwrap()).status, 200);
    let from_b = get(pair.b.addr, "/v1/status-lists/0", false).json();
    assert_eq!(from_b["count"], 1);
    assert_eq!(from_b["uri"], "https://gw.example/v1/status-lists/0");
    let checked = runtime()
        .call_json(
            runtime().op_id("status_list_verify").unwrap(),
            &json!({
                "list": from_b["list"],
                "jwks": get(pair.b.addr, "/.well-known/jwks.json", false).json(),
                "issuer": ISSUER,
                "now": now(),
                "uri": from_b["uri"],
                "idx": places[25]["idx"],
            }),
        )
        .unwrap();
    assert_eq!(checked["revoked"], true);
}

#[test]
fn an_unknown_store_scheme_is_refused_at_start() {
    let dir = temp_dir("bad-scheme");
    for (args, env) in [
        (vec!["--db", "mysql://root@127.0.0.1/captoken"], vec![]),
        (vec![], vec![("CAPTOKEN_DATABASE_URL", "redis://127.0.0.1")]),
    ] {
        let stderr = refused_at_start(&dir, &args, &env);
        assert!(stderr.contains("store_bad_url"), "{stderr}");
        // Nothing was created under the URL's name.
        assert!(!dir.join("mysql:").exists() && !dir.join("redis:").exists());
    }
}

/// SIGTERM stops a gateway on PostgreSQL as it stops one on SQLite: the
/// server drains and the process exits 0 (its store's connections closed
/// off the async threads, where closing them would abort the process).
#[test]
fn a_gateway_on_postgres_stops_cleanly_on_sigterm() {
    let Some(url) = postgres_store("shared-sigterm") else {
        return;
    };
    let dir = temp_dir("shared-sigterm");
    let mut gateway = spawn_serve(&dir, "", &["--db", url.as_str()], &[]);
    let (_, public) = holder(93);
    // Connections in use: the writer, and readers back in their pool.
    let token = issue_token(gateway.addr, "operator-1", &public);
    assert_eq!(verify(gateway.addr, &token).status, 200);
    let pid = gateway.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = gateway.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
}
