//! Signals: information, pending sets, default actions, and the x86-64 signal frame.

use std::collections::VecDeque;

use platform::{FpState, Regs, SignalTrampolines};

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
use platform::abi::sigframe::{
    FIX_EFLAGS, FPREGS, FPX_SW, FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, INFO, REG_CSGSFS, REG_OLDMASK,
    REG_RAX, REG_RIP, REG_RSP, SIZE as FRAME_SIZE, UC, UC_MCONTEXT, UC_SIGMASK, UC_STACK,
    XSAVE_HEADER,
};

/// Byte offset of mcontext register `reg` in the frame.
const fn greg(reg: u64) -> u64 {
    UC_MCONTEXT + reg * 8
}

/// What a handler invocation needs.
pub struct Delivery<'a> {
    pub info: &'a SigInfo,
    pub act: &'a SigAction,
    /// Mask to restore on sigreturn.
    pub old_mask: SigSet,
    /// Alternate stack (sp, size, flags) as sigaltstack reports it.
    pub altstack: (u64, u64, i32),
    pub use_altstack: bool,
    /// The interrupted code's stack pointer (the frame goes below it, past the red zone).
    pub sp: u64,
    pub fp: FrameFp<'a>,
}

/// Where a signal frame's registers and FPU state come from.
pub enum FrameFp<'a> {
    /// The sentry writes them: every register from `regs`, the FPU state read from the
    /// platform.
    State(&'a FpState),
    /// The platform's delivery trampoline saves them (an XSAVE area of `len` bytes); the
    /// sentry writes rax, rsp and rip.
    Trampoline {
        len: usize,
        tramp: SignalTrampolines,
    },
}

fn put(b: &mut [u8], off: u64, v: u64) {
    b[off as usize..off as usize + 8].copy_from_slice(&v.to_le_bytes())
}

