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

use crate::codes::ErrorCode;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::json::Value;

use crate::claims::{Capability, Constraints};
use crate::constraint::{self, Fault};

/// The largest domain name (RFC 1035 §2.3.4).
const MAX_DOMAIN_LEN: usize = 253;

/// Why a request was not authorized, or a scope could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeError {
    /// No capability allows this action on this resource.
    NotGranted {
        /// The requested action.
        action: String,
        /// The requested resource.
        resource: String,
    },
    /// A capability allows the action and resource, but a constraint refuses.
    ConstraintViolated {
        /// Path of the constraint, e.g. `caps[0].constraints.max_purchase`.
        path: String,
        /// What the request did that the constraint forbids.
        reason: String,
    },
    /// A constraint applies but the request context lacks the value it needs.
    MissingContext {
        /// Path of the constraint.
        path: String,
        /// The context member that is needed.
        member: &'static str,
    },
    /// A constraint kind this version does not understand: fail closed.
    UnknownConstraint {
        /// Path of the constraint.
        path: String,
    },
    /// The request context is malformed.
    BadContext(String),
    /// A pattern is malformed.
    BadPattern {
        /// Where it is.
        path: String,
        /// The pattern.
        pattern: String,
    },
}

impl ScopeError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ScopeError::NotGranted { .. } => ErrorCode::NotGranted,
            ScopeError::ConstraintViolated { .. } => ErrorCode::ConstraintViolated,
            ScopeError::MissingContext { .. } => ErrorCode::MissingContext,
            ScopeError::UnknownConstraint { .. } => ErrorCode::UnknownConstraint,
            ScopeError::BadContext(_) => ErrorCode::BadContext,
            ScopeError::BadPattern { .. } => ErrorCode::BadPattern,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The path of the capability or constraint at fault, when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            ScopeError::ConstraintViolated { path, .. }
            | ScopeError::MissingContext { path, .. }
            | ScopeError::UnknownConstraint { path }
            | ScopeError::BadPattern { path, .. } => Some(path),
            _ => None,
        }
    }
}

