#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
use super::*;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

fn auditor() -> Auditor {
    static RUNTIME: OnceLock<Arc<crate::Runtime>> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| Arc::new(crate::Runtime::embedded().unwrap()));
    Auditor::new(Arc::clone(runtime)).unwrap()
}

fn open(path: &Path) -> Result<Store, StoreError> {
    Store::open(path, auditor())
}

/// A fresh SQLite store, in a directory that lives as long as the guard.
fn fresh_sqlite() -> (Store, Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::Sqlite(dir.path().join("s.db"));
    (Store::open_database(&db, auditor()).unwrap(), db, dir)
}

/// The server the PostgreSQL half of the tests runs on (scripts/test.sh
/// starts a throwaway one and sets it).
const POSTGRES_ENV: &str = "CAPTOKEN_TEST_POSTGRES";

/// A fresh PostgreSQL store: a schema of its own on the server
/// [`POSTGRES_ENV`] names, so tests run side by side. `None`, with a loud
/// SKIPPED line, without a server.
fn fresh_postgres(test: &str) -> Option<(Store, Database)> {
    let Ok(base) = std::env::var(POSTGRES_ENV) else {
        eprintln!(
            "SKIPPED: store test `{test}` on PostgreSQL: {POSTGRES_ENV} is not set \
             (scripts/test.sh starts a throwaway server and sets it)"
        );
        return None;
    };
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!(
        "t{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let join = if base.contains('?') { '&' } else { '?' };
    let db = Database::Postgres(format!("{base}{join}options=-csearch_path%3D{schema}"));
    Some((Store::open_database(&db, auditor()).unwrap(), db))
}

/// Tests of the store's rules, each run as two tests: `NAME::sqlite` and
/// `NAME::postgres`, on a fresh store of each engine.
macro_rules! on_both_engines {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($store:ident, $db:ident) $body:block
    )*) => {$(
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[allow(unused_variables, clippy::needless_pass_by_value)]
            fn run($store: Store, $db: Database) $body

            #[test]
            fn sqlite() {
                let (store, db, _dir) = fresh_sqlite();
                run(store, db);
            }

            #[test]
            fn postgres() {
                if let Some((store, db)) = fresh_postgres(stringify!($name)) {
                    run(store, db);
                }
            }
        }
    )*};
}

/// The SQLite engine, for tests of its own behaviour.
fn sqlite(store: &Store) -> &SqliteEngine {
    match &store.engine {
        Engine::Sqlite(engine) => engine,
        Engine::Postgres(_) => panic!("a SQLite store was expected"),
    }
}

/// Runs a statement of a test's own in a write of `store`.
fn raw_write(store: &Store, statement: &str) -> Result<usize, StoreError> {
    store.write(|sql, _| sql.execute(statement, &[]))
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
        status_idx: None,
    }
}

