//! Shared fixtures for the core's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use captoken_core::b64;
use captoken_core::json::Value;
use captoken_core::keys;
use captoken_core::{
    KeySet, SigningKey, SliceEntropy, TokenIssuer, TokenRequest, TrustedKey, Verifier,
};
use ed25519_dalek::Signer;

// `tests/lit` is a module of the test files themselves; this one is
// included beside it, so it spells the conversion out.
macro_rules! json {
    ($($t:tt)+) => {
        ::serde_json::from_value::<Value>(::serde_json::json!($($t)+)).unwrap()
    };
}

pub const ISS: &str = "https://gw.example";
pub const AUD: &str = "robot-gateway";
pub const NOW: i64 = 1_700_000_000;

pub fn issuer_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

pub fn holder_key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

pub fn keyset() -> KeySet {
    let mut keys = KeySet::new(ISS);
    keys.insert(TrustedKey::new(issuer_key().verifying_key(), None, None))
        .unwrap();
    keys
}

pub fn verifier(keys: &KeySet) -> Verifier<'_> {
    Verifier::new(keys, AUD).leeway(0)
}

pub fn request_json() -> Value {
    json!({
        "sub": "operator-1",
        "aud": AUD,
        "cnf": { "jwk": keys::public_jwk(&holder_key().verifying_key()) },
        "caps": [{
            "actions": ["drive"],
            "resources": ["robot:7"],
            "constraints": { "domains": ["*.example.com"], "max_purchase": 0, "pii_access": false }
        }],
        "plan_id": "plan-1",
    })
}

pub fn request() -> TokenRequest {
    TokenRequest::from_json(request_json().as_object().unwrap().clone()).unwrap()
}

pub fn issue_at(now: i64, ttl: u64) -> String {
    TokenIssuer::new(&issuer_key(), ISS)
        .issue(request(), now, ttl, &mut SliceEntropy::new(&[42; 16]))
        .unwrap()
        .token
}

/// The claims a well-formed token issued at NOW for 300 s carries.
pub fn claims_json() -> Value {
    let mut claims = request_json();
    let map = claims.as_object_mut().unwrap();
    map.insert("ver".into(), 1.into());
    map.insert("iss".into(), ISS.into());
    map.insert("iat".into(), NOW.into());
    map.insert("nbf".into(), NOW.into());
    map.insert("exp".into(), (NOW + 300).into());
    map.insert("jti".into(), b64::encode(&[42; 16]).into());
    claims
}

pub fn header_json() -> Value {
    json!({ "alg": "EdDSA", "typ": "captoken+jwt", "kid": keys::thumbprint(&issuer_key().verifying_key()) })
}

/// Sign arbitrary header and payload text with the trusted issuer key, so a
/// test reaches exactly the check it is about.
pub fn sign_raw(header: &str, payload: &str) -> String {
    sign_raw_with(&issuer_key(), header, payload)
}

pub fn sign_raw_with(key: &SigningKey, header: &str, payload: &str) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(payload.as_bytes())
    );
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", b64::encode(&sig.to_bytes()))
}

pub fn sign_values(header: &Value, payload: &Value) -> String {
    sign_raw(&header.to_string(), &payload.to_string())
}

/// The error code verifying `token` at NOW with zero leeway yields.
pub fn code_of(token: &str) -> &'static str {
    let keys = keyset();
    match verifier(&keys).verify(token, NOW) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

/// Every request of a small universe in which grants overlap often, with
/// values on both sides of the limits the test strategies use (10/11, a
/// domain inside and outside every pattern), so containment and meet bugs
/// show up as a request allowed by one side only.
pub fn all_requests() -> Vec<captoken_core::scope::Request> {
    let mut out = Vec::new();
    for action in ["drive", "stop", "read", "dx"] {
        for resource in ["robot:1", "robot:2", "cam:1", "robot:"] {
            for domain in [
                None,
                Some("a.com"),
                Some("b.a.com"),
                Some("c.b.a.com"),
                Some("x.com"),
            ] {
                for purchase in [None, Some(5u64), Some(10), Some(11), Some(50)] {
                    for pii in [None, Some(true)] {
                        for room in [None, Some("lab"), Some("roof")] {
                            let mut context = captoken_core::scope::Context::default();
                            context.domain = domain.map(String::from);
                            context.purchase_amount = purchase;
                            context.pii = pii;
                            context.room = room.map(String::from);
                            out.push(captoken_core::scope::Request::new(
                                action, resource, context,
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Runs `op` from the operations table, as a host does: its output parsed,
/// or its error code.
pub fn op_call(op: &str, request: &Value) -> Result<Value, String> {
    captoken_core::ops::call_named(op, &request.to_vec())
        .map(|out| captoken_core::json::parse(&out, 64).unwrap())
        .map_err(|err| err.code().to_string())
}

/// Runs `op`, which must succeed.
pub fn op_ok(op: &str, request: &Value) -> Value {
    op_call(op, request).unwrap_or_else(|code| panic!("{op}: {code}"))
}

/// The `keygen` answer for the seed `[n; 32]`.
pub fn op_key(n: u8) -> Value {
    op_ok("keygen", &json!({ "seed": b64::encode(&[n; 32]) }))
}
