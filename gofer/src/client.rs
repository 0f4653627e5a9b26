//! The sentry's side of the gofer connection.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

use crate::proto::{Attr, Dirent, FsStat, Request, Response};
use crate::sock;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The gofer answered with this errno.
    #[error("gofer: errno {0}")]
    Errno(i32),
    /// The connection failed or the gofer broke the protocol; the sentry sees EIO.
    #[error("gofer connection: {0}")]
    Protocol(String),
}

impl ClientError {
    pub fn errno(&self) -> i32 {
        match self {
            ClientError::Errno(e) => *e,
            ClientError::Protocol(_) => libc::EIO,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// A connection to a gofer. Calls are serialized; each is one request and one response.
#[derive(Debug)]
pub struct Client {
    sock: OwnedFd,
    lock: Mutex<sock::RecvBuf>,
    /// Fids released and not yet told to the gofer.
    closed: Mutex<Vec<u64>>,
}

/// Released fids sent to the gofer in one message.
const CLOSE_BATCH: usize = 128;

impl Client {
    pub fn new(sock: OwnedFd) -> Client {
        Client {
            sock,
            lock: Mutex::new(sock::RecvBuf::new()),
            closed: Mutex::new(Vec::new()),
        }
    }

    pub fn call(&self, req: &Request) -> Result<(Response, Option<OwnedFd>)> {
        let mut buf = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let proto = |e: nix::errno::Errno| ClientError::Protocol(e.to_string());
        sock::send(self.sock.as_raw_fd(), &req.encode(), None).map_err(proto)?;
        let fd = sock::recv(self.sock.as_raw_fd(), &mut buf)
            .map_err(proto)?
            .ok_or_else(|| ClientError::Protocol("gofer closed the connection".into()))?;
        let resp =
            Response::decode(buf.message()).map_err(|e| ClientError::Protocol(e.to_string()))?;
        if let Response::Error { errno } = resp {
            return Err(ClientError::Errno(errno));
        }
        Ok((resp, fd))
    }

    fn unexpected<T>(r: Response) -> Result<T> {
        Err(ClientError::Protocol(format!("unexpected response {r:?}")))
    }

    pub fn attach(&self) -> Result<Attr> {
        match self.call(&Request::Attach)?.0 {
            Response::Attr(a) => Ok(a),
            r => Self::unexpected(r),
        }
    }

    /// Walk components from `fid`; returns the new fids and the errno that stopped the walk.
    pub fn walk(&self, fid: u64, names: Vec<Vec<u8>>) -> Result<(Vec<(u64, Attr)>, i32)> {
        match self.call(&Request::Walk { fid, names })?.0 {
            Response::Walked { nodes, errno } => Ok((nodes, errno)),
            r => Self::unexpected(r),
        }
    }

    pub fn stat(&self, fid: u64) -> Result<Attr> {
        match self.call(&Request::Stat { fid })?.0 {
            Response::Attr(a) => Ok(a),
            r => Self::unexpected(r),
        }
    }

    pub fn open(&self, fid: u64, flags: u32) -> Result<OwnedFd> {
        match self.call(&Request::Open { fid, flags })? {
            (Response::Opened, Some(fd)) => Ok(fd),
            (r, _) => Self::unexpected(r),
        }
    }

    pub fn readdir(&self, fid: u64, cookie: u64) -> Result<(Vec<Dirent>, bool)> {
        match self.call(&Request::ReadDir { fid, cookie })?.0 {
            Response::Dirents { entries, eof } => Ok((entries, eof)),
            r => Self::unexpected(r),
        }
    }

    pub fn readlink(&self, fid: u64) -> Result<Vec<u8>> {
        match self.call(&Request::ReadLink { fid })?.0 {
            Response::Link(t) => Ok(t),
            r => Self::unexpected(r),
        }
    }

    pub fn statfs(&self, fid: u64) -> Result<FsStat> {
        match self.call(&Request::StatFs { fid })?.0 {
            Response::FsStat(s) => Ok(s),
            r => Self::unexpected(r),
        }
    }

    pub fn getxattr(&self, fid: u64, name: &[u8]) -> Result<Vec<u8>> {
        let name = name.to_vec();
        match self.call(&Request::GetXattr { fid, name })?.0 {
            Response::Xattr(v) => Ok(v),
            r => Self::unexpected(r),
        }
    }

    pub fn listxattr(&self, fid: u64) -> Result<Vec<u8>> {
        match self.call(&Request::ListXattr { fid })?.0 {
            Response::Xattr(v) => Ok(v),
            r => Self::unexpected(r),
        }
    }

    fn node(&self, req: &Request) -> Result<(u64, Attr, Option<OwnedFd>)> {
        match self.call(req)? {
            (Response::Node { fid, attr }, fd) => Ok((fid, attr, fd)),
            (r, _) => Self::unexpected(r),
        }
    }

    fn ok(&self, req: &Request) -> Result<()> {
        match self.call(req)?.0 {
            Response::Ok => Ok(()),
            r => Self::unexpected(r),
        }
    }

    /// Create a regular file: its fid, attributes and an fd open for reading and writing.
    pub fn create(
        &self,
        fid: u64,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(u64, Attr, OwnedFd)> {
        let name = name.to_vec();
        match self.node(&Request::Create {
            fid,
            name,
            mode,
            uid,
            gid,
        })? {
            (f, a, Some(fd)) => Ok((f, a, fd)),
            _ => Err(ClientError::Protocol("create without a file".into())),
        }
    }

    /// Make a directory, fifo or socket (by `mode`'s type bits).
    pub fn mknod(
        &self,
        fid: u64,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(u64, Attr)> {
        let name = name.to_vec();
        let (f, a, _) = self.node(&Request::Mknod {
            fid,
            name,
            mode,
            uid,
            gid,
        })?;
        Ok((f, a))
    }

    pub fn symlink(
        &self,
        fid: u64,
        name: &[u8],
        target: &[u8],
        uid: u32,
        gid: u32,
    ) -> Result<(u64, Attr)> {
        let (name, target) = (name.to_vec(), target.to_vec());
        let (f, a, _) = self.node(&Request::Symlink {
            fid,
            name,
            target,
            uid,
            gid,
        })?;
        Ok((f, a))
    }

    pub fn link(&self, fid: u64, name: &[u8], target: u64) -> Result<(u64, Attr)> {
        let name = name.to_vec();
        let (f, a, _) = self.node(&Request::Link { fid, name, target })?;
        Ok((f, a))
    }

    pub fn unlink(&self, fid: u64, name: &[u8], dir: bool) -> Result<()> {
        let name = name.to_vec();
        self.ok(&Request::Unlink { fid, name, dir })
    }

    pub fn rename(
        &self,
        fid: u64,
        name: &[u8],
        to: u64,
        new_name: &[u8],
        flags: u32,
    ) -> Result<()> {
        let (name, new_name) = (name.to_vec(), new_name.to_vec());
        self.ok(&Request::Rename {
            fid,
            name,
            to,
            new_name,
            flags,
        })
    }

    /// Change attributes (`req` is a SetAttr); the new attributes.
    pub fn setattr(&self, req: &Request) -> Result<Attr> {
        match self.call(req)?.0 {
            Response::Attr(a) => Ok(a),
            r => Self::unexpected(r),
        }
    }

    pub fn setxattr(&self, fid: u64, name: &[u8], value: &[u8], flags: u32) -> Result<()> {
        let (name, value) = (name.to_vec(), value.to_vec());
        self.ok(&Request::SetXattr {
            fid,
            name,
            value,
            flags,
        })
    }

    pub fn removexattr(&self, fid: u64, name: &[u8]) -> Result<()> {
        let name = name.to_vec();
        self.ok(&Request::RemoveXattr { fid, name })
    }

    /// Release a fid; the gofer hears of released fids in batches.
    pub fn close(&self, fid: u64) {
        let fids = {
            let mut c = self.closed.lock().unwrap_or_else(|e| e.into_inner());
            c.push(fid);
            if c.len() < CLOSE_BATCH {
                return;
            }
            std::mem::take(&mut *c)
        };
        let _ = self.call(&Request::Close { fids });
    }
}

/// A connected SOCK_SEQPACKET pair: one end for the gofer, one for the sentry.
pub fn socketpair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(std::io::Error::from)
}
