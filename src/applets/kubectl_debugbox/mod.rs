//! `kubectl debugbox`: the kubectl plugin (found on PATH as `kubectl-debugbox`). It builds the
//! right `kubectl run` or `kubectl debug` for where you want to debug from, and runs kubectl:
//!
//! * a new pod in a namespace (restricted Pod Security Standard, ping allowed by sysctl);
//! * a hostNetwork pod on one node (`--node`): nodeName (the override netshoot's README gets
//!   wrong), ClusterFirstWithHostNet so cluster DNS still works, tolerations, NET_RAW;
//! * an ephemeral container in an existing pod (`POD`), sharing its network namespace.
//!
//! `--dry-run` prints the command instead; `-o yaml` prints the Pod manifest.
//!
//! `kubectl debugbox diagnose SVC` reads the objects diagnose needs with the user's own kubectl
//! (where a pod's service account may read nothing), starts debugbox where the probes should
//! come from (a new pod, an ephemeral container next to a client pod with `--from`, or a node
//! with `--node`), passes the objects on its stdin (`diagnose --objects -`), and streams the
//! report back; the pod it made is deleted at the end (`kubectl run --rm`).
//!
//! `kubectl debugbox capture POD` finds the pod's node and address, starts a capture pod on
//! that node (root with NET_RAW only, the node's network), runs `tcpdump --pod-ip ADDR -U -w -`
//! there, streams the pcap to stdout (`| wireshark -k -i -`, or `> pod.pcap`), and deletes the
//! capture pod when the capture ends or is interrupted.

use crate::error::{ClapEnd, Error, Result};
use crate::output;
use clap::{Arg, ArgAction, Command};
use serde_json::{Value, json};
use std::ffi::OsString;

pub const DEFAULT_IMAGE: &str = concat!("ghcr.io/debugbox/debugbox:", env!("CARGO_PKG_VERSION"));

pub fn command() -> Command {
    Command::new("kubectl-debugbox")
        .about("kubectl plugin: open debugbox in a new pod, on a node, or next to a pod")
        .override_usage("kubectl debugbox [POD] [--node NODE] [--host-network] [-n NS] [--image IMG] [--dry-run] [-o yaml] [-- CMD...]")
        .arg(Arg::new("pod").value_name("POD").help("debug next to this pod (ephemeral container, kubectl debug)"))
        .arg(Arg::new("node").long("node").value_name("NODE").help("run on this node (nodeName), with the host's network"))
        .arg(Arg::new("host-network").long("host-network").action(ArgAction::SetTrue).help("use the node's network namespace"))
        .arg(Arg::new("namespace").short('n').long("namespace").value_name("NS").help("namespace"))
        .arg(Arg::new("image").long("image").value_name("IMG").default_value(DEFAULT_IMAGE).help("debugbox image"))
        .arg(Arg::new("target").long("target").value_name("CONTAINER").help("with POD: share this container's process namespace"))
        .arg(Arg::new("name").long("name").value_name("NAME").help("name of the new pod"))
        .arg(Arg::new("dry-run").long("dry-run").action(ArgAction::SetTrue).help("print the kubectl command instead of running it"))
        .arg(Arg::new("output").short('o').long("output").value_name("FORMAT").value_parser(["yaml", "json"]).help("print the Pod manifest"))
        .arg(Arg::new("command").num_args(0..).last(true).value_name("CMD").help("applet and arguments to run instead of the prompt"))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub pod: Option<String>,
    pub node: Option<String>,
    pub host_network: bool,
    pub namespace: Option<String>,
    pub image: String,
    pub target: Option<String>,
    pub name: String,
    pub command: Vec<String>,
    /// The command reads its stdin to the end (diagnose's objects), without a terminal.
    pub feed_stdin: bool,
    /// A packet capture: root with NET_RAW (raw sockets need both; a non-root container's
    /// added capabilities are not effective).
    pub capture: bool,
}

