//! seccomp for the application: the sentry runs each task's filters (classic BPF programs
//! over `struct seccomp_data`) before every syscall, as Linux's `__seccomp_filter` does, and
//! carries out the verdict itself: nothing reaches the host. Strict mode allows read, write,
//! exit and rt_sigreturn.

use std::sync::Arc;

use crate::errno::Errno;

/// `struct sock_filter`: one classic BPF instruction.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

// Instruction classes and fields (linux/filter.h, linux/bpf_common.h).
const BPF_LD: u16 = 0x00;
const BPF_LDX: u16 = 0x01;
const BPF_ST: u16 = 0x02;
const BPF_STX: u16 = 0x03;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_MISC: u16 = 0x07;
const BPF_W: u16 = 0x00;
const BPF_IMM: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_MEM: u16 = 0x60;
const BPF_LEN: u16 = 0x80;
const BPF_K: u16 = 0x00;
const BPF_X: u16 = 0x08;
const BPF_A: u16 = 0x10;
const BPF_ADD: u16 = 0x00;
const BPF_SUB: u16 = 0x10;
const BPF_MUL: u16 = 0x20;
const BPF_DIV: u16 = 0x30;
const BPF_OR: u16 = 0x40;
const BPF_AND: u16 = 0x50;
const BPF_LSH: u16 = 0x60;
const BPF_RSH: u16 = 0x70;
const BPF_NEG: u16 = 0x80;
const BPF_XOR: u16 = 0xa0;
const BPF_JA: u16 = 0x00;
const BPF_JEQ: u16 = 0x10;
const BPF_JGT: u16 = 0x20;
const BPF_JGE: u16 = 0x30;
const BPF_JSET: u16 = 0x40;
const BPF_TAX: u16 = 0x00;
const BPF_TXA: u16 = 0x80;
/// Scratch memory words (BPF_MEMWORDS).
const MEMWORDS: u32 = 16;
/// Instructions per program (BPF_MAXINSNS).
pub const MAX_INSNS: usize = 4096;
/// Instructions over a task's whole chain of filters, counting 4 per filter
/// (MAX_INSNS_PER_PATH).
const MAX_INSNS_PER_PATH: usize = (1 << 18) / 8;
/// `sizeof(struct seccomp_data)`.
const DATA_LEN: u32 = 64;

pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_KILL_THREAD: u32 = 0x0000_0000;
pub const RET_TRAP: u32 = 0x0003_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub const RET_TRACE: u32 = 0x7ff0_0000;
pub const RET_LOG: u32 = 0x7ffc_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ACTION_FULL: u32 = 0xffff_0000;
const RET_DATA: u32 = 0x0000_ffff;
/// AUDIT_ARCH_X86_64.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// One installed filter, and the filters installed before it (which run after it).
#[derive(Debug)]
pub struct Filter {
    prog: Vec<SockFilter>,
    /// Actions other than ALLOW are logged (SECCOMP_FILTER_FLAG_LOG).
    pub log: bool,
    prev: Option<Arc<Filter>>,
    /// Instructions of this chain, as Linux counts them against MAX_INSNS_PER_PATH.
    path_len: usize,
}

/// A task's seccomp mode.
#[derive(Clone, Debug)]
pub enum Mode {
    /// SECCOMP_MODE_STRICT: read, write, exit and rt_sigreturn only.
    Strict,
    /// SECCOMP_MODE_FILTER: the newest filter of the chain.
    Filter(Arc<Filter>),
}

impl Mode {
    /// PR_GET_SECCOMP's value.
    pub fn number(&self) -> u64 {
        match self {
            Mode::Strict => 1,
            Mode::Filter(_) => 2,
        }
    }

    /// Filters installed (/proc/PID/status's Seccomp_filters).
    pub fn filters(&self) -> usize {
        let Mode::Filter(f) = self else { return 0 };
        let mut n = 0;
        let mut cur = Some(f.clone());
        while let Some(f) = cur {
            n += 1;
            cur = f.prev.clone();
        }
        n
    }
}

