//! Metrics: the module instances each kind of request costs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use captoken_host::Runtime;
use captoken_host::gateway::{AdminToken, Gateway, GatewayConfig};
use serde_json::{Value, json};

use super::support::*;

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

    // An issue is one instance: the policy's decision and the unsigned
    // token in one call, then, in the same instance, the host's signature
    // attached. Its audit record is appended by core natively, inside the
    // write, never by an instance. A denial is one too.
    let mut answer = Value::Null;
    let issued = instances_of(addr, || answer = issue(addr, "operator-1", &public));
    let token = text(&answer, "token");
    assert_eq!(issued, counts(&[("issue", 1)]));
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
    // The same token again is answered from the verified-token cache, with
    // the same body; for another audience it is verified again.
    let first = verify(addr, &token).json();
    let again = instances_of(addr, || assert_eq!(verify(addr, &token).json(), first));
    assert_eq!(again, counts(&[]), "a token seen before costs no instance");
    let other_audience = instances_of(addr, || {
        post(
            addr,
            "/v1/tokens/verify",
            false,
            &json!({ "token": token, "audience": "elsewhere" }),
        )
        .expect_error(401, "bad_audience");
    });
    assert_eq!(other_audience, counts(&[("verify", 1)]));
    assert_eq!(verify_cache(addr), (2, 2), "hits and misses so far");
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
    // The cached answer does not outlive the revocation: the store is
    // asked on every request.
    let after = instances_of(addr, || {
        verify(addr, &token).expect_error(401, "revoked");
    });
    assert_eq!(
        after,
        counts(&[]),
        "answered from the cache, refused by the store"
    );
    assert_eq!(verify_cache(addr), (3, 3));
}

/// `captoken_verify_cache_total`: (hits, misses).
fn verify_cache(addr: SocketAddr) -> (u64, u64) {
    let metrics = String::from_utf8(get(addr, "/metrics", false).body).unwrap();
    let count = |result: &str| -> u64 {
        let prefix = format!("captoken_verify_cache_total{{result=\"{result}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .unwrap()
            .parse()
            .unwrap()
    };
    (count("hit"), count("miss"))
}
