//! bottles' integration tests, one binary (one link, one throwaway server) with a module each:
//! everything runs against a real PostgreSQL over a real connection. See `helpers` for the
//! per-test databases and `TEST_LOG`.

mod capture;
mod cli;
mod codegen;
mod echo;
mod faults;
mod ha;
mod helpers;
mod hostile;
mod idempotency;
mod libpq;
mod migrate;
mod otlp;
mod pipeline;
mod pooler;
mod replicas;
mod scale;
mod scale_out;
mod secrets;
mod shared;
mod signals;
