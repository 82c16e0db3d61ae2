//! Lists every `.sql` file under `queries/` and `copy/` for `src/statements.rs`, so the statement
//! log knows each named statement, including one added to a new file, with no list to keep up to
//! date; and every file of `migrations/`, for `src/migrations.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let mut sources = Vec::new();
    for dir in ["queries", "copy"] {
        for path in sql_files(&root, dir) {
            let name = path.file_name().expect("a file").to_string_lossy();
            sources.push((format!("{dir}/{name}"), path));
        }
    }
    write_list(&out.join("sql_sources.rs"), &sources);

    // The migrations, built into the binary so a deploy host needs none of the repository.
    let migrations = sql_files(&root, "migrations").into_iter().map(|path| {
        let name = path
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        (name, path)
    });
    write_list(
        &out.join("migration_sources.rs"),
        &migrations.collect::<Vec<_>>(),
    );
}

/// Writes `&[(name, include_str!(path)), …]` to `file`, for an `include!`.
fn write_list(file: &Path, entries: &[(String, PathBuf)]) {
    let mut list = String::from("&[\n");
    for (name, path) in entries {
        let path = path.display().to_string();
        writeln!(list, "    ({name:?}, include_str!({path:?})),").expect("writing to a String");
    }
    list.push(']');
    fs::write(file, list).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
}

/// The `.sql` files of `root/dir`, by name.
fn sql_files(root: &Path, dir: &str) -> Vec<PathBuf> {
    // A directory here makes cargo rerun this script when any file inside it changes.
    println!("cargo::rerun-if-changed={dir}");
    let dir = root.join(dir);
    let entries = fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    files
}
