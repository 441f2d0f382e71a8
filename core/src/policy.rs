//! Policy evaluation at issuance: what a requester may be granted.
//!
//! A [`Policy`] is an ordered list of allow and deny rules, loaded from a
//! strict JSON document (`docs/POLICY.md`). [`Policy::evaluate`] answers a
//! [`PolicyRequest`] with a [`Decision`]: the requested capabilities
//! narrowed to what the allow rules permit, each rule's required
//! constraints merged into what that rule grants, and the lifetime capped;
//! or a denial with a reason. Deny overrides allow, and nothing is granted
//! by default.
//!
//! All capability arithmetic is [`crate::scope`]'s: a grant is the meet of
//! the request and a rule, so the policy can never grant a pattern or a
//! constraint that `scope` would read more widely than the rule meant.
//!
//! Evaluation is bounded by a step budget, never by a clock: the same
//! request costs the same number of steps on every host, so a large policy
//! or a hostile request ends in `policy_budget_exceeded` instead of running
//! away, and whether it does is reproducible.
//!
//! ```
//! use captoken_core::policy::{DEFAULT_BUDGET, Decision, Policy, PolicyRequest};
//!
//! let policy = Policy::from_json(br#"{"version": 1, "rules": [
//!   {"id": "readers", "effect": "allow", "subjects": {"patterns": ["agent-*"]},
//!    "capabilities": [{"actions": ["read"], "resources": ["doc:*"]}],
//!    "required_constraints": {"pii_access": false}, "max_ttl": 60}]}"#)?;
//! let request = PolicyRequest::from_json(br#"{"subject": {"id": "agent-1"},
//!   "capabilities": [{"actions": ["read", "write"], "resources": ["doc:1"]}],
//!   "ttl": 300}"#)?;
//! let Decision::Granted { capabilities, ttl, narrowed, .. } =
//!     policy.evaluate(&request, DEFAULT_BUDGET)?
//! else {
//!     unreachable!()
//! };
//! assert_eq!(capabilities[0].actions, ["read"]);
//! assert_eq!(capabilities[0].constraints.pii_access, Some(false));
//! assert_eq!((ttl, narrowed), (60, true));
//! # Ok::<(), captoken_core::policy::PolicyError>(())
//! ```

use alloc::borrow::ToOwned;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::json::{Map, Value};

use crate::claims::{self, Capability, ClaimsError, Constraints, MAX_SAFE_INTEGER};
use crate::json::{self, JsonError};
use crate::scope::{self, ScopeError};

/// The policy document version this crate reads and writes.
pub const POLICY_VERSION: u64 = 1;

/// The lifetime cap, in seconds, when a policy sets no `max_ttl`: the
/// seed's five minutes.
pub const DEFAULT_MAX_TTL: u64 = 300;

/// Most rules a policy may hold.
pub const MAX_RULES: usize = 10_000;

/// A budget that evaluates a 1,000-rule policy in which every rule applies
/// and contributes a capability (about nine million steps, nearly all of
/// them normalizing the union of the grants), with room to spare. A step is
/// about one string comparison (`docs/POLICY.md`).
pub const DEFAULT_BUDGET: u64 = 16_000_000;

/// Nesting allowed in a policy or request document (a policy nests six
/// deep: `rules[].capabilities[].constraints.domains[]`).
const MAX_DEPTH: usize = 16;

// ---------------------------------------------------------------------------
// Errors

