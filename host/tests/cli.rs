//! The `captoken` binary end to end: key files, a token, its verification,
//! and the exit codes and error lines a script relies on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "robot-gateway";

fn captoken(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_captoken"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn ok(output: Output) -> String {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    stdout(&output)
}

/// A directory with an issuer's key and JWKS, a holder's key, and a token
/// issued to the holder, made once: each command compiles the module, which
/// takes seconds in a debug build.
fn fixture() -> &'static (PathBuf, String) {
    static FIXTURE: OnceLock<(PathBuf, String)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // Per process: a second run on the same target/ must not wipe it.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("captoken-cli-fixture-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let jwks = ok(captoken(&dir, &["keygen", "--out", "issuer.jwk"]));
        std::fs::write(dir.join("issuer.jwks"), jwks).unwrap();
        ok(captoken(&dir, &["keygen", "--out", "holder.jwk"]));
        let token = ok(captoken(
            &dir,
            &[
                "issue",
                "--key",
                "issuer.jwk",
                "--issuer",
                ISSUER,
                "--sub",
                "agent:planner",
                "--aud",
                AUDIENCE,
                "--holder",
                "holder.jwk",
                "--cap",
                "drive,stop@robot:7",
                "--plan-id",
                "plan-42",
                // Outlives a slow run of every test that uses it.
                "--ttl",
                "3600",
            ],
        ));
        (dir, token.trim().to_owned())
    })
}

fn verify(dir: &Path, audience: &str, token: &str) -> Output {
    captoken(
        dir,
        &[
            "verify",
            "--jwks",
            "issuer.jwks",
            "--issuer",
            ISSUER,
            "--aud",
            audience,
            token,
        ],
    )
}

