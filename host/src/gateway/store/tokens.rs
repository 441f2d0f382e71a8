//! Issued tokens and recorded delegations (`sec_capability_tokens`,
//! `sec_delegation_edges`).

use super::*;

impl Store {
    /// Records an issued token, and its audit event, in one transaction.
    ///
    /// # Errors
    ///
    /// `store_error`, e.g. for a `token_id` already stored; the module's
    /// code if it cannot make the audit record. Nothing is stored then.
    pub fn insert_token(&self, row: &TokenRow, event: &AuditEvent) -> Result<(), StoreError> {
        self.write(|tx, auditor| {
            insert_row(tx, row)?;
            let event = event.clone().in_workspace(&row.workspace_id);
            append_audit(tx, auditor, row.created_at, &event)
        })
    }

    /// Records a delegated token the gateway was shown (`row`, whose
    /// `parent_token_id` must be set): the row, in `workspace` or else its
    /// parent's, the parent → child edge at `depth`, and `event`, in one
    /// transaction, unless the parent is not recorded or revoked or the
    /// child is recorded already.
    ///
    /// # Errors
    ///
    /// As [`Store::insert_token`].
    pub fn grant(
        &self,
        row: &TokenRow,
        workspace: Option<&str>,
        depth: i64,
        chain: &[String],
        event: &AuditEvent,
    ) -> Result<Grant, StoreError> {
        self.write(|tx, auditor| {
            // Checked again here, under the writer: a revocation that
            // committed after the chain was verified still wins.
            if let Some(id) = revoked_in(tx, chain)? {
                return Ok(Grant::Revoked(id));
            }
            let parent: Option<(String, Option<i64>)> = tx
                .query_row(
                    "SELECT workspace_id, revoked_at FROM sec_capability_tokens WHERE token_id = ?1",
                    [&row.parent_token_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((parent_workspace, parent_revoked)) = parent else {
                return Ok(Grant::UnknownParent);
            };
            if parent_revoked.is_some() {
                return Ok(Grant::Revoked(row.parent_token_id.clone().unwrap_or_default()));
            }
            if let Some(recorded) = row_of(tx, &row.token_id)? {
                if recorded.token_sha256.is_none() || recorded.token_sha256 != row.token_sha256 {
                    return Ok(Grant::IdConflict);
                }
                let depth = tx
                    .query_row(
                        "SELECT depth FROM sec_delegation_edges WHERE child_token_id = ?1",
                        [&row.token_id],
                        |r| r.get(0),
                    )
                    .optional()?
                    .unwrap_or(depth);
                return Ok(Grant::AlreadyRecorded {
                    row: Box::new(recorded),
                    depth,
                });
            }
            let mut row = row.clone();
            row.workspace_id = workspace.map_or(parent_workspace, str::to_owned);
            insert_row(tx, &row)?;
            tx.execute(
                "INSERT INTO sec_delegation_edges (parent_token_id, child_token_id, depth, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![row.parent_token_id, row.token_id, depth, row.created_at],
            )?;
            let event = event.clone().in_workspace(&row.workspace_id);
            append_audit(tx, auditor, row.created_at, &event)?;
            Ok(Grant::Recorded {
                workspace_id: row.workspace_id,
            })
        })
    }

    /// Records `row`, the token a refresh of `replaces` issued, with its
    /// audit record, in one transaction: in the workspace and under the
    /// grantor of the token it replaces when this store holds that one
    /// (else as `row` says), and only while no id of `chain` is revoked
    /// (a revocation acknowledged before the refresh always wins).
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn insert_refreshed(
        &self,
        row: &TokenRow,
        replaces: &str,
        chain: &[String],
        event: &AuditEvent,
    ) -> Result<Refreshed, StoreError> {
        self.write(|tx, auditor| {
            if let Some(id) = revoked_in(tx, chain)? {
                return Ok(Refreshed::Revoked(id));
            }
            let mut row = row.clone();
            if let Some(old) = row_of(tx, replaces)? {
                row.workspace_id = old.workspace_id;
                row.granted_by = old.granted_by;
            }
            insert_row(tx, &row)?;
            let event = event.clone().in_workspace(&row.workspace_id);
            append_audit(tx, auditor, row.created_at, &event)?;
            Ok(Refreshed::Recorded {
                workspace_id: row.workspace_id,
            })
        })
    }

    /// The tokens issued to `principal`, newest first: only those neither
    /// expired at `now` nor revoked, unless `include_inactive`.
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn tokens_of(
        &self,
        principal: &str,
        workspace: Option<&str>,
        now: i64,
        include_inactive: bool,
        limit: u32,
    ) -> Result<Vec<TokenRow>, StoreError> {
        let conn = lock(&self.reader);
        let mut statement = conn.prepare_cached(
            "SELECT token_id, workspace_id, issued_to_principal_id, granted_by_principal_id,
                    parent_token_id, scopes, valid_until, revoked_at, created_at, token_sha256
             FROM sec_capability_tokens
             WHERE issued_to_principal_id = ?1
               AND (?2 IS NULL OR workspace_id = ?2)
               AND (?4 OR ((valid_until IS NULL OR valid_until > ?3) AND revoked_at IS NULL))
             ORDER BY created_at DESC, token_id
             LIMIT ?5",
        )?;
        let rows = statement.query_map(
            params![principal, workspace, now, include_inactive, limit],
            token_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// A `sec_capability_tokens` row selected with every column, in order.
pub(super) fn token_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    let scopes: String = row.get(5)?;
    Ok(TokenRow {
        token_id: row.get(0)?,
        workspace_id: row.get(1)?,
        issued_to: row.get(2)?,
        granted_by: row.get(3)?,
        parent_token_id: row.get(4)?,
        // The column is CHECKed to be valid json.
        scopes: serde_json::from_str(&scopes).unwrap_or(Value::String(scopes)),
        valid_until: row.get(6)?,
        revoked_at: row.get(7)?,
        created_at: row.get(8)?,
        token_sha256: row.get(9)?,
    })
}

/// The row recorded under `token_id`, read inside `tx`.
pub(super) fn row_of(tx: &Connection, token_id: &str) -> Result<Option<TokenRow>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT token_id, workspace_id, issued_to_principal_id, granted_by_principal_id,
                    parent_token_id, scopes, valid_until, revoked_at, created_at, token_sha256
             FROM sec_capability_tokens WHERE token_id = ?1",
            [token_id],
            token_row,
        )
        .optional()?)
}

pub(super) fn insert_row(tx: &Connection, row: &TokenRow) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO sec_capability_tokens (token_id, workspace_id, issued_to_principal_id,
             granted_by_principal_id, parent_token_id, scopes, valid_until, revoked_at, created_at,
             token_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            row.token_id,
            row.workspace_id,
            row.issued_to,
            row.granted_by,
            row.parent_token_id,
            row.scopes.to_string(),
            row.valid_until,
            row.revoked_at,
            row.created_at,
            row.token_sha256
        ],
    )?;
    Ok(())
}
