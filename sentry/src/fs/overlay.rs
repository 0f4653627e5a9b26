//! The overlay root: the gofer's tree as a read-only lower layer under an upper layer in sandbox
//! memory (a tmpfs), as runsc's default `--overlay2=root:memory`.
//!
//! - A file is served from the upper layer once it exists there, else from the lower one.
//!   Opening a lower file for writing, or changing its attributes, first *copies it up*
//!   (its parent directories first), keeping its mode, owner and times.
//! - Removing a name that exists in the lower layer leaves a *whiteout* in the upper one: a
//!   character device 0/0, as Linux's overlayfs writes it.
//! - A directory merges its upper and lower entries. A directory made where a whiteout stood
//!   is *opaque* (hides the lower one); a renamed directory keeps merging with the lower
//!   directory it came from. The upper layer is private to the sandbox, so both facts are kept
//!   in a table by upper inode rather than in xattrs.
//! - Identity: a file keeps the device and inode number of its lower origin after copy-up, so
//!   `st_ino` does not change under a program's feet; files that exist only in the upper layer
//!   get the lower root's device and inode numbers from a range host file systems do not use.
//!
//! Each (directory, name) has one `OverlayInode` while anything holds it (a table of weak
//! references per directory), so a copy-up is seen by every path and open file that names it.
//! Descriptors opened read-only before a copy-up keep reading the lower file, as with Linux's
//! overlayfs before 4.19.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::errno::Errno;
use crate::mm::pod::StatFs;
use crate::mm::{Mappable, MemoryManager};
use crate::vfs::{Creds, DirEntry, FileOps, Inode, SetAttr, Stat};

const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;

/// Inode numbers of upper-only files: above anything a host file system hands out.
const UPPER_INO: u64 = 1 << 62;

/// Bytes copied at a time when a file is copied up.
const COPY_CHUNK: usize = 1 << 20;

/// What the overlay knows of an upper inode.
#[derive(Clone, Default)]
struct Meta {
    /// (dev, ino) of the lower file it was copied up from.
    origin: Option<(u64, u64)>,
    /// For directories: exactly which lower directory merges with it (None inside: opaque),
    /// instead of the one at the same path.
    redirect: Option<Option<Arc<dyn Inode>>>,
    /// For merged directories: subdirectories added (+) or removed (-) relative to the lower
    /// directory, whose link count the merged one reports adjusted by this.
    subdirs: i64,
    /// Whether the lower layer has this file's name (its removal then needs a whiteout), when
    /// known: files made in the sandbox know it from what they replaced.
    in_lower: Option<bool>,
}

