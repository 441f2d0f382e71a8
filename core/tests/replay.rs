//! The replay guard: each `jti` once while its token is acceptable, bounded
//! memory, and refusal rather than eviction when full.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use captoken_core::replay::{MemoryReplayGuard, ReplayError, ReplayGuard};
use captoken_core::token::MAX_LEEWAY;
use proptest::prelude::*;

const T0: i64 = 1_700_000_000;

fn code(r: Result<(), ReplayError>) -> &'static str {
    match r {
        Ok(()) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn each_jti_is_accepted_once() {
    let mut g = MemoryReplayGuard::with_capacity(10).leeway(0);
    assert!(g.is_empty());
    assert_eq!(g.check_and_record("a", T0 + 300, T0), Ok(()));
    assert_eq!(
        g.check_and_record("a", T0 + 300, T0 + 1),
        Err(ReplayError::Replayed { jti: "a".into() })
    );
    assert_eq!(g.check_and_record("b", T0 + 300, T0 + 1), Ok(()));
    // Until the last second of its token.
    assert_eq!(
        code(g.check_and_record("a", T0 + 300, T0 + 299)),
        "replayed"
    );
    assert_eq!(g.len(), 2);
}

#[test]
fn entries_are_forgotten_once_their_token_is_expired() {
    let mut g = MemoryReplayGuard::with_capacity(10).leeway(0);
    g.check_and_record("a", T0 + 10, T0).unwrap();
    g.check_and_record("b", T0 + 20, T0).unwrap();
    g.check_and_record("c", T0 + 30, T0).unwrap();
    assert_eq!(g.len(), 3);
    g.purge(T0 + 20);
    assert_eq!(g.len(), 1);
    // The verifier refuses these tokens now, and so does the guard.
    assert_eq!(
        g.check_and_record("a", T0 + 10, T0 + 20),
        Err(ReplayError::Expired {
            jti: "a".into(),
            exp: T0 + 10,
            now: T0 + 20
        })
    );
    g.check_and_record("d", T0 + 100, T0 + 30).unwrap();
    assert_eq!(g.len(), 1, "c expired and was purged when d was recorded");
    assert_eq!(
        code(g.check_and_record("c", T0 + 30, T0 + 30)),
        "replay_expired"
    );
}

#[test]
fn the_default_leeway_covers_every_verifier() {
    let mut g = MemoryReplayGuard::with_capacity(10);
    g.check_and_record("a", T0, T0 - 1).unwrap();
    // A verifier with the largest leeway still accepts the token here.
    assert_eq!(
        code(g.check_and_record("a", T0, T0 + MAX_LEEWAY - 1)),
        "replayed"
    );
    assert_eq!(
        code(g.check_and_record("a", T0, T0 + MAX_LEEWAY)),
        "replay_expired"
    );
    assert!(g.is_empty());

    // Leeways are clamped like the verifier's.
    let mut g = MemoryReplayGuard::with_capacity(10).leeway(-5);
    assert_eq!(code(g.check_and_record("a", T0, T0)), "replay_expired");
    let mut g = MemoryReplayGuard::with_capacity(10).leeway(i64::MAX);
    assert_eq!(
        code(g.check_and_record("a", T0, T0 + MAX_LEEWAY)),
        "replay_expired"
    );
    // No overflow at the ends of the range.
    assert_eq!(code(g.check_and_record("b", i64::MAX, T0)), "ok");
    assert_eq!(
        code(g.check_and_record("b", i64::MAX, i64::MAX - 1)),
        "replayed"
    );
    assert_eq!(
        code(g.check_and_record("c", i64::MIN, i64::MIN)),
        "replay_expired"
    );
}

#[test]
fn a_full_guard_refuses_instead_of_evicting() {
    let mut g = MemoryReplayGuard::with_capacity(3).leeway(0);
    assert_eq!(g.capacity(), 3);
    for (jti, exp) in [("a", T0 + 10), ("b", T0 + 20), ("c", T0 + 30)] {
        g.check_and_record(jti, exp, T0).unwrap();
    }
    assert_eq!(
        g.check_and_record("d", T0 + 5, T0 + 1),
        Err(ReplayError::Full { capacity: 3 })
    );
    // Nothing was evicted: every live token is still refused.
    for (jti, exp) in [("a", T0 + 10), ("b", T0 + 20), ("c", T0 + 30)] {
        assert_eq!(code(g.check_and_record(jti, exp, T0 + 1)), "replayed");
    }
    assert_eq!(g.len(), 3);
    // When the first token expires, its slot frees.
    assert_eq!(code(g.check_and_record("d", T0 + 50, T0 + 10)), "ok");
    assert_eq!(
        code(g.check_and_record("e", T0 + 50, T0 + 10)),
        "replay_guard_full"
    );
    assert_eq!(code(g.check_and_record("e", T0 + 50, T0 + 30)), "ok");
    assert_eq!(g.len(), 2);

    let mut none = MemoryReplayGuard::with_capacity(0);
    assert_eq!(
        code(none.check_and_record("a", T0 + 1, T0)),
        "replay_guard_full"
    );
}

#[test]
fn a_clock_stepping_back_does_not_revive_forgotten_entries() {
    let mut g = MemoryReplayGuard::with_capacity(10).leeway(0);
    g.check_and_record("a", T0 + 10, T0).unwrap();
    g.check_and_record("b", T0 + 100, T0 + 50).unwrap(); // purges `a`
    assert_eq!(g.len(), 1);
    // The host's clock jumps back to before `a` expired.
    assert_eq!(
        g.check_and_record("a", T0 + 10, T0 + 5),
        Err(ReplayError::Expired {
            jti: "a".into(),
            exp: T0 + 10,
            now: T0 + 50
        })
    );
}

#[test]
fn a_reused_jti_stays_refused_until_its_last_token_expires() {
    let mut g = MemoryReplayGuard::with_capacity(10).leeway(0);
    g.check_and_record("a", T0 + 10, T0).unwrap();
    // A second token with the same `jti` and a later `exp` (an issuer bug).
    assert_eq!(code(g.check_and_record("a", T0 + 100, T0 + 5)), "replayed");
    assert_eq!(code(g.check_and_record("a", T0 + 100, T0 + 50)), "replayed");
    assert_eq!(g.len(), 1);
    assert_eq!(code(g.check_and_record("b", T0 + 200, T0 + 100)), "ok");
    assert_eq!(g.len(), 1);
}

#[test]
fn error_codes_and_messages() {
    let cases = [
        (
            ReplayError::Replayed { jti: "x".into() },
            "replayed",
            "token `x` was already used",
        ),
        (
            ReplayError::Expired {
                jti: "x".into(),
                exp: 5,
                now: 9,
            },
            "replay_expired",
            "token `x` expired at 5 (now 9)",
        ),
        (
            ReplayError::Full { capacity: 2 },
            "replay_guard_full",
            "replay guard holds 2 unexpired tokens and accepts no more until one expires",
        ),
    ];
    for (e, c, message) in cases {
        assert_eq!(e.code(), c);
        assert_eq!(e.to_string(), message);
        let _: &dyn std::error::Error = &e;
    }
}

/// The reference: the same rules, written as plainly as possible.
struct Model {
    capacity: usize,
    leeway: i64,
    clock: i64,
    live: BTreeMap<String, i64>,
}

impl Model {
    fn check(&mut self, jti: &str, exp: i64, now: i64) -> &'static str {
        self.clock = self.clock.max(now);
        let clock = self.clock;
        self.live.retain(|_, until| *until > clock);
        let until = exp + self.leeway;
        if until <= clock {
            return "replay_expired";
        }
        if let Some(held) = self.live.get_mut(jti) {
            *held = (*held).max(until);
            return "replayed";
        }
        if self.live.len() >= self.capacity {
            return "replay_guard_full";
        }
        self.live.insert(jti.into(), until);
        "ok"
    }
}

