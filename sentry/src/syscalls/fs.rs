//! Path-based file system syscalls.

use std::sync::Arc;

use super::fd_arg;
use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::vfs::{self, Dentry, FileOps, OpenFile, Stat};

const AT_FDCWD: i32 = libc::AT_FDCWD;

/// The directory a relative path starts from: the cwd or `dirfd`.
fn start_dir(t: &Task, dirfd: i32, path: &[u8]) -> Result<Arc<Dentry>, Errno> {
    if path.first() == Some(&b'/') {
        return Ok(t.fs().cwd);
    }
    dir_start(t, dirfd)
}

/// Resolve `path` relative to `dirfd`. With `empty_ok`, an empty path names `dirfd` itself.
pub(super) fn lookup_at(
    t: &Task,
    dirfd: i32,
    path: &[u8],
    follow: bool,
    empty_ok: bool,
) -> Result<Arc<Dentry>, Errno> {
    if path.is_empty() {
        if !empty_ok {
            return Err(Errno::ENOENT);
        }
        if dirfd == AT_FDCWD {
            return Ok(t.fs().cwd);
        }
        return t.fds.get(dirfd)?.dentry.clone().ok_or(Errno::EBADF);
    }
    let start = start_dir(t, dirfd, path)?;
    vfs::resolve(&t.fs(), &t.creds, &start, path, follow)
}

fn stat_of(t: &Task, dirfd: i32, path: &[u8], flags: u64) -> Result<Stat, Errno> {
    Ok(stat_with_dentry(t, dirfd, path, flags)?.0)
}

/// The attributes the stat family reports, with the dentry they came from (none for an
/// open file that has no name).
fn stat_with_dentry(
    t: &Task,
    dirfd: i32,
    path: &[u8],
    flags: u64,
) -> Result<(Stat, Option<Arc<Dentry>>), Errno> {
    let allowed = (libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT) as u64;
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL);
    }
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let empty = flags & libc::AT_EMPTY_PATH as u64 != 0;
    if path.is_empty() && empty && dirfd != AT_FDCWD {
        let f = t.fds.get(dirfd)?;
        return Ok((f.stat()?, f.dentry.clone()));
    }
    let d = lookup_at(t, dirfd, path, follow, empty)?;
    Ok((d.inode.stat()?, Some(d)))
}

pub fn stat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let st = stat_of(t, AT_FDCWD, &path, 0)?;
    t.mm.copy_out(a[1], &vfs::to_stat(&st))?;
    Ok(0)
}

pub fn lstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let st = stat_of(t, AT_FDCWD, &path, libc::AT_SYMLINK_NOFOLLOW as u64)?;
    t.mm.copy_out(a[1], &vfs::to_stat(&st))?;
    Ok(0)
}

pub fn fstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let st = t.fds.get(fd_arg(a[0]))?.stat()?;
    t.mm.copy_out(a[1], &vfs::to_stat(&st))?;
    Ok(0)
}

pub fn newfstatat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[1])?;
    let st = stat_of(t, fd_arg(a[0]), &path, a[3])?;
    t.mm.copy_out(a[2], &vfs::to_stat(&st))?;
    Ok(0)
}

pub fn statx(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[2];
    let sync = libc::AT_STATX_SYNC_TYPE as u64;
    if a[3] & libc::STATX__RESERVED as u64 != 0 || flags & sync == sync {
        return Err(Errno::EINVAL);
    }
    // A NULL path with AT_EMPTY_PATH is the empty path (Linux 6.11).
    let path = if a[1] == 0 && flags & libc::AT_EMPTY_PATH as u64 != 0 {
        Vec::new()
    } else {
        t.path_arg(a[1])?
    };
    let (s, dentry) = stat_with_dentry(t, fd_arg(a[0]), &path, flags & !sync)?;
    let mut x: libc::statx = crate::mm::Pod::zeroed();
    let ts = |(sec, nsec): (i64, i64)| {
        let mut t: libc::statx_timestamp = crate::mm::Pod::zeroed();
        t.tv_sec = sec;
        t.tv_nsec = nsec as u32;
        t
    };
    x.stx_mask = libc::STATX_BASIC_STATS;
    // Asked for or not, the mount is told (as Linux since 5.8).
    if let Some(m) = dentry.as_ref().and_then(vfs::mount::mount_of) {
        x.stx_mask |= libc::STATX_MNT_ID;
        x.stx_mnt_id = u64::from(m.id);
    }
    if let (Some(b), true) = (s.btime, a[3] & libc::STATX_BTIME as u64 != 0) {
        x.stx_mask |= libc::STATX_BTIME;
        x.stx_btime = ts(b);
    }
    x.stx_blksize = s.blksize as u32;
    x.stx_nlink = s.nlink as u32;
    x.stx_uid = s.uid;
    x.stx_gid = s.gid;
    x.stx_mode = s.mode as u16;
    x.stx_ino = s.ino;
    x.stx_size = s.size;
    x.stx_blocks = s.blocks;
    x.stx_atime = ts(s.atime);
    x.stx_mtime = ts(s.mtime);
    x.stx_ctime = ts(s.ctime);
    x.stx_rdev_major = libc::major(s.rdev);
    x.stx_rdev_minor = libc::minor(s.rdev);
    x.stx_dev_major = libc::major(s.dev);
    x.stx_dev_minor = libc::minor(s.dev);
    t.mm.copy_out(a[4], &x)?;
    Ok(0)
}

fn do_access(t: &Task, dirfd: i32, path_addr: u64, mode: u64, flags: u64) -> SysResult {
    if mode & !7 != 0
        || flags & !((libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) as u64)
            != 0
    {
        return Err(Errno::EINVAL);
    }
    let path = t.path_arg(path_addr)?;
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let d = lookup_at(
        t,
        dirfd,
        &path,
        follow,
        flags & libc::AT_EMPTY_PATH as u64 != 0,
    )?;
    let ftype = d.file_type();
    // A regular file on a noexec mount is never executable.
    if mode & 1 != 0 && ftype == libc::S_IFREG && d.noexec() {
        return Err(Errno::EACCES);
    }
    vfs::may_access(
        &d.inode.stat()?,
        &t.creds,
        mode as u32,
        flags & libc::AT_EACCESS as u64 == 0,
    )?;
    // Writing to a special file does not write to the file system.
    let special = matches!(
        ftype,
        libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO | libc::S_IFSOCK
    );
    if mode & 2 != 0 && d.read_only() && !special {
        return Err(Errno::EROFS);
    }
    Ok(0)
}

pub fn access(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_access(t, AT_FDCWD, a[0], a[1], 0)
}

pub fn faccessat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_access(t, fd_arg(a[0]), a[1], a[2], 0)
}

pub fn faccessat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_access(t, fd_arg(a[0]), a[1], a[2], a[3])
}

fn do_readlink(t: &Task, dirfd: i32, path_addr: u64, buf: u64, size: u64) -> SysResult {
    let path = t.path_arg(path_addr)?;
    if (size as i64) <= 0 {
        return Err(Errno::EINVAL);
    }
    let d = lookup_at(t, dirfd, &path, false, true)?;
    if d.file_type() != libc::S_IFLNK {
        return Err(Errno::EINVAL);
    }
    let target = d.inode.readlink()?;
    let n = target.len().min(size as usize);
    t.mm.write_bytes(buf, &target[..n])?;
    Ok(n as u64)
}

pub fn readlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_readlink(t, AT_FDCWD, a[0], a[1], a[2])
}

pub fn readlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_readlink(t, fd_arg(a[0]), a[1], a[2], a[3])
}

