//! How a generated query runs, in each [`Mode`].
//!
//! - Prepared: through the connection's statement cache, then one `Bind`/`Execute`/`Sync`.
//! - Unnamed: one `Parse`/`Bind`/`Execute`/`Sync` with the SQL and the parameter types
//!   described once per node (tokio-postgres' `query_typed`). Nothing outlives the request, so
//!   any transaction pooler can carry it.
//! - Behind a pooler, a statement with a database-defined type (an enum, say) runs prepared
//!   inside a transaction of its own, as tokio-postgres looks those types up with a named
//!   statement: the transaction starts and ends by deallocating, so no name outlives it.
//!
//! Behind a pooler with a statement timeout, the timeout needs a transaction (`SET LOCAL`): the
//! call goes as `BEGIN; SET LOCAL …`, the statement and `COMMIT`, sent together, one round
//! trip (the gate lets requests follow one that leaves a transaction open, [`super::gate`]).
//! A connection's calls send their requests in turn, so nobody else's lands in between.

use std::pin::{Pin, pin};

use deadpool_postgres::ClientWrapper;
use futures::future::{BoxFuture, MaybeDone, maybe_done};
use futures::poll;
use tokio::sync::Mutex;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Error, Statement};

use super::describe::built_in_types_only;
use super::mode::Mode;

/// One kind of call the generated code makes (execute, one row, an optional row, a row
/// stream), run on a prepared statement or unnamed. Boxed: the futures of generic calls through
/// trait methods otherwise trip the compiler's `Send` check on callers' spawned tasks.
pub(crate) trait Op: Send {
    type Output: Send;
    /// Whether the answer is read after the call returns (a row stream).
    const LATER: bool = false;

    fn prepared<'c>(
        self,
        client: &'c Client,
        statement: &'c Statement,
    ) -> BoxFuture<'c, Result<Self::Output, Error>>
    where
        Self: 'c;

    fn unnamed<'c>(
        self,
        client: &'c Client,
        sql: &'c str,
        types: &'c [Type],
    ) -> BoxFuture<'c, Result<Self::Output, Error>>
    where
        Self: 'c;
}

/// A connection's calls, sending their requests in turn behind a pooler.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    turn: Mutex<()>,
}

/// Where a call runs: on a connection (pooled or shared), or inside an open transaction.
#[derive(Clone, Copy)]
pub(crate) enum On<'a> {
    Connection(&'a ClientWrapper, &'a Calls),
    Transaction(&'a deadpool_postgres::Transaction<'a>),
}

const SAVEPOINT: &str = "bottles_call";
const FINISH: &str = "DEALLOCATE ALL; COMMIT";
const UNDO: &str = "ROLLBACK TO SAVEPOINT bottles_call; DEALLOCATE ALL; ROLLBACK";

impl<'a> On<'a> {
    fn client(self) -> &'a Client {
        match self {
            On::Connection(client, _) => client,
            On::Transaction(transaction) => transaction.client(),
        }
    }

    /// Runs `sql` as `op` says, in the way `mode` says (see the module's documentation).
    /// `cached` is a statement the caller prepared before (cornucopia's `Stmt::prepare`).
    pub(crate) async fn run<O: Op>(
        self,
        mode: &Mode,
        sql: &str,
        cached: Option<&Statement>,
        op: O,
    ) -> Result<O::Output, Error> {
        if !mode.unnamed() {
            let statement = match cached {
                Some(statement) => statement.clone(),
                None => self.prepare_cached(mode, sql).await?,
            };
            let call = |client| op.prepared(client, &statement);
            let result = self.send(mode, O::LATER, call).await;
            return result.inspect_err(|err| mode.notice(err));
        }
        let described = match cached {
            Some(statement) => statement.clone(),
            None => self.describe(mode, sql).await?,
        };
        if mode.pooled() && !built_in_types_only(&described) {
            let call = |client: &'a Client| async move {
                let statement = client.prepare(sql).await?;
                op.prepared(client, &statement).await
            };
            return match self {
                On::Connection(client, calls) => calls.pinned(client, mode, O::LATER, call).await,
                On::Transaction(transaction) => call(transaction.client()).await,
            };
        }
        let call = |client| op.unnamed(client, sql, described.params());
        self.send(mode, O::LATER, call).await
    }

    /// A simple query (nothing prepared), sent as any other call is.
    pub(crate) async fn simple_query(
        self,
        mode: &Mode,
        sql: &str,
    ) -> Result<Vec<tokio_postgres::SimpleQueryMessage>, Error> {
        self.send(mode, false, |client| client.simple_query(sql))
            .await
    }

    /// The statement for `sql` as the mode keeps it: cached on the connection, or described
    /// once for the node. For cornucopia's `Stmt::prepare`.
    pub(crate) async fn prepare(self, mode: &Mode, sql: &str) -> Result<Statement, Error> {
        match mode.unnamed() {
            true => self.describe(mode, sql).await,
            false => self.prepare_cached(mode, sql).await,
        }
    }

    async fn prepare_cached(self, mode: &Mode, sql: &str) -> Result<Statement, Error> {
        let prepared = match self {
            On::Connection(client, _) => client.prepare_cached(sql).await,
            On::Transaction(transaction) => transaction.prepare_cached(sql).await,
        };
        prepared.inspect_err(|err| mode.notice(err))
    }

    /// The node's description of `sql`, asking the server the first time. Behind a pooler the
    /// statement is prepared in a transaction of its own that deallocates it.
    async fn describe(self, mode: &Mode, sql: &str) -> Result<Statement, Error> {
        let prepare = |client: &'a Client| client.prepare(sql);
        let describe = async {
            match self {
                On::Connection(client, calls) if mode.pooled() => {
                    calls.pinned(client, mode, false, prepare).await
                }
                // Inside a transaction behind a pooler, its end deallocates.
                other => prepare(other.client()).await,
            }
        };
        mode.descriptions().get_or_describe(sql, describe).await
    }

    /// Sends `call`'s request: straight on a direct connection or inside a transaction; in
    /// turn behind a pooler; wrapped in a transaction for the statement timeout behind a pooler.
    async fn send<R, F>(
        self,
        mode: &Mode,
        later: bool,
        call: impl FnOnce(&'a Client) -> F,
    ) -> Result<R, Error>
    where
        F: Future<Output = Result<R, Error>>,
    {
        match self {
            On::Connection(client, calls) if mode.pooled() => match mode.statement_timeout() {
                Some(_) => calls.with_timeout(client, mode, later, call).await,
                None => calls.in_turn(client, call).await,
            },
            other => call(other.client()).await,
        }
    }
}

