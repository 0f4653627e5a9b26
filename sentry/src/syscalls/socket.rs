//! Socket syscalls. Unix domain sockets are handled here; AF_INET and AF_INET6 ones in
//! `inet.rs`, which each call hands its socket to; other families are EAFNOSUPPORT, which is
//! what Linux says for a family it lacks.

use std::sync::Arc;

use super::fd_arg;
use super::hostinet;
use super::inet;
use super::netlink;
use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::net::hostinet::HostSocket;
use crate::net::inet::InetSocket;
use crate::net::netlink::NetlinkSocket;
use crate::net::unix::{Cred, Kind, UnixSocket, SCM_MAX_FD};
use crate::vfs::{FileOps, OpenFile};

const SOCK_TYPE_MASK: i32 = 0xf;
const SOL_SOCKET: i32 = libc::SOL_SOCKET;

fn cred(t: &Task) -> Cred {
    (t.tgid, t.creds.uid, t.creds.gid)
}

/// A new socket (or accepted connection) in the descriptor table, with SOCK_NONBLOCK and
/// SOCK_CLOEXEC from `flags`.
pub(super) fn install(t: &Task, s: Arc<dyn FileOps>, flags: i32) -> Result<i32, Errno> {
    let status = if flags & libc::SOCK_NONBLOCK != 0 {
        libc::O_NONBLOCK as u32
    } else {
        0
    };
    let f = OpenFile::new(None, s, libc::O_RDWR as u32 | status);
    t.fds
        .install(f, flags & libc::SOCK_CLOEXEC != 0, 0, t.nofile())
}

/// An open file and the inet socket it is.
type Inet = (Arc<OpenFile>, Arc<InetSocket>);

/// The inet socket behind `fd`, if that is what it is.
fn inet_sock(t: &Task, fd: u64) -> Result<Option<Inet>, Errno> {
    let f = t.fds.get(fd_arg(fd))?;
    Ok(inet::inet_of(&f).map(|s| (f, s)))
}

/// An open file and the host socket it is (`--network host`).
type Host = (Arc<OpenFile>, Arc<HostSocket>);

/// The host socket behind `fd`, if that is what it is (only `--network host` has them: no
/// extra descriptor lookup on the socket calls otherwise).
fn host_sock(t: &Task, fd: u64) -> Result<Option<Host>, Errno> {
    if !t.k.host_network() {
        return Ok(None);
    }
    let f = t.fds.get(fd_arg(fd))?;
    Ok(hostinet::host_of(&f).map(|s| (f, s)))
}

/// An open file and the netlink socket it is.
type Netlink = (Arc<OpenFile>, Arc<NetlinkSocket>);

/// The netlink socket behind descriptor `fd`, if it is one.
fn nl_sock(t: &Task, fd: u64) -> Result<Option<Netlink>, Errno> {
    let f = t.fds.get(fd_arg(fd))?;
    Ok(netlink::netlink_of(&f).map(|s| (f, s)))
}

fn sock_of(t: &Task, fd: i32) -> Result<(Arc<OpenFile>, Arc<UnixSocket>), Errno> {
    let f = t.fds.get(fd)?;
    let s = socket_arc(&f).ok_or(Errno::ENOTSOCK)?;
    Ok((f, s))
}

/// Typed access to the socket behind an open file.
fn socket_arc(f: &Arc<OpenFile>) -> Option<Arc<UnixSocket>> {
    let ops: Arc<dyn crate::vfs::FileOps> = f.ops.clone();
    let any: Arc<dyn std::any::Any + Send + Sync> = crate::vfs::file::as_any_arc(ops)?;
    any.downcast::<UnixSocket>().ok()
}

fn parse_type(ty: u64) -> Result<(Kind, i32), Errno> {
    let ty = ty as i32;
    let flags = ty & !SOCK_TYPE_MASK;
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    // SOCK_MAX (linux/net.h) is SOCK_PACKET + 1.
    const SOCK_MAX: i32 = 11;
    if ty & SOCK_TYPE_MASK >= SOCK_MAX {
        return Err(Errno::EINVAL);
    }
    let kind = Kind::from_type(ty & SOCK_TYPE_MASK).ok_or(Errno::ESOCKTNOSUPPORT)?;
    Ok((kind, flags))
}