#[test]
fn keygen_writes_a_private_key_only_to_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(captoken(dir.path(), &["keygen", "--out", "k.jwk"]));

    let jwks: Value = serde_json::from_str(&out).unwrap();
    let public = &jwks["keys"][0];
    assert!(public["x"].is_string());
    assert!(public.get("d").is_none(), "stdout leaked the private key");

    let private: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("k.jwk")).unwrap()).unwrap();
    assert!(private["d"].is_string());
    assert_eq!(private["x"], public["x"]);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("k.jwk"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    ok(captoken(dir.path(), &["keygen", "--out", "k.jwk"]));
    let before = std::fs::read(dir.path().join("k.jwk")).unwrap();

    let again = captoken(dir.path(), &["keygen", "--out", "k.jwk"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("error: file_exists: "),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(dir.path().join("k.jwk")).unwrap(), before);

    ok(captoken(
        dir.path(),
        &["keygen", "--out", "k.jwk", "--force"],
    ));
    assert_ne!(std::fs::read(dir.path().join("k.jwk")).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn keygen_force_replaces_a_symlink_and_never_writes_through_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("precious.txt");
    std::fs::write(&target, "not a key\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.path().join("k.jwk");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let refused = captoken(dir.path(), &["keygen", "--out", "k.jwk"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("error: file_exists: "));

    ok(captoken(
        dir.path(),
        &["keygen", "--out", "k.jwk", "--force"],
    ));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not a key\n");
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(meta.is_file(), "the link itself was replaced");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let private: Value = serde_json::from_str(&std::fs::read_to_string(&link).unwrap()).unwrap();
    assert!(private["d"].is_string());
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn jwks_matches_what_keygen_printed() {
    let dir = tempfile::tempdir().unwrap();
    let printed = ok(captoken(dir.path(), &["keygen", "--out", "k.jwk"]));
    let derived = ok(captoken(dir.path(), &["jwks", "--key", "k.jwk"]));
    assert_eq!(
        serde_json::from_str::<Value>(&printed).unwrap(),
        serde_json::from_str::<Value>(&derived).unwrap()
    );
}

#[test]
fn issued_token_verifies_with_its_claims() {
    let (dir, token) = fixture();
    assert_eq!(token.split('.').count(), 3, "{token}");

    let verified: Value = serde_json::from_str(&ok(verify(dir, AUDIENCE, token))).unwrap();
    let claims = &verified["claims"];
    assert_eq!(claims["sub"], "agent:planner");
    assert_eq!(claims["plan_id"], "plan-42");
    assert_eq!(
        claims["caps"][0]["actions"],
        serde_json::json!(["drive", "stop"])
    );
    assert_eq!(
        claims["caps"][0]["resources"],
        serde_json::json!(["robot:7"])
    );
    assert!(
        claims["cnf"]["jwk"].get("d").is_none(),
        "holder's private key in the token"
    );
}

#[test]
fn token_from_stdin_verifies() {
    let (dir, token) = fixture();
    let mut child = Command::new(env!("CARGO_BIN_EXE_captoken"))
        .current_dir(dir)
        .args([
            "verify",
            "--jwks",
            "issuer.jwks",
            "--issuer",
            ISSUER,
            "--aud",
            AUDIENCE,
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        format!("{token}\n").as_bytes(),
    )
    .unwrap();
    ok(child.wait_with_output().unwrap());
}

#[test]
fn wrong_audience_exits_1_with_the_module_code() {
    let (dir, token) = fixture();
    let rejected = verify(dir, "elsewhere", token);
    assert_eq!(rejected.status.code(), Some(1));
    assert!(stdout(&rejected).is_empty());
    assert!(
        stderr(&rejected).starts_with("error: bad_audience: "),
        "{}",
        stderr(&rejected)
    );
}

#[test]
fn malformed_cap_is_a_usage_error() {
    let (dir, _) = fixture();
    let out = captoken(
        dir,
        &[
            "issue",
            "--key",
            "issuer.jwk",
            "--issuer",
            ISSUER,
            "--sub",
            "s",
            "--aud",
            AUDIENCE,
            "--holder",
            "holder.jwk",
            "--cap",
            "drive",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: bad_cap: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_key_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = captoken(dir.path(), &["jwks", "--key", "absent.jwk"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: io_error: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn demo_runs_the_life_cycle_and_shows_a_rejection() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(captoken(dir.path(), &["demo"]));
    assert!(out.contains("bad_audience"), "{out}");
    assert!(
        out.contains(captoken_host::Runtime::embedded_module_sha256()),
        "{out}"
    );
}

#[test]
fn info_names_the_module_by_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let info: Value = serde_json::from_str(&ok(captoken(dir.path(), &["info"]))).unwrap();
    assert_eq!(info["abi"], 1);
    assert_eq!(
        info["module_sha256"],
        captoken_host::Runtime::embedded_module_sha256()
    );
}

#[test]
fn issue_json_takes_an_inline_holder_and_constraints() {
    let (dir, _) = fixture();
    // The holder's private JWK, inline: only its public part may be used.
    let holder = std::fs::read_to_string(dir.join("holder.jwk")).unwrap();
    let response: Value = serde_json::from_str(&ok(captoken(
        dir,
        &[
            "issue",
            "--key",
            "issuer.jwk",
            "--issuer",
            ISSUER,
            "--sub",
            "agent:planner",
            "--aud",
            AUDIENCE,
            "--holder",
            &holder,
            "--cap",
            "enter@room:lab-2,room:lab-3",
            "--constraints",
            r#"{"rooms": ["lab-2"]}"#,
            "--ttl",
            "60",
            "--json",
        ],
    )))
    .unwrap();
    assert_eq!(
        response["exp"].as_i64().unwrap() - response["iat"].as_i64().unwrap(),
        60
    );
    assert!(response["jti"].is_string());

    let token = response["token"].as_str().unwrap();
    let verified: Value = serde_json::from_str(&ok(verify(dir, AUDIENCE, token))).unwrap();
    let cap = &verified["claims"]["caps"][0];
    assert_eq!(
        cap["resources"],
        serde_json::json!(["room:lab-2", "room:lab-3"])
    );
    assert_eq!(cap["constraints"]["rooms"], serde_json::json!(["lab-2"]));
    assert!(verified["claims"]["cnf"]["jwk"].get("d").is_none());
}

const POLICY: &str = r#"{
  "version": 1,
  "max_ttl": 3600,
  "rules": [
    { "id": "operators-drive", "effect": "allow",
      "subjects": { "patterns": ["operator-*"] },
      "capabilities": [ { "actions": ["drive", "stop"], "resources": ["robot:*"] } ],
      "max_ttl": 900 },
    { "id": "agents-never-pii", "effect": "deny",
      "subjects": { "patterns": ["agent-*"] },
      "capabilities": [ { "actions": ["*"], "resources": ["pii:*"] } ] }
  ]
}"#;

#[test]
fn policy_check_says_valid_or_where_it_is_not() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.json"), POLICY).unwrap();
    let out = ok(captoken(dir.path(), &["policy", "check", "p.json"]));
    assert!(out.starts_with("policy ok: 2 rule(s)"), "{out}");
    assert!(out.contains("deny   agents-never-pii"), "{out}");
    let checked: Value = serde_json::from_str(&ok(captoken(
        dir.path(),
        &["policy", "check", "p.json", "--json"],
    )))
    .unwrap();
    assert_eq!(checked["valid"], true);
    assert_eq!(checked["max_ttl"], 3600);

    std::fs::write(
        dir.path().join("bad.json"),
        POLICY.replace("\"robot:*\"", "\"ro*bot\""),
    )
    .unwrap();
    let bad = captoken(dir.path(), &["policy", "check", "bad.json"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).starts_with("error: bad_pattern: "),
        "{}",
        stderr(&bad)
    );
    // Where in the document, as the module says it (npm's `err.path`).
    assert!(
        stderr(&bad).contains("(at `rules[0].capabilities[0].resources[0]`)"),
        "{}",
        stderr(&bad)
    );
    assert!(stdout(&bad).is_empty());

    std::fs::write(dir.path().join("junk.json"), "{").unwrap();
    let junk = captoken(dir.path(), &["policy", "check", "junk.json"]);
    assert_eq!(junk.status.code(), Some(2));
    assert!(
        stderr(&junk).starts_with("error: bad_json: "),
        "{}",
        stderr(&junk)
    );
}

#[test]
fn policy_explain_traces_each_rule_and_exits_by_the_decision() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.json"), POLICY).unwrap();
    std::fs::write(
        dir.path().join("drive.json"),
        r#"{"subject": {"id": "operator-7"},
            "capabilities": [{"actions": ["drive"], "resources": ["robot:1"]}], "ttl": 6000}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pii.json"),
        r#"{"subject": {"id": "agent-7"},
            "capabilities": [{"actions": ["read"], "resources": ["pii:records"]}]}"#,
    )
    .unwrap();

    let granted = ok(captoken(
        dir.path(),
        &["policy", "explain", "p.json", "--request", "drive.json"],
    ));
    assert!(
        granted.contains("rule operators-drive") && granted.contains("ttl capped at 900 s"),
        "{granted}"
    );
    assert!(
        granted.contains("decision: granted, ttl 900 s"),
        "{granted}"
    );

    let denied = captoken(
        dir.path(),
        &[
            "policy",
            "explain",
            "p.json",
            "--request",
            "pii.json",
            "--json",
        ],
    );
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        stderr(&denied).starts_with("error: denied_by_rule: "),
        "{}",
        stderr(&denied)
    );
    let trace: Value = serde_json::from_str(&stdout(&denied)).unwrap();
    assert_eq!(trace["decision"]["decision"], "denied");
    assert_eq!(trace["decision"]["rule"], "agents-never-pii");
    let rules = trace["rules"].as_array().unwrap();
    assert_eq!(rules.last().unwrap()["id"], "agents-never-pii");

    let missing = captoken(
        dir.path(),
        &["policy", "explain", "p.json", "--request", "absent.json"],
    );
    assert_eq!(missing.status.code(), Some(2));
}

fn delegate(dir: &Path, parent: &str, key: &str, caps: &[&str]) -> Output {
    let mut args = vec![
        "delegate",
        "--parent",
        parent,
        "--key",
        key,
        "--jwks",
        "issuer.jwks",
        "--issuer",
        ISSUER,
        "--aud",
        AUDIENCE,
        "--sub",
        "agent:helper",
        "--holder",
        "helper.jwks",
        "--ttl",
        "60",
    ];
    for cap in caps {
        args.extend(["--cap", cap]);
    }
    captoken(dir, &args)
}

#[test]
fn delegate_mints_a_narrower_child_and_refuses_a_wider_one() {
    let (dir, token) = fixture();
    if !dir.join("helper.jwks").exists() {
        let jwks = ok(captoken(dir, &["keygen", "--out", "helper.jwk", "--force"]));
        std::fs::write(dir.join("helper.jwks"), jwks).unwrap();
    }
    let child = ok(delegate(dir, token, "holder.jwk", &["stop@robot:7"]));
    let child = child.trim();
    assert!(child.ends_with(&format!("~{token}")), "{child}");

    let verified: Value = serde_json::from_str(&ok(verify(dir, AUDIENCE, child))).unwrap();
    assert_eq!(verified["depth"], 1);
    assert_eq!(verified["claims"]["sub"], "agent:helper");
    assert_eq!(verified["root_sub"], "agent:planner");
    assert_eq!(
        verified["claims"]["caps"][0]["actions"],
        serde_json::json!(["stop"])
    );
    // The issuer's statements travel unchanged down the chain.
    assert_eq!(verified["claims"]["plan_id"], "plan-42");

    // More than the parent grants: refused, not narrowed.
    let wider = delegate(dir, token, "holder.jwk", &["fly@robot:7"]);
    assert_eq!(wider.status.code(), Some(1));
    assert!(
        stderr(&wider).starts_with("error: delegation_escalation: "),
        "{}",
        stderr(&wider)
    );
    // Someone else's key cannot delegate the holder's token.
    let stranger = delegate(dir, token, "issuer.jwk", &["stop@robot:7"]);
    assert_eq!(stranger.status.code(), Some(1));
    assert!(
        stderr(&stranger).starts_with("error: delegation_not_holder: "),
        "{}",
        stderr(&stranger)
    );
}

/// A gateway store holding one issued token (and its audit record).
fn store_with_token(dir: &Path) -> (PathBuf, String) {
    use captoken_host::gateway::{AuditEvent, Auditor, Store, TokenRow};
    let runtime = std::sync::Arc::new(captoken_host::Runtime::embedded().unwrap());
    let db = dir.join("captoken.db");
    let store = Store::open(&db, Auditor::new(runtime).unwrap()).unwrap();
    // Ids are base64url, so one in 64 starts with `-`; this one does, and
    // must still be taken as a value, never as a flag.
    let jti = captoken_core::b64::encode(&[0xf8; 16]);
    assert!(jti.starts_with('-'), "{jti}");
    let row = TokenRow {
        token_id: jti.clone(),
        workspace_id: "default".to_owned(),
        issued_to: "operator-1".to_owned(),
        granted_by: "admin".to_owned(),
        parent_token_id: None,
        scopes: serde_json::json!({ "caps": [] }),
        valid_until: Some(captoken_host::now() + 600),
        revoked_at: None,
        created_at: captoken_host::now(),
        token_sha256: None,
        status_idx: None,
    };
    let event = AuditEvent::new("token_issued", serde_json::json!({ "jti": jti }));
    store.insert_token(&row, &event).unwrap();
    (db, jti)
}

#[test]
fn revoke_on_the_store_is_durable_audited_and_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    let (db, jti) = store_with_token(dir.path());
    let db_arg = db.to_str().unwrap();

    let out = ok(captoken(
        dir.path(),
        &["revoke", "--db", db_arg, &jti, "--reason", "key lost"],
    ));
    assert!(out.starts_with(&format!("revoked `{jti}`")), "{out}");
    let again: Value = serde_json::from_str(&ok(captoken(
        dir.path(),
        &["revoke", "--db", db_arg, &jti, "--json"],
    )))
    .unwrap();
    assert_eq!(again["already_revoked"], true);
    assert_eq!(again["known_token"], true);
    assert_eq!(again["id"], jti.as_str());
    // An id no recorded token has revokes nothing: exit 1, its code.
    let stranger = captoken_core::b64::encode(&[0x42; 16]);
    let refused = captoken(dir.path(), &["revoke", "--db", db_arg, &stranger]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).starts_with("error: unknown_token: "),
        "{}",
        stderr(&refused)
    );

    // On disk: listed as revoked, the row marked, one audit record more.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (reason, by): (String, String) = conn
        .query_row(
            "SELECT reason, revoked_by_principal_id FROM sec_revocations WHERE jti = ?1",
            [&jti],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((reason.as_str(), by.as_str()), ("key lost", "cli"));
    let record: String = conn
        .query_row("SELECT record FROM audit_events WHERE seq = 1", [], |row| {
            row.get(0)
        })
        .unwrap();
    let record: Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["event"], "token_revoked");
    assert_eq!(
        record["data"],
        serde_json::json!({ "id": jti, "reason": "key lost" })
    );

    let verified = ok(captoken(dir.path(), &["audit", "verify", "--db", db_arg]));
    assert!(
        verified.starts_with("audit log ok: 2 records, seq 0 to 1"),
        "{verified}"
    );
    // A head is base64url too: one starting with `-` is a head, not a flag.
    let other_head = captoken_core::b64::encode(&[0xf8; 32]);
    let mismatch = captoken(
        dir.path(),
        &["audit", "verify", "--db", db_arg, "--head", &other_head],
    );
    assert_eq!(mismatch.status.code(), Some(1), "{}", stderr(&mismatch));
    assert!(
        stderr(&mismatch).starts_with("error: audit_head_mismatch: "),
        "{}",
        stderr(&mismatch)
    );

    let bad_id = captoken(dir.path(), &["revoke", "--db", db_arg, "not-an-id"]);
    assert_eq!(bad_id.status.code(), Some(2));
    assert!(
        stderr(&bad_id).starts_with("error: invalid_value: "),
        "{}",
        stderr(&bad_id)
    );
    let no_db = captoken(dir.path(), &["revoke", "--db", "absent.db", &jti]);
    assert_eq!(no_db.status.code(), Some(2));
    assert!(!dir.path().join("absent.db").exists());
    let no_audit = captoken(dir.path(), &["audit", "verify", "--db", "absent.db"]);
    assert_eq!(no_audit.status.code(), Some(2));
    assert!(
        stderr(&no_audit).starts_with("error: not_a_store: "),
        "{}",
        stderr(&no_audit)
    );
}

