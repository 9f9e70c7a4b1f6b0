//! The iperf3 client: the control connection (cookie, parameters, states), the data streams,
//! the timed test, the results exchange and the report, as iperf3 3.12's client runs them.

use super::cli::Config;
use super::engine::{self, Control, Role, Stream, Test};
use super::proto::{self, Params, Results, State};
use super::session::{CONTROL_WAIT, Ctrl, Output, Pacer, last_interval, stream_options};
use crate::dns;
use serde_json::json;
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A failure in iperf3's words (what follows "iperf3: error - ").
type Fail = String;

fn os(e: &io::Error) -> String {
    crate::error::os_text(e)
}

pub fn run(cfg: &Config, host: &str) -> i32 {
    let mut out = Output::new(cfg.json, cfg.title.clone());
    let mut test = None;
    match client(cfg, host, &mut out, &mut test) {
        Ok(end) => {
            out.finish(Some(end), None);
            out.line("");
            out.line("iperf Done.");
            0
        }
        Err(msg) => {
            // What was measured before the failure is still reported, as iperf3 does.
            let end = test
                .as_ref()
                .filter(|t: &&Test| !t.streams.is_empty())
                .map(|t| {
                    let (lines, end) = t.summary();
                    out.lines(&lines);
                    end
                });
            if cfg.json {
                out.finish(end, Some(&msg));
            } else {
                let _ = writeln!(io::stderr(), "iperf3: error - {msg}");
            }
            1
        }
    }
}

fn resolve(cfg: &Config, host: &str) -> Result<Vec<IpAddr>, Fail> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let family = match cfg.v6 {
        Some(true) => dns::Family::V6,
        Some(false) => dns::Family::V4,
        None => dns::Family::Any,
    };
    let mut r = dns::system();
    let lookup = r
        .lookup_ip(host, family)
        .result
        .map_err(|e| format!("unable to connect to server: {}", e.gai_message()))?;
    Ok(dns::ordered(&lookup.addrs))
}

fn local_addr(cfg: &Config, v6: bool, port: u16) -> Result<Option<SocketAddr>, Fail> {
    let ip = match &cfg.bind {
        Some(b) => Some(
            b.parse::<IpAddr>()
                .map_err(|_| format!("unable to bind to {b}: not an address"))?,
        ),
        None => None,
    };
    if ip.is_none() && port == 0 {
        return Ok(None);
    }
    let unspecified: IpAddr = if v6 {
        std::net::Ipv6Addr::UNSPECIFIED.into()
    } else {
        std::net::Ipv4Addr::UNSPECIFIED.into()
    };
    Ok(Some(SocketAddr::new(ip.unwrap_or(unspecified), port)))
}

fn connect_control(cfg: &Config, host: &str) -> Result<(TcpStream, SocketAddr), Fail> {
    let addrs = resolve(cfg, host)?;
    let timeout = cfg.connect_timeout.unwrap_or(CONTROL_WAIT);
    let mut last = String::from("no address");
    for ip in addrs {
        if cfg.v6 == Some(!ip.is_ipv6()) {
            continue;
        }
        let addr = SocketAddr::new(ip, cfg.port);
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)
            .map_err(|e| format!("unable to connect to server: {}", os(&e)))?;
        if let Some(local) = local_addr(cfg, ip.is_ipv6(), 0)? {
            sock.bind(&SockAddr::from(local))
                .map_err(|e| format!("unable to connect to server: {}", os(&e)))?;
        }
        match sock.connect_timeout(&SockAddr::from(addr), timeout) {
            Ok(()) => return Ok((sock.into(), addr)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                last = "Operation now in progress".into();
            }
            Err(e) => last = os(&e),
        }
    }
    Err(format!("unable to connect to server: {last}"))
}

