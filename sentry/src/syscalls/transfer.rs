//! In-kernel copies between files: sendfile, copy_file_range; fallocate; memfd_create.

use std::sync::{Arc, OnceLock};

use super::fd_arg;
use super::rw::{epipe, readable, writable, MAX_RW};
use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::vfs::{Dentry, OpenFile};

/// Bytes moved per step.
const STEP: usize = 1 << 16;

/// Write all of `buf` to `f`: at `off` for files, blocking on a full stream unless
/// O_NONBLOCK (then what went through counts). Returns the bytes written.
fn put(t: &mut Task, f: &Arc<OpenFile>, buf: &[u8], off: u64) -> Result<usize, Errno> {
    if let (Some(d), false) = (&f.dentry, buf.is_empty()) {
        crate::vfs::kill_suid(d, &t.creds)?;
    }
    let mut done = 0;
    while done < buf.len() {
        match f.ops.write(&buf[done..], off + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(Errno::EAGAIN) if f.flags() & libc::O_NONBLOCK as u32 == 0 => {
                let Some(q) = f.ops.wait_queue() else {
                    return Err(Errno::EAGAIN);
                };
                let r = t.block_io(&[q], None, |_| {
                    Ok(
                        ((f.ops.readiness() & (libc::POLLOUT | libc::POLLERR) as u32) != 0)
                            .then_some(()),
                    )
                });
                if let Err(e) = r {
                    return if done > 0 { Ok(done) } else { Err(e) };
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// An offset argument: Some(pointer's value) or None for the file's own offset.
fn offset_arg(t: &Task, addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let off: i64 = t.mm.copy_in(addr)?;
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(off as u64))
}

/// Move up to `count` bytes from `inp` at `in_off` to `out` (`out_off`, or its offset for
/// seekable files, nothing for streams). Returns (bytes moved, final in offset).
fn copy(
    t: &mut Task,
    inp: &Arc<OpenFile>,
    mut in_off: u64,
    out: &Arc<OpenFile>,
    out_off: Option<u64>,
    count: usize,
) -> Result<(usize, u64, u64), Errno> {
    let mut buf = vec![0u8; STEP.min(count.max(1))];
    let mut total = 0usize;
    let mut o = match out_off {
        Some(o) => o,
        None if out.ops.seekable() => *out.offset(),
        None => 0,
    };
    while total < count {
        let want = (count - total).min(buf.len());
        let got = match inp.ops.read(&mut buf[..want], in_off) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        let put = match put(t, out, &buf[..got], o) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += put;
        in_off += put as u64;
        o += put as u64;
        if put < got {
            break;
        }
    }
    if out_off.is_none() && out.ops.seekable() {
        *out.offset() = o;
    }
    Ok((total, in_off, o))
}

/// sendfile(2): from a file (not a stream) to any file or stream.
pub fn sendfile(t: &mut Task, a: [u64; 6]) -> SysResult {
    let inp = readable(t, fd_arg(a[1]))?;
    let out = writable(t, fd_arg(a[0]))?;
    if !inp.ops.seekable() || out.flags() & libc::O_APPEND as u32 != 0 {
        return Err(Errno::EINVAL);
    }
    let count = (a[3] as usize).min(MAX_RW);
    let given = offset_arg(t, a[2])?;
    let start = match given {
        Some(o) => o,
        None => *inp.offset(),
    };
    let r = copy(t, &inp, start, &out, None, count);
    let (n, end, _) = match r {
        Ok(v) => v,
        Err(e) => return epipe(t, Err(e)),
    };
    match given {
        Some(_) => t.mm.copy_out(a[2], &(end as i64))?,
        None => *inp.offset() = end,
    }
    Ok(n as u64)
}

/// copy_file_range(2): between regular files, offsets by pointer or the files' own.
pub fn copy_file_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[5] != 0 {
        return Err(Errno::EINVAL);
    }
    let inp = readable(t, fd_arg(a[0]))?;
    let out = writable(t, fd_arg(a[2]))?;
    if out.flags() & libc::O_APPEND as u32 != 0 {
        return Err(Errno::EBADF);
    }
    let (si, so) = (inp.stat()?, out.stat()?);
    for s in [&si, &so] {
        match s.file_type() {
            libc::S_IFREG => {}
            libc::S_IFDIR => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
    }
    let in_given = offset_arg(t, a[1])?;
    let out_given = offset_arg(t, a[3])?;
    let in_off = in_given.unwrap_or_else(|| *inp.offset());
    let out_off = out_given.unwrap_or_else(|| *out.offset());
    let len = (a[4] as usize).min(MAX_RW);
    // The same file: the ranges may not overlap.
    if (si.dev, si.ino) == (so.dev, so.ino) {
        let (ie, oe) = (
            in_off.saturating_add(len as u64),
            out_off.saturating_add(len as u64),
        );
        if in_off < oe && out_off < ie {
            return Err(Errno::EINVAL);
        }
    }
    let (n, in_end, out_end) = copy(t, &inp, in_off, &out, Some(out_off), len)?;
    match in_given {
        Some(_) => t.mm.copy_out(a[1], &(in_end as i64))?,
        None => *inp.offset() = in_end,
    }
    match out_given {
        Some(_) => t.mm.copy_out(a[3], &(out_end as i64))?,
        None => *out.offset() = out_end,
    }
    Ok(n as u64)
}

/// The pipe behind an open file, if it is one (an anonymous pipe's end or a FIFO's).
fn pipe_of(f: &OpenFile) -> Option<Arc<crate::fs::pipe::Pipe>> {
    f.ops
        .as_any()
        .and_then(|a| a.downcast_ref::<crate::fs::pipe::PipeEnd>())
        .map(|e| e.pipe.clone())
}

const SPLICE_F_NONBLOCK: u64 = 2;
const SPLICE_FLAGS: u64 = 0xf;

/// Wait until `f` is ready for one of `events` (or in error); EAGAIN when `nonblock`. A pipe's
/// read end is ready with data or with no writers left (the caller then reads the EOF); its
/// write end with room or with no readers left (the write then fails with EPIPE).
fn wait_ready(t: &mut Task, f: &Arc<OpenFile>, events: i16, nonblock: bool) -> Result<(), Errno> {
    let mask = (events | libc::POLLHUP | libc::POLLERR) as u32;
    if f.ops.readiness() & mask != 0 {
        return Ok(());
    }
    if nonblock {
        return Err(Errno::EAGAIN);
    }
    let q = f.ops.wait_queue().ok_or(Errno::EINVAL)?;
    t.block_io(&[q], None, |_| {
        Ok((f.ops.readiness() & mask != 0).then_some(()))
    })
}

fn nonblocking(f: &OpenFile) -> bool {
    f.flags() & libc::O_NONBLOCK as u32 != 0
}

/// splice(2): between a pipe and a file, socket or another pipe.
pub fn splice(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (off_in, off_out, flags) = (a[1], a[3], a[5]);
    if flags & !SPLICE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let inp = readable(t, fd_arg(a[0]))?;
    let out = writable(t, fd_arg(a[2]))?;
    let (pin, pout) = (pipe_of(&inp), pipe_of(&out));
    if pin.is_none() && pout.is_none() {
        return Err(Errno::EINVAL);
    }
    if (pin.is_some() && off_in != 0) || (pout.is_some() && off_out != 0) {
        return Err(Errno::ESPIPE);
    }
    // Other files without positions (sockets...) take no offset either.
    if (off_in != 0 && !inp.ops.seekable()) || (off_out != 0 && !out.ops.seekable()) {
        return Err(Errno::EINVAL);
    }
    if let (Some(x), Some(y)) = (&pin, &pout) {
        if Arc::ptr_eq(x, y) {
            return Err(Errno::EINVAL);
        }
    }
    if out.flags() & libc::O_APPEND as u32 != 0 {
        return Err(Errno::EINVAL);
    }
    let len = (a[4] as usize).min(MAX_RW);
    if len == 0 {
        return Ok(0);
    }
    let nonblock = flags & SPLICE_F_NONBLOCK != 0;
    let in_given = if pin.is_none() {
        offset_arg(t, off_in)?
    } else {
        None
    };
    let out_given = if pout.is_none() {
        offset_arg(t, off_out)?
    } else {
        None
    };
    // From a pipe: what is buffered (waiting for some), at most `len`. From a stream
    // (a socket): what one read gives, once there is something (its O_NONBLOCK decides).
    let mut count = match &pin {
        Some(p) => {
            wait_ready(t, &inp, libc::POLLIN, nonblock || nonblocking(&inp))?;
            p.buffered().min(len)
        }
        None => {
            if !inp.ops.seekable() {
                wait_ready(t, &inp, libc::POLLIN, nonblocking(&inp))?;
            }
            len.min(STEP * 16)
        }
    };
    // Into a pipe: what fits (waiting for room); a full pipe is never waited on halfway.
    if let (Some(p), true) = (&pout, count > 0) {
        wait_ready(t, &out, libc::POLLOUT, nonblock || nonblocking(&out))?;
        let room = p.size().saturating_sub(p.buffered());
        if room > 0 {
            count = count.min(room);
        }
    }
    if count == 0 {
        return Ok(0); // the input pipe has no writers left
    }
    let in_off = in_given.unwrap_or_else(|| if pin.is_none() { *inp.offset() } else { 0 });
    let r = copy(t, &inp, in_off, &out, out_given, count);
    let (n, in_end, out_end) = match r {
        Ok(v) => v,
        Err(e) => return epipe(t, Err(e)),
    };
    if pin.is_none() {
        match in_given {
            Some(_) => t.mm.copy_out(off_in, &(in_end as i64))?,
            None => *inp.offset() = in_end,
        }
    }
    if out_given.is_some() {
        t.mm.copy_out(off_out, &(out_end as i64))?;
    }
    Ok(n as u64)
}

/// tee(2): copy what one pipe holds into another without consuming it.
pub fn tee(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] & !SPLICE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let inp = readable(t, fd_arg(a[0]))?;
    let out = writable(t, fd_arg(a[1]))?;
    let (Some(pin), Some(pout)) = (pipe_of(&inp), pipe_of(&out)) else {
        return Err(Errno::EINVAL);
    };
    if Arc::ptr_eq(&pin, &pout) {
        return Err(Errno::EINVAL);
    }
    let nonblock = a[3] & SPLICE_F_NONBLOCK != 0;
    wait_ready(t, &inp, libc::POLLIN, nonblock || nonblocking(&inp))?;
    let mut buf = vec![0u8; (a[2] as usize).min(pin.buffered()).min(MAX_RW)];
    let n = pin.peek(&mut buf);
    if n == 0 {
        return Ok(0);
    }
    let r = put(t, &out, &buf[..n], 0);
    epipe(t, r)
}

/// vmsplice(2): application memory into a pipe (its write end) or out of it (its read end).
pub fn vmsplice(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] & !SPLICE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let f = t.fds.get(fd_arg(a[0]))?;
    if pipe_of(&f).is_none() {
        return Err(Errno::EBADF);
    }
    let args = [a[0], a[1], a[2], 0, 0, 0];
    if f.writable() {
        super::rw::writev(t, args)
    } else {
        super::rw::readv(t, args)
    }
}

/// fallocate(2) on files that keep their data in sandbox memory (tmpfs, the overlay's upper
/// layer): allocate, punch holes, zero ranges.
pub fn fallocate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds.get(fd_arg(a[0]))?;
    if !f.writable() || f.is_path() {
        return Err(Errno::EBADF);
    }
    let (mode, off, len) = (a[1] as u32, a[2] as i64, a[3] as i64);
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    let keep = libc::FALLOC_FL_KEEP_SIZE as u32;
    let punch = libc::FALLOC_FL_PUNCH_HOLE as u32;
    let zero = libc::FALLOC_FL_ZERO_RANGE as u32;
    if mode & !(keep | punch | zero) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    // Punching needs KEEP_SIZE and excludes zeroing (EOPNOTSUPP, as vfs_fallocate).
    if mode & punch != 0 && (mode & keep == 0 || mode & zero != 0) {
        return Err(Errno::EOPNOTSUPP);
    }
    match f.stat()?.file_type() {
        libc::S_IFREG => {}
        libc::S_IFDIR => return Err(Errno::EISDIR),
        libc::S_IFIFO => return Err(Errno::ESPIPE),
        _ => return Err(Errno::ENODEV),
    }
    let end = (off as u64).checked_add(len as u64).ok_or(Errno::EFBIG)?;
    if end > i64::MAX as u64 {
        return Err(Errno::EFBIG);
    }
    if let Some(d) = &f.dentry {
        crate::vfs::kill_suid(d, &t.creds)?;
    }
    f.ops.fallocate(mode, off as u64, len as u64)?;
    Ok(0)
}

/// The tmpfs memfd files live in (never mounted anywhere).
static MEMFD_ROOT: OnceLock<Arc<Dentry>> = OnceLock::new();

/// memfd_create(2): an anonymous tmpfs file, named "memfd:NAME" (shown deleted).
pub fn memfd_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    const MFD_CLOEXEC: u64 = 1;
    const MFD_ALLOW_SEALING: u64 = 2;
    const MFD_NOEXEC_SEAL: u64 = 8;
    const MFD_EXEC: u64 = 0x10;
    let flags = a[1];
    if flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC) != 0
        || (flags & MFD_NOEXEC_SEAL != 0 && flags & MFD_EXEC != 0)
    {
        return Err(Errno::EINVAL);
    }
    let name = match t.mm.read_cstr(a[0], 250) {
        Ok(n) => n,
        Err(Errno::ENAMETOOLONG) => return Err(Errno::EINVAL),
        Err(e) => return Err(e),
    };
    let root = match MEMFD_ROOT.get() {
        Some(r) => r.clone(),
        None => {
            let fs = crate::fs::tmpfs::Tmpfs::root(t.k.mf.clone(), 0o1777);
            let r = Dentry::new_root(fs, None)?;
            MEMFD_ROOT.get_or_init(|| r).clone()
        }
    };
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut full = b"memfd:".to_vec();
    full.extend_from_slice(&name);
    // Unique while it briefly has a name; the name shown is "memfd:NAME".
    let tmp = format!(
        "{}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed),
        String::from_utf8_lossy(&full)
    );
    let mode = if flags & MFD_NOEXEC_SEAL != 0 {
        0o666
    } else {
        0o777
    };
    let d = root.create(tmp.as_bytes(), libc::S_IFREG | mode, &t.creds)?;
    let ops = d.inode.open(libc::O_RDWR as u32)?;
    let seals = if flags & MFD_NOEXEC_SEAL != 0 {
        libc::F_SEAL_EXEC as u32
    } else if flags & MFD_ALLOW_SEALING != 0 {
        0
    } else {
        libc::F_SEAL_SEAL as u32
    };
    crate::fs::tmpfs::set_initial_seals(&*ops, seals);
    root.unlink(tmp.as_bytes())?;
    d.rename_removed(&full);
    let file = OpenFile::new(
        Some(d),
        ops,
        libc::O_RDWR as u32 | crate::vfs::file::O_LARGEFILE,
    );
    Ok(t.fds
        .install(file, flags & MFD_CLOEXEC != 0, 0, t.nofile())? as u64)
}
