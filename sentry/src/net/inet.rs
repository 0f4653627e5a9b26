//! AF_INET and AF_INET6 sockets (TCP and UDP) on the sentry's stack. Operations here never
//! block: they return EAGAIN, and the syscall layer waits on the socket's queue, which the stack
//! notifies whenever something a waiter could see changed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use smoltcp::iface::SocketHandle;
use smoltcp::socket::{tcp, udp};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

use super::stack::{self, Binding, Inner, Listener, Proto, Stack};
use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;
use crate::vfs::{FileOps, Stat};

/// Largest UDP payload over IPv4 (65535 - 20 - 8).
pub const UDP_MAX: usize = 65507;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Stream,
    Dgram,
}

impl Kind {
    fn proto(self) -> Proto {
        match self {
            Kind::Stream => Proto::Tcp,
            Kind::Dgram => Proto::Udp,
        }
    }
}

/// Where a TCP socket is in its life, as the application sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Never connected (or a failed connect, which may be retried).
    Idle,
    Listening,
    Connecting,
    Connected,
}

/// Socket options kept for getsockopt, and those the stack honours.
#[derive(Clone, Debug)]
pub struct Opts {
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub keepalive: bool,
    pub linger: Option<u32>,
    pub rcvbuf: i32,
    pub sndbuf: i32,
    pub rcvtimeo: Option<Duration>,
    pub sndtimeo: Option<Duration>,
    pub nodelay: bool,
    pub v6only: bool,
    pub ttl: i32,
    pub tos: i32,
    pub broadcast: bool,
    pub keepidle: i32,
    pub keepintvl: i32,
    pub keepcnt: i32,
    pub oobinline: bool,
    /// TCP_MAXSEG as set (0: not set).
    pub maxseg: i32,
    pub rcvlowat: i32,
    /// Options only kept for getsockopt (and IP_PKTINFO's control message): see `sockopt`.
    pub ints: std::collections::BTreeMap<(i32, i32), i32>,
}

impl Opts {
    fn new(kind: Kind) -> Self {
        use super::sockopt as so;
        let (rcvbuf, sndbuf) = match kind {
            Kind::Stream => (so::TCP_RMEM[1], so::TCP_WMEM[1]),
            Kind::Dgram => (so::RMEM_DEFAULT, so::WMEM_DEFAULT),
        };
        Opts {
            reuseaddr: false,
            reuseport: false,
            keepalive: false,
            linger: None,
            rcvbuf,
            sndbuf,
            rcvtimeo: None,
            sndtimeo: None,
            nodelay: false,
            v6only: false,
            ttl: 64,
            tos: 0,
            broadcast: false,
            keepidle: 7200,
            keepintvl: 75,
            keepcnt: 9,
            oobinline: false,
            maxseg: 0,
            rcvlowat: 1,
            ints: Default::default(),
        }
    }

    /// A kept option's value (its default if never set).
    pub fn int(&self, o: &super::sockopt::IntOpt) -> i32 {
        self.ints
            .get(&(o.level, o.name))
            .copied()
            .unwrap_or(o.default)
    }

    /// Whether a kept flag (IP_PKTINFO...) is on.
    pub fn flag(&self, level: i32, name: i32) -> bool {
        super::sockopt::find(level, name).is_some_and(|o| self.int(o) != 0)
    }
}

/// `<asm-generic/sockios.h>`'s SIOCATMARK, which the libc crate lacks.
pub(crate) const SIOCATMARK: libc::c_ulong = 0x8905;

/// What one receive got.
#[derive(Default)]
pub struct Received {
    /// Bytes copied.
    pub n: usize,
    /// The datagram's whole length (a stream: `n`).
    pub full: usize,
    /// UDP: the sender.
    pub from: Option<IpEndpoint>,
    /// UDP: the local address the datagram was sent to, and the interface it came in on
    /// (IP_PKTINFO).
    pub to: Option<(IpAddress, u32)>,
}

/// Linux's name for a TCP socket's state.
fn linux_state(phase: Phase, now: Option<tcp::State>) -> super::sockopt::TcpState {
    use super::sockopt::TcpState as L;
    match (phase, now) {
        (Phase::Listening, _) => L::Listen,
        (Phase::Idle, _) | (_, None) => L::Close,
        (_, Some(s)) => match s {
            tcp::State::Closed | tcp::State::Listen => L::Close,
            tcp::State::SynSent => L::SynSent,
            tcp::State::SynReceived => L::SynRecv,
            tcp::State::Established => L::Established,
            tcp::State::FinWait1 => L::FinWait1,
            tcp::State::FinWait2 => L::FinWait2,
            tcp::State::CloseWait => L::CloseWait,
            tcp::State::Closing => L::Closing,
            tcp::State::LastAck => L::LastAck,
            // An open socket's connection in TIME-WAIT shows CLOSE (Linux keeps the
            // time-wait apart from the socket).
            tcp::State::TimeWait => L::Close,
        },
    }
}

/// A line of /proc/net/{tcp,udp}{,6}.
pub struct ProcEntry {
    pub local: IpEndpoint,
    pub remote: Option<IpEndpoint>,
    /// Linux's TCP_* state number (UDP: ESTABLISHED when connected, else CLOSE).
    pub state: u8,
    pub tx_queue: usize,
    pub rx_queue: usize,
    pub uid: u32,
    pub ino: u64,
}

