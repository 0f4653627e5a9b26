//! The sentry's TCP/IP stack: smoltcp behind one lock, with a loopback interface (127.0.0.1/8
//! and ::1). Every socket operation runs the stack to quiescence before it returns (loopback
//! packets are delivered at once, so a connect or a send has reached the peer socket by then);
//! a timer thread runs it when smoltcp asks to be polled later (retransmits, delayed ACKs,
//! TIME-WAIT). After each run, the sockets whose state changed have their wait queues notified.

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Duration;

use nix::sys::socket::MsgFlags;
use smoltcp::iface::{Config, Interface, PollResult, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::Instant as SInstant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint, Ipv6Address};

use crate::kernel::wait::WaitQueue;

/// Loopback MTU (Linux's `lo` has 65536).
const LOOPBACK_MTU: usize = 65535;
/// Default socket buffers: Linux's tcp_rmem/tcp_wmem defaults are 128 KiB and 16 KiB, but
/// those grow with autotuning; smoltcp's do not, so start where a loopback stream is not
/// window-bound.
pub const TCP_BUF: usize = 256 * 1024;
/// UDP: payload bytes and datagrams queued per socket.
pub const UDP_BUF: usize = 212_992;
const UDP_PACKETS: usize = 256;
/// Ephemeral ports: /proc/sys/net/ipv4/ip_local_port_range's default.
pub const EPHEMERAL: std::ops::RangeInclusive<u16> = 32768..=60999;
/// The owner of orphans that hold no port claim of their own (connections a listener never
/// handed out).
pub const NO_OWNER: u64 = 0;
/// Most loops of polling one operation runs before leaving the rest to the timer thread.
const MAX_ROUNDS: usize = 4096;

/// An interface the stack takes over (sandbox networking): what it is, and a packet socket
/// bound to it on the host, through which its Ethernet frames come and go.
pub struct NicConfig {
    pub info: NicInfo,
    pub packet: OwnedFd,
}

/// An interface as the stack sets it up and the application is told of it (netlink, ioctls):
/// name, hardware address, MTU, addresses with prefix lengths, default gateways.
#[derive(Clone, Debug)]
pub struct NicInfo {
    pub name: String,
    pub mac: [u8; 6],
    pub mtu: u32,
    pub addrs: Vec<(std::net::IpAddr, u8)>,
    pub gateways: Vec<std::net::IpAddr>,
}

/// The stack's device. Loopback only: IP packets, and what is transmitted is received. With
/// an interface: Ethernet frames; those for our own hardware address, and our ARP and
/// neighbour solicitations for our own addresses, come back in (that is how loopback works
/// here); the rest goes out on the packet socket.
struct Link {
    queue: VecDeque<Vec<u8>>,
    /// Packet and byte counts, for /proc/net/dev: loopback's, and the interface's.
    pub lo: Counters,
    pub nic: Counters,
    wire: Option<Wire>,
    /// ICMP errors about our UDP datagrams seen going in, for the stack to hand out.
    icmp: Vec<super::icmp::UdpError>,
    /// Ports and families no listener takes a SYN for (see `refuse`).
    refused: Vec<super::refuse::Refused>,
}

/// An interface's traffic: what /proc/net/dev shows.
#[derive(Clone, Copy, Default, Debug)]
pub struct Counters {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
}

impl Counters {
    fn count(&mut self, rx: bool, len: usize) {
        let (p, b) = if rx {
            (&mut self.rx_packets, &mut self.rx_bytes)
        } else {
            (&mut self.tx_packets, &mut self.tx_bytes)
        };
        *p += 1;
        *b += len as u64;
    }
}

/// At most this many ICMP errors wait between two runs of the stack (a flood is cut short).
const MAX_ICMP_PENDING: usize = 64;

struct Wire {
    fd: Arc<OwnedFd>,
    mac: EthernetAddress,
    /// Our addresses: solicitations for them are answered by ourselves.
    local: Vec<IpAddress>,
    mtu: usize,
}

const ETH_HEADER: usize = 14;

fn random_port() -> u16 {
    let mut b = [0u8; 2];
    platform::host::getrandom(&mut b);
    let span = EPHEMERAL.end() - EPHEMERAL.start() + 1;
    EPHEMERAL.start() + u16::from_le_bytes(b) % span
}

pub fn is_loopback(a: &IpAddress) -> bool {
    match a {
        IpAddress::Ipv4(v) => v.is_loopback(),
        IpAddress::Ipv6(v) => v.is_loopback(),
    }
}