/// Why a policy or a policy request was refused, or evaluation stopped.
///
/// A denial is not an error: it is a [`Decision::Denied`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// A document is not a strict JSON object.
    Json {
        /// Which document: `policy` or `request`.
        document: &'static str,
        /// What is wrong with it.
        err: JsonError,
    },
    /// `version` is not a version this crate reads.
    UnsupportedVersion {
        /// The `version` member as JSON text.
        found: String,
    },
    /// A policy member is missing, unknown, of the wrong type or out of range.
    Invalid {
        /// Path of the member, e.g. `rules[3].max_ttl`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A subject, action, resource or domain pattern in the policy is malformed.
    BadPattern {
        /// Path of the pattern, e.g. `rules[3].capabilities[0].actions[1]`.
        path: String,
        /// The pattern.
        pattern: String,
    },
    /// A constraint kind this version does not understand: refused at load,
    /// so a rule never grants something no verifier can check.
    UnknownConstraint {
        /// Path of the constraint, e.g. `rules[0].required_constraints.max_speed`.
        path: String,
    },
    /// Two rules share an id, so a decision naming it would be ambiguous.
    DuplicateRuleId {
        /// Path of the second use, e.g. `rules[4].id`.
        path: String,
        /// The id.
        id: String,
    },
    /// More rules than [`MAX_RULES`].
    TooManyRules {
        /// How many the policy has.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The request to evaluate is malformed.
    BadRequest {
        /// Path of the member at fault, e.g. `capabilities[0].actions[1]`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Evaluation needed more steps than its budget allowed.
    BudgetExceeded {
        /// The budget.
        budget: u64,
    },
}

impl PolicyError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Json { err, .. } => err.code(),
            PolicyError::UnsupportedVersion { .. } => "unsupported_policy_version",
            PolicyError::Invalid { .. } => "bad_policy",
            PolicyError::BadPattern { .. } => "bad_pattern",
            PolicyError::UnknownConstraint { .. } => "unknown_constraint",
            PolicyError::DuplicateRuleId { .. } => "duplicate_rule_id",
            PolicyError::TooManyRules { .. } => "too_many_rules",
            PolicyError::BadRequest { .. } => "bad_request",
            PolicyError::BudgetExceeded { .. } => "policy_budget_exceeded",
        }
    }

    /// The JSON path of the member at fault, when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            PolicyError::Invalid { path, .. }
            | PolicyError::BadPattern { path, .. }
            | PolicyError::UnknownConstraint { path }
            | PolicyError::DuplicateRuleId { path, .. }
            | PolicyError::BadRequest { path, .. } => Some(path),
            PolicyError::UnsupportedVersion { .. } => Some("version"),
            PolicyError::TooManyRules { .. } => Some("rules"),
            PolicyError::Json { .. } | PolicyError::BudgetExceeded { .. } => None,
        }
    }

    /// The same fault, reported against a request rather than a policy:
    /// requests share the capability checks, but their faults are the
    /// caller's, so they carry one code.
    fn in_request(self) -> PolicyError {
        let reason = match &self {
            PolicyError::Invalid { reason, .. } | PolicyError::BadRequest { reason, .. } => {
                reason.clone()
            }
            PolicyError::BadPattern { pattern, .. } => {
                format!("`{pattern}` is not a valid pattern")
            }
            PolicyError::UnknownConstraint { .. } => {
                "is a constraint kind this version does not understand".into()
            }
            other => return other.clone(),
        };
        PolicyError::BadRequest {
            path: self.path().unwrap_or_default().to_owned(),
            reason,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Json { document, err } => write!(f, "{document}: {err}"),
            PolicyError::UnsupportedVersion { found } => {
                write!(f, "unsupported policy version `{found}`")
            }
            PolicyError::Invalid { path, reason } => write!(f, "policy `{path}`: {reason}"),
            PolicyError::BadPattern { path, pattern } => {
                write!(f, "policy `{path}`: `{pattern}` is not a valid pattern")
            }
            PolicyError::UnknownConstraint { path } => write!(
                f,
                "policy `{path}` is a constraint kind this version does not understand"
            ),
            PolicyError::DuplicateRuleId { path, id } => {
                write!(f, "policy `{path}`: rule id `{id}` is already used")
            }
            PolicyError::TooManyRules { count, limit } => {
                write!(
                    f,
                    "policy has {count} rules, more than the limit of {limit}"
                )
            }
            PolicyError::BadRequest { path, reason } => write!(f, "request `{path}`: {reason}"),
            PolicyError::BudgetExceeded { budget } => {
                write!(
                    f,
                    "policy evaluation needs more than its budget of {budget} steps"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PolicyError {}

// ---------------------------------------------------------------------------
// Paths

/// `path.key`, or `path["key"]` when the key would make a dotted path
/// ambiguous (it contains `.`, `[`, spaces…).
fn member(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match (plain, path.is_empty()) {
        (true, true) => key.to_owned(),
        (true, false) => format!("{path}.{key}"),
        (false, _) => format!("{path}[{}]", Value::String(key.to_owned())),
    }
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Re-root a path that `scope` or `claims` reported under `from` (they name
/// a token's `caps`) at `to`, where the capabilities sit in this document.
fn rebase(path: &str, from: &str, to: &str) -> String {
    match path.strip_prefix(from) {
        Some(rest) => format!("{to}{rest}"),
        None => to.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Decoding: the shape of the documents, with a path for every fault

/// A shape fault, before it is known whether it is a policy's or a request's.
struct Fault {
    path: String,
    reason: String,
}

impl Fault {
    fn policy(self) -> PolicyError {
        PolicyError::Invalid {
            path: self.path,
            reason: self.reason,
        }
    }
    fn request(self) -> PolicyError {
        PolicyError::BadRequest {
            path: self.path,
            reason: self.reason,
        }
    }
}

fn fault(path: impl Into<String>, reason: impl Into<String>) -> Fault {
    Fault {
        path: path.into(),
        reason: reason.into(),
    }
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map, Fault> {
    v.as_object()
        .ok_or_else(|| fault(path, "must be an object"))
}

/// Refuse members the format does not define: a misspelt `max_ttl` must not
/// leave a rule uncapped.
fn only(map: &Map, path: &str, known: &[&str]) -> Result<(), Fault> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(fault(member(path, k), "unknown member")),
        None => Ok(()),
    }
}

fn required<'a>(map: &'a Map, path: &str, key: &str) -> Result<&'a Value, Fault> {
    map.get(key)
        .ok_or_else(|| fault(member(path, key), "is required"))
}

fn string(v: &Value, path: &str) -> Result<String, Fault> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| fault(path, "must be a string"))
}

fn strings(v: &Value, path: &str) -> Result<Vec<String>, Fault> {
    let items = v
        .as_array()
        .ok_or_else(|| fault(path, "must be a list of strings"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, x)| string(x, &index(path, i)))
        .collect()
}

fn seconds(v: &Value, path: &str) -> Result<u64, Fault> {
    v.as_u64()
        .ok_or_else(|| fault(path, "must be an integer number of seconds"))
}

fn constraints(v: &Value, path: &str) -> Result<Constraints, Fault> {
    Constraints::from_json(v, path).map_err(claims_fault)
}

/// A claims-level error as a policy fault at the same path.
fn claims_fault(err: ClaimsError) -> Fault {
    match err {
        ClaimsError::Invalid { path, reason } => fault(path, reason),
        other => fault("", other.to_string()),
    }
}

/// Capabilities are read by the one reader the token schema uses
/// (`Capability::list_from_json`), so a policy and a token can never
/// disagree about what a capability is.
fn capabilities(v: &Value, path: &str) -> Result<Vec<Capability>, Fault> {
    Capability::list_from_json(v, path).map_err(claims_fault)
}

fn subjects(v: &Value, path: &str) -> Result<Subjects, Fault> {
    let map = object(v, path)?;
    only(map, path, &["ids", "patterns", "attributes"])?;
    // Present-but-empty is refused here, where it can still be told apart
    // from absent: `"ids": []` reads as a matcher but matches nobody.
    let list = |key: &str| -> Result<Vec<String>, Fault> {
        let Some(v) = map.get(key) else {
            return Ok(Vec::new());
        };
        let at = member(path, key);
        let items = strings(v, &at)?;
        if items.is_empty() {
            return Err(fault(at, "must be a non-empty list"));
        }
        Ok(items)
    };
    let mut attributes = BTreeMap::new();
    if let Some(a) = map.get("attributes") {
        let at = member(path, "attributes");
        let a = object(a, &at)?;
        if a.is_empty() {
            return Err(fault(at, "must name at least one attribute"));
        }
        for (name, values) in a {
            attributes.insert(name.clone(), strings(values, &member(&at, name))?);
        }
    }
    Ok(Subjects {
        ids: list("ids")?,
        patterns: list("patterns")?,
        attributes,
    })
}

fn rule(v: &Value, path: &str) -> Result<Rule, Fault> {
    let map = object(v, path)?;
    only(
        map,
        path,
        &[
            "id",
            "effect",
            "subjects",
            "capabilities",
            "required_constraints",
            "max_ttl",
        ],
    )?;
    let at = |key: &str| member(path, key);
    let effect = match required(map, path, "effect")?.as_str() {
        Some("allow") => Effect::Allow,
        Some("deny") => Effect::Deny,
        _ => return Err(fault(at("effect"), "must be `allow` or `deny`")),
    };
    Ok(Rule {
        id: string(required(map, path, "id")?, &at("id"))?,
        effect,
        subjects: subjects(required(map, path, "subjects")?, &at("subjects"))?,
        capabilities: capabilities(required(map, path, "capabilities")?, &at("capabilities"))?,
        required_constraints: match map.get("required_constraints") {
            Some(c) => constraints(c, &at("required_constraints"))?,
            None => Constraints::default(),
        },
        max_ttl: map
            .get("max_ttl")
            .map(|t| seconds(t, &at("max_ttl")))
            .transpose()?,
    })
}

// ---------------------------------------------------------------------------
// Validation: what the shape cannot say

fn check_ttl(ttl: u64, path: &str) -> Result<(), PolicyError> {
    if ttl == 0 || ttl > MAX_SAFE_INTEGER as u64 {
        return Err(PolicyError::Invalid {
            path: path.to_owned(),
            reason: "must be an integer number of seconds in 1..=2^53-1".into(),
        });
    }
    Ok(())
}

/// Check capabilities as a token would carry them: patterns by
/// `scope::validate_caps`, schema by the claims checks the issuer runs, and
/// no unknown constraint kinds. Both report paths under a token's `caps`
/// (or `from`); they are re-rooted at `to`.
fn check_caps(caps: &[Capability], from: &str, to: &str) -> Result<(), PolicyError> {
    let at = |p: &str| rebase(p, from, to);
    scope::validate_caps(caps).map_err(|e| match e {
        ScopeError::BadPattern { path, pattern } => PolicyError::BadPattern {
            path: at(&path),
            pattern,
        },
        other => PolicyError::Invalid {
            path: to.to_owned(),
            reason: other.to_string(),
        },
    })?;
    for (j, cap) in caps.iter().enumerate() {
        if let Some(kind) = cap.constraints.other.keys().next() {
            return Err(PolicyError::UnknownConstraint {
                path: at(&member(&format!("caps[{j}].constraints"), kind)),
            });
        }
    }
    claims::check_caps(caps).map_err(|e| match e {
        ClaimsError::Invalid { path, reason } => PolicyError::Invalid {
            path: at(&path),
            reason,
        },
        other => PolicyError::Invalid {
            path: to.to_owned(),
            reason: other.to_string(),
        },
    })
}

/// A constraint merge failed. Only unknown kinds can make it fail, and
/// those are refused at load and in requests, so this is defence in depth.
fn merge_error(err: &ScopeError, path: &str) -> PolicyError {
    PolicyError::UnknownConstraint {
        path: member(path, err.path().unwrap_or("constraints")),
    }
}

// ---------------------------------------------------------------------------
// The policy

/// Whether a rule grants or forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Grants the rule's capabilities (within the request) to its subjects.
    Allow,
    /// Refuses any request that overlaps the rule's capabilities.
    Deny,
}

impl Effect {
    /// `allow` or `deny`, as in the document.
    pub fn name(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }
}

/// Whom a rule applies to: a subject matches when any one matcher does.
/// Empty lists and maps are matchers that are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subjects {
    /// Subject ids, compared exactly.
    pub ids: Vec<String>,
    /// Subject id patterns, in the action/resource syntax of
    /// [`scope::pattern_matches`]: a literal, `*`, or a prefix and `*`.
    pub patterns: Vec<String>,
    /// Attributes the subject must all have, each with one of the listed
    /// values.
    pub attributes: BTreeMap<String, Vec<String>>,
}

impl Subjects {
    /// The matchers as JSON; empty ones are left out.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        if !self.ids.is_empty() {
            map.insert("ids".into(), self.ids.clone().into());
        }
        if !self.patterns.is_empty() {
            map.insert("patterns".into(), self.patterns.clone().into());
        }
        if !self.attributes.is_empty() {
            let attributes = self
                .attributes
                .iter()
                .map(|(name, values)| (name.clone(), values.clone().into()))
                .collect();
            map.insert("attributes".into(), Value::Object(attributes));
        }
        Value::Object(map)
    }

    fn check(&self, path: &str) -> Result<(), PolicyError> {
        let invalid = |path: String, reason: &str| PolicyError::Invalid {
            path,
            reason: reason.into(),
        };
        if self.ids.is_empty() && self.patterns.is_empty() && self.attributes.is_empty() {
            // A rule that applies to nobody is a mistake: say so at load.
            return Err(invalid(
                path.to_owned(),
                "must name at least one of `ids`, `patterns` or `attributes`",
            ));
        }
        let ids = member(path, "ids");
        if let Some(j) = self.ids.iter().position(String::is_empty) {
            return Err(invalid(index(&ids, j), "must be a non-empty string"));
        }
        let patterns = member(path, "patterns");
        if let Some((j, p)) = self
            .patterns
            .iter()
            .enumerate()
            .find(|(_, p)| !scope::valid_pattern(p))
        {
            return Err(PolicyError::BadPattern {
                path: index(&patterns, j),
                pattern: p.clone(),
            });
        }
        let attributes = member(path, "attributes");
        for (name, values) in &self.attributes {
            if name.is_empty() {
                return Err(invalid(attributes, "attribute names must be non-empty"));
            }
            if values.is_empty() {
                return Err(invalid(
                    member(&attributes, name),
                    "must list at least one value",
                ));
            }
        }
        Ok(())
    }

    /// Which matcher matched, as a path inside `subjects`.
    fn matches(&self, subject: &Subject, meter: &mut Meter) -> Result<Option<String>, PolicyError> {
        for (i, id) in self.ids.iter().enumerate() {
            meter.charge(1)?;
            if *id == subject.id {
                return Ok(Some(index("ids", i)));
            }
        }
        for (i, p) in self.patterns.iter().enumerate() {
            meter.charge(1)?;
            if scope::pattern_matches(p, &subject.id) {
                return Ok(Some(index("patterns", i)));
            }
        }
        if self.attributes.is_empty() {
            return Ok(None);
        }
        for (name, values) in &self.attributes {
            meter.charge(values.len() as u64)?;
            if !subject
                .attributes
                .get(name)
                .is_some_and(|v| values.contains(v))
            {
                return Ok(None);
            }
        }
        Ok(Some("attributes".into()))
    }
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Unique, non-empty; decisions and explanations name rules by it.
    pub id: String,
    /// Allow or deny.
    pub effect: Effect,
    /// Whom the rule applies to.
    pub subjects: Subjects,
    /// What it grants (allow) or forbids (deny). A deny rule's capabilities
    /// carry no constraints: it forbids actions on resources outright.
    pub capabilities: Vec<Capability>,
    /// Merged into every capability an allow rule grants: the grant is at
    /// least this strict whatever the request asked. Empty for deny rules.
    pub required_constraints: Constraints,
    /// Longest lifetime, in seconds, of a token this allow rule contributes
    /// to. `None` for deny rules.
    pub max_ttl: Option<u64>,
}

