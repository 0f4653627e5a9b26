//! Credentials: user and group ids, supplementary groups, capabilities. All of it is the
//! sentry's own state; nothing changes on the host.

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::vfs::Creds;

const NGROUPS_MAX: u64 = 65536;

/// The task's credentials changed: they are a new set, visible to other tasks.
fn publish(t: &mut Task) {
    t.creds.renew();
    t.h.lock().creds = Some(t.creds);
}

/// After a uid change: Linux's capability rules (capabilities(7), "Effect of user ID changes").
fn fix_caps(old: &Creds, new: &mut Creds) {
    let was_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
    let now_root = new.uid == 0 || new.euid == 0 || new.suid == 0;
    if was_root && !now_root && !new.keep_caps {
        new.cap_permitted = 0;
        new.cap_effective = 0;
    }
    if old.euid == 0 && new.euid != 0 {
        new.cap_effective = 0;
    }
    if old.euid != 0 && new.euid == 0 {
        new.cap_effective = new.cap_permitted;
    }
    new.fsuid = new.euid;
}

fn arg_id(a: u64) -> Option<u32> {
    let v = a as u32;
    if v == u32::MAX {
        None
    } else {
        Some(v)
    }
}

/// setresuid's rule: an unprivileged caller may only pick among its current ids.
fn allowed(c: &Creds, v: u32, real: u32, eff: u32, saved: u32, cap: caps::Capability) -> bool {
    c.has_cap(cap) || v == real || v == eff || v == saved
}

fn set_uids(t: &mut Task, r: Option<u32>, e: Option<u32>, s: Option<u32>) -> SysResult {
    let c = t.creds;
    for v in [r, e, s].into_iter().flatten() {
        if !allowed(&c, v, c.uid, c.euid, c.suid, caps::Capability::CAP_SETUID) {
            return Err(Errno::EPERM);
        }
    }
    let mut n = c;
    n.uid = r.unwrap_or(c.uid);
    n.euid = e.unwrap_or(c.euid);
    n.suid = s.unwrap_or(c.suid);
    fix_caps(&c, &mut n);
    t.creds = n;
    t.h.tg.lock().uid = n.uid;
    publish(t);
    Ok(0)
}

fn set_gids(t: &mut Task, r: Option<u32>, e: Option<u32>, s: Option<u32>) -> SysResult {
    let c = t.creds;
    for v in [r, e, s].into_iter().flatten() {
        if !allowed(&c, v, c.gid, c.egid, c.sgid, caps::Capability::CAP_SETGID) {
            return Err(Errno::EPERM);
        }
    }
    t.creds.gid = r.unwrap_or(c.gid);
    t.creds.egid = e.unwrap_or(c.egid);
    t.creds.sgid = s.unwrap_or(c.sgid);
    t.creds.fsgid = t.creds.egid;
    publish(t);
    Ok(0)
}

pub fn setuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let uid = arg_id(a[0]).ok_or(Errno::EINVAL)?;
    if t.creds.has_cap(caps::Capability::CAP_SETUID) {
        set_uids(t, Some(uid), Some(uid), Some(uid))
    } else if uid == t.creds.uid || uid == t.creds.suid {
        set_uids(t, None, Some(uid), None)
    } else {
        Err(Errno::EPERM)
    }
}

pub fn setgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let gid = arg_id(a[0]).ok_or(Errno::EINVAL)?;
    if t.creds.has_cap(caps::Capability::CAP_SETGID) {
        set_gids(t, Some(gid), Some(gid), Some(gid))
    } else if gid == t.creds.gid || gid == t.creds.sgid {
        set_gids(t, None, Some(gid), None)
    } else {
        Err(Errno::EPERM)
    }
}

pub fn setreuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (r, e) = (arg_id(a[0]), arg_id(a[1]));
    let c = t.creds;
    let bad_r = r.is_some_and(|v| v != c.uid && v != c.euid);
    let bad_e = e.is_some_and(|v| v != c.uid && v != c.euid && v != c.suid);
    if !c.has_cap(caps::Capability::CAP_SETUID) && (bad_r || bad_e) {
        return Err(Errno::EPERM);
    }
    let mut n = c;
    n.uid = r.unwrap_or(c.uid);
    n.euid = e.unwrap_or(c.euid);
    // The saved id follows the new effective one if the real id was set or the effective one
    // is set to something other than the old real id.
    if r.is_some() || e.is_some_and(|v| v != c.uid) {
        n.suid = n.euid;
    }
    fix_caps(&c, &mut n);
    t.creds = n;
    t.h.tg.lock().uid = n.uid;
    publish(t);
    Ok(0)
}

pub fn setregid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (r, e) = (arg_id(a[0]), arg_id(a[1]));
    let c = t.creds;
    if !c.has_cap(caps::Capability::CAP_SETGID)
        && (r.is_some_and(|v| v != c.gid && v != c.egid)
            || e.is_some_and(|v| v != c.gid && v != c.egid && v != c.sgid))
    {
        return Err(Errno::EPERM);
    }
    let new_e = e.unwrap_or(c.egid);
    let s = if r.is_some() || e.is_some_and(|v| v != c.gid) {
        Some(new_e)
    } else {
        None
    };
    t.creds.gid = r.unwrap_or(c.gid);
    t.creds.egid = new_e;
    t.creds.sgid = s.unwrap_or(c.sgid);
    t.creds.fsgid = new_e;
    publish(t);
    Ok(0)
}

/// Whether setresuid/setresgid would change nothing: Linux then keeps the credentials as
/// they are (no new set).
fn unchanged(ids: [Option<u32>; 3], now: [u32; 3]) -> bool {
    ids.iter().zip(now).all(|(v, n)| v.is_none_or(|v| v == n))
}

