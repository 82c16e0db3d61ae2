//! Benchmark 5: bottles-web against the same endpoints on FastAPI + SQLAlchemy 2 async +
//! asyncpg (bench/fastapi_app.py) under uvicorn with one worker per core, on the same database
//! with the same data, loaded by `wrk` with 64 connections. Each endpoint is measured on both
//! servers twice, in the order bottles, FastAPI, FastAPI, bottles, and the two runs averaged.
//!
//! Between the GETs and the POSTs (which grow the tables), pgbench runs benchmark 4's query on
//! the same data, for bottles-web's GET rate against it. Then the big streamed read:
//! `GET /users` over 10 000 users and 1 000 000 messages, its first byte's delay and the
//! server's peak memory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bottles::SeedPlan;
use bottles_bench::http::{self, Load, Server, wrk};
use bottles_bench::{Target, note, report, seeded_database};

/// The endpoints compared, with the wrk script that makes a POST.
const ENDPOINTS: [(&str, &str, Option<&str>); 3] = [
    (
        "GET /messages?user_name=Eli&limit=5",
        "/messages?user_name=Eli&limit=5",
        None,
    ),
    ("GET /users/2", "/users/2", None),
    (
        "POST /users/1/messages",
        "/users/1/messages",
        Some(POST_SCRIPT),
    ),
];

const POST_SCRIPT: &str = r#"wrk.method = "POST"
wrk.body = '{"content":"one more bottle of beer on the wall..."}'
wrk.headers["Content-Type"] = "application/json"
"#;

fn main() {
    bottles_bench::begin();
    let runtime = bottles_bench::runtime();
    let database = runtime.block_on(seeded_database("bench_web", SeedPlan::notebook()));
    let url = database.url().to_string();
    let bottles_web = Server::bottles_web(&url);
    let fastapi = Server::fastapi(&url);
    let script = std::env::temp_dir().join(format!("bottles-wrk-{}.lua", std::process::id()));
    std::fs::write(&script, POST_SCRIPT).expect("write the wrk script");

    let mut messages_rate = 0.0_f64;
    for (what, path, post) in ENDPOINTS {
        if post.is_some() {
            // Before the POSTs grow the tables: pgbench's rate on the same data as the GETs.
            let pgbench = bottles_bench::pgbench_time_per_query(&url, 32, http::SECONDS);
            report(
                "5. bottles-web's GET /messages rate / pgbench (32 clients)",
                pgbench,
                Duration::from_secs_f64(1.0 / messages_rate),
                Some(Target::AtLeast(0.4)),
            );
        }
        let script = post.map(|_| script.as_path());
        let runs = [&bottles_web, &fastapi, &fastapi, &bottles_web]
            .map(|server| wrk(&server.url(path), script));
        let ours = average(runs[0], runs[3]);
        let theirs = average(runs[1], runs[2]);
        note(&format!(
            "5. {what}: bottles-web {:.0} req/s, p99 {:.2?}; FastAPI {:.0} req/s, p99 {:.2?}",
            ours.per_second, ours.p99, theirs.per_second, theirs.p99
        ));
        report(
            &format!("5. {what}: requests/s bottles-web / FastAPI"),
            Duration::from_secs_f64(1.0 / theirs.per_second),
            Duration::from_secs_f64(1.0 / ours.per_second),
            Some(Target::AtLeast(15.0)),
        );
        report(
            &format!("5. {what}: p99 FastAPI / bottles-web"),
            theirs.p99,
            ours.p99,
            Some(Target::AtLeast(1.0)),
        );
        if path.starts_with("/messages") {
            messages_rate = ours.per_second;
        }
    }
    drop(fastapi);
    drop(bottles_web);
    let _ = std::fs::remove_file(&script);

    let big = runtime.block_on(seeded_database(
        "bench_web_big",
        SeedPlan::new(10_000, 1_000_000).unwrap(),
    ));
    runtime.block_on(bottles_bench::vacuum(big.url()));
    let server = Server::bottles_web(big.url());
    let mut first_bytes = Vec::new();
    let mut transfer = (0, Duration::ZERO);
    for _ in 0..5 {
        let (first, bytes, whole) = get_all_users(&server.address);
        first_bytes.push(first);
        transfer = (bytes, whole);
    }
    first_bytes.sort();
    let peak = server.peak_rss();
    note(&format!(
        "5. GET /users over 10k users / 1M messages: first byte {:.2?} (median of 5, target ≤ 50ms {}), {} MB in {:.2?}",
        first_bytes[2],
        verdict(first_bytes[2] <= Duration::from_millis(50)),
        transfer.0 >> 20,
        transfer.1,
    ));
    note(&format!(
        "5. peak RSS of bottles-web serving GET /users over 1M messages   {:.1} MB  target ≤ 64 MB  {}",
        peak as f64 / (1 << 20) as f64,
        verdict(peak <= 64 << 20)
    ));
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn average(a: Load, b: Load) -> Load {
    Load {
        per_second: (a.per_second + b.per_second) / 2.0,
        p99: (a.p99 + b.p99) / 2,
    }
}

/// `GET /users` on a fresh connection: the delay to the first byte of the response, the body's
/// size, and the time to read it all.
fn get_all_users(address: &str) -> (Duration, usize, Duration) {
    let mut stream = TcpStream::connect(address).unwrap();
    let started = Instant::now();
    stream
        .write_all(b"GET /users HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut buffer = vec![0; 1 << 16];
    let first = stream.read(&mut buffer).unwrap();
    let first_byte = started.elapsed();
    let mut total = first;
    loop {
        match stream.read(&mut buffer).unwrap() {
            0 => break,
            read => total += read,
        }
    }
    (first_byte, total, started.elapsed())
}
