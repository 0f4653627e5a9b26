//! Memory syscalls: brk, mmap family.

use platform::{Prot, PAGE_SIZE};

use super::fd_arg;
use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::mm::{page_up, Backing, MmapOpts, SharedMemory};

/// RLIMIT_AS: may the address space grow by `grow()` bytes (Linux's may_expand_vm)? Nothing
/// is measured when there is no limit.
fn may_expand(t: &Task, grow: impl FnOnce() -> u64) -> Result<(), Errno> {
    let limit = t.rlimit(libc::RLIMIT_AS).rlim_cur;
    if limit != libc::RLIM_INFINITY && t.mm.total_mapped().saturating_add(grow()) > limit {
        return Err(Errno::ENOMEM);
    }
    Ok(())
}

pub fn brk(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (start, old) = t.mm.brk_range();
    let grow = page_up(a[0])
        .unwrap_or(u64::MAX)
        .saturating_sub(page_up(old).unwrap_or(u64::MAX));
    if a[0] > old {
        // RLIMIT_DATA bounds the heap; RLIMIT_AS everything. A refused brk returns the old
        // break.
        let data = t.rlimit(libc::RLIMIT_DATA).rlim_cur;
        if (data != libc::RLIM_INFINITY && a[0] - start > data) || may_expand(t, || grow).is_err() {
            return Ok(old);
        }
    }
    Ok(t.mm.brk(a[0]))
}

pub fn mmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, len, prot, flags, fd, off) = (a[0], a[1], a[2], a[3] as i32, fd_arg(a[4]), a[5]);
    let kind = flags & libc::MAP_TYPE;
    let shared = match kind {
        libc::MAP_SHARED | libc::MAP_SHARED_VALIDATE => true,
        libc::MAP_PRIVATE => false,
        _ => return Err(Errno::EINVAL),
    };
    if kind == libc::MAP_SHARED_VALIDATE {
        let known = libc::MAP_TYPE
            | libc::MAP_FIXED
            | libc::MAP_ANONYMOUS
            | libc::MAP_POPULATE
            | libc::MAP_NONBLOCK
            | libc::MAP_FIXED_NOREPLACE
            | libc::MAP_GROWSDOWN
            | libc::MAP_NORESERVE
            | libc::MAP_DENYWRITE
            | libc::MAP_EXECUTABLE
            | libc::MAP_LOCKED
            | libc::MAP_STACK;
        if flags & !known != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
    }
    // Linux ignores protection bits it does not know in mmap (mprotect checks them).
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    if !off.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let plen = page_up(len).ok_or(Errno::ENOMEM)?;
    off.checked_add(plen).ok_or(Errno::EOVERFLOW)?;
    let prot = Prot::from_bits(prot);
    let all = Prot {
        read: true,
        write: true,
        exec: true,
    };
    let fixed = flags & libc::MAP_FIXED != 0;
    let noreplace = flags & libc::MAP_FIXED_NOREPLACE != 0;
    let growsdown = flags & libc::MAP_GROWSDOWN != 0;
    let populate = flags & libc::MAP_POPULATE != 0;
    let (backing, max_prot) = if flags & libc::MAP_ANONYMOUS != 0 {
        if shared {
            let obj = SharedMemory::new(t.k.mf.clone(), plen);
            (
                Backing::Object {
                    obj: std::sync::Arc::new(obj),
                    off: 0,
                },
                all,
            )
        } else {
            (Backing::Anon, all)
        }
    } else {
        let f = t.fds.get(fd)?;
        if f.is_path() {
            return Err(Errno::EBADF);
        }
        if !f.readable() {
            return Err(Errno::EACCES);
        }
        if shared && prot.write && !f.writable() {
            return Err(Errno::EACCES);
        }
        let mut max = all;
        if shared && !f.writable() {
            max.write = false;
        }
        if f.ops.maps_anonymous() {
            // /dev/zero: private maps are anonymous memory, each shared map a new shared
            // object (Linux's shmem_zero_setup).
            let backing = if shared {
                Backing::Object {
                    obj: std::sync::Arc::new(SharedMemory::new(t.k.mf.clone(), plen)),
                    off: 0,
                }
            } else {
                Backing::Anon
            };
            (backing, max)
        } else {
            let mut obj = f.ops.mappable().ok_or(Errno::ENODEV)?;
            if let Some(d) = &f.dentry {
                obj = crate::mm::named(obj, d, &t.fs().root);
            }
            // A write-sealed file maps shared only read-only, for good.
            if shared
                && f.ops
                    .seals()
                    .is_ok_and(|s| s & crate::fs::tmpfs::WRITE_SEALS != 0)
            {
                if prot.write {
                    return Err(Errno::EPERM);
                }
                max.write = false;
            }
            // Nothing from a noexec mount runs: PROT_EXEC is EPERM now, EACCES from mprotect.
            if f.dentry.as_ref().is_some_and(|d| d.noexec()) {
                if prot.exec {
                    return Err(Errno::EPERM);
                }
                max.exec = false;
            }
            (Backing::Object { obj, off }, max)
        }
    };
    // The READ_IMPLIES_EXEC persona: readable means executable where that is allowed.
    let prot = Prot {
        exec: prot.exec || (prot.read && max_prot.exec && t.read_implies_exec()),
        ..prot
    };
    // What MAP_FIXED replaces does not count against RLIMIT_AS.
    may_expand(t, || {
        let replaced = if fixed {
            t.mm.mapped_bytes(addr, plen)
        } else {
            0
        };
        plen.saturating_sub(replaced)
    })?;
    t.mm.mmap(MmapOpts {
        addr,
        len,
        prot,
        max_prot,
        shared,
        fixed,
        noreplace,
        growsdown,
        backing,
        populate,
    })
}

