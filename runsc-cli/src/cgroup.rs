//! Host cgroups for a container (linux.cgroupsPath, linux.resources): the sandbox process
//! joins them at boot, so the gofer and the stubs it starts are in them too and containerd
//! finds the container's usage through /proc/<pid>/cgroup. cgroup v2 (unified) or v1 (one
//! hierarchy per controller) — whichever the host mounts.

use std::path::{Path, PathBuf};

use anyhow::Context;
use oci_spec::runtime::LinuxResources;

const ROOT: &str = "/sys/fs/cgroup";

/// The v1 controllers we place the sandbox in (not cpuset: cpusets are not set, and a new
/// one has no CPUs until given some).
const V1: &[&str] = &["memory", "pids", "cpu", "cpuacct", "blkio", "devices"];

fn unified() -> bool {
    Path::new(ROOT).join("cgroup.controllers").exists()
}

/// A relative cgroups path (`/default/id` or the systemd `slice:prefix:name` form, taken
/// as its name).
fn relative(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    let s = match s.split(':').collect::<Vec<_>>()[..] {
        [slice, prefix, name] if !slice.contains('/') => format!("{slice}/{prefix}-{name}"),
        _ => s.into_owned(),
    };
    PathBuf::from(s.trim_start_matches('/'))
}

/// The hierarchies the container's cgroups are made in: the unified one, or one per v1
/// controller we use.
fn bases() -> Vec<PathBuf> {
    if unified() {
        vec![PathBuf::from(ROOT)]
    } else {
        V1.iter()
            .map(|c| Path::new(ROOT).join(c))
            .filter(|b| b.is_dir())
            .collect()
    }
}

/// Change the limits of the container's cgroups at `path` (`palisade update`).
pub fn update(path: &Path, r: &LinuxResources) -> anyhow::Result<()> {
    let rel = relative(path);
    for dir in bases().into_iter().map(|b| b.join(&rel)) {
        if dir.is_dir() {
            apply(&dir, r)?;
        }
    }
    Ok(())
}

fn write(dir: &Path, file: &str, value: &str) -> anyhow::Result<()> {
    std::fs::write(dir.join(file), value)
        .with_context(|| format!("writing {value} to {}", dir.join(file).display()))
}

/// Make the container's cgroups, set its limits and move this process into them; the
/// directories made (to remove on delete).
pub fn join(path: &Path, res: Option<&LinuxResources>) -> anyhow::Result<Vec<PathBuf>> {
    let mut made = Vec::new();
    let r = join_into(path, res, &mut made);
    if r.is_err() {
        remove(&made);
    }
    r.map(|()| made)
}