impl Wire {
    /// Where a frame we transmit goes: Some(true) back to us, Some(false) to the wire, None
    /// nowhere (a solicitation for a loopback address nobody holds).
    fn route(&self, f: &[u8]) -> Option<bool> {
        if f.len() < ETH_HEADER {
            return None;
        }
        if f[..6] == self.mac.0 {
            return Some(true);
        }
        // The stack takes any address routed to it (all of 127.0.0.0/8), so it would answer
        // ARP for every address of the wire's network: only replies for our own go out.
        let arp = u16::from_be_bytes([f[12], f[13]]) == 0x0806 && f.len() >= ETH_HEADER + 28;
        if arp && f[ETH_HEADER + 6..ETH_HEADER + 8] == [0, 2] {
            let s = &f[ETH_HEADER + 14..ETH_HEADER + 18];
            return self
                .local
                .contains(&IpAddress::v4(s[0], s[1], s[2], s[3]))
                .then_some(false);
        }
        if f[0] & 1 == 0 {
            return Some(false);
        }
        // Broadcast or multicast: an ARP request or a neighbour solicitation may be ours.
        let target = match u16::from_be_bytes([f[12], f[13]]) {
            0x0806 if f.len() >= ETH_HEADER + 28 => {
                let t = &f[ETH_HEADER + 24..ETH_HEADER + 28];
                Some(IpAddress::v4(t[0], t[1], t[2], t[3]))
            }
            // IPv6, ICMPv6 (next header 58) neighbour solicitation (type 135): its target.
            0x86dd if f.len() >= ETH_HEADER + 40 + 24 && f[ETH_HEADER + 6] == 58 => {
                let icmp = &f[ETH_HEADER + 40..];
                (icmp[0] == 135).then(|| {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(&icmp[8..24]);
                    IpAddress::Ipv6(Ipv6Address::from(a))
                })
            }
            _ => None,
        };
        match target {
            Some(t) if self.local.contains(&t) => Some(true),
            // 127.0.0.0/8 is all ours; IPv6 loopback is only ::1, which is in `local`.
            Some(IpAddress::Ipv4(t)) if t.is_loopback() => Some(true),
            Some(t) if is_loopback(&t) => None,
            _ => Some(false),
        }
    }

    fn send(&self, f: &[u8]) {
        if f.len() > self.mtu + ETH_HEADER {
            // Bigger than the wire takes (a loopback-sized datagram to another host): Linux
            // would fragment it; dropped here.
            tracing::debug!(
                len = f.len(),
                "frame larger than the interface's MTU dropped"
            );
            return;
        }
        // A full queue drops the frame, as a NIC would; TCP sends it again.
        let _ = nix::sys::socket::send(self.fd.as_raw_fd(), f, MsgFlags::MSG_DONTWAIT);
    }
}

struct LinkRx(Vec<u8>);
struct LinkTx<'a> {
    queue: &'a mut VecDeque<Vec<u8>>,
    wire: Option<&'a Wire>,
    lo: &'a mut Counters,
    nic: &'a mut Counters,
}

impl phy::RxToken for LinkRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for LinkTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut b = vec![0u8; len];
        let r = f(&mut b);
        match self.wire.map(|w| (w, w.route(&b))) {
            None | Some((_, Some(true))) => {
                // Linux's loopback counts an Ethernet header on each packet.
                let len = b.len() + if self.wire.is_none() { ETH_HEADER } else { 0 };
                self.lo.count(false, len);
                self.lo.count(true, len);
                self.queue.push_back(b)
            }
            Some((w, Some(false))) => {
                self.nic.count(false, b.len());
                w.send(&b)
            }
            Some((_, None)) => {}
        }
        r
    }
}

impl Link {
    /// The IP packet in a frame off the queue.
    fn ip_of<'a>(&self, f: &'a [u8]) -> Option<&'a [u8]> {
        match &self.wire {
            None => Some(f),
            Some(_) => match f.get(12..14) {
                Some([0x08, 0x00]) | Some([0x86, 0xdd]) => f.get(ETH_HEADER..),
                _ => None,
            },
        }
    }

    /// The reset for a SYN no listener's family takes, if `f` is one.
    fn refuse(&self, f: &[u8]) -> Option<Vec<u8>> {
        if self.refused.is_empty() {
            return None;
        }
        super::refuse::reset_for(self.ip_of(f)?, &self.refused)
    }

    /// Send IP packet `ip` back to where frame `to` came from.
    fn answer(&mut self, to: &[u8], ip: Vec<u8>) {
        let Some(w) = &self.wire else {
            self.lo.count(false, ip.len() + ETH_HEADER);
            self.lo.count(true, ip.len() + ETH_HEADER);
            self.queue.push_back(ip);
            return;
        };
        let mut f = Vec::with_capacity(ETH_HEADER + ip.len());
        f.extend_from_slice(&to[6..12]);
        f.extend_from_slice(&w.mac.0);
        f.extend_from_slice(&to[12..14]);
        f.extend_from_slice(&ip);
        if f[..6] == w.mac.0 {
            self.lo.count(false, f.len());
            self.lo.count(true, f.len());
            self.queue.push_back(f);
        } else {
            self.nic.count(false, f.len());
            w.send(&f);
        }
    }
}

