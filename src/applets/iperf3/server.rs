//! The iperf3 server: one test at a time on one port (others are told the server is busy), the
//! client's parameters followed, its streams accepted by cookie, the test run until the client
//! ends it (or its time and iperf3's grace run out), results exchanged, and the report.

use super::cli::Config;
use super::engine::{self, Control, Role, Stream, Test};
use super::proto::{self, Params, Results, State};
use super::report;
use super::session::{CONTROL_WAIT, Ctrl, Output, Pacer, last_interval, stream_options};
use serde_json::json;
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

type Fail = String;

fn os(e: &io::Error) -> String {
    crate::error::os_text(e)
}

/// iperf3's grace after a test's time: 10 state changes of at most 4 s each.
const GRACE: Duration = Duration::from_secs(40);

fn bind_addr(cfg: &Config) -> Result<SocketAddr, Fail> {
    let ip: IpAddr = match (&cfg.bind, cfg.v6) {
        (Some(b), _) => b
            .parse()
            .map_err(|_| format!("unable to start listener for connections: bad address {b}"))?,
        (None, Some(false)) => Ipv4Addr::UNSPECIFIED.into(),
        _ => Ipv6Addr::UNSPECIFIED.into(),
    };
    Ok(SocketAddr::new(ip, cfg.port))
}

fn listen(cfg: &Config) -> Result<TcpListener, Fail> {
    let addr = bind_addr(cfg)?;
    let fail = |e: io::Error| format!("unable to start listener for connections: {}", os(&e));
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None).map_err(fail)?;
    sock.set_reuse_address(true).map_err(fail)?;
    if addr.is_ipv6() {
        sock.set_only_v6(cfg.v6 == Some(true)).map_err(fail)?;
    }
    sock.bind(&SockAddr::from(addr)).map_err(fail)?;
    sock.listen(128).map_err(fail)?;
    Ok(sock.into())
}

pub fn run(cfg: &Config, one_off: bool) -> i32 {
    let listener = match listen(cfg) {
        Ok(l) => l,
        Err(msg) => {
            let _ = writeln!(io::stderr(), "iperf3: error - {msg}");
            return 1;
        }
    };
    let mut number = 1;
    loop {
        let mut out = Output::new(cfg.json, None);
        out.line(report::SERVER_RULE);
        out.line(&format!(
            "Server listening on {} (test #{number})",
            cfg.port
        ));
        out.line(report::SERVER_RULE);
        let mut test = None;
        let result = serve(cfg, &listener, &mut out, &mut test);
        let failed = result.is_err();
        match result {
            Ok(end) => out.finish(Some(end), None),
            Err(msg) => {
                if cfg.json {
                    out.finish(None, Some(&msg));
                } else {
                    let _ = writeln!(io::stderr(), "iperf3: error - {msg}");
                }
            }
        }
        number += 1;
        if one_off {
            return i32::from(failed);
        }
    }
}

fn accept(
    listener: &TcpListener,
    idle: Option<Duration>,
) -> Result<(std::net::TcpStream, SocketAddr), Fail> {
    if let Some(t) = idle
        && !crate::sys::poll::readable(&[listener.as_fd()], t)
            .map(|r| r[0])
            .unwrap_or(false)
    {
        return Err("idle timeout: no client".into());
    }
    listener
        .accept()
        .map_err(|e| format!("unable to accept connection from client: {}", os(&e)))
}

