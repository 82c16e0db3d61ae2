//! What planning takes and gives: options, the plan (its steps and hazards) and its file text,
//! and the refusals.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

/// How to plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Plan drops that delete data (tables, columns, sequences) instead of refusing them.
    pub allow_destructive: bool,
    /// How long each statement of the migration may wait for a lock before it fails: a
    /// migration queued behind a long query would otherwise block every query behind it.
    pub lock_timeout: Duration,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            allow_destructive: false,
            lock_timeout: Duration::from_secs(5),
        }
    }
}

/// Why a plan was refused, on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// An object the catalog does not model comes or goes.
    #[error("cannot plan {0}: {kinds} not supported; write this migration by hand", kinds = kinds(.0))]
    Unsupported(String),
    /// An object the catalog does not model changes its definition (a function's body, a
    /// trigger, a policy's expression).
    #[error(
        "cannot plan {0}: its definition changes, and {kinds} not supported; write this migration by hand",
        kinds = kinds(.0)
    )]
    UnsupportedChange(String),
    /// The plan would delete data, and that was not allowed.
    #[error(
        "dropping {object} deletes data: rerun with --allow-destructive if that is meant{}",
        rename.as_ref().map_or(String::new(), |added| format!(
            "; if it is a rename ({added} is added), write it by hand instead: a rename reads \
             as a drop and an add (README: Renames)"
        ))
    )]
    Destructive {
        /// What would be dropped: `column "user".email`, `table message`.
        object: String,
        /// What is added beside it, that it may have been renamed to: `column message.body`.
        rename: Option<String>,
    },
    /// An enum type loses a value or its values change order: PostgreSQL can only add.
    #[error(
        "cannot plan enum type {name}: {reason}, and PostgreSQL can only add enum values; \
         write this migration by hand"
    )]
    EnumValues {
        /// The type, as SQL names it.
        name: String,
        /// Which value: `value 'sad' is removed (or renamed)`.
        reason: String,
    },
}

/// "triggers are" for "trigger message_audit on message".
fn kinds(object: &str) -> &'static str {
    const KINDS: [(&str, &str); 22] = [
        ("trigger ", "triggers are"),
        ("function ", "functions are"),
        ("procedure ", "procedures are"),
        ("aggregate ", "aggregates are"),
        ("materialized view ", "materialized views are"),
        ("partitioned table ", "partitioned tables are"),
        ("partition ", "partitions are"),
        ("foreign table ", "foreign tables are"),
        ("composite type ", "composite types are"),
        ("unlogged table ", "unlogged tables are"),
        ("inheriting table ", "table inheritance is"),
        ("domain ", "domains are"),
        ("range type ", "range types are"),
        ("base type ", "base types are"),
        ("policy ", "row level security policies are"),
        ("row level security ", "row level security is"),
        ("rule ", "rules are"),
        ("extension ", "extensions are"),
        ("statistics ", "extended statistics are"),
        ("collation ", "collations are"),
        ("operator ", "operators are"),
        ("schema ", "objects outside the public schema are"),
    ];
    KINDS
        .iter()
        .find(|(prefix, _)| object.starts_with(prefix))
        .map_or("objects of its kind are", |(_, kinds)| kinds)
}

/// What a step does to a running application, beyond changing the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Hazard {
    /// Drops rows or values for good.
    DeletesData,
    /// Rewrites the table (and its indexes): time and disk in proportion to its size.
    RewritesTable,
    /// Holds an ACCESS EXCLUSIVE lock for its whole duration, not just a moment.
    LocksTable,
    /// `CREATE INDEX CONCURRENTLY`: slow, but writes go on; outside a transaction.
    BuildsIndexOnline,
    /// `VALIDATE CONSTRAINT`: scans the rows, but reads and writes go on.
    ValidatesOnline,
    /// Fails on a table that has rows (a `NOT NULL` column added with no default).
    FailsWithRows,
}

impl Hazard {
    /// Whether the step gets its own `-- HAZARD:` line: it deletes, rewrites, locks or fails
    /// on a table with rows.
    pub fn is_blocking(self) -> bool {
        matches!(
            self,
            Hazard::DeletesData
                | Hazard::RewritesTable
                | Hazard::LocksTable
                | Hazard::FailsWithRows
        )
    }
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hazard::DeletesData => "deletes data for good",
            Hazard::RewritesTable => {
                "rewrites the table and its indexes under an ACCESS EXCLUSIVE lock: time and disk \
                 in proportion to its size"
            }
            Hazard::LocksTable => {
                "takes an ACCESS EXCLUSIVE lock for its whole run (in a transaction, until it \
                 commits): every read and write of the table waits"
            }
            Hazard::BuildsIndexOnline => {
                "builds an index CONCURRENTLY: reads and writes go on, but it first waits for \
                 every transaction open on the table when it starts; if it fails it leaves an \
                 INVALID index: DROP INDEX CONCURRENTLY it, then finish by hand \
                 (docs/migrations.md)"
            }
            Hazard::ValidatesOnline => {
                "validates existing rows under SHARE UPDATE EXCLUSIVE: reads and writes go on"
            }
            Hazard::FailsWithRows => {
                "fails if the table has rows: a NOT NULL column with no default (give it a \
                 default in schema.sql, or add it nullable, fill it, then SET NOT NULL)"
            }
        })
    }
}

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The statement, without its `;`.
    pub sql: String,
    /// Why it is written this way, on one line.
    pub comment: String,
    /// What it does to a running application.
    pub hazards: Vec<Hazard>,
    /// It cannot run in a transaction block (`CREATE INDEX CONCURRENTLY`), or must commit
    /// before what follows can use it.
    pub outside_transaction: bool,
    /// The table (as SQL names it) its hazards fall on, for the file's header.
    pub table: Option<String>,
}

impl Step {
    /// Names the table the step's hazards fall on.
    pub fn on(&mut self, table: &str) -> &mut Self {
        self.table = Some(table.to_string());
        self
    }
}

/// The migration from one catalog to another: statements in the order they must run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The statements.
    pub steps: Vec<Step>,
    /// The `lock_timeout` a transactional file sets (`SET LOCAL`). A no-transaction file sets
    /// none: `bottles migrate` gives each of its statements a transaction and a timeout.
    pub lock_timeout: Duration,
}

impl Plan {
    /// Nothing to do: the catalogs are the same schema.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether the file must run outside a transaction, statement by statement.
    pub fn outside_transaction(&self) -> bool {
        self.steps.iter().any(|s| s.outside_transaction)
    }

    /// Every hazard of every step, once each.
    pub fn hazards(&self) -> BTreeSet<Hazard> {
        self.steps.iter().flat_map(|s| s.hazards.clone()).collect()
    }
}
