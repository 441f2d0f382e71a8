//! The `status` claim: a token's place in a status list.

use alloc::string::String;

use super::MAX_TOKENS;
use crate::error::ClaimsError;
use crate::json::{Map, Value};

/// A token's place in a status list: its `status` claim,
/// `{"status_list": {"idx", "uri"}}` (the draft's). Delegated children
/// carry their root's unchanged (the issuer's statements pass down as they
/// are), so revoking the root in its list refuses the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusRef {
    /// The token's index in the list.
    pub idx: u64,
    /// The list's URI (its `sub`).
    pub uri: String,
}

impl StatusRef {
    /// The place `request`'s `status` claim names, if it has one.
    ///
    /// # Errors
    /// [`ClaimsError`] when `status` is there but not exactly
    /// `{"status_list": {"idx": 0..2^24, "uri": non-empty string}}`.
    pub fn of(request: &crate::claims::TokenRequest) -> Result<Option<Self>, ClaimsError> {
        request
            .extra
            .get("status")
            .map(Self::from_claim)
            .transpose()
    }

    /// The place a `status` claim's value names.
    ///
    /// # Errors
    /// [`ClaimsError`] when `status` is not exactly
    /// `{"status_list": {"idx": 0..2^24, "uri": non-empty string}}`.
    pub fn from_claim(status: &Value) -> Result<Self, ClaimsError> {
        let bad = |path: &str, reason: &str| Err(ClaimsError::invalid(path, reason));
        let Value::Object(status) = status else {
            return bad("status", "must be an object with one member, `status_list`");
        };
        let (Some(Value::Object(list)), 1) = (status.get("status_list"), status.len()) else {
            return bad("status", "must be an object with one member, `status_list`");
        };
        if list.len() != 2 {
            return bad("status.status_list", "must have exactly `idx` and `uri`");
        }
        let Some(idx) = list
            .get("idx")
            .and_then(Value::as_u64)
            .filter(|&i| i < MAX_TOKENS)
        else {
            return bad("status.status_list.idx", "must be an integer in 0..2^24");
        };
        match list.get("uri") {
            Some(Value::String(uri)) if !uri.is_empty() => Ok(StatusRef {
                idx,
                uri: uri.clone(),
            }),
            _ => bad("status.status_list.uri", "must be a non-empty string"),
        }
    }

    /// The `status` claim naming this place.
    pub fn to_claim(&self) -> Value {
        let mut list = Map::new();
        list.insert("idx".into(), self.idx.into());
        list.insert("uri".into(), self.uri.clone().into());
        let mut status = Map::new();
        status.insert("status_list".into(), Value::Object(list));
        Value::Object(status)
    }
}
