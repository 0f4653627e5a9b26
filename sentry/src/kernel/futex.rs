//! Futex wait queues. Private futexes, and shared ones in private mappings, are keyed by
//! (address space, address); shared ones in shared mappings by the memory-file page and offset,
//! so every mapping of the same memory meets at the same key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::wait::Waiter;
use crate::errno::Errno;
use crate::mm::MemoryManager;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Key {
    /// FUTEX_PRIVATE_FLAG: address space and address.
    Private(usize, u64),
    /// A shared futex in a private mapping: address space and address as well, but not the
    /// private key (as Linux's FUT_OFF_MMSHARED: a shared wake does not wake private waiters).
    MmShared(usize, u64),
    /// A shared futex in a shared mapping: the memory-file offset.
    Shared(u64),
}

struct Entry {
    waiter: Arc<Waiter>,
    /// Set by the waker (for a PI waiter: ownership was handed to it).
    woken: Arc<AtomicBool>,
    /// Plain waiters' wake mask; 0 for PI waiters, which FUTEX_WAKE never wakes.
    bitset: u32,
    /// A PI waiter's thread id.
    pi_tid: Option<u32>,
}

/// Bits of a PI or robust futex word.
pub use libc::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};

#[derive(Default)]
pub struct Futexes {
    queues: Mutex<HashMap<Key, Vec<Entry>>>,
}

/// A registered wait: the caller sleeps until `woken` is set.
pub struct Ticket {
    pub key: Key,
    pub woken: Arc<AtomicBool>,
    waiter: Arc<Waiter>,
}

pub fn key(mm: &Arc<MemoryManager>, addr: u64, private: bool) -> Result<Key, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let space = Arc::as_ptr(mm) as usize;
    if private {
        return Ok(Key::Private(space, addr));
    }
    Ok(match mm.futex_frame(addr)? {
        Some(frame) => Key::Shared(frame),
        None => Key::MmShared(space, addr),
    })
}

