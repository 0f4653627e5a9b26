//! `--network host`: inet sockets that are host sockets. The sentry creates each one itself
//! (non-blocking), checks every address and option the application passes before handing it
//! on, and does the waiting: a poller thread watches all host sockets with one host epoll
//! (edge-triggered) and wakes the socket's wait queue, so a blocked task stays interruptible
//! by signals like any other. This is the explicitly weaker mode (DESIGN.md): the host
//! kernel's TCP/IP stack parses the application's traffic.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use platform::hostsock;

use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;
use crate::vfs::{FileOps, Stat};

/// Socket options an application may set and read on a host socket: (level, name, largest
/// value in bytes). Others are ENOPROTOOPT; the host never sees them.
const OPTIONS: &[(i32, i32, usize)] = &[
    (libc::SOL_SOCKET, libc::SO_REUSEADDR, 4),
    (libc::SOL_SOCKET, libc::SO_REUSEPORT, 4),
    (libc::SOL_SOCKET, libc::SO_KEEPALIVE, 4),
    (libc::SOL_SOCKET, libc::SO_BROADCAST, 4),
    (libc::SOL_SOCKET, libc::SO_LINGER, 8),
    (libc::SOL_SOCKET, libc::SO_RCVBUF, 4),
    (libc::SOL_SOCKET, libc::SO_SNDBUF, 4),
    (libc::SOL_SOCKET, libc::SO_RCVLOWAT, 4),
    (libc::SOL_SOCKET, libc::SO_OOBINLINE, 4),
    (libc::SOL_SOCKET, libc::SO_PRIORITY, 4),
    (libc::IPPROTO_TCP, libc::TCP_NODELAY, 4),
    (libc::IPPROTO_TCP, libc::TCP_CORK, 4),
    (libc::IPPROTO_TCP, libc::TCP_MAXSEG, 4),
    (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 4),
    (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, 4),
    (libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 4),
    (libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, 4),
    (libc::IPPROTO_TCP, libc::TCP_QUICKACK, 4),
    (libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, 4),
    (libc::IPPROTO_TCP, libc::TCP_NOTSENT_LOWAT, 4),
    (libc::IPPROTO_TCP, libc::TCP_SYNCNT, 4),
    (libc::IPPROTO_TCP, libc::TCP_LINGER2, 4),
    (libc::IPPROTO_TCP, libc::TCP_WINDOW_CLAMP, 4),
    (libc::IPPROTO_IP, libc::IP_TTL, 4),
    (libc::IPPROTO_IP, libc::IP_TOS, 4),
    (libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, 4),
    (libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, 4),
    (libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, 4),
    (libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 4),
    (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, 4),
    (libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_HOPS, 4),
    (libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP, 4),
    (libc::IPPROTO_IPV6, libc::IPV6_TCLASS, 4),
];

/// Read-only options: (level, name, largest value).
const READ_ONLY: &[(i32, i32, usize)] = &[
    (libc::SOL_SOCKET, libc::SO_TYPE, 4),
    (libc::SOL_SOCKET, libc::SO_DOMAIN, 4),
    (libc::SOL_SOCKET, libc::SO_PROTOCOL, 4),
    (libc::SOL_SOCKET, libc::SO_ERROR, 4),
    (libc::SOL_SOCKET, libc::SO_ACCEPTCONN, 4),
    (libc::IPPROTO_TCP, libc::TCP_INFO, 512),
];

/// The largest value of option (level, name), if the application may set it (`set`) or
/// read it.
pub fn option_size(level: i32, name: i32, set: bool) -> Option<usize> {
    let table = OPTIONS.iter().chain(if set { &[][..] } else { READ_ONLY });
    table
        .clone()
        .find(|&&(l, n, _)| l == level && n == name)
        .map(|&(_, _, len)| len)
}

/// The poller: one host epoll over every host socket, waking each one's queue.
struct Poller {
    epoll: Epoll,
    queues: Mutex<HashMap<u64, Weak<WaitQueue>>>,
    next: std::sync::atomic::AtomicU64,
}

fn poller() -> Result<&'static Poller, Errno> {
    static POLLER: OnceLock<Option<Poller>> = OnceLock::new();
    POLLER
        .get_or_init(|| {
            let epoll = match Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!("host sockets: epoll_create1: {e}");
                    return None;
                }
            };
            let p = Poller {
                epoll,
                queues: Mutex::new(HashMap::new()),
                next: std::sync::atomic::AtomicU64::new(1),
            };
            let spawned = std::thread::Builder::new()
                .name("hostinet".into())
                .spawn(poll_loop);
            if let Err(e) = spawned {
                tracing::error!("host sockets: no poller thread: {e}");
                return None;
            }
            Some(p)
        })
        .as_ref()
        .ok_or(Errno::ENOBUFS)
}

fn poll_loop() {
    let Ok(p) = poller() else { return };
    let mut events = [EpollEvent::empty(); 64];
    loop {
        let n = match p.epoll.wait(&mut events, EpollTimeout::NONE) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                tracing::error!("host sockets: epoll_wait: {e}; blocked sockets stay blocked");
                return;
            }
        };
        let queues: Vec<Arc<WaitQueue>> = {
            let map = p.queues.lock().unwrap_or_else(|e| e.into_inner());
            events[..n]
                .iter()
                .filter_map(|e| map.get(&e.data()).and_then(Weak::upgrade))
                .collect()
        };
        for q in queues {
            q.notify_all();
        }
    }
}

/// Socket type, as far as the sentry cares.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Stream,
    Dgram,
}