pub fn socket(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (domain, proto) = (a[0] as i32, a[2] as i32);
    if domain == libc::AF_INET || domain == libc::AF_INET6 {
        let ty = a[1] as i32;
        let flags = ty & !SOCK_TYPE_MASK;
        if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
            return Err(Errno::EINVAL);
        }
        let v6 = domain == libc::AF_INET6;
        if t.k.host_network() {
            let s = hostinet::create(t, v6, ty & SOCK_TYPE_MASK, proto)?;
            return Ok(install(t, s, flags)? as u64);
        }
        let s = inet::create(t, v6, ty & SOCK_TYPE_MASK, proto)?;
        return Ok(install(t, s, flags)? as u64);
    }
    if domain == libc::AF_NETLINK {
        let ty = a[1] as i32;
        let flags = ty & !SOCK_TYPE_MASK;
        if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
            return Err(Errno::EINVAL);
        }
        let s = netlink::create(t, ty & SOCK_TYPE_MASK, proto)?;
        return Ok(install(t, s, flags)? as u64);
    }
    if domain != libc::AF_UNIX {
        return Err(Errno::EAFNOSUPPORT);
    }
    let (kind, flags) = parse_type(a[1])?;
    if proto != 0 && proto != libc::PF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    Ok(install(t, UnixSocket::new(kind), flags)? as u64)
}

pub fn socketpair(t: &mut Task, a: [u64; 6]) -> SysResult {
    let domain = a[0] as i32;
    if domain == libc::AF_INET || domain == libc::AF_INET6 {
        return Err(Errno::EOPNOTSUPP);
    }
    if domain != libc::AF_UNIX {
        return Err(Errno::EAFNOSUPPORT);
    }
    let (kind, flags) = parse_type(a[1])?;
    if a[2] != 0 {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let (x, y) = UnixSocket::pair(kind, cred(t));
    let fx = install(t, x, flags)?;
    let fy = match install(t, y, flags) {
        Ok(f) => f,
        Err(e) => {
            let _ = t.fds.remove(fx);
            return Err(e);
        }
    };
    if let Err(e) = t.mm.copy_out(a[3], &[fx, fy]) {
        let _ = t.fds.remove(fx);
        let _ = t.fds.remove(fy);
        return Err(e);
    }
    Ok(0)
}

/// The name in a sockaddr_un: abstract (leading NUL) names only for now.
/// A unix socket address from the application.
enum Addr {
    /// An abstract name (starting with NUL).
    Abstract(Vec<u8>),
    /// A path in the file system (without its NUL).
    Path(Vec<u8>),
    /// Only the family: bind autobinds.
    Unnamed,
}

fn read_addr(t: &Task, addr: u64, len: u64) -> Result<Addr, Errno> {
    if !(2..=110).contains(&len) {
        return Err(Errno::EINVAL);
    }
    let raw = t.mm.read_vec(addr, len as usize)?;
    if u16::from_le_bytes([raw[0], raw[1]]) != libc::AF_UNIX as u16 {
        return Err(Errno::EINVAL);
    }
    let path = &raw[2..];
    Ok(match path.first() {
        None => Addr::Unnamed,
        Some(0) => Addr::Abstract(path.to_vec()),
        Some(_) => {
            let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
            Addr::Path(path[..end].to_vec())
        }
    })
}

/// The socket an address names (connect, sendto).
fn find_peer(t: &Task, a: &Addr) -> Result<Arc<UnixSocket>, Errno> {
    match a {
        Addr::Abstract(name) => t.k.unix.find(name).ok_or(Errno::ECONNREFUSED),
        Addr::Path(path) => {
            let ident = super::fs::socket_node(t, path)?;
            t.k.unix.find_node(ident).ok_or(Errno::ECONNREFUSED)
        }
        Addr::Unnamed => Err(Errno::EINVAL),
    }
}

fn write_addr(t: &Task, addr: u64, len_addr: u64, name: Option<&[u8]>) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    let avail: u32 = t.mm.copy_in(len_addr)?;
    let mut b = (libc::AF_UNIX as u16).to_le_bytes().to_vec();
    if let Some(n) = name {
        b.extend_from_slice(n);
    }
    let n = b.len().min(avail as usize);
    t.mm.write_bytes(addr, &b[..n])?;
    t.mm.copy_out(len_addr, &(b.len() as u32))?;
    Ok(())
}

pub fn bind(t: &mut Task, a: [u64; 6]) -> SysResult {
    if let Some((_, s)) = nl_sock(t, a[0])? {
        return netlink::bind(t, &s, a[1], a[2]);
    }
    if let Some((_, s)) = inet_sock(t, a[0])? {
        return inet::bind(t, &s, a[1], a[2]);
    }
    if let Some((_, s)) = host_sock(t, a[0])? {
        return hostinet::bind(t, &s, a[1], a[2]);
    }
    let (_, s) = sock_of(t, fd_arg(a[0]))?;
    match read_addr(t, a[1], a[2])? {
        Addr::Abstract(name) => t.k.unix.bind(&name, &s)?,
        Addr::Unnamed => t.k.unix.autobind(&s)?,
        Addr::Path(path) => {
            // getsockname reports the path with its NUL, as Linux.
            let mut name = path.clone();
            name.push(0);
            let k = t.k.clone();
            super::fs::make_socket_node(t, &path, |ident| k.unix.bind_node(ident, &name, &s))?;
        }
    }
    Ok(0)
}

