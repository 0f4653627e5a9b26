//! Messages and their encoding. Every message is one SOCK_SEQPACKET datagram: a tag byte and
//! fixed-order little-endian fields; strings and lists carry a u32 length. Decoding checks every
//! length against what is left and fails on trailing bytes, so a malformed message is an error,
//! never a panic.

/// Largest datagram either side sends or accepts.
pub const MAX_MESSAGE: usize = 256 * 1024;
/// Longest file name component (NAME_MAX).
pub const NAME_MAX: usize = 255;

/// File attributes, as `stat` reports them on the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attr {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u64,
    pub blocks: u64,
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    /// Creation time, for file systems that keep one (statx's STATX_BTIME). Not carried by
    /// the protocol: files the gofer serves report none.
    pub btime: Option<(i64, i64)>,
}

impl Attr {
    pub fn file_type(&self) -> u32 {
        self.mode & libc::S_IFMT
    }
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirent {
    pub ino: u64,
    /// Cookie to continue listing after this entry.
    pub off: u64,
    /// DT_* type.
    pub kind: u8,
    pub name: Vec<u8>,
}

/// File system statistics (`statfs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsStat {
    pub kind: u64,
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub namelen: u64,
}

/// Requests from the sentry. Fid 0 is the root, which exists from the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Attributes of the root.
    Attach,
    /// Walk `names` from `fid`, one component at a time. Stops after a symlink or non-directory.
    Walk {
        fid: u64,
        names: Vec<Vec<u8>>,
    },
    Stat {
        fid: u64,
    },
    /// Open for I/O; the answer carries a host fd.
    Open {
        fid: u64,
        flags: u32,
    },
    /// List a directory from `cookie` (0 to start).
    ReadDir {
        fid: u64,
        cookie: u64,
    },
    ReadLink {
        fid: u64,
    },
    StatFs {
        fid: u64,
    },
    /// Forget fids (the client sends them in batches).
    Close {
        fids: Vec<u64>,
    },
    /// The value of extended attribute `name`.
    GetXattr {
        fid: u64,
        name: Vec<u8>,
    },
    /// The names of the extended attributes, each followed by a NUL.
    ListXattr {
        fid: u64,
    },
    /// Create regular file `name` in directory `fid` (O_EXCL), owned by `uid`/`gid`; the
    /// answer is `Node` and carries the file open for reading and writing.
    Create {
        fid: u64,
        name: Vec<u8>,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    /// Make directory, fifo or socket `name` (by the type bits of `mode`); answer `Node`.
    Mknod {
        fid: u64,
        name: Vec<u8>,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    Symlink {
        fid: u64,
        name: Vec<u8>,
        target: Vec<u8>,
        uid: u32,
        gid: u32,
    },
    /// Hard link to `target` as `name` in directory `fid`; answer `Node`.
    Link {
        fid: u64,
        name: Vec<u8>,
        target: u64,
    },
    /// Remove `name` from directory `fid` (a directory when `dir`).
    Unlink {
        fid: u64,
        name: Vec<u8>,
        dir: bool,
    },
    /// renameat2 of `fid`/`name` to `to`/`new_name`.
    Rename {
        fid: u64,
        name: Vec<u8>,
        to: u64,
        new_name: Vec<u8>,
        flags: u32,
    },
    /// Change the attributes `valid` selects (SETATTR_*); answer `Attr`.
    SetAttr {
        fid: u64,
        valid: u32,
        mode: u32,
        uid: u32,
        gid: u32,
        size: u64,
        atime: (i64, i64),
        mtime: (i64, i64),
    },
    SetXattr {
        fid: u64,
        name: Vec<u8>,
        value: Vec<u8>,
        flags: u32,
    },
    RemoveXattr {
        fid: u64,
        name: Vec<u8>,
    },
}

/// What a SetAttr changes.
pub const SETATTR_MODE: u32 = 1;
pub const SETATTR_UID: u32 = 2;
pub const SETATTR_GID: u32 = 4;
pub const SETATTR_SIZE: u32 = 8;
pub const SETATTR_ATIME: u32 = 16;
pub const SETATTR_MTIME: u32 = 32;

/// Longest extended attribute name and value (Linux's XATTR_NAME_MAX, XATTR_SIZE_MAX), and
/// the longest attribute name list (XATTR_LIST_MAX).
pub const XATTR_NAME_MAX: usize = 255;
pub const XATTR_SIZE_MAX: usize = 65536;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Error {
        errno: i32,
    },
    Attr(Attr),
    /// New fids for each component walked; `errno` is non-zero when the walk stopped early on
    /// an error (after `nodes.len()` components).
    Walked {
        nodes: Vec<(u64, Attr)>,
        errno: i32,
    },
    /// An fd travels with this message.
    Opened,
    Dirents {
        entries: Vec<Dirent>,
        eof: bool,
    },
    Link(Vec<u8>),
    FsStat(FsStat),
    Ok,
    /// An extended attribute's value, or a NUL-separated list of names.
    Xattr(Vec<u8>),
    /// A new file's fid and attributes (with an fd for Create).
    Node {
        fid: u64,
        attr: Attr,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("message truncated")]
    Truncated,
    #[error("unknown message tag {0}")]
    BadTag(u8),
    #[error("{0} trailing bytes")]
    Trailing(usize),
    #[error("length {0} exceeds the limit")]
    TooLong(usize),
}

