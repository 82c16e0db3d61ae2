//! Drift: how a live database differs from the schema its migrations produce, read from the
//! server's catalog and compared with a snapshot shipped with the binary (so a deploy host needs
//! no PostgreSQL server binaries).

use bottles_schema::{Catalog, Difference, differences};

use crate::Database;
use crate::error::{Error, Result};

/// Every difference between `expected` (the snapshot written with the migrations) and the
/// schema of `db` now, one line each: an index or column added by hand, a constraint missing.
pub async fn check(db: &Database, expected: &Catalog) -> Result<Vec<Difference>> {
    let client = db.client().await?;
    let live = bottles_schema::catalog::read(&client)
        .await
        .map_err(|err| Error::Unexpected(err.to_string()))?;
    Ok(differences(expected, &live))
}
