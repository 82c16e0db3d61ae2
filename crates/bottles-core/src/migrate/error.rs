//! [`MigrateError`]: everything migrating can refuse or fail with, one line each, never a
//! file's SQL, with what to do next.

use std::fmt;
use std::time::Duration;

/// The statement of a no-transaction file where it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoppedAt {
    /// Which statement, from 1.
    pub number: usize,
    /// Of how many.
    pub of: usize,
    /// Its first line, cut at 80 characters.
    pub statement: String,
}

impl StoppedAt {
    /// `CREATE INDEX CONCURRENTLY` (or another statement PostgreSQL runs outside a
    /// transaction) may have finished without its count, or left an INVALID index.
    fn outside(&self) -> bool {
        self.statement
            .to_ascii_uppercase()
            .contains(" CONCURRENTLY ")
    }
}

impl fmt::Display for StoppedAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "statement {} of {} ({})",
            self.number, self.of, self.statement
        )
    }
}

/// The rest of a half-applied file's message: what stayed, and the two ways out.
fn half_applied_advice(version: u32, stopped: Option<&StoppedAt>) -> String {
    let that = match stopped {
        Some(at) if at.outside() => {
            ", and that one may have finished too, or left an INVALID index (DROP INDEX \
             CONCURRENTLY it)"
        }
        Some(_) => " and that one did not",
        None => "",
    };
    let stayed = match stopped {
        Some(_) => format!("the statements before it stay applied{that}"),
        None => "what it did stays".to_string(),
    };
    format!(
        "it runs outside a transaction, so {stayed}; finish the file by hand, then run \
         `bottles migrate resolve {version} --applied`, or undo what it did, then run \
         `bottles migrate resolve {version} --rolled-back` to have it run again"
    )
}

fn at(stopped: &Option<StoppedAt>) -> String {
    stopped
        .as_ref()
        .map_or(String::new(), |at| format!(", at {at}"))
}

/// `250ms`, `42.5s`, `10m`.
fn shown(duration: &Duration) -> String {
    let secs = duration.as_secs();
    match duration.as_millis() {
        ms if ms < 1000 => format!("{ms}ms"),
        _ if secs.is_multiple_of(60) => format!("{}m", secs / 60),
        _ => format!("{:.1}s", duration.as_secs_f64()),
    }
}

fn held_by(pid: &Option<i32>) -> String {
    pid.map_or(String::new(), |pid| format!(" (server process {pid})"))
}

/// Why migrations were refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// A file's name is not `NNNN_name.sql`.
    #[error(
        "bad migration file name {file:?}: expected NNNN_name.sql (4 digits, an underscore, then lowercase letters, digits and underscores)"
    )]
    BadFileName {
        /// The name as given.
        file: String,
    },

    /// Two files have the same version.
    #[error("migrations {first} and {second} have the same version {version:04}: renumber one")]
    DuplicateVersion {
        /// The version both have.
        version: u32,
        /// One file's name.
        first: String,
        /// The other's.
        second: String,
    },

    /// A file begins or ends a transaction itself, which would break the one bottles runs it in.
    #[error(
        "migration file {file} controls transactions itself ({keyword}): remove it (bottles runs each file in one transaction, or each statement alone after `-- bottles: no-transaction`)"
    )]
    TransactionControl {
        /// The name as given.
        file: String,
        /// The statement's first word: `BEGIN`, `COMMIT`, …
        keyword: String,
    },

    /// The database has a file applied at a version where the set has a file of another name:
    /// two branches that each added the same version.
    #[error(
        "the database has migration {version:04}_{applied} applied, and this binary has {version:04}_{file} instead (two branches numbered a migration alike?): merge the branch with {version:04}_{applied} and renumber {version:04}_{file} after it"
    )]
    OtherName {
        /// The version.
        version: u32,
        /// The name the database recorded.
        applied: String,
        /// The name of the set's file.
        file: String,
    },

    /// An applied file no longer has the text it was applied with.
    #[error(
        "migration {version:04}_{name} was changed after it was applied (its checksum differs): restore the file, or write a new migration"
    )]
    ChecksumMismatch {
        /// Its version.
        version: u32,
        /// Its name, after the version.
        name: String,
    },

    /// The database had a migration applied that the set does not have.
    #[error(
        "the database has migration {version:04}_{name}, which this binary does not have: deploy a newer binary"
    )]
    UnknownVersion {
        /// Its version.
        version: u32,
        /// Its name, as recorded.
        name: String,
    },

    /// A no-transaction file started and did not finish: what it did is still there.
    #[error(
        "migration {version:04}_{name} stopped half-way{}: {}",
        at(.stopped),
        half_applied_advice(*.version, .stopped.as_ref())
    )]
    HalfApplied {
        /// Its version.
        version: u32,
        /// Its name.
        name: String,
        /// The statement it stopped at, when the history says (older history tables do not).
        stopped: Option<StoppedAt>,
    },

    /// A statement of a no-transaction file failed: those before it stay applied.
    #[error(
        "migration {version:04}_{name} failed at {stopped}: {reason}; {}",
        half_applied_advice(*.version, Some(.stopped))
    )]
    FailedAt {
        /// Its version.
        version: u32,
        /// Its name.
        name: String,
        /// The statement that failed.
        stopped: StoppedAt,
        /// The server's message, on one line ([`crate::message`]).
        reason: String,
    },

    /// `resolve` was asked to settle a file that is not half-applied.
    #[error(
        "migration {version:04} is not half-applied ({found}): `bottles migrate resolve` only settles a no-transaction file that stopped half-way"
    )]
    NotHalfApplied {
        /// The version asked for.
        version: u32,
        /// What it is instead.
        found: String,
    },

    /// `baseline` on a database that has a migration history already.
    #[error(
        "the database has a migration history already ({rows} file(s) recorded): baseline is for a database whose tables were made before migrations; see `bottles migrate status`"
    )]
    HasHistory {
        /// Rows in `bottles_migrations`.
        rows: usize,
    },

    /// `baseline` at a version the set does not have.
    #[error("this binary has no migration {version:04}: see `bottles migrate status`")]
    NoSuchVersion {
        /// The version asked for.
        version: u32,
    },

    /// `baseline` at a version whose schema the live one is not.
    #[error(
        "the live schema is not that of {label}, in {count} place(s): {found}; make it so by hand, or adopt it at the version it is (leave out --version)"
    )]
    NotAtVersion {
        /// The version asked for, `0001_baseline`.
        label: String,
        /// How many differences.
        count: usize,
        /// The first of them, on one line.
        found: String,
    },

    /// `baseline` found no version whose schema the live one is.
    #[error(
        "the live schema is not that of any version of the migrations; the closest, {closest}, differs in {count} place(s): {found}; make it so by hand, then run baseline again"
    )]
    AtNoVersion {
        /// The version with the fewest differences.
        closest: String,
        /// How many differences.
        count: usize,
        /// The first of them, on one line.
        found: String,
    },

    /// Another deploy held the lock longer than this one would wait.
    #[error(
        "another deploy held the migration lock for {}{}: gave up; run again once it is done, or wait longer (--lock-wait)",
        shown(.waited),
        held_by(.pid)
    )]
    LockWait {
        /// How long this one waited.
        waited: Duration,
        /// The server process holding the lock, when the server said.
        pid: Option<i32>,
    },

    /// A file's SQL failed on the server.
    #[error("migration {version:04}_{name} failed: {reason}")]
    Failed {
        /// Its version.
        version: u32,
        /// Its name.
        name: String,
        /// The server's message, on one line ([`crate::message`]).
        reason: String,
    },
}
