//! `cargo xtask migrations new NAME [--allow-destructive]`, `snapshot` and `--check`.
//!
//! PostgreSQL itself is the parser: on a throwaway server, one scratch database gets every file
//! of `migrations/` applied in order (as `bottles_core::migrate` applies them), another gets
//! `schema.sql`, and their catalogs are compared (`bottles_schema`). `new` writes the plan that
//! takes the first to the second as the next file; `--check` fails while they differ.
//!
//! `new` and `snapshot` also write `migrations/schema.json`, the catalog the migrations
//! produce, which the binaries carry for `bottles migrate check` (drift) on hosts with no
//! server binaries, and `migrations/versions.json`, the catalog after each earlier file, which
//! `bottles migrate baseline` compares a database made before migrations with.

mod replay;

use bottles_schema::{
    Catalog, Difference, DifferenceKind, PlanError, PlanOptions, differences, plan,
};

pub use replay::{Replayed, replay};
use replay::{catalogs, migrations_dir, stored_snapshot, versions_current, write_snapshots};

/// What `cargo xtask migrations --help` prints.
pub const USAGE: &str = "\
usage: cargo xtask migrations new NAME [--allow-destructive]
       cargo xtask migrations snapshot
       cargo xtask migrations --check

  new NAME     plan the DDL from what migrations/ produce to what schema.sql produces (both
               applied to scratch databases on a throwaway PostgreSQL), write it as the next
               migrations/NNNN_NAME.sql, and rewrite schema.json and versions.json;
               destructive steps need --allow-destructive
  snapshot     rewrite migrations/schema.json and versions.json from migrations/, which must
               already produce schema.sql's schema (after a migration written by hand)
  --check      fail unless migrations/ replayed give exactly schema.sql's schema and the
               snapshots are current (CI, and cargo test)";

/// Why a command did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The command line is wrong: the message, to print as it is (exit 2).
    Usage(String),
    /// The command failed: one line (exit 1).
    Failed(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Failed(message)
    }
}

/// The command line after `migrations`.
pub fn run(args: &[String]) -> Result<String, Failure> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["-h" | "--help" | "help"] | ["new" | "snapshot", "-h" | "--help"] => Ok(USAGE.into()),
        ["--check"] => Ok(check()?),
        ["snapshot"] => Ok(snapshot()?),
        ["new", name] => Ok(new(name, false)?),
        ["new", name, "--allow-destructive"] | ["new", "--allow-destructive", name] => {
            Ok(new(name, true)?)
        }
        _ => Err(Failure::Usage(format!(
            "{USAGE}\n\n(see `cargo xtask migrations --help`)"
        ))),
    }
}

fn check() -> Result<String, String> {
    verdict(&catalogs()?)
}

/// `--check`'s answer on what [`replay`] found: the files must produce `schema.sql`'s schema,
/// and `migrations/schema.json` and `versions.json` must be current.
pub fn verdict(found: &Replayed) -> Result<String, String> {
    if differences(&found.declared, &found.replayed).is_empty() {
        let current = stored_snapshot()
            .is_some_and(|stored| differences(&found.declared, &stored).is_empty());
        if !current || !versions_current(found.earlier()) {
            let which = if current {
                "versions.json"
            } else {
                "schema.json"
            };
            return Err(format!(
                "migrations/{which} is missing or stale; run `cargo xtask migrations snapshot` \
                 (it rewrites it from migrations/)"
            ));
        }
        return Ok(format!(
            "migrations/ ({}) produce schema.sql's schema; schema.json and versions.json are current",
            files(found.set.len())
        ));
    }
    Err(mismatch(found, stored_snapshot().as_ref()))
}