/// The Pod manifest for the run modes.
pub fn manifest(p: &Plan) -> Value {
    let host = p.host_network || p.node.is_some();
    let mut container = json!({
        "name": "debugbox",
        "image": p.image,
        "stdin": p.command.is_empty() || p.feed_stdin,
        "tty": p.command.is_empty(),
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "capabilities": if host { json!({"drop": ["ALL"], "add": ["NET_RAW"]}) } else { json!({"drop": ["ALL"]}) },
        },
    });
    if p.capture {
        container["securityContext"]["runAsNonRoot"] = json!(false);
        container["securityContext"]["runAsUser"] = json!(0);
        container["securityContext"]["capabilities"] = json!({"drop": ["ALL"], "add": ["NET_RAW"]});
    }
    if !p.command.is_empty() {
        container["args"] = json!(p.command);
    }
    if p.feed_stdin {
        container["stdinOnce"] = json!(true);
    }
    let mut pod_security = json!({
        "runAsNonRoot": true,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    });
    if p.capture {
        pod_security = json!({
            "runAsNonRoot": false,
            "runAsUser": 0,
            "runAsGroup": 0,
            "seccompProfile": {"type": "RuntimeDefault"},
        });
    }
    if !host {
        // A safe, namespaced sysctl: lets the unprivileged user open ICMP sockets.
        pod_security["sysctls"] =
            json!([{"name": "net.ipv4.ping_group_range", "value": "0 2147483647"}]);
    }
    let mut spec = json!({
        "restartPolicy": "Never",
        "automountServiceAccountToken": !p.capture,
        "securityContext": pod_security,
        "containers": [container],
    });
    if host {
        spec["hostNetwork"] = json!(true);
        // Without this a hostNetwork pod gets the node's resolv.conf, not cluster DNS.
        spec["dnsPolicy"] = json!("ClusterFirstWithHostNet");
        spec["tolerations"] = json!([{"operator": "Exists"}]);
    }
    if let Some(n) = &p.node {
        spec["nodeName"] = json!(n);
    }
    let mut metadata = json!({"name": p.name, "labels": {"app.kubernetes.io/name": "debugbox"}});
    if let Some(ns) = &p.namespace {
        metadata["namespace"] = json!(ns);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
}

/// The kubectl argv for the plan.
pub fn kubectl_args(p: &Plan, interactive: bool) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    match &p.pod {
        Some(pod) => {
            a.extend(["debug".into(), pod.clone()]);
            if interactive {
                a.push("-it".into());
            } else if p.feed_stdin {
                a.push("-i".into());
            }
            if let Some(ns) = &p.namespace {
                a.extend(["-n".into(), ns.clone()]);
            }
            a.push(format!("--image={}", p.image));
            if let Some(t) = &p.target {
                a.push(format!("--target={t}"));
            }
            if !p.command.is_empty() {
                a.push("--".into());
                a.extend(p.command.iter().cloned());
            }
        }
        None => {
            a.extend(["run".into(), p.name.clone()]);
            if let Some(ns) = &p.namespace {
                a.extend(["-n".into(), ns.clone()]);
            }
            a.push("--rm".into());
            a.push(if interactive && p.command.is_empty() {
                "-it".into()
            } else {
                "-i".into()
            });
            a.push("--restart=Never".into());
            if p.capture {
                // No "pod deleted" line after the pcap on stdout.
                a.push("--quiet".into());
            }
            a.push(format!("--image={}", p.image));
            let m = manifest(p);
            let overrides = json!({"apiVersion": "v1", "spec": m["spec"]});
            a.push(format!("--overrides={overrides}"));
        }
    }
    a
}

/// A small YAML writer for the manifests: maps, lists, strings, numbers, booleans. (The
/// serde_yaml crate is archived; this output only ever holds JSON-shaped data.)
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    write_yaml(v, 0, &mut out);
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
                && !matches!(
                    s.as_str(),
                    "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
                )
                && s.parse::<f64>().is_err();
            if plain {
                s.clone()
            } else {
                Value::String(s.clone()).to_string()
            }
        }
        other => other.to_string(),
    }
}

fn write_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                match val {
                    Value::Object(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        write_yaml(val, indent + 2, out);
                    }
                    Value::Array(items) if !items.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        write_yaml(val, indent, out);
                    }
                    Value::Object(_) => out.push_str(&format!("{pad}{k}: {{}}\n")),
                    Value::Array(_) => out.push_str(&format!("{pad}{k}: []\n")),
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(val))),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        write_yaml(item, indent + 2, &mut inner);
                        // The first key goes on the dash line.
                        let rest = inner.trim_start_matches(' ');
                        out.push_str(&format!("{pad}- {rest}"));
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn pod_name() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id();
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    let suffix: String = (0..5)
        .map(|i| alphabet[((n >> (i * 5)) as usize) % alphabet.len()] as char)
        .collect();
    format!("debugbox-{suffix}")
}

