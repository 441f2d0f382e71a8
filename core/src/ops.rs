//! The operations table: every operation the module offers, as one function
//! from request JSON bytes to response JSON bytes.
//!
//! The raw ABI, the JS API, the gateway and the CLI all call [`call`]; none
//! of them holds logic of its own. Requests are parsed with the same strict
//! JSON rules as tokens, and unknown request fields are refused, so a typo in
//! a field name is an error rather than a silently ignored setting.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use ed25519_dalek::SigningKey;
use serde_json::{Map, Value, json};

use crate::b64;
use crate::claims::Capability;
use crate::claims::TokenRequest;
use crate::delegation;
use crate::entropy::SliceEntropy;
use crate::error::TokenError;
use crate::json::{self, JsonError};
use crate::keys::{self, KeyError, KeySet};
use crate::policy::{self, Policy, PolicyError, PolicyRequest};
use crate::revocation::{self, RevocationError};
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
    /// A policy document or policy request was refused.
    Policy(PolicyError),
    /// A revocation list was refused, or a token is revoked.
    Revocation(RevocationError),
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
            OpError::Policy(err) => err.code(),
            OpError::Revocation(err) => err.code(),
        }
    }

    /// `{"code": ..., "message": ...}`: the error as every host reports it.
    /// `path` is present when the error is about one part of a document,
    /// e.g. the capability or constraint that refused a request.
    pub fn to_json(&self) -> Vec<u8> {
        let mut body = json!({ "code": self.code(), "message": self.to_string() });
        let path = match self {
            OpError::Scope(err) => err.path(),
            OpError::Policy(err) => err.path(),
            _ => None,
        };
        if let (Some(path), Value::Object(map)) = (path, &mut body) {
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
            OpError::Policy(err) => write!(f, "{err}"),
            OpError::Revocation(err) => write!(f, "{err}"),
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

/// A request object read member by member. Each operation takes what it
/// needs and [`Fields::done`] refuses whatever is left, so a misspelt member
/// is an error, never a silently ignored setting. (Hand-written rather than
/// derived: one reader instead of a serde visitor per request type keeps the
/// `.wasm` small.)
struct Fields(Map<String, Value>);

impl Fields {
    fn parse(request: &[u8]) -> Result<Self, OpError> {
        json::parse_object(request, MAX_REQUEST_DEPTH)
            .map(Fields)
            .map_err(OpError::Json)
    }

    fn opt(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name).filter(|v| !v.is_null())
    }

    fn value(&mut self, name: &str) -> Result<Value, OpError> {
        self.opt(name)
            .ok_or_else(|| OpError::BadRequest(format!("missing member `{name}`")))
    }

    fn string(&mut self, name: &str) -> Result<String, OpError> {
        match self.value(name)? {
            Value::String(s) => Ok(s),
            _ => Err(wrong_type(name, "a string")),
        }
    }

    fn object(&mut self, name: &str) -> Result<Map<String, Value>, OpError> {
        match self.value(name)? {
            Value::Object(m) => Ok(m),
            _ => Err(wrong_type(name, "an object")),
        }
    }

    fn int(&mut self, name: &str) -> Result<i64, OpError> {
        let v = self.value(name)?;
        v.as_i64().ok_or_else(|| wrong_type(name, "an integer"))
    }

    fn opt_int(&mut self, name: &str) -> Result<Option<i64>, OpError> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type(name, "an integer")),
        }
    }

    fn uint(&mut self, name: &str) -> Result<u64, OpError> {
        let v = self.value(name)?;
        v.as_u64()
            .ok_or_else(|| wrong_type(name, "a non-negative integer"))
    }

    fn bytes(&mut self, name: &str) -> Result<Vec<u8>, OpError> {
        let text = self.string(name)?;
        b64::decode(text.as_bytes()).map_err(|e| OpError::BadRequest(format!("`{name}`: {e}")))
    }

    fn caps(&mut self, name: &str) -> Result<Vec<Capability>, OpError> {
        let caps = Capability::list_from_json(&self.value(name)?, name)
            .map_err(|e| OpError::BadRequest(e.to_string()))?;
        scope::validate_caps(&caps)?;
        Ok(caps)
    }

    fn done(self) -> Result<(), OpError> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(extra) => Err(OpError::BadRequest(format!("unknown member `{extra}`"))),
        }
    }
}

