//! Pseudo-terminals: `/dev/ptmx` makes a master/slave pair, devpts (on `/dev/pts`) names the
//! slaves, and a line discipline sits between them, as Linux's n_tty:
//!
//! - input (written to the master): ICRNL/INLCR/IGNCR/ISTRIP; with ISIG, ^C, ^\ and ^Z send
//!   SIGINT, SIGQUIT and SIGTSTP to the foreground process group (flushing input unless
//!   NOFLSH); with ICANON, lines are edited (ERASE, KILL, WERASE, LNEXT) and handed to
//!   readers whole, EOF (^D) ending a line or making a read return 0, EOL and EOL2 ending one
//!   with themselves; echo (ECHO, ECHOE, ECHOK, ECHOKE, ECHONL, ECHOCTL) goes to the master's
//!   output; without ICANON, reads wait as VMIN and VTIME say;
//! - output (written to the slave): OPOST with ONLCR turns "\n" into "\r\n";
//! - termios, window size (a change sends SIGWINCH to the foreground group), the controlling
//!   session and its foreground group, locking (`TIOCSPTLCK`) and the pty number
//!   (`TIOCGPTN`).
//!
//! - job control: a process of the terminal's session outside its foreground group that
//!   reads gets SIGTTIN, and one that writes with TOSTOP or changes the terminal gets SIGTTOU
//!   (EIO instead when its group is orphaned or, for reads, when it ignores the signal).
//!
//! Not done: packet mode, flow control (IXON), REPRINT (^R); VTIME's inter-byte timer with
//! VMIN > 0 starts only if bytes were there when the read began to wait, and a non-blocking
//! read with fewer than VMIN bytes there answers EAGAIN where Linux returns them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::synth::{attr, dir_file, dt};
use crate::errno::Errno;
use crate::kernel::signal::{self, SigInfo};
use crate::kernel::wait::WaitQueue;
use crate::kernel::Kernel;
use crate::mm::MemoryManager;
use crate::vfs::{DirEntry, FileOps, Inode, Stat};

const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;
/// Bytes buffered each way before writers wait (Linux's n_tty buffer is 4 KiB; a line may be
/// as long).
const BUF_MAX: usize = 65536;
const SI_KERNEL: i32 = 0x80;

/// The kernel's `struct termios` (TCGETS/TCSETS), 36 bytes.
#[derive(Clone, Copy, Debug)]
struct Termios {
    iflag: u32,
    oflag: u32,
    cflag: u32,
    lflag: u32,
    line: u8,
    cc: [u8; 19],
}

impl Termios {
    /// Linux's tty_std_termios.
    fn standard() -> Termios {
        Termios {
            iflag: libc::ICRNL | libc::IXON,
            oflag: libc::OPOST | libc::ONLCR,
            cflag: libc::B38400 | libc::CS8 | libc::CREAD | libc::HUPCL,
            lflag: libc::ISIG
                | libc::ICANON
                | libc::ECHO
                | libc::ECHOE
                | libc::ECHOK
                | libc::ECHOCTL
                | libc::ECHOKE
                | libc::IEXTEN,
            line: 0,
            cc: *b"\x03\x1c\x7f\x15\x04\x00\x01\x00\x11\x13\x1a\x00\x12\x0f\x17\x16\x00\x00\x00",
        }
    }

