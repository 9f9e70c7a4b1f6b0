#!/usr/bin/env python3
"""HTTP servers for the debugbox lab: app backends and a Host-routing ingress controller.

Runs inside a lab namespace and listens on every address of that namespace (IPv4 and IPv6).

  lab-http.py web POD_NAME PORT
      GET /           -> 200 "hello from POD_NAME"
      GET /healthz    -> 200 "ok"
      GET /status/N   -> status N
      anything else   -> 404
  lab-http.py ingress PORT HOST=BACKEND_IP:PORT [HOST=...]
      proxies by Host header; unknown hosts get nginx's "default backend - 404".
  lab-http.py health STATE_DIR NODE PORT
      kube-proxy's health check for web (healthCheckNodePort): GET /healthz -> 200 with the
      node's local endpoints, 503 without (under the etp-local scenario only node1 has one).
"""

import json
import os

import http.client
import http.server
import socket
import sys


class DualStackServer(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    # socketserver's default backlog is 5: a burst of connections (diagnose probing many
    # endpoints at once) would overflow it and wait for SYN retransmits. Servers in pods listen
    # with the kernel's somaxconn.
    request_queue_size = 1024

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class Web(http.server.BaseHTTPRequestHandler):
    pod = "pod"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="text/plain; charset=utf-8"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Pod", self.pod)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            self.reply(200, f"hello from {self.pod}\n")
        elif path == "/healthz":
            self.reply(200, "ok\n")
        elif path.startswith("/status/") and path[8:].isdigit():
            self.reply(int(path[8:]), f"status {path[8:]}\n")
        else:
            self.reply(404, "not found\n")

    do_HEAD = do_GET

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace")
        self.reply(200, body, self.headers.get("Content-Type") or "text/plain")


class Ingress(http.server.BaseHTTPRequestHandler):
    routes = {}
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        backend = self.routes.get(host)
        if backend is None:
            body = b"default backend - 404"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        addr, port = backend.rsplit(":", 1)
        try:
            conn = http.client.HTTPConnection(addr, int(port), timeout=5)
            conn.request(self.command, self.path, headers={"Host": host})
            resp = conn.getresponse()
            data = resp.read()
        except OSError:
            data = b"502 Bad Gateway"
            self.send_response(502)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_HEAD = do_GET


class Health(http.server.BaseHTTPRequestHandler):
    state = "."
    node = "node1"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        try:
            with open(os.path.join(self.state, "scenario")) as f:
                scenario = f.read().strip()
        except OSError:
            scenario = "healthy"
        local = (1 if self.node == "node1" else 0) if scenario == "etp-local" else 1
        body = json.dumps({"service": {"namespace": "default", "name": "web"}, "localEndpoints": local, "serviceProxyHealthy": True}).encode()
        self.send_response(200 if local else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    mode = sys.argv[1]
    if mode == "web":
        Web.pod = sys.argv[2]
        port = int(sys.argv[3])
        handler = Web
    elif mode == "health":
        Health.state, Health.node, port = sys.argv[2], sys.argv[3], int(sys.argv[4])
        handler = Health
    elif mode == "ingress":
        port = int(sys.argv[2])
        Ingress.routes = dict(a.split("=", 1) for a in sys.argv[3:])
        handler = Ingress
    else:
        sys.exit(f"unknown mode {mode}")
    DualStackServer(("::", port), handler).serve_forever()


if __name__ == "__main__":
    main()
