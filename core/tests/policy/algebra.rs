//! The algebra, over random small policies and a small universe of requests,
//! checked against `scope` semantics.

use captoken_core::policy::{
    DEFAULT_BUDGET, Decision, DenialCode, Effect, Policy, PolicyRequest, Rule, Subject, Subjects,
};
use captoken_core::scope;
use captoken_core::{Capability, Constraints};
use proptest::prelude::*;
use std::collections::BTreeMap;

use super::common::*;
use super::support::*;

fn pick<T: Clone + std::fmt::Debug + 'static>(
    items: &'static [T],
) -> impl Strategy<Value = Vec<T>> {
    prop::sample::subsequence(items.to_vec(), 1..=items.len().min(3))
}

fn strings(v: Vec<&str>) -> Vec<String> {
    v.into_iter().map(String::from).collect()
}

fn cap_strategy() -> impl Strategy<Value = Capability> {
    (
        pick(&["drive", "stop", "read", "*", "dr*"]),
        pick(&["robot:1", "robot:2", "robot:*", "*", "cam:1"]),
        proptest::option::of(pick(&["*.a.com", "a.com", "b.a.com", "*"])),
        proptest::option::of(prop::sample::select(vec![0u64, 10, 100])),
        proptest::option::of(any::<bool>()),
        proptest::option::of(prop::sample::subsequence(vec!["lab", "hall"], 0..=2)),
    )
        .prop_map(|(a, r, d, m, p, rooms)| {
            let mut constraints = Constraints::default();
            constraints.domains = d.map(strings);
            constraints.max_purchase = m;
            constraints.pii_access = p;
            constraints.rooms = rooms.map(strings);
            Capability::new(strings(a), strings(r), constraints)
        })
}

fn deny_cap_strategy() -> impl Strategy<Value = Capability> {
    (
        pick(&["drive", "stop", "read", "*", "st*"]),
        pick(&["robot:1", "robot:*", "cam:*", "*"]),
    )
        .prop_map(|(a, r)| Capability::new(strings(a), strings(r), Constraints::default()))
}

fn required_strategy() -> impl Strategy<Value = Constraints> {
    (
        proptest::option::of(pick(&["*.a.com", "b.a.com"])),
        proptest::option::of(prop::sample::select(vec![0u64, 10])),
        proptest::option::of(Just(false)),
        proptest::option::of(prop::sample::subsequence(vec!["lab", "hall"], 1..=2)),
    )
        .prop_map(|(d, m, p, rooms)| {
            let mut constraints = Constraints::default();
            constraints.domains = d.map(strings);
            constraints.max_purchase = m;
            constraints.pii_access = p;
            constraints.rooms = rooms.map(strings);
            constraints
        })
}

fn subjects_strategy() -> impl Strategy<Value = Subjects> {
    (
        prop::sample::subsequence(vec!["a", "b"], 0..=2),
        prop::sample::subsequence(vec!["a*", "agent:*", "*"], 0..=1),
        proptest::option::of(prop::sample::subsequence(vec!["op", "agent"], 1..=2)),
        proptest::option::of(Just(vec!["lab"])),
    )
        .prop_map(|(ids, patterns, role, site)| {
            let mut attributes = BTreeMap::new();
            if let Some(role) = role {
                attributes.insert("role".to_string(), strings(role));
            }
            if let Some(site) = site {
                attributes.insert("site".to_string(), strings(site));
            }
            let mut s = Subjects {
                ids: strings(ids),
                patterns: strings(patterns),
                attributes,
            };
            if s.ids.is_empty() && s.patterns.is_empty() && s.attributes.is_empty() {
                s.ids.push("a".into());
            }
            s
        })
}

/// A rule's parts: deny?, subjects, allow and deny capabilities, required
/// constraints, max_ttl, bearer.max_ttl.
type RuleParts = (
    bool,
    Subjects,
    Vec<Capability>,
    Vec<Capability>,
    Constraints,
    Option<u64>,
    Option<u64>,
);

