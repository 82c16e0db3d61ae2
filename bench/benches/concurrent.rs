//! Benchmark 4: `messages_from_user` from 32 concurrent callers, against `pgbench` running
//! the same SQL (prepared, like bottles) with 32 clients on the notebook's data.
//!
//! pgbench keeps one statement in flight per connection. bottles is measured both ways: each
//! caller on a pooled connection of its own (like pgbench), and all callers on the database's
//! few shared connections, where tokio-postgres pipelines their statements; each on a
//! multi-threaded and a single-threaded tokio runtime, since the server shares the cores.
//! Last, the single-threaded pair again with the statement cache off (`statement_cache_size=0`,
//! what a transaction pooler in front forces): each query then goes unprepared, its SQL parsed
//! by the server every time, and the report gives the cost as a ratio to the cache on.

use std::time::{Duration, Instant};

use bottles::codegen::client::GenericClient;
use bottles::codegen::queries::messages::messages_from_user;
use bottles::{Database, PoolOptions, SeedPlan};
use bottles_bench::{Target, report, seeded_database};
use criterion::{Criterion, SamplingMode};

const GROUP: &str = "messages_from_user_32_clients";
const CLIENTS: usize = 32;
/// Queries each caller runs per measured iteration.
const QUERIES_PER_TASK: usize = 50;
const PGBENCH_SECONDS: u32 = 10;

/// How the 32 callers get their connections.
#[derive(Clone, Copy, PartialEq)]
enum Connections {
    /// A pooled connection each.
    Pooled,
    /// The database's shared connections ([`PoolOptions::shared`], default), pipelined.
    Shared,
}

fn main() {
    bottles_bench::begin();
    let setup = bottles_bench::runtime();
    let database = setup.block_on(seeded_database("bench_concurrent", SeedPlan::notebook()));
    let url = database.url().to_string();
    let uncached = format!(
        "{url}{}statement_cache_size=0",
        if url.contains('?') { '&' } else { '?' }
    );
    let variants = [
        (
            "shared_current_thread",
            Connections::Shared,
            current_thread(),
        ),
        (
            "shared_multi_thread",
            Connections::Shared,
            bottles_bench::runtime(),
        ),
        (
            "pooled_current_thread",
            Connections::Pooled,
            current_thread(),
        ),
        (
            "pooled_multi_thread",
            Connections::Pooled,
            bottles_bench::runtime(),
        ),
        (
            "shared_current_thread_cache_off",
            Connections::Shared,
            current_thread(),
        ),
        (
            "pooled_current_thread_cache_off",
            Connections::Pooled,
            current_thread(),
        ),
    ];

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group(GROUP);
    group
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(PGBENCH_SECONDS.into()));
    for (name, connections, runtime) in &variants {
        let options = PoolOptions {
            size: CLIENTS,
            ..PoolOptions::default()
        };
        let url = if name.ends_with("_cache_off") {
            &uncached
        } else {
            &url
        };
        // A pool's connections run on the runtime that opened them.
        let db = runtime.block_on(Database::open_with(Some(url), options));
        let db = db.unwrap();
        group.bench_function(*name, |b| {
            b.to_async(runtime)
                .iter_custom(|iterations| rounds(&db, *connections, iterations))
        });
    }
    group.finish();
    criterion.final_summary();
    for kind in ["shared", "pooled"] {
        let (off, on) = (
            format!("{kind}_current_thread_cache_off"),
            format!("{kind}_current_thread"),
        );
        // Issue 16's targets: unprepared, one request per query, costs a parse each time.
        let target = match kind {
            "pooled" => Target::AtMost(1.5),
            _ => Target::AtMost(2.0),
        };
        bottles_bench::report_medians(
            &format!("4b. statement cache off / on, time per round ({kind})"),
            GROUP,
            (&off, &on),
            Some(target),
        );
    }

    let theirs = bottles_bench::pgbench_time_per_query(&url, CLIENTS, PGBENCH_SECONDS);
    // 4b's floor: the server parsing and planning each query, measured on pgbench alone.
    let unnamed =
        bottles_bench::pgbench_time_per_query_in(&url, CLIENTS, PGBENCH_SECONDS, "extended");
    report(
        "4b. the server's share: pgbench -M extended / -M prepared, time per query",
        unnamed,
        theirs,
        None,
    );
    for (name, _, _) in &variants {
        let Some(per_round) = bottles_bench::median(GROUP, name) else {
            continue;
        };
        let ours = per_round / (CLIENTS * QUERIES_PER_TASK) as u32;
        println!("{name}: {:.0} queries/s", 1.0 / ours.as_secs_f64());
        // The pipelined single-threaded client is the one to beat pgbench with on 2 cores.
        let target = (*name == "shared_current_thread").then_some(Target::AtLeast(1.0));
        report(
            &format!("4. messages_from_user, 32 callers: rate {name} / pgbench"),
            theirs,
            ours,
            target,
        );
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all().build().expect("a tokio runtime")
}

/// `iterations` rounds of 32 callers, each running [`QUERIES_PER_TASK`] queries.
async fn rounds(db: &Database, connections: Connections, iterations: u64) -> Duration {
    let started = Instant::now();
    for _ in 0..iterations {
        let tasks = (0..CLIENTS).map(|_| async {
            match connections {
                Connections::Pooled => queries(&db.client().await.unwrap()).await,
                Connections::Shared => queries(&db.shared_client().await.unwrap()).await,
            }
        });
        futures::future::join_all(tasks).await;
    }
    started.elapsed()
}

/// One caller's [`QUERIES_PER_TASK`] queries, one after the other.
async fn queries(client: &impl GenericClient) {
    for _ in 0..QUERIES_PER_TASK {
        let messages = messages_from_user()
            .bind(client, &"Eli")
            .all()
            .await
            .unwrap();
        assert_eq!(messages.len(), 33);
    }
}
