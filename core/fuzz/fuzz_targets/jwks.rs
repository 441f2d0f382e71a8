//! JWK and JWKS reading: any document, as a key set and as one key.
#![no_main]

use captoken_core::json;
use captoken_core::keys::{self, KeySet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = json::parse(data, 16) else {
        return;
    };
    if let Ok(set) = KeySet::from_jwks("https://issuer.example", &doc) {
        // Whatever is trusted has a kid equal to its thumbprint.
        let _ = set;
    }
    if let Ok(key) = keys::verifying_key_from_jwk(&doc) {
        let kid = keys::thumbprint(&key);
        assert_eq!(kid.len(), 43, "a thumbprint is 32 bytes, base64url");
    }
    let _ = keys::signing_key_from_jwk(&doc);
});
