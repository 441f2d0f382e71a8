//! Proof of possession: a holder's presentation of its token, and every
//! refusal with its stable code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use captoken_core::Delegation;
use captoken_core::b64;
use captoken_core::keys;
use captoken_core::pop::{
    self, PopError, PopOptions, VerifiedPresentation, create_presentation, verify_presentation,
};
use captoken_core::replay::{MemoryReplayGuard, ReplayError, ReplayGuard};
use captoken_core::revocation::{RevocationList, RevocationListIssuer};
use captoken_core::{SigningKey, SliceEntropy, TokenIssuer, VerifiedToken};
use common::*;
mod lit;
use captoken_core::json::{Map, Value};
use lit::json;
use sha2::{Digest, Sha256};

/// The verifier the proofs are presented to (not the token's audience).
const API: &str = "https://api.example";

fn token() -> (String, VerifiedToken) {
    let text = issue_at(NOW, 300);
    let verified = verifier(&keyset()).verify(&text, NOW).unwrap();
    (text, verified)
}

fn other_key() -> SigningKey {
    SigningKey::from_bytes(&[11; 32])
}

fn prove(token: &str, n: u8) -> String {
    prove_with(&holder_key(), token, API, None, None, NOW, n)
}

fn prove_with(
    key: &SigningKey,
    token: &str,
    audience: &str,
    nonce: Option<&str>,
    req: Option<&str>,
    now: i64,
    n: u8,
) -> String {
    create_presentation(
        key,
        token,
        audience,
        nonce,
        req,
        now,
        &mut SliceEntropy::new(&[n; 16]),
    )
    .unwrap()
}

fn guard() -> MemoryReplayGuard {
    MemoryReplayGuard::with_capacity(16)
}

fn check(
    proof: &str,
    opts: &PopOptions,
    now: i64,
    replay: &mut dyn ReplayGuard,
) -> Result<VerifiedPresentation, PopError> {
    let (_, verified) = token();
    verify_presentation(proof, &verified, opts, now, replay)
}

/// The code verifying `proof` of the fixture token at NOW gives, with a
/// fresh guard.
fn code_of_proof(proof: &str) -> &'static str {
    code(check(proof, &PopOptions::new(API), NOW, &mut guard()))
}

