//! What the delegate operation tells the host to audit when it refuses:
//! every refusal by the delegation rules carries an
//! `agent.delegation.attempted` event naming the parent, the subject and the
//! code; a refusal that comes before those rules (the parent does not verify,
//! the request is malformed, the host's entropy failed) carries none.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use captoken_core::b64;
use captoken_core::json::{MAX_SAFE_INTEGER, Value};
use captoken_core::ops::{OpError, call_named};

mod lit;
use lit::json;

mod common;
use common::{AUD, ISS, NOW, op_key as key, op_ok as ok};

/// The error of a delegate call that must fail, and its JSON body.
fn refused(request: &Value) -> (OpError, Value) {
    match call_named("delegate", &request.to_vec()) {
        Ok(out) => panic!("delegate accepted: {}", String::from_utf8_lossy(&out)),
        Err(err) => {
            let body = lit::parse(&err.to_json());
            (err, body)
        }
    }
}

/// A root token held by key 2, issued by key 1 until NOW + 300, with a plan
/// and an extra claim a child inherits: its text and its id (the `jti`).
fn root() -> (String, String) {
    let issued = ok(
        "issue",
        &json!({
            "key": key(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300,
            "entropy": b64::encode(&[3; 16]),
            "claims": { "sub": "principal-2", "aud": AUD, "cnf": { "jwk": key(2)["public_jwk"] },
                        "plan_id": "plan-1", "tenant": "acme",
                        "caps": [{ "actions": ["drive", "stop"], "resources": ["robot:7"],
                                   "constraints": { "domains": ["*.example.com"], "max_purchase": 10 } }] }
        }),
    );
    (
        issued["token"].as_str().unwrap().into(),
        issued["jti"].as_str().unwrap().into(),
    )
}

fn narrow_caps() -> Value {
    json!([{ "actions": ["drive"], "resources": ["robot:7"],
             "constraints": { "domains": ["a.example.com"], "max_purchase": 5 } }])
}

/// Key `signer` delegates `parent` to key `to` (`principal-{to}`) at NOW + 1
/// for 60 s: a request every refusal below changes in one member.
fn delegate(parent: &str, signer: u8, to: u8) -> Value {
    json!({
        "parent": parent, "jwks": { "keys": [key(1)["public_jwk"]] }, "issuer": ISS,
        "audience": AUD, "now": NOW + 1,
        "key": key(signer)["private_jwk"], "ttl": 60, "entropy": b64::encode(&[to; 16]),
        "claims": { "sub": format!("principal-{to}"), "aud": AUD,
                    "cnf": { "jwk": key(to)["public_jwk"] }, "caps": narrow_caps() }
    })
}

/// `request` is refused with `code`, and the body carries the event the
/// host appends for it, naming `parent_id` and the would-be subject; the
/// event appends to an audit log as it is.
fn assert_audited(case: &str, request: &Value, parent_id: &str, code: &str) {
    let (err, body) = refused(request);
    assert_eq!(err.code(), code, "{case}");
    assert_eq!(body["code"], code, "{case}");
    let sub = request["claims"]["sub"].as_str().unwrap();
    assert_eq!(
        body["audit"],
        json!({ "event": "agent.delegation.attempted",
                "data": { "parent_id": parent_id, "sub": sub, "code": code } }),
        "{case}"
    );
    let mut append = body["audit"].clone();
    append["time"] = json!(NOW + 1);
    ok("audit_append", &append);
}

/// `request` is refused with `code` and its body has no `audit` member.
fn assert_not_audited(case: &str, request: &Value, code: &str) {
    let (err, body) = refused(request);
    assert_eq!(err.code(), code, "{case}");
    assert!(
        body.as_object().unwrap().get("audit").is_none(),
        "{case}: {body}"
    );
}

fn with(mut request: Value, member: &str, value: Value) -> Value {
    request[member] = value;
    request
}

fn with_claim(request: Value, claim: &str, value: Value) -> Value {
    let mut claims = request["claims"].clone();
    claims[claim] = value;
    with(request, "claims", claims)
}

#[test]
fn every_refusal_by_the_delegation_rules_is_audited_with_parent_subject_and_code() {
    let (token, jti) = root();
    let base = delegate(&token, 2, 4);
    // The base request itself delegates: each case below is refused for
    // the one member it changes.
    let granted = ok("delegate", &base);
    assert_eq!(granted["audit"]["event"], "agent.capability.granted");

    let signing_outside = {
        let mut r = delegate(&token, 2, 4);
        r.as_object_mut().unwrap().remove("key");
        with(r, "signer", json!({ "public_jwk": key(3)["public_jwk"] }))
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "signed by a key the parent does not bind",
            delegate(&token, 3, 4),
            "delegation_not_holder",
        ),
        (
            "a signer outside the module that is not the holder",
            signing_outside,
            "delegation_not_holder",
        ),
        (
            "the verifier allows no delegation",
            with(base.clone(), "max_depth", json!(0)),
            "delegation_too_deep",
        ),
        (
            "a capability the parent lacks",
            with_claim(
                base.clone(),
                "caps",
                json!([{ "actions": ["fly"], "resources": ["robot:7"] }]),
            ),
            "delegation_escalation",
        ),
        (
            "a resource wider than the parent's",
            with_claim(
                base.clone(),
                "caps",
                json!([{ "actions": ["drive"], "resources": ["robot:*"],
                         "constraints": { "domains": ["a.example.com"], "max_purchase": 5 } }]),
            ),
            "delegation_escalation",
        ),
        (
            "a purchase limit above the parent's",
            with_claim(
                base.clone(),
                "caps",
                json!([{ "actions": ["drive"], "resources": ["robot:7"],
                         "constraints": { "domains": ["a.example.com"], "max_purchase": 11 } }]),
            ),
            "delegation_escalation",
        ),
        (
            "a constraint the parent has, dropped",
            with_claim(
                base.clone(),
                "caps",
                json!([{ "actions": ["drive"], "resources": ["robot:7"],
                         "constraints": { "max_purchase": 5 } }]),
            ),
            "delegation_escalation",
        ),
        (
            "an audience the parent lacks",
            with_claim(base.clone(), "aud", json!([AUD, "elsewhere"])),
            "delegation_escalation",
        ),
        (
            "a rewritten plan",
            with_claim(base.clone(), "plan_id", json!("enterprise")),
            "delegation_escalation",
        ),
        (
            "a rewritten extra claim",
            with_claim(base.clone(), "tenant", json!("victim-corp")),
            "delegation_escalation",
        ),
        (
            "a new extra claim",
            with_claim(base.clone(), "role", json!("admin")),
            "delegation_escalation",
        ),
        ("a zero ttl", with(base.clone(), "ttl", json!(0)), "bad_ttl"),
        (
            "an expiry past 2^53-1",
            with(base.clone(), "ttl", json!(MAX_SAFE_INTEGER - NOW)),
            "bad_ttl",
        ),
        // The parent still verifies inside the leeway, but a child capped
        // at its expiry would end before it starts.
        (
            "a parent past its expiry, inside the leeway",
            with(
                with(base.clone(), "now", json!(NOW + 305)),
                "leeway",
                json!(30),
            ),
            "bad_ttl",
        ),
    ];
    for (case, request, code) in &cases {
        assert_audited(case, request, &jti, code);
    }
}

