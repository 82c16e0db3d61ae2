//! Connection parameters as libpq reads them: a `postgres://` URL or a `key=value` string,
//! then a service file (`service=`, `PGSERVICE`), then the `PG*` environment, then libpq's
//! defaults, each filling only what came before left unset.

use std::path::{Path, PathBuf};

use super::config_error::ConfigError;

/// Where a parameter came from, to name it in an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Given,
    Service,
    Environment(&'static str),
    Default,
}

/// Parameters by libpq keyword, each set once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    entries: Vec<(String, String, Origin)>,
}

/// The environment variables libpq reads, and the keyword each one stands for.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
    ("PGCHANNELBINDING", "channel_binding"),
];

/// The variables that, without a URL, say the user means a server of their own.
pub(crate) const NAMES_A_SERVER: [&str; 4] = ["PGHOST", "PGHOSTADDR", "PGDATABASE", "PGSERVICE"];

impl Params {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, ..)| k == key)
            .map(|(_, value, _)| value.as_str())
    }

    pub(crate) fn origin(&self, key: &str) -> Option<Origin> {
        self.entries.iter().find(|(k, ..)| k == key).map(|e| e.2)
    }

    /// Sets `key` unless it is set already.
    fn fill(&mut self, key: &str, value: &str, origin: Origin) {
        if self.get(key).is_none() {
            self.entries.push((key.into(), value.into(), origin));
        }
    }

    fn set(&mut self, key: &str, value: String) {
        self.entries.retain(|(k, ..)| k != key);
        self.entries.push((key.into(), value, Origin::Given));
    }

    /// Removes `key`, returning its value: for the parameters bottles handles itself.
    pub(crate) fn take(&mut self, key: &str) -> Option<String> {
        let index = self.entries.iter().position(|(k, ..)| k == key)?;
        Some(self.entries.remove(index).1)
    }

    /// The parameters as a `key='value'` string, for tokio-postgres to parse.
    pub(crate) fn to_keywords(&self) -> String {
        let quoted = self.entries.iter().map(|(key, value, _)| {
            let value = value.replace('\\', "\\\\").replace('\'', "\\'");
            format!("{key}='{value}'")
        });
        quoted.collect::<Vec<_>>().join(" ")
    }
}

/// Parses a `postgres://` or `postgresql://` URL, or else a `key=value` string.
pub(crate) fn parse(input: &str) -> Result<Params, ConfigError> {
    let input = input.trim();
    match ["postgresql://", "postgres://"]
        .iter()
        .find_map(|scheme| input.strip_prefix(scheme))
    {
        Some(rest) => parse_url(rest),
        None => parse_keywords(input),
    }
}

fn parse_url(rest: &str) -> Result<Params, ConfigError> {
    let mut params = Params::default();
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, dbname) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            params.set("user", decode(user, "the user name")?);
        }
        if let Some(password) = password {
            params.set("password", decode(password, "the password")?);
        }
    }
    if !hosts.is_empty() {
        let (mut names, mut ports) = (Vec::new(), Vec::new());
        for spec in hosts.split(',') {
            let (host, port) = split_host_port(spec)?;
            names.push(decode(host, "a host")?);
            ports.push(port.to_string());
        }
        if names.iter().any(|name| !name.is_empty()) {
            params.set("host", names.join(","));
        }
        if ports.iter().any(|port| !port.is_empty()) {
            params.set("port", ports.join(","));
        }
    }
    if !dbname.is_empty() {
        params.set("dbname", decode(dbname, "the database name")?);
    }
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| ConfigError::syntax("a URL parameter without \"=\""))?;
        params.set(
            &decode(key, "a parameter name")?,
            decode(value, "a parameter")?,
        );
    }
    Ok(params)
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(spec: &str) -> Result<(&str, &str), ConfigError> {
    if let Some(bracketed) = spec.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| ConfigError::syntax("an IPv6 address without its closing \"]\""))?;
        let port = match after.strip_prefix(':') {
            Some(port) => port,
            None if after.is_empty() => "",
            None => return Err(ConfigError::syntax("unexpected text after an IPv6 address")),
        };
        return Ok((host, port));
    }
    Ok(spec.split_once(':').unwrap_or((spec, "")))
}

