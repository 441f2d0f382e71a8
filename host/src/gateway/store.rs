//! The gateway's SQLite store: issued tokens, delegation edges, revocations
//! and the audit log, with versioned migrations.
//!
//! Durability: WAL journal with `synchronous = FULL`, so a transaction is on
//! disk (the WAL fsynced) when `COMMIT` returns; the API acknowledges a
//! revocation only after that. Times are integer seconds since the Unix
//! epoch, the same `now` the module is given.
//!
//! Two connections: one writer, one reader. WAL lets the reader (the
//! revocation look-up on every verify) proceed while the writer waits on an
//! fsync. Both are used from blocking threads only.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use serde_json::Value;

use super::audit::{AuditEvent, Auditor};
use crate::HostError;

/// A store failure; the API reports it as 500 `store_error` or, at
/// start-up, refuses to run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A revocation named no token this store recorded.
    #[error("no token recorded here has the id `{0}`")]
    UnknownToken(String),
    /// A revocation named a bare `jti` that several recorded tokens end in.
    #[error("`{id}` is the jti of {} recorded tokens; revoke one by its id", .candidates.len())]
    AmbiguousId {
        /// The `jti` given.
        id: String,
        /// The ids of the recorded tokens with that `jti`.
        candidates: Vec<String>,
    },
    /// The database file could not be created or made private.
    #[error("`{path}`: {reason}")]
    File {
        /// The file.
        path: String,
        /// The system's explanation.
        reason: String,
    },
    /// The database was migrated by a newer gateway than this one.
    #[error("the database is at schema version {found}; this gateway knows up to {known}")]
    TooNew {
        /// The database's `user_version`.
        found: i64,
        /// The newest schema this build can migrate to.
        known: i64,
    },
    /// The module could not make an audit record: the change it would have
    /// recorded is not made either.
    #[error("audit log: {0}")]
    Audit(HostError),
    /// The database would not switch to write-ahead logging.
    #[error("the database journal mode is `{mode}`, not `wal`")]
    NoWal {
        /// What SQLite reported.
        mode: String,
    },
}

impl StoreError {
    /// The stable code of this error.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Self::Sqlite(_) | Self::File { .. } => "store_error",
            Self::Audit(err) => err.code(),
            Self::UnknownToken(_) => "unknown_token",
            Self::AmbiguousId { .. } => "ambiguous_id",
            Self::TooNew { .. } => "store_too_new",
            Self::NoWal { .. } => "store_no_wal",
        }
    }
}

