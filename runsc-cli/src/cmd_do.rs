//! `palisade do`: like `runsc do`, run a command in a sandbox over the host's root file system
//! (changes kept in sandbox memory unless `--overlay2 none`), with the caller's working
//! directory, environment and standard I/O.

use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

use anyhow::Context;

use crate::Global;

#[derive(clap::Args)]
pub struct Args {
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

/// Duplicates of this process's standard input, output and error.
pub fn own_stdio() -> anyhow::Result<[std::os::fd::OwnedFd; 3]> {
    let dup =
        |fd: std::os::fd::BorrowedFd<'_>| fd.try_clone_to_owned().context("duplicating stdio");
    Ok([
        dup(std::io::stdin().as_fd())?,
        dup(std::io::stdout().as_fd())?,
        dup(std::io::stderr().as_fd())?,
    ])
}

pub fn run(g: &Global, args: Args) -> anyhow::Result<i32> {
    // First: a missing /dev/kvm is reported before anything starts.
    let platform = g.platform_kind()?;
    let overlay = args.overlay2 == "root:memory";
    let root = args.rootfs.as_deref().unwrap_or(std::path::Path::new("/"));
    let (mut gofer, sentry_end, _) = crate::cmd_gofer::spawn(root, !overlay, false, &[])?;
    let host_network = g.network_or("none") == "host";
    let namespaced = crate::confine::namespaces(host_network)?;
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
    let container = sentry::ContainerConfig {
        init: sentry::ProcessSpec {
            argv: args.command.iter().map(|a| a.as_bytes().to_vec()).collect(),
            envp,
            cwd,
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            groups: Vec::new(),
            umask: 0o022,
            caps: None,
            no_new_privs: false,
            rlimits: Vec::new(),
            stdio: sentry::Stdio::Host(own_stdio()?),
            preserved: Vec::new(),
        },
        overlay,
        root_readonly: false,
        gofer: sentry_end,
        mounts: sentry::MountSpec::defaults(),
        masked_paths: Vec::new(),
        readonly_paths: Vec::new(),
        seccomp: Vec::new(),
    };
    // `do` has no network namespace to take over: loopback only, or the host's sockets.
    let cfg = sentry::BootConfig {
        container,
        hostname: nix::unistd::gethostname()
            .map(|h| h.as_bytes().to_vec())
            .unwrap_or_else(|_| b"palisade".to_vec()),
        strace: g.strace,
        init_unkillable: false,
        limits: sentry::Limits::default(),
        platform,
        nics: Vec::new(),
        host_network,
    };
    crate::confine::seal(namespaced, &std::env::temp_dir(), host_network)?;
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
