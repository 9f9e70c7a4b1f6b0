//! `ping` against iputils on the namespace lab: raw sockets as root, datagram sockets as an
//! unprivileged user with no capabilities, TCP probes, unreachable hosts and ClusterIPs.

mod common;
use common::*;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// What a ping run said, reduced to what must agree with iputils.
#[derive(Debug, PartialEq)]
struct Summary {
    header: String,
    /// (seq, ttl) of each reply line.
    replies: Vec<(u32, Option<u32>)>,
    errors: Vec<String>,
    transmitted: u32,
    received: u32,
    loss: String,
    has_rtt_line: bool,
    code: i32,
}

fn parse(r: &Run) -> Summary {
    let mut s = Summary {
        header: r.stdout.lines().next().unwrap_or("").to_string(),
        replies: vec![],
        errors: vec![],
        transmitted: 0,
        received: 0,
        loss: String::new(),
        has_rtt_line: false,
        code: r.code,
    };
    for line in r.stdout.lines() {
        if line.contains(" bytes from ") || line.starts_with("from ") {
            let field = |k: &str| {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix(k))
                    .and_then(|v| v.parse::<u32>().ok())
            };
            let seq = field("icmp_seq=")
                .or_else(|| field("tcp_seq="))
                .expect("a sequence number");
            let time = line.split("time=").nth(1).expect("a time");
            let ms: f64 = time
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .expect("a numeric time");
            assert!(ms >= 0.0, "{line}");
            s.replies.push((seq, field("ttl=")));
        } else if line.starts_with("From ") {
            // "From ADDR icmp_seq=N TEXT": keep the text.
            s.errors
                .push(line.splitn(4, ' ').nth(3).unwrap_or("").to_string());
        } else if line.contains("packets transmitted") {
            let nums: Vec<u32> = line
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|w| w.parse().ok())
                .collect();
            s.transmitted = nums[0];
            s.received = nums[1];
            s.loss = line
                .split(", ")
                .find(|p| p.ends_with("packet loss"))
                .unwrap_or("")
                .to_string();
        } else if line.starts_with("rtt min/avg/max/mdev = ") {
            s.has_rtt_line = true;
        }
    }
    s
}

/// iputils ping without its file capability, so that an unprivileged user gets a ping socket.
fn iputils_nocap() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        // Named `ping`: iputils reads a name ending in 4 or 6 as ping4/ping6.
        let dir = std::env::temp_dir().join(format!("iputils-nocap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dst = dir.join("ping");
        std::fs::copy("/usr/bin/ping", &dst).expect("iputils-ping is installed");
        dst
    })
    .clone()
}

fn as_nobody(lab: &Lab, host: &str, argv: &[&str]) -> Run {
    let mut all: Vec<&str> = NOBODY.to_vec();
    all.extend_from_slice(argv);
    lab.exec(host, &all)
}

fn ours(lab: &Lab, args: &[&str]) -> Run {
    lab.applet("debug", "ping", args)
}

fn theirs(lab: &Lab, args: &[&str]) -> Run {
    let mut argv = vec!["ping"];
    argv.extend_from_slice(args);
    lab.exec("debug", &argv)
}

fn compare(a: &Run, b: &Run, what: &str) {
    let (x, y) = (parse(a), parse(b));
    assert_eq!(
        x, y,
        "{what}\n--- debugbox:\n{}{}\n--- iputils:\n{}{}",
        a.stdout, a.stderr, b.stdout, b.stderr
    );
}

