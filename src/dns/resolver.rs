//! The one resolver every applet uses: /etc/hosts, then DNS through resolv.conf's search list,
//! ndots, timeout and attempts, with glibc's order and retry rules — and a trace of every query,
//! which is what `--explain` prints and `diagnose` reads.
//!
//! hickory-proto encodes and decodes the messages. The search walk is written here rather than
//! taken from hickory-resolver because the walk itself is what users debug: it must follow
//! glibc's res_search step by step (including when it stops early) and report each step, which
//! hickory-resolver neither does nor exposes; and it needs no async runtime.

use super::conf::ResolvConf;
use super::hosts::Hosts;
use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Udp,
    Tcp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XError {
    /// No answer within the time allowed.
    Timeout,
    /// ICMP port unreachable / TCP RST: nothing listens on the server's port 53.
    Refused,
    /// Could not even send (no route, bad address…).
    Local(String),
}

impl std::fmt::Display for XError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XError::Timeout => f.write_str("timed out"),
            XError::Refused => f.write_str("connection refused"),
            XError::Local(e) => f.write_str(e),
        }
    }
}

/// Moves one DNS message to a server and back. `sys::dns` implements it with sockets; tests use
/// canned answers.
pub trait Transport {
    fn exchange(
        &mut self,
        server: SocketAddr,
        query: &[u8],
        id: u16,
        proto: Proto,
        timeout: Duration,
    ) -> Result<Vec<u8>, XError>;

