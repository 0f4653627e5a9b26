//! Process identity, limits, exit and exec.

use crate::errno::{Errno, SysResult};
use crate::kernel::{ExitStatus, Task};

pub fn getpid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.tgid as u64)
}
pub fn gettid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.tid as u64)
}
pub fn getppid(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.ppid as u64)
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

/// The first process leads its own session and process group.
pub fn getpgrp(t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(t.tgid as u64)
}
pub fn getpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != 0 && pid != t.tgid {
        return Err(Errno::ESRCH);
    }
    Ok(t.tgid as u64)
}
pub fn getsid(t: &mut Task, a: [u64; 6]) -> SysResult {
    getpgid(t, a)
}

pub fn getgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    if (a[0] as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let _ = t;
    Ok(0)
}

pub fn exit(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.exit = Some(ExitStatus::Exited(a[0] as i32 & 0xff));
    Ok(0)
}

pub fn exit_group(t: &mut Task, a: [u64; 6]) -> SysResult {
    exit(t, a)
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
        ARCH_GET_FS => t.mm.copy_out(a[1], &t.regs.0.fs_base).map(|_| 0),
        ARCH_GET_GS => t.mm.copy_out(a[1], &t.regs.0.gs_base).map(|_| 0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        libc::PR_SET_NAME => {
            let mut name = t.mm.read_cstr(a[1], 16).or_else(|e| {
                if e == Errno::ENAMETOOLONG {
                    t.mm.read_vec(a[1], 15)
                } else {
                    Err(e)
                }
            })?;
            name.truncate(15);
            t.comm = name;
            Ok(0)
        }
        libc::PR_GET_NAME => {
            let mut buf = [0u8; 16];
            buf[..t.comm.len().min(15)].copy_from_slice(&t.comm[..t.comm.len().min(15)]);
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
        libc::PR_GET_NO_NEW_PRIVS => Ok(1),
        libc::PR_SET_NO_NEW_PRIVS => {
            if a[1] != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                Err(Errno::EINVAL)
            } else {
                Ok(0)
            }
        }
        libc::PR_GET_PDEATHSIG => t.mm.copy_out(a[1], &0i32).map(|_| 0),
        libc::PR_SET_PDEATHSIG => {
            if a[1] > 64 {
                Err(Errno::EINVAL)
            } else {
                Ok(0)
            }
        }
        libc::PR_CAPBSET_READ => {
            if a[1] > 40 {
                Err(Errno::EINVAL)
            } else {
                Ok((t.creds.euid == 0) as u64)
            }
        }
        op => {
            t.k.log_enosys(1000 + op as u64, &format!("prctl option {op}"));
            Err(Errno::EINVAL)
        }
    }
}

fn do_prlimit(t: &mut Task, res: u64, new: u64, old: u64) -> SysResult {
    if res as usize >= crate::kernel::task::RLIMIT_COUNT {
        return Err(Errno::EINVAL);
    }
    let cur = t.rlimits[res as usize];
    if new != 0 {
        let n: libc::rlimit = t.mm.copy_in(new)?;
        if n.rlim_cur > n.rlim_max {
            return Err(Errno::EINVAL);
        }
        if n.rlim_max > cur.rlim_max && t.creds.euid != 0 {
            return Err(Errno::EPERM);
        }
        if res == libc::RLIMIT_NOFILE as u64 && n.rlim_max > 1 << 20 {
            return Err(Errno::EPERM);
        }
        t.rlimits[res as usize] = n;
    }
    if old != 0 {
        t.mm.copy_out(old, &cur)?;
    }
    Ok(0)
}

pub fn prlimit64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != 0 && pid != t.tgid {
        return Err(Errno::ESRCH);
    }
    do_prlimit(t, a[1], a[2], a[3])
}

pub fn getrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] as usize >= crate::kernel::task::RLIMIT_COUNT {
        return Err(Errno::EINVAL);
    }
    // Unlike prlimit64, a NULL buffer is not "don't report": it is EFAULT.
    let cur = t.rlimits[a[0] as usize];
    t.mm.copy_out(a[1], &cur)?;
    Ok(0)
}

pub fn setrlimit(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_prlimit(t, a[0], a[1], 0)
}

pub fn umask(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.fs.umask;
    t.fs.umask = a[0] as u32 & 0o777;
    Ok(old as u64)
}

pub fn sched_yield(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    std::thread::yield_now();
    Ok(0)
}

pub fn getpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (which, who) = (a[0] as i32, a[1] as i32);
    if !matches!(
        which as u32,
        libc::PRIO_PROCESS | libc::PRIO_PGRP | libc::PRIO_USER
    ) {
        return Err(Errno::EINVAL);
    }
    if which as u32 != libc::PRIO_USER && who != 0 && who != t.tgid {
        return Err(Errno::ESRCH);
    }
    // Nice 0, returned as 20 - nice.
    Ok(20)
}

pub fn sched_getaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    if pid != 0 && pid != t.tid {
        return Err(Errno::ESRCH);
    }
    let cpus = t.k.cpus();
    let len = a[1] as usize;
    let need = cpus.div_ceil(64) * 8;
    if len < need || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let mut mask = vec![0u8; need];
    for c in 0..cpus {
        mask[c / 8] |= 1 << (c % 8);
    }
    t.mm.write_bytes(a[2], &mask)?;
    Ok(need as u64)
}

fn read_strings(t: &Task, addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0usize;
    loop {
        let p: u64 = t.mm.copy_in(addr + out.len() as u64 * 8)?;
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

pub fn execve(t: &mut Task, a: [u64; 6]) -> SysResult {
    let path = t.path_arg(a[0])?;
    let argv = read_strings(t, a[1])?;
    let envp = read_strings(t, a[2])?;
    t.exec(path, argv, envp)?;
    t.regs_replaced = true;
    Ok(0)
}
