//! Confinement of the sandbox process (DESIGN.md invariant 2). Once the sentry has what it
//! needs from the host — the gofer's socket, the memory file, its stdio, the control socket
//! — it gives up everything else:
//!
//! 1. [`enter_namespaces`], while the process still has one thread: its own mount, IPC, UTS
//!    and network namespaces (the pid namespace is made by whoever starts the process, since
//!    a process cannot move itself into a new one);
//! 2. [`pivot_to_empty`]: the root becomes an empty read-only tmpfs, the host's tree is
//!    unmounted from the namespace;
//! 3. [`drop_privileges`], still single-threaded (capabilities are per thread, inherited by
//!    the threads created later): no capability left, no_new_privs set;
//! 4. [`install_seccomp`], once the sentry's threads run: an allow-list of the host system
//!    calls the sentry makes, on every thread; anything else kills the process. The stub
//!    processes are clones of the sentry and inherit the filter on top of their own.
//!
//! A user namespace is not entered: the gofer's donated descriptors are stat'ed by the
//! sentry, and only a parent process can map the full uid range into a new user namespace;
//! with capabilities dropped the process holds no privilege a user namespace would take away.

use std::collections::BTreeMap;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    #[error("{0}: {1}")]
    Host(&'static str, nix::errno::Errno),
    #[error("dropping capabilities: {0}")]
    Capabilities(String),
    #[error("seccomp filter: {0}")]
    Seccomp(String),
}

/// Enter new mount, IPC, UTS and network namespaces; mounts of the host propagate into ours
/// (unmounts included), ours never out. Must be called before the process has a second
/// thread. Returns false, changing nothing, when the caller may not (an unprivileged user).
///
/// `host_network`: stay in the current network namespace, whose sockets the application's
/// inet sockets then are (`--network host`).
pub fn enter_namespaces(host_network: bool) -> Result<bool, ConfineError> {
    let mut flags = CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWUTS;
    if !host_network {
        flags |= CloneFlags::CLONE_NEWNET;
    }
    match unshare(flags) {
        Ok(()) => {}
        Err(nix::errno::Errno::EPERM) => return Ok(false),
        Err(e) => return Err(ConfineError::Host("unshare", e)),
    }
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )
    .map_err(|e| ConfineError::Host("making / a slave mount", e))?;
    Ok(true)
}

/// Make an empty, read-only tmpfs mounted over `dir` the root of this mount namespace and
/// detach the old root: no host path can be reached from here on. Call after
/// [`enter_namespaces`] succeeded (the mount over `dir` is then private to the namespace).
pub fn pivot_to_empty(dir: &Path) -> Result<(), ConfineError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(
        Some("palisade-empty"),
        dir,
        Some("tmpfs"),
        flags,
        Some("size=4k,nr_inodes=1,mode=0555"),
    )
    .map_err(|e| ConfineError::Host("mounting the empty root", e))?;
    nix::unistd::chdir(dir).map_err(|e| ConfineError::Host("chdir to the empty root", e))?;
    // pivot_root(".", "."): the old root ends up stacked on the new one, and is then
    // detached with everything under it.
    nix::unistd::pivot_root(".", ".").map_err(|e| ConfineError::Host("pivot_root", e))?;
    umount2(".", MntFlags::MNT_DETACH)
        .map_err(|e| ConfineError::Host("unmounting the host's root", e))?;
    nix::unistd::chdir("/").map_err(|e| ConfineError::Host("chdir /", e))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | flags,
        None::<&str>,
    )
    .map_err(|e| ConfineError::Host("remounting the empty root read-only", e))?;
    Ok(())
}

/// Drop every capability and set no_new_privs, for the calling thread and the threads it
/// creates afterwards (capabilities are per thread): call before the sentry starts its
/// threads. The bounding set goes first (that needs CAP_SETPCAP), then ambient, inheritable,
/// effective and permitted.
pub fn drop_privileges() -> Result<(), ConfineError> {
    use caps::CapSet;
    let privileged = caps::has_cap(None, CapSet::Effective, caps::Capability::CAP_SETPCAP)
        .map_err(|e| ConfineError::Capabilities(e.to_string()))?;
    // Without CAP_SETPCAP (an unprivileged caller) the bounding set cannot shrink, but then
    // there is no capability to gain from it either (no_new_privs stops file capabilities).
    let sets: &[CapSet] = if privileged {
        &[
            CapSet::Bounding,
            CapSet::Ambient,
            CapSet::Inheritable,
            CapSet::Effective,
            CapSet::Permitted,
        ]
    } else {
        &[
            CapSet::Ambient,
            CapSet::Inheritable,
            CapSet::Effective,
            CapSet::Permitted,
        ]
    };
    for &set in sets {
        caps::clear(None, set).map_err(|e| ConfineError::Capabilities(e.to_string()))?;
    }
    nix::sys::prctl::set_no_new_privs().map_err(|e| ConfineError::Host("no_new_privs", e))
}

