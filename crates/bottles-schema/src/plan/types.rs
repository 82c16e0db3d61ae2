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
    #[error("dropping {object} deletes data: rerun with --allow-destructive if that is meant")]
    Destructive {
        /// What would be dropped: `column "user".email`, `table message`.
        object: String,
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
}

impl Hazard {
    /// Whether the step gets its own `-- HAZARD:` line: it deletes, rewrites or locks.
    pub fn is_blocking(self) -> bool {
        matches!(
            self,
            Hazard::DeletesData | Hazard::RewritesTable | Hazard::LocksTable
        )
    }
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hazard::DeletesData => "deletes data for good",
            Hazard::RewritesTable => {
                "rewrites the table and its indexes: time and disk in proportion to its size"
            }
            Hazard::LocksTable => {
                "takes an ACCESS EXCLUSIVE lock for its whole run (in a transaction, until it commits): \
                 every read and write of the table waits"
            }
            Hazard::BuildsIndexOnline => {
                "builds an index CONCURRENTLY: writes go on; if it fails it leaves an INVALID index"
            }
            Hazard::ValidatesOnline => {
                "validates existing rows under SHARE UPDATE EXCLUSIVE: reads and writes go on"
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

    /// The migration file's text: the no-transaction header when needed, the hazards, the
    /// lock timeout, then each statement after its comment.
    pub fn render(&self) -> String {
        let outside = self.outside_transaction();
        let mut text = String::new();
        if outside {
            text.push_str("-- bottles: no-transaction\n");
        }
        text.push_str(
            "-- Planned by bottles from the difference between migrations/ and schema.sql.\n",
        );
        text.push_str("-- Review it like code: it runs as written.\n");
        if outside {
            text.push_str(&format!(
                "-- Runs statement by statement, each committed on its own ({}):\n\
                 -- a failure leaves the statements before it applied. bottles migrate gives each\n\
                 -- a transaction with its lock_timeout, but CONCURRENTLY, which runs outside any.\n",
                self.why_outside()
            ));
        }
        let hazards = self.hazards();
        if hazards.is_empty() {
            text.push_str("-- Hazards: none.\n");
        } else {
            text.push_str("-- Hazards:\n");
            for hazard in hazards {
                text.push_str(&format!("--   {hazard}\n"));
            }
        }
        // Outside one transaction a SET would last for the session, and behind a transaction
        // pooler land on whichever server connection the next statement gets.
        if !outside {
            text.push_str(&format!(
                "SET LOCAL lock_timeout = '{}';\n",
                duration(self.lock_timeout)
            ));
        }
        for step in &self.steps {
            text.push_str(&format!("\n-- {}\n", step.comment));
            for hazard in step.hazards.iter().filter(|h| h.is_blocking()) {
                text.push_str(&format!("-- HAZARD: {hazard}\n"));
            }
            text.push_str(&format!("{};\n", step.sql));
        }
        text
    }
}

impl Plan {
    fn why_outside(&self) -> String {
        let outside = || self.steps.iter().filter(|s| s.outside_transaction);
        let mut why = Vec::new();
        if outside().any(|s| s.sql.contains(" CONCURRENTLY ")) {
            why.push("CONCURRENTLY cannot run in a transaction");
        }
        if outside().any(|s| s.sql.contains(" VALIDATE CONSTRAINT ")) {
            why.push("VALIDATE must not share the transaction that added the constraint");
        }
        if outside().any(|s| s.sql.starts_with("ALTER TYPE")) {
            why.push("a new enum value must commit before it is used");
        }
        why.join("; ")
    }
}

/// `5s`, or `1500ms` when not whole seconds.
fn duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(sql: &str, hazards: &[Hazard], outside: bool) -> Step {
        Step {
            sql: sql.to_string(),
            comment: "why".to_string(),
            hazards: hazards.to_vec(),
            outside_transaction: outside,
        }
    }

    #[test]
    fn a_no_transaction_file_says_so_first_and_sets_no_session_timeout() {
        let plan = Plan {
            steps: vec![
                step(
                    "CREATE INDEX CONCURRENTLY i ON t (a)",
                    &[Hazard::BuildsIndexOnline],
                    true,
                ),
                step(
                    "ALTER TABLE t ALTER a TYPE bigint",
                    &[Hazard::RewritesTable],
                    false,
                ),
            ],
            lock_timeout: Duration::from_millis(1500),
        };
        let text = plan.render();
        assert!(text.starts_with("-- bottles: no-transaction\n"), "{text}");
        assert!(!text.contains("lock_timeout ="), "{text}");
        assert!(
            text.contains("(CONCURRENTLY cannot run in a transaction)"),
            "{text}"
        );
        assert!(
            text.contains("-- why\n-- HAZARD: rewrites the table"),
            "{text}"
        );
        assert!(
            text.ends_with("ALTER TABLE t ALTER a TYPE bigint;\n"),
            "{text}"
        );
        assert!(!text.contains("RESET"), "{text}");
        assert_eq!(
            text.matches("-- HAZARD:").count(),
            1,
            "an online build is no blocking hazard"
        );
    }

    #[test]
    fn a_transactional_file_sets_its_timeout_locally() {
        let plan = Plan {
            steps: vec![step("ALTER TABLE t ADD b int", &[], false)],
            lock_timeout: Duration::from_secs(5),
        };
        let text = plan.render();
        assert!(text.starts_with("-- Planned by bottles"), "{text}");
        assert!(
            text.contains("-- Hazards: none.\nSET LOCAL lock_timeout = '5s';\n"),
            "{text}"
        );
        assert!(!text.contains("RESET"), "{text}");
        assert!(!plan.is_empty() && !plan.outside_transaction());
    }
}
