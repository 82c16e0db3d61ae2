//! `bottles migrate [--dry-run]`, `migrate status`, `migrate check`, `migrate resolve`: the
//! migrations built into this binary, on the database given. Progress goes to stderr as it
//! happens, each file applied to stdout as soon as it is.

use std::io::Write;
use std::time::Duration;

use bottles::Database;
use bottles::cli::say;
use bottles_core::migrate::{
    self, Checked, MigrateOptions, MigrationSet, Progress, Resolution, Status,
};

use crate::args::{BaselineArgs, MigrateAction, MigrateArgs, ResolveArgs};
use crate::failed::Failed;

/// `migrate check`'s exit code while files are pending: not drift, and not an error.
pub const PENDING: u8 = 3;

/// What to print on success, or the error's line and exit code. `check` prints each
/// difference, and `status` its list, on stdout before failing.
pub async fn run(db: &Database, args: &MigrateArgs) -> Result<String, Failed> {
    let set = bottles::migrations().map_err(|err| Failed::from(err.to_string()))?;
    match &args.action {
        Some(MigrateAction::Status) => status(db, set).await,
        Some(MigrateAction::Check) => check(db, set).await,
        Some(MigrateAction::Resolve(resolve)) => resolved(db, set, resolve, args.lock_wait).await,
        Some(MigrateAction::Baseline(baseline)) => adopt(db, set, baseline, args.lock_wait).await,
        None => apply(db, set, args).await,
    }
}

async fn apply(db: &Database, set: &MigrationSet, args: &MigrateArgs) -> Result<String, Failed> {
    let options = MigrateOptions {
        dry_run: args.dry_run,
        lock_wait: args.lock_wait,
        ..MigrateOptions::default()
    };
    let report = migrate::migrate_with_progress(db, set, &options, show_progress)
        .await
        .map_err(|err| Failed::from(err.to_string()))?;
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
    // Each applied file was printed as it was applied.
    Ok(match report.applied.is_empty() {
        true => "migrate: nothing to apply".into(),
        false => String::new(),
    })
}

