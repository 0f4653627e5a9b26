//! Plain-old-data conversion for the ABI structs copied to and from application memory.
//! This module and `platform` are the only places with `unsafe`: each impl asserts the type has
//! no padding-dependent invariants and no invalid bit patterns.
#![allow(unsafe_code)]

/// The kernel's `struct statfs` on x86-64 (the libc crate hides `f_flags`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct StatFs {
    pub f_type: i64,
    pub f_bsize: i64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [i32; 2],
    pub f_namelen: i64,
    pub f_frsize: i64,
    pub f_flags: i64,
    pub f_spare: [i64; 4],
}

/// A type that is valid for any bit pattern and can be viewed as bytes.
///
/// # Safety
/// Implementors must be `repr(C)` integers/arrays of integers only (no references, no bool, no
/// enums), so that every byte pattern is a valid value.
pub unsafe trait Pod: Copy + 'static {
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: Self is Pod: a plain repr(C) value; viewing its storage as bytes is sound.
        unsafe {
            std::slice::from_raw_parts((self as *const Self).cast(), std::mem::size_of::<Self>())
        }
    }

    fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < std::mem::size_of::<Self>() {
            return None;
        }
        // SAFETY: enough bytes (checked); any bit pattern is a valid Self; read_unaligned copes
        // with the buffer's alignment.
        Some(unsafe { std::ptr::read_unaligned(b.as_ptr().cast::<Self>()) })
    }

    fn zeroed() -> Self {
        // SAFETY: all-zero is a valid bit pattern for a Pod type.
        unsafe { std::mem::zeroed() }
    }
}

macro_rules! pod {
    ($($t:ty),* $(,)?) => { $(
        // SAFETY: a libc ABI struct or integer type made of integer fields only.
        unsafe impl Pod for $t {}
    )* };
}

pod!(
    u8,
    u16,
    i16,
    u32,
    u64,
    i32,
    i64,
    usize,
    libc::stat,
    libc::timespec,
    libc::timeval,
    libc::utsname,
    libc::rlimit,
    libc::iovec,
    libc::sysinfo,
    libc::statx,
    libc::winsize,
    libc::sigset_t,
    libc::rusage,
    libc::tms,
    libc::timezone,
    libc::pollfd,
    libc::stack_t,
    libc::itimerval,
    libc::flock,
    libc::statx_timestamp,
    libc::ipc_perm,
    libc::shmid_ds,
    libc::semid_ds,
    libc::msqid_ds,
    libc::sembuf,
    libc::seminfo,
    libc::msginfo,
    crate::kernel::ipc::shm::ShmInfo,
    crate::kernel::ipc::shm::ShmUsage,
    StatFs,
);

// SAFETY: arrays of Pod are Pod.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
