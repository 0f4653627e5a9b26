//! Host file descriptors the sandbox was given as its standard input, output and error.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use crate::errno::Errno;
use crate::mm::MemoryManager;
use crate::vfs::{FileOps, Stat};

pub struct HostFile {
    fd: OwnedFd,
    dev: u64,
}

impl HostFile {
    /// Wrap a host fd (a duplicate of one of the sandbox launcher's stdio descriptors).
    pub fn new(fd: OwnedFd) -> Arc<HostFile> {
        Arc::new(HostFile {
            fd,
            dev: super::new_dev(),
        })
    }
}

impl FileOps for HostFile {
    fn read(&self, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        loop {
            match nix::unistd::read(self.fd.as_raw_fd(), buf) {
                Err(nix::errno::Errno::EINTR) => continue,
                r => return Ok(r?),
            }
        }
    }

    fn write(&self, buf: &[u8], _: u64) -> Result<usize, Errno> {
        loop {
            match nix::unistd::write(&self.fd, buf) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(nix::errno::Errno::EPIPE) => return Err(Errno::EPIPE),
                r => return Ok(r?),
            }
        }
    }

    fn seekable(&self) -> bool {
        false
    }

    fn readiness(&self) -> u32 {
        let mut p = [nix::poll::PollFd::new(
            std::os::fd::AsFd::as_fd(&self.fd),
            nix::poll::PollFlags::POLLIN | nix::poll::PollFlags::POLLOUT,
        )];
        match nix::poll::poll(&mut p, nix::poll::PollTimeout::ZERO) {
            Ok(_) => p[0].revents().map(|r| r.bits() as u32).unwrap_or(0),
            Err(_) => libc::POLLERR as u32,
        }
    }

    fn host_pollable(&self) -> bool {
        true
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let st = nix::sys::stat::fstat(self.fd.as_raw_fd())?;
        let ftype = st.st_mode & libc::S_IFMT;
        // Report the file type and permissions, not host identities.
        Ok(Stat {
            dev: self.dev,
            ino: 1,
            mode: ftype | (st.st_mode & 0o7777),
            nlink: 1,
            uid: st.st_uid,
            gid: st.st_gid,
            rdev: if ftype == libc::S_IFCHR {
                st.st_rdev
            } else {
                0
            },
            size: if ftype == libc::S_IFREG {
                st.st_size as u64
            } else {
                0
            },
            blksize: 4096,
            atime: (st.st_atime, st.st_atime_nsec),
            mtime: (st.st_mtime, st.st_mtime_nsec),
            ctime: (st.st_ctime, st.st_ctime_nsec),
            ..Default::default()
        })
    }

    fn ioctl(&self, mm: &MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
        match req {
            r if r == libc::TCGETS => {
                let t = platform::host::termios(self.fd.as_raw_fd()).map_err(|_| Errno::ENOTTY)?;
                mm.write_bytes(arg, &t)?;
                Ok(0)
            }
            r if r == libc::TIOCGWINSZ => {
                let ws = platform::host::winsize(self.fd.as_raw_fd()).map_err(|_| Errno::ENOTTY)?;
                mm.copy_out(arg, &ws)?;
                Ok(0)
            }
            r if r == libc::FIONREAD => {
                let n = platform::host::fionread(self.fd.as_raw_fd()).map_err(Errno::from)?;
                mm.copy_out(arg, &n)?;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }
}
