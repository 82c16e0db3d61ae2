//! `--echo`: every statement bottles runs, with its parameters, outcome and elapsed time, like
//! SQLAlchemy's `echo=True`. Events go to `tracing` under the target [`TARGET`] at INFO level,
//! so a library user turns them on with their own subscriber; nothing is formatted otherwise.

use std::collections::HashMap;
use std::fmt::{self, Debug};
use std::sync::LazyLock;
use std::time::Instant;

/// The `tracing` target of statement events.
pub const TARGET: &str = "bottles::sql";

/// The named queries as written in `queries/` (the same text cornucopia compiled) and `copy/`.
const SOURCES: [&str; 4] = [
    include_str!("../queries/users.sql"),
    include_str!("../queries/messages.sql"),
    include_str!("../queries/tables.sql"),
    include_str!("../copy/messages.sql"),
];

static CATALOG: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
    let schema = crate::reset::SCHEMA.lines().map(str::trim);
    let schema: Vec<&str> = schema
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .collect();
    let queries = SOURCES.iter().flat_map(|source| parse_queries(source));
    queries.chain([("schema.sql", schema.join(" "))]).collect()
});

/// The SQL of the named query in `queries/` (or of `schema.sql`), on one line; `None` for an
/// unknown name.
pub fn sql(name: &str) -> Option<&'static str> {
    CATALOG.get(name).map(String::as_str)
}

/// Splits cornucopia's format: `--! name [: annotations]`, then the statement up to its `;`.
fn parse_queries(source: &'static str) -> Vec<(&'static str, String)> {
    let mut queries = Vec::new();
    let mut current: Option<(&str, Vec<&str>)> = None;
    for line in source.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix("--!") {
            let name = header
                .split([' ', ':'])
                .find(|part| !part.is_empty())
                .unwrap_or_default();
            current = Some((name, Vec::new()));
        } else if line.starts_with("--") || line.is_empty() {
            continue;
        } else if let Some((name, mut lines)) = current.take() {
            lines.push(line.trim_end_matches(';'));
            if line.ends_with(';') {
                queries.push((name, lines.join(" ")));
            } else {
                current = Some((name, lines));
            }
        }
    }
    queries
}

/// What a statement produced, for the log line.
pub trait Outcome {
    fn summary(&self) -> String;
}

impl<T> Outcome for Vec<T> {
    fn summary(&self) -> String {
        plural(self.len() as u64, "row")
    }
}

impl Outcome for i64 {
    fn summary(&self) -> String {
        "1 row".into()
    }
}

impl Outcome for u64 {
    fn summary(&self) -> String {
        plural(*self, "row affected")
    }
}

impl Outcome for () {
    fn summary(&self) -> String {
        "ok".into()
    }
}

fn plural(count: u64, noun: &str) -> String {
    match (count, noun.split_once(' ')) {
        (1, _) => format!("1 {noun}"),
        (_, Some((head, tail))) => format!("{count} {head}s {tail}"),
        (_, None) => format!("{count} {noun}s"),
    }
}

/// Awaits a named query, logging its SQL, `params`, outcome and elapsed time when echo is on.
pub async fn timed<T: Outcome, E: fmt::Display>(
    name: &str,
    params: &[(&str, &(dyn Debug + Sync))],
    query: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = query.await;
    if tracing::enabled!(target: TARGET, tracing::Level::INFO) {
        let outcome = match &result {
            Ok(value) => value.summary(),
            Err(err) => format!("failed: {err}"),
        };
        finished(name, params, &outcome, started);
    }
    result
}

/// Logs a named query that ran from `started` until now with `outcome`, for work that is not
/// one future (a stream consumed by the caller).
pub fn finished(
    name: &str,
    params: &[(&str, &(dyn Debug + Sync))],
    outcome: &str,
    started: Instant,
) {
    let elapsed = started.elapsed();
    let params = if params.is_empty() {
        String::new()
    } else {
        format!(" {:?}", Params(params))
    };
    match sql(name) {
        Some(sql) => {
            tracing::info!(target: TARGET, "{sql}  -- {name}{params}: {outcome} in {elapsed:.2?}")
        }
        None => tracing::info!(target: TARGET, "{name}{params}  -- {outcome} in {elapsed:.2?}"),
    }
}

/// Logs a statement that is not a named query (`BEGIN`, `COMMIT`, the schema script).
pub fn statement(text: &str) {
    tracing::info!(target: TARGET, "{text}");
}

struct Params<'a>(&'a [(&'a str, &'a (dyn Debug + Sync))]);

impl Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            map.key(&format_args!("{name}")).value(value);
        }
        map.finish()
    }
}

/// Shows a long array parameter as its first few items and its length, so echoing a bulk
/// insert stays one readable line.
pub struct Preview<'a, T>(pub &'a [T]);

impl<T: Debug> Debug for Preview<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 3;
        if self.0.len() <= SHOWN {
            return f.debug_list().entries(self.0).finish();
        }
        let mut list = f.debug_list();
        list.entries(&self.0[..SHOWN]);
        list.entry(&format_args!("… {} items", self.0.len()));
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_query_is_in_the_catalog() {
        let names = [
            "count_users",
            "user_by_name",
            "users_with_messages",
            "insert_users",
            "count_messages",
            "messages_for_users",
            "messages_from_user",
            "insert_messages",
            "drop_tables",
            "lock_tables",
            "message_keys_and_indexes",
            "copy_messages",
        ];
        for name in names {
            let text = sql(name).unwrap_or_else(|| panic!("{name} missing"));
            assert!(
                !text.contains('\n') && !text.ends_with(';'),
                "{name}: {text}"
            );
        }
        assert_eq!(CATALOG.len(), names.len() + 1);
        let schema = sql("schema.sql").unwrap();
        assert!(
            schema.starts_with(r#"CREATE TABLE "user" ( id integer"#) && !schema.contains("--"),
            "{schema}"
        );
        assert_eq!(
            sql("count_users"),
            Some(r#"SELECT count(*) AS count FROM "user""#)
        );
        assert_eq!(
            sql("messages_from_user"),
            Some(
                r#"SELECT m.id, m.content, m.user_id FROM message AS m JOIN "user" AS u ON u.id = m.user_id WHERE u.name = :name ORDER BY m.id"#
            )
        );
    }

    #[test]
    fn previews_shorten_long_arrays() {
        assert_eq!(format!("{:?}", Preview(&[1, 2])), "[1, 2]");
        assert_eq!(
            format!("{:?}", Preview(&[1, 2, 3, 4, 5])),
            "[1, 2, 3, … 5 items]"
        );
        assert_eq!(plural(3, "row affected"), "3 rows affected");
        assert_eq!(plural(1, "row"), "1 row");
    }
}