/// An `O_PATH` descriptor: names a file, allows no I/O.
struct PathFile(Stat);

impl FileOps for PathFile {
    fn read(&self, _: &mut [u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn write(&self, _: &[u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0)
    }
}

fn do_open(t: &mut Task, dirfd: i32, path_addr: u64, flags: u64, mode: u64) -> SysResult {
    do_open_how(t, dirfd, path_addr, flags, mode, vfs::Resolve::default())
}

fn do_open_how(
    t: &mut Task,
    dirfd: i32,
    path_addr: u64,
    flags: u64,
    mode: u64,
    how: vfs::Resolve,
) -> SysResult {
    let path = t.path_arg(path_addr)?;
    let flags = flags as u32;
    let acc = flags & libc::O_ACCMODE as u32;
    let creat = flags & libc::O_CREAT as u32 != 0;
    let tmpfile = flags & libc::O_TMPFILE as u32 == libc::O_TMPFILE as u32;
    // O_CREAT with O_DIRECTORY (or O_TMPFILE, which includes it) is EINVAL since Linux 6.4.
    if creat && flags & libc::O_DIRECTORY as u32 != 0 {
        return Err(Errno::EINVAL);
    }
    let nofollow = flags & libc::O_NOFOLLOW as u32 != 0;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    // Scoped walks (RESOLVE_BENEATH, RESOLVE_IN_ROOT) start at dirfd even for absolute paths.
    let start = if how.beneath || how.in_root {
        dir_start(t, dirfd)?
    } else {
        start_dir(t, dirfd, &path)?
    };
    let d = if creat {
        match vfs::resolve_with(&t.fs(), &t.creds, &start, &path, !nofollow, how) {
            Ok(d) if flags & libc::O_EXCL as u32 != 0 => {
                let _ = d;
                return Err(Errno::EEXIST);
            }
            Ok(d) => d,
            Err(Errno::ENOENT) => {
                let (parent, name) = creat_target(t, &start, &path, flags, how)?;
                if path.ends_with(b"/") {
                    return Err(Errno::EISDIR);
                }
                if parent.read_only() {
                    return Err(Errno::EROFS);
                }
                may_change_dir(t, &parent)?;
                let perm = mode as u32 & 0o7777 & !umask(t);
                let d = parent.create(&name, libc::S_IFREG | perm, &t.creds)?;
                // A new file is opened with the access asked for, whatever its mode says.
                let ops = d.inode.open(flags)?;
                let file =
                    OpenFile::new(Some(d), ops, vfs::file::opened_flags(flags)).opened_by(&t.creds);
                let cloexec = flags & libc::O_CLOEXEC as u32 != 0;
                return Ok(t.fds.install(file, cloexec, 0, t.nofile())? as u64);
            }
            Err(e) => return Err(e),
        }
    } else {
        vfs::resolve_with(&t.fs(), &t.creds, &start, &path, !nofollow, how)?
    };
    if tmpfile {
        return open_tmpfile(t, d, flags, mode);
    }
    let ftype = d.file_type();
    if ftype == libc::S_IFLNK && flags & libc::O_PATH as u32 == 0 {
        return Err(Errno::ELOOP);
    }
    if flags & libc::O_DIRECTORY as u32 != 0 && ftype != libc::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    let cloexec = flags & libc::O_CLOEXEC as u32 != 0;
    let ops: Arc<dyn FileOps> = if flags & libc::O_PATH as u32 != 0 {
        Arc::new(PathFile(d.inode.stat()?))
    } else {
        // Access mode 3 asks for both permissions and grants neither read nor write.
        let write = acc != libc::O_RDONLY as u32;
        if ftype == libc::S_IFDIR && (write || creat) {
            return Err(Errno::EISDIR);
        }
        let st = d.inode.stat()?;
        let mut want = match acc as i32 {
            libc::O_RDONLY => 4,
            libc::O_WRONLY => 2,
            _ => 6,
        };
        let trunc = flags & libc::O_TRUNC as u32 != 0;
        if trunc {
            want |= 2; // truncating is writing, whatever the access mode
        }
        vfs::may_access(&st, &t.creds, want, false)?;
        // O_NOATIME: only for the owner (or CAP_FOWNER).
        if flags & libc::O_NOATIME as u32 != 0
            && st.uid != t.creds.fsuid
            && !t.creds.has_cap(caps::Capability::CAP_FOWNER)
        {
            return Err(Errno::EPERM);
        }
        if (ftype == libc::S_IFCHR || ftype == libc::S_IFBLK) && d.nodev() {
            return Err(Errno::EACCES);
        }
        if (write || flags & libc::O_TRUNC as u32 != 0)
            && d.read_only()
            && (ftype == libc::S_IFREG || ftype == libc::S_IFDIR)
        {
            return Err(Errno::EROFS);
        }
        if ftype == libc::S_IFIFO && !d.inode.reopens() {
            open_fifo(t, &d, flags)?
        } else {
            let ops = d.inode.open(flags)?;
            // Linux truncates a regular file even when opened read-only.
            if trunc && ftype == libc::S_IFREG {
                vfs::kill_suid(&d, &t.creds)?;
                ops.truncate(0)?;
            }
            ops
        }
    };
    let file = OpenFile::new(Some(d), ops, vfs::file::opened_flags(flags)).opened_by(&t.creds);
    let fd = t.fds.install(file, cloexec, 0, t.nofile())?;
    Ok(fd as u64)
}

/// Where O_CREAT makes a file that does not exist: the parent and last name of `path`, or,
/// when the last component is a dangling symlink, of its target (followed like Linux does,
/// unless O_EXCL or O_NOFOLLOW).
fn creat_target(
    t: &Task,
    start: &Arc<Dentry>,
    path: &[u8],
    flags: u32,
    how: vfs::Resolve,
) -> Result<(Arc<Dentry>, Vec<u8>), Errno> {
    let mut path = path.to_vec();
    let mut start = start.clone();
    for _ in 0..40 {
        let (parent, name) = vfs::resolve_parent_with(&t.fs(), &t.creds, &start, &path, how)?;
        let link = match parent.lookup(&name) {
            Ok(d) if d.file_type() == libc::S_IFLNK => d,
            Ok(_) => return Err(Errno::EEXIST),
            Err(Errno::ENOENT) => return Ok((parent, name)),
            Err(e) => return Err(e),
        };
        if flags & libc::O_EXCL as u32 != 0 {
            return Err(Errno::EEXIST);
        }
        if flags & libc::O_NOFOLLOW as u32 != 0 || how.no_symlinks {
            return Err(Errno::ELOOP);
        }
        path = link.inode.readlink()?;
        if path.first() == Some(&b'/') && how.beneath {
            return Err(Errno::EXDEV);
        }
        start = parent;
    }
    Err(Errno::ELOOP)
}

/// O_TMPFILE: an unnamed regular file in directory `dir`'s file system (linkat with
/// AT_EMPTY_PATH can name it later, unless O_EXCL).
fn open_tmpfile(t: &mut Task, dir: Arc<Dentry>, flags: u32, mode: u64) -> SysResult {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if !dir.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let acc = flags & libc::O_ACCMODE as u32;
    if acc != libc::O_WRONLY as u32 && acc != libc::O_RDWR as u32 {
        return Err(Errno::EINVAL);
    }
    if dir.read_only() {
        return Err(Errno::EROFS);
    }
    may_change_dir(t, &dir)?;
    let name = format!(".palisade-tmpfile-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let perm = mode as u32 & 0o7777 & !umask(t);
    let d = dir.create(name.as_bytes(), libc::S_IFREG | perm, &t.creds)?;
    let ops = d
        .inode
        .open(flags & !(libc::O_TMPFILE as u32 & !(libc::O_DIRECTORY as u32)));
    dir.unlink(name.as_bytes())?;
    d.set_linkable(flags & libc::O_EXCL as u32 == 0);
    let file =
        OpenFile::new(Some(d), ops?, flags & !(libc::O_DIRECTORY as u32)).opened_by(&t.creds);
    let cloexec = flags & libc::O_CLOEXEC as u32 != 0;
    Ok(t.fds.install(file, cloexec, 0, t.nofile())? as u64)
}

/// open(2) of a FIFO node: one pipe per node, shared by its opens. Opening for reading
/// waits for a writer and for writing waits for a reader (unless O_NONBLOCK: then a reader
/// goes ahead and a writer without readers gets ENXIO); O_RDWR never waits.
fn open_fifo(t: &mut Task, d: &Arc<Dentry>, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
    let st = d.inode.stat()?;
    let pipe = crate::fs::pipe::fifo((st.dev, st.ino));
    let nonblock = flags & libc::O_NONBLOCK as u32 != 0;
    let (read, write) = match (flags & libc::O_ACCMODE as u32) as i32 {
        libc::O_RDONLY => (true, false),
        libc::O_WRONLY => (false, true),
        libc::O_RDWR => (true, true),
        _ => return Err(Errno::EINVAL),
    };
    if write && !read && nonblock && pipe.ends().0 == 0 {
        return Err(Errno::ENXIO);
    }
    let (ops, partner, opens) = pipe.open_ends(read, write, d.inode.clone());
    if read != write && !nonblock && !partner {
        // Wait until the other end is opened (even if it is closed again at once).
        let q = ops.wait_queue().ok_or(Errno::EIO)?;
        t.block_on(&[q], None, |_| {
            let (r, w) = pipe.opens();
            let now = if read { w } else { r };
            Ok((now != opens).then_some(()))
        })?;
    }
    Ok(ops)
}

pub fn open(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_open(t, AT_FDCWD, a[0], a[1], a[2])
}

pub fn creat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = (libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC) as u64;
    do_open(t, AT_FDCWD, a[0], flags, a[1])
}

/// The directory `dirfd` names (the cwd for AT_FDCWD), whatever the path.
fn dir_start(t: &Task, dirfd: i32) -> Result<Arc<Dentry>, Errno> {
    if dirfd == AT_FDCWD {
        return Ok(t.fs().cwd);
    }
    let d = t.fds.get(dirfd)?.dentry.clone().ok_or(Errno::ENOTDIR)?;
    if !d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(d)
}

/// openat2(2): openat with a struct open_how (flags, mode, resolve) checked strictly, and the
/// RESOLVE_* restrictions on the walk.
pub fn openat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    const VER0: usize = 24;
    const RESOLVE_NO_XDEV: u64 = 0x01;
    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    const RESOLVE_NO_SYMLINKS: u64 = 0x04;
    const RESOLVE_BENEATH: u64 = 0x08;
    const RESOLVE_IN_ROOT: u64 = 0x10;
    const RESOLVE_CACHED: u64 = 0x20;
    let size = a[3] as usize;
    if size < VER0 {
        return Err(Errno::EINVAL);
    }
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    let raw = t.mm.read_vec(a[2], size)?;
    if raw[VER0..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&raw[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    let (flags, mode, resolve) = (word(0), word(1), word(2));
    // Every flag open(2) knows; openat2 refuses the rest (open(2) ignores them).
    let valid = (libc::O_ACCMODE
        | libc::O_CREAT
        | libc::O_EXCL
        | libc::O_NOCTTY
        | libc::O_TRUNC
        | libc::O_APPEND
        | libc::O_NONBLOCK
        | libc::O_DSYNC
        | libc::O_ASYNC
        | libc::O_DIRECT
        | libc::O_LARGEFILE
        | libc::O_DIRECTORY
        | libc::O_NOFOLLOW
        | libc::O_NOATIME
        | libc::O_CLOEXEC
        | libc::O_PATH
        | libc::O_SYNC
        | libc::O_TMPFILE) as u64;
    if flags & !valid != 0 || flags & libc::O_ACCMODE as u64 == 3 {
        return Err(Errno::EINVAL);
    }
    let creating = flags & libc::O_CREAT as u64 != 0
        || flags & libc::O_TMPFILE as u64 == libc::O_TMPFILE as u64;
    if mode & !0o7777 != 0 || (!creating && mode != 0) {
        return Err(Errno::EINVAL);
    }
    let known = RESOLVE_NO_XDEV
        | RESOLVE_NO_MAGICLINKS
        | RESOLVE_NO_SYMLINKS
        | RESOLVE_BENEATH
        | RESOLVE_IN_ROOT
        | RESOLVE_CACHED;
    if resolve & !known != 0 || (resolve & RESOLVE_BENEATH != 0 && resolve & RESOLVE_IN_ROOT != 0) {
        return Err(Errno::EINVAL);
    }
    // A cached-only walk cannot create or truncate.
    let blocking = (libc::O_TRUNC | libc::O_CREAT | libc::O_TMPFILE) as u64;
    if resolve & RESOLVE_CACHED != 0 && flags & blocking != 0 {
        return Err(Errno::EAGAIN);
    }
    let how = vfs::Resolve {
        no_symlinks: resolve & RESOLVE_NO_SYMLINKS != 0,
        no_magiclinks: resolve & RESOLVE_NO_MAGICLINKS != 0,
        beneath: resolve & RESOLVE_BENEATH != 0,
        in_root: resolve & RESOLVE_IN_ROOT != 0,
        no_xdev: resolve & RESOLVE_NO_XDEV != 0,
    };
    do_open_how(t, fd_arg(a[0]), a[1], flags, mode, how)
}

pub fn openat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_open(t, fd_arg(a[0]), a[1], a[2], a[3])
}

pub fn getcwd(t: &mut Task, a: [u64; 6]) -> SysResult {
    let fs = t.fs();
    if fs.cwd.is_dead() {
        return Err(Errno::ENOENT);
    }
    let mut p = fs.cwd.path(&fs.root);
    // A working directory outside the root (left there by chroot): its whole path, marked.
    if !fs.cwd.is_below(&fs.root) {
        p.splice(0..0, b"(unreachable)".iter().copied());
    }
    p.push(0);
    // The path is built in a page (PATH_MAX) first: longer is ENAMETOOLONG, whatever the size.
    if p.len() > libc::PATH_MAX as usize {
        return Err(Errno::ENAMETOOLONG);
    }
    if (a[1] as usize) < p.len() {
        return Err(Errno::ERANGE);
    }
    t.mm.write_bytes(a[0], &p)?;
    Ok(p.len() as u64)
}

fn set_cwd(t: &mut Task, d: Arc<Dentry>) -> SysResult {
    if !d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    vfs::may_access(&d.inode.stat()?, &t.creds, 1, false)?;
    t.fs.lock().unwrap_or_else(|e| e.into_inner()).cwd = d;
    Ok(0)
}

pub fn chdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let d = lookup_at(t, AT_FDCWD, &path, true, false)?;
    set_cwd(t, d)
}

pub fn fchdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let d = t
        .fds
        .get(fd_arg(a[0]))?
        .dentry
        .clone()
        .ok_or(Errno::ENOTDIR)?;
    set_cwd(t, d)
}

