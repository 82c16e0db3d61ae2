//! [`Client`] and [`Transaction`]: what generated queries run on ([`crate::GenericClient`]).
//! Directly connected, they prepare each statement once per connection: after the first time,
//! a query costs one round trip. Through a transaction pooler each query is one unnamed
//! request ([`crate::pooler`]).
//!
//! Every statement on them is in the statement log ([`crate::LOG_TARGET`]), whoever sends it:
//! the log watches the connection itself.

use std::ops::Deref;
use std::sync::Arc;

use tokio_postgres::Error;

use super::manager::Object;
use crate::log::Origin;
use crate::pooler::{Calls, Mode, On};

/// A pooled connection; dropping it returns the connection to the pool.
///
/// Derefs to [`tokio_postgres::Client`] for anything the generated code does not cover
/// (`copy_in`, `batch_execute`, …). Behind a transaction pooler, send SQL of your own with
/// `batch_execute`/`simple_query` or inside a [`Transaction`]: tokio-postgres' `query` prepares
/// a named statement the pooler cannot keep.
pub struct Client {
    object: Object,
    mode: Arc<Mode>,
    origin: Arc<Origin>,
    calls: Calls,
}

impl Client {
    pub(crate) fn new(object: Object, mode: Arc<Mode>, origin: Arc<Origin>) -> Self {
        Self {
            object,
            mode,
            origin,
            calls: Calls::default(),
        }
    }

    fn wrapper(&self) -> &deadpool_postgres::ClientWrapper {
        &self.object
    }

    /// Where generated queries run, how, and what their spans say.
    pub(crate) fn on(&self) -> (On<'_>, &Mode, &Origin) {
        let on = On::Connection(self.wrapper(), &self.calls);
        (on, &self.mode, &self.origin)
    }

    /// Whether a transaction pooler is in front: statements inside a transaction then go
    /// together in one round trip, where outside one each waits for the one before.
    pub fn behind_a_pooler(&self) -> bool {
        self.mode.pooled()
    }

    /// Starts a transaction: committed by [`Transaction::commit`], rolled back by
    /// [`Transaction::rollback`] or on drop.
    pub async fn transaction(&mut self) -> Result<Transaction<'_>, Error> {
        let (mode, origin) = (self.mode.clone(), self.origin.clone());
        let inner = self.object.transaction().await?;
        Transaction::opened(inner, mode, origin).await
    }

    /// Starts a read-only transaction that reads one snapshot (`REPEATABLE READ`): several
    /// reads that must agree with each other.
    pub async fn read_only_transaction(&mut self) -> Result<Transaction<'_>, Error> {
        let (mode, origin) = (self.mode.clone(), self.origin.clone());
        let builder = self.object.build_transaction();
        let builder = builder.isolation_level(tokio_postgres::IsolationLevel::RepeatableRead);
        let inner = builder.read_only(true).start().await?;
        Transaction::opened(inner, mode, origin).await
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Deref for Client {
    type Target = tokio_postgres::Client;

    fn deref(&self) -> &tokio_postgres::Client {
        self.wrapper()
    }
}

/// A transaction on a pooled connection. Rolled back when dropped without [`commit`].
///
/// [`commit`]: Transaction::commit
pub struct Transaction<'a> {
    inner: deadpool_postgres::Transaction<'a>,
    mode: Arc<Mode>,
    origin: Arc<Origin>,
}

impl<'a> Transaction<'a> {
    /// The transaction `inner` began, opened as the mode needs.
    async fn opened(
        inner: deadpool_postgres::Transaction<'a>,
        mode: Arc<Mode>,
        origin: Arc<Origin>,
    ) -> Result<Transaction<'a>, Error> {
        // The savepoint lets a rollback still deallocate (see `Mode::deallocates`).
        let mut opening = match mode.deallocates() {
            true => "DEALLOCATE ALL; SAVEPOINT bottles_transaction; ".to_string(),
            false => String::new(),
        };
        opening.push_str(&mode.local_timeout());
        if !opening.is_empty() {
            inner.batch_execute(&opening).await?;
        }
        Ok(Transaction {
            inner,
            mode,
            origin,
        })
    }

    /// Commits everything done in the transaction.
    pub async fn commit(self) -> Result<(), Error> {
        if self.mode.deallocates() {
            self.inner.batch_execute("DEALLOCATE ALL").await?;
        }
        self.inner.commit().await
    }

    /// Rolls back everything done in the transaction (dropping it does the same).
    pub async fn rollback(self) -> Result<(), Error> {
        if self.mode.deallocates() {
            let undo = "ROLLBACK TO SAVEPOINT bottles_transaction; DEALLOCATE ALL";
            self.inner.batch_execute(undo).await?;
        }
        self.inner.rollback().await
    }

    /// Where generated queries run (inside the transaction), how, and what their spans say.
    pub(crate) fn on(&self) -> (On<'_>, &Mode, &Origin) {
        (On::Transaction(&self.inner), &self.mode, &self.origin)
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
