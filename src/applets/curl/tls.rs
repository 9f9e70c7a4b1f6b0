//! TLS for curl with rustls: the trust store (built-in roots plus the system bundle, or
//! `--cacert` alone), client certificates, `-k`, and curl's words and codes for failures.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::sync::{Arc, Mutex};

/// Where system CA bundles live on common distributions.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Wraps the webpki verifier: records what it decided (for `-v` and `%{ssl_verify_result}`)
/// and, under `-k`, lets the handshake go on anyway.
#[derive(Debug)]
pub struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    insecure: bool,
    pub outcome: Mutex<Option<Result<(), rustls::Error>>>,
    pub leaf: Mutex<Option<Vec<u8>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let r = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        if let Ok(mut leaf) = self.leaf.lock() {
            *leaf = Some(end_entity.as_ref().to_vec());
        }
        if let Ok(mut o) = self.outcome.lock() {
            *o = Some(r.as_ref().map(|_| ()).map_err(Clone::clone));
        }
        if self.insecure {
            Ok(ServerCertVerified::assertion())
        } else {
            r
        }
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(m, c, d)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(m, c, d)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Why a TLS client configuration could not be built: curl's code and message.
pub struct ConfigError {
    pub code: i32,
    pub message: String,
}

fn read_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .filter_map(|c| c.ok())
        .collect();
    if certs.is_empty() {
        return Err("no certificate found".into());
    }
    Ok(certs)
}

pub fn client_config(
    insecure: bool,
    cacert: Option<&str>,
    cert: Option<&str>,
    key: Option<&str>,
) -> Result<(Arc<ClientConfig>, Arc<Recorder>), ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    match cacert {
        Some(path) => {
            let certs = read_certs(path).map_err(|e| ConfigError {
                code: 77,
                message: format!("error setting certificate file: {path} ({e})"),
            })?;
            roots.add_parsable_certificates(certs);
        }
        None => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            for bundle in SYSTEM_BUNDLES {
                if let Ok(certs) = read_certs(bundle) {
                    roots.add_parsable_certificates(certs);
                    break;
                }
            }
        }
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| ConfigError {
            code: 77,
            message: format!("cannot use the CA certificates: {e}"),
        })?;
    let recorder = Arc::new(Recorder {
        inner,
        insecure,
        outcome: Mutex::new(None),
        leaf: Mutex::new(None),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError {
            code: 35,
            message: format!("TLS setup failed: {e}"),
        })?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone());
    let mut config = match cert {
        None => builder.with_no_client_auth(),
        Some(cert_path) => {
            let chain = read_certs(cert_path).map_err(|e| ConfigError {
                code: 58,
                message: format!("could not load PEM client certificate from {cert_path} ({e})"),
            })?;
            let key_path = key.unwrap_or(cert_path);
            let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| ConfigError {
                code: 58,
                message: format!("unable to set private key file: '{key_path}' ({e})"),
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ConfigError {
                    code: 58,
                    message: format!("unable to use client certificate: {e}"),
                })?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), recorder))
}

fn is_self_signed(der: &[u8]) -> bool {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => c.subject() == c.issuer(),
        Err(_) => false,
    }
}

/// OpenSSL's verify code for what the verifier said (curl's `%{ssl_verify_result}`).
pub fn verify_code(outcome: &Option<Result<(), rustls::Error>>, leaf: Option<&[u8]>) -> i64 {
    match outcome {
        None | Some(Ok(())) => 0,
        Some(Err(rustls::Error::InvalidCertificate(e))) if self_signed_failure(e, leaf) => 18,
        Some(Err(rustls::Error::InvalidCertificate(e))) => match e {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => 10,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => 9,
            CertificateError::UnknownIssuer if leaf.is_some_and(is_self_signed) => 18,
            CertificateError::UnknownIssuer => 20,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                62
            }
            CertificateError::BadSignature => 7,
            _ => 1,
        },
        Some(Err(_)) => 1,
    }
}

/// curl's exit code and message for a failed handshake.
/// webpki says UnknownIssuer, or CaUsedAsEndEntity when the self-signed certificate is a CA;
/// OpenSSL (and curl) call both "self-signed certificate".
fn self_signed_failure(e: &CertificateError, leaf: Option<&[u8]>) -> bool {
    matches!(
        e,
        CertificateError::UnknownIssuer | CertificateError::Other(_)
    ) && leaf.is_some_and(is_self_signed)
}

pub fn handshake_error(e: &rustls::Error, host: &str, leaf: Option<&[u8]>) -> (i32, String) {
    match e {
        rustls::Error::InvalidCertificate(ce) if self_signed_failure(ce, leaf) => (
            60,
            "SSL certificate problem: self-signed certificate".into(),
        ),
        rustls::Error::InvalidCertificate(ce) => {
            let what = match ce {
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "certificate has expired".to_string()
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "certificate is not yet valid".to_string()
                }
                CertificateError::UnknownIssuer if leaf.is_some_and(is_self_signed) => {
                    "self-signed certificate".to_string()
                }
                CertificateError::UnknownIssuer => {
                    "unable to get local issuer certificate".to_string()
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    return (
                        60,
                        format!(
                            "SSL: no alternative certificate subject name matches target host name '{host}'"
                        ),
                    );
                }
                CertificateError::Revoked => "certificate revoked".to_string(),
                CertificateError::BadSignature => "certificate signature failure".to_string(),
                other => format!("{other:?}"),
            };
            (60, format!("SSL certificate problem: {what}"))
        }
        other => (35, format!("TLS connect error: {other}")),
    }
}

/// The certificate lines curl prints under -v (subject, dates, SAN match, issuer).
pub fn describe(der: &[u8], host: &str) -> Vec<String> {
    let Ok((_, c)) = x509_parser::parse_x509_certificate(der) else {
        return vec!["unparsable certificate".into()];
    };
    let date = |t: &x509_parser::time::ASN1Time| {
        let d = t.to_datetime();
        const MO: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{} {:>2} {:02}:{:02}:{:02} {} GMT",
            MO[d.month() as usize - 1],
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
            d.year()
        )
    };
    let mut out = vec![
        format!(" subject: {}", c.subject()),
        format!(" start date: {}", date(&c.validity().not_before)),
        format!(" expire date: {}", date(&c.validity().not_after)),
    ];
    if let Ok(Some(san)) = c.subject_alternative_name() {
        let names: Vec<String> = san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                x509_parser::extensions::GeneralName::IPAddress(b) if b.len() == 4 => {
                    Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string())
                }
                x509_parser::extensions::GeneralName::IPAddress(b) if b.len() == 16 => {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(b);
                    Some(std::net::Ipv6Addr::from(a).to_string())
                }
                _ => None,
            })
            .collect();
        match names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(host) || wildcard(n, host))
        {
            Some(m) => out.push(format!(
                " subjectAltName: host \"{host}\" matched cert's \"{m}\""
            )),
            None => out.push(format!(" subjectAltName does not match {host}")),
        }
    }
    out.push(format!(" issuer: {}", c.issuer()));
    out
}

fn wildcard(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(_, h)| h.eq_ignore_ascii_case(rest)),
        None => false,
    }
}
