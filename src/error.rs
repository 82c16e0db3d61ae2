//! One error type for everything bottles can fail at, each with a message a user can act on.

use deadpool_postgres::PoolError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connection string did not parse. Its text is never repeated: it may hold a password.
    #[error("invalid DATABASE_URL: {0}")]
    InvalidUrl(String),

    #[error("could not start a local PostgreSQL (set DATABASE_URL to use your own server): {0}")]
    LocalServer(#[from] throwaway_pg::Error),

    #[error("could not connect to {target}: {reason}")]
    Connect { target: String, reason: String },

    #[error(
        "seed refused: the database already holds {users} users and {messages} messages \
         (run `bottles reset` first, or plain `bottles` to reset, seed and query)"
    )]
    AlreadySeeded { users: i64, messages: i64 },

    /// A seed plan that cannot be inserted (no users, or more rows than integer ids allow).
    #[error("invalid seed size: {0}")]
    InvalidPlan(String),

    #[error("the tables \"user\" and message do not exist yet (run `bottles reset` first)")]
    MissingTables,

    #[error("{step} failed: {reason}")]
    Statement { step: &'static str, reason: String },

    #[error("interrupted")]
    Interrupted,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a failed statement, naming the step; "relation does not exist" becomes
    /// [`Error::MissingTables`], the one failure a user most often meets.
    pub(crate) fn statement(step: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
        move |err| {
            let missing = err.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE);
            if missing {
                Error::MissingTables
            } else {
                Error::Statement {
                    step,
                    reason: describe(&err),
                }
            }
        }
    }

    pub(crate) fn pool(target: &str) -> impl FnOnce(PoolError) -> Error + '_ {
        move |err| {
            let reason = match err {
                PoolError::Backend(err) => describe(&err),
                PoolError::Timeout(kind) => format!("timed out ({kind:?})").to_lowercase(),
                other => other.to_string(),
            };
            Error::Connect {
                target: target.to_string(),
                reason,
            }
        }
    }
}

/// The server's own message for database errors (with SQLSTATE), else the driver's, on one line.
pub(crate) fn describe(err: &tokio_postgres::Error) -> String {
    let text = match err.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                let line = cause.to_string();
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
