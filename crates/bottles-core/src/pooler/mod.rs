//! Transaction poolers, in one place. How statements run: prepared once per connection and
//! kept (the default: one round trip per query), or unprepared, each in a short transaction of
//! its own, when the connection goes through a transaction pooler such as PgBouncer. This
//! module holds the mode ([`Mode`]), how a pooler is recognised ([`detect`]), the gate that
//! sends one request at a time behind one ([`gate`]), and the calls that run unprepared
//! ([`calls`]).
//!
//! A named prepared statement lives on one server connection, and a transaction pooler hands a
//! client another server connection for every transaction: a kept statement is then missing
//! (`26000`), already taken (`42P05`), or someone else's, and a wrong answer is worse than an
//! error. Unprepared, a statement is prepared, run and deallocated inside one transaction,
//! which the pooler keeps on one server connection (see [`calls`]).
//!
//! bottles switches by itself when it sees a pooler: one that makes up the connection's
//! `BackendKeyData` (PgBouncer does, to route cancel requests), one that refuses the `options`
//! start-up parameter, or a `26000`/`42P05` on a kept statement. `statement_cache_size=0` in
//! the URL (asyncpg's name for the same switch) runs unprepared from the start; any other value
//! keeps statements prepared whatever is detected.

mod calls;
pub(crate) mod detect;
mod gate;
mod mode;

pub(crate) use calls::Calls;
pub use calls::Reads;
pub(crate) use gate::Gate;
pub(crate) use mode::Mode;
pub use mode::prepared_statements;
