//! `ss` against iproute2's ss on a namespace full of sockets (scripts/lab-sockets.py): the same
//! text for the forms people type, `-p` as root and as a user, `-j` parsed.

mod common;
use common::*;
use std::process::Command;

fn sockets() -> Scratch {
    let ns = Scratch::new("ss");
    let ready = ns.spawn(&[
        "python3",
        repo().join("scripts/lab-sockets.py").to_str().unwrap(),
        "variety",
    ]);
    assert!(ready.starts_with("ready"), "lab-sockets: {ready}");
    ns
}

#[test]
fn listings_match_iproute2_ss() {
    let ns = sockets();
    for form in [
        "-tln",
        "-tlnp",
        "-tan",
        "-ta",
        "-t",
        "-uan",
        "-ua",
        "-xa",
        "-x",
        "-xap",
        "-tane",
        "-tanm",
        "-taneo",
        "-tlni",
        "-4 -ta",
        "-6 -ta",
        "-tanO",
        "-tanH",
        "-wa",
        "-s",
        "-tlnT",
        "-A unix,tcp -a",
        "-A inet -a",
        "-f inet6 -a",
        "-xe",
        "-xm",
        "-ta state established",
        "-ta state listening",
        "-ta state connected",
        "-ta exclude listening",
        "-tn sport = :3000",
        "-tan dport = :3000",
        "-tan ( sport = :3000 or sport = :3001 )",
        "-tan dst 127.0.0.1",
        "-tan src [::1]",
        "-ta sport = :ssh",
        "-tan sport > :1024 and not dport = :3000",
        "-xa src unix:/tmp/*",
        "-ua dport = :53",
        "-tan autobound",
        "-tlna",
    ] {
        same_as_reference(&ns.0, "ss", form);
    }
}

#[test]
fn processes_as_root_and_as_a_user() {
    let ns = sockets();
    same_as_reference(&ns.0, "ss", "-tlnp");
    // As nobody without capabilities: the sockets are listed, their owners are not (they
    // belong to root), exactly as ss shows it.
    let drop = |tool: &str| -> String {
        let path = if tool == "ours" {
            applet("ss").to_string_lossy().into_owned()
        } else {
            "ss".to_string()
        };
        let out = Command::new("ip")
            .args(["netns", "exec", &ns.0])
            .args(NOBODY)
            .args([&path, "-tlnp"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ours = drop("ours");
    assert_eq!(ours, drop("ss"));
    assert!(
        ours.contains("127.0.0.1:3000") && !ours.contains("users:"),
        "{ours}"
    );
}

#[test]
fn json_has_every_socket() {
    let ns = sockets();
    let text = in_netns(&ns.0, &["ss", "-tan"].map(std::ffi::OsStr::new));
    let json = in_netns(
        &ns.0,
        &[applet("ss").as_os_str(), std::ffi::OsStr::new("-tanj")],
    );
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let rows = text.stdout.lines().count() - 1;
    assert_eq!(v.as_array().map(Vec::len), Some(rows), "{}", json.stdout);
    assert!(
        json.stdout.contains("\"local_port\":\"3000\""),
        "{}",
        json.stdout
    );
    assert!(json.stdout.contains("\"state\":\"LISTEN\""));
}

#[test]
fn bad_input_is_one_line() {
    for (args, want) in [
        (&["-K"][..], "read-only"),
        (&["-q"][..], "invalid option"),
        (&["state", "bogus"][..], "wrong state name"),
        (&["-tn", "(", "sport", "=", ":1"][..], "syntax error"),
        (&["dst", "10.0.0.0/99"][..], "inet prefix"),
    ] {
        let r = run(Command::new(applet("ss")).args(args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
    }
}
