//! The KVM platform: the application runs in ring 3 of a VM the sentry owns; its syscalls and
//! exceptions leave the guest through a handful of ring-0 bytes that exit to the host at once.
//!
//! - `syscall` goes to LSTAR, whose code is a single `out` (port `SYSCALL_PORT`); the sentry
//!   reads the registers from `KVM_CAP_SYNC_REGS` and sets them back the same way, so a
//!   syscall costs one `KVM_RUN` and no other ioctl. (On nested PVM hosts the jump to LSTAR
//!   keeps ring 3, which is why the port is the only one the TSS lets ring 3 use; an `out` to
//!   it from anywhere else is reported as the #GP it would be.)
//! - exceptions go through a 32-entry IDT to one `out` per vector; the sentry reads the
//!   frame from the vCPU's exception stack and CR2 from the synced special registers, and
//!   returns to ring 3 by setting CS/SS directly (no `iretq` to emulate).
//! - other sentry threads interrupt a running vCPU with `immediate_exit` and a signal that
//!   is blocked in the sentry except inside `KVM_RUN` (`KVM_SET_SIGNAL_MASK`).
//!
//! See `layout.rs` for the guest's memory map and `machine.rs` for how page tables stay
//! coherent with KVM's shadow of them.

mod layout;
mod machine;
mod paging;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, Ordering};
use std::sync::{Arc, Once};

use kvm_bindings::{kvm_run, kvm_sync_regs, kvm_xsave};
use kvm_ioctls::{SyncReg, VcpuExit};

use crate::abi::{SEGV_ACCERR, SEGV_MAPERR, SI_KERNEL};
use crate::regs::XSAVE_SIZE;
use crate::{
    Access, AddressSpace, Context, Event, FpState, Interrupter, MemoryFile, Platform,
    PlatformError, Regs, Result, SigInfo,
};
use layout::*;
use machine::{code_segment, data_segment, Machine, Vcpu};
pub use paging::KvmAddressSpace;

/// RFLAGS of a new thread: IF and the reserved bit 1.
const INITIAL_RFLAGS: u64 = 0x202;
/// The RFLAGS bits the application controls (Linux's FIX_EFLAGS plus ID); IF is always set
/// and IOPL always 0 in the guest.
const USER_RFLAGS: u64 = 0x25_0dd5;

/// The host signal that kicks a vCPU out of `KVM_RUN`.
const KICK_SIGNAL: i32 = libc::SIGURG;

pub struct KvmPlatform {
    machine: Arc<Machine>,
    mf: Arc<MemoryFile>,
}

impl std::fmt::Debug for KvmPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KvmPlatform")
    }
}

impl KvmPlatform {
    /// A VM over the memory file, made through `device` (an open `/dev/kvm`). Fails with a
    /// clear error when KVM lacks a capability the platform needs.
    pub fn new(device: std::os::fd::OwnedFd, mf: Arc<MemoryFile>) -> Result<KvmPlatform> {
        install_kick_handler();
        let machine = Arc::new(Machine::new(device, mf.clone())?);
        Ok(KvmPlatform { machine, mf })
    }

    /// Open `/dev/kvm` (before a sandbox is sealed off from host paths).
    pub fn open_device() -> Result<std::os::fd::OwnedFd> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .map(Into::into)
            .map_err(|source| PlatformError::Host {
                op: "open /dev/kvm",
                source,
            })
    }
}

impl Platform for KvmPlatform {
    fn name(&self) -> &'static str {
        "kvm"
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>> {
        Ok(Arc::new(KvmAddressSpace::new(self.machine.clone())?))
    }

    fn new_context(&self) -> Box<dyn Context> {
        Box::new(KvmContext {
            machine: self.machine.clone(),
            vcpu: None,
            kick: Arc::new(Kick::default()),
        })
    }

    fn max_user_address(&self) -> u64 {
        PLATFORM_VA
    }

    fn initial_regs(&self) -> Regs {
        let mut r = Regs::default();
        r.0.cs = u64::from(USER_CS);
        r.0.ss = u64::from(USER_DS);
        r.0.eflags = INITIAL_RFLAGS;
        r
    }

    fn memory_file(&self) -> &Arc<MemoryFile> {
        &self.mf
    }
}

