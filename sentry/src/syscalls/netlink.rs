//! The socket syscalls for AF_NETLINK (NETLINK_ROUTE) sockets; `socket.rs` hands them here.

use std::sync::Arc;

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::net::netlink::NetlinkSocket;
use crate::vfs::OpenFile;

/// SOL_NETLINK (linux/socket.h).
const SOL_NETLINK: i32 = 270;
/// sizeof(struct sockaddr_nl).
const SOCKADDR_NL: usize = 12;

/// The netlink socket behind an open file, if it is one.
pub fn netlink_of(f: &Arc<OpenFile>) -> Option<Arc<NetlinkSocket>> {
    let ops: Arc<dyn crate::vfs::FileOps> = f.ops.clone();
    crate::vfs::file::as_any_arc(ops)?
        .downcast::<NetlinkSocket>()
        .ok()
}

/// socket(AF_NETLINK, ...): SOCK_RAW or SOCK_DGRAM, NETLINK_ROUTE.
pub fn create(t: &Task, ty: i32, proto: i32) -> Result<Arc<NetlinkSocket>, Errno> {
    if ty != libc::SOCK_RAW && ty != libc::SOCK_DGRAM {
        return Err(Errno::ESOCKTNOSUPPORT);
    }
    if proto != libc::NETLINK_ROUTE {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let nic = t.k.net().lock().nic.clone();
    Ok(NetlinkSocket::new(
        ty,
        nic,
        crate::fs::new_dev(),
        crate::fs::new_ino(),
    ))
}

/// A sockaddr_nl from the application: (port, groups).
fn read_addr(t: &Task, addr: u64, len: u64) -> Result<(u32, u32), Errno> {
    if (len as usize) < SOCKADDR_NL {
        return Err(Errno::EINVAL);
    }
    let b = t.mm.read_vec(addr, SOCKADDR_NL)?;
    if u16::from_ne_bytes([b[0], b[1]]) != libc::AF_NETLINK as u16 {
        return Err(Errno::EINVAL);
    }
    let port = u32::from_ne_bytes([b[4], b[5], b[6], b[7]]);
    let groups = u32::from_ne_bytes([b[8], b[9], b[10], b[11]]);
    Ok((port, groups))
}

/// Write a sockaddr_nl to (addr, *len_addr), truncated to the room given.
fn write_addr(t: &Task, addr: u64, len_addr: u64, port: u32, groups: u32) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    let avail: u32 = t.mm.copy_in(len_addr)?;
    let mut b = (libc::AF_NETLINK as u16).to_ne_bytes().to_vec();
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&port.to_ne_bytes());
    b.extend_from_slice(&groups.to_ne_bytes());
    let n = b.len().min(avail as usize);
    t.mm.write_bytes(addr, &b[..n])?;
    t.mm.copy_out(len_addr, &(b.len() as u32))?;
    Ok(())
}

pub fn bind(t: &Task, s: &NetlinkSocket, addr: u64, len: u64) -> SysResult {
    let (port, groups) = read_addr(t, addr, len)?;
    s.bind(port, groups, t.tgid as u32)?;
    Ok(0)
}

pub fn getsockname(t: &Task, s: &NetlinkSocket, addr: u64, len: u64) -> SysResult {
    let (port, groups) = s.name();
    write_addr(t, addr, len, port, groups)?;
    Ok(0)
}

/// The peer is always the kernel (port 0).
pub fn getpeername(t: &Task, addr: u64, len: u64) -> SysResult {
    write_addr(t, addr, len, 0, 0)?;
    Ok(0)
}

/// send/sendto/sendmsg: `dest` (address, length) if given must be a netlink address.
pub fn send(t: &Task, s: &NetlinkSocket, data: &[u8], dest: Option<(u64, u64)>) -> SysResult {
    if let Some((addr, len)) = dest.filter(|d| d.0 != 0) {
        read_addr(t, addr, len)?;
    }
    Ok(s.send(data, t.tgid as u32)? as u64)
}

/// The next datagram, waiting for one unless non-blocking.
fn recv(t: &mut Task, f: &OpenFile, s: &NetlinkSocket, flags: u64) -> Result<Vec<u8>, Errno> {
    let peek = flags & libc::MSG_PEEK as u64 != 0;
    let nonblock =
        f.flags() & libc::O_NONBLOCK as u32 != 0 || flags & libc::MSG_DONTWAIT as u64 != 0;
    loop {
        match s.recv(peek) {
            Err(Errno::EAGAIN) if !nonblock => {}
            r => return r,
        }
        t.block_io(&[s.queue()], None, |_| {
            Ok((crate::vfs::FileOps::readiness(s) & libc::POLLIN as u32 != 0).then_some(()))
        })?;
    }
}

