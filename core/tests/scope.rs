//! Constraint and pattern semantics, and the algebra of grants.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use captoken_core::scope::{self, Context, Request};
use captoken_core::{Capability, Constraints};
use common::*;
use proptest::prelude::*;
mod lit;
use captoken_core::json::Value;
use lit::json;

fn cap(v: Value) -> Capability {
    Capability::from_json(&v, "cap").unwrap()
}

fn req(action: &str, resource: &str, ctx: Value) -> Request {
    Request::new(action, resource, Context::from_json(ctx).unwrap())
}

fn code(caps: &[Capability], r: &Request) -> &'static str {
    match scope::authorize_caps(caps, r) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn domain_wildcards_match_subdomains_only() {
    let yes = [
        "a.example.com",
        "A.Example.COM",
        "a.example.com.",
        "x.y.example.com",
    ];
    let no = [
        "example.com",
        "evilexample.com",
        "example.com.evil",
        "a.example.co",
        "a..example.com",
        "",
        ".",
        "a example.com",
        "ex\u{e4}mple.example.com",
    ];
    for d in yes {
        assert!(scope::domain_matches("*.example.com", d), "{d}");
    }
    for d in no {
        assert!(!scope::domain_matches("*.example.com", d), "{d}");
    }
    assert!(scope::domain_matches("example.com", "EXAMPLE.com."));
    assert!(!scope::domain_matches("example.com", "a.example.com"));
    assert!(scope::domain_matches("*", "anything.example"));
    assert!(scope::domain_matches(
        "*.xn--bcher-kva.example",
        "a.xn--bcher-kva.example"
    ));
    for bad in [
        "**.example.com",
        "a.*.com",
        "*example.com",
        "",
        "exa mple.com",
    ] {
        assert!(!scope::valid_domain_pattern(bad), "{bad}");
    }
}

#[test]
fn action_and_resource_patterns() {
    assert!(scope::pattern_matches("robot:*", "robot:7"));
    assert!(!scope::pattern_matches("robot:*", "robots:7"));
    assert!(scope::pattern_matches("*", "anything"));
    assert!(!scope::pattern_matches("robot:7", "robot:70"));
    assert!(scope::pattern_covers("robot:*", "robot:7*"));
    assert!(!scope::pattern_covers("robot:7*", "robot:*"));
    assert!(!scope::valid_pattern("ro*bot"));
    assert!(!scope::valid_pattern(""));
}

#[test]
fn each_constraint_kind_allows_and_refuses() {
    let caps = [cap(json!({
        "actions": ["buy"], "resources": ["shop:*"],
        "constraints": { "domains": ["*.spotify.com"], "max_purchase": 100, "pii_access": false, "rooms": ["lab"], "tools": ["card"] }
    }))];
    let ok = json!({ "domain": "open.spotify.com", "purchase_amount": 100, "pii": false, "room": "lab", "tool": "card" });
    assert_eq!(code(&caps, &req("buy", "shop:1", ok.clone())), "ok");
    let cases = [
        (
            "domain",
            json!("spotify.com"),
            "constraint_violated",
            "domains",
        ),
        (
            "domain",
            json!("evil.com"),
            "constraint_violated",
            "domains",
        ),
        ("domain", json!("not a domain"), "bad_context", ""),
        (
            "purchase_amount",
            json!(101),
            "constraint_violated",
            "max_purchase",
        ),
        ("pii", json!(true), "constraint_violated", "pii_access"),
        ("room", json!("roof"), "constraint_violated", "rooms"),
        ("tool", json!("crowbar"), "constraint_violated", "tools"),
    ];
    for (member, value, expected, kind) in cases {
        let mut ctx = ok.clone();
        ctx[member] = value.clone();
        let err = scope::authorize_caps(&caps, &req("buy", "shop:1", ctx));
        let err = err.unwrap_err();
        assert_eq!(err.code(), expected, "{member} = {value}");
        if !kind.is_empty() {
            assert_eq!(
                err.path(),
                Some(format!("caps[0].constraints.{kind}").as_str())
            );
        }
    }
    for member in ["domain", "room", "tool"] {
        let mut ctx = ok.clone();
        ctx.as_object_mut().unwrap().remove(member);
        assert_eq!(
            code(&caps, &req("buy", "shop:1", ctx)),
            "missing_context",
            "{member}"
        );
    }
    // Absent amount and pii mean "no purchase" and "no personal data".
    let mut ctx = ok.clone();
    ctx.as_object_mut().unwrap().remove("purchase_amount");
    ctx.as_object_mut().unwrap().remove("pii");
    assert_eq!(code(&caps, &req("buy", "shop:1", ctx)), "ok");
    assert_eq!(
        code(&caps, &req("sell", "shop:1", ok.clone())),
        "not_granted"
    );
    assert_eq!(code(&caps, &req("buy", "bank:1", ok)), "not_granted");
}

