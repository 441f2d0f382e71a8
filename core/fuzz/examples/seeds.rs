//! Writes the fuzz targets' seed corpora: `seeds <dir>` makes
//! `<dir>/<target>/` for every target, from the same fixed keys and shapes
//! the tests use (a token, a delegation chain, a key set, a policy, a
//! signed revocation list, a proof, an audit chain, one valid request per
//! operation). Regenerated on every run, never committed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use captoken_core::b64;
use captoken_core::json::{Map, Value};
use captoken_core::ops::OPERATIONS;
use captoken_fuzz::{AUD, ISS, NOW, doc, jwks, key, ok, token, trust};

const POLICY: &str = r#"{"version": 1, "max_ttl": 3600, "rules": [
  {"id": "operators-drive", "effect": "allow", "subjects": {"patterns": ["operator-*"]},
   "capabilities": [{"actions": ["drive", "stop"], "resources": ["robot:*"]}],
   "required_constraints": {"max_purchase": 0}, "max_ttl": 600},
  {"id": "agents-never-pii", "effect": "deny", "subjects": {"patterns": ["agent-*"]},
   "capabilities": [{"actions": ["*"], "resources": ["pii:*"]}]},
  {"id": "everyone-reads", "effect": "allow", "subjects": {"patterns": ["*"]},
   "capabilities": [{"actions": ["read"], "resources": ["doc:*"]}]}]}"#;

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn with(mut map: Map, members: &[(&str, Value)]) -> Value {
    for (name, value) in members {
        map.insert((*name).into(), value.clone());
    }
    Value::Object(map)
}

