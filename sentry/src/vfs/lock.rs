//! Advisory file locks: POSIX record locks (`F_SETLK` & co; owned, as in Linux, by the
//! descriptor table — `files_struct` — and reported with the locking process's pid), open file
//! description record locks (`F_OFD_*`; owned by the description, conflicting with POSIX
//! ones), and `flock(2)` locks (owned by the description, independent of record locks).
//!
//! POSIX locks go when their owner closes any descriptor of the file or drops its table; OFD
//! and flock locks when the description is released. Waiting for a POSIX lock detects
//! deadlocks between owners (EDEADLK), as Linux's `posix_locks_deadlock` does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};

use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;

/// A file's identity: (device, inode).
pub type FileId = (u64, u64);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Owner {
    /// A descriptor table (POSIX locks), by address.
    Table(usize),
    /// An open file description (OFD and flock locks), by address.
    Ofd(usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Read,
    Write,
}

/// A locked byte range; `end` is inclusive, `u64::MAX` meaning "to the end, however far".
#[derive(Clone, Copy, Debug)]
pub struct Range {
    pub start: u64,
    pub end: u64,
    pub kind: Kind,
    pub owner: Owner,
    /// The process that set it (reported by F_GETLK; -1 for OFD locks).
    pub pid: i32,
}

impl Range {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start <= end && start <= self.end
    }

    fn conflicts(&self, owner: Owner, start: u64, end: u64, kind: Kind) -> bool {
        self.owner != owner
            && self.overlaps(start, end)
            && (self.kind == Kind::Write || kind == Kind::Write)
    }
}

#[derive(Default)]
struct FileLocks {
    ranges: Vec<Range>,
    /// flock(2) locks: (description, kind).
    flocks: Vec<(usize, Kind)>,
}

impl FileLocks {
    fn is_empty(&self) -> bool {
        self.ranges.is_empty() && self.flocks.is_empty()
    }
}

#[derive(Default)]
struct Table {
    files: HashMap<FileId, FileLocks>,
    /// Blocked POSIX owners and the owner each waits for.
    waits: HashMap<Owner, Owner>,
}

static LOCKS: LazyLock<Mutex<Table>> = LazyLock::new(Default::default);
/// Announces every release, for waiters to look again.
static RELEASED: LazyLock<WaitQueue> = LazyLock::new(WaitQueue::default);
/// Whether any lock was ever taken: closing files skips the table until then.
static USED: AtomicBool = AtomicBool::new(false);

fn table() -> MutexGuard<'static, Table> {
    LOCKS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether any lock was ever taken (closing files need not look before then).
pub fn in_use() -> bool {
    USED.load(Ordering::Relaxed)
}

/// The queue to wait on for a lock to be released.
pub fn released() -> &'static WaitQueue {
    &RELEASED
}

/// The first lock of another owner that conflicts with `kind` over [start, end] (F_GETLK).
pub fn test(id: FileId, owner: Owner, start: u64, end: u64, kind: Kind) -> Option<Range> {
    let t = table();
    t.files
        .get(&id)?
        .ranges
        .iter()
        .find(|r| r.conflicts(owner, start, end, kind))
        .copied()
}

/// Lock (`kind` Some) or unlock [start, end] for `owner`, or return the conflicting lock.
/// With `wait`, a conflict between POSIX owners that would close a cycle of waiters is
/// EDEADLK and the caller is recorded as waiting otherwise.
pub fn set(
    id: FileId,
    owner: Owner,
    pid: i32,
    start: u64,
    end: u64,
    kind: Option<Kind>,
    wait: bool,
) -> Result<Option<Range>, Errno> {
    USED.store(true, Ordering::Relaxed);
    let mut t = table();
    if let Some(k) = kind {
        let blocker = t
            .files
            .get(&id)
            .and_then(|f| f.ranges.iter().find(|r| r.conflicts(owner, start, end, k)))
            .copied();
        if let Some(b) = blocker {
            if wait && matches!(owner, Owner::Table(_)) {
                // Follow the chain of waiters from the blocker: reaching us is a deadlock.
                let mut cur = b.owner;
                let mut hops = 0;
                while let Some(&next) = t.waits.get(&cur) {
                    if next == owner || hops > 4096 {
                        t.waits.remove(&owner);
                        return Err(Errno::EDEADLK);
                    }
                    cur = next;
                    hops += 1;
                }
                if cur == owner {
                    return Err(Errno::EDEADLK);
                }
                t.waits.insert(owner, b.owner);
            }
            return Ok(Some(b));
        }
    }
    t.waits.remove(&owner);
    let file = t.files.entry(id).or_default();
    apply(&mut file.ranges, owner, pid, start, end, kind);
    if file.is_empty() {
        t.files.remove(&id);
    }
    drop(t);
    RELEASED.notify_all();
    Ok(None)
}