pub fn listen(t: &mut Task, a: [u64; 6]) -> SysResult {
    if nl_sock(t, a[0])?.is_some() {
        return Err(Errno::EOPNOTSUPP);
    }
    if let Some((_, s)) = inet_sock(t, a[0])? {
        return inet::listen(&s, a[1] as i32);
    }
    if let Some((_, s)) = host_sock(t, a[0])? {
        return hostinet::listen(&s, a[1] as i32);
    }
    let (_, s) = sock_of(t, fd_arg(a[0]))?;
    s.listen(a[1] as i32)?;
    Ok(0)
}

pub fn connect(t: &mut Task, a: [u64; 6]) -> SysResult {
    if let Some((_, s)) = nl_sock(t, a[0])? {
        // Only the kernel (port 0) answers here; connecting autobinds.
        netlink::send(t, &s, &[], Some((a[1], a[2])))?;
        return Ok(0);
    }
    if let Some((f, s)) = inet_sock(t, a[0])? {
        return inet::connect(t, &f, &s, a[1], a[2]);
    }
    if let Some((f, s)) = host_sock(t, a[0])? {
        return hostinet::connect(t, &f, &s, a[1], a[2]);
    }
    let (_, s) = sock_of(t, fd_arg(a[0]))?;
    let addr = read_addr(t, a[1], a[2])?;
    let server = find_peer(t, &addr)?;
    if s.kind == Kind::Dgram {
        // A default destination for datagrams.
        crate::net::unix::set_dgram_peer(&s, &server);
        return Ok(0);
    }
    if s.is_connected() {
        return Err(Errno::EISCONN);
    }
    let server_cred = server.peercred().unwrap_or(cred(t));
    server.enqueue_connection(&s, cred(t), server_cred)?;
    Ok(0)
}

pub fn accept4(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[3] as i32;
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    if let Some((f, s)) = inet_sock(t, a[0])? {
        if s.kind == crate::net::inet::Kind::Dgram {
            return Err(Errno::EOPNOTSUPP);
        }
        return inet::accept(t, &f, &s, a);
    }
    if let Some((f, s)) = host_sock(t, a[0])? {
        return hostinet::accept(t, &f, &s, a);
    }
    let (f, s) = sock_of(t, fd_arg(a[0]))?;
    if s.kind == Kind::Dgram {
        return Err(Errno::EOPNOTSUPP);
    }
    let conn = match s.accept() {
        Err(Errno::EAGAIN) if f.flags() & libc::O_NONBLOCK as u32 == 0 => {
            let q = &s.queue;
            // accept waits at most SO_RCVTIMEO, as Linux.
            let deadline = s.timeout(false).and_then(crate::kernel::time::deadline);
            t.block_io(&[q], deadline, |_| match s.accept() {
                Err(Errno::EAGAIN) => Ok(None),
                r => r.map(Some),
            })?
        }
        r => r?,
    };
    let peer_name = conn.peer().and_then(|p| p.name());
    write_addr(t, a[1], a[2], peer_name.as_deref())?;
    Ok(install(t, conn, flags)? as u64)
}

pub fn accept(t: &mut Task, a: [u64; 6]) -> SysResult {
    accept4(t, [a[0], a[1], a[2], 0, 0, 0])
}

pub fn getsockname(t: &mut Task, a: [u64; 6]) -> SysResult {
    if let Some((_, s)) = nl_sock(t, a[0])? {
        return netlink::getsockname(t, &s, a[1], a[2]);
    }
    if let Some((_, s)) = inet_sock(t, a[0])? {
        return inet::getsockname(t, &s, a[1], a[2]);
    }
    if let Some((_, s)) = host_sock(t, a[0])? {
        return hostinet::name(t, &s, false, a[1], a[2]);
    }
    let (_, s) = sock_of(t, fd_arg(a[0]))?;
    write_addr(t, a[1], a[2], s.name().as_deref())?;
    Ok(0)
}

pub fn getpeername(t: &mut Task, a: [u64; 6]) -> SysResult {
    if nl_sock(t, a[0])?.is_some() {
        return netlink::getpeername(t, a[1], a[2]);
    }
    if let Some((_, s)) = inet_sock(t, a[0])? {
        return inet::getpeername(t, &s, a[1], a[2]);
    }
    if let Some((_, s)) = host_sock(t, a[0])? {
        return hostinet::name(t, &s, true, a[1], a[2]);
    }
    let (_, s) = sock_of(t, fd_arg(a[0]))?;
    let name = s.peer_name().ok_or(Errno::ENOTCONN)?;
    write_addr(t, a[1], a[2], name.as_deref())?;
    Ok(0)
}

