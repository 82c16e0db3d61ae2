//! bottles: the SQLAlchemy notebook's data layer, SQL first, on tokio-postgres.
//!
//! The SQL lives in `schema.sql` and `queries/`; cornucopia compiles the queries into the typed
//! `bottles_codegen` crate, re-exported here as [`codegen`]. This library gives those queries a
//! pool to run on ([`Database`], [`Client`]), a statement log ([`LOG_TARGET`]), and the
//! notebook's steps built from them: [`reset`], [`seed`], and the two ways to load users with
//! their messages.
//!
//! ```no_run
//! # async fn demo() -> bottles::Result<()> {
//! use bottles::codegen::queries::messages::messages_from_user;
//! use futures::TryStreamExt;
//!
//! // `None`: no DATABASE_URL, so a throwaway local PostgreSQL is started (and removed on drop).
//! let db = bottles::Database::open(None).await?;
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

mod bulk;
mod client;
mod config;
mod connect;
mod conninfo;
mod db;
mod echo;
mod error;
mod load;
mod mode;
mod passfile;
mod pool;
mod replicas;
mod schema;
mod shared;
mod sql;
mod tls;
mod unprepared;
mod wire;

#[cfg(feature = "cli")]
pub mod cli;

/// The typed queries cornucopia generated from `queries/`: `codegen::queries::users`,
/// `::messages` and `::tables`. Each takes a [`Client`] or a [`Transaction`].
pub use bottles_codegen as codegen;
pub use bulk::{SeedPlan, SeedProgress, SeedReport, seed, seed_with_progress};
pub use client::{Client, Transaction};
pub use config::ConnectOptions;
pub use db::{Database, PoolOptions};
pub use echo::LOG_TARGET;
pub use error::{Error, Result};
pub use load::{
    UserWithMessages, user_by_id_with_messages, user_by_name_with_messages, users_with_messages,
};
pub use schema::{ResetReport, reset, reset_with_schema};
pub use shared::SharedClient;
pub use sql::{SCHEMA, statement_text};
