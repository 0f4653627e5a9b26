//! Process identity, limits, exit and exec.

use std::sync::Arc;

use crate::errno::{Errno, SysResult};
use crate::kernel::clone::CloneArgs;
use crate::kernel::{ExitStatus, Task, ThreadGroup};

pub fn getpid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.tgid as u64)
}
pub fn gettid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.tid as u64)
}
pub fn getppid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.ppid() as u64)
}
pub fn getuid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.creds.uid as u64)
}
pub fn geteuid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.creds.euid as u64)
}
pub fn getgid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.creds.gid as u64)
}
pub fn getegid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.creds.egid as u64)
}

fn group_of(t: &Task, pid: i32) -> Result<Arc<ThreadGroup>, Errno> {
    if pid == 0 {
        return Ok(t.h.tg.clone());
    }
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    t.k.tasks()
        .groups
        .get(&pid)
        .cloned()
        .filter(|g| g.lock().zombie.is_none() || g.tgid == pid)
        .ok_or(Errno::ESRCH)
}

pub fn getpgrp(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.h.tg.pgid() as u64)
}

pub fn getpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    Ok(group_of(t, a[0] as i32)?.pgid() as u64)
}

pub fn getsid(t: &mut Task, a: [u64; 6]) -> SysResult {
    Ok(group_of(t, a[0] as i32)?.sid() as u64)
}

/// setpgid: move a process (the caller or one of its children) into a process group of its
/// session.
pub fn setpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, pgid) = (a[0] as i32, a[1] as i32);
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let target = if pid == 0 {
        t.h.tg.clone()
    } else {
        group_of(t, pid)?
    };
    let is_self = target.tgid == t.tgid;
    if !is_self {
        let st = target.lock();
        if st.parent.as_ref().map(|p| p.tgid) != Some(t.tgid) {
            return Err(Errno::ESRCH);
        }
        if st.sid != t.h.tg.sid() {
            return Err(Errno::EPERM);
        }
        if st.execed {
            return Err(Errno::EACCES);
        }
    }
    let pgid = if pgid == 0 { target.tgid } else { pgid };
    // A session leader cannot move; the group must exist in the same session (or be new).
    if target.sid() == target.tgid {
        return Err(Errno::EPERM);
    }
    if pgid != target.tgid {
        let sid = target.sid();
        let exists =
            t.k.tasks()
                .groups
                .values()
                .any(|g| g.pgid() == pgid && g.sid() == sid && g.lock().zombie.is_none());
        if !exists {
            return Err(Errno::EPERM);
        }
    }
    target.lock().pgid = pgid;
    Ok(0)
}

pub fn setsid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    let me = t.tgid;
    let leader =
        t.k.tasks()
            .groups
            .values()
            .any(|g| g.pgid() == me && g.lock().zombie.is_none());
    if leader {
        return Err(Errno::EPERM);
    }
    let mut st = t.h.tg.lock();
    st.sid = me;
    st.pgid = me;
    Ok(me as u64)
}

/// exit: this thread only.
pub fn exit(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.exit = Some(ExitStatus::Exited(a[0] as i32 & 0xff));
    Ok(0)
}

/// exit_group: every thread of the process.
pub fn exit_group(t: &mut Task, a: [u64; 6]) -> SysResult {
    let st = ExitStatus::Exited(a[0] as i32 & 0xff);
    t.k.group_exit(&t.h.tg.clone(), st);
    t.exit = Some(t.h.tg.group_exit_status().unwrap_or(st));
    Ok(0)
}

pub fn fork(t: &mut Task, _a: [u64; 6]) -> SysResult {
    let args = CloneArgs {
        exit_signal: libc::SIGCHLD,
        ..Default::default()
    };
    Ok(t.clone_task(args)? as u64)
}

