//! The few Linux ABI constants the `libc` crate does not export for x86-64, defined once here.

/// `AUDIT_ARCH_X86_64` (linux/audit.h): EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `SEGV_MAPERR` / `SEGV_ACCERR` (asm-generic/siginfo.h).
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
/// `NT_X86_XSTATE` (linux/elf.h): the XSAVE area regset.
pub const NT_X86_XSTATE: usize = 0x202;
/// `SI_KERNEL` (asm-generic/siginfo.h).
pub const SI_KERNEL: i32 = 0x80;
/// `SS_AUTODISARM` (linux/signal.h): clear the alternate stack on signal delivery.
pub const SS_AUTODISARM: i32 = 1 << 31;
/// `arch_prctl` codes (asm/prctl.h).
pub const ARCH_SET_GS: u64 = 0x1001;
pub const ARCH_SET_FS: u64 = 0x1002;
pub const ARCH_GET_FS: u64 = 0x1003;
pub const ARCH_GET_GS: u64 = 0x1004;