fn serve(
    cfg: &Config,
    listener: &TcpListener,
    out: &mut Output,
    slot: &mut Option<Test>,
) -> Result<serde_json::Value, Fail> {
    let (stream, peer) = accept(listener, cfg.idle_timeout)?;
    let mut ctrl =
        Ctrl::new(stream).map_err(|e| format!("unable to set TCP/SCTP NODELAY: {}", os(&e)))?;
    let mut cookie = [0u8; proto::COOKIE_SIZE];
    ctrl.read_exact(&mut cookie, Instant::now() + CONTROL_WAIT)
        .map_err(|e| format!("unable to receive cookie at server: {}", os(&e)))?;
    ctrl.write_state(State::ParamExchange)
        .map_err(|e| format!("unable to write to the control socket: {}", os(&e)))?;
    let v = ctrl
        .read_json(Instant::now() + CONTROL_WAIT)
        .map_err(|e| format!("unable to receive parameters from client: {}", os(&e)))?;
    let params = Params::from_json(&v)
        .map_err(|e| format!("unable to receive parameters from client: {e}"))?;
    let peer_ip = report::plain_ip(peer.ip());
    out.line(&format!(
        "Accepted connection from {peer_ip}, port {}",
        peer.port()
    ));
    out.start.insert(
        "accepted_connection".into(),
        json!({"host": peer_ip, "port": peer.port()}),
    );
    out.start
        .insert("cookie".into(), json!(proto::cookie_text(&cookie)));
    if !params.udp {
        let mss = socket2::SockRef::from(&ctrl.stream).tcp_mss().unwrap_or(0);
        out.start.insert("tcp_mss_default".into(), json!(mss));
    }
    out.start
        .insert("target_bitrate".into(), json!(params.bandwidth));
    let mut test = Test::new(Role::Server, params.clone(), cfg.interval, cfg.format);
    test.verbose = cfg.verbose;
    *slot = Some(test);
    let test = slot.as_mut().ok_or("no test")?;

    // The streams: the server's receiving ones first (the client's senders connect first).
    let receiving = if params.reverse && !params.bidirectional {
        0
    } else {
        params.parallel
    };
    let sending = if params.reverse || params.bidirectional {
        params.parallel
    } else {
        0
    };
    let udp_listener = if params.udp {
        Some(udp_socket(listener, cfg)?)
    } else {
        None
    };
    ctrl.write_state(State::CreateStreams)
        .map_err(|e| format!("unable to write to the control socket: {}", os(&e)))?;
    let deadline = Instant::now() + CONTROL_WAIT;
    let mut udp_listener = udp_listener;
    for i in 0..(receiving + sending) as usize {
        let sender = i >= receiving as usize;
        let sock = if params.udp {
            let s = udp_listener.take().ok_or("no UDP socket")?;
            let accept_fail =
                |e: io::Error| format!("unable to accept stream connection: {}", os(&e));
            udp_accept(&s, deadline).map_err(accept_fail)?;
            // The next stream's socket exists before this one's reply goes out, so the client's
            // next hello finds it.
            if i + 1 < (receiving + sending) as usize {
                udp_listener = Some(udp_socket(listener, cfg)?);
            }
            s.send(&proto::UDP_CONNECT_REPLY.to_ne_bytes())
                .map_err(accept_fail)?;
            s
        } else {
            tcp_accept(listener, &cookie, deadline)?
        };
        let used = stream_options(&sock, &params)
            .map_err(|e| format!("unable to set stream options: {}", os(&e)))?;
        test.congestion_used = test.congestion_used.take().or(used);
        let s = Stream::new(sock, i, sender)
            .map_err(|e| format!("unable to accept stream connection: {}", os(&e)))?;
        out.stream(&s);
        test.streams.push(s);
    }
    ctrl.write_state(State::TestStart)
        .map_err(|e| format!("unable to write to the control socket: {}", os(&e)))?;
    test.begin();
    out.test_start(&params);
    let ctl = Arc::new(Control::default());
    ctl.counting.store(true, Ordering::Relaxed);
    let workers = engine::start(&test.streams, &params, &ctl);
    ctrl.write_state(State::TestRunning)
        .map_err(|e| format!("unable to write to the control socket: {}", os(&e)))?;

    // Meanwhile every other client hears that the server is busy.
    let busy = AtomicBool::new(true);
    let outcome = std::thread::scope(|scope| {
        scope.spawn(|| deny_others(listener, &busy));
        let r = run_test(cfg, &mut ctrl, test, &ctl, out);
        busy.store(false, Ordering::Relaxed);
        r
    });
    ctl.stop.store(true, Ordering::Relaxed);
    ctl.counting.store(false, Ordering::Relaxed);
    ctl.quit.store(true, Ordering::Relaxed);
    for s in &test.streams {
        s.close();
    }
    for w in workers {
        let _ = w.join();
    }
    outcome?;
    // The server reports before the results exchange, with what it saw itself (as iperf3).
    let (lines, end) = test.summary();
    out.lines(&lines);
    ctrl.write_state(State::ExchangeResults)
        .map_err(|e| format!("unable to write to the control socket: {}", os(&e)))?;
    let v = ctrl
        .read_json(Instant::now() + CONTROL_WAIT)
        .map_err(|e| format!("unable to receive results: {}", os(&e)))?;
    let r = Results::from_json(&v).map_err(|_| "unable to receive results".to_string())?;
    test.take_results(&r)
        .map_err(|_| "stream ID mismatch".to_string())?;
    ctrl.write_json(&test.results().to_json())
        .map_err(|e| format!("unable to send results: {}", os(&e)))?;
    ctrl.write_state(State::DisplayResults)
        .map_err(|e| format!("unable to write to the control socket: {}", os(&e)))?;
    // IPERF_DONE, or the client closing: either ends the test.
    let _ = ctrl.read_state(Instant::now() + CONTROL_WAIT);
    Ok(end)
}