/// What a host system call outside the allow-list does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Kill the whole sandbox process (the default: a sentry that strays is compromised).
    Kill,
    /// Allow it but have the host kernel log it (`dmesg`: "audit: type=1326 ... syscall=N"),
    /// to find what a new code path needs.
    Log,
}

/// A rule allowing the call when argument `arg` of each pair equals its value.
fn rule(conds: &[(u8, u64)]) -> Result<SeccompRule, ConfineError> {
    let conds = conds
        .iter()
        .map(|&(arg, value)| {
            SeccompCondition::new(arg, SeccompCmpArgLen::Qword, SeccompCmpOp::Eq, value)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfineError::Seccomp(e.to_string()))?;
    SeccompRule::new(conds).map_err(|e| ConfineError::Seccomp(e.to_string()))
}

/// One rule per allowed value of argument `arg`.
fn any_of(arg: u8, values: &[u64]) -> Result<Vec<SeccompRule>, ConfineError> {
    values.iter().map(|&v| rule(&[(arg, v)])).collect()
}

/// Allow each of `nrs` with any arguments.
fn any(m: &mut BTreeMap<i64, Vec<SeccompRule>>, nrs: &[i64]) {
    for &nr in nrs {
        m.insert(nr, Vec::new());
    }
}

/// The host system calls the sentry (and, inherited, its stubs) may make, each with why.
/// An empty rule list allows the call with any arguments. `host_network`: the socket calls of
/// `--network host` too.
fn allowed(host_network: bool) -> Result<BTreeMap<i64, Vec<SeccompRule>>, ConfineError> {
    use libc::*;
    let mut m: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    // I/O on descriptors the sentry holds: the memory file, host stdio and terminals, the
    // gofer's connection and the files it donates, the control socket's connections.
    any(
        &mut m,
        &[
            SYS_read,
            SYS_write,
            SYS_readv,
            SYS_writev,
            SYS_pread64,
            SYS_pwrite64,
            SYS_preadv,
            SYS_pwritev,
            SYS_lseek,
            SYS_close,
            SYS_dup,
            SYS_fcntl,
            SYS_fstat,
            SYS_memfd_create, // the memory file, made at boot
            SYS_ftruncate,    // the memory file grows and shrinks
            SYS_fallocate,    // ... and releases pages (PUNCH_HOLE)
            SYS_fsync,
            SYS_fdatasync,
            SYS_getdents64, // directories the gofer donated
            SYS_recvmsg,    // gofer replies with SCM_RIGHTS, control requests
            SYS_sendmsg,
            SYS_recvfrom,
            SYS_sendto,
            SYS_accept4, // control socket connections
            SYS_shutdown,
            SYS_poll, // waiting on host stdio and terminals
            SYS_ppoll,
            SYS_epoll_create1,
            SYS_epoll_ctl,
            SYS_epoll_wait,
            SYS_epoll_pwait,
            SYS_eventfd2,
        ],
    );
    // glibc's fstat is newfstatat(fd, "", st, AT_EMPTY_PATH): allowed only in that form,
    // never on a path.
    m.insert(SYS_newfstatat, vec![rule(&[(3, AT_EMPTY_PATH as u64)])?]);
    // Host terminals the sentry relays: window size, termios, bytes waiting; and the KVM
    // platform's vCPU requests (they act only on KVM descriptors, which only it holds).
    let mut ioctls = vec![TIOCGWINSZ, TCGETS, FIONREAD];
    ioctls.extend(platform::kvm::ioctls());
    if host_network {
        // Host sockets' queue lengths and urgent mark (`net::hostinet`).
        ioctls.extend([TIOCOUTQ, crate::net::inet::SIOCATMARK]);
        // Host inet sockets only, never a packet, netlink or unix socket.
        m.insert(SYS_socket, any_of(0, &[AF_INET as u64, AF_INET6 as u64])?);
        any(
            &mut m,
            &[
                SYS_bind,
                SYS_connect,
                SYS_listen,
                SYS_getsockname,
                SYS_getpeername,
                SYS_setsockopt,
                SYS_getsockopt,
            ],
        );
    }
    m.insert(SYS_ioctl, any_of(1, &ioctls)?);
    // Memory: the sentry's own heap and its mappings of the memory file; the stubs' address
    // spaces are built by syscalls injected into them (mmap of the memory file, mprotect,
    // munmap), which this filter sees too.
    any(
        &mut m,
        &[
            SYS_mmap,
            SYS_munmap,
            SYS_mprotect,
            SYS_mremap,
            SYS_madvise,
            SYS_brk,
            SYS_msync,
        ],
    );
    // Threads of the sentry (glibc's pthread_create), stub processes (a raw clone with
    // SIGCHLD from the sentry, a stub forking itself with CLONE_PARENT), threads of a stub
    // (traced from birth). Nothing else: no new namespaces, no process sharing our memory.
    let pthread = CLONE_VM
        | CLONE_FS
        | CLONE_FILES
        | CLONE_SIGHAND
        | CLONE_THREAD
        | CLONE_SYSVSEM
        | CLONE_SETTLS
        | CLONE_PARENT_SETTID
        | CLONE_CHILD_CLEARTID;
    let stub_thread = CLONE_VM
        | CLONE_THREAD
        | CLONE_SIGHAND
        | CLONE_FILES
        | CLONE_FS
        | CLONE_SYSVSEM
        | CLONE_PTRACE;
    // clone3, open and openat are let through here only to be refused by their own filters
    // (see install_seccomp).
    any(&mut m, &[SYS_clone3, SYS_open, SYS_openat]);
    m.insert(
        SYS_clone,
        any_of(
            0,
            &[pthread, SIGCHLD, CLONE_PARENT | SIGCHLD, stub_thread].map(|f| f as u64),
        )?,
    );
    // Thread bookkeeping of the Rust and C runtimes.
    any(
        &mut m,
        &[
            SYS_futex,
            SYS_set_robust_list,
            SYS_rseq, // glibc registers it per thread; a new stub unregisters the inherited one
            SYS_rt_sigaction,
            SYS_rt_sigprocmask,
            SYS_rt_sigreturn,
            SYS_rt_sigtimedwait, // the terminal relay waits for SIGWINCH
            SYS_sigaltstack,
            SYS_sched_yield,
            SYS_sched_getaffinity,
            SYS_sched_setaffinity, // a tracer and its tracee share a CPU
            SYS_getcpu,
            SYS_getpid,
            SYS_gettid,
            SYS_exit,
            SYS_exit_group,
            SYS_restart_syscall,
            SYS_getrandom,
            SYS_arch_prctl, // ARCH_GET_FS, to find a thread's rseq area
        ],
    );
    // Time and the host facts the sentry reports as its own (sysinfo: memory totals).
    any(
        &mut m,
        &[
            SYS_clock_gettime,
            SYS_clock_getres,
            SYS_clock_nanosleep,
            SYS_nanosleep,
            SYS_gettimeofday,
            SYS_sysinfo,
        ],
    );
    // The platform: tracing the stubs and waiting for their stops; signals to the stubs and
    // to our own threads (to interrupt a task); the stub's own start-up (its session, its
    // descriptors, its filter, stopping itself, sleeping until attached).
    any(
        &mut m,
        &[
            SYS_ptrace,
            SYS_wait4,
            SYS_waitid,
            SYS_kill,
            SYS_tgkill,
            SYS_tkill,
            SYS_setsid,
            SYS_close_range,
            SYS_pause,
        ],
    );
    // The stub's filter (mode FILTER, no flags).
    m.insert(
        SYS_seccomp,
        vec![rule(&[(0, SECCOMP_SET_MODE_FILTER as u64), (1, 0)])?],
    );
    // Thread names, the stub's death signal and no_new_privs.
    m.insert(
        SYS_prctl,
        any_of(
            0,
            &[PR_SET_NAME, PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS].map(|o| o as u64),
        )?,
    );
    Ok(m)
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: SeccompAction,
    matched: SeccompAction,
) -> Result<BpfProgram, ConfineError> {
    let filter = SeccompFilter::new(rules, mismatch, matched, TargetArch::x86_64)
        .map_err(|e| ConfineError::Seccomp(e.to_string()))?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| ConfineError::Seccomp(e.to_string()))
}