    fn to_bytes(self) -> [u8; 36] {
        let mut b = [0u8; 36];
        for (i, v) in [self.iflag, self.oflag, self.cflag, self.lflag]
            .iter()
            .enumerate()
        {
            b[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        b[16] = self.line;
        b[17..36].copy_from_slice(&self.cc);
        b
    }

    fn from_bytes(b: &[u8; 36]) -> Termios {
        let w = |i: usize| u32::from_le_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
        let mut cc = [0u8; 19];
        cc.copy_from_slice(&b[17..36]);
        Termios {
            iflag: w(0),
            oflag: w(1),
            cflag: w(2),
            lflag: w(3),
            line: b[16],
            cc,
        }
    }

    fn l(&self, f: u32) -> bool {
        self.lflag & f != 0
    }

    fn i(&self, f: u32) -> bool {
        self.iflag & f != 0
    }
}

struct State {
    termios: Termios,
    winsize: libc::winsize,
    locked: bool,
    /// Input ready for the slave: whole lines in canonical mode (an empty one is an EOF),
    /// runs of bytes otherwise.
    input: VecDeque<Vec<u8>>,
    /// The line being edited (canonical mode).
    line: Vec<u8>,
    /// The last byte was LNEXT (^V): the next one is data, whatever it is.
    lnext: bool,
    /// Output for the master.
    output: VecDeque<u8>,
    master_open: bool,
    slaves: usize,
    slave_ever_opened: bool,
    /// The session this is the controlling terminal of, and its foreground process group.
    session: Option<i32>,
    pgrp: i32,
}

pub struct Terminal {
    index: u32,
    st: Mutex<State>,
    queue: WaitQueue,
    fs: Arc<DevPts>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    fn input_len(&self) -> usize {
        self.queued() + self.line.len()
    }

    /// Input bytes a reader may take (the line being edited is not yet theirs).
    fn queued(&self) -> usize {
        self.input.iter().map(Vec::len).sum()
    }

    /// Move input into `buf`: what is left of the first line only (`one_line`, canonical
    /// mode), or as many runs as fit; the count moved.
    fn take(&mut self, buf: &mut [u8], one_line: bool) -> usize {
        let mut n = 0;
        while let Some(run) = self.input.front_mut() {
            let k = run.len().min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&run[..k]);
            run.drain(..k);
            if run.is_empty() {
                self.input.pop_front();
            }
            n += k;
            if one_line || n == buf.len() {
                break;
            }
        }
        n
    }

    /// Echo `c` to the output as the termios asks (control characters as ^X with ECHOCTL).
    fn echo(&mut self, c: u8) {
        let t = self.termios;
        if c == b'\n' {
            if t.l(libc::ECHO) || (t.l(libc::ECHONL) && t.l(libc::ICANON)) {
                self.put_output(b"\n");
            }
            return;
        }
        if !t.l(libc::ECHO) {
            return;
        }
        if t.l(libc::ECHOCTL) && (c < 0x20 && c != b'\t' || c == 0x7f) {
            self.put_output(&[b'^', c ^ 0x40]);
        } else {
            self.put_output(&[c]);
        }
    }

    /// Bytes for the master, with output processing.
    fn put_output(&mut self, bytes: &[u8]) {
        let t = self.termios;
        for &b in bytes {
            if t.oflag & libc::OPOST != 0 && t.oflag & libc::ONLCR != 0 && b == b'\n' {
                self.output.push_back(b'\r');
            }
            self.output.push_back(b);
        }
    }

    /// Erase the last character of the line being edited, echoing the erasure.
    fn erase(&mut self) -> bool {
        let Some(c) = self.line.pop() else {
            return false;
        };
        if self.termios.l(libc::ECHO) && self.termios.l(libc::ECHOE) {
            let width = if self.termios.l(libc::ECHOCTL) && (c < 0x20 || c == 0x7f) {
                2
            } else {
                1
            };
            for _ in 0..width {
                self.output.extend(b"\x08 \x08");
            }
        }
        true
    }

    /// Input processing of one byte written to the master; a signal to send is returned.
    fn receive(&mut self, mut c: u8) -> Option<i32> {
        let t = self.termios;
        if t.i(libc::ISTRIP) {
            c &= 0x7f;
        }
        if std::mem::take(&mut self.lnext) {
            self.line.push(c);
            self.echo(c);
            return None;
        }
        if c == b'\r' {
            if t.i(libc::IGNCR) {
                return None;
            }
            if t.i(libc::ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && t.i(libc::INLCR) {
            c = b'\r';
        }
        let cc = |i: usize| t.cc[i];
        if t.l(libc::ISIG) {
            let sig = if c == cc(libc::VINTR) && c != 0 {
                Some(libc::SIGINT)
            } else if c == cc(libc::VQUIT) && c != 0 {
                Some(libc::SIGQUIT)
            } else if c == cc(libc::VSUSP) && c != 0 {
                Some(libc::SIGTSTP)
            } else {
                None
            };
            if let Some(s) = sig {
                if !t.l(libc::NOFLSH) {
                    self.input.clear();
                    self.line.clear();
                }
                self.echo(c);
                return Some(s);
            }
        }
        if !t.l(libc::ICANON) {
            match self.input.back_mut() {
                Some(run) if run.len() < 4096 => run.push(c),
                _ => self.input.push_back(vec![c]),
            }
            self.echo(c);
            return None;
        }
        if c == cc(libc::VERASE) && c != 0 {
            self.erase();
        } else if c == cc(libc::VWERASE) && c != 0 && t.l(libc::IEXTEN) {
            while self.line.last().is_some_and(|b| *b == b' ') {
                self.erase();
            }
            while self.line.last().is_some_and(|b| *b != b' ') {
                self.erase();
            }
        } else if c == cc(libc::VLNEXT) && c != 0 && t.l(libc::IEXTEN) {
            self.lnext = true;
            if t.l(libc::ECHO) && t.l(libc::ECHOCTL) {
                // "^" and a backspace: the next character is echoed over it.
                self.put_output(b"^\x08");
            }
        } else if c == cc(libc::VKILL) && c != 0 {
            if t.l(libc::ECHOK) && !t.l(libc::ECHOKE) {
                self.line.clear();
                self.echo(c);
                self.put_output(b"\n");
            } else {
                while self.erase() {}
            }
        } else if c == cc(libc::VEOF) && c != 0 {
            // Ends the line without itself; on an empty line, a read returns 0.
            let line = std::mem::take(&mut self.line);
            self.input.push_back(line);
        } else if c == b'\n'
            || (c == cc(libc::VEOL) && c != 0)
            || (c == cc(libc::VEOL2) && c != 0 && t.l(libc::IEXTEN))
        {
            self.echo(c);
            let mut line = std::mem::take(&mut self.line);
            line.push(c);
            self.input.push_back(line);
        } else {
            self.line.push(c);
            self.echo(c);
        }
        None
    }
}

impl Terminal {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.st)
    }

    /// Send `sig` to the foreground process group.
    fn signal_foreground(&self, sig: i32) {
        let pgrp = self.lock().pgrp;
        self.signal_pgrp(pgrp, sig);
    }

    /// Send `sig` to process `pid`, if it lives.
    fn signal_process(&self, pid: i32, sig: i32) {
        let Some(k) = self.fs.k.upgrade() else {
            return;
        };
        let g = k.tasks().groups.get(&pid).cloned();
        if let Some(g) = g.filter(|g| g.lock().zombie.is_none()) {
            k.signal_group(&g, SigInfo::new(sig, SI_KERNEL));
        }
    }

    /// Send `sig` to every process of group `pgrp`.
    fn signal_pgrp(&self, pgrp: i32, sig: i32) {
        let Some(k) = self.fs.k.upgrade() else {
            return;
        };
        if pgrp <= 0 {
            return;
        }
        let groups: Vec<_> = k
            .tasks()
            .groups
            .values()
            .filter(|g| g.pgid() == pgrp && g.lock().zombie.is_none())
            .cloned()
            .collect();
        for g in groups {
            k.signal_group(&g, SigInfo::new(sig, SI_KERNEL));
        }
    }

    fn stat(&self, master: bool) -> Stat {
        let (major, minor) = if master {
            (5, 2)
        } else {
            (136 + self.index / 256, self.index % 256)
        };
        let mut s = attr(
            self.fs.dev,
            if master { 2 } else { 3 + self.index as u64 },
            libc::S_IFCHR | if master { 0o666 } else { 0o620 },
            makedev(major as u64, minor as u64),
        );
        s.blksize = 1024;
        s
    }

    /// Job control (Linux's __tty_check_change): a process whose controlling terminal this
    /// is, outside the foreground group, that reads (`sig` SIGTTIN) or writes with TOSTOP or
    /// changes the terminal (SIGTTOU). If it ignores or blocks the signal, a read is EIO and
    /// the rest goes ahead; if its group is orphaned, EIO; otherwise the group gets the
    /// signal and the call is restarted after it (ERESTARTSYS).
    fn job_control(&self, sig: i32) -> Result<(), Errno> {
        let (session, fg) = {
            let st = self.lock();
            (st.session, st.pgrp)
        };
        let Some(session) = session else {
            return Ok(());
        };
        let Some(k) = self.fs.k.upgrade() else {
            return Ok(());
        };
        let (tgid, tid) = super::proc::current_task();
        let (tg, thread) = {
            let tasks = k.tasks();
            (
                tasks.groups.get(&tgid).cloned(),
                tasks.threads.get(&tid).cloned(),
            )
        };
        let Some(tg) = tg else {
            return Ok(());
        };
        let pgid = tg.pgid();
        if tg.sid() != session || fg <= 0 || pgid == fg {
            return Ok(());
        }
        let blocked = thread.is_some_and(|h| h.lock().mask & signal::bit(sig) != 0);
        if blocked || tg.action(sig).handler == signal::SIG_IGN {
            return if sig == libc::SIGTTIN {
                Err(Errno::EIO)
            } else {
                Ok(())
            };
        }
        if k.pgrp_orphaned(pgid, None) {
            return Err(Errno::EIO);
        }
        self.signal_pgrp(pgid, sig);
        Err(Errno::ERESTARTSYS)
    }

    /// ioctls both ends answer.
    fn ioctl(&self, mm: &MemoryManager, req: u64, arg: u64, master: bool) -> Result<u64, Errno> {
        match req {
            libc::TCGETS => {
                let t = self.lock().termios;
                mm.write_bytes(arg, &t.to_bytes())?;
                Ok(0)
            }
            libc::TCSETS | libc::TCSETSW | libc::TCSETSF => {
                let mut b = [0u8; 36];
                mm.read_bytes(arg, &mut b)?;
                self.job_control(libc::SIGTTOU)?;
                let mut st = self.lock();
                let was_canon = st.termios.l(libc::ICANON);
                st.termios = Termios::from_bytes(&b);
                if req == libc::TCSETSF {
                    st.input.clear();
                    st.line.clear();
                }
                // Leaving canonical mode hands the partial line to readers.
                if was_canon && !st.termios.l(libc::ICANON) && !st.line.is_empty() {
                    let line = std::mem::take(&mut st.line);
                    st.input.push_back(line);
                }
                drop(st);
                self.queue.notify_all();
                Ok(0)
            }
            libc::TIOCGWINSZ => {
                let w = self.lock().winsize;
                mm.copy_out(arg, &w)?;
                Ok(0)
            }
            libc::TIOCSWINSZ => {
                let w: libc::winsize = mm.copy_in(arg)?;
                let changed = {
                    let mut st = self.lock();
                    let old = st.winsize;
                    st.winsize = w;
                    (old.ws_row, old.ws_col, old.ws_xpixel, old.ws_ypixel)
                        != (w.ws_row, w.ws_col, w.ws_xpixel, w.ws_ypixel)
                };
                if changed {
                    self.signal_foreground(libc::SIGWINCH);
                }
                Ok(0)
            }
            libc::FIONREAD => {
                let st = self.lock();
                let n = if master { st.output.len() } else { st.queued() };
                mm.copy_out(arg, &(n.min(i32::MAX as usize) as i32))?;
                Ok(0)
            }
            // A pty's writes go straight into the other end's buffer (Linux's
            // pty_chars_in_buffer is 0): nothing is ever queued for output on this side.
            libc::TIOCOUTQ => {
                mm.copy_out(arg, &0i32)?;
                Ok(0)
            }
            libc::TCFLSH => {
                self.job_control(libc::SIGTTOU)?;
                let mut st = self.lock();
                match arg as i32 {
                    libc::TCIFLUSH => {
                        st.input.clear();
                        st.line.clear();
                    }
                    libc::TCOFLUSH => st.output.clear(),
                    libc::TCIOFLUSH => {
                        st.input.clear();
                        st.line.clear();
                        st.output.clear();
                    }
                    _ => return Err(Errno::EINVAL),
                }
                drop(st);
                self.queue.notify_all();
                Ok(0)
            }
            // Flow control and draining: output is never held back here.
            libc::TCXONC => self.job_control(libc::SIGTTOU).map(|()| 0),
            libc::TCSBRK | libc::TCSBRKP => Ok(0),
            libc::TIOCGPGRP => {
                let (session, pgrp) = {
                    let st = self.lock();
                    (st.session, st.pgrp)
                };
                if !master && session != Some(self.caller_sid()?) {
                    return Err(Errno::ENOTTY);
                }
                mm.copy_out(arg, &pgrp)?;
                Ok(0)
            }
            libc::TIOCSPGRP => {
                let pgrp: i32 = mm.copy_in(arg)?;
                if pgrp < 0 {
                    return Err(Errno::EINVAL);
                }
                let sid = self.caller_sid()?;
                if self.lock().session != Some(sid) {
                    return Err(Errno::ENOTTY);
                }
                match self.job_control(libc::SIGTTOU) {
                    Err(Errno::EIO) => return Err(Errno::ENOTTY),
                    r => r?,
                }
                let k = self.fs.k.upgrade().ok_or(Errno::EIO)?;
                let exists = k
                    .tasks()
                    .groups
                    .values()
                    .any(|g| g.pgid() == pgrp && g.sid() == sid);
                if !exists {
                    return Err(Errno::EPERM);
                }
                self.lock().pgrp = pgrp;
                Ok(0)
            }
            libc::TIOCGSID => {
                let sid = self.lock().session.ok_or(Errno::ENOTTY)?;
                mm.copy_out(arg, &sid)?;
                Ok(0)
            }
            libc::TIOCSCTTY => {
                // The caller must lead a session without a controlling terminal.
                let (tgid, sid, pgid) = self.caller()?;
                if tgid != sid {
                    return Err(Errno::EPERM);
                }
                let mut st = self.lock();
                match st.session {
                    Some(s) if s == sid => return Ok(0),
                    Some(_) if arg != 1 => return Err(Errno::EPERM),
                    _ => {}
                }
                st.session = Some(sid);
                st.pgrp = pgid;
                Ok(0)
            }
            libc::TIOCNOTTY => {
                let sid = self.caller_sid()?;
                let mut st = self.lock();
                if st.session != Some(sid) {
                    return Err(Errno::ENOTTY);
                }
                st.session = None;
                st.pgrp = 0;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    /// (tgid, sid, pgid) of the calling process.
    fn caller(&self) -> Result<(i32, i32, i32), Errno> {
        let (tgid, _) = super::proc::current_task();
        let k = self.fs.k.upgrade().ok_or(Errno::EIO)?;
        let tg = k.tasks().groups.get(&tgid).cloned().ok_or(Errno::ESRCH)?;
        Ok((tgid, tg.sid(), tg.pgid()))
    }

    fn caller_sid(&self) -> Result<i32, Errno> {
        Ok(self.caller()?.1)
    }
}

fn makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

/// The master end.
struct Master(Arc<Terminal>);

impl Drop for Master {
    fn drop(&mut self) {
        let t = &self.0;
        // Hangup (Linux's tty_vhangup of the slave): the session loses its controlling
        // terminal and its leader gets SIGHUP and SIGCONT; readers wake to EOF.
        let session = {
            let mut st = t.lock();
            st.master_open = false;
            st.session.take()
        };
        if let Some(sid) = session {
            t.signal_process(sid, libc::SIGHUP);
            t.signal_process(sid, libc::SIGCONT);
        }
        t.queue.notify_all();
        lock(&t.fs.terminals).remove(&t.index);
    }
}

impl FileOps for Master {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        let mut st = self.0.lock();
        if st.output.is_empty() {
            return if st.slave_ever_opened && st.slaves == 0 {
                Err(Errno::EIO)
            } else {
                Err(Errno::EAGAIN)
            };
        }
        let n = buf.len().min(st.output.len());
        for (i, b) in st.output.drain(..n).enumerate() {
            buf[i] = b;
        }
        drop(st);
        self.0.queue.notify_all();
        Ok(n)
    }

    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        let mut signals = Vec::new();
        let n = {
            let mut st = self.0.lock();
            let room = BUF_MAX.saturating_sub(st.input_len());
            if room == 0 {
                return Err(Errno::EAGAIN);
            }
            let n = buf.len().min(room);
            for &c in &buf[..n] {
                if let Some(s) = st.receive(c) {
                    signals.push(s);
                }
            }
            n
        };
        self.0.queue.notify_all();
        for s in signals {
            self.0.signal_foreground(s);
        }
        Ok(n)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0.stat(true))
    }

    fn ioctl(&self, mm: &MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
        match req {
            libc::TIOCGPTN => {
                mm.copy_out(arg, &self.0.index)?;
                Ok(0)
            }
            libc::TIOCSPTLCK => {
                let v: i32 = mm.copy_in(arg)?;
                self.0.lock().locked = v != 0;
                Ok(0)
            }
            libc::TIOCGPTLCK => {
                let v = self.0.lock().locked as i32;
                mm.copy_out(arg, &v)?;
                Ok(0)
            }
            _ => self.0.ioctl(mm, req, arg, true),
        }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.0.queue)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn readiness(&self) -> u32 {
        let st = self.0.lock();
        let mut r = 0;
        if !st.output.is_empty() {
            r |= libc::POLLIN;
        }
        if st.input_len() < BUF_MAX {
            r |= libc::POLLOUT;
        }
        if st.slave_ever_opened && st.slaves == 0 {
            r |= libc::POLLHUP;
        }
        r as u32
    }
}

/// A slave end.
struct Slave(Arc<Terminal>);

impl Drop for Slave {
    fn drop(&mut self) {
        self.0.lock().slaves -= 1;
        self.0.queue.notify_all();
    }
}

impl Slave {
    /// Whether the master has gone: the slave is hung up (Linux's hung_up_tty_fops).
    fn hung_up(&self) -> bool {
        !self.0.lock().master_open
    }
}

impl FileOps for Slave {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        if self.hung_up() {
            return Ok(0);
        }
        self.0.job_control(libc::SIGTTIN)?;
        let mut st = self.0.lock();
        let t = st.termios;
        if t.l(libc::ICANON) {
            if st.input.is_empty() {
                return if st.master_open {
                    Err(Errno::EAGAIN)
                } else {
                    Ok(0) // hung up
                };
            }
            let n = st.take(buf, true);
            drop(st);
            self.0.queue.notify_all();
            return Ok(n);
        }
        // Non-canonical: wait for VMIN bytes (at least one, at most the buffer), or with
        // VMIN 0 for VTIME tenths of a second; VMIN and VTIME both 0 never wait.
        let (vmin, vtime) = (t.cc[libc::VMIN] as usize, t.cc[libc::VTIME]);
        let want = vmin.max(1).min(buf.len());
        let avail = st.queued();
        let enough = avail >= want
            || !st.master_open
            || (vmin == 0 && vtime == 0)
            || (avail > 0 && crate::vfs::io_timed_out());
        if !enough {
            return if vmin == 0 && crate::vfs::io_timed_out() {
                Ok(0)
            } else {
                Err(Errno::EAGAIN)
            };
        }
        let n = st.take(buf, false);
        drop(st);
        self.0.queue.notify_all();
        Ok(n)
    }

