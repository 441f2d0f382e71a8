//! Verifying the audit log a store holds.
//!
//! `audit_verify` checks one segment of records per call, and a
//! call is bounded by the module's request limit (1 MiB), so a long log is
//! read in chunks. The first is verified as the chain's start (`genesis`:
//! it must begin at `seq` 0); each later one resumes `after` the `seq` and
//! `hash` the one before ended with, so the module checks every join and
//! names the `seq` where the chain broke.

use std::collections::HashMap;

use postgres::{IsolationLevel, NoTls};
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

use super::sql::{Lite, Pg, Sql, args};
use super::{Database, SCHEMA_VERSION, StoreError};
use crate::HostError;
use crate::gateway::audit::Auditor;

/// Record text read into one `audit_verify` call, at most: leaves room
/// under the module's 1 MiB request limit for the JSON around it.
const CHUNK_BYTES: usize = 512 << 10;
/// Records in one `audit_verify` call, at most.
const CHUNK_RECORDS: u32 = 2000;

/// What [`verify_log`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditReport {
    /// Every record verified, from `seq` 0 on, and the anchor (if one was
    /// given) is in the chain.
    Valid {
        /// Records verified.
        count: u64,
        /// `seq` of the last record.
        last_seq: u64,
        /// `hash` of the last record: keep it as the next anchor.
        head: String,
        /// `seq` of the record the anchor names, when one was given.
        anchor_seq: Option<u64>,
    },
    /// No records at all (a fresh store, or one emptied: only an anchor
    /// tells the two apart).
    Empty,
    /// The chain is broken.
    Tampered {
        /// The module's code (`audit_bad_hash`, `audit_broken_link`,
        /// `audit_bad_sequence`, `audit_bad_record`, `audit_head_mismatch`).
        code: String,
        /// Where it first broke, when known.
        seq: Option<u64>,
        /// What is wrong, for people.
        message: String,
    },
}

/// Why a log could not be checked at all (as opposed to found broken).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditVerifyError {
    /// The database could not be opened or read.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The database is not a gateway store this build knows.
    #[error("{0}")]
    NotAStore(String),
    /// The module failed to run a check (not: refused a record).
    #[error(transparent)]
    Host(HostError),
}

impl AuditVerifyError {
    /// The stable code of this error.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Self::Store(err) => err.code(),
            Self::NotAStore(_) => "not_a_store",
            Self::Host(err) => err.code(),
        }
    }
}

/// One stored row, as read for verification.
struct Row {
    seq: i64,
    prev: String,
    hash: String,
    event: String,
    record: String,
}

/// How long `verify_log` waits for a lock another connection holds.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Verifies the audit log stored in the database `db` names, read-only,
/// in chunks; with `anchor`, the chain must also pass through the record
/// whose `hash` it is (a head kept elsewhere earlier: records removed from
/// the end of the log, or a rewrite, leave a chain that is valid on its
/// own).
///
/// The whole log is read in one read transaction (one snapshot), so a
/// gateway appending meanwhile neither disturbs nor is disturbed by the
/// check.
///
/// # Errors
///
/// [`AuditVerifyError`] when the log cannot be read or the module cannot
/// run; a broken chain is a [`AuditReport::Tampered`], not an error.
pub fn verify_log(
    db: &Database,
    auditor: &Auditor,
    anchor: Option<&str>,
) -> Result<AuditReport, AuditVerifyError> {
    verify_in_chunks(db, auditor, anchor, CHUNK_RECORDS, CHUNK_BYTES)
}

