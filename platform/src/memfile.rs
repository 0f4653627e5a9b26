//! The memory file: one memfd per sandbox that holds all application memory.
//!
//! The sentry maps the whole file once and reads and writes application memory through that
//! mapping; address spaces map ranges of the same file (DESIGN.md invariant 4).

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

use crate::{PlatformError, Result, PAGE_SIZE};

/// Virtual size of the memory file. Pages only cost memory once touched.
const DEFAULT_SIZE: u64 = 64 << 30;

/// Freed memory kept (not given back to the host) for reuse, up to this many bytes: a hole
/// punch costs ~10-20 µs here, clearing a page for reuse a fraction of a microsecond.
const DIRTY_MAX: u64 = 16 << 20;

/// One memfd holding application memory, with a page allocator over it.
pub struct MemoryFile {
    fd: OwnedFd,
    base: usize,
    size: u64,
    alloc: Mutex<Allocator>,
}

impl std::fmt::Debug for MemoryFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MemoryFile(fd={}, size={:#x})",
            self.fd.as_raw_fd(),
            self.size
        )
    }
}

#[derive(Default)]
struct Allocator {
    /// Free runs: start offset -> length in bytes. Adjacent runs are coalesced. Their pages
    /// were given back to the host (they read as zeroes).
    free: BTreeMap<u64, u64>,
    /// Free runs whose pages still hold what their last owner left (cleared when allocated
    /// again, given back once there are more than DIRTY_MAX bytes of them).
    dirty: BTreeMap<u64, u64>,
    dirty_bytes: u64,
    /// Everything at or above this offset has never been allocated.
    next: u64,
    /// Bytes currently allocated.
    used: u64,
    /// Reference counts of pages shared by more than one owner (copy-on-write after fork);
    /// a page not listed has one owner.
    shared: rustc_hash::FxHashMap<u64, u32>,
}

/// Error of a memory file access outside the file.
#[derive(Debug, thiserror::Error)]
#[error("memory file range {off:#x}+{len:#x} out of bounds")]
pub struct OutOfBounds {
    pub off: u64,
    pub len: u64,
}

/// The first run of `runs` at least `len` long: (start, length).
fn first_fit(runs: &BTreeMap<u64, u64>, len: u64) -> Option<(u64, u64)> {
    runs.iter().find(|(_, &l)| l >= len).map(|(&s, &l)| (s, l))
}

/// Add the run `off..off+len` to `runs`, coalesced with its neighbours; the merged run.
fn insert_run(runs: &mut BTreeMap<u64, u64>, off: u64, len: u64) -> (u64, u64) {
    let (mut start, mut end) = (off, off + len);
    if let Some((&ps, &pl)) = runs.range(..start).next_back() {
        if ps + pl == start {
            runs.remove(&ps);
            start = ps;
        }
    }
    if let Some(&nl) = runs.get(&end) {
        runs.remove(&end);
        end += nl;
    }
    runs.insert(start, end - start);
    (start, end)
}

impl MemoryFile {
    pub fn new() -> Result<MemoryFile> {
        Self::with_size(DEFAULT_SIZE)
    }

