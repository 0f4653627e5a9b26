//! Unix domain sockets: stream, datagram and seqpacket, connected pairs, abstract names,
//! SCM_RIGHTS and SCM_CREDENTIALS. Entirely inside the sentry.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;
use crate::vfs::{FileOps, OpenFile, Stat};

/// Default receive buffer (net.core.rmem_default for unix sockets).
pub const RCVBUF: usize = 212_992;
/// Most descriptors in one SCM_RIGHTS message (SCM_MAX_FD).
pub const SCM_MAX_FD: usize = 253;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Stream,
    Dgram,
    SeqPacket,
}

impl Kind {
    pub fn from_type(t: i32) -> Option<Kind> {
        match t {
            libc::SOCK_STREAM => Some(Kind::Stream),
            // AF_UNIX takes SOCK_RAW as SOCK_DGRAM.
            libc::SOCK_DGRAM | libc::SOCK_RAW => Some(Kind::Dgram),
            libc::SOCK_SEQPACKET => Some(Kind::SeqPacket),
            _ => None,
        }
    }
    pub fn to_type(self) -> i32 {
        match self {
            Kind::Stream => libc::SOCK_STREAM,
            Kind::Dgram => libc::SOCK_DGRAM,
            Kind::SeqPacket => libc::SOCK_SEQPACKET,
        }
    }
}

/// Sender credentials: pid, uid, gid.
pub type Cred = (i32, u32, u32);

/// One message (a datagram, or a chunk of a stream with its ancillary data).
pub struct Msg {
    pub data: Vec<u8>,
    pub fds: Vec<Arc<OpenFile>>,
    pub cred: Cred,
    pub from: Option<Vec<u8>>,
}

#[derive(Default)]
struct State {
    peer: Option<Weak<UnixSocket>>,
    /// Set once a connected peer has gone.
    peer_gone: bool,
    rx: VecDeque<Msg>,
    rx_bytes: usize,
    /// Bytes already read from the first stream message.
    rx_off: usize,
    shut_rd: bool,
    shut_wr: bool,
    /// The peer shut down its writing side (we read EOF after the data).
    peer_shut_wr: bool,
    name: Option<Vec<u8>>,
    listening: Option<usize>,
    backlog: VecDeque<Arc<UnixSocket>>,
    passcred: bool,
    /// SO_RCVTIMEO / SO_SNDTIMEO: None waits forever; zero does not wait.
    timeouts: [Option<std::time::Duration>; 2],
    /// Credentials of the peer at connect time (SO_PEERCRED).
    peercred: Option<Cred>,
    connected: bool,
    /// The name of a peer that has closed: Linux keeps a reference to the peer, so
    /// getpeername still answers after it is gone.
    gone_peer_name: Option<Option<Vec<u8>>>,
}

pub struct UnixSocket {
    pub kind: Kind,
    st: Mutex<State>,
    pub queue: WaitQueue,
    dev: u64,
    ino: u64,
}

