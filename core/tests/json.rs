//! The strict JSON reader and printer against `serde_json`, as a reference:
//! the same documents accepted, the same bytes printed.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use captoken_core::json::{self, JsonError};
use proptest::prelude::*;
use serde_json::Value as Reference;

fn leaf() -> impl Strategy<Value = Reference> {
    prop_oneof![
        Just(Reference::Null),
        any::<bool>().prop_map(Reference::Bool),
        any::<u64>().prop_map(Reference::from),
        any::<i64>().prop_map(Reference::from),
        // Any char, control characters and astral ones included.
        ".{0,8}".prop_map(Reference::String),
        proptest::collection::vec(any::<char>(), 0..6)
            .prop_map(|c| Reference::String(c.into_iter().collect())),
    ]
}

fn value() -> impl Strategy<Value = Reference> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Reference::Array),
            proptest::collection::btree_map(".{0,6}", inner, 0..6)
                .prop_map(|m| Reference::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Integers, strings, booleans, null, arrays and objects: read back and
    /// printed exactly as `serde_json` prints them (keys sorted, compact).
    #[test]
    fn prints_what_serde_json_prints(v in value()) {
        let text = serde_json::to_string(&v).unwrap();
        let ours = json::parse(text.as_bytes(), 64).unwrap();
        prop_assert_eq!(ours.to_string(), text.clone());
        // Pretty-printed input reads to the same value.
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        prop_assert_eq!(json::parse(pretty.as_bytes(), 64).unwrap(), ours);
    }

    /// One byte inserted, removed or replaced anywhere in a document: both
    /// readers accept or both refuse (duplicate keys aside, which only we
    /// refuse).
    #[test]
    fn accepts_exactly_what_serde_json_accepts(
        v in value(),
        at in any::<prop::sample::Index>(),
        byte in prop_oneof![
            Just(b'"'), Just(b'\\'), Just(b','), Just(b':'), Just(b'{'), Just(b'}'),
            Just(b'['), Just(b']'), Just(b'-'), Just(b'.'), Just(b'e'), Just(b'0'),
            Just(b'u'), Just(b' '), Just(0x1f), Just(0x80), Just(0xff), any::<u8>(),
        ],
        edit in 0..3u8,
    ) {
        let mut bytes = serde_json::to_vec(&v).unwrap();
        let i = at.index(bytes.len() + 1);
        match edit {
            0 => bytes.insert(i, byte),
            1 if i < bytes.len() => { bytes.remove(i); }
            _ if i < bytes.len() => bytes[i] = byte,
            _ => bytes.push(byte),
        }
        let reference = serde_json::from_slice::<Reference>(&bytes);
        // serde_json converts every number to a float and refuses the ones
        // that overflow (`1e400`); we never convert, so those stay text.
        let overflow = reference.as_ref().is_err_and(|e| e.to_string().contains("out of range"));
        let reference = reference.is_ok();
        match json::parse(&bytes, 64) {
            Err(JsonError::DuplicateKey(_)) => {}
            Ok(_) if overflow => {}
            ours => prop_assert_eq!(
                ours.is_ok(), reference, "{}", String::from_utf8_lossy(&bytes)
            ),
        }
    }
}

#[test]
fn non_integer_numbers_are_numbers_to_both() {
    for text in [
        "0.5",
        "-1.25e-3",
        "1E+2",
        "-0",
        "0.0",
        "123456789012345678901234567890",
    ] {
        assert!(serde_json::from_str::<Reference>(text).is_ok(), "{text}");
        let ours = json::parse(text.as_bytes(), 1).unwrap();
        assert_eq!(ours.to_string(), text, "kept as written");
        assert_eq!(ours.as_i64(), None, "{text} is not an integer here");
    }
    // Beyond f64: still a number by the grammar, kept as text (serde_json
    // refuses it); no field that wants an integer takes it.
    assert!(serde_json::from_str::<Reference>("1e400").is_err());
    assert_eq!(json::parse(b"1e400", 1).unwrap().to_string(), "1e400");
}
