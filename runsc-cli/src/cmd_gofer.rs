//! Starting a sandbox's gofer: the `palisade-gofer` binary installed next to `palisade`
//! (`src/gofer_main.rs`), a small program of its own so that the file server does not map
//! and relocate the whole runtime.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::Context;
use nix::fcntl::{fcntl, FcntlArg, FdFlag};

/// The gofer binary: `palisade-gofer` in the directory `palisade` runs from.
pub fn binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the palisade binary")?;
    let gofer = exe.with_file_name("palisade-gofer");
    anyhow::ensure!(
        gofer.is_file(),
        "{} is missing: palisade-gofer is installed next to palisade",
        gofer.display()
    );
    Ok(gofer)
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
    let child = Command::new(binary()?)
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
