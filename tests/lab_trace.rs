//! traceroute, tracepath and mtr against Debian's traceroute 2.1, iputils tracepath and mtr 0.95
//! on a path of lab routers: client — r1 — r2 — server, IPv4 and IPv6, the last link at MTU 1400,
//! r2 rejecting some prefixes (host/net unreachable, prohibited) and blackholing one, r1 DNATing
//! a ClusterIP-like address to the server. ICMP rate limits are lifted in the lab. Round trips
//! differ from run to run, so lines are compared without them.

mod common;
use common::*;
use std::process::Command;

struct Path {
    c: Scratch,
    r1: Scratch,
    r2: Scratch,
    s: Scratch,
}

fn veth(a: &Scratch, an: &str, b: &Scratch, bn: &str) {
    let r = run(Command::new("ip").args([
        "link", "add", an, "netns", &a.0, "type", "veth", "peer", "name", bn, "netns", &b.0,
    ]));
    assert_eq!(r.code, 0, "veth: {}", r.stderr);
    a.ip(&format!("link set {an} up"));
    b.ip(&format!("link set {bn} up"));
}

fn sysctl(ns: &Scratch, kv: &[&str]) {
    let mut argv = vec!["netns", "exec", &ns.0, "sysctl", "-qw"];
    argv.extend_from_slice(kv);
    let r = run(Command::new("ip").args(&argv));
    assert_eq!(r.code, 0, "sysctl {kv:?}: {}", r.stderr);
}

fn exec(ns: &Scratch, argv: &[&str]) -> Run {
    run(Command::new("ip").args(["netns", "exec", &ns.0]).args(argv))
}

fn path() -> Path {
    let p = Path {
        c: Scratch::new("tr-c"),
        r1: Scratch::new("tr-r1"),
        r2: Scratch::new("tr-r2"),
        s: Scratch::new("tr-s"),
    };
    veth(&p.c, "c0", &p.r1, "r1a");
    veth(&p.r1, "r1b", &p.r2, "r2a");
    veth(&p.r2, "r2b", &p.s, "s0");
    for (ns, cmds) in [
        (
            &p.c,
            vec![
                "addr add 10.1.0.2/24 dev c0",
                "addr add fd01::2/64 dev c0 nodad",
                "route add default via 10.1.0.1",
                "-6 route add default via fd01::1",
            ],
        ),
        (
            &p.r1,
            vec![
                "addr add 10.1.0.1/24 dev r1a",
                "addr add fd01::1/64 dev r1a nodad",
                "addr add 10.2.0.1/24 dev r1b",
                "addr add fd02::1/64 dev r1b nodad",
                "route add default via 10.2.0.2",
                "-6 route add default via fd02::2",
            ],
        ),
        (
            &p.r2,
            vec![
                "addr add 10.2.0.2/24 dev r2a",
                "addr add fd02::2/64 dev r2a nodad",
                "addr add 10.3.0.1/24 dev r2b",
                "addr add fd03::1/64 dev r2b nodad",
                "link set r2b mtu 1400",
                "route add 10.1.0.0/24 via 10.2.0.1",
                "-6 route add fd01::/64 via fd02::1",
                "route add blackhole 10.7.0.0/24",
            ],
        ),
        (
            &p.s,
            vec![
                "addr add 10.3.0.2/24 dev s0",
                "addr add fd03::2/64 dev s0 nodad",
                "link set s0 mtu 1400",
                "route add default via 10.3.0.1",
                "-6 route add default via fd03::1",
            ],
        ),
    ] {
        for c in cmds {
            ns.ip(c);
        }
    }
    // IPv6 unreachable and prohibit routes on r2 (!N, !X). IPv4's are rate limited per host by
    // net.ipv4.route.error_cost, which only the host's own namespace has (a test must not
    // change it), so IPv4's unreachables come from reject rules instead.
    p.r2.ip("-6 route add unreachable fd07::/64");
    p.r2.ip("-6 route add prohibit fd06::/64");
    // Prefixes r2 rejects, as a firewall would: routed towards the server, refused at r2.
    for net in ["10.9.0.0/24", "10.8.0.0/24", "10.6.0.0/24"] {
        p.r2.ip(&format!("route add {net} via 10.3.0.2"));
    }
    for net in ["fd09::/64", "fd08::/64"] {
        p.r2.ip(&format!("-6 route add {net} via fd03::2"));
    }
    for (tool, dst, with) in [
        ("iptables", "10.9.0.0/24", "icmp-host-unreachable"),
        ("iptables", "10.8.0.0/24", "icmp-admin-prohibited"),
        ("iptables", "10.6.0.0/24", "icmp-net-unreachable"),
        ("ip6tables", "fd09::/64", "icmp6-addr-unreachable"),
        ("ip6tables", "fd08::/64", "icmp6-adm-prohibited"),
    ] {
        let r = exec(
            &p.r2,
            &[
                tool,
                "-A",
                "FORWARD",
                "-d",
                dst,
                "-j",
                "REJECT",
                "--reject-with",
                with,
            ],
        );
        assert_eq!(r.code, 0, "{tool}: {}", r.stderr);
    }
    // A ClusterIP on r1 (the client's node): 10.96.0.10:80 -> the server's 8080.
    let r = exec(
        &p.r1,
        &[
            "iptables",
            "-t",
            "nat",
            "-A",
            "PREROUTING",
            "-d",
            "10.96.0.10",
            "-p",
            "tcp",
            "--dport",
            "80",
            "-j",
            "DNAT",
            "--to-destination",
            "10.3.0.2:8080",
        ],
    );
    assert_eq!(r.code, 0, "DNAT: {}", r.stderr);
    for ns in [&p.r1, &p.r2] {
        sysctl(
            ns,
            &["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"],
        );
    }
    for ns in [&p.c, &p.r1, &p.r2, &p.s] {
        sysctl(
            ns,
            &[
                "net.ipv4.icmp_ratelimit=0",
                "net.ipv6.icmp.ratelimit=0",
                "net.ipv4.icmp_msgs_per_sec=100000",
                "net.ipv4.icmp_msgs_burst=100000",
            ],
        );
    }
    sysctl(&p.c, &["net.ipv4.ping_group_range=0 2147483647"]);
    p
}

