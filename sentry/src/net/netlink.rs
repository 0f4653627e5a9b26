//! NETLINK_ROUTE sockets: the dumps of links, addresses and routes that `ip addr`, `ip link`,
//! `ip route` and glibc's `getifaddrs` ask for, answered from the sandbox's interfaces
//! (loopback, and the interface the stack took over). Requests to change them are refused
//! (EOPNOTSUPP), as the sandbox's network is set up from outside.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use netlink_packet_core::{
    DoneMessage, ErrorMessage, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK,
    NLM_F_DUMP, NLM_F_MULTIPART, NLM_F_REQUEST,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressHeaderFlags, AddressMessage, AddressScope,
};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkLayerType, LinkMessage, State};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::stack::NicInfo;
use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;
use crate::vfs::{FileOps, Stat};

/// Index of the loopback interface; the taken-over interface is the next.
pub const LO_INDEX: u32 = 1;
pub const NIC_INDEX: u32 = 2;
/// Loopback's MTU as Linux reports it.
const LO_MTU: u32 = 65536;
/// The main routing table.
const RT_TABLE_MAIN: u8 = 254;
/// Most bytes of dump messages per datagram (Linux fills about a page per read).
const DUMP_CHUNK: usize = 4096;
/// Default socket buffer sizes reported (net.core.rmem_default / wmem_default).
const BUF_DEFAULT: u32 = 212_992;

pub struct NetlinkSocket {
    /// SOCK_RAW or SOCK_DGRAM (the same here, as in Linux).
    pub ty: i32,
    nic: Option<NicInfo>,
    st: Mutex<St>,
    queue: WaitQueue,
    dev: u64,
    ino: u64,
}

struct St {
    /// The port id (0 until bound).
    port: u32,
    groups: u32,
    /// Reply datagrams waiting to be read.
    replies: VecDeque<Vec<u8>>,
    rcvbuf: u32,
    sndbuf: u32,
}

/// Port ids in use in this sandbox (a process's first socket gets its pid, as in Linux; others
/// a unique negative number).
static PORTS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