    fn io_timeout(&self, write: bool) -> Option<std::time::Duration> {
        let st = self.0.lock();
        let t = st.termios;
        let (vmin, vtime) = (t.cc[libc::VMIN], t.cc[libc::VTIME]);
        // VTIME times the whole read with VMIN 0, and the gap after bytes came otherwise.
        let timed =
            !write && !t.l(libc::ICANON) && vtime > 0 && (vmin == 0 || !st.input.is_empty());
        timed.then(|| std::time::Duration::from_millis(100 * vtime as u64))
    }

    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        if self.hung_up() {
            return Err(Errno::EIO);
        }
        if self.0.lock().termios.l(libc::TOSTOP) {
            self.0.job_control(libc::SIGTTOU)?;
        }
        let mut st = self.0.lock();
        if !st.master_open {
            return Err(Errno::EIO);
        }
        let room = BUF_MAX.saturating_sub(st.output.len());
        if room == 0 {
            return Err(Errno::EAGAIN);
        }
        let n = buf.len().min(room);
        st.put_output(&buf[..n]);
        drop(st);
        self.0.queue.notify_all();
        Ok(n)
    }

    fn seekable(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0.stat(false))
    }

    fn ioctl(&self, mm: &MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
        if self.hung_up() {
            return Err(if req == libc::TIOCSPGRP {
                Errno::ENOTTY
            } else {
                Errno::EIO
            });
        }
        if req == libc::TIOCGPTN {
            return Err(Errno::ENOTTY);
        }
        self.0.ioctl(mm, req, arg, false)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.0.queue)
    }

    fn readiness(&self) -> u32 {
        let st = self.0.lock();
        if !st.master_open {
            return (libc::POLLIN
                | libc::POLLOUT
                | libc::POLLERR
                | libc::POLLHUP
                | libc::POLLRDNORM
                | libc::POLLWRNORM) as u32;
        }
        let mut r = 0;
        let t = st.termios;
        // Linux's input_available_p for poll: VMIN bytes when VTIME is 0, else one.
        let need = if !t.l(libc::ICANON) && t.cc[libc::VTIME] == 0 {
            (t.cc[libc::VMIN] as usize).max(1)
        } else {
            1
        };
        let avail = if t.l(libc::ICANON) {
            st.input.len()
        } else {
            st.queued()
        };
        if avail >= need {
            r |= libc::POLLIN;
        }
        if !st.master_open {
            r |= libc::POLLHUP | libc::POLLIN;
        } else if st.output.len() < BUF_MAX {
            r |= libc::POLLOUT;
        }
        r as u32
    }
}

