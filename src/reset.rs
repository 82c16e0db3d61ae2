//! `reset`: drop what `schema.sql` declares and create it again, atomically, at the latest
//! migration.

use bottles_core::migrate::{forget_history, record_all_applied, refuse_newer, teardown};
use serde::Serialize;
use tokio_postgres::error::SqlState;

use crate::Client;
use crate::error::{Error, Result};
use crate::migrations::{expected_schema, migrations};
use crate::statements::SCHEMA;

/// What [`reset`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResetReport {
    /// The tables dropped and created, by name.
    pub tables: Vec<String>,
    /// The migration the database is now recorded at (`0001_baseline`), or `None` after
    /// [`reset_with_schema`], which keeps no history.
    pub version: Option<String>,
}

/// Drops every table, view, sequence and enum type of `schema.sql` that exists and runs
/// `schema.sql`, in one transaction, with every file of `migrations/` recorded as applied in
/// `bottles_migrations`: on any failure the old objects, their rows and the old history are
/// still there. A database at a migration this binary lacks (a newer binary's) is refused. Safe to run any number of times; objects `schema.sql` does not declare are
/// left alone (and one that depends on a dropped object makes the reset fail, changing
/// nothing).
pub async fn reset(client: &mut Client) -> Result<ResetReport> {
    reset_with(client, SCHEMA, true).await
}

/// [`reset`] with DDL of your own in place of `schema.sql`: the same objects laid out
/// differently, such as `docs/scale-out.sql` (`message` hash-partitioned by `user_id`, the
/// layout Citus needs). Every query in `queries/` must still work on it. That is not what
/// `migrations/` produce, so the history table is dropped, not filled in.
pub async fn reset_with_schema(client: &mut Client, schema: &str) -> Result<ResetReport> {
    reset_with(client, schema, schema == SCHEMA).await
}

async fn reset_with(client: &mut Client, schema: &str, record: bool) -> Result<ResetReport> {
    let failed = Error::statement;
    let declared = expected_schema();
    let set = migrations().map_err(bottles_core::Error::from)?;
    let transaction = client.transaction().await.map_err(failed("reset"))?;
    refuse_newer(&transaction, set).await?;
    transaction
        .batch_execute(&teardown(declared))
        .await
        .map_err(failed("reset"))?;
    transaction.batch_execute(schema).await.map_err(|err| {
        // Objects the teardown cannot drop, since the catalog does not model them.
        let duplicate = [
            SqlState::DUPLICATE_SCHEMA,
            SqlState::DUPLICATE_FUNCTION,
            SqlState::DUPLICATE_OBJECT,
            SqlState::DUPLICATE_TABLE,
        ];
        match err.code() {
            Some(code) if duplicate.contains(code) => Error::NotDropped(err),
            _ => failed("reset")(err),
        }
    })?;
    match record {
        true => record_all_applied(&transaction, set).await?,
        false => forget_history(&transaction).await?,
    }
    transaction.commit().await.map_err(failed("reset"))?;
    Ok(ResetReport {
        tables: declared.tables.iter().map(|t| t.name.clone()).collect(),
        version: record
            .then(|| set.iter().last().map(|m| m.label()))
            .flatten(),
    })
}
