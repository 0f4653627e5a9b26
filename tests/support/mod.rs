//! Helpers shared by the integration test programs: running commands with a timeout.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The palisade binary built for these tests.
pub fn palisade() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_palisade"))
}

/// The platform the end-to-end tests run on: `PALISADE_PLATFORM`, ptrace by default.
pub fn platform() -> String {
    std::env::var("PALISADE_PLATFORM").unwrap_or_else(|_| "ptrace".into())
}

/// `palisade --platform PLATFORM`, ready for a command and its arguments.
pub fn palisade_cmd() -> Command {
    let mut c = Command::new(palisade());
    c.arg("--platform").arg(platform());
    c
}

#[derive(Debug)]
pub struct Output {
    /// Exit code, or 128+N if killed by signal N, or None on timeout.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Run a command to completion (or kill it after `timeout`), capturing output.
pub fn run(cmd: &mut Command, timeout: Duration) -> Output {
    use std::os::unix::process::ExitStatusExt;
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return Output {
                code: Some(255),
                stdout: vec![],
                stderr: format!("spawn: {e}").into_bytes(),
            }
        }
    };
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let code = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break Some(255),
        }
    };
    Output {
        code,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// `palisade do -- args...` in `cwd`.
/// `palisade do` on the platform `PALISADE_PLATFORM` names (ptrace by default): `.ci/run`
/// runs the end-to-end tests once per platform the machine has.
pub fn sandboxed(args: &[&str], cwd: &Path, envs: &[(&str, &str)], timeout: Duration) -> Output {
    sandboxed_on(&platform(), args, cwd, envs, timeout)
}

/// `palisade --platform PLATFORM do -- ARGS...`. The pseudo-platform `hostnet` is ptrace
/// with `--network host` (inet sockets are host sockets).
pub fn sandboxed_on(
    platform: &str,
    args: &[&str],
    cwd: &Path,
    envs: &[(&str, &str)],
    timeout: Duration,
) -> Output {
    let mut c = Command::new(palisade());
    if platform == "hostnet" {
        c.args(["--platform", "ptrace", "--network", "host"]);
    } else {
        c.arg("--platform").arg(platform);
    }
    c.arg("do").arg("--").args(args).current_dir(cwd);
    for (k, v) in envs {
        c.env(k, v);
    }
    run(&mut c, timeout)
}

/// The platforms this machine can run: ptrace always, kvm where /dev/kvm opens
/// (`PALISADE_PLATFORM` picks one). A machine without KVM says so once.
pub fn platforms() -> Vec<String> {
    if let Ok(p) = std::env::var("PALISADE_PLATFORM") {
        return vec![p];
    }
    let kvm = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm");
    match kvm {
        Ok(_) => vec!["ptrace".into(), "kvm".into()],
        Err(e) => {
            eprintln!("the kvm platform's runs are skipped: /dev/kvm: {e}");
            vec!["ptrace".into()]
        }
    }
}

pub fn native(args: &[&str], cwd: &Path, envs: &[(&str, &str)], timeout: Duration) -> Output {
    let mut c = Command::new(args[0]);
    c.args(&args[1..]).current_dir(cwd);
    for (k, v) in envs {
        c.env(k, v);
    }
    run(&mut c, timeout)
}
