//! `bottles migrate`: the migrations built into the binary on a real database, and the drift
//! check.

use crate::helpers::{TestDb, assert_one_line_error, bottles, stderr, stdout};

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
            "CREATE INDEX by_hand ON message (content); ALTER TABLE \"user\" ADD COLUMN email text",
        )
        .await
        .unwrap();
    let drifted = bottles(url, &["migrate", "check"]);
    assert_eq!(drifted.status.code(), Some(1));
    let lines: Vec<&str> = std::str::from_utf8(&drifted.stdout)
        .unwrap()
        .lines()
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|line| line.contains("index by_hand on message")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|line| line.contains("email")), "{lines:?}");
    assert_one_line_error(&stderr(&drifted), "migrate check");
}
