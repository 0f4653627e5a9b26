//! inotify: watches on inodes, events for changes made inside the sandbox (the root is the
//! sandbox's alone, so nothing else changes it). Events on a file also go to watches on its
//! directory, with the file's name, as Linux's fsnotify_parent.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};

use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;
use crate::mm::MemoryManager;
use crate::vfs::{Dentry, FileOps, Stat};

pub const IN_ACCESS: u32 = 0x1;
pub const IN_MODIFY: u32 = 0x2;
pub const IN_ATTRIB: u32 = 0x4;
pub const IN_CLOSE_WRITE: u32 = 0x8;
pub const IN_CLOSE_NOWRITE: u32 = 0x10;
pub const IN_OPEN: u32 = 0x20;
pub const IN_MOVED_FROM: u32 = 0x40;
pub const IN_MOVED_TO: u32 = 0x80;
pub const IN_CREATE: u32 = 0x100;
pub const IN_DELETE: u32 = 0x200;
pub const IN_DELETE_SELF: u32 = 0x400;
pub const IN_MOVE_SELF: u32 = 0x800;
const IN_Q_OVERFLOW: u32 = 0x4000;
const IN_IGNORED: u32 = 0x8000;
const IN_ISDIR: u32 = 0x4000_0000;
const IN_ONESHOT: u32 = 0x8000_0000;
const IN_MASK_ADD: u32 = 0x2000_0000;
const IN_MASK_CREATE: u32 = 0x1000_0000;
pub const IN_ONLYDIR: u32 = 0x0100_0000;
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
const IN_EXCL_UNLINK: u32 = 0x0400_0000;
const ALL_EVENTS: u32 = 0xfff;
/// /proc/sys/fs/inotify/max_queued_events.
const MAX_QUEUED: usize = 16384;
const EVENT_SIZE: usize = 16;

type Id = (u64, u64);

struct Watch {
    owner: Weak<Inotify>,
    wd: i32,
    mask: u32,
}

/// Watches by inode.
static WATCHES: LazyLock<Mutex<HashMap<Id, Vec<Watch>>>> = LazyLock::new(Default::default);
/// Whether any watch was ever added: until then events cost nothing.
static ACTIVE: AtomicBool = AtomicBool::new(false);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, PartialEq, Eq)]
struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Vec<u8>,
}

impl Event {
    fn len(&self) -> usize {
        EVENT_SIZE + padded(&self.name)
    }
}

/// The name with its NUL, padded to a multiple of the event header's size (as Linux).
fn padded(name: &[u8]) -> usize {
    if name.is_empty() {
        0
    } else {
        (name.len() + 1).div_ceil(EVENT_SIZE) * EVENT_SIZE
    }
}

struct State {
    events: VecDeque<Event>,
    /// Watched inode per descriptor.
    watches: HashMap<i32, Id>,
    next_wd: i32,
}

pub struct Inotify {
    st: Mutex<State>,
    queue: WaitQueue,
    me: Weak<Inotify>,
}

impl Inotify {
    pub fn new() -> Arc<Inotify> {
        Arc::new_cyclic(|me| Inotify {
            st: Mutex::new(State {
                events: VecDeque::new(),
                watches: HashMap::new(),
                next_wd: 1,
            }),
            queue: WaitQueue::default(),
            me: me.clone(),
        })
    }

    fn push(&self, e: Event) {
        {
            let mut st = lock(&self.st);
            // The same event twice in a row is queued once.
            if st.events.back() == Some(&e) {
                return;
            }
            if st.events.len() >= MAX_QUEUED {
                let overflow = Event {
                    wd: -1,
                    mask: IN_Q_OVERFLOW,
                    cookie: 0,
                    name: Vec::new(),
                };
                if st.events.back() != Some(&overflow) {
                    st.events.push_back(overflow);
                }
                return;
            }
            st.events.push_back(e);
        }
        self.queue.notify_all();
    }

