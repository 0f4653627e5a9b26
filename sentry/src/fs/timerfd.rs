//! timerfd: a timer read as a file of expiry counts.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::errno::Errno;
use crate::kernel::timer::{Expiries, Target};
use crate::kernel::wait::WaitQueue;
use crate::kernel::Kernel;
use crate::vfs::{FileOps, OpenFile, Stat};

pub struct TimerFd {
    pub clock: libc::clockid_t,
    k: Weak<Kernel>,
    exp: Arc<Expiries>,
    /// The armed kernel timer and its interval.
    armed: Mutex<Option<(u64, Option<Duration>)>>,
    dev: u64,
}

impl TimerFd {
    /// Arm (value > 0) or disarm (value 0); returns the old (time left, interval).
    pub fn set(&self, value: Duration, interval: Duration) -> Result<(Duration, Duration), Errno> {
        let k = self.k.upgrade().ok_or(Errno::EBADF)?;
        let old = self.get();
        let mut a = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((id, _)) = a.take() {
            k.timers.disarm(id);
        }
        *self.exp.count.lock().unwrap_or_else(|e| e.into_inner()) = 0;
        if !value.is_zero() {
            let iv = if interval.is_zero() {
                None
            } else {
                Some(interval)
            };
            let info = crate::kernel::signal::SigInfo::new(0, 0);
            let id = k.timers.arm(
                &k,
                crate::kernel::time::after(value),
                iv,
                Target::Counter(Arc::downgrade(&self.exp)),
                info,
            );
            *a = Some((id, iv));
        }
        Ok(old)
    }

    /// (time left, interval); zeros when disarmed.
    pub fn get(&self) -> (Duration, Duration) {
        let a = *self.armed.lock().unwrap_or_else(|e| e.into_inner());
        let Some((id, iv)) = a else {
            return (Duration::ZERO, Duration::ZERO);
        };
        match self.k.upgrade().and_then(|k| k.timers.get(id)) {
            Some((left, iv)) => (left.max(Duration::from_nanos(1)), iv.unwrap_or_default()),
            None => (Duration::ZERO, iv.unwrap_or_default()),
        }
    }
}

impl FileOps for TimerFd {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[timerfd]")
    }
    fn fdinfo(&self) -> String {
        let ticks = *self.exp.count.lock().unwrap_or_else(|e| e.into_inner());
        let (left, iv) = self.get();
        format!(
            "clockid: {}\nticks: {ticks}\nit_value: ({}, {})\nit_interval: ({}, {})\n",
            self.clock,
            left.as_secs(),
            left.subsec_nanos(),
            iv.as_secs(),
            iv.subsec_nanos()
        )
    }
    fn read(&self, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut c = self.exp.count.lock().unwrap_or_else(|e| e.into_inner());
        if *c == 0 {
            return Err(Errno::EAGAIN);
        }
        buf[..8].copy_from_slice(&c.to_le_bytes());
        *c = 0;
        Ok(8)
    }
    fn write(&self, _: &[u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn seekable(&self) -> bool {
        false
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(crate::fs::synth::attr(self.dev, 1, 0o600, 0))
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.exp.queue)
    }
    fn readiness(&self) -> u32 {
        if *self.exp.count.lock().unwrap_or_else(|e| e.into_inner()) > 0 {
            libc::POLLIN as u32
        } else {
            0
        }
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Drop for TimerFd {
    fn drop(&mut self) {
        let a = *self.armed.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some((id, _)), Some(k)) = (a, self.k.upgrade()) {
            k.timers.disarm(id);
        }
    }
}

pub fn new(k: &Arc<Kernel>, clock: libc::clockid_t, flags: u32) -> Arc<OpenFile> {
    let t = TimerFd {
        clock,
        k: Arc::downgrade(k),
        exp: Arc::new(Expiries::default()),
        armed: Mutex::new(None),
        dev: super::new_dev(),
    };
    OpenFile::new(
        None,
        Arc::new(t),
        libc::O_RDWR as u32 | (flags & libc::O_NONBLOCK as u32),
    )
}
