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

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

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

// ---------------------------------------------------------------------------
// Values

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
pub struct Number(Num);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Num {
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

static NULL: Value = Value::Null;

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

// ---------------------------------------------------------------------------
// Objects

/// A JSON object: members sorted by key (byte order), keys unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Map {
    members: Vec<(String, Value)>,
}

impl Map {
    /// An empty object.
    pub fn new() -> Self {
        Map::default()
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.members
            .binary_search_by(|(k, _)| k.as_bytes().cmp(key.as_bytes()))
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The member `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let i = self.find(key).ok()?;
        self.members.get(i).map(|(_, v)| v)
    }

    /// The member `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.find(key).ok()?;
        self.members.get_mut(i).map(|(_, v)| v)
    }

    /// Whether `key` is a member.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Set `key` to `value`, returning the value it replaces.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.find(&key) {
            Ok(i) => self
                .members
                .get_mut(i)
                .map(|slot| core::mem::replace(&mut slot.1, value)),
            Err(i) => {
                self.members.insert(i, (key, value));
                None
            }
        }
    }

    /// The member `key`, inserted as `null` if absent.
    pub fn entry(&mut self, key: &str) -> &mut Value {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                self.members.insert(i, (key.to_owned(), Value::Null));
                i
            }
        };
        #[allow(clippy::indexing_slicing)] // in bounds: found, or inserted at `i`
        &mut self.members[i].1
    }

    /// Remove `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key).ok()?;
        Some(self.members.remove(i).1)
    }

    /// The members in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.members.iter())
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.members.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.members.iter().map(|(_, v)| v)
    }

    /// Build from members that may repeat a key: the first repeated key is
    /// the error.
    fn from_members(mut members: Vec<(String, Value)>) -> Result<Map, String> {
        members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if let Some(w) = members
            .windows(2)
            .find(|w| matches!(w, [a, b] if a.0 == b.0))
        {
            return Err(w.first().map(|(k, _)| k.clone()).unwrap_or_default());
        }
        Ok(Map { members })
    }
}

/// Members of a [`Map`] by reference, in key order.
pub struct Iter<'a>(core::slice::Iter<'a, (String, Value)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a String, &'a Value);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = alloc::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.members.into_iter()
    }
}

/// Later members replace earlier ones with the same key.
impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut map = Map::new();
        map.extend(iter);
        map
    }
}

impl Extend<(String, Value)> for Map {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

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

// ---------------------------------------------------------------------------
// Parsing

/// Parse a JSON object strictly.
///
/// # Errors
/// [`JsonError`] when the bytes are not UTF-8 JSON, the top level is not an
/// object, a key repeats, or nesting exceeds `max_depth`.
pub fn parse_object(bytes: &[u8], max_depth: usize) -> Result<Map, JsonError> {
    match parse(bytes, max_depth)? {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::NotObject),
    }
}

/// Parse any JSON value strictly.
///
/// # Errors
/// As [`parse_object`], without the requirement of an object.
pub fn parse(bytes: &[u8], max_depth: usize) -> Result<Value, JsonError> {
    if let Err(e) = core::str::from_utf8(bytes) {
        return Err(JsonError::Syntax(alloc::format!(
            "invalid UTF-8 at byte {}",
            e.valid_up_to()
        )));
    }
    let mut p = Parser {
        src: bytes,
        pos: 0,
        limit: max_depth,
    };
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos != bytes.len() {
        return Err(p.fail("trailing characters"));
    }
    Ok(value)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    limit: usize,
}

