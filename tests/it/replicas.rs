//! Read replicas and failover against a real streaming standby (`pg_basebackup -R`, hot
//! standby on its own port). Reads go to a replica that has replayed this process's writes and
//! to the primary until one has; a replica that goes away costs no read; writes at a standby
//! fail with one line; a multi-host URL with `target_session_attrs=read-write` follows a
//! promotion. Whether a read came from the replica shows by pausing its replay and writing on
//! the primary behind bottles' back: only the replica still shows the old data.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bottles::codegen::queries::messages::messages_from_user;
use bottles::codegen::queries::users::insert_user;
use bottles::{Database, PoolOptions};
use throwaway_pg::LocalServer;

use crate::helpers::{
    TestDb, assert_one_line_error, bottles_command, counts, reset_and_seed, stderr, stdout,
};

const REPLAY_TIMEOUT: Duration = Duration::from_secs(20);

/// A primary and a hot standby streaming from it.
async fn primary_and_standby() -> (LocalServer, LocalServer) {
    let servers = tokio::task::spawn_blocking(LocalServer::primary_and_standby);
    servers.await.unwrap().expect("a primary and its standby")
}

/// Runs a blocking step (psql, pg_ctl) without stalling the runtime's other tasks.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(work)
}

/// The primary, reading on its standby.
async fn reading_on_standby(primary: &LocalServer, standby: &LocalServer) -> Database {
    let (url, replicas) = (primary.url(), [standby.url()]);
    let db = Database::open_with_replicas(Some(&url), &replicas, PoolOptions::default());
    db.await.expect("open the primary")
}

/// Users and messages, counted wherever [`Database::read`] sends the read.
async fn read_counts(db: &Database) -> (i64, i64) {
    let read = db.read(async |db| -> bottles::Result<_> { Ok(counts(&db.client().await?).await) });
    read.await.expect("a read")
}

/// Reset and seed the notebook on the primary, as `bottles run` does.
async fn seeded(db: &Database) {
    reset_and_seed(db).await;
    db.wrote().await.unwrap();
}