    /// inotify_add_watch on inode `id`: a new descriptor, or the existing one with its mask
    /// replaced (or extended with IN_MASK_ADD).
    pub fn add_watch(&self, id: Id, mask: u32) -> Result<i32, Errno> {
        ACTIVE.store(true, Ordering::Relaxed);
        if mask & IN_MASK_CREATE != 0 && mask & IN_MASK_ADD != 0 {
            return Err(Errno::EINVAL);
        }
        let mut st = lock(&self.st);
        let events = mask & (ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK);
        if let Some((&wd, _)) = st.watches.iter().find(|(_, &w)| w == id) {
            if mask & IN_MASK_CREATE != 0 {
                return Err(Errno::EEXIST);
            }
            let mut all = lock(&WATCHES);
            if let Some(w) = all.get_mut(&id).and_then(|v| {
                v.iter_mut()
                    .find(|w| w.wd == wd && w.owner.ptr_eq(&self.me))
            }) {
                w.mask = if mask & IN_MASK_ADD != 0 {
                    w.mask | events
                } else {
                    events
                };
            }
            return Ok(wd);
        }
        let wd = st.next_wd;
        st.next_wd += 1;
        st.watches.insert(wd, id);
        lock(&WATCHES).entry(id).or_default().push(Watch {
            owner: self.me.clone(),
            wd,
            mask: events,
        });
        Ok(wd)
    }

    /// inotify_rm_watch: the watch goes, with an IN_IGNORED event.
    pub fn rm_watch(&self, wd: i32) -> Result<(), Errno> {
        let id = lock(&self.st).watches.remove(&wd).ok_or(Errno::EINVAL)?;
        remove_watch(id, &self.me, wd);
        self.push(Event {
            wd,
            mask: IN_IGNORED,
            cookie: 0,
            name: Vec::new(),
        });
        Ok(())
    }
}

fn remove_watch(id: Id, owner: &Weak<Inotify>, wd: i32) {
    let mut all = lock(&WATCHES);
    if let Some(v) = all.get_mut(&id) {
        v.retain(|w| !(w.wd == wd && w.owner.ptr_eq(owner)));
        if v.is_empty() {
            all.remove(&id);
        }
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        let st = self.st.get_mut().unwrap_or_else(|e| e.into_inner());
        let mut all = lock(&WATCHES);
        for (&wd, id) in &st.watches {
            if let Some(v) = all.get_mut(id) {
                v.retain(|w| !(w.wd == wd && w.owner.ptr_eq(&self.me)));
            }
        }
        all.retain(|_, v| !v.is_empty());
    }
}

impl FileOps for Inotify {
    fn anon_name(&self) -> Option<&'static str> {
        Some("inotify")
    }
    fn fdinfo(&self) -> String {
        let mut ids: Vec<(i32, Id)> = lock(&self.st)
            .watches
            .iter()
            .map(|(&w, &i)| (w, i))
            .collect();
        ids.sort_unstable();
        let all = lock(&WATCHES);
        let mut out = String::new();
        for (wd, (dev, ino)) in ids {
            let mask = all
                .get(&(dev, ino))
                .and_then(|v| v.iter().find(|w| w.wd == wd && w.owner.ptr_eq(&self.me)))
                .map_or(0, |w| w.mask);
            out.push_str(&format!(
                "inotify wd:{wd:x} ino:{ino:x} sdev:{:x} mask:{mask:x} ignored_mask:0\n",
                crate::vfs::kernel_dev(dev)
            ));
        }
        out
    }
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        let mut st = lock(&self.st);
        let Some(first) = st.events.front() else {
            return Err(Errno::EAGAIN);
        };
        if first.len() > buf.len() {
            return Err(Errno::EINVAL);
        }
        let mut n = 0;
        while let Some(e) = st.events.front() {
            let len = e.len();
            if n + len > buf.len() {
                break;
            }
            let pad = padded(&e.name);
            buf[n..n + 4].copy_from_slice(&e.wd.to_le_bytes());
            buf[n + 4..n + 8].copy_from_slice(&e.mask.to_le_bytes());
            buf[n + 8..n + 12].copy_from_slice(&e.cookie.to_le_bytes());
            buf[n + 12..n + 16].copy_from_slice(&(pad as u32).to_le_bytes());
            buf[n + 16..n + len].fill(0);
            buf[n + 16..n + 16 + e.name.len()].copy_from_slice(&e.name);
            n += len;
            st.events.pop_front();
        }
        Ok(n)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(super::synth::attr(0, 0, 0o600, 0))
    }

    fn ioctl(&self, mm: &MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
        if req != libc::FIONREAD {
            return Err(Errno::ENOTTY);
        }
        let n: usize = lock(&self.st).events.iter().map(Event::len).sum();
        mm.copy_out(arg, &(n.min(i32::MAX as usize) as i32))?;
        Ok(0)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn readiness(&self) -> u32 {
        if lock(&self.st).events.is_empty() {
            0
        } else {
            libc::POLLIN as u32
        }
    }

    fn into_any_arc(self: Arc<Self>) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        Some(self)
    }
}

