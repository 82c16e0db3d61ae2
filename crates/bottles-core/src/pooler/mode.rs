//! [`Mode`]: how one node runs its statements, and whether a transaction pooler is in front.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_postgres::error::SqlState;

use super::describe::Descriptions;

/// One node's statement mode, shared by its pool, its clients and its connector.
///
/// - **Prepared** (the default): each statement is prepared once per connection and kept;
///   after that a query is one `Bind`/`Execute`/`Sync`.
/// - **Unnamed** (behind a transaction pooler, or `statement_cache_size=0`): each query goes
///   with its SQL as one unnamed `Parse`/`Bind`/`Execute`/`Sync`, which leaves nothing on the
///   server; its parameter types are described once per node ([`Descriptions`]).
///
/// Separately, **pooled** says a transaction pooler was seen: then the connection sends one
/// request at a time outside a transaction ([`super::gate`]), and the statement timeout goes
/// in with `SET LOCAL`, since the pooler refuses it as a start-up parameter.
#[derive(Debug)]
pub(crate) struct Mode {
    unnamed: AtomicBool,
    pooled: AtomicBool,
    /// `statement_cache_size` from the URL: `Some(true)` keeps statements prepared whatever is
    /// detected, `Some(false)` runs them unnamed from the start, `None` follows detection.
    forced: Option<bool>,
    statement_timeout: Option<Duration>,
    descriptions: Descriptions,
}

impl Mode {
    pub(crate) fn new(forced: Option<bool>, statement_timeout: Option<Duration>) -> Self {
        let mode = Self {
            unnamed: AtomicBool::new(forced == Some(false)),
            pooled: AtomicBool::new(false),
            forced,
            statement_timeout,
            descriptions: Descriptions::default(),
        };
        if forced == Some(false) {
            tracing::info!(
                target: "bottles::config",
                "statements run unprepared, each one request with its SQL: statement_cache_size=0"
            );
        }
        mode
    }

    /// Whether statements run unnamed (see above).
    pub(crate) fn unnamed(&self) -> bool {
        self.unnamed.load(Ordering::Acquire)
    }

    /// Whether a transaction pooler was seen in front of the server.
    pub(crate) fn pooled(&self) -> bool {
        self.pooled.load(Ordering::Acquire)
    }

    /// Whether transactions clear named statements at both ends: behind a pooler, running
    /// unprepared, a server connection may hold statements another client left, and those a
    /// transaction prepares (to describe a statement, or for a type of the database's own)
    /// must not outlive it.
    pub(crate) fn deallocates(&self) -> bool {
        self.pooled() && self.unnamed()
    }

    /// Whether to look for a pooler on each new connection.
    pub(crate) fn detects(&self) -> bool {
        !self.pooled()
    }

    /// A transaction pooler is in front: one request at a time from now on, and statements
    /// unnamed (unless `statement_cache_size` > 0 said to keep them prepared).
    pub(crate) fn behind_a_pooler(&self, why: &str) {
        if self.pooled.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.forced != Some(true) {
            self.unnamed.store(true, Ordering::Release);
        }
        let how = match self.unnamed() {
            true => "statements run unprepared, each one request with its SQL",
            false => "statements stay prepared (statement_cache_size > 0)",
        };
        tracing::info!(target: "bottles::config", "behind a transaction pooler, {how}: {why}");
    }

    /// A kept statement failed the way it does behind an undetected pooler: switch.
    pub(crate) fn notice(&self, err: &tokio_postgres::Error) {
        let code = err.code();
        if code == Some(&SqlState::INVALID_SQL_STATEMENT_NAME)
            || code == Some(&SqlState::DUPLICATE_PSTATEMENT)
        {
            self.behind_a_pooler(
                "a prepared statement went missing, as behind a transaction pooler",
            );
        }
    }

    pub(crate) fn statement_timeout(&self) -> Option<Duration> {
        self.statement_timeout
    }

    /// `SET LOCAL statement_timeout = …;` for a transaction behind a pooler (empty without a
    /// timeout, or directly connected, where it was a start-up parameter).
    pub(crate) fn local_timeout(&self) -> String {
        match (self.statement_timeout, self.pooled()) {
            (Some(limit), true) => {
                format!("SET LOCAL statement_timeout = {}; ", limit.as_millis())
            }
            _ => String::new(),
        }
    }

    /// The statements this node has described (for unnamed statements).
    pub(crate) fn descriptions(&self) -> &Descriptions {
        &self.descriptions
    }
}