/// What TCP_INFO and TCP_MAXSEG tell.
pub struct TcpInfo {
    /// Linux's TCP_* state number.
    pub state: u8,
    /// The segment size: TCP_MAXSEG's (536 before a connection), else the path's.
    pub mss: u32,
    /// The path MTU (0 when not connected).
    pub pmtu: u32,
}

struct State {
    /// The TCP connection or the UDP socket in the stack.
    handle: Option<SocketHandle>,
    /// Bound port (0: none yet) and address (None: wildcard).
    port: u16,
    addr: Option<IpAddress>,
    /// The port came from connect or send, not bind: a failed connect gives it back.
    autobound: bool,
    phase: Phase,
    /// SO_ERROR: set by a refused connect or a reset, taken by the next call that reports it.
    error: Option<Errno>,
    /// A non-blocking connect finished but no connect call has said so yet (the next one
    /// returns 0, as Linux's).
    unreported: bool,
    /// The TCP state last seen, to tell a reset from an orderly close.
    last: tcp::State,
    shut_rd: bool,
    shut_wr: bool,
    /// TCP: the remote end; UDP: the connected peer.
    peer: Option<IpEndpoint>,
    opts: Opts,
}

pub struct InetSocket {
    pub id: u64,
    pub v6: bool,
    pub kind: Kind,
    /// The protocol number socket() was given (0 or IPPROTO_TCP/UDP), for SO_PROTOCOL.
    stack: Arc<Stack>,
    queue: Arc<WaitQueue>,
    st: Mutex<State>,
    dev: u64,
    ino: u64,
    /// The creator's fsuid (an accepted socket: its listener's), as fstat and /proc/net show.
    uid: u32,
}

/// A smoltcp address for an application's: IPv4-mapped IPv6 addresses become IPv4, and the
/// unspecified address as a destination means this host (Linux connects it to loopback).
fn dest(a: IpAddress) -> IpAddress {
    let a = stack::unmapped(a);
    if a.is_unspecified() {
        match a {
            IpAddress::Ipv4(_) => IpAddress::v4(127, 0, 0, 1),
            IpAddress::Ipv6(_) => IpAddress::Ipv6(smoltcp::wire::Ipv6Address::LOCALHOST),
        }
    } else {
        a
    }
}

impl InetSocket {
    pub fn new(stack: &Arc<Stack>, v6: bool, kind: Kind, uid: u32) -> Arc<InetSocket> {
        let mut g = stack.lock();
        Self::new_with(stack, &mut g, v6, kind, uid)
    }

