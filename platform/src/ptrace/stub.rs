//! The stub: the few instructions a stub process runs of its own, and how a stub is born.
//!
//! A stub process is a raw `clone` of the sentry that unmaps every page except the stub page,
//! stops itself, and from then on only executes application code (under `PTRACE_SYSEMU`) or the
//! stub's `syscall; int3` sequence when the sentry injects a syscall. A seccomp filter kills the
//! stub if a syscall is ever executed from any other address.

use std::sync::OnceLock;

use crate::{PlatformError, Result, PAGE_SIZE};

// The stub code. Position independent, uses no stack after the unmaps.
//   rdi = start of the stub page, rsi = end of the stub page, rdx = top of the user address space.
std::arch::global_asm!(
    ".pushsection .text.palisade_stub, \"ax\"",
    ".globl palisade_stub_code_start",
    ".globl palisade_stub_syscall",
    ".globl palisade_stub_clone",
    ".globl palisade_stub_batch",
    ".globl palisade_stub_park",
    ".globl palisade_stub_sig_enter",
    ".globl palisade_stub_sig_enter_quiet",
    ".globl palisade_stub_sig_return",
    ".globl palisade_stub_code_end",
    ".p2align 12",
    "palisade_stub_code_start:",
    "mov r12, rdi",
    "mov r13, rsi",
    "mov r14, rdx",
    // munmap(0, stub_start): everything the sentry had below the stub page.
    "mov eax, 11",
    "xor edi, edi",
    "mov rsi, r12",
    "syscall",
    // munmap(stub_end, top - stub_end): everything above it.
    "mov eax, 11",
    "mov rdi, r13",
    "mov rsi, r14",
    "sub rsi, r13",
    "syscall",
    // kill(getpid(), SIGSTOP): tell the tracer we are ready.
    "mov eax, 39",
    "syscall",
    "mov edi, eax",
    "mov esi, 19",
    "mov eax, 62",
    "syscall",
    "palisade_stub_syscall:",
    "syscall",
    "int3",
    "jmp palisade_stub_syscall",
    // clone(): the parent traps back to its tracer; the new thread (rax = 0) sleeps in
    // pause() until the sentry thread that will trace it attaches (its SIGSTOP ends the
    // pause). Sleeping, not spinning: the thread shares a CPU with its tracers.
    "palisade_stub_clone:",
    "syscall",
    "test rax, rax",
    "jz 2f",
    "int3",
    "jmp palisade_stub_syscall",
    "palisade_stub_park:",
    "2:",
    "mov eax, 34",
    "syscall",
    "jmp 2b",
    // A batch of syscalls: rdi = table of (nr, a0..a5) entries, 7 words each, rsi = count.
    // The table is in the mailbox page, which the stub maps read-only: the application's
    // threads can read it but never change an entry. The loop stops at the first syscall
    // that fails; then a trap tells the tracer it is done, rax = 0 or that failure (-errno)
    // and r14 = how many entries succeeded.
    "palisade_stub_batch:",
    "mov r12, rdi",
    "mov r13, rsi",
    "xor r14d, r14d",
    "3:",
    "cmp r14, r13",
    "jae 4f",
    "mov rax, [r12]",
    "mov rdi, [r12 + 8]",
    "mov rsi, [r12 + 16]",
    "mov rdx, [r12 + 24]",
    "mov r10, [r12 + 32]",
    "mov r8, [r12 + 40]",
    "mov r9, [r12 + 48]",
    "syscall",
    "cmp rax, -4095",
    "jae 5f",
    "add r12, 56",
    "inc r14",
    "jmp 3b",
    "4:",
    "xor eax, eax",
    "5:",
    "int3",
    "jmp palisade_stub_syscall",
    // Signal delivery (see `SignalTrampolines`): rax = the frame the sentry filled in, rip
    // here; every other register is the interrupted code's. Save them into the frame's
    // mcontext (rax, rsp and rip are there already), the flags too, then the FPU state with
    // XSAVE where the frame's fpstate pointer says, and enter the handler with a fresh FPU
    // state (PKRU kept), DF and TF clear, rdi = signo, rsi = &siginfo, rdx = &ucontext,
    // rax = 0, as Linux does. The handler's address is in the word at frame - 16.
    "palisade_stub_sig_enter:",
    "mov rsp, rax",
    "mov [rsp + {G} + 0], r8",
    "mov [rsp + {G} + 8], r9",
    "mov [rsp + {G} + 16], r10",
    "mov [rsp + {G} + 24], r11",
    "mov [rsp + {G} + 32], r12",
    "mov [rsp + {G} + 40], r13",
    "mov [rsp + {G} + 48], r14",
    "mov [rsp + {G} + 56], r15",
    "mov [rsp + {G} + 64], rdi",
    "mov [rsp + {G} + 72], rsi",
    "mov [rsp + {G} + 80], rbp",
    "mov [rsp + {G} + 88], rbx",
    "mov [rsp + {G} + 96], rdx",
    "mov [rsp + {G} + 112], rcx",
    "pushfq",
    "pop rcx",
    "mov [rsp + {G} + 136], rcx",
    "and rcx, -0x501",
    "push rcx",
    "popfq",
    // Up to here a single-step trap (the application had set TF) may stop the thread.
    "palisade_stub_sig_enter_quiet:",
    "mov rcx, [rsp + {G} + 184]",
    "mov eax, [rcx + {XF}]",
    "mov edx, [rcx + {XF} + 4]",
    "xsave64 [rcx]",
    "and eax, -0x201",
    "lea rdi, [rip + palisade_stub_fp_init]",
    "xrstor64 [rdi]",
    "mov edi, [rsp + {INFO}]",
    "lea rsi, [rsp + {INFO}]",
    "lea rdx, [rsp + {UC}]",
    "mov rcx, [rsp + {G} + 112]",
    "xor eax, eax",
    "jmp qword ptr [rsp - 16]",
    // rt_sigreturn, once the sentry has taken the mask from the frame: rsp = &ucontext (the
    // handler's ret popped the return address), rip here. Restore the FPU state from the
    // frame's fpstate (XRSTOR with the features its software bytes name), then every register
    // from the mcontext, the flags filtered as Linux does, through an IRETQ built in the
    // siginfo bytes, which no longer matter.
    "palisade_stub_sig_return:",
    "mov rcx, [rsp + {GU} + 184]",
    "mov eax, [rcx + {XF}]",
    "mov edx, [rcx + {XF} + 4]",
    "xrstor64 [rcx]",
    "mov rax, [rsp + {GU} + 128]",
    "mov [rsp + {IR}], rax",
    "mov qword ptr [rsp + {IR} + 8], 0",
    "mov word ptr [rsp + {IR} + 8], cs",
    "mov rax, [rsp + {GU} + 136]",
    "and rax, {FIX}",
    "or rax, {FIXED}",
    "mov [rsp + {IR} + 16], rax",
    "mov rax, [rsp + {GU} + 120]",
    "mov [rsp + {IR} + 24], rax",
    "mov qword ptr [rsp + {IR} + 32], 0",
    "mov word ptr [rsp + {IR} + 32], ss",
    "mov r8, [rsp + {GU} + 0]",
    "mov r9, [rsp + {GU} + 8]",
    "mov r10, [rsp + {GU} + 16]",
    "mov r11, [rsp + {GU} + 24]",
    "mov r12, [rsp + {GU} + 32]",
    "mov r13, [rsp + {GU} + 40]",
    "mov r14, [rsp + {GU} + 48]",
    "mov r15, [rsp + {GU} + 56]",
    "mov rdi, [rsp + {GU} + 64]",
    "mov rsi, [rsp + {GU} + 72]",
    "mov rbp, [rsp + {GU} + 80]",
    "mov rbx, [rsp + {GU} + 88]",
    "mov rdx, [rsp + {GU} + 96]",
    "mov rax, [rsp + {GU} + 104]",
    "mov rcx, [rsp + {GU} + 112]",
    "lea rsp, [rsp + {IR}]",
    "iretq",
    // The FPU state a handler starts with: x87 and SSE in their initial state with the
    // default control words (XSTATE_BV = 0), as the kernel's init_fpstate.
    ".p2align 6",
    "palisade_stub_fp_init:",
    ".short 0x37f",
    ".zero 22",
    ".long 0x1f80",
    ".zero 548",
    "palisade_stub_code_end:",
    ".popsection",
    G = const sf::UC_MCONTEXT,
    GU = const sf::UC_MCONTEXT - sf::UC,
    IR = const sf::INFO - sf::UC,
    UC = const sf::UC,
    INFO = const sf::INFO,
    XF = const sf::FPX_SW_XFEATURES,
    FIX = const sf::FIX_EFLAGS,
    FIXED = const sf::EFLAGS_FIXED,
);