/// Percent-decodes one part of a URL; `what` names it in an error (never its text). The
/// decoder alone passes a malformed escape through as text, and libpq refuses it, so check first.
fn decode(text: &str, what: &str) -> Result<String, ConfigError> {
    let bytes = text.as_bytes();
    let malformed = bytes.iter().enumerate().any(|(i, &byte)| {
        byte == b'%'
            && !bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if malformed {
        return Err(ConfigError::syntax(format!("a bad %-escape in {what}")));
    }
    let decoded = percent_encoding::percent_decode_str(text).decode_utf8();
    let decoded =
        decoded.map_err(|_| ConfigError::syntax(format!("{what} is not UTF-8 once decoded")))?;
    Ok(decoded.into_owned())
}

/// `key=value key2='quoted \' value'`: libpq's keyword format.
fn parse_keywords(input: &str) -> Result<Params, ConfigError> {
    let mut params = Params::default();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(_) = chars.peek() else {
            return Ok(params);
        };
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(ConfigError::syntax(format!(
                "missing \"=\" after \"{key}\""
            )));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        let quoted = chars.next_if_eq(&'\'').is_some();
        loop {
            match chars.next() {
                None if quoted => {
                    return Err(ConfigError::syntax(format!(
                        "unterminated quoted value for \"{key}\""
                    )));
                }
                None => break,
                Some('\'') if quoted => break,
                Some(c) if c.is_whitespace() && !quoted => break,
                Some('\\') => value.extend(chars.next()),
                Some(c) => value.push(c),
            }
        }
        params.set(&key, value);
    }
}

/// Fills what `params` leaves unset from a service file, the environment (read through `env`)
/// and libpq's defaults, in that order.
pub(crate) fn add_defaults(
    params: &mut Params,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let service = params.take("service").or_else(|| env("PGSERVICE"));
    if let Some(service) = service {
        for (key, value) in read_service(&service, env)? {
            params.fill(&key, &value, Origin::Service);
        }
    }
    for (variable, key) in ENVIRONMENT {
        if let Some(value) = env(variable) {
            params.fill(key, &value, Origin::Environment(variable));
        }
    }
    if params.get("host").is_none() && params.get("hostaddr").is_none() {
        params.fill("host", &default_socket_dir(), Origin::Default);
    }
    if params.get("user").is_none() {
        let user = nix::unistd::User::from_uid(nix::unistd::Uid::effective())
            .ok()
            .flatten();
        let user = user.map(|user| user.name).or_else(|| env("USER"));
        params.fill(
            "user",
            &user.ok_or_else(|| {
                ConfigError::setting("no user name given, and none for this process")
            })?,
            Origin::Default,
        );
    }
    Ok(())
}

/// libpq's default socket directory, as Debian builds it; upstream's `/tmp` when that is
/// missing.
pub(crate) fn default_socket_dir() -> String {
    let debian = "/var/run/postgresql";
    if Path::new(debian).is_dir() {
        debian
    } else {
        "/tmp"
    }
    .to_string()
}

/// The parameters of `service` from `PGSERVICEFILE` or `~/.pg_service.conf`, else from
/// `pg_service.conf` in `PGSYSCONFDIR` (Debian: `/etc/postgresql-common`).
fn read_service(
    service: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, ConfigError> {
    let user_file = env("PGSERVICEFILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".pg_service.conf")));
    let system_dir = env("PGSYSCONFDIR").unwrap_or_else(|| "/etc/postgresql-common".into());
    let files = user_file
        .into_iter()
        .chain([Path::new(&system_dir).join("pg_service.conf")]);
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut in_section = false;
        let mut found = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                if in_section {
                    break;
                }
                in_section = name == service;
            } else if in_section && !line.is_empty() && !line.starts_with('#') {
                let (key, value) = line.split_once('=').ok_or_else(|| {
                    ConfigError::service(format!("syntax error in service file {}", file.display()))
                })?;
                found.push((key.trim().to_string(), value.trim().to_string()));
            }
        }
        if in_section {
            return Ok(found);
        }
    }
    Err(ConfigError::service(format!(
        "definition of service \"{service}\" not found"
    )))
}

#[cfg(test)]
mod tests;
