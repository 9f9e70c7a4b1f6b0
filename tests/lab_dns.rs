//! `nslookup` and `dig` against bind's on the lab's cluster DNS (dnsmasq), and `--explain`
//! against the queries glibc really sends (captured with tcpdump).

mod common;
use common::*;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Remove what differs between two runs by nature: the message id, the times, the banner.
fn normalize(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("; <<>> ") {
                "; <<>> BANNER".to_string()
            } else if l.starts_with(";; WHEN: ") {
                ";; WHEN: T".to_string()
            } else if l.starts_with(";; Query time: ") {
                ";; Query time: T".to_string()
            } else if let Some(i) = l.find(", id: ") {
                format!("{}, id: N", &l[..i])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// dnsmasq rotates the order of records within a section, so compare sections as sets.
fn sections(text: &str) -> Vec<BTreeSet<String>> {
    let norm = normalize(text);
    let mut out = vec![BTreeSet::new()];
    for l in norm.lines() {
        if l.is_empty() {
            out.push(BTreeSet::new());
        } else {
            out.last_mut().unwrap().insert(l.to_string());
        }
    }
    out
}

fn both(lab: &Lab, tool: &str, args: &[&str]) -> (Run, Run) {
    let mut argv = vec![tool];
    argv.extend_from_slice(args);
    let theirs = lab.exec("debug", &argv);
    let ours = lab.applet("debug", tool, args);
    (ours, theirs)
}

fn same(lab: &Lab, tool: &str, args: &str) {
    let argv: Vec<&str> = args.split_whitespace().collect();
    let (ours, theirs) = both(lab, tool, &argv);
    assert_eq!(
        ours.code, theirs.code,
        "{tool} {args}: exit codes\nours:\n{}{}\nbind:\n{}{}",
        ours.stdout, ours.stderr, theirs.stdout, theirs.stderr
    );
    assert_eq!(
        sections(&ours.stdout),
        sections(&theirs.stdout),
        "{tool} {args}\n--- debugbox:\n{}\n--- bind:\n{}",
        ours.stdout,
        theirs.stdout
    );
}

#[test]
fn nslookup_matches_bind() {
    let lab = lab();
    for args in [
        "web",
        "web.default",
        "web.default.svc.cluster.local.",
        "-type=AAAA web",
        "-query=A web",
        "-type=SRV _http._tcp.web",
        "-type=PTR 100.0.96.10.in-addr.arpa",
        "10.96.0.100",
        "fd00:10:96::100",
        "nosuch",
        "nosuch.default",
        "api.example.com",
        "shop.example.com.",
        "web 10.244.1.53",
        "-type=MX web",
        "-type=TXT big",
        "-debug web",
        "-type=FOO web",
        "-port=5353 -timeout=1 -retry=1 web 10.244.1.53",
    ] {
        same(&lab, "nslookup", args);
    }
}

#[test]
fn dig_matches_bind() {
    let lab = lab();
    for args in [
        "web.default.svc.cluster.local",
        "AAAA web.default.svc.cluster.local",
        "+short web.default.svc.cluster.local",
        "-x 10.96.0.100",
        "+short -x fd00:10:96::100",
        "nosuch.default.svc.cluster.local",
        "+search web",
        "+search +short web.default",
        "web",
        "SRV _http._tcp.web.default.svc.cluster.local",
        "@10.244.1.53 -p 53 AAAA web.default.svc.cluster.local +tcp",
        "+noall +answer +search web.default",
        "+nocomments web.default.svc.cluster.local",
        "+norecurse web.default.svc.cluster.local +noall +answer +comments",
        "-t FOO web",
        "+short api.example.com",
    ] {
        same(&lab, "dig", args);
    }
}

#[test]
fn truncated_udp_answers_are_retried_over_tcp() {
    let lab = lab();
    // Without EDNS the 871-byte TXT answer does not fit in 512 bytes of UDP.
    same(&lab, "dig", "TXT big.default.svc.cluster.local +noedns");
    same(&lab, "nslookup", "-type=TXT big");
    let (ours, _) = both(
        &lab,
        "dig",
        &["TXT", "big.default.svc.cluster.local", "+noedns"],
    );
    assert!(
        ours.stdout
            .starts_with(";; Truncated, retrying in TCP mode."),
        "{}",
        ours.stdout
    );
    assert!(ours.stdout.contains("(TCP)"), "{}", ours.stdout);
}

#[test]
fn dead_and_closed_servers() {
    let lab = lab();
    // Nothing lives at .99: the tries time out; dig exits 9, nslookup 1, bounded by the flags.
    same(&lab, "dig", "+timeout=1 +tries=2 @10.244.1.99 web");
    same(&lab, "nslookup", "-timeout=1 -retry=1 web 10.244.1.99");
    // A live host with nothing on the port: ICMP port unreachable, "connection refused".
    same(&lab, "dig", "+timeout=1 +tries=1 @10.244.1.10 web");
}

#[test]
fn bad_input_fails_like_bind() {
    let lab = lab();
    let long_label = "a".repeat(64);
    let long_name = vec!["abcdefghij"; 26].join(".");
    for name in ["a..b", long_label.as_str(), long_name.as_str()] {
        same(&lab, "nslookup", name);
        same(&lab, "dig", name);
    }
    same(&lab, "dig", "+bogus web");
    let r = lab.applet("debug", "dig", &["-x", "not-an-address"]);
    assert_eq!(r.code, 10, "{}", r.stdout);
}

/// The names glibc asks the DNS for while resolving `name` (getent ahosts uses getaddrinfo),
/// in order, from a capture on the debug pod's eth0.
fn glibc_queries(lab: &Lab, name: &str) -> Vec<String> {
    let mut cap = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns("debug"),
            "tcpdump",
            "-l",
            "-nn",
            "-i",
            "eth0",
            "udp",
            "port",
            "53",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tcpdump");
    // Wait until tcpdump says it listens.
    let mut err = BufReader::new(cap.stderr.take().unwrap());
    let mut line = String::new();
    while err.read_line(&mut line).unwrap_or(0) > 0 && !line.contains("listening") {
        line.clear();
    }
    lab.exec("debug", &["getent", "ahosts", name]);
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill").arg(cap.id().to_string()).status();
    let out = cap.wait_with_output().unwrap();
    let mut names: Vec<String> = Vec::new();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        // "... > 10.96.0.10.53: 1234+ A? web.default.svc.cluster.local. (47)"
        let Some(q) = l.split(" A? ").nth(1).or_else(|| l.split(" AAAA? ").nth(1)) else {
            continue;
        };
        let n = q.split_whitespace().next().unwrap_or("").to_string();
        if names.last() != Some(&n) && !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

#[test]
fn explain_lists_the_candidates_glibc_tries() {
    let lab = lab();
    for name in [
        "web",
        "web.default",
        "api.example.com",
        "nosuch",
        "api.example.com.",
        "kubernetes.default",
    ] {
        let glibc = glibc_queries(&lab, name);
        assert!(!glibc.is_empty(), "no DNS queries captured for {name}");
        let r = lab.applet("debug", "nslookup", &["--explain", "-j", name]);
        let v: serde_json::Value =
            serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
        let ours: Vec<String> = v["explain"]["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        assert_eq!(ours, glibc, "{name}");
    }
}

#[test]
fn explain_findings_in_plain_words() {
    let lab = lab();
    let r = lab.applet("debug", "nslookup", &["--explain", "api.example.com"]);
    assert!(
        r.stdout
            .contains("has 2 dots < ndots:5: 3 search-list candidates went to NXDOMAIN"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("`api.example.com.`"), "{}", r.stdout);
    let r = lab.applet("debug", "nslookup", &["--explain", "web.default"]);
    assert!(
        r.stdout
            .contains("resolved through search domain `svc.cluster.local`"),
        "{}",
        r.stdout
    );
    let r = lab.applet("debug", "dig", &["+explain", "+short", "web"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with(";; ") && l.contains("<- answer")),
        "{}",
        r.stdout
    );
    let r = lab.applet(
        "debug",
        "nslookup",
        &["--explain", "-timeout=1", "web", "10.244.1.99"],
    );
    assert!(
        r.stdout.contains("the cluster DNS is unreachable"),
        "{}",
        r.stdout
    );
}

#[test]
fn batch_mode() {
    let lab = lab();
    let file = std::env::temp_dir().join(format!("debugbox-dig-batch-{}", std::process::id()));
    std::fs::write(
        &file,
        "web.default.svc.cluster.local\n-x 10.96.0.100\nnosuch.default.svc.cluster.local\n",
    )
    .unwrap();
    same(&lab, "dig", &format!("+short -f {}", file.display()));
    same(&lab, "dig", &format!("-f {}", file.display()));
    let _ = std::fs::remove_file(file);
}

fn same_argv(lab: &Lab, tool: &str, argv: &[&str]) {
    let (ours, theirs) = both(lab, tool, argv);
    assert_eq!(
        ours.code, theirs.code,
        "{tool} {argv:?}: exit codes\nours:\n{}{}\nbind:\n{}{}",
        ours.stdout, ours.stderr, theirs.stdout, theirs.stderr
    );
    assert_eq!(
        sections(&ours.stdout),
        sections(&theirs.stdout),
        "{tool} {argv:?}\n--- debugbox:\n{}\n--- bind:\n{}",
        ours.stdout,
        theirs.stdout
    );
    assert_eq!(
        ours.stderr.trim(),
        theirs.stderr.trim(),
        "{tool} {argv:?}: stderr"
    );
}

/// The lab's misbehaving DNS server (lab-dns-hostile.py on web2): truncation with a TCP
/// retry that fails, answers to another question, SERVFAIL, NOTIMP to EDNS, control
/// characters in record data, records for another owner.
#[test]
fn hostile_servers_as_bind() {
    let lab = lab();
    for name in [
        "tc", "mismatch", "servfail", "notimp", "ctrl", "other", "nx",
    ] {
        let q = format!("{name}.hostile.test");
        same_argv(&lab, "dig", &["+tries=1", "+timeout=1", "@10.244.2.10", &q]);
        same_argv(
            &lab,
            "nslookup",
            &["-timeout=1", "-retry=1", &q, "10.244.2.10"],
        );
        if name != "mismatch" {
            // (bind gives up silently on a mismatched TCP reply; debugbox reports it.)
            same_argv(
                &lab,
                "dig",
                &["+tries=1", "+timeout=1", "@10.244.2.10", &q, "ANY"],
            );
        }
    }
}

#[test]
fn odd_names_and_numbers_as_bind() {
    let lab = lab();
    for name in [
        "a b",
        "x\"y",
        "",
        "a\\032b",
        "abcdefghijklmnopqrstuvwxyz12.ab",
        "abcdefghijklmnopqrstuvwxyz12.abc",
    ] {
        same_argv(&lab, "dig", &["+tries=1", name]);
        same_argv(&lab, "nslookup", &["-retry=1", name]);
    }
    for t in ["99999999999999999999", "4294967296", "-1", "0", "2"] {
        let o = format!("+timeout={t}");
        same_argv(
            &lab,
            "dig",
            &["+tries=1", &o, "web.default.svc.cluster.local"],
        );
        let o = format!("-timeout={t}");
        same_argv(&lab, "nslookup", &["-retry=1", &o, "web"]);
    }
    same_argv(&lab, "dig", &["+tries=99999999999", "web"]);
    same_argv(&lab, "dig", &["+bufsize=70000", "web"]);
    // One banner for the command line's questions, one per line of a batch file; ANY over TCP.
    same_argv(
        &lab,
        "dig",
        &[
            "web.default.svc.cluster.local",
            "nosuch.default.svc.cluster.local",
        ],
    );
    same_argv(&lab, "dig", &["ANY", "web.default.svc.cluster.local"]);
    let (ours, theirs) = both(&lab, "dig", &["ANY", "web.default.svc.cluster.local"]);
    let server = |s: &str| {
        s.lines()
            .find(|l| l.starts_with(";; SERVER:"))
            .map(String::from)
    };
    assert_eq!(server(&ours.stdout), server(&theirs.stdout));
    // Help on stdout, the version on stderr.
    let (ours, theirs) = both(&lab, "dig", &["-h"]);
    assert_eq!(
        (ours.code, ours.stdout.is_empty(), ours.stderr.is_empty()),
        (theirs.code, false, true)
    );
    let (ours, theirs) = both(&lab, "dig", &["-v"]);
    assert_eq!((ours.code, ours.stdout.is_empty()), (theirs.code, true));
    assert!(ours.stderr.starts_with("DiG "), "{}", ours.stderr);
}
