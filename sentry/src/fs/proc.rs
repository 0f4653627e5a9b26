//! procfs: the sandbox's /proc. So far: the process list, /proc/self, /proc/thread-self and
//! /proc/<pid>/exe. Every entry is computed from sentry state; nothing comes from the host.

use std::cell::Cell;
use std::sync::{Arc, Weak};

use super::synth::{attr, dir_file, dt, SynthLink};
use crate::errno::Errno;
use crate::kernel::Kernel;
use crate::mm::pod::StatFs;
use crate::vfs::{DirEntry, FileOps, Inode, Stat};

const PROC_SUPER_MAGIC: i64 = 0x9fa0;

thread_local! {
    /// The task this host thread runs: (tgid, tid). Each task has its own host thread.
    static CURRENT: Cell<(i32, i32)> = const { Cell::new((0, 0)) };
}

/// Record which task the calling host thread runs (for /proc/self).
pub fn set_current(tgid: i32, tid: i32) {
    CURRENT.with(|c| c.set((tgid, tid)));
}

fn current() -> (i32, i32) {
    CURRENT.with(|c| c.get())
}

/// (tgid, tid) of the task the calling host thread runs.
pub fn current_task() -> (i32, i32) {
    current()
}

pub struct ProcRoot {
    k: Weak<Kernel>,
    dev: u64,
    ino: u64,
}

pub fn new(k: Weak<Kernel>) -> Arc<ProcRoot> {
    Arc::new(ProcRoot {
        k,
        dev: super::new_dev(),
        ino: super::new_ino(),
    })
}

/// A symlink whose target is computed when it is read.
struct DynLink {
    stat: Stat,
    target: Box<dyn Fn() -> Result<Vec<u8>, Errno> + Send + Sync>,
}

impl Inode for DynLink {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        (self.target)()
    }
    fn open(&self, _: u32) -> Result<Arc<dyn FileOps>, Errno> {
        Err(Errno::ELOOP)
    }
    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(super::synthetic_statfs(PROC_SUPER_MAGIC))
    }
}

impl ProcRoot {
    fn kernel(&self) -> Result<Arc<Kernel>, Errno> {
        self.k.upgrade().ok_or(Errno::ENOENT)
    }

    fn link(
        &self,
        f: impl Fn() -> Result<Vec<u8>, Errno> + Send + Sync + 'static,
    ) -> Arc<dyn Inode> {
        Arc::new(DynLink {
            stat: attr(self.dev, super::new_ino(), libc::S_IFLNK | 0o777, 0),
            target: Box::new(f),
        })
    }
}

impl Inode for ProcRoot {
    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = attr(self.dev, self.ino, libc::S_IFDIR | 0o555, 0);
        s.nlink = 2;
        Ok(s)
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        match name {
            b"self" => Ok(self.link(|| Ok(current().0.to_string().into_bytes()))),
            b"thread-self" => Ok(self.link(|| {
                let (tgid, tid) = current();
                Ok(format!("{tgid}/task/{tid}").into_bytes())
            })),
            b"mounts" => Ok(SynthLink::new(self.dev, "self/mounts")),
            _ => {
                let pid: i32 = std::str::from_utf8(name)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(Errno::ENOENT)?;
                let k = self.kernel()?;
                if !k.tasks().groups.contains_key(&pid) {
                    return Err(Errno::ENOENT);
                }
                Ok(Arc::new(ProcPid {
                    k: self.k.clone(),
                    pid,
                    dev: self.dev,
                }))
            }
        }
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        if flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32 {
            return Err(Errno::EISDIR);
        }
        Ok(dir_file(self.stat()?))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let k = self.kernel()?;
        let mut pids: Vec<i32> = k.tasks().groups.keys().copied().collect();
        pids.sort();
        let mut out = vec![
            DirEntry {
                ino: 1,
                kind: libc::DT_LNK,
                name: b"self".to_vec(),
            },
            DirEntry {
                ino: 2,
                kind: libc::DT_LNK,
                name: b"thread-self".to_vec(),
            },
        ];
        out.extend(pids.into_iter().map(|p| DirEntry {
            ino: 1000 + p as u64,
            kind: dt(libc::S_IFDIR),
            name: p.to_string().into_bytes(),
        }));
        Ok(out)
    }

    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(super::synthetic_statfs(PROC_SUPER_MAGIC))
    }

    fn cacheable(&self) -> bool {
        false
    }
}

/// /proc/<pid>.
struct ProcPid {
    k: Weak<Kernel>,
    pid: i32,
    dev: u64,
}

impl Inode for ProcPid {
    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = attr(self.dev, 1000 + self.pid as u64, libc::S_IFDIR | 0o555, 0);
        s.nlink = 2;
        Ok(s)
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        match name {
            b"exe" => {
                let (k, pid) = (self.k.clone(), self.pid);
                Ok(Arc::new(DynLink {
                    stat: attr(self.dev, super::new_ino(), libc::S_IFLNK | 0o777, 0),
                    target: Box::new(move || {
                        let k = k.upgrade().ok_or(Errno::ENOENT)?;
                        let tg = k.tasks().groups.get(&pid).cloned().ok_or(Errno::ENOENT)?;
                        let exe = tg.lock().exe.clone().ok_or(Errno::ENOENT)?;
                        Ok(exe.path(&k.root))
                    }),
                }))
            }
            _ => Err(Errno::ENOENT),
        }
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        if flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32 {
            return Err(Errno::EISDIR);
        }
        Ok(dir_file(self.stat()?))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(vec![DirEntry {
            ino: 1,
            kind: libc::DT_LNK,
            name: b"exe".to_vec(),
        }])
    }

    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(super::synthetic_statfs(PROC_SUPER_MAGIC))
    }

    fn cacheable(&self) -> bool {
        false
    }
}
