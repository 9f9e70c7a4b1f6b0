//! The one Kubernetes API client, read-only, for in-cluster use: the service account's token
//! and CA, `KUBERNETES_SERVICE_HOST`/`_PORT`, HTTPS through rustls, JSON through serde. Diagnose
//! reads Services, EndpointSlices, Pods, Nodes and Ingresses with it; the mesh agent its peers.
//! The token goes into the Authorization header and nowhere else (an API message that echoes
//! it is redacted).

use crate::http;
use crate::probe;
use crate::sys::conn;
use crate::tls;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to reach the API from this pod.
pub struct Api {
    addr: SocketAddr,
    /// The name the certificate is checked against (the address when given as one).
    server_name: String,
    token: String,
    config: Arc<rustls::ClientConfig>,
    timeout: Duration,
    /// How reports name the API (its address and port).
    pub endpoint: String,
}

/// The in-cluster configuration: the service account's token and CA, and the API's address from
/// `KUBERNETES_SERVICE_HOST`/`_PORT`; Err says what is missing, in words.
pub fn load(
    sa_dir: &Path,
    host: Option<String>,
    port: Option<String>,
    timeout: Duration,
) -> Result<Api, String> {
    let host = host.filter(|h| !h.is_empty()).ok_or(
        "KUBERNETES_SERVICE_HOST is not set (not in a pod, or automountServiceAccountToken: false)",
    )?;
    let port = port.unwrap_or_else(|| "443".into());
    let port: u16 = port
        .parse()
        .map_err(|_| format!("KUBERNETES_SERVICE_PORT={port} is not a port"))?;
    let ip: IpAddr = host
        .parse()
        .map_err(|_| format!("KUBERNETES_SERVICE_HOST={host} is not an address"))?;
    let token_path = sa_dir.join("token");
    let token = std::fs::read_to_string(&token_path)
        .map_err(|e| {
            format!(
                "cannot read the service account token {}: {}",
                token_path.display(),
                crate::error::os_text(&e)
            )
        })?
        .trim()
        .to_string();
    if token.is_empty() {
        return Err(format!(
            "the service account token {} is empty",
            token_path.display()
        ));
    }
    let ca = sa_dir.join("ca.crt");
    let ca_text = ca.to_string_lossy().into_owned();
    let (config, _) = tls::client_config(&tls::Settings {
        cacert: Some(&ca_text),
        ..Default::default()
    })
    .map_err(|e| format!("cannot use the cluster CA: {e}"))?;
    let endpoint = probe::show_addr(&SocketAddr::new(ip, port));
    Ok(Api {
        addr: SocketAddr::new(ip, port),
        server_name: host,
        token,
        config,
        timeout,
        endpoint,
    })
}

pub fn serviceaccount_dir(flag: Option<&str>) -> PathBuf {
    flag.map(PathBuf::from)
        .or_else(|| std::env::var_os("DEBUGBOX_SERVICEACCOUNT").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(crate::here::SERVICEACCOUNT_DIR))
}

/// A read: its verb, resource (with group) and namespace, as `kubectl auth can-i` names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub verb: &'static str,
    pub resource: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub query: Option<String>,
}

impl Read {
    pub fn list(resource: &'static str, namespace: Option<&str>) -> Self {
        let (group, version) = group_of(resource);
        Read {
            verb: "list",
            resource,
            group,
            version,
            namespace: namespace.map(String::from),
            name: None,
            query: None,
        }
    }

    pub fn get(resource: &'static str, namespace: &str, name: &str) -> Self {
        let (group, version) = group_of(resource);
        Read {
            verb: "get",
            resource,
            group,
            version,
            namespace: Some(namespace.into()),
            name: Some(name.into()),
            query: None,
        }
    }

    pub fn with_query(mut self, q: String) -> Self {
        self.query = Some(q);
        self
    }

    pub fn path(&self) -> String {
        // Names come from the command line and from API objects: each is one path segment,
        // whatever it holds.
        let seg = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .replace("%2D", "-")
                .replace("%2E", ".")
        };
        let mut p = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if let Some(ns) = &self.namespace {
            p.push_str(&format!("/namespaces/{}", seg(ns)));
        }
        p.push('/');
        p.push_str(self.resource);
        if let Some(n) = &self.name {
            p.push('/');
            p.push_str(&seg(n));
        }
        if let Some(q) = &self.query {
            p.push('?');
            p.push_str(q);
        }
        p
    }

    /// `list endpointslices.discovery.k8s.io in namespace default`.
    pub fn words(&self) -> String {
        let res = if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        match &self.namespace {
            Some(ns) => format!("{} {res} in namespace {ns}", self.verb),
            None => format!("{} {res} at cluster scope", self.verb),
        }
    }

    /// The kubectl command that asks the same question.
    pub fn can_i(&self) -> String {
        let res = if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        match &self.namespace {
            Some(ns) => format!("kubectl auth can-i {} {res} -n {ns}", self.verb),
            None => format!("kubectl auth can-i {} {res} --all-namespaces", self.verb),
        }
    }
}