fn params_of(cfg: &Config, ctrl_mss: u32) -> Params {
    let len = cfg.len.unwrap_or(if cfg.udp {
        if ctrl_mss > 0 {
            ctrl_mss as usize
        } else {
            proto::DEFAULT_UDP_LEN
        }
    } else {
        proto::DEFAULT_TCP_LEN
    });
    Params {
        udp: cfg.udp,
        time: cfg.time,
        omit: cfg.omit,
        bytes: cfg.bytes,
        blocks: cfg.blocks,
        parallel: cfg.parallel,
        reverse: cfg.reverse,
        bidirectional: cfg.bidir,
        window: cfg.window.unwrap_or(0),
        len,
        bandwidth: cfg.rate.unwrap_or(if cfg.udp {
            proto::DEFAULT_UDP_RATE as u64
        } else {
            0
        }),
        mss: cfg.mss.unwrap_or(0),
        nodelay: cfg.no_delay,
        congestion: cfg.congestion.clone(),
        udp_counters_64bit: cfg.udp_counters_64bit,
        title: cfg.title.clone(),
        ..Params::default()
    }
}

fn client(
    cfg: &Config,
    host: &str,
    out: &mut Output,
    slot: &mut Option<Test>,
) -> Result<serde_json::Value, Fail> {
    let (stream, server) = connect_control(cfg, host)?;
    let mut ctrl =
        Ctrl::new(stream).map_err(|e| format!("unable to set TCP/SCTP NODELAY: {}", os(&e)))?;
    let cookie = proto::make_cookie();
    ctrl.stream
        .write_all(&cookie)
        .map_err(|e| format!("unable to send cookie to server: {}", os(&e)))?;
    let ctrl_mss = socket2::SockRef::from(&ctrl.stream).tcp_mss().unwrap_or(0);
    let params = params_of(cfg, ctrl_mss);
    if params.udp && ctrl_mss > 0 && params.len > ctrl_mss as usize {
        out.line(&format!(
            "warning: UDP block size {} exceeds TCP MSS {ctrl_mss}, may result in fragmentation / drops",
            params.len
        ));
    }
    let mut test = Test::new(Role::Client, params.clone(), cfg.interval, cfg.format);
    test.verbose = cfg.verbose;
    *slot = Some(test);
    let test = slot.as_mut().ok_or("no test")?;
    let ctl = Arc::new(Control::default());
    let mut workers = Vec::new();
    // Before the test the server answers within CONTROL_WAIT; during it, within its length and
    // iperf3's grace.
    let mut deadline = Instant::now() + CONTROL_WAIT;
    loop {
        let state = match ctrl.read_state(deadline) {
            Ok(Some(s)) => s,
            Ok(None) => return Err("control socket has closed unexpectedly".into()),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return Err("unable to receive control message: Connection timed out".into());
            }
            Err(e) => return Err(format!("unable to receive control message: {}", os(&e))),
        };
        match state {
            State::ParamExchange => {
                ctrl.write_json(&params.to_json())
                    .map_err(|e| format!("unable to send parameters to server: {}", os(&e)))?;
                on_connect(cfg, host, server, &cookie, ctrl_mss, &params, out);
            }
            State::CreateStreams => {
                let connected = create_streams(cfg, server, &cookie, &params, test)?;
                for s in &test.streams {
                    out.stream(s);
                }
                test.congestion_used = connected;
            }
            State::TestStart => {
                test.begin();
                out.test_start(&params);
            }
            State::TestRunning => {
                ctl.counting.store(true, Ordering::Relaxed);
                workers = engine::start(&test.streams, &params, &ctl);
                run_test(cfg, &mut ctrl, test, &ctl, out)?;
                ctl.stop.store(true, Ordering::Relaxed);
                ctl.counting.store(false, Ordering::Relaxed);
                ctrl.write_state(State::TestEnd)
                    .map_err(|e| format!("unable to send control message: {}", os(&e)))?;
                deadline = Instant::now() + CONTROL_WAIT;
            }
            State::ExchangeResults => {
                ctrl.write_json(&test.results().to_json())
                    .map_err(|e| format!("unable to send results: {}", os(&e)))?;
                let v = ctrl
                    .read_json(deadline)
                    .map_err(|e| format!("unable to receive results: {}", os(&e)))?;
                let r =
                    Results::from_json(&v).map_err(|_| "unable to receive results".to_string())?;
                test.take_results(&r)
                    .map_err(|_| "stream ID mismatch".to_string())?;
            }
            State::DisplayResults => {
                ctl.quit.store(true, Ordering::Relaxed);
                for s in &test.streams {
                    s.close();
                }
                for w in workers.drain(..) {
                    let _ = w.join();
                }
                let (lines, end) = test.summary();
                out.lines(&lines);
                let _ = ctrl.write_state(State::IperfDone);
                return Ok(end);
            }
            State::IperfDone => {}
            State::AccessDenied => {
                return Err("the server is busy running a test. try again later".into());
            }
            State::ServerError => {
                let mut b = [0u8; 8];
                ctrl.read_exact(&mut b, deadline)
                    .map_err(|e| format!("unable to read from the control socket: {}", os(&e)))?;
                let code = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                let errno = i32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                let mut msg = proto::server_error_words(code);
                if errno != 0 {
                    msg.push_str(&format!(": {}", os(&io::Error::from_raw_os_error(errno))));
                }
                return Err(msg);
            }
            State::ServerTerminate => return Err("the server has terminated".into()),
            _ => return Err("received an unknown control message".into()),
        }
    }
}

