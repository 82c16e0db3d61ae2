//! Settling a no-transaction file that stopped half-way, once a person has finished or undone
//! it by hand: `bottles migrate resolve VERSION --applied | --rolled-back`.

use std::time::Duration;

use super::files::MigrationSet;
use super::history::{self, db_version, run, step};
use super::lock::with_deploy_lock;
use super::{MigrateError, Progress};
use crate::{Database, Result};

/// What a person did with a half-applied file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Finished it by hand: record it as applied.
    Applied,
    /// Undid it by hand: forget it, so the next `migrate` runs it from its start.
    RolledBack,
}

/// Records how the half-applied file at `version` was settled by hand. Under the deploy lock,
/// so a file still running in another deploy is never taken for stopped; refused, changing
/// nothing, unless that file is half-applied.
pub async fn resolve(
    db: &Database,
    set: &MigrationSet,
    version: u32,
    resolution: Resolution,
    lock_wait: Duration,
    mut progress: impl FnMut(Progress<'_>) + Send,
) -> Result<()> {
    let work = async |_: &mut (dyn FnMut(Progress<'_>) + Send)| {
        let mut client = db.client().await?;
        let rows = history::read(&mut client).await?;
        let row = rows.iter().find(|row| row.version == version);
        let found = match (row, set.get(version)) {
            (Some(row), _) if !row.done => None,
            (Some(_), _) => Some("it is applied"),
            (None, Some(_)) => Some("it is pending: it never started"),
            (None, None) => Some("neither the database nor this binary has it"),
        };
        if let Some(found) = found {
            let found = found.to_string();
            return Err(MigrateError::NotHalfApplied { version, found }.into());
        }
        let tx = client.transaction().await.map_err(step)?;
        let statement = match resolution {
            Resolution::Applied => "resolve_applied",
            Resolution::RolledBack => "resolve_rolled_back",
        };
        run(&tx, statement, &[&db_version(version)]).await?;
        tx.commit().await.map_err(step)
    };
    with_deploy_lock(db, lock_wait, &mut progress, work).await
}
