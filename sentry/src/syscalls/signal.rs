//! Signal syscalls.

use std::sync::Arc;
use std::time::Duration;

use super::fd_arg;
use crate::errno::{Errno, SysResult};
use crate::kernel::signal::{
    self, bit, SigAction, SigInfo, SigSet, SI_TKILL, SI_USER, UNBLOCKABLE,
};
use crate::kernel::{Task, TaskHandle, ThreadGroup};

const SIGSET_SIZE: u64 = 8;

fn valid_sig(sig: u64) -> Result<i32, Errno> {
    if sig == 0 || sig > 64 {
        return Err(Errno::EINVAL);
    }
    Ok(sig as i32)
}

pub fn rt_sigaction(t: &mut Task, a: [u64; 6]) -> SysResult {
    let sig = valid_sig(a[0])?;
    if a[3] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let new = if a[1] != 0 {
        let w: [u64; 4] = t.mm.copy_in(a[1])?;
        Some(SigAction {
            handler: w[0],
            flags: w[1],
            restorer: w[2],
            mask: w[3] & !UNBLOCKABLE,
        })
    } else {
        None
    };
    if new.is_some() && (sig == libc::SIGKILL || sig == libc::SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let old = t.h.tg.action(sig);
    if a[2] != 0 {
        t.mm.copy_out(a[2], &[old.handler, old.flags, old.restorer, old.mask])?;
    }
    if let Some(n) = new {
        t.h.tg.set_action(sig, n);
        // Setting a signal to be ignored discards it where it is pending.
        if signal::ignored(sig, &n) {
            for th in t.h.tg.threads() {
                th.lock().pending.discard(bit(sig));
            }
            t.h.tg.lock().pending.discard(bit(sig));
        }
    }
    Ok(0)
}

pub fn rt_sigprocmask(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let old = t.mask();
    if a[1] != 0 {
        let set: u64 = t.mm.copy_in(a[1])?;
        let new = match a[0] as i32 {
            libc::SIG_BLOCK => old | set,
            libc::SIG_UNBLOCK => old & !set,
            libc::SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        };
        t.set_mask(new);
    }
    if a[2] != 0 {
        t.mm.copy_out(a[2], &old)?;
    }
    Ok(0)
}

fn pending_set(t: &Task) -> SigSet {
    let own = t.h.lock().pending.set;
    (own | t.h.tg.pending_set()) & t.mask()
}

pub fn rt_sigpending(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let p = pending_set(t);
    t.mm.write_bytes(a[0], &p.to_le_bytes()[..a[1] as usize])?;
    Ok(0)
}

pub fn sigaltstack(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (sp, size, flags) = t.altstack;
    let rsp = t.regs.0.rsp;
    let on =
        flags & libc::SS_DISABLE == 0 && size != 0 && rsp > sp && rsp <= sp.saturating_add(size);
    if a[0] != 0 {
        let ss: [u64; 3] = t.mm.copy_in(a[0])?;
        let (nsp, nflags, nsize) = (ss[0], ss[1] as i32, ss[2]);
        if on {
            return Err(Errno::EPERM);
        }
        if nflags & !(libc::SS_DISABLE | platform::abi::SS_AUTODISARM) != 0 {
            return Err(Errno::EINVAL);
        }
        t.altstack = if nflags & libc::SS_DISABLE != 0 {
            crate::kernel::task::ALTSTACK_NONE
        } else {
            if nsize < libc::MINSIGSTKSZ as u64 {
                return Err(Errno::ENOMEM);
            }
            (nsp, nsize, nflags)
        };
    }
    if a[1] != 0 {
        let f = if on { libc::SS_ONSTACK } else { flags };
        t.mm.copy_out(a[1], &[sp, f as u32 as u64, size])?;
    }
    Ok(0)
}

fn may_signal(t: &Task, tg: &ThreadGroup) -> bool {
    let uid = tg.lock().uid;
    t.creds.euid == 0 || t.creds.uid == uid || t.creds.euid == uid
}

/// kill(pid, sig): a process, a process group, or everyone we may signal.
pub fn kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let sig = a[1];
    if sig > 64 {
        return Err(Errno::EINVAL);
    }
    let info = SigInfo::from_process(sig as i32, SI_USER, t.tgid, t.creds.uid);
    let targets: Vec<Arc<ThreadGroup>> = {
        let tasks = t.k.tasks();
        let live = tasks
            .groups
            .values()
            .filter(|g| g.lock().zombie.is_none() || g.tgid == pid);
        match pid {
            p if p > 0 => tasks.groups.get(&p).cloned().into_iter().collect(),
            0 => live
                .filter(|g| g.pgid() == t.h.tg.pgid())
                .cloned()
                .collect(),
            // Every process but init and the caller (zombies included, as Linux's
            // for_each_process).
            -1 => tasks
                .groups
                .values()
                .filter(|g| g.tgid != 1 && g.tgid != t.tgid)
                .cloned()
                .collect(),
            p => live.filter(|g| g.pgid() == -p).cloned().collect(),
        }
    };
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    let allowed: Vec<&Arc<ThreadGroup>> = targets.iter().filter(|g| may_signal(t, g)).collect();
    // kill(-1) succeeds if there was anyone to try, even if every one was EPERM.
    if allowed.is_empty() && pid != -1 {
        return Err(Errno::EPERM);
    }
    if sig != 0 {
        for g in allowed {
            t.k.signal_group(g, info);
        }
    }
    Ok(0)
}

