//! System V IPC syscalls: shm*, sem*, msg*. The objects live in `kernel::ipc`.

use std::sync::Arc;
use std::time::Duration;

use platform::{Prot, PAGE_SIZE};

use super::read_timespec;
use crate::errno::{Errno, SysResult};
use crate::kernel::ipc::{self, msg, sem, shm, Caller, Ids, IpcObject};
use crate::kernel::{time, Task};
use crate::mm::{page_up, Backing, MmapOpts, Pod};

// <linux/shm.h>, <linux/sem.h>: commands the libc crate does not define.
const SHM_STAT: i32 = 13;
const SHM_INFO: i32 = 14;
const SHM_STAT_ANY: i32 = 15;
const SHM_EXEC: i32 = 0o100000;
const MSG_STAT_ANY: i32 = 13;
/// `SEMUSZ`, what IPC_INFO reports as semusz.
const SEMUSZ: i32 = 20;

fn caller(t: &Task) -> Caller<'_> {
    Caller {
        creds: &t.creds,
        groups: &t.groups,
        tgid: t.tgid,
    }
}

/// Which object a stat command names: IPC_STAT an id; SHM_STAT & co an index, and the
/// `_ANY` forms skip the read permission check.
#[derive(Clone, Copy, PartialEq)]
enum StatBy {
    Id,
    Index,
    IndexAny,
}

/// IPC_STAT, *_STAT, *_STAT_ANY: copy the object's `*_ds` to `buf`; 0, or the id for the
/// index forms.
fn stat_cmd<T: IpcObject>(t: &Task, ids: &Ids<T>, id: i32, by: StatBy, buf: u64) -> SysResult {
    let obj = if by == StatBy::Id {
        ids.lookup(id)?
    } else {
        ids.at_index(id)?
    };
    if by != StatBy::IndexAny {
        obj.perm().check(&caller(t), 0o444)?;
    }
    t.mm.copy_out(buf, &obj.stat())?;
    Ok(if by == StatBy::Id { 0 } else { obj.id() as u64 })
}

/// IPC_RMID: the owner, creator or CAP_SYS_ADMIN removes object `id` with `remove`.
fn rmid_cmd<T: IpcObject>(
    t: &Task,
    ids: &Ids<T>,
    id: i32,
    remove: impl FnOnce(&Arc<T>),
) -> SysResult {
    let obj = ids.lookup(id)?;
    obj.perm().check_owner(&caller(t))?;
    remove(&obj);
    Ok(0)
}

/// The `*_INFO` commands return the highest index in use (0 when there is none).
fn max_index(i: i32) -> u64 {
    i.max(0) as u64
}

pub fn shmget(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (key, size, flags) = (a[0] as i32, a[1], a[2] as i32);
    let k = t.k.clone();
    shm::get(&k.ipc, &k.mf, key, size, flags, &caller(t)).map(|id| id as u64)
}

pub fn shmat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, mut addr, flags) = (a[0] as i32, a[1], a[2] as i32);
    if addr != 0 {
        if !addr.is_multiple_of(PAGE_SIZE) {
            if flags & libc::SHM_RND == 0 {
                return Err(Errno::EINVAL);
            }
            addr &= !(PAGE_SIZE - 1);
            if addr == 0 && flags & libc::SHM_REMAP != 0 {
                return Err(Errno::EINVAL);
            }
        }
    } else if flags & libc::SHM_REMAP != 0 {
        return Err(Errno::EINVAL);
    }
    let write = flags & libc::SHM_RDONLY == 0;
    let k = t.k.clone();
    let att = shm::attach(&k.ipc, id, write, &caller(t))?;
    let len = page_up(att.segment().size()).ok_or(Errno::ENOMEM)?;
    let prot = Prot {
        read: true,
        write,
        exec: flags & SHM_EXEC != 0,
    };
    let fixed = addr != 0;
    let r = t.mm.mmap(MmapOpts {
        addr,
        len,
        prot,
        max_prot: Prot {
            read: true,
            write,
            exec: true,
        },
        shared: true,
        fixed,
        // Without SHM_REMAP an attach over an existing mapping is EINVAL.
        noreplace: fixed && flags & libc::SHM_REMAP == 0,
        growsdown: false,
        backing: Backing::Object { obj: att, off: 0 },
        populate: false,
    });
    r.map_err(|e| if e == Errno::EEXIST { Errno::EINVAL } else { e })
}

