//! Signals: information, pending sets, default actions, and the x86-64 signal frame.

use std::collections::VecDeque;

use platform::{FpState, Regs};

use crate::errno::Errno;
use crate::mm::MemoryManager;

/// Signals as a bit set: bit (sig - 1).
pub type SigSet = u64;

pub fn bit(sig: i32) -> SigSet {
    1u64 << (sig - 1)
}

/// Signals that can never be caught, blocked or ignored.
pub const UNBLOCKABLE: SigSet = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));
pub const NSIG: i32 = 64;
pub const SIGRTMIN: i32 = 32;

// si_code values (asm-generic/siginfo.h).
pub const SI_USER: i32 = 0;
/// si_code of a POSIX timer's expiry.
pub const SI_TIMER: i32 = -2;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
pub const SI_TKILL: i32 = -6;
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_DUMPED: i32 = 3;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;

/// A `siginfo_t` (128 bytes, the kernel's layout).
#[derive(Clone, Copy)]
pub struct SigInfo(pub [u8; 128]);

impl std::fmt::Debug for SigInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigInfo(signo={}, code={})", self.signo(), self.code())
    }
}

impl SigInfo {
    fn put_i32(&mut self, off: usize, v: i32) {
        self.0[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, off: usize, v: u64) {
        self.0[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }
    fn get_i32(&self, off: usize) -> i32 {
        i32::from_le_bytes([
            self.0[off],
            self.0[off + 1],
            self.0[off + 2],
            self.0[off + 3],
        ])
    }

    pub fn new(signo: i32, code: i32) -> SigInfo {
        let mut s = SigInfo([0; 128]);
        s.put_i32(0, signo);
        s.put_i32(8, code);
        s
    }

    /// Sent by a process (kill, tkill): sender pid and uid.
    pub fn from_process(signo: i32, code: i32, pid: i32, uid: u32) -> SigInfo {
        let mut s = SigInfo::new(signo, code);
        s.put_i32(16, pid);
        s.put_i32(20, uid as i32);
        s
    }

    /// A fault: the faulting address.
    pub fn fault(signo: i32, code: i32, addr: u64) -> SigInfo {
        let mut s = SigInfo::new(signo, code);
        s.put_u64(16, addr);
        s
    }

    /// SIGCHLD about `pid`: how it changed and the status (exit code or signal).
    pub fn child(pid: i32, uid: u32, code: i32, status: i32) -> SigInfo {
        let mut s = SigInfo::from_process(libc::SIGCHLD, code, pid, uid);
        s.put_i32(24, status);
        s
    }

    /// A POSIX timer's signal (SI_TIMER): its timer id.
    pub fn timer_id(&self) -> Option<i32> {
        (self.code() == SI_TIMER)
            .then(|| i32::from_le_bytes([self.0[16], self.0[17], self.0[18], self.0[19]]))
    }

    /// A POSIX timer's signal: expiries merged into it (si_overrun).
    pub fn timer_overrun(&self) -> i32 {
        i32::from_le_bytes([self.0[20], self.0[21], self.0[22], self.0[23]])
    }

    pub fn signo(&self) -> i32 {
        self.get_i32(0)
    }

    pub fn code(&self) -> i32 {
        self.get_i32(8)
    }
}

/// Signals waiting for delivery. Standard signals are queued once; real-time ones each time.
#[derive(Default)]
pub struct Pending {
    pub set: SigSet,
    queue: VecDeque<SigInfo>,
}

impl Pending {
    /// Queue a signal. False if a standard signal was already pending (it is merged), or if
    /// this is a POSIX timer's signal whose last one is still queued: that one's overrun
    /// count goes up instead (a timer has at most one signal queued, as in Linux).
    pub fn push(&mut self, info: SigInfo) -> bool {
        let sig = info.signo();
        if let Some(tid) = info.timer_id() {
            if let Some(q) = self
                .queue
                .iter_mut()
                .find(|q| q.signo() == sig && q.timer_id() == Some(tid))
            {
                let n = q.timer_overrun().saturating_add(1);
                q.0[20..24].copy_from_slice(&n.to_le_bytes());
                return false;
            }
        }
        if sig < SIGRTMIN && self.set & bit(sig) != 0 {
            return false;
        }
        self.set |= bit(sig);
        self.queue.push_back(info);
        true
    }

    /// How many signals are queued.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Take the lowest-numbered pending signal not in `blocked`.
    pub fn take(&mut self, blocked: SigSet) -> Option<SigInfo> {
        let ready = self.set & !blocked;
        if ready == 0 {
            return None;
        }
        let sig = ready.trailing_zeros() as i32 + 1;
        self.take_sig(sig)
    }

    pub fn take_sig(&mut self, sig: i32) -> Option<SigInfo> {
        let i = self.queue.iter().position(|s| s.signo() == sig)?;
        let info = self.queue.remove(i)?;
        if !self.queue.iter().any(|s| s.signo() == sig) {
            self.set &= !bit(sig);
        }
        Some(info)
    }

    /// Drop every pending instance of the signals in `set` (e.g. SIGCONT discards stops).
    pub fn discard(&mut self, set: SigSet) {
        self.queue.retain(|s| set & bit(s.signo()) == 0);
        self.set &= !set;
    }
}

/// A signal disposition as rt_sigaction stores it (the kernel's struct k_sigaction).
#[derive(Debug, Clone, Copy, Default)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: SigSet,
}

/// flush_signal_handlers: handled signals go back to SIG_DFL, ignored ones stay ignored, and
/// flags, restorers and masks are cleared (execve, clone3's CLONE_CLEAR_SIGHAND).
pub fn flush_handlers(actions: &[SigAction; 64]) -> [SigAction; 64] {
    let mut fresh = [SigAction::default(); 64];
    for (n, a) in fresh.iter_mut().zip(actions.iter()) {
        if a.handler == SIG_IGN {
            n.handler = SIG_IGN;
        }
    }
    fresh
}

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    CoreDump,
    Stop,
    Continue,
    Ignore,
}

