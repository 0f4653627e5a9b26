//! tmpfs: files, directories and symlinks in sandbox memory (file data in the memory file).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use platform::{MemoryFile, PAGE_SIZE};

use super::synth::{dir_file, dt};
use crate::errno::Errno;
use crate::kernel::time;
use crate::mm::pod::StatFs;
use crate::mm::{Mappable, MemoryManager};
use crate::vfs::{Creds, DirEntry, FileOps, Inode, SetAttr, Stat};

const TMPFS_MAGIC: i64 = 0x0102_1994;

/// One tmpfs instance.
pub struct Tmpfs {
    dev: u64,
    mf: Arc<MemoryFile>,
    next_ino: Mutex<u64>,
    /// The size= limit, in pages (NO_LIMIT: the memory file's size).
    max_pages: AtomicU64,
    /// File pages held.
    pages: AtomicU64,
    /// The nr_inodes= limit (NO_LIMIT: none).
    max_inodes: AtomicU64,
    /// Inodes held: one per inode, and one more per extra link of a file (shmem's
    /// accounting, so hard links count too).
    inodes: AtomicU64,
    /// The mount options that are not limits (shown in /proc/mounts).
    mode: u32,
    uid: u32,
    gid: u32,
}

const NO_LIMIT: u64 = u64::MAX;

/// What `mount -t tmpfs -o ...` asks for.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// size= in bytes (None: the memory file's size).
    pub size: Option<u64>,
    /// nr_inodes= (None: unlimited, as Linux's nr_inodes=0).
    pub nr_inodes: Option<u64>,
}

impl Options {
    /// An instance for the sentry's own use (memfd, the overlay's upper layer): no limits.
    pub fn internal(mode: u32) -> Options {
        Options {
            mode,
            uid: 0,
            gid: 0,
            size: None,
            nr_inodes: None,
        }
    }
}

enum Kind {
    Dir(BTreeMap<Vec<u8>, Arc<TmpInode>>),
    File {
        pages: BTreeMap<u64, u64>,
    },
    Symlink(Vec<u8>),
    /// fifos, sockets, device nodes: names only.
    Node,
}

struct State {
    stat: Stat,
    kind: Kind,
    xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
    /// File seals (F_SEAL_*): every tmpfs file starts sealed against seals; memfd_create
    /// lifts that with MFD_ALLOW_SEALING.
    seals: u32,
}

/// Seals that stop writes through write(2) and new shared writable mappings.
pub const WRITE_SEALS: u32 = (libc::F_SEAL_WRITE | libc::F_SEAL_FUTURE_WRITE) as u32;
const ALL_SEALS: u32 = (libc::F_SEAL_SEAL
    | libc::F_SEAL_SHRINK
    | libc::F_SEAL_GROW
    | libc::F_SEAL_WRITE
    | libc::F_SEAL_FUTURE_WRITE
    | libc::F_SEAL_EXEC) as u32;

pub struct TmpInode {
    fs: Arc<Tmpfs>,
    me: Weak<TmpInode>,
    st: Mutex<State>,
}

fn now() -> (i64, i64) {
    time::now(libc::CLOCK_REALTIME)
}

impl Tmpfs {
    /// A new, empty tmpfs: its root directory.
    pub fn root(mf: Arc<MemoryFile>, mode: u32) -> Arc<TmpInode> {
        Self::with_options(mf, Options::internal(mode))
    }

    /// A tmpfs as `mount -t tmpfs -o mode=,uid=,gid=,size=` makes it.
    pub fn with_options(mf: Arc<MemoryFile>, o: Options) -> Arc<TmpInode> {
        let fs = Arc::new(Tmpfs {
            dev: super::new_dev(),
            mf,
            next_ino: Mutex::new(1),
            max_pages: AtomicU64::new(o.size.map_or(NO_LIMIT, |s| s.div_ceil(PAGE_SIZE))),
            pages: AtomicU64::new(0),
            max_inodes: AtomicU64::new(o.nr_inodes.filter(|&n| n > 0).unwrap_or(NO_LIMIT)),
            inodes: AtomicU64::new(0),
            mode: o.mode & 0o7777,
            uid: o.uid,
            gid: o.gid,
        });
        // The root is the first inode; a limit of at least one is there for it.
        fs.inodes.store(1, Ordering::Relaxed);
        fs.new_inode(
            libc::S_IFDIR | (o.mode & 0o7777),
            o.uid,
            o.gid,
            Kind::Dir(BTreeMap::new()),
        )
    }