#[test]
fn a_parent_already_at_the_maximum_depth_is_named_by_its_chain_id() {
    let (token, root_jti) = root();
    let child = ok(
        "delegate",
        &with(delegate(&token, 2, 4), "max_depth", json!(1)),
    );
    let child_token = child["token"].as_str().unwrap();
    let child_id = child["id"].as_str().unwrap();
    assert_eq!(
        child_id,
        format!("{root_jti}.{}", child["jti"].as_str().unwrap())
    );
    let grandchild = delegate(child_token, 4, 5);
    // The child verifies at depth 1; its own child would be at depth 2.
    assert_audited(
        "a grandchild under max_depth 1",
        &with(grandchild.clone(), "max_depth", json!(1)),
        child_id,
        "delegation_too_deep",
    );
    let allowed = ok("delegate", &with(grandchild, "max_depth", json!(2)));
    assert_eq!(allowed["depth"], 2u64);
}

/// The review asked for an audited escalation of an expiry past the parent:
/// the operation never sees one, because a delegated token's expiry is
/// capped at its parent's (`docs/FORMAT.md`). A forged child that outlives
/// its parent is refused when verifying (`tests/delegation.rs`).
#[test]
fn an_expiry_past_the_parent_is_capped_and_granted_not_refused() {
    let (token, _) = root();
    let out = ok(
        "delegate",
        &with(delegate(&token, 2, 4), "ttl", json!(10_000)),
    );
    assert_eq!(out["exp"], NOW + 300);
    assert_eq!(out["audit"]["event"], "agent.capability.granted");
    assert_eq!(out["audit"]["data"]["exp"], NOW + 300);
}