pub fn recvfrom(t: &mut Task, f: &OpenFile, s: &NetlinkSocket, a: [u64; 6]) -> SysResult {
    let d = recv(t, f, s, a[3])?;
    let n = d.len().min(a[2] as usize);
    t.mm.write_bytes(a[1], &d[..n])?;
    if a[4] != 0 {
        write_addr(t, a[4], a[5], 0, 0)?;
    }
    Ok(if a[3] & libc::MSG_TRUNC as u64 != 0 {
        d.len()
    } else {
        n
    } as u64)
}

pub fn recvmsg(t: &mut Task, f: &OpenFile, s: &NetlinkSocket, msg: u64, flags: u64) -> SysResult {
    let h: [u64; 7] = t.mm.copy_in(msg)?;
    let (name, iov, iovlen) = (h[0], h[2], h[3]);
    let iovs = super::socket::read_iovs(t, iov, iovlen)?;
    let cap = iovs
        .iter()
        .fold(0usize, |c, v| c.saturating_add(v[1] as usize));
    let d = recv(t, f, s, flags)?;
    let n = d.len().min(cap);
    super::socket::scatter(t, &iovs, &d[..n])?;
    let msg_flags: i32 = if n < d.len() { libc::MSG_TRUNC } else { 0 };
    // msg_controllen (offset 40) and msg_flags (offset 48).
    t.mm.copy_out(msg.wrapping_add(40), &0u64)?;
    t.mm.copy_out(msg.wrapping_add(48), &msg_flags)?;
    if name != 0 {
        write_addr(t, name, msg.wrapping_add(8), 0, 0)?;
    } else {
        t.mm.copy_out(msg.wrapping_add(8), &0u32)?;
    }
    Ok(if flags & libc::MSG_TRUNC as u64 != 0 {
        d.len()
    } else {
        n
    } as u64)
}

pub fn setsockopt(
    t: &Task,
    s: &NetlinkSocket,
    level: i32,
    name: i32,
    val: u64,
    len: u64,
) -> SysResult {
    if len < 4 {
        return Err(Errno::EINVAL);
    }
    let v: i32 = t.mm.copy_in(val)?;
    match (level, name) {
        (libc::SOL_SOCKET, libc::SO_RCVBUF | libc::SO_RCVBUFFORCE) => {
            s.set_buf(true, v.max(0) as u32)
        }
        (libc::SOL_SOCKET, libc::SO_SNDBUF | libc::SO_SNDBUFFORCE) => {
            s.set_buf(false, v.max(0) as u32)
        }
        (libc::SOL_SOCKET, libc::SO_PASSCRED | libc::SO_TIMESTAMP) => {}
        // Group membership, extended acks, strict checking, no-ENOBUFS: the sandbox sends no
        // notifications and its answers carry no extended acks, so these change nothing seen.
        (SOL_NETLINK, 1..=12) => {}
        (libc::SOL_SOCKET | SOL_NETLINK, _) => return Err(Errno::ENOPROTOOPT),
        _ => return Err(Errno::ENOPROTOOPT),
    }
    Ok(0)
}

pub fn getsockopt(
    t: &Task,
    s: &NetlinkSocket,
    level: i32,
    name: i32,
    val: u64,
    lenp: u64,
) -> SysResult {
    let v: i32 = match (level, name) {
        (libc::SOL_SOCKET, libc::SO_RCVBUF) => s.buf(true) as i32,
        (libc::SOL_SOCKET, libc::SO_SNDBUF) => s.buf(false) as i32,
        (libc::SOL_SOCKET, libc::SO_TYPE) => s.ty,
        (libc::SOL_SOCKET, libc::SO_DOMAIN) => libc::AF_NETLINK,
        (libc::SOL_SOCKET, libc::SO_PROTOCOL) => libc::NETLINK_ROUTE,
        (libc::SOL_SOCKET, libc::SO_ERROR) => 0,
        _ => return Err(Errno::ENOPROTOOPT),
    };
    let avail: u32 = t.mm.copy_in(lenp)?;
    let b = v.to_ne_bytes();
    let n = (avail as usize).min(4);
    t.mm.write_bytes(val, &b[..n])?;
    t.mm.copy_out(lenp, &(n as u32))?;
    Ok(0)
}
