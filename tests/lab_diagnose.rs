//! `diagnose` in the lab: one scenario at a time (scripts/lab scenario NAME breaks one thing),
//! the verdict must name the hop and the cause, and the reference tools (curl, nslookup) must
//! see the same failure on the same hop.

mod common;
use common::*;
use serde_json::Value;
use std::sync::Arc;

struct Scene {
    lab: Arc<Lab>,
}

/// Scenarios change the lab, so they run one after the other on one lab (building a lab per
/// scenario would cost seconds each); each is its own function and a failure names it.
#[test]
fn every_scenario_names_its_hop_and_cause() {
    let lab = lab();
    type Check = fn(&Scene);
    let scenarios: &[(&str, Check)] = &[
        ("healthy", healthy_every_path_works),
        ("healthy", colour_only_on_a_terminal_and_no_color_honoured),
        ("healthy", not_in_a_cluster_is_dns_and_probes_only),
        ("healthy", dns_only_flags_check_every_hop),
        ("healthy", objects_given_match_the_api),
        ("healthy", plugin_reads_with_kubectl_and_passes_the_objects),
        ("healthy", session_affinity_is_noted),
        (
            "nodeport-blocked",
            plugin_reads_with_kubectl_and_passes_the_objects,
        ),
        ("nodeport-blocked", objects_given_match_the_api),
        ("wrong-targetport", objects_given_match_the_api),
        ("selector-mismatch", selector_matches_no_pod),
        ("wrong-targetport", wrong_target_port),
        ("targetport-name-unknown", named_target_port_no_pod_declares),
        ("endpoints-not-ready", endpoints_not_ready),
        ("kube-proxy-down", kube_proxy_down),
        ("healthy", dns_pods_are_asked_directly),
        ("dns-proxy-down", dns_address_down_while_its_pods_answer),
        ("dns-pod-down", one_dns_pod_of_two_is_silent),
        ("egress-denies-dns", egress_policy_without_dns),
        ("egress-denies-dns", objects_given_match_the_api),
        (
            "mtu-black-hole",
            large_packets_vanish_on_the_way_to_one_endpoint,
        ),
        (
            "etp-local",
            local_traffic_policy_explains_a_node_without_endpoints,
        ),
        ("policy-denies", network_policy_that_does_not_admit_this_pod),
        ("policy-denies", objects_given_match_the_api),
        ("nodeport-blocked", nodeport_blocked),
        ("ingress-not-routed", ingress_host_not_routed),
        ("dns-wrong-namespace", short_name_from_the_wrong_namespace),
        ("api-denied", api_denied_names_the_read_and_goes_on_with_dns),
        ("many-endpoints", many_endpoints_are_all_probed),
    ];
    let mut failed = Vec::new();
    for (name, check) in scenarios {
        lab.scenario(name);
        let scene = Scene { lab: lab.clone() };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&scene))).is_err() {
            failed.push(*name);
        }
    }
    lab.scenario("healthy");
    assert!(
        failed.is_empty(),
        "scenarios failed (see the panics above): {failed:?}"
    );
}

impl Scene {
    /// diagnose inside the debug pod, with what the kubelet gives a pod to find the API.
    fn diagnose(&self, args: &[&str]) -> Run {
        let sa = format!(
            "DEBUGBOX_SERVICEACCOUNT={}/sa",
            self.lab.state_dir().display()
        );
        let path = applet("diagnose");
        let mut argv = vec![
            "env",
            "KUBERNETES_SERVICE_HOST=10.96.0.1",
            "KUBERNETES_SERVICE_PORT=443",
            &sa,
            path.to_str().unwrap(),
        ];
        argv.extend_from_slice(args);
        self.lab.exec("debug", &argv)
    }

