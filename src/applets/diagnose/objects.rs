//! Kubernetes objects given on the command line instead of read from the API (`--objects FILE`,
//! `-` for stdin): what `kubectl get services,endpointslices,pods,nodes,ingresses -o json` prints
//! with the user's own credentials, when the pod's service account may not read them. A `List`,
//! typed lists (`ServiceList`), single objects, or several JSON documents one after the other.
//! The reads diagnose makes are answered from them as the API would (by namespace, name, label
//! and field selector). Parsing is pure and checks every object diagnose reads against the
//! fields it needs, so a malformed file is one error at the start.

use super::kube::{self, ApiError, Read};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The kinds diagnose reads, by API resource.
const KINDS: &[(&str, &str)] = &[
    ("services", "Service"),
    ("endpointslices", "EndpointSlice"),
    ("pods", "Pod"),
    ("nodes", "Node"),
    ("ingresses", "Ingress"),
    ("networkpolicies", "NetworkPolicy"),
    ("ingressclasses", "IngressClass"),
];

#[derive(Debug, Clone)]
struct Item {
    kind: String,
    namespace: String,
    name: String,
    labels: BTreeMap<String, String>,
    value: Value,
}

#[derive(Debug, Clone, Default)]
pub struct Objects {
    items: Vec<Item>,
    /// Kinds the input spoke of, even with no object (an empty `NodeList` says "no nodes").
    kinds: BTreeSet<String>,
}

fn kind_of_resource(resource: &str) -> Option<&'static str> {
    KINDS.iter().find(|(r, _)| *r == resource).map(|(_, k)| *k)
}

/// Turn an object into T through its JSON text: the readers the API client already uses
/// (from_slice), not a second copy of every reader for serde_json::Value (about 100 KB of
/// binary).
fn typed<T: DeserializeOwned>(v: &Value) -> Result<T, serde_json::Error> {
    let text = serde_json::to_vec(v)?;
    serde_json::from_slice::<T>(&text)
}

/// Check that an object has what diagnose reads from it.
fn check<T: DeserializeOwned>(v: &Value) -> Result<(), String> {
    typed::<T>(v).map(|_| ()).map_err(|e| e.to_string())
}

fn checked(kind: &str, v: &Value) -> Result<(), String> {
    match kind {
        "Service" => check::<kube::Service>(v),
        "EndpointSlice" => check::<kube::EndpointSlice>(v),
        "Pod" => check::<kube::Pod>(v),
        "Node" => check::<kube::Node>(v),
        "Ingress" => check::<kube::Ingress>(v),
        _ => Ok(()),
    }
}

