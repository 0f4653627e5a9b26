//! Descriptor syscalls: close, dup*, fcntl, ioctl, close_range.

use std::sync::Arc;

use super::fd_arg;
use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::vfs::OpenFile;

pub fn close(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.fds.remove(fd_arg(a[0]))?;
    Ok(0)
}

pub fn dup(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(fd_arg(a[0]))?;
    Ok(t.fds.install(f, false, 0, t.nofile())? as u64)
}

fn dup_to(t: &mut Task, old: i32, new: i32, cloexec: bool) -> SysResult {
    let f = t.fds.get(old)?;
    if new < 0 || new as u64 >= t.nofile() {
        return Err(Errno::EBADF);
    }
    t.fds.install_at(new, f, cloexec);
    Ok(new as u64)
}

pub fn dup2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, new) = (fd_arg(a[0]), fd_arg(a[1]));
    if old == new {
        t.fds.get(old)?;
        return Ok(new as u64);
    }
    dup_to(t, old, new, false)
}

pub fn dup3(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, new) = (fd_arg(a[0]), fd_arg(a[1]));
    if a[2] & !(libc::O_CLOEXEC as u64) != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    dup_to(t, old, new, a[2] != 0)
}

pub fn fcntl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(a[0]);
    let entry = t.fds.entry(fd)?;
    let f = entry.file;
    match a[1] as i32 {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            let min = a[2] as i64;
            if min < 0 || min as u64 >= t.nofile() {
                return Err(Errno::EINVAL);
            }
            let cloexec = a[1] as i32 == libc::F_DUPFD_CLOEXEC;
            Ok(t.fds.install(f, cloexec, min as i32, t.nofile())? as u64)
        }
        libc::F_GETFD => Ok(if entry.cloexec {
            libc::FD_CLOEXEC as u64
        } else {
            0
        }),
        libc::F_SETFD => {
            t.fds.set_cloexec(fd, a[2] & libc::FD_CLOEXEC as u64 != 0)?;
            Ok(0)
        }
        libc::F_GETFL => Ok(f.flags() as u64),
        libc::F_SETFL => {
            if f.is_path() {
                return Err(Errno::EBADF);
            }
            f.set_status_flags(a[2] as u32);
            Ok(0)
        }
        libc::F_GETLK
        | libc::F_SETLK
        | libc::F_SETLKW
        | libc::F_OFD_GETLK
        | libc::F_OFD_SETLK
        | libc::F_OFD_SETLKW => record_lock(t, &f, a[1] as i32, a[2]),
        libc::F_GET_SEALS => Ok(f.ops.seals()? as u64),
        libc::F_ADD_SEALS => {
            if !f.writable() {
                return Err(Errno::EPERM);
            }
            let seals = a[2] as u32;
            let mapped = seals & libc::F_SEAL_WRITE as u32 != 0
                && f.ops
                    .mappable()
                    .is_some_and(|m| t.k.mapped_shared_writable(&*m));
            f.ops.add_seals(seals, mapped)?;
            Ok(0)
        }
        libc::F_GETPIPE_SZ | libc::F_SETPIPE_SZ => {
            let pipe = f
                .ops
                .as_any()
                .and_then(|x| x.downcast_ref::<crate::fs::pipe::PipeEnd>())
                .ok_or(Errno::EBADF)?;
            if a[1] as i32 == libc::F_GETPIPE_SZ {
                return Ok(pipe.pipe.size() as u64);
            }
            Ok(pipe.pipe.set_size(a[2] as usize)? as u64)
        }
        _ => {
            t.k.log_enosys(u64::MAX - a[1], &format!("fcntl cmd {}", a[1]));
            Err(Errno::EINVAL)
        }
    }
}

