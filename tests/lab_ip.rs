//! `ip` against iproute2 on the namespace lab: same text, same JSON, same errors' exit codes.

mod common;
use common::*;

/// Run iproute2, then debugbox, then iproute2 again in `host`; when the two iproute2 runs agree
/// (counters and neighbour states can move between runs), debugbox must print exactly the same.
fn same_as_iproute2(lab: &Lab, host: &str, args: &str) {
    let argv: Vec<&str> = args.split_whitespace().collect();
    let mut ip = vec!["ip"];
    ip.extend(&argv);
    for _ in 0..10 {
        let before = lab.exec(host, &ip);
        let ours = lab.applet(host, "ip", &argv);
        let after = lab.exec(host, &ip);
        assert_eq!(
            before.code, 0,
            "iproute2 `ip {args}` failed in {host}: {}",
            before.stderr
        );
        if before.stdout != after.stdout {
            continue;
        }
        assert_eq!(
            ours.code, 0,
            "debugbox `ip {args}` failed in {host}: {}",
            ours.stderr
        );
        assert_eq!(
            ours.stdout, before.stdout,
            "`ip {args}` in {host} differs from iproute2"
        );
        assert!(
            !ours.stdout.is_empty() || args.contains("neigh"),
            "`ip {args}` printed nothing"
        );
        return;
    }
    panic!("iproute2's `ip {args}` output kept changing in {host}");
}

const FORMS: &[&str] = &[
    "r",
    "route",
    "ro show",
    "-6 r",
    "-4 route list",
    "r show table all",
    "-6 r show table all",
    "r show dev eth0",
    "r show default",
    "r show root 10.0.0.0/8",
    "r show match 10.244.2.10",
    "r show proto kernel",
    "r show scope link",
    "a",
    "addr show",
    "a show eth0",
    "a show dev lo",
    "-4 a",
    "-6 a",
    "a show up",
    "a show scope global",
    "a show to 10.244.0.0/16",
    "a show to fd00:10:244::/48",
    "-6 a show eth0",
    "-br a",
    "-br -4 a",
    "-br link",
    "link",
    "l show eth0",
    "-s link",
    "-s -s link",
    "-s a",
    "-o a",
    "-o link",
    "-0 a",
    "neigh",
    "-6 neigh",
    "n show dev eth0",
    "route get 10.244.2.10",
    "route get 10.96.0.100",
    "route get 10.244.1.10 from 10.244.1.5",
    "-6 route get fd00:10:244:2::10",
    "r g 172.18.0.12 oif eth0",
    "-d link show lo",
    "-d a show eth0",
];

#[test]
fn text_matches_iproute2_in_a_pod() {
    let lab = lab();
    // Fill the neighbour tables so `ip neigh` has something to show.
    lab.exec("debug", &["ping", "-c1", "-W1", "10.244.1.10"]);
    lab.exec("debug", &["ping", "-c1", "-W1", "fd00:10:244:1::10"]);
    for form in FORMS {
        same_as_iproute2(&lab, "debug", form);
    }
}

#[test]
fn json_matches_iproute2_in_a_pod() {
    let lab = lab();
    lab.exec("debug", &["ping", "-c1", "-W1", "10.244.1.1"]);
    for form in FORMS {
        same_as_iproute2(&lab, "debug", &format!("-j {form}"));
    }
    for form in [
        "a",
        "r",
        "-6 r",
        "link",
        "route get 10.96.0.100",
        "-s link",
        "neigh",
    ] {
        same_as_iproute2(&lab, "debug", &format!("-j -p {form}"));
    }
}

#[test]
fn node_view_matches_iproute2() {
    let lab = lab();
    // A node has a bridge, veths to pods in other namespaces, a blackhole and gateway routes.
    for form in [
        "a",
        "-br a",
        "link",
        "r",
        "-6 r",
        "r show table all",
        "-j a",
        "-j r",
        "-j -p link",
        "route get 10.244.2.10",
        "-o link",
    ] {
        same_as_iproute2(&lab, "node1", form);
    }
}

#[test]
fn pod_eth0_shows_its_peer_namespace() {
    let lab = lab();
    let r = lab.applet("debug", "ip", &["link", "show", "eth0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("eth0@if"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("link-netns {}", lab.ns("node1"))),
        "{}",
        r.stdout
    );
}

#[test]
fn errors_match_iproute2_exit_codes_as_ours() {
    let lab = lab();
    // Unknown device: iproute2 says `Device "nosuch" does not exist.`; we say the same, exit 2.
    let r = lab.applet("debug", "ip", &["a", "show", "nosuch"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.trim(),
        "debugbox ip: Device \"nosuch\" does not exist."
    );
    let r = lab.applet("debug", "ip", &["route", "show", "dev", "nosuch"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.trim(),
        "debugbox ip: Cannot find device \"nosuch\""
    );
    // A blackholed ClusterIP: the kernel refuses the lookup on the node, as with iproute2.
    let ours = lab.applet("node1", "ip", &["route", "get", "10.96.0.100"]);
    let theirs = lab.exec("node1", &["ip", "route", "get", "10.96.0.100"]);
    assert_ne!(theirs.code, 0);
    assert_eq!(ours.code, 2);
    assert_eq!(
        ours.stderr.trim(),
        format!("debugbox ip: {}", theirs.stderr.trim())
    );
}

#[test]
fn read_only_verbs_change_nothing() {
    let lab = lab();
    let before = lab.exec("debug", &["ip", "-j", "a"]).stdout;
    for cmd in [
        "addr add 10.9.9.9/32 dev lo",
        "route add 10.9.0.0/16 dev eth0",
        "link set eth0 down",
        "neigh flush all",
        "route flush table main",
    ] {
        let argv: Vec<&str> = cmd.split_whitespace().collect();
        let r = lab.applet("debug", "ip", &argv);
        assert_eq!(r.code, 2, "{cmd}");
        assert!(
            r.stderr.contains("debugbox is read-only"),
            "{cmd}: {}",
            r.stderr
        );
    }
    assert_eq!(lab.exec("debug", &["ip", "-j", "a"]).stdout, before);
    assert!(!lab.exec("debug", &["ip", "r"]).stdout.contains("10.9.0.0"));
}

#[test]
fn works_without_privileges() {
    let lab = lab();
    // Reading routes and addresses needs no capability: run as nobody with none.
    let path = applet("ip");
    let r = lab.exec(
        "debug",
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            path.to_str().unwrap(),
            "-br",
            "a",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("10.244.1.5/24"), "{}", r.stdout);
}