/// [`verify_log`] with chunks of at most `chunk_records` records and (past
/// the first record) `chunk_bytes` bytes of record text.
fn verify_in_chunks(
    db: &Database,
    auditor: &Auditor,
    anchor: Option<&str>,
    chunk_records: u32,
    chunk_bytes: usize,
) -> Result<AuditReport, AuditVerifyError> {
    let unknown_version = |version: i64| {
        AuditVerifyError::NotAStore(format!(
            "`{db}` is at schema version {version}; this build reads versions 1 to {SCHEMA_VERSION}"
        ))
    };
    match db {
        Database::Sqlite(path) => {
            if !path.is_file() {
                return Err(AuditVerifyError::NotAStore(format!(
                    "`{}` is not a file",
                    path.display()
                )));
            }
            let mut conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(StoreError::from)?;
            // A gateway writing, or closing its last connection (which
            // checkpoints the WAL under an exclusive lock), holds the file
            // for moments: wait for it rather than fail with "database is
            // locked".
            conn.busy_timeout(BUSY_TIMEOUT).map_err(StoreError::from)?;
            let version: i64 = conn
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .map_err(StoreError::from)?;
            if !(1..=SCHEMA_VERSION).contains(&version) {
                return Err(unknown_version(version));
            }
            let tx = conn.transaction().map_err(StoreError::from)?;
            verify_chain(&mut Lite(&tx), auditor, anchor, chunk_records, chunk_bytes)
        }
        Database::Postgres(url) => {
            let mut client = super::pg::config(url)?
                .connect(NoTls)
                .map_err(StoreError::from)?;
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(StoreError::from)?;
            let mut statements = HashMap::new();
            let mut sql = Pg {
                client: &mut tx,
                statements: &mut statements,
            };
            let has_schema = sql
                .one("SELECT to_regclass('captoken_schema') IS NOT NULL", &[])?
                .int(0)?
                == 1;
            let version = if has_schema {
                sql.first("SELECT version FROM captoken_schema WHERE id = 1", &[])?
                    .map(|row| row.int(0))
                    .transpose()?
                    .unwrap_or(0)
            } else {
                0
            };
            if !(1..=SCHEMA_VERSION).contains(&version) {
                return Err(unknown_version(version));
            }
            verify_chain(&mut sql, auditor, anchor, chunk_records, chunk_bytes)
        }
    }
}

/// The chain `sql` reads, checked in chunks by the module.
fn verify_chain(
    sql: &mut dyn Sql,
    auditor: &Auditor,
    anchor: Option<&str>,
    chunk_records: u32,
    chunk_bytes: usize,
) -> Result<AuditReport, AuditVerifyError> {
    // The seam between chunks: the `seq` and `hash` the next record must
    // follow. Before the first record, the chain must start at 0.
    let mut last: Option<(u64, String)> = None;
    let mut after: i64 = -1;
    let mut count: u64 = 0;
    let mut anchor_seq = None;
    loop {
        let mut rows = Vec::new();
        let mut bytes = 0usize;
        for row in sql.query(
            "SELECT seq, prev_hash, hash, event, record FROM audit_events
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            args![after, chunk_records],
        )? {
            let record = row.text(4)?;
            // At least one record per chunk; past that, stop at the budget
            // and let the next query pick up after the last record taken.
            if !rows.is_empty() && bytes.saturating_add(record.len()) > chunk_bytes {
                break;
            }
            bytes = bytes.saturating_add(record.len());
            rows.push(Row {
                seq: row.int(0)?,
                prev: row.text(1)?,
                hash: row.text(2)?,
                event: row.text(3)?,
                record,
            });
        }
        let Some(tail) = rows.last() else { break };
        after = tail.seq;

        let expected_first = last.as_ref().map_or(0, |(seq, _)| seq.saturating_add(1));
        let mut records = Vec::with_capacity(rows.len());
        for (offset, row) in (0u64..).zip(&rows) {
            let position = expected_first.saturating_add(offset);
            match parse_row(row) {
                Ok(record) => records.push(record),
                Err(message) => {
                    return Ok(AuditReport::Tampered {
                        code: "audit_bad_record".to_owned(),
                        seq: Some(u64::try_from(row.seq).unwrap_or(position)),
                        message,
                    });
                }
            }
        }
        let summary = match auditor.verify_segment(&records, last.as_ref()) {
            Ok(summary) => summary,
            Err(HostError::Op {
                code, message, seq, ..
            }) => {
                return Ok(AuditReport::Tampered { code, seq, message });
            }
            Err(err) => return Err(AuditVerifyError::Host(err)),
        };
        let head = summary
            .get("head")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                AuditVerifyError::Host(HostError::GuestBadResponse {
                    reason: "`audit_verify` answered without `head`".to_owned(),
                })
            })?
            .to_owned();
        let last_seq = summary
            .get("last_seq")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                AuditVerifyError::Host(HostError::GuestBadResponse {
                    reason: "`audit_verify` answered without `last_seq`".to_owned(),
                })
            })?;
        if let Some(anchor) = anchor
            && anchor_seq.is_none()
            && let Some(row) = rows.iter().find(|row| row.hash == anchor)
        {
            anchor_seq = u64::try_from(row.seq).ok();
        }
        count = count.saturating_add(u64::try_from(rows.len()).unwrap_or(u64::MAX));
        last = Some((last_seq, head));
    }

    let Some((last_seq, head)) = last else {
        return Ok(match anchor {
            None => AuditReport::Empty,
            Some(anchor) => AuditReport::Tampered {
                code: "audit_head_mismatch".to_owned(),
                seq: None,
                message: format!("the audit log is empty; the anchored head is `{anchor}`"),
            },
        });
    };
    if let Some(anchor) = anchor
        && anchor_seq.is_none()
    {
        return Ok(AuditReport::Tampered {
            code: "audit_head_mismatch".to_owned(),
            seq: Some(last_seq),
            message: format!(
                "no record of the audit chain (ending at {last_seq} with head `{head}`) has the \
                 anchored hash `{anchor}`: records were removed from its end, or it was rewritten"
            ),
        });
    }
    Ok(AuditReport::Valid {
        count,
        last_seq,
        head,
        anchor_seq,
    })
}

