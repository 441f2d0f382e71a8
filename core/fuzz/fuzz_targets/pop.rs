//! Proofs of possession: any text as the proof of a valid token.
#![no_main]

use std::sync::OnceLock;

use captoken_core::json::Value;
use captoken_fuzz::{call_checked, text, token, trust};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static TOKEN: OnceLock<String> = OnceLock::new();
    let mut request = trust();
    request.insert(
        "token".into(),
        Value::String(TOKEN.get_or_init(token).clone()),
    );
    request.insert("proof".into(), text(data));
    request.insert("pop_audience".into(), "svc".into());
    let _ = call_checked("pop_verify", &request.into());
});