impl Rule {
    /// The rule as it is written in a policy document.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), self.id.as_str().into());
        map.insert("effect".into(), self.effect.name().into());
        map.insert("subjects".into(), self.subjects.to_json());
        map.insert(
            "capabilities".into(),
            Capability::list_to_json(&self.capabilities),
        );
        if !self.required_constraints.is_empty() {
            map.insert(
                "required_constraints".into(),
                Value::Object(self.required_constraints.to_json()),
            );
        }
        if let Some(ttl) = self.max_ttl {
            map.insert("max_ttl".into(), ttl.into());
        }
        Value::Object(map)
    }

    /// Check the rule; for an allow rule, return its capabilities with the
    /// required constraints merged in, which is what it grants at most.
    fn check(&self, path: &str) -> Result<Vec<Capability>, PolicyError> {
        let at = |key: &str| member(path, key);
        if self.id.is_empty() {
            return Err(PolicyError::Invalid {
                path: at("id"),
                reason: "must be a non-empty string".into(),
            });
        }
        self.subjects.check(&at("subjects"))?;
        let caps = at("capabilities");
        check_caps(&self.capabilities, "caps", &caps)?;
        let refuse = |path: String, reason: &str| {
            Err(PolicyError::Invalid {
                path,
                reason: reason.into(),
            })
        };
        match self.effect {
            Effect::Deny => {
                // What a constrained deny would mean ("deny buys over 10"?)
                // is not what `meet` computes; refuse rather than guess.
                if let Some(j) = self
                    .capabilities
                    .iter()
                    .position(|c| !c.constraints.is_empty())
                {
                    return refuse(
                        member(&index(&caps, j), "constraints"),
                        "a deny rule forbids actions on resources outright and cannot carry constraints",
                    );
                }
                if !self.required_constraints.is_empty() {
                    return refuse(
                        at("required_constraints"),
                        "a deny rule grants nothing to constrain",
                    );
                }
                if self.max_ttl.is_some() {
                    return refuse(at("max_ttl"), "a deny rule grants nothing to limit");
                }
                Ok(Vec::new())
            }
            Effect::Allow => {
                let required = at("required_constraints");
                let probe = Capability {
                    actions: alloc::vec!["*".into()],
                    resources: alloc::vec!["*".into()],
                    constraints: self.required_constraints.clone(),
                };
                check_caps(&[probe], "caps[0].constraints", &required)?;
                if let Some(ttl) = self.max_ttl {
                    check_ttl(ttl, &at("max_ttl"))?;
                }
                self.capabilities
                    .iter()
                    .enumerate()
                    .map(|(j, c)| {
                        let constraints =
                            scope::meet_constraints(&c.constraints, &self.required_constraints)
                                .map_err(|e| merge_error(&e, &index(&caps, j)))?;
                        Ok(Capability {
                            actions: c.actions.clone(),
                            resources: c.resources.clone(),
                            constraints,
                        })
                    })
                    .collect()
            }
        }
    }
}

