//! The virtual file system: inodes, dentries with mount points, path resolution, open file
//! descriptions and fd tables.

pub mod fdtable;
pub mod file;
pub mod lock;
pub mod mount;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::errno::Errno;
use crate::fs::inotify;
pub use fdtable::FdTable;
pub use file::{io_timed_out, DirEntry, FileOps, OpenFile};

/// Attributes of an inode (the same shape the gofer reports).
pub type Stat = gofer::Attr;

/// Symlinks followed in one resolution before ELOOP (Linux's MAXSYMLINKS).
const MAX_SYMLINKS: u32 = 40;
pub const PATH_MAX: usize = 4096;
pub const NAME_MAX: usize = 255;

/// An inode of some file system.
pub trait Inode: Send + Sync {
    fn stat(&self) -> Result<Stat, Errno>;
    fn lookup(&self, _name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        Err(Errno::ENOTDIR)
    }
    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        Err(Errno::EINVAL)
    }
    /// Open for I/O with the given open(2) flags.
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno>;
    /// Directory entries, without "." and "..".
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }
    fn statfs(&self) -> Result<crate::mm::pod::StatFs, Errno>;
    /// Whether entries of this directory may be cached forever (read-only, exclusive trees).
    fn cacheable(&self) -> bool {
        true
    }
    /// Whether the file system holding this inode is read-only (EROFS for changes).
    fn read_only(&self) -> bool {
        false
    }
    /// The error for a change this file system does not make.
    fn no_change(&self) -> Errno {
        if self.read_only() {
            Errno::EROFS
        } else {
            Errno::EACCES
        }
    }
    /// Create a regular file (or fifo/socket node) `name` in this directory.
    fn create(&self, _name: &[u8], _mode: u32, _creds: &Creds) -> Result<Arc<dyn Inode>, Errno> {
        Err(self.no_change())
    }
    /// Create a device node (character or block, `mode` holds the type) numbered `rdev`.
    fn mknod(
        &self,
        _name: &[u8],
        _mode: u32,
        _rdev: u64,
        _creds: &Creds,
    ) -> Result<Arc<dyn Inode>, Errno> {
        Err(self.no_change())
    }
    fn mkdir(&self, _name: &[u8], _mode: u32, _creds: &Creds) -> Result<(), Errno> {
        Err(self.no_change())
    }
    fn symlink(&self, _name: &[u8], _target: &[u8], _creds: &Creds) -> Result<(), Errno> {
        Err(self.no_change())
    }
    /// Add a hard link `name` to `target` (same file system).
    fn link(&self, _name: &[u8], _target: &Arc<dyn Inode>) -> Result<(), Errno> {
        Err(self.no_change())
    }
    /// Remove a non-directory entry.
    fn unlink(&self, _name: &[u8]) -> Result<(), Errno> {
        Err(self.no_change())
    }
    /// Remove an empty directory.
    fn rmdir(&self, _name: &[u8]) -> Result<(), Errno> {
        Err(self.no_change())
    }
    /// Move `name` to `to`/`new_name` (EXDEV if `to` is another file system).
    fn rename(
        &self,
        _name: &[u8],
        _to: &Arc<dyn Inode>,
        _new_name: &[u8],
        _flags: u32,
    ) -> Result<(), Errno> {
        Err(self.no_change())
    }
    /// Change attributes: mode bits, owner, size, times (each when Some).
    fn setattr(&self, _a: &SetAttr) -> Result<(), Errno> {
        Err(self.no_change())
    }
    /// A "magic" link (procfs's fd/N, cwd, root, exe): openat2 can refuse to follow them.
    fn is_magic_link(&self) -> bool {
        false
    }
    /// Where a magic link leads when it leads to a file rather than to a path (procfs's
    /// fd/N): the open file's own dentry (also once deleted, or outside the caller's root),
    /// or for a file without a name (a pipe, a socket, a host descriptor) a dentry of its
    /// own that opens the same file.
    fn jump(&self) -> Option<Result<Arc<Dentry>, Errno>> {
        None
    }
    /// Opening this inode reopens an open file without a name (what `jump` leads to): a
    /// pipe's is not a named FIFO's rendezvous.
    fn reopens(&self) -> bool {
        false
    }
    /// The value of extended attribute `name` (ENODATA if unset). The caller checked the
    /// name's namespace and the caller's permission; file systems without extended
    /// attributes answer EOPNOTSUPP.
    fn getxattr(&self, _name: &[u8]) -> Result<Vec<u8>, Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    /// The names of the extended attributes set.
    fn listxattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(Vec::new())
    }
    /// Set extended attribute `name`; `flags` XATTR_CREATE (EEXIST if set) or XATTR_REPLACE
    /// (ENODATA if not).
    fn setxattr(&self, _name: &[u8], _value: &[u8], _flags: u32) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    fn removexattr(&self, _name: &[u8]) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    /// For file systems that need the concrete type (rename, link within one tmpfs).
    /// The file was read (or the directory listed): bring atime up to date as a relatime
    /// mount does, where the file system keeps times.
    fn accessed(&self) {}
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// `inode` as the concrete type `T` of a file system that links or renames only within
/// itself: EXDEV when it is another type (the caller checks it is the same instance).
pub fn same_kind<T: 'static>(inode: &Arc<dyn Inode>) -> Result<&T, Errno> {
    inode
        .as_any()
        .and_then(|a| a.downcast_ref::<T>())
        .ok_or(Errno::EXDEV)
}

