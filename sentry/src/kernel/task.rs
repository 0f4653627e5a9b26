//! Tasks: an application thread. `Task` is owned by the host thread that runs it;
//! `TaskHandle` is the part other tasks reach (signals, kill requests, wake-ups).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use platform::{Context, Event, FpState, Interrupter, Regs};

use super::process::ThreadGroup;
use super::signal::{
    self, bit, DefaultAction, Delivery, FrameFp, Pending, SigInfo, SigSet, UNBLOCKABLE,
};
use super::wait::{WaitQueue, Waiter};
use super::Kernel;
use crate::errno::Errno;
use crate::mm::{FaultError, MemoryManager};
use crate::syscalls;
use crate::vfs::{Creds, Dentry, FdTable, FsContext};

/// How a task (and, for the last one, the sandbox) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    /// Killed by a signal; `true` if it dumped core.
    Signaled(i32, bool),
}

impl ExitStatus {
    /// The status a shell would report: the exit code, or 128+N after signal N.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c & 0xff,
            ExitStatus::Signaled(s, _) => 128 + s,
        }
    }

    /// The wait(2) status word.
    pub fn wait_status(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => (c & 0xff) << 8,
            ExitStatus::Signaled(s, core) => s | if core { 0x80 } else { 0 },
        }
    }
}

/// The part of a task other tasks see.
pub struct TaskHandle {
    pub tid: i32,
    pub tg: Arc<ThreadGroup>,
    pub waiter: Arc<Waiter>,
    shared: Mutex<TaskShared>,
    interrupter: Mutex<Option<Arc<dyn Interrupter>>>,
    /// CPU time used so far.
    pub cpu: CpuTime,
    /// The thread's seccomp mode (set by itself, or by a thread of its process with TSYNC),
    /// and whether it has one (read on every syscall).
    seccomp: Mutex<Option<super::seccomp::Mode>>,
    has_seccomp: std::sync::atomic::AtomicBool,
    /// The host CPU the thread was on when it last went to sleep (/proc's "processor" for
    /// a thread other than the reader).
    pub last_cpu: std::sync::atomic::AtomicU32,
    /// When the thread was created, in nanoseconds of the sandbox's uptime.
    pub started_ns: u64,
}

/// A task's CPU time, in nanoseconds: user time is time spent running application code,
/// system time is the sentry's work on the task's behalf, not counting its sleeps. (gVisor
/// measures task states likewise; the host cannot report a ptrace stub thread's CPU time to
/// another process.)
#[derive(Default)]
pub struct CpuTime {
    user: std::sync::atomic::AtomicU64,
    sys: std::sync::atomic::AtomicU64,
}

impl CpuTime {
    pub fn add(&self, user: u64, sys: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        if user != 0 {
            self.user.fetch_add(user, Relaxed);
        }
        if sys != 0 {
            self.sys.fetch_add(sys, Relaxed);
        }
    }

    /// (user, system) nanoseconds.
    pub fn get(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.user.load(Relaxed), self.sys.load(Relaxed))
    }
}

#[derive(Default)]
pub struct TaskShared {
    pub pending: Pending,
    /// Blocked signals (senders use it to pick a thread for process-directed signals).
    pub mask: SigSet,
    /// Another task asked this one to exit (exit_group, execve, SIGKILL).
    pub exit_requested: bool,
    /// The task's credentials, as other tasks see them (capget, signal permission).
    pub creds: Option<Creds>,
    /// PR_SET_PDEATHSIG: sent to this task's process when the thread that created it exits.
    pub pdeath_signal: i32,
    /// Scheduling as the application set it (recorded and reported; the host schedules the
    /// sandbox's threads as it will).
    pub sched: Sched,
    /// The thread's name (PR_SET_NAME, /proc/<pid>/task/<tid>/comm), as others see it.
    pub comm: Vec<u8>,
    /// Supplementary group ids, as others see them (/proc/<pid>/status).
    pub groups: Vec<u32>,
    /// The execution domain and its flags (personality(2)).
    pub personality: u32,
}

