//! `iperf3` against Debian's iperf3 3.12 across a veth between two namespaces of the test's own:
//! the debugbox client against iperf3's server and iperf3's client against the debugbox server,
//! TCP, -R, -P 4, UDP with -b, --bidir, -O and -J, each compared with iperf3 against iperf3 (the same
//! report lines with the numbers taken out); then a busy server, a refused port, a server that
//! dies mid-test, a non-root client and bad flags.

mod common;
use common::*;
use serde_json::Value;
use std::process::Command;

/// A client namespace (10.201.0.1, fd00:201::1) and a server namespace (.2, ::2) on one veth;
/// iperf3's server listens on 5201 and debugbox's on 5202.
struct Pair {
    cli: Scratch,
    srv: Scratch,
}

impl Pair {
    fn new(tag: &str) -> Pair {
        let cli = Scratch::new(&format!("{tag}c"));
        let srv = Scratch::new(&format!("{tag}s"));
        cli.ip(&format!(
            "link add eth0 type veth peer name eth0 netns {}",
            srv.0
        ));
        for (ns, n) in [(&cli, 1), (&srv, 2)] {
            ns.ip(&format!("addr add 10.201.0.{n}/24 dev eth0"));
            ns.ip(&format!("addr add fd00:201::{n}/64 dev eth0 nodad"));
            ns.ip("link set eth0 up");
        }
        let banner = srv.spawn(&["iperf3", "-s", "-p", "5201", "--forceflush"]);
        assert!(banner.starts_with("-----"), "{banner}");
        let ours = applet("iperf3");
        let banner = srv.spawn(&[ours.to_str().unwrap(), "-s", "-p", "5202"]);
        assert!(banner.starts_with("-----"), "{banner}");
        Pair { cli, srv }
    }

    /// Run in the client namespace (bounded: a hang fails the test instead of stalling it).
    fn client(&self, prog: &str, args: &[&str]) -> Run {
        let mut argv = vec!["timeout", "60", prog];
        argv.extend_from_slice(args);
        let r = run(Command::new("ip")
            .args(["netns", "exec", &self.cli.0])
            .args(&argv));
        assert_ne!(r.code, 124, "{prog} {args:?} hung");
        r
    }

    fn ours(&self, args: &[&str]) -> Run {
        let path = applet("iperf3");
        self.client(path.to_str().unwrap(), args)
    }

    fn reference(&self, args: &[&str]) -> Run {
        self.client("iperf3", args)
    }
}

/// A report with its numbers taken out: what must be the same whichever tool produced it.
/// Socket numbers, ports, figures and units vary from run to run; the lines, columns and words
/// do not.
fn shape(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let mut out = String::new();
            let mut last_num = false;
            for w in l.split_whitespace() {
                let num = w
                    .trim_matches(|c| "[]()%/-".contains(c))
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit());
                let unit = [
                    "Bytes",
                    "KBytes",
                    "MBytes",
                    "GBytes",
                    "bits/sec",
                    "Kbits/sec",
                    "Mbits/sec",
                    "Gbits/sec",
                ]
                .contains(&w);
                if num || unit {
                    if !last_num {
                        out.push_str(" #");
                    }
                    last_num = true;
                } else {
                    out.push(' ');
                    out.push_str(w);
                    last_num = false;
                }
            }
            out
        })
        .collect()
}