#[test]
fn unknown_constraints_and_context_fail_closed() {
    let caps = [cap(
        json!({ "actions": ["*"], "resources": ["*"], "constraints": { "max_speed": 5 } }),
    )];
    let err = scope::authorize_caps(&caps, &req("drive", "robot:1", json!({}))).unwrap_err();
    assert_eq!(err.code(), "unknown_constraint");
    assert_eq!(err.path(), Some("caps[0].constraints.max_speed"));
    let err = Context::from_json(json!({ "purchse_amount": 5 })).unwrap_err();
    assert_eq!(err.code(), "bad_context");
}

#[test]
fn a_later_capability_can_allow_what_an_earlier_one_refuses() {
    let caps = [
        cap(
            json!({ "actions": ["buy"], "resources": ["*"], "constraints": { "max_purchase": 10 } }),
        ),
        cap(
            json!({ "actions": ["buy"], "resources": ["*"], "constraints": { "max_purchase": 1000 } }),
        ),
    ];
    let allowed =
        scope::authorize_caps(&caps, &req("buy", "x", json!({ "purchase_amount": 500 }))).unwrap();
    assert_eq!(allowed.cap_index, 1);
}

#[test]
fn only_verified_tokens_authorize() {
    let keys = keyset();
    let token = verifier(&keys).verify(&issue_at(NOW, 300), NOW).unwrap();
    let ok = req(
        "drive",
        "robot:7",
        json!({ "domain": "a.example.com", "pii": false }),
    );
    assert!(token.authorize(&ok).is_ok());
    let buy = req(
        "drive",
        "robot:7",
        json!({ "domain": "a.example.com", "purchase_amount": 1 }),
    );
    assert_eq!(
        token.authorize(&buy).unwrap_err().code(),
        "constraint_violated"
    );
}

#[test]
fn containment_is_tight_at_the_limits() {
    let parent = cap(json!({ "actions": ["drive"], "resources": ["robot:*"],
        "constraints": { "max_purchase": 10, "domains": ["*.a.com"], "rooms": ["lab", "hall"], "pii_access": false } }));
    let child =
        |c: Value| cap(json!({ "actions": ["drive"], "resources": ["robot:1"], "constraints": c }));
    let base = json!({ "max_purchase": 10, "domains": ["b.a.com"], "rooms": ["lab"], "pii_access": false });
    assert!(scope::cap_covers(&parent, &child(base.clone())));
    for (k, v) in [
        ("max_purchase", json!(11)),
        ("domains", json!(["a.com"])),
        ("domains", json!(["*"])),
        ("rooms", json!(["lab", "roof"])),
        ("pii_access", json!(true)),
    ] {
        let mut c = base.clone();
        c[k] = v.clone();
        assert!(!scope::cap_covers(&parent, &child(c)), "{k} = {v}");
    }
    for k in ["max_purchase", "domains", "rooms", "pii_access"] {
        let mut c = base.clone();
        c.as_object_mut().unwrap().remove(k);
        assert!(
            !scope::cap_covers(&parent, &child(c)),
            "dropping {k} widens the grant"
        );
    }
    let wider =
        cap(json!({ "actions": ["drive", "stop"], "resources": ["robot:1"], "constraints": base }));
    assert!(!scope::cap_covers(&parent, &wider));
}