pub struct OverlayFs {
    /// Device of files that exist only in the upper layer (the lower root's).
    dev: u64,
    meta: Mutex<HashMap<u64, Meta>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl OverlayFs {
    /// The overlay's root directory over `lower` (read-only) and `upper` (an empty, writable
    /// directory that only the overlay uses).
    pub fn root(lower: Arc<dyn Inode>, upper: Arc<dyn Inode>) -> Result<Arc<OverlayInode>, Errno> {
        let ls = lower.stat()?;
        upper.setattr(&SetAttr {
            mode: Some(ls.mode & 0o7777),
            uid: Some(ls.uid),
            gid: Some(ls.gid),
            atime: Some(ls.atime),
            mtime: Some(ls.mtime),
            size: None,
        })?;
        let fs = Arc::new(OverlayFs {
            dev: ls.dev,
            meta: Mutex::new(HashMap::new()),
        });
        fs.set_meta(upper.stat()?.ino, |m| m.origin = Some((ls.dev, ls.ino)));
        Ok(OverlayInode::new(
            fs,
            libc::S_IFDIR,
            Some(lower),
            Some(upper),
            None,
        ))
    }

    fn meta(&self, upper_ino: u64) -> Meta {
        lock(&self.meta)
            .get(&upper_ino)
            .cloned()
            .unwrap_or_default()
    }

    fn set_meta(&self, upper_ino: u64, f: impl FnOnce(&mut Meta)) {
        f(lock(&self.meta).entry(upper_ino).or_default());
    }
}

fn is_whiteout(st: &Stat) -> bool {
    st.file_type() == libc::S_IFCHR && st.rdev == 0
}

/// Credentials that create an upper file owned by `uid`/`gid`.
fn owner(uid: u32, gid: u32) -> Creds {
    Creds::new(uid, gid)
}

pub struct OverlayInode {
    fs: Arc<OverlayFs>,
    me: Weak<OverlayInode>,
    ftype: u32,
    /// The lower file; for a directory, the lower directory that merges with it.
    lower: Option<Arc<dyn Inode>>,
    /// The upper file, once it exists. Held locked during a copy-up.
    upper: Mutex<Option<Arc<dyn Inode>>>,
    /// Where a copy-up puts this file: its directory and name (None for the root).
    parent: Mutex<Option<(Arc<OverlayInode>, Vec<u8>)>>,
    /// For directories: the children handed out, so each name has one node.
    children: Mutex<HashMap<Vec<u8>, Weak<OverlayInode>>>,
    /// The name was removed: a copy-up makes an unnamed upper file.
    removed: AtomicBool,
    /// Whether the lower layer has this name in the parent, when known without asking it
    /// (files made here know: they replaced a whiteout or nothing).
    in_lower: Mutex<Option<bool>>,
}

impl OverlayInode {
    fn new(
        fs: Arc<OverlayFs>,
        ftype: u32,
        lower: Option<Arc<dyn Inode>>,
        upper: Option<Arc<dyn Inode>>,
        parent: Option<(Arc<OverlayInode>, Vec<u8>)>,
    ) -> Arc<OverlayInode> {
        let known = lower.is_some().then_some(true);
        Arc::new_cyclic(|me| OverlayInode {
            fs,
            me: me.clone(),
            ftype,
            lower,
            upper: Mutex::new(upper),
            parent: Mutex::new(parent),
            children: Mutex::new(HashMap::new()),
            removed: AtomicBool::new(false),
            in_lower: Mutex::new(known),
        })
    }

    fn me(&self) -> Result<Arc<OverlayInode>, Errno> {
        self.me.upgrade().ok_or(Errno::ENOENT)
    }

    fn upper(&self) -> Option<Arc<dyn Inode>> {
        lock(&self.upper).clone()
    }

    fn is_dir(&self) -> bool {
        self.ftype == libc::S_IFDIR
    }

    /// The layer that answers for this file now.
    fn top(&self) -> Result<Arc<dyn Inode>, Errno> {
        self.upper()
            .or_else(|| self.lower.clone())
            .ok_or(Errno::ENOENT)
    }

    /// The node for entry `name` of this directory.
    fn child(&self, name: &[u8]) -> Result<Arc<OverlayInode>, Errno> {
        if !self.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let mut children = lock(&self.children);
        if let Some(c) = children.get(name).and_then(Weak::upgrade) {
            return Ok(c);
        }
        let node = self.find(name)?;
        // Forget names whose nodes are gone, now and then.
        if children.len() >= 64 && children.len().is_power_of_two() {
            children.retain(|_, w| w.strong_count() > 0);
        }
        children.insert(name.to_vec(), Arc::downgrade(&node));
        Ok(node)
    }

    /// Look `name` up in the layers.
    fn find(&self, name: &[u8]) -> Result<Arc<OverlayInode>, Errno> {
        let parent = Some((self.me()?, name.to_vec()));
        if let Some(u) = self.upper() {
            match u.lookup(name) {
                Ok(c) => {
                    let st = c.stat()?;
                    if is_whiteout(&st) {
                        return Err(Errno::ENOENT);
                    }
                    let ftype = st.file_type();
                    let meta = self.fs.meta(st.ino);
                    let lower = if ftype == libc::S_IFDIR {
                        match meta.redirect {
                            Some(r) => r,
                            None => self.lower_dir(name),
                        }
                    } else {
                        None
                    };
                    let node = OverlayInode::new(self.fs.clone(), ftype, lower, Some(c), parent);
                    if meta.in_lower.is_some() {
                        *lock(&node.in_lower) = meta.in_lower;
                    }
                    return Ok(node);
                }
                Err(Errno::ENOENT) => {}
                Err(e) => return Err(e),
            }
        }
        let l = self.lower.as_ref().ok_or(Errno::ENOENT)?.lookup(name)?;
        let ftype = l.stat()?.file_type();
        Ok(OverlayInode::new(
            self.fs.clone(),
            ftype,
            Some(l),
            None,
            parent,
        ))
    }