impl Objects {
    /// Parse the input. `Err` is one line saying where and what.
    pub fn parse(bytes: &[u8]) -> Result<Objects, String> {
        let mut out = Objects::default();
        let mut docs = 0;
        for doc in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
            let doc = doc.map_err(|e| format!("not JSON: {e}"))?;
            docs += 1;
            out.add(doc, None)?;
        }
        if docs == 0 {
            return Err("no objects: expected the JSON of `kubectl get … -o json`".into());
        }
        Ok(out)
    }

    fn add(&mut self, doc: Value, kind_hint: Option<&str>) -> Result<(), String> {
        let Value::Object(map) = &doc else {
            return Err("an object or a List was expected, not a bare value".into());
        };
        let kind = map
            .get("kind")
            .and_then(Value::as_str)
            .map(String::from)
            .or_else(|| kind_hint.map(String::from))
            .unwrap_or_default();
        if let Some(items) = map.get("items") {
            let Value::Array(items) = items else {
                return Err(format!("{kind}: items is not a list"));
            };
            // A typed list (ServiceList) names its items' kind; a List leaves it to them.
            let hint = kind.strip_suffix("List").filter(|k| !k.is_empty());
            if let Some(h) = hint {
                self.kinds.insert(h.to_string());
            }
            for item in items.clone() {
                self.add(item, hint)?;
            }
            return Ok(());
        }
        if kind.is_empty() {
            return Err("an object without a kind".into());
        }
        let meta = map.get("metadata").and_then(Value::as_object);
        let text = |k: &str| {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let name = text("name");
        let namespace = text("namespace");
        if name.is_empty() {
            return Err(format!("a {kind} without metadata.name"));
        }
        checked(&kind, &doc).map_err(|e| format!("{kind} {namespace}/{name}: {e}"))?;
        let labels = meta
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|l| {
                l.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        self.kinds.insert(kind.clone());
        self.items.push(Item {
            kind,
            namespace,
            name,
            labels,
            value: doc,
        });
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Answer a read as the API would: a `get` is the object or NotFound, a `list` is a
    /// `{"items": [...]}` of the matching objects; a kind the input never mentions is Missing.
    pub fn read<T: DeserializeOwned>(&self, read: &Read) -> Result<T, ApiError> {
        let Some(kind) = kind_of_resource(read.resource) else {
            return Err(ApiError::Missing(read.resource.to_string()));
        };
        if !self.kinds.contains(kind) {
            return Err(ApiError::Missing(read.resource.to_string()));
        }
        let (labels, fields) = selectors(read.query.as_deref());
        let matching = self.items.iter().filter(|i| {
            i.kind == kind
                && read.namespace.as_ref().is_none_or(|ns| *ns == i.namespace)
                && read.name.as_ref().is_none_or(|n| *n == i.name)
                && labels.iter().all(|(k, v)| i.labels.get(k) == Some(v))
                && fields.iter().all(|(k, v)| match k.as_str() {
                    "metadata.name" => i.name == *v,
                    "metadata.namespace" => i.namespace == *v,
                    _ => true,
                })
        });
        let value = if read.verb == "get" {
            match matching.map(|i| i.value.clone()).next() {
                Some(v) => v,
                None => return Err(ApiError::NotFound),
            }
        } else {
            serde_json::json!({ "items": matching.map(|i| i.value.clone()).collect::<Vec<_>>() })
        };
        typed(&value).map_err(|e| ApiError::Unreachable(format!("objects given: {e}")))
    }
}

/// Equality terms of a selector: (key, value).
type Terms = Vec<(String, String)>;

/// `labelSelector=a%3Db,c%3Dd&fieldSelector=metadata.name%3Dx` -> the terms of each.
fn selectors(query: Option<&str>) -> (Terms, Terms) {
    let mut labels = vec![];
    let mut fields = vec![];
    let Some(q) = query else {
        return (labels, fields);
    };
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        let pairs = v
            .split(',')
            .filter_map(|p| p.split_once('='))
            .map(|(a, b)| (a.trim_end_matches('=').to_string(), b.to_string()))
            .collect::<Vec<_>>();
        match k.as_ref() {
            "labelSelector" => labels.extend(pairs),
            "fieldSelector" => fields.extend(pairs),
            _ => {}
        }
    }
    (labels, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `kubectl get svc,endpointslices,pods -o json` prints, trimmed, with the noise real
    /// objects carry (managedFields, annotations, fields diagnose does not know).
    const LIST: &str = r#"{
      "apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
      "items": [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "web", "namespace": "shop", "uid": "1", "annotations": {"a": "b"},
                      "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]},
         "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
                  "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
                  "selector": {"app": "web"}, "sessionAffinity": "None", "ipFamilies": ["IPv4"]},
         "status": {"loadBalancer": {}}},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "web-abc", "namespace": "shop",
                      "labels": {"kubernetes.io/service-name": "web"}},
         "addressType": "IPv4",
         "endpoints": [{"addresses": ["10.244.1.5"], "conditions": {"ready": true},
                        "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "shop"},
                        "nodeName": "n1", "zone": "a"}],
         "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
         "spec": {"containers": [{"name": "c", "image": "x",
                                   "ports": [{"name": "http", "containerPort": 8080}]}]},
         "status": {"phase": "Running", "podIP": "10.244.1.5"}}
      ]}"#;

    fn svc_read() -> Read {
        Read::get("services", "shop", "web")
    }

    #[test]
    fn a_kubectl_list_answers_the_reads() {
        let o = Objects::parse(LIST.as_bytes()).unwrap();
        assert_eq!(o.len(), 3);
        let s: kube::Service = o.read(&svc_read()).unwrap();
        assert_eq!(s.spec.cluster_ip, "10.96.0.20");
        let sel = url::form_urlencoded::byte_serialize(b"kubernetes.io/service-name=web")
            .collect::<String>();
        let slices: kube::List<kube::EndpointSlice> = o
            .read(
                &Read::list("endpointslices", Some("shop"))
                    .with_query(format!("labelSelector={sel}")),
            )
            .unwrap();
        assert_eq!(slices.items.len(), 1);
        let none: kube::List<kube::EndpointSlice> = o
            .read(&Read::list("endpointslices", Some("other")))
            .unwrap();
        assert!(none.items.is_empty());
        assert!(matches!(
            o.read::<kube::Service>(&Read::get("services", "shop", "nope")),
            Err(ApiError::NotFound)
        ));
        // Nodes were not given at all: not "no nodes".
        assert!(matches!(
            o.read::<kube::List<kube::Node>>(&Read::list("nodes", None)),
            Err(ApiError::Missing(_))
        ));
        let by_name: kube::List<kube::Service> = o
            .read(
                &Read::list("services", None)
                    .with_query("fieldSelector=metadata.name%3Dweb".into()),
            )
            .unwrap();
        assert_eq!(by_name.items.len(), 1);
    }

    #[test]
    fn typed_lists_and_several_documents() {
        let text = r#"{"kind":"NodeList","apiVersion":"v1","items":[]}
            {"kind":"ServiceList","items":[{"metadata":{"name":"a","namespace":"d"},"spec":{"ports":[]}}]}"#;
        let o = Objects::parse(text.as_bytes()).unwrap();
        let nodes: kube::List<kube::Node> = o.read(&Read::list("nodes", None)).unwrap();
        assert!(nodes.items.is_empty());
        let s: kube::Service = o.read(&Read::get("services", "d", "a")).unwrap();
        assert_eq!(s.metadata.name, "a");
    }

    #[test]
    fn malformed_input_is_one_line() {
        for bad in [
            "",
            "{",
            "42",
            r#"{"kind":"List","items":{}}"#,
            r#"{"metadata":{"name":"x"}}"#,
            r#"{"kind":"Service","metadata":{}}"#,
            r#"{"kind":"Service","metadata":{"name":"x"},"spec":{"ports":"no"}}"#,
        ] {
            let e = Objects::parse(bad.as_bytes()).unwrap_err();
            assert!(!e.contains('\n'), "{bad}: {e}");
        }
    }

    /// Random and mutated input never panics the parser or the reads.
    #[test]
    fn any_bytes_never_panic() {
        crate::testing::check(
            &[LIST.as_bytes(), br#"{"kind":"NodeList","items":[{}]}"#],
            3000,
            |bytes| {
                if let Ok(o) = Objects::parse(bytes) {
                    let _ = o.read::<kube::Service>(&svc_read());
                    let _ = o.read::<kube::List<kube::Pod>>(&Read::list("pods", Some("shop")));
                }
            },
        );
    }
}
