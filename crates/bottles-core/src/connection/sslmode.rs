//! `sslmode`, typed: libpq's six values, and what each asks of TLS.

use std::fmt;
use std::str::FromStr;

use super::config_error::ConfigError;

/// libpq's `sslmode`: whether to encrypt, and what to check of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never encrypt.
    Disable,
    /// As libpq: plain first, TLS if the server insists. bottles treats it as [`SslMode::Prefer`].
    Allow,
    /// Encrypt when the server offers TLS (the default).
    #[default]
    Prefer,
    /// Always encrypt; with a root certificate, check the chain like `verify-ca`.
    Require,
    /// Encrypt and check the certificate's chain against `sslrootcert`.
    VerifyCa,
    /// Encrypt, check the chain, and check that the certificate names the host.
    VerifyFull,
}

impl SslMode {
    /// The keyword as libpq spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// What tokio-postgres is told: it knows only disable, prefer and require, and bottles
    /// does the checking of the stronger modes itself (see `tls`).
    pub(crate) fn on_the_wire(self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Wire;
        match self {
            SslMode::Disable => Wire::Disable,
            SslMode::Allow | SslMode::Prefer => Wire::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Wire::Require,
        }
    }
}

impl FromStr for SslMode {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(ConfigError::ssl_mode(format!(
                    "invalid sslmode value: \"{other}\" (use disable, prefer, require, verify-ca or verify-full)"
                )));
            }
        })
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_reads_back_as_written_and_anything_else_is_refused() {
        for mode in [
            SslMode::Disable,
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ] {
            assert_eq!(mode.as_str().parse::<SslMode>(), Ok(mode));
        }
        let err = "verify_full".parse::<SslMode>().unwrap_err();
        assert_eq!(err.kind(), crate::connection::ConfigErrorKind::SslMode);
        assert!(err.to_string().contains("\"verify_full\""), "{err}");
    }
}
