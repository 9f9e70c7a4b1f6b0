//! The application-layer summaries tcpdump prints by port: DNS (`42610+ [1au] A? web.lab. (48)`,
//! answers, over UDP and TCP) and the first line of HTTP. Pure.

use super::*;

/// tcpdump's first line of an HTTP request or response (the whole text under -v). `len` is
/// the segment's length, `data` what was captured of it.
pub(super) fn http(out: &mut String, data: &[u8], len: u32, verbose: bool) -> R {
    const CMDS: [&str; 38] = [
        "GET",
        "PUT",
        "COPY",
        "HEAD",
        "LOCK",
        "MOVE",
        "POLL",
        "POST",
        "BCOPY",
        "BMOVE",
        "MKCOL",
        "TRACE",
        "LABEL",
        "MERGE",
        "DELETE",
        "SEARCH",
        "UNLOCK",
        "REPORT",
        "UPDATE",
        "NOTIFY",
        "BDELETE",
        "CONNECT",
        "OPTIONS",
        "CHECKIN",
        "PROPFIND",
        "CHECKOUT",
        "CCM_POST",
        "SUBSCRIBE",
        "PROPPATCH",
        "BPROPFIND",
        "BPROPPATCH",
        "UNCHECKOUT",
        "MKACTIVITY",
        "MKWORKSPACE",
        "UNSUBSCRIBE",
        "RPC_CONNECT",
        "VERSION-CONTROL",
        "BASELINE-CONTROL",
    ];
    let len = len as usize;
    let mut print = false;
    if let Some((tok, idx)) = token(data, 0, len) {
        if CMDS.iter().any(|c| c.eq_ignore_ascii_case(&tok)) {
            print = true;
        }
        if let Some((tok2, _)) = token(data, idx, len) {
            let t = tok2.as_bytes();
            if t.len() == 3 && t.iter().all(u8::is_ascii_digit) {
                print = true;
            }
        }
    }
    out.push_str("HTTP");
    if !print {
        return Ok(());
    }
    let result = if verbose {
        let _ = write!(out, ", length: {len}");
        let mut idx = 0;
        loop {
            if idx >= len {
                break Ok(());
            }
            match txt_line(out, "\n\t", data, len, idx) {
                Ok(Some(e)) => idx = e,
                Ok(None) => break Ok(()),
                Err(t) => break Err(t),
            }
        }
    } else {
        txt_line(out, ": ", data, len, 0).map(|_| ())
    };
    match result {
        Ok(()) => Ok(()),
        // The data ended without a line end: marked, the packet goes on.
        Err(false) => {
            out.push_str(" [|http]");
            Ok(())
        }
        // The capture ended inside the line: nothing of it is printed.
        Err(true) => Err(Trunc("http")),
    }
}

/// tcpdump's fetch_token: a word of printable ASCII and the index after the blanks that
/// follow it; None when there is none or the capture ends inside it.
fn token(d: &[u8], mut idx: usize, len: usize) -> Option<(String, usize)> {
    let mut tok = String::new();
    while idx < len {
        let c = *d.get(idx)?;
        if !c.is_ascii() {
            return None;
        }
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            break;
        }
        if !(0x20..0x7f).contains(&c) || tok.len() + 2 > 128 {
            return None;
        }
        tok.push(c as char);
        idx += 1;
    }
    if tok.is_empty() {
        return None;
    }
    while idx < len {
        let Some(&c) = d.get(idx) else { break };
        if c == b'\r' || c == b'\n' || !(0x20..0x7f).contains(&c) || (c != b' ' && c != b'\t') {
            break;
        }
        idx += 1;
    }
    Some((tok, idx))
}

