//! System information: uname, sysinfo, getrandom, getcpu.

use std::sync::Mutex;

use crate::errno::{Errno, SysResult};
use crate::kernel::{task, time, Kernel, Task, RELEASE, VERSION};

fn field(dst: &mut [libc::c_char; 65], s: &[u8]) {
    for (d, &b) in dst.iter_mut().zip(s.iter().take(64)) {
        *d = b as libc::c_char;
    }
}

pub fn uname(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut u: libc::utsname = crate::mm::Pod::zeroed();
    field(&mut u.sysname, b"Linux");
    field(
        &mut u.nodename,
        &t.k.hostname.lock().unwrap_or_else(|e| e.into_inner()),
    );
    let persona = t.h.lock().personality;
    let release = if persona & task::UNAME26 != 0 {
        uname26(RELEASE)
    } else {
        RELEASE.to_string()
    };
    field(&mut u.release, release.as_bytes());
    field(&mut u.version, VERSION.as_bytes());
    let machine: &[u8] = if persona & task::PER_MASK == task::PER_LINUX32 {
        b"i686"
    } else {
        b"x86_64"
    };
    field(&mut u.machine, machine);
    field(
        &mut u.domainname,
        &t.k.domainname.lock().unwrap_or_else(|e| e.into_inner()),
    );
    t.mm.copy_out(a[0], &u)?;
    Ok(0)
}

/// The release uname reports under UNAME26, as Linux's override_release: "2.6.(60 + minor)"
/// and what follows the version numbers ("4.4.0-palisade" gives "2.6.64-palisade").
fn uname26(release: &str) -> String {
    let mut dots = 0;
    let end = release
        .char_indices()
        .find(|&(_, c)| {
            if c == '.' {
                dots += 1;
            }
            dots >= 3 || !(c.is_ascii_digit() || c == '.')
        })
        .map_or(release.len(), |(i, _)| i);
    let minor: u32 = release
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    format!("2.6.{}{}", minor + 60, &release[end..])
}

/// The longest host or domain name (`__NEW_UTS_LEN`).
const UTS_LEN: u64 = 64;

/// sethostname(2) and setdomainname(2): the sandbox's UTS names (what uname and
/// /proc/sys/kernel/{hostname,domainname} report), CAP_SYS_ADMIN only.
fn set_uts_name(t: &mut Task, a: [u64; 6], name: fn(&Kernel) -> &Mutex<Vec<u8>>) -> SysResult {
    if !t.creds.has_cap(caps::Capability::CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    // The length is an int: negative ones are too long as well.
    if a[1] as i32 as i64 > UTS_LEN as i64 || (a[1] as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let bytes = t.mm.read_vec(a[0], a[1] as i32 as usize)?;
    *name(&t.k).lock().unwrap_or_else(|e| e.into_inner()) = bytes;
    Ok(0)
}

pub fn sethostname(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_uts_name(t, a, |k| &k.hostname)
}

pub fn setdomainname(t: &mut Task, a: [u64; 6]) -> SysResult {
    set_uts_name(t, a, |k| &k.domainname)
}

pub fn sysinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut s: libc::sysinfo = crate::mm::Pod::zeroed();
    s.uptime = time::uptime_ns() / 1_000_000_000;
    s.totalram = t.k.mem_total();
    let used = t.k.mf.used();
    s.freeram = t.k.mem_total().saturating_sub(used);
    s.procs = t.k.tasks().threads.len().min(u16::MAX as usize) as u16;
    s.mem_unit = 1;
    t.mm.copy_out(a[0], &s)?;
    Ok(0)
}

pub fn getrandom(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[2] as u32;
    if flags & !(libc::GRND_NONBLOCK | libc::GRND_RANDOM | libc::GRND_INSECURE) != 0
        || flags & (libc::GRND_RANDOM | libc::GRND_INSECURE)
            == (libc::GRND_RANDOM | libc::GRND_INSECURE)
    {
        return Err(Errno::EINVAL);
    }
    let len = (a[1] as usize).min(32 << 20);
    let mut buf = vec![0u8; len];
    platform::host::getrandom(&mut buf);
    t.mm.write_bytes(a[0], &buf)?;
    Ok(len as u64)
}

pub fn getcpu(t: &mut Task, a: [u64; 6]) -> SysResult {
    // SAFETY-free: sched_getcpu reads the CPU this sentry thread (and so the task) is on.
    let cpu = nix::sched::sched_getcpu().unwrap_or(0) as u32;
    if a[0] != 0 {
        t.mm.copy_out(a[0], &cpu)?;
    }
    if a[1] != 0 {
        t.mm.copy_out(a[1], &0u32)?;
    }
    Ok(0)
}