/// Progress on stderr; each file applied on stdout at once, so a run that fails later still
/// shows what it applied.
fn show_progress(progress: Progress<'_>) {
    match progress {
        Progress::Waiting { pid, at_most } => {
            let holder = pid.map_or(String::new(), |pid| format!(" (server process {pid})"));
            say(&format!(
                "migrate: another deploy holds the migration lock{holder}: waiting for it, at most {}",
                shown(at_most)
            ));
        }
        Progress::Applying { migration } if migration.outside_transaction => {
            let statements = migration.statements().len();
            say(&format!(
                "migrate: applying {} ({statements} statements, each committed on its own)",
                migration.label()
            ));
        }
        Progress::Applying { migration } => {
            say(&format!("migrate: applying {}", migration.label()));
        }
        Progress::Statement {
            number,
            of,
            statement,
            ..
        } => {
            let line = statement.lines().next().unwrap_or_default();
            let line: String = line.chars().take(100).collect();
            say(&format!("migrate:   [{number}/{of}] {line}"));
        }
        Progress::Applied {
            migration,
            duration,
        } => {
            let line = format!("migrate: applied {} in {duration:.2?}", migration.label());
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
        _ => {}
    }
}

fn shown(duration: Duration) -> String {
    match duration.as_secs() {
        secs if secs >= 60 && secs.is_multiple_of(60) => format!("{}m", secs / 60),
        _ => format!("{duration:.1?}"),
    }
}

async fn status(db: &Database, set: &MigrationSet) -> Result<String, Failed> {
    let Status {
        applied,
        pending,
        refusal,
    } = migrate::status(db, set)
        .await
        .map_err(|err| Failed::from(err.to_string()))?;
    let mut lines: Vec<String> = applied
        .iter()
        .map(|row| {
            let when = row.applied_at.as_deref().unwrap_or("-");
            let (state, stopped) = match (row.done, row.statements_done) {
                (true, _) => ("applied", String::new()),
                (false, Some(done)) => ("HALF-APPLIED", format!("  ({done} statements done)")),
                (false, None) => ("HALF-APPLIED", String::new()),
            };
            format!("{state} {:04}_{}  {when}{stopped}", row.version, row.name)
        })
        .collect();
    lines.extend(
        pending
            .iter()
            .map(|(version, name)| format!("pending {version:04}_{name}")),
    );
    match refusal {
        None => Ok(lines.join("\n")),
        Some(refusal) => {
            // The list, then why `bottles migrate` would refuse, and exit 1.
            lines.push(format!("refused: {refusal}"));
            let _ = writeln!(std::io::stdout().lock(), "{}", lines.join("\n"));
            Err(Failed::from(format!("migrate status: {refusal}")))
        }
    }
}

async fn check(db: &Database, set: &MigrationSet) -> Result<String, Failed> {
    let checked = migrate::check(db, set, bottles::expected_schema())
        .await
        .map_err(|err| Failed::from(err.to_string()))?;
    match checked {
        Checked::Refused(refusal) => Err(Failed::from(format!(
            "check: the schema was not compared: {refusal}"
        ))),
        Checked::Pending { files, no_history } => {
            let names: Vec<String> = files.iter().map(|(v, n)| format!("{v:04}_{n}")).collect();
            let what = match files.len() {
                1 => "1 migration pending".to_string(),
                n => format!("{n} migrations pending"),
            };
            let message = match no_history {
                true => format!(
                    "check: the database has no migration history ({what}): run `bottles migrate`, \
                     or `bottles migrate baseline` if its tables were made before migrations"
                ),
                false => format!(
                    "check: {what} ({}): run `bottles migrate`, then check again",
                    names.join(", ")
                ),
            };
            Err(Failed {
                message,
                code: PENDING,
            })
        }
        Checked::Compared(found) if found.is_empty() => {
            let files = match set.len() {
                1 => "1 file".to_string(),
                n => format!("{n} files"),
            };
            Ok(format!(
                "check: the database has the schema of migrations/ ({files})"
            ))
        }
        Checked::Compared(found) => {
            let _ = writeln!(
                std::io::stdout().lock(),
                "{}",
                found
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            Err(Failed::from(format!(
                "the database differs from what migrations/ produce in {} place(s), listed above",
                found.len()
            )))
        }
    }
}

async fn resolved(
    db: &Database,
    set: &MigrationSet,
    args: &ResolveArgs,
    lock_wait: Duration,
) -> Result<String, Failed> {
    let resolution = match args.applied {
        true => Resolution::Applied,
        false => Resolution::RolledBack,
    };
    let version = args.version;
    migrate::resolve(db, set, version, resolution, lock_wait, show_progress)
        .await
        .map_err(|err| Failed::from(err.to_string()))?;
    let label = set
        .get(version)
        .map_or(format!("{version:04}"), |m| m.label());
    Ok(match resolution {
        Resolution::Applied => format!(
            "resolve: {label} recorded as applied (finished by hand); `bottles migrate check` \
             compares the schema"
        ),
        Resolution::RolledBack => {
            format!("resolve: {label} forgotten (undone by hand); `bottles migrate` runs it again")
        }
    })
}

async fn adopt(
    db: &Database,
    set: &MigrationSet,
    args: &BaselineArgs,
    lock_wait: Duration,
) -> Result<String, Failed> {
    let schemas = bottles::schemas();
    let done = migrate::baseline(db, set, &schemas, args.version, lock_wait, show_progress)
        .await
        .map_err(|err| Failed::from(err.to_string()))?;
    let label = |version: u32| {
        set.get(version)
            .map_or(format!("{version:04}"), |m| m.label())
    };
    let at = label(done.version);
    let mut line = format!("baseline: the live schema is that of {at}: recorded ");
    let first = set.iter().next().map_or(done.version, |m| m.version);
    line.push_str(&match done.version == first {
        true => format!("{at} as applied"),
        false => format!("{} to {at} as applied", label(first)),
    });
    let pending: Vec<String> = done.pending.iter().map(|v| label(*v)).collect();
    line.push_str(&match pending.len() {
        0 => "; nothing pending".to_string(),
        n => format!(
            "; {n} pending ({}): run `bottles migrate`",
            pending.join(", ")
        ),
    });
    if !done.same_schema.is_empty() {
        let same: Vec<String> = done.same_schema.iter().map(|v| label(*v)).collect();
        line.push_str(&format!(
            " ({} change no schema, so the database may have them or not: they stay pending)",
            same.join(", ")
        ));
    }
    Ok(line)
}