pub fn shutdown(t: &mut Task, a: [u64; 6]) -> SysResult {
    if let Some((_, s)) = inet_sock(t, a[0])? {
        return inet::shutdown(&s, a[1] as i32);
    }
    if let Some((_, s)) = host_sock(t, a[0])? {
        return hostinet::shutdown(&s, a[1] as i32);
    }
    let (_, s) = sock_of(t, fd_arg(a[0]))?;
    s.shutdown(a[1] as i32)?;
    Ok(0)
}

pub fn setsockopt(t: &mut Task, a: [u64; 6]) -> SysResult {
    if let Some((_, s)) = nl_sock(t, a[0])? {
        return netlink::setsockopt(t, &s, a[1] as i32, a[2] as i32, a[3], a[4]);
    }
    if let Some((_, s)) = inet_sock(t, a[0])? {
        return inet::setsockopt(t, &s, a[1] as i32, a[2] as i32, a[3], a[4]);
    }
    if let Some((_, s)) = host_sock(t, a[0])? {
        return hostinet::setsockopt(t, &s, a[1] as i32, a[2] as i32, a[3], a[4]);
    }
    let (_, s) = sock_of(t, fd_arg(a[0]))?;
    let (level, name) = (a[1] as i32, a[2] as i32);
    if level != SOL_SOCKET {
        return Err(Errno::ENOPROTOOPT);
    }
    if name == libc::SO_RCVTIMEO || name == libc::SO_SNDTIMEO {
        if a[4] < std::mem::size_of::<libc::timeval>() as u64 {
            return Err(Errno::EINVAL);
        }
        let tv: libc::timeval = t.mm.copy_in(a[3])?;
        // sock_set_timeout: bad microseconds are EDOM, a negative time means "do not wait",
        // zero "wait forever".
        if !(0..1_000_000).contains(&tv.tv_usec) {
            return Err(Errno::EDOM);
        }
        let d = if tv.tv_sec < 0 {
            Some(std::time::Duration::ZERO)
        } else if tv.tv_sec == 0 && tv.tv_usec == 0 {
            None
        } else {
            Some(std::time::Duration::new(
                tv.tv_sec as u64,
                tv.tv_usec as u32 * 1000,
            ))
        };
        s.set_timeout(name == libc::SO_SNDTIMEO, d);
        return Ok(0);
    }
    if a[4] < 4 {
        return Err(Errno::EINVAL);
    }
    let v: i32 = t.mm.copy_in(a[3])?;
    match name {
        libc::SO_PASSCRED => s.set_passcred(v != 0),
        // Buffer sizes are accepted; the buffers are fixed for now.
        libc::SO_SNDBUF
        | libc::SO_RCVBUF
        | libc::SO_SNDBUFFORCE
        | libc::SO_RCVBUFFORCE
        | libc::SO_KEEPALIVE
        | libc::SO_REUSEADDR
        | libc::SO_LINGER => {}
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(0)
}

pub fn getsockopt(t: &mut Task, a: [u64; 6]) -> SysResult {
    if let Some((_, s)) = nl_sock(t, a[0])? {
        return netlink::getsockopt(t, &s, a[1] as i32, a[2] as i32, a[3], a[4]);
    }
    if let Some((_, s)) = inet_sock(t, a[0])? {
        return inet::getsockopt(t, &s, a[1] as i32, a[2] as i32, a[3], a[4]);
    }
    if let Some((_, s)) = host_sock(t, a[0])? {
        return hostinet::getsockopt(t, &s, a[1] as i32, a[2] as i32, a[3], a[4]);
    }
    let (_, s) = sock_of(t, fd_arg(a[0]))?;
    let (level, name) = (a[1] as i32, a[2] as i32);
    if level != SOL_SOCKET {
        return Err(Errno::ENOPROTOOPT);
    }
    let len: u32 = t.mm.copy_in(a[4])?;
    let out: Vec<u8> = match name {
        libc::SO_TYPE => s.kind.to_type().to_le_bytes().to_vec(),
        libc::SO_DOMAIN => libc::AF_UNIX.to_le_bytes().to_vec(),
        libc::SO_PROTOCOL => 0i32.to_le_bytes().to_vec(),
        libc::SO_ERROR => 0i32.to_le_bytes().to_vec(),
        libc::SO_ACCEPTCONN => (s.is_listening() as i32).to_le_bytes().to_vec(),
        libc::SO_PASSCRED => (s.passcred() as i32).to_le_bytes().to_vec(),
        libc::SO_RCVTIMEO | libc::SO_SNDTIMEO => {
            let d = s.timeout(name == libc::SO_SNDTIMEO).unwrap_or_default();
            let mut v = (d.as_secs() as i64).to_le_bytes().to_vec();
            v.extend_from_slice(&(d.subsec_micros() as i64).to_le_bytes());
            v
        }
        libc::SO_SNDBUF | libc::SO_RCVBUF => {
            (crate::net::unix::RCVBUF as i32).to_le_bytes().to_vec()
        }
        libc::SO_PEERCRED => {
            let (pid, uid, gid) = s.peercred().unwrap_or((0, u32::MAX, u32::MAX));
            let mut v = pid.to_le_bytes().to_vec();
            v.extend_from_slice(&uid.to_le_bytes());
            v.extend_from_slice(&gid.to_le_bytes());
            v
        }
        _ => return Err(Errno::ENOPROTOOPT),
    };
    let n = out.len().min(len as usize);
    t.mm.write_bytes(a[3], &out[..n])?;
    t.mm.copy_out(a[4], &(n as u32))?;
    Ok(0)
}

// ---- data ---------------------------------------------------------------------------------

/// A send on a closed connection: EPIPE, and SIGPIPE unless MSG_NOSIGNAL.
pub(super) fn epipe(t: &Task, flags: u64) -> Errno {
    if flags & libc::MSG_NOSIGNAL as u64 == 0 {
        t.signal_self(libc::SIGPIPE);
    }
    Errno::EPIPE
}

/// Gather a message from iovecs.
fn gather(t: &Task, iov: u64, n: u64) -> Result<Vec<u8>, Errno> {
    if n > 1024 {
        return Err(Errno::EMSGSIZE);
    }
    let mut data = Vec::new();
    for i in 0..n {
        let v: [u64; 2] = t.mm.copy_in(iov.wrapping_add(i * 16))?;
        if v[1] > 1 << 26 {
            return Err(Errno::EMSGSIZE);
        }
        data.extend_from_slice(&t.mm.read_vec(v[0], v[1] as usize)?);
    }
    Ok(data)
}

/// Parse SCM_RIGHTS and SCM_CREDENTIALS from a control buffer.
fn control_in(t: &Task, addr: u64, len: u64) -> Result<(Vec<Arc<OpenFile>>, Option<Cred>), Errno> {
    let mut fds = Vec::new();
    let mut creds = None;
    if addr == 0 || len == 0 {
        return Ok((fds, creds));
    }
    if len > 1 << 16 {
        return Err(Errno::ENOBUFS);
    }
    let buf = t.mm.read_vec(addr, len as usize)?;
    let mut off = 0usize;
    while off + 16 <= buf.len() {
        let clen = u64::from_le_bytes(buf[off..off + 8].try_into().unwrap_or([0; 8])) as usize;
        let level = i32::from_le_bytes(buf[off + 8..off + 12].try_into().unwrap_or([0; 4]));
        let ty = i32::from_le_bytes(buf[off + 12..off + 16].try_into().unwrap_or([0; 4]));
        if clen < 16 || off + clen > buf.len() {
            return Err(Errno::EINVAL);
        }
        let data = &buf[off + 16..off + clen];
        match (level, ty) {
            (SOL_SOCKET, libc::SCM_RIGHTS) => {
                if data.len() % 4 != 0 || fds.len() + data.len() / 4 > SCM_MAX_FD {
                    return Err(Errno::EINVAL);
                }
                for c in data.chunks(4) {
                    let fd = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    fds.push(t.fds.get(fd)?);
                }
            }
            (SOL_SOCKET, libc::SCM_CREDENTIALS) => {
                if data.len() < 12 {
                    return Err(Errno::EINVAL);
                }
                let pid = i32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                let uid = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
                let gid = u32::from_le_bytes([data[8], data[9], data[10], data[11]]);
                let root = t.creds.euid == 0;
                if (pid != t.tgid && !root)
                    || (uid != t.creds.uid && uid != t.creds.euid && !root)
                    || (gid != t.creds.gid && gid != t.creds.egid && !root)
                {
                    return Err(Errno::EPERM);
                }
                creds = Some((pid, uid, gid));
            }
            _ => return Err(Errno::EINVAL),
        }
        off += (clen + 7) & !7;
    }
    Ok((fds, creds))
}

fn do_send(
    t: &mut Task,
    fd: i32,
    data: &[u8],
    flags: u64,
    to: Option<(u64, u64)>,
    fds: Vec<Arc<OpenFile>>,
    c: Option<Cred>,
) -> SysResult {
    let (f, s) = sock_of(t, fd)?;
    let target = match to {
        Some((addr, len)) if addr != 0 => {
            let name = read_addr(t, addr, len)?;
            if s.kind != Kind::Dgram {
                return Err(if s.is_connected() {
                    Errno::EISCONN
                } else {
                    Errno::EOPNOTSUPP
                });
            }
            Some(find_peer(t, &name)?)
        }
        _ => None,
    };
    let timeout = s.timeout(true);
    let nonblock = f.flags() & libc::O_NONBLOCK as u32 != 0
        || flags & libc::MSG_DONTWAIT as u64 != 0
        || timeout == Some(std::time::Duration::ZERO);
    let deadline = timeout.and_then(crate::kernel::time::deadline);
    let cr = c.unwrap_or(cred(t));
    let mut total = 0;
    let mut fds = Some(fds);
    loop {
        let r = s.send(
            &data[total..],
            fds.take().unwrap_or_default(),
            cr,
            target.clone(),
        );
        match r {
            Ok(n) => {
                total += n;
                if total >= data.len() || s.kind != Kind::Stream {
                    return Ok(total as u64);
                }
            }
            Err(Errno::EAGAIN) if !nonblock => {}
            Err(Errno::EPIPE) if total == 0 => return Err(epipe(t, flags)),
            Err(e) if total == 0 => return Err(e),
            Err(_) => return Ok(total as u64),
        }
        // Wait for room at the receiver.
        let peer = target.clone().or_else(|| s.peer()).ok_or(Errno::EPIPE)?;
        let q = &peer.queue;
        let r = t.block_io(&[q], deadline, |_| {
            Ok(peer.readiness_for_writer().then_some(()))
        });
        if let Err(e) = r {
            return if total > 0 { Ok(total as u64) } else { Err(e) };
        }
    }
}

pub fn sendto(t: &mut Task, a: [u64; 6]) -> SysResult {
    let data = t.mm.read_vec(a[1], (a[2] as usize).min(1 << 26))?;
    if let Some((f, s)) = inet_sock(t, a[0])? {
        return inet::send(t, &f, &s, &data, a[3], Some((a[4], a[5])));
    }
    if let Some((f, s)) = host_sock(t, a[0])? {
        return hostinet::send(t, &f, &s, &data, a[3], Some((a[4], a[5])));
    }
    if let Some((_, s)) = nl_sock(t, a[0])? {
        return netlink::send(t, &s, &data, Some((a[4], a[5])));
    }
    do_send(
        t,
        fd_arg(a[0]),
        &data,
        a[3],
        Some((a[4], a[5])),
        Vec::new(),
        None,
    )
}

pub fn sendmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let h: [u64; 7] = t.mm.copy_in(a[1])?;
    let (name, namelen, iov, iovlen, ctl, ctllen) =
        (h[0], h[1] & 0xffff_ffff, h[2], h[3], h[4], h[5]);
    let data = gather(t, iov, iovlen)?;
    if let Some((f, s)) = inet_sock(t, a[0])? {
        return inet::send(t, &f, &s, &data, a[2], Some((name, namelen)));
    }
    if let Some((f, s)) = host_sock(t, a[0])? {
        return hostinet::send(t, &f, &s, &data, a[2], Some((name, namelen)));
    }
    if let Some((_, s)) = nl_sock(t, a[0])? {
        return netlink::send(t, &s, &data, Some((name, namelen)));
    }
    let (fds, c) = control_in(t, ctl, ctllen)?;
    do_send(t, fd_arg(a[0]), &data, a[2], Some((name, namelen)), fds, c)
}

