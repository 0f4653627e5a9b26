//! Open file descriptions.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Dentry, Stat};
use crate::errno::Errno;
use crate::mm::{Mappable, MemoryManager};

/// One directory entry, as getdents64 reports it.
#[derive(Debug, Clone)]
pub struct DirEntry {
    pub ino: u64,
    pub kind: u8,
    pub name: Vec<u8>,
}

/// What a file type can do. Defaults are Linux's answers for a file that cannot do it.
pub trait FileOps: Send + Sync {
    /// Read at `off` (ignored by streams).
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    /// Streams (pipes, terminals, sockets) have no offset: lseek and pread give ESPIPE.
    fn seekable(&self) -> bool {
        true
    }
    fn stat(&self) -> Result<Stat, Errno>;
    fn ioctl(&self, _mm: &MemoryManager, _req: u64, _arg: u64) -> Result<u64, Errno> {
        Err(Errno::ENOTTY)
    }
    /// The object to map for mmap; None means ENODEV.
    fn mappable(&self) -> Option<Arc<dyn Mappable>> {
        None
    }
    /// Read straight into application memory at `addr` (files whose data are memory-file
    /// pages: no bounce buffer). None: this file has no such path.
    fn read_direct(
        &self,
        _mm: &MemoryManager,
        _addr: u64,
        _len: usize,
        _off: u64,
    ) -> Option<Result<usize, Errno>> {
        None
    }
    /// Write straight from application memory; None as for `read_direct`.
    fn write_direct(
        &self,
        _mm: &MemoryManager,
        _addr: u64,
        _len: usize,
        _off: u64,
    ) -> Option<Result<usize, Errno>> {
        None
    }
    /// A host fd holding the data, for reads straight into application memory.
    fn host_fd(&self) -> Option<i32> {
        None
    }
    /// Blocking I/O: the queue announcing that the file may have become readable or writable.
    /// Files that never block have none.
    fn wait_queue(&self) -> Option<&crate::kernel::wait::WaitQueue> {
        None
    }
    /// How long blocking reads (`write` false) or writes may wait before EAGAIN (a socket's
    /// SO_RCVTIMEO/SO_SNDTIMEO); None: as long as it takes.
    fn io_timeout(&self, _write: bool) -> Option<std::time::Duration> {
        None
    }
    /// poll(2) readiness: POLLIN, POLLOUT, POLLHUP, POLLERR bits.
    fn readiness(&self) -> u32 {
        (libc::POLLIN | libc::POLLOUT) as u32
    }
    /// Readiness comes from a host fd that announces nothing to the sentry (stdio): poll must
    /// look again from time to time.
    fn host_pollable(&self) -> bool {
        false
    }
    /// fallocate(2) (`mode`: FALLOC_FL_* bits the caller checked); EOPNOTSUPP where the file
    /// system has no such operation.
    fn fallocate(&self, _mode: u32, _off: u64, _len: u64) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    /// fsync (`data_only`: fdatasync): make the file's data durable where it lives. Files in
    /// sandbox memory have nowhere further to go.
    fn sync(&self, _data_only: bool) -> Result<(), Errno> {
        Ok(())
    }
    /// Whether every lseek lands at 0 whatever it asks (the memory devices' null_lseek).
    fn seeks_to_zero(&self) -> bool {
        false
    }
    /// Whether mmap of this file maps anonymous memory instead (/dev/zero).
    fn maps_anonymous(&self) -> bool {
        false
    }
    /// SEEK_DATA (`hole` false) or SEEK_HOLE from `off` (already below the size): the
    /// position found, ENXIO when there is no data at or after `off`. None for files kept
    /// without holes, where all of the file is data and its end the only hole.
    fn seek_hole_data(&self, _off: u64, _hole: bool) -> Option<Result<u64, Errno>> {
        None
    }
    /// F_GET_SEALS: the file's seals; EINVAL for files that cannot be sealed.
    fn seals(&self) -> Result<u32, Errno> {
        Err(Errno::EINVAL)
    }
    /// F_ADD_SEALS (`writably_mapped`: some address space maps the file shared and
    /// writable, which F_SEAL_WRITE refuses with EBUSY).
    fn add_seals(&self, _seals: u32, _writably_mapped: bool) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }
    /// ftruncate; files that cannot be resized give EINVAL.
    fn truncate(&self, _size: u64) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }
    /// The concrete type behind an Arc (sockets); None for types that do not offer it.
    fn into_any_arc(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        None
    }
    /// The name of an anonymous-inode file (eventfd, epoll...) as /proc/<pid>/fd shows it
    /// after "anon_inode:".
    fn anon_name(&self) -> Option<&'static str> {
        None
    }
    /// Lines this kind of file adds to /proc/<pid>/fdinfo/<fd> (Linux's show_fdinfo).
    fn fdinfo(&self) -> String {
        String::new()
    }
    /// For syscalls that need the concrete type (pidfds, pipes).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// The kernel's O_LARGEFILE (the libc crate's is 0 on x86_64): every open(2) of a 64-bit
/// process gets it (force_o_largefile), and F_GETFL shows it.
pub const O_LARGEFILE: u32 = 0o100000;

