//! Application address spaces: VMAs, the sentry's page table over memory-file frames, page
//! faults, and copy-in/copy-out of application memory through the memory file.

pub mod pod;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use platform::{Access, AddressSpace, MemoryFile, Prot, PAGE_SIZE};

use crate::errno::Errno;
pub use pod::Pod;

/// Pages mapped around a faulting page in one go.
const FAULT_AROUND: u64 = 16 * PAGE_SIZE;
/// Most runs of pages a forked child gets mapped at fork (the rest it faults in).
const FORK_PREMAP_RUNS: usize = 256;
/// Most pages a forked child is given its own copy of at fork rather than sharing them
/// copy-on-write: the parent's private pages mapped writable, i.e. its working set (the child
/// of a fork writes its stack and the C library's data at once, the parent its own stack).
/// A copy costs well under a microsecond; each copy-on-write fault it spares, in the child
/// or in the parent, costs tens (a trap and an injected mmap).
const FORK_COPY_PAGES: usize = 64;
/// Gap Linux keeps below a growing stack (`stack_guard_gap`, 256 pages).
const STACK_GUARD_GAP: u64 = 256 * PAGE_SIZE;

pub fn page_down(a: u64) -> u64 {
    a & !(PAGE_SIZE - 1)
}

/// The aligned window of FAULT_AROUND bytes around `addr`, within `v`.
fn fault_window(addr: u64, v: &Vma) -> (u64, u64) {
    let start = addr & !(FAULT_AROUND - 1);
    (start.max(v.start), (start + FAULT_AROUND).min(v.end))
}

pub fn page_up(a: u64) -> Option<u64> {
    a.checked_add(PAGE_SIZE - 1).map(page_down)
}

/// Something that can back a mapping: a file's page cache, a shared anonymous object, the vDSO.
pub trait Mappable: Send + Sync {
    /// Memory-file offset of the page at `off` (page aligned) of the object, filling it if needed.
    /// `Err(EFAULT)` for pages beyond the end of the object.
    fn frame(&self, mf: &MemoryFile, off: u64) -> Result<u64, Errno>;
    /// Name shown in /proc/self/maps.
    fn name(&self) -> String;
    /// Identity (device, inode) for /proc/self/maps.
    fn ident(&self) -> (u64, u64) {
        (0, 0)
    }
    /// The concrete object, for callers that look for one kind (shmdt finds its segments).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
    /// The frame of the page at `off` if the object already has it in memory (no filling):
    /// what mmap maps at once.
    fn cached_frame(&self, _off: u64) -> Option<u64> {
        None
    }
    /// Whether the object's contents can never change (a file of a read-only tree that is the
    /// sandbox's alone): then a private mapping's unwritten pages cannot tell a private copy
    /// from the object's page, and a write fault may copy its neighbours too.
    fn frozen(&self) -> bool {
        false
    }
}

/// Whether two mapped objects are the same (through wrappers that forward `as_any`).
pub fn same_object(a: &dyn Mappable, b: &dyn Mappable) -> bool {
    match (a.as_any(), b.as_any()) {
        (Some(a), Some(b)) => std::ptr::eq(
            a as *const dyn std::any::Any as *const u8,
            b as *const dyn std::any::Any as *const u8,
        ),
        _ => false,
    }
}

/// Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, System V shared memory): frames of the
/// memory file allocated on first touch, freed with the object.
pub struct SharedMemory {
    frames: Mutex<std::collections::HashMap<u64, u64>>,
    size: u64,
    mf: Arc<MemoryFile>,
}

impl SharedMemory {
    pub fn new(mf: Arc<MemoryFile>, size: u64) -> SharedMemory {
        SharedMemory {
            frames: Mutex::default(),
            size,
            mf,
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Pages that have a frame.
    pub fn resident_pages(&self) -> u64 {
        self.frames.lock().unwrap_or_else(|e| e.into_inner()).len() as u64
    }
}

impl Mappable for SharedMemory {
    fn frame(&self, mf: &MemoryFile, off: u64) -> Result<u64, Errno> {
        if off >= self.size {
            return Err(Errno::EFAULT);
        }
        let mut f = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&fr) = f.get(&off) {
            return Ok(fr);
        }
        let fr = mf.allocate(PAGE_SIZE).map_err(|_| Errno::ENOMEM)?;
        f.insert(off, fr);
        Ok(fr)
    }

    fn name(&self) -> String {
        "/dev/zero (deleted)".into()
    }

    fn cached_frame(&self, off: u64) -> Option<u64> {
        self.frames
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&off)
            .copied()
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        for &fr in self
            .frames
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            // Mappings that still hold the page keep it alive.
            self.mf.decref(fr);
        }
    }
}

/// A file mapping as /proc/<pid>/maps shows it: under the file's path (as seen from the
/// mapper's root, " (deleted)" once unlinked) and the device and inode `stat` gives for it;
/// all else is the file's.
struct Named {
    inner: Arc<dyn Mappable>,
    file: Arc<crate::vfs::Dentry>,
    root: Arc<crate::vfs::Dentry>,
}

impl Mappable for Named {
    fn frame(&self, mf: &MemoryFile, off: u64) -> Result<u64, Errno> {
        self.inner.frame(mf, off)
    }
    fn name(&self) -> String {
        String::from_utf8_lossy(&self.file.path(&self.root)).into_owned()
    }
    fn ident(&self) -> (u64, u64) {
        match self.file.inode.stat() {
            Ok(s) => (s.dev, s.ino),
            Err(_) => self.inner.ident(),
        }
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        self.inner.as_any()
    }
    fn cached_frame(&self, off: u64) -> Option<u64> {
        self.inner.cached_frame(off)
    }
    fn frozen(&self) -> bool {
        self.inner.frozen()
    }
}

/// `obj`, the pages of the file `file`, named as /proc/<pid>/maps shows it to a process whose
/// root is `root`.
pub fn named(
    obj: Arc<dyn Mappable>,
    file: &Arc<crate::vfs::Dentry>,
    root: &Arc<crate::vfs::Dentry>,
) -> Arc<dyn Mappable> {
    Arc::new(Named {
        inner: obj,
        file: file.clone(),
        root: root.clone(),
    })
}

#[derive(Clone)]
pub enum Backing {
    Anon,
    Object { obj: Arc<dyn Mappable>, off: u64 },
}

#[derive(Clone)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    /// Highest protection mprotect may grant (a read-only fd's shared mapping never gets write).
    pub max_prot: Prot,
    pub shared: bool,
    pub growsdown: bool,
    pub backing: Backing,
    pub name: Option<&'static str>,
    /// MADV_DONTFORK: left out of a forked child.
    pub dontfork: bool,
    /// MADV_WIPEONFORK: a forked child gets it zero-filled.
    pub wipeonfork: bool,
}

impl Vma {
    fn object_off(&self, addr: u64) -> Option<(&Arc<dyn Mappable>, u64)> {
        match &self.backing {
            Backing::Object { obj, off } => Some((obj, off + (addr - self.start))),
            Backing::Anon => None,
        }
    }

    /// Split at `at` (start < at < end): self keeps [start, at), returns [at, end).
    fn split_off(&mut self, at: u64) -> Vma {
        let mut hi = self.clone();
        hi.start = at;
        if let Backing::Object { off, .. } = &mut hi.backing {
            *off += at - self.start;
        }
        self.end = at;
        hi
    }
}

/// What `mmap` is asked for.
pub struct MmapOpts {
    pub addr: u64,
    pub len: u64,
    pub prot: Prot,
    /// Highest protection mprotect may grant later.
    pub max_prot: Prot,
    pub shared: bool,
    /// Replace whatever is mapped at `addr`.
    pub fixed: bool,
    /// Map at `addr` or fail with EEXIST.
    pub noreplace: bool,
    pub growsdown: bool,
    pub backing: Backing,
    pub populate: bool,
}

impl MmapOpts {
    /// A private mapping at a fixed address whose protection may later be raised to anything
    /// (what the loader makes).
    pub fn fixed_private(addr: u64, len: u64, prot: Prot, backing: Backing) -> MmapOpts {
        let all = Prot {
            read: true,
            write: true,
            exec: true,
        };
        MmapOpts {
            addr,
            len,
            prot,
            max_prot: all,
            shared: false,
            fixed: true,
            noreplace: false,
            growsdown: false,
            backing,
            populate: false,
        }
    }
}

