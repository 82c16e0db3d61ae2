//! [`Mode`]: whether one database runs its statements prepared or unprepared, and the
//! process-wide answer cornucopia's generated code asks for.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_postgres::error::SqlState;

/// Whether generated code should prepare statements through the client's cache. cornucopia
/// asks the client *type* (`GenericClient::stmt_cache()` takes no `self`), so the answer is
/// per process: once any database of the process runs unprepared, every client stops asking
/// for prepared statements. That is always correct, and only slower for another database in
/// the same process that has no pooler in front.
static PREPARED_STATEMENTS: AtomicBool = AtomicBool::new(true);

/// Whether generated code should prepare its statements now (see above).
pub fn prepared_statements() -> bool {
    PREPARED_STATEMENTS.load(Ordering::Relaxed)
}

/// One database's statement mode, shared by its pool, its clients and its connector.
#[derive(Debug)]
pub(crate) struct Mode {
    unprepared: AtomicBool,
    /// `statement_cache_size` from the URL: `Some(true)` never switches, `Some(false)` starts
    /// unprepared, `None` detects.
    forced: Option<bool>,
    /// Sent as the `options` start-up parameter, or by `SET LOCAL` in each transaction once
    /// unprepared (a pooler refuses `options`).
    statement_timeout: Option<Duration>,
}

impl Mode {
    pub(crate) fn new(forced: Option<bool>, statement_timeout: Option<Duration>) -> Self {
        let mode = Self {
            unprepared: AtomicBool::new(false),
            forced,
            statement_timeout,
        };
        if forced == Some(false) {
            mode.go_unprepared("statement_cache_size=0");
        }
        mode
    }

    pub(crate) fn unprepared(&self) -> bool {
        self.unprepared.load(Ordering::Acquire)
    }

    /// Whether statements may ever run unprepared (not when `statement_cache_size` > 0).
    pub(crate) fn can_run_unprepared(&self) -> bool {
        self.forced != Some(true)
    }

    /// Whether to look for a pooler on each new connection.
    pub(crate) fn detects(&self) -> bool {
        self.forced.is_none() && !self.unprepared()
    }

    /// Runs unprepared from now on (unless `statement_cache_size` said otherwise).
    pub(crate) fn go_unprepared(&self, why: &str) {
        if self.forced == Some(true) || self.unprepared.swap(true, Ordering::AcqRel) {
            return;
        }
        PREPARED_STATEMENTS.store(false, Ordering::Relaxed);
        tracing::info!(
            target: "bottles::config",
            "running statements unprepared, each in a transaction of its own: {why}"
        );
    }

    /// A kept statement failed the way it does behind an undetected pooler: switch.
    pub(crate) fn notice(&self, err: &tokio_postgres::Error) {
        let code = err.code();
        if code == Some(&SqlState::INVALID_SQL_STATEMENT_NAME)
            || code == Some(&SqlState::DUPLICATE_PSTATEMENT)
        {
            self.go_unprepared("a prepared statement went missing, as behind a transaction pooler");
        }
    }

    pub(crate) fn statement_timeout(&self) -> Option<Duration> {
        self.statement_timeout
    }

    /// What opens each transaction once unprepared, after its `BEGIN`: clearing statements
    /// another client may have left on the server connection (so no name clashes), the
    /// statement timeout for this transaction alone, and a savepoint to roll back to (so a
    /// failure can still deallocate before the transaction ends).
    pub(crate) fn opening(&self, savepoint: &str) -> String {
        let timeout = match self.statement_timeout {
            Some(limit) => format!("SET LOCAL statement_timeout = {}; ", limit.as_millis()),
            None => String::new(),
        };
        format!("DEALLOCATE ALL; {timeout}SAVEPOINT {savepoint}")
    }
}
