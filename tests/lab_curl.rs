//! `curl` against curl on the lab: plain HTTP through Services, TLS with the lab CA, redirects,
//! POST bodies, `--resolve`, IPv6, and the hostile servers (exit codes and bounded time).

mod common;
use common::*;

fn ca(lab: &Lab) -> String {
    format!("/run/debugbox-lab/{}/pki/ca.crt", lab.name)
}

/// The -w variables that do not depend on timing or ports.
const STABLE: &str = "%{http_code} %{size_download} %{content_type} %{num_redirects} %{url_effective} %{remote_ip} %{remote_port} %{scheme} %{ssl_verify_result} %{exitcode} %{http_version}";

fn both(lab: &Lab, args: &[&str]) -> (Run, Run) {
    let mut argv = vec!["curl"];
    argv.extend_from_slice(args);
    (lab.applet("debug", "curl", args), lab.exec("debug", &argv))
}

/// A Service picks one of its two pods at random: the pod's name is not part of the comparison.
fn any_pod(s: &str) -> String {
    s.replace("hello from web1", "hello from webN")
        .replace("hello from web2", "hello from webN")
}

/// Same exit code, same stdout (body and -w output).
fn same(lab: &Lab, args: &[&str]) -> Run {
    let (ours, theirs) = both(lab, args);
    assert_eq!(
        ours.code, theirs.code,
        "{args:?}\nours: {}{}\ncurl: {}{}",
        ours.stdout, ours.stderr, theirs.stdout, theirs.stderr
    );
    assert_eq!(
        any_pod(&ours.stdout),
        any_pod(&theirs.stdout),
        "{args:?}\nours stderr: {}\ncurl stderr: {}",
        ours.stderr,
        theirs.stderr
    );
    ours
}

#[test]
fn the_seed_forms() {
    let lab = lab();
    same(&lab, &["-s", "web:3000"]);
    same(&lab, &["-s", "web.default:3000/healthz"]);
    same(
        &lab,
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}\n",
            "http://10.96.0.100:3000/",
        ],
    );
    same(&lab, &["-s", "-w", STABLE, "http://web:3000/healthz"]);
    same(
        &lab,
        &[
            "-s",
            "-H",
            "Host: shop.example.com",
            "http://172.18.0.241/healthz",
        ],
    );
    same(&lab, &["-s", "shop.example.com/healthz"]);
    // The API-server form: -k, -w http_code (the TLS stand-in answers 200).
    let ca = ca(&lab);
    same(
        &lab,
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--insecure",
            "https://tls.default.svc.cluster.local:9443/",
        ],
    );
    same(
        &lab,
        &[
            "-s",
            "--cacert",
            &ca,
            "-w",
            STABLE,
            "https://tls.default.svc.cluster.local:9443/",
        ],
    );
    same(
        &lab,
        &[
            "-s",
            "--cacert",
            &ca,
            "-w",
            STABLE,
            "https://[fd00:10:244:2::10]:9443/",
        ],
    );
}

#[test]
fn status_fail_head_include() {
    let lab = lab();
    same(
        &lab,
        &["-s", "-w", STABLE, "http://10.244.1.10:8080/status/404"],
    );
    same(
        &lab,
        &["-sf", "-w", STABLE, "http://10.244.1.10:8080/status/503"],
    );
    same(&lab, &["-s", "-I", "http://10.244.1.10:8080/"]);
    same(&lab, &["-s", "-i", "http://10.244.1.10:8080/healthz"]);
    let r = lab.applet(
        "debug",
        "curl",
        &["-sS", "-f", "http://10.244.1.10:8080/status/404"],
    );
    assert_eq!(r.code, 22);
    assert_eq!(
        r.stderr.trim(),
        "curl: (22) The requested URL returned error: 404"
    );
}

