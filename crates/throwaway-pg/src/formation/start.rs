//! Starting a [`Formation`]: the monitor, then the first node (the primary), then the second,
//! which `pg_autoctl` copies from the first; and the settings they run with.

use std::ffi::{OsStr, OsString};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::Formation;
use super::keeper::{Keeper, Plan};
use crate::server::initdb;
use crate::{BinDir, Error, Owner, SUPERUSER, find_bin_dir, free_port, io_error};

/// How long the whole formation may take to come up (about 15 s on an idle machine).
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// The monitor's failure detection, shortened for tests (defaults in brackets): a node is
/// unhealthy once its keeper has not reported for 2 s [20 s] and a health check failed, checked
/// every second [5 s], with a 1 s connect timeout [5 s] and one retry [2] after 0.5 s [2 s];
/// the standby is promoted 3 s [30 s] after the old primary was told to demote itself, unless
/// it says it did sooner. Failover is refused in the first 3 s after the monitor starts [10 s].
pub const MONITOR_SETTINGS: &[(&str, &str)] = &[
    ("pgautofailover.health_check_period", "1000"),
    ("pgautofailover.health_check_timeout", "1000"),
    ("pgautofailover.health_check_max_retries", "1"),
    ("pgautofailover.health_check_retry_delay", "500"),
    ("pgautofailover.node_considered_unhealthy_timeout", "2000"),
    ("pgautofailover.primary_demote_timeout", "3000"),
    ("pgautofailover.startup_grace_period", "3000"),
];

/// Seconds a primary's keeper waits, cut off from the monitor and from every standby, before
/// it stops its PostgreSQL for fear of a split brain [20]: shorter than the monitor's
/// `primary_demote_timeout`, as the defaults are.
pub const NETWORK_PARTITION_TIMEOUT: &str = "2";

/// Server settings of every node and the monitor (`postgresql.auto.conf`, which wins over the
/// `pg_autoctl` tuning that would take a quarter of the machine's memory each). `fsync` is off
/// as for every throwaway server: a killed process loses nothing the kernel has. Synchronous
/// replication and `synchronous_commit = on` stay as `pg_autoctl` sets them.
const SERVER_SETTINGS: &[(&str, &str)] = &[
    ("shared_buffers", "'32MB'"),
    ("max_connections", "200"),
    ("fsync", "off"),
];

