//! Columns: added, changed and dropped, each change in the form that locks least.

use super::builder::Builder;
use super::types::Hazard;
use crate::catalog::{Column, Identity, Table};
use crate::ident::{ident, literal, truncated};

/// Functions whose default gives each row its own value, so adding the column rewrites the
/// table (other defaults are stored once in the catalog, PostgreSQL 11+). A heuristic on the
/// expression's text: the planner has no server to ask.
const VOLATILE: [&str; 7] = [
    "nextval(",
    "random(",
    "clock_timestamp(",
    "timeofday(",
    "gen_random_uuid(",
    "uuid_generate_",
    "txid_current(",
];

/// `name type [COLLATE c] [DEFAULT … | GENERATED …] [NOT NULL]`, as in CREATE TABLE.
pub(super) fn definition(c: &Column) -> String {
    let mut sql = format!("{} {}", ident(&c.name), c.data_type);
    if let Some(collation) = &c.collation {
        sql.push_str(&format!(" COLLATE {}", ident(collation)));
    }
    if let Some(expression) = &c.generated {
        sql.push_str(&format!(" GENERATED ALWAYS AS ({expression}) STORED"));
    } else if let Some(identity) = c.identity {
        sql.push_str(&format!(
            " GENERATED {} AS IDENTITY",
            identity_kind(identity)
        ));
    } else if let Some(default) = &c.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if c.not_null && c.identity.is_none() {
        sql.push_str(" NOT NULL");
    }
    sql
}

fn identity_kind(identity: Identity) -> &'static str {
    match identity {
        Identity::Always => "ALWAYS",
        Identity::ByDefault => "BY DEFAULT",
    }
}

/// Whether adding `c` to a table with rows fills each row: a rewrite.
fn fills_rows(c: &Column) -> bool {
    c.identity.is_some()
        || c.generated.is_some()
        || c.default
            .as_deref()
            .is_some_and(|d| VOLATILE.iter().any(|f| d.contains(f)))
}

/// Whether `table`'s columns change in a way that needs the views reading it rebuilt.
pub(super) fn rebuilds_readers(from: &Table, to: &Table) -> bool {
    from.columns.iter().any(|f| match to.column(&f.name) {
        None => true,
        Some(t) => type_of(f) != type_of(t) || f.generated != t.generated,
    })
}

fn type_of(c: &Column) -> (&str, Option<&str>) {
    (&c.data_type, c.collation.as_deref())
}

/// Adds and changes the columns of every table kept; drops come last ([`drop`]).
pub(super) fn alter(b: &mut Builder) {
    for to in &b.to.tables {
        let Some(from) = b.from.table(&to.name) else {
            continue;
        };
        for column in &to.columns {
            match from.column(&column.name) {
                None => add(b, &to.name, column),
                Some(old) => change(b, &to.name, old, column),
            }
        }
    }
}

fn add(b: &mut Builder, table: &str, c: &Column) {
    let t = ident(table);
    let sql = format!("ALTER TABLE {t} ADD COLUMN {}", definition(c));
    if fills_rows(c) {
        let why =
            "new column: its value is computed for every existing row, which rewrites the table";
        b.step(sql, why, &[Hazard::RewritesTable, Hazard::LocksTable])
            .on(&t);
    } else if c.not_null && c.default.is_none() {
        let why = "new NOT NULL column with no default: fails if the table has rows \
            (give it a default in schema.sql, or add it nullable, fill it, then SET NOT NULL)";
        b.step(sql, why, &[Hazard::FailsWithRows]).on(&t);
    } else if c.default.is_some() {
        b.step(
            sql,
            "new column: its default is stored once in the catalog (PostgreSQL 11+), no rewrite; \
             a brief ACCESS EXCLUSIVE lock on the table, its wait bounded by lock_timeout",
            &[],
        );
    } else {
        b.step(
            sql,
            "new nullable column: a catalog change, no rewrite; a brief ACCESS EXCLUSIVE lock on \
             the table, its wait bounded by lock_timeout",
            &[],
        );
    }
}

