//! poll, ppoll, select, pselect6.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::vfs::OpenFile;

const POLLIN: u32 = libc::POLLIN as u32;
const POLLOUT: u32 = libc::POLLOUT as u32;
const POLLPRI: u32 = libc::POLLPRI as u32;
const POLLERR: u32 = libc::POLLERR as u32;
const POLLHUP: u32 = libc::POLLHUP as u32;
const POLLNVAL: u32 = libc::POLLNVAL as u32;
const POLLRDNORM: u32 = libc::POLLRDNORM as u32;
const POLLWRNORM: u32 = libc::POLLWRNORM as u32;
/// How often files that cannot announce readiness (host fds) are looked at again.
const HOST_POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Readiness of `f` for `events` (error and hang-up are always reported).
fn ready(f: &OpenFile, events: u32) -> u32 {
    let mut r = f.ops.readiness();
    if r & POLLIN != 0 {
        r |= POLLRDNORM;
    }
    if r & POLLOUT != 0 {
        r |= POLLWRNORM;
    }
    r & (events | POLLERR | POLLHUP)
}

/// Wait until one of `fds` (fd, events) is ready; returns revents for each (POLLNVAL for bad
/// descriptors).
fn wait_ready(
    t: &mut Task,
    fds: &[(i32, u32)],
    deadline: Option<Instant>,
) -> Result<Vec<u32>, Errno> {
    let files: Vec<Option<Arc<OpenFile>>> = fds
        .iter()
        .map(|&(fd, _)| if fd < 0 { None } else { t.fds.get(fd).ok() })
        .collect();
    let scan = |files: &[Option<Arc<OpenFile>>]| -> Vec<u32> {
        fds.iter()
            .zip(files)
            .map(|(&(fd, ev), f)| match f {
                _ if fd < 0 => 0,
                None => POLLNVAL,
                Some(f) => ready(f, ev),
            })
            .collect()
    };
    let first = scan(&files);
    if first.iter().any(|&r| r != 0) || deadline.is_some_and(|d| d <= Instant::now()) {
        return Ok(first);
    }
    let queues: Vec<&crate::kernel::wait::WaitQueue> = files
        .iter()
        .flatten()
        .filter_map(|f| f.ops.wait_queue())
        .collect();
    let unannounced = files
        .iter()
        .flatten()
        .any(|f| f.ops.wait_queue().is_none() && f.ops.host_pollable());
    loop {
        let step = if unannounced {
            let s = crate::kernel::time::after(HOST_POLL_INTERVAL);
            Some(deadline.map_or(s, |d| d.min(s)))
        } else {
            deadline
        };
        match t.block_on(&queues, step, |_| {
            let r = scan(&files);
            Ok(if r.iter().any(|&x| x != 0) {
                Some(r)
            } else {
                None
            })
        }) {
            Ok(r) => return Ok(r),
            Err(Errno::ETIMEDOUT) if deadline.is_none_or(|d| Instant::now() < d) => continue,
            Err(Errno::ETIMEDOUT) => return Ok(vec![0; fds.len()]),
            Err(e) => return Err(e),
        }
    }
}

fn deadline_from_timespec(t: &Task, addr: u64) -> Result<Option<Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let ts: libc::timespec = t.mm.copy_in(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    // A deadline past what an Instant holds means "never".
    Ok(crate::kernel::time::deadline(Duration::new(
        ts.tv_sec as u64,
        ts.tv_nsec as u32,
    )))
}

fn do_poll(t: &mut Task, addr: u64, n: u64, deadline: Option<Instant>) -> SysResult {
    if n > t.nofile().max(1024) {
        return Err(Errno::EINVAL);
    }
    let mut pfds = Vec::with_capacity(n as usize);
    for i in 0..n {
        let p: libc::pollfd = t.mm.copy_in(addr.wrapping_add(i * 8))?;
        pfds.push(p);
    }
    let req: Vec<(i32, u32)> = pfds
        .iter()
        .map(|p| (p.fd, p.events as u16 as u32))
        .collect();
    let rev = wait_ready(t, &req, deadline)?;
    let mut count = 0;
    for (i, (p, r)) in pfds.iter_mut().zip(rev).enumerate() {
        p.revents = r as i16;
        if r != 0 {
            count += 1;
        }
        t.mm.copy_out(addr.wrapping_add(i as u64 * 8 + 6), &p.revents)?;
    }
    Ok(count)
}

pub fn poll(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ms = a[2] as i32;
    let deadline = if ms < 0 {
        None
    } else {
        crate::kernel::time::deadline(Duration::from_millis(ms as u64))
    };
    match do_poll(t, a[0], a[1], deadline) {
        Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND),
        r => r,
    }
}