struct Enc(Vec<u8>);

impl Enc {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn i64(&mut self, v: i64) -> &mut Self {
        self.u64(v as u64)
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
        self
    }
    fn attr(&mut self, a: &Attr) -> &mut Self {
        self.u64(a.dev)
            .u64(a.ino)
            .u32(a.mode)
            .u64(a.nlink)
            .u32(a.uid)
            .u32(a.gid)
            .u64(a.rdev);
        self.u64(a.size).u64(a.blksize).u64(a.blocks);
        for t in [a.atime, a.mtime, a.ctime] {
            self.i64(t.0).i64(t.1);
        }
        self
    }
}

struct Dec<'a>(&'a [u8]);

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(self.u64()? as i64)
    }
    fn bytes(&mut self, max: usize) -> Result<Vec<u8>, DecodeError> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(DecodeError::TooLong(n));
        }
        Ok(self.take(n)?.to_vec())
    }
    /// Number of list items, bounded by what the remaining bytes could hold.
    fn count(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_item) > self.0.len() {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }
    fn attr(&mut self) -> Result<Attr, DecodeError> {
        Ok(Attr {
            dev: self.u64()?,
            ino: self.u64()?,
            mode: self.u32()?,
            nlink: self.u64()?,
            uid: self.u32()?,
            gid: self.u32()?,
            rdev: self.u64()?,
            size: self.u64()?,
            blksize: self.u64()?,
            blocks: self.u64()?,
            atime: (self.i64()?, self.i64()?),
            mtime: (self.i64()?, self.i64()?),
            ctime: (self.i64()?, self.i64()?),
            btime: None,
        })
    }
    fn end(&self) -> Result<(), DecodeError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing(self.0.len()))
        }
    }
}

