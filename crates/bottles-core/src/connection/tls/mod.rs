//! TLS with libpq's meaning of `sslmode`, on rustls with its `ring` provider (no OpenSSL):
//!
//! - `disable` never encrypts; `prefer` (the default) encrypts when the server offers it;
//!   `require` refuses to go without. These check that the server holds the key of the
//!   certificate it shows, not who signed it, so they keep eavesdroppers out, not impostors.
//! - `verify-ca` also checks the certificate's chain against `sslrootcert`; `verify-full`
//!   checks the chain and that the certificate names the host connected to (its SAN, or its CN
//!   when it has no SAN), IP addresses included.
//! - As in libpq, `require` with a root certificate file behaves like `verify-ca`.
//!
//! `sslrootcert` is a PEM file, `system` for the platform's roots, or by default
//! `~/.postgresql/root.crt`; `sslcert`/`sslkey` (default `~/.postgresql/postgresql.crt` and
//! `.key`, when present) present a client certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

mod verify;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::config_error::ConfigError;
use super::sslmode::SslMode;
pub(crate) use verify::Roots;
use verify::{Checked, KeyOnly};

/// What `sslmode` checks of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Only that the server holds the certificate's key.
    KeyOnly,
    /// The chain, against the roots.
    Chain,
    /// The chain and the host name.
    ChainAndName,
}

/// The TLS settings of a connection string, before any file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    pub verify: Verify,
    pub roots: Option<Roots>,
    /// A client certificate chain and its key, both PEM files.
    pub client: Option<(PathBuf, PathBuf)>,
}

impl TlsSettings {
    /// libpq's rules for `sslmode`, `sslrootcert`, `sslcert` and `sslkey` (`home` for the
    /// `~/.postgresql` defaults); tokio-postgres is then told `disable`, `prefer` or `require`.
    pub(crate) fn new(
        mode: SslMode,
        rootcert: Option<&str>,
        cert: Option<&str>,
        key: Option<&str>,
        home: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let defaults = home.map(|home| home.join(".postgresql"));
        let default = |name: &str| defaults.as_ref().map(|dir| dir.join(name));
        let roots = match rootcert {
            Some("system") => Some(Roots::System),
            Some(path) => Some(Roots::File(path.into())),
            None => default("root.crt")
                .filter(|path| path.is_file())
                .map(Roots::File),
        };
        let verify = match mode {
            SslMode::Disable | SslMode::Allow | SslMode::Prefer => Verify::KeyOnly,
            SslMode::Require if roots.is_some() => Verify::Chain,
            SslMode::Require => Verify::KeyOnly,
            SslMode::VerifyCa => Verify::Chain,
            SslMode::VerifyFull => Verify::ChainAndName,
        };
        if roots == Some(Roots::System)
            && verify != Verify::ChainAndName
            && mode != SslMode::Disable
        {
            return Err(ConfigError::ssl_mode(format!(
                "weak sslmode \"{mode}\" may not be used with sslrootcert=system (use \"verify-full\")"
            )));
        }
        let roots = match (verify, roots) {
            (Verify::KeyOnly, _) => None,
            (_, Some(roots)) => Some(roots),
            (_, None) => {
                let path = default("root.crt").unwrap_or_else(|| "~/.postgresql/root.crt".into());
                return Err(ConfigError::certificate(format!(
                    "root certificate file \"{}\" does not exist; either provide the file (sslrootcert), use the system's trusted roots (sslrootcert=system), or change sslmode",
                    path.display()
                )));
            }
        };
        let client = match (cert, key) {
            (Some(cert), key) => {
                let key = key
                    .map(PathBuf::from)
                    .unwrap_or_else(|| Path::new(cert).with_extension("key"));
                Some((PathBuf::from(cert), key))
            }
            (None, key) => default("postgresql.crt")
                .filter(|path| path.is_file())
                .map(|cert| {
                    (
                        cert,
                        key.map(PathBuf::from)
                            .or(default("postgresql.key"))
                            .unwrap_or_default(),
                    )
                }),
        };
        Ok(Self {
            verify,
            roots,
            client,
        })
    }
}

/// The connector for `settings`, reading its certificate files now so a bad one fails here.
pub(crate) fn connector(settings: &TlsSettings) -> Result<MakeRustlsConnect, ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match &settings.roots {
        None => Arc::new(KeyOnly(provider.clone())),
        Some(roots) => {
            let store = Arc::new(root_store(roots)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(store, provider.clone())
                .build()
                .map_err(|err| {
                    ConfigError::certificate(format!("unusable root certificates: {err}"))
                })?;
            Arc::new(Checked {
                webpki,
                name_too: settings.verify == Verify::ChainAndName,
                roots: roots.clone(),
            })
        }
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match &settings.client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let (chain, key) = client_identity(cert, key)?;
            builder.with_client_auth_cert(chain, key).map_err(|err| {
                ConfigError::certificate(format!(
                    "client certificate \"{}\": {err}",
                    cert.display()
                ))
            })?
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|err| {
        ConfigError::certificate(format!(
            "could not read {what} \"{}\": {err}",
            path.display()
        ))
    })
}

fn root_store(roots: &Roots) -> Result<RootCertStore, ConfigError> {
    let mut store = RootCertStore::empty();
    let certificates: Vec<CertificateDer<'static>> = match roots {
        Roots::System => rustls_native_certs::load_native_certs().certs,
        Roots::File(path) => CertificateDer::pem_slice_iter(&read(path, "root certificate file")?)
            .collect::<Result<_, _>>()
            .map_err(|err| {
                ConfigError::certificate(format!(
                    "root certificate file \"{}\": {err}",
                    path.display()
                ))
            })?,
    };
    let (added, _) = store.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(ConfigError::certificate(match roots {
            Roots::System => "no trusted root certificates found on this system".into(),
            Roots::File(path) => format!(
                "no certificate in root certificate file \"{}\"",
                path.display()
            ),
        }));
    }
    Ok(store)
}

/// The client's certificate chain and key; like libpq, a key others may read is refused.
fn client_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let chain = CertificateDer::pem_slice_iter(&read(cert, "certificate file")?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| {
            ConfigError::certificate(format!("certificate file \"{}\": {err}", cert.display()))
        })?;
    let mode = std::fs::metadata(key)
        .map(|m| m.permissions().mode())
        .unwrap_or(0);
    if mode & 0o077 != 0 {
        return Err(ConfigError::certificate(format!(
            "private key file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
            key.display()
        )));
    }
    let key_der =
        PrivateKeyDer::from_pem_slice(&read(key, "private key file")?).map_err(|err| {
            ConfigError::certificate(format!("private key file \"{}\": {err}", key.display()))
        })?;
    Ok((chain, key_der))
}