fn rule_strategy() -> impl Strategy<Value = RuleParts> {
    (
        prop::bool::weighted(0.3),
        subjects_strategy(),
        prop::collection::vec(cap_strategy(), 1..3),
        prop::collection::vec(deny_cap_strategy(), 1..3),
        required_strategy(),
        proptest::option::of(prop::sample::select(vec![10u64, 60, 600])),
        proptest::option::of(prop::sample::select(vec![30u64, 300, 3600])),
    )
}

fn policy_strategy() -> impl Strategy<Value = Policy> {
    (
        prop::collection::vec(rule_strategy(), 0..5),
        prop::sample::select(vec![100u64, 300]),
    )
        .prop_map(|(rules, max_ttl)| {
            let rules = rules
                .into_iter()
                .enumerate()
                .map(
                    |(i, (deny, subjects, allow_caps, deny_caps, required, ttl, bearer))| Rule {
                        id: format!("r{i}"),
                        effect: if deny { Effect::Deny } else { Effect::Allow },
                        subjects,
                        capabilities: if deny { deny_caps } else { allow_caps },
                        required_constraints: if deny {
                            Constraints::default()
                        } else {
                            required
                        },
                        max_ttl: if deny { None } else { ttl },
                        bearer_max_ttl: if deny { None } else { bearer },
                    },
                )
                .collect();
            Policy::new(max_ttl, rules).unwrap()
        })
}

fn request_strategy() -> impl Strategy<Value = PolicyRequest> {
    (
        prop::sample::select(vec!["a", "b", "agent:1", "c"]),
        proptest::option::of(prop::sample::select(vec!["op", "agent", "x"])),
        any::<bool>(),
        prop::collection::vec(cap_strategy(), 1..3),
        prop::sample::select(vec![1u64, 50, 200, 1000]),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(id, role, lab, capabilities, ttl, bearer)| {
            let mut attributes = BTreeMap::new();
            if let Some(role) = role {
                attributes.insert("role".to_string(), role.to_string());
            }
            if lab {
                attributes.insert("site".to_string(), "lab".to_string());
            }
            let request = PolicyRequest::new(Subject::new(id, attributes), capabilities, ttl);
            if bearer { request.bearer() } else { request }
        })
}

/// An independent reading of the subject rules of `docs/POLICY.md`.
fn applies(s: &Subjects, subject: &Subject) -> bool {
    s.ids.contains(&subject.id)
        || s.patterns
            .iter()
            .any(|p| scope::pattern_matches(p, &subject.id))
        || (!s.attributes.is_empty()
            && s.attributes.iter().all(|(name, values)| {
                subject
                    .attributes
                    .get(name)
                    .is_some_and(|v| values.contains(v))
            }))
}