/// fcntl's record locks: POSIX (owned by the descriptor table) and OFD (owned by the open
/// file description).
fn record_lock(t: &mut Task, f: &Arc<OpenFile>, cmd: i32, arg: u64) -> SysResult {
    use crate::vfs::lock::{self, Kind};
    let ofd = matches!(
        cmd,
        libc::F_OFD_GETLK | libc::F_OFD_SETLK | libc::F_OFD_SETLKW
    );
    let mut fl: libc::flock = t.mm.copy_in(arg)?;
    if f.is_path() {
        return Err(Errno::EBADF);
    }
    let st = f.stat()?;
    let base = match fl.l_whence as i32 {
        libc::SEEK_SET => 0,
        libc::SEEK_CUR => *f.offset() as i64,
        libc::SEEK_END => st.size as i64,
        _ => return Err(Errno::EINVAL),
    };
    let start = base.checked_add(fl.l_start).ok_or(Errno::EOVERFLOW)?;
    let (start, end) = match fl.l_len {
        0 => (start, u64::MAX),
        n if n > 0 => {
            let end = start.checked_add(n - 1).ok_or(Errno::EOVERFLOW)?;
            (start, end as u64)
        }
        n => {
            let s = start.checked_add(n).ok_or(Errno::EINVAL)?;
            if s < 0 {
                return Err(Errno::EINVAL);
            }
            (s, (start - 1) as u64)
        }
    };
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    let start = start as u64;
    let kind = match fl.l_type as i32 {
        libc::F_RDLCK => Some(Kind::Read),
        libc::F_WRLCK => Some(Kind::Write),
        libc::F_UNLCK => None,
        _ => return Err(Errno::EINVAL),
    };
    if ofd && fl.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    let owner = if ofd {
        f.lock_owner()
    } else {
        t.fds.lock_owner()
    };
    let id = (st.dev, st.ino);
    if cmd == libc::F_GETLK || cmd == libc::F_OFD_GETLK {
        let kind = kind.ok_or(Errno::EINVAL)?;
        match lock::test(id, owner, start, end, kind) {
            Some(r) => {
                fl.l_type = if r.kind == Kind::Write {
                    libc::F_WRLCK
                } else {
                    libc::F_RDLCK
                } as i16;
                fl.l_whence = libc::SEEK_SET as i16;
                fl.l_start = r.start as i64;
                fl.l_len = if r.end == u64::MAX {
                    0
                } else {
                    (r.end - r.start + 1) as i64
                };
                fl.l_pid = r.pid;
            }
            None => fl.l_type = libc::F_UNLCK as i16,
        }
        t.mm.copy_out(arg, &fl)?;
        return Ok(0);
    }
    match kind {
        Some(Kind::Read) if !f.readable() => return Err(Errno::EBADF),
        Some(Kind::Write) if !f.writable() => return Err(Errno::EBADF),
        _ => {}
    }
    let pid = if ofd { -1 } else { t.tgid };
    let wait = cmd == libc::F_SETLKW || cmd == libc::F_OFD_SETLKW;
    if !wait {
        return match lock::set(id, owner, pid, start, end, kind, false)? {
            None => Ok(0),
            Some(_) => Err(Errno::EAGAIN),
        };
    }
    t.block_on(&[lock::released()], None, |_| {
        Ok(lock::set(id, owner, pid, start, end, kind, true)?
            .is_none()
            .then_some(0))
    })
    .inspect_err(|_| lock::stop_waiting(owner))
}

/// flock(2): whole-file locks owned by the open file description.
pub fn flock(t: &mut Task, a: [u64; 6]) -> SysResult {
    use crate::vfs::lock::{self, Kind};
    let f = t.fds.get(fd_arg(a[0]))?;
    if f.is_path() {
        return Err(Errno::EBADF);
    }
    let op = a[1] as i32;
    let kind = match op & !libc::LOCK_NB {
        libc::LOCK_SH => Some(Kind::Read),
        libc::LOCK_EX => Some(Kind::Write),
        libc::LOCK_UN => None,
        _ => return Err(Errno::EINVAL),
    };
    let st = f.stat()?;
    let id = (st.dev, st.ino);
    let ofd = Arc::as_ptr(&f) as usize;
    if lock::flock(id, ofd, kind) {
        return Ok(0);
    }
    if op & libc::LOCK_NB != 0 {
        return Err(Errno::EAGAIN);
    }
    t.block_on(&[lock::released()], None, |_| {
        Ok(lock::flock(id, ofd, kind).then_some(0))
    })
}

