//! Requests and decisions.

use super::*;
use crate::codes::ErrorCode;

// ---------------------------------------------------------------------------
// Requests and decisions

/// Who is asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Subject {
    /// The principal id; it becomes the token's `sub`.
    pub id: String,
    /// Facts about the subject that rules may match, e.g. `role: operator`.
    pub attributes: BTreeMap<String, String>,
}

/// What is asked for.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PolicyRequest {
    /// Who is asking.
    pub subject: Subject,
    /// The capabilities asked for (at least one).
    pub capabilities: Vec<Capability>,
    /// The lifetime asked for, in seconds (at least 1).
    pub ttl: u64,
    /// A bearer token (no holder key) is asked for: only allow rules with
    /// a `bearer` member grant it, and their `bearer.max_ttl` caps it.
    pub bearer: bool,
}

impl Subject {
    /// The principal `id` with the `attributes` rules may match.
    pub fn new(id: impl Into<String>, attributes: BTreeMap<String, String>) -> Self {
        Subject {
            id: id.into(),
            attributes,
        }
    }
}

impl PolicyRequest {
    /// `subject` asking for `capabilities` for `ttl` seconds. Unchecked:
    /// [`PolicyRequest::from_value`] reads a document with its bounds.
    pub fn new(subject: Subject, capabilities: Vec<Capability>, ttl: u64) -> Self {
        PolicyRequest {
            subject,
            capabilities,
            ttl,
            bearer: false,
        }
    }

    /// The same request, for a bearer token.
    #[must_use]
    pub fn bearer(mut self) -> Self {
        self.bearer = true;
        self
    }

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
        only(map, "", &["subject", "capabilities", "ttl", "bearer"])?;
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
            bearer: match map.get("bearer") {
                None => false,
                Some(b) => b
                    .as_bool()
                    .ok_or_else(|| fault("bearer", "must be a boolean"))?,
            },
        })
    }

    fn checked(self) -> Result<Self, PolicyError> {
        self.check()?;
        Ok(self)
    }

    pub(super) fn check(&self) -> Result<(), PolicyError> {
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
#[non_exhaustive]
pub enum DenialCode {
    /// A deny rule for this subject overlaps the request.
    DeniedByRule,
    /// No allow rule grants this subject any requested capability.
    NoMatchingRule,
    /// A bearer token was asked for and the rules that would grant it
    /// bind every token to a holder key.
    BearerNotAllowed,
}

impl DenialCode {
    /// The stable machine code: `denied_by_rule`, `no_matching_rule` or
    /// `bearer_not_allowed`.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            DenialCode::DeniedByRule => ErrorCode::DeniedByRule,
            DenialCode::NoMatchingRule => ErrorCode::NoMatchingRule,
            DenialCode::BearerNotAllowed => ErrorCode::BearerNotAllowed,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
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
#[non_exhaustive]
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
    /// Whether the rule applied to a request for a bearer token but allows
    /// none (it has no `bearer` member), so it contributed nothing.
    pub bearer_refused: bool,
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
        if self.bearer_refused {
            map.insert("bearer_refused".into(), true.into());
        }
        Value::Object(map)
    }
}

/// An evaluation, rule by rule.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