/// One receive: data into iovecs; returns (bytes, full length, fds, cred, from).
#[allow(clippy::type_complexity)]
fn do_recv(
    t: &mut Task,
    fd: i32,
    flags: u64,
    cap: usize,
) -> Result<
    (
        Vec<u8>,
        usize,
        Vec<Arc<OpenFile>>,
        Option<Cred>,
        Option<Vec<u8>>,
    ),
    Errno,
> {
    let (f, s) = sock_of(t, fd)?;
    let peek = flags & libc::MSG_PEEK as u64 != 0;
    let timeout = s.timeout(false);
    let nonblock = f.flags() & libc::O_NONBLOCK as u32 != 0
        || flags & libc::MSG_DONTWAIT as u64 != 0
        || timeout == Some(std::time::Duration::ZERO);
    let deadline = timeout.and_then(crate::kernel::time::deadline);
    let waitall = flags & libc::MSG_WAITALL as u64 != 0 && s.kind == Kind::Stream && !peek;
    let mut buf = vec![0u8; cap];
    let mut got = 0;
    let mut fds = Vec::new();
    let mut meta = (0usize, None, None);
    loop {
        match s.recv(&mut buf[got..], peek) {
            Ok((n, full, f2, c, from)) => {
                if got == 0 {
                    meta = (full, c, from);
                }
                fds.extend(f2);
                got += n;
                if !waitall || got >= cap || n == 0 {
                    break;
                }
            }
            Err(Errno::EAGAIN) if !nonblock => {}
            Err(e) if got == 0 => return Err(e),
            Err(_) => break,
        }
        let q = &s.queue;
        let r = t.block_io(&[q], deadline, |_| {
            Ok((s.readiness() & libc::POLLIN as u32 != 0).then_some(()))
        });
        if let Err(e) = r {
            if got > 0 {
                break;
            }
            return Err(e);
        }
    }
    buf.truncate(got);
    let full = if s.kind == Kind::Stream { got } else { meta.0 };
    Ok((buf, full, fds, meta.1, meta.2))
}

