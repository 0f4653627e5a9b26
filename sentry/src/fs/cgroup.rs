//! cgroup2, read-only, as a container sees its own cgroup through a cgroup namespace: the
//! sandbox's limits and usage, so that runtimes that size themselves from their cgroup (the
//! JVM, Go, .NET read `memory.max` and `cpu.max`) see the container's size.

use std::sync::{Arc, Weak};

use super::proc::gen_file;
use super::synth::SynthDir;
use crate::errno::Errno;
use crate::kernel::Kernel;

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
/// cpu.max's period when the sandbox reports one (the kernel's default).
const PERIOD: u64 = 100_000;

/// The cgroup file system of the sandbox of `k`.
pub fn new(k: Weak<Kernel>) -> Arc<SynthDir> {
    let dev = super::new_dev();
    let root = SynthDir::new(dev, 0o555, CGROUP2_SUPER_MAGIC);
    let file = |f: fn(&Kernel) -> String| {
        let k = k.clone();
        gen_file(
            dev,
            Box::new(move || {
                let k = k.upgrade().ok_or(Errno::ENOENT)?;
                Ok(f(&k).into_bytes())
            }),
        )
    };
    let fixed = |s: &'static str| file_of(dev, s);
    root.add("cgroup.controllers", fixed("cpu memory pids\n"));
    root.add("cgroup.subtree_control", fixed("\n"));
    root.add("cgroup.max.depth", fixed("max\n"));
    root.add("cgroup.max.descendants", fixed("max\n"));
    root.add(
        "cgroup.procs",
        file(|k| {
            k.processes()
                .iter()
                .map(|p| format!("{}\n", p.pid))
                .collect()
        }),
    );
    root.add(
        "memory.max",
        file(|k| match k.memory_limit() {
            Some(m) => format!("{m}\n"),
            None => "max\n".into(),
        }),
    );
    root.add("memory.current", file(|k| format!("{}\n", k.mf.used())));
    root.add("memory.swap.max", fixed("0\n"));
    root.add(
        "cpu.max",
        file(|k| match k.cpu_limit() {
            Some(c) => format!("{} {PERIOD}\n", c as u64 * PERIOD),
            None => format!("max {PERIOD}\n"),
        }),
    );
    root.add("cpu.weight", fixed("100\n"));
    root.add("pids.max", fixed("max\n"));
    root.add(
        "pids.current",
        file(|k| format!("{}\n", k.tasks().threads.len())),
    );
    root
}

fn file_of(dev: u64, s: &'static str) -> Arc<dyn crate::vfs::Inode> {
    gen_file(dev, Box::new(move || Ok(s.as_bytes().to_vec())))
}
