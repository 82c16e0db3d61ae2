//! Failover on a real HA manager: a pg_auto_failover formation (monitor, primary, synchronous
//! secondary; [`throwaway_pg::Formation`]) under 16 tasks writing through `Database` with
//! `bottles::write_once`, each retrying with its key every write that got no answer, across a
//! planned failover (`pg_autoctl perform failover`) and a primary killed with SIGKILL.
//! Afterwards every acknowledged write is on the new primary exactly once, every key retried to
//! success wrote once, and nothing is there that no task sent. Each run prints the window with
//! no acknowledged write; `BOTTLES_HA_ROUNDS=5` runs five failovers of each kind and prints the
//! median and the worst (docs/production.md).
//!
//! One formation serves this binary's tests, one test at a time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use bottles::codegen::queries::messages::insert_message;
use bottles::{Answer, Database, Error, PoolOptions};
use throwaway_pg::{Acknowledged, Failover, Formation, ScratchDatabase, median_and_worst};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};
use tokio::task::block_in_place;

use crate::helpers::reset_and_seed;

/// Concurrent writers, as the issue asks: at least 16.
const WRITERS: usize = 16;

/// The formation of this test binary, started on first use; one test uses it at a time, and
/// finds it a primary and a secondary again (a node a failed test killed, started again).
async fn formation() -> MappedMutexGuard<'static, Formation> {
    static FORMATION: Mutex<Option<Formation>> = Mutex::const_new(None);
    let mut slot = FORMATION.lock().await;
    block_in_place(|| Formation::ready(&mut slot, Duration::from_secs(90)).map(drop))
        .expect("a pg_auto_failover formation, a primary and a secondary");
    MutexGuard::map(slot, |slot| slot.as_mut().expect("started"))
}