    /// The socket's state; the stack's lock must be held (it is always taken first).
    fn state(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An address as this socket shows it: IPv4 peers of an IPv6 socket are IPv4-mapped.
    fn shown(&self, e: IpEndpoint) -> IpEndpoint {
        if self.v6 {
            stack::mapped(e)
        } else {
            e
        }
    }

    fn binding(&self, st: &State, addr: Option<IpAddress>) -> Binding {
        Binding {
            owner: self.id,
            v6: self.v6,
            addr,
            dual: self.v6 && !st.opts.v6only,
            reuseaddr: st.opts.reuseaddr,
            reuseport: st.opts.reuseport,
            listening: false,
        }
    }

    /// The address family check every address goes through: IPv4 addresses on an IPv6 socket
    /// only as IPv4-mapped, and not at all with IPV6_V6ONLY.
    fn check_family(&self, st: &State, a: IpAddress) -> Result<(), Errno> {
        match stack::unmapped(a) {
            IpAddress::Ipv4(_) if self.v6 && st.opts.v6only => Err(Errno::ENETUNREACH),
            _ => Ok(()),
        }
    }

    pub fn bind(&self, ep: IpEndpoint) -> Result<(), Errno> {
        let mut g = self.stack.lock();
        let mut st = self.state();
        if st.port != 0 || st.phase != Phase::Idle {
            return Err(Errno::EINVAL);
        }
        let addr = stack::unmapped(ep.addr);
        if self.v6 && st.opts.v6only && matches!(addr, IpAddress::Ipv4(_)) {
            return Err(Errno::EINVAL);
        }
        let addr = if addr.is_unspecified() {
            None
        } else {
            if !g.is_local(addr) {
                return Err(Errno::EADDRNOTAVAIL);
            }
            Some(addr)
        };
        let mut b = self.binding(&st, addr);
        if addr.is_some() {
            b.dual = false;
        }
        let port = g.bind(self.kind.proto(), ep.port, b)?;
        st.port = port;
        st.addr = addr;
        // A port the kernel chose is not locked to the socket (Linux's SOCK_BINDPORT_LOCK).
        st.autobound = ep.port == 0;
        if self.kind == Kind::Dgram {
            self.udp_open(&mut g, &mut st)?;
        }
        Ok(())
    }

    /// Give a UDP socket its smoltcp socket, bound to the claimed port.
    fn udp_open(&self, g: &mut Inner, st: &mut State) -> Result<SocketHandle, Errno> {
        if let Some(h) = st.handle {
            return Ok(h);
        }
        if st.port == 0 {
            let b = self.binding(st, None);
            st.port = g.bind(Proto::Udp, 0, b)?;
            st.autobound = true;
        }
        let h = g.add_udp();
        let ep = IpListenEndpoint {
            addr: st.addr,
            port: st.port,
        };
        if let Some(u) = g.udp(h) {
            u.bind(ep).map_err(|_| Errno::EINVAL)?;
        }
        st.handle = Some(h);
        g.watch(self.id, &self.queue, vec![h]);
        Ok(h)
    }

    pub fn listen(&self, backlog: i32) -> Result<(), Errno> {
        if self.kind != Kind::Stream {
            return Err(Errno::EOPNOTSUPP);
        }
        let backlog = backlog.clamp(1, 4096) as usize;
        let mut g = self.stack.lock();
        let mut st = self.state();
        match st.phase {
            Phase::Idle => {}
            Phase::Listening => {
                // A second listen() only changes the backlog.
                if let Some(l) = g.listeners.get_mut(&self.id) {
                    l.backlog = backlog;
                }
                drop(st);
                g.refill(self.id);
                self.stack.settle(g);
                return Ok(());
            }
            _ => return Err(Errno::EINVAL),
        }
        if st.port == 0 {
            let b = self.binding(&st, None);
            st.port = g.bind(Proto::Tcp, 0, b)?;
            st.autobound = true;
        }
        g.set_listening(Proto::Tcp, st.port, self.id)?;
        st.phase = Phase::Listening;
        g.listeners.insert(
            self.id,
            Listener {
                backlog,
                port: st.port,
                addr: st.addr,
                takes_v4: !self.v6 || !st.opts.v6only,
                takes_v6: self.v6,
                nodelay: st.opts.nodelay,
                pool: Vec::new(),
                ready: VecDeque::new(),
            },
        );
        drop(st);
        g.listeners_changed();
        g.watch(self.id, &self.queue, Vec::new());
        g.refill(self.id);
        self.stack.settle(g);
        Ok(())
    }

    /// Take an established connection off the accept queue: EAGAIN if there is none.
    pub fn accept(&self) -> Result<(Arc<InetSocket>, IpEndpoint), Errno> {
        let mut g = self.stack.lock();
        let st = self.state();
        if st.phase != Phase::Listening {
            return Err(Errno::EINVAL);
        }
        let opts = st.opts.clone();
        let port = st.port;
        drop(st);
        let Some(mut l) = g.listeners.remove(&self.id) else {
            return Err(Errno::EINVAL);
        };
        let mut found = None;
        let mut i = 0;
        while i < l.ready.len() {
            let h = l.ready[i];
            let Some(t) = g.tcp_ref(h) else {
                l.ready.remove(i);
                continue;
            };
            match t.state() {
                tcp::State::SynReceived | tcp::State::Listen => i += 1,
                tcp::State::Closed => {
                    g.remove(h);
                    l.ready.remove(i);
                }
                _ => {
                    // An IPv4 connection on a V6ONLY or IPv6 one on an IPv4 listener (smoltcp
                    // listens on both families): not ours, reset it.
                    let remote = t.remote_endpoint();
                    let local = t.local_endpoint();
                    let v4 = matches!(remote.map(|e| e.addr), Some(IpAddress::Ipv4(_)));
                    let fits = if self.v6 { !(v4 && opts.v6only) } else { v4 };
                    l.ready.remove(i);
                    if !fits {
                        if let Some(t) = g.tcp(h) {
                            t.abort();
                        }
                        g.orphan(h, port, stack::NO_OWNER);
                        continue;
                    }
                    found = Some((h, remote, local));
                    break;
                }
            }
        }
        g.listeners.insert(self.id, l);
        let Some((h, remote, local)) = found else {
            return Err(Errno::EAGAIN);
        };
        let (Some(remote), Some(local)) = (remote, local) else {
            return Err(Errno::EAGAIN);
        };
        let c = InetSocket::new_with(&self.stack, &mut g, self.v6, Kind::Stream, self.uid);
        {
            let mut cs = c.state();
            cs.handle = Some(h);
            cs.port = local.port;
            cs.addr = Some(local.addr);
            cs.phase = Phase::Connected;
            cs.last = g.tcp_state(h);
            cs.peer = Some(remote);
            cs.opts = Opts {
                linger: None,
                ..opts.clone()
            };
            let mut b = c.binding(&cs, Some(local.addr));
            b.dual = false;
            g.claim(Proto::Tcp, port, b);
        }
        g.watch(c.id, &c.queue, vec![h]);
        g.refill(self.id);
        self.stack.settle(g);
        let shown = self.shown(remote);
        Ok((c, shown))
    }

    fn new_with(
        stack: &Arc<Stack>,
        g: &mut Inner,
        v6: bool,
        kind: Kind,
        uid: u32,
    ) -> Arc<InetSocket> {
        let id = g.new_id();
        let s = Arc::new(InetSocket {
            id,
            v6,
            kind,
            stack: stack.clone(),
            queue: Arc::new(WaitQueue::default()),
            st: Mutex::new(State {
                handle: None,
                port: 0,
                addr: None,
                autobound: false,
                phase: Phase::Idle,
                error: None,
                unreported: false,
                last: tcp::State::Closed,
                shut_rd: false,
                shut_wr: false,
                peer: None,
                opts: Opts::new(kind),
            }),
            dev: crate::fs::new_dev(),
            ino: crate::fs::new_ino(),
            uid,
        });
        g.inet.insert(id, Arc::downgrade(&s));
        s
    }

    /// Start connecting (TCP) or set the default peer (UDP; None: AF_UNSPEC dissolves it).
    /// TCP returns EINPROGRESS when the handshake is under way; `connect_result` tells how it
    /// ended.
    pub fn connect(&self, to: Option<IpEndpoint>) -> Result<(), Errno> {
        let mut g = self.stack.lock();
        let mut st = self.state();
        if self.kind == Kind::Dgram {
            let Some(to) = to else {
                // Dissolve the association; a port the kernel chose goes back.
                st.peer = None;
                if st.autobound {
                    if let Some(h) = st.handle.take() {
                        g.remove(h);
                    }
                    g.unbind(Proto::Udp, st.port, self.id);
                    g.unwatch(self.id);
                    st.port = 0;
                }
                return Ok(());
            };
            self.check_family(&st, to.addr)?;
            let dst = IpEndpoint::new(dest(to.addr), to.port);
            if g.is_broadcast(dst.addr) && !st.opts.broadcast {
                return Err(Errno::EACCES);
            }
            if g.source_for(dst.addr).is_none() {
                return Err(Errno::ENETUNREACH);
            }
            self.udp_open(&mut g, &mut st)?;
            st.peer = Some(dst);
            return Ok(());
        }
        self.observe(&g, &mut st);
        if to.is_none() {
            // AF_UNSPEC: tcp_disconnect. A listener stops listening; a connection is reset
            // and the socket may connect again.
            return match st.phase {
                Phase::Idle => Ok(()),
                Phase::Listening => {
                    drop(st);
                    drop(g);
                    self.shutdown(libc::SHUT_RD)
                }
                Phase::Connecting | Phase::Connected => {
                    if let Some(h) = st.handle.take() {
                        if let Some(t) = g.tcp(h) {
                            t.abort();
                        }
                        g.run();
                        g.remove(h);
                    }
                    if st.autobound {
                        g.unbind(Proto::Tcp, st.port, self.id);
                        st.port = 0;
                    }
                    st.phase = Phase::Idle;
                    st.peer = None;
                    st.error = None;
                    st.unreported = false;
                    st.shut_rd = false;
                    st.shut_wr = false;
                    drop(st);
                    g.watch(self.id, &self.queue, Vec::new());
                    self.stack.settle(g);
                    Ok(())
                }
            };
        }
        if st.unreported {
            st.unreported = false;
            if st.phase == Phase::Connected {
                return Ok(());
            }
            if let Some(e) = st.error.take() {
                return Err(e);
            }
        }
        match st.phase {
            Phase::Connected => return Err(Errno::EISCONN),
            Phase::Listening => return Err(Errno::EISCONN),
            Phase::Connecting => return Err(Errno::EALREADY),
            Phase::Idle => {}
        }
        let Some(to) = to else {
            return Err(Errno::EAFNOSUPPORT);
        };
        self.check_family(&st, to.addr)?;
        let dst = IpEndpoint::new(dest(to.addr), to.port);
        if dst.port == 0 {
            return Err(Errno::ECONNREFUSED);
        }
        let src = match st.addr {
            Some(a) => a,
            None => g.source_for(dst.addr).ok_or(Errno::ENETUNREACH)?,
        };
        if st.port == 0 {
            let mut b = self.binding(&st, Some(src));
            b.dual = false;
            st.port = g.bind(Proto::Tcp, 0, b)?;
            st.autobound = true;
        }
        // A socket left from an earlier, failed attempt goes.
        if let Some(h) = st.handle.take() {
            g.remove(h);
        }
        let h = g.add_tcp();
        let nodelay = st.opts.nodelay;
        let keepalive = st
            .opts
            .keepalive
            .then(|| Duration::from_secs(st.opts.keepidle as u64));
        let local = IpListenEndpoint {
            addr: Some(src),
            port: st.port,
        };
        match g.tcp(h) {
            Some(t) => {
                t.set_nagle_enabled(!nodelay);
                t.set_keep_alive(keepalive.map(Into::into));
            }
            None => return Err(Errno::ENOBUFS),
        }
        g.tcp_connect(h, dst, local)
            .map_err(|_| Errno::EADDRNOTAVAIL)?;
        st.handle = Some(h);
        st.phase = Phase::Connecting;
        st.peer = Some(dst);
        st.error = None;
        st.unreported = true;
        st.last = tcp::State::SynSent;
        drop(st);
        g.watch(self.id, &self.queue, vec![h]);
        self.stack.settle(g);
        Err(Errno::EINPROGRESS)
    }

    /// How a connect under way stands: Ok(true) connected, Ok(false) still going, or the
    /// error it ended with (taken, as SO_ERROR would be).
    pub fn connect_result(&self) -> Result<bool, Errno> {
        let g = self.stack.lock();
        let mut st = self.state();
        self.observe(&g, &mut st);
        match st.phase {
            Phase::Connected => {
                st.unreported = false;
                Ok(true)
            }
            Phase::Connecting => Ok(false),
            _ => {
                st.unreported = false;
                Err(st.error.take().unwrap_or(Errno::ECONNREFUSED))
            }
        }
    }

    /// Bring the socket's view up to date with its TCP state: a handshake that finished or
    /// failed, a reset.
    fn observe(&self, g: &Inner, st: &mut State) {
        let Some(h) = st.handle else { return };
        if self.kind != Kind::Stream {
            return;
        }
        let now = g.tcp_state(h);
        match (st.phase, now) {
            (Phase::Connecting, tcp::State::SynSent) => {}
            (Phase::Connecting, tcp::State::Closed) => {
                st.phase = Phase::Idle;
                st.error = Some(Errno::ECONNREFUSED);
            }
            (Phase::Connecting, _) => st.phase = Phase::Connected,
            (Phase::Connected, tcp::State::Closed) => {
                // Closed without our FIN acknowledged or TIME-WAIT: reset by the peer. Linux
                // says EPIPE when the peer had already closed its side (CLOSE-WAIT).
                let orderly = matches!(
                    st.last,
                    tcp::State::LastAck
                        | tcp::State::TimeWait
                        | tcp::State::Closing
                        | tcp::State::Closed
                ) || (st.shut_wr && st.last == tcp::State::FinWait2);
                let reset = !orderly;
                if reset && st.error.is_none() {
                    st.error = Some(if st.last == tcp::State::CloseWait {
                        Errno::EPIPE
                    } else {
                        Errno::ECONNRESET
                    });
                }
            }
            _ => {}
        }
        st.last = now;
    }

    /// A UDP socket's view of ICMP errors about its datagrams: a connected socket takes the
    /// one about its peer as its pending error.
    fn observe_udp(&self, g: &mut Inner, st: &mut State) {
        let Some(e) = st.handle.and_then(|h| g.take_udp_error(h)) else {
            return;
        };
        if st.peer == Some(e.remote) {
            st.error = Some(e.errno);
        }
    }

    /// SO_ERROR: the pending error, cleared.
    pub fn take_error(&self) -> i32 {
        let mut g = self.stack.lock();
        let mut st = self.state();
        self.observe(&g, &mut st);
        self.observe_udp(&mut g, &mut st);
        st.error.take().map_or(0, |e| e.0)
    }

    pub fn local(&self) -> IpEndpoint {
        let g = self.stack.lock();
        let st = self.state();
        self.local_in(&g, &st)
    }

    /// The local address: a connection's own, a bound one, a connected UDP socket's route
    /// source (Linux fixes it at connect), else the wildcard.
    fn local_in(&self, g: &Inner, st: &State) -> IpEndpoint {
        let addr = st
            .handle
            .and_then(|h| g.tcp_ref(h).and_then(|t| t.local_endpoint()))
            .map(|e| e.addr)
            .or(st.addr)
            .or_else(|| {
                let peer = st.peer.filter(|_| self.kind == Kind::Dgram)?;
                g.source_for(peer.addr)
            });
        let unspec = if self.v6 {
            IpAddress::Ipv6(smoltcp::wire::Ipv6Address::UNSPECIFIED)
        } else {
            IpAddress::v4(0, 0, 0, 0)
        };
        self.shown(IpEndpoint::new(addr.unwrap_or(unspec), st.port))
    }

    pub fn peer(&self) -> Result<IpEndpoint, Errno> {
        let g = self.stack.lock();
        let mut st = self.state();
        self.observe(&g, &mut st);
        if self.kind == Kind::Stream && st.phase != Phase::Connected {
            return Err(Errno::ENOTCONN);
        }
        st.peer.map(|e| self.shown(e)).ok_or(Errno::ENOTCONN)
    }

    /// Send. `to`: sendto's address (UDP). EAGAIN when the buffer is full; EPIPE when the
    /// sending side is shut (the caller raises SIGPIPE).
    pub fn send(&self, data: &[u8], to: Option<IpEndpoint>) -> Result<usize, Errno> {
        let mut g = self.stack.lock();
        let mut st = self.state();
        if self.kind == Kind::Dgram {
            self.observe_udp(&mut g, &mut st);
            if let Some(e) = st.error.take() {
                return Err(e);
            }
            if st.shut_wr {
                return Err(Errno::EPIPE);
            }
            let dst = match to {
                Some(to) => {
                    self.check_family(&st, to.addr)?;
                    IpEndpoint::new(dest(to.addr), to.port)
                }
                None => st.peer.ok_or(Errno::EDESTADDRREQ)?,
            };
            if data.len() > UDP_MAX {
                return Err(Errno::EMSGSIZE);
            }
            if dst.port == 0 {
                return Err(Errno::EINVAL);
            }
            if g.is_broadcast(dst.addr) && !st.opts.broadcast {
                return Err(Errno::EACCES);
            }
            let src = match st.addr {
                Some(a) => a,
                None => g.source_for(dst.addr).ok_or(Errno::ENETUNREACH)?,
            };
            let h = self.udp_open(&mut g, &mut st)?;
            let mut meta = udp::UdpMetadata::from(dst);
            meta.local_address = Some(src);
            let r = match g.udp(h) {
                Some(u) => u.send_slice(data, meta),
                None => return Err(Errno::EBADF),
            };
            drop(st);
            return match r {
                Ok(()) => {
                    self.stack.settle(g);
                    Ok(data.len())
                }
                Err(udp::SendError::BufferFull) => Err(Errno::EAGAIN),
                Err(udp::SendError::Unaddressable) => Err(Errno::ENETUNREACH),
            };
        }
        self.observe(&g, &mut st);
        if let Some(e) = st.error.take() {
            return Err(e);
        }
        match st.phase {
            Phase::Connecting => return Err(Errno::EAGAIN),
            Phase::Connected => {}
            _ => return Err(Errno::EPIPE),
        }
        if st.shut_wr {
            return Err(Errno::EPIPE);
        }
        let Some(h) = st.handle else {
            return Err(Errno::EPIPE);
        };
        drop(st);
        let Some(t) = g.tcp(h) else {
            return Err(Errno::EPIPE);
        };
        if !t.may_send() {
            return Err(Errno::EPIPE);
        }
        let n = t.send_slice(data).map_err(|_| Errno::EPIPE)?;
        if n == 0 && !data.is_empty() {
            return Err(Errno::EAGAIN);
        }
        self.stack.settle(g);
        Ok(n)
    }

    /// Receive into `buf`. Returns (bytes, the datagram's full length, its source). EAGAIN
    /// when nothing is there yet; Ok(0) at end of stream.
    pub fn recv(&self, buf: &mut [u8], peek: bool) -> Result<Received, Errno> {
        let mut g = self.stack.lock();
        let mut st = self.state();
        if self.kind == Kind::Dgram {
            self.observe_udp(&mut g, &mut st);
            if let Some(e) = st.error.take() {
                return Err(e);
            }
            let Some(h) = st.handle else {
                return Err(Errno::EAGAIN);
            };
            let peer = st.peer;
            let shut = st.shut_rd;
            drop(st);
            let Some(u) = g.udp(h) else {
                return Err(Errno::EAGAIN);
            };
            loop {
                let (n, full, from, to) = match u.peek() {
                    Ok((data, meta)) => {
                        let n = data.len().min(buf.len());
                        buf[..n].copy_from_slice(&data[..n]);
                        (n, data.len(), meta.endpoint, meta.local_address)
                    }
                    Err(_) if shut => return Ok(Received::default()),
                    Err(_) => return Err(Errno::EAGAIN),
                };
                // A connected socket takes datagrams from its peer only.
                let from_peer = peer.is_none_or(|p| p == from);
                if !peek || !from_peer {
                    let _ = u.recv();
                }
                if from_peer {
                    // A datagram from one of our own addresses came over loopback.
                    let to = to.map(|a| {
                        let dev = if stack::is_loopback(&a) || stack::is_loopback(&from.addr) {
                            super::netlink::LO_INDEX
                        } else {
                            super::netlink::NIC_INDEX
                        };
                        (a, dev)
                    });
                    return Ok(Received {
                        n,
                        full,
                        from: Some(self.shown(from)),
                        to,
                    });
                }
            }
        }
        self.observe(&g, &mut st);
        match st.phase {
            Phase::Connected => {}
            Phase::Connecting => return Err(Errno::EAGAIN),
            _ => return Err(Errno::ENOTCONN),
        }
        if st.shut_rd {
            return Ok(Received::default());
        }
        let Some(h) = st.handle else {
            return Err(Errno::ENOTCONN);
        };
        let Some(t) = g.tcp(h) else {
            return Ok(Received::default());
        };
        let r = if peek {
            t.peek_slice(buf).map_err(|_| ())
        } else {
            t.recv_slice(buf).map_err(|_| ())
        };
        match r {
            Ok(0) if !buf.is_empty() => {
                if t.may_recv() {
                    return Err(Errno::EAGAIN);
                }
                // End of stream, or a reset.
                if let Some(e) = st.error.take() {
                    return Err(e);
                }
                Ok(Received::default())
            }
            Ok(n) => {
                drop(st);
                if !peek {
                    self.stack.settle(g);
                }
                Ok(Received {
                    n,
                    full: n,
                    ..Received::default()
                })
            }
            Err(()) => {
                if let Some(e) = st.error.take() {
                    return Err(e);
                }
                Ok(Received::default())
            }
        }
    }

    /// Close a listener's queue: connections nobody accepted are reset, as Linux does. False
    /// if `id` was not listening.
    fn stop_listening(g: &mut Inner, id: u64, port: u16) -> bool {
        let Some(l) = g.listeners.remove(&id) else {
            return false;
        };
        g.listeners_changed();
        for h in l.pool.into_iter().chain(l.ready) {
            if let Some(t) = g.tcp(h) {
                t.abort();
            }
            g.orphan(h, port, stack::NO_OWNER);
        }
        true
    }

    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        let (rd, wr) = match how {
            libc::SHUT_RD => (true, false),
            libc::SHUT_WR => (false, true),
            libc::SHUT_RDWR => (true, true),
            _ => return Err(Errno::EINVAL),
        };
        let mut g = self.stack.lock();
        let mut st = self.state();
        self.observe(&g, &mut st);
        if st.phase == Phase::Listening {
            // Shutting a listener's reading side stops it listening (accept waiters wake to
            // EINVAL); a port the kernel chose goes back.
            if rd {
                Self::stop_listening(&mut g, self.id, st.port);
                g.unbind(Proto::Tcp, st.port, self.id);
                if st.autobound {
                    st.port = 0;
                } else {
                    let b = self.binding(&st, st.addr);
                    g.bind(Proto::Tcp, st.port, b)?;
                }
                st.phase = Phase::Idle;
                g.unwatch(self.id);
            }
            drop(st);
            self.stack.settle(g);
            self.queue.notify_all();
            return Ok(());
        }
        if self.kind == Kind::Stream && st.phase != Phase::Connected {
            return Err(Errno::ENOTCONN);
        }
        if self.kind == Kind::Dgram && st.peer.is_none() {
            return Err(Errno::ENOTCONN);
        }
        st.shut_rd |= rd;
        if wr && !st.shut_wr {
            st.shut_wr = true;
            if let Some(t) = st.handle.and_then(|h| g.tcp(h)) {
                t.close();
            }
        }
        drop(st);
        self.stack.settle(g);
        // Readers and writers wake to see the shutdown.
        self.queue.notify_all();
        Ok(())
    }

