//! inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch.

use std::sync::Arc;

use super::fd_arg;
use crate::errno::{Errno, SysResult};
use crate::fs::inotify::{self, Inotify};
use crate::kernel::Task;
use crate::vfs::{self, OpenFile};

pub fn inotify_init1(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[0] as u32;
    let known = (libc::IN_NONBLOCK | libc::IN_CLOEXEC) as u32;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    let file = OpenFile::new(
        None,
        Inotify::new(),
        libc::O_RDONLY as u32 | (flags & libc::O_NONBLOCK as u32),
    );
    let cloexec = flags & libc::IN_CLOEXEC as u32 != 0;
    Ok(t.fds.install(file, cloexec, 0, t.nofile())? as u64)
}

pub fn inotify_init(t: &mut Task, _a: [u64; 6]) -> SysResult {
    inotify_init1(t, [0; 6])
}

/// The inotify instance behind `fd` (EINVAL for any other file).
fn instance(t: &Task, fd: i32) -> Result<Arc<Inotify>, Errno> {
    t.fds
        .get(fd)?
        .ops
        .clone()
        .into_any_arc()
        .and_then(|a| a.downcast::<Inotify>().ok())
        .ok_or(Errno::EINVAL)
}

pub fn inotify_add_watch(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ino = instance(t, fd_arg(a[0]))?;
    let mask = a[2] as u32;
    if mask & 0xfff == 0 {
        return Err(Errno::EINVAL);
    }
    let path = t.path_arg(a[1])?;
    let follow = mask & inotify::IN_DONT_FOLLOW == 0;
    let d = super::fs::lookup_at(t, libc::AT_FDCWD, &path, follow, false)?;
    if mask & inotify::IN_ONLYDIR != 0 && !d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    vfs::may_access(&d.inode.stat()?, &t.creds, 4, false)?;
    let st = d.inode.stat()?;
    Ok(ino.add_watch((st.dev, st.ino), mask)? as u64)
}

pub fn inotify_rm_watch(t: &mut Task, a: [u64; 6]) -> SysResult {
    instance(t, fd_arg(a[0]))?.rm_watch(a[1] as i32)?;
    Ok(0)
}
