//! Time: the sentry's clocks and the timekeeper that publishes TSC parameters to the vDSO.

use std::sync::atomic::{fence, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use platform::MemoryFile;

static BOOT: OnceLock<((i64, i64), i64)> = OnceLock::new();

pub fn now(clock: libc::clockid_t) -> (i64, i64) {
    match nix::time::clock_gettime(nix::time::ClockId::from_raw(clock)) {
        Ok(t) => (t.tv_sec(), t.tv_nsec()),
        Err(_) => (0, 0),
    }
}

/// Nanoseconds of (seconds, nanoseconds), saturating: values come from applications.
pub fn ns(t: (i64, i64)) -> i64 {
    t.0.saturating_mul(1_000_000_000).saturating_add(t.1)
}

/// `now + d`, or None ("never") when that is past what an Instant holds (a timeout of
/// centuries from an application must not overflow).
pub fn deadline(d: std::time::Duration) -> Option<std::time::Instant> {
    std::time::Instant::now().checked_add(d)
}

/// Longest a timer is armed for; longer requests fire no sooner than this.
const MAX_TIMER: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86400);

/// When a timer armed now for `d` fires (clamped to MAX_TIMER).
pub fn after(d: std::time::Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(d.min(MAX_TIMER))
        .or_else(|| now.checked_add(std::time::Duration::from_secs(86400)))
        .unwrap_or(now)
}

/// Record the boot time; call once at sentry start.
pub fn init() {
    BOOT.get_or_init(|| (now(libc::CLOCK_REALTIME), ns(now(libc::CLOCK_MONOTONIC))));
}

/// Wall-clock time when the sentry started (timestamps of synthetic files).
pub fn boot_realtime() -> (i64, i64) {
    BOOT.get()
        .map(|b| b.0)
        .unwrap_or_else(|| now(libc::CLOCK_REALTIME))
}

/// Nanoseconds since the sentry started (the sandbox's uptime).
pub fn uptime_ns() -> i64 {
    let boot = BOOT.get().map(|b| b.1).unwrap_or(0);
    ns(now(libc::CLOCK_MONOTONIC)) - boot
}

/// One (TSC, monotonic, realtime) sample taken as close together as the host allows.
fn sample() -> (u64, i64, i64) {
    let mut best = (u64::MAX, 0u64, 0i64, 0i64);
    for _ in 0..5 {
        let t0 = platform::host::rdtsc();
        let mono = ns(now(libc::CLOCK_MONOTONIC));
        let real = ns(now(libc::CLOCK_REALTIME));
        let t1 = platform::host::rdtsc();
        if t1.wrapping_sub(t0) < best.0 {
            best = (t1.wrapping_sub(t0), t0 / 2 + t1 / 2, mono, real);
        }
    }
    (best.1, best.2, best.3)
}

/// Field offsets in the vvar page (see vdso.c `struct vvar`).
const SEQ: u64 = 0;
const READY: u64 = 8;
const TSC_BASE: u64 = 16;
const MONO_BASE: u64 = 24;
const REAL_BASE: u64 = 32;
const MULT: u64 = 40;

/// Publishes TSC-to-nanosecond parameters for the vDSO: a first calibration shortly after boot,
/// then a re-anchoring every second with the frequency measured over the whole uptime.
pub fn start_timekeeper(mf: Arc<MemoryFile>, vvar: u64) {
    let first = sample();
    let spawn = std::thread::Builder::new()
        .name("timekeeper".into())
        .spawn(move || {
            let mut seq = 0u64;
            let mut last: Option<(u64, i64, u64)> = None; // (tsc_base, mono_base, mult)
            let mut wait = Duration::from_millis(5);
            loop {
                std::thread::sleep(wait);
                wait = Duration::from_secs(1);
                let (tsc, mono, real) = sample();
                let dt = tsc.wrapping_sub(first.0);
                let dns = mono - first.1;
                if dt == 0 || dns <= 0 {
                    continue;
                }
                let mult = ((dns as u128) << 32) / dt as u128;
                let mult = mult as u64;
                // Monotonic time must never go back: start from what the old parameters give now
                // if that is ahead.
                let mono_base = match last {
                    Some((tb, mb, m)) => {
                        let old =
                            mb + ((tsc.wrapping_sub(tb) as i64 as i128 * m as i128) >> 32) as i64;
                        old.max(mono)
                    }
                    None => mono,
                };
                let w = |off: u64, v: u64| {
                    let _ = mf.write(vvar + off, &v.to_le_bytes());
                };
                seq += 1;
                w(SEQ, seq);
                fence(Ordering::SeqCst);
                w(TSC_BASE, tsc);
                w(MONO_BASE, mono_base as u64);
                w(REAL_BASE, real as u64);
                w(MULT, mult);
                w(READY, 1);
                fence(Ordering::SeqCst);
                seq += 1;
                w(SEQ, seq);
                last = Some((tsc, mono_base, mult));
            }
        });
    if let Err(e) = spawn {
        tracing::warn!("no timekeeper thread, the vDSO will trap for time: {e}");
    }
}
