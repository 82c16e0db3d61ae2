//! A plan's migration file: the header (no-transaction, hazards with their tables), the lock
//! timeout, and each statement after its comment, comments wrapped at 100 characters.

use std::collections::BTreeSet;
use std::time::Duration;

use super::types::{Hazard, Plan};

impl Plan {
    /// The migration file's text: the no-transaction header when needed, the hazards with the
    /// tables they fall on, the lock timeout, then each statement after its comment. Comments
    /// are wrapped at 100 characters.
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
            let concurrently = self.steps.iter().any(|s| s.sql.contains(" CONCURRENTLY "));
            text.push_str(&comment(&format!(
                "Runs statement by statement, each committed on its own ({}): a failure leaves \
                 the statements before it applied, and bottles migrate names the one that \
                 failed (docs/migrations.md says how to finish or undo it). bottles migrate \
                 gives each statement a transaction with its lock_timeout{}.",
                self.why_outside(),
                match concurrently {
                    true => ", but CONCURRENTLY, which runs outside any",
                    false => "",
                }
            )));
        }
        let hazards: BTreeSet<(Hazard, Option<&String>)> = self
            .steps
            .iter()
            .flat_map(|s| s.hazards.iter().map(|h| (*h, s.table.as_ref())))
            .collect();
        if hazards.is_empty() {
            text.push_str("-- Hazards: none.\n");
        } else {
            text.push_str("-- Hazards:\n");
            for (hazard, table) in hazards {
                let line = match table {
                    Some(table) => format!("{table}: {hazard}"),
                    None => hazard.to_string(),
                };
                text.push_str(&wrapped(&line, "--   ", "--     "));
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
            text.push('\n');
            text.push_str(&comment(&step.comment));
            for hazard in step.hazards.iter().filter(|h| h.is_blocking()) {
                text.push_str(&wrapped(&format!("HAZARD: {hazard}"), "-- ", "--   "));
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

/// How wide a comment line may be.
const WIDTH: usize = 100;

/// `text` as `-- ` comment lines.
fn comment(text: &str) -> String {
    wrapped(text, "-- ", "-- ")
}

/// `text` wrapped at [`WIDTH`] at spaces, its first line after `first`, the others after
/// `next`; a word longer than a line stays whole.
fn wrapped(text: &str, first: &str, next: &str) -> String {
    let (mut out, mut line) = (String::new(), first.to_string());
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = next.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
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
    use crate::plan::types::Step;

    fn step(sql: &str, hazards: &[Hazard], outside: bool) -> Step {
        Step {
            sql: sql.to_string(),
            comment: "why".to_string(),
            hazards: hazards.to_vec(),
            outside_transaction: outside,
            table: Some("t".to_string()),
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
            text.contains("(CONCURRENTLY cannot run in a\n-- transaction)")
                || text.contains("(CONCURRENTLY cannot run in a transaction)"),
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

    #[test]
    fn each_hazard_line_names_its_table_and_every_line_fits_100_characters() {
        let mut add = step(
            "ALTER TABLE \"user\" ADD email text NOT NULL",
            &[Hazard::FailsWithRows],
            false,
        );
        add.on("\"user\"");
        let mut index = step(
            "CREATE INDEX CONCURRENTLY i ON message (x)",
            &[Hazard::BuildsIndexOnline],
            true,
        );
        index.on("message");
        let mut long = step("SELECT 1", &[], false);
        long.comment = "word ".repeat(60);
        let plan = Plan {
            steps: vec![add, index, long],
            lock_timeout: Duration::from_secs(5),
        };
        let text = plan.render();
        assert!(!text.contains("Hazards: none"), "{text}");
        assert!(
            text.contains("\n--   message: builds an index CONCURRENTLY: reads and writes go on, but it first waits for every\n--     transaction open on the table when it starts;"),
            "{text}"
        );
        assert!(
            text.contains(
                "\n--   \"user\": fails if the table has rows: a NOT NULL column with no default"
            ),
            "{text}"
        );
        assert!(
            text.contains("-- why\n-- HAZARD: fails if the table has rows"),
            "the step says it too: {text}"
        );
        for line in text.lines().filter(|l| l.starts_with("--")) {
            assert!(line.chars().count() <= 100, "{line:?} in\n{text}");
        }
        assert_eq!(text.matches("-- word word").count(), 4, "{text}");
    }
}
