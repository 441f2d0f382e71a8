//! The gateway's store: issued tokens, delegation edges, revocations, the
//! replay guard and the audit log, with versioned migrations, on one of two
//! engines: SQLite (`sqlite`, one file, the embedded default) or PostgreSQL
//! (`pg`, shared by several gateways). The rules are written once,
//! against [`sql::Sql`], and run on either: one file per table group,
//! `tokens` (tokens and delegation edges), `revocations`, `replay` (the
//! replay guard), `schema` (both engines' migrations); here the store
//! itself and the audit append every change makes.
//!
//! Every write is serialized with every other writer of the database and
//! acknowledged only once committed durably (each engine's module says
//! how). Times are integer seconds since the Unix epoch, the same `now` the
//! module is given. The store is used from blocking threads only.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::Value;

use super::audit::{AuditEvent, Auditor};
use crate::HostError;

mod log;
mod pg;
mod replay;
mod revocations;
mod schema;
pub(crate) mod sql;
mod sqlite;
mod status;
mod tokens;

pub use log::{AuditReport, AuditVerifyError, verify_log};
use pg::PostgresEngine;
use revocations::*;
pub use schema::SCHEMA_VERSION;
use sql::{Sql, args};
use sqlite::SqliteEngine;

/// A store failure; the API reports it as 500 `store_error` or, at
/// start-up, refuses to run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused an operation, or could not be reached.
    #[error("postgres: {}", postgres_reason(.0))]
    Postgres(#[from] postgres::Error),
    /// A stored value was not of the type the store reads there.
    #[error("store: {0}")]
    Column(String),
    /// The commit that held this write failed: nothing of it was kept.
    #[error("commit failed: {0}")]
    Commit(String),
    /// `--db` names no store this build can open.
    #[error("{0}")]
    BadUrl(String),
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
            Self::Sqlite(_)
            | Self::Postgres(_)
            | Self::Column(_)
            | Self::Commit(_)
            | Self::File { .. } => "store_error",
            Self::BadUrl(_) => "store_bad_url",
            Self::Audit(err) => err.code(),
            Self::UnknownToken(_) => "unknown_token",
            Self::AmbiguousId { .. } => "ambiguous_id",
            Self::TooNew { .. } => "store_too_new",
            Self::NoWal { .. } => "store_no_wal",
        }
    }
}

/// A PostgreSQL error with the server's own message when there is one, or
/// the cause (its `Display` alone says only "db error", or "error
/// connecting to server" without why).
fn postgres_reason(err: &postgres::Error) -> String {
    match (err.as_db_error(), std::error::Error::source(err)) {
        (Some(db), _) => format!("{}: {}", db.code().code(), db.message()),
        (None, Some(cause)) => format!("{err}: {cause}"),
        (None, None) => err.to_string(),
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
    /// Its place in the gateway's status lists (`status.status_list`): a
    /// token this gateway issued or refreshed has one; a delegated child
    /// carries its root's and has none of its own.
    pub status_idx: Option<i64>,
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
    /// The replaced token was granted below another
    /// ([`Store::lineage`]): its grantor, not the policy, decides what it
    /// holds and for how long; nothing recorded.
    NotRoot {
        /// Its depth below its root.
        depth: i64,
    },
}

/// Where a recorded token stands in its grant tree ([`Store::lineage`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Lineage {
    /// Its row.
    pub row: TokenRow,
    /// Its depth below its root (0: a root).
    pub depth: i64,
    /// The ids from its root down to it, itself last.
    pub ids: Vec<String>,
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

/// What a status list publishes ([`Store::status_revoked`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSnapshot {
    /// The revocation list's `seq` when it was read.
    pub seq: i64,
    /// The revoked places, ascending.
    pub revoked: Vec<i64>,
}

/// Where a store is: a SQLite file (the embedded default) or a PostgreSQL
/// database that several gateways share, told apart by the URL scheme.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file: a plain path, or a `sqlite://` URL.
    Sqlite(std::path::PathBuf),
    /// A `postgres://` (or `postgresql://`) URL.
    Postgres(String),
}

impl Database {
    /// Reads `--db` (or `CAPTOKEN_DATABASE_URL`): `postgres://…` and
    /// `postgresql://…` name a PostgreSQL database, `sqlite://PATH` and any
    /// text without a scheme a SQLite file.
    ///
    /// # Errors
    ///
    /// `store_bad_url` for any other scheme (never taken as a file name)
    /// or an empty location.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        if let Some((scheme, rest)) = text.split_once("://")
            && !scheme.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return match scheme.to_ascii_lowercase().as_str() {
                // Schemes are case-insensitive (RFC 3986); the client reads
                // them in lower case only.
                "postgres" | "postgresql" => Ok(Self::Postgres(format!(
                    "{}://{rest}",
                    scheme.to_ascii_lowercase()
                ))),
                "sqlite" if !rest.is_empty() => Ok(Self::Sqlite(rest.into())),
                "sqlite" => Err(StoreError::BadUrl("`sqlite://` names no file".to_owned())),
                _ => Err(StoreError::BadUrl(format!(
                    "`{scheme}://` is not a store this gateway knows: use a SQLite file \
                     (a path, or sqlite://PATH) or postgres://user@host:port/db"
                ))),
            };
        }
        if text.is_empty() {
            return Err(StoreError::BadUrl(
                "the database location is empty".to_owned(),
            ));
        }
        Ok(Self::Sqlite(text.into()))
    }

    /// The SQLite file, when it is one.
    #[must_use]
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }
}

impl std::str::FromStr for Database {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, StoreError> {
        Self::parse(text)
    }
}

