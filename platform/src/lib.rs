//! Platforms run application code and report back each syscall, fault and signal.
//!
//! The sentry drives a task with one loop, the same on every backend:
//!
//! ```text
//! loop { match ctx.switch(&address_space, &mut regs)? { Event::Syscall => .., Event::Fault{..} => .. } }
//! ```
//!
//! Almost all `unsafe` code of Palisade lives in this crate; each block says why it is sound.

pub mod abi;
pub mod host;
pub mod hostsock;
pub mod kvm;
pub mod memfile;
pub mod ptrace;
mod regs;

use std::any::Any;
use std::sync::Arc;

pub use memfile::MemoryFile;
pub use regs::{FpState, Regs};

/// Page size of the application's address space.
pub const PAGE_SIZE: u64 = 4096;

/// Errors of a platform operation. These are host-level failures, never the app's fault.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("host syscall {op} failed: {source}")]
    Host {
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("stub process {pid} died unexpectedly (wait status {status:#x})")]
    StubDied { pid: i32, status: i32 },
    #[error("unexpected stop of stub thread {tid}: wait status {status:#x}")]
    UnexpectedStop { tid: i32, status: i32 },
    #[error("{0}")]
    Unsupported(&'static str),
}

impl PlatformError {
    pub(crate) fn last(op: &'static str) -> Self {
        PlatformError::Host {
            op,
            source: std::io::Error::last_os_error(),
        }
    }
}

pub type Result<T> = std::result::Result<T, PlatformError>;

/// The kind of memory access that faulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Access {
    pub const READ: Access = Access {
        read: true,
        write: false,
        exec: false,
    };
    pub const WRITE: Access = Access {
        read: false,
        write: true,
        exec: false,
    };
    pub const EXEC: Access = Access {
        read: false,
        write: false,
        exec: true,
    };
}

/// Memory protection of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Prot {
    pub const NONE: Prot = Prot {
        read: false,
        write: false,
        exec: false,
    };

    pub fn from_bits(prot: u64) -> Prot {
        Prot {
            read: prot & libc::PROT_READ as u64 != 0,
            write: prot & libc::PROT_WRITE as u64 != 0,
            exec: prot & libc::PROT_EXEC as u64 != 0,
        }
    }

    pub fn bits(self) -> i32 {
        let mut p = 0;
        if self.read {
            p |= libc::PROT_READ;
        }
        if self.write {
            p |= libc::PROT_WRITE;
        }
        if self.exec {
            p |= libc::PROT_EXEC;
        }
        p
    }

    /// Whether an access of kind `a` is allowed. On x86-64 write implies read and
    /// exec implies read, as the MMU cannot express write-only or exec-only pages.
    pub fn allows(self, a: Access) -> bool {
        let readable = self.read || self.write || self.exec;
        (!a.read || readable) && (!a.write || self.write) && (!a.exec || self.exec)
    }

    pub fn without_write(self) -> Prot {
        Prot {
            write: false,
            ..self
        }
    }
}

/// Signal information as the platform observed it (a subset of `siginfo_t`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SigInfo {
    pub signo: i32,
    pub code: i32,
    pub errno: i32,
    /// `si_addr` for fault signals.
    pub addr: u64,
}

/// What stopped the application.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// The app executed `syscall`; the number is in `regs.orig_rax`, the return address in `rip`.
    Syscall,
    /// A page fault the sentry may be able to resolve.
    Fault {
        addr: u64,
        access: Access,
        info: SigInfo,
    },
    /// A synchronous signal raised by the CPU (SIGILL, SIGFPE, SIGTRAP, SIGBUS...).
    Signal(SigInfo),
    /// The sentry asked for the task to be interrupted (`Context::interrupt`).
    Interrupt,
}

/// An application address space: what is mapped where. Ranges of the memory file are
/// mapped at page-aligned application addresses.
pub trait AddressSpace: Send + Sync + Any {
    /// Map `len` bytes of the memory file at `offset` to `addr`, replacing what was there.
    fn map_file(&self, addr: u64, len: u64, offset: u64, prot: Prot) -> Result<()>;
    /// Several `map_file`s at once: (addr, len, offset, prot) each. A platform may do them in
    /// one round trip to the address space.
    fn map_files(&self, maps: &[(u64, u64, u64, Prot)]) -> Result<()> {
        for &(addr, len, offset, prot) in maps {
            self.map_file(addr, len, offset, prot)?;
        }
        Ok(())
    }
    /// Remove any mapping in `[addr, addr+len)`.
    fn unmap(&self, addr: u64, len: u64) -> Result<()>;
    /// `unmap(addr, len)`, then `map_files(maps)`: a platform may do it all in one round trip.
    fn unmap_and_map(&self, addr: u64, len: u64, maps: &[(u64, u64, u64, Prot)]) -> Result<()> {
        self.unmap(addr, len)?;
        self.map_files(maps)
    }
    /// Change the protection of mapped pages in `[addr, addr+len)`.
    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<()>;
    /// Several `protect`s at once: (addr, len, prot) each.
    fn protect_ranges(&self, ranges: &[(u64, u64, Prot)]) -> Result<()> {
        for &(addr, len, prot) in ranges {
            self.protect(addr, len, prot)?;
        }
        Ok(())
    }
    /// The calling sentry thread is about to run application code in this address space:
    /// make what the platform needs for it now (later changes to the address space can then
    /// be made through it).
    fn prepare_thread(&self) -> Result<()> {
        Ok(())
    }
    /// The calling sentry thread will run no more application code in this address space (its
    /// task exited or moved to another address space): free what the platform holds for it.
    fn release_thread(&self) -> Result<()> {
        Ok(())
    }
    fn as_any(&self) -> &dyn Any;
}