    /// Remarks about the last exchange that bind's tools print (`;; Question section
    /// mismatch: …`).
    fn take_notes(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// How long each try may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// glibc res_send: the first round gives each server the full timeout; round n gives
    /// (timeout << n) / number-of-servers, at least one second.
    Glibc(Duration),
    /// bind's tools: the same timeout for every try.
    Fixed(Duration),
}

impl Backoff {
    fn per_try(&self, round: u32, servers: usize) -> Duration {
        match *self {
            Backoff::Fixed(d) => d,
            Backoff::Glibc(base) => {
                if round == 0 {
                    return base;
                }
                // Whole seconds, as glibc computes them.
                let secs = (base.as_secs() << round.min(8)) / servers.max(1) as u64;
                Duration::from_secs(secs.max(1))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct QueryOpts {
    pub servers: Vec<SocketAddr>,
    pub backoff: Backoff,
    /// Rounds over the server list (glibc `attempts`, dig `+tries`).
    pub attempts: u32,
    pub tcp: bool,
    pub recursion_desired: bool,
    /// EDNS0 with this UDP payload size.
    pub edns: Option<u16>,
    /// Retry over TCP when a UDP answer comes back truncated.
    pub tcp_on_truncation: bool,
}

impl QueryOpts {
    pub fn from_conf(conf: &ResolvConf) -> Self {
        QueryOpts {
            servers: conf.servers(),
            backoff: Backoff::Glibc(conf.timeout),
            attempts: conf.attempts,
            tcp: conf.use_vc,
            recursion_desired: true,
            edns: conf.edns0.then_some(1200),
            tcp_on_truncation: true,
        }
    }
}

/// One message sent and what came of it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub server: SocketAddr,
    pub proto: Proto,
    pub elapsed: Duration,
    pub outcome: Result<Answer, XError>,
    /// What the transport remarked on the way (printed by dig and nslookup before the rest).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub message: Message,
    pub size: usize,
}

/// The result of asking one question (possibly several tries and servers).
#[derive(Debug, Clone)]
pub struct Asked {
    pub name: String,
    pub qtype: RecordType,
    /// Every try, in order.
    pub exchanges: Vec<Exchange>,
}

impl Asked {
    /// The answer the resolver settles on: the last message received, if any. A truncated
    /// answer whose TCP retry failed is no answer (bind and glibc give up on it too).
    pub fn answer(&self) -> Option<(&Exchange, &Answer)> {
        let n = self.exchanges.len();
        self.exchanges.iter().enumerate().rev().find_map(|(i, x)| {
            let a = x.outcome.as_ref().ok()?;
            let retried = a.message.metadata.truncation
                && x.proto == Proto::Udp
                && self.exchanges[i + 1..n]
                    .iter()
                    .any(|y| y.proto == Proto::Tcp && y.server == x.server);
            (!retried).then_some((x, a))
        })
    }

    /// The records of the asked type that answer the question: owned by the asked name or by
    /// the end of its CNAME chain, never by another name (as glibc checks).
    pub fn records(&self) -> Vec<&hickory_proto::rr::Record> {
        let Some((_, a)) = self.answer() else {
            return Vec::new();
        };
        let m = &a.message;
        let Some(q) = m.queries.first() else {
            return Vec::new();
        };
        let mut owner = q.name().clone();
        for _ in 0..16 {
            let next = m.answers.iter().find_map(|r| match &r.data {
                RData::CNAME(c) if r.name == owner => Some(c.0.clone()),
                _ => None,
            });
            match next {
                Some(n) if self.qtype != RecordType::CNAME => owner = n,
                _ => break,
            }
        }
        m.answers
            .iter()
            .filter(|r| r.record_type() == self.qtype && r.name == owner)
            .collect()
    }

    /// What stopped us from getting any answer.
    pub fn error(&self) -> Option<&XError> {
        if self.answer().is_some() {
            return None;
        }
        self.exchanges.last().and_then(|x| x.outcome.as_ref().err())
    }
}

/// How one search candidate ended, in glibc's h_errno terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Found,
    /// NOERROR with no records of the asked type (NO_DATA).
    NoData,
    /// NXDOMAIN (HOST_NOT_FOUND).
    NxDomain,
    /// SERVFAIL, REFUSED, NOTIMP… (TRY_AGAIN with an answer).
    ServFail,
    /// No server answered (TRY_AGAIN without an answer).
    Timeout,
    /// The server's port is closed (ECONNREFUSED): glibc gives up at once.
    Refused,
}

fn rcode_json<S: serde::Serializer>(rc: &Option<ResponseCode>, s: S) -> Result<S::Ok, S::Error> {
    match rc {
        Some(rc) => s.serialize_str(&super::rcode_name(*rc)),
        None => s.serialize_none(),
    }
}

/// One line of the `--explain` trace.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    /// The name asked for, absolute (with the trailing dot), or the name looked up in hosts.
    pub name: String,
    /// "A", "AAAA", … or "hosts".
    pub qtype: String,
    /// Where the answer came from: `10.96.0.10:53`, or `/etc/hosts`.
    pub source: String,
    /// The response code of the answer (None when no answer came).
    #[serde(serialize_with = "rcode_json")]
    pub rcode: Option<ResponseCode>,
    pub answers: usize,
    pub time_ms: f64,
    pub tcp: bool,
    pub error: Option<String>,
    /// This step produced the final answer.
    pub answered: bool,
}

#[derive(Debug, Clone)]
pub struct Lookup {
    /// The canonical name (CNAME target or the candidate that answered), without trailing dot.
    pub canonical: String,
    pub addrs: Vec<IpAddr>,
    pub from_hosts: bool,
    pub literal: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// Not a valid host name (empty label, label over 63 bytes, name over 253…).
    BadName(NameError),
    /// NXDOMAIN everywhere (EAI_NONAME).
    NotFound,
    /// The name exists but has no address of the asked family (EAI_NODATA).
    NoData,
    /// No server gave a usable answer (EAI_AGAIN).
    TryAgain,
}

impl LookupError {
    /// glibc's gai_strerror text, which ping and curl users recognise.
    pub fn gai_message(&self) -> &'static str {
        match self {
            LookupError::BadName(_) | LookupError::NotFound => "Name or service not known",
            LookupError::NoData => "No address associated with hostname",
            LookupError::TryAgain => "Temporary failure in name resolution",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Any,
    V4,
    V6,
}

/// When the search walk stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// glibc res_search: found means records of an asked type; NXDOMAIN, NODATA and SERVFAIL
    /// move on to the next candidate; a timeout ends the search list.
    Glibc,
    /// bind's dig/nslookup: any answer but NXDOMAIN is final.
    Bind,
}

#[derive(Debug, Clone)]
pub struct Hit {
    /// The candidate (absolute) that answered.
    pub candidate: String,
    /// Its questions and answers, one per asked type.
    pub asked: Vec<Asked>,
}

#[derive(Debug, Clone, Default)]
pub struct Walk {
    pub hit: Option<Hit>,
    pub trace: Vec<Step>,
    pub candidates: Vec<String>,
    pub error: Option<LookupError>,
    /// The questions and answers of the last candidate tried, when none answered.
    pub last: Vec<Asked>,
}

fn combine(outcomes: &[Outcome], policy: Policy) -> Outcome {
    if outcomes.contains(&Outcome::Found) {
        return Outcome::Found;
    }
    // Any answer that is not NXDOMAIN ends bind's walk (NODATA, SERVFAIL…).
    if policy == Policy::Bind
        && outcomes
            .iter()
            .any(|o| matches!(o, Outcome::NoData | Outcome::ServFail))
    {
        return Outcome::Found;
    }
    for o in [
        Outcome::Refused,
        Outcome::Timeout,
        Outcome::ServFail,
        Outcome::NoData,
    ] {
        if outcomes.contains(&o) {
            return o;
        }
    }
    Outcome::NxDomain
}

/// A full lookup's result, with the trace also when it failed.
pub struct Resolution {
    pub result: Result<Lookup, LookupError>,
    pub trace: Vec<Step>,
    pub candidates: Vec<String>,
}

pub struct Resolver<T: Transport> {
    pub conf: ResolvConf,
    pub hosts: Hosts,
    pub transport: T,
    /// Nothing goes past this: each try gets at most the time left, and the walk stops when
    /// it is reached (curl's `-m`, diagnose's `--timeout`).
    pub deadline: Option<Instant>,
    next_id: u16,
}

/// The candidate names glibc's res_search tries for `name`, in order (absolute, with a dot).
/// The walk can stop early (a timeout ends it); `search` below follows the same order.
pub fn candidates(name: &str, conf: &ResolvConf) -> Vec<String> {
    let mut out = Vec::new();
    let plan = Plan::new(name, conf);
    if plan.as_is_first {
        out.push(absolute(name));
    }
    if plan.search {
        for d in &conf.search {
            out.push(absolute(&format!("{}.{d}", name.trim_end_matches('.'))));
        }
    }
    if plan.as_is_last {
        out.push(absolute(name));
    }
    out.dedup();
    out
}

struct Plan {
    as_is_first: bool,
    search: bool,
    as_is_last: bool,
}

impl Plan {
    fn new(name: &str, conf: &ResolvConf) -> Self {
        let trailing = name.ends_with('.');
        let dots = name.trim_end_matches('.').matches('.').count() as u32 + u32::from(trailing);
        let as_is_first = dots >= conf.ndots || trailing;
        // glibc: search when there are no dots (RES_DEFNAMES) or dots but no trailing dot
        // (RES_DNSRCH); both are on by default.
        let search = !trailing && !conf.search.is_empty();
        let root_on_list = conf.search.iter().any(|d| d.is_empty() || d == ".");
        Plan {
            as_is_first,
            search,
            as_is_last: !as_is_first && !root_on_list,
        }
    }
}

fn absolute(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

/// Why the name is not a valid DNS name, if it is not (the checks bind's tools make).
/// Why a name cannot be a DNS name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Empty,
    /// Longer than 253 bytes (without the trailing dot).
    TooLong(usize),
    EmptyLabel,
    /// A label over 63 bytes: its first characters, and its length.
    LabelTooLong {
        start: String,
        len: usize,
    },
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameError::Empty => f.write_str("empty name"),
            NameError::TooLong(n) => write!(f, "name is {n} bytes long, the limit is 253"),
            NameError::EmptyLabel => f.write_str("empty label"),
            NameError::LabelTooLong { start, len } => {
                write!(f, "label \"{start}…\" is {len} bytes long, the limit is 63")
            }
        }
    }
}