pub fn shmdt(t: &mut Task, a: [u64; 6]) -> SysResult {
    let addr = a[0];
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let vmas = t.mm.vmas();
    let attachment = |v: &crate::mm::Vma| match &v.backing {
        Backing::Object { obj, off } => obj
            .as_any()
            .and_then(|x| x.downcast_ref::<shm::Attachment>())
            .map(|_| (obj.clone(), *off)),
        Backing::Anon => None,
    };
    // The first segment mapping at or above `addr` whose offset in its segment matches its
    // distance from `addr`; then every mapping of that attachment within the segment's size.
    let Some((obj, size)) = vmas.iter().filter(|v| v.start >= addr).find_map(|v| {
        let (obj, off) = attachment(v)?;
        let size = obj
            .as_any()?
            .downcast_ref::<shm::Attachment>()?
            .segment()
            .size();
        (v.start - addr == off).then_some((obj, size))
    }) else {
        return Err(Errno::EINVAL);
    };
    let end = addr.saturating_add(page_up(size).unwrap_or(u64::MAX));
    for v in vmas.iter().filter(|v| v.start >= addr && v.start < end) {
        if attachment(v).is_some_and(|(o, _)| Arc::ptr_eq(&o, &obj)) {
            t.mm.munmap(v.start, v.end.min(end) - v.start)?;
        }
    }
    Ok(0)
}

