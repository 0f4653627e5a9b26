//! seccomp(2), and prctl's PR_SET_SECCOMP/PR_GET_SECCOMP: the application's own filters,
//! run by the sentry before each of its syscalls (`kernel::seccomp`).

use crate::errno::Errno;
use crate::kernel::seccomp::{self, Filter, Mode, SockFilter, Verdict};
use crate::kernel::signal::SigInfo;
use crate::kernel::{ExitStatus, Task};

use super::SysResult;

const SET_MODE_STRICT: u64 = 0;
const SET_MODE_FILTER: u64 = 1;
const GET_ACTION_AVAIL: u64 = 2;
const GET_NOTIF_SIZES: u64 = 3;
const FLAG_TSYNC: u64 = 1;
const FLAG_LOG: u64 = 2;
const FLAG_SPEC_ALLOW: u64 = 4;
const FLAG_NEW_LISTENER: u64 = 8;
const FLAG_TSYNC_ESRCH: u64 = 16;
const FLAG_WAIT_KILLABLE_RECV: u64 = 32;
/// si_code of a SIGSYS raised by a filter's TRAP.
const SYS_SECCOMP: i32 = 1;

/// Run the task's filters on syscall `nr`: true if it may go on; otherwise its result (or
/// the task's death) has been arranged.
pub fn admit(t: &mut Task, mode: &Mode, nr: u64, args: &[u64; 6]) -> bool {
    let ip = t.regs.0.rip;
    let verdict = match mode {
        Mode::Strict => seccomp::strict(nr),
        Mode::Filter(f) => f.evaluate(nr, args, ip),
    };
    let enosys = (-(Errno::ENOSYS.0 as i64)) as u64;
    match verdict {
        Verdict::Allow | Verdict::Log => return true,
        Verdict::Errno(e) => t.regs.0.rax = (-(e as i64)) as u64,
        Verdict::Enosys => t.regs.0.rax = enosys,
        Verdict::Trap(data) => {
            // The syscall is skipped and the handler sees the registers as they were at
            // entry (Linux's syscall_rollback): rax holds the syscall number again.
            t.regs.0.rax = nr;
            t.force_signal(sigsys(nr, data, ip));
        }
        Verdict::KillThread if matches!(mode, Mode::Strict) => {
            // Strict mode kills the thread with SIGKILL (the process, if it is the last).
            kill_thread(t, ExitStatus::Signaled(libc::SIGKILL, false));
        }
        Verdict::KillThread => kill_thread(t, ExitStatus::Signaled(libc::SIGSYS, true)),
        Verdict::KillProcess => {
            let st = ExitStatus::Signaled(libc::SIGSYS, true);
            t.k.group_exit(&t.h.tg.clone(), st);
            t.exit = Some(t.h.tg.group_exit_status().unwrap_or(st));
        }
    }
    false
}

/// The thread dies with `st`; the last thread of its process takes the process with it,
/// dumping core if it is SIGSYS (as Linux does for KILL_THREAD only when one thread is left).
fn kill_thread(t: &mut Task, st: ExitStatus) {
    let alone = t.h.tg.lock().threads.len() <= 1;
    if alone {
        t.k.group_exit(&t.h.tg.clone(), st);
        t.exit = Some(t.h.tg.group_exit_status().unwrap_or(st));
    } else {
        t.exit = Some(st);
    }
}

/// SIGSYS for a TRAP: si_errno holds the filter's data, then the call address, the syscall
/// number and the audit architecture (`_sigsys`).
fn sigsys(nr: u64, data: u16, ip: u64) -> SigInfo {
    let mut s = SigInfo::new(libc::SIGSYS, SYS_SECCOMP);
    s.0[4..8].copy_from_slice(&(data as i32).to_le_bytes());
    s.0[16..24].copy_from_slice(&ip.to_le_bytes());
    s.0[24..28].copy_from_slice(&(nr as i32).to_le_bytes());
    s.0[28..32].copy_from_slice(&seccomp::AUDIT_ARCH_X86_64.to_le_bytes());
    s
}

