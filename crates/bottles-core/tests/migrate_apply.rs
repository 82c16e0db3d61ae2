//! Applying migrations on real servers: in order and once, killed mid-way, two deploys at
//! once (also through a real PgBouncer in transaction mode), and the refusals that leave the
//! database untouched; what to do when a deploy cannot simply run (`recovery`). Each test has
//! a scratch database of its own.

use std::time::{Duration, Instant};

use bottles_core::migrate::{
    self, MigrateError, MigrateOptions, MigrateReport, MigrationSet, record_all_applied,
};
use bottles_core::{Database, Error};
use throwaway_pg::{LocalBouncer, LocalServer, ScratchDatabase, psql};

#[path = "migrate_apply/recovery.rs"]
mod recovery;

const TABLE: (&str, &str) = (
    "0001_note.sql",
    "CREATE TABLE note (id integer PRIMARY KEY, body text NOT NULL);\n",
);
const COLUMN: (&str, &str) = (
    "0002_note_author.sql",
    "ALTER TABLE note ADD COLUMN author text;\n",
);
/// Slow enough that a second deploy arrives while it runs.
const SLOW_COLUMN: (&str, &str) = (
    "0002_note_author.sql",
    "ALTER TABLE note ADD COLUMN author text;\nSELECT pg_sleep(1);\n",
);
const INDEX: (&str, &str) = (
    "0003_note_author_idx.sql",
    "-- bottles: no-transaction\n\
     -- Built without blocking writes; a transaction would refuse it.\n\
     CREATE INDEX CONCURRENTLY note_author_idx ON note (author);\n",
);

/// The history once `TABLE`, `COLUMN` (or `SLOW_COLUMN`) and `INDEX` are applied.
const ALL_THREE: &str = "1|note|done|t\n2|note_author|done|t\n3|note_author_idx|done|t";
const INDEX_VALID: &str =
    "SELECT indisvalid FROM pg_index WHERE indexrelid = 'note_author_idx'::regclass";
const DRY_RUN: MigrateOptions = MigrateOptions {
    dry_run: true,
    lock_timeout: Duration::from_secs(5),
    lock_wait: Duration::from_secs(60),
};

/// How long a test's deploy waits for another's lock.
const WAIT: Duration = Duration::from_secs(60);

fn scratch() -> ScratchDatabase {
    let server = throwaway_pg::env_or_shared_server("DATABASE_URL");
    ScratchDatabase::create(server, "migrate").expect("a scratch database")
}

async fn open(url: &str) -> Database {
    Database::open(Some(url)).await.expect("open the database")
}

fn set(files: &[(&str, &str)]) -> MigrationSet {
    MigrationSet::from_files(files).expect("valid files")
}

fn sql(url: &str, query: &str) -> String {
    psql(url, query).unwrap_or_else(|err| panic!("{query}: {err}"))
}

/// `version|name|state|duration known` per history row.
fn history(url: &str) -> String {
    sql(
        url,
        "SELECT version, name, state, duration_ms IS NOT NULL FROM bottles_migrations ORDER BY version",
    )
}

/// Everything a migration could have changed: the history's every column, every column and
/// index of the schema.
fn snapshot(url: &str) -> String {
    sql(
        url,
        "SELECT coalesce(string_agg(line, E'\\n' ORDER BY line), '') FROM ( \
           SELECT format('%s.%s %s', table_name, column_name, data_type) AS line \
           FROM information_schema.columns WHERE table_schema = 'public' \
           UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' \
           UNION ALL SELECT format('%s', m) FROM bottles_migrations AS m) AS schema",
    )
}

/// [`migrate::migrate`] with the default options.
async fn apply(database: &Database, files: &MigrationSet) -> Result<MigrateReport, Error> {
    migrate::migrate(database, files, &MigrateOptions::default()).await
}

fn versions(report: &MigrateReport) -> Vec<u32> {
    report
        .applied
        .iter()
        .map(|applied| applied.version)
        .collect()
}