/// What setattr changes.
#[derive(Debug, Default, Clone, Copy)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<(i64, i64)>,
    pub mtime: Option<(i64, i64)>,
}

/// Where a dentry sits: its name and parent (both change on rename).
struct Loc {
    name: Vec<u8>,
    parent: Option<Arc<Dentry>>,
}

/// A name in the tree, caching its inode and children.
///
/// For directories whose inode is `cacheable`, children (and their absence) are cached, and
/// every change to the directory goes through the methods below, which keep the cache true:
/// creating a name forgets a cached absence, removing one marks its dentry dead, and rename
/// moves the dentry (so open files and working directories follow it). The children lock is
/// held across the file system's lookup or change, so a lookup cannot cache a stale answer.
pub struct Dentry {
    loc: Mutex<Loc>,
    pub inode: Arc<dyn Inode>,
    mode: u32,
    children: Mutex<HashMap<Vec<u8>, Option<Arc<Dentry>>>>,
    /// Root of a file system mounted on this dentry.
    mounted: Mutex<Option<Arc<Dentry>>>,
    /// For the root of a mounted file system: the dentry it is mounted on.
    pub covers: Option<Arc<Dentry>>,
    /// The name was removed (unlink, rmdir, or replaced by a rename).
    dead: AtomicBool,
    /// An O_TMPFILE file that linkat may give a name (Linux's I_LINKABLE).
    linkable: AtomicBool,
    /// The flags of the mount this dentry belongs to (shared by its dentries): MNT_* bits.
    mnt_flags: Arc<AtomicU8>,
    /// The directory is seen in more than one place (a bind mount's tree, or the tree a bind
    /// mount was made of): each place has its own dentries, so none caches lookups, and
    /// changes made through one are seen through the other.
    aliased: AtomicBool,
}

/// Cached dentries beyond which unused ones are let go, oldest first (gVisor keeps 1000
/// unreferenced ones). A dentry is in use while anything but its parent's cache holds it: an
/// open file, a working directory, a cached child, a mount.
const DCACHE_MAX: usize = 4096;

/// Cached positive dentries, oldest first.
static LRU: Mutex<VecDeque<Weak<Dentry>>> = Mutex::new(VecDeque::new());

/// Drop unused cached dentries while the cache is over its size; in-use ones go to the back.
fn shrink_dcache() {
    let mut budget = 256;
    while budget > 0 {
        let w = {
            let mut q = lock(&LRU);
            if q.len() <= DCACHE_MAX {
                return;
            }
            match q.pop_front() {
                Some(w) => w,
                None => return,
            }
        };
        let Some(d) = w.upgrade() else { continue };
        if !d.try_evict() {
            lock(&LRU).push_back(w);
            budget -= 1;
        }
    }
}

/// Held by renames, so that two renames never lock the same pair of directories in opposite
/// orders and a directory cannot be moved below itself by two racing renames.
static RENAME_LOCK: Mutex<()> = Mutex::new(());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Mount flags a dentry carries (bits of `Dentry::mnt_flags`).
const MNT_RDONLY: u8 = 1;
const MNT_NODEV: u8 = 2;
const MNT_NOEXEC: u8 = 4;

impl Dentry {
    pub fn new_root(
        inode: Arc<dyn Inode>,
        covers: Option<Arc<Dentry>>,
    ) -> Result<Arc<Dentry>, Errno> {
        Self::make(b"/", None, inode, covers)
    }

    /// Whether changes here are refused with EROFS: a read-only file system or mount.
    pub fn read_only(&self) -> bool {
        self.inode.read_only() || self.mnt_flags.load(Ordering::Relaxed) & MNT_RDONLY != 0
    }

    /// On a noexec mount: nothing here is executed or mapped executable.
    pub fn noexec(&self) -> bool {
        self.mnt_flags.load(Ordering::Relaxed) & MNT_NOEXEC != 0
    }

    /// On a nodev mount: device nodes here do not open.
    pub fn nodev(&self) -> bool {
        self.mnt_flags.load(Ordering::Relaxed) & MNT_NODEV != 0
    }

    fn set_mount_flags(&self, f: &mount::Flags) {
        let bits = [
            (f.read_only, MNT_RDONLY),
            (f.nodev, MNT_NODEV),
            (f.noexec, MNT_NOEXEC),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |acc, (_, b)| acc | b);
        self.mnt_flags.store(bits, Ordering::Relaxed);
    }