/// A task's scheduling attributes.
#[derive(Clone, Debug)]
pub struct Sched {
    pub nice: i32,
    pub policy: i32,
    pub priority: i32,
    /// CPUs it may run on (bit per CPU); None: all.
    pub affinity: Option<Vec<u8>>,
    /// The I/O priority ioprio_set gave it (class << 13 | data); 0: none set.
    pub ioprio: i32,
}

impl Default for Sched {
    fn default() -> Sched {
        Sched {
            nice: 0,
            policy: libc::SCHED_OTHER,
            priority: 0,
            affinity: None,
            ioprio: 0,
        }
    }
}

impl TaskHandle {
    pub fn new(tid: i32, tg: Arc<ThreadGroup>) -> Arc<TaskHandle> {
        Arc::new(TaskHandle {
            tid,
            tg,
            waiter: Waiter::new(),
            shared: Mutex::new(TaskShared::default()),
            interrupter: Mutex::new(None),
            cpu: CpuTime::default(),
            seccomp: Mutex::new(None),
            has_seccomp: false.into(),
            last_cpu: 0.into(),
            started_ns: super::time::uptime_ns().max(0) as u64,
        })
    }

    /// The thread's seccomp mode, if it has one.
    pub fn seccomp(&self) -> Option<super::seccomp::Mode> {
        if !self.has_seccomp.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        self.seccomp
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Give the thread a seccomp mode (it never loses one).
    pub fn set_seccomp(&self, mode: super::seccomp::Mode) {
        *self.seccomp.lock().unwrap_or_else(|e| e.into_inner()) = Some(mode);
        self.has_seccomp
            .store(true, std::sync::atomic::Ordering::Release);
    }

    pub fn lock(&self) -> MutexGuard<'_, TaskShared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Rename the thread, at most 15 bytes (the process too, if it is the leader: Linux's
    /// /proc/<pid>/comm is the leader's).
    pub fn set_comm(&self, mut name: Vec<u8>) {
        name.truncate(15);
        if self.tid == self.tg.tgid {
            self.tg.lock().view.comm = name.clone();
        }
        self.lock().comm = name;
    }

    /// Wake the task wherever it is: blocked in the sentry, or running application code.
    pub fn kick(&self) {
        self.waiter.notify();
        if let Some(i) = self
            .interrupter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            i.interrupt();
        }
    }

    /// Take the next signal not in `blocked`: the thread's own first, then the process's. A
    /// POSIX timer's signal records its overrun for timer_getoverrun.
    pub fn dequeue_signal(&self, blocked: SigSet) -> Option<SigInfo> {
        let own = self.lock().pending.take(blocked);
        let info = own.or_else(|| self.tg.take_pending(blocked))?;
        if let Some(id) = info.timer_id() {
            if let Some(pt) = self.tg.lock().posix_timers.get_mut(&id) {
                pt.overrun_last = info.timer_overrun();
            }
        }
        Some(info)
    }

    /// How to kick this task out of application code (its platform context's interrupter).
    pub fn set_interrupter(&self, i: Arc<dyn Interrupter>) {
        *self.interrupter.lock().unwrap_or_else(|e| e.into_inner()) = Some(i);
    }

    pub fn request_exit(&self) {
        self.lock().exit_requested = true;
        self.kick();
    }
}

pub const RLIMIT_COUNT: usize = 16;

/// An alternate signal stack: (sp, size, flags).
pub type AltStack = (u64, u64, i32);
pub const ALTSTACK_NONE: AltStack = (0, 0, libc::SS_DISABLE);