pub fn vfork(t: &mut Task, _a: [u64; 6]) -> SysResult {
    let flags = (libc::CLONE_VM | libc::CLONE_VFORK) as u64;
    let args = CloneArgs {
        flags,
        exit_signal: libc::SIGCHLD,
        ..Default::default()
    };
    Ok(t.clone_task(args)? as u64)
}

/// clone(flags, stack, parent_tid, child_tid, tls) — the x86-64 argument order.
pub fn clone(t: &mut Task, a: [u64; 6]) -> SysResult {
    // The legacy call takes the low 32 bits of flags; the low byte is the exit signal.
    let args = CloneArgs {
        flags: a[0] & 0xffff_ff00,
        exit_signal: (a[0] & 0xff) as i32,
        stack: a[1],
        parent_tid: a[2],
        child_tid: a[3],
        tls: a[4],
        // CLONE_PIDFD reuses the parent_tid slot.
        pidfd: a[2],
        ..Default::default()
    };
    if args.exit_signal > 64 {
        return Err(Errno::EINVAL);
    }
    Ok(t.clone_task(args)? as u64)
}

/// clone3(struct clone_args *, size).
pub fn clone3(t: &mut Task, a: [u64; 6]) -> SysResult {
    // Sizes of the struct's versions: flags..tls, + set_tid/set_tid_size, + cgroup.
    const VER0: u64 = 64;
    const VER2: u64 = 88;
    const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    const CLONE_NEWTIME: u64 = 0x80;
    if a[1] > platform::PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    if a[1] < VER0 {
        return Err(Errno::EINVAL);
    }
    let raw = t.mm.read_vec(a[0], a[1] as usize)?;
    let w = |i: usize| {
        raw.get(i * 8..i * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    };
    // flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
    // set_tid_size, cgroup; unknown trailing fields must be zero.
    if raw.len() > VER2 as usize && raw[VER2 as usize..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let (flags, exit_signal, stack, stack_size) = (w(0), w(4), w(5), w(6));
    let (set_tid, set_tid_size) = (w(8), w(9));
    let has = |f: i32| flags & f as u64 != 0;
    let invalid = exit_signal > 64
        || flags & !(0xffff_ffff | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) != 0
        || flags & (libc::CLONE_DETACHED as u64 | (0xff & !CLONE_NEWTIME)) != 0
        || (has(libc::CLONE_SIGHAND) && flags & CLONE_CLEAR_SIGHAND != 0)
        || ((has(libc::CLONE_THREAD) || has(libc::CLONE_PARENT)) && exit_signal != 0)
        || (stack == 0) != (stack_size == 0)
        || (set_tid == 0) != (set_tid_size == 0)
        || set_tid_size > 1
        || (flags & CLONE_INTO_CGROUP != 0 && a[1] < VER2);
    if invalid {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_INTO_CGROUP != 0 {
        // There is no cgroup file system in the sandbox, so no fd names a cgroup.
        return Err(Errno::EBADF);
    }
    let set_tid = if set_tid_size == 1 {
        let tid: i32 = t.mm.copy_in(set_tid)?;
        if !(1..crate::kernel::PID_MAX).contains(&tid) {
            return Err(Errno::EINVAL);
        }
        // CAP_SYS_ADMIN (cap 21) over the pid namespace.
        if !t.creds.has_cap(caps::Capability::CAP_SYS_ADMIN) {
            return Err(Errno::EPERM);
        }
        Some(tid)
    } else {
        None
    };
    let args = CloneArgs {
        flags,
        exit_signal: exit_signal as i32,
        stack: if stack != 0 {
            stack.checked_add(stack_size).ok_or(Errno::EINVAL)?
        } else {
            0
        },
        parent_tid: w(3),
        child_tid: w(2),
        tls: w(7),
        pidfd: w(1),
        set_tid,
        clear_sighand: flags & CLONE_CLEAR_SIGHAND != 0,
    };
    Ok(t.clone_task(args)? as u64)
}

const WNOHANG: u64 = libc::WNOHANG as u64;
const WUNTRACED: u64 = libc::WUNTRACED as u64;
const WCONTINUED: u64 = libc::WCONTINUED as u64;
const WEXITED: u64 = libc::WEXITED as u64;
const WNOWAIT: u64 = libc::WNOWAIT as u64;
const WALL: u64 = libc::__WALL as u64;
const WCLONE: u64 = libc::__WCLONE as u64;
const WNOTHREAD: u64 = libc::__WNOTHREAD as u64;

/// Which children a wait is for.
#[derive(Clone, Copy)]
enum Sel {
    Pid(i32),
    Pgid(i32),
    Any,
}

/// What a wait found.
struct Found {
    pid: i32,
    uid: u32,
    /// wait(2) status word.
    status: i32,
    /// waitid's si_code and si_status.
    code: i32,
    si_status: i32,
    /// CPU time (user, system ns) of a reaped child and its reaped descendants.
    cpu: (u64, u64),
}

/// A `struct rusage` with the given CPU times (ns).
pub fn rusage(cpu: (u64, u64)) -> libc::rusage {
    let tv = |ns: u64| libc::timeval {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_usec: (ns % 1_000_000_000 / 1000) as i64,
    };
    let mut r: libc::rusage = crate::mm::Pod::zeroed();
    r.ru_utime = tv(cpu.0);
    r.ru_stime = tv(cpu.1);
    r
}

/// Look for a child matching `sel` with something to report; reap it unless `nowait`.
fn find_child(t: &Task, sel: Sel, opts: u64) -> Result<Option<Found>, Errno> {
    use crate::kernel::signal::{CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED};
    let children = t.h.tg.lock().children.clone();
    let mut any = false;
    for c in children {
        let matches = match sel {
            Sel::Pid(p) => c.tgid == p,
            Sel::Pgid(g) => c.pgid() == g,
            Sel::Any => true,
        };
        // __WCLONE selects children that do not signal SIGCHLD; __WALL selects all.
        let clone_child = c.lock().exit_signal != libc::SIGCHLD;
        if !matches || (opts & WALL == 0 && (opts & WCLONE != 0) != clone_child) {
            continue;
        }
        any = true;
        let mut st = c.lock();
        if let Some(z) = st.zombie.filter(|_| opts & WEXITED != 0) {
            let uid = st.uid;
            let cpu = st.cpu_with_children();
            drop(st);
            if opts & WNOWAIT == 0 {
                let mut me = t.h.tg.lock();
                me.children.retain(|x| x.tgid != c.tgid);
                me.children_cpu.0 += cpu.0;
                me.children_cpu.1 += cpu.1;
                drop(me);
                t.k.tasks().groups.remove(&c.tgid);
            }
            let (code, si_status) = match z {
                ExitStatus::Exited(e) => (CLD_EXITED, e),
                ExitStatus::Signaled(s, true) => (CLD_DUMPED, s),
                ExitStatus::Signaled(s, false) => (CLD_KILLED, s),
            };
            return Ok(Some(Found {
                pid: c.tgid,
                uid,
                status: z.wait_status(),
                code,
                si_status,
                cpu,
            }));
        }
        if opts & WUNTRACED != 0 {
            if let Some(sig) = st.stop_report {
                if opts & WNOWAIT == 0 {
                    st.stop_report = None;
                }
                return Ok(Some(Found {
                    pid: c.tgid,
                    uid: st.uid,
                    status: (sig << 8) | 0x7f,
                    code: CLD_STOPPED,
                    si_status: sig,
                    cpu: st.cpu_with_children(),
                }));
            }
        }
        if opts & WCONTINUED != 0 && st.cont_report {
            if opts & WNOWAIT == 0 {
                st.cont_report = false;
            }
            return Ok(Some(Found {
                pid: c.tgid,
                uid: st.uid,
                status: 0xffff,
                code: CLD_CONTINUED,
                si_status: libc::SIGCONT,
                cpu: st.cpu_with_children(),
            }));
        }
    }
    if !any {
        return Err(Errno::ECHILD);
    }
    Ok(None)
}

fn do_wait(t: &mut Task, sel: Sel, opts: u64) -> Result<Option<Found>, Errno> {
    if let Some(f) = find_child(t, sel, opts)? {
        return Ok(Some(f));
    }
    if opts & WNOHANG != 0 {
        return Ok(None);
    }
    let tg = t.h.tg.clone();
    t.block_on(&[&tg.child_events], None, |t| find_child(t, sel, opts))
        .map(Some)
}

pub fn wait4(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let opts = a[2];
    if opts & !(WNOHANG | WUNTRACED | WCONTINUED | WALL | WCLONE | WNOTHREAD) != 0 {
        return Err(Errno::EINVAL);
    }
    let sel = match pid {
        -1 => Sel::Any,
        0 => Sel::Pgid(t.h.tg.pgid()),
        p if p < 0 => Sel::Pgid(-p),
        p => Sel::Pid(p),
    };
    match do_wait(t, sel, opts | WEXITED)? {
        None => Ok(0),
        Some(f) => {
            if a[1] != 0 {
                t.mm.copy_out(a[1], &f.status)?;
            }
            if a[3] != 0 {
                t.mm.copy_out(a[3], &rusage(f.cpu))?;
            }
            Ok(f.pid as u64)
        }
    }
}

pub fn waitid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (idtype, id, infop, opts) = (a[0] as u32, a[1] as i32, a[2], a[3]);
    if opts & !(WNOHANG | WUNTRACED | WCONTINUED | WEXITED | WNOWAIT | WALL | WCLONE | WNOTHREAD)
        != 0
        || opts & (WEXITED | WUNTRACED | WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    let sel = match idtype {
        libc::P_ALL => Sel::Any,
        libc::P_PID if id > 0 => Sel::Pid(id),
        libc::P_PGID if id >= 0 => Sel::Pgid(if id == 0 { t.h.tg.pgid() } else { id }),
        libc::P_PIDFD => Sel::Pid(crate::fs::pidfd::target(t, id)?.tgid),
        _ => return Err(Errno::EINVAL),
    };
    let found = do_wait(t, sel, opts)?;
    if infop != 0 {
        let info = match &found {
            Some(f) => {
                let mut i =
                    crate::kernel::signal::SigInfo::child(f.pid, f.uid, f.code, f.si_status);
                i.0[4..8].copy_from_slice(&0i32.to_le_bytes());
                i
            }
            None => crate::kernel::signal::SigInfo([0; 128]),
        };
        t.mm.copy_out(infop, &info.0)?;
    }
    if a[4] != 0 {
        let r = rusage(found.as_ref().map_or((0, 0), |f| f.cpu));
        t.mm.copy_out(a[4], &r)?;
    }
    Ok(0)
}

pub fn set_tid_address(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.clear_child_tid = a[0];
    Ok(t.tid as u64)
}

/// sizeof(struct robust_list_head).
const ROBUST_HEAD_SIZE: u64 = 24;

pub fn set_robust_list(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != ROBUST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    t.robust_list = (a[0], a[1]);
    Ok(0)
}

pub fn get_robust_list(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != 0 && pid != t.tid {
        return Err(Errno::ESRCH);
    }
    t.mm.copy_out(a[1], &t.robust_list.0)?;
    t.mm.copy_out(a[2], &ROBUST_HEAD_SIZE)?;
    Ok(0)
}

/// personality(2): set the persona (any value; Linux checks none) unless it is 0xffffffff,
/// return the old one. The sentry acts on PER_LINUX32 and UNAME26 (uname) and
/// READ_IMPLIES_EXEC (mmap, mprotect); ADDR_NO_RANDOMIZE holds anyway (the layout is not
/// randomized).
pub fn personality(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut s = t.h.lock();
    let old = s.personality;
    if a[0] as u32 != u32::MAX {
        s.personality = a[0] as u32;
    }
    Ok(old as u64)
}

pub fn arch_prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    use platform::abi::*;
    let max = t.mm.max_addr();
    match a[0] {
        ARCH_SET_FS | ARCH_SET_GS => {
            if a[1] >= max {
                return Err(Errno::EPERM);
            }
            if a[0] == ARCH_SET_FS {
                t.regs.0.fs_base = a[1];
            } else {
                t.regs.0.gs_base = a[1];
            }
            Ok(0)
        }
        ARCH_GET_FS => {
            t.complete_regs()?;
            t.mm.copy_out(a[1], &t.regs.0.fs_base).map(|_| 0)
        }
        ARCH_GET_GS => {
            t.complete_regs()?;
            t.mm.copy_out(a[1], &t.regs.0.gs_base).map(|_| 0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        libc::PR_SET_SECCOMP => super::seccomp::prctl_set(t, a[1], a[2]),
        libc::PR_GET_SECCOMP => super::seccomp::prctl_get(t),
        libc::PR_SET_NAME => {
            let name = t.mm.read_cstr(a[1], 16).or_else(|e| {
                if e == Errno::ENAMETOOLONG {
                    t.mm.read_vec(a[1], 15)
                } else {
                    Err(e)
                }
            })?;
            t.set_comm(name);
            Ok(0)
        }
        libc::PR_GET_NAME => {
            let mut buf = [0u8; 16];
            let comm = t.comm();
            let n = comm.len().min(15);
            buf[..n].copy_from_slice(&comm[..n]);
            t.mm.write_bytes(a[1], &buf)?;
            Ok(0)
        }
        libc::PR_GET_DUMPABLE => Ok(1),
        libc::PR_SET_DUMPABLE => {
            if a[1] > 1 {
                Err(Errno::EINVAL)
            } else {
                Ok(0)
            }
        }
        libc::PR_GET_NO_NEW_PRIVS => {
            if a[1] != 0 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                return Err(Errno::EINVAL);
            }
            Ok(t.creds.no_new_privs as u64)
        }
        libc::PR_SET_NO_NEW_PRIVS => {
            if a[1] != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                Err(Errno::EINVAL)
            } else {
                t.creds.no_new_privs = true;
                t.h.lock().creds = Some(t.creds);
                Ok(0)
            }
        }
        libc::PR_GET_PDEATHSIG => {
            let sig = t.h.lock().pdeath_signal;
            t.mm.copy_out(a[1], &sig).map(|_| 0)
        }
        libc::PR_SET_PDEATHSIG => {
            if a[1] > 64 {
                Err(Errno::EINVAL)
            } else {
                t.h.lock().pdeath_signal = a[1] as i32;
                Ok(0)
            }
        }
        libc::PR_SET_CHILD_SUBREAPER => {
            t.h.tg.lock().subreaper = a[1] != 0;
            Ok(0)
        }
        libc::PR_GET_CHILD_SUBREAPER => {
            let v = t.h.tg.lock().subreaper as i32;
            t.mm.copy_out(a[1], &v).map(|_| 0)
        }
        libc::PR_SET_KEEPCAPS => {
            if a[1] > 1 {
                return Err(Errno::EINVAL);
            }
            t.creds.keep_caps = a[1] == 1;
            t.creds.renew();
            Ok(0)
        }
        libc::PR_GET_KEEPCAPS => Ok(t.creds.keep_caps as u64),
        libc::PR_CAPBSET_READ => {
            if a[1] > 40 {
                Err(Errno::EINVAL)
            } else {
                Ok(t.creds.cap_bounding >> a[1] & 1)
            }
        }
        libc::PR_CAPBSET_DROP => {
            if a[1] > 40 {
                return Err(Errno::EINVAL);
            }
            if !t.creds.has_cap(caps::Capability::CAP_SETPCAP) {
                return Err(Errno::EPERM);
            }
            t.creds.cap_bounding &= !(1 << a[1]);
            t.creds.renew();
            t.h.lock().creds = Some(t.creds);
            Ok(0)
        }
        op => {
            t.k.log_enosys(1000 + op as u64, &format!("prctl option {op}"));
            Err(Errno::EINVAL)
        }
    }
}

/// Read and/or set resource `res` of process `tg`.
fn do_prlimit(t: &mut Task, tg: &Arc<ThreadGroup>, res: u64, new: u64, old: u64) -> SysResult {
    if res as usize >= crate::kernel::task::RLIMIT_COUNT {
        return Err(Errno::EINVAL);
    }
    let n: Option<libc::rlimit> = if new != 0 {
        Some(t.mm.copy_in(new)?)
    } else {
        None
    };
    let cur = {
        let mut st = tg.lock();
        let cur = st.rlimits[res as usize];
        if let Some(n) = n {
            if n.rlim_cur > n.rlim_max {
                return Err(Errno::EINVAL);
            }
            if n.rlim_max > cur.rlim_max && !t.creds.has_cap(caps::Capability::CAP_SYS_RESOURCE) {
                return Err(Errno::EPERM);
            }
            // fs.nr_open.
            if res == libc::RLIMIT_NOFILE as u64 && n.rlim_max > 1 << 20 {
                return Err(Errno::EPERM);
            }
            st.rlimits[res as usize] = n;
        }
        cur
    };
    if old != 0 {
        t.mm.copy_out(old, &cur)?;
    }
    Ok(0)
}

pub fn prlimit64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let tg = if pid == 0 || pid == t.tid {
        t.h.tg.clone()
    } else {
        let h = t.k.tasks().threads.get(&pid).cloned().ok_or(Errno::ESRCH)?;
        // Another process: the caller's ids must match all of its ids, or CAP_SYS_RESOURCE.
        let other = h.lock().creds.ok_or(Errno::ESRCH)?;
        let c = &t.creds;
        let same = [other.uid, other.euid, other.suid]
            .iter()
            .all(|&u| u == c.uid)
            && [other.gid, other.egid, other.sgid]
                .iter()
                .all(|&g| g == c.gid);
        if !same && !c.has_cap(caps::Capability::CAP_SYS_RESOURCE) {
            return Err(Errno::EPERM);
        }
        h.tg.clone()
    };
    do_prlimit(t, &tg, a[1], a[2], a[3])
}

pub fn getrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] as usize >= crate::kernel::task::RLIMIT_COUNT {
        return Err(Errno::EINVAL);
    }
    // Unlike prlimit64, a NULL buffer is not "don't report": it is EFAULT.
    let cur = t.rlimit(a[0] as u32);
    t.mm.copy_out(a[1], &cur)?;
    Ok(0)
}

