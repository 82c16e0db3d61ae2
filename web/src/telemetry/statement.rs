//! The statement span: one `tracing` span per statement, carrying OpenTelemetry's database
//! attributes. The metrics ([`super::metrics`]) and the traces ([`super::traces`]) read these
//! spans and nothing else, so whoever opens them feeds both:
//!
//! | field | value |
//! |---|---|
//! | `db.system.name` | `postgresql` (the field that marks a statement span) |
//! | `db.namespace` | the database's name |
//! | `db.operation.name` | `SELECT`, `INSERT`, … (the statement's first word) |
//! | `db.collection.name` | the first table it names |
//! | `db.query.summary` | the statement's name in `queries/` (`messages_from_user_after`) |
//! | `db.query.text` | the statement as written in `queries/`, `:name` parameters, never values |
//! | `server.address`, `server.port` | where the node connects |
//! | `db.response.status_code` | the SQLSTATE of a failure, recorded at the end |
//! | `error.type` | the SQLSTATE, or the client error's kind, recorded at the end |
//! | `otel.name`, `otel.kind`, `otel.status_code` | the span's name (the summary), `client`, `error` on failure |
//!
//! The span is open from the moment the statement is asked for until its answer is read: its
//! length is `db.client.operation.duration`.
//!
//! Until bottles-core opens these spans itself, for every statement on its clients, the
//! service opens them around the generated queries it runs directly ([`statement`]); the
//! statements inside `bottles::user_by_*_with_messages`, `users_with_messages` and
//! `write_once` have none yet.

use bottles::Node;
use tracing::Instrument;
use tracing::field::Empty;

/// The `tracing` target of the statement spans the service opens.
pub const TARGET: &str = "bottles::statement";

/// Runs `run`, the generated statement `name` on `node`, in its statement span.
pub async fn statement<T, E: Failure>(
    node: &Node,
    name: &'static str,
    run: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let span = tracing::info_span!(
        target: TARGET,
        "statement",
        otel.name = name,
        otel.kind = "client",
        otel.status_code = Empty,
        db.system.name = "postgresql",
        db.namespace = Empty,
        db.operation.name = Empty,
        db.collection.name = Empty,
        db.query.summary = name,
        db.query.text = Empty,
        server.address = Empty,
        server.port = Empty,
        db.response.status_code = Empty,
        error.type = Empty,
    );
    if !span.is_disabled() {
        let text = bottles::statement_text(name).unwrap_or(name);
        let (operation, collection) = summarize(text);
        let (address, port, database) = split_target(node.target());
        span.record("db.query.text", text);
        span.record("db.operation.name", operation);
        span.record("db.collection.name", collection);
        span.record("server.address", address);
        span.record("server.port", port);
        span.record("db.namespace", database);
    }
    let result = run.instrument(span.clone()).await;
    if let Err(err) = &result {
        let kind = err.kind();
        if let Some(code) = err.sqlstate() {
            span.record("db.response.status_code", code);
        }
        span.record("error.type", kind.as_str());
        span.record("otel.status_code", "error");
    }
    result
}

/// What a statement span records of a failure.
pub trait Failure {
    /// The SQLSTATE, when the server answered with an error.
    fn sqlstate(&self) -> Option<&str>;
    /// `error.type`: the SQLSTATE, or what kind of failure it was.
    fn kind(&self) -> String {
        self.sqlstate().unwrap_or("connection").to_string()
    }
}

impl Failure for tokio_postgres::Error {
    fn sqlstate(&self) -> Option<&str> {
        self.code().map(|code| code.code())
    }
}

impl Failure for bottles::Error {
    fn sqlstate(&self) -> Option<&str> {
        self.code().map(|code| code.code())
    }
}

/// The first word (`SELECT`) and the first table named after FROM, INTO or UPDATE.
fn summarize(text: &str) -> (&str, &str) {
    let mut words = text.split_whitespace();
    let operation = words.next().unwrap_or_default();
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

/// `postgres://user@host:port/dbname` → host, port, dbname.
fn split_target(target: &str) -> (&str, u16, &str) {
    let rest = target.trim_start_matches("postgres://");
    let rest = rest.split_once('@').map_or(rest, |(_, rest)| rest);
    let (server, database) = rest.rsplit_once('/').unwrap_or((rest, ""));
    let (address, port) = server.rsplit_once(':').unwrap_or((server, "5432"));
    (address, port.parse().unwrap_or(5432), database)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_the_service_runs_has_an_operation_and_a_table() {
        for (name, operation, table) in [
            ("messages_from_user_after", "SELECT", "message"),
            ("count_users", "SELECT", "user"),
            ("insert_user", "INSERT", "user"),
            ("insert_message", "INSERT", "message"),
        ] {
            let text = bottles::statement_text(name).expect(name);
            assert_eq!(summarize(text), (operation, table), "{text}");
        }
        assert_eq!(summarize("SELECT 1"), ("SELECT", ""));
    }

    #[test]
    fn targets_give_the_server_and_the_database() {
        assert_eq!(
            split_target("postgres://me@127.0.0.1:5433/bottles"),
            ("127.0.0.1", 5433, "bottles")
        );
    }
}