fn group_of(resource: &str) -> (&'static str, &'static str) {
    match resource {
        "endpointslices" => ("discovery.k8s.io", "v1"),
        "ingresses" | "networkpolicies" => ("networking.k8s.io", "v1"),
        _ => ("", "v1"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 403: the token may not do this read.
    Forbidden(String),
    /// 401: the token is not accepted.
    Unauthorized,
    NotFound,
    /// Any other answer from the server.
    Status(u16, String),
    /// The API could not be reached or spoke nonsense.
    Unreachable(String),
    /// `--objects` holds none of this resource (not even an empty list of it).
    Missing(String),
}

impl ApiError {
    pub fn words(&self, read: &Read) -> String {
        match self {
            ApiError::Forbidden(msg) => format!("forbidden: cannot {} ({msg})", read.words()),
            ApiError::Unauthorized => {
                "401 Unauthorized: the service account token was not accepted".into()
            }
            ApiError::NotFound => format!("{} not found", read.words()),
            ApiError::Status(code, msg) => format!("HTTP {code} for {}: {msg}", read.words()),
            ApiError::Unreachable(why) => format!("API unreachable: {why}"),
            ApiError::Missing(res) => format!(
                "{}: none in the objects given (add {res} to the kubectl get)",
                read.words()
            ),
        }
    }
}

#[derive(Deserialize)]
struct StatusBody {
    #[serde(default)]
    message: String,
}

impl Api {
    pub fn read<T: DeserializeOwned>(&self, read: &Read) -> Result<T, ApiError> {
        let deadline = Instant::now() + self.timeout;
        let stream = conn::connect(self.addr, deadline, &conn::Local::default()).map_err(|e| {
            ApiError::Unreachable(format!("{}: {}", self.endpoint, crate::error::os_text(&e)))
        })?;
        let name = rustls::pki_types::ServerName::try_from(self.server_name.clone())
            .map_err(|_| ApiError::Unreachable(format!("bad server name {}", self.server_name)))?;
        let mut stream = match stream.into_tls(self.config.clone(), name) {
            Ok((s, _)) => s,
            Err(conn::TlsError::Tls(e)) => {
                let why = match tls::Failure::of(&e, &self.server_name, None) {
                    Some(f) => f.to_string(),
                    None => e.to_string(),
                };
                return Err(ApiError::Unreachable(format!(
                    "TLS with {}: {why}",
                    self.endpoint
                )));
            }
            Err(conn::TlsError::Io(e)) => {
                return Err(ApiError::Unreachable(format!(
                    "TLS with {}: {}",
                    self.endpoint,
                    crate::error::os_text(&e)
                )));
            }
        };
        let auth = format!("Bearer {}", self.token);
        let headers = [
            ("Authorization", auth.as_str()),
            ("Accept", "application/json"),
        ];
        let host = if self.addr.is_ipv6() {
            format!("[{}]", self.server_name)
        } else {
            self.server_name.clone()
        };
        let host = if self.addr.port() == 443 {
            host
        } else {
            format!("{host}:{}", self.addr.port())
        };
        let reply =
            http::get(&mut stream, &host, &read.path(), &headers, MAX_ANSWER).map_err(|e| {
                ApiError::Unreachable(format!("{}: {}", self.endpoint, probe::http_words(&e)))
            })?;
        if reply.cut {
            return Err(ApiError::Unreachable(format!(
                "the answer for {} is larger than {} MiB",
                read.path(),
                MAX_ANSWER >> 20
            )));
        }
        match reply.head.status {
            200 => serde_json::from_slice(&reply.body).map_err(|e| {
                ApiError::Unreachable(format!("unexpected answer for {}: {e}", read.path()))
            }),
            code => {
                let message = serde_json::from_slice::<StatusBody>(&reply.body)
                    .map(|s| clean_message(&s.message, &self.token))
                    .unwrap_or_default();
                Err(match code {
                    401 => ApiError::Unauthorized,
                    403 => ApiError::Forbidden(message),
                    404 => ApiError::NotFound,
                    _ => ApiError::Status(code, message),
                })
            }
        }
    }
}

/// An API server's message as diagnose prints it: never the token (a hostile or buggy server
/// may echo the request), control characters escaped, and not longer than a line should be.
pub fn clean_message(message: &str, token: &str) -> String {
    let redacted = if token.is_empty() {
        message.to_string()
    } else {
        message.replace(token, "[token]")
    };
    let mut out: String = redacted.escape_debug().collect();
    if out.chars().count() > 300 {
        out = out.chars().take(300).collect::<String>() + "…";
    }
    out
}

/// The largest API answer read: a list of every pod of a big namespace fits.
pub const MAX_ANSWER: usize = 64 << 20;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Meta {
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct List<T> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_like_the_api() {
        assert_eq!(
            Read::get("services", "default", "web").path(),
            "/api/v1/namespaces/default/services/web"
        );
        assert_eq!(
            Read::list("endpointslices", Some("default"))
                .with_query("labelSelector=kubernetes.io%2Fservice-name%3Dweb".into())
                .path(),
            "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb"
        );
        assert_eq!(Read::list("nodes", None).path(), "/api/v1/nodes");
        assert_eq!(
            Read::list("ingresses", Some("shop")).path(),
            "/apis/networking.k8s.io/v1/namespaces/shop/ingresses"
        );
    }

    #[test]
    fn hostile_names_and_messages() {
        assert_eq!(
            Read::get("services", "a/b", "web?x=1").path(),
            "/api/v1/namespaces/a%2Fb/services/web%3Fx%3D1"
        );
        assert_eq!(
            clean_message(
                "denied: Authorization: Bearer s3cr3t\n\x1b[31mred",
                "s3cr3t"
            ),
            "denied: Authorization: Bearer [token]\\n\\u{1b}[31mred"
        );
    }

    #[test]
    fn denied_reads_are_named_like_kubectl() {
        let r = Read::list("endpointslices", Some("default"));
        assert_eq!(
            r.words(),
            "list endpointslices.discovery.k8s.io in namespace default"
        );
        assert_eq!(
            r.can_i(),
            "kubectl auth can-i list endpointslices.discovery.k8s.io -n default"
        );
        assert_eq!(
            Read::list("nodes", None).can_i(),
            "kubectl auth can-i list nodes --all-namespaces"
        );
        assert_eq!(
            Read::get("services", "default", "web").words(),
            "get services in namespace default"
        );
    }
}