/// A filter failing system call `nr` with `errno` (and allowing everything else; the
/// allow-list, which also lets `nr` through, decides the rest).
fn refuse(nr: i64, errno: i32) -> Result<BpfProgram, ConfineError> {
    compile(
        BTreeMap::from([(nr, Vec::new())]),
        SeccompAction::Allow,
        SeccompAction::Errno(errno as u32),
    )
}

/// Install the sentry's seccomp filters on every thread of the process (and so on every
/// stub it creates later).
pub fn install_seccomp(violation: Violation, host_network: bool) -> Result<(), ConfineError> {
    let mismatch = match violation {
        Violation::Kill => SeccompAction::KillProcess,
        Violation::Log => SeccompAction::Log,
    };
    let allow = compile(allowed(host_network)?, mismatch, SeccompAction::Allow)?;
    // clone3 passes its flags in memory, where a filter cannot look: it fails with ENOSYS,
    // and glibc falls back to clone, whose flags the allow-list checks.
    let no_clone3 = refuse(libc::SYS_clone3, libc::ENOSYS)?;
    // glibc opens files of its own accord (malloc sizing its arenas reads
    // /sys/devices/system/cpu/online, then falls back to sched_getaffinity): opening a path
    // fails as if nothing were there, which after pivot_root is the truth.
    let no_open = refuse(libc::SYS_openat, libc::ENOENT)?;
    let no_open_old = refuse(libc::SYS_open, libc::ENOENT)?;
    for prog in [&no_clone3, &no_open, &no_open_old, &allow] {
        seccompiler::apply_filter_all_threads(prog)
            .map_err(|e| ConfineError::Seccomp(e.to_string()))?;
    }
    Ok(())
}
