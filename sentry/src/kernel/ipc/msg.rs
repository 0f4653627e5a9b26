//! System V message queues (ipc/msg.c).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{now, Caller, IpcNamespace, IpcObject, Perm};
use crate::errno::Errno;
use crate::kernel::wait::WaitQueue;
use crate::mm::Pod;

/// Limits (Linux's defaults; /proc/sys/kernel/msg*).
pub const MSGMAX: usize = 8192;
pub const MSGMNB: u64 = 16384;
pub const MSGMNI: i32 = 32000;
/// msgrcv: copy the message at index `msgtyp` without removing it (<linux/msg.h>; the libc
/// crate lacks it).
pub const MSG_COPY: i32 = 0o40000;

pub struct Queue {
    id: i32,
    st: Mutex<QueueState>,
    /// Senders waiting for room and receivers waiting for a message.
    pub queue: WaitQueue,
}

pub struct QueueState {
    pub perm: Perm,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    pub msgs: VecDeque<(i64, Vec<u8>)>,
    pub cbytes: u64,
    pub qbytes: u64,
    pub lspid: i32,
    pub lrpid: i32,
    pub removed: bool,
}

impl IpcObject for Queue {
    type Stat = libc::msqid_ds;

    fn id(&self) -> i32 {
        self.id
    }

    fn perm(&self) -> Perm {
        self.lock().perm
    }

    fn stat(&self) -> libc::msqid_ds {
        Queue::stat(self)
    }
}

impl Queue {
    pub fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stat(&self) -> libc::msqid_ds {
        let st = self.lock();
        let mut d: libc::msqid_ds = Pod::zeroed();
        d.msg_perm = st.perm.to_abi(self.id);
        d.msg_stime = st.stime;
        d.msg_rtime = st.rtime;
        d.msg_ctime = st.ctime;
        d.__msg_cbytes = st.cbytes;
        d.msg_qnum = st.msgs.len() as _;
        d.msg_qbytes = st.qbytes as _;
        d.msg_lspid = st.lspid;
        d.msg_lrpid = st.lrpid;
        d
    }
}

/// msgget.
pub fn get(ns: &IpcNamespace, key: i32, flags: i32, c: &Caller<'_>) -> Result<i32, Errno> {
    ns.msg.get(
        key,
        flags,
        |q| q.lock().perm.check(c, (flags & 0o777) as u16),
        |id| {
            Ok(Arc::new(Queue {
                id,
                st: Mutex::new(QueueState {
                    perm: Perm::new(key, flags, c),
                    stime: 0,
                    rtime: 0,
                    ctime: now(),
                    msgs: VecDeque::new(),
                    cbytes: 0,
                    qbytes: MSGMNB,
                    lspid: 0,
                    lrpid: 0,
                    removed: false,
                }),
                queue: WaitQueue::default(),
            }))
        },
    )
}

/// IPC_RMID: blocked senders and receivers fail with EIDRM.
pub fn remove(ns: &IpcNamespace, q: &Queue) {
    {
        let mut st = q.lock();
        st.removed = true;
        st.msgs.clear();
        st.cbytes = 0;
    }
    ns.msg.remove(q.id);
    q.queue.notify_all();
}

/// One attempt of msgsnd: Ok(None) if the queue is full.
pub fn try_send(
    q: &Queue,
    mtype: i64,
    text: &mut Option<Vec<u8>>,
    flags: i32,
    tgid: i32,
) -> Result<Option<()>, Errno> {
    let mut st = q.lock();
    if st.removed {
        return Err(Errno::EIDRM);
    }
    let len = text.as_ref().map_or(0, |t| t.len()) as u64;
    if len + st.cbytes > st.qbytes || st.msgs.len() as u64 + 1 > st.qbytes {
        return if flags & libc::IPC_NOWAIT != 0 {
            Err(Errno::EAGAIN)
        } else {
            Ok(None)
        };
    }
    st.msgs.push_back((mtype, text.take().unwrap_or_default()));
    st.cbytes += len;
    st.lspid = tgid;
    st.stime = now();
    drop(st);
    q.queue.notify_all();
    Ok(Some(()))
}

