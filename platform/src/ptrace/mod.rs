//! The ptrace platform: each application address space is a stub process; each application
//! thread runs in a stub thread under `PTRACE_SYSEMU`, so its syscalls stop before the host
//! kernel executes them.

mod stub;

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use crate::regs::XSAVE_SIZE;
use crate::PAGE_SIZE;
use crate::{
    Access, AddressSpace, Context, Event, FpState, MemoryFile, Platform, PlatformError, Prot, Regs,
    Result, SigInfo,
};
use crate::{Interrupter, SignalTrampolines};

pub use stub::stub_page;

/// `__USER_CS` and `__USER_DS` of x86-64 Linux: the selectors of 64-bit user mode.
const USER_CS: u64 = 0x33;
const USER_DS: u64 = 0x2b;
/// RFLAGS of a new thread: IF set, the reserved bit 1 set.
const INITIAL_RFLAGS: u64 = 0x202;
/// The status `waitpid` reports for a syscall stop with PTRACE_O_TRACESYSGOOD.
const SYSCALL_STOP: i32 = libc::SIGTRAP | 0x80;

#[derive(Debug)]
pub struct PtracePlatform {
    mf: Arc<MemoryFile>,
    max_addr: u64,
    spare: Arc<Spare>,
}

impl PtracePlatform {
    pub fn new(mf: Arc<MemoryFile>) -> Result<PtracePlatform> {
        let stub = stub::stub_page()?;
        // Read the sentry's CPUs now, before any thread is pinned.
        sandbox_cpus();
        Ok(PtracePlatform {
            mf,
            max_addr: stub.start,
            spare: Arc::new(Spare::default()),
        })
    }
}

/// An address space built ahead of need. A new one (a stub forked from the template and
/// attached by its master thread, its mailbox mapped) costs ~0.2 ms of host work, on the
/// critical path of every fork and execve; a builder thread makes the next one while the
/// application runs, on whichever CPU is free.
#[derive(Debug, Default)]
struct Spare {
    ready: Mutex<Option<PtraceAddressSpace>>,
    /// Wakes the builder thread (started by the first request).
    builder: Mutex<Option<mpsc::Sender<()>>>,
}

impl Spare {
    fn take(&self) -> Option<PtraceAddressSpace> {
        self.ready.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Have a spare built, unless one is ready.
    fn request(self: &Arc<Self>, mf: &Arc<MemoryFile>) {
        let mut builder = self.builder.lock().unwrap_or_else(|e| e.into_inner());
        if builder.is_none() {
            let (tx, rx) = mpsc::channel::<()>();
            let (spare, mf) = (Arc::downgrade(self), mf.clone());
            let started = std::thread::Builder::new()
                .name("stub-builder".into())
                .spawn(move || {
                    // Threads inherit their creator's pin; this one (and the master threads
                    // it starts) may run on any of the sandbox's CPUs.
                    unpin(0);
                    while rx.recv().is_ok() {
                        let Some(spare) = spare.upgrade() else { return };
                        if spare
                            .ready
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .is_some()
                        {
                            continue;
                        }
                        // Unpinned: the scheduler runs it where there is room; whoever takes
                        // it pins its threads.
                        match PtraceAddressSpace::new(&mf, None) {
                            Ok(a) => {
                                *spare.ready.lock().unwrap_or_else(|e| e.into_inner()) = Some(a);
                            }
                            Err(e) => tracing::debug!("building a spare address space: {e}"),
                        }
                    }
                });
            if started.is_err() {
                return;
            }
            *builder = Some(tx);
        }
        if let Some(tx) = builder.as_ref() {
            let _ = tx.send(());
        }
    }
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>> {
        let cpu = tracer_cpu();
        let a = match self.spare.take() {
            Some(a) => {
                a.pin(cpu);
                a
            }
            None => PtraceAddressSpace::new(&self.mf, cpu)?,
        };
        self.spare.request(&self.mf);
        Ok(Arc::new(a))
    }

    fn new_context(&self) -> Box<dyn Context> {
        Box::new(PtraceContext {
            xsave_len: None,
            xfeatures: None,
            current: Arc::new(CurrentThread::default()),
        })
    }

    fn max_user_address(&self) -> u64 {
        self.max_addr
    }

    fn initial_regs(&self) -> Regs {
        let mut r = Regs::default();
        r.0.cs = USER_CS;
        r.0.ss = USER_DS;
        r.0.eflags = INITIAL_RFLAGS;
        r
    }

    fn memory_file(&self) -> &Arc<MemoryFile> {
        &self.mf
    }
}

fn gettid() -> i32 {
    thread_local! {
        // A thread's id never changes: ask the host once per thread.
        static TID: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
    }
    TID.with(|t| {
        if t.get() == 0 {
            // SAFETY: gettid has no arguments and cannot fail.
            t.set(unsafe { libc::syscall(libc::SYS_gettid) as i32 });
        }
        t.get()
    })
}

/// Wait for `tid` to stop (or die), retrying on EINTR.
fn wait_stopped(tid: i32) -> Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own tracee; status is a valid out pointer.
        let r = unsafe { libc::waitpid(tid, &mut status, libc::__WALL) };
        if r == tid {
            return Ok(status);
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(PlatformError::Host {
                op: "waitpid",
                source: err,
            });
        }
    }
}

fn ptrace(req: libc::c_uint, tid: i32, addr: usize, data: usize, op: &'static str) -> Result<()> {
    // SAFETY: callers pass requests whose addr/data are integers or point to live buffers of the
    // size the request needs (see each call site).
    let r = unsafe { libc::ptrace(req, tid, addr, data) };
    if r == -1 {
        return Err(PlatformError::last(op));
    }
    Ok(())
}

/// The CPUs the sandbox may use: the sentry's affinity when the platform starts (before any
/// thread is pinned; later threads inherit their creator's pin, so their own masks would say
/// one CPU).
static SANDBOX_CPUS: OnceLock<Vec<usize>> = OnceLock::new();

fn sandbox_cpus() -> &'static [usize] {
    SANDBOX_CPUS.get_or_init(|| {
        // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: set is a valid cpu_set_t of the size passed.
        if unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) } != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| unsafe_cpu_isset(c, &set))
            .collect()
    })
}