/// The error's message, checked to be one line.
fn one_line(err: &Error) -> String {
    let text = err.to_string();
    assert!(!text.contains('\n'), "{text:?}");
    text
}

#[tokio::test]
async fn files_apply_in_order_once_and_a_dry_run_changes_nothing() {
    let db = scratch();
    let (url, database) = (db.url(), open(db.url()).await);
    let files = set(&[INDEX, TABLE, COLUMN]);

    let planned = migrate::migrate(&database, &files, &DRY_RUN).await.unwrap();
    let pending: Vec<_> = planned.pending_sql.iter().map(|p| p.0).collect();
    assert_eq!((pending, planned.applied.len()), (vec![1, 2, 3], 0));
    assert_eq!(planned.pending_sql[2].2, INDEX.1);
    let untouched = "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace";
    assert_eq!(sql(url, untouched), "0", "not even the history table");
    let before = migrate::status(&database, &files).await.unwrap();
    assert!(before.applied.is_empty() && before.refusal.is_none());
    assert_eq!(before.pending[0], (1, "note".to_string()));

    let report = apply(&database, &files).await.unwrap();
    assert_eq!(versions(&report), [1, 2, 3]);
    assert_eq!(
        (history(url), sql(url, INDEX_VALID)),
        (ALL_THREE.into(), "t".into())
    );
    let checksums = sql(
        url,
        "SELECT checksum FROM bottles_migrations ORDER BY version",
    );
    let expected: Vec<_> = files.iter().map(|m| m.checksum.as_str()).collect();
    assert_eq!(checksums, expected.join("\n"));

    let again = apply(&database, &files);
    assert!(again.await.unwrap().applied.is_empty());
    let status = migrate::status(&database, &files).await.unwrap();
    assert!(status.pending.is_empty() && status.refusal.is_none());
    let applied: Vec<_> = status.applied.iter().map(|r| (r.version, r.done)).collect();
    assert_eq!(applied, [(1, true), (2, true), (3, true)]);
    let last = &status.applied[2];
    let at = last.applied_at.as_deref().unwrap_or_default();
    assert!(
        at.ends_with(" UTC") && last.duration_ms.is_some(),
        "{last:?}"
    );

    let more = set(&[
        TABLE,
        COLUMN,
        INDEX,
        ("0004_drop_body.sql", "ALTER TABLE note DROP body;"),
    ]);
    let before = snapshot(url);
    let planned = migrate::migrate(&database, &more, &DRY_RUN).await.unwrap();
    assert_eq!(
        planned.pending_sql,
        [(4, "drop_body".into(), "ALTER TABLE note DROP body;".into())]
    );
    let status = migrate::status(&database, &more).await.unwrap();
    assert_eq!(status.pending, [(4, "drop_body".to_string())]);
    assert_eq!(snapshot(url), before);
}