fn fill_statfs(t: &Task, d: &Arc<Dentry>, buf: u64) -> SysResult {
    let mut s = d.inode.statfs()?;
    // The flags are the mount's (where the file system reports none of its own).
    let flags = vfs::mount::mount_of(d)
        .map(|m| m.spec.lock().unwrap_or_else(|e| e.into_inner()).flags)
        .unwrap_or_default();
    s.f_flags |= ST_VALID;
    for (on, bit) in [
        (flags.read_only || d.read_only(), libc::ST_RDONLY),
        (flags.nosuid, libc::ST_NOSUID),
        (flags.nodev, libc::ST_NODEV),
        (flags.noexec, libc::ST_NOEXEC),
    ] {
        if on {
            s.f_flags |= bit as i64;
        }
    }
    s.f_flags |= libc::ST_RELATIME as i64;
    t.mm.copy_out(buf, &s)?;
    Ok(0)
}

pub fn statfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let d = lookup_at(t, AT_FDCWD, &path, true, false)?;
    fill_statfs(t, &d, a[1])
}

pub fn fstatfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(fd_arg(a[0]))?;
    match f.dentry.clone() {
        Some(d) => fill_statfs(t, &d, a[1]),
        None => {
            // Files with no name: pipes, sockets, and the anonymous inodes (epoll, eventfd,
            // timerfd, signalfd, inotify, pidfd), each on the kernel's internal file system.
            let magic = match f.stat()?.file_type() {
                libc::S_IFIFO => PIPEFS_MAGIC,
                libc::S_IFSOCK => SOCKFS_MAGIC,
                _ => ANON_INODE_FS_MAGIC,
            };
            let mut s = crate::fs::synthetic_statfs(magic);
            s.f_flags = ST_VALID;
            t.mm.copy_out(a[1], &s)?;
            Ok(0)
        }
    }
}

