//! Through a real PgBouncer in transaction mode (pool of 4 server connections), with no
//! setting: every command, the library under 64 tasks, the statement timeout, all exact and
//! without errors. Named prepared statements cannot survive transaction pooling (PgBouncer
//! only tracks them from 1.21; Debian ships 1.18), so bottles detects the pooler and runs
//! statements unprepared.

use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use bottles::codegen::queries::messages::{count_messages, messages_from_user};
use bottles::codegen::queries::users::{count_users, insert_user};
use bottles::{Database, Error, PoolOptions};
use futures::TryStreamExt;
use throwaway_pg::{LocalBouncer, LocalServer};

use crate::capture::Captured;
use crate::helpers::{
    assert_one_line_error, bottles, bottles_command, reset_and_seed, stderr, stdout,
};

/// One server with PgBouncer in front, for this module.
fn bouncer() -> &'static (LocalServer, LocalBouncer) {
    static BOUNCER: OnceLock<(LocalServer, LocalBouncer)> = OnceLock::new();
    BOUNCER.get_or_init(|| {
        let server = LocalServer::start().expect("a server");
        let bouncer = LocalBouncer::start(&server, "transaction", 4).expect("pgbouncer");
        (server, bouncer)
    })
}

/// A fresh database, reached through PgBouncer.
fn database_through_bouncer() -> String {
    let (server, bouncer) = bouncer();
    let name = format!("pooled_{:016x}", rand::random::<u64>());
    server
        .sql(&format!("CREATE DATABASE {name}"))
        .expect("create the database");
    bouncer.url_for(&name)
}

