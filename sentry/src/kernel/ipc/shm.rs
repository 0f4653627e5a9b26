//! System V shared memory segments (ipc/shm.c). A segment's pages are shared anonymous memory
//! in the memory file; each shmat makes an `Attachment`, and the mappings that hold it (their
//! copies in forked children included) are the segment's attach count.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use platform::{MemoryFile, PAGE_SIZE};

use super::{now, Caller, IpcNamespace, IpcObject, Perm};
use crate::errno::Errno;
use crate::mm::{Mappable, Pod, SharedMemory};

/// Limits (Linux's defaults; /proc/sys/kernel/shm*).
pub const SHMMIN: u64 = 1;
pub const SHMMAX: u64 = u64::MAX - (1 << 24);
pub const SHMALL: u64 = u64::MAX - (1 << 24);
pub const SHMMNI: i32 = 4096;
/// Mode bits: marked for destruction, locked in memory (<linux/shm.h>).
pub const SHM_DEST: u16 = 0o1000;
pub const SHM_LOCKED: u16 = 0o2000;

/// `struct shminfo64` (IPC_INFO).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ShmInfo {
    pub shmmax: u64,
    pub shmmin: u64,
    pub shmmni: u64,
    pub shmseg: u64,
    pub shmall: u64,
    pub unused: [u64; 4],
}

/// `struct shm_info` (SHM_INFO).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ShmUsage {
    pub used_ids: i32,
    pub pad: i32,
    pub shm_tot: u64,
    pub shm_rss: u64,
    pub shm_swp: u64,
    pub swap_attempts: u64,
    pub swap_successes: u64,
}

pub struct Segment {
    id: i32,
    /// shm_segsz: the size asked for (the memory is whole pages).
    size: u64,
    mem: SharedMemory,
    st: Mutex<SegState>,
}

pub struct SegState {
    pub perm: Perm,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
    attachments: Vec<Weak<Attachment>>,
}

impl SegState {
    /// shm_nattch: mappings holding an attachment of the segment.
    pub fn nattch(&self) -> u64 {
        self.attachments
            .iter()
            .map(|a| a.strong_count() as u64)
            .sum()
    }
}

impl IpcObject for Segment {
    type Stat = libc::shmid_ds;

    fn id(&self) -> i32 {
        self.id
    }

    fn perm(&self) -> Perm {
        self.lock().perm
    }

    fn stat(&self) -> libc::shmid_ds {
        Segment::stat(self)
    }
}

impl Segment {
    pub fn lock(&self) -> MutexGuard<'_, SegState> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn stat(&self) -> libc::shmid_ds {
        let st = self.lock();
        let mut d: libc::shmid_ds = Pod::zeroed();
        d.shm_perm = st.perm.to_abi(self.id);
        d.shm_segsz = self.size as usize;
        d.shm_atime = st.atime;
        d.shm_dtime = st.dtime;
        d.shm_ctime = st.ctime;
        d.shm_cpid = st.cpid;
        d.shm_lpid = st.lpid;
        d.shm_nattch = st.nattch();
        d
    }
}

/// One shmat: what the mappings of the segment hold.
pub struct Attachment {
    seg: Arc<Segment>,
    ns: Arc<IpcNamespace>,
    tgid: i32,
}

impl Attachment {
    pub fn segment(&self) -> &Arc<Segment> {
        &self.seg
    }
}

impl Mappable for Attachment {
    fn frame(&self, mf: &MemoryFile, off: u64) -> Result<u64, Errno> {
        self.seg.mem.frame(mf, off)
    }

    fn name(&self) -> String {
        format!("/SYSV{:08x}", self.seg.lock().perm.key as u32)
    }