/// tcpdump's print_txt_line: the line at `start` after `prefix`; Some(next line) after a line
/// end, None when the text stops being text; Err when the capture ends first (nothing printed)
/// or the data ends without a line end (printed).
fn txt_line(
    out: &mut String,
    prefix: &str,
    d: &[u8],
    len: usize,
    start: usize,
) -> Result<Option<usize>, bool> {
    let mut idx = start;
    while idx < len {
        let c = *d.get(idx).ok_or(true)?;
        if c == b'\n' {
            let _ = write!(out, "{prefix}{}", String::from_utf8_lossy(&d[start..idx]));
            return Ok(Some(idx + 1));
        } else if c == b'\r' {
            if idx + 1 >= len {
                return Ok(None);
            }
            if *d.get(idx + 1).ok_or(true)? == b'\n' {
                let _ = write!(out, "{prefix}{}", String::from_utf8_lossy(&d[start..idx]));
                return Ok(Some(idx + 2));
            }
            return Ok(None);
        } else if !(0x20..0x7f).contains(&c) && c != b'\t' {
            return Ok(None);
        }
        idx += 1;
    }
    let _ = write!(out, "{prefix}{}", String::from_utf8_lossy(&d[start..idx]));
    Err(false)
}

// ---- DNS ----

const DNS_TRUNC: &str = "domain";

/// Skip a name; the offset after it.
fn skip_name(m: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let l = *m.get(at)?;
        if l & 0xc0 == 0xc0 {
            m.get(at + 1)?;
            return Some(at + 2);
        }
        if l & 0xc0 != 0 {
            // EDNS0 extended label types: tcpdump stops here too.
            return None;
        }
        at += 1;
        if l == 0 {
            return Some(at);
        }
        at += l as usize;
        if at > m.len() {
            return None;
        }
    }
}

/// A name as tcpdump prints it (`web.lab.`, `.` for the root), following compression.
fn name(m: &[u8], start: usize) -> Option<(String, usize)> {
    let mut s = String::new();
    let mut at = start;
    let mut end = None;
    let mut hops = 0;
    loop {
        let l = *m.get(at)?;
        if l & 0xc0 == 0xc0 {
            let p = (((l & 0x3f) as usize) << 8) | *m.get(at + 1)? as usize;
            if end.is_none() {
                end = Some(at + 2);
            }
            hops += 1;
            if hops > 64 || p >= m.len() {
                return None;
            }
            at = p;
            continue;
        }
        if l & 0xc0 != 0 {
            return None;
        }
        if l == 0 {
            if s.is_empty() {
                s.push('.');
            }
            return Some((s, end.unwrap_or(at + 1)));
        }
        let label = m.get(at + 1..at + 1 + l as usize)?;
        for &c in label {
            if c.is_ascii_graphic() || c == b' ' {
                s.push(c as char);
            } else {
                // tcpdump's fn_print_char: M- for the high bit, ^ for controls.
                let mut c = c;
                if !c.is_ascii() {
                    c &= 0x7f;
                    s.push_str("M-");
                }
                if !(c.is_ascii_graphic() || c == b' ') {
                    s.push('^');
                    s.push(if c == 0x7f { '?' } else { (c + b'@') as char });
                } else {
                    s.push(c as char);
                }
            }
        }
        s.push('.');
        if s.len() > 1024 {
            return None;
        }
        at += 1 + l as usize;
    }
}

pub fn rr_type_name(t: u16) -> String {
    let s = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        35 => "NAPTR",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        _ => return format!("Type{t}"),
    };
    s.to_string()
}

fn class_name(c: u16) -> String {
    match c {
        1 => "C_IN".into(),
        3 => "C_CHAOS".into(),
        4 => "C_HS".into(),
        255 => "C_ANY".into(),
        _ => format!("(Class {c})"),
    }
}

