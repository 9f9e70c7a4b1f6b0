//! `nc` against OpenBSD netcat (Debian's netcat-openbsd) in a namespace of the test's own: scans
//! of open, closed and blackholed ports with the same `-v` lines and exit codes, data both ways
//! (debugbox client to nc -l, nc client to debugbox -l) over TCP and UDP, a ClusterIP behind
//! DNAT found by name, and bad input as one line.

mod common;
use common::*;
use std::process::{Command, Stdio};

/// A namespace with a veth "pod network" 10.200.0.1/24, a Service-like 10.96.0.50:80 that
/// DNATs to 10.200.0.1:3000 (as kube-proxy does), port 9 blackholed, and the name `web` in its
/// /etc/hosts. A listener on 3000 (and 127.0.0.1:3000) runs for the test's life.
struct Net {
    ns: Scratch,
    etc: std::path::PathBuf,
}

impl Net {
    fn new() -> Net {
        let ns = Scratch::new("nc");
        ns.ip("link add pods type veth peer name pods-peer");
        ns.ip("addr add 10.200.0.1/24 dev pods");
        ns.ip("link set pods up");
        ns.ip("link set pods-peer up");
        ns.ip("route add 10.96.0.0/12 dev pods");
        let ipt = |args: &str| {
            let r = in_netns(
                &ns.0,
                &std::iter::once("iptables")
                    .chain(args.split_whitespace())
                    .map(std::ffi::OsStr::new)
                    .collect::<Vec<_>>(),
            );
            assert_eq!(r.code, 0, "iptables {args}: {}", r.stderr);
        };
        ipt(
            "-t nat -A OUTPUT -d 10.96.0.50/32 -p tcp --dport 80 -j DNAT --to-destination 10.200.0.1:3000",
        );
        ipt("-A INPUT -p tcp --dport 9 -j DROP");
        let etc = std::path::PathBuf::from(format!("/etc/netns/{}", ns.0));
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("hosts"),
            "127.0.0.1 localhost\n10.200.0.1 web\n10.96.0.50 web-svc\n",
        )
        .unwrap();
        // An empty search list and no server: only /etc/hosts names resolve.
        std::fs::write(etc.join("resolv.conf"), "nameserver 127.0.0.1\n").unwrap();
        let ready = ns.spawn(&[
            "python3",
            "-c",
            "import socket,sys\n\
             l=socket.socket(socket.AF_INET6);l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
             l.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0);l.bind(('::',3000));l.listen(64)\n\
             print('ready',flush=True)\n\
             while True:\n  c,_=l.accept();c.close()\n",
        ]);
        assert!(ready.starts_with("ready"), "{ready}");
        Net { ns, etc }
    }

    fn name(&self) -> &str {
        &self.ns.0
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.etc);
    }
}

/// Run `nc ARGS` (the reference, called as nc.openbsd: its messages say `nc.openbsd:`, which
/// is put back to the `nc:` users see) and debugbox's nc, with stdin from /dev/null.
fn both(ns: &str, args: &str) -> (Run, Run) {
    let go = |prog: &std::ffi::OsStr| {
        run(Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(prog)
            .args(args.split_whitespace())
            .stdin(Stdio::null()))
    };
    let mut reference = go("nc.openbsd".as_ref());
    reference.stderr = reference.stderr.replace("nc.openbsd: ", "nc: ");
    (reference, go(applet("nc").as_os_str()))
}

