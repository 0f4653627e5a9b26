//! clone, fork and vfork: new tasks and processes.

use std::sync::{Arc, Mutex};

use super::process::ThreadGroup;
use super::task::{Task, TaskHandle, VforkDone, ALTSTACK_NONE};
use crate::errno::Errno;
use crate::vfs::FdTable;

/// clone's arguments (clone and clone3 both end up here).
#[derive(Debug, Default, Clone, Copy)]
pub struct CloneArgs {
    pub flags: u64,
    pub exit_signal: i32,
    pub stack: u64,
    pub parent_tid: u64,
    pub child_tid: u64,
    pub tls: u64,
    pub pidfd: u64,
    /// clone3's set_tid: the id the new task must have.
    pub set_tid: Option<i32>,
    /// CLONE_CLEAR_SIGHAND: handled signals start at SIG_DFL in the child.
    pub clear_sighand: bool,
}

const CSIGNAL: u64 = 0xff;

impl Task {
    /// Create a task as clone(2) does; returns the new task's id in the caller's namespace.
    pub fn clone_task(&mut self, a: CloneArgs) -> Result<i32, Errno> {
        // The child starts with a copy of every register.
        self.complete_regs()?;
        let f = a.flags;
        let has = |x: i32| f & x as u64 != 0;
        // Flag combinations Linux refuses.
        if (has(libc::CLONE_THREAD) && !has(libc::CLONE_SIGHAND))
            || (has(libc::CLONE_SIGHAND) && !has(libc::CLONE_VM))
            || (has(libc::CLONE_NEWNS) && has(libc::CLONE_FS))
            || (has(libc::CLONE_PARENT) && self.tgid == 1)
            || (has(libc::CLONE_PIDFD) && has(libc::CLONE_DETACHED))
        {
            return Err(Errno::EINVAL);
        }
        let namespaces = libc::CLONE_NEWNS
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWNET
            | libc::CLONE_NEWUSER
            | libc::CLONE_NEWCGROUP;
        if has(namespaces) {
            // Namespaces inside the sandbox are not supported yet.
            return Err(Errno::EPERM);
        }
        if has(libc::CLONE_THREAD) && has(libc::CLONE_PIDFD) {
            return Err(Errno::EINVAL);
        }
        let k = self.k.clone();
        // RLIMIT_NPROC counts processes of the real uid; root is exempt, as with
        // CAP_SYS_RESOURCE. Every task costs host threads, so the sandbox as a whole has a cap
        // too (Linux's threads-max).
        {
            let tasks = k.tasks();
            if !has(libc::CLONE_THREAD) && self.creds.uid != 0 {
                let limit = self.rlimit(libc::RLIMIT_NPROC).rlim_cur;
                if tasks.count_for_uid(self.creds.uid) as u64 >= limit {
                    return Err(Errno::EAGAIN);
                }
            }
            if tasks.threads.len() >= super::MAX_TASKS {
                return Err(Errno::EAGAIN);
            }
        }
        let mm = if has(libc::CLONE_VM) {
            self.mm.clone()
        } else {
            let space = k.platform.new_address_space().map_err(|e| {
                tracing::error!("creating an address space: {e}");
                Errno::EAGAIN
            })?;
            Arc::new(self.mm.fork(space)?)
        };
        let fds = if has(libc::CLONE_FILES) {
            self.fds.clone()
        } else {
            Arc::new(self.fds.duplicate())
        };
        let fs = if has(libc::CLONE_FS) {
            self.fs.clone()
        } else {
            Arc::new(Mutex::new(self.fs()))
        };
        let fp = self.ctx.fp_state(self.mm.address_space().as_ref()).ok();

        let mut tasks = k.tasks();
        let tid = match a.set_tid {
            Some(id) if tasks.threads.contains_key(&id) || tasks.groups.contains_key(&id) => {
                return Err(Errno::EEXIST);
            }
            Some(id) => id,
            None => tasks.alloc().ok_or(Errno::EAGAIN)?,
        };
        let tg = if has(libc::CLONE_THREAD) {
            self.h.tg.clone()
        } else {
            let (parent, parent_tid) = if has(libc::CLONE_PARENT) {
                let st = self.h.tg.lock();
                (st.parent.clone(), st.parent_tid)
            } else {
                (Some(self.h.tg.clone()), self.tid)
            };
            let sighand = if has(libc::CLONE_SIGHAND) {
                self.h.tg.sighand()
            } else {
                let actions = *self
                    .h
                    .tg
                    .sighand()
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                Arc::new(Mutex::new(if a.clear_sighand {
                    super::signal::flush_handlers(&actions)
                } else {
                    actions
                }))
            };
            let (pgid, sid) = (self.h.tg.pgid(), self.h.tg.sid());
            let exit_signal = if a.exit_signal != 0 {
                a.exit_signal
            } else {
                (f & CSIGNAL) as i32
            };
            let g = ThreadGroup::new(
                tid,
                (parent.clone(), parent_tid),
                sighand,
                pgid,
                sid,
                self.creds.uid,
                exit_signal,
            );
            let (rlimits, oom) = {
                let me = self.h.tg.lock();
                (me.rlimits, me.oom_score_adj)
            };
            {
                let mut st = g.lock();
                st.exe = self.exe.clone();
                st.rlimits = rlimits;
                st.oom_score_adj = oom;
            }
            if let Some(p) = parent {
                p.lock().children.push(g.clone());
            }
            tasks.groups.insert(tid, g.clone());
            g
        };
        let h = TaskHandle::new(tid, tg.clone());
        // seccomp filters are inherited (fork, clone and threads alike).
        if let Some(mode) = self.h.seccomp() {
            h.set_seccomp(mode);
        }
        {
            let mut s = h.lock();
            s.mask = self.mask();
            s.creds = Some(self.creds);
            let me = self.h.lock();
            s.sched = me.sched.clone();
            s.personality = me.personality;
            s.comm = me.comm.clone();
            s.groups = self.groups.clone();
        }
        tasks.threads.insert(tid, h.clone());
        tg.lock().threads.push(h.clone());
        drop(tasks);

        let mut regs = self.regs;
        regs.0.rax = 0;
        if a.stack != 0 {
            regs.0.rsp = a.stack;
        }
        if has(libc::CLONE_SETTLS) {
            if a.tls >= self.mm.max_addr() {
                return Err(Errno::EPERM);
            }
            regs.0.fs_base = a.tls;
        }
        if has(libc::CLONE_PARENT_SETTID) {
            let _ = self.mm.copy_out(a.parent_tid, &tid);
        }
        if has(libc::CLONE_CHILD_SETTID) {
            let _ = mm.copy_out(a.child_tid, &tid);
        }
        if has(libc::CLONE_PIDFD) {
            let fd = crate::fs::pidfd::install(self, tg.clone())?;
            let _ = self.mm.copy_out(a.pidfd, &fd);
        }
        let vfork = if has(libc::CLONE_VFORK) {
            Some(Arc::new(VforkDone::default()))
        } else {
            None
        };
        let child = Task {
            k: k.clone(),
            h,
            tid,
            tgid: tg.tgid,
            mm,
            fds: fds.clone(),
            fs,
            // A new process gets credentials of its own; a thread shares its creator's.
            creds: {
                let mut c = self.creds;
                if !has(libc::CLONE_THREAD) {
                    c.renew();
                }
                c
            },
            groups: self.groups.clone(),
            regs,
            ctx: k.platform.new_context(),
            altstack: if has(libc::CLONE_VM) && !has(libc::CLONE_VFORK) {
                ALTSTACK_NONE
            } else {
                self.altstack
            },
            clear_child_tid: if has(libc::CLONE_CHILD_CLEARTID) {
                a.child_tid
            } else {
                0
            },
            robust_list: (0, 0),
            sem_undo: if has(libc::CLONE_SYSVSEM) {
                self.sem_undo.clone()
            } else {
                super::ipc::sem::UndoList::new(tg.tgid)
            },
            exe: self.exe.clone(),
            exit: None,
            regs_replaced: false,
            restart: None,
            restart_block: None,
            saved_mask: None,
            initial_fp: fp,
            vfork_done: vfork.clone(),
            slept_ns: 0,
        };
        if !has(libc::CLONE_THREAD) {
            child.publish_view();
        }
        if let Err(e) = k.spawn(child) {
            // The task never ran: take it out again.
            k.tasks().threads.remove(&tid);
            tg.lock().threads.retain(|t| t.tid != tid);
            if tg.tgid == tid {
                k.tasks().groups.remove(&tid);
                self.h.tg.lock().children.retain(|c| c.tgid != tid);
            }
            return Err(e);
        }
        if let Some(v) = vfork {
            // The parent sleeps (signals aside: Linux's vfork wait is killable only) until the
            // child execs or exits.
            let w = v.waiter.clone();
            loop {
                let gen = w.generation();
                if *v.done.lock().unwrap_or_else(|e| e.into_inner()) || self.h.lock().exit_requested
                {
                    break;
                }
                w.wait(gen, None);
            }
        }
        Ok(tid)
    }

