//! The password file, `~/.pgpass` or `PGPASSFILE`, read as libpq reads it: lines of
//! `hostname:port:database:username:password`, `*` matching anything, `\:` and `\\` escaping,
//! the first matching line winning, and the whole file ignored (with a warning) when its group
//! or others may read it.

use std::path::{Path, PathBuf};

/// The lines of a password file.
#[derive(Clone, Default)]
pub(crate) struct PassFile {
    lines: Vec<[String; 5]>,
}

/// Never shows a password.
impl std::fmt::Debug for PassFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PassFile({} lines)", self.lines.len())
    }
}

impl PassFile {
    /// Reads `path`; `None` when it is missing or unreadable, or, with a warning, when its
    /// permissions let others read it.
    pub(crate) fn read(path: &Path) -> Option<Self> {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(path).ok()?;
        if !metadata.is_file() {
            return None;
        }
        if metadata.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                target: "bottles::config",
                "password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                path.display()
            );
            return None;
        }
        Some(Self::parse(&std::fs::read_to_string(path).ok()?))
    }

    fn parse(text: &str) -> Self {
        let lines = text
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
            .filter_map(|line| fields(line).try_into().ok())
            .collect();
        Self { lines }
    }

    /// The password of the first line matching this connection.
    pub(crate) fn lookup(&self, host: &str, port: u16, database: &str, user: &str) -> Option<&str> {
        let port = port.to_string();
        let wanted = [host, port.as_str(), database, user];
        self.lines
            .iter()
            .find(|line| {
                line[..4]
                    .iter()
                    .zip(wanted)
                    .all(|(field, value)| field == "*" || field == value)
            })
            .map(|line| line[4].as_str())
    }
}

/// A line's fields, split at unescaped `:`; the password keeps any further colons.
fn fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one field").extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

/// Where libpq looks for the password file: `passfile`/`PGPASSFILE`, else `~/.pgpass`.
pub(crate) fn location(given: Option<&str>, home: Option<PathBuf>) -> Option<PathBuf> {
    match given {
        Some(path) => Some(PathBuf::from(path)),
        None => Some(home?.join(".pgpass")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_line_wins_with_wildcards_and_escapes() {
        let file = PassFile::parse(
            "# comment\n\
             db.example:5432:app:amy:first\n\
             *:*:app:amy:second\n\
             host\\:with\\:colons:*:*:*:pa\\:ss:word\n\
             *:6543:*:*:back\\\\slash\n",
        );
        assert_eq!(file.lookup("db.example", 5432, "app", "amy"), Some("first"));
        assert_eq!(file.lookup("other", 5432, "app", "amy"), Some("second"));
        assert_eq!(
            file.lookup("host:with:colons", 1, "x", "y"),
            Some("pa:ss:word")
        );
        assert_eq!(file.lookup("any", 6543, "x", "y"), Some("back\\slash"));
        assert_eq!(file.lookup("other", 5432, "app", "bob"), None);
        assert_eq!(format!("{file:?}"), "PassFile(4 lines)");
    }

    #[test]
    fn a_file_others_may_read_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:secret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(PassFile::read(&path).is_none());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let file = PassFile::read(&path).expect("read");
        assert_eq!(file.lookup("h", 1, "d", "u"), Some("secret"));
        assert!(PassFile::read(&dir.path().join("missing")).is_none());
    }
}