    fn make(
        name: &[u8],
        parent: Option<Arc<Dentry>>,
        inode: Arc<dyn Inode>,
        covers: Option<Arc<Dentry>>,
    ) -> Result<Arc<Dentry>, Errno> {
        let mode = inode.stat()?.mode;
        let mnt_flags = match &parent {
            Some(p) => p.mnt_flags.clone(),
            None => Arc::new(AtomicU8::new(0)),
        };
        let aliased = parent
            .as_ref()
            .is_some_and(|p| p.aliased.load(Ordering::Relaxed));
        Ok(Arc::new(Dentry {
            mnt_flags,
            aliased: AtomicBool::new(aliased),
            loc: Mutex::new(Loc {
                name: name.to_vec(),
                parent,
            }),
            inode,
            mode,
            children: Mutex::new(HashMap::new()),
            mounted: Mutex::new(None),
            covers,
            dead: AtomicBool::new(false),
            linkable: AtomicBool::new(false),
        }))
    }

    pub fn name(&self) -> Vec<u8> {
        lock(&self.loc).name.clone()
    }

    pub fn parent(&self) -> Option<Arc<Dentry>> {
        lock(&self.loc).parent.clone()
    }

    pub fn file_type(&self) -> u32 {
        self.mode & libc::S_IFMT
    }

    pub fn is_dir(&self) -> bool {
        self.file_type() == libc::S_IFDIR
    }

    /// Give a removed dentry the name it is shown by (memfd's "memfd:NAME").
    pub fn rename_removed(&self, name: &[u8]) {
        if self.is_dead() {
            lock(&self.loc).name = name.to_vec();
        }
    }

    /// Whether linkat may give this nameless file a name (an O_TMPFILE file without
    /// O_EXCL, until it has one).
    pub fn linkable(&self) -> bool {
        self.linkable.load(Ordering::Relaxed)
    }

    pub fn set_linkable(&self, linkable: bool) {
        self.linkable.store(linkable, Ordering::Relaxed);
    }

