//! The strict JSON reader, differentially against serde_json: whatever it
//! accepts, serde_json accepts too, as the same value; its printer's output
//! reads back to the same value (and prints the same bytes again).
#![no_main]

use captoken_core::json::{self, Value};
use libfuzzer_sys::fuzz_target;

fn same(ours: &Value, theirs: &serde_json::Value) -> bool {
    match (ours, theirs) {
        (Value::Null, serde_json::Value::Null) => true,
        (Value::Bool(a), serde_json::Value::Bool(b)) => a == b,
        (Value::String(a), serde_json::Value::String(b)) => a == b,
        (Value::Number(a), serde_json::Value::Number(b)) => {
            if let Some(n) = a.as_u64() {
                b.as_u64() == Some(n)
            } else if let Some(n) = a.as_i64() {
                b.as_i64() == Some(n)
            } else {
                // Kept as written: a fraction, an exponent, -0, or an
                // integer past 64 bits; serde reads those as a float.
                b.is_f64() || b.as_u64().is_none() && b.as_i64().is_none()
            }
        }
        (Value::Array(a), serde_json::Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), serde_json::Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k.as_str()).is_some_and(|w| same(v, w)))
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(ours) = json::parse(data, 64) else {
        return;
    };
    let theirs: serde_json::Value = match serde_json::from_slice(data) {
        Ok(theirs) => theirs,
        // The one difference by design: a number is kept as written, never
        // converted, so one past f64's range (`1e400`) is a number here and
        // an error to serde_json (fuzz_regressions.rs pins it).
        Err(err) if err.to_string().starts_with("number out of range") => return,
        Err(err) => panic!("we accept what serde_json refuses ({err})"),
    };
    assert!(same(&ours, &theirs), "different values: {ours} vs {theirs}");
    let printed = ours.to_vec();
    let again = json::parse(&printed, 64).expect("our printer's output reads back");
    assert_eq!(again, ours, "the printed value reads back the same");
    assert_eq!(again.to_vec(), printed, "printing is stable");
});