impl Formation {
    /// Starts a monitor, then a primary, then a secondary that `pg_autoctl` builds from it
    /// (`pg_basebackup`), and waits until the monitor reports them `primary` and `secondary`.
    /// Takes about 15 s; blocks the calling thread.
    pub fn start() -> Result<Self, Error> {
        let bin_dir = find_bin_dir().ok_or(Error::NoBinaries)?;
        let pg_autoctl = find_pg_autoctl(&bin_dir)?;
        let owner = Owner::pick()?;
        let deadline = Instant::now() + START_TIMEOUT;
        let ports = distinct_ports(3)?;
        let pg_ctl = bin_dir.path().join("pg_ctl");
        let port_text = |port: u16| OsString::from(port.to_string());

        let monitor_port = port_text(ports[0]);
        let monitor = Keeper::spawn(
            &Plan {
                owner,
                pg_autoctl: &pg_autoctl,
                name: "monitor",
                port: ports[0],
                // The monitor has no --listen: it would listen on every address.
                setting: ("postgresql.listen_addresses", "127.0.0.1"),
                sockets: None,
            },
            |data, sockets| {
                initdb(&bin_dir, owner, data)?;
                let settings = SERVER_SETTINGS.iter().chain(MONITOR_SETTINGS);
                append_settings(data, sockets, settings)
            },
            &[
                "monitor".as_ref(),
                "--pgport".as_ref(),
                &monitor_port,
                "--pgctl".as_ref(),
                pg_ctl.as_os_str(),
                "--auth".as_ref(),
                "trust".as_ref(),
                "--no-ssl".as_ref(),
                "--hostname".as_ref(),
                "127.0.0.1".as_ref(),
            ],
        )?;
        let mut formation = Self {
            pg_autoctl: pg_autoctl.clone(),
            owner,
            monitor,
            nodes: Vec::new(),
            url: String::new(),
        };
        formation.wait_for("the monitor to answer", deadline, |_| true)?;

        let monitor_url = formation.monitor_url();
        let sockets = formation.monitor.sockets().to_path_buf();
        for (index, port) in ports[1..].iter().copied().enumerate() {
            let name = format!("node{}", index + 1);
            let node_port = port_text(port);
            let keeper = Keeper::spawn(
                &Plan {
                    owner,
                    pg_autoctl: &pg_autoctl,
                    name: &name,
                    port,
                    setting: (
                        "timeout.network_partition_timeout",
                        NETWORK_PARTITION_TIMEOUT,
                    ),
                    sockets: Some(&sockets),
                },
                |data, sockets| {
                    // The first node is made here, so it gets the settings; the second is
                    // copied from it by pg_basebackup, settings included.
                    if index > 0 {
                        return Ok(());
                    }
                    initdb(&bin_dir, owner, data)?;
                    append_settings(data, sockets, SERVER_SETTINGS.iter())
                },
                &[
                    "postgres".as_ref(),
                    "--pgport".as_ref(),
                    &node_port,
                    "--pgctl".as_ref(),
                    pg_ctl.as_os_str(),
                    "--listen".as_ref(),
                    "127.0.0.1".as_ref(),
                    "--hostname".as_ref(),
                    "127.0.0.1".as_ref(),
                    "--name".as_ref(),
                    name.as_ref(),
                    "--username".as_ref(),
                    SUPERUSER.as_ref(),
                    "--dbname".as_ref(),
                    "postgres".as_ref(),
                    "--monitor".as_ref(),
                    monitor_url.as_ref(),
                    "--auth".as_ref(),
                    "trust".as_ref(),
                    "--no-ssl".as_ref(),
                ],
            )?;
            formation.nodes.push(keeper);
            // One at a time: the monitor takes the first node to register as the primary.
            let wanted = if index == 0 { "single" } else { "secondary" };
            formation.wait_for(&format!("{name} to be {wanted}"), deadline, |nodes| {
                nodes
                    .iter()
                    .any(|node| node.name == name && node.is(wanted))
            })?;
        }
        formation.wait_until_stable(deadline.saturating_duration_since(Instant::now()))?;
        formation.url = formation.show_uri()?;
        Ok(formation)
    }
}

/// `pg_autoctl`: on `PATH` (Debian installs it in `/usr/bin`) or next to the server binaries.
fn find_pg_autoctl(bin_dir: &BinDir) -> Result<PathBuf, Error> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let found = on_path
        .into_iter()
        .chain([bin_dir.path().to_path_buf(), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("pg_autoctl"))
        .find(|path| path.is_file());
    found.ok_or_else(|| {
        let version = bin_dir
            .path()
            .parent()
            .and_then(Path::file_name)
            .and_then(OsStr::to_str)
            .filter(|name| name.parse::<u32>().is_ok())
            .unwrap_or("NN");
        Error::Formation(format!(
            "pg_autoctl is not installed (apt-get install postgresql-{version}-auto-failover)"
        ))
    })
}

/// `count` free loopback ports, all different.
fn distinct_ports(count: usize) -> Result<Vec<u16>, Error> {
    let mut ports: Vec<u16> = Vec::with_capacity(count);
    while ports.len() < count {
        let port = free_port()?;
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    Ok(ports)
}

/// Appends `settings` to `postgresql.auto.conf`, which PostgreSQL reads last, with the
/// directory for the Unix socket: the formation's own, not the system's (which only root and
/// the `postgres` group may write to).
fn append_settings<'a>(
    data: &Path,
    sockets: &Path,
    settings: impl Iterator<Item = &'a (&'a str, &'a str)>,
) -> Result<(), Error> {
    let path = data.join("postgresql.auto.conf");
    let context = format!("could not write {}", path.display());
    let mut text: String = settings
        .map(|(name, value)| format!("{name} = {value}\n"))
        .collect();
    text.push_str(&format!(
        "unix_socket_directories = '{}'\n",
        sockets.display()
    ));
    let mut file = OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io_error(context.clone()))?;
    file.write_all(text.as_bytes()).map_err(io_error(context))
}
