//! The table of applets. Each row names an applet, its aliases, a clap `Command` builder (used for
//! `--help`, shell completions and, where the tool's grammar allows, for parsing) and its entry
//! point. Adding an applet means adding its folder under `src/applets/` and one row here.

use crate::error::Result;
use clap::Command;
use std::ffi::OsString;

pub mod curl;
pub mod diagnose;
pub mod dig;
pub mod ip;
pub mod iperf3;
pub mod kubectl_debugbox;
pub mod mesh;
pub mod mtr;
pub mod nc;
pub mod nslookup;
pub mod ping;
pub mod shell;
pub mod ss;
pub mod tcpdump;
pub mod tracepath;
pub mod traceroute;

pub struct Applet {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub about: &'static str,
    /// The clap description of the applet's flags.
    pub command: fn() -> Command,
    /// Runs the applet on its arguments (without argv\[0\]); returns the exit code.
    pub run: fn(&[OsString]) -> Result<i32>,
}

pub const APPLETS: &[Applet] = &[
    Applet {
        name: "curl",
        aliases: &[],
        about: "HTTP and HTTPS transfers, curl compatible, with -w timings (rustls)",
        command: curl::command,
        run: curl::run,
    },
    Applet {
        name: "diagnose",
        aliases: &[],
        about: "walk a Service's paths (DNS, ClusterIP, endpoints, NodePort, LB, Ingress) and name the broken hop",
        command: diagnose::command,
        run: diagnose::run,
    },
    Applet {
        name: "dig",
        aliases: &[],
        about: "DNS lookup (bind's dig layout); +explain shows the search-list walk",
        command: dig::command,
        run: dig::run,
    },
    Applet {
        name: "ip",
        aliases: &[],
        about: "show routes, addresses, links and neighbours (iproute2 compatible, read-only)",
        command: ip::command,
        run: ip::run,
    },
    Applet {
        name: "iperf3",
        aliases: &[],
        about: "throughput between pods and nodes, speaking iperf3's protocol (client and server)",
        command: iperf3::command,
        run: iperf3::run,
    },
    Applet {
        name: "mesh",
        aliases: &[],
        about: "DaemonSet agent: every node checks the others (ICMP, MTU, TCP, HTTP, DNS), serves /metrics and a matrix page; `mesh status` names the broken node, link or zone",
        command: mesh::command,
        run: mesh::run,
    },
    Applet {
        name: "mtr",
        aliases: &[],
        about: "loss and round trips for every hop (mtr 0.95 --report compatible): ICMP, UDP or TCP probes",
        command: mtr::command,
        run: mtr::run,
    },
    Applet {
        name: "nc",
        aliases: &["netcat"],
        about: "connect, listen and scan ports: TCP, UDP, Unix (OpenBSD netcat compatible)",
        command: nc::command,
        run: nc::run,
    },
    Applet {
        name: "nslookup",
        aliases: &[],
        about: "query the DNS server (bind compatible); --explain shows the search-list walk",
        command: nslookup::command,
        run: nslookup::run,
    },
    Applet {
        name: "ping",
        aliases: &["ping4", "ping6"],
        about: "ICMP echo (raw or unprivileged) or TCP connect probes, iputils compatible",
        command: ping::command,
        run: ping::run,
    },
    Applet {
        name: "ss",
        aliases: &[],
        about: "who listens, who is connected (iproute2's ss: TCP, UDP, raw, Unix)",
        command: ss::command,
        run: ss::run,
    },
    Applet {
        name: "tcpdump",
        aliases: &[],
        about: "capture packets (tcpdump compatible: BPF filters in the kernel, pcap in and out, --pod-ip)",
        command: tcpdump::command,
        run: tcpdump::run,
    },
    Applet {
        name: "shell",
        aliases: &[],
        about: "interactive prompt with completion and history (the image's default)",
        command: shell::command,
        run: shell::run,
    },
    Applet {
        name: "kubectl-debugbox",
        aliases: &[],
        about: "kubectl plugin: debugbox in a new pod, on a node, or next to a pod",
        command: kubectl_debugbox::command,
        run: kubectl_debugbox::run,
    },
    Applet {
        name: "tracepath",
        aliases: &[],
        about: "the hops to a host and the path MTU (iputils tracepath compatible), unprivileged",
        command: tracepath::command,
        run: tracepath::run,
    },
    Applet {
        name: "traceroute",
        aliases: &[],
        about: "the hops to a host (traceroute 2.1 compatible): UDP, ICMP or TCP probes, unprivileged",
        command: traceroute::command,
        run: traceroute::run,
    },
];

/// The applet called `name`, by its name or one of its aliases.
pub fn find(name: &str) -> Option<&'static Applet> {
    APPLETS
        .iter()
        .find(|a| a.name == name || a.aliases.contains(&name))
}

/// Every name an applet answers to: what `--install` links and `--list` prints.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    APPLETS
        .iter()
        .flat_map(|a| std::iter::once(a.name).chain(a.aliases.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_plain() {
        let mut names: Vec<&str> = all_names().collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "an applet name or alias is used twice");
        for name in names {
            assert!(
                !name.is_empty() && !name.contains('/'),
                "bad applet name {name:?}"
            );
        }
    }

    #[test]
    fn every_command_builds() {
        for a in APPLETS {
            let cmd = (a.command)();
            assert_eq!(cmd.get_name(), a.name);
            cmd.debug_assert();
        }
    }
}
