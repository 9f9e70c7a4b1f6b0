//! ICMP and ICMPv6 as tcpdump 4.99 prints them: echo, unreachable (with the quoted port),
//! need-to-frag and packet too big (with the MTU), time exceeded, redirect, parameter problem,
//! neighbour and router discovery with their options under -v, MLD. Pure.

use super::*;

impl Printer {
    pub(super) fn icmp(
        &mut self,
        out: &mut String,
        b: &[u8],
        len: u32,
        ip: Ip,
        n: &mut dyn Namer,
    ) -> R {
        const P: &str = "icmp";
        let ty = get(b, 0, P)?;
        let code = get(b, 1, P)?;
        let quoted_dst =
            |n: &mut dyn Namer| -> Result<String, Trunc> { Ok(n.host(IpAddr::V4(v4(b, 24, P)?))) };
        let text = match ty {
            0 | 8 => format!(
                "echo {}, id {}, seq {}",
                if ty == 8 { "request" } else { "reply" },
                be16(b, 4, P)?,
                be16(b, 6, P)?
            ),
            3 => {
                let d = quoted_dst(n)?;
                match code {
                    0 => format!("net {d} unreachable"),
                    1 => format!("host {d} unreachable"),
                    2 => format!("{d} protocol {} unreachable", get(b, 17, P)?),
                    3 => {
                        let ohl = (get(b, 8, P)? & 0xf) as usize * 4;
                        let port = be16(b, 8 + ohl + 2, P)?;
                        match get(b, 17, P)? {
                            6 => format!("{d} tcp port {} unreachable", n.port(port, false)),
                            17 => format!("{d} udp port {} unreachable", n.port(port, true)),
                            p => format!("{d} protocol {p} port {port} unreachable"),
                        }
                    }
                    4 => match be16(b, 6, P)? {
                        0 => format!("{d} unreachable - need to frag"),
                        mtu => format!("{d} unreachable - need to frag (mtu {mtu})"),
                    },
                    5 => format!("{d} unreachable - source route failed"),
                    6 => format!("net {d} unreachable - unknown"),
                    7 => format!("host {d} unreachable - unknown"),
                    8 => format!("{d} unreachable - source host isolated"),
                    9 => format!("net {d} unreachable - admin prohibited"),
                    10 => format!("host {d} unreachable - admin prohibited"),
                    11 => format!("net {d} unreachable - tos prohibited"),
                    12 => format!("host {d} unreachable - tos prohibited"),
                    13 => format!("host {d} unreachable - admin prohibited filter"),
                    14 => format!("host {d} unreachable - host precedence violation"),
                    15 => format!("host {d} unreachable - precedence cutoff"),
                    c => format!("{d} unreachable - #{c}"),
                }
            }
            5 => {
                let d = quoted_dst(n)?;
                let gw = n.host(IpAddr::V4(v4(b, 4, P)?));
                match code {
                    0 => format!("redirect {d} to net {gw}"),
                    1 => format!("redirect {d} to host {gw}"),
                    2 => format!("redirect-tos {d} to net {gw}"),
                    3 => format!("redirect-tos {d} to host {gw}"),
                    c => format!("redirect-#{c} {d} to {gw}"),
                }
            }
            11 => {
                v4(b, 24, P)?;
                match code {
                    0 => "time exceeded in-transit".to_string(),
                    1 => "ip reassembly time exceeded".to_string(),
                    c => format!("time exceeded-#{c}"),
                }
            }
            12 => match code {
                0 => format!("parameter problem - octet {}", get(b, 4, P)?),
                c => format!("parameter problem - code {c}"),
            },
            13 => format!(
                "time stamp query id {} seq {}",
                be16(b, 4, P)?,
                be16(b, 6, P)?
            ),
            18 => format!("address mask is 0x{:08x}", be32(b, 8, P)?),
            4 => "source quench".to_string(),
            10 => "router solicitation".to_string(),
            14 => "time stamp reply".to_string(),
            15 => "information request".to_string(),
            16 => "information reply".to_string(),
            17 => "address mask request".to_string(),
            t => format!("type-#{t}"),
        };
        let _ = write!(out, "ICMP {text}, length {len}");
        if self.opts.vflag > 0 && !ip.fragmented && b.len() >= len as usize {
            let c = cksum(&[&b[..len as usize]]);
            if c != 0 {
                let sum = be16(b, 2, P)?;
                let _ = write!(
                    out,
                    " (wrong icmp cksum {sum:x} (->{:x})!)",
                    shouldbe(sum, c)
                );
            }
        }
        if self.opts.vflag > 0 && matches!(ty, 3 | 4 | 5 | 11 | 12) && b.len() > 8 {
            out.push_str("\n\t");
            let mut inner = Printer::new(Opts {
                vflag: self.opts.vflag,
                ..Opts::default()
            });
            let quoted = &b[8..];
            let qlen = quoted
                .get(2..4)
                .map_or(0, |l| u16::from_be_bytes([l[0], l[1]]) as u32);
            if let Err(Trunc(p)) = inner.ip4(out, quoted, qlen, n) {
                let _ = write!(out, " [|{p}]");
            }
        }
        Ok(())
    }

