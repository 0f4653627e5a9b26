//! A bundle's `config.json` (OCI runtime spec), checked and turned into what the sandbox
//! needs. Every refusal names the field at fault.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use oci_spec::runtime::{LinuxResources, PosixRlimitType, Process, Spec};
use sentry::vfs::mount::Flags;
use sentry::MountSpec;
use serde::{Deserialize, Serialize};

/// A process to start in the sandbox, as it crosses the control socket.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct ProcessPlan {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub umask: u32,
    /// Effective, permitted and inheritable capability sets.
    /// Effective, permitted, inheritable and bounding sets.
    pub caps: Option<[u64; 4]>,
    pub no_new_privs: bool,
    /// (RLIMIT_*, soft, hard).
    pub rlimits: Vec<(u32, u64, u64)>,
    pub terminal: bool,
    /// The terminal's initial size (rows, columns).
    #[serde(default)]
    pub console_size: Option<(u16, u16)>,
    /// Descriptors the process gets as its fds 3, 4... from the caller's (`--preserve-fds`).
    #[serde(default)]
    pub preserve_fds: u32,
}

impl ProcessPlan {
    /// The sentry's form, with the standard I/O the process gets and its preserved fds.
    pub fn to_spec(
        &self,
        stdio: sentry::Stdio,
        preserved: Vec<std::os::fd::OwnedFd>,
    ) -> sentry::ProcessSpec {
        let bytes = |v: &[String]| v.iter().map(|s| s.as_bytes().to_vec()).collect();
        sentry::ProcessSpec {
            argv: bytes(&self.args),
            envp: bytes(&self.env),
            cwd: self.cwd.as_bytes().to_vec(),
            uid: self.uid,
            gid: self.gid,
            groups: self.groups.clone(),
            umask: self.umask,
            caps: self.caps,
            no_new_privs: self.no_new_privs,
            rlimits: self.rlimits.clone(),
            stdio,
            preserved,
        }
    }
}

/// A container's configuration, checked.
pub struct Plan {
    pub spec: Spec,
    /// The root file system (absolute).
    pub root: PathBuf,
    pub root_readonly: bool,
    pub init: ProcessPlan,
    pub hostname: String,
    pub mounts: Vec<MountSpec>,
    pub masked_paths: Vec<Vec<u8>>,
    pub readonly_paths: Vec<Vec<u8>>,
    pub annotations: HashMap<String, String>,
    pub cgroups_path: Option<PathBuf>,
    pub resources: Option<LinuxResources>,
    /// linux.seccomp as BPF programs, oldest first.
    pub seccomp: Vec<Vec<crate::seccomp::Insn>>,
}

/// The annotations with which containerd's CRI plugin tells a pod's containers apart.
const CONTAINER_TYPE: &str = "io.kubernetes.cri.container-type";
const SANDBOX_ID: &str = "io.kubernetes.cri.sandbox-id";

impl Plan {
    /// The network namespace the container joins (linux.namespaces, type network, with a
    /// path), as containerd's CRI plugin names the pod's.
    pub fn network_namespace(&self) -> Option<PathBuf> {
        let nss = self.spec.linux().as_ref()?.namespaces().as_ref()?;
        nss.iter()
            .find(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::Network)
            .and_then(|n| n.path().clone())
    }

    /// For a pod's container (not the pod's sandbox container), the id of the pod's sandbox
    /// container whose sandbox it joins.
    pub fn pod_sandbox(&self, id: &str) -> Option<String> {
        let kind = self.annotations.get(CONTAINER_TYPE)?;
        let sandbox = self.annotations.get(SANDBOX_ID)?;
        (kind == "container" && sandbox != id).then(|| sandbox.clone())
    }
}

/// Read and check `<bundle>/config.json`.
pub fn load(bundle: &Path) -> anyhow::Result<Plan> {
    let path = bundle.join("config.json");
    let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let spec = parse_json::<Spec>(&text).with_context(|| format!("{}", path.display()))?;
    plan(bundle, spec)
}

/// Parse JSON, naming the field at fault on error.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &[u8]) -> anyhow::Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        if field == "." || e.inner().is_syntax() || e.inner().is_eof() {
            anyhow::anyhow!("invalid JSON: {}", e.inner())
        } else {
            anyhow::anyhow!("field {field}: {}", e.inner())
        }
    })
}

