//! Socket syscalls on AF_INET and AF_INET6 sockets: addresses in and out, blocking, options.
//! `socket.rs` dispatches here when the descriptor is an inet socket.

use std::sync::Arc;
use std::time::Duration;

use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv6Address};

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::net::inet::{InetSocket, Kind, Opts};
use crate::net::sockopt;
use crate::vfs::OpenFile;

const SIN_LEN: usize = std::mem::size_of::<libc::sockaddr_in>();
const SIN6_LEN: usize = std::mem::size_of::<libc::sockaddr_in6>();
/// The shortest sockaddr_in6 Linux takes (RFC 2133's, without sin6_scope_id).
const SIN6_LEN_RFC2133: usize = 24;

/// The typed socket behind an open file, if it is an inet one.
pub fn inet_of(f: &Arc<OpenFile>) -> Option<Arc<InetSocket>> {
    let ops: Arc<dyn crate::vfs::FileOps> = f.ops.clone();
    crate::vfs::file::as_any_arc(ops)?
        .downcast::<InetSocket>()
        .ok()
}

/// The checks socket(AF_INET/AF_INET6, `ty`, `proto`) makes before any socket type's own:
/// the protocol's range, and ICMP echo sockets (not provided: EACCES for groups outside
/// ping_group_range, as ping_init_sock, else EPROTONOSUPPORT).
pub fn precheck(t: &Task, v6: bool, ty: i32, proto: i32) -> Result<(), Errno> {
    // inet_create's first check: IPPROTO_MAX is 263 (MPTCP is 262).
    if !(0..263).contains(&proto) {
        return Err(Errno::EINVAL);
    }
    let icmp = if v6 {
        libc::IPPROTO_ICMPV6
    } else {
        libc::IPPROTO_ICMP
    };
    if ty == libc::SOCK_DGRAM && proto == icmp {
        let (lo, hi) = crate::net::sockopt::PING_GROUPS;
        if !(lo..=hi).contains(&t.creds.egid) {
            return Err(Errno::EACCES);
        }
        return Err(Errno::EPROTONOSUPPORT);
    }
    Ok(())
}

