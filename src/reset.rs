//! `reset`: drop the notebook's tables and create them again from `schema.sql`, atomically.

use bottles_codegen::queries::tables::drop_tables;
use serde::Serialize;

use crate::Client;
use crate::error::{Error, Result};
use crate::statements::SCHEMA;

/// What [`reset`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResetReport {
    /// The tables dropped and created, in `schema.sql`'s order.
    pub tables: Vec<&'static str>,
}

/// Drops `message` and `"user"` if they exist and runs `schema.sql`, in one transaction: on any
/// failure the old tables and their rows are still there. Safe to run any number of times.
pub async fn reset(client: &mut Client) -> Result<ResetReport> {
    reset_with_schema(client, SCHEMA).await
}

/// [`reset`] with DDL of your own in place of `schema.sql`: the same two tables laid out
/// differently, such as `docs/scale-out.sql` (`message` hash-partitioned by `user_id`, the
/// layout Citus needs). Every query in `queries/` must still work on it.
pub async fn reset_with_schema(client: &mut Client, schema: &str) -> Result<ResetReport> {
    let failed = Error::statement;
    let transaction = client.transaction().await.map_err(failed("reset"))?;
    drop_tables()
        .bind(&transaction)
        .await
        .map_err(failed("reset"))?;
    transaction
        .batch_execute(schema)
        .await
        .map_err(failed("reset"))?;
    transaction.commit().await.map_err(failed("reset"))?;
    Ok(ResetReport {
        tables: vec!["user", "message"],
    })
}
