//! What capabilities allow, and how they compare.
//!
//! Three questions, one set of semantics (documented in `docs/FORMAT.md`):
//!
//! * **matching**: does a capability allow this action on this resource in
//!   this context? ([`authorize_caps`]);
//! * **containment**: does one capability allow everything another does?
//!   ([`cap_covers`]): a delegated child must be covered by its parent;
//! * **meet**: the largest grant both allow ([`meet`]): `min(parent,
//!   granted)` for delegation, requested ∩ allowed for policy.
//!
//! Patterns are literals, `*`, or a prefix followed by `*`; two such patterns
//! are either nested or disjoint, so the meet of two grants is exactly the
//! intersection of what they allow, never an approximation of it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::claims::{Capability, Constraints};
use crate::constraint;
pub use crate::constraint::Context;
pub use crate::error::ScopeError;
pub use crate::pattern::{
    domain_matches, pattern_covers, pattern_matches, valid_domain_pattern, valid_pattern,
};
use crate::pattern::{meet_patterns, patterns_cover};

// ---------------------------------------------------------------------------
// Validation

/// Check every pattern of a capability list; returns the first bad one.
///
/// # Errors
/// [`ScopeError::BadPattern`] with the path of the offending pattern.
pub fn validate_caps(caps: &[Capability]) -> Result<(), ScopeError> {
    match crate::claims::first_bad_pattern(caps) {
        Some((path, pattern)) => Err(ScopeError::BadPattern { path, pattern }),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// Authorization

/// A request to authorize: an action on a resource, in a context.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The action, e.g. `drive`.
    pub action: String,
    /// The resource, e.g. `robot:7`.
    pub resource: String,
    /// The facts constraints are checked against.
    pub context: Context,
}

impl Request {
    /// A request for `action` on `resource` in `context`.
    pub fn new(action: impl Into<String>, resource: impl Into<String>, context: Context) -> Self {
        Request {
            action: action.into(),
            resource: resource.into(),
            context,
        }
    }
}

/// An allowed request: which capability allowed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Allowed {
    /// Index into the token's `caps`.
    pub cap_index: usize,
}

fn check_constraints(i: usize, c: &Constraints, ctx: &Context) -> Result<(), ScopeError> {
    let path = |kind: &str| format!("caps[{i}].constraints.{kind}");
    if let Some(kind) = c.other.keys().next() {
        return Err(ScopeError::UnknownConstraint { path: path(kind) });
    }
    for kind in constraint::KINDS {
        kind.check(c, ctx, &path(kind.name()))?;
    }
    Ok(())
}

/// Authorize `request` against a list of capabilities: allowed when one
/// capability's actions, resources and every constraint allow it.
///
/// # Errors
/// When nothing allows it: the constraint failure of the first capability
/// that matched action and resource, else [`ScopeError::NotGranted`].
pub fn authorize_caps(caps: &[Capability], request: &Request) -> Result<Allowed, ScopeError> {
    let mut first_failure = None;
    for (i, cap) in caps.iter().enumerate() {
        let action_ok = cap
            .actions
            .iter()
            .any(|p| pattern_matches(p, &request.action));
        let resource_ok = cap
            .resources
            .iter()
            .any(|p| pattern_matches(p, &request.resource));
        if !(action_ok && resource_ok) {
            continue;
        }
        match check_constraints(i, &cap.constraints, &request.context) {
            Ok(()) => return Ok(Allowed { cap_index: i }),
            Err(e) => {
                first_failure.get_or_insert(e);
            }
        }
    }
    Err(first_failure.unwrap_or_else(|| ScopeError::NotGranted {
        action: request.action.clone(),
        resource: request.resource.clone(),
    }))
}

// ---------------------------------------------------------------------------
// Containment

/// Whether constraints `inner` are at least as strict as `outer`.
fn constraints_cover(outer: &Constraints, inner: &Constraints) -> bool {
    // A kind we cannot reason about is covered only by the same value.
    let unknown = outer
        .other
        .iter()
        .all(|(k, v)| inner.other.get(k) == Some(v));
    unknown && constraint::KINDS.iter().all(|k| k.covers(outer, inner))
}

/// Whether `outer` allows every request `inner` allows.
pub fn cap_covers(outer: &Capability, inner: &Capability) -> bool {
    patterns_cover(&outer.actions, &inner.actions, pattern_covers)
        && patterns_cover(&outer.resources, &inner.resources, pattern_covers)
        && constraints_cover(&outer.constraints, &inner.constraints)
}

/// The index of the first capability of `inner` that no single capability
/// of `outer` covers, if any. Coverage is per capability: a child capability
/// spanning two parent capabilities must be split into two.
pub fn first_uncovered(outer: &[Capability], inner: &[Capability]) -> Option<usize> {
    inner
        .iter()
        .position(|i| !outer.iter().any(|o| cap_covers(o, i)))
}

// ---------------------------------------------------------------------------
// Meet

/// The constraints both `a` and `b` impose.
///
/// # Errors
/// [`ScopeError::UnknownConstraint`] when both carry an unknown kind with
/// different values: its meet cannot be computed, so nothing is granted.
pub fn meet_constraints(a: &Constraints, b: &Constraints) -> Result<Constraints, ScopeError> {
    let mut other = a.other.clone();
    for (k, v) in &b.other {
        match other.get(k) {
            Some(existing) if existing != v => {
                return Err(ScopeError::UnknownConstraint {
                    path: format!("constraints.{k}"),
                });
            }
            _ => {
                other.insert(k.clone(), v.clone());
            }
        }
    }
    let mut out = Constraints {
        other,
        ..Constraints::default()
    };
    for kind in constraint::KINDS {
        kind.meet(a, b, &mut out);
    }
    Ok(out)
}

/// The largest capability both `a` and `b` allow, or `None` when they share
/// no action or no resource.
///
/// # Errors
/// As [`meet_constraints`].
pub fn meet_cap(a: &Capability, b: &Capability) -> Result<Option<Capability>, ScopeError> {
    let actions = meet_patterns(&a.actions, &b.actions, pattern_covers);
    let resources = meet_patterns(&a.resources, &b.resources, pattern_covers);
    if actions.is_empty() || resources.is_empty() {
        return Ok(None);
    }
    let constraints = meet_constraints(&a.constraints, &b.constraints)?;
    // An empty allow-list allows nothing: say so, rather than return a
    // capability that looks like a grant and can never be used.
    if constraint::KINDS
        .iter()
        .any(|k| k.allows_nothing(&constraints))
    {
        return Ok(None);
    }
    Ok(Some(Capability {
        actions,
        resources,
        constraints,
    }))
}

/// `min(a, b)`: exactly the requests both `a` and `b` allow, as a list of
/// capabilities (pairwise meets, with capabilities covered by another
/// removed). Commutative and idempotent up to that normalization.
///
/// # Errors
/// As [`meet_constraints`].
pub fn meet(a: &[Capability], b: &[Capability]) -> Result<Vec<Capability>, ScopeError> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            if let Some(m) = meet_cap(x, y)? {
                out.push(m);
            }
        }
    }
    Ok(normalize(out))
}

/// Remove capabilities another one covers (keeping the first of equals).
pub fn normalize(caps: Vec<Capability>) -> Vec<Capability> {
    let mut keep: Vec<Capability> = Vec::with_capacity(caps.len());
    for (i, c) in caps.iter().enumerate() {
        let redundant = caps
            .iter()
            .enumerate()
            .any(|(j, other)| j != i && cap_covers(other, c) && (!cap_covers(c, other) || j < i));
        if !redundant {
            keep.push(c.clone());
        }
    }
    keep
}
