//! DNS data as bind's tools print it (rcode names, record presentation, dig's column layout,
//! nslookup's record words), the `--explain` report, and the JSON views. Pure.

use super::conf::ResolvConf;
use super::resolver::{Asked, Lookup, LookupError, NameError, Proto, Step, XError};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{DNSClass, RData, Record, RecordType};
use serde::Serialize;
use std::fmt::Write;

pub use super::rcode_name;

/// What bind's tools print as the exchanges of one question happen, in order: the transport's
/// remarks, `;; Truncated, retrying in TCP mode.` before a TCP retry, and each communications
/// error.
pub fn exchange_lines(asked: &Asked) -> String {
    let mut out = String::new();
    for (i, x) in asked.exchanges.iter().enumerate() {
        for n in &x.notes {
            let _ = writeln!(out, ";; {n}");
        }
        match &x.outcome {
            Ok(a)
                if a.message.metadata.truncation
                    && asked.exchanges[i + 1..]
                        .iter()
                        .any(|y| y.proto == Proto::Tcp) =>
            {
                let _ = writeln!(out, ";; Truncated, retrying in TCP mode.");
            }
            Ok(_) => {}
            Err(e) => {
                let _ = writeln!(
                    out,
                    ";; communications error to {}#{}: {e}",
                    x.server.ip(),
                    x.server.port()
                );
            }
        }
    }
    out
}

/// bind's parse_uint: a decimal number up to `max`, or its reason for refusing one.
pub fn bind_uint(v: &str, max: u32) -> Result<u32, &'static str> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a valid number");
    }
    match v.parse::<u64>() {
        Ok(n) if n <= max as u64 => Ok(n as u32),
        _ => Err("out of range"),
    }
}

/// bind's words for a name it cannot encode (`dig: 'x' is not a legal name (label too long)`).
pub fn bind_reason(why: &NameError) -> &'static str {
    match why {
        NameError::Empty => "unexpected end of input",
        NameError::EmptyLabel => "empty label",
        NameError::LabelTooLong { .. } => "label too long",
        NameError::TooLong(_) => "ran out of space",
    }
}

fn quote_txt(bytes: &[u8], out: &mut String) {
    out.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03}");
            }
        }
    }
    out.push('"');
}

/// A record's data in presentation format (what dig prints after the type).
pub fn rdata_text(data: &RData) -> String {
    match data {
        // bind quotes HINFO's two strings as it quotes TXT's.
        RData::HINFO(h) => {
            let mut out = String::new();
            quote_txt(&h.cpu, &mut out);
            out.push(' ');
            quote_txt(&h.os, &mut out);
            out
        }
        RData::TXT(txt) => {
            let mut out = String::new();
            for (i, s) in txt.txt_data.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                quote_txt(s, &mut out);
            }
            out
        }
        other => super::name::escape_controls(&other.to_string()),
    }
}

/// The owner name as dig prints it (absolute, with the trailing dot).
pub fn owner(r: &Record) -> String {
    let mut n = crate::dns::name::text(&r.name);
    if !n.ends_with('.') {
        n.push('.');
    }
    n
}

/// bind's master-file columns: a field ends at column 24 (name), 32 (TTL), 40 (class) or 48
/// (type); tabs reach the column, a field already past it gets one space.
fn pad_to(out: &mut String, col: &mut usize, target: usize) {
    if *col >= target {
        out.push(' ');
        *col += 1;
    } else {
        while *col < target {
            out.push('\t');
            *col = (*col / 8 + 1) * 8;
        }
    }
}

fn push(out: &mut String, col: &mut usize, s: &str) {
    out.push_str(s);
    *col += s.chars().count();
}

/// One resource record line, as in dig's ANSWER/AUTHORITY/ADDITIONAL sections.
pub fn dig_record(r: &Record) -> String {
    let mut out = String::new();
    let mut col = 0;
    push(&mut out, &mut col, &owner(r));
    pad_to(&mut out, &mut col, 24);
    push(&mut out, &mut col, &r.ttl.to_string());
    pad_to(&mut out, &mut col, 32);
    push(&mut out, &mut col, &class_name(r.dns_class));
    pad_to(&mut out, &mut col, 40);
    push(&mut out, &mut col, &r.record_type().to_string());
    pad_to(&mut out, &mut col, 48);
    out.push_str(&rdata_text(&r.data));
    out
}