    /// The lower directory `name` of this directory's lower one, if there is one.
    fn lower_dir(&self, name: &[u8]) -> Option<Arc<dyn Inode>> {
        let l = self.lower.as_ref()?.lookup(name).ok()?;
        (l.stat().ok()?.file_type() == libc::S_IFDIR).then_some(l)
    }

    /// Whether the lower layer has `name` in this directory (so removing it needs a whiteout):
    /// what `child` knows, else the lower layer's answer.
    fn lower_has(&self, name: &[u8], child: &OverlayInode) -> bool {
        if let Some(known) = *lock(&child.in_lower) {
            return known;
        }
        self.lower.as_ref().is_some_and(|l| l.lookup(name).is_ok())
    }

    /// A file just made at `name` replaced a whiteout (the lower layer has the name) or
    /// nothing (it has not, or this directory hides it).
    fn made(&self, name: &[u8], had_whiteout: bool) -> Result<Arc<OverlayInode>, Errno> {
        let c = self.child(name)?;
        c.know_in_lower(Some(had_whiteout))?;
        Ok(c)
    }

    /// Record whether the lower layer has this file's name (kept with its upper inode).
    fn know_in_lower(&self, v: Option<bool>) -> Result<(), Errno> {
        *lock(&self.in_lower) = v;
        if let Some(u) = self.upper() {
            self.fs.set_meta(u.stat()?.ino, |m| m.in_lower = v);
        }
        Ok(())
    }

    /// Make sure this file exists in the upper layer, and return it there.
    fn copy_up(&self) -> Result<Arc<dyn Inode>, Errno> {
        self.copy_up_with(true)
    }

    /// Copy up; `data`: copy a regular file's contents (not when it is about to be emptied).
    fn copy_up_with(&self, data: bool) -> Result<Arc<dyn Inode>, Errno> {
        let mut upper = lock(&self.upper);
        if let Some(u) = upper.as_ref() {
            return Ok(u.clone());
        }
        let lower = self.lower.clone().ok_or(Errno::EIO)?;
        let st = lower.stat()?;
        let (dir, name) = lock(&self.parent).clone().ok_or(Errno::EIO)?;
        let up_dir = dir.copy_up()?;
        let creds = owner(st.uid, st.gid);
        let removed = self.removed.load(Ordering::Relaxed);
        if removed && self.is_dir() {
            return Err(Errno::ENOENT);
        }
        // A removed file gets a name only for the time it takes to create it.
        let name = if removed {
            let mut n = b".palisade-orphan-".to_vec();
            n.extend_from_slice(st.ino.to_string().as_bytes());
            n
        } else {
            name
        };
        let perm = st.mode & 0o7777;
        let node = match st.file_type() {
            libc::S_IFDIR => {
                up_dir.mkdir(&name, perm, &creds)?;
                up_dir.lookup(&name)?
            }
            libc::S_IFLNK => {
                up_dir.symlink(&name, &lower.readlink()?, &creds)?;
                up_dir.lookup(&name)?
            }
            libc::S_IFREG => {
                let node = up_dir.create(&name, libc::S_IFREG | perm, &creds)?;
                if data && st.size > 0 {
                    if let Err(e) = copy_data(&lower, &node, st.size) {
                        let _ = up_dir.unlink(&name);
                        return Err(e);
                    }
                }
                node
            }
            t @ (libc::S_IFCHR | libc::S_IFBLK) => {
                up_dir.mknod(&name, t | perm, st.rdev, &creds)?
            }
            t => up_dir.create(&name, t | perm, &creds)?,
        };
        if removed {
            up_dir.unlink(&name)?;
        }
        node.setattr(&SetAttr {
            mode: (st.file_type() != libc::S_IFLNK).then_some(perm),
            uid: Some(st.uid),
            gid: Some(st.gid),
            size: None,
            atime: Some(st.atime),
            mtime: Some(st.mtime),
        })?;
        // Extended attributes come along where the lower layer reports them.
        for name in lower.listxattr().unwrap_or_default() {
            if let Ok(v) = lower.getxattr(&name) {
                let _ = node.setxattr(&name, &v, 0);
            }
        }
        let ino = node.stat()?.ino;
        self.fs.set_meta(ino, |m| m.origin = Some((st.dev, st.ino)));
        *upper = Some(node.clone());
        Ok(node)
    }

