//! Schema evolution: migration files (`migrations/NNNN_name.sql`) applied in order, each once,
//! recorded in `bottles_migrations`, safely on a live database and behind a transaction pooler.
//! [`MigrateError`] is everything migrating can refuse or fail with: one line each, never a
//! file's SQL.

mod adopt;
mod apply;
mod drift;
mod error;
mod files;
mod history;
mod lock;
mod resolve;

use std::time::Duration;

pub use adopt::{Baselined, Schemas, baseline};
pub use apply::{
    Applied, MigrateOptions, MigrateReport, Status, migrate, migrate_with_progress, status,
};
/// The schema model a drift check compares against (see [`check`]).
pub use bottles_schema::{Catalog, Difference, Unsupported, teardown};
pub use drift::{Checked, check, live_schema};
pub use error::{MigrateError, StoppedAt};
pub use files::{Migration, MigrationSet, NO_TRANSACTION_HEADER};
pub use history::{Recorded, forget_history, record_all_applied, refuse_newer};
pub use resolve::{Resolution, resolve};

/// What [`migrate_with_progress`] (and [`resolve`]) report as they go.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// Another deploy holds the lock: this one waits for it, at most `at_most`.
    Waiting {
        /// The server process holding it, when the server says.
        pid: Option<i32>,
        /// How long this one waits before giving up.
        at_most: Duration,
    },
    /// A file starts.
    Applying {
        /// The file.
        migration: &'a Migration,
    },
    /// A statement of a no-transaction file starts (each commits on its own).
    Statement {
        /// The file.
        migration: &'a Migration,
        /// Which statement, from 1.
        number: usize,
        /// Of how many.
        of: usize,
        /// Its text.
        statement: &'a str,
    },
    /// A file is applied and recorded.
    Applied {
        /// The file.
        migration: &'a Migration,
        /// How long it took.
        duration: Duration,
    },
}
