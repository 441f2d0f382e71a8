//! Strict JSON: one meaning per document, and a small value type.
//!
//! Two JSON parsers can read one document two ways: a repeated key where one
//! keeps the first and another the last, a number one rounds and the other
//! does not. So this parser refuses duplicate keys, never rounds (a number
//! is an integer or it is kept as the text it was written as), bounds
//! nesting as it descends (the recursion depth is never attacker-chosen),
//! and requires UTF-8 without lone surrogates.
//!
//! It is written here rather than taken from `serde_json` for size: the
//! module ships to browsers, and a general-purpose parser with float
//! formatting and a B-tree per object was a fifth of it. Objects are vectors
//! sorted by key, so every object prints with its keys sorted (byte order),
//! which is also the order `serde_json` without `preserve_order` used.
//!
//! Output is compact, escapes exactly `"`, `\` and control characters
//! (`\b \f \n \r \t`, else `\u00xx`), and writes everything else as UTF-8.

use crate::codes::ErrorCode;
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

/// Why a JSON document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    pub fn error_code(&self) -> ErrorCode {
        match self {
            JsonError::Syntax(_) | JsonError::NotObject => ErrorCode::BadJson,
            JsonError::DuplicateKey(_) => ErrorCode::DuplicateKey,
            JsonError::TooDeep { .. } => ErrorCode::JsonTooDeep,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
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

mod map;
mod parse;
mod print;
mod serde_impls;
mod value;

pub use map::*;
pub use parse::*;
pub use print::*;
pub use value::*;

/// Build an object: `object! { "a" => 1u64, "b" => "x" }` (values go
/// through `Value::from`).
macro_rules! object {
    ($($key:literal => $value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut map = $crate::json::Map::new();
        $( map.insert(::alloc::string::String::from($key), $crate::json::Value::from($value)); )*
        $crate::json::Value::Object(map)
    }};
}
pub(crate) use object;

#[cfg(test)]
mod tests;
