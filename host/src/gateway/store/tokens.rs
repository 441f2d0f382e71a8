//! Issued tokens and recorded delegations (`sec_capability_tokens`,
//! `sec_delegation_edges`).

use super::sql::Row;
use super::*;

impl Store {
    /// Records an issued token, and its audit event, in one transaction.
    ///
    /// # Errors
    ///
    /// `store_error`, e.g. for a `token_id` already stored; the module's
    /// code if it cannot make the audit record. Nothing is stored then.
    pub fn insert_token(&self, row: &TokenRow, event: &AuditEvent) -> Result<(), StoreError> {
        self.write(|sql, auditor| {
            insert_row(sql, row)?;
            let event = event.clone().in_workspace(&row.workspace_id);
            append_audit(sql, auditor, row.created_at, &event)
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
        self.write(|sql, auditor| {
            // Checked again here, under the writer: a revocation that
            // committed after the chain was verified still wins.
            if let Some(id) = revoked_in(sql, chain)? {
                return Ok(Grant::Revoked(id));
            }
            let parent = sql.first(
                "SELECT workspace_id, revoked_at FROM sec_capability_tokens WHERE token_id = ?1",
                args![&row.parent_token_id],
            )?;
            let Some(parent) = parent else {
                return Ok(Grant::UnknownParent);
            };
            let (parent_workspace, parent_revoked) = (parent.text(0)?, parent.opt_int(1)?);
            if parent_revoked.is_some() {
                return Ok(Grant::Revoked(row.parent_token_id.clone().unwrap_or_default()));
            }
            if let Some(recorded) = row_of(sql, &row.token_id)? {
                if recorded.token_sha256.is_none() || recorded.token_sha256 != row.token_sha256 {
                    return Ok(Grant::IdConflict);
                }
                let depth = sql
                    .first(
                        "SELECT depth FROM sec_delegation_edges WHERE child_token_id = ?1",
                        args![&row.token_id],
                    )?
                    .map(|r| r.int(0))
                    .transpose()?
                    .unwrap_or(depth);
                return Ok(Grant::AlreadyRecorded {
                    row: Box::new(recorded),
                    depth,
                });
            }
            let mut row = row.clone();
            row.workspace_id = workspace.map_or(parent_workspace, str::to_owned);
            insert_row(sql, &row)?;
            sql.execute(
                "INSERT INTO sec_delegation_edges (parent_token_id, child_token_id, depth, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                args![&row.parent_token_id, &row.token_id, depth, row.created_at],
            )?;
            let event = event.clone().in_workspace(&row.workspace_id);
            append_audit(sql, auditor, row.created_at, &event)?;
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
        self.write(|sql, auditor| {
            if let Some(id) = revoked_in(sql, chain)? {
                return Ok(Refreshed::Revoked(id));
            }
            let mut row = row.clone();
            if let Some(old) = row_of(sql, replaces)? {
                if old.parent_token_id.is_some() {
                    let depth = depth_of(sql, replaces)?;
                    return Ok(Refreshed::NotRoot { depth });
                }
                row.workspace_id = old.workspace_id;
                row.granted_by = old.granted_by;
            }
            insert_row(sql, &row)?;
            let event = event.clone().in_workspace(&row.workspace_id);
            append_audit(sql, auditor, row.created_at, &event)?;
            Ok(Refreshed::Recorded {
                workspace_id: row.workspace_id,
            })
        })
    }

    /// The recorded token `id`, its depth and the ids from its root down
    /// to it; `None` when no token is recorded under `id`. Read in one
    /// snapshot.
    ///
    /// # Errors
    ///
    /// `store_error`, also for a chain of parents longer than any depth
    /// limit (a corrupted store, never followed further).
    pub fn lineage(&self, id: &str) -> Result<Option<Lineage>, StoreError> {
        self.read(true, |sql| {
            let Some(row) = row_of(sql, id)? else {
                return Ok(None);
            };
            let depth = depth_of(sql, id)?;
            let mut ids = vec![row.token_id.clone()];
            let mut parent = row.parent_token_id.clone();
            while let Some(up) = parent {
                if ids.len() > 16 {
                    return Err(StoreError::Column(format!(
                        "the parents of `{id}` go more than 16 deep"
                    )));
                }
                let above = row_of(sql, &up)?.ok_or_else(|| {
                    StoreError::Column(format!("`{up}`, a parent, is not recorded"))
                })?;
                ids.push(above.token_id.clone());
                parent = above.parent_token_id;
            }
            ids.reverse();
            Ok(Some(Lineage { row, depth, ids }))
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
        let rows = self.read(false, |sql| {
            sql.query(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM sec_capability_tokens
                     WHERE issued_to_principal_id = ?1
                       AND (CAST(?2 AS TEXT) IS NULL OR workspace_id = ?2)
                       AND (?4 OR ((valid_until IS NULL OR valid_until > ?3) AND revoked_at IS NULL))
                     ORDER BY created_at DESC, token_id
                     LIMIT ?5"
                ),
                args![principal, workspace, now, include_inactive, limit],
            )
        })?;
        rows.iter().map(token_row).collect()
    }
}

/// Every column of `sec_capability_tokens`, in the order [`token_row`] reads.
const TOKEN_COLUMNS: &str = "token_id, workspace_id, issued_to_principal_id, \
    granted_by_principal_id, parent_token_id, scopes, valid_until, revoked_at, created_at, \
    token_sha256, status_idx";

/// A `sec_capability_tokens` row selected with [`TOKEN_COLUMNS`].
pub(super) fn token_row(row: &Row) -> Result<TokenRow, StoreError> {
    let scopes = row.text(5)?;
    Ok(TokenRow {
        token_id: row.text(0)?,
        workspace_id: row.text(1)?,
        issued_to: row.text(2)?,
        granted_by: row.text(3)?,
        parent_token_id: row.opt_text(4)?,
        // The column is CHECKed to be valid json.
        scopes: serde_json::from_str(&scopes).unwrap_or(Value::String(scopes)),
        valid_until: row.opt_int(6)?,
        revoked_at: row.opt_int(7)?,
        created_at: row.int(8)?,
        token_sha256: row.opt_text(9)?,
        status_idx: row.opt_int(10)?,
    })
}

/// The depth recorded for `token_id` (0 for a root, or a token recorded
/// without an edge), read inside `sql`'s transaction.
pub(super) fn depth_of(sql: &mut dyn Sql, token_id: &str) -> Result<i64, StoreError> {
    sql.first(
        "SELECT depth FROM sec_delegation_edges WHERE child_token_id = ?1",
        args![token_id],
    )?
    .map_or(Ok(0), |row| row.int(0))
}

/// The row recorded under `token_id`, read inside `sql`'s transaction.
pub(super) fn row_of(sql: &mut dyn Sql, token_id: &str) -> Result<Option<TokenRow>, StoreError> {
    sql.first(
        &format!("SELECT {TOKEN_COLUMNS} FROM sec_capability_tokens WHERE token_id = ?1"),
        args![token_id],
    )?
    .as_ref()
    .map(token_row)
    .transpose()
}

pub(super) fn insert_row(sql: &mut dyn Sql, row: &TokenRow) -> Result<(), StoreError> {
    let scopes = row.scopes.to_string();
    sql.execute(
        &format!(
            "INSERT INTO sec_capability_tokens ({TOKEN_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        args![
            &row.token_id,
            &row.workspace_id,
            &row.issued_to,
            &row.granted_by,
            &row.parent_token_id,
            &scopes,
            row.valid_until,
            row.revoked_at,
            row.created_at,
            &row.token_sha256,
            row.status_idx
        ],
    )?;
    Ok(())
}
