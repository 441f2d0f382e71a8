//! The gateway's SQLite store: issued tokens, delegation edges, revocations
//! and the audit log, with versioned migrations. One file per table group:
//! `tokens` (tokens and delegation edges), `revocations`, `replay` (the
//! replay guard), `schema` (migrations); here the store itself, its
//! single writer and the audit append every change makes.
//!
//! Durability: WAL journal with `synchronous = FULL`, so a transaction is on
//! disk (the WAL fsynced) when `COMMIT` returns; the API acknowledges a
//! revocation only after that. Times are integer seconds since the Unix
//! epoch, the same `now` the module is given.
//!
//! Two connections: one writer, one reader. WAL lets the reader (the
//! revocation look-up on every verify) proceed while the writer waits on an
//! fsync. Both are used from blocking threads only.
//!
//! Group commit: writes that arrive while another is running join its
//! transaction, each in a savepoint of its own (a failing write undoes only
//! its own changes), and the last of them commits for all: one fsync for
//! the group instead of one each. Every write still returns only after the
//! `COMMIT` that holds it returned, so an acknowledged write is on disk
//! exactly as before; a failed commit fails every write of its group.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde_json::Value;

use super::audit::{AuditEvent, Auditor};
use crate::HostError;

mod log;
mod replay;
mod revocations;
mod schema;
mod tokens;

pub use log::{AuditReport, AuditVerifyError, verify_log};
use revocations::*;
pub use schema::SCHEMA_VERSION;
use schema::*;

/// A store failure; the API reports it as 500 `store_error` or, at
/// start-up, refuses to run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The commit that held this write failed: nothing of it was kept.
    #[error("sqlite: commit failed: {0}")]
    Commit(String),
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
    /// `audit_append` (core's, linked natively) refused to make the record,
    /// e.g. because the stored last record was tampered with: the change it
    /// would have recorded is not made either.
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
            Self::Sqlite(_) | Self::Commit(_) | Self::File { .. } => "store_error",
            Self::Audit(err) => err.code(),
            Self::UnknownToken(_) => "unknown_token",
            Self::AmbiguousId { .. } => "ambiguous_id",
            Self::TooNew { .. } => "store_too_new",
            Self::NoWal { .. } => "store_no_wal",
        }
    }
}

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

/// An audit record as stored, with the workspace it was recorded in.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Its place in the chain.
    pub seq: i64,
    /// Its hash (the chain's link to it).
    pub hash: String,
    /// The record the module made: `{v, seq, time, event, data, prev, hash}`.
    pub record: Value,
    /// The workspace it belongs to.
    pub workspace_id: String,
}

/// What [`Store::insert_refreshed`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Refreshed {
    /// Recorded, with its audit record.
    Recorded {
        /// The workspace it was recorded in (the replaced token's).
        workspace_id: String,
    },
    /// This id of the replaced token's chain is revoked; nothing recorded.
    Revoked(String),
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
    writer: Mutex<Writer>,
    /// Signalled after every commit of the writer.
    group_committed: Condvar,
    /// Writes waiting for the writer: while there is one, a finished write
    /// leaves the commit to it.
    queued: AtomicUsize,
    reader: Mutex<Connection>,
    auditor: Auditor,
    /// Counts this process's commits, so the event stream wakes when one
    /// may have appended (other writers of the file are found by polling).
    committed: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store(..)")
    }
}

/// The most writes one commit covers, so the first of a busy group is not
/// kept waiting for ever.
const MAX_GROUP: usize = 64;

/// The single writer connection and its group commit's state.
struct Writer {
    conn: Connection,
    /// Whether a transaction is open.
    in_tx: bool,
    /// Writes done in the open transaction, not yet committed.
    open: usize,
    /// Commits done so far.
    commits: u64,
    /// The latest commits that failed, with why.
    failed: std::collections::VecDeque<(u64, String)>,
}