/// The debugbox client against iperf3's server, next to iperf3's client against the same
/// server: same exit code, same report shape.
#[test]
fn client_against_iperf3_server_reports_as_iperf3() {
    let p = Pair::new("ipc");
    for args in [
        &["-t", "1"][..],
        &["-t", "1", "-R"],
        &["-t", "1", "-P", "4"],
        &["-t", "1", "-u", "-b", "10M"],
        &["-t", "1", "-u", "-b", "20M", "-R", "-l", "1200"],
        &["-t", "1", "--bidir"],
        &["-n", "50M", "-i", "0"],
        &["-t", "2", "-O", "1"],
    ] {
        let mut a = vec!["-c", "10.201.0.2", "-p", "5201"];
        a.extend_from_slice(args);
        let ours = p.ours(&a);
        let reference = p.reference(&a);
        assert_eq!(ours.code, 0, "{args:?}: {}{}", ours.stdout, ours.stderr);
        assert_eq!(reference.code, 0, "{args:?}: {}", reference.stderr);
        assert_eq!(
            shape(&ours.stdout),
            shape(&reference.stdout),
            "{args:?}\nours:\n{}\niperf3:\n{}",
            ours.stdout,
            reference.stdout
        );
    }
    // IPv6, by address.
    let r = p.ours(&["-c", "fd00:201::2", "-p", "5201", "-t", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("connected to fd00:201::2 port 5201"),
        "{}",
        r.stdout
    );
}

/// -J in iperf3's shape: the keys scripts read, with figures that add up.
#[test]
fn json_has_the_keys_scripts_read() {
    let p = Pair::new("ipj");
    for (port, args) in [
        ("5201", &["-t", "1", "-P", "2", "-J"][..]),
        ("5202", &["-t", "1", "-P", "2", "-J"]),
        ("5201", &["-t", "1", "-u", "-b", "5M", "-J"]),
    ] {
        let mut a = vec!["-c", "10.201.0.2", "-p", port];
        a.extend_from_slice(args);
        for (who, r) in [("ours", p.ours(&a)), ("iperf3", p.reference(&a))] {
            assert_eq!(r.code, 0, "{who} {a:?}: {}", r.stderr);
            let v: Value = serde_json::from_str(&r.stdout)
                .unwrap_or_else(|e| panic!("{who} {a:?}: not JSON ({e}): {}", r.stdout));
            let streams = if a.contains(&"-P") { 2 } else { 1 };
            assert_eq!(
                v["start"]["connected"].as_array().map(Vec::len),
                Some(streams),
                "{who}"
            );
            assert_eq!(v["start"]["test_start"]["num_streams"], streams, "{who}");
            assert!(!v["intervals"].as_array().unwrap().is_empty(), "{who}");
            assert_eq!(
                v["end"]["streams"].as_array().map(Vec::len),
                Some(streams),
                "{who}"
            );
            let sent = v["end"]["sum_sent"]["bytes"].as_u64().unwrap();
            let received = v["end"]["sum_received"]["bytes"].as_u64().unwrap();
            assert!(
                sent > 0 && received > 0 && received <= sent,
                "{who}: {sent} {received}"
            );
            assert!(v["end"]["sum_sent"]["bits_per_second"].as_f64().unwrap() > 0.0);
            assert!(
                v["end"]["cpu_utilization_percent"]["host_total"].is_number(),
                "{who}"
            );
            assert!(v.get("error").is_none(), "{who}: {}", v["error"]);
        }
    }
}

/// iperf3's client against the debugbox server, next to the same client against iperf3's
/// server: same exit code and report shape on the client.
#[test]
fn iperf3_client_against_our_server() {
    let p = Pair::new("ips");
    for args in [
        &["-t", "1"][..],
        &["-t", "1", "-R"],
        &["-t", "1", "-P", "4"],
        &["-t", "1", "-u", "-b", "10M"],
        &["-t", "1", "-u", "-b", "10M", "-P", "2", "-R"],
        &["-t", "1", "--bidir"],
        &["-t", "1", "-6"],
        &["-t", "2", "-O", "1", "-u", "-b", "5M"],
    ] {
        let host = if args.contains(&"-6") {
            "fd00:201::2"
        } else {
            "10.201.0.2"
        };
        let with_port = |port: &'static str| {
            let mut a = vec!["-c", host, "-p", port];
            a.extend_from_slice(args);
            a
        };
        let ours = p.reference(&with_port("5202"));
        let theirs = p.reference(&with_port("5201"));
        assert_eq!(ours.code, 0, "{args:?}: {}{}", ours.stdout, ours.stderr);
        assert_eq!(theirs.code, 0, "{args:?}: {}", theirs.stderr);
        assert_eq!(
            shape(&ours.stdout),
            shape(&theirs.stdout),
            "{args:?}\nwith debugbox's server:\n{}\nwith iperf3's:\n{}",
            ours.stdout,
            theirs.stdout
        );
    }
    // Both clients of debugbox against the debugbox server.
    let r = p.ours(&[
        "-c",
        "10.201.0.2",
        "-p",
        "5202",
        "-t",
        "1",
        "-P",
        "2",
        "-u",
        "-b",
        "5M",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("0/"), "{}", r.stdout);
}

/// A busy server, a refused port and a server killed mid-test end with iperf3's errors and
/// exit codes; a client without any privilege works; bad flags are one line, exit 2.
#[test]
fn errors_as_iperf3() {
    let p = Pair::new("ipe");
    for port in ["5201", "5202"] {
        // A 3-second test holds the server; a second client hears it is busy.
        let path = applet("iperf3");
        let mut long = Command::new("ip")
            .args([
                "netns",
                "exec",
                &p.cli.0,
                "iperf3",
                "-c",
                "10.201.0.2",
                "-p",
                port,
                "-t",
                "3",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
        let ours = p.ours(&["-c", "10.201.0.2", "-p", port, "-t", "1"]);
        let reference = p.reference(&["-c", "10.201.0.2", "-p", port, "-t", "1"]);
        let _ = long.wait();
        let busy = "iperf3: error - the server is busy running a test. try again later\n";
        assert_eq!(
            (ours.code, ours.stderr.as_str()),
            (1, busy),
            "port {port} ({path:?})"
        );
        assert_eq!(
            (reference.code, reference.stderr.as_str()),
            (1, busy),
            "port {port}"
        );
    }
    let refused = "iperf3: error - unable to connect to server: Connection refused\n";
    let ours = p.ours(&["-c", "10.201.0.2", "-p", "5999"]);
    let reference = p.reference(&["-c", "10.201.0.2", "-p", "5999"]);
    assert_eq!((ours.code, ours.stderr.as_str()), (1, refused));
    assert_eq!((reference.code, reference.stderr.as_str()), (1, refused));
    // Under -J the error is in the document (and debugbox still exits 1).
    let j = p.ours(&["-c", "10.201.0.2", "-p", "5999", "-J"]);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(
        v["error"],
        "unable to connect to server: Connection refused"
    );
    assert_eq!(j.code, 1);

    // A server that dies a second into a 5-second test: the client ends with an error, no hang.
    let ours = applet("iperf3");
    let pid = p.srv.spawn(&[
        "sh",
        "-c",
        &format!("echo ready $$; exec {} -s -p 5203", ours.display()),
    ]);
    let pid = pid.split_whitespace().nth(1).unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let killer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let _ = Command::new("kill").args(["-9", &pid]).output();
    });
    let r = p.ours(&["-c", "10.201.0.2", "-p", "5203", "-t", "5"]);
    killer.join().unwrap();
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.starts_with("iperf3: error - "), "{}", r.stderr);

    // No privilege at all: the same test as nobody.
    let path = applet("iperf3");
    let mut argv: Vec<&str> = NOBODY.to_vec();
    argv.extend([
        path.to_str().unwrap(),
        "-c",
        "10.201.0.2",
        "-p",
        "5201",
        "-t",
        "1",
        "-u",
        "-b",
        "2M",
    ]);
    let r = run(Command::new("ip")
        .args(["netns", "exec", &p.cli.0])
        .args(&argv));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // Bad flags: one line, exit 2.
    for bad in [
        &["-c"][..],
        &["-s", "-c", "x"],
        &["-c", "x", "-P", "0"],
        &["-c", "x", "-b", "fast"],
    ] {
        let r = p.ours(bad);
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{bad:?}: {}", r.stderr);
    }
}
