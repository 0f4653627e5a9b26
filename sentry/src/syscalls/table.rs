//! The x86-64 syscall table.

use std::sync::LazyLock;

use super::{
    creds, epoll, fd, fs, futex, info, ipc, mm, notify, poll, process, rw, sched, seccomp, signal,
    socket, time, transfer, xattr, Handler,
};

/// How completely a syscall is implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    Full,
    /// Implemented with the limits the note states.
    Partial(&'static str),
    /// Not implemented: ENOSYS, logged once by name.
    Missing,
}

/// How strace prints an argument.
#[derive(Debug, Clone, Copy)]
pub enum Arg {
    Int,
    Hex,
    Fd,
    Oct,
    /// A NUL-terminated path.
    Path,
    /// A buffer read by the syscall, its length in argument N.
    InBuf(usize),
    /// A buffer filled by the syscall, its length the return value.
    OutBuf,
}

pub struct Entry {
    pub nr: u64,
    pub name: &'static str,
    pub handler: Option<Handler>,
    pub support: Support,
    pub args: &'static [Arg],
}

use Arg::*;
use Support::*;

macro_rules! syscalls {
    ($($sys:ident => $h:expr, $support:expr, [$($arg:expr),*];)*) => {
        vec![$(Entry {
            nr: libc::$sys as u64,
            name: &stringify!($sys)[4..],
            handler: Some($h),
            support: $support,
            args: &[$($arg),*],
        },)*]
    };
}

macro_rules! missing {
    ($($sys:ident),* $(,)?) => {
        vec![$(Entry { nr: libc::$sys as u64, name: &stringify!($sys)[4..], handler: None, support: Missing, args: &[] },)*]
    };
}

