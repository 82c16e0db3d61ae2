//! Regenerating the cornucopia crates: cornucopia type-checks a project's `queries/` against its
//! `schema.sql` loaded into an empty database and writes its crate (`codegen/`), with the
//! settings in the project's `cornucopia.toml` (the same file the plain `cornucopia` CLI
//! reads). The projects: the notebook at the root, and `examples/todo`.
//!
//! Planning and checking `migrations/` ([`migrations`]) lives here too, so that `cargo test`
//! checks them as it checks the generated crates.

use std::path::{Path, PathBuf};

use cornucopia::config::{Config, StaticFile};

pub mod migrations;

/// The repository root (this crate lives in `xtask/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent")
        .to_path_buf()
}

/// The directories holding a `cornucopia.toml`, `schema.sql` and `queries/`: the notebook's
/// (the repository root) first.
pub fn projects() -> Vec<PathBuf> {
    let root = repo_root();
    vec![root.clone(), root.join("examples/todo")]
}

/// The notebook's `cornucopia.toml` (see [`project_config`]).
pub fn config() -> Result<Config, String> {
    project_config(&repo_root())
}

/// `root/cornucopia.toml`, with its paths made absolute (the CLI reads them from the working
/// directory, which for it is the project's directory).
pub fn project_config(root: &Path) -> Result<Config, String> {
    let path = root.join("cornucopia.toml");
    let mut config =
        Config::from_file(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    config.queries = root.join(&config.queries);
    config.destination = root.join(&config.destination);
    for file in &mut config.static_files {
        match file {
            StaticFile::Simple(path) | StaticFile::Detailed { path, .. } => {
                *path = root.join(&*path)
            }
        }
    }
    Ok(config)
}

/// The notebook's crate (see [`generate_project`]).
pub fn generate(client: &tokio_postgres::Client, destination: &Path) -> Result<(), String> {
    generate_project(client, &repo_root(), destination)
}

/// Loads `root/schema.sql` into the database behind `client`, which must be empty, and
/// generates the crate into `destination` (replacing what is there) with the settings of
/// `root/cornucopia.toml`.
///
/// cornucopia drives `client` with blocking calls, so its connection must be polled by a runtime
/// on another thread: call this from `spawn_blocking` or outside any runtime.
pub fn generate_project(
    client: &tokio_postgres::Client,
    root: &Path,
    destination: &Path,
) -> Result<(), String> {
    let mut config = project_config(root)?;
    config.destination = destination.to_path_buf();
    let schema = root.join("schema.sql");
    let report = |err: cornucopia::Error| format!("{:?}", miette::Report::new(err));
    cornucopia::load_schema(client, &[schema]).map_err(|err| report(Box::new(err).into()))?;
    cornucopia::gen_live(client, config).map_err(report)
}

/// Relative paths of the files that differ between two trees: changed, missing or extra.
pub fn compare_trees(generated: &Path, committed: &Path) -> Vec<String> {
    let (fresh, old) = (files_under(generated), files_under(committed));
    let mut names: Vec<&PathBuf> = fresh.keys().chain(old.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| fresh.get(*name) != old.get(*name))
        .map(|name| name.display().to_string())
        .collect()
}

fn files_under(root: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let (Ok(bytes), Ok(relative)) =
                (std::fs::read(&path), path.strip_prefix(root))
            {
                files.insert(relative.to_path_buf(), bytes);
            }
        }
    }
    files
}
