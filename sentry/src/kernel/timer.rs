//! The timer service: one thread that fires timers (ITIMER_REAL, alarm, POSIX timers) by
//! sending signals when they expire.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use super::process::ThreadGroup;
use super::signal::SigInfo;
use super::task::TaskHandle;
use super::Kernel;

/// Who gets the signal.
#[derive(Clone)]
pub enum Target {
    Process(Arc<ThreadGroup>),
    Thread(Arc<TaskHandle>),
    /// No signal: count the expiry and wake whoever waits (timerfd).
    Counter(Weak<Expiries>),
    /// No signal: kick every thread of the process out of application code so that its CPU
    /// time is accounted (the tick of ITIMER_VIRTUAL/ITIMER_PROF).
    Tick(Weak<ThreadGroup>),
}

/// Expiries of a timer that signals nobody (timerfd): a count and the queue to wake.
#[derive(Default)]
pub struct Expiries {
    pub count: Mutex<u64>,
    pub queue: super::wait::WaitQueue,
}

struct Timer {
    at: Instant,
    interval: Option<Duration>,
    target: Target,
    info: SigInfo,
}

#[derive(Default)]
struct State {
    next_id: u64,
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    timers: HashMap<u64, Timer>,
    running: bool,
}

#[derive(Default)]
pub struct Timers {
    st: Mutex<State>,
    cv: Condvar,
}

impl Timers {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arm a timer; its id.
    pub fn arm(
        &self,
        k: &Arc<Kernel>,
        at: Instant,
        interval: Option<Duration>,
        target: Target,
        info: SigInfo,
    ) -> u64 {
        let mut st = self.lock();
        st.next_id += 1;
        let id = st.next_id;
        st.timers.insert(
            id,
            Timer {
                at,
                interval,
                target,
                info,
            },
        );
        st.heap.push(Reverse((at, id)));
        if !st.running {
            st.running = true;
            let weak = Arc::downgrade(k);
            let _ = std::thread::Builder::new()
                .name("timers".into())
                .spawn(move || run(weak));
        }
        drop(st);
        self.cv.notify_all();
        id
    }

    /// Disarm; returns (time left, interval) if it was armed.
    pub fn disarm(&self, id: u64) -> Option<(Duration, Option<Duration>)> {
        let t = self.lock().timers.remove(&id)?;
        Some((t.at.saturating_duration_since(Instant::now()), t.interval))
    }

    /// Time left and interval of an armed timer.
    pub fn get(&self, id: u64) -> Option<(Duration, Option<Duration>)> {
        let st = self.lock();
        let t = st.timers.get(&id)?;
        Some((t.at.saturating_duration_since(Instant::now()), t.interval))
    }
}

fn run(k: Weak<Kernel>) {
    loop {
        let Some(kernel) = k.upgrade() else { return };
        let timers = &kernel.timers;
        let mut fire = Vec::new();
        {
            let mut st = timers.lock();
            let now = Instant::now();
            while let Some(Reverse((at, id))) = st.heap.peek().copied() {
                if at > now {
                    break;
                }
                st.heap.pop();
                let Some(t) = st.timers.get_mut(&id) else {
                    continue;
                };
                if t.at != at {
                    continue; // rearmed since
                }
                fire.push((t.target.clone(), t.info));
                match t.interval {
                    Some(iv) => {
                        t.at = at + iv;
                        let next = t.at;
                        st.heap.push(Reverse((next, id)));
                    }
                    None => {
                        st.timers.remove(&id);
                    }
                }
            }
            if fire.is_empty() {
                let wait = st
                    .heap
                    .peek()
                    .map(|Reverse((at, _))| at.saturating_duration_since(now));
                let wait = wait
                    .unwrap_or(Duration::from_secs(3600))
                    .min(Duration::from_secs(3600));
                let _ = timers.cv.wait_timeout(st, wait);
                continue;
            }
        }
        for (target, info) in fire {
            match target {
                Target::Process(tg) => kernel.signal_group(&tg, info),
                Target::Thread(h) => kernel.signal_thread(&h, info),
                Target::Tick(tg) => {
                    if let Some(tg) = tg.upgrade() {
                        for h in tg.threads() {
                            h.kick();
                        }
                    }
                }
                Target::Counter(w) => {
                    if let Some(e) = w.upgrade() {
                        *e.count.lock().unwrap_or_else(|x| x.into_inner()) += 1;
                        e.queue.notify_all();
                    }
                }
            }
        }
    }
}