pub fn munmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.munmap(a[0], a[1]).map(|_| 0)
}

pub fn mprotect(t: &mut Task, a: [u64; 6]) -> SysResult {
    let valid =
        (libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC | libc::PROT_GROWSDOWN) as u64;
    if a[2] & !valid != 0 {
        return Err(Errno::EINVAL);
    }
    let growsdown = a[2] & libc::PROT_GROWSDOWN as u64 != 0;
    let prot = Prot::from_bits(a[2]);
    let rier = prot.read && t.read_implies_exec();
    t.mm.mprotect(a[0], a[1], prot, growsdown, rier).map(|_| 0)
}

pub fn mremap(t: &mut Task, a: [u64; 6]) -> SysResult {
    if let (Some(old), Some(new)) = (page_up(a[1]), page_up(a[2])) {
        if new > old {
            may_expand(t, || new - old)?;
        }
    }
    t.mm.mremap(a[0], a[1], a[2], a[3], a[4])
}

pub fn madvise(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.madvise(a[0], a[1], a[2] as i32).map(|_| 0)
}

pub fn mincore(t: &mut Task, a: [u64; 6]) -> SysResult {
    let v = t.mm.mincore(a[0], a[1])?;
    t.mm.write_bytes(a[2], &v)?;
    Ok(0)
}

pub fn msync(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm.msync(a[0], a[1], a[2] as i32).map(|_| 0)
}

/// The page-aligned range [a0, a0 + a1) covers, checked to be mapped (ENOMEM otherwise).
fn lock_range(t: &Task, addr: u64, len: u64) -> Result<(u64, u64), Errno> {
    let start = crate::mm::page_down(addr);
    let len = page_up(len.saturating_add(addr - start)).ok_or(Errno::ENOMEM)?;
    t.mm.msync(start, len, 0)?;
    Ok((start, len))
}

/// Whether the caller may lock memory at all, and how many bytes (Linux's can_do_mlock and
/// RLIMIT_MEMLOCK; CAP_IPC_LOCK lifts both).
fn lock_limit(t: &Task) -> Result<u64, Errno> {
    if t.creds.has_cap(caps::Capability::CAP_IPC_LOCK) {
        return Ok(u64::MAX);
    }
    match t.rlimit(libc::RLIMIT_MEMLOCK).rlim_cur {
        0 => Err(Errno::EPERM),
        limit => Ok(limit),
    }
}

/// mlock, mlock2 (`a[2]`: MLOCK_ONFAULT or 0): the range's pages are faulted in now (not with
/// MLOCK_ONFAULT); the sandbox's memory is never swapped out by the sentry. Linux's checks,
/// except that a range is measured against RLIMIT_MEMLOCK alone (what is already locked is
/// not counted).
fn lock_pages(t: &mut Task, a: [u64; 6], flags: u64) -> SysResult {
    let limit = lock_limit(t)?;
    // Past the limit or with holes: ENOMEM either way.
    let (start, len) = lock_range(t, a[0], a[1])?;
    if len > limit {
        return Err(Errno::ENOMEM);
    }
    if flags & libc::MLOCK_ONFAULT as u64 == 0 {
        t.mm.populate_range(start, start + len);
    }
    Ok(0)
}

