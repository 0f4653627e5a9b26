//! Clocks and sleeping.

use std::sync::Arc;

use super::read_timespec;
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

/// Read a clock; the CPU-time clocks are the task's and the process's accounted time.
fn read_clock(t: &Task, c: libc::clockid_t) -> (i64, i64) {
    let cpu = |(u, s): (u64, u64)| {
        let ns = u + s;
        ((ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64)
    };
    match c {
        libc::CLOCK_THREAD_CPUTIME_ID => cpu(t.h.cpu.get()),
        libc::CLOCK_PROCESS_CPUTIME_ID => cpu(t.h.tg.cpu()),
        _ => time::now(c),
    }
}

pub fn clock_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (s, ns) = read_clock(t, clock_id(a[0])?);
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

/// Sleep until `deadline_ns` on `clock`; signals interrupt it (ERESTARTSYS).
fn sleep_until(t: &mut Task, clock: libc::clockid_t, deadline_ns: i64) -> Result<(), Errno> {
    loop {
        let now = time::ns(time::now(clock));
        if now >= deadline_ns {
            return Ok(());
        }
        let d = time::deadline(std::time::Duration::from_nanos((deadline_ns - now) as u64));
        match t.block_on::<()>(&[], d, |_| Ok(None)) {
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
    let deadline = time::ns(time::now(libc::CLOCK_MONOTONIC))
        .saturating_add(time::ns((ts.tv_sec, ts.tv_nsec)));
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
    let req = time::ns((ts.tv_sec, ts.tv_nsec));
    if abs {
        // Restarting with the same arguments is right for an absolute deadline.
        return match sleep_until(t, c, req) {
            Ok(()) => Ok(0),
            Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND),
            Err(e) => Err(e),
        };
    }
    relative_sleep(t, c, time::ns(time::now(c)).saturating_add(req), a[3])
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
        let id = t.k.timers.arm(&t.k, time::after(value), iv, target, info);
        t.h.tg.lock().itimer_real = Some(id);
    }
    old
}

/// Index of a CPU-time interval timer in the process's table.
fn cpu_itimer(which: i32) -> Option<usize> {
    match which {
        libc::ITIMER_VIRTUAL => Some(0),
        libc::ITIMER_PROF => Some(1),
        _ => None,
    }
}

/// A CPU-time interval timer: (value, interval) left.
fn cpu_itimer_get(t: &Task, i: usize) -> (std::time::Duration, std::time::Duration) {
    let (v, iv) = t.h.tg.lock().cpu_itimers[i].unwrap_or((0, 0));
    (
        std::time::Duration::from_nanos(v),
        std::time::Duration::from_nanos(iv),
    )
}

/// Arm or disarm ITIMER_VIRTUAL/ITIMER_PROF. While one is armed, a 10 ms tick kicks the
/// process's threads out of application code so that their CPU time gets counted.
fn cpu_itimer_set(
    t: &Task,
    i: usize,
    value: std::time::Duration,
    interval: std::time::Duration,
) -> (std::time::Duration, std::time::Duration) {
    const TICK: std::time::Duration = std::time::Duration::from_millis(10);
    let old = cpu_itimer_get(t, i);
    let ns = |d: std::time::Duration| d.as_nanos().min(u64::MAX as u128) as u64;
    let tg = t.h.tg.clone();
    let mut st = tg.lock();
    st.cpu_itimers[i] = (!value.is_zero()).then(|| (ns(value), ns(interval)));
    let armed = st.cpu_itimers.iter().any(Option::is_some);
    tg.cpu_itimers_armed
        .store(armed, std::sync::atomic::Ordering::Relaxed);
    match (armed, st.cpu_tick) {
        (true, None) => {
            drop(st);
            let target = crate::kernel::timer::Target::Tick(Arc::downgrade(&tg));
            let info = crate::kernel::signal::SigInfo::new(0, 0);
            let id =
                t.k.timers
                    .arm(&t.k, time::after(TICK), Some(TICK), target, info);
            tg.lock().cpu_tick = Some(id);
        }
        (false, Some(id)) => {
            st.cpu_tick = None;
            drop(st);
            t.k.timers.disarm(id);
        }
        _ => {}
    }
    old
}

pub fn getitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let which = a[0] as i32;
    let (v, i) = match which {
        libc::ITIMER_REAL => itimer_real_get(t),
        _ => cpu_itimer_get(t, cpu_itimer(which).ok_or(Errno::EINVAL)?),
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
    let which = a[0] as i32;
    let cpu = cpu_itimer(which);
    if which != libc::ITIMER_REAL && cpu.is_none() {
        return Err(Errno::EINVAL);
    }
    let (v, i) = if a[1] != 0 {
        let n: libc::itimerval = t.mm.copy_in(a[1])?;
        (from_tv(n.it_value)?, from_tv(n.it_interval)?)
    } else {
        (std::time::Duration::ZERO, std::time::Duration::ZERO)
    };
    let (ov, oi) = match cpu {
        Some(c) => cpu_itimer_set(t, c, v, i),
        None => itimer_real_set(t, v, i),
    };
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
    let cpu = match a[0] as i32 {
        libc::RUSAGE_SELF => t.h.tg.cpu(),
        libc::RUSAGE_THREAD => t.h.cpu.get(),
        libc::RUSAGE_CHILDREN => t.h.tg.lock().children_cpu,
        _ => return Err(Errno::EINVAL),
    };
    let mut r = super::process::rusage(cpu);
    if a[0] as i32 != libc::RUSAGE_CHILDREN {
        // Resident memory: the pages of the memory file in use (the sandbox's, in KiB).
        r.ru_maxrss = (t.k.mf.used() / 1024) as i64;
    }
    t.mm.copy_out(a[1], &r)?;
    Ok(0)
}

pub fn times(t: &mut Task, a: [u64; 6]) -> SysResult {
    // Clock ticks of 10 ms (USER_HZ 100).
    let ticks = |ns: u64| (ns / 10_000_000) as i64;
    if a[0] != 0 {
        let (own, kids) = {
            let st = t.h.tg.lock();
            (st.cpu(), st.children_cpu)
        };
        t.mm.copy_out(
            a[0],
            &libc::tms {
                tms_utime: ticks(own.0),
                tms_stime: ticks(own.1),
                tms_cutime: ticks(kids.0),
                tms_cstime: ticks(kids.1),
            },
        )?;
    }
    // Clock ticks since an arbitrary point: the sandbox's uptime.
    Ok((time::uptime_ns() / 10_000_000) as u64)
}

// ---- timerfd ----------------------------------------------------------------------------------

/// Read a `struct itimerspec` (interval, value); an absolute value on `clock` becomes the
/// time left from now.
fn read_itimerspec(
    t: &Task,
    addr: u64,
    absolute: bool,
    clock: libc::clockid_t,
) -> Result<(std::time::Duration, std::time::Duration), Errno> {
    let v: [libc::timespec; 2] = [t.mm.copy_in(addr)?, t.mm.copy_in(addr.wrapping_add(16))?];
    let dur = |x: &libc::timespec| -> Result<std::time::Duration, Errno> {
        if x.tv_sec < 0 || !(0..1_000_000_000).contains(&x.tv_nsec) {
            return Err(Errno::EINVAL);
        }
        Ok(std::time::Duration::new(x.tv_sec as u64, x.tv_nsec as u32))
    };
    let (interval, mut value) = (dur(&v[0])?, dur(&v[1])?);
    if absolute && !value.is_zero() {
        let target = i64::try_from(value.as_nanos()).unwrap_or(i64::MAX);
        let left = target.saturating_sub(time::ns(time::now(clock)));
        value = std::time::Duration::from_nanos(left.max(1) as u64);
    }
    Ok((interval, value))
}

fn timerfd_of(t: &Task, fd: i32) -> Result<std::sync::Arc<crate::vfs::OpenFile>, Errno> {
    let f = t.fds.get(fd)?;
    if f.ops
        .as_any()
        .and_then(|x| x.downcast_ref::<crate::fs::timerfd::TimerFd>())
        .is_none()
    {
        return Err(Errno::EINVAL);
    }
    Ok(f)
}

fn its(d: (std::time::Duration, std::time::Duration)) -> [libc::timespec; 2] {
    let ts = |x: std::time::Duration| libc::timespec {
        tv_sec: x.as_secs() as i64,
        tv_nsec: x.subsec_nanos() as i64,
    };
    [ts(d.1), ts(d.0)] // struct itimerspec: interval, then value
}

pub fn timerfd_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    let clock = a[0] as i32;
    let flags = a[1] as u32;
    if !matches!(
        clock,
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME
    ) {
        return Err(Errno::EINVAL);
    }
    if flags & !((libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) as u32) != 0 {
        return Err(Errno::EINVAL);
    }
    let f = crate::fs::timerfd::new(&t.k, clock, flags);
    Ok(t.fds
        .install(f, flags & libc::TFD_CLOEXEC as u32 != 0, 0, t.nofile())? as u64)
}