/// traceroute's lines without round trips: "  0.123 ms" goes, the rest stays.
fn no_times(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let mut keep = vec![];
        let mut i = 0;
        while i < words.len() {
            if words.get(i + 1) == Some(&"ms") && words[i].parse::<f64>().is_ok() {
                i += 2;
                continue;
            }
            if words[i].ends_with("ms") && words[i].trim_end_matches("ms").parse::<f64>().is_ok() {
                i += 1;
                continue;
            }
            keep.push(words[i]);
            i += 1;
        }
        out.push_str(
            &keep
                .into_iter()
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        );
        out.push('\n');
    }
    out
}

fn flush_pmtu(p: &Path) {
    p.c.ip("route flush cache");
    p.c.ip("-6 route flush cache");
}

/// Run the reference and ours (with `prefix`, e.g. as nobody) until two reference runs agree,
/// and compare without round trips.
fn compare(p: &Path, tool: &str, reference: &str, args: &str, prefix: &[&str]) -> Run {
    let argv: Vec<&str> = args.split_whitespace().collect();
    let ours_path = applet(tool);
    for _ in 0..5 {
        flush_pmtu(p);
        let mut a = vec![reference];
        a.extend(&argv);
        let before = exec(&p.c, &a);
        flush_pmtu(p);
        let mut o: Vec<&str> = prefix.to_vec();
        o.push(ours_path.to_str().unwrap());
        o.extend(&argv);
        let ours = exec(&p.c, &o);
        flush_pmtu(p);
        let after = exec(&p.c, &a);
        if no_times(&before.stdout) != no_times(&after.stdout) {
            continue;
        }
        assert_eq!(
            no_times(&ours.stdout),
            no_times(&before.stdout),
            "`{tool} {args}` differs from {reference}\nours:\n{}{}\ntheirs:\n{}",
            ours.stdout,
            ours.stderr,
            before.stdout
        );
        return ours;
    }
    panic!("the reference `{reference} {args}` kept changing");
}

#[test]
fn traceroute_as_traceroute_2_1() {
    let p = path();
    for (args, code) in [
        ("-n 10.3.0.2", 0),
        ("-n -I 10.3.0.2", 0),
        ("-n -T -p 80 10.3.0.2", 0),
        ("-n -6 fd03::2", 0),
        ("-n -I fd03::2", 0),
        ("-n -T fd03::2", 0),
        ("-n -q 1 -N 1 -f 2 10.3.0.2", 0),
        ("-n 10.9.0.5", 1),
        ("-n -I 10.8.0.5", 1),
        ("-n -T 10.6.0.5", 1),
        ("-n fd09::5", 1),
        ("-n fd07::5", 1),
        ("-n -I fd06::5", 1),
        ("-n -m 4 -w 0.3 10.7.0.5", 1),
        // Through the ClusterIP: r1 rewrites it, and answers come back as from it.
        ("-n -T -p 80 10.96.0.10", 0),
    ] {
        let r = compare(&p, "traceroute", "traceroute", args, &[]);
        assert_eq!(r.code, code, "traceroute {args}: {}", r.stderr);
    }
}