/// Can `name` be asked as a DNS name (label and name lengths)?
pub fn check_name(name: &str) -> Result<(), NameError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return if name == "." {
            Ok(())
        } else {
            Err(NameError::Empty)
        };
    }
    if trimmed.len() > 253 {
        return Err(NameError::TooLong(trimmed.len()));
    }
    for label in trimmed.split('.') {
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(NameError::LabelTooLong {
                // Characters, not bytes: a label may hold multi-byte UTF-8.
                start: label.chars().take(12).collect(),
                len: label.len(),
            });
        }
    }
    Ok(())
}

fn step_from(asked: &Asked, x: &Exchange) -> Step {
    let (rcode, answers) = match &x.outcome {
        Ok(a) => (
            Some(a.message.metadata.response_code),
            a.message
                .answers
                .iter()
                .filter(|r| r.record_type() == asked.qtype)
                .count(),
        ),
        Err(_) => (None, 0),
    };
    Step {
        name: asked.name.clone(),
        qtype: asked.qtype.to_string(),
        source: x.server.to_string(),
        rcode,
        answers,
        time_ms: x.elapsed.as_secs_f64() * 1e3,
        tcp: x.proto == Proto::Tcp,
        error: x.outcome.as_ref().err().map(|e| e.to_string()),
        answered: false,
    }
}