fn thread(t: &Task, tid: i32) -> Result<Arc<TaskHandle>, Errno> {
    t.k.tasks().threads.get(&tid).cloned().ok_or(Errno::ESRCH)
}

fn thread_kill(
    t: &mut Task,
    tgid: Option<i32>,
    tid: i32,
    sig: u64,
    info: Option<SigInfo>,
) -> SysResult {
    if tid <= 0 || tgid.is_some_and(|g| g <= 0) || sig > 64 {
        return Err(Errno::EINVAL);
    }
    let h = thread(t, tid)?;
    if tgid.is_some_and(|g| g != h.tg.tgid) {
        return Err(Errno::ESRCH);
    }
    if !may_signal(t, &h.tg) {
        return Err(Errno::EPERM);
    }
    if sig != 0 {
        let info = info
            .unwrap_or_else(|| SigInfo::from_process(sig as i32, SI_TKILL, t.tgid, t.creds.uid));
        t.k.signal_thread(&h, info);
    }
    Ok(0)
}

pub fn tgkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    thread_kill(t, Some(a[0] as i32), a[1] as i32, a[2], None)
}

pub fn tkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    thread_kill(t, None, a[0] as i32, a[1], None)
}

/// The siginfo a process may queue itself: it cannot pretend to be the kernel.
fn user_info(t: &Task, addr: u64, sig: u64, tgid: i32) -> Result<SigInfo, Errno> {
    let raw: [u8; 128] = t.mm.copy_in(addr)?;
    let mut info = SigInfo(raw);
    info.0[0..4].copy_from_slice(&(sig as i32).to_le_bytes());
    let code = info.code();
    if (code >= 0 || code == SI_TKILL) && tgid != t.tgid {
        return Err(Errno::EPERM);
    }
    Ok(info)
}

pub fn rt_sigqueueinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, sig) = (a[0] as i32, a[1]);
    if sig > 64 {
        return Err(Errno::EINVAL);
    }
    let info = user_info(t, a[2], sig, pid)?;
    let tg = t.k.tasks().groups.get(&pid).cloned().ok_or(Errno::ESRCH)?;
    if sig != 0 {
        t.k.signal_group(&tg, info);
    }
    Ok(0)
}

pub fn rt_tgsigqueueinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let info = user_info(t, a[3], a[2], a[0] as i32)?;
    thread_kill(t, Some(a[0] as i32), a[1] as i32, a[2], Some(info))
}

pub fn pidfd_send_signal(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (fd, sig, info_addr, flags) = (fd_arg(a[0]), a[1], a[2], a[3]);
    if flags != 0 || sig > 64 {
        return Err(Errno::EINVAL);
    }
    let tg = crate::fs::pidfd::target(t, fd)?;
    if tg.lock().zombie.is_some() {
        return Err(Errno::ESRCH);
    }
    let info = if info_addr != 0 {
        user_info(t, info_addr, sig, tg.tgid)?
    } else {
        SigInfo::from_process(sig as i32, SI_USER, t.tgid, t.creds.uid)
    };
    if sig != 0 {
        t.k.signal_group(&tg, info);
    }
    Ok(0)
}

