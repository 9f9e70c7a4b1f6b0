//! ss's command line, as iproute2 6.1's ss reads it: getopt short options (clusters such as
//! `-tlnp`), the long options, `state`/`exclude` words, then a filter expression.
//!
//! The table/family/state bookkeeping follows ss.c (filter_db_set, filter_af_set,
//! filter_merge_defaults) so that `-t`, `-4`, `-a`, `-l` and `state …` select exactly what ss
//! selects.

use super::filter::{self, Expr};
use crate::error::{Error, Result};

pub const SS_ESTABLISHED: u32 = 1;
pub const SS_SYN_RECV: u32 = 3;
pub const SS_TIME_WAIT: u32 = 6;
pub const SS_CLOSE: u32 = 7;
pub const SS_LISTEN: u32 = 10;
pub const SS_MAX: u32 = 12;
pub const SS_ALL: u32 = (1 << SS_MAX) - 1;
pub const SS_CONN: u32 =
    SS_ALL & !((1 << SS_LISTEN) | (1 << SS_CLOSE) | (1 << SS_TIME_WAIT) | (1 << SS_SYN_RECV));

/// ss's socket tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Tcp = 0,
    Mptcp,
    Dccp,
    Udp,
    Raw,
    UnixDgram,
    UnixStream,
    UnixSeqpacket,
    PacketDgram,
    PacketRaw,
    Netlink,
    Sctp,
    VsockStream,
    VsockDgram,
    Tipc,
    Xdp,
}

const MAX_DB: u32 = 16;
pub const UNIX_DBM: u32 =
    (1 << Db::UnixDgram as u32) | (1 << Db::UnixStream as u32) | (1 << Db::UnixSeqpacket as u32);
const PACKET_DBM: u32 = (1 << Db::PacketDgram as u32) | (1 << Db::PacketRaw as u32);
const INET_L4_DBM: u32 = (1 << Db::Tcp as u32)
    | (1 << Db::Mptcp as u32)
    | (1 << Db::Udp as u32)
    | (1 << Db::Dccp as u32)
    | (1 << Db::Sctp as u32);
const INET_DBM: u32 = INET_L4_DBM | (1 << Db::Raw as u32);
const VSOCK_DBM: u32 = (1 << Db::VsockStream as u32) | (1 << Db::VsockDgram as u32);

pub const AF_UNIX: u32 = 1;
pub const AF_INET: u32 = 2;
pub const AF_INET6: u32 = 10;
pub const AF_NETLINK: u32 = 16;
pub const AF_PACKET: u32 = 17;
const AF_TIPC: u32 = 30;
const AF_VSOCK: u32 = 40;
const AF_XDP: u32 = 44;

fn fam(af: u32) -> u64 {
    1u64 << af
}

/// default_dbs: each table's states and families.
fn db_defaults(db: u32) -> (u32, u64) {
    const TIPC_SS_CONN: u32 = (1 << SS_ESTABLISHED) | (1 << SS_LISTEN) | (1 << SS_CLOSE);
    let inet = fam(AF_INET) | fam(AF_INET6);
    match db {
        0..=2 | 11 => (SS_CONN, inet),
        3 | 4 => (1 << SS_ESTABLISHED, inet),
        5 => (1 << SS_CLOSE, fam(AF_UNIX)),
        6 | 7 => (SS_CONN, fam(AF_UNIX)),
        8 | 9 => (1 << SS_CLOSE, fam(AF_PACKET)),
        10 => (1 << SS_CLOSE, fam(AF_NETLINK)),
        12 | 13 => (SS_CONN, fam(AF_VSOCK)),
        14 => (TIPC_SS_CONN, fam(AF_TIPC)),
        _ => (1 << SS_CLOSE, fam(AF_XDP)),
    }
}

/// default_afs: each family's tables and states.
fn af_defaults(af: u32) -> Option<(u32, u32)> {
    Some(match af {
        AF_INET | AF_INET6 => (INET_DBM, SS_CONN),
        AF_UNIX => (UNIX_DBM, SS_CONN),
        AF_PACKET => (PACKET_DBM, 1 << SS_CLOSE),
        AF_NETLINK => (1 << Db::Netlink as u32, 1 << SS_CLOSE),
        AF_VSOCK => (VSOCK_DBM, SS_CONN),
        AF_TIPC => (
            1 << Db::Tipc as u32,
            (1 << SS_ESTABLISHED) | (1 << SS_LISTEN) | (1 << SS_CLOSE),
        ),
        AF_XDP => (1 << Db::Xdp as u32, 1 << SS_CLOSE),
        _ => return None,
    })
}

