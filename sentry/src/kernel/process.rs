//! Thread groups (processes): parenthood, exit and zombies, signals to processes, clone and
//! wait.

use std::sync::{Arc, Mutex, MutexGuard};

use super::signal::{self, bit, Pending, SigAction, SigInfo, SigSet};
use super::task::{ExitStatus, TaskHandle};
use super::wait::WaitQueue;
use super::Kernel;

pub type SigHand = Arc<Mutex<[SigAction; 64]>>;

/// A process: its threads, children, signal dispositions and exit state.
pub struct ThreadGroup {
    pub tgid: i32,
    /// A CPU-time interval timer is armed (the task loop then charges time to it).
    pub cpu_itimers_armed: std::sync::atomic::AtomicBool,
    state: Mutex<TgState>,
    /// Announces changes of this process's children (exit, stop, continue) to wait4.
    pub child_events: WaitQueue,
}

pub struct TgState {
    pub parent: Option<Arc<ThreadGroup>>,
    /// The thread of `parent` that created this process (Linux's real_parent): its exit sends
    /// PR_SET_PDEATHSIG signals.
    pub parent_tid: i32,
    pub children: Vec<Arc<ThreadGroup>>,
    pub threads: Vec<Arc<TaskHandle>>,
    pub pending: Pending,
    pub sighand: SigHand,
    /// Set by exit_group or a fatal signal: every thread exits with it.
    pub group_exit: Option<ExitStatus>,
    /// All threads are gone: waiting to be reaped, with this status.
    pub zombie: Option<ExitStatus>,
    /// Signal sent to the parent on exit (SIGCHLD, or the low byte of clone's flags).
    pub exit_signal: i32,
    pub pgid: i32,
    pub sid: i32,
    pub uid: u32,
    /// Stopped by a stop signal; `stop_report` is the signal for WUNTRACED until reported.
    pub stopped: bool,
    pub stop_report: Option<i32>,
    pub cont_report: bool,
    pub subreaper: bool,
    /// Has called execve (setpgid on a child that has is EACCES).
    pub execed: bool,
    /// The ITIMER_REAL timer (setitimer, alarm).
    pub itimer_real: Option<u64>,
    /// The program it runs (/proc/<pid>/exe).
    pub exe: Option<Arc<crate::vfs::Dentry>>,
    /// POSIX timers (timer_create), by id.
    pub posix_timers: std::collections::HashMap<i32, PosixTimer>,
    /// ITIMER_VIRTUAL and ITIMER_PROF: (time left, interval) in CPU nanoseconds, and the
    /// tick that keeps CPU time accounted while either is armed.
    pub cpu_itimers: [Option<(u64, u64)>; 2],
    pub cpu_tick: Option<u64>,
    /// What /proc shows of the process (its leader's address space, files, fs context and
    /// name), kept by clone and execve.
    pub view: ProcView,
    /// Resource limits (per process, as Linux's signal_struct).
    pub rlimits: [libc::rlimit; super::task::RLIMIT_COUNT],
    /// CPU time (user, system ns) of threads that have exited.
    pub dead_threads_cpu: (u64, u64),
    /// CPU time of children (and their descendants) reaped by wait.
    pub children_cpu: (u64, u64),
    /// /proc/<pid>/oom_score_adj, and the lowest value it may go back to without
    /// CAP_SYS_RESOURCE (Linux's oom_score_adj_min). Inherited by children.
    pub oom_score_adj: (i16, i16),
}

impl TgState {
    /// CPU time (user, system ns) of the process: its live and exited threads.
    pub fn cpu(&self) -> (u64, u64) {
        self.threads
            .iter()
            .fold(self.dead_threads_cpu, |(u, s), t| {
                let (tu, ts) = t.cpu.get();
                (u + tu, s + ts)
            })
    }

    /// The process's CPU time and its reaped children's (RUSAGE_BOTH).
    pub fn cpu_with_children(&self) -> (u64, u64) {
        let (u, s) = self.cpu();
        (u + self.children_cpu.0, s + self.children_cpu.1)
    }
}

/// A process as /proc sees it.
#[derive(Default, Clone)]
pub struct ProcView {
    pub mm: std::sync::Weak<crate::mm::MemoryManager>,
    pub fds: std::sync::Weak<crate::vfs::FdTable>,
    pub fs: std::sync::Weak<Mutex<crate::vfs::FsContext>>,
    pub comm: Vec<u8>,
}

