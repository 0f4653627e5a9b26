//! Blocking: a `Waiter` per task and `WaitQueue`s that objects (pipes, futexes, child exits)
//! notify.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Instant;

/// A task's wake-up point: a generation counter and a condition variable. A waker bumps the
/// generation; a sleeper that read the generation before checking its condition cannot miss
/// the wake-up.
#[derive(Default)]
pub struct Waiter {
    gen: Mutex<u64>,
    cv: Condvar,
}

impl Waiter {
    pub fn new() -> Arc<Waiter> {
        Arc::new(Waiter::default())
    }

    pub fn generation(&self) -> u64 {
        *self.gen.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn notify(&self) {
        let mut g = self.gen.lock().unwrap_or_else(|e| e.into_inner());
        *g = g.wrapping_add(1);
        self.cv.notify_all();
    }

    /// Sleep until notified after generation `gen`, or until `deadline`. False on timeout.
    pub fn wait(&self, gen: u64, deadline: Option<Instant>) -> bool {
        let mut g = self.gen.lock().unwrap_or_else(|e| e.into_inner());
        while *g == gen {
            match deadline {
                None => g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    g = self
                        .cv
                        .wait_timeout(g, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        true
    }
}

/// Tasks waiting for something to change.
#[derive(Default)]
pub struct WaitQueue {
    waiters: Mutex<Vec<Weak<Waiter>>>,
}

impl WaitQueue {
    pub fn add(&self, w: &Arc<Waiter>) {
        let mut v = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        v.retain(|x| x.strong_count() > 0);
        v.push(Arc::downgrade(w));
    }

    pub fn remove(&self, w: &Arc<Waiter>) {
        let mut v = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = v
            .iter()
            .position(|x| std::ptr::eq(x.as_ptr(), Arc::as_ptr(w)))
        {
            v.swap_remove(i);
        }
    }

    pub fn notify_all(&self) {
        let v: Vec<Arc<Waiter>> = self
            .waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for w in v {
            w.notify();
        }
    }
}
