//! HTTP servers under load for the benchmarks: bottles-web and the FastAPI peer as processes,
//! and `wrk` to load them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long each wrk run lasts, and its connections.
pub const SECONDS: u32 = 8;
pub const CONNECTIONS: u32 = 64;

/// What one wrk run measured.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub per_second: f64,
    pub p99: Duration,
}

/// A server process under test, stopped when dropped.
pub struct Server {
    child: Child,
    /// `host:port`.
    pub address: String,
}

impl Server {
    /// The release bottles-web on `url` (never reset), on a free port.
    pub fn bottles_web(url: &str) -> Self {
        Self::bottles_web_with(url, &[])
    }

    /// The release bottles-web on `url`, with the environment variables `vars` (and no
    /// `OTEL_*` endpoint but theirs).
    pub fn bottles_web_with(url: &str, vars: &[(&str, &str)]) -> Self {
        let binary = crate::env_path(
            "BOTTLES_BENCH_WEB_BIN",
            "it builds bottles-web in release mode",
        );
        Self::bottles_web_binary(binary, url, vars)
    }

    /// A bottles-web binary of one's choosing (a build from before a change, say), as
    /// [`Server::bottles_web_with`] runs the release one.
    pub fn bottles_web_binary(binary: PathBuf, url: &str, vars: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary);
        command
            .args(["--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", url)
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .envs(vars.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start bottles-web");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let address = lines
            .find_map(|line| {
                line.ok()?
                    .strip_prefix("listening on http://")
                    .map(String::from)
            })
            .expect("bottles-web says where it listens");
        // Its access log goes on; keep reading it, as a terminal or a log collector would.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, address }
    }

    /// bench/fastapi_app.py under uvicorn, one worker per core, its access log on as
    /// bottles-web's is.
    pub fn fastapi(url: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .to_string();
        let child = crate::venv_python()
            .args([
                "-m",
                "uvicorn",
                "fastapi_app:app",
                "--app-dir",
                env!("CARGO_MANIFEST_DIR"),
            ])
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--workers",
                &workers,
            ])
            .env("DATABASE_URL", url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start uvicorn");
        let server = Self {
            child,
            address: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !server.answers("/health") {
            assert!(Instant::now() < deadline, "uvicorn did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    pub fn answers(&self, path: &str) -> bool {
        let Ok(mut stream) = TcpStream::connect(&self.address) else {
            return false;
        };
        let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
        let mut response = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut response).is_ok()
            && response.starts_with("HTTP/1.1 200")
    }

    /// The process's peak resident set size so far (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .expect("VmHWM");
        let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kb * 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM, so uvicorn stops its workers too.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// `wrk -t2 -c64 -d8s --latency URL [-s SCRIPT]`: requests per second and the 99th percentile.
pub fn wrk(url: &str, script: Option<&std::path::Path>) -> Load {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{CONNECTIONS}"),
        &format!("-d{SECONDS}s"),
        "--latency",
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = crate::run_quietly(command.arg(url));
    let field = |prefix: &str| {
        output
            .lines()
            .find_map(|line| {
                line.trim()
                    .strip_prefix(prefix)
                    .map(str::trim)
                    .map(String::from)
            })
            .unwrap_or_else(|| panic!("no {prefix:?} in wrk's output:\n{output}"))
    };
    if output.contains("Non-2xx") {
        panic!("wrk saw failed requests on {url}:\n{output}");
    }
    Load {
        per_second: field("Requests/sec:").parse().expect("a rate"),
        p99: wrk_duration(&field("99%")),
    }
}

/// wrk's `12.95ms`, `850.00us`, `1.20s`.
fn wrk_duration(text: &str) -> Duration {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let value: f64 = text[..split].parse().expect("a number");
    let seconds = match &text[split..] {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        unit => panic!("unknown unit {unit:?} in {text:?}"),
    };
    Duration::from_secs_f64(seconds)
}
