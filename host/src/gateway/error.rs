//! Every refusal the API answers with: an HTTP status and the body
//! `{"error": code, "reason": sentence}`, where `code` is a stable string a
//! client may match on and `reason` is for people.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::HostError;

/// One failed request: what the client is told, and nothing more.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    reason: String,
    /// Members added to the body beside `error` and `reason` (a policy
    /// denial names its rule).
    extra: Map<String, Value>,
}

/// What a client is told of a failure inside the gateway.
fn generic_reason(code: &str) -> &'static str {
    match code {
        "store_error" => "the store failed; the request may be retried",
        "signing_failed" => "the signer failed; nothing was issued",
        "audit_bad_hash" => {
            "the audit log's last record does not match its hash; nothing more is \
             changed until an operator repairs it"
        }
        code if code.starts_with("guest_") => {
            "the module failed this request; the next request gets a fresh instance"
        }
        _ => "the gateway failed to answer; the request may be retried",
    }
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            reason: reason.into(),
            extra: Map::new(),
        }
    }

    /// 400: the request itself is malformed.
    pub fn bad_request(code: &str, reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, reason)
    }

    /// 401: missing or wrong credentials, or a token that does not verify.
    pub fn unauthorized(code: &str, reason: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, reason)
    }

    /// 500: the gateway failed to answer; the request may be retried.
    ///
    /// `detail` (a SQLite or wasmtime message, a signer's error) is for the
    /// operator: it goes to the log (stderr) once, here, and the client gets
    /// a generic reason for `code`, however often the answer is repeated
    /// (a kept revocation-list failure).
    pub fn internal(code: &str, detail: impl Into<String>) -> Self {
        eprintln!("error: answering 500 {code}: {}", detail.into());
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code,
            generic_reason(code),
        )
    }

    /// The same error pointing at `path` in the request (the module's
    /// `path`, e.g. `caps[0].constraints.max_purchase`), when there is one.
    #[must_use]
    pub fn at(self, path: Option<String>) -> Self {
        match path {
            Some(path) => self.with("path", Value::String(path)),
            None => self,
        }
    }

    /// The same error (its code, reason and members) with another status.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The same error with one more member in its body.
    #[must_use]
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.extra.insert(name.to_owned(), value);
        self
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable machine code.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The human-readable reason.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// A failure of the module or the host around it, for any route: the
    /// module's own rejections are routed by the caller, because what they
    /// mean (400, 401, 403) depends on the operation.
    pub(crate) fn from_host(err: &HostError) -> Self {
        match err {
            HostError::HostBusy { .. } => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, err.code(), err.to_string())
            }
            HostError::Op { message, path, .. } => {
                Self::new(StatusCode::BAD_REQUEST, err.code(), message.clone()).at(path.clone())
            }
            _ => Self::internal(err.code(), err.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("error".to_owned(), Value::String(self.code));
        body.insert("reason".to_owned(), Value::String(self.reason));
        body.extend(self.extra);
        let mut response = (self.status, Json(Value::Object(body))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750: a 401 names the scheme it wants.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
