//! Benchmark 3: the joined load of 10 000 users with 1 000 000 messages.
//!
//! bottles' streaming `users_with_messages` (cornucopia-generated code underneath) against
//! the same query hand-written on tokio-postgres and on sqlx, each grouping rows into users the
//! same way and keeping one user at a time. Then the peak memory of `bottles query` over it.

use std::process::Command;
use std::time::Duration;

use bottles::codegen::queries::messages::Message;
use bottles::{SeedPlan, UserWithMessages};
use bottles_bench::{Target, bottles_bin, note, peak_rss, report_medians, seeded_database};
use criterion::{Criterion, SamplingMode};
use futures::{Stream, StreamExt, TryStreamExt};
use sqlx::Row as _;

const GROUP: &str = "users_with_messages_1m";
/// The `query` command's memory ceiling over a million messages.
const RSS_LIMIT: u64 = 64 << 20;

fn main() {
    bottles_bench::begin();
    let runtime = bottles_bench::runtime();
    let plan = SeedPlan::new(10_000, 1_000_000).unwrap();
    let database = runtime.block_on(seeded_database("bench_stream", plan));
    let url = database.url().to_string();
    let db = runtime
        .block_on(bottles::Database::open(Some(&url)))
        .unwrap();
    let sqlx_pool = runtime
        .block_on(sqlx::PgPool::connect(&url))
        .expect("sqlx connects");
    let sql = bottles::statement_text("users_with_messages").unwrap();

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group(GROUP);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("bottles_generated", |b| {
        b.to_async(&runtime).iter(|| async {
            let client = db.client().await.unwrap();
            let users = bottles::users_with_messages(&client);
            consume(users.map_err(|e| e.to_string())).await
        })
    });
    // Plain tokio-postgres on a connection of its own, the statement prepared once.
    let plain = runtime.block_on(bottles_bench::connect(&url));
    let statement = runtime.block_on(plain.prepare(sql)).unwrap();
    group.bench_function("hand_written", |b| {
        b.to_async(&runtime).iter(|| async {
            let rows = plain
                .query_raw(&statement, std::iter::empty::<i32>())
                .await
                .unwrap();
            let rows = rows.map(|row| decode!(row));
            consume(group_rows(rows)).await
        })
    });
    group.bench_function("sqlx", |b| {
        b.to_async(&runtime).iter(|| async {
            let rows = sqlx::query(sql).fetch(&sqlx_pool).map(|row| decode!(row));
            consume(group_rows(rows)).await
        })
    });
    group.finish();
    criterion.final_summary();

    report_medians(
        "3. users_with_messages 1M: generated / hand-written",
        GROUP,
        ("bottles_generated", "hand_written"),
        Some(Target::AtMost(1.1)),
    );
    report_medians(
        "3. users_with_messages 1M: sqlx / generated",
        GROUP,
        ("sqlx", "bottles_generated"),
        None,
    );

    let peak = peak_rss(
        Command::new(bottles_bin())
            .arg("query")
            .env("DATABASE_URL", &url),
    );
    let verdict = if peak <= RSS_LIMIT { "met" } else { "MISSED" };
    note(&format!(
        "{:<62} {:>7.1} MB  target ≤ {} MB  {verdict}",
        "3. peak RSS of `bottles query` over 1M messages",
        peak as f64 / (1 << 20) as f64,
        RSS_LIMIT >> 20
    ));
}

/// Decodes a tokio-postgres or sqlx row (same method names, different traits) by position.
macro_rules! decode {
    ($row:expr) => {{
        let row = $row.map_err(|e| e.to_string())?;
        Ok::<_, String>(JoinedRow {
            user_id: row.try_get(0).map_err(|e| e.to_string())?,
            user_name: row.try_get(1).map_err(|e| e.to_string())?,
            message_id: row.try_get(2).map_err(|e| e.to_string())?,
            content: row.try_get(3).map_err(|e| e.to_string())?,
        })
    }};
}
use decode;

/// One row of the LEFT JOIN, as the baselines decode it.
struct JoinedRow {
    user_id: i32,
    user_name: String,
    message_id: Option<i32>,
    content: Option<String>,
}

/// The baselines' grouping: consecutive rows of one user become one [`UserWithMessages`].
fn group_rows(
    rows: impl Stream<Item = Result<JoinedRow, String>>,
) -> impl Stream<Item = Result<UserWithMessages, String>> {
    let rows = Box::pin(rows.fuse());
    futures::stream::try_unfold(
        (rows, None::<UserWithMessages>),
        |(mut rows, mut pending)| async move {
            while let Some(row) = rows.try_next().await? {
                let next = match &mut pending {
                    Some(user) if user.id == row.user_id => None,
                    _ => Some(UserWithMessages {
                        id: row.user_id,
                        name: row.user_name,
                        messages: Vec::new(),
                    }),
                };
                let finished = next.and_then(|next| pending.replace(next));
                if let (Some(id), Some(content), Some(user)) =
                    (row.message_id, row.content, pending.as_mut())
                {
                    user.messages.push(Message {
                        id,
                        content,
                        user_id: row.user_id,
                    });
                }
                if let Some(user) = finished {
                    return Ok(Some((user, (rows, pending))));
                }
            }
            Ok(pending.take().map(|user| (user, (rows, None))))
        },
    )
}

/// Drains a stream of users, touching every message; returns (users, messages, content bytes).
async fn consume(users: impl Stream<Item = Result<UserWithMessages, String>>) -> (u64, u64, u64) {
    let mut users = std::pin::pin!(users);
    let mut totals = (0, 0, 0);
    while let Some(user) = users.try_next().await.unwrap() {
        totals.0 += 1;
        totals.1 += user.messages.len() as u64;
        totals.2 += user
            .messages
            .iter()
            .map(|m| m.content.len() as u64)
            .sum::<u64>();
    }
    assert_eq!((totals.0, totals.1), (10_000, 1_000_000));
    totals
}
