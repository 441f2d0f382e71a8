//! Inputs the fuzz targets (core/fuzz, scripts/fuzz.sh) found worth
//! keeping, each with what it showed; a finding that was a bug stays here
//! as the test that failed before its fix.
#![allow(clippy::unwrap_used)]

use captoken_core::json;

/// `json` target, first run: `1.5e600` is a number to this reader and an
/// error to serde_json ("number out of range"). By design: numbers other
/// than 64-bit integers are kept as written and never converted, so they
/// are printed back byte for byte, whatever their magnitude. The oracle
/// allows exactly this difference.
#[test]
fn a_number_past_the_range_of_a_double_is_kept_as_written() {
    let text = br#"{"a":[1.5e600,-0,18446744073709551616,-1e-400]}"#;
    let value = json::parse(text, 8).unwrap();
    assert_eq!(value.to_vec(), text.to_vec());
    assert!(serde_json::from_slice::<serde_json::Value>(text).is_err());
}
