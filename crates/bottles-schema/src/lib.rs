//! bottles-schema: what schema evolution needs from PostgreSQL, with PostgreSQL as the parser.
//!
//! - [`catalog::read`] reads the `public` schema of a database into a [`Catalog`]: tables,
//!   columns, constraints, indexes, enum types, sequences, views and comments, and by name and
//!   definition what it does not model ([`Catalog::unsupported`]), other schemas included.
//! - [`differences`] compares two catalogs, one line per object that differs: the drift check.
//! - [`plan()`] writes the migration from one catalog to another, online-safe where PostgreSQL
//!   allows it, and refuses what it cannot plan or what would delete data unless allowed.
//!
//! It depends on no other bottles crate: bottles-core depends on it.
#![deny(missing_docs)]

pub mod catalog;
mod error;
mod ident;
pub mod plan;

pub use catalog::compare::{Difference, DifferenceKind, differences};
pub use catalog::{
    Catalog, Column, Constraint, ConstraintKind, EnumType, Identity, Index, OwnedBy, Sequence,
    Table, Unsupported, View, ViewColumn,
};
pub use error::Error;
pub use plan::{Hazard, Plan, PlanError, PlanOptions, Step, plan, teardown};
