//! `debugbox shell`: the interactive prompt the image opens by default. Line editing, history and
//! tab completion (rustyline); each line runs one applet as a child process of this same binary,
//! so Ctrl-C stops the command and not the prompt. It is not a POSIX shell: no pipes, no
//! redirections, no variables.

use crate::applets::{self, APPLETS};
use crate::dns::conf;
use crate::error::{Error, Result};
use crate::here;
use clap::Command;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::ffi::OsString;

pub fn command() -> Command {
    Command::new("shell")
        .about("interactive prompt: run the applets by name, with completion and history")
}

const BUILTINS: &[&str] = &["help", "exit", "quit"];

/// What the user typed: a builtin, an applet with its arguments, or nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Empty,
    Exit,
    Help(Option<String>),
    Run(String, Vec<String>),
    Unknown(String),
    BadQuoting,
}

pub fn parse_line(line: &str) -> Line {
    let Some(words) = shlex::split(line) else {
        return Line::BadQuoting;
    };
    let Some(first) = words.first() else {
        return Line::Empty;
    };
    match first.as_str() {
        "exit" | "quit" | "logout" => Line::Exit,
        "help" | "?" => Line::Help(words.get(1).cloned()),
        name => match applets::find(name) {
            Some(a) if a.name != "shell" => Line::Run(a.name.to_string(), words[1..].to_vec()),
            _ => Line::Unknown(name.to_string()),
        },
    }
}

/// Candidates for the word under the cursor.
pub fn complete_words(line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = &line[..pos.min(line.len())];
    let start = before
        .rfind(char::is_whitespace)
        .map(|i| i + 1)
        .unwrap_or(0);
    let word = &before[start..];
    let first = before[..start].split_whitespace().next();
    let mut out: Vec<String> = match first {
        None => APPLETS
            .iter()
            .filter(|a| a.name != "shell")
            .flat_map(|a| std::iter::once(a.name).chain(a.aliases.iter().copied()))
            .chain(BUILTINS.iter().copied())
            .filter(|n| n.starts_with(word))
            .map(String::from)
            .collect(),
        Some("help") => APPLETS
            .iter()
            .map(|a| a.name)
            .filter(|n| n.starts_with(word))
            .map(String::from)
            .collect(),
        Some(name) if word.starts_with('-') => match applets::find(name) {
            Some(a) => {
                let cmd = (a.command)();
                cmd.get_arguments()
                    .flat_map(|arg| {
                        let mut v = Vec::new();
                        if let Some(l) = arg.get_long() {
                            v.push(format!("--{l}"));
                        }
                        if let Some(s) = arg.get_short() {
                            v.push(format!("-{s}"));
                        }
                        v
                    })
                    .filter(|f| f.starts_with(word))
                    .collect()
            }
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    out.sort();
    out.dedup();
    (start, out)
}

struct Completion;

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = complete_words(line, pos);
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: format!("{w} "),
                })
                .collect(),
        ))
    }
}

impl Hinter for Completion {
    type Hint = String;
}
impl Highlighter for Completion {}
impl Validator for Completion {}
impl Helper for Completion {}

/// Two or three lines saying where the prompt runs: pod, namespace, addresses, DNS.
pub fn banner() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let c = conf::system();
    let domain = here::cluster_domain(&c).unwrap_or_else(|| "cluster.local".into());
    let namespace = here::namespace_file(std::path::Path::new(here::SERVICEACCOUNT_DIR))
        .or_else(|| std::env::var("POD_NAMESPACE").ok())
        .or_else(|| here::namespace_from_search(&c, &domain))
        .filter(|n| !n.contains('.'));
    let network = here::network();
    let mut out = format!(
        "debugbox {} on {}",
        env!("CARGO_PKG_VERSION"),
        if host.is_empty() { "?" } else { &host }
    );
    if let Some(ns) = namespace {
        out.push_str(&format!(" (namespace {ns})"));
    }
    match &network {
        Ok(n) if !n.addresses.is_empty() => {
            let addrs: Vec<String> = n
                .addresses
                .iter()
                .map(|a| format!("{}/{}", a.ip, a.prefix))
                .collect();
            out.push_str(&format!(": {}", addrs.join(", ")));
        }
        Ok(_) => {}
        Err(e) => out.push_str(&format!(
            " (addresses unknown: {})",
            crate::error::os_text(e)
        )),
    }
    out.push('\n');
    out.push_str(&format!(
        "DNS {} search {} ndots:{}\n",
        c.servers()
            .iter()
            .map(|s| s.ip().to_string())
            .collect::<Vec<_>>()
            .join(" "),
        if c.search.is_empty() {
            "(none)".into()
        } else {
            c.search.join(" ")
        },
        c.ndots
    ));
    out.push_str("type help for the applets, Tab to complete, exit to leave\n");
    out
}