    pub fn opts(&self) -> Opts {
        let _g = self.stack.lock();
        self.state().opts.clone()
    }

    /// Change options; the stack's sockets follow (TCP_NODELAY, SO_KEEPALIVE, IP_TTL).
    pub fn set_opts(&self, f: impl FnOnce(&mut Opts) -> Result<(), Errno>) -> Result<(), Errno> {
        let mut g = self.stack.lock();
        let mut st = self.state();
        f(&mut st.opts)?;
        let o = st.opts.clone();
        if let Some(h) = st.handle {
            if let Some(t) = g.tcp(h) {
                t.set_nagle_enabled(!o.nodelay);
                t.set_keep_alive(
                    o.keepalive
                        .then(|| Duration::from_secs(o.keepidle.max(1) as u64).into()),
                );
                t.set_hop_limit(Some(o.ttl.clamp(1, 255) as u8));
            } else if let Some(u) = g.udp(h) {
                u.set_hop_limit(Some(o.ttl.clamp(1, 255) as u8));
            }
        }
        Ok(())
    }

    /// The socket's /proc/net line; None while it has no port (Linux lists only sockets
    /// in its lookup tables). The stack's lock is taken by the caller.
    pub fn proc_entry(&self, g: &Inner) -> Option<ProcEntry> {
        let mut st = self.state();
        self.observe(g, &mut st);
        if st.port == 0 {
            return None;
        }
        let local = self.local_in(g, &st);
        let (state, tx_queue, rx_queue) = match self.kind {
            Kind::Stream => {
                let s = linux_state(st.phase, st.handle.map(|h| g.tcp_state(h)));
                let q = st
                    .handle
                    .and_then(|h| g.tcp_ref(h))
                    .map(|t| (t.send_queue(), t.recv_queue()))
                    .unwrap_or_default();
                (s as u8, q.0, q.1)
            }
            Kind::Dgram => {
                use super::sockopt::TcpState as L;
                let s = if st.peer.is_some() {
                    L::Established
                } else {
                    L::Close
                };
                let rx = st
                    .handle
                    .and_then(|h| g.udp_ref(h))
                    .map(|u| u.recv_queue())
                    .unwrap_or(0);
                (s as u8, 0, rx)
            }
        };
        let connected = self.kind == Kind::Dgram || st.phase != Phase::Listening;
        Some(ProcEntry {
            local,
            remote: st.peer.filter(|_| connected).map(|p| self.shown(p)),
            state,
            tx_queue,
            rx_queue,
            uid: self.uid,
            ino: self.ino,
        })
    }