/// seccomp(operation, flags, args).
pub fn seccomp(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (op, flags, uargs) = (a[0], a[1], a[2]);
    match op {
        SET_MODE_STRICT => {
            if flags != 0 || uargs != 0 {
                return Err(Errno::EINVAL);
            }
            set_strict(t)
        }
        SET_MODE_FILTER => set_filter(t, flags, uargs),
        GET_ACTION_AVAIL => {
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            let action: u32 = t.mm.copy_in(uargs)?;
            match action {
                seccomp::RET_KILL_PROCESS
                | seccomp::RET_KILL_THREAD
                | seccomp::RET_TRAP
                | seccomp::RET_ERRNO
                | seccomp::RET_TRACE
                | seccomp::RET_LOG
                | seccomp::RET_ALLOW => Ok(0),
                // User-space notification needs a listener, which the sentry does not make.
                _ => Err(Errno::EOPNOTSUPP),
            }
        }
        GET_NOTIF_SIZES => {
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            // struct seccomp_notif_sizes: seccomp_notif, seccomp_notif_resp, seccomp_data.
            let sizes: [u16; 3] = [80, 24, 64];
            t.mm.copy_out(uargs, &sizes)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

fn set_strict(t: &mut Task) -> SysResult {
    match t.h.seccomp() {
        Some(Mode::Filter(_)) => Err(Errno::EINVAL),
        _ => {
            t.h.set_seccomp(Mode::Strict);
            Ok(0)
        }
    }
}

/// SECCOMP_SET_MODE_FILTER (and PR_SET_SECCOMP's filter mode, `flags` 0).
fn set_filter(t: &mut Task, flags: u64, uargs: u64) -> SysResult {
    let known = FLAG_TSYNC
        | FLAG_LOG
        | FLAG_SPEC_ALLOW
        | FLAG_NEW_LISTENER
        | FLAG_TSYNC_ESRCH
        | FLAG_WAIT_KILLABLE_RECV;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    // Both report through the return value: only together with TSYNC_ESRCH.
    if flags & FLAG_TSYNC != 0 && flags & FLAG_NEW_LISTENER != 0 && flags & FLAG_TSYNC_ESRCH == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & FLAG_WAIT_KILLABLE_RECV != 0 && flags & FLAG_NEW_LISTENER == 0 {
        return Err(Errno::EINVAL);
    }
    // A notification listener would be a file descriptor user space answers syscalls on;
    // the sentry does not offer one.
    if flags & FLAG_NEW_LISTENER != 0 {
        return Err(Errno::EINVAL);
    }
    // struct sock_fprog: unsigned short len; struct sock_filter *filter.
    let fprog: [u64; 2] = t.mm.copy_in(uargs)?;
    let len = (fprog[0] & 0xffff) as usize;
    if len == 0 || len > seccomp::MAX_INSNS {
        return Err(Errno::EINVAL);
    }
    if !t.creds.no_new_privs && !t.creds.has_cap(caps::Capability::CAP_SYS_ADMIN) {
        return Err(Errno::EACCES);
    }
    let raw = t.mm.read_vec(fprog[1], len * 8)?;
    let prog: Vec<SockFilter> = raw
        .chunks_exact(8)
        .map(|c| SockFilter {
            code: u16::from_le_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    let current = match t.h.seccomp() {
        Some(Mode::Strict) => return Err(Errno::EINVAL),
        Some(Mode::Filter(f)) => Some(f),
        None => None,
    };
    let filter = Filter::new(prog, flags & FLAG_LOG != 0, current.clone())?;
    if flags & FLAG_TSYNC != 0 {
        // Every other thread's filters must be ours or older ones; then all get the new one.
        let threads = t.h.tg.lock().threads.clone();
        for other in threads.iter().filter(|h| h.tid != t.tid) {
            let ok = match (other.seccomp(), &current) {
                (None, _) => true,
                (Some(Mode::Filter(theirs)), Some(ours)) => ours.descends_from(&theirs),
                _ => false,
            };
            if !ok {
                if flags & FLAG_TSYNC_ESRCH != 0 {
                    return Err(Errno::ESRCH);
                }
                return Ok(other.tid as u64);
            }
        }
        for other in threads.iter().filter(|h| h.tid != t.tid) {
            other.set_seccomp(Mode::Filter(filter.clone()));
        }
    }
    t.h.set_seccomp(Mode::Filter(filter));
    Ok(0)
}

/// prctl(PR_SET_SECCOMP, mode, filter).
pub fn prctl_set(t: &mut Task, mode: u64, prog: u64) -> SysResult {
    match mode {
        1 => set_strict(t),
        2 => set_filter(t, 0, prog),
        _ => Err(Errno::EINVAL),
    }
}

/// prctl(PR_GET_SECCOMP): 0, or 2 in filter mode (in strict mode the call itself kills).
pub fn prctl_get(t: &Task) -> SysResult {
    Ok(t.h.seccomp().map_or(0, |m| m.number()))
}