    /// Whether the name of this dentry was removed.
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Relaxed)
    }

    /// Whether a file system is mounted here.
    pub fn is_mountpoint(&self) -> bool {
        lock(&self.mounted).is_some()
    }

    /// Whether lookups in this directory are cached (see `Dentry`).
    fn caches(&self) -> bool {
        self.inode.cacheable() && !self.aliased.load(Ordering::Relaxed)
    }

    /// Mount `inode`'s tree on this dentry (on top of what is mounted here already).
    pub fn mount(self: &Arc<Self>, inode: Arc<dyn Inode>, spec: mount::Spec) -> Result<(), Errno> {
        let top = self.follow_mounts();
        let root = Dentry::new_root(inode, Some(top.clone()))?;
        top.mount_root(root, spec);
        Ok(())
    }

    /// Bind mount: `source`'s file (and what is below it) seen here too. Both trees stop
    /// caching lookups from then on, so that a change through one is seen through the other.
    /// Mounts below `source` are not carried over (no MS_REC).
    pub fn bind(self: &Arc<Self>, source: &Arc<Dentry>, spec: mount::Spec) -> Result<(), Errno> {
        let top = self.follow_mounts();
        let root = Dentry::new_root(source.inode.clone(), Some(top.clone()))?;
        root.aliased.store(true, Ordering::Relaxed);
        let mut stack = vec![source.clone()];
        while let Some(d) = stack.pop() {
            if d.aliased.swap(true, Ordering::Relaxed) && !Arc::ptr_eq(&d, source) {
                continue;
            }
            let mut c = lock(&d.children);
            stack.extend(c.values().flatten().cloned());
            // Only mount points stay pinned; every other cached answer is forgotten.
            c.retain(|_, e| e.as_ref().is_some_and(|x| x.is_mountpoint()));
        }
        top.mount_root(root, spec);
        Ok(())
    }

    fn mount_root(self: &Arc<Self>, root: Arc<Dentry>, spec: mount::Spec) {
        mount::register(&root, spec);
        *lock(&self.mounted) = Some(root);
        // A directory that makes its dentries afresh on each lookup (procfs) keeps its
        // mount points, as Linux pins a mount point's dentry.
        if let Some(parent) = self.parent() {
            if !parent.caches() {
                lock(&parent.children).insert(self.name(), Some(self.clone()));
            }
        }
    }

    /// Remove the mount whose root is this dentry (umount2).
    pub fn unmount(self: &Arc<Self>) -> Result<(), Errno> {
        let point = self.covers.clone().ok_or(Errno::EINVAL)?;
        if self.is_mountpoint() {
            return Err(Errno::EBUSY);
        }
        mount::unregister(self)?;
        *lock(&point.mounted) = None;
        Ok(())
    }

    /// The top of the mount stack at this dentry.
    fn follow_mounts(self: &Arc<Self>) -> Arc<Dentry> {
        let mut d = self.clone();
        loop {
            let m = lock(&d.mounted).clone();
            match m {
                Some(m) => d = m,
                None => return d,
            }
        }
    }

    /// Take this dentry out of its parent's cache unless it is in use; true if it is no
    /// longer cached.
    fn try_evict(self: &Arc<Self>) -> bool {
        let Some(parent) = self.parent() else {
            return true;
        };
        let mut c = lock(&parent.children);
        let name = self.name();
        match c.get(&name) {
            Some(Some(x)) if Arc::ptr_eq(x, self) => {}
            _ => return true,
        }
        // Held by the parent's cache and by the caller only.
        if Arc::strong_count(self) > 2 || self.is_mountpoint() {
            return false;
        }
        c.remove(&name);
        true
    }

    /// The child `name`, from the cache or the file system.
    pub fn lookup(self: &Arc<Self>, name: &[u8]) -> Result<Arc<Dentry>, Errno> {
        // A removed directory is empty and stays so.
        if self.is_dead() && self.is_dir() {
            return Err(Errno::ENOENT);
        }
        let entry = if self.caches() {
            let mut c = lock(&self.children);
            match c.get(name) {
                Some(e) => e.clone(),
                None => {
                    let e = self.lookup_fs(name)?;
                    c.insert(name.to_vec(), e.clone());
                    drop(c);
                    if let Some(d) = &e {
                        lock(&LRU).push_back(Arc::downgrade(d));
                        shrink_dcache();
                    }
                    e
                }
            }
        } else {
            let pinned = lock(&self.children).get(name).cloned().flatten();
            match pinned {
                Some(d) if d.is_mountpoint() => Some(d),
                _ => self.lookup_fs(name)?,
            }
        };
        entry.map(|d| d.follow_mounts()).ok_or(Errno::ENOENT)
    }

    /// Ask the file system for `name`: Ok(None) if it does not exist.
    fn lookup_fs(self: &Arc<Self>, name: &[u8]) -> Result<Option<Arc<Dentry>>, Errno> {
        match self.inode.lookup(name) {
            Ok(inode) => Ok(Some(Self::make(name, Some(self.clone()), inode, None)?)),
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Run a change of entry `name` in this directory, then forget what the cache knew of it
    /// (a removed entry's dentry is marked dead).
    fn change<R>(&self, name: &[u8], f: impl FnOnce() -> Result<R, Errno>) -> Result<R, Errno> {
        // Nothing is created in a removed directory (Linux's IS_DEADDIR).
        if self.is_dead() && self.is_dir() {
            return Err(Errno::ENOENT);
        }
        self.change_to(name, false, f)
    }

    /// `change`; `gone`: the change removed the name, which the cache then knows is absent.
    fn change_to<R>(
        &self,
        name: &[u8],
        gone: bool,
        f: impl FnOnce() -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let mut c = lock(&self.children);
        let r = f()?;
        if let Some(Some(old)) = c.remove(name) {
            if !old.inode.stat().is_ok_and(|s| s.nlink > 0) || old.is_dir() {
                old.dead.store(true, Ordering::Relaxed);
            }
        }
        if gone && self.caches() {
            c.insert(name.to_vec(), None);
        }
        Ok(r)
    }

    /// Create a regular file or node `name` here; its dentry is cached at once.
    /// The mode and credentials a new entry of this directory is made with: in a
    /// set-group-id directory it takes the directory's group, and a new directory keeps the
    /// bit (Linux's inode_init_owner).
    fn new_owner(&self, mode: u32, creds: &Creds) -> (u32, Creds) {
        let mut c = *creds;
        let mut mode = mode;
        if let Ok(st) = self.inode.stat() {
            if st.mode & libc::S_ISGID != 0 {
                c.fsgid = st.gid;
                if mode & libc::S_IFMT == libc::S_IFDIR {
                    mode |= libc::S_ISGID;
                }
            }
        }
        (mode, c)
    }

    pub fn create(
        self: &Arc<Self>,
        name: &[u8],
        mode: u32,
        creds: &Creds,
    ) -> Result<Arc<Dentry>, Errno> {
        self.create_node(name, mode, 0, creds)
    }

    /// Create a file of any type but a directory or symlink; `rdev` numbers a device node.
    pub fn create_node(
        self: &Arc<Self>,
        name: &[u8],
        mode: u32,
        rdev: u64,
        creds: &Creds,
    ) -> Result<Arc<Dentry>, Errno> {
        let (mode, creds) = self.new_owner(mode, creds);
        let creds = &creds;
        let device = matches!(mode & libc::S_IFMT, libc::S_IFCHR | libc::S_IFBLK);
        let inode = self.change(name, || {
            if device {
                self.inode.mknod(name, mode, rdev, creds)
            } else {
                self.inode.create(name, mode, creds)
            }
        })?;
        inotify::dir_event(self, inotify::IN_CREATE, name, false, 0);
        let d = Self::make(name, Some(self.clone()), inode, None)?;
        if self.caches() {
            let mut c = lock(&self.children);
            if !c.contains_key(name) {
                c.insert(name.to_vec(), Some(d.clone()));
                drop(c);
                lock(&LRU).push_back(Arc::downgrade(&d));
                shrink_dcache();
            }
        }
        Ok(d)
    }

    pub fn mkdir(&self, name: &[u8], mode: u32, creds: &Creds) -> Result<(), Errno> {
        let (mode, creds) = self.new_owner(mode | libc::S_IFDIR, creds);
        let (mode, creds) = (mode & !libc::S_IFMT, &creds);
        self.change(name, || self.inode.mkdir(name, mode, creds))?;
        inotify::dir_event(self, inotify::IN_CREATE, name, true, 0);
        Ok(())
    }

    pub fn symlink(&self, name: &[u8], target: &[u8], creds: &Creds) -> Result<(), Errno> {
        let (_, creds) = self.new_owner(libc::S_IFLNK, creds);
        let creds = &creds;
        self.change(name, || self.inode.symlink(name, target, creds))?;
        inotify::dir_event(self, inotify::IN_CREATE, name, false, 0);
        Ok(())
    }

    pub fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        self.change(name, || self.inode.link(name, target))?;
        inotify::dir_event(self, inotify::IN_CREATE, name, false, 0);
        Ok(())
    }

    /// Remove the non-directory `name`. The dentry dies with the inode's last link.
    pub fn unlink(self: &Arc<Self>, name: &[u8]) -> Result<(), Errno> {
        let child = inotify::active().then(|| self.lookup(name).ok()).flatten();
        self.change_to(name, true, || self.inode.unlink(name))?;
        if let Some(c) = child {
            inotify::dir_event(self, inotify::IN_DELETE, name, false, 0);
            inotify::unlinked(&c);
        }
        Ok(())
    }

    pub fn rmdir(self: &Arc<Self>, name: &[u8]) -> Result<(), Errno> {
        let child = inotify::active().then(|| self.lookup(name).ok()).flatten();
        self.change_to(name, true, || self.inode.rmdir(name))?;
        if let Some(c) = child {
            inotify::dir_event(self, inotify::IN_DELETE, name, true, 0);
            inotify::unlinked(&c);
        }
        Ok(())
    }

    /// rename(2) of `old_dir`/`old` to `new_dir`/`new`; cached dentries move with their files.
    pub fn rename(
        old_dir: &Arc<Dentry>,
        old: &[u8],
        new_dir: &Arc<Dentry>,
        new: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        // For inotify: the file moving and the one it replaces.
        let watched =
            inotify::active().then(|| (old_dir.lookup(old).ok(), new_dir.lookup(new).ok()));
        let _g = lock(&RENAME_LOCK);
        let same = Arc::ptr_eq(old_dir, new_dir);
        // Lock the two children maps in address order.
        let (mut oc, mut nc) = if same {
            (lock(&old_dir.children), None)
        } else if Arc::as_ptr(old_dir) < Arc::as_ptr(new_dir) {
            let a = lock(&old_dir.children);
            (a, Some(lock(&new_dir.children)))
        } else {
            let b = lock(&new_dir.children);
            (lock(&old_dir.children), Some(b))
        };
        old_dir.inode.rename(old, &new_dir.inode, new, flags)?;
        let moved = oc.remove(old).flatten();
        let replaced = match nc.as_mut() {
            Some(nc) => nc.remove(new),
            None => oc.remove(new),
        }
        .flatten();
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        let place = |d: &Arc<Dentry>, dir: &Arc<Dentry>, name: &[u8]| {
            let mut l = lock(&d.loc);
            l.name = name.to_vec();
            l.parent = Some(dir.clone());
        };
        if let Some(d) = &moved {
            place(d, new_dir, new);
        }
        if exchange {
            if let Some(d) = &replaced {
                place(d, old_dir, old);
            }
        } else if let Some(d) = &replaced {
            if !d.inode.stat().is_ok_and(|s| s.nlink > 0) || d.is_dir() {
                d.dead.store(true, Ordering::Relaxed);
            }
        }
        // Cache the moved dentries under their new names when the directories cache.
        let ncache = match nc.as_mut() {
            Some(nc) => nc,
            None => &mut *oc,
        };
        if let Some(d) = moved {
            if new_dir.caches() {
                ncache.insert(new.to_vec(), Some(d));
            }
        }
        if exchange {
            if let Some(d) = replaced {
                if old_dir.caches() {
                    oc.insert(old.to_vec(), Some(d));
                }
            }
        } else if flags & libc::RENAME_WHITEOUT != 0 {
            // The old name now holds a whiteout: let the next lookup find it.
            oc.remove(old);
        } else if old_dir.caches() && !(same && old == new) {
            oc.insert(old.to_vec(), None);
        }
        drop(oc);
        drop(nc);
        if let Some((Some(src), dst)) = watched {
            let cookie = inotify::cookie();
            let dir = src.is_dir();
            inotify::dir_event(old_dir, inotify::IN_MOVED_FROM, old, dir, cookie);
            inotify::dir_event(new_dir, inotify::IN_MOVED_TO, new, dir, cookie);
            inotify::moved(&src);
            if let (Some(d), false) = (dst, exchange) {
                inotify::unlinked(&d);
            }
        }
        Ok(())
    }

    /// The parent for "..": crosses mount points upward; the root is its own parent.
    fn dotdot(self: &Arc<Self>, root: &Arc<Dentry>) -> Arc<Dentry> {
        let mut d = self.clone();
        loop {
            if Arc::ptr_eq(&d, root) {
                return d;
            }
            match (d.parent(), &d.covers) {
                (Some(p), _) => return p.follow_mounts(),
                (None, Some(c)) => d = c.clone(),
                (None, None) => return d,
            }
        }
    }

    /// Whether this dentry is `root` or below it, across mount points.
    pub fn is_below(self: &Arc<Self>, root: &Arc<Dentry>) -> bool {
        let mut cur = self.clone();
        for _ in 0..4096 {
            if Arc::ptr_eq(&cur, root) {
                return true;
            }
            cur = match (cur.parent(), cur.covers.clone()) {
                (Some(p), _) => p,
                (None, Some(c)) => c,
                (None, None) => return false,
            };
        }
        false
    }

    /// Absolute path of this dentry as seen from `root`, with " (deleted)" after a removed
    /// name as Linux's d_path writes it.
    pub fn path(self: &Arc<Self>, root: &Arc<Dentry>) -> Vec<u8> {
        let mut p = self.path_of(root);
        if self.is_dead() {
            p.extend_from_slice(b" (deleted)");
        }
        p
    }

    fn path_of(self: &Arc<Self>, root: &Arc<Dentry>) -> Vec<u8> {
        let mut parts: Vec<Vec<u8>> = Vec::new();
        let mut d = self.clone();
        loop {
            if Arc::ptr_eq(&d, root) {
                break;
            }
            let (name, parent) = {
                let l = lock(&d.loc);
                (l.name.clone(), l.parent.clone())
            };
            match (parent, &d.covers) {
                (Some(p), _) => {
                    parts.push(name);
                    d = p;
                }
                (None, Some(c)) => d = c.clone(),
                (None, None) => break,
            }
        }
        if parts.is_empty() {
            return b"/".to_vec();
        }
        let mut out = Vec::new();
        for p in parts.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(p);
        }
        out
    }
}

