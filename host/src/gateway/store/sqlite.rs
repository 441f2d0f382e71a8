//! The embedded engine: one SQLite file, one writer connection with group
//! commit, one reader.
//!
//! Durability: WAL journal with `synchronous = FULL`, so a transaction is on
//! disk (the WAL fsynced) when `COMMIT` returns; the API acknowledges a
//! write only after that.
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
use std::sync::{Condvar, Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags};

use super::schema::{configure, migrate};
use super::sql::{Lite, Sql};
use super::{StoreError, lock};

/// The most writes one commit covers, so the first of a busy group is not
/// kept waiting for ever.
const MAX_GROUP: usize = 64;

/// An open SQLite store.
pub(super) struct SqliteEngine {
    pub(super) writer: Mutex<Writer>,
    /// Signalled after every commit of the writer.
    group_committed: Condvar,
    /// Writes waiting for the writer: while there is one, a finished write
    /// leaves the commit to it.
    pub(super) queued: AtomicUsize,
    pub(super) reader: Mutex<Connection>,
}

/// The single writer connection and its group commit's state.
pub(super) struct Writer {
    pub(super) conn: Connection,
    /// Whether a transaction is open.
    in_tx: bool,
    /// Writes done in the open transaction, not yet committed.
    open: usize,
    /// Commits done so far.
    pub(super) commits: u64,
    /// The latest commits that failed, with why.
    failed: std::collections::VecDeque<(u64, String)>,
}

impl SqliteEngine {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub(super) fn open(path: &Path) -> Result<Self, StoreError> {
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
        })
    }

    /// The schema version of the open database.
    pub(super) fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(lock(&self.reader).query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }

    /// Runs `work` on the reader; with `snapshot`, in one read transaction.
    pub(super) fn read<T>(
        &self,
        snapshot: bool,
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = lock(&self.reader);
        if !snapshot {
            return work(&mut Lite(&conn));
        }
        let tx = conn.unchecked_transaction()?;
        let value = work(&mut Lite(&tx))?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `work` in a write transaction, taken with `BEGIN IMMEDIATE` so
    /// that the last audit record it reads is still the last when it
    /// appends, even with another process (`captoken revoke --db`) writing
    /// the same file; its changes are kept only if `work` succeeds, and it
    /// returns once they are committed (module docs: group commit), after
    /// calling `committed`.
    pub(super) fn write<T>(
        &self,
        committed: &(dyn Fn() + Sync),
        work: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
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
                    work(&mut Lite(&writer.conn))
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
            self.commit_group(&mut writer, committed);
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
    fn commit_group(&self, writer: &mut Writer, committed: &(dyn Fn() + Sync)) {
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
        committed();
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