    pub fn with_size(size: u64) -> Result<MemoryFile> {
        // SAFETY: the name is a valid NUL-terminated string; memfd_create has no other inputs.
        let raw = unsafe { libc::memfd_create(c"palisade-memory".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(PlatformError::last("memfd_create"));
        }
        // SAFETY: memfd_create returned a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: fd is a valid memfd; ftruncate only changes its size.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), size as i64) } != 0 {
            return Err(PlatformError::last("ftruncate(memfd)"));
        }
        // SAFETY: a fresh shared mapping of our own memfd at an address the kernel picks; it
        // aliases no Rust object and lives as long as `MemoryFile` (unmapped in Drop).
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(PlatformError::last("mmap(memfd)"));
        }
        Ok(MemoryFile {
            fd,
            base: base as usize,
            size,
            alloc: Mutex::new(Allocator::default()),
        })
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Address of the sentry's mapping of the file (guest physical memory for KVM).
    pub fn base(&self) -> usize {
        self.base
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes currently allocated to the sandbox.
    pub fn used(&self) -> u64 {
        self.lock().used
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Allocator> {
        self.alloc.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Allocate `len` bytes (a multiple of the page size) of zeroed memory; returns the offset.
    pub fn allocate(&self, len: u64) -> Result<u64> {
        debug_assert!(len > 0 && len.is_multiple_of(PAGE_SIZE));
        let mut a = self.lock();
        if let Some((start, run)) = first_fit(&a.dirty, len) {
            a.dirty.remove(&start);
            if run > len {
                a.dirty.insert(start + len, run - len);
            }
            a.dirty_bytes -= len;
            a.used += len;
            drop(a);
            // The range is ours now: clear it outside the lock.
            self.zero(start, len)
                .map_err(|_| PlatformError::Unsupported("memory file range out of bounds"))?;
            return Ok(start);
        }
        let found = first_fit(&a.free, len);
        let off = if let Some((start, run)) = found {
            a.free.remove(&start);
            if run > len {
                a.free.insert(start + len, run - len);
            }
            start
        } else {
            if a.next + len > self.size {
                return Err(PlatformError::Unsupported("memory file exhausted"));
            }
            let off = a.next;
            a.next += len;
            off
        };
        a.used += len;
        Ok(off)
    }

    /// One more owner for the page at `off` (fork shares private pages copy-on-write).
    pub fn incref(&self, off: u64) {
        *self.lock().shared.entry(off).or_insert(1) += 1;
    }

    /// Number of owners of the page at `off`.
    pub fn refs(&self, off: u64) -> u32 {
        self.lock().shared.get(&off).copied().unwrap_or(1)
    }

    /// Drop one owner of the page at `off`, freeing it when none is left.
    pub fn decref(&self, off: u64) {
        {
            let mut a = self.lock();
            if let Some(n) = a.shared.get_mut(&off) {
                *n -= 1;
                if *n <= 1 {
                    a.shared.remove(&off);
                }
                return;
            }
        }
        self.free(off, PAGE_SIZE);
    }

    /// Return a range to the allocator. Its pages are kept for reuse (cleared then) while
    /// there are few such; past DIRTY_MAX bytes all of them are given back to the host. Freed
    /// memory reads as zeroes when allocated again either way.
    pub fn free(&self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        let mut a = self.lock();
        a.used = a.used.saturating_sub(len);
        insert_run(&mut a.dirty, off, len);
        a.dirty_bytes += len;
        if a.dirty_bytes <= DIRTY_MAX {
            return;
        }
        let dirty = std::mem::take(&mut a.dirty);
        a.dirty_bytes = 0;
        drop(a);
        for (&start, &len) in &dirty {
            // SAFETY: punching a hole in our own memfd; the range was allocated by us and is
            // free (no stub maps it any more).
            unsafe {
                libc::fallocate(
                    self.fd.as_raw_fd(),
                    libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                    start as i64,
                    len as i64,
                );
            }
        }
        let mut a = self.lock();
        for (start, len) in dirty {
            let (start, end) = insert_run(&mut a.free, start, len);
            if end == a.next {
                a.free.remove(&start);
                a.next = start;
            }
        }
    }

    fn check(&self, off: u64, len: u64) -> std::result::Result<*mut u8, OutOfBounds> {
        match off.checked_add(len) {
            Some(end) if end <= self.size => Ok((self.base + off as usize) as *mut u8),
            _ => Err(OutOfBounds { off, len }),
        }
    }

    /// Copy bytes out of the file. Application threads may write the same memory concurrently;
    /// like a kernel's copy_from_user the result is then some interleaving, never unsafety.
    pub fn read(&self, off: u64, buf: &mut [u8]) -> std::result::Result<(), OutOfBounds> {
        let p = self.check(off, buf.len() as u64)?;
        // SAFETY: p..p+len lies inside our live mapping (checked above); buf is a distinct Rust
        // allocation. The mapping is shared memory, so byte copies cannot create invalid values.
        unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    pub fn write(&self, off: u64, buf: &[u8]) -> std::result::Result<(), OutOfBounds> {
        let p = self.check(off, buf.len() as u64)?;
        // SAFETY: as in `read`, with the copy in the other direction.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), p, buf.len()) };
        Ok(())
    }

    pub fn zero(&self, off: u64, len: u64) -> std::result::Result<(), OutOfBounds> {
        let p = self.check(off, len)?;
        // SAFETY: the range is inside our mapping (checked above).
        unsafe { std::ptr::write_bytes(p, 0, len as usize) };
        Ok(())
    }

    /// Atomically replace the 32-bit word at `off` with `new` if it holds `old`; the value
    /// found either way (Ok: it was `old` and is now `new`). Atomic with respect to application
    /// threads using the same memory (futex words).
    pub fn compare_exchange_u32(
        &self,
        off: u64,
        old: u32,
        new: u32,
    ) -> std::result::Result<std::result::Result<u32, u32>, OutOfBounds> {
        if !off.is_multiple_of(4) {
            return Err(OutOfBounds { off, len: 4 });
        }
        let p = self.check(off, 4)?;
        // SAFETY: p is 4-aligned (checked) and inside our live shared mapping, which lives as
        // long as self; every access to this word from the sentry is atomic or a plain byte
        // copy that tolerates tearing, and any bit pattern is a valid u32.
        let a = unsafe { std::sync::atomic::AtomicU32::from_ptr(p.cast::<u32>()) };
        Ok(a.compare_exchange(
            old,
            new,
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
        ))
    }

    /// Copy `len` bytes inside the file (e.g. to break copy-on-write).
    pub fn copy(&self, src: u64, dst: u64, len: u64) -> std::result::Result<(), OutOfBounds> {
        let s = self.check(src, len)?;
        let d = self.check(dst, len)?;
        // SAFETY: both ranges are inside our mapping; `copy` tolerates overlap.
        unsafe { std::ptr::copy(s, d, len as usize) };
        Ok(())
    }

    /// `pread` from a host fd straight into the file: no bounce buffer.
    pub fn pread_from(
        &self,
        fd: RawFd,
        file_off: u64,
        off: u64,
        len: u64,
    ) -> std::io::Result<usize> {
        let p = self
            .check(off, len)
            .map_err(|_| std::io::Error::from_raw_os_error(libc::EFAULT))?;
        // SAFETY: the destination range lies inside our mapping; the kernel writes at most len bytes.
        let n = unsafe { libc::pread(fd, p.cast(), len as usize, file_off as i64) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

impl Drop for MemoryFile {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping created in `with_size`; no references into it
        // outlive `self` because all accessors copy.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size as usize) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocate_free_coalesce() {
        let mf = MemoryFile::with_size(1 << 24).expect("memfd");
        let a = mf.allocate(4096).expect("a");
        let b = mf.allocate(8192).expect("b");
        assert_eq!(b, a + 4096);
        mf.write(b, b"hello").expect("write");
        let mut buf = [0u8; 5];
        mf.read(b, &mut buf).expect("read");
        assert_eq!(&buf, b"hello");
        mf.free(a, 4096);
        let c = mf.allocate(4096).expect("c");
        assert_eq!(c, a);
        mf.free(b, 8192);
        mf.free(c, 4096);
        assert_eq!(mf.used(), 0);
        let d = mf.allocate(12288).expect("d");
        assert_eq!(d, 0);
        mf.read(d + 4096, &mut buf).expect("read");
        assert_eq!(buf, [0; 5], "freed memory reads as zero");
        assert!(mf.read(mf.size() - 2, &mut buf).is_err());
    }

    #[test]
    fn freed_memory_is_cleared_for_reuse_and_given_back_past_the_limit() {
        let mf = MemoryFile::with_size(64 << 20).expect("memfd");
        let mut buf = [0u8; 6];
        let a = mf.allocate(8192).expect("a");
        mf.write(a + 4096, b"secret").expect("write");
        mf.free(a, 8192);
        let b = mf.allocate(8192).expect("b");
        assert_eq!(b, a, "kept for reuse");
        mf.read(b + 4096, &mut buf).expect("read");
        assert_eq!(buf, [0; 6], "cleared when reused");
        let big = DIRTY_MAX + 2 * PAGE_SIZE;
        let c = mf.allocate(big).expect("c");
        mf.write(c + big - 6, b"secret").expect("write");
        mf.free(b, 8192);
        mf.free(c, big);
        assert_eq!(mf.used(), 0);
        {
            let a = mf.lock();
            assert_eq!(
                (a.next, a.dirty_bytes),
                (0, 0),
                "all given back to the host"
            );
            assert!(a.dirty.is_empty() && a.free.is_empty());
        }
        let d = mf.allocate(big).expect("d");
        mf.read(d + big - 6, &mut buf).expect("read");
        assert_eq!(buf, [0; 6], "a punched hole reads as zeroes");
    }
}