#[test]
fn twenty_four_processes_at_once_get_the_notebook_exactly() {
    let url = database_through_bouncer();
    let run = bottles(Some(&url), &["--echo"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).contains("messages from user 'Eli' (Message.afrom_user): 33"));
    let cwd = tempfile::tempdir().unwrap();
    let queries: Vec<_> = (0..24)
        .map(|i| {
            let user = ["Nick", "Eli", "Paul"][i % 3];
            bottles_command(Some(&url), ["query", "--json", "--user", user], cwd.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in queries.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "process {i}: {}", stderr(&output));
        let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        let counts: Vec<i64> = report["users_with_messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["message_count"].as_i64().unwrap())
            .collect();
        assert_eq!(
            (
                report["user_count"].as_i64(),
                report["message_count"].as_i64()
            ),
            (Some(3), Some(100))
        );
        assert_eq!(counts, [34, 33, 33], "process {i}");
        let expected = [34, 33, 33][i % 3];
        assert_eq!(
            report["messages_from_user"]["count"], expected,
            "process {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_under_64_tasks_reads_and_writes_exactly() {
    let url = database_through_bouncer();
    let options = PoolOptions {
        size: 16,
        ..PoolOptions::default()
    };
    let db = std::sync::Arc::new(Database::open_with(Some(&url), options).await.unwrap());
    assert!(db.runs_unprepared(), "the pooler was detected");
    reset_and_seed(&db).await;

    let tasks: Vec<_> = (0..64)
        .map(|task| {
            let db = db.clone();
            tokio::spawn(async move {
                let name = format!("task {task}");
                for round in 0..5 {
                    // Pooled and shared clients, single rows, streams, loaders and a write.
                    let client = db.client().await?;
                    let users = bottles::users_with_messages(&client)
                        .try_collect::<Vec<_>>()
                        .await?;
                    assert!(users.len() >= 3 && users[1].messages.len() == 33);
                    let shared = db.shared_client().await?;
                    let elis = messages_from_user().bind(&shared, &"Eli").all().await?;
                    assert_eq!(elis.len(), 33);
                    let paul = bottles::user_by_name_with_messages(&client, "Paul").await?;
                    assert_eq!(paul[0].messages.len(), 33);
                    if round == 0 {
                        let user = insert_user().bind(&shared, &name).one().await?;
                        assert_eq!(user.name, name);
                    }
                    let messages = count_messages().bind(&client).one().await?;
                    assert_eq!(messages, 100);
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await
            .expect("no task panicked")
            .expect("no task failed");
    }
    let client = db.client().await.unwrap();
    assert_eq!(count_users().bind(&client).one().await.unwrap(), 3 + 64);
}

#[tokio::test]
async fn the_statement_timeout_works_through_the_pooler() {
    let url = database_through_bouncer();
    let reset = bottles(Some(&url), &[]);
    assert!(reset.status.success(), "{}", stderr(&reset));
    let (server, _) = bouncer();
    let direct = throwaway_pg::with_database(&server.url(), url.rsplit('/').next().unwrap());
    let (locker, connection) = tokio_postgres::connect(&direct, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    locker
        .batch_execute("BEGIN; LOCK TABLE message IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        bottles(Some(&url), &["query", "--statement-timeout", "300ms"])
    })
    .await
    .unwrap();
    locker.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_one_line_error(&err, "a statement timeout through PgBouncer");
    assert!(
        err.contains("canceling statement due to statement timeout"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_startup_option_of_the_users_own_is_refused_with_the_fix_named() {
    let url = format!("{}?options=-c%20work_mem%3D4MB", database_through_bouncer());
    let output = bottles(Some(&url), &["query"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_one_line_error(&err, "options through PgBouncer");
    assert!(
        err.contains("refused the start-up parameter options")
            && err.contains("ignore_startup_parameters"),
        "{err}"
    );
}

#[tokio::test]
async fn statement_cache_size_0_runs_unprepared_even_without_a_pooler() {
    let (server, _) = bouncer();
    let url = format!("{}?statement_cache_size=0", server.url());
    let db = Database::open(Some(&url)).await.unwrap();
    assert!(db.runs_unprepared());
    let client = db.client().await.unwrap();
    let answer = client.simple_query("SELECT 1").await;
    assert!(answer.is_ok());
    let kept = Database::open(Some(&format!("{}?statement_cache_size=100", server.url())))
        .await
        .unwrap();
    assert!(
        !kept.runs_unprepared(),
        "any other size keeps statements prepared"
    );
    let bad = Database::open(Some(&format!("{}?statement_cache_size=lots", server.url()))).await;
    let err = bad.unwrap_err().to_string();
    assert!(
        err.contains("invalid statement_cache_size \"lots\""),
        "{err}"
    );
}

#[test]
fn migrate_through_pgbouncer_applies_once_from_two_processes_and_then_checks_clean() {
    let url = database_through_bouncer();
    // The deploy lock is a transaction's (a session lock would not hold behind the pooler).
    crate::migrate::migrate_at_once(&url, 2);
    let seed = bottles(Some(&url), &["seed"]);
    assert!(seed.status.success(), "{}", stderr(&seed));
    let files = bottles::migrations().unwrap().len();
    let checked = format!("check: the database has the schema of migrations/ ({files} files)");
    for (args, expected) in [
        (&["migrate"][..], "migrate: nothing to apply"),
        (&["migrate", "check"], checked.as_str()),
    ] {
        let output = bottles(Some(&url), args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        assert_eq!(stdout(&output).trim(), expected, "{args:?}");
    }
    let status = bottles(Some(&url), &["migrate", "status"]);
    assert!(
        stdout(&status).starts_with("applied 0001_baseline  "),
        "{}",
        stdout(&status)
    );
    let query = bottles(Some(&url), &["query"]);
    assert!(stdout(&query).contains("messages from user 'Eli' (Message.afrom_user): 33"));
}

/// The statement log's lines, without the time and level in front.
fn statements(log: &str) -> Vec<&str> {
    log.lines()
        .filter_map(|line| line.split_once("bottles::sql: ").map(|(_, text)| text))
        .collect()
}

#[tokio::test]
async fn behind_the_pooler_each_generated_query_is_one_unprepared_request() {
    let url = database_through_bouncer();
    reset_and_seed(&Database::open(Some(&url)).await.unwrap()).await;
    let captured = Captured::start();
    let db = bottles::open(Some(&url)).await.unwrap();
    assert!(db.primary().behind_a_pooler() && db.runs_unprepared());
    let (client, shared) = (
        db.client().await.unwrap(),
        db.shared_client().await.unwrap(),
    );
    // The first run of each describes it, once for the process; every later one is one request.
    let first = messages_from_user()
        .bind(&client, &"Eli")
        .all()
        .await
        .unwrap();
    insert_user().bind(&shared, &"Ann").one().await.unwrap();
    count_users().bind(&shared).one().await.unwrap();
    let described = captured.text().len();
    for _ in 0..3 {
        let elis = messages_from_user()
            .bind(&client, &"Eli")
            .all()
            .await
            .unwrap();
        assert_eq!(elis, first);
    }
    let users = count_users().bind(&shared).one().await.unwrap();
    assert_eq!(users, 4);
    let renamed = bottles::codegen::queries::users::insert_user()
        .bind(&shared, &"Bo")
        .one()
        .await
        .unwrap();
    assert_eq!(renamed.name, "Bo");
    let log = captured.text();
    let sent = statements(&log[described..]);
    let expected = [
        "messages_from_user {name: \"Eli\"}: 33 rows",
        "messages_from_user {name: \"Eli\"}: 33 rows",
        "messages_from_user {name: \"Eli\"}: 33 rows",
        "count_users: 1 row",
        "insert_user {name: \"Bo\"}: 1 row",
    ];
    assert_eq!(sent.len(), expected.len(), "nothing else went: {sent:#?}");
    for (line, expected) in sent.iter().zip(expected) {
        assert!(line.contains(expected), "{line} is {expected}");
        assert!(line.ends_with(", unprepared"), "{line}");
    }
    for word in ["BEGIN", "COMMIT", "DEALLOCATE", "SAVEPOINT"] {
        assert!(!log[described..].contains(word), "no {word}: {log}");
    }
}

#[tokio::test]
async fn with_a_statement_timeout_a_query_goes_with_its_transaction_and_answers_exactly() {
    let url = database_through_bouncer();
    reset_and_seed(&Database::open(Some(&url)).await.unwrap()).await;
    let captured = Captured::start();
    let options = PoolOptions {
        statement_timeout: Some(Duration::from_secs(5)),
        ..bottles::pool_options()
    };
    let db = Database::open_with(Some(&url), options).await.unwrap();
    let shared = db.shared_client().await.unwrap();
    let statement = messages_from_user();
    let calls = (0..8).map(|_| statement.bind(&shared, &"Paul").all());
    for paul in futures::future::try_join_all(calls).await.unwrap() {
        assert_eq!(paul.len(), 33);
    }
    // Rows read as a stream leave their COMMIT to go after them; single rows wait for it, and
    // on each connection answers come in order, so by now every COMMIT is in the log.
    let statement = count_users();
    let calls = (0..8).map(|_| statement.bind(&shared).one());
    for users in futures::future::try_join_all(calls).await.unwrap() {
        assert_eq!(users, 3);
    }
    let log = captured.text();
    let sent = statements(&log);
    let opened = sent
        .iter()
        .filter(|line| line.starts_with("BEGIN; SET LOCAL statement_timeout = 5000 "))
        .count();
    let committed = sent
        .iter()
        .filter(|line| line.starts_with("COMMIT "))
        .count();
    assert!(opened == 16 && committed == opened, "{sent:#?}");
}

#[tokio::test]
async fn the_query_cells_go_together_in_one_read_only_transaction() {
    let url = database_through_bouncer();
    let reset = bottles(Some(&url), &[]);
    assert!(reset.status.success(), "{}", stderr(&reset));
    let output = bottles(Some(&url), &["query", "--echo"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("messages from user 'Eli' (Message.afrom_user): 33"));
    let log = stderr(&output);
    let sent = statements(&log);
    let isolation = sent.iter().position(|line| {
        line.starts_with("START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    });
    let commit = sent.iter().rposition(|line| line.starts_with("COMMIT"));
    let (Some(isolation), Some(commit)) = (isolation, commit) else {
        panic!("no read-only transaction around the cells: {sent:#?}");
    };
    let cells = &sent[isolation..commit];
    for name in [
        "count_users",
        "count_messages",
        "users_with_messages",
        "user_by_name",
        "messages_for_users",
        "messages_from_user",
    ] {
        assert!(
            cells
                .iter()
                .any(|line| line.contains(&format!("-- {name}"))),
            "{name} in the transaction: {sent:#?}"
        );
    }
}

/// How many connections `shared_client()` spreads 16 callers over.
async fn shared_connections(db: &Database) -> usize {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..16 {
        let shared = db.shared_client().await.unwrap();
        assert_eq!(count_users().bind(&shared).one().await.unwrap(), 0);
        seen.insert(std::ptr::from_ref::<tokio_postgres::Client>(&shared) as usize);
    }
    seen.len()
}

#[tokio::test]
async fn behind_the_pooler_shared_clients_spread_over_as_many_connections_as_the_pool() {
    let url = database_through_bouncer();
    let options = || PoolOptions {
        size: 4,
        shared: 1,
        ..bottles::pool_options()
    };
    let pooled = Database::open_with(Some(&url), options()).await.unwrap();
    bottles::reset(&mut pooled.client().await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        shared_connections(&pooled).await,
        4,
        "one request at a time each"
    );
    let (server, _) = bouncer();
    let direct = throwaway_pg::with_database(&server.url(), url.rsplit('/').next().unwrap());
    let direct = Database::open_with(Some(&direct), options()).await.unwrap();
    assert_eq!(shared_connections(&direct).await, 1, "pipelined on one");
}