/// socket(AF_INET/AF_INET6, ...).
pub fn create(t: &Task, v6: bool, ty: i32, proto: i32) -> Result<Arc<InetSocket>, Errno> {
    precheck(t, v6, ty, proto)?;
    let kind = match ty {
        libc::SOCK_STREAM => Kind::Stream,
        libc::SOCK_DGRAM => Kind::Dgram,
        libc::SOCK_RAW => return Err(Errno::EPERM),
        libc::SOCK_SEQPACKET => return Err(Errno::ESOCKTNOSUPPORT),
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    match (kind, proto) {
        (_, 0) | (Kind::Stream, libc::IPPROTO_TCP) | (Kind::Dgram, libc::IPPROTO_UDP) => {}
        _ => return Err(Errno::EPROTONOSUPPORT),
    }
    Ok(InetSocket::new(&t.k.net(), v6, kind, t.creds.fsuid))
}

/// An address from the application. `None`: AF_UNSPEC (connect's "dissolve").
fn read_addr(t: &Task, s: &InetSocket, addr: u64, len: u64) -> Result<Option<IpEndpoint>, Errno> {
    if len > 128 {
        return Err(Errno::EINVAL);
    }
    if len < 2 {
        return Err(Errno::EINVAL);
    }
    let raw = t.mm.read_vec(addr, len as usize)?;
    let family = u16::from_ne_bytes([raw[0], raw[1]]) as i32;
    if family == libc::AF_UNSPEC {
        return Ok(None);
    }
    if s.v6 {
        // inet6_bind and tcp_v6_connect look at the length first.
        if raw.len() < SIN6_LEN_RFC2133 {
            return Err(Errno::EINVAL);
        }
        if family != libc::AF_INET6 {
            return Err(Errno::EAFNOSUPPORT);
        }
        let port = u16::from_be_bytes([raw[2], raw[3]]);
        let mut a = [0u8; 16];
        a.copy_from_slice(&raw[8..24]);
        Ok(Some(IpEndpoint::new(
            IpAddress::Ipv6(Ipv6Address::from(a)),
            port,
        )))
    } else {
        if raw.len() < SIN_LEN {
            return Err(Errno::EINVAL);
        }
        if family != libc::AF_INET {
            return Err(Errno::EAFNOSUPPORT);
        }
        let port = u16::from_be_bytes([raw[2], raw[3]]);
        let a = Ipv4Address::new(raw[4], raw[5], raw[6], raw[7]);
        Ok(Some(IpEndpoint::new(IpAddress::Ipv4(a), port)))
    }
}

/// A sockaddr for `e` in the socket's family.
fn sockaddr(v6: bool, e: IpEndpoint) -> Vec<u8> {
    let mut b = Vec::with_capacity(SIN6_LEN);
    if v6 {
        b.extend_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        b.extend_from_slice(&e.port.to_be_bytes());
        b.extend_from_slice(&[0; 4]);
        let a = match crate::net::stack::mapped(e).addr {
            IpAddress::Ipv6(a) => a.octets(),
            IpAddress::Ipv4(_) => [0; 16],
        };
        b.extend_from_slice(&a);
        b.extend_from_slice(&[0; 4]);
    } else {
        b.extend_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        b.extend_from_slice(&e.port.to_be_bytes());
        let a = match e.addr {
            IpAddress::Ipv4(a) => a.octets(),
            IpAddress::Ipv6(_) => [0; 4],
        };
        b.extend_from_slice(&a);
        b.extend_from_slice(&[0; 8]);
    }
    b
}

/// Write an address out (accept, getsockname, recvfrom): truncated to the room the caller
/// gave, the full length stored in `*len_addr`.
fn write_addr(t: &Task, v6: bool, addr: u64, len_addr: u64, e: IpEndpoint) -> Result<(), Errno> {
    addr_out(t, addr, len_addr, &sockaddr(v6, e))
}

/// Write socket address bytes `b` out: truncated to the room the caller gave at `*len_addr`,
/// the full length stored there (nothing when `addr` is null).
pub(super) fn addr_out(t: &Task, addr: u64, len_addr: u64, b: &[u8]) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    let avail: u32 = t.mm.copy_in(len_addr)?;
    if (avail as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let n = b.len().min(avail as usize);
    t.mm.write_bytes(addr, &b[..n])?;
    t.mm.copy_out(len_addr, &(b.len() as u32))?;
    Ok(())
}

pub(super) fn nonblocking(f: &OpenFile, flags: u64) -> bool {
    f.flags() & libc::O_NONBLOCK as u32 != 0 || flags & libc::MSG_DONTWAIT as u64 != 0
}

/// Run `op` until it stops saying EAGAIN, waiting on the socket between tries (unless
/// non-blocking); `timeout` is SO_RCVTIMEO or SO_SNDTIMEO.
pub(super) fn blocking<T>(
    t: &mut Task,
    s: &dyn crate::vfs::FileOps,
    nonblock: bool,
    timeout: Option<Duration>,
    mut op: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    match op() {
        Err(Errno::EAGAIN) if !nonblock => {}
        r => return r,
    }
    let deadline = timeout.and_then(crate::kernel::time::deadline);
    let q = s.wait_queue().ok_or(Errno::EIO)?;
    t.block_io(&[q], deadline, |_| match op() {
        Err(Errno::EAGAIN) => Ok(None),
        r => r.map(Some),
    })
}

pub fn bind(t: &mut Task, s: &InetSocket, addr: u64, len: u64) -> SysResult {
    let ep = match read_addr(t, s, addr, len)? {
        Some(ep) => ep,
        // AF_UNSPEC with INADDR_ANY binds as AF_INET (Linux's compatibility rule).
        None if !s.v6 => {
            let raw = t.mm.read_vec(addr, SIN_LEN.min(len as usize))?;
            if raw.len() < SIN_LEN || raw[4..8] != [0; 4] {
                return Err(Errno::EAFNOSUPPORT);
            }
            IpEndpoint::new(
                IpAddress::v4(0, 0, 0, 0),
                u16::from_be_bytes([raw[2], raw[3]]),
            )
        }
        None => return Err(Errno::EAFNOSUPPORT),
    };
    if ep.port != 0 && ep.port < 1024 && t.creds.euid != 0 {
        return Err(Errno::EACCES);
    }
    s.bind(ep)?;
    Ok(0)
}

pub fn listen(s: &Arc<InetSocket>, backlog: i32) -> SysResult {
    s.listen(backlog)?;
    Ok(0)
}

pub fn connect(t: &mut Task, f: &OpenFile, s: &InetSocket, addr: u64, len: u64) -> SysResult {
    let to = read_addr(t, s, addr, len)?;
    let nonblock = nonblocking(f, 0);
    match s.connect(to) {
        Ok(()) => return Ok(0),
        Err(Errno::EINPROGRESS) | Err(Errno::EALREADY) if !nonblock => {}
        Err(e) => return Err(e),
    }
    // A blocking connect waits for the handshake (a restarted one keeps waiting, as Linux).
    let timeout = s.opts().sndtimeo;
    let r = blocking(t, s, false, timeout, || match s.connect_result()? {
        true => Ok(()),
        false => Err(Errno::EAGAIN),
    });
    match r {
        Ok(()) => Ok(0),
        // SO_SNDTIMEO ran out: still connecting.
        Err(Errno::EAGAIN) => Err(Errno::EINPROGRESS),
        Err(e) => Err(e),
    }
}

pub fn accept(t: &mut Task, f: &OpenFile, s: &InetSocket, a: [u64; 6]) -> SysResult {
    let flags = a[3] as i32;
    if !s.is_listening() {
        return Err(Errno::EINVAL);
    }
    let timeout = s.opts().rcvtimeo;
    let (conn, peer) = blocking(t, s, nonblocking(f, 0), timeout, || s.accept())?;
    write_addr(t, s.v6, a[1], a[2], peer)?;
    Ok(super::socket::install(t, conn, flags)? as u64)
}

pub fn getsockname(t: &mut Task, s: &InetSocket, addr: u64, len: u64) -> SysResult {
    write_addr(t, s.v6, addr, len, s.local())?;
    Ok(0)
}

pub fn getpeername(t: &mut Task, s: &InetSocket, addr: u64, len: u64) -> SysResult {
    let p = s.peer()?;
    write_addr(t, s.v6, addr, len, p)?;
    Ok(0)
}

pub fn shutdown(s: &InetSocket, how: i32) -> SysResult {
    s.shutdown(how)?;
    Ok(0)
}

/// send/sendto/sendmsg: all of `data` for a blocking stream socket (unless interrupted),
/// one datagram otherwise.
pub fn send(
    t: &mut Task,
    f: &OpenFile,
    s: &InetSocket,
    data: &[u8],
    flags: u64,
    to: Option<(u64, u64)>,
) -> SysResult {
    let dest = match to {
        Some((addr, len)) if addr != 0 => {
            let ep = read_addr(t, s, addr, len)?;
            if s.kind == Kind::Stream {
                // Linux ignores the address on a connected stream socket, and says EPIPE or
                // ENOTCONN otherwise, as for no address.
                None
            } else {
                Some(ep.ok_or(Errno::EAFNOSUPPORT)?)
            }
        }
        _ => None,
    };
    let nonblock = nonblocking(f, flags);
    let timeout = s.opts().sndtimeo;
    let mut total = 0usize;
    loop {
        let r = blocking(t, s, nonblock, timeout, || s.send(&data[total..], dest));
        match r {
            Ok(n) => {
                total += n;
                if s.kind == Kind::Dgram || total >= data.len() {
                    return Ok(total as u64);
                }
            }
            Err(Errno::EPIPE) if total == 0 => return Err(super::socket::epipe(t, flags)),
            Err(e) if total == 0 => return Err(e),
            Err(_) => return Ok(total as u64),
        }
        if nonblock {
            return Ok(total as u64);
        }
    }
}

/// What recv/recvfrom/recvmsg got: the bytes (none kept under a stream's MSG_TRUNC) and the
/// rest of `net::inet::Received`.
struct Got {
    buf: Vec<u8>,
    full: usize,
    from: Option<IpEndpoint>,
    to: Option<(IpAddress, u32)>,
}

impl Got {
    /// The call's return value: MSG_TRUNC makes a datagram socket return its whole length.
    fn ret(&self, s: &InetSocket, flags: u64) -> u64 {
        if flags & libc::MSG_TRUNC as u64 != 0 && s.kind == Kind::Dgram {
            return self.full as u64;
        }
        self.buf.len() as u64
    }

    /// Whether the bytes go to the application: MSG_TRUNC on a stream discards them.
    fn copies(s: &InetSocket, flags: u64) -> bool {
        !(s.kind == Kind::Stream && flags & libc::MSG_TRUNC as u64 != 0)
    }
}

/// The largest buffer one receive fills: a stream gives at most what its receive buffer
/// holds (`TCP_BUF`; more arrives only as the application reads), a datagram 64 KiB.
fn recv_cap(s: &InetSocket, want: usize, waitall: bool) -> usize {
    match s.kind {
        Kind::Dgram => want.min(1 << 16),
        Kind::Stream if waitall => want.min(1 << 26),
        Kind::Stream => want.min(crate::net::stack::TCP_BUF),
    }
}

fn recv(t: &mut Task, f: &OpenFile, s: &InetSocket, want: usize, flags: u64) -> Result<Got, Errno> {
    // Urgent data is never held apart (see SIOCATMARK), so there is none to read out of band:
    // tcp_recvmsg says ENOTCONN on a listener, then EINVAL.
    if flags & libc::MSG_OOB as u64 != 0 && s.kind == Kind::Stream {
        return Err(if s.is_listening() {
            Errno::ENOTCONN
        } else {
            Errno::EINVAL
        });
    }
    let peek = flags & libc::MSG_PEEK as u64 != 0;
    let waitall = flags & libc::MSG_WAITALL as u64 != 0 && s.kind == Kind::Stream && !peek;
    let nonblock = nonblocking(f, flags);
    let timeout = s.opts().rcvtimeo;
    let cap = recv_cap(s, want, waitall);
    let mut buf = vec![0u8; cap];
    let mut got = 0usize;
    let mut first = None;
    loop {
        let r = blocking(t, s, nonblock, timeout, || s.recv(&mut buf[got..], peek));
        match r {
            Ok(r) => {
                got += r.n;
                let n = r.n;
                first.get_or_insert(r);
                if !waitall || got >= cap || n == 0 {
                    break;
                }
            }
            Err(e) if got == 0 => return Err(e),
            Err(_) => break,
        }
    }
    buf.truncate(got);
    let first = first.unwrap_or_default();
    let full = if s.kind == Kind::Stream {
        got
    } else {
        first.full
    };
    Ok(Got {
        buf,
        full,
        from: first.from,
        to: first.to,
    })
}

pub fn recvfrom(t: &mut Task, f: &OpenFile, s: &InetSocket, a: [u64; 6]) -> SysResult {
    let flags = a[3];
    let got = recv(t, f, s, a[2] as usize, flags)?;
    if Got::copies(s, flags) {
        t.mm.write_bytes(a[1], &got.buf)?;
    }
    if let (Some(from), true) = (got.from, a[4] != 0) {
        write_addr(t, s.v6, a[4], a[5], from)?;
    }
    Ok(got.ret(s, flags))
}

/// The control messages a datagram carries: IP_PKTINFO / IPV6_PKTINFO when asked for.
fn control(s: &InetSocket, got: &Got, room: usize, msg_flags: &mut i32) -> Vec<u8> {
    let mut out = Vec::new();
    let Some((to, index)) = got.to else {
        return out;
    };
    let o = s.opts();
    let v4 = match to {
        IpAddress::Ipv4(a) => Some(a.octets()),
        IpAddress::Ipv6(_) => None,
    };
    if let (true, Some(a)) = (o.flag(libc::IPPROTO_IP, libc::IP_PKTINFO), v4) {
        // struct in_pktinfo: ifindex, spec_dst, addr.
        let mut d = index.to_ne_bytes().to_vec();
        d.extend_from_slice(&a);
        d.extend_from_slice(&a);
        super::socket::put_cmsg(
            &mut out,
            room,
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            &d,
            msg_flags,
        );
    }
    if s.v6 && o.flag(libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO) {
        // struct in6_pktinfo: the address (IPv4 ones mapped), ifindex.
        let addr = match to {
            IpAddress::Ipv6(a) => a.octets(),
            IpAddress::Ipv4(a) => std::net::Ipv4Addr::from(a.octets())
                .to_ipv6_mapped()
                .octets(),
        };
        let mut d = addr.to_vec();
        d.extend_from_slice(&index.to_ne_bytes());
        super::socket::put_cmsg(
            &mut out,
            room,
            libc::IPPROTO_IPV6,
            libc::IPV6_PKTINFO,
            &d,
            msg_flags,
        );
    }
    out
}

/// recvmsg: the header at `hdr` (name, iovecs, control).
pub fn recvmsg(t: &mut Task, f: &OpenFile, s: &InetSocket, hdr: u64, flags: u64) -> SysResult {
    let h: [u64; 7] = t.mm.copy_in(hdr)?;
    let (name, iov, iovlen, ctl, ctllen) = (h[0], h[2], h[3], h[4], h[5]);
    let iovs = super::socket::read_iovs(t, iov, iovlen)?;
    let want = iovs
        .iter()
        .fold(0usize, |c, v| c.saturating_add(v[1] as usize));
    let got = recv(t, f, s, want, flags)?;
    if Got::copies(s, flags) {
        super::socket::scatter(t, &iovs, &got.buf)?;
    }
    let mut msg_flags = 0i32;
    if got.full > got.buf.len() {
        msg_flags |= libc::MSG_TRUNC;
    }
    let control = control(s, &got, ctllen as usize, &mut msg_flags);
    if !control.is_empty() {
        t.mm.write_bytes(ctl, &control)?;
    }
    t.mm.copy_out(hdr.wrapping_add(40), &(control.len() as u64))?;
    t.mm.copy_out(hdr.wrapping_add(48), &msg_flags)?;
    match (got.from, name != 0) {
        (Some(from), true) => write_addr(t, s.v6, name, hdr.wrapping_add(8), from)?,
        _ => t.mm.copy_out(hdr.wrapping_add(8), &0u32)?,
    }
    Ok(got.ret(s, flags))
}

pub(super) fn timeval_in(t: &Task, addr: u64, len: u64) -> Result<Option<Duration>, Errno> {
    if len < std::mem::size_of::<libc::timeval>() as u64 {
        return Err(Errno::EINVAL);
    }
    let tv: libc::timeval = t.mm.copy_in(addr)?;
    if !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(Errno::EDOM);
    }
    Ok(if tv.tv_sec < 0 {
        Some(Duration::ZERO)
    } else if tv.tv_sec == 0 && tv.tv_usec == 0 {
        None
    } else {
        Some(Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
    })
}

pub(super) fn timeval_out(d: Option<Duration>) -> Vec<u8> {
    let d = d.unwrap_or_default();
    let mut v = (d.as_secs() as i64).to_ne_bytes().to_vec();
    v.extend_from_slice(&(d.subsec_micros() as i64).to_ne_bytes());
    v
}

/// Whether `level` is one this socket has options at: Ok(true) yes, Ok(false) a level Linux
/// knows but not for this socket (get: EOPNOTSUPP; set: ENOPROTOOPT), as for unknown levels.
fn level_applies(s: &InetSocket, level: i32) -> bool {
    match level {
        libc::SOL_SOCKET | libc::IPPROTO_IP => true,
        libc::IPPROTO_IPV6 => s.v6,
        libc::IPPROTO_TCP => s.kind == Kind::Stream,
        libc::IPPROTO_UDP => s.kind == Kind::Dgram,
        _ => false,
    }
}

/// A kept option (see `net::sockopt`) this socket has.
fn kept(s: &InetSocket, level: i32, name: i32) -> Option<&'static sockopt::IntOpt> {
    sockopt::find(level, name).filter(|o| match o.applies {
        sockopt::Applies::All => true,
        sockopt::Applies::Stream => s.kind == Kind::Stream,
        sockopt::Applies::Dgram => s.kind == Kind::Dgram,
    })
}