#[tokio::test]
async fn a_migration_killed_mid_way_leaves_the_previous_version_and_a_rerun_applies_it() {
    let db = scratch();
    let (url, database) = (db.url(), open(db.url()).await);
    let first = set(&[TABLE]);
    apply(&database, &first).await.unwrap();
    let tag =
        "CREATE TABLE tag (id integer PRIMARY KEY);\nALTER TABLE note ADD COLUMN author text;\n";
    let files = set(&[TABLE, ("0002_tag_and_author.sql", tag)]);

    // A reader holds note, so the ALTER after CREATE TABLE tag waits for it.
    let others = open(url).await;
    let (mut reader, killer) = (
        others.client().await.unwrap(),
        others.client().await.unwrap(),
    );
    let reading = reader.transaction().await.unwrap();
    reading
        .batch_execute("LOCK TABLE note IN ACCESS SHARE MODE")
        .await
        .unwrap();
    let before = snapshot(url);

    let impatient = MigrateOptions {
        lock_timeout: Duration::from_millis(200),
        ..MigrateOptions::default()
    };
    let err = migrate::migrate(&database, &files, &impatient)
        .await
        .unwrap_err();
    assert_eq!(
        one_line(&err),
        "migration 0002_tag_and_author failed: canceling statement due to lock timeout (SQLSTATE 55P03)"
    );
    assert_eq!(snapshot(url), before);

    let patient = MigrateOptions {
        lock_timeout: Duration::from_secs(60),
        ..MigrateOptions::default()
    };
    let kill = async {
        let find = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                    WHERE datname = current_database() AND wait_event_type = 'Lock' \
                    AND query LIKE 'CREATE TABLE tag%'";
        let deadline = Instant::now() + Duration::from_secs(10);
        while killer.query(find, &[]).await.unwrap().is_empty() {
            assert!(
                Instant::now() < deadline,
                "the migration never waited for the lock"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (killed, ()) = tokio::join!(migrate::migrate(&database, &files, &patient), kill);
    let err = killed.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Migrate(MigrateError::Failed { version: 2, .. })
        ),
        "{err:?}"
    );
    assert!(one_line(&err).contains("terminating connection due to administrator command"));
    assert_eq!(
        snapshot(url),
        before,
        "no table tag, no column, no history row"
    );

    reading.rollback().await.unwrap();
    let rerun = migrate::migrate(&database, &files, &patient).await.unwrap();
    assert_eq!(versions(&rerun), [2]);
    assert_eq!(history(url), "1|note|done|t\n2|tag_and_author|done|t");
    assert_eq!(
        sql(url, "SELECT count(*) FROM tag, note WHERE author IS NULL"),
        "0"
    );
}

#[tokio::test]
async fn two_deploys_at_once_apply_each_file_once() {
    let db = scratch();
    let (one, two) = (open(db.url()).await, open(db.url()).await);
    let files = set(&[TABLE, SLOW_COLUMN, INDEX]);
    let (a, b) = tokio::join!(apply(&one, &files), apply(&two, &files));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut counts = [a.applied.len(), b.applied.len()];
    counts.sort();
    // One deploy applied everything; the other waited, then found it all done.
    assert_eq!((counts, history(db.url())), ([0, 3], ALL_THREE.into()));
}

#[tokio::test]
async fn a_changed_file_is_refused_and_nothing_changes() {
    let db = scratch();
    let (url, database) = (db.url(), open(db.url()).await);
    apply(&database, &set(&[TABLE, COLUMN])).await.unwrap();
    let before = snapshot(url);

    let tampered = (
        "0002_note_author.sql",
        "ALTER TABLE note ADD COLUMN author varchar(80);\n",
    );
    let files = set(&[TABLE, tampered, INDEX]);
    let expected = "migration 0002_note_author was changed after it was applied (its checksum differs): restore the file, or write a new migration";
    let err = apply(&database, &files).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Migrate(MigrateError::ChecksumMismatch { version: 2, .. })
    ));
    assert_eq!(one_line(&err), expected);
    let err = migrate::migrate(&database, &files, &DRY_RUN)
        .await
        .unwrap_err();
    assert_eq!(one_line(&err), expected);
    let status = migrate::status(&database, &files).await.unwrap();
    assert_eq!(
        status.refusal.map(|r| r.to_string()).as_deref(),
        Some(expected)
    );
    assert_eq!(snapshot(url), before, "nor was the index of 0003 built");
}

#[tokio::test]
async fn through_pgbouncer_in_transaction_mode_two_deploys_apply_each_file_once() {
    let server = LocalServer::start().expect("a server");
    let bouncer = LocalBouncer::start(&server, "transaction", 2).expect("pgbouncer");
    server.sql("CREATE DATABASE migrate_pooled").unwrap();
    let url = bouncer.url_for("migrate_pooled");
    let (one, two) = (open(&url).await, open(&url).await);
    let files = set(&[TABLE, SLOW_COLUMN, INDEX]);
    let (a, b) = tokio::join!(apply(&one, &files), apply(&two, &files));
    assert!(
        one.runs_unprepared() && two.runs_unprepared(),
        "the pooler was detected"
    );
    let mut counts = [a.unwrap().applied.len(), b.unwrap().applied.len()];
    counts.sort();
    let direct = server.url_for("migrate_pooled");
    let found = (history(&direct), sql(&direct, INDEX_VALID));
    assert_eq!((counts, found), ([0, 3], (ALL_THREE.into(), "t".into())));
    let status = migrate::status(&one, &files).await.unwrap();
    assert!(status.pending.is_empty() && status.refusal.is_none());
    assert!(apply(&two, &files).await.unwrap().applied.is_empty());
}

