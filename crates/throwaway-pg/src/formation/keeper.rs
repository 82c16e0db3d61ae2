//! [`Keeper`]: one `pg_autoctl` process (the monitor, or a node's keeper) and the PostgreSQL
//! it runs, in a session of its own under the session watchdog: created once, then run; killed
//! whole on demand and started again on the same data; stopped and removed however this
//! process ends.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin};
use std::time::{Duration, Instant};

use crate::{Error, Owner, SHUTDOWN_TIMEOUT, SUPERUSER, io_error, last_lines, temp_root, watchdog};

/// Runs `pg_autoctl create …` once (the `created` marker says it finished), sets one keeper
/// setting, then `pg_autoctl run` for good; started again after a kill, it only runs. `$1` is
/// `pg_autoctl`, `$2` the data directory, `$3` and `$4` the setting's name and value, `$5` what
/// to create (`monitor`, `postgres`), the rest the arguments of `create`.
const NODE_SCRIPT: &str = r#"autoctl=$1; pgdata=$2; name=$3; value=$4; kind=$5; shift 5
if [ ! -e created ]; then
  "$autoctl" create "$kind" --pgdata "$pgdata" "$@" || exit 1
  "$autoctl" config set --pgdata "$pgdata" "$name" "$value" >/dev/null || exit 1
  : >created
fi
exec "$autoctl" run --pgdata "$pgdata"
"#;

/// One `pg_autoctl` and its PostgreSQL, removed with its directory when dropped.
#[derive(Debug)]
pub(crate) struct Keeper {
    name: String,
    root: PathBuf,
    /// Where the formation's servers put their Unix sockets (`PGHOST` for `pg_autoctl`).
    sockets: PathBuf,
    port: u16,
    watchdog: Child,
    lifeline: Option<ChildStdin>,
    /// Killed by [`Keeper::kill`] and not started again since.
    killed: bool,
}

/// What a keeper needs to be created: who runs it, where `pg_autoctl` is, the setting
/// `pg_autoctl config set` applies once it is created, and the directory of the formation's
/// Unix sockets (`None`: a new one in this keeper's directory, gone with it).
pub(crate) struct Plan<'a> {
    pub(crate) owner: Owner,
    pub(crate) pg_autoctl: &'a Path,
    pub(crate) name: &'a str,
    pub(crate) port: u16,
    pub(crate) setting: (&'a str, &'a str),
    pub(crate) sockets: Option<&'a Path>,
}