/// Queue `mask` for the watches on `id` (with `name` for a directory's entry). An event of a
/// directory's child that has no name any more (`unlinked`) skips IN_EXCL_UNLINK watches.
fn deliver(id: Id, mask: u32, cookie: u32, name: &[u8], is_dir: bool) {
    deliver_to(id, mask, cookie, name, is_dir, false)
}

fn deliver_to(id: Id, mask: u32, cookie: u32, name: &[u8], is_dir: bool, unlinked: bool) {
    let mut fire = Vec::new();
    {
        let mut all = lock(&WATCHES);
        let Some(v) = all.get_mut(&id) else {
            return;
        };
        v.retain(|w| {
            if w.mask & mask == 0 || (unlinked && w.mask & IN_EXCL_UNLINK != 0) {
                return true;
            }
            fire.push((w.owner.clone(), w.wd, w.mask & IN_ONESHOT != 0));
            w.mask & IN_ONESHOT == 0
        });
        if v.is_empty() {
            all.remove(&id);
        }
    }
    for (owner, wd, oneshot) in fire {
        let Some(ino) = owner.upgrade() else { continue };
        ino.push(Event {
            wd,
            mask: mask | if is_dir { IN_ISDIR } else { 0 },
            cookie,
            name: name.to_vec(),
        });
        if oneshot {
            lock(&ino.st).watches.remove(&wd);
            ino.push(Event {
                wd,
                mask: IN_IGNORED,
                cookie: 0,
                name: Vec::new(),
            });
        }
    }
}

/// The inode behind `id` is gone: its watches end with IN_IGNORED.
fn gone(id: Id) {
    let watches = lock(&WATCHES).remove(&id).unwrap_or_default();
    for w in watches {
        if let Some(ino) = w.owner.upgrade() {
            lock(&ino.st).watches.remove(&w.wd);
            ino.push(Event {
                wd: w.wd,
                mask: IN_IGNORED,
                cookie: 0,
                name: Vec::new(),
            });
        }
    }
}

fn id_of(d: &Dentry) -> Option<(Id, bool)> {
    let st = d.inode.stat().ok()?;
    Some(((st.dev, st.ino), st.file_type() == libc::S_IFDIR))
}

/// An event on the file `d`: to its watches, and to its directory's with its name.
pub fn file_event(d: &Dentry, mask: u32) {
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    let Some((id, is_dir)) = id_of(d) else { return };
    deliver(id, mask, 0, &[], is_dir);
    if let Some(p) = d.parent() {
        if let Some((pid, _)) = id_of(&p) {
            deliver_to(pid, mask, 0, &d.name(), is_dir, d.is_dead());
        }
    }
}

/// An entry `name` of directory `dir` appeared or went (IN_CREATE, IN_DELETE, IN_MOVED_*).
pub fn dir_event(dir: &Dentry, mask: u32, name: &[u8], is_dir: bool, cookie: u32) {
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    if let Some((id, _)) = id_of(dir) {
        deliver(id, mask, cookie, name, is_dir);
    }
}

/// `child` lost a name: IN_ATTRIB (its link count changed), or IN_DELETE_SELF and the end
/// of its watches when it has no name left.
pub fn unlinked(child: &Dentry) {
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    let Ok(st) = child.inode.stat() else { return };
    let id = (st.dev, st.ino);
    let is_dir = st.file_type() == libc::S_IFDIR;
    if st.nlink == 0 || is_dir {
        deliver(id, IN_DELETE_SELF, 0, &[], false);
        gone(id);
    } else {
        deliver(id, IN_ATTRIB, 0, &[], false);
    }
}

/// `d` gained a name (link): IN_ATTRIB to its own watches (not its directory's).
pub fn linked(d: &Dentry) {
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    if let Some((id, is_dir)) = id_of(d) {
        deliver(id, IN_ATTRIB, 0, &[], is_dir);
    }
}

/// `d` moved: IN_MOVE_SELF to its own watches.
pub fn moved(d: &Dentry) {
    if !ACTIVE.load(Ordering::Relaxed) {
        return;
    }
    if let Some((id, is_dir)) = id_of(d) {
        deliver(id, IN_MOVE_SELF, 0, &[], is_dir);
    }
}

/// A cookie tying an IN_MOVED_FROM to its IN_MOVED_TO.
pub fn cookie() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}