/// A CPU for a new tracer thread and its stub threads, round-robin over the sandbox's CPUs:
/// a tracer and its stub share one (a wake-up across CPUs costs several times more), while
/// different tasks spread over all of them and run in parallel.
fn pick_cpu() -> Option<usize> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let cpus = sandbox_cpus();
    if cpus.is_empty() {
        return None;
    }
    Some(cpus[NEXT.fetch_add(1, Ordering::Relaxed) % cpus.len()])
}

fn unsafe_cpu_isset(cpu: usize, set: &libc::cpu_set_t) -> bool {
    // SAFETY: CPU_ISSET only reads the set; cpu < CPU_SETSIZE.
    unsafe { libc::CPU_ISSET(cpu, set) }
}

/// Let thread `tid` (0: the calling thread) run on any of the sandbox's CPUs.
fn unpin(tid: i32) {
    // SAFETY: cpu_set_t is plain data; sched_setaffinity only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in sandbox_cpus() {
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(tid, std::mem::size_of_val(&set), &set);
    }
}

fn pin(tid: i32, cpu: usize) {
    // SAFETY: cpu_set_t is plain data; sched_setaffinity only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(tid, std::mem::size_of_val(&set), &set);
    }
}

thread_local! {
    /// The CPU this tracer thread is pinned to.
    static TRACER_CPU: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The CPU the calling tracer thread runs on, chosen (and the thread pinned, its rseq
/// registration dropped) on its first call.
fn tracer_cpu() -> Option<usize> {
    TRACER_CPU.with(|c| {
        if c.get().is_none() {
            if let Some(cpu) = pick_cpu() {
                stub::drop_rseq();
                pin(0, cpu);
                c.set(Some(cpu));
            }
        }
        c.get()
    })
}

/// One thread of a stub process, traced by one sentry thread.
#[derive(Debug)]
struct StubThread {
    tid: i32,
    /// What its tracer knows of its registers; only the tracer thread locks it.
    sync: Mutex<RegSync>,
}

/// Fields (`Regs::words` indices) a syscall stop knows without PTRACE_GETREGS: r10, r9, r8,
/// rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, rsp, ss. PTRACE_GET_SYSCALL_INFO gives the
/// number, arguments, rip and rsp; the 64-bit syscall entry itself fixes the rest (rax is
/// -ENOSYS, rcx the return address, cs and ss the 64-bit user selectors it pushes).
const SYSCALL_FIELDS: [usize; 13] = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20];

/// An injected syscall writes the first this many fields (r15 to rip) and leaves the rest
/// (flags, rsp, segments, bases) as they were.
const INJECT_FIELDS: usize = 17;
/// `Regs::words` indices of rax, rip and the flags.
const RAX: usize = 10;
const RIP: usize = 16;
const EFLAGS: usize = 18;

/// At most this many changed fields are written with PTRACE_POKEUSER (~0.5 µs each here)
/// rather than one PTRACE_SETREGS (~1.6 µs, after a PTRACE_GETREGS if the rest is unknown).
const POKE_MAX: usize = 2;

/// The tracer's knowledge of a stub thread's registers. A syscall stop reads only the syscall's
/// fields (PTRACE_GET_SYSCALL_INFO) and hands the sentry `Regs::UNKNOWN` in the others; the
/// return writes back only the fields the sentry changed (PTRACE_POKEUSER). Together they cost
/// about a third of a GETREGS + SETREGS pair, on every syscall.
#[derive(Debug)]
struct RegSync {
    /// The registers as the sentry was last handed them: a field of the sentry's copy that
    /// differs from this one was written by the sentry.
    handed: Regs,
    /// Whether every field of `handed` is known (otherwise only `SYSCALL_FIELDS` are).
    complete: bool,
    /// Whether the thread's live registers are still the application's: an injected syscall
    /// replaces them, after saving them in `saved`.
    live_app: bool,
    saved: Regs,
    /// A new thread: nothing of its registers is the application's yet.
    fresh: bool,
}

impl RegSync {
    fn new() -> RegSync {
        // A new thread's live registers are not the application's: the first switch loads them
        // all.
        RegSync {
            handed: Regs::default(),
            complete: true,
            live_app: false,
            saved: Regs::default(),
            fresh: true,
        }
    }

    /// The thread stopped and the sentry was handed `regs` (all of them if `complete`).
    fn stopped(&mut self, regs: &Regs, complete: bool) {
        self.handed = *regs;
        self.complete = complete;
        self.live_app = true;
    }
}

impl StubThread {
    fn new(tid: i32) -> StubThread {
        StubThread {
            tid,
            sync: Mutex::new(RegSync::new()),
        }
    }

    fn sync(&self) -> std::sync::MutexGuard<'_, RegSync> {
        self.sync.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The application's registers before the sentry's changes: all of `handed` if complete,
    /// else read from the thread (or its saved copy).
    fn truth(&self, s: &RegSync) -> Result<Regs> {
        if s.complete {
            Ok(s.handed)
        } else if s.live_app {
            let mut r = Regs::default();
            self.get_regs(&mut r)?;
            Ok(r)
        } else {
            Ok(s.saved)
        }
    }

    /// `truth` with the fields the sentry changed (those differing from `handed`) taken from
    /// `regs`.
    fn merged(s: &RegSync, truth: &Regs, regs: &Regs) -> Regs {
        let (mut w, new, old) = (truth.words(), regs.words(), s.handed.words());
        for i in 0..w.len() {
            if new[i] != old[i] {
                w[i] = new[i];
            }
        }
        Regs::from_words(w)
    }

    /// Give the thread the sentry's registers `regs`, writing only what changed: a few fields
    /// one by one, else the shortest prefix of the register set that covers them (and what an
    /// injected syscall overwrote), if every field of it is known; else all of them.
    fn load_regs(&self, regs: &mut Regs) -> Result<()> {
        let mut s = self.sync();
        if s.fresh {
            // The sentry's copy is complete (a new task's, or execve's).
            self.set_regs(regs)?;
            s.handed = *regs;
            (s.complete, s.live_app, s.fresh) = (true, true, false);
            return Ok(());
        }
        let (new, old) = (regs.words(), s.handed.words());
        // A bit per field the sentry changed (27 fields fit).
        let changed: u32 = (0..new.len())
            .filter(|&i| new[i] != old[i])
            .fold(0, |m, i| m | 1 << i);
        if s.live_app && changed.count_ones() as usize <= POKE_MAX {
            for i in (0..new.len()).filter(|&i| changed & 1 << i != 0) {
                ptrace(
                    libc::PTRACE_POKEUSER,
                    self.tid,
                    8 * i,
                    new[i] as usize,
                    "POKEUSER",
                )?;
            }
            s.handed = *regs;
            return Ok(());
        }
        let saved = s.saved.words();
        let known = |i: usize| {
            if new[i] != old[i] {
                Some(new[i])
            } else if s.complete || SYSCALL_FIELDS.contains(&i) {
                Some(old[i])
            } else if !s.live_app {
                Some(saved[i])
            } else {
                None
            }
        };
        let mut need = (u32::BITS - changed.leading_zeros()) as usize;
        if !s.live_app {
            need = need.max(INJECT_FIELDS);
        }
        if (0..need).all(|i| known(i).is_some()) {
            let mut prefix = [0u64; crate::regs::REG_FIELDS];
            for (i, v) in prefix.iter_mut().enumerate().take(need) {
                *v = known(i).unwrap_or_default();
            }
            if need > 0 {
                self.set_regs_prefix(&prefix[..need])?;
            }
            if s.complete || !s.live_app {
                // Every field is known: the sentry's copy becomes complete.
                let mut w = new;
                for (i, v) in w.iter_mut().enumerate() {
                    *v = known(i).unwrap_or(*v);
                }
                *regs = Regs::from_words(w);
                s.complete = true;
            }
            s.handed = *regs;
            s.live_app = true;
            return Ok(());
        }
        let full = Self::merged(&s, &self.truth(&s)?, regs);
        self.set_regs(&full)?;
        // The sentry's copy is complete too now (a switch may return without a stop).
        *regs = full;
        *s = RegSync {
            handed: full,
            complete: true,
            live_app: true,
            saved: s.saved,
            fresh: false,
        };
        Ok(())
    }

    /// Whether the sentry left every register the delivery trampoline saves (all general
    /// registers but rax and rsp, and the flags) as it was handed them.
    fn regs_untouched(&self, regs: &Regs) -> bool {
        const SAVED: u32 = (0x7fff & !(1 << RAX)) | (1 << EFLAGS);
        let s = self.sync();
        let (new, old) = (regs.words(), s.handed.words());
        !s.fresh && (0..new.len()).all(|i| SAVED & 1 << i == 0 || new[i] == old[i])
    }

    /// After a syscall stop: the syscall's registers into `regs`, the rest `Regs::UNKNOWN`.
    fn read_syscall_regs(&self, regs: &mut Regs) -> Result<()> {
        // SAFETY: ptrace_syscall_info is plain data; GET_SYSCALL_INFO fills at most `size`.
        let mut info: libc::ptrace_syscall_info = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of_val(&info);
        ptrace(
            libc::PTRACE_GET_SYSCALL_INFO,
            self.tid,
            size,
            &mut info as *mut _ as usize,
            "GET_SYSCALL_INFO",
        )?;
        if info.op != libc::PTRACE_SYSCALL_INFO_ENTRY || info.arch != crate::abi::AUDIT_ARCH_X86_64
        {
            // Not a 64-bit syscall entry (int 0x80, say): read everything.
            return self.read_regs(regs);
        }
        // SAFETY: op == ENTRY says the kernel filled the `entry` member of the union.
        let entry = unsafe { info.u.entry };
        let mut w = [Regs::UNKNOWN; crate::regs::REG_FIELDS];
        let [r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, rsp, ss] = SYSCALL_FIELDS;
        let a = entry.args;
        (w[rdi], w[rsi], w[rdx], w[r10], w[r8], w[r9]) = (a[0], a[1], a[2], a[3], a[4], a[5]);
        w[orig_rax] = entry.nr;
        w[rax] = (-(libc::ENOSYS as i64)) as u64;
        w[rip] = info.instruction_pointer;
        w[rcx] = info.instruction_pointer;
        w[rsp] = info.stack_pointer;
        (w[cs], w[ss]) = (USER_CS, USER_DS);
        *regs = Regs::from_words(w);
        self.sync().stopped(regs, false);
        Ok(())
    }

    /// After any other stop: all registers.
    fn read_regs(&self, regs: &mut Regs) -> Result<()> {
        self.get_regs(regs)?;
        self.sync().stopped(regs, true);
        Ok(())
    }

    /// `Context::complete_regs` for this thread.
    fn complete_regs(&self, regs: &mut Regs) -> Result<()> {
        let mut s = self.sync();
        if s.complete {
            return Ok(());
        }
        let truth = self.truth(&s)?;
        *regs = Self::merged(&s, &truth, regs);
        s.handed = truth;
        s.complete = true;
        Ok(())
    }

    fn get_regs(&self, regs: &mut Regs) -> Result<()> {
        ptrace(
            libc::PTRACE_GETREGS,
            self.tid,
            0,
            &mut regs.0 as *mut _ as usize,
            "GETREGS",
        )
    }

    fn set_regs(&self, regs: &Regs) -> Result<()> {
        ptrace(
            libc::PTRACE_SETREGS,
            self.tid,
            0,
            &regs.0 as *const _ as usize,
            "SETREGS",
        )
    }

    /// Run one syscall in the stub process: the stub's own `syscall; int3` sequence, let through
    /// by its seccomp filter.
    fn inject(&self, nr: i64, args: [u64; 6]) -> Result<i64> {
        self.inject_at(stub::stub_page()?.syscall_addr, nr, args)
    }

    fn inject_at(&self, site: u64, nr: i64, args: [u64; 6]) -> Result<i64> {
        {
            // Keep the application's registers first (the first INJECT_FIELDS get overwritten).
            let mut s = self.sync();
            if s.live_app {
                s.saved = if s.complete {
                    s.handed
                } else {
                    let mut r = Regs::default();
                    self.get_regs(&mut r)?;
                    r
                };
                s.live_app = false;
            }
        }
        // r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip: the stub's
        // code uses no other register and no stack.
        let [a0, a1, a2, a3, a4, a5] = args;
        let prefix: [u64; INJECT_FIELDS] = [
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            a3,
            a5,
            a4,
            nr as u64,
            0,
            a2,
            a1,
            a0,
            u64::MAX,
            site,
        ];
        self.set_regs_prefix(&prefix)?;
        loop {
            ptrace(libc::PTRACE_CONT, self.tid, 0, 0, "CONT")?;
            let status = wait_stopped(self.tid)?;
            if !libc::WIFSTOPPED(status) {
                return Err(PlatformError::StubDied {
                    pid: self.tid,
                    status,
                });
            }
            match libc::WSTOPSIG(status) {
                libc::SIGTRAP => break,
                // An interrupt (or a stray attach SIGSTOP) meant for the task, not for this
                // syscall: suppress it and let the stub reach its int3. The task looks at its
                // pending signals as soon as the operation that injected this returns.
                INTERRUPT_SIGNAL | libc::SIGSTOP => continue,
                _ => {
                    let si = siginfo(self.tid);
                    tracing::error!(?si, "injected syscall {nr} stopped unexpectedly");
                    return Err(PlatformError::UnexpectedStop {
                        tid: self.tid,
                        status,
                    });
                }
            }
        }
        self.peek(RAX)
    }

    /// One register (`Regs::words` index) with PTRACE_PEEKUSER.
    fn peek(&self, field: usize) -> Result<i64> {
        // PEEKUSER returns the word itself, so -1 is only an error if errno says so.
        // SAFETY: errno is thread-local; PEEKUSER takes an offset in `struct user`.
        let v = unsafe {
            *libc::__errno_location() = 0;
            libc::ptrace(libc::PTRACE_PEEKUSER, self.tid, 8 * field, 0)
        };
        if v == -1 && std::io::Error::last_os_error().raw_os_error() != Some(0) {
            return Err(PlatformError::last("PEEKUSER"));
        }
        Ok(v)
    }

    /// Write the first `words.len()` fields of the register set (PTRACE_SETREGSET on
    /// NT_PRSTATUS with a short buffer), leaving the others as they are.
    fn set_regs_prefix(&self, words: &[u64]) -> Result<()> {
        let mut iov = libc::iovec {
            iov_base: words.as_ptr() as *mut libc::c_void,
            iov_len: std::mem::size_of_val(words),
        };
        ptrace(
            libc::PTRACE_SETREGSET,
            self.tid,
            libc::NT_PRSTATUS as usize,
            &mut iov as *mut _ as usize,
            "SETREGSET(prstatus)",
        )
    }

    /// Detach this (stopped) thread, left sleeping in the stub's pause loop: only to be
    /// killed with its process.
    fn park(&self) -> Result<()> {
        let rip = 8 * RIP;
        ptrace(
            libc::PTRACE_POKEUSER,
            self.tid,
            rip,
            stub::stub_page()?.park_addr as usize,
            "POKEUSER",
        )?;
        ptrace(libc::PTRACE_DETACH, self.tid, 0, 0, "DETACH")
    }

    /// Fork this (template) stub: the child is a new stub process, a child of the sentry
    /// (CLONE_PARENT), asleep in the stub's pause loop and traced by nobody.
    fn fork_stub(&self) -> Result<i32> {
        let flags = libc::CLONE_PARENT as u64 | libc::SIGCHLD as u64;
        let pid = self.inject_at(
            stub::stub_page()?.clone_addr,
            libc::SYS_clone,
            [flags, 0, 0, 0, 0, 0],
        )?;
        if pid <= 0 {
            return Err(PlatformError::Host {
                op: "stub fork",
                source: std::io::Error::from_raw_os_error(-pid as i32),
            });
        }
        Ok(pid as i32)
    }

    /// Create another thread in this stub process (traced by nobody once this returns; it spins
    /// in the stub page until a sentry thread attaches).
    fn clone_thread(&self) -> Result<i32> {
        let flags = libc::CLONE_VM
            | libc::CLONE_THREAD
            | libc::CLONE_SIGHAND
            | libc::CLONE_FILES
            | libc::CLONE_FS
            | libc::CLONE_SYSVSEM
            // Traced from birth by our tracer: an untraced thread hitting the stub's int3 would
            // kill the stub.
            | libc::CLONE_PTRACE;
        let tid = self.inject_at(
            stub::stub_page()?.clone_addr,
            libc::SYS_clone,
            [flags as u64, 0, 0, 0, 0, 0],
        )?;
        if tid <= 0 {
            return Err(PlatformError::Host {
                op: "stub clone",
                source: std::io::Error::from_raw_os_error(-tid as i32),
            });
        }
        let tid = tid as i32;
        // It starts with a SIGSTOP (it is traced); let it go to its spin loop untraced.
        let status = wait_stopped(tid)?;
        if !libc::WIFSTOPPED(status) {
            return Err(PlatformError::StubDied { pid: tid, status });
        }
        ptrace(libc::PTRACE_DETACH, tid, 0, 0, "DETACH")?;
        Ok(tid)
    }
}

/// What other sentry threads ask of an address space's master thread.
enum Request {
    Syscall {
        /// Where the stub runs it: its `syscall` instruction, or the batch loop.
        site: u64,
        nr: i64,
        args: [u64; 6],
        reply: mpsc::Sender<Result<i64>>,
    },
    Clone {
        reply: mpsc::Sender<Result<i32>>,
    },
}

/// The master thread of an address space: traces the stub's first thread, which never runs
/// application code, and uses it to create threads and to make address-space changes for
/// sentry threads that have no stub thread of their own here.
fn master_main(
    mf: Arc<MemoryFile>,
    mailbox: u64,
    cpu: Option<usize>,
    started: mpsc::Sender<Result<(i32, i32)>>,
    rx: mpsc::Receiver<Request>,
) {
    // Once no stub can map it any more.
    struct FreeMailbox(Arc<MemoryFile>, u64);
    impl Drop for FreeMailbox {
        fn drop(&mut self) {
            self.0.free(self.1, PAGE_SIZE);
        }
    }
    let memfd = mf.fd();
    let _mailbox = FreeMailbox(mf, mailbox);
    if let Some(c) = cpu {
        pin(0, c);
    }
    // A copy of the template stub (a fork of a process that maps one page) is much cheaper
    // than a new stub cloned from the whole sentry.
    let pid = match template_fork(memfd).or_else(|e| {
        tracing::debug!("stub template unavailable ({e}); cloning a stub from the sentry");
        stub::spawn_stub(memfd)
    }) {
        Ok(pid) => pid,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    if let Some(c) = cpu {
        pin(pid, c);
    }
    let _ = started.send(Ok((pid, gettid())));
    let first = StubThread::new(pid);
    while let Ok(req) = rx.recv() {
        match req {
            Request::Syscall {
                site,
                nr,
                args,
                reply,
            } => {
                let _ = reply.send(first.inject_at(site, nr, args));
            }
            Request::Clone { reply } => {
                let _ = reply.send(first.clone_thread());
            }
        }
    }
    // The address space is gone: kill the stub and reap its first thread.
    // SAFETY: killing and reaping our own stub process.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        let mut status = 0;
        while libc::waitpid(pid, &mut status, libc::__WALL) == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
        {}
    }
}

/// A stub syscall's raw result as an error if it failed.
fn check_result(r: i64, op: &'static str) -> Result<()> {
    if r < 0 && r > -4096 {
        return Err(PlatformError::Host {
            op,
            source: std::io::Error::from_raw_os_error(-r as i32),
        });
    }
    Ok(())
}

/// Syscalls one batch carries: 7-word entries in the mailbox page.
const BATCH_MAX: usize = 64;

/// The template stub: a stub process kept only to be forked into new stubs. Its tracer
/// thread injects the forks; each child sleeps in the stub's pause loop, untraced, until the
/// master thread of its address space attaches to it.
struct Template {
    /// The memory file the template (and so every fork of it) holds: its descriptor number
    /// and identity (a number alone could since name another file).
    memfd: i32,
    ident: Option<(u64, u64)>,
    tx: Mutex<mpsc::Sender<mpsc::Sender<Result<i32>>>>,
}

static TEMPLATE: OnceLock<std::result::Result<Template, String>> = OnceLock::new();

fn template(memfd: i32) -> Result<&'static Template> {
    let t = TEMPLATE
        .get_or_init(|| start_template(memfd).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|_| PlatformError::Unsupported("stub template did not start"))?;
    if t.memfd != memfd || t.ident.is_none() || t.ident != file_ident(memfd) {
        return Err(PlatformError::Unsupported(
            "stub template holds another memory file",
        ));
    }
    Ok(t)
}

