//! The kernel: the sandbox-wide state and tasks.

pub mod task;
pub mod time;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use platform::{MemoryFile, Platform};

use crate::loader::vdso::Vdso;
use crate::vfs::Dentry;

pub use task::{ExitStatus, Task};

/// The kernel release the sandbox reports (never the host's).
pub const RELEASE: &str = "4.4.0-palisade";
pub const VERSION: &str = "#1 SMP Sun Jan 10 15:06:54 PST 2016";

/// State shared by every task of a sandbox.
pub struct Kernel {
    pub platform: Arc<dyn Platform>,
    pub mf: Arc<MemoryFile>,
    pub vdso: Arc<Vdso>,
    pub root: Arc<Dentry>,
    pub hostname: Mutex<Vec<u8>>,
    pub strace: bool,
    cpus: usize,
    /// Syscalls already reported as unimplemented (logged once each).
    enosys_logged: Mutex<HashSet<u64>>,
}

impl Kernel {
    pub fn new(
        platform: Arc<dyn Platform>,
        vdso: Arc<Vdso>,
        root: Arc<Dentry>,
        hostname: Vec<u8>,
        strace: bool,
    ) -> Arc<Kernel> {
        let mf = platform.memory_file().clone();
        let cpus = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
            .map(|set| {
                (0..nix::sched::CpuSet::count())
                    .filter(|&c| set.is_set(c).unwrap_or(false))
                    .count()
            })
            .unwrap_or(1)
            .max(1);
        Arc::new(Kernel {
            cpus,
            platform,
            mf,
            vdso,
            root,
            hostname: Mutex::new(hostname),
            strace,
            enosys_logged: Mutex::new(HashSet::new()),
        })
    }

    /// Log an unimplemented syscall, once per number.
    pub fn log_enosys(&self, nr: u64, name: &str) {
        let mut s = self.enosys_logged.lock().unwrap_or_else(|e| e.into_inner());
        if s.insert(nr) {
            tracing::warn!("unsupported syscall {name} ({nr}): returning ENOSYS");
        }
    }

    /// CPUs the sandbox reports (sched_getaffinity, nproc): the sentry's own affinity mask,
    /// taken at boot with a syscall, never by reading host files.
    pub fn cpus(&self) -> usize {
        self.cpus
    }
}