fn lock<C>(connection: &Mutex<C>) -> MutexGuard<'_, C> {
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
            writer: Mutex::new(Writer {
                conn: writer,
                in_tx: false,
                open: 0,
                commits: 0,
                failed: std::collections::VecDeque::new(),
            }),
            group_committed: Condvar::new(),
            queued: AtomicUsize::new(0),
            reader: Mutex::new(reader),
            auditor,
            committed: tokio::sync::watch::Sender::new(0),
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

    /// Wakes whenever this process commits a write.
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.committed.subscribe()
    }

    /// Up to `limit` audit records after `seq` `after`, in order, of
    /// `workspace` or of all.
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn events(
        &self,
        workspace: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let conn = lock(&self.reader);
        let mut statement = conn.prepare_cached(
            "SELECT seq, hash, record, workspace_id FROM audit_events
             WHERE seq > ?1 AND (?2 IS NULL OR workspace_id = ?2)
             ORDER BY seq LIMIT ?3",
        )?;
        let rows = statement.query_map(params![after, workspace, limit], |row| {
            let record: String = row.get(2)?;
            Ok(StoredEvent {
                seq: row.get(0)?,
                hash: row.get(1)?,
                record: serde_json::from_str(&record).unwrap_or(Value::String(record)),
                workspace_id: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The `seq` of the last audit record, if any.
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn last_event_seq(&self) -> Result<Option<i64>, StoreError> {
        Ok(lock(&self.reader)
            .query_row("SELECT max(seq) FROM audit_events", [], |row| row.get(0))?)
    }

    /// Appends an event that changes nothing else (a refused delegation).
    ///
    /// # Errors
    ///
    /// `store_error`, or the module's code.
    pub fn record_event(&self, time: i64, event: &AuditEvent) -> Result<(), StoreError> {
        self.write(|tx, auditor| append_audit(tx, auditor, time, event))
    }

    /// Runs `work` in a write transaction, taken with `BEGIN IMMEDIATE` so
    /// that the last audit record it reads is still the last when it
    /// appends, even with another process (`captoken revoke --db`) writing
    /// the same file; its changes are kept only if `work` succeeds, and it
    /// returns once they are committed (module docs: group commit).
    fn write<T>(
        &self,
        work: impl FnOnce(&Connection, &Auditor) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut writer = lock(&self.writer);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if !writer.in_tx {
            writer.conn.execute_batch("BEGIN IMMEDIATE")?;
            writer.in_tx = true;
        }
        let mut panicked = None;
        let done = match writer.conn.execute_batch("SAVEPOINT write") {
            Ok(()) => {
                // A write that panics is undone like one that fails, and
                // the group goes on (its writes wait on this one's turn);
                // the panic resumes once the group is looked after.
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    work(&writer.conn, &self.auditor)
                }));
                let done = run.unwrap_or_else(|panic| {
                    panicked = Some(panic);
                    Err(StoreError::Commit("the write panicked".to_owned()))
                });
                let end = if done.is_ok() {
                    "RELEASE write"
                } else {
                    "ROLLBACK TO write; RELEASE write"
                };
                match writer.conn.execute_batch(end) {
                    Ok(()) => done,
                    Err(err) => Err(err.into()),
                }
            }
            Err(err) => Err(err.into()),
        };
        if done.is_ok() {
            writer.open += 1;
        }
        let commit = writer.commits + 1;
        if writer.open == 0 {
            // Nothing of this group to keep: end the transaction (unless
            // a write queued behind will run in it).
            if self.queued.load(Ordering::SeqCst) == 0 {
                writer.in_tx = false;
                writer.conn.execute_batch("ROLLBACK")?;
            }
            if let Some(panic) = panicked {
                drop(writer);
                std::panic::resume_unwind(panic);
            }
            return done;
        }
        if self.queued.load(Ordering::SeqCst) == 0 || writer.open >= MAX_GROUP {
            self.commit_group(&mut writer);
        } else if done.is_ok() {
            // A write queued behind this one joins the transaction and
            // commits it (or leaves it to the next): wait for that commit.
            while writer.commits < commit {
                writer = self
                    .group_committed
                    .wait(writer)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        if let Some(panic) = panicked {
            drop(writer);
            std::panic::resume_unwind(panic);
        }
        let value = done?;
        match writer.failed.iter().find(|(n, _)| *n == commit) {
            Some((_, reason)) => Err(StoreError::Commit(reason.clone())),
            None => Ok(value),
        }
    }

    /// Commits the open group and wakes its writes.
    fn commit_group(&self, writer: &mut Writer) {
        if let Err(err) = writer.conn.execute_batch("COMMIT") {
            // Nothing of the group is kept: every write of it fails.
            let _ = writer.conn.execute_batch("ROLLBACK");
            writer
                .failed
                .push_back((writer.commits + 1, err.to_string()));
            if writer.failed.len() > 64 {
                writer.failed.pop_front();
            }
        }
        writer.in_tx = false;
        writer.open = 0;
        writer.commits += 1;
        self.committed.send_modify(|n| *n = n.wrapping_add(1));
        self.group_committed.notify_all();
    }
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

/// Appends `event` to the audit chain inside `tx`: the module makes the
/// record from the last stored one, and it is inserted beside the change it
/// records, to commit or roll back with it.
fn append_audit(
    tx: &Connection,
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
        "INSERT INTO audit_events (seq, prev_hash, hash, event, record, created_at, workspace_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            record.seq,
            record.prev,
            record.hash,
            event.event,
            record.text,
            time,
            event.workspace
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