/// (device, inode) of an open file.
fn file_ident(fd: i32) -> Option<(u64, u64)> {
    // SAFETY: stat is plain data; fstat fills it or fails.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid stat buffer.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return None;
    }
    Some((st.st_dev, st.st_ino))
}

fn start_template(memfd: i32) -> Result<Template> {
    let (tx, rx) = mpsc::channel::<mpsc::Sender<Result<i32>>>();
    let (started_tx, started_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("stub-template".into())
        .spawn(move || {
            let t = match stub::spawn_stub(memfd) {
                Ok(pid) => StubThread::new(pid),
                Err(e) => {
                    let _ = started_tx.send(Err(e));
                    return;
                }
            };
            let _ = started_tx.send(Ok(()));
            while let Ok(reply) = rx.recv() {
                let _ = reply.send(t.fork_stub());
            }
        })
        .map_err(|e| PlatformError::Host {
            op: "spawn stub template thread",
            source: e,
        })?;
    started_rx
        .recv()
        .map_err(|_| PlatformError::Unsupported("stub template thread died"))??;
    Ok(Template {
        memfd,
        ident: file_ident(memfd),
        tx: Mutex::new(tx),
    })
}

/// A new stub process forked from the template and attached by the calling thread, stopped
/// and ready for syscall injection.
fn template_fork(memfd: i32) -> Result<i32> {
    let t = template(memfd)?;
    let (reply_tx, reply_rx) = mpsc::channel();
    t.tx.lock()
        .unwrap_or_else(|e| e.into_inner())
        .send(reply_tx)
        .map_err(|_| PlatformError::Unsupported("stub template thread is gone"))?;
    let pid = reply_rx
        .recv()
        .map_err(|_| PlatformError::Unsupported("stub template thread is gone"))??;
    ptrace(libc::PTRACE_ATTACH, pid, 0, 0, "ATTACH")?;
    let status = wait_stopped(pid)?;
    if !libc::WIFSTOPPED(status) {
        return Err(PlatformError::StubDied { pid, status });
    }
    let opts = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;
    ptrace(libc::PTRACE_SETOPTIONS, pid, 0, opts as usize, "SETOPTIONS")?;
    Ok(pid)
}

/// An address space: one stub process.
#[derive(Debug)]
pub struct PtraceAddressSpace {
    pid: i32,
    /// Host tid of the master thread.
    master_tid: i32,
    memfd: i32,
    mf: Arc<MemoryFile>,
    /// Memory-file offset of the mailbox page the stub maps above its stub page (batches of
    /// syscalls are written there); the lock serializes batches.
    mailbox: Mutex<u64>,
    master: Mutex<Option<mpsc::Sender<Request>>>,
    /// A stub thread made ahead of need, asleep in the pause loop and traced by nobody.
    ready: Mutex<Option<i32>>,
    /// Stub threads running application code, by the sentry thread (host tid) that traces them.
    threads: Mutex<HashMap<i32, Arc<StubThread>>>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Syscall { nr, .. } => write!(f, "Syscall({nr})"),
            Request::Clone { .. } => write!(f, "Clone"),
        }
    }
}

