//! [`Database`]: where the data lives. A primary [`Node`] (a pool and shared connections to
//! `DATABASE_URL`, or to a throwaway local server), and read replicas, if any.

use super::client::Client;
use super::node::Node;
use super::options::PoolOptions;
use super::replicas::Replicas;
use super::shared::SharedClient;
use crate::connection::ConnectOptions;
use crate::error::{Error, ReadError, Result};

/// A database: its primary, its replicas, and the server it talks to when it started one.
pub struct Database {
    pub(super) primary: Node,
    pub(super) replicas: Replicas,
    /// Declared after `primary` so the pool's connections close before the server stops.
    #[cfg(feature = "throwaway")]
    local_server: Option<throwaway_pg::LocalServer>,
}

/// Shows only the password-free target, never the connection settings.
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Database");
        debug.field("target", &self.target());
        #[cfg(feature = "throwaway")]
        debug.field("local_server", &self.local_server.is_some());
        debug.finish_non_exhaustive()
    }
}

impl Database {
    /// Connects to `url`, completed by the `PG*` environment like `psql` would ([`ConnectOptions`]).
    /// With `None`, connects where the `PG*` environment says when it names a server (`PGHOST`,
    /// `PGHOSTADDR`, `PGDATABASE` or `PGSERVICE`), and otherwise, with the feature `throwaway`,
    /// starts a throwaway local PostgreSQL (removed on drop); without it, that is
    /// [`Error::NoSettings`]. Checks out one connection so bad settings or an unreachable server
    /// fail here, clearly.
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
            None => Self::start_local(options).await,
        }
    }

    #[cfg(feature = "throwaway")]
    async fn start_local(options: PoolOptions) -> Result<Self> {
        let started = tokio::task::spawn_blocking(throwaway_pg::LocalServer::start).await;
        let server = started
            .map_err(|join| join.to_string())
            .and_then(|started| started.map_err(|err| err.to_string()))
            .map_err(|reason| Error::LocalServer { reason })?;
        let settings = ConnectOptions::from_url(&server.url())?;
        let mut database = Self::build(settings, options)?;
        database.local_server = Some(server);
        database.check().await
    }

    #[cfg(not(feature = "throwaway"))]
    async fn start_local(_: PoolOptions) -> Result<Self> {
        Err(Error::NoSettings)
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
                Node::new(settings, &options)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut primary = Self::open_with(url, options).await?;
        primary.replicas = Replicas::new(replicas);
        Ok(primary)
    }

    /// Connects with settings you built (see [`ConnectOptions`]).
    pub async fn connect(settings: ConnectOptions, options: PoolOptions) -> Result<Self> {
        Self::build(settings, options)?.check().await
    }

    fn build(settings: ConnectOptions, options: PoolOptions) -> Result<Self> {
        Ok(Self {
            primary: Node::new(settings, &options)?,
            replicas: Replicas::default(),
            #[cfg(feature = "throwaway")]
            local_server: None,
        })
    }

    async fn check(self) -> Result<Self> {
        drop(self.client().await?);
        Ok(self)
    }

    /// The primary.
    pub fn primary(&self) -> &Node {
        &self.primary
    }

    /// A pooled connection to the primary (see [`Node::client`]).
    pub async fn client(&self) -> Result<Client> {
        self.primary.client().await
    }

    /// A shared connection to the primary (see [`Node::shared_client`]).
    pub async fn shared_client(&self) -> Result<SharedClient> {
        self.primary.shared_client().await
    }

    /// Whether statements run unprepared on the primary (see [`Node::runs_unprepared`]).
    pub fn runs_unprepared(&self) -> bool {
        self.primary.runs_unprepared()
    }

    /// Where we are connected, safe to print: `postgres://user@host:port/dbname`, no password.
    pub fn target(&self) -> &str {
        self.primary.target()
    }

    /// The throwaway server, when one was started because nothing named a server.
    #[cfg(feature = "throwaway")]
    pub fn local_server(&self) -> Option<&throwaway_pg::LocalServer> {
        self.local_server.as_ref()
    }

    /// Runs `read` on a replica, or on the primary when there are none, all are down, or none
    /// has replayed this process's last write ([`Database::wrote`]). A replica that fails to
    /// answer is left alone (a second, doubling while probes keep failing) and the read tried
    /// on the next one, then on the primary: no read fails because a replica is gone. `read`
    /// may therefore run more than once, so it should only read. Its error type is yours: any
    /// that converts from [`Error`] and says whether it means "unavailable" ([`ReadError`]).
    pub async fn read<'a, T, E, F>(&'a self, read: impl Fn(&'a Node) -> F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: ReadError,
    {
        self.replicas.read(&self.primary, read).await
    }

    /// Records the primary's write-ahead log position after writes just made, so that reads
    /// from now on go to replicas that have replayed them (and to the primary until one has).
    /// A no-op without replicas.
    pub async fn wrote(&self) -> Result<()> {
        self.replicas.wrote(&self.primary).await
    }

    /// The replicas' targets, safe to print.
    pub fn replica_targets(&self) -> Vec<&str> {
        self.replicas.targets()
    }
}