impl NetlinkSocket {
    pub fn new(ty: i32, nic: Option<NicInfo>, dev: u64, ino: u64) -> Arc<NetlinkSocket> {
        Arc::new(NetlinkSocket {
            ty,
            nic,
            st: Mutex::new(St {
                port: 0,
                groups: 0,
                replies: VecDeque::new(),
                rcvbuf: BUF_DEFAULT,
                sndbuf: BUF_DEFAULT,
            }),
            queue: WaitQueue::default(),
            dev,
            ino,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, St> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// bind(2): `port` 0 picks one (`tgid` if free); a port taken is EADDRINUSE.
    pub fn bind(&self, port: u32, groups: u32, tgid: u32) -> Result<(), Errno> {
        let mut st = self.lock();
        if st.port != 0 {
            if port != 0 && port != st.port {
                return Err(Errno::EINVAL);
            }
            st.groups = groups;
            return Ok(());
        }
        st.port = claim(port, tgid)?;
        st.groups = groups;
        Ok(())
    }

    /// (port, groups) for getsockname.
    pub fn name(&self) -> (u32, u32) {
        let st = self.lock();
        (st.port, st.groups)
    }

    pub fn set_buf(&self, rcv: bool, v: u32) {
        let mut st = self.lock();
        // Linux doubles the value asked for (the bookkeeping overhead), within its limits.
        let v = v.clamp(1024, 1 << 30).saturating_mul(2);
        if rcv {
            st.rcvbuf = v;
        } else {
            st.sndbuf = v;
        }
    }

    pub fn buf(&self, rcv: bool) -> u32 {
        let st = self.lock();
        if rcv {
            st.rcvbuf
        } else {
            st.sndbuf
        }
    }

    /// A datagram from the application: the requests in it are answered into the receive
    /// queue. Autobinds like Linux's first send.
    pub fn send(&self, data: &[u8], tgid: u32) -> Result<usize, Errno> {
        let mut st = self.lock();
        if st.port == 0 {
            st.port = claim(0, tgid)?;
        }
        let port = st.port;
        let mut off = 0;
        while data.len() - off >= 16 {
            let len = u32::from_ne_bytes([data[off], data[off + 1], data[off + 2], data[off + 3]])
                as usize;
            if len < 16 || len > data.len() - off {
                break;
            }
            let msg = &data[off..off + len];
            for r in self.answer(msg, port) {
                st.replies.push_back(r);
            }
            off += (len + 3) & !3;
        }
        drop(st);
        self.queue.notify_all();
        Ok(data.len())
    }

    /// The next reply datagram (`peek` leaves it queued); EAGAIN if none.
    pub fn recv(&self, peek: bool) -> Result<Vec<u8>, Errno> {
        let mut st = self.lock();
        let r = if peek {
            st.replies.front().cloned()
        } else {
            st.replies.pop_front()
        };
        r.ok_or(Errno::EAGAIN)
    }

    pub fn queue(&self) -> &WaitQueue {
        &self.queue
    }

    /// The replies to one request message.
    fn answer(&self, msg: &[u8], port: u32) -> Vec<Vec<u8>> {
        let header_of = |m: &[u8]| {
            let ty = u16::from_ne_bytes([m[4], m[5]]);
            let flags = u16::from_ne_bytes([m[6], m[7]]);
            let seq = u32::from_ne_bytes([m[8], m[9], m[10], m[11]]);
            (ty, flags, seq)
        };
        let (ty, flags, seq) = header_of(msg);
        if flags & NLM_F_REQUEST == 0 {
            return Vec::new();
        }
        let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(msg);
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let reply = |payload: NetlinkPayload<RouteNetlinkMessage>, multi: bool| {
            let mut h = NetlinkHeader::default();
            h.sequence_number = seq;
            h.port_number = port;
            if multi {
                h.flags = NLM_F_MULTIPART;
            }
            let mut m = NetlinkMessage::new(h, payload);
            m.finalize();
            let mut b = vec![0u8; m.buffer_len()];
            m.serialize(&mut b);
            b
        };
        let error = |code: i32| {
            let mut e = ErrorMessage::default();
            e.code = std::num::NonZeroI32::new(-code);
            e.header = msg[..16].to_vec();
            reply(NetlinkPayload::Error(e), false)
        };
        let req = match parsed {
            Ok(NetlinkMessage {
                payload: NetlinkPayload::InnerMessage(r),
                ..
            }) => r,
            // A message the parser does not know: refused, as Linux does unknown types.
            _ => return vec![error(if ty < 16 { 0 } else { libc::EOPNOTSUPP })],
        };
        let items: Vec<RouteNetlinkMessage> = match &req {
            RouteNetlinkMessage::GetLink(l) => {
                let all = self.links();
                if dump {
                    all
                } else {
                    let name = l.attributes.iter().find_map(|a| match a {
                        LinkAttribute::IfName(n) => Some(n.clone()),
                        _ => None,
                    });
                    let found = all.into_iter().find(|m| match m {
                        RouteNetlinkMessage::NewLink(x) => {
                            (l.header.index != 0 && x.header.index == l.header.index)
                                || name.as_ref().is_some_and(|n| {
                                    x.attributes.contains(&LinkAttribute::IfName(n.clone()))
                                })
                        }
                        _ => false,
                    });
                    match found {
                        Some(m) => vec![m],
                        None => return vec![error(libc::ENODEV)],
                    }
                }
            }
            RouteNetlinkMessage::GetAddress(a) if dump => self.addresses(a.header.family),
            RouteNetlinkMessage::GetRoute(r) if dump => self.routes(r.header.address_family),
            RouteNetlinkMessage::GetAddress(_) | RouteNetlinkMessage::GetRoute(_) => {
                return vec![error(libc::EOPNOTSUPP)]
            }
            _ => return vec![error(libc::EOPNOTSUPP)],
        };
        if !dump {
            let mut out: Vec<Vec<u8>> = items
                .into_iter()
                .map(|i| reply(NetlinkPayload::InnerMessage(i), false))
                .collect();
            if flags & NLM_F_ACK != 0 {
                out.push(error(0));
            }
            return out;
        }
        // A dump: datagrams of whole messages, then NLMSG_DONE.
        let mut out = Vec::new();
        let mut cur: Vec<u8> = Vec::new();
        for i in items {
            let m = reply(NetlinkPayload::InnerMessage(i), true);
            if !cur.is_empty() && cur.len() + m.len() > DUMP_CHUNK {
                out.push(std::mem::take(&mut cur));
            }
            cur.extend_from_slice(&m);
        }
        let done = reply(NetlinkPayload::Done(DoneMessage::default()), true);
        if !cur.is_empty() && cur.len() + done.len() > DUMP_CHUNK {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend_from_slice(&done);
        out.push(cur);
        out
    }

    fn links(&self) -> Vec<RouteNetlinkMessage> {
        let mut lo = LinkMessage::default();
        lo.header.index = LO_INDEX;
        lo.header.link_layer_type = LinkLayerType::Loopback;
        lo.header.flags =
            LinkFlags::Up | LinkFlags::Loopback | LinkFlags::Running | LinkFlags::LowerUp;
        lo.attributes = vec![
            LinkAttribute::IfName("lo".into()),
            LinkAttribute::Mtu(LO_MTU),
            LinkAttribute::TxQueueLen(1000),
            LinkAttribute::OperState(State::Unknown),
            LinkAttribute::Address(vec![0; 6]),
            LinkAttribute::Broadcast(vec![0; 6]),
        ];
        let mut out = vec![RouteNetlinkMessage::NewLink(lo)];
        if let Some(n) = &self.nic {
            let mut l = LinkMessage::default();
            l.header.index = NIC_INDEX;
            l.header.link_layer_type = LinkLayerType::Ether;
            l.header.flags = LinkFlags::Up
                | LinkFlags::Broadcast
                | LinkFlags::Running
                | LinkFlags::Multicast
                | LinkFlags::LowerUp;
            l.attributes = vec![
                LinkAttribute::IfName(n.name.clone()),
                LinkAttribute::Mtu(n.mtu),
                LinkAttribute::TxQueueLen(1000),
                LinkAttribute::OperState(State::Up),
                LinkAttribute::Address(n.mac.to_vec()),
                LinkAttribute::Broadcast(vec![0xff; 6]),
            ];
            out.push(RouteNetlinkMessage::NewLink(l));
        }
        out
    }

    /// Every address, with the interface it is on: loopback's, then the interface's.
    fn all_addrs(&self) -> Vec<(u32, &str, IpAddr, u8)> {
        let mut v: Vec<(u32, &str, IpAddr, u8)> = vec![
            (LO_INDEX, "lo", IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8),
            (
                LO_INDEX,
                "lo",
                IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
                128,
            ),
        ];
        if let Some(n) = &self.nic {
            for &(a, p) in &n.addrs {
                v.push((NIC_INDEX, &n.name, a, p));
            }
        }
        v
    }

    fn addresses(&self, family: AddressFamily) -> Vec<RouteNetlinkMessage> {
        self.all_addrs()
            .into_iter()
            .filter(|(_, _, a, _)| wanted(family, a))
            .map(|(index, name, a, prefix)| {
                let mut m = AddressMessage::default();
                m.header.family = family_of(&a);
                m.header.prefix_len = prefix;
                m.header.index = index;
                m.header.flags = AddressHeaderFlags::Permanent;
                m.header.scope = if index == LO_INDEX {
                    AddressScope::Host
                } else {
                    AddressScope::Universe
                };
                m.attributes.push(AddressAttribute::Address(a));
                if let IpAddr::V4(v4) = a {
                    m.attributes.push(AddressAttribute::Local(a));
                    if prefix < 31 && index != LO_INDEX {
                        let mask = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
                        let b = std::net::Ipv4Addr::from(u32::from(v4) | mask);
                        m.attributes.push(AddressAttribute::Broadcast(b));
                    }
                    m.attributes.push(AddressAttribute::Label(name.to_string()));
                }
                RouteNetlinkMessage::NewAddress(m)
            })
            .collect()
    }

    fn routes(&self, family: AddressFamily) -> Vec<RouteNetlinkMessage> {
        let mut out = Vec::new();
        let Some(n) = &self.nic else { return out };
        let route =
            |dst: Option<(IpAddr, u8)>, gw: Option<IpAddr>, src: Option<IpAddr>, v6: bool| {
                let mut m = RouteMessage::default();
                m.header.address_family = if v6 {
                    AddressFamily::Inet6
                } else {
                    AddressFamily::Inet
                };
                m.header.table = RT_TABLE_MAIN;
                m.header.kind = RouteType::Unicast;
                m.header.protocol = if gw.is_some() {
                    RouteProtocol::Boot
                } else {
                    RouteProtocol::Kernel
                };
                m.header.scope = if gw.is_some() {
                    RouteScope::Universe
                } else {
                    RouteScope::Link
                };
                m.attributes
                    .push(RouteAttribute::Table(u32::from(RT_TABLE_MAIN)));
                if let Some((d, p)) = dst {
                    m.header.destination_prefix_length = p;
                    m.attributes
                        .push(RouteAttribute::Destination(route_addr(d)));
                }
                if let Some(s) = src {
                    m.attributes.push(RouteAttribute::PrefSource(route_addr(s)));
                }
                if let Some(g) = gw {
                    m.attributes.push(RouteAttribute::Gateway(route_addr(g)));
                }
                m.attributes.push(RouteAttribute::Oif(NIC_INDEX));
                RouteNetlinkMessage::NewRoute(m)
            };
        for &g in &n.gateways {
            if wanted(family, &g) {
                out.push(route(None, Some(g), None, g.is_ipv6()));
            }
        }
        for &(a, p) in &n.addrs {
            if wanted(family, &a) {
                out.push(route(Some((network(a, p), p)), None, Some(a), a.is_ipv6()));
            }
        }
        out
    }
}

fn wanted(family: AddressFamily, a: &IpAddr) -> bool {
    family == AddressFamily::Unspec || family == family_of(a)
}

fn family_of(a: &IpAddr) -> AddressFamily {
    if a.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    }
}

fn route_addr(a: IpAddr) -> RouteAddress {
    match a {
        IpAddr::V4(v) => RouteAddress::Inet(v),
        IpAddr::V6(v) => RouteAddress::Inet6(v),
    }
}

/// The network part of `a`/`prefix`.
fn network(a: IpAddr, prefix: u8) -> IpAddr {
    match a {
        IpAddr::V4(v) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            IpAddr::V4((u32::from(v) & mask).into())
        }
        IpAddr::V6(v) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            IpAddr::V6((u128::from(v) & mask).into())
        }
    }
}

/// A port id for a new binding: `want` if given and free, else the process id if free, else
/// a unique negative number (as Linux's autobind).
fn claim(want: u32, tgid: u32) -> Result<u32, Errno> {
    let mut ports = PORTS.lock().unwrap_or_else(|e| e.into_inner());
    let p = if want != 0 {
        if ports.contains(&want) {
            return Err(Errno::EADDRINUSE);
        }
        want
    } else if tgid != 0 && !ports.contains(&tgid) {
        tgid
    } else {
        let mut p = u32::MAX - 4096;
        while ports.contains(&p) {
            p -= 1;
        }
        p
    };
    ports.push(p);
    Ok(p)
}

impl Drop for NetlinkSocket {
    fn drop(&mut self) {
        let port = self.st.get_mut().unwrap_or_else(|e| e.into_inner()).port;
        if port != 0 {
            PORTS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|&p| p != port);
        }
    }
}

impl FileOps for NetlinkSocket {
    fn into_any_arc(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }

    fn read(&self, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        let d = self.recv(false)?;
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Ok(n)
    }

    fn write(&self, buf: &[u8], _: u64) -> Result<usize, Errno> {
        self.send(buf, 0)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(super::socket_stat(self.dev, self.ino))
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn readiness(&self) -> u32 {
        let ready = !self.lock().replies.is_empty();
        libc::POLLOUT as u32 | if ready { libc::POLLIN as u32 } else { 0 }
    }
}