/// A device number as the kernel keeps it internally (major << 20 | minor), which fdinfo
/// files print, from the st_dev encoding.
pub fn kernel_dev(dev: u64) -> u64 {
    (u64::from(libc::major(dev)) << 20) | u64::from(libc::minor(dev))
}

/// A change of a regular file's contents (a write of something, truncate, O_TRUNC,
/// fallocate) by a caller without CAP_FSETID drops the privilege the file carries: S_ISUID,
/// and S_ISGID when the group may execute (S_ISGID alone marks mandatory locking and stays).
pub fn kill_suid(d: &Dentry, creds: &Creds) -> Result<(), Errno> {
    if creds.has_cap(caps::Capability::CAP_FSETID) {
        return Ok(());
    }
    let st = d.inode.stat()?;
    if st.mode & libc::S_IFMT != libc::S_IFREG {
        return Ok(());
    }
    let mut kill = st.mode & libc::S_ISUID;
    if st.mode & (libc::S_ISGID | libc::S_IXGRP) == libc::S_ISGID | libc::S_IXGRP {
        kill |= libc::S_ISGID;
    }
    if kill == 0 {
        return Ok(());
    }
    d.inode.setattr(&SetAttr {
        mode: Some(st.mode & 0o7777 & !kill),
        ..Default::default()
    })
}

