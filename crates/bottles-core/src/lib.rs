//! bottles-core: what a SQL-first data layer on cornucopia needs besides its SQL, for any
//! cornucopia-generated crate.
//!
//! - [`connection`]: settings read the way libpq reads them ([`ConnectOptions`]: URL or
//!   `key=value`, service file, `PG*`, `~/.pgpass`), TLS by a typed [`SslMode`].
//! - The statement log ([`LOG_TARGET`]), read off the wire so it sees every statement, with the
//!   application's [`Statements`] to name them.
//! - Transaction poolers (PgBouncer) detected and handled with no setting.
//! - A [`Database`]: a primary [`Node`] with pooled [`Client`]s and pipelined
//!   [`SharedClient`]s, and read replicas ([`Database::read`]).
//!
//! A generated crate runs its queries on the core's clients once its root is one line, copied
//! in by cornucopia (`cornucopia.toml`):
//!
//! ```toml
//! static = [{ path = "cornucopia.rs", destination = "src/bottles.rs" }]
//!
//! [manifest.lib]
//! path = "src/bottles.rs"               # the crate root: cornucopia's modules, bottles' client
//!
//! [manifest.dependencies]
//! bottles-core = { path = "…/crates/bottles-core" }
//! ```
//!
//! where `cornucopia.rs` is `bottles_core::generated_crate!();` (see [`generated_crate!`]).
#![deny(missing_docs)]

pub mod connection;
mod error;
#[doc(hidden)]
pub mod generated;
mod log;
pub mod migrate;
mod pool;
mod pooler;
mod wire;

#[cfg(feature = "cli")]
pub mod cli;

pub use connection::{ConfigError, ConfigErrorKind, ConnectOptions, SslMode};
pub use error::{Error, ReadError, Result, message};
pub use generated::GenericClient;
pub use log::{LOG_TARGET, Named, SPAN_TARGET, Statements};
pub use pool::{Client, Database, Node, PoolOptions, SharedClient, Transaction};
pub use pool::{DatabaseStats, NodeStats, ReplicaState, ReplicaStats, WAIT_BUCKETS, WaitTimes};
