//! One error type for everything the core can fail at. Each message is one line a user can act
//! on and never holds a password; each error keeps its cause ([`std::error::Error::source`]),
//! and a database error's SQLSTATE is one call away ([`Error::code`]).

use std::time::Duration;

use deadpool::managed::{PoolError, TimeoutType};
use tokio_postgres::error::SqlState;

use crate::connection::ConfigError;

/// Everything the core can fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection settings did not parse or do not fit together. Their text is never
    /// repeated: it may hold a password.
    #[error("invalid {what}: {reason}")]
    InvalidConfig {
        /// `DATABASE_URL`, or `PG* settings` when they came from the environment alone.
        what: &'static str,
        /// What is wrong, naming the setting.
        #[source]
        reason: ConfigError,
    },

    /// Nothing names a server, and this build cannot start a throwaway one (feature
    /// `throwaway` is off).
    #[error(
        "no connection settings: set DATABASE_URL (or PGHOST, PGDATABASE or PGSERVICE) to the server to use"
    )]
    NoSettings,

    /// No URL was given and the throwaway local server could not start.
    #[error(
        "could not start a local PostgreSQL (set DATABASE_URL to use your own server): {reason}"
    )]
    LocalServer {
        /// Why, on one line.
        reason: String,
    },

    /// No connection could be opened.
    #[error("could not connect to {target}: {reason}")]
    Connect {
        /// Where, without the password.
        target: String,
        /// Why, for every host tried.
        reason: String,
        /// The last attempt's error: a `tokio_postgres::Error` or an `io::Error`.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// Every pooled connection stayed busy for the pool's whole wait timeout.
    #[error("timed out after {waited:?} waiting for a free connection to {target}")]
    PoolTimeout {
        /// Where, without the password.
        target: String,
        /// The pool's wait timeout.
        waited: Duration,
    },

    /// A write went to a server that only takes reads: a hot standby, not the primary.
    #[error(
        "the server is a read-only standby: point DATABASE_URL at the primary (or list every \
         host with target_session_attrs=read-write)"
    )]
    ReadOnlyServer(#[source] tokio_postgres::Error),

    /// The server answered something bottles cannot read (a bug, or a server it does not know).
    #[error("unexpected answer from the server: {0}")]
    Unexpected(String),

    /// A statement failed; `step` says which part of bottles ran it.
    #[error("{step} failed: {}", message(source))]
    Statement {
        /// The step: `reset`, `seed`, a loader's name.
        step: &'static str,
        /// The driver's error, with the server's when there is one.
        #[source]
        source: tokio_postgres::Error,
    },

    /// Migrations were refused or one failed ([`crate::migrate`]).
    #[error(transparent)]
    Migrate(#[from] crate::migrate::MigrateError),
}

/// `Result` with bottles' [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a failed statement, naming the step; a write refused by a read-only server
    /// becomes [`Error::ReadOnlyServer`], which says what to do about it.
    pub fn statement(step: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
        move |source| match source.code() {
            Some(&SqlState::READ_ONLY_SQL_TRANSACTION) => Error::ReadOnlyServer(source),
            _ => Error::Statement { step, source },
        }
    }

    pub(crate) fn connect(target: &str, failure: ConnectFailure) -> Error {
        Error::Connect {
            target: target.to_string(),
            reason: failure.reason,
            source: failure.cause,
        }
    }

    pub(crate) fn pool(target: &str, waited: Duration, err: PoolError<ConnectFailure>) -> Error {
        let connect = |reason: String, source| Error::Connect {
            target: target.to_string(),
            reason,
            source,
        };
        match err {
            PoolError::Backend(failure) => Error::connect(target, failure),
            PoolError::Timeout(TimeoutType::Wait) => Error::PoolTimeout {
                target: target.to_string(),
                waited,
            },
            other => connect(other.to_string(), None),
        }
    }

    /// The SQLSTATE of the database error behind this one, if any: `23503` for a foreign key
    /// violation, `57014` for a cancelled statement, and so on.
    pub fn code(&self) -> Option<&SqlState> {
        let source = match self {
            Error::Statement { source, .. } | Error::ReadOnlyServer(source) => Some(source),
            Error::Connect {
                source: Some(source),
                ..
            } => source.downcast_ref::<tokio_postgres::Error>(),
            _ => None,
        };
        source.and_then(tokio_postgres::Error::code)
    }

    /// Whether the server could not be reached or went away (no connection, a lost one, a
    /// server shutting down or starting up, a pool that stayed busy): the same work may
    /// succeed on another server, or on this one a little later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::PoolTimeout { .. } => true,
            Error::Statement { source, .. } => {
                let code = source.code().map(SqlState::code);
                source.is_closed()
                    || code.is_some_and(|code| {
                        code.starts_with("08") || code.starts_with("57P") || code == "53300"
                    })
                    || (code.is_none() && has_io_cause(source))
            }
            _ => false,
        }
    }
}

/// Whether an I/O error lies behind `err`: the connection broke mid-statement.
fn has_io_cause(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = err.source();
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

impl From<tokio_postgres::Error> for Error {
    /// A failure of a generated query run by hand: `?` works in functions returning
    /// [`Result`].
    fn from(source: tokio_postgres::Error) -> Self {
        Error::statement("query")(source)
    }
}

/// Why a connection could not be opened: every place tried, on one line.
#[derive(Debug)]
pub(crate) struct ConnectFailure {
    pub reason: String,
    /// The last attempt's underlying error: a `tokio_postgres::Error` or an `io::Error`.
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The server's own message for database errors (with SQLSTATE), else the driver's with its
/// causes, on one line.
pub fn message(err: &tokio_postgres::Error) -> String {
    let text = match err.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                let line = tls_reason(cause).unwrap_or_else(|| cause.to_string());
                if !text.contains(&line) {
                    text = format!("{text}: {line}");
                }
                source = cause.source();
            }
            text
        }
    };
    text.replace('\n', " ")
}

/// A TLS failure in words: rustls shows a refused certificate's reason with `Debug`.
fn tls_reason(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    use rustls::{AlertDescription, CertificateError};
    let io = cause.downcast_ref::<std::io::Error>()?;
    let tls = io.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match tls {
        rustls::Error::InvalidCertificate(CertificateError::Other(reason)) => reason.0.to_string(),
        rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => {
            "the server requires a client certificate (set sslcert and sslkey)".into()
        }
        rustls::Error::AlertReceived(
            AlertDescription::BadCertificate | AlertDescription::UnknownCA,
        ) => "the server refused the client certificate".into(),
        other => other.to_string(),
    })
}

/// What [`crate::Database::read`] needs of a read's error: whether another server may answer
/// (the read then moves on from a replica that failed) and the SQLSTATE behind it. Implement it
/// for an application's own error type that wraps [`Error`].
pub trait ReadError: From<Error> + std::fmt::Display {
    /// See [`Error::is_unavailable`].
    fn is_unavailable(&self) -> bool;
    /// See [`Error::code`].
    fn code(&self) -> Option<&SqlState>;
}

impl ReadError for Error {
    fn is_unavailable(&self) -> bool {
        Error::is_unavailable(self)
    }

    fn code(&self) -> Option<&SqlState> {
        Error::code(self)
    }
}