fn on_connect(
    cfg: &Config,
    host: &str,
    server: SocketAddr,
    cookie: &[u8],
    ctrl_mss: u32,
    params: &Params,
    out: &mut Output,
) {
    let now = SystemTime::now();
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    out.start.insert(
        "timestamp".into(),
        json!({"time": crate::output::Civil::utc(now).rfc1123(), "timesecs": secs}),
    );
    out.start.insert(
        "connecting_to".into(),
        json!({"host": host, "port": server.port()}),
    );
    out.start
        .insert("cookie".into(), json!(proto::cookie_text(cookie)));
    if !params.udp {
        if params.mss > 0 {
            out.start.insert("tcp_mss".into(), json!(params.mss));
        } else {
            out.start.insert("tcp_mss_default".into(), json!(ctrl_mss));
        }
    }
    out.start
        .insert("target_bitrate".into(), json!(params.bandwidth));
    out.line(&format!("Connecting to host {host}, port {}", cfg.port));
    if params.reverse {
        out.line(&format!("Reverse mode, remote host {host} is sending"));
    }
}

/// The data connections: the client's sending streams first, then its receiving ones.
fn create_streams(
    cfg: &Config,
    server: SocketAddr,
    cookie: &[u8],
    params: &Params,
    test: &mut Test,
) -> Result<Option<String>, Fail> {
    let mut roles = Vec::new();
    if params.bidirectional {
        roles.extend(std::iter::repeat_n(true, params.parallel as usize));
        roles.extend(std::iter::repeat_n(false, params.parallel as usize));
    } else {
        roles.extend(std::iter::repeat_n(
            !params.reverse,
            params.parallel as usize,
        ));
    }
    let mut congestion = None;
    for (i, sender) in roles.into_iter().enumerate() {
        let port = cfg.cport.map(|p| p.wrapping_add(i as u16)).unwrap_or(0);
        let local = local_addr(cfg, server.is_ipv6(), port)?;
        let fail = |e: io::Error| format!("unable to connect stream: {}", os(&e));
        let ty = if params.udp {
            Type::DGRAM
        } else {
            Type::STREAM
        };
        let sock = Socket::new(Domain::for_address(server), ty, None).map_err(fail)?;
        let used = stream_options(&sock, params)
            .map_err(|e| format!("unable to set stream options: {}", os(&e)))?;
        congestion = congestion.or(used);
        if let Some(l) = local {
            sock.set_reuse_address(true).map_err(fail)?;
            sock.bind(&SockAddr::from(l)).map_err(fail)?;
        }
        if params.udp {
            sock.connect(&SockAddr::from(server)).map_err(fail)?;
            udp_hello(&sock, params).map_err(fail)?;
        } else {
            sock.connect_timeout(&SockAddr::from(server), CONTROL_WAIT)
                .map_err(fail)?;
            sock.set_write_timeout(Some(CONTROL_WAIT)).map_err(fail)?;
            let mut s: &Socket = &sock;
            s.write_all(cookie)
                .map_err(|e| format!("unable to send cookie to server: {}", os(&e)))?;
        }
        test.streams
            .push(Stream::new(sock, i, sender).map_err(fail)?);
    }
    Ok(congestion)
}