/// How other threads interrupt a context (the same Dekker pair as the ptrace platform's:
/// `interrupt` sets `kicked` then reads `in_app`; `switch` sets `in_app` then reads `kicked`).
#[derive(Default)]
struct Kick {
    run: AtomicPtr<kvm_run>,
    tid: AtomicI32,
    in_app: AtomicBool,
    kicked: AtomicBool,
}

impl Interrupter for Kick {
    fn interrupt(&self) {
        self.kicked.store(true, Ordering::SeqCst);
        if !self.in_app.load(Ordering::SeqCst) {
            return;
        }
        let run = self.run.load(Ordering::Acquire);
        if !run.is_null() {
            // SAFETY: `run` is the kvm_run mapping of a vCPU; vCPUs are never unmapped while
            // the machine lives, and a context clears the pointer before giving its vCPU
            // back. The byte is how KVM_RUN is told to return at once (its documented use).
            unsafe { std::ptr::addr_of_mut!((*run).immediate_exit).write_volatile(1) };
        }
        let tid = self.tid.load(Ordering::Acquire);
        if tid != 0 {
            // SAFETY: tgkill with integers; a thread that has gone gives ESRCH, which is fine.
            unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, KICK_SIGNAL) };
        }
    }
}

extern "C" fn kick_handler(_: libc::c_int) {}

fn install_kick_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: installs a handler that does nothing (async-signal-safe) for a signal the
        // sentry uses for nothing else; sigaction's structure is zeroed then filled.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = kick_handler as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(KICK_SIGNAL, &sa, std::ptr::null_mut());
        }
    });
}

thread_local! {
    /// This thread's id once it is ready to run vCPUs (the kick signal blocked); 0 before.
    static READY_TID: Cell<i32> = const { Cell::new(0) };
}

/// Ready the calling thread to run vCPUs, once: the kick signal stays blocked in the sentry's
/// threads (KVM unblocks it inside KVM_RUN). Returns the thread's id, for kicks.
fn ready_this_thread() -> i32 {
    READY_TID.with(|t| {
        if t.get() == 0 {
            // SAFETY: the set is initialised by sigemptyset before use; pthread_sigmask only
            // changes this thread's mask.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, KICK_SIGNAL);
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            }
            t.set(gettid());
        }
        t.get()
    })
}

/// Take a pending kick, so the next KVM_RUN is not interrupted by it.
fn consume_kick() {
    // SAFETY: as above; a zero timeout makes sigtimedwait poll.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, KICK_SIGNAL);
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        while libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) == KICK_SIGNAL {}
    }
}

/// `KVM_SET_SIGNAL_MASK` = _IOW(KVMIO, 0x8b, struct kvm_signal_mask): the mask in force
/// while the vCPU runs. Everything is allowed then, so a kick ends KVM_RUN.
fn unblock_signals_in_guest(v: &Vcpu) -> Result<()> {
    #[repr(C)]
    struct Mask {
        len: u32,
        set: [u8; 8],
    }
    let mask = Mask {
        len: 8,
        set: [0; 8],
    };
    use std::os::fd::AsRawFd;
    // SAFETY: the ioctl reads `len` then `len` bytes of sigset from `mask`, all inside it.
    let r = unsafe {
        libc::ioctl(
            v.fd.as_raw_fd(),
            KVM_SET_SIGNAL_MASK as libc::c_ulong,
            &mask,
        )
    };
    if r < 0 {
        return Err(PlatformError::last("KVM_SET_SIGNAL_MASK"));
    }
    Ok(())
}

fn gettid() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

pub struct KvmContext {
    machine: Arc<Machine>,
    vcpu: Option<Vcpu>,
    kick: Arc<Kick>,
}

fn kvm_as(a: &dyn AddressSpace) -> Result<&KvmAddressSpace> {
    a.as_any()
        .downcast_ref::<KvmAddressSpace>()
        .ok_or(PlatformError::Unsupported("not a kvm address space"))
}

fn run_err(e: kvm_ioctls::Error) -> PlatformError {
    PlatformError::Host {
        op: "KVM_RUN",
        source: std::io::Error::from_raw_os_error(e.errno()),
    }
}

/// What ended a run, read out before the exit's borrow of the vCPU ends.
enum Exit {
    Out(u16),
    In(u16),
    Interrupted,
    Other(String),
}

