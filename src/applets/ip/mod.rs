//! `ip`: iproute2's read-only half (address, link, route, neigh) over netlink.
//!
//! The kernel is asked with one dump per object (links always, for names), filtered and turned
//! into view structs by `parse`, and printed by `model` as iproute2 6.1 prints them.

pub mod cli;
pub mod model;
pub mod names;
pub mod parse;

use crate::error::{Error, Result};
use crate::output;
use crate::sys::netlink::{Rtnl, netns_names_by_id};
use clap::{Arg, ArgAction, Command};
use cli::{Cmd, Family, Opts};
use model::{Layout, LinkView};
use netlink_packet_route::AddressFamily;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteFlags, RouteMessage};
use parse::Names;
use std::ffi::OsString;
use std::io;

pub fn command() -> Command {
    Command::new("ip")
        .about("show routes, addresses, links and neighbours (iproute2 compatible, read-only)")
        .override_usage("ip [ OPTIONS ] OBJECT { COMMAND | help }")
        .disable_help_flag(true)
        .arg(
            Arg::new("inet")
                .short('4')
                .action(ArgAction::SetTrue)
                .help("IPv4 only"),
        )
        .arg(
            Arg::new("inet6")
                .short('6')
                .action(ArgAction::SetTrue)
                .help("IPv6 only"),
        )
        .arg(
            Arg::new("json")
                .short('j')
                .long("json")
                .action(ArgAction::SetTrue)
                .help("JSON output (iproute2 keys)"),
        )
        .arg(
            Arg::new("pretty")
                .short('p')
                .long("pretty")
                .action(ArgAction::SetTrue)
                .help("pretty JSON"),
        )
        .arg(
            Arg::new("stats")
                .short('s')
                .long("stats")
                .action(ArgAction::Count)
                .help("statistics (twice for errors)"),
        )
        .arg(
            Arg::new("details")
                .short('d')
                .long("details")
                .action(ArgAction::Count)
                .help("details"),
        )
        .arg(
            Arg::new("oneline")
                .short('o')
                .long("oneline")
                .action(ArgAction::SetTrue)
                .help("one line per record"),
        )
        .arg(
            Arg::new("brief")
                .long("brief")
                .action(ArgAction::SetTrue)
                .help("brief output (also -br)"),
        )
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::SetTrue)
                .help("usage"),
        )
        .arg(
            Arg::new("object")
                .value_parser(["address", "link", "route", "neigh", "help"])
                .help("what to show"),
        )
        .arg(
            Arg::new("args")
                .num_args(0..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .help("command and filters"),
        )
}

const USAGE: &str = "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
where  OBJECT := { address | link | neigh | route }
       OPTIONS := { -4 | -6 | -0 | -s[tatistics] | -d[etails] | -o[neline] |
                    -j[son] | -p[retty] | -br[ief] | -h[uman-readable] | -iec |
                    -f[amily] { inet | inet6 | link } | -V[ersion] }
debugbox's ip is read-only: show/list and `route get` only.
";

fn help_text(topic: &str) -> &'static str {
    match topic {
        "address" => {
            "Usage: ip address [ show [ dev ] IFNAME ] [ up ] [ to PREFIX ] [ scope SCOPE ]\n                  [ type KIND ] [ master DEV ]\n"
        }
        "link" => "Usage: ip link [ show [ dev ] IFNAME ] [ up ] [ type KIND ] [ master DEV ]\n",
        "route" => {
            "Usage: ip route [ list [ SELECTOR ] ]\n       ip route get ADDRESS [ from ADDRESS ] [ iif STRING ] [ oif STRING ]\n                        [ mark NUMBER ] [ uid NUMBER ] [ ipproto PROTOCOL ]\n                        [ sport NUMBER ] [ dport NUMBER ] [ fibmatch ]\nSELECTOR := [ root PREFIX ] [ match PREFIX ] [ exact PREFIX ] [ table TABLE_ID ]\n            [ tos TOS ] [ proto RTPROTO ] [ type TYPE ] [ scope SCOPE ]\n            [ dev STRING ] [ iif STRING ] [ via ADDRESS ] [ src ADDRESS ] [ metric NUMBER ]\nTABLE_ID := [ local | main | default | all | NUMBER ]\n"
        }
        "neigh" => {
            "Usage: ip neigh [ show [ to PREFIX ] [ dev DEV ] [ nud STATE ] [ proxy ] ]\nSTATE := { delay | failed | incomplete | noarp | none | permanent | probe | reachable | stale | all }\n"
        }
        _ => USAGE,
    }
}

pub fn run(args: &[OsString]) -> Result<i32> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (opts, cmd) = cli::parse(&args)?;
    let text = match cmd {
        Cmd::Version => format!("ip utility, debugbox-{}\n", env!("CARGO_PKG_VERSION")),
        Cmd::Help(topic) => help_text(topic).to_string(),
        Cmd::Usage => {
            eprint!("{USAGE}");
            return Ok(2);
        }
        cmd => {
            let mut rtnl = Rtnl::open().map_err(netlink_error)?;
            show(&mut rtnl, &opts, &cmd)?
        }
    };
    output::print(&text)?;
    Ok(0)
}

