//! The gofer-backed file system: metadata through protocol messages, data through host fds the
//! gofer donated, file pages cached in the memory file for mmap.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use gofer::Client;
use platform::{MemoryFile, PAGE_SIZE};

use crate::errno::Errno;
use crate::fs::synth::dir_file;
use crate::mm::Mappable;
use crate::vfs::{DirEntry, FileOps, Inode, Stat};

/// Pages read into the page cache at once.
const READAHEAD: u64 = 16 * PAGE_SIZE;

pub struct GoferFs {
    client: Arc<Client>,
    /// Sentry device numbers for the host devices met in the tree: a host mount point inside
    /// the served tree stays a device boundary (`find -xdev`, `du -x`), and host device
    /// numbers do not show through.
    devs: Mutex<HashMap<u64, u64>>,
    mf: Weak<MemoryFile>,
}

impl GoferFs {
    /// Attach to the gofer and return the root inode.
    pub fn mount(client: Arc<Client>, mf: &Arc<MemoryFile>) -> Result<Arc<GoferInode>, Errno> {
        let attr = client.attach()?;
        let fs = Arc::new(GoferFs {
            client,
            devs: Mutex::new(HashMap::new()),
            mf: Arc::downgrade(mf),
        });
        Ok(GoferInode::new(fs, 0, attr))
    }
}

pub struct GoferInode {
    fs: Arc<GoferFs>,
    fid: u64,
    attr: Stat,
    me: Weak<GoferInode>,
    link: OnceLock<Vec<u8>>,
    host: OnceLock<OwnedFd>,
    /// Page cache: file offset -> memory file offset.
    cache: Mutex<HashMap<u64, u64>>,
    /// A directory's entries: the tree is served read-only and the root is the sandbox's
    /// alone, so they do not change under us.
    listing: OnceLock<Vec<DirEntry>>,
}

impl GoferInode {
    fn new(fs: Arc<GoferFs>, fid: u64, mut attr: Stat) -> Arc<GoferInode> {
        attr.dev = *fs
            .devs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(attr.dev)
            .or_insert_with(super::new_dev);
        Arc::new_cyclic(|me| GoferInode {
            fs,
            fid,
            attr,
            me: me.clone(),
            link: OnceLock::new(),
            host: OnceLock::new(),
            cache: Mutex::new(HashMap::new()),
            listing: OnceLock::new(),
        })
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
        Ok(self.attr)
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if self.attr.file_type() != libc::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        let (nodes, errno) = self.fs.client.walk(self.fid, vec![name.to_vec()])?;
        match nodes.into_iter().next() {
            Some((fid, attr)) => Ok(GoferInode::new(self.fs.clone(), fid, attr)),
            None => Err(Errno(if errno == 0 { libc::EIO } else { errno })),
        }
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        if self.attr.file_type() != libc::S_IFLNK {
            return Err(Errno::EINVAL);
        }
        if let Some(l) = self.link.get() {
            return Ok(l.clone());
        }
        let t = self.fs.client.readlink(self.fid)?;
        Ok(self.link.get_or_init(|| t).clone())
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        if flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32
            || flags & libc::O_TRUNC as u32 != 0
        {
            return Err(if self.attr.file_type() == libc::S_IFDIR {
                Errno::EISDIR
            } else {
                Errno::EROFS
            });
        }
        match self.attr.file_type() {
            libc::S_IFDIR => Ok(dir_file(self.attr)),
            libc::S_IFREG => {
                let inode = self.me.upgrade().ok_or(Errno::EIO)?;
                Ok(Arc::new(GoferFile { inode }))
            }
            _ => Err(Errno::ENXIO),
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        if let Some(l) = self.listing.get() {
            return Ok(l.clone());
        }
        let l = self.list()?;
        Ok(self.listing.get_or_init(|| l).clone())
    }

    fn read_only(&self) -> bool {
        true
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
            // The root is served read-only.
            f_flags: libc::ST_RDONLY as i64,
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
        let size = crate::mm::page_up(self.attr.size).ok_or(Errno::EFAULT)?;
        if off >= size {
            return Err(Errno::EFAULT);
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&f) = cache.get(&off) {
            return Ok(f);
        }
        // Read ahead: the aligned window around `off`, up to the first cached page.
        let start = off & !(READAHEAD - 1);
        let mut lo = off;
        while lo > start && !cache.contains_key(&(lo - PAGE_SIZE)) {
            lo -= PAGE_SIZE;
        }
        let mut hi = off + PAGE_SIZE;
        while hi < (start + READAHEAD).min(size) && !cache.contains_key(&hi) {
            hi += PAGE_SIZE;
        }
        let fd = self.host_fd()?;
        let base = mf.allocate(hi - lo).map_err(|_| Errno::ENOMEM)?;
        let mut done = 0;
        while done < hi - lo {
            let n = mf.pread_from(fd, lo + done, base + done, hi - lo - done)?;
            if n == 0 {
                break; // the rest stays zero, as past EOF in the last page
            }
            done += n as u64;
        }
        for (i, o) in (lo..hi).step_by(PAGE_SIZE as usize).enumerate() {
            cache.insert(o, base + i as u64 * PAGE_SIZE);
        }
        Ok(base + (off - lo))
    }

    fn name(&self) -> String {
        String::new()
    }

    fn ident(&self) -> (u64, u64) {
        (self.attr.dev, self.attr.ino)
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
    fn write(&self, _: &[u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.attr)
    }
    fn mappable(&self) -> Option<Arc<dyn Mappable>> {
        Some(self.inode.clone())
    }
    fn host_fd(&self) -> Option<i32> {
        self.inode.host_fd().ok()
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
