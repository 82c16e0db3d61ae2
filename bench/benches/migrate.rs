//! Benchmark 6: an index added by `bottles migrate` to `message` holding 1 000 000 rows while
//! 4 sessions keep inserting, with `CREATE INDEX CONCURRENTLY` (a no-transaction file, what
//! `cargo xtask migrations new` plans for an index on an existing table) against a plain
//! `CREATE INDEX` (a transactional file). The figure is the longest single insert during the
//! build: a plain build holds a SHARE lock, which every insert waits behind for the whole
//! build; a concurrent one takes SHARE UPDATE EXCLUSIVE, which inserts do not conflict with.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bottles::migrate::{MigrateOptions, MigrationSet, migrate};
use bottles::{Database, SeedPlan};
use bottles_bench::{Target, connect, note, report, runtime, seeded_database};

const WRITERS: usize = 4;
const ROUNDS: usize = 3;
const CONCURRENTLY: &str = "-- bottles: no-transaction\n\
    CREATE INDEX CONCURRENTLY message_content_idx ON message (content);\n";
const PLAIN: &str = "CREATE INDEX message_content_idx ON message (content);\n";

/// One build: how long `bottles migrate` took and the longest insert that overlapped it.
struct Round {
    build: Duration,
    longest_insert: Duration,
    inserts_during: usize,
}

fn main() {
    bottles_bench::begin();
    let rt = runtime();
    rt.block_on(async {
        let database = seeded_database("bench_migrate", SeedPlan::new(10_000, 1_000_000).unwrap()).await;
        let url = database.url().to_string();
        let db = Database::open(Some(&url)).await.unwrap();
        let (mut concurrent, mut plain) = (Vec::new(), Vec::new());
        // Alternating, so both see the same table growth and the same noise.
        for _ in 0..ROUNDS {
            concurrent.push(build_under_load(&db, &url, CONCURRENTLY).await);
            plain.push(build_under_load(&db, &url, PLAIN).await);
        }
        for (name, rounds) in [("CONCURRENTLY", &concurrent), ("plain", &plain)] {
            let range = |f: fn(&Round) -> Duration| {
                let (lo, hi) = min_max(rounds.iter().map(f));
                format!("{lo:.2?}–{hi:.2?}")
            };
            let during: Vec<String> = rounds.iter().map(|r| r.inserts_during.to_string()).collect();
            note(&format!(
                "6. index on 1M-row message, {name}: build {}, longest insert {}, inserts done during it {}",
                range(|r| r.build),
                range(|r| r.longest_insert),
                during.join("/")
            ));
        }
        let worst = |rounds: &[Round]| rounds.iter().map(|r| r.longest_insert).max().unwrap();
        let shortest_build = concurrent.iter().map(|r| r.build).min().unwrap();
        report(
            "6. longest insert stall / build time, CONCURRENTLY (worst)",
            worst(&concurrent),
            shortest_build,
            Some(Target::AtMost(0.2)),
        );
        let plain_build = plain.iter().map(|r| r.build).min().unwrap();
        report(
            "6. longest insert stall / build time, plain (worst)",
            worst(&plain),
            plain_build,
            None,
        );
        report(
            "6. longest insert stall, plain / CONCURRENTLY (worst)",
            worst(&plain),
            worst(&concurrent),
            None,
        );
    });
}

/// Starts the writers, applies the index as the next migration once they run, stops them, and
/// undoes it (index and history row) for the next round.
async fn build_under_load(db: &Database, url: &str, file: &str) -> Round {
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (url, stop) = (url.to_string(), stop.clone());
        writers.push(tokio::spawn(async move {
            insert_until(&url, writer, &stop).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let set = with_index(file);
    let started = Instant::now();
    let report = migrate(db, &set, &MigrateOptions::default()).await.unwrap();
    let build = started.elapsed();
    let finished = Instant::now();
    assert_eq!(report.applied.len(), 1, "the index applied");
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut inserts = Vec::new();
    for writer in writers {
        inserts.extend(writer.await.unwrap());
    }
    // An insert overlaps the build if it ended after the build started and began before it ended.
    let overlapping = inserts
        .iter()
        .filter(|(begun, took)| *begun + *took > started && *begun < finished);
    let longest_insert = overlapping
        .clone()
        .map(|(_, took)| *took)
        .max()
        .unwrap_or_default();
    let inserts_during = inserts
        .iter()
        .filter(|(begun, took)| *begun > started && *begun + *took < finished)
        .count();
    let client = connect(url).await;
    client
        .batch_execute(&format!(
            "DROP INDEX message_content_idx; DELETE FROM bottles_migrations WHERE version = {}",
            index_version()
        ))
        .await
        .unwrap();
    Round {
        build,
        longest_insert,
        inserts_during,
    }
}

/// The version the index gets: the one after the notebook's last.
fn index_version() -> u32 {
    let built_in = bottles::migrations().unwrap();
    built_in.latest().map_or(1, |m| m.version + 1)
}

/// The notebook's migrations and the index after them.
fn with_index(file: &str) -> MigrationSet {
    let built_in = bottles::migrations().unwrap();
    let names: Vec<String> = built_in
        .iter()
        .map(|m| format!("{}.sql", m.label()))
        .collect();
    let mut files: Vec<(&str, &str)> = names
        .iter()
        .zip(built_in.iter())
        .map(|(name, m)| (name.as_str(), m.sql.as_str()))
        .collect();
    let next = format!("{:04}_message_content_idx.sql", index_version());
    files.push((&next, file));
    MigrationSet::from_files(&files).unwrap()
}

/// Single-row inserts on a connection of its own until `stop`: when each began and how long it took.
async fn insert_until(url: &str, writer: usize, stop: &AtomicBool) -> Vec<(Instant, Duration)> {
    let client = connect(url).await;
    let insert = client
        .prepare("INSERT INTO message (content, user_id) VALUES ($1, $2)")
        .await
        .unwrap();
    let user_id = i32::try_from(writer + 1).unwrap();
    let mut timings = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let begun = Instant::now();
        client
            .execute(&insert, &[&"one more bottle", &user_id])
            .await
            .unwrap();
        timings.push((begun, begun.elapsed()));
    }
    timings
}

fn min_max(values: impl Iterator<Item = Duration>) -> (Duration, Duration) {
    values.fold((Duration::MAX, Duration::ZERO), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}
