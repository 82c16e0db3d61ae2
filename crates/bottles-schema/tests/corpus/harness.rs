//! Runs one corpus case on real databases: the old schema (with rows) in A, the new one in B,
//! the plan from A's catalog to B's applied to A as its file would run, then A checked.

use std::collections::BTreeSet;

use bottles_schema::{Catalog, Hazard, PlanOptions, catalog, differences, plan};
use throwaway_pg::{ScratchDatabase, env_or_shared_server};
use tokio_postgres::{Client, NoTls};

/// What planning should do.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Plan, apply, and reach the new schema.
    Plans,
    /// Refuse with a message holding this text.
    Refused(&'static str),
    /// Refuse (with this text) without --allow-destructive; with it, plan and apply.
    Destructive(&'static str),
}

pub struct Case {
    pub name: &'static str,
    pub old: &'static str,
    pub new: &'static str,
    pub rows: &'static str,
    pub hazards: &'static [Hazard],
    pub expect: Expect,
}

pub async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

async fn scratch() -> ScratchDatabase {
    let admin = env_or_shared_server("DATABASE_URL");
    tokio::task::spawn_blocking(move || ScratchDatabase::create(admin, "corpus"))
        .await
        .unwrap()
        .expect("create a scratch database")
}

/// A database with `sql` applied, and a client on it.
pub async fn database(sql: &str) -> (ScratchDatabase, Client) {
    let db = scratch().await;
    let client = connect(db.url()).await;
    client.batch_execute(sql).await.expect("apply the schema");
    (db, client)
}

/// Runs `case`; the error says what went wrong.
pub async fn run(case: &Case) -> Result<(), String> {
    let ((_a, a), (_b, b)) = tokio::join!(database(case.old), database(case.new));
    a.batch_execute(case.rows)
        .await
        .map_err(|e| format!("rows: {e}"))?;
    let old = catalog::read(&a).await.map_err(|e| e.to_string())?;
    let new = catalog::read(&b).await.map_err(|e| e.to_string())?;
    let options = PlanOptions::default();
    let same = plan(&new, &new, &options).map_err(|e| format!("new → new: {e}"))?;
    if !same.is_empty() {
        return Err(format!("new → new is not empty:\n{}", same.render()));
    }
    let allow = match (case.expect, plan(&old, &new, &options)) {
        (Expect::Refused(text) | Expect::Destructive(text), Err(refusal)) => {
            let message = refusal.to_string();
            if !message.contains(text) || message.contains('\n') {
                return Err(format!("refused with {message:?}, expected {text:?}"));
            }
            if matches!(case.expect, Expect::Refused(_)) {
                return Ok(());
            }
            true
        }
        (Expect::Plans, Ok(_)) => false,
        (_, Ok(planned)) => {
            return Err(format!(
                "planned, expected a refusal:\n{}",
                planned.render()
            ));
        }
        (_, Err(refusal)) => return Err(format!("refused: {refusal}")),
    };
    let options = PlanOptions {
        allow_destructive: allow,
        ..options
    };
    let planned = plan(&old, &new, &options).map_err(|e| format!("refused: {e}"))?;
    let text = planned.render();
    let hazards: BTreeSet<Hazard> = case.hazards.iter().copied().collect();
    if planned.hazards() != hazards {
        return Err(format!(
            "hazards {:?}, expected {hazards:?}:\n{text}",
            planned.hazards()
        ));
    }
    let header = text.starts_with("-- bottles: no-transaction\n");
    if header != planned.outside_transaction() || text.contains("SET LOCAL") == header {
        return Err(format!(
            "header and lock_timeout do not fit the plan:\n{text}"
        ));
    }
    let counts = row_counts(&a, &old, &new).await?;
    apply(&a, &text, planned.outside_transaction())
        .await
        .map_err(|e| format!("applying failed: {e}\n{text}"))?;
    let after = catalog::read(&a).await.map_err(|e| e.to_string())?;
    let drift: Vec<String> = differences(&new, &after)
        .iter()
        .map(ToString::to_string)
        .collect();
    if !drift.is_empty() {
        return Err(format!("after the plan:\n  {}\n{text}", drift.join("\n  ")));
    }
    if counts != row_counts(&a, &old, &new).await? {
        return Err(format!("rows changed: {counts:?} before\n{text}"));
    }
    let again = plan(&after, &new, &options).map_err(|e| format!("again: {e}"))?;
    if !again.is_empty() {
        return Err(format!("planning again is not empty:\n{}", again.render()));
    }
    if std::env::var_os("CORPUS_PRINT").is_some() {
        println!("=== {}\n{text}", case.name);
    }
    Ok(())
}

/// The rows of each table in both schemas.
async fn row_counts(
    client: &Client,
    old: &Catalog,
    new: &Catalog,
) -> Result<Vec<(String, i64)>, String> {
    let mut counts = Vec::new();
    for table in old.tables.iter().filter(|t| new.table(&t.name).is_some()) {
        let sql = format!(
            "SELECT count(*) FROM \"{}\"",
            table.name.replace('"', "\"\"")
        );
        let row = client
            .query_one(&sql, &[])
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
        counts.push((table.name.clone(), row.get(0)));
    }
    Ok(counts)
}

/// As a migration runner would: in one transaction, or one statement at a time.
pub async fn apply(
    client: &Client,
    text: &str,
    outside: bool,
) -> Result<(), tokio_postgres::Error> {
    if !outside {
        return client
            .batch_execute(&format!("BEGIN;\n{text}\nCOMMIT;"))
            .await;
    }
    for statement in split(text) {
        client.batch_execute(statement).await?;
    }
    Ok(())
}

/// `text` cut at each `;` outside quotes, comments and dollar quotes.
pub fn split(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let (mut out, mut start, mut i) = (Vec::new(), 0, 0);
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                let quote = b[i];
                i += 1;
                while i < b.len() && b[i] != quote {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'$' => {
                if let Some(len) = text[i + 1..].find('$') {
                    let tag = &text[i..i + len + 2];
                    if tag[1..tag.len() - 1]
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'_')
                    {
                        i = text[i + tag.len()..]
                            .find(tag)
                            .map_or(b.len(), |end| i + tag.len() + end + tag.len() - 1);
                    }
                }
            }
            b';' => {
                if !text[start..i].trim().is_empty() {
                    out.push(&text[start..i]);
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}
