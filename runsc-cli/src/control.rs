//! The sandbox's control socket: how `start`, `kill`, `exec`, `ps`, `pause` and the rest
//! reach a running sandbox. A SOCK_SEQPACKET unix socket in the container's state directory;
//! each message is one JSON object; `exec` donates the process's stdio with SCM_RIGHTS and
//! keeps its connection open until the process exits (the exit status is the last message;
//! closing the connection first kills the process).

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, UnixAddr};
use serde::{Deserialize, Serialize};

use crate::oci::ProcessPlan;

const SOCKET: &str = "control.sock";

#[derive(Serialize, Deserialize, Debug)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// `container`: a container that joined the sandbox (a pod's); None for the sandbox's
    /// own first container, in this and the other requests.
    State {
        #[serde(default)]
        container: Option<String>,
    },
    Start {
        #[serde(default)]
        container: Option<String>,
    },
    /// Signal init (`pid` None, `all` false), every process (`all`), or one process.
    Kill {
        sig: i32,
        all: bool,
        pid: Option<i32>,
        #[serde(default)]
        container: Option<String>,
    },
    Ps {
        #[serde(default)]
        container: Option<String>,
    },
    Pause,
    Resume,
    /// The container's limits changed: the sandbox's size follows (None: unchanged).
    Update {
        memory: Option<u64>,
        cpus: Option<usize>,
    },
    Exec {
        process: ProcessPlan,
        #[serde(default)]
        container: Option<String>,
    },
    /// Container `id` of the same pod joins the sandbox. The descriptors: its stdio (three,
    /// or its one host terminal), then its root's gofer connection, then one gofer connection
    /// per bind mount, in order. The connection stays open: the container's first process's
    /// exit status is its last message, and closing it takes the container out.
    Join {
        id: String,
        plan: JoinPlan,
    },
    /// The host terminal of process `pid` changed size.
    Resize {
        pid: i32,
        rows: u16,
        cols: u16,
    },
}

/// What a joining container brings, besides its descriptors.
#[derive(Serialize, Deserialize, Debug)]
pub struct JoinPlan {
    pub process: ProcessPlan,
    pub overlay: bool,
    pub root_readonly: bool,
    pub mounts: Vec<MountPlan>,
    pub masked_paths: Vec<Vec<u8>>,
    pub readonly_paths: Vec<Vec<u8>>,
    /// linux.seccomp, compiled.
    #[serde(default)]
    pub seccomp: Vec<Vec<crate::seccomp::Insn>>,
}

/// A mount of a joining container, as it crosses the socket (a bind mount's gofer
/// connection travels as a descriptor).
#[derive(Serialize, Deserialize, Debug)]
pub struct MountPlan {
    pub dest: Vec<u8>,
    pub fstype: String,
    pub source: String,
    /// read_only, nosuid, nodev, noexec.
    pub flags: [bool; 4],
    pub data: String,
    pub optional: bool,
}

impl MountPlan {
    pub fn from_spec(m: &sentry::MountSpec) -> MountPlan {
        let f = &m.flags;
        MountPlan {
            dest: m.dest.clone(),
            fstype: m.fstype.clone(),
            source: m.source.clone(),
            flags: [f.read_only, f.nosuid, f.nodev, f.noexec],
            data: m.data.clone(),
            optional: m.optional,
        }
    }

    fn to_spec(&self, gofer: Option<OwnedFd>) -> sentry::MountSpec {
        let [read_only, nosuid, nodev, noexec] = self.flags;
        let flags = sentry::vfs::mount::Flags {
            read_only,
            nosuid,
            nodev,
            noexec,
        };
        sentry::MountSpec {
            dest: self.dest.clone(),
            fstype: self.fstype.clone(),
            source: self.source.clone(),
            flags,
            data: self.data.clone(),
            optional: self.optional,
            gofer,
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Default)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<Vec<ProcInfo>>,
    /// An exec'd process's exit status, as a shell reports it (128+N for signal N).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub uid: u32,
    pub threads: usize,
    pub comm: String,
}

impl Reply {
    fn ok() -> Reply {
        Reply {
            ok: true,
            ..Default::default()
        }
    }

