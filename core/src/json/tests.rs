#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::*;
use alloc::format;
use alloc::string::ToString;

fn round(doc: &str) -> String {
    parse(doc.as_bytes(), 16).unwrap().to_string()
}

#[test]
fn accepts_plain_objects() {
    let m = parse_object(br#"{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}"#, 4).unwrap();
    assert_eq!(m.len(), 3);
    assert_eq!(m.get("a").and_then(Value::as_u64), Some(1));
}

#[test]
fn refuses_duplicates_at_any_depth() {
    assert_eq!(
        parse_object(br#"{"a":1,"a":2}"#, 4),
        Err(JsonError::DuplicateKey("a".into()))
    );
    assert_eq!(
        parse_object(br#"{"x":{"k":1,"k":1}}"#, 4),
        Err(JsonError::DuplicateKey("k".into()))
    );
    // Escapes are decoded before keys are compared.
    assert_eq!(
        parse_object(br#"{"a":1,"\u0061":2}"#, 4),
        Err(JsonError::DuplicateKey("a".into()))
    );
}

#[test]
fn refuses_deep_nesting_without_recursing_into_it() {
    let deep = "[".repeat(100_000);
    let doc = format!(r#"{{"a":{deep}"#);
    assert_eq!(
        parse_object(doc.as_bytes(), 8),
        Err(JsonError::TooDeep { limit: 8 })
    );
    // Brackets inside strings do not count; exactly the limit is fine.
    assert!(parse_object(br#"{"a":"[[[[[[[[[[[["}"#, 1).is_ok());
    assert!(parse_object(br#"{"a":[[1]]}"#, 3).is_ok());
    assert_eq!(
        parse_object(br#"{"a":[[1]]}"#, 2),
        Err(JsonError::TooDeep { limit: 2 })
    );
}

#[test]
fn refuses_non_objects_and_malformed_text() {
    assert_eq!(parse_object(b"[1]", 4), Err(JsonError::NotObject));
    assert_eq!(parse_object(b"\"s\"", 4), Err(JsonError::NotObject));
    for bad in [
        &b"{\"a\":\"\xff\"}"[..],
        br#"{"a":"\ud800"}"#,
        br#"{"a":"\udc00\ud800"}"#,
        br#"{"a":"\ud800\u0041"}"#,
        b"{\"a\":1} x",
        b"{\"a\":01}",
        b"{\"a\":1.}",
        b"{\"a\":.5}",
        b"{\"a\":1e}",
        b"{\"a\":+1}",
        b"{\"a\":-}",
        b"{\"a\":tru}",
        b"{\"a\":NaN}",
        b"{\"a\":\"x\ty\"}",
        b"{\"a\":\"\\x\"}",
        b"{\"a\":\"\\u12g4\"}",
        b"{\"a\":[1,]}",
        b"{\"a\":1,}",
        b"{a:1}",
        b"{\"a\" 1}",
        b"{\"a\":\"unterminated}",
        b"",
        b"   ",
        b"{\"a\":1}\x00",
    ] {
        assert_eq!(
            parse_object(bad, 4).unwrap_err().code(),
            "bad_json",
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn numbers_are_exact_integers_or_kept_as_written() {
    let v = parse(
        br#"[0, 7, -7, 18446744073709551615, -9223372036854775808]"#,
        2,
    )
    .unwrap();
    assert_eq!(v[0].as_u64(), Some(0));
    assert_eq!(v[1].as_i64(), Some(7));
    assert_eq!(v[2].as_i64(), Some(-7));
    assert_eq!(v[2].as_u64(), None);
    assert_eq!(v[3].as_u64(), Some(u64::MAX));
    assert_eq!(v[3].as_i64(), None);
    assert_eq!(v[4].as_i64(), Some(i64::MIN));
    for text in [
        "1.5",
        "1e3",
        "-0",
        "18446744073709551616",
        "-9223372036854775809",
        "2.0",
    ] {
        let n = parse(text.as_bytes(), 1).unwrap();
        assert_eq!(n.as_u64(), None, "{text}");
        assert_eq!(n.as_i64(), None, "{text}");
        assert_eq!(n.to_string(), text);
    }
    assert_eq!(Number::from_text("12").and_then(|n| n.as_u64()), Some(12));
    assert_eq!(Number::from_text("1 "), None);
}

#[test]
fn prints_compact_sorted_and_escaped() {
    assert_eq!(
        round(
            " { \"b\" : [ 1 , -2 , true , null ] , \"a\" : { \"z\" : \"\\u0001\\t\\\"\\\\\\/é\\ud83d\\ude00\" , \"y\" : 1.50 } } "
        ),
        "{\"a\":{\"y\":1.50,\"z\":\"\\u0001\\t\\\"\\\\/é😀\"},\"b\":[1,-2,true,null]}"
    );
    assert_eq!(round("\"\\u007f\\u001F\""), "\"\u{7f}\\u001f\"");
    assert_eq!(round("{}"), "{}");
    assert_eq!(round("[]"), "[]");
}

#[test]
fn strings_print_as_serde_json_prints_them() {
    // Every ASCII byte, alone and between runs that need no escape
    // (multi-byte ones included), at the start and the end of a string.
    for b in 0u8..0x80 {
        let c = char::from(b);
        for s in [
            format!("{c}"),
            format!("{c}é{c}"),
            format!("ab{c}{c}😀cd"),
            format!("{c}plain text{c}x"),
        ] {
            let mut ours = String::new();
            print::write_string(&mut ours, &s);
            assert_eq!(ours, serde_json::to_string(&s).unwrap(), "{s:?}");
        }
    }
}

#[test]
fn map_keeps_keys_sorted_and_unique() {
    let mut m = Map::new();
    assert_eq!(m.insert("b".into(), 1u64.into()), None);
    assert_eq!(m.insert("a".into(), 2u64.into()), None);
    assert_eq!(m.insert("b".into(), 3u64.into()), Some(1u64.into()));
    assert_eq!(m.keys().cloned().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(m.remove("a"), Some(2u64.into()));
    assert!(!m.contains_key("a"));
    assert_eq!(Value::Object(m).to_string(), r#"{"b":3}"#);
    let v = object! { "z" => true, "a" => Value::Null, "m" => "s" };
    assert_eq!(v.to_string(), r#"{"a":null,"m":"s","z":true}"#);
}

#[test]
fn map_insert_agrees_with_a_btree_map_in_any_order() {
    // Appending is tried before the binary search: every order of inserts,
    // repeats included, must still end sorted, unique and last-write-wins.
    let keys = ["", "a", "ab", "b", "ba", "c", "a"];
    let mut state = 0x9e37_79b9_u32;
    for round in 0..200u64 {
        let mut ours = Map::new();
        let mut reference = alloc::collections::BTreeMap::new();
        for step in 0..12u64 {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let key = keys[(state >> 16) as usize % keys.len()];
            let value = Value::from(round * 100 + step);
            assert_eq!(
                ours.insert(key.into(), value.clone()),
                reference.insert(key.to_string(), value)
            );
        }
        let reference: Vec<_> = reference.into_iter().collect();
        let ours: Vec<_> = ours.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(ours, reference);
    }
}
