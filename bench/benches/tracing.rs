//! Benchmark 8: what OpenTelemetry tracing costs bottles-web. `GET /messages?user_name=Eli&limit=5`
//! under `wrk` (64 connections, 8 s a run) on the release binary twice over the same database: with no
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (tracing off: the request span is never built), and with one
//! pointing at an OTLP/HTTP receiver here that reads and discards every batch (tracing on: a
//! server span per request, a client span per statement, batches exported), and on with one
//! trace in ten sampled (`OTEL_TRACES_SAMPLER=traceidratio`, `OTEL_TRACES_SAMPLER_ARG=0.1`).
//! Measured in the order off, on, sampled, sampled, on, off, each pair averaged, side by side
//! in one run.
//!
//! With `BOTTLES_BENCH_WEB_BEFORE_BIN` naming a bottles-web built before the telemetry (no
//! request span, no statement spans, no metrics), it is measured too, between the two `off`
//! runs' neighbours (before, off, on, sampled, sampled, on, off, before): what tracing costs
//! when it is off.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use bottles::SeedPlan;
use bottles_bench::http::{Server, wrk};
use bottles_bench::{note, report, seeded_database};

const PATH: &str = "/messages?user_name=Eli&limit=5";

fn main() {
    bottles_bench::begin();
    let runtime = bottles_bench::runtime();
    let database = runtime.block_on(seeded_database("bench_tracing", SeedPlan::notebook()));
    let url = database.url().to_string();
    let (receiver, batches) = otlp_sink();
    let off = Server::bottles_web(&url);
    let on = Server::bottles_web_with(
        &url,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ],
    );
    let sampled = Server::bottles_web_with(
        &url,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
        ],
    );
    let before = std::env::var_os("BOTTLES_BENCH_WEB_BEFORE_BIN")
        .map(|binary| Server::bottles_web_binary(PathBuf::from(binary), &url, &[]));
    let mut order = vec![&off, &on, &sampled, &sampled, &on, &off];
    if let Some(before) = &before {
        order.insert(0, before);
        order.push(before);
    }
    let runs: Vec<(f64, Duration)> = order
        .iter()
        .map(|server| {
            let load = wrk(&server.url(PATH), None);
            (load.per_second, load.p99)
        })
        .collect();
    let first = usize::from(before.is_some());
    let pair = |a: usize, b: usize| {
        let (a, b) = (runs[first + a], runs[first + b]);
        ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2)
    };
    let ((off_rate, off_p99), (on_rate, on_p99)) = (pair(0, 5), pair(1, 4));
    let (sampled_rate, sampled_p99) = pair(2, 3);
    if before.is_some() {
        let (first, last) = (runs[0], runs[runs.len() - 1]);
        let before_rate = (first.0 + last.0) / 2.0;
        let before_p99 = (first.1 + last.1) / 2;
        note(&format!(
            "8. GET {PATH}: before the telemetry {before_rate:.0} req/s, p99 {before_p99:.2?}"
        ));
        report(
            "8. GET /messages: requests/s tracing off / before the telemetry",
            Duration::from_secs_f64(1.0 / before_rate),
            Duration::from_secs_f64(1.0 / off_rate),
            None,
        );
    }
    drop(sampled);
    drop(on);
    drop(off);
    let exported = batches.load(std::sync::atomic::Ordering::Relaxed);
    assert!(exported > 0, "tracing on exported nothing");
    note(&format!(
        "8. GET {PATH}: tracing off {off_rate:.0} req/s, p99 {off_p99:.2?}; on {on_rate:.0} req/s, p99 {on_p99:.2?}; one in ten sampled {sampled_rate:.0} req/s, p99 {sampled_p99:.2?} ({exported} OTLP batches received)"
    ));
    report(
        "8. GET /messages: requests/s with tracing on / off",
        Duration::from_secs_f64(1.0 / off_rate),
        Duration::from_secs_f64(1.0 / on_rate),
        None,
    );
    report(
        "8. GET /messages: requests/s with 1 in 10 sampled / off",
        Duration::from_secs_f64(1.0 / off_rate),
        Duration::from_secs_f64(1.0 / sampled_rate),
        None,
    );
    report(
        "8. GET /messages: p99 with tracing off / on",
        off_p99,
        on_p99,
        None,
    );
}

/// An OTLP/HTTP receiver that answers every batch with 200 and counts them.
fn otlp_sink() -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let batches = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = batches.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let counted = counted.clone();
            std::thread::spawn(move || serve_batches(stream, &counted));
        }
    });
    (address, batches)
}

fn serve_batches(stream: TcpStream, batches: &std::sync::atomic::AtomicU64) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        batches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