/// The caller stopped waiting (signal, error): it waits for no one now.
pub fn stop_waiting(owner: Owner) {
    table().waits.remove(&owner);
}

/// Replace `owner`'s locks over [start, end] with `kind` (None: remove them), merging with
/// adjacent ranges of the same kind as Linux does.
fn apply(
    ranges: &mut Vec<Range>,
    owner: Owner,
    pid: i32,
    start: u64,
    end: u64,
    kind: Option<Kind>,
) {
    let mut out = Vec::with_capacity(ranges.len() + 2);
    for r in ranges.drain(..) {
        if r.owner != owner || !r.overlaps(start, end) {
            out.push(r);
            continue;
        }
        if r.start < start {
            out.push(Range {
                end: start - 1,
                ..r
            });
        }
        if r.end > end {
            out.push(Range {
                start: end + 1,
                ..r
            });
        }
    }
    if let Some(kind) = kind {
        let (mut s, mut e) = (start, end);
        out.retain(|r| {
            let touches = r.start <= e.saturating_add(1) && s <= r.end.saturating_add(1);
            if r.owner == owner && r.kind == kind && touches {
                s = s.min(r.start);
                e = e.max(r.end);
                false
            } else {
                true
            }
        });
        out.push(Range {
            start: s,
            end: e,
            kind,
            owner,
            pid,
        });
    }
    *ranges = out;
}

/// flock(2): take `kind` (None: release) for description `ofd`. A description converting its
/// lock releases the old one first, as Linux does. Ok(false): a conflicting lock is held.
pub fn flock(id: FileId, ofd: usize, kind: Option<Kind>) -> bool {
    USED.store(true, Ordering::Relaxed);
    let mut t = table();
    let file = t.files.entry(id).or_default();
    let had = file.flocks.iter().position(|&(o, _)| o == ofd);
    if let (Some(i), Some(k)) = (had, kind) {
        if file.flocks[i].1 == k {
            return true;
        }
    }
    let mut released = false;
    if let Some(i) = had {
        file.flocks.swap_remove(i);
        released = true;
    }
    let ok = match kind {
        None => true,
        Some(k) => {
            let conflict = file
                .flocks
                .iter()
                .any(|&(_, held)| held == Kind::Write || k == Kind::Write);
            if !conflict {
                file.flocks.push((ofd, k));
            }
            !conflict
        }
    };
    if file.is_empty() {
        t.files.remove(&id);
    }
    drop(t);
    if released {
        RELEASED.notify_all();
    }
    ok
}

/// `owner` closed a descriptor of file `id` (POSIX) or released its description (OFD and
/// flock): its locks on the file go.
pub fn release_file(id: FileId, owner: Owner) {
    if !USED.load(Ordering::Relaxed) {
        return;
    }
    let mut t = table();
    let Some(file) = t.files.get_mut(&id) else {
        return;
    };
    let before = file.ranges.len() + file.flocks.len();
    file.ranges.retain(|r| r.owner != owner);
    if let Owner::Ofd(o) = owner {
        file.flocks.retain(|&(x, _)| x != o);
    }
    let changed = file.ranges.len() + file.flocks.len() != before;
    if file.is_empty() {
        t.files.remove(&id);
    }
    drop(t);
    if changed {
        RELEASED.notify_all();
    }
}

/// A descriptor table went away: every POSIX lock it owned goes.
pub fn release_owner(owner: Owner) {
    if !USED.load(Ordering::Relaxed) {
        return;
    }
    let mut t = table();
    t.waits.remove(&owner);
    let mut changed = false;
    t.files.retain(|_, f| {
        let n = f.ranges.len();
        f.ranges.retain(|r| r.owner != owner);
        changed |= f.ranges.len() != n;
        !f.is_empty()
    });
    drop(t);
    if changed {
        RELEASED.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64, kind: Kind, o: usize) -> Range {
        Range {
            start,
            end,
            kind,
            owner: Owner::Table(o),
            pid: 1,
        }
    }

    #[test]
    fn split_and_merge() {
        let mut v = vec![r(0, 99, Kind::Write, 1)];
        apply(&mut v, Owner::Table(1), 1, 10, 19, None);
        v.sort_by_key(|x| x.start);
        assert_eq!(
            v.iter().map(|x| (x.start, x.end)).collect::<Vec<_>>(),
            [(0, 9), (20, 99)]
        );
        apply(&mut v, Owner::Table(1), 1, 10, 19, Some(Kind::Write));
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].start, v[0].end), (0, 99));
        apply(&mut v, Owner::Table(1), 1, 50, u64::MAX, Some(Kind::Read));
        v.sort_by_key(|x| x.start);
        assert_eq!(v.len(), 2);
        assert_eq!(
            (v[1].start, v[1].end, v[1].kind),
            (50, u64::MAX, Kind::Read)
        );
    }
}
