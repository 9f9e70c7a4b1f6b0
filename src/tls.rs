//! The one TLS setup (rustls) that curl, diagnose's probes, the API client and mesh share: the
//! trust store (built-in roots plus the system bundle, or `--cacert`/`--capath` alone), client
//! certificates, `-k`, and what a failed verification means, in OpenSSL's terms.
//!
//! Applets turn a [`Failure`] into their own words (curl's `SSL certificate problem: …` and exit
//! 60, diagnose's evidence lines); nothing here knows about exit codes.

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::fmt;
use std::sync::{Arc, Mutex};

/// Where system CA bundles live on common distributions.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// CA files and client-certificate files are small; anything larger is not one.
const MAX_PEM_FILE: u64 = 16 << 20;

/// What the client trusts and presents.
#[derive(Debug, Clone, Default)]
pub struct Settings<'a> {
    /// `-k`: verify and record the outcome, but let the handshake go on.
    pub insecure: bool,
    /// `--cacert FILE`: these certificates replace the built-in and system roots.
    pub cacert: Option<&'a str>,
    /// `--capath DIR`: every PEM certificate in DIR (hashed `abcd1234.0` names or `*.pem`).
    pub capath: Option<&'a str>,
    /// `--cert FILE` and `--key FILE` (the key may be in the certificate file).
    pub cert: Option<&'a str>,
    pub key: Option<&'a str>,
}

/// Why a client configuration could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A `--cacert` file or `--capath` directory that gives no certificate.
    CaFile {
        path: String,
        why: String,
    },
    /// The client certificate or its key.
    ClientCert {
        path: String,
        why: String,
    },
    ClientKey {
        path: String,
        why: String,
    },
    /// rustls refused the combination (should not happen with the defaults).
    Setup(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::CaFile { path, why } => write!(f, "CA certificates {path}: {why}"),
            ConfigError::ClientCert { path, why } => write!(f, "client certificate {path}: {why}"),
            ConfigError::ClientKey { path, why } => write!(f, "private key {path}: {why}"),
            ConfigError::Setup(why) => write!(f, "TLS setup failed: {why}"),
        }
    }
}

/// What a failed certificate verification means, as OpenSSL (and so curl) names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    SelfSigned,
    Expired,
    NotYetValid,
    /// No trusted issuer for the chain.
    UnknownIssuer,
    /// The certificate is for other names (listed).
    WrongHost {
        host: String,
        names: Vec<String>,
    },
    Revoked,
    BadSignature,
    Other(String),
}

impl Failure {
    /// Classify a rustls error about the peer's certificate; `leaf` is the certificate the
    /// server sent (to tell a self-signed one from an unknown issuer).
    pub fn of(e: &rustls::Error, host: &str, leaf: Option<&[u8]>) -> Option<Failure> {
        let rustls::Error::InvalidCertificate(ce) = e else {
            return None;
        };
        let self_signed = leaf.is_some_and(is_self_signed);
        Some(match ce {
            CertificateError::UnknownIssuer | CertificateError::Other(_) if self_signed => {
                Failure::SelfSigned
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => Failure::Expired,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                Failure::NotYetValid
            }
            CertificateError::UnknownIssuer => Failure::UnknownIssuer,
            CertificateError::NotValidForName => Failure::WrongHost {
                host: host.to_string(),
                names: leaf.map(subject_names).unwrap_or_default(),
            },
            CertificateError::NotValidForNameContext { presented, .. } => Failure::WrongHost {
                host: host.to_string(),
                names: presented.clone(),
            },
            CertificateError::Revoked => Failure::Revoked,
            CertificateError::BadSignature => Failure::BadSignature,
            other => Failure::Other(format!("{other:?}")),
        })
    }

    /// OpenSSL's X509_V_ERR code: curl's `%{ssl_verify_result}`.
    pub fn openssl_code(&self) -> i64 {
        match self {
            Failure::SelfSigned => 18,
            Failure::Expired => 10,
            Failure::NotYetValid => 9,
            Failure::UnknownIssuer => 20,
            Failure::WrongHost { .. } => 62,
            Failure::Revoked => 23,
            Failure::BadSignature => 7,
            Failure::Other(_) => 1,
        }
    }
}

impl fmt::Display for Failure {
    /// OpenSSL's reason string (what curl prints after "SSL certificate problem: ").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::SelfSigned => f.write_str("self-signed certificate"),
            Failure::Expired => f.write_str("certificate has expired"),
            Failure::NotYetValid => f.write_str("certificate is not yet valid"),
            Failure::UnknownIssuer => f.write_str("unable to get local issuer certificate"),
            Failure::WrongHost { host, names } if names.is_empty() => {
                write!(f, "certificate is not valid for {host}")
            }
            Failure::WrongHost { host, names } => write!(
                f,
                "certificate is not valid for {host} (it is for {})",
                names.join(", ")
            ),
            Failure::Revoked => f.write_str("certificate revoked"),
            Failure::BadSignature => f.write_str("certificate signature failure"),
            Failure::Other(what) => f.write_str(what),
        }
    }
}