/// A loaded, validated policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    max_ttl: u64,
    rules: Vec<Rule>,
    // INVARIANT: one entry per rule, in order: for an allow rule its
    // capabilities with `required_constraints` merged in, for a deny rule
    // nothing. Computed once at load so evaluation only meets.
    grants: Vec<Vec<Capability>>,
}

impl Policy {
    /// A policy from its parts, validated as [`Policy::from_json`] does.
    ///
    /// # Errors
    /// [`PolicyError`] naming the first rule member that is invalid.
    pub fn new(max_ttl: u64, rules: Vec<Rule>) -> Result<Self, PolicyError> {
        check_ttl(max_ttl, "max_ttl")?;
        if rules.len() > MAX_RULES {
            return Err(PolicyError::TooManyRules {
                count: rules.len(),
                limit: MAX_RULES,
            });
        }
        let mut ids = BTreeSet::new();
        let mut grants = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let path = index("rules", i);
            grants.push(rule.check(&path)?);
            if !ids.insert(rule.id.as_str()) {
                return Err(PolicyError::DuplicateRuleId {
                    path: member(&path, "id"),
                    id: rule.id.clone(),
                });
            }
        }
        Ok(Policy {
            max_ttl,
            rules,
            grants,
        })
    }

    /// Read a policy document (`docs/POLICY.md`): strict JSON (duplicate
    /// keys refused), unknown members refused everywhere.
    ///
    /// # Errors
    /// [`PolicyError`] with the JSON path of the first fault: JSON codes for
    /// malformed bytes, `unsupported_policy_version`, `bad_policy`,
    /// `bad_pattern`, `unknown_constraint`, `duplicate_rule_id`,
    /// `too_many_rules`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, PolicyError> {
        let map = json::parse_object(bytes, MAX_DEPTH).map_err(|err| PolicyError::Json {
            document: "policy",
            err,
        })?;
        Self::from_value(&Value::Object(map))
    }

    /// Read a policy document already parsed, e.g. a member of an
    /// operations-table request (which was parsed just as strictly).
    ///
    /// # Errors
    /// As [`Policy::from_json`].
    pub fn from_value(doc: &Value) -> Result<Self, PolicyError> {
        let map = doc.as_object().ok_or(PolicyError::Json {
            document: "policy",
            err: JsonError::NotObject,
        })?;
        // The version decides how everything else reads, so it goes first.
        match map.get("version") {
            Some(v) if v.as_u64() == Some(POLICY_VERSION) => {}
            Some(v) => {
                return Err(PolicyError::UnsupportedVersion {
                    found: v.to_string(),
                });
            }
            None => return Err(fault("version", "is required").policy()),
        }
        only(map, "", &["version", "max_ttl", "rules"]).map_err(Fault::policy)?;
        let max_ttl = match map.get("max_ttl") {
            Some(t) => seconds(t, "max_ttl").map_err(Fault::policy)?,
            None => DEFAULT_MAX_TTL,
        };
        let items = required(map, "", "rules")
            .and_then(|r| {
                r.as_array()
                    .ok_or_else(|| fault("rules", "must be a list of rules"))
            })
            .map_err(Fault::policy)?;
        // Before decoding any of them: the limit bounds the work of loading.
        if items.len() > MAX_RULES {
            return Err(PolicyError::TooManyRules {
                count: items.len(),
                limit: MAX_RULES,
            });
        }
        let rules = items
            .iter()
            .enumerate()
            .map(|(i, r)| rule(r, &index("rules", i)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Fault::policy)?;
        Self::new(max_ttl, rules)
    }

    /// The policy as a document [`Policy::from_json`] reads back to an equal
    /// policy. Keys come out sorted.
    pub fn to_json(&self) -> Map {
        let mut map = Map::new();
        map.insert("version".into(), POLICY_VERSION.into());
        map.insert("max_ttl".into(), self.max_ttl.into());
        map.insert(
            "rules".into(),
            self.rules.iter().map(Rule::to_json).collect(),
        );
        map
    }

    /// The longest lifetime, in seconds, of any grant.
    pub fn max_ttl(&self) -> u64 {
        self.max_ttl
    }

    /// The rules, in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Decide what `request` may be granted, in at most `budget` steps.
    ///
    /// Pure and deterministic. A denial is a [`Decision::Denied`], not an
    /// error.
    ///
    /// # Errors
    /// [`PolicyError::BadRequest`] when the request is malformed,
    /// [`PolicyError::BudgetExceeded`] when the evaluation needs more than
    /// `budget` steps (see `docs/POLICY.md` for what a step is).
    pub fn evaluate(&self, request: &PolicyRequest, budget: u64) -> Result<Decision, PolicyError> {
        self.run(request, budget, None)
            .map(|(decision, _)| decision)
    }

    /// [`Policy::evaluate`], with a rule-by-rule account of how the decision
    /// was reached. It is the same evaluation, so it reaches the same
    /// decision or the same error, in the same number of steps.
    ///
    /// # Errors
    /// As [`Policy::evaluate`].
    pub fn explain(
        &self,
        request: &PolicyRequest,
        budget: u64,
    ) -> Result<Explanation, PolicyError> {
        let mut rules = Vec::new();
        let (decision, steps) = self.run(request, budget, Some(&mut rules))?;
        Ok(Explanation {
            requested_ttl: request.ttl,
            policy_max_ttl: self.max_ttl,
            rules,
            steps,
            decision,
        })
    }

    /// The one evaluation behind `evaluate` and `explain`; tracing is free,
    /// so both spend the same steps.
    fn run(
        &self,
        request: &PolicyRequest,
        budget: u64,
        mut trace: Option<&mut Vec<RuleTrace>>,
    ) -> Result<(Decision, u64), PolicyError> {
        request.check()?;
        let asked = &request.capabilities;
        let mut meter = Meter { used: 0, budget };
        let mut granted = Vec::new();
        let mut matched_rules = Vec::new();
        let mut ttl = request.ttl.min(self.max_ttl);
        let mut any_allow_applies = false;
        for (rule, grants) in self.rules.iter().zip(&self.grants) {
            meter.charge(1)?;
            let Some(matched_by) = rule.subjects.matches(&request.subject, &mut meter)? else {
                record(&mut trace, rule, None, Vec::new(), false);
                continue;
            };
            match rule.effect {
                Effect::Deny => {
                    let overlap = first_overlap(&rule.capabilities, asked, &mut meter)?;
                    record(
                        &mut trace,
                        rule,
                        Some(matched_by),
                        Vec::new(),
                        overlap.is_some(),
                    );
                    if let Some(k) = overlap {
                        let what = asked.get(k).map(describe).unwrap_or_default();
                        let decision = Decision::Denied {
                            code: DenialCode::DeniedByRule,
                            rule: Some(rule.id.clone()),
                            reason: format!(
                                "deny rule `{}` forbids requested capability {k} ({what})",
                                rule.id
                            ),
                        };
                        return Ok((decision, meter.used));
                    }
                }
                Effect::Allow => {
                    any_allow_applies = true;
                    let part = meet(asked, grants, &mut meter)?;
                    let overlapped = !part.is_empty();
                    if overlapped {
                        // Every contributing rule caps the lifetime, even one
                        // whose grant another rule's subsumes: the stricter
                        // reading, and independent of rule order.
                        ttl = rule.max_ttl.map_or(ttl, |cap| ttl.min(cap));
                        matched_rules.push(rule.id.clone());
                    }
                    let traced = if trace.is_some() {
                        part.clone()
                    } else {
                        Vec::new()
                    };
                    record(&mut trace, rule, Some(matched_by), traced, overlapped);
                    granted.extend(part);
                }
            }
        }
        if granted.is_empty() {
            let subject = &request.subject.id;
            let reason = if any_allow_applies {
                format!("no allow rule for subject `{subject}` grants any requested capability")
            } else {
                format!("no allow rule applies to subject `{subject}`")
            };
            let decision = Decision::Denied {
                code: DenialCode::NoMatchingRule,
                rule: None,
                reason,
            };
            return Ok((decision, meter.used));
        }
        meter.charge(square(weight_of(&granted)))?;
        let capabilities = scope::normalize(granted);
        meter.charge(weight_of(&capabilities).saturating_mul(weight_of(asked)))?;
        let narrowed = scope::first_uncovered(&capabilities, asked).is_some();
        let decision = Decision::Granted {
            capabilities,
            ttl,
            matched_rules,
            narrowed,
        };
        Ok((decision, meter.used))
    }
}

