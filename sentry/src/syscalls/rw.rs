//! read, write and friends.

use std::sync::Arc;

use super::fd_arg;
use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::vfs::OpenFile;

/// Largest single transfer (Linux's MAX_RW_COUNT).
pub(super) const MAX_RW: usize = 0x7fff_f000;
/// Bounce buffer size for one step of a transfer.
const CHUNK: usize = 1 << 20;
const IOV_MAX: u64 = 1024;

pub(super) fn readable(t: &Task, fd: i32) -> Result<Arc<OpenFile>, Errno> {
    let f = t.fds.get(fd)?;
    if !f.readable() || f.is_path() {
        return Err(Errno::EBADF);
    }
    Ok(f)
}

pub(super) fn writable(t: &Task, fd: i32) -> Result<Arc<OpenFile>, Errno> {
    let f = t.fds.get(fd)?;
    if !f.writable() || f.is_path() {
        return Err(Errno::EBADF);
    }
    Ok(f)
}

/// Read up to `len` bytes at `off` into application memory at `addr`.
fn read_into(t: &Task, f: &OpenFile, addr: u64, len: usize, off: u64) -> Result<usize, Errno> {
    let n = read_bytes_into(t, f, addr, len, off)?;
    if let (Some(d), true) = (&f.dentry, n > 0) {
        crate::fs::inotify::file_event(d, crate::fs::inotify::IN_ACCESS);
    }
    f.accessed();
    Ok(n)
}