impl Keeper {
    /// A new directory for a keeper named `name` (its data directory in `data`, made there by
    /// `prepare(data, sockets)` when it needs one), then `pg_autoctl create <create_args>`
    /// (what, then its options but `--pgdata`) and `run` in it.
    pub(crate) fn spawn(
        plan: &Plan<'_>,
        prepare: impl FnOnce(&Path, &Path) -> Result<(), Error>,
        create_args: &[&OsStr],
    ) -> Result<Self, Error> {
        let root = temp_root(&format!("throwaway-paf-{}-", plan.name), plan.owner)?;
        let data = root.join("data");
        let sockets = plan
            .sockets
            .map_or_else(|| root.join("sockets"), Path::to_path_buf);
        let mut dirs = vec!["config", "share", "run"];
        if plan.sockets.is_none() {
            dirs.push("sockets");
        }
        let spawned = make_dirs(&root, &dirs, plan.owner)
            .and_then(|()| prepare(&data, &sockets))
            .and_then(|()| {
                let (config, share, run) =
                    (root.join("config"), root.join("share"), root.join("run"));
                let env: [(&str, &OsStr); 6] = [
                    ("HOME", root.as_os_str()),
                    // initdb's superuser, whoever runs it.
                    ("PGUSER", SUPERUSER.as_ref()),
                    ("XDG_CONFIG_HOME", config.as_os_str()),
                    ("XDG_DATA_HOME", share.as_os_str()),
                    ("XDG_RUNTIME_DIR", run.as_os_str()),
                    ("PGHOST", sockets.as_os_str()),
                ];
                let mut args: Vec<&OsStr> = vec![
                    OsStr::new("-c"),
                    OsStr::new(NODE_SCRIPT),
                    OsStr::new("pg_autoctl-keeper"),
                    plan.pg_autoctl.as_os_str(),
                    data.as_os_str(),
                    OsStr::new(plan.setting.0),
                    OsStr::new(plan.setting.1),
                ];
                args.extend_from_slice(create_args);
                watchdog::spawn_session(
                    plan.owner,
                    &root,
                    "keeper.log",
                    &data.join("postmaster.pid"),
                    &env,
                    Path::new("/bin/sh"),
                    &args,
                )
            });
        let (watchdog, lifeline) = spawned.inspect_err(|_| {
            let _ = fs::remove_dir_all(&root);
        })?;
        Ok(Self {
            name: plan.name.to_string(),
            root,
            sockets,
            port: plan.port,
            watchdog,
            lifeline: Some(lifeline),
            killed: false,
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn sockets(&self) -> &Path {
        &self.sockets
    }

    pub(crate) fn killed(&self) -> bool {
        self.killed
    }

    /// The environment `pg_autoctl` commands about this keeper run in.
    pub(crate) fn env(&self) -> Vec<(&'static str, OsString)> {
        let dir = |name: &str| self.root.join(name).into_os_string();
        vec![
            ("HOME", self.root.clone().into_os_string()),
            ("XDG_CONFIG_HOME", dir("config")),
            ("XDG_DATA_HOME", dir("share")),
            ("XDG_RUNTIME_DIR", dir("run")),
            ("PGHOST", self.sockets.clone().into_os_string()),
            ("PGUSER", SUPERUSER.into()),
        ]
    }

    /// SIGKILL to `pg_autoctl` and its PostgreSQL's postmaster at once, as when a machine
    /// dies; the server's other processes follow when they notice the postmaster is gone.
    /// Returns once nothing accepts connections on the node's port.
    pub(crate) fn kill(&mut self) -> Result<(), Error> {
        self.tell("kill")?;
        self.killed = true;
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            if Instant::now() > deadline {
                return Err(Error::Formation(format!("{} did not die", self.name)));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Runs the keeper again on its data after [`Keeper::kill`] (`pg_autoctl run`): it asks
    /// the monitor what it is now, and a demoted primary rejoins as a standby.
    pub(crate) fn start(&mut self) -> Result<(), Error> {
        self.tell("start")?;
        self.killed = false;
        Ok(())
    }

    fn tell(&mut self, command: &str) -> Result<(), Error> {
        let lifeline = self
            .lifeline
            .as_mut()
            .ok_or_else(|| Error::Formation(format!("{} has been stopped", self.name)))?;
        writeln!(lifeline, "{command}").map_err(io_error(format!("could not ask for {command}")))
    }

    /// Whether the watchdog, and so the keeper or a restart of it, is still there.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.watchdog.try_wait(), Ok(None))
    }

    /// The last `lines` lines `pg_autoctl` logged.
    pub(crate) fn log_tail(&self, lines: usize) -> String {
        let log = fs::read_to_string(self.root.join("keeper.log")).unwrap_or_default();
        last_lines(&log, lines)
    }

    /// Closes the lifeline: the watchdog stops the keeper and removes its directory.
    pub(crate) fn let_go(&mut self) {
        drop(self.lifeline.take());
    }

    /// Waits for the watchdog to finish after [`Keeper::let_go`]; kills what is left if it
    /// does not.
    pub(crate) fn wait_gone(&mut self, deadline: Instant) {
        while self.is_running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if self.is_running() {
            let session = fs::read_to_string(self.root.join("session")).unwrap_or_default();
            for group in [
                session.trim().parse::<i32>().ok(),
                Some(self.watchdog.id() as i32),
            ]
            .into_iter()
            .flatten()
            {
                let group = nix::unistd::Pid::from_raw(-group);
                let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
            }
            let _ = self.watchdog.wait();
        }
        let _ = fs::remove_dir_all(&self.root);
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.let_go();
        self.wait_gone(Instant::now() + SHUTDOWN_TIMEOUT);
    }
}

/// The directories `pg_autoctl` keeps its configuration, state and pid files in (and the
/// sockets), the owner's.
fn make_dirs(root: &Path, names: &[&str], owner: Owner) -> Result<(), Error> {
    for name in names {
        let dir = root.join(name);
        fs::create_dir(&dir).map_err(io_error(format!("could not create {}", dir.display())))?;
        if owner.switch {
            nix::unistd::chown(&dir, Some(owner.uid), Some(owner.gid))
                .map_err(|errno| io_error("could not hand the directory over")(errno.into()))?;
        }
    }
    Ok(())
}
