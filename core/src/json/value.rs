//! The value type: `Value`, exact integers and numbers kept as written.

use super::*;

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// `null`
    #[default]
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Map),
}

/// A JSON number: an exact integer when it is one that fits 64 bits, else
/// the text it was written as (a fraction, an exponent, `-0`, or an integer
/// too large), which is printed back unchanged and never converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number(pub(super) Num);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Num {
    /// Zero or positive.
    Unsigned(u64),
    /// Negative.
    Negative(i64),
    /// Anything else, as written (already checked against the grammar).
    Text(String),
}

impl Number {
    /// The value, if it is an integer in `0..=u64::MAX`.
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            Num::Unsigned(n) => Some(n),
            _ => None,
        }
    }

    /// The value, if it is an integer in `i64`'s range.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Num::Unsigned(n) => i64::try_from(n).ok(),
            Num::Negative(n) => Some(n),
            Num::Text(_) => None,
        }
    }

    /// Whether it is an integer that fits 64 bits.
    pub fn is_integer(&self) -> bool {
        !matches!(self.0, Num::Text(_))
    }

    /// A number from its JSON text, if the text is a JSON number.
    pub fn from_text(text: &str) -> Option<Number> {
        let mut p = Parser {
            src: text.as_bytes(),
            pos: 0,
            limit: 0,
        };
        let n = p.number().ok()?;
        (p.pos == text.len()).then_some(n)
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number(Num::Unsigned(n))
    }
}

impl From<u32> for Number {
    fn from(n: u32) -> Self {
        Number(Num::Unsigned(n.into()))
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        match u64::try_from(n) {
            Ok(u) => Number(Num::Unsigned(u)),
            Err(_) => Number(Num::Negative(n)),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Num::Unsigned(n) => write!(f, "{n}"),
            Num::Negative(n) => write!(f, "{n}"),
            Num::Text(t) => f.write_str(t),
        }
    }
}

/// Largest integer every JSON reader keeps exactly (JavaScript's
/// `Number.MAX_SAFE_INTEGER`, 2^53 - 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Whether every number in `value` is an integer within ±(2^53 - 1), the
/// numbers JavaScript, serde_json and this module all read to the same
/// value. Anything else (`1.5`, `1E400`, `2^53 + 1`) may be read one way by
/// the module and another by a JS or Rust host.
pub fn numbers_are_safe(value: &Value) -> bool {
    match value {
        Value::Number(n) => n
            .as_i64()
            .is_some_and(|i| (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i)),
        Value::Array(items) => items.iter().all(numbers_are_safe),
        Value::Object(map) => map.values().all(numbers_are_safe),
        _ => true,
    }
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one in `0..=u64::MAX`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The integer, if this is one in `i64`'s range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The items, mutably, if this is an array.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The members, mutably, if this is an object.
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The member `key`, if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(key))
    }

    /// Set member `key` (making this an object first if it is not one).
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        if let Value::Object(map) = self {
            *map.entry(key) = value.into();
        } else {
            let mut map = Map::new();
            map.insert(key.to_owned(), value.into());
            *self = Value::Object(map);
        }
    }

    /// The compact JSON text.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = String::new();
        write_value(&mut out, self);
        out.into_bytes()
    }
}

pub(super) static NULL: Value = Value::Null;

/// `value["key"]`: the member, or `null` when absent or not an object (as
/// in JavaScript, for reading expected shapes in tests and tools).
impl core::ops::Index<&str> for Value {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

/// `value[i]`: the item, or `null` when absent or not an array.
impl core::ops::Index<usize> for Value {
    type Output = Value;
    fn index(&self, i: usize) -> &Value {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NULL)
    }
}

/// `value["key"] = v`: sets the member, turning a value that is not an
/// object into an empty object first (as building a document expects).
impl core::ops::IndexMut<&str> for Value {
    fn index_mut(&mut self, key: &str) -> &mut Value {
        if !matches!(self, Value::Object(_)) {
            *self = Value::Object(Map::new());
        }
        match self {
            Value::Object(map) => map.entry(key),
            // Unreachable: `self` was made an object just above.
            _ => self,
        }
    }
}

/// `value[i] = v`: sets the item, turning a value that is not an array into
/// an empty one and padding with `null` up to `i` first.
impl core::ops::IndexMut<usize> for Value {
    fn index_mut(&mut self, i: usize) -> &mut Value {
        if !matches!(self, Value::Array(_)) {
            *self = Value::Array(Vec::new());
        }
        match self {
            Value::Array(items) => {
                if items.len() <= i {
                    items.resize(i + 1, Value::Null);
                }
                #[allow(clippy::indexing_slicing)] // in bounds: resized above
                &mut items[i]
            }
            // Unreachable: `self` was made an array just above.
            _ => self,
        }
    }
}

/// `map["key"] = v`: sets the member.
impl core::ops::IndexMut<&str> for Map {
    fn index_mut(&mut self, key: &str) -> &mut Value {
        self.entry(key)
    }
}

/// `map["key"]`: the member, or `null` when absent.
impl core::ops::Index<&str> for Map {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}
impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}
impl PartialEq<String> for Value {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == Some(other.as_str())
    }
}
impl PartialEq<u64> for Value {
    fn eq(&self, other: &u64) -> bool {
        self.as_u64() == Some(*other)
    }
}
impl PartialEq<i64> for Value {
    fn eq(&self, other: &i64) -> bool {
        self.as_i64() == Some(*other)
    }
}
impl PartialEq<i32> for Value {
    fn eq(&self, other: &i32) -> bool {
        self.as_i64() == Some(i64::from(*other))
    }
}
impl PartialEq<bool> for Value {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

/// Compact JSON, as [`Value::to_vec`].
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_value(&mut out, self);
        f.write_str(&out)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n.into())
    }
}
impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Number(u64::from(n).into())
    }
}
impl From<usize> for Value {
    fn from(n: usize) -> Self {
        // usize is at most 64 bits on every target Rust supports.
        Value::Number((n as u64).into())
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Number(i64::from(n).into())
    }
}
impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::String(s.clone())
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Object(m)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}
impl<T: Clone + Into<Value>> From<&[T]> for Value {
    fn from(items: &[T]) -> Self {
        Value::Array(items.iter().cloned().map(Into::into).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
impl<T: Into<Value>> FromIterator<T> for Value {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Value::Array(iter.into_iter().map(Into::into).collect())
    }
}