    pub(super) fn icmp6(
        &mut self,
        out: &mut String,
        b: &[u8],
        len: u32,
        ip: Ip,
        n: &mut dyn Namer,
    ) -> R {
        const P: &str = "icmp6";
        if len == 0 {
            out.push_str("ICMP6, length 0 (invalid)");
            return Ok(());
        }
        let v = self.opts.vflag;
        if v > 0 && !ip.fragmented && b.len() >= len as usize {
            let ph = pseudo(ip.src, ip.dst, 58, len as usize);
            let c = cksum(&[&ph, &b[..len as usize]]);
            if c != 0 {
                let sum = be16(b, 2, P)?;
                let _ = write!(
                    out,
                    "[bad icmp6 cksum 0x{sum:04x} -> 0x{:04x}!] ",
                    shouldbe(sum, c)
                );
            } else {
                out.push_str("[icmp6 sum ok] ");
            }
        }
        let ty = get(b, 0, P)?;
        let name = match ty {
            1 => "destination unreachable".to_string(),
            2 => "packet too big".to_string(),
            3 => "time exceeded in-transit".to_string(),
            4 => "parameter problem".to_string(),
            128 => "echo request".to_string(),
            129 => "echo reply".to_string(),
            130 => "multicast listener query".to_string(),
            131 => "multicast listener report".to_string(),
            132 => "multicast listener done".to_string(),
            133 => "router solicitation".to_string(),
            134 => "router advertisement".to_string(),
            135 => "neighbor solicitation".to_string(),
            136 => "neighbor advertisement".to_string(),
            137 => "redirect".to_string(),
            138 => "router renumbering".to_string(),
            143 => "multicast listener report v2".to_string(),
            t => format!("unknown icmp6 type ({t})"),
        };
        let _ = write!(out, "ICMP6, {name}");
        if v > 0 && matches!(ty, 133..=137) {
            let _ = write!(out, ", length {len}");
        }
        let code = get(b, 1, P)?;
        let odst = |n: &mut dyn Namer| -> Result<String, Trunc> {
            Ok(n.host(IpAddr::V6(v6(b, 8 + 24, P)?)))
        };
        match ty {
            1 => {
                let cname = match code {
                    0 => "unreachable route".to_string(),
                    1 => " unreachable prohibited".to_string(),
                    2 => "beyond scope".to_string(),
                    3 => "unreachable address".to_string(),
                    4 => "unreachable port".to_string(),
                    c => format!("unknown unreach code ({c})"),
                };
                let _ = write!(out, ", {cname}");
                match code {
                    0 | 1 | 3 => {
                        let _ = write!(out, " {}", odst(n)?);
                    }
                    2 => {
                        let d = odst(n)?;
                        let s = n.host(IpAddr::V6(v6(b, 8 + 8, P)?));
                        let _ = write!(out, " {d}, source address {s}");
                    }
                    4 => {
                        let d = odst(n)?;
                        let onh = get(b, 8 + 6, P)?;
                        let port = be16(b, 8 + 40 + 2, P)?;
                        match onh {
                            6 => {
                                let _ = write!(out, ", {d} tcp port {}", n.port(port, false));
                            }
                            17 => {
                                let _ = write!(out, ", {d} udp port {}", n.port(port, true));
                            }
                            p => {
                                let _ = write!(out, ", {d} protocol {p} port {port} unreachable");
                            }
                        }
                    }
                    _ => {
                        if v <= 1 {
                            hex(out, "\n\t", &b[..b.len().min(len as usize)]);
                            return Ok(());
                        }
                    }
                }
            }
            2 => {
                let _ = write!(out, ", mtu {}", be32(b, 4, P)?);
            }
            3 => match code {
                0 => {
                    let _ = write!(out, " for {}", odst(n)?);
                }
                1 => out.push_str(" (reassembly)"),
                c => {
                    let _ = write!(out, ", unknown code ({c})");
                }
            },
            4 => {
                v6(b, 8 + 24, P)?;
                let what = match code {
                    0 => "erroneous",
                    1 => "next header",
                    2 => "option",
                    3 => "incomplete header chain",
                    _ => "",
                };
                if what.is_empty() {
                    let _ = write!(out, ", code-#{code}");
                } else {
                    let _ = write!(out, ", {what} - octet {}", be32(b, 4, P)?);
                }
            }
            128 | 129 => {
                let _ = write!(out, ", id {}, seq {}", be16(b, 4, P)?, be16(b, 6, P)?);
            }
            130 if len == 24 => mld(out, b, v, n)?,
            130 if len >= 28 => {
                out.push_str(" v2");
                if v > 0 {
                    let _ = write!(out, " [max resp delay={}]", be16(b, 4, P)?);
                    let _ = write!(out, " [gaddr {}", n.host(IpAddr::V6(v6(b, 8, P)?)));
                    let ns = be16(b, 26, P)?;
                    let _ = write!(out, " {ns} source(s)]");
                }
            }
            130 => {
                let _ = write!(out, " unknown-version (len {len}) ");
            }
            131 | 132 => mld(out, b, v, n)?,
            133 => {
                if v > 0 {
                    nd_options(out, b, len, 8)?;
                }
            }
            134 => {
                if v > 0 {
                    let fl = get(b, 5, P)?;
                    let names = bit_names(
                        fl as u32,
                        &[
                            (0x80, "managed"),
                            (0x40, "other stateful"),
                            (0x20, "home agent"),
                            (0x08, "proxy"),
                        ],
                    );
                    let pref = match (fl >> 3) & 3 {
                        0 => "medium",
                        1 => "high",
                        3 => "low",
                        _ => "reserved",
                    };
                    let _ = write!(
                        out,
                        "\n\thop limit {}, Flags [{}], pref {pref}, router lifetime {}s, reachable time {}ms, retrans timer {}ms",
                        get(b, 4, P)?,
                        names,
                        be16(b, 6, P)?,
                        be32(b, 8, P)?,
                        be32(b, 12, P)?
                    );
                    nd_options(out, b, len, 16)?;
                }
            }
            135 => {
                let _ = write!(out, ", who has {}", n.host(IpAddr::V6(v6(b, 8, P)?)));
                if v > 0 {
                    nd_options(out, b, len, 24)?;
                }
            }
            136 => {
                let _ = write!(out, ", tgt is {}", n.host(IpAddr::V6(v6(b, 8, P)?)));
                if v > 0 {
                    let fl = be32(b, 4, P)?;
                    let names = bit_names(
                        fl,
                        &[
                            (0x8000_0000, "router"),
                            (0x4000_0000, "solicited"),
                            (0x2000_0000, "override"),
                        ],
                    );
                    let _ = write!(out, ", Flags [{}]", names);
                    nd_options(out, b, len, 24)?;
                }
            }
            137 => {
                let _ = write!(out, ", {}", n.host(IpAddr::V6(v6(b, 24, P)?)));
                let _ = write!(out, " to {}", n.host(IpAddr::V6(v6(b, 8, P)?)));
                if v > 0 {
                    nd_options(out, b, len, 40)?;
                }
            }
            143 => {
                let groups = be16(b, 6, P)?;
                let _ = write!(out, ", {groups} group record(s)");
                if v > 0 {
                    let mut at = 8usize;
                    for _ in 0..groups {
                        let rtype = get(b, at, P)?;
                        let aux = get(b, at + 1, P)? as usize;
                        let nsrc = be16(b, at + 2, P)? as usize;
                        let g = v6(b, at + 4, P)?;
                        let kind = match rtype {
                            1 => "is_in",
                            2 => "is_ex",
                            3 => "to_in",
                            4 => "to_ex",
                            5 => "allow",
                            6 => "block",
                            _ => "unknown",
                        };
                        let _ = write!(out, " [gaddr {} {kind}", n.host(IpAddr::V6(g)));
                        if v == 1 {
                            let _ = write!(out, ", {nsrc} source(s)");
                        } else {
                            out.push_str(" {");
                            for k in 0..nsrc {
                                let _ = write!(
                                    out,
                                    " {}",
                                    n.host(IpAddr::V6(v6(b, at + 20 + 16 * k, P)?))
                                );
                            }
                            out.push_str(" }");
                        }
                        out.push(']');
                        at += 20 + 16 * nsrc + 4 * aux;
                    }
                }
            }
            _ => {
                let _ = write!(out, ", length {len}");
                if v <= 1 {
                    hex(out, "\n\t", &b[..b.len().min(len as usize)]);
                }
                return Ok(());
            }
        }
        if v == 0 {
            let _ = write!(out, ", length {len}");
        }
        Ok(())
    }
}