    fn err(e: impl std::fmt::Display) -> Reply {
        Reply {
            error: Some(e.to_string()),
            ..Default::default()
        }
    }
}

/// The socket's address: reached through an O_PATH descriptor of the state directory, so
/// that long state paths (containerd's, with 64-character ids) fit a sockaddr_un.
fn address(dir: &Path) -> anyhow::Result<(std::fs::File, UnixAddr)> {
    let d = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(dir)
        .with_context(|| format!("opening {}", dir.display()))?;
    let path = PathBuf::from(format!("/proc/self/fd/{}/{SOCKET}", d.as_raw_fd()));
    Ok((d, UnixAddr::new(&path)?))
}

fn seqpacket() -> nix::Result<OwnedFd> {
    socket::socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
}

/// Send `req` (with `fds` donated) to the sandbox whose state directory is `dir`, and return
/// the connection and its first reply.
pub fn call_with(dir: &Path, req: &Request, fds: &[RawFd]) -> anyhow::Result<(OwnedFd, Reply)> {
    let (_d, addr) = address(dir)?;
    let sock = seqpacket()?;
    socket::connect(sock.as_raw_fd(), &addr).context("the sandbox is not running")?;
    let msg = serde_json::to_vec(req)?;
    gofer::sock::send_fds(sock.as_raw_fd(), &msg, fds).context("talking to the sandbox")?;
    let reply = read_reply(sock.as_fd())?.context("the sandbox closed the connection")?;
    Ok((sock, reply))
}

/// One request, its reply; an error reply becomes an error.
pub fn call(dir: &Path, req: &Request) -> anyhow::Result<Reply> {
    let (_s, r) = call_with(dir, req, &[])?;
    if !r.ok {
        bail!("{}", r.error.unwrap_or_else(|| "failed".into()));
    }
    Ok(r)
}

/// The next reply on a connection; None when it is closed.
pub fn read_reply(sock: std::os::fd::BorrowedFd<'_>) -> anyhow::Result<Option<Reply>> {
    let mut buf = gofer::sock::RecvBuf::new();
    match gofer::sock::recv_fds(sock.as_raw_fd(), &mut buf)? {
        None => Ok(None),
        Some(_) => Ok(Some(
            serde_json::from_slice(buf.message()).context("bad reply")?,
        )),
    }
}

/// The sandbox side.
pub struct Server {
    sandbox: Mutex<sentry::Sandbox>,
    k: Arc<sentry::kernel::Kernel>,
    started: AtomicBool,
    /// The connections of the containers that joined, by id (each hears its container's
    /// exit status).
    joined: Mutex<std::collections::HashMap<String, OwnedFd>>,
}

/// The listening control socket of the container whose state directory is `dir`, bound
/// before the sandbox gives up host paths.
pub fn bind(dir: &Path) -> anyhow::Result<OwnedFd> {
    let (_d, addr) = address(dir)?;
    let _ = std::fs::remove_file(dir.join(SOCKET));
    let sock = seqpacket()?;
    socket::bind(sock.as_raw_fd(), &addr).context("binding the control socket")?;
    socket::listen(&sock, socket::Backlog::new(64)?)?;
    Ok(sock)
}

impl Server {
    pub fn new(sandbox: sentry::Sandbox) -> Arc<Server> {
        let k = sandbox.kernel().clone();
        Arc::new(Server {
            sandbox: Mutex::new(sandbox),
            k,
            started: AtomicBool::new(false),
            joined: Mutex::new(Default::default()),
        })
    }

    pub fn kernel(&self) -> &Arc<sentry::kernel::Kernel> {
        &self.k
    }

    /// Bind the socket in `dir` and serve it on a thread of its own.
    /// Serve requests arriving on `listener` (from [`bind`]).
    pub fn listen(self: &Arc<Self>, listener: OwnedFd) -> anyhow::Result<()> {
        let me = self.clone();
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || loop {
                match gofer::sock::accept(listener.as_raw_fd()) {
                    Ok(conn) => {
                        let me = me.clone();
                        let _ = std::thread::Builder::new()
                            .name("control-conn".into())
                            .spawn(move || me.serve(conn));
                    }
                    Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => {
                        tracing::error!("control socket: {e}");
                        return;
                    }
                }
            })?;
        Ok(())
    }

    fn reply(conn: &OwnedFd, r: &Reply) {
        if let Ok(msg) = serde_json::to_vec(r) {
            let _ = gofer::sock::send(conn.as_raw_fd(), &msg, None);
        }
    }

