//! Ctrl-C: bottles stops cleanly, exits 130, and leaves no half-written data and no server.

use std::process::{Child, Command, Stdio};

use crate::helpers::{TestDb, bottles, stderr, stdout};

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Polls `check` every 20 ms for up to 20 s.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..1000 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn ctrl_c_mid_seed_exits_130_and_writes_nothing() {
    let test = TestDb::empty().await;
    bottles::reset(&mut test.client().await).await.unwrap();
    // Hold a conflicting lock so the seed blocks inside its transaction.
    let mut blocker = test.client().await;
    let transaction = blocker.transaction().await.unwrap();
    transaction
        .batch_execute(r#"LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE"#)
        .await
        .unwrap();

    let cwd = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_bottles"))
        .args(["seed"])
        .current_dir(cwd.path())
        .env("DATABASE_URL", &test.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let observer = test.client().await;
    eventually("bottles to wait on the lock", async || {
        let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()";
        observer.query_one(waiting, &[]).await.unwrap().get::<_, i64>(0) == 1
    })
    .await;
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert_eq!(stderr(&output), "bottles: interrupted\n");
    transaction.rollback().await.unwrap();

    assert_eq!(test.counts().await, (0, 0), "nothing half-written");
    let seeded = bottles(Some(&test.url), &["seed"]);
    assert!(
        seeded.status.success(),
        "a rerun succeeds: {}",
        stderr(&seeded)
    );
}

#[tokio::test]
async fn ctrl_c_while_the_throwaway_server_starts_leaves_nothing_behind() {
    // A private TMPDIR, so the only server directory there is this bottles' own.
    let tmp = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_bottles"))
        .current_dir(tmp.path())
        .env_remove("DATABASE_URL")
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let entries = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(Result::ok)
            .count()
    };
    eventually("the server's directory to appear", async || entries() > 0).await;
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert_eq!(stdout(&output), "", "interrupted before any step ran");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
