//! bottles-web over real HTTP against a real PostgreSQL: each test serves its own database on
//! a free port (the zero2prod `spawn_app` pattern), or runs the binary itself.

mod browser;
mod docs;
mod endpoints;
mod errors;
mod failover;
mod helpers;
mod idempotency;
mod metrics;
mod openapi;
mod pooler;
mod replicas;
mod resilience;
mod schema;
mod shutdown;
mod tokens;
mod traces;