impl Device for Link {
    type RxToken<'a> = LinkRx;
    type TxToken<'a> = LinkTx<'a>;

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        match &self.wire {
            None => {
                c.medium = Medium::Ip;
                c.max_transmission_unit = LOOPBACK_MTU;
                // Packets never leave the sandbox: no checksums to compute or verify.
                c.checksum = phy::ChecksumCapabilities::ignored();
            }
            Some(_) => {
                // Loopback traffic shares the device: its MTU stays loopback's; frames too
                // big for the wire are dropped there (TCP peers announce their MSS).
                c.medium = Medium::Ethernet;
                c.max_transmission_unit = LOOPBACK_MTU + ETH_HEADER;
                // Checksums are computed for what goes out; what comes in over a veth may
                // carry a partial one (checksum offload), so none is verified.
                let mut ck = phy::ChecksumCapabilities::ignored();
                ck.ipv4 = phy::Checksum::Tx;
                ck.udp = phy::Checksum::Tx;
                ck.tcp = phy::Checksum::Tx;
                ck.icmpv4 = phy::Checksum::Tx;
                ck.icmpv6 = phy::Checksum::Tx;
                c.checksum = ck;
            }
        }
        c
    }

    fn receive(&mut self, _: SInstant) -> Option<(LinkRx, LinkTx<'_>)> {
        let mut p = self.queue.pop_front()?;
        while let Some(rst) = self.refuse(&p) {
            self.answer(&p, rst);
            p = self.queue.pop_front()?;
        }
        if let Some(e) = self.ip_of(&p).and_then(super::icmp::udp_error) {
            if self.icmp.len() < MAX_ICMP_PENDING {
                self.icmp.push(e);
            }
        }
        Some((
            LinkRx(p),
            LinkTx {
                queue: &mut self.queue,
                wire: self.wire.as_ref(),
                lo: &mut self.lo,
                nic: &mut self.nic,
            },
        ))
    }

    fn transmit(&mut self, _: SInstant) -> Option<LinkTx<'_>> {
        Some(LinkTx {
            queue: &mut self.queue,
            wire: self.wire.as_ref(),
            lo: &mut self.lo,
            nic: &mut self.nic,
        })
    }
}

/// Whether a frame from the wire carries a loopback address (as source, destination, or
/// ARP's sender or target): Linux drops such martians on every interface but `lo`, and so
/// must we, or a neighbour could reach services bound to 127.0.0.1.
fn martian(f: &[u8]) -> bool {
    let v4 = |b: &[u8]| b.first() == Some(&127);
    let v6 = |b: &[u8]| <[u8; 16]>::try_from(b).is_ok_and(|a| Ipv6Address::from(a).is_loopback());
    let p = &f[ETH_HEADER.min(f.len())..];
    match u16::from_be_bytes([f[12], f[13]]) {
        0x0800 => v4(p.get(12..16).unwrap_or(&[])) || v4(p.get(16..20).unwrap_or(&[])),
        0x86dd => v6(p.get(8..24).unwrap_or(&[])) || v6(p.get(24..40).unwrap_or(&[])),
        0x0806 => v4(p.get(14..18).unwrap_or(&[])) || v4(p.get(24..28).unwrap_or(&[])),
        _ => false,
    }
}

/// The network a CIDR address is in: its address with the host bits cleared.
fn network(c: &IpCidr) -> IpCidr {
    match c {
        IpCidr::Ipv4(c) => IpCidr::Ipv4(c.network()),
        IpCidr::Ipv6(c) => {
            let bits = u128::from_be_bytes(c.address().octets());
            let mask = u128::MAX
                .checked_shl(128 - c.prefix_len() as u32)
                .unwrap_or(0);
            let a = Ipv6Address::from((bits & mask).to_be_bytes());
            IpCidr::new(IpAddress::Ipv6(a), c.prefix_len())
        }
    }
}

/// The interface's frames, received on its packet socket and run through the stack.
fn rx_loop(stack: Weak<Stack>, fd: Arc<OwnedFd>, mac: EthernetAddress) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut buf = vec![0u8; LOOPBACK_MTU + ETH_HEADER];
    loop {
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                tracing::error!("packet socket: {e}; the interface is down");
                return;
            }
        }
        let Some(s) = stack.upgrade() else { return };
        let mut g = s.lock();
        // A bounded batch per round: other operations get the lock in between.
        for _ in 0..256 {
            match nix::sys::socket::recv(fd.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT) {
                Ok(n) if n >= ETH_HEADER => {
                    let f = &buf[..n];
                    // Our own frames going out are seen here too; and only what is addressed
                    // to us (or to all) is ours.
                    if f[6..12] == mac.0 || (f[..6] != mac.0 && f[0] & 1 == 0) || martian(f) {
                        continue;
                    }
                    g.dev.nic.count(true, f.len());
                    g.dev.queue.push_back(f.to_vec());
                }
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(_) => break,
            }
        }
        s.settle(g);
    }
}

/// Transport protocol of a port binding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Proto {
    Tcp,
    Udp,
}

/// One claim on a port (bind, connect's ephemeral port, an accepted connection, a closing
/// connection in TIME-WAIT).
#[derive(Clone, Debug)]
pub struct Binding {
    pub owner: u64,
    /// The socket is AF_INET6.
    pub v6: bool,
    /// None: the wildcard address (IPv4-mapped addresses are stored as IPv4).
    pub addr: Option<IpAddress>,
    /// An IPv6 socket that also takes IPv4 (IPV6_V6ONLY off).
    pub dual: bool,
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub listening: bool,
}

impl Binding {
    /// Whether the binding takes traffic for `a`'s family.
    fn covers_family(&self, v4: bool) -> bool {
        if v4 {
            !self.v6 || self.dual
        } else {
            self.v6
        }
    }

