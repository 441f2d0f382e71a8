//! Delegation: the holder of a token mints a narrower child token for
//! someone else, signed with the key the parent binds (`cnf`).
//!
//! A delegated token travels with its ancestors, leaf first:
//! `child~parent~…~root`. Each child names its parent by hash (`prf`), is
//! signed by the parent's holder key (`kid` = thumbprint of the parent's
//! `cnf`), and may only narrow: capabilities covered by the parent's,
//! audiences among the parent's, validity inside the parent's. So the whole
//! chain verifies offline from the root issuer's key set alone, and a child
//! never allows what its parent does not.

use ed25519_dalek::{Signature, VerifyingKey};
use signature::{Keypair, Signer};

use crate::b64;
use crate::claims::TokenRequest;
use crate::entropy::Entropy;
use crate::error::TokenError;
use crate::keys;
use crate::token::{IssuedToken, Minted, VerifiedToken, mint};

pub use crate::error::DelegationError;
pub use crate::narrowing::{CHAIN_SEPARATOR, DEFAULT_MAX_DEPTH};
use crate::narrowing::{check_inherited, check_request};

/// A delegation from one verified parent: the child's lifetime and the
/// deepest chain allowed, then [`Delegation::sign`] by the parent's holder.
///
/// ```
/// # use captoken_core::delegation::Delegation;
/// # fn f(parent: &captoken_core::VerifiedToken, holder: &ed25519_dalek::SigningKey,
/// #      child: captoken_core::TokenRequest, now: i64,
/// #      entropy: &mut dyn captoken_core::Entropy) -> Result<(), captoken_core::TokenError> {
/// let issued = Delegation::of(parent).ttl(60).sign(holder, child, now, entropy)?;
/// # let _ = issued; Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Delegation<'p> {
    parent: &'p VerifiedToken,
    ttl: u64,
    max_depth: usize,
}

impl<'p> Delegation<'p> {
    /// A delegation from `parent`, for [`crate::token::DEFAULT_TTL`]
    /// seconds (capped by the parent's `exp`), at most
    /// [`DEFAULT_MAX_DEPTH`] links deep.
    pub fn of(parent: &'p VerifiedToken) -> Self {
        Delegation {
            parent,
            ttl: crate::token::DEFAULT_TTL,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// The child lives `seconds` (capped by the parent's `exp`).
    pub fn ttl(self, seconds: u64) -> Self {
        Delegation {
            ttl: seconds,
            ..self
        }
    }

    /// Refuse a child deeper than `depth` links below the issuer's token.
    pub fn max_depth(self, depth: usize) -> Self {
        Delegation {
            max_depth: depth,
            ..self
        }
    }

    /// Mint the child for `request` at `now`, signed by `holder`.
    ///
    /// The result's `token` is the new chain `child~parent`, the parent as
    /// it was verified. The child's capabilities must be covered by the
    /// parent's (an escalation is refused, never silently narrowed, so the
    /// delegator learns and the attempt can be audited); it expires no later
    /// than the parent and starts no earlier.
    ///
    /// # Errors
    /// [`DelegationError`] (as [`TokenError::Delegation`]) for a signer that
    /// is not the holder, a chain that would be too deep or an escalation;
    /// otherwise as [`crate::TokenIssuer::issue`].
    pub fn sign<S>(
        &self,
        holder: &S,
        request: TokenRequest,
        now: i64,
        entropy: &mut dyn Entropy,
    ) -> Result<IssuedToken, TokenError>
    where
        S: Signer<Signature> + Keypair<VerifyingKey = VerifyingKey>,
    {
        let Delegation {
            parent,
            ttl,
            max_depth,
        } = *self;
        let depth = parent.depth() + 1;
        let kid = keys::thumbprint(&holder.verifying_key());
        let Some(bound) = parent.holder() else {
            return Err(DelegationError::Bearer.into());
        };
        if kid != bound.thumbprint() {
            return Err(DelegationError::NotHolder.into());
        }
        // Below a root the issuer granted deep already, counted from there.
        let total = depth.saturating_add(parent.claims().request.grant_depth()?);
        if total > max_depth {
            return Err(DelegationError::TooDeep {
                depth: total,
                max: max_depth,
            }
            .into());
        }
        check_request(parent.claims(), &request, depth)?;
        // Inherit what the request leaves out; refuse what it changes.
        let mut request = request;
        if request.plan_id.is_none() {
            request.plan_id.clone_from(&parent.claims().request.plan_id);
        }
        for (k, v) in &parent.claims().request.extra {
            if !request.extra.contains_key(k) {
                request.extra.insert(k.clone(), v.clone());
            }
        }
        check_inherited(parent.claims(), &request, depth)?;
        let fields = Minted {
            iss: &parent.claims().iss,
            kid: &kid,
            exp_cap: Some(parent.claims().exp),
            nbf_floor: Some(parent.claims().nbf),
            prf: Some(b64::encode(parent.token_hash())),
        };
        let mut issued = mint(holder, fields, request, now, ttl, entropy)?;
        issued.token.push(CHAIN_SEPARATOR);
        issued.token.push_str(parent.text());
        Ok(issued)
    }
}
