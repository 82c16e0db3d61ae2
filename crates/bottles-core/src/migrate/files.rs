//! Migration files: `NNNN_name.sql` (4 digits, then `[a-z0-9_]+`), checked in and reviewed like
//! code. [`MigrationSet`] validates a directory's worth of them.

use ring::digest::{SHA256, digest};

use super::MigrateError;

/// The first line that makes a file run outside a transaction (`CREATE INDEX CONCURRENTLY`).
pub const NO_TRANSACTION_HEADER: &str = "-- bottles: no-transaction";

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The number the file name starts with.
    pub version: u32,
    /// What follows the version's underscore, without `.sql`.
    pub name: String,
    /// The file's text.
    pub sql: String,
    /// The hex SHA-256 of the text: an applied file whose text changed is refused.
    pub checksum: String,
    /// Whether its first line is [`NO_TRANSACTION_HEADER`].
    pub outside_transaction: bool,
}

impl Migration {
    /// `0002_add_email`: how messages name it.
    pub fn label(&self) -> String {
        format!("{:04}_{}", self.version, self.name)
    }

    /// The statements of the text, for a file run outside a transaction, where each is sent
    /// alone: split at each `;` outside quotes, dollar quotes and comments. Enough for DDL;
    /// not for `BEGIN ATOMIC` function bodies.
    pub fn statements(&self) -> Vec<&str> {
        split_statements(&self.sql)
    }
}

/// A validated set of migrations, in version order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationSet {
    migrations: Vec<Migration>,
}

impl MigrationSet {
    /// Builds the set from `(file name, text)` pairs, such as `("0002_add_email.sql", …)`; a
    /// leading directory (`migrations/…`) is ignored. Refuses a bad name, a repeated version or
    /// a `BEGIN`/`COMMIT` of the file's own, naming the file.
    pub fn from_files(files: &[(&str, &str)]) -> Result<Self, MigrateError> {
        let mut migrations: Vec<Migration> = Vec::with_capacity(files.len());
        for (file, sql) in files {
            let (version, name) =
                parse_file_name(file).ok_or_else(|| MigrateError::BadFileName {
                    file: (*file).to_string(),
                })?;
            if let Some(keyword) = split_statements(sql).into_iter().find_map(controls) {
                let file = (*file).to_string();
                return Err(MigrateError::TransactionControl { file, keyword });
            }
            migrations.push(Migration {
                version,
                name: name.to_string(),
                sql: (*sql).to_string(),
                checksum: checksum(sql),
                outside_transaction: sql.lines().next() == Some(NO_TRANSACTION_HEADER),
            });
        }
        migrations.sort_by_key(|migration| migration.version);
        if let Some(pair) = migrations.windows(2).find(|w| w[0].version == w[1].version) {
            return Err(MigrateError::DuplicateVersion {
                version: pair[0].version,
                first: format!("{}.sql", pair[0].label()),
                second: format!("{}.sql", pair[1].label()),
            });
        }
        Ok(Self { migrations })
    }

    /// The highest version.
    pub fn latest(&self) -> Option<&Migration> {
        self.migrations.last()
    }

    /// The migrations in version order.
    pub fn iter(&self) -> std::slice::Iter<'_, Migration> {
        self.migrations.iter()
    }

    /// The migration with this version.
    pub fn get(&self, version: u32) -> Option<&Migration> {
        let found = self
            .migrations
            .binary_search_by_key(&version, |m| m.version);
        found.ok().map(|index| &self.migrations[index])
    }

    /// How many migrations it holds.
    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }
}

impl<'a> IntoIterator for &'a MigrationSet {
    type Item = &'a Migration;
    type IntoIter = std::slice::Iter<'a, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// `(version, name)` of `NNNN_name.sql`, after any directory.
fn parse_file_name(file: &str) -> Option<(u32, &str)> {
    let base = file.rsplit(['/', '\\']).next()?;
    let stem = base.strip_suffix(".sql")?;
    let (digits, name) = stem.split_once('_')?;
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) || !name_ok {
        return None;
    }
    Some((digits.parse().ok()?, name))
}

/// The first word of a statement that begins or ends a transaction (`ROLLBACK TO` does not).
fn controls(statement: &str) -> Option<String> {
    let mut words = statement.split_whitespace().map(str::to_ascii_uppercase);
    let first = words.next()?;
    let ends = matches!(
        first.as_str(),
        "BEGIN" | "START" | "COMMIT" | "END" | "ABORT"
    ) || (first == "ROLLBACK" && words.next().is_none_or(|word| word != "TO"));
    ends.then_some(first)
}

/// Hex SHA-256 of the text's bytes.
fn checksum(sql: &str) -> String {
    let hash = digest(&SHA256, sql.as_bytes());
    hash.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits SQL at top-level `;`, each statement from its first token (comments before it left
/// out). All the delimiters are ASCII, so scanning bytes never cuts a UTF-8 character.
fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let (mut statements, mut start, mut i) = (Vec::new(), None, 0);
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let at = i;
        match bytes[i] {
            b'-' if next == Some(b'-') => {
                i = find(bytes, i, b"\n").map_or(bytes.len(), |end| end + 1);
                continue;
            }
            b'/' if next == Some(b'*') => {
                i = block_comment_end(bytes, i);
                continue;
            }
            quote @ (b'\'' | b'"') => {
                // E'…' strings escape with backslashes; others only by doubling the quote.
                let escapes = quote == b'\''
                    && matches!(before, Some(b'E' | b'e'))
                    && !i.checked_sub(2).is_some_and(|j| is_ident(bytes[j]));
                i = quoted_end(bytes, i, quote, escapes);
            }
            b'$' if !before.is_some_and(is_ident) => match dollar_tag_end(bytes, i) {
                Some(tag_end) => {
                    let tag = &bytes[i..=tag_end];
                    i = find(bytes, tag_end + 1, tag).map_or(bytes.len(), |at| at + tag.len());
                }
                None => i += 1,
            },
            b';' => {
                if let Some(from) = start.take() {
                    statements.push(sql[from..i].trim_end());
                }
                i += 1;
                continue;
            }
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => i += 1,
        }
        start.get_or_insert(at);
    }
    if let Some(from) = start {
        statements.push(sql[from..].trim_end());
    }
    statements
}