#[derive(Debug, Clone)]
struct Op {
    jti: u8,
    exp_in: i64,
    /// Seconds the clock moves before the check; sometimes backwards.
    tick: i64,
}

fn op() -> impl Strategy<Value = Op> {
    (0u8..8, -5i64..40, -3i64..15).prop_map(|(jti, exp_in, tick)| Op { jti, exp_in, tick })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn guard_matches_the_model(
        capacity in 0usize..6,
        leeway in 0i64..10,
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let mut guard = MemoryReplayGuard::with_capacity(capacity).leeway(leeway);
        let mut model = Model { capacity, leeway, clock: i64::MIN, live: BTreeMap::new() };
        // Every acceptance: (jti, exp, kept until).
        let mut accepted: Vec<(String, i64, i64)> = Vec::new();
        let mut now = T0;
        let mut clock = now;
        for op in ops {
            now += op.tick;
            clock = clock.max(now);
            let jti = format!("jti-{}", op.jti);
            let exp = now + op.exp_in;
            let got = code(guard.check_and_record(&jti, exp, now));
            prop_assert_eq!(got, model.check(&jti, exp, now), "{:?} at {}", op, now);
            prop_assert!(guard.len() <= capacity);
            if got == "ok" {
                for (seen, seen_exp, until) in &accepted {
                    if *seen == jti {
                        // Never twice while an earlier acceptance is live,
                        // and the same token never twice at all.
                        prop_assert!(*until <= clock, "{} accepted again at {}", jti, clock);
                        prop_assert_ne!(*seen_exp, exp, "{} with exp {} accepted twice", jti, exp);
                    }
                }
                accepted.push((jti, exp, exp + leeway));
            }
        }
    }
}