    fn json(&self, args: &[&str]) -> (i32, Value, Run) {
        let mut a = args.to_vec();
        a.push("-j");
        let r = self.diagnose(&a);
        let v: Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr));
        (r.code, v, r)
    }

    /// diagnose in the debug pod with no API, `objects` given as an --objects file.
    fn diagnose_objects(&self, objects: &str, args: &[&str]) -> Run {
        let file =
            std::env::temp_dir().join(format!("debugbox-objects-{}.json", std::process::id()));
        std::fs::write(&file, objects).unwrap();
        let mut argv = args.to_vec();
        argv.extend([
            "--serviceaccount",
            "/nonexistent",
            "--objects",
            file.to_str().unwrap(),
        ]);
        let r = self.lab.applet("debug", "diagnose", &argv);
        let _ = std::fs::remove_file(&file);
        r
    }

    /// dig (the reference) from the debug pod asking one server for kubernetes.default, once,
    /// for a second: its exit code (9 no answer, 0 an answer).
    fn dig(&self, server: &str) -> i32 {
        self.lab
            .exec(
                "debug",
                &[
                    "dig",
                    &format!("@{server}"),
                    "+time=1",
                    "+tries=1",
                    "+short",
                    "kubernetes.default.svc.cluster.local",
                ],
            )
            .code
    }

    /// curl (the reference) from the debug pod: its exit code and %{http_code}.
    fn curl(&self, args: &[&str]) -> (i32, String) {
        let mut argv = vec![
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-m",
            "1",
            "-w",
            "%{http_code}",
        ];
        argv.extend_from_slice(args);
        let r = self.lab.exec("debug", &argv);
        (r.code, r.stdout)
    }
}

fn step<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}: {v:#}"))
}

fn verdict(v: &Value) -> (String, String, String) {
    let d = &v["verdict"];
    (
        d["hop"].as_str().unwrap_or("").into(),
        d["cause"].as_str().unwrap_or("").into(),
        d["message"].as_str().unwrap_or("").into(),
    )
}