    /// Take a whiteout at `name` out of upper directory `up`; whether there was one.
    fn clear_whiteout(up: &Arc<dyn Inode>, name: &[u8]) -> Result<bool, Errno> {
        match up.lookup(name) {
            Ok(c) if is_whiteout(&c.stat()?) => {
                up.unlink(name)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn whiteout(up: &Arc<dyn Inode>, name: &[u8]) -> Result<(), Errno> {
        up.create(name, libc::S_IFCHR, &owner(0, 0)).map(|_| ())
    }

    /// Empty an upper directory of its whiteouts (the merged directory is empty).
    fn clear_dir(up: &Arc<dyn Inode>) -> Result<(), Errno> {
        for e in up.readdir()? {
            up.unlink(&e.name)?;
        }
        Ok(())
    }

    /// Prepare upper directory `up` for a new entry `name`: a whiteout there makes way, and
    /// a directory made in its place must be opaque.
    fn make_way(&self, name: &[u8]) -> Result<(Arc<dyn Inode>, bool), Errno> {
        let up = self.copy_up()?;
        let had = Self::clear_whiteout(&up, name)?;
        lock(&self.children).remove(name);
        Ok((up, had))
    }

    fn forget(&self, name: &[u8]) -> Option<Arc<OverlayInode>> {
        lock(&self.children).remove(name).and_then(|w| w.upgrade())
    }

    /// Count a subdirectory added to (+1) or removed from (-1) this directory.
    fn count_subdir(&self, up: &Arc<dyn Inode>, n: i64) -> Result<(), Errno> {
        self.fs.set_meta(up.stat()?.ino, |m| m.subdirs += n);
        Ok(())
    }

    fn identity(&self) -> Result<(u64, u64), Errno> {
        let s = self.stat()?;
        Ok((s.dev, s.ino))
    }
}

/// Copy `size` bytes of `from` into the new file `to`.
fn copy_data(from: &Arc<dyn Inode>, to: &Arc<dyn Inode>, size: u64) -> Result<(), Errno> {
    let src = from.open(libc::O_RDONLY as u32)?;
    let dst = to.open(libc::O_WRONLY as u32)?;
    let mut buf = vec![0u8; COPY_CHUNK.min(size as usize)];
    let mut off = 0u64;
    while off < size {
        let n = src.read(&mut buf, off)?;
        if n == 0 {
            break;
        }
        let mut done = 0;
        while done < n {
            done += dst.write(&buf[done..n], off + done as u64)?;
        }
        off += n as u64;
    }
    Ok(())
}

impl Inode for OverlayInode {
    fn stat(&self) -> Result<Stat, Errno> {
        match self.upper() {
            Some(u) => {
                let mut s = u.stat()?;
                let meta = self.fs.meta(s.ino);
                if let (true, Some(l)) = (self.is_dir(), &self.lower) {
                    // A merged directory: the lower one's size, and its link count with the
                    // subdirectories made and removed since.
                    let ls = l.stat()?;
                    s.nlink = (ls.nlink as i64 + meta.subdirs).max(2) as u64;
                    s.size = ls.size;
                    s.blocks = ls.blocks;
                }
                match meta.origin {
                    Some((dev, ino)) => {
                        s.dev = dev;
                        s.ino = ino;
                    }
                    None => {
                        s.dev = self.fs.dev;
                        s.ino |= UPPER_INO;
                    }
                }
                Ok(s)
            }
            None => self.lower.as_ref().ok_or(Errno::ENOENT)?.stat(),
        }
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        Ok(self.child(name)?)
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        self.top()?.readlink()
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let acc = flags & libc::O_ACCMODE as u32;
        let trunc = flags & libc::O_TRUNC as u32 != 0;
        if self.ftype == libc::S_IFREG && (acc != libc::O_RDONLY as u32 || trunc) {
            self.copy_up_with(!trunc)?;
        }
        if self.is_dir() {
            return Ok(super::synth::dir_file(self.stat()?));
        }
        match self.upper() {
            Some(u) => Ok(Arc::new(OverlayFile {
                inner: u.open(flags)?,
                node: self.me()?,
            })),
            None => self.lower.as_ref().ok_or(Errno::ENOENT)?.open(flags),
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        if !self.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let mut upper = match self.upper() {
            Some(u) => {
                let mut entries = u.readdir()?;
                // Whiteouts (character devices 0/0) hide names and are not listed.
                let mut hidden = Vec::new();
                entries.retain(|e| {
                    let wh = e.kind == libc::DT_CHR
                        && u.lookup(&e.name)
                            .and_then(|c| c.stat())
                            .is_ok_and(|s| is_whiteout(&s));
                    if wh {
                        hidden.push(e.name.clone());
                    }
                    !wh
                });
                let meta = lock(&self.fs.meta);
                for e in &mut entries {
                    e.ino = match meta.get(&e.ino).and_then(|m| m.origin) {
                        Some((_, ino)) => ino,
                        None => e.ino | UPPER_INO,
                    };
                }
                drop(meta);
                (entries, hidden)
            }
            None => (Vec::new(), Vec::new()),
        };
        let Some(l) = &self.lower else {
            return Ok(upper.0);
        };
        let lower = l.readdir()?;
        if upper.0.is_empty() && upper.1.is_empty() {
            return Ok(lower);
        }
        // Names in the upper layer (listed or whited out) hide the lower ones.
        let mut names: Vec<&[u8]> = upper.0.iter().map(|e| e.name.as_slice()).collect();
        names.extend(upper.1.iter().map(|n| n.as_slice()));
        names.sort_unstable();
        let shown: Vec<DirEntry> = lower
            .into_iter()
            .filter(|e| names.binary_search(&e.name.as_slice()).is_err())
            .collect();
        upper.0.extend(shown);
        Ok(upper.0)
    }

    fn statfs(&self) -> Result<StatFs, Errno> {
        let lower = self
            .lower
            .clone()
            .or_else(|| self.upper())
            .ok_or(Errno::ENOENT)?;
        let mut s = lower.statfs()?;
        s.f_type = OVERLAYFS_SUPER_MAGIC;
        s.f_flags &= !(libc::ST_RDONLY as i64);
        Ok(s)
    }

    fn create(&self, name: &[u8], mode: u32, creds: &Creds) -> Result<Arc<dyn Inode>, Errno> {
        let (up, had_whiteout) = self.make_way(name)?;
        up.create(name, mode, creds)?;
        Ok(self.made(name, had_whiteout)?)
    }

    fn mknod(
        &self,
        name: &[u8],
        mode: u32,
        rdev: u64,
        creds: &Creds,
    ) -> Result<Arc<dyn Inode>, Errno> {
        // Device 0/0 is how this overlay marks a whiteout: Linux refuses it too (EPERM for
        // an unprivileged whiteout, and it would hide the name here).
        if rdev == 0 && mode & libc::S_IFMT == libc::S_IFCHR {
            return Err(Errno::EPERM);
        }
        let (up, had_whiteout) = self.make_way(name)?;
        up.mknod(name, mode, rdev, creds)?;
        Ok(self.made(name, had_whiteout)?)
    }

    fn mkdir(&self, name: &[u8], mode: u32, creds: &Creds) -> Result<(), Errno> {
        let (up, had_whiteout) = self.make_way(name)?;
        up.mkdir(name, mode, creds)?;
        self.count_subdir(&up, 1)?;
        if had_whiteout {
            let ino = up.lookup(name)?.stat()?.ino;
            self.fs.set_meta(ino, |m| m.redirect = Some(None));
        }
        self.made(name, had_whiteout).map(|_| ())
    }

    fn symlink(&self, name: &[u8], target: &[u8], creds: &Creds) -> Result<(), Errno> {
        let (up, had_whiteout) = self.make_way(name)?;
        up.symlink(name, target, creds)?;
        self.made(name, had_whiteout).map(|_| ())
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        let t = crate::vfs::same_kind::<OverlayInode>(target)?;
        if !Arc::ptr_eq(&t.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        let t_up = t.copy_up()?;
        let (up, had_whiteout) = self.make_way(name)?;
        up.link(name, &t_up)?;
        self.made(name, had_whiteout).map(|_| ())
    }

    fn unlink(&self, name: &[u8]) -> Result<(), Errno> {
        let child = self.child(name)?;
        if child.is_dir() {
            return Err(Errno::EISDIR);
        }
        let up = self.copy_up()?;
        let in_lower = self.lower_has(name, &child);
        if child.upper().is_some() {
            up.unlink(name)?;
        }
        if in_lower {
            Self::whiteout(&up, name)?;
        }
        child.removed.store(true, Ordering::Relaxed);
        self.forget(name);
        Ok(())
    }

    fn rmdir(&self, name: &[u8]) -> Result<(), Errno> {
        let child = self.child(name)?;
        if !child.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if !child.readdir()?.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        let up = self.copy_up()?;
        let in_lower = self.lower_has(name, &child);
        if let Some(cu) = child.upper() {
            Self::clear_dir(&cu)?;
            up.rmdir(name)?;
        }
        self.count_subdir(&up, -1)?;
        if in_lower {
            Self::whiteout(&up, name)?;
        }
        child.removed.store(true, Ordering::Relaxed);
        self.forget(name);
        Ok(())
    }

    fn rename(
        &self,
        name: &[u8],
        to: &Arc<dyn Inode>,
        new_name: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        let dst = crate::vfs::same_kind::<OverlayInode>(to)?;
        if !Arc::ptr_eq(&dst.fs, &self.fs) {
            return Err(Errno::EXDEV);
        }
        // As Linux's overlayfs: no RENAME_WHITEOUT on the overlay itself.
        if flags & !(libc::RENAME_EXCHANGE | libc::RENAME_NOREPLACE) != 0 {
            return Err(Errno::EINVAL);
        }
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        let src = self.child(name)?;
        let existing = match dst.child(new_name) {
            Ok(e) => Some(e),
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(e),
        };
        if flags & libc::RENAME_NOREPLACE != 0 && existing.is_some() {
            return Err(Errno::EEXIST);
        }
        if exchange && existing.is_none() {
            return Err(Errno::ENOENT);
        }
        if let Some(e) = &existing {
            if Arc::ptr_eq(e, &src) || e.identity()? == src.identity()? {
                return Ok(()); // the same file: nothing to do
            }
            if !exchange {
                match (src.is_dir(), e.is_dir()) {
                    (true, false) => return Err(Errno::ENOTDIR),
                    (false, true) => return Err(Errno::EISDIR),
                    (true, true) if !e.readdir()?.is_empty() => return Err(Errno::ENOTEMPTY),
                    _ => {}
                }
            }
        }
        let sup = self.copy_up()?;
        let dup = dst.copy_up()?;
        let src_up = src.copy_up()?;
        let src_in_lower = self.lower_has(name, &src);
        // Directories keep merging with the lower directory they came from.
        if src.is_dir() {
            let lower = src.lower.clone();
            self.fs
                .set_meta(src_up.stat()?.ino, |m| m.redirect = Some(lower));
        }
        match &existing {
            Some(e) if exchange => {
                let e_up = e.copy_up()?;
                if e.is_dir() {
                    let lower = e.lower.clone();
                    self.fs
                        .set_meta(e_up.stat()?.ino, |m| m.redirect = Some(lower));
                }
            }
            Some(e) => {
                if let Some(eu) = e.upper() {
                    if e.is_dir() {
                        Self::clear_dir(&eu)?;
                    }
                }
            }
            None => {
                Self::clear_whiteout(&dup, new_name)?;
            }
        }
        // A lower-only entry being replaced needs nothing: the upper name hides it.
        sup.rename(name, &dup, new_name, flags)?;
        let e_dir = existing.as_ref().is_some_and(|e| e.is_dir());
        if src.is_dir() {
            self.count_subdir(&sup, -1)?;
            dst.count_subdir(&dup, 1)?;
        }
        if e_dir {
            dst.count_subdir(&dup, -1)?;
            if exchange {
                self.count_subdir(&sup, 1)?;
            }
        }
        if !exchange && src_in_lower {
            Self::whiteout(&sup, name)?;
        }
        // Move the nodes in the name tables.
        self.forget(name);
        dst.forget(new_name);
        *lock(&src.parent) = Some((dst.me()?, new_name.to_vec()));
        // Whether the lower layer has the new name: it had if it showed the replaced file.
        let known = match &existing {
            Some(e) if !exchange => *lock(&e.in_lower),
            _ => None,
        };
        src.know_in_lower(known)?;
        lock(&dst.children).insert(new_name.to_vec(), Arc::downgrade(&src));
        if let Some(e) = existing {
            if exchange {
                *lock(&e.parent) = Some((self.me()?, name.to_vec()));
                lock(&self.children).insert(name.to_vec(), Arc::downgrade(&e));
            } else {
                e.removed.store(true, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    fn setattr(&self, a: &SetAttr) -> Result<(), Errno> {
        let up = self.copy_up_with(a.size != Some(0))?;
        up.setattr(a)
    }

    /// Only an upper file's atime moves (the lower layer is read-only, as overlayfs).
    fn accessed(&self) {
        if let Some(up) = self.upper() {
            up.accessed();
        }
    }

    fn getxattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        self.top()?.getxattr(name)
    }

    fn listxattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        self.top()?.listxattr()
    }

    fn setxattr(&self, name: &[u8], value: &[u8], flags: u32) -> Result<(), Errno> {
        self.copy_up()?.setxattr(name, value, flags)
    }

    fn removexattr(&self, name: &[u8]) -> Result<(), Errno> {
        self.copy_up()?.removexattr(name)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// An open upper file: I/O goes to the upper file, identity comes from the overlay.
struct OverlayFile {
    inner: Arc<dyn FileOps>,
    node: Arc<OverlayInode>,
}

impl FileOps for OverlayFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.inner.read(buf, off)
    }
    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.inner.write(buf, off)
    }
    fn seekable(&self) -> bool {
        self.inner.seekable()
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.node.stat()
    }
    fn ioctl(&self, mm: &MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
        self.inner.ioctl(mm, req, arg)
    }
    fn mappable(&self) -> Option<Arc<dyn Mappable>> {
        self.inner.mappable()
    }
    fn host_fd(&self) -> Option<i32> {
        self.inner.host_fd()
    }
    fn read_direct(
        &self,
        mm: &MemoryManager,
        addr: u64,
        len: usize,
        off: u64,
    ) -> Option<Result<usize, Errno>> {
        self.inner.read_direct(mm, addr, len, off)
    }
    fn write_direct(
        &self,
        mm: &MemoryManager,
        addr: u64,
        len: usize,
        off: u64,
    ) -> Option<Result<usize, Errno>> {
        self.inner.write_direct(mm, addr, len, off)
    }
    fn wait_queue(&self) -> Option<&crate::kernel::wait::WaitQueue> {
        self.inner.wait_queue()
    }
    fn readiness(&self) -> u32 {
        self.inner.readiness()
    }
    fn truncate(&self, size: u64) -> Result<(), Errno> {
        self.inner.truncate(size)
    }
    fn fallocate(&self, mode: u32, off: u64, len: u64) -> Result<(), Errno> {
        self.inner.fallocate(mode, off, len)
    }
    fn sync(&self, data_only: bool) -> Result<(), Errno> {
        self.inner.sync(data_only)
    }
    fn seek_hole_data(&self, off: u64, hole: bool) -> Option<Result<u64, Errno>> {
        self.inner.seek_hole_data(off, hole)
    }
}
