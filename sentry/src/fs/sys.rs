//! sysfs, minimal: the CPU topology files runtimes read to size thread pools
//! (`devices/system/cpu/{online,possible,present}`, a `cpuN` directory per CPU) and the
//! transparent huge page policy (`kernel/mm/transparent_hugepage`: never — the sentry maps
//! application memory in 4 KiB pages).

use std::sync::Arc;

use super::proc::gen_file;
use super::synth::SynthDir;

pub const SYSFS_MAGIC: i64 = 0x6265_6572;

fn text(dev: u64, s: String) -> Arc<dyn crate::vfs::Inode> {
    gen_file(dev, Box::new(move || Ok(s.clone().into_bytes())))
}

/// /sys for a sandbox with `cpus` CPUs.
pub fn new(cpus: usize) -> Arc<SynthDir> {
    let dev = super::new_dev();
    let dir = || SynthDir::new(dev, 0o755, SYSFS_MAGIC);
    let root = dir();
    let devices = dir();
    let system = dir();
    let cpu = dir();
    let range = if cpus <= 1 {
        "0\n".to_string()
    } else {
        format!("0-{}\n", cpus - 1)
    };
    for f in ["online", "possible", "present"] {
        cpu.add(f, text(dev, range.clone()));
    }
    for i in 0..cpus {
        cpu.add(&format!("cpu{i}"), dir());
    }
    system.add("cpu", cpu);
    devices.add("system", system);
    root.add("devices", devices);
    let kernel = dir();
    let mm = dir();
    let thp = dir();
    thp.add("enabled", text(dev, "always madvise [never]\n".into()));
    thp.add(
        "defrag",
        text(dev, "always defer defer+madvise madvise [never]\n".into()),
    );
    mm.add("transparent_hugepage", thp);
    kernel.add("mm", mm);
    root.add("kernel", kernel);
    // fs/cgroup: where a container's cgroup file system is mounted.
    let fs = dir();
    fs.add("cgroup", dir());
    root.add("fs", fs);
    for d in ["class", "bus", "block", "firmware", "module", "power"] {
        root.add(d, dir());
    }
    root
}
