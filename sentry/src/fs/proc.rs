//! procfs: the sandbox's /proc. So far: the process list, /proc/self, /proc/thread-self,
//! /proc/<pid>/{cmdline, comm, cwd, environ, exe, fd/, limits, maps, root, stat, statm, status, task/<tid>/},
//! version, uptime, meminfo and /proc/sys/kernel/{hostname, osrelease, ostype, pid_max}. Every entry is computed from sentry state (meminfo's total is the host's RAM, as
//! sysinfo reports it); nothing is read from the host's /proc.

use std::cell::Cell;
use std::sync::{Arc, Mutex, Weak};

use super::synth::{attr, dir_file, dt, SynthLink};
use crate::errno::Errno;
use crate::kernel::task::TaskHandle;
use crate::kernel::{Kernel, ThreadGroup};
use crate::mm::pod::StatFs;
use crate::vfs::{DirEntry, FileOps, Inode, Stat};

pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;

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

/// Opening a /proc directory: read-only.
fn open_dir(stat: Stat, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
    if flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32 {
        return Err(Errno::EISDIR);
    }
    Ok(dir_file(stat))
}

fn proc_statfs() -> StatFs {
    super::synthetic_statfs(PROC_SUPER_MAGIC)
}

/// A symlink whose target is computed when it is read.
struct DynLink {
    stat: Stat,
    target: Box<dyn Fn() -> Result<Vec<u8>, Errno> + Send + Sync>,
    /// A magic link (fd/N, cwd, root, exe), not a plain one (self, thread-self).
    magic: bool,
    /// For fd/N: the open file it leads to (see `Inode::jump`).
    jump: Option<Jump>,
}

type Jump = Box<dyn Fn() -> Result<Arc<crate::vfs::Dentry>, Errno> + Send + Sync>;

/// What opening /proc/PID/fd/N reaches for a file without a name: the same open file's
/// operations (Linux opens the same pipe, socket or inode anew; a pipe reached this way
/// keeps the end it was).
struct Reopen {
    ops: Arc<dyn FileOps>,
}

impl Inode for Reopen {
    fn stat(&self) -> Result<Stat, Errno> {
        self.ops.stat()
    }
    fn open(&self, _: u32) -> Result<Arc<dyn FileOps>, Errno> {
        if self.ops.stat()?.mode & libc::S_IFMT == libc::S_IFSOCK {
            return Err(Errno::ENXIO);
        }
        Ok(self.ops.clone())
    }
    fn reopens(&self) -> bool {
        true
    }
    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(proc_statfs())
    }
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
        Ok(proc_statfs())
    }
    fn is_magic_link(&self) -> bool {
        self.magic
    }
    fn jump(&self) -> Option<Result<Arc<crate::vfs::Dentry>, Errno>> {
        self.jump.as_ref().map(|j| j())
    }
}

/// A read-only file generated when it is opened (Linux generates these at read time), then
/// read from that snapshot.
pub(super) type Generator = Box<dyn Fn() -> Result<Vec<u8>, Errno> + Send + Sync>;

/// What a write to a writable /proc file does with the bytes (one write call at a time).
type Putter = Arc<dyn Fn(&[u8]) -> Result<(), Errno> + Send + Sync>;

struct GenFile {
    stat: Stat,
    gen: Generator,
    /// Writable files (task comm): what a write does.
    put: Option<Putter>,
}

impl Inode for GenFile {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let reads = flags & libc::O_ACCMODE as u32 != libc::O_WRONLY as u32;
        if flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32 && self.put.is_none() {
            return Err(Errno::EACCES);
        }
        Ok(Arc::new(Snapshot {
            stat: self.stat,
            data: if reads { (self.gen)()? } else { Vec::new() },
            put: self.put.clone(),
        }))
    }
    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(proc_statfs())
    }
}

struct Snapshot {
    stat: Stat,
    data: Vec<u8>,
    put: Option<Putter>,
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
    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        let put = self.put.as_ref().ok_or(Errno::EINVAL)?;
        put(buf)?;
        Ok(buf.len())
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

const SYS_KERNEL_FILES: [&str; 5] = ["domainname", "hostname", "osrelease", "ostype", "pid_max"];

/// A random (version 4) UUID, as /proc/sys/kernel/random/uuid gives one per read.
fn uuid_v4() -> Vec<u8> {
    let mut b = [0u8; 16];
    platform::host::getrandom(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}\n",
        h[0..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..16].concat()
    )
    .into_bytes()
}

/// The sandbox's boot id: made once.
fn boot_id() -> &'static [u8] {
    static ID: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ID.get_or_init(uuid_v4)
}