impl Futexes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Vec<Entry>>> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue a waiter on `key` if the word at `addr` still holds `val` (checked under the
    /// queue lock, so a wake between the check and the sleep cannot be lost).
    pub fn prepare_wait(
        &self,
        mm: &MemoryManager,
        addr: u64,
        key: Key,
        val: u32,
        bitset: u32,
        waiter: &Arc<Waiter>,
    ) -> Result<Ticket, Errno> {
        let mut q = self.lock();
        let cur: u32 = mm.copy_in(addr)?;
        if cur != val {
            return Err(Errno::EAGAIN);
        }
        let woken = Arc::new(AtomicBool::new(false));
        q.entry(key).or_default().push(Entry {
            waiter: waiter.clone(),
            woken: woken.clone(),
            bitset,
            pi_tid: None,
        });
        Ok(Ticket {
            key,
            woken,
            waiter: waiter.clone(),
        })
    }

    /// Take a ticket out of its queue (timeout or signal). True if it had been woken meanwhile.
    pub fn cancel(&self, t: &Ticket) -> bool {
        let mut q = self.lock();
        if let Some(v) = q.get_mut(&t.key) {
            v.retain(|e| !Arc::ptr_eq(&e.woken, &t.woken));
            if v.is_empty() {
                q.remove(&t.key);
            }
        }
        let _ = &t.waiter;
        t.woken.load(Ordering::Acquire)
    }

    /// Wake up to `n` waiters on `key` whose bitset intersects `bitset`.
    pub fn wake_key(&self, key: Key, n: u32, bitset: u32) -> u32 {
        let mut q = self.lock();
        let Some(v) = q.get_mut(&key) else { return 0 };
        let mut woken = 0;
        let mut i = 0;
        while i < v.len() && woken < n {
            if v[i].bitset & bitset != 0 {
                let e = v.remove(i);
                e.woken.store(true, Ordering::Release);
                e.waiter.notify();
                woken += 1;
            } else {
                i += 1;
            }
        }
        if v.is_empty() {
            q.remove(&key);
        }
        woken
    }

    /// The kernel's own wake by address (clear_child_tid, robust lists): a shared FUTEX_WAKE,
    /// as Linux does it (FUTEX_PRIVATE_FLAG waiters on the word are not woken).
    pub fn wake(&self, mm: &Arc<MemoryManager>, addr: u64, n: u32, bitset: u32) -> u32 {
        key(mm, addr, false)
            .map(|k| self.wake_key(k, n, bitset))
            .unwrap_or(0)
    }

    /// FUTEX_LOCK_PI's sleep: if the word still reads `seen` (owned by another thread), mark
    /// it FUTEX_WAITERS and queue `tid` to be handed the lock. None: the word changed, look
    /// again.
    pub fn prepare_pi_wait(
        &self,
        mm: &MemoryManager,
        addr: u64,
        key: Key,
        seen: u32,
        tid: u32,
        waiter: &Arc<Waiter>,
    ) -> Result<Option<Ticket>, Errno> {
        let mut q = self.lock();
        if seen & FUTEX_WAITERS == 0 {
            if mm.cmpxchg_u32(addr, seen, seen | FUTEX_WAITERS)?.is_err() {
                return Ok(None);
            }
        } else if mm.copy_in::<u32>(addr)? != seen {
            return Ok(None);
        }
        let woken = Arc::new(AtomicBool::new(false));
        q.entry(key).or_default().push(Entry {
            waiter: waiter.clone(),
            woken: woken.clone(),
            bitset: 0,
            pi_tid: Some(tid),
        });
        Ok(Some(Ticket {
            key,
            woken,
            waiter: waiter.clone(),
        }))
    }

    /// Whether threads wait in FUTEX_LOCK_PI on `key`.
    pub fn has_pi_waiters(&self, key: Key) -> bool {
        self.lock()
            .get(&key)
            .is_some_and(|v| v.iter().any(|e| e.pi_tid.is_some()))
    }

    /// Release a PI futex: hand it to the first PI waiter (the word becomes its tid with
    /// FUTEX_WAITERS, as Linux's wake_futex_pi), or clear it. `owner`: the releasing thread,
    /// which must own it (EPERM); None when a dead owner's robust futex is released, which
    /// also sets FUTEX_OWNER_DIED.
    pub fn unlock_pi(
        &self,
        mm: &MemoryManager,
        addr: u64,
        key: Key,
        owner: Option<u32>,
    ) -> Result<(), Errno> {
        let died = if owner.is_none() { FUTEX_OWNER_DIED } else { 0 };
        loop {
            let mut q = self.lock();
            let uval: u32 = mm.copy_in(addr)?;
            if let Some(tid) = owner {
                if uval & FUTEX_TID_MASK != tid {
                    return Err(Errno::EPERM);
                }
            }
            let next = q
                .get(&key)
                .and_then(|v| v.iter().position(|e| e.pi_tid.is_some()));
            let new = match next.and_then(|i| q.get(&key).and_then(|v| v[i].pi_tid)) {
                Some(tid) => tid | FUTEX_WAITERS | died,
                None if died != 0 => (uval & FUTEX_WAITERS) | died,
                None => 0,
            };
            if mm.cmpxchg_u32(addr, uval, new)?.is_err() {
                continue;
            }
            if let (Some(i), Some(v)) = (next, q.get_mut(&key)) {
                let e = v.remove(i);
                if v.is_empty() {
                    q.remove(&key);
                }
                e.woken.store(true, Ordering::Release);
                e.waiter.notify();
            }
            return Ok(());
        }
    }

    /// Wake up to `nwake` waiters of `from` and move up to `nreq` others to `to`.
    pub fn requeue(&self, from: Key, to: Key, nwake: u32, nreq: u32) -> u32 {
        let woken = self.wake_key(from, nwake, u32::MAX);
        let mut q = self.lock();
        // PI waiters stay where they are (Linux refuses to requeue them).
        let moved: Vec<Entry> = match q.get_mut(&from) {
            Some(v) => {
                let mut moved = Vec::new();
                let mut i = 0;
                while i < v.len() && moved.len() < nreq as usize {
                    if v[i].pi_tid.is_none() {
                        moved.push(v.remove(i));
                    } else {
                        i += 1;
                    }
                }
                moved
            }
            None => Vec::new(),
        };
        if q.get(&from).is_some_and(|v| v.is_empty()) {
            q.remove(&from);
        }
        let count = moved.len() as u32;
        if !moved.is_empty() {
            q.entry(to).or_default().extend(moved);
        }
        woken + count
    }
}