const PIPEFS_MAGIC: i64 = 0x5049_5045;
const SOCKFS_MAGIC: i64 = 0x534f_434b;
const ANON_INODE_FS_MAGIC: i64 = 0x0904_1934;
/// statfs's f_flags always hold ST_VALID (the field is meaningful), then the mount's flags.
const ST_VALID: i64 = 0x20;

/// getdents64: "." and "..", then the directory's entries; the offset counts entries.
pub fn getdents64(t: &mut Task, a: [u64; 6]) -> SysResult {
    getdents_with(t, a, false)
}

/// getdents: the old record (d_type in the last byte, after the name's NUL).
pub fn getdents(t: &mut Task, a: [u64; 6]) -> SysResult {
    getdents_with(t, a, true)
}

fn getdents_with(t: &mut Task, a: [u64; 6], old: bool) -> SysResult {
    let f = t.fds.get(fd_arg(a[0]))?;
    if f.is_path() {
        return Err(Errno::EBADF);
    }
    let d = f.dentry.clone().ok_or(Errno::ENOTDIR)?;
    if !d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    if d.is_dead() {
        return Err(Errno::ENOENT); // a removed directory cannot be listed
    }
    let mut off = f.offset();
    let mut cache = f.dir_listing.lock().unwrap_or_else(|e| e.into_inner());
    if *off == 0 || cache.is_none() {
        let mut list = vec![
            vfs::DirEntry {
                ino: d.inode.stat()?.ino,
                kind: libc::DT_DIR,
                name: b".".to_vec(),
            },
            vfs::DirEntry {
                ino: d
                    .parent()
                    .map(|p| p.inode.stat().map(|s| s.ino).unwrap_or(0))
                    .unwrap_or(d.inode.stat()?.ino),
                kind: libc::DT_DIR,
                name: b"..".to_vec(),
            },
        ];
        list.extend(d.inode.readdir()?);
        *cache = Some(list);
    }
    let list = cache.as_ref().ok_or(Errno::EIO)?;
    let cap = a[2] as usize;
    let mut out = Vec::with_capacity(cap.min(65536));
    let mut i = *off as usize;
    while i < list.len() {
        let e = &list[i];
        // linux_dirent64: ino, off, reclen, type, name, NUL; linux_dirent: ino, off,
        // reclen, name, NUL, padding, type in the last byte.
        let reclen = if old {
            (18 + e.name.len() + 2 + 7) & !7
        } else {
            (19 + e.name.len() + 1 + 7) & !7
        };
        if out.len() + reclen > cap {
            break;
        }
        let start = out.len();
        out.extend_from_slice(&e.ino.to_le_bytes());
        out.extend_from_slice(&((i + 1) as i64).to_le_bytes());
        out.extend_from_slice(&(reclen as u16).to_le_bytes());
        if !old {
            out.push(e.kind);
        }
        out.extend_from_slice(&e.name);
        out.resize(start + reclen, 0);
        if old {
            out[start + reclen - 1] = e.kind;
        }
        i += 1;
    }
    if out.is_empty() && i < list.len() {
        return Err(Errno::EINVAL);
    }
    t.mm.write_bytes(a[1], &out)?;
    *off = i as u64;
    f.accessed();
    Ok(out.len() as u64)
}

// ---- changes ------------------------------------------------------------------------------

/// The parent directory of `path`, the last name, and whether the path ended in a slash (which
/// only a directory may have): for operations that create or remove.
fn parent_and_slash(
    t: &Task,
    dirfd: i32,
    path_addr: u64,
) -> Result<(Arc<Dentry>, Vec<u8>, bool), Errno> {
    let path = t.path_arg(path_addr)?;
    let start = start_dir(t, dirfd, &path)?;
    let slash = path.len() > 1 && path.ends_with(b"/");
    let (parent, name) = vfs::resolve_parent(&t.fs(), &t.creds, &start, &path)?;
    Ok((parent, name, slash))
}

/// bind(2) of a unix socket to `path`: a new socket node, handed to `bind` with its (device,
/// inode). A path that exists is EADDRINUSE; if `bind` fails the node goes again (as Linux
/// unlinks it when the socket turns out to be bound already).
pub(crate) fn make_socket_node(
    t: &Task,
    path: &[u8],
    bind: impl FnOnce((u64, u64)) -> Result<(), Errno>,
) -> Result<(), Errno> {
    let start = start_dir(t, AT_FDCWD, path)?;
    let (parent, name) = vfs::resolve_parent(&t.fs(), &t.creds, &start, path)?;
    if name == b"." || name == b".." || parent.lookup(&name).is_ok() {
        return Err(Errno::EADDRINUSE);
    }
    if parent.read_only() {
        return Err(Errno::EROFS);
    }
    may_change_dir(t, &parent)?;
    let perm = 0o777 & !umask(t);
    let st = parent
        .create(&name, libc::S_IFSOCK | perm, &t.creds)?
        .inode
        .stat()?;
    bind((st.dev, st.ino)).inspect_err(|_| {
        let _ = parent.unlink(&name);
    })
}

/// connect(2)/sendto(2) to a unix socket at `path`: the socket node's (device, inode). It
/// takes write permission on the node; a file of another type is ECONNREFUSED.
pub(crate) fn socket_node(t: &Task, path: &[u8]) -> Result<(u64, u64), Errno> {
    let st = lookup_at(t, AT_FDCWD, path, true, false)?.inode.stat()?;
    if st.file_type() != libc::S_IFSOCK {
        return Err(Errno::ECONNREFUSED);
    }
    if !t.creds.has_cap(caps::Capability::CAP_DAC_OVERRIDE) {
        vfs::may_access(&st, &t.creds, 2, false)?;
    }
    Ok((st.dev, st.ino))
}

/// Write and search permission on a directory we change.
fn may_change_dir(t: &Task, dir: &Dentry) -> Result<(), Errno> {
    if t.creds.has_cap(caps::Capability::CAP_DAC_OVERRIDE) {
        return Ok(());
    }
    vfs::may_access(&dir.inode.stat()?, &t.creds, 3, false)
}