impl PtraceAddressSpace {
    /// A new address space whose master thread and stub run on `cpu` (anywhere if None).
    fn new(mf: &Arc<MemoryFile>, cpu: Option<usize>) -> Result<Self> {
        let memfd = mf.fd();
        let mailbox = mf.allocate(PAGE_SIZE)?;
        let (tx, rx) = mpsc::channel();
        let (started_tx, started_rx) = mpsc::channel();
        let mf_master = mf.clone();
        // Not joined: when the address space goes, its master kills and reaps the stub and
        // frees the mailbox on its own, off the critical path of exit and execve.
        std::thread::Builder::new()
            .name("stub-master".into())
            .spawn(move || master_main(mf_master, mailbox, cpu, started_tx, rx))
            .map_err(|e| PlatformError::Host {
                op: "spawn stub master thread",
                source: e,
            })?;
        let (pid, master_tid) = started_rx
            .recv()
            .map_err(|_| PlatformError::Unsupported("stub master thread died"))??;
        let a = PtraceAddressSpace {
            pid,
            master_tid,
            memfd,
            mf: mf.clone(),
            mailbox: Mutex::new(mailbox),
            master: Mutex::new(Some(tx)),
            threads: Mutex::new(HashMap::new()),
            ready: Mutex::new(None),
        };
        let stub = stub::stub_page()?;
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        // Read-only: application threads share the stub's address space, and an entry they
        // could rewrite while the stub runs the batch would be a host syscall of their choice.
        let ro = libc::PROT_READ as u64;
        a.syscall(
            libc::SYS_mmap,
            [stub.mailbox, PAGE_SIZE, ro, flags, memfd as u64, mailbox],
            "stub mailbox mmap",
        )?;
        // The thread the first task will run in, made now: a spare is built off the critical
        // path of the fork or execve that takes it.
        let tid = a.ask(|reply| Request::Clone { reply })?;
        *a.ready.lock().unwrap_or_else(|e| e.into_inner()) = Some(tid);
        Ok(a)
    }