/// devpts: `ptmx` and one node per open pty.
pub struct DevPts {
    k: Weak<Kernel>,
    dev: u64,
    terminals: Mutex<BTreeMap<u32, Weak<Terminal>>>,
    me: Weak<DevPts>,
}

/// The sandbox's devpts, for /dev/tty.
static DEVPTS: std::sync::OnceLock<Weak<DevPts>> = std::sync::OnceLock::new();

/// open("/dev/tty"): the calling process's controlling terminal (ENXIO without one).
pub fn open_controlling() -> Result<Arc<dyn FileOps>, Errno> {
    let fs = DEVPTS.get().and_then(Weak::upgrade).ok_or(Errno::ENXIO)?;
    let k = fs.k.upgrade().ok_or(Errno::ENXIO)?;
    let (tgid, _) = super::proc::current_task();
    let sid = k
        .tasks()
        .groups
        .get(&tgid)
        .map(|g| g.sid())
        .ok_or(Errno::ENXIO)?;
    let terms: Vec<Arc<Terminal>> = lock(&fs.terminals)
        .values()
        .filter_map(Weak::upgrade)
        .collect();
    let t = terms
        .into_iter()
        .find(|t| t.lock().session == Some(sid))
        .ok_or(Errno::ENXIO)?;
    {
        let mut st = t.lock();
        st.slaves += 1;
        st.slave_ever_opened = true;
    }
    Ok(Arc::new(Slave(t)))
}