impl KvmContext {
    fn vcpu(&mut self) -> Result<&mut Vcpu> {
        if self.vcpu.is_none() {
            let mut v = self.machine.acquire_vcpu()?;
            unblock_signals_in_guest(&v)?;
            // A vCPU may come from a thread that exited: nothing of its state may show.
            set_xsave(&v, &FpState::initial())?;
            self.kick
                .run
                .store(v.fd.get_kvm_run() as *mut kvm_run, Ordering::Release);
            self.vcpu = Some(v);
        }
        self.vcpu
            .as_mut()
            .ok_or(PlatformError::Unsupported("no vCPU"))
    }
}

fn set_xsave(v: &Vcpu, fp: &FpState) -> Result<()> {
    let mut x = kvm_xsave::default();
    for (w, chunk) in x.region.iter_mut().zip(fp.bytes.chunks(4)) {
        let mut b = [0u8; 4];
        b[..chunk.len()].copy_from_slice(chunk);
        *w = u32::from_le_bytes(b);
    }
    // SAFETY: `x` is a full 4 KiB legacy XSAVE buffer, the size KVM_SET_XSAVE reads.
    unsafe { v.fd.set_xsave(&x) }.map_err(|e| PlatformError::Host {
        op: "KVM_SET_XSAVE",
        source: std::io::Error::from_raw_os_error(e.errno()),
    })
}

/// Put the task's registers into the vCPU's synced state, for a return to ring 3.
fn load(v: &mut Vcpu, cr3: u64, regs: &Regs) {
    let r = &regs.0;
    let sync = v.fd.sync_regs_mut();
    let k = &mut sync.regs;
    k.rax = r.rax;
    k.rbx = r.rbx;
    k.rcx = r.rcx;
    k.rdx = r.rdx;
    k.rsi = r.rsi;
    k.rdi = r.rdi;
    k.rsp = r.rsp;
    k.rbp = r.rbp;
    k.r8 = r.r8;
    k.r9 = r.r9;
    k.r10 = r.r10;
    k.r11 = r.r11;
    k.r12 = r.r12;
    k.r13 = r.r13;
    k.r14 = r.r14;
    k.r15 = r.r15;
    k.rip = r.rip;
    k.rflags = (r.eflags & USER_RFLAGS) | INITIAL_RFLAGS;
    let s = &mut sync.sregs;
    let mut dirty = false;
    if s.cr3 != cr3 {
        s.cr3 = cr3;
        dirty = true;
    }
    let cs = if r.cs == u64::from(USER32_CS) {
        USER32_CS
    } else {
        USER_CS
    };
    if s.cs.dpl != 3 || s.cs.selector != cs || s.ss.dpl != 3 {
        s.cs = code_segment(cs, 3);
        s.ss = data_segment(USER_DS, 3);
        dirty = true;
    }
    for (seg, sel, base) in [
        (&mut s.ds, r.ds, None),
        (&mut s.es, r.es, None),
        (&mut s.fs, r.fs, Some(r.fs_base)),
        (&mut s.gs, r.gs, Some(r.gs_base)),
    ] {
        let sel = if sel == u64::from(USER_DS) {
            USER_DS
        } else {
            0
        };
        if seg.selector != sel {
            let b = seg.base;
            *seg = data_segment(sel, 3);
            seg.base = b;
            dirty = true;
        }
        if let Some(base) = base {
            if seg.base != base {
                seg.base = base;
                dirty = true;
            }
        }
    }
    v.fd.set_sync_dirty_reg(SyncReg::Register);
    if dirty {
        v.fd.set_sync_dirty_reg(SyncReg::SystemRegister);
    }
}

/// Read the general registers and the segment state of a run's end into `regs`.
fn store(sync: &kvm_sync_regs, regs: &mut Regs) {
    let k = &sync.regs;
    let r = &mut regs.0;
    r.rax = k.rax;
    r.rbx = k.rbx;
    r.rcx = k.rcx;
    r.rdx = k.rdx;
    r.rsi = k.rsi;
    r.rdi = k.rdi;
    r.rsp = k.rsp;
    r.rbp = k.rbp;
    r.r8 = k.r8;
    r.r9 = k.r9;
    r.r10 = k.r10;
    r.r11 = k.r11;
    r.r12 = k.r12;
    r.r13 = k.r13;
    r.r14 = k.r14;
    r.r15 = k.r15;
    r.rip = k.rip;
    r.eflags = k.rflags;
    let s = &sync.sregs;
    r.fs_base = s.fs.base;
    r.gs_base = s.gs.base;
    r.ds = u64::from(s.ds.selector);
    r.es = u64::from(s.es.selector);
    r.fs = u64::from(s.fs.selector);
    r.gs = u64::from(s.gs.selector);
    if s.cs.dpl == 3 {
        r.cs = u64::from(s.cs.selector);
        r.ss = u64::from(s.ss.selector);
    }
}

