//! When a deploy cannot simply run: a half-applied file settled by hand (`resolve`), two
//! branches that numbered a file alike, another deploy's lock held too long, an application's
//! statement timeout that must not cut a migration, and the progress reported on the way.

use std::time::{Duration, Instant};

use bottles_core::migrate::{self, Checked, MigrateError, MigrateOptions, Progress, Resolution};
use bottles_core::{Database, Error, PoolOptions};

use crate::{
    COLUMN, INDEX, TABLE, WAIT, apply, history, one_line, open, scratch, set, snapshot, sql,
    versions,
};

/// Three statements outside a transaction; the second fails until column `author` exists.
const THREE: &str = "-- bottles: no-transaction\n\
    CREATE INDEX CONCURRENTLY note_body_idx ON note (body);\n\
    CREATE INDEX CONCURRENTLY note_author_idx ON note (author);\n\
    COMMENT ON TABLE note IS 'notes';\n";

#[tokio::test]
async fn an_unknown_version_and_a_half_applied_file_are_refused() {
    let db = scratch();
    let (url, database) = (db.url(), open(db.url()).await);
    apply(&database, &set(&[TABLE, COLUMN])).await.unwrap();
    let before = snapshot(url);
    let err = apply(&database, &set(&[TABLE])).await.unwrap_err();
    assert_eq!(
        one_line(&err),
        "the database has migration 0002_note_author, which this binary does not have: deploy a newer binary"
    );
    assert_eq!(snapshot(url), before);

    // Outside a transaction the first index stays when the second fails.
    let indexes = "-- bottles: no-transaction\n\
        CREATE INDEX CONCURRENTLY IF NOT EXISTS note_body_idx ON note (body);\n\
        CREATE INDEX CONCURRENTLY note_missing_idx ON note (missing);\n";
    let files = set(&[TABLE, COLUMN, ("0003_note_indexes.sql", indexes)]);
    let err = apply(&database, &files).await.unwrap_err();
    assert_eq!(
        one_line(&err),
        "migration 0003_note_indexes failed at statement 2 of 2 (CREATE INDEX CONCURRENTLY \
         note_missing_idx ON note (missing)): column \"missing\" does not exist (SQLSTATE 42703); \
         it runs outside a transaction, so the statements before it stay applied, and that one \
         may have finished too, or left an INVALID index (DROP INDEX CONCURRENTLY it); finish \
         the file by hand, then run `bottles migrate resolve 3 --applied`, or undo what it did, \
         then run `bottles migrate resolve 3 --rolled-back` to have it run again"
    );
    assert_eq!(
        history(url).lines().last(),
        Some("3|note_indexes|running|f")
    );
    let exists = "SELECT to_regclass('note_body_idx') IS NOT NULL";
    assert_eq!(sql(url, exists), "t");

    let fixed = indexes.replace("(missing)", "(author)");
    let files = set(&[TABLE, COLUMN, ("0003_note_indexes.sql", &fixed)]);
    let before = snapshot(url);
    let err = apply(&database, &files).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Migrate(MigrateError::HalfApplied { version: 3, .. })
    ));
    // The file is not the one that ran (it was fixed since): no statement of it is named.
    assert!(
        one_line(&err).starts_with(
            "migration 0003_note_indexes stopped half-way: it runs outside a transaction, so \
             what it did stays; finish the file by hand"
        ),
        "{err}"
    );
    assert_eq!(snapshot(url), before);

    // What the message says to do: undo what it did, say so, and the rerun applies the file.
    sql(url, "DROP INDEX note_body_idx");
    let resolved = migrate::resolve(&database, &files, 3, Resolution::RolledBack, WAIT, |_| {});
    resolved.await.unwrap();
    let rerun = apply(&database, &files).await.unwrap();
    assert_eq!(versions(&rerun), [3]);
    assert_eq!(history(url).lines().last(), Some("3|note_indexes|done|t"));
}