    /// Walk the robust futex list at thread death: mark each held lock OWNER_DIED and wake a
    /// waiter, as Linux's exit_robust_list does.
    pub fn robust_list_exit(&mut self) {
        use super::futex::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
        let head = self.robust_list.0;
        if head == 0 {
            return;
        }
        let Ok([first, offset, pending]) = self.mm.copy_in::<[u64; 3]>(head) else {
            return;
        };
        let offset = offset as i64;
        // handle_futex_death: if we still own the word, mark the owner dead and let the next
        // waiter in (a PI waiter is handed the lock, with FUTEX_OWNER_DIED set).
        let death = |entry: u64| {
            let addr = (entry & !1).wrapping_add(offset as u64);
            loop {
                let Ok(val) = self.mm.copy_in::<u32>(addr) else {
                    return;
                };
                if val & FUTEX_TID_MASK != self.tid as u32 {
                    return;
                }
                let pi_key = super::futex::key(&self.mm, addr, true)
                    .ok()
                    .filter(|k| self.k.futexes.has_pi_waiters(*k))
                    .or_else(|| {
                        super::futex::key(&self.mm, addr, false)
                            .ok()
                            .filter(|k| self.k.futexes.has_pi_waiters(*k))
                    });
                if let Some(k) = pi_key {
                    let _ = self.k.futexes.unlock_pi(&self.mm, addr, k, None);
                    return;
                }
                let new = (val & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
                match self.mm.cmpxchg_u32(addr, val, new) {
                    Ok(Ok(_)) => {
                        if val & FUTEX_WAITERS != 0 {
                            self.k.futexes.wake(&self.mm, addr, 1, u32::MAX);
                        }
                        return;
                    }
                    Ok(Err(_)) => continue,
                    Err(_) => return,
                }
            }
        };
        let mut entry = first;
        let mut n = 0;
        while entry != head && entry != 0 && n < 2048 {
            let next = self.mm.copy_in::<u64>(entry & !1).unwrap_or(0);
            if entry != pending {
                death(entry);
            }
            entry = next;
            n += 1;
        }
        if pending != 0 {
            death(pending);
        }
    }
}

impl FdTable {
    /// A copy of the table for a new process (same open files, own descriptor slots).
    pub fn duplicate(&self) -> FdTable {
        let t = FdTable::default();
        for fd in self.fds() {
            if let Ok(e) = self.entry(fd) {
                t.install_at(fd, e.file, e.cloexec);
            }
        }
        t
    }
}
