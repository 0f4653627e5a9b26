//! The text of `/proc/net/*`: the sandbox's own sockets, interfaces and routes, in Linux's
//! formats (net/ipv4/tcp_ipv4.c, udp.c, net/core/net-procfs.c, fib_trie.c, addrconf.c).

use std::fmt::Write;
use std::sync::Arc;

use smoltcp::wire::{IpAddress, IpCidr, IpEndpoint};

use super::inet::{InetSocket, Kind, ProcEntry};
use super::stack::{Counters, Stack};

/// What makes one file's text.
pub type Maker = fn(&Stack) -> String;

/// The files of `/proc/net` and what makes each.
pub const FILES: &[(&str, Maker)] = &[
    ("dev", dev),
    ("if_inet6", if_inet6),
    ("route", route),
    ("tcp", |s| sockets(s, Kind::Stream, false)),
    ("tcp6", |s| sockets(s, Kind::Stream, true)),
    ("udp", |s| sockets(s, Kind::Dgram, false)),
    ("udp6", |s| sockets(s, Kind::Dgram, true)),
];

/// An address as Linux prints a `__be32`/`in6_addr` with %08X: each 32-bit word in host
/// (little-endian) order.
fn hex_addr(a: IpAddress) -> String {
    let words = |b: &[u8]| {
        b.chunks(4)
            .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
            .collect::<String>()
    };
    match a {
        IpAddress::Ipv4(v) => words(&v.octets()),
        IpAddress::Ipv6(v) => words(&v.octets()),
    }
}

fn hex_endpoint(e: IpEndpoint) -> String {
    format!("{}:{:04X}", hex_addr(e.addr), e.port)
}

/// The sockets of one kind and family, each as `ProcEntry`.
fn entries(stack: &Stack, kind: Kind, v6: bool) -> Vec<ProcEntry> {
    let g = stack.lock();
    // Sockets are collected first and asked one at a time under the same lock; the Arcs
    // are dropped only after it is released (a last drop takes the lock itself).
    let socks: Vec<Arc<InetSocket>> = g
        .inet
        .values()
        .filter_map(|w| w.upgrade())
        .filter(|s| s.kind == kind && s.v6 == v6)
        .collect();
    let out = socks.iter().filter_map(|s| s.proc_entry(&g)).collect();
    drop(g);
    drop(socks);
    out
}

fn sockets(stack: &Stack, kind: Kind, v6: bool) -> String {
    let tcp = kind == Kind::Stream;
    // IPv4's lines are padded to a fixed width (TMPSZ - 1 for TCP, 127 for UDP); IPv6's
    // are not.
    let (addr_w, width) = match (v6, tcp) {
        (true, _) => (38, 0),
        (false, true) => (14, 149),
        (false, false) => (14, 127),
    };
    let mut out = String::new();
    let head_sl = if tcp || v6 { "  sl" } else { "   sl" };
    let _ = write!(
        out,
        "{head_sl}  {:<w$}{:<w$}st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "local_address",
        if v6 { "remote_address" } else { "rem_address" },
        w = addr_w,
    );
    if !tcp {
        out.push_str(" ref pointer drops");
    }
    pad(&mut out, width);
    let zero = if v6 {
        IpEndpoint::new(IpAddress::Ipv6(smoltcp::wire::Ipv6Address::UNSPECIFIED), 0)
    } else {
        IpEndpoint::new(IpAddress::v4(0, 0, 0, 0), 0)
    };
    for (i, e) in entries(stack, kind, v6).into_iter().enumerate() {
        let sl = if tcp {
            format!("{i:>4}")
        } else {
            format!("{i:>5}")
        };
        let _ = write!(
            out,
            "{sl}: {} {} {:02X} {:08X}:{:08X} 00:00000000 00000000 {:>5} {:>8} {}",
            hex_endpoint(e.local),
            hex_endpoint(e.remote.unwrap_or(zero)),
            e.state,
            e.tx_queue,
            e.rx_queue,
            e.uid,
            0,
            e.ino,
        );
        out.push_str(if tcp {
            " 1 0000000000000000 100 0 0 10 0"
        } else {
            " 2 0000000000000000 0"
        });
        pad(&mut out, width);
    }
    out
}

