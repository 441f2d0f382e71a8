//! The rules a delegated token obeys against its parent: narrower
//! capabilities and audiences, the issuer's statements unchanged, a
//! lifetime inside the parent's. Checked when a child is minted
//! ([`crate::delegation`]) and on every link of a chain when it is verified
//! ([`crate::token`]); it depends on neither.

use alloc::format;
use alloc::string::String;

use crate::claims::{Audience, Claims, TokenRequest};
use crate::error::{DelegationError, TokenError};
use crate::scope;

/// Most delegations between the issuer and a token, by default (TASK-103).
pub const DEFAULT_MAX_DEPTH: usize = 3;

/// Separates the tokens of a chain. A compact JWS never contains it.
pub const CHAIN_SEPARATOR: char = '~';

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
pub(crate) fn check_request(
    parent: &Claims,
    child: &TokenRequest,
    depth: usize,
) -> Result<(), TokenError> {
    if child.is_bearer() {
        // Only a policy grants a bearer token; a holder hands on a bound one.
        return Err(DelegationError::Bearer.into());
    }
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
pub(crate) fn check_inherited(
    parent: &Claims,
    child: &TokenRequest,
    depth: usize,
) -> Result<(), TokenError> {
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
