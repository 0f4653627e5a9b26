//! The kernel: sandbox-wide state, the task table, processes and signals.

pub mod clone;
pub mod exec;
pub mod futex;
pub mod ipc;
pub mod process;
pub mod seccomp;
pub mod signal;
pub mod task;
pub mod time;
pub mod timer;
pub mod wait;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use platform::{MemoryFile, Platform};

use crate::errno::Errno;
use crate::loader::vdso::Vdso;
use crate::vfs::Dentry;

pub use process::ThreadGroup;
pub use task::{ExitStatus, Task, TaskHandle};

/// The kernel release the sandbox reports (never the host's).
pub const RELEASE: &str = "4.4.0-palisade";
pub const VERSION: &str = "#1 SMP Sun Jan 10 15:06:54 PST 2016";
/// Most tasks a sandbox may have at once (each is a host thread): its threads-max.
pub const MAX_TASKS: usize = 2048;
/// Largest pid (Linux's default pid_max).
pub const PID_MAX: i32 = 4_194_304;

/// Every live thread and every process not yet reaped, by id.
#[derive(Default)]
pub struct Tasks {
    last: i32,
    pub threads: HashMap<i32, Arc<TaskHandle>>,
    pub groups: HashMap<i32, Arc<ThreadGroup>>,
}

impl Tasks {
    /// The next free id after the last one given (ids of threads and of unreaped processes
    /// are in use).
    pub fn alloc(&mut self) -> Option<i32> {
        for _ in 0..PID_MAX {
            self.last = if self.last >= PID_MAX - 1 {
                1
            } else {
                self.last + 1
            };
            let id = self.last;
            if !self.threads.contains_key(&id) && !self.groups.contains_key(&id) {
                return Some(id);
            }
        }
        None
    }

    /// Processes whose real uid is `uid` (RLIMIT_NPROC counts them).
    pub fn count_for_uid(&self, uid: u32) -> usize {
        self.groups
            .values()
            .filter(|g| {
                let st = g.lock();
                st.uid == uid && st.zombie.is_none()
            })
            .count()
    }
}

/// State shared by every task of a sandbox.
pub struct Kernel {
    pub platform: Arc<dyn Platform>,
    pub mf: Arc<MemoryFile>,
    pub vdso: Arc<Vdso>,
    pub root: Arc<Dentry>,
    pub hostname: Mutex<Vec<u8>>,
    /// The NIS domain name uname reports ("(none)" until setdomainname).
    pub domainname: Mutex<Vec<u8>>,
    pub strace: bool,
    cpus: std::sync::atomic::AtomicUsize,
    host_cpus: usize,
    /// Memory the sandbox reports (bytes): the host's, or the container's limit if lower.
    mem_total: std::sync::atomic::AtomicU64,
    host_mem: u64,
    tasks: Mutex<Tasks>,
    pub futexes: futex::Futexes,
    pub timers: timer::Timers,
    /// The abstract unix socket namespace.
    pub unix: crate::net::unix::Namespace,
    /// The TCP/IP stack, started by the first inet socket.
    net: std::sync::OnceLock<Arc<crate::net::stack::Stack>>,
    /// `--network host`: inet sockets are host sockets (`net::hostinet`).
    host_network: std::sync::atomic::AtomicBool,
    /// System V IPC objects.
    pub ipc: Arc<ipc::IpcNamespace>,
    init_status: Mutex<Option<ExitStatus>>,
    init_cv: Condvar,
    /// Syscalls already reported as unimplemented (logged once each).
    enosys_logged: Mutex<HashSet<u64>>,
    /// Init is a pid namespace's init (see `BootConfig::init_unkillable`).
    pub init_unkillable: bool,
    /// Who hears of the exit of processes started from outside (`Sandbox::exec`).
    exit_watchers: Mutex<HashMap<i32, ExitWatcher>>,
    /// The sandbox is paused: no task returns to application code.
    frozen: std::sync::atomic::AtomicBool,
}

/// Told the exit status of a process started from outside the sandbox.
pub type ExitWatcher = Box<dyn FnOnce(ExitStatus) + Send>;

/// A process as the outside sees it (`palisade ps`).
#[derive(Clone)]
pub struct ProcessInfo {
    pub pid: i32,
    pub ppid: i32,
    pub uid: u32,
    pub threads: usize,
    pub comm: String,
    /// The process's root directory (which container's tree it lives in).
    pub root: Option<Arc<Dentry>>,
}