/// The signal Linux sends for an exception vector raised in user mode.
fn vector_signal(vector: u8, rip: u64) -> SigInfo {
    let (signo, code, addr) = match vector {
        0 => (libc::SIGFPE, 1 /* FPE_INTDIV */, rip),
        1 => (libc::SIGTRAP, 2 /* TRAP_TRACE */, rip),
        3 => (libc::SIGTRAP, SI_KERNEL, 0),
        6 => (libc::SIGILL, 2 /* ILL_ILLOPN */, rip),
        11 | 12 => (libc::SIGBUS, SI_KERNEL, 0),
        16 | 19 => (libc::SIGFPE, 7 /* FPE_FLTINV */, rip),
        17 => (libc::SIGBUS, 1 /* BUS_ADRALN */, 0),
        _ => (libc::SIGSEGV, SI_KERNEL, 0),
    };
    SigInfo {
        signo,
        code,
        errno: 0,
        addr,
    }
}

impl Context for KvmContext {
    fn switch(&mut self, address_space: &dyn AddressSpace, regs: &mut Regs) -> Result<Event> {
        let cr3 = kvm_as(address_space)?.cr3();
        self.kick.tid.store(ready_this_thread(), Ordering::Release);
        self.vcpu()?;
        let KvmContext {
            machine,
            vcpu,
            kick,
        } = self;
        let v = vcpu.as_mut().ok_or(PlatformError::Unsupported("no vCPU"))?;
        load(v, cr3, regs);
        kick.in_app.store(true, Ordering::SeqCst);
        if kick.kicked.swap(false, Ordering::SeqCst) {
            kick.in_app.store(false, Ordering::SeqCst);
            return Ok(Event::Interrupt);
        }
        let exit = loop {
            let exit = match v.fd.run() {
                Ok(VcpuExit::IoOut(port, _)) => Exit::Out(port),
                Ok(VcpuExit::IoIn(port, _)) => Exit::In(port),
                Ok(VcpuExit::Intr) => Exit::Interrupted,
                Err(e) if e.errno() == libc::EINTR => Exit::Interrupted,
                Err(e) => {
                    kick.in_app.store(false, Ordering::SeqCst);
                    return Err(run_err(e));
                }
                Ok(other) => Exit::Other(format!("{other:?}")),
            };
            if let Exit::Interrupted = exit {
                v.fd.set_kvm_immediate_exit(0);
                consume_kick();
                let rip = v.fd.sync_regs_mut().regs.rip;
                if (CODE_VA..CODE_VA + 4096).contains(&rip) {
                    // Stopped between an event and the entry code's exit (the syscall or
                    // exception is half taken): finish it; the kick stays set for the next
                    // switch.
                    continue;
                }
            }
            break exit;
        };
        kick.in_app.store(false, Ordering::SeqCst);
        let sync: &kvm_sync_regs = v.fd.sync_regs_mut();
        let rip = sync.regs.rip;
        let kernel = sync.sregs.cs.dpl == 0;
        match exit {
            Exit::Interrupted => {
                // The application ran until the kick: what it did is kept.
                store(sync, regs);
                kick.kicked.store(false, Ordering::SeqCst);
                Ok(Event::Interrupt)
            }
            Exit::Out(SYSCALL_PORT) if rip == CODE_VA + SYSCALL_ENTRY + 2 => {
                store(sync, regs);
                let r = &mut regs.0;
                // As the syscall instruction left them: RCX the return address, R11 the flags.
                r.rip = r.rcx;
                r.eflags = r.r11;
                r.orig_rax = r.rax;
                r.rax = (-libc::ENOSYS) as u64;
                Ok(Event::Syscall)
            }
            Exit::Out(port)
                if kernel
                    && (VECTOR_PORT..VECTOR_PORT + IDT_VECTORS as u16).contains(&port)
                    && rip == vector_exit_rip((port - VECTOR_PORT) as u8) =>
            {
                let vector = (port - VECTOR_PORT) as u8;
                let frame = frame(
                    &machine.pool,
                    v.stack_page,
                    v.stack_va,
                    sync.regs.rsp,
                    vector,
                )?;
                let cr2 = sync.sregs.cr2;
                store(sync, regs);
                let r = &mut regs.0;
                r.rip = frame.rip;
                r.cs = frame.cs;
                r.eflags = frame.rflags;
                r.rsp = frame.rsp;
                r.ss = frame.ss;
                if frame.cs & 3 != 3 {
                    tracing::error!(
                        "kvm: vector {vector} in the platform's own code at {:#x} (cr2 {cr2:#x}, error {:#x})",
                        frame.rip,
                        frame.error
                    );
                    return Err(PlatformError::Unsupported(
                        "an exception in the kvm platform's ring-0 code",
                    ));
                }
                if vector == 14 {
                    let access = if frame.error & 0x10 != 0 {
                        Access::EXEC
                    } else if frame.error & 2 != 0 {
                        Access::WRITE
                    } else {
                        Access::READ
                    };
                    let code = if frame.error & 1 != 0 {
                        SEGV_ACCERR
                    } else {
                        SEGV_MAPERR
                    };
                    return Ok(Event::Fault {
                        addr: cr2,
                        access,
                        info: SigInfo {
                            signo: libc::SIGSEGV,
                            code,
                            errno: 0,
                            addr: cr2,
                        },
                    });
                }
                Ok(Event::Signal(vector_signal(vector, frame.rip)))
            }
            Exit::Out(_) | Exit::In(_) if !kernel => {
                // The application's own `in`/`out` on the one port ring 3 may use: the #GP
                // any other port gets.
                store(sync, regs);
                Ok(Event::Signal(vector_signal(13, rip)))
            }
            Exit::Out(port) | Exit::In(port) => {
                tracing::error!("kvm: unexpected port {port:#x} access at {rip:#x}");
                Err(PlatformError::Unsupported(
                    "the guest left through an unexpected port",
                ))
            }
            Exit::Other(what) => {
                tracing::error!("kvm: unexpected exit {what} at {rip:#x}");
                Err(PlatformError::Unsupported("unexpected KVM exit"))
            }
        }
    }

