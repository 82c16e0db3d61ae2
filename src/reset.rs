//! `reset`: drop the notebook's tables and create them again from `schema.sql`, atomically.

use bottles_codegen::queries::tables::drop_tables;
use serde::Serialize;

use crate::db::in_transaction;
use crate::echo;
use crate::error::{Error, Result};

/// `schema.sql`, the single source of the tables' definitions.
pub const SCHEMA: &str = include_str!("../schema.sql");

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResetReport {
    pub tables: Vec<&'static str>,
}

/// Drops `message` and `"user"` if they exist and runs `schema.sql`, in one transaction: on any
/// failure the old tables and their rows are still there. Safe to run any number of times.
pub async fn reset(client: &mut deadpool_postgres::Client) -> Result<ResetReport> {
    in_transaction(client, "reset", async |tx| {
        let drop = async { drop_tables().prepare(tx).await?.bind(tx).await };
        echo::timed("drop_tables", &[], drop)
            .await
            .map_err(Error::statement("reset"))?;
        echo::timed("schema.sql", &[], tx.batch_execute(SCHEMA))
            .await
            .map_err(Error::statement("reset"))?;
        Ok(ResetReport {
            tables: vec!["user", "message"],
        })
    })
    .await
}
