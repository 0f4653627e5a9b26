//! eventfd: a 64-bit counter as a file.

use std::sync::{Arc, Mutex};

use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;
use crate::vfs::{FileOps, OpenFile, Stat};

pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    queue: WaitQueue,
    dev: u64,
}

const MAX: u64 = u64::MAX - 1;

impl FileOps for EventFd {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[eventfd]")
    }
    fn fdinfo(&self) -> String {
        let c = *self.count.lock().unwrap_or_else(|e| e.into_inner());
        format!(
            "eventfd-count: {c:16x}\neventfd-semaphore: {}\n",
            self.semaphore as u8
        )
    }
    fn read(&self, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        if *c == 0 {
            return Err(Errno::EAGAIN);
        }
        let v = if self.semaphore { 1 } else { *c };
        *c -= v;
        drop(c);
        buf[..8].copy_from_slice(&v.to_le_bytes());
        self.queue.notify_all();
        Ok(8)
    }

    fn write(&self, buf: &[u8], _: u64) -> Result<usize, Errno> {
        let v = u64::from_le_bytes(
            buf.get(..8)
                .ok_or(Errno::EINVAL)?
                .try_into()
                .map_err(|_| Errno::EINVAL)?,
        );
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        if MAX - *c < v {
            return Err(Errno::EAGAIN);
        }
        *c += v;
        drop(c);
        self.queue.notify_all();
        Ok(8)
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
        let c = *self.count.lock().unwrap_or_else(|e| e.into_inner());
        let mut r = 0;
        if c > 0 {
            r |= libc::POLLIN;
        }
        if c < MAX {
            r |= libc::POLLOUT;
        }
        r as u32
    }
}

pub fn new(initval: u32, flags: u32) -> Arc<OpenFile> {
    let f = EventFd {
        count: Mutex::new(initval as u64),
        semaphore: flags & libc::EFD_SEMAPHORE as u32 != 0,
        queue: WaitQueue::default(),
        dev: super::new_dev(),
    };
    OpenFile::new(
        None,
        Arc::new(f),
        libc::O_RDWR as u32 | (flags & libc::O_NONBLOCK as u32),
    )
}
