//! Networking: unix domain sockets, and the TCP/IP stack (smoltcp) with its inet sockets.

pub mod hostinet;
pub mod icmp;
pub mod ifreq;
pub mod inet;
pub mod netlink;
pub mod procfs;
pub mod refuse;
pub mod sockopt;
pub mod stack;
pub mod unix;

/// What fstat says of a socket.
pub fn socket_stat(dev: u64, ino: u64) -> crate::vfs::Stat {
    crate::fs::synth::attr(dev, ino, libc::S_IFSOCK | 0o777, 0)
}