/// `kubectl debugbox diagnose`'s flags.
pub fn diagnose_command() -> Command {
    Command::new("kubectl-debugbox diagnose")
        .about("diagnose a Service from inside the cluster with the objects your kubectl can read")
        .override_usage("kubectl debugbox diagnose SVC [-n NS] [--from POD | --node NODE] [--image IMG] [--dry-run] [-- DIAGNOSE-FLAGS...]")
        .arg(Arg::new("service").value_name("SVC").required(true).help("the Service (NAME[:PORT]) to diagnose"))
        .arg(Arg::new("namespace").short('n').long("namespace").value_name("NS").help("the Service's namespace (default: kubectl's)"))
        .arg(Arg::new("from").long("from").value_name("POD").conflicts_with("node").help("probe from next to this client pod (its network identity: NetworkPolicies apply as to it)"))
        .arg(Arg::new("node").long("node").value_name("NODE").help("probe from this node's network (hostNetwork)"))
        .arg(Arg::new("image").long("image").value_name("IMG").default_value(DEFAULT_IMAGE).help("debugbox image"))
        .arg(Arg::new("dry-run").long("dry-run").action(ArgAction::SetTrue).help("print the kubectl commands instead of running them"))
        .arg(Arg::new("extra").num_args(0..).last(true).value_name("DIAGNOSE-FLAGS").help("more diagnose flags (-j, --timeout …)"))
}

/// The objects diagnose reads: namespaced ones from the Service's namespace, then the
/// cluster-scoped ones. Each is one `kubectl get … -o json`.
pub fn object_reads(namespace: Option<&str>) -> Vec<Vec<String>> {
    let mut namespaced: Vec<String> = vec![
        "get".into(),
        "services,endpointslices,pods,ingresses,networkpolicies".into(),
    ];
    if let Some(ns) = namespace {
        namespaced.extend(["-n".into(), ns.into()]);
    }
    namespaced.extend(["-o".into(), "json".into()]);
    let cluster: Vec<String> = ["get", "nodes,ingressclasses", "-o", "json"]
        .map(String::from)
        .to_vec();
    // The cluster DNS Service and its EndpointSlices (they carry its labels): diagnose asks
    // its pods directly when the DNS address does not answer.
    let dns: Vec<String> = [
        "get",
        "services,endpointslices",
        "-n",
        "kube-system",
        "-l",
        "k8s-app=kube-dns",
        "-o",
        "json",
    ]
    .map(String::from)
    .to_vec();
    vec![namespaced, cluster, dns]
}

/// The plan for where diagnose runs, with the command that reads the objects from stdin.
pub fn diagnose_plan(
    service: &str,
    namespace: Option<&str>,
    from: Option<&str>,
    node: Option<&str>,
    image: &str,
    extra: &[String],
) -> Plan {
    let mut command: Vec<String> = vec!["diagnose".into(), service.into()];
    if let Some(ns) = namespace {
        command.extend(["-n".into(), ns.into()]);
    }
    command.extend(["--objects".into(), "-".into()]);
    command.extend(extra.iter().cloned());
    Plan {
        pod: from.map(String::from),
        node: node.map(String::from),
        host_network: node.is_some(),
        namespace: namespace.map(String::from),
        image: image.into(),
        target: None,
        name: pod_name(),
        command,
        feed_stdin: true,
        capture: false,
    }
}

/// The flags of `name` (the plugin or one of its subcommands): Some, or None when its help was
/// asked for and printed; a usage error is one line with the hint to ask for that help.
fn sub_matches(cmd: Command, name: &str, args: &[OsString]) -> Result<Option<clap::ArgMatches>> {
    let argv = std::iter::once(OsString::from(name)).chain(args.iter().cloned());
    match cmd.try_get_matches_from(argv) {
        Ok(m) => Ok(Some(m)),
        Err(e) => match ClapEnd::of(&e) {
            ClapEnd::Help(text) => {
                output::print(&text)?;
                Ok(None)
            }
            ClapEnd::Usage(line) => {
                let hint = format!("{} --help", name.replacen('-', " ", 1));
                Err(Error::usage(line).hint(hint))
            }
        },
    }
}