pub fn recvfrom(t: &mut Task, a: [u64; 6]) -> SysResult {
    if let Some((f, s)) = inet_sock(t, a[0])? {
        return inet::recvfrom(t, &f, &s, a);
    }
    if let Some((f, s)) = host_sock(t, a[0])? {
        return hostinet::recvfrom(t, &f, &s, a);
    }
    if let Some((f, s)) = nl_sock(t, a[0])? {
        return netlink::recvfrom(t, &f, &s, a);
    }
    let (buf, full, fds, _, from) = do_recv(t, fd_arg(a[0]), a[3], (a[2] as usize).min(1 << 26))?;
    // Descriptors sent to a plain recv are closed (dropped).
    drop(fds);
    t.mm.write_bytes(a[1], &buf)?;
    if a[4] != 0 {
        write_addr(t, a[4], a[5], from.as_deref())?;
    }
    Ok(if a[3] & libc::MSG_TRUNC as u64 != 0 {
        full
    } else {
        buf.len()
    } as u64)
}

/// The iovecs (base, length) of a msghdr.
pub(super) fn read_iovs(t: &Task, iov: u64, iovlen: u64) -> Result<Vec<[u64; 2]>, Errno> {
    if iovlen > 1024 {
        return Err(Errno::EMSGSIZE);
    }
    (0..iovlen)
        .map(|i| t.mm.copy_in::<[u64; 2]>(iov.wrapping_add(i * 16)))
        .collect()
}