pub fn timerfd_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = timerfd_of(t, a[0] as i32)?;
    let tf = f
        .ops
        .as_any()
        .and_then(|x| x.downcast_ref::<crate::fs::timerfd::TimerFd>())
        .ok_or(Errno::EINVAL)?;
    let flags = a[1] as i32;
    if flags & !(libc::TFD_TIMER_ABSTIME | (1 << 1)/* TFD_TIMER_CANCEL_ON_SET */) != 0 {
        return Err(Errno::EINVAL);
    }
    let (interval, value) =
        read_itimerspec(t, a[2], flags & libc::TFD_TIMER_ABSTIME != 0, tf.clock)?;
    let old = tf.set(value, interval)?;
    if a[3] != 0 {
        t.mm.copy_out(a[3], &its(old))?;
    }
    Ok(0)
}

pub fn timerfd_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = timerfd_of(t, a[0] as i32)?;
    let tf = f
        .ops
        .as_any()
        .and_then(|x| x.downcast_ref::<crate::fs::timerfd::TimerFd>())
        .ok_or(Errno::EINVAL)?;
    t.mm.copy_out(a[1], &its(tf.get()))?;
    Ok(0)
}

// ---- POSIX timers -------------------------------------------------------------------------------

const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD_ID: i32 = 4;
use crate::kernel::signal::SI_TIMER;