pub fn setrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    let tg = t.h.tg.clone();
    do_prlimit(t, &tg, a[0], a[1], 0)
}

pub fn umask(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut fs = t.fs.lock().unwrap_or_else(|e| e.into_inner());
    let old = fs.umask;
    fs.umask = a[0] as u32 & 0o777;
    Ok(old as u64)
}

fn read_strings(t: &Task, addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0usize;
    loop {
        let p: u64 = t.mm.copy_in(addr.wrapping_add(out.len() as u64 * 8))?;
        if p == 0 {
            return Ok(out);
        }
        let s = t.mm.read_cstr(p, 128 * 1024).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        total += s.len() + 1 + 8;
        if total > 2 << 20 {
            return Err(Errno::E2BIG);
        }
        out.push(s);
    }
}

/// execveat(dirfd, path, argv, envp, flags): AT_EMPTY_PATH runs the file `dirfd` refers to,
/// AT_SYMLINK_NOFOLLOW refuses a symlink (ELOOP).
pub fn execveat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (dirfd, flags) = (a[0] as i32, a[4] as i32);
    if flags & !(libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = t.path_arg(a[1])?;
    let argv = read_strings(t, a[2])?;
    let envp = read_strings(t, a[3])?;
    let dir = if path.first() == Some(&b'/') || dirfd == libc::AT_FDCWD {
        None
    } else {
        let f = t.fds.get(dirfd)?;
        let d = f.dentry.clone().ok_or(Errno::EBADF)?;
        if !path.is_empty() && !d.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Some(d)
    };
    let path = if path.is_empty() {
        if flags & libc::AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        // The file the descriptor refers to, by its path from our root.
        let f = t.fds.get(dirfd)?;
        let d = f.dentry.clone().ok_or(Errno::EACCES)?;
        d.path(&t.fs().root)
    } else {
        path
    };
    if flags & libc::AT_SYMLINK_NOFOLLOW != 0 {
        let mut fs = t.fs();
        if let Some(d) = &dir {
            fs.cwd = d.clone();
        }
        let start = if path.first() == Some(&b'/') {
            fs.root.clone()
        } else {
            fs.cwd.clone()
        };
        let d = crate::vfs::resolve(&fs, &t.creds, &start, &path, false)?;
        if d.file_type() == libc::S_IFLNK {
            return Err(Errno::ELOOP);
        }
    }
    t.exec_at(dir, path, argv, envp)?;
    t.regs_replaced = true;
    Ok(0)
}

