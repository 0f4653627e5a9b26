//! pidfds: a file referring to a process (clone(CLONE_PIDFD), pidfd_open).

use std::sync::Arc;

use crate::errno::Errno;
use crate::kernel::{Task, ThreadGroup};
use crate::vfs::{FileOps, OpenFile, Stat};

pub struct PidFd {
    pub tg: Arc<ThreadGroup>,
    dev: u64,
}

impl FileOps for PidFd {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[pidfd]")
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(crate::fs::synth::attr(
            self.dev,
            1,
            libc::S_IFREG | 0o600,
            0,
        ))
    }
    fn seekable(&self) -> bool {
        false
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// The process pidfd `fd` of the task's table refers to; EBADF if it is not a pidfd.
pub fn target(t: &Task, fd: i32) -> Result<Arc<ThreadGroup>, Errno> {
    t.fds
        .get(fd)?
        .ops
        .as_any()
        .and_then(|x| x.downcast_ref::<PidFd>())
        .map(|p| p.tg.clone())
        .ok_or(Errno::EBADF)
}

/// Install a close-on-exec pidfd for `tg` in the task's table.
pub fn install(t: &mut Task, tg: Arc<ThreadGroup>) -> Result<i32, Errno> {
    let f = OpenFile::new(
        None,
        Arc::new(PidFd {
            tg,
            dev: super::new_dev(),
        }),
        libc::O_RDWR as u32,
    );
    t.fds.install(f, true, 0, t.nofile())
}