    fn fp_state(&mut self, _: &dyn AddressSpace) -> Result<FpState> {
        let v = self.vcpu()?;
        let x = v.fd.get_xsave().map_err(|e| PlatformError::Host {
            op: "KVM_GET_XSAVE",
            source: std::io::Error::from_raw_os_error(e.errno()),
        })?;
        let mut bytes = Vec::with_capacity(XSAVE_SIZE);
        for w in x.region.iter() {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        bytes.truncate(XSAVE_SIZE);
        Ok(FpState { bytes })
    }

    fn fp_state_size(&mut self, _: &dyn AddressSpace) -> Result<usize> {
        Ok(XSAVE_SIZE)
    }

    fn set_fp_state(&mut self, _: &dyn AddressSpace, fp: &FpState) -> Result<()> {
        let v = self.vcpu()?;
        set_xsave(v, fp)
    }

    fn reset_fp_state(&mut self, _: &dyn AddressSpace) -> Result<()> {
        let v = self.vcpu()?;
        set_xsave(v, &FpState::initial())
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        self.kick.clone()
    }
}

/// An exception frame as the CPU pushed it.
struct Frame {
    error: u64,
    rip: u64,
    cs: u64,
    rflags: u64,
    rsp: u64,
    ss: u64,
}

/// The frame the CPU pushed for `vector` at `rsp` on a vCPU's exception stack.
fn frame(
    pool: &machine::Pool,
    stack_page: u64,
    stack_va: u64,
    rsp: u64,
    vector: u8,
) -> Result<Frame> {
    let words = usize::from(has_error_code(vector)) + 5;
    let off = rsp
        .checked_sub(stack_va)
        .filter(|o| o % 8 == 0 && *o + words as u64 * 8 <= 4096)
        .ok_or(PlatformError::Unsupported(
            "an exception frame outside the vCPU's stack",
        ))?;
    let page = pool.entries(stack_page);
    let mut i = (off / 8) as usize;
    let mut next = || {
        let w = page[i].load(Ordering::Relaxed);
        i += 1;
        w
    };
    let error = if has_error_code(vector) { next() } else { 0 };
    Ok(Frame {
        error,
        rip: next(),
        cs: next(),
        rflags: next(),
        rsp: next(),
        ss: next(),
    })
}

impl Drop for KvmContext {
    fn drop(&mut self) {
        self.kick.run.store(std::ptr::null_mut(), Ordering::Release);
        if let Some(v) = self.vcpu.take() {
            self.machine.release_vcpu(v);
        }
    }
}

impl std::fmt::Debug for KvmContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KvmContext(vcpu={:?})",
            self.vcpu.as_ref().map(|v| v.index)
        )
    }
}

