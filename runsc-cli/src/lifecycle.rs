//! The OCI lifecycle commands, with runc's command lines: create, start, state, kill, delete,
//! exec, ps, pause, resume, run, list, events, update, spec, features.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::signal::{SigSet, Signal};

use crate::control::{self, Request};
use crate::state::{self, Container, Status};
use crate::{hooks, oci, Global};

#[derive(clap::Args)]
pub struct IdArg {
    id: String,
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// The bundle directory (holding config.json).
    #[arg(long, short, default_value = ".")]
    bundle: PathBuf,
    /// Write the pid of the process standing for the container here.
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Unix socket to send the terminal's master end to.
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    no_pivot: bool,
    /// Accepted for runc compatibility.
    #[arg(long)]
    no_new_keyring: bool,
    /// Pass the caller's fds 3 .. 3+N-1 to the container's first process as its own.
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    id: String,
}

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    create: CreateArgs,
    /// Return once the container has started.
    #[arg(long, short)]
    detach: bool,
    /// Keep the container's state after it exits.
    #[arg(long)]
    keep: bool,
}

#[derive(clap::Args)]
pub struct KillArgs {
    /// Signal every process of the container.
    #[arg(long, short)]
    all: bool,
    id: String,
    /// Signal name or number (default SIGTERM).
    #[arg(default_value = "SIGTERM")]
    signal: String,
}

#[derive(clap::Args)]
pub struct DeleteArgs {
    /// Kill the container first if it is still running.
    #[arg(long, short)]
    force: bool,
    id: String,
}

