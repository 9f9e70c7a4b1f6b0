#!/usr/bin/env python3
"""A Kubernetes API stand-in for the debugbox lab: TLS with the lab CA, bearer tokens, 403 for
reads a token may not do, and the objects that describe the lab (Services, EndpointSlices, Pods,
Nodes, Ingresses). The current scenario (STATE/scenario) changes the objects the way the lab's
network is broken.

  lab-apiserver.py PORT CERT KEY STATE_DIR

Tokens (STATE/tokens.json): each maps to a user name and the resources it may read ("*" for
all); anything else is a 403 worded as the real API server words it.
"""

import copy
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATE = sys.argv[4]


def scenario():
    try:
        with open(os.path.join(STATE, "scenario")) as f:
            return f.read().strip() or "healthy"
    except OSError:
        return "healthy"


def tokens():
    with open(os.path.join(STATE, "tokens.json")) as f:
        return json.load(f)


def meta(name, ns=None, labels=None):
    m = {"name": name, "uid": "uid-" + name, "resourceVersion": "1"}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    return m


def pod(name, ip, ip6, node, labels, ready=True, ns="default", port=8080):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(name, ns, labels),
        "spec": {
            "nodeName": node,
            "containers": [{"name": "app", "image": "lab/web:1", "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}]}],
        },
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}] + ([{"ip": ip6}] if ip6 else []),
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "app", "ready": ready, "restartCount": 0 if ready else 2,
                                   "state": {"running": {"startedAt": "2026-11-26T00:00:00Z"}}}],
        },
    }