const ATTR_LEN: usize = 8 * 3 + 4 * 3 + 8 * 4 + 16 * 3;

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc(Vec::with_capacity(64));
        match self {
            Request::Attach => e.u8(1),
            Request::Walk { fid, names } => {
                e.u8(2).u64(*fid).u32(names.len() as u32);
                for n in names {
                    e.bytes(n);
                }
                &mut e
            }
            Request::Stat { fid } => e.u8(3).u64(*fid),
            Request::Open { fid, flags } => e.u8(4).u64(*fid).u32(*flags),
            Request::ReadDir { fid, cookie } => e.u8(5).u64(*fid).u64(*cookie),
            Request::ReadLink { fid } => e.u8(6).u64(*fid),
            Request::StatFs { fid } => e.u8(7).u64(*fid),
            Request::Close { fids } => {
                e.u8(8).u32(fids.len() as u32);
                for f in fids {
                    e.u64(*f);
                }
                &mut e
            }
            Request::GetXattr { fid, name } => e.u8(9).u64(*fid).bytes(name),
            Request::ListXattr { fid } => e.u8(10).u64(*fid),
            Request::Create {
                fid,
                name,
                mode,
                uid,
                gid,
            } => e
                .u8(11)
                .u64(*fid)
                .bytes(name)
                .u32(*mode)
                .u32(*uid)
                .u32(*gid),
            Request::Mknod {
                fid,
                name,
                mode,
                uid,
                gid,
            } => e
                .u8(12)
                .u64(*fid)
                .bytes(name)
                .u32(*mode)
                .u32(*uid)
                .u32(*gid),
            Request::Symlink {
                fid,
                name,
                target,
                uid,
                gid,
            } => e
                .u8(13)
                .u64(*fid)
                .bytes(name)
                .bytes(target)
                .u32(*uid)
                .u32(*gid),
            Request::Link { fid, name, target } => e.u8(14).u64(*fid).bytes(name).u64(*target),
            Request::Unlink { fid, name, dir } => e.u8(15).u64(*fid).bytes(name).u8(*dir as u8),
            Request::Rename {
                fid,
                name,
                to,
                new_name,
                flags,
            } => e
                .u8(16)
                .u64(*fid)
                .bytes(name)
                .u64(*to)
                .bytes(new_name)
                .u32(*flags),
            Request::SetAttr {
                fid,
                valid,
                mode,
                uid,
                gid,
                size,
                atime,
                mtime,
            } => e
                .u8(17)
                .u64(*fid)
                .u32(*valid)
                .u32(*mode)
                .u32(*uid)
                .u32(*gid)
                .u64(*size)
                .i64(atime.0)
                .i64(atime.1)
                .i64(mtime.0)
                .i64(mtime.1),
            Request::SetXattr {
                fid,
                name,
                value,
                flags,
            } => e.u8(18).u64(*fid).bytes(name).bytes(value).u32(*flags),
            Request::RemoveXattr { fid, name } => e.u8(19).u64(*fid).bytes(name),
        };
        e.0
    }

    pub fn decode(buf: &[u8]) -> Result<Request, DecodeError> {
        let mut d = Dec(buf);
        let r = match d.u8()? {
            1 => Request::Attach,
            2 => {
                let fid = d.u64()?;
                let n = d.count(4)?;
                let names = (0..n)
                    .map(|_| d.bytes(NAME_MAX))
                    .collect::<Result<_, _>>()?;
                Request::Walk { fid, names }
            }
            3 => Request::Stat { fid: d.u64()? },
            4 => Request::Open {
                fid: d.u64()?,
                flags: d.u32()?,
            },
            5 => Request::ReadDir {
                fid: d.u64()?,
                cookie: d.u64()?,
            },
            6 => Request::ReadLink { fid: d.u64()? },
            7 => Request::StatFs { fid: d.u64()? },
            8 => {
                let n = d.count(8)?;
                let fids = (0..n).map(|_| d.u64()).collect::<Result<_, _>>()?;
                Request::Close { fids }
            }
            9 => Request::GetXattr {
                fid: d.u64()?,
                name: d.bytes(XATTR_NAME_MAX)?,
            },
            10 => Request::ListXattr { fid: d.u64()? },
            11 => Request::Create {
                fid: d.u64()?,
                name: d.bytes(NAME_MAX)?,
                mode: d.u32()?,
                uid: d.u32()?,
                gid: d.u32()?,
            },
            12 => Request::Mknod {
                fid: d.u64()?,
                name: d.bytes(NAME_MAX)?,
                mode: d.u32()?,
                uid: d.u32()?,
                gid: d.u32()?,
            },
            13 => Request::Symlink {
                fid: d.u64()?,
                name: d.bytes(NAME_MAX)?,
                target: d.bytes(libc::PATH_MAX as usize)?,
                uid: d.u32()?,
                gid: d.u32()?,
            },
            14 => Request::Link {
                fid: d.u64()?,
                name: d.bytes(NAME_MAX)?,
                target: d.u64()?,
            },
            15 => Request::Unlink {
                fid: d.u64()?,
                name: d.bytes(NAME_MAX)?,
                dir: d.u8()? != 0,
            },
            16 => Request::Rename {
                fid: d.u64()?,
                name: d.bytes(NAME_MAX)?,
                to: d.u64()?,
                new_name: d.bytes(NAME_MAX)?,
                flags: d.u32()?,
            },
            17 => Request::SetAttr {
                fid: d.u64()?,
                valid: d.u32()?,
                mode: d.u32()?,
                uid: d.u32()?,
                gid: d.u32()?,
                size: d.u64()?,
                atime: (d.i64()?, d.i64()?),
                mtime: (d.i64()?, d.i64()?),
            },
            18 => Request::SetXattr {
                fid: d.u64()?,
                name: d.bytes(XATTR_NAME_MAX)?,
                value: d.bytes(XATTR_SIZE_MAX)?,
                flags: d.u32()?,
            },
            19 => Request::RemoveXattr {
                fid: d.u64()?,
                name: d.bytes(XATTR_NAME_MAX)?,
            },
            t => return Err(DecodeError::BadTag(t)),
        };
        d.end()?;
        Ok(r)
    }
}