impl DevPts {
    pub fn new(k: Weak<Kernel>) -> Arc<DevPts> {
        let fs = Arc::new_cyclic(|me| DevPts {
            k,
            dev: super::new_dev(),
            terminals: Mutex::new(BTreeMap::new()),
            me: me.clone(),
        });
        let _ = DEVPTS.set(Arc::downgrade(&fs));
        fs
    }

    /// A new pair: the master's file ops (the slave is opened through its node).
    fn open_master(&self) -> Result<Arc<dyn FileOps>, Errno> {
        Ok(Arc::new(Master(self.new_terminal()?)))
    }

    fn new_terminal(&self) -> Result<Arc<Terminal>, Errno> {
        let fs = self.me.upgrade().ok_or(Errno::EIO)?;
        let mut terms = lock(&self.terminals);
        let index = (0..u32::MAX)
            .find(|i| terms.get(i).and_then(Weak::upgrade).is_none())
            .ok_or(Errno::ENOSPC)?;
        let term = Arc::new(Terminal {
            index,
            st: Mutex::new(State {
                termios: Termios::standard(),
                winsize: libc::winsize {
                    ws_row: 0,
                    ws_col: 0,
                    ws_xpixel: 0,
                    ws_ypixel: 0,
                },
                locked: true,
                input: VecDeque::new(),
                line: Vec::new(),
                lnext: false,
                output: VecDeque::new(),
                master_open: true,
                slaves: 0,
                slave_ever_opened: false,
                session: None,
                pgrp: 0,
            }),
            queue: WaitQueue::default(),
            fs,
        });
        terms.insert(index, Arc::downgrade(&term));
        Ok(term)
    }

