//! procfs: the sandbox's /proc. So far: the process list, /proc/self, /proc/thread-self,
//! /proc/<pid>/exe, version, uptime, meminfo and /proc/sys/kernel/{hostname, osrelease, ostype,
//! pid_max}. Every entry is computed from sentry state (meminfo's total is the host's RAM, as
//! sysinfo reports it); nothing is read from the host's /proc.

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

/// A read-only file generated when it is opened (Linux generates these at read time), then
/// read from that snapshot.
type Generator = Box<dyn Fn() -> Result<Vec<u8>, Errno> + Send + Sync>;

struct GenFile {
    stat: Stat,
    gen: Generator,
}

impl Inode for GenFile {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        if flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32 {
            return Err(Errno::EACCES);
        }
        Ok(Arc::new(Snapshot {
            stat: self.stat,
            data: (self.gen)()?,
        }))
    }
    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(super::synthetic_statfs(PROC_SUPER_MAGIC))
    }
}

struct Snapshot {
    stat: Stat,
    data: Vec<u8>,
}

impl FileOps for Snapshot {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        let start = usize::try_from(off)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        let n = buf.len().min(self.data.len() - start);
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        Ok(n)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
}

/// /proc/sys/kernel: what programs read to identify the kernel.
struct SysKernel {
    k: Weak<Kernel>,
    dev: u64,
    ino: u64,
}

const SYS_KERNEL_FILES: [&str; 4] = ["hostname", "osrelease", "ostype", "pid_max"];

impl Inode for SysKernel {
    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = attr(self.dev, self.ino, libc::S_IFDIR | 0o555, 0);
        s.nlink = 2;
        Ok(s)
    }
    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let k = self.k.clone();
        let text = move |f: fn(&Kernel) -> String| -> Generator {
            let k = k.clone();
            Box::new(move || {
                let k = k.upgrade().ok_or(Errno::ENOENT)?;
                Ok(format!("{}\n", f(&k)).into_bytes())
            })
        };
        let gen = match name {
            b"hostname" => text(|k| {
                String::from_utf8_lossy(&k.hostname.lock().unwrap_or_else(|e| e.into_inner()))
                    .into_owned()
            }),
            b"osrelease" => text(|_| crate::kernel::RELEASE.to_string()),
            b"ostype" => text(|_| "Linux".to_string()),
            b"pid_max" => text(|_| crate::kernel::PID_MAX.to_string()),
            _ => return Err(Errno::ENOENT),
        };
        Ok(gen_file(self.dev, gen))
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        if flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32 {
            return Err(Errno::EISDIR);
        }
        Ok(dir_file(self.stat()?))
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(SYS_KERNEL_FILES
            .iter()
            .enumerate()
            .map(|(i, n)| DirEntry {
                ino: 100 + i as u64,
                kind: dt(libc::S_IFREG),
                name: n.as_bytes().to_vec(),
            })
            .collect())
    }
    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(super::synthetic_statfs(PROC_SUPER_MAGIC))
    }
    fn cacheable(&self) -> bool {
        false
    }
}

fn gen_file(dev: u64, gen: Generator) -> Arc<dyn Inode> {
    Arc::new(GenFile {
        stat: attr(dev, super::new_ino(), libc::S_IFREG | 0o444, 0),
        gen,
    })
}

impl ProcRoot {
    /// /proc/version, /proc/uptime, /proc/meminfo.
    fn global_file(&self, name: &[u8]) -> Option<Arc<dyn Inode>> {
        let k = self.k.clone();
        let gen: Generator = match name {
            b"version" => Box::new(|| {
                Ok(format!(
                    "Linux version {} (palisade@palisade) (gcc) {}\n",
                    crate::kernel::RELEASE,
                    crate::kernel::VERSION
                )
                .into_bytes())
            }),
            b"uptime" => Box::new(move || {
                let k = k.upgrade().ok_or(Errno::ENOENT)?;
                let up = crate::kernel::time::uptime_ns().max(0) as u64;
                // Idle: CPU time the sandbox's CPUs did not spend on its processes.
                let groups: Vec<_> = k.tasks().groups.values().cloned().collect();
                let busy: u64 = groups
                    .iter()
                    .map(|g| {
                        let (u, s) = g.cpu();
                        u + s
                    })
                    .sum();
                let idle = (up.saturating_mul(k.cpus() as u64)).saturating_sub(busy);
                let secs = |ns: u64| {
                    format!(
                        "{}.{:02}",
                        ns / 1_000_000_000,
                        ns % 1_000_000_000 / 10_000_000
                    )
                };
                Ok(format!("{} {}\n", secs(up), secs(idle)).into_bytes())
            }),
            b"meminfo" => Box::new(move || {
                let k = k.upgrade().ok_or(Errno::ENOENT)?;
                let total = nix::sys::sysinfo::sysinfo()
                    .map(|i| i.ram_total())
                    .unwrap_or(0)
                    / 1024;
                let used = k.mf.used() / 1024;
                let free = total.saturating_sub(used);
                // The sandbox has no swap; its memory is the memory file's pages in use.
                Ok(format!(
                    "MemTotal:       {total:8} kB\nMemFree:        {free:8} kB\n\
                     MemAvailable:   {free:8} kB\nSwapTotal:             0 kB\n\
                     SwapFree:              0 kB\n"
                )
                .into_bytes())
            }),
            _ => return None,
        };
        Some(gen_file(self.dev, gen))
    }

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
            b"sys" => {
                let sys = super::synth::SynthDir::new(self.dev, 0o555, PROC_SUPER_MAGIC);
                sys.add(
                    "kernel",
                    Arc::new(SysKernel {
                        k: self.k.clone(),
                        dev: self.dev,
                        ino: super::new_ino(),
                    }),
                );
                Ok(sys)
            }
            n if self.global_file(n).is_some() => self.global_file(n).ok_or(Errno::ENOENT),
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
        for (i, n) in ["meminfo", "sys", "uptime", "version"].iter().enumerate() {
            out.push(DirEntry {
                ino: 3 + i as u64,
                kind: if *n == "sys" {
                    dt(libc::S_IFDIR)
                } else {
                    dt(libc::S_IFREG)
                },
                name: n.as_bytes().to_vec(),
            });
        }
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