    /// Whether two bindings of one port cover a common address.
    fn overlaps(&self, o: &Binding) -> bool {
        match (self.addr, o.addr) {
            (Some(a), Some(b)) => a == b,
            (None, Some(a)) => self.covers_family(matches!(a, IpAddress::Ipv4(_))),
            (Some(a), None) => o.covers_family(matches!(a, IpAddress::Ipv4(_))),
            (None, None) => {
                (self.covers_family(true) && o.covers_family(true))
                    || (self.covers_family(false) && o.covers_family(false))
            }
        }
    }

    /// Linux's bind conflict rule, simplified: overlapping bindings conflict unless both set
    /// SO_REUSEPORT, or both set SO_REUSEADDR and neither listens.
    fn conflicts(&self, o: &Binding) -> bool {
        let shared_port = self.reuseport && o.reuseport;
        let reusable = self.reuseaddr && o.reuseaddr && !o.listening && !self.listening;
        self.overlaps(o) && !shared_port && !reusable
    }
}

pub struct Stack {
    inner: Mutex<Inner>,
    /// Wakes the timer thread when a socket operation moved the next poll earlier.
    timer: Condvar,
}

pub struct Inner {
    iface: Interface,
    dev: Link,
    /// Default gateways (sandbox networking): other networks are reached through them.
    gateways: Vec<IpAddress>,
    /// The interface taken over, as netlink and ioctls describe it.
    pub nic: Option<NicInfo>,
    sockets: SocketSet<'static>,
    /// The handles in `sockets` and their protocol: smoltcp panics on a stale handle or one of
    /// the wrong type, so every access checks here first.
    live: HashMap<SocketHandle, Proto>,
    epoch: std::time::Instant,
    /// Port claims, per protocol and port.
    ports: HashMap<(Proto, u16), Vec<Binding>>,
    /// Sockets the stack must tell about changes: id → watch.
    watches: HashMap<u64, Watch>,
    /// TCP connections whose file is closed, finishing their close (FIN, TIME-WAIT); removed
    /// with their port claim once closed.
    orphans: Vec<(SocketHandle, Proto, u16, u64)>,
    next_ephemeral: u16,
    next_id: u64,
    /// When the timer thread means to poll next.
    timer_at: Option<std::time::Instant>,
    /// Listening sockets, by socket id.
    pub listeners: HashMap<u64, Listener>,
    /// The last ICMP error about each UDP socket's datagrams, until the socket looks.
    udp_errors: HashMap<SocketHandle, super::icmp::UdpError>,
    /// Every inet socket, by id, for /proc/net.
    pub inet: std::collections::BTreeMap<u64, std::sync::Weak<super::inet::InetSocket>>,
}

/// A listening socket's connections: smoltcp's TCP socket takes one connection, so a listener
/// keeps a pool of them listening on its port, refilled after every run of the stack (a SYN
/// nobody listens for would be reset).
pub struct Listener {
    pub backlog: usize,
    pub port: u16,
    pub addr: Option<IpAddress>,
    /// The families of connections it takes (smoltcp's wildcard listeners take both).
    pub takes_v4: bool,
    pub takes_v6: bool,
    pub nodelay: bool,
    /// smoltcp sockets listening for a SYN.
    pub pool: Vec<SocketHandle>,
    /// Sockets that took a SYN, in arrival order: accept takes the established ones.
    pub ready: VecDeque<SocketHandle>,
}

/// A socket's wait queue and what its waiters last saw.
struct Watch {
    queue: Weak<WaitQueue>,
    handles: Vec<SocketHandle>,
    seen: u64,
}