    fn terminal(&self, index: u32) -> Option<Arc<Terminal>> {
        lock(&self.terminals).get(&index).and_then(Weak::upgrade)
    }
}

/// TIOCGPTPEER: the slave of the pty whose master is `master`, opened with `flags` (EIO while
/// locked), and its number; ENOTTY for any other file.
pub fn open_peer(master: &dyn FileOps, flags: u32) -> Result<(u32, Arc<dyn FileOps>), Errno> {
    let m = master
        .as_any()
        .and_then(|a| a.downcast_ref::<Master>())
        .ok_or(Errno::ENOTTY)?;
    let t = m.0.clone();
    Ok((t.index, SlaveNode(t).open(flags)?))
}

/// `ptmx` in devpts (and what /dev/ptmx links to).
struct Ptmx(Arc<DevPts>);

impl Inode for Ptmx {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(attr(self.0.dev, 2, libc::S_IFCHR | 0o666, makedev(5, 2)))
    }
    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        self.0.open_master()
    }
    fn statfs(&self) -> Result<crate::mm::pod::StatFs, Errno> {
        Ok(super::synthetic_statfs(DEVPTS_SUPER_MAGIC))
    }
}

/// A slave node, /dev/pts/N.
struct SlaveNode(Arc<Terminal>);

impl Inode for SlaveNode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0.stat(false))
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let t = &self.0;
        {
            let mut st = t.lock();
            if st.locked || !st.master_open {
                return Err(Errno::EIO);
            }
            st.slaves += 1;
            st.slave_ever_opened = true;
        }
        // A session leader without a controlling terminal acquires this one on open.
        if flags & libc::O_NOCTTY as u32 == 0 {
            if let Ok((tgid, sid, pgid)) = t.caller() {
                let mut st = t.lock();
                if tgid == sid && st.session.is_none() {
                    st.session = Some(sid);
                    st.pgrp = pgid;
                }
            }
        }
        Ok(Arc::new(Slave(t.clone())))
    }
    fn statfs(&self) -> Result<crate::mm::pod::StatFs, Errno> {
        Ok(super::synthetic_statfs(DEVPTS_SUPER_MAGIC))
    }
}

