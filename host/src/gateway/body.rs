//! Request bodies: read under a size limit, parsed as a JSON object, and
//! taken apart member by member so every mistake has its own stable code.
//!
//! Codes: `unsupported_media_type` (415: not `application/json`),
//! `body_too_large` (413), `request_timeout` (408: the body did not
//! arrive by the request's deadline), `bad_body` (the connection failed
//! while reading), `malformed_json`, `wrong_type`, `missing_field`,
//! `unknown_field`, `invalid_value` (all 400).

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};
use tokio::time::{Instant, Sleep};

use captoken_core::json::JsonError;

use super::error::ApiError;

/// A request body that must arrive whole by a deadline: past it, reading
/// fails with [`BodyTimedOut`] instead of waiting for a client that
/// stalled mid-body (and would otherwise hold its connection for ever).
pub(crate) struct Deadline {
    inner: Body,
    timer: Pin<Box<Sleep>>,
    limit: Duration,
}

impl Deadline {
    /// `inner`, due by `due` (the request's start plus `limit`).
    pub(crate) fn new(inner: Body, due: Instant, limit: Duration) -> Self {
        Self {
            inner,
            timer: Box::pin(tokio::time::sleep_until(due)),
            limit,
        }
    }
}

/// The body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request did not arrive within {} s", .0.as_secs_f64())]
pub(crate) struct BodyTimedOut(Duration);

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimedOut(self.limit).into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The whole body, or `body_too_large` once more than `limit` bytes arrive
/// (or are announced by `Content-Length`, which is then not read at all).
pub(crate) async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    json_content_type(headers)?;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body exceeds the limit of {limit} bytes"),
        )
    };
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if announced.is_some_and(|len| len > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(err) if timed_out(&*err) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("{err}; the connection is closed"),
        )),
        Err(err) => Err(ApiError::bad_request(
            "bad_body",
            format!("cannot read the request body: {err}"),
        )),
    }
}

/// Every body the API reads is JSON, and says so: 415
/// `unsupported_media_type` for any other `Content-Type`, or none. (A form
/// a page posts cross-origin cannot set it without a preflight.)
fn json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().trim());
    match media {
        Some(media) if media.eq_ignore_ascii_case("application/json") => Ok(()),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "the request body must be sent as `Content-Type: application/json`, not {}",
                other.map_or_else(|| "none".to_owned(), |m| format!("`{m}`"))
            ),
        )),
    }
}

/// Whether `err`, or an error it wraps, is [`BodyTimedOut`].
fn timed_out(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<BodyTimedOut>() {
            return true;
        }
        cause = err.source();
    }
    false
}

/// The members of a JSON object body, consumed as they are read so that
/// [`Fields::done`] can refuse whatever is left: a misspelt optional member
/// must be an error, never silently ignored.
pub(crate) struct Fields(Map<String, Value>);

impl Fields {
    /// The body as a JSON object, read with the module's own strict reader
    /// (`captoken_core::ops::read_request`): a body the module would refuse
    /// (a duplicate key, a lone surrogate, nesting too deep) is refused
    /// here with the module's code, never read with last-key-wins.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        match captoken_core::ops::read_request(bytes) {
            // Not an object: `wrong_type` below says what it is.
            Ok(_) | Err(JsonError::NotObject) => {}
            Err(err @ JsonError::Syntax(_)) => {
                return Err(ApiError::bad_request(
                    "malformed_json",
                    format!("the request body is not valid json: {err}"),
                ));
            }
            Err(err) => {
                return Err(ApiError::bad_request(
                    err.code(),
                    format!("the request body is refused: {err}"),
                ));
            }
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|err| {
            ApiError::bad_request(
                "malformed_json",
                format!("the request body is not valid json: {err}"),
            )
        })?;
        match value {
            Value::Object(members) => Ok(Self(members)),
            other => Err(ApiError::bad_request(
                "wrong_type",
                format!(
                    "the request body must be a json object, not {}",
                    kind(&other)
                ),
            )),
        }
    }

    /// Whether the body has the member `name` (left to be read).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// A member that may be absent; `null` counts as present and wrong,
    /// because a client that sends it most likely meant something.
    fn take(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    fn required(&mut self, name: &str) -> Result<Value, ApiError> {
        self.take(name)
            .ok_or_else(|| ApiError::bad_request("missing_field", format!("`{name}` is required")))
    }

    /// A required non-empty string of at most `max` bytes.
    pub(crate) fn string(&mut self, name: &str, max: usize) -> Result<String, ApiError> {
        let value = self.required(name)?;
        as_string(name, value, max)
    }

    /// An optional non-empty string of at most `max` bytes.
    pub(crate) fn opt_string(
        &mut self,
        name: &str,
        max: usize,
    ) -> Result<Option<String>, ApiError> {
        self.take(name)
            .map(|value| as_string(name, value, max))
            .transpose()
    }

    /// An optional JSON object.
    pub(crate) fn opt_object(
        &mut self,
        name: &str,
    ) -> Result<Option<Map<String, Value>>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Object(members)) => Ok(Some(members)),
            Some(other) => Err(wrong_type(name, "an object", &other)),
        }
    }

    /// An optional JSON array.
    pub(crate) fn opt_array(&mut self, name: &str) -> Result<Option<Vec<Value>>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(wrong_type(name, "an array", &other)),
        }
    }

    /// An optional integer in `1..=max`.
    pub(crate) fn opt_positive(&mut self, name: &str, max: u64) -> Result<Option<u64>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Number(number)) => match number.as_u64() {
                Some(n) if (1..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::bad_request(
                    "invalid_value",
                    format!("`{name}` must be an integer in 1..={max}, not {number}"),
                )),
            },
            Some(other) => Err(wrong_type(name, "an integer", &other)),
        }
    }

    /// An optional boolean (absent is `false`).
    pub(crate) fn opt_bool(&mut self, name: &str) -> Result<bool, ApiError> {
        match self.take(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(other) => Err(wrong_type(name, "a boolean", &other)),
        }
    }

    /// Refuses any member nobody asked for.
    pub(crate) fn done(self) -> Result<(), ApiError> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(name) => Err(ApiError::bad_request(
                "unknown_field",
                format!("`{name}` is not a member of this request"),
            )),
        }
    }
}

fn as_string(name: &str, value: Value, max: usize) -> Result<String, ApiError> {
    match value {
        Value::String(text) if text.is_empty() => Err(ApiError::bad_request(
            "invalid_value",
            format!("`{name}` must not be empty"),
        )),
        Value::String(text) if text.len() > max => Err(ApiError::bad_request(
            "invalid_value",
            format!("`{name}` is longer than {max} bytes"),
        )),
        Value::String(text) => {
            no_controls(name, &text)?;
            Ok(text)
        }
        other => Err(wrong_type(name, "a string", &other)),
    }
}

/// Refuses text with a control character (NUL, a line break, an escape,
/// DEL, the C1 range): ids and reasons end up in the store, the audit log
/// and operators' terminals, where such characters forge or hide lines.
pub(crate) fn no_controls(name: &str, text: &str) -> Result<(), ApiError> {
    match text.char_indices().find(|(_, c)| c.is_control()) {
        None => Ok(()),
        Some((at, c)) => Err(ApiError::bad_request(
            "invalid_value",
            format!(
                "`{name}` has a control character (U+{:04X}) at byte {at}",
                u32::from(c)
            ),
        )),
    }
}

pub(crate) fn wrong_type(name: &str, expected: &str, found: &Value) -> ApiError {
    ApiError::bad_request(
        "wrong_type",
        format!("`{name}` must be {expected}, not {}", kind(found)),
    )
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
