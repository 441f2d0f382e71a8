//! The replay guard (`sec_replay`, `sec_replay_state`): single use and
//! proofs of possession spent once, purged off the request path.

use super::*;

impl Store {
    /// The replay guard (docs/FORMAT.md "Replay guard"): records every one
    /// of `keys` as used until `until`, unless one of them is recorded and
    /// kept at `now` ([`Spend::Replayed`]) or an id of `chain` is revoked
    /// ([`Spend::Revoked`], nothing recorded). Durable when this returns: a
    /// use acknowledged before a crash stays used.
    ///
    /// A replay costs a read: only a first use (or a replay that must keep
    /// a key longer, `until` past its entry's time) takes the single writer
    /// and a durable commit, in which everything is checked again. A use
    /// kept no longer than [`Store::purge_replay`] has purged is refused as
    /// a replay: its entry may be gone (the clock stepped forward, purged,
    /// and stepped back). Expired entries are purged off the request path.
    ///
    /// # Errors
    ///
    /// `store_error`; nothing is recorded then (and the use is refused).
    pub fn spend(
        &self,
        keys: &[String],
        chain: &[String],
        until: i64,
        now: i64,
    ) -> Result<Spend, StoreError> {
        if let Some(outcome) = self.read(true, |sql| replay_read(sql, keys, chain, until, now))? {
            return Ok(outcome);
        }
        self.write(|sql, _| {
            if let Some(outcome) = replay_read(sql, keys, chain, until, now)? {
                return Ok(outcome);
            }
            let seen = live_keys(sql, keys, now)?.is_some();
            for key in keys {
                // An entry past its time is a new use; a copy with a later
                // expiry must not outlive the entry.
                sql.execute(
                    "INSERT INTO sec_replay (key, expires_at) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET expires_at =
                         CASE WHEN excluded.expires_at > sec_replay.expires_at
                              THEN excluded.expires_at ELSE sec_replay.expires_at END",
                    args![key, until],
                )?;
            }
            Ok(if seen { Spend::Replayed } else { Spend::Fresh })
        })
    }

    /// Drops replay-guard entries whose time has passed at `now`, oldest
    /// first, at most `batch` of them, and remembers the latest time a
    /// dropped entry was kept until (never lowered). Returns how many it
    /// dropped; call again while that is `batch`.
    ///
    /// # Errors
    ///
    /// `store_error`; nothing is dropped then.
    pub fn purge_replay(&self, now: i64, batch: u32) -> Result<usize, StoreError> {
        self.write(|sql, _| {
            let oldest = "SELECT key, expires_at FROM sec_replay WHERE expires_at <= ?1
                          ORDER BY expires_at LIMIT ?2";
            let latest = sql
                .one(
                    &format!("SELECT max(expires_at) FROM ({oldest}) AS oldest"),
                    args![now, batch],
                )?
                .opt_int(0)?;
            let Some(latest) = latest else {
                return Ok(0);
            };
            let dropped = sql.execute(
                &format!(
                    "DELETE FROM sec_replay WHERE key IN (SELECT key FROM ({oldest}) AS oldest)"
                ),
                args![now, batch],
            )?;
            sql.execute(
                "UPDATE sec_replay_state SET purged_until =
                     CASE WHEN ?1 > purged_until THEN ?1 ELSE purged_until END
                 WHERE id = 1",
                args![latest],
            )?;
            Ok(dropped)
        })
    }
}

/// What a spend's answer is without writing anything, if it is known from
/// a read: a revoked id of `chain`, a use kept no longer than the guard has
/// purged, or a key kept at `now` at least until `until` (a replay that
/// needs no entry kept longer).
pub(super) fn replay_read(
    sql: &mut dyn Sql,
    keys: &[String],
    chain: &[String],
    until: i64,
    now: i64,
) -> Result<Option<Spend>, StoreError> {
    if let Some(id) = revoked_in(sql, chain)? {
        return Ok(Some(Spend::Revoked(id)));
    }
    let purged_until = sql
        .one(
            "SELECT purged_until FROM sec_replay_state WHERE id = 1",
            &[],
        )?
        .int(0)?;
    if until <= purged_until {
        return Ok(Some(Spend::Replayed));
    }
    if live_keys(sql, keys, now)?.is_some_and(|latest| latest >= until) {
        return Ok(Some(Spend::Replayed));
    }
    Ok(None)
}

/// The latest time any of `keys` is kept until, among entries still kept
/// at `now`; `None` when none is.
pub(super) fn live_keys(
    sql: &mut dyn Sql,
    keys: &[String],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let mut latest = None;
    for key in keys {
        let kept = sql
            .first(
                "SELECT expires_at FROM sec_replay WHERE key = ?1 AND expires_at > ?2",
                args![key, now],
            )?
            .map(|row| row.int(0))
            .transpose()?;
        latest = latest.max(kept);
    }
    Ok(latest)
}