/// The devpts root directory.
pub struct DevPtsRoot(pub Arc<DevPts>);

impl Inode for DevPtsRoot {
    fn stat(&self) -> Result<Stat, Errno> {
        let mut s = attr(self.0.dev, 1, libc::S_IFDIR | 0o755, 0);
        s.nlink = 2;
        Ok(s)
    }
    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if name == b"ptmx" {
            return Ok(Arc::new(Ptmx(self.0.clone())));
        }
        let index: u32 = std::str::from_utf8(name)
            .ok()
            .filter(|s| !s.starts_with('0') || s.len() == 1)
            .and_then(|s| s.parse().ok())
            .ok_or(Errno::ENOENT)?;
        let t = self.0.terminal(index).ok_or(Errno::ENOENT)?;
        Ok(Arc::new(SlaveNode(t)))
    }
    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        Ok(dir_file(self.stat()?))
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut v = vec![DirEntry {
            ino: 2,
            kind: dt(libc::S_IFCHR),
            name: b"ptmx".to_vec(),
        }];
        let terms = lock(&self.0.terminals);
        v.extend(
            terms
                .iter()
                .filter(|(_, w)| w.strong_count() > 0)
                .map(|(i, _)| DirEntry {
                    ino: 3 + *i as u64,
                    kind: dt(libc::S_IFCHR),
                    name: i.to_string().into_bytes(),
                }),
        );
        Ok(v)
    }
    fn statfs(&self) -> Result<crate::mm::pod::StatFs, Errno> {
        Ok(super::synthetic_statfs(DEVPTS_SUPER_MAGIC))
    }
    fn cacheable(&self) -> bool {
        false
    }
}