pub fn shmctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, cmd, buf) = (a[0] as i32, a[1] as i32, a[2]);
    let k = t.k.clone();
    let ns = &k.ipc;
    let c = caller(t);
    match cmd {
        libc::IPC_INFO => {
            t.mm.copy_out(buf, &shm::info())?;
            Ok(max_index(ns.shm.max_index()))
        }
        SHM_INFO => {
            t.mm.copy_out(buf, &shm::usage(ns))?;
            Ok(max_index(ns.shm.max_index()))
        }
        SHM_STAT => stat_cmd(t, &ns.shm, id, StatBy::Index, buf),
        SHM_STAT_ANY => stat_cmd(t, &ns.shm, id, StatBy::IndexAny, buf),
        libc::IPC_STAT => stat_cmd(t, &ns.shm, id, StatBy::Id, buf),
        libc::IPC_SET => {
            let d: libc::shmid_ds = t.mm.copy_in(buf)?;
            let seg = ns.shm.lookup(id)?;
            let mut st = seg.lock();
            st.perm.check_owner(&c)?;
            st.perm.set(&d.shm_perm);
            st.ctime = ipc::now();
            Ok(0)
        }
        libc::IPC_RMID => rmid_cmd(t, &ns.shm, id, |seg| shm::remove(ns, seg)),
        libc::SHM_LOCK | libc::SHM_UNLOCK => {
            let seg = ns.shm.lookup(id)?;
            let memlock = t.rlimit(libc::RLIMIT_MEMLOCK).rlim_cur;
            shm::lock_segment(&seg, cmd == libc::SHM_LOCK, memlock, &caller(t))?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn semget(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (key, nsems, flags) = (a[0] as i32, a[1] as i32, a[2] as i32);
    let k = t.k.clone();
    sem::get(&k.ipc, key, nsems, flags, &caller(t)).map(|id| id as u64)
}

pub fn semop(t: &mut Task, a: [u64; 6]) -> SysResult {
    semtimedop(t, [a[0], a[1], a[2], 0, 0, 0])
}

pub fn semtimedop(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, sops, nsops, timeout) = (a[0] as i32, a[1], a[2] as u32, a[3]);
    if nsops < 1 || id < 0 {
        return Err(Errno::EINVAL);
    }
    if nsops as usize > sem::SEMOPM {
        return Err(Errno::E2BIG);
    }
    let raw =
        t.mm.read_vec(sops, nsops as usize * std::mem::size_of::<libc::sembuf>())?;
    let ops: Vec<sem::SemOp> = raw
        .chunks_exact(std::mem::size_of::<libc::sembuf>())
        .filter_map(libc::sembuf::from_bytes)
        .map(|b| sem::SemOp {
            num: b.sem_num as usize,
            op: b.sem_op as i32,
            flags: b.sem_flg as i32,
        })
        .collect();
    let deadline = if timeout != 0 {
        let ts = read_timespec(t, timeout)?;
        Some(time::after(Duration::new(
            ts.tv_sec as u64,
            ts.tv_nsec as u32,
        )))
    } else {
        None
    };
    let k = t.k.clone();
    let set = k.ipc.sem.lookup(id)?;
    let undo = t.sem_undo.clone();
    let (creds, groups, tgid) = (t.creds, t.groups.clone(), t.tgid);
    let c = Caller {
        creds: &creds,
        groups: &groups,
        tgid,
    };
    let r = sem::semop(&set, &ops, &undo, &c, |q, check| {
        t.block_on(&[q], deadline, |_| check())
    });
    match r {
        // Never restarted, even with SA_RESTART (signal(7)).
        Err(Errno::ERESTARTSYS) => Err(Errno::EINTR),
        Err(Errno::ETIMEDOUT) => Err(Errno::EAGAIN),
        r => r.map(|()| 0),
    }
}

pub fn semctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, num, cmd, arg) = (a[0] as i32, a[1] as i32, a[2] as i32, a[3]);
    let k = t.k.clone();
    let ns = &k.ipc;
    let c = caller(t);
    match cmd {
        libc::IPC_INFO | libc::SEM_INFO => {
            let all = ns.sem.all();
            let mut i = libc::seminfo {
                semmap: sem::SEMMNS,
                semmni: sem::SEMMNI,
                semmns: sem::SEMMNS,
                semmnu: sem::SEMMNS,
                semmsl: sem::SEMMSL,
                semopm: sem::SEMOPM as i32,
                semume: sem::SEMOPM as i32,
                semusz: SEMUSZ,
                semvmx: sem::SEMVMX,
                semaem: sem::SEMAEM,
            };
            if cmd == libc::SEM_INFO {
                // As Linux: the number of sets and of semaphores in them.
                i.semusz = all.len() as i32;
                i.semaem = all.iter().map(|s| s.lock().sems.len() as i32).sum();
            }
            t.mm.copy_out(arg, &i)?;
            return Ok(max_index(ns.sem.max_index()));
        }
        libc::SEM_STAT => return stat_cmd(t, &ns.sem, id, StatBy::Index, arg),
        libc::SEM_STAT_ANY => return stat_cmd(t, &ns.sem, id, StatBy::IndexAny, arg),
        libc::IPC_STAT => return stat_cmd(t, &ns.sem, id, StatBy::Id, arg),
        libc::IPC_RMID => return rmid_cmd(t, &ns.sem, id, |set| sem::remove(ns, set)),
        _ => {}
    }
    let set = ns.sem.lookup(id)?;
    match cmd {
        libc::IPC_SET => {
            let d: libc::semid_ds = t.mm.copy_in(arg)?;
            let mut st = set.lock();
            st.perm.check_owner(&c)?;
            st.perm.set(&d.sem_perm);
            st.ctime = ipc::now();
            Ok(0)
        }

        libc::GETVAL | libc::GETPID | libc::GETNCNT | libc::GETZCNT => {
            let st = set.lock();
            st.perm.check(&c, 0o444)?;
            let n = usize::try_from(num)
                .ok()
                .filter(|&n| n < st.sems.len())
                .ok_or(Errno::EINVAL)?;
            let v = match cmd {
                libc::GETVAL => st.sems[n].val,
                libc::GETPID => st.sems[n].pid,
                libc::GETNCNT => st.waiting_on(n, false),
                _ => st.waiting_on(n, true),
            };
            Ok(v as u64)
        }
        libc::GETALL => {
            let vals: Vec<u8> = {
                let st = set.lock();
                st.perm.check(&c, 0o444)?;
                st.sems
                    .iter()
                    .flat_map(|s| (s.val as u16).to_ne_bytes())
                    .collect()
            };
            t.mm.write_bytes(arg, &vals)?;
            Ok(0)
        }
        libc::SETVAL => {
            let val = arg as i32;
            {
                let mut st = set.lock();
                let n = usize::try_from(num)
                    .ok()
                    .filter(|&n| n < st.sems.len())
                    .ok_or(Errno::EINVAL)?;
                if !(0..=sem::SEMVMX).contains(&val) {
                    return Err(Errno::ERANGE);
                }
                st.perm.check(&c, 0o222)?;
                st.clear_undo(Some(n));
                st.sems[n].val = val;
                st.sems[n].pid = c.tgid;
                st.ctime = ipc::now();
            }
            set.queue.notify_all();
            Ok(0)
        }
        libc::SETALL => {
            let n = set.lock().sems.len();
            let raw = t.mm.read_vec(arg, n * 2)?;
            let vals: Vec<i32> = raw
                .chunks_exact(2)
                .map(|b| u16::from_ne_bytes([b[0], b[1]]) as i32)
                .collect();
            if vals.iter().any(|&v| v > sem::SEMVMX) {
                return Err(Errno::ERANGE);
            }
            {
                let mut st = set.lock();
                st.perm.check(&c, 0o222)?;
                if st.removed {
                    return Err(Errno::EIDRM);
                }
                st.clear_undo(None);
                for (s, v) in st.sems.iter_mut().zip(vals) {
                    s.val = v;
                    s.pid = c.tgid;
                }
                st.ctime = ipc::now();
            }
            set.queue.notify_all();
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn msgget(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (key, flags) = (a[0] as i32, a[1] as i32);
    let k = t.k.clone();
    msg::get(&k.ipc, key, flags, &caller(t)).map(|id| id as u64)
}

pub fn msgsnd(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, msgp, size, flags) = (a[0] as i32, a[1], a[2] as i64, a[3] as i32);
    let mtype: i64 = t.mm.copy_in(msgp)?;
    if size > msg::MSGMAX as i64 || size < 0 || id < 0 || mtype < 1 {
        return Err(Errno::EINVAL);
    }
    let text = t.mm.read_vec(msgp.wrapping_add(8), size as usize)?;
    let k = t.k.clone();
    let q = k.ipc.msg.lookup(id)?;
    q.lock().perm.check(&caller(t), 0o222)?;
    let tgid = t.tgid;
    let mut text = Some(text);
    let r = t.block_on(&[&q.queue], None, |_| {
        msg::try_send(&q, mtype, &mut text, flags, tgid)
    });
    match r {
        // Restarted only when no handler ran (ERESTARTNOHAND, as Linux).
        Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND),
        r => r.map(|()| 0),
    }
}