/// What to list: tables, families and states, as ss's `struct filter`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub dbs: u32,
    pub states: u32,
    pub families: u64,
}

impl Selection {
    pub fn has_db(&self, db: Db) -> bool {
        self.dbs & (1 << db as u32) != 0
    }

    pub fn has_family(&self, af: u32) -> bool {
        self.families & fam(af) != 0
    }

    fn db_set(&mut self, db: u32, enable: bool, do_default: &mut bool) {
        if enable {
            self.states |= db_defaults(db).0;
            self.dbs |= 1 << db;
        } else {
            self.dbs &= !(1 << db);
        }
        *do_default = false;
    }

    /// filter_db_parse: a table name (`!name` disables it).
    fn db_parse(&mut self, name: &str, do_default: &mut bool) -> bool {
        use Db::*;
        let (enable, name) = match name.strip_prefix('!') {
            Some(n) => (false, n),
            None => (true, name),
        };
        let dbs: &[Db] = match name {
            "all" => &[
                Udp,
                Dccp,
                Tcp,
                Mptcp,
                Raw,
                UnixStream,
                UnixDgram,
                UnixSeqpacket,
                PacketRaw,
                PacketDgram,
                Netlink,
                Sctp,
                VsockStream,
                VsockDgram,
                Xdp,
            ],
            "inet" => &[Udp, Dccp, Tcp, Mptcp, Sctp, Raw],
            "udp" => &[Udp],
            "dccp" => &[Dccp],
            "tcp" => &[Tcp],
            "mptcp" => &[Mptcp],
            "sctp" => &[Sctp],
            "raw" => &[Raw],
            "unix" => &[UnixStream, UnixDgram, UnixSeqpacket],
            "unix_stream" | "u_str" => &[UnixStream],
            "unix_dgram" | "u_dgr" => &[UnixDgram],
            "unix_seqpacket" | "u_seq" => &[UnixSeqpacket],
            "packet" => &[PacketRaw, PacketDgram],
            "packet_raw" | "p_raw" => &[PacketRaw],
            "packet_dgram" | "p_dgr" => &[PacketDgram],
            "netlink" => &[Netlink],
            "tipc" => &[Tipc],
            "vsock" => &[VsockStream, VsockDgram],
            "vsock_stream" | "v_str" => &[VsockStream],
            "vsock_dgram" | "v_dgr" => &[VsockDgram],
            "xdp" => &[Xdp],
            _ => return false,
        };
        for db in dbs {
            self.db_set(*db as u32, enable, do_default);
        }
        true
    }

    fn af_set(&mut self, af: u32, opts_family: &mut u32, do_default: &mut bool) {
        if let Some((_, states)) = af_defaults(af) {
            self.states |= states;
        }
        self.families |= fam(af);
        *do_default = false;
        *opts_family = af;
    }

