//! System V semaphore sets (ipc/sem.c): atomic multi-operation semop, blocking with the
//! waiting counts GETNCNT/GETZCNT report, and SEM_UNDO adjustments applied when the last task
//! sharing an undo list exits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::{now, Caller, IpcNamespace, IpcObject, Perm};
use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;
use crate::mm::Pod;

/// Limits (Linux's defaults; /proc/sys/kernel/sem).
pub const SEMMSL: i32 = 32000;
pub const SEMMNS: i32 = 1_024_000_000;
pub const SEMOPM: usize = 500;
pub const SEMMNI: i32 = 32000;
pub const SEMVMX: i32 = 32767;
pub const SEMAEM: i32 = SEMVMX;

#[derive(Clone, Copy, Default)]
pub struct Sem {
    pub val: i32,
    pub pid: i32,
}

pub struct SemSet {
    id: i32,
    st: Mutex<SemState>,
    /// Tasks blocked in semop on this set.
    pub queue: WaitQueue,
}

pub struct SemState {
    pub perm: Perm,
    pub otime: i64,
    pub ctime: i64,
    pub sems: Vec<Sem>,
    pub removed: bool,
    /// SEM_UNDO adjustments by undo list id.
    undo: HashMap<u64, Vec<i32>>,
    /// What each blocked semop waits for: (token, semaphore, waiting for zero).
    waiting: Vec<(u64, usize, bool)>,
}

impl IpcObject for SemSet {
    type Stat = libc::semid_ds;

    fn id(&self) -> i32 {
        self.id
    }

    fn perm(&self) -> Perm {
        self.lock().perm
    }

    fn stat(&self) -> libc::semid_ds {
        SemSet::stat(self)
    }
}

impl SemSet {
    pub fn lock(&self) -> MutexGuard<'_, SemState> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stat(&self) -> libc::semid_ds {
        let st = self.lock();
        let mut d: libc::semid_ds = Pod::zeroed();
        d.sem_perm = st.perm.to_abi(self.id);
        d.sem_otime = st.otime;
        d.sem_ctime = st.ctime;
        d.sem_nsems = st.sems.len() as _;
        d
    }
}

impl SemState {
    /// GETNCNT (`zero` false) or GETZCNT: tasks blocked on semaphore `n`.
    pub fn waiting_on(&self, n: usize, zero: bool) -> i32 {
        self.waiting
            .iter()
            .filter(|w| w.1 == n && w.2 == zero)
            .count() as i32
    }

    /// SETVAL/SETALL: a value set directly cancels every process's adjustment for it.
    pub fn clear_undo(&mut self, n: Option<usize>) {
        for adj in self.undo.values_mut() {
            match n {
                Some(i) => {
                    if let Some(a) = adj.get_mut(i) {
                        *a = 0;
                    }
                }
                None => adj.iter_mut().for_each(|a| *a = 0),
            }
        }
    }
}

/// A process's SEM_UNDO list, shared by the tasks cloned with CLONE_SYSVSEM. When the last
/// of them exits (drops it), its adjustments are applied.
pub struct UndoList {
    id: u64,
    tgid: i32,
    sets: Mutex<Vec<Weak<SemSet>>>,
}

static NEXT_UNDO: AtomicU64 = AtomicU64::new(1);
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

impl UndoList {
    pub fn new(tgid: i32) -> Arc<UndoList> {
        Arc::new(UndoList {
            id: NEXT_UNDO.fetch_add(1, Ordering::Relaxed),
            tgid,
            sets: Mutex::new(Vec::new()),
        })
    }
}

impl Drop for UndoList {
    fn drop(&mut self) {
        let sets = std::mem::take(self.sets.get_mut().unwrap_or_else(|e| e.into_inner()));
        for set in sets.iter().filter_map(Weak::upgrade) {
            let mut st = set.lock();
            if st.removed {
                continue;
            }
            let Some(adj) = st.undo.remove(&self.id) else {
                continue;
            };
            for (s, a) in st.sems.iter_mut().zip(adj) {
                if a != 0 {
                    s.val = (s.val + a).clamp(0, SEMVMX);
                    s.pid = self.tgid;
                }
            }
            drop(st);
            set.queue.notify_all();
        }
    }
}

/// semget.
pub fn get(
    ns: &IpcNamespace,
    key: i32,
    nsems: i32,
    flags: i32,
    c: &Caller<'_>,
) -> Result<i32, Errno> {
    if !(0..=SEMMSL).contains(&nsems) {
        return Err(Errno::EINVAL);
    }
    // Semaphores in use (read before the registry is locked for the lookup).
    let used: usize = ns.sem.all().iter().map(|s| s.lock().sems.len()).sum();
    ns.sem.get(
        key,
        flags,
        |set| {
            let st = set.lock();
            if nsems as usize > st.sems.len() {
                return Err(Errno::EINVAL);
            }
            st.perm.check(c, (flags & 0o777) as u16)
        },
        |id| {
            if nsems == 0 {
                return Err(Errno::EINVAL);
            }
            if used + nsems as usize > SEMMNS as usize {
                return Err(Errno::ENOSPC);
            }
            Ok(Arc::new(SemSet {
                id,
                st: Mutex::new(SemState {
                    perm: Perm::new(key, flags, c),
                    otime: 0,
                    ctime: now(),
                    sems: vec![Sem::default(); nsems as usize],
                    removed: false,
                    undo: HashMap::new(),
                    waiting: Vec::new(),
                }),
                queue: WaitQueue::default(),
            }))
        },
    )
}

