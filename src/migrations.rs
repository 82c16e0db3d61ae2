//! The notebook's migrations (`migrations/`, built into the binary by `build.rs`) and the
//! schema they produce (`migrations/schema.json`, written by `cargo xtask migrations new`), for
//! `bottles migrate` and its drift check; and the schema after each earlier file
//! (`migrations/versions.json`), for `bottles migrate baseline`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use bottles_core::migrate::{Catalog, MigrateError, MigrationSet};

/// Every file of `migrations/`: (file name, text).
const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/migration_sources.rs"));
/// The catalog the migrations produce.
const SNAPSHOT: &str = include_str!("../migrations/schema.json");
/// The catalog after each earlier file, by label.
const VERSIONS: &str = include_str!("../migrations/versions.json");

static MIGRATIONS: LazyLock<Result<MigrationSet, MigrateError>> =
    LazyLock::new(|| MigrationSet::from_files(FILES));

/// The notebook's migrations, in order. An error only if a file was named wrongly (the tests
/// and `cargo xtask migrations --check` catch that before a build ships).
pub fn migrations() -> Result<&'static MigrationSet, MigrateError> {
    MIGRATIONS.as_ref().map_err(Clone::clone)
}

static EXPECTED: LazyLock<Catalog> = LazyLock::new(|| {
    serde_json::from_str(SNAPSHOT).expect("migrations/schema.json is written by cargo xtask")
});

/// The schema `migrations/` produce (and `schema.sql` declares: CI checks they agree), for
/// [`bottles_core::migrate::check`] and for what `reset` drops.
pub fn expected_schema() -> &'static Catalog {
    &EXPECTED
}

static SCHEMAS: LazyLock<Vec<(u32, Catalog)>> = LazyLock::new(|| {
    let earlier: BTreeMap<String, Catalog> =
        serde_json::from_str(VERSIONS).expect("migrations/versions.json is written by cargo xtask");
    let mut schemas: Vec<(u32, Catalog)> = earlier
        .into_iter()
        .filter_map(|(label, catalog)| Some((label.get(..4)?.parse().ok()?, catalog)))
        .collect();
    if let Ok(set) = migrations()
        && let Some(latest) = set.latest()
    {
        schemas.push((latest.version, expected_schema().clone()));
    }
    schemas
});

/// The schema after each file of [`migrations()`], by version, the latest's being
/// [`expected_schema`]: what [`bottles_core::migrate::baseline`] compares a database made
/// before migrations with.
pub fn schemas() -> Vec<(u32, &'static Catalog)> {
    SCHEMAS
        .iter()
        .map(|(version, catalog)| (*version, catalog))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_built_in_migrations_and_their_snapshot_read() {
        let set = super::migrations().expect("well-named files");
        assert_eq!(
            set.iter().next().map(|m| m.label()),
            Some("0001_baseline".into())
        );
        assert!(super::expected_schema().table("message").is_some());
        let versions: Vec<u32> = super::schemas().iter().map(|(v, _)| *v).collect();
        let files: Vec<u32> = set.iter().map(|m| m.version).collect();
        assert_eq!(versions, files, "a schema for every file");
    }
}
