//! A database's `public` schema read from its catalogs ([`read`]), and what differs between
//! two ([`compare`]). The queries are the `.sql` files of `sql/`, one each. Other schemas are
//! not modeled, but named with their objects ([`Catalog::unsupported`]).

pub mod compare;
mod model;

use tokio_postgres::{Client, Row};

pub use model::{
    Catalog, Column, Constraint, ConstraintKind, EnumType, Identity, Index, OwnedBy, Sequence,
    Table, Unsupported, View, ViewColumn,
};

use crate::Error;

const BEGIN: &str = include_str!("sql/begin.sql");
const END: &str = include_str!("sql/end.sql");
const TABLES: &str = include_str!("sql/tables.sql");
const COLUMNS: &str = include_str!("sql/columns.sql");
const CONSTRAINTS: &str = include_str!("sql/constraints.sql");
const INDEXES: &str = include_str!("sql/indexes.sql");
const ENUMS: &str = include_str!("sql/enums.sql");
const SEQUENCES: &str = include_str!("sql/sequences.sql");
const VIEWS: &str = include_str!("sql/views.sql");
const UNSUPPORTED: &str = include_str!("sql/unsupported.sql");

/// Reads the `public` schema of the database `client` is connected to, in one read-only
/// REPEATABLE READ transaction (one snapshot; behind a transaction pooler, one server
/// connection). `client` must not be in a transaction already.
pub async fn read(client: &Client) -> Result<Catalog, Error> {
    client
        .batch_execute(BEGIN)
        .await
        .map_err(|source| Error::Catalog {
            query: "begin",
            source,
        })?;
    let read = read_in_snapshot(client).await;
    // Rolled back even when a query failed, so the connection is fit to use again.
    let end = client.batch_execute(END).await;
    let catalog = read?;
    end.map_err(|source| Error::Catalog {
        query: "end",
        source,
    })?;
    Ok(catalog)
}

async fn read_in_snapshot(client: &Client) -> Result<Catalog, Error> {
    let mut tables = Vec::new();
    for row in query(client, "tables", TABLES).await? {
        tables.push(Table {
            name: get(&row, "name", "tables")?,
            columns: Vec::new(),
            constraints: Vec::new(),
            indexes: Vec::new(),
            comment: get(&row, "comment", "tables")?,
        });
    }
    let mut views = Vec::new();
    for row in query(client, "views", VIEWS).await? {
        let definition: String = get(&row, "definition", "views")?;
        views.push(View {
            name: get(&row, "name", "views")?,
            definition: definition.trim_end().trim_end_matches(';').to_string(),
            columns: Vec::new(),
            options: get(&row, "options", "views")?,
            uses: get(&row, "uses", "views")?,
            comment: get(&row, "comment", "views")?,
        });
    }
    for row in query(client, "columns", COLUMNS).await? {
        let relation: String = get(&row, "relation", "columns")?;
        let column = column(&row)?;
        if let Some(table) = tables.iter_mut().find(|t| t.name == relation) {
            table.columns.push(column);
        } else if let Some(view) = views.iter_mut().find(|v| v.name == relation) {
            view.columns.push(ViewColumn {
                name: column.name,
                data_type: column.data_type,
            });
        }
    }
    for row in query(client, "constraints", CONSTRAINTS).await? {
        let relation: String = get(&row, "relation", "constraints")?;
        if let Some(table) = tables.iter_mut().find(|t| t.name == relation) {
            table.constraints.push(constraint(&row)?);
        }
    }
    for row in query(client, "indexes", INDEXES).await? {
        let relation: String = get(&row, "relation", "indexes")?;
        if let Some(table) = tables.iter_mut().find(|t| t.name == relation) {
            table.indexes.push(Index {
                name: get(&row, "name", "indexes")?,
                definition: get(&row, "definition", "indexes")?,
                valid: get(&row, "valid", "indexes")?,
                comment: get(&row, "comment", "indexes")?,
            });
        }
    }
    let mut enums = Vec::new();
    for row in query(client, "enums", ENUMS).await? {
        enums.push(EnumType {
            name: get(&row, "name", "enums")?,
            labels: get(&row, "labels", "enums")?,
            comment: get(&row, "comment", "enums")?,
        });
    }
    let mut sequences = Vec::new();
    for row in query(client, "sequences", SEQUENCES).await? {
        sequences.push(sequence(&row)?);
    }
    let mut unsupported = Vec::new();
    for row in query(client, "unsupported", UNSUPPORTED).await? {
        let definition: Option<String> = get(&row, "definition", "unsupported")?;
        unsupported.push(Unsupported {
            name: get(&row, "name", "unsupported")?,
            definition: definition.unwrap_or_default(),
            table: get(&row, "on_table", "unsupported")?,
        });
    }
    let mut catalog = Catalog {
        tables,
        enums,
        sequences,
        views,
        unsupported,
    };
    sort(&mut catalog);
    Ok(catalog)
}