/// Spread received bytes over iovecs.
pub(super) fn scatter(t: &Task, iovs: &[[u64; 2]], buf: &[u8]) -> Result<(), Errno> {
    let mut off = 0;
    for v in iovs {
        if off >= buf.len() {
            break;
        }
        let n = (v[1] as usize).min(buf.len() - off);
        t.mm.write_bytes(v[0], &buf[off..off + n])?;
        off += n;
    }
    Ok(())
}

pub fn recvmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    if let Some((f, s)) = inet_sock(t, a[0])? {
        return inet::recvmsg(t, &f, &s, a[1], a[2]);
    }
    if let Some((f, s)) = host_sock(t, a[0])? {
        return hostinet::recvmsg(t, &f, &s, a[1], a[2]);
    }
    if let Some((f, s)) = nl_sock(t, a[0])? {
        return netlink::recvmsg(t, &f, &s, a[1], a[2]);
    }
    let h: [u64; 7] = t.mm.copy_in(a[1])?;
    let (name, iov, iovlen, ctl, ctllen) = (h[0], h[2], h[3], h[4], h[5]);
    let iovs = read_iovs(t, iov, iovlen)?;
    let cap = iovs
        .iter()
        .fold(0usize, |c, v| c.saturating_add(v[1] as usize));
    let flags = a[2];
    let (buf, full, fds, c, from) = do_recv(t, fd_arg(a[0]), flags, cap.min(1 << 26))?;
    scatter(t, &iovs, &buf)?;
    let mut msg_flags = 0i32;
    if full > buf.len() {
        msg_flags |= libc::MSG_TRUNC;
    }
    // Control messages: descriptors, then credentials if asked for.
    let mut control = Vec::new();
    let cloexec = flags & libc::MSG_CMSG_CLOEXEC as u64 != 0;
    if !fds.is_empty() {
        let room = (ctllen as usize).saturating_sub(16) / 4;
        let mut nums = Vec::new();
        for (i, f) in fds.into_iter().enumerate() {
            if i >= room {
                msg_flags |= libc::MSG_CTRUNC;
                break;
            }
            match t.fds.install(f, cloexec, 0, t.nofile()) {
                Ok(fd) => nums.push(fd),
                Err(_) => {
                    msg_flags |= libc::MSG_CTRUNC;
                    break;
                }
            }
        }
        if !nums.is_empty() {
            let len = 16 + nums.len() * 4;
            control.extend_from_slice(&(len as u64).to_le_bytes());
            control.extend_from_slice(&SOL_SOCKET.to_le_bytes());
            control.extend_from_slice(&libc::SCM_RIGHTS.to_le_bytes());
            for n in nums {
                control.extend_from_slice(&n.to_le_bytes());
            }
            control.resize((control.len() + 7) & !7, 0);
        }
    }
    let (_, s) = sock_of(t, fd_arg(a[0]))?;
    if s.passcred() {
        let (pid, uid, gid) = c.unwrap_or((0, u32::MAX, u32::MAX));
        let mut d = pid.to_ne_bytes().to_vec();
        d.extend_from_slice(&uid.to_ne_bytes());
        d.extend_from_slice(&gid.to_ne_bytes());
        let ty = libc::SCM_CREDENTIALS;
        put_cmsg(
            &mut control,
            ctllen as usize,
            SOL_SOCKET,
            ty,
            &d,
            &mut msg_flags,
        );
    }
    if !control.is_empty() {
        t.mm.write_bytes(ctl, &control)?;
    }
    // msg_controllen (offset 40) and msg_flags (offset 48).
    t.mm.copy_out(a[1].wrapping_add(40), &(control.len() as u64))?;
    t.mm.copy_out(a[1].wrapping_add(48), &msg_flags)?;
    if name != 0 {
        write_addr(t, name, a[1].wrapping_add(8), from.as_deref())?;
    } else {
        t.mm.copy_out(a[1].wrapping_add(8), &0u32)?;
    }
    Ok(if flags & libc::MSG_TRUNC as u64 != 0 {
        full
    } else {
        buf.len()
    } as u64)
}