/// Shown without a password: a URL's `user:password@` is written `user:***@`.
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
                let (authority, tail) = rest.split_at(authority_end);
                match authority.rsplit_once('@') {
                    Some((userinfo, host)) => {
                        let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                        let hidden = if userinfo.contains(':') { ":***" } else { "" };
                        write!(f, "{scheme}://{user}{hidden}@{host}{tail}")
                    }
                    None => write!(f, "{scheme}://{rest}"),
                }
            }
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({self})")
    }
}

/// The open database.
pub struct Store {
    engine: Engine,
    auditor: Auditor,
    /// Counts this process's commits, so the event stream wakes when one
    /// may have appended (other writers are found by polling).
    committed: tokio::sync::watch::Sender<u64>,
}

/// One per store, for its life: the size difference between the two
/// costs nothing.
#[allow(clippy::large_enum_variant)]
enum Engine {
    Sqlite(SqliteEngine),
    Postgres(PostgresEngine),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store(..)")
    }
}

fn lock<C>(connection: &Mutex<C>) -> MutexGuard<'_, C> {
    // A panic elsewhere cannot leave a connection mid-transaction: rusqlite
    // rolls back an unfinished `Transaction` when it is dropped, and so
    // does postgres.
    connection.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and
    /// migrates it to [`SCHEMA_VERSION`].
    ///
    /// # Errors
    ///
    /// `store_error` if SQLite cannot open or migrate it, `store_too_new`
    /// if a newer gateway migrated it, `store_no_wal` if it cannot use WAL.
    pub fn open(path: &Path, auditor: Auditor) -> Result<Self, StoreError> {
        Self::open_database(&Database::Sqlite(path.to_owned()), auditor)
    }

    /// Opens the store `database` names, creating a SQLite file if needed,
    /// and migrates it to [`SCHEMA_VERSION`].
    ///
    /// # Errors
    ///
    /// As [`Store::open`]; for PostgreSQL, `store_error` when it cannot
    /// connect, and `store_bad_url` for a URL it cannot read.
    pub fn open_database(database: &Database, auditor: Auditor) -> Result<Self, StoreError> {
        let engine = match database {
            Database::Sqlite(path) => Engine::Sqlite(SqliteEngine::open(path)?),
            Database::Postgres(url) => Engine::Postgres(PostgresEngine::open(url)?),
        };
        Ok(Self {
            engine,
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
        match &self.engine {
            Engine::Sqlite(engine) => engine.schema_version(),
            Engine::Postgres(engine) => engine.schema_version(),
        }
    }

    /// Whether the database answers at all.
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.read(false, |sql| sql.one("SELECT 1", &[]).map(drop))
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
        let rows = self.read(false, |sql| {
            sql.query(
                "SELECT seq, hash, record, workspace_id FROM audit_events
                 WHERE seq > ?1 AND (CAST(?2 AS TEXT) IS NULL OR workspace_id = ?2)
                 ORDER BY seq LIMIT ?3",
                args![after, workspace, limit],
            )
        })?;
        rows.iter()
            .map(|row| {
                let record = row.text(2)?;
                Ok(StoredEvent {
                    seq: row.int(0)?,
                    hash: row.text(1)?,
                    record: serde_json::from_str(&record).unwrap_or(Value::String(record)),
                    workspace_id: row.text(3)?,
                })
            })
            .collect()
    }

    /// The `seq` of the last audit record, if any.
    ///
    /// # Errors
    ///
    /// `store_error`.
    pub fn last_event_seq(&self) -> Result<Option<i64>, StoreError> {
        self.read(false, |sql| {
            sql.one("SELECT max(seq) FROM audit_events", &[])?
                .opt_int(0)
        })
    }

    /// Appends an event that changes nothing else (a refused delegation).
    ///
    /// # Errors
    ///
    /// `store_error`, or the module's code.
    pub fn record_event(&self, time: i64, event: &AuditEvent) -> Result<(), StoreError> {
        self.write(|sql, auditor| append_audit(sql, auditor, time, event))
    }

    /// Runs `work` on a reader; with `snapshot`, every statement of it
    /// reads the same moment.
    fn read<T>(
        &self,
        snapshot: bool,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.engine {
            Engine::Sqlite(engine) => engine.read(snapshot, work),
            Engine::Postgres(engine) => engine.read(snapshot, work),
        }
    }

    /// Runs `work` in a write transaction, serialized with every other
    /// writer of the database (of this process and of others), so that the
    /// last audit record it reads is still the last when it appends. Its
    /// changes are kept only if `work` succeeds, and it returns once they
    /// are durably committed.
    fn write<T>(
        &self,
        work: impl FnOnce(&mut dyn Sql, &Auditor) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let committed = || self.committed.send_modify(|n| *n = n.wrapping_add(1));
        let auditor = &self.auditor;
        match &self.engine {
            Engine::Sqlite(engine) => engine.write(&committed, |sql| work(sql, auditor)),
            Engine::Postgres(engine) => engine.write(&committed, |sql| work(sql, auditor)),
        }
    }
}

/// Appends `event` to the audit chain inside `tx`: the module makes the
/// record from the last stored one, and it is inserted beside the change it
/// records, to commit or roll back with it.
fn append_audit(
    sql: &mut dyn Sql,
    auditor: &Auditor,
    time: i64,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let last = sql
        .first(
            "SELECT record FROM audit_events ORDER BY seq DESC LIMIT 1",
            &[],
        )?
        .map(|row| row.text(0))
        .transpose()?;
    let record = auditor
        .append(last.as_deref(), time, event)
        .map_err(StoreError::Audit)?;
    sql.execute(
        "INSERT INTO audit_events (seq, prev_hash, hash, event, record, created_at, workspace_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![
            record.seq,
            &record.prev,
            &record.hash,
            event.event.as_str(),
            &record.text,
            time,
            event.workspace.as_str()
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