impl Stack {
    /// A stack with the loopback interface, and `nic` if the sandbox has one.
    pub fn new(nic: Option<NicConfig>) -> Arc<Stack> {
        let lo = [
            IpCidr::new(IpAddress::v4(127, 0, 0, 1), 8),
            IpCidr::new(IpAddress::Ipv6(Ipv6Address::LOCALHOST), 128),
        ];
        // The interface's addresses first: smoltcp takes the first IPv4 address as the
        // sender of its ARP requests, and a host drops a request from 127.0.0.1.
        let mut cidrs: Vec<IpCidr> = Vec::new();
        let mut gateways = Vec::new();
        let mut rx = None;
        let info = nic.as_ref().map(|n| n.info.clone());
        let wire = nic.map(|NicConfig { info: n, packet }| {
            cidrs.extend(n.addrs.iter().map(|&(a, p)| IpCidr::new(a.into(), p)));
            gateways = n.gateways.iter().map(|&g| IpAddress::from(g)).collect();
            let fd = Arc::new(packet);
            let mac = EthernetAddress(n.mac);
            rx = Some((fd.clone(), mac));
            Wire {
                fd,
                mac,
                local: cidrs.iter().chain(&lo).map(|c| c.address()).collect(),
                mtu: n.mtu as usize,
            }
        });
        cidrs.extend(lo);
        let hw = match &wire {
            Some(w) => HardwareAddress::Ethernet(w.mac),
            None => HardwareAddress::Ip,
        };
        let mut dev = Link {
            queue: VecDeque::new(),
            wire,
            icmp: Vec::new(),
            refused: Vec::new(),
            lo: Counters::default(),
            nic: Counters::default(),
        };
        let epoch = std::time::Instant::now();
        let mut iface = Interface::new(Config::new(hw), &mut dev, SInstant::from_micros(0));
        iface.update_ip_addrs(|a| {
            for c in &cidrs {
                if a.push(*c).is_err() {
                    tracing::warn!("address {c} left out: the interface holds 8 at most");
                }
            }
        });
        // All of 127.0.0.0/8 is ours, as on Linux: the stack takes packets for any address
        // routed through one of its own.
        iface.set_any_ip(true);
        let lo_net = smoltcp::iface::Route {
            cidr: IpCidr::new(IpAddress::v4(127, 0, 0, 0), 8),
            via_router: IpAddress::v4(127, 0, 0, 1),
            preferred_until: None,
            expires_at: None,
        };
        iface.routes_mut().update(|r| {
            let _ = r.push(lo_net);
        });
        for g in &gateways {
            let r = match *g {
                IpAddress::Ipv4(v4) => iface.routes_mut().add_default_ipv4_route(v4),
                IpAddress::Ipv6(v6) => iface.routes_mut().add_default_ipv6_route(v6),
            };
            if r.is_err() {
                tracing::warn!("default route via {g} left out: the route table is full");
            }
        }
        let s = Arc::new(Stack {
            inner: Mutex::new(Inner {
                iface,
                dev,
                gateways,
                nic: info,
                sockets: SocketSet::new(vec![]),
                live: HashMap::new(),
                epoch,
                ports: HashMap::new(),
                watches: HashMap::new(),
                orphans: Vec::new(),
                // A random start, as Linux's: a peer may still hold the last sandbox's
                // connections from the first ports in TIME-WAIT.
                next_ephemeral: random_port(),
                next_id: 1,
                timer_at: None,
                listeners: HashMap::new(),
                udp_errors: HashMap::new(),
                inet: Default::default(),
            }),
            timer: Condvar::new(),
        });
        let weak = Arc::downgrade(&s);
        let _ = std::thread::Builder::new()
            .name("net-timer".into())
            .spawn(move || timer_loop(weak));
        if let Some((fd, mac)) = rx {
            let weak = Arc::downgrade(&s);
            let _ = std::thread::Builder::new()
                .name("net-rx".into())
                .spawn(move || rx_loop(weak, fd, mac));
        }
        s
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run the stack after an operation and release the lock; wakes the timer thread if it
    /// must poll sooner than it meant to.
    pub fn settle(&self, mut g: MutexGuard<'_, Inner>) {
        g.run();
        let next = g.next_poll();
        let sooner = match (next, g.timer_at) {
            (Some(n), Some(t)) => n < t,
            (Some(_), None) => true,
            _ => false,
        };
        drop(g);
        if sooner {
            self.timer.notify_one();
        }
    }
}

fn timer_loop(stack: Weak<Stack>) {
    loop {
        let Some(s) = stack.upgrade() else { return };
        let mut g = s.lock();
        g.run();
        let next = g.next_poll();
        g.timer_at = next;
        let wait = match next {
            Some(at) => at.saturating_duration_since(std::time::Instant::now()),
            None => Duration::from_secs(1),
        };
        let (mut g, _) = s
            .timer
            .wait_timeout(g, wait.min(Duration::from_secs(1)))
            .unwrap_or_else(|e| e.into_inner());
        g.timer_at = None;
        drop(g);
        // Let the stack go when the last socket does (the Weak upgrade fails then).
        drop(s);
    }
}

impl Inner {
    fn now(&self) -> SInstant {
        SInstant::from_micros(self.epoch.elapsed().as_micros() as i64)
    }

    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Poll until nothing moves, then reap finished orphans and notify changed sockets.
    pub fn run(&mut self) {
        self.poll_until_quiet();
        self.route_icmp();
        let ids: Vec<u64> = self.listeners.keys().copied().collect();
        for id in ids {
            self.refill(id);
        }
        if self.reap_orphans() {
            // Resets to send for orphans that were just aborted.
            self.poll_until_quiet();
            self.reap_orphans();
        }
        self.notify_changed();
    }

    /// Poll smoltcp until it has nothing more to do and no packet waits (bounded).
    fn poll_until_quiet(&mut self) {
        for _ in 0..MAX_ROUNDS {
            let now = self.now();
            let r = self.iface.poll(now, &mut self.dev, &mut self.sockets);
            if r == PollResult::None && self.dev.queue.is_empty() {
                break;
            }
        }
    }

    /// A listener came or went: recompute which SYNs the stack refuses itself.
    pub fn listeners_changed(&mut self) {
        self.dev.refused = self.refused();
    }