/// A user added on the primary without bottles knowing.
fn insert_behind_the_back(primary: &LocalServer, name: &str) {
    let sql = format!(r#"INSERT INTO "user" (name) VALUES ('{name}')"#);
    primary.sql(&sql).expect("an insert on the primary");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_replica_once_it_has_replayed_what_this_process_wrote() {
    let (primary, standby) = primary_and_standby().await;
    let db = reading_on_standby(&primary, &standby).await;
    assert_eq!(db.replica_targets().len(), 1);
    seeded(&db).await;
    // Right after the seed, whichever server answers has it all.
    assert_eq!(read_counts(&db).await, (3, 100));

    blocking(|| {
        standby
            .wait_for_replay_of(&primary, REPLAY_TIMEOUT)
            .unwrap();
        standby.pause_replay().unwrap();
        insert_behind_the_back(&primary, "Outsider");
    });
    assert_eq!(read_counts(&db).await, (3, 100), "read on the replica");

    // Our own write, not yet replayed: reads go to the primary and see it (and the outsider).
    insert_user()
        .bind(&db.client().await.unwrap(), &"Zoe")
        .one()
        .await
        .unwrap();
    db.wrote().await.unwrap();
    assert_eq!(read_counts(&db).await, (5, 100), "read on the primary");

    // Replay resumed and caught up: back on the replica, which again shows only what it has.
    blocking(|| {
        standby.resume_replay().unwrap();
        standby
            .wait_for_replay_of(&primary, REPLAY_TIMEOUT)
            .unwrap();
        standby.pause_replay().unwrap();
        insert_behind_the_back(&primary, "Second outsider");
    });
    assert_eq!(read_counts(&db).await, (5, 100), "read on the replica");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_stopped_mid_load_fails_no_read_and_is_used_again_once_back() {
    let (primary, mut standby) = primary_and_standby().await;
    let db = reading_on_standby(&primary, &standby).await;
    seeded(&db).await;
    blocking(|| standby.wait_for_replay_of(&primary, REPLAY_TIMEOUT)).unwrap();
    let db = Arc::new(db);
    let stop_at = Instant::now() + Duration::from_secs(3);
    let readers: Vec<_> = (0..16)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut reads = 0;
                while Instant::now() < stop_at {
                    // Half on pooled connections, half on shared ones.
                    let elis = db.read(async |db| -> bottles::Result<_> {
                        let statement = messages_from_user();
                        Ok(if i % 2 == 0 {
                            statement.bind(&db.client().await?, &"Eli").all().await?
                        } else {
                            statement
                                .bind(&db.shared_client().await?, &"Eli")
                                .all()
                                .await?
                        })
                    });
                    let elis = elis.await.map_err(|err| format!("reader {i}: {err}"))?;
                    assert_eq!(elis.len(), 33);
                    reads += 1;
                }
                Ok::<_, String>(reads)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    blocking(|| standby.stop_for_now()).expect("stop the standby");
    let mut reads = 0;
    for reader in readers {
        reads += reader.await.unwrap().expect("no read fails");
    }
    assert!(reads > 16, "only {reads} reads");

    // Back up, with replay paused under a write made behind bottles' back: once a read shows
    // the old count, reads are on the replica again.
    blocking(|| standby.start_again()).expect("start the standby again");
    blocking(|| standby.pause_replay()).unwrap();
    blocking(|| insert_behind_the_back(&primary, "Outsider"));
    let deadline = Instant::now() + REPLAY_TIMEOUT;
    while read_counts(&db).await.0 != 3 {
        assert!(
            Instant::now() < deadline,
            "reads never went back to the replica"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn the_command_line_reads_on_replicas_and_refuses_writes_at_a_standby_in_one_line() {
    let (primary, standby) = LocalServer::primary_and_standby().expect("a primary and its standby");
    let cwd = tempfile::tempdir().unwrap();
    let report = |output: std::process::Output| -> serde_json::Value {
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_str(&stdout(&output)).unwrap()
    };

    // The whole pipeline, replicas from the environment: exactly what it seeded.
    let run = bottles_command(Some(&primary.url()), ["--json"], cwd.path())
        .env("DATABASE_REPLICA_URLS", standby.url())
        .output()
        .unwrap();
    let run = report(run);
    assert_eq!(run["query"]["user_count"], 3);
    assert_eq!(run["query"]["message_count"], 100);
    assert_eq!(run["query"]["messages_from_user"]["count"], 33);

    // `query --replica-url`: read on the replica (replay paused, so it misses the outsider).
    standby
        .wait_for_replay_of(&primary, REPLAY_TIMEOUT)
        .unwrap();
    standby.pause_replay().unwrap();
    insert_behind_the_back(&primary, "Outsider");
    let args = ["query", "--json", "--replica-url", &standby.url()];
    let query = report(
        bottles_command(Some(&primary.url()), args, cwd.path())
            .output()
            .unwrap(),
    );
    assert_eq!(query["user_count"], 3);

    for step in ["reset", "seed", "run"] {
        let refused = bottles_command(Some(&standby.url()), [step], cwd.path())
            .output()
            .unwrap();
        assert_eq!(refused.status.code(), Some(1), "{step}");
        let err = stderr(&refused);
        assert_one_line_error(&err, step);
        assert!(err.contains("read-only standby"), "{step}: {err}");
        assert!(
            err.contains("point DATABASE_URL at the primary"),
            "{step}: {err}"
        );
    }
    assert_eq!(primary.sql(r#"SELECT count(*) FROM "user""#).unwrap(), "4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failover_a_multi_host_url_writes_on_the_promoted_standby() {
    let (mut primary, standby) = primary_and_standby().await;
    let url = LocalServer::read_write_url(&[&primary, &standby]);
    let options = PoolOptions {
        connect_timeout: Duration::from_secs(2),
        ..PoolOptions::default()
    };
    let db = Database::open_with(Some(&url), options).await.unwrap();
    seeded(&db).await;
    let mut client = db.client().await.unwrap();
    let in_flight = client.transaction().await.unwrap();
    insert_user()
        .bind(&in_flight, &"Uncommitted")
        .one()
        .await
        .unwrap();

    blocking(|| {
        standby
            .wait_for_replay_of(&primary, REPLAY_TIMEOUT)
            .unwrap();
        primary.stop_for_now().expect("stop the primary");
        standby.promote().expect("promote the standby");
    });
    let err = in_flight.commit().await.expect_err("its server is gone");
    let err = bottles::Error::from(err);
    assert!(err.is_unavailable(), "{err}");
    assert!(!err.to_string().contains('\n'), "{err}");
    drop(client);

    // The next writes, pooled and shared, reach the promoted standby.
    let pooled = db.client().await.expect("a connection to the new primary");
    insert_user()
        .bind(&pooled, &"After failover")
        .one()
        .await
        .unwrap();
    let shared = db.shared_client().await.unwrap();
    insert_user()
        .bind(&shared, &"Shared after failover")
        .one()
        .await
        .unwrap();
    assert_eq!(counts(&pooled).await, (5, 100));
    let names = standby
        .sql(r#"SELECT string_agg(name, ',' ORDER BY id) FROM "user""#)
        .unwrap();
    assert_eq!(names, "Nick,Eli,Paul,After failover,Shared after failover");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_replica_delays_only_the_reads_that_probe_it() {
    let test = TestDb::seeded().await;
    // Connections to it are queued by the kernel and never answered, like a host gone dark.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let replicas = [format!(
        "postgres://postgres@{}/db?connect_timeout=1",
        silent.local_addr().unwrap()
    )];
    let db = Database::open_with_replicas(Some(&test.url), &replicas, PoolOptions::default());
    let db = Arc::new(db.await.unwrap());
    let stop_at = Instant::now() + Duration::from_secs(4);
    let readers: Vec<_> = (0..16)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let (mut reads, mut slow) = (0, 0);
                while Instant::now() < stop_at {
                    let started = Instant::now();
                    assert_eq!(read_counts(&db).await, (3, 100));
                    reads += 1;
                    slow += usize::from(started.elapsed() >= Duration::from_millis(500));
                }
                (reads, slow)
            })
        })
        .collect();
    let (mut reads, mut slow) = (0, 0);
    for reader in readers {
        let (r, s) = reader.await.unwrap();
        (reads, slow) = (reads + r, slow + s);
    }
    // One probe at a time, left alone 1 s, then 2 s, then 4 s: at most three probes in 4 s.
    assert!(slow <= 3, "{slow} slow reads of {reads}");
    assert!(reads > 100, "only {reads} reads");
    drop(silent);
}
