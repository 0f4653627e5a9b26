//! File system implementations.

pub mod dev;
pub mod epoll;
pub mod eventfd;
pub mod gofer;
pub mod host;
pub mod inotify;
pub mod overlay;
pub mod pidfd;
pub mod pipe;
pub mod proc;
pub mod pty;
pub mod signalfd;
pub mod synth;
pub mod sys;
pub mod timerfd;
pub mod tmpfs;

use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh device number for a sentry file system (major 0, like Linux's anonymous devices).
pub fn new_dev() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0x20);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A fresh inode number for synthetic files.
pub fn new_ino() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A statfs answer for a sentry-owned file system of the given magic.
pub fn synthetic_statfs(magic: i64) -> crate::mm::pod::StatFs {
    crate::mm::pod::StatFs {
        f_type: magic,
        f_bsize: 4096,
        f_namelen: 255,
        f_frsize: 4096,
        ..Default::default()
    }
}
