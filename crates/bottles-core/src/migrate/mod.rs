//! Schema evolution: migration files (`migrations/NNNN_name.sql`) applied in order, each once,
//! recorded in `bottles_migrations`, safely on a live database and behind a transaction pooler.
//! [`MigrateError`] is everything migrating can refuse or fail with: one line each, never a
//! file's SQL.

mod apply;
mod drift;
mod files;

pub use apply::{
    Applied, MigrateOptions, MigrateReport, Recorded, Status, forget_history, migrate,
    record_all_applied, status,
};
/// The schema model a drift check compares against (see [`check`]).
pub use bottles_schema::{Catalog, Difference, teardown};
pub use drift::check;
pub use files::{Migration, MigrationSet, NO_TRANSACTION_HEADER};

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
        "migration {version:04}_{name} stopped half-way (it runs outside a transaction): check what it did, finish or undo it by hand, then delete its row from bottles_migrations"
    )]
    HalfApplied {
        /// Its version.
        version: u32,
        /// Its name.
        name: String,
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
