//! The statement log, like SQLAlchemy's `echo=True`: one line per statement that ran on a
//! bottles connection, whoever sent it, with its parameters, outcome and elapsed time. Lines are
//! `tracing` events at INFO under [`LOG_TARGET`], so nothing is formatted unless a subscriber
//! asks for them. [`crate::wire`] finds the statements; this module only writes them down.

use std::fmt::Write as _;

use crate::wire::{Finished, Outcome, render};

/// The `tracing` target of the statement log: enable `bottles::sql=info` to see it.
pub const LOG_TARGET: &str = "bottles::sql";

/// Whether a connection opened now should carry the statement log.
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: LOG_TARGET, tracing::Level::INFO)
}

/// Logs a statement: `SQL  -- name {params}: outcome in elapsed`. A statement from `queries/`
/// or `copy/` is shown as written there, with its parameters by name.
pub(crate) fn finished(statement: &Finished) {
    let (sql, name) = match statement.named {
        Some(named) => (named.text.clone(), Some(named.name.as_str())),
        None => (one_line(&statement.sql), None),
    };
    let mut label = name.unwrap_or_default().to_string();
    if !statement.params.is_empty() {
        let names = statement.named.map(|named| named.params.as_slice());
        let params = statement.params.iter().enumerate().map(|(index, param)| {
            let name = names.and_then(|names| names.get(index));
            let name = name.cloned().unwrap_or_else(|| format!("${}", index + 1));
            format!("{name}: {}", render(param))
        });
        let params = params.collect::<Vec<_>>().join(", ");
        let space = if label.is_empty() { "" } else { " " };
        let _ = write!(label, "{space}{{{params}}}");
    }
    let separator = if label.is_empty() { "" } else { ": " };
    let outcome = match &statement.outcome {
        Outcome::Rows(1) => "1 row".to_string(),
        Outcome::Rows(rows) => format!("{rows} rows"),
        Outcome::Affected(1) => "1 row affected".to_string(),
        Outcome::Affected(rows) => format!("{rows} rows affected"),
        Outcome::Done => "ok".to_string(),
        Outcome::Failed(error) => format!("failed: {error}"),
    };
    let elapsed = statement.elapsed;
    tracing::info!(target: LOG_TARGET, "{sql}  -- {label}{separator}{outcome} in {elapsed:.2?}");
}

/// SQL sent by hand, on one line: runs of whitespace become one space, and control characters
/// are escaped so a statement's text cannot drive the terminal.
fn one_line(sql: &str) -> String {
    let mut line = String::with_capacity(sql.len());
    for word in sql.split_whitespace() {
        if !line.is_empty() {
            line.push(' ');
        }
        for c in word.chars() {
            if c.is_control() {
                line.extend(c.escape_default());
            } else {
                line.push(c);
            }
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn sql_sent_by_hand_is_shown_on_one_line() {
        assert_eq!(one_line("SELECT 1\n  FROM t\r\n"), "SELECT 1 FROM t");
        assert_eq!(one_line("SELECT '\u{1b}[31m'"), "SELECT '\\u{1b}[31m'");
    }
}
