//! The one error type every applet returns: an exit code, a one-line message and an optional hint.
//!
//! `main` turns it into `debugbox APPLET: message (hint)` on stderr and the exit code, in one place.
//! Applets that imitate a tool with its own error format (curl's `curl: (7) …`) mark the error
//! `verbatim` so the line is printed exactly as given.

use std::fmt;

/// Exit code for "the network said no": no reply, NXDOMAIN, a failing hop.
pub const EXIT_FAIL: i32 = 1;
/// Exit code for usage errors and local failures.
pub const EXIT_USAGE: i32 = 2;

/// What parsing an applet's command line comes to: run with this configuration, or print help
/// or the version and exit 0.
#[derive(Debug)]
pub enum Parsed<T> {
    Run(T),
    Help(String),
    Version,
}

impl<T> Parsed<T> {
    /// The configuration to run with, or None once the help or the version line (made by
    /// `version`) was printed: every applet's run() opens with this.
    pub fn or_print(self, version: impl FnOnce() -> String) -> Result<Option<T>> {
        match self {
            Parsed::Run(c) => Ok(Some(c)),
            Parsed::Help(h) => crate::output::print(&h).map(|_| None),
            Parsed::Version => crate::output::print(&version()).map(|_| None),
        }
    }
}

/// An applet's arguments (its name first) through clap: the matches to read, or what to print
/// instead (the help, or the version when the command has a set `version` flag), or the
/// one-line usage error that `usage` makes of clap's message.
pub fn clap_matches<T>(
    cmd: clap::Command,
    argv: impl IntoIterator<Item = std::ffi::OsString>,
    usage: impl FnOnce(String) -> Error,
) -> Result<std::result::Result<clap::ArgMatches, Parsed<T>>> {
    match cmd.try_get_matches_from(argv) {
        Ok(m) if matches!(m.try_get_one::<bool>("version"), Ok(Some(true))) => {
            Ok(Err(Parsed::Version))
        }
        Ok(m) => Ok(Ok(m)),
        Err(e) => match ClapEnd::of(&e) {
            ClapEnd::Help(text) => Ok(Err(Parsed::Help(text))),
            ClapEnd::Usage(line) => Err(usage(line)),
        },
    }
}

/// An OS error as the C tools print it: `Connection refused`, without Rust's ` (os error 111)`.
pub fn os_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: i32,
    pub message: String,
    pub hint: Option<String>,
    /// Print `message` as is, without the `debugbox APPLET:` prefix or the hint.
    pub verbatim: bool,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A usage error (bad flag, bad value): exit 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(EXIT_USAGE, message)
    }

    /// A local failure (no permission, no such device, netlink refused): exit 2.
    pub fn local(message: impl Into<String>) -> Self {
        Self::new(EXIT_USAGE, message)
    }

    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            hint: None,
            verbatim: false,
        }
    }

    /// An error line already in the imitated tool's own format, printed as is.
    pub fn verbatim(code: i32, line: impl Into<String>) -> Self {
        Error {
            code,
            message: line.into(),
            hint: None,
            verbatim: true,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The line `main` prints for this error when it came from `applet`.
    pub fn line(&self, applet: &str) -> String {
        if self.verbatim {
            return self.message.clone();
        }
        match &self.hint {
            Some(h) => format!("debugbox {applet}: {} ({h})", self.message),
            None => format!("debugbox {applet}: {}", self.message),
        }
    }
}

/// How a clap parse that did not produce matches ends.
pub enum ClapEnd {
    /// `--help` (or `--version`): print the text, exit 0.
    Help(String),
    /// A usage error: clap's message as one line, without its "error: " prefix.
    Usage(String),
}

impl ClapEnd {
    pub fn of(e: &clap::Error) -> Self {
        use clap::error::ErrorKind;
        let text = e.render().to_string();
        match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ClapEnd::Help(text),
            _ => {
                let line = text
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("invalid arguments");
                ClapEnd::Usage(line.trim_start_matches("error: ").trim().to_string())
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_failures_become_help_or_one_line() {
        let cmd = || {
            clap::Command::new("x").arg(
                clap::Arg::new("n")
                    .long("n")
                    .value_parser(clap::value_parser!(u8)),
            )
        };
        match ClapEnd::of(&cmd().try_get_matches_from(["x", "--n", "300"]).unwrap_err()) {
            ClapEnd::Usage(line) => {
                assert!(
                    line.starts_with("invalid value '300' for '--n <n>'"),
                    "{line}"
                );
                assert!(!line.contains('\n'));
            }
            ClapEnd::Help(t) => panic!("not help: {t}"),
        }
        assert!(
            matches!(ClapEnd::of(&cmd().try_get_matches_from(["x", "--help"]).unwrap_err()), ClapEnd::Help(t) if t.contains("--n"))
        );
    }

    #[test]
    fn clap_matches_gives_matches_help_version_or_one_usage_line() {
        let cmd = || {
            clap::Command::new("x")
                .disable_version_flag(true)
                .arg(
                    clap::Arg::new("version")
                        .long("version")
                        .action(clap::ArgAction::SetTrue),
                )
                .arg(
                    clap::Arg::new("n")
                        .long("n")
                        .value_parser(clap::value_parser!(u8)),
                )
        };
        let run = |args: &[&str]| {
            let argv = std::iter::once("x")
                .chain(args.iter().copied())
                .map(std::ffi::OsString::from);
            clap_matches::<()>(cmd(), argv, |line| Error::usage(line).hint("x --help"))
        };
        let m = run(&["--n", "3"]).unwrap().unwrap();
        assert_eq!(m.get_one::<u8>("n"), Some(&3));
        assert!(matches!(run(&["--version"]), Ok(Err(Parsed::Version))));
        assert!(matches!(run(&["--help"]), Ok(Err(Parsed::Help(t))) if t.contains("--n")));
        let e = run(&["--n", "300"]).unwrap_err();
        assert_eq!((e.code, e.hint.as_deref()), (EXIT_USAGE, Some("x --help")));
        assert!(!e.message.contains('\n'));
        let printed = Parsed::Run(7).or_print(|| "v\n".into()).unwrap();
        assert_eq!(printed, Some(7));
    }

    #[test]
    fn os_errors_read_like_the_c_tools() {
        let e = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(os_text(&e), "Connection refused");
        assert_eq!(os_text(&std::io::Error::other("plain")), "plain");
    }

    #[test]
    fn line_has_prefix_and_hint() {
        let e = Error::local("no CAP_NET_RAW").hint("use --tcp PORT");
        assert_eq!(
            e.line("ping"),
            "debugbox ping: no CAP_NET_RAW (use --tcp PORT)"
        );
        assert_eq!(e.code, EXIT_USAGE);
    }

    #[test]
    fn verbatim_is_printed_as_given() {
        let e = Error::verbatim(7, "curl: (7) Failed to connect");
        assert_eq!(e.line("curl"), "curl: (7) Failed to connect");
        assert_eq!(e.code, 7);
    }
}