def objects():
    s = scenario()
    ready = s != "endpoints-not-ready"
    selector = {"app": "web-v2"} if s == "selector-mismatch" else {"app": "web"}
    target_port = {"wrong-targetport": 9090, "targetport-name-unknown": "web-http"}.get(s, 8080)
    web_labels = {"app": "web", "pod-template-hash": "7d9f"}
    pods = [
        pod("web1", "10.244.1.10", "fd00:10:244:1::10", "node1", web_labels, ready),
        # etp-local: web2 is another app's pod, so web's one endpoint is web1 on node1.
        pod("web2", "10.244.2.10", "fd00:10:244:2::10", "node2", {"app": "web-canary"} if s == "etp-local" else web_labels, ready),
    ]
    # The addresses scripts/lab adds to web1 (and web2) for these scenarios.
    extra = {"three-endpoints": {1: range(100, 101)}, "many-endpoints": {1: range(100, 149), 2: range(100, 149)}}
    for n, addrs in extra.get(s, {}).items():
        for i in addrs:
            pods.append(pod(f"web{n}-{i}", f"10.244.{n}.{i}", None, f"node{n}", web_labels))
    # thousand-endpoints: 500 IPv6 addresses on each web pod, one pod object each.
    if s == "thousand-endpoints":
        for n in (1, 2):
            for i in range(500):
                pods.append(pod(f"web{n}-v6-{i}", f"fd00:10:244:{n}::1:{i:x}", None, f"node{n}", web_labels))
    pods += [
        pod("debug", "10.244.1.5", "fd00:10:244:1::5", "node1", {"run": "debug"}, ns="other" if s == "dns-wrong-namespace" else "default"),
        pod("ingress-nginx-controller", "10.244.1.80", "fd00:10:244:1::80", "node1", {"app.kubernetes.io/name": "ingress-nginx"}, ns="ingress-nginx"),
        pod("coredns", "10.244.1.53", "fd00:10:244:1::53", "node1", {"k8s-app": "kube-dns"}, ns="kube-system", port=53),
    ]
    # dns-pod-down: a second DNS pod, on node2, that does not answer.
    if s == "dns-pod-down":
        pods.append(pod("coredns-2", "10.244.2.53", None, "node2", {"k8s-app": "kube-dns"}, ns="kube-system", port=53))
    dns_pods = [p for p in pods if p["metadata"]["namespace"] == "kube-system"]
    matching = [p for p in pods if p["metadata"].get("namespace") == "default" and all(p["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())]
    # A targetPort name no pod declares: the EndpointSlice controller makes no endpoint of them.
    if s == "targetport-name-unknown":
        matching = []
    services = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta("web", "default", {"app": "web"}),
            "spec": {
                "type": "LoadBalancer",
                "selector": selector,
                "clusterIP": "10.96.0.100",
                "clusterIPs": ["10.96.0.100", "fd00:10:96::100"],
                "ipFamilies": ["IPv4", "IPv6"],
                "ports": [{"name": "http", "protocol": "TCP", "port": 3000, "targetPort": target_port, "nodePort": 30080}],
                "externalTrafficPolicy": "Local" if s == "etp-local" else "Cluster",
                **({"healthCheckNodePort": 32100} if s == "etp-local" else {}),
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.240"}]}},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta("kubernetes", "default", {"component": "apiserver"}),
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}]},
            "status": {"loadBalancer": {}},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta("kube-dns", "kube-system", {"k8s-app": "kube-dns"}),
            "spec": {
                "type": "ClusterIP",
                "selector": {"k8s-app": "kube-dns"},
                "clusterIP": "10.96.0.10",
                "ports": [{"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 53}, {"name": "dns-tcp", "protocol": "TCP", "port": 53, "targetPort": 53}],
            },
            "status": {"loadBalancer": {}},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta("ingress-nginx-controller", "ingress-nginx"),
            "spec": {
                "type": "LoadBalancer",
                "selector": {"app.kubernetes.io/name": "ingress-nginx"},
                "clusterIP": "10.96.0.80",
                "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30081}],
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.241"}]}},
        },
    ]
    endpoints = [
        {
            "addresses": [p["status"]["podIP"]],
            "conditions": {"ready": ready, "serving": ready, "terminating": False},
            "nodeName": p["spec"]["nodeName"],
            "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": "default"},
        }
        for p in matching
    ]
    dns_slice = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": meta("kube-dns-x7k2p", "kube-system", {"kubernetes.io/service-name": "kube-dns"}),
        "addressType": "IPv4",
        "endpoints": [{
            "addresses": [p["status"]["podIP"]],
            "conditions": {"ready": True, "serving": True, "terminating": False},
            "nodeName": p["spec"]["nodeName"],
            "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": "kube-system"},
        } for p in dns_pods],
        "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}],
    }
    # At most 100 endpoints a slice, one address family each, as the controller makes them.
    slices = [dns_slice]
    for family in ("IPv4", "IPv6"):
        mine = [e for e in endpoints if (":" in e["addresses"][0]) == (family == "IPv6")]
        # (an IPv4 slice even when empty: the controller keeps one for a Service without pods)
        for k in range(0, max(len(mine), 1 if family == "IPv4" else 0), 100):
            slices.append({
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": meta("web-abcde" if family == "IPv4" and k == 0 else f"web-{family.lower()}-{k // 100}", "default",
                                 {"kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}),
                "addressType": family,
                "endpoints": mine[k:k + 100],
                "ports": [{"name": "http", "port": target_port, "protocol": "TCP"}] if isinstance(target_port, int) else None,
            })
    # debugbox's mesh agents (image/k8s/daemonset.yaml): a headless Service over the agents on
    # the pod network (the debug pod on node1, web2 on node2) and one over the hostNetwork
    # variant (the nodes themselves), with the zones the EndpointSlice controller copies from
    # the nodes' topology labels.
    for svc, agents in (("debugbox-mesh", [("10.244.1.5", "node1", "zone-a"), ("10.244.2.10", "node2", "zone-b")]),
                        ("debugbox-mesh-node", [("172.18.0.11", "node1", "zone-a"), ("172.18.0.12", "node2", "zone-b")])):
        services.append({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta(svc, "default", {"app": svc}),
            "spec": {"type": "ClusterIP", "clusterIP": "None", "selector": {"app": svc}, "publishNotReadyAddresses": True,
                     "ports": [{"name": "http", "protocol": "TCP", "port": 9797, "targetPort": 9797}]},
            "status": {"loadBalancer": {}},
        })
        slices.append({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": meta(svc + "-m4k2x", "default", {"kubernetes.io/service-name": svc}),
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}, "nodeName": node, "zone": zone} for ip, node, zone in agents],
            "ports": [{"name": "http", "port": 9797, "protocol": "TCP"}],
        })
    # The API server's own endpoints, kept by the API server (no selector).
    slices.append(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": meta("kubernetes", "default", {"kubernetes.io/service-name": "kubernetes"}),
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["172.18.0.11"], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        }
    )
    nodes = [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": meta(n, None, {"kubernetes.io/hostname": n}),
            "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": n}], "conditions": [{"type": "Ready", "status": "True"}]},
        }
        for n, ip in [("node1", "172.18.0.11"), ("node2", "172.18.0.12")]
    ]
    ingresses = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta("shop", "default"),
            "spec": {
                "ingressClassName": "nginx",
                "rules": [
                    {
                        "host": "shop.example.com",
                        "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 3000}}}}]},
                    }
                ],
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "172.18.0.241"}]}},
        }
    ]
    # policy-denies: web's pods admit only app=frontend on their http port (the debug pod is not).
    policies = []
    if s == "policy-denies":
        policies.append({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("web-from-frontend", "default"),
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}], "ports": [{"protocol": "TCP", "port": "http"}]}],
            },
        })
    # egress-denies-dns: the default namespace's pods may only reach web and the API server.
    if s == "egress-denies-dns":
        policies.append({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("egress-web-and-api-only", "default"),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"protocol": "TCP", "port": 8080}]},
                    {"to": [{"ipBlock": {"cidr": "172.18.0.11/32"}}, {"ipBlock": {"cidr": "10.96.0.1/32"}}], "ports": [{"protocol": "TCP", "port": 6443}, {"protocol": "TCP", "port": 443}]},
                ],
            },
        })
    # thousand-endpoints: 200 policies, as a busy namespace has: a quarter select web's pods and
    # admit a client (one admits the debug pod), the rest select other apps.
    if s == "thousand-endpoints":
        for i in range(200):
            selects = {"app": "web"} if i % 4 == 0 else {"app": f"app-{i}"}
            client = {"run": "debug"} if i == 0 else {"app": f"client-{i}"}
            policies.append({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": meta(f"allow-{i}", "default"),
                "spec": {
                    "podSelector": {"matchLabels": selects},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [{"podSelector": {"matchLabels": client}},
                                          {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": f"team-{i % 7}"}}}],
                                 "ports": [{"protocol": "TCP", "port": "http"}, {"protocol": "TCP", "port": 9000 + i}]}],
                },
            })
    return {"services": services, "endpointslices": slices, "pods": pods, "nodes": nodes, "ingresses": ingresses, "networkpolicies": policies}