    /// filter_merge_defaults.
    fn merge_defaults(&mut self) {
        for db in 0..MAX_DB {
            if self.dbs & (1 << db) == 0 {
                continue;
            }
            let families = db_defaults(db).1;
            if families & self.families == 0 {
                self.families |= families;
            }
        }
        for af in 0..64 {
            if self.families & fam(af) == 0 {
                continue;
            }
            if let Some((dbs, _)) = af_defaults(af)
                && dbs & self.dbs == 0
            {
                self.dbs |= dbs;
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Opts {
    pub numeric: bool,
    pub resolve: bool,
    /// -o (also set by -e): timers.
    pub options: bool,
    /// -e: details (uid, inode, cookie); twice for more.
    pub details: u32,
    pub mem: bool,
    pub info: bool,
    pub processes: bool,
    pub threads: bool,
    pub summary: bool,
    pub header: bool,
    pub oneline: bool,
    pub json: bool,
    pub tos: bool,
    /// The last of -4/-6/-0/-f/-x: ss's preferred_family.
    pub family: u32,
    pub sel: Selection,
    pub filter: Option<Expr>,
    /// No table or family was named (`ss`, `ss -s`): ss's do_default.
    pub do_default: bool,
}

pub enum Cmd {
    Run(Box<Opts>),
    Help,
    Version,
}

const USAGE: &str = "Usage: ss [ OPTIONS ]
       ss [ OPTIONS ] [ FILTER ]
   -h, --help          this message
   -V, --version       output version information
   -n, --numeric       don't resolve service names
   -r, --resolve       resolve host names
   -a, --all           display all sockets
   -l, --listening     display listening sockets
   -o, --options       show timer information
   -e, --extended      show detailed socket information
   -m, --memory        show socket memory usage
   -p, --processes     show process using socket
   -T, --threads       show thread using socket
   -i, --info          show internal TCP information
       --tos           show tos and priority information
   -s, --summary       show socket usage summary
   -j, --json          one JSON object per socket (debugbox)
   -4, --ipv4          display only IP version 4 sockets
   -6, --ipv6          display only IP version 6 sockets
   -t, --tcp           display only TCP sockets
   -u, --udp           display only UDP sockets
   -w, --raw           display only RAW sockets
   -x, --unix          display only Unix domain sockets
   -f, --family=FAMILY display sockets of type FAMILY
       FAMILY := {inet|inet6|unix}
   -A, --query=QUERY, --socket=QUERY
       QUERY := {all|inet|tcp|udp|raw|unix|unix_dgram|unix_stream|unix_seqpacket}[,QUERY]
   -H, --no-header     Suppress header line
   -O, --oneline       socket's data printed on a single line

   FILTER := [ state STATE-FILTER ] [ EXPRESSION ]
   STATE-FILTER := {all|connected|synchronized|bucket|big|TCP-STATES}
     TCP-STATES := {established|syn-sent|syn-recv|fin-wait-{1,2}|time-wait|closed|close-wait|last-ack|listening|closing}
   EXPRESSION := [ sport|dport|src|dst OP ADDRESS-OR-PORT ] joined by and, or, not, ( )
   -0, --packet        display PACKET sockets
       FAMILY := {inet|inet6|link|unix|netlink}
debugbox's ss lists TCP, UDP, raw, Unix, packet and netlink sockets (not SCTP, DCCP, MPTCP,
VSOCK, TIPC or XDP sockets); it never kills sockets.
";

pub fn usage() -> &'static str {
    USAGE
}

/// scan_state: a state word or group as ss reads it.
fn scan_state(s: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "UNKNOWN",
        "established",
        "syn-sent",
        "syn-recv",
        "fin-wait-1",
        "fin-wait-2",
        "time-wait",
        "unconnected",
        "close-wait",
        "last-ack",
        "listening",
        "closing",
    ];
    let l = s.to_ascii_lowercase();
    match l.as_str() {
        "close" | "closed" => return Some(1 << SS_CLOSE),
        "syn-rcv" => return Some(1 << 3),
        "established" => return Some(1 << 1),
        "all" => return Some(SS_ALL),
        "connected" => return Some(SS_ALL & !((1 << SS_CLOSE) | (1 << SS_LISTEN))),
        "synchronized" => return Some(SS_ALL & !((1 << SS_CLOSE) | (1 << SS_LISTEN) | (1 << 2))),
        "bucket" => return Some((1 << 3) | (1 << SS_TIME_WAIT)),
        "big" => {
            return Some(SS_ALL & !((1 << 3) | (1 << SS_TIME_WAIT)));
        }
        _ => {}
    }
    NAMES.iter().position(|n| *n == l).map(|i| 1 << i)
}

fn unsupported(what: &str) -> Error {
    Error::usage(format!("{what} is not available in debugbox ss"))
        .hint("it lists TCP, UDP, raw, Unix, packet and netlink sockets")
}

pub fn parse(args: &[String]) -> Result<Cmd> {
    let mut o = Opts {
        header: true,
        ..Default::default()
    };
    let mut do_default = true;
    let mut state_filter = 0u32;
    let mut saw_query = false;
    let mut i = 0;
    let mut rest: Vec<String> = Vec::new();
    // getopt with a leading option list, then operands (GNU getopt permutes: options may follow
    // operands too; ss relies on that, e.g. `ss state listening -n`).
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        if a == "--" {
            rest.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let need = |i: &mut usize| -> Result<String> {
                if let Some(v) = value.clone() {
                    return Ok(v);
                }
                let v = args.get(*i).cloned().ok_or_else(|| {
                    Error::usage(format!("option '--{name}' requires an argument"))
                })?;
                *i += 1;
                Ok(v)
            };
            let short = match name {
                "numeric" => 'n',
                "resolve" => 'r',
                "all" => 'a',
                "listening" => 'l',
                "options" => 'o',
                "extended" => 'e',
                "memory" => 'm',
                "info" => 'i',
                "processes" => 'p',
                "threads" => 'T',
                "summary" => 's',
                "tcp" => 't',
                "udp" => 'u',
                "raw" => 'w',
                "unix" => 'x',
                "ipv4" => '4',
                "ipv6" => '6',
                "no-header" => 'H',
                "oneline" => 'O',
                "json" => 'j',
                "help" => 'h',
                "version" => 'V',
                "tos" => {
                    o.tos = true;
                    continue;
                }
                "family" => {
                    let v = need(&mut i)?;
                    family_word(&v, &mut o, &mut do_default)?;
                    continue;
                }
                "query" | "socket" => {
                    let v = need(&mut i)?;
                    query(
                        &v,
                        &mut o,
                        &mut do_default,
                        &mut state_filter,
                        &mut saw_query,
                    )?;
                    continue;
                }
                "kill" => return Err(kill()),
                "packet" => '0',
                "dccp" | "sctp" | "mptcp" | "vsock" | "tipc" | "xdp" | "tipcinfo" | "events"
                | "bpf" | "context" | "contexts" | "net" | "diag" | "filter" | "cgroup"
                | "inet-sockopt" => {
                    return Err(unsupported(&format!("--{name}")));
                }
                _ => {
                    return Err(Error::usage(format!("unrecognized option '--{name}'"))
                        .hint("ss -h lists the options"));
                }
            };
            if let Some(cmd) = flag(short, &mut o, &mut do_default, &mut state_filter)? {
                return Ok(cmd);
            }
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                k += 1;
                if matches!(c, 'f' | 'A' | 'D' | 'F' | 'N') {
                    let value: String = if k < chars.len() {
                        chars[k..].iter().collect()
                    } else {
                        let v = args.get(i).cloned().ok_or_else(|| {
                            Error::usage(format!("option requires an argument -- '{c}'"))
                        })?;
                        i += 1;
                        v
                    };
                    k = chars.len();
                    match c {
                        'f' => family_word(&value, &mut o, &mut do_default)?,
                        'A' => query(
                            &value,
                            &mut o,
                            &mut do_default,
                            &mut state_filter,
                            &mut saw_query,
                        )?,
                        'N' => {
                            return Err(unsupported("-N (another network namespace)").hint(
                                "run debugbox inside the namespace, e.g. ip netns exec NAME debugbox ss",
                            ));
                        }
                        _ => return Err(unsupported(&format!("-{c}"))),
                    }
                    continue;
                }
                if let Some(cmd) = flag(c, &mut o, &mut do_default, &mut state_filter)? {
                    return Ok(cmd);
                }
            }
            continue;
        }
        rest.push(a.to_string());
    }
    // State words come first among the operands.
    let mut saw_states = false;
    let mut k = 0;
    while k < rest.len() {
        let w = rest[k].as_str();
        if w == "state" || w == "exclude" || w == "excl" {
            let v = rest
                .get(k + 1)
                .ok_or_else(|| Error::usage("Command line is not complete. Try option \"help\""))?;
            let bits =
                scan_state(v).ok_or_else(|| Error::usage(format!("wrong state name: {v}")))?;
            if w == "state" {
                if !saw_states {
                    state_filter = 0;
                }
                state_filter |= bits;
            } else {
                if !saw_states {
                    state_filter = SS_ALL;
                }
                state_filter &= !bits;
            }
            saw_states = true;
            k += 2;
        } else {
            break;
        }
    }
    o.do_default = do_default;
    if do_default {
        state_filter = if state_filter != 0 {
            state_filter
        } else {
            SS_CONN
        };
        let mut d = do_default;
        o.sel.db_parse("all", &mut d);
    }
    if state_filter != 0 {
        o.sel.states = state_filter;
    }
    o.sel.merge_defaults();
    if k < rest.len() {
        let expr = filter::parse(&rest[k..], &mut o)?;
        o.filter = expr;
    }
    Ok(Cmd::Run(Box::new(o)))
}