fn read_bytes_into(
    t: &Task,
    f: &OpenFile,
    addr: u64,
    len: usize,
    off: u64,
) -> Result<usize, Errno> {
    let len = len.min(MAX_RW);
    if len == 0 {
        return Ok(0);
    }
    if f.dentry.as_ref().is_some_and(|d| d.is_dir()) {
        return Err(Errno::EISDIR);
    }
    // Regular files with a host fd: straight into the memory file.
    if let Some(hfd) = f.ops.host_fd() {
        return t.mm.pread_into(addr, len, hfd, off);
    }
    if let Some(r) = f.ops.read_direct(&t.mm, addr, len, off) {
        return r;
    }
    let mut total = 0;
    while total < len {
        let n = (len - total).min(CHUNK);
        let mut buf = vec![0u8; n];
        let got = match f.ops.read(&mut buf, off + total as u64) {
            Ok(g) => g,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        t.mm.write_bytes(addr.wrapping_add(total as u64), &buf[..got])?;
        total += got;
        // Streams return what they have; don't block for more.
        if got < n || !f.ops.seekable() {
            break;
        }
    }
    Ok(total)
}

/// RLIMIT_FSIZE for a write of `len` bytes at `off`: the bytes allowed; past the limit,
/// SIGXFSZ and EFBIG (regular files only, as Linux's generic_write_checks).
fn fsize_limit(t: &Task, f: &OpenFile, len: usize, off: u64) -> Result<usize, Errno> {
    let limit = t.rlimit(libc::RLIMIT_FSIZE).rlim_cur;
    if limit == libc::RLIM_INFINITY || len == 0 {
        return Ok(len);
    }
    let regular = f
        .ops
        .stat()
        .is_ok_and(|st| st.mode & libc::S_IFMT == libc::S_IFREG);
    if !regular {
        return Ok(len);
    }
    if off >= limit {
        t.signal_self(libc::SIGXFSZ);
        return Err(Errno::EFBIG);
    }
    Ok(len.min(usize::try_from(limit - off).unwrap_or(usize::MAX)))
}

fn write_from(t: &Task, f: &OpenFile, addr: u64, len: usize, off: u64) -> Result<usize, Errno> {
    let n = write_bytes_from(t, f, addr, len, off)?;
    if n > 0 {
        if let Some(d) = &f.dentry {
            crate::fs::inotify::file_event(d, crate::fs::inotify::IN_MODIFY);
        }
    }
    Ok(n)
}

fn write_bytes_from(
    t: &Task,
    f: &OpenFile,
    addr: u64,
    len: usize,
    off: u64,
) -> Result<usize, Errno> {
    let len = fsize_limit(t, f, len.min(MAX_RW), off)?;
    if len > 0 {
        if let Some(d) = &f.dentry {
            crate::vfs::kill_suid(d, &t.creds)?;
        }
        if let Some(r) = f.ops.write_direct(&t.mm, addr, len, off) {
            return r;
        }
    }
    let mut total = 0;
    while total < len || len == 0 {
        let n = (len - total).min(CHUNK);
        let buf = match t.mm.read_vec(addr.wrapping_add(total as u64), n) {
            Ok(b) => b,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        let put = match f.ops.write(&buf, off + total as u64) {
            Ok(p) => p,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += put;
        if put < n || len == 0 {
            break;
        }
    }
    Ok(total)
}

/// read/write at the file's offset, advancing it.
fn at_offset(f: &OpenFile, io: impl FnOnce(u64) -> Result<usize, Errno>) -> Result<usize, Errno> {
    if !f.ops.seekable() {
        return io(0);
    }
    let mut off = f.offset();
    let n = io(*off)?;
    *off += n as u64;
    Ok(n)
}

/// Run `op` on a file that may not be ready: if it would block (EAGAIN) and the file is
/// in blocking mode, sleep on the file's wait queue and retry.
fn blocking(
    t: &mut Task,
    f: &Arc<OpenFile>,
    mut op: impl FnMut(&Task) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    match op(t) {
        Err(Errno::EAGAIN) if f.flags() & libc::O_NONBLOCK as u32 == 0 => {}
        r => return r,
    }
    let Some(q) = f.ops.wait_queue() else {
        return Err(Errno::EAGAIN);
    };
    let deadline = f
        .ops
        .io_timeout(false)
        .and_then(crate::kernel::time::deadline);
    let r = t.block_io(&[q], deadline, |t| match op(t) {
        Err(Errno::EAGAIN) => Ok(None),
        r => r.map(Some),
    });
    match r {
        // The wait's time is up: one last look, which a terminal answers with what it has.
        Err(Errno::EAGAIN) if deadline.is_some() => crate::vfs::file::after_io_timeout(|| op(t)),
        r => r,
    }
}

pub fn read(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = readable(t, fd_arg(a[0]))?;
    Ok(blocking(t, &f.clone(), |t| {
        at_offset(&f, |off| read_into(t, &f, a[1], a[2] as usize, off))
    })? as u64)
}

/// Write all of a buffer to a stream that may block (a pipe): partial writes continue until
/// everything is written, unless the file is non-blocking or a signal interrupts after some
/// bytes went through (then the count so far is returned).
fn write_stream(t: &mut Task, f: &Arc<OpenFile>, addr: u64, len: usize) -> Result<usize, Errno> {
    let nonblock = f.flags() & libc::O_NONBLOCK as u32 != 0;
    let deadline = f
        .ops
        .io_timeout(true)
        .and_then(crate::kernel::time::deadline);
    let mut total = 0;
    loop {
        match write_from(t, f, addr.wrapping_add(total as u64), len - total, 0) {
            Ok(n) => {
                total += n;
                if total >= len || nonblock {
                    return Ok(total);
                }
            }
            Err(Errno::EAGAIN) if !nonblock => {}
            Err(e) if total > 0 && e != Errno::EPIPE => return Ok(total),
            Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
        }
        let Some(q) = f.ops.wait_queue() else {
            return Ok(total);
        };
        let r = t.block_io(&[q], deadline, |_| {
            let ready = f.ops.readiness();
            Ok((ready & (libc::POLLOUT | libc::POLLERR) as u32 != 0).then_some(()))
        });
        if let Err(e) = r {
            return if total > 0 { Ok(total) } else { Err(e) };
        }
    }
}

pub fn write(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = writable(t, fd_arg(a[0]))?;
    if f.ops.wait_queue().is_some() && !f.ops.seekable() {
        let r = write_stream(t, &f, a[1], a[2] as usize);
        return epipe(t, r);
    }
    let r = at_write_offset(&f, appending(&f), |off| {
        write_from(t, &f, a[1], a[2] as usize, off)
    });
    epipe(t, r)
}

fn appending(f: &OpenFile) -> bool {
    f.flags() & libc::O_APPEND as u32 != 0
}

/// write/writev at the file's offset, or at its end with O_APPEND; the offset then stands
/// after what was written.
fn at_write_offset(
    f: &OpenFile,
    append: bool,
    io: impl FnOnce(u64) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    if !f.ops.seekable() {
        return io(0);
    }
    let mut off = f.offset();
    let pos = if append {
        f.stat().map(|s| s.size).unwrap_or(*off)
    } else {
        *off
    };
    let n = io(pos)?;
    *off = pos + n as u64;
    Ok(n)
}

/// pwrite's position: Linux appends on O_APPEND files (`append`) whatever offset is given.
fn pwrite_pos(f: &OpenFile, append: bool, off: u64) -> u64 {
    if append {
        f.stat().map(|s| s.size).unwrap_or(off)
    } else {
        off
    }
}

/// EPIPE also raises SIGPIPE.
pub(super) fn epipe(t: &mut Task, r: Result<usize, Errno>) -> SysResult {
    if r == Err(Errno::EPIPE) {
        t.signal_self(libc::SIGPIPE);
    }
    Ok(r? as u64)
}

fn positional(f: &OpenFile, off: u64) -> Result<u64, Errno> {
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    if (off as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(off)
}

pub fn pread64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = readable(t, fd_arg(a[0]))?;
    let off = positional(&f, a[3])?;
    Ok(read_into(t, &f, a[1], a[2] as usize, off)? as u64)
}

pub fn pwrite64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = writable(t, fd_arg(a[0]))?;
    let off = pwrite_pos(&f, appending(&f), positional(&f, a[3])?);
    let r = write_from(t, &f, a[1], a[2] as usize, off);
    epipe(t, r)
}

/// An iovec array of `cnt` entries at `addr`: EINVAL past IOV_MAX or for lengths whose sum
/// overflows, EFAULT if unreadable.
pub(super) fn iovecs(t: &Task, addr: u64, cnt: u64) -> Result<Vec<(u64, usize)>, Errno> {
    if cnt > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let mut v = Vec::with_capacity(cnt as usize);
    let mut total: usize = 0;
    for i in 0..cnt {
        let iov: libc::iovec = t.mm.copy_in(addr.wrapping_add(i * 16))?;
        let len = iov.iov_len;
        if (len as isize) < 0 {
            return Err(Errno::EINVAL);
        }
        total = total.checked_add(len).ok_or(Errno::EINVAL)?;
        v.push((iov.iov_base as u64, len));
    }
    Ok(v)
}

type Io = fn(&Task, &OpenFile, u64, usize, u64) -> Result<usize, Errno>;

/// Run `io` over each buffer of an iovec in turn, stopping at the first short transfer. An
/// error after some bytes moved ends the transfer with the bytes so far, as in Linux.
fn vectored(
    t: &Task,
    f: &OpenFile,
    iov: &[(u64, usize)],
    mut off: u64,
    io: Io,
) -> Result<usize, Errno> {
    let mut total = 0;
    for &(base, len) in iov {
        if len == 0 {
            continue;
        }
        let n = match io(t, f, base, len, off) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        off += n as u64;
        if n < len {
            break;
        }
    }
    Ok(total)
}

fn readv_at(t: &Task, f: &OpenFile, iov: &[(u64, usize)], off: u64) -> Result<usize, Errno> {
    vectored(t, f, iov, off, read_into)
}

fn writev_at(t: &Task, f: &OpenFile, iov: &[(u64, usize)], off: u64) -> Result<usize, Errno> {
    vectored(t, f, iov, off, write_from)
}

pub fn readv(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = readable(t, fd_arg(a[0]))?;
    let iov = iovecs(t, a[1], a[2])?;
    Ok(blocking(t, &f.clone(), |t| {
        at_offset(&f, |off| readv_at(t, &f, &iov, off))
    })? as u64)
}

pub fn writev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = writable(t, fd_arg(a[0]))?;
    let iov = iovecs(t, a[1], a[2])?;
    if f.ops.wait_queue().is_some() && !f.ops.seekable() {
        let mut total = 0;
        for &(base, len) in &iov {
            let r = write_stream(t, &f, base, len);
            match r {
                Ok(n) => {
                    total += n;
                    if n < len {
                        break;
                    }
                }
                Err(e) if total == 0 => return epipe(t, Err(e)),
                Err(_) => break,
            }
        }
        return Ok(total as u64);
    }
    let r = at_write_offset(&f, appending(&f), |off| writev_at(t, &f, &iov, off));
    epipe(t, r)
}

pub fn preadv(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = readable(t, fd_arg(a[0]))?;
    let off = positional(&f, a[3])?;
    let iov = iovecs(t, a[1], a[2])?;
    Ok(readv_at(t, &f, &iov, off)? as u64)
}

pub fn pwritev(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = writable(t, fd_arg(a[0]))?;
    let off = pwrite_pos(&f, appending(&f), positional(&f, a[3])?);
    let iov = iovecs(t, a[1], a[2])?;
    let r = writev_at(t, &f, &iov, off);
    epipe(t, r)
}

/// The RWF_* flags preadv2/pwritev2 take (a[5]; a[4] is the offset's high half, unused on
/// 64-bit): HIPRI (a polling hint), DSYNC and SYNC (synced before returning), APPEND and
/// NOAPPEND (O_APPEND for this call). NOWAIT, ATOMIC and DONTCACHE need file system support
/// none of ours has: EOPNOTSUPP, as Linux gives for such files.
fn rw_flags(flags: u64) -> Result<u32, Errno> {
    const TAKEN: u32 = (libc::RWF_HIPRI
        | libc::RWF_DSYNC
        | libc::RWF_SYNC
        | libc::RWF_APPEND
        | libc::RWF_NOAPPEND) as u32;
    let f = u32::try_from(flags).map_err(|_| Errno::EOPNOTSUPP)?;
    if f & !TAKEN != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(f)
}

/// preadv2/pwritev2: offset -1 means the file offset.
pub fn preadv2(t: &mut Task, a: [u64; 6]) -> SysResult {
    rw_flags(a[5])?;
    if a[3] as i64 == -1 {
        return readv(t, a);
    }
    preadv(t, a)
}

pub fn pwritev2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = rw_flags(a[5])?;
    let f = writable(t, fd_arg(a[0]))?;
    let append = if flags & libc::RWF_NOAPPEND as u32 != 0 {
        false
    } else {
        flags & libc::RWF_APPEND as u32 != 0 || appending(&f)
    };
    if a[3] as i64 == -1 && f.ops.wait_queue().is_some() && !f.ops.seekable() {
        return writev(t, a); // streams: the flags change nothing
    }
    let iov = iovecs(t, a[1], a[2])?;
    let r = if a[3] as i64 == -1 {
        at_write_offset(&f, append, |off| writev_at(t, &f, &iov, off))
    } else {
        let off = pwrite_pos(&f, append, positional(&f, a[3])?);
        writev_at(t, &f, &iov, off)
    };
    if r.is_ok() && flags & (libc::RWF_DSYNC | libc::RWF_SYNC) as u32 != 0 {
        f.ops.sync(flags & libc::RWF_SYNC as u32 == 0)?;
    }
    epipe(t, r)
}