/// A POSIX timer: whom it signals and, when armed, its kernel timer.
pub struct PosixTimer {
    pub target: Option<super::timer::Target>,
    pub info: SigInfo,
    pub armed: Option<u64>,
    pub interval: Option<std::time::Duration>,
    pub clock: libc::clockid_t,
    /// si_overrun of its last signal delivered (timer_getoverrun).
    pub overrun_last: i32,
}

impl ThreadGroup {
    pub fn new(
        tgid: i32,
        // The parent process and its thread that creates this one.
        (parent, parent_tid): (Option<Arc<ThreadGroup>>, i32),
        sighand: SigHand,
        pgid: i32,
        sid: i32,
        uid: u32,
        exit_signal: i32,
    ) -> Arc<ThreadGroup> {
        Arc::new(ThreadGroup {
            tgid,
            cpu_itimers_armed: std::sync::atomic::AtomicBool::new(false),
            state: Mutex::new(TgState {
                parent,
                parent_tid,
                children: Vec::new(),
                threads: Vec::new(),
                pending: Pending::default(),
                sighand,
                group_exit: None,
                zombie: None,
                exit_signal,
                pgid,
                sid,
                uid,
                stopped: false,
                stop_report: None,
                cont_report: false,
                subreaper: false,
                execed: false,
                itimer_real: None,
                exe: None,
                posix_timers: std::collections::HashMap::new(),
                view: ProcView::default(),
                cpu_itimers: [None, None],
                cpu_tick: None,
                rlimits: super::task::default_rlimits(),
                dead_threads_cpu: (0, 0),
                children_cpu: (0, 0),
                oom_score_adj: (0, 0),
            }),
            child_events: WaitQueue::default(),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, TgState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// CPU time (user, system ns) of the process: its live and exited threads.
    pub fn cpu(&self) -> (u64, u64) {
        self.lock().cpu()
    }

    /// Charge CPU time to the armed ITIMER_VIRTUAL (user time) and ITIMER_PROF (user and
    /// system time); the signals of those that expire (SIGVTALRM, SIGPROF).
    pub fn charge_cpu_itimers(&self, user: u64, sys: u64) -> Vec<i32> {
        let mut st = self.lock();
        let mut fired = Vec::new();
        for (i, (sig, used)) in [(libc::SIGVTALRM, user), (libc::SIGPROF, user + sys)]
            .into_iter()
            .enumerate()
        {
            if let Some((left, interval)) = st.cpu_itimers[i] {
                if used < left {
                    st.cpu_itimers[i] = Some((left - used, interval));
                } else {
                    fired.push(sig);
                    st.cpu_itimers[i] = (interval > 0).then_some((interval, interval));
                }
            }
        }
        fired
    }

    pub fn parent_tgid(&self) -> i32 {
        self.lock().parent.as_ref().map(|p| p.tgid).unwrap_or(0)
    }

    pub fn action(&self, sig: i32) -> SigAction {
        let h = self.lock().sighand.clone();
        let a = h.lock().unwrap_or_else(|e| e.into_inner());
        a.get((sig - 1) as usize).copied().unwrap_or_default()
    }

    pub fn set_action(&self, sig: i32, act: SigAction) {
        let h = self.lock().sighand.clone();
        let mut a = h.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = a.get_mut((sig - 1) as usize) {
            *slot = act;
        }
    }

    pub fn sighand(&self) -> SigHand {
        self.lock().sighand.clone()
    }

    pub fn pending_set(&self) -> SigSet {
        self.lock().pending.set
    }

    pub fn take_pending(&self, blocked: SigSet) -> Option<SigInfo> {
        self.lock().pending.take(blocked)
    }

    pub fn group_exit_status(&self) -> Option<ExitStatus> {
        self.lock().group_exit
    }

    pub fn is_stopped(&self) -> bool {
        self.lock().stopped
    }

    pub fn pgid(&self) -> i32 {
        self.lock().pgid
    }

    pub fn sid(&self) -> i32 {
        self.lock().sid
    }

    pub fn threads(&self) -> Vec<Arc<TaskHandle>> {
        self.lock().threads.clone()
    }
}

impl Kernel {
    /// Send a signal to one thread.
    pub fn signal_thread(&self, h: &Arc<TaskHandle>, info: SigInfo) {
        let sig = info.signo();
        if self.prepare_signal(&h.tg, sig, false) {
            return;
        }
        if sig == libc::SIGKILL {
            self.group_exit(&h.tg, ExitStatus::Signaled(libc::SIGKILL, false));
            return;
        }
        h.lock().pending.push(info);
        h.kick();
    }

    /// Send a signal to a process: queued on the group, one thread that does not block it is
    /// woken to take it.
    pub fn signal_group(&self, tg: &Arc<ThreadGroup>, info: SigInfo) {
        self.send_group(tg, info, false)
    }

    /// `signal_group`; `from_host`: sent from outside the sandbox, so that SIGKILL and
    /// SIGSTOP reach even a protected init (Linux's signals from an ancestor pid namespace).
    pub(super) fn send_group(&self, tg: &Arc<ThreadGroup>, info: SigInfo, from_host: bool) {
        let sig = info.signo();
        if self.prepare_signal(tg, sig, from_host) {
            return;
        }
        if sig == libc::SIGKILL {
            self.group_exit(tg, ExitStatus::Signaled(libc::SIGKILL, false));
            return;
        }
        let threads = {
            let mut st = tg.lock();
            st.pending.push(info);
            st.threads.clone()
        };
        let target = threads
            .iter()
            .find(|t| t.lock().mask & bit(sig) == 0)
            .or(threads.first());
        if let Some(t) = target {
            t.kick();
        }
    }

    /// What happens at send time: SIGCONT resumes a stopped group and discards pending stop
    /// signals; stop signals discard a pending SIGCONT; signals that would be ignored are
    /// dropped (unless blocked), and so are those a protected init has no handler for
    /// (Linux's SIGNAL_UNKILLABLE). True if the signal needs no delivery.
    fn prepare_signal(&self, tg: &Arc<ThreadGroup>, sig: i32, from_host: bool) -> bool {
        let stops =
            bit(libc::SIGSTOP) | bit(libc::SIGTSTP) | bit(libc::SIGTTIN) | bit(libc::SIGTTOU);
        if tg.lock().zombie.is_some() {
            return true;
        }
        if self.init_unkillable
            && tg.tgid == 1
            && tg.action(sig).handler == signal::SIG_DFL
            && !(from_host && (sig == libc::SIGKILL || sig == libc::SIGSTOP))
            // Blocked signals are queued (a handler may be installed before they are
            // unblocked, or sigwait takes them).
            && (sig == libc::SIGKILL
                || sig == libc::SIGSTOP
                || tg.threads().iter().any(|t| t.lock().mask & bit(sig) == 0))
        {
            return true;
        }
        if sig == libc::SIGCONT {
            let (was_stopped, threads) = {
                let mut st = tg.lock();
                st.pending.discard(stops);
                let was = st.stopped;
                st.stopped = false;
                if was {
                    st.cont_report = true;
                    st.stop_report = None;
                }
                (was, st.threads.clone())
            };
            for t in &threads {
                t.lock().pending.discard(stops);
                t.kick();
            }
            if was_stopped {
                self.notify_parent(tg, signal::CLD_CONTINUED, libc::SIGCONT);
            }
        } else if stops & bit(sig) != 0 {
            let threads = {
                let mut st = tg.lock();
                st.pending.discard(bit(libc::SIGCONT));
                st.threads.clone()
            };
            for t in &threads {
                t.lock().pending.discard(bit(libc::SIGCONT));
            }
        }
        let act = tg.action(sig);
        if signal::ignored(sig, &act) {
            // Blocked ignored signals stay pending (sigpending shows them); others vanish.
            let blocked_everywhere = tg.threads().iter().all(|t| t.lock().mask & bit(sig) != 0);
            return !blocked_everywhere;
        }
        false
    }

    /// Make every thread of `tg` exit with `status` (the first status wins).
    pub fn group_exit(&self, tg: &Arc<ThreadGroup>, status: ExitStatus) {
        let threads = {
            let mut st = tg.lock();
            if st.group_exit.is_none() {
                st.group_exit = Some(status);
            }
            st.stopped = false;
            st.threads.clone()
        };
        for t in threads {
            t.request_exit();
        }
    }

    /// Stop the group (SIGSTOP & co) and tell the parent.
    pub fn group_stop(&self, tg: &Arc<ThreadGroup>, sig: i32) {
        {
            let mut st = tg.lock();
            if st.stopped || st.group_exit.is_some() {
                return;
            }
            st.stopped = true;
            st.stop_report = Some(sig);
            st.cont_report = false;
        }
        self.notify_parent(tg, signal::CLD_STOPPED, sig);
    }

    /// Tell `tg`'s parent about a stop or continue: SIGCHLD unless SA_NOCLDSTOP, and wake wait4.
    fn notify_parent(&self, tg: &Arc<ThreadGroup>, code: i32, status: i32) {
        let (parent, uid) = {
            let st = tg.lock();
            (st.parent.clone(), st.uid)
        };
        if let Some(p) = parent {
            let act = p.action(libc::SIGCHLD);
            if act.flags & libc::SA_NOCLDSTOP as u64 == 0 {
                self.signal_group(&p, SigInfo::child(tg.tgid, uid, code, status));
            }
            p.child_events.notify_all();
        }
    }

    /// A thread has finished. The last thread of a group makes it a zombie (or reaps it at once
    /// if the parent does not want to wait), hands its children to init, and signals the
    /// parent. When init's group ends, the sandbox ends.
    /// Whether process group `pgid` is orphaned: no live member has a live parent in another
    /// group of the same session (POSIX; Linux's will_become_orphaned_pgrp), not counting
    /// the process `ignoring` (one that is exiting).
    pub fn pgrp_orphaned(&self, pgid: i32, ignoring: Option<i32>) -> bool {
        let groups: Vec<Arc<ThreadGroup>> = self.tasks().groups.values().cloned().collect();
        for g in groups {
            let (parent, gpgid, gsid, dead) = {
                let st = g.lock();
                (st.parent.clone(), st.pgid, st.sid, st.zombie.is_some())
            };
            if gpgid != pgid || dead || Some(g.tgid) == ignoring {
                continue;
            }
            let Some(p) = parent else { continue };
            if Some(p.tgid) == ignoring {
                continue;
            }
            let st = p.lock();
            if st.zombie.is_none() && st.pgid != pgid && st.sid == gsid {
                return false;
            }
        }
        true
    }

    /// A process group newly orphaned with stopped members gets SIGHUP then SIGCONT, so
    /// that nothing stays stopped with no one left to continue it (POSIX).
    fn kill_orphaned_pgrp(&self, pgid: i32, exiting: i32) {
        if !self.pgrp_orphaned(pgid, Some(exiting)) {
            return;
        }
        let members: Vec<Arc<ThreadGroup>> = self
            .tasks()
            .groups
            .values()
            .filter(|g| g.pgid() == pgid && g.tgid != exiting && g.lock().zombie.is_none())
            .cloned()
            .collect();
        if !members.iter().any(|g| g.is_stopped()) {
            return;
        }
        for sig in [libc::SIGHUP, libc::SIGCONT] {
            for g in &members {
                self.signal_group(g, SigInfo::new(sig, 0x80));
            }
        }
    }

    pub fn thread_exited(&self, h: &Arc<TaskHandle>, status: ExitStatus) {
        let tg = h.tg.clone();
        let (last, pending, others) = {
            let mut st = tg.lock();
            st.threads.retain(|t| t.tid != h.tid);
            let (u, s) = h.cpu.get();
            st.dead_threads_cpu.0 += u;
            st.dead_threads_cpu.1 += s;
            if st.group_exit.is_none() && st.threads.is_empty() {
                st.group_exit = Some(status);
            }
            let pending = st.pending.set;
            let others = if pending != 0 {
                st.threads.clone()
            } else {
                Vec::new()
            };
            (st.threads.is_empty(), pending, others)
        };
        // A process signal sent while we were on our way out may have woken only us: wake
        // the threads that can take one (Linux's retarget_shared_pending).
        for t in others.iter().filter(|t| pending & !t.lock().mask != 0) {
            t.kick();
        }
        if h.tid != tg.tgid {
            self.tasks().threads.remove(&h.tid);
        }
        self.parent_thread_exited(&tg, h);
        if !last {
            return;
        }
        let status = tg.group_exit_status().unwrap_or(status);
        // Process groups this exit orphans: our own (if our parent kept it attached to the
        // session) and our children's.
        let (pgid, sid, parent) = {
            let st = tg.lock();
            (st.pgid, st.sid, st.parent.clone())
        };
        let mut groups = Vec::new();
        if parent.is_some_and(|p| p.pgid() != pgid && p.sid() == sid) {
            groups.push(pgid);
        }
        let kids: Vec<Arc<ThreadGroup>> = tg.lock().children.clone();
        for c in &kids {
            let (cp, cs) = (c.pgid(), c.sid());
            if cp != pgid && cs == sid && !groups.contains(&cp) {
                groups.push(cp);
            }
        }
        for g in groups {
            self.kill_orphaned_pgrp(g, tg.tgid);
        }
        // Orphans go to the nearest subreaper ancestor, else init.
        let children: Vec<Arc<ThreadGroup>> = std::mem::take(&mut tg.lock().children);
        let reaper = self.reaper_for(&tg);
        let mut zombie_moved = false;
        for c in &children {
            let mut st = c.lock();
            st.parent = reaper.clone();
            st.parent_tid = reaper.as_ref().map_or(0, |r| r.tgid);
            drop(st);
            zombie_moved |= c.lock().zombie.is_some();
        }
        if let Some(r) = &reaper {
            r.lock().children.extend(children.iter().cloned());
            if zombie_moved {
                r.child_events.notify_all();
            }
        }
        let (parent, exit_signal, uid) = {
            let st = tg.lock();
            (st.parent.clone(), st.exit_signal, st.uid)
        };
        self.tasks().threads.remove(&tg.tgid);
        match &parent {
            Some(p) => {
                let act = p.action(libc::SIGCHLD);
                let autoreap = exit_signal == libc::SIGCHLD
                    && (act.handler == signal::SIG_IGN
                        || act.flags & libc::SA_NOCLDWAIT as u64 != 0);
                if autoreap {
                    p.lock().children.retain(|c| c.tgid != tg.tgid);
                    self.tasks().groups.remove(&tg.tgid);
                } else {
                    tg.lock().zombie = Some(status);
                    if exit_signal != 0 {
                        let (code, st) = match status {
                            ExitStatus::Exited(c) => (signal::CLD_EXITED, c),
                            ExitStatus::Signaled(s, true) => (signal::CLD_DUMPED, s),
                            ExitStatus::Signaled(s, false) => (signal::CLD_KILLED, s),
                        };
                        // The signal clone asked for (SIGCHLD for fork), with SIGCHLD's info.
                        let mut info = SigInfo::child(tg.tgid, uid, code, st);
                        info.0[0..4].copy_from_slice(&exit_signal.to_le_bytes());
                        self.signal_group(p, info);
                    }
                }
                p.child_events.notify_all();
            }
            None if tg.tgid != 1 => self.orphan_exited(&tg, status),
            None => {
                // The sandbox's init is gone: everything else dies with it.
                tg.lock().zombie = Some(status);
                let others: Vec<Arc<ThreadGroup>> = self.tasks().groups.values().cloned().collect();
                for g in others {
                    if g.tgid != tg.tgid {
                        self.group_exit(&g, ExitStatus::Signaled(libc::SIGKILL, false));
                    }
                }
                self.init_exited(status);
            }
        }
    }

    /// Thread `h` of `tg` is gone: the processes it created pass to another thread of `tg`
    /// (or, with the last one, to the reaper), and those that asked for it get their
    /// PR_SET_PDEATHSIG signal, as Linux's forget_original_parent does.
    fn parent_thread_exited(&self, tg: &Arc<ThreadGroup>, h: &Arc<TaskHandle>) {
        let (children, heir) = {
            let st = tg.lock();
            let kids: Vec<Arc<ThreadGroup>> = st
                .children
                .iter()
                .filter(|c| c.lock().parent_tid == h.tid)
                .cloned()
                .collect();
            (kids, st.threads.first().map(|t| t.tid))
        };
        let uid = h.lock().creds.map_or(0, |c| c.uid);
        for c in children {
            let threads = {
                let mut st = c.lock();
                if let Some(heir) = heir {
                    st.parent_tid = heir;
                }
                st.threads.clone()
            };
            for t in threads {
                let sig = t.lock().pdeath_signal;
                if sig != 0 {
                    let info = SigInfo::from_process(sig, signal::SI_USER, tg.tgid, uid);
                    self.signal_group(&c, info);
                }
            }
        }
    }

    fn reaper_for(&self, tg: &Arc<ThreadGroup>) -> Option<Arc<ThreadGroup>> {
        let mut p = tg.lock().parent.clone();
        while let Some(g) = p {
            let (subreaper, alive) = {
                let st = g.lock();
                (st.subreaper, st.zombie.is_none())
            };
            if subreaper && alive {
                return Some(g);
            }
            p = g.lock().parent.clone();
        }
        self.tasks()
            .groups
            .get(&1)
            .cloned()
            .filter(|g| g.tgid != tg.tgid)
    }
}
