//! Benchmark 2: seeding 10 000 users and 1 000 000 messages into freshly reset tables.
//!
//! bottles' `seed` (typed `insert_users`, then binary COPY of the messages with message's keys
//! and indexes dropped and rebuilt around it) against the ingest limit: a plain text
//! `COPY ... FROM STDIN` of the same rows from a buffer rendered before the clock starts, both
//! with the same key rebuild (`copy_rebuild`, the target) and straight into the keyed tables
//! (`copy_text`). Also against the typed `unnest` insert COPY was chosen over, and SQLAlchemy's
//! bulk insert. Every run starts from the same freshly reset tables of `schema.sql`.

use std::time::Duration;

use bottles::codegen::queries::messages::insert_messages;
use bottles::codegen::queries::tables::{MessageKeysAndIndexes, message_keys_and_indexes};
use bottles::codegen::queries::users::insert_users;
use bottles::{Database, SeedPlan};
use bottles_bench::{Target, fresh_database, report, report_medians, run_quietly, sqlalchemy};
use bytes::Bytes;
use criterion::{Criterion, SamplingMode};
use futures::SinkExt;

const GROUP: &str = "seed_10k_users_1m_messages";
const USERS: u32 = 10_000;
const MESSAGES: u32 = 1_000_000;
/// Messages per `insert_messages` statement in the unnest variant.
const UNNEST_BATCH: u32 = 50_000;

fn main() {
    bottles_bench::begin();
    let runtime = bottles_bench::runtime();
    let database = runtime.block_on(fresh_database("bench_seed"));
    let url = database.url().to_string();
    let db = runtime.block_on(Database::open(Some(&url))).unwrap();
    let plan = SeedPlan::new(USERS, MESSAGES).unwrap();
    let (users_text, messages_text) = copy_text(&plan);

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group(GROUP);
    // One seed per sample: each takes seconds, and a fresh reset comes first (not timed).
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    group.bench_function("bottles", |b| {
        b.to_async(&runtime).iter_custom(|n| {
            bottles_bench::time_after_reset(&db, n, async |client| {
                bottles::seed(client, &plan).await.unwrap();
            })
        })
    });
    group.bench_function("unnest", |b| {
        b.to_async(&runtime).iter_custom(|n| {
            bottles_bench::time_after_reset(&db, n, async |client| {
                seed_with_unnest(client, &plan).await
            })
        })
    });
    for (name, rebuild) in [("copy_rebuild", true), ("copy_text", false)] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_custom(|n| {
                bottles_bench::time_after_reset(&db, n, async |client| {
                    plain_copy(client, &users_text, &messages_text, rebuild).await
                })
            })
        });
    }
    group.finish();
    criterion.final_summary();

    report_medians(
        "2. seed 10k/1M: bottles / plain COPY, same key rebuild",
        GROUP,
        ("bottles", "copy_rebuild"),
        Some(Target::AtMost(1.3)),
    );
    report_medians(
        "2. seed 10k/1M: bottles / plain COPY into keyed tables",
        GROUP,
        ("bottles", "copy_text"),
        None,
    );
    report_medians(
        "2. seed 10k/1M: typed unnest inserts / bottles (binary COPY)",
        GROUP,
        ("unnest", "bottles"),
        None,
    );
    if let Some(ours) = bottles_bench::median(GROUP, "bottles") {
        runtime.block_on(async {
            bottles::reset(&mut db.client().await.unwrap())
                .await
                .unwrap()
        });
        let args = [
            "bulk-seed",
            &url,
            "--users",
            "10000",
            "--messages",
            "1000000",
        ];
        let seconds: f64 = run_quietly(sqlalchemy().args(args)).trim().parse().unwrap();
        let python = Duration::from_secs_f64(seconds);
        report(
            "2. seed 10k/1M: SQLAlchemy bulk insert / bottles",
            python,
            ours,
            Some(Target::AtLeast(20.0)),
        );
    }
}

/// Drops message's keys and indexes the way bottles' seed does; returns their definitions.
async fn drop_keys(tx: &bottles::Transaction<'_>) -> Vec<MessageKeysAndIndexes> {
    let keys = message_keys_and_indexes().bind(tx).all().await.unwrap();
    for key in &keys {
        tx.batch_execute(&key.drop).await.unwrap();
    }
    keys
}

async fn rebuild_keys(tx: &bottles::Transaction<'_>, keys: &[MessageKeysAndIndexes]) {
    for key in keys.iter().rev() {
        tx.batch_execute(&key.create).await.unwrap();
    }
}

/// The alternative to COPY: `insert_users`, then `insert_messages` over arrays of
/// [`UNNEST_BATCH`] rows, with the same key rebuild, in one transaction.
async fn seed_with_unnest(client: &mut bottles::Client, plan: &SeedPlan) {
    let tx = client.transaction().await.unwrap();
    let names: Vec<String> = (0..plan.user_count()).map(|i| plan.user_name(i)).collect();
    let mut ids = insert_users().bind(&tx, &names).all().await.unwrap();
    ids.sort_unstable();
    let keys = drop_keys(&tx).await;
    let insert = insert_messages().prepare(&tx).await.unwrap();
    for start in (0..plan.message_count()).step_by(UNNEST_BATCH as usize) {
        let end = plan.message_count().min(start + UNNEST_BATCH);
        let (contents, user_ids): (Vec<String>, Vec<i32>) = (start..end)
            .map(|index| {
                let (content, author) = plan.message(index);
                (content, ids[author as usize])
            })
            .unzip();
        insert.bind(&tx, &contents, &user_ids).await.unwrap();
    }
    rebuild_keys(&tx, &keys).await;
    tx.commit().await.unwrap();
}

/// The ingest limit: text COPY of ready-made rows, users then messages, in one transaction;
/// with `rebuild`, message's keys and indexes are dropped first and built again after.
async fn plain_copy(
    client: &mut bottles::Client,
    users: &Bytes,
    messages: &[Bytes],
    rebuild: bool,
) {
    let tx = client.transaction().await.unwrap();
    let keys = match rebuild {
        true => drop_keys(&tx).await,
        false => Vec::new(),
    };
    for (sql, chunks) in [
        (
            r#"COPY "user" (name) FROM STDIN"#,
            std::slice::from_ref(users),
        ),
        ("COPY message (content, user_id) FROM STDIN", messages),
    ] {
        let sink = tx.copy_in(sql).await.unwrap();
        let mut sink = std::pin::pin!(sink);
        for chunk in chunks {
            sink.feed(chunk.clone()).await.unwrap();
        }
        sink.as_mut().finish().await.unwrap();
    }
    rebuild_keys(&tx, &keys).await;
    tx.commit().await.unwrap();
}

/// The plan's rows in COPY's text format; a fresh table numbers its users from 1.
fn copy_text(plan: &SeedPlan) -> (Bytes, Vec<Bytes>) {
    let users: String = (0..plan.user_count())
        .map(|i| plan.user_name(i) + "\n")
        .collect();
    let mut chunks = Vec::new();
    let mut chunk = String::new();
    for index in 0..plan.message_count() {
        let (content, author) = plan.message(index);
        chunk.push_str(&format!("{content}\t{}\n", author + 1));
        if chunk.len() >= 1 << 20 {
            chunks.push(Bytes::from(std::mem::take(&mut chunk)));
        }
    }
    chunks.push(Bytes::from(chunk));
    (Bytes::from(users), chunks)
}
