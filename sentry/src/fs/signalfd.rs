//! signalfd: read pending signals as records instead of running handlers.

use std::sync::{Arc, Mutex, Weak};

use crate::errno::Errno;
use crate::kernel::signal::{SigInfo, SigSet, UNBLOCKABLE};
use crate::kernel::wait::WaitQueue;
use crate::kernel::{Kernel, TaskHandle};
use crate::vfs::{FileOps, OpenFile, Stat};

pub struct SignalFd {
    pub mask: Mutex<SigSet>,
    k: Weak<Kernel>,
    /// Present so poll and epoll accept the file. Wake-ups reach a waiting reader through its
    /// own waiter, which every signal sent to it kicks.
    queue: WaitQueue,
    dev: u64,
}

impl SignalFd {
    /// The task reading: the one this host thread runs.
    fn reader(&self) -> Option<Arc<TaskHandle>> {
        let (_, tid) = crate::fs::proc::current_task();
        self.k.upgrade()?.tasks().threads.get(&tid).cloned()
    }

    fn take(&self) -> Option<SigInfo> {
        let h = self.reader()?;
        let not_wanted = !*self.mask.lock().unwrap_or_else(|e| e.into_inner());
        h.dequeue_signal(not_wanted)
    }
}

/// struct signalfd_siginfo (128 bytes) from a siginfo.
fn record(i: &SigInfo) -> [u8; 128] {
    let b = &i.0;
    let mut r = [0u8; 128];
    r[0..12].copy_from_slice(&b[0..12]); // signo, errno, code
    r[12..20].copy_from_slice(&b[16..24]); // pid, uid (union start)
    r[44..48].copy_from_slice(&b[24..28]); // ssi_int / ssi_status from the union
    r[40..44].copy_from_slice(&b[24..28]); // ssi_status
    r[48..56].copy_from_slice(&b[24..32]); // ssi_ptr
    r[72..80].copy_from_slice(&b[16..24]); // ssi_addr (faults)
    r
}

impl FileOps for SignalFd {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[signalfd]")
    }
    fn read(&self, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        if buf.len() < 128 {
            return Err(Errno::EINVAL);
        }
        let mut n = 0;
        while n + 128 <= buf.len() {
            match self.take() {
                Some(i) => {
                    buf[n..n + 128].copy_from_slice(&record(&i));
                    n += 128;
                }
                None => break,
            }
        }
        if n == 0 {
            return Err(Errno::EAGAIN);
        }
        Ok(n)
    }
    fn seekable(&self) -> bool {
        false
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(crate::fs::synth::attr(self.dev, 1, 0o600, 0))
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }
    fn readiness(&self) -> u32 {
        let Some(h) = self.reader() else { return 0 };
        let mask = *self.mask.lock().unwrap_or_else(|e| e.into_inner());
        let own = h.lock().pending.set;
        if (own | h.tg.pending_set()) & mask != 0 {
            libc::POLLIN as u32
        } else {
            0
        }
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

pub fn new(k: &Arc<Kernel>, mask: SigSet, flags: u32) -> Arc<OpenFile> {
    let f = SignalFd {
        mask: Mutex::new(mask & !UNBLOCKABLE),
        k: Arc::downgrade(k),
        queue: WaitQueue::default(),
        dev: super::new_dev(),
    };
    OpenFile::new(
        None,
        Arc::new(f),
        libc::O_RDWR as u32 | (flags & libc::O_NONBLOCK as u32),
    )
}