/// What happens to a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Allowed, and logged.
    Log,
    /// Not run; it returns -errno.
    Errno(i32),
    /// Not run; SIGSYS (SYS_SECCOMP) with this in si_errno.
    Trap(u16),
    /// Not run; -ENOSYS (a tracer or a user-space notifier would have been asked; the sentry
    /// has neither).
    Enosys,
    KillThread,
    KillProcess,
}

/// Check a program as Linux's bpf_check_classic and seccomp_check_filter do: EINVAL if it
/// is empty or too long, uses an instruction seccomp does not allow, reads outside
/// `seccomp_data` or the scratch memory, jumps out of it, or does not end in a return.
pub fn check(prog: &[SockFilter]) -> Result<(), Errno> {
    if prog.is_empty() || prog.len() > MAX_INSNS {
        return Err(Errno::EINVAL);
    }
    let n = prog.len();
    for (pc, ins) in prog.iter().enumerate() {
        let code = ins.code;
        let ok = match code {
            c if c == BPF_LD | BPF_W | BPF_ABS => ins.k < DATA_LEN && ins.k & 3 == 0,
            c if c == BPF_LD | BPF_W | BPF_LEN || c == BPF_LDX | BPF_W | BPF_LEN => true,
            c if c == BPF_RET | BPF_K || c == BPF_RET | BPF_A => true,
            c if c == BPF_ALU | BPF_DIV | BPF_K => ins.k != 0,
            c if c == BPF_ALU | BPF_LSH | BPF_K || c == BPF_ALU | BPF_RSH | BPF_K => ins.k < 32,
            c if c & 0x07 == BPF_ALU => {
                let op = c & 0xf0;
                let src = c & BPF_X;
                (c & !(0xf0 | BPF_X)) == BPF_ALU
                    && match op {
                        BPF_ADD | BPF_SUB | BPF_MUL | BPF_DIV | BPF_OR | BPF_AND | BPF_XOR
                        | BPF_LSH | BPF_RSH => true,
                        BPF_NEG => src == 0,
                        _ => false,
                    }
            }
            c if c == BPF_LD | BPF_IMM || c == BPF_LDX | BPF_IMM => true,
            c if c == BPF_MISC | BPF_TAX || c == BPF_MISC | BPF_TXA => true,
            c if c == BPF_LD | BPF_MEM || c == BPF_LDX | BPF_MEM || c == BPF_ST || c == BPF_STX => {
                ins.k < MEMWORDS
            }
            c if c == BPF_JMP | BPF_JA => (ins.k as usize) < n - pc - 1,
            c if c & 0x07 == BPF_JMP => {
                let op = c & 0xf0;
                (c & !(0xf0 | BPF_X)) == BPF_JMP
                    && matches!(op, BPF_JEQ | BPF_JGT | BPF_JGE | BPF_JSET)
                    && pc + 1 + (ins.jt as usize) < n
                    && pc + 1 + (ins.jf as usize) < n
            }
            _ => false,
        };
        if !ok {
            return Err(Errno::EINVAL);
        }
    }
    match prog[n - 1].code {
        c if c == BPF_RET | BPF_K || c == BPF_RET | BPF_A => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

impl Filter {
    /// A checked program installed on top of `prev`. ENOMEM if the chain would be longer
    /// than Linux allows.
    pub fn new(
        prog: Vec<SockFilter>,
        log: bool,
        prev: Option<Arc<Filter>>,
    ) -> Result<Arc<Filter>, Errno> {
        check(&prog)?;
        let path_len = prog.len() + 4 + prev.as_ref().map_or(0, |p| p.path_len);
        if path_len > MAX_INSNS_PER_PATH {
            return Err(Errno::ENOMEM);
        }
        Ok(Arc::new(Filter {
            prog,
            log,
            prev,
            path_len,
        }))
    }

    /// Whether `other` is this filter or one installed before it (TSYNC's condition).
    pub fn descends_from(self: &Arc<Self>, other: &Arc<Filter>) -> bool {
        let mut cur = Some(self.clone());
        while let Some(f) = cur {
            if Arc::ptr_eq(&f, other) {
                return true;
            }
            cur = f.prev.clone();
        }
        false
    }

    /// Run every filter of the chain, newest first, on the syscall described by `data`;
    /// the return value that wins (the lowest action as a signed number, the newest filter's
    /// on a tie) and whether the filter that gave it asked for logging.
    fn run_all(self: &Arc<Self>, data: &[u8; DATA_LEN as usize]) -> (u32, bool) {
        let mut best: Option<(u32, bool)> = None;
        let mut cur = Some(self.clone());
        while let Some(f) = cur {
            let ret = run(&f.prog, data);
            let action = (ret & RET_ACTION_FULL) as i32;
            if best.is_none_or(|(b, _)| action < (b & RET_ACTION_FULL) as i32) {
                best = Some((ret, f.log));
            }
            cur = f.prev.clone();
        }
        best.unwrap_or((RET_ALLOW, false))
    }

    /// The verdict on syscall `nr` with `args`, made at instruction pointer `ip`.
    pub fn evaluate(self: &Arc<Self>, nr: u64, args: &[u64; 6], ip: u64) -> Verdict {
        let data = seccomp_data(nr, args, ip);
        let (ret, log) = self.run_all(&data);
        let verdict = verdict(ret);
        if log && !matches!(verdict, Verdict::Allow) {
            tracing::info!("seccomp: syscall {nr} at {ip:#x}: {verdict:?}");
        }
        verdict
    }
}

/// The verdict a filter's return value stands for.
fn verdict(ret: u32) -> Verdict {
    let data = ret & RET_DATA;
    match ret & RET_ACTION_FULL {
        RET_ALLOW => Verdict::Allow,
        RET_LOG => Verdict::Log,
        // Linux caps the errno at MAX_ERRNO.
        RET_ERRNO => Verdict::Errno(data.min(4095) as i32),
        RET_TRAP => Verdict::Trap(data as u16),
        RET_TRACE | RET_USER_NOTIF => Verdict::Enosys,
        RET_KILL_THREAD => Verdict::KillThread,
        // KILL_PROCESS, and any action Linux does not know.
        _ => Verdict::KillProcess,
    }
}

/// Strict mode's verdict: read, write, exit and rt_sigreturn, else the thread is killed.
pub fn strict(nr: u64) -> Verdict {
    match nr as i64 {
        libc::SYS_read | libc::SYS_write | libc::SYS_exit | libc::SYS_rt_sigreturn => {
            Verdict::Allow
        }
        _ => Verdict::KillThread,
    }
}

/// `struct seccomp_data` for a syscall: nr, arch, instruction_pointer, args.
fn seccomp_data(nr: u64, args: &[u64; 6], ip: u64) -> [u8; DATA_LEN as usize] {
    let mut d = [0u8; DATA_LEN as usize];
    d[0..4].copy_from_slice(&(nr as u32).to_le_bytes());
    d[4..8].copy_from_slice(&AUDIT_ARCH_X86_64.to_le_bytes());
    d[8..16].copy_from_slice(&ip.to_le_bytes());
    for (i, a) in args.iter().enumerate() {
        d[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    d
}

/// Interpret a checked program. Division by a zero X ends it with 0 (KILL_THREAD), as in
/// Linux's translation of classic BPF.
fn run(prog: &[SockFilter], data: &[u8; DATA_LEN as usize]) -> u32 {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; MEMWORDS as usize];
    let mut pc = 0usize;
    while let Some(ins) = prog.get(pc) {
        pc += 1;
        let k = ins.k;
        let code = ins.code;
        match code & 0x07 {
            BPF_LD => {
                a = match code & 0xe0 {
                    BPF_ABS => {
                        let o = k as usize;
                        u32::from_le_bytes([data[o], data[o + 1], data[o + 2], data[o + 3]])
                    }
                    BPF_LEN => DATA_LEN,
                    BPF_MEM => mem[k as usize],
                    _ => k,
                }
            }
            BPF_LDX => {
                x = match code & 0xe0 {
                    BPF_LEN => DATA_LEN,
                    BPF_MEM => mem[k as usize],
                    _ => k,
                }
            }
            BPF_ST => mem[k as usize] = a,
            BPF_STX => mem[k as usize] = x,
            BPF_ALU => {
                let src = if code & BPF_X != 0 { x } else { k };
                a = match code & 0xf0 {
                    BPF_ADD => a.wrapping_add(src),
                    BPF_SUB => a.wrapping_sub(src),
                    BPF_MUL => a.wrapping_mul(src),
                    BPF_DIV => match a.checked_div(src) {
                        Some(v) => v,
                        None => return 0,
                    },
                    BPF_OR => a | src,
                    BPF_AND => a & src,
                    BPF_XOR => a ^ src,
                    BPF_LSH => a.wrapping_shl(src),
                    BPF_RSH => a.wrapping_shr(src),
                    BPF_NEG => a.wrapping_neg(),
                    _ => return 0,
                }
            }
            BPF_JMP => {
                let src = if code & BPF_X != 0 { x } else { k };
                let taken = match code & 0xf0 {
                    BPF_JA => {
                        pc += k as usize;
                        continue;
                    }
                    BPF_JEQ => a == src,
                    BPF_JGT => a > src,
                    BPF_JGE => a >= src,
                    BPF_JSET => a & src != 0,
                    _ => return 0,
                };
                pc += if taken { ins.jt } else { ins.jf } as usize;
            }
            BPF_RET => return if code & 0x18 == BPF_A { a } else { k },
            BPF_MISC => {
                if code & 0xf8 == BPF_TXA {
                    a = x;
                } else {
                    x = a;
                }
            }
            _ => return 0,
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(code: u16, k: u32) -> SockFilter {
        SockFilter {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }

    #[test]
    fn a_filter_on_the_syscall_number() {
        // getpid -> ERRNO(1), otherwise allow.
        let prog = vec![
            stmt(BPF_LD | BPF_W | BPF_ABS, 0),
            jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_getpid as u32, 0, 1),
            stmt(BPF_RET | BPF_K, RET_ERRNO | 1),
            stmt(BPF_RET | BPF_K, RET_ALLOW),
        ];
        let Ok(f) = Filter::new(prog, false, None) else {
            panic!("a valid program refused");
        };
        let args = [0; 6];
        assert_eq!(
            f.evaluate(libc::SYS_getpid as u64, &args, 0),
            Verdict::Errno(1)
        );
        assert_eq!(f.evaluate(libc::SYS_read as u64, &args, 0), Verdict::Allow);
        // A newer filter that kills wins over the older one's errno.
        let kill = vec![stmt(BPF_RET | BPF_K, RET_KILL_PROCESS)];
        let Ok(g) = Filter::new(kill, false, Some(f.clone())) else {
            panic!("a valid program refused");
        };
        assert_eq!(
            g.evaluate(libc::SYS_read as u64, &args, 0),
            Verdict::KillProcess
        );
        assert!(g.descends_from(&f) && !f.descends_from(&g));
    }

    #[test]
    fn bad_programs_are_refused() {
        let ret = stmt(BPF_RET | BPF_K, RET_ALLOW);
        assert_eq!(check(&[]), Err(Errno::EINVAL));
        assert_eq!(
            check(&[stmt(BPF_LD | BPF_W | BPF_ABS, 2), ret]),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            check(&[stmt(BPF_LD | BPF_W | BPF_ABS, 64), ret]),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            check(&[stmt(BPF_ALU | BPF_DIV | BPF_K, 0), ret]),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            check(&[stmt(BPF_LD | BPF_MEM, 16), ret]),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            check(&[jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), ret]),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            check(&[stmt(BPF_LD | BPF_W | BPF_ABS, 0)]),
            Err(Errno::EINVAL)
        );
        // BPF_MOD is classic BPF but not seccomp's.
        assert_eq!(
            check(&[stmt(BPF_ALU | 0x90 | BPF_K, 3), ret]),
            Err(Errno::EINVAL)
        );
        assert_eq!(check(&[stmt(BPF_LD | BPF_W | BPF_ABS, 60), ret]), Ok(()));
    }
}