fn next_creds_serial() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Credentials used for permission checks.
#[derive(Debug, Clone, Copy)]
pub struct Creds {
    pub uid: u32,
    pub gid: u32,
    pub euid: u32,
    pub egid: u32,
    pub suid: u32,
    pub sgid: u32,
    pub fsuid: u32,
    pub fsgid: u32,
    /// Capability sets (bit N = capability N).
    pub cap_effective: u64,
    pub cap_permitted: u64,
    pub cap_inheritable: u64,
    /// The bounding set (PR_CAPBSET_READ/DROP): capabilities execve may grant.
    pub cap_bounding: u64,
    /// PR_SET_KEEPCAPS.
    pub keep_caps: bool,
    /// PR_SET_NO_NEW_PRIVS: once set, never cleared (inherited, kept across execve).
    pub no_new_privs: bool,
    /// Which credentials these are, as the address of Linux's `struct cred`: renewed when
    /// they change, on fork and on execve; threads share it until one changes its own.
    /// linkat(AT_EMPTY_PATH) lets the opener of a file link it only with these same ones.
    pub serial: u64,
}

/// Every capability Linux defines (CAP_LAST_CAP = 40).
pub const CAP_ALL: u64 = (1 << 41) - 1;

impl Creds {
    /// Credentials of a process started by user `uid`/`gid`: root gets every capability.
    pub fn new(uid: u32, gid: u32) -> Creds {
        let caps = if uid == 0 { CAP_ALL } else { 0 };
        Creds {
            uid,
            gid,
            euid: uid,
            egid: gid,
            suid: uid,
            sgid: gid,
            fsuid: uid,
            fsgid: gid,
            cap_effective: caps,
            cap_permitted: caps,
            cap_inheritable: 0,
            cap_bounding: CAP_ALL,
            keep_caps: false,
            no_new_privs: false,
            serial: next_creds_serial(),
        }
    }

