//! epoll and eventfd syscalls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::fd_arg;
use crate::errno::{Errno, SysResult};
use crate::fs::epoll::{Epoll, Item, EPOLLET, EPOLLEXCLUSIVE, EPOLLONESHOT, EPOLLWAKEUP};
use crate::kernel::Task;
use crate::vfs::OpenFile;

const EVENT_SIZE: u64 = 12; // struct epoll_event is packed on x86-64
const EP_MAX_EVENTS: u64 = (i32::MAX as u64) / EVENT_SIZE;
/// How often readiness of files that announce nothing (host fds) is looked at again.
const HOST_POLL_INTERVAL: Duration = Duration::from_millis(5);

pub fn epoll_create1(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] & !(libc::EPOLL_CLOEXEC as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let f = crate::fs::epoll::new(0);
    Ok(t.fds.install(f, a[0] != 0, 0, t.nofile())? as u64)
}

pub fn epoll_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    if (a[0] as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    epoll_create1(t, [0; 6])
}

fn epoll_of(f: &OpenFile) -> Result<&Epoll, Errno> {
    f.ops
        .as_any()
        .and_then(|x| x.downcast_ref::<Epoll>())
        .ok_or(Errno::EINVAL)
}

/// Whether adding `target` to `ep` would make epoll instances watch each other.
fn creates_loop(ep: &OpenFile, target: &Arc<OpenFile>, depth: usize) -> bool {
    if depth > 5 {
        return true;
    }
    match epoll_of(target) {
        Ok(inner) => inner
            .files()
            .iter()
            .any(|f| std::ptr::eq(Arc::as_ptr(f), ep) || creates_loop(ep, f, depth + 1)),
        Err(_) => false,
    }
}

pub fn epoll_ctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (epfd, op, fd, ev_addr) = (fd_arg(a[0]), a[1] as i32, fd_arg(a[2]), a[3]);
    let epf = t.fds.get(epfd)?;
    let target = t.fds.get(fd)?;
    let ep = epoll_of(&epf)?;
    if epfd == fd {
        return Err(Errno::EINVAL);
    }
    // Files that cannot report readiness (regular files, directories) are refused.
    if target.ops.wait_queue().is_none() && !target.ops.host_pollable() {
        return Err(Errno::EPERM);
    }
    let key = (fd, Arc::as_ptr(&target) as *const () as usize);
    let read_event = |t: &Task| -> Result<(u32, u64), Errno> {
        let raw: [u8; 12] = t.mm.copy_in(ev_addr)?;
        let events = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let mut d = [0u8; 8];
        d.copy_from_slice(&raw[4..12]);
        Ok((events & !EPOLLWAKEUP, u64::from_le_bytes(d)))
    };
    match op {
        libc::EPOLL_CTL_ADD => {
            let (events, data) = read_event(t)?;
            if events & EPOLLEXCLUSIVE != 0
                && (events & EPOLLONESHOT != 0 || epoll_of(&target).is_ok())
            {
                return Err(Errno::EINVAL);
            }
            if creates_loop(&epf, &target, 0) {
                return Err(Errno::ELOOP);
            }
            let mut items = ep.lock();
            items.retain(|_, it| it.file.strong_count() > 0);
            if items.contains_key(&key) {
                return Err(Errno::EEXIST);
            }
            items.insert(key, Item::new(&target, events, data));
        }
        libc::EPOLL_CTL_MOD => {
            let (events, data) = read_event(t)?;
            let mut items = ep.lock();
            let it = items.get_mut(&key).ok_or(Errno::ENOENT)?;
            if it.events & EPOLLEXCLUSIVE != 0 || events & EPOLLEXCLUSIVE != 0 {
                return Err(Errno::EINVAL);
            }
            it.events = events;
            it.data = data;
            it.armed = true;
            it.seen = None;
        }
        libc::EPOLL_CTL_DEL => {
            ep.lock().remove(&key).ok_or(Errno::ENOENT)?;
        }
        _ => return Err(Errno::EINVAL),
    }
    ep.queue.notify_all();
    let _ = EPOLLET;
    Ok(0)
}

fn do_wait(t: &mut Task, epfd: i32, events: u64, max: u64, deadline: Option<Instant>) -> SysResult {
    if (max as i32) <= 0 || max > EP_MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let epf = t.fds.get(epfd)?;
    let ep = epoll_of(&epf)?;
    let deliver = |t: &Task, evs: Vec<(u32, u64)>| -> SysResult {
        let mut buf = Vec::with_capacity(evs.len() * 12);
        for (e, d) in &evs {
            buf.extend_from_slice(&e.to_le_bytes());
            buf.extend_from_slice(&d.to_le_bytes());
        }
        t.mm.write_bytes(events, &buf)?;
        Ok(evs.len() as u64)
    };
    let first = ep.collect(max as usize);
    if !first.is_empty() || deadline.is_some_and(|d| d <= Instant::now()) {
        return deliver(t, first);
    }
    loop {
        let files = ep.files();
        let host = files.iter().any(|f| f.ops.wait_queue().is_none());
        let mut queues: Vec<&crate::kernel::wait::WaitQueue> =
            files.iter().filter_map(|f| f.ops.wait_queue()).collect();
        queues.push(&ep.queue);
        let step = if host {
            let s = crate::kernel::time::after(HOST_POLL_INTERVAL);
            Some(deadline.map_or(s, |d| d.min(s)))
        } else {
            deadline
        };
        let r = t.block_on(&queues, step, |_| {
            let evs = ep.collect(max as usize);
            Ok(if evs.is_empty() { None } else { Some(evs) })
        });
        match r {
            Ok(evs) => return deliver(t, evs),
            Err(Errno::ETIMEDOUT) if deadline.is_none_or(|d| Instant::now() < d) => continue,
            Err(Errno::ETIMEDOUT) => return Ok(0),
            Err(Errno::ERESTARTSYS) => return Err(Errno::EINTR),
            Err(e) => return Err(e),
        }
    }
}

fn ms_deadline(ms: i32) -> Option<Instant> {
    if ms < 0 {
        None
    } else {
        crate::kernel::time::deadline(Duration::from_millis(ms as u64))
    }
}

pub fn epoll_wait(t: &mut Task, a: [u64; 6]) -> SysResult {
    do_wait(t, fd_arg(a[0]), a[1], a[2], ms_deadline(a[3] as i32))
}

pub fn epoll_pwait(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = ms_deadline(a[3] as i32);
    super::poll::with_mask(t, a[4], a[5], |t| {
        do_wait(t, fd_arg(a[0]), a[1], a[2], deadline)
    })
}

pub fn epoll_pwait2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = if a[3] != 0 {
        let ts: libc::timespec = t.mm.copy_in(a[3])?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return Err(Errno::EINVAL);
        }
        crate::kernel::time::deadline(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    } else {
        None
    };
    super::poll::with_mask(t, a[4], a[5], |t| {
        do_wait(t, fd_arg(a[0]), a[1], a[2], deadline)
    })
}

pub fn eventfd2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[1] as u32;
    if flags & !((libc::EFD_CLOEXEC | libc::EFD_NONBLOCK | libc::EFD_SEMAPHORE) as u32) != 0 {
        return Err(Errno::EINVAL);
    }
    let f = crate::fs::eventfd::new(a[0] as u32, flags);
    Ok(t.fds
        .install(f, flags & libc::EFD_CLOEXEC as u32 != 0, 0, t.nofile())? as u64)
}

pub fn eventfd(t: &mut Task, a: [u64; 6]) -> SysResult {
    eventfd2(t, [a[0], 0, 0, 0, 0, 0])
}