fn shell_line(args: &[String]) -> String {
    shlex::try_join(std::iter::once("kubectl").chain(args.iter().map(String::as_str)))
        .unwrap_or_default()
}

fn run_diagnose(args: &[OsString]) -> Result<i32> {
    let Some(m) = sub_matches(diagnose_command(), "kubectl-debugbox diagnose", args)? else {
        return Ok(0);
    };
    let text = |id: &str| m.get_one::<String>(id).map(String::as_str);
    let extra: Vec<String> = m
        .get_many::<String>("extra")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let plan = diagnose_plan(
        text("service").unwrap_or_default(),
        text("namespace"),
        text("from"),
        text("node"),
        text("image").unwrap_or(DEFAULT_IMAGE),
        &extra,
    );
    let reads = object_reads(text("namespace"));
    // stdin carries the objects, so no terminal: `-i`, never `-t`.
    let kargs = kubectl_args(&plan, false);
    if m.get_flag("dry-run") {
        let mut lines = String::from(
            "# the objects, read with your credentials:
",
        );
        for r in &reads {
            lines.push_str(&shell_line(r));
            lines.push('\n');
        }
        lines.push_str(
            "# diagnose where the probes come from, the objects on its stdin:
",
        );
        lines.push_str(&shell_line(&kargs));
        lines.push('\n');
        output::print(&lines)?;
        return Ok(0);
    }
    let mut objects = Vec::new();
    for r in &reads {
        let out = std::process::Command::new("kubectl")
            .args(r)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| {
                Error::local(format!("cannot run kubectl: {}", crate::error::os_text(&e)))
                    .hint("install kubectl, or use --dry-run to see the commands")
            })?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            return Err(Error::local(format!(
                "{} failed: {}",
                shell_line(r),
                why.lines().next().unwrap_or("").trim()
            ))
            .hint("kubectl auth can-i list pods shows what your credentials may read"));
        }
        objects.extend_from_slice(&out.stdout);
        objects.push(b'\n');
    }
    let mut child = std::process::Command::new("kubectl")
        .args(&kargs)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::local(format!("cannot run kubectl: {}", crate::error::os_text(&e))))?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        // diagnose reads its objects to the end before it probes: a closed pipe here means it
        // stopped early, and its own error says why.
        let _ = stdin.write_all(&objects);
    }
    let status = child
        .wait()
        .map_err(|e| Error::local(format!("kubectl: {}", crate::error::os_text(&e))))?;
    Ok(status.code().unwrap_or(crate::error::EXIT_USAGE))
}

/// `kubectl debugbox capture`'s flags.
pub fn capture_command() -> Command {
    Command::new("kubectl-debugbox capture")
        .about("capture a pod's packets from its node: a root NET_RAW pod on the host network runs tcpdump --pod-ip, pcap comes to stdout")
        .override_usage("kubectl debugbox capture POD [-n NS] [--in NS] [--image IMG] [--dry-run] [-- TCPDUMP-ARGS...] > pod.pcap")
        .arg(Arg::new("pod").value_name("POD").required(true).help("the pod whose traffic to capture"))
        .arg(Arg::new("namespace").short('n').long("namespace").value_name("NS").help("the pod's namespace (default: kubectl's)"))
        .arg(Arg::new("in").long("in").value_name("NS").help("namespace for the capture pod, which needs the privileged Pod Security level (default: the pod's)"))
        .arg(Arg::new("image").long("image").value_name("IMG").default_value(DEFAULT_IMAGE).help("debugbox image"))
        .arg(Arg::new("dry-run").long("dry-run").action(ArgAction::SetTrue).help("print the kubectl commands instead of running them"))
        .arg(Arg::new("extra").num_args(0..).last(true).value_name("TCPDUMP-ARGS").help("tcpdump flags and filter (-c, -s, port 8080 …)"))
}

/// The capture pod for a pod on `node` with address `ip`.
pub fn capture_plan(
    node: &str,
    ip: &str,
    namespace: Option<&str>,
    image: &str,
    extra: &[String],
) -> Plan {
    let mut command: Vec<String> = ["tcpdump", "--pod-ip", ip, "-U", "-w", "-"]
        .map(String::from)
        .to_vec();
    command.extend(extra.iter().cloned());
    Plan {
        pod: None,
        node: Some(node.into()),
        host_network: true,
        namespace: namespace.map(String::from),
        image: image.into(),
        target: None,
        name: pod_name(),
        command,
        feed_stdin: false,
        capture: true,
    }
}

