//! The statement log, like SQLAlchemy's `echo=True`: one line per statement that ran on a
//! connection, whoever sent it, with its parameters, outcome and elapsed time. Lines are
//! `tracing` events at INFO under [`LOG_TARGET`], so nothing is formatted unless a subscriber
//! asks for them.
//!
//! It reads the statements off the wire ([`crate::wire`]): cornucopia's generated code hands its
//! client an opaque `ToStatement`, so a client wrapper never learns the SQL of an `execute` or
//! of a statement prepared earlier. [`conversation`] pairs requests with answers, [`values`]
//! shows parameters, and the application's [`Statements`] catalog names them.

mod conversation;
mod span;
mod statements;
mod values;

use std::fmt::Write as _;
use std::time::Instant;

use conversation::{Conversation, Finished, Outcome, reads_backend, reads_frontend};
pub use span::SPAN_TARGET;
pub(crate) use span::{Origin, ended, split_target};
use statements::one_line;
pub use statements::{Named, Statements};
use values::render;

/// The `tracing` target of the statement log: enable `bottles::sql=info` to see it.
pub const LOG_TARGET: &str = "bottles::sql";

/// Whether a connection opened now should carry the statement log.
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: LOG_TARGET, tracing::Level::INFO)
}

/// The statement log's watch on one connection.
pub(crate) struct Watcher {
    conversation: Conversation,
}

impl Watcher {
    /// A watch that names statements from `statements` (without: shows the SQL as sent).
    pub(crate) fn new(statements: Option<&'static Statements>) -> Self {
        Self {
            conversation: Conversation::new(statements),
        }
    }
}

impl crate::wire::Watch for Watcher {
    fn reads(&self) -> crate::wire::Reads {
        (reads_frontend, reads_backend)
    }

    fn sent(&mut self, kind: u8, body: &[u8], at: Instant) {
        self.conversation.sent(kind, body, at);
    }

    fn received(&mut self, kind: u8, body: &[u8], at: Instant) {
        if let Some(statement) = self.conversation.received(kind, body, at) {
            finished(&statement);
        }
    }
}

/// Logs a statement: `SQL  -- name {params}: outcome in elapsed`. A statement from `queries/`
/// or `copy/` is shown as written there, with its parameters by name.
fn finished(statement: &Finished) {
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
    // Prepared statements are the default; an unprepared one (behind a pooler) says so.
    let how = if statement.unnamed {
        ", unprepared"
    } else {
        ""
    };
    tracing::info!(target: LOG_TARGET, "{sql}  -- {label}{separator}{outcome} in {elapsed:.2?}{how}");
}
