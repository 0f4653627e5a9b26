//! File descriptor tables.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::OpenFile;
use crate::errno::Errno;

#[derive(Clone)]
pub struct FdEntry {
    pub file: Arc<OpenFile>,
    pub cloexec: bool,
}

/// A table of descriptors, shareable between tasks (CLONE_FILES).
#[derive(Default)]
pub struct FdTable {
    fds: Mutex<BTreeMap<i32, FdEntry>>,
}

/// Closing a descriptor releases the table's POSIX locks on its file (Linux's
/// `locks_remove_posix` on every close).
fn closed(table: &FdTable, file: &OpenFile) {
    if !super::lock::in_use() {
        return;
    }
    if let Ok(st) = file.ops.stat() {
        super::lock::release_file((st.dev, st.ino), table.lock_owner());
    }
}

impl Drop for FdTable {
    fn drop(&mut self) {
        super::lock::release_owner(self.lock_owner());
    }
}

impl FdTable {
    /// This table as the owner of POSIX record locks.
    pub fn lock_owner(&self) -> super::lock::Owner {
        super::lock::Owner::Table(self as *const FdTable as usize)
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<i32, FdEntry>> {
        self.fds.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        self.lock()
            .get(&fd)
            .map(|e| e.file.clone())
            .ok_or(Errno::EBADF)
    }

    pub fn entry(&self, fd: i32) -> Result<FdEntry, Errno> {
        self.lock().get(&fd).cloned().ok_or(Errno::EBADF)
    }

    /// Install at the lowest free descriptor >= `min` below `limit` (RLIMIT_NOFILE).
    pub fn install(
        &self,
        file: Arc<OpenFile>,
        cloexec: bool,
        min: i32,
        limit: u64,
    ) -> Result<i32, Errno> {
        let mut t = self.lock();
        let mut fd = min;
        for (&k, _) in t.range(min..) {
            if k != fd {
                break;
            }
            fd += 1;
        }
        if fd as u64 >= limit {
            return Err(if min as u64 >= limit {
                Errno::EINVAL
            } else {
                Errno::EMFILE
            });
        }
        t.insert(fd, FdEntry { file, cloexec });
        Ok(fd)
    }

    /// Put `file` at exactly `fd`, replacing what was there (dup2).
    pub fn install_at(&self, fd: i32, file: Arc<OpenFile>, cloexec: bool) -> Option<FdEntry> {
        let old = self.lock().insert(fd, FdEntry { file, cloexec });
        if let Some(e) = &old {
            closed(self, &e.file);
        }
        old
    }

    pub fn remove(&self, fd: i32) -> Result<FdEntry, Errno> {
        let e = self.lock().remove(&fd).ok_or(Errno::EBADF)?;
        closed(self, &e.file);
        Ok(e)
    }

    pub fn set_cloexec(&self, fd: i32, v: bool) -> Result<(), Errno> {
        let mut t = self.lock();
        let e = t.get_mut(&fd).ok_or(Errno::EBADF)?;
        e.cloexec = v;
        Ok(())
    }

    /// Close every close-on-exec descriptor (execve).
    pub fn close_on_exec(&self) {
        let mut gone = Vec::new();
        self.lock().retain(|_, e| {
            if e.cloexec {
                gone.push(e.file.clone());
            }
            !e.cloexec
        });
        for f in gone {
            closed(self, &f);
        }
    }

    /// Close descriptors in [lo, hi], or mark them close-on-exec.
    pub fn close_range(&self, lo: u32, hi: u32, cloexec_only: bool) {
        let mut gone = Vec::new();
        let mut t = self.lock();
        let keys: Vec<i32> = t
            .range(lo.min(i32::MAX as u32) as i32..)
            .map(|(&k, _)| k)
            .take_while(|&k| k as u32 <= hi)
            .collect();
        for k in keys {
            if cloexec_only {
                if let Some(e) = t.get_mut(&k) {
                    e.cloexec = true;
                }
            } else if let Some(e) = t.remove(&k) {
                gone.push(e.file);
            }
        }
        drop(t);
        for f in gone {
            closed(self, &f);
        }
    }

    pub fn fds(&self) -> Vec<i32> {
        self.lock().keys().copied().collect()
    }
}
