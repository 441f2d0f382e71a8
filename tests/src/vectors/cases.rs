//! Every operation's cases, with their requests and expected outcomes, over
//! one set of issued tokens, lists, proofs and records.

use serde_json::{Value, json};

use super::Case;
use super::build::*;

mod bearer;
mod status;

pub(crate) fn cases() -> Vec<Case> {
    rows().into_iter().map(Case::from).collect()
}

#[allow(clippy::too_many_lines)]
fn rows() -> Vec<Row> {
    let issue = json!({ "key": keygen(1)["private_jwk"], "issuer": ISS, "now": NOW, "ttl": 300, "entropy": b64(&[3; 16]), "claims": claims(2, drive7()) });
    let issued = ok("issue", &issue);
    let token = issued["token"].as_str().unwrap().to_string();
    let root_jti = issued["jti"].clone();
    let delegate_req = |to: u8, signer: u8, caps: Value| {
        let mut r = trust(&token);
        let m = r.as_object_mut().unwrap();
        m.remove("token");
        m.insert("parent".into(), token.clone().into());
        m.insert("key".into(), keygen(signer)["private_jwk"].clone());
        m.insert("ttl".into(), 120.into());
        m.insert("entropy".into(), b64(&[to; 16]).into());
        m.insert("claims".into(), claims(to, caps));
        r
    };
    let narrow = json!([{ "actions": ["drive"], "resources": ["robot:7"], "constraints": { "domains": ["a.example.com"], "max_purchase": 10, "rooms": ["lab"] } }]);
    let child = ok("delegate", &delegate_req(4, 2, narrow.clone()))["token"]
        .as_str()
        .unwrap()
        .to_string();
    // A token the issuer granted three deep below a root grant.
    let granted_issue = with(
        issue.clone(),
        "claims",
        with(claims(2, drive7()), "grant_depth", json!(3)),
    );
    let granted = ok("issue", &granted_issue)["token"]
        .as_str()
        .unwrap()
        .to_string();
    let act = |action: &str, context: Value| json!({ "action": action, "resource": "robot:7", "context": context });

    // A signed revocation list naming the root token, and an empty one.
    let list = |seq: u64, revoked: Value| {
        ok("revocation_list_sign", &json!({ "key": keygen(1)["private_jwk"], "list": { "iss": ISS, "seq": seq, "iat": NOW - 10, "next_update": NOW + 100, "revoked": revoked } }))["list"].clone()
    };
    let rl_root = list(
        3,
        json!([{ "jti": root_jti, "revoked_at": NOW - 20, "reason": "key compromise" }]),
    );
    let rl_empty = list(4, json!([]));
    let stale_verify = |r: Value| with(r, "now", json!(NOW + 101));

    let list_verify = |rl: &Value| json!({ "list": rl, "jwks": { "keys": [keygen(1)["public_jwk"]] }, "issuer": ISS, "now": NOW });
    let stale = |r: Value| with(r, "now", json!(NOW + 601));

    // A proof of possession of the holder's key for the root token, and
    // one of the child's holder for the child.
    let pop = |signer: u8, tok: &str, nonce: &str| {
        ok("pop_create", &json!({ "key": keygen(signer)["private_jwk"], "token": tok, "audience": "svc", "nonce": nonce, "now": NOW + 1, "entropy": b64(&[signer; 16]) }))["proof"].clone()
    };
    let pop_verify = |tok: &str, proof: Value| {
        with(
            with(
                with(trust(tok), "proof", proof),
                "pop_audience",
                json!("svc"),
            ),
            "nonce",
            json!("n1"),
        )
    };
    let proof = pop(2, &token, "n1");
    let replay_key = ok("pop_verify", &pop_verify(&token, proof.clone()))["replay"]["key"].clone();

    // Two records of an audit chain.
    let rec0 = ok(
        "audit_append",
        &json!({ "time": NOW, "event": "token_issued", "data": { "jti": root_jti, "sub": "principal-2", "exp": NOW + 300 } }),
    );
    let rec1 = ok(
        "audit_append",
        &json!({ "last": rec0, "time": NOW + 5, "event": "token_revoked", "data": { "jti": root_jti, "reason": "key compromise" } }),
    );

    // Refresh through a policy that still lets principal-2 drive robots.
    let refresh_policy = json!({ "version": 1, "max_ttl": 300, "rules": [
        { "id": "drivers", "effect": "allow", "subjects": { "ids": ["principal-2"] },
          "capabilities": [{ "actions": ["drive"], "resources": ["robot:*"] }] } ] });
    let refresh_req = |tok: &str, policy: Value| {
        let r = with(trust(tok), "key", keygen(1)["private_jwk"].clone());
        with(
            with(
                with(with(r, "policy", policy), "ttl", json!(600)),
                "entropy",
                json!(b64(&[8; 16])),
            ),
            "now",
            json!(NOW + 60),
        )
    };
    let good_ctx = json!({ "domain": "a.example.com", "purchase_amount": 10, "room": "lab" });
    let mut rows = vec![
        Row {
            name: "info",
            op: "info",
            request: json!({}),
            expect: "ok",
        },
        Row {
            name: "keygen",
            op: "keygen",
            request: json!({ "seed": b64(&[9; 32]) }),
            expect: "ok",
        },
        Row {
            name: "keygen short seed",
            op: "keygen",
            request: json!({ "seed": b64(&[9; 31]) }),
            expect: "bad_request",
        },
        Row {
            name: "issue",
            op: "issue",
            request: issue.clone(),
            expect: "ok",
        },
        Row {
            name: "issue bad pattern",
            op: "issue",
            request: with(
                issue.clone(),
                "claims",
                claims(2, json!([{ "actions": ["dr*ve"], "resources": ["r"] }])),
            ),
            expect: "bad_claims",
        },
        Row {
            name: "verify",
            op: "verify",
            request: trust(&token),
            expect: "ok",
        },
        Row {
            name: "verify chain",
            op: "verify",
            request: trust(&child),
            expect: "ok",
        },
        Row {
            name: "verify chain too deep for verifier",
            op: "verify",
            request: with(trust(&child), "max_depth", json!(0)),
            expect: "delegation_too_deep",
        },
        Row {
            name: "authorize",
            op: "authorize",
            request: with(trust(&token), "request", act("drive", good_ctx.clone())),
            expect: "ok",
        },
        Row {
            name: "authorize over limit",
            op: "authorize",
            request: with(
                trust(&token),
                "request",
                act(
                    "drive",
                    with(good_ctx.clone(), "purchase_amount", json!(101)),
                ),
            ),
            expect: "constraint_violated",
        },
        Row {
            name: "authorize wrong action",
            op: "authorize",
            request: with(trust(&token), "request", act("fly", good_ctx.clone())),
            expect: "not_granted",
        },
        Row {
            name: "authorize no room",
            op: "authorize",
            request: with(
                trust(&token),
                "request",
                act("drive", json!({ "domain": "a.example.com" })),
            ),
            expect: "missing_context",
        },
        Row {
            name: "authorize typo in context",
            op: "authorize",
            request: with(
                trust(&token),
                "request",
                act("drive", json!({ "purchse_amount": 1 })),
            ),
            expect: "bad_context",
        },
        Row {
            name: "authorize evil domain",
            op: "authorize",
            request: with(
                trust(&token),
                "request",
                act(
                    "drive",
                    with(good_ctx.clone(), "domain", json!("example.com.evil")),
                ),
            ),
            expect: "constraint_violated",
        },
        Row {
            name: "authorize chain",
            op: "authorize",
            request: with(trust(&child), "request", act("drive", good_ctx.clone())),
            expect: "ok",
        },
        Row {
            name: "authorize chain beyond child",
            op: "authorize",
            request: with(trust(&child), "request", act("stop", good_ctx.clone())),
            expect: "not_granted",
        },
        Row {
            name: "verify revoked",
            op: "verify",
            request: with(trust(&token), "revoked", json!([root_jti.clone()])),
            expect: "revoked",
        },
        Row {
            name: "a revoked parent revokes its child",
            op: "authorize",
            request: with(
                with(trust(&child), "revoked", json!([root_jti.clone()])),
                "request",
                act("drive", good_ctx.clone()),
            ),
            expect: "revoked",
        },
        Row {
            name: "revoking the child leaves the parent",
            op: "verify",
            request: with(trust(&token), "revoked", json!([verify_jti(&child)])),
            expect: "ok",
        },
        Row {
            name: "null is not absent: revoked",
            op: "verify",
            request: with(trust(&token), "revoked", Value::Null),
            expect: "bad_request",
        },
        Row {
            name: "null is not absent: purchase amount",
            op: "authorize",
            request: with(
                trust(&token),
                "request",
                act(
                    "drive",
                    with(good_ctx.clone(), "purchase_amount", Value::Null),
                ),
            ),
            expect: "bad_context",
        },
        Row {
            name: "scope_meet too many pairs",
            op: "scope_meet",
            request: json!({ "a": vec![drive7()[0].clone(); 9], "b": vec![narrow[0].clone(); 8] }),
            expect: "bad_request",
        },
        Row {
            name: "delegate",
            op: "delegate",
            request: delegate_req(5, 2, narrow.clone()),
            expect: "ok",
        },
        Row {
            name: "delegate escalation",
            op: "delegate",
            request: delegate_req(
                5,
                2,
                json!([{ "actions": ["*"], "resources": ["robot:7"] }]),
            ),
            expect: "delegation_escalation",
        },
        Row {
            name: "delegate not holder",
            op: "delegate",
            request: delegate_req(5, 6, narrow.clone()),
            expect: "delegation_not_holder",
        },
        Row {
            name: "issue granted three deep",
            op: "issue",
            request: granted_issue.clone(),
            expect: "ok",
        },
        Row {
            name: "verify granted three deep",
            op: "verify",
            request: trust(&granted),
            expect: "ok",
        },
        Row {
            name: "delegate below a grant three deep",
            op: "delegate",
            request: {
                let mut r = delegate_req(5, 2, drive7());
                r["parent"] = granted.clone().into();
                r
            },
            expect: "delegation_too_deep",
        },
        Row {
            name: "verify granted past the limit",
            op: "verify",
            request: trust(
                ok(
                    "issue",
                    &with(
                        issue.clone(),
                        "claims",
                        with(claims(2, drive7()), "grant_depth", json!(4)),
                    ),
                )["token"]
                    .as_str()
                    .unwrap(),
            ),
            expect: "delegation_too_deep",
        },
        Row {
            name: "issue grant_depth zero",
            op: "issue",
            request: with(
                issue.clone(),
                "claims",
                with(claims(2, drive7()), "grant_depth", json!(0)),
            ),
            expect: "bad_claims",
        },
        Row {
            name: "scope_meet",
            op: "scope_meet",
            request: json!({ "a": drive7(), "b": narrow.clone() }),
            expect: "ok",
        },
        Row {
            name: "scope_meet bad pattern",
            op: "scope_meet",
            request: json!({ "a": drive7(), "b": [{ "actions": ["*x"], "resources": ["r"] }] }),
            expect: "bad_pattern",
        },
        Row {
            name: "policy_check",
            op: "policy_check",
            request: json!({ "policy": policy_doc() }),
            expect: "ok",
        },
        Row {
            name: "policy_check duplicate rule",
            op: "policy_check",
            request: json!({ "policy": with(policy_doc(), "rules", json!([policy_doc()["rules"][0], policy_doc()["rules"][0]])) }),
            expect: "duplicate_rule_id",
        },
        Row {
            name: "policy_evaluate granted",
            op: "policy_evaluate",
            request: json!({ "policy": policy_doc(), "request": policy_request("agent:planner") }),
            expect: "ok",
        },
        Row {
            name: "policy_evaluate denied is a decision",
            op: "policy_evaluate",
            request: json!({ "policy": policy_doc(), "request": policy_request("stranger") }),
            expect: "ok",
        },
        Row {
            name: "policy_evaluate over budget",
            op: "policy_evaluate",
            request: json!({ "policy": policy_doc(), "request": policy_request("agent:planner"), "budget": 1 }),
            expect: "policy_budget_exceeded",
        },
        Row {
            name: "issue through a policy: granted, narrowed, capped",
            op: "issue",
            request: with(
                through_policy(
                    "agent:planner",
                    policy_request("agent:planner")["capabilities"].clone(),
                ),
                "ttl",
                json!(3600),
            ),
            expect: "ok",
        },
        Row {
            name: "issue through a policy: denied is a decision, nothing signed",
            op: "issue",
            request: through_policy(
                "stranger",
                policy_request("stranger")["capabilities"].clone(),
            ),
            expect: "ok",
        },
        Row {
            name: "issue through a policy: a malformed capability is the policy reader's",
            op: "issue",
            request: through_policy(
                "agent:planner",
                json!([{ "actions": [], "resources": ["web:player"] }]),
            ),
            expect: "bad_request",
        },
        Row {
            name: "policy_explain",
            op: "policy_explain",
            request: json!({ "policy": policy_doc(), "request": policy_request("agent:planner") }),
            expect: "ok",
        },
        Row {
            name: "revocation_list_sign",
            op: "revocation_list_sign",
            request: json!({ "key": keygen(1)["private_jwk"], "list": { "iss": ISS, "seq": 1, "iat": NOW, "next_update": NOW + 60, "revoked": [{ "jti": b64(&[0xb; 16]), "revoked_at": NOW }, { "jti": b64(&[0xa; 16]), "revoked_at": NOW }] } }),
            expect: "ok",
        },
        Row {
            name: "revocation_list_sign twice listed",
            op: "revocation_list_sign",
            request: json!({ "key": keygen(1)["private_jwk"], "list": { "iss": ISS, "seq": 1, "iat": NOW, "next_update": NOW + 60, "revoked": [{ "jti": b64(&[0xa; 16]), "revoked_at": NOW }, { "jti": b64(&[0xa; 16]), "revoked_at": NOW }] } }),
            expect: "bad_revocation_list",
        },
        Row {
            name: "revocation_list_sign unknown member",
            op: "revocation_list_sign",
            request: json!({ "key": keygen(1)["private_jwk"], "list": { "iss": ISS, "seq": 1, "iat": NOW, "next_update": NOW + 60, "revoked": [], "extra": 1 } }),
            expect: "bad_revocation_list",
        },
        Row {
            name: "revocation_list_verify fresh",
            op: "revocation_list_verify",
            request: list_verify(&rl_root),
            expect: "ok",
        },
        Row {
            name: "revocation_list_verify stale is an outcome",
            op: "revocation_list_verify",
            request: stale(list_verify(&rl_root)),
            expect: "ok",
        },
        Row {
            name: "revocation_list_verify rollback",
            op: "revocation_list_verify",
            request: with(list_verify(&rl_root), "last_seen_seq", json!(4)),
            expect: "revocation_list_rollback",
        },
        Row {
            name: "revocation_list_verify untrusted key",
            op: "revocation_list_verify",
            request: with(
                list_verify(&rl_root),
                "jwks",
                json!({ "keys": [keygen(3)["public_jwk"]] }),
            ),
            expect: "unknown_kid",
        },
        Row {
            name: "revocation_list_verify a token is not a list",
            op: "revocation_list_verify",
            request: with(list_verify(&rl_root), "list", json!(token)),
            expect: "bad_typ",
        },
        Row {
            name: "verify against a list naming it",
            op: "verify",
            request: with(trust(&token), "revocation_list", rl_root.clone()),
            expect: "revoked",
        },
        Row {
            name: "a listed parent revokes its child",
            op: "verify",
            request: with(trust(&child), "revocation_list", rl_root.clone()),
            expect: "revoked",
        },
        Row {
            name: "verify against an empty list",
            op: "verify",
            request: with(trust(&token), "revocation_list", rl_empty.clone()),
            expect: "ok",
        },
        Row {
            name: "a stale list is refused by default",
            op: "verify",
            request: stale_verify(with(trust(&token), "revocation_list", rl_empty.clone())),
            expect: "revocation_list_stale",
        },
        Row {
            name: "a stale list can be allowed for a while",
            op: "verify",
            request: stale_verify(with(
                with(trust(&token), "revocation_list", rl_empty.clone()),
                "max_stale",
                json!(1),
            )),
            expect: "ok",
        },
        Row {
            name: "a list stale for longer than allowed",
            op: "verify",
            request: with(
                with(
                    with(trust(&token), "revocation_list", rl_empty.clone()),
                    "max_stale",
                    json!(1),
                ),
                "now",
                json!(NOW + 102),
            ),
            expect: "revocation_list_stale",
        },
        Row {
            name: "an older list than one seen before",
            op: "verify",
            request: with(
                with(trust(&token), "revocation_list", rl_root.clone()),
                "last_seen_seq",
                json!(4),
            ),
            expect: "revocation_list_rollback",
        },
        Row {
            name: "a stale list still revokes",
            op: "authorize",
            request: stale_verify(with(
                with(
                    with(trust(&child), "revocation_list", rl_root.clone()),
                    "max_stale",
                    json!(3600),
                ),
                "request",
                act("drive", good_ctx.clone()),
            )),
            expect: "revoked",
        },
        Row {
            name: "max_stale without a list",
            op: "verify",
            request: with(trust(&token), "max_stale", json!(60)),
            expect: "bad_request",
        },
        Row {
            name: "pop_create",
            op: "pop_create",
            request: json!({ "key": keygen(2)["private_jwk"], "token": token, "audience": "svc", "now": NOW + 1, "entropy": b64(&[7; 16]) }),
            expect: "ok",
        },
        Row {
            name: "pop_verify",
            op: "pop_verify",
            request: pop_verify(&token, proof.clone()),
            expect: "ok",
        },
        Row {
            name: "pop_verify replayed",
            op: "pop_verify",
            request: with(
                pop_verify(&token, proof.clone()),
                "seen",
                json!([replay_key]),
            ),
            expect: "replayed",
        },
        Row {
            name: "pop_verify wrong nonce",
            op: "pop_verify",
            request: pop_verify(&token, pop(2, &token, "n2")),
            expect: "pop_nonce_mismatch",
        },
        Row {
            name: "pop_verify not the holder's key",
            op: "pop_verify",
            request: pop_verify(&token, pop(6, &token, "n1")),
            expect: "pop_key_mismatch",
        },
        Row {
            name: "pop_verify proof for another token",
            op: "pop_verify",
            request: pop_verify(&child, proof.clone()),
            expect: "pop_key_mismatch",
        },
        Row {
            name: "pop_verify chain holder",
            op: "pop_verify",
            request: pop_verify(&child, pop(4, &child, "n1")),
            expect: "ok",
        },
        Row {
            name: "pop_verify stale",
            op: "pop_verify",
            request: with(pop_verify(&token, proof.clone()), "now", json!(NOW + 62)),
            expect: "pop_stale",
        },
        Row {
            name: "audit_append genesis",
            op: "audit_append",
            request: json!({ "time": NOW, "event": "agent.delegation.attempted", "data": { "parent_jti": root_jti, "sub": "principal-5", "code": "delegation_escalation" } }),
            expect: "ok",
        },
        Row {
            name: "audit_append next",
            op: "audit_append",
            request: json!({ "last": rec1, "time": NOW + 9, "event": "agent.capability.granted", "data": { "jti": "c", "sub": "principal-4" } }),
            expect: "ok",
        },
        Row {
            name: "audit_append unknown event",
            op: "audit_append",
            request: json!({ "time": NOW, "event": "token_minted", "data": {} }),
            expect: "bad_request",
        },
        Row {
            name: "audit_append a number that is not an integer",
            op: "audit_append",
            request: json!({ "time": NOW, "event": "token_issued", "data": { "amount": 1.5 } }),
            expect: "audit_bad_record",
        },
        Row {
            name: "audit_append after an edited record",
            op: "audit_append",
            request: json!({ "last": with(rec1.clone(), "time", json!(NOW + 6)), "time": NOW + 9, "event": "token_issued", "data": {} }),
            expect: "audit_bad_hash",
        },
        Row {
            name: "audit_verify",
            op: "audit_verify",
            request: json!({ "records": [rec0, rec1], "head": rec1["hash"] }),
            expect: "ok",
        },
        Row {
            name: "audit_verify reordered",
            op: "audit_verify",
            request: json!({ "records": [rec1, rec0] }),
            expect: "audit_bad_sequence",
        },
        Row {
            name: "audit_verify truncated against the head",
            op: "audit_verify",
            request: json!({ "records": [rec0], "head": rec1["hash"] }),
            expect: "audit_head_mismatch",
        },
        Row {
            name: "audit_verify empty",
            op: "audit_verify",
            request: json!({ "records": [] }),
            expect: "audit_empty_chain",
        },
        Row {
            name: "refresh",
            op: "refresh",
            request: refresh_req(&token, refresh_policy.clone()),
            expect: "ok",
        },
        Row {
            name: "refresh a delegated token",
            op: "refresh",
            request: refresh_req(&child, refresh_policy.clone()),
            expect: "refresh_not_root",
        },
        Row {
            name: "refresh a revoked token",
            op: "refresh",
            request: with(
                refresh_req(&token, refresh_policy.clone()),
                "revoked",
                json!([root_jti]),
            ),
            expect: "revoked",
        },
        Row {
            name: "refresh after the policy dropped the subject",
            op: "refresh",
            request: refresh_req(&token, policy_doc()),
            expect: "no_matching_rule",
        },
        Row {
            name: "issue: a null key beside a signer",
            op: "issue",
            request: with(
                with(
                    issue.clone(),
                    "signer",
                    json!({ "public_jwk": keygen(1)["public_jwk"] }),
                ),
                "key",
                Value::Null,
            ),
            expect: "bad_request",
        },
        Row {
            name: "issue: signing input for a signer outside",
            op: "issue",
            request: {
                let mut r = issue.clone();
                r.as_object_mut().unwrap().remove("key");
                with(
                    r,
                    "signer",
                    json!({ "public_jwk": keygen(1)["public_jwk"] }),
                )
            },
            expect: "ok",
        },
        Row {
            name: "attach_signature",
            op: "attach_signature",
            request: {
                let t = token.as_str();
                let (input, sig) = t.rsplit_once('.').unwrap();
                json!({ "signing_input": input, "signature": sig, "public_jwk": keygen(1)["public_jwk"] })
            },
            expect: "ok",
        },
        Row {
            name: "attach_signature by another key",
            op: "attach_signature",
            request: {
                let (input, sig) = token.rsplit_once('.').unwrap();
                json!({ "signing_input": input, "signature": sig, "public_jwk": keygen(2)["public_jwk"] })
            },
            expect: "bad_signature",
        },
        Row {
            name: "decode a chain",
            op: "decode",
            request: json!({ "token": child }),
            expect: "ok",
        },
        Row {
            name: "decode alg none",
            op: "decode",
            request: {
                let (_, rest) = token.split_once('.').unwrap();
                let none = b64(br#"{"alg":"none","typ":"captoken+jwt","kid":"k"}"#);
                json!({ "token": format!("{none}.{rest}") })
            },
            expect: "unsupported_alg",
        },
        Row {
            name: "unknown op",
            op: "frobnicate",
            request: json!({}),
            expect: "unknown_op",
        },
    ];
    rows.extend(status::rows(&issue, &rl_root, &rl_empty));
    rows.extend(bearer::rows(&issue));
    rows
}
