//! `cargo xtask bench`: everything the benchmarks need, then `cargo bench -p bottles-bench`.
//!
//! Builds the release `bottles` binary, installs the pinned SQLAlchemy stack into
//! `target/bench-venv` (once), starts a throwaway PostgreSQL unless `DATABASE_URL` is set, runs
//! the criterion benches and finally prints every ratio against its target in one table.

use std::path::{Path, PathBuf};
use std::process::Command;

use throwaway_pg::LocalServer;

pub fn run(bench_args: &[String]) -> Result<String, String> {
    let root = xtask::repo_root();
    let target = root.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    eprintln!("bench: building the release bottles and bottles-web binaries");
    let built = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "--bin",
            "bottles",
            "--bin",
            "bottles-web",
        ])
        .current_dir(&root)
        .status();
    check(built, "cargo build --release")?;

    let python = virtualenv(
        &target.join("bench-venv"),
        &root.join("bench/requirements.txt"),
    )?;
    for (tool, package) in [
        ("psql", "postgresql-client"),
        ("pgbench", "postgresql-client"),
        ("wrk", "wrk"),
        ("pgbouncer", "pgbouncer"),
    ] {
        let found = Command::new(throwaway_pg::program(tool))
            .arg("--version")
            .output();
        // wrk prints its version and exits 1.
        if !found.is_ok_and(|out| out.status.success() || !out.stdout.is_empty()) {
            return Err(format!(
                "{tool} is not installed (apt-get install {package})"
            ));
        }
    }

    let (url, server) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => (url, None),
        _ => {
            let server = LocalServer::start().map_err(|e| e.to_string())?;
            eprintln!(
                "bench: no DATABASE_URL, so using a throwaway PostgreSQL at {}",
                server.url()
            );
            (server.url(), Some(server))
        }
    };

    let criterion_home = target.join("criterion");
    let summary = target.join("bench-summary.txt");
    let _ = std::fs::remove_file(&summary);
    let _ = std::fs::create_dir_all(&criterion_home);
    let ran = Command::new(&cargo)
        .args(["bench", "--package", "bottles-bench"])
        .args(bench_args)
        .current_dir(&root)
        .env("DATABASE_URL", &url)
        .env("CRITERION_HOME", &criterion_home)
        .env("BOTTLES_BENCH_BIN", target.join("release/bottles"))
        .env("BOTTLES_BENCH_WEB_BIN", target.join("release/bottles-web"))
        .env("BOTTLES_BENCH_PYTHON", &python)
        .status();
    drop(server);
    check(ran, "cargo bench")?;

    let results = std::fs::read_to_string(&summary).unwrap_or_default();
    Ok(format!("\n{}\n{results}", machine()))
}

fn check(status: std::io::Result<std::process::ExitStatus>, what: &str) -> Result<(), String> {
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what} failed ({status})")),
        Err(err) => Err(format!("could not run {what}: {err}")),
    }
}

/// The virtualenv's python, creating the env and installing `requirements` when they changed.
fn virtualenv(venv: &Path, requirements: &Path) -> Result<PathBuf, String> {
    let python = venv.join("bin/python");
    let wanted = std::fs::read_to_string(requirements).map_err(|e| e.to_string())?;
    let stamp = venv.join("installed-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted) {
        return Ok(python);
    }
    eprintln!(
        "bench: installing {} into {}",
        requirements.display(),
        venv.display()
    );
    let created = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(venv)
        .status();
    check(created, "python3 -m venv (apt-get install python3-venv)")?;
    let installed = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements)
        .status();
    check(installed, "pip install")?;
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(python)
}

/// One line on what the numbers were measured on.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            let line = info
                .lines()
                .find(|l| l.starts_with("model name"))?
                .to_string();
            Some(line.split_once(':')?.1.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let server = Command::new("postgres")
        .arg("--version")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default();
    format!("measured on: {cpu}, {cores} cores; server: {server}")
}