#[test]
fn scans_say_what_openbsd_nc_says() {
    let net = Net::new();
    for args in [
        "-zv 127.0.0.1 3000",
        "-zv 127.0.0.1 3001",
        "-zv 127.0.0.1 2998-3002",
        "-zv 127.0.0.1 3001 3000 ssh",
        "-z 127.0.0.1 3000",
        "-z 127.0.0.1 3001",
        "-zvn 127.0.0.1 3000",
        "-zv -w 1 127.0.0.1 9",
        "-zv -w 1 127.0.0.1 9 3000",
        "-zv web 3000",
        "-zv web-svc 80",
        "-zv 10.96.0.50 80",
        "-zv ::1 3000",
        "-zv -4 localhost 3000",
    ] {
        let (reference, ours) = both(net.name(), args);
        assert_eq!(ours.stderr, reference.stderr, "nc {args}");
        assert_eq!(ours.code, reference.code, "nc {args}: {}", ours.stderr);
        assert_eq!(ours.stdout, reference.stdout, "nc {args}");
    }
}

#[test]
fn udp_scan_probes_as_nc_does() {
    let net = Net::new();
    let ready = net.ns.spawn(&[
        "python3",
        "-c",
        "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('127.0.0.1',5353))\nprint('ready',flush=True)\nwhile True: s.recv(100)\n",
    ]);
    assert!(ready.starts_with("ready"));
    // An open UDP port passes nc's five-write test; a closed one answers ICMP port unreachable.
    for args in [
        "-zvu 127.0.0.1 5353",
        "-zvu 127.0.0.1 5354",
        "-zu 127.0.0.1 5354",
    ] {
        let (reference, ours) = both(net.name(), args);
        assert_eq!(ours.stderr, reference.stderr, "nc {args}");
        assert_eq!(ours.code, reference.code, "nc {args}");
    }
}

/// `server` listens in the namespace writing what it receives to a file; `client` sends `data`
/// from stdin; returns what the server received.
fn transfer(
    ns: &str,
    server: &[&std::ffi::OsStr],
    client: &[&std::ffi::OsStr],
    data: &[u8],
) -> Vec<u8> {
    use std::io::Write;
    let out = std::env::temp_dir().join(format!("nc-{}-{ns}.out", std::process::id()));
    let mut srv = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(server)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    // Wait for the listener to be there (ss inside the namespace).
    for _ in 0..100 {
        let r = in_netns(ns, &["ss", "-Htuln"].map(std::ffi::OsStr::new));
        if r.stdout.contains(":4000") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut cli = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(client)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    cli.stdin.take().unwrap().write_all(data).unwrap();
    let status = cli.wait().unwrap();
    assert!(status.success(), "client {client:?}: {status}");
    // The server ends when the peer closes (TCP); a UDP server is stopped here.
    if client.iter().any(|a| *a == "-u") {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let _ = srv.kill();
    }
    let _ = srv.wait();
    let got = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    got
}

#[test]
fn data_both_ways_with_openbsd_nc() {
    let net = Net::new();
    let ns = net.name();
    let data: Vec<u8> = (0..400_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let ours = applet("nc");
    let ours = ours.as_os_str();
    fn with<'a>(prog: &'a std::ffi::OsStr, rest: &'a [&'a str]) -> Vec<&'a std::ffi::OsStr> {
        let mut v = vec![prog];
        v.extend(rest.iter().map(std::ffi::OsStr::new));
        v
    }
    // The reference by its own name: another nc (traditional, ncat) would answer otherwise.
    let nc = std::ffi::OsStr::new("nc.openbsd");
    // debugbox client -> nc -l, and nc client -> debugbox -l (TCP, -N on EOF).
    let got = transfer(
        ns,
        &with(nc, &["-l", "4000"]),
        &with(ours, &["-N", "127.0.0.1", "4000"]),
        &data,
    );
    assert!(
        got == data,
        "debugbox -> nc: {} of {} bytes",
        got.len(),
        data.len()
    );
    let got = transfer(
        ns,
        &with(ours, &["-l", "4000"]),
        &with(nc, &["-N", "127.0.0.1", "4000"]),
        &data,
    );
    assert!(
        got == data,
        "nc -> debugbox: {} of {} bytes",
        got.len(),
        data.len()
    );
    // Through the DNAT'd "ClusterIP" by name.
    let got = transfer(
        ns,
        &with(ours, &["-l", "10.200.0.1", "4000"]),
        &with(nc, &["-N", "10.200.0.1", "4000"]),
        b"hello\n",
    );
    assert_eq!(got, b"hello\n");
    // UDP both ways: one datagram, -q 1 ends the client after EOF.
    let got = transfer(
        ns,
        &with(nc, &["-u", "-l", "4000"]),
        &with(ours, &["-u", "-q", "1", "127.0.0.1", "4000"]),
        b"udp one\n",
    );
    assert_eq!(got, b"udp one\n");
    let got = transfer(
        ns,
        &with(ours, &["-u", "-l", "4000"]),
        &with(nc, &["-u", "-q", "1", "127.0.0.1", "4000"]),
        b"udp two\n",
    );
    assert_eq!(got, b"udp two\n");
}

