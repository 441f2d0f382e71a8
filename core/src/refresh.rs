//! Refresh: a fresh token for a holder whose token is still good, decided
//! by the policy again and never wider than what it replaces.
//!
//! The seed leaves "token refresh mechanism?" open. The answer here: only a
//! token the issuer signed itself (not a delegated one) is refreshed, only
//! while it verifies and no `jti` of it is revoked, and the new grant is
//! `min(policy's grant today, current grant)`, so a refresh can narrow
//! (the policy changed) but never widen. Subject, audience, holder key,
//! plan and extra claims carry over; `jti`, `iat`, `nbf` and `exp` are new, and
//! the place in a status list is new when the issuer gives one.

use crate::codes::ErrorCode;
use alloc::string::String;
use core::fmt;

use ed25519_dalek::{Signature, VerifyingKey};
use signature::{Keypair, Signer};

use crate::entropy::Entropy;
use crate::error::TokenError;
use crate::policy::{Decision, DenialCode, Policy, PolicyError, PolicyRequest, Subject};
use crate::revocation::{self, RevocationCheck, RevocationError};
use crate::scope::{self, ScopeError};
use crate::token::{IssuedToken, TokenIssuer, VerifiedToken};

/// Why a token was not refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshError {
    /// A bearer token: no holder key to prove, so nothing to refresh for.
    Bearer,
    /// A delegated token: its delegator, not the issuer, decides what it holds.
    NotRoot {
        /// Its delegation depth.
        depth: usize,
    },
    /// The token, or an ancestor, is revoked.
    Revoked(RevocationError),
    /// The policy no longer grants anything of what the token holds.
    Denied {
        /// `denied_by_rule` or `no_matching_rule`.
        code: DenialCode,
        /// The deny rule, if one refused.
        rule: Option<String>,
    },
    /// The policy could not be evaluated.
    Policy(PolicyError),
    /// Scopes could not be combined.
    Scope(ScopeError),
    /// Signing failed.
    Token(TokenError),
}

impl RefreshError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            RefreshError::Bearer => ErrorCode::BearerToken,
            RefreshError::NotRoot { .. } => ErrorCode::RefreshNotRoot,
            RefreshError::Revoked(err) => err.error_code(),
            RefreshError::Denied { code, .. } => code.error_code(),
            RefreshError::Policy(err) => err.error_code(),
            RefreshError::Scope(err) => err.error_code(),
            RefreshError::Token(err) => err.error_code(),
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshError::Bearer => f.write_str(crate::error::BEARER),
            RefreshError::NotRoot { depth } => write!(
                f,
                "a delegated token (depth {depth}) is refreshed by its delegator, not the issuer"
            ),
            RefreshError::Revoked(err) => write!(f, "{err}"),
            RefreshError::Denied {
                code,
                rule: Some(rule),
            } => {
                write!(
                    f,
                    "the policy denies a refresh ({}, rule `{rule}`)",
                    code.code()
                )
            }
            RefreshError::Denied { code, rule: None } => {
                write!(f, "the policy denies a refresh ({})", code.code())
            }
            RefreshError::Policy(err) => write!(f, "{err}"),
            RefreshError::Scope(err) => write!(f, "{err}"),
            RefreshError::Token(err) => write!(f, "{err}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RefreshError {}

/// What a refresh needs besides the token: the policy in force, what the
/// issuer knows of the subject today, and the lifetime asked for.
#[derive(Debug)]
pub struct RefreshRequest<'a> {
    /// The policy in force now.
    pub policy: &'a Policy,
    /// The subject's attributes as the issuer knows them now (its id is the
    /// token's `sub`).
    pub attributes: alloc::collections::BTreeMap<String, String>,
    /// Lifetime asked for; the policy caps it.
    pub ttl: u64,
    /// Policy evaluation budget.
    pub budget: u64,
    /// The new token's own place in a status list; `None` keeps the place
    /// of the token it replaces, if it has one.
    pub status: Option<crate::status::StatusRef>,
}

/// Refresh `current` (already verified by the caller at `now`) through
/// `request.policy`, checking revocation in `revoked`.
///
/// # Errors
/// [`RefreshError`]: a delegated token, a revoked chain, a policy that now
/// denies, or the issuer's signer failing.
pub fn refresh<S>(
    issuer: &TokenIssuer<'_, S>,
    current: &VerifiedToken,
    revoked: &dyn RevocationCheck,
    request: &RefreshRequest<'_>,
    now: i64,
    entropy: &mut dyn Entropy,
) -> Result<IssuedToken, RefreshError>
where
    S: Signer<Signature> + Keypair<VerifyingKey = VerifyingKey>,
{
    if current.holder().is_none() {
        // Refresh is for a holder proving its key; a bearer token has none.
        return Err(RefreshError::Bearer);
    }
    if current.depth() > 0 {
        return Err(RefreshError::NotRoot {
            depth: current.depth(),
        });
    }
    if current.claims().iss != issuer.issuer() {
        return Err(RefreshError::Token(TokenError::BadIssuer {
            expected: issuer.issuer().into(),
            found: current.claims().iss.clone(),
        }));
    }
    revocation::check_chain(current.chain_ids(), revoked).map_err(RefreshError::Revoked)?;
    let held = &current.claims().request;
    let asked = PolicyRequest {
        subject: Subject {
            id: held.sub.clone(),
            attributes: request.attributes.clone(),
        },
        capabilities: held.caps.clone(),
        ttl: request.ttl,
        bearer: false,
    };
    let (granted, ttl) = match request
        .policy
        .evaluate(&asked, request.budget)
        .map_err(RefreshError::Policy)?
    {
        Decision::Granted {
            capabilities, ttl, ..
        } => (capabilities, ttl),
        Decision::Denied { code, rule, .. } => return Err(RefreshError::Denied { code, rule }),
    };
    // The policy's grant is already inside what was asked (the current
    // caps); meeting again makes "never wider" hold by construction.
    let caps = scope::meet(&granted, &held.caps).map_err(RefreshError::Scope)?;
    if caps.is_empty() {
        return Err(RefreshError::Denied {
            code: DenialCode::NoMatchingRule,
            rule: None,
        });
    }
    let mut next = held.clone();
    next.caps = caps;
    if let Some(status) = &request.status {
        next.extra.insert("status".into(), status.to_claim());
    }
    issuer
        .issue(next, now, ttl, entropy)
        .map_err(RefreshError::Token)
}
