//! A disposable PostgreSQL server for tools and tests that must work with no set-up.
//!
//! [`LocalServer::start`] finds the installed server binaries (`initdb`, `postgres`), creates a
//! cluster in a fresh temporary directory, starts it on a free loopback port and waits until it
//! accepts connections. The server is stopped and its directory removed when the handle is
//! dropped, and also when the owning process dies in any other way (panic, Ctrl-C, `SIGKILL`):
//! the server runs under a tiny `sh` watchdog that holds the read end of a pipe whose only
//! writer is this process, so the kernel closing that pipe is the signal to shut down.
//!
//! PostgreSQL refuses to run as root. When this process is root, the cluster is created and run
//! as an unprivileged account (`postgres` if it exists, else `nobody`), by switching user in the
//! spawned child: no `sudo`, `su` or `runuser` is needed.

mod binaries;
mod options;

use std::fs;
use std::io::{self, Read};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use nix::unistd::{Gid, Uid, User};

pub use binaries::{BinDir, find_bin_dir, program};
pub use options::Options;
use options::configure;

/// How long a fresh cluster may take to accept connections before we give up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a clean shutdown may take on drop before the server is killed outright.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(15);
/// The superuser created by `initdb`; trust auth on loopback, so no password exists to leak.
pub const SUPERUSER: &str = "postgres";

/// Runs the server as its owner, stops it when our end of stdin closes, then removes the files.
/// Lines on stdin: `stop` stops the server (fast shutdown) and keeps its files, `start` starts
/// it again, `restart` does both. `$1` is the directory to remove, `$2` the log file, the rest
/// the `postgres` command line.
const WATCHDOG: &str = r#"root=$1; log=$2; shift 2
"$@" >>"$log" 2>&1 &
server=$!
while read -r command; do
  case $command in
    stop|restart) kill -INT "$server" 2>/dev/null; wait "$server"; server= ;;
  esac
  case $command in
    start|restart) [ -z "$server" ] && { "$@" >>"$log" 2>&1 & server=$!; } ;;
  esac
done
[ -n "$server" ] && { kill -INT "$server" 2>/dev/null; wait "$server"; }
rm -rf "$root"
"#;

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

/// A running throwaway PostgreSQL server. Dropping it stops the server and deletes its files.
#[derive(Debug)]
pub struct LocalServer {
    root: PathBuf,
    port: u16,
    bin_dir: BinDir,
    watchdog: Child,
    /// The write end of the watchdog's stdin: closing it (drop, or process death) stops the server.
    lifeline: Option<ChildStdin>,
}

impl LocalServer {
    /// Creates and starts a fresh cluster. Takes about a second; blocks the calling thread.
    pub fn start() -> Result<Self, Error> {
        Self::start_with(&Options::default())
    }

    /// [`LocalServer::start`] with extra settings, authentication rules or files.
    pub fn start_with(options: &Options) -> Result<Self, Error> {
        let bin_dir = find_bin_dir().ok_or(Error::NoBinaries)?;
        let owner = Owner::pick()?;
        let root = tempfile::Builder::new()
            .prefix("throwaway-pg-")
            .tempdir()
            .map_err(io_error("could not create a temporary directory"))?
            .keep();
        // Until the watchdog owns the directory, removing it on failure is our job.
        let mut server =
            Self::init_and_spawn(&bin_dir, owner, &root, options).inspect_err(|_| {
                let _ = fs::remove_dir_all(&root);
            })?;
        // From here on, dropping `server` on failure stops it and removes the directory.
        server.wait_until_ready()?;
        Ok(server)
    }

