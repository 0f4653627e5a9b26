//! The sentry: Palisade's userspace kernel.
#![deny(unsafe_code)]

pub mod errno;
pub mod fs;
pub mod kernel;
pub mod loader;
pub mod mm;
pub mod net;
pub mod strace;
pub mod syscalls;
pub mod vfs;

use std::os::fd::OwnedFd;
use std::sync::Arc;

use platform::ptrace::PtracePlatform;
use platform::{MemoryFile, Platform};

use crate::errno::Errno;
use crate::kernel::signal::SigAction;
use crate::kernel::{ExitStatus, Kernel, Task, TaskHandle, ThreadGroup};
use crate::vfs::{Creds, Dentry, FdTable, FsContext, OpenFile};

/// Everything the sentry needs to start a sandbox.
pub struct BootConfig {
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub hostname: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub strace: bool,
    /// The root is an overlay with its changes in sandbox memory (else the gofer's tree,
    /// written through).
    pub overlay: bool,
    /// The sandboxed program's standard input, output and error.
    pub stdio: [OwnedFd; 3],
    /// Connection to the gofer serving the root file system.
    pub gofer: OwnedFd,
}

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("platform: {0}")]
    Platform(#[from] platform::PlatformError),
    #[error("mounting the root file system: {0}")]
    Root(Errno),
    #[error("{0}: {1}")]
    Exec(String, Errno),
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

/// Mount sentry-owned file systems over the root's /dev and /sys.
fn mount_sentry_fs(root: &Arc<Dentry>, mf: &Arc<MemoryFile>) -> Result<(), Errno> {
    use vfs::mount::{Flags, Spec};
    let nosuid = Flags {
        nosuid: true,
        ..Default::default()
    };
    if let Ok(d) = root.lookup(b"dev") {
        let dev = fs::dev::new();
        dev.add("shm", fs::synth::SynthDir::new(fs::new_dev(), 0o1777, 0));
        d.mount(dev, Spec::new("tmpfs", "none", nosuid, "mode=755"))?;
        // POSIX shared memory and semaphores live in /dev/shm.
        let shm = root.lookup(b"dev")?.lookup(b"shm")?;
        let flags = Flags {
            nodev: true,
            ..nosuid
        };
        let tmpfs = fs::tmpfs::Tmpfs::root(mf.clone(), 0o1777);
        shm.mount(tmpfs, Spec::new("tmpfs", "shm", flags, "mode=1777"))?;
    }
    // /tmp is part of the overlay root (not a fresh tmpfs), so that `do` works from a
    // directory under the host's /tmp.
    Ok(())
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

/// Boot a sandbox on the ptrace platform, run its first process to completion.
pub fn boot(cfg: BootConfig) -> Result<ExitStatus, BootError> {
    kernel::time::init();
    let mf = Arc::new(MemoryFile::new()?);
    let platform: Arc<dyn Platform> = Arc::new(PtracePlatform::new(mf.clone())?);
    let vdso = loader::vdso::Vdso::new(&mf).map_err(BootError::Root)?;
    kernel::time::start_timekeeper(mf.clone(), vdso.vvar_offset());

    let client = Arc::new(gofer::Client::new(cfg.gofer));
    let gofer_root =
        fs::gofer::GoferFs::mount(client, &mf, !cfg.overlay).map_err(BootError::Root)?;
    let (root_inode, spec): (Arc<dyn vfs::Inode>, _) = if cfg.overlay {
        // The gofer's tree read-only below, changes in sandbox memory.
        let upper = fs::tmpfs::Tmpfs::root(mf.clone(), 0o755);
        let root = fs::overlay::OverlayFs::root(gofer_root, upper).map_err(BootError::Root)?;
        (root, ("overlay", "overlay", "lowerdir=/,upperdir=memory"))
    } else {
        (gofer_root, ("9p", "/", "trans=fd"))
    };
    let root = Dentry::new_root(root_inode, None).map_err(BootError::Root)?;
    vfs::mount::register(
        &root,
        vfs::mount::Spec::new(spec.0, spec.1, Default::default(), spec.2),
    );
    mount_sentry_fs(&root, &mf).map_err(BootError::Root)?;

    let creds = Creds::new(cfg.uid, cfg.gid);
    let mut fsctx = FsContext {
        root: root.clone(),
        cwd: root.clone(),
        umask: 0o022,
    };
    if let Ok(d) = vfs::resolve(&fsctx, &creds, &root, &cfg.cwd, true) {
        if d.is_dir() {
            fsctx.cwd = d;
        }
    }
    let k = Kernel::new(
        platform.clone(),
        vdso,
        root.clone(),
        cfg.hostname,
        cfg.strace,
    );
    if let Ok(d) = root.lookup(b"proc") {
        let flags = vfs::mount::Flags {
            nosuid: true,
            nodev: true,
            noexec: true,
            ..Default::default()
        };
        let spec = vfs::mount::Spec::new("proc", "proc", flags, "");
        d.mount(fs::proc::new(Arc::downgrade(&k)), spec)
            .map_err(BootError::Root)?;
    }
    // /sys is the sentry's own: the host's never shows through.
    if let Ok(d) = root.lookup(b"sys") {
        let flags = vfs::mount::Flags {
            read_only: true,
            nodev: true,
            noexec: true,
            nosuid: true,
        };
        let spec = vfs::mount::Spec::new("sysfs", "sysfs", flags, "");
        d.mount(fs::sys::new(k.cpus()), spec)
            .map_err(BootError::Root)?;
    }
    if let Ok(pts) = root.lookup(b"dev").and_then(|d| d.lookup(b"pts")) {
        let flags = vfs::mount::Flags {
            nosuid: true,
            noexec: true,
            ..Default::default()
        };
        let opts = "gid=5,mode=620,ptmxmode=666";
        let spec = vfs::mount::Spec::new("devpts", "devpts", flags, opts);
        let devpts = fs::pty::DevPtsRoot(fs::pty::DevPts::new(Arc::downgrade(&k)));
        pts.mount(Arc::new(devpts), spec).map_err(BootError::Root)?;
    }
    let fds = Arc::new(FdTable::default());
    for (i, fd) in cfg.stdio.into_iter().enumerate() {
        let host = fs::host::HostFile::new(fd);
        let flags = if i == 0 {
            libc::O_RDONLY
        } else {
            libc::O_WRONLY
        } as u32;
        fds.install_at(i as i32, OpenFile::new(None, host, flags), false);
    }
    let cmd = cfg.argv.first().cloned().unwrap_or_default();
    let path = search_path(&fsctx, &creds, &cmd, &cfg.envp);
    // The first process: pid 1, leader of its own session and process group.
    let sighand = Arc::new(std::sync::Mutex::new([SigAction::default(); 64]));
    let tg = ThreadGroup::new(1, (None, 0), sighand, 1, 1, creds.uid, libc::SIGCHLD);
    let h = TaskHandle::new(1, tg.clone());
    {
        let mut tasks = k.tasks();
        let id = tasks.alloc();
        debug_assert_eq!(id, Some(1));
        tasks.groups.insert(1, tg.clone());
        tasks.threads.insert(1, h.clone());
    }
    tg.lock().threads.push(h.clone());
    h.lock().creds = Some(creds);
    // The first address space is replaced by exec; contexts are per task.
    let space = platform.new_address_space()?;
    let mm = Arc::new(mm::MemoryManager::new(
        mf.clone(),
        space,
        platform.min_user_address(),
        platform.max_user_address(),
    ));
    let mut task = Task {
        k: k.clone(),
        h,
        tid: 1,
        tgid: 1,
        mm,
        fds,
        fs: Arc::new(std::sync::Mutex::new(fsctx)),
        creds,
        groups: Vec::new(),
        regs: platform.initial_regs(),
        ctx: platform.new_context(),
        altstack: kernel::task::ALTSTACK_NONE,
        clear_child_tid: 0,
        robust_list: (0, 0),
        sem_undo: kernel::ipc::sem::UndoList::new(1),
        comm: Vec::new(),
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
    task.exec(path, cfg.argv, cfg.envp)
        .map_err(|e| BootError::Exec(String::from_utf8_lossy(&cmd).into_owned(), e))?;
    // The first address space was created on this thread; the init task runs on its own.
    task.publish_view();
    k.spawn(task).map_err(BootError::Root)?;
    Ok(k.wait_init())
}