pub struct Task {
    pub k: Arc<Kernel>,
    pub h: Arc<TaskHandle>,
    pub tid: i32,
    pub tgid: i32,
    pub mm: Arc<MemoryManager>,
    pub fds: Arc<FdTable>,
    pub fs: Arc<Mutex<FsContext>>,
    pub creds: Creds,
    /// Supplementary group ids.
    pub groups: Vec<u32>,
    pub regs: Regs,
    pub ctx: Box<dyn Context>,
    pub altstack: AltStack,
    pub clear_child_tid: u64,
    pub robust_list: (u64, u64),
    /// SEM_UNDO adjustments, shared with the tasks cloned with CLONE_SYSVSEM; applied when the
    /// last of them exits.
    pub sem_undo: Arc<super::ipc::sem::UndoList>,
    pub exe: Option<Arc<Dentry>>,
    /// Set when this thread must exit: its own status (the group's may differ).
    pub exit: Option<ExitStatus>,
    /// Set by handlers that replace all registers (execve, rt_sigreturn): the dispatcher must
    /// not write a return value.
    pub regs_replaced: bool,
    /// The last syscall asked to be restarted (an ERESTART* code).
    pub restart: Option<Errno>,
    /// State for restart_syscall.
    pub restart_block: Option<RestartBlock>,
    /// Mask to restore after a handler interrupted rt_sigsuspend & co.
    pub saved_mask: Option<SigSet>,
    /// FPU state to load before first running (a forked child's copy of its parent's).
    pub initial_fp: Option<FpState>,
    /// The parent waits for this task to exec or exit (CLONE_VFORK).
    pub vfork_done: Option<Arc<VforkDone>>,
    /// Nanoseconds spent asleep in the current syscall (not system time).
    pub slept_ns: u64,
}

/// What restart_syscall continues.
#[derive(Debug, Clone, Copy)]
pub enum RestartBlock {
    /// A relative sleep: until `deadline` (ns) on `clock`, reporting the rest to `rem`.
    Sleep {
        clock: libc::clockid_t,
        deadline: i64,
        rem: u64,
    },
}

/// Completion of a vfork child's use of its parent's memory.
#[derive(Default)]
pub struct VforkDone {
    pub done: Mutex<bool>,
    pub waiter: Arc<Waiter>,
}

impl VforkDone {
    pub fn complete(&self) {
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.waiter.notify();
    }
}

/// personality(2) flags the sentry acts on (libc has no PER_* execution domains).
pub const READ_IMPLIES_EXEC: u32 = libc::READ_IMPLIES_EXEC as u32;
pub const UNAME26: u32 = libc::UNAME26 as u32;
/// The execution domain is the low byte; PER_LINUX32 makes uname report i686.
pub const PER_MASK: u32 = 0xff;
pub const PER_LINUX32: u32 = 0x0008;

impl Task {
    /// Whether this task's persona makes readable mappings executable.
    pub fn read_implies_exec(&self) -> bool {
        self.h.lock().personality & READ_IMPLIES_EXEC != 0
    }

