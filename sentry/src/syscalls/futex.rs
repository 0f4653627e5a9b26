//! futex. The sandbox runs one task for now, so no task can be waiting when another operation
//! runs: wakes wake nobody, and a wait that sees the expected value sleeps until its timeout
//! (nothing else could change the word). The value checks, the WAKE_OP memory update and every
//! errno follow Linux; wait queues come with threads.

use crate::errno::{Errno, SysResult};
use crate::kernel::{time, Task};

const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
const FUTEX_REQUEUE: u64 = 3;
const FUTEX_CMP_REQUEUE: u64 = 4;
const FUTEX_WAKE_OP: u64 = 5;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_PRIVATE_FLAG: u64 = 128;
const FUTEX_CLOCK_REALTIME: u64 = 256;

fn check_aligned(addr: u64) -> Result<(), Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Apply a FUTEX_WAKE_OP operation to the word at `addr`; returns whether the comparison holds.
fn wake_op(t: &Task, addr: u64, enc: u32) -> Result<bool, Errno> {
    check_aligned(addr)?;
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
    let old: u32 = t.mm.copy_in(addr)?;
    let new = match op {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        4 => old ^ oparg,
        _ => return Err(Errno::ENOSYS),
    };
    t.mm.copy_out(addr, &new)?;
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
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if op & FUTEX_CLOCK_REALTIME != 0 && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT {
        return Err(Errno::ENOSYS);
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            check_aligned(addr)?;
            if cmd == FUTEX_WAIT_BITSET && val3 == 0 {
                return Err(Errno::EINVAL);
            }
            let deadline = if timeout != 0 {
                let ts: libc::timespec = t.mm.copy_in(timeout)?;
                if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
                    return Err(Errno::EINVAL);
                }
                let req = ts
                    .tv_sec
                    .saturating_mul(1_000_000_000)
                    .saturating_add(ts.tv_nsec);
                // FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's is absolute.
                let clock = if op & FUTEX_CLOCK_REALTIME != 0 {
                    libc::CLOCK_REALTIME
                } else {
                    libc::CLOCK_MONOTONIC
                };
                Some(if cmd == FUTEX_WAIT {
                    (clock, time::ns(time::now(clock)).saturating_add(req))
                } else {
                    (clock, req)
                })
            } else {
                None
            };
            let cur: u32 = t.mm.copy_in(addr)?;
            if cur != val {
                return Err(Errno::EAGAIN);
            }
            match deadline {
                Some((clock, d)) => {
                    loop {
                        let now = time::ns(time::now(clock));
                        if now >= d {
                            break;
                        }
                        std::thread::sleep(std::time::Duration::from_nanos((d - now) as u64));
                    }
                    Err(Errno::ETIMEDOUT)
                }
                None => {
                    tracing::warn!(
                        "futex wait with no possible waker: the only task sleeps forever"
                    );
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(3600));
                    }
                }
            }
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            check_aligned(addr)?;
            if cmd == FUTEX_WAKE_BITSET && val3 == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(0)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            check_aligned(addr)?;
            check_aligned(addr2)?;
            if (val as i32) < 0 || (timeout as i32) < 0 {
                return Err(Errno::EINVAL);
            }
            if cmd == FUTEX_CMP_REQUEUE {
                let cur: u32 = t.mm.copy_in(addr)?;
                if cur != val3 {
                    return Err(Errno::EAGAIN);
                }
            }
            Ok(0)
        }
        FUTEX_WAKE_OP => {
            check_aligned(addr)?;
            wake_op(t, addr2, val3)?;
            Ok(0)
        }
        _ => Err(Errno::ENOSYS),
    }
}