/// The read of the pod's node and address.
pub fn pod_read(pod: &str, namespace: Option<&str>) -> Vec<String> {
    let mut a: Vec<String> = vec!["get".into(), "pod".into(), pod.into()];
    if let Some(ns) = namespace {
        a.extend(["-n".into(), ns.into()]);
    }
    a.extend([
        "-o".into(),
        "jsonpath={.spec.nodeName} {.status.podIP}".into(),
    ]);
    a
}

fn kubectl(args: &[String]) -> Result<std::process::Output> {
    std::process::Command::new("kubectl")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::local(format!("cannot run kubectl: {}", crate::error::os_text(&e)))
                .hint("install kubectl, or use --dry-run to see the commands")
        })
}

fn run_capture(args: &[OsString]) -> Result<i32> {
    let Some(m) = sub_matches(capture_command(), "kubectl-debugbox capture", args)? else {
        return Ok(0);
    };
    let text = |id: &str| m.get_one::<String>(id).map(String::as_str);
    let extra: Vec<String> = m
        .get_many::<String>("extra")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let pod = text("pod").unwrap_or_default();
    let target_ns = text("namespace");
    let capture_ns = text("in").or(target_ns);
    let image = text("image").unwrap_or(DEFAULT_IMAGE);
    let read = pod_read(pod, target_ns);
    if m.get_flag("dry-run") {
        // A script that runs as printed: the read fills NODE and POD_IP.
        let plan = capture_plan("$NODE", "$POD_IP", capture_ns, image, &extra);
        let kargs = kubectl_args(&plan, false);
        let mut lines = String::from("# the pod's node and address:\n");
        lines.push_str(&format!("read NODE POD_IP < <({})\n", shell_line(&read)));
        lines.push_str("# a capture pod on that node (root, NET_RAW only, host network), pcap on stdout, deleted at the end:\n");
        let run = shell_line(&kargs);
        lines.push_str(
            &run.replace("$NODE", "'\"$NODE\"'")
                .replace("$POD_IP", "'\"$POD_IP\"'"),
        );
        lines.push('\n');
        output::print(&lines)?;
        return Ok(0);
    }
    let out = kubectl(&read)?;
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    let mut words = said.split_whitespace();
    let (Some(node), Some(ip)) = (words.next(), words.next()) else {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why.lines().next().unwrap_or("").trim();
        return Err(Error::local(if why.is_empty() {
            format!(
                "pod {pod} has no node or no address yet (kubectl said {:?})",
                said.trim()
            )
        } else {
            format!("{} failed: {why}", shell_line(&read))
        })
        .hint("kubectl get pod -o wide shows where it runs"));
    };
    let plan = capture_plan(node, ip, capture_ns, image, &extra);
    eprintln!("kubectl debugbox: capturing {pod} ({ip}) from a pod on node {node}; Ctrl-C ends it");
    let kargs = kubectl_args(&plan, false);
    // Ctrl-C ends kubectl's stream; the capture pod is deleted below in every case.
    crate::sys::process::catch_interrupt_and_term();
    let status = std::process::Command::new("kubectl")
        .args(&kargs)
        .stdin(std::process::Stdio::null())
        .status()
        .map_err(|e| Error::local(format!("cannot run kubectl: {}", crate::error::os_text(&e))))?;
    let mut delete: Vec<String> = vec![
        "delete".into(),
        "pod".into(),
        plan.name.clone(),
        "--ignore-not-found".into(),
        "--wait=false".into(),
    ];
    if let Some(ns) = capture_ns {
        delete.extend(["-n".into(), ns.into()]);
    }
    let gone = std::process::Command::new("kubectl")
        .args(&delete)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status();
    if !gone.is_ok_and(|s| s.success()) {
        eprintln!(
            "kubectl debugbox: could not delete the capture pod: {}",
            shell_line(&delete)
        );
    }
    Ok(status.code().unwrap_or(0))
}