impl Response {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc(Vec::with_capacity(128));
        match self {
            Response::Error { errno } => e.u8(1).u32(*errno as u32),
            Response::Attr(a) => e.u8(2).attr(a),
            Response::Walked { nodes, errno } => {
                e.u8(3).u32(*errno as u32).u32(nodes.len() as u32);
                for (fid, a) in nodes {
                    e.u64(*fid).attr(a);
                }
                &mut e
            }
            Response::Opened => e.u8(4),
            Response::Dirents { entries, eof } => {
                e.u8(5).u8(*eof as u8).u32(entries.len() as u32);
                for d in entries {
                    e.u64(d.ino).u64(d.off).u8(d.kind).bytes(&d.name);
                }
                &mut e
            }
            Response::Link(t) => e.u8(6).bytes(t),
            Response::FsStat(s) => {
                e.u8(7)
                    .u64(s.kind)
                    .u64(s.bsize)
                    .u64(s.blocks)
                    .u64(s.bfree)
                    .u64(s.bavail);
                e.u64(s.files).u64(s.ffree).u64(s.namelen)
            }
            Response::Ok => e.u8(8),
            Response::Xattr(v) => e.u8(9).bytes(v),
            Response::Node { fid, attr } => e.u8(10).u64(*fid).attr(attr),
        };
        e.0
    }

    pub fn decode(buf: &[u8]) -> Result<Response, DecodeError> {
        let mut d = Dec(buf);
        let r = match d.u8()? {
            1 => Response::Error {
                errno: d.u32()? as i32,
            },
            2 => Response::Attr(d.attr()?),
            3 => {
                let errno = d.u32()? as i32;
                let n = d.count(8 + ATTR_LEN)?;
                let nodes = (0..n)
                    .map(|_| Ok((d.u64()?, d.attr()?)))
                    .collect::<Result<_, _>>()?;
                Response::Walked { nodes, errno }
            }
            4 => Response::Opened,
            5 => {
                let eof = d.u8()? != 0;
                let n = d.count(21)?;
                let entries = (0..n)
                    .map(|_| {
                        Ok(Dirent {
                            ino: d.u64()?,
                            off: d.u64()?,
                            kind: d.u8()?,
                            name: d.bytes(NAME_MAX)?,
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Response::Dirents { entries, eof }
            }
            6 => Response::Link(d.bytes(libc::PATH_MAX as usize)?),
            7 => Response::FsStat(FsStat {
                kind: d.u64()?,
                bsize: d.u64()?,
                blocks: d.u64()?,
                bfree: d.u64()?,
                bavail: d.u64()?,
                files: d.u64()?,
                ffree: d.u64()?,
                namelen: d.u64()?,
            }),
            8 => Response::Ok,
            9 => Response::Xattr(d.bytes(XATTR_SIZE_MAX)?),
            10 => Response::Node {
                fid: d.u64()?,
                attr: d.attr()?,
            },
            t => return Err(DecodeError::BadTag(t)),
        };
        d.end()?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let reqs = [
            Request::Attach,
            Request::Walk {
                fid: 3,
                names: vec![b"usr".to_vec(), b"bin".to_vec()],
            },
            Request::Open { fid: 9, flags: 0 },
            Request::ReadDir { fid: 1, cookie: 77 },
            Request::Close { fids: vec![2, 5] },
            Request::GetXattr {
                fid: 3,
                name: b"user.x".to_vec(),
            },
            Request::ListXattr { fid: 4 },
            Request::Create {
                fid: 1,
                name: b"n".to_vec(),
                mode: 0o644,
                uid: 5,
                gid: 6,
            },
            Request::Rename {
                fid: 1,
                name: b"a".to_vec(),
                to: 2,
                new_name: b"b".to_vec(),
                flags: 1,
            },
            Request::SetAttr {
                fid: 3,
                valid: SETATTR_SIZE | SETATTR_MTIME,
                mode: 0,
                uid: 0,
                gid: 0,
                size: 77,
                atime: (0, 0),
                mtime: (5, 6),
            },
            Request::SetXattr {
                fid: 3,
                name: b"user.a".to_vec(),
                value: b"v".to_vec(),
                flags: 0,
            },
        ];
        for r in reqs {
            assert_eq!(Request::decode(&r.encode()), Ok(r));
        }
        let a = Attr {
            ino: 5,
            mode: 0o100644,
            size: 10,
            mtime: (1, 2),
            ..Default::default()
        };
        let resps = [
            Response::Error { errno: 2 },
            Response::Walked {
                nodes: vec![(1, a), (2, a)],
                errno: 2,
            },
            Response::Dirents {
                entries: vec![Dirent {
                    ino: 1,
                    off: 2,
                    kind: 8,
                    name: b"x".to_vec(),
                }],
                eof: true,
            },
            Response::Link(b"/target".to_vec()),
        ];
        for r in resps {
            assert_eq!(Response::decode(&r.encode()), Ok(r));
        }
    }

    #[test]
    fn malformed_is_an_error() {
        assert!(Request::decode(&[]).is_err());
        assert!(Request::decode(&[99]).is_err());
        assert!(Request::decode(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255]).is_err());
        let mut ok = Request::Stat { fid: 1 }.encode();
        ok.push(0);
        assert_eq!(Request::decode(&ok), Err(DecodeError::Trailing(1)));
        // Every prefix of a valid message fails cleanly.
        let full = Response::Walked {
            nodes: vec![(1, Attr::default())],
            errno: 0,
        }
        .encode();
        for n in 0..full.len() {
            assert!(Response::decode(&full[..n]).is_err());
        }
    }
}
