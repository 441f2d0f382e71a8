//! Verified tokens remembered, so a client presenting its token on every
//! call does not pay for the signature check on every call.
//!
//! The module decides, here as everywhere: its `verify` answer says from
//! which `now` to which the same request gives that same answer
//! (`valid_from`, `valid_until`: every link's times and the issuer key's
//! window, with the leeway). This cache keeps the answer, keyed by the exact
//! token bytes and the audience asked for, and hands it back only for a
//! `now` inside that window; it decides nothing of its own. Revocation,
//! single use and proofs of possession are checked on every request as
//! before (a request with a proof is never answered from here).
//!
//! One cache per key set: it lives in [`super::Live`], so a reload (a new
//! key, a retired one) starts an empty one, and an answer never outlives the
//! keys it was verified under. Bounded in entries, and only tokens up to
//! [`MAX_TOKEN_BYTES`] are kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// How many answers one cache keeps unless configured otherwise
/// (`GatewayConfig::verify_cache_entries`). An answer is ~1–3 KiB.
pub(crate) const DEFAULT_ENTRIES: usize = 4096;

/// Tokens longer than this (long delegation chains) are not kept.
pub(crate) const MAX_TOKEN_BYTES: usize = 8 << 10;

struct Entry {
    answer: Arc<Value>,
    from: i64,
    until: i64,
}

/// The cache of one key set.
pub(crate) struct VerifiedCache {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
    capacity: usize,
}

/// Which token, for which audience: SHA-256 over both, length-prefixed.
fn key_of(token: &str, audience: Option<&str>) -> [u8; 32] {
    let mut hash = Sha256::new();
    match audience {
        None => hash.update([0]),
        Some(audience) => {
            hash.update([1]);
            hash.update((audience.len() as u64).to_be_bytes());
            hash.update(audience.as_bytes());
        }
    }
    hash.update(token.as_bytes());
    hash.finalize().into()
}

impl VerifiedCache {
    /// A cache of at most `capacity` answers; 0 keeps none.
    pub(crate) fn new(capacity: usize) -> Self {
        VerifiedCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The module's answer for `token` and `audience`, if one is kept and
    /// holds at `now`.
    pub(crate) fn get(&self, token: &str, audience: Option<&str>, now: i64) -> Option<Arc<Value>> {
        if token.len() > MAX_TOKEN_BYTES || self.capacity == 0 {
            return None;
        }
        let key = key_of(token, audience);
        let mut entries = self.lock();
        let entry = entries.get(&key)?;
        if entry.from <= now && now < entry.until {
            return Some(Arc::clone(&entry.answer));
        }
        if now >= entry.until {
            entries.remove(&key);
        }
        None
    }

    /// Keeps the module's `answer` for `token` and `audience`, if it says
    /// how long it holds. Full: the answers that no longer hold at `now`
    /// go first, then (still full) all of them.
    pub(crate) fn put(&self, token: &str, audience: Option<&str>, answer: &Value, now: i64) {
        let (Some(from), Some(until)) = (
            answer.get("valid_from").and_then(Value::as_i64),
            answer.get("valid_until").and_then(Value::as_i64),
        ) else {
            return;
        };
        if token.len() > MAX_TOKEN_BYTES || self.capacity == 0 || !(from <= now && now < until) {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            entries.retain(|_, entry| now < entry.until);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            key_of(token, audience),
            Entry {
                answer: Arc::new(answer.clone()),
                from,
                until,
            },
        );
    }

    /// How many answers are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn answer(from: i64, until: i64) -> Value {
        json!({ "claims": { "sub": "a" }, "valid_from": from, "valid_until": until })
    }

    #[test]
    fn an_answer_is_handed_back_only_inside_its_window_for_its_token_and_audience() {
        let cache = VerifiedCache::new(DEFAULT_ENTRIES);
        cache.put("t1", None, &answer(100, 200), 150);
        assert!(cache.get("t1", None, 100).is_some());
        assert!(cache.get("t1", None, 199).is_some());
        assert!(cache.get("t1", None, 99).is_none(), "before valid_from");
        assert!(
            cache.get("t1", Some("other"), 150).is_none(),
            "another audience"
        );
        assert!(
            cache.get("t1", Some(""), 150).is_none(),
            "an empty audience is not none"
        );
        assert!(cache.get("t1x", None, 150).is_none(), "other bytes");
        assert!(cache.get("t1", None, 200).is_none(), "at valid_until");
        assert_eq!(cache.len(), 0, "an answer past its window is dropped");
    }

    #[test]
    fn a_cache_of_no_entries_keeps_nothing() {
        let cache = VerifiedCache::new(0);
        cache.put("t1", None, &answer(100, 200), 150);
        assert!(cache.get("t1", None, 150).is_none());
    }

    #[test]
    fn answers_without_a_window_or_already_outside_it_are_not_kept() {
        let cache = VerifiedCache::new(DEFAULT_ENTRIES);
        cache.put("t", None, &json!({ "claims": {} }), 150);
        cache.put("t", None, &answer(100, 200), 200);
        cache.put("t", None, &answer(100, 200), 99);
        cache.put(
            &"x".repeat(MAX_TOKEN_BYTES + 1),
            None,
            &answer(100, 200),
            150,
        );
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_full_cache_drops_what_expired_first_and_stays_bounded() {
        let cache = VerifiedCache::new(DEFAULT_ENTRIES);
        for i in 0..DEFAULT_ENTRIES {
            let until = if i % 2 == 0 { 160 } else { 300 };
            cache.put(&format!("t{i}"), None, &answer(100, until), 150);
        }
        assert_eq!(cache.len(), DEFAULT_ENTRIES);
        cache.put("new", None, &answer(100, 300), 170);
        assert_eq!(
            cache.len(),
            DEFAULT_ENTRIES / 2 + 1,
            "the expired half went"
        );
        assert!(cache.get("t1", None, 170).is_some());
        for i in 0..DEFAULT_ENTRIES {
            cache.put(&format!("u{i}"), None, &answer(100, 300), 170);
        }
        assert!(cache.len() <= DEFAULT_ENTRIES);
    }
}
