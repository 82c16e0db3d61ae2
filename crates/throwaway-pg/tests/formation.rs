//! A real pg_auto_failover formation: it comes up as a primary and a synchronous secondary
//! behind one URL, fails over by plan and by a killed primary with nothing committed lost, takes
//! the killed node back as a secondary, and leaves no process or file behind, also when its
//! owner is killed.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use throwaway_pg::{Formation, psql};

fn accepts_tcp(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Whether some process still runs with `root` on its command line.
fn process_mentions(root: &Path) -> bool {
    let root = root.to_string_lossy();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .any(|cmdline| String::from_utf8_lossy(&cmdline).contains(root.as_ref()))
}

fn all_gone_within(roots: &[PathBuf], ports: &[u16], limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let left: Vec<String> = roots
            .iter()
            .filter(|root| root.exists() || process_mentions(root))
            .map(|root| root.display().to_string())
            .chain(
                ports
                    .iter()
                    .filter(|port| accepts_tcp(**port))
                    .map(|port| format!("port {port}")),
            )
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("still there: {}", left.join(", ")));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The ports of a `postgres://user@host:port,host:port/db?…` URL.
fn ports_of(url: &str) -> Vec<u16> {
    let hosts = url.split('@').nth(1).unwrap().split('/').next().unwrap();
    hosts
        .split(',')
        .map(|host| host.rsplit_once(':').unwrap().1.parse().unwrap())
        .collect()
}

/// Runs `sql` through `url` until it succeeds: its output and how long that took.
fn until_it_answers(url: &str, sql: &str, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    loop {
        match psql(url, sql) {
            Ok(out) => return (out, started.elapsed()),
            Err(err) if started.elapsed() > limit => panic!("no answer in {limit:?}: {err}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[test]
fn a_formation_fails_over_by_plan_and_by_fault_losing_nothing_and_leaves_nothing_behind() {
    let started = Instant::now();
    let mut formation = Formation::start().expect("the formation starts");
    eprintln!("formation up in {:.1?}", started.elapsed());
    let url = formation.url();
    assert!(url.contains("target_session_attrs=read-write"), "{url}");
    let ports = ports_of(&url);
    assert_eq!(
        ports,
        [formation.node_port(0), formation.node_port(1)],
        "{url}"
    );
    assert_eq!(formation.primary().unwrap(), Some(0));
    let primary_url = formation.node_url(0);
    let sync = psql(
        &primary_url,
        "SELECT current_setting('synchronous_standby_names') <> '' \
         AND current_setting('synchronous_commit') = 'on'",
    )
    .unwrap();
    assert_eq!(sync, "t", "commits wait for the secondary");
    let port = psql(
        &url,
        "CREATE TABLE t (x int); INSERT INTO t VALUES (1); SELECT inet_server_port()",
    )
    .unwrap();
    assert_eq!(port, ports[0].to_string());

    formation.perform_failover().expect("a planned failover");
    assert_eq!(formation.primary().unwrap(), Some(1));
    let (answer, _) = until_it_answers(
        &url,
        "INSERT INTO t VALUES (2); SELECT inet_server_port(), count(*) FROM t",
        Duration::from_secs(30),
    );
    assert_eq!(answer, format!("{}|2", ports[1]));

    let killed = formation.kill_primary().expect("kill the primary");
    assert_eq!(killed, 1);
    assert!(!accepts_tcp(ports[1]), "the killed node is gone");
    let (answer, took) = until_it_answers(
        &url,
        "INSERT INTO t VALUES (3); SELECT inet_server_port(), string_agg(x::text, ',' ORDER BY x) FROM t",
        Duration::from_secs(60),
    );
    eprintln!("writes again {took:.1?} after the primary was killed");
    assert_eq!(answer, format!("{}|1,2,3", ports[0]));

    formation
        .restore(Duration::from_secs(90))
        .expect("the killed node rejoins");
    assert_eq!(formation.primary().unwrap(), Some(0));
    let (rows, _) = until_it_answers(
        &formation.node_url(1),
        "SELECT pg_is_in_recovery(), count(*) FROM t",
        Duration::from_secs(30),
    );
    assert_eq!(rows, "t|3", "the old primary follows the new one");

    let roots = formation.roots();
    let monitor_port = ports_of(&formation.monitor_url())[0];
    drop(formation);
    all_gone_within(
        &roots,
        &[ports[0], ports[1], monitor_port],
        Duration::from_secs(5),
    )
    .unwrap();
}

#[test]
fn a_killed_owner_leaves_no_formation_behind() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_throwaway-pg"))
        .arg("--formation")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ports = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let (_, url) = line.split_once('=').expect("NAME=url");
        ports.extend(ports_of(url));
        if line.starts_with("DATABASE_URL=") {
            break;
        }
    }
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut files = String::new();
    stderr.read_line(&mut files).unwrap();
    let roots: Vec<PathBuf> = files
        .trim()
        .strip_prefix("files in ")
        .and_then(|rest| rest.split(';').next())
        .expect("the child names its directories")
        .split(", ")
        .map(PathBuf::from)
        .collect();
    assert_eq!((roots.len(), ports.len()), (3, 3), "{files} {ports:?}");
    assert!(roots.iter().all(|root| root.join("data").is_dir()));
    assert!(ports.iter().all(|port| accepts_tcp(*port)));

    child.kill().unwrap(); // SIGKILL: no destructor runs in the child
    child.wait().unwrap();
    all_gone_within(&roots, &ports, Duration::from_secs(30)).unwrap();
}