pub fn lseek(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = super::file_arg(t, a[0])?;
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    if f.ops.seeks_to_zero() {
        *f.offset() = 0;
        return Ok(0);
    }
    let delta = a[1] as i64;
    let is_dir = f.dentry.as_ref().is_some_and(|d| d.is_dir());
    let mut off = f.offset();
    let size = f.stat()?.size as i64;
    let new = match a[2] as i32 {
        libc::SEEK_SET => Some(delta),
        libc::SEEK_CUR => (*off as i64).checked_add(delta),
        libc::SEEK_END if !is_dir => size.checked_add(delta),
        w @ (libc::SEEK_DATA | libc::SEEK_HOLE) if !is_dir => {
            if delta < 0 || delta >= size {
                return Err(Errno::ENXIO);
            }
            let hole = w == libc::SEEK_HOLE;
            match f.ops.seek_hole_data(delta as u64, hole) {
                Some(r) => Some(r? as i64),
                None if hole => Some(size),
                None => Some(delta),
            }
        }
        _ => return Err(Errno::EINVAL),
    };
    let new = new.ok_or(Errno::EOVERFLOW)?;
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    if is_dir && new == 0 {
        // A directory's offset is an entry index into the listing its description holds
        // (like tmpfs's cursor): back at 0 the listing is read afresh, so rewinddir sees
        // entries made since; elsewhere the listing stays, so telldir/seekdir and d_off come
        // back to the same entry.
        *f.dir_listing.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
    *off = new as u64;
    Ok(new as u64)
}
