//! The four calls generated queries make (execute, one row, an optional row, a row stream),
//! each on a prepared statement or unnamed with its parameter types.

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio_postgres::types::{BorrowToSql, ToSql, Type};
use tokio_postgres::{Client, Error, Row, RowStream, Statement};

use crate::pooler::Op;

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The parameters with the types an unnamed statement is sent with.
fn typed<'a>(params: Params<'a>, types: &[Type]) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    params.iter().copied().zip(types.iter().cloned()).collect()
}

pub(crate) struct Execute<'a>(pub Params<'a>);
pub(crate) struct One<'a>(pub Params<'a>);
pub(crate) struct Opt<'a>(pub Params<'a>);
pub(crate) struct Raw<I>(pub I);

/// Implements [`Op`] for a call on a slice of parameters: `$prepared` and `$unnamed` are the
/// tokio-postgres methods for each way.
macro_rules! sliced {
    ($op:ident, $output:ty, $prepared:ident, $unnamed:ident) => {
        impl Op for $op<'_> {
            type Output = $output;

            fn prepared<'c>(
                self,
                client: &'c Client,
                statement: &'c Statement,
            ) -> BoxFuture<'c, Result<$output, Error>>
            where
                Self: 'c,
            {
                client.$prepared(statement, self.0).boxed()
            }

            fn unnamed<'c>(
                self,
                client: &'c Client,
                sql: &'c str,
                types: &'c [Type],
            ) -> BoxFuture<'c, Result<$output, Error>>
            where
                Self: 'c,
            {
                async move { client.$unnamed(sql, &typed(self.0, types)).await }.boxed()
            }
        }
    };
}

sliced!(Execute, u64, execute, execute_typed);
sliced!(One, Row, query_one, query_typed_one);
sliced!(Opt, Option<Row>, query_opt, query_typed_opt);

impl<I> Op for Raw<I>
where
    I: IntoIterator + Send,
    I::IntoIter: ExactSizeIterator + Send,
    I::Item: BorrowToSql,
{
    type Output = RowStream;
    const LATER: bool = true;

    fn prepared<'c>(
        self,
        client: &'c Client,
        statement: &'c Statement,
    ) -> BoxFuture<'c, Result<RowStream, Error>>
    where
        Self: 'c,
    {
        client.query_raw(statement, self.0).boxed()
    }

    fn unnamed<'c>(
        self,
        client: &'c Client,
        sql: &'c str,
        types: &'c [Type],
    ) -> BoxFuture<'c, Result<RowStream, Error>>
    where
        Self: 'c,
    {
        let params = self.0.into_iter().zip(types.iter().cloned());
        client.query_typed_raw(sql, params).boxed()
    }
}