fn healthy_every_path_works(s: &Scene) {
    let (code, v, r) = s.json(&["web"]);
    assert_eq!(code, 0, "{}", r.stdout);
    assert_eq!(v["verdict"]["ok"], true);
    for id in [
        "where",
        "api",
        "dns",
        "clusterip",
        "endpoints",
        "nodeport",
        "loadbalancer",
        "ingress",
    ] {
        assert_eq!(step(&v, id)["status"], "ok", "{id}: {:#}", step(&v, id));
    }
    assert_eq!(v["service"]["clusterIPs"][0], "10.96.0.100");
    assert_eq!(v["service"]["targetPort"], 8080);
    // Every probe's HTTP status is what curl gets on the same address.
    for id in ["clusterip", "endpoints", "nodeport", "loadbalancer"] {
        for p in step(&v, id)["probes"].as_array().unwrap() {
            let addr = p["address"].as_str().unwrap();
            let (code, status) = s.curl(&[&format!("http://{addr}/")]);
            assert_eq!(code, 0, "curl {addr}");
            assert_eq!(
                p["http"]["status"].as_u64().unwrap().to_string(),
                status,
                "{id} {addr}"
            );
        }
    }
    let ing = &step(&v, "ingress")["probes"][0];
    assert_eq!(ing["host"], "shop.example.com");
    let (_, status) = s.curl(&["-H", "Host: shop.example.com", "http://172.18.0.241/"]);
    assert_eq!(ing["http"]["status"].as_u64().unwrap().to_string(), status);
    // The where-am-I facts agree with `ip` and resolv.conf.
    let w = &step(&v, "where")["details"];
    assert_eq!(w["namespace"], "default");
    assert_eq!(w["cluster_domain"], "cluster.local");
    assert_eq!(w["ndots"], 5);
    assert!(
        w["routes"][0]
            .as_str()
            .unwrap()
            .starts_with("default via 10.244.1.1 dev eth0"),
        "{w}"
    );
    assert!(
        w["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "eth0 10.244.1.5/24"),
        "{w}"
    );

    // The text report: one line per hop, no colour off a terminal, the token never shown.
    let t = s.diagnose(&["web.default:3000"]);
    assert_eq!(t.code, 0, "{}", t.stdout);
    assert!(t.stdout.contains(" ✔ ClusterIP "), "{}", t.stdout);
    assert!(t.stdout.contains("Verdict: OK."), "{}", t.stdout);
    assert!(!t.stdout.contains('\x1b'));
    for out in [&t.stdout, &t.stderr, &r.stdout, &r.stderr] {
        assert!(!out.contains("admin-token"), "the token leaked: {out}");
    }
    // As an unprivileged user with every capability dropped (a restricted pod): the same walk.
    let sa = format!("DEBUGBOX_SERVICEACCOUNT={}/sa", s.lab.state_dir().display());
    let path = applet("diagnose");
    let nobody = s.lab.exec(
        "debug",
        &[
            NOBODY,
            &[
                "env",
                "KUBERNETES_SERVICE_HOST=10.96.0.1",
                &sa,
                path.to_str().unwrap(),
                "web",
            ],
        ]
        .concat(),
    );
    assert_eq!(nobody.code, 0, "{}{}", nobody.stdout, nobody.stderr);
    assert!(!nobody.stdout.contains(" ✘ "), "{}", nobody.stdout);
    // Other target forms reach the same Service.
    for target in [
        "web.default.svc.cluster.local",
        "http://web.default:3000/healthz",
        "10.96.0.100:3000",
        "shop.example.com",
    ] {
        let (code, v, _) = s.json(&[target]);
        assert_eq!(v["service"]["name"], "web", "{target}: {v:#}");
        assert_eq!(code, 0, "{target}: {v:#}");
    }
}

fn colour_only_on_a_terminal_and_no_color_honoured(s: &Scene) {
    let bin = applet("diagnose");
    let sa = format!("{}/sa", s.lab.state_dir().display());
    let cmd = format!(
        "env KUBERNETES_SERVICE_HOST=10.96.0.1 DEBUGBOX_SERVICEACCOUNT={sa} {} web",
        bin.display()
    );
    let tty = s.lab.exec("debug", &["script", "-qec", &cmd, "/dev/null"]);
    assert!(tty.stdout.contains("\x1b[32m✔\x1b[0m"), "{:?}", tty.stdout);
    let plain = s.lab.exec(
        "debug",
        &["env", "NO_COLOR=1", "script", "-qec", &cmd, "/dev/null"],
    );
    assert!(plain.stdout.contains(" ✔ DNS"), "{:?}", plain.stdout);
    assert!(!plain.stdout.contains("\x1b["), "{:?}", plain.stdout);
}

fn selector_matches_no_pod(s: &Scene) {
    let (code, v, _) = s.json(&["web"]);
    assert_eq!(code, 1);
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("endpoints", "selector-mismatch"),
        "{v:#}"
    );
    assert_eq!(
        msg,
        "Service selector app=web-v2 matches 0 of 3 pods in default; pods carry app=web"
    );
    assert!(
        v["verdict"]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "2 pods carry app=web (web1, web2)")
    );
    // curl sees the symptom: the ClusterIP refuses, the pods answer.
    assert_eq!(s.curl(&["http://10.96.0.100:3000/"]).0, 7);
    assert_eq!(s.curl(&["http://10.244.1.10:8080/"]), (0, "200".into()));
    assert_eq!(step(&v, "clusterip")["status"], "fail");
}

fn wrong_target_port(s: &Scene) {
    let (code, v, _) = s.json(&["web"]);
    assert_eq!(code, 1);
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("endpoints", "wrong-targetport"),
        "{v:#}"
    );
    assert_eq!(
        msg,
        "Service targetPort 9090 but the pods listen on 8080 (http): the endpoints refuse :9090"
    );
    assert_eq!(s.curl(&["http://10.244.1.10:9090/"]).0, 7);
    assert_eq!(s.curl(&["http://10.244.1.10:8080/"]), (0, "200".into()));
}

/// web's targetPort is the name web-http; its pods name their port http: no endpoints.
fn named_target_port_no_pod_declares(s: &Scene) {
    let (code, v, _) = s.json(&["web", "--timeout", "1"]);
    assert_eq!(code, 1, "{v:#}");
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("endpoints", "targetport-name-unknown"),
        "{v:#}"
    );
    assert_eq!(
        msg,
        "targetPort web-http is a name no container of the selected pods declares (they declare http:8080), so none of them becomes an endpoint"
    );
    // curl, the reference: the ClusterIP refuses (kube-proxy has no endpoint for it).
    assert_eq!(s.curl(&["http://10.96.0.100:3000/"]).0, 7);
}