pub fn default_action(sig: i32) -> DefaultAction {
    use DefaultAction::*;
    match sig {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH => Ignore,
        libc::SIGCONT => Continue,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => Stop,
        libc::SIGQUIT
        | libc::SIGILL
        | libc::SIGTRAP
        | libc::SIGABRT
        | libc::SIGBUS
        | libc::SIGFPE
        | libc::SIGSEGV
        | libc::SIGXCPU
        | libc::SIGXFSZ
        | libc::SIGSYS => CoreDump,
        _ => Terminate,
    }
}

/// Whether a signal with this disposition would be ignored if delivered now.
pub fn ignored(sig: i32, act: &SigAction) -> bool {
    sig != libc::SIGKILL
        && sig != libc::SIGSTOP
        && (act.handler == SIG_IGN
            || (act.handler == SIG_DFL && default_action(sig) == DefaultAction::Ignore))
}

// ---- the signal frame ---------------------------------------------------------------------------

const UC_FP_XSTATE: u64 = 1;
const UC_SIGCONTEXT_SS: u64 = 2;
const UC_STRICT_RESTORE_SS: u64 = 4;
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
/// Offsets in `struct rt_sigframe` (after the return address): ucontext then siginfo.
const UC: u64 = 8;
const UC_STACK: u64 = UC + 16;
const UC_MCONTEXT: u64 = UC + 40;
const UC_SIGMASK: u64 = UC_MCONTEXT + 256;
/// The kernel's struct ucontext is 304 bytes; siginfo follows it.
const INFO: u64 = UC_SIGMASK + 8;
const FRAME_SIZE: u64 = INFO + 128;

/// What a handler invocation needs.
pub struct Delivery<'a> {
    pub info: &'a SigInfo,
    pub act: &'a SigAction,
    /// Mask to restore on sigreturn.
    pub old_mask: SigSet,
    /// Alternate stack (sp, size, flags) as sigaltstack reports it.
    pub altstack: (u64, u64, i32),
    pub use_altstack: bool,
    pub fp: &'a FpState,
}

