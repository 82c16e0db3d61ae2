//! [`LocalServer`]: one throwaway PostgreSQL server, from initdb (or a base backup) to removal.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin};
use std::time::{Duration, Instant};

use crate::options::{Options, configure};
use crate::{
    BinDir, Error, Owner, SHUTDOWN_TIMEOUT, STARTUP_TIMEOUT, SUPERUSER, find_bin_dir, free_port,
    io_error, last_lines, run, temp_root, watchdog,
};

/// A running throwaway PostgreSQL server. Dropping it stops the server and deletes its files.
#[derive(Debug)]
pub struct LocalServer {
    root: PathBuf,
    port: u16,
    bin_dir: BinDir,
    owner: Owner,
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
        Self::create(options, initdb)
    }

    /// A new directory whose `data` is filled by `make_cluster` (as the owner), configured with
    /// `options` and served on a free port; removed on failure.
    pub(crate) fn create(
        options: &Options,
        make_cluster: impl FnOnce(&BinDir, Owner, &Path) -> Result<(), Error>,
    ) -> Result<Self, Error> {
        let bin_dir = find_bin_dir().ok_or(Error::NoBinaries)?;
        let owner = Owner::pick()?;
        let root = temp_root("throwaway-pg-", owner)?;
        let data = root.join("data");
        // Until the watchdog owns the directory, removing it on failure is our job.
        let spawned = make_cluster(&bin_dir, owner, &data)
            .and_then(|()| configure(&data, owner, options))
            .and_then(|()| Self::spawn(&bin_dir, owner, &root, options));
        let mut server = spawned.inspect_err(|_| {
            let _ = fs::remove_dir_all(&root);
        })?;
        // From here on, dropping `server` on failure stops it and removes the directory.
        server.wait_until_ready()?;
        Ok(server)
    }

    fn spawn(
        bin_dir: &BinDir,
        owner: Owner,
        root: &Path,
        options: &Options,
    ) -> Result<Self, Error> {
        let port = free_port()?;
        let mut args: Vec<String> = ["-D", &root.join("data").display().to_string()]
            .into_iter()
            .map(String::from)
            .collect();
        args.extend([
            "-p".into(),
            port.to_string(),
            "-h".into(),
            "127.0.0.1".into(),
        ]);
        args.extend(["-k".into(), root.display().to_string()]);
        // Durability buys nothing for a server whose files die with it.
        for setting in [
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
        ] {
            args.extend(["-c".into(), setting.into()]);
        }
        args.extend(["-N".into(), "200".into()]);
        for (name, value) in &options.settings {
            args.extend(["-c".into(), format!("{name}={value}")]);
        }
        let postgres = bin_dir.path().join("postgres");
        let (watchdog, lifeline) =
            watchdog::spawn(owner, root, "server.log", "INT", &postgres, &args)?;
        Ok(Self {
            root: root.to_path_buf(),
            port,
            bin_dir: bin_dir.clone(),
            owner,
            watchdog,
            lifeline: Some(lifeline),
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
            // A hot standby reports "standby" once it takes connections.
            let ready = status.as_ref().is_some_and(|(pid, state)| {
                matches!(state.as_str(), "ready" | "standby")
                    && old_pid.is_none_or(|old| old != pid)
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

    pub(crate) fn owner(&self) -> Owner {
        self.owner
    }

    fn log_tail(&self, lines: usize) -> String {
        let mut log = String::new();
        let _ = fs::File::open(self.root.join("server.log"))
            .and_then(|mut f| f.read_to_string(&mut log));
        last_lines(&log, lines)
    }

    /// Runs `sql` with psql as the superuser ([`crate::psql`] on [`LocalServer::url`]).
    pub fn sql(&self, sql: &str) -> Result<String, Error> {
        crate::psql(&self.url(), sql)
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

/// A fresh cluster in `data`, made by `owner`: the superuser trusted on loopback, UTF-8, the C
/// locale, and no fsync (nothing there needs to survive).
pub(crate) fn initdb(bin_dir: &BinDir, owner: Owner, data: &Path) -> Result<(), Error> {
    let mut initdb = owner.command(bin_dir.path().join("initdb"));
    initdb
        .arg("--pgdata")
        .arg(data)
        .args([
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
        ])
        .args(["--locale", "C", "--no-sync", "--no-instructions"]);
    run(&mut initdb, "initdb", 5, Error::InitDb)?;
    Ok(())
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}
