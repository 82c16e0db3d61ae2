//! [`PoolOptions`]: how a database's pools connect, how large they grow, how long callers wait.

use std::time::Duration;

use crate::log::Statements;

/// How the pool connects, how large it grows and how long callers wait for it.
#[derive(Debug, Clone, Copy)]
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
    /// Connections [`crate::Node::shared_client`] hands out in turn, besides the pool's.
    /// Behind a transaction pooler, where a shared connection carries one request at a time,
    /// it hands out as many as `size` instead, when that is more.
    pub shared: usize,
    /// The application's named statements, so the statement log shows each one as written in
    /// its `.sql` file, under its name; `None` shows the SQL as sent.
    pub statements: Option<&'static Statements>,
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
            statements: None,
        }
    }
}
