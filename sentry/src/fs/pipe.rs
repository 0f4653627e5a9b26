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

/// The buffer is a ring of page-sized slots, as in Linux: a write fills the last slot if it
/// fits there, else takes new slots; a slot is freed once read empty. Capacity is counted in
/// slots, which is what makes a pipe "full" with bytes still unread in a slot.
struct PipeState {
    slots: VecDeque<Slot>,
    /// Bytes already read from the first slot.
    head_off: usize,
    max_slots: usize,
    readers: usize,
    writers: usize,
    /// Opens of each end so far (a FIFO opener waits for the other end to have been opened,
    /// even if it was closed again since, as Linux's r_counter/w_counter).
    reader_opens: u64,
    writer_opens: u64,
}

const SLOT: usize = 4096;

/// One page of the ring.
struct Slot {
    data: Vec<u8>,
    /// Written in packet mode (O_DIRECT): read whole or not at all, never merged into.
    packet: bool,
}

impl PipeState {
    fn len(&self) -> usize {
        self.slots.iter().map(|s| s.data.len()).sum::<usize>() - self.head_off
    }
}

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, PipeState> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn size(&self) -> usize {
        self.lock().max_slots * SLOT
    }

    /// F_SETPIPE_SZ: round up to pages (at least one), never below what is buffered.
    pub fn set_size(&self, want: usize) -> Result<usize, Errno> {
        if want > MAX_SIZE {
            return Err(Errno::EPERM);
        }
        let size = want.max(SLOT).next_power_of_two();
        let mut st = self.lock();
        if size / SLOT < st.slots.len() {
            return Err(Errno::EBUSY);
        }
        st.max_slots = size / SLOT;
        drop(st);
        self.queue.notify_all();
        Ok(size)
    }
}

