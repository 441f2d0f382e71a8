//! What the revocation-list, proof-of-possession, audit and refresh
//! operations answer, read through the operations table as every host
//! calls them. (That all hosts answer alike is `tests/vectors/`, replayed by four runners.)
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use captoken_core::b64;
use captoken_core::json::Value;
use captoken_core::ops::call_named;

mod lit;
use lit::json;

mod common;
use common::{AUD, ISS, NOW, op_call as call, op_key as key, op_ok as ok};

fn jwks() -> Value {
    json!({ "keys": [key(1)["public_jwk"]] })
}

fn token() -> (String, String) {
    let issued = ok(
        "issue",
        &json!({
            "key": key(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300,
            "entropy": b64::encode(&[3; 16]),
            "claims": { "sub": "principal-2", "aud": AUD, "cnf": { "jwk": key(2)["public_jwk"] },
                        "caps": [{ "actions": ["drive", "stop"], "resources": ["robot:7"] }] }
        }),
    );
    (
        issued["token"].as_str().unwrap().into(),
        issued["jti"].as_str().unwrap().into(),
    )
}

fn trust(token: &str, now: i64) -> Value {
    json!({ "token": token, "jwks": jwks(), "issuer": ISS, "audience": AUD, "now": now })
}

#[test]
fn a_revocation_list_reads_back_sorted_and_says_when_it_is_stale() {
    let (a, b) = (b64::encode(&[0xa; 16]), b64::encode(&[0xb; 16]));
    let signed = ok(
        "revocation_list_sign",
        &json!({ "key": key(1)["private_jwk"], "list": {
        "iss": ISS, "seq": 7, "iat": NOW, "next_update": NOW + 60,
        "revoked": [{ "jti": b, "revoked_at": NOW - 1 }, { "jti": a, "revoked_at": NOW - 2, "reason": "lost" }] } }),
    );
    assert_eq!(signed["kid"], key(1)["kid"]);
    let verify = |now: i64| {
        ok(
            "revocation_list_verify",
            &json!({ "list": signed["list"], "jwks": jwks(), "issuer": ISS, "now": now }),
        )
    };
    let fresh = verify(NOW + 59);
    assert_eq!(fresh["status"], "fresh");
    assert!(fresh["stale_since"].is_null());
    assert_eq!(fresh["seq"], 7u64);
    assert_eq!(fresh["kid"], key(1)["kid"]);
    assert_eq!(
        fresh["revoked"],
        json!([{ "jti": a, "revoked_at": NOW - 2, "reason": "lost" }, { "jti": b, "revoked_at": NOW - 1 }])
    );
    let stale = verify(NOW + 60);
    assert_eq!(stale["status"], "stale");
    assert_eq!(stale["stale_since"], NOW + 60);
    // The same list, another issuer's name for it: refused.
    let err = call(
        "revocation_list_verify",
        &json!({ "list": signed["list"], "jwks": jwks(), "issuer": "https://other", "now": NOW }),
    )
    .unwrap_err();
    assert_eq!(err, "bad_issuer");
}

#[test]
fn a_proof_names_the_replay_record_the_host_must_keep() {
    let (token, token_jti) = token();
    let proof = ok(
        "pop_create",
        &json!({
        "key": key(2)["private_jwk"], "token": token, "audience": "svc", "request_hash": "h1",
        "now": NOW + 10, "entropy": b64::encode(&[5; 16]) }),
    )["proof"]
        .clone();
    let mut req = trust(&token, NOW + 20);
    req["proof"] = proof;
    req["pop_audience"] = json!("svc");
    req["request_hash"] = json!("h1");
    req["max_age"] = json!(30);
    let out = ok("pop_verify", &req);
    let jti = b64::encode(&[5; 16]);
    assert_eq!(out["jti"], jti.as_str());
    assert_eq!(out["token_jti"], token_jti.as_str());
    assert_eq!(out["iat"], NOW + 10);
    assert_eq!(out["sub"], "principal-2");
    assert_eq!(out["request_hash"], "h1");
    let replay_key = format!("pop:{}:{jti}", key(2)["kid"].as_str().unwrap());
    assert_eq!(out["replay"], json!({ "key": replay_key, "exp": NOW + 40 }));

    // Recorded by the host, the same proof is refused; another proof isn't.
    req["seen"] = json!([replay_key]);
    assert_eq!(call("pop_verify", &req).unwrap_err(), "replayed");
    req["seen"] = json!(["pop:other:key"]);
    ok("pop_verify", &req);
    // Past max_age, and bound to another request: refused.
    req["now"] = json!(NOW + 40);
    assert_eq!(call("pop_verify", &req).unwrap_err(), "pop_stale");
    req["now"] = json!(NOW + 20);
    req["request_hash"] = json!("h2");
    assert_eq!(
        call("pop_verify", &req).unwrap_err(),
        "pop_request_mismatch"
    );
    req["request_hash"] = json!("h1");
    req["max_age"] = json!(301);
    assert_eq!(call("pop_verify", &req).unwrap_err(), "bad_request");
}

#[test]
fn audit_verify_resumes_after_a_verified_record_and_names_the_seq_that_broke() {
    let mut records: Vec<Value> = Vec::new();
    for i in 0..6u64 {
        let mut req =
            json!({ "time": NOW + i as i64, "event": "token_revoked", "data": { "n": i } });
        if let Some(last) = records.last() {
            req["last"] = last.clone();
        }
        records.push(ok("audit_append", &req));
    }
    let verify = |request: Value| -> Result<Value, Value> {
        captoken_core::ops::call_named("audit_verify", &request.to_vec())
            .map(|out| captoken_core::json::parse(&out, 64).unwrap())
            .map_err(|err| captoken_core::json::parse(&err.to_json(), 64).unwrap())
    };
    // The start, then the rest after it: each join is the module's check.
    let first = verify(json!({ "records": records[..3], "genesis": true })).unwrap();
    assert_eq!(
        (first["first_seq"].as_u64(), first["last_seq"].as_u64()),
        (Some(0), Some(2))
    );
    let after = json!({ "seq": first["last_seq"], "hash": first["head"] });
    let rest = verify(json!({ "records": records[3..], "after": after })).unwrap();
    assert_eq!(
        (rest["first_seq"].as_u64(), rest["count"].as_u64()),
        (Some(3), Some(3))
    );

    // A segment that skips a record, or links elsewhere, after the one
    // verified: refused, with the seq where it broke.
    let err = verify(json!({ "records": records[4..], "after": after })).unwrap_err();
    assert_eq!(
        (err["code"].as_str(), err["seq"].as_u64()),
        (Some("audit_bad_sequence"), Some(3))
    );
    let elsewhere = json!({ "seq": 2, "hash": records[1]["hash"] });
    let err = verify(json!({ "records": records[3..], "after": elsewhere })).unwrap_err();
    assert_eq!(
        (err["code"].as_str(), err["seq"].as_u64()),
        (Some("audit_broken_link"), Some(3))
    );
    // A whole chain must start at 0: a log missing its first records is
    // refused as a whole, though as a segment it is intact.
    verify(json!({ "records": records[2..] })).unwrap();
    let err = verify(json!({ "records": records[2..], "genesis": true })).unwrap_err();
    assert_eq!(
        (err["code"].as_str(), err["seq"].as_u64()),
        (Some("audit_bad_sequence"), Some(0))
    );
    // An edited record: the seq is in the error, wherever it is.
    let mut edited = records.clone();
    edited[4]["data"]["n"] = json!(40);
    let err = verify(json!({ "records": edited, "genesis": true })).unwrap_err();
    assert_eq!(
        (err["code"].as_str(), err["seq"].as_u64()),
        (Some("audit_bad_hash"), Some(4))
    );
    // Nothing after the last record proves nothing; both starts, or a
    // malformed one, are the caller's mistake.
    let err = verify(json!({ "records": [], "after": after })).unwrap_err();
    assert_eq!(err["code"], "audit_empty_chain");
    for bad in [
        json!({ "records": records, "genesis": true, "after": after }),
        json!({ "records": records, "genesis": "yes" }),
        json!({ "records": records, "after": { "seq": 1 } }),
        json!({ "records": records, "after": [2, "h"] }),
    ] {
        assert_eq!(verify(bad).unwrap_err()["code"], "bad_request");
    }
}

#[test]
fn appended_records_form_a_chain_that_verifies_and_any_edit_breaks() {
    let mut records = Vec::new();
    let mut last: Option<Value> = None;
    for (i, event) in [
        "token_issued",
        "agent.capability.granted",
        "agent.delegation.attempted",
        "token_revoked",
    ]
    .into_iter()
    .enumerate()
    {
        let mut req = json!({ "time": NOW + i as i64, "event": event, "data": { "n": i } });
        if let Some(last) = &last {
            req["last"] = last.clone();
        }
        let record = ok("audit_append", &req);
        assert_eq!(record["seq"], i as u64);
        if let Some(last) = &last {
            assert_eq!(record["prev"], last["hash"]);
        }
        records.push(record.clone());
        last = Some(record);
    }
    let summary = ok(
        "audit_verify",
        &json!({ "records": records, "head": records[3]["hash"] }),
    );
    assert_eq!(summary["count"], 4u64);
    assert_eq!(summary["last_seq"], 3u64);
    assert_eq!(summary["head"], records[3]["hash"]);

    let mut edited = records.clone();
    edited[1]["data"]["n"] = json!(7);
    assert_eq!(
        call("audit_verify", &json!({ "records": edited })).unwrap_err(),
        "audit_bad_hash"
    );
    let mut dropped = records.clone();
    dropped.remove(2);
    assert_eq!(
        call("audit_verify", &json!({ "records": dropped })).unwrap_err(),
        "audit_bad_sequence"
    );
}

#[test]
fn refresh_goes_through_the_policy_again_and_never_widens() {
    let (token, jti) = token();
    let policy = json!({ "version": 1, "max_ttl": 120, "rules": [
        { "id": "drivers", "effect": "allow", "subjects": { "ids": ["principal-2"] },
          "capabilities": [{ "actions": ["drive", "fly"], "resources": ["robot:*"] }],
          "required_constraints": { "max_purchase": 0 } } ] });
    let mut req = trust(&token, NOW + 100);
    req["key"] = key(1)["private_jwk"].clone();
    req["policy"] = policy;
    req["ttl"] = json!(3600);
    req["entropy"] = json!(b64::encode(&[9; 16]));
    let out = ok("refresh", &req);
    assert_eq!(out["replaces"], jti.as_str());
    assert_eq!(out["iat"], NOW + 100);
    assert_eq!(out["exp"], NOW + 100 + 120, "the policy caps the lifetime");
    // drive+stop on robot:7 held, drive+fly on robot:* allowed: drive on
    // robot:7 only, with the policy's constraint merged in.
    assert_eq!(
        out["caps"],
        json!([{ "actions": ["drive"], "resources": ["robot:7"], "constraints": { "max_purchase": 0 } }])
    );
    // The new token verifies; signed by another key it would not refresh.
    let verified = ok("verify", &trust(out["token"].as_str().unwrap(), NOW + 101));
    assert_eq!(verified["claims"]["sub"], "principal-2");
    req["key"] = key(3)["private_jwk"].clone();
    let new_token = call("refresh", &req).unwrap();
    assert_eq!(
        call(
            "verify",
            &trust(new_token["token"].as_str().unwrap(), NOW + 101)
        )
        .unwrap_err(),
        "unknown_kid"
    );
}

#[test]
fn verify_checks_a_proof_in_the_same_call_as_pop_verify_would() {
    let (token, _) = token();
    let make = |audience: &str, n: u8| {
        ok(
            "pop_create",
            &json!({ "key": key(2)["private_jwk"], "token": token, "audience": audience,
                     "nonce": "n1", "now": NOW + 10, "entropy": b64::encode(&[n; 16]) }),
        )["proof"]
            .clone()
    };
    // For this verifier by default: the audience the token is verified for.
    let proof = make(AUD, 5);
    let mut req = trust(&token, NOW + 20);
    req["proof"] = json!({ "proof": proof, "nonce": "n1" });
    let out = ok("verify", &req);
    let alone = ok("verify", &trust(&token, NOW + 20));
    let mut separate = trust(&token, NOW + 20);
    separate["proof"] = proof.clone();
    separate["pop_audience"] = json!(AUD);
    separate["nonce"] = json!("n1");
    let popped = ok("pop_verify", &separate);
    // Everything verify says (but how long its answer holds: with a proof
    // it depends on the proof's age too, and is left out), and the proof as
    // pop_verify says it.
    for (member, value) in alone.as_object().unwrap() {
        if member.starts_with("valid_") {
            assert!(out.get(member.as_str()).is_none(), "{member} with a proof");
            continue;
        }
        assert_eq!(&out[member.as_str()], value, "{member}");
    }
    for member in [
        "kid",
        "jti",
        "iat",
        "aud",
        "nonce",
        "request_hash",
        "replay",
    ] {
        assert_eq!(out["proof"][member], popped[member], "{member}");
    }
    assert_eq!(out["proof"]["aud"], AUD);

    // Refusals are pop_verify's: another audience, the replay key held, a
    // nonce not asked for, a member it does not know.
    let other = make("svc", 6);
    req["proof"] = json!({ "proof": other, "nonce": "n1" });
    assert_eq!(call("verify", &req).unwrap_err(), "pop_bad_audience");
    req["proof"] = json!({ "proof": other, "nonce": "n1", "audience": "svc" });
    ok("verify", &req);
    req["proof"] = json!({ "proof": proof, "nonce": "n1", "seen": [popped["replay"]["key"]] });
    assert_eq!(call("verify", &req).unwrap_err(), "replayed");
    req["proof"] = json!({ "proof": proof, "nonce": "n2" });
    assert_eq!(call("verify", &req).unwrap_err(), "pop_nonce_mismatch");
    req["proof"] = json!({ "proof": proof, "nonse": "n1" });
    assert_eq!(call("verify", &req).unwrap_err(), "bad_request");
    req["proof"] = proof;
    assert_eq!(call("verify", &req).unwrap_err(), "bad_request");
    // A token that does not verify is refused before its proof is read.
    let mut late = trust(&token, NOW + 1000);
    late["proof"] = json!({ "proof": "not a proof" });
    assert_eq!(call("verify", &late).unwrap_err(), "expired");
}

#[test]
fn issue_with_a_policy_signs_exactly_what_the_policy_grants_in_one_call() {
    let policy = json!({ "version": 1, "max_ttl": 120, "rules": [
        { "id": "drivers", "effect": "allow", "subjects": { "attributes": { "role": ["driver"] } },
          "capabilities": [{ "actions": ["drive", "fly"], "resources": ["robot:*"] }],
          "required_constraints": { "max_purchase": 0 } },
        { "id": "no-robot-9", "effect": "deny", "subjects": { "ids": ["principal-9"] },
          "capabilities": [{ "actions": ["*"], "resources": ["robot:9"] }] } ] });
    let claims = |sub: &str, resource: &str| {
        json!({ "sub": sub, "aud": AUD, "cnf": { "jwk": key(2)["public_jwk"] },
                "caps": [{ "actions": ["drive", "stop"], "resources": [resource] }] })
    };
    let request = |sub: &str, resource: &str| {
        json!({ "key": key(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 3600,
                "entropy": b64::encode(&[4; 16]), "claims": claims(sub, resource),
                "policy": policy, "attributes": { "role": "driver" } })
    };

    // Granted: the decision's members beside the token, and the token is
    // byte for byte the one policy_evaluate then issue would sign.
    let out = ok("issue", &request("principal-2", "robot:7"));
    let decision = ok(
        "policy_evaluate",
        &json!({ "policy": policy, "request": {
            "subject": { "id": "principal-2", "attributes": { "role": "driver" } },
            "capabilities": claims("principal-2", "robot:7")["caps"], "ttl": 3600 } }),
    );
    assert_eq!(decision["decision"], "granted");
    for member in [
        "decision",
        "capabilities",
        "ttl",
        "matched_rules",
        "narrowed",
    ] {
        assert_eq!(out[member], decision[member], "{member}");
    }
    assert_eq!(out["exp"], NOW + 120, "the policy caps the lifetime");
    let mut two_steps = claims("principal-2", "robot:7");
    two_steps["caps"] = decision["capabilities"].clone();
    let separate = ok(
        "issue",
        &json!({ "key": key(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": decision["ttl"],
                 "entropy": b64::encode(&[4; 16]), "claims": two_steps }),
    );
    assert_eq!(out["token"], separate["token"]);
    assert_eq!(out["audit"], separate["audit"]);

    // Without `ttl`, as long as the policy allows.
    let mut longest = request("principal-2", "robot:7");
    longest.as_object_mut().unwrap().remove("ttl");
    assert_eq!(ok("issue", &longest)["exp"], NOW + 120);

    // Denied: the decision, and nothing signed.
    let denied = ok("issue", &request("principal-9", "robot:9"));
    assert_eq!(denied["decision"], "denied");
    assert_eq!(denied["code"], "denied_by_rule");
    assert_eq!(denied["rule"], "no-robot-9");
    assert!(denied.get("token").is_none() && denied.get("audit").is_none());
    let mut stranger = request("principal-2", "robot:7");
    stranger["attributes"] = json!({ "role": "visitor" });
    assert_eq!(ok("issue", &stranger)["code"], "no_matching_rule");

    // The policy's members mean nothing without a policy, and a lifetime
    // of 0 is no request.
    let mut plain = request("principal-2", "robot:7");
    plain.as_object_mut().unwrap().remove("policy");
    assert_eq!(call("issue", &plain).unwrap_err(), "bad_request");
    let mut zero = request("principal-2", "robot:7");
    zero["ttl"] = json!(0);
    assert_eq!(call("issue", &zero).unwrap_err(), "bad_request");
}

#[test]
fn issuing_delegating_and_refused_delegations_say_what_to_audit() {
    let (token, jti) = token();
    let issued = ok(
        "issue",
        &json!({
            "key": key(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300,
            "entropy": b64::encode(&[3; 16]),
            "claims": { "sub": "principal-2", "aud": AUD, "cnf": { "jwk": key(2)["public_jwk"] },
                        "caps": [{ "actions": ["drive", "stop"], "resources": ["robot:7"] }] }
        }),
    );
    assert_eq!(
        issued["audit"],
        json!({ "event": "token_issued", "data": { "jti": jti, "sub": "principal-2", "exp": NOW + 300,
                "caps": [{ "actions": ["drive", "stop"], "resources": ["robot:7"] }] } })
    );

    let delegate = |caps: Value| {
        let mut req = trust(&token, NOW + 1);
        req.as_object_mut().unwrap().remove("token");
        req["parent"] = json!(token);
        req["key"] = key(2)["private_jwk"].clone();
        req["ttl"] = json!(60);
        req["entropy"] = json!(b64::encode(&[4; 16]));
        req["claims"] = json!({ "sub": "principal-4", "aud": AUD, "cnf": { "jwk": key(4)["public_jwk"] }, "caps": caps });
        req
    };
    let child = ok(
        "delegate",
        &delegate(json!([{ "actions": ["drive"], "resources": ["robot:7"] }])),
    );
    assert_eq!(child["audit"]["event"], "agent.capability.granted");
    // Ids, which revoke; a delegated jti alone names nothing.
    assert_eq!(child["audit"]["data"]["parent_id"], jti.as_str());
    assert_eq!(child["audit"]["data"]["id"], child["id"]);
    assert_eq!(
        child["id"],
        format!("{jti}.{}", child["jti"].as_str().unwrap())
    );
    assert_eq!(child["audit"]["data"]["sub"], "principal-4");

    // The refusal carries its event; so does each kind of refused narrowing.
    let err = call_named(
        "delegate",
        &delegate(json!([{ "actions": ["fly"], "resources": ["robot:7"] }])).to_vec(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "delegation_escalation");
    let body = lit::parse(&err.to_json());
    assert_eq!(
        body["audit"],
        json!({ "event": "agent.delegation.attempted",
                "data": { "parent_id": jti, "sub": "principal-4", "code": "delegation_escalation" } })
    );
    // The event appends as it is.
    let mut append = body["audit"].clone();
    append["time"] = json!(NOW + 1);
    ok("audit_append", &append);

    // A parent that does not verify is not a delegation the log can name.
    let mut bad = delegate(json!([{ "actions": ["drive"], "resources": ["robot:7"] }]));
    bad["now"] = json!(NOW + 400);
    let err = call_named("delegate", &bad.to_vec()).unwrap_err();
    assert_eq!(err.code(), "expired");
    assert!(lit::parse(&err.to_json())["audit"].is_null());
}

/// Sign `input` as an HSM or WebCrypto would: outside the module.
fn sign_outside(n: u8, input: &str) -> String {
    use ed25519_dalek::Signer;
    let key = captoken_core::SigningKey::from_bytes(&[n; 32]);
    b64::encode(&key.sign(input.as_bytes()).to_bytes())
}

/// Run `op` with `"signer"` in place of `"key"`, sign outside, attach.
fn signed_outside(op: &str, mut req: Value, n: u8, member: &str) -> Value {
    let public = key(n)["public_jwk"].clone();
    req.as_object_mut().unwrap().remove("key");
    req["signer"] = json!({ "public_jwk": public });
    let mut out = ok(op, &req);
    assert!(
        out[member].is_null(),
        "{op}: no finished `{member}` without the key"
    );
    let input = out["signing_input"].as_str().unwrap().to_string();
    let mut attach = json!({ "signing_input": input, "signature": sign_outside(n, &input), "public_jwk": public });
    if !out["chain_rest"].is_null() {
        attach["chain_rest"] = out["chain_rest"].clone();
    }
    let done = ok("attach_signature", &attach);
    let obj = out.as_object_mut().unwrap();
    obj.remove("signing_input");
    obj.remove("chain_rest");
    out[member] = done["token"].clone();
    out
}

#[test]
fn a_signer_outside_the_module_gives_the_same_bytes_as_the_key_inside() {
    let issue = json!({
        "key": key(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300,
        "entropy": b64::encode(&[3; 16]),
        "claims": { "sub": "principal-2", "aud": AUD, "cnf": { "jwk": key(2)["public_jwk"] },
                    "caps": [{ "actions": ["drive", "stop"], "resources": ["robot:7"] }] }
    });
    // Ed25519 is deterministic: the same request signed either way is the
    // same token, byte for byte.
    let inside = ok("issue", &issue);
    assert_eq!(signed_outside("issue", issue, 1, "token"), inside);
    let token = inside["token"].as_str().unwrap();

    let mut delegate = trust(token, NOW + 1);
    delegate.as_object_mut().unwrap().remove("token");
    delegate["parent"] = json!(token);
    delegate["key"] = key(2)["private_jwk"].clone();
    delegate["ttl"] = json!(60);
    delegate["entropy"] = json!(b64::encode(&[4; 16]));
    delegate["claims"] = json!({ "sub": "p4", "aud": AUD, "cnf": { "jwk": key(4)["public_jwk"] },
                                 "caps": [{ "actions": ["drive"], "resources": ["robot:7"] }] });
    let inside = ok("delegate", &delegate);
    assert_eq!(
        signed_outside("delegate", delegate.clone(), 2, "token"),
        inside
    );
    ok("verify", &trust(inside["token"].as_str().unwrap(), NOW + 2));

    let pop = json!({ "key": key(2)["private_jwk"], "token": token, "audience": "svc", "now": NOW + 1,
                      "entropy": b64::encode(&[5; 16]) });
    assert_eq!(
        signed_outside("pop_create", pop.clone(), 2, "proof"),
        ok("pop_create", &pop)
    );

    let list = json!({ "key": key(1)["private_jwk"], "list": { "iss": ISS, "seq": 1, "iat": NOW,
                       "next_update": NOW + 60, "revoked": [] } });
    assert_eq!(
        signed_outside("revocation_list_sign", list.clone(), 1, "list"),
        ok("revocation_list_sign", &list)
    );

    // The module refuses what the outside signer got wrong, and a signer
    // that is not the parent's holder is refused before anything is signed.
    let mut req = delegate.clone();
    req.as_object_mut().unwrap().remove("key");
    req["signer"] = json!({ "public_jwk": key(2)["public_jwk"] });
    let out = ok("delegate", &req);
    let input = out["signing_input"].as_str().unwrap();
    let wrong = json!({ "signing_input": input, "signature": sign_outside(3, input), "public_jwk": key(2)["public_jwk"] });
    assert_eq!(
        call("attach_signature", &wrong).unwrap_err(),
        "bad_signature"
    );
    // Signed by a key, but not the one the prepared header names.
    let other = json!({ "signing_input": input, "signature": sign_outside(3, input), "public_jwk": key(3)["public_jwk"] });
    assert_eq!(
        call("attach_signature", &other).unwrap_err(),
        "kid_mismatch"
    );
    // Right signature, but appended to a parent it was not prepared for.
    let mut foreign = json!({ "signing_input": input, "signature": sign_outside(2, input), "public_jwk": key(2)["public_jwk"] });
    foreign["chain_rest"] = json!(format!("~{token}x"));
    assert_eq!(
        call("attach_signature", &foreign).unwrap_err(),
        "bad_request"
    );
    foreign["chain_rest"] = out["chain_rest"].clone();
    ok("attach_signature", &foreign);
    req["signer"] = json!({ "public_jwk": key(3)["public_jwk"] });
    assert_eq!(call("delegate", &req).unwrap_err(), "delegation_not_holder");
    req["key"] = key(2)["private_jwk"].clone();
    assert_eq!(
        call("delegate", &req).unwrap_err(),
        "bad_request",
        "key and signer"
    );
    // A private key is not a signer's public key.
    req.as_object_mut().unwrap().remove("key");
    req["signer"] = json!({ "public_jwk": key(2)["private_jwk"] });
    assert_ne!(call("delegate", &req).unwrap_err(), "ok");
}

/// A list of `n` revoked ids, as a gateway would ask the module to sign.
fn long_list(n: u32) -> Value {
    let revoked: Vec<Value> = (0..n)
        .map(|i| {
            let mut id = [7u8; 16];
            id[..4].copy_from_slice(&i.to_be_bytes());
            json!({ "jti": b64::encode(&id), "revoked_at": NOW - 1, "reason": "key lost" })
        })
        .collect();
    json!({ "key": key(1)["private_jwk"], "list": { "iss": ISS, "seq": 3, "iat": NOW,
            "next_update": NOW + 60, "revoked": revoked } })
}

#[test]
fn a_signer_outside_the_module_signs_revocation_lists_longer_than_a_token() {
    // 200 entries are past a token's 16 KiB, 5,000 far past it; both are
    // well inside what a list's verifiers read.
    for n in [200, 5_000] {
        let request = long_list(n);
        let outside = signed_outside("revocation_list_sign", request.clone(), 1, "list");
        assert_eq!(outside, ok("revocation_list_sign", &request), "{n} entries");
        assert!(outside["list"].as_str().unwrap().len() > 16 * 1024);
        let read = ok(
            "revocation_list_verify",
            &json!({ "list": outside["list"], "jwks": jwks(), "issuer": ISS, "now": NOW }),
        );
        assert_eq!(read["revoked"].as_array().unwrap().len(), n as usize);
    }
}

#[test]
fn attach_signature_reads_each_kind_under_its_own_bounds_and_refuses_others() {
    let signer_req = |req: Value| {
        let mut req = req;
        req.as_object_mut().unwrap().remove("key");
        req["signer"] = json!({ "public_jwk": key(1)["public_jwk"] });
        ok("revocation_list_sign", &req)["signing_input"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let attach = |input: &str| {
        call(
            "attach_signature",
            &json!({ "signing_input": input, "signature": sign_outside(1, input),
                     "public_jwk": key(1)["public_jwk"] }),
        )
    };
    // A token is still held to a token's bound: a list's payload under a
    // token's header is refused at 16 KiB.
    let input = signer_req(long_list(200));
    let (_, payload) = input.split_once('.').unwrap();
    let header = |typ: &str| {
        let kid = key(1)["kid"].as_str().unwrap().to_string();
        b64::encode(format!(r#"{{"alg":"EdDSA","kid":"{kid}","typ":"{typ}"}}"#).as_bytes())
    };
    assert_eq!(
        attach(&format!("{}.{payload}", header("captoken+jwt"))).unwrap_err(),
        "token_too_large"
    );
    // A kind the module never prepares is refused, whatever its size.
    assert_eq!(
        attach(&format!("{}.{payload}", header("JWT"))).unwrap_err(),
        "bad_typ"
    );
    let short = signer_req(long_list(1));
    let (_, payload) = short.split_once('.').unwrap();
    assert_eq!(
        attach(&format!("{}.{payload}", header("JWT"))).unwrap_err(),
        "bad_typ"
    );
    // A proof is held to a proof's 4 KiB.
    let input = signer_req(long_list(60));
    let (_, payload) = input.split_once('.').unwrap();
    assert!(payload.len() > 4 * 1024 && payload.len() < 16 * 1024);
    assert_eq!(
        attach(&format!("{}.{payload}", header("captoken-pop+jwt"))).unwrap_err(),
        "token_too_large"
    );
    ok(
        "attach_signature",
        &json!({ "signing_input": input, "signature": sign_outside(1, &input),
                                    "public_jwk": key(1)["public_jwk"] }),
    );
}

// ---------------------------------------------------------------------------
// Trust: an issuer by several names, several audiences, mixed key sets

#[test]
fn a_verifier_may_name_several_issuers_and_audiences_and_one_will_do() {
    let (token, _) = token();
    let with = |issuer: Value, audience: Value| {
        let mut req = trust(&token, NOW + 1);
        req["issuer"] = issuer;
        req["audience"] = audience;
        call("verify", &req)
    };
    let verified = with(json!(["https://old.example", ISS]), json!(["console", AUD])).unwrap();
    assert_eq!(verified["claims"]["iss"], ISS);
    assert_eq!(
        with(json!(["https://old.example"]), json!(AUD)).unwrap_err(),
        "bad_issuer"
    );
    assert_eq!(
        with(json!(ISS), json!(["console", "robot-9"])).unwrap_err(),
        "bad_audience"
    );
    // Not a name, or no name at all: the request is refused, never read as
    // "any issuer" or "any audience".
    for bad in [json!([]), json!([1]), json!([ISS, null]), json!({})] {
        assert_eq!(
            with(bad.clone(), json!(AUD)).unwrap_err(),
            "bad_request",
            "{bad}"
        );
        assert_eq!(
            with(json!(ISS), bad.clone()).unwrap_err(),
            "bad_request",
            "{bad}"
        );
    }
    // The message names every audience it would have accepted.
    let mut req = trust(&token, NOW + 1);
    req["audience"] = json!(["console", "robot-9"]);
    let err = call_named("verify", &req.to_vec()).unwrap_err();
    assert!(err.to_string().contains("`console` or `robot-9`"), "{err}");
}

#[test]
fn a_revocation_list_and_a_refresh_follow_the_issuer_names() {
    let signed = ok(
        "revocation_list_sign",
        &json!({ "key": key(1)["private_jwk"], "list": {
        "iss": ISS, "seq": 1, "iat": NOW, "next_update": NOW + 60, "revoked": [] } }),
    );
    let checked = ok(
        "revocation_list_verify",
        &json!({ "list": signed["list"], "jwks": jwks(), "issuer": ["https://old.example", ISS], "now": NOW }),
    );
    assert_eq!(checked["iss"], ISS);
    // A refresh re-issues under the name the token carries, not the first
    // name listed.
    let (token, _) = token();
    let mut req = trust(&token, NOW + 1);
    req["issuer"] = json!(["https://old.example", ISS]);
    req["key"] = key(1)["private_jwk"].clone();
    req["policy"] = json!({ "version": 1, "rules": [
        { "id": "all", "effect": "allow", "subjects": { "ids": ["principal-2"] },
          "capabilities": [{ "actions": ["*"], "resources": ["*"] }] } ] });
    req["entropy"] = json!(b64::encode(&[9; 16]));
    let out = ok("refresh", &req);
    let verified = ok("verify", &trust(out["token"].as_str().unwrap(), NOW + 2));
    assert_eq!(verified["claims"]["iss"], ISS);
}

#[test]
fn a_key_set_holding_other_kinds_of_keys_still_verifies() {
    let (token, _) = token();
    let mut req = trust(&token, NOW + 1);
    req["jwks"] = json!({ "keys": [
        { "kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "n": "AQAB", "e": "AQAB" },
        { "kty": "EC", "kid": "ec-1", "crv": "P-256", "x": "AQAB", "y": "AQAB" },
        { "kty": "OKP", "crv": "X25519", "use": "enc", "x": "AQAB" },
        key(1)["public_jwk"],
    ] });
    assert_eq!(ok("verify", &req)["claims"]["iss"], ISS);
    // Without the Ed25519 key, nothing verifies (and nothing else is tried).
    let keys = req["jwks"]["keys"].as_array().unwrap()[..3].to_vec();
    req["jwks"] = json!({ "keys": keys });
    assert_eq!(call("verify", &req).unwrap_err(), "unknown_kid");
}