/// Sticky directories: only the owner of the entry or of the directory may remove or rename it.
fn sticky_ok(t: &Task, dir: &Dentry, child: &Dentry) -> Result<(), Errno> {
    let d = dir.inode.stat()?;
    if d.mode & libc::S_ISVTX == 0 || t.creds.has_cap(caps::Capability::CAP_FOWNER) {
        return Ok(());
    }
    let c = child.inode.stat()?;
    if c.uid == t.creds.fsuid || d.uid == t.creds.fsuid {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

fn umask(t: &Task) -> u32 {
    t.fs.lock().unwrap_or_else(|e| e.into_inner()).umask
}

/// Check the name is free, then create through `make`. Only a directory (`dir`) may be
/// named with a trailing slash: anything else so named that does not exist is ENOENT (Linux's
/// filename_create).
fn create_entry(
    t: &Task,
    dirfd: i32,
    path_addr: u64,
    dir: bool,
    make: impl FnOnce(&Arc<Dentry>, &[u8]) -> Result<(), Errno>,
) -> SysResult {
    let (parent, name, slash) = parent_and_slash(t, dirfd, path_addr)?;
    if name == b"." || name == b".." || parent.lookup(&name).is_ok() {
        return Err(Errno::EEXIST);
    }
    if slash && !dir {
        return Err(Errno::ENOENT);
    }
    if parent.read_only() {
        return Err(Errno::EROFS);
    }
    may_change_dir(t, &parent)?;
    make(&parent, &name)?;
    Ok(0)
}

fn do_mkdir(t: &Task, dirfd: i32, path: u64, mode: u64) -> SysResult {
    let mode = mode as u32 & 0o7777 & !umask(t);
    create_entry(t, dirfd, path, true, |p, name| {
        p.mkdir(name, mode, &t.creds)
    })
}

fn do_mknod(t: &Task, dirfd: i32, path: u64, mode: u64, dev: u64) -> SysResult {
    // The kernel takes the old 32-bit encoding (new_decode_dev) and re-encodes it.
    let dev = dev as u32;
    let (major, minor) = ((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00));
    let rdev = libc::makedev(major, minor);
    let m = mode as u32;
    let ftype = m & libc::S_IFMT;
    match ftype {
        0 | libc::S_IFREG | libc::S_IFIFO | libc::S_IFSOCK => {}
        libc::S_IFCHR | libc::S_IFBLK if t.creds.has_cap(caps::Capability::CAP_MKNOD) => {}
        libc::S_IFCHR | libc::S_IFBLK | libc::S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    }
    let perm = m & 0o7777 & !umask(t);
    let ftype = if ftype == 0 { libc::S_IFREG } else { ftype };
    create_entry(t, dirfd, path, false, |p, name| {
        p.create_node(name, ftype | perm, rdev, &t.creds)
            .map(|_| ())
    })
}

pub fn mkdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_mkdir(t, AT_FDCWD, a[0], a[1])
}
pub fn mkdirat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_mkdir(t, fd_arg(a[0]), a[1], a[2])
}
pub fn mknod(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_mknod(t, AT_FDCWD, a[0], a[1], a[2])
}
pub fn mknodat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_mknod(t, fd_arg(a[0]), a[1], a[2], a[3])
}

fn do_symlink(t: &Task, target: u64, dirfd: i32, path: u64) -> SysResult {
    let target = t.path_arg(target)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    create_entry(t, dirfd, path, false, |p, name| {
        p.symlink(name, &target, &t.creds)
    })
}
pub fn symlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_symlink(t, a[0], AT_FDCWD, a[1])
}
pub fn symlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_symlink(t, a[0], fd_arg(a[1]), a[2])
}

fn do_link(t: &Task, olddir: i32, old: u64, newdir: i32, new: u64, flags: u64) -> SysResult {
    if flags & !((libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let old_path = t.path_arg(old)?;
    // Linking an open file by descriptor (flink) is for the credentials that opened it, or
    // for CAP_DAC_READ_SEARCH: anyone else finds nothing there.
    if old_path.is_empty() && flags & libc::AT_EMPTY_PATH as u64 != 0 && olddir != AT_FDCWD {
        let f = t.fds.get(olddir)?;
        if !f.opened_with(&t.creds) && !t.creds.has_cap(caps::Capability::CAP_DAC_READ_SEARCH) {
            return Err(Errno::ENOENT);
        }
    }
    let target = lookup_at(
        t,
        olddir,
        &old_path,
        flags & libc::AT_SYMLINK_FOLLOW as u64 != 0,
        flags & libc::AT_EMPTY_PATH as u64 != 0,
    )?;
    // A name that exists is EEXIST before a directory target is EPERM, as Linux checks.
    create_entry(t, newdir, new, false, |p, name| {
        if target.is_dir() {
            return Err(Errno::EPERM);
        }
        // A file without links stays so, unless it is a linkable O_TMPFILE file.
        if target.inode.stat()?.nlink == 0 && !target.linkable() {
            return Err(Errno::ENOENT);
        }
        p.link(name, &target.inode)?;
        target.set_linkable(false);
        crate::fs::inotify::linked(&target);
        Ok(())
    })
}
pub fn link(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_link(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)
}
pub fn linkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_link(t, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], a[4])
}

