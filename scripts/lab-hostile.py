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
  PORT_BASE+9  features, by path (anything else is echoed):
               /redirect?status=N&to=URL   N (302) to URL     /set-cookie   two Set-Cookie lines
               /fail-twice?key=K   503 twice per key, then 200  /gzip /deflate   encoded bodies
               /gzip-bomb   200 MiB of zeros as ~200 KiB gzip  /http10   close-delimited 200 KB
               /chunked-split   a chunked body one byte a write  /interim   100 and 103 before 200
               /odd-headers   obs-fold, bare CR, "Content-Length :"  /disposition  a file name
               /range   1000 bytes, Range honoured (206)  /empty-location, /utf8-location  302s
               /drip-tls is not here: see PORT_BASE+10
  PORT_BASE+10  a TLS "server" that sends its handshake one byte every 100 ms
  UNIX:PATH    (an argument) the features server on a Unix socket too
"""

import gzip
import zlib

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
    chunked = False
    expect = False
    for line in lines[1:]:
        k, _, v = line.partition(":")
        k = k.strip().lower()
        if k == "content-length":
            length = int(v.strip() or 0)
        elif k == "transfer-encoding" and "chunked" in v.lower():
            chunked = True
        elif k == "expect" and "100-continue" in v.lower():
            expect = True
    if expect:
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    if chunked:
        return lines, read_chunked(conn, rest)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return lines, rest


def read_chunked(conn, buf):
    body = b""

    def need(n):
        nonlocal buf
        while len(buf) < n:
            c = conn.recv(65536)
            if not c:
                raise EOFError
            buf += c

    while True:
        while b"\r\n" not in buf:
            need(len(buf) + 1)
        line, _, buf = buf.partition(b"\r\n")
        size = int(line.split(b";")[0] or b"0", 16)
        if size == 0:
            while b"\r\n" not in buf:
                need(len(buf) + 1)
            return body
        need(size + 2)
        body += buf[:size]
        buf = buf[size + 2:]


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


FAILS = {}
FAILS_LOCK = threading.Lock()


def respond(conn, status, headers, body, version="HTTP/1.1"):
    head = "%s %s\r\n" % (version, status)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    conn.sendall(head.encode("latin-1") + b"\r\n" + body)


def features(conn):
    lines, body = read_request(conn)
    if not lines or " " not in lines[0]:
        return
    target = lines[0].split(" ")[1]
    path, _, query = target.partition("?")
    args = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    if path == "/redirect":
        from urllib.parse import unquote
        respond(conn, args.get("status", "302") + " Moved", [("Location", unquote(args.get("to", "/"))), ("Content-Length", "0")], b"")
    elif path == "/set-cookie":
        respond(conn, "200 OK", [("Set-Cookie", "sid=abc123; Path=/"), ("Set-Cookie", "theme=dark; Path=/; HttpOnly"),
                                 ("Content-Length", "3")], b"ok\n")
    elif path == "/fail-twice":
        with FAILS_LOCK:
            n = FAILS.get(args.get("key", ""), 0)
            FAILS[args.get("key", "")] = n + 1
        if n < 2:
            b = b"try again\n"
            respond(conn, "503 Service Unavailable", [("Content-Length", str(len(b)))], b)
        else:
            b = b"finally\n"
            respond(conn, "200 OK", [("Content-Length", str(len(b)))], b)
    elif path in ("/gzip", "/deflate"):
        plain = b"hello compressed world\n" * 20
        enc = gzip.compress(plain) if path == "/gzip" else zlib.compress(plain)
        respond(conn, "200 OK", [("Content-Encoding", path[1:]), ("Content-Length", str(len(enc)))], enc)
    elif path == "/gzip-bomb":
        co = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = b"\0" * (1 << 20)
        enc = b"".join(co.compress(zeros) for _ in range(200)) + co.flush()
        respond(conn, "200 OK", [("Content-Encoding", "gzip"), ("Content-Length", str(len(enc)))], enc)
    elif path == "/http10":
        respond(conn, "200 OK", [("Content-Type", "text/plain")], b"0123456789" * 20000, version="HTTP/1.0")
    elif path == "/chunked-split":
        wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        wire += b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in [b"hello ", b"split ", b"chunks\n" * 300]) + b"0\r\n\r\n"
        conn.sendall(wire[:40])
        for i in range(40, len(wire)):
            conn.sendall(wire[i:i + 1])
            if i < 200:
                time.sleep(0.001)
    elif path == "/interim":
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        respond(conn, "200 OK", [("Content-Length", "6")], b"final\n")
    elif path == "/odd-headers":
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Folded: first\r\n second\r\nX-Cr: a\rb\r\nContent-Length : 5\r\nConnection: close\r\n\r\nodd!\n")
    elif path == "/disposition":
        respond(conn, "200 OK", [("Content-Disposition", 'attachment; filename="report.txt"'), ("Content-Length", "7")], b"report\n")
    elif path == "/range":
        data = bytes((i % 26) + 97 for i in range(1000))
        rng = [l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("range:")]
        if rng and rng[0].startswith("bytes="):
            a, _, b = rng[0][6:].partition("-")
            a = int(a or 0)
            b = int(b) if b else len(data) - 1
            part = data[a:b + 1]
            respond(conn, "206 Partial Content", [("Content-Range", "bytes %d-%d/%d" % (a, a + len(part) - 1, len(data))),
                                                  ("Content-Length", str(len(part)))], part)
        else:
            respond(conn, "200 OK", [("Content-Length", str(len(data)))], data)
    elif path == "/empty-location":
        respond(conn, "302 Found", [("Location", ""), ("Content-Length", "2")], b"e\n")
    elif path == "/utf8-location":
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /caf\xc3\xa9?x=\xe2\x9c\x93\r\nContent-Length: 0\r\n\r\n")
    else:
        out = ("\n".join(lines) + "\n\n").encode() + body
        respond(conn, "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(out)))], out)


def drip_tls(conn):
    # A TLS record header announcing a handshake, then its bytes one every 100 ms.
    conn.sendall(b"\x16\x03\x03\x3f\xff")
    for _ in range(600):
        conn.sendall(b"\x00")
        time.sleep(0.1)


def serve_unix(path, handler):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)

    def loop():
        while True:
            conn, _ = s.accept()
            threading.Thread(target=lambda: (handler(conn), conn.close()), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def main():
    base = int(sys.argv[1])
    handlers = [slow_drip, endless_headers, huge_header, redirect_loop, close_mid_body, big_body, None, redirect_chain, echo,
                features, drip_tls]
    for i, h in enumerate(handlers):
        if h is not None:
            serve(base + i, h)
    for spec in sys.argv[2:]:
        if spec.startswith("UNIX:"):
            serve_unix(spec[5:], features)
            continue
        port, cert, key = spec.split(":", 2)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        serve(int(port), tls_hello, ctx)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