pub fn rt_sigreturn(t: &mut Task, _a: [u64; 6]) -> SysResult {
    let space = t.mm.address_space().clone();
    if let Some(tramp) = t.ctx.signal_trampolines(space.as_ref()) {
        // The platform's trampoline loads the registers and FPU state from the frame.
        if let Some(mask) = signal::trampoline_return(&t.mm, t.regs.0.rsp, &tramp) {
            t.set_mask(mask);
            t.regs.0.rip = tramp.ret;
            t.regs_replaced = true;
            return Ok(0);
        }
    }
    let fp_len = t
        .ctx
        .fp_state_size(t.mm.address_space().as_ref())
        .unwrap_or(512);
    let before = t.regs;
    let mut restored = signal::restore_frame(&t.mm, &mut t.regs, fp_len);
    if matches!(restored, Ok(ref r) if r.loaded_unknown) {
        // The frame holds the value that marks a register the platform did not read: the
        // registers must be complete before the frame's values go in, or that one would be
        // mistaken for "unchanged".
        t.regs = before;
        t.complete_regs()?;
        restored = signal::restore_frame(&t.mm, &mut t.regs, fp_len);
    }
    match restored {
        Ok(r) => {
            t.set_mask(r.mask);
            if let Some(fp) = r.fp {
                let _ = t.ctx.set_fp_state(t.mm.address_space().as_ref(), &fp);
            }
            let _ = r.altstack;
            t.regs_replaced = true;
            Ok(0)
        }
        Err(_) => {
            t.force_signal(SigInfo::new(libc::SIGSEGV, signal::SI_KERNEL));
            t.regs_replaced = true;
            Ok(0)
        }
    }
}

/// Wait with `mask` in place until a handler runs (always EINTR to the caller).
fn suspend(t: &mut Task, mask: SigSet) -> SysResult {
    let old = t.mask();
    t.set_mask(mask);
    t.saved_mask = Some(old);
    let r = t.block_on::<()>(&[], None, |_| Ok(None));
    debug_assert!(r.is_err());
    Err(Errno::ERESTARTNOHAND)
}

pub fn rt_sigsuspend(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = t.mm.copy_in(a[0])?;
    suspend(t, mask)
}

pub fn pause(t: &mut Task, _a: [u64; 6]) -> SysResult {
    let m = t.mask();
    suspend(t, m)
}

/// rt_sigtimedwait: take a signal from `set` without running its handler.
pub fn rt_sigtimedwait(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let set = t.mm.copy_in::<u64>(a[0])? & !UNBLOCKABLE;
    let deadline = if a[2] != 0 {
        let ts: libc::timespec = t.mm.copy_in(a[2])?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return Err(Errno::EINVAL);
        }
        crate::kernel::time::deadline(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    } else {
        None
    };
    let take = |t: &mut Task| -> Option<SigInfo> { t.h.dequeue_signal(!set) };
    let info = match take(t) {
        Some(i) => i,
        None => {
            // Signals in `set` are waited for even if blocked; others interrupt as usual.
            let old = t.mask();
            t.set_mask(old & !set);
            let r = t.block_on(&[], deadline, |t| {
                let s = t.h.lock().pending.set | t.h.tg.pending_set();
                Ok(if s & set != 0 { Some(()) } else { None })
            });
            t.set_mask(old);
            match r {
                Ok(()) => take(t).ok_or(Errno::EINTR)?,
                Err(Errno::ETIMEDOUT) => return Err(Errno::EAGAIN),
                Err(_) => return Err(Errno::EINTR),
            }
        }
    };
    if a[1] != 0 {
        t.mm.copy_out(a[1], &info.0)?;
    }
    Ok(info.signo() as u64)
}

pub fn signalfd4(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (fd, flags) = (a[0] as i32, a[3] as u32);
    if a[2] != SIGSET_SIZE || flags & !((libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) as u32) != 0 {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = t.mm.copy_in(a[1])?;
    if fd != -1 {
        let f = t.fds.get(fd)?;
        let s = f
            .ops
            .as_any()
            .and_then(|x| x.downcast_ref::<crate::fs::signalfd::SignalFd>())
            .ok_or(Errno::EINVAL)?;
        *s.mask.lock().unwrap_or_else(|e| e.into_inner()) = mask & !UNBLOCKABLE;
        return Ok(fd as u64);
    }
    let f = crate::fs::signalfd::new(&t.k, mask, flags);
    Ok(t.fds
        .install(f, flags & libc::SFD_CLOEXEC as u32 != 0, 0, t.nofile())? as u64)
}

pub fn signalfd(t: &mut Task, a: [u64; 6]) -> SysResult {
    signalfd4(t, [a[0], a[1], a[2], 0, 0, 0])
}