/// Byte order, whatever the databases' collations: equal schemas give equal catalogs.
fn sort(catalog: &mut Catalog) {
    catalog.tables.sort_by(|a, b| a.name.cmp(&b.name));
    for table in &mut catalog.tables {
        table.constraints.sort_by(|a, b| a.name.cmp(&b.name));
        table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    }
    catalog.enums.sort_by(|a, b| a.name.cmp(&b.name));
    catalog.sequences.sort_by(|a, b| a.name.cmp(&b.name));
    catalog.views.sort_by(|a, b| a.name.cmp(&b.name));
    for view in &mut catalog.views {
        view.uses.sort();
    }
    catalog.unsupported.sort_by(|a, b| a.name.cmp(&b.name));
}

fn column(row: &Row) -> Result<Column, Error> {
    let identity: Option<String> = get(row, "identity", "columns")?;
    Ok(Column {
        name: get(row, "name", "columns")?,
        data_type: get(row, "data_type", "columns")?,
        collation: get(row, "collation", "columns")?,
        not_null: get(row, "not_null", "columns")?,
        default: get(row, "default_expr", "columns")?,
        identity: match identity.as_deref() {
            Some("a") => Some(Identity::Always),
            Some("d") => Some(Identity::ByDefault),
            _ => None,
        },
        generated: get(row, "generated", "columns")?,
        comment: get(row, "comment", "columns")?,
    })
}

fn constraint(row: &Row) -> Result<Constraint, Error> {
    let kind: String = get(row, "kind", "constraints")?;
    let definition: String = get(row, "definition", "constraints")?;
    let validated: bool = get(row, "validated", "constraints")?;
    // pg_get_constraintdef says NOT VALID itself; `validated` says it once.
    let definition = match definition.strip_suffix(" NOT VALID") {
        Some(valid_part) if !validated => valid_part.to_string(),
        _ => definition,
    };
    Ok(Constraint {
        name: get(row, "name", "constraints")?,
        kind: match kind.as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "x" => ConstraintKind::Exclusion,
            "c" => ConstraintKind::Check,
            _ => ConstraintKind::ForeignKey,
        },
        definition,
        validated,
        index: get(row, "index_def", "constraints")?,
    })
}

fn sequence(row: &Row) -> Result<Sequence, Error> {
    let table: Option<String> = get(row, "owner_table", "sequences")?;
    let column: Option<String> = get(row, "owner_column", "sequences")?;
    Ok(Sequence {
        name: get(row, "name", "sequences")?,
        data_type: get(row, "data_type", "sequences")?,
        start: get(row, "start", "sequences")?,
        increment: get(row, "increment", "sequences")?,
        min: get(row, "min", "sequences")?,
        max: get(row, "max", "sequences")?,
        cache: get(row, "cache", "sequences")?,
        cycle: get(row, "cycle", "sequences")?,
        owned_by: table
            .zip(column)
            .map(|(table, column)| OwnedBy { table, column }),
        comment: get(row, "comment", "sequences")?,
    })
}

async fn query(client: &Client, name: &'static str, sql: &str) -> Result<Vec<Row>, Error> {
    client
        .query(sql, &[])
        .await
        .map_err(|source| Error::Catalog {
            query: name,
            source,
        })
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    column: &str,
    query: &'static str,
) -> Result<T, Error> {
    row.try_get(column)
        .map_err(|source| Error::Catalog { query, source })
}