fn endpoints_not_ready(s: &Scene) {
    let (code, v, _) = s.json(&["web"]);
    assert_eq!(code, 1);
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("endpoints", "endpoints-not-ready"),
        "{v:#}"
    );
    assert!(msg.contains("web1, web2 not Ready"), "{msg}");
    // Each pod says why: its Ready condition, the container's readiness and restarts.
    let evidence = v["verdict"]["evidence"].to_string();
    assert!(
        evidence.contains("web1: Ready=False; container app not ready, 2 restarts"),
        "{evidence}"
    );
    assert_eq!(
        step(&v, "endpoints")["summary"],
        "0/2 ready (from the API), 2/2 answer (HTTP 200) on :8080"
    );
}

fn dns_pods_are_asked_directly(s: &Scene) {
    let (code, v, _) = s.json(&["web"]);
    assert_eq!(code, 0);
    let evidence = step(&v, "dns")["evidence"].to_string();
    assert!(
        evidence.contains("DNS pod coredns 10.244.1.53: UDP answers (")
            && evidence.contains("TCP answers ("),
        "{evidence}"
    );
}

/// The DNS Service's address is not forwarded on this node; its pod answers when asked directly.
fn dns_address_down_while_its_pods_answer(s: &Scene) {
    let (code, v, _) = s.json(&["web", "--timeout", "1"]);
    assert_eq!(code, 1, "{v:#}");
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("dns", "dns-service-proxy"),
        "{v:#}"
    );
    assert!(
        msg.contains("10.96.0.10") && msg.contains("coredns 10.244.1.53"),
        "{msg}"
    );
    // The walk goes on with what the API said: the ClusterIP itself works.
    assert_eq!(step(&v, "clusterip")["status"], "ok");
    // dig, the reference, sees the same: the address times out, the pod answers.
    assert_eq!(s.dig("10.96.0.10"), 9);
    assert_eq!(s.dig("10.244.1.53"), 0);
}

/// Two DNS pods, one silent (nothing serves DNS at its address): the DNS hop fails naming it,
/// whatever this run's lookups happened to meet.
fn one_dns_pod_of_two_is_silent(s: &Scene) {
    let (code, v, _) = s.json(&["web", "--timeout", "1"]);
    assert_eq!(code, 1, "{v:#}");
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("dns", "dns-pod-down"),
        "{v:#}"
    );
    assert!(
        msg.starts_with("1 of 2 cluster DNS pods does not answer (coredns-2 10.244.2.53) while coredns 10.244.1.53 does"),
        "{msg}"
    );
    // dig, the reference: the silent pod refuses, the other answers.
    assert_eq!(s.dig("10.244.2.53"), 9);
    assert_eq!(s.dig("10.244.1.53"), 0);
}

/// The debug pod's namespace has an egress policy that allows web and the API server only:
/// every lookup times out, and the verdict names the policy, not "DNS is down".
fn egress_policy_without_dns(s: &Scene) {
    let (code, v, _) = s.json(&["web", "--timeout", "1"]);
    assert_eq!(code, 1, "{v:#}");
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("dns", "networkpolicy-egress"),
        "{v:#}"
    );
    assert!(
        msg.starts_with("NetworkPolicy egress-web-and-api-only selects this pod (run=debug in namespace default) for egress and allows no traffic to the cluster DNS pods (coredns 10.244.1.53) on UDP port 53"),
        "{msg}"
    );
    // The lab's policy is an OUTPUT drop in the pod, which refuses the send itself: said so,
    // and the cluster DNS counts as not answering.
    let dns = step(&v, "dns")["evidence"].to_string();
    assert!(
        dns.contains("the query could not be sent: Operation not permitted")
            && dns.contains("the cluster DNS does not answer"),
        "{dns}"
    );
    // The walk goes on with the API's ClusterIP: allowed, it works.
    assert_eq!(step(&v, "clusterip")["status"], "ok", "{v:#}");
    // dig, the reference: the pod itself times out from here too.
    assert_eq!(s.dig("10.244.1.53"), 9);
}

