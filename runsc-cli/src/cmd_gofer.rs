//! `palisade gofer`: the file server process of a sandbox.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};

use anyhow::Context;
use nix::fcntl::{fcntl, FcntlArg, FdFlag};

#[derive(clap::Args)]
pub struct Args {
    /// Inherited socket to serve on.
    #[arg(long)]
    fd: i32,
    /// Directory to serve.
    #[arg(long)]
    root: PathBuf,
    /// Allow changes to the tree (a root written through); read-only otherwise.
    #[arg(long)]
    writable: bool,
    /// Die with this process (the sandbox that started us).
    #[arg(long)]
    parent: Option<i32>,
    /// Also serve a bind mount's source: `FD:rw:PATH` or `FD:ro:PATH` (an inherited socket,
    /// whether changes are allowed, the host directory or file).
    #[arg(long = "mount")]
    mounts: Vec<String>,
}

/// A bind mount's source the gofer serves besides the root: (host path, writable).
pub type Bind = (PathBuf, bool);

/// One connection to the gofer: its end, inherited (the only fds we let through exec), and
/// the sentry's.
fn connection() -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let (gofer_end, sentry_end) =
        gofer::client::socketpair().context("creating the gofer socket")?;
    fcntl(gofer_end.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty())).context("gofer socket")?;
    Ok((gofer_end, sentry_end))
}

/// Start a gofer serving `root` and the sources of `binds`; the sentry's end of the root's
/// connection and of each bind's. The gofer dies with the calling thread's process
/// (PR_SET_PDEATHSIG), so call this from a thread that lives as long as the sandbox.
pub fn spawn(
    root: &Path,
    writable: bool,
    quiet: bool,
    binds: &[Bind],
) -> anyhow::Result<(Child, OwnedFd, Vec<OwnedFd>)> {
    let (gofer_end, sentry_end) = connection()?;
    let mut bind_args = Vec::new();
    let mut gofer_ends = Vec::new();
    let mut sentry_ends = Vec::new();
    for (path, rw) in binds {
        let (g, s) = connection()?;
        let mut arg = format!("{}:{}:", g.as_raw_fd(), if *rw { "rw" } else { "ro" }).into_bytes();
        arg.extend_from_slice(path.as_os_str().as_bytes());
        bind_args.push("--mount".into());
        bind_args.push(std::ffi::OsString::from_vec(arg));
        gofer_ends.push(g);
        sentry_ends.push(s);
    }
    let exe = std::env::current_exe().context("finding the palisade binary")?;
    let child = Command::new(exe)
        .arg("gofer")
        .arg("--fd")
        .arg(gofer_end.as_raw_fd().to_string())
        .arg("--root")
        .arg(root)
        .arg("--parent")
        .arg(std::process::id().to_string())
        .args(if writable { Some("--writable") } else { None })
        .args(bind_args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(if quiet {
            Stdio::null()
        } else {
            Stdio::inherit()
        })
        .spawn()
        .context("starting the gofer")?;
    drop(gofer_ends);
    Ok((child, sentry_end, sentry_ends))
}

/// A `--mount` argument: (fd, writable, path).
fn parse_mount(arg: &str) -> anyhow::Result<(i32, bool, PathBuf)> {
    let mut parts = arg.splitn(3, ':');
    let (Some(fd), Some(mode), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
        anyhow::bail!("--mount {arg}: expected FD:rw|ro:PATH");
    };
    let fd = fd.parse().with_context(|| format!("--mount {arg}: fd"))?;
    let writable = match mode {
        "rw" => true,
        "ro" => false,
        _ => anyhow::bail!("--mount {arg}: expected rw or ro"),
    };
    Ok((fd, writable, PathBuf::from(path)))
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if let Some(parent) = args.parent {
        // Die with the sandbox, even if it is SIGKILLed (and if it already is gone).
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
            .context("PR_SET_PDEATHSIG")?;
        if nix::unistd::getppid().as_raw() != parent {
            return Ok(1);
        }
    }
    // The gofer holds a descriptor per file the sentry has cached: allow as many as the hard
    // limit does.
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
    let mut server = gofer::server::Server::new(&args.root, args.writable).context("gofer")?;
    // Each bind mount's source is served by a thread of its own, which opens its tree now
    // and starts serving once the process is confined.
    let mounts = args
        .mounts
        .iter()
        .map(|m| parse_mount(m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let count = mounts.len();
    let confined = Arc::new(Barrier::new(count + 1));
    let (opened_tx, opened) = std::sync::mpsc::channel();
    for (fd, writable, path) in mounts {
        let (confined, opened_tx) = (confined.clone(), opened_tx.clone());
        std::thread::Builder::new()
            .name("gofer-mount".into())
            .spawn(move || {
                let server = gofer::server::Server::new(&path, writable)
                    .with_context(|| format!("bind mount source {}", path.display()));
                let failed = server.as_ref().err().map(|e| format!("{e:#}"));
                let _ = opened_tx.send(failed);
                confined.wait();
                if let Ok(mut server) = server {
                    if let Err(e) = server.serve(fd) {
                        tracing::error!("gofer: {}: {e}", path.display());
                    }
                }
            })
            .context("starting a gofer thread")?;
    }
    drop(opened_tx);
    if let Some(e) = opened.iter().take(count).flatten().next() {
        anyhow::bail!("{e}");
    }
    // From here on the gofer works only through the descriptors it holds.
    gofer::confine::confine(&args.root).context("confining the gofer")?;
    confined.wait();
    match server.serve(args.fd) {
        Ok(()) => Ok(0),
        Err(e) => {
            // A malformed request closes the connection; the sentry sees EIO from then on.
            tracing::error!("gofer: {e}");
            Ok(1)
        }
    }
}