/// SO_RCVBUF/SO_SNDBUF: Linux caps the value by {r,w}mem_max (unless forced), doubles it for
/// bookkeeping, and has floors.
fn buf_size(v: i32, max: i32, min: i32, force: bool) -> i32 {
    let v = v as u32;
    let v = if force {
        v.min(i32::MAX as u32 / 2)
    } else {
        v.min(max as u32)
    };
    ((v * 2) as i32).max(min)
}

pub fn setsockopt(
    t: &mut Task,
    s: &InetSocket,
    level: i32,
    name: i32,
    val: u64,
    len: u64,
) -> SysResult {
    if !level_applies(s, level) {
        return Err(Errno::ENOPROTOOPT);
    }
    if level == libc::SOL_SOCKET && (name == libc::SO_RCVTIMEO || name == libc::SO_SNDTIMEO) {
        let d = timeval_in(t, val, len)?;
        s.set_opts(|o| {
            if name == libc::SO_RCVTIMEO {
                o.rcvtimeo = d;
            } else {
                o.sndtimeo = d;
            }
            Ok(())
        })?;
        return Ok(0);
    }
    if level == libc::SOL_SOCKET && name == libc::SO_LINGER {
        if len < std::mem::size_of::<libc::linger>() as u64 {
            return Err(Errno::EINVAL);
        }
        let l: [i32; 2] = t.mm.copy_in(val)?;
        s.set_opts(|o| {
            o.linger = (l[0] != 0).then_some(l[1].max(0) as u32);
            Ok(())
        })?;
        return Ok(0);
    }
    // Everything else is an int (a shorter value is EINVAL, as Linux's for most of them).
    if len < 4 {
        return Err(Errno::EINVAL);
    }
    let v: i32 = t.mm.copy_in(val)?;
    let set = |f: &dyn Fn(&mut Opts)| {
        s.set_opts(|o| {
            f(o);
            Ok(())
        })
    };
    if let Some(k) = kept(s, level, name) {
        let v = k.accept(v)?;
        return s
            .set_opts(|o| {
                o.ints.insert((level, name), v);
                Ok(())
            })
            .map(|()| 0);
    }
    let admin = t.creds.has_cap(caps::Capability::CAP_NET_ADMIN);
    match (level, name) {
        (libc::SOL_SOCKET, libc::SO_REUSEADDR) => set(&|o| o.reuseaddr = v != 0)?,
        (libc::SOL_SOCKET, libc::SO_REUSEPORT) => set(&|o| o.reuseport = v != 0)?,
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE) => set(&|o| o.keepalive = v != 0)?,
        (libc::SOL_SOCKET, libc::SO_BROADCAST) => set(&|o| o.broadcast = v != 0)?,
        (libc::SOL_SOCKET, libc::SO_OOBINLINE) => set(&|o| o.oobinline = v != 0)?,
        (libc::SOL_SOCKET, libc::SO_RCVBUF | libc::SO_RCVBUFFORCE) => {
            let force = name == libc::SO_RCVBUFFORCE;
            if force && !admin {
                return Err(Errno::EPERM);
            }
            let n = buf_size(v, sockopt::RMEM_MAX, sockopt::MIN_RCVBUF, force);
            set(&|o| o.rcvbuf = n)?
        }
        (libc::SOL_SOCKET, libc::SO_SNDBUF | libc::SO_SNDBUFFORCE) => {
            let force = name == libc::SO_SNDBUFFORCE;
            if force && !admin {
                return Err(Errno::EPERM);
            }
            let n = buf_size(v, sockopt::WMEM_MAX, sockopt::MIN_SNDBUF, force);
            set(&|o| o.sndbuf = n)?
        }
        // A low-water mark of 0 is 1; Linux has no SO_SNDLOWAT to set.
        (libc::SOL_SOCKET, libc::SO_RCVLOWAT) => set(&|o| o.rcvlowat = v.max(1))?,
        (libc::IPPROTO_TCP, libc::TCP_NODELAY) => set(&|o| o.nodelay = v != 0)?,
        (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE) => {
            if !(1..=32767).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set(&|o| o.keepidle = v)?
        }
        (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL) => {
            if !(1..=32767).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set(&|o| o.keepintvl = v)?
        }
        (libc::IPPROTO_TCP, libc::TCP_KEEPCNT) => {
            if !(1..=127).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set(&|o| o.keepcnt = v)?
        }
        // Linux's TCP_MIN_MSS and MAX_TCP_WINDOW.
        (libc::IPPROTO_TCP, libc::TCP_MAXSEG) => {
            if v != 0 && !(88..=32767).contains(&v) {
                return Err(Errno::EINVAL);
            }
            set(&|o| o.maxseg = v)?
        }
        (libc::IPPROTO_IP, libc::IP_TTL) => {
            let ttl = if v == -1 { 64 } else { v };
            if !(1..=255).contains(&ttl) {
                return Err(Errno::EINVAL);
            }
            set(&|o| o.ttl = ttl)?
        }
        (libc::IPPROTO_IP, libc::IP_TOS) => set(&|o| o.tos = v & 0xfc)?,
        (libc::IPPROTO_IPV6, libc::IPV6_V6ONLY) => {
            // Fixed once the socket has a port.
            if s.local().port != 0 {
                return Err(Errno::EINVAL);
            }
            set(&|o| o.v6only = v != 0)?;
        }
        (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS) => {
            let hops = if v == -1 { 64 } else { v };
            if !(0..=255).contains(&hops) {
                return Err(Errno::EINVAL);
            }
            set(&|o| o.ttl = hops)?
        }
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(0)
}

