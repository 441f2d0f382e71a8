//! Revocations (`sec_revocations`): by id, down the delegation edges, and
//! the snapshot a signed revocation list is made from.

use super::sql::Dialect;
use super::*;

impl Store {
    /// Revokes the token `id` names: lists its id in `sec_revocations`
    /// (which every verify consults for every id of a chain), marks its row
    /// and its recorded descendants' rows revoked, bumps the revocation
    /// list's `seq`, and appends `event` (`token_revoked`, or
    /// `agent.capability.revoked`) with `{id, reason}`. Durable when this
    /// returns.
    ///
    /// `id` is what verify reports (docs/FORMAT.md "Delegation"): a
    /// recorded token's id; a bare `jti` that exactly one recorded
    /// delegated token ends in (revoking that token, never a namesake
    /// elsewhere); or a delegated token's id below a recorded root (a child
    /// its holder minted and never recorded). Anything else is refused, not
    /// listed silently where it would revoke nothing.
    ///
    /// # Errors
    ///
    /// `unknown_token` when `id` names no recorded token; `ambiguous_id`
    /// with the candidates when a bare `jti` names several; `store_error`,
    /// or the module's code if it cannot make the audit record. Nothing is
    /// revoked then.
    pub fn revoke(
        &self,
        id: &str,
        by: &str,
        reason: Option<&str>,
        now: i64,
        event: &str,
    ) -> Result<Revocation, StoreError> {
        let reason = reason.unwrap_or(DEFAULT_REASON);
        self.write(|sql, auditor| {
            let (jti, known_token) = resolve_id(sql, id)?;
            let jti = jti.as_str();
            let inserted = sql.execute(
                "INSERT INTO sec_revocations (jti, revoked_at, revoked_by_principal_id, reason)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (jti) DO NOTHING",
                args![jti, now, by, reason],
            )?;
            let revoked_at = sql
                .one(
                    "SELECT revoked_at FROM sec_revocations WHERE jti = ?1",
                    args![jti],
                )?
                .int(0)?;
            let rows_marked = sql.execute(
                // Seeded from the row itself (its column's collation, in
                // PostgreSQL): a revoked id no row has has no descendants
                // either, since a child's parent must be recorded.
                "WITH RECURSIVE family (id) AS (
                     SELECT token_id FROM sec_capability_tokens WHERE token_id = ?1
                     UNION SELECT t.token_id FROM sec_capability_tokens t JOIN family f ON t.parent_token_id = f.id
                 )
                 UPDATE sec_capability_tokens SET revoked_at = ?2
                 WHERE token_id IN (SELECT id FROM family) AND revoked_at IS NULL",
                args![jti, revoked_at],
            )?;
            // Descendants the gateway signed itself (server-side grants:
            // ids without a `.`) carry no chain naming their ancestors, so
            // verify, and the id list, must name them: listed here too. A
            // holder-minted child's id names its ancestors already.
            let descendants = sql.execute(
                "WITH RECURSIVE family (id) AS (
                     SELECT token_id FROM sec_capability_tokens WHERE token_id = ?1
                     UNION SELECT t.token_id FROM sec_capability_tokens t JOIN family f ON t.parent_token_id = f.id
                 )
                 INSERT INTO sec_revocations (jti, revoked_at, revoked_by_principal_id, reason)
                 SELECT id, CAST(?2 AS BIGINT), CAST(?3 AS TEXT), CAST(?4 AS TEXT)
                 FROM family WHERE id <> ?1 AND id NOT LIKE '%.%'
                 ON CONFLICT (jti) DO NOTHING",
                args![jti, revoked_at, by, reason],
            )?;
            if inserted + descendants > 0 {
                sql.execute(
                    "UPDATE sec_revocation_list_state SET seq = seq + 1 WHERE id = 1",
                    &[],
                )?;
            }
            if inserted > 0 {
                // The shape of the core's `audit::data::token_revoked`.
                let data = serde_json::json!({ "id": jti, "reason": reason });
                // In the revoked token's workspace, when it is one recorded.
                let workspace = sql
                    .first(
                        "SELECT workspace_id FROM sec_capability_tokens WHERE token_id = ?1",
                        args![jti],
                    )?
                    .map(|row| row.text(0))
                    .transpose()?;
                let mut event = AuditEvent::new(event, data);
                if let Some(workspace) = workspace {
                    event = event.in_workspace(&workspace);
                }
                append_audit(sql, auditor, now, &event)?;
            }
            Ok(Revocation {
                id: jti.to_owned(),
                revoked_at,
                already_revoked: inserted == 0,
                known_token,
                rows_marked,
            })
        })
    }

    /// The signed revocation list's `seq` alone (a cheap freshness check).
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn revocation_seq(&self) -> Result<i64, StoreError> {
        self.read(false, list_seq)
    }

    /// What the signed revocation list publishes: its `seq` (raised by
    /// every new revocation, never lowered) and the revoked ids, leaving
    /// out those of tokens this gateway issued that expired more than
    /// `grace` seconds before `now` (a verifier refuses them as expired
    /// anyway, and the list stays bounded), and those of tokens with a
    /// place in a status list (their bit there says it, for them and
    /// every child delegated from them; a child's own id stays listed).
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn revocation_list(&self, now: i64, grace: i64) -> Result<RevocationSnapshot, StoreError> {
        // One snapshot for both reads, so `seq` matches the entries.
        self.read(true, |sql| {
            let seq = list_seq(sql)?;
            // A delegated id (`root.child…`) expires no later than its
            // root, so the root's row bounds it too, recorded or not.
            let query = match sql.dialect() {
                Dialect::Sqlite => {
                    "SELECT r.jti, r.revoked_at, r.reason FROM sec_revocations r
                     LEFT JOIN sec_capability_tokens t ON t.token_id =
                         CASE WHEN instr(r.jti, '.') > 0 THEN substr(r.jti, 1, instr(r.jti, '.') - 1)
                              ELSE r.jti END
                     WHERE (t.valid_until IS NULL OR t.valid_until > ?1)
                       AND NOT (t.token_id = r.jti AND t.status_idx IS NOT NULL)
                     ORDER BY r.jti"
                }
                Dialect::Postgres => {
                    "SELECT r.jti, r.revoked_at, r.reason FROM sec_revocations r
                     LEFT JOIN sec_capability_tokens t ON t.token_id = split_part(r.jti, '.', 1)
                     WHERE (t.valid_until IS NULL OR t.valid_until > ?1)
                       AND NOT (t.token_id = r.jti AND t.status_idx IS NOT NULL)
                     ORDER BY r.jti"
                }
            };
            let entries = sql
                .query(query, args![now.saturating_sub(grace)])?
                .iter()
                .map(|row| {
                    Ok(RevokedId {
                        id: row.text(0)?,
                        revoked_at: row.int(1)?,
                        reason: row.opt_text(2)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(RevocationSnapshot { seq, entries })
        })
    }

    /// The first of `jtis` that is revoked, if any.
    ///
    /// # Errors
    ///
    /// `store_error`: the caller must then refuse the token, not accept it.
    pub fn first_revoked<'a>(&self, jtis: &[&'a str]) -> Result<Option<&'a str>, StoreError> {
        self.read(false, |sql| {
            for jti in jtis {
                if sql.exists("SELECT 1 FROM sec_revocations WHERE jti = ?1", args![*jti])? {
                    return Ok(Some(*jti));
                }
            }
            Ok(None)
        })
    }
}

