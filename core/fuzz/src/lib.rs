//! What the fuzz targets and the seed generator share: fixed keys, a
//! valid token, and the request around a fuzzed member.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use captoken_core::b64;
use captoken_core::json::{self, Map, Value};
use captoken_core::ops;

/// The issuer the fixtures trust.
pub const ISS: &str = "https://issuer.example";
/// The audience the fixtures' tokens are for.
pub const AUD: &str = "robot-gateway";
/// The fixtures' clock.
pub const NOW: i64 = 1_700_000_000;

/// A JSON document from text the fixtures write.
pub fn doc(text: &str) -> Value {
    json::parse(text.as_bytes(), 64).expect("fixture json")
}

/// Run `op` on `request`, which must succeed (fixtures only).
pub fn ok(op: &str, request: &Value) -> Value {
    let out = ops::call_named(op, &request.to_vec())
        .unwrap_or_else(|err| panic!("fixture {op}: {}", err.code()));
    json::parse(&out, 64).expect("module json")
}

/// The key pair made from seed byte `n`: `{kid, private_jwk, public_jwk}`.
pub fn key(n: u8) -> Value {
    let mut request = Map::new();
    request.insert("seed".into(), Value::String(b64::encode(&[n; 32])));
    ok("keygen", &Value::Object(request))
}

/// The issuer's public key set (made once: targets call it per input).
pub fn jwks() -> Value {
    static JWKS: OnceLock<Value> = OnceLock::new();
    JWKS.get_or_init(|| doc(&format!(r#"{{"keys": [{}]}}"#, key(1)["public_jwk"])))
        .clone()
}

/// A token the issuer (key 1) signed for the holder (key 2).
pub fn token() -> String {
    let request = doc(&format!(
        r#"{{"key": {}, "issuer": "{ISS}", "now": {NOW}, "ttl": 300, "entropy": "{}",
            "claims": {{"sub": "operator-1", "aud": "{AUD}", "cnf": {{"jwk": {}}},
                        "caps": [{{"actions": ["drive", "stop"], "resources": ["robot:7"],
                                   "constraints": {{"max_purchase": 10}}}}]}}}}"#,
        key(1)["private_jwk"],
        b64::encode(&[3; 16]),
        key(2)["public_jwk"],
    ));
    ok("issue", &request)["token"].as_str().unwrap().to_owned()
}

/// The members every verifying operation shares, trusting key 1.
pub fn trust() -> Map {
    let mut map = Map::new();
    map.insert("jwks".into(), jwks());
    map.insert("issuer".into(), ISS.into());
    map.insert("audience".into(), AUD.into());
    map.insert("now".into(), Value::from(NOW + 1));
    map
}

/// Fuzz bytes as a JSON string member (lossy: a JSON request can only carry
/// text).
pub fn text(data: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(data).into_owned())
}

/// Call `op` on `request`; whatever it answers must be JSON the reader
/// takes back, an error included. Panics otherwise (a finding).
pub fn call_checked(op: &str, request: &Value) -> Result<Value, String> {
    match ops::call_named(op, &request.to_vec()) {
        Ok(out) => {
            Ok(json::parse(&out, 64)
                .unwrap_or_else(|err| panic!("{op} answered invalid json: {err}")))
        }
        Err(err) => {
            let body = err.to_json();
            json::parse(&body, 64)
                .unwrap_or_else(|e| panic!("{op} refused with invalid json: {e}"));
            assert!(!err.code().is_empty(), "{op}: an error without a code");
            Err(err.code().to_owned())
        }
    }
}