fn code(result: Result<VerifiedPresentation, PopError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

fn ath(text: &str) -> String {
    b64::encode(&Sha256::digest(text.as_bytes()))
}

fn proof_header() -> Value {
    json!({ "alg": "EdDSA", "typ": "captoken-pop+jwt", "kid": keys::thumbprint(&holder_key().verifying_key()) })
}

fn proof_payload() -> Value {
    json!({ "aud": API, "iat": NOW, "jti": b64::encode(&[5; 16]), "ath": ath(&token().0) })
}

/// A proof with this header and payload, signed by the holder key.
fn raw_proof(header: &Value, payload: &Value) -> String {
    sign_raw_with(&holder_key(), &header.to_string(), &payload.to_string())
}

fn with_header(f: impl FnOnce(&mut Map)) -> String {
    let mut h = proof_header();
    f(h.as_object_mut().unwrap());
    raw_proof(&h, &proof_payload())
}

fn with_payload(f: impl FnOnce(&mut Map)) -> String {
    let mut p = proof_payload();
    f(p.as_object_mut().unwrap());
    raw_proof(&proof_header(), &p)
}

fn segment(text: &str, i: usize) -> Value {
    serde_json::from_slice(&b64::decode(text.split('.').nth(i).unwrap().as_bytes()).unwrap())
        .unwrap()
}

#[test]
fn create_then_verify() {
    let (text, verified) = token();
    let proof = prove_with(
        &holder_key(),
        &text,
        API,
        Some("n-0S6_WzA2Mj"),
        Some("req-hash"),
        NOW,
        1,
    );
    let opts = PopOptions::new(API)
        .expect_nonce("n-0S6_WzA2Mj")
        .expect_request_hash("req-hash");
    let mut replay = guard();
    let presented = verify_presentation(&proof, &verified, &opts, NOW, &mut replay).unwrap();
    let kid = keys::thumbprint(&holder_key().verifying_key());
    assert_eq!(presented.kid(), kid);
    assert_eq!(presented.audience(), API);
    assert_eq!(presented.iat(), NOW);
    assert_eq!(presented.jti(), b64::encode(&[1; 16]));
    assert_eq!(presented.nonce(), Some("n-0S6_WzA2Mj"));
    assert_eq!(presented.request_hash(), Some("req-hash"));
    assert_eq!(replay.len(), 1);

    // The wire format, pinned.
    assert_eq!(
        segment(&proof, 0),
        json!({ "alg": "EdDSA", "kid": kid, "typ": "captoken-pop+jwt" })
    );
    assert_eq!(
        segment(&proof, 1),
        json!({
            "ath": ath(&text), "aud": API, "iat": NOW, "jti": b64::encode(&[1; 16]),
            "nonce": "n-0S6_WzA2Mj", "req": "req-hash",
        })
    );
    let header = b64::decode(proof.split('.').next().unwrap().as_bytes()).unwrap();
    assert_eq!(
        String::from_utf8(header).unwrap(),
        format!(r#"{{"alg":"EdDSA","kid":"{kid}","typ":"captoken-pop+jwt"}}"#)
    );

    // Without the optional members.
    let proof = prove(&text, 2);
    assert_eq!(
        segment(&proof, 1),
        json!({ "ath": ath(&text), "aud": API, "iat": NOW, "jti": b64::encode(&[2; 16]) })
    );
    let presented =
        verify_presentation(&proof, &verified, &PopOptions::new(API), NOW, &mut replay).unwrap();
    assert_eq!(presented.nonce(), None);
    assert_eq!(presented.request_hash(), None);
}

#[test]
fn signed_by_another_key() {
    let (text, _) = token();
    // Honestly labelled with the other key: not the token's holder.
    let proof = prove_with(&other_key(), &text, API, None, None, NOW, 1);
    let err = check(&proof, &PopOptions::new(API), NOW, &mut guard()).unwrap_err();
    assert_eq!(err.code(), "pop_key_mismatch");
    assert_eq!(
        err,
        PopError::KeyMismatch {
            kid: keys::thumbprint(&other_key().verifying_key())
        }
    );
    // Labelled with the holder's `kid`, signed by another key.
    let forged = sign_raw_with(
        &other_key(),
        &proof_header().to_string(),
        &proof_payload().to_string(),
    );
    assert_eq!(code_of_proof(&forged), "bad_signature");
    // Signed by the token's issuer rather than its holder.
    let forged = sign_raw_with(
        &issuer_key(),
        &proof_header().to_string(),
        &proof_payload().to_string(),
    );
    assert_eq!(code_of_proof(&forged), "bad_signature");
}

#[test]
fn kid_of_another_key() {
    let proof = with_header(|h| {
        h.insert(
            "kid".into(),
            keys::thumbprint(&other_key().verifying_key()).into(),
        );
    });
    assert_eq!(code_of_proof(&proof), "pop_key_mismatch");
    // The issuer's `kid` is not the holder's either.
    let proof = with_header(|h| {
        h.insert(
            "kid".into(),
            keys::thumbprint(&issuer_key().verifying_key()).into(),
        );
    });
    assert_eq!(code_of_proof(&proof), "pop_key_mismatch");
    let proof = with_header(|h| {
        h.remove("kid");
    });
    assert_eq!(code_of_proof(&proof), "missing_kid");
    let proof = with_header(|h| {
        h.insert("kid".into(), json!(""));
    });
    assert_eq!(code_of_proof(&proof), "missing_kid");
}

#[test]
fn proof_for_another_token() {
    // Same holder, same claims except `jti`: a different token.
    let other = TokenIssuer::new(&issuer_key(), ISS)
        .issue(request(), NOW, 300, &mut SliceEntropy::new(&[43; 16]))
        .unwrap()
        .token;
    let proof = prove(&other, 1);
    let err = check(&proof, &PopOptions::new(API), NOW, &mut guard()).unwrap_err();
    assert_eq!(err, PopError::TokenMismatch);
    assert_eq!(err.code(), "pop_token_mismatch");

    // The proof is checked against the text the token was verified from,
    // which the verified token carries: no second copy to get wrong.
    let (text, verified) = token();
    assert_eq!(verified.text(), text);
    let proof = prove(&text, 3);
    assert_eq!(code_of_proof(&proof), "ok");
}

#[test]
fn wrong_audience() {
    let (text, _) = token();
    let proof = prove_with(
        &holder_key(),
        &text,
        "https://evil.example",
        None,
        None,
        NOW,
        1,
    );
    let err = check(&proof, &PopOptions::new(API), NOW, &mut guard()).unwrap_err();
    assert_eq!(err.code(), "pop_bad_audience");
    assert_eq!(
        err,
        PopError::BadAudience {
            expected: API.into(),
            found: "https://evil.example".into()
        }
    );
    // The token's own audience is not the proof's.
    let proof = prove_with(&holder_key(), &text, AUD, None, None, NOW, 2);
    assert_eq!(code_of_proof(&proof), "pop_bad_audience");
}

#[test]
fn a_proof_cannot_be_replayed_to_another_verifier() {
    let (text, verified) = token();
    let proof = prove(&text, 1);
    // Accepted once by the verifier it was made for…
    let mut ours = guard();
    verify_presentation(&proof, &verified, &PopOptions::new(API), NOW, &mut ours).unwrap();
    // …and refused by another verifier, which has never seen it.
    let mut theirs = guard();
    let err = verify_presentation(
        &proof,
        &verified,
        &PopOptions::new("https://other-api.example"),
        NOW,
        &mut theirs,
    )
    .unwrap_err();
    assert_eq!(err.code(), "pop_bad_audience");
    assert!(theirs.is_empty(), "a refused proof is not recorded");
}

#[test]
fn replayed_proof_is_refused() {
    let (text, verified) = token();
    let proof = prove(&text, 1);
    let opts = PopOptions::new(API);
    let mut replay = guard();
    verify_presentation(&proof, &verified, &opts, NOW, &mut replay).unwrap();
    let err = verify_presentation(&proof, &verified, &opts, NOW + 1, &mut replay).unwrap_err();
    assert_eq!(err.code(), "replayed");
    assert!(matches!(
        err,
        PopError::Replay(ReplayError::Replayed { .. })
    ));
    // A fresh proof of the same token is fine.
    verify_presentation(&prove(&text, 2), &verified, &opts, NOW + 1, &mut replay).unwrap();
    // Still refused at the end of its window.
    let err = verify_presentation(&proof, &verified, &opts, NOW + 59, &mut replay).unwrap_err();
    assert_eq!(err.code(), "replayed");
}

#[test]
fn a_refused_proof_does_not_burn_its_jti() {
    let (text, verified) = token();
    let proof = prove_with(&holder_key(), &text, API, Some("abc"), None, NOW, 1);
    let mut replay = guard();
    let wrong = PopOptions::new(API).expect_nonce("xyz");
    let err = verify_presentation(&proof, &verified, &wrong, NOW, &mut replay).unwrap_err();
    assert_eq!(err.code(), "pop_nonce_mismatch");
    let right = PopOptions::new(API).expect_nonce("abc");
    verify_presentation(&proof, &verified, &right, NOW, &mut replay).unwrap();
}

#[test]
fn proof_jtis_do_not_collide_with_token_jtis() {
    // One guard shared by single-use tokens and proofs: a proof whose `jti`
    // equals a token's does not burn the token.
    let (_, verified) = token();
    let mut shared = guard();
    let proof = with_payload(|p| {
        p.insert("jti".into(), verified.claims().jti.clone().into());
    });
    verify_presentation(&proof, &verified, &PopOptions::new(API), NOW, &mut shared).unwrap();
    shared
        .check_and_record(&verified.claims().jti, verified.claims().exp, NOW)
        .unwrap();
}

#[test]
fn a_full_guard_refuses() {
    let (text, verified) = token();
    let mut replay = MemoryReplayGuard::with_capacity(1);
    let opts = PopOptions::new(API);
    verify_presentation(&prove(&text, 1), &verified, &opts, NOW, &mut replay).unwrap();
    let err =
        verify_presentation(&prove(&text, 2), &verified, &opts, NOW, &mut replay).unwrap_err();
    assert_eq!(err.code(), "replay_guard_full");
}

#[test]
fn stale_proof_is_refused() {
    let (text, _) = token();
    let proof = prove(&text, 1);
    let opts = PopOptions::new(API);
    assert_eq!(code(check(&proof, &opts, NOW + 59, &mut guard())), "ok");
    let err = check(&proof, &opts, NOW + 60, &mut guard()).unwrap_err();
    assert_eq!(
        err,
        PopError::Stale {
            now: NOW + 60,
            iat: NOW,
            max_age: 60
        }
    );
    assert_eq!(err.code(), "pop_stale");
    // Leeway does not stretch the age.
    let lenient = PopOptions::new(API).leeway(30);
    assert_eq!(
        code(check(&proof, &lenient, NOW + 60, &mut guard())),
        "pop_stale"
    );
    // A shorter `max_age`, and clamping.
    let short = PopOptions::new(API).max_age(10);
    assert_eq!(code(check(&proof, &short, NOW + 9, &mut guard())), "ok");
    assert_eq!(
        code(check(&proof, &short, NOW + 10, &mut guard())),
        "pop_stale"
    );
    let zero = PopOptions::new(API).max_age(0);
    assert_eq!(code(check(&proof, &zero, NOW, &mut guard())), "ok");
    assert_eq!(
        code(check(&proof, &zero, NOW + 1, &mut guard())),
        "pop_stale"
    );
    let huge = PopOptions::new(API).max_age(i64::MAX);
    // Still inside the token's own lifetime (300 s), past MAX_MAX_AGE.
    assert_eq!(
        code(check(&proof, &huge, NOW + pop::MAX_MAX_AGE, &mut guard())),
        "pop_stale"
    );
}

#[test]
fn future_proof_is_refused() {
    let (text, _) = token();
    let proof = prove_with(&holder_key(), &text, API, None, None, NOW + 6, 1);
    let err = check(&proof, &PopOptions::new(API), NOW, &mut guard()).unwrap_err();
    assert_eq!(
        err,
        PopError::InFuture {
            now: NOW,
            iat: NOW + 6
        }
    );
    assert_eq!(err.code(), "pop_in_future");
    // Within the default leeway of 5 s.
    let proof = prove_with(&holder_key(), &text, API, None, None, NOW + 5, 2);
    assert_eq!(code_of_proof(&proof), "ok");
    let strict = PopOptions::new(API).leeway(0);
    assert_eq!(
        code(check(&proof, &strict, NOW, &mut guard())),
        "pop_in_future"
    );
}

#[test]
fn nonce_must_match_when_expected() {
    let (text, _) = token();
    let opts = PopOptions::new(API).expect_nonce("challenge-1");
    let without = prove(&text, 1);
    let err = check(&without, &opts, NOW, &mut guard()).unwrap_err();
    assert_eq!(err, PopError::NonceMismatch { found: None });
    assert_eq!(err.code(), "pop_nonce_mismatch");
    let wrong = prove_with(&holder_key(), &text, API, Some("challenge-2"), None, NOW, 2);
    let err = check(&wrong, &opts, NOW, &mut guard()).unwrap_err();
    assert_eq!(
        err,
        PopError::NonceMismatch {
            found: Some("challenge-2".into())
        }
    );
    let right = prove_with(&holder_key(), &text, API, Some("challenge-1"), None, NOW, 3);
    assert_eq!(code(check(&right, &opts, NOW, &mut guard())), "ok");
    // A nonce nobody asked for is harmless.
    assert_eq!(code_of_proof(&right), "ok");
}

#[test]
fn request_hash_must_match_when_expected() {
    let (text, _) = token();
    let opts = PopOptions::new(API).expect_request_hash("h1");
    let err = check(&prove(&text, 1), &opts, NOW, &mut guard()).unwrap_err();
    assert_eq!(err, PopError::RequestMismatch { found: None });
    assert_eq!(err.code(), "pop_request_mismatch");
    let wrong = prove_with(&holder_key(), &text, API, None, Some("h2"), NOW, 2);
    assert_eq!(
        code(check(&wrong, &opts, NOW, &mut guard())),
        "pop_request_mismatch"
    );
    let right = prove_with(&holder_key(), &text, API, None, Some("h1"), NOW, 3);
    assert_eq!(code(check(&right, &opts, NOW, &mut guard())), "ok");
}

#[test]
fn a_token_is_not_a_proof() {
    let (text, verified) = token();
    let err = verify_presentation(&text, &verified, &PopOptions::new(API), NOW, &mut guard())
        .unwrap_err();
    assert_eq!(err.code(), "bad_typ");
    assert_eq!(
        err.to_string(),
        "header `typ` is `captoken+jwt`, expected `captoken-pop+jwt`"
    );
    // A token the holder signed (a delegation, say) is no proof either.
    let mut h = proof_header();
    h["typ"] = json!("captoken+jwt");
    assert_eq!(code_of_proof(&raw_proof(&h, &proof_payload())), "bad_typ");
    // Nor is a revocation list.
    let list = RevocationListIssuer::new(&holder_key())
        .sign(&RevocationList::new(ISS, 1, NOW, NOW + 60))
        .unwrap();
    assert_eq!(code_of_proof(&list), "bad_typ");
}

#[test]
fn a_proof_is_not_a_token() {
    let (text, _) = token();
    assert_eq!(code_of(&prove(&text, 1)), "bad_typ");
}

#[test]
fn typ_and_header_policy() {
    for typ in [json!("captoken-pop+JWT"), json!("dpop+jwt"), json!(1)] {
        let proof = with_header(|h| {
            h.insert("typ".into(), typ.clone());
        });
        assert_eq!(code_of_proof(&proof), "bad_typ", "typ {typ}");
    }
    let proof = with_header(|h| {
        h.remove("typ");
    });
    let err = check(&proof, &PopOptions::new(API), NOW, &mut guard()).unwrap_err();
    assert_eq!(
        err,
        PopError::Token(captoken_core::TokenError::BadTyp {
            expected: captoken_core::pop::TYP,
            found: None
        })
    );
    // DPoP carries its key in `jwk`; here the key comes from the token.
    let proof = with_header(|h| {
        h.insert(
            "jwk".into(),
            keys::public_jwk(&holder_key().verifying_key()),
        );
    });
    assert_eq!(code_of_proof(&proof), "untrusted_key_header");
    let proof = with_header(|h| {
        h.insert("nonce".into(), json!("x"));
    });
    assert_eq!(code_of_proof(&proof), "bad_header");
    let proof = with_header(|h| {
        h.insert("alg".into(), json!("HS256"));
    });
    assert_eq!(code_of_proof(&proof), "unsupported_alg");
    assert_eq!(code_of_proof("x.y"), "malformed_token");
    assert_eq!(
        code_of_proof(&"a".repeat(pop::DEFAULT_LIMITS.max_token_len + 1)),
        "token_too_large"
    );
}

#[test]
fn tampered_payload_is_refused() {
    let (text, _) = token();
    let proof = prove(&text, 1);
    let parts: Vec<&str> = proof.split('.').collect();
    for (member, value) in [
        ("aud", json!("https://evil.example")),
        ("iat", json!(NOW + 1000)),
        ("jti", json!(b64::encode(&[9; 16]))),
        ("nonce", json!("challenge")),
    ] {
        let mut payload = segment(&proof, 1);
        payload[member] = value;
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64::encode(payload.to_string().as_bytes()),
            parts[2]
        );
        assert_eq!(code_of_proof(&forged), "bad_signature", "{member}");
    }
    let mut sig = b64::decode(parts[2].as_bytes()).unwrap();
    sig[63] ^= 0x10;
    let forged = format!("{}.{}.{}", parts[0], parts[1], b64::encode(&sig));
    assert_eq!(code_of_proof(&forged), "bad_signature");
}

#[test]
fn payload_schema_is_strict() {
    assert_eq!(
        code_of_proof(&raw_proof(&proof_header(), &proof_payload())),
        "ok"
    );
    let proof = with_payload(|p| {
        p.insert("htm".into(), json!("POST"));
    });
    let err = check(&proof, &PopOptions::new(API), NOW, &mut guard()).unwrap_err();
    assert_eq!(err.code(), "bad_presentation");
    assert_eq!(
        err.to_string(),
        "proof claim `htm` is invalid: is not a member of a presentation"
    );
    for member in ["aud", "iat", "jti", "ath"] {
        let proof = with_payload(|p| {
            p.remove(member);
        });
        assert_eq!(
            code_of_proof(&proof),
            "bad_presentation",
            "without {member}"
        );
    }
    for (member, value) in [
        ("aud", json!("")),
        ("aud", json!([API])),
        ("iat", json!(1_700_000_000.0)),
        ("iat", json!(-1)),
        ("iat", json!("1700000000")),
        ("iat", json!(1i64 << 53)),
        ("jti", json!(b64::encode(&[5; 15]))),
        ("jti", json!(b64::encode(&[5; 65]))),
        ("jti", json!(format!("{}=", b64::encode(&[5; 16])))),
        ("jti", json!(1)),
        ("ath", json!(b64::encode(&[5; 31]))),
        ("ath", json!(b64::encode(&[5; 33]))),
        ("nonce", json!("")),
        ("nonce", json!(null)),
        ("req", json!(1)),
    ] {
        let proof = with_payload(|p| {
            p.insert(member.into(), value.clone());
        });
        assert_eq!(
            code_of_proof(&proof),
            "bad_presentation",
            "{member}: {value}"
        );
    }
    // A float that happens to be whole is still a float.
    let payload = proof_payload()
        .to_string()
        .replace(&format!("\"iat\":{NOW}"), &format!("\"iat\":{NOW}.0"));
    assert!(payload.contains(".0"));
    let proof = sign_raw_with(&holder_key(), &proof_header().to_string(), &payload);
    assert_eq!(code_of_proof(&proof), "bad_presentation");
    // Strict JSON.
    let payload = proof_payload()
        .to_string()
        .replacen('{', &format!("{{\"aud\":\"{API}\","), 1);
    let proof = sign_raw_with(&holder_key(), &proof_header().to_string(), &payload);
    assert_eq!(code_of_proof(&proof), "duplicate_key");
}

#[test]
fn a_holder_key_that_fails_to_decode_fails_closed() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut claims = claims_json();
    claims["cnf"] =
        json!({ "jwk": { "kty": "OKP", "crv": "Ed25519", "x": b64::encode(&identity) } });
    let text = sign_values(&header_json(), &claims);
    let verified = verifier(&keyset()).verify(&text, NOW).unwrap();
    let mut header = proof_header();
    header["kid"] = json!(keys::thumbprint_of(&identity));
    let mut payload = proof_payload();
    payload["ath"] = json!(ath(&text));
    let proof = raw_proof(&header, &payload);
    let err = verify_presentation(&proof, &verified, &PopOptions::new(API), NOW, &mut guard())
        .unwrap_err();
    assert_eq!(err.code(), "weak_key");
}

