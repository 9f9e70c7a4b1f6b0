//! `ip` against iproute2 on the namespace lab: same text, same JSON, same errors' exit codes.

mod common;
use common::*;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::process::Command;

/// Run iproute2, then debugbox, then iproute2 again in `host`; when the two iproute2 runs agree
/// (counters and neighbour states can move between runs), debugbox must print exactly the same.
fn same_as_iproute2(lab: &Lab, host: &str, args: &str) {
    same_in_netns(&lab.ns(host), args);
}

fn same_in_netns(ns: &str, args: &str) {
    same_as_reference(ns, "ip", args);
}

fn same_in_netns_os(ns: &str, argv: &[&OsStr], norm: impl Fn(&str) -> String) {
    same_as_reference_os(ns, "ip", argv, norm);
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
        &[NOBODY, &[path.to_str().unwrap(), "-br", "a"]].concat(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("10.244.1.5/24"), "{}", r.stdout);
}

/// A namespace of the test's own, for what the pod lab does not have: link kinds, policy rules,
/// next-hop objects, proxy neighbours and interface names that are not UTF-8. Everything but
/// `a0` stays down, so bridge timers and counters do not move between runs.
#[test]
fn kinds_rules_nexthops_colour_and_odd_names_as_iproute2() {
    let ns = Scratch::new("ipx");
    for cmd in [
        "link set lo up",
        "link add v0 type veth peer name v1",
        "link add br0 type bridge",
        "link set v0 master br0",
        "link add vx0 type vxlan id 42 group 239.1.1.1 dev v1 dstport 4789 ttl 5 local 10.0.0.1",
        "link add mv0 link v1 type macvlan mode bridge",
        "link add mv1 link v1 type macvlan mode private",
        "link add a0 type veth peer name a1",
        "link set a0 up",
        "link set a1 up",
        "addr add 10.9.0.1/24 dev a0",
        "nexthop add id 1 via 10.9.0.2 dev a0",
        "nexthop add id 2 via 10.9.0.3 dev a0",
        "nexthop add id 3 group 1/2,5",
        "nexthop add id 4 blackhole",
        "nexthop add id 7 group 1 type resilient buckets 8",
        "route add 10.10.0.0/16 nhid 3",
        "rule add from 10.1.0.0/16 to 10.2.0.0/24 lookup 100 pref 100",
        "rule add not fwmark 0x10/0xff iif a0 lookup main pref 200",
        "rule add ipproto tcp dport 80-90 sport 5 uidrange 1000-2000 prohibit pref 300",
        "rule add oif a0 goto 32766 pref 400",
        "rule add tos 0x10 realms 3/4 table 7 pref 500 protocol static",
        "-6 rule add from fd00::/8 lookup 9 suppress_prefixlength 0",
        "rule add nop pref 700",
        "neigh add proxy 10.9.0.50 dev a0",
    ] {
        ns.ip(cmd);
    }
    // Names iproute2 prints byte for byte: a lone 0xff and a broken two-byte sequence.
    let bad = OsString::from_vec(b"bad\xff".to_vec());
    let peer = OsString::from_vec(b"p\xc3\x28".to_vec());
    ns.ip_os(&[
        "-n".into(),
        ns.0.clone().into(),
        "link".into(),
        "add".into(),
        bad.clone(),
        "type".into(),
        "veth".into(),
        "peer".into(),
        "name".into(),
        peer.clone(),
    ]);
    for form in [
        "-d link",
        "link",
        "-j link",
        "-br link",
        "a",
        "-j a",
        "r",
        "-c a",
        "-c -br a",
        "-c r",
        "-c link",
        "-N a",
        "-N r show table all",
        "-N -j r",
        "rule",
        "-6 rule",
        "-j rule",
        "-6 -j rule",
        "-d rule",
        "-N rule",
        "-c rule",
        "rule show pref 200",
        "rule show not",
        "rule show table 100",
        "rule show from 10.1.0.0/16",
        "rule list iif a0",
        "rule show ipproto tcp",
        "rule show dport 80-90",
        "rule show fwmark 0x10/0xff",
        "nexthop",
        "-j nexthop",
        "-d nexthop",
        "-c nexthop",
        "nexthop show id 3",
        "nexthop get id 7",
        "nexthop show dev a0",
        "nexthop show groups",
        "-d r",
        "-d -j r",
        "-d r get 10.10.1.1",
        "neigh show proxy",
        "-j neigh show proxy",
    ] {
        same_in_netns(&ns.0, form);
    }
    // iproute2 prints bridge timers in JSON as 0.00; as JSON numbers ours are the same.
    same_in_netns_os(&ns.0, &["-d", "-j", "link"].map(OsStr::new), |s| {
        s.replace(".00,", ".0,").replace(".00}", ".0}")
    });
    same_in_netns_os(
        &ns.0,
        &[OsStr::new("link"), OsStr::new("show"), &bad],
        |s| s.to_string(),
    );
    same_in_netns_os(
        &ns.0,
        &[OsStr::new("-j"), OsStr::new("a"), OsStr::new("show"), &peer],
        |s| s.to_string(),
    );
    // The names reach the output as the kernel's bytes, not as replacement characters.
    let ours = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(applet("ip"))
        .arg("link")
        .output()
        .unwrap();
    assert!(ours.stdout.windows(4).any(|w| w == b"bad\xff"));
    // A missing next hop is the kernel's answer, as with iproute2.
    let ip_path = applet("ip");
    let r = in_netns(
        &ns.0,
        &["nexthop", "show", "id", "99"].map(OsStr::new).iter().fold(
            vec![ip_path.as_os_str()],
            |mut v, a| {
                v.push(a);
                v
            },
        ),
    );
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.trim(),
        "debugbox ip: RTNETLINK answers: No such file or directory"
    );
    // Changing verbs of the new objects are refused and change nothing.
    for cmd in [
        "rule add pref 5 lookup 5",
        "nexthop flush",
        "nexthop add id 9 blackhole",
    ] {
        let argv: Vec<&str> = cmd.split_whitespace().collect();
        let ip_path = applet("ip");
        let mut full: Vec<&OsStr> = vec![ip_path.as_os_str()];
        full.extend(argv.iter().map(OsStr::new));
        let r = in_netns(&ns.0, &full);
        assert_eq!(r.code, 2, "{cmd}");
        assert!(r.stderr.contains("read-only"), "{cmd}: {}", r.stderr);
    }
    let rules = in_netns(&ns.0, &[OsStr::new("ip"), OsStr::new("rule")]).stdout;
    assert!(!rules.contains("lookup 5\n"));
}

/// A node at scale (scripts/lab scale: 5,000 links with addresses, 100,000 routes, 10,000
/// neighbours): every read-only form prints exactly what iproute2 prints, text and JSON.
#[test]
fn node_scale_tables_match_iproute2() {
    require_root();
    let name = format!("sc{}", std::process::id());
    struct Down(String);
    impl Drop for Down {
        fn drop(&mut self) {
            let _ = Command::new(repo().join("scripts/lab"))
                .args(["--name", &self.0, "down"])
                .output();
        }
    }
    let _down = Down(name.clone());
    let up = run(Command::new(repo().join("scripts/lab")).args(["--name", &name, "scale"]));
    assert_eq!(
        up.code, 0,
        "lab scale failed:\n{}\n{}",
        up.stdout, up.stderr
    );
    let ns = format!("{name}-scale");
    for form in [
        "r",
        "-6 r",
        "r show table all",
        "a",
        "-br a",
        "link",
        "-s link",
        "neigh",
    ] {
        same_in_netns(&ns, form);
        same_in_netns(&ns, &format!("-j {form}"));
    }
}