/// What differs between `schema.sql` and `migrations/`, which side changed since the
/// snapshot was written, and what to do about it, on one line.
fn mismatch(found: &Replayed, snapshot: Option<&Catalog>) -> String {
    let lines: Vec<String> = differences(&found.declared, &found.replayed)
        .iter()
        .map(between)
        .collect();
    let lines = lines.join("; ");
    let same = |catalog: &Catalog| snapshot.is_some_and(|s| differences(s, catalog).is_empty());
    let what = match (same(&found.declared), same(&found.replayed)) {
        // schema.sql is what the snapshot recorded: the files changed.
        (true, false) => {
            return format!(
                "migrations/ no longer produce the schema recorded in schema.json, which \
                 schema.sql still has ({lines}): was a migration file edited or removed? A file \
                 applied anywhere must not change: restore it, and put the change in a new file \
                 (one applied nowhere yet may be fixed, then `cargo xtask migrations snapshot`)"
            );
        }
        (false, true) => "schema.sql changed without a migration",
        _ => "schema.sql and what migrations/ produce differ",
    };
    let todo = match plan(&found.replayed, &found.declared, &PlanOptions::default()) {
        Ok(_) => "run `cargo xtask migrations new NAME`".to_string(),
        Err(PlanError::Destructive { .. }) => "run `cargo xtask migrations new NAME \
            --allow-destructive` if the drop is meant; a rename reads as a drop and an add: \
            write it by hand (README: Renames), then run `cargo xtask migrations snapshot`"
            .to_string(),
        Err(refusal) => format!(
            "{refusal}, then run `cargo xtask migrations snapshot` (`migrations new` cannot \
             plan it)"
        ),
    };
    format!("{what} ({lines}); {todo}")
}

/// A difference between `schema.sql` (expected) and `migrations/` (found), in those words.
fn between(difference: &Difference) -> String {
    let object = &difference.object;
    match difference.kind {
        DifferenceKind::Missing => format!("{object}: in schema.sql, not made by migrations/"),
        DifferenceKind::Unexpected => format!("{object}: made by migrations/, not in schema.sql"),
        DifferenceKind::Changed => format!(
            "{object}: {}",
            difference
                .detail
                .replace("expected ", "schema.sql: ")
                .replace(", found ", "; migrations/: ")
        ),
    }
}

fn files(count: usize) -> String {
    match count {
        1 => "1 file".to_string(),
        n => format!("{n} files"),
    }
}

/// Rewrites the snapshots from `migrations/`, once they produce `schema.sql`'s schema.
fn snapshot() -> Result<String, String> {
    let found = catalogs()?;
    if !differences(&found.declared, &found.replayed).is_empty() {
        return Err(mismatch(&found, stored_snapshot().as_ref()));
    }
    write_snapshots(&found.replayed, found.earlier())?;
    Ok(format!(
        "migrations/ ({}) produce schema.sql's schema; schema.json and versions.json rewritten",
        files(found.set.len())
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
    let found = catalogs()?;
    let options = PlanOptions {
        allow_destructive,
        ..PlanOptions::default()
    };
    let planned =
        plan(&found.replayed, &found.declared, &options).map_err(|err| err.to_string())?;
    if planned.is_empty() {
        write_snapshots(&found.declared, found.earlier())?;
        return Ok("nothing to do: migrations/ already produce schema.sql's schema (schema.json and versions.json rewritten)".into());
    }
    // With a new file, every file so far is an earlier version.
    write_snapshots(&found.declared, &found.versions)?;
    let version = found.set.latest().map_or(1, |latest| latest.version + 1);
    let path = migrations_dir().join(format!("{version:04}_{name}.sql"));
    std::fs::write(&path, planned.render()).map_err(|err| format!("{}: {err}", path.display()))?;
    // As `cargo xtask codegen` names what it wrote: from the repository's root.
    let shown = path.strip_prefix(crate::repo_root()).unwrap_or(&path);
    Ok(shown.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_is_usage_and_a_wrong_command_line_a_usage_error() {
        for help in [&["--help"][..], &["-h"], &["help"], &["new", "--help"]] {
            let args: Vec<String> = help.iter().map(|a| a.to_string()).collect();
            assert_eq!(run(&args), Ok(USAGE.to_string()), "{help:?}");
        }
        for wrong in [&[][..], &["new"], &["neu", "x"], &["--check", "extra"]] {
            let args: Vec<String> = wrong.iter().map(|a| a.to_string()).collect();
            assert!(matches!(run(&args), Err(Failure::Usage(_))), "{wrong:?}");
        }
    }
}
