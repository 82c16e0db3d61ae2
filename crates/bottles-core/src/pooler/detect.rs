//! Recognising a transaction pooler: from what the connection's start-up showed, and from the
//! errors a pooler gives that a server does not.

use tokio_postgres::error::SqlState;

use crate::wire::Startup;

/// Whether a connection that sent the `options` start-up parameter was refused for it, as
/// PgBouncer does (`unsupported startup parameter: options`, SQLSTATE 08P01). A server itself
/// never answers a start-up parameter with a protocol violation: a bad value is 22023 or 42704.
pub(crate) fn refused_options(err: &tokio_postgres::Error, sent_options: bool) -> bool {
    sent_options && err.code() == Some(&SqlState::PROTOCOL_VIOLATION)
}

/// A pooler such as PgBouncer gives clients a cancel key of its own making (it has to route
/// cancel requests), so the process id in `BackendKeyData` is not the backend's.
pub(crate) async fn behind_a_pooler(
    client: &tokio_postgres::Client,
    started: &Startup,
) -> Result<bool, tokio_postgres::Error> {
    let Some(&key_pid) = started.backend_key_pid.get() else {
        return Ok(false);
    };
    // The simple protocol: no statement is prepared, so this is safe behind any pooler.
    let rows = client.simple_query("SELECT pg_backend_pid()").await?;
    let backend_pid = rows.iter().find_map(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0)?.parse::<i32>().ok(),
        _ => None,
    });
    Ok(backend_pid.is_some_and(|pid| pid != key_pid))
}
