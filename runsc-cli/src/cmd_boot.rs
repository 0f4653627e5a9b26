//! `palisade boot`: the sandbox process of a container, started by `create`. It starts the
//! gofer, boots the sentry with the container's first process loaded, serves the control
//! socket, tells `create` it is ready, and exits with the first process's exit status (128+N
//! after signal N), so that the pid `create` wrote to --pid-file stands for the container.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::{control, oci, Global};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    bundle: PathBuf,
    /// The container's state directory (the control socket goes there).
    #[arg(long)]
    state_dir: PathBuf,
    /// Inherited pipe on which to report readiness (or the failure) to `create`.
    #[arg(long)]
    sync_fd: i32,
    /// Where to send the terminal's master (process.terminal).
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// Inherited fds 3 .. 3+N-1 go to the container's first process (runc's flag).
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
}

/// What `create` hears from the sandbox process.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Ready {
    pub error: Option<String>,
    pub gofer_pid: i32,
    /// Host cgroup directories made for the container.
    pub cgroups: Vec<PathBuf>,
}

pub fn run(g: &Global, args: Args) -> anyhow::Result<i32> {
    // Before anything takes their numbers.
    let preserved = crate::lifecycle::take_preserved(args.preserve_fds);
    let mut sync = crate::lifecycle::detach_with_sync(args.sync_fd)?;
    match preserved.and_then(|p| boot(g, &args, p)) {
        Ok((server, gofer_pid, mut gofer, cgroups)) => {
            let ready = Ready {
                error: None,
                gofer_pid,
                cgroups,
            };
            let _ = sync.write_all(&serde_json::to_vec(&ready)?);
            drop(sync);
            // What booting allocated and freed (the parsed configuration, the loader's
            // buffers) is not kept for the sandbox's lifetime.
            platform::host::trim_heap();
            let status = server.kernel().wait_init();
            let _ = gofer.kill();
            let _ = gofer.wait();
            Ok(status.shell_code())
        }
        Err(e) => {
            let ready = Ready {
                error: Some(format!("{e:#}")),
                gofer_pid: 0,
                cgroups: Vec::new(),
            };
            let _ = sync.write_all(&serde_json::to_vec(&ready)?);
            Ok(1)
        }
    }
}

/// The booted sandbox: its control server, the gofer, the cgroups made.
type Booted = (
    std::sync::Arc<control::Server>,
    i32,
    std::process::Child,
    Vec<PathBuf>,
);

fn boot(g: &Global, args: &Args, preserved: Vec<OwnedFd>) -> anyhow::Result<Booted> {
    // First: a missing /dev/kvm is reported before anything starts.
    let platform = g.platform_kind()?;
    let mut plan = oci::load(&args.bundle)?;
    // Into the container's cgroups first: the gofer and the stubs follow us there.
    let cgroups = match &plan.cgroups_path {
        Some(p) => crate::cgroup::join(p, plan.resources.as_ref())
            .with_context(|| format!("linux.cgroupsPath {}", p.display()))?,
        None => Vec::new(),
    };
    // The terminal blocks the signals its watcher takes: before the sentry's threads.
    let console = match (&args.console_socket, plan.init.terminal) {
        (Some(s), true) => Some(crate::console::open(s, plan.init.console_size)?),
        (None, true) => bail!("process.terminal is true but no --console-socket was given"),
        _ => None,
    };
    let overlay = g.overlay == "root:memory";
    // The gofer first: it leaves the host's mount namespace on its own.
    let mut mounts = std::mem::take(&mut plan.mounts);
    let binds: Vec<crate::cmd_gofer::Bind> = mounts
        .iter()
        .filter(|m| m.fstype == "bind")
        .map(|m| (PathBuf::from(&m.source), !m.flags.read_only))
        .collect();
    let (gofer, sentry_end, bind_ends) =
        crate::cmd_gofer::spawn(&plan.root, !overlay, true, &binds)?;
    for (m, conn) in mounts
        .iter_mut()
        .filter(|m| m.fstype == "bind")
        .zip(bind_ends)
    {
        m.gofer = Some(conn);
    }
    let gofer_pid = gofer.id() as i32;
    // The container's interfaces, taken over before we leave for a namespace of our own.
    let host_network = g.network_or("sandbox") == "host";
    let nics = match (g.network_or("sandbox"), plan.network_namespace()) {
        ("sandbox", Some(ns)) => crate::netns::take_interfaces(&ns)?,
        // Host sockets are made in the container's network namespace when it names one.
        ("host", Some(ns)) => {
            crate::netns::join(&ns)?;
            Vec::new()
        }
        _ => Vec::new(),
    };
    let namespaced = crate::confine::namespaces(host_network)?;
    let listener = control::bind(&args.state_dir)?;
    let hostname = if plan.hostname.is_empty() {
        "palisade".to_string()
    } else {
        plan.hostname.clone()
    };
    let (stdio, slave) = match console {
        Some((slave, (rows, cols))) => {
            let host = slave.try_clone()?;
            (sentry::Stdio::Console { host, rows, cols }, Some(slave))
        }
        None => (sentry::Stdio::Host(crate::cmd_do::own_stdio()?), None),
    };
    let container = sentry::ContainerConfig {
        init: plan.init.to_spec(stdio, preserved),
        overlay,
        root_readonly: plan.root_readonly,
        gofer: sentry_end,
        mounts,
        masked_paths: std::mem::take(&mut plan.masked_paths),
        readonly_paths: std::mem::take(&mut plan.readonly_paths),
        seccomp: crate::seccomp::to_sentry(std::mem::take(&mut plan.seccomp)),
    };
    let cfg = sentry::BootConfig {
        container,
        hostname: hostname.into_bytes(),
        strace: g.strace,
        init_unkillable: true,
        limits: crate::cgroup::sandbox_limits(plan.resources.as_ref()),
        platform,
        nics,
        host_network,
    };
    // No host path from here on (the empty root goes over the state directory, in our
    // mount namespace only).
    crate::confine::seal(namespaced, &args.state_dir, host_network)?;
    let sandbox = sentry::Sandbox::new(cfg).map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = control::Server::new(sandbox);
    server.listen(listener)?;
    if let Some(slave) = slave {
        let s = server.clone();
        crate::console::watch_resize(slave, move |rows, cols| {
            let _ = s.resize(1, rows, cols);
        });
    }
    Ok((server, gofer_pid, gofer, cgroups))
}
