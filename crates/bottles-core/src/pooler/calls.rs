//! Statements behind a transaction pooler: each call runs in a transaction of its own, which
//! the pooler keeps on one server connection from `BEGIN` to `COMMIT`. tokio-postgres still
//! prepares a named statement for it, runs it and closes it, all inside; each transaction
//! starts by deallocating whatever an earlier one left on the server connection, and ends by
//! deallocating its own, so prepared names never clash and none outlives its transaction.
//!
//! Calls on one client take turns, and the connection itself sends one request at a time
//! ([`super::gate`]). A call whose rows are read as a stream after it returns queues its
//! `COMMIT` without waiting for it: it goes out once the rows are all in, and the pooler frees
//! the server connection after it.

use futures::FutureExt;
use tokio::sync::Mutex;
use tokio_postgres::{Client, Error, Statement};

use super::mode::Mode;

const SAVEPOINT: &str = "bottles_call";
const FINISH: &str = "DEALLOCATE ALL; COMMIT";
const UNDO: &str = "ROLLBACK TO SAVEPOINT bottles_call; DEALLOCATE ALL; ROLLBACK";

/// A client's calls, one at a time.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    turn: Mutex<()>,
}

/// Whether a call returns a stream the caller reads after the call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// Its answer is all in when the call returns.
    Now,
    /// It returns a row stream, read afterwards.
    Later,
}

impl Calls {
    /// Runs `call` as `mode` says: straight on `client` (a failure that shows an undetected
    /// pooler switches the mode), or in a transaction of its own behind a pooler.
    pub(crate) async fn run<R>(
        &self,
        client: &Client,
        mode: &Mode,
        reads: Reads,
        call: impl AsyncFnOnce(&Client) -> Result<R, Error>,
    ) -> Result<R, Error> {
        if mode.unprepared() {
            return self.pinned(client, mode, reads, call).await;
        }
        let result = call(client).await;
        if let Err(err) = &result {
            mode.notice(err);
        }
        result
    }

    /// Prepares `query` through the connection's cache, or behind a pooler in a transaction of
    /// its own: the types are known, the statement itself cannot outlive it (`.prepare()`
    /// then `.bind()` fails there).
    pub(crate) async fn prepare(
        &self,
        client: &deadpool_postgres::ClientWrapper,
        mode: &Mode,
        query: &str,
    ) -> Result<Statement, Error> {
        if mode.unprepared() {
            let prepare = async |c: &Client| c.prepare(query).await;
            return self.pinned(client, mode, Reads::Now, prepare).await;
        }
        client.prepare_cached(query).await
    }

    /// Runs `call` in a transaction of its own on `client`.
    pub(crate) async fn pinned<R>(
        &self,
        client: &Client,
        mode: &Mode,
        reads: Reads,
        call: impl AsyncFnOnce(&Client) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let _turn = self.turn.lock().await;
        let opening = format!("BEGIN; {}", mode.opening(SAVEPOINT));
        // Sent together: BEGIN goes out first, then the call's statements behind it.
        let (opened, result) = tokio::join!(client.batch_execute(&opening), call(client));
        match (opened, result) {
            (Ok(()), Ok(value)) if reads == Reads::Later => {
                // The query has been sent and bound; the rest is queued behind it. If the query
                // fails while its rows are read, the transaction is left aborted and the second
                // COMMIT ends it; otherwise that one is a no-op.
                send_without_waiting(client, FINISH);
                send_without_waiting(client, "COMMIT");
                Ok(value)
            }
            (Ok(()), Ok(value)) => {
                client.batch_execute(FINISH).await?;
                Ok(value)
            }
            (Err(err), _) | (Ok(()), Err(err)) => {
                undo(client).await;
                Err(err)
            }
        }
    }
}

/// Queues `sql` on the connection behind what is already sent; its answer is discarded.
fn send_without_waiting(client: &Client, sql: &str) {
    // The first poll of a simple query sends it (with the connection on another thread, the
    // answer may even be back already); dropping the future then drops only the wait.
    let _ = client.batch_execute(sql).now_or_never();
}

/// Rolls a call's transaction back, deallocating what it prepared first.
async fn undo(client: &Client) {
    if client.batch_execute(UNDO).await.is_err() {
        // No savepoint (BEGIN itself failed): leave no transaction behind at least.
        let _ = client.batch_execute("ROLLBACK").await;
    }
}