impl fmt::Display for ScopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeError::NotGranted { action, resource } => {
                write!(f, "no capability allows `{action}` on `{resource}`")
            }
            ScopeError::ConstraintViolated { path, reason } => write!(f, "`{path}`: {reason}"),
            ScopeError::MissingContext { path, member } => {
                write!(
                    f,
                    "`{path}` applies but the request context has no `{member}`"
                )
            }
            ScopeError::UnknownConstraint { path } => {
                write!(
                    f,
                    "`{path}` is a constraint kind this verifier does not understand"
                )
            }
            ScopeError::BadContext(why) => write!(f, "bad request context: {why}"),
            ScopeError::BadPattern { path, pattern } => {
                write!(f, "`{path}`: `{pattern}` is not a valid pattern")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ScopeError {}

// ---------------------------------------------------------------------------
// Action and resource patterns

/// Whether an action or resource pattern is well-formed: non-empty, and `*`
/// only as its last character.
pub fn valid_pattern(p: &str) -> bool {
    match p.find('*') {
        None => !p.is_empty(),
        Some(i) => i + 1 == p.len(),
    }
}

/// Whether `pattern` allows the literal `value`.
pub fn pattern_matches(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

/// Whether every value `inner` allows, `outer` allows too.
pub fn pattern_covers(outer: &str, inner: &str) -> bool {
    match (outer.strip_suffix('*'), inner.strip_suffix('*')) {
        (Some(o), Some(i)) => i.starts_with(o),
        (Some(o), None) => inner.starts_with(o),
        (None, Some(_)) => false,
        (None, None) => outer == inner,
    }
}

// ---------------------------------------------------------------------------
// Domains

/// Normalize a domain name: ASCII-lowercase, one trailing dot removed.
/// Labels must be 1..=63 bytes of letters, digits, `-` and `_`;
/// internationalized names must be given in their `xn--` form.
fn normalize_domain(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > MAX_DOMAIN_LEN {
        return None;
    }
    let ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    ok.then(|| name.to_ascii_lowercase())
}

/// A parsed domain pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DomainPattern {
    /// `*`: any domain.
    Any,
    /// `example.com`: that name only.
    Exact(String),
    /// `*.example.com`: names strictly below `example.com`, at any depth.
    Below(String),
}

impl DomainPattern {
    fn parse(p: &str) -> Option<Self> {
        if p == "*" {
            return Some(DomainPattern::Any);
        }
        match p.strip_prefix("*.") {
            Some(rest) => normalize_domain(rest).map(DomainPattern::Below),
            None => normalize_domain(p).map(DomainPattern::Exact),
        }
    }

    fn matches(&self, domain: &str) -> bool {
        match self {
            DomainPattern::Any => true,
            DomainPattern::Exact(d) => d == domain,
            DomainPattern::Below(suffix) => is_strictly_below(domain, suffix),
        }
    }

    fn covers(&self, inner: &DomainPattern) -> bool {
        match (self, inner) {
            (DomainPattern::Any, _) => true,
            (_, DomainPattern::Any) => false,
            (DomainPattern::Exact(a), DomainPattern::Exact(b)) => a == b,
            (DomainPattern::Exact(_), DomainPattern::Below(_)) => false,
            (DomainPattern::Below(s), DomainPattern::Exact(d)) => is_strictly_below(d, s),
            (DomainPattern::Below(s), DomainPattern::Below(t)) => t == s || is_strictly_below(t, s),
        }
    }
}

/// `a.example.com` is strictly below `example.com`; `example.com`,
/// `evilexample.com` and `example.com.evil` are not.
fn is_strictly_below(name: &str, suffix: &str) -> bool {
    name.len() > suffix.len() + 1
        && name.ends_with(suffix)
        && name.as_bytes().get(name.len() - suffix.len() - 1) == Some(&b'.')
}

/// Whether a domain pattern is well-formed.
pub fn valid_domain_pattern(p: &str) -> bool {
    DomainPattern::parse(p).is_some()
}

/// Whether domain pattern `pattern` allows the domain name `domain`
/// (compared case-insensitively, a trailing dot ignored).
pub fn domain_matches(pattern: &str, domain: &str) -> bool {
    match (DomainPattern::parse(pattern), normalize_domain(domain)) {
        (Some(p), Some(d)) => p.matches(&d),
        _ => false,
    }
}

/// Whether domain `domain` matches one of `patterns`.
///
/// # Errors
/// [`ScopeError::BadContext`] when `domain` is not a domain name.
pub(crate) fn domain_allowed(patterns: &[String], domain: &str) -> Result<bool, ScopeError> {
    let normalized = normalize_domain(domain)
        .ok_or_else(|| ScopeError::BadContext(format!("`{domain}` is not a domain name")))?;
    Ok(patterns
        .iter()
        .filter_map(|p| DomainPattern::parse(p))
        .any(|p| p.matches(&normalized)))
}

pub(crate) fn domain_covers(outer: &str, inner: &str) -> bool {
    match (DomainPattern::parse(outer), DomainPattern::parse(inner)) {
        (Some(o), Some(i)) => o.covers(&i),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Validation

/// Check every pattern of a capability list; returns the first bad one.
///
/// # Errors
/// [`ScopeError::BadPattern`] with the path of the offending pattern.
pub fn validate_caps(caps: &[Capability]) -> Result<(), ScopeError> {
    for (i, cap) in caps.iter().enumerate() {
        for (field, list) in [("actions", &cap.actions), ("resources", &cap.resources)] {
            if let Some((j, p)) = list.iter().enumerate().find(|(_, p)| !valid_pattern(p)) {
                return Err(ScopeError::BadPattern {
                    path: format!("caps[{i}].{field}[{j}]"),
                    pattern: p.clone(),
                });
            }
        }
        for kind in constraint::KINDS {
            if let Some(Fault::Pattern { at, pattern }) = kind.fault(&cap.constraints) {
                return Err(ScopeError::BadPattern {
                    path: format!("caps[{i}].constraints.{}{at}", kind.name()),
                    pattern,
                });
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Authorization

/// What a request does, beyond its action and resource: the facts the
/// constraints are checked against. Unknown members are refused, so a typo
/// (`purchse_amount`) can never slip past a limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Context {
    /// The domain the action targets (checked against `domains`).
    pub domain: Option<String>,
    /// Amount the action spends, in minor units; absent means nothing is
    /// spent (checked against `max_purchase`).
    pub purchase_amount: Option<u64>,
    /// Whether personal data is touched; absent means not (checked against
    /// `pii_access`).
    pub pii: Option<bool>,
    /// The room the action happens in (checked against `rooms`).
    pub room: Option<String>,
    /// The tool the action uses (checked against `tools`).
    pub tool: Option<String>,
}

impl Context {
    /// Read a context from JSON.
    ///
    /// # Errors
    /// [`ScopeError::BadContext`] for unknown members or wrong types.
    pub fn from_json(value: Value) -> Result<Self, ScopeError> {
        let Value::Object(map) = value else {
            return Err(ScopeError::BadContext(
                "the context must be an object".into(),
            ));
        };
        let mut ctx = Context::default();
        for (member, v) in map {
            // Refused rather than read as absent: JSON.stringify turns NaN
            // into null, and `purchase_amount: NaN` must not mean "free".
            if v.is_null() {
                return Err(ScopeError::BadContext(format!(
                    "`{member}` must not be null"
                )));
            }
            let bad = |what: &str| ScopeError::BadContext(format!("`{member}` must be {what}"));
            match member.as_str() {
                "domain" => ctx.domain = Some(v.as_str().ok_or_else(|| bad("a string"))?.into()),
                "room" => ctx.room = Some(v.as_str().ok_or_else(|| bad("a string"))?.into()),
                "tool" => ctx.tool = Some(v.as_str().ok_or_else(|| bad("a string"))?.into()),
                "pii" => ctx.pii = Some(v.as_bool().ok_or_else(|| bad("a boolean"))?),
                "purchase_amount" => {
                    ctx.purchase_amount =
                        Some(v.as_u64().ok_or_else(|| bad("a non-negative integer"))?);
                }
                _ => return Err(ScopeError::BadContext(format!("unknown member `{member}`"))),
            }
        }
        Ok(ctx)
    }
}

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

pub(crate) fn patterns_cover(
    outer: &[String],
    inner: &[String],
    covers: fn(&str, &str) -> bool,
) -> bool {
    inner.iter().all(|i| outer.iter().any(|o| covers(o, i)))
}

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

pub(crate) fn meet_patterns(
    a: &[String],
    b: &[String],
    covers: fn(&str, &str) -> bool,
) -> Vec<String> {
    let mut out: Vec<String> = a
        .iter()
        .filter(|x| b.iter().any(|y| covers(y, x)))
        .chain(b.iter().filter(|y| a.iter().any(|x| covers(x, y))))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    // Drop entries another entry already covers, so the result is minimal.
    // Two spellings of one pattern (`Example.com`, `example.com.`) cover
    // each other: keep the first of them rather than drop both.
    let redundant = |i: usize, x: &String| {
        out.iter()
            .enumerate()
            .any(|(j, y)| j != i && covers(y, x) && (!covers(x, y) || j < i))
    };
    out.iter()
        .enumerate()
        .filter(|(i, x)| !redundant(*i, x))
        .map(|(_, x)| x.clone())
        .collect()
}

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
