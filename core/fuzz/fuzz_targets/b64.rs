//! base64url: one spelling per byte string. Whatever decodes, encodes back
//! to exactly the input; whatever is encoded decodes back.
#![no_main]

use captoken_core::b64;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bytes) = b64::decode(data) {
        assert_eq!(
            b64::encode(&bytes).as_bytes(),
            data,
            "non-canonical spelling accepted"
        );
    }
    let encoded = b64::encode(data);
    assert_eq!(
        b64::decode(encoded.as_bytes()).expect("own encoding decodes"),
        data
    );
});