on_both_engines! {
fn the_revocation_list_drops_ids_once_their_root_has_expired(store, db) {
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
    raw_write(
        &store,
        "INSERT INTO sec_revocations VALUES ('stranger', 500, 'admin', NULL)",
    )
    .unwrap();
    raw_write(
        &store,
        "UPDATE sec_revocation_list_state SET seq = seq + 1",
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

fn migrates_once_and_refuses_a_newer_schema(store, db) {
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    // Opening again does not re-run migration 1 (it would fail on
    // CREATE TABLE).
    let store = Store::open_database(&db, auditor()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let newer = match &db {
        Database::Sqlite(_) => "PRAGMA user_version = 99",
        Database::Postgres(_) => "UPDATE captoken_schema SET version = 99",
    };
    raw_write(&store, newer).unwrap();
    drop(store);
    let err = Store::open_database(&db, auditor()).unwrap_err();
    assert_eq!(err.code(), "store_too_new");
}

fn revoking_a_parent_marks_its_descendants_and_is_idempotent(store, db) {
    store
        .insert_token(&row("p", None, "alice", 1000), &issued("x"))
        .unwrap();
    // A child its holder minted: its id names its parent.
    store
        .insert_token(&row("p.c", Some("p"), "bob", 1000), &issued("x"))
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
    assert_eq!(store.first_revoked(&["x", "p.c", "p"]).unwrap(), Some("p"));
    assert_eq!(store.first_revoked(&["other"]).unwrap(), None);
    let unknown = store
        .revoke("never-issued", "admin", None, 700, "token_revoked")
        .unwrap_err();
    assert_eq!(unknown.code(), "unknown_token");
}

fn a_bare_jti_revokes_the_one_recorded_token_it_names(store, db) {
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

fn lists_only_active_tokens_unless_asked(store, db) {
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

fn audit_log_is_append_only(store, db) {
    raw_write(
        &store,
        "INSERT INTO audit_events (seq, prev_hash, hash, event, record, created_at)
         VALUES (1, '', 'h1', 'e', '{}', 1)",
    )
    .unwrap();
    assert!(raw_write(&store, "UPDATE audit_events SET event = 'x'").is_err());
    assert!(raw_write(&store, "DELETE FROM audit_events").is_err());
    if matches!(db, Database::Postgres(_)) {
        assert!(raw_write(&store, "TRUNCATE audit_events").is_err());
    }
    assert_eq!(audit_rows(&store), [(1, "e".to_owned())]);
}

fn a_replay_is_answered_from_a_read_and_only_a_first_use_writes(store, db) {
    // Counts the store's commits.
    let commits = store.commits();
    let committed = || *commits.borrow();
    let chain = keys(&["root", "root.child"]);
    let before = committed();
    assert_eq!(
        store.spend(&chain, &chain, 1400, 1000).unwrap(),
        Spend::Fresh
    );
    let written = committed();
    assert_ne!(written, before, "a first use is committed");
    for _ in 0..3 {
        assert_eq!(
            store.spend(&chain, &chain, 1400, 1001).unwrap(),
            Spend::Replayed
        );
    }
    assert_eq!(committed(), written, "replays wrote nothing");
    // A sibling spent through the same grant: replayed, and nothing
    // written, since the grant's entry outlives it.
    let sibling = keys(&["root", "root.other"]);
    assert_eq!(
        store.spend(&sibling, &sibling, 1300, 1002).unwrap(),
        Spend::Replayed
    );
    assert_eq!(committed(), written);
    // The parent itself, kept longer than its child: replayed, and its
    // entry now kept as long as the parent could be presented.
    let parent = keys(&["root"]);
    assert_eq!(
        store.spend(&parent, &parent, 2000, 1003).unwrap(),
        Spend::Replayed
    );
    assert_ne!(committed(), written);
    store.purge_replay(1500, 100).unwrap();
    assert_eq!(
        store.spend(&parent, &parent, 2000, 1501).unwrap(),
        Spend::Replayed
    );
}

fn a_clock_stepped_forward_then_back_does_not_re_allow_a_use(store, db) {
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

fn the_replay_guard_is_purged_in_batches_oldest_first(store, db) {
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

fn every_change_appends_one_linked_record_and_a_failed_change_none(store, db) {
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
    let report = super::verify_log(&db, &auditor(), None).unwrap();
    assert!(
        matches!(
            report,
            super::AuditReport::Valid {
                count: 2,
                last_seq: 1,
                ..
            }
        ),
        "{report:?}"
    );
}

fn the_revocation_list_seq_rises_with_each_new_revocation(store, db) {
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

fn places_are_handed_out_once_and_a_revoked_place_leaves_the_id_list(store, db) {
    // Blocks reserved one after another, and from several threads at
    // once, never overlap.
    assert_eq!(store.status_next().unwrap(), 0);
    assert_eq!(store.reserve_status(4).unwrap(), 0);
    assert_eq!(store.reserve_status(4).unwrap(), 4);
    let store = std::sync::Arc::new(store);
    let firsts: Vec<i64> = (0..8)
        .map(|_| {
            let store = std::sync::Arc::clone(&store);
            std::thread::spawn(move || store.reserve_status(10).unwrap())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    let mut sorted = firsts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..8).map(|k| 8 + 10 * k).collect::<Vec<_>>());
    assert_eq!(store.status_next().unwrap(), 88);

    let mut placed = row("placed", None, "alice", 1000);
    placed.status_idx = Some(5);
    store.insert_token(&placed, &issued("placed")).unwrap();
    let mut other = row("other", None, "alice", 1000);
    other.status_idx = Some(6);
    store.insert_token(&other, &issued("other")).unwrap();
    // A place is one token's: the store refuses a second.
    let mut twice = row("twice", None, "alice", 1000);
    twice.status_idx = Some(5);
    assert!(store.insert_token(&twice, &issued("twice")).is_err());
    store
        .insert_token(&row("placed.child", Some("placed"), "bob", 1000), &issued("c"))
        .unwrap();
    store
        .revoke("placed", "admin", None, 40, "token_revoked")
        .unwrap();
    store
        .revoke("placed.child", "admin", None, 41, "token_revoked")
        .unwrap();
    // The placed root is revoked by its bit, not listed by id; its child,
    // which has no place of its own, stays listed.
    let snapshot = store.status_revoked(0, 64).unwrap();
    assert_eq!((snapshot.seq, snapshot.revoked), (2, vec![5]));
    assert!(store.status_revoked(6, 64).unwrap().revoked.is_empty());
    let ids = store.revocation_list(45, 0).unwrap();
    assert_eq!(
        ids.entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["placed.child"]
    );
    let _ = &db;
}

fn revoking_a_grant_lists_the_descendants_the_gateway_signed(store, db) {
    // root → child (signed by the gateway: its own id) → child.x (minted
    // by child's holder: its id names child) and child → grandchild.
    store.insert_token(&row("root", None, "alice", 1000), &issued("root")).unwrap();
    store.insert_token(&row("child", Some("root"), "bob", 1000), &issued("child")).unwrap();
    store.insert_token(&row("child.x", Some("child"), "carol", 1000), &issued("child.x")).unwrap();
    store.insert_token(&row("grandchild", Some("child"), "dan", 1000), &issued("gc")).unwrap();
    let lineage = store.lineage("grandchild").unwrap().unwrap();
    assert_eq!(lineage.ids, ["root", "child", "grandchild"]);
    assert_eq!(store.lineage("nobody").unwrap(), None);
    let before = audit_rows(&store).len();
    store.revoke("child", "admin", Some("lost"), 40, "token_revoked").unwrap();
    // The named id and the gateway-signed descendant are listed; the
    // holder-minted one is refused through its own id's chain.
    assert_eq!(store.first_revoked(&["grandchild"]).unwrap(), Some("grandchild"));
    assert_eq!(store.first_revoked(&["child"]).unwrap(), Some("child"));
    assert_eq!(store.first_revoked(&["child.x", "root"]).unwrap(), None);
    let list = store.revocation_list(45, 0).unwrap();
    assert_eq!(list.seq, 1);
    assert_eq!(
        list.entries.iter().map(|e| (e.id.as_str(), e.reason.as_deref())).collect::<Vec<_>>(),
        [("child", Some("lost")), ("grandchild", Some("lost"))]
    );
    // One revocation, one audit record.
    assert_eq!(audit_rows(&store).len(), before + 1);
    let _ = &db;
}
}

/// What makes an acknowledged write survive power loss, not only a
/// killed process (which the crash test covers, and which keeps the
/// page cache): WAL with every commit fsynced.
#[test]
fn every_connection_commits_durably() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("s.db")).unwrap();
    let writer = lock(&sqlite(&store).writer);
    let reader = lock(&sqlite(&store).reader);
    for conn in [&writer.conn, &*reader] {
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2), "2 is FULL");
    }
}

fn audit_rows(store: &Store) -> Vec<(i64, String)> {
    store
        .read(false, |sql| {
            sql.query("SELECT seq, event FROM audit_events ORDER BY seq", &[])?
                .iter()
                .map(|row| Ok((row.int(0)?, row.text(1)?)))
                .collect()
        })
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

/// Writes that queue behind one another share one commit, and each still
/// returns its own outcome: a failing one takes nothing of the others with
/// it, and every acknowledged one is in the file, in one intact chain.
#[test]
fn queued_writes_share_one_commit_and_keep_their_own_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Arc::new(open(&path).unwrap());
    const WRITES: usize = 12;
    let before = lock(&sqlite(&store).writer).commits;
    // Hold the writer while every write queues behind it.
    let held = lock(&sqlite(&store).writer);
    let threads: Vec<_> = (0..WRITES)
        .map(|i| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                if i == 5 {
                    // Refused: nothing of it kept, nothing of the others lost.
                    store
                        .revoke("no-such-token", "admin", None, 200, "token_revoked")
                        .map(|_| ())
                } else {
                    let id = format!("t{i}");
                    store.insert_token(&row(&id, None, "alice", 1000), &issued(&id))
                }
            })
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sqlite(&store).queued.load(Ordering::SeqCst) < WRITES {
        assert!(
            std::time::Instant::now() < deadline,
            "the writes did not queue"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(held);
    let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for (i, outcome) in outcomes.iter().enumerate() {
        match (i, outcome) {
            (5, Err(err)) => assert_eq!(err.code(), "unknown_token"),
            (5, Ok(())) => panic!("a revocation of nothing was acknowledged"),
            (_, outcome) => assert!(outcome.is_ok(), "write {i}: {outcome:?}"),
        }
    }
    assert_eq!(
        lock(&sqlite(&store).writer).commits - before,
        1,
        "the queued writes should have shared one commit"
    );
    drop(store);
    // Reopened from the file: every acknowledged write is there, chained.
    let store = open(&path).unwrap();
    let rows = store.tokens_of("alice", None, 0, true, 100).unwrap();
    assert_eq!(rows.len(), WRITES - 1);
    match verify_log(&Database::Sqlite(path), &auditor(), None).unwrap() {
        AuditReport::Valid { count, .. } => assert_eq!(count, (WRITES - 1) as u64),
        other => panic!("the chain after a group commit: {other:?}"),
    }
}

/// A write that panics inside a group is undone alone; the group's other
/// writes are committed and answered, and the panic reaches its caller.
#[test]
fn a_write_that_panics_in_a_group_takes_nothing_else_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Arc::new(open(&path).unwrap());
    let held = lock(&sqlite(&store).writer);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                if i == 2 {
                    store.write(|conn, _| -> Result<(), StoreError> {
                        // Half done when it fails: this row must not be kept.
                        tokens::insert_row(conn, &row("ghost", None, "bob", 1000)).unwrap();
                        panic!("a bug in a write")
                    })
                } else {
                    let id = format!("p{i}");
                    store.insert_token(&row(&id, None, "bob", 1000), &issued(&id))
                }
            })
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sqlite(&store).queued.load(Ordering::SeqCst) < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writes did not queue"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(held);
    for (i, thread) in threads.into_iter().enumerate() {
        let joined = thread.join();
        if i == 2 {
            assert!(joined.is_err(), "the panic must reach the caller");
        } else {
            assert!(joined.unwrap().is_ok(), "write {i}");
        }
    }
    assert_eq!(store.tokens_of("bob", None, 0, true, 10).unwrap().len(), 3);
    // The store still writes afterwards.
    store
        .insert_token(&row("after", None, "bob", 1000), &issued("after"))
        .unwrap();
}

#[test]
fn the_database_is_chosen_by_its_scheme_and_shown_without_a_password() {
    let parse = |text: &str| Database::parse(text);
    assert_eq!(
        parse("captoken-data/captoken.db").unwrap(),
        Database::Sqlite("captoken-data/captoken.db".into())
    );
    assert_eq!(
        parse("sqlite:///var/lib/c.db").unwrap(),
        Database::Sqlite("/var/lib/c.db".into())
    );
    for url in ["postgres://u@h:5432/db", "postgresql://u@h/db"] {
        assert_eq!(parse(url).unwrap(), Database::Postgres(url.to_owned()));
    }
    assert_eq!(
        parse("POSTGRES://u@h/db").unwrap(),
        Database::Postgres("postgres://u@h/db".to_owned())
    );
    // Any other scheme is refused, never taken as a file name.
    for bad in ["mysql://root@h/db", "redis://h", "sqlite://", ""] {
        assert_eq!(parse(bad).unwrap_err().code(), "store_bad_url", "{bad:?}");
    }
    // A path that merely contains `://` after a non-scheme is a path.
    assert!(matches!(parse("./a b://c").unwrap(), Database::Sqlite(_)));
    // Start-up prints the store: never its password.
    let shown = parse("postgres://captoken:s3cret@db.internal:5432/captoken?sslmode=disable")
        .unwrap()
        .to_string();
    assert_eq!(
        shown,
        "postgres://captoken:***@db.internal:5432/captoken?sslmode=disable"
    );
    assert!(!format!("{:?}", parse("postgres://u:pw@h/d").unwrap()).contains("pw"));
    assert_eq!(
        parse("postgres://u@h/d").unwrap().to_string(),
        "postgres://u@h/d"
    );
}
