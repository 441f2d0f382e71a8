//! Audit records: any document as a chain, and as the last record an
//! append extends.
#![no_main]

use captoken_core::json::{self, Map, Value};
use captoken_fuzz::{call_checked, doc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(records) = json::parse(data, 32) else {
        return;
    };
    let mut verify = Map::new();
    verify.insert("records".into(), records.clone());
    let _ = call_checked("audit_verify", &verify.into());
    let last = match records {
        Value::Array(mut items) if !items.is_empty() => items.remove(0),
        other => other,
    };
    let mut append = Map::new();
    append.insert("last".into(), last);
    append.insert("time".into(), Value::from(1_700_000_000i64));
    append.insert("event".into(), "token_revoked".into());
    append.insert(
        "data".into(),
        doc(r#"{"id": "AAAAAAAAAAAAAAAAAAAAAA", "reason": "lost"}"#),
    );
    let _ = call_checked("audit_append", &append.into());
});
