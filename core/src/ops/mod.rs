//! The operations table: every operation the module offers, as one function
//! from request JSON bytes to response JSON bytes.
//!
//! The raw ABI, the JS API, the gateway and the CLI all call [`call`]; none
//! of them holds logic of its own. Requests are parsed with the same strict
//! JSON rules as tokens, and unknown request fields are refused, so a typo in
//! a field name is an error rather than a silently ignored setting.

pub mod contract;
#[cfg(debug_assertions)]
mod described;
mod fields;
mod policy;
mod records;
pub mod responses;
mod shape;
mod signer;
mod tokens;

use crate::codes::ErrorCode;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::json::{Value, object};

use crate::audit::AuditError;
use crate::error::TokenError;
use crate::json::JsonError;
use crate::keys::KeyError;
use crate::policy::PolicyError;
use crate::pop::PopError;
use crate::refresh::RefreshError;
use crate::revocation::RevocationError;
use crate::scope::ScopeError;
use crate::status::StatusError;
use policy::{policy_check, policy_evaluate, policy_explain};
use records::{
    audit_append, audit_verify, pop_create, pop_verify, refresh, revocation_list_sign,
    revocation_list_verify, status_list_sign, status_list_verify,
};
use signer::attach_signature;
use tokens::{authorize, decode, delegate, info, issue, keygen, scope_meet, verify};

pub use fields::MAX_REQUEST_DEPTH;

/// A request document read as every operation reads its request: strict
/// JSON (a duplicate key, a lone surrogate or nesting past
/// [`MAX_REQUEST_DEPTH`] refused), and an object. Hosts read their own
/// request bodies with it, so a body the module would refuse is never
/// taken by a host.
///
/// # Errors
///
/// The reader's [`JsonError`], whose `code()` is the stable code.
pub fn read_request(bytes: &[u8]) -> Result<crate::json::Map, JsonError> {
    crate::json::parse_object(bytes, MAX_REQUEST_DEPTH)
}

/// Version of the request/response contract and of the raw ABI.
pub const ABI_VERSION: u32 = 1;

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpError {
    /// No operation has this id or name.
    UnknownOp(String),
    /// The request is not valid JSON of the operation's shape.
    BadRequest(String),
    /// The request JSON itself was refused (duplicate keys, depth, UTF-8).
    Json(JsonError),
    /// A token was refused or could not be issued.
    Token(TokenError),
    /// A key or key set was refused.
    Key(KeyError),
    /// A request was not authorized, or scopes could not be combined.
    Scope(ScopeError),
    /// A policy document or policy request was refused.
    Policy(PolicyError),
    /// A revocation list was refused, or a token is revoked.
    Revocation(RevocationError),
    /// A status list was refused, or a token's status could not be read.
    Status(StatusError),
    /// A proof of possession was refused or could not be made.
    Pop(PopError),
    /// An audit record or chain was refused.
    Audit(AuditError),
    /// A token could not be refreshed.
    Refresh(RefreshError),
    /// A refusal the host must audit: the error, and the audit event
    /// (`{"event", "data"}`) to append for it.
    Audited(alloc::boxed::Box<OpError>, Value),
}