    /// A remount's new limits: not below what is in use (EINVAL).
    pub fn reconfigure(&self, size: Option<u64>, nr_inodes: Option<u64>) -> Result<(), Errno> {
        let pages = size.map(|s| s.div_ceil(PAGE_SIZE));
        let inodes = nr_inodes.map(|n| if n == 0 { NO_LIMIT } else { n });
        if pages.is_some_and(|p| p < self.pages.load(Ordering::Relaxed))
            || inodes.is_some_and(|n| n < self.inodes.load(Ordering::Relaxed))
        {
            return Err(Errno::EINVAL);
        }
        if let Some(p) = pages {
            self.max_pages.store(p, Ordering::Relaxed);
        }
        if let Some(n) = inodes {
            self.max_inodes.store(n, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The options as Linux's shmem_show_options writes them (`default_inodes`: the limit
    /// a mount gets when it names none, not shown).
    pub fn show_options(&self, default_inodes: u64) -> String {
        let mut opts = Vec::new();
        let pages = self.max_pages.load(Ordering::Relaxed);
        if pages != NO_LIMIT {
            opts.push(format!("size={}k", pages * (PAGE_SIZE / 1024)));
        }
        let inodes = self.max_inodes.load(Ordering::Relaxed);
        if inodes != default_inodes {
            opts.push(format!(
                "nr_inodes={}",
                if inodes == NO_LIMIT { 0 } else { inodes }
            ));
        }
        if self.mode != 0o1777 {
            opts.push(format!("mode={:03o}", self.mode));
        }
        if self.uid != 0 {
            opts.push(format!("uid={}", self.uid));
        }
        if self.gid != 0 {
            opts.push(format!("gid={}", self.gid));
        }
        opts.join(",")
    }

    /// Take one inode of the nr_inodes= limit (ENOSPC when none is left).
    fn reserve_inode(&self) -> Result<(), Errno> {
        let n = self.inodes.fetch_add(1, Ordering::Relaxed);
        if n >= self.max_inodes.load(Ordering::Relaxed) {
            self.inodes.fetch_sub(1, Ordering::Relaxed);
            return Err(Errno::ENOSPC);
        }
        Ok(())
    }

    fn release_inode(&self) {
        self.inodes.fetch_sub(1, Ordering::Relaxed);
    }

    /// A page for file data, within the size limit (ENOSPC beyond it).
    fn alloc_page(&self) -> Result<u64, Errno> {
        let n = self.pages.fetch_add(1, Ordering::Relaxed);
        if n >= self.max_pages.load(Ordering::Relaxed) {
            self.pages.fetch_sub(1, Ordering::Relaxed);
            return Err(Errno::ENOSPC);
        }
        self.mf.allocate(PAGE_SIZE).map_err(|_| {
            self.pages.fetch_sub(1, Ordering::Relaxed);
            Errno::ENOSPC
        })
    }

    /// `count` pages in one run of the memory file.
    fn alloc_pages(&self, count: u64) -> Result<u64, Errno> {
        let n = self.pages.fetch_add(count, Ordering::Relaxed);
        if n.saturating_add(count) > self.max_pages.load(Ordering::Relaxed) {
            self.pages.fetch_sub(count, Ordering::Relaxed);
            return Err(Errno::ENOSPC);
        }
        self.mf.allocate(count * PAGE_SIZE).map_err(|_| {
            self.pages.fetch_sub(count, Ordering::Relaxed);
            Errno::ENOSPC
        })
    }

    fn free_page(&self, frame: u64) {
        self.pages.fetch_sub(1, Ordering::Relaxed);
        self.mf.decref(frame);
    }

    /// A new inode, within the nr_inodes= limit.
    fn inode(
        self: &Arc<Self>,
        mode: u32,
        uid: u32,
        gid: u32,
        kind: Kind,
    ) -> Result<Arc<TmpInode>, Errno> {
        self.reserve_inode()?;
        Ok(self.new_inode(mode, uid, gid, kind))
    }

    /// A new inode whose place in the limit is already taken (released when it goes).
    fn new_inode(self: &Arc<Self>, mode: u32, uid: u32, gid: u32, kind: Kind) -> Arc<TmpInode> {
        let ino = {
            let mut n = self.next_ino.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            *n
        };
        let t = now();
        let nlink = if matches!(kind, Kind::Dir(_)) { 2 } else { 1 };
        let stat = Stat {
            dev: self.dev,
            ino,
            mode,
            nlink,
            uid,
            gid,
            blksize: PAGE_SIZE,
            atime: t,
            mtime: t,
            ctime: t,
            btime: Some(t),
            ..Default::default()
        };
        Arc::new_cyclic(|me| TmpInode {
            fs: self.clone(),
            me: me.clone(),
            st: Mutex::new(State {
                stat,
                kind,
                xattrs: BTreeMap::new(),
                seals: libc::F_SEAL_SEAL as u32,
            }),
        })
    }
}

impl TmpInode {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn me(&self) -> Result<Arc<TmpInode>, Errno> {
        self.me.upgrade().ok_or(Errno::ENOENT)
    }

    /// Add a new entry; EEXIST if the name is taken.
    fn add(&self, name: &[u8], node: Arc<TmpInode>) -> Result<(), Errno> {
        let is_dir = matches!(node.lock().kind, Kind::Dir(_));
        let mut st = self.lock();
        let Kind::Dir(children) = &mut st.kind else {
            return Err(Errno::ENOTDIR);
        };
        if children.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        children.insert(name.to_vec(), node);
        if is_dir {
            st.stat.nlink += 1;
        }
        let t = now();
        st.stat.mtime = t;
        st.stat.ctime = t;
        Ok(())
    }

    fn child(&self, name: &[u8]) -> Result<Arc<TmpInode>, Errno> {
        match &self.lock().kind {
            Kind::Dir(c) => c.get(name).cloned().ok_or(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// Take an entry out (the caller checked its type).
    fn take(&self, name: &[u8]) -> Result<Arc<TmpInode>, Errno> {
        let mut st = self.lock();
        let Kind::Dir(children) = &mut st.kind else {
            return Err(Errno::ENOTDIR);
        };
        let node = children.remove(name).ok_or(Errno::ENOENT)?;
        let is_dir = matches!(node.lock().kind, Kind::Dir(_));
        if is_dir {
            st.stat.nlink -= 1;
        }
        let t = now();
        st.stat.mtime = t;
        st.stat.ctime = t;
        Ok(node)
    }

    fn size(&self) -> u64 {
        self.lock().stat.size
    }

    /// Resize: pages past the end are freed, the tail of the last page is zeroed.
    fn truncate(&self, size: u64) -> Result<(), Errno> {
        let mut st = self.lock();
        let old = st.stat.size;
        let seals = st.seals;
        let Kind::File { pages } = &mut st.kind else {
            return Err(Errno::EINVAL);
        };
        if (size < old && seals & libc::F_SEAL_SHRINK as u32 != 0)
            || (size > old && seals & libc::F_SEAL_GROW as u32 != 0)
        {
            return Err(Errno::EPERM);
        }
        if size < old {
            let keep = size.div_ceil(PAGE_SIZE);
            for f in pages.split_off(&keep).into_values() {
                self.fs.free_page(f);
            }
            if !size.is_multiple_of(PAGE_SIZE) {
                if let Some(&f) = pages.get(&(size / PAGE_SIZE)) {
                    let off = size % PAGE_SIZE;
                    let _ = self.fs.mf.zero(f + off, PAGE_SIZE - off);
                }
            }
        }
        let npages = pages.len() as u64;
        st.stat.size = size;
        st.stat.blocks = npages * (PAGE_SIZE / 512);
        let t = now();
        st.stat.mtime = t;
        st.stat.ctime = t;
        Ok(())
    }

    /// Read up to `n` bytes at `off` (not past the end), handing each piece to
    /// `put(file frame or None for a hole, bytes done, piece length)`.
    fn read_with(
        &self,
        off: u64,
        n: usize,
        mut put: impl FnMut(Option<u64>, usize, usize) -> Result<(), Errno>,
    ) -> Result<usize, Errno> {
        let st = self.lock();
        let Kind::File { pages } = &st.kind else {
            return Err(Errno::EISDIR);
        };
        if off >= st.stat.size {
            return Ok(0);
        }
        let n = (n as u64).min(st.stat.size - off) as usize;
        // One `put` per run of pages contiguous in the memory file (or of holes), the pages
        // taken in order from one walk of the map.
        let mut next = pages.range(off / PAGE_SIZE..).peekable();
        let mut frame_of = |page: u64| {
            while next.peek().is_some_and(|(&p, _)| p < page) {
                next.next();
            }
            next.peek().filter(|(&p, _)| p == page).map(|(_, &f)| f)
        };
        let mut done = 0;
        while done < n {
            let pos = off + done as u64;
            let (page, in_page) = (pos / PAGE_SIZE, pos % PAGE_SIZE);
            let first = frame_of(page);
            let mut k = ((PAGE_SIZE - in_page) as usize).min(n - done);
            let mut p = page + 1;
            while done + k < n {
                let f = frame_of(p);
                let joins = match (first, f) {
                    (Some(a), Some(b)) => b == a + (p - page) * PAGE_SIZE,
                    (None, None) => true,
                    _ => false,
                };
                if !joins {
                    break;
                }
                k += (PAGE_SIZE as usize).min(n - done - k);
                p += 1;
            }
            put(first.map(|f| f + in_page), done, k)?;
            done += k;
        }
        Ok(n)
    }

    /// Write `n` bytes at `off`, allocating pages, with `fill(file frame, bytes done, piece
    /// length)`; fewer when the file system fills up part way (ENOSPC when nothing fits).
    fn write_with(
        &self,
        off: u64,
        n: usize,
        mut fill: impl FnMut(u64, usize, usize) -> Result<(), Errno>,
    ) -> Result<usize, Errno> {
        let end = off.checked_add(n as u64).ok_or(Errno::EFBIG)?;
        if n == 0 {
            return Ok(0); // writing nothing changes nothing, times included
        }
        let mut st = self.lock();
        let n = sealed_write_len(st.seals, st.stat.size, off, n)?;
        let Kind::File { pages } = &mut st.kind else {
            return Err(Errno::EISDIR);
        };
        let last = (off + n as u64 - 1) / PAGE_SIZE;
        let mut done = 0;
        while done < n {
            let pos = off + done as u64;
            let (page, in_page) = (pos / PAGE_SIZE, pos % PAGE_SIZE);
            let f = match pages.get(&page) {
                Some(&f) => f,
                None => {
                    // The pages this write adds, in one run of the memory file if it fits.
                    let mut count = 1;
                    while page + count <= last && !pages.contains_key(&(page + count)) {
                        count += 1;
                    }
                    let (base, count) = match self.fs.alloc_pages(count) {
                        Ok(base) => (base, count),
                        Err(_) => match self.fs.alloc_page() {
                            Ok(f) => (f, 1),
                            // Out of space part way: the bytes written so far count.
                            Err(_) if done > 0 => break,
                            Err(e) => return Err(e),
                        },
                    };
                    for i in 0..count {
                        pages.insert(page + i, base + i * PAGE_SIZE);
                    }
                    base
                }
            };
            // One `fill` for the run of following pages contiguous in the memory file.
            let mut k = ((PAGE_SIZE - in_page) as usize).min(n - done);
            let mut p = page + 1;
            while done + k < n && pages.get(&p) == Some(&(f + (p - page) * PAGE_SIZE)) {
                k += (PAGE_SIZE as usize).min(n - done - k);
                p += 1;
            }
            fill(f + in_page, done, k)?;
            done += k;
        }
        let npages = pages.len() as u64;
        let end = end.min(off + done as u64);
        if end > st.stat.size {
            st.stat.size = end;
        }
        st.stat.blocks = npages * (PAGE_SIZE / 512);
        let t = now();
        st.stat.mtime = t;
        st.stat.ctime = t;
        Ok(done)
    }

    fn read_at(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        let mf = self.fs.mf.clone();
        self.read_with(off, buf.len(), |frame, at, k| {
            let piece = &mut buf[at..at + k];
            match frame {
                Some(f) => mf.read(f, piece).map_err(|_| Errno::EIO),
                None => {
                    piece.fill(0);
                    Ok(())
                }
            }
        })
    }

    fn write_at(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        let mf = self.fs.mf.clone();
        self.write_with(off, buf.len(), |frame, at, k| {
            mf.write(frame, &buf[at..at + k]).map_err(|_| Errno::EIO)
        })
    }

    /// Copy file bytes at `off` (zeros for holes) into the memory-file ranges `dst`.
    fn read_to_frames(&self, off: u64, dst: &[(u64, usize)]) -> Result<usize, Errno> {
        let mf = self.fs.mf.clone();
        let mut to = Pieces::new(dst);
        self.read_with(off, pieces_len(dst), |frame, _, k| {
            to.take(k, |d, at, n| {
                match frame {
                    Some(f) => mf.copy(f + at as u64, d, n as u64),
                    None => mf.zero(d, n as u64),
                }
                .map_err(|_| Errno::EIO)
            })
        })
    }

    /// A new entry `name` that is neither a directory nor a symlink: a regular file (type 0
    /// too), a fifo, a socket or a device node numbered `rdev`.
    fn make_node(
        &self,
        name: &[u8],
        mode: u32,
        rdev: u64,
        creds: &Creds,
    ) -> Result<Arc<TmpInode>, Errno> {
        name_ok(name)?;
        let ftype = match mode & libc::S_IFMT {
            0 => libc::S_IFREG,
            t => t,
        };
        let kind = if ftype == libc::S_IFREG {
            Kind::File {
                pages: BTreeMap::new(),
            }
        } else {
            Kind::Node
        };
        let node = self
            .fs
            .inode(ftype | (mode & 0o7777), creds.fsuid, creds.fsgid, kind)?;
        node.lock().stat.rdev = rdev;
        self.add(name, node.clone())?;
        Ok(node)
    }

    /// Copy the memory-file ranges `src` into the file at `off`.
    fn write_from_frames(&self, off: u64, src: &[(u64, usize)]) -> Result<usize, Errno> {
        let mf = self.fs.mf.clone();
        let mut from = Pieces::new(src);
        self.write_with(off, pieces_len(src), |frame, _, k| {
            from.take(k, |s, at, n| {
                mf.copy(s, frame + at as u64, n as u64)
                    .map_err(|_| Errno::EIO)
            })
        })
    }
}

fn pieces_len(p: &[(u64, usize)]) -> usize {
    p.iter().map(|&(_, n)| n).sum()
}

/// A cursor over memory-file ranges, taken in order a piece at a time.
struct Pieces<'a> {
    ranges: &'a [(u64, usize)],
    /// Bytes of `ranges[0]` already taken.
    used: usize,
}

impl<'a> Pieces<'a> {
    fn new(ranges: &'a [(u64, usize)]) -> Self {
        Pieces { ranges, used: 0 }
    }

    /// The next `k` bytes, as `f(frame, offset within the k, length)` calls.
    fn take(
        &mut self,
        k: usize,
        mut f: impl FnMut(u64, usize, usize) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let mut at = 0;
        while at < k {
            let Some(&(frame, len)) = self.ranges.first() else {
                return Err(Errno::EFAULT);
            };
            let n = (len - self.used).min(k - at);
            f(frame + self.used as u64, at, n)?;
            at += n;
            self.used += n;
            if self.used == len {
                self.ranges = &self.ranges[1..];
                self.used = 0;
            }
        }
        Ok(())
    }
}

impl TmpInode {
    /// fallocate: allocate the pages of [off, off+len) (and grow the size unless
    /// KEEP_SIZE), punch a hole (free and zero), or zero the range.
    fn fallocate(&self, mode: u32, off: u64, len: u64) -> Result<(), Errno> {
        let keep = mode & libc::FALLOC_FL_KEEP_SIZE as u32 != 0;
        let punch = mode & libc::FALLOC_FL_PUNCH_HOLE as u32 != 0;
        let zero = mode & libc::FALLOC_FL_ZERO_RANGE as u32 != 0;
        let end = off + len;
        let mut st = self.lock();
        let size = st.stat.size;
        if (punch || zero) && st.seals & WRITE_SEALS != 0
            || !keep && !punch && end > size && st.seals & libc::F_SEAL_GROW as u32 != 0
        {
            return Err(Errno::EPERM);
        }
        let Kind::File { pages } = &mut st.kind else {
            return Err(Errno::ENODEV);
        };
        let mf = &self.fs.mf;
        let (first, last) = (off / PAGE_SIZE, (end - 1) / PAGE_SIZE);
        for p in first..=last {
            let lo = (p * PAGE_SIZE).max(off);
            let hi = ((p + 1) * PAGE_SIZE).min(end);
            let whole = lo == p * PAGE_SIZE && hi == (p + 1) * PAGE_SIZE;
            if punch {
                if whole {
                    if let Some(f) = pages.remove(&p) {
                        self.fs.free_page(f);
                    }
                } else if let Some(&f) = pages.get(&p) {
                    let _ = mf.zero(f + lo % PAGE_SIZE, hi - lo);
                }
                continue;
            }
            let f = match pages.get(&p) {
                Some(&f) => f,
                None => {
                    let f = self.fs.alloc_page()?;
                    pages.insert(p, f);
                    f
                }
            };
            if zero {
                let _ = mf.zero(f + lo % PAGE_SIZE, hi - lo);
            }
        }
        let npages = pages.len() as u64;
        if !keep && !punch && end > size {
            st.stat.size = end;
        }
        st.stat.blocks = npages * (PAGE_SIZE / 512);
        let t = now();
        st.stat.mtime = t;
        st.stat.ctime = t;
        Ok(())
    }
}

impl TmpInode {
    /// SEEK_DATA/SEEK_HOLE by pages: a page the file holds is data, a missing one a hole,
    /// and the end of the file is a hole.
    fn seek_hole_data(&self, off: u64, hole: bool) -> Result<u64, Errno> {
        let st = self.lock();
        let size = st.stat.size;
        let Kind::File { pages } = &st.kind else {
            return Err(Errno::EINVAL);
        };
        if off >= size {
            return Err(Errno::ENXIO);
        }
        let first = off / PAGE_SIZE;
        if hole {
            let mut p = first;
            while p * PAGE_SIZE < size && pages.contains_key(&p) {
                p += 1;
            }
            return Ok(if p == first {
                off
            } else {
                (p * PAGE_SIZE).min(size)
            });
        }
        if pages.contains_key(&first) {
            return Ok(off);
        }
        match pages.range(first + 1..).next().map(|(&p, _)| p) {
            Some(p) if p * PAGE_SIZE < size => Ok(p * PAGE_SIZE),
            _ => Err(Errno::ENXIO),
        }
    }
}

impl Drop for TmpInode {
    fn drop(&mut self) {
        self.fs.release_inode();
        let st = self.st.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Kind::File { pages } = &st.kind {
            for &f in pages.values() {
                self.fs.free_page(f);
            }
        }
    }
}

fn name_ok(name: &[u8]) -> Result<(), Errno> {
    if name.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    Ok(())
}

impl Inode for TmpInode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.lock().stat)
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        Ok(self.child(name)?)
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match &self.lock().kind {
            Kind::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let me = self.me()?;
        let st = self.lock();
        match &st.kind {
            Kind::Dir(_) => Ok(dir_file(st.stat)),
            Kind::File { .. } => Ok(Arc::new(TmpFile { inode: me.clone() })),
            Kind::Symlink(_) => Err(Errno::ELOOP),
            Kind::Node => super::dev::open_node(&st.stat),
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        match &self.lock().kind {
            Kind::Dir(c) => Ok(c
                .iter()
                .map(|(n, i)| {
                    let s = i.lock().stat;
                    DirEntry {
                        ino: s.ino,
                        kind: dt(s.mode),
                        name: n.clone(),
                    }
                })
                .collect()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn statfs(&self) -> Result<StatFs, Errno> {
        let mut s = super::synthetic_statfs(TMPFS_MAGIC);
        let used = self.fs.pages.load(Ordering::Relaxed);
        match self.fs.max_pages.load(Ordering::Relaxed) {
            NO_LIMIT => {
                s.f_blocks = self.fs.mf.size() / PAGE_SIZE;
                s.f_bfree = (self.fs.mf.size() - self.fs.mf.used()) / PAGE_SIZE;
            }
            max => {
                s.f_blocks = max;
                s.f_bfree = max.saturating_sub(used);
            }
        }
        s.f_bavail = s.f_bfree;
        let max = self.fs.max_inodes.load(Ordering::Relaxed);
        if max != NO_LIMIT {
            s.f_files = max;
            s.f_ffree = max.saturating_sub(self.fs.inodes.load(Ordering::Relaxed));
        }
        Ok(s)
    }

    fn create(&self, name: &[u8], mode: u32, creds: &Creds) -> Result<Arc<dyn Inode>, Errno> {
        Ok(self.make_node(name, mode, 0, creds)?)
    }

    fn mknod(
        &self,
        name: &[u8],
        mode: u32,
        rdev: u64,
        creds: &Creds,
    ) -> Result<Arc<dyn Inode>, Errno> {
        Ok(self.make_node(name, mode, rdev, creds)?)
    }

    fn mkdir(&self, name: &[u8], mode: u32, creds: &Creds) -> Result<(), Errno> {
        name_ok(name)?;
        let node = self.fs.inode(
            libc::S_IFDIR | (mode & 0o7777),
            creds.fsuid,
            creds.fsgid,
            Kind::Dir(BTreeMap::new()),
        )?;
        self.add(name, node)
    }

    fn symlink(&self, name: &[u8], target: &[u8], creds: &Creds) -> Result<(), Errno> {
        name_ok(name)?;
        let node = self.fs.inode(
            libc::S_IFLNK | 0o777,
            creds.fsuid,
            creds.fsgid,
            Kind::Symlink(target.to_vec()),
        )?;
        node.lock().stat.size = target.len() as u64;
        self.add(name, node)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        name_ok(name)?;
        let t = crate::vfs::same_kind::<TmpInode>(target)?;
        if !Arc::ptr_eq(&t.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        let node = t.me()?;
        if matches!(node.lock().kind, Kind::Dir(_)) {
            return Err(Errno::EPERM);
        }
        // A link to a file that has one takes an inode of the limit (an O_TMPFILE file
        // getting its first name already holds its own).
        let extra = node.lock().stat.nlink > 0;
        if extra {
            self.fs.reserve_inode()?;
        }
        if let Err(e) = self.add(name, node.clone()) {
            if extra {
                self.fs.release_inode();
            }
            return Err(e);
        }
        let mut st = node.lock();
        st.stat.nlink += 1;
        st.stat.ctime = now();
        Ok(())
    }

    fn unlink(&self, name: &[u8]) -> Result<(), Errno> {
        let node = self.child(name)?;
        if matches!(node.lock().kind, Kind::Dir(_)) {
            return Err(Errno::EISDIR);
        }
        self.take(name)?;
        let mut st = node.lock();
        if st.stat.nlink > 1 {
            self.fs.release_inode(); // an extra link's share; the last goes with the inode
        }
        st.stat.nlink = st.stat.nlink.saturating_sub(1);
        st.stat.ctime = now();
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> Result<(), Errno> {
        let node = self.child(name)?;
        match &node.lock().kind {
            Kind::Dir(c) if !c.is_empty() => return Err(Errno::ENOTEMPTY),
            Kind::Dir(_) => {}
            _ => return Err(Errno::ENOTDIR),
        }
        self.take(name)?;
        node.lock().stat.nlink = 0;
        Ok(())
    }

    fn rename(
        &self,
        name: &[u8],
        to: &Arc<dyn Inode>,
        new_name: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        let dst = crate::vfs::same_kind::<TmpInode>(to)?;
        if !Arc::ptr_eq(&dst.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        name_ok(new_name).map_err(|_| Errno::EBUSY)?;
        let src = self.child(name)?;
        let src_dir = matches!(src.lock().kind, Kind::Dir(_));
        let existing = dst.child(new_name).ok();
        if flags & libc::RENAME_NOREPLACE != 0 && existing.is_some() {
            return Err(Errno::EEXIST);
        }
        if flags & libc::RENAME_EXCHANGE != 0 {
            let other = existing.ok_or(Errno::ENOENT)?;
            self.take(name)?;
            dst.take(new_name)?;
            dst.add(new_name, src)?;
            self.add(name, other)?;
            return Ok(());
        }
        if let Some(e) = &existing {
            if Arc::ptr_eq(e, &src) {
                return Ok(()); // same inode: nothing to do
            }
            let e_dir = matches!(e.lock().kind, Kind::Dir(_));
            match (src_dir, e_dir) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) => {
                    if matches!(&e.lock().kind, Kind::Dir(c) if !c.is_empty()) {
                        return Err(Errno::ENOTEMPTY);
                    }
                }
                _ => {}
            }
        }
        // A directory must not move into itself.
        if src_dir && is_ancestor(&src, dst) {
            return Err(Errno::EINVAL);
        }
        if let Some(e) = existing {
            dst.take(new_name)?;
            let mut st = e.lock();
            if !src_dir && st.stat.nlink > 1 {
                self.fs.release_inode();
            }
            st.stat.nlink = st.stat.nlink.saturating_sub(if src_dir { 2 } else { 1 });
        }
        self.take(name)?;
        dst.add(new_name, src.clone())?;
        src.lock().stat.ctime = now();
        if flags & libc::RENAME_WHITEOUT != 0 {
            // The old name becomes a whiteout: a character device 0/0 (shmem_whiteout).
            self.make_node(name, libc::S_IFCHR, 0, &Creds::new(0, 0))?;
        }
        Ok(())
    }

    /// relatime: atime moves when it is not after mtime or ctime, or is a day old.
    fn accessed(&self) {
        let mut st = self.lock();
        let t = now();
        let a = st.stat.atime;
        if a <= st.stat.mtime || a <= st.stat.ctime || t.0 - a.0 >= 24 * 3600 {
            st.stat.atime = t;
        }
    }

    fn setattr(&self, a: &SetAttr) -> Result<(), Errno> {
        if let Some(size) = a.size {
            self.truncate(size)?;
        }
        let mut st = self.lock();
        if let Some(m) = a.mode {
            if st.seals & libc::F_SEAL_EXEC as u32 != 0 && (m ^ st.stat.mode) & 0o111 != 0 {
                return Err(Errno::EPERM);
            }
        }
        if let Some(m) = a.mode {
            st.stat.mode = (st.stat.mode & libc::S_IFMT) | (m & 0o7777);
        }
        if let Some(u) = a.uid {
            st.stat.uid = u;
        }
        if let Some(g) = a.gid {
            st.stat.gid = g;
        }
        if let Some(t) = a.atime {
            st.stat.atime = t;
        }
        if let Some(t) = a.mtime {
            st.stat.mtime = t;
        }
        st.stat.ctime = now();
        Ok(())
    }

    fn getxattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        self.lock().xattrs.get(name).cloned().ok_or(Errno::ENODATA)
    }

    fn listxattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(self.lock().xattrs.keys().cloned().collect())
    }

    fn setxattr(&self, name: &[u8], value: &[u8], flags: u32) -> Result<(), Errno> {
        let mut st = self.lock();
        let exists = st.xattrs.contains_key(name);
        if flags & libc::XATTR_CREATE as u32 != 0 && exists {
            return Err(Errno::EEXIST);
        }
        if flags & libc::XATTR_REPLACE as u32 != 0 && !exists {
            return Err(Errno::ENODATA);
        }
        st.xattrs.insert(name.to_vec(), value.to_vec());
        st.stat.ctime = now();
        Ok(())
    }

    fn removexattr(&self, name: &[u8]) -> Result<(), Errno> {
        let mut st = self.lock();
        st.xattrs.remove(name).ok_or(Errno::ENODATA)?;
        st.stat.ctime = now();
        Ok(())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// Whether `dir` is `node` or lies below it.
fn is_ancestor(node: &Arc<TmpInode>, dir: &TmpInode) -> bool {
    fn walk(cur: &Arc<TmpInode>, target: &TmpInode, depth: usize) -> bool {
        if std::ptr::eq(Arc::as_ptr(cur), target) {
            return true;
        }
        if depth > 256 {
            return false;
        }
        let children: Vec<Arc<TmpInode>> = match &cur.lock().kind {
            Kind::Dir(c) => c.values().cloned().collect(),
            _ => return false,
        };
        children.iter().any(|c| walk(c, target, depth + 1))
    }
    walk(node, dir, 0)
}

impl Mappable for TmpInode {
    fn cached_frame(&self, off: u64) -> Option<u64> {
        let st = self.lock();
        if off >= st.stat.size.div_ceil(PAGE_SIZE) * PAGE_SIZE {
            return None;
        }
        match &st.kind {
            Kind::File { pages } => pages.get(&(off / PAGE_SIZE)).copied(),
            _ => None,
        }
    }

    fn frame(&self, mf: &MemoryFile, off: u64) -> Result<u64, Errno> {
        let mut st = self.lock();
        if off >= st.stat.size.div_ceil(PAGE_SIZE) * PAGE_SIZE {
            return Err(Errno::EFAULT);
        }
        let Kind::File { pages } = &mut st.kind else {
            return Err(Errno::ENODEV);
        };
        if let Some(&f) = pages.get(&(off / PAGE_SIZE)) {
            return Ok(f);
        }
        let _ = mf;
        let f = self.fs.alloc_page()?;
        pages.insert(off / PAGE_SIZE, f);
        Ok(f)
    }

    fn name(&self) -> String {
        String::new()
    }

    fn ident(&self) -> (u64, u64) {
        let s = self.lock().stat;
        (s.dev, s.ino)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// How much of an `n`-byte write at `off` the seals let through: none under a write seal;
/// under F_SEAL_GROW, the pages written whole below the end (a write goes page by page, and
/// the first piece that would grow the file stops it).
fn sealed_write_len(seals: u32, size: u64, off: u64, n: usize) -> Result<usize, Errno> {
    if seals & WRITE_SEALS != 0 {
        return Err(Errno::EPERM);
    }
    let end = off.saturating_add(n as u64);
    if seals & libc::F_SEAL_GROW as u32 == 0 || end <= size {
        return Ok(n);
    }
    match (size / PAGE_SIZE * PAGE_SIZE).checked_sub(off) {
        Some(k) if k > 0 => Ok(k as usize),
        _ => Err(Errno::EPERM),
    }
}

/// An open tmpfs file.
struct TmpFile {
    inode: Arc<TmpInode>,
}

impl FileOps for TmpFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.inode.read_at(buf, off)
    }
    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.inode.write_at(buf, off)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.lock().stat)
    }
    fn mappable(&self) -> Option<Arc<dyn Mappable>> {
        Some(self.inode.clone())
    }
    fn truncate(&self, size: u64) -> Result<(), Errno> {
        self.inode.truncate(size)
    }
    fn fallocate(&self, mode: u32, off: u64, len: u64) -> Result<(), Errno> {
        self.inode.fallocate(mode, off, len)
    }
    fn seek_hole_data(&self, off: u64, hole: bool) -> Option<Result<u64, Errno>> {
        Some(self.inode.seek_hole_data(off, hole))
    }
    fn seals(&self) -> Result<u32, Errno> {
        Ok(self.inode.lock().seals)
    }
    fn add_seals(&self, seals: u32, writably_mapped: bool) -> Result<(), Errno> {
        if seals & !ALL_SEALS != 0 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.inode.lock();
        if st.seals & libc::F_SEAL_SEAL as u32 != 0 {
            return Err(Errno::EPERM);
        }
        let mut seals = seals;
        if seals & libc::F_SEAL_WRITE as u32 != 0
            && st.seals & libc::F_SEAL_WRITE as u32 == 0
            && writably_mapped
        {
            return Err(Errno::EBUSY);
        }
        // F_SEAL_EXEC on an executable file makes it W^X from then on.
        if seals & libc::F_SEAL_EXEC as u32 != 0 && st.stat.mode & 0o111 != 0 {
            seals |= (libc::F_SEAL_SHRINK
                | libc::F_SEAL_GROW
                | libc::F_SEAL_WRITE
                | libc::F_SEAL_FUTURE_WRITE) as u32;
        }
        st.seals |= seals;
        Ok(())
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
    fn read_direct(
        &self,
        mm: &MemoryManager,
        addr: u64,
        len: usize,
        off: u64,
    ) -> Option<Result<usize, Errno>> {
        let len = (len as u64).min(self.inode.size().saturating_sub(off)) as usize;
        if len == 0 {
            return Some(Ok(0));
        }
        Some(mm.with_frames(addr, len, true, |dst| self.inode.read_to_frames(off, dst)))
    }
    fn write_direct(
        &self,
        mm: &MemoryManager,
        addr: u64,
        len: usize,
        off: u64,
    ) -> Option<Result<usize, Errno>> {
        Some(mm.with_frames(addr, len, false, |src| {
            self.inode.write_from_frames(off, src)
        }))
    }
}

impl TmpInode {
    pub fn file_size(&self) -> u64 {
        self.size()
    }

    /// The file system this inode belongs to.
    pub fn fs(&self) -> &Arc<Tmpfs> {
        &self.fs
    }
}

/// memfd_create's seals for a new file opened as `ops`: none with MFD_ALLOW_SEALING,
/// F_SEAL_EXEC with MFD_NOEXEC_SEAL, F_SEAL_SEAL (the default) otherwise.
pub fn set_initial_seals(ops: &dyn FileOps, seals: u32) {
    if let Some(f) = ops.as_any().and_then(|a| a.downcast_ref::<TmpFile>()) {
        f.inode.lock().seals = seals;
    }
}
