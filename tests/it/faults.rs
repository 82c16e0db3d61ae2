//! Faults against a real PostgreSQL: backends killed mid-write, a server restarted under load,
//! an exhausted pool, statements and connections that never finish, racing seed processes.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use bottles::codegen::queries::messages::messages_from_user;
use bottles::{Database, Error, PoolOptions, SeedPlan};
use futures::TryStreamExt;
use throwaway_pg::LocalServer;

use crate::helpers::{
    TestDb, assert_one_line_error, bottles, bottles_command, declared_message_keys, messages_from,
    reset_and_seed, stderr,
};

/// A `bottles` process in the background, with `DATABASE_URL` set to `url`.
fn spawn_bottles(url: &str, args: &[&str]) -> Child {
    bottles_command(Some(url), args, &std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bottles")
}

/// Waits until a backend in database `name` runs a statement starting with `prefix`; its pid.
async fn backend_running(test: &TestDb, prefix: &str) -> i32 {
    let client = test.client().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row = client
            .query_opt(
                "SELECT pid FROM pg_stat_activity \
                 WHERE datname = $1 AND state = 'active' AND query LIKE $2 LIMIT 1",
                &[&test.name, &format!("{prefix}%")],
            )
            .await
            .unwrap();
        if let Some(row) = row {
            return row.get(0);
        }
        assert!(Instant::now() < deadline, "no backend ran {prefix}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn terminate(test: &TestDb, pid: i32) {
    let client = test.client().await;
    let killed: bool = client
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(killed, "backend {pid} was already gone");
}

/// Collects a finished child's exit code and stderr.
fn finish(child: Child) -> (Option<i32>, String) {
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), err)
}

#[tokio::test]
async fn a_seed_whose_backend_is_killed_mid_copy_leaves_no_rows_and_can_be_rerun() {
    let test = TestDb::empty().await;
    bottles::reset(&mut test.client().await).await.unwrap();
    let child = spawn_bottles(
        &test.url,
        &["seed", "--users", "1000", "--messages", "3000000"],
    );
    let pid = backend_running(&test, "COPY message").await;
    terminate(&test, pid).await;

    let (code, err) = finish(child);
    assert_eq!(code, Some(1), "{err}");
    assert_one_line_error(&err, "bottles");
    assert!(err.contains("seed failed"), "{err}");
    assert_eq!(test.counts().await, (0, 0), "nothing half-written");
    assert_eq!(
        test.message_keys().await,
        declared_message_keys(),
        "the keys dropped for the bulk load are back"
    );

    let rerun = bottles(Some(&test.url), &["seed"]);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert_eq!(test.counts().await, (3, 100));
}