fn main() {
    let out = std::env::args().nth(1).expect("usage: seeds <dir>");
    let out = Path::new(&out);
    let token = token();
    let entropy = |n: u8| Value::String(b64::encode(&[n; 16]));
    let child = ok("delegate", &with(trust(), &[
        ("parent", token.clone().into()),
        ("key", key(2)["private_jwk"].clone()),
        ("ttl", Value::from(60u64)),
        ("entropy", entropy(4)),
        ("claims", doc(&format!(
            r#"{{"sub": "helper", "aud": "{AUD}", "cnf": {{"jwk": {}}},
                "caps": [{{"actions": ["stop"], "resources": ["robot:7"], "constraints": {{"max_purchase": 5}}}}]}}"#,
            key(3)["public_jwk"]
        ))),
    ]))["token"].as_str().unwrap().to_owned();
    let list = ok(
        "revocation_list_sign",
        &doc(&format!(
            r#"{{"key": {}, "list": {{"iss": "{ISS}", "seq": 4, "iat": {NOW}, "next_update": {},
            "revoked": [{{"jti": "{}", "revoked_at": {NOW}, "reason": "lost"}}]}}}}"#,
            key(1)["private_jwk"],
            NOW + 300,
            b64::encode(&[9; 16])
        )),
    )["list"]
        .as_str()
        .unwrap()
        .to_owned();
    let proof = ok(
        "pop_create",
        &doc(&format!(
            r#"{{"key": {}, "token": "{token}", "audience": "svc", "now": {}, "entropy": "{}"}}"#,
            key(2)["private_jwk"],
            NOW + 1,
            b64::encode(&[5; 16])
        )),
    )["proof"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut records = Vec::new();
    let mut last: Option<Value> = None;
    for (i, event) in [
        "token_issued",
        "token_revoked",
        "agent.delegation.attempted",
    ]
    .iter()
    .enumerate()
    {
        let data = match *event {
            "token_issued" => doc(
                r#"{"jti": "AAAAAAAAAAAAAAAAAAAAAA", "sub": "operator-1", "aud": "robot-gateway", "exp": 1700000300}"#,
            ),
            "token_revoked" => doc(r#"{"id": "AAAAAAAAAAAAAAAAAAAAAA", "reason": "lost"}"#),
            _ => doc(
                r#"{"parent_id": "AAAAAAAAAAAAAAAAAAAAAA", "sub": "helper", "code": "delegation_escalation"}"#,
            ),
        };
        let mut request = Map::new();
        if let Some(last) = &last {
            request.insert("last".into(), last.clone());
        }
        let record = ok(
            "audit_append",
            &with(
                request,
                &[
                    ("time", Value::from(NOW + i as i64)),
                    ("event", (*event).into()),
                    ("data", data),
                ],
            ),
        );
        records.push(record.clone());
        last = Some(record);
    }
    let chain = Value::Array(records);
    let policy = doc(POLICY);

    for text in [
        POLICY.to_owned(),
        jwks().to_string(),
        chain.to_string(),
        r#"{"a": [1, -0, 1.5e300, 18446744073709551616, "\ud83d\ude00", null, true]}"#.to_owned(),
    ] {
        write(
            out,
            "json",
            &format!("{:016x}", text.len()),
            text.as_bytes(),
        );
    }
    for (i, text) in ["", "AA", "AAA", "_-8", &token[..40]].iter().enumerate() {
        write(out, "b64", &format!("seed-{i}"), text.as_bytes());
    }
    for (name, text) in [("token", &token), ("chain", &child)] {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(text.as_bytes());
        write(out, "token", name, &bytes);
    }
    write(out, "token", "splice", b"\x41x.y");
    write(out, "jwks", "jwks", jwks().to_string().as_bytes());
    write(
        out,
        "jwks",
        "private",
        key(1)["private_jwk"].to_string().as_bytes(),
    );
    write(out, "policy", "sample", POLICY.as_bytes());
    write(out, "revocation_list", "list", list.as_bytes());
    write(out, "pop", "proof", proof.as_bytes());
    write(out, "audit", "chain", chain.to_string().as_bytes());

    // A status list of 4096 tokens, three revoked; and zlib streams: its
    // bits as the module writes them, and stored, fixed and dynamic blocks.
    let status = ok(
        "status_list_sign",
        &doc(&format!(
            r#"{{"key": {}, "list": {{"iss": "{ISS}", "sub": "https://g/s/0", "iat": {NOW}, "exp": {},
            "size": 4096, "revoked": [0, 9, 4095]}}}}"#,
            key(1)["private_jwk"],
            NOW + 300
        )),
    )["list"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut bits = vec![0u8; 512];
    bits[1] = 2;
    bits[511] = 0x80;
    write(
        out,
        "zlib",
        "status-bits",
        &captoken_core::zlib::compress(&bits),
    );
    write(
        out,
        "zlib",
        "stored",
        &[
            0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff, 0x61, 0x62, 0x01, 0x26, 0x00, 0xc4,
        ],
    );
    write(out, "zlib", "empty", &captoken_core::zlib::compress(&[]));

    // One valid request per operation, as `ops_call` reads it.
    let requests: Vec<(&str, Value)> = vec![
        ("info", doc("{}")),
        (
            "keygen",
            doc(&format!(r#"{{"seed": "{}"}}"#, b64::encode(&[1; 32]))),
        ),
        (
            "issue",
            doc(&format!(
                r#"{{"key": {}, "issuer": "{ISS}", "now": {NOW}, "ttl": 60, "entropy": "{}",
                "claims": {{"sub": "s", "aud": "{AUD}", "cnf": {{"jwk": {}}}, "caps": [{{"actions": ["a"], "resources": ["r"]}}]}}}}"#,
                key(1)["private_jwk"],
                b64::encode(&[3; 16]),
                key(2)["public_jwk"]
            )),
        ),
        ("verify", with(trust(), &[("token", child.clone().into())])),
        (
            "authorize",
            with(
                trust(),
                &[
                    ("token", token.clone().into()),
                    (
                        "request",
                        doc(
                            r#"{"action": "drive", "resource": "robot:7", "context": {"purchase_amount": 1}}"#,
                        ),
                    ),
                ],
            ),
        ),
        (
            "scope_meet",
            doc(
                r#"{"a": [{"actions": ["*"], "resources": ["robot:*"], "constraints": {"max_purchase": 10}}],
                              "b": [{"actions": ["drive"], "resources": ["robot:7"]}]}"#,
            ),
        ),
        (
            "policy_check",
            with(Map::new(), &[("policy", policy.clone())]),
        ),
        (
            "policy_evaluate",
            with(
                Map::new(),
                &[
                    ("policy", policy.clone()),
                    (
                        "request",
                        doc(
                            r#"{"subject": {"id": "operator-1"}, "capabilities": [{"actions": ["drive"], "resources": ["robot:7"]}], "ttl": 900}"#,
                        ),
                    ),
                ],
            ),
        ),
        (
            "revocation_list_verify",
            with(
                Map::new(),
                &[
                    ("list", list.clone().into()),
                    ("jwks", jwks()),
                    ("issuer", ISS.into()),
                    ("now", Value::from(NOW)),
                ],
            ),
        ),
        (
            "status_list_verify",
            with(
                Map::new(),
                &[
                    ("list", status.clone().into()),
                    ("jwks", jwks()),
                    ("issuer", ISS.into()),
                    ("uri", "https://g/s/0".into()),
                    ("now", Value::from(NOW)),
                    ("idx", Value::from(9u64)),
                ],
            ),
        ),
        (
            "pop_verify",
            with(
                trust(),
                &[
                    ("token", token.clone().into()),
                    ("proof", proof.clone().into()),
                    ("pop_audience", "svc".into()),
                ],
            ),
        ),
        (
            "audit_verify",
            with(Map::new(), &[("records", chain.clone())]),
        ),
        (
            "refresh",
            with(
                trust(),
                &[
                    ("token", token.clone().into()),
                    ("key", key(1)["private_jwk"].clone()),
                    ("policy", policy.clone()),
                    ("ttl", Value::from(60u64)),
                    ("entropy", entropy(6)),
                ],
            ),
        ),
    ];
    for (op, request) in requests {
        // Each is a request the operation accepts, so runs start from
        // the success paths.
        ok(op, &request);
        let id = OPERATIONS
            .iter()
            .position(|o| o.name == op)
            .expect("an operation") as u8;
        let request = request.to_vec();
        let mut bytes = vec![id];
        bytes.extend_from_slice(&request);
        write(out, "ops_call", op, &bytes);

        // The raw ABI target (host/runtime/fuzz) reads a script of steps
        // `[tag][len: u16 LE][payload]`, `tag & 7` the step, `tag >> 3` the
        // operation: the request as a whole call; then kept in a buffer,
        // called through, overwritten with itself, called again and freed.
        let step = |tag: u8, payload: &[u8]| {
            let mut step = vec![tag];
            step.extend_from_slice(&(payload.len() as u16).to_le_bytes());
            step.extend_from_slice(payload);
            step
        };
        write(out, "abi", op, &step(id << 3, &request));
        let mut script = step(1, &request);
        script.extend(step((id << 3) | 2, &[0; 8]));
        let mut rewrite = vec![0; 8];
        rewrite.extend_from_slice(&request);
        script.extend(step(5, &rewrite));
        script.extend(step((id << 3) | 2, &[0; 8]));
        script.extend(step(4, &[0; 8]));
        write(out, "abi", &format!("{op}-kept"), &script);
    }
}
