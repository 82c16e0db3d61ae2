//! Benchmark 1: the notebook's whole pipeline (reset, seed 3/100, every query cell).
//!
//! In process: bottles' library vs the notebook itself (SQLAlchemy 2 async + asyncpg, timing
//! its own loop). Whole process: the `bottles` binary vs `python notebook.py once` vs the floor,
//! the same statements run by `psql` as one script. `DATABASE_URL` is always set, so no server
//! start-up is counted.

use std::process::Command;
use std::time::Duration;

use bottles::codegen::queries::messages::{count_messages, messages_from_user};
use bottles::codegen::queries::users::count_users;
use bottles::{Client, Database, SeedPlan};
use bottles_bench::{
    Target, bottles_bin, fresh_database, report, report_medians, run_quietly, sqlalchemy,
};
use criterion::Criterion;
use futures::TryStreamExt;

const IN_PROCESS: &str = "pipeline_in_process";
const WHOLE_PROCESS: &str = "pipeline_whole_process";

fn main() {
    bottles_bench::begin();
    let runtime = bottles_bench::runtime();
    let database = runtime.block_on(fresh_database("bench_pipeline"));
    let url = database.url().to_string();
    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    runtime.block_on(bottles_bench::vacuum(&url));
    let db = runtime.block_on(Database::open(Some(&url))).unwrap();
    let mut group = criterion.benchmark_group(IN_PROCESS);
    group.bench_function("bottles", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut client = db.client().await.unwrap();
            bottles::reset(&mut client).await.unwrap();
            bottles::seed(&mut client, &SeedPlan::notebook())
                .await
                .unwrap();
            query_cells(&client).await
        })
    });
    // The same minus reset, whose DDL costs the server the same whoever sends it.
    group.bench_function("bottles_after_reset", |b| {
        b.to_async(&runtime).iter_custom(|n| {
            bottles_bench::time_after_reset(&db, n, async |client| {
                bottles::seed(client, &SeedPlan::notebook()).await.unwrap();
                query_cells(client).await;
            })
        })
    });
    group.finish();
    drop(db);
    // SQLAlchemy times its own loop (after a warm-up run): medians of the whole and after reset.
    // Only when criterion's filter let bottles' side run too.
    let sqlalchemy_in_process: Vec<f64> = match bottles_bench::median(IN_PROCESS, "bottles") {
        Some(_) => {
            runtime.block_on(bottles_bench::vacuum(&url));
            let out = run_quietly(sqlalchemy().args(["pipeline", &url, "--iterations", "30"]));
            out.split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect()
        }
        None => Vec::new(),
    };

    runtime.block_on(bottles_bench::vacuum(&url));
    let script = std::env::temp_dir().join(format!("bottles-floor-{}.sql", std::process::id()));
    std::fs::write(&script, floor_script()).expect("write the psql script");
    let mut group = criterion.benchmark_group(WHOLE_PROCESS);
    group.sample_size(20);
    group.bench_function("bottles", |b| {
        b.iter(|| run_quietly(Command::new(bottles_bin()).env("DATABASE_URL", &url)))
    });
    group.bench_function("psql_floor", |b| {
        b.iter(|| {
            run_quietly(
                Command::new(throwaway_pg::program("psql"))
                    .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
                    .arg(&script)
                    .arg(&url),
            )
        })
    });
    group.sample_size(10);
    group.bench_function("sqlalchemy", |b| {
        b.iter(|| run_quietly(sqlalchemy().args(["once", &url])))
    });
    group.finish();
    let _ = std::fs::remove_file(&script);
    criterion.final_summary();

    let in_process = [
        (
            "bottles",
            "1. pipeline in process: SQLAlchemy / bottles",
            Some(Target::AtLeast(6.0)),
        ),
        (
            "bottles_after_reset",
            "1. in process, seed + query cells only: SQLAlchemy / bottles",
            None,
        ),
    ];
    for ((function, what, target), python) in in_process.into_iter().zip(sqlalchemy_in_process) {
        if let Some(ours) = bottles_bench::median(IN_PROCESS, function) {
            report(what, Duration::from_secs_f64(python), ours, target);
        }
    }
    report_medians(
        "1. pipeline whole process: bottles / psql floor",
        WHOLE_PROCESS,
        ("bottles", "psql_floor"),
        Some(Target::AtMost(1.25)),
    );
    report_medians(
        "1. pipeline whole process: SQLAlchemy / bottles",
        WHOLE_PROCESS,
        ("sqlalchemy", "bottles"),
        Some(Target::AtLeast(15.0)),
    );
}

/// The notebook's query cells as `bottles query` runs them: all five sent together, pipelined
/// on one connection.
async fn query_cells(client: &Client) {
    let (count_users, count_messages, from_user) =
        (count_users(), count_messages(), messages_from_user());
    let joined = bottles::users_with_messages(client).try_collect::<Vec<_>>();
    let (_, _, users, named, elis) = tokio::try_join!(
        async {
            count_users
                .bind(client)
                .one()
                .await
                .map_err(bottles::Error::from)
        },
        async {
            count_messages
                .bind(client)
                .one()
                .await
                .map_err(bottles::Error::from)
        },
        joined,
        bottles::user_by_name_with_messages(client, "Eli"),
        async {
            from_user
                .bind(client, &"Eli")
                .all()
                .await
                .map_err(bottles::Error::from)
        },
    )
    .unwrap();
    assert_eq!((users.len(), named.len(), elis.len()), (3, 1, 33));
}

/// What bottles sends, as one psql script: the statements from `queries/`, `copy/` and
/// `schema.sql` with their parameters written in, the messages as inline COPY data.
fn floor_script() -> String {
    let sql = |name| bottles::statement_text(name).expect("a named query");
    let plan = SeedPlan::notebook();
    let mut copy_data = String::new();
    for index in 0..plan.message_count() {
        let (content, author) = plan.message(index);
        // A fresh table numbers users from 1.
        copy_data.push_str(&format!("{content}\t{}\n", author + 1));
    }
    let copy = sql("copy_messages").replace(" (FORMAT binary)", "");
    [
        "BEGIN".to_string(),
        sql("drop_tables").into(),
        bottles::SCHEMA.trim().trim_end_matches(';').into(),
        "COMMIT".into(),
        "BEGIN".into(),
        sql("lock_tables").into(),
        sql("count_users").into(),
        sql("count_messages").into(),
        sql("insert_users").replace(":names", "'{Nick,Eli,Paul}'"),
        format!("{copy};\n{copy_data}\\."),
        "COMMIT".into(),
        sql("count_users").into(),
        sql("count_messages").into(),
        sql("users_with_messages").into(),
        sql("user_by_name").replace(":name", "'Eli'"),
        sql("messages_for_users").replace(":user_ids", "'{2}'::integer[]"),
        sql("messages_from_user").replace(":name", "'Eli'"),
    ]
    .map(|statement| {
        if statement.ends_with("\\.") {
            statement + "\n"
        } else {
            statement + ";\n"
        }
    })
    .concat()
}