#[test]
fn traceroute_unprivileged_sees_the_same_hops() {
    let p = path();
    for args in [
        "-n 10.3.0.2",
        "-n -T 10.3.0.2",
        "-n -I 10.3.0.2",
        "-n -I fd09::5",
        "-n 10.9.0.5",
    ] {
        // The reference runs as root; debugbox as nobody with no capabilities.
        compare(&p, "traceroute", "traceroute", args, NOBODY);
    }
    // No ping sockets for nobody's group: -I names what is missing, UDP still works.
    sysctl(&p.c, &["net.ipv4.ping_group_range=1 0"]);
    let mut argv: Vec<&str> = NOBODY.to_vec();
    let tr = applet("traceroute");
    argv.extend([tr.to_str().unwrap(), "-n", "-I", "10.3.0.2"]);
    let r = exec(&p.c, &argv);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("CAP_NET_RAW") && r.stderr.contains("ping_group_range"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    argv.truncate(argv.len() - 2);
    argv.push("10.3.0.2");
    let r = exec(&p.c, &argv);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn traceroute_json_has_the_hops() {
    let p = path();
    let r = exec(
        &p.c,
        &[
            applet("traceroute").to_str().unwrap(),
            "-j",
            "-n",
            "-q",
            "2",
            "10.9.0.5",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["reached"], false);
    let hops = v["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 3);
    assert_eq!(hops[0]["probes"][0]["address"], "10.1.0.1");
    assert_eq!(hops[2]["probes"][1]["annotation"], "!H");
    assert!(hops[2]["probes"][1]["rtt_ms"].as_f64().unwrap() >= 0.0);
}

#[test]
fn tracepath_as_iputils() {
    let p = path();
    for (args, code) in [
        ("-n 10.3.0.2", 0),
        ("-n -6 fd03::2", 0),
        ("-n -l 1000 10.3.0.2", 0),
        ("-n -m 2 10.3.0.2", 1),
        ("-n 10.9.0.5", 1),
        ("-n 10.6.0.5", 1),
        ("-n fd08::5", 1),
        ("-n -m 3 10.7.0.5", 1),
    ] {
        let r = compare(&p, "tracepath", "tracepath", args, &[]);
        assert_eq!(r.code, code, "tracepath {args}: {}", r.stderr);
    }
    // The lowered MTU on the last link is found, by nobody too.
    let r = compare(&p, "tracepath", "tracepath", "-n 10.3.0.2", NOBODY);
    assert!(
        r.stdout.contains("pmtu 1400") && r.stdout.contains("Resume: pmtu 1400 hops 3 back 3"),
        "{}",
        r.stdout
    );
    flush_pmtu(&p);
    let r = exec(
        &p.c,
        &[
            applet("tracepath").to_str().unwrap(),
            "-j",
            "-n",
            "10.3.0.2",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (
            v["pmtu"].as_u64(),
            v["hops"].as_u64(),
            v["reached"].as_bool()
        ),
        (Some(1400), Some(3), Some(true))
    );
}

/// mtr's report rows without the round trips: hop, host, Loss%, Snt.
fn mtr_rows(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with("Start:"))
        .map(|l| {
            if l.starts_with("HOST:") {
                return l.to_string();
            }
            l.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

#[test]
fn mtr_report_as_mtr_0_95() {
    let p = path();
    let ours = applet("mtr");
    for (args, code) in [
        ("-r -n -c 2 -i 0.2 10.3.0.2", 0),
        ("-r -n -c 2 -i 0.2 -u 10.3.0.2", 0),
        ("-r -n -c 2 -i 0.2 -T -P 80 10.3.0.2", 0),
        ("-r -n -c 2 -i 0.2 fd03::2", 0),
        ("-r -n -c 2 -i 0.2 10.9.0.5", 1),
        ("-r -n -c 1 -i 0.2 10.7.0.5", 1),
        ("-r -w -n -c 1 -i 0.2 -o LDRSNBAWV 10.3.0.2", 0),
    ] {
        let argv: Vec<&str> = args.split_whitespace().collect();
        let mut a = vec!["mtr"];
        a.extend(&argv);
        let theirs = exec(&p.c, &a);
        let mut o = vec![ours.to_str().unwrap()];
        o.extend(&argv);
        let r = exec(&p.c, &o);
        assert_eq!(r.code, code, "mtr {args}: {}", r.stderr);
        assert!(r.stdout.starts_with("Start: "), "{}", r.stdout);
        assert_eq!(
            mtr_rows(&r.stdout),
            mtr_rows(&theirs.stdout),
            "mtr {args}\nours:\n{}\ntheirs:\n{}",
            r.stdout,
            theirs.stdout
        );
    }
    let r = exec(
        &p.c,
        &[
            ours.to_str().unwrap(),
            "-j",
            "-n",
            "-c",
            "1",
            "-i",
            "0.2",
            "10.3.0.2",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let hubs = v["report"]["hubs"].as_array().unwrap();
    assert_eq!(hubs.len(), 3);
    assert_eq!(
        (hubs[2]["host"].as_str(), hubs[2]["Snt"].as_u64()),
        (Some("10.3.0.2"), Some(1))
    );
}
