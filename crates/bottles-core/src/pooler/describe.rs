//! Statements described once per node. An unnamed statement is sent with its parameter types,
//! so bottles asks the server for them the first time a SQL text runs, and keeps the answer
//! for the node's life: after that, a query is one request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use tokio_postgres::types::Type;
use tokio_postgres::{Error, Statement};

/// SQL text → the statement as described (its parameter and column types).
#[derive(Debug, Default)]
pub(crate) struct Descriptions {
    known: Mutex<HashMap<Box<str>, Arc<OnceCell<Statement>>>>,
}

impl Descriptions {
    /// The description of `sql`, from `describe` the first time: callers that ask meanwhile
    /// wait for that one instead of each asking the server. A failed description is not kept.
    /// The `Statement` is kept whole for the node's life (dropping it would send a `Close`).
    pub(crate) async fn get_or_describe(
        &self,
        sql: &str,
        describe: impl Future<Output = Result<Statement, Error>>,
    ) -> Result<Statement, Error> {
        let cell = {
            let mut known = self.known.lock().expect("not poisoned");
            known.entry(sql.into()).or_default().clone()
        };
        cell.get_or_try_init(|| describe).await.cloned()
    }
}

/// Whether every type `statement` takes or returns is built in. tokio-postgres looks up a
/// database's own types (enums, composites, domains) with a named statement of its own, which
/// a transaction pooler cannot keep, so statements with such types run inside a transaction.
pub(crate) fn built_in_types_only(statement: &Statement) -> bool {
    let columns = statement.columns().iter().map(|column| column.type_());
    statement
        .params()
        .iter()
        .chain(columns)
        .all(|type_| Type::from_oid(type_.oid()).is_some())
}
