//! Benchmark 4: `messages_from_user` from 32 concurrent tasks over the pool, against `pgbench`
//! running the same SQL (prepared, like bottles) with 32 clients on the notebook's data.

use std::process::Command;
use std::time::{Duration, Instant};

use bottles::codegen::queries::messages::messages_from_user;
use bottles::{Database, PoolOptions, SeedPlan};
use bottles_bench::{Target, report, run_quietly, seeded_database};
use criterion::{Criterion, SamplingMode};

const GROUP: &str = "messages_from_user_32_clients";
const CLIENTS: usize = 32;
/// Queries each task runs per measured iteration.
const QUERIES_PER_TASK: usize = 50;
const PGBENCH_SECONDS: u32 = 10;

fn main() {
    bottles_bench::begin();
    let setup = bottles_bench::runtime();
    let url = setup.block_on(seeded_database("bench_concurrent", SeedPlan::notebook()));
    // The server shares the machine's cores, so a single-threaded client is measured too.
    let runtimes = [
        ("bottles_multi_thread", bottles_bench::runtime()),
        ("bottles_current_thread", current_thread()),
    ];

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group(GROUP);
    group
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(PGBENCH_SECONDS.into()));
    for (name, runtime) in &runtimes {
        let options = PoolOptions {
            size: CLIENTS,
            ..PoolOptions::default()
        };
        // A pool's connections run on the runtime that opened them.
        let db = runtime.block_on(Database::open_with(Some(&url), options));
        let db = db.unwrap();
        group.bench_function(*name, |b| {
            b.to_async(runtime)
                .iter_custom(|iterations| rounds(&db, iterations))
        });
    }
    group.finish();
    criterion.final_summary();

    let theirs = pgbench_time_per_query(&url);
    for (name, _) in &runtimes {
        let Some(per_round) = bottles_bench::median(GROUP, name) else {
            continue;
        };
        let ours = per_round / (CLIENTS * QUERIES_PER_TASK) as u32;
        println!("{name}: {:.0} queries/s", 1.0 / ours.as_secs_f64());
        report(
            &format!("4. messages_from_user, 32 clients: rate {name} / pgbench"),
            theirs,
            ours,
            Some(Target::AtLeast(0.8)),
        );
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all().build().expect("a tokio runtime")
}

/// `iterations` rounds of 32 tasks, each running [`QUERIES_PER_TASK`] queries on its own
/// pooled connection.
async fn rounds(db: &Database, iterations: u64) -> Duration {
    let started = Instant::now();
    for _ in 0..iterations {
        let tasks = (0..CLIENTS).map(|_| async {
            let client = db.client().await.unwrap();
            for _ in 0..QUERIES_PER_TASK {
                let messages = messages_from_user()
                    .bind(&client, &"Eli")
                    .all()
                    .await
                    .unwrap();
                assert_eq!(messages.len(), 33);
            }
        });
        futures::future::join_all(tasks).await;
    }
    started.elapsed()
}

/// Runs pgbench with the same statement and client count; returns 1 / its transaction rate.
fn pgbench_time_per_query(url: &str) -> Duration {
    let script = std::env::temp_dir().join(format!("bottles-pgbench-{}.sql", std::process::id()));
    // pgbench passes `:name` as a parameter of the prepared statement, like bottles' `$1`.
    let sql = bottles::statement_text("messages_from_user").unwrap();
    std::fs::write(&script, format!("{sql};\n")).expect("write the pgbench script");
    let output = run_quietly(
        Command::new(throwaway_pg::program("pgbench"))
            .args(["--no-vacuum", "--protocol=prepared", "--define=name=Eli"])
            .arg(format!("--client={CLIENTS}"))
            .arg("--jobs=2")
            .arg(format!("--time={PGBENCH_SECONDS}"))
            .arg("--file")
            .arg(&script)
            .arg(url),
    );
    let _ = std::fs::remove_file(&script);
    let tps: f64 = output
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no tps in pgbench's output:\n{output}"));
    println!("pgbench: {tps:.0} queries/s");
    Duration::from_secs_f64(1.0 / tps)
}