fn entries() -> Vec<Entry> {
    let mut v = syscalls! {
        SYS_read => rw::read, Full, [Fd, OutBuf, Int];
        SYS_write => rw::write, Full, [Fd, InBuf(2), Int];
        SYS_open => fs::open, Full, [Path, Hex, Oct];
        SYS_close => fd::close, Full, [Fd];
        SYS_stat => fs::stat, Full, [Path, Hex];
        SYS_fstat => fs::fstat, Full, [Fd, Hex];
        SYS_lstat => fs::lstat, Full, [Path, Hex];
        SYS_lseek => rw::lseek, Full, [Fd, Int, Int];
        SYS_mmap => mm::mmap, Full, [Hex, Int, Hex, Hex, Fd, Hex];
        SYS_mprotect => mm::mprotect, Full, [Hex, Int, Hex];
        SYS_munmap => mm::munmap, Full, [Hex, Int];
        SYS_brk => mm::brk, Full, [Hex];
        SYS_rt_sigaction => signal::rt_sigaction, Full, [Int, Hex, Hex, Int];
        SYS_rt_sigprocmask => signal::rt_sigprocmask, Full, [Int, Hex, Hex, Int];
        SYS_ioctl => fd::ioctl, Partial("TCGETS, TIOCGWINSZ, FIONREAD, FIOCLEX, FIONCLEX, FIONBIO, SIOCOUTQ, SIOCOUTQNSD, SIOCATMARK, SIOCGIF{CONF,NAME,INDEX,FLAGS,MTU,TXQLEN,ADDR,NETMASK,BRDADDR,HWADDR}; ENOTTY otherwise"), [Fd, Hex, Hex];
        SYS_pread64 => rw::pread64, Full, [Fd, OutBuf, Int, Int];
        SYS_pwrite64 => rw::pwrite64, Full, [Fd, InBuf(2), Int, Int];
        SYS_readv => rw::readv, Full, [Fd, Hex, Int];
        SYS_writev => rw::writev, Full, [Fd, Hex, Int];
        SYS_access => fs::access, Full, [Path, Oct];
        SYS_sched_yield => sched::sched_yield, Full, [];
        SYS_mremap => mm::mremap, Partial("MREMAP_DONTUNMAP unsupported (EINVAL)"), [Hex, Int, Int, Hex, Hex];
        SYS_msync => mm::msync, Full, [Hex, Int, Hex];
        SYS_mincore => mm::mincore, Full, [Hex, Int, Hex];
        SYS_madvise => mm::madvise, Full, [Hex, Int, Int];
        SYS_dup => fd::dup, Full, [Fd];
        SYS_dup2 => fd::dup2, Full, [Fd, Fd];
        SYS_nanosleep => time::nanosleep, Full, [Hex, Hex];
        SYS_getpid => process::getpid, Full, [];
        SYS_exit => process::exit, Full, [Int];
        SYS_kill => signal::kill, Full, [Int, Int];
        SYS_uname => info::uname, Full, [Hex];
        SYS_sethostname => info::sethostname, Full, [Hex, Int];
        SYS_setdomainname => info::setdomainname, Full, [Hex, Int];
        SYS_fcntl => fd::fcntl, Partial("F_DUPFD(_CLOEXEC), F_GETFD/SETFD, F_GETFL/SETFL, POSIX and OFD record locks, pipe sizes; no leases, F_SETOWN or F_NOTIFY"), [Fd, Int, Hex];
        SYS_getcwd => fs::getcwd, Full, [Hex, Int];
        SYS_chdir => fs::chdir, Full, [Path];
        SYS_fchdir => fs::fchdir, Full, [Fd];
        SYS_mkdir => fs::mkdir, Full, [Path, Oct];
        SYS_rmdir => fs::rmdir, Full, [Path];
        SYS_unlink => fs::unlink, Full, [Path];
        SYS_readlink => fs::readlink, Full, [Path, OutBuf, Int];
        SYS_umask => process::umask, Full, [Oct];
        SYS_gettimeofday => time::gettimeofday, Full, [Hex, Hex];
        SYS_getrlimit => process::getrlimit, Full, [Int, Hex];
        SYS_sysinfo => info::sysinfo, Full, [Hex];
        SYS_getuid => process::getuid, Full, [];
        SYS_getgid => process::getgid, Full, [];
        SYS_geteuid => process::geteuid, Full, [];
        SYS_getegid => process::getegid, Full, [];
        SYS_getppid => process::getppid, Full, [];
        SYS_getpgrp => process::getpgrp, Full, [];
        SYS_getpgid => process::getpgid, Full, [Int];
        SYS_getsid => process::getsid, Full, [Int];
        SYS_getgroups => creds::getgroups, Full, [Int, Hex];
        SYS_setgroups => creds::setgroups, Full, [Int, Hex];
        SYS_setuid => creds::setuid, Full, [Int];
        SYS_setgid => creds::setgid, Full, [Int];
        SYS_setreuid => creds::setreuid, Full, [Int, Int];
        SYS_setregid => creds::setregid, Full, [Int, Int];
        SYS_setresuid => creds::setresuid, Full, [Int, Int, Int];
        SYS_setresgid => creds::setresgid, Full, [Int, Int, Int];
        SYS_getresuid => creds::getresuid, Full, [Hex, Hex, Hex];
        SYS_getresgid => creds::getresgid, Full, [Hex, Hex, Hex];
        SYS_setfsuid => creds::setfsuid, Full, [Int];
        SYS_setfsgid => creds::setfsgid, Full, [Int];
        SYS_capget => creds::capget, Partial("another task's sets are not readable yet"), [Hex, Hex];
        SYS_capset => creds::capset, Full, [Hex, Hex];
        SYS_rt_sigpending => signal::rt_sigpending, Full, [Hex, Int];
        SYS_sigaltstack => signal::sigaltstack, Full, [Hex, Hex];
        SYS_statfs => fs::statfs, Full, [Path, Hex];
        SYS_fstatfs => fs::fstatfs, Full, [Fd, Hex];
        SYS_flock => fd::flock, Full, [Fd, Int];
        SYS_getdents => fs::getdents, Full, [Fd, Hex, Int];
        SYS_utime => fs::utime, Full, [Path, Hex];
        SYS_utimes => fs::utimes, Full, [Path, Hex];
        SYS_futimesat => fs::futimesat, Full, [Fd, Path, Hex];
        SYS_chroot => fs::chroot, Full, [Path];
        SYS_openat2 => fs::openat2, Full, [Fd, Path, Hex, Int];
        SYS_inotify_init => notify::inotify_init, Full, [];
        SYS_inotify_init1 => notify::inotify_init1, Full, [Hex];
        SYS_inotify_add_watch => notify::inotify_add_watch, Partial("events for changes made in the sandbox (the root is its own)"), [Fd, Path, Hex];
        SYS_inotify_rm_watch => notify::inotify_rm_watch, Full, [Fd, Int];
        SYS_splice => transfer::splice, Partial("copies through the sentry (no page moves); SPLICE_F_MOVE and SPLICE_F_GIFT are hints Linux may ignore too"), [Fd, Hex, Fd, Hex, Int, Hex];
        SYS_tee => transfer::tee, Full, [Fd, Fd, Int, Hex];
        SYS_vmsplice => transfer::vmsplice, Partial("copies (SPLICE_F_GIFT is not honoured)"), [Fd, Hex, Int, Hex];
        SYS_sendfile => transfer::sendfile, Full, [Fd, Fd, Hex, Int];
        SYS_copy_file_range => transfer::copy_file_range, Full, [Fd, Hex, Fd, Hex, Int, Hex];
        SYS_fallocate => transfer::fallocate, Partial("on files in sandbox memory (tmpfs, the overlay); EOPNOTSUPP on files written through to the host"), [Fd, Hex, Int, Int];
        SYS_memfd_create => transfer::memfd_create, Partial("no MFD_HUGETLB (EINVAL)"), [Path, Hex];
        SYS_mount => fs::mount, Partial("tmpfs (mode, uid, gid, size) and proc; remount flags; propagation changes; no bind or move mounts"), [Path, Path, Path, Hex, Hex];
        SYS_umount2 => fs::umount2, Partial("always lazy (MNT_DETACH): open files keep working"), [Path, Hex];
        SYS_creat => fs::creat, Full, [Path, Oct];
        SYS_setxattr => xattr::setxattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Path, Hex, Hex, Int, Hex];
        SYS_lsetxattr => xattr::lsetxattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Path, Hex, Hex, Int, Hex];
        SYS_fsetxattr => xattr::fsetxattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Fd, Hex, Hex, Int, Hex];
        SYS_getxattr => xattr::getxattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Path, Hex, Hex, Int];
        SYS_lgetxattr => xattr::lgetxattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Path, Hex, Hex, Int];
        SYS_fgetxattr => xattr::fgetxattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Fd, Hex, Hex, Int];
        SYS_listxattr => xattr::listxattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Path, Hex, Int];
        SYS_llistxattr => xattr::llistxattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Path, Hex, Int];
        SYS_flistxattr => xattr::flistxattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Fd, Hex, Int];
        SYS_removexattr => xattr::removexattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Path, Hex];
        SYS_lremovexattr => xattr::lremovexattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Path, Hex];
        SYS_fremovexattr => xattr::fremovexattr, Partial("user.*, trusted.* and security.* attributes; no system.* (POSIX ACLs)"), [Fd, Hex];
        SYS_getpriority => sched::getpriority, Full, [Int, Int];
        SYS_ioprio_set => sched::ioprio_set, Partial("priorities are kept and reported; the host schedules the I/O; CLONE_IO sharers keep their own"), [Int, Int, Hex];
        SYS_ioprio_get => sched::ioprio_get, Full, [Int, Int];
        SYS_setpriority => sched::setpriority, Partial("nice values are kept and reported; the host schedules"), [Int, Int, Int];
        SYS_sched_setscheduler => sched::sched_setscheduler, Partial("policies are kept and reported; the host schedules"), [Int, Int, Hex];
        SYS_sched_getscheduler => sched::sched_getscheduler, Full, [Int];
        SYS_sched_setparam => sched::sched_setparam, Partial("priorities are kept and reported; the host schedules"), [Int, Hex];
        SYS_sched_getparam => sched::sched_getparam, Full, [Int, Hex];
        SYS_sched_get_priority_max => sched::sched_get_priority_max, Full, [Int];
        SYS_sched_get_priority_min => sched::sched_get_priority_min, Full, [Int];
        SYS_sched_setaffinity => sched::sched_setaffinity, Partial("masks are kept and reported; the host places threads"), [Int, Int, Hex];
        SYS_prctl => process::prctl, Partial("SET/GET_NAME, SET/GET_DUMPABLE, SET/GET_NO_NEW_PRIVS, SET/GET_PDEATHSIG (sent when the creating thread exits), SET/GET_CHILD_SUBREAPER, CAPBSET_READ/DROP, SET/GET_SECCOMP"), [Int, Hex, Hex, Hex, Hex];
        SYS_seccomp => seccomp::seccomp, Partial("strict and filter modes run by the sentry (TSYNC, LOG, every action); no user-space notification listener (NEW_LISTENER is EINVAL, USER_NOTIF and TRACE return ENOSYS)"), [Int, Hex, Hex];
        SYS_personality => process::personality, Partial("PER_LINUX32, UNAME26 and READ_IMPLIES_EXEC act; other flags are kept and reported"), [Hex];
        SYS_arch_prctl => process::arch_prctl, Partial("ARCH_SET/GET_FS and GS; CPUID faulting unsupported"), [Hex, Hex];
        SYS_setrlimit => process::setrlimit, Full, [Int, Hex];
        SYS_gettid => process::gettid, Full, [];
        SYS_tkill => signal::tkill, Full, [Int, Int];
        SYS_time => time::time, Full, [Hex];
        SYS_sched_getaffinity => sched::sched_getaffinity, Full, [Int, Int, Hex];
        SYS_set_tid_address => process::set_tid_address, Full, [Hex];
        SYS_getdents64 => fs::getdents64, Full, [Fd, Hex, Int];
        SYS_clock_gettime => time::clock_gettime, Full, [Int, Hex];
        SYS_clock_getres => time::clock_getres, Full, [Int, Hex];
        SYS_clock_nanosleep => time::clock_nanosleep, Full, [Int, Hex, Hex, Hex];
        SYS_exit_group => process::exit_group, Full, [Int];
        SYS_tgkill => signal::tgkill, Full, [Int, Int, Int];
        SYS_openat => fs::openat, Full, [Fd, Path, Hex, Oct];
        SYS_mkdirat => fs::mkdirat, Full, [Fd, Path, Oct];
        SYS_newfstatat => fs::newfstatat, Full, [Fd, Path, Hex, Hex];
        SYS_unlinkat => fs::unlinkat, Full, [Fd, Path, Hex];
        SYS_readlinkat => fs::readlinkat, Full, [Fd, Path, OutBuf, Int];
        SYS_faccessat => fs::faccessat, Full, [Fd, Path, Oct];
        SYS_set_robust_list => process::set_robust_list, Full, [Hex, Int];
        SYS_get_robust_list => process::get_robust_list, Full, [Int, Hex, Hex];
        SYS_dup3 => fd::dup3, Full, [Fd, Fd, Hex];
        SYS_preadv => rw::preadv, Full, [Fd, Hex, Int, Int];
        SYS_pwritev => rw::pwritev, Full, [Fd, Hex, Int, Int];
        SYS_prlimit64 => process::prlimit64, Full, [Int, Int, Hex, Hex];
        SYS_getcpu => info::getcpu, Full, [Hex, Hex, Hex];
        SYS_getrandom => info::getrandom, Full, [Hex, Int, Hex];
        SYS_execve => process::execve, Partial("a non-leader thread keeps its tid"), [Path, Hex, Hex];
        SYS_execveat => process::execveat, Full, [Fd, Path, Hex, Hex, Hex];
        SYS_statx => fs::statx, Full, [Fd, Path, Hex, Hex, Hex];
        SYS_faccessat2 => fs::faccessat2, Full, [Fd, Path, Oct, Hex];
        SYS_sync_file_range => fs::sync_file_range, Full, [Fd, Int, Int, Hex];
        SYS_close_range => fd::close_range, Full, [Int, Int, Hex];
        SYS_preadv2 => rw::preadv2, Partial("flags other than 0 give EOPNOTSUPP"), [Fd, Hex, Int, Int, Hex];
        SYS_pwritev2 => rw::pwritev2, Partial("flags other than 0 give EOPNOTSUPP"), [Fd, Hex, Int, Int, Hex];
        SYS_process_vm_readv => mm::process_vm_readv, Full, [Int, Hex, Int, Hex, Int, Hex];
        SYS_process_vm_writev => mm::process_vm_writev, Full, [Int, Hex, Int, Hex, Int, Hex];
        SYS_mlock => mm::mlock, Partial("pages faulted in, RLIMIT_MEMLOCK checked against the range alone; sandbox memory is never swapped"), [Hex, Int];
        SYS_munlock => mm::munlock, Full, [Hex, Int];
        SYS_mlock2 => mm::mlock2, Partial("as mlock; MLOCK_ONFAULT leaves pages to fault"), [Hex, Int, Hex];
        SYS_mlockall => mm::mlockall, Partial("MCL_CURRENT faults every page in; MCL_FUTURE is not kept"), [Hex];
        SYS_munlockall => mm::munlockall, Full, [];
        SYS_rename => fs::rename, Full, [Path, Path];
        SYS_renameat => fs::renameat, Full, [Fd, Path, Fd, Path];
        SYS_renameat2 => fs::renameat2, Full, [Fd, Path, Fd, Path, Hex];
        SYS_symlink => fs::symlink, Full, [Path, Path];
        SYS_symlinkat => fs::symlinkat, Full, [Path, Fd, Path];
        SYS_link => fs::link, Full, [Path, Path];
        SYS_linkat => fs::linkat, Full, [Fd, Path, Fd, Path, Hex];
        SYS_chmod => fs::chmod, Full, [Path, Oct];
        SYS_fchmodat => fs::fchmodat, Full, [Fd, Path, Oct];
        SYS_fchmodat2 => fs::fchmodat2, Full, [Fd, Path, Oct, Hex];
        SYS_fchmod => fs::fchmod, Full, [Fd, Oct];
        SYS_chown => fs::chown, Full, [Path, Int, Int];
        SYS_lchown => fs::lchown, Full, [Path, Int, Int];
        SYS_fchownat => fs::fchownat, Full, [Fd, Path, Int, Int, Hex];
        SYS_fchown => fs::fchown, Full, [Fd, Int, Int];
        SYS_truncate => fs::truncate, Full, [Path, Int];
        SYS_ftruncate => fs::ftruncate, Full, [Fd, Int];
        SYS_utimensat => fs::utimensat, Full, [Fd, Path, Hex, Hex];
        SYS_mknod => fs::mknod, Partial("device nodes are made, and opening one is ENXIO (no devices behind them)"), [Path, Oct, Hex];
        SYS_mknodat => fs::mknodat, Partial("device nodes are made, and opening one is ENXIO (no devices behind them)"), [Fd, Path, Oct, Hex];
        SYS_futex => futex::futex, Partial("PI futexes without priority boosting (no scheduler priorities); CMP_REQUEUE_PI/WAIT_REQUEUE_PI missing"), [Hex, Hex, Int, Hex, Hex, Hex];
        SYS_clone => process::clone, Partial("namespace flags give EPERM"), [Hex, Hex, Hex, Hex, Hex];
        SYS_clone3 => process::clone3, Partial("namespace flags and set_tid give EPERM"), [Hex, Int];
        SYS_fork => process::fork, Full, [];
        SYS_vfork => process::vfork, Full, [];
        SYS_wait4 => process::wait4, Full, [Int, Hex, Hex, Hex];
        SYS_waitid => process::waitid, Full, [Int, Int, Hex, Hex, Hex];
        SYS_setpgid => process::setpgid, Full, [Int, Int];
        SYS_setsid => process::setsid, Full, [];
        SYS_pidfd_open => process::pidfd_open, Full, [Int, Hex];
        SYS_pidfd_getfd => process::pidfd_getfd, Full, [Fd, Int, Hex];
        SYS_pipe => fd::pipe, Full, [Hex];
        SYS_poll => poll::poll, Full, [Hex, Int, Int];
        SYS_restart_syscall => time::restart_syscall, Full, [];
        SYS_timerfd_create => time::timerfd_create, Full, [Int, Hex];
        SYS_timer_create => time::timer_create, Partial("CPU-time clocks give EINVAL"), [Int, Hex, Hex];
        SYS_timer_settime => time::timer_settime, Full, [Int, Hex, Hex, Hex];
        SYS_timer_gettime => time::timer_gettime, Full, [Int, Hex];
        SYS_timer_getoverrun => time::timer_getoverrun, Partial("every expiry is its own signal, so 0"), [Int];
        SYS_timer_delete => time::timer_delete, Full, [Int];
        SYS_timerfd_settime => time::timerfd_settime, Partial("TFD_TIMER_CANCEL_ON_SET accepted; clock changes are not tracked"), [Fd, Hex, Hex, Hex];
        SYS_timerfd_gettime => time::timerfd_gettime, Full, [Fd, Hex];
        SYS_socket => socket::socket, Partial("AF_UNIX; AF_INET and AF_INET6 TCP and UDP on the sentry's stack (loopback, and the interface taken over with --network sandbox); AF_NETLINK NETLINK_ROUTE (link, address and route dumps); no raw, packet or ICMP sockets yet"), [Int, Hex, Int];
        SYS_socketpair => socket::socketpair, Full, [Int, Hex, Int, Hex];
        SYS_bind => socket::bind, Full, [Fd, Hex, Int];
        SYS_listen => socket::listen, Full, [Fd, Int];
        SYS_accept => socket::accept, Full, [Fd, Hex, Hex];
        SYS_accept4 => socket::accept4, Full, [Fd, Hex, Hex, Hex];
        SYS_connect => socket::connect, Partial("AF_UNSPEC dissolves UDP associations; on TCP it is EAFNOSUPPORT, not a disconnect"), [Fd, Hex, Int];
        SYS_sendto => socket::sendto, Full, [Fd, InBuf(2), Int, Hex, Hex, Int];
        SYS_recvfrom => socket::recvfrom, Full, [Fd, OutBuf, Int, Hex, Hex, Hex];
        SYS_sendmsg => socket::sendmsg, Full, [Fd, Hex, Hex];
        SYS_recvmsg => socket::recvmsg, Full, [Fd, Hex, Hex];
        SYS_sendmmsg => socket::sendmmsg, Full, [Fd, Hex, Int, Hex];
        SYS_recvmmsg => socket::recvmmsg, Full, [Fd, Hex, Int, Hex, Hex];
        SYS_shutdown => socket::shutdown, Full, [Fd, Int];
        SYS_getsockname => socket::getsockname, Full, [Fd, Hex, Hex];
        SYS_getpeername => socket::getpeername, Full, [Fd, Hex, Hex];
        SYS_setsockopt => socket::setsockopt, Partial("unix: SO_PASSCRED, timeouts; inet: timeouts, SO_REUSEADDR/REUSEPORT, SO_LINGER, keepalive, TCP_NODELAY, IP_TTL, IPV6_V6ONLY applied; buffer sizes and multicast options accepted, not applied"), [Fd, Int, Int, Hex, Int];
        SYS_getsockopt => socket::getsockopt, Full, [Fd, Int, Int, Hex, Hex];
        SYS_epoll_create => epoll::epoll_create, Full, [Int];
        SYS_epoll_create1 => epoll::epoll_create1, Full, [Hex];
        SYS_epoll_ctl => epoll::epoll_ctl, Partial("EPOLLEXCLUSIVE accepted; every waiter is woken"), [Fd, Int, Fd, Hex];
        SYS_epoll_wait => epoll::epoll_wait, Full, [Fd, Hex, Int, Int];
        SYS_epoll_pwait => epoll::epoll_pwait, Full, [Fd, Hex, Int, Int, Hex, Int];
        SYS_epoll_pwait2 => epoll::epoll_pwait2, Full, [Fd, Hex, Int, Hex, Hex, Int];
        SYS_eventfd => epoll::eventfd, Full, [Int];
        SYS_eventfd2 => epoll::eventfd2, Full, [Int, Hex];
        SYS_getitimer => time::getitimer, Full, [Int, Hex];
        SYS_setitimer => time::setitimer, Full, [Int, Hex, Hex];
        SYS_alarm => time::alarm, Full, [Int];
        SYS_getrusage => time::getrusage, Partial("CPU time of the calling thread; children's usage is zero"), [Int, Hex];
        SYS_times => time::times, Partial("CPU time of the calling thread"), [Hex];
        SYS_fadvise64 => fd::fadvise64, Full, [Fd, Int, Int, Int];
        SYS_readahead => fd::readahead, Full, [Fd, Int, Int];
        SYS_ppoll => poll::ppoll, Full, [Hex, Int, Hex, Hex, Int];
        SYS_select => poll::select, Full, [Int, Hex, Hex, Hex, Hex];
        SYS_pselect6 => poll::pselect6, Full, [Int, Hex, Hex, Hex, Hex, Hex];
        SYS_pipe2 => fd::pipe2, Full, [Hex, Hex];
        SYS_rt_sigreturn => signal::rt_sigreturn, Full, [];
        SYS_signalfd => signal::signalfd, Full, [Fd, Hex, Int];
        SYS_signalfd4 => signal::signalfd4, Partial("poll wakes the reading task; another task polling it is woken late"), [Fd, Hex, Int, Hex];
        SYS_rt_sigsuspend => signal::rt_sigsuspend, Full, [Hex, Int];
        SYS_pause => signal::pause, Full, [];
        SYS_rt_sigtimedwait => signal::rt_sigtimedwait, Full, [Hex, Hex, Hex, Int];
        SYS_rt_sigqueueinfo => signal::rt_sigqueueinfo, Full, [Int, Int, Hex];
        SYS_rt_tgsigqueueinfo => signal::rt_tgsigqueueinfo, Full, [Int, Int, Int, Hex];
        SYS_pidfd_send_signal => signal::pidfd_send_signal, Full, [Fd, Int, Hex, Hex];
        SYS_fsync => fs::fsync, Full, [Fd];
        SYS_fdatasync => fs::fdatasync, Full, [Fd];
        SYS_sync => fs::sync, Full, [];
        SYS_syncfs => fs::syncfs, Full, [Fd];
        SYS_shmget => ipc::shmget, Partial("SHM_HUGETLB gives ENOMEM (no huge page pool)"), [Hex, Int, Oct];
        SYS_shmat => ipc::shmat, Full, [Int, Hex, Hex];
        SYS_shmdt => ipc::shmdt, Full, [Hex];
        SYS_shmctl => ipc::shmctl, Full, [Int, Int, Hex];
        SYS_semget => ipc::semget, Full, [Hex, Int, Oct];
        SYS_semop => ipc::semop, Full, [Int, Hex, Int];
        SYS_semtimedop => ipc::semtimedop, Full, [Int, Hex, Int, Hex];
        SYS_semctl => ipc::semctl, Full, [Int, Int, Int, Hex];
        SYS_msgget => ipc::msgget, Full, [Hex, Oct];
        SYS_msgsnd => ipc::msgsnd, Full, [Int, Hex, Int, Hex];
        SYS_msgrcv => ipc::msgrcv, Full, [Int, Hex, Int, Int, Hex];
        SYS_msgctl => ipc::msgctl, Full, [Int, Int, Hex];
    };
    v.extend(missing![
        SYS_ptrace,
        SYS_syslog,
        SYS_uselib,
        SYS_ustat,
        SYS_sysfs,
        SYS_sched_rr_get_interval,
        SYS_vhangup,
        SYS_modify_ldt,
        SYS_pivot_root,
        SYS_adjtimex,
        SYS_acct,
        SYS_settimeofday,
        SYS_swapon,
        SYS_swapoff,
        SYS_reboot,
        SYS_iopl,
        SYS_ioperm,
        SYS_init_module,
        SYS_delete_module,
        SYS_quotactl,
        SYS_io_setup,
        SYS_io_destroy,
        SYS_io_getevents,
        SYS_io_submit,
        SYS_io_cancel,
        SYS_lookup_dcookie,
        SYS_remap_file_pages,
        SYS_clock_settime,
        SYS_mbind,
        SYS_set_mempolicy,
        SYS_get_mempolicy,
        SYS_mq_open,
        SYS_mq_unlink,
        SYS_mq_timedsend,
        SYS_mq_timedreceive,
        SYS_mq_notify,
        SYS_mq_getsetattr,
        SYS_kexec_load,
        SYS_add_key,
        SYS_request_key,
        SYS_keyctl,
        SYS_migrate_pages,
        SYS_unshare,
        SYS_move_pages,
        SYS_perf_event_open,
        SYS_fanotify_init,
        SYS_fanotify_mark,
        SYS_name_to_handle_at,
        SYS_open_by_handle_at,
        SYS_clock_adjtime,
        SYS_setns,
        SYS_kcmp,
        SYS_finit_module,
        SYS_sched_setattr,
        SYS_sched_getattr,
        SYS_kexec_file_load,
        SYS_bpf,
        SYS_userfaultfd,
        SYS_membarrier,
        SYS_pkey_mprotect,
        SYS_pkey_alloc,
        SYS_pkey_free,
        SYS_rseq,
        SYS_io_uring_setup,
        SYS_io_uring_enter,
        SYS_io_uring_register,
        SYS_open_tree,
        SYS_move_mount,
        SYS_fsopen,
        SYS_fsconfig,
        SYS_fsmount,
        SYS_fspick,
        SYS_process_madvise,
        SYS_mount_setattr,
        SYS_landlock_create_ruleset,
        SYS_landlock_add_rule,
        SYS_landlock_restrict_self,
        SYS_memfd_secret,
        SYS_process_mrelease,
        SYS_futex_waitv,
        SYS_set_mempolicy_home_node,
        SYS_vserver,
        SYS_tuxcall,
        SYS_security,
        SYS_afs_syscall,
        SYS_putpmsg,
        SYS_getpmsg,
        SYS_nfsservctl,
        SYS_epoll_ctl_old,
        SYS_epoll_wait_old,
        SYS_set_thread_area,
        SYS_get_thread_area,
        SYS__sysctl,
    ]);
    v
}

/// Table entries indexed by number.
static TABLE: LazyLock<Vec<Option<Entry>>> = LazyLock::new(|| {
    let mut t: Vec<Option<Entry>> = (0..512).map(|_| None).collect();
    for e in entries() {
        let i = e.nr as usize;
        if i < t.len() && t[i].is_none() {
            t[i] = Some(e);
        }
    }
    t
});

pub fn lookup(nr: u64) -> Option<&'static Entry> {
    TABLE.get(nr as usize).and_then(|e| e.as_ref())
}

/// Every known entry, by number.
pub fn coverage() -> Vec<&'static Entry> {
    TABLE.iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_numbers() {
        assert_eq!(lookup(0).map(|e| e.name), Some("read"));
        assert_eq!(lookup(231).map(|e| e.name), Some("exit_group"));
        assert!(lookup(231).and_then(|e| e.handler).is_some());
        // Every implemented entry has a handler and every missing one has none.
        for e in coverage() {
            assert_eq!(e.handler.is_none(), e.support == Missing, "{}", e.name);
        }
    }
}
