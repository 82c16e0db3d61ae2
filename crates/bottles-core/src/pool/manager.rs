//! The pool's half of connecting: deadpool asks [`Manager`] for new connections, and to check
//! an idle one before it hands it out again.
//!
//! A connection to a server that went away, or restarted (which is how a primary becomes a
//! standby: pg_auto_failover, Patroni and `pg_rewind` all restart it), is closed, and dropped
//! here. One whose server stays up but stops taking writes (`default_transaction_read_only`
//! turned on and reloaded, as an HA manager or an operator fences an old primary) stays open,
//! and would fail every write for as long as it lives; so a pool that wants the primary
//! (`target_session_attrs=read-write`) also asks, now and then, whether the server still takes
//! writes (see [`WriteCheck`]).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_postgres::ClientWrapper;
use tokio_postgres::SimpleQueryMessage;
use tokio_postgres::config::TargetSessionAttrs;

use crate::connection::open::Opener;
use crate::error::ConnectFailure;

/// How often, at most, a pool that wants the primary checks one of its connections.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Opens connections for the pool, and checks an idle one is still good before reuse.
pub(crate) struct Manager {
    pub(crate) opener: Opener,
    /// Only when the pool wants the primary.
    writes: Option<WriteCheck>,
}

impl Manager {
    pub(crate) fn new(opener: Opener) -> Self {
        let wants_primary =
            opener.options.pg.get_target_session_attrs() == TargetSessionAttrs::ReadWrite;
        Self {
            writes: wants_primary.then(|| WriteCheck::new(Instant::now())),
            opener,
        }
    }
}

impl managed::Manager for Manager {
    type Type = ClientWrapper;
    type Error = ConnectFailure;

    async fn create(&self) -> Result<ClientWrapper, ConnectFailure> {
        self.opener.open().await
    }

    async fn recycle(
        &self,
        client: &mut ClientWrapper,
        metrics: &Metrics,
    ) -> RecycleResult<ConnectFailure> {
        // A connection that broke while in use is dropped here; one that breaks while idle
        // fails its next statement, and is dropped then.
        if client.is_closed() {
            return Err(RecycleError::message("the connection is closed"));
        }
        let Some(check) = &self.writes else {
            return Ok(());
        };
        let last_checked = metrics.recycled.unwrap_or(metrics.created);
        if !check.due(last_checked, Instant::now()) {
            return Ok(());
        }
        // No longer than connecting may take: a server that does not answer is as good as gone.
        let limit = self.opener.options.connect_timeout(self.opener.timeout);
        match tokio::time::timeout(limit, takes_writes(client)).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => {
                check.refused(Instant::now());
                Err(RecycleError::message("the server only takes reads now"))
            }
            Ok(Err(err)) => Err(RecycleError::message(format!(
                "the connection failed its check: {err}"
            ))),
            Err(_) => Err(RecycleError::message(format!(
                "the server did not answer its check in {limit:?}"
            ))),
        }
    }
}

/// When a pool that wants the primary checks that a connection's server still takes writes:
/// on one checkout a second; and once a server was found to take only reads, on the next
/// checkout of every connection not checked since. A server fenced read-only so loses its
/// connections within about a second, at the cost of one round trip a second while none is.
#[derive(Debug)]
struct WriteCheck(Mutex<Checks>);

#[derive(Debug, Clone, Copy)]
struct Checks {
    /// When the next check of one connection is due.
    next: Instant,
    /// When a connection was last found on a server that takes only reads.
    refused: Option<Instant>,
}

impl WriteCheck {
    fn new(now: Instant) -> Self {
        Self(Mutex::new(Checks {
            next: now + CHECK_EVERY,
            refused: None,
        }))
    }

    /// Whether to check a connection last checked out (or opened) at `last_checked`.
    fn due(&self, last_checked: Instant, now: Instant) -> bool {
        let mut checks = self.0.lock().expect("not poisoned");
        if checks
            .refused
            .is_some_and(|refused| last_checked <= refused)
        {
            return true;
        }
        if now < checks.next {
            return false;
        }
        checks.next = now + CHECK_EVERY;
        true
    }

    /// A connection's server was found to take only reads at `now`.
    fn refused(&self, now: Instant) {
        self.0.lock().expect("not poisoned").refused = Some(now);
    }
}

/// Whether the connection's server takes writes now: `transaction_read_only` is off, which is
/// what libpq asks for `target_session_attrs=read-write` (it is on for a standby, and for a
/// server with `default_transaction_read_only` on).
async fn takes_writes(client: &ClientWrapper) -> Result<bool, tokio_postgres::Error> {
    let rows = client.simple_query("SHOW transaction_read_only").await?;
    Ok(rows.iter().any(|message| match message {
        SimpleQueryMessage::Row(row) => row.get(0) == Some("off"),
        _ => false,
    }))
}

pub(crate) type Pool = managed::Pool<Manager>;
pub(crate) type Object = managed::Object<Manager>;

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn one_connection_is_checked_a_second() {
        let start = Instant::now();
        let check = WriteCheck::new(start);
        assert!(
            !check.due(start, start),
            "a connection just opened was checked"
        );
        assert!(check.due(start, start + SECOND));
        assert!(!check.due(start, start + SECOND), "one a second");
        assert!(!check.due(start, start + SECOND * 3 / 2));
        assert!(check.due(start, start + SECOND * 2));
    }

    #[test]
    fn after_a_refusal_every_connection_not_checked_since_is_checked() {
        let start = Instant::now();
        let check = WriteCheck::new(start);
        let refused = start + SECOND;
        assert!(check.due(start, refused));
        check.refused(refused);
        let later = refused + Duration::from_millis(10);
        assert!(check.due(start, later), "out before the refusal");
        assert!(check.due(refused, later), "out at the refusal");
        assert!(!check.due(later, later), "checked out since, so checked");
        assert!(!check.due(later, later + Duration::from_millis(10)));
    }
}
