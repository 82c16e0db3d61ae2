//! `bottles migrate [--dry-run]`, `bottles migrate status`, `bottles migrate check`: the
//! migrations built into this binary, on the database given.

use bottles::Database;
use bottles_core::migrate::{self, MigrateOptions};

use crate::args::{MigrateAction, MigrateArgs};

/// What to print on success, or the error's line. `check` prints each difference on stdout
/// before failing.
pub async fn run(db: &Database, args: &MigrateArgs) -> Result<String, String> {
    let set = bottles::migrations().map_err(|err| err.to_string())?;
    match args.action {
        Some(MigrateAction::Status) => {
            let status = migrate::status(db, set)
                .await
                .map_err(|err| err.to_string())?;
            let mut lines: Vec<String> = status
                .applied
                .iter()
                .map(|row| {
                    let when = row.applied_at.as_deref().unwrap_or("-");
                    let state = if row.done { "applied" } else { "HALF-APPLIED" };
                    format!("{state} {:04}_{}  {when}", row.version, row.name)
                })
                .collect();
            let pending = status.pending.iter();
            lines.extend(pending.map(|(version, name)| format!("pending {version:04}_{name}")));
            if let Some(refusal) = status.refusal {
                lines.push(format!("refused: {refusal}"));
            }
            Ok(lines.join("\n"))
        }
        Some(MigrateAction::Check) => {
            let found = migrate::check(db, bottles::expected_schema())
                .await
                .map_err(|err| err.to_string())?;
            if found.is_empty() {
                let files = match set.len() {
                    1 => "1 file".to_string(),
                    n => format!("{n} files"),
                };
                return Ok(format!(
                    "check: the database has the schema of migrations/ ({files})"
                ));
            }
            for difference in &found {
                println!("{difference}");
            }
            Err(format!(
                "the database differs from what migrations/ produce in {} place(s), listed above",
                found.len()
            ))
        }
        None => {
            let options = MigrateOptions {
                dry_run: args.dry_run,
                ..MigrateOptions::default()
            };
            let report = migrate::migrate(db, set, &options)
                .await
                .map_err(|err| err.to_string())?;
            if args.dry_run {
                let pending = report.pending_sql.iter();
                let shown = pending.map(|(version, name, sql)| {
                    format!("-- would apply {version:04}_{name}\n{}", sql.trim_end())
                });
                let shown: Vec<String> = shown.collect();
                return Ok(if shown.is_empty() {
                    "migrate: nothing to apply".into()
                } else {
                    shown.join("\n\n")
                });
            }
            if report.applied.is_empty() {
                return Ok("migrate: nothing to apply".into());
            }
            let applied = report.applied.iter().map(|applied| {
                format!(
                    "migrate: applied {:04}_{} in {:.2?}",
                    applied.version, applied.name, applied.duration
                )
            });
            Ok(applied.collect::<Vec<_>>().join("\n"))
        }
    }
}
