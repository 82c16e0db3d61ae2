//! The notebook's errors: its own refusals (a second seed, a bad plan, tables not there yet)
//! over the core's ([`bottles_core::Error`]). Each message is one line without a password.

use tokio_postgres::error::SqlState;

/// Everything bottles can fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Connecting, the pool, or a statement failed (see [`bottles_core::Error`]).
    #[error(transparent)]
    Database(#[from] bottles_core::Error),

    /// `seed` found rows already there and changed nothing.
    #[error("seed refused: the database already holds {users} users and {messages} messages")]
    AlreadySeeded {
        /// Users found.
        users: i64,
        /// Messages found.
        messages: i64,
    },

    /// A seed plan that cannot be inserted (no users, or more rows than integer ids allow).
    #[error("invalid seed size: {0}")]
    InvalidPlan(String),

    /// `reset` met an object `schema.sql` creates that is already there and that reset does not
    /// drop (a schema other than public, a function): nothing changed.
    #[error(
        "reset changed nothing: schema.sql creates what is already there ({}), and reset drops only the tables, views, sequences and enum types of public that schema.sql declares; drop it by hand (or create it with IF NOT EXISTS / OR REPLACE in schema.sql), then rerun",
        bottles_core::message(.0)
    )]
    NotDropped(#[source] tokio_postgres::Error),

    /// The tables do not exist: the database has not been reset yet.
    #[error("the tables \"user\" and message do not exist yet")]
    MissingTables(#[source] tokio_postgres::Error),
}

/// `Result` with bottles' [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps a failed statement, naming the step; "relation does not exist" becomes
    /// [`Error::MissingTables`], the one failure a user most often meets.
    pub(crate) fn statement(step: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
        move |source| match source.code() {
            Some(&SqlState::UNDEFINED_TABLE) => Error::MissingTables(source),
            _ => Error::Database(bottles_core::Error::statement(step)(source)),
        }
    }

    /// The SQLSTATE of the database error behind this one, if any (see
    /// [`bottles_core::Error::code`]).
    pub fn code(&self) -> Option<&SqlState> {
        match self {
            Error::Database(err) => err.code(),
            Error::MissingTables(source) | Error::NotDropped(source) => source.code(),
            Error::AlreadySeeded { .. } | Error::InvalidPlan(_) => None,
        }
    }

    /// Whether the server could not be reached or went away (see
    /// [`bottles_core::Error::is_unavailable`]).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Database(err) if err.is_unavailable())
    }
}

impl From<tokio_postgres::Error> for Error {
    /// A failure of a generated query run by hand: `?` works in functions returning
    /// [`Result`].
    fn from(source: tokio_postgres::Error) -> Self {
        Error::statement("query")(source)
    }
}

impl bottles_core::ReadError for Error {
    fn is_unavailable(&self) -> bool {
        Error::is_unavailable(self)
    }

    fn code(&self) -> Option<&SqlState> {
        Error::code(self)
    }
}
