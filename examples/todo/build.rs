//! Lists `schema.sql` and every `.sql` file under `queries/` for `src/lib.rs`'s statement catalog,
//! so a query added to a new file is named in the statement log with no list to keep up to date.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo::rerun-if-changed=queries");
    println!("cargo::rerun-if-changed=schema.sql");
    let mut files: Vec<PathBuf> = fs::read_dir(root.join("queries"))
        .expect("queries/")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    files.insert(0, root.join("schema.sql"));
    let mut sources = String::from("&[\n");
    for path in files {
        let name = path
            .strip_prefix(&root)
            .expect("under the crate")
            .display()
            .to_string();
        let line = format!(
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
        writeln!(sources, "{line}").expect("writing to a String");
    }
    sources.push(']');
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("sql_sources.rs"), sources).expect("write sql_sources.rs");
}
