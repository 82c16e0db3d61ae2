//! The one error reading a catalog can end in. Planning refusals are [`crate::PlanError`].

/// Reading a catalog failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A catalog query failed (connection lost, permissions, a server this crate cannot read).
    #[error("reading the schema catalog ({query}) failed: {}", one_line(source))]
    Catalog {
        /// Which of the catalog's queries.
        query: &'static str,
        /// The driver's error, with the server's when there is one.
        source: tokio_postgres::Error,
    },
}

/// The server's message for database errors (with SQLSTATE), else the driver's, on one line.
fn one_line(err: &tokio_postgres::Error) -> String {
    let text = match err.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => err.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