/// /proc/cpuinfo for `cpus` processors, from CPUID.
fn cpuinfo(cpus: usize) -> Vec<u8> {
    use platform::host::cpuid;
    let (max_leaf, b, c, d) = cpuid(0, 0);
    let mut vendor = Vec::new();
    for r in [b, d, c] {
        vendor.extend_from_slice(&r.to_le_bytes());
    }
    let (sig, _, ecx1, edx1) = cpuid(1, 0);
    let stepping = sig & 0xf;
    let base_family = (sig >> 8) & 0xf;
    let family = if base_family == 0xf {
        base_family + ((sig >> 20) & 0xff)
    } else {
        base_family
    };
    let model = if base_family == 0x6 || base_family == 0xf {
        ((sig >> 4) & 0xf) | (((sig >> 16) & 0xf) << 4)
    } else {
        (sig >> 4) & 0xf
    };
    let (max_ext, ..) = cpuid(0x8000_0000, 0);
    let mut brand = Vec::new();
    if max_ext >= 0x8000_0004 {
        for leaf in 0x8000_0002..=0x8000_0004 {
            let (a, b, c, d) = cpuid(leaf, 0);
            for r in [a, b, c, d] {
                brand.extend_from_slice(&r.to_le_bytes());
            }
        }
    }
    let brand = String::from_utf8_lossy(&brand)
        .trim_matches(char::from(0))
        .trim()
        .to_string();
    let (_, ebx7, ecx7, _) = if max_leaf >= 7 {
        cpuid(7, 0)
    } else {
        (0, 0, 0, 0)
    };
    let (_, _, ecx81, edx81) = if max_ext >= 0x8000_0001 {
        cpuid(0x8000_0001, 0)
    } else {
        (0, 0, 0, 0)
    };
    let bits: [(u32, &[(u32, &str)]); 6] = [
        (
            edx1,
            &[
                (0, "fpu"),
                (1, "vme"),
                (2, "de"),
                (3, "pse"),
                (4, "tsc"),
                (5, "msr"),
                (6, "pae"),
                (7, "mce"),
                (8, "cx8"),
                (9, "apic"),
                (11, "sep"),
                (12, "mtrr"),
                (13, "pge"),
                (14, "mca"),
                (15, "cmov"),
                (16, "pat"),
                (17, "pse36"),
                (19, "clflush"),
                (23, "mmx"),
                (24, "fxsr"),
                (25, "sse"),
                (26, "sse2"),
                (27, "ss"),
                (28, "ht"),
            ],
        ),
        (
            edx81,
            &[
                (11, "syscall"),
                (20, "nx"),
                (26, "pdpe1gb"),
                (27, "rdtscp"),
                (29, "lm"),
            ],
        ),
        (
            ecx1,
            &[
                (0, "pni"),
                (1, "pclmulqdq"),
                (9, "ssse3"),
                (12, "fma"),
                (13, "cx16"),
                (19, "sse4_1"),
                (20, "sse4_2"),
                (22, "movbe"),
                (23, "popcnt"),
                (25, "aes"),
                (26, "xsave"),
                (28, "avx"),
                (29, "f16c"),
                (30, "rdrand"),
                (31, "hypervisor"),
            ],
        ),
        (
            ecx81,
            &[
                (0, "lahf_lm"),
                (5, "abm"),
                (6, "sse4a"),
                (8, "3dnowprefetch"),
            ],
        ),
        (
            ebx7,
            &[
                (0, "fsgsbase"),
                (3, "bmi1"),
                (4, "hle"),
                (5, "avx2"),
                (7, "smep"),
                (8, "bmi2"),
                (9, "erms"),
                (10, "invpcid"),
                (11, "rtm"),
                (16, "avx512f"),
                (17, "avx512dq"),
                (18, "rdseed"),
                (19, "adx"),
                (20, "smap"),
                (21, "avx512ifma"),
                (23, "clflushopt"),
                (24, "clwb"),
                (28, "avx512cd"),
                (29, "sha_ni"),
                (30, "avx512bw"),
                (31, "avx512vl"),
            ],
        ),
        (
            ecx7,
            &[
                (1, "avx512vbmi"),
                (2, "umip"),
                (3, "pku"),
                (6, "avx512_vbmi2"),
                (8, "gfni"),
                (9, "vaes"),
                (10, "vpclmulqdq"),
                (11, "avx512_vnni"),
                (12, "avx512_bitalg"),
                (14, "avx512_vpopcntdq"),
                (22, "rdpid"),
            ],
        ),
    ];
    let flags: Vec<&str> = bits
        .iter()
        .flat_map(|(reg, names)| {
            names
                .iter()
                .filter(move |(bit, _)| reg & (1 << bit) != 0)
                .map(|(_, n)| *n)
        })
        .collect();
    let (phys, virt) = if max_ext >= 0x8000_0008 {
        let (a, ..) = cpuid(0x8000_0008, 0);
        (a & 0xff, (a >> 8) & 0xff)
    } else {
        (36, 48)
    };
    let mut out = String::new();
    for i in 0..cpus {
        out.push_str(&format!(
            "processor\t: {i}\nvendor_id\t: {}\ncpu family\t: {family}\nmodel\t\t: {model}\n\
             model name\t: {brand}\nstepping\t: {stepping}\nphysical id\t: 0\n\
             siblings\t: {cpus}\ncore id\t\t: {i}\ncpu cores\t: {cpus}\napicid\t\t: {i}\n\
             fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: {max_leaf}\nwp\t\t: yes\n\
             flags\t\t: {}\nclflush size\t: 64\ncache_alignment\t: 64\n\
             address sizes\t: {phys} bits physical, {virt} bits virtual\npower management:\n\n",
            String::from_utf8_lossy(&vendor),
            flags.join(" ")
        ));
    }
    out.into_bytes()
}

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
        // hostname and domainname: writable, as sethostname/setdomainname (a write stops at
        // the first newline or NUL, as Linux's proc_dostring).
        let uts = |which: fn(&Kernel) -> &Mutex<Vec<u8>>| -> Arc<dyn Inode> {
            let (k1, k2) = (self.k.clone(), self.k.clone());
            let gen: Generator = Box::new(move || {
                let k = k1.upgrade().ok_or(Errno::ENOENT)?;
                let mut v = which(&k).lock().unwrap_or_else(|e| e.into_inner()).clone();
                v.push(b'\n');
                Ok(v)
            });
            let put: Putter = Arc::new(move |bytes: &[u8]| {
                let k = k2.upgrade().ok_or(Errno::ENOENT)?;
                let end = bytes
                    .iter()
                    .position(|&b| b == b'\n' || b == 0)
                    .unwrap_or(bytes.len())
                    .min(64);
                *which(&k).lock().unwrap_or_else(|e| e.into_inner()) = bytes[..end].to_vec();
                Ok(())
            });
            Arc::new(GenFile {
                stat: attr(self.dev, super::new_ino(), libc::S_IFREG | 0o644, 0),
                gen,
                put: Some(put),
            })
        };
        let gen = match name {
            b"hostname" => return Ok(uts(|k| &k.hostname)),
            b"domainname" => return Ok(uts(|k| &k.domainname)),
            b"osrelease" => text(|_| crate::kernel::RELEASE.to_string()),
            b"ostype" => text(|_| "Linux".to_string()),
            b"pid_max" => text(|_| crate::kernel::PID_MAX.to_string()),
            b"random" => {
                let dir = super::synth::SynthDir::new(self.dev, 0o555, PROC_SUPER_MAGIC);
                // A fresh UUID at each read; the boot id is the sandbox's, fixed.
                dir.add("uuid", gen_file(self.dev, Box::new(|| Ok(uuid_v4()))));
                dir.add(
                    "boot_id",
                    gen_file(self.dev, Box::new(|| Ok(boot_id().to_vec()))),
                );
                return Ok(dir);
            }
            _ => return Err(Errno::ENOENT),
        };
        Ok(gen_file(self.dev, gen))
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        open_dir(self.stat()?, flags)
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut v: Vec<DirEntry> = SYS_KERNEL_FILES
            .iter()
            .enumerate()
            .map(|(i, n)| DirEntry {
                ino: 100 + i as u64,
                kind: dt(libc::S_IFREG),
                name: n.as_bytes().to_vec(),
            })
            .collect();
        v.push(DirEntry {
            ino: 99,
            kind: dt(libc::S_IFDIR),
            name: b"random".to_vec(),
        });
        Ok(v)
    }
    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(proc_statfs())
    }
    fn cacheable(&self) -> bool {
        false
    }
}