    /// Make these a new set of credentials (see `serial`).
    pub fn renew(&mut self) {
        self.serial = next_creds_serial();
    }

    pub fn has_cap(&self, cap: caps::Capability) -> bool {
        self.cap_effective & (1u64 << cap.index()) != 0
    }
}

thread_local! {
    /// The supplementary groups of the task this host thread runs (each task has its own
    /// thread): permission checks deep in path walks read them here.
    static GROUPS: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Record the calling task's supplementary groups (at its start and on setgroups).
pub fn set_groups(groups: &[u32]) {
    GROUPS.with(|g| {
        let mut g = g.borrow_mut();
        g.clear();
        g.extend_from_slice(groups);
    });
}

fn in_groups(gid: u32) -> bool {
    GROUPS.with(|g| g.borrow().contains(&gid))
}

/// May `creds` access a file with `stat` for `mask` (R_OK=4, W_OK=2, X_OK=1)? File access
/// uses the fs ids and capabilities; `use_real` (access(2) without AT_EACCESS) the real
/// ids, with root's powers when the real uid is 0.
pub fn may_access(st: &Stat, creds: &Creds, mask: u32, use_real: bool) -> Result<(), Errno> {
    let (uid, gid) = if use_real {
        (creds.uid, creds.gid)
    } else {
        (creds.fsuid, creds.fsgid)
    };
    let bits = if st.uid == uid {
        (st.mode >> 6) & 7
    } else if st.gid == gid || in_groups(st.gid) {
        (st.mode >> 3) & 7
    } else {
        st.mode & 7
    };
    if bits & mask == mask {
        return Ok(());
    }
    let is_dir = st.file_type() == libc::S_IFDIR;
    let (override_, read_search) = if use_real {
        (uid == 0, uid == 0)
    } else {
        (
            creds.has_cap(caps::Capability::CAP_DAC_OVERRIDE),
            creds.has_cap(caps::Capability::CAP_DAC_READ_SEARCH),
        )
    };
    // CAP_DAC_OVERRIDE: everything but executing a file no one may execute.
    if override_ && (mask & 1 == 0 || is_dir || st.mode & 0o111 != 0) {
        return Ok(());
    }
    // CAP_DAC_READ_SEARCH: reading files, reading and searching directories.
    if read_search && mask & 2 == 0 && (is_dir || mask & 1 == 0) {
        return Ok(());
    }
    Err(Errno::EACCES)
}

/// Per-process file system context: root, working directory, umask.
#[derive(Clone)]
pub struct FsContext {
    pub root: Arc<Dentry>,
    pub cwd: Arc<Dentry>,
    pub umask: u32,
}

/// Restrictions on a path walk (openat2's RESOLVE_* flags).
#[derive(Debug, Default, Clone, Copy)]
pub struct Resolve {
    /// No symlink is followed (ELOOP).
    pub no_symlinks: bool,
    /// No magic link (/proc/<pid>/fd/N and such) is followed (ELOOP).
    pub no_magiclinks: bool,
    /// Stay below the starting directory: absolute paths, absolute symlinks and ".." above
    /// it are EXDEV.
    pub beneath: bool,
    /// The starting directory is the root: absolute paths and ".." stay inside it.
    pub in_root: bool,
    /// Never cross a mount point (EXDEV).
    pub no_xdev: bool,
}

/// The root dentry of the file system (mount) holding `d`.
fn mount_root(d: &Arc<Dentry>) -> Arc<Dentry> {
    let mut cur = d.clone();
    while let Some(p) = cur.parent() {
        cur = p;
    }
    cur
}

fn same_mount(a: &Arc<Dentry>, b: &Arc<Dentry>) -> bool {
    Arc::ptr_eq(&mount_root(a), &mount_root(b))
}

/// Resolve `path` from `start` (used for relative paths). `follow_last`: follow a symlink in the
/// last component.
pub fn resolve(
    fs: &FsContext,
    creds: &Creds,
    start: &Arc<Dentry>,
    path: &[u8],
    follow_last: bool,
) -> Result<Arc<Dentry>, Errno> {
    resolve_with(fs, creds, start, path, follow_last, Resolve::default())
}

/// `resolve` under the restrictions `how`.
pub fn resolve_with(
    fs: &FsContext,
    creds: &Creds,
    start: &Arc<Dentry>,
    path: &[u8],
    follow_last: bool,
    how: Resolve,
) -> Result<Arc<Dentry>, Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let root = if how.in_root {
        start.clone()
    } else {
        fs.root.clone()
    };
    let mut cur = if path[0] == b'/' {
        if how.beneath {
            return Err(Errno::EXDEV);
        }
        root.clone()
    } else {
        start.clone()
    };
    if how.no_xdev && !same_mount(&cur, start) {
        return Err(Errno::EXDEV);
    }
    // Pending components, in reverse order (pop from the end).
    let mut comps: Vec<Vec<u8>> = split(path);
    comps.reverse();
    let mut must_be_dir = path.ends_with(b"/");
    let mut links = 0;
    while let Some(c) = comps.pop() {
        if !cur.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        may_access(&cur.inode.stat()?, creds, 1, false)?;
        if c.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if c == b"." {
            continue;
        }
        if c == b".." {
            if how.beneath && Arc::ptr_eq(&cur, start) {
                return Err(Errno::EXDEV);
            }
            let up = cur.dotdot(&root);
            if how.no_xdev && !same_mount(&up, &cur) {
                return Err(Errno::EXDEV);
            }
            cur = up;
            continue;
        }
        let next = cur.lookup(&c)?;
        if how.no_xdev && !same_mount(&next, &cur) {
            return Err(Errno::EXDEV);
        }
        let last = comps.is_empty();
        if next.file_type() == libc::S_IFLNK && (!last || follow_last || must_be_dir) {
            if how.no_symlinks {
                return Err(Errno::ELOOP);
            }
            if next.inode.is_magic_link() {
                if how.no_magiclinks {
                    return Err(Errno::ELOOP);
                }
                if how.beneath || how.in_root {
                    return Err(Errno::EXDEV);
                }
            }
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(Errno::ELOOP);
            }
            if let Some(to) = next.inode.jump() {
                cur = to?;
                continue;
            }
            let target = next.inode.readlink()?;
            if target.is_empty() {
                return Err(Errno::ENOENT);
            }
            if target[0] == b'/' {
                if how.beneath {
                    return Err(Errno::EXDEV);
                }
                cur = root.clone();
            }
            if last && target.ends_with(b"/") {
                must_be_dir = true;
            }
            let mut t = split(&target);
            t.reverse();
            comps.extend(t);
            continue;
        }
        cur = next;
    }
    if must_be_dir && !cur.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(cur)
}

