//! Confinement of the gofer process, applied once it holds its root's descriptor and before it
//! reads a request: its own mount namespace, chroot'ed into the served tree (when it may; a
//! gofer started by an unprivileged user keeps the host's view), and a seccomp allow-list of
//! the system calls serving needs. Anything else fails with EPERM.

use std::collections::BTreeMap;
use std::path::Path;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};

#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    #[error("seccomp filter: {0}")]
    Seccomp(String),
    #[error("chroot into {0}: {1}")]
    Chroot(String, nix::errno::Errno),
}

/// What the gofer calls while serving: the protocol's socket, file system calls relative to
/// descriptors it holds, memory and thread bookkeeping of the Rust runtime, logging.
const ALLOWED: &[i64] = &[
    libc::SYS_recvmsg,
    libc::SYS_sendmsg,
    libc::SYS_write,
    libc::SYS_writev,
    libc::SYS_openat,
    libc::SYS_close,
    libc::SYS_fstat,
    libc::SYS_newfstatat,
    libc::SYS_statx,
    libc::SYS_readlinkat,
    libc::SYS_fstatfs,
    libc::SYS_getdents64,
    libc::SYS_lseek,
    libc::SYS_fcntl,
    libc::SYS_mkdirat,
    libc::SYS_mknodat,
    libc::SYS_symlinkat,
    libc::SYS_linkat,
    libc::SYS_unlinkat,
    libc::SYS_renameat2,
    libc::SYS_fchownat,
    libc::SYS_fchmod,
    libc::SYS_ftruncate,
    libc::SYS_utimensat,
    libc::SYS_fgetxattr,
    libc::SYS_flistxattr,
    libc::SYS_fsetxattr,
    libc::SYS_fremovexattr,
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_mprotect,
    libc::SYS_madvise,
    libc::SYS_brk,
    libc::SYS_futex,
    libc::SYS_rt_sigreturn,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigaction,
    libc::SYS_sigaltstack,
    libc::SYS_getrandom,
    libc::SYS_clock_gettime,
    libc::SYS_gettid,
    libc::SYS_getpid,
    libc::SYS_sched_yield,
    libc::SYS_restart_syscall,
    libc::SYS_exit,
    libc::SYS_exit_group,
];

/// Enter a mount namespace of its own and chroot into `root` when privileged; then install
/// the seccomp allow-list. Returns whether the chroot happened.
pub fn confine(root: &Path) -> Result<bool, ConfineError> {
    let chrooted = enter_root(root)?;
    let rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> =
        ALLOWED.iter().map(|&nr| (nr, Vec::new())).collect();
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(|e| ConfineError::Seccomp(e.to_string()))?;
    let prog: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| ConfineError::Seccomp(e.to_string()))?;
    seccompiler::apply_filter_all_threads(&prog)
        .map_err(|e| ConfineError::Seccomp(e.to_string()))?;
    Ok(chrooted)
}

fn enter_root(root: &Path) -> Result<bool, ConfineError> {
    if unshare(CloneFlags::CLONE_NEWNS).is_err() {
        return Ok(false); // unprivileged: descriptors alone confine it
    }
    // Changes to mounts stay in this namespace.
    let _ = mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    );
    nix::unistd::chroot(root).map_err(|e| ConfineError::Chroot(root.display().to_string(), e))?;
    nix::unistd::chdir("/").map_err(|e| ConfineError::Chroot(root.display().to_string(), e))?;
    Ok(true)
}