/// Kicks a task out of application code from another thread: its `switch` returns
/// `Event::Interrupt` soon (at once if it is running, on the next switch otherwise).
pub trait Interrupter: Send + Sync {
    fn interrupt(&self);
}

/// The execution context of one task: runs the app until the next event.
pub trait Context: Send {
    /// Run the application with `regs` in `address_space` until it stops; `regs` is updated.
    fn switch(&mut self, address_space: &dyn AddressSpace, regs: &mut Regs) -> Result<Event>;
    /// Fill in the registers `switch` left unknown. After `Event::Syscall` a platform may
    /// hand back only what a syscall needs — `orig_rax`, `rax`, the six arguments, `rip` and
    /// `rsp` — and `Regs::UNKNOWN` in every other field (reading them all costs the ptrace
    /// platform a host call per syscall). Call this before reading any other field: to build
    /// a signal frame, copy a thread's registers, report a TLS base. Writing a field needs no
    /// call: the next `switch` takes every field that no longer holds what it handed back.
    fn complete_regs(&mut self, address_space: &dyn AddressSpace, regs: &mut Regs) -> Result<()> {
        let _ = (address_space, regs);
        Ok(())
    }
    /// Read the application's floating point state.
    fn fp_state(&mut self, address_space: &dyn AddressSpace) -> Result<FpState>;
    /// Size in bytes of the floating point state `fp_state` returns (the XSAVE area).
    fn fp_state_size(&mut self, address_space: &dyn AddressSpace) -> Result<usize> {
        Ok(self.fp_state(address_space)?.bytes.len())
    }
    /// Replace the application's floating point state.
    fn set_fp_state(&mut self, address_space: &dyn AddressSpace, fp: &FpState) -> Result<()>;
    /// Reset the floating point state as `execve` does.
    fn reset_fp_state(&mut self, address_space: &dyn AddressSpace) -> Result<()>;
    /// A handle other threads use to interrupt this context.
    fn interrupter(&self) -> Arc<dyn Interrupter>;
    /// The platform's signal trampolines, if it has them (see `SignalTrampolines`).
    fn signal_trampolines(
        &mut self,
        address_space: &dyn AddressSpace,
    ) -> Option<SignalTrampolines> {
        let _ = address_space;
        None
    }
    /// Whether the thread's registers other than rip, rsp and rax — those the delivery
    /// trampoline saves — still hold what `regs` says: the sentry changed none of them since
    /// the thread stopped.
    fn regs_untouched(&mut self, address_space: &dyn AddressSpace, regs: &Regs) -> bool {
        let _ = (address_space, regs);
        false
    }
}

/// Code of a platform's, in every address space, that moves a thread's registers between
/// the CPU and a signal frame (`abi::sigframe`) in user mode, as the kernel does on signal
/// delivery and rt_sigreturn: the platform then reads and writes only rip and rax (rather
/// than all registers and the FPU state, ~5 µs with ptrace).
///
/// `enter`: the sentry fills in the frame except the registers — rax, rsp and rip of the
/// interrupted code, cs/ss, the masks, the fpstate pointer (64-byte aligned, its software
/// bytes naming `xfeatures`, its XSAVE header zeroed, the trailing magic), the handler's
/// address at frame - 16 — and resumes the thread at `enter` with rax = the frame. The
/// trampoline saves the other registers, the flags and the FPU state and calls the handler.
///
/// `ret`: at rt_sigreturn, after checking the frame, the sentry resumes the thread at `ret`
/// with rsp unchanged (the frame's ucontext); the trampoline restores the FPU state and every
/// register from the frame. Faults in either are the application's (a bad frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalTrampolines {
    pub enter: u64,
    pub ret: u64,
    /// The XSAVE components the frame holds (`host::xsave_features`).
    pub xfeatures: u64,
}

/// A platform: creates address spaces and contexts.
pub trait Platform: Send + Sync {
    fn name(&self) -> &'static str;
    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>>;
    fn new_context(&self) -> Box<dyn Context>;
    /// The lowest address an application may map (mmap_min_addr).
    fn min_user_address(&self) -> u64 {
        0x10000
    }
    /// One past the highest address an application may map.
    fn max_user_address(&self) -> u64;
    /// Initial register state for a new application thread (segment selectors, flags).
    fn initial_regs(&self) -> Regs;
    fn memory_file(&self) -> &Arc<MemoryFile>;
}
