//! Sandbox networking, the host's side: in the container's network namespace, read each
//! interface's addresses, routes and MAC, take the addresses away from the host kernel (so
//! that it neither answers ARP for them nor resets connections to them) and open a packet
//! socket on the interface for the sentry, whose own stack then owns those addresses.

use std::fs::File;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use anyhow::{bail, Context};
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkLayerType, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{self, AddressFamily as Af, MsgFlags, NetlinkAddr, SockFlag, SockProtocol};

/// Take over the interfaces of network namespace `ns` (each one that is up and not loopback).
/// The calling thread enters the namespace and comes back.
pub fn take_interfaces(ns: &Path) -> anyhow::Result<Vec<sentry::NicConfig>> {
    let target = File::open(ns)
        .with_context(|| format!("linux.namespaces: network namespace {}", ns.display()))?;
    let home = File::open("/proc/thread-self/ns/net").context("our network namespace")?;
    setns(target.as_fd(), CloneFlags::CLONE_NEWNET)
        .with_context(|| format!("entering network namespace {}", ns.display()))?;
    let taken = take_all();
    setns(home.as_fd(), CloneFlags::CLONE_NEWNET)
        .context("leaving the container's network namespace")?;
    taken.with_context(|| format!("network namespace {}", ns.display()))
}

/// Join network namespace `ns` for good (`--network host` with a namespace in the spec):
/// the threads started from here on, the sentry's, make their host sockets there.
pub fn join(ns: &Path) -> anyhow::Result<()> {
    let target = File::open(ns)
        .with_context(|| format!("linux.namespaces: network namespace {}", ns.display()))?;
    setns(target.as_fd(), CloneFlags::CLONE_NEWNET)
        .with_context(|| format!("entering network namespace {}", ns.display()))
}

fn take_all() -> anyhow::Result<Vec<sentry::NicConfig>> {
    let nl = Netlink::open()?;
    let links = nl.dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))?;
    let mut addr_req = AddressMessage::default();
    addr_req.header.family = AddressFamily::Unspec;
    let addrs = nl.dump(RouteNetlinkMessage::GetAddress(addr_req))?;
    let mut routes = Vec::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut r = RouteMessage::default();
        r.header.address_family = family;
        routes.extend(nl.dump(RouteNetlinkMessage::GetRoute(r))?);
    }
    let mut nics = Vec::new();
    for m in links {
        let RouteNetlinkMessage::NewLink(link) = m else {
            continue;
        };
        let h = &link.header;
        if h.link_layer_type != LinkLayerType::Ether || !h.flags.contains(LinkFlags::Up) {
            continue;
        }
        let index = h.index;
        let mut name = String::new();
        let mut mac = None;
        let mut mtu = 1500;
        for a in &link.attributes {
            match a {
                LinkAttribute::IfName(n) => name = n.clone(),
                LinkAttribute::Address(a) if a.len() == 6 => {
                    let mut m = [0u8; 6];
                    m.copy_from_slice(a);
                    mac = Some(m);
                }
                LinkAttribute::Mtu(m) => mtu = *m,
                _ => {}
            }
        }
        let Some(mac) = mac else { continue };
        if !nics.is_empty() {
            // The stack holds one interface so far: the others stay the host's.
            tracing::warn!(%name, "left to the host: the sandbox takes one interface");
            continue;
        }
        let mine: Vec<&AddressMessage> = addrs
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) if a.header.index == index => Some(a),
                _ => None,
            })
            .collect();
        let mut nic_addrs = Vec::new();
        for a in &mine {
            let addr = a.attributes.iter().find_map(|x| match x {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            });
            let addr = addr.or_else(|| {
                a.attributes.iter().find_map(|x| match x {
                    AddressAttribute::Address(ip) => Some(*ip),
                    _ => None,
                })
            });
            match addr {
                // Link-local IPv6 addresses stay the host's (they go with IPv6 below).
                Some(IpAddr::V6(v6)) if v6.segments()[0] & 0xffc0 == 0xfe80 => {}
                Some(ip) => nic_addrs.push((ip, a.header.prefix_len)),
                None => {}
            }
        }
        if nic_addrs.is_empty() {
            continue;
        }
        let gateways = routes
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r) if r.header.destination_prefix_length == 0 => {
                    Some(r)
                }
                _ => None,
            })
            .filter(|r| r.attributes.contains(&RouteAttribute::Oif(index)))
            .filter_map(|r| {
                r.attributes.iter().find_map(|a| match a {
                    RouteAttribute::Gateway(RouteAddress::Inet(g)) => Some(IpAddr::V4(*g)),
                    RouteAttribute::Gateway(RouteAddress::Inet6(g)) => Some(IpAddr::V6(*g)),
                    _ => None,
                })
            })
            .collect();
        // The socket first: if it cannot be had, the host keeps its addresses.
        let packet = platform::host::packet_socket(index)
            .with_context(|| format!("packet socket on {name}"))?;
        for a in &mine {
            nl.request(RouteNetlinkMessage::DelAddress((*a).clone()))
                .with_context(|| format!("removing the host's addresses from {name}"))?;
        }
        // No IPv6 of the host's own on it either (link-local addresses, router solicitations).
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1");
        tracing::info!(%name, ?nic_addrs, ?gateways, "the sandbox's stack takes the interface");
        nics.push(sentry::NicConfig {
            info: sentry::NicInfo {
                name,
                mac,
                mtu,
                addrs: nic_addrs,
                gateways,
            },
            packet,
        });
    }
    Ok(nics)
}