/// End a line, padded to `width` characters first as Linux's seq_pad does (0: no padding).
fn pad(out: &mut String, width: usize) {
    let line = out.len() - out.rfind('\n').map_or(0, |i| i + 1);
    for _ in line..width {
        out.push(' ');
    }
    out.push('\n');
}

fn dev(stack: &Stack) -> String {
    let g = stack.lock();
    let (lo, nic) = g.counters();
    let name = g.nic.as_ref().map(|n| n.name.clone());
    drop(g);
    let mut out = String::from(
        "Inter-|   Receive                                                |  Transmit\n \
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n",
    );
    let mut line = |name: &str, c: Counters| {
        let _ = writeln!(
            out,
            "{name:>6}: {:>7} {:>7} {:>4} {:>4} {:>4} {:>5} {:>10} {:>9} {:>8} {:>7} {:>4} {:>4} {:>4} {:>5} {:>7} {:>10}",
            c.rx_bytes, c.rx_packets, 0, 0, 0, 0, 0, 0, c.tx_bytes, c.tx_packets, 0, 0, 0, 0, 0, 0
        );
    };
    line("lo", lo);
    if let Some(n) = name {
        line(&n, nic);
    }
    out
}

fn route(stack: &Stack) -> String {
    const RTF_UP: u32 = 0x1;
    const RTF_GATEWAY: u32 = 0x2;
    let g = stack.lock();
    let routes = g.routes();
    let name = g.nic.as_ref().map(|n| n.name.clone());
    drop(g);
    let mut out = String::from(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
    );
    pad(&mut out, 127);
    let Some(name) = name else { return out };
    for (net, gw) in routes {
        let IpCidr::Ipv4(net) = net else { continue };
        let gw = match gw {
            Some(IpAddress::Ipv4(a)) => Some(a),
            Some(_) => continue,
            None => None,
        };
        let flags = RTF_UP | if gw.is_some() { RTF_GATEWAY } else { 0 };
        let mask = u32::MAX
            .checked_shl(32 - net.prefix_len() as u32)
            .unwrap_or(0)
            .to_be_bytes();
        let _ = write!(
            out,
            "{name}\t{}\t{}\t{flags:04X}\t0\t0\t0\t{}\t0\t0\t0",
            hex_addr(IpAddress::Ipv4(net.address())),
            hex_addr(IpAddress::Ipv4(
                gw.unwrap_or(smoltcp::wire::Ipv4Address::UNSPECIFIED)
            )),
            hex_addr(IpAddress::v4(mask[0], mask[1], mask[2], mask[3])),
        );
        pad(&mut out, 127);
    }
    out
}

fn if_inet6(stack: &Stack) -> String {
    const IFA_F_PERMANENT: u8 = 0x80;
    let g = stack.lock();
    let nic = g.nic.clone();
    drop(g);
    let mut out = String::new();
    let mut line = |a: std::net::Ipv6Addr, index: u32, prefix: u8, name: &str| {
        // Scope as IPV6_ADDR_SCOPE_*: host 0x10, link 0x20, global 0.
        let scope = if a.is_loopback() {
            0x10
        } else if a.segments()[0] & 0xffc0 == 0xfe80 {
            0x20
        } else {
            0
        };
        let hex: String = a.octets().iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(
            out,
            "{hex} {index:02x} {prefix:02x} {scope:02x} {IFA_F_PERMANENT:02x} {name:>8}"
        );
    };
    line(
        std::net::Ipv6Addr::LOCALHOST,
        super::netlink::LO_INDEX,
        128,
        "lo",
    );
    if let Some(n) = nic {
        for (a, p) in &n.addrs {
            if let std::net::IpAddr::V6(a) = a {
                line(*a, super::netlink::NIC_INDEX, *p, &n.name);
            }
        }
    }
    out
}
