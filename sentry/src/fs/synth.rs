//! Synthetic inodes: fixed directories and symlinks that the sentry builds (mount points, /dev).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::errno::Errno;
use crate::vfs::{DirEntry, FileOps, Inode, Stat};

/// Attributes of a synthetic file, timestamped at sentry start.
pub fn attr(dev: u64, ino: u64, mode: u32, rdev: u64) -> Stat {
    let t = crate::kernel::time::boot_realtime();
    Stat {
        dev,
        ino,
        mode,
        nlink: 1,
        rdev,
        blksize: 4096,
        atime: t,
        mtime: t,
        ctime: t,
        ..Default::default()
    }
}

/// A directory whose entries are fixed inodes.
pub struct SynthDir {
    stat: Stat,
    magic: i64,
    entries: Mutex<BTreeMap<Vec<u8>, Arc<dyn Inode>>>,
}

impl SynthDir {
    pub fn new(dev: u64, mode: u32, magic: i64) -> Arc<SynthDir> {
        let mut stat = attr(dev, super::new_ino(), libc::S_IFDIR | mode, 0);
        stat.nlink = 2;
        Arc::new(SynthDir {
            stat,
            magic,
            entries: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn add(&self, name: &str, inode: Arc<dyn Inode>) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.as_bytes().to_vec(), inode);
    }
}

struct DirFile(Stat);

impl FileOps for DirFile {
    fn read(&self, _: &mut [u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn write(&self, _: &[u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0)
    }
}

/// An open directory of any file system: reads give EISDIR, getdents goes through the dentry.
pub fn dir_file(stat: Stat) -> Arc<dyn FileOps> {
    Arc::new(DirFile(stat))
}

impl Inode for SynthDir {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or(Errno::ENOENT)
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        if flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32 {
            return Err(Errno::EISDIR);
        }
        Ok(dir_file(self.stat))
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        e.iter()
            .map(|(n, i)| {
                let s = i.stat()?;
                Ok(DirEntry {
                    ino: s.ino,
                    kind: dt(s.mode),
                    name: n.clone(),
                })
            })
            .collect()
    }
    fn statfs(&self) -> Result<crate::mm::pod::StatFs, Errno> {
        Ok(super::synthetic_statfs(self.magic))
    }
}

/// DT_* type of a mode.
pub fn dt(mode: u32) -> u8 {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => libc::DT_DIR,
        libc::S_IFREG => libc::DT_REG,
        libc::S_IFLNK => libc::DT_LNK,
        libc::S_IFCHR => libc::DT_CHR,
        libc::S_IFBLK => libc::DT_BLK,
        libc::S_IFIFO => libc::DT_FIFO,
        libc::S_IFSOCK => libc::DT_SOCK,
        _ => libc::DT_UNKNOWN,
    }
}

/// A symlink with a fixed target.
pub struct SynthLink {
    stat: Stat,
    target: Vec<u8>,
}

impl SynthLink {
    pub fn new(dev: u64, target: &str) -> Arc<SynthLink> {
        let mut stat = attr(dev, super::new_ino(), libc::S_IFLNK | 0o777, 0);
        stat.size = target.len() as u64;
        Arc::new(SynthLink {
            stat,
            target: target.as_bytes().to_vec(),
        })
    }
}

impl Inode for SynthLink {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        Ok(self.target.clone())
    }
    fn open(&self, _: u32) -> Result<Arc<dyn FileOps>, Errno> {
        Err(Errno::ELOOP)
    }
    fn statfs(&self) -> Result<crate::mm::pod::StatFs, Errno> {
        Ok(super::synthetic_statfs(0x0102_1994))
    }
}
