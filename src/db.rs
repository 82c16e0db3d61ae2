//! Where the data lives: a deadpool pool over `DATABASE_URL`, or over a throwaway local server.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use throwaway_pg::LocalServer;
use tokio_postgres::config::Host;

use crate::echo;
use crate::error::{Error, Result};

/// Applied when the URL sets no `connect_timeout` of its own.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a caller waits for a free pooled connection.
pub const DEFAULT_POOL_WAIT: Duration = Duration::from_secs(30);
pub const DEFAULT_POOL_SIZE: usize = 16;

/// How the pool connects, how large it grows and how long callers wait for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub size: usize,
    /// How long opening a connection may take; a `connect_timeout` in the URL wins.
    pub connect_timeout: Duration,
    /// How long a caller waits for a free connection when all `size` are in use.
    pub wait_timeout: Duration,
    /// The server cancels any statement running longer (`statement_timeout`); `None` leaves
    /// the server's own setting (by default no limit).
    pub statement_timeout: Option<Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            size: DEFAULT_POOL_SIZE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            wait_timeout: DEFAULT_POOL_WAIT,
            statement_timeout: None,
        }
    }
}

/// A connection pool, plus the server it talks to when bottles started one itself.
pub struct Database {
    pool: Pool,
    target: String,
    /// Declared after `pool` so the pool's connections close before the server stops.
    local_server: Option<LocalServer>,
}

/// Shows only the password-free target, never the connection settings.
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("target", &self.target)
            .field("local_server", &self.local_server.is_some())
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Connects to `url`, or with `None` starts a throwaway local PostgreSQL (removed on drop).
    /// Checks out one connection so a bad URL or an unreachable server fails here, clearly.
    pub async fn open(url: Option<&str>) -> Result<Self> {
        Self::open_with(url, PoolOptions::default()).await
    }

    /// [`Database::open`] with pool settings of your own.
    pub async fn open_with(url: Option<&str>, options: PoolOptions) -> Result<Self> {
        let (config, local_server) = match url {
            Some(url) => (parse_url(url)?, None),
            None => {
                let server = tokio::task::spawn_blocking(LocalServer::start)
                    .await
                    .map_err(|join| {
                        Error::LocalServer(throwaway_pg::Error::Startup(join.to_string()))
                    })??;
                (parse_url(&server.url())?, Some(server))
            }
        };
        let database = Self::from_config(config, local_server, options)?;
        drop(database.client().await?);
        Ok(database)
    }

    fn from_config(
        mut config: tokio_postgres::Config,
        local_server: Option<LocalServer>,
        options: PoolOptions,
    ) -> Result<Self> {
        // The URL's own `connect_timeout` wins. tokio-postgres times only the TCP connect with
        // it; the pool's create timeout also covers a server that accepts and never answers.
        let connect_timeout = *config
            .get_connect_timeout()
            .unwrap_or(&options.connect_timeout);
        config.connect_timeout(connect_timeout);
        if let Some(limit) = options.statement_timeout {
            let setting = format!("-c statement_timeout={}", limit.as_millis());
            let options = match config.get_options() {
                Some(existing) => format!("{existing} {setting}"),
                None => setting,
            };
            config.options(&options);
        }
        let target = describe_target(&config);
        // Fast recycling: a broken connection surfaces as an error on use and is then discarded.
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = Manager::from_config(config, crate::tls::connector(), manager_config);
        let pool = Pool::builder(manager)
            .max_size(options.size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.wait_timeout))
            .create_timeout(Some(connect_timeout))
            .build()
            .map_err(|err| Error::Connect {
                target: target.clone(),
                reason: err.to_string(),
            })?;
        Ok(Self {
            pool,
            target,
            local_server,
        })
    }

    /// A pooled connection; derefs to `tokio_postgres::Client`.
    pub async fn client(&self) -> Result<deadpool_postgres::Client> {
        self.pool.get().await.map_err(Error::pool(&self.target))
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Where we are connected, safe to print: `postgres://user@host:port/dbname`, no password.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The throwaway server, when bottles started one because no URL was given.
    pub fn local_server(&self) -> Option<&LocalServer> {
        self.local_server.as_ref()
    }
}

/// `url` pointed at database `name`, keeping user, password, host and options; works for
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

/// Parses a `postgres://` URL or a `key=value` connection string.
pub fn parse_url(url: &str) -> Result<tokio_postgres::Config> {
    if url.trim().is_empty() {
        return Err(Error::InvalidUrl("it is empty".into()));
    }
    // tokio-postgres' messages name the bad part, never echo the string itself.
    tokio_postgres::Config::from_str(url)
        .map_err(|err| Error::InvalidUrl(crate::error::describe(&err)))
}

/// `postgres://user@host:port/dbname`, built from the parsed config so no password can appear.
pub fn describe_target(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("(default user)");
    let dbname = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{host}:{port}/{dbname}")
}

/// Runs `work` in one transaction: committed if it returns `Ok`, rolled back otherwise (and by
/// the server if the connection dies first), so callers never leave half their writes behind.
pub(crate) async fn in_transaction<T>(
    client: &mut deadpool_postgres::Client,
    step: &'static str,
    work: impl AsyncFnOnce(&deadpool_postgres::Transaction<'_>) -> Result<T>,
) -> Result<T> {
    echo::statement("BEGIN");
    let transaction = client.transaction().await.map_err(Error::statement(step))?;
    match work(&transaction).await {
        Ok(value) => {
            echo::timed("COMMIT", &[], transaction.commit())
                .await
                .map_err(Error::statement(step))?;
            Ok(value)
        }
        Err(err) => {
            // Dropping the transaction would roll back too; doing it here makes it visible in echo.
            let _ = echo::timed("ROLLBACK", &[], transaction.rollback()).await;
            Err(err)
        }
    }
}