    pub fn tcp_info(&self) -> TcpInfo {
        let g = self.stack.lock();
        let mut st = self.state();
        self.observe(&g, &mut st);
        let state = linux_state(st.phase, st.handle.map(|h| g.tcp_state(h))) as u8;
        let connected = matches!(st.phase, Phase::Connected | Phase::Connecting);
        let pmtu = match st.peer {
            Some(p) if connected => g.mtu_to(p.addr) as u32,
            _ => 0,
        };
        // IP and TCP headers, and TCP's timestamp option.
        let headers = if matches!(st.peer.map(|p| p.addr), Some(IpAddress::Ipv6(_))) {
            60 + 12
        } else {
            40 + 12
        };
        let path = pmtu.saturating_sub(headers);
        let mss = match (st.opts.maxseg as u32, path) {
            (0, 0) => 536,
            (0, p) => p,
            (m, 0) => m,
            (m, p) => m.min(p),
        };
        TcpInfo { state, mss, pmtu }
    }

    pub fn is_listening(&self) -> bool {
        let _g = self.stack.lock();
        self.state().phase == Phase::Listening
    }

    /// FIONREAD: bytes ready to read (UDP: the next datagram's size).
    pub fn rx_pending(&self) -> usize {
        let mut g = self.stack.lock();
        let st = self.state();
        let Some(h) = st.handle else { return 0 };
        if let Some(t) = g.tcp_ref(h) {
            return t.recv_queue();
        }
        g.udp(h)
            .and_then(|u| u.peek().ok().map(|(d, _)| d.len()))
            .unwrap_or(0)
    }