#[tokio::test]
async fn a_half_applied_file_is_settled_by_resolve_and_nothing_else() {
    let db = scratch();
    let (url, database) = (db.url(), open(db.url()).await);
    let files = set(&[TABLE, ("0002_three.sql", THREE)]);
    let err = apply(&database, &files).await.unwrap_err();
    assert!(
        matches!(&err, Error::Migrate(MigrateError::FailedAt { stopped, .. }) if stopped.number == 2),
        "{err:?}"
    );
    let done = "SELECT state, statements_done FROM bottles_migrations WHERE version = 2";
    assert_eq!(
        sql(url, done),
        "running|1",
        "the first statement is counted"
    );
    // Neither check nor migrate takes the database for settled meanwhile.
    let checked = migrate::check(&database, &files, &Default::default()).await;
    assert!(
        matches!(
            checked,
            Ok(Checked::Refused(MigrateError::HalfApplied {
                version: 2,
                ..
            }))
        ),
        "{checked:?}"
    );
    let status = migrate::status(&database, &files).await.unwrap();
    assert_eq!(status.applied[1].statements_done, Some(1));

    // Finished by hand, then said so.
    sql(url, "ALTER TABLE note ADD COLUMN author text");
    sql(url, "CREATE INDEX note_author_idx ON note (author)");
    sql(url, "COMMENT ON TABLE note IS 'notes'");
    let resolve = |version, resolution| {
        migrate::resolve(&database, &files, version, resolution, WAIT, |_| {})
    };
    resolve(2, Resolution::Applied).await.unwrap();
    assert_eq!(
        history(url),
        "1|note|done|t\n2|three|done|f",
        "no duration of its own"
    );
    let status = migrate::status(&database, &files).await.unwrap();
    assert!(status.refusal.is_none() && status.pending.is_empty());
    assert!(apply(&database, &files).await.unwrap().applied.is_empty());

    // Only a half-applied file can be settled; the history stays as it is.
    let before = snapshot(url);
    let later = (
        "0003_later.sql",
        "ALTER TABLE note ADD COLUMN later text;\n",
    );
    let more = set(&[TABLE, ("0002_three.sql", THREE), later]);
    for (version, files, found) in [
        (2, &files, "it is applied"),
        (3, &more, "it is pending: it never started"),
        (9, &files, "neither the database nor this binary has it"),
    ] {
        let refused = migrate::resolve(
            &database,
            files,
            version,
            Resolution::RolledBack,
            WAIT,
            |_| {},
        );
        let err = refused.await.unwrap_err();
        assert_eq!(
            one_line(&err),
            format!(
                "migration {version:04} is not half-applied ({found}): `bottles migrate resolve` \
                 only settles a no-transaction file that stopped half-way"
            )
        );
    }
    assert_eq!(snapshot(url), before);
}

#[tokio::test]
async fn two_branches_that_numbered_a_file_alike_are_named_as_such() {
    let db = scratch();
    let (url, database) = (db.url(), open(db.url()).await);
    apply(&database, &set(&[TABLE, COLUMN])).await.unwrap();
    let before = snapshot(url);
    let theirs = (
        "0002_note_tags.sql",
        "ALTER TABLE note ADD COLUMN tags text[];\n",
    );
    let files = set(&[TABLE, theirs, INDEX]);
    for outcome in [
        apply(&database, &files).await.map(drop),
        migrate::status(&database, &files)
            .await
            .and_then(|s| s.refusal.map_or(Ok(()), |r| Err(r.into()))),
    ] {
        assert_eq!(
            one_line(&outcome.unwrap_err()),
            "the database has migration 0002_note_author applied, and this binary has \
             0002_note_tags instead (two branches numbered a migration alike?): merge the branch \
             with 0002_note_author and renumber 0002_note_tags after it"
        );
    }
    assert_eq!(snapshot(url), before);
}