fn kill() -> Error {
    Error::usage("-K (closing sockets) changes the system and debugbox is read-only")
        .hint("use ss on the node to kill sockets")
}

/// One short option (or the short form of a long one). Some(cmd) ends parsing.
fn flag(
    c: char,
    o: &mut Opts,
    do_default: &mut bool,
    state_filter: &mut u32,
) -> Result<Option<Cmd>> {
    let mut fam = o.family;
    match c {
        'n' => o.numeric = true,
        'r' => o.resolve = true,
        'o' => o.options = true,
        'e' => {
            o.options = true;
            o.details += 1;
        }
        'm' => o.mem = true,
        'i' => o.info = true,
        'p' => o.processes = true,
        'T' => o.threads = true,
        's' => o.summary = true,
        'H' => o.header = false,
        'O' => o.oneline = true,
        'j' => o.json = true,
        't' => o.sel.db_set(Db::Tcp as u32, true, do_default),
        'u' => o.sel.db_set(Db::Udp as u32, true, do_default),
        'w' => o.sel.db_set(Db::Raw as u32, true, do_default),
        'x' => o.sel.af_set(AF_UNIX, &mut fam, do_default),
        '4' => o.sel.af_set(AF_INET, &mut fam, do_default),
        '6' => o.sel.af_set(AF_INET6, &mut fam, do_default),
        'a' => *state_filter = SS_ALL,
        'l' => *state_filter = (1 << SS_LISTEN) | (1 << SS_CLOSE),
        'h' => return Ok(Some(Cmd::Help)),
        'v' | 'V' => return Ok(Some(Cmd::Version)),
        'K' => return Err(kill()),
        '0' => o.sel.af_set(AF_PACKET, &mut fam, do_default),
        'd' => return Err(unsupported("-d (DCCP sockets)")),
        'S' => return Err(unsupported("-S (SCTP sockets)")),
        'M' => return Err(unsupported("-M (MPTCP sockets)")),
        'E' => return Err(unsupported("-E (following socket events)")),
        'b' => return Err(unsupported("-b (BPF filters)")),
        'z' | 'Z' => return Err(unsupported("-Z (SELinux contexts)")),
        _ => {
            return Err(
                Error::usage(format!("invalid option -- '{c}'")).hint("ss -h lists the options")
            );
        }
    }
    o.family = fam;
    Ok(None)
}