/// What an allow rule grants at most: its capabilities, required
/// constraints merged.
fn with_required(rule: &Rule) -> Vec<Capability> {
    rule.capabilities
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.constraints =
                scope::meet_constraints(&c.constraints, &rule.required_constraints).unwrap();
            c
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn grants_are_exactly_request_and_allowed_and_never_denied(
        p in policy_strategy(),
        r in request_strategy(),
    ) {
        let decision = p.evaluate(&r, DEFAULT_BUDGET).unwrap();
        let applicable: Vec<&Rule> = p.rules().iter().filter(|rule| applies(&rule.subjects, &r.subject)).collect();
        let first_deny = applicable.iter().find(|rule| {
            rule.effect == Effect::Deny
                && !scope::meet(&rule.capabilities, &r.capabilities).unwrap().is_empty()
        });
        let overlapping: Vec<&Rule> = applicable
            .iter()
            .copied()
            .filter(|rule| rule.effect == Effect::Allow)
            .filter(|rule| !scope::meet(&r.capabilities, &with_required(rule)).unwrap().is_empty())
            .collect();
        // A bearer request: only rules that allow bearer tokens grant.
        let allow: Vec<&Rule> = overlapping
            .iter()
            .copied()
            .filter(|rule| !r.bearer || rule.bearer_max_ttl.is_some())
            .collect();
        match decision {
            Decision::Denied { code: DenialCode::DeniedByRule, rule, .. } => {
                // (b) Denied exactly when a matching deny rule overlaps, naming the first.
                prop_assert_eq!(rule, first_deny.map(|d| d.id.clone()));
            }
            Decision::Denied { code: DenialCode::NoMatchingRule, rule, .. } => {
                prop_assert!(first_deny.is_none());
                prop_assert!(overlapping.is_empty());
                prop_assert_eq!(rule, None);
            }
            Decision::Denied { code: DenialCode::BearerNotAllowed, rule, .. } => {
                // Some rule would grant it bound to a key, none as a bearer token.
                prop_assert!(r.bearer);
                prop_assert!(first_deny.is_none());
                prop_assert!(allow.is_empty() && !overlapping.is_empty());
                prop_assert_eq!(rule, None);
            }
            Decision::Granted { capabilities, ttl, matched_rules, narrowed } => {
                prop_assert!(first_deny.is_none());
                let ids: Vec<String> = allow.iter().map(|rule| rule.id.clone()).collect();
                prop_assert_eq!(&matched_rules, &ids);
                let cap = allow
                    .iter()
                    .flat_map(|rule| [rule.max_ttl, rule.bearer_max_ttl.filter(|_| r.bearer)])
                    .flatten()
                    .min()
                    .unwrap_or(u64::MAX);
                prop_assert_eq!(ttl, r.ttl.min(p.max_ttl()).min(cap));
                prop_assert!(!r.bearer || ttl <= captoken_core::policy::MAX_BEARER_TTL);
                prop_assert_eq!(narrowed, scope::first_uncovered(&capabilities, &r.capabilities).is_some());
                // (a) Syntactically inside the request and inside the allow rules...
                prop_assert_eq!(scope::first_uncovered(&r.capabilities, &capabilities), None);
                let allowed: Vec<Capability> = allow.iter().flat_map(|rule| with_required(rule)).collect();
                prop_assert_eq!(scope::first_uncovered(&allowed, &capabilities), None);
                // ...and semantically exactly their intersection.
                for q in all_requests() {
                    let by_rule = allow.iter().any(|rule| allows(&with_required(rule), &q));
                    prop_assert_eq!(
                        allows(&capabilities, &q),
                        allows(&r.capabilities, &q) && by_rule,
                        "{:?}", q
                    );
                }
                // (b) Nothing granted overlaps a deny rule that applies.
                for rule in applicable.iter().filter(|rule| rule.effect == Effect::Deny) {
                    prop_assert!(scope::meet(&rule.capabilities, &capabilities).unwrap().is_empty());
                }
            }
            Decision::Denied { code, .. } => prop_assert!(false, "unexpected denial {:?}", code),
        }
    }

    #[test]
    fn explain_never_disagrees_with_evaluate(
        p in policy_strategy(),
        r in request_strategy(),
        budget in prop_oneof![Just(DEFAULT_BUDGET), 0u64..60],
    ) {
        let evaluated = p.evaluate(&r, budget);
        let explained = p.explain(&r, budget);
        match (&evaluated, &explained) {
            (Ok(d), Ok(e)) => {
                prop_assert_eq!(d, &e.decision);
                prop_assert!(e.steps <= budget);
                // The same steps again suffice; the trace covers each visited rule once.
                prop_assert_eq!(&p.evaluate(&r, e.steps).unwrap(), d);
                let ids: Vec<&str> = p.rules().iter().take(e.rules.len()).map(|rule| rule.id.as_str()).collect();
                let traced: Vec<&str> = e.rules.iter().map(|t| t.id.as_str()).collect();
                prop_assert_eq!(ids, traced);
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            _ => prop_assert!(false, "evaluate {:?} but explain {:?}", evaluated, explained),
        }
    }

    #[test]
    fn random_policies_round_trip(p in policy_strategy()) {
        let again = Policy::from_json(&serde_json::to_vec(&p.to_json()).unwrap()).unwrap();
        prop_assert_eq!(again, p);
    }
}
