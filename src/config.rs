//! Where and how to connect, built in one place from a connection string.

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;

use crate::error::{Error, Result};

/// Connection settings: a `postgres://` URL or a libpq `key=value` string, parsed.
#[derive(Clone)]
pub struct ConnectOptions {
    pub(crate) pg: tokio_postgres::Config,
}

/// Shows only what [`ConnectOptions::target`] shows: never a password.
impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("target", &self.target())
            .finish_non_exhaustive()
    }
}

impl FromStr for ConnectOptions {
    type Err = Error;

    /// Parses a `postgres://user:password@host:port/dbname?option=value` URL or a
    /// `host=… user=… dbname=…` string. An error names the bad part, never repeats the text.
    fn from_str(url: &str) -> Result<Self> {
        if url.trim().is_empty() {
            return Err(Error::InvalidConfig("it is empty".into()));
        }
        let pg = tokio_postgres::Config::from_str(url)
            .map_err(|err| Error::InvalidConfig(crate::error::one_line(&err)))?;
        Ok(Self { pg })
    }
}

impl ConnectOptions {
    /// Where these settings connect, safe to print: `postgres://user@host:port/dbname`, built
    /// from the parsed settings so no password can appear.
    pub fn target(&self) -> String {
        let host = match self.pg.get_hosts().first() {
            Some(Host::Tcp(name)) => name.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => match self.pg.get_hostaddrs().first() {
                Some(address) => address.to_string(),
                None => "localhost".into(),
            },
        };
        let port = self.pg.get_ports().first().copied().unwrap_or(5432);
        let user = self.pg.get_user().unwrap_or("(default user)");
        let dbname = self.pg.get_dbname().unwrap_or(user);
        format!("postgres://{user}@{host}:{port}/{dbname}")
    }

    /// The same server and credentials, another database (a test's own, say).
    pub fn with_dbname(mut self, dbname: &str) -> Self {
        self.pg.dbname(dbname);
        self
    }

    /// How long one attempt to connect may take: the URL's `connect_timeout` when it has one.
    pub(crate) fn connect_timeout(&self, default: Duration) -> Duration {
        self.pg.get_connect_timeout().copied().unwrap_or(default)
    }

    /// Has the server cancel any statement that runs longer than `limit`.
    pub(crate) fn set_statement_timeout(&mut self, limit: Duration) {
        let setting = format!("-c statement_timeout={}", limit.as_millis());
        let options = match self.pg.get_options() {
            Some(existing) => format!("{existing} {setting}"),
            None => setting,
        };
        self.pg.options(&options);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_never_shows_the_password() {
        let url = "postgres://bob:hunter2@db.example:6543/app?sslmode=require";
        let options: ConnectOptions = url.parse().unwrap();
        assert_eq!(options.target(), "postgres://bob@db.example:6543/app");
        assert!(!format!("{options:?}").contains("hunter2"));
        let other = options.with_dbname("scratch");
        assert_eq!(other.target(), "postgres://bob@db.example:6543/scratch");
        let keywords: ConnectOptions = "host=/run/pg user=amy password=x".parse().unwrap();
        assert_eq!(keywords.target(), "postgres://amy@/run/pg:5432/amy");
    }

    #[test]
    fn a_bad_string_is_named_without_being_repeated() {
        for bad in [
            "postgres://bob:hunter2@h:port/db",
            "not a url hunter2",
            "  ",
        ] {
            let err = bad.parse::<ConnectOptions>().unwrap_err().to_string();
            assert!(
                err.starts_with("invalid DATABASE_URL: ") && !err.contains("hunter2"),
                "{err}"
            );
        }
    }
}