/// The UDP stream's hello: 4 bytes out, the server's 4-byte reply back (in reverse mode a few
/// data packets may come first).
fn udp_hello(sock: &Socket, params: &Params) -> io::Result<()> {
    sock.send(&proto::UDP_CONNECT_MSG.to_ne_bytes())?;
    let deadline = Instant::now() + CONTROL_WAIT;
    let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); params.len.max(4)];
    for _ in 0..16 {
        let wait = deadline.saturating_duration_since(Instant::now());
        if wait.is_zero() {
            break;
        }
        sock.set_read_timeout(Some(wait))?;
        let n = sock.recv(&mut buf)?;
        if n == 4 {
            // SAFETY: recv initialised the first n bytes.
            let b: [u8; 4] = unsafe {
                [
                    buf[0].assume_init(),
                    buf[1].assume_init(),
                    buf[2].assume_init(),
                    buf[3].assume_init(),
                ]
            };
            let v = u32::from_ne_bytes(b);
            if [proto::UDP_CONNECT_REPLY, proto::LEGACY_UDP_CONNECT_REPLY]
                .iter()
                .any(|r| *r == v || r.swap_bytes() == v)
            {
                return Ok(());
            }
        }
    }
    Err(io::Error::from(io::ErrorKind::TimedOut))
}

/// The timed part: report every interval, watch the control connection, stop at the time,
/// bytes or blocks asked for (or when receiving stays idle past --rcv-timeout).
fn run_test(
    cfg: &Config,
    ctrl: &mut Ctrl,
    test: &mut Test,
    ctl: &Control,
    out: &mut Output,
) -> Result<(), Fail> {
    let p = &test.params;
    let by_time = p.bytes == 0 && p.blocks == 0;
    let end_at = by_time.then(|| test.start + Duration::from_secs(p.omit as u64 + p.time as u64));
    let mut pacer = Pacer::new(test, ctl, cfg.interval, cfg.rcv_timeout);
    loop {
        let now = Instant::now();
        if end_at.is_some_and(|e| now >= e) || (!by_time && engine::budget_spent(&test.params, ctl))
        {
            break;
        }
        if let Some(e) = test.stream_error() {
            return Err(e);
        }
        let wake = pacer
            .wake(Duration::from_millis(50), test)
            .min(end_at.unwrap_or(now + Duration::from_secs(1)));
        if ctrl.readable(wake.saturating_duration_since(now)) {
            // The server speaks during the test only to end it.
            return Err(match ctrl.read_state(Instant::now() + CONTROL_WAIT) {
                Ok(Some(State::ServerTerminate)) => "the server has terminated".into(),
                Ok(Some(State::ServerError)) => "the server reported an error".into(),
                Ok(None) | Err(_) => "control socket has closed unexpectedly".into(),
                Ok(Some(_)) => "received an unknown control message".into(),
            });
        }
        pacer.on_time(test, ctl, out, end_at)?;
    }
    last_interval(test, out);
    Ok(())
}
