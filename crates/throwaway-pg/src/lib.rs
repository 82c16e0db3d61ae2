//! A disposable PostgreSQL server for tools and tests that must work with no set-up.
//!
//! [`LocalServer::start`] finds the installed server binaries (`initdb`, `postgres`), creates a
//! cluster in a fresh temporary directory, starts it on a free loopback port and waits until it
//! accepts connections. The server is stopped and its directory removed when the handle is
//! dropped, and also when the owning process dies in any other way (panic, Ctrl-C, `SIGKILL`):
//! the server runs under a tiny `sh` watchdog that holds the read end of a pipe whose only
//! writer is this process, so the kernel closing that pipe is the signal to shut down.
//!
//! [`LocalServer::standby_of`] adds a streaming replica of a server, [`LocalBouncer`] a
//! PgBouncer in front of one, and [`Formation`] a pg_auto_failover monitor, primary and
//! secondary, all under the same kind of watchdog. [`ScratchDatabase`] gives a test a database
//! of its own on a shared server.
//!
//! PostgreSQL refuses to run as root. When this process is root, the cluster is created and run
//! as an unprivileged account (`postgres` if it exists, else `nobody`), by switching user in the
//! spawned child: no `sudo`, `su` or `runuser` is needed.

mod binaries;
mod bouncer;
mod formation;
mod options;
mod scratch;
mod server;
mod standby;
mod watchdog;

use std::io;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use nix::unistd::{Gid, Uid, User};

pub use binaries::{BinDir, find_bin_dir, program};
pub use bouncer::LocalBouncer;
pub use formation::{
    Ack, Acknowledged, Failover, Formation, MONITOR_SETTINGS, NETWORK_PARTITION_TIMEOUT, NodeState,
    median_and_worst,
};
pub use options::Options;
pub use scratch::ScratchDatabase;
pub use server::LocalServer;

/// How long a fresh cluster may take to accept connections before we give up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a clean shutdown may take on drop before the server is killed outright.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(15);
/// The superuser created by `initdb`; trust auth on loopback, so no password exists to leak.
pub const SUPERUSER: &str = "postgres";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no PostgreSQL server binaries found (looked for initdb and postgres in \
         $THROWAWAY_PG_BIN_DIR, on PATH and in /usr/lib/postgresql/*/bin); \
         install the PostgreSQL server or point DATABASE_URL at a running one"
    )]
    NoBinaries,
    #[error(
        "running as root, but there is no unprivileged account (postgres or nobody) \
         to run PostgreSQL as"
    )]
    NoUnprivilegedUser,
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("initdb failed: {0}")]
    InitDb(String),
    #[error("the local PostgreSQL server did not start: {0}")]
    Startup(String),
    #[error("psql failed: {0}")]
    Sql(String),
    #[error("the standby fell behind: {0}")]
    Replication(String),
    #[error("the pg_auto_failover formation: {0}")]
    Formation(String),
}

pub(crate) fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

/// The account the cluster's files and processes belong to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owner {
    pub(crate) uid: Uid,
    pub(crate) gid: Gid,
    /// Only switch user when we are root; otherwise the server simply runs as us.
    pub(crate) switch: bool,
}

impl Owner {
    fn pick() -> Result<Self, Error> {
        if !Uid::effective().is_root() {
            return Ok(Self {
                uid: Uid::effective(),
                gid: Gid::effective(),
                switch: false,
            });
        }
        ["postgres", "nobody"]
            .iter()
            .find_map(|name| User::from_name(name).ok().flatten())
            .map(|user| Self {
                uid: user.uid,
                gid: user.gid,
                switch: true,
            })
            .ok_or(Error::NoUnprivilegedUser)
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        if self.switch {
            // std also clears root's supplementary groups before it calls setuid.
            command.uid(self.uid.as_raw()).gid(self.gid.as_raw());
        }
        command
    }
}

/// Leaves out this process's `PG*` variables from `command`'s environment: `pg_autoctl` reads
/// `PGDATA`, `PGPORT` and the like, and must see only its own settings.
pub(crate) fn without_pg_environment(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PG") {
            command.env_remove(name);
        }
    }
}

/// The URL in environment variable `var` if it is set and not blank; otherwise the URL of one
/// server this process starts on first use and keeps until it exits (test and benchmark
/// harnesses share it). Panics if that server cannot start: a harness cannot go on without it.
pub fn env_or_shared_server(var: &str) -> &'static str {
    static SERVER: std::sync::OnceLock<LocalServer> = std::sync::OnceLock::new();
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => SERVER
            .get_or_init(|| LocalServer::start().expect("start a throwaway PostgreSQL"))
            .url(),
    })
}

/// `url` pointed at database `name`, keeping user, password, host and options: for harnesses
/// that give each test or benchmark a database of its own on one server. Works for
/// `postgres://` URLs and `key=value` strings.
pub fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return format!("{url} dbname={name}");
    };
    let (location, query) = rest
        .split_once('?')
        .map_or((rest, None), |(l, q)| (l, Some(q)));
    let authority = location.split('/').next().unwrap_or_default();
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

fn free_port() -> Result<u16, Error> {
    // The OS hands out an unused port; postgres binds it right after (a tiny race, reported
    // clearly by wait_until_ready if another process wins it).
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(io_error("could not find a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io_error("could not find a free port"))?
        .port();
    Ok(port)
}

/// Runs `command` (named `what` in errors) to its end with no input: its output, trimmed, or
/// `failed` applied to the last `lines` lines of what it printed on stderr.
fn run(
    command: &mut Command,
    what: &str,
    lines: usize,
    failed: impl FnOnce(String) -> Error,
) -> Result<String, Error> {
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(io_error(format!("could not run {what}")))?;
    if !output.status.success() {
        return Err(failed(last_lines(
            &String::from_utf8_lossy(&output.stderr),
            lines,
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Runs `sql` with `psql` (from [`program`]) on `url`: its output, unaligned, without headers.
pub fn psql(url: &str, sql: &str) -> Result<String, Error> {
    let mut command = Command::new(program("psql"));
    command.args([
        "-X",
        "-q",
        "-tA",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        url,
        "-c",
        sql,
    ]);
    run(&mut command, "psql", 3, Error::Sql)
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(count)..].join(" | ")
}

/// A fresh temporary directory, handed to `owner`.
fn temp_root(prefix: &str, owner: Owner) -> Result<PathBuf, Error> {
    let root = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(io_error("could not create a temporary directory"))?
        .keep();
    if owner.switch {
        nix::unistd::chown(&root, Some(owner.uid), Some(owner.gid))
            .map_err(|errno| io_error("could not hand the directory over")(errno.into()))?;
    }
    Ok(root)
}
