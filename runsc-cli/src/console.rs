//! Terminals for containers (`process.terminal`): a host pty whose master goes to the
//! caller's --console-socket (SCM_RIGHTS, as runc sends it) and whose slave, kept raw, is
//! relayed by the sentry to a pty of the sandbox's own devpts, so that echo, line editing and
//! ^C are the sandbox's line discipline. The slave is this process's controlling terminal:
//! the host kernel tells us of window size changes with SIGWINCH.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use anyhow::Context;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::termios;

/// Make the pty, send its master to `socket`; the slave (raw, our controlling terminal)
/// and its size. Call from a session leader without a controlling terminal, before any
/// thread is started (SIGWINCH and SIGHUP are blocked here for `watch_resize`).
pub fn open(socket: &Path, size: Option<(u16, u16)>) -> anyhow::Result<(OwnedFd, (u16, u16))> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGWINCH);
    set.add(Signal::SIGHUP);
    set.thread_block()?;
    let ws = size.map(|(rows, cols)| nix::pty::Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    });
    let pty = nix::pty::openpty(ws.as_ref(), None).context("making a pty")?;
    // Reopened without O_NOCTTY: it becomes our controlling terminal.
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(format!("/proc/self/fd/{}", pty.slave.as_raw_fd()))
        .context("opening the pty")?;
    drop(pty.slave);
    let slave = OwnedFd::from(slave);
    let mut t = termios::tcgetattr(slave.as_fd()).context("tcgetattr")?;
    termios::cfmakeraw(&mut t);
    termios::tcsetattr(slave.as_fd(), termios::SetArg::TCSANOW, &t).context("tcsetattr")?;
    let name = std::fs::read_link(format!("/proc/self/fd/{}", slave.as_raw_fd()))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/dev/ptmx".into());
    let sock = UnixStream::connect(socket)
        .with_context(|| format!("connecting to the console socket {}", socket.display()))?;
    gofer::sock::send_fds(sock.as_raw_fd(), name.as_bytes(), &[pty.master.as_raw_fd()])
        .context("sending the terminal to the console socket")?;
    release_stdio()?;
    let size = current_size(&slave);
    Ok((slave, size))
}

/// Point our fds 0-2 at /dev/null: with a terminal, the process's I/O goes through the
/// pty, and the caller's stdio (containerd's shim reads our output until EOF) must not be
/// held open by a long-lived process.
pub fn release_stdio() -> anyhow::Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..3 {
        nix::unistd::dup2(null.as_raw_fd(), fd)?;
    }
    Ok(())
}

fn current_size(fd: &OwnedFd) -> (u16, u16) {
    platform::host::winsize(fd.as_raw_fd()).map_or((0, 0), |w| (w.ws_row, w.ws_col))
}

/// Call `resized(rows, cols)` on a thread of its own whenever the terminal changes size.
pub fn watch_resize(slave: OwnedFd, resized: impl Fn(u16, u16) + Send + 'static) {
    let _ = std::thread::Builder::new()
        .name("winch".into())
        .spawn(move || {
            let mut set = SigSet::empty();
            set.add(Signal::SIGWINCH);
            set.add(Signal::SIGHUP);
            while let Ok(sig) = set.wait() {
                if sig == Signal::SIGWINCH {
                    let (r, c) = current_size(&slave);
                    resized(r, c);
                }
            }
        });
}
