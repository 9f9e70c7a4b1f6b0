//! `ip`: iproute2's read-only half (address, link, route, neigh) over netlink.
//!
//! The kernel is asked with one dump per object (links always, for names), filtered and turned
//! into view structs by `parse`, and printed by `model` as iproute2 6.1 prints them.

pub mod cli;
pub mod kinds;
pub mod model;
pub mod names;
pub mod parse;
pub mod rules;

use crate::error::{Error, Result};
use crate::output;
use crate::output::ArrayWriter;
use crate::sys::netlink::{Rtnl, netns_names_by_id};
use clap::{Arg, ArgAction, Command};
use cli::{Cmd, Family, Opts};
use model::Layout;
use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST, NetlinkMessage};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteFlags, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use parse::Names;
use std::collections::HashMap;
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
where  OBJECT := { address | link | neigh | nexthop | route | rule }
       OPTIONS := { -4 | -6 | -0 | -s[tatistics] | -d[etails] | -o[neline] |
                    -j[son] | -p[retty] | -br[ief] | -h[uman-readable] | -iec |
                    -f[amily] { inet | inet6 | link } | -c[olor] | -N[umeric] |
                    -V[ersion] }
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
        "rule" => {
            "Usage: ip rule [ list [ SELECTOR ]]\nSELECTOR := [ not ] [ from PREFIX ] [ to PREFIX ] [ tos TOS ]\n            [ fwmark FWMARK[/MASK] ] [ iif STRING ] [ oif STRING ]\n            [ pref NUMBER ] [ l3mdev ] [ uidrange NUMBER-NUMBER ]\n            [ ipproto PROTOCOL ] [ sport [ NUMBER | NUMBER-NUMBER ] ]\n            [ dport [ NUMBER | NUMBER-NUMBER ] ] [ tun_id TUN_ID ]\n            [ lookup TABLE_ID ] [ protocol PROTO ]\n"
        }
        "nexthop" => {
            "Usage: ip nexthop { list | show } [ SELECTOR ]\n       ip nexthop get id ID\nSELECTOR := [ id ID ] [ dev DEV ] [ vrf NAME ] [ master DEV ]\n            [ groups ] [ fdb ] [ protocol NUMBER ]\n"
        }
        _ => USAGE,
    }
}

