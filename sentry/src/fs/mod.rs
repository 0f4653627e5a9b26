//! File system implementations.

pub mod cgroup;
pub mod dev;
pub mod epoll;
pub mod eventfd;
pub mod gofer;
pub mod host;
pub mod inotify;
pub mod overlay;
pub mod pidfd;
pub mod pipe;
pub mod proc;
pub mod pty;
pub mod signalfd;
pub mod synth;
pub mod sys;
pub mod timerfd;
pub mod tmpfs;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::errno::Errno;
use crate::kernel::Kernel;
use crate::vfs::Inode;

/// A fresh device number for a sentry file system (major 0, like Linux's anonymous devices).
pub fn new_dev() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0x20);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A fresh inode number for synthetic files.
pub fn new_ino() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A statfs answer for a sentry-owned file system of the given magic.
pub fn synthetic_statfs(magic: i64) -> crate::mm::pod::StatFs {
    crate::mm::pod::StatFs {
        f_type: magic,
        f_bsize: 4096,
        f_namelen: 255,
        f_frsize: 4096,
        ..Default::default()
    }
}

/// A new instance of a file system the sentry implements, as mount(2) or a container's
/// configuration asks for it: its root and the options /proc/mounts shows.
pub fn new_instance(
    k: &Arc<Kernel>,
    fstype: &str,
    data: &str,
) -> Result<(Arc<dyn Inode>, String), Errno> {
    Ok(match fstype {
        "tmpfs" => {
            let mut o = tmpfs_options(data, k.mem_total())?;
            o.nr_inodes = o.nr_inodes.or(Some(default_inodes(k.mem_total())));
            let root = tmpfs::Tmpfs::with_options(k.mf.clone(), o);
            let opts = root.fs().show_options(default_inodes(k.mem_total()));
            (root, opts)
        }
        "proc" => (proc::new(Arc::downgrade(k)), String::new()),
        "sysfs" => (sys::new(k.cpus()), String::new()),
        "cgroup2" => (cgroup::new(Arc::downgrade(k)), String::new()),
        "devpts" => {
            let devpts = pty::DevPtsRoot(pty::DevPts::new(Arc::downgrade(k)));
            (Arc::new(devpts), "gid=5,mode=620,ptmxmode=666".to_string())
        }
        _ => return Err(Errno::ENODEV),
    })
}

/// The nr_inodes= a tmpfs mount gets by default: half the pages of memory (Linux's
/// shmem_default_max_inodes).
pub fn default_inodes(mem_total: u64) -> u64 {
    (mem_total / 4096 / 2).min(i32::MAX as u64)
}

/// A number with an optional k, m or g suffix (Linux's memparse).
fn memparse(v: &str) -> Result<u64, Errno> {
    let (digits, shift) = match v.chars().last() {
        Some('k' | 'K') => (&v[..v.len() - 1], 10),
        Some('m' | 'M') => (&v[..v.len() - 1], 20),
        Some('g' | 'G') => (&v[..v.len() - 1], 30),
        _ => (v, 0),
    };
    let n: u64 = digits.parse().map_err(|_| Errno::EINVAL)?;
    n.checked_mul(1 << shift).ok_or(Errno::EINVAL)
}

/// tmpfs options: mode=, uid=, gid=, size= (k, m, g or % of memory), nr_inodes= (k, m, g);
/// the limits are None where `data` does not name them.
pub fn tmpfs_options(data: &str, mem_total: u64) -> Result<tmpfs::Options, Errno> {
    let mut o = tmpfs::Options {
        mode: 0o1777,
        uid: 0,
        gid: 0,
        size: None,
        nr_inodes: None,
    };
    for opt in data.split(',').filter(|o| !o.is_empty()) {
        let (k, v) = opt.split_once('=').unwrap_or((opt, ""));
        let num = |v: &str| v.parse::<u64>().map_err(|_| Errno::EINVAL);
        match k {
            "mode" => o.mode = u32::from_str_radix(v, 8).map_err(|_| Errno::EINVAL)? & 0o7777,
            "uid" => o.uid = u32::try_from(num(v)?).map_err(|_| Errno::EINVAL)?,
            "gid" => o.gid = u32::try_from(num(v)?).map_err(|_| Errno::EINVAL)?,
            "size" => {
                o.size = Some(match v.strip_suffix('%') {
                    Some(pct) => mem_total / 100 * num(pct)?,
                    None => memparse(v)?,
                });
            }
            "nr_inodes" => o.nr_inodes = Some(memparse(v)?),
            // Accepted and meaningless here, as for Linux's tmpfs.
            "nr_blocks" | "huge" | "mpol" | "inode64" | "inode32" => {}
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(o)
}
