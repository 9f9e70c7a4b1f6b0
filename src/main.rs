//! debugbox: one static binary with the network tools needed to debug a Kubernetes Service.
//!
//! Dispatch only, like busybox and uutils: the basename of argv\[0\] picks the applet (a symlink
//! `ip -> debugbox` runs `ip`); otherwise argv\[1\] does (`debugbox ip r`). The top level also
//! answers `--list`, `--install DIR`, `--version` and `completions SHELL`. Errors become an exit
//! code and one line on stderr here, in one place.

mod applets;
mod dns;
mod error;
mod here;
mod http;
mod icmp;
mod kube;
mod output;
mod pathmtu;
mod pool;
mod probe;
mod services;
mod sys;
#[cfg(test)]
mod testing;
mod tls;
mod trace;

use clap::{Arg, ArgAction, Command};
use error::{ClapEnd, Error, Result};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

fn main() {
    sys::process::guard_std_fds();
    sys::process::restore_sigpipe();
    let args: Vec<OsString> = std::env::args_os().collect();
    std::process::exit(dispatch(&args));
}

fn dispatch(args: &[OsString]) -> i32 {
    let argv0 = args.first().map(|a| basename(a)).unwrap_or_default();
    if let Some(applet) = applets::find(&argv0) {
        return run_applet(applet, &args[1..]);
    }
    match toplevel(&args[1.min(args.len())..]) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", toplevel_error_line(&e));
            e.code
        }
    }
}

fn run_applet(applet: &applets::Applet, args: &[OsString]) -> i32 {
    match (applet.run)(args) {
        Ok(code) => code,
        Err(e) => {
            // An error already reported (or silenced, as curl's -s does) has no message.
            if !e.message.is_empty() {
                // Names that are not UTF-8 travel as output::raw_text; print their bytes back.
                let line = format!("{}\n", e.line(applet.name));
                let _ =
                    std::io::Write::write_all(&mut std::io::stderr(), &output::raw_bytes(&line));
            }
            e.code
        }
    }
}

fn basename(arg: &OsStr) -> String {
    Path::new(arg)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn toplevel_error_line(e: &Error) -> String {
    if e.verbatim {
        return e.message.clone();
    }
    match &e.hint {
        Some(h) => format!("debugbox: {} ({h})", e.message),
        None => format!("debugbox: {}", e.message),
    }
}

/// The `debugbox` command itself: its flags, and every applet as a subcommand (for completions).
fn toplevel_command() -> Command {
    let mut cmd = Command::new("debugbox")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Network debugging toolbox for Kubernetes pods and nodes, in one static binary")
        .override_usage("debugbox APPLET [ARGS...]\n       APPLET [ARGS...]   (through a symlink named after the applet)")
        .arg(Arg::new("list").long("list").action(ArgAction::SetTrue).help("Print the applets and exit"))
        .arg(
            Arg::new("json")
                .short('j')
                .long("json")
                .action(ArgAction::SetTrue)
                .requires("list")
                .help("With --list: print JSON"),
        )
        .arg(
            Arg::new("install")
                .long("install")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Create one symlink per applet in DIR, pointing at this binary"),
        )
        .subcommand(
            Command::new("completions").about("Print a shell completion script").arg(
                Arg::new("shell")
                    .required(true)
                    .value_parser(["bash", "zsh", "fish"])
                    .help("bash, zsh or fish"),
            ),
        );
    for a in applets::APPLETS {
        cmd = cmd.subcommand(
            (a.command)()
                .about(a.about)
                .aliases(a.aliases.iter().copied()),
        );
    }
    cmd
}

fn toplevel(args: &[OsString]) -> Result<i32> {
    // `debugbox APPLET ...` runs the applet with everything after its name untouched.
    if let Some(first) = args.first().and_then(|a| a.to_str()) {
        if let Some(applet) = applets::find(first) {
            return Ok(run_applet(applet, &args[1..]));
        }
        if !first.starts_with('-') && first != "completions" && first != "help" {
            return Err(Error::usage(format!("unknown applet \"{first}\""))
                .hint("debugbox --list shows the applets"));
        }
    }
    let argv = std::iter::once(OsString::from("debugbox")).chain(args.iter().cloned());
    let m = match toplevel_command().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            return match ClapEnd::of(&e) {
                ClapEnd::Help(text) => {
                    output::print(&text)?;
                    Ok(0)
                }
                ClapEnd::Usage(line) => Err(Error::usage(line).hint("debugbox --help")),
            };
        }
    };
    if let Some(sub) = m.subcommand_matches("completions") {
        let shell = sub
            .get_one::<String>("shell")
            .map(String::as_str)
            .unwrap_or("bash");
        output::print(&completions(shell))?;
        return Ok(0);
    }
    if let Some(dir) = m.get_one::<PathBuf>("install") {
        install(dir)?;
        return Ok(0);
    }
    if m.get_flag("list") {
        let text = if m.get_flag("json") {
            let rows: Vec<_> = applets::APPLETS
                .iter()
                .map(
                    |a| serde_json::json!({"name": a.name, "aliases": a.aliases, "about": a.about}),
                )
                .collect();
            output::json_line(&rows)
        } else {
            applets::all_names().map(|n| format!("{n}\n")).collect()
        };
        output::print(&text)?;
        return Ok(0);
    }
    output::print(&toplevel_command().render_help().to_string())?;
    Ok(0)
}

