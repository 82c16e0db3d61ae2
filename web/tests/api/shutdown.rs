//! The binary: it starts its own throwaway server with the notebook's data when given no
//! settings, prints where it listens, and on SIGTERM stops accepting, finishes the requests in
//! flight and exits 0, removing the throwaway server.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;

use crate::helpers::{json, spawn_app};

/// What the binary wrote to stderr after its "listening on" line.
type Log = Arc<Mutex<String>>;

/// `bottles-web --listen 127.0.0.1:0` with these variables; returns it, its address and its log.
pub fn start(vars: &[(&str, &str)], tmp: &std::path::Path) -> (Child, String, Log) {
    start_with(vars, &[], tmp)
}

/// [`start`] with more arguments.
pub fn start_with(
    vars: &[(&str, &str)],
    args: &[&str],
    tmp: &std::path::Path,
) -> (Child, String, Log) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bottles-web"));
    command
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(tmp)
        .env("TMPDIR", tmp)
        .env("HOME", tmp)
        .env_remove("DATABASE_URL")
        .env_remove("PGHOST")
        .env_remove("PGDATABASE")
        .env_remove("PGSERVICE")
        .env_remove("PGHOSTADDR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start bottles-web");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = stderr.lines();
    let address = loop {
        let mut line = lines.next().expect("a line before it listens").unwrap();
        if line.starts_with('{') {
            // --log-format json
            let object: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
            line = object["message"].as_str().unwrap_or_default().to_string();
        }
        if let Some(address) = line.strip_prefix("listening on ") {
            break address.to_string();
        }
    };
    // Keep reading (the access log) so the child never blocks on a full pipe.
    let log = Log::default();
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let mut kept = kept.lock().unwrap();
            kept.push_str(&line);
            kept.push('\n');
        }
    });
    (child, address, log)
}

pub fn terminate(child: &Child) {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("SIGTERM");
}

pub fn wait_exit(mut child: Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("bottles-web still running after {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_settings_it_serves_the_notebook_from_its_own_server_and_removes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (child, address, _) = start(&[], tmp.path());
    let (status, elis) = json(
        reqwest::get(format!("{address}/users?name=Eli"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(elis[0]["messages"].as_array().unwrap().len(), 33);
    assert_eq!(
        json(reqwest::get(format!("{address}/stats")).await.unwrap())
            .await
            .1,
        json!({"users": 3, "messages": 100})
    );
    terminate(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(child, Duration::from_secs(15)))
        .await
        .unwrap();
    assert_eq!(code, Some(0));
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    assert!(
        left.is_empty(),
        "the throwaway server's files are gone: {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let app = spawn_app().await;
    let tmp = tempfile::tempdir().unwrap();
    let (child, address, _) = start(&[("DATABASE_URL", &app.db_url)], tmp.path());
    let mut sql = app.sql().await;
    let lock = sql.transaction().await.unwrap();
    lock.batch_execute(r#"LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE"#)
        .await
        .unwrap();
    let in_flight = tokio::spawn(reqwest::get(format!("{address}/stats")));
    // Wait until the request's statement is blocked on the lock: it is in flight.
    let observer = app.sql().await;
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()";
    let deadline = Instant::now() + Duration::from_secs(10);
    while observer
        .query_one(waiting, &[])
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the request never reached the database"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    terminate(&child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = reqwest::Client::new()
        .get(format!("{address}/health"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "no new requests after SIGTERM: {refused:?}"
    );
    lock.rollback().await.unwrap();
    let finished = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(
        json(finished).await,
        (200, json!({"users": 3, "messages": 100}))
    );
    let code = tokio::task::spawn_blocking(move || wait_exit(child, Duration::from_secs(15)))
        .await
        .unwrap();
    assert_eq!(code, Some(0));
}