/// Resource limits a container was given, which the sandbox reports as its machine's size.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// Bytes of memory (the cgroup's memory limit).
    pub memory: Option<u64>,
    /// CPUs (the CPU quota rounded up, or the cpuset's size).
    pub cpus: Option<usize>,
}

impl Kernel {
    /// The sandbox's TCP/IP stack (started on first use).
    pub fn net(&self) -> Arc<crate::net::stack::Stack> {
        self.net
            .get_or_init(|| crate::net::stack::Stack::new(None))
            .clone()
    }

    /// Whether inet sockets are host sockets (`--network host`).
    pub fn host_network(&self) -> bool {
        self.host_network.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Make inet sockets host sockets, at boot.
    pub fn use_host_network(&self) {
        self.host_network
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Start the stack at boot with the interface it takes over.
    pub fn start_net(&self, nic: Option<crate::net::stack::NicConfig>) {
        let _ = self.net.set(crate::net::stack::Stack::new(nic));
    }

    pub fn new(
        platform: Arc<dyn Platform>,
        vdso: Arc<Vdso>,
        root: Arc<Dentry>,
        hostname: Vec<u8>,
        strace: bool,
        init_unkillable: bool,
        limits: Limits,
    ) -> Arc<Kernel> {
        let mf = platform.memory_file().clone();
        let host_cpus = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
            .map(|set| {
                (0..nix::sched::CpuSet::count())
                    .filter(|&c| set.is_set(c).unwrap_or(false))
                    .count()
            })
            .unwrap_or(1);
        let cpus = limits.cpus.map_or(host_cpus, |c| c.min(host_cpus)).max(1);
        let host_mem = nix::sys::sysinfo::sysinfo()
            .map(|i| i.ram_total())
            .unwrap_or(0);
        let mem_total = limits.memory.map_or(host_mem, |m| m.min(host_mem));
        Arc::new(Kernel {
            cpus: cpus.into(),
            host_cpus,
            mem_total: mem_total.into(),
            host_mem,
            platform,
            mf,
            vdso,
            root,
            hostname: Mutex::new(hostname),
            domainname: Mutex::new(b"(none)".to_vec()),
            strace,
            tasks: Mutex::new(Tasks::default()),
            futexes: futex::Futexes::default(),
            timers: timer::Timers::default(),
            unix: crate::net::unix::Namespace::default(),
            net: std::sync::OnceLock::new(),
            host_network: std::sync::atomic::AtomicBool::new(false),
            ipc: Arc::default(),
            init_status: Mutex::new(None),
            init_cv: Condvar::new(),
            enosys_logged: Mutex::new(HashSet::new()),
            init_unkillable,
            exit_watchers: Mutex::new(HashMap::new()),
            frozen: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn tasks(&self) -> MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
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
        self.cpus.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Memory the sandbox reports (/proc/meminfo, sysinfo), in bytes: the host's, or the
    /// container's memory limit if lower; the host's taken once at boot.
    pub fn mem_total(&self) -> u64 {
        self.mem_total.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The container's memory limit, if it is below the host's memory.
    pub fn memory_limit(&self) -> Option<u64> {
        let m = self.mem_total();
        (m < self.host_mem).then_some(m)
    }

    /// The container's CPU limit (whole CPUs), if it is below the host's CPUs.
    pub fn cpu_limit(&self) -> Option<usize> {
        let c = self.cpus();
        (c < self.host_cpus).then_some(c)
    }

    /// The container's limits changed (`palisade update`): the sandbox's size follows those
    /// given (None: unchanged; a limit above the host's size is the host's).
    pub fn update_limits(&self, limits: Limits) {
        use std::sync::atomic::Ordering::Relaxed;
        if let Some(c) = limits.cpus {
            self.cpus.store(c.min(self.host_cpus).max(1), Relaxed);
        }
        if let Some(m) = limits.memory {
            self.mem_total.store(m.min(self.host_mem), Relaxed);
        }
    }

    /// Run a task on a host thread of its own.
    pub fn spawn(&self, task: Task) -> Result<(), Errno> {
        std::thread::Builder::new()
            .name(format!("task-{}", task.tid))
            .stack_size(1 << 20)
            .spawn(move || task.run())
            .map(|_| ())
            .map_err(|_| Errno::EAGAIN)
    }

    fn init_exited(&self, st: ExitStatus) {
        *self.init_status.lock().unwrap_or_else(|e| e.into_inner()) = Some(st);
        self.init_cv.notify_all();
    }

    /// Block until the sandbox's init process has exited; its status.
    pub fn wait_init(&self) -> ExitStatus {
        let mut g = self.init_status.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(st) = *g {
                return st;
            }
            g = self.init_cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Have `w` told of the exit of process `pid` (which has no parent in the sandbox).
    pub fn watch_exit(&self, pid: i32, w: ExitWatcher) {
        lock(&self.exit_watchers).insert(pid, w);
    }

    pub fn unwatch_exit(&self, pid: i32) {
        lock(&self.exit_watchers).remove(&pid);
    }

    /// A parentless process other than init has exited: it is reaped at once, and whoever
    /// started it hears the status.
    fn orphan_exited(&self, tg: &Arc<ThreadGroup>, status: ExitStatus) {
        self.tasks().groups.remove(&tg.tgid);
        let w = lock(&self.exit_watchers).remove(&tg.tgid);
        if let Some(w) = w {
            w(status);
        }
    }

    /// Send signal `sig` from outside the sandbox (`palisade kill`) to process `pid`, or
    /// to every process. SIGKILL and SIGSTOP reach even a protected init. ESRCH if there
    /// is no such live process.
    pub fn signal_from_host(&self, pid: Option<i32>, sig: i32) -> Result<(), Errno> {
        if !(1..=64).contains(&sig) {
            return Err(Errno::EINVAL);
        }
        let targets: Vec<Arc<ThreadGroup>> = {
            let tasks = self.tasks();
            tasks
                .groups
                .values()
                .filter(|g| pid.is_none_or(|p| g.tgid == p) && g.lock().zombie.is_none())
                .cloned()
                .collect()
        };
        if targets.is_empty() {
            return Err(Errno::ESRCH);
        }
        for g in targets {
            let info = signal::SigInfo::from_process(sig, signal::SI_USER, 0, 0);
            self.send_group(&g, info, true);
        }
        Ok(())
    }

    /// Whether any address space maps `obj` shared with write allowed now or by mprotect.
    pub fn mapped_shared_writable(&self, obj: &dyn crate::mm::Mappable) -> bool {
        let groups: Vec<Arc<ThreadGroup>> = self.tasks().groups.values().cloned().collect();
        groups.iter().any(|g| {
            let mm = g.lock().view.mm.upgrade();
            mm.is_some_and(|mm| mm.maps_shared_writable(obj))
        })
    }

    /// Every live process.
    pub fn processes(&self) -> Vec<ProcessInfo> {
        let groups: Vec<Arc<ThreadGroup>> = self.tasks().groups.values().cloned().collect();
        let mut v: Vec<ProcessInfo> = groups
            .iter()
            .filter_map(|g| {
                let st = g.lock();
                if st.zombie.is_some() {
                    return None;
                }
                Some(ProcessInfo {
                    pid: g.tgid,
                    ppid: st.parent.as_ref().map_or(0, |p| p.tgid),
                    uid: st.uid,
                    threads: st.threads.len(),
                    comm: String::from_utf8_lossy(&st.view.comm).into_owned(),
                    root: st
                        .view
                        .fs
                        .upgrade()
                        .map(|fs| fs.lock().unwrap_or_else(|e| e.into_inner()).root.clone()),
                })
            })
            .collect();
        v.sort_by_key(|p| p.pid);
        v
    }

    /// Pause (true) or resume (false) every task: a paused task does not return to
    /// application code (tasks blocked in the sentry stay blocked) until resumed or killed.
    pub fn set_frozen(&self, frozen: bool) {
        self.frozen
            .store(frozen, std::sync::atomic::Ordering::SeqCst);
        let threads: Vec<Arc<TaskHandle>> = self.tasks().threads.values().cloned().collect();
        for t in threads {
            if frozen {
                t.kick();
            } else {
                t.waiter.notify();
            }
        }
    }

    pub fn frozen(&self) -> bool {
        self.frozen.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