#[test]
fn refusals_before_the_delegation_rules_carry_no_audit_event() {
    let (token, jti) = root();
    let base = delegate(&token, 2, 4);
    let tampered = {
        let (input, sig) = token.rsplit_once('.').unwrap();
        // The first character of the signature: still canonical base64.
        let first = if sig.starts_with('A') { "B" } else { "A" };
        format!("{input}.{first}{}", &sig[1..])
    };
    let child = ok("delegate", &base)["token"].as_str().unwrap().to_string();
    let cases: Vec<(&str, Value, &str)> = vec![
        // The parent does not verify: there is no parent the log can name.
        (
            "an expired parent",
            with(base.clone(), "now", json!(NOW + 400)),
            "expired",
        ),
        (
            "a parent not yet valid",
            with(base.clone(), "now", json!(NOW - 100)),
            "not_yet_valid",
        ),
        (
            "a parent with a bad signature",
            with(base.clone(), "parent", json!(tampered)),
            "bad_signature",
        ),
        (
            "a parent signed by an untrusted key",
            with(
                base.clone(),
                "jwks",
                json!({ "keys": [key(6)["public_jwk"]] }),
            ),
            "unknown_kid",
        ),
        (
            "a parent for another audience",
            with(base.clone(), "audience", json!("other-gateway")),
            "bad_audience",
        ),
        (
            "a revoked parent",
            with(base.clone(), "revoked", json!([jti])),
            "revoked",
        ),
        // The same code as an audited refusal, but here it is the parent
        // chain that the verifier refuses, before any delegation is tried.
        (
            "a parent chain deeper than the verifier allows",
            with(
                with(delegate(&child, 4, 5), "max_depth", json!(0)),
                "now",
                json!(NOW + 2),
            ),
            "delegation_too_deep",
        ),
        // Malformed requests, refused before the parent is looked at.
        (
            "a negative ttl",
            with(base.clone(), "ttl", json!(-1)),
            "bad_request",
        ),
        (
            "an unknown member",
            with(base.clone(), "ttl_seconds", json!(60)),
            "bad_request",
        ),
        // A host failure is not an attempt.
        (
            "no entropy",
            with(base.clone(), "entropy", json!("")),
            "entropy_unavailable",
        ),
    ];
    for (case, request, code) in &cases {
        assert_not_audited(case, request, code);
    }
}

/// Known gap, pinned so that closing it is a deliberate change: FORMAT.md
/// ("Operations say what to audit") lists `bad_claims` among the refusals
/// that carry `agent.delegation.attempted`, and the operation's audit rule
/// matches claim errors, but the request's claims are parsed (and refused)
/// before the parent is verified, so no claims error ever reaches that rule
/// and none carries an event. When the operation audits these, flip the
/// assertions below to `assert_audited`.
#[test]
fn claims_that_do_not_fit_the_schema_are_refused_unaudited_before_the_parent_is_verified() {
    let (token, _) = root();
    let base = delegate(&token, 2, 4);
    let no_cnf = {
        let mut r = base.clone();
        r["claims"].as_object_mut().unwrap().remove("cnf");
        r
    };
    let cases: Vec<(&str, Value)> = vec![
        ("no cnf", no_cnf),
        ("no capability", with_claim(base.clone(), "caps", json!([]))),
        (
            "a bad pattern",
            with_claim(
                base.clone(),
                "caps",
                json!([{ "actions": ["dr*ve"], "resources": ["robot:7"] }]),
            ),
        ),
        (
            "an issuer-owned claim",
            with_claim(base.clone(), "exp", json!(NOW + 60)),
        ),
    ];
    for (case, request) in &cases {
        assert_not_audited(case, request, "bad_claims");
        // With a parent that does not verify, the claims error still wins.
        let expired = with(request.clone(), "now", json!(NOW + 400));
        assert_not_audited(case, &expired, "bad_claims");
    }
}

#[test]
fn a_lifetime_left_out_is_the_modules_default_for_issue_and_delegate() {
    let (parent, _) = root();
    let mut request = delegate(&parent, 2, 3);
    request.as_object_mut().unwrap().remove("ttl");
    let child = ok("delegate", &request);
    let ttl = i64::try_from(captoken_core::token::DEFAULT_TTL).unwrap();
    // The default, capped by the parent's life (until NOW + 300).
    assert_eq!(
        child["exp"].as_i64().unwrap(),
        (NOW + 1 + ttl).min(NOW + 300)
    );
    let issued = ok(
        "issue",
        &json!({
            "key": key(1)["private_jwk"], "issuer": ISS, "now": NOW,
            "entropy": b64::encode(&[4; 16]),
            "claims": { "sub": "principal-2", "aud": AUD, "cnf": { "jwk": key(2)["public_jwk"] },
                        "caps": narrow_caps() }
        }),
    );
    assert_eq!(
        issued["exp"].as_i64().unwrap() - issued["iat"].as_i64().unwrap(),
        ttl
    );
}

/// A verify request for `token` as the delegate requests above trust it.
fn verify_request(token: &str) -> Value {
    json!({ "token": token, "jwks": { "keys": [key(1)["public_jwk"]] }, "issuer": ISS,
            "audience": AUD, "now": NOW + 2, "grant": true })
}

