//! The schema: versioned migrations, applied once each, in order.

use super::*;

/// The schema, one migration per version: migration `i` takes the database
/// from `user_version` `i` to `i + 1`. Released migrations never change;
/// a change of schema is a new entry.
pub(super) const MIGRATIONS: &[&str] = &[
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
    // 6: the workspace of each audit record, for the event stream
    // (`GET /v1/events?workspace_id=`). Beside the record, not in it: the
    // chain's format is the module's; the column is append-only with its
    // row (the triggers above refuse any UPDATE).
    r"
    ALTER TABLE audit_events ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'default';
    CREATE INDEX audit_events_by_workspace ON audit_events (workspace_id, seq);
    ",
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // Each write of a group runs in a savepoint, whose undo journal would
    // otherwise be a temporary file: keep it in memory (it is never needed
    // after a crash; the WAL is what makes a commit durable).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
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