    /// SIOCOUTQ: bytes sent but not yet acknowledged or still queued.
    pub fn tx_pending(&self) -> usize {
        let g = self.stack.lock();
        let st = self.state();
        st.handle
            .and_then(|h| g.tcp_ref(h).map(|t| t.send_queue()))
            .unwrap_or(0)
    }
}

impl Drop for InetSocket {
    fn drop(&mut self) {
        let mut g = self.stack.lock();
        g.unwatch(self.id);
        g.inet.remove(&self.id);
        let mut st = self.state();
        let proto = self.kind.proto();
        let port = st.port;
        if Self::stop_listening(&mut g, self.id, port) {
            g.unbind(proto, port, self.id);
        }
        match st.handle.take() {
            Some(h) if self.kind == Kind::Stream => {
                let linger0 = st.opts.linger == Some(0);
                if let Some(t) = g.tcp(h) {
                    // Unread data, or SO_LINGER with a zero timeout: reset instead of FIN.
                    if linger0 || t.recv_queue() > 0 {
                        t.abort();
                    } else {
                        t.close();
                    }
                }
                g.orphan(h, port, self.id);
            }
            Some(h) => {
                g.remove(h);
                g.unbind(proto, port, self.id);
            }
            None => {
                if port != 0 {
                    g.unbind(proto, port, self.id);
                }
            }
        }
        drop(st);
        g.run();
    }
}