pub fn run(args: &[OsString]) -> Result<i32> {
    // Arguments as ip sees its names: a device name that is not UTF-8 is kept byte for byte,
    // the same way link names are (output::raw_text), so `ip link show dev <bytes>` finds it.
    let args: Vec<String> = args
        .iter()
        .map(|a| output::raw_text(std::os::unix::ffi::OsStrExt::as_bytes(a.as_os_str())))
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
            let stdout = io::stdout();
            let mut out = ArrayWriter::new(stdout.lock(), opts.json, opts.pretty);
            return match show(&mut rtnl, &opts, &cmd, &mut out).and_then(|()| {
                out.finish()
                    .map_err(|e| Error::local(format!("cannot write output: {e}")))
            }) {
                Ok(()) => Ok(0),
                Err(e) => Err(e),
            };
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

fn write_error(e: io::Error) -> io::Error {
    e
}

fn layout(opts: &Opts) -> Layout {
    Layout {
        sl: if opts.oneline { "\\" } else { "\n" },
        human: opts.human,
        iec: opts.iec,
        color: color_enabled(opts),
    }
}

/// check_enable_color and set_color_palette: never with -j; `auto` only on a terminal; a dark
/// background when COLORFGBG's last field is 0-6 or 8.
fn color_enabled(opts: &Opts) -> Option<bool> {
    use std::io::IsTerminal;
    let on = match opts.color {
        cli::Color::Never => false,
        cli::Color::Always => true,
        cli::Color::Auto => io::stdout().is_terminal(),
    };
    if !on || opts.json {
        return None;
    }
    let dark = std::env::var("COLORFGBG").ok().is_some_and(|v| {
        let last = v.rsplit(';').next().unwrap_or("");
        v.contains(';') && matches!(last, "0" | "1" | "2" | "3" | "4" | "5" | "6" | "8")
    });
    Some(dark)
}

type Out<'a> = ArrayWriter<io::StdoutLock<'a>>;

/// Run a show command, writing each object as the kernel hands it over: memory stays flat
/// whatever the number of routes, links or neighbours.
fn show(rtnl: &mut Rtnl, opts: &Opts, cmd: &Cmd, out: &mut Out) -> Result<()> {
    let lay = layout(opts);
    match cmd {
        Cmd::AddrShow { filter, link } => show_links(rtnl, opts, filter, *link, out),
        Cmd::RouteShow(f) => {
            let names = names(rtnl, opts)?;
            if let Some(dev) = f.oif.as_ref().or(f.iif.as_ref())
                && names.index(dev).is_none()
            {
                return Err(Error::local(format!("Cannot find device \"{dev}\"")));
            }
            let mut req = RouteMessage::default();
            req.header.address_family = match f.family {
                Family::Inet => AddressFamily::Inet,
                Family::Inet6 => AddressFamily::Inet6,
                _ => AddressFamily::Unspec,
            };
            let show = parse::RouteShow::for_filter(f, opts);
            let mut nh_info = NexthopLookup::new(opts, &lay);
            rtnl.dump_each(RouteNetlinkMessage::GetRoute(req), |m, _| {
                let RouteNetlinkMessage::NewRoute(r) = m else {
                    return Ok(());
                };
                if !matches!(parse::route_family(&r), Family::Inet | Family::Inet6)
                    || !parse::route_passes(&r, f, &names)
                {
                    return Ok(());
                }
                let mut v = parse::route_view(&r, &show, &names);
                v.nh_info = nh_info.get(v.nhid, &names);
                out.push(&v, |v, t| v.render(t, &lay)).map_err(write_error)
            })
            .map_err(netlink_error)
        }
        Cmd::RouteGet(g) => {
            let names = names(rtnl, opts)?;
            let req = route_get_request(g, &names)?;
            let answer = rtnl.route_get(req).map_err(rtnetlink_answer)?;
            let mut view = parse::route_view(&answer, &parse::RouteShow::for_get(opts), &names);
            view.nh_info = NexthopLookup::new(opts, &lay).get(view.nhid, &names);
            out.push(&view, |v, t| v.render(t, &lay))
                .map_err(|e| Error::local(format!("cannot write output: {e}")))
        }
        Cmd::RuleShow(f) => {
            let names = names(rtnl, opts)?;
            let mut req = netlink_packet_route::rule::RuleMessage::default();
            req.header.family = match f.family {
                Family::Inet6 => AddressFamily::Inet6,
                _ => AddressFamily::Inet,
            };
            let details = opts.details > 0;
            rtnl.dump_each(RouteNetlinkMessage::GetRule(req), |m, _| {
                let RouteNetlinkMessage::NewRule(r) = m else {
                    return Ok(());
                };
                if !rules::rule_passes(&r, f) {
                    return Ok(());
                }
                let v = rules::rule_view(&r, details, &names, lay.color);
                out.push(&v, |v, t| t.push_str(&v.text))
                    .map_err(write_error)
            })
            .map_err(netlink_error)
        }
        Cmd::NexthopShow(f) => {
            let names = names(rtnl, opts)?;
            let body = rules::nexthop_request(f, &names).map_err(Error::usage)?;
            let flags = if f.id.is_some() {
                NLM_F_REQUEST
            } else {
                NLM_F_REQUEST | NLM_F_DUMP
            };
            let details = opts.details > 0;
            rtnl.raw_each(RTM_GETNEXTHOP, flags, &body, |kind, body| {
                if kind != RTM_NEWNEXTHOP {
                    return Ok(());
                }
                let Some(nh) = rules::parse_nexthop(body) else {
                    return Ok(());
                };
                if !rules::nexthop_passes(&nh, f) {
                    return Ok(());
                }
                let v = rules::nexthop_view(&nh, details, &names, lay.color);
                out.push(&v, |v, t| t.push_str(&v.text))
                    .map_err(write_error)
            })
            .map_err(|e| match f.id {
                Some(_) => rtnetlink_answer(e),
                None => netlink_error(e),
            })
        }
        Cmd::NeighShow(f) => {
            let names = names(rtnl, opts)?;
            let dev_index = match &f.dev {
                Some(d) => Some(
                    names
                        .index(d)
                        .ok_or_else(|| Error::local(format!("Cannot find device \"{d}\"")))?,
                ),
                None => None,
            };
            let mut req = netlink_packet_route::neighbour::NeighbourMessage::default();
            req.header.family = match f.family {
                Family::Inet => AddressFamily::Inet,
                Family::Inet6 => AddressFamily::Inet6,
                _ => AddressFamily::Unspec,
            };
            if f.proxy {
                // Proxy entries are a dump of their own (NTF_PROXY in the request).
                req.header.flags = netlink_packet_route::neighbour::NeighbourFlags::Proxy;
            }
            rtnl.dump_each(RouteNetlinkMessage::GetNeighbour(req), |m, _| {
                let RouteNetlinkMessage::NewNeighbour(n) = m else {
                    return Ok(());
                };
                if !parse::neigh_passes(&n, f, dev_index) {
                    return Ok(());
                }
                let v = parse::neigh_view(&n, opts, dev_index.is_some(), &names);
                out.push(&v, |v, t| v.render(t, &lay)).map_err(write_error)
            })
            .map_err(netlink_error)
        }
        Cmd::Help(_) | Cmd::Usage | Cmd::Version => Ok(()),
    }
}

const RTM_NEWNEXTHOP: u16 = 104;
const RTM_GETNEXTHOP: u16 = 106;

/// print_cache_nexthop_id for `ip -d route`: next-hop objects by id, asked on a second socket
/// (the first one is busy with the route dump) and remembered.
struct NexthopLookup {
    wanted: bool,
    color: Option<bool>,
    rtnl: Option<Rtnl>,
    seen: HashMap<u32, Option<model::Printed>>,
}

impl NexthopLookup {
    fn new(opts: &Opts, lay: &Layout) -> Self {
        NexthopLookup {
            wanted: opts.details > 0,
            color: lay.color,
            rtnl: None,
            seen: HashMap::new(),
        }
    }

    fn get(&mut self, id: Option<u32>, names: &Names) -> Option<model::Printed> {
        let id = id.filter(|_| self.wanted)?;
        if let Some(known) = self.seen.get(&id) {
            return known.clone();
        }
        if self.rtnl.is_none() {
            self.rtnl = Rtnl::open().ok();
        }
        let filter = cli::NexthopFilter {
            id: Some(id),
            ..Default::default()
        };
        let mut found = None;
        if let (Some(rtnl), Ok(body)) = (self.rtnl.as_mut(), rules::nexthop_request(&filter, names))
        {
            let _ = rtnl.raw_each(RTM_GETNEXTHOP, NLM_F_REQUEST, &body, |kind, body| {
                if kind == RTM_NEWNEXTHOP
                    && let Some(nh) = rules::parse_nexthop(body)
                {
                    found = Some(rules::nexthop_entry(&nh, true, names, self.color));
                }
                Ok(())
            });
        }
        self.seen.insert(id, found.clone());
        found
    }
}

/// The link names (iproute2's ll_map), from a dump that decodes nothing else.
fn names(rtnl: &mut Rtnl, opts: &Opts) -> Result<Names> {
    let mut names = Names::default();
    rtnl.link_names(|l| names.learn(l)).map_err(netlink_error)?;
    names.numeric = opts.numeric;
    Ok(names)
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

/// `ip addr` and `ip link`: each link as it comes from the kernel, with its addresses (read
/// first and kept per link, as iproute2 keeps them).
fn show_links(
    rtnl: &mut Rtnl,
    opts: &Opts,
    filter: &cli::AddrFilter,
    link_mode: bool,
    out: &mut Out,
) -> Result<()> {
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
    // No names dump first: each link is learned as the dump brings it, and a link referred to
    // before it arrives (a master or lower device with a higher index) is asked for alone.
    let mut names = Names::default();
    names.numeric = opts.numeric;
    let by_name = |names: &mut Names, rtnl: &mut Rtnl, name: &str| -> Option<u32> {
        let index = crate::sys::netdev::index_of_name(&output::raw_bytes(name))?;
        let link = rtnl.link_name(index).ok()??;
        names.learn(link);
        Some(index)
    };
    let dev_index = match &filter.dev {
        Some(d) => Some(
            by_name(&mut names, rtnl, d)
                .ok_or_else(|| Error::local(format!("Device \"{d}\" does not exist.")))?,
        ),
        None => None,
    };
    if let Some(m) = &filter.master
        && by_name(&mut names, rtnl, m).is_none()
    {
        return Err(Error::usage(format!(
            "argument \"{m}\" is wrong: Device does not exist"
        )));
    }
    let family = opts.family;
    let addrs = if family == Family::Packet {
        AddrTable::default()
    } else {
        addresses_by_link(rtnl, &opts, filter)?
    };
    let addr_only = opts.oneline && !opts.brief && family != Family::Packet;
    let mut req = LinkMessage::default();
    req.header.interface_family = dump_family;
    if opts.stats == 0 {
        // No counters are printed: ask the kernel not to gather them (as iproute2 does).
        req.attributes.push(LinkAttribute::ExtMask(vec![
            netlink_packet_route::link::LinkExtentMask::SkipStats,
        ]));
    }
    let mut stream = LinkStream {
        lay: layout(&opts),
        opts: &opts,
        filter,
        link_mode,
        addrs: &addrs,
        addr_only,
        names,
        lookup: LinkLookup::default(),
        pending: std::collections::VecDeque::new(),
        netns_loaded: false,
        out,
    };
    let mut each = |m: RouteNetlinkMessage, raw_name: Option<Vec<u8>>| -> io::Result<()> {
        match m {
            RouteNetlinkMessage::NewLink(l) if dev_index.is_none_or(|i| i == l.header.index) => {
                stream.arrive(l, raw_name)
            }
            _ => Ok(()),
        }
    };
    match dev_index {
        Some(index) => {
            // One link: ask for it alone, as iproute2 does.
            req.header.index = index;
            rtnl.request_each(RouteNetlinkMessage::GetLink(req), &mut each)
        }
        None => {
            // Only what the form prints is decoded (decoding all was a fifth of a big dump's
            // time).
            let trim = crate::sys::netlink::Trim::Link(parse::link_keep(&opts, filter));
            rtnl.dump_each_trimmed(RouteNetlinkMessage::GetLink(req), trim, &mut each)
        }
    }
    .and_then(|()| stream.flush(true))
    .map_err(netlink_error)
}

/// `ip link` / `ip addr` as a stream. A link is printed once every link it names (its master,
/// its lower device) is known. In a dump those usually arrive just before or just after it (a
/// veth's peer is the next link), so a link waits in a short queue for them; one still missing
/// when the queue is long or the dump is over is asked for alone.
struct LinkStream<'a, 'o> {
    opts: &'a Opts,
    filter: &'a cli::AddrFilter,
    link_mode: bool,
    addrs: &'a AddrTable,
    addr_only: bool,
    lay: Layout,
    names: Names,
    lookup: LinkLookup,
    pending: std::collections::VecDeque<LinkMessage>,
    netns_loaded: bool,
    out: &'a mut Out<'o>,
}

/// How many links may wait for a later one before lookups take over.
const LINK_QUEUE: usize = 64;

impl LinkStream<'_, '_> {
    fn arrive(&mut self, l: LinkMessage, raw_name: Option<Vec<u8>>) -> io::Result<()> {
        let own = raw_name.or_else(|| parse::link_name(&l).map(|n| n.as_bytes().to_vec()));
        if let Some(name) = own {
            self.names.learn(crate::sys::netlink::LinkName {
                index: l.header.index,
                name,
                flags: l.header.flags.bits(),
                link_type: u16::from(l.header.link_layer_type),
            });
        }
        self.pending.push_back(l);
        self.flush(false)
    }

    /// Print the waiting links whose references are known, in order; with `all` (or a long
    /// queue), ask for the missing ones.
    fn flush(&mut self, all: bool) -> io::Result<()> {
        while let Some(front) = self.pending.front() {
            let refs = parse::link_refs(front);
            if refs.iter().any(|i| *i != 0 && !self.names.knows(*i)) {
                if !all && self.pending.len() <= LINK_QUEUE {
                    return Ok(());
                }
                for i in refs {
                    self.lookup.ensure(&mut self.names, i);
                }
            }
            let Some(l) = self.pending.pop_front() else {
                break;
            };
            self.emit(&l)?;
        }
        Ok(())
    }

    fn emit(&mut self, l: &LinkMessage) -> io::Result<()> {
        let (opts, family) = (self.opts, self.opts.family);
        if !parse::link_passes(l, self.filter, &self.names) {
            return Ok(());
        }
        let mine = self.addrs.get(l.header.index);
        if family != Family::Packet {
            // iproute2's ipaddr_filter: with a family, scope or prefix filter, keep only links
            // that have a matching address; links with no address at all stay when no family
            // is asked.
            let matching = mine.is_some_and(|v| v.iter().any(|(_, _, m)| *m));
            let none = mine.is_none_or(|v| v.is_empty());
            if !(matching || (none && family == Family::Unspec)) {
                return Ok(());
            }
        }
        if !opts.json
            && !self.netns_loaded
            && l.attributes
                .iter()
                .any(|a| matches!(a, LinkAttribute::LinkNetNsId(_)))
        {
            // `link-netns NAME`: the names of /run/netns, asked on a socket of their own
            // (this one is busy with the dump).
            self.netns_loaded = true;
            if let Some(n) = Rtnl::open().ok().map(|mut r| netns_names_by_id(&mut r)) {
                self.names.netns = n;
            }
        }
        let show = parse::LinkShow {
            opts,
            link_mode: self.link_mode,
        };
        let Some(mut v) = parse::link_view(l, show, &self.names) else {
            return Ok(());
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
            let mut list: Vec<model::AddrView> = Vec::new();
            for entry in mine.into_iter().flatten() {
                let Some((a, label)) = self.addrs.decode(*entry) else {
                    continue;
                };
                let mut view = parse::addr_view(&a, opts, &self.names);
                if let Some(l) = label {
                    view.label = Some(output::raw_text(&l));
                }
                // iproute2 opens a JSON object for every address of the family and leaves it
                // empty (`{}`) when a scope or prefix filter drops it.
                view.hidden = !entry.2;
                list.push(view);
            }
            if self.addr_only {
                // `ip -o addr`: each address line starts with its link's index and name.
                for a in &mut list {
                    a.index_dev = Some((v.ifindex, v.ifname.clone()));
                }
            }
            v.addr_info = Some(list);
            v.addr_only = self.addr_only;
        }
        let lay = self.lay;
        self.out
            .push(&v, |v, t| v.render(t, &lay))
            .map_err(write_error)
    }
}

/// Links a streamed dump refers to before it reaches them, asked one at a time on a second
/// socket (the first is busy with the dump), as iproute2's ll_cache does.
#[derive(Default)]
struct LinkLookup {
    rtnl: Option<Rtnl>,
}

impl LinkLookup {
    fn ensure(&mut self, names: &mut Names, index: u32) {
        if index == 0 || names.knows(index) {
            return;
        }
        if self.rtnl.is_none() {
            self.rtnl = Rtnl::open().ok();
        }
        if let Some(rtnl) = self.rtnl.as_mut()
            && let Ok(Some(link)) = rtnl.link_name(index)
        {
            names.learn(link);
        }
    }
}

/// Every address of the family, as its view, grouped by link (and whether it passes the
/// filter): what `ip addr` prints under each link.
/// The addresses `ip addr` will print, by link, kept as the kernel's message bytes (about 80
/// bytes each) in one buffer: a node with tens of thousands of addresses keeps a small table,
/// and each is decoded when its link is printed.
#[derive(Default)]
struct AddrTable {
    bytes: Vec<u8>,
    /// Per link: (start, end, passes the filter) of each address message in `bytes`.
    by_link: HashMap<u32, Vec<(usize, usize, bool)>>,
}

impl AddrTable {
    fn get(&self, index: u32) -> Option<&Vec<(usize, usize, bool)>> {
        self.by_link.get(&index)
    }

    /// The address message and, when its label is not UTF-8, the label's real bytes.
    fn decode(
        &self,
        (start, end, _): (usize, usize, bool),
    ) -> Option<(AddressMessage, Option<Vec<u8>>)> {
        decode_address(&mut self.bytes[start..end].to_vec())
    }
}

fn decode_address(bytes: &mut [u8]) -> Option<(AddressMessage, Option<Vec<u8>>)> {
    let label = crate::sys::netlink::patch_names(bytes);
    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes)
        .ok()?
        .payload
    {
        netlink_packet_core::NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(a)) => {
            Some((a, label))
        }
        _ => None,
    }
}

fn addresses_by_link(rtnl: &mut Rtnl, opts: &Opts, filter: &cli::AddrFilter) -> Result<AddrTable> {
    let family = opts.family;
    let mut table = AddrTable::default();
    rtnl.dump_bytes(
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        |bytes| {
            let Some((a, _)) = decode_address(&mut bytes.to_vec()) else {
                return Ok(());
            };
            let list = table.by_link.entry(a.header.index).or_default();
            if !parse::addr_passes(&a, &cli::AddrFilter::default(), family) {
                // Still counts for "has an address at all" (no family asked).
                return Ok(());
            }
            let start = table.bytes.len();
            table.bytes.extend_from_slice(bytes);
            list.push((
                start,
                table.bytes.len(),
                parse::addr_passes(&a, filter, family),
            ));
            Ok(())
        },
    )
    .map_err(netlink_error)?;
    Ok(table)
}