use crate::abi::sigframe as sf;

extern "C" {
    /// glibc (2.35+) registers an rseq area in each thread's TLS; these locate it.
    static __rseq_offset: isize;
    static __rseq_size: u32;
    static palisade_stub_code_start: u8;
    static palisade_stub_syscall: u8;
    static palisade_stub_clone: u8;
    static palisade_stub_batch: u8;
    static palisade_stub_park: u8;
    static palisade_stub_sig_enter: u8;
    static palisade_stub_sig_enter_quiet: u8;
    static palisade_stub_sig_return: u8;
    static palisade_stub_code_end: u8;
}

/// The rseq signature glibc registers with on x86 (`RSEQ_SIG`).
const RSEQ_SIG: u32 = 0x5305_3053;
/// `RSEQ_FLAG_UNREGISTER` (linux/rseq.h).
const RSEQ_FLAG_UNREGISTER: u32 = 1;

/// Top of the x86-64 user address space with 4-level paging.
pub const USER_TOP: u64 = 0x7fff_ffff_f000;

/// The stub page, mapped once in the sentry at a fixed address so every stub inherits it.
#[derive(Debug)]
pub struct StubPage {
    pub start: u64,
    pub end: u64,
    /// Address of the `syscall` instruction injected syscalls run.
    pub syscall_addr: u64,
    /// Address of the `syscall` instruction that injected `clone`s run.
    pub clone_addr: u64,
    /// The pause loop new threads sleep in until attached (and parked threads until killed).
    pub park_addr: u64,
    /// Entry of the batch loop (a table of syscalls in the mailbox page).
    pub batch_addr: u64,
    /// The mailbox page each stub maps (read-only) from the memory file, right above the stub
    /// page.
    pub mailbox: u64,
    /// The signal trampolines: delivery's entry, the end of its part that runs with the
    /// application's flags (a single-step trap may stop it there), and sigreturn's entry.
    pub sig_enter: u64,
    pub sig_enter_quiet: u64,
    pub sig_return: u64,
}

