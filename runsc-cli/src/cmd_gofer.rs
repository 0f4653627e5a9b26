//! `palisade gofer`: the file server process of a sandbox.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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
}

/// Start a gofer serving `root`; the sentry's end of its socket. The gofer dies with the
/// calling thread's process (PR_SET_PDEATHSIG), so call this from a thread that lives as
/// long as the sandbox.
pub fn spawn(root: &Path, writable: bool, quiet: bool) -> anyhow::Result<(Child, OwnedFd)> {
    let (gofer_end, sentry_end) =
        gofer::client::socketpair().context("creating the gofer socket")?;
    // The gofer inherits its end of the socket (the only fd we let through exec).
    fcntl(gofer_end.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty())).context("gofer socket")?;
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
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(if quiet {
            Stdio::null()
        } else {
            Stdio::inherit()
        })
        .spawn()
        .context("starting the gofer")?;
    Ok((child, sentry_end))
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
    // From here on the gofer works only through the descriptors it holds.
    gofer::confine::confine(&args.root).context("confining the gofer")?;
    match server.serve(args.fd) {
        Ok(()) => Ok(0),
        Err(e) => {
            // A malformed request closes the connection; the sentry sees EIO from then on.
            tracing::error!("gofer: {e}");
            Ok(1)
        }
    }
}