pub fn timer_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    use crate::kernel::process::PosixTimer;
    use crate::kernel::timer::Target;
    let clock = a[0] as i32;
    if !matches!(
        clock,
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME
    ) {
        // CPU-time clocks for timers are not implemented yet.
        return Err(Errno::EINVAL);
    }
    // struct sigevent: value (8), signo (4), notify (4), then tid.
    let (value, signo, notify, tid) = if a[1] != 0 {
        let raw: [u8; 24] = t.mm.copy_in(a[1])?;
        let w = |i: usize| i32::from_le_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
        (
            u64::from_le_bytes(raw[0..8].try_into().unwrap_or([0; 8])),
            w(8),
            w(12),
            w(16),
        )
    } else {
        (0, libc::SIGALRM, SIGEV_SIGNAL, 0)
    };
    let target = match notify {
        SIGEV_NONE => None,
        SIGEV_SIGNAL | SIGEV_THREAD_ID => {
            if signo <= 0 || signo > 64 {
                return Err(Errno::EINVAL);
            }
            if notify == SIGEV_THREAD_ID {
                let h =
                    t.k.tasks()
                        .threads
                        .get(&tid)
                        .cloned()
                        .ok_or(Errno::EINVAL)?;
                if h.tg.tgid != t.tgid {
                    return Err(Errno::EINVAL);
                }
                Some(Target::Thread(h))
            } else {
                Some(Target::Process(t.h.tg.clone()))
            }
        }
        _ => return Err(Errno::EINVAL),
    };
    let mut st = t.h.tg.lock();
    let id = (0..i32::MAX)
        .find(|i| !st.posix_timers.contains_key(i))
        .ok_or(Errno::EAGAIN)?;
    let mut info = crate::kernel::signal::SigInfo::new(signo, SI_TIMER);
    info.0[16..20].copy_from_slice(&id.to_le_bytes());
    let v = if a[1] != 0 { value } else { id as u64 };
    info.0[24..32].copy_from_slice(&v.to_le_bytes());
    st.posix_timers.insert(
        id,
        PosixTimer {
            target,
            info,
            armed: None,
            interval: None,
            clock,
            overrun_last: 0,
        },
    );
    drop(st);
    if let Err(e) = t.mm.copy_out(a[2], &id) {
        t.h.tg.lock().posix_timers.remove(&id);
        return Err(e);
    }
    Ok(0)
}

