//! `palisade-gofer`: the file server process of a sandbox, started by `palisade` (see
//! `cmd_gofer::spawn`). A binary of its own, linking only the gofer crate, so that each
//! sandbox's gofer maps and relocates a small program rather than the whole runtime.
//!
//! Usage: `palisade-gofer --fd FD --root PATH [--writable] [--parent PID]
//! [--mount FD:rw|ro:PATH]...`

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::sync::{Arc, Barrier};

use anyhow::Context;

struct Args {
    /// Inherited socket to serve the root on.
    fd: i32,
    /// Directory to serve.
    root: PathBuf,
    /// Allow changes to the tree (a root written through); read-only otherwise.
    writable: bool,
    /// Die with this process (the sandbox that started us).
    parent: Option<i32>,
    /// Bind mounts' sources served besides the root: (inherited socket, writable, host path).
    mounts: Vec<(i32, bool, PathBuf)>,
}

fn parse_args(mut argv: impl Iterator<Item = OsString>) -> anyhow::Result<Args> {
    let (mut fd, mut root, mut writable, mut parent, mut mounts) =
        (None, None, false, None, vec![]);
    while let Some(flag) = argv.next() {
        if flag == "--writable" {
            writable = true;
            continue;
        }
        let flag = flag.to_string_lossy().into_owned();
        let value = argv
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        let number = || -> anyhow::Result<i32> {
            value
                .to_str()
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("{flag} {}: not a number", value.to_string_lossy()))
        };
        match flag.as_str() {
            "--fd" => fd = Some(number()?),
            "--parent" => parent = Some(number()?),
            "--root" => root = Some(PathBuf::from(value)),
            "--mount" => mounts.push(parse_mount(value)?),
            _ => anyhow::bail!("unknown argument {flag}"),
        }
    }
    Ok(Args {
        fd: fd.context("--fd is required")?,
        root: root.context("--root is required")?,
        writable,
        parent,
        mounts,
    })
}

/// A `--mount` argument: `FD:rw|ro:PATH` (the path may hold any byte, colons included).
fn parse_mount(arg: OsString) -> anyhow::Result<(i32, bool, PathBuf)> {
    let bytes = arg.as_bytes();
    let mut parts = bytes.splitn(3, |&b| b == b':');
    let (Some(fd), Some(mode), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
        anyhow::bail!("--mount {}: expected FD:rw|ro:PATH", arg.to_string_lossy());
    };
    let fd = std::str::from_utf8(fd)
        .ok()
        .and_then(|f| f.parse().ok())
        .with_context(|| format!("--mount {}: fd", arg.to_string_lossy()))?;
    let writable = match mode {
        b"rw" => true,
        b"ro" => false,
        _ => anyhow::bail!("--mount {}: expected rw or ro", arg.to_string_lossy()),
    };
    Ok((
        fd,
        writable,
        PathBuf::from(OsString::from_vec(path.to_vec())),
    ))
}

fn run(args: Args) -> anyhow::Result<i32> {
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
    let count = args.mounts.len();
    let confined = Arc::new(Barrier::new(count + 1));
    let (opened_tx, opened) = std::sync::mpsc::channel();
    for (fd, writable, path) in args.mounts {
        let (confined, opened_tx) = (confined.clone(), opened_tx.clone());
        std::thread::Builder::new()
            .name("gofer-mount".into())
            .stack_size(256 << 10)
            .spawn(move || {
                let server = gofer::server::Server::new(&path, writable)
                    .with_context(|| format!("bind mount source {}", path.display()));
                let failed = server.as_ref().err().map(|e| format!("{e:#}"));
                let _ = opened_tx.send(failed);
                confined.wait();
                if let Ok(mut server) = server {
                    if let Err(e) = server.serve(fd) {
                        eprintln!("palisade-gofer: {}: {e}", path.display());
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
            eprintln!("palisade-gofer: {e}");
            Ok(1)
        }
    }
}

fn main() {
    let code = parse_args(std::env::args_os().skip(1))
        .and_then(run)
        .unwrap_or_else(|e| {
            eprintln!("palisade-gofer: {e:#}");
            1
        });
    std::process::exit(code);
}
