//! The migration from one catalog to another ([`plan()`]): each change in the form that keeps
//! the application running where PostgreSQL allows it, its hazards named, and refusals for
//! what cannot be planned or would delete data unasked.
//!
//! The order: views that must be rebuilt are dropped; then enum types and values, sequences,
//! tables, columns, constraints (keys before foreign keys), indexes, views, comments; then
//! what is gone: constraints, indexes, columns, tables, sequences, enum types. A rename looks
//! like a drop and an add, and is planned so (refused unless destructive plans are allowed).

mod builder;
mod columns;
mod constraints;
mod indexes;
mod objects;
mod render;
mod tables;
mod teardown;
mod types;
mod views;

pub use teardown::teardown;
pub use types::{Hazard, Plan, PlanError, PlanOptions, Step};

use crate::catalog::{Catalog, Unsupported};
use crate::ident::ident;

/// Plans the migration that turns a database whose schema is `from` into one whose schema is
/// `to`. Refused, naming the object: something of [`Catalog::unsupported`] that comes, goes or
/// changes its definition; an enum value removed, renamed or moved; and, unless
/// `options.allow_destructive`, any step that deletes data.
pub fn plan(from: &Catalog, to: &Catalog, options: &PlanOptions) -> Result<Plan, PlanError> {
    unplannable(from, to)?;
    let mut b = builder::Builder::new(from, to);
    let rebuilt = views::rebuilt(from, to);
    views::drop(&mut b, &rebuilt);
    objects::enums(&mut b)?;
    objects::sequences(&mut b);
    tables::create(&mut b);
    columns::alter(&mut b);
    objects::owners(&mut b);
    constraints::add(&mut b);
    indexes::create(&mut b);
    views::create(&mut b, &rebuilt);
    objects::comments(&mut b);
    objects::commit_added_values(&mut b);
    let outside = b.steps.iter().any(|s| s.outside_transaction);
    constraints::drop(&mut b);
    indexes::drop(&mut b, outside);
    columns::drop(&mut b);
    tables::drop(&mut b);
    objects::drop_sequences(&mut b);
    objects::drop_enums(&mut b);
    if !options.allow_destructive && !b.destructive.is_empty() {
        return Err(PlanError::Destructive {
            object: b.destructive.join(", "),
            rename: renamed_to(from, to),
        });
    }
    Ok(Plan {
        steps: b.steps,
        lock_timeout: options.lock_timeout,
    })
}

/// A column added to a table that also loses one, or a table added while one goes: what a
/// rename, which reads as a drop and an add, may have been.
fn renamed_to(from: &Catalog, to: &Catalog) -> Option<String> {
    for table in &to.tables {
        let Some(old) = from.table(&table.name) else {
            continue;
        };
        let gone = old.columns.iter().any(|c| table.column(&c.name).is_none());
        let added = table.columns.iter().find(|c| old.column(&c.name).is_none());
        if let (true, Some(added)) = (gone, added) {
            return Some(format!(
                "column {}.{}",
                ident(&table.name),
                ident(&added.name)
            ));
        }
    }
    let gone = from.tables.iter().any(|t| to.table(&t.name).is_none());
    let added = to.tables.iter().find(|t| from.table(&t.name).is_none());
    added
        .filter(|_| gone)
        .map(|t| format!("table {}", ident(&t.name)))
}

/// The first object the catalog does not model that comes, goes or changes.
fn unplannable(from: &Catalog, to: &Catalog) -> Result<(), PlanError> {
    let differs = |u: &Unsupported, other: &Catalog| match other.unsupported(&u.name) {
        None => Some(PlanError::Unsupported(u.name.clone())),
        Some(o) if o.definition != u.definition => {
            Some(PlanError::UnsupportedChange(u.name.clone()))
        }
        Some(_) => None,
    };
    let mut found: Vec<(&str, PlanError)> = to
        .unsupported
        .iter()
        .filter_map(|u| differs(u, from).map(|e| (u.name.as_str(), e)))
        .chain(
            from.unsupported
                .iter()
                .filter(|u| to.unsupported(&u.name).is_none())
                .map(|u| (u.name.as_str(), PlanError::Unsupported(u.name.clone()))),
        )
        .collect();
    // A function is most often there for a trigger or policy: name that, the reason for both.
    found.sort_by_key(|(name, _)| name.starts_with("function "));
    found
        .into_iter()
        .next()
        .map_or(Ok(()), |(_, refusal)| Err(refusal))
}