/// Add a rule's part in an evaluation to the trace, when there is one.
fn record(
    trace: &mut Option<&mut Vec<RuleTrace>>,
    rule: &Rule,
    matched_by: Option<String>,
    contributed: Vec<Capability>,
    overlapped: bool,
) {
    if let Some(t) = trace.as_deref_mut() {
        t.push(RuleTrace {
            id: rule.id.clone(),
            effect: rule.effect,
            subject_matched: matched_by.is_some(),
            matched_by,
            overlapped,
            contributed,
            ttl_cap: rule.max_ttl.filter(|_| overlapped),
        });
    }
}

fn square(n: u64) -> u64 {
    n.saturating_mul(n)
}

/// The strings a capability holds, plus one for its scalar constraints.
///
/// Comparing two capabilities (`meet_cap`, `cap_covers`) compares strings
/// of the same list with each other, so it costs at most the square of
/// their summed weights; normalizing a list, at most the square of its
/// weight. Charging weights rather than one step per capability keeps a
/// step about one string comparison, so a budget bounds the work even when
/// a capability lists thousands of patterns.
fn weight(cap: &Capability) -> u64 {
    let c = &cap.constraints;
    let lists = [&c.domains, &c.rooms, &c.tools]
        .into_iter()
        .flatten()
        .map(Vec::len)
        .sum::<usize>();
    (1 + cap.actions.len() + cap.resources.len() + lists) as u64
}