fn timer_state(
    t: &Task,
    id: i32,
) -> Result<(Option<u64>, Option<std::time::Duration>, libc::clockid_t), Errno> {
    let st = t.h.tg.lock();
    let p = st.posix_timers.get(&id).ok_or(Errno::EINVAL)?;
    Ok((p.armed, p.interval, p.clock))
}

pub fn timer_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let id = a[0] as i32;
    let (armed, interval, clock) = timer_state(t, id)?;
    let (iv, value) = read_itimerspec(t, a[2], a[1] as i32 & libc::TIMER_ABSTIME != 0, clock)?;
    let old = match armed.and_then(|k| t.k.timers.disarm(k)) {
        Some((left, _)) => (left, interval.unwrap_or_default()),
        None => (std::time::Duration::ZERO, interval.unwrap_or_default()),
    };
    let mut st = t.h.tg.lock();
    let p = st.posix_timers.get_mut(&id).ok_or(Errno::EINVAL)?;
    p.armed = None;
    p.interval = if iv.is_zero() { None } else { Some(iv) };
    if !value.is_zero() {
        let target = p
            .target
            .clone()
            .unwrap_or(crate::kernel::timer::Target::Counter(std::sync::Weak::new()));
        let info = p.info;
        let interval = p.interval;
        drop(st);
        let kid =
            t.k.timers
                .arm(&t.k, time::after(value), interval, target, info);
        if let Some(p) = t.h.tg.lock().posix_timers.get_mut(&id) {
            p.armed = Some(kid);
        }
    } else {
        drop(st);
    }
    if a[3] != 0 {
        t.mm.copy_out(a[3], &its(old))?;
    }
    Ok(0)
}

pub fn timer_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (armed, interval, _) = timer_state(t, a[0] as i32)?;
    let left = armed
        .and_then(|k| t.k.timers.get(k))
        .map(|(l, _)| l.max(std::time::Duration::from_nanos(1)))
        .unwrap_or_default();
    t.mm.copy_out(a[1], &its((left, interval.unwrap_or_default())))?;
    Ok(0)
}

pub fn timer_getoverrun(t: &mut Task, a: [u64; 6]) -> SysResult {
    timer_state(t, a[0] as i32)?;
    let n =
        t.h.tg
            .lock()
            .posix_timers
            .get(&(a[0] as i32))
            .map_or(0, |p| p.overrun_last);
    Ok(n as u64)
}

pub fn timer_delete(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p =
        t.h.tg
            .lock()
            .posix_timers
            .remove(&(a[0] as i32))
            .ok_or(Errno::EINVAL)?;
    if let Some(k) = p.armed {
        t.k.timers.disarm(k);
    }
    Ok(0)
}