/// node2's link drops frames over 1400 bytes without a word: web2 answers small probes, but a
/// full-size packet with don't-fragment vanishes. Found with ICMP, and as nobody without an ICMP
/// socket (ping_group_range excludes it) with a full TCP segment.
fn large_packets_vanish_on_the_way_to_one_endpoint(s: &Scene) {
    let check = |v: &Value, via: &str| {
        let (hop, cause, msg) = verdict(v);
        assert_eq!(
            (hop.as_str(), cause.as_str()),
            ("endpoints", "mtu-black-hole"),
            "{v:#}"
        );
        assert!(
            msg.starts_with("small packets reach web2 10.244.2.10 but 1500-byte packets (this pod's MTU) with don't-fragment vanish"),
            "{msg}"
        );
        let evidence = step(v, "endpoints")["evidence"].to_string();
        assert!(
            evidence.contains(&format!(
                "path MTU: 1/2 endpoints take a 1500-byte packet with don't-fragment ({via})"
            )),
            "{evidence}"
        );
    };
    let (code, v, _) = s.json(&["web", "--timeout", "1"]);
    assert_eq!(code, 1, "{v:#}");
    check(&v, "ICMP echo");
    // ping, the reference: small passes, 1472 bytes of data with -M do vanish.
    let ping = |args: &[&str]| {
        let mut argv = vec!["ping", "-c", "1", "-W", "1"];
        argv.extend_from_slice(args);
        s.lab.exec("debug", &argv).code
    };
    assert_eq!(ping(&["10.244.2.10"]), 0);
    assert_eq!(ping(&["-M", "do", "-s", "1472", "10.244.2.10"]), 1);
    assert_eq!(ping(&["-M", "do", "-s", "1472", "10.244.1.10"]), 0);
    // No ICMP socket for nobody: the same verdict through TCP.
    let sysctl = |range: &str| {
        let r = s.lab.exec(
            "debug",
            &[
                "sysctl",
                "-qw",
                &format!("net.ipv4.ping_group_range={range}"),
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    sysctl("1 0");
    let sa = format!("DEBUGBOX_SERVICEACCOUNT={}/sa", s.lab.state_dir().display());
    let path = applet("diagnose");
    let r = s.lab.exec(
        "debug",
        &[
            NOBODY,
            &[
                "env",
                "KUBERNETES_SERVICE_HOST=10.96.0.1",
                &sa,
                path.to_str().unwrap(),
                "web",
                "--timeout",
                "1",
                "-j",
            ],
        ]
        .concat(),
    );
    sysctl("0 2147483647");
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    check(&v, "TCP");
}

/// externalTrafficPolicy: Local with the one endpoint on node1: node2's NodePort drops by
/// design (its health check says 503); that is explained, not reported as broken.
fn local_traffic_policy_explains_a_node_without_endpoints(s: &Scene) {
    let (code, v, _) = s.json(&["web", "--timeout", "1"]);
    assert_eq!(code, 0, "{v:#}");
    let np = step(&v, "nodeport");
    assert_eq!(np["status"], "ok", "{np:#}");
    let evidence = np["evidence"].to_string();
    for want in [
        "externalTrafficPolicy: Local: nodes with a local endpoint: node1",
        "health check (healthCheckNodePort): node1 HTTP 200, node2 HTTP 503",
        "node2 172.18.0.12:30080 timed out: no local endpoint there",
    ] {
        assert!(evidence.contains(want), "{want}: {evidence}");
    }
    // The load balancer: outside clients go only to node1; this pod's probe is kube-proxy's.
    let lb = step(&v, "loadbalancer");
    assert_eq!(lb["status"], "ok", "{lb:#}");
    assert!(
        lb["evidence"].to_string().contains(
            "externalTrafficPolicy: Local: outside clients are sent only to nodes whose health check answers 200: node1;"
        ),
        "{lb:#}"
    );
    // curl, the reference: node2's NodePort times out, its health check says 503, node1 answers.
    assert_eq!(s.curl(&["http://172.18.0.12:30080/"]).0, 28);
    assert_eq!(
        s.curl(&["http://172.18.0.12:32100/healthz"]),
        (0, "503".into())
    );
    assert_eq!(s.curl(&["http://172.18.0.11:30080/"]), (0, "200".into()));
}

/// A NetworkPolicy admits only app=frontend; the debug pod (run=debug) times out on every
/// endpoint: the verdict names the policy and this pod's labels.
fn network_policy_that_does_not_admit_this_pod(s: &Scene) {
    let (code, v, _) = s.json(&["web", "--timeout", "1"]);
    assert_eq!(code, 1, "{v:#}");
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("endpoints", "networkpolicy"),
        "{v:#}"
    );
    assert!(
        msg.starts_with("NetworkPolicy web-from-frontend selects the endpoint pods and admits no traffic from this pod (run=debug in namespace default)"),
        "{msg}"
    );
    // curl, the reference: the pod times out from here.
    assert_eq!(s.curl(&["http://10.244.1.10:8080/"]).0, 28);
}

fn kube_proxy_down(s: &Scene) {
    let (code, v, _) = s.json(&["web", "--timeout", "1"]);
    assert_eq!(code, 1);
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("clusterip", "kube-proxy"),
        "{v:#}"
    );
    assert!(msg.starts_with("10.96.0.100:3000 timed out, [fd00:10:96::100]:3000 timed out while the endpoints answer directly"), "{msg}");
    assert_eq!(step(&v, "endpoints")["status"], "ok");
    // curl: the ClusterIP times out (28), a pod answers.
    assert_eq!(s.curl(&["http://10.96.0.100:3000/"]).0, 28);
    assert_eq!(s.curl(&["http://10.244.2.10:8080/"]), (0, "200".into()));
}

fn nodeport_blocked(s: &Scene) {
    let (code, v, _) = s.json(&["web", "--timeout", "1"]);
    assert_eq!(code, 1);
    let (hop, cause, _) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("nodeport", "nodeport-blocked"),
        "{v:#}"
    );
    assert_eq!(step(&v, "clusterip")["status"], "ok");
    assert_eq!(s.curl(&["http://172.18.0.12:30080/"]).0, 28);
}

