//! Locating the installed PostgreSQL server binaries.

use std::env;
use std::path::{Path, PathBuf};

/// A directory holding both `initdb` and `postgres`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinDir(PathBuf);

impl BinDir {
    pub fn path(&self) -> &Path {
        &self.0
    }

    fn check(dir: PathBuf) -> Option<Self> {
        let has = |name: &str| dir.join(name).is_file();
        (has("initdb") && has("postgres")).then_some(Self(dir))
    }
}

/// Where to run PostgreSQL program `name` (`psql`, `pgbench`, …) from: the server's own bin
/// directory when it holds it, else plain `name` for a `PATH` lookup. On Debian the `PATH`
/// entry is a Perl wrapper that costs ~25 ms per start.
pub fn program(name: &str) -> PathBuf {
    let direct = find_bin_dir().map(|dir| dir.path().join(name));
    direct
        .filter(|path| path.is_file())
        .unwrap_or_else(|| name.into())
}

/// Finds the server binaries: `$THROWAWAY_PG_BIN_DIR`, then the directory `initdb` on `PATH`
/// really lives in (Debian installs only symlinks or wrappers there), then the newest
/// `/usr/lib/postgresql/<version>/bin`.
pub fn find_bin_dir() -> Option<BinDir> {
    if let Some(dir) = env::var_os("THROWAWAY_PG_BIN_DIR") {
        return BinDir::check(PathBuf::from(dir));
    }
    on_path().or_else(newest_debian)
}

fn on_path() -> Option<BinDir> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).find_map(|dir| {
        let initdb = dir.join("initdb").canonicalize().ok()?;
        BinDir::check(initdb.parent()?.to_path_buf())
    })
}

fn newest_debian() -> Option<BinDir> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .find_map(|(_, dir)| BinDir::check(dir))
}
