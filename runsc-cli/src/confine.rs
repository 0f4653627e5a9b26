//! The CLI's side of the sandbox process's confinement (sentry::confine has the mechanisms):
//! when each step happens in `do` and `boot`.

use std::path::Path;

use anyhow::Context;
use sentry::confine::{self, Violation};

/// Set `PALISADE_SECCOMP=log` to have host system calls outside the sentry's allow-list
/// logged by the host kernel instead of killing the sandbox (a debugging aid).
fn violation() -> Violation {
    match std::env::var("PALISADE_SECCOMP").as_deref() {
        Ok("log") => Violation::Log,
        _ => Violation::Kill,
    }
}

/// Before the process has a second thread: new mount, IPC, UTS and (unless `host_network`)
/// network namespaces, when the caller is privileged. Returns whether they were entered.
pub fn namespaces(host_network: bool) -> anyhow::Result<bool> {
    confine::enter_namespaces(host_network).context("entering the sandbox's namespaces")
}

/// After everything the sandbox needs from host paths is open and before the sentry
/// starts: the root becomes an empty directory (over `empty`, when `namespaced`), no
/// capability is left, and the seccomp allow-list applies to this thread and every thread
/// and stub process created from here on (with the socket calls of `--network host` when
/// `host_network`).
pub fn seal(namespaced: bool, empty: &Path, host_network: bool) -> anyhow::Result<()> {
    if namespaced {
        confine::pivot_to_empty(empty).context("confining the sandbox")?;
    }
    confine::drop_privileges().context("confining the sandbox")?;
    confine::install_seccomp(violation(), host_network).context("confining the sandbox")?;
    // For the test that proves the filter is active: a host system call outside the
    // allow-list (mkdir) must kill the process (SIGSYS).
    if std::env::var_os("PALISADE_TEST_FORBIDDEN_SYSCALL").is_some() {
        let _ = std::fs::create_dir("/palisade-forbidden");
    }
    Ok(())
}