fn weight_of(caps: &[Capability]) -> u64 {
    caps.iter().map(weight).fold(0, u64::saturating_add)
}

fn pair_cost(a: &Capability, b: &Capability) -> u64 {
    square(weight(a).saturating_add(weight(b)))
}

/// Counts evaluation steps against a budget.
struct Meter {
    used: u64,
    budget: u64,
}

impl Meter {
    /// Charge before doing the work, so a budget bounds the work done and
    /// not only the work reported.
    fn charge(&mut self, steps: u64) -> Result<(), PolicyError> {
        self.used = self.used.saturating_add(steps);
        if self.used > self.budget {
            return Err(PolicyError::BudgetExceeded {
                budget: self.budget,
            });
        }
        Ok(())
    }
}

/// `scope::meet`, metered pair by pair: it is exactly `meet_cap` over every
/// pair, then `normalize`.
fn meet(
    asked: &[Capability],
    allowed: &[Capability],
    meter: &mut Meter,
) -> Result<Vec<Capability>, PolicyError> {
    let mut out = Vec::new();
    for (k, a) in asked.iter().enumerate() {
        for b in allowed {
            meter.charge(pair_cost(a, b))?;
            if let Some(m) =
                scope::meet_cap(a, b).map_err(|e| merge_error(&e, &index("capabilities", k)))?
            {
                out.push(m);
            }
        }
    }
    meter.charge(square(weight_of(&out)))?;
    Ok(scope::normalize(out))
}