/// The word at `off` of a frame read back (0 past its end).
fn word(b: &[u8], off: u64) -> u64 {
    b.get(off as usize..off as usize + 8)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The XSAVE area's software bytes (`struct _fpx_sw_bytes`): magic1, extended size (with
/// the trailing magic), the components held, the area's size.
fn fpx_sw_bytes(xsize: usize, xfeatures: u64) -> [u8; 48] {
    let mut b = [0u8; 48];
    b[0..4].copy_from_slice(&FP_XSTATE_MAGIC1.to_le_bytes());
    b[4..8].copy_from_slice(&(xsize as u32 + 4).to_le_bytes());
    b[8..16].copy_from_slice(&xfeatures.to_le_bytes());
    b[16..20].copy_from_slice(&(xsize as u32).to_le_bytes());
    b
}

/// Build the frame on the application stack and point the registers at the handler (or at
/// the platform's delivery trampoline, which enters it).
pub fn setup_frame(mm: &MemoryManager, regs: &mut Regs, d: &Delivery<'_>) -> Result<(), Errno> {
    // Application-controlled values: wrap, and let the copy-out fail with EFAULT.
    let sp = if d.use_altstack {
        d.altstack.0.wrapping_add(d.altstack.1)
    } else {
        d.sp.wrapping_sub(128)
    };
    // FPU state: 64-byte aligned, with the software bytes and the trailing magic.
    let fp_len = match &d.fp {
        FrameFp::State(fp) => fp.bytes.len(),
        FrameFp::Trampoline { len, .. } => *len,
    };
    let fp_addr = sp.wrapping_sub(fp_len as u64 + 4) & !63;
    match &d.fp {
        FrameFp::State(fp) => {
            let mut fp = fp.bytes.clone();
            if fp.len() >= 512 {
                let xfeatures = fp
                    .get(XSAVE_HEADER..XSAVE_HEADER + 8)
                    .and_then(|h| h.try_into().ok())
                    .map_or(3, u64::from_le_bytes);
                fp[FPX_SW..FPX_SW + 48].copy_from_slice(&fpx_sw_bytes(fp_len, xfeatures));
            }
            fp.extend_from_slice(&FP_XSTATE_MAGIC2.to_le_bytes());
            mm.write_bytes(fp_addr, &fp)?;
        }
        FrameFp::Trampoline { len, tramp } => {
            // The software bytes and a zeroed XSAVE header (XSAVE writes only XSTATE_BV of
            // it); the trampoline's XSAVE fills in the rest.
            let mut sw = [0u8; XSAVE_HEADER + 64 - FPX_SW];
            sw[..48].copy_from_slice(&fpx_sw_bytes(*len, tramp.xfeatures));
            mm.write_bytes(fp_addr.wrapping_add(FPX_SW as u64), &sw)?;
            mm.write_bytes(
                fp_addr.wrapping_add(*len as u64),
                &FP_XSTATE_MAGIC2.to_le_bytes(),
            )?;
        }
    }
    // The frame: 16-byte aligned minus 8, as if the handler had been called. The trampoline
    // finds the handler's address in the word at frame - 16.
    let frame = (fp_addr.wrapping_sub(FRAME_SIZE) & !15).wrapping_sub(8);
    const BELOW: u64 = 16;
    let mut buf = vec![0u8; (BELOW + FRAME_SIZE) as usize];
    put(&mut buf, 0, d.act.handler);
    let b = &mut buf[BELOW as usize..];
    put(b, 0, d.act.restorer);
    put(
        b,
        UC,
        UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
    );
    put(b, UC_STACK, d.altstack.0);
    b[(UC_STACK + 8) as usize..(UC_STACK + 12) as usize]
        .copy_from_slice(&d.altstack.2.to_le_bytes());
    put(b, UC_STACK + 16, d.altstack.1);
    let r = &regs.0;
    match d.fp {
        FrameFp::State(_) => {
            let mc = [
                r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx,
                r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.eflags,
            ];
            for (i, v) in mc.iter().enumerate() {
                put(b, greg(i as u64), *v);
            }
        }
        FrameFp::Trampoline { .. } => {
            put(b, greg(REG_RAX), r.rax);
            put(b, greg(REG_RSP), r.rsp);
            put(b, greg(REG_RIP), r.rip);
        }
    }
    // cs, gs, fs, ss (u16 each); Linux stores 0 for gs and fs.
    put(
        b,
        greg(REG_CSGSFS),
        (r.cs & 0xffff) | ((r.ss & 0xffff) << 48),
    );
    // err, trapno, cr2: zero; oldmask.
    put(b, greg(REG_OLDMASK), d.old_mask);
    put(b, greg(FPREGS), fp_addr);
    put(b, UC_SIGMASK, d.old_mask);
    b[INFO as usize..(INFO + 128) as usize].copy_from_slice(&d.info.0);
    let r = &mut regs.0;
    match d.fp {
        FrameFp::State(_) => {
            mm.write_bytes(frame, b)?;
            r.rsp = frame;
            r.rip = d.act.handler;
            r.rdi = d.info.signo() as u64;
            r.rsi = frame.wrapping_add(INFO);
            r.rdx = frame.wrapping_add(UC);
            r.rax = 0;
            // The handler runs with DF clear and TF clear, as the kernel leaves them.
            r.eflags &= !(0x400 | 0x100);
        }
        FrameFp::Trampoline { tramp, .. } => {
            mm.write_bytes(frame.wrapping_sub(BELOW), &buf)?;
            r.rax = frame;
            r.rip = tramp.enter;
        }
    }
    Ok(())
}

/// rt_sigreturn through the platform's return trampoline: the mask to restore, if the frame
/// at `rsp - 8` is one the trampoline can load (an XSAVE area with the software bytes and no
/// component the platform does not save, a canonical rip); None sends the caller the slow
/// way, which reports a bad frame as Linux does.
pub fn trampoline_return(
    mm: &MemoryManager,
    rsp: u64,
    tramp: &SignalTrampolines,
) -> Option<SigSet> {
    let frame = rsp.wrapping_sub(8);
    let b = mm.read_vec(frame, FRAME_SIZE as usize).ok()?;
    let (fp_addr, rip) = (word(&b, greg(FPREGS)), word(&b, greg(REG_RIP)));
    if fp_addr == 0 || !fp_addr.is_multiple_of(64) || !matches!(rip >> 47, 0 | 0x1ffff) {
        return None;
    }
    let sw: [u8; 16] = mm.copy_in(fp_addr.wrapping_add(FPX_SW as u64)).ok()?;
    let magic = u32::from_le_bytes(sw[0..4].try_into().ok()?);
    let xfeatures = u64::from_le_bytes(sw[8..16].try_into().ok()?);
    if magic != FP_XSTATE_MAGIC1 || xfeatures & !tramp.xfeatures != 0 || xfeatures & 3 != 3 {
        return None;
    }
    Some(word(&b, UC_SIGMASK))
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
    let get = |off: u64| word(&b, off);
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
        *f = get(greg(i as u64));
        loaded_unknown |= *f == Regs::UNKNOWN;
    }
    // Only the flags user code may change (CF PF AF ZF SF TF DF OF RF AC ID and friends).
    r.eflags = (r.eflags & FIX_EFLAGS) | platform::abi::sigframe::EFLAGS_FIXED;
    r.orig_rax = u64::MAX;
    let fp_addr = get(greg(FPREGS));
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
