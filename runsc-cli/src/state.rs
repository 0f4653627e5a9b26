//! Container state on the host: one directory per container under `--root`, holding
//! `state.json` (written atomically) and the sandbox's control socket.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

/// What the runtime remembers of a container.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Container {
    pub id: String,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// The sandbox process (whose pid went to --pid-file) and its start time (clock ticks
    /// since boot, field 22 of /proc/PID/stat), so that a reused pid is not mistaken for it.
    pub pid: i32,
    pub start_time: u64,
    pub gofer_pid: i32,
    pub created: String,
    pub owner: String,
    pub annotations: HashMap<String, String>,
    /// Host cgroup directories made for the container (removed on delete).
    #[serde(default)]
    pub cgroups: Vec<PathBuf>,
    /// The pod's sandbox container this one joined (its sandbox runs this container; `pid`
    /// is then the host process standing for the container's first process).
    #[serde(default)]
    pub sandbox: Option<String>,
}

/// Container status, as the runtime spec names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Status {
        match s {
            "created" => Status::Created,
            "paused" => Status::Paused,
            "running" => Status::Running,
            _ => Status::Stopped,
        }
    }
}

/// The state root (`--root`), made if missing.
pub fn root_dir(root: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
    Ok(root.to_path_buf())
}

/// A container id must be a single path component of sane characters (as runc checks).
pub fn check_id(id: &str) -> anyhow::Result<()> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c));
    if !ok {
        bail!("invalid container id {id:?}");
    }
    Ok(())
}

pub fn dir(root: &Path, id: &str) -> PathBuf {
    root.join(id)
}

/// Load container `id`; the error says it "does not exist" when it does not (containerd's
/// shim looks for those words).
pub fn load(root: &Path, id: &str) -> anyhow::Result<Container> {
    check_id(id)?;
    let path = dir(root, id).join("state.json");
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("container {id} does not exist")
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    serde_json::from_slice(&text).with_context(|| format!("{}: corrupt state", path.display()))
}

/// Write the state atomically (a temporary file renamed over the old one).
pub fn save(root: &Path, c: &Container) -> anyhow::Result<()> {
    let d = dir(root, &c.id);
    let tmp = d.join("state.json.tmp");
    let text = serde_json::to_vec(c)?;
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, d.join("state.json")).context("saving the container state")?;
    Ok(())
}

/// Every container id under the root.
pub fn list(root: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("state.json").exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    ids
}

/// Exclusive lock on the container's directory for the life of the returned fd (flock).
pub fn lock(root: &Path, id: &str) -> anyhow::Result<nix::fcntl::Flock<std::fs::File>> {
    let d = dir(root, id);
    let f = std::fs::File::open(&d).with_context(|| format!("container {id} does not exist"))?;
    nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| anyhow::anyhow!("locking the container state: {e}"))
}

/// Start time of host process `pid` (field 22 of /proc/PID/stat) and whether it is still
/// running (not a zombie).
pub fn proc_start(pid: i32) -> Option<(u64, bool)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let state = fields.first()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((start, *state != "Z" && *state != "X"))
}

impl Container {
    /// The sandbox process is the one we started and is still running.
    pub fn sandbox_alive(&self) -> bool {
        matches!(proc_start(self.pid), Some((t, true)) if t == self.start_time)
    }
}

/// Now, as RFC 3339 in UTC with nanoseconds (as runc writes `created`).
pub fn rfc3339_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_nanos()
    )
}
