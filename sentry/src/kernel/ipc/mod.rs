//! System V IPC: the sandbox's IPC namespace with its shared memory segments, semaphore sets and
//! message queues, all the sentry's own (nothing reaches the host's IPC namespace).
//!
//! Identifiers, keys and permissions follow ipc/util.c: an id is `seq * 32768 + index`, the
//! lowest free index is used first, and an id whose sequence number does not match is EINVAL.

pub mod msg;
pub mod sem;
pub mod shm;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::errno::Errno;
use crate::vfs::Creds;

/// `ipcmni`: most objects of one kind (and the id multiplier).
pub const IPCMNI: i32 = 32768;

/// Who asks: credentials and supplementary groups of the calling task.
pub struct Caller<'a> {
    pub creds: &'a Creds,
    pub groups: &'a [u32],
    pub tgid: i32,
}

impl Caller<'_> {
    fn in_group(&self, gid: u32) -> bool {
        self.creds.egid == gid || self.groups.contains(&gid)
    }
}

/// `struct kern_ipc_perm`: key, owner, creator and mode of an object.
#[derive(Debug, Clone, Copy)]
pub struct Perm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    /// The low 9 bits are permissions; shared memory keeps SHM_DEST/SHM_LOCKED above them.
    pub mode: u16,
}

impl Perm {
    fn new(key: i32, flags: i32, c: &Caller<'_>) -> Perm {
        Perm {
            key,
            uid: c.creds.euid,
            gid: c.creds.egid,
            cuid: c.creds.euid,
            cgid: c.creds.egid,
            mode: (flags & 0o777) as u16,
        }
    }

