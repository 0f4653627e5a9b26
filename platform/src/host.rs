//! Safe wrappers for the few host operations the sentry makes on file descriptors it was given
//! (donated by the gofer or inherited as stdio), never on paths.

use std::os::fd::RawFd;

/// Window size of a host terminal (`TIOCGWINSZ`).
pub fn winsize(fd: RawFd) -> std::io::Result<libc::winsize> {
    // SAFETY: winsize is plain data; TIOCGWINSZ writes one winsize to the pointer.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(ws)
    }
}

/// The kernel's `struct termios` of a host terminal (`TCGETS`), 36 bytes.
pub fn termios(fd: RawFd) -> std::io::Result<[u8; 36]> {
    let mut t = [0u8; 60];
    // SAFETY: TCGETS writes a kernel struct termios (36 bytes) into a buffer of 60 bytes.
    if unsafe { libc::ioctl(fd, libc::TCGETS, t.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut out = [0u8; 36];
    out.copy_from_slice(&t[..36]);
    Ok(out)
}

/// Bytes readable without blocking (`FIONREAD`).
pub fn fionread(fd: RawFd) -> std::io::Result<i32> {
    let mut n: i32 = 0;
    // SAFETY: FIONREAD writes one int.
    if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(n)
}

/// Random bytes from the host kernel's CSPRNG.
pub fn getrandom(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: writes at most len - done bytes into buf[done..].
        let n = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if n > 0 {
            done += n as usize;
        }
    }
}

/// Read the time stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no memory effects; it is allowed in user mode on Linux.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// CPUID leaf 1 EDX: what Linux passes as AT_HWCAP on x86-64.
pub fn hwcap() -> u64 {
    core::arch::x86_64::__cpuid(1).edx as u64
}

/// CPUID leaf `leaf`, subleaf `sub`: (eax, ebx, ecx, edx).
pub fn cpuid(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// Give up every capability, for good: the bounding and ambient sets are emptied, then the
/// effective, permitted and inheritable sets of the calling thread (threads it creates later
/// inherit them), and `no_new_privs` is set so no exec can regain any.
pub fn drop_capabilities() -> std::io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    for cap in 0..64 {
        // SAFETY: PR_CAPBSET_DROP takes a capability number; EINVAL past the last one.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } != 0 {
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINVAL) => break,
                // Without CAP_SETPCAP (an unprivileged caller) the set cannot shrink, but
                // then the thread has no capability to lose either.
                Some(libc::EPERM) => break,
                _ => return Err(e),
            }
        }
    }
    // SAFETY: plain prctl on the calling thread.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
    }
    let mut header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset reads one header and two data structs (version 3) from the pointers.
    if unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: plain prctl on the calling thread.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
