//! `palisade gofer`: the file server process of a sandbox.

use std::path::PathBuf;

use anyhow::Context;

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
}

pub fn run(args: Args) -> anyhow::Result<i32> {
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
