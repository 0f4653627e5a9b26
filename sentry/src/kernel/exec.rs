//! execve: replace the process's program.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::signal::flush_handlers;
use super::task::{Task, TaskHandle, ALTSTACK_NONE};
use crate::errno::Errno;
use crate::mm::MemoryManager;

impl Task {
    /// Replace the process's program. On failure the old program is untouched.
    pub fn exec(
        &mut self,
        path: Vec<u8>,
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
    ) -> Result<(), Errno> {
        self.exec_at(None, path, argv, envp)
    }

    /// `exec` with a relative `path` resolved from `dir` instead of the working directory
    /// (execveat).
    pub fn exec_at(
        &mut self,
        dir: Option<Arc<crate::vfs::Dentry>>,
        path: Vec<u8>,
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
    ) -> Result<(), Errno> {
        let k = self.k.clone();
        let mut fs = self.fs();
        if let Some(d) = dir {
            fs.cwd = d;
        }
        // The new comm is the last component of the path as given (a symlink's own name, a
        // script's name), as Linux's bprm->filename.
        let base: Vec<u8> = path
            .rsplit(|&b| b == b'/')
            .next()
            .unwrap_or_default()
            .iter()
            .copied()
            .take(15)
            .collect();
        let args = crate::loader::ExecArgs {
            fs: &fs,
            creds: self.creds,
            path,
            argv,
            envp,
            stack_limit: self
                .rlimit(libc::RLIMIT_STACK)
                .rlim_cur
                .clamp(128 << 10, 1 << 30),
        };
        let make_mm = || {
            let space = k.platform.new_address_space().map_err(|e| {
                tracing::error!("creating an address space: {e}");
                Errno::ENOMEM
            })?;
            // This thread will run the new program: its thread in the address space now, so
            // the loader's mappings go straight to it.
            if let Err(e) = space.prepare_thread() {
                tracing::debug!("preparing a thread in a new address space: {e}");
            }
            Ok(Arc::new(MemoryManager::new(
                k.mf.clone(),
                space,
                k.platform.min_user_address(),
                k.platform.max_user_address(),
            )))
        };
        let (image, mm) = crate::loader::load(make_mm, &k.vdso, args)?;

        // Point of no return. Other threads of the process go first.
        self.kill_other_threads();
        self.become_leader();
        let old = std::mem::replace(&mut self.mm, mm);
        if self.clear_child_tid != 0 && old.copy_out(self.clear_child_tid, &0u32).is_ok() {
            k.futexes.wake(&old, self.clear_child_tid, 1, u32::MAX);
        }
        super::task::leave_address_space(&old);
        drop(old);
        let mut regs = k.platform.initial_regs();
        regs.0.rip = image.entry;
        regs.0.rsp = image.sp;
        self.regs = regs;
        // Loaded on this task's own host thread before it next runs.
        self.initial_fp = Some(platform::FpState::initial());
        // A private descriptor table and handler table; handled signals go back to default.
        if Arc::strong_count(&self.fds) > 1 {
            self.fds = Arc::new(self.fds.duplicate());
        }
        self.fds.close_on_exec();
        let handlers = *self
            .h
            .tg
            .sighand()
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let fresh = flush_handlers(&handlers);
        {
            let mut st = self.h.tg.lock();
            st.sighand = Arc::new(Mutex::new(fresh));
            st.execed = true;
            st.exe = Some(image.exe.clone());
        }
        self.altstack = ALTSTACK_NONE;
        // execve installs new credentials (bprm->cred), equal or not.
        self.creds.renew();
        {
            let mut s = self.h.lock();
            s.creds = Some(self.creds);
            // A 64-bit program does not keep READ_IMPLIES_EXEC (Linux's set_personality_64bit).
            s.personality &= !super::task::READ_IMPLIES_EXEC;
        }
        self.robust_list = (0, 0);
        self.clear_child_tid = 0;
        self.exe = Some(image.exe.clone());
        self.publish_view();
        self.set_comm(if base.is_empty() {
            // execveat(AT_EMPTY_PATH): the file's own name.
            image.exe.name().to_vec()
        } else {
            base
        });
        if let Some(v) = self.vfork_done.take() {
            v.complete();
        }
        Ok(())
    }

    /// A thread other than the leader that execs takes over the leader's id (Linux's
    /// de_thread): afterwards gettid() == getpid().
    fn become_leader(&mut self) {
        if self.tid == self.tgid {
            return;
        }
        let tg = self.h.tg.clone();
        let new_h = TaskHandle::new(self.tgid, tg.clone());
        // seccomp filters survive execve.
        if let Some(mode) = self.h.seccomp() {
            new_h.set_seccomp(mode);
        }
        {
            let old = self.h.lock();
            let mut s = new_h.lock();
            s.mask = old.mask;
            s.creds = old.creds;
            s.sched = old.sched.clone();
            s.personality = old.personality;
            s.pdeath_signal = old.pdeath_signal;
            s.comm = old.comm.clone();
            s.groups = old.groups.clone();
        }
        // Signals pending for this thread stay pending for it.
        while let Some(info) = self.h.lock().pending.take(0) {
            new_h.lock().pending.push(info);
        }
        let (u, sy) = self.h.cpu.get();
        new_h.cpu.add(u, sy);
        {
            let mut tasks = self.k.tasks();
            tasks.threads.remove(&self.tid);
            tasks.threads.insert(self.tgid, new_h.clone());
            let mut st = tg.lock();
            st.threads.retain(|t| t.tid != self.tid);
            st.threads.push(new_h.clone());
            // Processes this thread created now have the leader as their creator.
            for c in &st.children {
                let mut cs = c.lock();
                if cs.parent_tid == self.tid {
                    cs.parent_tid = self.tgid;
                }
            }
        }
        new_h.set_interrupter(self.ctx.interrupter());
        self.h = new_h;
        self.tid = self.tgid;
        crate::fs::proc::set_current(self.tgid, self.tid);
    }

    /// Ask every other thread of the process to exit and wait until they have.
    fn kill_other_threads(&mut self) {
        let others: Vec<_> = self
            .h
            .tg
            .threads()
            .into_iter()
            .filter(|t| t.tid != self.tid)
            .collect();
        if others.is_empty() {
            return;
        }
        for t in &others {
            t.request_exit();
        }
        while self.h.tg.threads().len() > 1 {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}