/// The first requested capability that shares an action and a resource
/// with a deny rule's capabilities.
fn first_overlap(
    denied: &[Capability],
    asked: &[Capability],
    meter: &mut Meter,
) -> Result<Option<usize>, PolicyError> {
    for (k, a) in asked.iter().enumerate() {
        for d in denied {
            meter.charge(pair_cost(d, a))?;
            let met =
                scope::meet_cap(d, a).map_err(|e| merge_error(&e, &index("capabilities", k)))?;
            if met.is_some() {
                return Ok(Some(k));
            }
        }
    }
    Ok(None)
}

fn describe(cap: &Capability) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("{} on {}", list(&cap.actions), list(&cap.resources))
}

// ---------------------------------------------------------------------------
// Requests and decisions

/// Who is asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The principal id; it becomes the token's `sub`.
    pub id: String,
    /// Facts about the subject that rules may match, e.g. `role: operator`.
    pub attributes: BTreeMap<String, String>,
}

/// What is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRequest {
    /// Who is asking.
    pub subject: Subject,
    /// The capabilities asked for (at least one).
    pub capabilities: Vec<Capability>,
    /// The lifetime asked for, in seconds (at least 1).
    pub ttl: u64,
}

impl PolicyRequest {
    /// Read a request document (`docs/POLICY.md`). An absent `ttl` asks for
    /// as long as the policy allows.
    ///
    /// # Errors
    /// JSON codes for malformed bytes, else [`PolicyError::BadRequest`]
    /// with the path of the first fault.
    pub fn from_json(bytes: &[u8]) -> Result<Self, PolicyError> {
        let map = json::parse_object(bytes, MAX_DEPTH).map_err(|err| PolicyError::Json {
            document: "request",
            err,
        })?;
        Self::from_value(&Value::Object(map))
    }

    /// Read a request document already parsed.
    ///
    /// # Errors
    /// As [`PolicyRequest::from_json`].
    pub fn from_value(doc: &Value) -> Result<Self, PolicyError> {
        Self::decode(doc).map_err(Fault::request)?.checked()
    }

    fn decode(doc: &Value) -> Result<Self, Fault> {
        let map = object(doc, "")?;
        only(map, "", &["subject", "capabilities", "ttl"])?;
        let subject = required(map, "", "subject")?;
        let sub = object(subject, "subject")?;
        only(sub, "subject", &["id", "attributes"])?;
        let mut attributes = BTreeMap::new();
        if let Some(a) = sub.get("attributes") {
            for (name, value) in object(a, "subject.attributes")? {
                let at = member("subject.attributes", name);
                attributes.insert(name.clone(), string(value, &at)?);
            }
        }
        Ok(PolicyRequest {
            subject: Subject {
                id: string(required(sub, "subject", "id")?, "subject.id")?,
                attributes,
            },
            capabilities: capabilities(required(map, "", "capabilities")?, "capabilities")?,
            ttl: match map.get("ttl") {
                Some(t) => seconds(t, "ttl")?,
                // As long as the policy allows; the largest lifetime JSON
                // carries exactly to every host.
                None => MAX_SAFE_INTEGER as u64,
            },
        })
    }

    fn checked(self) -> Result<Self, PolicyError> {
        self.check()?;
        Ok(self)
    }

