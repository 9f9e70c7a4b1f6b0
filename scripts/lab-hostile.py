#!/usr/bin/env python3
"""Misbehaving HTTP servers for curl's tests, one per port, all in one process.

  lab-hostile.py PORT_BASE [PORT:CERT:KEY ...]

  PORT_BASE+0  slow drip: headers, then one body byte per second (Content-Length: 100)
  PORT_BASE+1  endless headers: one header line per millisecond, forever
  PORT_BASE+2  huge header: a single 1 MiB header line
  PORT_BASE+3  redirect loop: every path answers 302 to the next path
  PORT_BASE+4  closes mid-body: Content-Length 1000, sends 100 bytes, closes
  PORT_BASE+5  big body: GET /bytes/N streams N bytes (for throughput), fast
  PORT:CERT:KEY  TLS servers with that certificate, serving "hello over tls"
  PORT_BASE+7  redirect chain: /r/N redirects to /r/N-1, /r/0 answers 200
  PORT_BASE+8  echo: answers with the request line and headers it received, and the body
"""

import os
import socket
import ssl
import sys
import threading
import time


def serve(port, handler, wrap=None):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(64)

    def loop():
        while True:
            conn, _ = s.accept()
            threading.Thread(target=run, args=(conn,), daemon=True).start()

    def run(conn):
        try:
            if wrap is not None:
                conn = wrap.wrap_socket(conn, server_side=True)
            handler(conn)
        except Exception:
            pass
        finally:
            try:
                conn.close()
            except Exception:
                pass

    threading.Thread(target=loop, daemon=True).start()


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip() or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return lines, rest


def slow_drip(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    for _ in range(100):
        time.sleep(1)
        conn.sendall(b"x")


def endless_headers(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    i = 0
    while True:
        conn.sendall(b"X-Endless-%d: yes\r\n" % i)
        i += 1
        time.sleep(0.001)


def huge_header(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * (1024 * 1024) + b"\r\nContent-Length: 2\r\n\r\nok")


def redirect_loop(conn):
    lines, _ = read_request(conn)
    path = lines[0].split(" ")[1] if lines and " " in lines[0] else "/"
    n = int(path.strip("/").split("/")[-1] or 0) if path.strip("/").split("/")[-1].isdigit() else 0
    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /loop/%d\r\nContent-Length: 0\r\n\r\n" % (n + 1))


def close_mid_body(conn):
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"y" * 100)


def big_body(conn):
    while True:
        lines, _ = read_request(conn)
        if not lines or not lines[0]:
            return
        path = lines[0].split(" ")[1]
        n = int(path.rsplit("/", 1)[-1]) if path.startswith("/bytes/") else 0
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\n\r\n" % n)
        block = b"z" * 65536
        left = n
        while left > 0:
            k = min(left, len(block))
            conn.sendall(block[:k])
            left -= k


def tls_hello(conn):
    read_request(conn)
    body = b"hello over tls\n"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def redirect_chain(conn):
    lines, _ = read_request(conn)
    path = lines[0].split(" ")[1] if lines and " " in lines[0] else "/r/0"
    n = int(path.rsplit("/", 1)[-1]) if path.rsplit("/", 1)[-1].isdigit() else 0
    if n > 0:
        conn.sendall(b"HTTP/1.1 301 Moved Permanently\r\nLocation: /r/%d\r\nContent-Length: 0\r\n\r\n" % (n - 1))
    else:
        body = b"end of chain\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def echo(conn):
    lines, body = read_request(conn)
    out = ("\n".join(lines) + "\n\n").encode() + body
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(out) + out)


def main():
    base = int(sys.argv[1])
    handlers = [slow_drip, endless_headers, huge_header, redirect_loop, close_mid_body, big_body, None, redirect_chain, echo]
    for i, h in enumerate(handlers):
        if h is not None:
            serve(base + i, h)
    for spec in sys.argv[2:]:
        port, cert, key = spec.split(":", 2)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        serve(int(port), tls_hello, ctx)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
