//! Adopting a database whose tables were made before migrations (by `schema.sql`, or another
//! tool): `bottles migrate baseline` records the files up to the version whose schema the live
//! one is, checked with the drift check, so that `migrate` goes on from there.

use std::time::Duration;

use bottles_schema::{Catalog, Difference, differences};

use super::files::MigrationSet;
use super::history::{self, step};
use super::lock::with_deploy_lock;
use super::{MigrateError, Progress, live_schema};
use crate::{Database, Result};

/// The schema after each file of a set, by version: what `baseline` compares a live schema
/// with (`migrations/schema.json` for the latest, `migrations/versions.json` for the others).
pub type Schemas<'a> = [(u32, &'a Catalog)];

/// What [`baseline`] recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baselined {
    /// The version whose schema the database has: it and every file before it are recorded
    /// as applied.
    pub version: u32,
    /// Later versions whose schema is the same (files that change no schema): left pending.
    pub same_schema: Vec<u32>,
    /// The files left pending, `bottles migrate`'s to apply.
    pub pending: Vec<u32>,
}

/// Records the files of `set` up to `version` as applied (duration 0), on a database with no
/// history, when its live schema is exactly `schemas`' one at `version`. Without a `version`,
/// the earliest version whose schema it is. Refused, changing nothing, when the database has a
/// history, or its schema is not that of the version (each difference named).
pub async fn baseline(
    db: &Database,
    set: &MigrationSet,
    schemas: &Schemas<'_>,
    version: Option<u32>,
    lock_wait: Duration,
    mut progress: impl FnMut(Progress<'_>) + Send,
) -> Result<Baselined> {
    let work = async |_: &mut (dyn FnMut(Progress<'_>) + Send)| {
        let mut client = db.client().await?;
        let rows = history::read(&mut client).await?.len();
        if rows > 0 {
            return Err(MigrateError::HasHistory { rows }.into());
        }
        let live = live_schema(db).await?;
        let adopted = at_version(set, schemas, &live, version)?;
        let tx = client.transaction().await.map_err(step)?;
        history::create(&*tx).await?;
        let applied = set.iter().filter(|m| m.version <= adopted.version);
        history::record_applied(&tx, applied).await?;
        tx.commit().await.map_err(step)?;
        Ok(adopted)
    };
    with_deploy_lock(db, lock_wait, &mut progress, work).await
}

/// The version the live schema is at: `version` if it is that one's, else the earliest whose
/// it is.
fn at_version(
    set: &MigrationSet,
    schemas: &Schemas<'_>,
    live: &Catalog,
    version: Option<u32>,
) -> Result<Baselined, MigrateError> {
    let label = |v: u32| set.get(v).map_or(format!("{v:04}"), |m| m.label());
    let schema_of = |v: u32| schemas.iter().find(|(at, _)| *at == v).map(|(_, s)| *s);
    let differing: Vec<(u32, Vec<Difference>)> = set
        .iter()
        .filter_map(|m| Some((m.version, differences(schema_of(m.version)?, live))))
        .collect();
    let chosen = match version {
        Some(v) => {
            let Some((_, found)) = differing.iter().find(|(at, _)| *at == v) else {
                return Err(MigrateError::NoSuchVersion { version: v });
            };
            if !found.is_empty() {
                let (count, found) = summary(found);
                let label = label(v);
                return Err(MigrateError::NotAtVersion {
                    label,
                    count,
                    found,
                });
            }
            v
        }
        None => match differing.iter().find(|(_, found)| found.is_empty()) {
            Some((v, _)) => *v,
            None => {
                let closest = differing.iter().min_by_key(|(v, found)| (found.len(), *v));
                let (version, found) = closest.ok_or(MigrateError::NoSuchVersion { version: 1 })?;
                let (count, found) = summary(found);
                let closest = label(*version);
                return Err(MigrateError::AtNoVersion {
                    closest,
                    count,
                    found,
                });
            }
        },
    };
    let same_schema = differing
        .iter()
        .skip_while(|(v, _)| *v <= chosen)
        .take_while(|(_, found)| found.is_empty())
        .map(|(v, _)| *v)
        .collect();
    let pending = set
        .iter()
        .map(|m| m.version)
        .filter(|v| *v > chosen)
        .collect();
    Ok(Baselined {
        version: chosen,
        same_schema,
        pending,
    })
}

/// How many differences, and the first five on one line.
fn summary(found: &[Difference]) -> (usize, String) {
    let mut shown: Vec<String> = found.iter().take(5).map(ToString::to_string).collect();
    if found.len() > 5 {
        shown.push(format!("and {} more", found.len() - 5));
    }
    (found.len(), shown.join("; "))
}