fn netlink_error(e: io::Error) -> Error {
    Error::local(format!("cannot talk to the kernel over netlink: {e}"))
}

/// iproute2's "RTNETLINK answers: …" for a refused request.
fn rtnetlink_answer(e: io::Error) -> Error {
    Error::local(format!("RTNETLINK answers: {}", crate::error::os_text(&e)))
}

fn layout(opts: &Opts) -> Layout {
    Layout {
        sl: if opts.oneline { "\\" } else { "\n" },
        human: opts.human,
        iec: opts.iec,
    }
}

/// Run a show command and return what it prints.
fn show(rtnl: &mut Rtnl, opts: &Opts, cmd: &Cmd) -> Result<String> {
    match cmd {
        Cmd::AddrShow { filter, link } => {
            let views = address_views(rtnl, opts, filter, *link)?;
            if opts.json {
                return Ok(output::iproute_json(&views, opts.pretty));
            }
            let mut out = String::new();
            for v in &views {
                v.render(&mut out, &layout(opts));
            }
            Ok(out)
        }
        Cmd::RouteShow(f) => {
            let names = names(rtnl)?;
            if let Some(dev) = f.oif.as_ref().or(f.iif.as_ref())
                && names.index(dev).is_none()
            {
                return Err(Error::local(format!("Cannot find device \"{dev}\"")));
            }
            let family = match f.family {
                Family::Inet => AddressFamily::Inet,
                Family::Inet6 => AddressFamily::Inet6,
                _ => AddressFamily::Unspec,
            };
            let routes = rtnl.routes(family).map_err(netlink_error)?;
            let show = parse::RouteShow::for_filter(f, opts);
            let views: Vec<_> = routes
                .iter()
                .filter(|r| matches!(parse::route_family(r), Family::Inet | Family::Inet6))
                .filter(|r| parse::route_passes(r, f, &names))
                .map(|r| parse::route_view(r, &show, &names))
                .collect();
            Ok(render_routes(&views, opts))
        }
        Cmd::RouteGet(g) => {
            let names = names(rtnl)?;
            let req = route_get_request(g, &names)?;
            let answer = rtnl.route_get(req).map_err(rtnetlink_answer)?;
            let view = parse::route_view(&answer, &parse::RouteShow::for_get(opts), &names);
            Ok(render_routes(&[view], opts))
        }
        Cmd::NeighShow(f) => {
            let names = names(rtnl)?;
            let dev_index = match &f.dev {
                Some(d) => Some(
                    names
                        .index(d)
                        .ok_or_else(|| Error::local(format!("Cannot find device \"{d}\"")))?,
                ),
                None => None,
            };
            let family = match f.family {
                Family::Inet => AddressFamily::Inet,
                Family::Inet6 => AddressFamily::Inet6,
                _ => AddressFamily::Unspec,
            };
            let views: Vec<_> = rtnl
                .neighbours(family)
                .map_err(netlink_error)?
                .iter()
                .filter(|n| parse::neigh_passes(n, f, dev_index))
                .map(|n| parse::neigh_view(n, opts, dev_index.is_some(), &names))
                .collect();
            if opts.json {
                return Ok(output::iproute_json(&views, opts.pretty));
            }
            let mut out = String::new();
            for v in &views {
                v.render(&mut out);
            }
            Ok(out)
        }
        Cmd::Help(_) | Cmd::Usage | Cmd::Version => Ok(String::new()),
    }
}

fn render_routes(views: &[model::RouteView], opts: &Opts) -> String {
    if opts.json {
        return output::iproute_json(views, opts.pretty);
    }
    let mut out = String::new();
    for v in views {
        v.render(&mut out, &layout(opts));
    }
    out
}

fn names(rtnl: &mut Rtnl) -> Result<Names> {
    let links = rtnl.links().map_err(netlink_error)?;
    Ok(Names::from_links(&links))
}

