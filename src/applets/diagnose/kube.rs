//! Where diagnose reads objects from (the API through the shared client, crate::kube, or the
//! objects given with --objects), and the objects with only the fields diagnose reads.

pub use crate::kube::{ApiError, List, Meta, Read, serviceaccount_dir};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

/// Where diagnose reads objects from: the API from this pod, or the objects given.
pub struct Client {
    source: Source,
    /// How the report names the source (the API's address, or the objects file).
    pub endpoint: String,
}

enum Source {
    Api(crate::kube::Api),
    Given(super::objects::Objects),
}

/// The API client from the in-cluster configuration; Err says what is missing, in words.
pub fn load(
    sa_dir: &Path,
    host: Option<String>,
    port: Option<String>,
    timeout: Duration,
) -> Result<Client, String> {
    let api = crate::kube::load(sa_dir, host, port, timeout)?;
    Ok(Client {
        endpoint: api.endpoint.clone(),
        source: Source::Api(api),
    })
}

impl Client {
    /// Objects given instead of the API (`--objects`), named `what` in the report.
    pub fn given(objects: super::objects::Objects, what: String) -> Client {
        Client {
            source: Source::Given(objects),
            endpoint: what,
        }
    }

    /// The objects were given (`--objects`), not read from the API.
    pub fn is_given(&self) -> bool {
        matches!(self.source, Source::Given(_))
    }

    /// A list read: the items of the `…List` the API answers with.
    pub fn list<T: DeserializeOwned>(&self, read: &Read) -> Result<Vec<T>, ApiError> {
        self.read::<List<T>>(read).map(|l| l.items)
    }

    pub fn read<T: DeserializeOwned>(&self, read: &Read) -> Result<T, ApiError> {
        match &self.source {
            Source::Api(api) => api.read(read),
            Source::Given(objects) => objects.read(read),
        }
    }
}

// The objects, with only the fields diagnose reads.

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(u16),
    Str(String),
}

#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    pub metadata: Meta,
    #[serde(default)]
    pub spec: ServiceSpec,
    #[serde(default)]
    pub status: LbStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub selector: Option<BTreeMap<String, String>>,
    #[serde(rename = "clusterIP", default)]
    pub cluster_ip: String,
    #[serde(rename = "clusterIPs", default)]
    pub cluster_ips: Vec<String>,
    #[serde(default)]
    pub ports: Vec<ServicePort>,
    #[serde(default)]
    pub external_name: Option<String>,
    #[serde(rename = "sessionAffinity", default)]
    pub session_affinity: Option<String>,
    #[serde(rename = "externalTrafficPolicy", default)]
    pub external_traffic_policy: Option<String>,
    #[serde(rename = "healthCheckNodePort", default)]
    pub health_check_node_port: Option<u16>,
}

impl ServiceSpec {
    /// externalTrafficPolicy: Local: node ports and load balancers reach only the endpoints on
    /// the node itself; a node without one drops the traffic.
    pub fn local_traffic(&self) -> bool {
        self.external_traffic_policy.as_deref() == Some("Local")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "tcp")]
    pub protocol: String,
    pub port: u16,
    #[serde(default)]
    pub target_port: Option<IntOrString>,
    #[serde(default)]
    pub node_port: Option<u16>,
}