static STUB: OnceLock<std::result::Result<StubPage, String>> = OnceLock::new();

pub fn stub_page() -> Result<&'static StubPage> {
    STUB.get_or_init(|| map_stub_page().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|_| PlatformError::Unsupported("cannot map the stub page"))
}

fn map_stub_page() -> Result<StubPage> {
    // The three symbols are defined by the global_asm above; we only take their addresses.
    let (code_start, code_sys, code_clone, code_batch, code_end) = (
        &raw const palisade_stub_code_start as usize,
        &raw const palisade_stub_syscall as usize,
        &raw const palisade_stub_clone as usize,
        &raw const palisade_stub_batch as usize,
        &raw const palisade_stub_code_end as usize,
    );
    let (sig_enter, sig_quiet, sig_return) = (
        &raw const palisade_stub_sig_enter as usize,
        &raw const palisade_stub_sig_enter_quiet as usize,
        &raw const palisade_stub_sig_return as usize,
    );
    let code_len = code_end - code_start;
    let len = PAGE_SIZE;
    assert!(code_len as u64 <= len);
    // Highest free slot below the top of the address space: the application may use everything
    // below the stub page.
    let mut addr = USER_TOP - 16 * PAGE_SIZE;
    for _ in 0..4096 {
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping; on success we own a
        // fresh anonymous page.
        let p = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p != libc::MAP_FAILED && p as u64 == addr {
            // SAFETY: copying our own code bytes into the fresh page we just mapped.
            unsafe {
                std::ptr::copy_nonoverlapping(code_start as *const u8, p.cast::<u8>(), code_len);
            }
            // SAFETY: changing the protection of our own page to read+exec.
            if unsafe { libc::mprotect(p, len as usize, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
                return Err(PlatformError::last("mprotect(stub)"));
            }
            return Ok(StubPage {
                start: addr,
                end: addr + len,
                syscall_addr: addr + (code_sys - code_start) as u64,
                clone_addr: addr + (code_clone - code_start) as u64,
                batch_addr: addr + (code_batch - code_start) as u64,
                park_addr: addr + (&raw const palisade_stub_park as usize - code_start) as u64,
                mailbox: addr + len,
                sig_enter: addr + (sig_enter - code_start) as u64,
                sig_enter_quiet: addr + (sig_quiet - code_start) as u64,
                sig_return: addr + (sig_return - code_start) as u64,
            });
        }
        if p != libc::MAP_FAILED {
            // SAFETY: the kernel placed our page elsewhere (old kernels); unmap it and go on.
            unsafe { libc::munmap(p, len as usize) };
        }
        addr -= 1 << 24;
    }
    Err(PlatformError::Unsupported(
        "no free address for the stub page",
    ))
}

/// The seccomp filter of a stub: allow a syscall only if its instruction pointer lies in the
/// stub page; kill the whole stub process otherwise.
fn stub_filter(stub: &StubPage) -> Vec<libc::sock_filter> {
    const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const JGE: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
    const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    let stmt = |code, k| libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |code, k, jt, jf| libc::sock_filter { code, jt, jf, k };
    // seccomp_data: nr @0, arch @4, instruction_pointer @8 (lo) / @12 (hi).
    let (lo, hi) = (stub.start as u32, (stub.start >> 32) as u32);
    let lo_end = lo.wrapping_add((stub.end - stub.start) as u32);
    vec![
        stmt(LD_W_ABS, 4),
        jump(JEQ, crate::abi::AUDIT_ARCH_X86_64, 0, 6),
        stmt(LD_W_ABS, 12),
        jump(JEQ, hi, 0, 4),
        stmt(LD_W_ABS, 8),
        jump(JGE, lo, 0, 2),
        jump(JGE, lo_end, 1, 0),
        stmt(RET, libc::SECCOMP_RET_ALLOW),
        stmt(RET, libc::SECCOMP_RET_KILL_PROCESS),
    ]
}

/// Create a new stub process traced by the calling thread. Returns its pid once it has stopped
/// itself, ready for syscall injection.
pub fn spawn_stub(memfd: i32) -> Result<i32> {
    let stub = stub_page()?;
    let filter = stub_filter(stub);
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut _,
    };
    let rseq = current_rseq();
    // SAFETY: a raw clone without CLONE_VM: the child gets a copy-on-write copy of our memory and
    // runs only `stub_child`, which makes raw syscalls and never returns into Rust code.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::SIGCHLD as u64,
            0u64,
            0u64,
            0u64,
            0u64,
        )
    };
    if pid < 0 {
        return Err(PlatformError::last("clone(stub)"));
    }
    if pid == 0 {
        // SAFETY: we are the freshly cloned child; see `stub_child`.
        unsafe { stub_child(memfd, &prog, stub, rseq) }
    }
    let pid = pid as i32;
    let status = super::wait_stopped(pid)?;
    if !libc::WIFSTOPPED(status) || libc::WSTOPSIG(status) != libc::SIGSTOP {
        return Err(PlatformError::UnexpectedStop { tid: pid, status });
    }
    let opts = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;
    // SAFETY: pid is our stopped tracee; SETOPTIONS takes the options in `data`.
    if unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0, opts as usize) } != 0 {
        return Err(PlatformError::last("ptrace(SETOPTIONS)"));
    }
    Ok(pid)
}

