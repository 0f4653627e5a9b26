//! The gofer server: answers one sentry connection, serving the tree under one root.
//!
//! Every node is an `O_PATH` descriptor obtained by `openat(parent, name, O_NOFOLLOW)` from its
//! parent's descriptor, starting at the root. Names are single components (no `/`, `.` or `..`),
//! symlinks are never followed on the client's behalf, and opening for I/O re-opens the last
//! component from its parent with `O_NOFOLLOW` and checks it is still the same inode.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::rc::Rc;

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::{fstat, FileStat, Mode};

use crate::proto::{Attr, Dirent, FsStat, Request, Response, MAX_MESSAGE, XATTR_SIZE_MAX};
use crate::sock;

struct Node {
    fd: OwnedFd,
    /// Where the node is: its directory and name (renames through the gofer move it).
    loc: std::cell::RefCell<(Option<Rc<Node>>, Vec<u8>)>,
    attr: Attr,
    /// Directory listing taken when a listing starts at cookie 0.
    listing: std::cell::RefCell<Vec<Dirent>>,
}

/// Server state for one connection.
pub struct Server {
    nodes: HashMap<u64, Rc<Node>>,
    next_fid: u64,
    /// Whether changes are allowed (a root written through), or the tree is read-only.
    writable: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("opening the root {0}: {1}")]
    Root(String, Errno),
    #[error("socket: {0}")]
    Socket(Errno),
    #[error("malformed request: {0}")]
    Malformed(#[from] crate::proto::DecodeError),
}

use crate::sock::own;

fn to_attr(st: &FileStat) -> Attr {
    Attr {
        dev: st.st_dev,
        ino: st.st_ino,
        mode: st.st_mode,
        nlink: st.st_nlink,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev: st.st_rdev,
        size: st.st_size as u64,
        blksize: st.st_blksize as u64,
        blocks: st.st_blocks as u64,
        atime: (st.st_atime, st.st_atime_nsec),
        mtime: (st.st_mtime, st.st_mtime_nsec),
        ctime: (st.st_ctime, st.st_ctime_nsec),
        btime: None,
    }
}

fn valid_name(n: &[u8]) -> bool {
    !n.is_empty() && n != b"." && n != b".." && !n.contains(&b'/') && !n.contains(&0)
}

const PATH_FLAGS: OFlag = OFlag::O_PATH
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

impl Server {
    /// Serve the tree under `root` (a directory, or a single file, as a file bind mount
    /// is); `writable`: allow changes (else they are EROFS).
    pub fn new(root: &Path, writable: bool) -> Result<Server, ServeError> {
        if writable {
            // Modes arrive with the sandbox's umask applied already.
            nix::sys::stat::umask(Mode::empty());
        }
        let failed = |e| ServeError::Root(root.display().to_string(), e);
        let fd = own(openat(None, root, PATH_FLAGS, Mode::empty()).map_err(failed)?);
        let attr = to_attr(&fstat(fd.as_raw_fd()).map_err(failed)?);
        // A file is opened through its directory, by name: keep both.
        let loc = match attr.file_type() {
            libc::S_IFDIR => Default::default(),
            libc::S_IFREG => {
                let parent = root.parent().unwrap_or(Path::new("/"));
                let name = root
                    .file_name()
                    .ok_or(ServeError::Root(root.display().to_string(), Errno::EINVAL))?;
                let dir = own(
                    openat(None, parent, PATH_FLAGS | OFlag::O_DIRECTORY, Mode::empty())
                        .map_err(failed)?,
                );
                let dir_attr = to_attr(&fstat(dir.as_raw_fd()).map_err(failed)?);
                let dir = Rc::new(Node {
                    fd: dir,
                    loc: Default::default(),
                    attr: dir_attr,
                    listing: Default::default(),
                });
                (Some(dir), name.as_bytes().to_vec())
            }
            // Devices, fifos and sockets are never served.
            _ => return Err(failed(Errno::EACCES)),
        };
        let root = Rc::new(Node {
            fd,
            loc: std::cell::RefCell::new(loc),
            attr,
            listing: Default::default(),
        });
        Ok(Server {
            nodes: HashMap::from([(0, root)]),
            next_fid: 1,
            writable,
        })
    }

