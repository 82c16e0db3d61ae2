//! bottles: the SQLAlchemy notebook's data layer, SQL first, on tokio-postgres.
//!
//! The SQL lives in `schema.sql` and `queries/`; cornucopia compiles the queries into the typed
//! `bottles_codegen` crate, re-exported here as [`codegen`]. The infrastructure the queries run
//! on (a pool, [`Database`] and [`Client`]; the statement log, [`LOG_TARGET`]; pooler and
//! replica handling) is [`bottles_core`], re-exported here; this library adds the notebook's
//! steps built from the queries: [`reset`], [`seed`], and the two ways to load users with their
//! messages.
//!
//! ```no_run
//! # async fn demo() -> bottles::Result<()> {
//! use bottles::codegen::queries::messages::messages_from_user;
//! use futures::TryStreamExt;
//!
//! // `None`: no DATABASE_URL, so a throwaway local PostgreSQL is started (and removed on drop).
//! // bottles::open names the notebook's statements in the statement log.
//! let db = bottles::open(None).await?;
//! let mut client = db.client().await?;
//! bottles::reset(&mut client).await?;
//! bottles::seed(&mut client, &bottles::SeedPlan::notebook()).await?;
//!
//! // Any generated query runs on the pooled client, prepared once per connection.
//! let elis = messages_from_user().bind(&client, &"Eli").all().await?;
//! assert_eq!(elis.len(), 33);
//!
//! let users: Vec<_> = bottles::users_with_messages(&client).try_collect().await?;
//! assert_eq!(users[0].messages.len(), 34);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod error;
mod idempotency;
mod load;
mod migrations;
mod reset;
mod seed;
mod statements;

/// The typed queries cornucopia generated from `queries/`: `codegen::queries::users`,
/// `::messages` and `::tables`. Each takes a [`Client`], a [`Transaction`] or a
/// [`SharedClient`].
pub use bottles_codegen as codegen;
/// What command-line programs on bottles share (feature `cli`): see [`bottles_core::cli`].
#[cfg(feature = "cli")]
pub use bottles_core::cli;
/// Migrations: applying [`migrations()`] with [`migrate::migrate`], status, drift.
pub use bottles_core::migrate;
pub use bottles_core::{
    Client, ConnectOptions, Database, LOG_TARGET, Node, PoolOptions, SharedClient, SslMode,
    Transaction,
};
pub use error::{Error, Result};
pub use idempotency::{Answer, KEY_LIFETIME, write_once};
pub use load::{
    UserWithMessages, user_by_id_with_messages, user_by_name_with_messages, users_with_messages,
};
pub use migrations::{expected_schema, migrations, schemas};
pub use reset::{ResetReport, reset, reset_with_schema};
pub use seed::{SeedPlan, SeedProgress, SeedReport, seed, seed_with_progress};
pub use statements::{SCHEMA, STATEMENTS, statement_text};

/// [`PoolOptions`] with the notebook's statements named in the statement log; fill in the
/// rest as you like (`PoolOptions { size: 4, ..bottles::pool_options() }`).
pub fn pool_options() -> PoolOptions {
    PoolOptions {
        statements: Some(&STATEMENTS),
        ..PoolOptions::default()
    }
}

/// [`Database::open`] with the notebook's [`pool_options`].
pub async fn open(url: Option<&str>) -> Result<Database> {
    Ok(Database::open_with(url, pool_options()).await?)
}
