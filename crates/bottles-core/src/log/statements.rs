//! The statement catalog an application hands to the statement log, so that a statement is
//! shown as written in its `.sql` file, under its name, with its parameters by name, instead of
//! as the `$1` text cornucopia generated from it. Built from the files' text: a file in
//! cornucopia's format gives one entry per `--! name`; a file with no `--!` (a `schema.sql`,
//! sent as one batch) is one entry named after the file.

use std::collections::HashMap;

/// A statement of the catalog, as written in its file.
#[derive(Debug)]
#[non_exhaustive]
pub struct Named {
    /// The name after `--!`, which is also the generated function's name.
    pub name: String,
    /// The statement on one line, parameters still written `:name`.
    pub text: String,
    /// Parameter names in order of first appearance, the order cornucopia numbers them `$1…`.
    pub params: Vec<String>,
}

/// Named statements, found by the SQL the server was sent (see [`Statements::from_sources`]).
#[derive(Debug, Default)]
pub struct Statements {
    statements: Vec<Named>,
    /// Fingerprint (see [`analyze`]) → index into `statements`.
    by_fingerprint: HashMap<String, usize>,
}

impl Statements {
    /// The catalog of `sources`, each `(path, text)` of one `.sql` file (for example
    /// `("queries/users.sql", include_str!("../queries/users.sql"))`).
    pub fn from_sources(sources: &[(&str, &str)]) -> Self {
        let mut statements = Vec::new();
        let mut by_fingerprint = HashMap::new();
        for (path, source) in sources {
            let mut found = parse_named_statements(source);
            if found.is_empty() {
                let name = path.rsplit('/').next().unwrap_or(path);
                found.push((name.to_string(), (*source).to_string()));
            }
            for (name, statement) in found {
                let (print, params) = analyze(&statement);
                by_fingerprint.insert(print, statements.len());
                let text = one_line(&statement);
                statements.push(Named { name, text, params });
            }
        }
        Self {
            statements,
            by_fingerprint,
        }
    }

    /// The statement the server was sent as `sql`, when it is one of the catalog's.
    /// cornucopia rewrites `:name` to `$1` and reflows whitespace; the fingerprint sees
    /// through both.
    pub fn lookup(&self, sql: &str) -> Option<&Named> {
        let index = self.by_fingerprint.get(&analyze(sql).0)?;
        Some(&self.statements[*index])
    }

    /// The statement named `name` as written in its file, on one line with its `:name`
    /// parameters: what the statement log shows for it. `None` for a name it does not hold.
    pub fn text(&self, name: &str) -> Option<&str> {
        let named = self.statements.iter().find(|named| named.name == name)?;
        Some(&named.text)
    }

    /// How many statements it holds.
    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }
}

/// Splits cornucopia's format: `--! name [: annotations]`, then the statement up to its `;`.
fn parse_named_statements(source: &str) -> Vec<(String, String)> {
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
                found.push((name.to_string(), lines.join("\n")));
            } else {
                current = Some((name, lines));
            }
        }
    }
    found
}

/// SQL on one line, for the log: comment lines dropped, runs of whitespace made one space, a
/// final `;` dropped, and control characters escaped so a statement cannot drive the terminal.
pub(crate) fn one_line(sql: &str) -> String {
    let mut line = String::with_capacity(sql.len());
    let code = sql.lines().filter(|l| !l.trim_start().starts_with("--"));
    for word in code.flat_map(str::split_whitespace) {
        if !line.is_empty() {
            line.push(' ');
        }
        for c in word.chars() {
            if c.is_control() {
                line.extend(c.escape_default());
            } else {
                line.push(c);
            }
        }
    }
    while line.ends_with(';') {
        line.pop();
    }
    line
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
    fn a_file_without_names_is_one_statement_named_after_it() {
        let schema = "-- the tables\nCREATE TABLE t (\n    id int\n);\n\nCREATE INDEX ON t (id);\n";
        let queries = "--! ids\nSELECT id FROM t\nWHERE id > :after;\n";
        let catalog =
            Statements::from_sources(&[("schema.sql", schema), ("queries/t.sql", queries)]);
        assert_eq!(catalog.len(), 2);
        let found = catalog
            .lookup(schema)
            .expect("schema.sql, sent as one batch");
        assert_eq!(found.name, "schema.sql");
        assert_eq!(
            found.text,
            "CREATE TABLE t ( id int ); CREATE INDEX ON t (id)"
        );
        assert_eq!(
            catalog
                .lookup("SELECT id FROM t WHERE id > $1")
                .unwrap()
                .name,
            "ids"
        );
        assert_eq!(
            catalog.text("ids"),
            Some("SELECT id FROM t WHERE id > :after")
        );
        assert!(catalog.lookup("SELECT 1").is_none());
    }

    #[test]
    fn sql_sent_by_hand_is_shown_on_one_line() {
        assert_eq!(one_line("SELECT 1\n  FROM t\r\n"), "SELECT 1 FROM t");
        assert_eq!(one_line("SELECT '\u{1b}[31m'"), "SELECT '\\u{1b}[31m'");
    }
}
