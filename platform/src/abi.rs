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

/// The x86-64 signal frame (`struct rt_sigframe`, arch/x86/include/asm/sigframe.h): the
/// handler's return address, then `struct ucontext`, then `siginfo_t`. Offsets from the frame.
pub mod sigframe {
    /// `struct ucontext`: uc_flags, uc_link, uc_stack, uc_mcontext, uc_sigmask.
    pub const UC: u64 = 8;
    pub const UC_STACK: u64 = UC + 16;
    pub const UC_MCONTEXT: u64 = UC + 40;
    pub const UC_SIGMASK: u64 = UC_MCONTEXT + 256;
    /// The kernel's struct ucontext is 304 bytes; siginfo follows it.
    pub const INFO: u64 = UC_SIGMASK + 8;
    pub const SIZE: u64 = INFO + 128;
    /// `gregs` indices of `struct sigcontext` (REG_R8 ... REG_CR2), then the fpstate pointer.
    pub const REG_R8: u64 = 0;
    pub const REG_RDI: u64 = 8;
    pub const REG_RAX: u64 = 13;
    pub const REG_RCX: u64 = 14;
    pub const REG_RSP: u64 = 15;
    pub const REG_RIP: u64 = 16;
    pub const REG_EFL: u64 = 17;
    pub const REG_CSGSFS: u64 = 18;
    pub const REG_OLDMASK: u64 = 21;
    pub const FPREGS: u64 = 23;
    /// `struct _fpx_sw_bytes` in the XSAVE area's software-reserved bytes: magic1,
    /// extended_size, xfeatures, xstate_size; and the magic after the area.
    pub const FPX_SW: usize = 464;
    pub const FPX_SW_XFEATURES: usize = FPX_SW + 8;
    pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
    pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
    /// The XSAVE header (XSTATE_BV, XCOMP_BV, reserved): 64 bytes after the legacy area.
    pub const XSAVE_HEADER: usize = 512;
    /// The flags rt_sigreturn takes from the frame (FIX_EFLAGS: AC OF DF TF SF ZF AF PF CF
    /// RF); IF and the always-one bit are set.
    pub const FIX_EFLAGS: u64 = 0x0005_4dd5;
    pub const EFLAGS_FIXED: u64 = 0x202;
}
