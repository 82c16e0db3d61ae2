//! [`ScratchDatabase`]: a database of one test's (or one benchmark's) own, on a shared server,
//! gone when it is dropped. The one harness every test binary and the benches use.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Error, env_or_shared_server, psql, with_database};

/// A freshly created, empty database; dropped (`WITH (FORCE)`) when this is.
#[derive(Debug)]
pub struct ScratchDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl ScratchDatabase {
    /// A new database named `{prefix}_…` (unique in this process and across processes) on the
    /// server at `admin_url`.
    pub fn create(admin_url: &str, prefix: &str) -> Result<Self, Error> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos());
        let count = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}_{}_{count}_{nanos:08x}", std::process::id());
        psql(admin_url, &format!(r#"CREATE DATABASE "{name}""#))?;
        Ok(Self {
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_string(),
            name,
        })
    }

    /// [`ScratchDatabase::create`] on the server at `DATABASE_URL`, or on the one throwaway
    /// server of this process ([`env_or_shared_server`]). Panics when it cannot: a harness
    /// cannot go on without its database.
    pub fn on_shared_server(prefix: &str) -> Self {
        let admin_url = env_or_shared_server("DATABASE_URL");
        Self::create(admin_url, prefix).expect("create a scratch database")
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL of the database, with the server's user and options.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's URL this database was created through.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let sql = format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name);
        if let Err(err) = psql(&self.admin_url, &sql) {
            eprintln!(
                "warning: could not drop scratch database {}: {err}",
                self.name
            );
        }
    }
}
