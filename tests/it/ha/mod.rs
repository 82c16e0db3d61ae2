//! High availability: writes and reads across a real pg_auto_failover formation's failovers
//! (`failover`), and what the pool does when the primary stops answering or taking writes
//! (`pool`).

mod failover;
mod pool;
