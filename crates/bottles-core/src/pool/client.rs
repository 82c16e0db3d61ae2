//! [`Client`] and [`Transaction`]: what generated queries run on. A generated crate implements
//! its `GenericClient` for both ([`crate::generic_client!`]), so every generated function
//! takes them. Directly connected, they prepare each statement once per connection: after the
//! first time, a query costs one round trip. Through a transaction pooler they run unprepared
//! ([`crate::pooler`]).
//!
//! Every statement on them is in the statement log ([`crate::LOG_TARGET`]), whoever sends it:
//! the log watches the connection itself.

use std::ops::Deref;
use std::sync::Arc;

use tokio_postgres::{Error, Statement};

use super::manager::Object;
use crate::pooler::{Calls, Mode, Reads};

/// A pooled connection; dropping it returns the connection to the pool.
///
/// Derefs to [`tokio_postgres::Client`] for anything the generated code does not cover
/// (`copy_in`, `batch_execute`, …). Behind a transaction pooler, send SQL of your own with
/// `batch_execute`/`simple_query` or inside a [`Transaction`]: tokio-postgres' `query` prepares
/// a named statement the pooler cannot keep.
pub struct Client {
    object: Object,
    mode: Arc<Mode>,
    calls: Calls,
}

impl Client {
    pub(crate) fn new(object: Object, mode: Arc<Mode>) -> Self {
        Self {
            object,
            mode,
            calls: Calls::default(),
        }
    }

    fn wrapper(&self) -> &deadpool_postgres::ClientWrapper {
        &self.object
    }

    /// Starts a transaction: committed by [`Transaction::commit`], rolled back by
    /// [`Transaction::rollback`] or on drop.
    pub async fn transaction(&mut self) -> Result<Transaction<'_>, Error> {
        let mode = self.mode.clone();
        let inner = self.object.transaction().await?;
        if mode.unprepared() {
            // So that a rollback can still deallocate what the transaction prepared.
            inner
                .batch_execute(&mode.opening("bottles_transaction"))
                .await?;
        }
        Ok(Transaction { inner, mode })
    }

    /// Runs a call as the mode says: straight on the connection, or in a transaction of its own
    /// behind a pooler. For [`crate::generic_client!`].
    #[doc(hidden)]
    pub async fn call<R>(
        &self,
        reads: Reads,
        call: impl AsyncFnOnce(&tokio_postgres::Client) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.calls.run(self, &self.mode, reads, call).await
    }

    /// For [`crate::generic_client!`].
    #[doc(hidden)]
    pub async fn prepare_statement(&self, query: &str) -> Result<Statement, Error> {
        self.calls.prepare(self.wrapper(), &self.mode, query).await
    }
}

impl Deref for Client {
    type Target = tokio_postgres::Client;

    fn deref(&self) -> &tokio_postgres::Client {
        self.wrapper()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

/// A transaction on a pooled connection. Rolled back when dropped without [`commit`].
///
/// [`commit`]: Transaction::commit
pub struct Transaction<'a> {
    inner: deadpool_postgres::Transaction<'a>,
    mode: Arc<Mode>,
}

impl<'a> Transaction<'a> {
    /// Commits everything done in the transaction.
    pub async fn commit(self) -> Result<(), Error> {
        if self.mode.unprepared() {
            self.inner.batch_execute("DEALLOCATE ALL").await?;
        }
        self.inner.commit().await
    }

    /// Rolls back everything done in the transaction (dropping it does the same).
    pub async fn rollback(self) -> Result<(), Error> {
        if self.mode.unprepared() {
            let undo = "ROLLBACK TO SAVEPOINT bottles_transaction; DEALLOCATE ALL";
            self.inner.batch_execute(undo).await?;
        }
        self.inner.rollback().await
    }

    /// Runs a call on the transaction's connection (inside the transaction, so however its
    /// rows are read). For [`crate::generic_client!`].
    #[doc(hidden)]
    pub async fn call<R>(
        &self,
        _: Reads,
        call: impl AsyncFnOnce(&tokio_postgres::Client) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let result = call(self.inner.client()).await;
        if let Err(err) = &result {
            self.mode.notice(err);
        }
        result
    }

    /// For [`crate::generic_client!`].
    #[doc(hidden)]
    pub async fn prepare_statement(&self, query: &str) -> Result<Statement, Error> {
        match self.mode.unprepared() {
            // Inside the transaction the pooler keeps the server connection; commit deallocates.
            true => self.inner.prepare(query).await,
            false => self.inner.prepare_cached(query).await,
        }
    }
}

impl<'a> Deref for Transaction<'a> {
    type Target = tokio_postgres::Transaction<'a>;

    fn deref(&self) -> &tokio_postgres::Transaction<'a> {
        &self.inner
    }
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction").finish_non_exhaustive()
    }
}