/// Letters, digits, `_`, `$` and any non-ASCII byte continue an identifier.
fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = bytes.get(from..)?;
    let at = rest.windows(needle.len()).position(|w| w == needle)?;
    Some(from + at)
}

/// Just past the quoted text opened at `i`: a doubled quote stays inside.
fn quoted_end(bytes: &[u8], mut i: usize, quote: u8, escapes: bool) -> usize {
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => i += 2,
            b if b == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Just past the block comment opened at `i`; they nest in PostgreSQL.
fn block_comment_end(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1).copied()) {
            (b'/', Some(b'*')) => (depth, i) = (depth + 1, i + 2),
            (b'*', Some(b'/')) => {
                (depth, i) = (depth - 1, i + 2);
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The closing `$` of a dollar-quote tag opened at `i` (`$$` or `$tag$`); `None` for `$1`.
fn dollar_tag_end(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let first = *bytes.get(j)?;
    if first != b'$' && !(first.is_ascii_alphabetic() || first == b'_' || first >= 0x80) {
        return None;
    }
    while bytes.get(j).is_some_and(|&b| b != b'$' && is_ident(b)) {
        j += 1;
    }
    (bytes.get(j) == Some(&b'$')).then_some(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_validated_and_sorted() {
        let set = MigrationSet::from_files(&[
            (
                "migrations/0002_add_email.sql",
                "ALTER TABLE t ADD email text;",
            ),
            ("0001_baseline.sql", "CREATE TABLE t ();"),
            (
                "0010_index.sql",
                "-- bottles: no-transaction\r\nCREATE INDEX CONCURRENTLY i ON t (email);\n",
            ),
        ])
        .unwrap();
        let versions: Vec<_> = set.iter().map(Migration::label).collect();
        assert_eq!(versions, ["0001_baseline", "0002_add_email", "0010_index"]);
        assert_eq!(set.latest().map(|m| m.version), Some(10));
        assert!(set.get(10).unwrap().outside_transaction);
        assert!(!set.get(2).unwrap().outside_transaction);
        assert!(set.get(3).is_none());
        assert_eq!(set.get(1).unwrap().checksum, checksum("CREATE TABLE t ();"));
        // SHA-256 of nothing, as `sha256sum </dev/null` prints it.
        assert_eq!(
            checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn bad_names_and_repeated_versions_are_one_line_naming_the_file() {
        for bad in
            "1_x.sql 0001_X.sql 0001_.sql 0001-x.sql 0001_x.SQL 00001_x.sql 0001_é.sql a_x.sql"
                .split(' ')
        {
            let err = MigrationSet::from_files(&[(bad, "SELECT 1")]).unwrap_err();
            assert_eq!(err, MigrateError::BadFileName { file: bad.into() });
            assert!(err.to_string().contains(bad) && !err.to_string().contains('\n'));
        }
        let err =
            MigrationSet::from_files(&[("0003_a.sql", "DROP TABLE secret"), ("0003_b.sql", "")])
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "migrations 0003_a.sql and 0003_b.sql have the same version 0003: renumber one"
        );
        let own = "SAVEPOINT s;\nROLLBACK TO s;\nDO $$BEGIN END$$;\n-- COMMIT;\ncommit;";
        let err = MigrationSet::from_files(&[("0004_own.sql", own)]).unwrap_err();
        assert_eq!(
            err,
            MigrateError::TransactionControl {
                file: "0004_own.sql".into(),
                keyword: "COMMIT".into()
            }
        );
        for own in ["BEGIN", "start transaction", "END;", "rollback"] {
            assert!(
                MigrationSet::from_files(&[("0004_own.sql", own)]).is_err(),
                "{own}"
            );
        }
    }

    #[test]
    fn statements_split_outside_quotes_and_comments() {
        let sql = "-- bottles: no-transaction\n\
            CREATE INDEX CONCURRENTLY a ON t (x); -- a; comment\n\
            /* block; /* nested; */ still; */\n\
            COMMENT ON TABLE t IS 'it''s; here';\n\
            CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT ';' $body$;\n\
            SELECT $$;$$, E'\\';', \"semi;colon\", $1x;\n\
            ;  -- nothing\n\
            SELECT 1";
        let statements = split_statements(sql);
        assert_eq!(statements.len(), 5, "{statements:#?}");
        assert_eq!(statements[0], "CREATE INDEX CONCURRENTLY a ON t (x)");
        assert_eq!(statements[1], "COMMENT ON TABLE t IS 'it''s; here'");
        assert!(statements[2].starts_with("CREATE FUNCTION f()"));
        assert!(statements[2].ends_with("$body$ SELECT ';' $body$"));
        assert_eq!(statements[3], "SELECT $$;$$, E'\\';', \"semi;colon\", $1x");
        assert_eq!(statements[4], "SELECT 1");
        assert!(split_statements("-- only\n/* comments */ ;\n").is_empty());
        assert_eq!(
            split_statements("SELECT 'unterminated;"),
            ["SELECT 'unterminated;"]
        );
    }
}
