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

/// A Service picks one of its two pods at random: the pod's name is not part of the comparison;
/// nor is a server's Date header, whose second may tick between the two requests.
fn any_pod(s: &str) -> String {
    s.replace("hello from web1", "hello from webN")
        .replace("hello from web2", "hello from webN")
        .split_inclusive('\n')
        .map(|l| match l.strip_prefix("Date: ") {
            Some(rest) => format!(
                "Date: (now){}",
                &rest[rest.trim_end_matches(['\r', '\n']).len()..]
            ),
            None => l.to_string(),
        })
        .collect()
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

/// The request as an echo server saw it, without what differs by design (User-Agent) or by
/// chance (multipart boundaries).
fn normal(s: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in s.lines().filter(|l| !l.starts_with("User-Agent:")) {
        let mut l = line.to_string();
        if let Some(i) = l.find("------------------------") {
            let end = (i + 24..l.len())
                .find(|&j| !l.as_bytes()[j].is_ascii_hexdigit() && l.as_bytes()[j] != b'-')
                .unwrap_or(l.len());
            l.replace_range(i..end, "BOUNDARY");
        }
        out.push(l);
    }
    out.join("\n")
}

/// Same exit code and the same normalized stdout as curl.
fn alike(lab: &Lab, args: &[&str]) -> Run {
    let (ours, theirs) = both(lab, args);
    assert_eq!(
        ours.code, theirs.code,
        "{args:?}\nours: {}{}\ncurl: {}{}",
        ours.stdout, ours.stderr, theirs.stdout, theirs.stderr
    );
    assert_eq!(
        normal(&ours.stdout),
        normal(&theirs.stdout),
        "{args:?}\nours stderr: {}\ncurl stderr: {}",
        ours.stderr,
        theirs.stderr
    );
    ours
}

fn escaped(url: &str) -> String {
    url.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const FEATURES: &str = "http://10.244.2.10:9009";

fn redirect_to(status: u16, to: &str) -> String {
    format!("{FEATURES}/redirect?status={status}&to={}", escaped(to))
}

#[test]
fn credentials_stay_with_their_host() {
    let lab = lab();
    // Another port and another host name: both another origin for curl.
    let elsewhere = [
        "http://tls.default.svc.cluster.local:9008/landed",
        "http://10.244.2.10:9008/landed",
    ];
    for to in elsewhere {
        for creds in [
            vec!["-H", "Authorization: Bearer sa-token"],
            vec!["-u", "user:secret"],
            vec!["-H", "Cookie: session=1"],
        ] {
            let url = redirect_to(302, to);
            let mut args = vec!["-sL"];
            args.extend(&creds);
            args.push(&url);
            let r = alike(&lab, &args);
            assert!(
                !r.stdout.contains("Authorization"),
                "{args:?}: {}",
                r.stdout
            );
            assert!(!r.stdout.contains("session=1"), "{args:?}: {}", r.stdout);
            // --location-trusted sends them on, as curl does.
            args[0] = "-s";
            args.insert(1, "--location-trusted");
            let r = alike(&lab, &args);
            assert!(
                r.stdout.contains("Authorization") || r.stdout.contains("session=1"),
                "{args:?}: {}",
                r.stdout
            );
        }
    }
    // The same origin keeps them; credentials in the URL become Basic auth.
    let same = redirect_to(302, &format!("{FEATURES}/landed"));
    let r = alike(&lab, &["-sL", "-H", "Authorization: Bearer t", &same]);
    assert!(r.stdout.contains("Authorization: Bearer t"));
    let userinfo = "http://user:p%40ss@10.244.2.10:9009/userinfo";
    let r = alike(&lab, &["-s", userinfo]);
    assert!(
        r.stdout.contains("Authorization: Basic dXNlcjpwQHNz"),
        "{}",
        r.stdout
    );
}

#[test]
fn redirect_methods_and_bodies_as_curl() {
    let lab = lab();
    let to = format!("{FEATURES}/landed");
    for status in [301, 302, 303, 307, 308] {
        let url = redirect_to(status, &to);
        let post = format!("--post{status}");
        for extra in [
            vec![],
            vec!["-X", "POST"],
            vec!["-X", "PUT"],
            vec![post.as_str()],
        ] {
            if status >= 307 && extra.len() == 1 {
                continue; // there is no --post307
            }
            let mut args = vec!["-sL", "-d", "a=1"];
            args.extend(&extra);
            args.push(&url);
            alike(&lab, &args);
        }
        let up = std::env::temp_dir().join(format!("dbx-up-{}", std::process::id()));
        std::fs::write(&up, "uploaded\n").unwrap();
        alike(&lab, &["-sL", "-T", up.to_str().unwrap(), &url]);
        let _ = std::fs::remove_file(up);
    }
    // -X POST without data: a bodiless POST, no chunked framing.
    let r = alike(&lab, &["-s", "-X", "POST", &format!("{FEATURES}/nobody")]);
    assert!(
        !r.stdout.to_lowercase().contains("transfer-encoding"),
        "{}",
        r.stdout
    );
    // One request kind: -I with -d is a usage error with curl's warning.
    let (ours, theirs) = both(&lab, &["-sI", "-d", "a=1", &to]);
    assert_eq!((ours.code, theirs.code), (2, 2));
    assert_eq!(ours.stderr.trim_end(), theirs.stderr.trim_end());
}

#[test]
fn trust_what_curl_trusts() {
    let lab = lab();
    let pki = format!("/run/debugbox-lab/{}/pki", lab.name);
    // The usual `openssl req -x509` certificate (CA:TRUE) given as --cacert for itself.
    let selfsigned = format!("{pki}/selfsigned.crt");
    for url in [
        "https://tls.default.svc.cluster.local:9446/",
        "https://10.244.2.10:9446/",
    ] {
        alike(&lab, &["-s", "--cacert", &selfsigned, "-w", STABLE, url]);
    }
    // The same certificate does not make a wrong name right.
    let r = alike(
        &lab,
        &[
            "-sS",
            "--cacert",
            &selfsigned,
            "https://web2.test:9446/",
            "--resolve",
            "web2.test:9446:10.244.2.10",
        ],
    );
    assert!(
        r.stderr.starts_with("curl: (60) SSL: no alternative"),
        "{}",
        r.stderr
    );
    // --capath: a directory with hashed names (as c_rehash makes) and plain PEM files.
    let dir = std::env::temp_dir().join(format!("dbx-capath-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hash = std::process::Command::new("openssl")
        .args(["x509", "-hash", "-noout", "-in", &format!("{pki}/ca.crt")])
        .output()
        .unwrap();
    let hash = String::from_utf8_lossy(&hash.stdout).trim().to_string();
    std::fs::copy(format!("{pki}/ca.crt"), dir.join(format!("{hash}.0"))).unwrap();
    alike(
        &lab,
        &[
            "-s",
            "--capath",
            dir.to_str().unwrap(),
            "-w",
            STABLE,
            "https://tls.default.svc.cluster.local:9443/",
        ],
    );
    let _ = std::fs::remove_dir_all(dir);
    // -w certs with the chain (ours: the fields rustls gives), num_certs as curl counts them.
    let r = lab.applet(
        "debug",
        "curl",
        &[
            "-s",
            "-o",
            "/dev/null",
            "--cacert",
            &format!("{pki}/ca.crt"),
            "-w",
            "%{num_certs}\n%{certs}",
            "https://tls.default.svc.cluster.local:9443/",
        ],
    );
    assert!(
        r.stdout
            .starts_with("1\nSubject:CN=tls.default.svc.cluster.local"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn forms_data_and_uploads_as_curl() {
    let lab = lab();
    let dir = std::env::temp_dir().join(format!("dbx-forms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let txt = dir.join("note.txt");
    std::fs::write(&txt, "hello file\n").unwrap();
    let data = dir.join("d.txt");
    std::fs::write(&data, "a=1\nsecond line\n").unwrap();
    let (txt, data) = (txt.to_str().unwrap(), data.to_str().unwrap());
    let echo = format!("{FEATURES}/echo");
    let up = format!("{FEATURES}/up/");
    let f1 = format!("f=@{txt}");
    let f2 = format!("f=@{txt};type=text/x-custom;filename=other.bin");
    let f3 = format!("t=<{data}");
    let u1 = format!("@{data}");
    let u2 = format!("n@{data}");
    for args in [
        vec!["-s", "-F", "a=1", "-F", f1.as_str(), echo.as_str()],
        vec![
            "-s",
            "-F",
            f2.as_str(),
            "-F",
            f3.as_str(),
            "--form-string",
            "s=@lit",
            echo.as_str(),
        ],
        vec![
            "-s",
            "--data-urlencode",
            "q=a b&c",
            "--data-urlencode",
            "=x y",
            "--data-urlencode",
            u1.as_str(),
            "--data-urlencode",
            u2.as_str(),
            echo.as_str(),
        ],
        vec![
            "-s",
            "-G",
            "-d",
            "a=1",
            "--data-urlencode",
            "q=a b",
            "http://10.244.2.10:9009/g?z=1",
        ],
        vec!["-s", "-T", txt, up.as_str()],
        vec![
            "-s",
            "--http1.0",
            "-e",
            "http://ref.example/",
            "-r",
            "0-10",
            echo.as_str(),
        ],
        vec![
            "-s",
            "-b",
            "a=1; b=2",
            "-H",
            "X-A: 1",
            "-H",
            "Accept:",
            echo.as_str(),
        ],
    ] {
        alike(&lab, &args);
    }
    // -T - sends stdin chunked, with Expect: 100-continue, as curl.
    let run = |bin: &str| {
        let mut c = std::process::Command::new("ip");
        c.args([
            "netns",
            "exec",
            &lab.ns("debug"),
            bin,
            "-s",
            "-T",
            "-",
            &echo,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"from stdin\n")
            .unwrap();
        String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned()
    };
    let ours = run(applet("curl").to_str().unwrap());
    assert_eq!(normal(&ours), normal(&run("curl")));
    assert!(
        ours.contains("Transfer-Encoding: chunked") && ours.ends_with("from stdin\n"),
        "{ours}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn retries_as_curl() {
    let lab = lab();
    // The server fails twice per key: each tool gets its own key.
    let run = |bin: &[&str], key: &str, extra: &[&str]| {
        let url = format!("{FEATURES}/fail-twice?key={key}");
        let mut argv: Vec<&str> = bin.to_vec();
        argv.extend(["-s", "--retry-delay", "1", "-w", " %{http_code}\n"]);
        argv.extend(extra);
        argv.push(&url);
        lab.exec("debug", &argv)
    };
    let me = applet("curl");
    let me = me.to_str().unwrap();
    let tag = std::process::id();
    for (i, extra) in [vec!["--retry", "3"], vec!["--retry", "1"], vec![]]
        .iter()
        .enumerate()
    {
        let ours = run(&[me], &format!("d{tag}-{i}"), extra);
        let theirs = run(&["curl"], &format!("c{tag}-{i}"), extra);
        assert_eq!(ours.code, theirs.code, "{extra:?}");
        assert_eq!(ours.stdout, theirs.stdout, "{extra:?}");
    }
}

#[test]
fn connections_elsewhere_as_curl() {
    let lab = lab();
    let sock = format!("/run/debugbox-lab/{}/http.sock", lab.name);
    let pki = format!("/run/debugbox-lab/{}/pki", lab.name);
    for args in [
        vec![
            "-s",
            "--unix-socket",
            sock.as_str(),
            "http://localhost/unix",
        ],
        vec![
            "-s",
            "--connect-to",
            "::10.244.2.10:9009",
            "http://anything.example:1234/x",
        ],
        vec![
            "-s",
            "--connect-to",
            "tls.default.svc.cluster.local:443:10.244.2.10:9443",
            "--cacert",
            &format!("{pki}/ca.crt"),
            "https://tls.default.svc.cluster.local/",
        ],
        vec![
            "-s",
            "--interface",
            "eth0",
            "-w",
            "%{local_ip}",
            "-o",
            "/dev/null",
            FEATURES,
        ],
        vec![
            "-s",
            "--interface",
            "10.244.1.5",
            "-w",
            "%{local_ip}",
            "-o",
            "/dev/null",
            FEATURES,
        ],
        vec!["-sS", "--interface", "nosuch0", FEATURES],
    ] {
        let r = alike(&lab, &args);
        if args.contains(&"nosuch0") {
            assert_eq!(r.stderr.trim(), "curl: (45) Couldn't bind to 'nosuch0'");
        }
    }
}

#[test]
fn bodies_in_every_framing_as_curl() {
    let lab = lab();
    for path in [
        "/http10",
        "/chunked-split",
        "/interim",
        "/odd-headers",
        "/empty-location",
        "/utf8-location",
    ] {
        let url = format!("{FEATURES}{path}");
        alike(
            &lab,
            &[
                "-s",
                "-w",
                " %{size_download} %{http_version} %{http_code}",
                &url,
            ],
        );
        alike(&lab, &["-si", &url]);
        alike(&lab, &["-sL", &url]);
    }
    for path in ["/gzip", "/deflate"] {
        alike(&lab, &["-s", "--compressed", &format!("{FEATURES}{path}")]);
    }
    // A compression bomb: curl writes 200 MiB; debugbox stops with curl's 61 and says why.
    let r = lab.applet(
        "debug",
        "curl",
        &[
            "-sS",
            "--compressed",
            "-o",
            "/dev/null",
            &format!("{FEATURES}/gzip-bomb"),
        ],
    );
    assert_eq!(r.code, 61, "{}", r.stderr);
    assert!(r.stderr.contains("compression bomb"), "{}", r.stderr);
}

#[test]
fn files_cookies_and_traces_as_curl() {
    let lab = lab();
    let dir = std::env::temp_dir().join(format!("dbx-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = |n: &str| dir.join(n).to_string_lossy().into_owned();
    // -D and -c to stdout, -b from a cookie file, cookies kept along a redirect.
    alike(
        &lab,
        &[
            "-s",
            "-D",
            "-",
            "-c",
            "-",
            &format!("{FEATURES}/set-cookie"),
        ],
    );
    let to_cookie = redirect_to(302, &format!("{FEATURES}/set-cookie"));
    alike(&lab, &["-sL", "-c", "-", &to_cookie]);
    let jar = d("jar");
    lab.applet(
        "debug",
        "curl",
        &[
            "-s",
            "-o",
            "/dev/null",
            "-c",
            &jar,
            &format!("{FEATURES}/set-cookie"),
        ],
    );
    alike(
        &lab,
        &["-s", "-b", &jar, &format!("{FEATURES}/with-cookies")],
    );
    // -C - resumes where the file ends; a server without ranges is curl's 33.
    for (bin, file) in [("ours", d("part-ours")), ("curl", d("part-curl"))] {
        let mut argv: Vec<String> = if bin == "ours" {
            vec![applet("curl").to_string_lossy().into_owned()]
        } else {
            vec!["curl".into()]
        };
        argv.extend(
            [
                "-s",
                "-r",
                "0-99",
                "-o",
                &file,
                &format!("{FEATURES}/range"),
            ]
            .map(String::from),
        );
        let a: Vec<&str> = argv.iter().map(String::as_str).collect();
        assert_eq!(lab.exec("debug", &a).code, 0);
        let mut argv2 = argv[..1].to_vec();
        argv2
            .extend(["-s", "-C", "-", "-o", &file, &format!("{FEATURES}/range")].map(String::from));
        let a: Vec<&str> = argv2.iter().map(String::as_str).collect();
        assert_eq!(lab.exec("debug", &a).code, 0);
    }
    assert_eq!(
        std::fs::read(d("part-ours")).unwrap(),
        std::fs::read(d("part-curl")).unwrap()
    );
    alike(&lab, &["-sS", "-C", "5", "http://10.244.1.10:8080/"]);
    alike(
        &lab,
        &["-sS", "--max-filesize", "100", &format!("{FEATURES}/range")],
    );
    alike(
        &lab,
        &[
            "-s",
            "--fail-with-body",
            "-w",
            " %{http_code}",
            "http://10.244.1.10:8080/status/404",
        ],
    );
    // -J -O takes the server's file name, and refuses to overwrite one.
    let jdir = d("j");
    std::fs::create_dir_all(&jdir).unwrap();
    let me = applet("curl");
    let j = lab.exec(
        "debug",
        &[
            "sh",
            "-c",
            &format!(
                "cd {jdir} && {} -s -O -J {FEATURES}/disposition && cat report.txt",
                me.display()
            ),
        ],
    );
    assert_eq!((j.code, j.stdout.as_str()), (0, "report\n"));
    let again = lab.exec(
        "debug",
        &[
            "sh",
            "-c",
            &format!(
                "cd {jdir} && {} -sS -O -J {FEATURES}/disposition",
                me.display()
            ),
        ],
    );
    let theirs = lab.exec(
        "debug",
        &[
            "sh",
            "-c",
            &format!("cd {jdir} && curl -sS -O -J {FEATURES}/disposition"),
        ],
    );
    assert_eq!(
        (again.code, again.stderr.trim()),
        (theirs.code, theirs.stderr.trim())
    );
    // -K config files.
    let rc = d("curlrc");
    std::fs::write(
        &rc,
        format!("silent\nurl = \"{FEATURES}/cfg\"\nheader = \"X-From: config\"\n"),
    )
    .unwrap();
    alike(&lab, &["-K", &rc]);
    // --trace-ascii: the same blocks as curl, byte counts aside (the User-Agent differs).
    let shape = |s: &str| {
        s.lines()
            .filter(|l| {
                l.starts_with("=>") || l.starts_with("<=") || l.starts_with("== Info: Connected")
            })
            .map(|l| l.split(',').next().unwrap_or(l).to_string())
            .collect::<Vec<_>>()
    };
    let (ours, theirs) = both(
        &lab,
        &[
            "-s",
            "-o",
            "/dev/null",
            "--trace-ascii",
            "-",
            "-d",
            "a=1",
            &format!("{FEATURES}/t"),
        ],
    );
    assert_eq!(shape(&ours.stdout), shape(&theirs.stdout));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn write_out_has_curls_variables() {
    let lab = lab();
    let keys = |s: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(s.trim()).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    };
    let (ours, theirs) = both(
        &lab,
        &["-s", "-o", "/dev/null", "-w", "%{json}", "http://web:3000/"],
    );
    assert_eq!(keys(&ours.stdout), keys(&theirs.stdout));
    let hj = "%{header_json}";
    let (ours, theirs) = both(
        &lab,
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            hj,
            &format!("{FEATURES}/set-cookie"),
        ],
    );
    let strip_date = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("date"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip_date(&ours.stdout), strip_date(&theirs.stdout));
    alike(
        &lab,
        &[
            "-s",
            "-w",
            "%{url} %{urlnum} %{referer} %{num_headers} %{http_connect} %{http_version} %header{content-length}\n",
            "-e",
            "http://r/",
            "-o",
            "/dev/null",
            &format!("{FEATURES}/set-cookie"),
            "http://10.244.1.10:8080/healthz",
        ],
    );
}

#[test]
fn output_that_cannot_be_written_fails_as_curl() {
    let lab = lab();
    let me = applet("curl");
    for redirect in [">/dev/full", ">&-", "| head -c 1 >/dev/null"] {
        let run = |bin: &str| {
            lab.exec(
                "debug",
                &["bash", "-c", &format!("{bin} -s http://10.244.2.10:9005/bytes/300000 {redirect}; echo \"rc=${{PIPESTATUS[0]}}\"")],
            )
        };
        let ours = run(me.to_str().unwrap());
        let theirs = run("curl");
        assert_eq!(ours.stdout, theirs.stdout, "{redirect}");
        assert!(ours.stdout.contains("rc=23"), "{redirect}: {}", ours.stdout);
    }
}
