//! The gofer-backed file system: metadata through protocol messages, data through host fds the
//! gofer donated, file pages cached in the memory file for mmap.
//!
//! Read-only below the overlay root (the default), or written through (`--overlay2 none`):
//! then changes are gofer messages, writes go to a donated read-write fd (and into the page
//! cache where pages are cached), and attributes are kept current from the answers. The tree
//! is the sandbox's alone, so nothing is revalidated.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use gofer::Client;
use platform::{MemoryFile, PAGE_SIZE};

use crate::errno::Errno;
use crate::fs::synth::dir_file;
use crate::mm::Mappable;
use crate::vfs::{Creds, DirEntry, FileOps, Inode, SetAttr, Stat};

/// Pages read into the page cache at once.
const READAHEAD: u64 = 16 * PAGE_SIZE;
/// Files up to this size are read whole into the cache at their first page fault.
const WHOLE_FILE_MAX: u64 = 8 << 20;

pub struct GoferFs {
    client: Arc<Client>,
    /// Sentry device numbers for the host devices met in the tree: a host mount point inside
    /// the served tree stays a device boundary (`find -xdev`, `du -x`), and host device
    /// numbers do not show through.
    devs: Mutex<HashMap<u64, u64>>,
    mf: Weak<MemoryFile>,
    writable: bool,
}

impl GoferFs {
    /// Attributes with the host device replaced by the sentry's number for it.
    fn local(&self, mut a: Stat) -> Stat {
        a.dev = *lock(&self.devs).entry(a.dev).or_insert_with(super::new_dev);
        a
    }

    /// Attach to the gofer and return the root inode; `writable`: the tree is written
    /// through (the gofer must serve it writable).
    pub fn mount(
        client: Arc<Client>,
        mf: &Arc<MemoryFile>,
        writable: bool,
    ) -> Result<Arc<GoferInode>, Errno> {
        let attr = client.attach()?;
        let fs = Arc::new(GoferFs {
            client,
            devs: Mutex::new(HashMap::new()),
            mf: Arc::downgrade(mf),
            writable,
        });
        Ok(GoferInode::new(fs, 0, attr))
    }
}

