//! The SQL text that cornucopia does not generate, in one place: `schema.sql`, the statements
//! in `copy/`, and the catalog of every named statement in `queries/` and `copy/`, handed to the
//! statement log so it shows a statement as it is written in its file, under its name.

use std::sync::LazyLock;

use bottles_core::Statements;

/// `schema.sql`: the notebook's tables, the single source of their definitions.
pub const SCHEMA: &str = include_str!("../schema.sql");

/// Every `.sql` file under `queries/` and `copy/` (listed by `build.rs`): (path, text).
const SOURCES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/sql_sources.rs"));

/// The notebook's named statements, for [`bottles_core::PoolOptions::statements`].
pub static STATEMENTS: LazyLock<Statements> = LazyLock::new(|| {
    let mut all = vec![("schema.sql", SCHEMA)];
    all.extend_from_slice(SOURCES);
    Statements::from_sources(&all)
});

/// The named statement of `queries/` or `copy/` (or `"schema.sql"`) as written there, on one
/// line with its `:name` parameters: what the statement log shows for it. `None` for a name
/// that is not there.
pub fn statement_text(name: &str) -> Option<&'static str> {
    STATEMENTS.text(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_and_copy_are_in_the_catalog() {
        let schema = statement_text("schema.sql").expect("schema.sql, sent as one batch");
        // Every table schema.sql declares (as the migrations' snapshot has them), on one line
        // without its comments.
        let tables = &crate::expected_schema().tables;
        assert!(!tables.is_empty());
        for table in tables {
            let plain = format!("CREATE TABLE {} ( ", table.name);
            let quoted = format!("CREATE TABLE \"{}\" ( ", table.name);
            assert!(
                schema.contains(&plain) || schema.contains(&quoted),
                "{plain} in {schema}"
            );
        }
        assert!(!schema.contains("--") && !schema.contains('\n'), "{schema}");
        assert_eq!(
            statement_text("copy_messages"),
            Some("COPY message (content, user_id) FROM STDIN (FORMAT binary)")
        );
        assert_eq!(statement_text("nothing"), None);
    }

    /// Every statement cornucopia generated, as (function name, SQL), read from `codegen/`.
    fn generated_statements() -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/codegen/src/queries");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for header in text.split("pub fn ").skip(1) {
                let Some((name, rest)) = header.split_once("() -> ") else {
                    continue;
                };
                let literal = rest.split_once('"').expect("the statement's SQL").1;
                found.push((name.to_string(), rust_string(literal)));
            }
        }
        found
    }

    /// The contents of a Rust string literal, from just after its opening quote.
    fn rust_string(literal: &str) -> String {
        let (mut text, mut chars) = (String::new(), literal.chars());
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some(other) => text.push(other),
                    None => break,
                },
                c => text.push(c),
            }
        }
        text
    }

    #[test]
    fn every_generated_statement_is_found_under_its_own_name() {
        let generated = generated_statements();
        assert!(generated.len() >= 11, "{generated:?}");
        for (function, sql) in generated {
            let named = STATEMENTS.lookup(&sql).unwrap_or_else(|| {
                panic!("{function}: the statement log cannot match {sql:?} to queries/")
            });
            assert_eq!(named.name, function, "{sql}");
            let numbered = (1..=named.params.len()).all(|n| sql.contains(&format!("${n}")));
            let beyond = sql.contains(&format!("${}", named.params.len() + 1));
            assert!(
                numbered && !beyond,
                "{function}: {:?} in {sql}",
                named.params
            );
        }
    }
}