/// What the verifier decided during the last handshake: the leaf certificate and the outcome
/// (kept also under `-k`, for `-v` and `%{ssl_verify_result}`).
#[derive(Debug, Default)]
pub struct Seen {
    pub outcome: Option<Result<(), rustls::Error>>,
    pub leaf: Option<Vec<u8>>,
}

/// Wraps the webpki verifier: records what it decided and, under `-k`, lets the handshake go on.
/// With `--cacert`, a self-signed certificate that is itself in the file is trusted for the
/// names it carries, as OpenSSL trusts it (webpki refuses a CA certificate as a leaf).
#[derive(Debug)]
pub struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    insecure: bool,
    /// The certificates given with --cacert/--capath, DER (empty with the built-in roots).
    anchors: Vec<Vec<u8>>,
    pub seen: Mutex<Seen>,
}

impl Recorder {
    /// The outcome and leaf of the last handshake.
    pub fn last(&self) -> (Option<Result<(), rustls::Error>>, Option<Vec<u8>>) {
        match self.seen.lock() {
            Ok(s) => (s.outcome.clone(), s.leaf.clone()),
            Err(_) => (None, None),
        }
    }

    fn anchored_leaf(
        &self,
        end_entity: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
    ) -> Result<(), rustls::Error> {
        if !self.anchors.iter().any(|a| a == end_entity.as_ref()) {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            ));
        }
        let cert = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::NotValidForName))?;
        match x509_parser::parse_x509_certificate(end_entity.as_ref()) {
            Ok((_, c)) if c.validity().is_valid() => Ok(()),
            Ok((_, c)) if c.validity().time_to_expiration().is_none() => {
                Err(rustls::Error::InvalidCertificate(
                    if c.validity().not_before.timestamp()
                        > x509_parser::time::ASN1Time::now().timestamp()
                    {
                        CertificateError::NotValidYet
                    } else {
                        CertificateError::Expired
                    },
                ))
            }
            _ => Err(rustls::Error::InvalidCertificate(
                CertificateError::BadEncoding,
            )),
        }
    }
}

fn is_ca_as_leaf(e: &rustls::Error) -> bool {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::Other(o)) => matches!(
            o.0.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
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
        let mut r = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map(|_| ());
        if let Err(e) = &r
            && is_ca_as_leaf(e)
        {
            r = self.anchored_leaf(end_entity, server_name);
        }
        if let Ok(mut seen) = self.seen.lock() {
            seen.leaf = Some(end_entity.as_ref().to_vec());
            seen.outcome = Some(r.clone());
        }
        match r {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(_) if self.insecure => Ok(ServerCertVerified::assertion()),
            Err(e) => Err(e),
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

/// Accepts any certificate, still checking the handshake signatures: for probes that ask
/// whether a path answers, not whether its certificate is good. Needs no root store.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The PEM certificates in `path`, read with a size bound.
pub fn read_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = crate::sys::files::read_bounded(std::path::Path::new(path), MAX_PEM_FILE)
        .map_err(|e| crate::error::os_text(&e))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(|c| c.ok())
        .collect();
    if certs.is_empty() {
        return Err("no certificate found".into());
    }
    Ok(certs)
}

/// Every certificate in the PEM files of `dir` (OpenSSL's hashed names and plain `*.pem`).
fn read_dir_certs(dir: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| crate::error::os_text(&e))?;
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    let mut certs = Vec::new();
    for p in paths.iter().filter(|p| p.is_file()) {
        if let Some(s) = p.to_str()
            && let Ok(c) = read_certs(s)
        {
            certs.extend(c);
        }
    }
    if certs.is_empty() {
        return Err("no certificate found".into());
    }
    Ok(certs)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(s: &Settings) -> Result<(RootCertStore, Vec<Vec<u8>>), ConfigError> {
    let mut roots = RootCertStore::empty();
    let mut given: Vec<CertificateDer<'static>> = Vec::new();
    if let Some(path) = s.cacert {
        given.extend(read_certs(path).map_err(|why| ConfigError::CaFile {
            path: path.into(),
            why,
        })?);
    }
    if let Some(dir) = s.capath {
        given.extend(read_dir_certs(dir).map_err(|why| ConfigError::CaFile {
            path: dir.into(),
            why,
        })?);
    }
    if s.cacert.is_none() && s.capath.is_none() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for bundle in SYSTEM_BUNDLES {
            if let Ok(certs) = read_certs(bundle) {
                roots.add_parsable_certificates(certs);
                break;
            }
        }
        return Ok((roots, Vec::new()));
    }
    let anchors = given.iter().map(|c| c.as_ref().to_vec()).collect();
    roots.add_parsable_certificates(given);
    Ok((roots, anchors))
}

