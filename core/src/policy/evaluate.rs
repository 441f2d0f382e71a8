//! The policy: rules visited in order, a grant built under a step budget.

use super::*;

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
    /// The rule's `bearer.max_ttl`: when set, the rule also grants bearer
    /// tokens (no `cnf`), living at most this many seconds (at most
    /// [`MAX_BEARER_TTL`]). `None`: every token it grants binds a holder
    /// key. Always `None` for deny rules.
    pub bearer_max_ttl: Option<u64>,
}

pub use crate::claims::MAX_BEARER_TTL;

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
        if let Some(ttl) = self.bearer_max_ttl {
            let mut bearer = Map::new();
            bearer.insert("max_ttl".into(), ttl.into());
            map.insert("bearer".into(), Value::Object(bearer));
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
                if self.bearer_max_ttl.is_some() {
                    return refuse(at("bearer"), "a deny rule grants nothing to limit");
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
                if self
                    .bearer_max_ttl
                    .is_some_and(|ttl| !(1..=MAX_BEARER_TTL).contains(&ttl))
                {
                    return refuse(member(&at("bearer"), "max_ttl"), crate::claims::BEARER_TTL);
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
        // An allow rule would have granted some of it, but not as a bearer token.
        let mut bearer_refused = false;
        for (rule, grants) in self.rules.iter().zip(&self.grants) {
            meter.charge(1)?;
            let Some(matched_by) = rule.subjects.matches(&request.subject, &mut meter)? else {
                record(&mut trace, rule, None, Vec::new(), (false, None, false));
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
                        (overlap.is_some(), None, false),
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
                    // A bearer token only from rules that allow one; the
                    // meet is paid either way, so a budget means the same.
                    let refused = request.bearer && rule.bearer_max_ttl.is_none();
                    bearer_refused |= refused && !part.is_empty();
                    let overlapped = !part.is_empty() && !refused;
                    let cap = rule_cap(rule, request.bearer);
                    if overlapped {
                        // Every contributing rule caps the lifetime, even one
                        // whose grant another rule's subsumes: the stricter
                        // reading, and independent of rule order.
                        ttl = cap.map_or(ttl, |cap| ttl.min(cap));
                        matched_rules.push(rule.id.clone());
                    }
                    let traced = if trace.is_some() && overlapped {
                        part.clone()
                    } else {
                        Vec::new()
                    };
                    record(
                        &mut trace,
                        rule,
                        Some(matched_by),
                        traced,
                        (overlapped, cap, refused),
                    );
                    if overlapped {
                        granted.extend(part);
                    }
                }
            }
        }
        if granted.is_empty() && bearer_refused {
            let decision = Decision::Denied {
                code: DenialCode::BearerNotAllowed,
                rule: None,
                reason: format!(
                    "no rule granting `{}` this allows bearer tokens",
                    request.subject.id
                ),
            };
            return Ok((decision, meter.used));
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

/// The lifetime cap an allow rule sets on what it contributes: its
/// `max_ttl`, and for a bearer token its `bearer.max_ttl` as well.
fn rule_cap(rule: &Rule, bearer: bool) -> Option<u64> {
    match (rule.max_ttl, rule.bearer_max_ttl.filter(|_| bearer)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Add a rule's part in an evaluation to the trace, when there is one:
/// whether it overlapped, the lifetime cap it sets on what it contributes
/// and whether it refused a bearer token.
pub(super) fn record(
    trace: &mut Option<&mut Vec<RuleTrace>>,
    rule: &Rule,
    matched_by: Option<String>,
    contributed: Vec<Capability>,
    (overlapped, cap, bearer_refused): (bool, Option<u64>, bool),
) {
    if let Some(t) = trace.as_deref_mut() {
        t.push(RuleTrace {
            id: rule.id.clone(),
            effect: rule.effect,
            subject_matched: matched_by.is_some(),
            matched_by,
            overlapped,
            contributed,
            ttl_cap: cap.filter(|_| overlapped),
            bearer_refused,
        });
    }
}

pub(super) fn square(n: u64) -> u64 {
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
pub(super) fn weight(cap: &Capability) -> u64 {
    let lists = crate::constraint::KINDS
        .iter()
        .map(|kind| kind.weight(&cap.constraints))
        .sum::<usize>();
    (1 + cap.actions.len() + cap.resources.len() + lists) as u64
}

pub(super) fn weight_of(caps: &[Capability]) -> u64 {
    caps.iter().map(weight).fold(0, u64::saturating_add)
}

pub(super) fn pair_cost(a: &Capability, b: &Capability) -> u64 {
    square(weight(a).saturating_add(weight(b)))
}

/// Counts evaluation steps against a budget.
pub(super) struct Meter {
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
pub(super) fn meet(
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
pub(super) fn first_overlap(
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

pub(super) fn describe(cap: &Capability) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("{} on {}", list(&cap.actions), list(&cap.resources))
}