/// One answer record as tcpdump prints it in the summary (` A 10.0.0.1`); None when the
/// record is cut.
fn rr(out: &mut String, m: &[u8], at: usize, v: u8, n: &mut dyn Namer) -> Option<usize> {
    let after = if v > 0 {
        let (nm, e) = name(m, at)?;
        let _ = write!(out, " {nm}");
        e
    } else {
        skip_name(m, at)?
    };
    let f = m.get(after..after + 10)?;
    let typ = u16::from_be_bytes([f[0], f[1]]);
    let class = u16::from_be_bytes([f[2], f[3]]);
    if class != 1 && typ != 41 {
        let _ = write!(out, " {}", class_name(class));
    }
    let rdlen = u16::from_be_bytes([f[8], f[9]]) as usize;
    let cp = after + 10;
    let rp = cp + rdlen;
    let _ = write!(out, " {}", rr_type_name(typ));
    if rp > m.len() {
        return None;
    }
    let d = &m[cp..rp];
    match typ {
        1 => {
            let a = d.get(..4)?;
            let _ = write!(
                out,
                " {}",
                n.host(IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])))
            );
        }
        28 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(d.get(..16)?);
            let _ = write!(out, " {}", Ipv6Addr::from(o));
        }
        2 | 5 | 12 | 39 => {
            let (nm, _) = name(m, cp)?;
            let _ = write!(out, " {nm}");
        }
        15 => {
            let pref = u16::from_be_bytes([*d.first()?, *d.get(1)?]);
            let (nm, _) = name(m, cp + 2)?;
            let _ = write!(out, " {nm} {pref}");
        }
        33 => {
            let g = d.get(..6)?;
            let (nm, _) = name(m, cp + 6)?;
            let _ = write!(
                out,
                " {nm}:{} {} {}",
                u16::from_be_bytes([g[4], g[5]]),
                u16::from_be_bytes([g[0], g[1]]),
                u16::from_be_bytes([g[2], g[3]])
            );
        }
        16 => {
            let mut i = 0;
            while i < d.len() {
                let l = d[i] as usize;
                let s = d.get(i + 1..i + 1 + l)?;
                let _ = write!(out, " \"{}\"", String::from_utf8_lossy(s));
                i += 1 + l;
            }
        }
        41 => {
            let _ = write!(out, " UDPsize={class}");
            if f[6] & 0x80 != 0 {
                out.push_str(" DO");
            }
        }
        _ => {}
    }
    Some(rp)
}

