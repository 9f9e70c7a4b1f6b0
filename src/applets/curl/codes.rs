//! curl's exit codes (libcurl's CURLcode numbers) and the failure type that carries one with
//! curl's message.

use crate::http;
use crate::tls;
use std::fmt;

/// The CURLcode values debugbox's curl can end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    UnsupportedProtocol = 1,
    /// Bad options (curl's tool exits 2 for these).
    FailedInit = 2,
    UrlMalformat = 3,
    CouldntResolveProxy = 5,
    CouldntResolveHost = 6,
    CouldntConnect = 7,
    WeirdServerReply = 8,
    PartialFile = 18,
    HttpReturnedError = 22,
    WriteError = 23,
    ReadError = 26,
    OperationTimedout = 28,
    RangeError = 33,
    SslConnectError = 35,
    BadFunctionArgument = 43,
    InterfaceFailed = 45,
    TooManyRedirects = 47,
    GotNothing = 52,
    SendError = 55,
    RecvError = 56,
    SslCertproblem = 58,
    PeerFailedVerification = 60,
    BadContentEncoding = 61,
    FilesizeExceeded = 63,
    SslCacertBadfile = 77,
}

impl Code {
    pub fn number(self) -> i32 {
        self as i32
    }
}

/// A failed transfer: curl's exit code and message (printed as `curl: (N) message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurlError {
    pub code: Code,
    pub message: String,
}

impl CurlError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        CurlError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for CurlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "curl: ({}) {}", self.code.number(), self.message)
    }
}

pub type R<T> = std::result::Result<T, CurlError>;

pub fn fail<T>(code: Code, message: impl Into<String>) -> R<T> {
    Err(CurlError::new(code, message))
}

pub fn bad_url() -> CurlError {
    CurlError::new(
        Code::UrlMalformat,
        "URL using bad/illegal format or missing URL",
    )
}

/// curl's code and words for a TLS configuration that cannot be built.
pub fn tls_config_error(e: &tls::ConfigError) -> CurlError {
    match e {
        tls::ConfigError::CaFile { path, why } => CurlError::new(
            Code::SslCacertBadfile,
            format!("error setting certificate file: {path} ({why})"),
        ),
        tls::ConfigError::ClientCert { path, why } => CurlError::new(
            Code::SslCertproblem,
            format!("could not load PEM client certificate from {path} ({why})"),
        ),
        tls::ConfigError::ClientKey { path, why } => CurlError::new(
            Code::SslCertproblem,
            format!("unable to set private key file: '{path}' ({why})"),
        ),
        tls::ConfigError::Setup(why) => {
            CurlError::new(Code::SslConnectError, format!("TLS setup failed: {why}"))
        }
    }
}

/// curl's code and message for a certificate the verifier refused.
pub fn certificate_error(f: &tls::Failure) -> CurlError {
    match f {
        tls::Failure::WrongHost { host, .. } => CurlError::new(
            Code::PeerFailedVerification,
            format!(
                "SSL: no alternative certificate subject name matches target host name '{host}'"
            ),
        ),
        other => CurlError::new(
            Code::PeerFailedVerification,
            format!("SSL certificate problem: {}", reason(other)),
        ),
    }
}

/// OpenSSL's reason text, without debugbox's "(it is for …)" addition.
fn reason(f: &tls::Failure) -> String {
    match f {
        tls::Failure::WrongHost { host, .. } => format!("certificate is not valid for {host}"),
        other => other.to_string(),
    }
}

/// How many milliseconds the transfer had run, for curl's timeout messages.
pub fn timeout(ms: u128, received: u64, expected: Option<u64>) -> CurlError {
    let message = match expected {
        Some(t) => format!(
            "Operation timed out after {ms} milliseconds with {received} out of {t} bytes received"
        ),
        None => {
            format!("Operation timed out after {ms} milliseconds with {received} bytes received")
        }
    };
    CurlError::new(Code::OperationTimedout, message)
}

/// curl's code and message for an exchange that failed (`ms`: time since the transfer began).
pub fn exchange_error(e: &http::Error, ms: u128) -> CurlError {
    let os = crate::error::os_text;
    match e {
        http::Error::Request(why) => {
            CurlError::new(Code::BadFunctionArgument, format!("bad request: {why}"))
        }
        http::Error::Send(e) => CurlError::new(Code::SendError, format!("Send failure: {}", os(e))),
        http::Error::Timeout { received, expected } => timeout(ms, *received, *expected),
        http::Error::EmptyReply => CurlError::new(Code::GotNothing, "Empty reply from server"),
        http::Error::HeadCut | http::Error::Malformed(_) => {
            CurlError::new(Code::WeirdServerReply, "Weird server reply")
        }
        http::Error::HeadTooLarge(n) => CurlError::new(
            Code::RecvError,
            format!("Too large response headers: {n} > {}", http::MAX_HEAD),
        ),
        http::Error::TooManyHeaders => CurlError::new(
            Code::RecvError,
            format!(
                "Too large response headers: more than {} header lines",
                ureq_proto::client::MAX_RESPONSE_HEADERS
            ),
        ),
        http::Error::BadBody(_) => CurlError::new(
            Code::RecvError,
            "Illegal or missing hexadecimal sequence in chunked-encoding",
        ),
        http::Error::ClosedEarly {
            missing: Some(n), ..
        } => CurlError::new(
            Code::PartialFile,
            format!("transfer closed with {n} bytes remaining to read"),
        ),
        http::Error::ClosedEarly { missing: None, .. } => CurlError::new(
            Code::PartialFile,
            "transfer closed with outstanding read data remaining",
        ),
        http::Error::Recv(e) => CurlError::new(Code::RecvError, format!("Recv failure: {}", os(e))),
        http::Error::Sink(e) => sink_error(e),
        http::Error::Upload(_) => CurlError::new(
            Code::ReadError,
            "Failed to open/read local data from file/application",
        ),
    }
}

/// A failed write of the output: curl's 23, or its own code when the sink carried one (a
/// decoding error, a size limit).
pub fn sink_error(e: &std::io::Error) -> CurlError {
    if let Some(c) = e.get_ref().and_then(|i| i.downcast_ref::<CurlError>()) {
        return c.clone();
    }
    CurlError::new(Code::WriteError, "Failure writing output to destination")
}

impl std::error::Error for CurlError {}

/// Wrap a curl failure in an io::Error, so a body sink can end the transfer with it.
pub fn as_io(e: CurlError) -> std::io::Error {
    std::io::Error::other(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_lines() {
        let e = CurlError::new(Code::CouldntConnect, "Failed to connect");
        assert_eq!(e.to_string(), "curl: (7) Failed to connect");
        assert_eq!(Code::PeerFailedVerification.number(), 60);
        let io = as_io(CurlError::new(
            Code::FilesizeExceeded,
            "Maximum file size exceeded",
        ));
        assert_eq!(sink_error(&io).code, Code::FilesizeExceeded);
        let plain = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(sink_error(&plain).code, Code::WriteError);
    }
}
