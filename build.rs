//! Lists every `.sql` file under `queries/` and `copy/` for `src/statements.rs`, so the statement
//! log knows each named statement, including one added to a new file, with no list to keep up to
//! date; and every file of `migrations/`, for `src/migrations.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut sources = String::from("&[\n");
    for dir in ["queries", "copy"] {
        // A directory here makes cargo rerun this script when any file inside it changes.
        println!("cargo::rerun-if-changed={dir}");
        for path in sql_files(&root.join(dir)) {
            let name = path.file_name().expect("a file").to_string_lossy();
            writeln!(
                sources,
                "    ({:?}, include_str!({:?})),",
                format!("{dir}/{name}"),
                path.display().to_string()
            )
            .expect("writing to a String");
        }
    }
    sources.push(']');
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("sql_sources.rs"), sources).expect("write sql_sources.rs");

    // The migrations, built into the binary so a deploy host needs none of the repository.
    println!("cargo::rerun-if-changed=migrations");
    let mut migrations = String::from("&[\n");
    for path in sql_files(&root.join("migrations")) {
        let name = path.file_name().expect("a file").to_string_lossy();
        let line = format!(
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
        writeln!(migrations, "{line}").expect("writing to a String");
    }
    migrations.push(']');
    fs::write(out.join("migration_sources.rs"), migrations).expect("write migration_sources.rs");
}

fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let entries = fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    files
}
