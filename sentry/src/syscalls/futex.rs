//! futex: wait queues keyed per address space (private) or per memory page (shared).

use std::time::Duration;

use crate::errno::{Errno, SysResult};
use crate::kernel::futex::key;
use crate::kernel::{time, Task};

const FUTEX_WAIT: u64 = libc::FUTEX_WAIT as u64;
const FUTEX_WAKE: u64 = libc::FUTEX_WAKE as u64;
const FUTEX_REQUEUE: u64 = libc::FUTEX_REQUEUE as u64;
const FUTEX_CMP_REQUEUE: u64 = libc::FUTEX_CMP_REQUEUE as u64;
const FUTEX_WAKE_OP: u64 = libc::FUTEX_WAKE_OP as u64;
const FUTEX_WAIT_BITSET: u64 = libc::FUTEX_WAIT_BITSET as u64;
const FUTEX_WAKE_BITSET: u64 = libc::FUTEX_WAKE_BITSET as u64;
const FUTEX_PRIVATE_FLAG: u64 = libc::FUTEX_PRIVATE_FLAG as u64;
const FUTEX_CLOCK_REALTIME: u64 = libc::FUTEX_CLOCK_REALTIME as u64;
const FUTEX_LOCK_PI: u64 = libc::FUTEX_LOCK_PI as u64;
const FUTEX_UNLOCK_PI: u64 = libc::FUTEX_UNLOCK_PI as u64;
const FUTEX_TRYLOCK_PI: u64 = libc::FUTEX_TRYLOCK_PI as u64;
const FUTEX_LOCK_PI2: u64 = libc::FUTEX_LOCK_PI2 as u64;

/// Apply a FUTEX_WAKE_OP operation to the word at `addr`; returns whether the comparison holds.
fn wake_op(t: &Task, addr: u64, enc: u32) -> Result<bool, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let op = (enc >> 28) & 7;
    let shift = enc & (8 << 28) != 0;
    let cmp = (enc >> 24) & 15;
    let mut oparg = ((enc << 8) as i32 >> 20) as u32;
    let cmparg = ((enc << 20) as i32 >> 20) as u32;
    if shift {
        if oparg > 31 {
            return Err(Errno::EINVAL);
        }
        oparg = 1 << oparg;
    }
    // Atomic read-modify-write: application threads may change the word meanwhile.
    let old = loop {
        let old: u32 = t.mm.copy_in(addr)?;
        let new = match op {
            0 => oparg,
            1 => old.wrapping_add(oparg),
            2 => old | oparg,
            3 => old & !oparg,
            4 => old ^ oparg,
            _ => return Err(Errno::ENOSYS),
        };
        if t.mm.cmpxchg_u32(addr, old, new)?.is_ok() {
            break old;
        }
    };
    let (o, c) = (old as i32, cmparg as i32);
    Ok(match cmp {
        0 => o == c,
        1 => o != c,
        2 => o < c,
        3 => o <= c,
        4 => o > c,
        5 => o >= c,
        _ => return Err(Errno::ENOSYS),
    })
}

