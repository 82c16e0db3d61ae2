//! [`Client`] and [`Transaction`]: what generated queries run on. Both implement cornucopia's
//! `GenericClient`, so every function in [`crate::codegen`] takes them, and both prepare each
//! statement once per connection: after the first time, a query costs one round trip.
//!
//! Every statement on them is in the statement log ([`crate::LOG_TARGET`]), whoever sends it:
//! the log watches the connection itself.

use std::ops::Deref;

use bottles_codegen::client::GenericClient;
use tokio_postgres::types::{BorrowToSql, ToSql};
use tokio_postgres::{Error, Row, RowStream, Statement, ToStatement};

use crate::pool::Object;

/// A pooled connection; dropping it returns the connection to the pool.
///
/// Derefs to [`tokio_postgres::Client`] for anything the generated code does not cover
/// (`copy_in`, `batch_execute`, …).
pub struct Client {
    object: Object,
}

impl Client {
    pub(crate) fn new(object: Object) -> Self {
        Self { object }
    }

    fn cached(&self) -> &deadpool_postgres::ClientWrapper {
        &self.object
    }

    fn plain(&self) -> &tokio_postgres::Client {
        self
    }

    /// Starts a transaction: committed by [`Transaction::commit`], rolled back on drop.
    pub async fn transaction(&mut self) -> Result<Transaction<'_>, Error> {
        let inner = self.object.transaction().await?;
        Ok(Transaction { inner })
    }
}

impl Deref for Client {
    type Target = tokio_postgres::Client;

    fn deref(&self) -> &tokio_postgres::Client {
        &self.object
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
}

impl<'a> Transaction<'a> {
    fn cached(&self) -> &deadpool_postgres::Transaction<'a> {
        &self.inner
    }

    fn plain(&self) -> &tokio_postgres::Transaction<'a> {
        &self.inner
    }

    /// Commits everything done in the transaction.
    pub async fn commit(self) -> Result<(), Error> {
        self.inner.commit().await
    }

    /// Rolls back everything done in the transaction (dropping it does the same).
    pub async fn rollback(self) -> Result<(), Error> {
        self.inner.rollback().await
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

/// Implements `GenericClient` by preparing through the connection's statement cache and running
/// everything else on the underlying tokio-postgres client or transaction.
macro_rules! generic_client {
    ($type:ty) => {
        impl GenericClient for $type {
            // Asks the generated code to prepare (through the cache) before each query.
            fn stmt_cache() -> bool {
                true
            }

            async fn prepare(&self, query: &str) -> Result<Statement, Error> {
                self.cached().prepare_cached(query).await
            }

            async fn execute<T>(
                &self,
                query: &T,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<u64, Error>
            where
                T: ?Sized + ToStatement + Sync + Send,
            {
                self.plain().execute(query, params).await
            }

            async fn query_one<T>(
                &self,
                statement: &T,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<Row, Error>
            where
                T: ?Sized + ToStatement + Sync + Send,
            {
                self.plain().query_one(statement, params).await
            }

            async fn query_opt<T>(
                &self,
                statement: &T,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<Option<Row>, Error>
            where
                T: ?Sized + ToStatement + Sync + Send,
            {
                self.plain().query_opt(statement, params).await
            }

            async fn query<T>(
                &self,
                query: &T,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<Vec<Row>, Error>
            where
                T: ?Sized + ToStatement + Sync + Send,
            {
                self.plain().query(query, params).await
            }

            async fn query_raw<T, I>(&self, statement: &T, params: I) -> Result<RowStream, Error>
            where
                T: ?Sized + ToStatement + Sync + Send,
                I: IntoIterator + Sync + Send,
                I::IntoIter: ExactSizeIterator,
                I::Item: BorrowToSql,
            {
                self.plain().query_raw(statement, params).await
            }
        }
    };
}

generic_client!(Client);
generic_client!(Transaction<'_>);
generic_client!(crate::shared::SharedClient);
