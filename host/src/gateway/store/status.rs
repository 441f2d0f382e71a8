//! Places in the status lists (`sec_status_state`, the `status_idx` of
//! `sec_capability_tokens`): handed out in blocks, and the revoked places
//! a status list publishes.

use super::*;

impl Store {
    /// Reserves `count` places no gateway has been handed, and returns the
    /// first: `next_idx` moves on by `count` in one write, serialized with
    /// every other gateway's, so a place is handed out once ever. Places a
    /// gateway reserved and never used (it stopped) stay unused.
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn reserve_status(&self, count: i64) -> Result<i64, StoreError> {
        self.write(|sql, _| {
            sql.execute(
                "UPDATE sec_status_state SET next_idx = next_idx + ?1 WHERE id = 1",
                args![count],
            )?;
            let next = sql
                .one("SELECT next_idx FROM sec_status_state WHERE id = 1", &[])?
                .int(0)?;
            Ok(next.saturating_sub(count))
        })
    }

    /// The first place no gateway has been handed yet: the lists below it
    /// exist.
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn status_next(&self) -> Result<i64, StoreError> {
        self.read(false, |sql| {
            sql.one("SELECT next_idx FROM sec_status_state WHERE id = 1", &[])?
                .int(0)
        })
    }

    /// What the status list of places `from..to` publishes: the revocation
    /// list's `seq` (the same counter: every revocation raises it) and the
    /// revoked places in the range, ascending, read in one snapshot.
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn status_revoked(&self, from: i64, to: i64) -> Result<StatusSnapshot, StoreError> {
        self.read(true, |sql| {
            let seq = list_seq(sql)?;
            // Only the token a revocation names is marked by its own
            // place; its descendants carry its place and fall with it.
            let revoked = sql
                .query(
                    "SELECT status_idx FROM sec_capability_tokens
                     WHERE status_idx >= ?1 AND status_idx < ?2 AND revoked_at IS NOT NULL
                     ORDER BY status_idx",
                    args![from, to],
                )?
                .iter()
                .map(|row| row.int(0))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(StatusSnapshot { seq, revoked })
        })
    }
}