fn family_word(v: &str, o: &mut Opts, do_default: &mut bool) -> Result<()> {
    let af = match v {
        "inet" => AF_INET,
        "inet6" => AF_INET6,
        "unix" => AF_UNIX,
        "link" => AF_PACKET,
        "netlink" => AF_NETLINK,
        "tipc" | "vsock" | "xdp" => {
            return Err(unsupported(&format!("family {v}")));
        }
        _ => return Err(Error::usage(format!("\"{v}\" is invalid family"))),
    };
    let mut fam = o.family;
    o.sel.af_set(af, &mut fam, do_default);
    o.family = fam;
    Ok(())
}

fn query(
    v: &str,
    o: &mut Opts,
    do_default: &mut bool,
    state_filter: &mut u32,
    saw_query: &mut bool,
) -> Result<()> {
    if !*saw_query {
        o.sel.dbs = 0;
        if *state_filter == 0 {
            *state_filter = SS_CONN;
        }
        *saw_query = true;
        *do_default = false;
    }
    for part in v.split(',') {
        if !o.sel.db_parse(part, do_default) {
            return Err(Error::usage(format!(
                "\"{part}\" is illegal socket table id"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(line: &str) -> Opts {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        match parse(&args).unwrap() {
            Cmd::Run(o) => *o,
            _ => panic!("not a run"),
        }
    }

    #[test]
    fn tables_and_states_as_ss() {
        let o = opts("-tln");
        assert!(o.numeric && o.sel.has_db(Db::Tcp) && !o.sel.has_db(Db::Udp));
        assert_eq!(o.sel.states, (1 << SS_LISTEN) | (1 << SS_CLOSE));
        assert!(o.sel.has_family(AF_INET) && o.sel.has_family(AF_INET6));
        let o = opts("-t4");
        assert_eq!(o.sel.states, SS_CONN);
        assert!(o.sel.has_family(AF_INET) && !o.sel.has_family(AF_INET6));
        let o = opts("");
        assert!(o.sel.has_db(Db::UnixStream) && o.sel.has_db(Db::Tcp));
        assert_eq!(o.sel.states, SS_CONN);
        let o = opts("-x");
        assert!(o.sel.has_db(Db::UnixDgram) && !o.sel.has_db(Db::Tcp));
        let o = opts("-ta state established");
        assert_eq!(o.sel.states, 1 << SS_ESTABLISHED);
        let o = opts("-t exclude listening");
        assert_eq!(o.sel.states, SS_ALL & !(1 << SS_LISTEN));
        let o = opts("-A tcp,udp");
        assert!(o.sel.has_db(Db::Tcp) && o.sel.has_db(Db::Udp) && !o.sel.has_db(Db::Raw));
        let o = opts("-u --numeric -a");
        assert_eq!(o.sel.states, SS_ALL);
        assert!(matches!(
            parse(&["-K".to_string()]),
            Err(e) if e.message.contains("read-only")
        ));
        assert!(parse(&["-q".to_string()]).is_err());
        assert!(parse(&["-t".to_string(), "state".to_string(), "bogus".to_string()]).is_err());
    }
}
