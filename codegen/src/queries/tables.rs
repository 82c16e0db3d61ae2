// This file was generated with `cornucopia`. Do not modify.

use crate::client::async_::GenericClient;
use futures::{self, StreamExt, TryStreamExt};
pub struct DropTablesStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn drop_tables() -> DropTablesStmt {
    DropTablesStmt("DROP TABLE IF EXISTS message, \"user\"", None)
}
impl DropTablesStmt {
    pub async fn prepare<'a, C: GenericClient>(
        mut self,
        client: &'a C,
    ) -> Result<Self, tokio_postgres::Error> {
        self.1 = Some(client.prepare(self.0).await?);
        Ok(self)
    }
    pub async fn bind<'c, 'a, 's, C: GenericClient>(
        &'s self,
        client: &'c C,
    ) -> Result<u64, tokio_postgres::Error> {
        client.execute(self.0, &[]).await
    }
}
pub struct LockTablesStmt(&'static str, Option<tokio_postgres::Statement>);
pub fn lock_tables() -> LockTablesStmt {
    LockTablesStmt(
        "LOCK TABLE \"user\", message IN SHARE ROW EXCLUSIVE MODE",
        None,
    )
}
impl LockTablesStmt {
    pub async fn prepare<'a, C: GenericClient>(
        mut self,
        client: &'a C,
    ) -> Result<Self, tokio_postgres::Error> {
        self.1 = Some(client.prepare(self.0).await?);
        Ok(self)
    }
    pub async fn bind<'c, 'a, 's, C: GenericClient>(
        &'s self,
        client: &'c C,
    ) -> Result<u64, tokio_postgres::Error> {
        client.execute(self.0, &[]).await
    }
}
