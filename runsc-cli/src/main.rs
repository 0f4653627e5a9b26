//! `palisade`: the command line, compatible with runc's. `create`/`start`/`state`/`kill`/
//! `delete`/`exec`/`ps`/`pause`/`resume`/`run`/`list`/`spec`/`features` run OCI bundles
//! (containerd's runc shim drives them); `do` runs a command sandboxed over the host's root;
//! `syscalls` prints the syscall coverage; `boot`, `proxy` and `join` are internal (the gofer is the
//! `palisade-gofer` binary).
#![deny(unsafe_code)]

mod cgroup;
mod cmd_boot;
mod cmd_do;
mod cmd_gofer;
mod cmd_install;
mod cmd_syscalls;
mod confine;
mod console;
mod control;
mod hooks;
mod lifecycle;
mod netns;
mod oci;
mod seccomp;
mod state;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "palisade",
    version,
    about = "Run untrusted programs on a userspace kernel"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    cmd: Command,
}

/// Flags every command takes (runc's, then Palisade's own).
#[derive(clap::Args, Clone, Debug)]
pub struct Global {
    /// Directory for container state.
    #[arg(long, global = true, default_value = "/run/palisade")]
    root: PathBuf,
    /// Log file (errors and diagnostics).
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// Format of the log file: text or json.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Log debug messages.
    #[arg(long, global = true)]
    debug: bool,
    /// Accepted for runc compatibility (cgroups are managed through cgroupfs).
    #[arg(long, global = true)]
    systemd_cgroup: bool,
    /// Accepted for runc compatibility (checkpointing is not supported).
    #[arg(long, global = true, hide = true)]
    criu: Option<String>,
    /// Accepted for runc compatibility (`spec --rootless` too: the sandbox needs no rootless
    /// variant).
    #[arg(long, global = true, hide = true, num_args = 0..=1, default_missing_value = "true")]
    rootless: Option<String>,
    /// Platform that runs application code: `ptrace`, or `kvm` (needs /dev/kvm).
    #[arg(long, global = true, default_value = "ptrace", value_parser = ["ptrace", "kvm"])]
    platform: String,
    /// Networking: `sandbox` (the default for `create` and `run`: the sandbox's own TCP/IP
    /// stack takes over the interfaces of the container's network namespace), `none`
    /// (loopback only; the default for `do`), `host` (inet sockets are host sockets of the
    /// sandbox's network namespace: faster, but the host kernel parses the traffic).
    #[arg(long, global = true, value_parser = ["sandbox", "host", "none"])]
    network: Option<String>,
    /// Container root: `root:memory` keeps changes in sandbox memory, `none` writes them to
    /// the host.
    #[arg(long, global = true, default_value = "root:memory", value_parser = ["root:memory", "none"])]
    overlay: String,
    /// Print every syscall the sandboxed programs make (to the log).
    #[arg(long, global = true)]
    strace: bool,
    /// Directory for the sandbox's debug logs.
    #[arg(long, global = true)]
    debug_log: Option<PathBuf>,
    /// Log level for diagnostics (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "error")]
    log_level: String,
}