    pub fn fs(&self) -> FsContext {
        self.fs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn mask(&self) -> SigSet {
        self.h.lock().mask
    }

    pub fn set_mask(&mut self, m: SigSet) {
        self.h.lock().mask = m & !UNBLOCKABLE;
    }

    pub fn ppid(&self) -> i32 {
        self.h.tg.parent_tgid()
    }

    /// Run the task until it exits. Called on the task's own host thread.
    pub fn run(mut self) {
        self.h.set_interrupter(self.ctx.interrupter());
        crate::fs::proc::set_current(self.tgid, self.tid);
        crate::vfs::set_groups(&self.groups);
        loop {
            self.deliver_signals();
            if self.exit.is_some() {
                break;
            }
            self.stop_if_group_stopped();
            if self.exit.is_some() {
                break;
            }
            let space = self.mm.address_space().clone();
            if let Some(fp) = self.initial_fp.take() {
                // A forked child's copy of its parent's state, or execve's fresh state.
                if let Err(e) = self.ctx.set_fp_state(space.as_ref(), &fp) {
                    tracing::error!("loading FPU state: {e}");
                }
            }
            let entered = Instant::now();
            let event = self.ctx.switch(space.as_ref(), &mut self.regs);
            let back = Instant::now();
            // Counted before the syscall runs, so getrusage & co see it.
            let user = back.saturating_duration_since(entered).as_nanos() as u64;
            self.h.cpu.add(user, 0);
            self.slept_ns = 0;
            match event {
                Ok(Event::Syscall) => syscalls::dispatch(&mut self),
                Ok(Event::Fault { addr, access, info }) => {
                    if let Err(e) = self.mm.handle_fault(addr, access) {
                        let (sig, code) = match e {
                            FaultError::Bus => (libc::SIGBUS, 2 /* BUS_ADRERR */),
                            FaultError::Host => {
                                tracing::error!("host failure resolving a fault at {addr:#x}");
                                (libc::SIGKILL, 0)
                            }
                            FaultError::MapErr => (libc::SIGSEGV, platform::abi::SEGV_MAPERR),
                            FaultError::AccErr => (libc::SIGSEGV, platform::abi::SEGV_ACCERR),
                        };
                        let _ = info;
                        tracing::debug!(
                            "tid {}: fault at {addr:#x} ({access:?}, rip {:#x}): {e:?}",
                            self.tid,
                            self.regs.0.rip
                        );
                        self.force_signal(SigInfo::fault(sig, code, addr));
                    }
                }
                Ok(Event::Signal(info)) => {
                    let si = match info.signo {
                        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE => {
                            SigInfo::fault(info.signo, info.code, info.addr)
                        }
                        s => SigInfo::new(s, info.code),
                    };
                    self.force_signal(si);
                }
                Ok(Event::Interrupt) => {}
                Err(e) => {
                    tracing::error!("platform failure: {e}");
                    eprintln!("palisade: platform failure: {e}");
                    self.k
                        .group_exit(&self.h.tg, ExitStatus::Signaled(libc::SIGKILL, false));
                }
            }
            let sys = (back.elapsed().as_nanos() as u64).saturating_sub(self.slept_ns);
            self.h.cpu.add(0, sys);
            if self
                .h
                .tg
                .cpu_itimers_armed
                .load(std::sync::atomic::Ordering::Relaxed)
            {
                for sig in self.h.tg.charge_cpu_itimers(user, sys) {
                    let info = SigInfo::new(sig, signal::SI_KERNEL);
                    self.k.signal_group(&self.h.tg, info);
                }
            }
            if self.h.lock().exit_requested && self.exit.is_none() {
                self.exit = Some(
                    self.h
                        .tg
                        .group_exit_status()
                        .unwrap_or(ExitStatus::Signaled(libc::SIGKILL, false)),
                );
            }
        }
        self.exit_thread();
    }

    /// A synchronous signal raised by the CPU: delivered at once; if it is blocked or ignored
    /// the task dies of it, as in Linux (force_sig).
    pub fn force_signal(&mut self, info: SigInfo) {
        let sig = info.signo();
        let mut act = self.h.tg.action(sig);
        let blocked = self.mask() & bit(sig) != 0;
        if blocked || act.handler == signal::SIG_IGN {
            act.handler = signal::SIG_DFL;
            self.h.tg.set_action(sig, act);
            self.set_mask(self.mask() & !bit(sig));
        }
        self.h.lock().pending.push(info);
    }

    /// Publish this task's address space, files, fs context and name as its process's, for
    /// /proc (the leader's, or whichever thread last exec'd).
    pub fn publish_view(&self) {
        self.h.tg.lock().view = super::process::ProcView {
            mm: Arc::downgrade(&self.mm),
            fds: Arc::downgrade(&self.fds),
            fs: Arc::downgrade(&self.fs),
            comm: self.comm(),
        };
    }

    /// The thread's name.
    pub fn comm(&self) -> Vec<u8> {
        self.h.lock().comm.clone()
    }

    /// Rename the thread (the process too, if it is the leader).
    pub fn set_comm(&self, name: Vec<u8>) {
        self.h.set_comm(name);
    }

    /// A signal the kernel sends this thread because of what it just did (SIGPIPE, SIGXFSZ):
    /// SI_USER from itself, as Linux's send_sig.
    pub fn signal_self(&self, sig: i32) {
        let info = SigInfo::from_process(sig, signal::SI_USER, self.tgid, self.creds.uid);
        self.k.signal_thread(&self.h, info);
    }

    /// Whether a signal is waiting that would interrupt a blocking syscall.
    pub fn signal_pending(&self) -> bool {
        let (own, mask, exit) = {
            let s = self.h.lock();
            (s.pending.set, s.mask, s.exit_requested)
        };
        exit || own & !mask != 0 || self.h.tg.pending_set() & !mask != 0
    }

    /// Block until `check` gives a value, a signal arrives (ERESTARTSYS), or `deadline`
    /// passes (ETIMEDOUT). `queues` are where the awaited change will be announced.
    pub fn block_on<T>(
        &mut self,
        queues: &[&WaitQueue],
        deadline: Option<Instant>,
        mut check: impl FnMut(&mut Task) -> Result<Option<T>, Errno>,
    ) -> Result<T, Errno> {
        let w = self.h.waiter.clone();
        for q in queues {
            q.add(&w);
        }
        let r = loop {
            let gen = w.generation();
            match check(self) {
                Ok(Some(v)) => break Ok(v),
                Err(e) => break Err(e),
                Ok(None) => {}
            }
            if self.signal_pending() {
                break Err(Errno::ERESTARTSYS);
            }
            let asleep = Instant::now();
            // The CPU it leaves (its tracer shares the stub's): what /proc shows while it sleeps.
            if let Ok(cpu) = nix::sched::sched_getcpu() {
                self.h
                    .last_cpu
                    .store(cpu as u32, std::sync::atomic::Ordering::Relaxed);
            }
            let woke = w.wait(gen, deadline);
            self.slept_ns += asleep.elapsed().as_nanos() as u64;
            if !woke {
                break Err(Errno::ETIMEDOUT);
            }
        };
        for q in queues {
            q.remove(&w);
        }
        r
    }

    /// `block_on` for I/O with a time limit (a socket's SO_RCVTIMEO/SO_SNDTIMEO): the limit
    /// expiring is EAGAIN, as Linux reports it.
    pub fn block_io<T>(
        &mut self,
        queues: &[&WaitQueue],
        deadline: Option<Instant>,
        check: impl FnMut(&mut Task) -> Result<Option<T>, Errno>,
    ) -> Result<T, Errno> {
        self.block_on(queues, deadline, check).map_err(|e| {
            if e == Errno::ETIMEDOUT {
                Errno::EAGAIN
            } else {
                e
            }
        })
    }

    /// Stay stopped while the thread group is stopped (SIGSTOP & co) or the sandbox paused,
    /// and not killed.
    fn stop_if_group_stopped(&mut self) {
        let w = self.h.waiter.clone();
        loop {
            let gen = w.generation();
            let held = self.h.tg.is_stopped() || self.k.frozen();
            if !held || self.h.lock().exit_requested {
                break;
            }
            w.wait(gen, None);
        }
        if self.h.lock().exit_requested && self.exit.is_none() {
            self.exit = Some(
                self.h
                    .tg
                    .group_exit_status()
                    .unwrap_or(ExitStatus::Signaled(libc::SIGKILL, false)),
            );
        }
    }

    /// Take the next signal to act on: the thread's own first, then the process's.
    fn next_signal(&mut self) -> Option<SigInfo> {
        self.h.dequeue_signal(self.mask())
    }

    /// Deliver pending signals before returning to the application: run default actions,
    /// set up handler frames, and resolve syscall restarts.
    pub fn deliver_signals(&mut self) {
        let restart = self.restart.take();
        let mut handled = false;
        while self.exit.is_none() {
            if self.h.lock().exit_requested {
                self.exit = Some(
                    self.h
                        .tg
                        .group_exit_status()
                        .unwrap_or(ExitStatus::Signaled(libc::SIGKILL, false)),
                );
                break;
            }
            let Some(info) = self.next_signal() else {
                break;
            };
            let sig = info.signo();
            let act = self.h.tg.action(sig);
            if act.handler == signal::SIG_IGN {
                continue;
            }
            if act.handler == signal::SIG_DFL {
                // A protected init takes no default action but for the faults it causes
                // itself (Linux's force_sig_info clears SIGNAL_UNKILLABLE for those).
                let fault = matches!(
                    sig,
                    libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP
                ) && info.code() > 0;
                if self.k.init_unkillable && self.tgid == 1 && !fault {
                    continue;
                }
                match signal::default_action(sig) {
                    DefaultAction::Ignore | DefaultAction::Continue => continue,
                    DefaultAction::Stop => {
                        // Terminal stop signals do not stop an orphaned process group: no one
                        // would be left to continue it (SIGSTOP always stops).
                        if sig != libc::SIGSTOP && self.k.pgrp_orphaned(self.h.tg.pgid(), None) {
                            continue;
                        }
                        self.k.group_stop(&self.h.tg, sig);
                        continue;
                    }
                    DefaultAction::Terminate | DefaultAction::CoreDump => {
                        let core = signal::default_action(sig) == DefaultAction::CoreDump;
                        let st = ExitStatus::Signaled(sig, core);
                        self.k.group_exit(&self.h.tg, st);
                        self.exit = Some(st);
                        break;
                    }
                }
            }
            // A handler: first decide what happens to an interrupted syscall.
            if let Some(r) = restart.filter(|_| !handled) {
                let again = r == Errno::ERESTARTNOINTR
                    || (r == Errno::ERESTARTSYS && act.flags & libc::SA_RESTART as u64 != 0);
                if again {
                    self.regs.0.rip -= 2;
                    self.regs.0.rax = self.regs.0.orig_rax;
                } else {
                    self.regs.0.rax = (-(libc::EINTR as i64)) as u64;
                }
            }
            if let Err(e) = self.setup_handler(&info, &act) {
                tracing::debug!("cannot build a signal frame ({e:?}): SIGSEGV");
                let st = ExitStatus::Signaled(libc::SIGSEGV, true);
                self.k.group_exit(&self.h.tg, st);
                self.exit = Some(st);
                break;
            }
            handled = true;
        }
        if let (Some(r), false) = (restart, handled) {
            // No handler ran: the syscall is restarted.
            self.regs.0.rip -= 2;
            self.regs.0.rax = if r == Errno::ERESTART_RESTARTBLOCK {
                libc::SYS_restart_syscall as u64
            } else {
                self.regs.0.orig_rax
            };
        }
        if !handled {
            if let Some(m) = self.saved_mask.take() {
                self.set_mask(m);
            }
        }
    }

    /// Make every field of `regs` valid (see `platform::Context::complete_regs`): before
    /// reading a register other than the syscall's number, arguments, rip, rsp and rax.
    pub fn complete_regs(&mut self) -> Result<(), Errno> {
        let space = self.mm.address_space().clone();
        self.ctx
            .complete_regs(space.as_ref(), &mut self.regs)
            .map_err(|e| {
                tracing::error!("reading registers: {e}");
                Errno::EFAULT
            })
    }

    fn setup_handler(&mut self, info: &SigInfo, act: &signal::SigAction) -> Result<(), Errno> {
        let sig = info.signo();
        let space = self.mm.address_space().clone();
        let tramp = self.ctx.signal_trampolines(space.as_ref());
        // A thread about to enter a handler through the platform's trampoline has that
        // handler's frame in rax: it is the stack the next frame goes below.
        let sp = match tramp {
            Some(t) if self.regs.0.rip == t.enter => self.regs.0.rax,
            _ => self.regs.0.rsp,
        };
        // The trampoline saves the registers and FPU state itself if the registers it saves
        // are still the thread's; otherwise the sentry writes them all.
        let state;
        let fp = match tramp {
            Some(t) if self.ctx.regs_untouched(space.as_ref(), &self.regs) => FrameFp::Trampoline {
                len: self
                    .ctx
                    .fp_state_size(space.as_ref())
                    .map_err(|_| Errno::EFAULT)?,
                tramp: t,
            },
            _ => {
                self.complete_regs()?;
                state = self
                    .ctx
                    .fp_state(space.as_ref())
                    .map_err(|_| Errno::EFAULT)?;
                FrameFp::State(&state)
            }
        };
        let old_mask = self.saved_mask.take().unwrap_or(self.mask());
        let (ss_sp, ss_size, ss_flags) = self.altstack;
        let on_alt = ss_flags & libc::SS_DISABLE == 0
            && ss_size != 0
            && sp > ss_sp
            && sp <= ss_sp.saturating_add(ss_size);
        let use_alt = act.flags & libc::SA_ONSTACK as u64 != 0
            && ss_flags & libc::SS_DISABLE == 0
            && ss_size != 0
            && !on_alt;
        let d = Delivery {
            info,
            act,
            old_mask,
            altstack: (
                ss_sp,
                ss_size,
                if on_alt { libc::SS_ONSTACK } else { ss_flags },
            ),
            use_altstack: use_alt,
            sp,
            fp,
        };
        signal::setup_frame(&self.mm, &mut self.regs, &d)?;
        if matches!(d.fp, FrameFp::State(_)) {
            // The handler starts with a fresh FPU state, as in Linux (the trampoline does this
            // itself).
            self.ctx
                .reset_fp_state(space.as_ref())
                .map_err(|_| Errno::EFAULT)?;
        }
        if use_alt && ss_flags & platform::abi::SS_AUTODISARM != 0 {
            self.altstack = super::task::ALTSTACK_NONE;
        }
        let mut m = old_mask | act.mask;
        if act.flags & libc::SA_NODEFER as u64 == 0 {
            m |= bit(sig);
        }
        self.set_mask(m);
        if act.flags & libc::SA_RESETHAND as u64 != 0 {
            self.h.tg.set_action(sig, signal::SigAction::default());
        }
        Ok(())
    }

    /// A resource limit of the task's process.
    pub fn rlimit(&self, res: u32) -> libc::rlimit {
        self.h
            .tg
            .lock()
            .rlimits
            .get(res as usize)
            .copied()
            .unwrap_or(libc::rlimit {
                rlim_cur: u64::MAX,
                rlim_max: u64::MAX,
            })
    }

    pub fn nofile(&self) -> u64 {
        self.rlimit(libc::RLIMIT_NOFILE).rlim_cur
    }

    /// Read a path argument.
    pub fn path_arg(&self, addr: u64) -> Result<Vec<u8>, Errno> {
        self.mm.read_cstr(addr, crate::vfs::PATH_MAX)
    }

    /// End this thread: clear_child_tid, leave the address space, leave the thread group.
    fn exit_thread(mut self) {
        let status = self.exit.unwrap_or(ExitStatus::Exited(0));
        if self.clear_child_tid != 0 && self.mm.copy_out(self.clear_child_tid, &0u32).is_ok() {
            self.k
                .futexes
                .wake(&self.mm, self.clear_child_tid, 1, u32::MAX);
        }
        self.robust_list_exit();
        if let Some(v) = self.vfork_done.take() {
            v.complete();
        }
        leave_address_space(&self.mm);
        let k = self.k.clone();
        let h = self.h.clone();
        // Drop the address space, files and fs context before the parent can see us exit.
        drop(self);
        k.thread_exited(&h, status);
    }
}

/// The calling task will run no more in `mm`'s address space: hand its stub thread back,
/// unless the address space dies with the caller's reference (its drop kills the stub, that
/// thread with it, without waiting).
pub(super) fn leave_address_space(mm: &Arc<MemoryManager>) {
    let last = Arc::strong_count(mm) == 1 && Arc::strong_count(mm.address_space()) == 1;
    if !last {
        let _ = mm.address_space().release_thread();
    }
}

/// Default resource limits of the first process (Linux's defaults for init).
pub fn default_rlimits() -> [libc::rlimit; RLIMIT_COUNT] {
    let inf = u64::MAX;
    let mut r = [libc::rlimit {
        rlim_cur: inf,
        rlim_max: inf,
    }; RLIMIT_COUNT];
    r[libc::RLIMIT_STACK as usize] = libc::rlimit {
        rlim_cur: 8 << 20,
        rlim_max: inf,
    };
    r[libc::RLIMIT_CORE as usize] = libc::rlimit {
        rlim_cur: 0,
        rlim_max: inf,
    };
    r[libc::RLIMIT_NOFILE as usize] = libc::rlimit {
        rlim_cur: 1024,
        rlim_max: 1 << 20,
    };
    r[libc::RLIMIT_NPROC as usize] = libc::rlimit {
        rlim_cur: 4096,
        rlim_max: 4096,
    };
    r[libc::RLIMIT_MEMLOCK as usize] = libc::rlimit {
        rlim_cur: 8 << 20,
        rlim_max: 8 << 20,
    };
    r[libc::RLIMIT_SIGPENDING as usize] = libc::rlimit {
        rlim_cur: 4096,
        rlim_max: 4096,
    };
    r[libc::RLIMIT_MSGQUEUE as usize] = libc::rlimit {
        rlim_cur: 819200,
        rlim_max: 819200,
    };
    r[libc::RLIMIT_NICE as usize] = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    r[libc::RLIMIT_RTPRIO as usize] = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    r
}