/// A client configuration that verifies the server (and records what it saw), with ALPN
/// http/1.1.
pub fn client_config(s: &Settings) -> Result<(Arc<ClientConfig>, Arc<Recorder>), ConfigError> {
    let provider = provider();
    let (roots, anchors) = roots(s)?;
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| ConfigError::CaFile {
            path: s.cacert.or(s.capath).unwrap_or("the trust store").into(),
            why: e.to_string(),
        })?;
    let recorder = Arc::new(Recorder {
        inner,
        insecure: s.insecure,
        anchors,
        seen: Mutex::new(Seen::default()),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone());
    let mut config = match s.cert {
        None => builder.with_no_client_auth(),
        Some(cert_path) => {
            let chain = read_certs(cert_path).map_err(|why| ConfigError::ClientCert {
                path: cert_path.into(),
                why,
            })?;
            let key_path = s.key.unwrap_or(cert_path);
            let bytes =
                crate::sys::files::read_bounded(std::path::Path::new(key_path), MAX_PEM_FILE)
                    .map_err(|e| ConfigError::ClientKey {
                        path: key_path.into(),
                        why: crate::error::os_text(&e),
                    })?;
            let key =
                PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| ConfigError::ClientKey {
                    path: key_path.into(),
                    why: e.to_string(),
                })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ConfigError::ClientCert {
                    path: cert_path.into(),
                    why: e.to_string(),
                })?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), recorder))
}

/// A configuration that accepts any server certificate: for probes.
pub fn unverified() -> Result<Arc<ClientConfig>, ConfigError> {
    let provider = provider();
    let verifier = Arc::new(AnyCertificate(provider.clone()));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn is_self_signed(der: &[u8]) -> bool {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => c.subject() == c.issuer(),
        Err(_) => false,
    }
}

/// The DNS names and addresses a certificate is for (its subjectAltName).
pub fn subject_names(der: &[u8]) -> Vec<String> {
    let Ok((_, c)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(san)) = c.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
            x509_parser::extensions::GeneralName::IPAddress(b) => match b.len() {
                4 => Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()),
                16 => {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(b);
                    Some(std::net::Ipv6Addr::from(a).to_string())
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A certificate's fields as curl prints them under -v and in `%{certs}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub start: String,
    pub expire: String,
    pub serial: String,
    pub signature: String,
    pub names: Vec<String>,
    pub pem: String,
}

/// The fields of one DER certificate; None when it does not parse.
pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let (_, c) = x509_parser::parse_x509_certificate(der).ok()?;
    let date = |t: &x509_parser::time::ASN1Time| {
        let d = t.to_datetime();
        const MO: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{} {:>2} {:02}:{:02}:{:02} {} GMT",
            MO[(d.month() as usize).saturating_sub(1).min(11)],
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
            d.year()
        )
    };
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    let sig_oid = c.signature_algorithm.algorithm.to_id_string();
    Some(CertInfo {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        start: date(&c.validity().not_before),
        expire: date(&c.validity().not_after),
        serial: c.raw_serial_as_string(),
        signature: signature_name(&sig_oid).to_string(),
        names: subject_names(der),
        pem,
    })
}

fn signature_name(oid: &str) -> &str {
    match oid {
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.3.101.112" => "ED25519",
        other => other,
    }
}

/// The certificate lines curl prints under -v (subject, dates, SAN match, issuer).
pub fn describe(der: &[u8], host: &str) -> Vec<String> {
    let Some(c) = cert_info(der) else {
        return vec!["unparsable certificate".into()];
    };
    let mut out = vec![
        format!(" subject: {}", c.subject),
        format!(" start date: {}", c.start),
        format!(" expire date: {}", c.expire),
    ];
    if !c.names.is_empty() {
        match c
            .names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(host) || wildcard(n, host))
        {
            Some(m) => out.push(format!(
                " subjectAltName: host \"{host}\" matched cert's \"{m}\""
            )),
            None => out.push(format!(" subjectAltName does not match {host}")),
        }
    }
    out.push(format!(" issuer: {}", c.issuer));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_have_openssl_codes_and_words() {
        let e = rustls::Error::InvalidCertificate(CertificateError::Expired);
        let f = Failure::of(&e, "h", None).unwrap();
        assert_eq!(f, Failure::Expired);
        assert_eq!(f.openssl_code(), 10);
        assert_eq!(f.to_string(), "certificate has expired");
        let e = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert_eq!(Failure::of(&e, "h", None).unwrap().openssl_code(), 20);
        let w = Failure::WrongHost {
            host: "tls".into(),
            names: vec!["a.example".into(), "10.0.0.1".into()],
        };
        assert_eq!(w.openssl_code(), 62);
        assert_eq!(
            w.to_string(),
            "certificate is not valid for tls (it is for a.example, 10.0.0.1)"
        );
        assert!(Failure::of(&rustls::Error::HandshakeNotComplete, "h", None).is_none());
    }

    #[test]
    fn unverified_needs_no_roots_and_missing_ca_files_are_named() {
        let c = unverified().unwrap();
        assert_eq!(c.alpn_protocols, vec![b"http/1.1".to_vec()]);
        let err = client_config(&Settings {
            cacert: Some("/nonexistent/ca.crt"),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            matches!(&err, ConfigError::CaFile { path, .. } if path == "/nonexistent/ca.crt"),
            "{err:?}"
        );
        assert!(wildcard("*.example.com", "a.example.com"));
        assert!(!wildcard("*.example.com", "example.com"));
    }
}
