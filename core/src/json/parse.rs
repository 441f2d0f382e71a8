//! The strict reader.

use super::*;

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

pub(super) struct Parser<'a> {
    pub(super) src: &'a [u8],
    pub(super) pos: usize,
    pub(super) limit: usize,
}

impl Parser<'_> {
    fn fail(&self, what: &str) -> JsonError {
        JsonError::Syntax(alloc::format!("{what} at byte {}", self.pos))
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    #[inline(always)]
    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    #[inline(always)]
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
    pub(super) fn number(&mut self) -> Result<Number, JsonError> {
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
