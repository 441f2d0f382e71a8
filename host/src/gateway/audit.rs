//! The audit log: a hash chain whose records the module makes and checks,
//! and the gateway stores.
//!
//! Appending: the store reads the last stored record, hands it to
//! `audit_append` with the new event, and inserts the record it gets back,
//! all inside the transaction of the change being recorded and under the
//! store's single writer, so two changes can never link to the same
//! predecessor and a change never commits without its record. The append
//! runs core's operation natively (the code the module is built from,
//! linked into the host), not in a wasm instance: it is a hash over the
//! host's own data, and the single writer should not wait for an
//! instantiation. The cross-host tests show native and module records are
//! the same bytes.
//!
//! Verifying a stored log: `store::log` (`verify_log`).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::{HostError, Runtime};

/// The workspace of everything no request placed elsewhere.
pub const DEFAULT_WORKSPACE: &str = "default";

/// Something that happened, to be recorded: an event name the module knows
/// (`token_issued`, `agent.capability.revoked`, …) and its facts.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// The event's name, as the module spells it.
    pub event: String,
    /// Its facts: a JSON object of strings, integers, lists and objects.
    pub data: Value,
    /// The workspace it belongs to (`default` unless a request named one):
    /// stored beside the record, for the event stream to filter by.
    pub workspace: String,
}

impl AuditEvent {
    /// An event from its parts.
    pub fn new(event: impl Into<String>, data: Value) -> Self {
        Self {
            event: event.into(),
            data,
            workspace: DEFAULT_WORKSPACE.to_owned(),
        }
    }

    /// The same event, in `workspace`.
    #[must_use]
    pub fn in_workspace(mut self, workspace: &str) -> Self {
        workspace.clone_into(&mut self.workspace);
        self
    }

    /// The `{"event", "data"}` member an operation answers with (issue,
    /// refresh, delegate, and a refused delegation's error).
    #[must_use]
    pub fn from_module(value: &Value) -> Option<Self> {
        let event = value.get("event")?.as_str()?;
        let data = value.get("data").filter(|data| data.is_object())?;
        Some(Self::new(event, data.clone()))
    }
}

/// A record `audit_append` made, ready to be stored.
#[derive(Debug, Clone)]
pub(crate) struct NewRecord {
    /// The record exactly as the module wrote it.
    pub(crate) text: String,
    pub(crate) seq: i64,
    pub(crate) prev: String,
    pub(crate) hash: String,
}

/// Makes audit records with core's `audit_append` and checks them with the
/// module's `audit_verify`.
#[derive(Clone)]
pub struct Auditor {
    runtime: Arc<Runtime>,
    verify_op: u32,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auditor(..)")
    }
}

impl Auditor {
    /// An auditor appending with core's `audit_append` and verifying with
    /// `runtime`'s `audit_verify`.
    ///
    /// # Errors
    ///
    /// `guest_bad_response` if the module lacks `audit_verify`.
    pub fn new(runtime: Arc<Runtime>) -> Result<Self, HostError> {
        Ok(Self {
            verify_op: runtime.op_id("audit_verify")?,
            runtime,
        })
    }

    /// The record following `last` (the text of the last stored record, or
    /// `None` for the first).
    pub(crate) fn append(
        &self,
        last: Option<&str>,
        time: i64,
        event: &AuditEvent,
    ) -> Result<NewRecord, HostError> {
        let mut request = json!({ "time": time, "event": event.event, "data": event.data });
        if let (Some(last), Value::Object(members)) = (last, &mut request) {
            let last: Value =
                serde_json::from_str(last).map_err(|err| HostError::GuestBadResponse {
                    reason: format!("the last stored audit record is not json: {err}"),
                })?;
            members.insert("last".to_owned(), last);
        }
        let request = serde_json::to_vec(&request).map_err(|err| HostError::BadRequestJson {
            reason: err.to_string(),
        })?;
        let bytes = captoken_core::ops::call_named("audit_append", &request)
            .map_err(|err| HostError::from_error_object(&err.to_json()))?;
        let text = String::from_utf8(bytes).map_err(|err| HostError::GuestBadResponse {
            reason: format!("audit record is not utf-8: {err}"),
        })?;
        let record: Value =
            serde_json::from_str(&text).map_err(|err| HostError::GuestBadResponse {
                reason: format!("audit record is not json: {err}"),
            })?;
        let member = |name: &str| HostError::GuestBadResponse {
            reason: format!("the audit record has no usable `{name}`"),
        };
        let seq = record
            .get("seq")
            .and_then(Value::as_i64)
            .ok_or_else(|| member("seq"))?;
        let prev = record
            .get("prev")
            .and_then(Value::as_str)
            .ok_or_else(|| member("prev"))?
            .to_owned();
        let hash = record
            .get("hash")
            .and_then(Value::as_str)
            .ok_or_else(|| member("hash"))?
            .to_owned();
        Ok(NewRecord {
            text,
            seq,
            prev,
            hash,
        })
    }

    /// `audit_verify` over one segment: the chain's start (`after` is
    /// `None`), or continuing after the record `(seq, hash)` the segment
    /// before ended with. The module checks the join; nothing is left
    /// between segments for the host to check.
    pub(crate) fn verify_segment(
        &self,
        records: &[Value],
        after: Option<&(u64, String)>,
    ) -> Result<Value, HostError> {
        let request = match after {
            None => json!({ "records": records, "genesis": true }),
            Some((seq, hash)) => {
                json!({ "records": records, "after": { "seq": seq, "hash": hash } })
            }
        };
        self.runtime.call_json(self.verify_op, &request)
    }
}