pub fn execve(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let argv = read_strings(t, a[1])?;
    let envp = read_strings(t, a[2])?;
    t.exec(path, argv, envp)?;
    t.regs_replaced = true;
    Ok(0)
}

/// May the caller inspect or change process `tg` as a debugger would (Linux's
/// ptrace_may_access with PTRACE_MODE_ATTACH_REALCREDS)? Its own process; a process whose
/// real, effective and saved ids all equal the caller's real ones; anything with
/// CAP_SYS_PTRACE.
pub(super) fn may_attach(t: &Task, tg: &crate::kernel::ThreadGroup) -> bool {
    if tg.tgid == t.tgid || t.creds.has_cap(caps::Capability::CAP_SYS_PTRACE) {
        return true;
    }
    let leader = {
        let st = tg.lock();
        st.threads
            .iter()
            .find(|h| h.tid == tg.tgid)
            .or(st.threads.first())
            .cloned()
    };
    let (uid, gid) = (t.creds.uid, t.creds.gid);
    leader
        .and_then(|h| h.lock().creds)
        .is_some_and(|c| [c.uid, c.euid, c.suid] == [uid; 3] && [c.gid, c.egid, c.sgid] == [gid; 3])
}

/// pidfd_getfd(2): a close-on-exec duplicate of descriptor `fd` of the pidfd's process,
/// sharing its open file description.
pub fn pidfd_getfd(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[2] != 0 {
        return Err(Errno::EINVAL);
    }
    let tg = crate::fs::pidfd::target(t, super::fd_arg(a[0]))?;
    let fds = {
        let st = tg.lock();
        if st.zombie.is_some() {
            return Err(Errno::ESRCH);
        }
        st.view.fds.upgrade()
    };
    if !may_attach(t, &tg) {
        return Err(Errno::EPERM);
    }
    let file = fds.ok_or(Errno::ESRCH)?.get(a[1] as i32)?;
    Ok(t.fds.install(file, true, 0, t.nofile())? as u64)
}

pub fn pidfd_open(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, flags) = (a[0] as i32, a[1]);
    if flags & !(libc::O_NONBLOCK as u64) != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    let tg = t.k.tasks().groups.get(&pid).cloned().ok_or(Errno::ESRCH)?;
    Ok(crate::fs::pidfd::install(t, tg)? as u64)
}