impl Parser<'_> {
    fn fail(&self, what: &str) -> JsonError {
        JsonError::Syntax(alloc::format!("{what} at byte {}", self.pos))
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8, what: &str) -> Result<(), JsonError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.fail(what))
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, JsonError> {
        if self.src.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.fail("expected a value"))
        }
    }

    /// A value, the parser at its first byte; `depth` is how many arrays
    /// and objects enclose it.
    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(_) => Err(self.fail("expected a value")),
            None => Err(self.fail("unexpected end of input")),
        }
    }

    fn enter(&self, depth: usize) -> Result<(), JsonError> {
        if depth > self.limit {
            Err(JsonError::TooDeep { limit: self.limit })
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.enter(depth)?;
        self.pos += 1; // [
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.bump() {
                Some(b',') => continue,
                Some(b']') => return Ok(Value::Array(items)),
                _ => {
                    self.pos = self.pos.saturating_sub(1);
                    return Err(self.fail("expected `,` or `]`"));
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.enter(depth)?;
        self.pos += 1; // {
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(Map::new()));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.fail("expected a string key"));
            }
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':', "expected `:`")?;
            self.skip_ws();
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_ws();
            match self.bump() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => {
                    self.pos = self.pos.saturating_sub(1);
                    return Err(self.fail("expected `,` or `}`"));
                }
            }
        }
        Map::from_members(members)
            .map(Value::Object)
            .map_err(JsonError::DuplicateKey)
    }

    /// A string, the parser at its opening quote. The input is known to be
    /// UTF-8, so unescaped runs are copied as they are.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // "
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            let run = self
                .src
                .get(start..self.pos)
                .and_then(|r| core::str::from_utf8(r).ok())
                .ok_or_else(|| self.fail("invalid UTF-8"))?;
            out.push_str(run);
            match self.bump() {
                Some(b'"') => return Ok(out),
                Some(b'\\') => {
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => {
                    self.pos -= 1;
                    return Err(self.fail("control character in string"));
                }
                None => return Err(self.fail("unterminated string")),
            }
        }
    }

    /// The character an escape stands for, the parser after the backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let c = match self.bump() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = self.hex4()?;
                let code = match hi {
                    0xD800..=0xDBFF => {
                        if self.bump() != Some(b'\\') || self.bump() != Some(b'u') {
                            return Err(self.fail("lone surrogate in string"));
                        }
                        let lo = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return Err(self.fail("lone surrogate in string"));
                        }
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(self.fail("lone surrogate in string")),
                    _ => hi,
                };
                char::from_u32(code).ok_or_else(|| self.fail("invalid escape"))?
            }
            _ => return Err(self.fail("invalid escape")),
        };
        Ok(c)
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut n = 0u32;
        for _ in 0..4 {
            let d = self
                .bump()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.fail("invalid \\u escape"))?;
            n = n * 16 + d;
        }
        Ok(n)
    }

    /// A number, the parser at its first byte.
    fn number(&mut self) -> Result<Number, JsonError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        match self.bump() {
            Some(b'0') => {}
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.fail("invalid number")),
        }
        let int_end = self.pos;
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.one_or_more_digits()?;
            integer = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.one_or_more_digits()?;
            integer = false;
        }
        let text = self
            .src
            .get(start..self.pos)
            .and_then(|t| core::str::from_utf8(t).ok())
            .unwrap_or_default();
        if integer && int_end == self.pos {
            let parsed = if negative {
                text.parse::<i64>()
                    .ok()
                    .filter(|n| *n != 0)
                    .map(Number::from)
            } else {
                text.parse::<u64>().ok().map(Number::from)
            };
            if let Some(n) = parsed {
                return Ok(n);
            }
        }
        Ok(Number(Num::Text(text.to_owned())))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Result<(), JsonError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.fail("invalid number"));
        }
        self.digits();
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Printing

/// The compact JSON text of `value`.
pub fn to_vec(value: &Value) -> Vec<u8> {
    value.to_vec()
}

/// The compact JSON text of an object.
pub fn object_to_vec(map: &Map) -> Vec<u8> {
    let mut out = String::new();
    write_object(&mut out, map);
    out.into_bytes()
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        // Writing to a String cannot fail.
        Value::Number(n) => drop(write!(out, "{n}")),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

pub(crate) fn write_object(out: &mut String, map: &Map) {
    out.push('{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, value);
    }
    out.push('}');
}

/// `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let b = u32::from(c);
                out.push_str("\\u00");
                out.push(char::from_digit(b >> 4, 16).unwrap_or('0'));
                out.push(char::from_digit(b & 0xf, 16).unwrap_or('0'));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------
// serde, for Rust callers that serialize claims, capabilities or decisions
// with their own format. The module itself never uses these.

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => match &n.0 {
                Num::Unsigned(u) => s.serialize_u64(*u),
                Num::Negative(i) => s.serialize_i64(*i),
                // A non-integer is text that is a valid JSON number; formats
                // that have floats get the nearest one.
                Num::Text(t) => match t.parse::<f64>() {
                    Ok(f) => s.serialize_f64(f),
                    Err(_) => s.serialize_str(t),
                },
            },
            Value::String(v) => s.serialize_str(v),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(map) => map.serialize(s),
        }
    }
}

impl serde::Serialize for Map {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any json value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        if !v.is_finite() {
            return Err(E::custom("non-finite number"));
        }
        // Rust prints the shortest digits that read back to `v`; that is
        // always a JSON number, perhaps without a fraction (`2`): keep it
        // as text so it never becomes an integer by accident.
        let mut text = alloc::format!("{v}");
        if !text.contains(['.', 'e', 'E']) {
            text.push_str(".0");
        }
        Ok(Value::Number(Number(Num::Text(text))))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = access.next_key::<String>()? {
            members.push((key, access.next_value()?));
        }
        Map::from_members(members)
            .map(Value::Object)
            .map_err(|key| serde::de::Error::custom(alloc::format!("duplicate json key `{key}`")))
    }
}

#[cfg(test)]
mod tests {
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
}
