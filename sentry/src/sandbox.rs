//! A sandbox: its kernel, its file systems and its processes, as the CLI creates it (`do`, or
//! an OCI container's `create`), starts it, execs into it, signals, pauses and lists it.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use platform::kvm::KvmPlatform;
use platform::ptrace::PtracePlatform;
use platform::{MemoryFile, Platform};

use crate::errno::Errno;
use crate::kernel::seccomp::{Filter, Mode, SockFilter};
use crate::kernel::signal::SigAction;
use crate::kernel::{ExitStatus, Kernel, Task, TaskHandle, ThreadGroup};
use crate::vfs::mount::{Flags, Spec};
use crate::vfs::{self, Creds, Dentry, FdTable, FsContext, OpenFile};

/// A process to start in the sandbox: the container's init or a process exec'd into it.
pub struct ProcessSpec {
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    pub umask: u32,
    /// Capability sets (bit N = capability N): effective, permitted, inheritable. None: all
    /// of them for root, none for others (as a plain exec by that user).
    /// Effective, permitted, inheritable and bounding sets.
    pub caps: Option<[u64; 4]>,
    pub no_new_privs: bool,
    /// Resource limits to set: (RLIMIT_*, soft, hard).
    pub rlimits: Vec<(u32, u64, u64)>,
    pub stdio: Stdio,
    /// Host descriptors the process gets as its fds 3, 4... (runc's `--preserve-fds`).
    pub preserved: Vec<OwnedFd>,
}

/// A process's standard input, output and error.
pub enum Stdio {
    /// Host descriptors (pipes, files, a host terminal) for fds 0, 1 and 2.
    Host([OwnedFd; 3]),
    /// A terminal of the sandbox, relayed to the host terminal `host` (which the caller keeps
    /// raw): the process leads its session with the terminal as controlling terminal.
    Console { host: OwnedFd, rows: u16, cols: u16 },
}

/// A file system to mount over the root, in order.
#[derive(Debug)]
pub struct MountSpec {
    /// Absolute path inside the sandbox; created (with parents) if missing.
    pub dest: Vec<u8>,
    /// `tmpfs`, `proc`, `sysfs`, `devpts`, or `devfs` (the sentry's /dev: null, zero, full,
    /// random, urandom, tty, ptmx..., what an OCI `tmpfs` mount on /dev becomes).
    pub fstype: String,
    pub source: String,
    pub flags: Flags,
    /// File system options (size=, mode=...).
    pub data: String,
    /// Mount only if the mount point exists (else it is created, with its parents).
    pub optional: bool,
    /// For `bind`: the connection to the gofer serving the host directory or file (written
    /// through unless the mount is read-only).
    pub gofer: Option<OwnedFd>,
}

impl MountSpec {
    pub fn new(dest: &str, fstype: &str, source: &str, flags: Flags, data: &str) -> MountSpec {
        MountSpec {
            dest: dest.as_bytes().to_vec(),
            fstype: fstype.to_string(),
            source: source.to_string(),
            flags,
            data: data.to_string(),
            optional: false,
            gofer: None,
        }
    }

    /// The mounts of a sandbox started with `do` (and of a container whose configuration
    /// asks for the usual ones): /dev, /dev/shm, /dev/pts, /proc, /sys, each where the root
    /// has a directory for it.
    pub fn defaults() -> Vec<MountSpec> {
        let nosuid = Flags {
            nosuid: true,
            ..Default::default()
        };
        let nodev = Flags {
            nodev: true,
            ..nosuid
        };
        let noexec = Flags {
            noexec: true,
            ..nodev
        };
        vec![
            MountSpec::new("/dev", "devfs", "tmpfs", nosuid, "mode=755"),
            MountSpec::new("/dev/shm", "tmpfs", "shm", nodev, "mode=1777"),
            MountSpec::new(
                "/dev/pts",
                "devpts",
                "devpts",
                Flags {
                    noexec: true,
                    ..nosuid
                },
                "",
            ),
            MountSpec::new("/proc", "proc", "proc", noexec, ""),
            MountSpec::new(
                "/sys",
                "sysfs",
                "sysfs",
                Flags {
                    read_only: true,
                    ..noexec
                },
                "",
            ),
        ]
        .into_iter()
        .map(|m| MountSpec {
            optional: true,
            ..m
        })
        .collect()
    }
}

