//! JSON literals for tests, as `captoken_core::json::Value`: written with
//! `serde_json::json!` and converted through serde.
#![allow(dead_code, unused_macros, unused_imports, clippy::unwrap_used)]

macro_rules! json {
    ($($t:tt)+) => {
        ::serde_json::from_value::<::captoken_core::json::Value>(::serde_json::json!($($t)+)).unwrap()
    };
}
pub(crate) use json;

/// A serde value as the core's.
pub fn from_serde(v: serde_json::Value) -> captoken_core::json::Value {
    serde_json::from_value(v).unwrap()
}

/// Parse JSON text (strictly, as the core does).
pub fn parse(bytes: &[u8]) -> captoken_core::json::Value {
    captoken_core::json::parse(bytes, 64).unwrap()
}
