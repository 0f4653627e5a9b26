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
