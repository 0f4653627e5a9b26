//! Scheduling syscalls: yield, nice values, policies and priorities, CPU affinity. The sandbox's
//! threads are host threads scheduled by the host: these calls keep and report what the
//! application set, with Linux's checks, and sched_yield really yields.

use std::sync::Arc;

use crate::errno::{Errno, SysResult};
use crate::kernel::task::Sched;
use crate::kernel::{Task, TaskHandle};

/// sched_setscheduler's flag: children start with the default policy.
const SCHED_RESET_ON_FORK: i32 = 0x4000_0000;

pub fn sched_yield(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    std::thread::yield_now();
    Ok(0)
}

/// The thread `pid` names (0: the caller).
fn thread(t: &Task, pid: i32) -> Result<Arc<TaskHandle>, Errno> {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid == 0 {
        return Ok(t.h.clone());
    }
    t.k.tasks().threads.get(&pid).cloned().ok_or(Errno::ESRCH)
}

/// The threads a getpriority/setpriority (which, who) names.
fn prio_targets(t: &Task, which: i32, who: i32) -> Result<Vec<Arc<TaskHandle>>, Errno> {
    let tasks = t.k.tasks();
    let all = tasks.threads.values();
    Ok(match which as u32 {
        libc::PRIO_PROCESS => {
            if who == 0 {
                vec![t.h.clone()]
            } else {
                tasks.threads.get(&who).cloned().into_iter().collect()
            }
        }
        libc::PRIO_PGRP => {
            let g = if who == 0 { t.h.tg.pgid() } else { who };
            all.filter(|h| h.tg.pgid() == g).cloned().collect()
        }
        libc::PRIO_USER => {
            let u = if who == 0 { t.creds.uid } else { who as u32 };
            all.filter(|h| h.lock().creds.is_some_and(|c| c.uid == u))
                .cloned()
                .collect()
        }
        _ => return Err(Errno::EINVAL),
    })
}

pub fn getpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    let targets = prio_targets(t, a[0] as i32, a[1] as i32)?;
    // The highest priority among them, as 20 - nice (so never negative).
    targets
        .iter()
        .map(|h| (20 - h.lock().sched.nice) as u64)
        .max()
        .ok_or(Errno::ESRCH)
}

pub fn setpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    let targets = prio_targets(t, a[0] as i32, a[1] as i32)?;
    let nice = (a[2] as i32).clamp(-20, 19);
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    let limit = t.rlimit(libc::RLIMIT_NICE).rlim_cur;
    let mut err = None;
    for h in targets {
        let mut s = h.lock();
        let owner = s
            .creds
            .is_some_and(|c| c.uid == t.creds.euid || c.euid == t.creds.euid);
        if !owner && !t.creds.has_cap(caps::Capability::CAP_SYS_NICE) {
            err = Some(Errno::EPERM);
            continue;
        }
        // Lowering nice (raising priority) takes RLIMIT_NICE room or CAP_SYS_NICE.
        if nice < s.sched.nice
            && (20 - nice) as u64 > limit
            && !t.creds.has_cap(caps::Capability::CAP_SYS_NICE)
        {
            err = Some(Errno::EACCES);
            continue;
        }
        s.sched.nice = nice;
    }
    err.map_or(Ok(0), Err)
}

/// ioprio_set/ioprio_get's `which` (IOPRIO_WHO_PROCESS, _PGRP, _USER) as the PRIO_* of
/// getpriority that names the same threads.
fn ioprio_which(which: i32) -> Result<i32, Errno> {
    match which {
        1 => Ok(libc::PRIO_PROCESS as i32),
        2 => Ok(libc::PRIO_PGRP as i32),
        3 => Ok(libc::PRIO_USER as i32),
        _ => Err(Errno::EINVAL),
    }
}

/// An I/O priority: class in bits 13-15, a level (bits 0-2) and hints in the data below.
const IOPRIO_CLASS_SHIFT: u32 = 13;
const IOPRIO_CLASS_NONE: i32 = 0;
const IOPRIO_CLASS_RT: i32 = 1;
const IOPRIO_CLASS_BE: i32 = 2;
const IOPRIO_CLASS_IDLE: i32 = 3;
const IOPRIO_LEVELS: i32 = 8;

/// The I/O priority a thread gets: the one it set, else best effort (real-time or idle
/// following its policy) at the level its nice value gives, as Linux's __get_task_ioprio.
fn effective_ioprio(s: &Sched) -> i32 {
    if (s.ioprio >> IOPRIO_CLASS_SHIFT) & 7 != IOPRIO_CLASS_NONE {
        return s.ioprio;
    }
    let class = match s.policy & !SCHED_RESET_ON_FORK {
        libc::SCHED_IDLE => IOPRIO_CLASS_IDLE,
        libc::SCHED_FIFO | libc::SCHED_RR => IOPRIO_CLASS_RT,
        _ => IOPRIO_CLASS_BE,
    };
    (class << IOPRIO_CLASS_SHIFT) | ((s.nice + 20) / 5)
}