#[derive(Clone, Copy)]
struct Pte {
    frame: u64,
    /// The frame belongs to this page alone (private anonymous memory or a private copy) and is
    /// freed with it. Otherwise it belongs to a `Mappable` and must not be written through a
    /// private mapping. Either way the pte holds a reference on the frame, so an object that
    /// drops a page (a truncated file) cannot have it reused while it is still mapped.
    owned: bool,
    /// What the stub currently has mapped for this page.
    mapped: Option<Prot>,
}

struct Inner {
    /// (arg_start, arg_end, env_start, env_end): the argument and environment strings.
    arg_env: (u64, u64, u64, u64),
    vmas: BTreeMap<u64, Vma>,
    ptes: BTreeMap<u64, Pte>,
    brk_start: u64,
    brk: u64,
    mmap_top: u64,
    stack_limit: u64,
    /// High-water marks of the mapped size and of resident pages (VmPeak, VmHWM), brought up
    /// to date before anything is unmapped or dropped and whenever they are read.
    peak_size: u64,
    peak_rss: u64,
    /// The loader is building this address space: object pages are mapped in the stub all at
    /// once when it is done (`end_load`), not mapping by mapping.
    loading: bool,
}

impl Inner {
    fn mapped(&self) -> u64 {
        self.vmas.values().map(|v| v.end - v.start).sum()
    }

    fn note_peaks(&mut self) {
        self.peak_size = self.peak_size.max(self.mapped());
        self.peak_rss = self.peak_rss.max(self.ptes.len() as u64);
    }
}

/// An address space's sizes as /proc/<pid>/status shows them: bytes mapped, pages resident.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemStats {
    pub size: u64,
    pub peak_size: u64,
    pub rss: u64,
    pub peak_rss: u64,
    /// Resident pages by kind: private (anonymous or copied on write), shared anonymous
    /// memory, borrowed from a file.
    pub rss_anon: u64,
    pub rss_shmem: u64,
    pub rss_file: u64,
    /// Bytes: private writable mappings (VmData), stacks (VmStk), the executable's code
    /// (VmExe), other code (VmLib).
    pub data: u64,
    pub stack: u64,
    pub exe: u64,
    pub lib: u64,
}

/// One application address space.
pub struct MemoryManager {
    mf: Arc<MemoryFile>,
    space: Arc<dyn AddressSpace>,
    min_addr: u64,
    max_addr: u64,
    inner: Mutex<Inner>,
}

/// Result of a fault the sentry could not resolve: the signal code to deliver with SIGSEGV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultError {
    /// No mapping (SEGV_MAPERR).
    MapErr,
    /// Mapping forbids the access (SEGV_ACCERR).
    AccErr,
    /// Beyond the end of a file mapping (SIGBUS).
    Bus,
    /// The host failed (out of memory).
    Host,
}

fn host(e: platform::PlatformError) -> Errno {
    tracing::error!("address space operation failed: {e}");
    Errno::ENOMEM
}

impl MemoryManager {
    pub fn new(
        mf: Arc<MemoryFile>,
        space: Arc<dyn AddressSpace>,
        min_addr: u64,
        max_addr: u64,
    ) -> Self {
        MemoryManager {
            mf,
            space,
            min_addr,
            max_addr,
            inner: Mutex::new(Inner {
                arg_env: (0, 0, 0, 0),
                vmas: BTreeMap::new(),
                ptes: BTreeMap::new(),
                brk_start: 0,
                brk: 0,
                mmap_top: max_addr,
                stack_limit: 8 << 20,
                peak_size: 0,
                peak_rss: 0,
                loading: false,
            }),
        }
    }

    pub fn address_space(&self) -> &Arc<dyn AddressSpace> {
        &self.space
    }

    pub fn memory_file(&self) -> &Arc<MemoryFile> {
        &self.mf
    }

    pub fn max_addr(&self) -> u64 {
        self.max_addr
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The loader starts building this (fresh) address space: its mappings' cached pages are
    /// mapped in the stub by `end_load`, in one batch, instead of one round trip per mapping.
    pub fn begin_load(&self) {
        self.lock().loading = true;
    }

    /// The loader is done: map what `begin_load` put off.
    pub fn end_load(&self) {
        let mut m = self.lock();
        m.loading = false;
        let vmas: Vec<Vma> = m
            .vmas
            .values()
            .filter(|v| matches!(v.backing, Backing::Object { .. }))
            .cloned()
            .collect();
        let mut runs = Vec::new();
        let mut added = Vec::new();
        for v in &vmas {
            self.cached_runs(&mut m, v, &mut runs, &mut added);
        }
        if !runs.is_empty() && self.space.map_files(&runs).is_err() {
            // Not fatal: the pages fault in instead.
            Self::forget_mapped(&mut m, &added);
            let _ = self
                .space
                .unmap(self.min_addr, self.max_addr - self.min_addr);
        }
    }

    /// Record that the stub does not map the pages at `addrs` after all (a failed premap).
    fn forget_mapped(m: &mut Inner, addrs: &[u64]) {
        for a in addrs {
            if let Some(p) = m.ptes.get_mut(a) {
                p.mapped = None;
            }
        }
    }

    /// Set the layout decided by the loader.
    pub fn set_layout(&self, brk_start: u64, mmap_top: u64, stack_limit: u64) {
        let mut m = self.lock();
        m.brk_start = brk_start;
        m.brk = brk_start;
        m.mmap_top = mmap_top;
        m.stack_limit = stack_limit;
    }

    /// A snapshot of the VMAs (for /proc/self/maps and tests).
    /// Whether a shared mapping of `obj` here may write (now or after mprotect).
    pub fn maps_shared_writable(&self, obj: &dyn Mappable) -> bool {
        self.vmas().iter().any(|v| {
            v.shared
                && v.max_prot.write
                && matches!(&v.backing, Backing::Object { obj: o, .. } if same_object(&**o, obj))
        })
    }

    pub fn vmas(&self) -> Vec<Vma> {
        self.lock().vmas.values().cloned().collect()
    }

    // ---- VMA bookkeeping -------------------------------------------------------------------

    fn find_vma(m: &Inner, addr: u64) -> Option<&Vma> {
        m.vmas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end)
    }

    fn is_free(m: &Inner, start: u64, end: u64) -> bool {
        if let Some((_, v)) = m.vmas.range(..end).next_back() {
            if v.end > start {
                return false;
            }
        }
        true
    }

    /// Split VMAs so that `start` and `end` fall on VMA boundaries.
    fn split_at(m: &mut Inner, addr: u64) {
        let key = match m.vmas.range(..addr).next_back() {
            Some((&k, v)) if v.end > addr => k,
            _ => return,
        };
        if let Some(v) = m.vmas.get_mut(&key) {
            let hi = v.split_off(addr);
            m.vmas.insert(addr, hi);
        }
    }

    /// Remove VMAs and pages in [start, end): frees owned frames and unmaps the stub.
    fn remove_range(&self, m: &mut Inner, start: u64, end: u64) -> Result<(), Errno> {
        Self::remove_vmas(m, start, end);
        self.drop_pages(m, start, end)
    }

    /// Remove the VMAs in [start, end) (split at its ends); the pages are the caller's.
    fn remove_vmas(m: &mut Inner, start: u64, end: u64) {
        m.note_peaks();
        Self::split_at(m, start);
        Self::split_at(m, end);
        let keys: Vec<u64> = m.vmas.range(start..end).map(|(&k, _)| k).collect();
        for k in keys {
            m.vmas.remove(&k);
        }
    }

    /// Forget the pages in [start, end): unmap what the stub has, then free owned frames.
    ///
    /// The stub's mapping goes first: other threads of the application run on while we hold
    /// the lock, and a frame freed while still mapped could be handed to another address space
    /// and read or written through the stale mapping.
    fn drop_pages(&self, m: &mut Inner, start: u64, end: u64) -> Result<(), Errno> {
        m.note_peaks();
        let pages = Self::take_pages(m, start, end);
        if pages.iter().any(|(_, p)| p.mapped.is_some()) {
            // On failure the frames stay allocated (leaked, never reused while mapped).
            self.space.unmap(start, end - start).map_err(host)?;
        }
        self.release(pages.iter().map(|(_, p)| *p));
        Ok(())
    }

