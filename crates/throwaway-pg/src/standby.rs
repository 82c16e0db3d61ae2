//! A streaming replica of a throwaway server: `pg_basebackup -R` from the primary, started as
//! a hot standby on a port of its own; and promotion, for failover.

use std::time::{Duration, Instant};

use crate::options::Options;
use crate::{Error, LocalServer, SUPERUSER, run};

impl LocalServer {
    /// A hot standby of `primary`, streaming from it (`pg_basebackup -R -X stream` as the
    /// superuser over trust, which initdb allows for replication on loopback). Like any
    /// [`LocalServer`] it is removed on drop.
    pub fn standby_of(primary: &LocalServer) -> Result<Self, Error> {
        Self::standby_of_with(primary, &Options::default())
    }

    /// A new server and a hot standby of it: `(primary, standby)`.
    pub fn primary_and_standby() -> Result<(Self, Self), Error> {
        let primary = Self::start()?;
        let standby = Self::standby_of(&primary)?;
        Ok((primary, standby))
    }

    /// [`LocalServer::standby_of`] with settings of its own.
    pub fn standby_of_with(primary: &LocalServer, options: &Options) -> Result<Self, Error> {
        let port = primary.port().to_string();
        Self::create(options, |bin_dir, owner, data| {
            let mut backup = owner.command(bin_dir.path().join("pg_basebackup"));
            backup
                .args(["-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER])
                .arg("-D")
                .arg(data)
                .args(["-R", "-X", "stream", "--no-sync", "-c", "fast"]);
            run(&mut backup, "pg_basebackup", 3, |tail| {
                Error::Startup(format!("pg_basebackup failed: {tail}"))
            })?;
            // The copy's postmaster.pid is the primary's, and it must not be taken for ours.
            let _ = std::fs::remove_file(data.join("postmaster.pid"));
            Ok(())
        })
    }

    /// Ends recovery (`pg_ctl promote`): the standby takes writes from now on. Returns once it
    /// does.
    pub fn promote(&self) -> Result<(), Error> {
        let mut promote = self.owner().command(self.bin_dir().path().join("pg_ctl"));
        promote.args(["promote", "-w", "-D"]).arg(self.data_dir());
        run(&mut promote, "pg_ctl", 3, |tail| {
            Error::Startup(format!("pg_ctl promote failed: {tail}"))
        })?;
        // `-w` waited for the end of recovery, which removes standby.signal.
        if self.data_dir().join("standby.signal").exists() {
            return Err(Error::Startup("the standby did not leave recovery".into()));
        }
        Ok(())
    }

    /// Returns once this standby has replayed everything `primary` has written so far.
    pub fn wait_for_replay_of(
        &self,
        primary: &LocalServer,
        timeout: Duration,
    ) -> Result<(), Error> {
        let written = primary.sql("SELECT pg_current_wal_insert_lsn()")?;
        let caught_up = format!("SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn");
        let deadline = Instant::now() + timeout;
        while self.sql(&caught_up)? != "t" {
            if Instant::now() > deadline {
                return Err(Error::Replication(format!(
                    "it did not replay up to {written} in {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// Stops applying the primary's changes (`pg_wal_replay_pause()`): reads here show the data
    /// as it is now until [`LocalServer::resume_replay`]. Streaming goes on.
    pub fn pause_replay(&self) -> Result<(), Error> {
        self.sql("SELECT pg_wal_replay_pause()").map(drop)
    }

    /// Applies the primary's changes again (`pg_wal_replay_resume()`).
    pub fn resume_replay(&self) -> Result<(), Error> {
        self.sql("SELECT pg_wal_replay_resume()").map(drop)
    }

    /// A URL naming every one of `servers` that asks for the one taking writes
    /// (`target_session_attrs=read-write`): what a client uses to follow a failover.
    pub fn read_write_url(servers: &[&LocalServer]) -> String {
        let hosts: Vec<String> = servers
            .iter()
            .map(|server| format!("127.0.0.1:{}", server.port()))
            .collect();
        format!(
            "postgres://{SUPERUSER}@{}/postgres?target_session_attrs=read-write",
            hosts.join(",")
        )
    }
}