/// struct tcp_info as Linux lays out its first 104 bytes (up to tcpi_total_retrans): what
/// the stack knows is filled in, counters it does not keep are 0.
fn tcp_info(i: &crate::net::inet::TcpInfo) -> Vec<u8> {
    let mut b = vec![0u8; 104];
    b[0] = i.state;
    // tcpi_snd_mss at 24, tcpi_rcv_mss at 28, tcpi_pmtu at 64, tcpi_advmss at 88.
    b[24..28].copy_from_slice(&i.mss.to_ne_bytes());
    b[28..32].copy_from_slice(&i.mss.to_ne_bytes());
    b[64..68].copy_from_slice(&i.pmtu.to_ne_bytes());
    b[88..92].copy_from_slice(&i.mss.to_ne_bytes());
    b
}

pub fn getsockopt(
    t: &mut Task,
    s: &InetSocket,
    level: i32,
    name: i32,
    val: u64,
    len_addr: u64,
) -> SysResult {
    let len: u32 = t.mm.copy_in(len_addr)?;
    if (len as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    if !level_applies(s, level) {
        return Err(Errno::EOPNOTSUPP);
    }
    let o = s.opts();
    let stream = s.kind == Kind::Stream;
    let int = |v: i32| v.to_ne_bytes().to_vec();
    let out: Vec<u8> = match (level, name) {
        _ if kept(s, level, name).is_some() => int(kept(s, level, name).map_or(0, |k| o.int(k))),
        (libc::SOL_SOCKET, libc::SO_TYPE) => int(if stream {
            libc::SOCK_STREAM
        } else {
            libc::SOCK_DGRAM
        }),
        (libc::SOL_SOCKET, libc::SO_DOMAIN) => {
            int(if s.v6 { libc::AF_INET6 } else { libc::AF_INET })
        }
        (libc::SOL_SOCKET, libc::SO_PROTOCOL) => int(if stream {
            libc::IPPROTO_TCP
        } else {
            libc::IPPROTO_UDP
        }),
        (libc::SOL_SOCKET, libc::SO_ERROR) => int(s.take_error()),
        (libc::SOL_SOCKET, libc::SO_ACCEPTCONN) => int(s.is_listening() as i32),
        (libc::SOL_SOCKET, libc::SO_REUSEADDR) => int(o.reuseaddr as i32),
        (libc::SOL_SOCKET, libc::SO_REUSEPORT) => int(o.reuseport as i32),
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE) => int(o.keepalive as i32),
        (libc::SOL_SOCKET, libc::SO_BROADCAST) => int(o.broadcast as i32),
        (libc::SOL_SOCKET, libc::SO_OOBINLINE) => int(o.oobinline as i32),
        (libc::SOL_SOCKET, libc::SO_RCVBUF) => int(o.rcvbuf),
        (libc::SOL_SOCKET, libc::SO_SNDBUF) => int(o.sndbuf),
        (libc::SOL_SOCKET, libc::SO_RCVLOWAT) => int(o.rcvlowat),
        (libc::SOL_SOCKET, libc::SO_SNDLOWAT) => int(1),
        (libc::SOL_SOCKET, libc::SO_RCVTIMEO) => timeval_out(o.rcvtimeo),
        (libc::SOL_SOCKET, libc::SO_SNDTIMEO) => timeval_out(o.sndtimeo),
        (libc::SOL_SOCKET, libc::SO_LINGER) => {
            let mut v = int(o.linger.is_some() as i32);
            v.extend_from_slice(&(o.linger.unwrap_or(0) as i32).to_ne_bytes());
            v
        }
        (libc::IPPROTO_TCP, libc::TCP_NODELAY) => int(o.nodelay as i32),
        (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE) => int(o.keepidle),
        (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL) => int(o.keepintvl),
        (libc::IPPROTO_TCP, libc::TCP_KEEPCNT) => int(o.keepcnt),
        (libc::IPPROTO_TCP, libc::TCP_MAXSEG) => int(s.tcp_info().mss as i32),
        (libc::IPPROTO_TCP, libc::TCP_INFO) => tcp_info(&s.tcp_info()),
        (libc::IPPROTO_IP, libc::IP_TTL) => int(o.ttl),
        (libc::IPPROTO_IP, libc::IP_TOS) => int(o.tos),
        (libc::IPPROTO_IPV6, libc::IPV6_V6ONLY) => int(o.v6only as i32),
        (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS) => int(o.ttl),
        _ => return Err(Errno::ENOPROTOOPT),
    };
    let n = out.len().min(len as usize);
    t.mm.write_bytes(val, &out[..n])?;
    t.mm.copy_out(len_addr, &(n as u32))?;
    Ok(0)
}
