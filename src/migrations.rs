//! The notebook's migrations (`migrations/`, built into the binary by `build.rs`) and the
//! schema they produce (`migrations/schema.json`, written by `cargo xtask migrations new`), for
//! `bottles migrate` and its drift check.

use std::sync::LazyLock;

use bottles_core::migrate::{Catalog, MigrateError, MigrationSet};

/// Every file of `migrations/`: (file name, text).
const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/migration_sources.rs"));
/// The catalog the migrations produce.
const SNAPSHOT: &str = include_str!("../migrations/schema.json");

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
    }
}
