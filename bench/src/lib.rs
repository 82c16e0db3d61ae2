//! What every benchmark shares: the server, fresh databases, the peers' tools, and the report
//! that turns criterion's medians into ratios against each target.
//!
//! Run through `cargo xtask bench`, which builds the release `bottles` binary, prepares the
//! SQLAlchemy virtualenv, starts a throwaway server unless `DATABASE_URL` is set, and passes
//! their locations in the `BOTTLES_BENCH_*` variables read here.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use throwaway_pg::ScratchDatabase;
use tokio_postgres::NoTls;

pub mod http;

/// The server the benchmarks run against: `DATABASE_URL`, or one started for this process.
pub fn admin_url() -> &'static str {
    throwaway_pg::env_or_shared_server("DATABASE_URL")
}

/// A connection for setup work (not measured).
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("connect to the benchmark server");
    tokio::spawn(connection);
    client
}

/// A fresh database of the benchmark's own (dropped when the value is), on [`admin_url`].
pub async fn fresh_database(prefix: &str) -> ScratchDatabase {
    ScratchDatabase::create(admin_url(), prefix).expect("create the benchmark database")
}

/// A fresh database holding bottles' tables, seeded with `plan`.
pub async fn seeded_database(prefix: &str, plan: bottles::SeedPlan) -> ScratchDatabase {
    let database = fresh_database(prefix).await;
    let db = bottles::Database::open(Some(database.url())).await.unwrap();
    let mut client = db.client().await.unwrap();
    bottles::reset(&mut client).await.unwrap();
    bottles::seed(&mut client, &plan).await.unwrap();
    database
}

/// `VACUUM` of the whole database, catalogs included: reset's DROP and CREATE leave dead catalog
/// rows behind, and hundreds of them make the next peer's DDL slower than the last one's.
pub async fn vacuum(url: &str) {
    let client = connect(url).await;
    client.batch_execute("VACUUM").await.expect("VACUUM");
}

/// Runs `work` `iterations` times on one pooled connection, each after an untimed `reset`;
/// returns the time `work` took.
pub async fn time_after_reset(
    db: &bottles::Database,
    iterations: u64,
    mut work: impl AsyncFnMut(&mut bottles::Client),
) -> Duration {
    let mut client = db.client().await.unwrap();
    let mut measured = Duration::ZERO;
    for _ in 0..iterations {
        bottles::reset(&mut client).await.unwrap();
        let started = Instant::now();
        work(&mut client).await;
        measured += started.elapsed();
    }
    measured
}

/// A multi-threaded runtime like the `bottles` binary's.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("a tokio runtime")
}

fn env_path(name: &str, hint: &str) -> PathBuf {
    match std::env::var_os(name) {
        Some(path) => PathBuf::from(path),
        None => panic!("{name} is not set: run the benchmarks with `cargo xtask bench` ({hint})"),
    }
}

/// The release `bottles` binary.
pub fn bottles_bin() -> PathBuf {
    env_path("BOTTLES_BENCH_BIN", "it builds bottles in release mode")
}

/// The virtualenv's python, with the pinned SQLAlchemy, asyncpg, FastAPI and uvicorn.
fn venv_python() -> Command {
    Command::new(env_path(
        "BOTTLES_BENCH_PYTHON",
        "it creates the SQLAlchemy virtualenv",
    ))
}

/// `python notebook.py` in the virtualenv with the pinned SQLAlchemy and asyncpg.
pub fn sqlalchemy() -> Command {
    let mut command = venv_python();
    command.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/notebook.py"));
    command
}

/// `python SCRIPT` (a file of `bench/`) in the same virtualenv.
pub fn python(script: &str) -> Command {
    let mut command = venv_python();
    command.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(script));
    command
}