/// The stored record, after checking that the columns beside it (which
/// the store indexes and orders by) say what the record says.
fn parse_row(row: &Row) -> Result<Value, String> {
    let record: Value = serde_json::from_str(&row.record)
        .map_err(|err| format!("audit record {} is not json: {err}", row.seq))?;
    let agrees = record.get("seq").and_then(Value::as_i64) == Some(row.seq)
        && record.get("prev").and_then(Value::as_str) == Some(row.prev.as_str())
        && record.get("hash").and_then(Value::as_str) == Some(row.hash.as_str())
        && record.get("event").and_then(Value::as_str) == Some(row.event.as_str());
    if agrees {
        Ok(record)
    } else {
        Err(format!(
            "audit record {}: the stored columns (seq, prev_hash, hash, event) disagree with the record",
            row.seq
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;
    use crate::Runtime;
    use crate::gateway::{AuditEvent, Store};
    use serde_json::json;
    use std::path::Path;
    use std::sync::Arc;
    use std::sync::OnceLock;

    fn auditor() -> Auditor {
        static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
        let runtime = RUNTIME.get_or_init(|| Arc::new(Runtime::embedded().unwrap()));
        Auditor::new(Arc::clone(runtime)).unwrap()
    }

    /// A store holding records 0..count, closed again.
    fn log(count: i64) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Store::open(&path, auditor()).unwrap();
        for i in 0..count {
            store
                .record_event(
                    1000 + i,
                    &AuditEvent::new("token_denied", json!({ "code": format!("c{i}") })),
                )
                .unwrap();
        }
        (dir, path)
    }

    fn tamper(path: &Path, sql: &str) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(
            "DROP TRIGGER audit_events_append_only_update;
             DROP TRIGGER audit_events_append_only_delete;",
        )
        .unwrap();
        conn.execute_batch(sql).unwrap();
    }

    /// Chunks of two records, so every case crosses seams.
    fn check(path: &Path, anchor: Option<&str>) -> AuditReport {
        verify_in_chunks(
            &Database::Sqlite(path.to_owned()),
            &auditor(),
            anchor,
            2,
            CHUNK_BYTES,
        )
        .unwrap()
    }

    fn tampered(report: &AuditReport) -> (&str, Option<u64>) {
        match report {
            AuditReport::Tampered { code, seq, .. } => (code.as_str(), *seq),
            other => panic!("not tampered: {other:?}"),
        }
    }

    #[test]
    fn a_check_waits_for_a_connection_holding_the_file() {
        let (_dir, path) = log(3);
        // An exclusive-mode connection keeps every other connection out
        // until it closes, as a gateway's last connection does for the
        // moment it checkpoints the WAL on close.
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;")
            .unwrap();
        let busy = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap()
            .query_row("SELECT count(*) FROM audit_events", [], |r| {
                r.get::<_, i64>(0)
            });
        assert!(busy.is_err(), "the lock is not held: {busy:?}");
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(holder);
        });
        assert!(matches!(
            check(&path, None),
            AuditReport::Valid { count: 3, .. }
        ));
        release.join().unwrap();
    }

    #[test]
    fn a_log_read_in_many_chunks_verifies_and_names_its_anchor() {
        let (_dir, path) = log(7);
        let AuditReport::Valid {
            count,
            last_seq,
            head,
            anchor_seq: None,
        } = check(&path, None)
        else {
            panic!("not valid");
        };
        assert_eq!((count, last_seq), (7, 6));
        // The same answer whatever the chunking.
        assert_eq!(
            verify_log(&Database::Sqlite(path.clone()), &auditor(), None).unwrap(),
            AuditReport::Valid {
                count,
                last_seq,
                head: head.clone(),
                anchor_seq: None
            }
        );
        let conn = Connection::open(&path).unwrap();
        let third: String = conn
            .query_row("SELECT hash FROM audit_events WHERE seq = 3", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(matches!(
            check(&path, Some(&third)),
            AuditReport::Valid {
                anchor_seq: Some(3),
                ..
            }
        ));
        assert_eq!(
            tampered(&check(&path, Some("not-a-head"))).0,
            "audit_head_mismatch"
        );
    }

    #[test]
    fn deletions_at_a_seam_and_at_the_start_are_found_where_they_are() {
        let (_dir, path) = log(7);
        // Chunks [0, 1], [3, 4], …: the gap is between chunks.
        tamper(&path, "DELETE FROM audit_events WHERE seq = 2");
        assert_eq!(
            tampered(&check(&path, None)),
            ("audit_bad_sequence", Some(2))
        );

        let (_dir, path) = log(4);
        tamper(&path, "DELETE FROM audit_events WHERE seq = 0");
        assert_eq!(
            tampered(&check(&path, None)),
            ("audit_bad_sequence", Some(0))
        );
    }

    #[test]
    fn edits_inside_a_chunk_and_at_its_seam_are_found_at_their_record() {
        let (_dir, path) = log(7);
        tamper(
            &path,
            "UPDATE audit_events SET record = replace(record, '\"c5\"', '\"cX\"') WHERE seq = 5",
        );
        assert_eq!(tampered(&check(&path, None)), ("audit_bad_hash", Some(5)));

        // Record 2 of another log: its own hash is right, its `prev` is
        // not this log's record 1. Chunks [0, 1], [2, 3]: across the seam.
        let (_dir, path) = log(5);
        let (_other_dir, other) = log(0);
        let store = Store::open(&other, auditor()).unwrap();
        for i in 0..3 {
            store
                .record_event(
                    5000 + i,
                    &AuditEvent::new("token_denied", json!({ "code": "other" })),
                )
                .unwrap();
        }
        drop(store);
        let (record, prev, hash): (String, String, String) = Connection::open(&other)
            .unwrap()
            .query_row(
                "SELECT record, prev_hash, hash FROM audit_events WHERE seq = 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        tamper(
            &path,
            &format!(
                "UPDATE audit_events SET record = '{record}', prev_hash = '{prev}', hash = '{hash}' WHERE seq = 2"
            ),
        );
        let report = check(&path, None);
        assert_eq!(tampered(&report), ("audit_broken_link", Some(2)));
        // Read in one chunk, the module finds the same break.
        let report = verify_log(&Database::Sqlite(path.clone()), &auditor(), None).unwrap();
        assert_eq!(tampered(&report), ("audit_broken_link", Some(2)));
    }

    #[test]
    fn columns_that_disagree_with_their_record_are_found() {
        let (_dir, path) = log(3);
        tamper(
            &path,
            "UPDATE audit_events SET event = 'token_issued' WHERE seq = 1",
        );
        assert_eq!(tampered(&check(&path, None)), ("audit_bad_record", Some(1)));
    }

    #[test]
    fn an_empty_log_is_empty_unless_a_head_was_expected() {
        let (_dir, path) = log(0);
        assert_eq!(check(&path, None), AuditReport::Empty);
        assert_eq!(
            tampered(&check(&path, Some("h"))),
            ("audit_head_mismatch", None)
        );
    }
}
