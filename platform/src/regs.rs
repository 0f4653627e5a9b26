//! x86-64 register state as the sentry sees it.

/// General purpose registers, FS/GS base and segment selectors (the kernel's `user_regs_struct`).
#[derive(Clone, Copy)]
pub struct Regs(pub libc::user_regs_struct);

impl Default for Regs {
    fn default() -> Self {
        // SAFETY: user_regs_struct is plain old data of integers; all-zero is a valid value.
        Regs(unsafe { std::mem::zeroed() })
    }
}

impl std::fmt::Debug for Regs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.0;
        write!(
            f,
            "rip={:#x} rsp={:#x} rax={:#x} orig_rax={:#x} rdi={:#x} rsi={:#x} rdx={:#x} fs_base={:#x}",
            r.rip, r.rsp, r.rax, r.orig_rax, r.rdi, r.rsi, r.rdx, r.fs_base
        )
    }
}

impl Regs {
    /// Syscall arguments in the x86-64 syscall ABI order.
    pub fn syscall_args(&self) -> [u64; 6] {
        let r = &self.0;
        [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9]
    }
}

/// The size of the XSAVE area we move (covers x87, SSE, AVX, AVX-512 and PKRU on current CPUs).
pub const XSAVE_SIZE: usize = 4096;

/// Floating point and vector state in XSAVE layout (the first 512 bytes are the FXSAVE legacy area).
#[derive(Clone)]
pub struct FpState {
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for FpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FpState({} bytes)", self.bytes.len())
    }
}

impl FpState {
    /// The state `execve` leaves: x87 control word 0x37f, MXCSR 0x1f80, everything else zero.
    pub fn initial() -> FpState {
        let mut bytes = vec![0u8; XSAVE_SIZE];
        bytes[0..2].copy_from_slice(&0x37fu16.to_le_bytes());
        bytes[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        bytes[28..32].copy_from_slice(&0xffffu32.to_le_bytes()); // MXCSR_MASK
                                                                 // XSTATE_BV (offset 512): x87 | SSE.
        bytes[512..520].copy_from_slice(&3u64.to_le_bytes());
        FpState { bytes }
    }
}

/// Number of 8-byte fields of `user_regs_struct`.
pub(crate) const REG_FIELDS: usize = 27;

impl Regs {
    /// What a platform leaves in the fields it did not read (see `Context::complete_regs`).
    /// Non-canonical, so no address the sentry accepts (a TLS base, a stack) can equal it.
    pub const UNKNOWN: u64 = 0xbad0_bad0_bad0_bad0;

    /// The fields in `user_regs_struct` order (the order of the kernel's `struct user`, so
    /// field `i` is at byte offset `8 * i` for PTRACE_PEEKUSER/POKEUSER).
    pub(crate) fn words(&self) -> [u64; REG_FIELDS] {
        let r = &self.0;
        [
            r.r15, r.r14, r.r13, r.r12, r.rbp, r.rbx, r.r11, r.r10, r.r9, r.r8, r.rax, r.rcx,
            r.rdx, r.rsi, r.rdi, r.orig_rax, r.rip, r.cs, r.eflags, r.rsp, r.ss, r.fs_base,
            r.gs_base, r.ds, r.es, r.fs, r.gs,
        ]
    }

    pub(crate) fn from_words(w: [u64; REG_FIELDS]) -> Regs {
        let mut r = Regs::default();
        let f = &mut r.0;
        [
            f.r15, f.r14, f.r13, f.r12, f.rbp, f.rbx, f.r11, f.r10, f.r9, f.r8, f.rax, f.rcx,
            f.rdx, f.rsi, f.rdi, f.orig_rax, f.rip, f.cs, f.eflags, f.rsp, f.ss, f.fs_base,
            f.gs_base, f.ds, f.es, f.fs, f.gs,
        ] = w;
        r
    }
}
