//! Tasks: an application thread, its registers, and the loop that runs it.

use std::sync::Arc;

use platform::{Context, Event, Regs};

use super::Kernel;
use crate::errno::Errno;
use crate::mm::{FaultError, MemoryManager};
use crate::syscalls;
use crate::vfs::{Creds, Dentry, FdTable, FsContext};

/// How a task (and, for the last one, the sandbox) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled(i32),
}

impl ExitStatus {
    /// The status a shell would report: the exit code, or 128+N after signal N.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c & 0xff,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }
}

/// A signal disposition as rt_sigaction stores it (the kernel's struct k_sigaction).
#[derive(Debug, Clone, Copy, Default)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// Signals whose default action is to do nothing.
pub fn default_ignored(sig: i32) -> bool {
    matches!(
        sig,
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT
    )
}

pub const RLIMIT_COUNT: usize = 16;

pub struct Task {
    pub k: Arc<Kernel>,
    pub tid: i32,
    pub tgid: i32,
    pub ppid: i32,
    pub mm: Arc<MemoryManager>,
    pub fds: Arc<FdTable>,
    pub fs: FsContext,
    pub creds: Creds,
    pub regs: Regs,
    pub ctx: Box<dyn Context>,
    pub sigactions: [SigAction; 64],
    pub sigmask: u64,
    /// Signals sent to the task that it cannot receive yet (handlers run once signal delivery
    /// exists); kept so rt_sigpending reports them.
    pub sigpending: u64,
    pub altstack: libc::stack_t,
    pub rlimits: [libc::rlimit; RLIMIT_COUNT],
    pub clear_child_tid: u64,
    pub robust_list: (u64, u64),
    pub comm: Vec<u8>,
    pub exe: Option<Arc<Dentry>>,
    pub exit: Option<ExitStatus>,
    /// Set by handlers that replace all registers (execve, rt_sigreturn): the dispatcher must
    /// not write a return value.
    pub regs_replaced: bool,
}

impl Task {
    /// Run the task until it exits.
    pub fn run(&mut self) -> ExitStatus {
        loop {
            let space = self.mm.address_space().clone();
            match self.ctx.switch(space.as_ref(), &mut self.regs) {
                Ok(Event::Syscall) => syscalls::dispatch(self),
                Ok(Event::Fault { addr, access, .. }) => {
                    if let Err(e) = self.mm.handle_fault(addr, access) {
                        let sig = match e {
                            FaultError::Bus => libc::SIGBUS,
                            FaultError::Host => {
                                tracing::error!("host failure resolving a fault at {addr:#x}");
                                libc::SIGKILL
                            }
                            _ => libc::SIGSEGV,
                        };
                        self.force_signal(sig);
                    }
                }
                Ok(Event::Signal(info)) => self.force_signal(info.signo),
                Ok(Event::Interrupt) => {}
                Err(e) => {
                    tracing::error!("platform failure: {e}");
                    eprintln!("palisade: platform failure: {e}");
                    self.exit = Some(ExitStatus::Signaled(libc::SIGKILL));
                }
            }
            if let Some(s) = self.exit {
                return s;
            }
        }
    }

    /// A synchronous signal raised by the CPU. Until signal delivery exists, the default action
    /// (terminate, with a core dump for these signals) is taken even if a handler is installed.
    pub fn force_signal(&mut self, sig: i32) {
        tracing::debug!(sig, regs = ?self.regs, "fatal synchronous signal");
        self.exit = Some(ExitStatus::Signaled(sig));
    }

    /// A signal sent to this task by kill/tgkill.
    pub fn send_signal(&mut self, sig: i32) {
        if sig == 0 {
            return;
        }
        let act = self.sigactions[(sig - 1) as usize];
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            if sig == libc::SIGKILL {
                self.exit = Some(ExitStatus::Signaled(sig));
            }
            return;
        }
        if act.handler == SIG_IGN || (act.handler == SIG_DFL && default_ignored(sig)) {
            return;
        }
        if act.handler == SIG_DFL && self.sigmask & (1 << (sig - 1)) == 0 {
            self.exit = Some(ExitStatus::Signaled(sig));
            return;
        }
        self.sigpending |= 1 << (sig - 1);
    }

    pub fn rlimit(&self, res: u32) -> libc::rlimit {
        self.rlimits
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

impl Task {
    /// Replace the task's program (execve). On failure the old program is untouched.
    pub fn exec(
        &mut self,
        path: Vec<u8>,
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
    ) -> Result<(), Errno> {
        let k = self.k.clone();
        let space = k.platform.new_address_space().map_err(|e| {
            tracing::error!("creating an address space: {e}");
            Errno::ENOMEM
        })?;
        let mm = Arc::new(MemoryManager::new(
            k.mf.clone(),
            space,
            k.platform.min_user_address(),
            k.platform.max_user_address(),
        ));
        let args = crate::loader::ExecArgs {
            fs: &self.fs,
            creds: self.creds,
            path,
            argv,
            envp,
            stack_limit: self
                .rlimit(libc::RLIMIT_STACK)
                .rlim_cur
                .clamp(128 << 10, 1 << 30),
        };
        let image = crate::loader::load(&mm, &k.vdso, args)?;
        // Point of no return.
        self.mm = mm;
        let mut regs = k.platform.initial_regs();
        regs.0.rip = image.entry;
        regs.0.rsp = image.sp;
        self.regs = regs;
        if let Err(e) = self.ctx.reset_fp_state(self.mm.address_space().as_ref()) {
            tracing::error!("resetting FPU state: {e}");
        }
        self.fds.close_on_exec();
        for a in self.sigactions.iter_mut() {
            if a.handler != SIG_IGN {
                *a = SigAction::default();
            }
        }
        self.altstack = libc::stack_t {
            ss_sp: std::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        self.robust_list = (0, 0);
        self.clear_child_tid = 0;
        let base = image.exe.name.clone();
        self.comm = base.into_iter().take(15).collect();
        self.exe = Some(image.exe);
        Ok(())
    }
}