fn wrong_type(name: &str, what: &str) -> OpError {
    OpError::BadRequest(format!("`{name}` must be {what}"))
}

fn respond(value: &Value) -> Result<Vec<u8>, OpError> {
    serde_json::to_vec(value).map_err(|e| OpError::BadRequest(e.to_string()))
}

fn info(request: &[u8]) -> Result<Vec<u8>, OpError> {
    Fields::parse(request)?.done()?;
    let ops: Vec<&str> = OPERATIONS.iter().map(|o| o.name).collect();
    respond(&json!({ "abi": ABI_VERSION, "version": env!("CARGO_PKG_VERSION"), "ops": ops }))
}

fn keygen(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request)?;
    let seed: [u8; 32] = f
        .bytes("seed")?
        .try_into()
        .map_err(|_| OpError::BadRequest("`seed` must be 32 bytes".into()))?;
    f.done()?;
    let key = SigningKey::from_bytes(&seed);
    let public = key.verifying_key();
    respond(&json!({
        "kid": keys::thumbprint(&public),
        "private_jwk": keys::private_jwk(&key),
        "public_jwk": keys::public_jwk(&public),
    }))
}

fn issued_json(issued: &crate::token::IssuedToken) -> Value {
    json!({
        "token": issued.token,
        "kid": issued.header.kid,
        "jti": issued.claims.jti,
        "iat": issued.claims.iat,
        "exp": issued.claims.exp,
    })
}

fn issue(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request)?;
    let key = keys::signing_key_from_jwk(&f.value("key")?)?;
    let issuer = f.string("issuer")?;
    let now = f.int("now")?;
    let ttl = f.uint("ttl")?;
    let entropy = f.bytes("entropy")?;
    let claims = TokenRequest::from_json(f.object("claims")?).map_err(TokenError::from)?;
    f.done()?;
    let issued =
        TokenIssuer::new(&key, issuer).issue(claims, now, ttl, &mut SliceEntropy::new(&entropy))?;
    respond(&issued_json(&issued))
}

/// How to trust a token: the members every verifying operation shares.
struct Trust {
    jwks: Value,
    issuer: String,
    audience: String,
    now: i64,
    leeway: i64,
    max_depth: usize,
    revoked: BTreeSet<String>,
}

impl Trust {
    fn take(f: &mut Fields) -> Result<Self, OpError> {
        let leeway = f.opt_int("leeway")?.unwrap_or(token::DEFAULT_LEEWAY);
        if !(0..=MAX_LEEWAY).contains(&leeway) {
            return Err(OpError::BadRequest(format!(
                "`leeway` must be in 0..={MAX_LEEWAY} seconds"
            )));
        }
        let max_depth = match f.opt_int("max_depth")? {
            None => delegation::DEFAULT_MAX_DEPTH,
            Some(d) => {
                usize::try_from(d).map_err(|_| wrong_type("max_depth", "a non-negative integer"))?
            }
        };
        let revoked = match f.opt("revoked") {
            None => BTreeSet::new(),
            Some(v) => string_set(&v, "revoked")?,
        };
        Ok(Trust {
            jwks: f.value("jwks")?,
            issuer: f.string("issuer")?,
            audience: f.string("audience")?,
            now: f.int("now")?,
            leeway,
            max_depth,
            revoked,
        })
    }

    /// Verify, then refuse the token if any `jti` of its chain is in the
    /// caller's revocation set (`revoked`): revoking a parent revokes its
    /// descendants.
    fn verify(&self, token: &str) -> Result<VerifiedToken, OpError> {
        let keys = KeySet::from_jwks(self.issuer.clone(), &self.jwks)?;
        let verifier = Verifier::new(&keys, self.audience.clone())
            .leeway(self.leeway)
            .max_delegation_depth(self.max_depth);
        let verified = verifier.verify(token, self.now)?;
        revocation::check_chain(verified.chain_jtis(), &self.revoked)?;
        Ok(verified)
    }
}

