//! Futex wait queues. Private futexes are keyed by (address space, address); shared ones by the
//! memory-file page and offset, so every mapping of the same memory meets at the same key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::wait::Waiter;
use crate::errno::Errno;
use crate::mm::MemoryManager;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Key {
    Private(usize, u64),
    Shared(u64),
}

struct Entry {
    waiter: Arc<Waiter>,
    woken: Arc<AtomicBool>,
    bitset: u32,
}

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
    if private {
        Ok(Key::Private(Arc::as_ptr(mm) as usize, addr))
    } else {
        Ok(Key::Shared(mm.physical(addr)?))
    }
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

    /// Wake by address (clear_child_tid, robust lists): private key of `mm`.
    pub fn wake(&self, mm: &Arc<MemoryManager>, addr: u64, n: u32, bitset: u32) -> u32 {
        let a = key(mm, addr, true)
            .map(|k| self.wake_key(k, n, bitset))
            .unwrap_or(0);
        let b = key(mm, addr, false)
            .map(|k| self.wake_key(k, n.saturating_sub(a), bitset))
            .unwrap_or(0);
        a + b
    }

    /// Wake up to `nwake` waiters of `from` and move up to `nreq` others to `to`.
    pub fn requeue(&self, from: Key, to: Key, nwake: u32, nreq: u32) -> u32 {
        let woken = self.wake_key(from, nwake, u32::MAX);
        let mut q = self.lock();
        let moved: Vec<Entry> = match q.get_mut(&from) {
            Some(v) => {
                let n = (nreq as usize).min(v.len());
                v.drain(..n).collect()
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
