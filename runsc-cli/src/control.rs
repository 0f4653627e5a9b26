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
    State,
    Start,
    /// Signal init (`pid` None, `all` false), every process (`all`), or one process.
    Kill {
        sig: i32,
        all: bool,
        pid: Option<i32>,
    },
    Ps,
    Pause,
    Resume,
    Exec {
        process: ProcessPlan,
    },
    /// The host terminal of process `pid` changed size.
    Resize {
        pid: i32,
        rows: u16,
        cols: u16,
    },
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
            Request::State => {
                let status = if !self.started.load(Ordering::SeqCst) {
                    "created"
                } else if self.k.frozen() {
                    "paused"
                } else {
                    "running"
                };
                Reply {
                    status: Some(status.into()),
                    ..Reply::ok()
                }
            }
            Request::Start => match self.start() {
                Ok(()) => Reply::ok(),
                Err(e) => Reply::err(e),
            },
            Request::Kill { sig, all, pid } => {
                let target = if all { None } else { Some(pid.unwrap_or(1)) };
                match self.k.signal_from_host(target, sig) {
                    Ok(()) => {
                        // A container killed before it started dies without running.
                        if sig == libc::SIGKILL && target.is_none_or(|p| p == 1) {
                            let _ = self.start();
                        }
                        Reply::ok()
                    }
                    Err(e) => Reply::err(format!("signalling the container: {e:?}")),
                }
            }
            Request::Ps => Reply {
                processes: Some(
                    self.k
                        .processes()
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
            },
            Request::Pause | Request::Resume => {
                if !self.started.load(Ordering::SeqCst) {
                    Reply::err("the container is not running")
                } else {
                    self.k.set_frozen(matches!(req, Request::Pause));
                    Reply::ok()
                }
            }
            Request::Resize { pid, rows, cols } => match self.resize(pid, rows, cols) {
                Ok(()) => Reply::ok(),
                Err(e) => Reply::err(e),
            },
            Request::Exec { process } => return self.exec(conn, process, fds),
        };
        Self::reply(&conn, &r);
    }

    pub fn start(&self) -> anyhow::Result<()> {
        if self.started.swap(true, Ordering::SeqCst) {
            bail!("the container has already been started");
        }
        let mut sb = self.sandbox.lock().unwrap_or_else(|e| e.into_inner());
        sb.start()
            .map_err(|e| anyhow::anyhow!("starting the container: {e:?}"))
    }

    /// The terminal of process `pid` has a new size.
    pub fn resize(&self, pid: i32, rows: u16, cols: u16) -> anyhow::Result<()> {
        let sb = self.sandbox.lock().unwrap_or_else(|e| e.into_inner());
        sb.resize(pid, rows, cols)
            .map_err(|e| anyhow::anyhow!("resizing the terminal of {pid}: {e:?}"))
    }

    fn exec(&self, conn: OwnedFd, process: ProcessPlan, fds: Vec<OwnedFd>) {
        // Three stdio descriptors, or the one host terminal.
        let stdio = if process.terminal {
            let (rows, cols) = process.console_size.unwrap_or((0, 0));
            match <[OwnedFd; 1]>::try_from(fds) {
                Ok([host]) => sentry::Stdio::Console { host, rows, cols },
                Err(_) => {
                    return Self::reply(&conn, &Reply::err("exec with a terminal needs its fd"))
                }
            }
        } else {
            match <[OwnedFd; 3]>::try_from(fds) {
                Ok(s) => sentry::Stdio::Host(s),
                Err(_) => {
                    return Self::reply(&conn, &Reply::err("exec needs three stdio descriptors"))
                }
            }
        };
        if !self.started.load(Ordering::SeqCst) {
            return Self::reply(&conn, &Reply::err("the container is not running"));
        }
        let Ok(out) = conn.try_clone() else { return };
        let on_exit = Box::new(move |st: sentry::kernel::ExitStatus| {
            let r = Reply {
                exit: Some(st.shell_code()),
                ..Reply::ok()
            };
            Self::reply(&out, &r);
            let _ = socket::shutdown(out.as_raw_fd(), socket::Shutdown::Both);
        });
        let sb = self.sandbox.lock().unwrap_or_else(|e| e.into_inner());
        let pid = match sb.exec(process.to_spec(stdio), on_exit) {
            Ok(pid) => pid,
            Err(e) => return Self::reply(&conn, &Reply::err(e)),
        };
        drop(sb);
        Self::reply(
            &conn,
            &Reply {
                pid: Some(pid),
                ..Reply::ok()
            },
        );
        // The caller going away (its proxy killed) takes the process with it.
        let mut buf = gofer::sock::RecvBuf::new();
        while let Ok(Some(_)) = gofer::sock::recv_fds(conn.as_raw_fd(), &mut buf) {}
        let _ = self.k.signal_from_host(Some(pid), libc::SIGKILL);
    }
}