    /// The injected mmaps making `map_files`' (addr, len, offset, prot) mappings.
    fn mmap_ops<'a>(
        &'a self,
        maps: &'a [(u64, u64, u64, Prot)],
    ) -> impl Iterator<Item = (i64, [u64; 6])> + 'a {
        maps.iter().map(|&(addr, len, offset, prot)| {
            (libc::SYS_mmap, self.mmap_args(addr, len, offset, prot))
        })
    }

    /// mmap arguments mapping memory-file range `offset` at `addr` in the stub.
    fn mmap_args(&self, addr: u64, len: u64, offset: u64, prot: Prot) -> [u64; 6] {
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        let memfd = self.memfd as u64;
        [addr, len, prot.bits() as u64, flags, memfd, offset]
    }

    /// Run `ops` (syscall number and arguments each) in the stub, up to BATCH_MAX per round
    /// trip (a single one as a plain injected syscall), stopping at the first that fails.
    fn batch(&self, ops: &[(i64, [u64; 6])], op: &'static str) -> Result<()> {
        if let [(nr, args)] = ops {
            return self.syscall(*nr, *args, op);
        }
        let stub = stub::stub_page()?;
        // Held for the whole batch: one batch at a time uses the mailbox.
        let guard = self.mailbox.lock().unwrap_or_else(|e| e.into_inner());
        let frame = *guard;
        for chunk in ops.chunks(BATCH_MAX) {
            let mut table = Vec::with_capacity(chunk.len() * 56);
            for (nr, args) in chunk {
                table.extend_from_slice(&nr.to_ne_bytes());
                for a in args {
                    table.extend_from_slice(&a.to_ne_bytes());
                }
            }
            self.mf
                .write(frame, &table)
                .map_err(|_| PlatformError::Unsupported("mailbox out of the memory file"))?;
            let args = [stub.mailbox, chunk.len() as u64, 0, 0, 0, 0];
            let r = match self.own_thread() {
                Some(t) => t.inject_at(stub.batch_addr, 0, args)?,
                None => self.ask(|reply| Request::Syscall {
                    site: stub.batch_addr,
                    nr: 0,
                    args,
                    reply,
                })?,
            };
            check_result(r, op)?;
        }
        Ok(())
    }

    fn ask<T>(&self, make: impl FnOnce(mpsc::Sender<Result<T>>) -> Request) -> Result<T> {
        let (tx, rx) = mpsc::channel();
        let master = self.master.lock().unwrap_or_else(|e| e.into_inner());
        master
            .as_ref()
            .ok_or(PlatformError::Unsupported(
                "address space is being destroyed",
            ))?
            .send(make(tx))
            .map_err(|_| PlatformError::Unsupported("stub master thread is gone"))?;
        drop(master);
        rx.recv()
            .map_err(|_| PlatformError::Unsupported("stub master thread is gone"))?
    }

    /// The calling sentry thread's own stub thread, if it has one.
    fn own_thread(&self) -> Option<Arc<StubThread>> {
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&gettid())
            .cloned()
    }

    /// The stub thread the calling sentry thread runs application code in, created (by an
    /// injected clone) and attached on first use.
    fn thread(&self) -> Result<Arc<StubThread>> {
        if let Some(t) = self.own_thread() {
            return Ok(t);
        }
        let ready = self.ready.lock().unwrap_or_else(|e| e.into_inner()).take();
        let tid = match ready {
            Some(tid) => tid,
            None => self.ask(|reply| Request::Clone { reply })?,
        };
        ptrace(libc::PTRACE_ATTACH, tid, 0, 0, "ATTACH")?;
        let status = wait_stopped(tid)?;
        if !libc::WIFSTOPPED(status) {
            return Err(PlatformError::StubDied { pid: tid, status });
        }
        let opts = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;
        ptrace(libc::PTRACE_SETOPTIONS, tid, 0, opts as usize, "SETOPTIONS")?;
        if let Some(cpu) = tracer_cpu() {
            pin(tid, cpu);
        }
        let t = Arc::new(StubThread::new(tid));
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(gettid(), t.clone());
        Ok(t)
    }

    /// Make a syscall in the stub: through our own stub thread if we have one (no thread
    /// switch), else through the master thread.
    fn syscall(&self, nr: i64, args: [u64; 6], op: &'static str) -> Result<()> {
        check_result(self.raw_syscall(nr, args)?, op)
    }

    /// One syscall in the stub; its raw result.
    fn raw_syscall(&self, nr: i64, args: [u64; 6]) -> Result<i64> {
        Ok(match self.own_thread() {
            Some(t) => t.inject(nr, args)?,
            None => {
                let site = stub::stub_page()?.syscall_addr;
                self.ask(|reply| Request::Syscall {
                    site,
                    nr,
                    args,
                    reply,
                })?
            }
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Move the master thread and the stub's first thread to `cpu` (a spare is built
    /// unpinned; its taker's tracer thread runs on `cpu`).
    fn pin(&self, cpu: Option<usize>) {
        if let Some(c) = cpu {
            pin(self.master_tid, c);
            pin(self.pid, c);
        }
    }

    /// Host tid of the calling sentry thread's stub thread (created if needed).
    pub fn thread_tid(&self) -> Result<i32> {
        Ok(self.thread()?.tid)
    }
}

impl Drop for PtraceAddressSpace {
    fn drop(&mut self) {
        // Our own stub thread, stopped: parked in the stub's pause loop and detached, it dies
        // with the process below and the host reaps it (an untraced thread that is not the
        // leader); no wait for it here. Only if that fails do we reap it ourselves (only its
        // tracer can). The master reaps the first thread.
        let me = gettid();
        let threads = self.threads.get_mut().unwrap_or_else(|e| e.into_inner());
        let own = threads.get(&me);
        // The dying process's teardown may run on any CPU, not on ours.
        unpin(self.pid);
        if let Some(t) = own {
            unpin(t.tid);
        }
        let reap = own.filter(|t| t.park().is_err()).map(|t| t.tid);
        // SAFETY: killing our own stub process, then reaping a thread we trace.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            if let Some(tid) = reap {
                let mut status = 0;
                libc::waitpid(tid, &mut status, libc::__WALL);
            }
        }
        self.master
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }
}

