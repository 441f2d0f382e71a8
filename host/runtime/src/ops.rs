//! Typed calls for each operation of docs/ABI.md.

use serde_json::{Value, json};

use captoken_core::b64;

use crate::{HostError, Runtime, Session, entropy, now};

/// Operation ids of the raw ABI (docs/ABI.md, "Operations").
pub mod op {
    /// `{}` → `{"abi", "version", "ops"}`.
    pub const INFO: u32 = 0;
    /// `{"seed"}` → `{"kid", "private_jwk", "public_jwk"}`.
    pub const KEYGEN: u32 = 1;
    /// `{"key", "issuer", "now", "ttl", "entropy", "claims"}` →
    /// `{"token", "kid", "jti", "iat", "exp"}`.
    pub const ISSUE: u32 = 2;
    /// `{"token", "jwks", "issuer", "audience", "now", "leeway"?}` →
    /// `{"header", "claims"}`.
    pub const VERIFY: u32 = 3;
    /// `verify`'s members and `{"request"}` → `{"allowed", "cap_index", ...}`.
    pub const AUTHORIZE: u32 = 4;
    /// `verify`'s members and `{"parent", "key", "ttl", "entropy", "claims"}`.
    pub const DELEGATE: u32 = 5;
    /// `{"a", "b"}` → `{"caps"}`.
    pub const SCOPE_MEET: u32 = 6;
    /// `{"policy"}` → `{"valid", "rules", "max_ttl", "policy"}`.
    pub const POLICY_CHECK: u32 = 7;
    /// `{"policy", "request", "budget"?}` → a decision.
    pub const POLICY_EVALUATE: u32 = 8;
    /// As `POLICY_EVALUATE`, rule by rule.
    pub const POLICY_EXPLAIN: u32 = 9;
    /// `{"key", "list"}` → `{"list", "kid"}`.
    pub const REVOCATION_LIST_SIGN: u32 = 10;
    /// `{"list", "jwks", "issuer", "now", ...}` → `{"status", ...}`.
    pub const REVOCATION_LIST_VERIFY: u32 = 11;
    /// `{"key", "token", "audience", "now", "entropy", ...}` → `{"proof"}`.
    pub const POP_CREATE: u32 = 12;
    /// `verify`'s members and `{"proof", "pop_audience", ...}` →
    /// `{..., "replay": {"key", "exp"}}`.
    pub const POP_VERIFY: u32 = 13;
    /// `{"last"?, "time", "event", "data"}` → the next audit record.
    pub const AUDIT_APPEND: u32 = 14;
    /// `{"records", "head"?}` → `{"valid", "first_seq", "last_seq", "count", "head"}`.
    pub const AUDIT_VERIFY: u32 = 15;
    /// `verify`'s members and `{"key", "policy", "ttl", "entropy", ...}`.
    pub const REFRESH: u32 = 16;
}

/// Bytes of fresh entropy [`Runtime::issue_now`] gives each token; the
/// module needs at least 16.
const ISSUE_ENTROPY_BYTES: usize = 32;

impl Session<'_> {
    /// As [`Runtime::call_json`], in this session's instance.
    ///
    /// # Errors
    ///
    /// As [`Session::call`], and `guest_bad_response` if the module answers
    /// with something other than JSON.
    pub fn call_json(&mut self, op: u32, request: &Value) -> Result<Value, HostError> {
        parse_response(&self.call(op, &request_bytes(request)?)?)
    }
}

fn request_bytes(request: &Value) -> Result<Vec<u8>, HostError> {
    serde_json::to_vec(request).map_err(|err| HostError::BadRequestJson {
        reason: err.to_string(),
    })
}

fn parse_response(response: &[u8]) -> Result<Value, HostError> {
    serde_json::from_slice(response).map_err(|err| HostError::GuestBadResponse {
        reason: err.to_string(),
    })
}

impl Runtime {
    /// Runs `op` on a JSON value and parses the JSON response.
    ///
    /// # Errors
    ///
    /// As [`Runtime::call`], and `guest_bad_response` if the module answers
    /// with something other than JSON.
    pub fn call_json(&self, op: u32, request: &Value) -> Result<Value, HostError> {
        parse_response(&self.call(op, &request_bytes(request)?)?)
    }

    /// The module's self-description: `{"abi", "version", "ops"}`.
    ///
    /// # Errors
    ///
    /// As [`Runtime::call_json`].
    pub fn info(&self) -> Result<Value, HostError> {
        self.call_json(op::INFO, &json!({}))
    }

    /// The Ed25519 key pair derived from `seed`:
    /// `{"kid", "private_jwk", "public_jwk"}`. The seed must be secret and
    /// random: [`entropy`] gives one.
    ///
    /// # Errors
    ///
    /// As [`Runtime::call_json`].
    pub fn keygen(&self, seed: [u8; 32]) -> Result<Value, HostError> {
        self.call_json(op::KEYGEN, &json!({ "seed": b64::encode(&seed) }))
    }

    /// Signs a token for a complete issue request (docs/ABI.md):
    /// `{"token", "kid", "jti", "iat", "exp"}`.
    ///
    /// # Errors
    ///
    /// As [`Runtime::call_json`]; the module's codes for a bad key or claims.
    pub fn issue(&self, request: &Value) -> Result<Value, HostError> {
        self.call_json(op::ISSUE, request)
    }

    /// Issues with the host's clock and fresh entropy: the usual way to call
    /// [`Runtime::issue`].
    ///
    /// # Errors
    ///
    /// As [`Runtime::issue`], and `host_entropy`.
    pub fn issue_now(
        &self,
        key: &Value,
        issuer: &str,
        ttl: u64,
        claims: &Value,
    ) -> Result<Value, HostError> {
        let entropy = entropy::<ISSUE_ENTROPY_BYTES>()?;
        self.issue(&json!({
            "key": key,
            "issuer": issuer,
            "now": now(),
            "ttl": ttl,
            "entropy": b64::encode(&entropy),
            "claims": claims,
        }))
    }

    /// Verifies a token for a complete verify request (docs/ABI.md):
    /// `{"header", "claims"}`.
    ///
    /// # Errors
    ///
    /// As [`Runtime::call_json`]; [`HostError::Op`] with the module's code
    /// (`expired`, `bad_audience`, `bad_signature`, …) when the token is
    /// rejected.
    pub fn verify(&self, request: &Value) -> Result<Value, HostError> {
        self.call_json(op::VERIFY, request)
    }
}