/// Build the frame on the application stack and point the registers at the handler.
pub fn setup_frame(mm: &MemoryManager, regs: &mut Regs, d: &Delivery<'_>) -> Result<(), Errno> {
    let r = &regs.0;
    // Application-controlled values: wrap, and let the copy-out fail with EFAULT.
    let mut sp = if d.use_altstack {
        d.altstack.0.wrapping_add(d.altstack.1)
    } else {
        r.rsp.wrapping_sub(128)
    };
    // FPU state: 64-byte aligned, with the software bytes and the trailing magic.
    let mut fp = d.fp.bytes.clone();
    let xsize = fp.len() as u32;
    if fp.len() >= 512 {
        fp[464..468].copy_from_slice(&FP_XSTATE_MAGIC1.to_le_bytes());
        fp[468..472].copy_from_slice(&(xsize + 4).to_le_bytes());
        let xfeatures = if fp.len() >= 520 {
            u64::from_le_bytes(fp[512..520].try_into().unwrap_or([0; 8]))
        } else {
            3
        };
        fp[472..480].copy_from_slice(&xfeatures.to_le_bytes());
        fp[480..484].copy_from_slice(&xsize.to_le_bytes());
    }
    fp.extend_from_slice(&FP_XSTATE_MAGIC2.to_le_bytes());
    sp = sp.wrapping_sub(fp.len() as u64) & !63;
    let fp_addr = sp;
    mm.write_bytes(fp_addr, &fp)?;
    // The frame: 16-byte aligned minus 8, as if the handler had been called.
    let frame = (sp.wrapping_sub(FRAME_SIZE) & !15).wrapping_sub(8);
    let mut b = vec![0u8; FRAME_SIZE as usize];
    let put = |b: &mut Vec<u8>, off: u64, v: u64| {
        b[off as usize..off as usize + 8].copy_from_slice(&v.to_le_bytes())
    };
    put(&mut b, 0, d.act.restorer);
    put(
        &mut b,
        UC,
        UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
    );
    put(&mut b, UC_STACK, d.altstack.0);
    b[(UC_STACK + 8) as usize..(UC_STACK + 12) as usize]
        .copy_from_slice(&d.altstack.2.to_le_bytes());
    put(&mut b, UC_STACK + 16, d.altstack.1);
    let mc = [
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
        r.rax, r.rcx, r.rsp, r.rip, r.eflags,
    ];
    for (i, v) in mc.iter().enumerate() {
        put(&mut b, UC_MCONTEXT + i as u64 * 8, *v);
    }
    // cs, gs, fs, ss (u16 each).
    let segs = (r.cs & 0xffff)
        | ((r.gs & 0xffff) << 16)
        | ((r.fs & 0xffff) << 32)
        | ((r.ss & 0xffff) << 48);
    put(&mut b, UC_MCONTEXT + 18 * 8, segs);
    // err, trapno, oldmask, cr2: zero except oldmask.
    put(&mut b, UC_MCONTEXT + 21 * 8, d.old_mask);
    put(&mut b, UC_MCONTEXT + 23 * 8, fp_addr);
    put(&mut b, UC_SIGMASK, d.old_mask);
    b[INFO as usize..(INFO + 128) as usize].copy_from_slice(&d.info.0);
    mm.write_bytes(frame, &b)?;

    let r = &mut regs.0;
    r.rsp = frame;
    r.rip = d.act.handler;
    r.rdi = d.info.signo() as u64;
    r.rsi = frame.wrapping_add(INFO);
    r.rdx = frame.wrapping_add(UC);
    r.rax = 0;
    // The handler runs with DF clear and TF clear, as the kernel leaves them.
    r.eflags &= !(0x400 | 0x100);
    Ok(())
}

/// What rt_sigreturn restores.
pub struct Restored {
    pub mask: SigSet,
    pub fp: Option<FpState>,
    pub altstack: (u64, u64, i32),
    /// A register loaded from the frame equals `Regs::UNKNOWN`.
    pub loaded_unknown: bool,
}

/// Read the frame at `rsp - 8` (the handler's `ret` popped the return address) back into
/// `regs`. A bad frame is EFAULT (the caller kills the task with SIGSEGV, as Linux does).
pub fn restore_frame(
    mm: &MemoryManager,
    regs: &mut Regs,
    fp_len: usize,
) -> Result<Restored, Errno> {
    let frame = regs.0.rsp.wrapping_sub(8);
    let b = mm.read_vec(frame, FRAME_SIZE as usize)?;
    let get = |off: u64| {
        u64::from_le_bytes(
            b[off as usize..off as usize + 8]
                .try_into()
                .unwrap_or([0; 8]),
        )
    };
    let r = &mut regs.0;
    let fields: [&mut u64; 18] = [
        &mut r.r8,
        &mut r.r9,
        &mut r.r10,
        &mut r.r11,
        &mut r.r12,
        &mut r.r13,
        &mut r.r14,
        &mut r.r15,
        &mut r.rdi,
        &mut r.rsi,
        &mut r.rbp,
        &mut r.rbx,
        &mut r.rdx,
        &mut r.rax,
        &mut r.rcx,
        &mut r.rsp,
        &mut r.rip,
        &mut r.eflags,
    ];
    let mut loaded_unknown = false;
    for (i, f) in fields.into_iter().enumerate() {
        *f = get(UC_MCONTEXT + i as u64 * 8);
        loaded_unknown |= *f == Regs::UNKNOWN;
    }
    // Only the flags user code may change (CF PF AF ZF SF TF DF OF RF AC ID and friends).
    const FIX_EFLAGS: u64 = 0x0005_4dd5;
    r.eflags = (r.eflags & FIX_EFLAGS) | 0x202;
    r.orig_rax = u64::MAX;
    let fp_addr = get(UC_MCONTEXT + 23 * 8);
    let fp = if fp_addr != 0 {
        if !fp_addr.is_multiple_of(64) {
            return Err(Errno::EFAULT);
        }
        Some(FpState {
            bytes: mm.read_vec(fp_addr, fp_len)?,
        })
    } else {
        None
    };
    let ss_flags = i32::from_le_bytes(
        b[(UC_STACK + 8) as usize..(UC_STACK + 12) as usize]
            .try_into()
            .unwrap_or([0; 4]),
    );
    Ok(Restored {
        mask: get(UC_SIGMASK),
        fp,
        altstack: (get(UC_STACK), get(UC_STACK + 16), ss_flags),
        loaded_unknown,
    })
}
