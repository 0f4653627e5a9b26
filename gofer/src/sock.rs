//! One-datagram send and receive on a SOCK_SEQPACKET socket, with an optional donated fd.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use nix::cmsg_space;
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

use crate::proto::MAX_MESSAGE;

/// The most descriptors one datagram may carry (a pod's container joining its sandbox sends
/// its stdio, its root's gofer connection and one per bind mount).
pub const MAX_FDS: usize = 64;

pub fn send(sock: RawFd, msg: &[u8], fd: Option<RawFd>) -> nix::Result<()> {
    send_fds(sock, msg, fd.as_slice())
}

/// Send one datagram with any number of donated fds.
pub fn send_fds(sock: RawFd, msg: &[u8], fds: &[RawFd]) -> nix::Result<()> {
    let iov = [IoSlice::new(msg)];
    let cmsgs: Vec<ControlMessage<'_>> = if fds.is_empty() {
        vec![]
    } else {
        vec![ControlMessage::ScmRights(fds)]
    };
    loop {
        match sendmsg::<()>(sock, &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => return r.map(|_| ()),
        }
    }
}

/// A buffer for the largest datagram we accept, and the length of the last one received.
/// Its pages are allocated zeroed and untouched (calloc's fresh mapping), so a connection
/// costs memory only for the largest message it has actually carried, and receiving never
/// clears the whole buffer again.
pub struct RecvBuf {
    buf: Box<[u8]>,
    len: usize,
}

impl RecvBuf {
    pub fn new() -> RecvBuf {
        RecvBuf {
            buf: vec![0; MAX_MESSAGE].into_boxed_slice(),
            len: 0,
        }
    }

    /// The last datagram received.
    pub fn message(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Debug for RecvBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBuf").field("len", &self.len).finish()
    }
}

impl Default for RecvBuf {
    fn default() -> Self {
        Self::new()
    }
}

/// Receive one datagram. `Ok(None)` means the peer closed the connection. A datagram that was
/// truncated (larger than we accept) is an error.
pub fn recv(sock: RawFd, buf: &mut RecvBuf) -> nix::Result<Option<Option<OwnedFd>>> {
    Ok(recv_fds(sock, buf)?.map(|fds| fds.into_iter().next()))
}

/// Receive one datagram and every fd it carries (at most MAX_FDS). `Ok(None)`: the peer closed.
pub fn recv_fds(sock: RawFd, buf: &mut RecvBuf) -> nix::Result<Option<Vec<OwnedFd>>> {
    buf.len = 0;
    let mut space = cmsg_space!([RawFd; MAX_FDS]);
    let (n, fd, truncated) = loop {
        let mut iov = [IoSliceMut::new(&mut buf.buf[..])];
        match recvmsg::<()>(sock, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(msg) => {
                let mut fd = Vec::new();
                for c in msg.cmsgs()? {
                    if let ControlMessageOwned::ScmRights(fds) = c {
                        fd.extend(fds.into_iter().map(own));
                    }
                }
                let truncated = msg
                    .flags
                    .intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC);
                break (msg.bytes, fd, truncated);
            }
        }
    };
    if truncated {
        return Err(nix::errno::Errno::EMSGSIZE);
    }
    if n == 0 && fd.is_empty() {
        return Ok(None);
    }
    buf.len = n;
    Ok(Some(fd))
}

/// Accept a connection on a listening socket (close-on-exec).
pub fn accept(listener: RawFd) -> nix::Result<OwnedFd> {
    let fd = nix::sys::socket::accept4(listener, nix::sys::socket::SockFlag::SOCK_CLOEXEC)?;
    Ok(own(fd))
}

/// Take ownership of a descriptor the kernel installed for us (through SCM_RIGHTS, or
/// accept). This is the
/// gofer crate's one `unsafe` block (the crate otherwise denies unsafe code).
#[allow(unsafe_code)]
pub(crate) fn own(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` was just created in this process by the kernel, for the SCM_RIGHTS message
    // we received or the connection we accepted; no other object refers to it, so this
    // OwnedFd is its only owner.
    unsafe { OwnedFd::from_raw_fd(fd) }
}