    /// Ports with a wildcard listener and families no listener there takes.
    fn refused(&self) -> Vec<super::refuse::Refused> {
        let mut out = Vec::new();
        for l in self.listeners.values().filter(|l| l.addr.is_none()) {
            let on_port = || self.listeners.values().filter(|o| o.port == l.port);
            let takes = |v4: bool| {
                on_port().any(|o| match o.addr {
                    None => (v4 && o.takes_v4) || (!v4 && o.takes_v6),
                    Some(a) => matches!(a, IpAddress::Ipv4(_)) == v4,
                })
            };
            for v4 in [true, false] {
                let r = super::refuse::Refused { port: l.port, v4 };
                if !takes(v4) && !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// Hand ICMP errors to the UDP sockets on the port they are about.
    fn route_icmp(&mut self) {
        for e in std::mem::take(&mut self.dev.icmp) {
            let hits: Vec<SocketHandle> = self
                .live
                .iter()
                .filter(|(_, p)| **p == Proto::Udp)
                .map(|(h, _)| *h)
                .filter(|h| {
                    self.udp_ref(*h).is_some_and(|u| {
                        let ep = u.endpoint();
                        ep.port == e.local.port && ep.addr.is_none_or(|a| a == e.local.addr)
                    })
                })
                .collect();
            for h in hits {
                self.udp_errors.insert(h, e);
            }
        }
    }

    /// The ICMP error waiting for UDP socket `h`, taken.
    pub fn take_udp_error(&mut self, h: SocketHandle) -> Option<super::icmp::UdpError> {
        self.udp_errors.remove(&h)
    }

    fn next_poll(&mut self) -> Option<std::time::Instant> {
        let now = self.now();
        let d = self.iface.poll_delay(now, &self.sockets)?;
        Some(std::time::Instant::now() + Duration::from_micros(d.total_micros()))
    }

    /// Remove orphans whose connections are over; returns whether any was reset here (its
    /// RST is yet to be sent).
    fn reap_orphans(&mut self) -> bool {
        let mut aborted = false;
        let mut i = 0;
        while i < self.orphans.len() {
            let (h, proto, port, owner) = self.orphans[i];
            // Data for a closed socket has no reader: reset the connection, as Linux does.
            if let Some(t) = self.tcp(h) {
                if t.recv_queue() > 0 && t.state() != tcp::State::Closed {
                    t.abort();
                    aborted = true;
                    i += 1;
                    continue;
                }
            }
            if self.tcp_state(h) == tcp::State::Closed {
                self.remove(h);
                self.unbind(proto, port, owner);
                self.orphans.swap_remove(i);
            } else {
                i += 1;
            }
        }
        aborted
    }

    /// A fingerprint of what a waiter can observe of a socket.
    fn fingerprint(&self, handles: &[SocketHandle]) -> u64 {
        let mut f = 0u64;
        for &h in handles {
            let v = if let Some(s) = self.tcp_ref(h) {
                (s.state() as u64) | (s.recv_queue() as u64) << 8 | (s.send_queue() as u64) << 36
            } else if let Some(s) = self.udp_ref(h) {
                (s.recv_queue() as u64)
                    | (s.send_queue() as u64) << 32
                    | (self.udp_errors.contains_key(&h) as u64) << 63
            } else {
                0
            };
            f = f.rotate_left(13) ^ v;
        }
        f
    }

    fn notify_changed(&mut self) {
        let ids: Vec<u64> = self.watches.keys().copied().collect();
        let mut wake = Vec::new();
        for id in ids {
            let Some(w) = self.watches.get(&id) else {
                continue;
            };
            let f = self.fingerprint(&w.handles);
            if let Some(w) = self.watches.get_mut(&id) {
                if w.seen != f {
                    w.seen = f;
                    if let Some(q) = w.queue.upgrade() {
                        wake.push(q);
                    }
                }
            }
        }
        for q in wake {
            q.notify_all();
        }
    }

    /// Tell `queue` about changes to the smoltcp sockets `handles`.
    pub fn watch(&mut self, id: u64, queue: &Arc<WaitQueue>, handles: Vec<SocketHandle>) {
        let seen = self.fingerprint(&handles);
        self.watches.insert(
            id,
            Watch {
                queue: Arc::downgrade(queue),
                handles,
                seen,
            },
        );
    }

    /// Keep a listener's pool of listening sockets full; its watch follows the sockets it
    /// has, and what its waiters saw stays as it was (so a connection that arrived is news).
    pub fn refill(&mut self, id: u64) {
        let Some(mut l) = self.listeners.remove(&id) else {
            return;
        };
        // Sockets that took a SYN join the accept queue; those reset meanwhile go.
        let mut i = 0;
        while i < l.pool.len() {
            let h = l.pool[i];
            match self.tcp_state(h) {
                tcp::State::Listen => i += 1,
                tcp::State::Closed => {
                    self.remove(h);
                    l.pool.swap_remove(i);
                }
                _ => l.ready.push_back(l.pool.swap_remove(i)),
            }
        }
        // At least one listening socket, up to the backlog counting connections not
        // accepted yet.
        let want = l.backlog.saturating_sub(l.ready.len()).max(1);
        while l.pool.len() < want {
            let h = self.add_tcp();
            let ep = smoltcp::wire::IpListenEndpoint {
                addr: l.addr,
                port: l.port,
            };
            let ok = match self.tcp(h) {
                Some(t) => {
                    t.set_nagle_enabled(!l.nodelay);
                    t.listen(ep).is_ok()
                }
                None => false,
            };
            if !ok {
                self.remove(h);
                break;
            }
            l.pool.push(h);
        }
        let handles: Vec<SocketHandle> = l.pool.iter().chain(l.ready.iter()).copied().collect();
        if let Some(w) = self.watches.get_mut(&id) {
            w.handles = handles;
        }
        self.listeners.insert(id, l);
    }

    pub fn unwatch(&mut self, id: u64) {
        self.watches.remove(&id);
    }

    /// Start a TCP handshake from `local` to `remote`.
    pub fn tcp_connect(
        &mut self,
        h: SocketHandle,
        remote: IpEndpoint,
        local: smoltcp::wire::IpListenEndpoint,
    ) -> Result<(), tcp::ConnectError> {
        if self.live.get(&h) != Some(&Proto::Tcp) {
            return Err(tcp::ConnectError::InvalidState);
        }
        let cx = self.iface.context();
        self.sockets
            .get_mut::<tcp::Socket<'static>>(h)
            .connect(cx, remote, local)
    }

    /// Whether `addr` is one of the stack's own addresses.
    /// Whether `addr` is one of ours: the interfaces' addresses and all of 127.0.0.0/8.
    pub fn is_local(&self, addr: IpAddress) -> bool {
        self.iface.has_ip_addr(addr) || matches!(addr, IpAddress::Ipv4(a) if a.is_loopback())
    }

    /// A new TCP socket in the set.
    pub fn add_tcp(&mut self) -> SocketHandle {
        let s = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0u8; TCP_BUF]),
            tcp::SocketBuffer::new(vec![0u8; TCP_BUF]),
        );
        let h = self.sockets.add(s);
        self.live.insert(h, Proto::Tcp);
        h
    }

