//! Signed revocation lists, verified offline: any text as the list, with
//! and without a last seen sequence number.
#![no_main]

use captoken_core::json::{Map, Value};
use captoken_fuzz::{ISS, NOW, call_checked, jwks, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut request = Map::new();
    request.insert("list".into(), text(data));
    request.insert("jwks".into(), jwks());
    request.insert("issuer".into(), ISS.into());
    request.insert("now".into(), Value::from(NOW));
    let _ = call_checked("revocation_list_verify", &request.clone().into());
    request.insert(
        "last_seen_seq".into(),
        Value::from(u64::from(data.len() as u32)),
    );
    let _ = call_checked("revocation_list_verify", &request.into());
});
