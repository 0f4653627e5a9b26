//! Socket syscalls on inet sockets under `--network host` (see `net::hostinet`): the sentry
//! checks what the application passes (address families, option names and sizes), waits
//! where the call would block, and leaves the protocol's answers, errno included, to the
//! host kernel, which is Linux.

use std::sync::Arc;

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::net::hostinet::{option_size, HostSocket, Kind};
use crate::vfs::OpenFile;

use super::inet::{addr_out, blocking, nonblocking};

/// Send flags handed to the host (MSG_DONTWAIT and MSG_NOSIGNAL are the sentry's business).
const SEND_FLAGS: i32 = libc::MSG_OOB | libc::MSG_DONTROUTE | libc::MSG_MORE | libc::MSG_EOR;
/// Receive flags handed to the host (MSG_WAITALL is looped on by the sentry).
const RECV_FLAGS: i32 = libc::MSG_PEEK | libc::MSG_TRUNC | libc::MSG_OOB;

/// The host socket behind an open file, if it is one.
pub fn host_of(f: &Arc<OpenFile>) -> Option<Arc<HostSocket>> {
    let ops: Arc<dyn crate::vfs::FileOps> = f.ops.clone();
    crate::vfs::file::as_any_arc(ops)?
        .downcast::<HostSocket>()
        .ok()
}

