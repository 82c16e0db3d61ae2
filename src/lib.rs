//! bottles: the SQLAlchemy notebook's reset → seed → query pipeline, SQL first.
//!
//! The SQL lives in `schema.sql` and `queries/`; cornucopia compiles it into the typed
//! `bottles_codegen` crate (re-exported as [`codegen`]). This library composes those queries:
//!
//! ```no_run
//! # async fn demo() -> bottles::Result<()> {
//! // `None`: no DATABASE_URL, so a throwaway local PostgreSQL is started (and removed on drop).
//! let db = bottles::Database::open(None).await?;
//! let mut client = db.client().await?;
//! bottles::reset(&mut client).await?;
//! bottles::seed(&mut client, &bottles::SeedPlan::notebook()).await?;
//! let report = bottles::run_query_cells(&client, "Eli").await?;
//! assert_eq!(report.messages_from_user.count, 33);
//! # Ok(()) }
//! ```

pub mod cli;
pub mod db;
pub mod echo;
pub mod error;
pub mod query;
mod report;
pub mod reset;
pub mod seed;
mod tls;

pub use bottles_codegen as codegen;
pub use db::{Database, PoolOptions};
pub use error::{Error, Result};
pub use query::{
    QueryReport, UserWithMessages, message_count, messages_from, run_query_cells, user_count,
    users_by_name_selectin, users_with_messages_joined, users_with_messages_stream,
};
pub use reset::{ResetReport, reset};
pub use seed::{SeedPlan, SeedProgress, SeedReport, seed, seed_with_progress};