/// A question line: `;name.` then class and type in the same columns as records (no TTL).
pub fn dig_question(name: &str, qtype: RecordType, class: DNSClass) -> String {
    let mut out = String::new();
    let mut col = 0;
    // bind does not count the `;` when it lines the question up.
    out.push(';');
    push(&mut out, &mut col, name);
    pad_to(&mut out, &mut col, 32);
    push(&mut out, &mut col, &class_name(class));
    pad_to(&mut out, &mut col, 40);
    out.push_str(&qtype.to_string());
    out
}

pub fn class_name(c: DNSClass) -> String {
    match c {
        DNSClass::IN => "IN".into(),
        DNSClass::CH => "CH".into(),
        DNSClass::HS => "HS".into(),
        DNSClass::NONE => "NONE".into(),
        DNSClass::ANY => "ANY".into(),
        other => format!("CLASS{}", u16::from(other)),
    }
}

/// nslookup's word before the data of a record (rtypetext in nslookup.c).
pub fn nslookup_word(t: RecordType, in_answer: bool) -> String {
    match t {
        RecordType::A => "internet address = ".into(),
        RecordType::NS => "nameserver = ".into(),
        RecordType::CNAME => "canonical name = ".into(),
        RecordType::SOA => "soa = ".into(),
        RecordType::PTR => "name = ".into(),
        RecordType::HINFO => "hinfo = ".into(),
        RecordType::MX => "mail exchanger = ".into(),
        RecordType::TXT => "text = ".into(),
        RecordType::AAAA if !in_answer => "has AAAA address ".into(),
        RecordType::AAAA => "has AAAA address ".into(),
        RecordType::SRV => "service = ".into(),
        RecordType::NAPTR => "naptr = ".into(),
        other => format!("rdata_{} = ", u16::from(other)),
    }
}

/// A name without its trailing dot (bind's dns_name_format).
pub fn bare(name: &str) -> &str {
    if name == "." {
        name
    } else {
        name.strip_suffix('.').unwrap_or(name)
    }
}

/// nslookup's printsection for one section: `Name:/Address:` for A and AAAA answers, the SOA
/// block, and `NAME<TAB>word data` for everything else.
pub fn nslookup_section(records: &[Record], answer_section: bool) -> String {
    let mut out = String::new();
    for r in records {
        let name = crate::dns::name::text(&r.name);
        let name = bare(&name);
        match (&r.data, answer_section) {
            (RData::A(_) | RData::AAAA(_), true) => {
                let _ = writeln!(out, "Name:\t{name}\nAddress: {}", rdata_text(&r.data));
            }
            (RData::SOA(soa), _) => {
                let _ = writeln!(
                    out,
                    "{name}\n\torigin = {}\n\tmail addr = {}\n\tserial = {}\n\trefresh = {}\n\tretry = {}\n\texpire = {}\n\tminimum = {}",
                    bare(&crate::dns::name::text(&soa.mname)),
                    bare(&crate::dns::name::text(&soa.rname)),
                    soa.serial,
                    soa.refresh,
                    soa.retry,
                    soa.expire,
                    soa.minimum
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "{name}\t{}{}",
                    nslookup_word(r.record_type(), answer_section),
                    rdata_text(&r.data)
                );
            }
        }
    }
    out
}

/// `;; flags: qr aa rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1`
pub fn dig_flags(m: &Message) -> String {
    let h = &m.metadata;
    let mut flags = Vec::new();
    if h.message_type == hickory_proto::op::MessageType::Response {
        flags.push("qr");
    }
    for (on, f) in [
        (h.authoritative, "aa"),
        (h.truncation, "tc"),
        (h.recursion_desired, "rd"),
        (h.recursion_available, "ra"),
        (h.authentic_data, "ad"),
        (h.checking_disabled, "cd"),
    ] {
        if on {
            flags.push(f);
        }
    }
    let additional = m.additionals.len() + usize::from(m.edns.is_some());
    format!(
        ";; flags: {}; QUERY: {}, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}",
        flags.join(" "),
        m.queries.len(),
        m.answers.len(),
        m.authorities.len(),
        additional
    )
}