# (group, resource) for each path shape.
ROUTES = {
    ("api", "v1", "services"): ("", "services"),
    ("api", "v1", "pods"): ("", "pods"),
    ("api", "v1", "nodes"): ("", "nodes"),
    ("apis", "discovery.k8s.io", "endpointslices"): ("discovery.k8s.io", "endpointslices"),
    ("apis", "networking.k8s.io", "ingresses"): ("networking.k8s.io", "ingresses"),
    ("apis", "networking.k8s.io", "networkpolicies"): ("networking.k8s.io", "networkpolicies"),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle and the client's delayed
    # ACK hold the body back for 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def status(self, code, reason, message, details=None):
        self.send_json(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "details": details or {}, "code": code})

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        user = tokens().get(auth[7:]) if auth.startswith("Bearer ") else None
        if user is None:
            return self.status(401, "Unauthorized", "Unauthorized")
        u = urlparse(self.path)
        parts = [p for p in u.path.split("/") if p]
        if parts in (["version"], ["api"], ["livez"], ["readyz"]):
            return self.send_json(200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-debugbox-lab"})
        # /api/v1[/namespaces/NS]/RES[/NAME]  and  /apis/GROUP/VERSION[/namespaces/NS]/RES[/NAME]
        if parts and parts[0] == "api":
            prefix, group, rest = ("api", "v1"), "", parts[2:]
        elif parts and parts[0] == "apis" and len(parts) >= 3:
            prefix, group, rest = ("apis", parts[1]), parts[1], parts[3:]
        else:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        ns = None
        if len(rest) >= 2 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        if not rest:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        resource, name = rest[0], (rest[1] if len(rest) > 1 else None)
        if (prefix[0], prefix[1], resource) not in ROUTES:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        verb = "get" if name else "list"
        allowed = user["allow"]
        if "*" not in allowed and resource not in allowed:
            gr = f"{resource}.{group}" if group else resource
            where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
            group_text = f'"{group}"' if group else '""'
            return self.status(
                403,
                "Forbidden",
                f'{gr} is forbidden: User "{user["name"]}" cannot {verb} resource "{resource}" in API group {group_text}{where}',
                {"kind": resource, "group": group},
            )
        items = objects()[resource]
        if ns:
            items = [i for i in items if i["metadata"].get("namespace") == ns]
        q = parse_qs(u.query)
        for sel in q.get("fieldSelector", []):
            for term in sel.split(","):
                k, _, v = term.partition("=")
                if k == "metadata.name":
                    items = [i for i in items if i["metadata"]["name"] == v]
                elif k == "metadata.namespace":
                    items = [i for i in items if i["metadata"].get("namespace") == v]
        for sel in q.get("labelSelector", []):
            for term in sel.split(","):
                k, _, v = term.partition("=")
                items = [i for i in items if i["metadata"].get("labels", {}).get(k) == v]
        if name:
            found = [i for i in items if i["metadata"]["name"] == name]
            if not found:
                gr = f"{resource}.{group}" if group else resource
                return self.status(404, "NotFound", f'{gr} "{name}" not found', {"name": name, "kind": resource})
            return self.send_json(200, found[0])
        kind = items[0]["kind"] + "List" if items else resource.capitalize() + "List"
        return self.send_json(200, {"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "1"}, "items": copy.deepcopy(items)})


class Server(ThreadingHTTPServer):
    request_queue_size = 1024


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    srv = Server(("0.0.0.0", port), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    # The handshake happens on first read, in the request's thread, not in accept().
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    srv.serve_forever()


if __name__ == "__main__":
    main()
