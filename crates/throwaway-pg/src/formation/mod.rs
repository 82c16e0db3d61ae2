//! [`Formation`]: a real pg_auto_failover formation (a monitor, a primary and a secondary in
//! synchronous replication) on loopback, for testing what a client goes through when an HA
//! manager fails over, by plan or by fault.
//!
//! Each of the three is a `pg_autoctl` process in a session of its own under the session
//! watchdog, run as the server's owner with its own `XDG_*` directories: gone with its files
//! after a drop, a panic, Ctrl-C or `SIGKILL` of this process.
//!
//! The monitor's and the keepers' timeouts are shortened so that a killed primary is replaced
//! in seconds, not in the ~50 s of the defaults; their order is kept, so the old primary's own
//! keeper still fences it (after losing the monitor and the standby for
//! `network_partition_timeout`) before the monitor lets the standby take writes
//! (`primary_demote_timeout`). See [`MONITOR_SETTINGS`] and [`NETWORK_PARTITION_TIMEOUT`].

mod acknowledged;
mod keeper;
mod start;
mod state;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use acknowledged::{Ack, Acknowledged, median_and_worst};
use keeper::Keeper;
pub use start::{MONITOR_SETTINGS, NETWORK_PARTITION_TIMEOUT};
pub use state::NodeState;

use crate::{Error, Owner, SUPERUSER, psql, run, without_pg_environment};

/// The formation's name in the monitor.
const FORMATION: &str = "default";

/// How a test fails the primary over ([`Formation::fail_over`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failover {
    /// `pg_autoctl perform failover`.
    Planned,
    /// The primary's `pg_autoctl` and postmaster killed with SIGKILL.
    Killed,
}

/// A running pg_auto_failover formation: a monitor, a primary and a secondary. Dropping it
/// stops every process and deletes every file.
#[derive(Debug)]
pub struct Formation {
    pg_autoctl: PathBuf,
    owner: Owner,
    monitor: Keeper,
    nodes: Vec<Keeper>,
    url: String,
}

impl Formation {
    /// The URL that follows the primary: `pg_autoctl show uri --formation default` (every node,
    /// `target_session_attrs=read-write`), as the superuser.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// [`Formation::url`] for `database`.
    pub fn url_for(&self, database: &str) -> String {
        crate::with_database(&self.url, database)
    }

    /// The monitor's URL, as the keepers reach it.
    pub fn monitor_url(&self) -> String {
        format!(
            "postgres://autoctl_node@127.0.0.1:{}/pg_auto_failover?sslmode=disable",
            self.monitor.port()
        )
    }

    /// How many PostgreSQL nodes there are (the monitor aside): 2.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// A URL of node `index` alone, whatever it is now, as the superuser.
    pub fn node_url(&self, index: usize) -> String {
        format!(
            "postgres://{SUPERUSER}@127.0.0.1:{}/postgres",
            self.nodes[index].port()
        )
    }

    /// The port of node `index`.
    pub fn node_port(&self, index: usize) -> u16 {
        self.nodes[index].port()
    }

    /// The temporary directories of the monitor and the nodes.
    pub fn roots(&self) -> Vec<PathBuf> {
        let keepers = std::iter::once(&self.monitor).chain(&self.nodes);
        keepers.map(|keeper| keeper.root().to_path_buf()).collect()
    }

    /// Every node as the monitor sees it, in the order they joined.
    pub fn state(&self) -> Result<Vec<NodeState>, Error> {
        let admin = format!(
            "postgres://{SUPERUSER}@127.0.0.1:{}/pg_auto_failover",
            self.monitor.port()
        );
        let sql = "SELECT nodename, nodeport, reportedstate, goalstate \
                   FROM pgautofailover.node ORDER BY nodeid";
        let text = psql(&admin, sql)?;
        text.lines().map(state::parse).collect()
    }