    pub fn add_udp(&mut self) -> SocketHandle {
        let buf = || {
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
                vec![0u8; UDP_BUF],
            )
        };
        let h = self.sockets.add(udp::Socket::new(buf(), buf()));
        self.live.insert(h, Proto::Udp);
        h
    }

    pub fn tcp_ref(&self, h: SocketHandle) -> Option<&tcp::Socket<'static>> {
        (self.live.get(&h) == Some(&Proto::Tcp))
            .then(|| self.sockets.get::<tcp::Socket<'static>>(h))
    }

    pub fn tcp(&mut self, h: SocketHandle) -> Option<&mut tcp::Socket<'static>> {
        (self.live.get(&h) == Some(&Proto::Tcp))
            .then(|| self.sockets.get_mut::<tcp::Socket<'static>>(h))
    }

    pub fn udp_ref(&self, h: SocketHandle) -> Option<&udp::Socket<'static>> {
        (self.live.get(&h) == Some(&Proto::Udp))
            .then(|| self.sockets.get::<udp::Socket<'static>>(h))
    }

    pub fn udp(&mut self, h: SocketHandle) -> Option<&mut udp::Socket<'static>> {
        (self.live.get(&h) == Some(&Proto::Udp))
            .then(|| self.sockets.get_mut::<udp::Socket<'static>>(h))
    }

    /// The state of a TCP socket (Closed for a handle that is gone).
    pub fn tcp_state(&self, h: SocketHandle) -> tcp::State {
        self.tcp_ref(h).map_or(tcp::State::Closed, |s| s.state())
    }

    /// Claim `port` (0: an ephemeral one) for `b`. Returns the port.
    pub fn bind(
        &mut self,
        proto: Proto,
        port: u16,
        b: Binding,
    ) -> Result<u16, crate::errno::Errno> {
        if port != 0 {
            let list = self.ports.entry((proto, port)).or_default();
            if list.iter().any(|o| o.owner != b.owner && b.conflicts(o)) {
                return Err(crate::errno::Errno::EADDRINUSE);
            }
            list.retain(|o| o.owner != b.owner);
            list.push(b);
            return Ok(port);
        }
        let span = (EPHEMERAL.end() - EPHEMERAL.start()) as u32 + 1;
        for _ in 0..span {
            let p = self.next_ephemeral;
            self.next_ephemeral = if p >= *EPHEMERAL.end() {
                *EPHEMERAL.start()
            } else {
                p + 1
            };
            if self.ports.get(&(proto, p)).is_none_or(|l| l.is_empty()) {
                self.ports.insert((proto, p), vec![b]);
                return Ok(p);
            }
        }
        Err(crate::errno::Errno::EADDRINUSE)
    }

    /// Record a claim without the conflict check: an accepted connection shares its
    /// listener's port.
    pub fn claim(&mut self, proto: Proto, port: u16, b: Binding) {
        self.ports.entry((proto, port)).or_default().push(b);
    }

    /// Update a claim in place (listen marks it listening).
    pub fn set_listening(
        &mut self,
        proto: Proto,
        port: u16,
        owner: u64,
    ) -> Result<(), crate::errno::Errno> {
        let list = self.ports.entry((proto, port)).or_default();
        let Some(me) = list.iter().find(|b| b.owner == owner).cloned() else {
            return Ok(());
        };
        let mut l = me.clone();
        l.listening = true;
        if list
            .iter()
            .any(|o| o.owner != owner && o.listening && l.conflicts(o))
        {
            return Err(crate::errno::Errno::EADDRINUSE);
        }
        for b in list.iter_mut().filter(|b| b.owner == owner) {
            b.listening = true;
        }
        Ok(())
    }