/// socket(AF_INET/AF_INET6, ...) in host mode: TCP and UDP sockets.
pub fn create(t: &Task, v6: bool, ty: i32, proto: i32) -> Result<Arc<HostSocket>, Errno> {
    super::inet::precheck(t, v6, ty, proto)?;
    let kind = match ty {
        libc::SOCK_STREAM => Kind::Stream,
        libc::SOCK_DGRAM => Kind::Dgram,
        libc::SOCK_RAW => return Err(Errno::EPERM),
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    match (kind, proto) {
        (_, 0) | (Kind::Stream, libc::IPPROTO_TCP) | (Kind::Dgram, libc::IPPROTO_UDP) => {}
        _ => return Err(Errno::EPROTONOSUPPORT),
    }
    HostSocket::create(v6, kind, proto, t.creds.fsuid)
}

/// An address from the application, as bytes for the host: at most 128 of them, of family
/// AF_INET, AF_INET6 or AF_UNSPEC (the host judges the rest as Linux does).
fn addr_in(t: &Task, addr: u64, len: u64) -> Result<Vec<u8>, Errno> {
    if !(2..=128).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let raw = t.mm.read_vec(addr, len as usize)?;
    match u16::from_ne_bytes([raw[0], raw[1]]) as i32 {
        libc::AF_INET | libc::AF_INET6 | libc::AF_UNSPEC => Ok(raw),
        _ => Err(Errno::EAFNOSUPPORT),
    }
}

pub fn bind(t: &mut Task, s: &HostSocket, addr: u64, len: u64) -> SysResult {
    s.bind(&addr_in(t, addr, len)?)?;
    Ok(0)
}

pub fn listen(s: &HostSocket, backlog: i32) -> SysResult {
    s.listen(backlog)?;
    Ok(0)
}

pub fn connect(t: &mut Task, f: &OpenFile, s: &HostSocket, addr: u64, len: u64) -> SysResult {
    let to = addr_in(t, addr, len)?;
    match s.connect(&to) {
        Err(Errno::EINPROGRESS) if !nonblocking(f, 0) && s.kind == Kind::Stream => {}
        r => return r.map(|()| 0),
    }
    // A blocking connect waits until the socket is writable, then asks again: the host
    // answers EISCONN, or the error, leaving the socket unconnected as a blocking connect
    // that failed does (a later connect may try elsewhere).
    let r = blocking(t, s, false, s.timeout(true), || {
        let ready = crate::vfs::FileOps::readiness(s);
        if ready & (libc::POLLOUT | libc::POLLERR | libc::POLLHUP) as u32 == 0 {
            return Err(Errno::EAGAIN);
        }
        match s.connect(&to) {
            Ok(()) | Err(Errno::EISCONN) => Ok(()),
            Err(Errno::EALREADY) | Err(Errno::EINPROGRESS) => Err(Errno::EAGAIN),
            Err(e) => Err(e),
        }
    });
    match r {
        Ok(()) => Ok(0),
        Err(Errno::EAGAIN) => Err(Errno::EINPROGRESS),
        Err(e) => Err(e),
    }
}

pub fn accept(t: &mut Task, f: &OpenFile, s: &HostSocket, a: [u64; 6]) -> SysResult {
    let flags = a[3] as i32;
    let (conn, peer) = blocking(t, s, nonblocking(f, 0), s.timeout(false), || s.accept())?;
    addr_out(t, a[1], a[2], &peer)?;
    Ok(super::socket::install(t, conn, flags)? as u64)
}

/// getsockname (`peer` false) and getpeername.
pub fn name(t: &mut Task, s: &HostSocket, peer: bool, addr: u64, len: u64) -> SysResult {
    let b = s.name(peer)?;
    addr_out(t, addr, len, &b)?;
    Ok(0)
}

pub fn shutdown(s: &HostSocket, how: i32) -> SysResult {
    s.shutdown(how)?;
    Ok(0)
}

pub fn setsockopt(
    t: &mut Task,
    s: &HostSocket,
    level: i32,
    name: i32,
    val: u64,
    len: u64,
) -> SysResult {
    if level == libc::SOL_SOCKET && (name == libc::SO_RCVTIMEO || name == libc::SO_SNDTIMEO) {
        let d = super::inet::timeval_in(t, val, len)?;
        s.set_timeout(name == libc::SO_SNDTIMEO, d);
        return Ok(0);
    }
    let size = option_size(level, name, true).ok_or(Errno::ENOPROTOOPT)?;
    if (len as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let v = t.mm.read_vec(val, (len as usize).min(size))?;
    s.setsockopt(level, name, &v)?;
    Ok(0)
}

pub fn getsockopt(
    t: &mut Task,
    s: &HostSocket,
    level: i32,
    name: i32,
    val: u64,
    len_addr: u64,
) -> SysResult {
    let len: i32 = t.mm.copy_in(len_addr)?;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let v = if level == libc::SOL_SOCKET && (name == libc::SO_RCVTIMEO || name == libc::SO_SNDTIMEO)
    {
        super::inet::timeval_out(s.timeout(name == libc::SO_SNDTIMEO))
    } else {
        let size = option_size(level, name, false).ok_or(Errno::ENOPROTOOPT)?;
        s.getsockopt(level, name, size)?
    };
    let n = v.len().min(len as usize);
    t.mm.write_bytes(val, &v[..n])?;
    t.mm.copy_out(len_addr, &(n as u32))?;
    Ok(0)
}

/// send/sendto/sendmsg: all of `data` for a blocking stream socket (unless interrupted).
pub fn send(
    t: &mut Task,
    f: &OpenFile,
    s: &HostSocket,
    data: &[u8],
    flags: u64,
    to: Option<(u64, u64)>,
) -> SysResult {
    let dest = match to {
        Some((addr, len)) if addr != 0 => Some(addr_in(t, addr, len)?),
        _ => None,
    };
    let nonblock = nonblocking(f, flags);
    let host_flags = flags as i32 & SEND_FLAGS;
    let mut total = 0usize;
    loop {
        let r = blocking(t, s, nonblock, s.timeout(true), || {
            s.send(&data[total..], host_flags, dest.as_deref())
        });
        match r {
            Ok(n) => {
                total += n;
                if s.kind == Kind::Dgram || total >= data.len() || nonblock {
                    return Ok(total as u64);
                }
            }
            Err(Errno::EPIPE) if total == 0 => return Err(super::socket::epipe(t, flags)),
            Err(e) if total == 0 => return Err(e),
            Err(_) => return Ok(total as u64),
        }
    }
}

/// What one receive got: the bytes, the length to report under MSG_TRUNC, the sender.
struct Got {
    buf: Vec<u8>,
    full: usize,
    from: Vec<u8>,
}

fn recv(t: &mut Task, f: &OpenFile, s: &HostSocket, want: usize, flags: u64) -> Result<Got, Errno> {
    let peek = flags & libc::MSG_PEEK as u64 != 0;
    let waitall = flags & libc::MSG_WAITALL as u64 != 0 && s.kind == Kind::Stream && !peek;
    let mut host_flags = flags as i32 & RECV_FLAGS;
    if s.kind == Kind::Dgram {
        // The datagram's whole length, to tell truncation.
        host_flags |= libc::MSG_TRUNC;
    }
    let cap = match s.kind {
        Kind::Dgram => want.min(1 << 16),
        Kind::Stream if waitall => want.min(1 << 26),
        Kind::Stream => want.min(1 << 20),
    };
    let nonblock = nonblocking(f, flags);
    let mut buf = vec![0u8; cap];
    let mut got = 0usize;
    let mut first: Option<(usize, Vec<u8>)> = None;
    loop {
        let r = blocking(t, s, nonblock, s.timeout(false), || {
            s.recv(&mut buf[got..], host_flags)
        });
        match r {
            Ok((n, from)) => {
                let copied = n.min(cap - got);
                got += copied;
                first.get_or_insert((n, from));
                if !waitall || got >= cap || n == 0 {
                    break;
                }
            }
            Err(e) if got == 0 => return Err(e),
            Err(_) => break,
        }
    }
    buf.truncate(got);
    let (n, from) = first.unwrap_or_default();
    let full = if s.kind == Kind::Dgram { n } else { got };
    Ok(Got { buf, full, from })
}

/// Whether received bytes go to the application: MSG_TRUNC on a stream discards them.
fn copies(s: &HostSocket, flags: u64) -> bool {
    !(s.kind == Kind::Stream && flags & libc::MSG_TRUNC as u64 != 0)
}

/// The call's return value: MSG_TRUNC makes a datagram socket return its whole length.
fn returned(s: &HostSocket, got: &Got, flags: u64) -> u64 {
    if s.kind == Kind::Dgram && flags & libc::MSG_TRUNC as u64 != 0 {
        got.full as u64
    } else {
        got.buf.len() as u64
    }
}

pub fn recvfrom(t: &mut Task, f: &OpenFile, s: &HostSocket, a: [u64; 6]) -> SysResult {
    let flags = a[3];
    let got = recv(t, f, s, a[2] as usize, flags)?;
    if copies(s, flags) {
        t.mm.write_bytes(a[1], &got.buf)?;
    }
    if a[4] != 0 && !got.from.is_empty() {
        addr_out(t, a[4], a[5], &got.from)?;
    }
    Ok(returned(s, &got, flags))
}

/// recvmsg: the header at `hdr` (name, iovecs; no control messages are delivered).
pub fn recvmsg(t: &mut Task, f: &OpenFile, s: &HostSocket, hdr: u64, flags: u64) -> SysResult {
    let h: [u64; 7] = t.mm.copy_in(hdr)?;
    let (name, iov, iovlen) = (h[0], h[2], h[3]);
    let iovs = super::socket::read_iovs(t, iov, iovlen)?;
    let want = iovs
        .iter()
        .fold(0usize, |c, v| c.saturating_add(v[1] as usize));
    let got = recv(t, f, s, want, flags)?;
    if copies(s, flags) {
        super::socket::scatter(t, &iovs, &got.buf)?;
    }
    let msg_flags = if got.full > got.buf.len() && s.kind == Kind::Dgram {
        libc::MSG_TRUNC
    } else {
        0
    };
    t.mm.copy_out(hdr.wrapping_add(40), &0u64)?;
    t.mm.copy_out(hdr.wrapping_add(48), &msg_flags)?;
    if name != 0 && !got.from.is_empty() {
        addr_out(t, name, hdr.wrapping_add(8), &got.from)?;
    } else {
        t.mm.copy_out(hdr.wrapping_add(8), &0u32)?;
    }
    Ok(returned(s, &got, flags))
}