/// The status flags an open(2) with `flags` leaves on its description: O_LARGEFILE added,
/// and of an O_PATH open only what O_PATH allows (O_DIRECTORY, O_NOFOLLOW, O_PATH).
pub fn opened_flags(flags: u32) -> u32 {
    if flags & libc::O_PATH as u32 != 0 {
        flags & (libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u32
    } else {
        flags | O_LARGEFILE
    }
}

thread_local! {
    /// Set while a blocking read whose `io_timeout` ran out takes its last look (each task
    /// runs on its own host thread).
    static IO_TIMED_OUT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `op` as the last try of a blocking read whose `io_timeout` ran out: files that answer
/// something other than EAGAIN then (a terminal's VTIME) see `io_timed_out()`.
pub fn after_io_timeout<R>(op: impl FnOnce() -> R) -> R {
    IO_TIMED_OUT.with(|c| c.set(true));
    let r = op();
    IO_TIMED_OUT.with(|c| c.set(false));
    r
}

/// Whether the caller is the last try of a read whose `io_timeout` ran out.
pub fn io_timed_out() -> bool {
    IO_TIMED_OUT.with(|c| c.get())
}

/// An `Arc<dyn FileOps>` as `Arc<dyn Any>`, for file types that need their concrete type.
pub fn as_any_arc(ops: Arc<dyn FileOps>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
    ops.into_any_arc()
}

/// An open file description: shared by dup'ed descriptors (offset and status flags included).
pub struct OpenFile {
    pub dentry: Option<Arc<Dentry>>,
    pub ops: Arc<dyn FileOps>,
    flags: AtomicU32,
    pub offset: Mutex<u64>,
    /// Directory listing, taken at the first getdents and on rewind.
    pub dir_listing: Mutex<Option<Vec<DirEntry>>>,
    /// The credentials (`Creds::serial`) that opened it by name; 0 for other files.
    opener: AtomicU64,
}

/// Status flags F_SETFL may change.
pub const SETFL_MASK: u32 =
    (libc::O_APPEND | libc::O_NONBLOCK | libc::O_ASYNC | libc::O_DIRECT | libc::O_NOATIME) as u32;

impl Drop for OpenFile {
    fn drop(&mut self) {
        if let (Some(d), false) = (&self.dentry, self.is_path()) {
            let mask = if self.writable() {
                crate::fs::inotify::IN_CLOSE_WRITE
            } else {
                crate::fs::inotify::IN_CLOSE_NOWRITE
            };
            crate::fs::inotify::file_event(d, mask);
        }
        if !super::lock::in_use() {
            return;
        }
        if let Ok(st) = self.ops.stat() {
            super::lock::release_file((st.dev, st.ino), self.lock_owner());
        }
    }
}

impl OpenFile {
    /// This description as the owner of OFD record locks and flock(2) locks.
    pub fn lock_owner(&self) -> super::lock::Owner {
        super::lock::Owner::Ofd(self as *const OpenFile as usize)
    }

    pub fn new(dentry: Option<Arc<Dentry>>, ops: Arc<dyn FileOps>, flags: u32) -> Arc<OpenFile> {
        // Creation-only flags are not kept.
        let keep =
            !((libc::O_CREAT | libc::O_EXCL | libc::O_NOCTTY | libc::O_TRUNC | libc::O_CLOEXEC)
                as u32);
        if let (Some(d), true) = (&dentry, flags & libc::O_PATH as u32 == 0) {
            crate::fs::inotify::file_event(d, crate::fs::inotify::IN_OPEN);
        }
        Arc::new(OpenFile {
            dentry,
            ops,
            flags: AtomicU32::new(flags & keep),
            offset: Mutex::new(0),
            dir_listing: Mutex::new(None),
            opener: AtomicU64::new(0),
        })
    }

    /// Record the credentials that opened the file (open, openat, openat2, creat).
    pub fn opened_by(self: Arc<Self>, creds: &super::Creds) -> Arc<Self> {
        self.opener.store(creds.serial, Ordering::Relaxed);
        self
    }

    /// Whether these are the credentials that opened the file.
    pub fn opened_with(&self, creds: &super::Creds) -> bool {
        self.opener.load(Ordering::Relaxed) == creds.serial
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub fn set_status_flags(&self, f: u32) {
        let old = self.flags();
        self.flags
            .store((old & !SETFL_MASK) | (f & SETFL_MASK), Ordering::Relaxed);
    }

    /// The file's attributes now (a directory's from its inode: open directories keep only
    /// what they had when opened).
    pub fn stat(&self) -> Result<Stat, Errno> {
        match &self.dentry {
            Some(d) if d.is_dir() => d.inode.stat(),
            _ => self.ops.stat(),
        }
    }

    /// The file was read or listed: its atime may move (not with O_NOATIME, not on a
    /// read-only mount).
    pub fn accessed(&self) {
        if let Some(d) = &self.dentry {
            if self.flags() & libc::O_NOATIME as u32 == 0 && !d.read_only() {
                d.inode.accessed();
            }
        }
    }

    pub fn readable(&self) -> bool {
        let acc = self.flags() & libc::O_ACCMODE as u32;
        acc == libc::O_RDONLY as u32 || acc == libc::O_RDWR as u32
    }

    pub fn writable(&self) -> bool {
        let acc = self.flags() & libc::O_ACCMODE as u32;
        acc == libc::O_WRONLY as u32 || acc == libc::O_RDWR as u32
    }

    pub fn is_path(&self) -> bool {
        self.flags() & libc::O_PATH as u32 != 0
    }

    pub fn offset(&self) -> std::sync::MutexGuard<'_, u64> {
        self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}