/// ioprio_set(2): Linux's checks (the real-time class takes CAP_SYS_ADMIN or CAP_SYS_NICE,
/// another user's thread CAP_SYS_NICE); the value is kept and reported, the host schedules
/// the I/O. A group or user stops at the first thread it may not change.
pub fn ioprio_set(t: &mut Task, a: [u64; 6]) -> SysResult {
    let prio = a[2] as i32;
    let level = prio & (IOPRIO_LEVELS - 1);
    match (prio >> IOPRIO_CLASS_SHIFT) & 7 {
        IOPRIO_CLASS_RT
            if !t.creds.has_cap(caps::Capability::CAP_SYS_ADMIN)
                && !t.creds.has_cap(caps::Capability::CAP_SYS_NICE) =>
        {
            return Err(Errno::EPERM)
        }
        IOPRIO_CLASS_RT | IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE => {}
        IOPRIO_CLASS_NONE if level == 0 => {}
        _ => return Err(Errno::EINVAL),
    }
    let targets = prio_targets(t, ioprio_which(a[0] as i32)?, a[1] as i32)?;
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    for h in targets {
        let mut s = h.lock();
        let uid = s.creds.map(|c| c.uid);
        if uid != Some(t.creds.euid)
            && uid != Some(t.creds.uid)
            && !t.creds.has_cap(caps::Capability::CAP_SYS_NICE)
        {
            return Err(Errno::EPERM);
        }
        s.sched.ioprio = prio;
    }
    Ok(0)
}

/// ioprio_get(2): a thread's raw value (0 if never set); over a group or a user's threads
/// the best (numerically lowest) effective one.
pub fn ioprio_get(t: &mut Task, a: [u64; 6]) -> SysResult {
    let which = ioprio_which(a[0] as i32)?;
    let targets = prio_targets(t, which, a[1] as i32)?;
    let prio = if which == libc::PRIO_PROCESS as i32 {
        targets.first().map(|h| h.lock().sched.ioprio)
    } else {
        targets
            .iter()
            .map(|h| effective_ioprio(&h.lock().sched))
            .min()
    };
    prio.map(|p| p as u64).ok_or(Errno::ESRCH)
}

fn valid_priority(policy: i32, prio: i32) -> bool {
    match policy {
        libc::SCHED_FIFO | libc::SCHED_RR => (1..=99).contains(&prio),
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE => prio == 0,
        _ => false,
    }
}

/// sched_setscheduler / sched_setparam: `policy` None keeps the current one.
fn set_sched(t: &Task, pid: i32, policy: Option<i32>, param: u64) -> SysResult {
    if param == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let prio: i32 = t.mm.copy_in(param)?;
    let h = thread(t, pid)?;
    let mut s = h.lock();
    let policy = policy.unwrap_or(s.sched.policy);
    if !valid_priority(policy & !SCHED_RESET_ON_FORK, prio) {
        return Err(Errno::EINVAL);
    }
    let owner = s
        .creds
        .is_some_and(|c| c.uid == t.creds.euid || c.euid == t.creds.euid);
    let realtime = matches!(
        policy & !SCHED_RESET_ON_FORK,
        libc::SCHED_FIFO | libc::SCHED_RR
    );
    let rtprio = t.rlimit(libc::RLIMIT_RTPRIO).rlim_cur;
    if !t.creds.has_cap(caps::Capability::CAP_SYS_NICE)
        && (!owner || (realtime && prio as u64 > rtprio))
    {
        return Err(Errno::EPERM);
    }
    s.sched.policy = policy & !SCHED_RESET_ON_FORK;
    s.sched.priority = prio;
    Ok(0)
}

pub fn sched_setscheduler(t: &mut Task, a: [u64; 6]) -> SysResult {
    let policy = a[1] as i32;
    if policy < 0 {
        return Err(Errno::EINVAL);
    }
    set_sched(t, a[0] as i32, Some(policy), a[2])
}

pub fn sched_setparam(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_sched(t, a[0] as i32, None, a[1])
}

pub fn sched_getscheduler(t: &mut Task, a: [u64; 6]) -> SysResult {
    let h = thread(t, a[0] as i32)?;
    let p = h.lock().sched.policy;
    Ok(p as u64)
}

pub fn sched_getparam(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] == 0 {
        return Err(Errno::EINVAL);
    }
    let h = thread(t, a[0] as i32)?;
    let prio = h.lock().sched.priority;
    t.mm.copy_out(a[1], &prio)?;
    Ok(0)
}

pub fn sched_get_priority_max(_t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        libc::SCHED_FIFO | libc::SCHED_RR => Ok(99),
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sched_get_priority_min(_t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        libc::SCHED_FIFO | libc::SCHED_RR => Ok(1),
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// Bytes of an affinity mask covering the sandbox's CPUs, in whole longs.
fn mask_bytes(t: &Task) -> usize {
    t.k.cpus().div_ceil(64) * 8
}

fn online_mask(t: &Task) -> Vec<u8> {
    let mut m = vec![0u8; mask_bytes(t)];
    for c in 0..t.k.cpus() {
        m[c / 8] |= 1 << (c % 8);
    }
    m
}

pub fn sched_getaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    let len = a[1] as usize;
    let need = mask_bytes(t);
    if len < need || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let h = thread(t, a[0] as i32)?;
    let online = online_mask(t);
    let mask: Vec<u8> = match &h.lock().sched.affinity {
        Some(m) => online.iter().zip(m).map(|(o, m)| o & m).collect(),
        None => online,
    };
    t.mm.write_bytes(a[2], &mask)?;
    Ok(need as u64)
}

pub fn sched_setaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    let len = (a[1] as usize).min(mask_bytes(t));
    let mut mask = t.mm.read_vec(a[2], len)?;
    mask.resize(mask_bytes(t), 0);
    let h = thread(t, a[0] as i32)?;
    let online = online_mask(t);
    if !online.iter().zip(&mask).any(|(o, m)| o & m != 0) {
        return Err(Errno::EINVAL);
    }
    let mut s = h.lock();
    let owner = s
        .creds
        .is_some_and(|c| c.uid == t.creds.euid || c.euid == t.creds.euid);
    if !owner && !t.creds.has_cap(caps::Capability::CAP_SYS_NICE) {
        return Err(Errno::EPERM);
    }
    s.sched = Sched {
        affinity: Some(mask),
        ..s.sched.clone()
    };
    Ok(0)
}
