//! The only place that opens sockets, talks netlink, or uses `unsafe`/libc. Everything above works
//! on plain data so it can be tested without privileges.

pub mod capture;
pub mod conn;
pub mod dgram;
pub mod dns;
pub mod errqueue;
pub mod files;
pub mod icmp;
pub mod netdev;
pub mod netlink;
pub mod pmtu;
pub mod poll;
pub mod probe;
pub mod process;
pub mod procs;
pub mod route;
pub mod sock;
pub mod sockdiag;
pub mod tcp;
pub mod tcpinfo;
pub mod zerocopy;
