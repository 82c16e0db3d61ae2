//! What a cornucopia-generated crate runs its queries on.
//!
//! cornucopia generates, besides the queries, a `client` module: a `GenericClient` trait and
//! the `one`/`opt`/`raw` functions every query calls with its SQL text. bottles-core provides
//! that module itself ([`generated_crate!`]), so each call arrives here with its SQL, and runs
//! as the connection's mode says (see [`crate::pooler`]): prepared once per connection, or
//! unnamed as one request behind a transaction pooler. The generated query files are used as
//! cornucopia wrote them; only the crate root is bottles', one line copied in by cornucopia's
//! `static` setting.

mod client;
mod ops;

pub use client::{GenericClient, Params, one, opt, raw};

/// The root of a cornucopia-generated crate: cornucopia's modules, with bottles-core's
/// [`GenericClient`] as its `client` module in place of cornucopia's own (whose files stay
/// unused). Put it in the file `cornucopia.toml` copies in as the crate root:
///
/// ```toml
/// static = [{ path = "cornucopia.rs", destination = "src/bottles.rs" }]
///
/// [manifest.lib]
/// path = "src/bottles.rs"
///
/// [manifest.dependencies]
/// bottles-core = { path = "…/crates/bottles-core" }
/// ```
///
/// with `cornucopia.rs` holding `bottles_core::generated_crate!();`. It declares what
/// cornucopia 1.0's `lib.rs` declares; a cornucopia that calls its client differently fails
/// to compile here rather than running wrongly.
#[macro_export]
macro_rules! generated_crate {
    () => {
        mod array_iterator;
        mod domain;
        #[allow(clippy::all, clippy::pedantic)]
        #[allow(unused_variables, unused_imports, dead_code)]
        pub mod queries;
        mod type_traits;
        #[allow(clippy::all, clippy::pedantic)]
        #[allow(unused_variables, unused_imports, dead_code)]
        pub mod types;
        mod utils;

        /// The client the generated queries call: bottles-core's.
        pub mod client {
            /// Where the generated queries look for their client.
            pub mod async_ {
                pub use $crate::generated::{GenericClient, Params, one, opt, raw};
            }
            pub use async_::*;
        }

        pub use array_iterator::ArrayIterator;
        #[cfg(feature = "deadpool")]
        pub use deadpool_postgres;
        pub use domain::{Domain, DomainArray};
        pub use tokio_postgres;
        pub use tokio_postgres::fallible_iterator;
        pub use type_traits::{ArraySql, BytesSql, IterSql, StringSql};
        pub(crate) use utils::slice_iter;
    };
}