fn completions(shell: &str) -> String {
    use clap_complete::{Shell, generate};
    let shell = match shell {
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::Bash,
    };
    let mut out = Vec::new();
    generate(shell, &mut toplevel_command(), "debugbox", &mut out);
    // bash and fish take several definitions in one script: complete the symlinked names too.
    if shell != Shell::Zsh {
        for a in applets::APPLETS {
            for name in std::iter::once(a.name).chain(a.aliases.iter().copied()) {
                generate(shell, &mut (a.command)().name(name), name, &mut out);
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `--install DIR`: one symlink per applet name. Checks every name first and refuses to replace
/// anything that is not already a symlink to this binary, so a half-done install cannot happen
/// because of a conflict.
fn install(dir: &Path) -> Result<()> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::local(format!("cannot find this binary: {e}")))?;
    let exe_real = std::fs::canonicalize(&exe).unwrap_or_else(|_| exe.clone());
    if !dir.is_dir() {
        return Err(
            Error::local(format!("--install: {} is not a directory", dir.display()))
                .hint("create it first"),
        );
    }
    // Inside the binary's own directory the links are relative (`ip -> debugbox`), which keeps an
    // image or a copied tree working wherever it is mounted.
    let same_dir = std::fs::canonicalize(dir).ok().as_deref() == exe_real.parent();
    let target: PathBuf = match (same_dir, exe_real.file_name()) {
        (true, Some(name)) => PathBuf::from(name),
        _ => exe_real.clone(),
    };
    let mut todo = Vec::new();
    for name in applets::all_names() {
        let link = dir.join(name);
        match std::fs::symlink_metadata(&link) {
            Err(_) => todo.push(link),
            Ok(meta) if meta.file_type().is_symlink() => {
                if !is_our_symlink(&link, &exe_real) {
                    return Err(Error::local(format!(
                        "--install: {} is a symlink to something else",
                        link.display()
                    ))
                    .hint("remove it or install into another directory"));
                }
            }
            Ok(_) => {
                return Err(Error::local(format!(
                    "--install: {} exists and is not a debugbox symlink",
                    link.display()
                ))
                .hint("remove it or install into another directory"));
            }
        }
    }
    for link in todo {
        std::os::unix::fs::symlink(&target, &link).map_err(|e| {
            Error::local(format!("--install: cannot create {}: {e}", link.display()))
        })?;
    }
    Ok(())
}

fn is_our_symlink(link: &Path, exe_real: &Path) -> bool {
    if let Ok(real) = std::fs::canonicalize(link) {
        return real == exe_real;
    }
    // A dangling link left by an earlier install of a moved binary still counts as ours.
    std::fs::read_link(link)
        .ok()
        .and_then(|t| t.file_name().map(|n| n == "debugbox"))
        .unwrap_or(false)
}