/// The JSON view of one answer (nslookup -j, dig -j, diagnose).
#[derive(Debug, Clone, Serialize)]
pub struct RecordView {
    pub name: String,
    pub ttl: u32,
    pub class: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub data: String,
}

impl From<&Record> for RecordView {
    fn from(r: &Record) -> Self {
        RecordView {
            name: owner(r),
            ttl: r.ttl,
            class: class_name(r.dns_class),
            rtype: r.record_type().to_string(),
            data: rdata_text(&r.data),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResponseView {
    pub server: String,
    pub name: String,
    #[serde(rename = "type")]
    pub qtype: String,
    pub status: Option<String>,
    pub flags: Vec<&'static str>,
    pub answer: Vec<RecordView>,
    pub authority: Vec<RecordView>,
    pub additional: Vec<RecordView>,
    pub time_ms: f64,
    pub size: Option<usize>,
    pub tcp: bool,
    pub error: Option<String>,
}

impl ResponseView {
    pub fn from_asked(asked: &Asked) -> Self {
        let last = asked.exchanges.last();
        let (server, tcp, time) = match asked.answer() {
            Some((x, _)) => (x.server.to_string(), x.proto == Proto::Tcp, x.elapsed),
            None => last
                .map(|x| (x.server.to_string(), x.proto == Proto::Tcp, x.elapsed))
                .unwrap_or_default(),
        };
        let mut v = ResponseView {
            server,
            name: asked.name.clone(),
            qtype: asked.qtype.to_string(),
            status: None,
            flags: Vec::new(),
            answer: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            time_ms: time.as_secs_f64() * 1e3,
            size: None,
            tcp,
            error: asked.error().map(|e| e.to_string()),
        };
        if let Some((_, a)) = asked.answer() {
            let m = &a.message;
            v.status = Some(rcode_name(m.metadata.response_code));
            let h = &m.metadata;
            for (on, f) in [
                (true, "qr"),
                (h.authoritative, "aa"),
                (h.truncation, "tc"),
                (h.recursion_desired, "rd"),
                (h.recursion_available, "ra"),
                (h.authentic_data, "ad"),
                (h.checking_disabled, "cd"),
            ] {
                if on {
                    v.flags.push(f);
                }
            }
            v.answer = m.answers.iter().map(RecordView::from).collect();
            v.authority = m.authorities.iter().map(RecordView::from).collect();
            v.additional = m.additionals.iter().map(RecordView::from).collect();
            v.size = Some(a.size);
        }
        v
    }
}

/// The `--explain` report: the walk through the search list and what it means.
#[derive(Debug, Clone, Serialize)]
pub struct Explain {
    pub query: String,
    pub nameservers: Vec<String>,
    pub search: Vec<String>,
    pub ndots: u32,
    pub timeout_s: u64,
    pub attempts: u32,
    pub candidates: Vec<String>,
    pub steps: Vec<Step>,
    pub answer: Option<Vec<String>>,
    pub canonical: Option<String>,
    pub error: Option<String>,
    pub findings: Vec<String>,
}

impl Explain {
    pub fn new(
        name: &str,
        conf: &ResolvConf,
        result: &Result<Lookup, LookupError>,
        steps: &[Step],
        candidates: &[String],
    ) -> Self {
        let (answer, canonical, error) = match result {
            Ok(l) => (
                Some(l.addrs.iter().map(|a| a.to_string()).collect()),
                Some(l.canonical.clone()),
                None,
            ),
            Err(e) => (None, None, Some(e.gai_message().to_string())),
        };
        let findings = findings(name, conf, result, steps, candidates);
        Explain {
            query: name.to_string(),
            nameservers: conf.servers().iter().map(|s| s.ip().to_string()).collect(),
            search: conf.search.clone(),
            ndots: conf.ndots,
            timeout_s: conf.timeout.as_secs(),
            attempts: conf.attempts,
            candidates: candidates.to_vec(),
            steps: steps.to_vec(),
            answer,
            canonical,
            error,
            findings,
        }
    }

    /// The report as text; `prefix` is ";; " for dig (comment lines) and "" for nslookup.
    pub fn render(&self, prefix: &str) -> String {
        let mut out = String::new();
        let p = prefix;
        let _ = writeln!(
            out,
            "{p}Explain: how a pod's resolver (glibc, as ping and curl use it) looks up \"{}\"",
            self.query
        );
        let _ = writeln!(
            out,
            "{p}  resolv.conf: nameserver {}; search {}; ndots:{} timeout:{} attempts:{}",
            self.nameservers.join(" "),
            if self.search.is_empty() {
                "(none)".to_string()
            } else {
                self.search.join(" ")
            },
            self.ndots,
            self.timeout_s,
            self.attempts
        );
        let width = self
            .steps
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(
            out,
            "{p}  {:>2}  {:<width$}  {:<5} {:<17} {:<9} {:>7} {:>9}",
            "#", "name", "type", "server", "rcode", "answers", "time"
        );
        let mut n = 0;
        let mut last_name = String::new();
        for s in &self.steps {
            if s.name != last_name {
                n += 1;
                last_name = s.name.clone();
            }
            let rcode = s
                .rcode
                .map(rcode_name)
                .or_else(|| s.error.clone())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{p}  {:>2}  {:<width$}  {:<5} {:<17} {:<9} {:>7} {:>6.1} ms{}{}",
                n,
                s.name,
                s.qtype,
                s.source,
                rcode,
                s.answers,
                s.time_ms,
                if s.tcp { " (TCP)" } else { "" },
                if s.answered { "  <- answer" } else { "" }
            );
        }
        match (&self.answer, &self.error) {
            (Some(a), _) => {
                let _ = writeln!(
                    out,
                    "{p}  result: {} -> {}",
                    self.canonical.as_deref().unwrap_or(&self.query),
                    a.join(", ")
                );
            }
            (None, Some(e)) => {
                let _ = writeln!(out, "{p}  result: {e}");
            }
            _ => {}
        }
        if !self.findings.is_empty() {
            let _ = writeln!(out, "{p}Findings:");
            for f in &self.findings {
                let _ = writeln!(out, "{p}  - {f}");
            }
        }
        out
    }
}

/// Plain-words findings about a walk.
pub fn findings(
    name: &str,
    conf: &ResolvConf,
    result: &Result<Lookup, LookupError>,
    steps: &[Step],
    candidates: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    let trailing = name.ends_with('.');
    let dots = name.trim_end_matches('.').matches('.').count();
    if let Ok(l) = result {
        if l.literal {
            out.push(format!("`{name}` is an address: no lookup was needed"));
            return out;
        }
        if l.from_hosts {
            out.push(format!(
                "`{name}` was answered by /etc/hosts; DNS was not asked"
            ));
            return out;
        }
    }
    if steps.iter().any(|s| s.tcp) {
        out.push("an answer was truncated over UDP and the query was retried over TCP".into());
    }
    let answered = steps.iter().find(|s| s.answered).map(|s| s.name.clone());
    let abs = format!("{}.", name.trim_end_matches('.'));
    let before: Vec<&String> = match &answered {
        Some(a) => candidates.iter().take_while(|c| *c != a).collect(),
        None => candidates.iter().collect(),
    };
    let nx_before = before.iter().filter(|c| **c != &abs).count();
    if trailing {
        out.push(format!(
            "`{name}` ends with a dot: it is absolute, one candidate, no search list"
        ));
    } else if (dots as u32) < conf.ndots && !conf.search.is_empty() {
        if let Some(a) = &answered {
            if *a == abs {
                out.push(format!(
                    "`{name}` has {dots} dot{} < ndots:{}: {nx_before} search-list candidate{} went to NXDOMAIN ({} queries) before the absolute name (append a dot to skip them: `{name}.`)",
                    if dots == 1 { "" } else { "s" },
                    conf.ndots,
                    if nx_before == 1 { "" } else { "s" },
                    steps.iter().filter(|s| s.answered || before.contains(&&s.name)).filter(|s| s.name != abs).count(),
                ));
            } else if let Some(domain) = a
                .trim_end_matches('.')
                .strip_prefix(&format!("{}.", name.trim_end_matches('.')))
            {
                let extra = if nx_before > 0 {
                    format!(
                        " after {nx_before} NXDOMAIN candidate{}",
                        if nx_before == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                };
                out.push(format!(
                    "`{name}` resolved through search domain `{domain}`{extra}"
                ));
                if dots >= 1 && domain.starts_with("svc.") {
                    let parts: Vec<&str> = name.split('.').collect();
                    if parts.len() == 2 {
                        out.push(format!(
                            "read as Service `{}` in namespace `{}`",
                            parts[0], parts[1]
                        ));
                    }
                }
            }
        }
    } else if dots as u32 >= conf.ndots {
        out.push(format!(
            "`{name}` has {dots} dots >= ndots:{}: tried as is first",
            conf.ndots
        ));
    }
    match result {
        Ok(_) => {}
        Err(LookupError::NotFound) => {
            out.push(format!(
                "no candidate exists (NXDOMAIN for all {}): check the spelling and the namespace",
                candidates.len()
            ));
            if dots == 0
                && let Some(first) = conf.search.first()
            {
                out.push(format!("a short name only finds Services in this pod's namespace ({first}); for another namespace use `{name}.NAMESPACE`"));
            }
        }
        Err(LookupError::NoData) => out.push(format!(
            "`{name}` exists but has no address records of the asked family"
        )),
        Err(LookupError::TryAgain) => {
            if steps
                .iter()
                .any(|s| s.error.as_deref() == Some(&XError::Timeout.to_string()))
            {
                let servers: Vec<&str> = steps
                    .iter()
                    .filter(|s| s.error.is_some())
                    .map(|s| s.source.as_str())
                    .collect();
                let mut uniq = servers.clone();
                uniq.dedup();
                out.push(format!(
                    "no answer from {} (timeout {}s, {} attempt{}): the cluster DNS is unreachable from here; check the kube-dns Service and its pods, and NetworkPolicies on port 53 (UDP and TCP)",
                    uniq.join(", "),
                    conf.timeout.as_secs(),
                    conf.attempts,
                    if conf.attempts == 1 { "" } else { "s" }
                ));
            } else if steps
                .iter()
                .any(|s| s.error.as_deref() == Some("connection refused"))
            {
                out.push(
                    "the nameserver refused the connection: nothing listens on its port 53".into(),
                );
            } else {
                let bad: Vec<String> = steps
                    .iter()
                    .filter_map(|s| {
                        s.rcode
                            .filter(|r| {
                                !matches!(r, ResponseCode::NoError | ResponseCode::NXDomain)
                            })
                            .map(|r| format!("{} for {}", rcode_name(r), s.name))
                    })
                    .collect();
                let local: Vec<&str> = steps.iter().filter_map(|s| s.error.as_deref()).collect();
                if bad.is_empty() && !local.is_empty() {
                    // No server said anything: the query did not leave this host.
                    let mut why = local.clone();
                    why.dedup();
                    out.push(format!(
                        "the query could not be sent: {} (a firewall or an egress NetworkPolicy on this pod refuses it)",
                        why.join(", ")
                    ));
                } else {
                    out.push(format!("the server failed to answer: {}", bad.join(", ")));
                }
            }
        }
        Err(LookupError::BadName(why)) => out.push(format!("`{name}` is not a valid name: {why}")),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Name;
    use hickory_proto::rr::rdata::{A, PTR, SRV, TXT};
    use std::str::FromStr;

    fn rec(name: &str, data: RData) -> Record {
        Record::from_rdata(Name::from_str(name).unwrap(), 0, data)
    }

    #[test]
    fn dig_columns_like_bind() {
        assert_eq!(
            dig_record(&rec(
                "web.default.svc.cluster.local.",
                RData::A(A("10.96.0.100".parse().unwrap()))
            )),
            "web.default.svc.cluster.local. 0 IN\tA\t10.96.0.100"
        );
        assert_eq!(
            dig_record(&rec(
                "100.0.96.10.in-addr.arpa.",
                RData::PTR(PTR(
                    Name::from_str("web.default.svc.cluster.local.").unwrap()
                ))
            )),
            "100.0.96.10.in-addr.arpa. 0\tIN\tPTR\tweb.default.svc.cluster.local."
        );
        assert_eq!(
            dig_record(&rec(
                "_http._tcp.web.default.svc.cluster.local.",
                RData::SRV(SRV::new(
                    0,
                    100,
                    3000,
                    Name::from_str("web.default.svc.cluster.local.").unwrap()
                ))
            )),
            "_http._tcp.web.default.svc.cluster.local. 0 IN SRV 0 100 3000 web.default.svc.cluster.local."
        );
        assert_eq!(
            dig_record(&rec("a.b.", RData::A(A("1.2.3.4".parse().unwrap())))),
            "a.b.\t\t\t0\tIN\tA\t1.2.3.4"
        );
        assert_eq!(
            dig_question(
                "web.default.svc.cluster.local.",
                RecordType::A,
                DNSClass::IN
            ),
            ";web.default.svc.cluster.local.\tIN\tA"
        );
        assert_eq!(
            dig_question(
                "nosuch.default.svc.cluster.local.",
                RecordType::A,
                DNSClass::IN
            ),
            ";nosuch.default.svc.cluster.local. IN\tA"
        );
    }

    #[test]
    fn txt_is_quoted_and_escaped() {
        let t = TXT::new(vec!["a b".into(), "say \"hi\"\\".into()]);
        assert_eq!(rdata_text(&RData::TXT(t)), r#""a b" "say \"hi\"\\""#);
    }

    #[test]
    fn nslookup_sections() {
        let recs = vec![rec(
            "web.default.svc.cluster.local.",
            RData::A(A("10.96.0.100".parse().unwrap())),
        )];
        assert_eq!(
            nslookup_section(&recs, true),
            "Name:\tweb.default.svc.cluster.local\nAddress: 10.96.0.100\n"
        );
        let srv = vec![rec(
            "_http._tcp.web.default.svc.cluster.local.",
            RData::SRV(SRV::new(
                0,
                100,
                3000,
                Name::from_str("web.default.svc.cluster.local.").unwrap(),
            )),
        )];
        assert_eq!(
            nslookup_section(&srv, true),
            "_http._tcp.web.default.svc.cluster.local\tservice = 0 100 3000 web.default.svc.cluster.local.\n"
        );
    }

    #[test]
    fn rcodes() {
        assert_eq!(rcode_name(ResponseCode::NXDomain), "NXDOMAIN");
        assert_eq!(rcode_name(ResponseCode::NoError), "NOERROR");
        assert_eq!(rcode_name(ResponseCode::Refused), "REFUSED");
    }

    /// Any bytes a server sends, decoded or not, never panic the presentation code.
    #[test]
    fn hostile_messages_never_panic() {
        use crate::dns::resolver::{Answer, Exchange, Proto};
        let mut m = Message::query();
        m.add_query(hickory_proto::op::Query::query(
            Name::from_str("web.default.svc.cluster.local.").unwrap(),
            RecordType::A,
        ));
        m.add_answer(rec(
            "web.default.svc.cluster.local.",
            RData::A(hickory_proto::rr::rdata::A("10.96.0.100".parse().unwrap())),
        ));
        let sample = m.to_vec().unwrap();
        crate::testing::check(&[&sample], 20_000, |input| {
            let Ok(msg) = Message::from_vec(input) else {
                return;
            };
            for r in msg
                .answers
                .iter()
                .chain(&msg.authorities)
                .chain(&msg.additionals)
            {
                let _ = dig_record(r);
                let _ = rdata_text(&r.data);
            }
            let _ = nslookup_section(&msg.answers, true);
            let asked = Asked {
                name: "x.".into(),
                qtype: RecordType::A,
                exchanges: vec![Exchange {
                    server: "10.96.0.10:53".parse().unwrap(),
                    proto: Proto::Udp,
                    elapsed: std::time::Duration::ZERO,
                    outcome: Ok(Answer {
                        message: msg,
                        size: input.len(),
                    }),
                    notes: Vec::new(),
                }],
            };
            let _ = ResponseView::from_asked(&asked);
            let _ = asked.records();
            let _ = exchange_lines(&asked);
        });
    }
}