pub struct GoferInode {
    fs: Arc<GoferFs>,
    fid: u64,
    attr: Mutex<Stat>,
    me: Weak<GoferInode>,
    link: OnceLock<Vec<u8>>,
    host: OnceLock<OwnedFd>,
    /// A read-write fd, for writes through to the host.
    host_rw: OnceLock<OwnedFd>,
    /// Page cache: file offset -> memory file offset.
    cache: Mutex<HashMap<u64, u64>>,
    /// A directory's entries: the root is the sandbox's alone, so they change only by the
    /// sandbox's own changes, which drop the listing.
    listing: Mutex<Option<Vec<DirEntry>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl GoferInode {
    fn new(fs: Arc<GoferFs>, fid: u64, attr: Stat) -> Arc<GoferInode> {
        let attr = fs.local(attr);
        Arc::new_cyclic(|me| GoferInode {
            fs,
            fid,
            attr: Mutex::new(attr),
            me: me.clone(),
            link: OnceLock::new(),
            host: OnceLock::new(),
            host_rw: OnceLock::new(),
            cache: Mutex::new(HashMap::new()),
            listing: Mutex::new(None),
        })
    }

    fn attr(&self) -> Stat {
        *lock(&self.attr)
    }

    fn file_type(&self) -> u32 {
        self.attr().file_type()
    }

    /// Take new attributes from the gofer's answer.
    fn set_attr(&self, a: Stat) {
        *lock(&self.attr) = self.fs.local(a);
    }

    /// The directory changed: its listing and attributes (times, links) are out of date.
    fn dir_changed(&self) {
        *lock(&self.listing) = None;
        if let Ok(a) = self.fs.client.stat(self.fid) {
            self.set_attr(a);
        }
    }

    /// The read-write host fd of a file written through.
    fn rw_fd(&self) -> Result<i32, Errno> {
        if let Some(fd) = self.host_rw.get() {
            return Ok(fd.as_raw_fd());
        }
        let fd = self.fs.client.open(self.fid, libc::O_RDWR as u32)?;
        Ok(self.host_rw.get_or_init(|| fd).as_raw_fd())
    }

    fn same_fs(&self, other: &Arc<dyn Inode>) -> Result<Arc<GoferInode>, Errno> {
        let o = crate::vfs::same_kind::<GoferInode>(other)?;
        if !Arc::ptr_eq(&o.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        o.me.upgrade().ok_or(Errno::ENOENT)
    }

    /// Write through to the host at `off`, keeping cached pages and the size current.
    fn write_at(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.rw_fd()?;
        let fd = self.host_rw.get().ok_or(Errno::EIO)?;
        let o = i64::try_from(off).map_err(|_| Errno::EFBIG)?;
        let n = nix::sys::uio::pwrite(fd, buf, o)?;
        if let Some(mf) = self.fs.mf.upgrade() {
            let cache = lock(&self.cache);
            let mut done = 0usize;
            while done < n {
                let pos = off + done as u64;
                let page = pos & !(PAGE_SIZE - 1);
                let k = ((page + PAGE_SIZE - pos) as usize).min(n - done);
                if let Some(&f) = cache.get(&page) {
                    let _ = mf.write(f + (pos - page), &buf[done..done + k]);
                }
                done += k;
            }
        }
        let mut a = lock(&self.attr);
        a.size = a.size.max(off + n as u64);
        let now = crate::kernel::time::now(libc::CLOCK_REALTIME);
        a.mtime = now;
        a.ctime = now;
        Ok(n)
    }

    /// The file's size changed to `size`: cached pages past it go.
    fn drop_cache_from(&self, size: u64) {
        let Some(mf) = self.fs.mf.upgrade() else {
            return;
        };
        let mut cache = lock(&self.cache);
        let keep = crate::mm::page_up(size).unwrap_or(u64::MAX);
        cache.retain(|&o, &mut f| {
            if o >= keep {
                mf.decref(f);
                false
            } else {
                true
            }
        });
        if !size.is_multiple_of(PAGE_SIZE) {
            if let Some(&f) = cache.get(&(size & !(PAGE_SIZE - 1))) {
                let _ = mf.zero(f + size % PAGE_SIZE, PAGE_SIZE - size % PAGE_SIZE);
            }
        }
    }

    /// The donated host fd for reading this file (opened once, shared by all opens).
    fn host_fd(&self) -> Result<i32, Errno> {
        if let Some(fd) = self.host.get() {
            return Ok(fd.as_raw_fd());
        }
        let fd = self.fs.client.open(self.fid, libc::O_RDONLY as u32)?;
        Ok(self.host.get_or_init(|| fd).as_raw_fd())
    }
}

impl Drop for GoferInode {
    fn drop(&mut self) {
        if self.fid != 0 {
            self.fs.client.close(self.fid);
        }
        // Drop the cache's reference; a page still in an address space's page table lives
        // until that goes too.
        let cache = self.cache.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(mf) = self.fs.mf.upgrade() {
            for &frame in cache.values() {
                mf.decref(frame);
            }
        }
    }
}

impl Inode for GoferInode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.attr())
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if self.file_type() != libc::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        let (nodes, errno) = self.fs.client.walk(self.fid, vec![name.to_vec()])?;
        match nodes.into_iter().next() {
            Some((fid, attr)) => Ok(GoferInode::new(self.fs.clone(), fid, attr)),
            None => Err(Errno(if errno == 0 { libc::EIO } else { errno })),
        }
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        if self.file_type() != libc::S_IFLNK {
            return Err(Errno::EINVAL);
        }
        if let Some(l) = self.link.get() {
            return Ok(l.clone());
        }
        let t = self.fs.client.readlink(self.fid)?;
        Ok(self.link.get_or_init(|| t).clone())
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let write = flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32
            || flags & libc::O_TRUNC as u32 != 0;
        let ft = self.file_type();
        if write && !self.fs.writable {
            return Err(if ft == libc::S_IFDIR {
                Errno::EISDIR
            } else {
                Errno::EROFS
            });
        }
        match ft {
            libc::S_IFDIR => Ok(dir_file(self.attr())),
            libc::S_IFREG => {
                let inode = self.me.upgrade().ok_or(Errno::EIO)?;
                if write {
                    inode.rw_fd()?;
                }
                Ok(Arc::new(GoferFile { inode }))
            }
            _ => Err(Errno::ENXIO),
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        if let Some(l) = lock(&self.listing).as_ref() {
            return Ok(l.clone());
        }
        let l = self.list()?;
        *lock(&self.listing) = Some(l.clone());
        Ok(l)
    }

    fn read_only(&self) -> bool {
        !self.fs.writable
    }

