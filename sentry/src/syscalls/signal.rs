//! Signal syscalls. Dispositions and masks are stored; running handlers needs signal frames,
//! which come with the process and signal work.

use crate::errno::{Errno, SysResult};
use crate::kernel::task::SigAction;
use crate::kernel::Task;

const SIGSET_SIZE: u64 = 8;
/// Signals that can never be caught or blocked.
const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

fn valid_sig(sig: u64) -> Result<i32, Errno> {
    if sig == 0 || sig > 64 {
        return Err(Errno::EINVAL);
    }
    Ok(sig as i32)
}

/// The kernel's struct sigaction: handler, flags, restorer, mask.
fn read_action(t: &Task, addr: u64) -> Result<SigAction, Errno> {
    let w: [u64; 4] = t.mm.copy_in(addr)?;
    Ok(SigAction {
        handler: w[0],
        flags: w[1],
        restorer: w[2],
        mask: w[3],
    })
}

pub fn rt_sigaction(t: &mut Task, a: [u64; 6]) -> SysResult {
    let sig = valid_sig(a[0])?;
    if a[3] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let new = if a[1] != 0 {
        Some(read_action(t, a[1])?)
    } else {
        None
    };
    if new.is_some() && (sig == libc::SIGKILL || sig == libc::SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let old = t.sigactions[(sig - 1) as usize];
    if a[2] != 0 {
        t.mm.copy_out(a[2], &[old.handler, old.flags, old.restorer, old.mask])?;
    }
    if let Some(mut n) = new {
        n.mask &= !UNBLOCKABLE;
        t.sigactions[(sig - 1) as usize] = n;
    }
    Ok(0)
}

pub fn rt_sigprocmask(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let old = t.sigmask;
    if a[1] != 0 {
        let set: u64 = t.mm.copy_in(a[1])?;
        t.sigmask = match a[0] as i32 {
            libc::SIG_BLOCK => old | set,
            libc::SIG_UNBLOCK => old & !set,
            libc::SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        } & !UNBLOCKABLE;
    }
    if a[2] != 0 {
        t.mm.copy_out(a[2], &old)?;
    }
    Ok(0)
}

pub fn rt_sigpending(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let p = t.sigpending & t.sigmask;
    t.mm.write_bytes(a[0], &p.to_le_bytes()[..a[1] as usize])?;
    Ok(0)
}

pub fn sigaltstack(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.altstack;
    if a[0] != 0 {
        let ss: libc::stack_t = t.mm.copy_in(a[0])?;
        if ss.ss_flags & !(libc::SS_DISABLE | platform::abi::SS_AUTODISARM) != 0 {
            return Err(Errno::EINVAL);
        }
        if ss.ss_flags & libc::SS_DISABLE == 0 && ss.ss_size < libc::MINSIGSTKSZ {
            return Err(Errno::ENOMEM);
        }
        t.altstack = ss;
    }
    if a[1] != 0 {
        t.mm.copy_out(a[1], &old)?;
    }
    Ok(0)
}

/// kill: the sandbox holds one process for now; pid 0 and -1 and its own pid reach it.
pub fn kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pid = a[0] as i32;
    let sig = a[1];
    if sig > 64 {
        return Err(Errno::EINVAL);
    }
    if pid == t.tgid || pid == 0 || pid == -1 || pid == -t.tgid {
        t.send_signal(sig as i32);
        return Ok(0);
    }
    Err(Errno::ESRCH)
}

pub fn tgkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (tgid, tid, sig) = (a[0] as i32, a[1] as i32, a[2]);
    if tgid <= 0 || tid <= 0 || sig > 64 {
        return Err(Errno::EINVAL);
    }
    if tgid != t.tgid || tid != t.tid {
        return Err(Errno::ESRCH);
    }
    t.send_signal(sig as i32);
    Ok(0)
}

pub fn tkill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let tgid = t.tgid as u64;
    tgkill(t, [tgid, a[0], a[1], 0, 0, 0])
}
