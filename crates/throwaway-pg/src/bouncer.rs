//! [`LocalBouncer`]: a real PgBouncer in front of a throwaway server, for testing what a
//! connection pooler does to clients (transaction pooling above all).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin};
use std::time::{Duration, Instant};

use crate::{
    Error, LocalServer, Owner, SHUTDOWN_TIMEOUT, SUPERUSER, free_port, io_error, temp_root,
    watchdog,
};

/// A running `pgbouncer` in front of a [`LocalServer`], stopped and removed when dropped.
#[derive(Debug)]
pub struct LocalBouncer {
    root: PathBuf,
    port: u16,
    watchdog: Child,
    lifeline: Option<ChildStdin>,
}

impl LocalBouncer {
    /// PgBouncer (found on `PATH` or in `/usr/sbin`) in `pool_mode` (`transaction`,
    /// `session`), at most `pool_size` server connections per database and user, trusting the
    /// superuser as the server does.
    pub fn start(server: &LocalServer, pool_mode: &str, pool_size: u32) -> Result<Self, Error> {
        let program = ["pgbouncer", "/usr/sbin/pgbouncer"]
            .iter()
            .map(PathBuf::from)
            .find(|path| which(path))
            .ok_or_else(|| {
                Error::Startup("pgbouncer is not installed (apt-get install pgbouncer)".into())
            })?;
        let owner = Owner::pick()?;
        let root = temp_root("throwaway-pgbouncer-", owner)?;
        let port = free_port()?;
        let config = format!(
            "[databases]\n* = host=127.0.0.1 port={server_port}\n\
             [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
             auth_type = trust\nauth_file = {root}/userlist.txt\n\
             pool_mode = {pool_mode}\ndefault_pool_size = {pool_size}\nmax_client_conn = 1000\n\
             server_login_retry = 1\n",
            server_port = server.port(),
            root = root.display(),
        );
        let written = write_owned(&root.join("pgbouncer.ini"), &config, owner).and_then(|()| {
            write_owned(
                &root.join("userlist.txt"),
                &format!("\"{SUPERUSER}\" \"\"\n"),
                owner,
            )
        });
        let spawned = written.and_then(|()| {
            let args = [root.join("pgbouncer.ini").display().to_string()];
            // SIGTERM: immediate shutdown (SIGINT would wait for every client to leave).
            watchdog::spawn(owner, &root, "pgbouncer.log", "TERM", &program, &args)
        });
        let (watchdog, lifeline) = spawned.inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&root);
        })?;
        let bouncer = Self {
            root,
            port,
            watchdog,
            lifeline: Some(lifeline),
        };
        bouncer.wait_until_listening()?;
        Ok(bouncer)
    }

    fn wait_until_listening(&self) -> Result<(), Error> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(self.root.join("pgbouncer.log")).unwrap_or_default();
                return Err(Error::Startup(format!(
                    "pgbouncer did not start: {}",
                    crate::last_lines(&log, 3)
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// A connection URL for `database` through PgBouncer, as the superuser.
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// The port PgBouncer listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for LocalBouncer {
    fn drop(&mut self) {
        drop(self.lifeline.take());
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        while matches!(self.watchdog.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn which(program: &Path) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

fn write_owned(path: &Path, contents: &str, owner: Owner) -> Result<(), Error> {
    let context = format!("could not write {}", path.display());
    std::fs::write(path, contents).map_err(io_error(context.clone()))?;
    if owner.switch {
        nix::unistd::chown(path, Some(owner.uid), Some(owner.gid))
            .map_err(|errno| io_error(context)(errno.into()))?;
    }
    Ok(())
}
