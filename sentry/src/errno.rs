//! `Errno`: the error every syscall handler returns.

/// A Linux errno value. Handlers return `Result<u64, Errno>`; only the dispatcher turns it into
/// `-errno` in `rax`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(pub const $name: Errno = Errno(libc::$name);)*

            pub fn name(self) -> &'static str {
                match self.0 {
                    $(libc::$name => stringify!($name),)*
                    _ => "E?",
                }
            }
        }
    };
}

errnos!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    EIDRM,
    ENOMSG,
    ENOTEMPTY,
    ELOOP,
    ENODATA,
    EOVERFLOW,
    EBADFD,
    ENOTSOCK,
    EOPNOTSUPP,
    ESTALE,
    ETIMEDOUT,
    ECANCELED,
    EOWNERDEAD,
    ECONNREFUSED,
    EDESTADDRREQ,
    ENOTCONN,
    EMSGSIZE,
    EPROTOTYPE,
    EISCONN,
    EADDRINUSE,
    EAFNOSUPPORT,
    ESOCKTNOSUPPORT,
    EPROTONOSUPPORT,
    ENOPROTOOPT,
    ENOBUFS,
    EADDRNOTAVAIL,
    ENETUNREACH,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    ECONNRESET,
    ECONNABORTED,
    ENETDOWN,
);

impl Errno {
    /// Kernel-internal: restart the syscall if no handler runs, or if the handler has
    /// SA_RESTART; else EINTR. Never seen by the application.
    pub const ERESTARTSYS: Errno = Errno(512);
    /// Kernel-internal: always restart.
    pub const ERESTARTNOINTR: Errno = Errno(513);
    /// Kernel-internal: restart if no handler runs, else EINTR.
    pub const ERESTARTNOHAND: Errno = Errno(514);
    /// Kernel-internal: restart through restart_syscall if no handler runs, else EINTR.
    pub const ERESTART_RESTARTBLOCK: Errno = Errno(516);

    pub fn is_restart(self) -> bool {
        matches!(self.0, 512..=516)
    }

    /// Same value as EOPNOTSUPP on Linux.
    pub const ENOTSUP: Errno = Errno(libc::ENOTSUP);
}

impl std::fmt::Debug for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name())
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

impl From<nix::errno::Errno> for Errno {
    fn from(e: nix::errno::Errno) -> Self {
        Errno(e as i32)
    }
}

impl From<gofer::client::ClientError> for Errno {
    fn from(e: gofer::client::ClientError) -> Self {
        Errno(e.errno())
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Self {
        Errno(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

pub type SysResult = Result<u64, Errno>;
