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
            let (mode, uid, gid, size) = tmpfs_options(data, k.mem_total())?;
            // Options as Linux's shmem_show_options writes them.
            let mut opts = Vec::new();
            if let Some(s) = size {
                opts.push(format!("size={}k", s.div_ceil(4096) * 4));
            }
            if mode != 0o1777 {
                opts.push(format!("mode={mode:03o}"));
            }
            if uid != 0 {
                opts.push(format!("uid={uid}"));
            }
            if gid != 0 {
                opts.push(format!("gid={gid}"));
            }
            let root = tmpfs::Tmpfs::with_options(k.mf.clone(), mode, uid, gid, size);
            (root, opts.join(","))
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

/// tmpfs options: mode=, uid=, gid=, size= (with k, m, g or % of memory).
fn tmpfs_options(data: &str, mem_total: u64) -> Result<(u32, u32, u32, Option<u64>), Errno> {
    let (mut mode, mut uid, mut gid, mut size) = (0o1777, 0, 0, None);
    for opt in data.split(',').filter(|o| !o.is_empty()) {
        let (k, v) = opt.split_once('=').unwrap_or((opt, ""));
        let num = |v: &str| v.parse::<u64>().map_err(|_| Errno::EINVAL);
        match k {
            "mode" => mode = u32::from_str_radix(v, 8).map_err(|_| Errno::EINVAL)? & 0o7777,
            "uid" => uid = num(v)? as u32,
            "gid" => gid = num(v)? as u32,
            "size" => {
                let (digits, mult) = match v.chars().last() {
                    Some('k' | 'K') => (&v[..v.len() - 1], 1 << 10),
                    Some('m' | 'M') => (&v[..v.len() - 1], 1 << 20),
                    Some('g' | 'G') => (&v[..v.len() - 1], 1 << 30),
                    Some('%') => {
                        let total = mem_total;
                        let pct = num(&v[..v.len() - 1])?;
                        size = Some(total / 100 * pct);
                        continue;
                    }
                    _ => (v, 1),
                };
                size = Some(num(digits)?.checked_mul(mult).ok_or(Errno::EINVAL)?);
            }
            // Accepted and meaningless here, as for Linux's tmpfs.
            "nr_inodes" | "nr_blocks" | "huge" | "mpol" | "inode64" | "inode32" => {}
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok((mode, uid, gid, size))
}
