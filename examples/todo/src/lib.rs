//! todo: a small app on bottles-core alone, with a schema and queries of its own. It shows what
//! an application gets from the core with two lines in its `cornucopia.toml` (see README.md):
//! every generated query runs on the core's clients, the statement log names its statements as
//! written in `queries/`, a transaction pooler in front is handled with no setting, and reads
//! go to replicas that have replayed this process's writes.

use std::sync::LazyLock;

use bottles_core::{Database, Node, PoolOptions, Result, Statements};
pub use todo_codegen::queries::items::{CountItems, Item};
use todo_codegen::queries::items::{add_items, count_items, mark_done, open_items};
use todo_codegen::queries::lists::insert_list;
pub use todo_codegen::types::Priority;

/// `schema.sql`: the app's tables, for a new database.
pub const SCHEMA: &str = include_str!("../schema.sql");

/// `schema.sql` and every file of `queries/` (listed by `build.rs`).
const SOURCES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/sql_sources.rs"));

/// The app's named statements, handed to the statement log.
pub static STATEMENTS: LazyLock<Statements> = LazyLock::new(|| Statements::from_sources(SOURCES));

/// Opens the database at `url`, reading on `replicas` when there are any.
pub async fn open(url: &str, replicas: &[&str]) -> Result<Database> {
    let options = PoolOptions {
        statements: Some(&STATEMENTS),
        ..PoolOptions::default()
    };
    Database::open_with_replicas(Some(url), replicas, options).await
}

/// Creates the app's tables in an empty database.
pub async fn create_schema(db: &Database) -> Result<()> {
    let client = db.client().await?;
    client
        .batch_execute(SCHEMA)
        .await
        .map_err(bottles_core::Error::statement("create the schema"))
}

/// A new list with its items, all or nothing (one transaction); returns the list's id and the
/// items' ids in the order given.
pub async fn create_list(
    db: &Database,
    name: &str,
    items: &[(&str, Priority)],
) -> Result<(i32, Vec<i32>)> {
    // Every failure of the transaction is named after this step.
    let failed = || bottles_core::Error::statement("create_list");
    let mut client = db.client().await?;
    let transaction = client.transaction().await.map_err(failed())?;
    let list = insert_list()
        .bind(&transaction, &name)
        .one()
        .await
        .map_err(failed())?;
    let titles: Vec<&str> = items.iter().map(|(title, _)| *title).collect();
    let priorities: Vec<Priority> = items.iter().map(|(_, priority)| *priority).collect();
    let ids = add_items()
        .bind(&transaction, &list, &titles, &priorities)
        .all()
        .await
        .map_err(failed())?;
    transaction.commit().await.map_err(failed())?;
    drop(client);
    db.wrote().await?;
    Ok((list, ids))
}

/// Marks an item done; `false` when it was done already or does not exist.
pub async fn finish(db: &Database, item: i32) -> Result<bool> {
    let client = db.shared_client().await?;
    let changed = mark_done().bind(&client, &item).await?;
    db.wrote().await?;
    Ok(changed == 1)
}

/// A list's open items, most urgent first, read on a replica when one has caught up.
pub async fn open_items_of(db: &Database, list: i32) -> Result<Vec<Item>> {
    db.read(async |node: &Node| -> Result<Vec<Item>> {
        Ok(open_items()
            .bind(&node.shared_client().await?, &list)
            .all()
            .await?)
    })
    .await
}

/// How many of a list's items are open and done.
pub async fn counts(db: &Database, list: i32) -> Result<CountItems> {
    let client = db.client().await?;
    Ok(count_items().bind(&client, &list).one().await?)
}