fn plan(bundle: &Path, spec: Spec) -> anyhow::Result<Plan> {
    let Some(root) = spec.root() else {
        bail!("root: missing (the container needs a root file system)");
    };
    let root_path = if root.path().is_absolute() {
        root.path().clone()
    } else {
        bundle.join(root.path())
    };
    match std::fs::metadata(&root_path) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!("root.path: {} is not a directory", root_path.display()),
        Err(e) => bail!("root.path: {}: {e}", root_path.display()),
    }
    let Some(process) = spec.process() else {
        bail!("process: missing (the container needs a process to run)");
    };
    let init = process_plan(process, "process")?;
    let mut mounts = Vec::new();
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        if let Some(ms) = mount_plan(m, bundle)
            .with_context(|| format!("mounts[{i}] (destination {})", m.destination().display()))?
        {
            mounts.push(ms);
        }
    }
    let mut cgroups_path = None;
    let mut resources = None;
    let (mut masked_paths, mut readonly_paths) = (Vec::new(), Vec::new());
    let mut seccomp = Vec::new();
    if let Some(linux) = spec.linux() {
        let paths = |v: &Option<Vec<String>>, field: &str| -> anyhow::Result<Vec<Vec<u8>>> {
            let mut out = Vec::new();
            for (i, p) in v.iter().flatten().enumerate() {
                if !p.starts_with('/') {
                    bail!("linux.{field}[{i}]: {p:?} is not an absolute path");
                }
                out.push(p.as_bytes().to_vec());
            }
            Ok(out)
        };
        masked_paths = paths(linux.masked_paths(), "maskedPaths")?;
        readonly_paths = paths(linux.readonly_paths(), "readonlyPaths")?;
        if let Some(sysctl) = linux.sysctl().as_ref().filter(|s| !s.is_empty()) {
            let mut names: Vec<&String> = sysctl.keys().collect();
            names.sort();
            bail!(
                "linux.sysctl: {} cannot be set: the sandbox's kernel implements no writable sysctl",
                names[0]
            );
        }
        if let Some(profile) = linux.seccomp() {
            seccomp = crate::seccomp::compile(profile)?;
        }
        cgroups_path = linux.cgroups_path().clone();
        resources = linux.resources().clone();
    }
    Ok(Plan {
        root: root_path,
        root_readonly: root.readonly().unwrap_or(false),
        init,
        hostname: spec.hostname().clone().unwrap_or_default(),
        mounts,
        masked_paths,
        readonly_paths,
        annotations: spec.annotations().clone().unwrap_or_default(),
        cgroups_path,
        resources,
        seccomp,
        spec,
    })
}

/// Check an OCI `process` object (`field` names it in errors).
pub fn process_plan(p: &Process, field: &str) -> anyhow::Result<ProcessPlan> {
    let args = p.args().clone().unwrap_or_default();
    if args.is_empty() || args[0].is_empty() {
        bail!("{field}.args: missing or empty (the program to run)");
    }
    let cwd = p.cwd().to_string_lossy().into_owned();
    if !cwd.starts_with('/') {
        bail!("{field}.cwd: {cwd:?} is not an absolute path");
    }
    let env = p.env().clone().unwrap_or_default();
    if let Some(bad) = env.iter().find(|e| !e.contains('=')) {
        bail!("{field}.env: {bad:?} is not of the form NAME=VALUE");
    }
    let user = p.user();
    let caps = match p.capabilities() {
        None => None,
        Some(c) => {
            let set = |s: &Option<oci_spec::runtime::Capabilities>, name: &str| {
                let mut bits = 0u64;
                for cap in s.iter().flatten() {
                    let n = format!("CAP_{cap}");
                    let c: caps::Capability = n.parse().map_err(|_| {
                        anyhow::anyhow!("{field}.capabilities.{name}: unknown capability {n}")
                    })?;
                    bits |= 1 << c.index();
                }
                anyhow::Ok(bits)
            };
            Some([
                set(c.effective(), "effective")?,
                set(c.permitted(), "permitted")?,
                set(c.inheritable(), "inheritable")?,
                // No bounding set in the spec leaves it whole (as runc).
                match c.bounding() {
                    None => sentry::vfs::CAP_ALL,
                    b => set(b, "bounding")?,
                },
            ])
        }
    };
    let mut rlimits = Vec::new();
    for (i, r) in p.rlimits().iter().flatten().enumerate() {
        if r.soft() > r.hard() {
            bail!(
                "{field}.rlimits[{i}] ({}): soft limit {} above hard limit {}",
                r.typ(),
                r.soft(),
                r.hard()
            );
        }
        rlimits.push((rlimit_resource(r.typ()), r.soft(), r.hard()));
    }
    Ok(ProcessPlan {
        args,
        env,
        cwd,
        uid: user.uid(),
        gid: user.gid(),
        groups: user.additional_gids().clone().unwrap_or_default(),
        umask: user.umask().unwrap_or(0o022),
        caps,
        no_new_privs: p.no_new_privileges().unwrap_or(false),
        rlimits,
        terminal: p.terminal().unwrap_or(false),
        console_size: p
            .console_size()
            .map(|b| (b.height().min(65535) as u16, b.width().min(65535) as u16)),
        preserve_fds: 0,
    })
}

