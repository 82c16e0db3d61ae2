//! The server starts, accepts connections, and leaves nothing behind: on drop, and when the
//! owning process is killed outright.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use throwaway_pg::{LocalServer, psql};

fn accepts_tcp(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

fn gone_within(path: &std::path::Path, port: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if !path.exists() && !accepts_tcp(port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn drop_stops_the_server_and_removes_its_files() {
    let server = LocalServer::start().expect("server starts");
    let (root, port) = (server.root().to_path_buf(), server.port());
    assert!(
        root.join("data/PG_VERSION").is_file(),
        "a cluster was created in {root:?}"
    );
    assert!(accepts_tcp(port), "listening on 127.0.0.1:{port}");
    assert_eq!(
        server.url(),
        format!("postgres://postgres@127.0.0.1:{port}/postgres")
    );
    drop(server);
    assert!(!root.exists(), "{root:?} removed on drop");
    assert!(!accepts_tcp(port), "nothing listens on {port} after drop");
}

/// Finds the cluster directory from the running server's `postmaster.pid` (line 4 is the port).
fn server_root_listening_on(port: u16) -> PathBuf {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("throwaway-pg-")
        })
        .find(|root| {
            std::fs::read_to_string(root.join("data/postmaster.pid"))
                .is_ok_and(|pid| pid.lines().nth(3) == Some(&port.to_string()))
        })
        .expect("a cluster directory for the port")
}

#[test]
fn killed_owner_leaves_nothing_behind() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_throwaway-pg"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("DATABASE_URL=")
        .expect("the child prints its URL");
    let port: u16 = url
        .rsplit_once(':')
        .unwrap()
        .1
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(accepts_tcp(port));
    let root = server_root_listening_on(port);
    assert!(root.join("data").is_dir());

    child.kill().unwrap(); // SIGKILL: no destructor runs in the child
    child.wait().unwrap();
    assert!(
        gone_within(&root, port, Duration::from_secs(20)),
        "server on {port} and {root:?} cleaned up"
    );
}

#[test]
fn a_stopped_server_keeps_its_files_and_port_and_starts_again() {
    let mut server = LocalServer::start().expect("server starts");
    let (root, port) = (server.root().to_path_buf(), server.port());
    server.stop_for_now().expect("stops");
    assert!(!accepts_tcp(port), "nothing listens while stopped");
    assert!(root.join("data/PG_VERSION").is_file(), "the data is kept");
    server.start_again().expect("starts again");
    assert!(accepts_tcp(port), "the same port again");
    drop(server);
    assert!(gone_within(&root, port, Duration::from_secs(15)));
}

/// `psql -Atc SQL` against `url`: its output, or its error.
#[test]
fn a_standby_streams_from_its_primary_refuses_writes_and_takes_them_once_promoted() {
    let primary = LocalServer::start().expect("primary");
    psql(
        &primary.url(),
        "CREATE TABLE t (x int); INSERT INTO t VALUES (1)",
    )
    .unwrap();
    let standby = LocalServer::standby_of(&primary).expect("standby");
    assert_ne!(standby.port(), primary.port());
    assert_eq!(
        psql(&standby.url(), "SELECT pg_is_in_recovery()").unwrap(),
        "t"
    );
    psql(&primary.url(), "INSERT INTO t VALUES (2)").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while psql(&standby.url(), "SELECT count(*) FROM t").unwrap() != "2" {
        assert!(
            Instant::now() < deadline,
            "the standby never replayed the insert"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = psql(&standby.url(), "INSERT INTO t VALUES (3)")
        .unwrap_err()
        .to_string();
    assert!(refused.contains("read-only transaction"), "{refused}");
    drop(primary);
    standby.promote().expect("promote");
    assert_eq!(
        psql(&standby.url(), "SELECT pg_is_in_recovery()").unwrap(),
        "f"
    );
    psql(&standby.url(), "INSERT INTO t VALUES (3)").expect("writes after promotion");
}

#[test]
fn a_bouncer_pools_transactions_in_front_of_a_server_and_is_gone_after_drop() {
    let server = LocalServer::start().expect("server");
    let bouncer = throwaway_pg::LocalBouncer::start(&server, "transaction", 2).expect("pgbouncer");
    let port = bouncer.port();
    let through = psql(&bouncer.url_for("postgres"), "SELECT 40 + 2").unwrap();
    assert_eq!(through, "42");
    drop(bouncer);
    assert!(!accepts_tcp(port), "pgbouncer stopped");
}