#[test]
fn creating_refuses_bad_inputs() {
    let (text, _) = token();
    let make = |aud: &str, nonce: Option<&str>, req: Option<&str>, now: i64| {
        create_presentation(
            &holder_key(),
            &text,
            aud,
            nonce,
            req,
            now,
            &mut SliceEntropy::new(&[1; 16]),
        )
        .map_err(|e| e.code())
    };
    assert_eq!(make("", None, None, NOW), Err("bad_presentation"));
    assert_eq!(make(API, Some(""), None, NOW), Err("bad_presentation"));
    assert_eq!(make(API, None, Some(""), NOW), Err("bad_presentation"));
    assert_eq!(make(API, None, None, -1), Err("bad_presentation"));
    assert_eq!(make(API, None, None, 1 << 53), Err("bad_presentation"));
    assert!(make(API, None, None, NOW).is_ok());
    let err = create_presentation(
        &holder_key(),
        &text,
        API,
        None,
        None,
        NOW,
        &mut SliceEntropy::new(&[1; 15]),
    )
    .unwrap_err();
    assert_eq!(err.code(), "entropy_unavailable");
}

#[test]
fn a_delegated_token_is_presented_by_its_own_holder() {
    let (parent_text, parent) = token();
    let grandchild_key = SigningKey::from_bytes(&[13; 32]);
    let mut req = request_json();
    req["sub"] = json!("operator-2");
    req["cnf"] = json!({ "jwk": keys::public_jwk(&grandchild_key.verifying_key()) });
    let child_request =
        captoken_core::TokenRequest::from_json(req.as_object().unwrap().clone()).unwrap();
    let chain = Delegation::of(&parent)
        .ttl(60)
        .max_depth(3)
        .sign(
            &holder_key(),
            child_request,
            NOW,
            &mut SliceEntropy::new(&[44; 16]),
        )
        .unwrap()
        .token;
    let child = verifier(&keyset()).verify(&chain, NOW).unwrap();
    let leaf = chain.split('~').next().unwrap();

    let proof = prove_with(&grandchild_key, &chain, API, None, None, NOW, 1);
    // `ath` is the hash of the leaf, which names its ancestors by hash.
    assert_eq!(segment(&proof, 1)["ath"], json!(ath(leaf)));
    let opts = PopOptions::new(API);
    verify_presentation(&proof, &child, &opts, NOW, &mut guard()).unwrap();
    // The parent's holder cannot present the child.
    let proof = prove_with(&holder_key(), &chain, API, None, None, NOW, 2);
    let err = verify_presentation(&proof, &child, &opts, NOW, &mut guard()).unwrap_err();
    assert_eq!(err.code(), "pop_key_mismatch");
    // Nor the child's holder the parent.
    let proof = prove_with(&grandchild_key, &parent_text, API, None, None, NOW, 3);
    let err = verify_presentation(&proof, &parent, &opts, NOW, &mut guard()).unwrap_err();
    assert_eq!(err.code(), "pop_key_mismatch");
    // A proof bound to the parent's text is not a proof of the child, even
    // by the child's holder.
    let proof = prove_with(&grandchild_key, &parent_text, API, None, None, NOW, 4);
    let err = verify_presentation(&proof, &child, &opts, NOW, &mut guard()).unwrap_err();
    assert_eq!(err.code(), "pop_token_mismatch");
}

