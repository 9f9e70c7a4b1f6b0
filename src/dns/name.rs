//! Domain names between text and the wire, as bind's tools write them: `\DDD` and `\X` escapes
//! in, bind's presentation format out (special characters backslashed, bytes outside printable
//! ASCII as `\DDD`). A name typed with a space, a quote or any byte is still a name that can be
//! asked; only its length is limited. Pure.

use super::resolver::NameError;
use hickory_proto::rr::Name;
use hickory_proto::rr::domain::Label;

/// The labels of a name in master-file text form, as bytes (escapes undone). A trailing dot
/// makes the name absolute.
fn labels(text: &str) -> Result<(Vec<Vec<u8>>, bool), NameError> {
    if text.is_empty() {
        return Err(NameError::Empty);
    }
    if text == "." {
        return Ok((Vec::new(), true));
    }
    let b = text.as_bytes();
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut i = 0;
    let mut absolute = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                let digits = b
                    .get(i + 1..i + 4)
                    .filter(|d| d.iter().all(u8::is_ascii_digit));
                match digits {
                    Some(d) => {
                        let v = (d[0] - b'0') as u32 * 100
                            + (d[1] - b'0') as u32 * 10
                            + (d[2] - b'0') as u32;
                        cur.push(v.min(255) as u8);
                        i += 4;
                    }
                    None => {
                        cur.push(*b.get(i + 1).ok_or(NameError::EmptyLabel)?);
                        i += 2;
                    }
                }
                continue;
            }
            b'.' => {
                if cur.is_empty() {
                    return Err(NameError::EmptyLabel);
                }
                out.push(std::mem::take(&mut cur));
                if i + 1 == b.len() {
                    absolute = true;
                }
            }
            c => cur.push(c),
        }
        i += 1;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok((out, absolute))
}

/// A name from text with bind's escapes; label and name lengths checked.
pub fn parse(text: &str) -> Result<Name, NameError> {
    let (labels, absolute) = labels(text)?;
    let total: usize = labels.iter().map(|l| l.len() + 1).sum();
    if total > 254 {
        return Err(NameError::TooLong(total.saturating_sub(1)));
    }
    let mut parts = Vec::with_capacity(labels.len());
    for l in &labels {
        if l.len() > 63 {
            return Err(NameError::LabelTooLong {
                start: String::from_utf8_lossy(&l[..12]).into_owned(),
                len: l.len(),
            });
        }
        parts.push(Label::from_raw_bytes(l).map_err(|_| NameError::EmptyLabel)?);
    }
    let mut name = Name::from_labels(parts).map_err(|_| NameError::TooLong(total))?;
    name.set_fqdn(absolute);
    Ok(name)
}

/// A name as bind presents it, absolute names with their trailing dot.
pub fn text(name: &Name) -> String {
    if name.is_root() {
        return ".".into();
    }
    let mut out = String::new();
    for (i, label) in name.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        for &b in label {
            match b {
                b'"' | b'(' | b')' | b'.' | b';' | b'\\' | b'@' | b'$' => {
                    out.push('\\');
                    out.push(b as char);
                }
                0x21..=0x7e => out.push(b as char),
                _ => out.push_str(&format!("\\{b:03}")),
            }
        }
    }
    if name.is_fqdn() {
        out.push('.');
    }
    out
}

/// Text from record data with control characters escaped as bind escapes them (`\DDD`).
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(|c| c.is_control()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\{b:03}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_odd_bytes_round_trip_like_bind() {
        let n = parse("a b").unwrap();
        assert_eq!(text(&n), "a\\032b");
        let mut abs = parse("x\"y.example.").unwrap();
        assert_eq!(text(&abs), "x\\\"y.example.");
        abs.set_fqdn(false);
        assert_eq!(text(&parse("a\\032b").unwrap()), "a\\032b");
        assert_eq!(text(&parse("a\\.b.c").unwrap()), "a\\.b.c");
        assert_eq!(text(&parse(".").unwrap()), ".");
        assert_eq!(parse(""), Err(NameError::Empty));
        assert_eq!(parse("a..b"), Err(NameError::EmptyLabel));
        let long = "é".repeat(40);
        assert!(matches!(
            parse(&long),
            Err(NameError::LabelTooLong { len: 80, .. })
        ));
        assert!(matches!(
            parse(&"a.".repeat(130)),
            Err(NameError::TooLong(_))
        ));
        assert_eq!(escape_controls("a\u{7}b"), "a\\007b");
        assert_eq!(escape_controls("plain"), "plain");
    }

    /// Any text typed as a name parses or is refused, and prints back without panicking.
    #[test]
    fn any_text_never_panics() {
        crate::testing::check(
            &[b"web.default.svc.cluster.local.", b"a\\032b.c\\.d"],
            20_000,
            |input| {
                let typed = String::from_utf8_lossy(input);
                if let Ok(n) = parse(&typed) {
                    let _ = text(&n);
                }
                let _ = escape_controls(&typed);
                let _ = crate::dns::resolver::inet_aton(&typed);
                let _ = crate::dns::resolver::check_name(&typed);
            },
        );
    }
}