#[test]
fn resolve_redirects_and_ipv6() {
    let lab = lab();
    same(
        &lab,
        &[
            "-s",
            "--resolve",
            "anything.test:8080:10.244.1.10",
            "-w",
            STABLE,
            "http://anything.test:8080/healthz",
        ],
    );
    same(
        &lab,
        &["-s", "-L", "-w", STABLE, "http://10.244.2.10:9007/r/3"],
    );
    same(&lab, &["-s", "-w", STABLE, "http://10.244.2.10:9007/r/3"]);
    same(
        &lab,
        &[
            "-s",
            "-L",
            "--max-redirs",
            "2",
            "-w",
            STABLE,
            "http://10.244.2.10:9007/r/5",
        ],
    );
    same(
        &lab,
        &["-s", "-6", "-w", STABLE, "http://[fd00:10:244:1::10]:8080/"],
    );
    same(&lab, &["-s", "-4", "-w", STABLE, "http://web:3000/healthz"]);
}

#[test]
fn post_bodies() {
    let lab = lab();
    // The echo server sends back the request; drop the User-Agent line, which differs.
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("User-Agent:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let file = std::env::temp_dir().join(format!("debugbox-curl-post-{}", std::process::id()));
    std::fs::write(&file, "line1\r\nline2\n").unwrap();
    let at = format!("@{}", file.display());
    for args in [
        vec![
            "-s",
            "-d",
            "a=1",
            "-d",
            "b=2",
            "http://10.244.2.10:9008/x?y=1",
        ],
        vec!["-s", "--data-raw", "@literal", "http://10.244.2.10:9008/"],
        vec!["-s", "-d", at.as_str(), "http://10.244.2.10:9008/"],
        vec![
            "-s",
            "--data-binary",
            at.as_str(),
            "http://10.244.2.10:9008/",
        ],
        vec!["-s", "--json", "{\"a\":1}", "http://10.244.2.10:9008/"],
        vec![
            "-s",
            "-X",
            "PUT",
            "-H",
            "X-Test: yes",
            "-H",
            "X-Other: 2",
            "-d",
            "v",
            "http://10.244.2.10:9008/p",
        ],
        vec!["-s", "-u", "user:secret", "http://10.244.2.10:9008/auth"],
        vec![
            "-s",
            "-H",
            "Accept:",
            "-A",
            "agent/1",
            "http://10.244.2.10:9008/",
        ],
    ] {
        let (ours, theirs) = both(&lab, &args);
        assert_eq!(ours.code, theirs.code, "{args:?}");
        assert_eq!(strip(&ours.stdout), strip(&theirs.stdout), "{args:?}");
    }
    let _ = std::fs::remove_file(file);
}

#[test]
fn hostile_servers() {
    let lab = lab();
    let ca = ca(&lab);
    // (args, curl's exit code for us, the start of our message)
    for (args, code, msg) in [
        (
            vec!["-sS", "-m", "2", "http://10.244.2.10:9000/"],
            28,
            "curl: (28) Operation timed out after",
        ),
        (
            vec!["-sS", "http://10.244.2.10:9001/"],
            56,
            "curl: (56) Too large response headers",
        ),
        (
            vec!["-sS", "http://10.244.2.10:9002/"],
            56,
            "curl: (56) Too large response headers",
        ),
        (
            vec!["-sS", "-L", "http://10.244.2.10:9003/"],
            47,
            "curl: (47) Maximum (50) redirects followed",
        ),
        (
            vec!["-sS", "http://10.244.2.10:9004/"],
            18,
            "curl: (18) transfer closed with 900 bytes remaining to read",
        ),
        (
            vec!["-sS", "https://tls.default.svc.cluster.local:9443/"],
            60,
            "curl: (60) SSL certificate problem: unable to get local issuer certificate",
        ),
        (
            vec![
                "-sS",
                "--cacert",
                &ca,
                "https://tls.default.svc.cluster.local:9444/",
            ],
            60,
            "curl: (60) SSL certificate problem: certificate has expired",
        ),
        (
            vec![
                "-sS",
                "--cacert",
                &ca,
                "https://tls.default.svc.cluster.local:9445/",
            ],
            60,
            "curl: (60) SSL: no alternative certificate subject name matches target host name 'tls.default.svc.cluster.local'",
        ),
        (
            vec![
                "-sS",
                "--cacert",
                &ca,
                "https://tls.default.svc.cluster.local:9446/",
            ],
            60,
            "curl: (60) SSL certificate problem: self-signed certificate",
        ),
        (
            vec!["-sS", "nosuch"],
            6,
            "curl: (6) Could not resolve host: nosuch",
        ),
        (
            vec!["-sS", "http://10.244.1.10:9999/"],
            7,
            "curl: (7) Failed to connect to 10.244.1.10 port 9999 after",
        ),
        (
            vec!["-sS", "--connect-timeout", "1", "http://10.244.1.99:80/"],
            28,
            "curl: (28) Failed to connect to 10.244.1.99 port 80 after",
        ),
        (
            vec!["-sS", "ht!tp://x"],
            3,
            "curl: (3) URL using bad/illegal format or missing URL",
        ),
    ] {
        let r = lab.applet("debug", "curl", &args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with(msg), "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr.lines().count(),
            1,
            "{args:?}: one line: {}",
            r.stderr
        );
        // The same failure class as curl where curl's own behaviour is not a quirk.
        if ![9001, 9002, 9003]
            .iter()
            .any(|p| args.iter().any(|a| a.contains(&format!(":{p}/"))))
        {
            let mut argv = vec!["curl"];
            argv.extend_from_slice(&args);
            assert_eq!(
                lab.exec("debug", &argv).code,
                code,
                "curl disagrees on {args:?}"
            );
        }
    }
    // -k accepts the bad certificates, and says what was wrong in ssl_verify_result.
    let r = same(
        &lab,
        &[
            "-sk",
            "-w",
            " %{ssl_verify_result}",
            "--cacert",
            &ca,
            "https://tls.default.svc.cluster.local:9446/",
        ],
    );
    assert!(r.stdout.ends_with(" 18"), "{}", r.stdout);
    // -s alone is silent; -v says what happened.
    let r = lab.applet("debug", "curl", &["-s", "nosuch"]);
    assert!(r.stderr.is_empty());
    let r = lab.applet(
        "debug",
        "curl",
        &[
            "-sv",
            "--cacert",
            &ca,
            "https://tls.default.svc.cluster.local:9443/",
            "-o",
            "/dev/null",
        ],
    );
    for want in [
        "* Connected to tls.default.svc.cluster.local",
        "* SSL connection using TLSv1.3",
        "*  issuer: CN=debugbox lab CA",
        "> GET / HTTP/1.1",
        "< HTTP/1.1 200 OK",
    ] {
        assert!(
            r.stderr.contains(want),
            "missing {want:?} in:\n{}",
            r.stderr
        );
    }
}

#[test]
fn json_write_out() {
    let lab = lab();
    let r = lab.applet(
        "debug",
        "curl",
        &["-s", "-o", "/dev/null", "-j", "http://web:3000/"],
    );
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["http_code"], 200);
    assert_eq!(v["remote_port"], 3000);
    assert!(v["time_total"].as_f64().unwrap() >= v["time_connect"].as_f64().unwrap());
    assert!(v["time_connect"].as_f64().unwrap() >= v["time_namelookup"].as_f64().unwrap());
    let w = lab.applet(
        "debug",
        "curl",
        &["-s", "-o", "/dev/null", "-w", "%{json}", "http://web:3000/"],
    );
    let w: serde_json::Value = serde_json::from_str(w.stdout.trim()).unwrap();
    assert_eq!(
        w.as_object().unwrap().keys().collect::<Vec<_>>(),
        v.as_object().unwrap().keys().collect::<Vec<_>>()
    );
}

#[test]
fn downloads_to_files() {
    let lab = lab();
    let dir = std::env::temp_dir().join(format!("debugbox-curl-dl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("big");
    let r = lab.applet(
        "debug",
        "curl",
        &[
            "-s",
            "-o",
            out.to_str().unwrap(),
            "-w",
            "%{size_download}",
            "http://10.244.2.10:9005/bytes/3000000",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "3000000");
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 3_000_000);
    let r = lab.applet(
        "debug",
        "curl",
        &["-s", "-o", "/nonexistent/dir/x", "http://10.244.1.10:8080/"],
    );
    assert_eq!(r.code, 23);
    let _ = std::fs::remove_dir_all(dir);
}