fn do_unlink(t: &Task, dirfd: i32, path_addr: u64, dir: bool) -> SysResult {
    let (parent, name, slash) = parent_and_slash(t, dirfd, path_addr)?;
    if name == b"." {
        return Err(if dir { Errno::EINVAL } else { Errno::EISDIR });
    }
    if name == b".." {
        return Err(if dir { Errno::ENOTEMPTY } else { Errno::EISDIR });
    }
    let child = parent.lookup(&name)?;
    match (dir, child.is_dir()) {
        (true, false) => return Err(Errno::ENOTDIR),
        (false, true) => return Err(Errno::EISDIR),
        // "file/": a trailing slash names a directory.
        (false, false) if slash => return Err(Errno::ENOTDIR),
        _ => {}
    }
    if parent.read_only() {
        return Err(Errno::EROFS);
    }
    may_change_dir(t, &parent)?;
    sticky_ok(t, &parent, &child)?;
    if dir {
        if child.covers.is_some() || child.is_mountpoint() {
            return Err(Errno::EBUSY);
        }
        parent.rmdir(&name)?;
    } else {
        parent.unlink(&name)?;
    }
    Ok(0)
}
pub fn unlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_unlink(t, AT_FDCWD, a[0], false)
}
pub fn rmdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_unlink(t, AT_FDCWD, a[0], true)
}
pub fn unlinkat(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[2] & !(libc::AT_REMOVEDIR as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    do_unlink(t, fd_arg(a[0]), a[1], a[2] != 0)
}

fn do_rename(t: &Task, olddir: i32, old: u64, newdir: i32, new: u64, flags: u32) -> SysResult {
    let (op, oname, oslash) = parent_and_slash(t, olddir, old)?;
    let (np, nname, nslash) = parent_and_slash(t, newdir, new)?;
    if oname == b"." || oname == b".." || nname == b"." || nname == b".." {
        return Err(Errno::EBUSY);
    }
    let child = op.lookup(&oname)?;
    let exchange = flags & libc::RENAME_EXCHANGE != 0;
    // Trailing slashes only on directories (the new name's only when not exchanging).
    if !child.is_dir() && (oslash || (nslash && !exchange)) {
        return Err(Errno::ENOTDIR);
    }
    if op.read_only() || np.read_only() {
        return Err(Errno::EROFS);
    }
    may_change_dir(t, &op)?;
    may_change_dir(t, &np)?;
    sticky_ok(t, &op, &child)?;
    // A directory moving to another parent rewrites its "..": that needs write permission on
    // the directory itself (Linux's vfs_rename).
    let moves = !Arc::ptr_eq(&op, &np);
    if moves && child.is_dir() {
        vfs::may_access(&child.inode.stat()?, &t.creds, 2, false)?;
    }
    if let Ok(existing) = np.lookup(&nname) {
        if moves && exchange && existing.is_dir() {
            vfs::may_access(&existing.inode.stat()?, &t.creds, 2, false)?;
        }
        // A directory replaces only a directory, and only a directory replaces one.
        if !exchange {
            match (child.is_dir(), existing.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                _ => {}
            }
        }
        sticky_ok(t, &np, &existing)?;
        // Two links to one file: rename does nothing (both names stay).
        let (a, b) = (child.inode.stat()?, existing.inode.stat()?);
        let keep = libc::RENAME_EXCHANGE | libc::RENAME_NOREPLACE;
        if (a.dev, a.ino) == (b.dev, b.ino) && flags & keep == 0 {
            return Ok(0);
        }
    }
    if child.is_mountpoint() || child.covers.is_some() {
        return Err(Errno::EBUSY);
    }
    Dentry::rename(&op, &oname, &np, &nname, flags)?;
    Ok(0)
}
pub fn rename(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_rename(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)
}
pub fn renameat(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_rename(t, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], 0)
}
pub fn renameat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let valid = (libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE | libc::RENAME_WHITEOUT) as u64;
    if a[4] & !valid != 0
        || (a[4] & libc::RENAME_EXCHANGE as u64 != 0 && a[4] & libc::RENAME_NOREPLACE as u64 != 0)
    {
        return Err(Errno::EINVAL);
    }
    if a[4] & libc::RENAME_WHITEOUT as u64 != 0 {
        // A whiteout is a device node: CAP_MKNOD; it cannot go with an exchange.
        if a[4] & libc::RENAME_EXCHANGE as u64 != 0 {
            return Err(Errno::EINVAL);
        }
        if !t.creds.has_cap(caps::Capability::CAP_MKNOD) {
            return Err(Errno::EPERM);
        }
    }
    do_rename(t, fd_arg(a[0]), a[1], fd_arg(a[2]), a[3], a[4] as u32)
}

