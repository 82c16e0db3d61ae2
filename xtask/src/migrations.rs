//! `cargo xtask migrations new NAME [--allow-destructive]` and `cargo xtask migrations --check`.
//!
//! PostgreSQL itself is the parser: on a throwaway server, one scratch database gets every file
//! of `migrations/` applied in order (as `bottles_core::migrate` applies them), another gets
//! `schema.sql`, and their catalogs are compared (`bottles_schema`). `new` writes the plan that
//! takes the first to the second as the next file; `--check` fails while they differ.
//!
//! `new` also writes `migrations/schema.json`, the catalog the migrations produce, which the
//! binaries carry for `bottles migrate check` (drift) on hosts with no server binaries, and
//! `migrations/versions.json`, the catalog after each earlier file, which `bottles migrate
//! baseline` compares a database made before migrations with.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bottles_core::migrate::{MigrateOptions, MigrationSet, migrate};
use bottles_schema::{Catalog, PlanOptions, differences, plan};
use throwaway_pg::LocalServer;

const USAGE: &str =
    "usage: cargo xtask migrations new NAME [--allow-destructive] | cargo xtask migrations --check";

/// The command line after `migrations`.
pub fn run(args: &[String]) -> Result<String, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["--check"] => check(),
        ["new", name] => new(name, false),
        ["new", name, "--allow-destructive"] | ["new", "--allow-destructive", name] => {
            new(name, true)
        }
        _ => Err(USAGE.into()),
    }
}

fn migrations_dir() -> PathBuf {
    crate::repo_root().join("migrations")
}

fn snapshot_path() -> PathBuf {
    migrations_dir().join("schema.json")
}

fn versions_path() -> PathBuf {
    migrations_dir().join("versions.json")
}

/// `schema.json`, the latest schema, and `versions.json`, each earlier file's (label → catalog).
fn write_snapshots(latest: &Catalog, earlier: &[(String, Catalog)]) -> Result<(), String> {
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
fn versions_current(earlier: &[(String, Catalog)]) -> bool {
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
fn catalogs() -> Result<Replayed, String> {
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

fn check() -> Result<String, String> {
    verdict(&catalogs()?)
}

/// `--check`'s answer on what [`replay`] found: the files must produce `schema.sql`'s schema,
/// and `migrations/schema.json` must be that schema.
pub fn verdict(found: &Replayed) -> Result<String, String> {
    let Replayed {
        replayed,
        versions,
        declared,
        set,
    } = found;
    let found = differences(declared, replayed);
    if found.is_empty() {
        let snapshot = std::fs::read_to_string(snapshot_path()).unwrap_or_default();
        let current = serde_json::from_str::<Catalog>(&snapshot)
            .is_ok_and(|snapshot| differences(declared, &snapshot).is_empty());
        if !current {
            return Err("migrations/schema.json is missing or stale; run `cargo xtask migrations new NAME` (it rewrites it)".into());
        }
        if !versions_current(&versions[..versions.len().saturating_sub(1)]) {
            return Err("migrations/versions.json is missing or stale; run `cargo xtask migrations new NAME` (it rewrites it)".into());
        }
        let files = match set.len() {
            1 => "1 file".to_string(),
            n => format!("{n} files"),
        };
        return Ok(format!(
            "migrations/ ({files}) produce schema.sql's schema; schema.json is current"
        ));
    }
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    Err(format!(
        "schema.sql changed without a migration ({}); run `cargo xtask migrations new NAME`",
        lines.join("; ")
    ))
}

fn new(name: &str, allow_destructive: bool) -> Result<String, String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!(
            "invalid migration name {name:?}: use lowercase letters, digits and _"
        ));
    }
    let Replayed {
        replayed,
        versions,
        declared,
        set,
    } = catalogs()?;
    let options = PlanOptions {
        allow_destructive,
        ..PlanOptions::default()
    };
    let planned = plan(&replayed, &declared, &options).map_err(|err| err.to_string())?;
    // With a new file, every file so far is an earlier version; without, all but the last.
    let earlier = match planned.is_empty() {
        true => &versions[..versions.len().saturating_sub(1)],
        false => &versions[..],
    };
    write_snapshots(&declared, earlier)?;
    if planned.is_empty() {
        return Ok("nothing to do: migrations/ already produce schema.sql's schema (schema.json rewritten)".into());
    }
    let version = set.latest().map_or(1, |latest| latest.version + 1);
    let path = migrations_dir().join(format!("{version:04}_{name}.sql"));
    std::fs::write(&path, planned.render()).map_err(|err| format!("{}: {err}", path.display()))?;
    Ok(path.display().to_string())
}