/// tcpdump's DNS summary: `42610+ [1au] A? web.lab. (48)`, `42610* 1/0/1 A 10.9.0.2 (52)`.
pub(super) fn dns(
    out: &mut String,
    m: &[u8],
    length: u32,
    over_tcp: bool,
    v: u8,
    n: &mut dyn Namer,
) -> R {
    let mut m = m;
    let mut length = length;
    if over_tcp {
        if length < 2 {
            let _ = write!(out, " [DNS over TCP: length {length} < 2] (invalid)");
            return Ok(());
        }
        length -= 2;
        let prefix = be16(m, 0, DNS_TRUNC)? as u32;
        if prefix != length {
            let _ = write!(
                out,
                " [prefix length({prefix}) != length({length})] (invalid)"
            );
            return Ok(());
        }
        m = &m[2..];
        out.push(' ');
    }
    if length < 12 {
        let _ = write!(out, "domain [length {length} < 12] (invalid)");
        return Ok(());
    }
    if m.len() < 12 {
        return Err(Trunc(DNS_TRUNC));
    }
    let id = u16::from_be_bytes([m[0], m[1]]);
    let flags = u16::from_be_bytes([m[2], m[3]]);
    let qd = u16::from_be_bytes([m[4], m[5]]) as u32;
    let an = u16::from_be_bytes([m[6], m[7]]) as u32;
    let ns = u16::from_be_bytes([m[8], m[9]]) as u32;
    let ar = u16::from_be_bytes([m[10], m[11]]) as u32;
    let opcode = ((flags >> 11) & 0xf) as usize;
    const OPS: [&str; 16] = [
        "",
        " inv_q",
        " stat",
        " op3",
        " notify",
        " update",
        " op6",
        " op7",
        " op8",
        " updateA",
        " updateD",
        " updateDA",
        " updateM",
        " updateMA",
        " zoneInit",
        " zoneRef",
    ];
    // The extended rcode from an OPT record, as tcpdump finds it.
    let mut rcode = (flags & 0xf) as u32;
    (|| -> Option<()> {
        let mut cp = 12;
        for _ in 0..qd {
            cp = skip_name(m, cp)? + 4;
            if cp >= m.len() {
                return None;
            }
        }
        for _ in 0..an + ns {
            cp = skip_name(m, cp)? + 8;
            let rd = u16::from_be_bytes([*m.get(cp)?, *m.get(cp + 1)?]) as usize;
            cp += 2 + rd;
            if cp >= m.len() {
                return None;
            }
        }
        for _ in 0..ar {
            cp = skip_name(m, cp)?;
            let t = u16::from_be_bytes([*m.get(cp)?, *m.get(cp + 1)?]);
            cp += 4;
            if t == 41 {
                rcode |= (*m.get(cp)? as u32) << 4;
                return None;
            }
            cp += 4;
            let rd = u16::from_be_bytes([*m.get(cp)?, *m.get(cp + 1)?]) as usize;
            cp += 2 + rd;
            if cp >= m.len() {
                return None;
            }
        }
        None
    })();
    if flags & 0x8000 != 0 {
        const RESP: [&str; 24] = [
            "",
            " FormErr",
            " ServFail",
            " NXDomain",
            " NotImp",
            " Refused",
            " YXDomain",
            " YXRRSet",
            " NXRRSet",
            " NotAuth",
            " NotZone",
            " Resp11",
            " Resp12",
            " Resp13",
            " Resp14",
            " NoChange",
            " BadVers",
            "Resp17",
            " Resp18",
            " Resp19",
            " Resp20",
            "Resp21",
            " Resp22",
            " BadCookie",
        ];
        let rc = match RESP.get(rcode as usize) {
            Some(s) => s.to_string(),
            None => format!(" Resp{}", rcode & 0xfff),
        };
        let _ = write!(
            out,
            "{id}{}{rc}{}{}{}{}",
            OPS[opcode],
            if flags & 0x0400 != 0 { "*" } else { "" },
            if flags & 0x0080 != 0 { "" } else { "-" },
            if flags & 0x0200 != 0 { "|" } else { "" },
            if flags & 0x0020 != 0 { "$" } else { "" }
        );
        if qd != 1 {
            let _ = write!(out, " [{qd}q]");
        }
        let mut cp = 12;
        for _ in 0..qd {
            cp = match skip_name(m, cp) {
                Some(c) => c + 4,
                None => return Err(Trunc(DNS_TRUNC)),
            };
        }
        let _ = write!(out, " {an}/{ns}/{ar}");
        let mut left = an;
        if left > 0 {
            cp = rr(out, m, cp, v, n).ok_or(Trunc(DNS_TRUNC))?;
            left -= 1;
            while cp < m.len() && left > 0 {
                out.push(',');
                cp = rr(out, m, cp, v, n).ok_or(Trunc(DNS_TRUNC))?;
                left -= 1;
            }
        }
        if left > 0 {
            return Err(Trunc(DNS_TRUNC));
        }
    } else {
        let _ = write!(
            out,
            "{id}{}{}{}",
            OPS[opcode],
            if flags & 0x0100 != 0 { "+" } else { "" },
            if flags & 0x0010 != 0 { "%" } else { "" }
        );
        if flags & 0x6cf != 0 {
            let _ = write!(out, " [b2&3=0x{flags:x}]");
        }
        if opcode == 1 {
            if qd > 0 {
                let _ = write!(out, " [{qd}q]");
            }
            if an != 1 {
                let _ = write!(out, " [{an}a]");
            }
        } else {
            if an > 0 {
                let _ = write!(out, " [{an}a]");
            }
            if qd != 1 {
                let _ = write!(out, " [{qd}q]");
            }
        }
        if ns > 0 {
            let _ = write!(out, " [{ns}n]");
        }
        if ar > 0 {
            let _ = write!(out, " [{ar}au]");
        }
        let mut cp = 12;
        let mut left = qd;
        while left > 0 && (left == qd || cp < m.len()) {
            let after = skip_name(m, cp).ok_or(Trunc(DNS_TRUNC))?;
            let q = m.get(after..after + 4).ok_or(Trunc(DNS_TRUNC))?;
            let t = u16::from_be_bytes([q[0], q[1]]);
            let c = u16::from_be_bytes([q[2], q[3]]);
            let _ = write!(out, " {}", rr_type_name(t));
            if c != 1 {
                let _ = write!(out, " {}", class_name(c));
            }
            out.push_str("? ");
            let (nm, _) = name(m, cp).ok_or(Trunc(DNS_TRUNC))?;
            out.push_str(&nm);
            cp = after + 4;
            left -= 1;
        }
        if left > 0 {
            return Err(Trunc(DNS_TRUNC));
        }
    }
    let _ = write!(out, " ({length})");
    Ok(())
}