/// Only the owner (or CAP_FOWNER) changes a file's mode or times.
fn owner_ok(t: &Task, st: &Stat) -> Result<(), Errno> {
    if st.uid == t.creds.fsuid || t.creds.has_cap(caps::Capability::CAP_FOWNER) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

fn chmod_inode(t: &Task, d: &Dentry, mode: u64) -> SysResult {
    let inode = &d.inode;
    if d.read_only() {
        return Err(Errno::EROFS);
    }
    let st = inode.stat()?;
    owner_ok(t, &st)?;
    let mut m = mode as u32 & 0o7777;
    // Setgid is dropped for a group the caller is not in.
    if st.gid != t.creds.fsgid
        && !t.groups.contains(&st.gid)
        && !t.creds.has_cap(caps::Capability::CAP_FOWNER)
    {
        m &= !libc::S_ISGID;
    }
    inode.setattr(&vfs::SetAttr {
        mode: Some(m),
        ..Default::default()
    })?;
    crate::fs::inotify::file_event(d, crate::fs::inotify::IN_ATTRIB);
    Ok(0)
}

fn chown_inode(t: &Task, d: &Dentry, uid: u64, gid: u64) -> SysResult {
    let inode = &d.inode;
    if d.read_only() {
        return Err(Errno::EROFS);
    }
    let st = inode.stat()?;
    let uid = (uid as u32 != u32::MAX).then_some(uid as u32);
    let gid = (gid as u32 != u32::MAX).then_some(gid as u32);
    let privileged = t.creds.has_cap(caps::Capability::CAP_CHOWN);
    if uid.is_some_and(|u| u != st.uid) && !privileged {
        return Err(Errno::EPERM);
    }
    if let Some(g) = gid {
        if !privileged
            && (st.uid != t.creds.fsuid || (g != t.creds.fsgid && !t.groups.contains(&g)))
            && g != st.gid
        {
            return Err(Errno::EPERM);
        }
    }
    let mut a = vfs::SetAttr {
        uid,
        gid,
        ..Default::default()
    };
    // A chown by anyone clears setuid/setgid on executables, as Linux does.
    if (uid.is_some() || gid.is_some()) && st.file_type() == libc::S_IFREG && st.mode & 0o111 != 0 {
        a.mode = Some(st.mode & 0o7777 & !(libc::S_ISUID | libc::S_ISGID));
    }
    inode.setattr(&a)?;
    crate::fs::inotify::file_event(d, crate::fs::inotify::IN_ATTRIB);
    Ok(0)
}

pub fn chmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    let d = refuse_change(t, AT_FDCWD, a[0], true)?;
    chmod_inode(t, &d, a[1])
}
pub fn fchmodat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let d = refuse_change(t, fd_arg(a[0]), a[1], true)?;
    chmod_inode(t, &d, a[2])
}
/// fchmodat2 (Linux 6.6): fchmodat with flags. A symlink's mode cannot change
/// (EOPNOTSUPP, as notify_change refuses).
pub fn fchmodat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] & !((libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = t.path_arg(a[1])?;
    let d = lookup_at(
        t,
        fd_arg(a[0]),
        &path,
        a[3] & libc::AT_SYMLINK_NOFOLLOW as u64 == 0,
        a[3] & libc::AT_EMPTY_PATH as u64 != 0,
    )?;
    if d.file_type() == libc::S_IFLNK {
        return Err(Errno::EOPNOTSUPP);
    }
    chmod_inode(t, &d, a[2])
}
pub fn fchmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = super::file_arg(t, a[0])?;
    let d = f.dentry.clone().ok_or(Errno::EBADF)?;
    chmod_inode(t, &d, a[1])
}
pub fn chown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let d = refuse_change(t, AT_FDCWD, a[0], true)?;
    chown_inode(t, &d, a[1], a[2])
}
pub fn lchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let d = refuse_change(t, AT_FDCWD, a[0], false)?;
    chown_inode(t, &d, a[1], a[2])
}
pub fn fchownat(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[4] & !((libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = t.path_arg(a[1])?;
    let empty = a[4] & libc::AT_EMPTY_PATH as u64 != 0;
    let d = lookup_at(
        t,
        fd_arg(a[0]),
        &path,
        a[4] & libc::AT_SYMLINK_NOFOLLOW as u64 == 0,
        empty,
    )?;
    chown_inode(t, &d, a[2], a[3])
}
pub fn fchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = super::file_arg(t, a[0])?;
    let d = f.dentry.clone().ok_or(Errno::EBADF)?;
    chown_inode(t, &d, a[1], a[2])
}

fn refuse_change(t: &Task, dirfd: i32, path_addr: u64, follow: bool) -> Result<Arc<Dentry>, Errno> {
    let path = t.path_arg(path_addr)?;
    lookup_at(t, dirfd, &path, follow, false)
}

pub fn truncate(t: &mut Task, a: [u64; 6]) -> SysResult {
    if (a[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let d = refuse_change(t, AT_FDCWD, a[0], true)?;
    if d.is_dir() {
        return Err(Errno::EISDIR);
    }
    if d.read_only() {
        return Err(Errno::EROFS);
    }
    if !t.creds.has_cap(caps::Capability::CAP_DAC_OVERRIDE) {
        vfs::may_access(&d.inode.stat()?, &t.creds, 2, false)?;
    }
    vfs::kill_suid(&d, &t.creds)?;
    d.inode.setattr(&vfs::SetAttr {
        size: Some(a[1]),
        ..Default::default()
    })?;
    crate::fs::inotify::file_event(&d, crate::fs::inotify::IN_MODIFY);
    Ok(0)
}

pub fn ftruncate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(fd_arg(a[0]))?;
    if f.is_path() {
        return Err(Errno::EBADF);
    }
    if (a[1] as i64) < 0 || !f.writable() {
        return Err(Errno::EINVAL);
    }
    if f.dentry.as_ref().is_some_and(|d| d.read_only()) {
        return Err(Errno::EROFS);
    }
    if let Some(d) = &f.dentry {
        vfs::kill_suid(d, &t.creds)?;
    }
    f.ops.truncate(a[1])?;
    if let Some(d) = &f.dentry {
        crate::fs::inotify::file_event(d, crate::fs::inotify::IN_MODIFY);
    }
    Ok(0)
}

/// Set a file's access and modification times (None: leave it). `explicit`: times given by
/// the caller, which takes ownership (or CAP_FOWNER); "now" takes write permission only.
fn set_times(
    t: &Task,
    d: &Dentry,
    at: Option<(i64, i64)>,
    mt: Option<(i64, i64)>,
    explicit: bool,
) -> SysResult {
    if d.read_only() {
        return Err(Errno::EROFS);
    }
    let st = d.inode.stat()?;
    if explicit {
        owner_ok(t, &st)?;
    } else if st.uid != t.creds.fsuid && !t.creds.has_cap(caps::Capability::CAP_FOWNER) {
        vfs::may_access(&st, &t.creds, 2, false).map_err(|_| Errno::EACCES)?;
    }
    d.inode.setattr(&vfs::SetAttr {
        atime: at,
        mtime: mt,
        ..Default::default()
    })?;
    crate::fs::inotify::file_event(d, crate::fs::inotify::IN_ATTRIB);
    Ok(0)
}

fn now_real() -> (i64, i64) {
    crate::kernel::time::now(libc::CLOCK_REALTIME)
}

/// utimensat: times from the app (UTIME_NOW, UTIME_OMIT) or now.
pub fn utimensat(t: &mut Task, a: [u64; 6]) -> SysResult {
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    if a[3] & !((libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let d = if a[1] == 0 {
        t.fds
            .get(fd_arg(a[0]))?
            .dentry
            .clone()
            .ok_or(Errno::EBADF)?
    } else {
        let path = t.path_arg(a[1])?;
        lookup_at(
            t,
            fd_arg(a[0]),
            &path,
            a[3] & libc::AT_SYMLINK_NOFOLLOW as u64 == 0,
            a[3] & libc::AT_EMPTY_PATH as u64 != 0,
        )?
    };
    let now = now_real();
    let (at, mt, explicit) = if a[2] == 0 {
        (Some(now), Some(now), false)
    } else {
        let ts: [libc::timespec; 2] = [t.mm.copy_in(a[2])?, t.mm.copy_in(a[2].wrapping_add(16))?];
        let pick = |x: &libc::timespec| -> Result<Option<(i64, i64)>, Errno> {
            match x.tv_nsec {
                UTIME_OMIT => Ok(None),
                UTIME_NOW => Ok(Some(now)),
                n if (0..1_000_000_000).contains(&n) => Ok(Some((x.tv_sec, n))),
                _ => Err(Errno::EINVAL),
            }
        };
        let (at, mt) = (pick(&ts[0])?, pick(&ts[1])?);
        if at.is_none() && mt.is_none() {
            return Ok(0);
        }
        let explicit = ts
            .iter()
            .any(|x| x.tv_nsec != UTIME_NOW && x.tv_nsec != UTIME_OMIT);
        (at, mt, explicit)
    };
    set_times(t, &d, at, mt, explicit)
}

/// utimes/futimesat: microsecond times, or now when the pointer is NULL.
fn set_timevals(t: &Task, d: &Dentry, addr: u64) -> SysResult {
    if addr == 0 {
        let now = now_real();
        return set_times(t, d, Some(now), Some(now), false);
    }
    let tv: [libc::timeval; 2] = [t.mm.copy_in(addr)?, t.mm.copy_in(addr.wrapping_add(16))?];
    let mut out = [(0, 0); 2];
    for (o, v) in out.iter_mut().zip(tv.iter()) {
        if !(0..1_000_000).contains(&v.tv_usec) {
            return Err(Errno::EINVAL);
        }
        *o = (v.tv_sec, v.tv_usec * 1000);
    }
    set_times(t, d, Some(out[0]), Some(out[1]), true)
}

pub fn utimes(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let d = lookup_at(t, AT_FDCWD, &path, true, false)?;
    set_timevals(t, &d, a[1])
}

pub fn futimesat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[1])?;
    let d = lookup_at(t, fd_arg(a[0]), &path, true, false)?;
    set_timevals(t, &d, a[2])
}

/// utime(2): whole-second times from a struct utimbuf, or now when NULL.
pub fn utime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let d = lookup_at(t, AT_FDCWD, &path, true, false)?;
    if a[1] == 0 {
        let now = now_real();
        return set_times(t, &d, Some(now), Some(now), false);
    }
    let times: [i64; 2] = [t.mm.copy_in(a[1])?, t.mm.copy_in(a[1].wrapping_add(8))?];
    set_times(t, &d, Some((times[0], 0)), Some((times[1], 0)), true)
}

/// chroot(2): the calling process's root becomes `path` (CAP_SYS_CHROOT).
pub fn chroot(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let d = lookup_at(t, AT_FDCWD, &path, true, false)?;
    if !d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    vfs::may_access(&d.inode.stat()?, &t.creds, 1, false)?;
    if !t.creds.has_cap(caps::Capability::CAP_SYS_CHROOT) {
        return Err(Errno::EPERM);
    }
    t.fs.lock().unwrap_or_else(|e| e.into_inner()).root = d;
    Ok(0)
}

/// Whether fsync takes this file: regular files and directories have an fsync in Linux,
/// except /proc's files and directories and sysfs's directories; devices, pipes, sockets
/// and anonymous files have none (EINVAL).
fn syncable(f: &OpenFile) -> Result<bool, Errno> {
    let mode = f.stat()?.mode & libc::S_IFMT;
    let Some(d) = &f.dentry else {
        return Ok(false);
    };
    if mode != libc::S_IFREG && mode != libc::S_IFDIR {
        return Ok(false);
    }
    Ok(match d.inode.statfs().map(|s| s.f_type) {
        Ok(crate::fs::proc::PROC_SUPER_MAGIC) => false,
        Ok(crate::fs::sys::SYSFS_MAGIC) => mode == libc::S_IFREG,
        _ => true,
    })
}

fn do_fsync(t: &Task, fd: u64, data_only: bool) -> SysResult {
    let f = super::file_arg(t, fd)?;
    if !syncable(&f)? {
        return Err(Errno::EINVAL);
    }
    f.ops.sync(data_only)?;
    Ok(0)
}
pub fn fsync(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_fsync(t, a[0], false)
}
pub fn fdatasync(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_fsync(t, a[0], true)
}
/// syncfs: the file's own data (a gofer file system's other files are synced as they are
/// written back by the host; sandbox memory has nowhere further to go).
pub fn syncfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = super::file_arg(t, a[0])?;
    if f.ops.seekable() {
        f.ops.sync(false)?;
    }
    Ok(0)
}

