//! Single-use tokens: a guard that accepts each `jti` once while its token
//! could still be accepted.
//!
//! A verified token proves who issued it, not that it has not been presented
//! before. Where one use is all a token grants (a single command, a
//! purchase), the verifier asks a [`ReplayGuard`] after verification.
//!
//! An entry needs to outlive its token only as long as a verifier would still
//! accept the token: after that the verifier refuses it as expired on its
//! own, so the guard forgets it and its memory stays bounded by the tokens
//! currently live.

use crate::codes::ErrorCode;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use core::fmt;

use crate::token::MAX_LEEWAY;

/// Why a `jti` was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayError {
    /// This `jti` was already used and its token is still acceptable.
    Replayed {
        /// The `jti`.
        jti: String,
    },
    /// The token is past its `exp` (and the leeway): recording it would be
    /// useless and accepting it wrong.
    Expired {
        /// The `jti`.
        jti: String,
        /// The token's `exp`.
        exp: i64,
        /// The time of the check: the latest `now` the guard has seen.
        now: i64,
    },
    /// The guard holds `capacity` live entries. It refuses rather than evict
    /// one, because an evicted `jti` could be used again.
    Full {
        /// The number of entries the guard holds at most.
        capacity: usize,
    },
}

impl ReplayError {
    /// The stable machine code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ReplayError::Replayed { .. } => ErrorCode::Replayed,
            ReplayError::Expired { .. } => ErrorCode::ReplayExpired,
            ReplayError::Full { .. } => ErrorCode::ReplayGuardFull,
        }
    }

    /// The stable code as its string: `self.error_code().as_str()`.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Replayed { jti } => write!(f, "token `{jti}` was already used"),
            ReplayError::Expired { jti, exp, now } => {
                write!(f, "token `{jti}` expired at {exp} (now {now})")
            }
            ReplayError::Full { capacity } => write!(
                f,
                "replay guard holds {capacity} unexpired tokens and accepts no more until one expires"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ReplayError {}

/// Remembers which `jti`s were used.
///
/// The host may implement it over a shared store (a database table with a
/// unique key on `jti`) when several verifiers must refuse each other's
/// replays; [`MemoryReplayGuard`] serves one process.
pub trait ReplayGuard {
    /// Accept `jti` if it was not seen before, and remember it.
    ///
    /// `exp` is the token's `exp` claim. An implementation must remember the
    /// `jti` for as long as any verifier could still accept the token, which
    /// is `exp` plus the verifier's leeway, and refuse it throughout.
    ///
    /// # Errors
    /// [`ReplayError::Replayed`] for a `jti` seen before,
    /// [`ReplayError::Expired`] for a token no verifier accepts any more, and
    /// [`ReplayError::Full`] when it cannot remember one more `jti`.
    fn check_and_record(&mut self, jti: &str, exp: i64, now: i64) -> Result<(), ReplayError>;
}

/// An in-memory [`ReplayGuard`] holding at most `capacity` entries.
///
/// It keeps each `jti` until `exp + leeway`, where the leeway defaults to
/// [`MAX_LEEWAY`]: the guard does not know how the verifier is configured,
/// so by default it covers the most any verifier accepts. Set it to the
/// verifier's own with [`MemoryReplayGuard::leeway`] to free entries sooner.
///
/// Its clock never runs backwards: a `now` earlier than one already seen is
/// taken as that one. Entries forgotten at the later time must not become
/// usable again because the host's clock stepped back; tokens whose entries
/// might have been forgotten are refused as [`ReplayError::Expired`].
///
/// When full of live entries it refuses new ones ([`ReplayError::Full`]):
/// failing closed costs availability until tokens expire, evicting would let
/// a token be used twice. Size `capacity` for the token rate times the
/// longest token lifetime plus leeway.
#[derive(Debug, Clone)]
pub struct MemoryReplayGuard {
    capacity: usize,
    leeway: i64,
    /// The latest `now` seen.
    clock: i64,
    // INVARIANT: `by_jti` and `by_expiry` hold the same entries:
    // `by_jti[jti] == forget_at` exactly when `(forget_at, jti)` is in
    // `by_expiry`. Expiry order makes purging a walk from the front.
    by_jti: BTreeMap<String, i64>,
    by_expiry: BTreeSet<(i64, String)>,
}

impl MemoryReplayGuard {
    /// A guard holding at most `max_entries` live `jti`s, with leeway
    /// [`MAX_LEEWAY`].
    pub fn with_capacity(max_entries: usize) -> Self {
        MemoryReplayGuard {
            capacity: max_entries,
            leeway: MAX_LEEWAY,
            clock: i64::MIN,
            by_jti: BTreeMap::new(),
            by_expiry: BTreeSet::new(),
        }
    }

    /// Keep entries until `exp + seconds`, clamped to `0..=MAX_LEEWAY` like
    /// [`crate::Verifier::leeway`]. Use the verifier's own leeway: less lets
    /// a token that verifier still accepts be used again.
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.leeway = seconds.clamp(0, MAX_LEEWAY);
        self
    }

    /// Number of entries held, including any that expired since the last
    /// check (they are purged by the next [`ReplayGuard::check_and_record`]
    /// or [`MemoryReplayGuard::purge`]).
    pub fn len(&self) -> usize {
        self.by_jti.len()
    }

    /// Whether no entries are held.
    pub fn is_empty(&self) -> bool {
        self.by_jti.is_empty()
    }

    /// The most entries the guard holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Forget every entry whose token no verifier accepts at `now` (or at
    /// the latest time seen, if that is later).
    pub fn purge(&mut self, now: i64) {
        self.clock = self.clock.max(now);
        let now = self.clock;
        while let Some((forget_at, _)) = self.by_expiry.first() {
            if *forget_at > now {
                break;
            }
            if let Some((_, jti)) = self.by_expiry.pop_first() {
                self.by_jti.remove(&jti);
            }
        }
    }
}

impl ReplayGuard for MemoryReplayGuard {
    fn check_and_record(&mut self, jti: &str, exp: i64, now: i64) -> Result<(), ReplayError> {
        self.purge(now);
        let now = self.clock;
        // The same rule as the verifier's `exp <= now - leeway`, without the
        // subtraction overflowing.
        let forget_at = exp.saturating_add(self.leeway);
        if forget_at <= now {
            return Err(ReplayError::Expired {
                jti: jti.into(),
                exp,
                now,
            });
        }
        if let Some(&held) = self.by_jti.get(jti) {
            // A second token carrying the same `jti` (an issuer bug) must not
            // become usable when the first one's entry lapses: keep the
            // entry until the later of the two expires.
            if forget_at > held {
                self.by_expiry.remove(&(held, String::from(jti)));
                self.by_expiry.insert((forget_at, String::from(jti)));
                self.by_jti.insert(String::from(jti), forget_at);
            }
            return Err(ReplayError::Replayed { jti: jti.into() });
        }
        if self.by_jti.len() >= self.capacity {
            return Err(ReplayError::Full {
                capacity: self.capacity,
            });
        }
        self.by_jti.insert(String::from(jti), forget_at);
        self.by_expiry.insert((forget_at, String::from(jti)));
        Ok(())
    }
}
