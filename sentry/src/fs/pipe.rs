//! Pipes: a byte buffer between a read end and a write end.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;
use crate::mm::MemoryManager;
use crate::vfs::{FileOps, OpenFile, Stat};

/// Writes of at most this many bytes are atomic.
pub const PIPE_BUF: usize = 4096;
/// Default capacity (16 pages, as Linux).
pub const DEFAULT_SIZE: usize = 65536;
/// Largest capacity an unprivileged F_SETPIPE_SZ may ask for (/proc/sys/fs/pipe-max-size).
pub const MAX_SIZE: usize = 1 << 20;

pub struct Pipe {
    st: Mutex<PipeState>,
    pub queue: WaitQueue,
    dev: u64,
    ino: u64,
}

struct PipeState {
    buf: VecDeque<u8>,
    cap: usize,
    readers: usize,
    writers: usize,
}

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, PipeState> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn size(&self) -> usize {
        self.lock().cap
    }

    /// F_SETPIPE_SZ: round up to pages (at least one), never below what is buffered.
    pub fn set_size(&self, want: usize) -> Result<usize, Errno> {
        if want > MAX_SIZE {
            return Err(Errno::EPERM);
        }
        let size = want.max(4096).next_power_of_two();
        let mut st = self.lock();
        if size < st.buf.len() {
            return Err(Errno::EBUSY);
        }
        st.cap = size;
        drop(st);
        self.queue.notify_all();
        Ok(size)
    }
}

/// One end of a pipe.
pub struct PipeEnd {
    pub pipe: Arc<Pipe>,
    write: bool,
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        {
            let mut st = self.pipe.lock();
            if self.write {
                st.writers -= 1;
            } else {
                st.readers -= 1;
            }
        }
        self.pipe.queue.notify_all();
    }
}

impl FileOps for PipeEnd {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        let mut st = self.pipe.lock();
        if st.buf.is_empty() {
            return if st.writers == 0 {
                Ok(0)
            } else {
                Err(Errno::EAGAIN)
            };
        }
        let n = buf.len().min(st.buf.len());
        for (d, s) in buf.iter_mut().zip(st.buf.drain(..n)) {
            *d = s;
        }
        drop(st);
        self.pipe.queue.notify_all();
        Ok(n)
    }

    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        let mut st = self.pipe.lock();
        if st.readers == 0 {
            return Err(Errno::EPIPE);
        }
        let space = st.cap - st.buf.len();
        // Small writes go in whole or not at all.
        if (buf.len() <= PIPE_BUF && space < buf.len()) || space == 0 {
            return Err(Errno::EAGAIN);
        }
        let n = buf.len().min(space);
        st.buf.extend(&buf[..n]);
        drop(st);
        self.pipe.queue.notify_all();
        Ok(n)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = crate::fs::synth::attr(self.pipe.dev, self.pipe.ino, libc::S_IFIFO | 0o600, 0);
        s.blksize = 4096;
        Ok(s)
    }

    fn ioctl(&self, mm: &MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
        if req == libc::FIONREAD {
            let n = self.pipe.lock().buf.len() as i32;
            mm.copy_out(arg, &n)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.pipe.queue)
    }

    fn readiness(&self) -> u32 {
        let st = self.pipe.lock();
        let mut r = 0;
        if self.write {
            if st.readers == 0 {
                r |= libc::POLLERR;
            } else if st.cap - st.buf.len() >= PIPE_BUF.min(st.cap) {
                r |= libc::POLLOUT;
            }
        } else {
            if !st.buf.is_empty() {
                r |= libc::POLLIN;
            }
            if st.writers == 0 {
                r |= libc::POLLHUP;
            }
        }
        r as u32
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// A new pipe: (read end, write end) open files with the given status flags.
pub fn new(flags: u32) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let pipe = Arc::new(Pipe {
        st: Mutex::new(PipeState {
            buf: VecDeque::new(),
            cap: DEFAULT_SIZE,
            readers: 1,
            writers: 1,
        }),
        queue: WaitQueue::default(),
        dev: super::new_dev(),
        ino: super::new_ino(),
    });
    let r = OpenFile::new(
        None,
        Arc::new(PipeEnd {
            pipe: pipe.clone(),
            write: false,
        }),
        libc::O_RDONLY as u32 | flags,
    );
    let w = OpenFile::new(
        None,
        Arc::new(PipeEnd { pipe, write: true }),
        libc::O_WRONLY as u32 | flags,
    );
    (r, w)
}