    fn ident(&self) -> (u64, u64) {
        (0, self.seg.id as u64)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Drop for Attachment {
    /// The last mapping of this attachment is gone: a segment marked for destruction goes
    /// with its last attachment.
    fn drop(&mut self) {
        let destroy = {
            let mut st = self.seg.lock();
            st.attachments.retain(|a| a.strong_count() > 0);
            st.dtime = now();
            st.lpid = self.tgid;
            st.perm.mode & SHM_DEST != 0 && st.attachments.is_empty()
        };
        if destroy {
            destroy_segment(&self.ns, &self.seg);
        }
    }
}

fn pages(size: u64) -> u64 {
    size.div_ceil(PAGE_SIZE)
}

fn destroy_segment(ns: &IpcNamespace, seg: &Segment) {
    ns.shm.remove(seg.id);
    let mut tot = ns.shm_pages.lock().unwrap_or_else(|e| e.into_inner());
    *tot = tot.saturating_sub(pages(seg.size));
}

/// shmget.
pub fn get(
    ns: &Arc<IpcNamespace>,
    mf: &Arc<MemoryFile>,
    key: i32,
    size: u64,
    flags: i32,
    c: &Caller<'_>,
) -> Result<i32, Errno> {
    ns.shm.get(
        key,
        flags,
        |seg| {
            if seg.size < size {
                return Err(Errno::EINVAL);
            }
            seg.lock().perm.check(c, (flags & 0o777) as u16)
        },
        |id| {
            if !(SHMMIN..=SHMMAX).contains(&size) {
                return Err(Errno::EINVAL);
            }
            if flags & libc::SHM_HUGETLB != 0 {
                // The sandbox has no huge page pool (nr_hugepages is 0): Linux's answer then.
                return Err(Errno::ENOMEM);
            }
            let n = pages(size);
            {
                let mut tot = ns.shm_pages.lock().unwrap_or_else(|e| e.into_inner());
                match tot.checked_add(n) {
                    Some(t) if t <= SHMALL => *tot = t,
                    _ => return Err(Errno::ENOSPC),
                }
            }
            let perm = Perm::new(key, flags, c);
            Ok(Arc::new(Segment {
                id,
                size,
                mem: SharedMemory::new(mf.clone(), n * PAGE_SIZE),
                st: Mutex::new(SegState {
                    perm,
                    atime: 0,
                    dtime: 0,
                    ctime: now(),
                    cpid: c.tgid,
                    lpid: 0,
                    attachments: Vec::new(),
                }),
            }))
        },
    )
}

/// The permission and bookkeeping half of shmat: a new attachment of segment `id`, to be
/// mapped by the caller. `write`: attach read-write (else SHM_RDONLY).
pub fn attach(
    ns: &Arc<IpcNamespace>,
    id: i32,
    write: bool,
    c: &Caller<'_>,
) -> Result<Arc<Attachment>, Errno> {
    let seg = ns.shm.lookup(id)?;
    let mut st = seg.lock();
    st.perm.check(c, if write { 0o666 } else { 0o444 })?;
    let a = Arc::new(Attachment {
        seg: seg.clone(),
        ns: ns.clone(),
        tgid: c.tgid,
    });
    st.attachments.push(Arc::downgrade(&a));
    st.atime = now();
    st.lpid = c.tgid;
    Ok(a)
}

/// IPC_RMID: mark for destruction; the segment goes now if nothing is attached, else with its
/// last attachment. Its key is free at once.
pub fn remove(ns: &IpcNamespace, seg: &Arc<Segment>) {
    let gone = {
        let mut st = seg.lock();
        st.perm.mode |= SHM_DEST;
        st.perm.key = libc::IPC_PRIVATE;
        st.attachments.retain(|a| a.strong_count() > 0);
        st.attachments.is_empty()
    };
    ns.shm.forget_key(seg.id);
    if gone {
        destroy_segment(ns, seg);
    }
}

pub fn info() -> ShmInfo {
    ShmInfo {
        shmmax: SHMMAX,
        shmmin: SHMMIN,
        shmmni: SHMMNI as u64,
        shmseg: SHMMNI as u64,
        shmall: SHMALL,
        unused: [0; 4],
    }
}

pub fn usage(ns: &IpcNamespace) -> ShmUsage {
    let all = ns.shm.all();
    ShmUsage {
        used_ids: all.len() as i32,
        shm_tot: *ns.shm_pages.lock().unwrap_or_else(|e| e.into_inner()),
        shm_rss: all.iter().map(|s| s.mem.resident_pages()).sum(),
        ..ShmUsage::default()
    }
}

/// SHM_LOCK / SHM_UNLOCK: only sets the mode bit (the memory file is never swapped).
pub fn lock_segment(
    seg: &Segment,
    lock: bool,
    memlock_limit: u64,
    c: &Caller<'_>,
) -> Result<(), Errno> {
    let mut st = seg.lock();
    if !c.creds.has_cap(caps::Capability::CAP_IPC_LOCK) {
        let e = c.creds.euid;
        if e != st.perm.uid && e != st.perm.cuid {
            return Err(Errno::EPERM);
        }
        if lock && memlock_limit == 0 {
            return Err(Errno::EPERM);
        }
    }
    if lock {
        st.perm.mode |= SHM_LOCKED;
    } else {
        st.perm.mode &= !SHM_LOCKED;
    }
    Ok(())
}
