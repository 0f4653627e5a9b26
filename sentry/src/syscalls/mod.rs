//! The syscall table and dispatcher. The table is the single source of truth: dispatch, strace
//! names and the printed coverage all come from it.

mod creds;
mod epoll;
mod fd;
mod fs;
mod futex;
mod hostinet;
mod inet;
mod info;
mod ipc;
mod mm;
mod netlink;
mod notify;
mod poll;
mod process;
mod rw;
mod sched;
mod seccomp;
mod signal;
mod socket;
pub mod table;
mod time;
mod transfer;
mod xattr;

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
pub use table::{coverage, Support};

pub type Handler = fn(&mut Task, [u64; 6]) -> SysResult;

/// Handle the syscall the task just made.
pub fn dispatch(t: &mut Task) {
    let nr = t.regs.0.orig_rax;
    let args = t.regs.syscall_args();
    let entry = table::lookup(nr);
    if t.k.strace {
        crate::strace::enter(t, nr, entry, &args);
    }
    t.regs_replaced = false;
    if let Some(mode) = t.h.seccomp() {
        if !seccomp::admit(t, &mode, nr, &args) {
            return;
        }
    }
    let res = match entry.and_then(|e| e.handler) {
        Some(h) => h(t, args),
        None => {
            t.k.log_enosys(nr, entry.map(|e| e.name).unwrap_or("unknown"));
            Err(Errno::ENOSYS)
        }
    };
    if t.k.strace {
        crate::strace::exit(t, nr, entry, &args, &res);
    }
    if t.exit.is_some() || t.regs_replaced {
        return;
    }
    // Restart codes never reach the application: signal delivery turns them into a restart
    // or EINTR.
    if let Err(e) = res {
        if e.is_restart() {
            t.restart = Some(e);
        }
    }
    t.regs.0.rax = match res {
        Ok(v) => v,
        Err(e) => (-(e.0 as i64)) as u64,
    };
}

/// Read a timespec argument that must be valid (tv_nsec below a second, tv_sec not negative).
pub(crate) fn read_timespec(t: &Task, addr: u64) -> Result<libc::timespec, Errno> {
    let ts: libc::timespec = t.mm.copy_in(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

/// Argument accessors with the C types of the ABI.
pub(crate) fn fd_arg(a: u64) -> i32 {
    a as i32
}

/// The open file of descriptor `a` for an operation on the file itself: EBADF for an
/// O_PATH descriptor, which only names a file (Linux's fdget, where fstat & co use
/// fdget_raw).
pub(crate) fn file_arg(t: &Task, a: u64) -> Result<std::sync::Arc<crate::vfs::OpenFile>, Errno> {
    let f = t.fds.get(fd_arg(a))?;
    if f.is_path() {
        return Err(Errno::EBADF);
    }
    Ok(f)
}
