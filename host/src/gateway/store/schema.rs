//! The schema: versioned migrations, applied once each, in order, in both
//! engines' dialects. Version `i` is the same schema in both: the same
//! tables, columns, keys and rules, each written as its engine reads it.

use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;
use super::sql::PgConn;

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
    // 7: each token the gateway issues has a place in a status list
    // (`status_idx`: list `idx >> 20`, bit `idx & (2^20 - 1)`), and
    // `next_idx` is the first place not yet handed to any gateway (they
    // reserve blocks of places, one write a block). A place is never
    // reused; rows recorded before, and delegated children, have none.
    r"
    ALTER TABLE sec_capability_tokens ADD COLUMN status_idx INTEGER NULL CHECK (status_idx >= 0);
    CREATE UNIQUE INDEX sec_capability_tokens_by_status_idx
        ON sec_capability_tokens (status_idx);
    CREATE TABLE sec_status_state (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        next_idx INTEGER NOT NULL CHECK (next_idx >= 0)
    ) STRICT;
    INSERT INTO sec_status_state (id, next_idx) VALUES (1, 0);
    ",
];

/// The same migrations as [`MIGRATIONS`], for PostgreSQL: integers are
/// `BIGINT` (the store's are seconds and sequence numbers), a JSON column
/// is text that must cast to `jsonb`, and the audit log refuses `UPDATE`,
/// `DELETE` and `TRUNCATE` by triggers. Text compares byte by byte
/// (`COLLATE "C"`, as SQLite's `BINARY`), so both engines sort ids, and so
/// write revocation lists, alike. The version is kept in `captoken_schema`.
pub(super) const POSTGRES_MIGRATIONS: &[&str] = &[
    // 1
    r#"
    CREATE TABLE sec_capability_tokens (
        token_id                TEXT COLLATE "C" PRIMARY KEY,
        workspace_id            TEXT COLLATE "C" NOT NULL,
        issued_to_principal_id  TEXT COLLATE "C" NOT NULL,
        granted_by_principal_id TEXT COLLATE "C" NOT NULL,
        parent_token_id         TEXT COLLATE "C" NULL REFERENCES sec_capability_tokens (token_id),
        scopes                  TEXT COLLATE "C" NOT NULL DEFAULT '{}' CHECK ((scopes::jsonb) IS NOT NULL),
        valid_until             BIGINT NULL,
        revoked_at              BIGINT NULL,
        created_at              BIGINT NOT NULL
    );
    CREATE INDEX sec_capability_tokens_by_principal
        ON sec_capability_tokens (issued_to_principal_id, valid_until);
    CREATE INDEX sec_capability_tokens_by_workspace_principal
        ON sec_capability_tokens (workspace_id, issued_to_principal_id, valid_until);
    CREATE INDEX sec_capability_tokens_by_parent
        ON sec_capability_tokens (parent_token_id);

    CREATE TABLE sec_delegation_edges (
        parent_token_id TEXT COLLATE "C" NOT NULL,
        child_token_id  TEXT COLLATE "C" NOT NULL,
        depth           BIGINT NOT NULL CHECK (depth >= 1),
        created_at      BIGINT NOT NULL,
        PRIMARY KEY (parent_token_id, child_token_id)
    );
    CREATE INDEX sec_delegation_edges_by_child ON sec_delegation_edges (child_token_id);

    CREATE TABLE sec_revocations (
        jti                     TEXT COLLATE "C" PRIMARY KEY,
        revoked_at              BIGINT NOT NULL,
        revoked_by_principal_id TEXT COLLATE "C" NOT NULL,
        reason                  TEXT COLLATE "C" NULL
    );

    CREATE TABLE audit_events (
        seq        BIGINT PRIMARY KEY,
        prev_hash  TEXT COLLATE "C" NOT NULL,
        hash       TEXT COLLATE "C" NOT NULL UNIQUE,
        event      TEXT COLLATE "C" NOT NULL,
        record     TEXT COLLATE "C" NOT NULL CHECK ((record::jsonb) IS NOT NULL),
        created_at BIGINT NOT NULL
    );
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_events is append-only'; END
    $$;
    CREATE TRIGGER audit_events_append_only_change BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
    CREATE TRIGGER audit_events_append_only_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
    "#,
    // 2
    r#"
    CREATE TABLE sec_revocation_list_state (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL CHECK (seq >= 0)
    );
    INSERT INTO sec_revocation_list_state (id, seq) SELECT 1, count(*) FROM sec_revocations;
    "#,
    // 3
    r#"
    CREATE TABLE sec_replay (
        key        TEXT COLLATE "C" PRIMARY KEY,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX sec_replay_by_expiry ON sec_replay (expires_at);
    "#,
    // 4
    r#"
    ALTER TABLE sec_capability_tokens ADD COLUMN token_sha256 TEXT COLLATE "C" NULL;
    "#,
    // 5
    r#"
    CREATE TABLE sec_replay_state (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        purged_until BIGINT NOT NULL
    );
    INSERT INTO sec_replay_state (id, purged_until) VALUES (1, 0);
    "#,
    // 6
    r#"
    ALTER TABLE audit_events ADD COLUMN workspace_id TEXT COLLATE "C" NOT NULL DEFAULT 'default';
    CREATE INDEX audit_events_by_workspace ON audit_events (workspace_id, seq);
    "#,
    // 7
    r#"
    ALTER TABLE sec_capability_tokens ADD COLUMN status_idx BIGINT NULL CHECK (status_idx >= 0);
    CREATE UNIQUE INDEX sec_capability_tokens_by_status_idx
        ON sec_capability_tokens (status_idx);
    CREATE TABLE sec_status_state (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        next_idx BIGINT NOT NULL CHECK (next_idx >= 0)
    );
    INSERT INTO sec_status_state (id, next_idx) VALUES (1, 0);
    "#,
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const _: () = assert!(
    POSTGRES_MIGRATIONS.len() == MIGRATIONS.len(),
    "every schema version is written for both engines"
);

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

/// Migrates a PostgreSQL database to [`SCHEMA_VERSION`], holding the
/// writers' lock, so gateways starting together migrate it once.
pub(super) fn migrate_postgres(conn: &mut PgConn) -> Result<(), StoreError> {
    let mut tx = conn.client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&super::pg::WRITE_LOCK],
    )?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS captoken_schema (
             id      INTEGER PRIMARY KEY CHECK (id = 1),
             version BIGINT NOT NULL
         )",
    )?;
    let found: i64 = tx
        .query_opt("SELECT version FROM captoken_schema WHERE id = 1", &[])?
        .map_or(Ok(0), |row| row.try_get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (version, sql) in (1_i64..)
        .zip(POSTGRES_MIGRATIONS)
        .skip_while(|(v, _)| *v <= found)
    {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO captoken_schema (id, version) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            &[&version],
        )?;
    }
    tx.commit()?;
    Ok(())
}