    /// Serve requests until the peer closes the socket or sends a malformed message.
    pub fn serve(&mut self, sock: RawFd) -> Result<(), ServeError> {
        let mut buf = sock::RecvBuf::new();
        loop {
            match sock::recv(sock, &mut buf).map_err(ServeError::Socket)? {
                None => return Ok(()),
                Some(_unexpected_fd) => {}
            }
            let req = Request::decode(buf.message())?;
            let (resp, fd) = match self.handle(req) {
                Ok(r) => r,
                Err(e) => (Response::Error { errno: e as i32 }, None),
            };
            sock::send(sock, &resp.encode(), fd.as_ref().map(|f| f.as_raw_fd()))
                .map_err(ServeError::Socket)?;
        }
    }

    fn node(&self, fid: u64) -> Result<Rc<Node>, Errno> {
        self.nodes.get(&fid).cloned().ok_or(Errno::EBADF)
    }

    fn handle(&mut self, req: Request) -> Result<(Response, Option<OwnedFd>), Errno> {
        let r = match req {
            Request::Attach => Response::Attr(self.node(0)?.attr),
            Request::Walk { fid, names } => self.walk(fid, &names)?,
            Request::Stat { fid } => {
                let n = self.node(fid)?;
                Response::Attr(to_attr(&fstat(n.fd.as_raw_fd())?))
            }
            Request::Open { fid, flags } => {
                return self.open(fid, flags).map(|fd| (Response::Opened, Some(fd)))
            }
            Request::ReadDir { fid, cookie } => self.readdir(fid, cookie)?,
            Request::ReadLink { fid } => {
                let n = self.node(fid)?;
                if n.attr.file_type() != libc::S_IFLNK {
                    return Err(Errno::EINVAL);
                }
                let t = readlinkat(Some(n.fd.as_raw_fd()), "")?;
                Response::Link(std::os::unix::ffi::OsStringExt::into_vec(t))
            }
            Request::StatFs { fid } => {
                let n = self.node(fid)?;
                let s = nix::sys::statfs::fstatfs(&n.fd)?;
                Response::FsStat(FsStat {
                    kind: s.filesystem_type().0 as u64,
                    bsize: s.block_size() as u64,
                    blocks: s.blocks(),
                    bfree: s.blocks_free(),
                    bavail: s.blocks_available(),
                    files: s.files(),
                    ffree: s.files_free(),
                    namelen: s.maximum_name_length() as u64,
                })
            }
            Request::GetXattr { fid, name } => Response::Xattr(self.getxattr(fid, &name)?),
            r @ (Request::Create { .. }
            | Request::Mknod { .. }
            | Request::Symlink { .. }
            | Request::Link { .. }
            | Request::Unlink { .. }
            | Request::Rename { .. }
            | Request::SetAttr { .. }
            | Request::SetXattr { .. }
            | Request::RemoveXattr { .. }) => {
                if !self.writable {
                    return Err(Errno::EROFS);
                }
                return self.change(r);
            }
            Request::ListXattr { fid } => Response::Xattr(self.listxattr(fid)?),
            Request::Close { fids } => {
                for fid in fids.into_iter().filter(|&f| f != 0) {
                    self.nodes.remove(&fid);
                }
                Response::Ok
            }
        };
        Ok((r, None))
    }

    fn walk(&mut self, fid: u64, names: &[Vec<u8>]) -> Result<Response, Errno> {
        let mut cur = self.node(fid)?;
        let mut nodes = Vec::new();
        for name in names {
            if cur.attr.file_type() != libc::S_IFDIR {
                return Ok(Response::Walked {
                    nodes,
                    errno: libc::ENOTDIR,
                });
            }
            if !valid_name(name) {
                return Ok(Response::Walked {
                    nodes,
                    errno: libc::EINVAL,
                });
            }
            let path = OsStr::from_bytes(name);
            let fd = match openat(Some(cur.fd.as_raw_fd()), path, PATH_FLAGS, Mode::empty()) {
                Ok(fd) => own(fd),
                Err(e) => {
                    return Ok(Response::Walked {
                        nodes,
                        errno: e as i32,
                    })
                }
            };
            let attr = to_attr(&fstat(fd.as_raw_fd())?);
            let node = Rc::new(Node {
                fd,
                loc: std::cell::RefCell::new((Some(cur.clone()), name.clone())),
                attr,
                listing: Default::default(),
            });
            let id = self.next_fid;
            self.next_fid += 1;
            self.nodes.insert(id, node.clone());
            nodes.push((id, attr));
            if attr.file_type() != libc::S_IFDIR {
                break;
            }
            cur = node;
        }
        Ok(Response::Walked { nodes, errno: 0 })
    }

