//! [`generic_client!`]: how a cornucopia-generated crate runs its queries on the core's
//! clients. cornucopia defines the `GenericClient` trait inside each crate it generates, so
//! the impls must live there too (a trait and a type both foreign to a third crate cannot meet
//! in it). A one-line file of the application's, copied into the generated crate by
//! cornucopia's `static` setting, invokes this macro; the generated code is not touched.

/// Implements a generated crate's `GenericClient` for [`crate::Client`],
/// [`crate::Transaction`] and [`crate::SharedClient`]. Invoke it inside the generated crate,
/// with no arguments (the trait at `crate::client::async_::GenericClient`, where cornucopia
/// puts it) or with the trait's path. See the crate's documentation for the `cornucopia.toml`
/// lines that put it there.
// `crate` in the default path is meant: the trait is the calling (generated) crate's.
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! generic_client {
    () => {
        $crate::generic_client!(crate::client::async_::GenericClient);
    };
    ($trait:path) => {
        $crate::generic_client!(@impl $trait, $crate::Client);
        $crate::generic_client!(@impl $trait, $crate::Transaction<'_>);
        $crate::generic_client!(@impl $trait, $crate::SharedClient);
    };
    (@impl $trait:path, $type:ty) => {
        impl $trait for $type {
            // Directly connected, the generated code prepares (through the cache) before each
            // query; behind a pooler it hands over the SQL to run unprepared.
            fn stmt_cache() -> bool {
                $crate::__private::prepared_statements()
            }

            async fn prepare(
                &self,
                query: &str,
            ) -> Result<$crate::__private::Statement, $crate::__private::Error> {
                self.prepare_statement(query).await
            }

            async fn execute<T>(
                &self,
                query: &T,
                params: &[&(dyn $crate::__private::ToSql + Sync)],
            ) -> Result<u64, $crate::__private::Error>
            where
                T: ?Sized + $crate::__private::ToStatement + Sync + Send,
            {
                let now = $crate::__private::Reads::Now;
                self.call(now, async |c| c.execute(query, params).await).await
            }

            async fn query_one<T>(
                &self,
                statement: &T,
                params: &[&(dyn $crate::__private::ToSql + Sync)],
            ) -> Result<$crate::__private::Row, $crate::__private::Error>
            where
                T: ?Sized + $crate::__private::ToStatement + Sync + Send,
            {
                let now = $crate::__private::Reads::Now;
                self.call(now, async |c| c.query_one(statement, params).await).await
            }

            async fn query_opt<T>(
                &self,
                statement: &T,
                params: &[&(dyn $crate::__private::ToSql + Sync)],
            ) -> Result<Option<$crate::__private::Row>, $crate::__private::Error>
            where
                T: ?Sized + $crate::__private::ToStatement + Sync + Send,
            {
                let now = $crate::__private::Reads::Now;
                self.call(now, async |c| c.query_opt(statement, params).await).await
            }

            async fn query<T>(
                &self,
                query: &T,
                params: &[&(dyn $crate::__private::ToSql + Sync)],
            ) -> Result<Vec<$crate::__private::Row>, $crate::__private::Error>
            where
                T: ?Sized + $crate::__private::ToStatement + Sync + Send,
            {
                let now = $crate::__private::Reads::Now;
                self.call(now, async |c| c.query(query, params).await).await
            }

            async fn query_raw<T, I>(
                &self,
                statement: &T,
                params: I,
            ) -> Result<$crate::__private::RowStream, $crate::__private::Error>
            where
                T: ?Sized + $crate::__private::ToStatement + Sync + Send,
                I: IntoIterator + Sync + Send,
                I::IntoIter: ExactSizeIterator,
                I::Item: $crate::__private::BorrowToSql,
            {
                let later = $crate::__private::Reads::Later;
                self.call(later, async |c| c.query_raw(statement, params).await).await
            }
        }
    };
}
