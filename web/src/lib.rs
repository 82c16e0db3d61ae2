//! bottles-web: the notebook's users and messages as a JSON HTTP service, on the bottles
//! library and its generated queries. Every statement it runs is in `queries/`.
//!
//! [`Application`] builds the service on a [`bottles::Database`] and serves it until a shutdown
//! signal, then lets requests in flight finish (for up to [`SHUTDOWN_GRACE`]). The
//! `bottles-web` binary and the tests both start it that way ([`startup`]).
//!
//! Short statements with a bounded answer (a page of messages, one-row inserts, the health
//! check) run on the database's few shared connections, pipelined
//! ([`bottles::Database::shared_client`]); reads whose size grows with the data (all users, a
//! user's messages, the counts) take a pooled connection of their own, so no one waits behind
//! them.
#![deny(missing_docs)]

mod access;
mod docs;
mod errors;
mod extract;
mod idempotent;
pub mod openapi;
mod reads;
mod routes;
pub mod startup;
pub mod telemetry;
mod tokens;
mod users;
mod writes;

pub use access::ACCESS_LOG_TARGET;
pub use errors::ApiError;
pub use routes::{ServiceOptions, api, router};
pub use startup::{Application, SHUTDOWN_GRACE, fill_with_notebook};
pub use tokens::Tokens;