impl<T: Transport> Resolver<T> {
    pub fn new(conf: ResolvConf, hosts: Hosts, transport: T) -> Self {
        let seed = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(std::process::id() as u64);
            h.finish() as u16
        };
        Resolver {
            conf,
            hosts,
            transport,
            deadline: None,
            next_id: seed,
        }
    }

    fn id(&mut self) -> u16 {
        self.next_id = self.next_id.wrapping_mul(25173).wrapping_add(13849);
        self.next_id
    }

    /// Ask one question with res_send's rules: rounds over the servers, the next server on a
    /// timeout, SERVFAIL, REFUSED or NOTIMP, and TCP when the UDP answer is truncated.
    pub fn query(&mut self, name: &Name, qtype: RecordType, opts: &QueryOpts) -> Asked {
        let mut asked = Asked {
            name: crate::dns::name::text(name),
            qtype,
            exchanges: Vec::new(),
        };
        let servers = if opts.servers.is_empty() {
            self.conf.servers()
        } else {
            opts.servers.clone()
        };
        for round in 0..opts.attempts.max(1) {
            for &server in &servers {
                let mut timeout = opts.backoff.per_try(round, servers.len());
                if let Some(d) = self.deadline {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return asked;
                    }
                    timeout = timeout.min(left);
                }
                let proto = if opts.tcp { Proto::Tcp } else { Proto::Udp };
                let x = self.exchange_once(name, qtype, server, proto, timeout, opts);
                let truncated = matches!(&x.outcome, Ok(a) if a.message.metadata.truncation);
                asked.exchanges.push(x);
                if truncated && proto == Proto::Udp && opts.tcp_on_truncation {
                    let x = self.exchange_once(name, qtype, server, Proto::Tcp, timeout, opts);
                    asked.exchanges.push(x);
                }
                let last = asked.exchanges.last().map(|x| &x.outcome);
                match last {
                    Some(Ok(a)) => {
                        let rc = a.message.metadata.response_code;
                        if !matches!(
                            rc,
                            ResponseCode::ServFail | ResponseCode::NotImp | ResponseCode::Refused
                        ) {
                            return asked;
                        }
                    }
                    Some(Err(XError::Refused))
                    | Some(Err(XError::Timeout))
                    | Some(Err(XError::Local(_)))
                    | None => {}
                }
            }
        }
        asked
    }

    fn exchange_once(
        &mut self,
        name: &Name,
        qtype: RecordType,
        server: SocketAddr,
        proto: Proto,
        timeout: Duration,
        opts: &QueryOpts,
    ) -> Exchange {
        let id = self.id();
        let mut msg = Message::query();
        msg.metadata.id = id;
        msg.metadata.recursion_desired = opts.recursion_desired;
        msg.add_query(Query::query(name.clone(), qtype));
        if let Some(size) = opts.edns {
            let mut e = Edns::new();
            e.set_max_payload(size);
            msg.set_edns(e);
        }
        let start = Instant::now();
        let outcome = match msg.to_vec() {
            Err(e) => Err(XError::Local(format!("cannot encode the query: {e}"))),
            Ok(bytes) => match self.transport.exchange(server, &bytes, id, proto, timeout) {
                Err(e) => Err(e),
                Ok(reply) => match Message::from_vec(&reply) {
                    Ok(m) if !question_matches(&m, name, qtype) => Err(XError::Local(format!(
                        "Question section mismatch: got {}",
                        m.queries
                            .first()
                            .map(|q| format!(
                                "{}/{}/{}",
                                super::name::text(q.name()).trim_end_matches('.'),
                                q.query_type(),
                                q.query_class()
                            ))
                            .unwrap_or_else(|| "no question".into())
                    ))),
                    Ok(m) => Ok(Answer {
                        message: m,
                        size: reply.len(),
                    }),
                    Err(e) => Err(XError::Local(format!(
                        "malformed answer from {server}: {e}"
                    ))),
                },
            },
        };
        Exchange {
            server,
            proto,
            elapsed: start.elapsed(),
            outcome,
            notes: self.transport.take_notes(),
        }
    }

    fn outcome_of(asked: &Asked) -> Outcome {
        if !asked.records().is_empty() {
            return Outcome::Found;
        }
        match asked.answer() {
            Some((_, a)) => {
                let m = &a.message;
                match m.metadata.response_code {
                    // Records of the type, but for another name, are no answer (glibc).
                    ResponseCode::NoError => Outcome::NoData,
                    ResponseCode::NXDomain => Outcome::NxDomain,
                    _ => Outcome::ServFail,
                }
            }
            None => match asked.error() {
                Some(XError::Refused) => Outcome::Refused,
                _ => Outcome::Timeout,
            },
        }
    }

    /// Walk the candidate names for `name` (see `candidates`), asking `qtypes` for each, and
    /// stop where `policy` says. Every exchange goes into the trace.
    pub fn search(
        &mut self,
        name: &str,
        qtypes: &[RecordType],
        opts: &QueryOpts,
        policy: Policy,
    ) -> Walk {
        let mut walk = Walk::default();
        let mut got_nodata = false;
        let mut got_servfail = false;
        let mut saved: Option<Outcome> = None;
        let mut last: Option<Outcome> = None;
        let order = candidates(name, &self.conf);
        let as_is = absolute(name);
        // The candidates before the first search-list one are the name tried as is first.
        let search_start = order
            .iter()
            .position(|c| *c != as_is)
            .unwrap_or(order.len());
        let mut skip_search = false;
        for (i, cand) in order.iter().enumerate() {
            let in_search = *cand != as_is;
            if in_search && skip_search {
                continue;
            }
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                walk.error = Some(LookupError::TryAgain);
                return walk;
            }
            let Ok(mut qname) = super::name::parse(cand) else {
                continue;
            };
            qname.set_fqdn(true);
            walk.candidates.push(cand.clone());
            let mut asked_all = Vec::new();
            let mut outcomes = Vec::new();
            for qt in qtypes {
                let asked = self.query(&qname, *qt, opts);
                for x in &asked.exchanges {
                    walk.trace.push(step_from(&asked, x));
                }
                let o = Self::outcome_of(&asked);
                let stop = matches!(o, Outcome::Timeout | Outcome::Refused);
                outcomes.push(o);
                asked_all.push(asked);
                if stop {
                    break; // a dead server fails A and AAAA alike
                }
            }
            let o = combine(&outcomes, policy);
            if o == Outcome::Found {
                let n = walk.trace.len();
                let k: usize = asked_all.iter().map(|a| a.exchanges.len()).sum();
                for s in &mut walk.trace[n - k..] {
                    s.answered = s.answers > 0 || (policy == Policy::Bind && s.rcode.is_some());
                }
                walk.hit = Some(Hit {
                    candidate: cand.clone(),
                    asked: asked_all,
                });
                return walk;
            }
            walk.last = asked_all;
            last = Some(o.clone());
            if i < search_start {
                saved = Some(o.clone());
            }
            match (policy, &o) {
                (_, Outcome::Refused) => {
                    walk.error = Some(LookupError::TryAgain);
                    return walk;
                }
                (Policy::Glibc, Outcome::NoData) => got_nodata = true,
                (Policy::Glibc, Outcome::ServFail) => got_servfail = true,
                (_, Outcome::NxDomain) => {}
                // A timeout ends the search list (glibc still tries the name as is); bind's
                // tools stop at any answer that is not NXDOMAIN.
                (Policy::Glibc, Outcome::Timeout) if in_search => skip_search = true,
                (Policy::Glibc, _) => {}
                (Policy::Bind, _) => break,
            }
        }
        // glibc's final h_errno: the as-is answer when it was tried first, else NO_DATA if any
        // candidate had the name, else TRY_AGAIN on a SERVFAIL, else the last answer.
        walk.error = Some(match (saved, last) {
            (Some(o), _) => outcome_error(&o),
            _ if got_nodata => LookupError::NoData,
            _ if got_servfail => LookupError::TryAgain,
            (_, Some(o)) => outcome_error(&o),
            _ => LookupError::NotFound,
        });
        walk
    }

    /// getaddrinfo(): an address literal, /etc/hosts, then DNS through the search list.
    pub fn lookup_ip(&mut self, host: &str, family: Family) -> Resolution {
        let host = host.trim();
        let literal = host
            .split('%')
            .next()
            .unwrap_or(host)
            .parse::<IpAddr>()
            .or_else(|e| inet_aton(host).map(IpAddr::V4).ok_or(e));
        if let Ok(ip) = literal {
            let result = if family_ok(family, &ip) {
                Ok(Lookup {
                    canonical: host.to_string(),
                    addrs: vec![ip],
                    from_hosts: false,
                    literal: true,
                })
            } else {
                Err(LookupError::NoData)
            };
            return Resolution {
                result,
                trace: Vec::new(),
                candidates: Vec::new(),
            };
        }
        if let Err(why) = check_name(host) {
            return Resolution {
                result: Err(LookupError::BadName(why)),
                trace: Vec::new(),
                candidates: Vec::new(),
            };
        }
        let mut trace = Vec::new();
        if let Some((canon, addrs)) = self.hosts.lookup(host) {
            let addrs: Vec<IpAddr> = addrs.into_iter().filter(|a| family_ok(family, a)).collect();
            trace.push(Step {
                name: host.to_string(),
                qtype: "hosts".into(),
                source: "/etc/hosts".into(),
                rcode: None,
                answers: addrs.len(),
                time_ms: 0.0,
                tcp: false,
                error: None,
                answered: !addrs.is_empty(),
            });
            if !addrs.is_empty() {
                let lookup = Lookup {
                    canonical: canon,
                    addrs,
                    from_hosts: true,
                    literal: false,
                };
                return Resolution {
                    result: Ok(lookup),
                    trace,
                    candidates: Vec::new(),
                };
            }
        }
        let opts = QueryOpts::from_conf(&self.conf);
        let mut qtypes = match family {
            Family::V4 => vec![RecordType::A],
            Family::V6 => vec![RecordType::AAAA],
            Family::Any => vec![RecordType::A, RecordType::AAAA],
        };
        if self.conf.no_aaaa {
            qtypes.retain(|t| *t != RecordType::AAAA);
        }
        let walk = self.search(host, &qtypes, &opts, Policy::Glibc);
        trace.extend(walk.trace.iter().cloned());
        let result = match &walk.hit {
            Some(hit) => {
                let mut addrs = Vec::new();
                let mut canonical = None;
                for asked in &hit.asked {
                    for r in asked.records() {
                        let ip = match &r.data {
                            RData::A(ip) => IpAddr::V4(ip.0),
                            RData::AAAA(ip) => IpAddr::V6(ip.0),
                            _ => continue,
                        };
                        addrs.push(ip);
                        canonical.get_or_insert_with(|| crate::dns::name::text(&r.name));
                    }
                }
                let canonical = canonical
                    .unwrap_or_else(|| hit.candidate.clone())
                    .trim_end_matches('.')
                    .to_string();
                Ok(Lookup {
                    canonical,
                    addrs,
                    from_hosts: false,
                    literal: false,
                })
            }
            None => Err(walk.error.clone().unwrap_or(LookupError::NotFound)),
        };
        Resolution {
            result,
            trace,
            candidates: walk.candidates,
        }
    }

    /// getnameinfo(): /etc/hosts, then a PTR query (no search list), within `timeout` per try.
    pub fn reverse(&mut self, ip: IpAddr, timeout: Duration) -> Option<String> {
        if let Some(n) = self.hosts.reverse(ip) {
            return Some(n);
        }
        let name = Name::from(ip);
        let mut opts = QueryOpts::from_conf(&self.conf);
        opts.backoff = Backoff::Fixed(timeout);
        opts.attempts = 1;
        let asked = self.query(&name, RecordType::PTR, &opts);
        let (_, a) = asked.answer()?;
        a.message.answers.iter().find_map(|r| match &r.data {
            RData::PTR(p) => Some(
                crate::dns::name::text(&p.0)
                    .trim_end_matches('.')
                    .to_string(),
            ),
            _ => None,
        })
    }
}

