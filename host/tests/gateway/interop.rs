//! Interop both ways with the JWT libraries users already run: tokens the
//! gateway and the npm package issue verify as EdDSA JWTs in jose (Node),
//! PyJWT + cryptography (Python) and jsonwebtoken (Rust), against the JWKS
//! the gateway serves; tokens those libraries sign with captoken's header
//! and claims verify in the gateway and in the npm package.
//!
//! Node runs `tests/interop/jose.mjs`, Python `tests/interop/pyjwt_interop.py`
//! in the virtual environment `scripts/setup.sh` makes (target/interop-venv);
//! without it these tests fail, they never skip.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use captoken_core::b64;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

use super::support::*;

const ISSUER: &str = "urn:captoken:gateway";
const AUDIENCE: &str = "captoken";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Run one command through a helper program: its JSON answer.
fn helper(program: &mut Command, command: &Value) -> Value {
    let mut child = program
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program:?}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(command.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{program:?} failed on {command}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{program:?} answered no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn node(command: &Value) -> Value {
    helper(
        Command::new("node").arg(repo().join("tests/interop/jose.mjs")),
        command,
    )
}

fn python(command: &Value) -> Value {
    let python = repo().join("target/interop-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh (it makes the interop virtual environment)",
        python.display()
    );
    helper(
        Command::new(python).arg(repo().join("tests/interop/pyjwt_interop.py")),
        command,
    )
}

/// jsonwebtoken's verification of `token` against `jwks`: the claims, or
/// its refusal.
fn jsonwebtoken_verify(jwks: &Value, token: &str) -> Result<Value, String> {
    let set: JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    if header.typ.as_deref() != Some("captoken+jwt") {
        return Err(format!("typ {:?}", header.typ));
    }
    let jwk: &Jwk = header
        .kid
        .as_deref()
        .and_then(|kid| set.find(kid))
        .ok_or("no key for the kid")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

/// jsonwebtoken's signature over `header` and `claims` with an Ed25519
/// private JWK (its PKCS#8 form: the fixed prefix, then the seed).
fn jsonwebtoken_sign(private_jwk: &Value, kid: &str, claims: &Value) -> String {
    let seed = b64::decode(private_jwk["d"].as_str().unwrap().as_bytes()).unwrap();
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some("captoken+jwt".to_owned());
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&der)).unwrap()
}

/// The claims of a captoken token (docs/FORMAT.md), for a library to sign.
fn captoken_claims(sub: &str, holder_jwk: &Value) -> Value {
    let now = captoken_host::now();
    json!({
        "ver": 1, "iss": ISSUER, "sub": sub, "aud": AUDIENCE,
        "iat": now, "nbf": now, "exp": now + 300,
        "jti": b64::encode(&captoken_host::entropy::<16>().unwrap()),
        "cnf": { "jwk": holder_jwk },
        "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }],
    })
}

fn refused(answer: &Value) -> bool {
    answer.get("refused").is_some()
}

/// A token with its payload's last character changed: same shape, bad
/// signature (each library must refuse it, or its "yes" means nothing).
fn tampered(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let payload = b64::decode(parts[1].as_bytes()).unwrap();
    let mut claims: Value = serde_json::from_slice(&payload).unwrap();
    claims["sub"] = json!("someone-else");
    parts[1] = b64::encode(claims.to_string().as_bytes());
    parts.join(".")
}