#[tokio::test]
async fn another_deploys_lock_is_waited_for_at_most_lock_wait_and_said_so() {
    let db = scratch();
    let (url, database) = (db.url(), open(db.url()).await);
    // Another deploy, as far as the lock can tell: the same key held by a session.
    let other = open(url).await;
    let holder = other.client().await.unwrap();
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    holder
        .batch_execute("SELECT pg_advisory_lock(27707093677794675)")
        .await
        .unwrap();
    let options = MigrateOptions {
        lock_wait: Duration::from_millis(600),
        ..MigrateOptions::default()
    };
    let mut waits = Vec::new();
    let started = Instant::now();
    let refused = migrate::migrate_with_progress(&database, &set(&[TABLE]), &options, |p| {
        if let Progress::Waiting { pid, at_most } = p {
            waits.push((pid, at_most));
        }
    })
    .await;
    let waited = started.elapsed();
    assert_eq!(
        waits,
        [(Some(pid), Duration::from_millis(600))],
        "said once"
    );
    let err = refused.unwrap_err();
    assert!(
        matches!(&err, Error::Migrate(MigrateError::LockWait { pid: Some(p), .. }) if *p == pid),
        "{err:?}"
    );
    let text = one_line(&err);
    assert!(
        text.starts_with("another deploy held the migration lock for ")
            && text.ends_with(&format!(
                " (server process {pid}): gave up; run again once it is done, or wait longer \
                 (--lock-wait)"
            )),
        "{text}"
    );
    assert!(
        waited >= Duration::from_millis(600) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    let untouched = "SELECT to_regclass('bottles_migrations') IS NULL";
    assert_eq!(sql(url, untouched), "t", "nothing was applied");
    holder
        .batch_execute("SELECT pg_advisory_unlock(27707093677794675)")
        .await
        .unwrap();
    assert_eq!(
        apply(&database, &set(&[TABLE]))
            .await
            .unwrap()
            .applied
            .len(),
        1
    );
}

#[tokio::test]
async fn an_applications_statement_timeout_does_not_cut_a_migration() {
    let db = scratch();
    let url = db.url();
    let limited = PoolOptions {
        statement_timeout: Some(Duration::from_millis(300)),
        ..PoolOptions::default()
    };
    let database = Database::open_with(Some(url), limited).await.unwrap();
    // The pool's timeout holds for everything else.
    let client = database.client().await.unwrap();
    let cut = client
        .batch_execute("SELECT pg_sleep(0.6)")
        .await
        .unwrap_err();
    assert_eq!(cut.code().map(|c| c.code()), Some("57014"), "{cut}");
    drop(client);

    let slow = ("0002_slow.sql", "SELECT pg_sleep(0.6);\n");
    // Outside a transaction: a statement that runs in one, then a build that waits for the
    // snapshot a reader below keeps open for a second.
    let slow_outside = (
        "0003_slow_index.sql",
        "-- bottles: no-transaction\nSELECT pg_sleep(0.6);\n\
         CREATE INDEX CONCURRENTLY note_body_idx ON note (body);\n",
    );
    let files = set(&[TABLE, slow, slow_outside]);
    let reader = open(url).await;
    let mut reading = reader.client().await.unwrap();
    let snapshot_holder = reading.transaction().await.unwrap();
    snapshot_holder
        .batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT 1")
        .await
        .unwrap();
    let release = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        snapshot_holder.commit().await.unwrap();
    };
    let (applied, ()) = tokio::join!(apply(&database, &files), release);
    assert_eq!(applied.unwrap().applied.len(), 3);
    assert_eq!(
        sql(
            url,
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'note_body_idx'::regclass"
        ),
        "t"
    );
    // The pool's connections have their timeout back.
    for _ in 0..4 {
        let client = database.client().await.unwrap();
        let row = client
            .query_one("SHOW statement_timeout", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "300ms");
    }
}

#[tokio::test]
async fn progress_names_each_file_and_statement_as_it_starts() {
    let db = scratch();
    let database = open(db.url()).await;
    let two = (
        "0002_two_indexes.sql",
        "-- bottles: no-transaction\nCREATE INDEX CONCURRENTLY a_idx ON note (id);\n\
         CREATE INDEX CONCURRENTLY b_idx ON note (body);\n",
    );
    let mut seen = Vec::new();
    let files = set(&[TABLE, two]);
    let options = MigrateOptions::default();
    migrate::migrate_with_progress(&database, &files, &options, |p| {
        seen.push(match p {
            Progress::Applying { migration } => format!("applying {}", migration.label()),
            Progress::Statement {
                number,
                of,
                statement,
                ..
            } => format!("{number}/{of} {statement}"),
            Progress::Applied { migration, .. } => format!("applied {}", migration.label()),
            other => format!("{other:?}"),
        });
    })
    .await
    .unwrap();
    assert_eq!(
        seen,
        [
            "applying 0001_note",
            "applied 0001_note",
            "applying 0002_two_indexes",
            "1/2 CREATE INDEX CONCURRENTLY a_idx ON note (id)",
            "2/2 CREATE INDEX CONCURRENTLY b_idx ON note (body)",
            "applied 0002_two_indexes",
        ]
    );
}

/// A history table from before `statements_done`: read as it is (status, before any deploy),
/// then given the column by the next deploy.
#[tokio::test]
async fn an_older_history_table_is_read_then_brought_up_to_date() {
    let db = scratch();
    let (url, database) = (db.url(), open(db.url()).await);
    let files = set(&[TABLE, COLUMN]);
    let table = &files.get(1).unwrap();
    sql(url, TABLE.1);
    sql(
        url,
        &format!(
            "CREATE TABLE bottles_migrations (version integer PRIMARY KEY, name text NOT NULL, \
             checksum text NOT NULL, state text NOT NULL CHECK (state IN ('running', 'done')), \
             applied_at timestamptz, duration_ms bigint);
             INSERT INTO bottles_migrations VALUES (1, 'note', '{}', 'done', now(), 3)",
            table.checksum
        ),
    );
    let status = migrate::status(&database, &files).await.unwrap();
    assert_eq!(status.applied[0].statements_done, None);
    assert_eq!(status.pending, [(2, "note_author".to_string())]);
    assert_eq!(versions(&apply(&database, &files).await.unwrap()), [2]);
    let column = "SELECT count(*) FROM pg_attribute WHERE attrelid = 'bottles_migrations'::regclass \
                  AND attname = 'statements_done'";
    assert_eq!(sql(url, column), "1");
}