    fn check(&self) -> Result<(), PolicyError> {
        let bad = |path: &str, reason: &str| PolicyError::BadRequest {
            path: path.into(),
            reason: reason.into(),
        };
        if self.subject.id.is_empty() {
            return Err(bad("subject.id", "must be a non-empty string"));
        }
        if self.ttl == 0 {
            return Err(bad("ttl", "must be at least 1 second"));
        }
        check_caps(&self.capabilities, "caps", "capabilities").map_err(PolicyError::in_request)
    }
}

/// Why a request was denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialCode {
    /// A deny rule for this subject overlaps the request.
    DeniedByRule,
    /// No allow rule grants this subject any requested capability.
    NoMatchingRule,
}

impl DenialCode {
    /// The stable machine code: `denied_by_rule` or `no_matching_rule`.
    pub fn code(&self) -> &'static str {
        match self {
            DenialCode::DeniedByRule => "denied_by_rule",
            DenialCode::NoMatchingRule => "no_matching_rule",
        }
    }
}

/// What a request may be granted.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Something may be granted.
    Granted {
        /// The request met with the allow rules that apply (each with its
        /// required constraints merged), normalized. Every capability is
        /// covered by the request and by one allow rule.
        capabilities: Vec<Capability>,
        /// `min(requested ttl, policy max_ttl, each contributing rule's
        /// max_ttl)`, in seconds.
        ttl: u64,
        /// Ids of the allow rules that contributed, in policy order.
        matched_rules: Vec<String>,
        /// Whether some requested capability is not covered by a granted
        /// one: less was granted than asked (a narrower pattern, a stricter
        /// constraint, or a capability missing). The lifetime is not part
        /// of it; compare `ttl` with the request's.
        narrowed: bool,
    },
    /// Nothing may be granted.
    Denied {
        /// Why.
        code: DenialCode,
        /// The deny rule that refused, for `denied_by_rule`.
        rule: Option<String>,
        /// A sentence for humans.
        reason: String,
    },
}

impl Decision {
    /// Whether anything is granted.
    pub fn is_granted(&self) -> bool {
        matches!(self, Decision::Granted { .. })
    }

    /// The decision as JSON (`docs/POLICY.md`).
    pub fn to_json(&self) -> Map {
        let mut map = Map::new();
        match self {
            Decision::Granted {
                capabilities,
                ttl,
                matched_rules,
                narrowed,
            } => {
                map.insert("decision".into(), "granted".into());
                map.insert(
                    "capabilities".into(),
                    Capability::list_to_json(capabilities),
                );
                map.insert("ttl".into(), (*ttl).into());
                map.insert("matched_rules".into(), matched_rules.clone().into());
                map.insert("narrowed".into(), (*narrowed).into());
            }
            Decision::Denied { code, rule, reason } => {
                map.insert("decision".into(), "denied".into());
                map.insert("code".into(), code.code().into());
                map.insert("rule".into(), rule.clone().into());
                map.insert("reason".into(), reason.as_str().into());
            }
        }
        map
    }
}

/// How one rule took part in an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleTrace {
    /// The rule's id.
    pub id: String,
    /// The rule's effect.
    pub effect: Effect,
    /// Whether the rule applies to the subject.
    pub subject_matched: bool,
    /// The matcher that matched, inside `subjects`: `ids[0]`,
    /// `patterns[1]` or `attributes`.
    pub matched_by: Option<String>,
    /// Whether the rule's capabilities overlap the request: for a deny rule
    /// this is the denial, for an allow rule a contribution.
    pub overlapped: bool,
    /// What an allow rule contributed: the request met with its
    /// capabilities, required constraints merged. Empty otherwise.
    pub contributed: Vec<Capability>,
    /// The lifetime cap the rule imposed, when it contributed and has one.
    pub ttl_cap: Option<u64>,
}

impl RuleTrace {
    /// The trace as JSON (`docs/POLICY.md`).
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), self.id.as_str().into());
        map.insert("effect".into(), self.effect.name().into());
        map.insert("subject_matched".into(), self.subject_matched.into());
        map.insert("matched_by".into(), self.matched_by.clone().into());
        map.insert("overlapped".into(), self.overlapped.into());
        map.insert(
            "contributed".into(),
            Capability::list_to_json(&self.contributed),
        );
        map.insert("ttl_cap".into(), self.ttl_cap.into());
        Value::Object(map)
    }
}

/// An evaluation, rule by rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The lifetime the request asked for.
    pub requested_ttl: u64,
    /// The policy's global lifetime cap.
    pub policy_max_ttl: u64,
    /// Every rule visited, in order. Evaluation stops at the first deny
    /// rule that overlaps the request, so later rules are absent then.
    pub rules: Vec<RuleTrace>,
    /// Steps spent, as charged against the budget.
    pub steps: u64,
    /// The decision, equal to what [`Policy::evaluate`] returns.
    pub decision: Decision,
}

impl Explanation {
    /// The explanation as JSON (`docs/POLICY.md`).
    pub fn to_json(&self) -> Map {
        let mut map = Map::new();
        map.insert("requested_ttl".into(), self.requested_ttl.into());
        map.insert("policy_max_ttl".into(), self.policy_max_ttl.into());
        map.insert(
            "rules".into(),
            self.rules.iter().map(RuleTrace::to_json).collect(),
        );
        map.insert("steps".into(), self.steps.into());
        map.insert("decision".into(), Value::Object(self.decision.to_json()));
        map
    }
}