/// Swap in a temporary signal mask for the wait (ppoll, pselect6).
pub(super) fn with_mask(
    t: &mut Task,
    addr: u64,
    size: u64,
    f: impl FnOnce(&mut Task) -> SysResult,
) -> SysResult {
    if addr == 0 {
        return f(t);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let m: u64 = t.mm.copy_in(addr)?;
    let old = t.mask();
    t.set_mask(m);
    let r = f(t);
    if matches!(r, Err(e) if e.is_restart() || e == Errno::EINTR) {
        // A handler runs with the temporary mask; the old one comes back on sigreturn.
        t.saved_mask = Some(old);
    } else {
        t.set_mask(old);
    }
    r
}

/// ppoll and pselect6 report the time left in their timespec, as Linux's poll_select_finish
/// (a deadline too far to represent is left as it was).
fn time_left(t: &Task, addr: u64, deadline: Option<Instant>) {
    if let (Some(d), true) = (deadline, addr != 0) {
        let left = d.saturating_duration_since(Instant::now());
        let ts = libc::timespec {
            tv_sec: left.as_secs() as i64,
            tv_nsec: left.subsec_nanos() as i64,
        };
        let _ = t.mm.copy_out(addr, &ts);
    }
}

pub fn ppoll(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = deadline_from_timespec(t, a[2])?;
    let r = with_mask(t, a[3], a[4], |t| match do_poll(t, a[0], a[1], deadline) {
        Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND),
        r => r,
    });
    time_left(t, a[2], deadline);
    r
}

/// select's fd_set bitmaps: read `n` bits from each of the three sets, wait, write back.
fn do_select(t: &mut Task, n: u64, sets: [u64; 3], deadline: Option<Instant>) -> SysResult {
    if n > 1 << 20 || (n as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let bytes = n.div_ceil(64) as usize * 8;
    let read = |t: &Task, a: u64| -> Result<Vec<u8>, Errno> {
        if a == 0 {
            Ok(vec![0; bytes])
        } else {
            t.mm.read_vec(a, bytes)
        }
    };
    let (r, w, e) = (read(t, sets[0])?, read(t, sets[1])?, read(t, sets[2])?);
    let bit = |v: &[u8], i: usize| v[i / 8] & (1 << (i % 8)) != 0;
    let mut req = Vec::new();
    for fd in 0..n as usize {
        let mut ev = 0;
        if bit(&r, fd) {
            ev |= POLLIN;
        }
        if bit(&w, fd) {
            ev |= POLLOUT;
        }
        if bit(&e, fd) {
            ev |= POLLPRI;
        }
        if ev != 0 {
            if t.fds.get(fd as i32).is_err() {
                return Err(Errno::EBADF);
            }
            req.push((fd as i32, ev));
        }
    }
    let rev = wait_ready(t, &req, deadline)?;
    let (mut ro, mut wo, mut eo) = (vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]);
    let mut count = 0;
    let set = |v: &mut Vec<u8>, i: usize| v[i / 8] |= 1 << (i % 8);
    for (&(fd, ev), rv) in req.iter().zip(rev) {
        let fd = fd as usize;
        if ev & POLLIN != 0 && rv & (POLLIN | POLLHUP | POLLERR) != 0 {
            set(&mut ro, fd);
            count += 1;
        }
        if ev & POLLOUT != 0 && rv & (POLLOUT | POLLERR) != 0 {
            set(&mut wo, fd);
            count += 1;
        }
        if ev & POLLPRI != 0 && rv & POLLPRI != 0 {
            set(&mut eo, fd);
            count += 1;
        }
    }
    for (addr, v) in [(sets[0], ro), (sets[1], wo), (sets[2], eo)] {
        if addr != 0 {
            t.mm.write_bytes(addr, &v)?;
        }
    }
    Ok(count)
}

pub fn select(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = if a[4] != 0 {
        let tv: libc::timeval = t.mm.copy_in(a[4])?;
        // Linux folds whole seconds of tv_usec into tv_sec; negative values are EINVAL.
        let sec = tv.tv_sec.saturating_add(tv.tv_usec / 1_000_000);
        let usec = tv.tv_usec % 1_000_000;
        if sec < 0 || usec < 0 {
            return Err(Errno::EINVAL);
        }
        crate::kernel::time::deadline(Duration::new(sec as u64, usec as u32 * 1000))
    } else {
        None
    };
    let r = do_select(t, a[0], [a[1], a[2], a[3]], deadline);
    // Linux reports the time left.
    if let (Some(d), true) = (deadline, a[4] != 0) {
        let left = d.saturating_duration_since(Instant::now());
        let tv = libc::timeval {
            tv_sec: left.as_secs() as i64,
            tv_usec: left.subsec_micros() as i64,
        };
        let _ = t.mm.copy_out(a[4], &tv);
    }
    match r {
        Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND),
        r => r,
    }
}

pub fn pselect6(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = deadline_from_timespec(t, a[4])?;
    // The sixth argument points at { const sigset_t *ss; size_t ss_len; }.
    let (mask_addr, mask_len) = if a[5] != 0 {
        let v: [u64; 2] = t.mm.copy_in(a[5])?;
        (v[0], v[1])
    } else {
        (0, 0)
    };
    let r = with_mask(t, mask_addr, mask_len, |t| {
        match do_select(t, a[0], [a[1], a[2], a[3]], deadline) {
            Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND),
            r => r,
        }
    });
    time_left(t, a[4], deadline);
    r
}
