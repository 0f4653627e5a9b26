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

/// Sleep until `deadline_ns` on `clock`; signals interrupt it (ERESTARTSYS).
fn sleep_until(t: &mut Task, clock: libc::clockid_t, deadline_ns: i64) -> Result<(), Errno> {
    loop {
        let now = time::ns(time::now(clock));
        if now >= deadline_ns {
            return Ok(());
        }
        let d =
            std::time::Instant::now() + std::time::Duration::from_nanos((deadline_ns - now) as u64);
        match t.block_on::<()>(&[], Some(d), |_| Ok(None)) {
            Err(Errno::ETIMEDOUT) => continue,
            Err(e) => return Err(e),
            Ok(()) => return Ok(()),
        }
    }
}

/// A relative sleep: interrupted, it reports the time left in `rem` and is continued by
/// restart_syscall (with the time left, not the whole request) if no handler runs.
fn relative_sleep(t: &mut Task, clock: libc::clockid_t, deadline: i64, rem: u64) -> SysResult {
    match sleep_until(t, clock, deadline) {
        Ok(()) => Ok(0),
        Err(Errno::ERESTARTSYS) => {
            if rem != 0 {
                let left = (deadline - time::ns(time::now(clock))).max(0);
                t.mm.copy_out(
                    rem,
                    &libc::timespec {
                        tv_sec: left / 1_000_000_000,
                        tv_nsec: left % 1_000_000_000,
                    },
                )?;
            }
            t.restart_block = Some(crate::kernel::task::RestartBlock::Sleep {
                clock,
                deadline,
                rem,
            });
            Err(Errno::ERESTART_RESTARTBLOCK)
        }
        Err(e) => Err(e),
    }
}

pub fn nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ts = read_timespec(t, a[0])?;
    let deadline =
        time::ns(time::now(libc::CLOCK_MONOTONIC)) + ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
    relative_sleep(t, libc::CLOCK_MONOTONIC, deadline, a[1])
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
    if abs {
        // Restarting with the same arguments is right for an absolute deadline.
        return match sleep_until(t, c, req) {
            Ok(()) => Ok(0),
            Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND),
            Err(e) => Err(e),
        };
    }
    relative_sleep(t, c, time::ns(time::now(c)) + req, a[3])
}

/// restart_syscall: continue what an interrupted syscall was doing.
pub fn restart_syscall(t: &mut Task, _a: [u64; 6]) -> SysResult {
    match t.restart_block.take() {
        Some(crate::kernel::task::RestartBlock::Sleep {
            clock,
            deadline,
            rem,
        }) => relative_sleep(t, clock, deadline, rem),
        None => Err(Errno::EINTR),
    }
}

// ---- interval timers ------------------------------------------------------------------------

fn tv(d: std::time::Duration) -> libc::timeval {
    libc::timeval {
        tv_sec: d.as_secs() as i64,
        tv_usec: d.subsec_micros() as i64,
    }
}

fn from_tv(t: libc::timeval) -> Result<std::time::Duration, Errno> {
    if t.tv_sec < 0 || !(0..1_000_000).contains(&t.tv_usec) {
        return Err(Errno::EINVAL);
    }
    Ok(std::time::Duration::new(
        t.tv_sec as u64,
        t.tv_usec as u32 * 1000,
    ))
}

/// ITIMER_REAL of the caller's process: (value, interval) now.
fn itimer_real_get(t: &Task) -> (std::time::Duration, std::time::Duration) {
    let id = t.h.tg.lock().itimer_real;
    match id.and_then(|id| t.k.timers.get(id)) {
        Some((left, iv)) => (
            left.max(std::time::Duration::from_micros(1)),
            iv.unwrap_or_default(),
        ),
        None => (std::time::Duration::ZERO, std::time::Duration::ZERO),
    }
}

/// Replace ITIMER_REAL; returns the old (value, interval).
fn itimer_real_set(
    t: &Task,
    value: std::time::Duration,
    interval: std::time::Duration,
) -> (std::time::Duration, std::time::Duration) {
    let old = itimer_real_get(t);
    let prev = t.h.tg.lock().itimer_real.take();
    if let Some(id) = prev {
        t.k.timers.disarm(id);
    }
    if !value.is_zero() {
        let info =
            crate::kernel::signal::SigInfo::new(libc::SIGALRM, crate::kernel::signal::SI_KERNEL);
        let target = crate::kernel::timer::Target::Process(t.h.tg.clone());
        let iv = if interval.is_zero() {
            None
        } else {
            Some(interval)
        };
        let id =
            t.k.timers
                .arm(&t.k, std::time::Instant::now() + value, iv, target, info);
        t.h.tg.lock().itimer_real = Some(id);
    }
    old
}

pub fn getitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (v, i) = match a[0] as i32 {
        libc::ITIMER_REAL => itimer_real_get(t),
        // CPU-time timers are not implemented yet (ENOSYS-equivalent for this timer kind).
        libc::ITIMER_VIRTUAL | libc::ITIMER_PROF => return Err(Errno::EINVAL),
        _ => return Err(Errno::EINVAL),
    };
    t.mm.copy_out(
        a[1],
        &libc::itimerval {
            it_interval: tv(i),
            it_value: tv(v),
        },
    )?;
    Ok(0)
}

pub fn setitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] as i32 != libc::ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let (v, i) = if a[1] != 0 {
        let n: libc::itimerval = t.mm.copy_in(a[1])?;
        (from_tv(n.it_value)?, from_tv(n.it_interval)?)
    } else {
        (std::time::Duration::ZERO, std::time::Duration::ZERO)
    };
    let (ov, oi) = itimer_real_set(t, v, i);
    if a[2] != 0 {
        t.mm.copy_out(
            a[2],
            &libc::itimerval {
                it_interval: tv(oi),
                it_value: tv(ov),
            },
        )?;
    }
    Ok(0)
}

pub fn alarm(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, _) = itimer_real_set(
        t,
        std::time::Duration::from_secs(a[0] as u32 as u64),
        std::time::Duration::ZERO,
    );
    // Seconds left, rounded to nearest, at least 1 if any time was left.
    let mut secs = old.as_secs();
    if old.subsec_micros() >= 500_000 || (secs == 0 && !old.is_zero()) {
        secs += 1;
    }
    Ok(secs)
}

pub fn getrusage(t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        libc::RUSAGE_SELF | libc::RUSAGE_CHILDREN | libc::RUSAGE_THREAD => {}
        _ => return Err(Errno::EINVAL),
    }
    let mut r: libc::rusage = crate::mm::Pod::zeroed();
    if a[0] as i32 != libc::RUSAGE_CHILDREN {
        // The sentry thread running the task accounts its CPU time.
        let (s, ns) = time::now(libc::CLOCK_THREAD_CPUTIME_ID);
        r.ru_utime = libc::timeval {
            tv_sec: s,
            tv_usec: ns / 1000,
        };
        r.ru_maxrss = (t.k.mf.used() / 1024) as i64;
    }
    t.mm.copy_out(a[1], &r)?;
    Ok(0)
}

pub fn times(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (s, ns) = time::now(libc::CLOCK_THREAD_CPUTIME_ID);
    let ticks = s * 100 + ns / 10_000_000;
    if a[0] != 0 {
        t.mm.copy_out(
            a[0],
            &libc::tms {
                tms_utime: ticks,
                tms_stime: 0,
                tms_cutime: 0,
                tms_cstime: 0,
            },
        )?;
    }
    // Clock ticks since an arbitrary point: the sandbox's uptime.
    Ok((time::uptime_ns() / 10_000_000) as u64)
}
