//! `palisade do`: like `runsc do`, run a command in a sandbox over the host's root file system
//! (changes kept in sandbox memory unless `--overlay2 none`), with the caller's working
//! directory, environment and standard I/O.

use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use nix::fcntl::{fcntl, FcntlArg, FdFlag};

#[derive(clap::Args)]
pub struct Args {
    /// Platform that runs application code.
    #[arg(long, default_value = "ptrace", value_parser = ["ptrace", "kvm"])]
    platform: String,
    /// Print every syscall the sandboxed program makes.
    #[arg(long)]
    strace: bool,
    /// The root file system: `root:memory` (default) keeps changes in an overlay in sandbox
    /// memory; `none` writes them through to the host, as `runsc --overlay2=none`.
    #[arg(long, default_value = "root:memory", value_parser = ["root:memory", "none"])]
    overlay2: String,
    /// Directory to use as the sandbox's root file system instead of the host's `/` (the
    /// working directory is then `/`).
    #[arg(long)]
    rootfs: Option<std::path::PathBuf>,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<std::ffi::OsString>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if args.platform == "kvm" {
        bail!("the kvm platform is not available yet; use --platform ptrace");
    }
    let overlay = args.overlay2 == "root:memory";
    let (gofer_end, sentry_end) =
        gofer::client::socketpair().context("creating the gofer socket")?;
    // The gofer inherits its end of the socket (the only fd we let through exec).
    fcntl(gofer_end.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty())).context("gofer socket")?;
    let exe = std::env::current_exe().context("finding the palisade binary")?;
    let mut gofer = Command::new(exe)
        .arg("gofer")
        .arg("--fd")
        .arg(gofer_end.as_raw_fd().to_string())
        .arg("--root")
        .arg(args.rootfs.as_deref().unwrap_or(std::path::Path::new("/")))
        .args(if overlay { None } else { Some("--writable") })
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .context("starting the gofer")?;
    drop(gofer_end);

    let dup =
        |fd: std::os::fd::BorrowedFd<'_>| fd.try_clone_to_owned().context("duplicating stdio");
    let stdio = [
        dup(std::io::stdin().as_fd())?,
        dup(std::io::stdout().as_fd())?,
        dup(std::io::stderr().as_fd())?,
    ];
    let cwd = match &args.rootfs {
        Some(_) => b"/".to_vec(),
        None => std::env::current_dir()
            .map(|p| p.as_os_str().as_bytes().to_vec())
            .unwrap_or_else(|_| b"/".to_vec()),
    };
    let envp = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.as_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect();
    let cfg = sentry::BootConfig {
        argv: args.command.iter().map(|a| a.as_bytes().to_vec()).collect(),
        envp,
        cwd,
        hostname: nix::unistd::gethostname()
            .map(|h| h.as_bytes().to_vec())
            .unwrap_or_else(|_| b"palisade".to_vec()),
        uid: nix::unistd::getuid().as_raw(),
        gid: nix::unistd::getgid().as_raw(),
        strace: args.strace,
        overlay,
        stdio,
        gofer: sentry_end,
    };
    let result = sentry::boot(cfg);
    let _ = gofer.kill();
    let _ = gofer.wait();
    match result {
        Ok(status) => Ok(status.shell_code()),
        Err(e) => {
            eprintln!("palisade: {e}");
            Ok(e.exit_code())
        }
    }
}
