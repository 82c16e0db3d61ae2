//! The SQL text that cornucopia does not generate, in one place: `schema.sql`, the statements
//! in `copy/`, and the catalog of every named statement in `queries/` and `copy/`, which the
//! statement log uses to show a statement as it is written in its file, under its name.

use std::collections::HashMap;
use std::sync::LazyLock;

/// `schema.sql`: the notebook's tables, the single source of their definitions.
pub const SCHEMA: &str = include_str!("../schema.sql");

/// Every `.sql` file under `queries/` and `copy/` (listed by `build.rs`): (path, text).
const SOURCES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/sql_sources.rs"));

/// A statement of the catalog, as written in its file.
#[derive(Debug)]
pub(crate) struct Named {
    /// The name after `--!`, which is also the generated function's name.
    pub name: String,
    /// The statement on one line, parameters still written `:name`.
    pub text: String,
    /// Parameter names in order of first appearance, the order cornucopia numbers them `$1…`.
    pub params: Vec<String>,
}

struct Catalog {
    statements: Vec<Named>,
    /// Fingerprint (see [`fingerprint`]) → index into `statements`.
    by_fingerprint: HashMap<String, usize>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let schema = Named {
        name: "schema.sql".into(),
        text: one_line(SCHEMA),
        params: Vec::new(),
    };
    let mut statements = vec![schema];
    for (_, source) in SOURCES {
        statements.extend(parse_named_statements(source));
    }
    let by_fingerprint = statements
        .iter()
        .enumerate()
        .map(|(index, named)| (analyze(&named.text).0, index))
        .collect();
    Catalog {
        statements,
        by_fingerprint,
    }
});

/// The statement the server was sent as `sql`, when it is one of ours. cornucopia rewrites
/// `:name` to `$1` and reflows whitespace; the fingerprint sees through both.
pub(crate) fn lookup(sql: &str) -> Option<&'static Named> {
    let catalog = &*CATALOG;
    let index = catalog.by_fingerprint.get(&analyze(sql).0)?;
    Some(&catalog.statements[*index])
}

/// The named statement of `queries/` or `copy/` (or `"schema.sql"`) as written there, on one
/// line with its `:name` parameters: what the statement log shows for it. `None` for a name
/// that is not there.
pub fn statement_text(name: &str) -> Option<&'static str> {
    let catalog = &*CATALOG;
    let named = catalog.statements.iter().find(|named| named.name == name)?;
    Some(&named.text)
}

/// Splits cornucopia's format: `--! name [: annotations]`, then the statement up to its `;`.
fn parse_named_statements(source: &str) -> Vec<Named> {
    let mut found = Vec::new();
    let mut current: Option<(&str, Vec<&str>)> = None;
    for line in source.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix("--!") {
            let name = header.split([' ', ':']).find(|part| !part.is_empty());
            current = Some((name.unwrap_or_default(), Vec::new()));
        } else if line.starts_with("--") || line.is_empty() {
            continue;
        } else if let Some((name, mut lines)) = current.take() {
            lines.push(line);
            if line.ends_with(';') {
                let text = one_line(&lines.join("\n"));
                let params = analyze(&text).1;
                found.push(Named {
                    name: name.to_string(),
                    text,
                    params,
                });
            } else {
                current = Some((name, lines));
            }
        }
    }
    found
}

/// SQL on one line: comment lines and blank lines dropped, the rest trimmed and joined by spaces,
/// without the final `;`.
fn one_line(sql: &str) -> String {
    let lines: Vec<&str> = sql
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("--"))
        .collect();
    lines.join(" ").trim_end_matches(';').to_string()
}

/// The statement's fingerprint, and its `:name` parameters in order of first appearance.
///
/// The fingerprint drops whitespace and `--` comments outside quotes and a final `;`, and writes
/// every parameter, `:name` or `$n`, as `$`: the same for the text in `queries/` and the text
/// cornucopia generated from it. A `::type` cast is not a parameter.
fn analyze(sql: &str) -> (String, Vec<String>) {
    let chars: Vec<char> = sql.chars().collect();
    let (mut print, mut params) = (String::with_capacity(sql.len()), Vec::<String>::new());
    let at = |i: usize| chars.get(i).copied();
    let mut i = 0;
    while let Some(c) = at(i) {
        match c {
            '\'' | '"' => {
                // Quoted text is kept verbatim; a doubled quote stays inside.
                print.push(c);
                i += 1;
                while let Some(inner) = at(i) {
                    print.push(inner);
                    i += 1;
                    if inner == c && at(i) != Some(c) {
                        break;
                    } else if inner == c {
                        print.push(c);
                        i += 1;
                    }
                }
            }
            '-' if at(i + 1) == Some('-') => {
                while at(i).is_some_and(|c| c != '\n') {
                    i += 1;
                }
            }
            ':' if i.checked_sub(1).and_then(at) != Some(':')
                && at(i + 1).is_some_and(|n| n.is_alphabetic() || n == '_') =>
            {
                let start = i + 1;
                i = start;
                while at(i).is_some_and(|n| n.is_alphanumeric() || n == '_') {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                if !params.contains(&name) {
                    params.push(name);
                }
                print.push('$');
            }
            '$' if at(i + 1).is_some_and(|n| n.is_ascii_digit()) => {
                i += 1;
                while at(i).is_some_and(|n| n.is_ascii_digit()) {
                    i += 1;
                }
                print.push('$');
            }
            c if c.is_whitespace() => i += 1,
            c => {
                print.push(c);
                i += 1;
            }
        }
    }
    while print.ends_with(';') {
        print.pop();
    }
    (print, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_in_queries_and_the_text_cornucopia_sends_share_a_fingerprint() {
        let written =
            "INSERT INTO \"user\" (name)\nSELECT name FROM unnest(:names::text[]) -- all\n;";
        let sent = "INSERT INTO \"user\" (name) SELECT name FROM unnest($1::text[])";
        assert_eq!(analyze(written).0, analyze(sent).0);
        assert_eq!(analyze(written).1, ["names"]);
        assert_ne!(analyze("SELECT 'a b'").0, analyze("SELECT 'ab'").0);
        assert_eq!(analyze("SELECT ':x', :y, :y, :z").1, ["y", "z"]);
        assert_eq!(analyze("SELECT 'it''s :x'").1, Vec::<String>::new());
    }

    #[test]
    fn schema_and_copy_are_in_the_catalog() {
        let schema = lookup(SCHEMA).expect("schema.sql, sent as one batch");
        assert_eq!(schema.name, "schema.sql");
        assert!(
            schema
                .text
                .starts_with(r#"CREATE TABLE "user" ( id integer"#)
                && !schema.text.contains("--"),
            "{}",
            schema.text
        );
        assert_eq!(
            statement_text("copy_messages"),
            Some("COPY message (content, user_id) FROM STDIN (FORMAT binary)")
        );
        assert!(lookup("SELECT 1").is_none());
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
            let named = lookup(&sql).unwrap_or_else(|| {
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
