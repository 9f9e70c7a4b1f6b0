//! `tcpdump` against Debian's tcpdump 4.99.3 on the same traffic, in two namespaces of the
//! test's own joined by a veth (a "node" with the host side and a "pod" with a web server and a
//! DNS server): both capture at once with the same flags and filter, and print the same lines
//! (time stamps aside, which each socket takes itself); files written by either tool read back
//! to the same text by both (every time stamp included), and by tshark; `--pod-ip` finds the
//! pod's veth; a capture without CAP_NET_RAW and bad filters are one line, exit 2.

mod common;
use common::*;
use std::process::{Child, Command, Stdio};

/// The node namespace (10.77.0.1, fd77::1 on `veth-pod`) and the pod namespace (.2 and ::2 on
/// eth0) with an HTTP server on 8080 and dnsmasq on 53 answering web.lab.
struct Net {
    node: Scratch,
    pod: Scratch,
    dir: std::path::PathBuf,
}

impl Net {
    fn new(tag: &str) -> Net {
        let node = Scratch::new(&format!("{tag}n"));
        let pod = Scratch::new(&format!("{tag}p"));
        node.ip(&format!(
            "link add veth-pod type veth peer name eth0 netns {}",
            pod.0
        ));
        node.ip("addr add 10.77.0.1/24 dev veth-pod");
        node.ip("addr add fd77::1/64 dev veth-pod nodad");
        node.ip("link set veth-pod up");
        pod.ip("addr add 10.77.0.2/24 dev eth0");
        pod.ip("addr add fd77::2/64 dev eth0 nodad");
        pod.ip("link set eth0 up");
        let dir = std::env::temp_dir().join(format!("dbx-tcpdump-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        start_dnsmasq(
            &pod.0,
            "10.77.0.2",
            &[
                "--address=/web.lab/10.77.0.2".to_string(),
                "--address=/web.lab/fd77::2".to_string(),
            ],
            &dir,
        );
        let banner = pod.spawn(&[
            "python3",
            "-u",
            "-m",
            "http.server",
            "8080",
            "--bind",
            "10.77.0.2",
        ]);
        assert!(banner.starts_with("Serving"), "{banner}");
        Net { node, pod, dir }
    }

    fn sh(&self, ns: &str, script: &str) -> Run {
        run(Command::new("ip").args(["netns", "exec", ns, "bash", "-c", script]))
    }

    /// What a debugging session sends from the node to the pod: ARP and neighbour discovery,
    /// pings over both families, DNS over UDP and TCP, HTTP, a refused port, a closed UDP port.
    fn traffic(&self) {
        let script = "ping -c 2 -i 0.2 10.77.0.2 >/dev/null; ping -c 1 fd77::2 >/dev/null;\
             dig +tries=1 +time=2 @10.77.0.2 web.lab >/dev/null; dig +tcp +time=2 @10.77.0.2 web.lab AAAA >/dev/null;\
             dig +tries=1 +time=2 @10.77.0.2 nothing.invalid >/dev/null;\
             curl -s -m 5 http://10.77.0.2:8080/ >/dev/null; curl -s -m 2 http://10.77.0.2:9/ >/dev/null;\
             python3 -c \"import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x'*30, ('10.77.0.2', 7777))\";\
             true";
        let r = self.sh(&self.node.0, script);
        assert_eq!(r.code, 0, "traffic: {}", r.stderr);
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_LAB").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Start `prog args` capturing in `ns`, stdout into `out`.
fn start(ns: &str, prog: &str, args: &[&str], out: &str) -> Child {
    Command::new("ip")
        .args(["netns", "exec", ns, prog])
        .args(args)
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(std::fs::File::create(format!("{out}.err")).unwrap())
        .spawn()
        .unwrap()
}

/// SIGINT every capture and wait for it.
fn stop(children: Vec<Child>) {
    for c in &children {
        let _ = Command::new("kill")
            .args(["-INT", &c.id().to_string()])
            .output();
    }
    for mut c in children {
        let status = c.wait().unwrap();
        assert!(status.success(), "a capture ended with {status}");
    }
}

/// The text without the time stamps at the start of packet lines.
fn unstamped(text: &str) -> String {
    text.lines()
        .map(|l| {
            let b = l.as_bytes();
            let stamped =
                b.len() > 16 && b[2] == b':' && b[5] == b':' && b[8] == b'.' && b[15] == b' ';
            if stamped { &l[16..] } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The packets of `text` stamped within [from, to] (times of day as tcpdump prints them), with
/// their continuation lines (-v, -x): the captures start and stop a moment apart, and the
/// kernel's own IPv6 chatter (MLD reports, router solicitations) at those edges is seen by one
/// and not the other.
fn window(text: &str, from: &str, to: &str) -> String {
    let mut keep = false;
    let mut out = Vec::new();
    for l in text.lines() {
        let b = l.as_bytes();
        if b.len() > 16 && b[2] == b':' && b[5] == b':' && b[8] == b'.' && b[15] == b' ' {
            keep = &l[..15] >= from && &l[..15] <= to && !chatter(&l[16..]);
        }
        if keep {
            out.push(l);
        }
    }
    out.join("\n")
}

/// The packets of `text` (a stamped line and its continuation lines each), without their
/// stamps, sorted.
fn in_any_order(text: &str) -> String {
    let mut packets: Vec<String> = Vec::new();
    for l in unstamped(text).lines() {
        let continuation = l.starts_with('\t') || l.starts_with("    ");
        match packets.last_mut() {
            Some(p) if continuation => {
                p.push('\n');
                p.push_str(l);
            }
            _ => packets.push(l.to_string()),
        }
    }
    packets.sort();
    packets.join("\n")
}

/// The kernel's own IPv6 housekeeping (MLD reports, router solicitations, duplicate address
/// detection from ::), sent on its own timers from link-up on: whether one falls at a
/// capture's first or last microseconds is luck, so the live comparison leaves it out (the
/// files read back, where both tools see the same packets, compare it).
fn chatter(line: &str) -> bool {
    let line = line
        .split_once(" In  ")
        .or(line.split_once(" Out "))
        .map_or(line, |(_, rest)| rest);
    line.contains("multicast listener report")
        || line.contains("router solicitation")
        || line.starts_with("IP6 :: >")
}

/// The time of day as tcpdump prints it, from the machine's clock.
fn now() -> String {
    let r = run(Command::new("date").arg("+%H:%M:%S.%6N"));
    r.stdout.trim().to_string()
}

/// Equal texts, or a failure that shows the first line where they part.
fn same_text(ours: &str, reference: &str, what: &str) {
    if ours == reference {
        return;
    }
    let (o, r): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), reference.lines().collect());
    let i = (0..o.len().max(r.len()))
        .find(|i| o.get(*i) != r.get(*i))
        .unwrap_or(0);
    panic!(
        "{what}: line {} differs ({} lines against tcpdump's {}):\n  ours:    {:?}\n  tcpdump: {:?}",
        i + 1,
        o.len(),
        r.len(),
        o.get(i),
        r.get(i)
    );
}

/// The live forms compared: flags and filter, as a user types them.
const LIVE: &[&str] = &[
    "-i veth-pod -n",
    "-i veth-pod -n -e",
    "-i veth-pod -n -v",
    "-i veth-pod -n -q",
    "-i veth-pod -n -x",
    "-i veth-pod -n -X -s 128",
    "-i veth-pod -n -A",
    "-i veth-pod -n tcp",
    "-i veth-pod -n udp port 53",
    "-i veth-pod -n icmp or icmp6",
    "-i veth-pod -n arp",
    "-i veth-pod -n ip6",
    "-i veth-pod -n host 10.77.0.2 and not arp",
    "-i veth-pod -n src host 10.77.0.1 and dst port 8080",
    "-i veth-pod -n net 10.77.0.0/24 and (tcp or udp)",
    "-i veth-pod -n portrange 8000-8100",
    "-i veth-pod -n tcp[tcpflags] & (tcp-syn) != 0",
    "-i veth-pod -n tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and not src port 8080",
    "-i veth-pod -n icmp[icmptype] = icmp-echo",
    "-i veth-pod -n greater 200",
    "-i veth-pod -n less 80",
    "-i veth-pod -n port 53 or 8080",
    "-i veth-pod -n vlan and tcp",
    "-i veth-pod -n ether host ff:ff:ff:ff:ff:ff",
    "-i veth-pod -n -Q in",
    "-i veth-pod -n -Q out udp",
    "-i any -n",
    "-i any -n -e",
    "-i any -n tcp port 8080",
    "-i any -n -Q in icmp",
];

#[test]
fn live_capture_prints_what_tcpdump_prints() {
    let net = Net::new("lv");
    let ours = applet("tcpdump");
    let mut children = Vec::new();
    for (i, form) in LIVE.iter().enumerate() {
        let args: Vec<&str> = form.split_whitespace().collect();
        children.push(start(
            &net.node.0,
            "tcpdump",
            &args,
            &net.path(&format!("ref{i}")),
        ));
        children.push(start(
            &net.node.0,
            ours.to_str().unwrap(),
            &args,
            &net.path(&format!("our{i}")),
        ));
    }
    // Both pcap writers, for the file test below.
    children.push(start(
        &net.node.0,
        "tcpdump",
        &["-i", "veth-pod", "-w", &net.path("ref.pcap")],
        &net.path("w-ref"),
    ));
    children.push(start(
        &net.node.0,
        ours.to_str().unwrap(),
        &["-i", "veth-pod", "-w", &net.path("our.pcap")],
        &net.path("w-our"),
    ));
    children.push(start(
        &net.node.0,
        ours.to_str().unwrap(),
        &["-i", "veth-pod", "-s", "80", "-w", &net.path("snap.pcap")],
        &net.path("w-snap"),
    ));
    children.push(start(
        &net.node.0,
        ours.to_str().unwrap(),
        &["-i", "veth-pod", "-n", "-j"],
        &net.path("json"),
    ));
    // Every capture says `listening on` once its socket is bound (a busy machine may take a
    // while to start them all); the window's edges then fall in quiet moments.
    for _ in 0..300 {
        let ready = std::fs::read_dir(&net.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".err"))
            .filter(|e| {
                std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .contains("listening on")
            })
            .count();
        if ready == children.len() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let from = now();
    std::thread::sleep(std::time::Duration::from_millis(300));
    net.traffic();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let to = now();
    // tcpdump's ring hands over its last block within a second.
    std::thread::sleep(std::time::Duration::from_millis(2000));
    stop(children);
    let mut compared = 0;
    for (i, form) in LIVE.iter().enumerate() {
        let reference = std::fs::read_to_string(net.path(&format!("ref{i}"))).unwrap();
        let got = std::fs::read_to_string(net.path(&format!("our{i}"))).unwrap();
        // Packets that cross at the same moment in opposite directions reach the many capture
        // sockets in either order (each direction's tap walks the sockets on its own CPU), so
        // the live comparison is of the packets as a set; the files read back compare order.
        let (r, o) = (
            in_any_order(&window(&reference, &from, &to)),
            in_any_order(&window(&got, &from, &to)),
        );
        same_text(&o, &r, &format!("live `tcpdump {form}`"));
        compared += r.lines().count();
        let err = std::fs::read_to_string(net.path(&format!("our{i}.err"))).unwrap();
        assert!(
            err.contains(" captured\n") && err.contains(" dropped by kernel"),
            "{form}: {err}"
        );
    }
    // Most forms saw traffic (a filter that matches nothing proves little).
    let base = std::fs::read_to_string(net.path("ref0")).unwrap();
    for what in [
        "ARP, Request who-has",
        "ICMP echo request",
        "ICMP6, echo request",
        "A? web.lab.",
        "AAAA? web.lab.",
        "HTTP: GET / HTTP/1.1",
        "Flags [R.]",
        "udp port 7777 unreachable",
        "ICMP6, neighbor solicitation",
    ] {
        assert!(base.contains(what), "the traffic has no `{what}`:\n{base}");
    }
    assert!(compared > 300, "only {compared} lines compared");
    // -j: one object a packet, its fields from the packet.
    let json = std::fs::read_to_string(net.path("json")).unwrap();
    let objects: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Its own capture, stopped a moment apart from tcpdump's: the same packets give or take
    // one at either end, each summary one of tcpdump's lines.
    let lines: Vec<&str> = base
        .lines()
        .filter(|l| l.len() > 16)
        .map(|l| &l[16..])
        .collect();
    // Every packet of the session (the window, without the kernel's chatter) has its object.
    let summaries: Vec<&str> = objects
        .iter()
        .filter_map(|o| o["summary"].as_str())
        .collect();
    for l in unstamped(&window(&base, &from, &to)).lines() {
        assert!(summaries.contains(&l), "-j has no object for {l:?}");
    }
    for o in &objects {
        let summary = o["summary"].as_str().unwrap_or_default();
        assert!(
            lines.contains(&summary),
            "-j summary {summary:?} is no line of tcpdump's"
        );
    }
    let syn = objects
        .iter()
        .find(|o| o["tcp_flags"] == "S" && o["dport"] == 8080)
        .expect("the SYN to 8080");
    assert_eq!(
        (
            syn["src"].as_str(),
            syn["dst"].as_str(),
            syn["protocol"].as_str()
        ),
        (Some("10.77.0.1"), Some("10.77.0.2"), Some("tcp"))
    );
    assert!(syn["summary"].as_str().unwrap().contains("Flags [S]"));
    assert_eq!(syn["interface"], "veth-pod");

    files_read_back_the_same(&net, &from, &to);
}

/// Both files read by both tools: the same text for every print form and filter; tshark reads
/// ours; a file cut by -s prints tcpdump's truncation marks; `-w -` streams a readable file.
fn files_read_back_the_same(net: &Net, from: &str, to: &str) {
    let ours = applet("tcpdump");
    let forms = [
        "-n",
        "-n -e",
        "-n -v",
        "-n -q",
        "-n -x",
        "-n -xx",
        "-n -X",
        "-n -XX",
        "-n -A",
        "-n -tt",
        "-n -ttt",
        "-n -tttt",
        "-n -ttttt",
        "-n -t",
        "-n -#",
        "-n -S",
        "-n -c 5",
        "-n tcp",
        "-n udp and port 53",
        "-n icmp6",
        "-n not arp and not icmp6",
        "-n -e tcp[13] = 18",
    ];
    let read = |prog: &std::ffi::OsStr, file: &str, form: &str| -> Run {
        let mut argv: Vec<&std::ffi::OsStr> =
            vec![prog, std::ffi::OsStr::new("-r"), std::ffi::OsStr::new(file)];
        argv.extend(form.split_whitespace().map(std::ffi::OsStr::new));
        in_netns(&net.node.0, &argv)
    };
    for file in ["ref.pcap", "our.pcap", "snap.pcap"] {
        let path = net.path(file);
        for form in forms {
            let r = read(std::ffi::OsStr::new("tcpdump"), &path, form);
            let o = read(ours.as_os_str(), &path, form);
            assert_eq!(r.code, 0, "tcpdump -r {file} {form}: {}", r.stderr);
            assert_eq!(o.code, 0, "debugbox tcpdump -r {file} {form}: {}", o.stderr);
            assert!(!r.stdout.is_empty(), "{file} {form}: nothing read");
            same_text(&o.stdout, &r.stdout, &format!("`tcpdump -r {file} {form}`"));
            assert_eq!(
                o.stderr, r.stderr,
                "`tcpdump -r {file} {form}`: other stderr"
            );
        }
    }
    // The two captures saw the same packets.
    let r = read(std::ffi::OsStr::new("tcpdump"), &net.path("ref.pcap"), "-n");
    let o = read(std::ffi::OsStr::new("tcpdump"), &net.path("our.pcap"), "-n");
    same_text(
        &in_any_order(&window(&o.stdout, from, to)),
        &in_any_order(&window(&r.stdout, from, to)),
        "the packets in debugbox's and tcpdump's files",
    );
    // The snapped file: cut packets and tcpdump's marks where data ends.
    let snap = read(
        std::ffi::OsStr::new("tcpdump"),
        &net.path("snap.pcap"),
        "-n",
    );
    assert!(
        snap.stdout.contains("[|"),
        "nothing was cut at -s 80:\n{}",
        snap.stdout
    );
    // tshark reads our file: as many frames as tcpdump reads.
    let t = run(Command::new("tshark").args([
        "-r",
        &net.path("our.pcap"),
        "-T",
        "fields",
        "-e",
        "frame.number",
    ]));
    assert_eq!(t.code, 0, "tshark: {}", t.stderr);
    assert_eq!(t.stdout.lines().count(), o.stdout.lines().count());
    // -w - into a pipe: tcpdump reads the stream.
    let mut ours_out = Command::new(&ours)
        .args(["-r", &net.path("ref.pcap"), "-w", "-", "-U"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let back = run(Command::new("tcpdump")
        .args(["-n", "-r", "-"])
        .stdin(ours_out.stdout.take().unwrap()));
    assert!(ours_out.wait().unwrap().success());
    assert_eq!(
        back.stdout, r.stdout,
        "a pcap stream through -w - reads back differently"
    );
}

/// Packets a short session does not produce (scripts/lab-packets.py: VLAN tags in the frame,
/// fragments, ICMP need-to-frag and unreachables, ICMPv6 packet too big, TCP with SACK and
/// behind an IPv6 extension header, DNS answers of many types and codes, an LLDP frame, a cut
/// packet), read by both tools with the same flags and filters.
#[test]
fn crafted_packets_print_as_tcpdump_prints_them() {
    let dir = std::env::temp_dir().join(format!("dbx-tcpdump-crafted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("crafted.pcap");
    let r = run(Command::new(repo().join("scripts/lab-packets.py")).arg(&file));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ours = applet("tcpdump");
    for form in [
        "-n",
        "-n -e",
        "-n -x",
        "-n -X",
        "-n -q",
        "-n -A",
        "-n -S",
        "-n vlan",
        "-n vlan 10 and tcp",
        "-n vlan and host 10.77.0.2",
        "-n ip6 and tcp",
        "-n icmp6",
        "-n icmp[icmptype] = icmp-unreach",
        "-n udp port 53",
        "-n ether proto 0x88cc",
        "-n -v not ether proto 0x88cc",
    ] {
        let go = |prog: &std::ffi::OsStr| {
            run(Command::new(prog)
                .arg("-r")
                .arg(&file)
                .args(form.split_whitespace()))
        };
        let (t, o) = (go("tcpdump".as_ref()), go(ours.as_os_str()));
        assert_eq!(t.code, 0, "tcpdump {form}: {}", t.stderr);
        assert_eq!(o.code, 0, "debugbox tcpdump {form}: {}", o.stderr);
        assert!(!t.stdout.is_empty(), "{form}: nothing selected");
        same_text(
            &o.stdout,
            &t.stdout,
            &format!("crafted `tcpdump -r {form}`"),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pod_ip_captures_on_the_pods_veth() {
    let net = Net::new("pi");
    let ours = applet("tcpdump");
    let out = net.path("pod");
    let child = start(
        &net.node.0,
        ours.to_str().unwrap(),
        &["--pod-ip", "10.77.0.2", "-n", "-c", "2", "icmp"],
        &out,
    );
    std::thread::sleep(std::time::Duration::from_millis(800));
    let r = net.sh(&net.node.0, "ping -c 1 10.77.0.2");
    assert_eq!(r.code, 0);
    // -c 2: the request and the reply end it (bounded: a hang fails the test).
    let mut child = child;
    let mut ended = false;
    for _ in 0..100 {
        if child.try_wait().unwrap().is_some() {
            ended = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if !ended {
        let _ = child.kill();
    }
    assert!(ended, "tcpdump -c 2 did not end after a ping");
    let err = std::fs::read_to_string(format!("{out}.err")).unwrap();
    assert!(err.contains("capturing on veth-pod"), "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("IP 10.77.0.1 > 10.77.0.2: ICMP echo request")
            && text.contains("ICMP echo reply"),
        "{text}"
    );
    // -D: the node's interfaces as tcpdump lists them, the up ones and `any` first.
    let d = run(Command::new("ip")
        .args(["netns", "exec", &net.node.0])
        .arg(&ours)
        .arg("-D"));
    let lines: Vec<&str> = d.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "1.veth-pod [Up, Running, Connected]",
            "2.any (Pseudo-device that captures on all interfaces) [Up, Running]",
            "3.lo [Up, Running, Loopback]"
        ],
        "{}",
        d.stdout
    );
    let t = run(Command::new("ip").args(["netns", "exec", &net.node.0, "tcpdump", "-D"]));
    assert!(
        t.stdout.starts_with(&lines[..3].join("\n")),
        "tcpdump -D: {}",
        t.stdout
    );
    // An address nothing routes to is one line, exit 2.
    let r = run(Command::new("ip")
        .args(["netns", "exec", &net.pod.0])
        .arg(&ours)
        .args(["--pod-ip", "192.0.2.9"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn without_cap_net_raw_the_error_names_it() {
    let net = Net::new("np");
    let ours = applet("tcpdump");
    let as_nobody = |prog: &std::ffi::OsStr, args: &[&str]| -> Run {
        run(Command::new("ip")
            .args(["netns", "exec", &net.node.0])
            .args(NOBODY)
            .arg(prog)
            .args(args))
    };
    let r = as_nobody(ours.as_os_str(), &["-i", "veth-pod", "-c", "1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let line = r.stderr.lines().last().unwrap_or_default();
    assert!(
        line.contains("CAP_NET_RAW") && line.contains("NET_RAW"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"));
    // The reference refuses too (the same situation, its words).
    let t = as_nobody("tcpdump".as_ref(), &["-i", "veth-pod", "-c", "1"]);
    assert_ne!(t.code, 0);
    // Reading a file needs no privilege.
    let file = net.path("empty.pcap");
    let w = run(Command::new(&ours).args(["-r", "/dev/null"]));
    assert_eq!(w.code, 2, "{}", w.stderr);
    std::fs::write(
        &file,
        [
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0,
        ],
    )
    .unwrap();
    std::fs::set_permissions(
        &net.dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let r = as_nobody(ours.as_os_str(), &["-r", &file]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn bad_filters_and_flags_are_one_line() {
    let ours = applet("tcpdump");
    let dir = std::env::temp_dir().join(format!("dbx-tcpdump-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("one.pcap");
    std::fs::write(
        &file,
        [
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0,
        ],
    )
    .unwrap();
    for (filter, says) in [
        ("port", "syntax error"),
        ("tcp port 99999", "illegal port number 99999 > 65535"),
        ("net 10.77.0.1/24", "non-network bits set"),
        ("tcp[", "syntax error"),
        ("host 10.0.0.1 and", "syntax error"),
        ("foo bar", "syntax error"),
    ] {
        let r = run(Command::new(&ours)
            .arg("-r")
            .arg(&file)
            .args(filter.split_whitespace()));
        assert_eq!(r.code, 2, "{filter}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{filter}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{filter}: {}", r.stderr);
        let t = run(Command::new("tcpdump")
            .arg("-r")
            .arg(&file)
            .args(filter.split_whitespace()));
        assert_ne!(t.code, 0, "tcpdump took `{filter}`");
        assert!(t.stderr.contains(says), "tcpdump on {filter}: {}", t.stderr);
    }
    for flags in [
        "-c 0",
        "-s x",
        "-Q sideways",
        "--pod-ip nope",
        "-i nosuchif0 -c 1",
    ] {
        let r = run(Command::new(&ours).args(flags.split_whitespace()));
        assert_eq!(r.code, 2, "{flags}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{flags}: {}", r.stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `kubectl debugbox capture POD` with a stand-in kubectl on PATH: `get pod` answers the pod's
/// node and address, `run` starts what the capture pod would run (debugbox with the overrides'
/// arguments) in the node namespace, `delete` is logged. The pcap comes out on stdout and
/// tcpdump reads the pod's ping in it; the capture pod is deleted at the end.
#[test]
fn kubectl_plugin_captures_a_pod_from_its_node() {
    let net = Net::new("kp");
    let fake = net.dir.join("kubectl");
    std::fs::write(
        &fake,
        r#"#!/usr/bin/python3
import json, os, sys
a = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(" ".join(a[:3]) + "\n")
if a[0] == "get":
    print("node-1 10.77.0.2", end="")
elif a[0] == "run":
    o = json.loads(next(x for x in a if x.startswith("--overrides="))[len("--overrides="):])
    assert o["spec"]["nodeName"] == "node-1" and o["spec"]["hostNetwork"] and "--quiet" in a
    os.execv(os.environ["FAKE_DEBUGBOX"], ["debugbox"] + o["spec"]["containers"][0]["args"])
elif a[0] == "delete":
    pass
else:
    sys.exit(2)
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = net.path("log");
    let pcap = net.path("plugin.pcap");
    let plugin = applet("kubectl-debugbox");
    let child = Command::new("ip")
        .args(["netns", "exec", &net.node.0, "env"])
        .arg(format!("PATH={}:/usr/bin:/bin", net.dir.display()))
        .arg(format!("FAKE_LOG={log}"))
        .arg(format!("FAKE_DEBUGBOX={}", common::bin()))
        .arg(&plugin)
        .args(["capture", "web-1", "-n", "shop", "--", "-c", "2", "icmp"])
        .stdout(std::fs::File::create(&pcap).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let r = net.sh(&net.node.0, "ping -c 1 10.77.0.2");
    assert_eq!(r.code, 0);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("capturing web-1 (10.77.0.2) from a pod on node node-1"),
        "{err}"
    );
    let read = run(Command::new("tcpdump").args(["-n", "-r", &pcap]));
    assert!(
        read.stdout
            .contains("IP 10.77.0.1 > 10.77.0.2: ICMP echo request")
            && read.stdout.contains("echo reply"),
        "{}{}",
        read.stdout,
        read.stderr
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls[0].starts_with("get pod web-1"), "{calls:?}");
    assert!(calls[1].starts_with("run debugbox-"), "{calls:?}");
    assert!(calls[2].starts_with("delete pod debugbox-"), "{calls:?}");
}