    /// Take the pages of [start, end) out of the page table (the caller unmaps and releases
    /// them).
    fn take_pages(m: &mut Inner, start: u64, end: u64) -> Vec<(u64, Pte)> {
        let pages: Vec<(u64, Pte)> = m.ptes.range(start..end).map(|(&a, &p)| (a, p)).collect();
        for (a, _) in &pages {
            m.ptes.remove(a);
        }
        pages
    }

    /// Drop the references of pages no address in the stub maps any more: frames owned by us
    /// alone are freed (contiguous ones in one go); borrowed or still shared ones lose one
    /// reference.
    fn release(&self, pages: impl Iterator<Item = Pte>) {
        let mut run: Option<(u64, u64)> = None;
        for p in pages {
            if !p.owned || self.mf.refs(p.frame) > 1 {
                // A borrowed page, or one still used by another address space (copy-on-write
                // after fork): drop our reference.
                self.mf.decref(p.frame);
                continue;
            }
            run = match run {
                Some((s, l)) if s + l == p.frame => Some((s, l + PAGE_SIZE)),
                Some((s, l)) => {
                    self.mf.free(s, l);
                    Some((p.frame, PAGE_SIZE))
                }
                None => Some((p.frame, PAGE_SIZE)),
            };
        }
        if let Some((s, l)) = run {
            self.mf.free(s, l);
        }
    }

    /// Find a free range of `len` bytes, top-down from the mmap base, or at `hint` if free.
    fn find_free(&self, m: &Inner, hint: u64, len: u64) -> Option<u64> {
        if hint != 0 {
            let h = page_down(hint);
            if h >= self.min_addr
                && h.checked_add(len).is_some_and(|e| e <= self.max_addr)
                && Self::is_free(m, h, h + len)
            {
                return Some(h);
            }
        }
        let mut top = m.mmap_top;
        loop {
            let start = top.checked_sub(len)?;
            if start < self.min_addr {
                return None;
            }
            match m.vmas.range(..top).next_back() {
                Some((_, v)) if v.end > start => top = v.start,
                _ => return Some(start),
            }
        }
    }

    // ---- mmap family --------------------------------------------------------------------------

    /// Create a mapping.
    pub fn mmap(&self, o: MmapOpts) -> Result<u64, Errno> {
        let MmapOpts {
            addr,
            len,
            prot,
            max_prot,
            shared,
            fixed,
            noreplace,
            growsdown,
            backing,
            populate,
        } = o;
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let mut m = self.lock();
        let start = if fixed || noreplace {
            if !addr.is_multiple_of(PAGE_SIZE) {
                return Err(Errno::EINVAL);
            }
            let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
            if addr < self.min_addr && fixed {
                return Err(Errno::EPERM);
            }
            if end > self.max_addr || addr < self.min_addr {
                return Err(Errno::ENOMEM);
            }
            if noreplace && !Self::is_free(&m, addr, end) {
                return Err(Errno::EEXIST);
            }
            // What was there goes; the stub's mappings of it are replaced below, in the same
            // round trip as the new mapping's cached pages.
            Self::remove_vmas(&mut m, addr, end);
            addr
        } else {
            self.find_free(&m, addr, len).ok_or(Errno::ENOMEM)?
        };
        let old = Self::take_pages(&mut m, start, start + len);
        let stale = old.iter().any(|(_, p)| p.mapped.is_some());
        let vma = Vma {
            start,
            end: start + len,
            prot,
            max_prot,
            shared,
            growsdown,
            backing,
            name: None,
            dontfork: false,
            wipeonfork: false,
        };
        m.vmas.insert(start, vma.clone());
        let mapped = if populate {
            match stale {
                true => self.space.unmap(start, len).map_err(host),
                false => Ok(()),
            }
        } else {
            self.map_cached(&mut m, &vma, stale)
        };
        if let Err(e) = mapped {
            // The old frames may still be mapped in the stub: they stay allocated (leaked).
            m.vmas.remove(&start);
            return Err(e);
        }
        self.release(old.into_iter().map(|(_, p)| p));
        if populate {
            drop(m);
            let _ = self.populate(start, start + len);
        }
        Ok(start)
    }

    /// Map at once the pages of a new object mapping that its object already holds (a file's
    /// cached pages, shared memory already touched), in one batch: faulting them in one by one
    /// costs a round trip to the address space each. Best effort, a bounded number of runs.
    /// If `stale`, the stub still maps what was at `v`'s range before: that goes in the same
    /// batch, first, and must (the mapping fails otherwise).
    fn map_cached(&self, m: &mut Inner, v: &Vma, stale: bool) -> Result<(), Errno> {
        if m.loading && !stale {
            return Ok(()); // end_load maps it
        }
        let mut runs: Vec<(u64, u64, u64, Prot)> = Vec::new();
        let mut added = Vec::new();
        self.cached_runs(m, v, &mut runs, &mut added);
        let len = v.end - v.start;
        let done = match (stale, runs.is_empty()) {
            (false, true) => return Ok(()),
            (false, false) => self.space.map_files(&runs),
            (true, true) => return self.space.unmap(v.start, len).map_err(host),
            (true, false) => self.space.unmap_and_map(v.start, len, &runs),
        };
        if done.is_err() {
            // The pages fault in instead, once the range is clear.
            Self::forget_mapped(m, &added);
            let cleared = self.space.unmap(v.start, len);
            if stale {
                return cleared.map_err(host);
            }
        }
        Ok(())
    }

    /// The runs of `v`'s pages its object already holds (at most MAX_RUNS, MAX_PAGES pages),
    /// entered in the page table as mapped (their addresses in `added`) for the caller to map;
    /// pages that have an entry already are left out.
    fn cached_runs(
        &self,
        m: &mut Inner,
        v: &Vma,
        runs: &mut Vec<(u64, u64, u64, Prot)>,
        added: &mut Vec<u64>,
    ) {
        const MAX_RUNS: usize = 64;
        const MAX_PAGES: u64 = 2048;
        let (Backing::Object { obj, off }, false) = (&v.backing, v.prot == Prot::NONE) else {
            return;
        };
        let prot = if v.shared {
            v.prot
        } else {
            v.prot.without_write()
        };
        let first_run = runs.len();
        let mut a = v.start;
        while a < v.end && a - v.start < MAX_PAGES * PAGE_SIZE {
            let frame = match m.ptes.contains_key(&a) {
                true => None,
                false => obj.cached_frame(off + (a - v.start)),
            };
            let Some(frame) = frame else {
                a += PAGE_SIZE;
                continue;
            };
            let full = runs.len() - first_run == MAX_RUNS;
            match runs.last_mut() {
                Some((ra, rl, rf, rp)) if *ra + *rl == a && *rf + *rl == frame && *rp == prot => {
                    *rl += PAGE_SIZE
                }
                _ if full => break,
                _ => runs.push((a, PAGE_SIZE, frame, prot)),
            }
            self.mf.incref(frame);
            m.ptes.insert(
                a,
                Pte {
                    frame,
                    owned: false,
                    mapped: Some(prot),
                },
            );
            added.push(a);
            a += PAGE_SIZE;
        }
    }

    /// Map a special object (vDSO) at a fixed, free address.
    pub fn map_special(
        &self,
        addr: u64,
        len: u64,
        prot: Prot,
        obj: Arc<dyn Mappable>,
        name: &'static str,
    ) -> Result<(), Errno> {
        let mut m = self.lock();
        if !Self::is_free(&m, addr, addr + len) {
            return Err(Errno::EEXIST);
        }
        let vma = Vma {
            start: addr,
            end: addr + len,
            prot,
            max_prot: prot,
            shared: true,
            growsdown: false,
            backing: Backing::Object { obj, off: 0 },
            name: Some(name),
            dontfork: false,
            wipeonfork: false,
        };
        m.vmas.insert(addr, vma);
        Ok(())
    }

