//! Pattern syntax and semantics: action and resource patterns (`drive`,
//! `robot:*`), domain patterns (`*.example.com`), and how lists of them
//! cover and meet. Below claims, constraints and scope, which all use it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::ScopeError;

/// The largest domain name (RFC 1035 §2.3.4).
const MAX_DOMAIN_LEN: usize = 253;

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
// Lists of patterns

pub(crate) fn patterns_cover(
    outer: &[String],
    inner: &[String],
    covers: fn(&str, &str) -> bool,
) -> bool {
    inner.iter().all(|i| outer.iter().any(|o| covers(o, i)))
}

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
