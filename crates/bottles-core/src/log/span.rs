//! One `tracing` span per statement a generated query runs, with OpenTelemetry's database
//! attributes, opened in the caller's task so that it nests under the caller's own span (an
//! HTTP request's, say). A metrics or traces layer reads these spans; with no subscriber
//! interested, a span is one disabled check.
//!
//! | field | value |
//! |---|---|
//! | `db.system.name` | `postgresql` (the field that marks a statement span) |
//! | `db.namespace` | the database's name |
//! | `db.operation.name` | `SELECT`, `INSERT`, … (the statement's first word) |
//! | `db.collection.name` | the first table it names |
//! | `db.query.summary` | the statement's name in `queries/`, else its operation and table |
//! | `db.query.text` | the statement as written in `queries/` (`:name` parameters), never values |
//! | `server.address`, `server.port` | where the node connects |
//! | `db.response.status_code`, `error.type` | a failure's SQLSTATE (`error.type`: or `connection`) |
//! | `otel.name`, `otel.kind`, `otel.status_code` | the summary, `client`, `error` on failure |
//!
//! The span lasts from the call until its answer (for a row stream, until the stream is
//! handed back): its length is `db.client.operation.duration`.

use tracing::Span;
use tracing::field::Empty;

use super::statements::{Statements, one_line};

/// The `tracing` target of the statement spans.
pub const SPAN_TARGET: &str = "bottles::statement";

/// What a node's statement spans say of where they ran, and the catalog that names them.
#[derive(Debug)]
pub(crate) struct Origin {
    catalog: Option<&'static Statements>,
    address: String,
    port: u16,
    database: String,
}

impl Origin {
    /// For a node whose target is `postgres://user@host:port/dbname`.
    pub(crate) fn new(target: &str, catalog: Option<&'static Statements>) -> Self {
        let (address, port, database) = split_target(target);
        Self {
            catalog,
            address,
            port,
            database,
        }
    }

    /// The span of one statement, `sql` as sent.
    pub(crate) fn span(&self, sql: &str) -> Span {
        let span = tracing::info_span!(
            target: SPAN_TARGET,
            "statement",
            otel.name = Empty,
            otel.kind = "client",
            otel.status_code = Empty,
            db.system.name = "postgresql",
            db.namespace = self.database.as_str(),
            db.operation.name = Empty,
            db.collection.name = Empty,
            db.query.summary = Empty,
            db.query.text = Empty,
            server.address = self.address.as_str(),
            server.port = self.port,
            db.response.status_code = Empty,
            error.type = Empty,
        );
        if span.is_disabled() {
            return span;
        }
        let named = self.catalog.and_then(|catalog| catalog.lookup(sql));
        let text = named.map_or_else(|| one_line(sql), |named| named.text.clone());
        let (operation, collection) = summarize(&text);
        let summary = match named {
            Some(named) => named.name.clone(),
            None => format!("{operation} {collection}").trim().to_string(),
        };
        span.record("otel.name", summary.as_str());
        span.record("db.query.summary", summary.as_str());
        span.record("db.query.text", text.as_str());
        span.record("db.operation.name", operation);
        span.record("db.collection.name", collection);
        span
    }
}

/// Records how a statement ended on its span.
pub(crate) fn ended<T>(span: &Span, result: &Result<T, tokio_postgres::Error>) {
    let Err(err) = result else {
        return;
    };
    let code = err.code().map(|code| code.code());
    if let Some(code) = code {
        span.record("db.response.status_code", code);
    }
    span.record("error.type", code.unwrap_or("connection"));
    span.record("otel.status_code", "error");
}

/// The first word (`SELECT`) and the first table named after FROM, INTO, UPDATE or TABLE.
fn summarize(text: &str) -> (&str, &str) {
    let operation = text.split_whitespace().next().unwrap_or_default();
    let mut words = text.split_whitespace();
    let mut table = "";
    while let Some(word) = words.next() {
        if ["FROM", "INTO", "UPDATE", "TABLE"].contains(&word.to_ascii_uppercase().as_str()) {
            table = words.next().unwrap_or_default();
            break;
        }
    }
    let table = table.trim_matches(|c: char| c == '"' || c == '(' || c == ';');
    (operation, table)
}

/// `postgres://user@host:port/dbname` → host (or socket directory), port, dbname.
pub(crate) fn split_target(target: &str) -> (String, u16, String) {
    let rest = target.trim_start_matches("postgres://");
    let rest = rest.split_once('@').map_or(rest, |(_, rest)| rest);
    let (server, database) = rest.rsplit_once('/').unwrap_or((rest, ""));
    let (address, port) = server.rsplit_once(':').unwrap_or((server, "5432"));
    (
        address.to_string(),
        port.parse().unwrap_or(5432),
        database.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_gives_its_operation_and_first_table() {
        let select = "SELECT m.id FROM message AS m JOIN \"user\" AS u ON u.id = m.user_id";
        assert_eq!(summarize(select), ("SELECT", "message"));
        assert_eq!(
            summarize("INSERT INTO \"user\" (name) VALUES ($1)"),
            ("INSERT", "user")
        );
        assert_eq!(summarize("UPDATE item SET done = true"), ("UPDATE", "item"));
        assert_eq!(summarize("SELECT 1"), ("SELECT", ""));
    }

    #[test]
    fn targets_give_the_server_and_the_database() {
        let split = |target| split_target(target);
        let expected = ("127.0.0.1".to_string(), 5433, "bottles".to_string());
        assert_eq!(split("postgres://me@127.0.0.1:5433/bottles"), expected);
        let socket = ("/run/postgresql".to_string(), 5432, "me".to_string());
        assert_eq!(split("postgres://me@/run/postgresql:5432/me"), socket);
    }
}
