//! The operations table: every operation the module offers, as one function
//! from request JSON bytes to response JSON bytes.
//!
//! The raw ABI, the JS API, the gateway and the CLI all call [`call`]; none
//! of them holds logic of its own. Requests are parsed with the same strict
//! JSON rules as tokens, and unknown request fields are refused, so a typo in
//! a field name is an error rather than a silently ignored setting.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use ed25519_dalek::SigningKey;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::b64;
use crate::claims::Capability;
use crate::claims::TokenRequest;
use crate::delegation;
use crate::entropy::SliceEntropy;
use crate::error::TokenError;
use crate::json::{self, JsonError};
use crate::keys::{self, KeyError, KeySet};
use crate::scope::{self, Context, ScopeError};
use crate::token::{self, MAX_LEEWAY, TokenIssuer, VerifiedToken, Verifier};

/// Version of the request/response contract and of the raw ABI.
pub const ABI_VERSION: u32 = 1;

/// Nesting allowed in a request document (claims nest about six deep).
const MAX_REQUEST_DEPTH: usize = 32;

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl OpError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            OpError::UnknownOp(_) => "unknown_op",
            OpError::BadRequest(_) => "bad_request",
            OpError::Json(err) => err.code(),
            OpError::Token(err) => err.code(),
            OpError::Key(err) => err.code(),
            OpError::Scope(err) => err.code(),
        }
    }

    /// `{"code": ..., "message": ...}`: the error as every host reports it.
    /// `path` is present when the error is about one part of a document,
    /// e.g. the capability or constraint that refused a request.
    pub fn to_json(&self) -> Vec<u8> {
        let mut body = json!({ "code": self.code(), "message": self.to_string() });
        if let (OpError::Scope(err), Value::Object(map)) = (self, &mut body)
            && let Some(path) = err.path()
        {
            map.insert("path".into(), path.into());
        }
        serde_json::to_vec(&body).unwrap_or_default()
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
    (op.run)(request)
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
    (op.run)(request)
}

fn parse<T: DeserializeOwned>(request: &[u8]) -> Result<T, OpError> {
    let map = json::parse_object(request, MAX_REQUEST_DEPTH).map_err(OpError::Json)?;
    serde_json::from_value(Value::Object(map)).map_err(|e| OpError::BadRequest(e.to_string()))
}

fn respond(value: &Value) -> Result<Vec<u8>, OpError> {
    serde_json::to_vec(value).map_err(|e| OpError::BadRequest(e.to_string()))
}