    /// One connection: one request (a malformed one just closes it).
    fn serve(&self, conn: OwnedFd) {
        let mut buf = gofer::sock::RecvBuf::new();
        let Ok(Some(fds)) = gofer::sock::recv_fds(conn.as_raw_fd(), &mut buf) else {
            return;
        };
        let req: Request = match serde_json::from_slice(buf.message()) {
            Ok(r) => r,
            Err(e) => return Self::reply(&conn, &Reply::err(format!("bad request: {e}"))),
        };
        let r = match req {
            Request::State { container } => match self.status(container.as_deref()) {
                Ok(status) => Reply {
                    status: Some(status.into()),
                    ..Reply::ok()
                },
                Err(e) => Reply::err(e),
            },
            Request::Start { container } => match self.start(container.as_deref()) {
                Ok(()) => Reply::ok(),
                Err(e) => Reply::err(e),
            },
            Request::Kill {
                sig,
                all,
                pid,
                container,
            } => match self.kill(container.as_deref(), sig, all, pid) {
                Ok(()) => Reply::ok(),
                Err(e) => Reply::err(e),
            },
            Request::Ps { container } => {
                let sb = self.lock();
                Reply {
                    processes: Some(
                        sb.processes(container.as_deref())
                            .into_iter()
                            .map(|p| ProcInfo {
                                pid: p.pid,
                                ppid: p.ppid,
                                uid: p.uid,
                                threads: p.threads,
                                comm: p.comm,
                            })
                            .collect(),
                    ),
                    ..Reply::ok()
                }
            }
            Request::Pause | Request::Resume => {
                if !self.started.load(Ordering::SeqCst) {
                    Reply::err("the container is not running")
                } else {
                    self.k.set_frozen(matches!(req, Request::Pause));
                    Reply::ok()
                }
            }
            Request::Update { memory, cpus } => {
                self.k.update_limits(sentry::Limits { memory, cpus });
                Reply::ok()
            }
            Request::Resize { pid, rows, cols } => match self.resize(pid, rows, cols) {
                Ok(()) => Reply::ok(),
                Err(e) => Reply::err(e),
            },
            Request::Exec { process, container } => {
                return self.exec(conn, container, process, fds)
            }
            Request::Join { id, plan } => return self.join(conn, id, plan, fds),
        };
        Self::reply(&conn, &r);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, sentry::Sandbox> {
        self.sandbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The status of the first container, or of a container that joined.
    fn status(&self, member: Option<&str>) -> anyhow::Result<&'static str> {
        use sentry::ContainerState as S;
        let st = match member {
            None if !self.started.load(Ordering::SeqCst) => S::Created,
            None => S::Running,
            Some(id) => self
                .lock()
                .container_state(id)
                .with_context(|| format!("no container {id} in the sandbox"))?,
        };
        Ok(match st {
            S::Created => "created",
            S::Running if self.k.frozen() => "paused",
            S::Running => "running",
            S::Stopped => "stopped",
        })
    }

    /// Signal the first process of the container (`pid` None, `all` false), every process
    /// of it (`all`), or one process.
    fn kill(
        &self,
        member: Option<&str>,
        sig: i32,
        all: bool,
        pid: Option<i32>,
    ) -> anyhow::Result<()> {
        let sb = self.lock();
        let init = sb
            .init_pid(member)
            .context("no such container in the sandbox")?;
        let target = pid.unwrap_or(init);
        let sent = if all {
            sb.signal_all(member, sig)
        } else {
            self.k.signal_from_host(Some(target), sig)
        };
        drop(sb);
        sent.map_err(|e| anyhow::anyhow!("signalling the container: {e:?}"))?;
        // A container killed before it started dies without running.
        let created = self.status(member).is_ok_and(|s| s == "created");
        if sig == libc::SIGKILL && (all || target == init) && created {
            let _ = self.start(member);
        }
        Ok(())
    }

    /// Let the first process of the sandbox's first container, or of a container that
    /// joined, run.
    pub fn start(&self, member: Option<&str>) -> anyhow::Result<()> {
        let Some(id) = member else {
            if self.started.swap(true, Ordering::SeqCst) {
                bail!("the container has already been started");
            }
            return self
                .lock()
                .start()
                .map_err(|e| anyhow::anyhow!("starting the container: {e:?}"));
        };
        // The joining container's connection hears its exit status.
        let conn = lock(&self.joined)
            .get(id)
            .and_then(|c| c.try_clone().ok())
            .with_context(|| format!("no container {id} in the sandbox"))?;
        let on_exit = Self::exit_reporter(conn);
        self.lock()
            .start_container(id, on_exit)
            .map_err(|e| anyhow::anyhow!("starting container {id}: {e:?}"))?;
        Ok(())
    }

    /// Tells `conn` a process's exit status, then ends the connection.
    fn exit_reporter(conn: OwnedFd) -> Box<dyn FnOnce(sentry::kernel::ExitStatus) + Send> {
        Box::new(move |st: sentry::kernel::ExitStatus| {
            let r = Reply {
                exit: Some(st.shell_code()),
                ..Reply::ok()
            };
            Self::reply(&conn, &r);
            let _ = socket::shutdown(conn.as_raw_fd(), socket::Shutdown::Both);
        })
    }

    /// Tell the caller on `conn` that its process `pid` was made, then wait until the caller
    /// closes the connection (its exit status goes out on a clone of it).
    fn started(conn: &OwnedFd, pid: i32) {
        let r = Reply {
            pid: Some(pid),
            ..Reply::ok()
        };
        Self::reply(conn, &r);
        let mut buf = gofer::sock::RecvBuf::new();
        while let Ok(Some(_)) = gofer::sock::recv_fds(conn.as_raw_fd(), &mut buf) {}
    }

    /// A container of the same pod joins: build its root and first process, tell the
    /// caller its pid, and take it out again when the caller goes away.
    fn join(&self, conn: OwnedFd, id: String, plan: JoinPlan, fds: Vec<OwnedFd>) {
        let stdio_count =
            if plan.process.terminal { 1 } else { 3 } + plan.process.preserve_fds as usize;
        let binds = plan.mounts.iter().filter(|m| m.fstype == "bind").count();
        if fds.len() != stdio_count + 1 + binds {
            return Self::reply(&conn, &Reply::err("join: wrong number of descriptors"));
        }
        let mut fds = fds.into_iter();
        let (stdio, preserved) =
            match Self::stdio(&plan.process, fds.by_ref().take(stdio_count).collect()) {
                Ok(s) => s,
                Err(e) => return Self::reply(&conn, &Reply::err(e)),
            };
        let Some(gofer) = fds.next() else { return };
        let mounts = plan
            .mounts
            .iter()
            .map(|m| m.to_spec(if m.fstype == "bind" { fds.next() } else { None }))
            .collect();
        let cfg = sentry::ContainerConfig {
            init: plan.process.to_spec(stdio, preserved),
            overlay: plan.overlay,
            root_readonly: plan.root_readonly,
            gofer,
            mounts,
            masked_paths: plan.masked_paths,
            readonly_paths: plan.readonly_paths,
            seccomp: crate::seccomp::to_sentry(plan.seccomp),
        };
        let Ok(waiter) = conn.try_clone() else { return };
        let mut joined = lock(&self.joined);
        if joined.contains_key(&id) {
            return Self::reply(&conn, &Reply::err(format!("container {id} already joined")));
        }
        let pid = match self.lock().add_container(&id, cfg) {
            Ok(pid) => pid,
            Err(e) => return Self::reply(&conn, &Reply::err(e)),
        };
        joined.insert(id.clone(), waiter);
        drop(joined);
        // The caller going away (`delete`, or it was killed) takes the container out.
        Self::started(&conn, pid);
        lock(&self.joined).remove(&id);
        let _ = self.lock().remove_container(&id);
    }

    /// A process's standard I/O from the descriptors that came with it (three, or the one
    /// host terminal), and the descriptors preserved for it that follow them.
    fn stdio(
        process: &ProcessPlan,
        mut fds: Vec<OwnedFd>,
    ) -> anyhow::Result<(sentry::Stdio, Vec<OwnedFd>)> {
        let count = if process.terminal { 1 } else { 3 };
        if fds.len() != count + process.preserve_fds as usize {
            bail!("the process's descriptors did not all arrive");
        }
        let preserved = fds.split_off(count);
        Ok((Self::stdio_of(process, fds)?, preserved))
    }

    fn stdio_of(process: &ProcessPlan, fds: Vec<OwnedFd>) -> anyhow::Result<sentry::Stdio> {
        if process.terminal {
            let (rows, cols) = process.console_size.unwrap_or((0, 0));
            match <[OwnedFd; 1]>::try_from(fds) {
                Ok([host]) => Ok(sentry::Stdio::Console { host, rows, cols }),
                Err(_) => bail!("a process with a terminal needs its fd"),
            }
        } else {
            match <[OwnedFd; 3]>::try_from(fds) {
                Ok(s) => Ok(sentry::Stdio::Host(s)),
                Err(_) => bail!("a process needs three stdio descriptors"),
            }
        }
    }

    /// The terminal of process `pid` has a new size.
    pub fn resize(&self, pid: i32, rows: u16, cols: u16) -> anyhow::Result<()> {
        let sb = self.sandbox.lock().unwrap_or_else(|e| e.into_inner());
        sb.resize(pid, rows, cols)
            .map_err(|e| anyhow::anyhow!("resizing the terminal of {pid}: {e:?}"))
    }

    fn exec(&self, conn: OwnedFd, member: Option<String>, process: ProcessPlan, fds: Vec<OwnedFd>) {
        let (stdio, preserved) = match Self::stdio(&process, fds) {
            Ok(s) => s,
            Err(e) => return Self::reply(&conn, &Reply::err(format!("exec: {e}"))),
        };
        if self.status(member.as_deref()).ok() != Some("running") {
            return Self::reply(&conn, &Reply::err("the container is not running"));
        }
        let Ok(out) = conn.try_clone() else { return };
        let on_exit = Self::exit_reporter(out);
        let sb = self.lock();
        let spec = process.to_spec(stdio, preserved);
        let pid = match sb.exec(member.as_deref(), spec, on_exit) {
            Ok(pid) => pid,
            Err(e) => return Self::reply(&conn, &Reply::err(e)),
        };
        drop(sb);
        // The caller going away (its proxy killed) takes the process with it.
        Self::started(&conn, pid);
        let _ = self.k.signal_from_host(Some(pid), libc::SIGKILL);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
