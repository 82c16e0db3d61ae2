//! Tables created and dropped whole.

use super::builder::Builder;
use super::columns;
use crate::catalog::ConstraintKind;
use crate::ident::ident;

/// Whether `kind` is written inside a new table's CREATE TABLE; foreign keys come after every
/// table exists (they may point at one created later, or at each other).
pub(super) fn inline(kind: ConstraintKind, validated: bool) -> bool {
    kind != ConstraintKind::ForeignKey && validated
}

/// CREATE TABLE for each table that is new, with its columns in order and its constraints
/// other than foreign keys.
pub(super) fn create(b: &mut Builder) {
    for table in &b.to.tables {
        if b.from.table(&table.name).is_some() {
            continue;
        }
        let mut lines: Vec<String> = table.columns.iter().map(columns::definition).collect();
        for c in &table.constraints {
            if inline(c.kind, c.validated) {
                lines.push(format!("CONSTRAINT {} {}", ident(&c.name), c.definition));
            }
        }
        let sql = format!(
            "CREATE TABLE {} (\n    {}\n)",
            ident(&table.name),
            lines.join(",\n    ")
        );
        b.step(
            sql,
            "a new table: created plainly, it has no rows to lock or scan",
            &[],
        );
    }
}

/// Drops the tables that are gone, in one statement: foreign keys between them need no order.
pub(super) fn drop(b: &mut Builder) {
    let gone: Vec<&str> = b
        .from
        .tables
        .iter()
        .filter(|t| b.to.table(&t.name).is_none())
        .map(|t| t.name.as_str())
        .collect();
    if gone.is_empty() {
        return;
    }
    let names: Vec<String> = gone.iter().map(|t| ident(t)).collect();
    let objects: Vec<String> = names.iter().map(|t| format!("table {t}")).collect();
    let sql = format!("DROP TABLE {}", names.join(", "));
    let why = "the table goes, and its rows with it (a rename is a drop and a create: write renames by hand)";
    b.deletes(objects.join(", "), &names.join(", "), sql, why);
}
