//! Where and how to connect, built in one place, as libpq would: a URL or `key=value` string,
//! completed by a service file, the `PG*` environment and libpq's defaults; TLS as `sslmode`
//! says; the password from the string, `PGPASSWORD` or the password file.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::config::Host;

use super::config_error::ConfigError;
use super::conninfo::{self, NAMES_A_SERVER, Origin, Params};
use super::passfile::{self, PassFile};
use super::sslmode::SslMode;
use super::tls::TlsSettings;
use crate::error::{Error, Result};

/// Connection settings: a `postgres://` URL or a libpq `key=value` string, with what it leaves
/// out taken from the `PG*` environment like `psql` would.
#[derive(Clone)]
pub struct ConnectOptions {
    pub(crate) pg: tokio_postgres::Config,
    pub(crate) tls: TlsSettings,
    /// The password file, when no password was given.
    passwords: Option<Arc<PassFile>>,
    /// `statement_cache_size`: `Some(false)` for 0 (run statements unprepared, as a
    /// transaction pooler needs), `Some(true)` to keep them prepared whatever bottles detects.
    pub(crate) statement_cache: Option<bool>,
    /// `options` given in the string or `PGOPTIONS` (a pooler refuses them).
    pub(crate) has_options: bool,
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

    /// [`ConnectOptions::from_url`].
    fn from_str(url: &str) -> Result<Self> {
        Self::from_url(url)
    }
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

impl ConnectOptions {
    /// Parses a `postgres://user:password@host:port/dbname?option=value` URL or a
    /// `host=… user=… dbname=…` string, and fills what it leaves out from a service file, the
    /// `PG*` variables and libpq's defaults. An error names the bad part, never repeats the text.
    pub fn from_url(url: &str) -> Result<Self> {
        let invalid = |reason: ConfigError| Error::InvalidConfig {
            what: "DATABASE_URL",
            reason,
        };
        if url.trim().is_empty() {
            return Err(invalid(ConfigError::syntax("it is empty")));
        }
        let params = conninfo::parse(url).map_err(invalid)?;
        Self::build(params, &process_env, "DATABASE_URL")
    }

    /// The settings of the `PG*` environment alone, when it names a server (`PGHOST`,
    /// `PGHOSTADDR`, `PGDATABASE` or `PGSERVICE` is set); `None` when it does not.
    pub fn from_env() -> Result<Option<Self>> {
        if NAMES_A_SERVER
            .iter()
            .all(|name| process_env(name).is_none())
        {
            return Ok(None);
        }
        Self::build(Params::default(), &process_env, "PG* settings").map(Some)
    }

    fn build(
        mut params: Params,
        env: &dyn Fn(&str) -> Option<String>,
        what: &'static str,
    ) -> Result<Self> {
        let invalid = |reason: ConfigError| Error::InvalidConfig { what, reason };
        conninfo::add_defaults(&mut params, env).map_err(invalid)?;
        let home = env("HOME").map(PathBuf::from);
        let mode = match params.take("sslmode") {
            Some(mode) => mode.parse::<SslMode>().map_err(invalid)?,
            None => SslMode::default(),
        };
        let (rootcert, cert, key) = (
            params.take("sslrootcert"),
            params.take("sslcert"),
            params.take("sslkey"),
        );
        let tls = TlsSettings::new(
            mode,
            rootcert.as_deref(),
            cert.as_deref(),
            key.as_deref(),
            home.as_deref(),
        )
        .map_err(invalid)?;
        let passfile = params.take("passfile");
        let statement_cache = match params.take("statement_cache_size") {
            None => None,
            Some(size) => match size.trim().parse::<u64>() {
                Ok(size) => Some(size > 0),
                Err(_) => {
                    return Err(invalid(ConfigError::setting(format!(
                        "invalid statement_cache_size {size:?}: use 0 to run statements unprepared"
                    ))));
                }
            },
        };
        let has_options = params.get("options").is_some();
        let (password_given, keywords) = (params.get("password").is_some(), params.to_keywords());
        let mut pg = tokio_postgres::Config::from_str(&keywords).map_err(|err| {
            let reason = ConfigError::setting(crate::error::message(&err));
            invalid(name_the_origin(reason, &params))
        })?;
        pg.ssl_mode(mode.on_the_wire());
        let passwords = match password_given {
            true => None,
            false => passfile::location(passfile.as_deref(), home)
                .and_then(|path| PassFile::read(&path))
                .map(Arc::new),
        };
        Ok(Self {
            pg,
            tls,
            passwords,
            statement_cache,
            has_options,
        })
    }

    /// Whether the URL or `key=value` string `url` holds a password.
    pub fn has_password(url: &str) -> bool {
        conninfo::parse(url).is_ok_and(|params| params.get("password").is_some())
    }

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

    /// The password file's password for one host of these settings (`host` as written, or
    /// `None` for a Unix socket in `socket_dir`), when no password was given.
    pub(crate) fn file_password(&self, host: &str, port: u16) -> Option<&str> {
        let passwords = self.passwords.as_ref()?;
        // As libpq: the default socket directory is matched as "localhost".
        let host = if host == conninfo::default_socket_dir() {
            "localhost"
        } else {
            host
        };
        let user = self.pg.get_user().unwrap_or_default();
        let database = self.pg.get_dbname().unwrap_or(user);
        passwords.lookup(host, port, database, user)
    }
}

/// tokio-postgres names a bad option as "`port`"; say where its value came from when that was
/// not the string itself.
fn name_the_origin(reason: ConfigError, params: &Params) -> ConfigError {
    let text = reason.to_string();
    let key = text.split('`').nth(1).unwrap_or_default();
    match params.origin(key) {
        Some(Origin::Environment(variable)) => reason.with_note(&format!("(from {variable})")),
        Some(Origin::Service) => reason.with_note("(from the service file)"),
        _ => reason,
    }
}

#[cfg(test)]
mod tests;
