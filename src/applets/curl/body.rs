//! Request bodies as curl builds them: `-d`/`--data-*` joined with `&`, `--data-urlencode`,
//! `--json`, `-G` (the data moves into the query), `-F` multipart forms and `-T` uploads. The
//! encoders are pure; reading `@file` and `<file` contents happens in `read_*`, bounded.

use super::cli::{Config, Data};
use super::codes::{Code, CurlError, R};
use std::io;

/// Form files and `@file` data are read into memory; larger ones are refused.
const MAX_IN_MEMORY: u64 = 1 << 30;

/// What the request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    None,
    /// `-d` and friends: the bytes and their content type.
    Data {
        bytes: Vec<u8>,
        content_type: &'static str,
        json: bool,
    },
    /// `-F`: a multipart/form-data body and its boundary.
    Multipart {
        bytes: Vec<u8>,
        boundary: String,
    },
    /// `-T FILE` (size known) or `-T -` (stdin, sent chunked).
    Upload {
        path: String,
        size: Option<u64>,
    },
}

impl Payload {
    /// The body's own header lines, in curl's order.
    pub fn headers(&self, http10: bool) -> Vec<(String, String)> {
        match self {
            Payload::None => Vec::new(),
            Payload::Data {
                bytes,
                content_type,
                ..
            } => {
                let mut h = vec![
                    ("Content-Length".to_string(), bytes.len().to_string()),
                    ("Content-Type".to_string(), content_type.to_string()),
                ];
                if !http10 && bytes.len() as u64 > EXPECT_THRESHOLD {
                    h.push(("Expect".into(), "100-continue".into()));
                }
                h
            }
            Payload::Multipart { bytes, boundary } => {
                let mut h = vec![
                    ("Content-Length".to_string(), bytes.len().to_string()),
                    (
                        "Content-Type".to_string(),
                        format!("multipart/form-data; boundary={boundary}"),
                    ),
                ];
                if !http10 && bytes.len() as u64 > EXPECT_THRESHOLD {
                    h.push(("Expect".into(), "100-continue".into()));
                }
                h
            }
            Payload::Upload { size: Some(n), .. } => {
                let mut h = vec![("Content-Length".to_string(), n.to_string())];
                if !http10 && *n > 0 {
                    h.push(("Expect".into(), "100-continue".into()));
                }
                h
            }
            Payload::Upload { size: None, .. } => {
                let mut h = vec![("Transfer-Encoding".to_string(), "chunked".to_string())];
                if !http10 {
                    h.push(("Expect".into(), "100-continue".into()));
                }
                h
            }
        }
    }
}

/// curl asks for `100-continue` before sending a POST body larger than this.
const EXPECT_THRESHOLD: u64 = 1024 * 1024;

/// curl's URL encoding for `--data-urlencode`: unreserved characters stay, everything else is
/// `%XX`, and spaces become `+`.
pub fn urlencode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One `--data-urlencode` argument, with `read` giving a file's contents.
pub fn urlencode_arg(arg: &str, read: &mut dyn FnMut(&str) -> R<Vec<u8>>) -> R<String> {
    // `name@file`, `@file`, `name=content`, `=content`, `content`: the first = or @ decides.
    match arg.find(['=', '@']) {
        Some(i) if arg[i..].starts_with('@') => {
            let name = &arg[..i];
            let content = read(&arg[i + 1..])?;
            let enc = urlencode(&content);
            Ok(if name.is_empty() {
                enc
            } else {
                format!("{name}={enc}")
            })
        }
        Some(i) => {
            let name = &arg[..i];
            let enc = urlencode(&arg.as_bytes()[i + 1..]);
            Ok(if name.is_empty() {
                enc
            } else {
                format!("{name}={enc}")
            })
        }
        None => Ok(urlencode(arg.as_bytes())),
    }
}

/// The `-d`-style data joined with `&`, and its content type; None without data.
pub fn data_body(
    data: &[Data],
    read: &mut dyn FnMut(&str) -> R<Vec<u8>>,
) -> R<Option<(Vec<u8>, bool)>> {
    if data.is_empty() {
        return Ok(None);
    }
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut json = false;
    for d in data {
        let bytes = match d {
            Data::Raw(s) => s.as_bytes().to_vec(),
            Data::UrlEncode(s) => urlencode_arg(s, read)?.into_bytes(),
            Data::Ascii(s) | Data::Binary(s) | Data::Json(s) => {
                json |= matches!(d, Data::Json(_));
                match s.strip_prefix('@') {
                    Some(path) => {
                        let mut b = read(path)?;
                        if matches!(d, Data::Ascii(_)) {
                            b.retain(|c| *c != b'\r' && *c != b'\n');
                        }
                        b
                    }
                    None => s.as_bytes().to_vec(),
                }
            }
        };
        parts.push(bytes);
    }
    Ok(Some((parts.join(&b'&'), json)))
}