fn tcp() -> String {
    "TCP".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LbStatus {
    #[serde(default)]
    pub load_balancer: LoadBalancer,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LoadBalancer {
    #[serde(default)]
    pub ingress: Vec<LbIngress>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LbIngress {
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSlice {
    #[serde(default)]
    pub endpoints: Option<Vec<Endpoint>>,
    #[serde(default)]
    pub ports: Option<Vec<SlicePort>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub conditions: Conditions,
    #[serde(default)]
    pub target_ref: Option<TargetRef>,
    #[serde(default)]
    pub node_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Conditions {
    #[serde(default)]
    pub ready: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TargetRef {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SlicePort {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Pod {
    pub metadata: Meta,
    #[serde(default)]
    pub spec: PodSpec,
    #[serde(default)]
    pub status: PodStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default)]
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Container {
    #[serde(default)]
    pub ports: Vec<ContainerPort>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default)]
    pub name: Option<String>,
    pub container_port: u16,
    #[serde(default = "tcp")]
    pub protocol: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(default)]
    pub conditions: Vec<PodCondition>,
    #[serde(rename = "podIP", default)]
    pub pod_ip: Option<String>,
    #[serde(default)]
    pub container_statuses: Vec<ContainerStatus>,
}

/// A container's readiness, restarts and why it waits (CrashLoopBackOff, ImagePullBackOff…).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub ready: bool,
    #[serde(default)]
    pub restart_count: u32,
    #[serde(default)]
    pub state: Option<serde_json::Value>,
}

impl ContainerStatus {
    /// `waiting: CrashLoopBackOff` or `terminated: Error`, when the container is not running.
    pub fn not_running(&self) -> Option<String> {
        let state = self.state.as_ref()?.as_object()?;
        for phase in ["waiting", "terminated"] {
            if let Some(s) = state.get(phase) {
                let reason = s.get("reason").and_then(|r| r.as_str()).unwrap_or("");
                return Some(
                    format!("{phase}: {reason}")
                        .trim_end_matches(": ")
                        .to_string(),
                );
            }
        }
        None
    }
}

impl Pod {
    /// Why a pod is not Ready, in one line: its Ready condition, each container's readiness,
    /// restarts and state.
    pub fn readiness_text(&self) -> String {
        let ready = self
            .status
            .conditions
            .iter()
            .find(|c| c.kind == "Ready")
            .map(|c| c.status.as_str())
            .unwrap_or("unknown");
        let mut parts = vec![format!("{}: Ready={ready}", self.metadata.name)];
        for c in &self.status.container_statuses {
            let mut t = format!("container {}", c.name);
            if !c.ready {
                t.push_str(" not ready");
            }
            if c.restart_count > 0 {
                t.push_str(&format!(
                    ", {} restart{}",
                    c.restart_count,
                    if c.restart_count == 1 { "" } else { "s" }
                ));
            }
            if let Some(s) = c.not_running() {
                t.push_str(&format!(" ({s})"));
            }
            parts.push(t);
        }
        parts.join("; ")
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PodCondition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
}

impl Pod {
    pub fn ready(&self) -> bool {
        self.status
            .conditions
            .iter()
            .any(|c| c.kind == "Ready" && c.status == "True")
    }

    /// The container port a Service targetPort names (by name or number).
    pub fn resolve_port(&self, target: &IntOrString) -> Option<u16> {
        match target {
            IntOrString::Int(p) => Some(*p),
            IntOrString::Str(name) => self
                .spec
                .containers
                .iter()
                .flat_map(|c| &c.ports)
                .find(|p| p.name.as_deref() == Some(name))
                .map(|p| p.container_port),
        }
    }

    pub fn container_ports(&self) -> Vec<&ContainerPort> {
        self.spec
            .containers
            .iter()
            .flat_map(|c| &c.ports)
            .filter(|p| p.protocol == "TCP")
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Node {
    pub metadata: Meta,
    #[serde(default)]
    pub status: NodeStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NodeStatus {
    #[serde(default)]
    pub addresses: Vec<NodeAddress>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NodeAddress {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
}

impl Node {
    pub fn internal_ips(&self) -> Vec<IpAddr> {
        self.status
            .addresses
            .iter()
            .filter(|a| a.kind == "InternalIP")
            .filter_map(|a| a.address.parse().ok())
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Ingress {
    pub metadata: Meta,
    #[serde(default)]
    pub spec: IngressSpec,
    #[serde(default)]
    pub status: LbStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    #[serde(default)]
    pub ingress_class_name: Option<String>,
    #[serde(default)]
    pub rules: Vec<IngressRule>,
    #[serde(default)]
    pub tls: Vec<IngressTls>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IngressRule {
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub http: Option<IngressHttp>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IngressHttp {
    #[serde(default)]
    pub paths: Vec<IngressPath>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IngressPath {
    #[serde(default)]
    pub path: Option<String>,
    pub backend: IngressBackend,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IngressBackend {
    #[serde(default)]
    pub service: Option<BackendService>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BackendService {
    pub name: String,
    #[serde(default)]
    pub port: Option<BackendPort>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BackendPort {
    #[serde(default)]
    pub number: Option<u16>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IngressTls {
    #[serde(default)]
    pub hosts: Vec<String>,
}

/// A route from an Ingress to a Service port: host, path, TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub ingress: String,
    pub host: Option<String>,
    pub path: String,
    pub tls: bool,
    pub class: Option<String>,
    pub addresses: Vec<String>,
    /// The controller's port when not 80/443 (given with --ingress HOST@IP:PORT).
    pub port: Option<u16>,
}

impl Ingress {
    /// The rules of this Ingress whose backend is `service` (on `port`, when the rule names one
    /// by number or name).
    pub fn routes_to(&self, service: &str, port: &ServicePort) -> Vec<Route> {
        let mut out = Vec::new();
        let addresses: Vec<String> = self
            .status
            .load_balancer
            .ingress
            .iter()
            .filter_map(|i| i.ip.clone().or_else(|| i.hostname.clone()))
            .collect();
        for rule in &self.spec.rules {
            for p in rule.http.iter().flat_map(|h| &h.paths) {
                let Some(b) = &p.backend.service else {
                    continue;
                };
                if b.name != service {
                    continue;
                }
                let port_ok = match &b.port {
                    None => true,
                    Some(bp) => {
                        bp.number == Some(port.port) || (bp.name.is_some() && bp.name == port.name)
                    }
                };
                if !port_ok {
                    continue;
                }
                let tls = rule
                    .host
                    .as_ref()
                    .is_some_and(|h| self.spec.tls.iter().any(|t| t.hosts.iter().any(|x| x == h)));
                out.push(Route {
                    ingress: self.metadata.name.clone(),
                    host: rule.host.clone(),
                    path: p
                        .path
                        .clone()
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "/".into()),
                    tls,
                    class: self.spec.ingress_class_name.clone(),
                    addresses: addresses.clone(),
                    port: None,
                });
            }
        }
        out
    }
}

/// Does `labels` carry every key=value of `selector`?
pub fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

pub fn selector_text(selector: &BTreeMap<String, String>) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_parse_from_api_json() {
        let svc: Service = serde_json::from_str(
            r#"{"metadata":{"name":"web","namespace":"default"},"spec":{"type":"NodePort","selector":{"app":"web"},
               "clusterIP":"10.96.0.100","ports":[{"name":"http","port":3000,"targetPort":"http","nodePort":30080}]}}"#,
        )
        .unwrap();
        assert_eq!(
            svc.spec.ports[0].target_port,
            Some(IntOrString::Str("http".into()))
        );
        assert_eq!(svc.spec.ports[0].protocol, "TCP");
        let pod: Pod = serde_json::from_str(
            r#"{"metadata":{"name":"web1","labels":{"app":"web"}},"spec":{"containers":[{"name":"a","ports":[{"name":"http","containerPort":8080}]}]},
               "status":{"podIP":"10.244.1.10","conditions":[{"type":"Ready","status":"True"}]}}"#,
        )
        .unwrap();
        assert!(pod.ready());
        assert_eq!(
            pod.resolve_port(&IntOrString::Str("http".into())),
            Some(8080)
        );
        assert_eq!(pod.resolve_port(&IntOrString::Str("grpc".into())), None);
        assert!(selects(
            svc.spec.selector.as_ref().unwrap(),
            &pod.metadata.labels
        ));
        let ing: Ingress = serde_json::from_str(
            r#"{"metadata":{"name":"shop"},"spec":{"rules":[{"host":"shop.example.com","http":{"paths":[{"path":"/","backend":{"service":{"name":"web","port":{"number":3000}}}}]}},
               {"host":"other.example.com","http":{"paths":[{"backend":{"service":{"name":"api","port":{"number":80}}}}]}}],"tls":[{"hosts":["shop.example.com"]}]},
               "status":{"loadBalancer":{"ingress":[{"ip":"172.18.0.241"}]}}}"#,
        )
        .unwrap();
        let routes = ing.routes_to("web", &svc.spec.ports[0]);
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].host.as_deref(), Some("shop.example.com"));
        assert!(routes[0].tls);
        assert_eq!(routes[0].addresses, vec!["172.18.0.241".to_string()]);
    }

    #[test]
    fn empty_selector_selects_nothing() {
        let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        assert!(!selects(&BTreeMap::new(), &labels));
    }

    /// API answers of any shape (and broken JSON) parse or fail, never panic.
    #[test]
    fn any_api_answer_never_panics() {
        let sample = br#"{"kind":"PodList","items":[{"metadata":{"name":"web1","labels":{"app":"web"},"managedFields":[{"x":1}]},"spec":{"containers":[{"name":"a","ports":[{"name":"http","containerPort":8080}]}]},"status":{"podIP":"10.244.1.10","conditions":[{"type":"Ready","status":"True"}]}}]}"#;
        let svc = br#"{"metadata":{"name":"web"},"spec":{"type":"NodePort","ports":[{"port":3000,"targetPort":"http","nodePort":30080}],"clusterIP":"10.96.0.100"}}"#;
        crate::testing::check(&[sample, svc], 20_000, |input| {
            if let Ok(l) = serde_json::from_slice::<List<Pod>>(input) {
                for p in &l.items {
                    let _ = p.ready();
                    let _ = p.container_ports();
                    let _ = p.resolve_port(&IntOrString::Str("http".into()));
                }
            }
            let _ = serde_json::from_slice::<Service>(input);
            let _ = serde_json::from_slice::<List<EndpointSlice>>(input);
            if let Ok(l) = serde_json::from_slice::<List<Node>>(input) {
                for n in &l.items {
                    let _ = n.internal_ips();
                }
            }
            let _ = serde_json::from_slice::<List<Ingress>>(input);
            let _ = crate::kube::clean_message(&String::from_utf8_lossy(input), "tok");
        });
    }
}
