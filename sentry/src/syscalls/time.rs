//! Clocks and sleeping.

use crate::errno::{Errno, SysResult};
use crate::kernel::{time, Task};

fn clock_id(c: u64) -> Result<libc::clockid_t, Errno> {
    let c = c as i32;
    match c {
        libc::CLOCK_REALTIME
        | libc::CLOCK_MONOTONIC
        | libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_REALTIME_COARSE
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_BOOTTIME
        | libc::CLOCK_TAI
        | libc::CLOCK_PROCESS_CPUTIME_ID
        | libc::CLOCK_THREAD_CPUTIME_ID => Ok(c),
        _ => Err(Errno::EINVAL),
    }
}

/// Read a clock. CPU-time clocks report the sentry thread's time, which runs the task.
fn read_clock(c: libc::clockid_t) -> (i64, i64) {
    time::now(c)
}

pub fn clock_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (s, ns) = read_clock(clock_id(a[0])?);
    t.mm.copy_out(
        a[1],
        &libc::timespec {
            tv_sec: s,
            tv_nsec: ns,
        },
    )?;
    Ok(0)
}

pub fn clock_getres(t: &mut Task, a: [u64; 6]) -> SysResult {
    let c = clock_id(a[0])?;
    if a[1] != 0 {
        let res = match c {
            libc::CLOCK_REALTIME_COARSE | libc::CLOCK_MONOTONIC_COARSE => 4_000_000,
            _ => 1,
        };
        t.mm.copy_out(
            a[1],
            &libc::timespec {
                tv_sec: 0,
                tv_nsec: res,
            },
        )?;
    }
    Ok(0)
}

pub fn gettimeofday(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (s, ns) = time::now(libc::CLOCK_REALTIME);
    if a[0] != 0 {
        t.mm.copy_out(
            a[0],
            &libc::timeval {
                tv_sec: s,
                tv_usec: ns / 1000,
            },
        )?;
    }
    if a[1] != 0 {
        t.mm.copy_out(a[1], &[0i32; 2])?; // struct timezone: UTC, no DST
    }
    Ok(0)
}

pub fn time(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (s, _) = time::now(libc::CLOCK_REALTIME);
    if a[0] != 0 {
        t.mm.copy_out(a[0], &s)?;
    }
    Ok(s as u64)
}

fn read_timespec(t: &Task, addr: u64) -> Result<libc::timespec, Errno> {
    let ts: libc::timespec = t.mm.copy_in(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

/// Sleep on the host clock. Nothing can interrupt a single-process sandbox's sleep yet (signals
/// from other processes arrive with the process work), so the remaining time is always zero.
fn sleep_until(clock: libc::clockid_t, deadline_ns: i64) {
    loop {
        let now = time::ns(time::now(clock));
        if now >= deadline_ns {
            return;
        }
        std::thread::sleep(std::time::Duration::from_nanos((deadline_ns - now) as u64));
    }
}

pub fn nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ts = read_timespec(t, a[0])?;
    let deadline =
        time::ns(time::now(libc::CLOCK_MONOTONIC)) + ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
    sleep_until(libc::CLOCK_MONOTONIC, deadline);
    Ok(0)
}

pub fn clock_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let c = match a[0] as i32 {
        libc::CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EINVAL),
        libc::CLOCK_PROCESS_CPUTIME_ID => return Err(Errno::ENOTSUP),
        c => clock_id(c as u64)?,
    };
    // Flags other than TIMER_ABSTIME are ignored, as in Linux.
    let abs = a[1] & libc::TIMER_ABSTIME as u64 != 0;
    let ts = read_timespec(t, a[2])?;
    let req = ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
    let deadline = if abs {
        req
    } else {
        time::ns(time::now(c)) + req
    };
    sleep_until(c, deadline);
    Ok(0)
}
