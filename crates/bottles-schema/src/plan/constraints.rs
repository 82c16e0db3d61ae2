//! Constraints added, changed, validated and dropped. On a table with rows a constraint is
//! added so that its check of the existing rows takes no lock that blocks the application.

use super::builder::Builder;
use super::indexes::concurrently;
use super::tables::inline;
use super::types::Hazard;
use crate::catalog::{Constraint, ConstraintKind};
use crate::ident::ident;

/// Adds, replaces and validates constraints: primary keys and unique ones before the checks
/// and foreign keys, which may rely on them.
pub(super) fn add(b: &mut Builder) {
    let mut work: Vec<(&str, &Constraint)> =
        b.to.tables
            .iter()
            .flat_map(|t| t.constraints.iter().map(move |c| (t.name.as_str(), c)))
            .collect();
    work.sort_by_key(|(table, c)| (c.kind, *table, c.name.as_str()));
    for (table, to) in work {
        let Some(from_table) = b.from.table(table) else {
            if !inline(to.kind, to.validated) {
                on_new_table(b, table, to);
            }
            continue;
        };
        match from_table.constraint(&to.name) {
            None => on_table_with_rows(b, table, to, false),
            Some(from) if from.kind != to.kind || from.definition != to.definition => {
                on_table_with_rows(b, table, to, true);
            }
            Some(from) if from.validated != to.validated => {
                if to.validated {
                    validate(b, table, to);
                } else {
                    on_table_with_rows(b, table, to, true);
                }
            }
            Some(_) => {}
        }
    }
}

fn on_new_table(b: &mut Builder, table: &str, c: &Constraint) {
    let not_valid = if c.validated { "" } else { " NOT VALID" };
    let sql = format!(
        "ALTER TABLE {} ADD CONSTRAINT {} {}{not_valid}",
        ident(table),
        ident(&c.name),
        c.definition
    );
    b.step(
        sql,
        "on a new table, after every table exists: no rows to check",
        &[],
    );
}

/// `replace`: a constraint of that name is there and differs.
fn on_table_with_rows(b: &mut Builder, table: &str, c: &Constraint, replace: bool) {
    let t = ident(table);
    let name = ident(&c.name);
    match (c.kind, &c.index) {
        (ConstraintKind::Check | ConstraintKind::ForeignKey, _) => {
            let drop = if replace {
                format!(" DROP CONSTRAINT {name},")
            } else {
                String::new()
            };
            let sql = format!(
                "ALTER TABLE {t}{drop} ADD CONSTRAINT {name} {} NOT VALID",
                c.definition
            );
            let lock = match references(c) {
                Some(other) if other == t => format!("SHARE ROW EXCLUSIVE on {t}"),
                Some(other) => format!("SHARE ROW EXCLUSIVE on {t} and on {other}"),
                None => format!("ACCESS EXCLUSIVE on {t}"),
            };
            let why = match replace {
                true => format!(
                    "replaced in one statement, so the table is never without it; NOT VALID: \
                     only new rows are checked, so its lock is brief: {lock}"
                ),
                false => {
                    format!("NOT VALID: only new rows are checked, so its lock is brief: {lock}")
                }
            };
            b.step(sql, &why, &[]);
            if c.validated {
                validate(b, table, c);
            }
        }
        (ConstraintKind::PrimaryKey | ConstraintKind::Unique, Some(index)) => {
            if replace {
                let why = "the constraint changes: it goes, and the table is without it until it is built again below";
                b.step(format!("ALTER TABLE {t} DROP CONSTRAINT {name}"), why, &[]);
            }
            let why = "the constraint's index is built first, CONCURRENTLY: reads and writes go \
                on meanwhile";
            b.outside(
                concurrently(index, &c.name, &c.name),
                why,
                &[Hazard::BuildsIndexOnline],
            )
            .on(&t);
            let kind = if c.kind == ConstraintKind::PrimaryKey {
                "PRIMARY KEY"
            } else {
                "UNIQUE"
            };
            let sql = format!(
                "ALTER TABLE {t} ADD CONSTRAINT {name} {kind} USING INDEX {name}{}",
                deferrable(&c.definition)
            );
            b.step(
                sql,
                "USING INDEX turns the built index into the constraint: a brief ACCESS EXCLUSIVE \
                 lock, no scan",
                &[],
            );
        }
        _ => {
            // Exclusion constraints (and a key without its index, which the catalog never
            // gives) cannot be built CONCURRENTLY.
            if replace {
                b.step(
                    format!("ALTER TABLE {t} DROP CONSTRAINT {name}"),
                    "the constraint changes: it goes first",
                    &[],
                );
            }
            let sql = format!("ALTER TABLE {t} ADD CONSTRAINT {name} {}", c.definition);
            let why = "an exclusion constraint cannot be built CONCURRENTLY: its index is built under lock";
            b.step(sql, why, &[Hazard::LocksTable]).on(&t);
        }
    }
}

fn validate(b: &mut Builder, table: &str, c: &Constraint) {
    let sql = format!(
        "ALTER TABLE {} VALIDATE CONSTRAINT {}",
        ident(table),
        ident(&c.name)
    );
    // In the transaction that added it NOT VALID, VALIDATE would scan under that statement's
    // stronger lock: it has to commit on its own.
    let other = match references(c) {
        Some(other) if other != ident(table) => {
            format!(" (and ROW SHARE on {other}, whose rows it looks up)")
        }
        _ => String::new(),
    };
    let why = format!(
        "VALIDATE checks the existing rows under SHARE UPDATE EXCLUSIVE{other}, in a transaction \
         of its own (the one that added the constraint has committed): reads and writes go on"
    );
    b.outside(sql, &why, &[Hazard::ValidatesOnline])
        .on(&ident(table));
}

/// The table a foreign key references, as its definition names it.
fn references(c: &Constraint) -> Option<&str> {
    if c.kind != ConstraintKind::ForeignKey {
        return None;
    }
    let rest = c.definition.split_once(" REFERENCES ")?.1;
    rest.split_once('(').map(|(table, _)| table.trim())
}

/// The `DEFERRABLE …` end of a key's definition, which USING INDEX must repeat.
fn deferrable(definition: &str) -> &str {
    definition
        .find(" DEFERRABLE")
        .map_or("", |at| &definition[at..])
}

/// Drops the constraints of kept tables that are gone, foreign keys first: a key they rely on
/// cannot go before them.
pub(super) fn drop(b: &mut Builder) {
    let mut gone: Vec<(&str, &Constraint)> = Vec::new();
    for from in &b.from.tables {
        let Some(to) = b.to.table(&from.name) else {
            continue;
        };
        for c in from
            .constraints
            .iter()
            .filter(|c| to.constraint(&c.name).is_none())
        {
            gone.push((from.name.as_str(), c));
        }
    }
    gone.sort_by_key(|(table, c)| (std::cmp::Reverse(c.kind), *table, c.name.as_str()));
    for (table, c) in gone {
        let sql = format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            ident(table),
            ident(&c.name)
        );
        b.step(
            sql,
            "the constraint goes: a catalog change (the rows stay)",
            &[],
        );
    }
}