fn help(topic: Option<&str>) -> String {
    match topic.and_then(applets::find) {
        Some(a) => (a.command)().render_help().to_string(),
        None => {
            let mut s = String::from("Applets (each runs as it would from a shell):\n");
            for a in APPLETS.iter().filter(|a| a.name != "shell") {
                s.push_str(&format!("  {:<18} {}\n", a.name, a.about));
            }
            s.push_str(
                "  help APPLET        the applet's flags\n  exit               leave (or Ctrl-D)\n",
            );
            s.push_str("No pipes, redirections or variables: this is not a shell.\n");
            s
        }
    }
}

pub fn run(_args: &[OsString]) -> Result<i32> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::local(format!("cannot find this binary: {e}")))?;
    let mut ed: Editor<Completion, DefaultHistory> =
        Editor::new().map_err(|e| Error::local(format!("cannot start the prompt: {e}")))?;
    ed.set_helper(Some(Completion));
    let history =
        std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".debugbox_history"));
    if let Some(h) = &history {
        let _ = ed.load_history(h);
    }
    print!("{}", banner());
    // Ctrl-C while an applet runs reaches the applet; the prompt only notes it.
    crate::sys::process::catch_interrupt();
    let mut last = 0;
    loop {
        let line = match ed.readline("debugbox> ") {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => break,
            // A line that is not UTF-8 is skipped, not the end of the prompt.
            Err(rustyline::error::ReadlineError::Io(e))
                if e.kind() == std::io::ErrorKind::InvalidData =>
            {
                eprintln!("that line was not UTF-8 text; skipped");
                continue;
            }
            Err(e) => return Err(Error::local(format!("prompt: {e}"))),
        };
        if !line.trim().is_empty() {
            let _ = ed.add_history_entry(line.as_str());
        }
        match parse_line(&line) {
            Line::Empty => {}
            Line::Exit => break,
            Line::Help(topic) => print!("{}", help(topic.as_deref())),
            Line::BadQuoting => eprintln!("unbalanced quotes"),
            Line::Unknown(w) => eprintln!("{w}: not an applet (help lists them)"),
            Line::Run(applet, args) => {
                match std::process::Command::new(&exe)
                    .arg(&applet)
                    .args(&args)
                    .status()
                {
                    Ok(st) => {
                        last = st.code().unwrap_or(130);
                        if last != 0 {
                            eprintln!("[exit {last}]");
                        }
                    }
                    Err(e) => eprintln!("cannot run {applet}: {e}"),
                }
            }
        }
    }
    if let Some(h) = &history {
        let _ = ed.save_history(h);
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(parse_line(""), Line::Empty);
        assert_eq!(parse_line("  exit "), Line::Exit);
        assert_eq!(parse_line("help ping"), Line::Help(Some("ping".into())));
        assert_eq!(
            parse_line("ping -c 1 'web.default'"),
            Line::Run(
                "ping".into(),
                vec!["-c".into(), "1".into(), "web.default".into()]
            )
        );
        assert_eq!(
            parse_line("ping6 ::1"),
            Line::Run("ping".into(), vec!["::1".into()])
        );
        assert_eq!(parse_line("ls -l"), Line::Unknown("ls".into()));
        assert_eq!(parse_line("shell"), Line::Unknown("shell".into()));
        assert_eq!(parse_line("curl 'unbalanced"), Line::BadQuoting);
    }

    #[test]
    fn completion() {
        let (start, c) = complete_words("pi", 2);
        assert_eq!(start, 0);
        assert!(c.contains(&"ping".to_string()));
        let (start, c) = complete_words("ping --t", 8);
        assert_eq!(start, 5);
        assert!(c.contains(&"--tcp".to_string()));
        let (_, c) = complete_words("curl -", 6);
        assert!(c.contains(&"-L".to_string()) && c.contains(&"--location".to_string()));
        let (_, c) = complete_words("help d", 6);
        assert_eq!(c, vec!["diagnose", "dig"]);
        let (_, c) = complete_words("", 0);
        assert!(c.contains(&"exit".to_string()) && !c.contains(&"shell".to_string()));
    }
}
