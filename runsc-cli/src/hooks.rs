//! OCI hooks: programs run on the host at points of a container's life, with the container's
//! state JSON on their standard input (runtime spec, "POSIX-platform Hooks").

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use oci_spec::runtime::Hook;

/// Run `hooks` (named `stage` in errors) in order; the first failure stops them.
pub fn run(
    stage: &str,
    hooks: Option<&Vec<Hook>>,
    state: &serde_json::Value,
) -> anyhow::Result<()> {
    for (i, h) in hooks.into_iter().flatten().enumerate() {
        run_one(h, state)
            .with_context(|| format!("hooks.{stage}[{i}] ({})", h.path().display()))?;
    }
    Ok(())
}

fn run_one(h: &Hook, state: &serde_json::Value) -> anyhow::Result<()> {
    let mut cmd = Command::new(h.path());
    if let Some(args) = h.args() {
        if let Some((argv0, rest)) = args.split_first() {
            cmd.arg0(argv0).args(rest);
        }
    }
    cmd.env_clear();
    for e in h.env().iter().flatten() {
        if let Some((k, v)) = e.split_once('=') {
            cmd.env(k, v);
        }
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the hook")?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its input is not an error.
        let _ = stdin.write_all(state.to_string().as_bytes());
    }
    let deadline = h
        .timeout()
        .map(|t| Instant::now() + Duration::from_secs(t.max(1) as u64));
    loop {
        if let Some(st) = child.try_wait()? {
            if st.success() {
                return Ok(());
            }
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            bail!("failed ({st}): {}", err.trim());
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            bail!("timed out");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