/// Which message msgrcv takes.
#[derive(Clone, Copy)]
pub enum Select {
    Any,
    Equal(i64),
    NotEqual(i64),
    /// The first of the lowest type at most this.
    LessEqual(i64),
    /// MSG_COPY: the one at this index, left in the queue.
    Index(i64),
}

impl Select {
    /// msgrcv's (msgtyp, flags) as convert_mode reads them.
    pub fn new(msgtyp: i64, flags: i32) -> Select {
        if flags & MSG_COPY != 0 {
            Select::Index(msgtyp)
        } else if msgtyp == 0 {
            Select::Any
        } else if msgtyp < 0 {
            Select::LessEqual(msgtyp.checked_neg().unwrap_or(i64::MAX))
        } else if flags & libc::MSG_EXCEPT != 0 {
            Select::NotEqual(msgtyp)
        } else {
            Select::Equal(msgtyp)
        }
    }

    fn find(self, msgs: &VecDeque<(i64, Vec<u8>)>) -> Option<usize> {
        match self {
            Select::Any => (!msgs.is_empty()).then_some(0),
            Select::Equal(t) => msgs.iter().position(|m| m.0 == t),
            Select::NotEqual(t) => msgs.iter().position(|m| m.0 != t),
            Select::LessEqual(t) => {
                let mut best: Option<usize> = None;
                for (i, m) in msgs.iter().enumerate() {
                    if m.0 <= t && best.is_none_or(|b| m.0 < msgs[b].0) {
                        best = Some(i);
                    }
                }
                best
            }
            Select::Index(i) => usize::try_from(i).ok().filter(|&i| i < msgs.len()),
        }
    }
}

/// One attempt of msgrcv: Ok(None) if no message matches (and the caller may wait).
pub fn try_receive(
    q: &Queue,
    sel: Select,
    bufsz: usize,
    flags: i32,
    tgid: i32,
) -> Result<Option<(i64, Vec<u8>)>, Errno> {
    let mut st = q.lock();
    if st.removed {
        return Err(Errno::EIDRM);
    }
    let Some(i) = sel.find(&st.msgs) else {
        return if flags & libc::IPC_NOWAIT != 0 {
            Err(Errno::ENOMSG)
        } else {
            Ok(None)
        };
    };
    if st.msgs[i].1.len() > bufsz && flags & libc::MSG_NOERROR == 0 {
        return Err(Errno::E2BIG);
    }
    if let Select::Index(_) = sel {
        let (t, text) = &st.msgs[i];
        let mut text = text.clone();
        text.truncate(bufsz);
        return Ok(Some((*t, text)));
    }
    let Some((t, mut text)) = st.msgs.remove(i) else {
        return Ok(None);
    };
    st.cbytes -= text.len() as u64;
    st.lrpid = tgid;
    st.rtime = now();
    drop(st);
    q.queue.notify_all();
    text.truncate(bufsz);
    Ok(Some((t, text)))
}

/// IPC_SET: owner, mode and queue size (raising it above MSGMNB takes CAP_SYS_RESOURCE).
pub fn set(q: &Queue, d: &libc::msqid_ds, c: &Caller<'_>) -> Result<(), Errno> {
    let mut st = q.lock();
    st.perm.check_owner(c)?;
    let qbytes = d.msg_qbytes;
    if qbytes > MSGMNB && !c.creds.has_cap(caps::Capability::CAP_SYS_RESOURCE) {
        return Err(Errno::EPERM);
    }
    st.qbytes = qbytes;
    st.perm.set(&d.msg_perm);
    st.ctime = now();
    drop(st);
    // A larger queue may let blocked senders in.
    q.queue.notify_all();
    Ok(())
}