#[test]
fn disjoint_allow_lists_meet_in_nothing() {
    let a = [cap(
        json!({ "actions": ["drive"], "resources": ["r"], "constraints": { "domains": ["a.com"] } }),
    )];
    let b = [cap(
        json!({ "actions": ["drive"], "resources": ["r"], "constraints": { "domains": ["b.com"] } }),
    )];
    assert!(scope::meet(&a, &b).unwrap().is_empty());
    let a = [cap(
        json!({ "actions": ["drive"], "resources": ["r"], "constraints": { "rooms": ["lab"] } }),
    )];
    let b = [cap(
        json!({ "actions": ["drive"], "resources": ["r"], "constraints": { "rooms": ["hall"] } }),
    )];
    assert!(scope::meet(&a, &b).unwrap().is_empty());
}

#[test]
fn seed_tiers_are_expressible() {
    let input = [cap(json!({ "actions": ["INPUT"], "resources": ["*"] }))];
    let service = [cap(
        json!({ "actions": ["*"], "resources": ["service:billing"] }),
    )];
    assert_eq!(code(&input, &req("INPUT", "ledger", json!({}))), "ok");
    assert_eq!(
        code(&input, &req("READ", "ledger", json!({}))),
        "not_granted"
    );
    assert_eq!(
        code(&service, &req("charge", "service:billing", json!({}))),
        "ok"
    );
    assert_eq!(
        code(&service, &req("charge", "service:ledger", json!({}))),
        "not_granted"
    );
}

// ---------------------------------------------------------------------------
// The algebra, over a small universe so that overlaps are common.

fn pick<T: Clone + std::fmt::Debug + 'static>(
    items: &'static [T],
) -> impl Strategy<Value = Vec<T>> {
    prop::sample::subsequence(items.to_vec(), 1..=items.len().min(3))
}

fn cap_strategy() -> impl Strategy<Value = Capability> {
    (
        pick(&["drive", "stop", "read", "*", "dr*"]),
        pick(&["robot:1", "robot:2", "robot:*", "*", "cam:1"]),
        proptest::option::of(pick(&["*.a.com", "a.com", "b.a.com", "*.b.a.com", "*"])),
        proptest::option::of(prop::sample::select(vec![0u64, 10, 11, 100])),
        proptest::option::of(any::<bool>()),
        proptest::option::of(prop::sample::subsequence(vec!["lab", "hall"], 0..=2)),
    )
        .prop_map(|(a, r, d, m, p, rooms)| {
            let mut constraints = Constraints::default();
            constraints.domains = d.map(|v| v.into_iter().map(String::from).collect());
            constraints.max_purchase = m;
            constraints.pii_access = p;
            constraints.rooms = rooms.map(|v| v.into_iter().map(String::from).collect());
            Capability::new(
                a.into_iter().map(String::from).collect(),
                r.into_iter().map(String::from).collect(),
                constraints,
            )
        })
}

fn caps_strategy() -> impl Strategy<Value = Vec<Capability>> {
    prop::collection::vec(cap_strategy(), 1..3)
}