/// How many failovers of each kind a test runs: `BOTTLES_HA_ROUNDS`, 1 by default.
fn rounds() -> usize {
    std::env::var("BOTTLES_HA_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .filter(|rounds| *rounds > 0)
        .unwrap_or(1)
}

/// What the writers saw: the writes acknowledged, and the attempts retried.
#[derive(Default)]
struct Log {
    acked: Acknowledged,
    retries: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_writes_survive_a_planned_failover_with_none_lost_or_doubled() {
    survive(Failover::Planned).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_writes_survive_a_killed_primary_with_none_lost_or_doubled() {
    survive(Failover::Killed).await;
}

async fn survive(kind: Failover) {
    let mut formation = formation().await;
    let scratch = ScratchDatabase::create(&formation.url(), "ha").expect("create the database");
    let options = PoolOptions {
        connect_timeout: Duration::from_secs(2),
        ..bottles::pool_options()
    };
    let db = Arc::new(
        Database::open_with(Some(scratch.url()), options)
            .await
            .unwrap(),
    );
    reset_and_seed(&db).await;
    let mut windows = Vec::new();
    for round in 0..rounds() {
        if round > 0 {
            block_in_place(|| formation.restore(Duration::from_secs(90))).unwrap();
        }
        let log = Arc::new(StdMutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (db, log, stop) = (db.clone(), log.clone(), stop.clone());
                tokio::spawn(write_until_stopped(db, writer, round, log, stop))
            })
            .collect();
        // A second of load on the primary first.
        wait_for_acks_after(&log, Instant::now(), Duration::from_secs(30)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let began = Instant::now();
        block_in_place(|| formation.fail_over(kind)).expect("fail over");
        wait_for_acks_after(&log, began, Duration::from_secs(60)).await;
        // A second of load on the new primary, then each writer finishes its last key.
        tokio::time::sleep(Duration::from_secs(1)).await;
        stop.store(true, Ordering::Release);
        for writer in writers {
            writer.await.unwrap();
        }
        let log = std::mem::take(&mut *log.lock().unwrap());
        let stored = stored_messages(&scratch, round);
        log.acked.check(&stored).unwrap();
        let window = log.acked.longest_silence(began);
        // The killed node back as the secondary: the pool must hold no session on the old
        // primary, now a standby, in either case.
        block_in_place(|| formation.restore(Duration::from_secs(90))).unwrap();
        pool_only_on_the_primary(&db, &formation, scratch.name()).await;
        println!(
            "ha {kind:?} (library, {WRITERS} writers): {} writes acknowledged ({} before the \
             failover), 0 lost, 0 written twice, 0 unknown; {} attempts retried ({} had \
             committed: replayed); no write acknowledged for {window:.2?}",
            log.acked.len(),
            log.acked.before(began),
            log.retries,
            log.acked.replayed(),
        );
        windows.push(window);
    }
    if windows.len() > 1 {
        let (median, worst) = median_and_worst(&windows);
        println!(
            "ha {kind:?} (library): window with no acknowledged write over {} runs: \
             median {median:.2?}, worst {worst:.2?}",
            windows.len(),
        );
    }
    drop(db);
}

/// Writes messages `ha {round}.{writer}.{n}`, each under its own key, each retried with that
/// key until it is acknowledged; stops at the first key after `stop`.
async fn write_until_stopped(
    db: Arc<Database>,
    writer: usize,
    round: usize,
    log: Arc<StdMutex<Log>>,
    stop: Arc<AtomicBool>,
) {
    let user_id = (writer % 3 + 1) as i32;
    for n in 0.. {
        if stop.load(Ordering::Acquire) {
            return;
        }
        let content = format!("ha {round}.{writer}.{n}");
        loop {
            let attempt = write_once(&db, &content, user_id);
            match tokio::time::timeout(Duration::from_secs(10), attempt).await {
                Ok(Ok((id, replayed))) => {
                    log.lock().unwrap().acked.push(content, id.into(), replayed);
                    break;
                }
                // No answer, or the database is unavailable: the write may or may not have
                // committed, and the key makes a retry safe either way.
                Err(_) => {}
                Ok(Err(err)) if retryable(&err) => {}
                Ok(Err(err)) => panic!("writer {writer}: a write failed for good: {err}"),
            }
            log.lock().unwrap().retries += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What a client should retry with the same key: the database is unreachable, went away
/// mid-write, or the connection reached a server that only takes reads.
fn retryable(err: &Error) -> bool {
    err.is_unavailable() || matches!(err, Error::Database(bottles_core::Error::ReadOnlyServer(_)))
}

/// One attempt at the write under key = content: the message's id, and whether the answer is
/// a replay of an earlier attempt that committed.
async fn write_once(db: &Database, content: &str, user_id: i32) -> Result<(i32, bool), Error> {
    let mut client = db.client().await?;
    let request = format!("insert_message {user_id} {content}");
    let answer = bottles::write_once(&mut client, content, request.as_bytes(), async |tx| {
        let message = insert_message().bind(tx, &content, &user_id).one().await?;
        Ok::<_, Error>((201, message.id.to_string()))
    })
    .await?;
    let (body, replayed) = match answer {
        Answer::Done { body, .. } => (body, false),
        Answer::Replayed { body, .. } => (body, true),
        Answer::KeyReused => panic!("the key {content:?} is reused for another request"),
    };
    Ok((body.parse().expect("an id"), replayed))
}

/// Every connection the pool hands out (16 at once) is on the primary, out of recovery, and
/// the secondary (the old primary, after the failover) has no session on the database.
async fn pool_only_on_the_primary(db: &Database, formation: &Formation, database: &str) {
    let primary = formation.primary().unwrap().expect("a primary");
    let clients = futures::future::try_join_all((0..16).map(|_| db.client()));
    for client in clients.await.unwrap() {
        let row = client
            .query_one("SELECT pg_is_in_recovery(), inet_server_port()", &[])
            .await
            .unwrap();
        let (in_recovery, port): (bool, i32) = (row.get(0), row.get(1));
        assert!(!in_recovery, "a pooled connection to a standby");
        assert_eq!(port, i32::from(formation.node_port(primary)));
    }
    let sessions = throwaway_pg::psql(
        &formation.node_url(1 - primary),
        &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}'"),
    );
    assert_eq!(sessions.unwrap(), "0", "sessions on the standby");
}

/// Waits until some write is acknowledged after `after`.
async fn wait_for_acks_after(log: &StdMutex<Log>, after: Instant, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        if log.lock().unwrap().acked.any_after(after) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no write acknowledged in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// This round's messages on the new primary: `(content, id)`, the content being the key.
fn stored_messages(scratch: &ScratchDatabase, round: usize) -> Vec<(String, i64)> {
    let sql = format!("SELECT content, id FROM message WHERE content LIKE 'ha {round}.%'");
    let rows = throwaway_pg::psql(scratch.url(), &sql).expect("read the messages back");
    let row = |line: &str| {
        let (content, id) = line.split_once('|').expect("content|id");
        (content.to_string(), id.parse().expect("an id"))
    };
    rows.lines().map(row).collect()
}