#[tokio::test]
async fn a_reset_whose_backend_is_killed_mid_way_keeps_the_old_tables_and_rows() {
    let test = TestDb::seeded().await;
    // A reader holds a lock, so reset's DROP waits inside its transaction: that is mid-way.
    let mut reader = test.client().await;
    let read = reader.transaction().await.unwrap();
    read.batch_execute(r#"LOCK TABLE "user" IN ACCESS SHARE MODE"#)
        .await
        .unwrap();
    let child = spawn_bottles(&test.url, &["reset"]);
    let pid = backend_running(&test, "DROP TABLE").await;
    terminate(&test, pid).await;
    read.rollback().await.unwrap();

    let (code, err) = finish(child);
    assert_eq!(code, Some(1), "{err}");
    assert_one_line_error(&err, "bottles");
    assert_eq!(test.counts().await, (3, 100), "the old rows are intact");

    let rerun = bottles(Some(&test.url), &["reset"]);
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert_eq!(test.counts().await, (0, 0));
}

#[tokio::test]
async fn two_seed_processes_started_together_insert_the_notebook_once() {
    let test = TestDb::empty().await;
    bottles::reset(&mut test.client().await).await.unwrap();
    let racers = [
        spawn_bottles(&test.url, &["seed"]),
        spawn_bottles(&test.url, &["seed"]),
    ];
    let mut outcomes: Vec<(Option<i32>, String)> = racers.into_iter().map(finish).collect();
    outcomes.sort();
    assert_eq!(outcomes[0], (Some(0), String::new()));
    assert_eq!(outcomes[1].0, Some(1));
    assert!(outcomes[1].1.contains("seed refused"), "{}", outcomes[1].1);
    assert_eq!(test.counts().await, (3, 100));
    let eli = messages_from(&test.client().await, "Eli").await;
    assert_eq!(eli.len(), 33);
}

#[tokio::test]
async fn two_bulk_seed_processes_started_together_insert_once() {
    // Large enough for the bulk path, whose DDL takes stronger locks mid-transaction.
    let test = TestDb::empty().await;
    bottles::reset(&mut test.client().await).await.unwrap();
    let args = ["seed", "--users", "50", "--messages", "200000"];
    let racers = [
        spawn_bottles(&test.url, &args),
        spawn_bottles(&test.url, &args),
    ];
    let mut codes: Vec<Option<i32>> = racers.into_iter().map(|c| finish(c).0).collect();
    codes.sort();
    assert_eq!(codes, [Some(0), Some(1)]);
    assert_eq!(test.counts().await, (50, 200_000));
    assert_eq!(test.message_keys().await, declared_message_keys());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_survives_a_server_restart_under_load() {
    let mut server = tokio::task::spawn_blocking(LocalServer::start)
        .await
        .unwrap()
        .expect("a server of this test's own");
    let options = PoolOptions {
        size: 32,
        wait_timeout: Duration::from_secs(10),
        ..PoolOptions::default()
    };
    let db = std::sync::Arc::new(
        Database::open_with(Some(&server.url()), options)
            .await
            .unwrap(),
    );
    reset_and_seed(&db).await;

    let stop_at = Instant::now() + Duration::from_secs(3);
    let workers: Vec<_> = (0..32)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let (mut ok, mut failures) = (0, Vec::new());
                while Instant::now() < stop_at {
                    let result = match db.client().await {
                        Ok(client) => messages_from_user()
                            .bind(&client, &"Eli")
                            .all()
                            .await
                            .map(|m| m.len())
                            .map_err(Error::from),
                        Err(err) => Err(err.into()),
                    };
                    match result {
                        Ok(33) => ok += 1,
                        Ok(other) => panic!("{other} messages"),
                        Err(err) => failures.push(err.to_string()),
                    }
                }
                (ok, failures)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server = tokio::task::spawn_blocking(move || {
        server.restart().expect("restart");
        server
    })
    .await
    .unwrap();

    let mut failures = Vec::new();
    let mut ok = 0;
    for worker in workers {
        let (worker_ok, worker_failures) = worker.await.expect("no task panicked");
        ok += worker_ok;
        failures.extend(worker_failures);
    }
    eprintln!(
        "{ok} queries served, {} failed around the restart",
        failures.len()
    );
    assert!(ok > 0);
    for failure in &failures {
        assert!(
            !failure.is_empty() && !failure.contains('\n'),
            "{failure:?}"
        );
        assert!(
            failure.contains("connect") || failure.contains("failed"),
            "unclear: {failure}"
        );
    }
    // Back up: the same pool replaces its dead connections and serves everyone again.
    let round = (0..32).map(|_| async {
        let client = db.client().await?;
        let messages = messages_from_user().bind(&client, &"Eli").all().await;
        messages.map_err(Error::from)
    });
    for result in futures::future::join_all(round).await {
        assert_eq!(result.expect("served after the restart").len(), 33);
    }
    drop(db);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_can_run_on_a_spawned_task() {
    // The library's futures are Send, so a server can run them on any worker thread.
    let test = TestDb::empty().await;
    let db = std::sync::Arc::new(Database::open(Some(&test.url)).await.unwrap());
    let report = tokio::spawn({
        let db = db.clone();
        async move {
            let mut client = db.client().await?;
            bottles::reset(&mut client).await?;
            bottles::seed(&mut client, &SeedPlan::notebook()).await?;
            let users = bottles::users_with_messages(&client)
                .try_collect::<Vec<_>>()
                .await?;
            let elis = bottles::user_by_name_with_messages(&client, "Eli").await?;
            Ok::<_, Error>((users, elis))
        }
    });
    let (users, elis) = report.await.unwrap().unwrap();
    assert_eq!((users.len(), elis[0].messages.len()), (3, 33));
}

#[tokio::test]
async fn an_exhausted_pool_waits_its_timeout_then_says_so() {
    let test = TestDb::seeded().await;
    let options = PoolOptions {
        size: 2,
        wait_timeout: Duration::from_millis(300),
        ..PoolOptions::default()
    };
    let db = Database::open_with(Some(&test.url), options).await.unwrap();
    let (first, second) = (db.client().await.unwrap(), db.client().await.unwrap());
    // Both connections are busy with slow queries while a third caller asks for one.
    let slow = "SELECT pg_sleep(2)";
    let busy = futures::future::join(first.simple_query(slow), second.simple_query(slow));
    let started = Instant::now();
    let (waited, _) = tokio::join!(db.client(), busy);
    let elapsed = started.elapsed();
    let err = waited.expect_err("no connection was free");
    assert!(
        matches!(err, bottles_core::Error::PoolTimeout { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("timed out after 300ms waiting for a free connection to postgres://"),
        "{err}"
    );
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    drop((first, second));
    assert!(db.client().await.is_ok(), "free again once the queries end");
}

#[tokio::test]
async fn a_statement_past_the_statement_timeout_is_cancelled_with_a_clear_error() {
    let test = TestDb::seeded().await;
    let mut writer = test.client().await;
    let write = writer.transaction().await.unwrap();
    write
        .batch_execute("LOCK TABLE message IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = Instant::now();
    let output = tokio::task::spawn_blocking({
        let url = test.url.clone();
        move || bottles(Some(&url), &["query", "--statement-timeout", "300ms"])
    })
    .await
    .unwrap();
    write.rollback().await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_one_line_error(&err, "bottles");
    assert!(
        err.contains("canceling statement due to statement timeout"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_server_that_accepts_but_never_answers_hits_the_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept and hold every connection, say nothing.
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(8).collect();
        std::thread::sleep(Duration::from_secs(60));
        drop(held);
    });
    let url = format!("postgres://bob:hunter2@127.0.0.1:{port}/db");
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        bottles(Some(&url), &["query", "--connect-timeout", "500ms"])
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_one_line_error(&err, "bottles");
    assert!(
        err.contains("could not connect to postgres://bob@127.0.0.1"),
        "{err}"
    );
    assert!(err.contains("timed out"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
}
