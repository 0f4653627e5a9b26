//! devfs: the sentry's own /dev. Device files never touch the host.

use std::sync::Arc;

use super::synth::{attr, SynthDir, SynthLink};
use crate::errno::Errno;
use crate::vfs::{FileOps, Inode, Stat};

/// TMPFS_MAGIC: Linux's devtmpfs reports it too.
const DEVFS_MAGIC: i64 = 0x0102_1994;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Zero,
    Full,
    Random,
    /// /dev/tty: the caller's controlling terminal.
    Tty,
}

/// The memory devices (major 1): name in /dev, kind, minor number.
const MEM_DEVICES: [(&str, Kind, u32); 5] = [
    ("null", Kind::Null, 3),
    ("zero", Kind::Zero, 5),
    ("full", Kind::Full, 7),
    ("random", Kind::Random, 8),
    ("urandom", Kind::Random, 9),
];

struct Device {
    stat: Stat,
    kind: Kind,
}

impl Inode for Device {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn open(&self, _: u32) -> Result<Arc<dyn FileOps>, Errno> {
        if self.kind == Kind::Tty {
            return super::pty::open_controlling();
        }
        Ok(Arc::new(DeviceFile {
            stat: self.stat,
            kind: self.kind,
        }))
    }
    fn statfs(&self) -> Result<crate::mm::pod::StatFs, Errno> {
        Ok(super::synthetic_statfs(DEVFS_MAGIC))
    }
}

struct DeviceFile {
    stat: Stat,
    kind: Kind,
}

impl FileOps for DeviceFile {
    fn read(&self, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        match self.kind {
            Kind::Null => Ok(0),
            Kind::Zero | Kind::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Kind::Random => {
                platform::host::getrandom(buf);
                Ok(buf.len())
            }
            Kind::Tty => Err(Errno::EIO),
        }
    }
    fn write(&self, buf: &[u8], _: u64) -> Result<usize, Errno> {
        match self.kind {
            Kind::Full => Err(Errno::ENOSPC),
            _ => Ok(buf.len()),
        }
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn seeks_to_zero(&self) -> bool {
        !matches!(self.kind, Kind::Tty)
    }
    fn maps_anonymous(&self) -> bool {
        matches!(self.kind, Kind::Zero)
    }
}

/// Open a device node some other file system holds (made by mknod, or in the image): the
/// sentry's own device of that number, or ENXIO for a number no device of ours has, as
/// Linux answers for a device without a driver.
pub fn open_node(stat: &Stat) -> Result<Arc<dyn FileOps>, Errno> {
    if stat.file_type() != libc::S_IFCHR {
        return Err(Errno::ENXIO);
    }
    let kind = match (libc::major(stat.rdev), libc::minor(stat.rdev)) {
        (5, 0) => return super::pty::open_controlling(),
        (1, minor) => MEM_DEVICES
            .iter()
            .find(|d| d.2 == minor)
            .map(|d| d.1)
            .ok_or(Errno::ENXIO)?,
        _ => return Err(Errno::ENXIO),
    };
    Ok(Arc::new(DeviceFile { stat: *stat, kind }))
}

/// A null device (reads end at once, writes vanish), to mount over a file to hide it.
pub fn null() -> Arc<dyn Inode> {
    let stat = attr(
        super::new_dev(),
        super::new_ino(),
        libc::S_IFCHR | 0o666,
        libc::makedev(1, 3),
    );
    Arc::new(Device {
        stat,
        kind: Kind::Null,
    })
}

/// Build /dev.
pub fn new() -> Arc<SynthDir> {
    let dev = super::new_dev();
    let root = SynthDir::new(dev, 0o755, DEVFS_MAGIC);
    for (name, kind, minor) in MEM_DEVICES {
        let stat = attr(
            dev,
            super::new_ino(),
            libc::S_IFCHR | 0o666,
            libc::makedev(1, minor),
        );
        root.add(name, Arc::new(Device { stat, kind }));
    }
    // devpts is mounted on /dev/pts; /dev/ptmx is its ptmx, as in containers.
    root.add("pts", SynthDir::new(dev, 0o755, DEVFS_MAGIC));
    root.add("ptmx", SynthLink::new(dev, "pts/ptmx"));
    let stat = attr(
        dev,
        super::new_ino(),
        libc::S_IFCHR | 0o666,
        libc::makedev(5, 0),
    );
    root.add(
        "tty",
        Arc::new(Device {
            stat,
            kind: Kind::Tty,
        }),
    );
    root.add("fd", SynthLink::new(dev, "/proc/self/fd"));
    root.add("stdin", SynthLink::new(dev, "/proc/self/fd/0"));
    root.add("stdout", SynthLink::new(dev, "/proc/self/fd/1"));
    root.add("stderr", SynthLink::new(dev, "/proc/self/fd/2"));
    root
}
