//! Signing keys: a host-side signer (an HSM stand-in), rotation and the retired
//! key's window, and reloads by call and by SIGHUP.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use captoken_host::gateway::{self, AdminToken, Gateway, GatewayConfig};
use captoken_host::now;
use serde_json::{Value, json};

use super::support::*;

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
    let events: Vec<Value> = audit_records(sqlite_file(&paths.db))
        .into_iter()
        .map(|r| r["event"].clone())
        .collect();
    assert_eq!(events, [json!("token_issued")]);
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
