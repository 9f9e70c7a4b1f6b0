#!/usr/bin/env python3
"""A DNS server that misbehaves on purpose, for the resolver's tests (UDP and TCP, port 53).

  lab-dns-hostile.py ADDR [ADDR...]

By the first label of the name asked (the zone is `hostile.test`):
  tc        UDP: truncated (TC=1) and empty; TCP: the connection is closed at once
  mismatch  answers for another question (evil.example A)
  servfail  SERVFAIL
  notimp    NOTIMP to a query with EDNS; without EDNS, an A record
  ctrl      TXT, HINFO and CAA data with control characters in them
  other     an A record owned by another name (other.example)
  anything else: NXDOMAIN
"""

import socket
import struct
import sys
import threading


def parse_question(msg):
    i = 12
    labels = []
    while i < len(msg):
        n = msg[i]
        if n == 0:
            i += 1
            break
        labels.append(msg[i + 1:i + 1 + n])
        i += 1 + n
    qtype, qclass = struct.unpack("!HH", msg[i:i + 4])
    has_edns = struct.unpack("!H", msg[10:12])[0] > 0
    return labels, msg[12:i + 4], qtype, has_edns


def encode_name(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


def header(qid, rcode, qd, an, tc=False):
    flags = 0x8000 | 0x0400 | 0x0100 | 0x0080 | rcode
    if tc:
        flags |= 0x0200
    return struct.pack("!HHHHHH", qid, flags, qd, an, 0, 0)


def rr(name_bytes, rtype, rdata, ttl=5):
    return name_bytes + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def answer(msg, proto):
    qid = struct.unpack("!H", msg[:2])[0]
    labels, question, qtype, has_edns = parse_question(msg)
    first = labels[0].decode(errors="replace").lower() if labels else ""
    qname = encode_name(labels)
    if first == "tc":
        if proto == "tcp":
            return None
        return header(qid, 0, 1, 0, tc=True) + question
    if first == "mismatch":
        q = encode_name([b"evil", b"example"]) + struct.pack("!HH", 1, 1)
        return header(qid, 0, 1, 1) + q + rr(encode_name([b"evil", b"example"]), 1, bytes([10, 6, 6, 6]))
    if first == "servfail":
        return header(qid, 2, 1, 0) + question
    if first == "notimp":
        if has_edns:
            return header(qid, 4, 1, 0) + question
        return header(qid, 0, 1, 1) + question + rr(qname, 1, bytes([10, 0, 0, 4]))
    if first == "ctrl":
        txt = b"bell\x07tab\tnl\nend"
        records = [
            rr(qname, 16, bytes([len(txt)]) + txt),
            rr(qname, 13, bytes([4]) + b"x\x01\x1by" + bytes([5]) + b"os\x00\x7f!"),
            rr(qname, 257, bytes([0, 5]) + b"issue" + b"ca\x08.example"),
        ]
        return header(qid, 0, 1, len(records)) + question + b"".join(records)
    if first == "other":
        return header(qid, 0, 1, 1) + question + rr(encode_name([b"other", b"example"]), 1, bytes([10, 6, 6, 7]))
    return header(qid, 3, 1, 0) + question


def serve_udp(addr):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        msg, peer = s.recvfrom(4096)
        try:
            r = answer(msg, "udp")
            if r is not None:
                s.sendto(r, peer)
        except Exception:
            pass


def serve_tcp(addr):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 53))
    s.listen(16)

    def one(conn):
        try:
            n = struct.unpack("!H", conn.recv(2))[0]
            msg = b""
            while len(msg) < n:
                part = conn.recv(n - len(msg))
                if not part:
                    return
                msg += part
            r = answer(msg, "tcp")
            if r is not None:
                conn.sendall(struct.pack("!H", len(r)) + r)
        except Exception:
            pass
        finally:
            conn.close()

    while True:
        conn, _ = s.accept()
        threading.Thread(target=one, args=(conn,), daemon=True).start()


def main():
    for addr in sys.argv[1:]:
        threading.Thread(target=serve_udp, args=(addr,), daemon=True).start()
        threading.Thread(target=serve_tcp, args=(addr,), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