pub fn sync(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(0)
}

/// sync_file_range: range and flag checks as Linux's; writing a range out is the file's
/// data sync (files in sandbox memory have nowhere further to go).
pub fn sync_file_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    const VALID: u64 = (libc::SYNC_FILE_RANGE_WAIT_BEFORE
        | libc::SYNC_FILE_RANGE_WRITE
        | libc::SYNC_FILE_RANGE_WAIT_AFTER) as u64;
    let f = super::file_arg(t, a[0])?;
    let (off, len, flags) = (a[1] as i64, a[2] as i64, a[3]);
    if flags & !VALID != 0 || off < 0 {
        return Err(Errno::EINVAL);
    }
    match off.checked_add(len) {
        Some(end) if end >= off => {}
        _ => return Err(Errno::EINVAL),
    }
    let mode = f.stat()?.mode & libc::S_IFMT;
    if ![libc::S_IFREG, libc::S_IFBLK, libc::S_IFDIR, libc::S_IFLNK].contains(&mode) {
        return Err(Errno::ESPIPE);
    }
    if mode == libc::S_IFREG && flags & libc::SYNC_FILE_RANGE_WRITE as u64 != 0 {
        f.ops.sync(true)?;
    }
    Ok(0)
}

// ---- mounts -------------------------------------------------------------------------------

/// mount(2): new tmpfs and proc instances, remounts (flags), propagation changes (there is
/// one mount namespace, so they have nothing to propagate). Bind mounts are not supported.
pub fn mount(t: &mut Task, a: [u64; 6]) -> SysResult {
    use crate::vfs::mount::{self, Flags, Spec};
    if !t.creds.has_cap(caps::Capability::CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let flags = a[3];
    let target_path = t.path_arg(a[1])?;
    let target = lookup_at(t, AT_FDCWD, &target_path, true, false)?;
    let propagation = libc::MS_SHARED | libc::MS_PRIVATE | libc::MS_SLAVE | libc::MS_UNBINDABLE;
    if flags & propagation != 0 {
        // Only on mount points, as Linux checks.
        if target.covers.is_none() && !Arc::ptr_eq(&target, &t.fs().root) {
            return Err(Errno::EINVAL);
        }
        return Ok(0);
    }
    if flags & libc::MS_REMOUNT != 0 {
        if target.covers.is_none() && !Arc::ptr_eq(&target, &t.fs().root) {
            return Err(Errno::EINVAL);
        }
        // A tmpfs takes new limits (size=, nr_inodes=) with its new flags.
        let tmpfs = vfs::same_kind::<crate::fs::tmpfs::TmpInode>(&target.inode);
        if let (Ok(tmp), false) = (tmpfs, flags & libc::MS_BIND != 0) {
            let data = if a[4] == 0 {
                Vec::new()
            } else {
                t.mm.read_cstr(a[4], 4096)?
            };
            let data = String::from_utf8(data).map_err(|_| Errno::EINVAL)?;
            let o = crate::fs::tmpfs_options(&data, t.k.mem_total())?;
            let fs = tmp.fs();
            fs.reconfigure(o.size, o.nr_inodes)?;
            let shown = fs.show_options(crate::fs::default_inodes(t.k.mem_total()));
            mount::remount(&target, Flags::from_ms(flags))?;
            mount::set_data(&target, &shown);
            return Ok(0);
        }
        return mount::remount(&target, Flags::from_ms(flags)).map(|_| 0);
    }
    if flags & libc::MS_MOVE != 0 {
        t.k.log_enosys(u64::MAX - 1000, "mount MS_MOVE");
        return Err(Errno::EINVAL);
    }
    if flags & libc::MS_BIND != 0 {
        let source_path = t.path_arg(a[0])?;
        let source = lookup_at(t, AT_FDCWD, &source_path, true, false)?;
        // A directory over a directory, anything else over anything else (graft_tree).
        if source.is_dir() != target.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        // The new mount shows the source's file system, with its mount's flags (a bind
        // ignores MS_RDONLY & co: a remount changes them).
        let spec = mount::mount_of(&source)
            .map(|m| m.spec.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .unwrap_or_else(|| Spec::new("none", "none", Flags::default(), ""));
        target.bind(&source, spec)?;
        return Ok(0);
    }
    if !target.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    let fstype = String::from_utf8_lossy(&t.mm.read_cstr(a[2], 256)?).into_owned();
    let source = if a[0] == 0 {
        "none".to_string()
    } else {
        String::from_utf8_lossy(&t.path_arg(a[0])?).into_owned()
    };
    let data = if a[4] == 0 {
        String::new()
    } else {
        String::from_utf8_lossy(&t.mm.read_cstr(a[4], 4096).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::EINVAL
            } else {
                e
            }
        })?)
        .into_owned()
    };
    let (inode, shown) = crate::fs::new_instance(&t.k, &fstype, &data)?;
    target.mount(
        inode,
        Spec::new(&fstype, &source, Flags::from_ms(flags), &shown),
    )?;
    Ok(0)
}

/// umount2(2): EBUSY while the mount is in use, unless MNT_DETACH (then open files keep
/// working); MNT_FORCE is accepted as Linux accepts it for these file systems; MNT_EXPIRE
/// marks an unused mount (EAGAIN) and unmounts it on the next call.
pub fn umount2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let valid =
        (libc::MNT_FORCE | libc::MNT_DETACH | libc::MNT_EXPIRE | libc::UMOUNT_NOFOLLOW) as u64;
    if a[1] & !valid != 0 {
        return Err(Errno::EINVAL);
    }
    if !t.creds.has_cap(caps::Capability::CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let path = t.path_arg(a[0])?;
    let follow = a[1] & libc::UMOUNT_NOFOLLOW as u64 == 0;
    let d = lookup_at(t, AT_FDCWD, &path, follow, false)?;
    if Arc::ptr_eq(&d, &t.fs().root) {
        return Err(Errno::EBUSY);
    }
    if d.covers.is_none() {
        return Err(Errno::EINVAL);
    }
    if a[1] & libc::MNT_EXPIRE as u64 != 0 {
        if a[1] & (libc::MNT_FORCE | libc::MNT_DETACH) as u64 != 0 {
            return Err(Errno::EINVAL);
        }
        if mount_busy(t, &d) {
            return Err(Errno::EBUSY);
        }
        let m = vfs::mount::mount_of(&d).ok_or(Errno::EINVAL)?;
        if !m
            .expiry_mark
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            return Err(Errno::EAGAIN);
        }
    }
    if a[1] & libc::MNT_DETACH as u64 == 0 && mount_busy(t, &d) {
        return Err(Errno::EBUSY);
    }
    d.unmount()?;
    Ok(0)
}

/// Whether a process works in the mount whose root is `root`: a working directory, a root
/// or an open file below it (Linux's busy mount; mappings of its files are not counted).
fn mount_busy(t: &Task, root: &Arc<Dentry>) -> bool {
    let groups: Vec<_> = t.k.tasks().groups.values().cloned().collect();
    for g in groups {
        let view = g.lock().view.clone();
        if let Some(fs) = view.fs.upgrade() {
            let fs = fs.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if fs.cwd.is_below(root) || fs.root.is_below(root) {
                return true;
            }
        }
        if let Some(fds) = view.fds.upgrade() {
            let busy = fds.fds().into_iter().any(|fd| {
                fds.get(fd)
                    .ok()
                    .and_then(|f| f.dentry.clone())
                    .is_some_and(|d| d.is_below(root))
            });
            if busy {
                return true;
            }
        }
    }
    false
}