pub fn mlock(t: &mut Task, a: [u64; 6]) -> SysResult {
    lock_pages(t, a, 0)
}

pub fn mlock2(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[2] & !(libc::MLOCK_ONFAULT as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    lock_pages(t, a, a[2])
}

/// munlock: the range must be mapped.
pub fn munlock(t: &mut Task, a: [u64; 6]) -> SysResult {
    lock_range(t, a[0], a[1]).map(|_| 0)
}

/// mlockall: MCL_CURRENT faults in every accessible page now (unless MCL_ONFAULT), within
/// RLIMIT_MEMLOCK; MCL_FUTURE is accepted and kept by nothing (later mappings fault in as
/// they are used).
pub fn mlockall(t: &mut Task, a: [u64; 6]) -> SysResult {
    let flags = a[0] as i32;
    let known = libc::MCL_CURRENT | libc::MCL_FUTURE | libc::MCL_ONFAULT;
    if flags == 0 || flags & !known != 0 || flags == libc::MCL_ONFAULT {
        return Err(Errno::EINVAL);
    }
    let limit = lock_limit(t)?;
    if flags & libc::MCL_CURRENT != 0 {
        if t.mm.total_mapped() > limit {
            return Err(Errno::ENOMEM);
        }
        if flags & libc::MCL_ONFAULT == 0 {
            t.mm.populate_range(0, u64::MAX);
        }
    }
    Ok(0)
}

pub fn munlockall(_t: &mut Task, _a: [u64; 6]) -> SysResult {
    Ok(0)
}

/// process_vm_readv (`write` false) and process_vm_writev: copy between the caller's iovecs
/// and process `pid`'s memory, in order, a page at most at a time, until a fault on either
/// side (which ends the copy: the bytes so far, EFAULT if none). The remote mappings'
/// protections hold. Linux's checks: flags must be 0, at most IOV_MAX iovecs (EINVAL), the
/// process must exist (ESRCH) and pass ptrace's access check (EPERM).
fn process_vm(t: &mut Task, a: [u64; 6], write: bool) -> SysResult {
    if a[5] != 0 {
        return Err(Errno::EINVAL);
    }
    let remote = super::rw::iovecs(t, a[3], a[4])?;
    let local = super::rw::iovecs(t, a[1], a[2])?;
    if local.iter().all(|&(_, len)| len == 0) {
        return Ok(0);
    }
    let target =
        t.k.tasks()
            .threads
            .get(&(a[0] as i32))
            .cloned()
            .ok_or(Errno::ESRCH)?;
    if !super::process::may_attach(t, &target.tg) {
        return Err(Errno::EPERM);
    }
    let rmm = target.tg.lock().view.mm.upgrade().ok_or(Errno::ESRCH)?;
    let mut buf = vec![0u8; PAGE_SIZE as usize];
    let (mut done, mut faulted) = (0usize, false);
    let (mut li, mut loff) = (0usize, 0usize);
    'copy: for &(raddr, rlen) in &remote {
        let mut roff = 0;
        while roff < rlen {
            while li < local.len() && loff == local[li].1 {
                (li, loff) = (li + 1, 0);
            }
            let Some(&(laddr, llen)) = local.get(li) else {
                break 'copy;
            };
            let (ra, la) = (
                raddr.wrapping_add(roff as u64),
                laddr.wrapping_add(loff as u64),
            );
            let in_page = |x: u64| (PAGE_SIZE - x % PAGE_SIZE) as usize;
            let n = (rlen - roff)
                .min(llen - loff)
                .min(in_page(ra))
                .min(in_page(la));
            let chunk = &mut buf[..n];
            let moved = if write {
                t.mm.read_bytes(la, chunk)
                    .and_then(|()| rmm.write_bytes(ra, chunk))
            } else {
                rmm.read_bytes(ra, chunk)
                    .and_then(|()| t.mm.write_bytes(la, chunk))
            };
            if moved.is_err() {
                faulted = true;
                break 'copy;
            }
            done += n;
            roff += n;
            loff += n;
        }
    }
    if done == 0 && faulted {
        return Err(Errno::EFAULT);
    }
    Ok(done as u64)
}

pub fn process_vm_readv(t: &mut Task, a: [u64; 6]) -> SysResult {
    process_vm(t, a, false)
}

pub fn process_vm_writev(t: &mut Task, a: [u64; 6]) -> SysResult {
    process_vm(t, a, true)
}
