//! `mesh` on a lab of 20 nodes: 20 agents, each in a namespace of its own on one bridge, as
//! nobody with no capabilities (ICMP through net.ipv4.ping_group_range), peers from DNS
//! (dnsmasq answering mesh.lab with every node). All green first; then a cut link, a dead
//! node, an MTU drop on one node and a DNS failure on one node, one at a time, each named by
//! `mesh status` (the right factor and node), seen in /metrics and /matrix.json, and healed. The
//! page is rendered by headless Chromium (its DOM checked, screenshots kept under
//! target/test-artifacts/mesh/), and /metrics is read by Prometheus' own Python parser.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const N: usize = 20;
const PORT: u16 = 9797;

fn ip_of(i: usize) -> String {
    format!("10.78.0.{}", 10 + i)
}

fn name_of(i: usize) -> String {
    format!("node{}", i + 1)
}

struct Mesh {
    br: Scratch,
    nodes: Vec<Scratch>,
    dir: PathBuf,
}

impl Drop for Mesh {
    fn drop(&mut self) {
        for n in &self.nodes {
            let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", n.0));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sh(ns: &str, script: &str) -> Run {
    let r = run(Command::new("ip").args(["netns", "exec", ns, "bash", "-c", script]));
    assert_eq!(r.code, 0, "{script}: {}", r.stderr);
    r
}

impl Mesh {
    fn new() -> Mesh {
        let br = Scratch::new("mbr");
        let dir = std::env::temp_dir().join(format!("dbx-mesh-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        br.ip("link add br0 type bridge");
        br.ip("link set br0 up");
        br.ip("addr add 10.78.0.1/24 dev br0");
        let hosts: String = (0..N).map(|i| format!("{} mesh.lab\n", ip_of(i))).collect();
        std::fs::write(dir.join("hosts"), hosts).unwrap();
        start_dnsmasq(
            &br.0,
            "10.78.0.1",
            &[format!("--addn-hosts={}/hosts", dir.display())],
            &dir,
        );
        let mut nodes = Vec::new();
        for i in 0..N {
            let n = Scratch::new("mn");
            br.ip(&format!(
                "link add mb{i} type veth peer name eth0 netns {}",
                n.0
            ));
            br.ip(&format!("link set mb{i} master br0"));
            br.ip(&format!("link set mb{i} up"));
            n.ip(&format!("addr add {}/24 dev eth0", ip_of(i)));
            n.ip("link set eth0 up");
            sh(&n.0, "sysctl -qw net.ipv4.ping_group_range='0 2147483647'");
            let etc = format!("/etc/netns/{}", n.0);
            std::fs::create_dir_all(&etc).unwrap();
            std::fs::write(format!("{etc}/resolv.conf"), RESOLV).unwrap();
            nodes.push(n);
        }
        let m = Mesh { br, nodes, dir };
        for i in 0..N {
            let listen = format!("{}:{PORT}", ip_of(i));
            let name = name_of(i);
            let zone = if i < N / 2 { "zone-a" } else { "zone-b" };
            let mut argv: Vec<&str> = NOBODY.to_vec();
            argv.extend([
                bin(),
                "mesh",
                "--listen",
                &listen,
                "--peers-dns",
                "mesh.lab",
                "--interval",
                "1",
                "--sample",
                "5",
                "--timeout",
                "1",
                "--name",
                &name,
                "--zone",
                zone,
            ]);
            let line = m.nodes[i].spawn(&argv);
            assert!(
                line.starts_with(&format!(
                    "debugbox mesh: {name} {} listening on {listen}, 19 peers from DNS mesh.lab",
                    ip_of(i)
                )),
                "{line}"
            );
        }
        m
    }

    /// `mesh status` from the bridge's namespace, against node1's agent.
    fn status(&self, json: bool) -> Run {
        let from = format!("http://{}:{PORT}", ip_of(0));
        let mut argv = vec![bin(), "mesh", "status", "--from", &from];
        if json {
            argv.push("-j");
        }
        in_netns(
            &self.br.0,
            &argv.iter().map(std::ffi::OsStr::new).collect::<Vec<_>>(),
        )
    }

    /// Poll `mesh status -j` until `done` holds (at most `limit`), returning the last answer.
    fn until(&self, what: &str, limit: Duration, done: impl Fn(&Run, &Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let r = self.status(true);
            let v: Value = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
            if done(&r, &v) {
                return v;
            }
            if start.elapsed() > limit {
                let text = self.status(false);
                panic!(
                    "{what}: not seen within {limit:?}\n{}\n{}",
                    text.stdout, text.stderr
                );
            }
            std::thread::sleep(Duration::from_millis(700));
        }
    }

    fn healthy(&self, what: &str) {
        self.until(what, Duration::from_secs(90), |r, v| {
            r.code == 0
                && v["verdict"]["links_checked"] == N * (N - 1)
                && v["verdict"]["views"] == N
        });
    }

    fn fetch(&self, i: usize, path: &str) -> String {
        let url = format!("http://{}:{PORT}{path}", ip_of(i));
        let r = in_netns(
            &self.br.0,
            &["curl", "-sS", "--max-time", "10", &url].map(std::ffi::OsStr::new),
        );
        assert_eq!(r.code, 0, "{url}: {}", r.stderr);
        r.stdout
    }

    /// Chromium's DOM of node1's page, and a screenshot kept as a test artifact.
    fn page(&self, shot: &str) -> String {
        let url = format!("http://{}:{PORT}/", ip_of(0));
        let out = artifacts();
        let common = [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--user-data-dir=/tmp/dbx-mesh-chromium",
        ];
        let mut dom: Vec<&str> = common.to_vec();
        dom.extend(["--dump-dom", &url]);
        let r = in_netns(
            &self.br.0,
            &dom.iter().map(std::ffi::OsStr::new).collect::<Vec<_>>(),
        );
        assert!(r.stdout.contains("</html>"), "chromium: {}", r.stderr);
        let png = out.join(format!("{shot}.png"));
        let arg = format!("--screenshot={}", png.display());
        let mut shot_argv: Vec<&str> = common.to_vec();
        shot_argv.extend(["--window-size=1400,1100", &arg, &url]);
        let s = in_netns(
            &self.br.0,
            &shot_argv
                .iter()
                .map(std::ffi::OsStr::new)
                .collect::<Vec<_>>(),
        );
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "no screenshot at {} ({size} bytes): {}",
            png.display(),
            s.stderr
        );
        r.stdout
    }
}

const RESOLV: &str = "nameserver 10.78.0.1\noptions timeout:1 attempts:1\n";

fn artifacts() -> PathBuf {
    let d = repo().join("target/test-artifacts/mesh");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn has_finding(v: &Value, factor: &str, subjects: &[&str]) -> bool {
    v["verdict"]["findings"].as_array().is_some_and(|fs| {
        fs.iter()
            .any(|f| f["factor"] == factor && subjects.iter().any(|s| f["subject"] == *s))
    })
}

fn only_finding(v: &Value, factor: &str, subjects: &[&str]) -> bool {
    has_finding(v, factor, subjects)
        && v["verdict"]["findings"]
            .as_array()
            .is_some_and(|f| f.len() == 1)
}

/// Prometheus' own parser (python3-prometheus-client) reads /metrics; the families are listed.
fn parse_metrics(text: &str) -> Vec<String> {
    let mut child = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as f\n\
             for m in f(sys.stdin.read()):\n    print(m.name, m.type, len(m.samples))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn twenty_agents_find_a_cut_link_a_dead_node_an_mtu_drop_and_a_dns_failure() {
    let m = Mesh::new();
    m.healthy("all 20 agents green");
    let text = m.status(false);
    assert!(
        text.stdout
            .contains("mesh of 20 nodes seen from node1: 20 views, 380 links checked, 0 bad"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("all 20 nodes reach each other (380 links checked)"),
        "{}",
        text.stdout
    );
    let metrics = m.fetch(1, "/metrics");
    let families = parse_metrics(&metrics);
    for f in [
        "debugbox_mesh_peer_up gauge 19",
        "debugbox_mesh_rtt_seconds histogram",
        "debugbox_mesh_dns_success gauge 1",
    ] {
        assert!(
            families.iter().any(|l| l.starts_with(f)),
            "{f} not in {families:?}"
        );
    }
    let dom = m.page("healthy");
    assert_eq!(dom.matches("<tr data-node=").count(), N, "{dom}");
    assert_eq!(
        dom.matches("class=\"ok\"").count(),
        N * (N - 1) + 1,
        "every cell green, plus the legend"
    );
    assert!(dom.contains("all 20 nodes reach each other"));
    // Coverage: every agent probed all 19 peers by round ceil(19/5) = 4 of its own.
    let v: Value = serde_json::from_str(&m.fetch(0, "/matrix.json?all=1")).unwrap();
    for view in v["views"].as_array().unwrap() {
        let at = view["covered_at_round"].as_u64().unwrap();
        assert!(at <= 4, "{} covered its peers at round {at}", view["node"]);
    }

    // A cut link: node3 and node8 drop each other's packets.
    let (a, b) = (2, 7);
    let cut = format!(
        "iptables -A INPUT -s {0} -j DROP; iptables -A OUTPUT -d {0} -j DROP",
        ip_of(b)
    );
    sh(&m.nodes[a].0, &cut);
    m.until(
        "the cut link node3 <-> node8",
        Duration::from_secs(60),
        |r, v| r.code == 1 && only_finding(v, "link", &["node3 <-> node8", "node8 <-> node3"]),
    );
    let metrics = m.fetch(a, "/metrics");
    parse_metrics(&metrics);
    assert!(
        metrics.contains(&format!(
            "debugbox_mesh_peer_up{{peer=\"{}\",node=\"node8\"}} 0",
            ip_of(b)
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "debugbox_mesh_peer_error{{peer=\"{}\",node=\"node8\",reason=\"timeout\"}} 1",
            ip_of(b)
        )),
        "{metrics}"
    );
    let view: Value = serde_json::from_str(&m.fetch(a, "/matrix.json")).unwrap();
    let link = view["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["to"] == ip_of(b))
        .unwrap()
        .clone();
    assert_eq!(link["reason"], "timeout", "{link}");
    let dom = m.page("cut-link");
    assert!(
        dom.contains("data-from=\"node3\" data-to=\"node8\""),
        "{dom}"
    );
    assert!(dom.contains("data-factor=\"link\""), "{dom}");
    assert_eq!(dom.matches("<td class=\"bad\"").count(), 2, "{dom}");
    sh(&m.nodes[a].0, "iptables -F");
    m.healthy("healed after the cut link");

    // A dead node: node12's interface goes down.
    let d = 11;
    m.nodes[d].ip("link set eth0 down");
    let v = m.until("the dead node12", Duration::from_secs(60), |r, v| {
        r.code == 1 && only_finding(v, "node", &["node12"])
    });
    let f = &v["verdict"]["findings"][0];
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("every node that probed it lost it"),
        "{f}"
    );
    assert!(
        v["merged"]["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["address"] == ip_of(d))
    );
    assert!(
        m.status(false)
            .stdout
            .contains("node: node node12: every node that probed it lost it")
    );
    let metrics = m.fetch(0, "/metrics");
    assert!(
        metrics.contains(&format!(
            "debugbox_mesh_peer_up{{peer=\"{}\",node=\"node12\"}} 0",
            ip_of(d)
        )),
        "{metrics}"
    );
    m.nodes[d].ip("link set eth0 up");
    m.healthy("healed after the dead node");

    // An MTU drop on node5: its bridge port takes 1400 bytes, its own interface sends 1500.
    let t = 4;
    m.br.ip(&format!("link set mb{t} mtu 1400"));
    let v = m.until("the MTU drop on node5", Duration::from_secs(60), |r, v| {
        r.code == 1 && only_finding(v, "mtu", &["node5"])
    });
    assert!(
        v["verdict"]["bad"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["reason"] == "mtu"),
        "{v}"
    );
    let metrics = m.fetch(t, "/metrics");
    assert!(metrics.contains("check=\"mtu\"} 0"), "{metrics}");
    assert!(metrics.contains("reason=\"mtu\"} 1"), "{metrics}");
    m.page("mtu-drop");
    m.br.ip(&format!("link set mb{t} mtu 1500"));
    m.healthy("healed after the MTU drop");

    // A DNS failure on node9: its resolv.conf points at an address where no server is.
    let n = 8;
    let resolv = format!("/etc/netns/{}/resolv.conf", m.nodes[n].0);
    std::fs::write(
        &resolv,
        "nameserver 10.78.0.250\noptions timeout:1 attempts:1\n",
    )
    .unwrap();
    let v = m.until(
        "the DNS failure on node9",
        Duration::from_secs(60),
        |r, v| r.code == 1 && only_finding(v, "dns", &["node9"]),
    );
    assert_eq!(
        v["verdict"]["bad"].as_array().unwrap().len(),
        0,
        "DNS is not a link: {v}"
    );
    let metrics = m.fetch(n, "/metrics");
    assert!(
        metrics.contains("debugbox_mesh_dns_success{name=\"mesh.lab\"} 0"),
        "{metrics}"
    );
    std::fs::write(&resolv, RESOLV).unwrap();
    m.healthy("healed after the DNS failure");
}

/// Agents started in the shared lab's hosts, killed at the end (also when a test fails).
struct Agents(Vec<std::process::Child>);

impl Drop for Agents {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// /etc/netns/NS/resolv.conf for a lab node, pointing at the lab's DNS pod, removed at the end.
struct NodeResolv(PathBuf);

impl NodeResolv {
    fn new(ns: &str) -> NodeResolv {
        let dir = PathBuf::from(format!("/etc/netns/{ns}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("resolv.conf"),
            "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.244.1.53\noptions ndots:5 timeout:1 attempts:1\n",
        )
        .unwrap();
        NodeResolv(dir)
    }
}

impl Drop for NodeResolv {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `--peers-api`: the agents read their peers from the API stand-in's EndpointSlices (the pod
/// network's debugbox-mesh, the nodes' debugbox-mesh-node), with node names and zones, as a
/// DaemonSet's pods and its hostNetwork variant do.
#[test]
fn peers_from_the_api_on_the_pod_network_and_on_the_nodes() {
    use std::io::BufRead;
    let lab = lab();
    let sa = lab.state_dir().join("sa");
    let mut agents = Agents(Vec::new());
    // The hostNetwork variant runs with dnsPolicy ClusterFirstWithHostNet: the cluster DNS.
    // The lab's nodes have no resolv.conf of their own, so give them one for this test.
    let _resolv: Vec<NodeResolv> = ["node1", "node2"]
        .iter()
        .map(|h| NodeResolv::new(&lab.ns(h)))
        .collect();
    for (host, node, ip, service) in [
        ("debug", "node1", "10.244.1.5", "debugbox-mesh"),
        ("web2", "node2", "10.244.2.10", "debugbox-mesh"),
        ("node1", "node1", "172.18.0.11", "debugbox-mesh-node"),
        ("node2", "node2", "172.18.0.12", "debugbox-mesh-node"),
    ] {
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.ns(host),
                bin(),
                "mesh",
                "--peers-api",
                service,
            ])
            .args([
                "--listen",
                &format!("{ip}:{PORT}"),
                "--interval",
                "1",
                "--timeout",
                "1",
            ])
            // The lab's nodes blackhole the service range (no kube-proxy for their own
            // traffic): hostNetwork agents reach the API at its node address.
            .env(
                "KUBERNETES_SERVICE_HOST",
                if host.starts_with("node") {
                    "172.18.0.11"
                } else {
                    "10.96.0.1"
                },
            )
            .env(
                "KUBERNETES_SERVICE_PORT",
                if host.starts_with("node") {
                    "6443"
                } else {
                    "443"
                },
            )
            .env("DEBUGBOX_SERVICEACCOUNT", &sa)
            .env("NODE_NAME", node)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        agents.0.push(child);
        assert_eq!(
            line.trim(),
            format!(
                "debugbox mesh: {node} {ip} listening on {ip}:{PORT}, 1 peers from the API (endpoints of default/{service}), a round every 1 s probing 10 of them"
            )
        );
    }
    for (host, from) in [("debug", "10.244.1.5"), ("node1", "172.18.0.11")] {
        let url = format!("http://{from}:{PORT}");
        let start = Instant::now();
        let v: Value = loop {
            let r = lab.applet(host, "mesh", &["status", "--from", &url, "-j"]);
            let v: Value = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
            if r.code == 0 && v["verdict"]["links_checked"] == 2 {
                break v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{}: {} {}",
                url,
                r.stdout,
                r.stderr
            );
            std::thread::sleep(Duration::from_millis(500));
        };
        let views = v["merged"]["views"].as_array().unwrap();
        let mut seen: Vec<(String, String, String)> = views
            .iter()
            .map(|w| {
                let link = &w["links"][0];
                (
                    format!(
                        "{} {}",
                        w["node"].as_str().unwrap(),
                        w["zone"].as_str().unwrap_or("-")
                    ),
                    format!(
                        "{} {}",
                        link["node"].as_str().unwrap(),
                        link["zone"].as_str().unwrap_or("-")
                    ),
                    link["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        seen.sort();
        for w in views {
            assert_eq!(w["dns"]["check"]["ok"], true, "{w}");
        }
        assert_eq!(
            seen,
            [
                ("node1 zone-a".into(), "node2 zone-b".into(), "ok".into()),
                ("node2 zone-b".into(), "node1 zone-a".into(), "ok".into()),
            ],
            "{from}: {v}"
        );
    }
    // A token the API refuses: one line naming the read and the kubectl command that checks it.
    let denied = std::env::temp_dir().join(format!("dbx-mesh-sa-{}", std::process::id()));
    std::fs::create_dir_all(&denied).unwrap();
    std::fs::copy(sa.join("ca.crt"), denied.join("ca.crt")).unwrap();
    std::fs::write(denied.join("token"), "denied-token").unwrap();
    std::fs::write(denied.join("namespace"), "default").unwrap();
    let r = run(Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.ns("debug"),
            bin(),
            "mesh",
            "--peers-api",
            "--listen",
            "10.244.1.5:9798",
        ])
        .env("KUBERNETES_SERVICE_HOST", "10.96.0.1")
        .env("DEBUGBOX_SERVICEACCOUNT", &denied));
    let _ = std::fs::remove_dir_all(&denied);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("debugbox mesh: forbidden: cannot list endpointslices.discovery.k8s.io in namespace default")
            && r.stderr.contains("kubectl auth can-i list endpointslices.discovery.k8s.io -n default")
            && r.stderr.contains("use --peers-dns"),
        "{}",
        r.stderr
    );
}
