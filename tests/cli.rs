//! The multi-call binary itself: dispatch by argv[0] and argv[1], --list, --install,
//! --version, completions, and the one-line errors. No privileges needed.

mod common;
use common::*;
use std::process::Command;

#[test]
fn applet_by_symlink_name_and_by_argument() {
    let by_name = run(Command::new(applet("ip")).args(["-V"]));
    let by_arg = run(Command::new(bin()).args(["ip", "-V"]));
    assert_eq!(by_name.code, 0, "{}", by_name.stderr);
    assert_eq!(by_name.stdout, by_arg.stdout);
    assert!(
        by_name.stdout.starts_with("ip utility, debugbox-"),
        "{}",
        by_name.stdout
    );
}

#[test]
fn list_names_every_applet() {
    let r = run(Command::new(bin()).arg("--list"));
    assert_eq!(r.code, 0);
    let names: Vec<&str> = r.stdout.lines().collect();
    assert!(names.contains(&"ip"), "{names:?}");
    let j = run(Command::new(bin()).args(["--list", "--json"]));
    assert_eq!(j.code, 0);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().any(|a| a["name"] == "ip"));
}

#[test]
fn version() {
    let r = run(Command::new(bin()).arg("--version"));
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout.trim(),
        format!("debugbox {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_applet_is_one_line_and_exit_2() {
    let r = run(Command::new(bin()).arg("frobnicate"));
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("unknown applet \"frobnicate\""),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--list"), "{}", r.stderr);
    let r = run(Command::new(bin()).arg("--bogus-flag"));
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let r = run(Command::new(bin()).args(["completions", shell]));
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("debugbox"), "{shell}");
    }
    let bash = run(Command::new(bin()).args(["completions", "bash"])).stdout;
    assert!(
        bash.contains("complete -F _ip")
            || bash.contains(" ip\n")
            || bash.contains("-o default ip"),
        "bash completes the ip symlink too"
    );
    let r = run(Command::new(bin()).args(["completions", "tcsh"]));
    assert_eq!(r.code, 2);
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("debugbox-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn install_creates_symlinks_and_is_idempotent() {
    let dir = temp_dir("install");
    for _ in 0..2 {
        let r = run(Command::new(bin()).arg("--install").arg(&dir));
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let link = dir.join("ip");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let r = run(Command::new(&link).arg("-V"));
    assert_eq!(r.code, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn install_never_overwrites_a_foreign_file() {
    let dir = temp_dir("install-conflict");
    std::fs::write(dir.join("ip"), "not ours").unwrap();
    let r = run(Command::new(bin()).arg("--install").arg(&dir));
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("not a debugbox symlink"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(dir.join("ip")).unwrap(), "not ours");
    // A symlink to something else is not ours either.
    std::fs::remove_file(dir.join("ip")).unwrap();
    std::os::unix::fs::symlink("/bin/true", dir.join("ip")).unwrap();
    let r = run(Command::new(bin()).arg("--install").arg(&dir));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("symlink to something else"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
    let r = run(Command::new(bin()).args(["--install", "/nonexistent/dir"]));
    assert_eq!(r.code, 2);
}

#[test]
fn ip_usage_errors_are_one_line_exit_2() {
    for args in [
        vec!["-x"],
        vec!["bogus"],
        vec!["route", "frobnicate"],
        vec!["-f"],
        vec!["route", "get"],
        vec!["rule", "frob"],
        vec!["nexthop", "frob"],
        vec!["xfrm"],
    ] {
        let r = run(Command::new(applet("ip")).args(&args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("debugbox ip: "),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty());
    }
    // No object: usage on stderr, exit 2, like iproute2.
    let r = run(&mut Command::new(applet("ip")));
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("Usage: ip"));
    let r = run(Command::new(applet("ip")).arg("help"));
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("OBJECT"));
}

#[test]
fn ip_refuses_to_change_anything() {
    let r = run(Command::new(applet("ip")).args(["route", "add", "default", "via", "10.0.0.1"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("debugbox is read-only"), "{}", r.stderr);
}

#[test]
fn closed_stdout_pipe_is_quiet() {
    // `debugbox ip -s link | head -c1`: the writer must not panic or print an error.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} -s -s link | head -c 1 >/dev/null; {} -s -s link | true",
            applet("ip").display(),
            applet("ip").display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn diagnose_usage_errors_are_one_line_exit_2() {
    for args in [
        &[][..],
        &["web:0"],
        &["web", "--timeout", "x"],
        &["web.a", "-n", "b"],
        &["ftp://x"],
    ] {
        let r = run(Command::new(applet("diagnose")).args(args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("debugbox diagnose: "), "{}", r.stderr);
    }
    let h = run(Command::new(applet("diagnose")).arg("--help"));
    assert_eq!(h.code, 0);
    assert!(h.stdout.contains("--endpoints"));
}

#[test]
fn path_and_throughput_tools_usage_errors_are_one_line_exit_2() {
    for (tool, args) in [
        ("traceroute", &[][..]),
        ("traceroute", &["-q", "11", "h"]),
        ("traceroute", &["-f", "9", "-m", "5", "h"]),
        ("traceroute", &["-w", "x", "h"]),
        ("traceroute", &["-s", "nope", "h"]),
        ("tracepath", &[]),
        ("tracepath", &["-m", "300", "h"]),
        ("tracepath", &["-4", "-6", "h"]),
        ("tracepath", &["-l", "10", "127.0.0.1"]),
        ("mtr", &[]),
        ("mtr", &["-c", "0", "h"]),
        ("mtr", &["-o", "LZ", "h"]),
        ("iperf3", &[]),
        ("iperf3", &["-c", "h", "-P", "0"]),
        ("iperf3", &["-c", "h", "-s"]),
        ("iperf3", &["-c", "h", "-b", "fast"]),
    ] {
        let r = run(Command::new(applet(tool)).args(args));
        assert_eq!(r.code, 2, "{tool} {args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{tool} {args:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with(&format!("debugbox {tool}: ")),
            "{}",
            r.stderr
        );
    }
    for tool in ["traceroute", "tracepath", "mtr", "iperf3"] {
        let h = run(Command::new(applet(tool)).arg("--help"));
        assert_eq!(h.code, 0, "{tool}");
        assert!(h.stdout.contains("-n"), "{tool}");
    }
}

/// The read-only account for diagnose: every resource it reads, read verbs only, no Secrets.
#[test]
fn rbac_manifest_reads_only_what_diagnose_reads() {
    let y = std::fs::read_to_string(repo().join("image/k8s/rbac.yaml")).unwrap();
    for res in [
        "services",
        "endpointslices",
        "pods",
        "nodes",
        "ingresses",
        "ingressclasses",
        "networkpolicies",
    ] {
        assert!(y.contains(&format!("\"{res}\"")), "{res} missing");
    }
    for line in y.lines().filter(|l| l.trim_start().starts_with("verbs:")) {
        assert_eq!(line.trim(), "verbs: [\"get\", \"list\", \"watch\"]");
    }
    let rules: String = y
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    for forbidden in [
        "secrets",
        "configmaps",
        "create",
        "update",
        "patch",
        "delete",
        "\"*\"",
    ] {
        assert!(!rules.contains(forbidden), "{forbidden} in the rules");
    }
}
