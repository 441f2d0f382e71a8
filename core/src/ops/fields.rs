//! Reading a request document member by member.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::json::{Map, Value};

use super::OpError;
#[cfg(debug_assertions)]
use super::contract;
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
///
/// In debug builds the reader is held to the operation's [`contract`]:
/// asking for an undeclared member panics, and so does finishing without
/// having asked for every member declared (other than those read only
/// with another).
pub(super) struct Fields {
    map: Map,
    /// The operation's declared members (nothing in a release build).
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    declared: Declared,
    /// The members asked for so far (nothing in a release build).
    #[cfg_attr(not(debug_assertions), allow(dead_code))]
    asked: Asked,
}

#[cfg(debug_assertions)]
type Declared = contract::Members;
#[cfg(not(debug_assertions))]
type Declared = ();
#[cfg(debug_assertions)]
type Asked = Vec<&'static str>;
#[cfg(not(debug_assertions))]
type Asked = ();

impl Fields {
    /// Read the request of operation `op`.
    pub(super) fn parse(request: &[u8], op: &str) -> Result<Self, OpError> {
        let map = json::parse_object(request, MAX_REQUEST_DEPTH).map_err(OpError::Json)?;
        #[cfg(debug_assertions)]
        let declared = {
            let found = contract::request(op);
            assert!(found.is_some(), "operation `{op}` has no request contract");
            found.unwrap_or_default()
        };
        #[cfg(not(debug_assertions))]
        let declared = {
            let _ = op;
        };
        Ok(Fields {
            map,
            declared,
            asked: Asked::default(),
        })
    }

    /// The members of object member `name` (already taken from `self`).
    pub(super) fn nested(&self, name: &str, map: Map) -> Self {
        #[cfg(debug_assertions)]
        let declared = {
            let shape = contract::find(self.declared, name).map(|m| m.shape);
            assert!(
                matches!(shape, Some(contract::Shape::Object(_))),
                "`{name}` is not declared an object in its contract"
            );
            match shape {
                Some(contract::Shape::Object(members)) => members,
                _ => &[],
            }
        };
        #[cfg(not(debug_assertions))]
        let declared = {
            let _ = name;
        };
        Fields {
            map,
            declared,
            asked: Asked::default(),
        }
    }

    /// An optional member. `null` is refused rather than read as absent:
    /// JavaScript turns `NaN` into `null`, and `"revoked": null` must not
    /// quietly mean "nothing is revoked".
    pub(super) fn opt(&mut self, name: &str) -> Result<Option<Value>, OpError> {
        #[cfg(debug_assertions)]
        {
            let member = contract::find(self.declared, name);
            assert!(
                member.is_some(),
                "the reader asks for `{name}`, which its contract does not declare"
            );
            self.asked.extend(member.map(|m| m.name));
        }
        match self.map.remove(name) {
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

    /// A string, or a non-empty list of strings (any of which will do).
    pub(super) fn names(&mut self, name: &str) -> Result<Vec<String>, OpError> {
        let names = match self.value(name)? {
            Value::String(s) => Some(alloc::vec![s]),
            Value::Array(items) if !items.is_empty() => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => None,
        };
        names.ok_or_else(|| wrong_type(name, "a string or a non-empty list of strings"))
    }

    pub(super) fn object(&mut self, name: &str) -> Result<Map, OpError> {
        match self.value(name)? {
            Value::Object(m) => Ok(m),
            _ => Err(wrong_type(name, "an object")),
        }
    }

    pub(super) fn int(&mut self, name: &str) -> Result<i64, OpError> {
        let v = self.value(name)?;
        safe_int(&v).ok_or_else(|| wrong_type(name, INTEGER))
    }

    pub(super) fn opt_int(&mut self, name: &str) -> Result<Option<i64>, OpError> {
        match self.opt(name)? {
            None => Ok(None),
            Some(v) => safe_int(&v)
                .map(Some)
                .ok_or_else(|| wrong_type(name, INTEGER)),
        }
    }

    pub(super) fn opt_uint(&mut self, name: &str) -> Result<Option<u64>, OpError> {
        match self.opt(name)? {
            None => Ok(None),
            Some(v) => safe_uint(&v)
                .map(Some)
                .ok_or_else(|| wrong_type(name, NON_NEGATIVE)),
        }
    }

    /// A boolean member; absent is `false`.
    pub(super) fn opt_bool(&mut self, name: &str) -> Result<bool, OpError> {
        match self.opt(name)? {
            None => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| wrong_type(name, "a boolean")),
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
        safe_uint(&v).ok_or_else(|| wrong_type(name, NON_NEGATIVE))
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

    pub(super) fn done(&self) -> Result<(), OpError> {
        #[cfg(debug_assertions)]
        for member in self.declared.iter().flat_map(|group| group.iter()) {
            assert!(
                matches!(member.presence, contract::Presence::With(_))
                    || self.asked.contains(&member.name),
                "the reader never asks for `{}`, which its contract declares",
                member.name
            );
        }
        match self.map.keys().next() {
            None => Ok(()),
            Some(extra) => Err(OpError::BadRequest(format!("unknown member `{extra}`"))),
        }
    }
}

// A request's integers are the ones every host writes exactly: a JavaScript
// caller cannot even form 2^53 + 1, so a request naming it was not written
// by one, and two hosts must never read one request as different numbers.
const INTEGER: &str = "an integer within ±(2^53-1)";
const NON_NEGATIVE: &str = "an integer in 0..=2^53-1";

fn safe_int(v: &Value) -> Option<i64> {
    v.as_i64()
        .filter(|n| (-json::MAX_SAFE_INTEGER..=json::MAX_SAFE_INTEGER).contains(n))
}

fn safe_uint(v: &Value) -> Option<u64> {
    v.as_i64()
        .filter(|n| (0..=json::MAX_SAFE_INTEGER).contains(n))
        .and_then(|n| u64::try_from(n).ok())
}

pub(super) fn wrong_type(name: &str, what: &str) -> OpError {
    OpError::BadRequest(format!("`{name}` must be {what}"))
}

pub(super) fn respond(value: &Value) -> Result<Vec<u8>, OpError> {
    Ok(value.to_vec())
}
