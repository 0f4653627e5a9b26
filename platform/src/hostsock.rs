//! Host inet sockets for the sentry's `--network host` mode: thin wrappers that take and give
//! socket addresses and option values as the bytes the application passed (the sentry has
//! checked their family and length), so no address is rebuilt field by field. Each socket is
//! one the sentry created (non-blocking, close-on-exec); none of these calls blocks.

use std::io::{Error, Result};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Room for any socket address (`struct sockaddr_storage`).
pub const ADDR_MAX: usize = std::mem::size_of::<libc::sockaddr_storage>();

fn check(r: libc::c_int) -> Result<()> {
    if r < 0 {
        return Err(Error::last_os_error());
    }
    Ok(())
}

fn check_len(r: isize) -> Result<usize> {
    if r < 0 {
        return Err(Error::last_os_error());
    }
    Ok(r as usize)
}

/// A copy of `addr` in a sockaddr_storage, and its length (at most ADDR_MAX bytes are taken).
fn storage(addr: &[u8]) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let n = addr.len().min(ADDR_MAX);
    // SAFETY: `n` bytes fit in `ss` (n <= ADDR_MAX) and the regions do not overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(addr.as_ptr(), std::ptr::addr_of_mut!(ss).cast::<u8>(), n);
    }
    (ss, n as libc::socklen_t)
}

/// The first `len` bytes of `ss` (what the kernel filled in).
fn bytes(ss: &libc::sockaddr_storage, len: libc::socklen_t) -> Vec<u8> {
    let n = (len as usize).min(ADDR_MAX);
    // SAFETY: `ss` is ADDR_MAX bytes of plain data and n <= ADDR_MAX.
    unsafe { std::slice::from_raw_parts(std::ptr::addr_of!(*ss).cast::<u8>(), n) }.to_vec()
}

/// socket(2), non-blocking and close-on-exec whatever `ty` says.
pub fn socket(domain: i32, ty: i32, proto: i32) -> Result<OwnedFd> {
    // SAFETY: plain socket(2); the result is checked before use.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, proto) };
    check(fd)?;
    // SAFETY: `fd` was just created and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// bind(2) to the address in `addr`.
pub fn bind(fd: BorrowedFd<'_>, addr: &[u8]) -> Result<()> {
    let (ss, len) = storage(addr);
    // SAFETY: `ss` holds `len` valid bytes of address.
    check(unsafe { libc::bind(fd.as_raw_fd(), std::ptr::addr_of!(ss).cast(), len) })
}

/// connect(2) to the address in `addr` (EINPROGRESS for a stream socket on its way).
pub fn connect(fd: BorrowedFd<'_>, addr: &[u8]) -> Result<()> {
    let (ss, len) = storage(addr);
    // SAFETY: `ss` holds `len` valid bytes of address.
    check(unsafe { libc::connect(fd.as_raw_fd(), std::ptr::addr_of!(ss).cast(), len) })
}

/// listen(2).
pub fn listen(fd: BorrowedFd<'_>, backlog: i32) -> Result<()> {
    // SAFETY: plain listen(2) on a descriptor we own.
    check(unsafe { libc::listen(fd.as_raw_fd(), backlog) })
}

/// accept4(2), non-blocking and close-on-exec: the connection and its peer's address.
pub fn accept(fd: BorrowedFd<'_>) -> Result<(OwnedFd, Vec<u8>)> {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = ADDR_MAX as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes to `ss`, which has that many.
    let c = unsafe {
        libc::accept4(
            fd.as_raw_fd(),
            std::ptr::addr_of_mut!(ss).cast(),
            &mut len,
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    };
    check(c)?;
    // SAFETY: `c` was just created and is owned by nothing else.
    Ok((unsafe { OwnedFd::from_raw_fd(c) }, bytes(&ss, len)))
}

/// getsockname(2) (`peer` false) or getpeername(2).
pub fn name(fd: BorrowedFd<'_>, peer: bool) -> Result<Vec<u8>> {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = ADDR_MAX as libc::socklen_t;
    let p = std::ptr::addr_of_mut!(ss).cast();
    // SAFETY: the kernel writes at most `len` bytes to `ss`, which has that many.
    let r = unsafe {
        if peer {
            libc::getpeername(fd.as_raw_fd(), p, &mut len)
        } else {
            libc::getsockname(fd.as_raw_fd(), p, &mut len)
        }
    };
    check(r)?;
    Ok(bytes(&ss, len))
}

/// setsockopt(2) with the value's bytes.
pub fn setsockopt(fd: BorrowedFd<'_>, level: i32, name: i32, value: &[u8]) -> Result<()> {
    // SAFETY: the kernel reads `value.len()` bytes from `value`.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value.as_ptr().cast(),
            value.len() as libc::socklen_t,
        )
    })
}