#[allow(clippy::unnecessary_cast)] // the constants' type differs between libc targets
fn rlimit_resource(t: PosixRlimitType) -> u32 {
    use PosixRlimitType as R;
    (match t {
        R::RlimitCpu => libc::RLIMIT_CPU,
        R::RlimitFsize => libc::RLIMIT_FSIZE,
        R::RlimitData => libc::RLIMIT_DATA,
        R::RlimitStack => libc::RLIMIT_STACK,
        R::RlimitCore => libc::RLIMIT_CORE,
        R::RlimitRss => libc::RLIMIT_RSS,
        R::RlimitNproc => libc::RLIMIT_NPROC,
        R::RlimitNofile => libc::RLIMIT_NOFILE,
        R::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        R::RlimitAs => libc::RLIMIT_AS,
        R::RlimitLocks => libc::RLIMIT_LOCKS,
        R::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        R::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        R::RlimitNice => libc::RLIMIT_NICE,
        R::RlimitRtprio => libc::RLIMIT_RTPRIO,
        R::RlimitRttime => libc::RLIMIT_RTTIME,
    }) as u32
}

/// What the sandbox mounts for an OCI mount; None for mounts it leaves out (with a
/// warning): `mqueue` (POSIX message queues are not implemented). `cgroup` (v1 or v2) is
/// the sandbox's own read-only cgroup2.
fn mount_plan(m: &oci_spec::runtime::Mount, bundle: &Path) -> anyhow::Result<Option<MountSpec>> {
    let dest = m.destination().to_string_lossy().into_owned();
    if !dest.starts_with('/') {
        bail!("not an absolute path");
    }
    let opts = m.options().clone().unwrap_or_default();
    let typ = m.typ().clone().unwrap_or_default();
    let bind = typ == "bind" || opts.iter().any(|o| o == "bind" || o == "rbind");
    let mut flags = Flags::default();
    let mut data = Vec::new();
    for o in &opts {
        match o.as_str() {
            "ro" => flags.read_only = true,
            "rw" => flags.read_only = false,
            "nosuid" => flags.nosuid = true,
            "suid" => flags.nosuid = false,
            "nodev" => flags.nodev = true,
            "dev" => flags.nodev = false,
            "noexec" => flags.noexec = true,
            "exec" => flags.noexec = false,
            o if o.starts_with("size=")
                || o.starts_with("mode=")
                || o.starts_with("uid=")
                || o.starts_with("gid=")
                || o.starts_with("nr_inodes=") =>
            {
                data.push(o.to_string())
            }
            // Access-time policy, propagation and devpts instance options: meaningful
            // only for host mounts, accepted as runc accepts them.
            _ => {}
        }
    }
    let source = m
        .source()
        .as_ref()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| typ.clone());
    if bind {
        // A host directory or file, served by the gofer (the source as the host resolves
        // it, symbolic links included; relative to the bundle).
        let Some(src) = m.source().as_ref() else {
            bail!("bind mount without a source");
        };
        let src = std::fs::canonicalize(bundle.join(src))
            .with_context(|| format!("source {}", src.display()))?;
        let source = src.to_string_lossy().into_owned();
        return Ok(Some(MountSpec::new(&dest, "bind", &source, flags, "")));
    }
    let fstype = match typ.as_str() {
        "tmpfs" if dest == "/dev" => "devfs",
        "tmpfs" | "proc" | "sysfs" | "devpts" => typ.as_str(),
        "cgroup" | "cgroup2" => {
            flags.read_only = true;
            "cgroup2"
        }
        "mqueue" => {
            tracing::warn!("mount of {typ} on {dest} left out: not implemented in the sandbox");
            return Ok(None);
        }
        "" => bail!("no mount type"),
        other => bail!("unsupported mount type {other:?}"),
    };
    let data = if fstype == "tmpfs" || fstype == "devfs" {
        data.join(",")
    } else {
        String::new()
    };
    Ok(Some(MountSpec::new(&dest, fstype, &source, flags, &data)))
}