#[test]
fn gateway_tokens_verify_in_jose_pyjwt_and_jsonwebtoken_against_the_served_jwks() {
    let dir = temp_dir("interop-verify");
    let mut server = spawn_binary(&dir);
    let (_, holder_public) = holder(71);
    let issued = issue(server.addr, "operator-interop", &holder_public);
    let token = text(&issued, "token");
    let jwks_url = format!("http://{}/.well-known/jwks.json", server.addr);
    let jwks = get(server.addr, "/.well-known/jwks.json", false).json();
    let check = |who: &str, answer: &Value| {
        assert!(!refused(answer), "{who} refused a gateway token: {answer}");
        assert_eq!(answer["payload"]["sub"], "operator-interop", "{who}");
        assert_eq!(answer["payload"]["jti"], issued["jti"], "{who}");
        assert_eq!(answer["header"]["kid"], issued["kid"], "{who}");
    };

    // Each library fetches the served JWKS itself.
    let cmd = |token: &str| json!({ "do": "verify", "jwks_url": jwks_url, "token": token, "issuer": ISSUER, "audience": AUDIENCE });
    check("jose (remote JWKS)", &node(&cmd(&token)));
    check("PyJWT (PyJWKClient)", &python(&cmd(&token)));
    let claims = jsonwebtoken_verify(&jwks, &token).unwrap();
    assert_eq!(claims["sub"], "operator-interop");

    // And each refuses what it must: a changed payload, another audience.
    let bad = tampered(&token);
    assert!(
        refused(&node(&cmd(&bad))),
        "jose accepted a changed payload"
    );
    assert!(
        refused(&python(&cmd(&bad))),
        "PyJWT accepted a changed payload"
    );
    assert!(jsonwebtoken_verify(&jwks, &bad).is_err());
    let elsewhere = json!({ "do": "verify", "jwks_url": jwks_url, "token": token, "issuer": ISSUER, "audience": "elsewhere" });
    assert!(refused(&node(&elsewhere)), "jose ignored the audience");
    assert!(refused(&python(&elsewhere)), "PyJWT ignored the audience");

    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[test]
fn tokens_jose_pyjwt_and_jsonwebtoken_sign_verify_in_the_gateway() {
    let dir = temp_dir("interop-sign");
    let mut server = spawn_binary(&dir);
    // The gateway's own signing key, as a deployment that signs elsewhere
    // with the same key would hold it.
    let key_file = dir.join("captoken-data/keys/signing.jwk");
    let private_jwk: Value =
        serde_json::from_str(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    let kid = get(server.addr, "/.well-known/jwks.json", false).json()["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let header = json!({ "alg": "EdDSA", "typ": "captoken+jwt", "kid": kid });
    let (_, holder_public) = holder(72);
    let signed = [
        (
            "jose",
            text(
                &node(
                    &json!({ "do": "sign", "private_jwk": private_jwk, "header": header, "claims": captoken_claims("by-jose", &holder_public) }),
                ),
                "token",
            ),
        ),
        (
            "PyJWT",
            text(
                &python(
                    &json!({ "do": "sign", "private_jwk": private_jwk, "header": header, "claims": captoken_claims("by-pyjwt", &holder_public) }),
                ),
                "token",
            ),
        ),
        (
            "jsonwebtoken",
            jsonwebtoken_sign(
                &private_jwk,
                &kid,
                &captoken_claims("by-jsonwebtoken", &holder_public),
            ),
        ),
    ];
    for (who, token) in &signed {
        let reply = verify(server.addr, token);
        assert_eq!(
            reply.status,
            200,
            "{who}'s token: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let sub = reply.json()["claims"]["sub"].clone();
        assert!(sub.as_str().unwrap().starts_with("by-"), "{who}: {sub}");
        // Its payload changed after signing: refused.
        let forged = tampered(token);
        verify(server.addr, &forged).expect_error(401, "bad_signature");
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[test]
fn npm_tokens_verify_in_the_libraries_and_theirs_in_npm() {
    let (issuer_private, _) = holder(73);
    let (_, holder_public) = holder(74);
    let issued = node(&json!({
        "do": "npm-issue", "private_jwk": issuer_private, "issuer": ISSUER, "ttl": 300,
        "claims": { "sub": "npm-issued", "aud": AUDIENCE, "cnf": { "jwk": holder_public },
                    "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }] },
    }));
    let token = text(&issued, "token");
    let jwks = issued["jwks"].clone();
    let cmd = json!({ "do": "verify", "jwks": jwks, "token": token, "issuer": ISSUER, "audience": AUDIENCE });
    for (who, answer) in [("jose", node(&cmd)), ("PyJWT", python(&cmd))] {
        assert!(!refused(&answer), "{who} refused an npm token: {answer}");
        assert_eq!(answer["payload"]["sub"], "npm-issued", "{who}");
    }
    assert_eq!(
        jsonwebtoken_verify(&jwks, &token).unwrap()["sub"],
        "npm-issued"
    );

    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let header = json!({ "alg": "EdDSA", "typ": "captoken+jwt", "kid": kid });
    let sign = |claims: Value| json!({ "do": "sign", "private_jwk": issuer_private, "header": header, "claims": claims });
    let signed = [
        (
            "jose",
            text(
                &node(&sign(captoken_claims("by-jose", &holder_public))),
                "token",
            ),
        ),
        (
            "PyJWT",
            text(
                &python(&sign(captoken_claims("by-pyjwt", &holder_public))),
                "token",
            ),
        ),
        (
            "jsonwebtoken",
            jsonwebtoken_sign(
                &issuer_private,
                &kid,
                &captoken_claims("by-jsonwebtoken", &holder_public),
            ),
        ),
    ];
    for (who, token) in &signed {
        let check = |token: &str| {
            node(
                &json!({ "do": "npm-verify", "jwks": jwks, "token": token, "issuer": ISSUER, "audience": AUDIENCE }),
            )
        };
        let answer = check(token);
        assert!(!refused(&answer), "npm refused {who}'s token: {answer}");
        assert!(answer["claims"]["sub"].as_str().unwrap().starts_with("by-"));
        assert!(
            refused(&check(&tampered(token))),
            "npm accepted a changed {who} token"
        );
    }
}