/// `-G`: the data appended to the URL's query.
pub fn with_query(url: &str, data: &[u8]) -> String {
    if data.is_empty() {
        return url.to_string();
    }
    let (base, frag) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}{frag}", String::from_utf8_lossy(data))
}

/// One part of a multipart form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub data: Vec<u8>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

/// curl's content type for a file, by its extension.
fn guess_type(filename: &str) -> &'static str {
    let lower = filename.to_ascii_lowercase();
    const TYPES: &[(&str, &str)] = &[
        (".gif", "image/gif"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".png", "image/png"),
        (".svg", "image/svg+xml"),
        (".txt", "text/plain"),
        (".htm", "text/html"),
        (".html", "text/html"),
        (".pdf", "application/pdf"),
        (".xml", "application/xml"),
    ];
    TYPES
        .iter()
        .find(|(ext, _)| lower.ends_with(ext))
        .map(|(_, t)| *t)
        .unwrap_or("application/octet-stream")
}

/// One `-F` argument: `name=value`, `name=@file`, `name=<file`, with `;type=` and
/// `;filename=`; `literal` (`--form-string`) takes the value as it is.
pub fn form_part(arg: &str, literal: bool, read: &mut dyn FnMut(&str) -> R<Vec<u8>>) -> R<Part> {
    let Some((name, value)) = arg.split_once('=') else {
        return Err(CurlError::new(
            Code::FailedInit,
            format!("Illegally formatted input field: '{arg}'"),
        ));
    };
    if literal {
        return Ok(Part {
            name: name.into(),
            data: value.as_bytes().to_vec(),
            filename: None,
            content_type: None,
        });
    }
    let (value, params) = split_params(value);
    let mut ctype = None;
    let mut filename = None;
    for (k, v) in params {
        match k.as_str() {
            "type" => ctype = Some(v),
            "filename" => filename = Some(v),
            _ => {}
        }
    }
    if let Some(path) = value.strip_prefix('@') {
        let data = read(path)?;
        let base = std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.to_string());
        let filename = filename.unwrap_or(base);
        let ctype = ctype.unwrap_or_else(|| guess_type(&filename).to_string());
        return Ok(Part {
            name: name.into(),
            data,
            filename: Some(filename),
            content_type: Some(ctype),
        });
    }
    if let Some(path) = value.strip_prefix('<') {
        return Ok(Part {
            name: name.into(),
            data: read(path)?,
            filename,
            content_type: ctype,
        });
    }
    Ok(Part {
        name: name.into(),
        data: value.into_bytes(),
        filename,
        content_type: ctype,
    })
}

/// `value;type=x;filename=y` -> the value and its parameters (a quoted value keeps its `;`).
fn split_params(v: &str) -> (String, Vec<(String, String)>) {
    let (value, rest) = if let Some(q) = v.strip_prefix('"') {
        match q.find('"') {
            Some(end) => (q[..end].to_string(), &q[end + 1..]),
            None => (q.to_string(), ""),
        }
    } else {
        match v.find(';') {
            Some(i) => (v[..i].to_string(), &v[i..]),
            None => (v.to_string(), ""),
        }
    };
    let params = rest
        .split(';')
        .filter_map(|p| {
            let (k, val) = p.split_once('=')?;
            Some((
                k.trim().to_ascii_lowercase(),
                val.trim().trim_matches('"').to_string(),
            ))
        })
        .collect();
    (value, params)
}

/// A boundary like curl's: 24 dashes and 16 random hex digits.
pub fn boundary() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("------------------------{:016x}", h.finish())
}

