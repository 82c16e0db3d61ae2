//! `bottles migrate` when a deploy cannot simply run: a half-applied file (status, check and
//! migrate refuse; `resolve` settles it), files pending or no history at all (check exits 3),
//! another deploy's lock (said, and waited for at most `--lock-wait`), the statement timeout
//! (not for migrations), usage errors pointing to `bottles migrate --help`.

use crate::helpers::{TestDb, assert_one_line_error, bottles, latest_migration, stderr, stdout};

fn latest_version() -> u32 {
    bottles::migrations().unwrap().latest().unwrap().version
}

#[tokio::test(flavor = "multi_thread")]
async fn a_half_applied_file_is_refused_everywhere_until_resolved() {
    let test = TestDb::seeded().await;
    let url = Some(test.url.as_str());
    let (label, version) = (latest_migration(), latest_version());
    let client = test.client().await;
    // As a no-transaction file stopped before its first statement leaves it.
    let stop = format!(
        "UPDATE bottles_migrations SET state = 'running', statements_done = 0 WHERE version = {version}"
    );
    client.batch_execute(&stop).await.unwrap();
    let half = format!("migration {label} stopped half-way, at statement 1 of ");
    let status = bottles(url, &["migrate", "status"]);
    assert_eq!(status.status.code(), Some(1), "{}", stderr(&status));
    assert!(
        stdout(&status).contains(&format!("HALF-APPLIED {label}  ")),
        "{}",
        stdout(&status)
    );
    let err = stderr(&status);
    assert!(
        err.starts_with(&format!("error: migrate status: {half}")),
        "{err}"
    );
    assert_one_line_error(&err, "status");
    for args in [&["migrate", "check"][..], &["migrate"]] {
        let refused = bottles(url, args);
        assert_eq!(refused.status.code(), Some(1), "{args:?}");
        let err = stderr(&refused);
        assert!(err.contains(&half), "{args:?}: {err}");
        assert!(
            err.contains(&format!("`bottles migrate resolve {version} --applied`")),
            "{err}"
        );
        assert_one_line_error(&err, "refused");
    }

    let resolved = bottles(
        url,
        &["migrate", "resolve", &version.to_string(), "--applied"],
    );
    assert!(resolved.status.success(), "{}", stderr(&resolved));
    assert!(stdout(&resolved).starts_with(&format!("resolve: {label} recorded as applied")));
    let check = bottles(url, &["migrate", "check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    let again = bottles(
        url,
        &["migrate", "resolve", &format!("{version:04}"), "--applied"],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("is not half-applied (it is applied)"));

    // Undone by hand instead: forgotten, so it is pending again, and check says so with exit 3.
    client.batch_execute(&stop).await.unwrap();
    let args = ["migrate", "resolve", &version.to_string(), "--rolled-back"];
    let forgotten = bottles(url, &args);
    assert!(forgotten.status.success(), "{}", stderr(&forgotten));
    let status = bottles(url, &["migrate", "status"]);
    assert!(status.status.success());
    assert!(stdout(&status).ends_with(&format!("pending {label}\n")));
    let pending = bottles(url, &["migrate", "check"]);
    assert_eq!(pending.status.code(), Some(3));
    assert_eq!(
        stderr(&pending).trim_end(),
        format!(
            "error: check: 1 migration pending ({label}): run `bottles migrate`, then check again"
        )
    );
    assert_eq!(
        stdout(&pending),
        "",
        "no drift listed: the schema was not compared"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_on_a_database_without_history_exits_3_and_names_baseline() {
    let test = TestDb::empty().await;
    let check = bottles(Some(&test.url), &["migrate", "check"]);
    assert_eq!(check.status.code(), Some(3));
    let files = bottles::migrations().unwrap().len();
    let err = stderr(&check);
    assert!(
        err.starts_with(&format!(
            "error: check: the database has no migration history ({files} migrations pending)"
        )) && err.contains("`bottles migrate baseline`"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_waiting_deploy_says_so_gives_up_after_lock_wait_then_reports_each_file() {
    let test = TestDb::empty().await;
    let url = Some(test.url.as_str());
    // Another deploy, as the lock sees it: its key held by a session.
    let holder = test.client().await;
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    holder
        .batch_execute("SELECT pg_advisory_lock(27707093677794675)")
        .await
        .unwrap();
    let waited = bottles(url, &["migrate", "--lock-wait", "1s"]);
    assert_eq!(waited.status.code(), Some(1));
    let err = stderr(&waited);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "migrate: another deploy holds the migration lock (server process {pid}): waiting for it, at most 1.0s"
        )
    );
    assert!(
        lines[1].starts_with("error: another deploy held the migration lock for ")
            && lines[1].contains(&format!("(server process {pid}): gave up"))
            && lines.len() == 2,
        "{err}"
    );
    assert_eq!(stdout(&waited), "");
    holder
        .batch_execute("SELECT pg_advisory_unlock(27707093677794675)")
        .await
        .unwrap();

    // Each file reported as it starts (stderr) and once applied (stdout), in order.
    let set = bottles::migrations().unwrap();
    let applied = bottles(url, &["migrate"]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let out = stdout(&applied);
    let done: Vec<&str> = out.lines().collect();
    assert_eq!(done.len(), set.len(), "{out}");
    let progress = stderr(&applied);
    for (migration, line) in set.iter().zip(&done) {
        let label = migration.label();
        assert!(
            line.starts_with(&format!("migrate: applied {label} in ")),
            "{out}"
        );
        assert!(
            progress.contains(&format!("migrate: applying {label}")),
            "{progress}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_runs_without_the_statement_timeout() {
    let test = TestDb::empty().await;
    let url = Some(test.url.as_str());
    // 1ms cuts any real statement (reset's batch included), but not a migration.
    let reset = bottles(url, &["--statement-timeout", "1ms", "reset"]);
    assert!(
        stderr(&reset).contains("statement timeout"),
        "{}",
        stderr(&reset)
    );
    let migrate = bottles(url, &["--statement-timeout", "1ms", "migrate"]);
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let check = bottles(url, &["migrate", "check"]);
    assert!(check.status.success(), "{}", stderr(&check));
}

#[test]
fn usage_errors_point_to_bottles_migrate_help() {
    for args in [
        &["migrate", "stauts"][..],
        &["migrate", "resolve", "3"],
        &["migrate", "--lock-wait", "soon"],
    ] {
        let output = bottles(Some("postgres://127.0.0.1:1/never"), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert!(
            err.ends_with("(see `bottles migrate --help`)\n"),
            "{args:?}: {err}"
        );
        assert_one_line_error(&err, "usage");
    }
}

/// A database whose tables were made before migrations (here by the first file's SQL, as
/// schema.sql made them then), holding rows: `migrate` fails on them and names `baseline`,
/// which records that version after checking the schema is exactly it; `migrate` goes on.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_made_before_migrations_is_adopted_by_baseline() {
    let set = bottles::migrations().unwrap();
    let first = set.iter().next().unwrap();
    let (test, other) = tokio::join!(TestDb::empty(), TestDb::empty());
    let url = Some(test.url.as_str());
    let rows = "INSERT INTO \"user\" (name) VALUES ('Nick'), ('Eli');
                INSERT INTO message (content, user_id) VALUES ('99 bottles', 1)";
    for db in [&test, &other] {
        let client = db.client().await;
        client.batch_execute(&first.sql).await.unwrap();
        client.batch_execute(rows).await.unwrap();
    }
    let failed = bottles(url, &["migrate"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        stderr(&failed).contains("adopt it with `bottles migrate baseline`"),
        "{}",
        stderr(&failed)
    );

    let adopted = bottles(url, &["migrate", "baseline"]);
    assert!(adopted.status.success(), "{}", stderr(&adopted));
    let label = first.label();
    assert!(
        stdout(&adopted).starts_with(&format!(
            "baseline: the live schema is that of {label}: recorded {label} as applied"
        )),
        "{}",
        stdout(&adopted)
    );
    let again = bottles(url, &["migrate", "baseline"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("the database has a migration history already (1 file(s)"));
    let migrated = bottles(url, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert_eq!(stdout(&migrated).lines().count(), set.len() - 1);
    let check = bottles(url, &["migrate", "check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert_eq!(test.counts().await, (2, 1), "every row kept");

    // A schema that is no version's is refused, naming what differs, and nothing recorded.
    let client = other.client().await;
    client
        .batch_execute("ALTER TABLE \"user\" ADD COLUMN email text")
        .await
        .unwrap();
    let refused = bottles(Some(&other.url), &["migrate", "baseline"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.starts_with(&format!(
            "error: the live schema is not that of any version of the migrations; the closest, \
             {label}, differs in 1 place(s): column \"user\".email: not expected (added by hand?)"
        )),
        "{err}"
    );
    assert_one_line_error(&err, "baseline refused");
    let version = format!("{}", first.version);
    let refused = bottles(
        Some(&other.url),
        &["migrate", "baseline", "--version", &version],
    );
    assert!(
        stderr(&refused).starts_with(&format!(
            "error: the live schema is not that of {label}, in 1 place(s): column \"user\".email"
        )),
        "{}",
        stderr(&refused)
    );
    let history = "SELECT to_regclass('bottles_migrations') IS NULL";
    let row = client.query_one(history, &[]).await.unwrap();
    assert!(row.get::<_, bool>(0), "no history written");
}
