//! The pool: a [`Database`] is a primary [`Node`] and its read replicas; a node hands out
//! pooled connections ([`Client`], with [`Transaction`]s) and shared, pipelined ones
//! ([`SharedClient`]). All three run cornucopia's generated queries ([`crate::generic_client!`]).

mod client;
mod database;
mod manager;
mod node;
mod options;
mod replicas;
mod shared;
mod stats;
mod waits;

pub use client::{Client, Transaction};
pub use database::Database;
pub use node::Node;
pub use options::PoolOptions;
pub use shared::SharedClient;
pub use stats::{DatabaseStats, NodeStats, ReplicaState, ReplicaStats};
pub use waits::{WAIT_BUCKETS, WaitTimes};