    fn open(&mut self, fid: u64, flags: u32) -> Result<OwnedFd, Errno> {
        let n = self.node(fid)?;
        // A read-only tree (below the sentry's overlay) opens nothing for writing.
        let acc = match flags & libc::O_ACCMODE as u32 {
            x if x == libc::O_RDONLY as u32 => OFlag::empty(),
            _ if !self.writable => return Err(Errno::EROFS),
            x if x == libc::O_WRONLY as u32 => OFlag::O_WRONLY,
            x if x == libc::O_RDWR as u32 => OFlag::O_RDWR,
            _ => return Err(Errno::EINVAL),
        };
        let base = OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOCTTY | OFlag::O_NOFOLLOW;
        let fd = match n.attr.file_type() {
            libc::S_IFDIR if acc.is_empty() => openat(
                Some(n.fd.as_raw_fd()),
                ".",
                base | OFlag::O_DIRECTORY,
                Mode::empty(),
            )?,
            libc::S_IFDIR => return Err(Errno::EISDIR),
            libc::S_IFREG => {
                let (parent, name) = n.loc.borrow().clone();
                let parent = parent.ok_or(Errno::EINVAL)?;
                let name = OsStr::from_bytes(&name);
                openat(Some(parent.fd.as_raw_fd()), name, base | acc, Mode::empty())?
            }
            // Host devices, fifos and sockets are never opened for the sandbox.
            _ => return Err(Errno::EACCES),
        };
        let fd = own(fd);
        let st = fstat(fd.as_raw_fd())?;
        if st.st_ino != n.attr.ino || st.st_dev != n.attr.dev {
            // Replaced between walk and open: refuse rather than serve another file.
            return Err(Errno::ESTALE);
        }
        Ok(fd)
    }