fn quote(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The multipart/form-data body for `parts` with `boundary`.
pub fn multipart(parts: &[Part], boundary: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disp = format!(
            "Content-Disposition: form-data; name=\"{}\"",
            quote(&p.name)
        );
        if let Some(f) = &p.filename {
            disp.push_str(&format!("; filename=\"{}\"", quote(f)));
        }
        out.extend_from_slice(disp.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(t) = &p.content_type {
            out.extend_from_slice(format!("Content-Type: {t}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&p.data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// A file (or `-` for stdin) named in `@file`, `<file` or `-T`, read whole and bounded.
pub fn read_file(path: &str) -> io::Result<Vec<u8>> {
    crate::sys::files::read_bounded(std::path::Path::new(path), MAX_IN_MEMORY)
}

/// What the configuration sends, reading the files it names. `-d` data whose file cannot be
/// read becomes an empty POST with curl's warning; a form file that cannot be read is an error.
pub fn payload(cfg: &Config) -> R<Payload> {
    if let Some(path) = &cfg.upload_file {
        let size = if path == "-" {
            None
        } else {
            Some(
                std::fs::metadata(path)
                    .map_err(|_| {
                        CurlError::new(
                            Code::ReadError,
                            "Failed to open/read local data from file/application".to_string(),
                        )
                    })?
                    .len(),
            )
        };
        return Ok(Payload::Upload {
            path: path.clone(),
            size,
        });
    }
    if !cfg.form.is_empty() {
        let mut read = |p: &str| {
            read_file(p).map_err(|_| {
                CurlError::new(
                    Code::ReadError,
                    "Failed to open/read local data from file/application".to_string(),
                )
            })
        };
        let parts = cfg
            .form
            .iter()
            .map(|(a, lit)| form_part(a, *lit, &mut read))
            .collect::<R<Vec<_>>>()?;
        let b = boundary();
        return Ok(Payload::Multipart {
            bytes: multipart(&parts, &b),
            boundary: b,
        });
    }
    let mut read = |p: &str| -> R<Vec<u8>> {
        Ok(read_file(p).unwrap_or_else(|_| {
            eprintln!("Warning: Couldn't read data from file \"{p}\", this makes an empty POST.");
            Vec::new()
        }))
    };
    Ok(match data_body(&cfg.data, &mut read)? {
        None => Payload::None,
        Some((bytes, json)) => Payload::Data {
            bytes,
            content_type: if json {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            },
            json,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(p: &str) -> R<Vec<u8>> {
        match p {
            "f" => Ok(b"line1\r\nline2 &x\n".to_vec()),
            _ => Err(CurlError::new(Code::ReadError, "no such file")),
        }
    }

    #[test]
    fn data_like_curl() {
        let (b, json) = data_body(
            &[
                Data::Ascii("a=1".into()),
                Data::Ascii("@f".into()),
                Data::Raw("@f".into()),
                Data::UrlEncode("q=a b&c".into()),
                Data::UrlEncode("n@f".into()),
            ],
            &mut no_files,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            String::from_utf8(b).unwrap(),
            "a=1&line1line2 &x&@f&q=a+b%26c&n=line1%0D%0Aline2+%26x%0A"
        );
        assert!(!json);
        assert_eq!(urlencode_arg("=a b", &mut no_files).unwrap(), "a+b");
        assert_eq!(urlencode_arg("a/b", &mut no_files).unwrap(), "a%2Fb");
        assert_eq!(with_query("http://h/g?z=1", b"q=1"), "http://h/g?z=1&q=1");
        assert_eq!(with_query("http://h/g#f", b"q=1"), "http://h/g?q=1#f");
    }

    #[test]
    fn forms_like_curl() {
        let p = form_part("up=@f;type=text/x", false, &mut no_files).unwrap();
        assert_eq!(p.filename.as_deref(), Some("f"));
        assert_eq!(p.content_type.as_deref(), Some("text/x"));
        let p = form_part("up=@dir/a.png", false, &mut |_| Ok(vec![1])).unwrap();
        assert_eq!(p.filename.as_deref(), Some("a.png"));
        assert_eq!(p.content_type.as_deref(), Some("image/png"));
        let p = form_part("t=<f", false, &mut no_files).unwrap();
        assert_eq!(p.filename, None);
        assert_eq!(p.data, b"line1\r\nline2 &x\n");
        let p = form_part("s=@literal", true, &mut no_files).unwrap();
        assert_eq!(p.data, b"@literal");
        assert!(form_part("novalue", false, &mut no_files).is_err());
        let body = multipart(
            &[Part {
                name: "a".into(),
                data: b"1".to_vec(),
                filename: None,
                content_type: None,
            }],
            "XX",
        );
        assert_eq!(
            body,
            b"--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XX--\r\n"
        );
        assert_eq!(boundary().len(), 40);
    }

    #[test]
    fn body_headers() {
        let p = Payload::Upload {
            path: "x".into(),
            size: Some(3),
        };
        assert_eq!(
            p.headers(false),
            vec![
                ("Content-Length".to_string(), "3".to_string()),
                ("Expect".to_string(), "100-continue".to_string())
            ]
        );
        assert_eq!(p.headers(true).len(), 1);
    }
}