pub(super) fn gen_file(dev: u64, gen: Generator) -> Arc<dyn Inode> {
    Arc::new(GenFile {
        put: None,
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
            b"cpuinfo" => Box::new(move || {
                let k = k.upgrade().ok_or(Errno::ENOENT)?;
                Ok(cpuinfo(k.cpus()))
            }),
            b"filesystems" => Box::new(|| {
                // The file systems the sentry implements (9p: the gofer's).
                Ok(
                    b"nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\toverlay\nnodev\t9p\n"
                        .to_vec(),
                )
            }),
            b"meminfo" => Box::new(move || {
                let k = k.upgrade().ok_or(Errno::ENOENT)?;
                let total = k.mem_total() / 1024;
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
            magic: false,
            jump: None,
        })
    }
}

impl ProcRoot {
    /// /proc/sys/net: the stack's tunables (read-only: the sandbox's stack is not tuned from
    /// inside).
    fn sys_net(&self) -> Arc<dyn Inode> {
        use super::synth::SynthDir;
        let net = SynthDir::new(self.dev, 0o555, PROC_SUPER_MAGIC);
        let mut dirs: Vec<(&str, Arc<SynthDir>)> = Vec::new();
        for (dir, name, text) in crate::net::sockopt::sysctl_files() {
            let d = match dirs.iter().find(|(n, _)| *n == dir) {
                Some((_, d)) => d.clone(),
                None => {
                    let d = SynthDir::new(self.dev, 0o555, PROC_SUPER_MAGIC);
                    net.add(dir, d.clone());
                    dirs.push((dir, d.clone()));
                    d
                }
            };
            d.add(
                name,
                gen_file(self.dev, Box::new(move || Ok(text.clone().into_bytes()))),
            );
        }
        net
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
            b"net" => Ok(SynthLink::new(self.dev, "self/net")),
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
                sys.add("net", self.sys_net());
                Ok(sys)
            }
            n if self.global_file(n).is_some() => self.global_file(n).ok_or(Errno::ENOENT),
            _ => {
                let pid: i32 = std::str::from_utf8(name)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(Errno::ENOENT)?;
                let k = self.kernel()?;
                // A process, or a thread by its tid (not listed, as in Linux).
                let tasks = k.tasks();
                let (pid, tid) = if tasks.groups.contains_key(&pid) {
                    (pid, None)
                } else {
                    let h = tasks.threads.get(&pid).ok_or(Errno::ENOENT)?;
                    (h.tg.tgid, Some(pid))
                };
                Ok(Arc::new(ProcPid {
                    k: self.k.clone(),
                    pid,
                    tid,
                    dev: self.dev,
                }))
            }
        }
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        open_dir(self.stat()?, flags)
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
        let files = [
            "cpuinfo",
            "filesystems",
            "meminfo",
            "mounts",
            "net",
            "sys",
            "uptime",
            "version",
        ];
        for (i, n) in files.iter().enumerate() {
            out.push(DirEntry {
                ino: 3 + i as u64,
                kind: match *n {
                    "sys" => dt(libc::S_IFDIR),
                    "mounts" | "net" => dt(libc::S_IFLNK),
                    _ => dt(libc::S_IFREG),
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
        Ok(proc_statfs())
    }

    fn cacheable(&self) -> bool {
        false
    }
}

/// /proc/<pid>, or a thread's directory: /proc/<pid>/task/<tid> (and /proc/<tid>).
struct ProcPid {
    k: Weak<Kernel>,
    pid: i32,
    /// The thread shown; None: the process (its leader).
    tid: Option<i32>,
    dev: u64,
}

/// A file of a process's or thread's directory, made from the process and the thread shown.
type PidGen = fn(&Kernel, &ThreadGroup, Option<&Arc<TaskHandle>>) -> Result<Vec<u8>, Errno>;
/// What a write to such a file does to the thread shown.
type PidPut = fn(&TaskHandle, &[u8]) -> Result<(), Errno>;
/// A process and the thread shown, found again at each open.
type Shown = (Arc<Kernel>, Arc<ThreadGroup>, Option<Arc<TaskHandle>>);

/// The root directory of the task reading /proc.
fn reader_root(k: &Kernel) -> Option<Arc<crate::vfs::Dentry>> {
    let tg = k.tasks().groups.get(&current().0).cloned()?;
    let fs = tg.lock().view.fs.upgrade()?;
    let root = fs.lock().unwrap_or_else(|e| e.into_inner()).root.clone();
    Some(root)
}

/// The thread a directory shows: its own, or the process's leader (any thread once the leader
/// has exited). None for a thread that has gone, or a zombie.
fn shown_thread(tg: &ThreadGroup, tid: Option<i32>) -> Option<Arc<TaskHandle>> {
    let threads = tg.threads();
    let want = tid.unwrap_or(tg.tgid);
    match threads.iter().find(|t| t.tid == want) {
        Some(t) => Some(t.clone()),
        None if tid.is_none() => threads.first().cloned(),
        None => None,
    }
}

impl ProcPid {
    /// The process's real uid and gid (its /proc files belong to it).
    fn owner(&self) -> Option<(u32, u32)> {
        let k = self.k.upgrade()?;
        let tg = k.tasks().groups.get(&self.pid).cloned()?;
        let creds = tg.threads().first()?.lock().creds?;
        Some((creds.uid, creds.gid))
    }
}

/// cmdline (`env` false) or environ: the strings as they are in the process's memory now.
fn strings(tg: &ThreadGroup, env: bool) -> Result<Vec<u8>, Errno> {
    let Some(mm) = tg.lock().view.mm.upgrade() else {
        return Ok(Vec::new()); // a zombie has no memory
    };
    let (a0, a1, e0, e1) = mm.arg_env();
    let (lo, hi) = if env { (e0, e1) } else { (a0, a1) };
    if hi <= lo {
        return Ok(Vec::new());
    }
    Ok(mm
        .read_vec(lo, (hi - lo).min(1 << 20) as usize)
        .unwrap_or_default())
}

/// (total, resident) pages of the process's address space.
fn mem_pages(tg: &ThreadGroup) -> (u64, u64) {
    match tg.lock().view.mm.upgrade() {
        Some(mm) => (mm.total_mapped() / 4096, mm.resident_pages()),
        None => (0, 0),
    }
}

/// The one-letter state of a thread: zombie, stopped, running (the thread reading its own
/// file), or sleeping (the sentry does not know whether another thread's host thread is on a
/// CPU; Linux shows S for most idle tasks).
fn state(tg: &ThreadGroup, th: Option<&Arc<TaskHandle>>) -> (char, &'static str) {
    let st = tg.lock();
    if st.zombie.is_some() {
        ('Z', "zombie")
    } else if st.stopped {
        ('T', "stopped")
    } else if th.is_some_and(|h| h.tid == current().1) {
        ('R', "running")
    } else {
        ('S', "sleeping")
    }
}

/// The mount table as a process sees it: mounts below its root, paths from its root.
fn mount_lines(
    tg: &ThreadGroup,
    line: fn(&crate::vfs::mount::Mount, &Arc<crate::vfs::Dentry>) -> String,
) -> Result<Vec<u8>, Errno> {
    let fs = tg.lock().view.fs.upgrade().ok_or(Errno::ENOENT)?;
    let root = fs.lock().unwrap_or_else(|e| e.into_inner()).root.clone();
    let mut out = String::new();
    for m in crate::vfs::mount::all() {
        if m.root.is_below(&root) {
            out.push_str(&line(&m, &root));
        }
    }
    Ok(out.into_bytes())
}

/// Signal sets of a thread: (thread-pending, process-pending, blocked, ignored, caught).
fn signal_sets(tg: &ThreadGroup, th: Option<&Arc<TaskHandle>>) -> [u64; 5] {
    let (own, blocked) = th.map_or((0, 0), |h| {
        let s = h.lock();
        (s.pending.set, s.mask)
    });
    let (mut ign, mut cgt) = (0u64, 0u64);
    let hand = tg.sighand();
    for (i, a) in hand
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .enumerate()
    {
        match a.handler {
            crate::kernel::signal::SIG_DFL => {}
            crate::kernel::signal::SIG_IGN => ign |= 1 << i,
            _ => cgt |= 1 << i,
        }
    }
    [own, tg.pending_set(), blocked, ign, cgt]
}

/// The thread's CPUs as a mask, one bit per CPU the sandbox has.
fn cpus_allowed(k: &Kernel, th: Option<&Arc<TaskHandle>>) -> Vec<bool> {
    let mask = th.and_then(|h| h.lock().sched.affinity.clone());
    (0..k.cpus())
        .map(|c| {
            mask.as_ref()
                .is_none_or(|m| m.get(c / 8).is_some_and(|b| b & (1 << (c % 8)) != 0))
        })
        .collect()
}

/// "0-2,5": the CPUs set in `cpus`, as ranges.
fn cpu_list(cpus: &[bool]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        if !cpus[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < cpus.len() && cpus[i + 1] {
            i += 1;
        }
        out.push(if start == i {
            start.to_string()
        } else {
            format!("{start}-{i}")
        });
        i += 1;
    }
    out.join(",")
}

/// The mask as Linux prints it: hex, in 32-bit words separated by commas, high word first.
fn cpu_mask(cpus: &[bool]) -> String {
    let words = cpus.len().div_ceil(32).max(1);
    (0..words)
        .rev()
        .map(|w| {
            let v = (0..32).fold(0u32, |acc, b| {
                if cpus.get(w * 32 + b).copied().unwrap_or(false) {
                    acc | 1 << b
                } else {
                    acc
                }
            });
            if words == 1 {
                format!("{v:x}")
            } else {
                format!("{v:08x}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Signals queued for processes of real user `uid` (SigQ counts per user, as Linux).
fn queued_signals(k: &Kernel, uid: u32) -> usize {
    let groups: Vec<Arc<ThreadGroup>> = k.tasks().groups.values().cloned().collect();
    groups
        .iter()
        .filter(|g| g.lock().uid == uid)
        .map(|g| {
            let threads = g.threads();
            g.lock().pending.len()
                + threads
                    .iter()
                    .map(|t| t.lock().pending.len())
                    .sum::<usize>()
        })
        .sum()
}

/// The thread's name: its own, or the process's once no thread is left.
fn comm_of(tg: &ThreadGroup, th: Option<&Arc<TaskHandle>>) -> Vec<u8> {
    match th {
        Some(h) => h.lock().comm.clone(),
        None => tg.lock().view.comm.clone(),
    }
}

/// The program's (device, inode), to tell its code from libraries'.
fn exe_ident(tg: &ThreadGroup) -> Option<(u64, u64)> {
    let exe = tg.lock().exe.clone()?;
    let st = exe.inode.stat().ok()?;
    Some((st.dev, st.ino))
}

fn pid_stat(_k: &Kernel, tg: &ThreadGroup, th: Option<&Arc<TaskHandle>>) -> Result<Vec<u8>, Errno> {
    let (st, _) = state(tg, th);
    let hz = |ns: u64| ns / 10_000_000;
    let (ppid, pgid, sid, own, kids, threads, exit_signal, zombie, rsslim) = {
        let s = tg.lock();
        (
            s.parent.as_ref().map_or(0, |p| p.tgid),
            s.pgid,
            s.sid,
            // A thread's own time in its task directory, the whole process's otherwise.
            match th {
                Some(h) if h.tid != tg.tgid => h.cpu.get(),
                _ => s.cpu(),
            },
            s.children_cpu,
            s.threads.len().max(1),
            s.exit_signal,
            s.zombie,
            s.rlimits[libc::RLIMIT_RSS as usize].rlim_cur,
        )
    };
    let sched = th.map(|h| h.lock().sched.clone()).unwrap_or_default();
    let tid = th.map_or(tg.tgid, |h| h.tid);
    let mm = tg.lock().view.mm.upgrade();
    let (vsize, rss) = mm
        .as_ref()
        .map_or((0, 0), |m| (m.total_mapped(), m.resident_pages()));
    let (arg0, arg1, env0, env1) = mm.as_ref().map_or((0, 0, 0, 0), |m| m.arg_env());
    let (brk0, _) = mm.as_ref().map_or((0, 0), |m| m.brk_range());
    let [own_p, shared_p, blocked, ign, cgt] = signal_sets(tg, th);
    let pending = own_p | shared_p;
    let started = th.map_or(0, |h| h.started_ns);
    // The reader runs where it is now; another thread where it last went to sleep.
    let cpu = match th {
        Some(h) if h.tid == current().1 => nix::sched::sched_getcpu().unwrap_or(0) as u32,
        Some(h) => h.last_cpu.load(std::sync::atomic::Ordering::Relaxed),
        None => 0,
    };
    let rt_priority = if sched.policy == libc::SCHED_OTHER {
        0
    } else {
        sched.priority
    };
    // Fields 3.. as proc(5) numbers them. Counters the sentry does not keep are 0: page
    // faults (10-13), wchan (35), swap (36-37), block I/O delay (42), guest time (43-44). The
    // code, stack and data addresses (26-30, 45-46) are 0 as Linux shows them to readers that
    // may not ptrace the process.
    let fields: Vec<String> = [
        st.to_string(),
        ppid.to_string(),
        pgid.to_string(),
        sid.to_string(),
        "0".into(),       // tty_nr
        "-1".into(),      // tpgid
        "4194560".into(), // flags: PF_FORKNOEXEC | PF_RANDOMIZE-free user task
        "0".into(),
        "0".into(),
        "0".into(),
        "0".into(),
        hz(own.0).to_string(),
        hz(own.1).to_string(),
        hz(kids.0).to_string(),
        hz(kids.1).to_string(),
        (20 + sched.nice).to_string(),
        sched.nice.to_string(),
        threads.to_string(),
        "0".into(), // itrealvalue (always 0 since 2.6.17)
        hz(started).to_string(),
        vsize.to_string(),
        rss.to_string(),
        rsslim.to_string(),
        "0".into(), // startcode
        "0".into(), // endcode
        "0".into(), // startstack
        "0".into(), // kstkesp
        "0".into(), // kstkeip
        (pending & 0xffff_ffff).to_string(),
        (blocked & 0xffff_ffff).to_string(),
        (ign & 0xffff_ffff).to_string(),
        (cgt & 0xffff_ffff).to_string(),
        "0".into(), // wchan
        "0".into(), // nswap
        "0".into(), // cnswap
        if tid == tg.tgid { exit_signal } else { -1 }.to_string(),
        cpu.to_string(),
        rt_priority.to_string(),
        sched.policy.to_string(),
        "0".into(), // delayacct_blkio_ticks
        "0".into(), // guest_time
        "0".into(), // cguest_time
        "0".into(), // start_data
        "0".into(), // end_data
        brk0.to_string(),
        arg0.to_string(),
        arg1.to_string(),
        env0.to_string(),
        env1.to_string(),
        zombie.map_or(0, |z| z.wait_status()).to_string(),
    ]
    .into();
    Ok(format!(
        "{tid} ({}) {}\n",
        String::from_utf8_lossy(&comm_of(tg, th)),
        fields.join(" ")
    )
    .into_bytes())
}

fn pid_status(
    k: &Kernel,
    tg: &ThreadGroup,
    th: Option<&Arc<TaskHandle>>,
) -> Result<Vec<u8>, Errno> {
    use std::fmt::Write;
    let (st, st_name) = state(tg, th);
    let tid = th.map_or(tg.tgid, |h| h.tid);
    let (creds, groups) = th.map_or((None, Vec::new()), |h| {
        let s = h.lock();
        (s.creds, s.groups.clone())
    });
    let c = creds.unwrap_or_else(|| crate::vfs::Creds::new(0, 0));
    let (ppid, pgid, sid, nthreads, sigpending_limit, uid, mm, fs, fds) = {
        let s = tg.lock();
        (
            s.parent.as_ref().map_or(0, |p| p.tgid),
            s.pgid,
            s.sid,
            s.threads.len(),
            s.rlimits[libc::RLIMIT_SIGPENDING as usize].rlim_cur,
            s.uid,
            s.view.mm.upgrade(),
            s.view.fs.upgrade(),
            s.view.fds.upgrade(),
        )
    };
    let umask = fs.map(|f| f.lock().unwrap_or_else(|e| e.into_inner()).umask);
    let seccomp = th.and_then(|h| h.seccomp());
    let (sc_mode, sc_filters) = seccomp.map_or((0, 0), |m| (m.number(), m.filters()));
    let [own_p, shared_p, blocked, ign, cgt] = signal_sets(tg, th);
    let mut o = String::new();
    let _ = writeln!(o, "Name:\t{}", String::from_utf8_lossy(&comm_of(tg, th)));
    if let Some(u) = umask {
        let _ = writeln!(o, "Umask:\t{u:04o}");
    }
    let _ = write!(
        o,
        "State:\t{st} ({st_name})\nTgid:\t{tgid}\nNgid:\t0\nPid:\t{tid}\nPPid:\t{ppid}\n\
         TracerPid:\t0\nUid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\n",
        c.uid,
        c.euid,
        c.suid,
        c.fsuid,
        c.gid,
        c.egid,
        c.sgid,
        c.fsgid,
        tgid = tg.tgid,
    );
    if let Some(fds) = &fds {
        let top = fds.fds().into_iter().max().map_or(0, |f| f as usize + 1);
        let _ = writeln!(o, "FDSize:\t{}", top.next_power_of_two().max(64));
    }
    let g: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    let _ = write!(
        o,
        "Groups:\t{} \nNStgid:\t{tgid}\nNSpid:\t{tid}\nNSpgid:\t{pgid}\nNSsid:\t{sid}\nKthread:\t0\n",
        g.join(" "),
        tgid = tg.tgid,
    );
    if let Some(mm) = &mm {
        let m = mm.stats(exe_ident(tg));
        let kb = |pages: u64| pages * 4;
        let kib = |bytes: u64| bytes / 1024;
        let _ = write!(
            o,
            "VmPeak:\t{:8} kB\nVmSize:\t{:8} kB\nVmLck:\t{:8} kB\nVmPin:\t{:8} kB\n\
             VmHWM:\t{:8} kB\nVmRSS:\t{:8} kB\nRssAnon:\t{:8} kB\nRssFile:\t{:8} kB\n\
             RssShmem:\t{:8} kB\nVmData:\t{:8} kB\nVmStk:\t{:8} kB\nVmExe:\t{:8} kB\n\
             VmLib:\t{:8} kB\nVmSwap:\t{:8} kB\n",
            kib(m.peak_size),
            kib(m.size),
            0,
            0,
            kb(m.peak_rss),
            kb(m.rss),
            kb(m.rss_anon),
            kb(m.rss_file),
            kb(m.rss_shmem),
            kib(m.data),
            kib(m.stack),
            kib(m.exe),
            kib(m.lib),
            0,
        );
    }
    let cpus = cpus_allowed(k, th);
    let _ = write!(
        o,
        "Threads:\t{nthreads}\nSigQ:\t{}/{sigpending_limit}\nSigPnd:\t{own_p:016x}\n\
         ShdPnd:\t{shared_p:016x}\nSigBlk:\t{blocked:016x}\nSigIgn:\t{ign:016x}\n\
         SigCgt:\t{cgt:016x}\nCapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\n\
         CapBnd:\t{:016x}\nCapAmb:\t{:016x}\nNoNewPrivs:\t{}\nSeccomp:\t{sc_mode}\n\
         Seccomp_filters:\t{sc_filters}\nCpus_allowed:\t{}\nCpus_allowed_list:\t{}\n\
         Mems_allowed:\t1\nMems_allowed_list:\t0\n",
        queued_signals(k, uid),
        c.cap_inheritable,
        c.cap_permitted,
        c.cap_effective,
        c.cap_bounding,
        0,
        c.no_new_privs as u8,
        cpu_mask(&cpus),
        cpu_list(&cpus),
    );
    Ok(o.into_bytes())
}

/// /proc/<pid>/limits, in Linux's layout (resource order and units of proc_pid_limits).
/// The legacy oom_adj (-17..15) an oom_score_adj (-1000..1000) reads as.
fn oom_adj_legacy(adj: i16) -> i16 {
    if adj == 1000 {
        15
    } else {
        (i32::from(adj) * 17 / 1000) as i16
    }
}

/// A write to oom_score_adj (or the legacy oom_adj): a number in range (EINVAL otherwise);
/// going below the process's floor (for oom_adj: below the current value) needs
/// CAP_SYS_RESOURCE (EACCES), and a privileged writer's oom_score_adj becomes the floor
/// (Linux's __set_oom_adj).
fn set_oom_adj(
    tg: &ThreadGroup,
    bytes: &[u8],
    legacy: bool,
    privileged: bool,
) -> Result<(), Errno> {
    let text = std::str::from_utf8(bytes).map_err(|_| Errno::EINVAL)?;
    let v: i32 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
    let adj = if legacy {
        if !(-17..=15).contains(&v) {
            return Err(Errno::EINVAL);
        }
        if v == 15 {
            1000
        } else {
            v * 1000 / 17
        }
    } else {
        if !(-1000..=1000).contains(&v) {
            return Err(Errno::EINVAL);
        }
        v
    } as i16;
    let mut st = tg.lock();
    // The legacy file may not lower the value at all; the new one not below the floor.
    let floor = if legacy {
        st.oom_score_adj.0
    } else {
        st.oom_score_adj.1
    };
    if adj < floor && !privileged {
        return Err(Errno::EACCES);
    }
    st.oom_score_adj.0 = adj;
    if !legacy && privileged {
        st.oom_score_adj.1 = adj;
    }
    Ok(())
}

/// oom_score: Linux's badness (resident pages, plus oom_score_adj thousandths of memory)
/// scaled to 0..2000; 0 for a process that may not be chosen (-1000) or has no memory.
fn oom_score(k: &Kernel, tg: &ThreadGroup) -> Result<Vec<u8>, Errno> {
    let total = (k.mem_total() / 4096).max(1) as i64;
    let adj = i64::from(tg.lock().oom_score_adj.0);
    let alive = tg.lock().view.mm.upgrade().is_some();
    let points = if adj == -1000 || !alive {
        0
    } else {
        let badness = mem_pages(tg).1 as i64 + adj * (total / 1000);
        (1000 + badness * 1000 / total).max(0)
    };
    Ok(format!("{points}\n").into_bytes())
}

fn pid_limits(_k: &Kernel, tg: &ThreadGroup) -> Result<Vec<u8>, Errno> {
    const NAMES: [(&str, &str); 16] = [
        ("Max cpu time", "seconds"),
        ("Max file size", "bytes"),
        ("Max data size", "bytes"),
        ("Max stack size", "bytes"),
        ("Max core file size", "bytes"),
        ("Max resident set", "bytes"),
        ("Max processes", "processes"),
        ("Max open files", "files"),
        ("Max locked memory", "bytes"),
        ("Max address space", "bytes"),
        ("Max file locks", "locks"),
        ("Max pending signals", "signals"),
        ("Max msgqueue size", "bytes"),
        ("Max nice priority", ""),
        ("Max realtime priority", ""),
        ("Max realtime timeout", "us"),
    ];
    let limits = tg.lock().rlimits;
    let val = |v: u64| {
        if v == libc::RLIM_INFINITY {
            "unlimited".to_string()
        } else {
            v.to_string()
        }
    };
    let mut out = format!(
        "{:<25} {:<20} {:<20} {:<10}\n",
        "Limit", "Soft Limit", "Hard Limit", "Units"
    );
    for ((name, unit), l) in NAMES.iter().zip(limits.iter()) {
        out.push_str(&format!(
            "{:<25} {:<20} {:<20} ",
            name,
            val(l.rlim_cur),
            val(l.rlim_max)
        ));
        if !unit.is_empty() {
            out.push_str(&format!("{unit:<10}"));
        }
        out.push('\n');
    }
    Ok(out.into_bytes())
}

fn pid_maps(k: &Kernel, tg: &ThreadGroup) -> Result<Vec<u8>, Errno> {
    let Some(mm) = tg.lock().view.mm.upgrade() else {
        return Ok(Vec::new());
    };
    let mut out = String::new();
    for v in mm.vmas() {
        let (obj_off, name, (dev, ino)) = match &v.backing {
            crate::mm::Backing::Object { obj, off } => (*off, obj.name(), obj.ident()),
            crate::mm::Backing::Anon => (0, String::new(), (0, 0)),
        };
        let name = match v.name {
            Some(n) => n.to_string(),
            None => name,
        };
        let _ = k;
        out.push_str(&format!(
            "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {:<26} {}\n",
            v.start,
            v.end,
            if v.prot.read { 'r' } else { '-' },
            if v.prot.write { 'w' } else { '-' },
            if v.prot.exec { 'x' } else { '-' },
            if v.shared { 's' } else { 'p' },
            obj_off,
            (dev >> 8) & 0xfff,
            dev & 0xff,
            ino,
            name
        ));
    }
    Ok(out
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect::<String>()
        .into_bytes())
}

/// /proc/<pid>/fd: a symlink per open descriptor, to the file's path (or `pipe:[ino]`-style
/// names for files without one).
/// /proc/<pid>/task: a directory per thread. Each shows the process's files (the sentry keeps
/// one view per process, so per-thread values such as a thread's own CPU time are not split
/// out).
struct ProcTasks {
    k: Weak<Kernel>,
    pid: i32,
    dev: u64,
    ino: u64,
}

impl ProcTasks {
    fn tids(&self) -> Result<Vec<i32>, Errno> {
        let k = self.k.upgrade().ok_or(Errno::ENOENT)?;
        let tg = k
            .tasks()
            .groups
            .get(&self.pid)
            .cloned()
            .ok_or(Errno::ENOENT)?;
        let mut v: Vec<i32> = tg.threads().iter().map(|t| t.tid).collect();
        v.sort_unstable();
        Ok(v)
    }
}

impl Inode for ProcTasks {
    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = attr(self.dev, self.ino, libc::S_IFDIR | 0o555, 0);
        s.nlink = 2;
        Ok(s)
    }
    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let tid: i32 = std::str::from_utf8(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Errno::ENOENT)?;
        if !self.tids()?.contains(&tid) {
            return Err(Errno::ENOENT);
        }
        Ok(Arc::new(ProcPid {
            k: self.k.clone(),
            pid: self.pid,
            tid: Some(tid),
            dev: self.dev,
        }))
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        open_dir(self.stat()?, flags)
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(self
            .tids()?
            .into_iter()
            .map(|t| DirEntry {
                ino: 1000 + t as u64,
                kind: libc::DT_DIR,
                name: t.to_string().into_bytes(),
            })
            .collect())
    }
    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(proc_statfs())
    }
    fn cacheable(&self) -> bool {
        false
    }
}

struct ProcFds {
    k: Weak<Kernel>,
    pid: i32,
    dev: u64,
    ino: u64,
    /// fdinfo/ (files describing each descriptor) rather than fd/ (links).
    info: bool,
}

impl ProcFds {
    fn table(&self) -> Result<(Arc<Kernel>, Arc<crate::vfs::FdTable>), Errno> {
        let k = self.k.upgrade().ok_or(Errno::ENOENT)?;
        let tg = k
            .tasks()
            .groups
            .get(&self.pid)
            .cloned()
            .ok_or(Errno::ENOENT)?;
        let fds = tg.lock().view.fds.upgrade().ok_or(Errno::ENOENT)?;
        Ok((k, fds))
    }
}

impl Inode for ProcFds {
    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = attr(self.dev, self.ino, libc::S_IFDIR | 0o500, 0);
        s.nlink = 2;
        Ok(s)
    }
    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let fd: i32 = std::str::from_utf8(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Errno::ENOENT)?;
        let (_, fds) = self.table()?;
        fds.get(fd).map_err(|_| Errno::ENOENT)?;
        let (k, pid) = (self.k.clone(), self.pid);
        if self.info {
            let gen: Generator = Box::new(move || {
                let k = k.upgrade().ok_or(Errno::ENOENT)?;
                let tg = k.tasks().groups.get(&pid).cloned().ok_or(Errno::ENOENT)?;
                let fds = tg.lock().view.fds.upgrade().ok_or(Errno::ENOENT)?;
                let e = fds.entry(fd).map_err(|_| Errno::ENOENT)?;
                let f = e.file;
                let mut flags = f.flags();
                if e.cloexec {
                    flags |= libc::O_CLOEXEC as u32;
                }
                let pos = if f.ops.seekable() { *f.offset() } else { 0 };
                let mnt = f
                    .dentry
                    .as_ref()
                    .and_then(crate::vfs::mount::mount_of)
                    .map(|m| m.id)
                    .unwrap_or(0);
                let ino = f.stat().map(|s| s.ino).unwrap_or(0);
                Ok(format!(
                    "pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{mnt}\nino:\t{ino}\n{}",
                    f.ops.fdinfo()
                )
                .into_bytes())
            });
            let stat = attr(self.dev, super::new_ino(), libc::S_IFREG | 0o400, 0);
            return Ok(Arc::new(GenFile {
                stat,
                gen,
                put: None,
            }));
        }
        // The open file, looked up again each time the link is used.
        let file = move || {
            let k = k.upgrade().ok_or(Errno::ENOENT)?;
            let tg = k.tasks().groups.get(&pid).cloned().ok_or(Errno::ENOENT)?;
            let (fds, fs) = {
                let st = tg.lock();
                (st.view.fds.upgrade(), st.view.fs.upgrade())
            };
            let f = fds
                .ok_or(Errno::ENOENT)?
                .get(fd)
                .map_err(|_| Errno::ENOENT)?;
            // Paths as the process sees them, from its root (a pod container's own).
            let root = fs.map_or_else(
                || k.root.clone(),
                |fs| fs.lock().unwrap_or_else(|e| e.into_inner()).root.clone(),
            );
            Ok::<_, Errno>((f, root))
        };
        let again = file.clone();
        Ok(Arc::new(DynLink {
            stat: attr(self.dev, super::new_ino(), libc::S_IFLNK | 0o700, 0),
            target: Box::new(move || {
                let (f, root) = file()?;
                Ok(match &f.dentry {
                    Some(d) => d.path(&root),
                    None => {
                        let st = f.stat()?;
                        match (st.mode & libc::S_IFMT, f.ops.anon_name()) {
                            (libc::S_IFIFO, _) => format!("pipe:[{}]", st.ino),
                            (libc::S_IFSOCK, _) => format!("socket:[{}]", st.ino),
                            (_, Some(name)) => format!("anon_inode:{name}"),
                            _ => format!("anon_inode:[{}]", st.ino),
                        }
                        .into_bytes()
                    }
                })
            }),
            magic: true,
            jump: Some(Box::new(move || {
                let (f, _) = again()?;
                match &f.dentry {
                    Some(d) => Ok(d.clone()),
                    None => {
                        crate::vfs::Dentry::new_root(Arc::new(Reopen { ops: f.ops.clone() }), None)
                    }
                }
            })),
        }))
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        open_dir(self.stat()?, flags)
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let (_, fds) = self.table()?;
        Ok(fds
            .fds()
            .into_iter()
            .map(|fd| DirEntry {
                ino: 100 + fd as u64,
                kind: if self.info {
                    libc::DT_REG
                } else {
                    libc::DT_LNK
                },
                name: fd.to_string().into_bytes(),
            })
            .collect())
    }
    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(proc_statfs())
    }
    fn cacheable(&self) -> bool {
        false
    }
}

impl Inode for ProcPid {
    fn stat(&self) -> Result<Stat, Errno> {
        let id = self.tid.unwrap_or(self.pid);
        let mut s = attr(self.dev, 1000 + id as u64, libc::S_IFDIR | 0o555, 0);
        s.nlink = 2;
        Ok(s)
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let file = |mode: u32, f: fn(&Kernel, &ThreadGroup) -> Result<Vec<u8>, Errno>| {
            let (k, pid) = (self.k.clone(), self.pid);
            let mut stat = attr(self.dev, super::new_ino(), libc::S_IFREG | mode, 0);
            if let Some((uid, gid)) = self.owner() {
                stat.uid = uid;
                stat.gid = gid;
            }
            let gen: Generator = Box::new(move || {
                let k = k.upgrade().ok_or(Errno::ENOENT)?;
                let tg = k.tasks().groups.get(&pid).cloned().ok_or(Errno::ESRCH)?;
                f(&k, &tg)
            });
            Ok(Arc::new(GenFile {
                stat,
                gen,
                put: None,
            }) as Arc<dyn Inode>)
        };
        // A file about the thread shown, writable with `put` (given that thread).
        let thread_file = |mode: u32, f: PidGen, put: Option<PidPut>| {
            let (k, pid, tid) = (self.k.clone(), self.pid, self.tid);
            let mut stat = attr(self.dev, super::new_ino(), libc::S_IFREG | mode, 0);
            if let Some((uid, gid)) = self.owner() {
                stat.uid = uid;
                stat.gid = gid;
            }
            let find = move || -> Result<Shown, Errno> {
                let k = k.upgrade().ok_or(Errno::ENOENT)?;
                let tg = k.tasks().groups.get(&pid).cloned().ok_or(Errno::ESRCH)?;
                let th = shown_thread(&tg, tid);
                if tid.is_some() && th.is_none() {
                    return Err(Errno::ESRCH);
                }
                Ok((k, tg, th))
            };
            let find2 = find.clone();
            let gen: Generator = Box::new(move || {
                let (k, tg, th) = find()?;
                f(&k, &tg, th.as_ref())
            });
            let put = put.map(|p| -> Putter {
                Arc::new(move |bytes: &[u8]| {
                    let (_, tg, th) = find2()?;
                    // Only threads of the same process may rename (Linux's comm_write).
                    if current().0 != tg.tgid {
                        return Err(Errno::EINVAL);
                    }
                    p(th.as_ref().ok_or(Errno::ESRCH)?, bytes)
                })
            });
            Ok(Arc::new(GenFile { stat, gen, put }) as Arc<dyn Inode>)
        };
        match name {
            b"cmdline" => file(0o444, |_, tg| strings(tg, false)),
            b"environ" => file(0o400, |_, tg| strings(tg, true)),
            b"comm" => thread_file(
                0o644,
                |_, tg, th| {
                    let mut c = comm_of(tg, th);
                    c.push(b'\n');
                    Ok(c)
                },
                Some(|h, bytes| {
                    // The bytes up to a NUL, at most 15 (a trailing newline is kept, as Linux).
                    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                    h.set_comm(bytes[..end].to_vec());
                    Ok(())
                }),
            ),
            b"personality" => thread_file(
                0o400,
                |_, _, th| {
                    let p = th.ok_or(Errno::ESRCH)?.lock().personality;
                    Ok(format!("{p:08x}\n").into_bytes())
                },
                None,
            ),
            b"stat" => thread_file(0o444, pid_stat, None),
            b"statm" => file(0o444, |_, tg| {
                let (size, rss) = mem_pages(tg);
                Ok(format!("{size} {rss} 0 0 0 0 0\n").into_bytes())
            }),
            b"status" => thread_file(0o444, pid_status, None),
            b"maps" => file(0o444, pid_maps),
            b"limits" => file(0o444, pid_limits),
            b"oom_score" => file(0o444, oom_score),
            b"oom_score_adj" | b"oom_adj" => {
                let legacy = name == b"oom_adj";
                let mut stat = attr(self.dev, super::new_ino(), libc::S_IFREG | 0o644, 0);
                if let Some((uid, gid)) = self.owner() {
                    stat.uid = uid;
                    stat.gid = gid;
                }
                let (k, pid) = (self.k.clone(), self.pid);
                let find = move || -> Result<(Arc<Kernel>, Arc<ThreadGroup>), Errno> {
                    let k = k.upgrade().ok_or(Errno::ENOENT)?;
                    let tg = k.tasks().groups.get(&pid).cloned().ok_or(Errno::ESRCH)?;
                    Ok((k, tg))
                };
                let find2 = find.clone();
                let gen: Generator = Box::new(move || {
                    let (_, tg) = find()?;
                    let adj = tg.lock().oom_score_adj.0;
                    let shown = if legacy { oom_adj_legacy(adj) } else { adj };
                    Ok(format!("{shown}\n").into_bytes())
                });
                let put: Putter = Arc::new(move |bytes: &[u8]| {
                    let (k, tg) = find2()?;
                    let writer = k.tasks().threads.get(&current().1).cloned();
                    let privileged = writer
                        .and_then(|w| w.lock().creds)
                        .is_some_and(|c| c.has_cap(caps::Capability::CAP_SYS_RESOURCE));
                    set_oom_adj(&tg, bytes, legacy, privileged)
                });
                Ok(Arc::new(GenFile {
                    stat,
                    gen,
                    put: Some(put),
                }) as Arc<dyn Inode>)
            }
            // Every process is at the root of the sandbox's cgroup namespace (cgroup v2).
            b"cgroup" => file(0o444, |_, _| Ok(b"0::/\n".to_vec())),
            b"mounts" => file(0o444, |_, tg| {
                mount_lines(tg, crate::vfs::mount::mounts_line)
            }),
            b"mountinfo" => file(0o444, |_, tg| {
                mount_lines(tg, crate::vfs::mount::mountinfo_line)
            }),
            b"cwd" | b"root" => {
                let (k, pid, cwd) = (self.k.clone(), self.pid, name == b"cwd");
                Ok(Arc::new(DynLink {
                    stat: attr(self.dev, super::new_ino(), libc::S_IFLNK | 0o777, 0),
                    target: Box::new(move || {
                        let k = k.upgrade().ok_or(Errno::ENOENT)?;
                        let tg = k.tasks().groups.get(&pid).cloned().ok_or(Errno::ENOENT)?;
                        let fs = tg.lock().view.fs.upgrade().ok_or(Errno::ENOENT)?;
                        let fs = fs.lock().unwrap_or_else(|e| e.into_inner()).clone();
                        let d = if cwd { fs.cwd } else { fs.root.clone() };
                        // Paths are as the reader sees them (from its own root).
                        let root = reader_root(&k).unwrap_or(fs.root);
                        Ok(d.path(&root))
                    }),
                    magic: true,
                    jump: None,
                }))
            }
            b"fd" | b"fdinfo" => Ok(Arc::new(ProcFds {
                k: self.k.clone(),
                pid: self.pid,
                dev: self.dev,
                ino: super::new_ino(),
                info: name == b"fdinfo",
            })),
            b"net" => {
                let dir = super::synth::SynthDir::new(self.dev, 0o555, PROC_SUPER_MAGIC);
                for &(name, make) in crate::net::procfs::FILES {
                    let k = self.k.clone();
                    let gen: Generator = Box::new(move || {
                        let k = k.upgrade().ok_or(Errno::ENOENT)?;
                        Ok(make(&k.net()).into_bytes())
                    });
                    dir.add(name, gen_file(self.dev, gen));
                }
                Ok(dir)
            }
            b"task" => Ok(Arc::new(ProcTasks {
                k: self.k.clone(),
                pid: self.pid,
                dev: self.dev,
                ino: super::new_ino(),
            })),
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
                    magic: true,
                    jump: None,
                }))
            }
            _ => Err(Errno::ENOENT),
        }
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        open_dir(self.stat()?, flags)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let files = [
            ("cgroup", libc::S_IFREG),
            ("cmdline", libc::S_IFREG),
            ("comm", libc::S_IFREG),
            ("cwd", libc::S_IFLNK),
            ("environ", libc::S_IFREG),
            ("exe", libc::S_IFLNK),
            ("fd", libc::S_IFDIR),
            ("fdinfo", libc::S_IFDIR),
            ("limits", libc::S_IFREG),
            ("maps", libc::S_IFREG),
            ("mountinfo", libc::S_IFREG),
            ("mounts", libc::S_IFREG),
            ("net", libc::S_IFDIR),
            ("oom_adj", libc::S_IFREG),
            ("oom_score", libc::S_IFREG),
            ("oom_score_adj", libc::S_IFREG),
            ("personality", libc::S_IFREG),
            ("root", libc::S_IFLNK),
            ("stat", libc::S_IFREG),
            ("statm", libc::S_IFREG),
            ("status", libc::S_IFREG),
            ("task", libc::S_IFDIR),
        ];
        Ok(files
            .iter()
            .enumerate()
            .map(|(i, (n, t))| DirEntry {
                ino: 10 + i as u64,
                kind: dt(*t),
                name: n.as_bytes().to_vec(),
            })
            .collect())
    }

    fn statfs(&self) -> Result<StatFs, Errno> {
        Ok(proc_statfs())
    }

    fn cacheable(&self) -> bool {
        false
    }
}