/// The schema, one migration per version: migration `i` takes the database
/// from `user_version` `i` to `i + 1`. Released migrations never change;
/// a change of schema is a new entry.
const MIGRATIONS: &[&str] = &[
    // 1: the TASK-103 tables, the revocation list and the audit log.
    r"
    CREATE TABLE sec_capability_tokens (
        token_id                TEXT PRIMARY KEY,     -- the token's jti
        workspace_id            TEXT NOT NULL,
        issued_to_principal_id  TEXT NOT NULL,        -- the token's sub
        granted_by_principal_id TEXT NOT NULL,        -- who asked for it
        parent_token_id         TEXT NULL REFERENCES sec_capability_tokens (token_id),
        scopes                  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(scopes)),
        valid_until             INTEGER NULL,         -- exp
        revoked_at              INTEGER NULL,
        created_at              INTEGER NOT NULL      -- iat
    ) STRICT;
    CREATE INDEX sec_capability_tokens_by_principal
        ON sec_capability_tokens (issued_to_principal_id, valid_until);
    CREATE INDEX sec_capability_tokens_by_workspace_principal
        ON sec_capability_tokens (workspace_id, issued_to_principal_id, valid_until);
    CREATE INDEX sec_capability_tokens_by_parent
        ON sec_capability_tokens (parent_token_id);

    CREATE TABLE sec_delegation_edges (
        parent_token_id TEXT NOT NULL,
        child_token_id  TEXT NOT NULL,
        depth           INTEGER NOT NULL CHECK (depth >= 1),
        created_at      INTEGER NOT NULL,
        PRIMARY KEY (parent_token_id, child_token_id)
    ) STRICT;
    CREATE INDEX sec_delegation_edges_by_child ON sec_delegation_edges (child_token_id);

    -- Keyed by jti alone, as the module's revocation check is: a jti
    -- listed here refuses every chain it appears in.
    CREATE TABLE sec_revocations (
        jti                     TEXT PRIMARY KEY,
        revoked_at              INTEGER NOT NULL,
        revoked_by_principal_id TEXT NOT NULL,
        reason                  TEXT NULL
    ) STRICT;

    -- The audit hash chain: each record's `hash` covers its content and
    -- `prev_hash`, as the module's `audit` chain defines it. Append-only.
    CREATE TABLE audit_events (
        seq        INTEGER PRIMARY KEY,
        prev_hash  TEXT NOT NULL,
        hash       TEXT NOT NULL UNIQUE,
        event      TEXT NOT NULL,
        record     TEXT NOT NULL CHECK (json_valid(record)),
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
    CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
    ",
    // 2: the signed revocation list's sequence number, raised by every new
    // revocation (a verifier refuses a list older than one it has seen).
    r"
    CREATE TABLE sec_revocation_list_state (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL CHECK (seq >= 0)
    ) STRICT;
    INSERT INTO sec_revocation_list_state (id, seq) SELECT 1, count(*) FROM sec_revocations;
    ",
    // 3: the replay guard: single-use token ids and proof-of-possession
    // keys seen, each kept until no verifier could accept it again.
    r"
    CREATE TABLE sec_replay (
        key        TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX sec_replay_by_expiry ON sec_replay (expires_at);
    ",
    // 4: the SHA-256 of the token text each row was recorded from, so the
    // same id presented again with another token is a conflict, never
    // "already recorded". Rows recorded before have none.
    r"
    ALTER TABLE sec_capability_tokens ADD COLUMN token_sha256 TEXT NULL;
    ",
    // 5: how far the replay guard has been purged: entries kept until then
    // are gone, so a use kept no longer than that (after the clock stepped
    // back) can no longer be told from a replay and is refused.
    r"
    CREATE TABLE sec_replay_state (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        purged_until INTEGER NOT NULL
    ) STRICT;
    INSERT INTO sec_replay_state (id, purged_until) VALUES (1, 0);
    ",
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// One row of `sec_capability_tokens`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    /// The token's `jti`.
    pub token_id: String,
    /// The workspace the token was issued in.
    pub workspace_id: String,
    /// The principal the token was issued to (its `sub`).
    pub issued_to: String,
    /// The principal that asked for it.
    pub granted_by: String,
    /// The token it was delegated from, if any.
    pub parent_token_id: Option<String>,
    /// What it grants: an open JSON object (`caps`, `aud`, …).
    pub scopes: Value,
    /// Its `exp`.
    pub valid_until: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// Its `iat`.
    pub created_at: i64,
    /// The lowercase hex SHA-256 of the token text it was recorded from
    /// (a delegated token's whole chain), if known.
    pub token_sha256: Option<String>,
}

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The id revoked: the one given, or the one recorded token a bare
    /// `jti` named.
    pub id: String,
    /// When the `jti` was (first) revoked.
    pub revoked_at: i64,
    /// Whether it was revoked already; the first time and reason stand.
    pub already_revoked: bool,
    /// Whether the id is a recorded token's (otherwise: a delegated token
    /// minted below a recorded one and never recorded itself).
    pub known_token: bool,
    /// Rows of `sec_capability_tokens` newly marked revoked: the token and
    /// its recorded descendants.
    pub rows_marked: usize,
}

/// What [`Store::grant`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Grant {
    /// Recorded, with its audit record.
    Recorded {
        /// The workspace it was recorded in.
        workspace_id: String,
    },
    /// The same token was recorded before; nothing changed.
    AlreadyRecorded {
        /// The row as recorded then.
        row: Box<TokenRow>,
        /// Its depth below its root.
        depth: i64,
    },
    /// Another token was recorded under this id (or one recorded before
    /// tokens' digests were kept, which cannot be told apart); nothing
    /// changed.
    IdConflict,
    /// The parent is not a token this store holds.
    UnknownParent,
    /// This id of the chain (the parent, an ancestor, or the child itself)
    /// is revoked.
    Revoked(String),
}

/// What [`Store::spend`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spend {
    /// None of the keys was seen before: all are recorded now.
    Fresh,
    /// A key was seen before: a replay.
    Replayed,
    /// This id of the chain is revoked.
    Revoked(String),
}

/// The reason recorded for a revocation that gave none.
pub const DEFAULT_REASON: &str = "unspecified";

/// One entry of the revocation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedId {
    /// The revoked token id.
    pub id: String,
    /// When it was revoked.
    pub revoked_at: i64,
    /// Why, if anyone said.
    pub reason: Option<String>,
}

/// The revocation list's content at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationSnapshot {
    /// Raised by every new revocation, never lowered.
    pub seq: i64,
    /// The revoked ids, sorted.
    pub entries: Vec<RevokedId>,
}

/// The open database.
pub struct Store {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    auditor: Auditor,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store(..)")
    }
}

