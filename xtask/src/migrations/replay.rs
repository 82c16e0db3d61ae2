//! `migrations/` replayed and `schema.sql` loaded into scratch databases, their catalogs read;
//! and the snapshots the binaries carry (`schema.json`, `versions.json`), read and written.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bottles_core::migrate::{MigrateOptions, MigrationSet, migrate};
use bottles_schema::{Catalog, differences};
use throwaway_pg::LocalServer;

pub(super) fn migrations_dir() -> PathBuf {
    crate::repo_root().join("migrations")
}

pub(super) fn snapshot_path() -> PathBuf {
    migrations_dir().join("schema.json")
}

pub(super) fn versions_path() -> PathBuf {
    migrations_dir().join("versions.json")
}

/// `schema.json`, the latest schema, and `versions.json`, each earlier file's (label → catalog).
pub(super) fn write_snapshots(
    latest: &Catalog,
    earlier: &[(String, Catalog)],
) -> Result<(), String> {
    let earlier: BTreeMap<&str, &Catalog> = earlier.iter().map(|(l, c)| (l.as_str(), c)).collect();
    for (path, text) in [
        (snapshot_path(), serde_json::to_string_pretty(latest)),
        (versions_path(), serde_json::to_string_pretty(&earlier)),
    ] {
        let text = text.map_err(|err| err.to_string())? + "\n";
        std::fs::write(&path, text).map_err(|err| format!("{}: {err}", path.display()))?;
    }
    Ok(())
}

/// Whether `versions.json` holds exactly `earlier`.
pub(super) fn versions_current(earlier: &[(String, Catalog)]) -> bool {
    let text = std::fs::read_to_string(versions_path()).unwrap_or_default();
    let Ok(stored) = serde_json::from_str::<BTreeMap<String, Catalog>>(&text) else {
        return false;
    };
    stored.len() == earlier.len()
        && earlier.iter().all(|(label, catalog)| {
            stored
                .get(label)
                .is_some_and(|s| differences(catalog, s).is_empty())
        })
}

/// `migrations/*.sql` as (file name, text), in name order.
fn files() -> Result<Vec<(String, String)>, String> {
    let dir = migrations_dir();
    let entries = std::fs::read_dir(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "sql") {
            let text = std::fs::read_to_string(&path)
                .map_err(|err| format!("{}: {err}", path.display()))?;
            files.push((entry.file_name().to_string_lossy().into_owned(), text));
        }
    }
    files.sort();
    Ok(files)
}

/// The catalog `migrations/` produce, the one `schema.sql` produces, and the files.
#[derive(Debug, Clone)]
pub struct Replayed {
    /// What replaying `migrations/` in order gives.
    pub replayed: Catalog,
    /// The schema after each file, by label (`0001_baseline`), in order: the last is
    /// `replayed`.
    pub versions: Vec<(String, Catalog)>,
    /// What loading `schema.sql` gives.
    pub declared: Catalog,
    /// The files.
    pub set: MigrationSet,
}

/// Replays `migrations/` (as `bottles migrate` applies them) into the empty database at
/// `replayed_url` and loads `schema.sql` into the one at `declared_url`, and reads both
/// catalogs.
pub async fn replay(replayed_url: &str, declared_url: &str) -> Result<Replayed, String> {
    let files = files()?;
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let set = MigrationSet::from_files(&borrowed).map_err(|err| err.to_string())?;
    let schema = std::fs::read_to_string(crate::repo_root().join("schema.sql"))
        .map_err(|err| format!("schema.sql: {err}"))?;
    let db = bottles_core::Database::open(Some(replayed_url))
        .await
        .map_err(|err| err.to_string())?;
    // One file at a time (files are named in version order), the schema read after each.
    let mut versions = Vec::new();
    for (count, migration) in set.iter().enumerate() {
        let first = MigrationSet::from_files(&borrowed[..=count]).map_err(|err| err.to_string())?;
        migrate(&db, &first, &MigrateOptions::default())
            .await
            .map_err(|err| format!("replaying migrations/: {err}"))?;
        let client = db.client().await.map_err(|err| err.to_string())?;
        let catalog = bottles_schema::catalog::read(&client)
            .await
            .map_err(|err| err.to_string())?;
        versions.push((migration.label(), catalog));
    }
    let replayed = versions.last().map(|(_, c)| c.clone()).unwrap_or_default();
    let (declared_client, connection) =
        tokio_postgres::connect(declared_url, tokio_postgres::NoTls)
            .await
            .map_err(|err| err.to_string())?;
    tokio::spawn(connection);
    declared_client
        .batch_execute(&schema)
        .await
        .map_err(|err| format!("schema.sql: {}", bottles_core::message(&err)))?;
    let declared = bottles_schema::catalog::read(&declared_client)
        .await
        .map_err(|err| err.to_string())?;
    Ok(Replayed {
        replayed,
        versions,
        declared,
        set,
    })
}

/// [`replay`] on two scratch databases of a throwaway server.
pub(super) fn catalogs() -> Result<Replayed, String> {
    let server = LocalServer::start().map_err(|err| err.to_string())?;
    for database in ["replayed", "declared"] {
        server
            .sql(&format!("CREATE DATABASE {database}"))
            .map_err(|err| err.to_string())?;
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|err| err.to_string())?;
    runtime.block_on(replay(
        &server.url_for("replayed"),
        &server.url_for("declared"),
    ))
}

/// `schema.json`, when there is one that reads.
pub(super) fn stored_snapshot() -> Option<Catalog> {
    let text = std::fs::read_to_string(snapshot_path()).ok()?;
    serde_json::from_str(&text).ok()
}

impl Replayed {
    /// The schema after each file but the last.
    pub fn earlier(&self) -> &[(String, Catalog)] {
        &self.versions[..self.versions.len().saturating_sub(1)]
    }
}
