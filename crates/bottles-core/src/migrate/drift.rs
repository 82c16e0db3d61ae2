//! Drift: how a live database differs from the schema its migrations produce, read from the
//! server's catalog and compared with a snapshot shipped with the binary (so a deploy host needs
//! no PostgreSQL server binaries). Only a database at the snapshot's version is compared: with
//! files pending, or a history the files refuse, the schema is not expected to match.

use bottles_schema::{Catalog, Difference, differences};

use super::{MigrateError, MigrationSet, status};
use crate::Database;
use crate::error::{Error, Result};

/// What [`check`] found.
#[derive(Debug, Clone)]
pub enum Checked {
    /// The history disagrees with the files (a half-applied file, an edited one, …), so the
    /// schema was not compared.
    Refused(MigrateError),
    /// These files (`(version, name)`) are not applied yet, so the schema was not compared;
    /// `no_history` when the database has no migration history at all.
    Pending {
        /// The files not applied yet, in order.
        files: Vec<(u32, String)>,
        /// The database has no history table, or an empty one.
        no_history: bool,
    },
    /// Every file applied: every difference between the snapshot and the live schema, one
    /// line each (none: the database has the schema).
    Compared(Vec<Difference>),
}

/// Compares `db` with `expected` (the snapshot written with the migrations of `set`), once
/// every file of `set` is applied: an index or column added by hand, a constraint missing.
pub async fn check(db: &Database, set: &MigrationSet, expected: &Catalog) -> Result<Checked> {
    let status = status(db, set).await?;
    if let Some(refusal) = status.refusal {
        return Ok(Checked::Refused(refusal));
    }
    if !status.pending.is_empty() {
        return Ok(Checked::Pending {
            files: status.pending,
            no_history: status.applied.is_empty(),
        });
    }
    Ok(Checked::Compared(differences(
        expected,
        &live_schema(db).await?,
    )))
}

/// The schema of `db` now.
pub async fn live_schema(db: &Database) -> Result<Catalog> {
    let client = db.client().await?;
    bottles_schema::catalog::read(&client)
        .await
        .map_err(|err| Error::Unexpected(err.to_string()))
}