impl Calls {
    /// Sends `call`'s request while holding the turn, then waits for its answer without it.
    async fn in_turn<'c, R, F>(
        &self,
        client: &'c Client,
        call: impl FnOnce(&'c Client) -> F,
    ) -> Result<R, Error>
    where
        F: Future<Output = Result<R, Error>>,
    {
        let turn = self.turn.lock().await;
        let mut call = pin!(maybe_done(call(client)));
        send(call.as_mut()).await;
        drop(turn);
        answer(call).await
    }

    /// `BEGIN; SET LOCAL statement_timeout`, the call and `COMMIT`, sent together in turn. A
    /// failed call leaves the transaction aborted, and `COMMIT` then rolls it back.
    async fn with_timeout<'c, R, F>(
        &self,
        client: &'c Client,
        mode: &Mode,
        later: bool,
        call: impl FnOnce(&'c Client) -> F,
    ) -> Result<R, Error>
    where
        F: Future<Output = Result<R, Error>>,
    {
        let opening = format!("BEGIN; {}", mode.local_timeout());
        let turn = self.turn.lock().await;
        let mut begin = pin!(maybe_done(client.batch_execute(&opening)));
        send(begin.as_mut()).await;
        let mut call = pin!(maybe_done(call(client)));
        send(call.as_mut()).await;
        let mut commit = pin!(maybe_done(client.batch_execute("COMMIT")));
        send(commit.as_mut()).await;
        drop(turn);
        // The answers come in the order sent; each is taken in that order.
        let begun = answer(begin).await;
        let value = begun.and(answer(call).await)?;
        if !later {
            answer(commit).await?;
        }
        // With rows still to be read, the COMMIT's answer is left to come after them.
        Ok(value)
    }

    /// Runs `call` in a transaction of its own that starts and ends by deallocating, holding
    /// the turn throughout, for statements that must be prepared behind a pooler.
    async fn pinned<'c, R, F>(
        &self,
        client: &'c ClientWrapper,
        mode: &Mode,
        later: bool,
        call: impl FnOnce(&'c Client) -> F,
    ) -> Result<R, Error>
    where
        F: Future<Output = Result<R, Error>>,
    {
        let _turn = self.turn.lock().await;
        let opening = format!(
            "BEGIN; DEALLOCATE ALL; {}SAVEPOINT {SAVEPOINT}",
            mode.local_timeout()
        );
        // Sent together: the gate lets the call's requests follow a BEGIN.
        let (opened, result) = tokio::join!(client.batch_execute(&opening), call(client));
        match (opened, result) {
            (Ok(()), Ok(value)) if later => {
                // The rows are read after this returns: the end goes once they are in. If
                // reading them fails, the transaction is aborted and the second COMMIT ends it.
                send(pin!(maybe_done(client.batch_execute(FINISH)))).await;
                send(pin!(maybe_done(client.batch_execute("COMMIT")))).await;
                Ok(value)
            }
            (Ok(()), Ok(value)) => {
                client.batch_execute(FINISH).await?;
                Ok(value)
            }
            (Err(err), _) | (Ok(()), Err(err)) => {
                if client.batch_execute(UNDO).await.is_err() {
                    // No savepoint (BEGIN itself failed): leave no transaction behind at least.
                    let _ = client.batch_execute("ROLLBACK").await;
                }
                Err(err)
            }
        }
    }
}

/// Polls a tokio-postgres call once, which sends its request; its answer is taken later.
async fn send<F: Future>(call: Pin<&mut MaybeDone<F>>) {
    let _ = poll!(call);
}

/// The answer of a call [`send`] sent.
async fn answer<F: Future>(mut call: Pin<&mut MaybeDone<F>>) -> F::Output {
    call.as_mut().await;
    call.take_output().expect("awaited")
}
