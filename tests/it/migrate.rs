//! `bottles migrate`: the migrations built into the binary on a real database, and the drift
//! check.

mod recovery;

use std::process::Stdio;

use crate::helpers::{TestDb, assert_one_line_error, bottles, bottles_command, stderr, stdout};

#[tokio::test(flavor = "multi_thread")]
async fn migrate_applies_each_file_once_and_status_lists_them() {
    let test = TestDb::empty().await;
    let url = Some(test.url.as_str());
    let dry = bottles(url, &["migrate", "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stdout(&dry).starts_with("-- would apply 0001_baseline\n"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(
        test.client()
            .await
            .query("SELECT FROM pg_tables WHERE tablename = 'message'", &[])
            .await
            .unwrap()
            .len(),
        0,
        "a dry run changes nothing"
    );
    let first = bottles(url, &["migrate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).starts_with("migrate: applied 0001_baseline in "),
        "{}",
        stdout(&first)
    );
    let again = bottles(url, &["migrate"]);
    assert_eq!(stdout(&again).trim(), "migrate: nothing to apply");
    let status = bottles(url, &["migrate", "status"]);
    assert!(
        stdout(&status).starts_with("applied 0001_baseline  "),
        "{}",
        stdout(&status)
    );
    let seeded = bottles(url, &["seed"]);
    assert!(
        seeded.status.success(),
        "the migrated tables take the seed: {}",
        stderr(&seeded)
    );
    assert_eq!(test.counts().await, (3, 100));
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_reported_one_line_each_with_exit_1() {
    let test = TestDb::seeded().await;
    let url = Some(test.url.as_str());
    let clean = bottles(url, &["migrate", "check"]);
    assert!(
        clean.status.success(),
        "{}{}",
        stdout(&clean),
        stderr(&clean)
    );
    let client = test.client().await;
    client
        .batch_execute(
            "CREATE INDEX by_hand ON message (content); ALTER TABLE \"user\" ADD COLUMN email text;
             CREATE SCHEMA audit; CREATE TABLE audit.event (id integer)",
        )
        .await
        .unwrap();
    let drifted = bottles(url, &["migrate", "check"]);
    assert_eq!(drifted.status.code(), Some(1));
    let lines: Vec<&str> = std::str::from_utf8(&drifted.stdout)
        .unwrap()
        .lines()
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines.contains(&"schema audit: not expected (added by hand?)"),
        "objects outside public are drift too: {lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains("index by_hand on message")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|line| line.contains("email")), "{lines:?}");
    assert_one_line_error(&stderr(&drifted), "migrate check");
}

/// `bottles migrate` processes started together: each exits 0, one applies the files.
pub fn migrate_at_once(url: &str, processes: usize) -> Vec<String> {
    let cwd = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            bottles_command(Some(url), ["migrate"], cwd.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start bottles migrate")
        })
        .collect();
    let outputs = children.into_iter().map(|child| {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    });
    let outputs: Vec<String> = outputs.collect();
    let applied = outputs
        .iter()
        .filter(|out| out.starts_with("migrate: applied 0001_baseline in "))
        .count();
    let idle = outputs
        .iter()
        .filter(|out| out.trim() == "migrate: nothing to apply")
        .count();
    assert_eq!((applied, idle), (1, processes - 1), "{outputs:#?}");
    outputs
}

#[tokio::test(flavor = "multi_thread")]
async fn four_migrate_processes_at_once_apply_each_file_once() {
    let test = TestDb::empty().await;
    migrate_at_once(&test.url, 4);
    let rows = test
        .client()
        .await
        .query(
            "SELECT version, state FROM bottles_migrations ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let rows: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let files = bottles::migrations().unwrap().iter();
    let expected: Vec<(i32, String)> = files.map(|m| (m.version as i32, "done".into())).collect();
    assert_eq!(rows, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_leaves_every_migration_recorded_so_migrate_has_nothing_to_do() {
    let test = TestDb::seeded().await;
    let url = Some(test.url.as_str());
    let migrate = bottles(url, &["migrate"]);
    assert_eq!(stdout(&migrate).trim(), "migrate: nothing to apply");
    let status = bottles(url, &["migrate", "status"]);
    assert!(
        stdout(&status).starts_with("applied 0001_baseline  "),
        "{}",
        stdout(&status)
    );
    let check = bottles(url, &["migrate", "check"]);
    assert!(check.status.success(), "{}", stdout(&check));
    // A reset over a migrated database replaces its history, rows and all.
    let again = bottles(url, &["reset"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(test.counts().await, (0, 0));
    assert_eq!(
        stdout(&bottles(url, &["migrate"])).trim(),
        "migrate: nothing to apply"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_or_unknown_history_is_refused_in_one_line_changing_nothing() {
    let test = TestDb::seeded().await;
    let url = Some(test.url.as_str());
    let client = test.client().await;
    let history = || async {
        let rows = client
            .query(
                "SELECT version, checksum FROM bottles_migrations ORDER BY 1",
                &[],
            )
            .await
            .unwrap();
        rows.iter()
            .map(|r| (r.get::<_, i32>(0), r.get::<_, String>(1)))
            .collect::<Vec<_>>()
    };
    for (tamper, expected) in [
        (
            "UPDATE bottles_migrations SET checksum = 'edited-after-it-ran'",
            "migration 0001_baseline was changed after it was applied",
        ),
        (
            "INSERT INTO bottles_migrations VALUES (999, 'from_a_newer_binary', 'x', 'done', now(), 1)",
            "the database has migration 0999_from_a_newer_binary, which this binary does not have",
        ),
    ] {
        bottles(url, &["reset"]);
        client.batch_execute(tamper).await.unwrap();
        let before = history().await;
        for args in [&["migrate"][..], &["migrate", "--dry-run"]] {
            let refused = bottles(url, args);
            assert_eq!(refused.status.code(), Some(1), "{args:?}");
            let err = stderr(&refused);
            assert!(err.contains(expected), "{args:?}: {err}");
            assert_one_line_error(&err, "a refused migrate");
        }
        assert_eq!(history().await, before, "the history is untouched");
        assert_eq!(test.counts().await, (0, 0));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_refuses_a_database_at_a_newer_binarys_migration_changing_nothing() {
    let test = TestDb::seeded().await;
    let url = Some(test.url.as_str());
    let client = test.client().await;
    let newer = "CREATE TYPE mood AS ENUM ('cheerful'); \
                 INSERT INTO bottles_migrations VALUES (999, 'add_mood', 'x', 'done', now(), 1)";
    client.batch_execute(newer).await.unwrap();
    let refused = bottles(url, &["reset"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert_one_line_error(&err, "a refused reset");
    assert!(
        err.contains("the database has migration 0999_add_mood, which this binary does not have"),
        "{err}"
    );
    assert_eq!(test.counts().await, (3, 100), "the rows are all there");
    let recorded = "SELECT count(*) FROM bottles_migrations WHERE version = 999";
    let still: i64 = client.query_one(recorded, &[]).await.unwrap().get(0);
    assert_eq!(still, 1, "the history is untouched");
}

/// What `cargo xtask migrations --check` checks, in `cargo test` as `codegen` checks codegen/:
/// `migrations/` replayed give exactly `schema.sql`'s schema, and `migrations/schema.json` (what
/// `bottles migrate check` compares with) is that schema.
#[tokio::test(flavor = "multi_thread")]
async fn migrations_replay_to_schema_sql_and_schema_json_is_current() {
    let (replayed, declared) = tokio::join!(TestDb::empty(), TestDb::empty());
    let found = xtask::migrations::replay(&replayed.url, &declared.url)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let verdict = xtask::migrations::verdict(&found);
    assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
    assert_refused_saying_what_differs(&found);
}

/// The check fails, saying which side changed and what to run.
fn assert_refused_saying_what_differs(found: &xtask::migrations::Replayed) {
    let refused = |changed: &xtask::migrations::Replayed| {
        let refusal = xtask::migrations::verdict(changed).unwrap_err();
        assert!(!refusal.contains('\n'), "{refusal}");
        refusal
    };
    // Tables named as SQL names them ("user" quoted): what the messages say.
    let named = |table: &str| match table.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        true if table != "user" => table.to_string(),
        _ => format!("\"{table}\""),
    };
    let extra = |catalog: &mut bottles::migrate::Catalog| {
        let table = &mut catalog.tables[0];
        let mut column = table.columns[0].clone();
        column.name = "added".into();
        table.columns.push(column);
        format!("column {}.added", named(&table.name))
    };
    // schema.sql gained a column.
    let mut changed = found.clone();
    let column = extra(&mut changed.declared);
    assert_eq!(
        refused(&changed),
        format!(
            "schema.sql changed without a migration ({column}: in schema.sql, not made by \
             migrations/); run `cargo xtask migrations new NAME`"
        )
    );
    // schema.sql lost one: a drop, or half a rename.
    let mut changed = found.clone();
    let table = &mut changed.declared.tables[0];
    let gone = table.columns.pop().unwrap();
    let column = format!("column {}.{}", named(&table.name), gone.name);
    let refusal = refused(&changed);
    assert!(
        refusal.starts_with(&format!(
            "schema.sql changed without a migration ({column}: made by migrations/, not in \
             schema.sql); run `cargo xtask migrations new NAME --allow-destructive` if the drop \
             is meant; a rename reads as a drop and an add"
        )),
        "{refusal}"
    );
    // The files give another schema than schema.json recorded: an applied file was edited.
    let mut changed = found.clone();
    extra(&mut changed.replayed);
    let refusal = refused(&changed);
    assert!(
        refusal.starts_with("migrations/ no longer produce the schema recorded in schema.json")
            && refusal.contains("was a migration file edited or removed?"),
        "{refusal}"
    );
    // What the planner cannot write: by hand, not `migrations new`.
    let mut changed = found.clone();
    changed
        .declared
        .unsupported
        .push(bottles::migrate::Unsupported {
            name: "function audit()".into(),
            definition: "CREATE FUNCTION audit() …".into(),
            table: None,
        });
    assert_eq!(
        refused(&changed),
        "schema.sql changed without a migration (function audit(): in schema.sql, not made by \
         migrations/); cannot plan function audit(): functions are not supported; write this \
         migration by hand, then run `cargo xtask migrations snapshot` (`migrations new` cannot \
         plan it)"
    );
}

#[test]
fn json_is_refused_by_migrate_whose_output_is_text() {
    for args in [&["--json", "migrate"][..], &["migrate", "status", "--json"]] {
        let output = bottles(Some("postgres://nobody@127.0.0.1:1/none"), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert_one_line_error(&err, "--json on migrate");
        assert!(
            err.contains("--json is not supported by bottles migrate"),
            "{err}"
        );
    }
}
