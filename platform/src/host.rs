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

/// `AT_HWCAP2` bits the sandbox reports: HWCAP2_FSGSBASE when the host kernel lets user mode
/// use the FS/GS base instructions (CR4.FSGSBASE; the KVM platform sets it in its guests too).
pub fn hwcap2() -> u64 {
    const HWCAP2_FSGSBASE: u64 = 1 << 1;
    // SAFETY: getauxval reads the process's auxiliary vector; any type is valid to ask for.
    let host = unsafe { libc::getauxval(libc::AT_HWCAP2) };
    host & HWCAP2_FSGSBASE
}

/// CPUID leaf `leaf`, subleaf `sub`: (eax, ebx, ecx, edx).
pub fn cpuid(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// Give the heap's free memory back to the host (glibc's `malloc_trim`): the top of the heap
/// is shrunk and free pages inside it are discarded. Called once a sandbox has booted, when
/// the configuration, the loader's buffers and the like have been freed.
pub fn trim_heap() {
    // SAFETY: malloc_trim only changes the allocator's own free lists and pages; it is
    // thread-safe (it takes each arena's lock).
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Take ownership of descriptor `fd`, inherited open from our parent (as runc's
/// `--preserve-fds` hands descriptors to a container); None if it is not open. Call once per
/// number, before this process opens anything that could take the number.
pub fn take_inherited(fd: std::os::fd::RawFd) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: F_GETFD only reads the descriptor's flags; it fails with EBADF if not open.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return None;
    }
    // SAFETY: `fd` is open (F_GETFD succeeded) and was inherited across exec: no object in
    // this process owns it, and the caller takes each inherited number once.
    Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// The host's XCR0: the XSAVE features the kernel enabled.
pub fn xcr0() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: xgetbv with ECX=0 reads XCR0; it is valid whenever OSXSAVE is set, which every
    // x86-64 Linux with AVX enables (and without it XSAVE could not be used at all).
    unsafe {
        std::arch::asm!("xgetbv", in("ecx") 0u32, out("eax") lo, out("edx") hi, options(nomem, nostack));
    }
    u64::from(lo) | (u64::from(hi) << 32)
}

/// A raw `AF_PACKET` socket bound to interface `ifindex` of the calling thread's network
/// namespace, taking every protocol (the sandbox's own stack speaks for that interface; the
/// socket keeps working after the process leaves the namespace). Non-blocking, close-on-exec.
pub fn packet_socket(ifindex: u32) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let proto = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain socket(2); the result is checked before use.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            proto as i32,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and is owned by nothing else.
    let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_ll is plain data; all-zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto;
    sll.sll_ifindex = ifindex as i32;
    // SAFETY: `sll` is a valid sockaddr_ll and its size is passed.
    let r = unsafe {
        libc::bind(
            fd,
            std::ptr::addr_of!(sll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(owned)
}

/// The XSAVE components a signal frame saves in user mode: those the host enables in XCR0
/// whose standard-format place lies within the first `len` bytes (the size of the area the
/// kernel reports for a thread), without AMX's, which the kernel enables on first use only.
pub fn xsave_features(len: usize) -> u64 {
    const AMX: u64 = (1 << 17) | (1 << 18);
    let (_, _, ecx, _) = cpuid(1, 0);
    if ecx & (1 << 27) == 0 {
        return 3; // no OSXSAVE: x87 and SSE only
    }
    let (lo, hi): (u32, u32);
    // SAFETY: XGETBV(0) reads XCR0; CPUID.1:ECX.OSXSAVE (checked above) says it is allowed in
    // user mode. It touches only eax and edx.
    unsafe {
        std::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi, options(nomem, nostack));
    }
    let xcr0 = (u64::from(hi) << 32 | u64::from(lo)) & !AMX;
    (2..63).fold(3, |m, i| {
        if xcr0 & (1 << i) == 0 {
            return m;
        }
        let (size, off, _, _) = cpuid(0xd, i);
        if (off as usize).saturating_add(size as usize) <= len && off != 0 {
            m | 1 << i
        } else {
            m
        }
    })
}