fn bytes_field(name: &str, text: &str) -> Result<Vec<u8>, OpError> {
    b64::decode(text.as_bytes()).map_err(|e| OpError::BadRequest(format!("`{name}`: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InfoRequest {}

fn info(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let InfoRequest {} = parse(request)?;
    let ops: Vec<&str> = OPERATIONS.iter().map(|o| o.name).collect();
    respond(&json!({ "abi": ABI_VERSION, "version": env!("CARGO_PKG_VERSION"), "ops": ops }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeygenRequest {
    seed: String,
}

fn keygen(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let req: KeygenRequest = parse(request)?;
    let seed: [u8; 32] = bytes_field("seed", &req.seed)?
        .try_into()
        .map_err(|_| OpError::BadRequest("`seed` must be 32 bytes".into()))?;
    let key = SigningKey::from_bytes(&seed);
    let public = key.verifying_key();
    respond(&json!({
        "kid": keys::thumbprint(&public),
        "private_jwk": keys::private_jwk(&key),
        "public_jwk": keys::public_jwk(&public),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    key: Value,
    issuer: String,
    now: i64,
    ttl: u64,
    entropy: String,
    claims: Map<String, Value>,
}

fn issue(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let req: IssueRequest = parse(request)?;
    let key = keys::signing_key_from_jwk(&req.key)?;
    let entropy = bytes_field("entropy", &req.entropy)?;
    let claims = TokenRequest::from_json(req.claims).map_err(TokenError::from)?;
    let issuer = TokenIssuer::new(&key, req.issuer);
    let issued = issuer.issue(claims, req.now, req.ttl, &mut SliceEntropy::new(&entropy))?;
    respond(&json!({
        "token": issued.token,
        "kid": issued.header.kid,
        "jti": issued.claims.jti,
        "iat": issued.claims.iat,
        "exp": issued.claims.exp,
    }))
}

/// How to trust a token: shared by every operation that verifies one.
struct Trust {
    jwks: Value,
    issuer: String,
    audience: String,
    now: i64,
    leeway: Option<i64>,
    max_depth: Option<usize>,
}

impl Trust {
    fn verify(self, token: &str) -> Result<VerifiedToken, OpError> {
        let leeway = self.leeway.unwrap_or(token::DEFAULT_LEEWAY);
        if !(0..=MAX_LEEWAY).contains(&leeway) {
            return Err(OpError::BadRequest(format!(
                "`leeway` must be in 0..={MAX_LEEWAY} seconds"
            )));
        }
        let keys = KeySet::from_jwks(self.issuer, &self.jwks)?;
        let verifier = Verifier::new(&keys, self.audience)
            .leeway(leeway)
            .max_delegation_depth(self.max_depth.unwrap_or(delegation::DEFAULT_MAX_DEPTH));
        Ok(verifier.verify(token, self.now)?)
    }
}

fn verified_json(verified: &VerifiedToken) -> Value {
    let chain: Vec<Value> = verified
        .chain()
        .iter()
        .map(|l| json!({ "jti": l.jti, "sub": l.sub, "kid": l.kid }))
        .collect();
    json!({
        "header": { "alg": "EdDSA", "typ": token::TYP, "kid": verified.header().kid },
        "claims": Value::Object(verified.claims().to_json()),
        "depth": verified.depth(),
        "chain": chain,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyRequest {
    token: String,
    jwks: Value,
    issuer: String,
    audience: String,
    now: i64,
    leeway: Option<i64>,
    max_depth: Option<usize>,
}

fn verify(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let r: VerifyRequest = parse(request)?;
    let trust = Trust {
        jwks: r.jwks,
        issuer: r.issuer,
        audience: r.audience,
        now: r.now,
        leeway: r.leeway,
        max_depth: r.max_depth,
    };
    respond(&verified_json(&trust.verify(&r.token)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionRequest {
    action: String,
    resource: String,
    #[serde(default)]
    context: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizeRequest {
    token: String,
    jwks: Value,
    issuer: String,
    audience: String,
    now: i64,
    leeway: Option<i64>,
    max_depth: Option<usize>,
    request: ActionRequest,
}

fn authorize(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let r: AuthorizeRequest = parse(request)?;
    // The context is read before the token is verified: a malformed request
    // is the caller's bug and should say so whatever the token.
    let context = match r.request.context {
        Some(v) => Context::from_json(v)?,
        None => Context::default(),
    };
    let trust = Trust {
        jwks: r.jwks,
        issuer: r.issuer,
        audience: r.audience,
        now: r.now,
        leeway: r.leeway,
        max_depth: r.max_depth,
    };
    let verified = trust.verify(&r.token)?;
    let action = scope::Request {
        action: r.request.action,
        resource: r.request.resource,
        context,
    };
    let allowed = verified.authorize(&action)?;
    respond(&json!({
        "allowed": true,
        "cap_index": allowed.cap_index,
        "sub": verified.claims().request.sub,
        "jti": verified.claims().jti,
        "depth": verified.depth(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelegateRequest {
    parent: String,
    jwks: Value,
    issuer: String,
    audience: String,
    now: i64,
    leeway: Option<i64>,
    max_depth: Option<usize>,
    key: Value,
    ttl: u64,
    entropy: String,
    claims: Map<String, Value>,
}

fn delegate(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let r: DelegateRequest = parse(request)?;
    let max_depth = r.max_depth.unwrap_or(delegation::DEFAULT_MAX_DEPTH);
    let trust = Trust {
        jwks: r.jwks,
        issuer: r.issuer,
        audience: r.audience,
        now: r.now,
        leeway: r.leeway,
        max_depth: Some(max_depth),
    };
    let parent = trust.verify(&r.parent)?;
    let holder = keys::signing_key_from_jwk(&r.key)?;
    let entropy = bytes_field("entropy", &r.entropy)?;
    let claims = TokenRequest::from_json(r.claims).map_err(TokenError::from)?;
    let issued = delegation::delegate(
        &parent,
        &r.parent,
        &holder,
        claims,
        r.now,
        r.ttl,
        max_depth,
        &mut SliceEntropy::new(&entropy),
    )?;
    respond(&json!({
        "token": issued.token,
        "kid": issued.header.kid,
        "jti": issued.claims.jti,
        "iat": issued.claims.iat,
        "exp": issued.claims.exp,
        "depth": parent.depth() + 1,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeetRequest {
    a: Vec<Capability>,
    b: Vec<Capability>,
}

fn scope_meet(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let r: MeetRequest = parse(request)?;
    scope::validate_caps(&r.a)?;
    scope::validate_caps(&r.b)?;
    let caps = scope::meet(&r.a, &r.b)?;
    respond(&json!({ "caps": caps }))
}
