//! [`Node`]: one server of a database, its pool of connections and its shared connections.
//! A [`crate::Database`] has one for the primary and one per read replica.

use std::sync::Arc;
use std::time::Duration;

use super::client::Client;
use super::manager::{Manager, Pool};
use super::options::PoolOptions;
use super::shared::{Shared, SharedClient};
use super::waits::WaitRecorder;
use crate::connection::ConnectOptions;
use crate::connection::open::Opener;
use crate::error::{Error, Result};
use crate::log::Origin;
use crate::pooler::Mode;

/// One server: pooled connections ([`Node::client`]) and shared ones ([`Node::shared_client`]).
pub struct Node {
    pub(super) pool: Pool,
    /// How long callers waited for a pooled connection ([`Node::stats`]).
    pub(super) waits: WaitRecorder,
    mode: Arc<Mode>,
    /// What its statement spans say of it.
    origin: Arc<Origin>,
    shared: Shared,
    target: Arc<str>,
    wait_timeout: Duration,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// The node for `settings`; connects only when a connection is first asked for.
    pub(crate) fn new(settings: ConnectOptions, options: &PoolOptions) -> Result<Self> {
        let mode = Arc::new(Mode::new(
            settings.statement_cache,
            options.statement_timeout,
        ));
        let target: Arc<str> = settings.target().into();
        let tls = crate::connection::tls::connector(&settings.tls).map_err(|reason| {
            Error::InvalidConfig {
                what: "TLS settings",
                reason,
            }
        })?;
        let opener = Opener {
            options: settings,
            tls,
            timeout: options.connect_timeout,
            mode: mode.clone(),
            statements: options.statements,
        };
        let pool = Pool::builder(Manager::new(opener))
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
            origin: Arc::new(Origin::new(&target, options.statements)),
            waits: WaitRecorder::default(),
            shared: Shared::new(options.shared, options.size),
            target,
            wait_timeout: options.wait_timeout,
        })
    }

    /// A pooled connection, ready to run generated queries (see [`Client`]).
    pub async fn client(&self) -> Result<Client> {
        let asked = std::time::Instant::now();
        let object = self.pool.get().await;
        self.waits.record(asked.elapsed());
        let object = object.map_err(|err| Error::pool(&self.target, self.wait_timeout, err))?;
        Ok(Client::new(object, self.mode.clone(), self.origin.clone()))
    }

    /// One of a few connections shared by every caller: statements from many tasks are
    /// pipelined on them, which serves many short statements with fewer connections than a
    /// pooled [`Client`] each (see [`SharedClient`]). No transactions; a slow statement holds up
    /// the others on its connection, so big reads and lock waits belong on [`Node::client`].
    pub async fn shared_client(&self) -> Result<SharedClient> {
        let shared = self
            .shared
            .get(&self.pool.manager().opener, &self.mode, &self.origin)
            .await;
        shared.map_err(|failure| Error::connect(&self.target, failure))
    }

    /// Closes the pooled connections no one is using. After one of a node's connections broke
    /// (its server restarted, failed over or died), the idle ones most likely did too, and the
    /// pool may not have noticed yet: without them, the next [`Node::client`] opens afresh.
    pub(crate) fn forget_idle(&self) {
        self.pool.retain(|_, _| false);
    }

    /// Whether statements run unprepared: each query one unnamed request with its SQL, because
    /// a transaction pooler sits in front of the server (detected) or `statement_cache_size=0`.
    pub fn runs_unprepared(&self) -> bool {
        self.mode.unnamed()
    }

    /// Whether a transaction pooler (such as PgBouncer in transaction mode) was seen in front
    /// of the server.
    pub fn behind_a_pooler(&self) -> bool {
        self.mode.pooled()
    }

    /// Where this node connects, safe to print: `postgres://user@host:port/dbname`.
    pub fn target(&self) -> &str {
        &self.target
    }
}