    fn create(&self, name: &[u8], mode: u32, creds: &Creds) -> Result<Arc<dyn Inode>, Errno> {
        let ft = mode & libc::S_IFMT;
        let (uid, gid) = (creds.fsuid, creds.fsgid);
        let node = if ft == libc::S_IFREG || ft == 0 {
            let (fid, attr, fd) = self
                .fs
                .client
                .create(self.fid, name, mode & 0o7777, uid, gid)?;
            let n = GoferInode::new(self.fs.clone(), fid, attr);
            let _ = n.host_rw.set(fd);
            n
        } else {
            let (fid, attr) = self.fs.client.mknod(self.fid, name, mode, uid, gid)?;
            GoferInode::new(self.fs.clone(), fid, attr)
        };
        self.dir_changed();
        Ok(node)
    }

    fn mkdir(&self, name: &[u8], mode: u32, creds: &Creds) -> Result<(), Errno> {
        let mode = libc::S_IFDIR | (mode & 0o7777);
        let (fid, _) = self
            .fs
            .client
            .mknod(self.fid, name, mode, creds.fsuid, creds.fsgid)?;
        self.fs.client.close(fid);
        self.dir_changed();
        Ok(())
    }

    fn symlink(&self, name: &[u8], target: &[u8], creds: &Creds) -> Result<(), Errno> {
        let (fid, _) = self
            .fs
            .client
            .symlink(self.fid, name, target, creds.fsuid, creds.fsgid)?;
        self.fs.client.close(fid);
        self.dir_changed();
        Ok(())
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        let t = self.same_fs(target)?;
        let (fid, attr) = self.fs.client.link(self.fid, name, t.fid)?;
        self.fs.client.close(fid);
        t.set_attr(attr);
        self.dir_changed();
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> Result<(), Errno> {
        self.fs.client.unlink(self.fid, name, false)?;
        self.dir_changed();
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> Result<(), Errno> {
        self.fs.client.unlink(self.fid, name, true)?;
        self.dir_changed();
        Ok(())
    }

    fn rename(
        &self,
        name: &[u8],
        to: &Arc<dyn Inode>,
        new_name: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        let dst = self.same_fs(to)?;
        // Whiteouts are made only where the sandbox keeps its own files (tmpfs).
        if flags & libc::RENAME_WHITEOUT != 0 {
            return Err(Errno::EINVAL);
        }
        self.fs
            .client
            .rename(self.fid, name, dst.fid, new_name, flags)?;
        self.dir_changed();
        if dst.fid != self.fid {
            dst.dir_changed();
        }
        Ok(())
    }

    fn setattr(&self, a: &SetAttr) -> Result<(), Errno> {
        use gofer::proto::*;
        let mut valid = 0;
        let flag = |on: bool, bit: u32| if on { bit } else { 0 };
        valid |= flag(a.mode.is_some(), SETATTR_MODE);
        valid |= flag(a.uid.is_some(), SETATTR_UID);
        valid |= flag(a.gid.is_some(), SETATTR_GID);
        valid |= flag(a.size.is_some(), SETATTR_SIZE);
        valid |= flag(a.atime.is_some(), SETATTR_ATIME);
        valid |= flag(a.mtime.is_some(), SETATTR_MTIME);
        let attr = self.fs.client.setattr(&Request::SetAttr {
            fid: self.fid,
            valid,
            mode: a.mode.unwrap_or(0),
            uid: a.uid.unwrap_or(0),
            gid: a.gid.unwrap_or(0),
            size: a.size.unwrap_or(0),
            atime: a.atime.unwrap_or((0, 0)),
            mtime: a.mtime.unwrap_or((0, 0)),
        })?;
        if let Some(size) = a.size {
            self.drop_cache_from(size);
        }
        self.set_attr(attr);
        Ok(())
    }

    fn setxattr(&self, name: &[u8], value: &[u8], flags: u32) -> Result<(), Errno> {
        Ok(self.fs.client.setxattr(self.fid, name, value, flags)?)
    }

    fn removexattr(&self, name: &[u8]) -> Result<(), Errno> {
        Ok(self.fs.client.removexattr(self.fid, name)?)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn getxattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        Ok(self.fs.client.getxattr(self.fid, name)?)
    }

    fn listxattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        let list = self.fs.client.listxattr(self.fid)?;
        Ok(list
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .map(|n| n.to_vec())
            .collect())
    }

    fn statfs(&self) -> Result<crate::mm::pod::StatFs, Errno> {
        let s = self.fs.client.statfs(self.fid)?;
        Ok(crate::mm::pod::StatFs {
            f_type: s.kind as i64,
            f_bsize: s.bsize as i64,
            f_blocks: s.blocks,
            f_bfree: s.bfree,
            f_bavail: s.bavail,
            f_files: s.files,
            f_ffree: s.ffree,
            f_namelen: s.namelen as i64,
            f_frsize: s.bsize as i64,
            f_flags: if self.fs.writable {
                0
            } else {
                libc::ST_RDONLY as i64
            },
            ..Default::default()
        })
    }
}

impl Mappable for GoferInode {
    fn cached_frame(&self, off: u64) -> Option<u64> {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&off)
            .copied()
    }