    /// Set the object offset of the VMA starting at `addr`.
    pub fn set_object_offset(&self, addr: u64, offset: u64) {
        let mut m = self.lock();
        if let Some(Vma {
            backing: Backing::Object { off, .. },
            ..
        }) = m.vmas.get_mut(&addr)
        {
            *off = offset;
        }
    }

    /// Name a VMA (e.g. "[stack]", "[heap]").
    pub fn set_name(&self, addr: u64, name: &'static str) {
        let mut m = self.lock();
        if let Some(v) = m.vmas.get_mut(&addr) {
            v.name = Some(name);
        }
    }

    pub fn find_free_range(&self, len: u64) -> Option<u64> {
        let m = self.lock();
        self.find_free(&m, 0, len)
    }

    pub fn munmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::EINVAL)?;
        let end = addr
            .checked_add(len)
            .filter(|&e| e <= self.max_addr)
            .ok_or(Errno::EINVAL)?;
        let mut m = self.lock();
        self.remove_range(&mut m, addr, end)
    }

    /// mprotect(2). `read_implies_exec` (the READ_IMPLIES_EXEC persona, with PROT_READ asked):
    /// each VMA that may be executable becomes executable too.
    pub fn mprotect(
        &self,
        addr: u64,
        len: u64,
        prot: Prot,
        growsdown: bool,
        read_implies_exec: bool,
    ) -> Result<(), Errno> {
        let prot_for = |v: &Vma| Prot {
            exec: prot.exec || (read_implies_exec && v.max_prot.exec),
            ..prot
        };
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Ok(());
        }
        let mut start = addr;
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        let mut m = self.lock();
        if growsdown {
            match Self::find_vma(&m, addr) {
                Some(v) if v.growsdown => start = v.start,
                Some(_) => return Err(Errno::EINVAL),
                None => return Err(Errno::ENOMEM),
            }
        }
        // The whole range must be mapped, and each VMA must allow the new protection.
        let mut cur = start;
        while cur < end {
            let v = Self::find_vma(&m, cur).ok_or(Errno::ENOMEM)?;
            if (prot.write && !v.max_prot.write)
                || (prot.exec && !v.max_prot.exec)
                || (prot.read && !v.max_prot.read)
            {
                return Err(Errno::EACCES);
            }
            cur = v.end;
        }
        Self::split_at(&mut m, start);
        Self::split_at(&mut m, end);
        for (_, v) in m.vmas.range_mut(start..end) {
            v.prot = prot_for(v);
        }
        // Pages the stub has mapped take the new protection, except that private pages not
        // ours alone stay read-only until written (copy-on-write).
        let vmas: Vec<(u64, u64, bool, Prot)> = m
            .vmas
            .range(start..end)
            .map(|(_, v)| (v.start, v.end, v.shared, v.prot))
            .collect();
        for (s, e, sh, prot) in vmas {
            let mf = self.mf.clone();
            self.protect_mapped(&mut m, s, e, |p| {
                if sh || (p.owned && mf.refs(p.frame) == 1) {
                    prot
                } else {
                    prot.without_write()
                }
            })?;
        }
        Ok(())
    }

    /// `brk`: returns the new break, or the old one if the request cannot be met.
    /// Bytes mapped in the whole address space.
    pub fn total_mapped(&self) -> u64 {
        self.mapped_bytes(0, u64::MAX)
    }

    /// Sizes for /proc/<pid>/status; `exe` is the (device, inode) of the program's file, whose
    /// executable mappings are its code.
    pub fn stats(&self, exe: Option<(u64, u64)>) -> MemStats {
        let mut m = self.lock();
        m.note_peaks();
        let mut s = MemStats {
            size: m.mapped(),
            peak_size: m.peak_size,
            rss: m.ptes.len() as u64,
            peak_rss: m.peak_rss,
            ..MemStats::default()
        };
        for v in m.vmas.values() {
            let len = v.end - v.start;
            let obj = match &v.backing {
                Backing::Object { obj, .. } => Some(obj),
                Backing::Anon => None,
            };
            let shmem =
                v.shared && obj.is_some_and(|o| o.as_any().is_some_and(|a| a.is::<SharedMemory>()));
            for p in m.ptes.range(v.start..v.end).map(|(_, p)| p) {
                if p.owned {
                    s.rss_anon += 1;
                } else if shmem {
                    s.rss_shmem += 1;
                } else {
                    s.rss_file += 1;
                }
            }
            if v.growsdown {
                s.stack += len;
            } else if v.prot.allows(Access::EXEC) && !v.prot.allows(Access::WRITE) {
                if exe.is_some() && obj.map(|o| o.ident()) == exe {
                    s.exe += len;
                } else {
                    s.lib += len;
                }
            } else if v.prot.allows(Access::WRITE) && !v.shared {
                s.data += len;
            }
        }
        s
    }

    /// Bytes mapped in `[addr, addr+len)`.
    pub fn mapped_bytes(&self, addr: u64, len: u64) -> u64 {
        let m = self.lock();
        let end = addr.saturating_add(len);
        m.vmas
            .values()
            .filter(|v| v.start < end && v.end > addr)
            .map(|v| v.end.min(end) - v.start.max(addr))
            .sum()
    }

    /// The program break and where the heap starts.
    pub fn brk_range(&self) -> (u64, u64) {
        let m = self.lock();
        (m.brk_start, m.brk)
    }

    /// Pages with a frame (resident), for /proc's rss.
    pub fn resident_pages(&self) -> u64 {
        self.lock().ptes.len() as u64
    }

    /// Record where the argument and environment strings are.
    pub fn set_arg_env(&self, arg_start: u64, arg_end: u64, env_start: u64, env_end: u64) {
        self.lock().arg_env = (arg_start, arg_end, env_start, env_end);
    }

    /// (arg_start, arg_end, env_start, env_end).
    pub fn arg_env(&self) -> (u64, u64, u64, u64) {
        self.lock().arg_env
    }

    pub fn brk(&self, addr: u64) -> u64 {
        let mut m = self.lock();
        let (start, old) = (m.brk_start, m.brk);
        if addr < start || addr > self.max_addr {
            return old;
        }
        let (old_end, new_end) = match (page_up(old), page_up(addr)) {
            (Some(a), Some(b)) => (a, b),
            _ => return old,
        };
        if new_end > old_end {
            if !Self::is_free(&m, old_end, new_end) {
                return old;
            }
            let vma_start = page_up(start).unwrap_or(start);
            // Extend the heap VMA (or create it).
            match m.vmas.get_mut(&vma_start) {
                Some(v) if v.end == old_end && v.name == Some("[heap]") => v.end = new_end,
                _ => {
                    let prot = Prot {
                        read: true,
                        write: true,
                        exec: false,
                    };
                    let v = Vma {
                        start: old_end,
                        end: new_end,
                        prot,
                        max_prot: Prot {
                            read: true,
                            write: true,
                            exec: true,
                        },
                        shared: false,
                        growsdown: false,
                        backing: Backing::Anon,
                        name: Some("[heap]"),
                        dontfork: false,
                        wipeonfork: false,
                    };
                    m.vmas.insert(old_end, v);
                }
            }
        } else if new_end < old_end && self.remove_range(&mut m, new_end, old_end).is_err() {
            return old;
        }
        m.brk = addr;
        addr
    }

    pub fn mremap(
        &self,
        old: u64,
        old_len: u64,
        new_len: u64,
        flags: u64,
        new_addr: u64,
    ) -> Result<u64, Errno> {
        let may_move = flags & libc::MREMAP_MAYMOVE as u64 != 0;
        let fixed = flags & libc::MREMAP_FIXED as u64 != 0;
        if !old.is_multiple_of(PAGE_SIZE)
            || flags & !((libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED) as u64) != 0
            || (fixed && !may_move)
        {
            return Err(Errno::EINVAL);
        }
        let old_len = page_up(old_len).ok_or(Errno::EINVAL)?;
        let new_len = page_up(new_len).ok_or(Errno::EINVAL)?;
        if new_len == 0 {
            return Err(Errno::EINVAL);
        }
        let mut m = self.lock();
        let v = Self::find_vma(&m, old).ok_or(Errno::EFAULT)?.clone();
        if old_len == 0 {
            // Duplicating a private mapping is not allowed.
            if !v.shared {
                return Err(Errno::EINVAL);
            }
        } else if old + old_len > v.end {
            return Err(Errno::EFAULT);
        }
        if fixed {
            if !new_addr.is_multiple_of(PAGE_SIZE) {
                return Err(Errno::EINVAL);
            }
            let ne = new_addr
                .checked_add(new_len)
                .filter(|&e| e <= self.max_addr)
                .ok_or(Errno::EINVAL)?;
            if new_addr < old + old_len.max(new_len) && ne > old {
                return Err(Errno::EINVAL);
            }
        }
        if !fixed {
            if new_len <= old_len {
                if new_len < old_len {
                    self.remove_range(&mut m, old + new_len, old + old_len)?;
                }
                return Ok(old);
            }
            // Grow in place if the next pages are free and the VMA ends here.
            let end = old + old_len;
            if end == v.end
                && old + new_len <= self.max_addr
                && Self::is_free(&m, end, old + new_len)
            {
                Self::split_at(&mut m, old);
                if let Some(vm) = m.vmas.get_mut(&old) {
                    vm.end = old + new_len;
                }
                return Ok(old);
            }
            if !may_move {
                return Err(Errno::ENOMEM);
            }
        }
        // Move: create the new VMA and carry the pages over.
        let dest = if fixed {
            self.remove_range(&mut m, new_addr, new_addr + new_len)?;
            new_addr
        } else {
            self.find_free(&m, 0, new_len).ok_or(Errno::ENOMEM)?
        };
        let copy_len = if old_len == 0 {
            new_len.min(v.end - old)
        } else {
            old_len.min(new_len)
        };
        let mut nv = v.clone();
        nv.start = dest;
        nv.end = dest + new_len;
        if let Backing::Object { off, .. } = &mut nv.backing {
            *off += old - v.start;
        }
        if old_len == 0 {
            m.vmas.insert(dest, nv);
            return Ok(dest);
        }
        let moved: Vec<(u64, Pte)> = m
            .ptes
            .range(old..old + copy_len)
            .map(|(&a, &p)| (a, p))
            .collect();
        let any_mapped = moved.iter().any(|(_, p)| p.mapped.is_some());
        for (a, _) in &moved {
            m.ptes.remove(a);
        }
        if any_mapped {
            self.space.unmap(old, copy_len).map_err(host)?;
        }
        for (a, mut p) in moved {
            p.mapped = None;
            m.ptes.insert(a - old + dest, p);
        }
        self.remove_range(&mut m, old, old + old_len)?;
        m.vmas.insert(dest, nv);
        Ok(dest)
    }

    pub fn madvise(&self, addr: u64, len: u64, advice: i32) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::EINVAL)?;
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        match advice {
            libc::MADV_NORMAL
            | libc::MADV_RANDOM
            | libc::MADV_SEQUENTIAL
            | libc::MADV_WILLNEED
            | libc::MADV_DONTNEED
            | libc::MADV_FREE
            | libc::MADV_DONTFORK
            | libc::MADV_DOFORK
            | libc::MADV_WIPEONFORK
            | libc::MADV_KEEPONFORK
            | libc::MADV_MERGEABLE
            | libc::MADV_UNMERGEABLE
            | libc::MADV_HUGEPAGE
            | libc::MADV_NOHUGEPAGE
            | libc::MADV_DONTDUMP
            | libc::MADV_DODUMP
            | libc::MADV_COLD
            | libc::MADV_PAGEOUT => {}
            _ => return Err(Errno::EINVAL),
        }
        if len == 0 {
            return Ok(());
        }
        let mut m = self.lock();
        // Every page of the range must be mapped (ENOMEM otherwise, after acting on the rest).
        let mut cur = addr;
        let mut hole = false;
        while cur < end {
            match Self::find_vma(&m, cur) {
                Some(v) => cur = v.end,
                None => {
                    hole = true;
                    match m.vmas.range(cur..).next() {
                        Some((&s, _)) if s < end => cur = s,
                        _ => break,
                    }
                }
            }
        }
        if matches!(
            advice,
            libc::MADV_DONTFORK | libc::MADV_DOFORK | libc::MADV_WIPEONFORK | libc::MADV_KEEPONFORK
        ) {
            let wipe = matches!(advice, libc::MADV_WIPEONFORK | libc::MADV_KEEPONFORK);
            // Wipe-on-fork is for private anonymous memory only.
            if wipe
                && m.vmas
                    .values()
                    .filter(|v| v.start < end && v.end > addr)
                    .any(|v| v.shared || !matches!(v.backing, Backing::Anon))
            {
                return Err(Errno::EINVAL);
            }
            Self::split_at(&mut m, addr);
            Self::split_at(&mut m, end);
            for (_, v) in m.vmas.range_mut(addr..end) {
                match advice {
                    libc::MADV_DONTFORK => v.dontfork = true,
                    libc::MADV_DOFORK => v.dontfork = false,
                    libc::MADV_WIPEONFORK => v.wipeonfork = true,
                    _ => v.wipeonfork = false,
                }
            }
        }
        if matches!(advice, libc::MADV_DONTNEED | libc::MADV_FREE) {
            // Private pages go back to zero (anonymous) or to the file contents; shared pages
            // keep their contents, only the stub's mapping is dropped.
            self.drop_pages(&mut m, addr, end)?;
        }
        if hole {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// `mincore`: one byte per page, 1 if resident.
    pub fn mincore(&self, addr: u64, len: u64) -> Result<Vec<u8>, Errno> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let end = addr
            .checked_add(page_up(len).ok_or(Errno::ENOMEM)?)
            .ok_or(Errno::ENOMEM)?;
        let m = self.lock();
        let mut out = Vec::new();
        let mut a = addr;
        while a < end {
            let v = Self::find_vma(&m, a).ok_or(Errno::ENOMEM)?;
            // Pages of a file that are in its page cache count as resident, as on Linux.
            let resident = m.ptes.contains_key(&a) || (v.shared && v.object_off(a).is_some());
            out.push(resident as u8);
            a += PAGE_SIZE;
        }
        Ok(out)
    }

    /// `msync`: checks the range is mapped. Shared mappings write through the memory file, so
    /// there is nothing to flush until a writable host-backed file system exists.
    pub fn msync(&self, addr: u64, len: u64, flags: i32) -> Result<(), Errno> {
        let valid = libc::MS_ASYNC | libc::MS_SYNC | libc::MS_INVALIDATE;
        if !addr.is_multiple_of(PAGE_SIZE)
            || flags & !valid != 0
            || (flags & libc::MS_ASYNC != 0 && flags & libc::MS_SYNC != 0)
        {
            return Err(Errno::EINVAL);
        }
        let end = addr
            .checked_add(page_up(len).ok_or(Errno::ENOMEM)?)
            .ok_or(Errno::ENOMEM)?;
        let m = self.lock();
        let mut a = addr;
        while a < end {
            let v = Self::find_vma(&m, a).ok_or(Errno::ENOMEM)?;
            a = v.end;
        }
        Ok(())
    }

    /// Give the stub's mappings of the pages in [start, end) the protection `eff` says, one
    /// host mprotect per run of contiguous mapped pages with the same protection (the host
    /// refuses a range with holes).
    fn protect_mapped(
        &self,
        m: &mut Inner,
        start: u64,
        end: u64,
        eff: impl Fn(&Pte) -> Prot,
    ) -> Result<(), Errno> {
        let mut runs: Vec<(u64, u64, Prot)> = Vec::new();
        Self::protect_runs(m, start, end, |_, p| eff(p), &mut runs);
        self.space.protect_ranges(&runs).map_err(host)
    }

    /// The protection changes `protect_mapped` makes (`eff(address, entry)`), recorded in the
    /// page table and collected in `runs` for the address space.
    fn protect_runs(
        m: &mut Inner,
        start: u64,
        end: u64,
        eff: impl Fn(u64, &Pte) -> Prot,
        runs: &mut Vec<(u64, u64, Prot)>,
    ) {
        for (&a, p) in m.ptes.range_mut(start..end) {
            let Some(cur) = p.mapped else { continue };
            let want = eff(a, p);
            if want == cur {
                continue;
            }
            p.mapped = Some(want);
            match runs.last_mut() {
                Some((s, l, pr)) if *s + *l == a && *pr == want => *l += PAGE_SIZE,
                _ => runs.push((a, PAGE_SIZE, want)),
            }
        }
    }

    /// Whether a private page may be written in place: ours alone. Pages borrowed from a file
    /// and pages shared with another address space since fork are copied on write.
    fn exclusive(&self, p: &Pte) -> bool {
        p.owned && self.mf.refs(p.frame) == 1
    }

    /// A copy of this address space for `fork`, in `space`: VMAs are copied, private pages are
    /// shared copy-on-write (write-protected here too), shared mappings stay shared.
    pub fn fork(&self, space: Arc<dyn AddressSpace>) -> Result<MemoryManager, Errno> {
        let mut m = self.lock();
        // MADV_DONTFORK areas stay behind; MADV_WIPEONFORK ones start empty in the child.
        let vmas: BTreeMap<u64, Vma> = m
            .vmas
            .iter()
            .filter(|(_, v)| !v.dontfork)
            .map(|(&a, v)| (a, v.clone()))
            .collect();
        let inherits = |a: u64| {
            vmas.range(..=a)
                .next_back()
                .is_some_and(|(_, v)| a < v.end && !v.wipeonfork)
        };
        let vma_of = |a: u64| vmas.range(..=a).next_back().map(|(_, v)| v);
        // The child's own copies: the writable private pages we have mapped, the highest
        // addresses first if there are too many (the stack, then the libraries' data).
        let hot: Vec<u64> = m
            .ptes
            .iter()
            .rev()
            .filter(|&(&a, p)| {
                p.mapped.is_some_and(|pr| pr.write)
                    && inherits(a)
                    && vma_of(a).is_some_and(|v| !v.shared)
            })
            .map(|(&a, _)| a)
            .take(FORK_COPY_PAGES)
            .collect();
        let mut copies: BTreeMap<u64, u64> = BTreeMap::new();
        if !hot.is_empty() {
            if let Ok(base) = self.mf.allocate(hot.len() as u64 * PAGE_SIZE) {
                // Ascending addresses get ascending frames: runs merge into few mmaps.
                for (i, &a) in hot.iter().rev().enumerate() {
                    let frame = base + i as u64 * PAGE_SIZE;
                    match m.ptes.get(&a) {
                        Some(p) if self.mf.copy(p.frame, frame, PAGE_SIZE).is_ok() => {
                            copies.insert(a, frame);
                        }
                        _ => self.mf.free(frame, PAGE_SIZE),
                    }
                }
            }
        }
        // The child gets our page table, and the pages we have mapped are mapped in its
        // address space at once, in a few batches (private ones read-only, to be copied on
        // write, but for its own copies), so that it does not fault them in one by one.
        let mut ptes = BTreeMap::new();
        let mut runs: Vec<(u64, u64, u64, Prot)> = Vec::new();
        let mut last_vma: Option<&Vma> = None;
        for (&a, p) in m.ptes.iter() {
            if !inherits(a) {
                continue;
            }
            let copy = copies.get(&a).copied();
            let (frame, owned) = match copy {
                Some(f) => (f, true),
                None => {
                    self.mf.incref(p.frame);
                    (p.frame, p.owned)
                }
            };
            let mut mapped = None;
            if p.mapped.is_some() && runs.len() < FORK_PREMAP_RUNS {
                let v = match last_vma {
                    Some(v) if v.start <= a && a < v.end => Some(v),
                    _ => vma_of(a),
                };
                last_vma = v;
                if let Some(v) = v {
                    let prot = if v.shared || copy.is_some() {
                        v.prot
                    } else {
                        v.prot.without_write()
                    };
                    match runs.last_mut() {
                        Some((ra, rl, rf, rp))
                            if *ra + *rl == a && *rf + *rl == frame && *rp == prot =>
                        {
                            *rl += PAGE_SIZE;
                        }
                        _ => runs.push((a, PAGE_SIZE, frame, prot)),
                    }
                    mapped = Some(prot);
                }
            }
            ptes.insert(
                a,
                Pte {
                    frame,
                    owned,
                    mapped,
                },
            );
        }
        if space.map_files(&runs).is_err() {
            // Not fatal: the child faults the pages in instead.
            for p in ptes.values_mut() {
                p.mapped = None;
            }
            let _ = space.unmap(self.min_addr, self.max_addr - self.min_addr);
        }
        // Our writable private pages now shared with the child must fault on write; those
        // the child has its own copy of stay writable.
        let ranges: Vec<(u64, u64, Prot)> = m
            .vmas
            .values()
            .filter(|v| !v.shared && v.prot.write)
            .map(|v| (v.start, v.end, v.prot))
            .collect();
        let mut runs = Vec::new();
        for (s, e, prot) in ranges {
            let eff = |a: u64, _: &Pte| {
                if copies.contains_key(&a) {
                    prot
                } else {
                    prot.without_write()
                }
            };
            Self::protect_runs(&mut m, s, e, eff, &mut runs);
        }
        self.space.protect_ranges(&runs).map_err(host)?;
        let inner = Inner {
            arg_env: m.arg_env,
            vmas,
            ptes,
            brk_start: m.brk_start,
            brk: m.brk,
            mmap_top: m.mmap_top,
            stack_limit: m.stack_limit,
            peak_size: m.peak_size,
            peak_rss: m.peak_rss,
            loading: false,
        };
        Ok(MemoryManager {
            mf: self.mf.clone(),
            space,
            min_addr: self.min_addr,
            max_addr: self.max_addr,
            inner: Mutex::new(inner),
        })
    }

    // ---- faults ---------------------------------------------------------------------------------

    /// Find the VMA for `addr`, growing a stack VMA down to it if allowed.
    fn vma_for_fault(&self, m: &mut Inner, addr: u64) -> Option<Vma> {
        if let Some(v) = Self::find_vma(m, addr) {
            return Some(v.clone());
        }
        let page = page_down(addr);
        let (&k, next) = m.vmas.range(addr..).next()?;
        if !next.growsdown || next.end - page > m.stack_limit {
            return None;
        }
        // Linux keeps a guard gap to an accessible mapping below (PROT_NONE ones don't count).
        if let Some((_, prev)) = m.vmas.range(..addr).next_back() {
            let accessible = prev.prot != Prot::NONE && !prev.growsdown;
            if prev.end > page || (accessible && prev.end + STACK_GUARD_GAP > page) {
                return None;
            }
        }
        let mut v = m.vmas.remove(&k)?;
        v.start = page;
        m.vmas.insert(page, v.clone());
        Some(v)
    }

    /// Resolve a page fault of the application: on success the page is mapped in the stub.
    pub fn handle_fault(&self, addr: u64, access: Access) -> Result<(), FaultError> {
        let mut m = self.lock();
        let v = self.vma_for_fault(&mut m, addr).ok_or(FaultError::MapErr)?;
        if !v.prot.allows(access) {
            return Err(FaultError::AccErr);
        }
        let page = page_down(addr);
        // A write to a page that is mapped: only a copy-on-write break can fix it.
        if let Some(p) = m.ptes.get(&page).copied() {
            if access.write && !v.shared && !self.exclusive(&p) {
                let (lo, hi) = fault_window(addr, &v);
                return self.fill(&mut m, &v, lo, hi, page, true);
            }
            if p.mapped.is_some() {
                // The stub has the page mapped yet faulted: the mapping is stale. Map it again.
                let prot = if v.shared || self.exclusive(&p) {
                    v.prot
                } else {
                    v.prot.without_write()
                };
                self.space
                    .map_file(page, PAGE_SIZE, p.frame, prot)
                    .map_err(|_| FaultError::Host)?;
                // Keep the record true: fork write-protects by what it says is mapped.
                if let Some(e) = m.ptes.get_mut(&page) {
                    e.mapped = Some(prot);
                }
                return Ok(());
            }
        }
        let (lo, hi) = fault_window(addr, &v);
        self.fill(&mut m, &v, lo, hi, page, access.write)?;
        Ok(())
    }

    /// Give frames to the pages of [lo, hi) in `v` that have none, and map the window.
    fn fill(
        &self,
        m: &mut Inner,
        v: &Vma,
        lo: u64,
        hi: u64,
        page: u64,
        write: bool,
    ) -> Result<(), FaultError> {
        // Missing anonymous pages get one contiguous allocation per run.
        let mut a = lo;
        while a < hi {
            if m.ptes.contains_key(&a) {
                a += PAGE_SIZE;
                continue;
            }
            match v.object_off(a) {
                None => {
                    let mut end = a;
                    while end < hi && !m.ptes.contains_key(&end) {
                        end += PAGE_SIZE;
                    }
                    let base = self.mf.allocate(end - a).map_err(|_| FaultError::Host)?;
                    for (i, pa) in (a..end).step_by(PAGE_SIZE as usize).enumerate() {
                        m.ptes.insert(
                            pa,
                            Pte {
                                frame: base + i as u64 * PAGE_SIZE,
                                owned: true,
                                mapped: None,
                            },
                        );
                    }
                    a = end;
                }
                Some((obj, off)) => {
                    match obj.frame(&self.mf, off) {
                        Ok(frame) => {
                            self.mf.incref(frame);
                            m.ptes.insert(
                                a,
                                Pte {
                                    frame,
                                    owned: false,
                                    mapped: None,
                                },
                            );
                        }
                        Err(_) if a == page => return Err(FaultError::Bus),
                        Err(_) => break,
                    }
                    a += PAGE_SIZE;
                }
            }
        }
        // A write to a private page: copy it, and with it, if the file's contents never
        // change (so no one can tell), the window's other pages still borrowed from it (a
        // loader relocating a library's data writes them all, one fault each otherwise). The
        // old frames are released once the copies are mapped.
        let mut old = Vec::new();
        if write && !v.shared {
            let around = matches!(&v.backing, Backing::Object { obj, .. } if obj.frozen());
            let copy: Vec<(u64, Pte)> = m
                .ptes
                .range(lo..hi)
                .filter(|&(&a, p)| {
                    if a == page {
                        !self.exclusive(p)
                    } else {
                        around && !p.owned
                    }
                })
                .map(|(&a, &p)| (a, p))
                .collect();
            for (a, p) in copy {
                let (_, o) = self.cow_copy(m, a, p).map_err(|_| FaultError::Host)?;
                if let Some(e) = m.ptes.get_mut(&a) {
                    // Whatever the stub maps there is the old frame: map the copy.
                    e.mapped = None;
                }
                old.push(o);
            }
        }
        // Map runs of pages with contiguous frames and equal protection, all in one batch.
        let pages: Vec<(u64, Pte)> = m.ptes.range(lo..hi).map(|(&a, &p)| (a, p)).collect();
        let mut runs: Vec<(u64, u64, u64, Prot)> = Vec::new(); // (addr, len, frame, prot)
        let mut open = false;
        for (pa, p) in &pages {
            let prot = if v.shared || self.exclusive(p) {
                v.prot
            } else {
                v.prot.without_write()
            };
            if p.mapped == Some(prot) {
                open = false;
                continue;
            }
            match runs.last_mut() {
                Some((ra, rl, rf, rp))
                    if open && *ra + *rl == *pa && *rf + *rl == p.frame && *rp == prot =>
                {
                    *rl += PAGE_SIZE;
                }
                _ => runs.push((*pa, PAGE_SIZE, p.frame, prot)),
            }
            open = true;
        }
        self.space.map_files(&runs).map_err(|_| FaultError::Host)?;
        self.release(old.into_iter());
        for (pa, p) in pages {
            let prot = if v.shared || self.exclusive(&p) {
                v.prot
            } else {
                v.prot.without_write()
            };
            if let Some(e) = m.ptes.get_mut(&pa) {
                e.mapped = Some(prot);
            }
            let _ = p;
        }
        Ok(())
    }

    /// Replace a borrowed or shared page with a private copy (not mapped yet). Returns the new
    /// entry and the old one, whose reference the caller drops (`release`) only once the stub
    /// no longer maps the old frame: until then other threads may read it there, and its
    /// other owner could free it for reuse.
    fn cow_copy(&self, m: &mut Inner, page: u64, p: Pte) -> Result<(Pte, Pte), Errno> {
        let frame = self.mf.allocate(PAGE_SIZE).map_err(|_| Errno::ENOMEM)?;
        if self.mf.copy(p.frame, frame, PAGE_SIZE).is_err() {
            self.mf.free(frame, PAGE_SIZE);
            return Err(Errno::EFAULT);
        }
        let np = Pte {
            frame,
            owned: true,
            mapped: p.mapped,
        };
        m.ptes.insert(page, np);
        Ok((np, p))
    }

    /// Break copy-on-write for a page and map the private copy writable.
    fn cow_break(&self, m: &mut Inner, page: u64, p: Pte, v: &Vma) -> Result<u64, Errno> {
        let (np, old) = self.cow_copy(m, page, p)?;
        if np.mapped.is_some() {
            if let Err(e) = self.space.map_file(page, PAGE_SIZE, np.frame, v.prot) {
                // The stub may still map the old frame: its reference is kept (leaked).
                return Err(host(e));
            }
            if let Some(e) = m.ptes.get_mut(&page) {
                e.mapped = Some(v.prot);
            }
        }
        self.release(std::iter::once(old));
        Ok(np.frame)
    }

    /// Fault in the accessible pages of every VMA in [start, end) (mlock, mlockall); best
    /// effort: a page that cannot be had is left to fault later.
    pub fn populate_range(&self, start: u64, end: u64) {
        let ranges: Vec<(u64, u64)> = {
            let m = self.lock();
            m.vmas
                .values()
                .filter(|v| v.end > start && v.start < end)
                .filter(|v| v.prot.read || v.prot.write || v.prot.exec)
                .map(|v| (v.start.max(start), v.end.min(end)))
                .collect()
        };
        for (s, e) in ranges {
            let _ = self.populate(s, e);
        }
    }

    /// Fault in [start, end) (MAP_POPULATE).
    fn populate(&self, start: u64, end: u64) -> Result<(), FaultError> {
        let mut m = self.lock();
        let v = Self::find_vma(&m, start).ok_or(FaultError::MapErr)?.clone();
        let mut a = start;
        let end = end.min(v.end);
        while a < end {
            let hi = (a + FAULT_AROUND).min(end);
            self.fill(&mut m, &v, a, hi, a, false)?;
            a = hi;
        }
        Ok(())
    }

    // ---- copy in / copy out -------------------------------------------------------------------

    /// The frame holding `page`, for a sentry access. Faults the page in (without mapping it in
    /// the stub) and breaks copy-on-write for writes.
    fn frame_for(&self, m: &mut Inner, page: u64, write: bool) -> Result<u64, Errno> {
        let v = self.vma_for_fault(m, page).ok_or(Errno::EFAULT)?;
        self.frame_in(m, &v, page, write)
    }

    /// `frame_for` with the VMA holding `page` already found.
    fn frame_in(&self, m: &mut Inner, v: &Vma, page: u64, write: bool) -> Result<u64, Errno> {
        let need = if write { Access::WRITE } else { Access::READ };
        if !v.prot.allows(need) {
            return Err(Errno::EFAULT);
        }
        let p = match m.ptes.get(&page).copied() {
            Some(p) => p,
            None => {
                let p = match v.object_off(page) {
                    None => {
                        let frame = self.mf.allocate(PAGE_SIZE).map_err(|_| Errno::ENOMEM)?;
                        Pte {
                            frame,
                            owned: true,
                            mapped: None,
                        }
                    }
                    Some((obj, off)) => {
                        let frame = obj.frame(&self.mf, off)?;
                        self.mf.incref(frame);
                        Pte {
                            frame,
                            owned: false,
                            mapped: None,
                        }
                    }
                };
                m.ptes.insert(page, p);
                p
            }
        };
        // A private page the stub maps writable is ours alone (only such are): no need to ask
        // the memory file.
        let writable = p.owned && p.mapped.is_some_and(|pr| pr.write);
        if write && !v.shared && !writable && !self.exclusive(&p) {
            return self.cow_break(m, page, p, v);
        }
        Ok(p.frame)
    }

    /// Walk [addr, addr+len) page by page with the address space locked (`m`), calling
    /// `f(frame_offset, buffer_offset, n)`; one VMA lookup per VMA, not per page.
    fn walk(
        &self,
        m: &mut Inner,
        addr: u64,
        len: usize,
        write: bool,
        mut f: impl FnMut(u64, usize, usize) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let end = addr.checked_add(len as u64).ok_or(Errno::EFAULT)?;
        let mut vma: Option<Vma> = None;
        let mut a = addr;
        while a < end {
            let page = page_down(a);
            let n = ((page + PAGE_SIZE).min(end) - a) as usize;
            if !vma
                .as_ref()
                .is_some_and(|v| v.start <= page && page < v.end)
            {
                vma = self.vma_for_fault(m, page);
            }
            let v = vma.as_ref().ok_or(Errno::EFAULT)?;
            let frame = self.frame_in(m, v, page, write)?;
            f(frame + (a - page), (a - addr) as usize, n)?;
            a += n as u64;
        }
        Ok(())
    }

    /// Lock the address space for a walk of [addr, addr+len): EFAULT outside the range an
    /// application may map.
    fn lock_range(&self, addr: u64, len: usize) -> Result<MutexGuard<'_, Inner>, Errno> {
        let end = addr.checked_add(len as u64).ok_or(Errno::EFAULT)?;
        if addr < self.min_addr.min(PAGE_SIZE) || end > self.max_addr {
            return Err(Errno::EFAULT);
        }
        Ok(self.lock())
    }

    /// Walk [addr, addr+len) page by page, calling `f(frame_offset, buffer_offset, n)`.
    pub(crate) fn for_each_chunk(
        &self,
        addr: u64,
        len: usize,
        write: bool,
        f: impl FnMut(u64, usize, usize) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        if len == 0 {
            return Ok(());
        }
        let mut m = self.lock_range(addr, len)?;
        self.walk(&mut m, addr, len, write, f)
    }

    /// Resolve application memory [addr, addr+len) (for writing into it if `write`) to
    /// memory-file ranges, merging neighbours, and run `f` over them with the address space
    /// locked, so no frame is freed meanwhile. A fault part way ends the ranges there (the
    /// transfer is short, as in Linux); a fault at `addr` itself is the error.
    pub(crate) fn with_frames(
        &self,
        addr: u64,
        len: usize,
        write: bool,
        f: impl FnOnce(&[(u64, usize)]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        if len == 0 {
            return f(&[]);
        }
        let mut m = self.lock_range(addr, len)?;
        let mut ranges: Vec<(u64, usize)> = Vec::with_capacity(4);
        let walked = self.walk(&mut m, addr, len, write, |frame, _, n| {
            match ranges.last_mut() {
                Some((f0, n0)) if *f0 + *n0 as u64 == frame => *n0 += n,
                _ => ranges.push((frame, n)),
            }
            Ok(())
        });
        match walked {
            Err(e) if ranges.is_empty() => Err(e),
            _ => f(&ranges),
        }
    }

    /// What a shared futex at `addr` is keyed by: the memory-file offset backing it in a
    /// shared mapping (faulting the page in), the same for every process mapping that memory;
    /// None in a private mapping, whose frame changes when copy-on-write breaks, so the key must
    /// be the address in this address space (Linux keys anonymous pages by mm and address too).
    pub fn futex_frame(&self, addr: u64) -> Result<Option<u64>, Errno> {
        let mut m = self.lock();
        let page = page_down(addr);
        let v = self.vma_for_fault(&mut m, page).ok_or(Errno::EFAULT)?;
        if !v.shared {
            return Ok(None);
        }
        let frame = self.frame_for(&mut m, page, false)?;
        Ok(Some(frame + (addr - page)))
    }

    pub fn read_bytes(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let mf = self.mf.clone();
        self.for_each_chunk(addr, buf.len(), false, |frame, off, n| {
            mf.read(frame, &mut buf[off..off + n])
                .map_err(|_| Errno::EFAULT)
        })
    }

    pub fn write_bytes(&self, addr: u64, buf: &[u8]) -> Result<(), Errno> {
        let mf = self.mf.clone();
        self.for_each_chunk(addr, buf.len(), true, |frame, off, n| {
            mf.write(frame, &buf[off..off + n])
                .map_err(|_| Errno::EFAULT)
        })
    }

    /// Atomic compare-and-exchange of the aligned 32-bit word at `addr` (resolved for
    /// writing): Ok(Ok(old)) if it held `old` and now holds `new`, Ok(Err(found)) otherwise.
    pub fn cmpxchg_u32(&self, addr: u64, old: u32, new: u32) -> Result<Result<u32, u32>, Errno> {
        if !addr.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        let mf = self.mf.clone();
        let mut out = Err(0);
        self.for_each_chunk(addr, 4, true, |frame, _, _| {
            out = mf
                .compare_exchange_u32(frame, old, new)
                .map_err(|_| Errno::EFAULT)?;
            Ok(())
        })?;
        Ok(out)
    }

    pub fn zero_bytes(&self, addr: u64, len: u64) -> Result<(), Errno> {
        let mf = self.mf.clone();
        self.for_each_chunk(addr, len as usize, true, |frame, _, n| {
            mf.zero(frame, n as u64).map_err(|_| Errno::EFAULT)
        })
    }

    /// Read a NUL-terminated string of at most `max` bytes (without the NUL).
    /// `ENAMETOOLONG` if no NUL is found within `max` bytes.
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut a = addr;
        // Most strings are short: read 128 bytes, then twice as much each time, never past
        // the end of a page (no overflow near the top of the address space either).
        let mut want = 128usize;
        while out.len() < max {
            let chunk = ((PAGE_SIZE - a % PAGE_SIZE) as usize)
                .min(max - out.len())
                .min(want);
            want = want.saturating_mul(2);
            let mut buf = vec![0u8; chunk];
            self.read_bytes(a, &mut buf)?;
            if let Some(i) = buf.iter().position(|&b| b == 0) {
                out.extend_from_slice(&buf[..i]);
                return Ok(out);
            }
            out.extend_from_slice(&buf);
            a = a.wrapping_add(chunk as u64);
        }
        Err(Errno::ENAMETOOLONG)
    }

    pub fn copy_in<T: Pod>(&self, addr: u64) -> Result<T, Errno> {
        let mut buf = vec![0u8; std::mem::size_of::<T>()];
        self.read_bytes(addr, &mut buf)?;
        T::from_bytes(&buf).ok_or(Errno::EFAULT)
    }

    pub fn copy_out<T: Pod>(&self, addr: u64, v: &T) -> Result<(), Errno> {
        self.write_bytes(addr, v.as_bytes())
    }

    /// Read `len` bytes of application memory into a new buffer.
    pub fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0u8; len];
        self.read_bytes(addr, &mut buf)?;
        Ok(buf)
    }

    /// Read from a host fd straight into application memory (no bounce buffer). Returns bytes
    /// read; stops early on a short read.
    pub fn pread_into(
        &self,
        addr: u64,
        len: usize,
        fd: i32,
        mut file_off: u64,
    ) -> Result<usize, Errno> {
        let mf = self.mf.clone();
        let mut total = 0usize;
        let mut short = false;
        self.for_each_chunk(addr, len, true, |frame, _, n| {
            if short {
                return Ok(());
            }
            let got = mf
                .pread_from(fd, file_off, frame, n as u64)
                .map_err(Errno::from)?;
            total += got;
            file_off += got as u64;
            short = got < n;
            Ok(())
        })
        .or_else(|e| if total > 0 { Ok(()) } else { Err(e) })?;
        Ok(total)
    }
}

impl Drop for MemoryManager {
    fn drop(&mut self) {
        let m = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        for p in m.ptes.values() {
            self.mf.decref(p.frame);
        }
    }
}