/// One end of a pipe.
pub struct PipeEnd {
    pub pipe: Arc<Pipe>,
    write: bool,
    /// A write end opened with O_DIRECT: every write makes packets.
    packet: bool,
    /// For a FIFO: the node it was opened through (what fstat reports).
    node: Option<Arc<dyn crate::vfs::Inode>>,
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
        if st.slots.is_empty() {
            return if st.writers == 0 {
                Ok(0)
            } else {
                Err(Errno::EAGAIN)
            };
        }
        let mut n = 0;
        while n < buf.len() {
            let off = st.head_off;
            let Some(front) = st.slots.front() else { break };
            let take = (front.data.len() - off).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&front.data[off..off + take]);
            n += take;
            if front.packet {
                // A packet is read whole: what did not fit is dropped, and it ends the read.
                st.slots.pop_front();
                st.head_off = 0;
                break;
            }
            if off + take == front.data.len() {
                st.slots.pop_front();
                st.head_off = 0;
            } else {
                st.head_off += take;
            }
        }
        drop(st);
        self.pipe.queue.notify_all();
        Ok(n)
    }

    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        // Linux answers an empty write before looking at readers or space.
        if buf.is_empty() {
            return Ok(0);
        }
        let mut st = self.pipe.lock();
        if st.readers == 0 {
            return Err(Errno::EPIPE);
        }
        let mut done = 0;
        // A write's odd tail first goes into the last slot if it fits (Linux merges small
        // writes); the rest takes whole new slots.
        let chars = buf.len() % SLOT;
        if chars != 0 && !self.packet {
            if let Some(last) = st.slots.back_mut().filter(|l| !l.packet) {
                if chars <= SLOT - last.data.len() {
                    last.data.extend_from_slice(&buf[..chars]);
                    done = chars;
                }
            }
        }
        while done < buf.len() {
            if st.slots.len() >= st.max_slots {
                break;
            }
            let n = (buf.len() - done).min(SLOT);
            st.slots.push_back(Slot {
                data: buf[done..done + n].to_vec(),
                packet: self.packet,
            });
            done += n;
        }
        drop(st);
        if done == 0 {
            return Err(Errno::EAGAIN);
        }
        self.pipe.queue.notify_all();
        Ok(done)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        if let Some(n) = &self.node {
            return n.stat();
        }
        let mut s = crate::fs::synth::attr(self.pipe.dev, self.pipe.ino, libc::S_IFIFO | 0o600, 0);
        s.blksize = 4096;
        Ok(s)
    }

    fn ioctl(&self, mm: &MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
        if req == libc::FIONREAD {
            let n = self.pipe.lock().len() as i32;
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
            } else if st.slots.len() < st.max_slots {
                r |= libc::POLLOUT;
            }
        } else {
            if !st.slots.is_empty() {
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

fn new_pipe(ends: usize) -> Arc<Pipe> {
    Arc::new(Pipe {
        st: Mutex::new(PipeState {
            slots: VecDeque::new(),
            head_off: 0,
            max_slots: DEFAULT_SIZE / SLOT,
            readers: ends,
            writers: ends,
            reader_opens: ends as u64,
            writer_opens: ends as u64,
        }),
        queue: WaitQueue::default(),
        dev: super::new_dev(),
        ino: super::new_ino(),
    })
}

/// FIFO nodes' pipes by the node's (device, inode).
type FifoTable = Mutex<std::collections::HashMap<(u64, u64), std::sync::Weak<Pipe>>>;

/// The pipes of FIFO nodes with open ends.
static FIFOS: std::sync::LazyLock<FifoTable> = std::sync::LazyLock::new(Default::default);

/// The pipe behind FIFO node `id`, made at its first open.
pub fn fifo(id: (u64, u64)) -> Arc<Pipe> {
    let mut m = FIFOS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = m.get(&id).and_then(std::sync::Weak::upgrade) {
        return p;
    }
    m.retain(|_, w| w.strong_count() > 0);
    let p = new_pipe(0);
    m.insert(id, Arc::downgrade(&p));
    p
}

impl Pipe {
    /// Open FIFO ends: `read` and/or `write`. Counts them at once (the ends exist from now).
    /// Also says, as of this moment, whether the other end is open and how many times it
    /// has been opened: an opener that must wait for its partner waits for that count to
    /// change (Linux's wait_for_partner), so that a partner that opened, used and closed
    /// its end meanwhile is not missed.
    pub fn open_ends(
        self: &Arc<Self>,
        read: bool,
        write: bool,
        node: Arc<dyn crate::vfs::Inode>,
    ) -> (Arc<dyn FileOps>, bool, u64) {
        let mut st = self.lock();
        if read {
            st.readers += 1;
            st.reader_opens += 1;
        }
        if write {
            st.writers += 1;
            st.writer_opens += 1;
        }
        let (present, opens) = if read {
            (st.writers > 0, st.writer_opens)
        } else {
            (st.readers > 0, st.reader_opens)
        };
        drop(st);
        self.queue.notify_all();
        let end = |write: bool| PipeEnd {
            pipe: self.clone(),
            write,
            packet: false,
            node: Some(node.clone()),
        };
        let ops = Arc::new(FifoEnd {
            main: end(!read),
            also_write: (read && write).then(|| end(true)),
        });
        (ops, present, opens)
    }

    /// Copy up to `buf.len()` buffered bytes without consuming them (tee(2)).
    pub fn peek(&self, buf: &mut [u8]) -> usize {
        let st = self.lock();
        let mut n = 0;
        let mut skip = st.head_off;
        for slot in &st.slots {
            let data = &slot.data[skip.min(slot.data.len())..];
            skip = 0;
            let k = data.len().min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&data[..k]);
            n += k;
            if n == buf.len() {
                break;
            }
        }
        n
    }

    /// Bytes buffered now.
    pub fn buffered(&self) -> usize {
        self.lock().len()
    }

    /// Opens of the (reader, writer) ends so far.
    pub fn opens(&self) -> (u64, u64) {
        let st = self.lock();
        (st.reader_opens, st.writer_opens)
    }

    /// Ends open now: (readers, writers).
    pub fn ends(&self) -> (usize, usize) {
        let st = self.lock();
        (st.readers, st.writers)
    }
}

/// A FIFO opened for reading or writing (`main`), or both (O_RDWR: `main` reads and
/// `also_write` writes).
struct FifoEnd {
    main: PipeEnd,
    also_write: Option<PipeEnd>,
}

impl FifoEnd {
    fn any(&self) -> &PipeEnd {
        &self.main
    }

    fn writer(&self) -> Option<&PipeEnd> {
        if self.main.write {
            Some(&self.main)
        } else {
            self.also_write.as_ref()
        }
    }
}

impl FileOps for FifoEnd {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        if self.main.write {
            return Err(Errno::EBADF);
        }
        self.main.read(buf, off)
    }
    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.writer().ok_or(Errno::EBADF)?.write(buf, off)
    }
    fn seekable(&self) -> bool {
        false
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.any().stat()
    }
    fn ioctl(&self, mm: &MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
        self.any().ioctl(mm, req, arg)
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.any().pipe.queue)
    }
    fn readiness(&self) -> u32 {
        let mut r = self.main.readiness();
        if let Some(e) = &self.also_write {
            r |= e.readiness();
        }
        r
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        self.any().as_any()
    }
}

/// A new pipe: (read end, write end) open files with the given status flags.
pub fn new(flags: u32) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let pipe = new_pipe(1);
    // O_DIRECT (packet mode) belongs to the write end only, as in Linux.
    let direct = libc::O_DIRECT as u32;
    let r = OpenFile::new(
        None,
        Arc::new(PipeEnd {
            pipe: pipe.clone(),
            write: false,
            packet: false,
            node: None,
        }),
        libc::O_RDONLY as u32 | (flags & !direct),
    );
    let w = OpenFile::new(
        None,
        Arc::new(PipeEnd {
            pipe,
            write: true,
            packet: flags & direct != 0,
            node: None,
        }),
        libc::O_WRONLY as u32 | flags,
    );
    (r, w)
}
