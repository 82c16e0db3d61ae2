//! Transaction poolers, and how statements run, in one place.
//!
//! Directly connected, a statement is prepared once per connection and kept: one round trip
//! per query after the first. A named prepared statement lives on one server connection,
//! though, and a transaction pooler hands a client another server connection for every
//! transaction: a kept statement is then missing (`26000`), already taken (`42P05`), or
//! someone else's, and a wrong answer is worse than an error. So behind a pooler each query is
//! sent unnamed, with its SQL, as one `Parse`/`Bind`/`Execute`/`Sync`, its parameter types
//! described once per node: still one round trip, and nothing outlives the request.
//!
//! This module holds the mode ([`Mode`]), the descriptions ([`describe`]), how a pooler is
//! recognised ([`detect`]), how each call runs ([`calls`]), and the gate that keeps requests
//! from being pipelined past the point where the pooler may take the server connection back
//! ([`gate`], with [`effect`] reading what a request does to the transaction).
//!
//! bottles switches by itself when it sees a pooler: one that makes up the connection's
//! `BackendKeyData` (PgBouncer does, to route cancel requests), one that refuses the `options`
//! start-up parameter, or a `26000`/`42P05` on a kept statement. `statement_cache_size=0` in
//! the URL (asyncpg's name for the same switch) runs unnamed from the start; any other value
//! keeps statements prepared whatever is detected (PgBouncer 1.21+ keeps them itself).

mod calls;
mod describe;
pub(crate) mod detect;
mod effect;
mod gate;
mod mode;

pub(crate) use calls::{Calls, On, Op};
pub(crate) use gate::Gate;
pub(crate) use mode::Mode;