    /// ipcperms(): may the caller access the object for `flag` (permission bits, e.g. 0o444
    /// to read, 0o222 to write)? EACCES if not.
    pub fn check(&self, c: &Caller<'_>, flag: u16) -> Result<(), Errno> {
        let requested = (flag >> 6) | (flag >> 3) | flag;
        let mut granted = self.mode;
        if c.creds.euid == self.cuid || c.creds.euid == self.uid {
            granted >>= 6;
        } else if c.in_group(self.cgid) || c.in_group(self.gid) {
            granted >>= 3;
        }
        if requested & !granted & 0o7 != 0 && !c.creds.has_cap(caps::Capability::CAP_IPC_OWNER) {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    /// IPC_SET and IPC_RMID: the owner, the creator, or CAP_SYS_ADMIN; EPERM otherwise.
    pub fn check_owner(&self, c: &Caller<'_>) -> Result<(), Errno> {
        if c.creds.euid == self.cuid
            || c.creds.euid == self.uid
            || c.creds.has_cap(caps::Capability::CAP_SYS_ADMIN)
        {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    pub fn to_abi(self, id: i32) -> libc::ipc_perm {
        let mut p: libc::ipc_perm = crate::mm::Pod::zeroed();
        p.__key = self.key;
        p.uid = self.uid;
        p.gid = self.gid;
        p.cuid = self.cuid;
        p.cgid = self.cgid;
        p.mode = self.mode;
        p.__seq = (id / IPCMNI) as u16;
        p
    }

    /// IPC_SET: new owner and permission bits (other mode bits are kept).
    pub fn set(&mut self, from: &libc::ipc_perm) {
        self.uid = from.uid;
        self.gid = from.gid;
        self.mode = (self.mode & !0o777) | (from.mode & 0o777);
    }
}

/// Seconds since the epoch, for the *_time fields.
pub fn now() -> i64 {
    super::time::now(libc::CLOCK_REALTIME).0
}

/// An object the registry holds.
pub trait IpcObject: Send + Sync {
    /// What IPC_STAT copies out (`struct shmid_ds` & co).
    type Stat: crate::mm::Pod;
    fn id(&self) -> i32;
    fn perm(&self) -> Perm;
    fn stat(&self) -> Self::Stat;
}

/// The objects of one kind: by index and by key.
pub struct Ids<T> {
    inner: Mutex<IdsInner<T>>,
    limit: usize,
}

struct IdsInner<T> {
    objs: BTreeMap<i32, Arc<T>>,
    keys: HashMap<i32, i32>,
    seq: i32,
}

impl<T: IpcObject> Ids<T> {
    pub fn new(limit: usize) -> Ids<T> {
        Ids {
            inner: Mutex::new(IdsInner {
                objs: BTreeMap::new(),
                keys: HashMap::new(),
                seq: 0,
            }),
            limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, IdsInner<T>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// *get(key, flags): the existing object for `key` (after `existing` approves it: the
    /// permission check and the kind's own checks), or a new one made by `make(id)`.
    pub fn get(
        &self,
        key: i32,
        flags: i32,
        existing: impl FnOnce(&T) -> Result<(), Errno>,
        make: impl FnOnce(i32) -> Result<Arc<T>, Errno>,
    ) -> Result<i32, Errno> {
        let mut g = self.lock();
        if key != libc::IPC_PRIVATE {
            if let Some(idx) = g.keys.get(&key).copied() {
                let obj = g.objs.get(&idx).cloned().ok_or(Errno::EIDRM)?;
                if flags & libc::IPC_CREAT != 0 && flags & libc::IPC_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                existing(&obj)?;
                return Ok(obj.id());
            }
            if flags & libc::IPC_CREAT == 0 {
                return Err(Errno::ENOENT);
            }
        }
        if g.objs.len() >= self.limit {
            return Err(Errno::ENOSPC);
        }
        let idx = (0..IPCMNI)
            .find(|i| !g.objs.contains_key(i))
            .ok_or(Errno::ENOSPC)?;
        let id = g.seq * IPCMNI + idx;
        g.seq = (g.seq + 1) % (i32::MAX / IPCMNI + 1);
        let obj = make(id)?;
        g.objs.insert(idx, obj);
        if key != libc::IPC_PRIVATE {
            g.keys.insert(key, idx);
        }
        Ok(id)
    }

    /// The object with identifier `id`; EINVAL if there is none (or it was removed).
    pub fn lookup(&self, id: i32) -> Result<Arc<T>, Errno> {
        if id < 0 {
            return Err(Errno::EINVAL);
        }
        let g = self.lock();
        match g.objs.get(&(id % IPCMNI)) {
            Some(o) if o.id() == id => Ok(o.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The object at index `idx` (*_STAT commands take an index, not an id).
    pub fn at_index(&self, idx: i32) -> Result<Arc<T>, Errno> {
        if !(0..IPCMNI).contains(&idx) {
            return Err(Errno::EINVAL);
        }
        self.lock().objs.get(&idx).cloned().ok_or(Errno::EINVAL)
    }

    /// Forget the key of object `id`: later *get calls with it create a new object.
    pub fn forget_key(&self, id: i32) {
        let mut g = self.lock();
        let idx = id % IPCMNI;
        g.keys.retain(|_, v| *v != idx);
    }

    /// Remove object `id` entirely.
    pub fn remove(&self, id: i32) {
        let mut g = self.lock();
        let idx = id % IPCMNI;
        if g.objs.get(&idx).is_some_and(|o| o.id() == id) {
            g.objs.remove(&idx);
            g.keys.retain(|_, v| *v != idx);
        }
    }

    /// Every object, in index order.
    pub fn all(&self) -> Vec<Arc<T>> {
        self.lock().objs.values().cloned().collect()
    }

    /// The highest index in use, or -1 (what IPC_INFO and *_INFO return).
    pub fn max_index(&self) -> i32 {
        self.lock().objs.keys().next_back().copied().unwrap_or(-1)
    }
}

/// The sandbox's IPC namespace.
pub struct IpcNamespace {
    pub shm: Ids<shm::Segment>,
    pub sem: Ids<sem::SemSet>,
    pub msg: Ids<msg::Queue>,
    /// Pages of shared memory in all segments (against SHMALL).
    pub shm_pages: Mutex<u64>,
}

impl Default for IpcNamespace {
    fn default() -> IpcNamespace {
        IpcNamespace {
            shm: Ids::new(shm::SHMMNI as usize),
            sem: Ids::new(sem::SEMMNI as usize),
            msg: Ids::new(msg::MSGMNI as usize),
            shm_pages: Mutex::new(0),
        }
    }
}