    /// The node that is the primary now (reported and assigned), if one is.
    pub fn primary(&self) -> Result<Option<usize>, Error> {
        let states = self.state()?;
        let primary = states.iter().find(|node| node.is("primary"));
        Ok(primary.and_then(|node| self.index_of(&node.name)))
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node.name() == name)
    }

    /// Waits until one node is the primary and every other one its secondary.
    pub fn wait_until_stable(&mut self, timeout: Duration) -> Result<(), Error> {
        let count = self.nodes.len();
        self.wait_for(
            "a primary and a secondary",
            Instant::now() + timeout,
            |nodes| {
                nodes.len() == count
                    && nodes.iter().filter(|node| node.is("primary")).count() == 1
                    && nodes.iter().filter(|node| node.is("secondary")).count() == count - 1
            },
        )
    }

    /// A planned failover: `pg_autoctl perform failover`. The primary stops taking writes, the
    /// secondary is promoted, and the old primary rejoins as its secondary; returns when the
    /// monitor reports them so.
    pub fn perform_failover(&mut self) -> Result<(), Error> {
        let mut command = self.pg_autoctl_command(&self.monitor);
        command.args([
            "perform",
            "failover",
            "--formation",
            FORMATION,
            "--group",
            "0",
        ]);
        command.args(["--monitor", &self.monitor_url()]);
        run(&mut command, "pg_autoctl perform failover", 3, |tail| {
            Error::Formation(format!("pg_autoctl perform failover failed: {tail}"))
        })?;
        self.wait_until_stable(Duration::from_secs(60))
    }

    /// A fault: the primary's `pg_autoctl` and postmaster killed at once with SIGKILL, as if
    /// its machine died. Returns the node's index once it no longer accepts connections; the
    /// monitor then promotes the secondary by itself. [`Formation::restore`] brings the node
    /// back.
    pub fn kill_primary(&mut self) -> Result<usize, Error> {
        let primary = self
            .primary()?
            .ok_or_else(|| Error::Formation("no node is the primary now".into()))?;
        self.nodes[primary].kill()?;
        Ok(primary)
    }

    /// The formation in `slot`, for test binaries that share one: started if there is none
    /// yet, else made a primary and a secondary again ([`Formation::restore`]) after whatever
    /// the test before did to it.
    pub fn ready(slot: &mut Option<Formation>, timeout: Duration) -> Result<&mut Self, Error> {
        match slot {
            Some(formation) => formation.restore(timeout)?,
            None => *slot = Some(Self::start()?),
        }
        Ok(slot.as_mut().expect("just filled"))
    }

    /// Fails the primary over: [`Formation::perform_failover`], which returns once the old
    /// primary is back as the secondary, or [`Formation::kill_primary`], which returns at once.
    pub fn fail_over(&mut self, how: Failover) -> Result<(), Error> {
        match how {
            Failover::Planned => self.perform_failover(),
            Failover::Killed => self.kill_primary().map(drop),
        }
    }

    /// Starts every killed node again (a demoted primary rejoins as a secondary, rewound or
    /// copied afresh by `pg_autoctl`) and waits until the formation is a primary and a
    /// secondary again.
    pub fn restore(&mut self, timeout: Duration) -> Result<(), Error> {
        for node in self.nodes.iter_mut().filter(|node| node.killed()) {
            node.start()?;
        }
        self.wait_until_stable(timeout)
    }

    /// Polls the monitor until `ready` holds, failing with the keepers' logs when a keeper
    /// died or time ran out.
    fn wait_for(
        &mut self,
        what: &str,
        deadline: Instant,
        ready: impl Fn(&[NodeState]) -> bool,
    ) -> Result<(), Error> {
        loop {
            let states = self.state();
            if states.as_deref().is_ok_and(&ready) {
                return Ok(());
            }
            let dead = std::iter::once(&mut self.monitor)
                .chain(self.nodes.iter_mut())
                .find_map(|keeper| (!keeper.is_running()).then(|| keeper.name().to_string()));
            if dead.is_some() || Instant::now() > deadline {
                let why = dead.map_or("timed out".into(), |name| format!("{name} exited"));
                let seen = states.map_or_else(|err| err.to_string(), |s| format!("{s:?}"));
                return Err(Error::Formation(format!(
                    "waiting for {what}: {why}; the monitor says {seen}; logs: {}",
                    self.logs()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn logs(&self) -> String {
        let keepers = std::iter::once(&self.monitor).chain(&self.nodes);
        let tails = keepers.map(|keeper| format!("{}: {}", keeper.name(), keeper.log_tail(3)));
        tails.collect::<Vec<_>>().join(" || ")
    }

    /// `pg_autoctl show uri --formation default`, with the superuser added (it names none).
    fn show_uri(&self) -> Result<String, Error> {
        let mut command = self.pg_autoctl_command(&self.monitor);
        command.args(["show", "uri", "--formation", FORMATION]);
        command.args(["--monitor", &self.monitor_url()]);
        let uri = run(&mut command, "pg_autoctl show uri", 3, |tail| {
            Error::Formation(format!("pg_autoctl show uri failed: {tail}"))
        })?;
        let rest = uri.strip_prefix("postgres://").ok_or_else(|| {
            Error::Formation(format!("pg_autoctl show uri printed {uri:?}, not a URL"))
        })?;
        Ok(format!("postgres://{SUPERUSER}@{rest}"))
    }

    /// `pg_autoctl` as the owner, in `keeper`'s environment and none of ours.
    fn pg_autoctl_command(&self, keeper: &Keeper) -> std::process::Command {
        let mut command = self.owner.command(&self.pg_autoctl);
        without_pg_environment(&mut command);
        command.envs(keeper.env()).current_dir(keeper.root());
        command
    }
}

impl Drop for Formation {
    fn drop(&mut self) {
        // All at once: each watchdog stops its own keeper.
        self.monitor.let_go();
        self.nodes.iter_mut().for_each(Keeper::let_go);
        let deadline = Instant::now() + crate::SHUTDOWN_TIMEOUT;
        self.nodes
            .iter_mut()
            .for_each(|node| node.wait_gone(deadline));
        self.monitor.wait_gone(deadline);
    }
}