impl Global {
    /// The networking mode asked for, or `default`.
    pub fn network_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.network.as_deref().unwrap_or(default)
    }

    /// The platform asked for. For kvm, /dev/kvm is opened here, before the sentry is
    /// sealed off from host paths; a missing device is reported before anything starts.
    pub fn platform_kind(&self) -> anyhow::Result<sentry::PlatformKind> {
        match self.platform.as_str() {
            "kvm" => {
                let dev = platform::kvm::KvmPlatform::open_device()
                    .map_err(|e| anyhow::anyhow!("--platform kvm: {e}"))?;
                Ok(sentry::PlatformKind::Kvm(dev))
            }
            _ => Ok(sentry::PlatformKind::Ptrace),
        }
    }
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once
enum Command {
    /// Create a container from a bundle; its process waits for `start`.
    Create(lifecycle::CreateArgs),
    /// Start a created container's process.
    Start(lifecycle::IdArg),
    /// Print a container's state (JSON).
    State(lifecycle::IdArg),
    /// Send a signal to a container's init (or, with --all, to every process).
    Kill(lifecycle::KillArgs),
    /// Delete a container (stopped, or any with --force).
    Delete(lifecycle::DeleteArgs),
    /// Run a new process in a running container.
    Exec(lifecycle::ExecArgs),
    /// List a container's processes.
    Ps(lifecycle::PsArgs),
    /// Pause every process of a container.
    Pause(lifecycle::IdArg),
    /// Resume a paused container.
    Resume(lifecycle::IdArg),
    /// Create and start a container, and wait for it (unless --detach).
    Run(lifecycle::RunArgs),
    /// List containers.
    List(lifecycle::ListArgs),
    /// Print container events (resource usage with --stats).
    Events(lifecycle::EventsArgs),
    /// Update a container's resource limits.
    Update(lifecycle::UpdateArgs),
    /// Write a default config.json.
    Spec(lifecycle::SpecArgs),
    /// Print what this runtime supports (JSON).
    Features,
    /// Register palisade with containerd and Docker.
    Install(cmd_install::Args),
    /// Not supported yet.
    Checkpoint(lifecycle::Unsupported),
    /// Not supported yet.
    Restore(lifecycle::Unsupported),
    /// Run a command sandboxed over the host root file system.
    Do(cmd_do::Args),
    /// Print the syscall table with each entry's support level.
    Syscalls(cmd_syscalls::Args),
    /// Internal: the sandbox process of a container.
    #[command(hide = true)]
    Boot(cmd_boot::Args),
    /// Internal: the host process standing for an exec'd process.
    #[command(hide = true)]
    Proxy(lifecycle::ProxyArgs),
    /// Internal: the host process standing for a pod's container in the pod's sandbox.
    #[command(hide = true)]
    Join(lifecycle::JoinArgs),
}

/// Set up diagnostics: to the --log file if given (JSON lines with --log-format json),
/// else to stderr.
fn init_logging(g: &Global) {
    let level = if g.debug { "debug" } else { &g.log_level };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let file = g.log.as_ref().and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match file {
        Some(f) if g.log_format == "json" => {
            builder.json().with_writer(std::sync::Mutex::new(f)).init()
        }
        Some(f) => builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(f))
            .init(),
        None => builder.with_writer(std::io::stderr).init(),
    }
}

/// Report a failure as runc does: a JSON line `{"level":"error","msg":...}` in the log
/// (containerd's shim shows its last one), and the message on stderr.
fn report_error(g: &Global, msg: &str) {
    if let Some(p) = &g.log {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            let line = if g.log_format == "json" {
                serde_json::json!({"level": "error", "msg": msg, "time": state::rfc3339_now()})
                    .to_string()
            } else {
                format!("time=\"{}\" level=error msg={msg:?}", state::rfc3339_now())
            };
            let _ = writeln!(f, "{line}");
        }
    }
    eprintln!("palisade: {msg}");
}

fn main() {
    let cli = Cli::parse();
    init_logging(&cli.global);
    let g = &cli.global;
    let code = match cli.cmd {
        Command::Create(a) => lifecycle::create(g, a),
        Command::Start(a) => lifecycle::start(g, a),
        Command::State(a) => lifecycle::state(g, a),
        Command::Kill(a) => lifecycle::kill(g, a),
        Command::Delete(a) => lifecycle::delete(g, a),
        Command::Exec(a) => lifecycle::exec(g, a),
        Command::Ps(a) => lifecycle::ps(g, a),
        Command::Pause(a) => lifecycle::pause(g, a, true),
        Command::Resume(a) => lifecycle::pause(g, a, false),
        Command::Run(a) => lifecycle::run(g, a),
        Command::List(a) => lifecycle::list(g, a),
        Command::Events(a) => lifecycle::events(g, a),
        Command::Update(a) => lifecycle::update(g, a),
        Command::Spec(a) => lifecycle::spec(a),
        Command::Features => lifecycle::features(),
        Command::Install(a) => cmd_install::run(a),
        Command::Checkpoint(_) | Command::Restore(_) => Err(anyhow::anyhow!(
            "checkpoint and restore are not supported yet"
        )),
        Command::Do(a) => cmd_do::run(g, a),
        Command::Syscalls(a) => cmd_syscalls::run(a),
        Command::Boot(a) => cmd_boot::run(g, a),
        Command::Proxy(a) => lifecycle::proxy(g, a),
        Command::Join(a) => lifecycle::join(g, a),
    };
    match code {
        Ok(c) => std::process::exit(c),
        Err(e) => {
            report_error(g, &format!("{e:#}"));
            std::process::exit(1);
        }
    }
}
