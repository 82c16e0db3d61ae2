//! The certificate checks: [`KeyOnly`] for `disable`/`prefer`/`require`, [`Checked`] for
//! `verify-ca`/`verify-full` (and `require` with roots).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use x509_cert::der::Decode;
use x509_cert::der::asn1::{Ia5String, PrintableString, Utf8StringRef};

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Roots {
    File(PathBuf),
    System,
}

/// `verify-ca` and `verify-full`: webpki's checks, with libpq's CN fallback and messages that
/// say what did not match.
#[derive(Debug)]
pub(super) struct Checked {
    pub webpki: Arc<WebPkiServerVerifier>,
    pub name_too: bool,
    pub roots: Roots,
}

impl ServerCertVerifier for Checked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let error = match verified {
            Ok(verified) => return Ok(verified),
            Err(rustls::Error::InvalidCertificate(error)) => error,
            Err(other) => return Err(other),
        };
        // webpki checks the chain before the name: a wrong name means the chain is good.
        let wrong_name = matches!(
            error,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        );
        if wrong_name && (!self.name_too || common_name_matches(end_entity, server_name)) {
            return Ok(ServerCertVerified::assertion());
        }
        let roots = match &self.roots {
            Roots::System => "the system's trusted roots".to_string(),
            Roots::File(path) => format!("sslrootcert \"{}\"", path.display()),
        };
        let reason = match error {
            _ if wrong_name => format!(
                "the server's certificate is not for \"{}\" (sslmode=verify-full checks the host name)",
                server_name.to_str()
            ),
            // An unknown issuer, or one posing under a trusted CA's name.
            CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                format!("the server's certificate is not signed by a CA in {roots}")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the server's certificate has expired".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet".into()
            }
            other => format!("the server's certificate was refused: {other}"),
        };
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(Refused(reason))),
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// `disable`, `prefer`, `require` without roots: any certificate, as long as the server holds
/// its key.
#[derive(Debug)]
pub(super) struct KeyOnly(pub Arc<CryptoProvider>);

impl ServerCertVerifier for KeyOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// libpq's fallback for a certificate without a subject alternative name: its common name must
/// be the host (a leading `*.` matching one label) or, for an IP address, that address.
fn common_name_matches(end_entity: &CertificateDer<'_>, server_name: &ServerName<'_>) -> bool {
    let Ok(certificate) = x509_cert::Certificate::from_der(end_entity) else {
        return false;
    };
    let tbs = &certificate.tbs_certificate;
    let has_san = tbs
        .extensions
        .iter()
        .flatten()
        .any(|extension| extension.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME);
    if has_san {
        return false;
    }
    let common_names = tbs
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|attribute| attribute.oid == const_oid::db::rfc4519::CN);
    let host = server_name.to_str();
    common_names
        .filter_map(|attribute| text_of(&attribute.value))
        .any(
            |name| match (host.parse::<IpAddr>(), name.parse::<IpAddr>()) {
                (Ok(host), Ok(name)) => host == name,
                (Ok(_), Err(_)) | (Err(_), Ok(_)) => false,
                (Err(_), Err(_)) => dns_name_matches(&name, &host),
            },
        )
}

fn text_of(value: &x509_cert::attr::AttributeValue) -> Option<String> {
    if let Ok(text) = value.decode_as::<Utf8StringRef<'_>>() {
        return Some(text.to_string());
    }
    if let Ok(text) = value.decode_as::<PrintableString>() {
        return Some(text.to_string());
    }
    value
        .decode_as::<Ia5String>()
        .ok()
        .map(|text| text.to_string())
}

fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

    #[test]
    fn wildcards_match_one_label_only() {
        assert!(dns_name_matches("db.example.com", "DB.example.com"));
        assert!(dns_name_matches("*.example.com", "db.example.com"));
        assert!(!dns_name_matches("*.example.com", "a.db.example.com"));
        assert!(!dns_name_matches("*.example.com", "example.com"));
    }

    fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    }

    fn leaf(
        ca: &CertifiedIssuer<'_, KeyPair>,
        names: &[&str],
        common_name: &str,
        expired: bool,
    ) -> CertificateDer<'static> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        params
            .signed_by(&KeyPair::generate().unwrap(), ca)
            .unwrap()
            .der()
            .clone()
    }

    fn checker(ca: &CertifiedIssuer<'_, KeyPair>, name_too: bool) -> Checked {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        Checked {
            webpki,
            name_too,
            roots: Roots::File("ca.pem".into()),
        }
    }

    fn check(checker: &Checked, cert: &CertificateDer<'_>, host: &str) -> Result<(), String> {
        let name = ServerName::try_from(host.to_string()).unwrap();
        checker
            .verify_server_cert(cert, &[], &name, &[], UnixTime::now())
            .map(|_| ())
            .map_err(|err| match err {
                rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
                    other.0.to_string()
                }
                other => other.to_string(),
            })
    }

    #[test]
    fn verify_full_checks_names_with_the_common_name_only_when_there_is_no_san() {
        let (ca, other, impostor) = (ca("test CA"), ca("other CA"), ca("test CA"));
        let full = checker(&ca, true);
        let san = leaf(&ca, &["localhost", "10.0.0.7"], "ignored.example", false);
        assert_eq!(check(&full, &san, "localhost"), Ok(()));
        assert_eq!(check(&full, &san, "10.0.0.7"), Ok(()));
        let wrong = check(&full, &san, "ignored.example").unwrap_err();
        assert_eq!(
            wrong,
            "the server's certificate is not for \"ignored.example\" (sslmode=verify-full checks the host name)"
        );
        let cn_only = leaf(&ca, &[], "db.example", false);
        assert_eq!(check(&full, &cn_only, "db.example"), Ok(()));
        assert!(check(&full, &cn_only, "other.example").is_err());
        let expired = leaf(&ca, &["localhost"], "x", true);
        assert_eq!(
            check(&full, &expired, "localhost"),
            Err("the server's certificate has expired".into())
        );
        for issuer in [&other, &impostor] {
            let stranger = leaf(issuer, &["localhost"], "x", false);
            assert_eq!(
                check(&full, &stranger, "localhost"),
                Err(
                    "the server's certificate is not signed by a CA in sslrootcert \"ca.pem\""
                        .into()
                )
            );
        }
        // verify-ca: the chain only.
        assert_eq!(check(&checker(&ca, false), &san, "ignored.example"), Ok(()));
    }
}