/// The terminal of a process started from outside with a terminal (a container's
/// `terminal: true`): a pty of the sandbox's devpts whose master is relayed to a host
/// terminal (kept raw, so that the line discipline is the sandbox's), and whose slave is the
/// controlling terminal of the process's session.
pub struct Console {
    master: Master,
}

impl Console {
    /// A new pty for session `sid` (also its foreground group), unlocked, with the window
    /// size `ws`; the console and the slave's file.
    pub fn new(sid: i32, ws: libc::winsize) -> Result<(Arc<Console>, Arc<dyn FileOps>), Errno> {
        let fs = DEVPTS.get().and_then(Weak::upgrade).ok_or(Errno::ENXIO)?;
        let term = fs.new_terminal()?;
        {
            let mut st = term.lock();
            st.locked = false;
            st.winsize = ws;
            st.session = Some(sid);
            st.pgrp = sid;
            st.slaves += 1;
            st.slave_ever_opened = true;
        }
        let slave: Arc<dyn FileOps> = Arc::new(Slave(term.clone()));
        Ok((
            Arc::new(Console {
                master: Master(term),
            }),
            slave,
        ))
    }

    /// A new window size (the host terminal's): SIGWINCH to the foreground group if it
    /// changed.
    pub fn resize(&self, w: libc::winsize) {
        let t = &self.master.0;
        let changed = {
            let mut st = t.lock();
            let old = st.winsize;
            st.winsize = w;
            (old.ws_row, old.ws_col) != (w.ws_row, w.ws_col)
        };
        if changed {
            t.signal_foreground(libc::SIGWINCH);
        }
    }

    /// Copy between the host terminal `host` and the master, both ways, on two threads,
    /// until either side hangs up.
    pub fn relay(self: &Arc<Self>, host: std::os::fd::OwnedFd) -> Result<(), Errno> {
        let host = Arc::new(std::fs::File::from(host));
        let (me, h) = (self.clone(), host.clone());
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map(|_| ())
                .map_err(|_| Errno::EAGAIN)
        };
        spawn(
            "console-in",
            Box::new(move || {
                let mut buf = [0u8; 4096];
                loop {
                    let n = match std::io::Read::read(&mut &*h, &mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let mut done = 0;
                    while done < n {
                        match me.wait_for(|m| m.write(&buf[done..n], 0)) {
                            Ok(k) => done += k,
                            Err(_) => return,
                        }
                    }
                }
            }),
        )?;
        let me = self.clone();
        spawn(
            "console-out",
            Box::new(move || {
                let mut buf = [0u8; 4096];
                loop {
                    let n = match me.wait_for(|m| m.read(&mut buf, 0)) {
                        Ok(n) => n,
                        Err(_) => return,
                    };
                    if std::io::Write::write_all(&mut &*host, &buf[..n]).is_err() {
                        return;
                    }
                }
            }),
        )
    }

    /// Retry `op` on the master until it does not answer EAGAIN.
    fn wait_for<T>(&self, mut op: impl FnMut(&Master) -> Result<T, Errno>) -> Result<T, Errno> {
        let w = crate::kernel::wait::Waiter::new();
        let q = &self.master.0.queue;
        q.add(&w);
        let r = loop {
            let gen = w.generation();
            match op(&self.master) {
                Err(Errno::EAGAIN) => {
                    w.wait(gen, None);
                }
                r => break r,
            }
        };
        q.remove(&w);
        r
    }
}
