//! Indexes that back no constraint: on a table with rows they are built CONCURRENTLY, so
//! writes go on, and such a file runs outside a transaction.

use super::builder::Builder;
use super::types::Hazard;
use crate::ident::{ident, truncated};

/// `definition` (a `pg_get_indexdef`, which names the index `name`) as `CREATE [UNIQUE] INDEX
/// CONCURRENTLY new_name …`.
pub(super) fn concurrently(definition: &str, name: &str, new_name: &str) -> String {
    let Some(at) = definition.find(" INDEX ") else {
        return definition.to_string();
    };
    let (head, rest) = definition.split_at(at + " INDEX ".len());
    let rest = rest
        .strip_prefix(&format!("{} ", ident(name)))
        .map_or(rest.to_string(), |on| format!("{} {on}", ident(new_name)));
    format!("{head}CONCURRENTLY {rest}")
}

/// Creates the new indexes, and builds again those whose definition changed or that are
/// INVALID.
pub(super) fn create(b: &mut Builder) {
    for table in &b.to.tables {
        let from = b.from.table(&table.name);
        for index in &table.indexes {
            let Some(from) = from else {
                let why = "on a new table: no rows, so built plainly";
                b.step(index.definition.clone(), why, &[]);
                continue;
            };
            match from.index(&index.name) {
                None => {
                    let sql = concurrently(&index.definition, &index.name, &index.name);
                    let why = "CONCURRENTLY: built without blocking reads or writes (so outside a \
                        transaction), once the transactions open on the table when it starts have \
                        ended";
                    b.outside(sql, why, &[Hazard::BuildsIndexOnline])
                        .on(&ident(&table.name));
                }
                Some(old) if old.definition != index.definition || !old.valid => {
                    let why = if old.valid {
                        "the definition changes: the new index is built under another name \
                         first, so queries keep one meanwhile"
                    } else {
                        "the index is INVALID (a CREATE INDEX CONCURRENTLY failed): \
                         built again under another name first"
                    };
                    rebuild(b, &table.name, &index.definition, &index.name, why);
                }
                Some(_) => {}
            }
        }
    }
}

fn rebuild(b: &mut Builder, table: &str, definition: &str, name: &str, why: &str) {
    let temporary = truncated(format!("{name}_new"));
    let sql = concurrently(definition, name, &temporary);
    b.outside(sql, why, &[Hazard::BuildsIndexOnline])
        .on(&ident(table));
    let sql = format!("DROP INDEX CONCURRENTLY {}", ident(name));
    b.outside(sql, "the old index goes without blocking queries", &[]);
    let sql = format!(
        "ALTER INDEX {} RENAME TO {}",
        ident(&temporary),
        ident(name)
    );
    b.step(sql, "the new index takes the old one's name", &[]);
    b.recreated.insert(format!("index {}", ident(name)));
}

/// Drops the indexes of kept tables that are gone (a dropped table takes its own). In a file
/// that runs outside a transaction anyway, CONCURRENTLY, so no query waits.
pub(super) fn drop(b: &mut Builder, outside: bool) {
    let mut gone = Vec::new();
    for from in &b.from.tables {
        if let Some(to) = b.to.table(&from.name) {
            gone.extend(from.indexes.iter().filter(|i| to.index(&i.name).is_none()));
        }
    }
    for index in gone {
        if outside {
            let sql = format!("DROP INDEX CONCURRENTLY {}", ident(&index.name));
            b.outside(
                sql,
                "the index goes; CONCURRENTLY, since this file runs outside a transaction",
                &[],
            );
        } else {
            let sql = format!("DROP INDEX {}", ident(&index.name));
            b.step(
                sql,
                "the index goes: a brief lock on its table, its wait bounded by lock_timeout",
                &[],
            );
        }
    }
}