/// inet_aton's forms of an IPv4 address, which getaddrinfo takes as a literal: one to four
/// parts, each decimal, octal (`0…`) or hex (`0x…`), the last filling the remaining bytes
/// (`127.1`, `1.2.3`, `0`, `0x7f000001`).
pub fn inet_aton(s: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"))
        {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        if digits.is_empty() && radix != 8 {
            return None;
        }
        let v = if digits.is_empty() {
            0
        } else {
            u32::from_str_radix(digits, radix).ok()?
        };
        nums.push(v);
    }
    let last = *nums.last()?;
    let head = &nums[..nums.len() - 1];
    if head.iter().any(|n| *n > 255) {
        return None;
    }
    let room = 32 - 8 * head.len() as u32;
    if room < 32 && last >> room != 0 {
        return None;
    }
    let mut v: u32 = 0;
    for (i, n) in head.iter().enumerate() {
        v |= n << (24 - 8 * i as u32);
    }
    Some(std::net::Ipv4Addr::from(v | last))
}

/// Does the reply answer the question asked (bind's "Question section mismatch" otherwise)?
/// A reply without a question section is taken, as bind takes it.
fn question_matches(m: &Message, name: &Name, qtype: RecordType) -> bool {
    match m.queries.first() {
        None => true,
        Some(q) => q.query_type() == qtype && q.name() == name,
    }
}

