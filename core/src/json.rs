//! Strict JSON: one meaning per document.
//!
//! `serde_json` lets the last of two duplicate keys win; another parser may
//! let the first win, so a token with `"aud"` twice can mean two things to
//! two verifiers. We refuse duplicates, bound nesting before parsing (so no
//! recursion depth is ever attacker-chosen), and require UTF-8.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a JSON document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not well-formed JSON (includes invalid UTF-8 and lone surrogates).
    Syntax(String),
    /// Well-formed, but the top level is not an object.
    NotObject,
    /// An object names the same key twice.
    DuplicateKey(String),
    /// Arrays and objects nest deeper than allowed.
    TooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },
}

impl JsonError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            JsonError::Syntax(_) | JsonError::NotObject => "bad_json",
            JsonError::DuplicateKey(_) => "duplicate_key",
            JsonError::TooDeep { .. } => "json_too_deep",
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Syntax(msg) => write!(f, "invalid json: {msg}"),
            JsonError::NotObject => f.write_str("json document is not an object"),
            JsonError::DuplicateKey(key) => write!(f, "duplicate json key `{key}`"),
            JsonError::TooDeep { limit } => write!(f, "json nests deeper than {limit} levels"),
        }
    }
}

const DUPLICATE: &str = "\u{0}duplicate:";

/// Parse a JSON object strictly.
///
/// # Errors
/// [`JsonError`] when the bytes are not UTF-8 JSON, the top level is not an
/// object, a key repeats, or nesting exceeds `max_depth`.
pub fn parse_object(bytes: &[u8], max_depth: usize) -> Result<Map<String, Value>, JsonError> {
    check_depth(bytes, max_depth)?;
    match serde_json::from_slice::<Strict>(bytes) {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(_) => Err(JsonError::NotObject),
        Err(err) => {
            let msg = err.to_string();
            match msg.strip_prefix(DUPLICATE) {
                Some(rest) => {
                    let key = rest.split(DUPLICATE).next().unwrap_or_default();
                    Err(JsonError::DuplicateKey(key.to_string()))
                }
                None => Err(JsonError::Syntax(msg)),
            }
        }
    }
}

/// Refuse nesting deeper than `limit` with a linear scan that needs no stack.
fn check_depth(bytes: &[u8], limit: usize) -> Result<(), JsonError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(JsonError::TooDeep { limit });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// A `serde_json::Value` that refuses duplicate object keys while parsing.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any json value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::Number(v.into())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        Number::from_f64(v)
            .map(|n| Strict(Value::Number(n)))
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Strict(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Strict, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                // The marker lets `parse_object` tell this apart from a
                // syntax error without a side channel.
                return Err(de::Error::custom(format!("{DUPLICATE}{key}{DUPLICATE}")));
            }
            let Strict(v) = access.next_value()?;
            map.insert(key, v);
        }
        Ok(Strict(Value::Object(map)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn accepts_plain_objects() {
        let m = parse_object(br#"{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}"#, 4).unwrap();
        assert_eq!(m.len(), 3);
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
    }

    #[test]
    fn refuses_deep_nesting_before_parsing() {
        let deep = "[".repeat(100_000);
        let doc = format!(r#"{{"a":{deep}"#);
        assert_eq!(
            parse_object(doc.as_bytes(), 8),
            Err(JsonError::TooDeep { limit: 8 })
        );
        // Brackets inside strings do not count.
        assert!(parse_object(br#"{"a":"[[[[[[[[[[[["}"#, 2).is_ok());
    }

    #[test]
    fn refuses_non_objects_and_bad_utf8() {
        assert_eq!(parse_object(b"[1]", 4), Err(JsonError::NotObject));
        assert_eq!(parse_object(b"\"s\"", 4), Err(JsonError::NotObject));
        assert_eq!(
            parse_object(b"{\"a\":\"\xff\"}", 4).unwrap_err().code(),
            "bad_json"
        );
        assert_eq!(
            parse_object(br#"{"a":"\ud800"}"#, 4).unwrap_err().code(),
            "bad_json"
        );
        assert_eq!(
            parse_object(b"{\"a\":1} x", 4).unwrap_err().code(),
            "bad_json"
        );
    }
}
