//! The shared engine: PostgreSQL, for several gateways with one state.
//!
//! Every write runs in a transaction that first takes one advisory lock
//! ([`WRITE_LOCK`]) for its duration, so the writes of all gateways on the
//! database are serialized exactly as SQLite's `BEGIN IMMEDIATE` serializes
//! the writers of one file: the audit record a write appends is made from
//! the chain's last record, which no other gateway can append behind it in
//! the meantime (the chain never forks), and the replay guard's check and
//! record are one step across gateways (a single-use token spent on one is
//! a replay on every other). The lock is taken by the database, so a
//! gateway that dies mid-write frees it with its connection.
//!
//! Durability is PostgreSQL's: with `synchronous_commit` on (its default) a
//! `COMMIT` returns once its WAL is flushed, and the API acknowledges a
//! write only after that. A connection that breaks is replaced on the next
//! use; a write whose `COMMIT` was sent but never answered is reported as
//! failed, though the database may have kept it (the one ambiguity every
//! client of a remote database has).
//!
//! Reads run on a small pool of connections of their own: single
//! statements outside a transaction, and reads that must agree with each
//! other (a revocation list and its `seq`) in one `REPEATABLE READ`
//! snapshot.

use std::collections::HashMap;
use std::sync::Mutex;

use postgres::{IsolationLevel, NoTls};

use super::schema::migrate_postgres;
use super::sql::{Pg, PgConn, Sql};
use super::{StoreError, lock};

/// The advisory lock every write holds: "captoken" in ASCII.
pub(super) const WRITE_LOCK: i64 = 0x6361_7074_6f6b_656e;

/// Idle reader connections kept for the next read, at most: more than the
/// gateway runs store calls at once (16), so a busy gateway reuses its
/// connections instead of opening one per read (measured: with 8 kept, a
/// verify's p99 under 16 clients was 143–426 ms, connection set-ups).
const IDLE_READERS: usize = 32;

/// The connection settings `url` names.
pub(super) fn config(url: &str) -> Result<postgres::Config, StoreError> {
    url.parse()
        .map_err(|err: postgres::Error| StoreError::BadUrl(format!("not a PostgreSQL URL: {err}")))
}

/// An open PostgreSQL store.
pub(super) struct PostgresEngine {
    config: postgres::Config,
    writer: Mutex<Option<PgConn>>,
    readers: Mutex<Vec<PgConn>>,
}

/// A `postgres::Client` closes itself by blocking on its own runtime,
/// which panics on a thread that drives async tasks, and the gateway's
/// last reference to its store may go on one (at shutdown): the
/// connections are closed on a thread of their own.
impl Drop for PostgresEngine {
    fn drop(&mut self) {
        let writer = lock(&self.writer).take();
        let readers = std::mem::take(&mut *lock(&self.readers));
        let _ = std::thread::spawn(move || drop((writer, readers))).join();
    }
}

impl PostgresEngine {
    /// Connects to the database `url` names and migrates it.
    pub(super) fn open(url: &str) -> Result<Self, StoreError> {
        let engine = Self {
            config: config(url)?,
            writer: Mutex::new(None),
            readers: Mutex::new(Vec::new()),
        };
        let mut conn = engine.connect()?;
        migrate_postgres(&mut conn)?;
        *lock(&engine.writer) = Some(conn);
        Ok(engine)
    }

    fn connect(&self) -> Result<PgConn, StoreError> {
        Ok(PgConn {
            client: self.config.connect(NoTls)?,
            statements: HashMap::new(),
        })
    }

    /// The schema version of the database.
    pub(super) fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(false, |sql| {
            sql.one("SELECT version FROM captoken_schema WHERE id = 1", &[])?
                .int(0)
        })
    }

    /// Runs `work` on a reader connection; with `snapshot`, in one
    /// read-only `REPEATABLE READ` transaction.
    pub(super) fn read<T>(
        &self,
        snapshot: bool,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = lock(&self.readers).pop();
        let mut conn = match idle {
            Some(conn) if !conn.client.is_closed() => conn,
            _ => self.connect()?,
        };
        let PgConn { client, statements } = &mut conn;
        let value = if snapshot {
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let value = work(&mut Pg {
                client: &mut tx,
                statements,
            })?;
            tx.commit()?;
            value
        } else {
            work(&mut Pg { client, statements })?
        };
        if !conn.client.is_closed() {
            let mut idle = lock(&self.readers);
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        Ok(value)
    }

    /// Runs `work` in a write transaction holding [`WRITE_LOCK`]; its
    /// changes are kept only if `work` succeeds, and it returns once they
    /// are committed, after calling `committed`.
    pub(super) fn write<T>(
        &self,
        committed: &(dyn Fn() + Sync),
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = lock(&self.writer);
        let conn = match slot.take() {
            Some(conn) if !conn.client.is_closed() => slot.insert(conn),
            _ => slot.insert(self.connect()?),
        };
        let PgConn { client, statements } = conn;
        // Dropped unfinished (an error, or a panic in `work`), the
        // transaction rolls back, and the lock goes with it.
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        let value = work(&mut Pg {
            client: &mut tx,
            statements,
        })?;
        tx.commit()?;
        committed();
        Ok(value)
    }
}