fn outcome_error(o: &Outcome) -> LookupError {
    match o {
        Outcome::NoData => LookupError::NoData,
        Outcome::NxDomain | Outcome::Found => LookupError::NotFound,
        Outcome::ServFail | Outcome::Timeout | Outcome::Refused => LookupError::TryAgain,
    }
}

fn family_ok(f: Family, ip: &IpAddr) -> bool {
    match f {
        Family::Any => true,
        Family::V4 => ip.is_ipv4(),
        Family::V6 => ip.is_ipv6(),
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use hickory_proto::op::MessageType;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{A, AAAA};
    use std::collections::HashMap;

    /// A canned DNS server: name -> (rcode, A records, AAAA records); unknown names time out.
    #[derive(Default)]
    pub struct Canned {
        pub zone: HashMap<
            String,
            (
                ResponseCode,
                Vec<std::net::Ipv4Addr>,
                Vec<std::net::Ipv6Addr>,
            ),
        >,
        pub asked: Vec<(String, RecordType, Proto)>,
        pub dead: bool,
    }

    impl Transport for Canned {
        fn exchange(
            &mut self,
            _s: SocketAddr,
            q: &[u8],
            id: u16,
            proto: Proto,
            _t: Duration,
        ) -> Result<Vec<u8>, XError> {
            let m = Message::from_vec(q).unwrap();
            let query = m.queries[0].clone();
            let name = crate::dns::name::text(query.name());
            self.asked.push((name.clone(), query.query_type(), proto));
            if self.dead {
                return Err(XError::Timeout);
            }
            let mut r = Message::new(id, MessageType::Response, m.metadata.op_code);
            r.add_query(query.clone());
            match self.zone.get(&name.to_lowercase()) {
                None => r.metadata.response_code = ResponseCode::NXDomain,
                Some((rc, v4, v6)) => {
                    r.metadata.response_code = *rc;
                    if query.query_type() == RecordType::A {
                        for ip in v4 {
                            r.add_answer(Record::from_rdata(
                                query.name().clone(),
                                5,
                                RData::A(A(*ip)),
                            ));
                        }
                    } else if query.query_type() == RecordType::AAAA {
                        for ip in v6 {
                            r.add_answer(Record::from_rdata(
                                query.name().clone(),
                                5,
                                RData::AAAA(AAAA(*ip)),
                            ));
                        }
                    }
                }
            }
            Ok(r.to_vec().unwrap())
        }
    }

    /// A transport answering with whatever `answer` makes of the query and protocol.
    pub struct Scripted<F: FnMut(&Message, Proto) -> Result<Message, XError>>(pub F);

    impl<F: FnMut(&Message, Proto) -> Result<Message, XError>> Transport for Scripted<F> {
        fn exchange(
            &mut self,
            _s: SocketAddr,
            q: &[u8],
            id: u16,
            proto: Proto,
            _t: Duration,
        ) -> Result<Vec<u8>, XError> {
            let m = Message::from_vec(q).unwrap();
            let mut r = (self.0)(&m, proto)?;
            r.metadata.id = id;
            Ok(r.to_vec().unwrap())
        }
    }

    fn reply_to(q: &Message) -> Message {
        let mut r = Message::new(q.metadata.id, MessageType::Response, q.metadata.op_code);
        r.add_query(q.queries[0].clone());
        r
    }

    #[test]
    fn inet_aton_forms() {
        let a = |s: &str| inet_aton(s).map(|a| a.to_string());
        assert_eq!(a("1.2.3").as_deref(), Some("1.2.0.3"));
        assert_eq!(a("127.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(a("0").as_deref(), Some("0.0.0.0"));
        assert_eq!(a("0x7f000001").as_deref(), Some("127.0.0.1"));
        assert_eq!(a("0177.0.0.01").as_deref(), Some("127.0.0.1"));
        assert_eq!(a("256.1"), None);
        assert_eq!(a("1.2.3.4.5"), None);
        assert_eq!(a("1.2.65536"), None);
        assert_eq!(a("web"), None);
        assert_eq!(a("08"), None);
    }

    #[test]
    fn truncated_then_tcp_failure_is_a_failure_not_nodata() {
        let t = Scripted(|q: &Message, proto| match proto {
            Proto::Udp => {
                let mut r = reply_to(q);
                r.metadata.truncation = true;
                Ok(r)
            }
            Proto::Tcp => Err(XError::Refused),
        });
        let mut r = Resolver::new(kube_conf(), Hosts::default(), t);
        let res = r.lookup_ip("web.default.svc.cluster.local.", Family::V4);
        assert_eq!(res.result.unwrap_err(), LookupError::TryAgain);
        // It did not walk on as if the name had no address.
        assert_eq!(res.candidates.len(), 1);
    }

    #[test]
    fn mismatched_questions_and_foreign_owners_are_no_answer() {
        let t = Scripted(|q: &Message, _| {
            let mut r = Message::new(q.metadata.id, MessageType::Response, q.metadata.op_code);
            r.add_query(Query::query(
                Name::from_ascii("evil.example.").unwrap(),
                RecordType::A,
            ));
            Ok(r)
        });
        let mut r = Resolver::new(kube_conf(), Hosts::default(), t);
        let mut opts = QueryOpts::from_conf(&r.conf);
        opts.attempts = 1;
        let asked = r.query(&Name::from_ascii("web.").unwrap(), RecordType::A, &opts);
        assert!(asked.answer().is_none());
        assert!(
            matches!(asked.error(), Some(XError::Local(e)) if e.starts_with("Question section mismatch: got evil.example/A/IN")),
            "{:?}",
            asked.error()
        );
        // An A record for another owner name, in a reply to the right question.
        let t = Scripted(|q: &Message, _| {
            let mut r = reply_to(q);
            r.add_answer(Record::from_rdata(
                Name::from_ascii("other.example.").unwrap(),
                5,
                RData::A(A("10.0.0.66".parse().unwrap())),
            ));
            Ok(r)
        });
        let mut r = Resolver::new(kube_conf(), Hosts::default(), t);
        let res = r.lookup_ip("web.example.", Family::V4);
        assert_eq!(res.result.unwrap_err(), LookupError::NoData);
    }

    pub fn kube_conf() -> ResolvConf {
        ResolvConf::parse(
            "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
            None,
        )
    }

    fn resolver(zone: &[(&str, ResponseCode, &[&str], &[&str])]) -> Resolver<Canned> {
        let mut c = Canned::default();
        for (n, rc, v4, v6) in zone {
            c.zone.insert(
                n.to_string(),
                (
                    *rc,
                    v4.iter().map(|s| s.parse().unwrap()).collect(),
                    v6.iter().map(|s| s.parse().unwrap()).collect(),
                ),
            );
        }
        Resolver::new(kube_conf(), Hosts::parse("127.0.0.1 localhost\n"), c)
    }

    #[test]
    fn candidates_like_glibc() {
        let c = kube_conf();
        assert_eq!(
            candidates("web", &c),
            vec![
                "web.default.svc.cluster.local.",
                "web.svc.cluster.local.",
                "web.cluster.local.",
                "web."
            ]
        );
        assert_eq!(
            candidates("web.default", &c)[0],
            "web.default.default.svc.cluster.local."
        );
        assert_eq!(
            candidates("web.default", &c).last().unwrap(),
            "web.default."
        );
        // A trailing dot is absolute: one query.
        assert_eq!(candidates("api.example.com.", &c), vec!["api.example.com."]);
        // Enough dots: as-is first, then the search list.
        let mut c1 = c.clone();
        c1.ndots = 1;
        assert_eq!(candidates("api.example.com", &c1)[0], "api.example.com.");
        assert_eq!(candidates("api.example.com", &c1).len(), 4);
    }

    #[test]
    fn short_name_resolves_through_the_search_list() {
        let mut r = resolver(&[(
            "web.default.svc.cluster.local.",
            ResponseCode::NoError,
            &["10.96.0.100"],
            &["fd00:10:96::100"],
        )]);
        let res = r.lookup_ip("web", Family::Any);
        assert_eq!(res.candidates, vec!["web.default.svc.cluster.local."]);
        assert!(res.trace.iter().any(|s| s.answered));
        let l = res.result.unwrap();
        assert_eq!(l.canonical, "web.default.svc.cluster.local");
        assert_eq!(l.addrs.len(), 2);
    }

    #[test]
    fn svc_ns_goes_through_two_nxdomains() {
        let mut r = resolver(&[(
            "web.default.svc.cluster.local.",
            ResponseCode::NoError,
            &["10.96.0.100"],
            &[],
        )]);
        let res = r.lookup_ip("web.default", Family::Any);
        assert_eq!(
            res.candidates,
            vec![
                "web.default.default.svc.cluster.local.",
                "web.default.svc.cluster.local."
            ]
        );
        let l = res.result.unwrap();
        assert_eq!(l.addrs, vec!["10.96.0.100".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn external_name_costs_search_queries_first() {
        let mut r = resolver(&[(
            "api.example.com.",
            ResponseCode::NoError,
            &["172.18.0.241"],
            &[],
        )]);
        let res = r.lookup_ip("api.example.com", Family::V4);
        assert!(res.result.is_ok());
        assert_eq!(res.candidates.len(), 4);
        assert_eq!(res.candidates.last().unwrap(), "api.example.com.");
        assert_eq!(r.transport.asked.len(), 4);
    }

    #[test]
    fn nxdomain_everywhere_and_nodata() {
        let mut r = resolver(&[]);
        assert_eq!(
            r.lookup_ip("nosuch", Family::Any).result.unwrap_err(),
            LookupError::NotFound
        );
        let mut r = resolver(&[(
            "v6only.default.svc.cluster.local.",
            ResponseCode::NoError,
            &[],
            &["fd00::1"],
        )]);
        assert_eq!(
            r.lookup_ip("v6only", Family::V4).result.unwrap_err(),
            LookupError::NoData
        );
    }

    #[test]
    fn dead_server_stops_the_walk() {
        let mut r = resolver(&[]);
        r.transport.dead = true;
        let res = r.lookup_ip("web", Family::Any);
        assert_eq!(res.result.unwrap_err(), LookupError::TryAgain);
        // glibc stops searching on a timeout, then still tries the name as is.
        assert_eq!(
            res.candidates,
            vec!["web.default.svc.cluster.local.", "web."]
        );
        // attempts:2 rounds on the one server, A only (the AAAA is not asked after a timeout).
        assert_eq!(r.transport.asked.len(), 4);
    }

    #[test]
    fn hosts_and_literals_skip_dns() {
        let mut r = resolver(&[]);
        let l = r.lookup_ip("localhost", Family::Any).result.unwrap();
        assert!(l.from_hosts);
        assert!(r.transport.asked.is_empty());
        let l = r.lookup_ip("fd00::1", Family::Any).result.unwrap();
        assert!(l.literal);
        assert_eq!(
            r.lookup_ip("10.0.0.1", Family::V6).result.unwrap_err(),
            LookupError::NoData
        );
    }

    #[test]
    fn bad_names() {
        let mut r = resolver(&[]);
        let long = "a".repeat(64);
        assert!(matches!(
            r.lookup_ip(&long, Family::Any).result,
            Err(LookupError::BadName(_))
        ));
        assert!(matches!(
            r.lookup_ip("a..b", Family::Any).result,
            Err(LookupError::BadName(_))
        ));
        let huge = vec!["abcdefgh"; 40].join(".");
        assert!(matches!(
            r.lookup_ip(&huge, Family::Any).result,
            Err(LookupError::BadName(_))
        ));
        assert!(r.transport.asked.is_empty());
    }

    #[test]
    fn backoff_like_res_send() {
        let b = Backoff::Glibc(Duration::from_secs(5));
        assert_eq!(b.per_try(0, 3), Duration::from_secs(5));
        assert_eq!(b.per_try(1, 2), Duration::from_secs(5));
        assert_eq!(b.per_try(1, 3), Duration::from_secs(3));
        assert_eq!(
            Backoff::Glibc(Duration::from_secs(1)).per_try(1, 3),
            Duration::from_secs(1)
        );
    }
}