fn lock(connection: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic elsewhere cannot leave a connection mid-transaction: rusqlite
    // rolls back an unfinished `Transaction` when it is dropped.
    connection.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it to
    /// [`SCHEMA_VERSION`].
    ///
    /// # Errors
    ///
    /// `store_error` if SQLite cannot open or migrate it, `store_too_new`
    /// if a newer gateway migrated it, `store_no_wal` if it cannot use WAL.
    pub fn open(path: &Path, auditor: Auditor) -> Result<Self, StoreError> {
        private_files(path)?;
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal { mode });
        }
        migrate(&mut writer)?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&reader)?;
        Ok(Self {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            auditor,
        })
    }

    /// The schema version of the open database.
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(lock(&self.reader).query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }

    /// Whether the database answers at all.
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn ping(&self) -> Result<(), StoreError> {
        lock(&self.reader).query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    /// Records an issued token, and its audit event, in one transaction.
    ///
    /// # Errors
    ///
    /// `store_error`, e.g. for a `token_id` already stored; the module's
    /// code if it cannot make the audit record. Nothing is stored then.
    pub fn insert_token(&self, row: &TokenRow, event: &AuditEvent) -> Result<(), StoreError> {
        self.write(|tx, auditor| {
            insert_row(tx, row)?;
            append_audit(tx, auditor, row.created_at, event)
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
            append_audit(tx, auditor, row.created_at, event)?;
            Ok(Grant::Recorded {
                workspace_id: row.workspace_id,
            })
        })
    }

    /// Appends an event that changes nothing else (a refused delegation).
    ///
    /// # Errors
    ///
    /// `store_error`, or the module's code.
    pub fn record_event(&self, time: i64, event: &AuditEvent) -> Result<(), StoreError> {
        self.write(|tx, auditor| append_audit(tx, auditor, time, event))
    }

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
        self.write(|tx, auditor| {
            let (jti, known_token) = resolve_id(tx, id)?;
            let jti = jti.as_str();
            let inserted = tx.execute(
                "INSERT INTO sec_revocations (jti, revoked_at, revoked_by_principal_id, reason)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (jti) DO NOTHING",
                params![jti, now, by, reason],
            )?;
            let revoked_at: i64 = tx.query_row(
                "SELECT revoked_at FROM sec_revocations WHERE jti = ?1",
                [jti],
                |row| row.get(0),
            )?;
            let rows_marked = tx.execute(
                "WITH RECURSIVE family (id) AS (
                     SELECT ?1
                     UNION SELECT t.token_id FROM sec_capability_tokens t JOIN family f ON t.parent_token_id = f.id
                 )
                 UPDATE sec_capability_tokens SET revoked_at = ?2
                 WHERE token_id IN family AND revoked_at IS NULL",
                params![jti, revoked_at],
            )?;
            if inserted > 0 {
                tx.execute(
                    "UPDATE sec_revocation_list_state SET seq = seq + 1 WHERE id = 1",
                    [],
                )?;
                // The shape of the core's `audit::data::token_revoked`.
                let data = serde_json::json!({ "id": jti, "reason": reason });
                append_audit(tx, auditor, now, &AuditEvent::new(event, data))?;
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
        {
            let mut conn = lock(&self.reader);
            let tx = conn.transaction()?;
            if let Some(outcome) = replay_read(&tx, keys, chain, until, now)? {
                return Ok(outcome);
            }
        }
        self.write(|tx, _| {
            if let Some(outcome) = replay_read(tx, keys, chain, until, now)? {
                return Ok(outcome);
            }
            let seen = live_keys(tx, keys, now)?.is_some();
            for key in keys {
                // An entry past its time is a new use; a copy with a later
                // expiry must not outlive the entry.
                tx.execute(
                    "INSERT INTO sec_replay (key, expires_at) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
                    params![key, until],
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
        self.write(|tx, _| {
            let oldest = "SELECT key, expires_at FROM sec_replay WHERE expires_at <= ?1
                          ORDER BY expires_at LIMIT ?2";
            let latest: Option<i64> = tx.query_row(
                &format!("SELECT max(expires_at) FROM ({oldest})"),
                params![now, batch],
                |row| row.get(0),
            )?;
            let Some(latest) = latest else {
                return Ok(0);
            };
            let dropped = tx.execute(
                &format!("DELETE FROM sec_replay WHERE key IN (SELECT key FROM ({oldest}))"),
                params![now, batch],
            )?;
            tx.execute(
                "UPDATE sec_replay_state SET purged_until = max(purged_until, ?1) WHERE id = 1",
                [latest],
            )?;
            Ok(dropped)
        })
    }

    /// The signed revocation list's `seq` alone (a cheap freshness check).
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn revocation_seq(&self) -> Result<i64, StoreError> {
        Ok(lock(&self.reader).query_row(
            "SELECT seq FROM sec_revocation_list_state WHERE id = 1",
            [],
            |row| row.get(0),
        )?)
    }

    /// What the signed revocation list publishes: its `seq` (raised by
    /// every new revocation, never lowered) and the revoked ids, leaving
    /// out those of tokens this gateway issued that expired more than
    /// `grace` seconds before `now` (a verifier refuses them as expired
    /// anyway, and the list stays bounded).
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn revocation_list(&self, now: i64, grace: i64) -> Result<RevocationSnapshot, StoreError> {
        let mut conn = lock(&self.reader);
        // One snapshot for both reads, so `seq` matches the entries.
        let tx = conn.transaction()?;
        let seq: i64 = tx.query_row(
            "SELECT seq FROM sec_revocation_list_state WHERE id = 1",
            [],
            |row| row.get(0),
        )?;
        let entries = {
            let mut statement = tx.prepare_cached(
                // A delegated id (`root.child…`) expires no later than its
                // root, so the root's row bounds it too, recorded or not.
                "SELECT r.jti, r.revoked_at, r.reason FROM sec_revocations r
                 LEFT JOIN sec_capability_tokens t ON t.token_id =
                     CASE WHEN instr(r.jti, '.') > 0 THEN substr(r.jti, 1, instr(r.jti, '.') - 1)
                          ELSE r.jti END
                 WHERE t.valid_until IS NULL OR t.valid_until > ?1
                 ORDER BY r.jti",
            )?;
            let rows = statement.query_map([now.saturating_sub(grace)], |row| {
                Ok(RevokedId {
                    id: row.get(0)?,
                    revoked_at: row.get(1)?,
                    reason: row.get(2)?,
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        tx.commit()?;
        Ok(RevocationSnapshot { seq, entries })
    }

    /// Runs `work` in one write transaction, taken with `BEGIN IMMEDIATE`
    /// so that the last audit record it reads is still the last when it
    /// appends, even with another process (`captoken revoke --db`) writing
    /// the same file. Commits only if `work` succeeds.
    fn write<T>(
        &self,
        work: impl FnOnce(&Transaction<'_>, &Auditor) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&tx, &self.auditor)?;
        tx.commit()?;
        Ok(value)
    }

    /// The first of `jtis` that is revoked, if any.
    ///
    /// # Errors
    ///
    /// `store_error`: the caller must then refuse the token, not accept it.
    pub fn first_revoked<'a>(&self, jtis: &[&'a str]) -> Result<Option<&'a str>, StoreError> {
        let conn = lock(&self.reader);
        let mut statement = conn.prepare_cached("SELECT 1 FROM sec_revocations WHERE jti = ?1")?;
        for jti in jtis {
            if statement.exists([jti])? {
                return Ok(Some(jti));
            }
        }
        Ok(None)
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

/// The id a revocation of `id` revokes, and whether it is a recorded
/// token's (see [`Store::revoke`]).
fn resolve_id(tx: &Transaction<'_>, id: &str) -> Result<(String, bool), StoreError> {
    let recorded = |token_id: &str| -> Result<bool, StoreError> {
        Ok(tx
            .query_row(
                "SELECT 1 FROM sec_capability_tokens WHERE token_id = ?1",
                [token_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
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
            let mut statement = tx.prepare_cached(
                "SELECT token_id FROM sec_capability_tokens
                 WHERE parent_token_id IS NOT NULL AND substr(token_id, -?2) = ?1
                 ORDER BY token_id LIMIT 11",
            )?;
            let candidates = statement
                .query_map(
                    params![suffix, i64::try_from(suffix.len()).unwrap_or(i64::MAX)],
                    |row| row.get::<_, String>(0),
                )?
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

/// A `sec_capability_tokens` row selected with every column, in order.
fn token_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
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
fn row_of(tx: &Transaction<'_>, token_id: &str) -> Result<Option<TokenRow>, StoreError> {
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

/// The store holds principals, scopes and the audit log: its file is
/// created 0600 before SQLite opens it (SQLite gives its `-wal` and `-shm`
/// files the database's mode), and an existing one readable or writable by
/// others is made 0600, with its `-wal` and `-shm`.
fn private_files(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let failed = |file: &Path, err: std::io::Error| StoreError::File {
            path: file.display().to_string(),
            reason: err.to_string(),
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(failed(path, err)),
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = Path::new(&name);
            let Ok(meta) = std::fs::symlink_metadata(file) else {
                continue;
            };
            if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                    .map_err(|err| failed(file, err))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// What a spend's answer is without writing anything, if it is known from
/// a read: a revoked id of `chain`, a use kept no longer than the guard has
/// purged, or a key kept at `now` at least until `until` (a replay that
/// needs no entry kept longer).
fn replay_read(
    tx: &Transaction<'_>,
    keys: &[String],
    chain: &[String],
    until: i64,
    now: i64,
) -> Result<Option<Spend>, StoreError> {
    if let Some(id) = revoked_in(tx, chain)? {
        return Ok(Some(Spend::Revoked(id)));
    }
    let purged_until: i64 = tx.query_row(
        "SELECT purged_until FROM sec_replay_state WHERE id = 1",
        [],
        |row| row.get(0),
    )?;
    if until <= purged_until {
        return Ok(Some(Spend::Replayed));
    }
    if live_keys(tx, keys, now)?.is_some_and(|latest| latest >= until) {
        return Ok(Some(Spend::Replayed));
    }
    Ok(None)
}

/// The latest time any of `keys` is kept until, among entries still kept
/// at `now`; `None` when none is.
fn live_keys(tx: &Transaction<'_>, keys: &[String], now: i64) -> Result<Option<i64>, StoreError> {
    let mut latest = None;
    let mut statement =
        tx.prepare_cached("SELECT expires_at FROM sec_replay WHERE key = ?1 AND expires_at > ?2")?;
    for key in keys {
        let kept: Option<i64> = statement
            .query_row(params![key, now], |row| row.get(0))
            .optional()?;
        latest = latest.max(kept);
    }
    Ok(latest)
}

/// The first of `ids` listed in `sec_revocations`, read inside `tx`.
fn revoked_in(tx: &Transaction<'_>, ids: &[String]) -> Result<Option<String>, StoreError> {
    for id in ids {
        let revoked = tx
            .query_row("SELECT 1 FROM sec_revocations WHERE jti = ?1", [id], |_| {
                Ok(())
            })
            .optional()?
            .is_some();
        if revoked {
            return Ok(Some(id.clone()));
        }
    }
    Ok(None)
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (version, sql) in (1_i64..).zip(MIGRATIONS).skip_while(|(v, _)| *v <= found) {
        tx.execute_batch(sql)?;
        // PRAGMA takes no parameters; `version` is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
    }
    tx.commit()?;
    Ok(())
}

/// Appends `event` to the audit chain inside `tx`: the module makes the
/// record from the last stored one, and it is inserted beside the change it
/// records, to commit or roll back with it.
fn append_audit(
    tx: &Transaction<'_>,
    auditor: &Auditor,
    time: i64,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let last: Option<String> = tx
        .query_row(
            "SELECT record FROM audit_events ORDER BY seq DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    let record = auditor
        .append(last.as_deref(), time, event)
        .map_err(StoreError::Audit)?;
    tx.execute(
        "INSERT INTO audit_events (seq, prev_hash, hash, event, record, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            record.seq,
            record.prev,
            record.hash,
            event.event,
            record.text,
            time
        ],
    )?;
    Ok(())
}

fn insert_row(tx: &Transaction<'_>, row: &TokenRow) -> Result<(), StoreError> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;
    use std::sync::{Arc, OnceLock};

    fn auditor() -> Auditor {
        static RUNTIME: OnceLock<Arc<crate::Runtime>> = OnceLock::new();
        let runtime = RUNTIME.get_or_init(|| Arc::new(crate::Runtime::embedded().unwrap()));
        Auditor::new(Arc::clone(runtime)).unwrap()
    }

    fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open(path, auditor())
    }

    fn issued(id: &str) -> AuditEvent {
        AuditEvent::new("token_issued", json!({ "jti": id }))
    }

    fn row(id: &str, parent: Option<&str>, principal: &str, until: i64) -> TokenRow {
        TokenRow {
            token_id: id.to_owned(),
            workspace_id: "default".to_owned(),
            issued_to: principal.to_owned(),
            granted_by: "admin".to_owned(),
            parent_token_id: parent.map(str::to_owned),
            scopes: json!({ "caps": [] }),
            valid_until: Some(until),
            revoked_at: None,
            created_at: 100,
            token_sha256: Some(format!("digest of {id}")),
        }
    }

    #[test]
    fn the_revocation_list_drops_ids_once_their_root_has_expired() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("s.db")).unwrap();
        store
            .insert_token(&row("root", None, "alice", 1000), &issued("x"))
            .unwrap();
        // The root itself, and a delegated child never recorded here; an id
        // this store never issued names nothing and is refused.
        for id in ["root", "root.child"] {
            store
                .revoke(id, "admin", None, 500, "token_revoked")
                .unwrap();
        }
        let err = store
            .revoke("stranger", "admin", None, 500, "token_revoked")
            .unwrap_err();
        assert_eq!(err.code(), "unknown_token");
        // One from an older gateway, which listed whatever it was given.
        lock(&store.writer)
            .execute_batch(
                "INSERT INTO sec_revocations VALUES ('stranger', 500, 'admin', NULL);
                 UPDATE sec_revocation_list_state SET seq = seq + 1;",
            )
            .unwrap();
        let ids = |now| -> Vec<String> {
            store
                .revocation_list(now, 300)
                .unwrap()
                .entries
                .into_iter()
                .map(|e| e.id)
                .collect()
        };
        assert_eq!(ids(900), ["root", "root.child", "stranger"]);
        // Past the root's expiry plus the grace, nothing of its chain can be
        // accepted anywhere: its entries go; the stranger's stays.
        assert_eq!(ids(1299), ["root", "root.child", "stranger"]);
        assert_eq!(ids(1300), ["stranger"]);
        assert_eq!(store.revocation_list(1300, 300).unwrap().seq, 3);
        assert_eq!(store.revocation_seq().unwrap(), 3);
    }

    /// What makes an acknowledged write survive power loss, not only a
    /// killed process (which the crash test covers, and which keeps the
    /// page cache): WAL with every commit fsynced.
    #[test]
    fn every_connection_commits_durably() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("s.db")).unwrap();
        for conn in [&store.writer, &store.reader] {
            let conn = lock(conn);
            let mode: String = conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            let sync: i64 = conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap();
            assert_eq!((mode.as_str(), sync), ("wal", 2), "2 is FULL");
        }
    }

    #[test]
    fn migrates_once_and_refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        drop(store);
        // Opening again does not re-run migration 1 (it would fail on
        // CREATE TABLE).
        drop(open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA user_version = 99").unwrap();
        drop(conn);
        let err = open(&path).unwrap_err();
        assert_eq!(err.code(), "store_too_new");
    }

    #[test]
    fn revoking_a_parent_marks_its_descendants_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("s.db")).unwrap();
        store
            .insert_token(&row("p", None, "alice", 1000), &issued("x"))
            .unwrap();
        store
            .insert_token(&row("c", Some("p"), "bob", 1000), &issued("x"))
            .unwrap();
        store
            .insert_token(&row("other", None, "alice", 1000), &issued("x"))
            .unwrap();
        let first = store
            .revoke("p", "admin", Some("lost"), 500, "token_revoked")
            .unwrap();
        assert_eq!(
            first,
            Revocation {
                id: "p".to_owned(),
                revoked_at: 500,
                already_revoked: false,
                known_token: true,
                rows_marked: 2
            }
        );
        let again = store
            .revoke("p", "admin", None, 600, "token_revoked")
            .unwrap();
        assert!(again.already_revoked);
        assert_eq!(again.revoked_at, 500);
        assert_eq!(again.rows_marked, 0);
        assert_eq!(store.first_revoked(&["x", "c", "p"]).unwrap(), Some("p"));
        assert_eq!(store.first_revoked(&["other"]).unwrap(), None);
        let unknown = store
            .revoke("never-issued", "admin", None, 700, "token_revoked")
            .unwrap_err();
        assert_eq!(unknown.code(), "unknown_token");
    }

    #[test]
    fn a_bare_jti_revokes_the_one_recorded_token_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("s.db")).unwrap();
        for (id, parent) in [
            ("r1", None),
            ("r2", None),
            ("r1.kid", Some("r1")),
            ("r1.twin", Some("r1")),
            ("r2.twin", Some("r2")),
        ] {
            store
                .insert_token(&row(id, parent, "alice", 1000), &issued(id))
                .unwrap();
        }
        // A delegated token's bare jti: its one recorded token is revoked,
        // by its id, which is what verify checks.
        let done = store
            .revoke("kid", "admin", None, 500, "token_revoked")
            .unwrap();
        assert_eq!((done.id.as_str(), done.known_token), ("r1.kid", true));
        assert_eq!(
            store.first_revoked(&["r1", "r1.kid"]).unwrap(),
            Some("r1.kid")
        );
        // Two recorded tokens have it: refused, naming both; nothing listed.
        let ambiguous = store.revoke("twin", "admin", None, 500, "token_revoked");
        assert!(
            matches!(&ambiguous, Err(StoreError::AmbiguousId { candidates, .. })
                if candidates == &["r1.twin", "r2.twin"]),
            "{ambiguous:?}"
        );
        assert_eq!(
            store
                .first_revoked(&["twin", "r1.twin", "r2.twin"])
                .unwrap(),
            None
        );
        // A full id under a recorded root, recorded or not, is taken as it is.
        assert!(
            store
                .revoke("r2.twin", "admin", None, 500, "token_revoked")
                .unwrap()
                .known_token
        );
        let unrecorded = store
            .revoke("r2.minted.offline", "admin", None, 500, "token_revoked")
            .unwrap();
        assert!(!unrecorded.known_token);
        // Under a root this store never recorded, or naming nothing: refused.
        for id in ["elsewhere.kid", "nothing"] {
            let err = store
                .revoke(id, "admin", None, 500, "token_revoked")
                .unwrap_err();
            assert_eq!(err.code(), "unknown_token", "{id}");
        }
    }

    #[test]
    fn lists_only_active_tokens_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("s.db")).unwrap();
        store
            .insert_token(&row("live", None, "alice", 1000), &issued("x"))
            .unwrap();
        store
            .insert_token(&row("old", None, "alice", 50), &issued("x"))
            .unwrap();
        store
            .insert_token(&row("gone", None, "alice", 1000), &issued("x"))
            .unwrap();
        store
            .insert_token(&row("bobs", None, "bob", 1000), &issued("x"))
            .unwrap();
        store
            .revoke("gone", "admin", None, 60, "token_revoked")
            .unwrap();
        let ids = |rows: Vec<TokenRow>| rows.into_iter().map(|r| r.token_id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.tokens_of("alice", None, 100, false, 100).unwrap()),
            ["live"]
        );
        assert_eq!(
            ids(store.tokens_of("alice", None, 100, true, 100).unwrap()),
            ["gone", "live", "old"]
        );
        assert!(
            store
                .tokens_of("alice", Some("w2"), 100, true, 100)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn audit_log_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("s.db")).unwrap();
        let conn = lock(&store.writer);
        conn.execute(
            "INSERT INTO audit_events (seq, prev_hash, hash, event, record, created_at)
             VALUES (1, '', 'h1', 'e', '{}', 1)",
            [],
        )
        .unwrap();
        assert!(
            conn.execute("UPDATE audit_events SET event = 'x'", [])
                .is_err()
        );
        assert!(conn.execute("DELETE FROM audit_events", []).is_err());
    }

    fn audit_rows(store: &Store) -> Vec<(i64, String)> {
        let conn = lock(&store.reader);
        let mut statement = conn
            .prepare("SELECT seq, event FROM audit_events ORDER BY seq")
            .unwrap();
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Bumped by every commit of another connection to the file.
    fn data_version(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA data_version", [], |row| row.get(0))
            .unwrap()
    }

    fn keys(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    #[cfg(unix)]
    #[test]
    fn the_store_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = open(&path).unwrap();
        store
            .insert_token(&row("p", None, "alice", 1000), &issued("p"))
            .unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("s.db-wal")), 0o600);
        assert_eq!(mode(&dir.path().join("s.db-shm")), 0o600);
        drop(store);
        // An older gateway's world-readable files are made private.
        for name in ["s.db", "s.db-wal"] {
            let file = dir.path().join(name);
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
        let _store = open(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_replay_is_answered_from_a_read_and_only_a_first_use_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = open(&path).unwrap();
        let watcher = Connection::open(&path).unwrap();
        let chain = keys(&["root", "root.child"]);
        let before = data_version(&watcher);
        assert_eq!(
            store.spend(&chain, &chain, 1400, 1000).unwrap(),
            Spend::Fresh
        );
        let written = data_version(&watcher);
        assert_ne!(written, before, "a first use is committed");
        for _ in 0..3 {
            assert_eq!(
                store.spend(&chain, &chain, 1400, 1001).unwrap(),
                Spend::Replayed
            );
        }
        assert_eq!(data_version(&watcher), written, "replays wrote nothing");
        // A sibling spent through the same grant: replayed, and nothing
        // written, since the grant's entry outlives it.
        let sibling = keys(&["root", "root.other"]);
        assert_eq!(
            store.spend(&sibling, &sibling, 1300, 1002).unwrap(),
            Spend::Replayed
        );
        assert_eq!(data_version(&watcher), written);
        // The parent itself, kept longer than its child: replayed, and its
        // entry now kept as long as the parent could be presented.
        let parent = keys(&["root"]);
        assert_eq!(
            store.spend(&parent, &parent, 2000, 1003).unwrap(),
            Spend::Replayed
        );
        assert_ne!(data_version(&watcher), written);
        store.purge_replay(1500, 100).unwrap();
        assert_eq!(
            store.spend(&parent, &parent, 2000, 1501).unwrap(),
            Spend::Replayed
        );
    }

    #[test]
    fn a_clock_stepped_forward_then_back_does_not_re_allow_a_use() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("s.db")).unwrap();
        let chain = keys(&["t"]);
        assert_eq!(
            store.spend(&chain, &chain, 1400, 1000).unwrap(),
            Spend::Fresh
        );
        // The clock jumps to 5000: the entry looks expired and is purged.
        assert_eq!(store.purge_replay(5000, 100).unwrap(), 1);
        // Back at 1001 the token is valid again, but its use stays spent.
        assert_eq!(
            store.spend(&chain, &chain, 1400, 1001).unwrap(),
            Spend::Replayed
        );
        // A use kept longer than anything purged is told apart exactly.
        let later = keys(&["u"]);
        assert_eq!(
            store.spend(&later, &later, 1401, 1001).unwrap(),
            Spend::Fresh
        );
        // An expired entry alone does not block a new use of its key.
        assert_eq!(
            store.spend(&later, &later, 1500, 1402).unwrap(),
            Spend::Fresh
        );
    }

    #[test]
    fn the_replay_guard_is_purged_in_batches_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("s.db")).unwrap();
        for i in 0..25 {
            let key = keys(&[&format!("k{i}")]);
            let until = 100 + i;
            assert_eq!(store.spend(&key, &key, until, 50).unwrap(), Spend::Fresh);
        }
        assert_eq!(store.purge_replay(200, 10).unwrap(), 10);
        // The ten oldest went: a use kept until 109 is refused, 110 is not.
        let old = keys(&["k9"]);
        assert_eq!(store.spend(&old, &old, 109, 60).unwrap(), Spend::Replayed);
        let kept = keys(&["k10"]);
        assert_eq!(store.spend(&kept, &kept, 110, 60).unwrap(), Spend::Replayed);
        let fresh = keys(&["new"]);
        assert_eq!(store.spend(&fresh, &fresh, 110, 60).unwrap(), Spend::Fresh);
        assert_eq!(store.purge_replay(200, 10).unwrap(), 10);
        assert_eq!(store.purge_replay(200, 10).unwrap(), 6);
        assert_eq!(store.purge_replay(200, 10).unwrap(), 0);
    }

    #[test]
    fn every_change_appends_one_linked_record_and_a_failed_change_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = open(&path).unwrap();
        store
            .insert_token(&row("p", None, "alice", 1000), &issued("p"))
            .unwrap();
        // The same token id again: the insert fails, and so no record.
        assert!(
            store
                .insert_token(&row("p", None, "alice", 1000), &issued("p"))
                .is_err()
        );
        store
            .revoke("p", "admin", None, 500, "token_revoked")
            .unwrap();
        // Revoking again changes nothing and records nothing.
        store
            .revoke("p", "admin", None, 501, "token_revoked")
            .unwrap();
        // An event the module does not know is refused, with the change.
        let err = store
            .record_event(502, &AuditEvent::new("made_up", json!({})))
            .unwrap_err();
        assert_eq!(err.code(), "bad_request");
        assert_eq!(
            audit_rows(&store),
            [
                (0, "token_issued".to_owned()),
                (1, "token_revoked".to_owned())
            ]
        );
        let report = super::super::audit::verify_log(&path, &auditor(), None).unwrap();
        assert!(
            matches!(
                report,
                super::super::audit::AuditReport::Valid {
                    count: 2,
                    last_seq: 1,
                    ..
                }
            ),
            "{report:?}"
        );
    }

    #[test]
    fn the_revocation_list_seq_rises_with_each_new_revocation() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir.path().join("s.db")).unwrap();
        assert_eq!(store.revocation_list(100, 0).unwrap().seq, 0);
        store
            .insert_token(&row("old", None, "alice", 50), &issued("old"))
            .unwrap();
        store
            .revoke("old", "admin", Some("lost"), 40, "token_revoked")
            .unwrap();
        store
            .insert_token(
                &row("old.child", Some("old"), "bob", 50),
                &issued("old.child"),
            )
            .unwrap();
        store
            .revoke("old.child", "admin", None, 41, "token_revoked")
            .unwrap();
        store
            .revoke("old", "admin", None, 42, "token_revoked")
            .unwrap();
        let list = store.revocation_list(45, 0).unwrap();
        assert_eq!(list.seq, 2);
        assert_eq!(
            list.entries
                .iter()
                .map(|e| e.id.as_str())
                .collect::<Vec<_>>(),
            ["old", "old.child"]
        );
        assert_eq!(list.entries[0].reason.as_deref(), Some("lost"));
        assert_eq!(list.entries[1].reason.as_deref(), Some(DEFAULT_REASON));
        // Long after `old` expired, its chain's entries are no longer
        // published.
        let later = store.revocation_list(1000, 300).unwrap();
        assert_eq!(later.seq, 2);
        assert!(later.entries.is_empty());
    }
}