#[derive(clap::Args)]
pub struct ExecArgs {
    /// JSON file with the OCI `process` to run.
    #[arg(long, short)]
    process: Option<PathBuf>,
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// Allocate a terminal.
    #[arg(long, short)]
    tty: bool,
    /// Return once the process has started.
    #[arg(long, short)]
    detach: bool,
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Working directory (without --process).
    #[arg(long)]
    cwd: Option<String>,
    /// Extra environment variables NAME=VALUE (without --process).
    #[arg(long, short)]
    env: Vec<String>,
    /// UID[:GID] to run as (without --process).
    #[arg(long, short)]
    user: Option<String>,
    /// Additional gids (without --process).
    #[arg(long, short = 'g')]
    additional_gids: Vec<u32>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    no_new_privs: bool,
    /// Accepted for runc compatibility.
    #[arg(long, short)]
    cap: Vec<String>,
    /// Pass the caller's fds 3 .. 3+N-1 to the process as its own.
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    /// Accepted for runc compatibility.
    #[arg(long)]
    apparmor: Option<String>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    process_label: Option<String>,
    /// Accepted for runc compatibility.
    #[arg(long)]
    cgroup: Vec<String>,
    id: String,
    /// The command to run (without --process).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(clap::Args)]
pub struct ProxyArgs {
    #[arg(long)]
    state_dir: PathBuf,
    #[arg(long)]
    sync_fd: i32,
    /// The process, as the control socket takes it (JSON).
    #[arg(long)]
    process: String,
    /// Where to send the terminal's master (a process with a terminal).
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// The container of a pod to exec in (one that joined the sandbox).
    #[arg(long)]
    container: Option<String>,
}

#[derive(clap::Args)]
pub struct JoinArgs {
    /// The state directory of the pod's sandbox container (its control socket).
    #[arg(long)]
    state_dir: PathBuf,
    #[arg(long)]
    sync_fd: i32,
    #[arg(long)]
    bundle: PathBuf,
    /// Where to send the terminal's master (process.terminal).
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// Inherited fds 3 .. 3+N-1 go to the container's first process.
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    id: String,
}

#[derive(clap::Args)]
pub struct PsArgs {
    #[arg(long, short, default_value = "table", value_parser = ["table", "json"])]
    format: String,
    id: String,
    /// ps(1) options (accepted, not used).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    ps_args: Vec<String>,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[arg(long, short, default_value = "table", value_parser = ["table", "json"])]
    format: String,
    /// Print only the ids.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args)]
pub struct EventsArgs {
    /// Print resource usage once and exit.
    #[arg(long)]
    stats: bool,
    /// Interval between stats events.
    #[arg(long, default_value = "5s")]
    interval: String,
    id: String,
}

#[derive(clap::Args)]
pub struct UpdateArgs {
    /// LinuxResources JSON file, or `-` for standard input.
    #[arg(long, short)]
    resources: Option<String>,
    /// Other runc update flags are accepted through --resources only.
    id: String,
}

#[derive(clap::Args)]
pub struct SpecArgs {
    #[arg(long, short, default_value = ".")]
    bundle: PathBuf,
}

#[derive(clap::Args)]
pub struct Unsupported {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Where a container's requests go: the control socket's directory (its own, or that of
/// the pod's sandbox it joined) and, for a container that joined, its id there.
fn target(g: &Global, c: &Container) -> (PathBuf, Option<String>) {
    match &c.sandbox {
        Some(s) => (state::dir(&g.root, s), Some(c.id.clone())),
        None => (state::dir(&g.root, &c.id), None),
    }
}

/// The container's status: asked of the sandbox while its process runs.
fn status(g: &Global, c: &Container) -> Status {
    if !c.sandbox_alive() {
        return Status::Stopped;
    }
    let (dir, container) = target(g, c);
    match control::call(&dir, &Request::State { container }) {
        Ok(r) => Status::parse(r.status.as_deref().unwrap_or("")),
        // Booting, or winding down after its first process exited.
        Err(_) => Status::Running,
    }
}

/// The OCI state of a container (runtime spec, "State").
fn state_json(c: &Container, st: Status) -> serde_json::Value {
    serde_json::json!({
        "ociVersion": "1.0.2",
        "id": c.id,
        "pid": if st == Status::Stopped { 0 } else { c.pid },
        "status": st.as_str(),
        "bundle": c.bundle,
        "rootfs": c.rootfs,
        "created": c.created,
        "owner": c.owner,
        "annotations": c.annotations,
    })
}

/// Write `pid` to `path` atomically.
fn write_pid_file(path: &Path, pid: i32) -> anyhow::Result<()> {
    let tmp = path.with_extension("palisade-tmp");
    std::fs::write(&tmp, pid.to_string()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// The most descriptors `--preserve-fds` passes on (they travel in one message with the
/// stdio and, for a pod's container, its gofer connections).
const MAX_PRESERVED: u32 = 32;

/// Take the inherited descriptors 3 .. 3+n-1 that `--preserve-fds n` passes on, made
/// close-on-exec (they are the container's, not our helpers').
pub fn take_preserved(n: u32) -> anyhow::Result<Vec<OwnedFd>> {
    if n > MAX_PRESERVED {
        bail!("--preserve-fds {n}: at most {MAX_PRESERVED} descriptors are passed on");
    }
    (3..3 + n as i32)
        .map(|fd| {
            let owned = platform::host::take_inherited(fd)
                .with_context(|| format!("--preserve-fds {n}: descriptor {fd} is not open"))?;
            fcntl(owned.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
            Ok(owned)
        })
        .collect()
}

/// In a process `sync_pipe` made: leave the caller's session (signals for its terminal or
/// process group are not ours) and take the inherited pipe, reopened as an owned file (the
/// inherited number closed, so that our own children do not inherit it).
pub fn detach_with_sync(fd: i32) -> anyhow::Result<std::fs::File> {
    let _ = nix::unistd::setsid();
    let sync = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/self/fd/{fd}"))
        .context("opening the sync pipe")?;
    let _ = nix::unistd::close(fd);
    Ok(sync)
}

/// This binary, to run one of our helper processes (boot, proxy), with our state root and
/// logging.
fn helper_command(g: &Global) -> anyhow::Result<Command> {
    let exe = std::env::current_exe().context("finding the palisade binary")?;
    let mut cmd = Command::new(exe);
    cmd.arg("--root")
        .arg(&g.root)
        .arg("--log-format")
        .arg(&g.log_format)
        .arg("--log-level")
        .arg(if g.debug { "debug" } else { &g.log_level });
    if let Some(l) = &g.log {
        cmd.arg("--log").arg(l);
    }
    Ok(cmd)
}

/// Start `cmd` as the first process of a new pid namespace (when we may; plainly when we are
/// not privileged): the sandbox process then sees no host process, and when it dies the
/// kernel kills everything left in the namespace (gofer, stubs).
fn spawn_in_new_pid_namespace(cmd: &mut Command) -> std::io::Result<Child> {
    std::thread::scope(|s| {
        s.spawn(|| {
            // Only the children this thread creates from now on enter the namespace.
            if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWPID) {
                tracing::debug!("no pid namespace for the sandbox: {e}");
            }
            cmd.spawn()
        })
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("spawning thread panicked")))
    })
}

/// A pipe whose write end a child inherits (by number); the read end stays ours.
fn sync_pipe() -> anyhow::Result<(std::fs::File, std::os::fd::OwnedFd)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    fcntl(w.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty()))?;
    Ok((std::fs::File::from(r), w))
}

/// Removes a half-made container's directory unless defused.
struct Cleanup(Option<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(d) = self.0.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Start the sandbox process of a new container (`palisade boot`, the first process of a
/// new pid namespace) and wait until it is ready: it, its gofer's pid, the cgroups made.
fn spawn_sandbox(
    g: &Global,
    a: &CreateArgs,
    bundle: &Path,
    dir: &Path,
) -> anyhow::Result<(Child, i32, Vec<PathBuf>)> {
    let (sync_r, sync_w) = sync_pipe()?;
    let mut cmd = helper_command(g)?;
    cmd.arg("--platform")
        .arg(&g.platform)
        .arg("--overlay")
        .arg(&g.overlay);
    if let Some(n) = &g.network {
        cmd.arg("--network").arg(n);
    }
    if g.strace {
        cmd.arg("--strace");
    }
    cmd.arg("boot")
        .arg("--preserve-fds")
        .arg(a.preserve_fds.to_string())
        .arg("--bundle")
        .arg(bundle)
        .arg("--state-dir")
        .arg(dir)
        .arg("--sync-fd")
        .arg(sync_w.as_raw_fd().to_string());
    if let Some(s) = &a.console_socket {
        cmd.arg("--console-socket").arg(s);
    }
    let child = spawn_in_new_pid_namespace(&mut cmd).context("starting the sandbox")?;
    drop(sync_w);
    let (child, ready) = wait_ready(child, sync_r, "starting the sandbox process")?;
    Ok((child, ready.gofer_pid, ready.cgroups))
}

/// Add a pod's container to the running sandbox of the pod's sandbox container `sandbox`:
/// start `palisade join`, which stands for the container's first process; it, the pid of
/// the container's gofer and the cgroups made for it.
fn spawn_join(
    g: &Global,
    a: &CreateArgs,
    bundle: &Path,
    sandbox: &str,
) -> anyhow::Result<(Child, i32, Vec<PathBuf>)> {
    let s = state::load(&g.root, sandbox)
        .with_context(|| format!("the pod's sandbox container {sandbox}"))?;
    if let Some(other) = &s.sandbox {
        bail!("container {sandbox} is not a pod's sandbox (it joined {other})");
    }
    match status(g, &s) {
        Status::Created | Status::Running => {}
        st => bail!("the pod's sandbox container {sandbox} is {}", st.as_str()),
    }
    let (sync_r, sync_w) = sync_pipe()?;
    let mut cmd = helper_command(g)?;
    cmd.arg("--overlay")
        .arg(&g.overlay)
        .arg("join")
        .arg("--preserve-fds")
        .arg(a.preserve_fds.to_string());
    if let Some(s) = &a.console_socket {
        cmd.arg("--console-socket").arg(s);
    }
    cmd.arg("--state-dir")
        .arg(state::dir(&g.root, sandbox))
        .arg("--sync-fd")
        .arg(sync_w.as_raw_fd().to_string())
        .arg("--bundle")
        .arg(bundle)
        .arg(&a.id);
    let child = cmd.spawn().context("starting the container's process")?;
    drop(sync_w);
    let (child, ready) = wait_ready(child, sync_r, "joining the pod's sandbox")?;
    Ok((child, ready.gofer_pid, ready.cgroups))
}

/// Create the container; the sandbox process (our child).
fn do_create(g: &Global, a: &CreateArgs) -> anyhow::Result<(Container, Child)> {
    state::check_id(&a.id)?;
    let root = state::root_dir(&g.root)?;
    let bundle = std::fs::canonicalize(&a.bundle)
        .with_context(|| format!("bundle {}", a.bundle.display()))?;
    let plan = oci::load(&bundle)?;
    if plan.init.terminal && a.console_socket.is_none() {
        bail!("process.terminal is true but no --console-socket was given");
    }
    let dir = state::dir(&root, &a.id);
    match std::fs::create_dir(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("container with id {} already exists", a.id)
        }
        Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
    }
    let mut cleanup = Cleanup(Some(dir.clone()));
    let _lock = state::lock(&root, &a.id)?;
    let pod_sandbox = plan.pod_sandbox(&a.id);
    let (mut child, gofer_pid, cgroups) = match &pod_sandbox {
        Some(sandbox) => spawn_join(g, a, &bundle, sandbox)?,
        None => spawn_sandbox(g, a, &bundle, &dir)?,
    };
    let pid = child.id() as i32;
    let c = Container {
        id: a.id.clone(),
        bundle: bundle.clone(),
        rootfs: plan.root.clone(),
        pid,
        start_time: state::proc_start(pid).map_or(0, |(t, _)| t),
        gofer_pid,
        created: state::rfc3339_now(),
        owner: String::new(),
        annotations: plan.annotations.clone(),
        cgroups,
        sandbox: pod_sandbox,
    };
    let fail = |child: &mut Child, e: anyhow::Error| {
        let _ = child.kill();
        let _ = child.wait();
        Err(e)
    };
    if let Err(e) = state::save(&root, &c) {
        return fail(&mut child, e);
    }
    let st = state_json(&c, Status::Created);
    let h = plan.spec.hooks().as_ref();
    #[allow(deprecated)]
    let prestart = h.and_then(|h| h.prestart().as_ref());
    for (stage, list) in [
        ("prestart", prestart),
        ("createRuntime", h.and_then(|h| h.create_runtime().as_ref())),
        (
            "createContainer",
            h.and_then(|h| h.create_container().as_ref()),
        ),
    ] {
        if let Err(e) = hooks::run(stage, list, &st) {
            return fail(&mut child, e);
        }
    }
    if let Some(p) = &a.pid_file {
        if let Err(e) = write_pid_file(p, pid) {
            return fail(&mut child, e);
        }
    }
    cleanup.0 = None;
    Ok((c, child))
}

pub fn create(g: &Global, a: CreateArgs) -> anyhow::Result<i32> {
    // The sandbox process outlives us (containerd's shim, a subreaper, adopts and reaps it).
    let _ = do_create(g, &a)?;
    Ok(0)
}

fn do_start(g: &Global, id: &str) -> anyhow::Result<Container> {
    let c = state::load(&g.root, id)?;
    match status(g, &c) {
        Status::Created => {}
        s => bail!("cannot start a container that is {}", s.as_str()),
    }
    let (dir, container) = target(g, &c);
    control::call(&dir, &Request::Start { container })?;
    let spec = oci::load(&c.bundle).ok();
    let st = state_json(&c, Status::Running);
    if let Some(h) = spec.as_ref().and_then(|p| p.spec.hooks().as_ref()) {
        if let Err(e) = hooks::run("poststart", h.poststart().as_ref(), &st) {
            tracing::warn!("{e:#}");
        }
    }
    Ok(c)
}

pub fn start(g: &Global, a: IdArg) -> anyhow::Result<i32> {
    do_start(g, &a.id)?;
    Ok(0)
}

pub fn state(g: &Global, a: IdArg) -> anyhow::Result<i32> {
    let c = state::load(&g.root, &a.id)?;
    let st = status(g, &c);
    println!("{}", serde_json::to_string_pretty(&state_json(&c, st))?);
    Ok(0)
}

/// A signal by name (KILL, SIGKILL) or number.
pub fn parse_signal(s: &str) -> anyhow::Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
        bail!("invalid signal {s}");
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    name.parse::<Signal>()
        .map(|s| s as i32)
        .map_err(|_| anyhow::anyhow!("invalid signal {s}"))
}

pub fn kill(g: &Global, a: KillArgs) -> anyhow::Result<i32> {
    let sig = parse_signal(&a.signal)?;
    let c = state::load(&g.root, &a.id)?;
    if status(g, &c) == Status::Stopped {
        // containerd's shim kills every process of a stopped container on delete.
        if a.all {
            return Ok(0);
        }
        bail!("container {} is not running", a.id);
    }
    let (dir, container) = target(g, &c);
    let req = Request::Kill {
        sig,
        all: a.all,
        pid: None,
        container,
    };
    match control::call(&dir, &req) {
        Ok(_) => Ok(0),
        // It stopped meanwhile.
        Err(_) if a.all && !c.sandbox_alive() => Ok(0),
        Err(e) => Err(e),
    }
}

/// Wait (a little) for host process `pid` to be gone or a zombie.
fn wait_gone(pid: i32, start_time: u64, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    loop {
        match state::proc_start(pid) {
            Some((t, true)) if t == start_time || start_time == 0 => {}
            _ => return true,
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Kill the sandbox and its gofer, remove the container's state.
fn destroy(g: &Global, c: &Container) -> anyhow::Result<()> {
    if c.sandbox_alive() {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.pid), Signal::SIGKILL);
        if !wait_gone(c.pid, c.start_time, Duration::from_secs(5)) {
            bail!("the sandbox process {} did not die", c.pid);
        }
    }
    // The gofer dies with the sandbox (PR_SET_PDEATHSIG); make sure of it.
    if c.gofer_pid > 0 {
        let gofer_ours = std::fs::read(format!("/proc/{}/cmdline", c.gofer_pid))
            .map(|cmd| {
                cmd.split(|&b| b == 0)
                    .any(|a| a == format!("{}", c.pid).as_bytes())
            })
            .unwrap_or(false);
        if gofer_ours {
            let pid = nix::unistd::Pid::from_raw(c.gofer_pid);
            let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
            wait_gone(c.gofer_pid, 0, Duration::from_secs(2));
        }
    }
    if let Ok(plan) = oci::load(&c.bundle) {
        let st = state_json(c, Status::Stopped);
        if let Some(h) = plan.spec.hooks().as_ref() {
            if let Err(e) = hooks::run("poststop", h.poststop().as_ref(), &st) {
                tracing::warn!("{e:#}");
            }
        }
    }
    crate::cgroup::remove(&c.cgroups);
    let dir = state::dir(&g.root, &c.id);
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))
}

pub fn delete(g: &Global, a: DeleteArgs) -> anyhow::Result<i32> {
    let c = state::load(&g.root, &a.id)?;
    let _lock = state::lock(&g.root, &a.id)?;
    let st = status(g, &c);
    if st != Status::Stopped && !a.force {
        bail!(
            "cannot delete container {} that is not stopped: {}",
            a.id,
            st.as_str()
        );
    }
    destroy(g, &c)?;
    Ok(0)
}

/// The process `exec` runs: from --process, or the container's own process with the
/// command line's changes (as runc does).
fn exec_process(c: &Container, a: &ExecArgs) -> anyhow::Result<oci::ProcessPlan> {
    if let Some(p) = &a.process {
        let text = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
        let proc: oci_spec::runtime::Process =
            oci::parse_json(&text).with_context(|| format!("{}", p.display()))?;
        let mut plan = oci::process_plan(&proc, "process")?;
        plan.preserve_fds = a.preserve_fds;
        return Ok(plan);
    }
    if a.command.is_empty() {
        bail!("exec needs a command (or --process)");
    }
    let plan = oci::load(&c.bundle)?;
    let mut p = plan.init;
    p.args = a.command.clone();
    p.env.extend(a.env.iter().cloned());
    if let Some(cwd) = &a.cwd {
        p.cwd = cwd.clone();
    }
    if let Some(u) = &a.user {
        let (uid, gid) = u.split_once(':').unwrap_or((u, "0"));
        p.uid = uid.parse().with_context(|| format!("--user {u}"))?;
        p.gid = gid.parse().with_context(|| format!("--user {u}"))?;
    }
    p.groups.extend(a.additional_gids.iter().copied());
    p.terminal = a.tty;
    p.preserve_fds = a.preserve_fds;
    Ok(p)
}

/// Start the proxy that stands for an exec'd process.
fn spawn_proxy(
    g: &Global,
    dir: &Path,
    container: Option<&str>,
    p: &oci::ProcessPlan,
    console_socket: Option<&Path>,
) -> anyhow::Result<Child> {
    let (sync_r, sync_w) = sync_pipe()?;
    let mut cmd = helper_command(g)?;
    cmd.arg("proxy");
    if let Some(s) = console_socket {
        cmd.arg("--console-socket").arg(s);
    }
    if let Some(c) = container {
        cmd.arg("--container").arg(c);
    }
    cmd.arg("--state-dir")
        .arg(dir)
        .arg("--sync-fd")
        .arg(sync_w.as_raw_fd().to_string())
        .arg("--process")
        .arg(serde_json::to_string(p)?);
    let child = cmd.spawn().context("starting the exec proxy")?;
    drop(sync_w);
    wait_ready(child, sync_r, "the exec proxy").map(|(c, _)| c)
}

/// Wait for a standing-in process (proxy, join) to report on `sync_r`: the child and what
/// it reports, or its error.
fn wait_ready(
    mut child: Child,
    mut sync_r: std::fs::File,
    what: &str,
) -> anyhow::Result<(Child, crate::cmd_boot::Ready)> {
    let mut buf = Vec::new();
    let _ = sync_r.read_to_end(&mut buf);
    let ready: Option<crate::cmd_boot::Ready> = serde_json::from_slice(&buf).ok();
    match ready {
        Some(r) if r.error.is_none() => Ok((child, r)),
        other => {
            let _ = child.kill();
            let _ = child.wait();
            match other.and_then(|r| r.error) {
                Some(e) => bail!("{e}"),
                None => bail!("{what} failed"),
            }
        }
    }
}

pub fn exec(g: &Global, a: ExecArgs) -> anyhow::Result<i32> {
    let c = state::load(&g.root, &a.id)?;
    match status(g, &c) {
        Status::Running => {}
        s => bail!("cannot exec in a container that is {}", s.as_str()),
    }
    let (dir, container) = target(g, &c);
    let p = exec_process(&c, &a)?;
    if p.terminal && a.console_socket.is_none() {
        bail!("process.terminal is true but no --console-socket was given");
    }
    let mut child = spawn_proxy(
        g,
        &dir,
        container.as_deref(),
        &p,
        a.console_socket.as_deref(),
    )?;
    if let Some(f) = &a.pid_file {
        write_pid_file(f, child.id() as i32)?;
    }
    if a.detach {
        return Ok(0);
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    wait_forwarding(&mut child, |sig| {
        let _ = nix::sys::signal::kill(pid, Signal::try_from(sig).ok());
    })
}

/// Wait for `child`, passing on the signals we get; its exit status as a shell gives it.
fn wait_forwarding(child: &mut Child, forward: impl Fn(i32)) -> anyhow::Result<i32> {
    let set = forwarded_signals();
    set.thread_block()?;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    loop {
        // SIGCHLD is in the set: it wakes us when the child exits.
        let sig = set.wait()?;
        if sig != Signal::SIGCHLD {
            forward(sig as i32);
        }
        use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
        match waitpid(pid, Some(WaitPidFlag::WNOHANG))? {
            WaitStatus::Exited(_, code) => return Ok(code),
            WaitStatus::Signaled(_, s, _) => return Ok(128 + s as i32),
            _ => {}
        }
    }
}

/// Signals a standing-in process passes on (everything it can catch).
fn forwarded_signals() -> SigSet {
    let mut set = SigSet::all();
    set.remove(Signal::SIGKILL);
    set.remove(Signal::SIGSTOP);
    set
}

/// `palisade proxy`: start the process in the sandbox with our stdio, tell `exec` it runs,
/// pass on the signals we get, and exit with its status.
pub fn proxy(_g: &Global, a: ProxyArgs) -> anyhow::Result<i32> {
    // Before anything takes their numbers.
    let preserved = match serde_json::from_str::<oci::ProcessPlan>(&a.process) {
        Ok(p) => take_preserved(p.preserve_fds),
        Err(e) => Err(e.into()),
    };
    let sync = detach_with_sync(a.sync_fd)?;
    forwarded_signals().thread_block()?;
    let started = proxy_start(&a, preserved).map(|(conn, pid, console)| Started {
        conn,
        pid,
        console,
        gofer: 0,
        cgroups: Vec::new(),
    });
    stand_for(sync, started, &a.state_dir, a.container.clone())
}

/// A process started in the sandbox.
struct Started {
    /// The connection that will bring its exit status.
    conn: OwnedFd,
    pid: i32,
    /// Its host terminal, if it has one.
    console: Option<OwnedFd>,
    /// The gofer started for it (a pod's container), or 0.
    gofer: i32,
    /// Host cgroups made for it (a pod's container).
    cgroups: Vec<PathBuf>,
}

/// Having started a process in the sandbox whose control socket is in `dir` (or failed
/// to), tell our creator over `sync` (a `Ready`), then stand for the process: pass on the
/// signals we get and exit with its status.
fn stand_for(
    mut sync: std::fs::File,
    started: anyhow::Result<Started>,
    dir: &Path,
    container: Option<String>,
) -> anyhow::Result<i32> {
    use std::io::Write;
    let ready = |error, gofer_pid, cgroups| crate::cmd_boot::Ready {
        error,
        gofer_pid,
        cgroups,
    };
    let started = match started {
        Ok(x) => x,
        Err(e) => {
            let r = ready(Some(format!("{e:#}")), 0, Vec::new());
            let _ = sync.write_all(&serde_json::to_vec(&r)?);
            return Ok(1);
        }
    };
    let Started {
        conn,
        pid,
        console,
        gofer,
        cgroups,
    } = started;
    let terminal = console.is_some();
    let _ = sync.write_all(&serde_json::to_vec(&ready(None, gofer, cgroups))?);
    drop(sync);
    let dir = dir.to_path_buf();
    let set = forwarded_signals();
    std::thread::spawn(move || loop {
        let Ok(sig) = set.wait() else { return };
        if sig == Signal::SIGCHLD || (terminal && sig == Signal::SIGHUP) {
            continue;
        }
        if let (Some(slave), Signal::SIGWINCH) = (&console, sig) {
            if let Ok(w) = platform::host::winsize(slave.as_raw_fd()) {
                let (rows, cols) = (w.ws_row, w.ws_col);
                let _ = control::call(&dir, &Request::Resize { pid, rows, cols });
            }
            continue;
        }
        let req = Request::Kill {
            sig: sig as i32,
            all: false,
            pid: Some(pid),
            container: container.clone(),
        };
        let _ = control::call(&dir, &req);
    });
    use std::os::fd::AsFd;
    loop {
        match control::read_reply(conn.as_fd()) {
            Ok(Some(r)) => {
                if let Some(code) = r.exit {
                    return Ok(code);
                }
            }
            // The sandbox is gone, and the process with it.
            _ => return Ok(128 + libc::SIGKILL),
        }
    }
}

/// The host terminal of a process with `terminal` (its master sent to `socket`), with
/// `process.console_size` updated to its size.
fn open_console(
    socket: Option<&Path>,
    process: &mut oci::ProcessPlan,
) -> anyhow::Result<Option<OwnedFd>> {
    match socket {
        Some(s) if process.terminal => {
            let (slave, size) = crate::console::open(s, process.console_size)?;
            process.console_size = Some(size);
            Ok(Some(slave))
        }
        _ => Ok(None),
    }
}

/// The descriptors that carry a process's stdio: its host terminal, or our 0, 1 and 2.
fn stdio_fds(console: &Option<OwnedFd>) -> Vec<i32> {
    match console {
        Some(slave) => vec![slave.as_raw_fd()],
        None => vec![0, 1, 2],
    }
}

/// Start the proxy's process: the connection that will bring its exit status, its pid, and
/// its host terminal if it has one.
fn proxy_start(
    a: &ProxyArgs,
    preserved: anyhow::Result<Vec<OwnedFd>>,
) -> anyhow::Result<(OwnedFd, i32, Option<OwnedFd>)> {
    let preserved = preserved?;
    let mut process: oci::ProcessPlan = serde_json::from_str(&a.process)?;
    let console = open_console(a.console_socket.as_deref(), &mut process)?;
    let mut fds = stdio_fds(&console);
    fds.extend(preserved.iter().map(|f| f.as_raw_fd()));
    let req = Request::Exec {
        process,
        container: a.container.clone(),
    };
    let (conn, reply) = control::call_with(&a.state_dir, &req, &fds)?;
    match reply.pid.filter(|_| reply.ok) {
        Some(pid) => Ok((conn, pid, console)),
        None => bail!("{}", reply.error.unwrap_or_else(|| "exec failed".into())),
    }
}

/// `palisade join`: the host process standing for a pod's container that joins the pod's
/// running sandbox. It starts the container's gofer (which dies with it), sends the
/// container to the sandbox, and exits with its first process's status; killing it takes
/// the container out of the sandbox.
pub fn join(g: &Global, a: JoinArgs) -> anyhow::Result<i32> {
    let preserved = take_preserved(a.preserve_fds);
    let sync = detach_with_sync(a.sync_fd)?;
    forwarded_signals().thread_block()?;
    let started = preserved.and_then(|p| join_start(g, &a, p));
    stand_for(sync, started, &a.state_dir, Some(a.id.clone()))
}

fn join_start(g: &Global, a: &JoinArgs, preserved: Vec<OwnedFd>) -> anyhow::Result<Started> {
    let mut plan = oci::load(&a.bundle)?;
    plan.init.preserve_fds = preserved.len() as u32;
    let overlay = g.overlay == "root:memory";
    // Into the container's cgroups first, with its gofer: containerd reads the container's
    // cgroup from the pid file's process. (The container's processes themselves run in the
    // pod's sandbox, under the sandbox container's cgroups.)
    let cgroups = match &plan.cgroups_path {
        Some(p) => crate::cgroup::join(p, plan.resources.as_ref())
            .with_context(|| format!("linux.cgroupsPath {}", p.display()))?,
        None => Vec::new(),
    };
    let binds: Vec<crate::cmd_gofer::Bind> = plan
        .mounts
        .iter()
        .filter(|m| m.fstype == "bind")
        .map(|m| (PathBuf::from(&m.source), !m.flags.read_only))
        .collect();
    // Its descriptors travel in one message: stdio, the root's connection, the binds'.
    let others = 4 + MAX_PRESERVED as usize;
    if binds.len() + others > gofer::sock::MAX_FDS {
        bail!(
            "mounts: a pod's container may have at most {} bind mounts",
            gofer::sock::MAX_FDS - others
        );
    }
    let (gofer, root_conn, bind_conns) =
        crate::cmd_gofer::spawn(&plan.root, !overlay, true, &binds)?;
    let console = open_console(a.console_socket.as_deref(), &mut plan.init)?;
    let mut fds = stdio_fds(&console);
    fds.extend(preserved.iter().map(|f| f.as_raw_fd()));
    fds.push(root_conn.as_raw_fd());
    fds.extend(bind_conns.iter().map(|c| c.as_raw_fd()));
    let join = control::JoinPlan {
        process: plan.init.clone(),
        overlay,
        root_readonly: plan.root_readonly,
        mounts: plan
            .mounts
            .iter()
            .map(control::MountPlan::from_spec)
            .collect(),
        masked_paths: std::mem::take(&mut plan.masked_paths),
        readonly_paths: std::mem::take(&mut plan.readonly_paths),
        seccomp: std::mem::take(&mut plan.seccomp),
    };
    let req = Request::Join {
        id: a.id.clone(),
        plan: join,
    };
    let (conn, reply) = control::call_with(&a.state_dir, &req, &fds)?;
    match reply.pid.filter(|_| reply.ok) {
        Some(pid) => Ok(Started {
            conn,
            pid,
            console,
            gofer: gofer.id() as i32,
            cgroups,
        }),
        None => bail!(
            "joining the pod's sandbox: {}",
            reply.error.unwrap_or_else(|| "failed".into())
        ),
    }
}

pub fn ps(g: &Global, a: PsArgs) -> anyhow::Result<i32> {
    let c = state::load(&g.root, &a.id)?;
    let procs = if status(g, &c) == Status::Stopped {
        Vec::new()
    } else {
        let (dir, container) = target(g, &c);
        control::call(&dir, &Request::Ps { container })?
            .processes
            .unwrap_or_default()
    };
    if a.format == "json" {
        let pids: Vec<i32> = procs.iter().map(|p| p.pid).collect();
        println!("{}", serde_json::to_string(&pids)?);
    } else {
        println!("{:>8} {:>8} {:>8} {:>4} CMD", "UID", "PID", "PPID", "NLWP");
        for p in procs {
            println!(
                "{:>8} {:>8} {:>8} {:>4} {}",
                p.uid, p.pid, p.ppid, p.threads, p.comm
            );
        }
    }
    Ok(0)
}

pub fn pause(g: &Global, a: IdArg, pause: bool) -> anyhow::Result<i32> {
    let c = state::load(&g.root, &a.id)?;
    let (dir, container) = target(g, &c);
    if container.is_some() {
        bail!(
            "container {} is one of a pod's: pause the pod's sandbox container",
            a.id
        );
    }
    let st = status(g, &c);
    let (want, req) = if pause {
        (Status::Running, Request::Pause)
    } else {
        (Status::Paused, Request::Resume)
    };
    if st != want {
        bail!(
            "container {} is {}, not {}",
            a.id,
            st.as_str(),
            want.as_str()
        );
    }
    control::call(&dir, &req)?;
    Ok(0)
}

pub fn run(g: &Global, a: RunArgs) -> anyhow::Result<i32> {
    let (c, mut child) = do_create(g, &a.create)?;
    if let Err(e) = do_start(g, &c.id) {
        let _ = destroy(g, &c);
        return Err(e);
    }
    if a.detach {
        return Ok(0);
    }
    let dir = state::dir(&g.root, &c.id);
    let code = wait_forwarding(&mut child, |sig| {
        let req = Request::Kill {
            sig,
            all: false,
            pid: None,
            container: None,
        };
        let _ = control::call(&dir, &req);
    })?;
    if !a.keep {
        destroy(g, &c)?;
    }
    Ok(code)
}

pub fn list(g: &Global, a: ListArgs) -> anyhow::Result<i32> {
    let mut rows = Vec::new();
    for id in state::list(&g.root) {
        if let Ok(c) = state::load(&g.root, &id) {
            let st = status(g, &c);
            rows.push((c, st));
        }
    }
    if a.quiet {
        for (c, _) in &rows {
            println!("{}", c.id);
        }
    } else if a.format == "json" {
        let v: Vec<serde_json::Value> = rows.iter().map(|(c, s)| state_json(c, *s)).collect();
        println!("{}", serde_json::to_string(&v)?);
    } else {
        println!("ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER");
        for (c, s) in &rows {
            let pid = if *s == Status::Stopped { 0 } else { c.pid };
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                c.id,
                pid,
                s.as_str(),
                c.bundle.display(),
                c.created,
                c.owner
            );
        }
    }
    Ok(0)
}

/// One stats event, as `runc events --stats` prints it (the fields the sandbox knows).
fn stats_event(g: &Global, id: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let c = state::load(&g.root, id)?;
    if status(g, &c) == Status::Stopped {
        return Ok(None);
    }
    let (dir, container) = target(g, &c);
    let procs = control::call(&dir, &Request::Ps { container })?
        .processes
        .unwrap_or_default();
    Ok(Some(serde_json::json!({
        "type": "stats",
        "id": id,
        "data": { "pids": { "current": procs.len() } },
    })))
}

pub fn events(g: &Global, a: EventsArgs) -> anyhow::Result<i32> {
    let secs: f64 = a
        .interval
        .trim_end_matches('s')
        .parse()
        .with_context(|| format!("--interval {}", a.interval))?;
    loop {
        match stats_event(g, &a.id)? {
            Some(ev) => println!("{ev}"),
            None if a.stats => bail!("container {} is not running", a.id),
            None => return Ok(0),
        }
        if a.stats {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_secs_f64(secs.max(0.1)));
    }
}

pub fn update(g: &Global, a: UpdateArgs) -> anyhow::Result<i32> {
    let c = state::load(&g.root, &a.id)?;
    let text = match a.resources.as_deref() {
        None => bail!("update: give the new limits with --resources FILE (or - for stdin)"),
        Some("-") => {
            let mut v = Vec::new();
            std::io::stdin().read_to_end(&mut v)?;
            v
        }
        Some(p) => std::fs::read(p).with_context(|| format!("reading {p}"))?,
    };
    let res: oci_spec::runtime::LinuxResources = oci::parse_json(&text).context("--resources")?;
    if status(g, &c) == Status::Stopped {
        bail!("container {} is not running", a.id);
    }
    // The host cgroups first (what the kernel enforces), then the size the sandbox reports.
    let plan = oci::load(&c.bundle)?;
    if let Some(p) = &plan.cgroups_path {
        crate::cgroup::update(p, &res).with_context(|| format!("updating {}", p.display()))?;
    }
    let (dir, member) = target(g, &c);
    if member.is_none() {
        let l = crate::cgroup::updated_limits(&res);
        let req = Request::Update {
            memory: l.memory,
            cpus: l.cpus,
        };
        control::call(&dir, &req)?;
    }
    Ok(0)
}

pub fn spec(a: SpecArgs) -> anyhow::Result<i32> {
    let path = a.bundle.join("config.json");
    if path.exists() {
        bail!("File {} exists. Remove it first", path.display());
    }
    let mut spec = oci_spec::runtime::Spec::default();
    spec.set_hostname(Some("palisade".into()));
    if let Some(p) = spec.process_mut() {
        p.set_terminal(Some(true));
    }
    let text = serde_json::to_string_pretty(&spec)?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(0)
}

pub fn features() -> anyhow::Result<i32> {
    let v = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.1.0",
        "hooks": ["prestart", "createRuntime", "createContainer", "poststart", "poststop"],
        "mountOptions": ["ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
                         "size", "mode", "uid", "gid", "nr_inodes"],
        "linux": {
            "namespaces": ["pid", "ipc", "uts", "mount", "network"],
            "capabilities": caps::all().iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            "cgroup": { "v1": true, "v2": true, "systemd": false },
            "seccomp": { "enabled": false },
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false },
        },
        "annotations": {
            "io.github.palisade.platform": "ptrace",
        },
    });
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(0)
}
