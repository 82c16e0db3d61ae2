//! Where the data lives: a pool of connections to `DATABASE_URL`, or to a throwaway local server.

use std::sync::Arc;
use std::time::Duration;

use throwaway_pg::LocalServer;

use crate::client::Client;
use crate::config::ConnectOptions;
use crate::error::{Error, Result};
use crate::mode::Mode;
use crate::pool::{Connector, Pool};
use crate::replicas::Replicas;
use crate::shared::{Shared, SharedClient};

/// How the pool connects, how large it grows and how long callers wait for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub size: usize,
    /// How long one attempt to connect may take, handshake included; a `connect_timeout` in
    /// the URL wins.
    pub connect_timeout: Duration,
    /// How long a caller waits for a free connection when all `size` are in use.
    pub wait_timeout: Duration,
    /// The server cancels any statement running longer (`statement_timeout`); `None` leaves
    /// the server's own setting (by default no limit).
    pub statement_timeout: Option<Duration>,
    /// Connections [`Database::shared_client`] hands out in turn, besides the pool's.
    pub shared: usize,
}

impl PoolOptions {
    /// Applied when the URL sets no `connect_timeout` of its own.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            size: 16,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            wait_timeout: Duration::from_secs(30),
            statement_timeout: None,
            // 32 callers on 2 cores served the most queries over 4 (cargo xtask bench --bench concurrent).
            shared: 4,
        }
    }
}

/// A connection pool, plus the server it talks to when bottles started one itself.
pub struct Database {
    pool: Pool,
    mode: Arc<Mode>,
    shared: Shared,
    target: Arc<str>,
    wait_timeout: Duration,
    pub(crate) replicas: Replicas,
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
    /// Connects to `url`, completed by the `PG*` environment like `psql` would ([`ConnectOptions`]).
    /// With `None`, connects where the `PG*` environment says when it names a server (`PGHOST`,
    /// `PGHOSTADDR`, `PGDATABASE` or `PGSERVICE`), and otherwise starts a throwaway local
    /// PostgreSQL (removed on drop). Checks out one connection so bad settings or an unreachable
    /// server fail here, clearly.
    pub async fn open(url: Option<&str>) -> Result<Self> {
        Self::open_with(url, PoolOptions::default()).await
    }

    /// [`Database::open`] with pool settings of your own.
    pub async fn open_with(url: Option<&str>, options: PoolOptions) -> Result<Self> {
        let settings = match url {
            Some(url) => Some(ConnectOptions::from_url(url)?),
            None => ConnectOptions::from_env()?,
        };
        match settings {
            Some(settings) => Self::connect(settings, options).await,
            None => {
                let server = tokio::task::spawn_blocking(LocalServer::start)
                    .await
                    .map_err(|join| {
                        Error::LocalServer(throwaway_pg::Error::Startup(join.to_string()))
                    })??;
                let settings = ConnectOptions::from_url(&server.url())?;
                let database = Self::build(settings, Some(server), options)?;
                database.check().await
            }
        }
    }

    /// [`Database::open_with`], plus read replicas for [`Database::read`]. A replica's URL is
    /// read like `url` (the `PG*` environment fills in what it leaves out). Replicas are not
    /// reached here: one that is down now is skipped until it answers.
    pub async fn open_with_replicas(
        url: Option<&str>,
        replica_urls: &[impl AsRef<str>],
        options: PoolOptions,
    ) -> Result<Self> {
        let replicas = replica_urls
            .iter()
            .map(|url| {
                let settings = ConnectOptions::from_url(url.as_ref()).map_err(|err| match err {
                    Error::InvalidConfig { reason, .. } => Error::InvalidConfig {
                        what: "replica URL",
                        reason,
                    },
                    other => other,
                })?;
                Self::build(settings, None, options)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut primary = Self::open_with(url, options).await?;
        primary.replicas = Replicas::new(replicas);
        Ok(primary)
    }

    /// Connects with settings you built (see [`ConnectOptions`]).
    pub async fn connect(settings: ConnectOptions, options: PoolOptions) -> Result<Self> {
        Self::build(settings, None, options)?.check().await
    }

    fn build(
        settings: ConnectOptions,
        local_server: Option<LocalServer>,
        options: PoolOptions,
    ) -> Result<Self> {
        let mode = Arc::new(Mode::new(
            settings.statement_cache,
            options.statement_timeout,
        ));
        let target: Arc<str> = settings.target().into();
        let tls = crate::tls::connector(&settings.tls).map_err(|reason| Error::InvalidConfig {
            what: "TLS settings",
            reason,
        })?;
        let connector = Connector {
            options: settings,
            tls,
            timeout: options.connect_timeout,
            mode: mode.clone(),
        };
        let pool = Pool::builder(connector)
            .max_size(options.size)
            .runtime(deadpool::Runtime::Tokio1)
            .wait_timeout(Some(options.wait_timeout))
            .build()
            .map_err(|err| Error::Connect {
                target: target.to_string(),
                reason: err.to_string(),
                source: None,
            })?;
        Ok(Self {
            pool,
            mode,
            shared: Shared::new(options.shared),
            target,
            wait_timeout: options.wait_timeout,
            replicas: Replicas::default(),
            local_server,
        })
    }

    async fn check(self) -> Result<Self> {
        drop(self.client().await?);
        Ok(self)
    }

    /// A pooled connection, ready to run generated queries (see [`Client`]).
    pub async fn client(&self) -> Result<Client> {
        let object = self
            .pool
            .get()
            .await
            .map_err(|err| Error::pool(&self.target, self.wait_timeout, err))?;
        Ok(Client::new(object, self.mode.clone()))
    }

    /// One of a few connections shared by every caller: statements from many tasks are
    /// pipelined on them, which serves many short statements with fewer connections than a
    /// pooled [`Client`] each (see [`SharedClient`]). No transactions; a slow statement holds up
    /// the others on its connection, so big reads and lock waits belong on [`Database::client`].
    pub async fn shared_client(&self) -> Result<SharedClient> {
        let shared = self.shared.get(self.pool.manager(), &self.mode).await;
        shared.map_err(|failure| Error::connect(&self.target, failure))
    }

    /// Whether statements run unprepared, each in a transaction of its own, because a
    /// transaction pooler sits in front of the server (detected, or `statement_cache_size=0`).
    pub fn runs_unprepared(&self) -> bool {
        self.mode.unprepared()
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