/// Runs `command` to completion, quietly; panics with its stderr if it fails.
pub fn run_quietly(command: &mut Command) -> String {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("could not run {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `command` with its output discarded and returns its peak resident set size in bytes,
/// as the kernel accounted it (`wait4`'s `ru_maxrss`).
#[allow(clippy::zombie_processes)] // reaped by wait4, which also reports its usage
pub fn peak_rss(command: &mut Command) -> u64 {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn the measured command");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not waited for elsewhere; the pointers are valid.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{command:?} failed"
    );
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}

/// Marks the start of a benchmark binary's run; [`median`] ignores results older than this.
pub fn begin() {
    RUN_STARTED.get_or_init(SystemTime::now);
}

static RUN_STARTED: OnceLock<SystemTime> = OnceLock::new();

/// criterion's median time for `group`/`function` from this run, or `None` if it was filtered
/// out. Ids must be plain words: criterion rewrites other characters in its directory names.
pub fn median(group: &str, function: &str) -> Option<Duration> {
    let path = criterion_home()
        .join(group)
        .join(function)
        .join("new/estimates.json");
    let written = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if RUN_STARTED.get().is_some_and(|&started| written < started) {
        return None; // left over from an earlier run
    }
    let text = std::fs::read_to_string(path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    let nanos = estimates["median"]["point_estimate"].as_f64()?;
    Some(Duration::from_secs_f64(nanos / 1e9))
}

fn criterion_home() -> PathBuf {
    match std::env::var_os("CRITERION_HOME") {
        Some(home) => PathBuf::from(home),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/criterion")),
    }
}

/// Which way a ratio has to go.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
}

impl Target {
    fn met(self, ratio: f64) -> bool {
        match self {
            Target::AtMost(limit) => ratio <= limit,
            Target::AtLeast(floor) => ratio >= floor,
        }
    }
}

/// Prints one result line, `what`: `slower / faster` as a ratio with both times and the
/// verdict against `target`, and appends it to the run's summary (printed by `cargo xtask bench`).
pub fn report(what: &str, top: Duration, bottom: Duration, target: Option<Target>) {
    let ratio = top.as_secs_f64() / bottom.as_secs_f64();
    let mut line = format!("{what:<62} {ratio:>7.2}×  ({top:.2?} / {bottom:.2?})");
    let _ = match target {
        Some(Target::AtMost(limit)) => write!(line, "  target ≤ {limit}×"),
        Some(Target::AtLeast(floor)) => write!(line, "  target ≥ {floor}×"),
        None => write!(line, "  (for reference)"),
    };
    if let Some(target) = target {
        line.push_str(if target.met(ratio) {
            "  met"
        } else {
            "  MISSED"
        });
    }
    note(&line);
}

/// Prints a line that is not a ratio (a rate, a peak RSS) and adds it to the summary.
pub fn note(line: &str) {
    println!("{line}");
    let summary = criterion_home().join("../bench-summary.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(summary)
    {
        let _ = writeln!(file, "{line}");
    }
}

/// Reports `numerator / denominator` of two medians measured in `group` in this run.
pub fn report_medians(
    what: &str,
    group: &str,
    (numerator, denominator): (&str, &str),
    target: Option<Target>,
) {
    match (median(group, numerator), median(group, denominator)) {
        (Some(top), Some(bottom)) => report(what, top, bottom, target),
        _ => println!("{what}: not measured in this run"),
    }
}

/// Runs `pgbench -M prepared` with `messages_from_user` for Eli from `clients` clients for
/// `seconds`; returns 1 / its rate (the time per query).
pub fn pgbench_time_per_query(url: &str, clients: usize, seconds: u32) -> Duration {
    pgbench_time_per_query_in(url, clients, seconds, "prepared")
}

/// [`pgbench_time_per_query`] in pgbench's `protocol`: `prepared`, or `extended` (an unnamed
/// statement per query, what a transaction pooler can carry).
pub fn pgbench_time_per_query_in(
    url: &str,
    clients: usize,
    seconds: u32,
    protocol: &str,
) -> Duration {
    let script = std::env::temp_dir().join(format!("bottles-pgbench-{}.sql", std::process::id()));
    // pgbench passes `:name` as a parameter of the prepared statement, like bottles' `$1`.
    let sql = bottles::statement_text("messages_from_user").expect("a named statement");
    std::fs::write(&script, format!("{sql};\n")).expect("write the pgbench script");
    let output = run_quietly(
        Command::new(throwaway_pg::program("pgbench"))
            .args(["--no-vacuum", "--define=name=Eli"])
            .arg(format!("--protocol={protocol}"))
            .arg(format!("--client={clients}"))
            .arg("--jobs=2")
            .arg(format!("--time={seconds}"))
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