pub fn ioctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let fd = fd_arg(a[0]);
    let f = t.fds.get(fd)?;
    if f.is_path() {
        return Err(Errno::EBADF);
    }
    match a[1] {
        r if r == libc::FIOCLEX => t.fds.set_cloexec(fd, true).map(|_| 0),
        r if r == libc::FIONCLEX => t.fds.set_cloexec(fd, false).map(|_| 0),
        r if r == libc::FIONBIO => {
            let on: i32 = t.mm.copy_in(a[2])?;
            let fl = f.flags() & !(libc::O_NONBLOCK as u32);
            f.set_status_flags(if on != 0 {
                fl | libc::O_NONBLOCK as u32
            } else {
                fl
            });
            Ok(0)
        }
        r if r == libc::FIONREAD && f.ops.seekable() => {
            let st = f.stat()?;
            if st.file_type() != libc::S_IFREG {
                return f.ops.ioctl(&t.mm, r, a[2]);
            }
            // Linux's file_ioctl: the size less the offset, stored as an int (negative
            // past the end).
            let n = (st.size as i64).wrapping_sub(*f.offset() as i64) as i32;
            t.mm.copy_out(a[2], &n)?;
            Ok(0)
        }
        // The file system's block size, for any open file.
        r if r == FIGETBSZ => {
            let bsz = i32::try_from(f.stat()?.blksize).unwrap_or(i32::MAX);
            t.mm.copy_out(a[2], &bsz)?;
            Ok(0)
        }
        r if r == TIOCGPTPEER => open_pty_peer(t, &f, a[2] as u32),
        // Interface ioctls (SIOCGIF*) are any socket's, as in Linux.
        r if crate::net::ifreq::is_interface_request(r)
            && f.stat()?.file_type() == libc::S_IFSOCK =>
        {
            let nic = t.k.net().lock().nic.clone();
            crate::net::ifreq::ioctl(nic.as_ref(), &t.mm, r, a[2])
        }
        r => f.ops.ioctl(&t.mm, r, a[2]),
    }
}

/// TIOCGPTPEER (not in the libc crate): _IO('T', 0x41).
const TIOCGPTPEER: u64 = 0x5441;
/// FIGETBSZ, _IO(0x00, 2) in linux/fs.h (not in the libc crate).
const FIGETBSZ: u64 = 2;

/// TIOCGPTPEER on a pty master: a new descriptor for its slave, as if /dev/pts/N were
/// opened with `flags` (only the access mode, O_NONBLOCK, O_NOCTTY and O_CLOEXEC count).
fn open_pty_peer(t: &mut Task, f: &Arc<OpenFile>, flags: u32) -> SysResult {
    let keep = (libc::O_ACCMODE | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC) as u32;
    let flags = flags & keep;
    let (index, ops) = crate::fs::pty::open_peer(f.ops.as_ref(), flags)?;
    // The slave's name in the sandbox's devpts, when it is where it usually is.
    let path = format!("/dev/pts/{index}");
    let fs = t.fs();
    let dentry = crate::vfs::resolve(&fs, &t.creds, &fs.root, path.as_bytes(), false)
        .ok()
        .filter(|d| {
            d.inode
                .stat()
                .is_ok_and(|s| s.rdev == ops.stat().map(|o| o.rdev).unwrap_or(0))
        });
    let file = OpenFile::new(dentry, ops, flags);
    let cloexec = flags & libc::O_CLOEXEC as u32 != 0;
    Ok(t.fds.install(file, cloexec, 0, t.nofile())? as u64)
}

pub fn close_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (lo, hi, flags) = (a[0] as u32, a[1] as u32, a[2] as u32);
    if flags & !(libc::CLOSE_RANGE_CLOEXEC | libc::CLOSE_RANGE_UNSHARE) != 0 || lo > hi {
        return Err(Errno::EINVAL);
    }
    t.fds
        .close_range(lo, hi, flags & libc::CLOSE_RANGE_CLOEXEC != 0);
    Ok(0)
}

pub fn pipe2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[1] as u32;
    if flags & !((libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_DIRECT) as u32) != 0 {
        return Err(Errno::EINVAL);
    }
    let (r, w) = crate::fs::pipe::new(flags & (libc::O_NONBLOCK | libc::O_DIRECT) as u32);
    let cloexec = flags & libc::O_CLOEXEC as u32 != 0;
    let rfd = t.fds.install(r, cloexec, 0, t.nofile())?;
    let wfd = match t.fds.install(w, cloexec, 0, t.nofile()) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = t.fds.remove(rfd);
            return Err(e);
        }
    };
    if let Err(e) = t.mm.copy_out(a[0], &[rfd, wfd]) {
        let _ = t.fds.remove(rfd);
        let _ = t.fds.remove(wfd);
        return Err(e);
    }
    Ok(0)
}

pub fn pipe(t: &mut Task, a: [u64; 6]) -> SysResult {
    pipe2(t, [a[0], 0, 0, 0, 0, 0])
}

/// posix_fadvise: advice only; the arguments are checked as Linux checks them.
/// readahead(2): a file open for reading (EBADF otherwise) that has a page cache, a regular
/// file (EINVAL otherwise). Advice, as fadvise's WILLNEED: the sentry's page caches fill on
/// first use.
pub fn readahead(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = super::file_arg(t, a[0])?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    let st = f.ops.stat()?;
    if st.mode & libc::S_IFMT != libc::S_IFREG {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

pub fn fadvise64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = super::file_arg(t, a[0])?;
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    if (a[2] as i64) < 0 || a[3] > 5 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}