#[test]
fn help_teaches_with_examples_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        &["audit", "verify", "--help"][..],
        &["revoke", "--help"],
        &["policy", "explain", "--help"],
        &["policy", "check", "--help"],
    ] {
        let help = ok(captoken(dir.path(), command));
        assert!(help.contains("Example"), "{command:?}: {help}");
        assert!(help.contains("Exit status"), "{command:?}: {help}");
    }
    let help = ok(captoken(dir.path(), &["delegate", "--help"]));
    assert!(help.contains("delegation_escalation"), "{help}");
}

#[test]
fn keygen_rotate_replaces_the_key_and_retires_the_old_one_publicly() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("captoken-cli-rotate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("keys")).unwrap();

    // Nothing to rotate yet.
    let none = captoken(&dir, &["keygen", "--rotate", "--key-dir", "keys"]);
    assert_eq!(none.status.code(), Some(2), "{}", stderr(&none));
    assert!(
        stderr(&none).starts_with("error: bad_signing_key: "),
        "{}",
        stderr(&none)
    );
    // --out and --rotate are two different commands.
    let both = captoken(&dir, &["keygen", "--rotate", "--out", "x.jwk"]);
    assert_eq!(both.status.code(), Some(2));

    let jwks: Value = serde_json::from_str(&ok(captoken(
        &dir,
        &["keygen", "--out", "keys/signing.jwk"],
    )))
    .unwrap();
    let old_kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let printed = ok(captoken(
        &dir,
        &[
            "keygen",
            "--rotate",
            "--key-dir",
            "keys",
            "--retire-after",
            "600",
        ],
    ));
    assert!(
        printed.contains(&format!("retired key     {old_kid} (verifies until ")),
        "{printed}"
    );
    let key: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("keys/signing.jwk")).unwrap())
            .unwrap();
    assert!(key.get("d").is_some());
    let new_public = ok(captoken(&dir, &["jwks", "--key", "keys/signing.jwk"]));
    let new_kid = serde_json::from_str::<Value>(&new_public).unwrap()["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_kid, old_kid);
    assert!(
        printed.contains(&format!("new signing key {new_kid}")),
        "{printed}"
    );
    let retired: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("keys/retired.jwks")).unwrap())
            .unwrap();
    let retired = &retired["keys"][0];
    assert_eq!(retired["kid"], old_kid.as_str());
    assert_eq!(retired["x"], jwks["keys"][0]["x"]);
    assert!(retired.get("d").is_none());
    assert!(retired["exp"].as_i64().unwrap() > 0);
}