pub fn run(args: &[OsString]) -> Result<i32> {
    if args.first().is_some_and(|a| a == "diagnose") {
        return run_diagnose(&args[1..]);
    }
    if args.first().is_some_and(|a| a == "capture") {
        return run_capture(&args[1..]);
    }
    let Some(m) = sub_matches(command(), "kubectl-debugbox", args)? else {
        return Ok(0);
    };
    let plan = Plan {
        pod: m.get_one::<String>("pod").cloned(),
        node: m.get_one::<String>("node").cloned(),
        host_network: m.get_flag("host-network"),
        namespace: m.get_one::<String>("namespace").cloned(),
        image: m
            .get_one::<String>("image")
            .cloned()
            .unwrap_or_else(|| DEFAULT_IMAGE.into()),
        target: m.get_one::<String>("target").cloned(),
        name: m
            .get_one::<String>("name")
            .cloned()
            .unwrap_or_else(pod_name),
        command: m
            .get_many::<String>("command")
            .map(|v| v.cloned().collect())
            .unwrap_or_default(),
        feed_stdin: false,
        capture: false,
    };
    if plan.pod.is_some() && (plan.node.is_some() || plan.host_network) {
        return Err(
            Error::usage("POD and --node/--host-network do not go together")
                .hint("an ephemeral container shares the pod's network"),
        );
    }
    if let Some(fmt) = m.get_one::<String>("output") {
        if plan.pod.is_some() {
            return Err(Error::usage("-o prints a Pod manifest; with POD, kubectl debug adds an ephemeral container instead").hint("use --dry-run"));
        }
        let manifest = manifest(&plan);
        let text = if fmt == "json" {
            format!("{manifest:#}\n")
        } else {
            to_yaml(&manifest)
        };
        output::print(&text)?;
        return Ok(0);
    }
    use std::io::IsTerminal;
    let interactive = std::io::stdin().is_terminal();
    let kargs = kubectl_args(&plan, interactive || m.get_flag("dry-run"));
    if m.get_flag("dry-run") {
        output::print(&format!("{}\n", shell_line(&kargs)))?;
        return Ok(0);
    }
    use std::os::unix::process::CommandExt;
    let err = std::process::Command::new("kubectl").args(&kargs).exec();
    Err(Error::local(format!("cannot run kubectl: {err}"))
        .hint("install kubectl, or use --dry-run to see the command"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            pod: None,
            node: None,
            host_network: false,
            namespace: Some("shop".into()),
            image: "debugbox:test".into(),
            target: None,
            name: "debugbox-x".into(),
            command: vec![],
            feed_stdin: false,
            capture: false,
        }
    }

    #[test]
    fn restricted_pod() {
        let m = manifest(&plan());
        assert_eq!(m["spec"]["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            m["spec"]["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        assert_eq!(
            m["spec"]["containers"][0]["securityContext"]["capabilities"]["drop"][0],
            "ALL"
        );
        assert_eq!(
            m["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
            true
        );
        assert_eq!(
            m["spec"]["securityContext"]["sysctls"][0]["name"],
            "net.ipv4.ping_group_range"
        );
        assert!(m["spec"].get("hostNetwork").is_none());
    }

    #[test]
    fn node_pod_uses_the_overrides_that_work() {
        let mut p = plan();
        p.node = Some("node-1".into());
        let m = manifest(&p);
        assert_eq!(m["spec"]["nodeName"], "node-1");
        assert_eq!(m["spec"]["hostNetwork"], true);
        assert_eq!(m["spec"]["dnsPolicy"], "ClusterFirstWithHostNet");
        assert_eq!(m["spec"]["tolerations"][0]["operator"], "Exists");
        assert_eq!(
            m["spec"]["containers"][0]["securityContext"]["capabilities"]["add"][0],
            "NET_RAW"
        );
        let args = kubectl_args(&p, true);
        assert_eq!(&args[..4], &["run", "debugbox-x", "-n", "shop"]);
        let overrides = args
            .iter()
            .find_map(|a| a.strip_prefix("--overrides="))
            .unwrap();
        let v: Value = serde_json::from_str(overrides).unwrap();
        assert_eq!(v["spec"]["nodeName"], "node-1");
    }

    #[test]
    fn ephemeral_container_next_to_a_pod() {
        let mut p = plan();
        p.pod = Some("web-1".into());
        p.target = Some("app".into());
        p.command = vec!["ping".into(), "-c1".into(), "web".into()];
        assert_eq!(
            kubectl_args(&p, true),
            vec![
                "debug",
                "web-1",
                "-it",
                "-n",
                "shop",
                "--image=debugbox:test",
                "--target=app",
                "--",
                "ping",
                "-c1",
                "web"
            ]
        );
    }

    #[test]
    fn diagnose_reads_with_kubectl_and_runs_where_asked() {
        let reads = object_reads(Some("shop"));
        assert_eq!(
            reads[0],
            [
                "get",
                "services,endpointslices,pods,ingresses,networkpolicies",
                "-n",
                "shop",
                "-o",
                "json"
            ]
        );
        assert_eq!(reads[1], ["get", "nodes,ingressclasses", "-o", "json"]);
        assert_eq!(
            reads[2][..6],
            [
                "get",
                "services,endpointslices",
                "-n",
                "kube-system",
                "-l",
                "k8s-app=kube-dns"
            ]
        );
        let p = diagnose_plan("web:3000", Some("shop"), None, None, "img", &["-j".into()]);
        let args = kubectl_args(&p, false);
        assert_eq!(&args[..2], &["run", p.name.as_str()]);
        assert!(args.contains(&"--rm".to_string()) && args.contains(&"-i".to_string()));
        let overrides: Value = serde_json::from_str(
            args.iter()
                .find_map(|a| a.strip_prefix("--overrides="))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            overrides["spec"]["containers"][0]["args"],
            json!(["diagnose", "web:3000", "-n", "shop", "--objects", "-", "-j"])
        );
        assert_eq!(overrides["spec"]["containers"][0]["stdin"], true);
        assert_eq!(overrides["spec"]["containers"][0]["tty"], false);
        let from = diagnose_plan("web", Some("shop"), Some("client-1"), None, "img", &[]);
        assert_eq!(
            kubectl_args(&from, false),
            [
                "debug",
                "client-1",
                "-i",
                "-n",
                "shop",
                "--image=img",
                "--",
                "diagnose",
                "web",
                "-n",
                "shop",
                "--objects",
                "-"
            ]
        );
        let node = diagnose_plan("web", None, None, Some("n1"), "img", &[]);
        assert_eq!(manifest(&node)["spec"]["nodeName"], "n1");
    }

    #[test]
    fn capture_pod_is_root_with_net_raw_on_the_pods_node() {
        let p = capture_plan(
            "node-7",
            "10.244.3.9",
            Some("shop"),
            "img:1",
            &["-c".into(), "10".into(), "port".into(), "80".into()],
        );
        let m = manifest(&p);
        assert_eq!(m["spec"]["nodeName"], "node-7");
        assert_eq!(m["spec"]["hostNetwork"], true);
        assert_eq!(m["spec"]["securityContext"]["runAsUser"], 0);
        assert_eq!(m["spec"]["automountServiceAccountToken"], false);
        let c = &m["spec"]["containers"][0];
        assert_eq!(
            c["securityContext"]["capabilities"]["add"],
            json!(["NET_RAW"])
        );
        assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(
            c["args"],
            json!([
                "tcpdump",
                "--pod-ip",
                "10.244.3.9",
                "-U",
                "-w",
                "-",
                "-c",
                "10",
                "port",
                "80"
            ])
        );
        let a = kubectl_args(&p, false);
        assert!(
            a.contains(&"--rm".to_string())
                && a.contains(&"--quiet".to_string())
                && a.contains(&"-i".to_string())
        );
        assert!(
            !a.contains(&"-it".to_string()),
            "a terminal would mangle the pcap: {a:?}"
        );
        assert_eq!(
            pod_read("web-1", Some("shop")),
            [
                "get",
                "pod",
                "web-1",
                "-n",
                "shop",
                "-o",
                "jsonpath={.spec.nodeName} {.status.podIP}"
            ]
        );
    }

    #[test]
    fn yaml_round_trips_through_a_parser_shape() {
        let y = to_yaml(&manifest(&plan()));
        assert!(
            y.starts_with("apiVersion: v1\nkind: Pod\nmetadata:\n"),
            "{y}"
        );
        assert!(
            y.contains("  containers:\n  - name: debugbox\n    image: debugbox:test\n"),
            "{y}"
        );
        assert!(y.contains("      value: \"0 2147483647\"\n"), "{y}");
        assert!(y.contains("        drop:\n        - ALL\n"), "{y}");
    }
}