/// Everything the sentry needs to start a sandbox.
pub struct BootConfig {
    /// The first container; its first process is pid 1.
    pub container: ContainerConfig,
    pub hostname: Vec<u8>,
    pub strace: bool,
    /// The container's memory and CPU limits, reported as the machine's size.
    pub limits: crate::kernel::Limits,
    /// Init is the init of a pid namespace, as in a container: signals it has no handler
    /// for are not delivered to it, except SIGKILL and SIGSTOP sent from outside the
    /// sandbox. (`do` runs its command as an ordinary process instead.)
    pub init_unkillable: bool,
    /// How application code runs.
    pub platform: PlatformKind,
    /// Interfaces the sandbox's TCP/IP stack takes over (sandbox networking); none: loopback
    /// only.
    pub nics: Vec<crate::net::stack::NicConfig>,
    /// `--network host`: inet sockets are host sockets of the sandbox process's network
    /// namespace (its seccomp filter then allows the socket calls; see `confine`).
    pub host_network: bool,
}

/// The platforms a sandbox can run on (`--platform`).
#[derive(Debug, Default)]
pub enum PlatformKind {
    /// Each address space is a stub process traced with PTRACE_SYSEMU.
    #[default]
    Ptrace,
    /// The application runs in ring 3 of a KVM guest; `/dev/kvm`, opened before the sentry
    /// lost sight of host paths.
    Kvm(std::os::fd::OwnedFd),
}

/// A container in the sandbox: the first, or another of a pod joining a running sandbox
/// (whose kernel, pid space, hostname and network it shares): its root file system, mounts
/// and first process.
pub struct ContainerConfig {
    pub init: ProcessSpec,
    /// The root is an overlay with its changes in sandbox memory (else the gofer's tree,
    /// written through).
    pub overlay: bool,
    /// The root is mounted read-only.
    pub root_readonly: bool,
    /// Connection to the gofer serving the container's root file system.
    pub gofer: OwnedFd,
    pub mounts: Vec<MountSpec>,
    /// Paths hidden from the container (OCI linux.maskedPaths), where they exist.
    pub masked_paths: Vec<Vec<u8>>,
    /// Paths made read-only (OCI linux.readonlyPaths), where they exist.
    pub readonly_paths: Vec<Vec<u8>>,
    /// seccomp programs (OCI linux.seccomp) every process of the container runs under,
    /// oldest first: its first process and those exec'd into it, and their children.
    pub seccomp: Vec<Vec<SockFilter>>,
}

/// The seccomp filter chain of `progs`, oldest first; None if there are none.
fn filter_chain(progs: Vec<Vec<SockFilter>>) -> Result<Option<Arc<Filter>>, BootError> {
    let mut chain = None;
    for p in progs {
        chain = Some(Filter::new(p, false, chain).map_err(BootError::Seccomp)?);
    }
    Ok(chain)
}

/// Where a container of the sandbox is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerState {
    /// Its first process is loaded and waits for `start`.
    Created,
    Running,
    /// Its first process has exited.
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("platform: {0}")]
    Platform(#[from] platform::PlatformError),
    #[error("mounting the root file system: {0}")]
    Root(Errno),
    #[error("mounting {0} on {1}: {2}")]
    Mount(String, String, Errno),
    #[error("{0}: {1}")]
    Exec(String, Errno),
    #[error("no such container in the sandbox")]
    NoContainer,
    #[error("linux.seccomp: a program the sentry refuses: {0}")]
    Seccomp(Errno),
    #[error("the sandbox already has a container of that id")]
    Exists,
}

impl BootError {
    /// Exit status a shell would give for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            BootError::Exec(_, e) if *e == Errno::ENOENT => 127,
            BootError::Exec(..) => 126,
            _ => 125,
        }
    }
}