/// Append a control message to `out` as Linux's put_cmsg does, given `room` bytes of control
/// buffer in all: without room for the header nothing is written; without room for the data
/// it is cut short; either way the message gets MSG_CTRUNC.
pub fn put_cmsg(out: &mut Vec<u8>, room: usize, level: i32, ty: i32, data: &[u8], flags: &mut i32) {
    const HDR: usize = 16;
    let left = room.saturating_sub(out.len());
    if left < HDR {
        *flags |= libc::MSG_CTRUNC;
        return;
    }
    let mut len = HDR + data.len();
    if left < len {
        *flags |= libc::MSG_CTRUNC;
        len = left;
    }
    let start = out.len();
    out.extend_from_slice(&(len as u64).to_ne_bytes());
    out.extend_from_slice(&level.to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(&data[..len - HDR]);
    // CMSG_SPACE: padded to 8, but never past the buffer.
    let space = (HDR + data.len() + 7) & !7;
    out.resize(start + space.min(left), 0);
}

/// `struct mmsghdr`: a msghdr (56 bytes) and the length it carried, padded to 64.
const MMSGHDR_SIZE: u64 = 64;
/// UIO_MAXIOV: most messages one call handles.
const UIO_MAXIOV: u64 = 1024;

pub fn sendmmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (fd, vec, vlen, flags) = (a[0], a[1], a[2] & 0xffff_ffff, a[3] & 0xffff_ffff);
    let mut sent = 0;
    while sent < vlen.min(UIO_MAXIOV) {
        let hdr = vec.wrapping_add(sent * MMSGHDR_SIZE);
        match sendmsg(t, [fd, hdr, flags, 0, 0, 0]) {
            Ok(n) => t.mm.copy_out(hdr.wrapping_add(56), &(n as u32))?,
            // An error after some messages went ends the call with their count.
            Err(e) if sent == 0 => return Err(e),
            Err(_) => break,
        }
        sent += 1;
    }
    Ok(sent)
}

pub fn recvmmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    const MSG_WAITFORONE: u64 = 0x10000;
    let (fd, vec, vlen, flags, timeout) = (a[0], a[1], a[2] & 0xffff_ffff, a[3], a[4]);
    // The timeout is only checked between datagrams (as Linux does).
    let deadline = if timeout != 0 {
        let ts = super::read_timespec(t, timeout)?;
        Some(crate::kernel::time::after(std::time::Duration::new(
            ts.tv_sec as u64,
            ts.tv_nsec as u32,
        )))
    } else {
        None
    };
    let mut got = 0;
    while got < vlen.min(UIO_MAXIOV) {
        let mut f = flags & !MSG_WAITFORONE & 0xffff_ffff;
        if got > 0 && flags & MSG_WAITFORONE != 0 {
            f |= libc::MSG_DONTWAIT as u64;
        }
        let hdr = vec.wrapping_add(got * MMSGHDR_SIZE);
        match recvmsg(t, [fd, hdr, f, 0, 0, 0]) {
            Ok(n) => t.mm.copy_out(hdr.wrapping_add(56), &(n as u32))?,
            Err(e) if got == 0 => return Err(e),
            Err(_) => break,
        }
        got += 1;
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            break;
        }
    }
    Ok(got)
}