fn ingress_host_not_routed(s: &Scene) {
    let (code, v, _) = s.json(&["web"]);
    assert_eq!(code, 1);
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("ingress", "ingress-not-routed"),
        "{v:#}"
    );
    assert!(msg.contains("answers 404 for Host shop.example.com/ (\"default backend - 404\") while the Service answers 200"), "{msg}");
    assert_eq!(
        s.curl(&["-H", "Host: shop.example.com", "http://172.18.0.241/"]),
        (0, "404".into())
    );
}

fn short_name_from_the_wrong_namespace(s: &Scene) {
    let (code, v, _) = s.json(&["web"]);
    assert_eq!(code, 1);
    let (hop, cause, msg) = verdict(&v);
    assert_eq!(
        (hop.as_str(), cause.as_str()),
        ("dns", "dns-wrong-namespace"),
        "{v:#}"
    );
    assert!(
        msg.contains("looked up in namespace other") && msg.contains("lives in namespace default"),
        "{msg}"
    );
    assert_eq!(
        v["verdict"]["hint"],
        "use web.default (or web.default.svc), or run diagnose with -n default"
    );
    // bind's nslookup fails on the short name and finds the namespaced one.
    assert_eq!(s.lab.exec("debug", &["nslookup", "web"]).code, 1);
    assert_eq!(s.lab.exec("debug", &["nslookup", "web.default"]).code, 0);
    // The rest of the walk went on with the Service in default.
    assert_eq!(step(&v, "clusterip")["status"], "ok");
    // Named with its namespace, everything works.
    assert_eq!(s.json(&["web.default"]).0, 0);
}