/// Find `cmd` in the PATH of `envp`, as execvp does.
fn search_path(fs: &FsContext, creds: &Creds, cmd: &[u8], envp: &[Vec<u8>]) -> Vec<u8> {
    if cmd.contains(&b'/') {
        return cmd.to_vec();
    }
    let path = envp
        .iter()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .unwrap_or(b"/usr/local/bin:/usr/bin:/bin");
    for dir in path.split(|&b| b == b':') {
        let mut p = if dir.is_empty() {
            b".".to_vec()
        } else {
            dir.to_vec()
        };
        p.push(b'/');
        p.extend_from_slice(cmd);
        if let Ok(d) = vfs::resolve(fs, creds, &fs.cwd, &p, true) {
            if d.file_type() == libc::S_IFREG
                && vfs::may_access(&d.inode.stat().unwrap_or_default(), creds, 1, false).is_ok()
            {
                return p;
            }
        }
    }
    cmd.to_vec()
}

/// Root's view of the sandbox's tree, from `cwd`, for the paths boot resolves.
fn as_root(root: &Arc<Dentry>, cwd: &Arc<Dentry>) -> (FsContext, Creds) {
    let fs = FsContext {
        root: root.clone(),
        cwd: cwd.clone(),
        umask: 0o022,
    };
    (fs, Creds::new(0, 0))
}

/// The directory `path` (absolute, inside the sandbox), made with its parents if missing
/// and `create`.
fn mkdir_all(root: &Arc<Dentry>, path: &[u8], create: bool) -> Result<Arc<Dentry>, Errno> {
    let (fs, creds) = as_root(root, root);
    let mut d = root.clone();
    for name in path.split(|&b| b == b'/').filter(|n| !n.is_empty()) {
        let mut p = b"./".to_vec();
        p.extend_from_slice(name);
        d = match vfs::resolve(&fs, &creds, &d, &p, true) {
            Ok(d) => d,
            Err(Errno::ENOENT) if create => {
                d.mkdir(name, 0o755, &creds)?;
                vfs::resolve(&fs, &creds, &d, &p, true)?
            }
            Err(e) => return Err(e),
        };
    }
    if !d.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(d)
}

/// The file `path` (absolute, inside the sandbox) to mount a file over, made empty (with
/// its parent directories) if missing, as runc does for a file bind mount.
fn mkfile_all(root: &Arc<Dentry>, path: &[u8]) -> Result<Arc<Dentry>, Errno> {
    let (parent, name) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&b""[..], path),
    };
    if name.is_empty() {
        return Err(Errno::EISDIR);
    }
    let dir = mkdir_all(root, parent, true)?;
    let (fs, creds) = as_root(root, &dir);
    let mut p = b"./".to_vec();
    p.extend_from_slice(name);
    let d = match vfs::resolve(&fs, &creds, &dir, &p, true) {
        Ok(d) => d,
        Err(Errno::ENOENT) => dir.create(name, libc::S_IFREG | 0o644, &creds)?,
        Err(e) => return Err(e),
    };
    if d.is_dir() {
        return Err(Errno::EISDIR);
    }
    Ok(d)
}

/// Mount the sentry's file systems listed in `mounts` over the root.
fn mount_all(k: &Arc<Kernel>, root: &Arc<Dentry>, mounts: Vec<MountSpec>) -> Result<(), BootError> {
    for mut m in mounts {
        let err = |e| {
            BootError::Mount(
                m.fstype.clone(),
                String::from_utf8_lossy(&m.dest).into_owned(),
                e,
            )
        };
        // The sentry's /dev shows as the tmpfs it stands for; a bind mount as the host's
        // tree it serves.
        let (inode, shown, fstype): (Arc<dyn vfs::Inode>, String, &str) = match m.fstype.as_str() {
            "devfs" => {
                let dev = crate::fs::dev::new();
                dev.add(
                    "shm",
                    crate::fs::synth::SynthDir::new(crate::fs::new_dev(), 0o1777, 0),
                );
                (dev, m.data.clone(), "tmpfs")
            }
            "bind" => {
                let conn = m.gofer.take().ok_or_else(|| err(Errno::EINVAL))?;
                let client = Arc::new(gofer::Client::new(conn));
                let inode = crate::fs::gofer::GoferFs::mount(client, &k.mf, !m.flags.read_only)
                    .map_err(err)?;
                (inode, String::new(), "9p")
            }
            _ => {
                let (inode, shown) = crate::fs::new_instance(k, &m.fstype, &m.data).map_err(err)?;
                (inode, shown, m.fstype.as_str())
            }
        };
        let is_dir = inode
            .stat()
            .map(|st| st.mode & libc::S_IFMT == libc::S_IFDIR);
        let point = match is_dir {
            Ok(false) => mkfile_all(root, &m.dest),
            _ => mkdir_all(root, &m.dest, !m.optional),
        };
        let point = match point {
            Ok(p) => p,
            Err(_) if m.optional => continue,
            Err(e) => return Err(err(e)),
        };
        point
            .mount(inode, Spec::new(fstype, &m.source, m.flags, &shown))
            .map_err(err)?;
    }
    Ok(())
}