#[tokio::test]
async fn record_all_applied_records_every_version_in_the_transaction() {
    let db = scratch();
    let (url, database) = (db.url(), open(db.url()).await);
    let files = set(&[TABLE, COLUMN, INDEX]);
    let mut client = database.client().await.unwrap();

    let tx = client.transaction().await.unwrap();
    record_all_applied(&tx, &files).await.unwrap();
    tx.rollback().await.unwrap();
    let exists = "SELECT to_regclass('bottles_migrations') IS NOT NULL";
    assert_eq!(sql(url, exists), "f", "rolled back with its transaction");

    // As reset does it: the schema, then the history, in one transaction.
    let tx = client.transaction().await.unwrap();
    tx.batch_execute(
        &files
            .iter()
            .map(|m| m.sql.replace("CONCURRENTLY ", ""))
            .collect::<String>(),
    )
    .await
    .unwrap();
    record_all_applied(&tx, &set(&[TABLE])).await.unwrap();
    record_all_applied(&tx, &files).await.unwrap();
    tx.commit().await.unwrap();
    let durations =
        "SELECT version, name, state, duration_ms FROM bottles_migrations ORDER BY version";
    assert_eq!(
        sql(url, durations),
        "1|note|done|0\n2|note_author|done|0\n3|note_author_idx|done|0"
    );
    let status = migrate::status(&database, &files).await.unwrap();
    assert!(status.pending.is_empty() && status.refusal.is_none());
    let rerun = apply(&database, &files);
    assert!(rerun.await.unwrap().applied.is_empty());
}

#[tokio::test]
async fn a_no_transaction_statement_waits_at_most_the_lock_timeout_and_leaks_no_setting_through_pgbouncer()
 {
    let server = LocalServer::start().expect("a server");
    let bouncer = LocalBouncer::start(&server, "transaction", 2).expect("pgbouncer");
    server.sql("CREATE DATABASE migrate_timeout").unwrap();
    let (url, direct) = (
        bouncer.url_for("migrate_timeout"),
        server.url_for("migrate_timeout"),
    );
    let database = open(&url).await;
    apply(&database, &set(&[TABLE])).await.unwrap();
    // A reader holding its lock: ADD COLUMN needs ACCESS EXCLUSIVE, so it has to wait.
    let reader = open(&direct).await;
    let mut reading = reader.client().await.unwrap();
    let blocker = reading.transaction().await.unwrap();
    blocker
        .batch_execute("LOCK TABLE note IN ACCESS SHARE MODE")
        .await
        .unwrap();
    let late = (
        "0002_late.sql",
        "-- bottles: no-transaction\nALTER TABLE note ADD COLUMN late text;\n",
    );
    let options = MigrateOptions {
        lock_timeout: Duration::from_millis(300),
        ..MigrateOptions::default()
    };
    let files = set(&[TABLE, late]);
    let waited = migrate::migrate(&database, &files, &options);
    let refused = tokio::time::timeout(Duration::from_secs(20), waited)
        .await
        .expect("gave up on the lock, not waited for it")
        .expect_err("the lock is held");
    assert!(one_line(&refused).contains("lock timeout"), "{refused}");
    blocker.rollback().await.unwrap();
    // SET LOCAL ended with each transaction: no server connection kept the timeout.
    let client = database.client().await.unwrap();
    for _ in 0..8 {
        let row = client.query_one("SHOW lock_timeout", &[]).await.unwrap();
        assert_eq!(row.get::<_, String>(0), "0");
    }
}