#[test]
fn listen_keeps_serving_with_k_and_says_who_came() {
    let net = Net::new();
    let ns = net.name();
    let out = std::env::temp_dir().join(format!("nc-k-{}.out", std::process::id()));
    let err = std::env::temp_dir().join(format!("nc-k-{}.err", std::process::id()));
    let mut srv = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(applet("nc"))
        .args(["-lkvn", "4000"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    for word in ["one", "two", "three"] {
        let r = run(Command::new("sh").args([
            "-c",
            &format!("echo {word} | ip netns exec {ns} nc.openbsd -N 127.0.0.1 4000"),
        ]));
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = srv.kill();
    let _ = srv.wait();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "one\ntwo\nthree\n");
    let said = std::fs::read_to_string(&err).unwrap();
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&err);
    assert!(said.starts_with("Listening on 0.0.0.0 4000\n"), "{said}");
    assert_eq!(
        said.matches("Connection received on 127.0.0.1 ").count(),
        3,
        "{said}"
    );
}

#[test]
fn json_scan_results() {
    let net = Net::new();
    let r = in_netns(
        net.name(),
        &[
            applet("nc").as_os_str(),
            "-zj".as_ref(),
            "-w".as_ref(),
            "1".as_ref(),
            "127.0.0.1".as_ref(),
            "3000".as_ref(),
            "3001".as_ref(),
            "9".as_ref(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{}", r.stdout);
    assert_eq!(rows[0]["port"], 3000);
    assert_eq!(rows[0]["open"], true);
    assert_eq!(rows[0]["address"], "127.0.0.1");
    assert_eq!(rows[1]["open"], false);
    assert_eq!(rows[1]["error"], "failed: Connection refused");
    assert_eq!(rows[2]["error"], "timed out: Operation now in progress");
}

#[test]
fn bad_input_is_one_line_exit_2_in_nc_words() {
    let net = Net::new();
    for (args, nc_says) in [
        ("-z 127.0.0.1 0", "port number too small: 0"),
        ("-z 127.0.0.1 70000", "port number too large: 70000"),
        (
            "-z 127.0.0.1 nosuchservice",
            "port number invalid: nosuchservice",
        ),
        ("-z -l 3000", "cannot use -z and -l"),
        ("127.0.0.1", "missing port number"),
        (
            "-z no-such-host.invalid 80",
            "getaddrinfo for host \"no-such-host.invalid\" port 80",
        ),
    ] {
        let (reference, ours) = both(net.name(), args);
        assert_eq!(ours.code, 2, "nc {args}: {}", ours.stderr);
        assert_eq!(ours.stderr.lines().count(), 1, "nc {args}: {}", ours.stderr);
        assert!(
            ours.stderr.starts_with(&format!("debugbox nc: {nc_says}")),
            "nc {args}: {}",
            ours.stderr
        );
        assert!(
            reference.stderr.starts_with(&format!("nc: {nc_says}")),
            "reference nc {args}: {}",
            reference.stderr
        );
    }
    let r = run(Command::new(applet("nc")).args(["-x", "proxy:1080", "h", "80"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("not available in debugbox nc"),
        "{}",
        r.stderr
    );
}
