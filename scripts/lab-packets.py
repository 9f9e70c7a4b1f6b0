#!/usr/bin/python3
"""Write a pcap of crafted packets that a short lab session does not produce, for comparing
how debugbox's tcpdump and tcpdump 4.99 print them (tests/lab_tcpdump.rs): VLAN tags in the
frame, IPv4 fragments, ICMP need-to-frag and time exceeded, ICMPv6 packet too big, unreachable
and time exceeded, TCP with SACK blocks and over IPv6 behind a destination-options header,
DNS answers of many types and error codes, an unknown EtherType, a cut packet.

    lab-packets.py FILE
"""
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(src, dst, proto, payload, ttl=64, ident=1, frag=0x4000):
    total = 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident, frag, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport, dport, seq, ack, flags, opts=b"", data=b"", win=502):
    off = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, win, 0, 0) + opts + data


def icmp(t, code, rest, body):
    m = struct.pack("!BBH", t, code, 0) + rest + body
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def icmp6(t, code, rest, body):
    return struct.pack("!BBH", t, code, 0) + rest + body


def eth(payload, ethertype=0x0800, vlan=None):
    h = bytes.fromhex("020000000002020000000001")
    if vlan is not None:
        h += struct.pack("!HH", 0x8100, vlan)
    return h + struct.pack("!H", ethertype) + payload


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_answer(ident, flags, q, qtype, answers, nscount=0):
    m = struct.pack("!HHHHHH", ident, flags, 1, len(answers), nscount, 0)
    m += name(q) + struct.pack("!HH", qtype, 1)
    for t, rdata in answers:
        m += b"\xc0\x0c" + struct.pack("!HHIH", t, 1, 300, len(rdata)) + rdata
    return m


def main():
    A, B = "10.77.0.1", "10.77.0.2"
    A6, B6 = "fd77::1", "fd77::2"
    pkts = []
    syn = tcp(40000, 8080, 1000, 0, 0x02, opts=bytes.fromhex("020405b40402080a000000010000000001030307"))
    pkts.append(eth(ip4(A, B, 6, syn), vlan=10))
    pkts.append(eth(ip4(B, A, 6, tcp(8080, 40000, 5000, 1001, 0x12, opts=bytes.fromhex("020405b4"))), vlan=10))
    # A duplicate ACK with two SACK blocks.
    sack = bytes.fromhex("0101050a") + struct.pack("!IIII", 6001, 7001, 8001, 9001)
    pkts.append(eth(ip4(A, B, 6, tcp(40000, 8080, 1001, 5001, 0x10, opts=sack))))
    pkts.append(eth(ip4(B, A, 6, tcp(8080, 40000, 5001, 1001, 0x18, data=b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))))
    # An IPv4 datagram in two fragments.
    big = udp(5000, 7777, bytes(range(256)) * 6)
    pkts.append(eth(ip4(A, B, 17, big[:1480], ident=77, frag=0x2000)))
    pkts.append(eth(ip4(A, B, 17, big[1480:], ident=77, frag=1480 // 8)))
    # ICMP: need to frag with the next hop's MTU, time exceeded, host unreachable.
    quoted = ip4(A, "10.78.0.9", 6, tcp(40001, 443, 1, 0, 0x02))[:28]
    pkts.append(eth(ip4(B, A, 1, icmp(3, 4, struct.pack("!HH", 0, 1400), quoted))))
    pkts.append(eth(ip4(B, A, 1, icmp(11, 0, b"\0" * 4, quoted))))
    pkts.append(eth(ip4(B, A, 1, icmp(3, 1, b"\0" * 4, quoted))))
    pkts.append(eth(ip4(B, A, 1, icmp(3, 13, b"\0" * 4, quoted))))
    # ICMPv6: packet too big, unreachable (no route, port), time exceeded.
    q6 = ip6(A6, "fd78::9", 17, udp(40002, 53, b"x" * 8))
    pkts.append(eth(ip6(B6, A6, 58, icmp6(2, 0, struct.pack("!I", 1280), q6)), 0x86DD))
    pkts.append(eth(ip6(B6, A6, 58, icmp6(1, 0, b"\0" * 4, q6)), 0x86DD))
    pkts.append(eth(ip6(B6, A6, 58, icmp6(1, 4, b"\0" * 4, q6)), 0x86DD))
    pkts.append(eth(ip6(B6, A6, 58, icmp6(3, 0, b"\0" * 4, q6)), 0x86DD))
    # TCP over IPv6 behind a destination-options header (PadN).
    dstopt = bytes([6, 0, 1, 4, 0, 0, 0, 0])
    pkts.append(eth(ip6(A6, B6, 60, dstopt + tcp(40003, 8080, 1, 0, 0x02)), 0x86DD))
    pkts.append(eth(ip6(A6, B6, 6, tcp(40004, 8080, 7, 0, 0x02)), 0x86DD))
    query = struct.pack("!HHHHHH", 9, 0x0100, 1, 0, 0, 0) + name("web.lab.") + struct.pack("!HH", 28, 1)
    pkts.append(eth(ip6(A6, B6, 17, udp(40005, 53, query)), 0x86DD))
    # DNS answers: CNAME and A, MX, SRV, TXT, NXDomain, ServFail.
    rr_cname = (5, name("web.shop.svc.cluster.local."))
    pkts.append(eth(ip4(B, A, 17, udp(53, 40010, dns_answer(21, 0x8180, "web.lab.", 1, [rr_cname, (1, socket.inet_aton("10.96.0.7"))])))))
    pkts.append(eth(ip4(B, A, 17, udp(53, 40011, dns_answer(22, 0x8580, "lab.", 15, [(15, struct.pack("!H", 10) + name("mail.lab."))])))))
    srv = struct.pack("!HHH", 0, 5, 8080) + name("web.lab.")
    pkts.append(eth(ip4(B, A, 17, udp(53, 40012, dns_answer(23, 0x8580, "_http._tcp.web.lab.", 33, [(33, srv)])))))
    pkts.append(eth(ip4(B, A, 17, udp(53, 40013, dns_answer(24, 0x8180, "web.lab.", 16, [(16, b"\x05hello\x05world")])))))
    pkts.append(eth(ip4(B, A, 17, udp(53, 40014, dns_answer(25, 0x8183, "nothing.lab.", 1, [], nscount=0)))))
    pkts.append(eth(ip4(B, A, 17, udp(53, 40015, dns_answer(26, 0x8182, "web.lab.", 28, [])))))
    # An LLDP frame (unknown to the printers here): printed as tcpdump prints what it does not know.
    pkts.append(eth(bytes.fromhex("0207040200000000010403020001060200780000"), 0x88CC))
    # A cut TCP packet: the capture kept 54 of its bytes.
    cut = eth(ip4(A, B, 6, tcp(40020, 8080, 1, 1, 0x18, opts=bytes.fromhex("0101080a0000000100000002"), data=b"GET / HTTP/1.1\r\n")))
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        t = 1795690000
        for i, p in enumerate(pkts):
            f.write(struct.pack("<IIII", t, i * 1000, len(p), len(p)) + p)
        f.write(struct.pack("<IIII", t, 99000, 60, len(cut)) + cut[:60])


main()