/// Resolve all but the last component; returns the parent directory and the last name
/// (ENOENT-free: the last component need not exist). "." and ".." come back as names.
pub fn resolve_parent(
    fs: &FsContext,
    creds: &Creds,
    start: &Arc<Dentry>,
    path: &[u8],
) -> Result<(Arc<Dentry>, Vec<u8>), Errno> {
    resolve_parent_with(fs, creds, start, path, Resolve::default())
}

/// `resolve_parent` under the restrictions `how`.
pub fn resolve_parent_with(
    fs: &FsContext,
    creds: &Creds,
    start: &Arc<Dentry>,
    path: &[u8],
    how: Resolve,
) -> Result<(Arc<Dentry>, Vec<u8>), Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let trimmed: &[u8] = {
        let mut p = path;
        while p.len() > 1 && p.ends_with(b"/") {
            p = &p[..p.len() - 1];
        }
        p
    };
    if trimmed.first() == Some(&b'/') && how.beneath {
        return Err(Errno::EXDEV);
    }
    let root = if how.in_root { start } else { &fs.root };
    match trimmed.iter().rposition(|&b| b == b'/') {
        None => Ok((start.clone(), trimmed.to_vec())),
        Some(0) => Ok((root.clone(), trimmed[1..].to_vec())),
        Some(i) => {
            let dir = resolve_with(fs, creds, start, &trimmed[..i], true, how)?;
            if !dir.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            Ok((dir, trimmed[i + 1..].to_vec()))
        }
    }
}

fn split(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| c.to_vec())
        .collect()
}

/// Convert attributes to the `struct stat` the ABI uses.
pub fn to_stat(s: &Stat) -> libc::stat {
    let mut st: libc::stat = crate::mm::Pod::zeroed();
    st.st_dev = s.dev;
    st.st_ino = s.ino;
    st.st_nlink = s.nlink;
    st.st_mode = s.mode;
    st.st_uid = s.uid;
    st.st_gid = s.gid;
    st.st_rdev = s.rdev;
    st.st_size = s.size as i64;
    st.st_blksize = s.blksize as i64;
    st.st_blocks = s.blocks as i64;
    st.st_atime = s.atime.0;
    st.st_atime_nsec = s.atime.1;
    st.st_mtime = s.mtime.0;
    st.st_mtime_nsec = s.mtime.1;
    st.st_ctime = s.ctime.0;
    st.st_ctime_nsec = s.ctime.1;
    st
}