pub fn setresuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ids = [arg_id(a[0]), arg_id(a[1]), arg_id(a[2])];
    if unchanged(ids, [t.creds.uid, t.creds.euid, t.creds.suid]) {
        return Ok(0);
    }
    set_uids(t, ids[0], ids[1], ids[2])
}

pub fn setresgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ids = [arg_id(a[0]), arg_id(a[1]), arg_id(a[2])];
    if unchanged(ids, [t.creds.gid, t.creds.egid, t.creds.sgid]) {
        return Ok(0);
    }
    set_gids(t, ids[0], ids[1], ids[2])
}

pub fn getresuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.copy_out(a[0], &t.creds.uid)?;
    t.mm.copy_out(a[1], &t.creds.euid)?;
    t.mm.copy_out(a[2], &t.creds.suid)?;
    Ok(0)
}

pub fn getresgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.copy_out(a[0], &t.creds.gid)?;
    t.mm.copy_out(a[1], &t.creds.egid)?;
    t.mm.copy_out(a[2], &t.creds.sgid)?;
    Ok(0)
}

/// setfsuid returns the previous value and never fails (an unacceptable value is ignored).
pub fn setfsuid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.creds.fsuid;
    if let Some(v) = arg_id(a[0]) {
        let c = t.creds;
        let may = c.has_cap(caps::Capability::CAP_SETUID)
            || [c.uid, c.euid, c.suid, c.fsuid].contains(&v);
        if may && t.creds.fsuid != v {
            t.creds.fsuid = v;
            t.creds.renew();
        }
    }
    Ok(old as u64)
}

pub fn setfsgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.creds.fsgid;
    if let Some(v) = arg_id(a[0]) {
        let c = t.creds;
        let may = c.has_cap(caps::Capability::CAP_SETGID)
            || [c.gid, c.egid, c.sgid, c.fsgid].contains(&v);
        if may && t.creds.fsgid != v {
            t.creds.fsgid = v;
            t.creds.renew();
        }
    }
    Ok(old as u64)
}

pub fn getgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    let size = a[0] as i32;
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    let n = t.groups.len();
    if size == 0 {
        return Ok(n as u64);
    }
    if (size as usize) < n {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = t.groups.iter().flat_map(|g| g.to_le_bytes()).collect();
    t.mm.write_bytes(a[1], &bytes)?;
    Ok(n as u64)
}

pub fn setgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    if !t.creds.has_cap(caps::Capability::CAP_SETGID) {
        return Err(Errno::EPERM);
    }
    let raw = t.mm.read_vec(a[1], a[0] as usize * 4)?;
    t.groups = raw
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    crate::vfs::set_groups(&t.groups);
    t.h.lock().groups = t.groups.clone();
    t.creds.renew();
    Ok(0)
}

const CAP_V1: u32 = 0x1998_0330;
const CAP_V2: u32 = 0x2007_1026;
const CAP_V3: u32 = 0x2008_0522;

/// Read the header; on an unknown version write the preferred one back and fail, as Linux.
fn cap_header(t: &Task, addr: u64) -> Result<(u32, i32), Errno> {
    let h: [u32; 2] = t.mm.copy_in(addr)?;
    match h[0] {
        CAP_V1 | CAP_V2 | CAP_V3 => Ok((h[0], h[1] as i32)),
        _ => {
            t.mm.copy_out(addr, &CAP_V3)?;
            Err(Errno::EINVAL)
        }
    }
}

pub fn capget(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (ver, pid) = cap_header(t, a[0])?;
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let c = if pid == 0 || pid == t.tid {
        t.creds
    } else {
        let h = t.k.tasks().threads.get(&pid).cloned().ok_or(Errno::ESRCH)?;
        let c = h.lock().creds;
        c.ok_or(Errno::ESRCH)?
    };
    if a[1] == 0 {
        return Ok(0);
    }
    let words = if ver == CAP_V1 { 1 } else { 2 };
    let mut out = Vec::new();
    for w in 0..words {
        for set in [c.cap_effective, c.cap_permitted, c.cap_inheritable] {
            out.extend_from_slice(&((set >> (32 * w)) as u32).to_le_bytes());
        }
    }
    t.mm.write_bytes(a[1], &out)?;
    Ok(0)
}

pub fn capset(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (ver, pid) = cap_header(t, a[0])?;
    if pid != 0 && pid != t.tid {
        return Err(Errno::EPERM);
    }
    let words = if ver == CAP_V1 { 1 } else { 2 };
    let raw = t.mm.read_vec(a[1], words * 12)?;
    let word = |i: usize| {
        u32::from_le_bytes([raw[i * 4], raw[i * 4 + 1], raw[i * 4 + 2], raw[i * 4 + 3]]) as u64
    };
    let (mut e, mut p, mut i) = (0u64, 0u64, 0u64);
    for w in 0..words {
        e |= word(w * 3) << (32 * w);
        p |= word(w * 3 + 1) << (32 * w);
        i |= word(w * 3 + 2) << (32 * w);
    }
    let c = t.creds;
    // Permitted can only shrink; effective must be within it; inheritable within old
    // inheritable and permitted (no CAP_SETPCAP bounding games).
    if p & !c.cap_permitted != 0 || e & !p != 0 || i & !(c.cap_inheritable | c.cap_permitted) != 0 {
        return Err(Errno::EPERM);
    }
    t.creds.cap_effective = e;
    t.creds.cap_permitted = p;
    t.creds.cap_inheritable = i;
    publish(t);
    Ok(0)
}