impl OpError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            OpError::UnknownOp(_) => ErrorCode::UnknownOp,
            OpError::BadRequest(_) => ErrorCode::BadRequest,
            OpError::Json(err) => err.error_code(),
            OpError::Token(err) => err.error_code(),
            OpError::Key(err) => err.error_code(),
            OpError::Scope(err) => err.error_code(),
            OpError::Policy(err) => err.error_code(),
            OpError::Revocation(err) => err.error_code(),
            OpError::Status(err) => err.error_code(),
            OpError::Pop(err) => err.error_code(),
            OpError::Audit(err) => err.error_code(),
            OpError::Refresh(err) => err.error_code(),
            OpError::Audited(err, _) => err.error_code(),
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// `{"code": ..., "message": ...}`: the error as every host reports it.
    /// `seq` is present when an audit chain broke at a known record;
    /// `path` is present when the error is about one part of a document,
    /// e.g. the capability or constraint that refused a request; `audit`
    /// when the refusal is an event the host must append to its audit log
    /// (`{"event", "data"}`, as `audit_append` takes them).
    pub fn to_json(&self) -> Vec<u8> {
        let mut body = object! { "code" => self.code(), "message" => self.to_string() };
        let (inner, audit) = match self {
            OpError::Audited(err, audit) => (&**err, Some(audit)),
            other => (other, None),
        };
        let path = match inner {
            OpError::Scope(err) => err.path(),
            OpError::Policy(err) => err.path(),
            _ => None,
        };
        if let Some(path) = path {
            body.set("path", path);
        }
        // Where an audit chain broke: the `seq` of the first bad record.
        if let OpError::Audit(err) = inner
            && let Some(seq) = err.seq()
        {
            body.set("seq", seq);
        }
        if let Some(audit) = audit {
            body.set("audit", audit.clone());
        }
        body.to_vec()
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpError::UnknownOp(op) => write!(f, "unknown operation `{op}`"),
            OpError::BadRequest(msg) => write!(f, "bad request: {msg}"),
            OpError::Json(err) => write!(f, "request: {err}"),
            OpError::Token(err) => write!(f, "{err}"),
            OpError::Key(err) => write!(f, "{err}"),
            OpError::Scope(err) => write!(f, "{err}"),
            OpError::Policy(err) => write!(f, "{err}"),
            OpError::Revocation(err) => write!(f, "{err}"),
            OpError::Status(err) => write!(f, "{err}"),
            OpError::Pop(err) => write!(f, "{err}"),
            OpError::Audit(err) => write!(f, "{err}"),
            OpError::Refresh(err) => write!(f, "{err}"),
            OpError::Audited(err, _) => write!(f, "{err}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for OpError {}

impl From<TokenError> for OpError {
    fn from(err: TokenError) -> Self {
        OpError::Token(err)
    }
}

impl From<ScopeError> for OpError {
    fn from(err: ScopeError) -> Self {
        OpError::Scope(err)
    }
}

impl From<StatusError> for OpError {
    fn from(err: StatusError) -> Self {
        OpError::Status(err)
    }
}

impl From<RevocationError> for OpError {
    fn from(err: RevocationError) -> Self {
        OpError::Revocation(err)
    }
}

impl From<PolicyError> for OpError {
    fn from(err: PolicyError) -> Self {
        OpError::Policy(err)
    }
}

impl From<PopError> for OpError {
    fn from(err: PopError) -> Self {
        OpError::Pop(err)
    }
}

impl From<AuditError> for OpError {
    fn from(err: AuditError) -> Self {
        OpError::Audit(err)
    }
}

impl From<RefreshError> for OpError {
    fn from(err: RefreshError) -> Self {
        OpError::Refresh(err)
    }
}

impl From<KeyError> for OpError {
    fn from(err: KeyError) -> Self {
        OpError::Key(err)
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// Numeric id used by the raw ABI. Never reused.
    pub id: u32,
    /// Name used by JS, HTTP and the CLI.
    pub name: &'static str,
    /// The operation itself.
    pub run: fn(&[u8]) -> Result<Vec<u8>, OpError>,
}

/// Every operation, in id order.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        id: 0,
        name: "info",
        run: info,
    },
    Operation {
        id: 1,
        name: "keygen",
        run: keygen,
    },
    Operation {
        id: 2,
        name: "issue",
        run: issue,
    },
    Operation {
        id: 3,
        name: "verify",
        run: verify,
    },
    Operation {
        id: 4,
        name: "authorize",
        run: authorize,
    },
    Operation {
        id: 5,
        name: "delegate",
        run: delegate,
    },
    Operation {
        id: 6,
        name: "scope_meet",
        run: scope_meet,
    },
    Operation {
        id: 7,
        name: "policy_check",
        run: policy_check,
    },
    Operation {
        id: 8,
        name: "policy_evaluate",
        run: policy_evaluate,
    },
    Operation {
        id: 9,
        name: "policy_explain",
        run: policy_explain,
    },
    Operation {
        id: 10,
        name: "revocation_list_sign",
        run: revocation_list_sign,
    },
    Operation {
        id: 11,
        name: "revocation_list_verify",
        run: revocation_list_verify,
    },
    Operation {
        id: 12,
        name: "pop_create",
        run: pop_create,
    },
    Operation {
        id: 13,
        name: "pop_verify",
        run: pop_verify,
    },
    Operation {
        id: 14,
        name: "audit_append",
        run: audit_append,
    },
    Operation {
        id: 15,
        name: "audit_verify",
        run: audit_verify,
    },
    Operation {
        id: 16,
        name: "refresh",
        run: refresh,
    },
    Operation {
        id: 17,
        name: "attach_signature",
        run: attach_signature,
    },
    Operation {
        id: 18,
        name: "decode",
        run: decode,
    },
    Operation {
        id: 19,
        name: "status_list_sign",
        run: status_list_sign,
    },
    Operation {
        id: 20,
        name: "status_list_verify",
        run: status_list_verify,
    },
];

/// Run operation `id` on a JSON request.
///
/// # Errors
/// [`OpError`]; its [`OpError::to_json`] is the error response.
pub fn call(id: u32, request: &[u8]) -> Result<Vec<u8>, OpError> {
    let op = OPERATIONS
        .iter()
        .find(|o| o.id == id)
        .ok_or_else(|| OpError::UnknownOp(id.to_string()))?;
    run(op, request)
}

/// Runs `op`; in debug builds, its answer is checked against its described
/// response ([`responses`]).
fn run(op: &Operation, request: &[u8]) -> Result<Vec<u8>, OpError> {
    let answer = (op.run)(request);
    #[cfg(debug_assertions)]
    if let Ok(bytes) = &answer {
        described::assert_described(op.name, bytes);
    }
    answer
}

/// Run the operation called `name` on a JSON request.
///
/// # Errors
/// As [`call`].
pub fn call_named(name: &str, request: &[u8]) -> Result<Vec<u8>, OpError> {
    let op = OPERATIONS
        .iter()
        .find(|o| o.name == name)
        .ok_or_else(|| OpError::UnknownOp(name.to_string()))?;
    run(op, request)
}