/// An application's inet socket that is a host socket.
pub struct HostSocket {
    fd: OwnedFd,
    pub v6: bool,
    pub kind: Kind,
    queue: Arc<WaitQueue>,
    key: u64,
    dev: u64,
    ino: u64,
    uid: u32,
    /// SO_RCVTIMEO and SO_SNDTIMEO: the host socket never blocks, the sentry waits.
    timeouts: Mutex<(Option<Duration>, Option<Duration>)>,
}

impl HostSocket {
    /// A new host socket (`ty` SOCK_STREAM or SOCK_DGRAM; the host checks `proto`).
    pub fn create(v6: bool, kind: Kind, proto: i32, uid: u32) -> Result<Arc<HostSocket>, Errno> {
        let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
        let ty = match kind {
            Kind::Stream => libc::SOCK_STREAM,
            Kind::Dgram => libc::SOCK_DGRAM,
        };
        let fd = hostsock::socket(domain, ty, proto).map_err(host)?;
        HostSocket::wrap(fd, v6, kind, uid)
    }

    fn wrap(fd: OwnedFd, v6: bool, kind: Kind, uid: u32) -> Result<Arc<HostSocket>, Errno> {
        let p = poller()?;
        let key = p.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let s = Arc::new(HostSocket {
            fd,
            v6,
            kind,
            queue: Arc::new(WaitQueue::default()),
            key,
            dev: crate::fs::new_dev(),
            ino: crate::fs::new_ino(),
            uid,
            timeouts: Mutex::new((None, None)),
        });
        p.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Arc::downgrade(&s.queue));
        let flags = EpollFlags::EPOLLIN
            | EpollFlags::EPOLLOUT
            | EpollFlags::EPOLLRDHUP
            | EpollFlags::EPOLLPRI
            | EpollFlags::EPOLLET;
        p.epoll
            .add(&s.fd, EpollEvent::new(flags, key))
            .map_err(|e| Errno(e as i32))?;
        Ok(s)
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub fn bind(&self, addr: &[u8]) -> Result<(), Errno> {
        hostsock::bind(self.fd(), addr).map_err(host)
    }

    pub fn connect(&self, addr: &[u8]) -> Result<(), Errno> {
        hostsock::connect(self.fd(), addr).map_err(host)
    }

    pub fn listen(&self, backlog: i32) -> Result<(), Errno> {
        hostsock::listen(self.fd(), backlog).map_err(host)
    }

    /// A pending connection (EAGAIN when none) and its peer's address.
    pub fn accept(&self) -> Result<(Arc<HostSocket>, Vec<u8>), Errno> {
        let (fd, addr) = hostsock::accept(self.fd()).map_err(host)?;
        Ok((HostSocket::wrap(fd, self.v6, self.kind, self.uid)?, addr))
    }

    pub fn name(&self, peer: bool) -> Result<Vec<u8>, Errno> {
        hostsock::name(self.fd(), peer).map_err(host)
    }

    pub fn send(&self, data: &[u8], flags: i32, to: Option<&[u8]>) -> Result<usize, Errno> {
        hostsock::send(self.fd(), data, flags, to).map_err(host)
    }

    pub fn recv(&self, buf: &mut [u8], flags: i32) -> Result<(usize, Vec<u8>), Errno> {
        hostsock::recv(self.fd(), buf, flags).map_err(host)
    }

    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        hostsock::shutdown(self.fd(), how).map_err(host)
    }

    pub fn setsockopt(&self, level: i32, name: i32, value: &[u8]) -> Result<(), Errno> {
        hostsock::setsockopt(self.fd(), level, name, value).map_err(host)
    }

    pub fn getsockopt(&self, level: i32, name: i32, room: usize) -> Result<Vec<u8>, Errno> {
        let mut v = vec![0u8; room];
        let n = hostsock::getsockopt(self.fd(), level, name, &mut v).map_err(host)?;
        v.truncate(n.min(room));
        Ok(v)
    }

    pub fn timeout(&self, write: bool) -> Option<Duration> {
        let t = self.timeouts.lock().unwrap_or_else(|e| e.into_inner());
        if write {
            t.1
        } else {
            t.0
        }
    }

    pub fn set_timeout(&self, write: bool, d: Option<Duration>) {
        let mut t = self.timeouts.lock().unwrap_or_else(|e| e.into_inner());
        if write {
            t.1 = d;
        } else {
            t.0 = d;
        }
    }
}

/// A host error as the application's errno.
fn host(e: std::io::Error) -> Errno {
    Errno(e.raw_os_error().unwrap_or(libc::EIO))
}

impl Drop for HostSocket {
    fn drop(&mut self) {
        if let Ok(p) = poller() {
            let _ = p.epoll.delete(&self.fd);
            p.queues
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&self.key);
        }
    }
}

impl FileOps for HostSocket {
    fn read(&self, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        self.recv(buf, 0).map(|(n, _)| n)
    }

    fn write(&self, buf: &[u8], _: u64) -> Result<usize, Errno> {
        self.send(buf, 0, None)
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

    fn io_timeout(&self, write: bool) -> Option<Duration> {
        self.timeout(write)
    }

    fn readiness(&self) -> u32 {
        let events = libc::POLLIN | libc::POLLOUT | libc::POLLPRI | libc::POLLRDHUP;
        hostsock::ready(self.fd(), events) as u16 as u32
    }

    fn ioctl(&self, mm: &crate::mm::MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
        match req as libc::c_ulong {
            libc::FIONREAD | libc::TIOCOUTQ | super::inet::SIOCATMARK => {
                let n = hostsock::ioctl_int(self.fd(), req).map_err(host)?;
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
