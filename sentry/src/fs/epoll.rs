//! epoll instances.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;
use crate::vfs::{FileOps, OpenFile, Stat};

pub const EPOLLIN: u32 = libc::EPOLLIN as u32;
pub const EPOLLOUT: u32 = libc::EPOLLOUT as u32;
pub const EPOLLERR: u32 = libc::EPOLLERR as u32;
pub const EPOLLHUP: u32 = libc::EPOLLHUP as u32;
pub const EPOLLRDHUP: u32 = libc::EPOLLRDHUP as u32;
pub const EPOLLET: u32 = libc::EPOLLET as u32;
pub const EPOLLONESHOT: u32 = libc::EPOLLONESHOT as u32;
pub const EPOLLEXCLUSIVE: u32 = libc::EPOLLEXCLUSIVE as u32;
pub const EPOLLWAKEUP: u32 = libc::EPOLLWAKEUP as u32;

/// An interest: the file (weakly: closing the last descriptor removes it), the events wanted
/// and the user's data.
pub struct Item {
    pub file: Weak<OpenFile>,
    pub events: u32,
    pub data: u64,
    /// ONESHOT items are disabled after they report, until EPOLL_CTL_MOD.
    pub armed: bool,
    /// Notified by the file's wait queue on every change: an edge for EPOLLET.
    pub activity: Arc<crate::kernel::wait::Waiter>,
    /// The activity generation last reported (None: never reported).
    pub seen: Option<u64>,
}

impl Item {
    pub fn new(file: &Arc<OpenFile>, events: u32, data: u64) -> Item {
        let activity = crate::kernel::wait::Waiter::new();
        if let Some(q) = file.ops.wait_queue() {
            q.add(&activity);
        }
        Item {
            file: Arc::downgrade(file),
            events,
            data,
            armed: true,
            activity,
            seen: None,
        }
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        if let Some(f) = self.file.upgrade() {
            if let Some(q) = f.ops.wait_queue() {
                q.remove(&self.activity);
            }
        }
    }
}

pub struct Epoll {
    items: Mutex<BTreeMap<(i32, usize), Item>>,
    /// Announces readiness of this epoll itself (nested epoll, poll on an epoll fd).
    pub queue: WaitQueue,
    dev: u64,
}

impl Epoll {
    pub fn lock(&self) -> MutexGuard<'_, BTreeMap<(i32, usize), Item>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Collect up to `max` ready events (events, data), updating edge and oneshot state.
    pub fn collect(&self, max: usize) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut items = self.lock();
        items.retain(|_, it| it.file.strong_count() > 0);
        for it in items.values_mut() {
            if out.len() >= max {
                break;
            }
            if !it.armed {
                continue;
            }
            let Some(f) = it.file.upgrade() else { continue };
            let want = it.events | EPOLLERR | EPOLLHUP;
            let ready = f.ops.readiness() & want;
            if ready == 0 {
                continue;
            }
            if it.events & EPOLLET != 0 {
                // Report once per change of the file (files that announce nothing: once).
                let gen = it.activity.generation();
                if it.seen == Some(gen) {
                    continue;
                }
                it.seen = Some(gen);
            }
            if it.events & EPOLLONESHOT != 0 {
                it.armed = false;
            }
            out.push((ready, it.data));
        }
        out
    }

    /// The files whose queues announce changes for this instance.
    pub fn files(&self) -> Vec<Arc<OpenFile>> {
        self.lock()
            .values()
            .filter_map(|it| it.file.upgrade())
            .collect()
    }
}

impl FileOps for Epoll {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[eventpoll]")
    }
    fn fdinfo(&self) -> String {
        let mut out = String::new();
        for (&(fd, _), it) in self.lock().iter() {
            let Some(f) = it.file.upgrade() else { continue };
            let pos = if f.ops.seekable() { *f.offset() } else { 0 };
            let (ino, dev) = f.stat().map_or((0, 0), |s| (s.ino, s.dev));
            out.push_str(&format!(
                "tfd: {fd:8} events: {:8x} data: {:16x}  pos:{pos} ino:{ino:x} sdev:{:x}\n",
                it.events,
                it.data,
                crate::vfs::kernel_dev(dev)
            ));
        }
        out
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
        // Readable when any item is ready (without consuming edges).
        let items = self.lock();
        let any = items.values().any(|it| {
            let fresh = it.events & EPOLLET == 0 || it.seen != Some(it.activity.generation());
            it.armed
                && fresh
                && it
                    .file
                    .upgrade()
                    .is_some_and(|f| f.ops.readiness() & (it.events | EPOLLERR | EPOLLHUP) != 0)
        });
        if any {
            libc::POLLIN as u32
        } else {
            0
        }
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

pub fn new(flags: u32) -> Arc<OpenFile> {
    let e = Epoll {
        items: Mutex::new(BTreeMap::new()),
        queue: WaitQueue::default(),
        dev: super::new_dev(),
    };
    OpenFile::new(None, Arc::new(e), libc::O_RDWR as u32 | flags)
}