pub fn futex(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, op, val, timeout, addr2, val3) = (a[0], a[1], a[2] as u32, a[3], a[4], a[5] as u32);
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    // Only the absolute-timeout waits take a clock (plain FUTEX_WAIT's timeout is relative).
    if op & FUTEX_CLOCK_REALTIME != 0 && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_LOCK_PI2 {
        return Err(Errno::ENOSYS);
    }
    let mm = t.mm.clone();
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { u32::MAX } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            let k = key(&mm, addr, private)?;
            // FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's absolute, on the clock asked.
            let deadline = if timeout != 0 {
                let ts: libc::timespec = t.mm.copy_in(timeout)?;
                if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
                    return Err(Errno::EINVAL);
                }
                let req = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
                if cmd == FUTEX_WAIT {
                    time::deadline(req)
                } else {
                    let clock = if op & FUTEX_CLOCK_REALTIME != 0 {
                        libc::CLOCK_REALTIME
                    } else {
                        libc::CLOCK_MONOTONIC
                    };
                    let now = time::ns(time::now(clock));
                    let target = ts
                        .tv_sec
                        .saturating_mul(1_000_000_000)
                        .saturating_add(ts.tv_nsec);
                    time::deadline(Duration::from_nanos(
                        target.saturating_sub(now).max(0) as u64
                    ))
                }
            } else {
                None
            };
            let w = t.h.waiter.clone();
            let ticket = t.k.futexes.prepare_wait(&mm, addr, k, val, bitset, &w)?;
            let r = t.block_on(&[], deadline, |_| {
                Ok(if ticket.woken.load(std::sync::atomic::Ordering::Acquire) {
                    Some(())
                } else {
                    None
                })
            });
            match r {
                Ok(()) => Ok(0),
                Err(e) => {
                    if t.k.futexes.cancel(&ticket) {
                        return Ok(0); // woken while giving up: the wake counts
                    }
                    // A timed wait is not restarted after a handler (Linux uses a restart block):
                    // EINTR then; without a handler it restarts.
                    Err(if e == Errno::ERESTARTSYS && timeout != 0 {
                        Errno::ERESTARTNOHAND
                    } else {
                        e
                    })
                }
            }
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { u32::MAX } else { val3 };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            let k = key(&mm, addr, private)?;
            Ok(t.k.futexes.wake_key(k, val, bitset) as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if (val as i32) < 0 || (timeout as i32) < 0 {
                return Err(Errno::EINVAL);
            }
            let k1 = key(&mm, addr, private)?;
            let k2 = key(&mm, addr2, private)?;
            if cmd == FUTEX_CMP_REQUEUE {
                let cur: u32 = t.mm.copy_in(addr)?;
                if cur != val3 {
                    return Err(Errno::EAGAIN);
                }
            }
            Ok(t.k.futexes.requeue(k1, k2, val, timeout as u32) as u64)
        }
        FUTEX_WAKE_OP => {
            let k1 = key(&mm, addr, private)?;
            let k2 = key(&mm, addr2, private)?;
            let cond = wake_op(t, addr2, val3)?;
            let mut n = t.k.futexes.wake_key(k1, val, u32::MAX);
            if cond {
                n += t.k.futexes.wake_key(k2, timeout as u32, u32::MAX);
            }
            Ok(n as u64)
        }
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_TRYLOCK_PI => {
            // LOCK_PI's timeout is absolute on CLOCK_REALTIME; LOCK_PI2's on CLOCK_MONOTONIC
            // unless FUTEX_CLOCK_REALTIME.
            let deadline = if timeout != 0 && cmd != FUTEX_TRYLOCK_PI {
                let ts: libc::timespec = t.mm.copy_in(timeout)?;
                if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
                    return Err(Errno::EINVAL);
                }
                let clock = if cmd == FUTEX_LOCK_PI || op & FUTEX_CLOCK_REALTIME != 0 {
                    libc::CLOCK_REALTIME
                } else {
                    libc::CLOCK_MONOTONIC
                };
                let left = time::ns((ts.tv_sec, ts.tv_nsec))
                    .saturating_sub(time::ns(time::now(clock)))
                    .max(0);
                time::deadline(Duration::from_nanos(left as u64))
            } else {
                None
            };
            lock_pi(
                t,
                addr,
                private,
                cmd == FUTEX_TRYLOCK_PI,
                deadline,
                timeout != 0,
            )
        }
        FUTEX_UNLOCK_PI => {
            let k = key(&mm, addr, private)?;
            t.k.futexes.unlock_pi(&mm, addr, k, Some(t.tid as u32))?;
            Ok(0)
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// FUTEX_LOCK_PI: take the futex if its owner tid is 0, else queue to be handed it by the
/// owner's FUTEX_UNLOCK_PI. Ownership is the word; there is no priority boosting (the
/// sandbox's tasks have no scheduling priorities to lend).
fn lock_pi(
    t: &mut Task,
    addr: u64,
    private: bool,
    try_only: bool,
    deadline: Option<std::time::Instant>,
    timed: bool,
) -> SysResult {
    use crate::kernel::futex::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
    let mm = t.mm.clone();
    let k = key(&mm, addr, private)?;
    let tid = t.tid as u32;
    loop {
        let uval: u32 = mm.copy_in(addr)?;
        let owner = uval & FUTEX_TID_MASK;
        if owner == tid {
            return Err(Errno::EDEADLK);
        }
        if owner == 0 {
            let waiters = if t.k.futexes.has_pi_waiters(k) {
                FUTEX_WAITERS
            } else {
                0
            };
            let new = tid | (uval & FUTEX_OWNER_DIED) | waiters;
            if mm.cmpxchg_u32(addr, uval, new)?.is_ok() {
                return Ok(0);
            }
            continue;
        }
        if !t.k.tasks().threads.contains_key(&(owner as i32)) {
            // The owner is gone without releasing it (and without a robust list).
            return Err(Errno::ESRCH);
        }
        if try_only {
            return Err(Errno::EAGAIN);
        }
        let w = t.h.waiter.clone();
        let Some(ticket) = t.k.futexes.prepare_pi_wait(&mm, addr, k, uval, tid, &w)? else {
            continue;
        };
        let r = t.block_on(&[], deadline, |_| {
            Ok(ticket
                .woken
                .load(std::sync::atomic::Ordering::Acquire)
                .then_some(()))
        });
        return match r {
            Ok(()) => Ok(0),
            Err(e) => {
                if t.k.futexes.cancel(&ticket) {
                    return Ok(0); // handed the lock while giving up: it is ours
                }
                match e {
                    Errno::ETIMEDOUT if timed => Err(Errno::ETIMEDOUT),
                    // Interrupted: Linux restarts it even after a handler.
                    Errno::ERESTARTSYS => Err(Errno::ERESTARTNOINTR),
                    e => Err(e),
                }
            }
        };
    }
}
