//! Helpers shared by the integration tests: running the built binary through its applet names,
//! and the namespace lab (scripts/lab) with a unique name per test process.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock, Weak};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_debugbox")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory of applet symlinks (`ip -> debugbox`, …) made by `debugbox --install`.
pub fn applet_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("debugbox-applets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new(bin())
            .arg("--install")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "--install failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// The path of an applet symlink, so tests call `ping`, `ip`, … by name.
pub fn applet(name: &str) -> PathBuf {
    applet_dir().join(name)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub fn run(cmd: &mut Command) -> Run {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
        .into()
}

pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Tests that need root fail loudly without it, never skip quietly.
pub fn require_root() {
    assert!(
        is_root(),
        "this test builds network namespaces and needs root: run scripts/test as root (CI does)"
    );
}

/// One lab (scripts/lab) per test process, shared by the tests that run at the same time and
/// torn down when the last of them is done, also when a test fails.
pub struct Lab {
    pub name: String,
}

static SHARED: Mutex<Weak<Lab>> = Mutex::new(Weak::new());
static COUNTER: Mutex<u32> = Mutex::new(0);

pub fn lab() -> Arc<Lab> {
    require_root();
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(l) = shared.upgrade() {
        return l;
    }
    let n = {
        let mut c = COUNTER.lock().unwrap_or_else(|e| e.into_inner());
        *c += 1;
        *c
    };
    let name = format!("t{}{}", std::process::id(), (b'a' + (n % 26) as u8) as char);
    let out = run(Command::new(repo().join("scripts/lab"))
        .args(["--name", &name, "up"])
        .env("DEBUGBOX_LAB_OWNER", std::process::id().to_string()));
    assert_eq!(
        out.code, 0,
        "lab up failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    let l = Arc::new(Lab { name });
    *shared = Arc::downgrade(&l);
    l
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/lab"))
            .args(["--name", &self.name, "down"])
            .output();
    }
}

impl Lab {
    pub fn ns(&self, host: &str) -> String {
        format!("{}-{host}", self.name)
    }

    /// Run `argv` inside the lab host `host` (debug, web1, node1, …).
    pub fn exec(&self, host: &str, argv: &[&str]) -> Run {
        run(Command::new("ip")
            .args(["netns", "exec", &self.ns(host)])
            .args(argv))
    }

    /// Run a debugbox applet by its name inside `host`.
    pub fn applet(&self, host: &str, name: &str, args: &[&str]) -> Run {
        let path = applet(name);
        let mut argv = vec![path.to_str().unwrap()];
        argv.extend_from_slice(args);
        self.exec(host, &argv)
    }
}

impl Lab {
    /// Where scripts/lab keeps this lab's files (PKI, service account, logs).
    pub fn state_dir(&self) -> PathBuf {
        PathBuf::from(format!("/run/debugbox-lab/{}", self.name))
    }

    /// Switch the lab to a scenario (scripts/lab scenario NAME): one thing broken, or none.
    pub fn scenario(&self, name: &str) {
        let out =
            run(Command::new(repo().join("scripts/lab"))
                .args(["--name", &self.name, "scenario", name]));
        assert_eq!(
            out.code, 0,
            "scenario {name} failed:\n{}\n{}",
            out.stdout, out.stderr
        );
    }
}

/// The prefix that runs a command as nobody with every capability dropped (a restricted pod).
pub const NOBODY: &[&str] = &[
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
];

pub fn in_netns(ns: &str, argv: &[&std::ffi::OsStr]) -> Run {
    run(Command::new("ip").args(["netns", "exec", ns]).args(argv))
}

/// dnsmasq in namespace `ns`, listening on `listen` only and answering what `answers` says
/// (dnsmasq options: `--address=/NAME/IP`, `--addn-hosts=FILE`) and nothing else (no resolv.conf,
/// no /etc/hosts). It runs as a daemon in the namespace (its pid file in `dir`) and goes with the
/// namespace's processes.
pub fn start_dnsmasq(ns: &str, listen: &str, answers: &[String], dir: &Path) {
    let mut argv: Vec<String> = vec!["dnsmasq".into(), "--no-resolv".into(), "--no-hosts".into()];
    argv.extend(answers.iter().cloned());
    argv.push(format!("--listen-address={listen}"));
    argv.extend(["--bind-interfaces", "-u", "root"].map(String::from));
    argv.push(format!("--pid-file={}/dnsmasq.pid", dir.display()));
    let argv: Vec<&std::ffi::OsStr> = argv.iter().map(std::ffi::OsStr::new).collect();
    let r = in_netns(ns, &argv);
    assert_eq!(r.code, 0, "dnsmasq: {}", r.stderr);
}

/// Run the reference `tool`, then debugbox's applet of the same name, then the reference again,
/// in namespace `ns`; when the two reference runs agree (counters and timers move), debugbox
/// must print exactly the same.
pub fn same_as_reference(ns: &str, tool: &str, args: &str) {
    let argv: Vec<&std::ffi::OsStr> = args.split_whitespace().map(std::ffi::OsStr::new).collect();
    same_as_reference_os(ns, tool, &argv, |s| s.to_string());
}

/// As same_as_reference, with arguments that may not be UTF-8 and a normalisation applied to
/// both outputs.
pub fn same_as_reference_os(
    ns: &str,
    tool: &str,
    argv: &[&std::ffi::OsStr],
    norm: impl Fn(&str) -> String,
) {
    use std::ffi::OsStr;
    let args = argv
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let mut reference: Vec<&OsStr> = vec![OsStr::new(tool)];
    reference.extend(argv);
    let ours_path = applet(tool);
    let mut ours_argv: Vec<&OsStr> = vec![ours_path.as_os_str()];
    ours_argv.extend(argv);
    for _ in 0..10 {
        let before = in_netns(ns, &reference);
        let ours = in_netns(ns, &ours_argv);
        let after = in_netns(ns, &reference);
        assert_eq!(
            before.code, 0,
            "`{tool} {args}` failed in {ns}: {}",
            before.stderr
        );
        if before.stdout != after.stdout {
            continue;
        }
        assert_eq!(
            ours.code, 0,
            "debugbox `{tool} {args}` failed in {ns}: {}",
            ours.stderr
        );
        assert_eq!(
            norm(&ours.stdout),
            norm(&before.stdout),
            "`{tool} {args}` in {ns} differs from the reference"
        );
        assert!(
            !ours.stdout.is_empty() || args.contains("neigh"),
            "`{tool} {args}` printed nothing"
        );
        return;
    }
    panic!("the reference `{tool} {args}` kept changing in {ns}");
}

/// A network namespace of the test's own (lo up), deleted with everything in it at the end.
pub struct Scratch(pub String, std::cell::RefCell<Vec<std::process::Child>>);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        require_root();
        // Tests of one binary run in parallel threads: each Scratch gets its own number.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("dbx-{tag}-{}-{n}", std::process::id());
        let s = Scratch(name, Default::default());
        let _ = Command::new("ip").args(["netns", "del", &s.0]).output();
        s.ip_os(&["netns", "add", &s.0].map(std::ffi::OsString::from));
        s.ip("link set lo up");
        s
    }

    pub fn ip_os(&self, argv: &[std::ffi::OsString]) {
        let r = run(Command::new("ip").args(argv));
        assert_eq!(r.code, 0, "ip {argv:?}: {}", r.stderr);
    }

    pub fn ip(&self, args: &str) {
        let mut argv = vec![
            std::ffi::OsString::from("-n"),
            std::ffi::OsString::from(&self.0),
        ];
        argv.extend(args.split_whitespace().map(std::ffi::OsString::from));
        self.ip_os(&argv);
    }

    /// A process running in the namespace until the Scratch goes away; returns once it printed
    /// its first line (`ready …`), which is returned.
    pub fn spawn(&self, argv: &[&str]) -> String {
        use std::io::BufRead;
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.0])
            .args(argv)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let out = child.stdout.take().unwrap();
        std::io::BufReader::new(out).read_line(&mut line).unwrap();
        self.1.borrow_mut().push(child);
        line
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &self.0]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).output();
            }
        }
        for mut child in self.1.borrow_mut().drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}