#[test]
fn raw_socket_as_root_matches_iputils() {
    let lab = lab();
    for target in [
        "10.244.1.10",
        "10.244.2.10",
        "fd00:10:244:2::10",
        "-6 fd00:10:244:1::10",
        "web.default.svc.cluster.local -c 1 -W 1",
    ] {
        let mut args: Vec<&str> = vec!["-c", "3", "-i", "0.2"];
        args.extend(target.split_whitespace());
        let a = ours(&lab, &args);
        let b = theirs(&lab, &args);
        compare(&a, &b, target);
    }
    // It really used a raw socket.
    let j = ours(&lab, &["-j", "-c", "1", "10.244.1.10"]);
    let start: serde_json::Value = serde_json::from_str(j.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(start["probe"], "icmp (raw socket)", "{}", j.stdout);
}

#[test]
fn datagram_socket_unprivileged_matches_iputils() {
    let lab = lab();
    let ping = applet("ping");
    let nocap = iputils_nocap();
    for target in [
        "10.244.2.10",
        "fd00:10:244:2::10",
        "10-244-1-10.default.pod.cluster.local",
    ] {
        let mut a_args: Vec<&str> = vec![ping.to_str().unwrap(), "-c", "3", "-i", "0.2"];
        a_args.extend(target.split_whitespace());
        let mut b_args: Vec<&str> = vec![nocap.to_str().unwrap(), "-c", "3", "-i", "0.2"];
        b_args.extend(target.split_whitespace());
        let a = as_nobody(&lab, "debug", &a_args);
        let b = as_nobody(&lab, "debug", &b_args);
        compare(&a, &b, target);
        assert_eq!(parse(&a).received, 3, "{}", a.stdout);
    }
    let j = as_nobody(
        &lab,
        "debug",
        &[ping.to_str().unwrap(), "-j", "-c", "1", "10.244.1.10"],
    );
    assert!(
        j.stdout.contains("\"probe\":\"icmp (datagram socket)\""),
        "{}",
        j.stdout
    );
}

#[test]
fn no_icmp_socket_at_all_says_why_and_tcp_still_works() {
    let lab = lab();
    // web2's namespace is ours to change: no group may open ping sockets there.
    let host = "web2";
    let restore = lab
        .exec(host, &["sysctl", "-n", "net.ipv4.ping_group_range"])
        .stdout;
    lab.exec(host, &["sysctl", "-qw", "net.ipv4.ping_group_range=1 0"]);
    let ping = applet("ping");
    let r = as_nobody(
        &lab,
        host,
        &[ping.to_str().unwrap(), "-c", "1", "10.244.1.10"],
    );
    let t = as_nobody(
        &lab,
        host,
        &[
            ping.to_str().unwrap(),
            "-c",
            "2",
            "-i",
            "0.2",
            "--tcp",
            "8080",
            "10.244.1.10",
        ],
    );
    lab.exec(
        host,
        &[
            "sysctl",
            "-qw",
            &format!(
                "net.ipv4.ping_group_range={}",
                restore.trim().replace('\t', " ")
            ),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("CAP_NET_RAW"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("ping_group_range (1 0) excludes gid 65534"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--tcp PORT"), "{}", r.stderr);
    assert_eq!(t.code, 0, "{}{}", t.stdout, t.stderr);
    assert_eq!(parse(&t).replies.len(), 2, "{}", t.stdout);
}

#[test]
fn host_that_does_not_exist() {
    let lab = lab();
    // Nobody answers ARP for .99: after a few seconds the kernel reports Host Unreachable.
    let args = ["-c", "4", "-i", "1", "-w", "6", "10.244.1.99"];
    let a = ours(&lab, &args);
    let b = theirs(&lab, &args);
    let (x, y) = (parse(&a), parse(&b));
    assert_eq!(x.code, 1);
    assert_eq!(y.code, 1);
    assert_eq!(x.received, 0);
    assert!(
        !x.errors.is_empty(),
        "no Destination Host Unreachable:\n{}",
        a.stdout
    );
    assert!(
        x.errors.iter().all(|e| e == "Destination Host Unreachable"),
        "{:?}",
        x.errors
    );
    assert_eq!(
        x.errors.iter().collect::<std::collections::HashSet<_>>(),
        y.errors.iter().collect(),
        "{}\n{}",
        a.stdout,
        b.stdout
    );
    assert_eq!(x.header, y.header);
    // -W: one probe, one second of waiting, then the summary, like iputils.
    let a = ours(&lab, &["-c", "1", "-W", "1", "10.244.1.99"]);
    let b = theirs(&lab, &["-c", "1", "-W", "1", "10.244.1.99"]);
    compare(&a, &b, "-W 1");
    // -w: probes keep going until the deadline, then exit 1.
    let a = parse(&ours(&lab, &["-i", "0.5", "-w", "2", "10.244.1.98"]));
    let b = parse(&theirs(&lab, &["-i", "0.5", "-w", "2", "10.244.1.98"]));
    assert_eq!((a.code, a.received), (1, 0));
    assert!(a.transmitted.abs_diff(b.transmitted) <= 1, "{a:?} vs {b:?}");
}

#[test]
fn clusterip_loses_everything_says_so_and_tcp_works() {
    let lab = lab();
    let a = ours(&lab, &["-c", "2", "-i", "0.2", "-W", "1", "10.96.0.100"]);
    let b = theirs(&lab, &["-c", "2", "-i", "0.2", "-W", "1", "10.96.0.100"]);
    compare(&a, &b, "ClusterIP");
    assert_eq!(a.code, 1);
    assert!(
        a.stderr
            .contains("web.default.svc.cluster.local, a Service ClusterIP"),
        "{}",
        a.stderr
    );
    assert!(a.stderr.contains("ping --tcp PORT"), "{}", a.stderr);
    let t = ours(
        &lab,
        &["-c", "3", "-i", "0.2", "--tcp", "3000", "10.96.0.100"],
    );
    assert_eq!(t.code, 0, "{}{}", t.stdout, t.stderr);
    let p = parse(&t);
    assert_eq!(
        p.replies.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(
        t.stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("from 10.96.0.100:3000: tcp_seq=1 time="),
        "{}",
        t.stdout
    );
    // By name, through the search list.
    let t = ours(&lab, &["-c", "1", "--tcp", "3000", "web"]);
    assert_eq!(t.code, 0, "{}{}", t.stdout, t.stderr);
    // glibc's order puts the ULA IPv6 ClusterIP first here; either family is the Service.
    let header = t.stdout.lines().next().unwrap();
    assert!(
        header.starts_with("PING web.default.svc.cluster.local (")
            && header.contains(") port 3000:"),
        "{header}"
    );
    assert!(
        header.contains("10.96.0.100") || header.contains("fd00:10:96::100"),
        "{header}"
    );
    // A closed port on a live pod is a reply, and says so.
    let t = ours(&lab, &["-c", "1", "--tcp", "9999", "10.244.1.10"]);
    assert_eq!(t.code, 0, "{}", t.stdout);
    assert!(t.stdout.contains("connection refused"), "{}", t.stdout);
}

#[test]
fn names_resolve_like_glibc() {
    let lab = lab();
    for (args, what) in [
        (
            vec!["-c", "1", "10-244-2-10.default.pod.cluster.local"],
            "FQDN",
        ),
        (
            vec!["-c", "1", "-n", "10-244-2-10.default.pod.cluster.local"],
            "-n",
        ),
        (
            vec!["-c", "1", "-W", "1", "web.default"],
            "svc.ns through the search list",
        ),
    ] {
        compare(&ours(&lab, &args), &theirs(&lab, &args), what);
    }
    let a = ours(&lab, &["-c", "1", "no-such-service"]);
    let b = theirs(&lab, &["-c", "1", "no-such-service"]);
    assert_eq!((a.code, b.code), (2, 2));
    let theirs_msg = b.stderr.trim().trim_start_matches("ping: ");
    assert!(
        a.stderr.contains(theirs_msg),
        "ours: {} iputils: {}",
        a.stderr,
        b.stderr
    );
}

#[test]
fn timestamps_quiet_and_outstanding() {
    let lab = lab();
    let r = ours(&lab, &["-D", "-c", "1", "10.244.1.10"]);
    let line = r.stdout.lines().nth(1).unwrap();
    assert!(
        line.starts_with('[') && line.contains("] 64 bytes from 10.244.1.10"),
        "{line}"
    );
    let r = ours(&lab, &["-q", "-c", "2", "-i", "0.2", "10.244.1.10"]);
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.contains("bytes from"))
            .count(),
        0
    );
    assert_eq!(parse(&r).received, 2);
    let r = ours(
        &lab,
        &["-O", "-c", "2", "-i", "0.3", "-W", "1", "10.96.0.100"],
    );
    assert!(
        r.stdout.contains("no answer yet for icmp_seq=1"),
        "{}",
        r.stdout
    );
}

#[test]
fn usage_errors_do_not_need_a_network() {
    for args in [
        vec!["-c", "0", "x"],
        vec!["-s", "99999", "x"],
        vec!["--tcp", "70000", "x"],
        vec![],
    ] {
        let r = run(Command::new(applet("ping")).args(&args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
    }
}

#[test]
fn path_mtu_discovery_modes_as_iputils() {
    // Two namespaces of the test's own joined by a veth with MTU 1400.
    let a = Scratch::new("pmtu-a");
    let b = Scratch::new("pmtu-b");
    a.ip(&format!("link add pa type veth peer name pb netns {}", b.0));
    a.ip("addr add 10.77.0.1/24 dev pa");
    b.ip("addr add 10.77.0.2/24 dev pb");
    a.ip("link set pa mtu 1400 up");
    b.ip("link set pb mtu 1400 up");
    let go = |prog: &std::ffi::OsStr, args: &str| {
        let mut argv = vec![prog];
        argv.extend(args.split_whitespace().map(std::ffi::OsStr::new));
        in_netns(&a.0, &argv)
    };
    let ours = applet("ping");
    for args in [
        "-M do -s 1500 -c 2 -i 0.2 10.77.0.2",
        "-M want -s 1500 -c 2 -i 0.2 10.77.0.2",
        "-M dont -s 1500 -c 2 -i 0.2 10.77.0.2",
        "-M do -s 1300 -c 1 10.77.0.2",
    ] {
        let (x, y) = (go(ours.as_os_str(), args), go("ping".as_ref(), args));
        compare(&x, &y, args);
        // The local errors ("message too long, mtu=1400") are said the same way, once each.
        assert_eq!(x.stderr, y.stderr, "ping {args}");
    }
    // iputils 20221126 takes only do, dont and want (its usage names probe, its parser does
    // not); debugbox takes probe too (IP_PMTUDISC_PROBE: send as is, ignore the path MTU).
    let r = go(ours.as_os_str(), "-M probe -s 1300 -c 1 10.77.0.2");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = go(ours.as_os_str(), "-M bogus 10.77.0.2");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("debugbox ping: invalid -M argument: bogus"),
        "{}",
        r.stderr
    );
}