fn verify_refused(request: &Value) -> Value {
    match call_named("verify", &request.to_vec()) {
        Ok(out) => panic!("verify accepted: {}", String::from_utf8_lossy(&out)),
        Err(err) => lit::parse(&err.to_json()),
    }
}

#[test]
fn a_chain_presented_as_a_grant_says_what_to_audit_when_its_parent_is_sound() {
    let (parent, parent_id) = root();
    let chain = ok("delegate", &delegate(&parent, 2, 3))["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The leaf's signature broken: the parent still verifies on its own.
    let (leaf, rest) = chain.split_once('~').unwrap();
    let forged = format!("{}~{rest}", broken(leaf));
    let body = verify_refused(&verify_request(&forged));
    assert_eq!(body["code"], "bad_signature");
    assert_eq!(
        body["audit"],
        json!({ "event": "agent.delegation.attempted",
                "data": { "parent_id": parent_id, "code": "bad_signature" } })
    );
    // Too deep for this verifier: refused, and audited the same way.
    let mut shallow = verify_request(&chain);
    shallow["max_depth"] = json!(0);
    let body = verify_refused(&shallow);
    assert_eq!(body["code"], "delegation_too_deep");
    assert_eq!(body["audit"]["data"]["parent_id"], json!(parent_id));

    // Not presented as a grant: no event.
    let mut plain = verify_request(&forged);
    plain.as_object_mut().unwrap().remove("grant");
    assert_eq!(verify_refused(&plain).get("audit"), None);
    // A revoked parent is no sound parent: nothing to audit.
    let mut revoked = verify_request(&forged);
    revoked["revoked"] = json!([parent_id]);
    assert_eq!(verify_refused(&revoked).get("audit"), None);
    // Nor is there one for a root token.
    let body = verify_refused(&verify_request(&broken(&parent)));
    assert_eq!(body["code"], "bad_signature");
    assert_eq!(body.get("audit"), None);
}

/// `token` with one character inside its signature changed (not the last,
/// whose low bits are padding).
fn broken(token: &str) -> String {
    let at = token.len() - 10;
    let (head, tail) = token.split_at(at);
    let (c, rest) = tail.split_at(1);
    format!("{head}{}{rest}", if c == "A" { 'B' } else { 'A' })
}

#[test]
fn an_id_chain_lists_every_ancestor_root_first() {
    use captoken_core::token::id_chain;
    assert_eq!(id_chain("r").collect::<Vec<_>>(), ["r"]);
    assert_eq!(id_chain("r.c.g").collect::<Vec<_>>(), ["r", "r.c", "r.c.g"]);
}

/// `decode` reads a token or chain by the module's strict rules without
/// verifying it: the leaf's header and claims, its ancestors root first.
#[test]
fn decode_reads_a_chain_without_verifying_it() {
    let (root_text, root_jti) = root();
    let child = ok("delegate", &delegate(&root_text, 2, 4));
    let chain = child["token"].as_str().unwrap();
    let decoded = ok("decode", &json!({ "token": chain }));
    assert_eq!(decoded["claims"]["sub"], "principal-4");
    assert_eq!(decoded["header"]["typ"], "captoken+jwt");
    assert_eq!(decoded["chain"].as_array().unwrap().len(), 1);
    assert_eq!(decoded["chain"][0]["claims"]["jti"], root_jti.as_str());
    assert!(decoded["claims"]["prf"].as_str().is_some());
    // As verify answers it: the same claims, the same ancestors.
    let verified = ok(
        "verify",
        &json!({ "token": chain, "jwks": { "keys": [key(1)["public_jwk"]] },
        "issuer": ISS, "audience": AUD, "now": NOW + 2 }),
    );
    assert_eq!(decoded["claims"], verified["claims"]);

    // Not verified: a token from a stranger, or with its signature
    // replaced, still decodes; it is `verify` that refuses it.
    let (root_text, _) = root();
    let (head, _) = root_text.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", b64::encode(&[7; 64]));
    assert_eq!(
        ok("decode", &json!({ "token": forged }))["claims"]["sub"],
        "principal-2"
    );

    // But it is read by the module's rules: what verify refuses before any
    // key is looked up, decode refuses with the same code.
    let header_none = b64::encode(br#"{"alg":"none","typ":"captoken+jwt","kid":"k"}"#);
    let payload = b64::encode(br#"{"sub":"x"}"#);
    for (token, code) in [
        (
            format!("{header_none}.{payload}.{}", b64::encode(&[0; 64])),
            "unsupported_alg",
        ),
        ("a.b".to_string(), "malformed_token"),
        (format!("{head}.{}", "*".repeat(86)), "bad_base64"),
        ("x".repeat(20_000), "token_too_large"),
    ] {
        let err = call_named("decode", &json!({ "token": token }).to_vec()).unwrap_err();
        assert_eq!(err.code(), code);
    }
}