fn allows(caps: &[Capability], r: &Request) -> bool {
    scope::authorize_caps(caps, r).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn meet_is_exactly_the_intersection(a in caps_strategy(), b in caps_strategy()) {
        let m = scope::meet(&a, &b).unwrap();
        for r in all_requests() {
            prop_assert_eq!(allows(&m, &r), allows(&a, &r) && allows(&b, &r), "{:?}", r);
        }
    }

    #[test]
    fn meet_is_commutative_and_idempotent(a in caps_strategy(), b in caps_strategy()) {
        let ab = scope::meet(&a, &b).unwrap();
        let ba = scope::meet(&b, &a).unwrap();
        let aa = scope::meet(&a, &a).unwrap();
        for r in all_requests() {
            prop_assert_eq!(allows(&ab, &r), allows(&ba, &r));
            prop_assert_eq!(allows(&aa, &r), allows(&a, &r));
        }
        // Syntactically too, once normalized: meeting again changes nothing.
        prop_assert_eq!(scope::meet(&ab, &ab).unwrap().len(), ab.len());
    }

    #[test]
    fn the_meet_never_exceeds_either_side(a in caps_strategy(), b in caps_strategy()) {
        let m = scope::meet(&a, &b).unwrap();
        prop_assert_eq!(scope::first_uncovered(&a, &m), None);
        prop_assert_eq!(scope::first_uncovered(&b, &m), None);
    }

    #[test]
    fn containment_implies_permission_inclusion(a in caps_strategy(), b in caps_strategy()) {
        if scope::first_uncovered(&a, &b).is_none() {
            for r in all_requests() {
                prop_assert!(!allows(&b, &r) || allows(&a, &r), "{:?}", r);
            }
        }
    }
}

/// Review finding: two spellings of one domain cover each other, and the
/// meet must keep one of them, not drop both.
#[test]
fn meet_keeps_one_of_two_spellings_of_a_pattern() {
    for (x, y) in [
        ("Example.com", "example.com"),
        ("example.com.", "example.com"),
        ("*.Example.com", "*.example.com"),
    ] {
        let a = [cap(
            json!({ "actions": ["a"], "resources": ["r"], "constraints": { "domains": [x] } }),
        )];
        let b = [cap(
            json!({ "actions": ["a"], "resources": ["r"], "constraints": { "domains": [y] } }),
        )];
        let m = scope::meet(&a, &b).unwrap();
        assert_eq!(m.len(), 1, "{x} / {y}");
        assert_eq!(m[0].constraints.domains.as_ref().unwrap().len(), 1);
        let d = if x.starts_with('*') {
            "a.example.com"
        } else {
            "example.com"
        };
        assert!(scope::authorize_caps(&m, &req("a", "r", json!({ "domain": d }))).is_ok());
    }
}

/// Review finding: `null` must not read as "absent" (JSON.stringify turns
/// NaN into null, which would skip a purchase limit).
#[test]
fn null_context_values_are_refused() {
    for member in ["purchase_amount", "pii", "domain", "room", "tool"] {
        let err = Context::from_json(json!({ member: null })).unwrap_err();
        assert_eq!(err.code(), "bad_context", "{member}");
    }
}

/// Review finding: list sizes are bounded so that comparing grants stays
/// cheap whatever a request holds.
#[test]
fn capability_lists_are_bounded() {
    let many: Vec<String> = (0..65).map(|i| format!("a{i}")).collect();
    let err = Capability::from_json(&json!({ "actions": many, "resources": ["r"] }), "caps[0]")
        .unwrap_err();
    assert_eq!(err.code(), "bad_claims");
    let caps: Vec<Value> = (0..65)
        .map(|_| json!({ "actions": ["a"], "resources": ["r"] }))
        .collect();
    assert!(Capability::list_from_json(&json!(caps), "caps").is_err());
    let domains: Vec<String> = (0..65).map(|i| format!("d{i}.example")).collect();
    assert!(captoken_core::Constraints::from_json(&json!({ "domains": domains }), "c").is_err());
}

#[test]
fn a_seed_tier_names_one_capability_and_nothing_else_is_a_tier() {
    for (scope, want) in [
        ("READ", json!({ "actions": ["READ"], "resources": ["*"] })),
        ("USER", json!({ "actions": ["USER"], "resources": ["*"] })),
        ("INPUT", json!({ "actions": ["INPUT"], "resources": ["*"] })),
        (
            "service:billing",
            json!({ "actions": ["*"], "resources": ["service:billing"] }),
        ),
    ] {
        assert_eq!(Capability::tier(scope), Some(cap(want)), "{scope}");
    }
    for scope in ["ROOT", "read", "service:", "", "READ ", "service"] {
        assert_eq!(Capability::tier(scope), None, "{scope:?}");
    }
}