fn mld(out: &mut String, b: &[u8], v: u8, n: &mut dyn Namer) -> R {
    const P: &str = "icmp6";
    let delay = be16(b, 4, P)?;
    let g = v6(b, 8, P)?;
    let _ = write!(
        out,
        "max resp delay: {delay} addr: {}",
        n.host(IpAddr::V6(g))
    );
    let _ = v;
    Ok(())
}

fn nd_options(out: &mut String, b: &[u8], len: u32, at: usize) -> R {
    const P: &str = "icmp6";
    // The options after the message's fixed part, within its length.
    let end = (len as usize).min(b.len());
    let b = b.get(at.min(end)..end).unwrap_or(&[]);
    let mut at = 0;
    while at < b.len() {
        let t = get(b, at, P)?;
        let l = get(b, at + 1, P)? as usize;
        if l == 0 {
            out.push_str(" [invalid]");
            return Ok(());
        }
        let body = b.get(at + 2..at + l * 8).ok_or(Trunc(P))?;
        let name = match t {
            1 => "source link-address option",
            2 => "destination link-address option",
            3 => "prefix info option",
            4 => "redirected header option",
            5 => "mtu option",
            25 => "rdnss option",
            31 => "dnssl option",
            _ => "unknown option",
        };
        let _ = write!(out, "\n\t  {name} ({t}), length {} ({l}): ", l * 8);
        match t {
            1 | 2 => {
                let m = &body[..body.len().min(6)];
                out.push_str(&mac(m));
            }
            5 => {
                let mtu = body
                    .get(2..6)
                    .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]));
                let _ = write!(out, " {mtu}");
            }
            3 => {
                let plen = body.first().copied().unwrap_or(0);
                let prefix = body.get(14..30).map(|s| {
                    let mut o = [0u8; 16];
                    o.copy_from_slice(s);
                    Ipv6Addr::from(o)
                });
                if let Some(p) = prefix {
                    let _ = write!(out, "{p}/{plen}");
                }
            }
            _ => {
                hex(out, "\n\t  ", body);
            }
        }
        at += l * 8;
    }
    Ok(())
}