pub fn msgrcv(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, msgp, size, msgtyp, flags) =
        (a[0] as i32, a[1], a[2] as i64, a[3] as i64, a[4] as i32);
    if size < 0 || id < 0 {
        return Err(Errno::EINVAL);
    }
    if flags & msg::MSG_COPY != 0
        && (flags & libc::MSG_EXCEPT != 0 || flags & libc::IPC_NOWAIT == 0)
    {
        return Err(Errno::EINVAL);
    }
    let k = t.k.clone();
    let q = k.ipc.msg.lookup(id)?;
    q.lock().perm.check(&caller(t), 0o444)?;
    let sel = msg::Select::new(msgtyp, flags);
    let tgid = t.tgid;
    let mut bufsz = usize::try_from(size).unwrap_or(usize::MAX);
    if flags & msg::MSG_COPY != 0 {
        bufsz = bufsz.min(msg::MSGMAX);
    }
    let r = t.block_on(&[&q.queue], None, |_| {
        msg::try_receive(&q, sel, bufsz, flags, tgid)
    });
    let (mtype, text) = match r {
        Err(Errno::ERESTARTSYS) => return Err(Errno::ERESTARTNOHAND),
        r => r?,
    };
    t.mm.copy_out(msgp, &mtype)?;
    t.mm.write_bytes(msgp.wrapping_add(8), &text)?;
    Ok(text.len() as u64)
}

pub fn msgctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (id, cmd, buf) = (a[0] as i32, a[1] as i32, a[2]);
    let k = t.k.clone();
    let ns = &k.ipc;
    let c = caller(t);
    match cmd {
        libc::IPC_INFO | libc::MSG_INFO => {
            // Built from zero: the struct has tail padding that is copied out too.
            let mut i: libc::msginfo = Pod::zeroed();
            i.msgpool = (msg::MSGMNI as i64 * msg::MSGMNB as i64 / 1024) as i32;
            i.msgmap = msg::MSGMNB as i32;
            i.msgmax = msg::MSGMAX as i32;
            i.msgmnb = msg::MSGMNB as i32;
            i.msgmni = msg::MSGMNI;
            i.msgssz = 16;
            i.msgtql = msg::MSGMNB as i32;
            i.msgseg = 0xffff;
            if cmd == libc::MSG_INFO {
                // As Linux: queues in use, messages and bytes queued.
                let all = ns.msg.all();
                i.msgpool = all.len() as i32;
                i.msgmap = all.iter().map(|q| q.lock().msgs.len() as i32).sum();
                i.msgtql = all.iter().map(|q| q.lock().cbytes as i32).sum();
            }
            t.mm.copy_out(buf, &i)?;
            Ok(max_index(ns.msg.max_index()))
        }
        libc::MSG_STAT => stat_cmd(t, &ns.msg, id, StatBy::Index, buf),
        MSG_STAT_ANY => stat_cmd(t, &ns.msg, id, StatBy::IndexAny, buf),
        libc::IPC_STAT => stat_cmd(t, &ns.msg, id, StatBy::Id, buf),
        libc::IPC_SET => {
            let d: libc::msqid_ds = t.mm.copy_in(buf)?;
            let q = ns.msg.lookup(id)?;
            msg::set(&q, &d, &c)?;
            Ok(0)
        }
        libc::IPC_RMID => rmid_cmd(t, &ns.msg, id, |q| msg::remove(ns, q)),
        _ => Err(Errno::EINVAL),
    }
}