impl FileOps for InetSocket {
    fn io_timeout(&self, write: bool) -> Option<Duration> {
        let o = self.opts();
        if write {
            o.sndtimeo
        } else {
            o.rcvtimeo
        }
    }

    fn read(&self, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        self.recv(buf, false).map(|r| r.n)
    }

    fn write(&self, buf: &[u8], _: u64) -> Result<usize, Errno> {
        self.send(buf, None)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = super::socket_stat(self.dev, self.ino);
        s.uid = self.uid;
        Ok(s)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn readiness(&self) -> u32 {
        let (i, o, h, e, rdhup) = (
            libc::POLLIN as u32,
            libc::POLLOUT as u32,
            libc::POLLHUP as u32,
            libc::POLLERR as u32,
            libc::POLLRDHUP as u32,
        );
        let mut g = self.stack.lock();
        let mut st = self.state();
        self.observe(&g, &mut st);
        self.observe_udp(&mut g, &mut st);
        let err = if st.error.is_some() { e } else { 0 };
        if self.kind == Kind::Dgram {
            let mut r = o | err;
            if let Some(u) = st.handle.and_then(|h| g.udp_ref(h)) {
                if u.can_recv() {
                    r |= i;
                }
                if !u.can_send() {
                    r &= !o;
                }
            }
            if st.shut_rd {
                r |= i | rdhup;
            }
            return r;
        }
        match st.phase {
            Phase::Listening => {
                let ready = g.listeners.get(&self.id).is_some_and(|l| {
                    l.ready.iter().any(|&h| {
                        !matches!(
                            g.tcp_state(h),
                            tcp::State::SynReceived | tcp::State::Listen | tcp::State::Closed
                        )
                    })
                });
                if ready {
                    i
                } else {
                    0
                }
            }
            Phase::Idle => {
                // Never connected, or a connect that failed: hung up.
                o | h | err | if st.error.is_some() { i | rdhup } else { 0 }
            }
            Phase::Connecting => err,
            Phase::Connected => {
                let Some(t) = st.handle.and_then(|hd| g.tcp_ref(hd)) else {
                    return i | o | h | rdhup | err;
                };
                let mut r = err;
                // The peer's FIN is in (smoltcp's may_recv stays true while data is queued).
                let rx_closed = matches!(
                    t.state(),
                    tcp::State::CloseWait
                        | tcp::State::LastAck
                        | tcp::State::Closing
                        | tcp::State::TimeWait
                        | tcp::State::Closed
                );
                if t.can_recv() || rx_closed || st.shut_rd {
                    r |= i;
                }
                if rx_closed || st.shut_rd {
                    r |= rdhup;
                }
                let tx_closed = st.shut_wr || !t.may_send();
                if tx_closed || t.send_queue() < t.send_capacity() {
                    r |= o;
                }
                // Linux: both directions shut (by either end for reading, by us for
                // writing), or the connection gone.
                if ((rx_closed || st.shut_rd) && tx_closed) || t.state() == tcp::State::Closed {
                    r |= h;
                }
                r
            }
        }
    }

    fn ioctl(&self, mm: &crate::mm::MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
        let req = req as libc::c_ulong;
        let queue = matches!(req, libc::FIONREAD | libc::TIOCOUTQ | libc::SIOCOUTQNSD);
        if queue && self.kind == Kind::Stream && self.is_listening() {
            return Err(Errno::EINVAL);
        }
        match req {
            // No urgent data is ever held apart (the stack delivers it inline), so the read
            // position is never at the mark.
            SIOCATMARK if self.kind == Kind::Stream => {
                mm.copy_out(arg, &0i32)?;
                Ok(0)
            }
            libc::FIONREAD => {
                let n = self.rx_pending() as i32;
                mm.copy_out(arg, &n)?;
                Ok(0)
            }
            libc::TIOCOUTQ | libc::SIOCOUTQNSD => {
                let n = self.tx_pending() as i32;
                mm.copy_out(arg, &n)?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn into_any_arc(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
}
