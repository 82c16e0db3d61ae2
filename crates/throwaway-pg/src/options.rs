//! Extra server configuration: settings, authentication rules and files in the data directory.

use std::fs;
use std::path::Path;

use crate::{Error, Owner, io_error};

/// Extra configuration for [`LocalServer::start_with`](crate::LocalServer::start_with): settings, `pg_hba.conf` rules and files
/// (certificates, keys) placed in the data directory.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub(crate) settings: Vec<(String, String)>,
    hba_rules: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
}

impl Options {
    /// A server setting, passed as `-c name=value`.
    pub fn setting(mut self, name: &str, value: &str) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// A `pg_hba.conf` line checked before the default rules (trust for everyone on loopback).
    pub fn hba_rule(mut self, line: &str) -> Self {
        self.hba_rules.push(line.into());
        self
    }

    /// A file in the data directory, readable only by the server (as a private key must be).
    pub fn file(mut self, name: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.into(), contents.into()));
        self
    }
}

/// Applies `options` to a fresh data directory: files, then the extra `pg_hba.conf` rules.
pub(crate) fn configure(data: &Path, owner: Owner, options: &Options) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let hba = data.join("pg_hba.conf");
    let defaults = fs::read_to_string(&hba).map_err(io_error("could not read pg_hba.conf"))?;
    let rules = options.hba_rules.iter().map(|rule| format!("{rule}\n"));
    let mut files = options.files.clone();
    files.push((
        "pg_hba.conf".into(),
        (rules.collect::<String>() + &defaults).into(),
    ));
    for (name, contents) in &files {
        let path = data.join(name);
        let context = format!("could not write {}", path.display());
        fs::write(&path, contents).map_err(io_error(context.clone()))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
            .map_err(io_error(context.clone()))?;
        if owner.switch {
            nix::unistd::chown(&path, Some(owner.uid), Some(owner.gid))
                .map_err(|errno| io_error(context)(errno.into()))?;
        }
    }
    Ok(())
}