/// Hide each of `masked` (an empty read-only tmpfs over a directory, a null device over
/// anything else) and make each of `readonly` read-only (mounted over itself, read-only), as
/// runc does for maskedPaths and readonlyPaths. Paths that do not exist are left alone.
fn mask_and_protect(
    k: &Arc<Kernel>,
    root: &Arc<Dentry>,
    masked: &[Vec<u8>],
    readonly: &[Vec<u8>],
) -> Result<(), BootError> {
    let (fs, creds) = as_root(root, root);
    let fail = |what: &str, path: &[u8], e| {
        BootError::Mount(what.into(), String::from_utf8_lossy(path).into_owned(), e)
    };
    let find = |path: &[u8]| match vfs::resolve(&fs, &creds, root, path, true) {
        Ok(d) => Ok(Some(d)),
        Err(Errno::ENOENT) | Err(Errno::ENOTDIR) => Ok(None),
        Err(e) => Err(fail("mask", path, e)),
    };
    let ro = Flags {
        read_only: true,
        nosuid: true,
        nodev: true,
        noexec: true,
    };
    for path in masked {
        let Some(d) = find(path)? else { continue };
        let (inode, spec): (Arc<dyn vfs::Inode>, Spec) = if d.is_dir() {
            let empty = crate::fs::tmpfs::Tmpfs::root(k.mf.clone(), 0o755);
            (empty, Spec::new("tmpfs", "tmpfs", ro, ""))
        } else {
            let null = crate::fs::dev::null();
            (null, Spec::new("devtmpfs", "udev", Flags::default(), ""))
        };
        d.mount(inode, spec).map_err(|e| fail("mask", path, e))?;
    }
    for path in readonly {
        let Some(d) = find(path)? else { continue };
        let mut spec = vfs::mount::mount_of(&d)
            .map(|m| m.spec.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .unwrap_or_else(|| Spec::new("none", "none", Flags::default(), ""));
        spec.flags.read_only = true;
        d.mount(d.inode.clone(), spec)
            .map_err(|e| fail("readonly", path, e))?;
    }
    Ok(())
}

/// A container's root file system: the gofer's tree, under an overlay whose changes stay in
/// sandbox memory unless `overlay` is false (then written through).
fn root_tree(mf: &Arc<MemoryFile>, gofer: OwnedFd, overlay: bool) -> Result<Arc<Dentry>, Errno> {
    let client = Arc::new(gofer::Client::new(gofer));
    let gofer_root = crate::fs::gofer::GoferFs::mount(client, mf, !overlay)?;
    let (root_inode, spec): (Arc<dyn vfs::Inode>, _) = if overlay {
        // The gofer's tree read-only below, changes in sandbox memory.
        let upper = crate::fs::tmpfs::Tmpfs::root(mf.clone(), 0o755);
        let root = crate::fs::overlay::OverlayFs::root(gofer_root, upper)?;
        (root, ("overlay", "overlay", "lowerdir=/,upperdir=memory"))
    } else {
        (gofer_root, ("9p", "/", "trans=fd"))
    };
    let root = Dentry::new_root(root_inode, None)?;
    vfs::mount::register(&root, Spec::new(spec.0, spec.1, Flags::default(), spec.2));
    Ok(root)
}

/// A container's mounts over its root, its masked and read-only paths, and the root made
/// read-only if asked.
fn furnish(
    k: &Arc<Kernel>,
    root: &Arc<Dentry>,
    mounts: Vec<MountSpec>,
    masked: &[Vec<u8>],
    readonly: &[Vec<u8>],
    root_readonly: bool,
) -> Result<(), BootError> {
    mount_all(k, root, mounts)?;
    mask_and_protect(k, root, masked, readonly)?;
    if root_readonly {
        let ro = Flags {
            read_only: true,
            ..Default::default()
        };
        vfs::mount::remount(root, ro).map_err(BootError::Root)?;
    }
    Ok(())
}

/// A container that joined the sandbox (a pod's other containers).
struct Member {
    root: Arc<Dentry>,
    /// Its first process, built and waiting for `start`.
    init: Option<Task>,
    pid: i32,
    /// Its first process's exit status, once it has exited.
    exit: Arc<std::sync::Mutex<Option<ExitStatus>>>,
    seccomp: Option<Arc<Filter>>,
}

/// A booted sandbox.
pub struct Sandbox {
    k: Arc<Kernel>,
    /// The first process, built and waiting for `start`.
    init: Option<Task>,
    /// Terminals of processes started with one, by pid.
    consoles: std::sync::Mutex<std::collections::HashMap<i32, Arc<crate::fs::pty::Console>>>,
    /// The containers that joined, by id.
    members: std::collections::HashMap<String, Member>,
    /// The first container's seccomp filters.
    seccomp: Option<Arc<Filter>>,
}

impl Sandbox {
    /// Boot a sandbox on its platform: the kernel, the root file system and its
    /// mounts, and the first process loaded but not yet running.
    pub fn new(cfg: BootConfig) -> Result<Sandbox, BootError> {
        crate::kernel::time::init();
        let mf = Arc::new(MemoryFile::new()?);
        let platform: Arc<dyn Platform> = match cfg.platform {
            PlatformKind::Ptrace => Arc::new(PtracePlatform::new(mf.clone())?),
            PlatformKind::Kvm(dev) => Arc::new(KvmPlatform::new(dev, mf.clone())?),
        };
        let vdso = crate::loader::vdso::Vdso::new(&mf).map_err(BootError::Root)?;
        crate::kernel::time::start_timekeeper(mf.clone(), vdso.vvar_offset());

        let c = cfg.container;
        let root = root_tree(&mf, c.gofer, c.overlay).map_err(BootError::Root)?;
        let k = Kernel::new(
            platform,
            vdso,
            root.clone(),
            cfg.hostname,
            cfg.strace,
            cfg.init_unkillable,
            cfg.limits,
        );
        if cfg.host_network {
            k.use_host_network();
        }
        if let Some(nic) = cfg.nics.into_iter().next() {
            // Started now: the stack answers ARP and ping before any socket exists.
            k.start_net(Some(nic));
        }
        furnish(
            &k,
            &root,
            c.mounts,
            &c.masked_paths,
            &c.readonly_paths,
            c.root_readonly,
        )?;
        let seccomp = filter_chain(c.seccomp)?;
        let (init, console) = new_process(&k, c.init, Some(1), root, seccomp.clone())?;
        let consoles = console.map(|c| (1, c)).into_iter().collect();
        Ok(Sandbox {
            k,
            init: Some(init),
            consoles: std::sync::Mutex::new(consoles),
            members: Default::default(),
            seccomp,
        })
    }

    pub fn kernel(&self) -> &Arc<Kernel> {
        &self.k
    }

    /// Let the first process run.
    pub fn start(&mut self) -> Result<(), Errno> {
        let init = self.init.take().ok_or(Errno::EINVAL)?;
        self.k.spawn(init)
    }

    /// Block until the first process has exited (the sandbox ends with it); its status.
    pub fn wait(&self) -> ExitStatus {
        self.k.wait_init()
    }

    /// Start another process in the running sandbox (as `runc exec`), in the tree of
    /// container `member` (a container that joined) or of the first container: it has no
    /// parent inside, leads a session of its own, and `on_exit` hears its exit status.
    pub fn exec(
        &self,
        member: Option<&str>,
        spec: ProcessSpec,
        on_exit: Box<dyn FnOnce(ExitStatus) + Send>,
    ) -> Result<i32, BootError> {
        let root = self.root_of(member).ok_or(BootError::NoContainer)?;
        let seccomp = match member {
            None => self.seccomp.clone(),
            Some(id) => self.members.get(id).and_then(|m| m.seccomp.clone()),
        };
        let (task, console) = new_process(&self.k, spec, None, root, seccomp)?;
        let pid = task.tgid;
        if let Some(c) = console {
            self.lock_consoles().insert(pid, c);
        }
        self.k.watch_exit(pid, on_exit);
        if let Err(e) = self.k.spawn(task) {
            self.k.unwatch_exit(pid);
            return Err(BootError::Exec("starting the process".into(), e));
        }
        Ok(pid)
    }
}

/// The containers of a pod that joined the sandbox.
impl Sandbox {
    /// The root of container `member`, or of the first container.
    fn root_of(&self, member: Option<&str>) -> Option<Arc<Dentry>> {
        match member {
            None => Some(self.k.root.clone()),
            Some(id) => self.members.get(id).map(|m| m.root.clone()),
        }
    }

    /// Add container `id` to the sandbox: its root and mounts, its first process loaded but
    /// not running. Its pid.
    pub fn add_container(&mut self, id: &str, cfg: ContainerConfig) -> Result<i32, BootError> {
        if self.members.contains_key(id) {
            return Err(BootError::Exists);
        }
        let seccomp = filter_chain(cfg.seccomp)?;
        let root = root_tree(&self.k.mf, cfg.gofer, cfg.overlay).map_err(BootError::Root)?;
        let made = furnish(
            &self.k,
            &root,
            cfg.mounts,
            &cfg.masked_paths,
            &cfg.readonly_paths,
            cfg.root_readonly,
        )
        .and_then(|()| new_process(&self.k, cfg.init, None, root.clone(), seccomp.clone()));
        let (init, console) = match made {
            Ok(x) => x,
            Err(e) => {
                vfs::mount::forget_below(&root);
                return Err(e);
            }
        };
        let pid = init.tgid;
        if let Some(c) = console {
            self.lock_consoles().insert(pid, c);
        }
        let member = Member {
            root,
            init: Some(init),
            pid,
            exit: Default::default(),
            seccomp,
        };
        self.members.insert(id.to_string(), member);
        Ok(pid)
    }

    /// Let container `id`'s first process run; `on_exit` hears its exit status.
    pub fn start_container(
        &mut self,
        id: &str,
        on_exit: Box<dyn FnOnce(ExitStatus) + Send>,
    ) -> Result<i32, Errno> {
        let m = self.members.get_mut(id).ok_or(Errno::ENOENT)?;
        let init = m.init.take().ok_or(Errno::EINVAL)?;
        let pid = m.pid;
        let exit = m.exit.clone();
        self.k.watch_exit(
            pid,
            Box::new(move |st| {
                *exit.lock().unwrap_or_else(|e| e.into_inner()) = Some(st);
                on_exit(st);
            }),
        );
        if let Err(e) = self.k.spawn(init) {
            self.k.unwatch_exit(pid);
            return Err(e);
        }
        Ok(pid)
    }

    /// Where container `id` is in its life; None if there is no such container.
    pub fn container_state(&self, id: &str) -> Option<ContainerState> {
        let m = self.members.get(id)?;
        Some(if m.init.is_some() {
            ContainerState::Created
        } else if m.exit.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            ContainerState::Stopped
        } else {
            ContainerState::Running
        })
    }

    /// The first process of container `member` (or of the first container: 1).
    pub fn init_pid(&self, member: Option<&str>) -> Option<i32> {
        match member {
            None => Some(1),
            Some(id) => self.members.get(id).map(|m| m.pid),
        }
    }

    /// The live processes of container `member` (or of the first container): those whose
    /// root lies in its tree.
    pub fn processes(&self, member: Option<&str>) -> Vec<crate::kernel::ProcessInfo> {
        let Some(root) = self.root_of(member) else {
            return Vec::new();
        };
        self.k
            .processes()
            .into_iter()
            .filter(|p| p.root.as_ref().is_some_and(|r| r.is_below(&root)))
            .collect()
    }

    /// Send `sig` from the host to every process of container `member` (or of the first
    /// container). ESRCH if it has none.
    pub fn signal_all(&self, member: Option<&str>, sig: i32) -> Result<(), Errno> {
        let mut sent = false;
        for p in self.processes(member) {
            sent |= self.k.signal_from_host(Some(p.pid), sig).is_ok();
        }
        if sent {
            Ok(())
        } else {
            Err(Errno::ESRCH)
        }
    }

    /// Take container `id` out of the sandbox: its processes are killed, its mounts
    /// forgotten.
    pub fn remove_container(&mut self, id: &str) -> Result<(), Errno> {
        if !self.members.contains_key(id) {
            return Err(Errno::ENOENT);
        }
        let _ = self.signal_all(Some(id), libc::SIGKILL);
        if let Some(m) = self.members.remove(id) {
            self.lock_consoles().remove(&m.pid);
            vfs::mount::forget_below(&m.root);
        }
        Ok(())
    }
}