/// `_IO`/`_IOR`/`_IOW` of the KVM ioctl space (include/uapi/linux/kvm.h), for the request
/// numbers kvm-ioctls does not export.
const fn kvm_ioc(dir: u64, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | (0xae << 8) | nr
}
const IOC_NONE: u64 = 0;
const IOC_WRITE: u64 = 1;
const IOC_READ: u64 = 2;

/// The ioctl requests the platform makes, from building the VM (the sentry is confined by
/// then) to running it (vCPUs are made on demand): the sentry's seccomp filter allows these
/// and no other KVM request.
pub fn ioctls() -> Vec<u64> {
    use kvm_bindings::*;
    use std::mem::size_of;
    vec![
        kvm_ioc(IOC_NONE, 0x01, 0), // KVM_CREATE_VM
        kvm_ioc(IOC_NONE, 0x03, 0), // KVM_CHECK_EXTENSION
        kvm_ioc(IOC_NONE, 0x04, 0), // KVM_GET_VCPU_MMAP_SIZE
        kvm_ioc(IOC_READ | IOC_WRITE, 0x05, size_of::<kvm_cpuid2>()), // KVM_GET_SUPPORTED_CPUID
        kvm_ioc(IOC_WRITE, 0x46, size_of::<kvm_userspace_memory_region>()), // KVM_SET_USER_MEMORY_REGION
        kvm_ioc(IOC_NONE, 0x80, 0),                                         // KVM_RUN
        kvm_ioc(IOC_NONE, 0x41, 0),                                         // KVM_CREATE_VCPU
        kvm_ioc(IOC_READ, 0x81, size_of::<kvm_regs>()),                     // KVM_GET_REGS
        kvm_ioc(IOC_READ, 0x83, size_of::<kvm_sregs>()),                    // KVM_GET_SREGS
        kvm_ioc(IOC_WRITE, 0x84, size_of::<kvm_sregs>()),                   // KVM_SET_SREGS
        kvm_ioc(IOC_WRITE, 0x89, size_of::<kvm_msrs>()),                    // KVM_SET_MSRS
        kvm_ioc(IOC_WRITE, 0x8b, size_of::<kvm_signal_mask>()),             // KVM_SET_SIGNAL_MASK
        kvm_ioc(IOC_WRITE, 0x90, size_of::<kvm_cpuid2>()),                  // KVM_SET_CPUID2
        kvm_ioc(IOC_READ, 0xa4, size_of::<kvm_xsave>()),                    // KVM_GET_XSAVE
        kvm_ioc(IOC_WRITE, 0xa5, size_of::<kvm_xsave>()),                   // KVM_SET_XSAVE
        kvm_ioc(IOC_WRITE, 0xa7, size_of::<kvm_xcrs>()),                    // KVM_SET_XCRS
        KVM_SET_DEVICE_ATTR,
        KVM_HAS_DEVICE_ATTR,
    ]
}

const KVM_SET_DEVICE_ATTR: u64 = kvm_ioc(
    IOC_WRITE,
    0xe1,
    std::mem::size_of::<kvm_bindings::kvm_device_attr>(),
);
const KVM_HAS_DEVICE_ATTR: u64 = kvm_ioc(
    IOC_WRITE,
    0xe3,
    std::mem::size_of::<kvm_bindings::kvm_device_attr>(),
);
const KVM_SET_SIGNAL_MASK: u64 = kvm_ioc(
    IOC_WRITE,
    0x8b,
    std::mem::size_of::<kvm_bindings::kvm_signal_mask>(),
);