fn join_into(
    path: &Path,
    res: Option<&LinuxResources>,
    made: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let rel = relative(path);
    let pid = std::process::id().to_string();
    for base in bases() {
        let dir = base.join(&rel);
        // Only the directories we make are ours to remove.
        let mut first_new = None;
        for a in rel.ancestors().collect::<Vec<_>>().into_iter().rev() {
            let d = base.join(a);
            if !a.as_os_str().is_empty() && !d.exists() && first_new.is_none() {
                first_new = Some(d);
            }
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        if first_new.is_some() {
            made.push(dir.clone());
        }
        if let Some(r) = res {
            apply(&dir, r)?;
        }
        write(&dir, "cgroup.procs", &pid)?;
    }
    Ok(())
}

/// Write the limits of `r` that `dir`'s controller takes (v2: all of them; v1: the one
/// controller the directory belongs to).
pub fn apply(dir: &Path, r: &LinuxResources) -> anyhow::Result<()> {
    if unified() {
        if let Some(m) = r.memory().as_ref().and_then(|m| m.limit()) {
            write(dir, "memory.max", &limit(m))?;
        }
        if let Some(p) = r.pids().as_ref() {
            write(dir, "pids.max", &limit(p.limit()))?;
        }
        if let Some(c) = r.cpu().as_ref() {
            if let Some(q) = c.quota() {
                let period = c.period().unwrap_or(100_000);
                write(dir, "cpu.max", &format!("{} {period}", limit(q)))?;
            }
        }
        return Ok(());
    }
    let Ok(rel) = dir.strip_prefix(ROOT) else {
        return Ok(());
    };
    let ctrl = rel.components().next();
    let ctrl = ctrl.map(|c| c.as_os_str().to_string_lossy().into_owned());
    match ctrl.as_deref().unwrap_or("") {
        "memory" => {
            if let Some(m) = r.memory().as_ref().and_then(|m| m.limit()) {
                write(dir, "memory.limit_in_bytes", &m.to_string())?;
            }
        }
        "pids" => {
            if let Some(p) = r.pids().as_ref() {
                write(dir, "pids.max", &limit(p.limit()))?;
            }
        }
        "cpu" => {
            if let Some(c) = r.cpu().as_ref() {
                if let Some(p) = c.period() {
                    write(dir, "cpu.cfs_period_us", &p.to_string())?;
                }
                if let Some(q) = c.quota() {
                    write(dir, "cpu.cfs_quota_us", &q.to_string())?;
                }
                if let Some(s) = c.shares() {
                    write(dir, "cpu.shares", &s.to_string())?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// A limit as cgroup files take it (negative: none).
fn limit(v: i64) -> String {
    if v < 0 {
        "max".into()
    } else {
        v.to_string()
    }
}

/// Remove the container's cgroups (deepest first; they are empty once the sandbox is gone).
pub fn remove(dirs: &[PathBuf]) {
    for d in dirs {
        for _ in 0..50 {
            match std::fs::remove_dir(d) {
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    std::thread::sleep(std::time::Duration::from_millis(2))
                }
                _ => break,
            }
        }
    }
}

/// What the sandbox reports as its machine's size under these limits: the memory limit, and
/// the CPUs of the quota (rounded up) or of the cpuset, whichever is fewer.
pub fn sandbox_limits(r: Option<&LinuxResources>) -> sentry::Limits {
    let Some(r) = r else {
        return sentry::Limits::default();
    };
    let l = updated_limits(r);
    // At creation, no limit is the host's size.
    sentry::Limits {
        memory: l.memory.filter(|&m| m != u64::MAX),
        cpus: l.cpus.filter(|&c| c != usize::MAX),
    }
}

/// The sandbox's size after `palisade update` with `r`: None where `r` leaves a limit
/// unchanged, MAX where it removes one (-1).
pub fn updated_limits(r: &LinuxResources) -> sentry::Limits {
    let unlimited = |v: i64| v <= 0;
    let memory = r.memory().as_ref().and_then(|m| m.limit()).map(|l| {
        if unlimited(l) {
            u64::MAX
        } else {
            l as u64
        }
    });
    let cpu = r.cpu().as_ref();
    let quota = cpu.and_then(|c| {
        let q = c.quota()?;
        if unlimited(q) {
            return Some(usize::MAX);
        }
        let period = c.period().filter(|&p| p > 0).unwrap_or(100_000);
        Some((q as u64).div_ceil(period) as usize)
    });
    let cpuset = cpu
        .and_then(|c| c.cpus().as_ref())
        .and_then(|s| cpuset_size(s));
    let cpus = match (quota, cpuset) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    sentry::Limits { memory, cpus }
}

/// How many CPUs a cpuset list ("0-3,6") names; None if it does not parse.
fn cpuset_size(list: &str) -> Option<usize> {
    let mut n = 0;
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
                b.checked_sub(a)? + 1
            }
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
    }
    (n > 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::cpuset_size;

    #[test]
    fn cpuset_lists() {
        assert_eq!(cpuset_size("0"), Some(1));
        assert_eq!(cpuset_size("0-3,6"), Some(5));
        assert_eq!(cpuset_size("3-1"), None);
        assert_eq!(cpuset_size("x"), None);
        assert_eq!(cpuset_size(""), None);
    }
}