    pub fn unbind(&mut self, proto: Proto, port: u16, owner: u64) {
        if let Some(list) = self.ports.get_mut(&(proto, port)) {
            list.retain(|b| b.owner != owner);
            if list.is_empty() {
                self.ports.remove(&(proto, port));
            }
        }
    }

    /// A closed file's TCP connection finishes closing on its own; its port stays claimed
    /// (as TIME-WAIT's does, with the socket's SO_REUSEADDR) until then.
    pub fn orphan(&mut self, h: SocketHandle, port: u16, owner: u64) {
        if let Some(list) = self.ports.get_mut(&(Proto::Tcp, port)) {
            for b in list.iter_mut().filter(|b| b.owner == owner) {
                b.listening = false;
            }
        }
        self.orphans.push((h, Proto::Tcp, port, owner));
    }

    pub fn remove(&mut self, h: SocketHandle) {
        self.udp_errors.remove(&h);
        if self.live.remove(&h).is_some() {
            self.sockets.remove(h);
        }
    }

    /// The MTU of the way to `dst`: loopback's for our own addresses, else the interface's.
    pub fn mtu_to(&self, dst: IpAddress) -> usize {
        match (&self.dev.wire, self.is_local(dst) || is_loopback(&dst)) {
            (Some(w), false) => w.mtu,
            _ => LOOPBACK_MTU,
        }
    }

    /// Traffic so far: loopback's and the interface's.
    pub fn counters(&self) -> (Counters, Counters) {
        (self.dev.lo, self.dev.nic)
    }

    /// The interface's routes as (destination network, gateway): its own networks, then
    /// the default routes.
    pub fn routes(&self) -> Vec<(IpCidr, Option<IpAddress>)> {
        let mut v: Vec<(IpCidr, Option<IpAddress>)> = self
            .iface
            .ip_addrs()
            .iter()
            .filter(|c| !is_loopback(&c.address()))
            .map(|c| (network(c), None))
            .collect();
        for g in &self.gateways {
            let any = match g {
                IpAddress::Ipv4(_) => IpCidr::new(IpAddress::v4(0, 0, 0, 0), 0),
                IpAddress::Ipv6(_) => IpCidr::new(IpAddress::Ipv6(Ipv6Address::UNSPECIFIED), 0),
            };
            v.push((any, Some(*g)));
        }
        v
    }

    /// Whether `dst` is an IPv4 broadcast address: the limited one or an interface's
    /// directed one (sending there needs SO_BROADCAST).
    pub fn is_broadcast(&self, dst: IpAddress) -> bool {
        let IpAddress::Ipv4(v4) = dst else {
            return false;
        };
        v4.is_broadcast()
            || self.iface.ip_addrs().iter().any(|c| match c {
                smoltcp::wire::IpCidr::Ipv4(c) => c.prefix_len() < 31 && c.broadcast() == Some(v4),
                _ => false,
            })
    }

    /// The source address for reaching `dst`, if the stack has a route there: the address
    /// itself if it is ours, else an address of ours on the same network, else (through a
    /// default gateway) our first address of that family on the interface.
    pub fn source_for(&self, dst: IpAddress) -> Option<IpAddress> {
        // As Linux's `local 127.0.0.0/8 dev lo src 127.0.0.1`.
        if matches!(dst, IpAddress::Ipv4(a) if a.is_loopback()) {
            return Some(IpAddress::v4(127, 0, 0, 1));
        }
        if self.is_local(dst) {
            return Some(dst);
        }
        if is_loopback(&dst) {
            return None;
        }
        let v4 = matches!(dst, IpAddress::Ipv4(_));
        let ours = || {
            self.iface
                .ip_addrs()
                .iter()
                .filter(move |c| !is_loopback(&c.address()))
                .filter(move |c| matches!(c.address(), IpAddress::Ipv4(_)) == v4)
        };
        if let Some(c) = ours().find(|c| c.contains_addr(&dst)) {
            return Some(c.address());
        }
        let routed = self
            .gateways
            .iter()
            .any(|g| matches!(g, IpAddress::Ipv4(_)) == v4);
        if routed {
            return ours().next().map(|c| c.address());
        }
        None
    }
}

/// `IpEndpoint` for an IPv4-mapped IPv6 address, as Linux shows IPv4 peers to IPv6 sockets.
pub fn mapped(e: IpEndpoint) -> IpEndpoint {
    match e.addr {
        IpAddress::Ipv4(a) => IpEndpoint::new(IpAddress::Ipv6(a.to_ipv6_mapped()), e.port),
        IpAddress::Ipv6(_) => e,
    }
}

/// The IPv4 address inside an IPv4-mapped IPv6 address.
pub fn unmapped(a: IpAddress) -> IpAddress {
    match a {
        IpAddress::Ipv6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddress::Ipv4(v4),
            None => a,
        },
        a => a,
    }
}
