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

use crate::codes::ErrorCode;
use alloc::format;
use alloc::string::String;
use core::fmt;

use ed25519_dalek::{Signature, VerifyingKey};
use signature::{Keypair, Signer};

use crate::b64;
use crate::claims::{Audience, Claims, TokenRequest};
use crate::entropy::Entropy;
use crate::error::TokenError;
use crate::keys;
use crate::scope;
use crate::token::{IssuedToken, Minted, VerifiedToken, mint};

/// Most delegations between the issuer and a token, by default (TASK-103).
pub const DEFAULT_MAX_DEPTH: usize = 3;

/// Separates the tokens of a chain. A compact JWS never contains it.
pub const CHAIN_SEPARATOR: char = '~';

/// Why a delegation was refused, when minting or when verifying a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DelegationError {
    /// The signer is not the key the parent token binds.
    NotHolder,
    /// More delegations than allowed.
    TooDeep {
        /// Depth of the refused token.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// The child would allow more than its parent.
    Escalation {
        /// Depth of the child in its chain.
        depth: usize,
        /// What widened, e.g. `caps[1]`, `aud`, `exp`.
        path: String,
    },
    /// The child is not signed by its parent's holder key.
    BrokenLink {
        /// Depth of the child.
        depth: usize,
    },
    /// The parent presented is not the one the child was minted from (or a
    /// token signed by the issuer claims to have a parent).
    ParentMismatch {
        /// Depth of the token whose parent does not match.
        depth: usize,
    },
    /// A `jti` appears twice in one chain.
    Cycle {
        /// The repeated `jti`.
        jti: String,
    },
}

impl DelegationError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            DelegationError::NotHolder => ErrorCode::DelegationNotHolder,
            DelegationError::TooDeep { .. } => ErrorCode::DelegationTooDeep,
            DelegationError::Escalation { .. } => ErrorCode::DelegationEscalation,
            DelegationError::BrokenLink { .. } => ErrorCode::DelegationBrokenLink,
            DelegationError::ParentMismatch { .. } => ErrorCode::DelegationParentMismatch,
            DelegationError::Cycle { .. } => ErrorCode::DelegationCycle,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl fmt::Display for DelegationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DelegationError::NotHolder => {
                f.write_str("only the holder of the parent token's key may delegate it")
            }
            DelegationError::TooDeep { depth, max } => {
                write!(f, "delegation depth {depth} exceeds the limit of {max}")
            }
            DelegationError::Escalation { depth, path } => write!(
                f,
                "delegated token at depth {depth} widens `{path}` beyond its parent"
            ),
            DelegationError::BrokenLink { depth } => write!(
                f,
                "delegated token at depth {depth} is not signed by its parent's holder"
            ),
            DelegationError::ParentMismatch { depth } => write!(
                f,
                "token at depth {depth} was not minted from the parent presented with it"
            ),
            DelegationError::Cycle { jti } => write!(f, "`jti` `{jti}` appears twice in one chain"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DelegationError {}

impl From<DelegationError> for TokenError {
    fn from(err: DelegationError) -> Self {
        TokenError::Delegation(err)
    }
}

fn escalation(depth: usize, path: impl Into<String>) -> TokenError {
    DelegationError::Escalation {
        depth,
        path: path.into(),
    }
    .into()
}

fn audiences(aud: &Audience) -> &[String] {
    match aud {
        Audience::One(a) => core::slice::from_ref(a),
        Audience::Many(list) => list,
    }
}

/// The request part of a child must be inside its parent's.
fn check_request(parent: &Claims, child: &TokenRequest, depth: usize) -> Result<(), TokenError> {
    if let Some(i) = scope::first_uncovered(&parent.request.caps, &child.caps) {
        return Err(escalation(depth, format!("caps[{i}]")));
    }
    let allowed = audiences(&parent.request.aud);
    if !audiences(&child.aud).iter().all(|a| allowed.contains(a)) {
        return Err(escalation(depth, "aud"));
    }
    Ok(())
}

/// A child carries its parent's `plan_id` and extra claims unchanged: they
/// are the issuer's statements, and a delegator must not be able to rewrite
/// what a verifier reports (a tenant, a plan) for the token it hands on.
fn check_inherited(parent: &Claims, child: &TokenRequest, depth: usize) -> Result<(), TokenError> {
    if child.plan_id != parent.request.plan_id {
        return Err(escalation(depth, "plan_id"));
    }
    let differs = parent
        .request
        .extra
        .iter()
        .find(|(k, v)| child.extra.get(k.as_str()) != Some(v))
        .map(|(k, _)| k)
        .or_else(|| {
            child
                .extra
                .keys()
                .find(|k| !parent.request.extra.contains_key(k.as_str()))
        });
    match differs {
        Some(name) => Err(escalation(depth, name.as_str())),
        None => Ok(()),
    }
}

/// Verify-time rule for one link: the child only narrows its parent.
pub(crate) fn check_narrower(
    parent: &Claims,
    child: &Claims,
    depth: usize,
) -> Result<(), TokenError> {
    check_request(parent, &child.request, depth)?;
    check_inherited(parent, &child.request, depth)?;
    if child.exp > parent.exp {
        return Err(escalation(depth, "exp"));
    }
    if child.nbf < parent.nbf {
        return Err(escalation(depth, "nbf"));
    }
    Ok(())
}

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
        mint_child(self, holder, request, now, entropy)
    }
}

fn mint_child<S>(
    delegation: &Delegation<'_>,
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
    } = *delegation;
    let depth = parent.depth() + 1;
    let kid = keys::thumbprint(&holder.verifying_key());
    if kid != parent.holder().thumbprint() {
        return Err(DelegationError::NotHolder.into());
    }
    if depth > max_depth {
        return Err(DelegationError::TooDeep {
            depth,
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
