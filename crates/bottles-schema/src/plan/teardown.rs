//! The opposite of a schema: what `reset` runs before recreating one.

use crate::catalog::Catalog;
use crate::ident::ident;

/// `DROP … IF EXISTS` for every object of `catalog`, without `CASCADE`: views, then tables,
/// then the sequences no column owns, then enum types, each kind in one statement so that
/// objects of one kind that depend on each other go together. Safe on a database that has
/// none of them; fails (and changes nothing, in a transaction) if an object outside `catalog`
/// still depends on one, rather than dropping what it was not told about.
pub fn teardown(catalog: &Catalog) -> String {
    let views = catalog.views.iter().map(|v| v.name.as_str());
    let tables = catalog.tables.iter().map(|t| t.name.as_str());
    let sequences = catalog.sequences.iter().filter(|s| s.owned_by.is_none());
    let sequences = sequences.map(|s| s.name.as_str());
    let types = catalog.enums.iter().map(|e| e.name.as_str());
    let mut text = String::new();
    for (kind, names) in [
        ("VIEW", names(views)),
        ("TABLE", names(tables)),
        ("SEQUENCE", names(sequences)),
        ("TYPE", names(types)),
    ] {
        if !names.is_empty() {
            text.push_str(&format!("DROP {kind} IF EXISTS {names};\n"));
        }
    }
    text
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.map(ident).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{EnumType, Sequence, Table, View};

    #[test]
    fn views_tables_free_sequences_then_types() {
        let table = |name: &str| Table {
            name: name.into(),
            columns: Vec::new(),
            constraints: Vec::new(),
            indexes: Vec::new(),
            comment: None,
        };
        let sequence = |name: &str| Sequence {
            name: name.into(),
            data_type: "bigint".into(),
            start: 1,
            increment: 1,
            min: 1,
            max: i64::MAX,
            cache: 1,
            cycle: false,
            owned_by: None,
            comment: None,
        };
        let owned = Sequence {
            owned_by: Some(crate::catalog::OwnedBy {
                table: "message".into(),
                column: "id".into(),
            }),
            ..sequence("message_id_seq")
        };
        let catalog = Catalog {
            tables: vec![table("message"), table("user")],
            enums: vec![EnumType {
                name: "Mood".into(),
                labels: vec!["ok".into()],
                comment: None,
            }],
            sequences: vec![owned, sequence("tickets")],
            views: vec![View {
                name: "recent".into(),
                definition: String::new(),
                columns: Vec::new(),
                options: Vec::new(),
                uses: Vec::new(),
                comment: None,
            }],
            unsupported: Vec::new(),
        };
        assert_eq!(
            teardown(&catalog),
            "DROP VIEW IF EXISTS recent;\nDROP TABLE IF EXISTS message, \"user\";\n\
             DROP SEQUENCE IF EXISTS tickets;\nDROP TYPE IF EXISTS \"Mood\";\n"
        );
        assert_eq!(teardown(&Catalog::default()), "");
    }
}