/// The revocation `seq`, read inside `sql`'s transaction.
pub(super) fn list_seq(sql: &mut dyn Sql) -> Result<i64, StoreError> {
    sql.one(
        "SELECT seq FROM sec_revocation_list_state WHERE id = 1",
        &[],
    )?
    .int(0)
}

/// The id a revocation of `id` revokes, and whether it is a recorded
/// token's (see [`Store::revoke`]).
pub(super) fn resolve_id(sql: &mut dyn Sql, id: &str) -> Result<(String, bool), StoreError> {
    let mut recorded = |token_id: &str| -> Result<bool, StoreError> {
        sql.exists(
            "SELECT 1 FROM sec_capability_tokens WHERE token_id = ?1",
            args![token_id],
        )
    };
    if recorded(id)? {
        return Ok((id.to_owned(), true));
    }
    match id.split_once('.') {
        // A delegated token's id: revocable when its root is ours.
        Some((root, _)) if recorded(root)? => Ok((id.to_owned(), false)),
        Some(_) => Err(StoreError::UnknownToken(id.to_owned())),
        // A bare `jti`: the recorded delegated tokens whose id ends in it.
        None => {
            let suffix = format!(".{id}");
            let length = i64::try_from(suffix.len()).unwrap_or(i64::MAX);
            let candidates = sql
                .query(
                    "SELECT token_id FROM sec_capability_tokens
                     WHERE parent_token_id IS NOT NULL AND length(token_id) > ?2
                       AND substr(token_id, CAST(length(token_id) - ?2 + 1 AS INTEGER)) = ?1
                     ORDER BY token_id LIMIT 11",
                    args![&suffix, length],
                )?
                .iter()
                .map(|row| row.text(0))
                .collect::<Result<Vec<_>, _>>()?;
            match candidates.as_slice() {
                [] => Err(StoreError::UnknownToken(id.to_owned())),
                [one] => Ok((one.clone(), true)),
                _ => Err(StoreError::AmbiguousId {
                    id: id.to_owned(),
                    candidates,
                }),
            }
        }
    }
}

/// The first of `ids` listed in `sec_revocations`, read inside `sql`'s
/// transaction.
pub(super) fn revoked_in(sql: &mut dyn Sql, ids: &[String]) -> Result<Option<String>, StoreError> {
    for id in ids {
        if sql.exists("SELECT 1 FROM sec_revocations WHERE jti = ?1", args![id])? {
            return Ok(Some(id.clone()));
        }
    }
    Ok(None)
}