/// getsockopt(2) into `value`; the length the kernel reports.
pub fn getsockopt(fd: BorrowedFd<'_>, level: i32, name: i32, value: &mut [u8]) -> Result<usize> {
    let mut len = value.len() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes to `value`, which has that many.
    check(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value.as_mut_ptr().cast(),
            &mut len,
        )
    })?;
    Ok(len as usize)
}

/// sendto(2) (`to` None: send(2)); MSG_NOSIGNAL is always added, the sentry raising SIGPIPE
/// itself.
pub fn send(fd: BorrowedFd<'_>, data: &[u8], flags: i32, to: Option<&[u8]>) -> Result<usize> {
    let flags = flags | libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT;
    let r = match to {
        None => {
            // SAFETY: the kernel reads `data.len()` bytes from `data`.
            unsafe { libc::send(fd.as_raw_fd(), data.as_ptr().cast(), data.len(), flags) }
        }
        Some(a) => {
            let (ss, len) = storage(a);
            // SAFETY: as above; `ss` holds `len` valid bytes of address.
            unsafe {
                libc::sendto(
                    fd.as_raw_fd(),
                    data.as_ptr().cast(),
                    data.len(),
                    flags,
                    std::ptr::addr_of!(ss).cast(),
                    len,
                )
            }
        }
    };
    check_len(r)
}

/// recvfrom(2) without waiting: (the count recv returned, which MSG_TRUNC may make larger
/// than `buf`; the sender's address, empty when the kernel gave none).
pub fn recv(fd: BorrowedFd<'_>, buf: &mut [u8], flags: i32) -> Result<(usize, Vec<u8>)> {
    // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = ADDR_MAX as libc::socklen_t;
    // SAFETY: the kernel writes at most `buf.len()` bytes to `buf` and `len` to `ss`.
    let r = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            flags | libc::MSG_DONTWAIT,
            std::ptr::addr_of_mut!(ss).cast(),
            &mut len,
        )
    };
    let n = check_len(r)?;
    Ok((n, bytes(&ss, len)))
}

/// shutdown(2).
pub fn shutdown(fd: BorrowedFd<'_>, how: i32) -> Result<()> {
    // SAFETY: plain shutdown(2) on a descriptor we own.
    check(unsafe { libc::shutdown(fd.as_raw_fd(), how) })
}

/// An ioctl reading one int: FIONREAD, TIOCOUTQ (SIOCOUTQ), SIOCATMARK.
pub fn ioctl_int(fd: BorrowedFd<'_>, req: u64) -> Result<i32> {
    let mut n: i32 = 0;
    // SAFETY: each request the sentry passes writes one int.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), req as _, &mut n) })?;
    Ok(n)
}

/// The socket's readiness now: poll(2) for `events` with no wait; its revents (POLLERR if
/// poll itself failed).
pub fn ready(fd: BorrowedFd<'_>, events: i16) -> i16 {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, and a zero timeout.
    if unsafe { libc::poll(&mut p, 1, 0) } < 0 {
        return libc::POLLERR;
    }
    p.revents
}
