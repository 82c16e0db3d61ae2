//! Read-only statistics of a [`Database`], for metrics: each node's pool (connections open, in
//! use, idle, callers waiting, how long they waited), its statement mode, and each replica's
//! state and how far its replay is behind the primary ([`Database::stats`]).

use std::time::Duration;

use super::database::Database;
use super::node::Node;
use super::replicas::wal_position_of;

use super::waits::WaitTimes;
use crate::log::split_target;

/// A snapshot of a [`Database`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DatabaseStats {
    /// The primary.
    pub primary: NodeStats,
    /// Each replica, in the order given.
    pub replicas: Vec<ReplicaStats>,
}

/// A snapshot of one [`Node`]: its pool and how it runs statements.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NodeStats {
    /// `postgres://user@host:port/dbname`, no password.
    pub target: String,
    /// The server's host (or socket directory), port and database, from the target.
    pub server_address: String,
    /// The server's port.
    pub server_port: u16,
    /// The database's name.
    pub database: String,
    /// Most pooled connections.
    pub max: usize,
    /// Pooled connections open now.
    pub open: usize,
    /// Of those, handed out now.
    pub in_use: usize,
    /// Of those, idle in the pool.
    pub idle: usize,
    /// Callers waiting for a pooled connection now.
    pub waiting: usize,
    /// How long callers waited for a pooled connection, since the start.
    pub wait: WaitTimes,
    /// Whether statements run unprepared, each one request with its SQL (behind a transaction
    /// pooler, or `statement_cache_size=0`), rather than prepared once per connection.
    pub unprepared: bool,
}

/// A snapshot of one replica.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReplicaStats {
    /// Its node.
    pub node: NodeStats,
    /// Whether reads go to it.
    pub state: ReplicaState,
    /// Bytes of write-ahead log the primary has written and the replica not yet replayed, as
    /// asked of both just now; `None` when either could not say (a replica that is down is
    /// not asked).
    pub replay_lag_bytes: Option<u64>,
}

/// Whether reads go to a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Not tried yet: the first read will.
    Unknown,
    /// Answering: reads go there.
    Up,
    /// Failed lately: left alone for a while.
    Down,
    /// One read is trying it again.
    Probing,
}

impl ReplicaState {
    /// `unknown`, `up`, `down` or `probing`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaState::Unknown => "unknown",
            ReplicaState::Up => "up",
            ReplicaState::Down => "down",
            ReplicaState::Probing => "probing",
        }
    }
}

impl Node {
    /// A snapshot of this node's pool; no I/O.
    pub fn stats(&self) -> NodeStats {
        let status = self.pool.status();
        let (server_address, server_port, database) = split_target(self.target());
        NodeStats {
            target: self.target().to_string(),
            server_address,
            server_port,
            database,
            max: status.max_size,
            open: status.size,
            in_use: status.size.saturating_sub(status.available),
            idle: status.available,
            waiting: status.waiting,
            wait: self.waits.snapshot(),
            unprepared: self.runs_unprepared(),
        }
    }
}

impl Database {
    /// A snapshot of the primary and the replicas. Asks the primary and each replica that is
    /// not down how far their write-ahead log stands (one short statement each, on a shared
    /// connection, at most `timeout` in all), for the replay lag.
    pub async fn stats(&self, timeout: Duration) -> DatabaseStats {
        let replicas = self.replicas.states();
        let lag = async {
            if replicas.is_empty() {
                return Vec::new();
            }
            let written = wal_position_of(&self.primary, false).await;
            let replayed = replicas
                .iter()
                .map(async |(node, state)| match (written, state) {
                    (Some(written), ReplicaState::Up | ReplicaState::Unknown) => {
                        let replayed = wal_position_of(node, true).await?;
                        Some(written.saturating_sub(replayed))
                    }
                    _ => None,
                });
            futures::future::join_all(replayed).await
        };
        let lags = tokio::time::timeout(timeout, lag).await.unwrap_or_default();
        DatabaseStats {
            primary: self.primary.stats(),
            replicas: replicas
                .iter()
                .enumerate()
                .map(|(index, (node, state))| ReplicaStats {
                    node: node.stats(),
                    state: *state,
                    replay_lag_bytes: lags.get(index).copied().flatten(),
                })
                .collect(),
        }
    }
}