impl UnixSocket {
    pub fn new(kind: Kind) -> Arc<UnixSocket> {
        Arc::new(UnixSocket {
            kind,
            st: Mutex::new(State::default()),
            queue: WaitQueue::default(),
            dev: crate::fs::new_dev(),
            ino: crate::fs::new_ino(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connected pair (socketpair).
    pub fn pair(kind: Kind, cred: Cred) -> (Arc<UnixSocket>, Arc<UnixSocket>) {
        let (a, b) = (UnixSocket::new(kind), UnixSocket::new(kind));
        Self::join(&a, &b, cred, cred);
        (a, b)
    }

    fn join(a: &Arc<UnixSocket>, b: &Arc<UnixSocket>, a_cred: Cred, b_cred: Cred) {
        {
            let mut s = a.lock();
            s.peer = Some(Arc::downgrade(b));
            s.peercred = Some(b_cred);
            s.connected = true;
        }
        let mut s = b.lock();
        s.peer = Some(Arc::downgrade(a));
        s.peercred = Some(a_cred);
        s.connected = true;
    }

    pub fn peer(&self) -> Option<Arc<UnixSocket>> {
        self.lock().peer.as_ref().and_then(Weak::upgrade)
    }

    pub fn name(&self) -> Option<Vec<u8>> {
        self.lock().name.clone()
    }

    /// The peer's name for getpeername (None: not connected; Some(None): unnamed).
    pub fn peer_name(&self) -> Option<Option<Vec<u8>>> {
        match self.peer() {
            Some(p) => Some(p.name()),
            None => self.lock().gone_peer_name.clone(),
        }
    }

    pub fn peercred(&self) -> Option<Cred> {
        self.lock().peercred
    }

    /// SO_RCVTIMEO (`send` false) or SO_SNDTIMEO.
    pub fn timeout(&self, send: bool) -> Option<std::time::Duration> {
        self.lock().timeouts[send as usize]
    }

    pub fn set_timeout(&self, send: bool, t: Option<std::time::Duration>) {
        self.lock().timeouts[send as usize] = t;
    }

    pub fn set_passcred(&self, on: bool) {
        self.lock().passcred = on;
    }

    pub fn passcred(&self) -> bool {
        self.lock().passcred
    }

    pub fn is_listening(&self) -> bool {
        self.lock().listening.is_some()
    }

    pub fn is_connected(&self) -> bool {
        self.lock().connected
    }

    /// Queue a message on this socket (the receiver). EAGAIN if its buffer is full.
    fn deliver(&self, m: Msg) -> Result<usize, Errno> {
        let n = m.data.len();
        {
            let mut st = self.lock();
            if st.shut_rd {
                return Err(Errno::EPIPE);
            }
            if st.rx_bytes + n > RCVBUF && st.rx_bytes > 0 {
                return Err(Errno::EAGAIN);
            }
            st.rx_bytes += n;
            st.rx.push_back(m);
        }
        self.queue.notify_all();
        Ok(n)
    }

    /// Send to the connected peer, or to `to` (datagram sockets).
    pub fn send(
        &self,
        data: &[u8],
        fds: Vec<Arc<OpenFile>>,
        cred: Cred,
        to: Option<Arc<UnixSocket>>,
    ) -> Result<usize, Errno> {
        if self.lock().shut_wr {
            return Err(Errno::EPIPE);
        }
        let target = match to {
            Some(t) => t,
            None => match self.peer() {
                Some(p) => p,
                None if self.lock().peer_gone => {
                    return Err(if self.kind == Kind::Dgram {
                        Errno::ECONNREFUSED
                    } else {
                        Errno::EPIPE
                    })
                }
                None => {
                    return Err(if self.kind == Kind::Dgram {
                        Errno::EDESTADDRREQ
                    } else {
                        Errno::ENOTCONN
                    })
                }
            },
        };
        if self.kind != Kind::Stream && data.len() > RCVBUF {
            return Err(Errno::EMSGSIZE);
        }
        let from = self.name();
        if self.kind == Kind::Stream {
            // A stream takes what fits; the rest waits for space.
            let room = {
                let st = target.lock();
                if st.shut_rd {
                    return Err(Errno::EPIPE);
                }
                RCVBUF.saturating_sub(st.rx_bytes)
            };
            if room == 0 {
                return Err(Errno::EAGAIN);
            }
            let n = data.len().min(room);
            target.deliver(Msg {
                data: data[..n].to_vec(),
                fds,
                cred,
                from,
            })?;
            return Ok(n);
        }
        target.deliver(Msg {
            data: data.to_vec(),
            fds,
            cred,
            from,
        })
    }

    /// Receive into `buf`. Returns (bytes copied, full message length, fds, sender cred, from).
    /// EAGAIN when nothing is queued (0 bytes at EOF for connected streams).
    #[allow(clippy::type_complexity)]
    pub fn recv(
        &self,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<
        (
            usize,
            usize,
            Vec<Arc<OpenFile>>,
            Option<Cred>,
            Option<Vec<u8>>,
        ),
        Errno,
    > {
        let mut st = self.lock();
        if st.rx.is_empty() {
            let eof = st.shut_rd || st.peer_shut_wr || (st.connected && st.peer_gone);
            return if eof && self.kind != Kind::Dgram {
                Ok((0, 0, vec![], None, None))
            } else {
                Err(Errno::EAGAIN)
            };
        }
        if self.kind != Kind::Stream {
            let m = if peek { None } else { st.rx.pop_front() };
            let (len, copied, fds, cred, from) = {
                let mr = m.as_ref().or(st.rx.front()).ok_or(Errno::EAGAIN)?;
                let copied = mr.data.len().min(buf.len());
                buf[..copied].copy_from_slice(&mr.data[..copied]);
                (
                    mr.data.len(),
                    copied,
                    if peek { vec![] } else { mr.fds.clone() },
                    mr.cred,
                    mr.from.clone(),
                )
            };
            if !peek {
                st.rx_bytes -= len;
            }
            drop(st);
            self.queue.notify_all();
            return Ok((copied, len, fds, Some(cred), from));
        }
        // Stream: read across messages, but not past one carrying descriptors.
        let mut n = 0;
        let mut fds = Vec::new();
        let mut cred = None;
        let mut off = st.rx_off;
        let mut idx = 0;
        while n < buf.len() && idx < st.rx.len() {
            let m = &st.rx[idx];
            if n > 0 && !m.fds.is_empty() {
                break;
            }
            if cred.is_none() {
                cred = Some(m.cred);
            }
            if off == 0 && !m.fds.is_empty() && !peek {
                fds = m.fds.clone();
            }
            let take = (m.data.len() - off).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&m.data[off..off + take]);
            n += take;
            if off + take == m.data.len() {
                idx += 1;
                off = 0;
            } else {
                off += take;
            }
        }
        if !peek {
            for _ in 0..idx {
                if let Some(m) = st.rx.pop_front() {
                    st.rx_bytes -= m.data.len() - st.rx_off;
                    st.rx_off = 0;
                }
            }
            if off > 0 {
                st.rx_bytes -= off - st.rx_off;
                st.rx_off = off;
                if let Some(m) = st.rx.front_mut() {
                    // The descriptors were taken with the first bytes.
                    m.fds.clear();
                }
            }
        }
        drop(st);
        if !peek {
            if let Some(p) = self.peer() {
                p.queue.notify_all();
            }
            self.queue.notify_all();
        }
        Ok((n, n, fds, cred, None))
    }

    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        if !self.is_connected() && self.kind != Kind::Dgram {
            return Err(Errno::ENOTCONN);
        }
        let (rd, wr) = match how {
            libc::SHUT_RD => (true, false),
            libc::SHUT_WR => (false, true),
            libc::SHUT_RDWR => (true, true),
            _ => return Err(Errno::EINVAL),
        };
        {
            let mut st = self.lock();
            st.shut_rd |= rd;
            st.shut_wr |= wr;
        }
        if let Some(p) = self.peer() {
            if wr {
                p.lock().peer_shut_wr = true;
            }
            p.queue.notify_all();
        }
        self.queue.notify_all();
        Ok(())
    }

    pub fn listen(&self, backlog: i32) -> Result<(), Errno> {
        if self.kind == Kind::Dgram {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut st = self.lock();
        if st.connected {
            return Err(Errno::EINVAL);
        }
        if st.name.is_none() {
            return Err(Errno::EINVAL);
        }
        st.listening = Some(backlog.clamp(0, 4096) as usize);
        Ok(())
    }

    /// A connection request from `client` (already holding its own socket).
    pub fn enqueue_connection(
        self: &Arc<Self>,
        client: &Arc<UnixSocket>,
        cred: Cred,
        server_cred: Cred,
    ) -> Result<(), Errno> {
        if client.kind != self.kind {
            return Err(Errno::EPROTOTYPE);
        }
        let backlog = self.lock().listening.ok_or(Errno::ECONNREFUSED)?;
        let server_side = UnixSocket::new(self.kind);
        server_side.lock().name = self.name();
        {
            let st = self.lock();
            if st.backlog.len() > backlog {
                return Err(Errno::EAGAIN);
            }
        }
        UnixSocket::join(client, &server_side, cred, server_cred);
        self.lock().backlog.push_back(server_side);
        self.queue.notify_all();
        Ok(())
    }

    pub fn accept(&self) -> Result<Arc<UnixSocket>, Errno> {
        let mut st = self.lock();
        if st.listening.is_none() {
            return Err(Errno::EINVAL);
        }
        st.backlog.pop_front().ok_or(Errno::EAGAIN)
    }

    pub fn bind(&self, name: Vec<u8>) -> Result<(), Errno> {
        let mut st = self.lock();
        if st.name.is_some() {
            return Err(Errno::EINVAL);
        }
        st.name = Some(name);
        Ok(())
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let st = self.st.get_mut().unwrap_or_else(|e| e.into_inner());
        let name = st.name.clone();
        if let Some(p) = st.peer.as_ref().and_then(Weak::upgrade) {
            {
                let mut ps = p.lock();
                ps.peer_gone = true;
                ps.peer = None;
                ps.gone_peer_name = Some(name);
            }
            p.queue.notify_all();
        }
    }
}

impl FileOps for UnixSocket {
    fn io_timeout(&self, write: bool) -> Option<std::time::Duration> {
        self.timeout(write)
    }

    fn read(&self, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        self.recv(buf, false).map(|r| r.0)
    }

    fn write(&self, buf: &[u8], _: u64) -> Result<usize, Errno> {
        // write() carries no credentials of its own: the peer sees ours from connect time.
        self.send(buf, Vec::new(), (0, 0, 0), None)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(super::socket_stat(self.dev, self.ino))
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn readiness(&self) -> u32 {
        let st = self.lock();
        let mut r = 0;
        if st.listening.is_some() {
            if !st.backlog.is_empty() {
                r |= libc::POLLIN;
            }
            return r as u32;
        }
        if !st.rx.is_empty() {
            r |= libc::POLLIN;
        }
        // Receiving is shut down, by us (SHUT_RD) or by the peer (SHUT_WR, close).
        if st.shut_rd || st.peer_shut_wr || (st.connected && st.peer_gone) {
            r |= libc::POLLIN | libc::POLLRDHUP;
        }
        if st.connected && st.peer_gone || (st.shut_rd && st.shut_wr) {
            r |= libc::POLLHUP;
        }
        let peer = st.peer.as_ref().and_then(Weak::upgrade);
        drop(st);
        let writable = match peer {
            Some(p) => p.lock().rx_bytes < RCVBUF,
            None => self.kind == Kind::Dgram,
        };
        if writable {
            r |= libc::POLLOUT;
        }
        r as u32
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn into_any_arc(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
}

/// Point a datagram socket at a default destination (connect on SOCK_DGRAM).
pub fn set_dgram_peer(s: &Arc<UnixSocket>, to: &Arc<UnixSocket>) {
    let mut st = s.lock();
    st.peer = Some(Arc::downgrade(to));
}

impl UnixSocket {
    /// Whether a writer may add to this socket's receive buffer now.
    pub fn readiness_for_writer(&self) -> bool {
        let st = self.lock();
        st.rx_bytes < RCVBUF || st.shut_rd
    }
}

/// The abstract socket namespace of a sandbox.
#[derive(Default)]
pub struct Namespace {
    names: Mutex<HashMap<Vec<u8>, Weak<UnixSocket>>>,
    /// Sockets bound to paths, by the (device, inode) of their socket node.
    nodes: Mutex<HashMap<(u64, u64), Weak<UnixSocket>>>,
    /// Next autobind name.
    next_auto: Mutex<u32>,
}

impl Namespace {
    /// Bind `s` to the socket node `ident`, named `name` (the path, NUL-terminated).
    pub fn bind_node(
        &self,
        ident: (u64, u64),
        name: &[u8],
        s: &Arc<UnixSocket>,
    ) -> Result<(), Errno> {
        let mut m = self.nodes.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, w| w.strong_count() > 0);
        s.bind(name.to_vec())?;
        m.insert(ident, Arc::downgrade(s));
        Ok(())
    }

    pub fn find_node(&self, ident: (u64, u64)) -> Option<Arc<UnixSocket>> {
        self.nodes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ident)
            .and_then(Weak::upgrade)
    }

    /// Autobind (bind with an empty address): a fresh abstract name of five hex digits.
    pub fn autobind(&self, s: &Arc<UnixSocket>) -> Result<(), Errno> {
        for _ in 0..0x10_0000 {
            let n = {
                let mut next = self.next_auto.lock().unwrap_or_else(|e| e.into_inner());
                *next = (*next + 1) & 0xf_ffff;
                *next
            };
            let mut name = vec![0u8];
            name.extend_from_slice(format!("{n:05x}").as_bytes());
            match self.bind(&name, s) {
                Err(Errno::EADDRINUSE) => continue,
                r => return r,
            }
        }
        Err(Errno::ENOSPC)
    }

    pub fn bind(&self, name: &[u8], s: &Arc<UnixSocket>) -> Result<(), Errno> {
        let mut m = self.names.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, w| w.strong_count() > 0);
        if m.contains_key(name) {
            return Err(Errno::EADDRINUSE);
        }
        s.bind(name.to_vec())?;
        m.insert(name.to_vec(), Arc::downgrade(s));
        Ok(())
    }

    pub fn find(&self, name: &[u8]) -> Option<Arc<UnixSocket>> {
        self.names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .and_then(Weak::upgrade)
    }
}