fn api_denied_names_the_read_and_goes_on_with_dns(s: &Scene) {
    let (code, v, r) = s.json(&["web", "--port", "http"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(step(&v, "api")["status"], "fail");
    let notes: Vec<&str> = v["verdict"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(notes.contains(&"the API denied: get services in namespace default (kubectl auth can-i get services -n default)"), "{notes:?}");
    assert!(
        notes
            .iter()
            .any(|n| n
                .contains("kubectl auth can-i list endpointslices.discovery.k8s.io -n default")),
        "{notes:?}"
    );
    // The named port came from the cluster DNS's SRV record, the address from its A record.
    assert_eq!(step(&v, "clusterip")["status"], "ok");
    assert_eq!(
        step(&v, "clusterip")["probes"][0]["address"],
        "10.96.0.100:3000"
    );
    assert_eq!(step(&v, "endpoints")["status"], "skipped");
    assert!(!r.stdout.contains("denied-token"));
    // Endpoints and nodes given by hand are probed instead.
    let (code, v, _) = s.json(&[
        "web:3000",
        "--endpoints",
        "10.244.1.10:8080,10.244.2.10:8080",
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        step(&v, "endpoints")["summary"],
        "2/2 ready (given), 2/2 answer (HTTP 200) on :8080"
    );
}

fn not_in_a_cluster_is_dns_and_probes_only(s: &Scene) {
    let r = s.lab.applet(
        "debug",
        "diagnose",
        &["web:3000", "-j", "--serviceaccount", "/nonexistent"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(step(&v, "api")["status"], "skipped");
    assert!(
        step(&v, "api")["summary"]
            .as_str()
            .unwrap()
            .contains("KUBERNETES_SERVICE_HOST is not set")
    );
    assert_eq!(step(&v, "clusterip")["status"], "ok");
    // A name that does not exist: the DNS hop, exit 1.
    let r = s.lab.applet("debug", "diagnose", &["nosuch:80", "-j"]);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(verdict(&v).1, "dns-not-found");
}

/// What `kubectl get services,pods,nodes,endpointslices,ingresses -A -o json` gives the user,
/// read from the lab's API with an admin token: one JSON document per list.
fn objects_json(s: &Scene) -> String {
    let sa = s.lab.state_dir().join("sa");
    let token = std::fs::read_to_string(sa.join("token")).unwrap();
    let mut out = String::new();
    for path in [
        "api/v1/services",
        "api/v1/pods",
        "api/v1/nodes",
        "apis/discovery.k8s.io/v1/endpointslices",
        "apis/networking.k8s.io/v1/ingresses",
        "apis/networking.k8s.io/v1/networkpolicies",
    ] {
        let r = s.lab.exec(
            "debug",
            &[
                "curl",
                "-s",
                "--cacert",
                sa.join("ca.crt").to_str().unwrap(),
                "-H",
                &format!("Authorization: Bearer {}", token.trim()),
                &format!("https://10.96.0.1/{path}"),
            ],
        );
        assert_eq!(r.code, 0, "curl {path}: {}", r.stderr);
        out.push_str(&r.stdout);
        out.push('\n');
    }
    out
}

/// Without API access, the objects the user's kubectl printed give the same walk and verdict.
fn objects_given_match_the_api(s: &Scene) {
    let (code_api, with_api, _) = s.json(&["web"]);
    let r = s.diagnose_objects(&objects_json(s), &["web", "-j"]);
    let given: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", r.stdout, r.stderr));
    assert_eq!(r.code, code_api, "{}", r.stdout);
    assert_eq!(verdict(&given).0, verdict(&with_api).0);
    assert_eq!(verdict(&given).1, verdict(&with_api).1);
    for id in [
        "dns",
        "clusterip",
        "endpoints",
        "nodeport",
        "loadbalancer",
        "ingress",
    ] {
        assert_eq!(
            step(&given, id)["status"],
            step(&with_api, id)["status"],
            "{id}"
        );
    }
    assert!(
        step(&given, "api")["summary"]
            .as_str()
            .unwrap()
            .contains("objects from")
    );
    // Malformed objects: one line, exit 2, before any probe.
    let r = s.diagnose_objects(
        r#"{"kind":"Service","metadata":{"name":"web"},"spec":{"ports":7}}"#,
        &["web"],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("Service /web"), "{}", r.stderr);
}

/// `kubectl debugbox diagnose` with a stand-in kubectl on PATH: `get` prints what the lab's API
/// holds (the user's credentials), `run` starts debugbox with the overrides' arguments (as the
/// pod would). The report and the exit code come back through the plugin.
fn plugin_reads_with_kubectl_and_passes_the_objects(s: &Scene) {
    let dir = std::env::temp_dir().join(format!("debugbox-fake-kubectl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let objects = dir.join("objects.json");
    std::fs::write(&objects, objects_json(s)).unwrap();
    let fake = dir.join("kubectl");
    std::fs::write(
        &fake,
        r#"#!/usr/bin/python3
import json, os, sys
a = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(" ".join(a[:2]) + "\n")
if a[0] == "get":
    if a[1].startswith("services") and "kube-system" not in a:
        sys.stdout.write(open(os.environ["FAKE_OBJECTS"]).read())
    else:
        print('{"apiVersion": "v1", "kind": "List", "items": []}')
elif a[0] == "run":
    o = json.loads(next(x for x in a if x.startswith("--overrides="))[len("--overrides="):])
    os.execv(os.environ["FAKE_DEBUGBOX"], ["debugbox"] + o["spec"]["containers"][0]["args"])
else:
    sys.exit(2)
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = dir.join("log");
    let path = format!("{}:/usr/bin:/bin", dir.display());
    let plugin = applet("kubectl-debugbox");
    let r = s.lab.exec(
        "debug",
        &[
            "env",
            &format!("PATH={path}"),
            &format!("FAKE_OBJECTS={}", objects.display()),
            &format!("FAKE_LOG={}", log.display()),
            &format!("FAKE_DEBUGBOX={}", common::bin()),
            plugin.to_str().unwrap(),
            "diagnose",
            "web",
            "-n",
            "default",
            "--",
            "-j",
            "--serviceaccount",
            "/nonexistent",
        ],
    );
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", r.stdout, r.stderr));
    let (code, with_api, _) = s.json(&["web"]);
    assert_eq!(r.code, code, "{}", r.stderr);
    assert_eq!(verdict(&v).1, verdict(&with_api).1);
    assert!(
        step(&v, "api")["summary"]
            .as_str()
            .unwrap()
            .contains("objects from stdin")
    );
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert!(
        calls[0].starts_with("get services,endpointslices,pods"),
        "{calls:?}"
    );
    assert!(calls[1].starts_with("get nodes"), "{calls:?}");
    assert!(
        calls[2].starts_with("get services,endpointslices"),
        "{calls:?}"
    );
    assert!(calls[3].starts_with("run debugbox-"), "{calls:?}");
}

/// A Service with sessionAffinity: ClientIP (given as objects): the ClusterIP step says that
/// repeated tests stick to one backend.
fn session_affinity_is_noted(s: &Scene) {
    let objects = objects_json(s).replacen(
        "\"clusterIP\": \"10.96.0.100\"",
        "\"sessionAffinity\": \"ClientIP\", \"clusterIP\": \"10.96.0.100\"",
        1,
    );
    assert!(objects.contains("ClientIP"), "the fixture changed shape");
    let r = s.diagnose_objects(&objects, &["web", "-j"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let evidence = step(&v, "clusterip")["evidence"].to_string();
    assert!(evidence.contains("sessionAffinity: ClientIP"), "{evidence}");
}

/// No API and no objects: the hops the API would name, given as flags, are all checked.
fn dns_only_flags_check_every_hop(s: &Scene) {
    let r = s.lab.applet(
        "debug",
        "diagnose",
        &[
            "web:3000",
            "-j",
            "--serviceaccount",
            "/nonexistent",
            "--endpoints",
            "10.244.1.10:8080,10.244.2.10:8080",
            "--node-port",
            "30080",
            "--node-ip",
            "172.18.0.11,172.18.0.12",
            "--lb",
            "172.18.0.240",
            "--ingress",
            "shop.example.com@172.18.0.241",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    for id in [
        "clusterip",
        "endpoints",
        "nodeport",
        "loadbalancer",
        "ingress",
    ] {
        assert_eq!(step(&v, id)["status"], "ok", "{id}: {:#}", step(&v, id));
    }
    assert_eq!(step(&v, "nodeport")["probes"].as_array().unwrap().len(), 2);
}

fn many_endpoints_are_all_probed(s: &Scene) {
    let (code, v, _) = s.json(&["web"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        step(&v, "endpoints")["summary"],
        "100/100 ready (from the API), 100/100 answer (HTTP 200) on :8080"
    );
    assert_eq!(
        step(&v, "endpoints")["probes"].as_array().unwrap().len(),
        100
    );
    s.lab.scenario("healthy");
}