/// A NETLINK_ROUTE socket of the calling thread's network namespace.
struct Netlink {
    fd: OwnedFd,
    seq: std::cell::Cell<u32>,
}

impl Netlink {
    fn open() -> anyhow::Result<Netlink> {
        let fd = socket::socket(
            Af::Netlink,
            socket::SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkRoute,
        )
        .context("netlink socket")?;
        Ok(Netlink {
            fd,
            seq: std::cell::Cell::new(1),
        })
    }

    fn send(&self, msg: RouteNetlinkMessage, flags: u16) -> anyhow::Result<u32> {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = seq;
        let mut m = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        m.finalize();
        let mut buf = vec![0u8; m.buffer_len()];
        m.serialize(&mut buf);
        socket::sendto(
            self.fd.as_raw_fd(),
            &buf,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )
        .context("netlink send")?;
        Ok(seq)
    }

    /// The replies to request `seq` until its end (NLMSG_DONE, or the error/ack message).
    fn replies(&self, seq: u32) -> anyhow::Result<Vec<RouteNetlinkMessage>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = socket::recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::empty())
                .context("netlink receive")?;
            let mut off = 0;
            while off < n {
                let m = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[off..n])
                    .context("netlink reply")?;
                let len = m.header.length as usize;
                if len == 0 {
                    bail!("netlink reply of length 0");
                }
                off += (len + 3) & !3;
                if m.header.sequence_number != seq {
                    continue;
                }
                match m.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => match e.code {
                        None => return Ok(out),
                        Some(c) => bail!("{}", std::io::Error::from_raw_os_error(-c.get())),
                    },
                    NetlinkPayload::InnerMessage(i) => out.push(i),
                    _ => {}
                }
            }
        }
    }

    fn dump(&self, msg: RouteNetlinkMessage) -> anyhow::Result<Vec<RouteNetlinkMessage>> {
        let seq = self.send(msg, NLM_F_REQUEST | NLM_F_DUMP)?;
        self.replies(seq)
    }

    fn request(&self, msg: RouteNetlinkMessage) -> anyhow::Result<()> {
        let seq = self.send(msg, NLM_F_REQUEST | NLM_F_ACK)?;
        self.replies(seq).map(|_| ())
    }
}