fn change(b: &mut Builder, table: &str, from: &Column, to: &Column) {
    let t = ident(table);
    let col = ident(&to.name);
    let alter = format!("ALTER TABLE {t} ALTER COLUMN {col}");
    if to.generated.is_some() && from.generated != to.generated {
        // PostgreSQL 15 cannot change a generation expression in place: the column is built again.
        let sql = format!(
            "ALTER TABLE {t} DROP COLUMN {col}, ADD COLUMN {}",
            definition(to)
        );
        let hazards = [Hazard::RewritesTable, Hazard::LocksTable];
        b.recreated.insert(format!("column {t}.{col}"));
        if from.generated.is_none() {
            b.destructive.push(format!("column {t}.{col}"));
            let why =
                "a stored column becomes generated: dropped (its values are lost) and added again";
            b.step(sql, why, &[Hazard::DeletesData, hazards[0], hazards[1]])
                .on(&t);
        } else {
            let why = "the generation expression changes: dropped and added again in one statement";
            b.step(sql, why, &hazards).on(&t);
        }
        return;
    }
    if from.generated.is_some() && to.generated.is_none() {
        b.step(
            format!("{alter} DROP EXPRESSION"),
            "no longer generated: keeps its values",
            &[],
        );
    }
    let retyped = type_of(from) != type_of(to);
    let default_changes = from.default != to.default;
    if from.default.is_some() && (default_changes || retyped) {
        let why = if retyped {
            "the default goes first: the old one may not cast to the new type"
        } else {
            "the default changes: a catalog change, for rows inserted from now on"
        };
        b.step(format!("{alter} DROP DEFAULT"), why, &[]);
    }
    if from.identity.is_some() && to.identity.is_none() {
        b.step(
            format!("{alter} DROP IDENTITY"),
            "no longer an identity column: keeps its values",
            &[],
        );
    }
    if retyped {
        let mut new_type = to.data_type.clone();
        if let Some(collation) = &to.collation {
            new_type.push_str(&format!(" COLLATE {}", ident(collation)));
        }
        let sql = format!("{alter} TYPE {new_type} USING {col}::{}", to.data_type);
        let why = "the type changes: USING casts each value, rewriting the table and its indexes";
        b.step(sql, why, &[Hazard::RewritesTable, Hazard::LocksTable])
            .on(&t);
    }
    if from.not_null && !to.not_null {
        b.step(
            format!("{alter} DROP NOT NULL"),
            "NOT NULL goes: a catalog change",
            &[],
        );
    }
    if !from.not_null && to.not_null {
        set_not_null(b, table, &to.name);
    }
    if let Some(default) = &to.default
        && (default_changes || (retyped && from.default.is_some()))
    {
        let why = "the default: a catalog change, for rows inserted from now on";
        b.step(format!("{alter} SET DEFAULT {default}"), why, &[]);
    }
    match (from.identity, to.identity) {
        (None, Some(identity)) => {
            let sql = format!(
                "{alter} ADD GENERATED {} AS IDENTITY",
                identity_kind(identity)
            );
            b.step(sql, "becomes an identity column", &[]);
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence({}, {}), coalesce(max({col}), 0) + 1, false) FROM {t}",
                literal(&t),
                literal(&to.name)
            );
            b.step(
                sql,
                "the identity starts after the values already there",
                &[],
            );
        }
        (Some(old), Some(new)) if old != new => {
            let sql = format!("{alter} SET GENERATED {}", identity_kind(new));
            b.step(sql, "the identity's kind changes: a catalog change", &[]);
        }
        _ => {}
    }
}

/// SET NOT NULL alone scans the table under an ACCESS EXCLUSIVE lock; a validated check lets
/// PostgreSQL 12+ skip that scan, and validating one blocks no reads or writes.
fn set_not_null(b: &mut Builder, table: &str, column: &str) {
    let t = ident(table);
    let col = ident(column);
    let check = ident(&truncated(format!("{table}_{column}_not_null")));
    let sql = format!("ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID");
    b.step(sql, "SET NOT NULL online (1/4): a NOT VALID check, checked for new rows only, takes a brief ACCESS EXCLUSIVE lock", &[]);
    let sql = format!("ALTER TABLE {t} VALIDATE CONSTRAINT {check}");
    b.step(
        sql,
        "SET NOT NULL online (2/4): the existing rows are checked under SHARE UPDATE EXCLUSIVE, \
         which blocks no reads or writes",
        &[Hazard::ValidatesOnline],
    )
    .on(&t);
    let sql = format!("ALTER TABLE {t} ALTER COLUMN {col} SET NOT NULL");
    b.step(
        sql,
        "SET NOT NULL online (3/4): the validated check spares this its own scan under its \
         ACCESS EXCLUSIVE lock, which is brief",
        &[],
    );
    let sql = format!("ALTER TABLE {t} DROP CONSTRAINT {check}");
    b.step(
        sql,
        "SET NOT NULL online (4/4): the check has done its job",
        &[],
    );
}

/// Drops the columns of kept tables that are gone.
pub(super) fn drop(b: &mut Builder) {
    for from in &b.from.tables {
        let Some(to) = b.to.table(&from.name) else {
            continue;
        };
        for column in from.columns.iter().filter(|c| to.column(&c.name).is_none()) {
            let object = format!("column {}.{}", ident(&from.name), ident(&column.name));
            let sql = format!(
                "ALTER TABLE {} DROP COLUMN {}",
                ident(&from.name),
                ident(&column.name)
            );
            if column.generated.is_some() {
                // Its values come from other columns: nothing is lost.
                b.step(
                    sql,
                    "a generated column goes: its values derive from the others",
                    &[],
                );
            } else {
                let why = "the column goes, and its values with it \
                    (a rename is a drop and an add: write renames by hand)";
                b.deletes(object, &ident(&from.name), sql, why);
            }
        }
    }
}