/// The calling thread's rseq area and size, if glibc registered one.
fn current_rseq() -> Option<(usize, u32)> {
    // SAFETY: reading two glibc-provided constants.
    let (offset, size) = unsafe { (__rseq_offset, __rseq_size) };
    if size == 0 {
        return None;
    }
    let mut fs_base: usize = 0;
    // SAFETY: ARCH_GET_FS writes the thread pointer to the given address.
    if unsafe { libc::syscall(libc::SYS_arch_prctl, crate::abi::ARCH_GET_FS, &mut fs_base) } != 0 {
        return None;
    }
    Some((fs_base.wrapping_add_signed(offset), size))
}

/// Undo glibc's rseq registration `rseq` (from `current_rseq`) of the calling thread. Makes
/// raw syscalls only.
fn unregister_rseq(rseq: Option<(usize, u32)>) {
    let Some((area, len)) = rseq else { return };
    // glibc registers 32 bytes (the original struct rseq) whatever `__rseq_size` says; the
    // kernel wants the registered length back, so try both.
    // SAFETY: rseq unregistration only compares its arguments with the registration.
    unsafe {
        if libc::syscall(
            libc::SYS_rseq,
            area,
            len.max(32),
            RSEQ_FLAG_UNREGISTER,
            RSEQ_SIG,
        ) != 0
        {
            libc::syscall(libc::SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
        }
    }
}

/// Give up the calling thread's rseq registration: a tracer thread is switched out and back
/// in on every trap, and each time the kernel would update its rseq area on the way back to
/// user mode (~1% of a trap here). glibc then answers `sched_getcpu` through the vDSO.
pub fn drop_rseq() {
    unregister_rseq(current_rseq());
}

/// The child side of `spawn_stub`.
///
/// # Safety
/// Must only be called in the child of a raw clone. Makes raw syscalls only: no allocation, no
/// locks, no unwinding, since other threads of the parent may have held locks at clone time.
unsafe fn stub_child(
    memfd: i32,
    prog: &libc::sock_fprog,
    stub: &StubPage,
    rseq: Option<(usize, u32)>,
) -> ! {
    // SAFETY: plain syscalls on our own process; failures end the child, which the parent sees.
    unsafe {
        // The child inherits the thread's rseq registration, whose area is about to be unmapped:
        // the kernel would then kill the stub with SIGSEGV on its next return to user mode.
        unregister_rseq(rseq);
        libc::syscall(
            libc::SYS_prctl,
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL,
            0,
            0,
            0,
        );
        // Own session: terminal signals aimed at the sentry's process group never reach a stub.
        libc::syscall(libc::SYS_setsid);
        if libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
            libc::syscall(libc::SYS_exit_group, 120);
        }
        // Keep only the memory file: the stub must hold no other sentry descriptor.
        if memfd > 0 {
            libc::syscall(libc::SYS_close_range, 0, memfd as u32 - 1, 0);
        }
        libc::syscall(libc::SYS_close_range, memfd as u32 + 1, u32::MAX, 0);
        libc::syscall(libc::SYS_prctl, libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            prog as *const libc::sock_fprog,
        ) != 0
        {
            libc::syscall(libc::SYS_exit_group, 121);
        }
        // From here on only stub-page code may make syscalls.
        let entry: extern "C" fn(u64, u64, u64) -> ! = std::mem::transmute(stub.start as usize);
        entry(stub.start, stub.end, USER_TOP)
    }
}