/// A UDP socket on the server's port (a new one for each stream: the accepted one is
/// connected to its client).
fn udp_socket(listener: &TcpListener, cfg: &Config) -> Result<Socket, Fail> {
    let fail = |e: io::Error| format!("unable to start stream listener: {}", os(&e));
    let addr = listener.local_addr().map_err(fail)?;
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, None).map_err(fail)?;
    sock.set_reuse_address(true).map_err(fail)?;
    if addr.is_ipv6() {
        sock.set_only_v6(cfg.v6 == Some(true)).map_err(fail)?;
    }
    sock.bind(&SockAddr::from(addr)).map_err(fail)?;
    Ok(sock)
}

/// The client's 4-byte hello on UDP: connect to it (the caller answers).
fn udp_accept(sock: &Socket, deadline: Instant) -> io::Result<()> {
    let wait = deadline.saturating_duration_since(Instant::now());
    if wait.is_zero() {
        return Err(io::Error::from(io::ErrorKind::TimedOut));
    }
    sock.set_read_timeout(Some(wait))?;
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 64];
    let (_, from) = sock.recv_from(&mut buf)?;
    sock.connect(&from)?;
    Ok(())
}

/// A data connection with this test's cookie; others (a new client's control connection) hear
/// ACCESS_DENIED and are closed.
fn tcp_accept(listener: &TcpListener, cookie: &[u8], deadline: Instant) -> Result<Socket, Fail> {
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let ready = crate::sys::poll::readable(&[listener.as_fd()], wait)
            .map(|r| r[0])
            .unwrap_or(false);
        if !ready {
            return Err("unable to accept stream connection: Connection timed out".into());
        }
        let (mut s, _) = listener
            .accept()
            .map_err(|e| format!("unable to accept stream connection: {}", os(&e)))?;
        let mut got = [0u8; proto::COOKIE_SIZE];
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        if s.read_exact(&mut got).is_ok() && got[..] == cookie[..] {
            return Ok(Socket::from(s));
        }
        let _ = s.write_all(&[State::AccessDenied.byte()]);
    }
}

/// While a test runs: every new connection gets ACCESS_DENIED and is closed.
fn deny_others(listener: &TcpListener, busy: &AtomicBool) {
    while busy.load(Ordering::Relaxed) {
        let ready = crate::sys::poll::readable(&[listener.as_fd()], Duration::from_millis(100))
            .map(|r| r[0])
            .unwrap_or(false);
        if ready && let Ok((mut s, _)) = listener.accept() {
            let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = s.write_all(&[State::AccessDenied.byte()]);
        }
    }
}

/// Report intervals until the client says TEST_END (or goes away, or its time and the grace
/// pass, or receiving stays idle past --rcv-timeout).
fn run_test(
    cfg: &Config,
    ctrl: &mut Ctrl,
    test: &mut Test,
    ctl: &Control,
    out: &mut Output,
) -> Result<(), Fail> {
    let p = &test.params;
    let limit = (p.time > 0 && p.bytes == 0 && p.blocks == 0)
        .then(|| test.start + Duration::from_secs(p.omit as u64 + p.time as u64) + GRACE);
    let mut pacer = Pacer::new(test, ctl, cfg.interval, cfg.rcv_timeout);
    loop {
        if limit.is_some_and(|l| Instant::now() >= l) {
            return Err("the client did not end the test in time".into());
        }
        let wake = pacer.wake(Duration::from_millis(200), test);
        if ctrl.readable(wake.saturating_duration_since(Instant::now())) {
            match ctrl.read_state(Instant::now() + CONTROL_WAIT) {
                Ok(Some(State::TestEnd)) => break,
                Ok(Some(State::ClientTerminate)) => return Err("the client has terminated".into()),
                Ok(Some(State::TestStart | State::IperfDone)) => continue,
                Ok(None) | Err(_) => {
                    return Err("the client has unexpectedly closed the connection".into());
                }
                Ok(Some(_)) => return Err("received an unknown control message".into()),
            }
        }
        pacer.on_time(test, ctl, out, None)?;
    }
    ctl.stop.store(true, Ordering::Relaxed);
    ctl.counting.store(false, Ordering::Relaxed);
    last_interval(test, out);
    Ok(())
}
