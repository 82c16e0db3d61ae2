//! Benchmark 7: `messages_from_user` from 32 callers through a real PgBouncer in transaction
//! mode with a pool of 4 server connections (fewer than the callers), against `pgbench -M
//! extended` through the same PgBouncer with the same SQL (one unnamed statement per query,
//! the pooler's own limit), and against asyncpg with `statement_cache_size=0`, the notebook's
//! driver as a pooler needs it. Issue 16's targets: bottles ≥ 1.0× pgbench, ≥ 3× asyncpg.
//! Each peer runs three times, interleaved; the report takes each one's best round. Last,
//! bottles-web through the same PgBouncer against bottles-web connected directly.

use std::time::{Duration, Instant};

use bottles::codegen::queries::messages::messages_from_user;
use bottles::{Database, PoolOptions, SeedPlan};
use bottles_bench::http::{self, Load, Server, wrk};
use bottles_bench::{Target, note, pgbench_time_per_query_in, python, report, run_quietly};
use throwaway_pg::{LocalBouncer, LocalServer};

const CALLERS: usize = 32;
const SECONDS: u32 = 8;
const ROUNDS: usize = 3;

fn main() {
    bottles_bench::begin();
    // A server of its own: PgBouncer is started in front of a server this process runs.
    let server = LocalServer::start().expect("a server");
    let bouncer = LocalBouncer::start(&server, "transaction", 4).expect("pgbouncer");
    server
        .sql("CREATE DATABASE bench_pooler")
        .expect("create the database");
    let (direct, pooled) = (
        server.url_for("bench_pooler"),
        bouncer.url_for("bench_pooler"),
    );
    let rt = bottles_bench::runtime();
    rt.block_on(async {
        let db = Database::open(Some(&direct)).await.unwrap();
        let mut client = db.client().await.unwrap();
        bottles::reset(&mut client).await.unwrap();
        bottles::seed(&mut client, &SeedPlan::notebook())
            .await
            .unwrap();
    });
    let sql = bottles::statement_text("messages_from_user").expect("a named statement");
    let asyncpg_sql = sql.replace(":name", "$1");
    let options = PoolOptions {
        size: CALLERS,
        ..PoolOptions::default()
    };
    let db = rt
        .block_on(Database::open_with(Some(&pooled), options))
        .unwrap();
    let (mut ours, mut pgbench, mut asyncpg) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(rt.block_on(bottles_per_query(&db)));
        pgbench.push(pgbench_time_per_query_in(
            &pooled, CALLERS, SECONDS, "extended",
        ));
        let rate = run_quietly(python("asyncpg_rate.py").args([
            pooled.as_str(),
            asyncpg_sql.as_str(),
            &CALLERS.to_string(),
            &SECONDS.to_string(),
        ]));
        let rate: f64 = rate.trim().parse().expect("asyncpg_rate.py prints a rate");
        asyncpg.push(Duration::from_secs_f64(1.0 / rate));
    }
    let rates = |times: &[Duration]| {
        let rates: Vec<String> = times
            .iter()
            .map(|t| format!("{:.0}", 1.0 / t.as_secs_f64()))
            .collect();
        rates.join("/")
    };
    note(&format!(
        "7. through PgBouncer (transaction, pool 4), 32 callers, queries/s per round: bottles {}, pgbench -M extended {}, asyncpg (cache 0) {}",
        rates(&ours),
        rates(&pgbench),
        rates(&asyncpg)
    ));
    let best = |times: &[Duration]| *times.iter().min().unwrap();
    report(
        "7. messages_from_user via PgBouncer: rate bottles / pgbench -M extended",
        best(&pgbench),
        best(&ours),
        Some(Target::AtLeast(1.0)),
    );
    report(
        "7. messages_from_user via PgBouncer: rate bottles / asyncpg (cache 0)",
        best(&asyncpg),
        best(&ours),
        Some(Target::AtLeast(3.0)),
    );
    drop(db);
    web_through_the_pooler(&direct, &pooled);
}

/// bottles-web on the same data, directly connected and through the same PgBouncer, loaded by
/// `wrk -c64` on `GET /messages`, in the order direct, pooled, pooled, direct.
fn web_through_the_pooler(direct: &str, pooled: &str) {
    let path = "/messages?user_name=Eli&limit=5";
    let (straight, through) = (Server::bottles_web(direct), Server::bottles_web(pooled));
    let runs =
        [&straight, &through, &through, &straight].map(|server| wrk(&server.url(path), None));
    let rate = |a: Load, b: Load| (a.per_second + b.per_second) / 2.0;
    let (direct_rate, pooled_rate) = (rate(runs[0], runs[3]), rate(runs[1], runs[2]));
    note(&format!(
        "7. bottles-web GET {path}, wrk -c{}: direct {:.0}/{:.0} req/s, through PgBouncer {:.0}/{:.0} req/s",
        http::CONNECTIONS,
        runs[0].per_second,
        runs[3].per_second,
        runs[1].per_second,
        runs[2].per_second
    ));
    report(
        "7. bottles-web GET /messages: requests/s through PgBouncer / direct",
        Duration::from_secs_f64(1.0 / direct_rate),
        Duration::from_secs_f64(1.0 / pooled_rate),
        Some(Target::AtLeast(0.7)),
    );
}

/// 32 callers on pooled connections for [`SECONDS`]: the time per query.
async fn bottles_per_query(db: &Database) -> Duration {
    let deadline = Instant::now() + Duration::from_secs(SECONDS.into());
    let started = Instant::now();
    let callers = (0..CALLERS).map(|_| async {
        let client = db.client().await.unwrap();
        let mut done = 0u64;
        while Instant::now() < deadline {
            let messages = messages_from_user()
                .bind(&client, &"Eli")
                .all()
                .await
                .unwrap();
            assert_eq!(messages.len(), 33);
            done += 1;
        }
        done
    });
    let done: u64 = futures::future::join_all(callers).await.into_iter().sum();
    started.elapsed() / u32::try_from(done).unwrap()
}