#[test]
fn codes_and_messages() {
    let cases = [
        (PopError::TokenMismatch, "pop_token_mismatch"),
        (
            PopError::KeyMismatch { kid: "k".into() },
            "pop_key_mismatch",
        ),
        (
            PopError::BadAudience {
                expected: "a".into(),
                found: "b".into(),
            },
            "pop_bad_audience",
        ),
        (
            PopError::Stale {
                now: 2,
                iat: 1,
                max_age: 1,
            },
            "pop_stale",
        ),
        (PopError::InFuture { now: 1, iat: 2 }, "pop_in_future"),
        (
            PopError::NonceMismatch { found: None },
            "pop_nonce_mismatch",
        ),
        (
            PopError::RequestMismatch { found: None },
            "pop_request_mismatch",
        ),
        (
            PopError::BadPresentation {
                path: "jti".into(),
                reason: "x".into(),
            },
            "bad_presentation",
        ),
        (
            PopError::Replay(ReplayError::Full { capacity: 1 }),
            "replay_guard_full",
        ),
    ];
    for (err, code) in cases {
        assert_eq!(err.code(), code);
        let msg = err.to_string();
        assert!(!msg.ends_with('.'), "{msg}");
        assert_eq!(
            msg.chars().next(),
            msg.to_lowercase().chars().next(),
            "{msg}"
        );
    }
}
