#!/usr/bin/env python3
"""Sockets for ss and nc tests, inside the network namespace this runs in (loopback only).

  lab-sockets.py variety      listeners, connections and datagram sockets of every kind ss
                              shows (TCP/UDP, v4/v6, Unix stream/dgram/seqpacket, abstract
                              names), printed as `ready` once in place; then sleeps.
  lab-sockets.py many N       N established TCP sockets (N/2 connections over loopback),
                              spread over worker processes (each under the fd limit); `ready`.

Everything stays open until the process is killed.
"""
import os
import signal
import socket
import sys
import tempfile
import time

keep = []


def tcp_listen(family, addr, port, backlog=16):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6 and addr == "::":
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    s.listen(backlog)
    keep.append(s)
    return s


def connect_pair(listener, family, addr, port):
    c = socket.socket(family, socket.SOCK_STREAM)
    c.connect((addr, port))
    a, _ = listener.accept()
    keep.extend([c, a])
    return c, a


def variety():
    l4 = tcp_listen(socket.AF_INET, "127.0.0.1", 3000)
    tcp_listen(socket.AF_INET, "0.0.0.0", 8080, 128)
    tcp_listen(socket.AF_INET, "0.0.0.0", 22)
    l6 = tcp_listen(socket.AF_INET6, "::1", 3001)
    tcp_listen(socket.AF_INET6, "::", 9090)
    v6only = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    v6only.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    v6only.bind(("::", 9091))
    v6only.listen(4)
    keep.append(v6only)
    c, a = connect_pair(l4, socket.AF_INET, "127.0.0.1", 3000)
    c.send(b"x" * 100)  # unread: a Recv-Q on the accepted side
    connect_pair(l6, socket.AF_INET6, "::1", 3001)
    # A connection closed by one side: FIN-WAIT-2 / CLOSE-WAIT.
    c2, a2 = connect_pair(l4, socket.AF_INET, "127.0.0.1", 3000)
    c2.shutdown(socket.SHUT_WR)
    # Keepalive timers for -o.
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for addr, port, fam in [("0.0.0.0", 5353, socket.AF_INET), ("127.0.0.1", 53, socket.AF_INET),
                            ("::", 5000, socket.AF_INET6)]:
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((addr, port))
        keep.append(u)
    uc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uc.bind(("127.0.0.1", 40000))
    uc.connect(("127.0.0.1", 53))
    keep.append(uc)
    d = tempfile.mkdtemp(prefix="dbx-ss-")
    for kind, name in [(socket.SOCK_STREAM, "stream.sock"), (socket.SOCK_SEQPACKET, "seq.sock")]:
        s = socket.socket(socket.AF_UNIX, kind)
        s.bind(os.path.join(d, name))
        s.listen(4)
        keep.append(s)
        c = socket.socket(socket.AF_UNIX, kind)
        c.connect(os.path.join(d, name))
        a, _ = s.accept()
        keep.extend([c, a])
    g = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    g.bind(os.path.join(d, "dgram.sock"))
    keep.append(g)
    ab = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ab.bind("\0dbx-abstract")
    ab.listen(1)
    keep.append(ab)
    p1, p2 = socket.socketpair()
    keep.extend([p1, p2])
    print("ready " + d, flush=True)


def many(n):
    pairs = n // 2
    per_worker = 4000  # connections per process: 8,000 fds, under any sane limit
    workers = []
    ports = list(range(20000, 20000 + (pairs + per_worker - 1) // per_worker))
    for w, port in enumerate(ports):
        count = min(per_worker, pairs - w * per_worker)
        r, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            l = tcp_listen(socket.AF_INET, "127.0.0.1", port, 4096)
            for i in range(count):
                # Spread the clients over 127.0.0.0/8 so no source runs out of ports.
                c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                c.bind(("127.0.%d.%d" % (1 + i // 250, 1 + i % 250), 0))
                c.connect(("127.0.0.1", port))
                a, _ = l.accept()
                keep.extend([c, a])
            os.write(wfd, b"1")
            signal.pause()
            os._exit(0)
        os.close(wfd)
        workers.append((pid, r))
    for pid, r in workers:
        os.read(r, 1)
    print("ready", flush=True)

    def stop(*_):
        for pid, _ in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


if __name__ == "__main__":
    if sys.argv[1:2] == ["variety"]:
        variety()
    elif sys.argv[1:2] == ["many"]:
        many(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
    while True:
        time.sleep(3600)
