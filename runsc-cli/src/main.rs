//! `palisade`: the command line. `do` runs a command sandboxed over the host's root (read-only);
//! `syscalls` prints the syscall coverage; `gofer` is the internal file server process.
#![deny(unsafe_code)]

mod cmd_do;
mod cmd_gofer;
mod cmd_syscalls;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "palisade",
    version,
    about = "Run untrusted programs on a userspace kernel"
)]
struct Cli {
    /// Log level for the sandbox's own diagnostics (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "error")]
    log_level: String,
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a command sandboxed over the host root file system, read-only.
    Do(cmd_do::Args),
    /// Print the syscall table with each entry's support level.
    Syscalls(cmd_syscalls::Args),
    /// Internal: serve a directory tree to a sentry over an inherited socket.
    #[command(hide = true)]
    Gofer(cmd_gofer::Args),
}

fn main() {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let code = match cli.cmd {
        Command::Do(a) => cmd_do::run(a),
        Command::Syscalls(a) => cmd_syscalls::run(a),
        Command::Gofer(a) => cmd_gofer::run(a),
    };
    match code {
        Ok(c) => std::process::exit(c),
        Err(e) => {
            eprintln!("palisade: {e:#}");
            std::process::exit(125);
        }
    }
}