fn route_get_request(g: &cli::RouteGet, names: &Names) -> Result<RouteMessage> {
    let mut r = RouteMessage::default();
    let fam = match g.family {
        Family::Inet6 => AddressFamily::Inet6,
        _ => AddressFamily::Inet,
    };
    r.header.address_family = fam;
    let to_addr = |p: &cli::Prefix| -> RouteAddress {
        if p.family == Family::Inet6 {
            RouteAddress::Inet6(std::net::Ipv6Addr::from(p.bytes))
        } else {
            RouteAddress::Inet(std::net::Ipv4Addr::new(
                p.bytes[0], p.bytes[1], p.bytes[2], p.bytes[3],
            ))
        }
    };
    r.attributes
        .push(RouteAttribute::Destination(to_addr(&g.dst)));
    r.header.destination_prefix_length = g.dst.bitlen;
    if let Some(from) = &g.from {
        r.attributes.push(RouteAttribute::Source(to_addr(from)));
        r.header.source_prefix_length = from.bitlen;
    }
    let index = |dev: &str| {
        names
            .index(dev)
            .ok_or_else(|| Error::local(format!("Cannot find device \"{dev}\"")))
    };
    if let Some(dev) = &g.iif {
        r.attributes.push(RouteAttribute::Iif(index(dev)?));
    }
    if let Some(dev) = &g.oif {
        r.attributes.push(RouteAttribute::Oif(index(dev)?));
    }
    if let Some(m) = g.mark {
        r.attributes.push(RouteAttribute::Mark(m));
    }
    if let Some(u) = g.uid {
        r.attributes.push(RouteAttribute::Uid(u));
    }
    if let Some(p) = g.ipproto {
        r.attributes.push(RouteAttribute::IpProto(p));
    }
    if let Some(p) = g.sport {
        r.attributes.push(RouteAttribute::Sport(p));
    }
    if let Some(p) = g.dport {
        r.attributes.push(RouteAttribute::Dport(p));
    }
    if let Some(t) = g.tos {
        r.header.tos = t;
    }
    let mut flags = 0u32;
    if fam == AddressFamily::Inet {
        flags |= 0x1000; // RTM_F_LOOKUP_TABLE
    }
    if g.fibmatch {
        flags |= 0x2000; // RTM_F_FIB_MATCH
    }
    r.header.flags = RouteFlags::from_bits_retain(flags);
    Ok(r)
}

/// The links (and, for `ip addr`, their addresses) that `ip addr/link show` prints.
pub fn address_views(
    rtnl: &mut Rtnl,
    opts: &Opts,
    filter: &cli::AddrFilter,
    link_mode: bool,
) -> Result<Vec<LinkView>> {
    // iproute2 dumps links with the -4/-6 family as given (before `to PREFIX` narrows it), and
    // the kernel answers an AF_INET6 dump with a reduced view; a named device is fetched whole.
    let dump_family = if opts.family == Family::Inet6 && !link_mode && filter.dev.is_none() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Unspec
    };
    let mut opts = opts.clone();
    if link_mode {
        opts.family = Family::Packet;
    } else if opts.family == Family::Unspec {
        // iproute2: `to PREFIX` also sets the family (so `ip a show to 10/8` is IPv4 only).
        if let Some(to) = &filter.to {
            opts.family = to.family;
        }
    }
    let links: Vec<LinkMessage> = rtnl.links_family(dump_family).map_err(netlink_error)?;
    let mut names = Names::from_links(&links);
    let dev_index = match &filter.dev {
        Some(d) => Some(
            names
                .index(d)
                .ok_or_else(|| Error::local(format!("Device \"{d}\" does not exist.")))?,
        ),
        None => None,
    };
    let family = opts.family;
    let addrs = if family == Family::Packet {
        Vec::new()
    } else {
        rtnl.addresses().map_err(netlink_error)?
    };
    let any_netns = !opts.json
        && links.iter().any(|l| {
            l.attributes
                .iter()
                .any(|a| matches!(a, LinkAttribute::LinkNetNsId(_)))
        });
    if any_netns {
        names.netns = netns_names_by_id(rtnl);
    }
    let show = parse::LinkShow {
        opts: &opts,
        link_mode,
    };
    let addr_only = opts.oneline && !opts.brief && family != Family::Packet;
    let mut out = Vec::new();
    for l in &links {
        if dev_index.is_some_and(|i| i != l.header.index) {
            continue;
        }
        if !parse::link_passes(l, filter, &names) {
            continue;
        }
        if family != Family::Packet {
            // iproute2's ipaddr_filter: with a family, scope or prefix filter, keep only links that
            // have a matching address; links with no address at all stay when no family is asked.
            let mine: Vec<_> = addrs
                .iter()
                .filter(|a| a.header.index == l.header.index)
                .collect();
            let matching = mine.iter().any(|a| parse::addr_passes(a, filter, family));
            if !(matching || (mine.is_empty() && family == Family::Unspec)) {
                continue;
            }
        }
        let Some(mut v) = parse::link_view(l, show, &names) else {
            continue;
        };
        if !l
            .attributes
            .iter()
            .any(|a| matches!(a, LinkAttribute::TxQueueLen(_)))
        {
            // As iproute2: no IFLA_TXQLEN in the reply, so ask the device.
            v.txqlen = crate::sys::netdev::txqlen(&v.ifname)
                .ok()
                .filter(|q| *q != 0);
        }
        if family != Family::Packet {
            v.addr_info = Some(
                addrs
                    .iter()
                    .filter(|a| {
                        a.header.index == l.header.index
                            && parse::addr_passes(a, &cli::AddrFilter::default(), family)
                    })
                    .map(|a| {
                        let mut v = parse::addr_view(a, &opts, &names);
                        // iproute2 opens a JSON object for every address of the family and
                        // leaves it empty (`{}`) when a scope or prefix filter drops it.
                        v.hidden = !parse::addr_passes(a, filter, family);
                        v
                    })
                    .collect(),
            );
            v.addr_only = addr_only;
        }
        out.push(v);
    }
    Ok(out)
}