impl AddressSpace for PtraceAddressSpace {
    fn map_file(&self, addr: u64, len: u64, offset: u64, prot: Prot) -> Result<()> {
        self.syscall(
            libc::SYS_mmap,
            self.mmap_args(addr, len, offset, prot),
            "stub mmap",
        )
    }

    fn protect_ranges(&self, ranges: &[(u64, u64, Prot)]) -> Result<()> {
        let ops: Vec<(i64, [u64; 6])> = ranges
            .iter()
            .map(|&(addr, len, prot)| {
                (libc::SYS_mprotect, [addr, len, prot.bits() as u64, 0, 0, 0])
            })
            .collect();
        self.batch(&ops, "stub mprotect")
    }

    fn map_files(&self, maps: &[(u64, u64, u64, Prot)]) -> Result<()> {
        let ops: Vec<(i64, [u64; 6])> = self.mmap_ops(maps).collect();
        self.batch(&ops, "stub mmap")
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<()> {
        self.syscall(libc::SYS_munmap, [addr, len, 0, 0, 0, 0], "stub munmap")
    }

    fn unmap_and_map(&self, addr: u64, len: u64, maps: &[(u64, u64, u64, Prot)]) -> Result<()> {
        let ops: Vec<(i64, [u64; 6])> =
            std::iter::once((libc::SYS_munmap, [addr, len, 0, 0, 0, 0]))
                .chain(self.mmap_ops(maps))
                .collect();
        self.batch(&ops, "stub munmap and mmap")
    }

    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<()> {
        self.syscall(
            libc::SYS_mprotect,
            [addr, len, prot.bits() as u64, 0, 0, 0],
            "stub mprotect",
        )
    }

    fn prepare_thread(&self) -> Result<()> {
        self.thread().map(|_| ())
    }

    fn release_thread(&self) -> Result<()> {
        let t = self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&gettid());
        let Some(t) = t else { return Ok(()) };
        // exit() in that stub thread only; then reap it (we are its tracer).
        let mut regs = Regs::default();
        t.get_regs(&mut regs)?;
        regs.0.rip = stub::stub_page()?.syscall_addr;
        regs.0.rax = libc::SYS_exit as u64;
        regs.0.orig_rax = u64::MAX;
        regs.0.rdi = 0;
        t.set_regs(&regs)?;
        ptrace(libc::PTRACE_CONT, t.tid, 0, 0, "CONT")?;
        loop {
            let status = wait_stopped(t.tid)?;
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                return Ok(());
            }
            // A stop on the way out (PTRACE_EVENT_EXIT is not requested; any signal): go on.
            ptrace(libc::PTRACE_CONT, t.tid, 0, 0, "CONT")?;
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Per-task context. The stub thread keeps the task's FPU state between switches, so FPU state
/// only moves when the sentry asks for it.
#[derive(Debug)]
pub struct PtraceContext {
    xsave_len: Option<usize>,
    /// The XSAVE components signal frames hold.
    xfeatures: Option<u64>,
    current: Arc<CurrentThread>,
}

/// How to interrupt a context: the stub thread it last ran in ((pid << 32) | tid, 0 before
/// the first switch), whether it is running application code now, and whether it was kicked.
/// A kick of a task that is in the sentry sends no host signal (that would cost the task an
/// extra trap when it next resumes); `switch` sees the flag instead. The two flags are a
/// Dekker pair: `interrupt` sets `kicked` then reads `in_app`, `switch` sets `in_app` then
/// reads `kicked`, so one of them always sees the other.
#[derive(Debug, Default)]
struct CurrentThread {
    thread: std::sync::atomic::AtomicU64,
    in_app: std::sync::atomic::AtomicBool,
    kicked: std::sync::atomic::AtomicBool,
}

/// The host signal that interrupts a stub thread. Any signal stops a traced thread; the stub
/// never sees it (it is suppressed at the signal-delivery stop).
const INTERRUPT_SIGNAL: i32 = libc::SIGURG;

impl Interrupter for CurrentThread {
    fn interrupt(&self) {
        self.kicked.store(true, Ordering::SeqCst);
        if !self.in_app.load(Ordering::SeqCst) {
            return;
        }
        let v = self.thread.load(Ordering::Acquire);
        if v != 0 {
            // SAFETY: tgkill with integers; a stale (exited) thread gives ESRCH, which is fine.
            unsafe {
                libc::syscall(
                    libc::SYS_tgkill,
                    (v >> 32) as i32,
                    v as u32 as i32,
                    INTERRUPT_SIGNAL,
                );
            }
        }
    }
}

fn ptrace_as(a: &dyn AddressSpace) -> Result<&PtraceAddressSpace> {
    a.as_any()
        .downcast_ref::<PtraceAddressSpace>()
        .ok_or(PlatformError::Unsupported("not a ptrace address space"))
}

fn siginfo(tid: i32) -> Result<SigInfo> {
    // SAFETY: siginfo_t is plain data; GETSIGINFO fills it.
    let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
    ptrace(
        libc::PTRACE_GETSIGINFO,
        tid,
        0,
        &mut si as *mut _ as usize,
        "GETSIGINFO",
    )?;
    // SAFETY: si_addr is valid to read for any siginfo (it is a union member of plain integers).
    let addr = unsafe { si.si_addr() } as u64;
    Ok(SigInfo {
        signo: si.si_signo,
        code: si.si_code,
        errno: si.si_errno,
        addr,
    })
}

impl Context for PtraceContext {
    fn switch(&mut self, address_space: &dyn AddressSpace, regs: &mut Regs) -> Result<Event> {
        let a = ptrace_as(address_space)?;
        let t = a.thread()?;
        let cur = ((a.pid as u64) << 32) | t.tid as u64;
        if self.current.thread.load(Ordering::Relaxed) != cur {
            self.current.thread.store(cur, Ordering::Release);
        }
        let status = loop {
            t.load_regs(regs)?;
            self.current.in_app.store(true, Ordering::SeqCst);
            if self.current.kicked.swap(false, Ordering::SeqCst) {
                self.current.in_app.store(false, Ordering::SeqCst);
                return Ok(Event::Interrupt);
            }
            let resumed = ptrace(libc::PTRACE_SYSEMU, t.tid, 0, 0, "SYSEMU");
            let status = resumed.and_then(|()| wait_stopped(t.tid));
            self.current.in_app.store(false, Ordering::SeqCst);
            let status = status?;
            if !libc::WIFSTOPPED(status) {
                return Err(PlatformError::StubDied { pid: t.tid, status });
            }
            if libc::WSTOPSIG(status) == SYSCALL_STOP {
                t.read_syscall_regs(regs)?;
                return Ok(Event::Syscall);
            }
            t.read_regs(regs)?;
            // The application had set TF and the delivery trampoline has not cleared it yet:
            // its own instructions are not the application's to trap on.
            let stub = stub::stub_page()?;
            let single_step = libc::WSTOPSIG(status) == libc::SIGTRAP
                && (stub.sig_enter..=stub.sig_enter_quiet).contains(&regs.0.rip);
            if !single_step {
                break status;
            }
        };
        match libc::WSTOPSIG(status) {
            libc::SIGSEGV => {
                let info = siginfo(t.tid)?;
                let exec = info.addr == regs.0.rip;
                let access = match info.code {
                    _ if exec => Access::EXEC,
                    crate::abi::SEGV_MAPERR => Access::READ,
                    crate::abi::SEGV_ACCERR => Access::WRITE,
                    _ => return Ok(Event::Signal(info)),
                };
                Ok(Event::Fault {
                    addr: info.addr,
                    access,
                    info,
                })
            }
            libc::SIGTRAP | libc::SIGILL | libc::SIGFPE | libc::SIGBUS => {
                Ok(Event::Signal(siginfo(t.tid)?))
            }
            // Any other host signal aimed at the stub is suppressed: the application only sees
            // sentry signals. It is how other sentry threads interrupt this one.
            _ => {
                self.current.kicked.store(false, Ordering::SeqCst);
                Ok(Event::Interrupt)
            }
        }
    }

    fn complete_regs(&mut self, address_space: &dyn AddressSpace, regs: &mut Regs) -> Result<()> {
        ptrace_as(address_space)?.thread()?.complete_regs(regs)
    }

    fn fp_state(&mut self, address_space: &dyn AddressSpace) -> Result<FpState> {
        let t = ptrace_as(address_space)?.thread()?;
        let mut bytes = vec![0u8; XSAVE_SIZE];
        let mut iov = libc::iovec {
            iov_base: bytes.as_mut_ptr().cast(),
            iov_len: bytes.len(),
        };
        ptrace(
            libc::PTRACE_GETREGSET,
            t.tid,
            crate::abi::NT_X86_XSTATE,
            &mut iov as *mut _ as usize,
            "GETREGSET",
        )?;
        bytes.truncate(iov.iov_len);
        self.xsave_len = Some(iov.iov_len);
        Ok(FpState { bytes })
    }

    fn fp_state_size(&mut self, address_space: &dyn AddressSpace) -> Result<usize> {
        match self.xsave_len {
            Some(l) => Ok(l),
            None => Ok(self.fp_state(address_space)?.bytes.len()),
        }
    }

    fn set_fp_state(&mut self, address_space: &dyn AddressSpace, fp: &FpState) -> Result<()> {
        let t = ptrace_as(address_space)?.thread()?;
        let len = match self.xsave_len {
            Some(l) => l,
            None => self.fp_state(address_space)?.bytes.len(),
        };
        let mut bytes = fp.bytes.clone();
        bytes.resize(len, 0);
        let mut iov = libc::iovec {
            iov_base: bytes.as_mut_ptr().cast(),
            iov_len: len,
        };
        ptrace(
            libc::PTRACE_SETREGSET,
            t.tid,
            crate::abi::NT_X86_XSTATE,
            &mut iov as *mut _ as usize,
            "SETREGSET",
        )
    }

    fn reset_fp_state(&mut self, address_space: &dyn AddressSpace) -> Result<()> {
        self.set_fp_state(address_space, &FpState::initial())
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        self.current.clone()
    }

    fn signal_trampolines(
        &mut self,
        address_space: &dyn AddressSpace,
    ) -> Option<SignalTrampolines> {
        let len = self.fp_state_size(address_space).ok()?;
        let stub = stub::stub_page().ok()?;
        Some(SignalTrampolines {
            enter: stub.sig_enter,
            ret: stub.sig_return,
            xfeatures: *self
                .xfeatures
                .get_or_insert_with(|| crate::host::xsave_features(len)),
        })
    }

    fn regs_untouched(&mut self, address_space: &dyn AddressSpace, regs: &Regs) -> bool {
        ptrace_as(address_space)
            .and_then(|a| a.thread())
            .is_ok_and(|t| t.regs_untouched(regs))
    }
}

/// Helpers for tests that must misuse a stub on purpose (to show the seccomp filter works).
#[doc(hidden)]
pub mod test_support {
    use super::*;

    /// Resume a stub thread with `PTRACE_CONT`: its syscalls then reach the seccomp filter.
    pub fn cont_with_regs(tid: i32, regs: &Regs) -> Result<()> {
        StubThread::new(tid).set_regs(regs)?;
        ptrace(libc::PTRACE_CONT, tid, 0, 0, "CONT")
    }

    pub fn wait(tid: i32) -> i32 {
        wait_stopped(tid).unwrap_or(-1)
    }
}
