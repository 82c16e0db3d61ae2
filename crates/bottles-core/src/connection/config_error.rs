//! [`ConfigError`]: why connection settings were refused, by kind, with one line that names the
//! setting and never repeats the text it came from (that may hold a password).

/// What kind of setting was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The URL or `key=value` string does not parse.
    Syntax,
    /// A setting has a value that cannot be used (a bad port, a missing user name, …).
    Setting,
    /// `sslmode` is not one of libpq's values, or does not fit `sslrootcert`.
    SslMode,
    /// A certificate or key file is missing, unreadable or unusable.
    Certificate,
    /// The service file named by `service=` / `PGSERVICE` is missing or malformed.
    Service,
}

/// Connection settings that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ConfigError {
    kind: ConfigErrorKind,
    reason: String,
}

impl ConfigError {
    fn new(kind: ConfigErrorKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }

    pub(crate) fn syntax(reason: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Syntax, reason)
    }

    pub(crate) fn setting(reason: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Setting, reason)
    }

    pub(crate) fn ssl_mode(reason: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::SslMode, reason)
    }

    pub(crate) fn certificate(reason: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Certificate, reason)
    }

    pub(crate) fn service(reason: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Service, reason)
    }

    /// What kind of setting was wrong.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The same error with more said after it (where a bad value came from, say).
    pub(crate) fn with_note(mut self, note: &str) -> Self {
        self.reason = format!("{} {note}", self.reason);
        self
    }
}