    fn frame(&self, mf: &MemoryFile, off: u64) -> Result<u64, Errno> {
        let size = crate::mm::page_up(self.attr().size).ok_or(Errno::EFAULT)?;
        if off >= size {
            return Err(Errno::EFAULT);
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&f) = cache.get(&off) {
            return Ok(f);
        }
        // Read ahead: the whole file if it is small (a program or a library: then its pages
        // lie in one run of the memory file and each mapping of it is one host mmap), else the
        // aligned window around `off`. Each run of uncached pages in it is read into one
        // allocation.
        let (start, end) = if size <= WHOLE_FILE_MAX {
            (0, size)
        } else {
            let s = off & !(READAHEAD - 1);
            (s, (s + READAHEAD).min(size))
        };
        let fd = self.host_fd()?;
        let mut lo = start;
        while lo < end {
            if cache.contains_key(&lo) {
                lo += PAGE_SIZE;
                continue;
            }
            let mut hi = lo + PAGE_SIZE;
            while hi < end && !cache.contains_key(&hi) {
                hi += PAGE_SIZE;
            }
            let base = mf.allocate(hi - lo).map_err(|_| Errno::ENOMEM)?;
            let mut done = 0;
            while done < hi - lo {
                let n = match mf.pread_from(fd, lo + done, base + done, hi - lo - done) {
                    Ok(n) => n,
                    Err(e) => {
                        mf.free(base, hi - lo);
                        return Err(e.into());
                    }
                };
                if n == 0 {
                    break; // the rest stays zero, as past EOF in the last page
                }
                done += n as u64;
            }
            for (i, o) in (lo..hi).step_by(PAGE_SIZE as usize).enumerate() {
                cache.insert(o, base + i as u64 * PAGE_SIZE);
            }
            lo = hi;
        }
        cache.get(&off).copied().ok_or(Errno::EFAULT)
    }

    fn name(&self) -> String {
        String::new()
    }

    fn ident(&self) -> (u64, u64) {
        let a = self.attr();
        (a.dev, a.ino)
    }

    /// A read-only tree is the sandbox's alone (module comment): its files never change.
    fn frozen(&self) -> bool {
        !self.fs.writable
    }
}

struct GoferFile {
    inode: Arc<GoferInode>,
}

impl FileOps for GoferFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.inode.host_fd()?;
        let fd = self.inode.host.get().ok_or(Errno::EIO)?;
        let off = i64::try_from(off).map_err(|_| Errno::EINVAL)?;
        Ok(nix::sys::uio::pread(fd, buf, off)?)
    }
    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        if !self.inode.fs.writable {
            return Err(Errno::EBADF);
        }
        self.inode.write_at(buf, off)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.attr())
    }
    fn truncate(&self, size: u64) -> Result<(), Errno> {
        self.inode.setattr(&SetAttr {
            size: Some(size),
            ..Default::default()
        })
    }
    fn mappable(&self) -> Option<Arc<dyn Mappable>> {
        Some(self.inode.clone())
    }
    fn host_fd(&self) -> Option<i32> {
        self.inode.host_fd().ok()
    }
    fn sync(&self, data_only: bool) -> Result<(), Errno> {
        // Writes went to the host file through its donated descriptor: sync that.
        let fd = self.inode.host_fd()?;
        if data_only {
            nix::unistd::fdatasync(fd)?;
        } else {
            nix::unistd::fsync(fd)?;
        }
        Ok(())
    }
}

impl GoferInode {
    /// List the directory through the gofer.
    fn list(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut out = Vec::new();
        let mut cookie = 0;
        loop {
            let (entries, eof) = self.fs.client.readdir(self.fid, cookie)?;
            if let Some(last) = entries.last() {
                cookie = last.off;
            }
            let empty = entries.is_empty();
            out.extend(entries.into_iter().map(|d| DirEntry {
                ino: d.ino,
                kind: d.kind,
                name: d.name,
            }));
            if eof || empty {
                return Ok(out);
            }
        }
    }
}