fn string_set(v: &Value, name: &str) -> Result<BTreeSet<String>, OpError> {
    v.as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|x| x.as_str().map(String::from))
                .collect::<Option<_>>()
        })
        .ok_or_else(|| wrong_type(name, "a list of strings"))
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

fn verify(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request)?;
    let token = f.string("token")?;
    let trust = Trust::take(&mut f)?;
    f.done()?;
    respond(&verified_json(&trust.verify(&token)?))
}

fn authorize(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request)?;
    let token = f.string("token")?;
    let trust = Trust::take(&mut f)?;
    // The action is read before the token is verified: a malformed request
    // is the caller's bug and should say so whatever the token.
    let mut action = Fields(f.object("request")?);
    f.done()?;
    let context = match action.opt("context") {
        Some(v) => Context::from_json(v)?,
        None => Context::default(),
    };
    let request = scope::Request {
        action: action.string("action")?,
        resource: action.string("resource")?,
        context,
    };
    action.done()?;
    let verified = trust.verify(&token)?;
    let allowed = verified.authorize(&request)?;
    respond(&json!({
        "allowed": true,
        "cap_index": allowed.cap_index,
        "sub": verified.claims().request.sub,
        "jti": verified.claims().jti,
        "depth": verified.depth(),
    }))
}

fn delegate(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request)?;
    let parent_text = f.string("parent")?;
    let trust = Trust::take(&mut f)?;
    let holder = keys::signing_key_from_jwk(&f.value("key")?)?;
    let ttl = f.uint("ttl")?;
    let entropy = f.bytes("entropy")?;
    let claims = TokenRequest::from_json(f.object("claims")?).map_err(TokenError::from)?;
    f.done()?;
    let parent = trust.verify(&parent_text)?;
    let issued = delegation::delegate(
        &parent,
        &parent_text,
        &holder,
        claims,
        trust.now,
        ttl,
        trust.max_depth,
        &mut SliceEntropy::new(&entropy),
    )?;
    let mut out = issued_json(&issued);
    if let Value::Object(m) = &mut out {
        m.insert("depth".into(), (parent.depth() + 1).into());
    }
    respond(&out)
}

fn scope_meet(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request)?;
    let a = f.caps("a")?;
    let b = f.caps("b")?;
    f.done()?;
    let caps = scope::meet(&a, &b)?;
    respond(&json!({ "caps": Capability::list_to_json(&caps) }))
}

/// The most evaluation steps a caller may grant one policy call; the host's
/// fuel limit is the outer bound in any case.
const MAX_POLICY_BUDGET: u64 = 4 * policy::DEFAULT_BUDGET;

fn policy_check(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let mut f = Fields::parse(request)?;
    let doc = f.value("policy")?;
    f.done()?;
    let policy = Policy::from_value(&doc)?;
    respond(&json!({
        "valid": true,
        "rules": policy.rules().len(),
        "max_ttl": policy.max_ttl(),
        "policy": Value::Object(policy.to_json()),
    }))
}

/// The policy, the request and the step budget of an evaluate/explain call.
fn policy_args(request: &[u8]) -> Result<(Policy, PolicyRequest, u64), OpError> {
    let mut f = Fields::parse(request)?;
    let doc = f.value("policy")?;
    let req = f.value("request")?;
    let budget = match f.opt("budget") {
        None => policy::DEFAULT_BUDGET,
        Some(v) => v
            .as_u64()
            .filter(|b| *b <= MAX_POLICY_BUDGET)
            .ok_or_else(|| {
                OpError::BadRequest(format!(
                    "`budget` must be an integer no larger than {MAX_POLICY_BUDGET}"
                ))
            })?,
    };
    f.done()?;
    Ok((
        Policy::from_value(&doc)?,
        PolicyRequest::from_value(&req)?,
        budget,
    ))
}

fn policy_evaluate(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let (policy, req, budget) = policy_args(request)?;
    respond(&Value::Object(policy.evaluate(&req, budget)?.to_json()))
}

fn policy_explain(request: &[u8]) -> Result<Vec<u8>, OpError> {
    let (policy, req, budget) = policy_args(request)?;
    respond(&Value::Object(policy.explain(&req, budget)?.to_json()))
}
