//! Reading a request document member by member.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::json::{Map, Value};

use super::OpError;
use crate::b64;
use crate::claims::Capability;
use crate::json;
use crate::scope;

/// Nesting allowed in a request document (claims nest about six deep).
pub const MAX_REQUEST_DEPTH: usize = 32;

/// A request object read member by member. Each operation takes what it
/// needs and [`Fields::done`] refuses whatever is left, so a misspelt member
/// is an error, never a silently ignored setting. (Hand-written rather than
/// derived: one reader instead of a serde visitor per request type keeps the
/// `.wasm` small.)
pub(super) struct Fields(pub(super) Map);

impl Fields {
    pub(super) fn parse(request: &[u8]) -> Result<Self, OpError> {
        json::parse_object(request, MAX_REQUEST_DEPTH)
            .map(Fields)
            .map_err(OpError::Json)
    }

    /// An optional member. `null` is refused rather than read as absent:
    /// JavaScript turns `NaN` into `null`, and `"revoked": null` must not
    /// quietly mean "nothing is revoked".
    pub(super) fn opt(&mut self, name: &str) -> Result<Option<Value>, OpError> {
        match self.0.remove(name) {
            Some(Value::Null) => Err(OpError::BadRequest(format!(
                "`{name}` must not be null (leave it out instead)"
            ))),
            other => Ok(other),
        }
    }

    pub(super) fn value(&mut self, name: &str) -> Result<Value, OpError> {
        self.opt(name)?
            .ok_or_else(|| OpError::BadRequest(format!("missing member `{name}`")))
    }

    pub(super) fn string(&mut self, name: &str) -> Result<String, OpError> {
        match self.value(name)? {
            Value::String(s) => Ok(s),
            _ => Err(wrong_type(name, "a string")),
        }
    }

    pub(super) fn object(&mut self, name: &str) -> Result<Map, OpError> {
        match self.value(name)? {
            Value::Object(m) => Ok(m),
            _ => Err(wrong_type(name, "an object")),
        }
    }

    pub(super) fn int(&mut self, name: &str) -> Result<i64, OpError> {
        let v = self.value(name)?;
        v.as_i64().ok_or_else(|| wrong_type(name, "an integer"))
    }

    pub(super) fn opt_int(&mut self, name: &str) -> Result<Option<i64>, OpError> {
        match self.opt(name)? {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type(name, "an integer")),
        }
    }

    pub(super) fn opt_uint(&mut self, name: &str) -> Result<Option<u64>, OpError> {
        match self.opt(name)? {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| wrong_type(name, "a non-negative integer")),
        }
    }

    pub(super) fn opt_string(&mut self, name: &str) -> Result<Option<String>, OpError> {
        match self.opt(name)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(name, "a string")),
        }
    }

    pub(super) fn uint(&mut self, name: &str) -> Result<u64, OpError> {
        let v = self.value(name)?;
        v.as_u64()
            .ok_or_else(|| wrong_type(name, "a non-negative integer"))
    }

    pub(super) fn bytes(&mut self, name: &str) -> Result<Vec<u8>, OpError> {
        let text = self.string(name)?;
        b64::decode(text.as_bytes()).map_err(|e| OpError::BadRequest(format!("`{name}`: {e}")))
    }

    pub(super) fn caps(&mut self, name: &str) -> Result<Vec<Capability>, OpError> {
        let caps = Capability::list_from_json(&self.value(name)?, name)
            .map_err(|e| OpError::BadRequest(e.to_string()))?;
        scope::validate_caps(&caps)?;
        Ok(caps)
    }

    pub(super) fn done(self) -> Result<(), OpError> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(extra) => Err(OpError::BadRequest(format!("unknown member `{extra}`"))),
        }
    }
}

pub(super) fn wrong_type(name: &str, what: &str) -> OpError {
    OpError::BadRequest(format!("`{name}` must be {what}"))
}

pub(super) fn respond(value: &Value) -> Result<Vec<u8>, OpError> {
    Ok(value.to_vec())
}
