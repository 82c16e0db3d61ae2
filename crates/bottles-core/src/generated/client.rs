//! [`GenericClient`] and the functions generated queries call, under the names cornucopia's
//! own client module gives them.

use tokio_postgres::types::{BorrowToSql, ToSql};
use tokio_postgres::{Error, Row, RowStream, Statement};

use tracing::Instrument;

use super::ops::{Execute, One, Opt, Raw};
use crate::log::{Origin, ended};
use crate::pool::{Client, SharedClient, Transaction};

/// What generated queries run on: [`Client`], [`Transaction`] and [`SharedClient`]. Each call
/// comes with its SQL text; how it runs depends on the connection (see [`crate::pooler`]).
pub trait GenericClient: Send + Sync {
    /// The statement for `query`, for cornucopia's `Stmt::prepare`: cached on the connection,
    /// or, unnamed, described once for the node.
    fn prepare(&self, query: &str) -> impl Future<Output = Result<Statement, Error>> + Send;

    /// Runs `query`; how many rows it changed.
    fn execute(
        &self,
        query: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<u64, Error>> + Send;

    /// Runs `query` (or `cached`, its statement prepared before); exactly one row.
    fn query_one(
        &self,
        query: &str,
        cached: Option<&Statement>,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Row, Error>> + Send;

    /// Runs `query` (or `cached`); at most one row.
    fn query_opt(
        &self,
        query: &str,
        cached: Option<&Statement>,
        params: &[&(dyn ToSql + Sync)],
    ) -> impl Future<Output = Result<Option<Row>, Error>> + Send;

    /// Runs `query` (or `cached`); its rows as they arrive.
    fn query_raw<I>(
        &self,
        query: &str,
        cached: Option<&Statement>,
        params: I,
    ) -> impl Future<Output = Result<RowStream, Error>> + Send
    where
        I: IntoIterator + Sync + Send,
        I::IntoIter: ExactSizeIterator + Send,
        I::Item: BorrowToSql;
}

/// Binds a query's parameters from one struct (cornucopia's `.params(&client, &params)`).
pub trait Params<'c, 'a, 's, P, O, C> {
    /// The query bound to `params` on `client`.
    fn params(&'s self, client: &'c C, params: &'a P) -> O;
}

/// Exactly one row of `query`.
pub async fn one<C: GenericClient>(
    client: &C,
    query: &str,
    params: &[&(dyn ToSql + Sync)],
    cached: Option<&Statement>,
) -> Result<Row, Error> {
    client.query_one(query, cached, params).await
}

/// At most one row of `query`.
pub async fn opt<C: GenericClient>(
    client: &C,
    query: &str,
    params: &[&(dyn ToSql + Sync)],
    cached: Option<&Statement>,
) -> Result<Option<Row>, Error> {
    client.query_opt(query, cached, params).await
}

/// The rows of `query` as they arrive.
pub async fn raw<C: GenericClient, I>(
    client: &C,
    query: &str,
    params: I,
    cached: Option<&Statement>,
) -> Result<RowStream, Error>
where
    I: IntoIterator + Sync + Send,
    I::IntoIter: ExactSizeIterator + Send,
    I::Item: BorrowToSql,
{
    client.query_raw(query, cached, params).await
}

/// The same impl for each client: each says where its calls run (`on()`) and in which mode.
macro_rules! runs_generated_queries {
    ($type:ty) => {
        impl GenericClient for $type {
            async fn prepare(&self, query: &str) -> Result<Statement, Error> {
                let (on, mode, _) = self.on();
                on.prepare(mode, query).await
            }

            async fn execute(
                &self,
                query: &str,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<u64, Error> {
                let (on, mode, origin) = self.on();
                traced(origin, query, on.run(mode, query, None, Execute(params))).await
            }

            async fn query_one(
                &self,
                query: &str,
                cached: Option<&Statement>,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<Row, Error> {
                let (on, mode, origin) = self.on();
                traced(origin, query, on.run(mode, query, cached, One(params))).await
            }

            async fn query_opt(
                &self,
                query: &str,
                cached: Option<&Statement>,
                params: &[&(dyn ToSql + Sync)],
            ) -> Result<Option<Row>, Error> {
                let (on, mode, origin) = self.on();
                traced(origin, query, on.run(mode, query, cached, Opt(params))).await
            }

            async fn query_raw<I>(
                &self,
                query: &str,
                cached: Option<&Statement>,
                params: I,
            ) -> Result<RowStream, Error>
            where
                I: IntoIterator + Sync + Send,
                I::IntoIter: ExactSizeIterator + Send,
                I::Item: BorrowToSql,
            {
                let (on, mode, origin) = self.on();
                traced(origin, query, on.run(mode, query, cached, Raw(params))).await
            }
        }
    };
}

runs_generated_queries!(Client);
runs_generated_queries!(Transaction<'_>);
runs_generated_queries!(SharedClient);

/// Runs `call`, the statement `sql`, in its span (see [`crate::log::SPAN_TARGET`]).
async fn traced<T>(
    origin: &Origin,
    sql: &str,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let span = origin.span(sql);
    let result = call.instrument(span.clone()).await;
    ended(&span, &result);
    result
}