    fn init_and_spawn(
        bin_dir: &BinDir,
        owner: Owner,
        root: &Path,
        options: &Options,
    ) -> Result<Self, Error> {
        if owner.switch {
            nix::unistd::chown(root, Some(owner.uid), Some(owner.gid)).map_err(|errno| {
                io_error("could not hand the data directory over")(errno.into())
            })?;
        }
        let data = root.join("data");
        let output = owner
            .command(bin_dir.path().join("initdb"))
            .current_dir(root)
            .arg("--pgdata")
            .arg(&data)
            .args([
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
            ])
            .args(["--locale", "C", "--no-sync", "--no-instructions"])
            .stdin(Stdio::null())
            .output()
            .map_err(io_error("could not run initdb"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(Error::InitDb(last_lines(&stderr, 5)));
        }
        configure(&data, owner, options)?;

        let port = free_port()?;
        let mut command = owner.command("/bin/sh");
        command
            .current_dir(root)
            .args(["-c", WATCHDOG, "throwaway-pg"])
            .arg(root)
            .arg(root.join("server.log"))
            .arg(bin_dir.path().join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-k"])
            .arg(root)
            // Durability buys nothing for a server whose files die with it.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-N", "200"])
            .args(
                options
                    .settings
                    .iter()
                    .flat_map(|(name, value)| ["-c".to_string(), format!("{name}={value}")]),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a terminal's Ctrl-C reaches us, and we shut it down in order.
            .process_group(0);
        let mut watchdog = command
            .spawn()
            .map_err(io_error("could not start postgres"))?;
        let lifeline = watchdog.stdin.take();
        Ok(Self {
            root: root.to_path_buf(),
            port,
            bin_dir: bin_dir.clone(),
            watchdog,
            lifeline,
        })
    }

    /// Polls `postmaster.pid`, whose status line reads `ready` once connections are accepted.
    fn wait_until_ready(&mut self) -> Result<(), Error> {
        self.wait_until_ready_after(None)
    }

    /// Waits for a `ready` server whose postmaster is not `old_pid`.
    fn wait_until_ready_after(&mut self, old_pid: Option<&str>) -> Result<(), Error> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let status = self.postmaster_status();
            let ready = status.as_ref().is_some_and(|(pid, state)| {
                state == "ready" && old_pid.is_none_or(|old| old != pid)
            });
            if ready {
                return Ok(());
            }
            let exited = !self.is_running();
            if exited || Instant::now() > deadline {
                let log = self.log_tail(5);
                let why = if exited { "it exited" } else { "timed out" };
                return Err(Error::Startup(format!("{why}; server log: {log}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The postmaster's pid and status, from `postmaster.pid`, while it runs.
    fn postmaster_status(&self) -> Option<(String, String)> {
        let text = fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        let lines: Vec<&str> = text.lines().collect();
        Some((lines.first()?.trim().into(), lines.get(7)?.trim().into()))
    }

    /// Stops the server (fast shutdown: open sessions are terminated) and starts it again on
    /// the same port with the same data; returns once it accepts connections again.
    pub fn restart(&mut self) -> Result<(), Error> {
        let old = self.postmaster_status().map(|(pid, _)| pid);
        self.tell("restart")?;
        self.wait_until_ready_after(old.as_deref())
    }

    /// Stops the server (fast shutdown), keeping its port and data for [`LocalServer::start_again`];
    /// returns once it is gone.
    pub fn stop_for_now(&mut self) -> Result<(), Error> {
        self.tell("stop")?;
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        while self.postmaster_status().is_some() {
            if Instant::now() > deadline {
                return Err(Error::Startup("the server did not stop".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Starts a server stopped by [`LocalServer::stop_for_now`]; returns once it accepts
    /// connections.
    pub fn start_again(&mut self) -> Result<(), Error> {
        self.tell("start")?;
        self.wait_until_ready()
    }

    fn tell(&mut self, command: &str) -> Result<(), Error> {
        use std::io::Write;
        let lifeline = self
            .lifeline
            .as_mut()
            .ok_or_else(|| Error::Startup("the server has been stopped".into()))?;
        writeln!(lifeline, "{command}").map_err(io_error(format!("could not ask for {command}")))
    }

    /// The watchdog is our only child and lives exactly as long as the server.
    fn is_running(&mut self) -> bool {
        matches!(self.watchdog.try_wait(), Ok(None))
    }

    fn log_tail(&self, lines: usize) -> String {
        let mut log = String::new();
        let _ = fs::File::open(self.root.join("server.log"))
            .and_then(|mut f| f.read_to_string(&mut log));
        last_lines(&log, lines)
    }

    /// A connection URL for `database` as the superuser (trust auth: no password).
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// A connection URL for the default `postgres` database.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary directory holding the cluster, its socket and its log.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The installed binaries this server was started from.
    pub fn bin_dir(&self) -> &BinDir {
        &self.bin_dir
    }

    /// Stops the server and removes its files now (dropping does the same).
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if self.lifeline.take().is_none() {
            return;
        }
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        while self.is_running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if self.is_running() {
            // A stuck server: kill the whole group (watchdog and postgres), then reap.
            let group = nix::unistd::Pid::from_raw(-(self.watchdog.id() as i32));
            let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
            let _ = self.watchdog.wait();
        }
        // The watchdog removes the directory; this covers a temp dir it could not write to.
        let _ = fs::remove_dir_all(&self.root);
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.shut_down();
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

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(count)..].join(" | ")
}
