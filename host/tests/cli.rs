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
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("captoken-cli-fixture");
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