/// IPC_RMID: blocked semops fail with EIDRM.
pub fn remove(ns: &IpcNamespace, set: &SemSet) {
    {
        let mut st = set.lock();
        st.removed = true;
        st.undo.clear();
    }
    ns.sem.remove(set.id);
    set.queue.notify_all();
}

/// One operation of a semop call.
#[derive(Clone, Copy)]
pub struct SemOp {
    pub num: usize,
    pub op: i32,
    pub flags: i32,
}

/// Outcome of trying a semop call's operations.
enum Attempt {
    Done,
    /// Blocked on semaphore `.0`, waiting for zero if `.1`.
    Block(usize, bool),
}

/// All of `ops` or none (perform_atomic_semop).
fn attempt(
    st: &mut SemState,
    ops: &[SemOp],
    undo: Option<&UndoList>,
    tgid: i32,
) -> Result<Attempt, Errno> {
    let mut vals: Vec<i32> = st.sems.iter().map(|s| s.val).collect();
    let mut adj = undo
        .and_then(|u| st.undo.get(&u.id).cloned())
        .unwrap_or_else(|| vec![0; vals.len()]);
    for o in ops {
        let cur = vals[o.num];
        let next = cur + o.op;
        if (o.op == 0 && cur != 0) || next < 0 {
            if o.flags & libc::IPC_NOWAIT != 0 {
                return Err(Errno::EAGAIN);
            }
            return Ok(Attempt::Block(o.num, o.op == 0));
        }
        if next > SEMVMX {
            return Err(Errno::ERANGE);
        }
        if o.flags & libc::SEM_UNDO != 0 {
            let u = adj[o.num] - o.op;
            if !(-SEMAEM - 1..=SEMAEM).contains(&u) {
                return Err(Errno::ERANGE);
            }
            adj[o.num] = u;
        }
        vals[o.num] = next;
    }
    for o in ops {
        st.sems[o.num].pid = tgid;
    }
    for (s, v) in st.sems.iter_mut().zip(vals) {
        s.val = v;
    }
    if let Some(u) = undo {
        if ops.iter().any(|o| o.flags & libc::SEM_UNDO != 0) {
            st.undo.insert(u.id, adj);
        }
    }
    st.otime = now();
    Ok(Attempt::Done)
}

/// semop/semtimedop once the arguments are read: apply `ops` to `set` atomically, blocking
/// (through `block`) while any would make a value negative or waits for zero.
///
/// `block(queue, check)` sleeps on `queue` until `check` gives a value, as `Task::block_on`.
pub fn semop(
    set: &Arc<SemSet>,
    ops: &[SemOp],
    undo: &Arc<UndoList>,
    c: &Caller<'_>,
    block: impl FnOnce(&WaitQueue, &mut dyn FnMut() -> Result<Option<()>, Errno>) -> Result<(), Errno>,
) -> Result<(), Errno> {
    let alter = ops.iter().any(|o| o.op != 0);
    let uses_undo = ops.iter().any(|o| o.flags & libc::SEM_UNDO != 0);
    {
        let st = set.lock();
        if ops.iter().any(|o| o.num >= st.sems.len()) {
            return Err(Errno::EFBIG);
        }
        st.perm.check(c, if alter { 0o222 } else { 0o444 })?;
    }
    if uses_undo {
        let mut sets = undo.sets.lock().unwrap_or_else(|e| e.into_inner());
        sets.retain(|w| w.strong_count() > 0);
        if !sets
            .iter()
            .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(set)))
        {
            sets.push(Arc::downgrade(set));
        }
    }
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    let mut done = false;
    let mut check = || -> Result<Option<()>, Errno> {
        let mut st = set.lock();
        st.waiting.retain(|w| w.0 != token);
        if st.removed {
            return Err(Errno::EIDRM);
        }
        match attempt(&mut st, ops, uses_undo.then_some(undo.as_ref()), c.tgid)? {
            Attempt::Done => {
                done = true;
                Ok(Some(()))
            }
            Attempt::Block(n, zero) => {
                st.waiting.push((token, n, zero));
                Ok(None)
            }
        }
    };
    let r = block(&set.queue, &mut check);
    set.lock().waiting.retain(|w| w.0 != token);
    if done && alter {
        set.queue.notify_all();
    }
    r
}