    /// A readable descriptor of a regular file or directory, for its extended attributes;
    /// None for other types (the host's symlinks, devices, fifos and sockets are not opened).
    fn xattr_file(&mut self, fid: u64) -> Result<Option<std::fs::File>, Errno> {
        match self.reopen(fid, false) {
            Ok(fd) => Ok(Some(fd.into())),
            Err(Errno::EOPNOTSUPP) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn getxattr(&mut self, fid: u64, name: &[u8]) -> Result<Vec<u8>, Errno> {
        if name.is_empty() || name.contains(&0) {
            return Err(Errno::EINVAL);
        }
        let f = self.xattr_file(fid)?.ok_or(Errno::ENODATA)?;
        match xattr::FileExt::get_xattr(&f, OsStr::from_bytes(name)) {
            Ok(Some(v)) if v.len() <= XATTR_SIZE_MAX => Ok(v),
            Ok(Some(_)) => Err(Errno::E2BIG),
            Ok(None) => Err(Errno::ENODATA),
            Err(e) => Err(io_errno(e)),
        }
    }

    fn listxattr(&mut self, fid: u64) -> Result<Vec<u8>, Errno> {
        let Some(f) = self.xattr_file(fid)? else {
            return Ok(Vec::new());
        };
        let names = xattr::FileExt::list_xattr(&f).map_err(io_errno)?;
        let mut out = Vec::new();
        for n in names {
            out.extend_from_slice(n.as_bytes());
            out.push(0);
        }
        if out.len() > XATTR_SIZE_MAX {
            return Err(Errno::E2BIG);
        }
        Ok(out)
    }

    fn readdir(&mut self, fid: u64, cookie: u64) -> Result<Response, Errno> {
        let n = self.node(fid)?;
        if n.attr.file_type() != libc::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        if cookie == 0 {
            let mut dir = nix::dir::Dir::openat(
                Some(n.fd.as_raw_fd()),
                ".",
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                Mode::empty(),
            )?;
            let mut list = Vec::new();
            for e in dir.iter() {
                let e = e?;
                let name = e.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                let kind = match e.file_type() {
                    Some(nix::dir::Type::Directory) => libc::DT_DIR,
                    Some(nix::dir::Type::File) => libc::DT_REG,
                    Some(nix::dir::Type::Symlink) => libc::DT_LNK,
                    Some(nix::dir::Type::CharacterDevice) => libc::DT_CHR,
                    Some(nix::dir::Type::BlockDevice) => libc::DT_BLK,
                    Some(nix::dir::Type::Fifo) => libc::DT_FIFO,
                    Some(nix::dir::Type::Socket) => libc::DT_SOCK,
                    None => libc::DT_UNKNOWN,
                };
                list.push(Dirent {
                    ino: e.ino(),
                    off: list.len() as u64 + 1,
                    kind,
                    name: name.to_vec(),
                });
            }
            *n.listing.borrow_mut() = list;
        }
        let listing = n.listing.borrow();
        let start = (cookie as usize).min(listing.len());
        let mut size = 0;
        let mut entries = Vec::new();
        for d in &listing[start..] {
            size += 32 + d.name.len();
            if size > MAX_MESSAGE / 2 {
                break;
            }
            entries.push(d.clone());
        }
        let eof = start + entries.len() == listing.len();
        Ok(Response::Dirents { entries, eof })
    }
}

// ---- changes (a tree served writable) -----------------------------------------------------

use nix::fcntl::{renameat2, RenameFlags};
use nix::sys::stat::{fchmod, futimens, mkdirat, mknodat, utimensat, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, ftruncate, linkat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};

use crate::proto::{
    SETATTR_ATIME, SETATTR_GID, SETATTR_MODE, SETATTR_MTIME, SETATTR_SIZE, SETATTR_UID,
};

const EMPTY_NOFOLLOW: nix::fcntl::AtFlags =
    nix::fcntl::AtFlags::AT_EMPTY_PATH.union(nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW);

fn name_arg(name: &[u8]) -> Result<&OsStr, Errno> {
    if valid_name(name) {
        Ok(OsStr::from_bytes(name))
    } else {
        Err(Errno::EINVAL)
    }
}

fn time(t: (i64, i64)) -> TimeSpec {
    TimeSpec::new(t.0, t.1)
}

const UTIME_OMIT: TimeSpec = TimeSpec::new(0, libc::UTIME_OMIT);

impl Server {
    fn dir_node(&self, fid: u64) -> Result<Rc<Node>, Errno> {
        let n = self.node(fid)?;
        if n.attr.file_type() != libc::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        Ok(n)
    }

    /// A node for the entry `name` just made in `dir`, owned by `uid`/`gid` when given.
    fn made(
        &mut self,
        dir: &Rc<Node>,
        name: &[u8],
        owner: Option<(u32, u32)>,
    ) -> Result<Response, Errno> {
        let fd = own(openat(
            Some(dir.fd.as_raw_fd()),
            OsStr::from_bytes(name),
            PATH_FLAGS,
            Mode::empty(),
        )?);
        if let Some((uid, gid)) = owner {
            fchownat(
                Some(fd.as_raw_fd()),
                "",
                Some(Uid::from_raw(uid)),
                Some(Gid::from_raw(gid)),
                EMPTY_NOFOLLOW,
            )?;
        }
        let attr = to_attr(&fstat(fd.as_raw_fd())?);
        let id = self.next_fid;
        self.next_fid += 1;
        self.nodes.insert(
            id,
            Rc::new(Node {
                fd,
                loc: std::cell::RefCell::new((Some(dir.clone()), name.to_vec())),
                attr,
                listing: Default::default(),
            }),
        );
        Ok(Response::Node { fid: id, attr })
    }

    /// A descriptor of a regular file or directory, opened again from its parent with
    /// O_NOFOLLOW and checked to be the same inode, for changes an O_PATH fd cannot make.
    fn reopen(&mut self, fid: u64, write: bool) -> Result<OwnedFd, Errno> {
        let flags = if write {
            libc::O_WRONLY
        } else {
            libc::O_RDONLY
        };
        match self.node(fid)?.attr.file_type() {
            libc::S_IFREG | libc::S_IFDIR => self.open(fid, flags as u32),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    fn change(&mut self, req: Request) -> Result<(Response, Option<OwnedFd>), Errno> {
        let r = match req {
            Request::Create {
                fid,
                name,
                mode,
                uid,
                gid,
            } => {
                let dir = self.dir_node(fid)?;
                let flags = OFlag::O_CREAT
                    | OFlag::O_EXCL
                    | OFlag::O_RDWR
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_CLOEXEC
                    | OFlag::O_NOCTTY;
                let fd = own(openat(
                    Some(dir.fd.as_raw_fd()),
                    name_arg(&name)?,
                    flags,
                    Mode::from_bits_truncate(mode & 0o7777),
                )?);
                let resp = self.made(&dir, &name, Some((uid, gid)))?;
                if let Response::Node { attr, .. } = &resp {
                    let st = fstat(fd.as_raw_fd())?;
                    if (st.st_dev, st.st_ino) != (attr.dev, attr.ino) {
                        return Err(Errno::ESTALE);
                    }
                }
                return Ok((resp, Some(fd)));
            }
            Request::Mknod {
                fid,
                name,
                mode,
                uid,
                gid,
            } => {
                let dir = self.dir_node(fid)?;
                let n = name_arg(&name)?;
                let perm = Mode::from_bits_truncate(mode & 0o7777);
                let at = Some(dir.fd.as_raw_fd());
                match mode & libc::S_IFMT {
                    libc::S_IFDIR => mkdirat(at, n, perm)?,
                    t @ (libc::S_IFIFO | libc::S_IFSOCK | libc::S_IFREG) => {
                        mknodat(at, n, SFlag::from_bits_truncate(t), perm, 0)?
                    }
                    // Device nodes are never made on the host for the sandbox.
                    _ => return Err(Errno::EPERM),
                }
                self.made(&dir, &name, Some((uid, gid)))?
            }
            Request::Symlink {
                fid,
                name,
                target,
                uid,
                gid,
            } => {
                let dir = self.dir_node(fid)?;
                if target.is_empty() || target.contains(&0) {
                    return Err(Errno::ENOENT);
                }
                symlinkat(
                    OsStr::from_bytes(&target),
                    Some(dir.fd.as_raw_fd()),
                    name_arg(&name)?,
                )?;
                self.made(&dir, &name, Some((uid, gid)))?
            }
            Request::Link { fid, name, target } => {
                let dir = self.dir_node(fid)?;
                let t = self.node(target)?;
                if t.attr.file_type() == libc::S_IFDIR {
                    return Err(Errno::EPERM);
                }
                linkat(
                    Some(t.fd.as_raw_fd()),
                    OsStr::new(""),
                    Some(dir.fd.as_raw_fd()),
                    name_arg(&name)?,
                    nix::fcntl::AtFlags::AT_EMPTY_PATH,
                )?;
                self.made(&dir, &name, None)?
            }
            Request::Unlink { fid, name, dir } => {
                let d = self.dir_node(fid)?;
                let how = if dir {
                    UnlinkatFlags::RemoveDir
                } else {
                    UnlinkatFlags::NoRemoveDir
                };
                unlinkat(Some(d.fd.as_raw_fd()), name_arg(&name)?, how)?;
                Response::Ok
            }
            Request::Rename {
                fid,
                name,
                to,
                new_name,
                flags,
            } => {
                let from = self.dir_node(fid)?;
                let dest = self.dir_node(to)?;
                renameat2(
                    Some(from.fd.as_raw_fd()),
                    name_arg(&name)?,
                    Some(dest.fd.as_raw_fd()),
                    name_arg(&new_name)?,
                    RenameFlags::from_bits(flags).ok_or(Errno::EINVAL)?,
                )?;
                // Nodes follow their files.
                let exchange = flags & libc::RENAME_EXCHANGE != 0;
                for n in self.nodes.values() {
                    let mut loc = n.loc.borrow_mut();
                    let at = |d: &Rc<Node>, nm: &[u8]| {
                        loc.0.as_ref().is_some_and(|p| Rc::ptr_eq(p, d)) && loc.1 == nm
                    };
                    if at(&from, &name) {
                        *loc = (Some(dest.clone()), new_name.clone());
                    } else if exchange && at(&dest, &new_name) {
                        *loc = (Some(from.clone()), name.clone());
                    }
                }
                Response::Ok
            }
            Request::SetAttr {
                fid,
                valid,
                mode,
                uid,
                gid,
                size,
                atime,
                mtime,
            } => {
                let n = self.node(fid)?;
                let ft = n.attr.file_type();
                if valid & SETATTR_SIZE != 0 {
                    match ft {
                        libc::S_IFREG => {}
                        libc::S_IFDIR => return Err(Errno::EISDIR),
                        _ => return Err(Errno::EINVAL),
                    }
                    let f = self.reopen(fid, true)?;
                    ftruncate(&f, i64::try_from(size).map_err(|_| Errno::EFBIG)?)?;
                }
                if valid & SETATTR_MODE != 0 {
                    let f = self.reopen(fid, false)?;
                    fchmod(f.as_raw_fd(), Mode::from_bits_truncate(mode & 0o7777))?;
                }
                if valid & (SETATTR_UID | SETATTR_GID) != 0 {
                    fchownat(
                        Some(n.fd.as_raw_fd()),
                        "",
                        (valid & SETATTR_UID != 0).then(|| Uid::from_raw(uid)),
                        (valid & SETATTR_GID != 0).then(|| Gid::from_raw(gid)),
                        EMPTY_NOFOLLOW,
                    )?;
                }
                if valid & (SETATTR_ATIME | SETATTR_MTIME) != 0 {
                    let at = if valid & SETATTR_ATIME != 0 {
                        time(atime)
                    } else {
                        UTIME_OMIT
                    };
                    let mt = if valid & SETATTR_MTIME != 0 {
                        time(mtime)
                    } else {
                        UTIME_OMIT
                    };
                    if ft == libc::S_IFLNK {
                        let (parent, name) = n.loc.borrow().clone();
                        let parent = parent.ok_or(Errno::EINVAL)?;
                        utimensat(
                            Some(parent.fd.as_raw_fd()),
                            OsStr::from_bytes(&name),
                            &at,
                            &mt,
                            UtimensatFlags::NoFollowSymlink,
                        )?;
                    } else {
                        let f = self.reopen(fid, false)?;
                        futimens(f.as_raw_fd(), &at, &mt)?;
                    }
                }
                Response::Attr(to_attr(&fstat(n.fd.as_raw_fd())?))
            }
            Request::SetXattr {
                fid,
                name,
                value,
                flags,
            } => {
                let f: std::fs::File = self.reopen(fid, false).map_err(|_| Errno::EPERM)?.into();
                let n = OsStr::from_bytes(&name);
                let exists = xattr::FileExt::get_xattr(&f, n)
                    .map_err(io_errno)?
                    .is_some();
                if flags & libc::XATTR_CREATE as u32 != 0 && exists {
                    return Err(Errno::EEXIST);
                }
                if flags & libc::XATTR_REPLACE as u32 != 0 && !exists {
                    return Err(Errno::ENODATA);
                }
                xattr::FileExt::set_xattr(&f, n, &value).map_err(io_errno)?;
                Response::Ok
            }
            Request::RemoveXattr { fid, name } => {
                let f: std::fs::File = self.reopen(fid, false).map_err(|_| Errno::ENODATA)?.into();
                xattr::FileExt::remove_xattr(&f, OsStr::from_bytes(&name)).map_err(io_errno)?;
                Response::Ok
            }
            _ => return Err(Errno::EINVAL),
        };
        Ok((r, None))
    }
}

fn io_errno(e: std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}