impl Sandbox {
    fn lock_consoles(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<i32, Arc<crate::fs::pty::Console>>>
    {
        self.consoles.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The host terminal of process `pid` changed size.
    pub fn resize(&self, pid: i32, rows: u16, cols: u16) -> Result<(), Errno> {
        let c = self
            .lock_consoles()
            .get(&pid)
            .cloned()
            .ok_or(Errno::ENOTTY)?;
        c.resize(winsize(rows, cols));
        Ok(())
    }
}

fn winsize(rows: u16, cols: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

/// A process's new task and, if it has one, its terminal.
type NewProcess = (Task, Option<Arc<crate::fs::pty::Console>>);

/// Build a process with no parent in the sandbox: pid `pid` (or the next free one), leader
/// of its own session and process group, its program loaded.
fn new_process(
    k: &Arc<Kernel>,
    spec: ProcessSpec,
    pid: Option<i32>,
    root: Arc<Dentry>,
    seccomp: Option<Arc<Filter>>,
) -> Result<NewProcess, BootError> {
    let mf = k.mf.clone();
    let platform = k.platform.clone();
    let mut creds = Creds::new(spec.uid, spec.gid);
    if let Some([eff, perm, inh, bnd]) = spec.caps {
        creds.cap_effective = eff;
        creds.cap_permitted = perm;
        creds.cap_inheritable = inh;
        creds.cap_bounding = bnd;
    }
    creds.no_new_privs = spec.no_new_privs;
    let mut fsctx = FsContext {
        root: root.clone(),
        cwd: root.clone(),
        umask: spec.umask & 0o777,
    };
    let cmd = spec.argv.first().cloned().unwrap_or_default();
    let cwd = vfs::resolve(&fsctx, &creds, &root, &spec.cwd, true)
        .map_err(|e| BootError::Exec(String::from_utf8_lossy(&spec.cwd).into_owned(), e))?;
    if !cwd.is_dir() {
        let cwd = String::from_utf8_lossy(&spec.cwd).into_owned();
        return Err(BootError::Exec(cwd, Errno::ENOTDIR));
    }
    fsctx.cwd = cwd;
    crate::vfs::set_groups(&spec.groups);
    let path = search_path(&fsctx, &creds, &cmd, &spec.envp);
    let sighand = Arc::new(std::sync::Mutex::new([SigAction::default(); 64]));
    let (tid, tg) = {
        let mut tasks = k.tasks();
        let id = match pid {
            Some(p) if !tasks.groups.contains_key(&p) => p,
            _ => tasks.alloc().ok_or(BootError::Root(Errno::EAGAIN))?,
        };
        let tg = ThreadGroup::new(id, (None, 0), sighand, id, id, creds.uid, libc::SIGCHLD);
        tasks.groups.insert(id, tg.clone());
        (id, tg)
    };
    let forget = || {
        let mut tasks = k.tasks();
        tasks.threads.remove(&tid);
        tasks.groups.remove(&tid);
    };
    let fds = Arc::new(FdTable::default());
    let mut console = None;
    match spec.stdio {
        Stdio::Host(stdio) => {
            for (i, fd) in stdio.into_iter().enumerate() {
                let host = crate::fs::host::HostFile::new(fd);
                let flags = if i == 0 {
                    libc::O_RDONLY
                } else {
                    libc::O_WRONLY
                } as u32;
                fds.install_at(i as i32, OpenFile::new(None, host, flags), false);
            }
        }
        Stdio::Console { host, rows, cols } => {
            let made = crate::fs::pty::Console::new(tid, winsize(rows, cols))
                .and_then(|(c, slave)| c.relay(host).map(|()| (c, slave)));
            let (c, slave) = match made {
                Ok(x) => x,
                Err(e) => {
                    forget();
                    return Err(BootError::Exec("making the terminal".into(), e));
                }
            };
            let f = OpenFile::new(None, slave, libc::O_RDWR as u32);
            for i in 0..3 {
                fds.install_at(i, f.clone(), false);
            }
            console = Some(c);
        }
    }
    for (i, fd) in spec.preserved.into_iter().enumerate() {
        // The open file's access mode and status flags are the host descriptor's.
        let fl = nix::fcntl::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            nix::fcntl::FcntlArg::F_GETFL,
        )
        .unwrap_or(libc::O_RDWR);
        let flags = fl & (libc::O_ACCMODE | libc::O_APPEND | libc::O_NONBLOCK);
        let host = crate::fs::host::HostFile::new(fd);
        fds.install_at(3 + i as i32, OpenFile::new(None, host, flags as u32), false);
    }
    let h = TaskHandle::new(tid, tg.clone());
    if let Some(f) = seccomp {
        h.set_seccomp(Mode::Filter(f));
    }
    k.tasks().threads.insert(tid, h.clone());
    tg.lock().threads.push(h.clone());
    {
        let mut st = tg.lock();
        for &(res, cur, max) in &spec.rlimits {
            if let Some(r) = st.rlimits.get_mut(res as usize) {
                *r = libc::rlimit {
                    rlim_cur: cur,
                    rlim_max: max,
                };
            }
        }
    }
    {
        let mut s = h.lock();
        s.creds = Some(creds);
        s.groups = spec.groups.clone();
    }
    let space = platform.new_address_space()?;
    let mm = Arc::new(crate::mm::MemoryManager::new(
        mf,
        space,
        platform.min_user_address(),
        platform.max_user_address(),
    ));
    let mut task = Task {
        k: k.clone(),
        h,
        tid,
        tgid: tid,
        mm,
        fds,
        fs: Arc::new(std::sync::Mutex::new(fsctx)),
        creds,
        groups: spec.groups,
        regs: platform.initial_regs(),
        ctx: platform.new_context(),
        altstack: crate::kernel::task::ALTSTACK_NONE,
        clear_child_tid: 0,
        robust_list: (0, 0),
        sem_undo: crate::kernel::ipc::sem::UndoList::new(tid),
        exe: None,
        exit: None,
        regs_replaced: false,
        restart: None,
        restart_block: None,
        saved_mask: None,
        initial_fp: None,
        vfork_done: None,
        slept_ns: 0,
    };
    if let Err(e) = task.exec(path, spec.argv, spec.envp) {
        // Forget the process that never ran.
        forget();
        return Err(BootError::Exec(
            String::from_utf8_lossy(&cmd).into_owned(),
            e,
        ));
    }
    // The address space was created on this thread; the task runs on its own.
    task.publish_view();
    Ok((task, console))
}

/// Boot a sandbox, run its first process to completion: `palisade do`.
pub fn boot(cfg: BootConfig) -> Result<ExitStatus, BootError> {
    let mut sandbox = Sandbox::new(cfg)?;
    sandbox.start().map_err(BootError::Root)?;
    Ok(sandbox.wait())
}
