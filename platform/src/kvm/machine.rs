//! The VM: its memory slots, the pool of platform pages, vCPUs, and the maintenance vCPU
//! that edits page tables.
//!
//! KVM on the hosts we run on shadows the guest's page tables (nested PVM has no EPT). A
//! shadowed page-table page is write-protected against the *guest*; a store the sentry makes
//! through its own mapping goes unnoticed, and the stale translation would stay. So:
//! - an entry that was not present may be written by the sentry directly (the guest faults on
//!   it and KVM walks the tables afresh);
//! - an entry that was present (unmap, protect, remap) is stored by the guest itself: the
//!   maintenance vCPU runs a few ring-0 instructions that do the stores, KVM traps each one,
//!   updates its shadow and flushes every vCPU's TLB before the operation returns;
//! - a page-table page is reused only after a misaligned guest store made KVM drop any shadow
//!   of it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kvm_bindings::{kvm_segment, kvm_userspace_memory_region, CpuId, Msrs};
use kvm_ioctls::{Kvm, SyncReg, VcpuExit, VcpuFd, VmFd};

use super::layout::*;
use super::{KVM_HAS_DEVICE_ATTR, KVM_SET_DEVICE_ATTR};
use crate::{MemoryFile, PlatformError, Result};

fn kvm_err(op: &'static str) -> impl FnOnce(kvm_ioctls::Error) -> PlatformError {
    move |e| PlatformError::Host {
        op,
        source: std::io::Error::from_raw_os_error(e.errno()),
    }
}

/// Guest memory the platform owns, mapped in the sentry.
pub(crate) struct Pool {
    base: *mut u8,
    /// Guest physical address of page 0.
    gpa: u64,
    alloc: Mutex<PoolAlloc>,
}

// SAFETY: `base` is a shared mapping that lives as long as the pool; all access goes through
// atomics or through pages a single owner writes under a lock.
unsafe impl Send for Pool {}
// SAFETY: as above.
unsafe impl Sync for Pool {}

struct PoolAlloc {
    next: u64,
    /// Pages freed and made safe to reuse (no shadow of them remains, zero-filled).
    free: Vec<u64>,
}

impl Pool {
    fn new(gpa: u64) -> Result<Pool> {
        // SAFETY: a fresh anonymous shared mapping at an address the kernel picks; it aliases
        // nothing and is unmapped in Drop.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                POOL_SIZE as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(PlatformError::last("mmap(kvm pool)"));
        }
        Ok(Pool {
            base: base.cast(),
            gpa,
            alloc: Mutex::new(PoolAlloc {
                next: FIRST_FREE_PAGE,
                free: Vec::new(),
            }),
        })
    }

    pub fn gpa(&self, page: u64) -> u64 {
        self.gpa + page * 4096
    }

    /// The page a guest physical address of the pool is in.
    pub fn page_of(&self, gpa: u64) -> Option<u64> {
        let page = gpa.checked_sub(self.gpa)? / 4096;
        (page < POOL_SIZE / 4096).then_some(page)
    }

    /// The 512 entries of a pool page, as atomics (KVM reads them concurrently).
    pub fn entries(&self, page: u64) -> &[AtomicU64] {
        assert!(page < POOL_SIZE / 4096, "pool page {page} out of range");
        // SAFETY: the page lies inside the mapping (checked above), which lives as long as
        // `self`; u64 atomics have the alignment of a page start.
        unsafe {
            std::slice::from_raw_parts(self.base.add(page as usize * 4096).cast::<AtomicU64>(), 512)
        }
    }

    pub fn write(&self, page: u64, bytes: &[u8; 4096]) {
        for (e, chunk) in self.entries(page).iter().zip(bytes.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            e.store(u64::from_le_bytes(w), Ordering::Relaxed);
        }
    }

    pub fn read_u64(&self, page: u64, offset: usize) -> u64 {
        self.entries(page)[(offset / 8) % 512].load(Ordering::Relaxed)
    }

    pub fn allocate(&self) -> Result<u64> {
        let mut a = self.alloc.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = a.free.pop() {
            return Ok(p);
        }
        if a.next >= POOL_SIZE / 4096 {
            return Err(PlatformError::Unsupported(
                "the KVM platform's page-table pool is exhausted",
            ));
        }
        a.next += 1;
        Ok(a.next - 1)
    }

    fn release(&self, pages: impl IntoIterator<Item = u64>) {
        let mut a = self.alloc.lock().unwrap_or_else(|e| e.into_inner());
        for p in pages {
            for e in self.entries(p) {
                e.store(0, Ordering::Relaxed);
            }
            a.free.push(p);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; no reference into it outlives
        // the pool (entries borrow `self`).
        unsafe { libc::munmap(self.base.cast(), POOL_SIZE as usize) };
    }
}

/// A vCPU with its TSS and stack.
pub(crate) struct Vcpu {
    pub fd: VcpuFd,
    pub index: usize,
    /// Pool page of its exception stack, and that stack's top address.
    pub stack_page: u64,
    pub stack_va: u64,
}

/// Fields drop in order: the vCPUs, then the VM, then the memory it maps.
pub(crate) struct Machine {
    vcpus: Mutex<VcpuPool>,
    maint: Mutex<Option<Vcpu>>,
    vm: VmFd,
    _kvm: Kvm,
    pub pool: Pool,
    cpuid: CpuId,
    xcr0: u64,
    _mf: Arc<MemoryFile>,
}

#[derive(Default)]
struct VcpuPool {
    created: usize,
    idle: VecDeque<Vcpu>,
}

/// CR0: PE, MP, ET, NE, WP, AM, PG.
const CR0: u64 = 0x8005_0033;
/// CR4: PAE, OSFXSR, OSXMMEXCPT, FSGSBASE, OSXSAVE.
const CR4: u64 = (1 << 5) | (1 << 9) | (1 << 10) | (1 << 16) | (1 << 18);
/// EFER: SCE, LME, LMA, NXE.
const EFER: u64 = 1 | (1 << 8) | (1 << 10) | (1 << 11);
/// RFLAGS masked on syscall, as Linux: TF, DF, IF, IOPL, NT, AC.
const SFMASK: u64 = 0x4_7700;
const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_CSTAR: u32 = 0xc000_0083;
const MSR_SFMASK: u32 = 0xc000_0084;

impl Machine {
    pub fn new(device: std::os::fd::OwnedFd, mf: Arc<MemoryFile>) -> Result<Machine> {
        use std::os::fd::{FromRawFd, IntoRawFd};
        // SAFETY: the descriptor is an open /dev/kvm whose ownership moves into `Kvm`.
        let kvm = unsafe { Kvm::from_raw_fd(device.into_raw_fd()) };
        for (cap, name) in [
            (kvm_ioctls::Cap::SyncRegs, "KVM_CAP_SYNC_REGS"),
            (kvm_ioctls::Cap::ImmediateExit, "KVM_CAP_IMMEDIATE_EXIT"),
            (kvm_ioctls::Cap::UserMemory, "KVM_CAP_USER_MEMORY"),
            (kvm_ioctls::Cap::Xsave, "KVM_CAP_XSAVE"),
            (kvm_ioctls::Cap::Xcrs, "KVM_CAP_XCRS"),
        ] {
            if !kvm.check_extension(cap) {
                tracing::warn!("KVM lacks {name}");
                return Err(PlatformError::Unsupported(
                    "KVM lacks a capability the kvm platform needs (sync regs, immediate exit, xsave)",
                ));
            }
        }
        let vm = kvm.create_vm().map_err(kvm_err("KVM_CREATE_VM"))?;
        let pool_gpa = mf.size().div_ceil(1 << 30) << 30;
        let pool = Pool::new(pool_gpa)?;
        for (slot, gpa, size, addr) in [
            (0u32, 0u64, mf.size(), mf.base() as u64),
            (1, pool_gpa, POOL_SIZE, pool.base as u64),
        ] {
            let region = kvm_userspace_memory_region {
                slot,
                flags: 0,
                guest_phys_addr: gpa,
                memory_size: size,
                userspace_addr: addr,
            };
            // SAFETY: both mappings stay mapped for the VM's life (the memory file is kept
            // alive by `_mf`, the pool by `pool`, and the VM is dropped before them — field
            // order); guest writes only reach memory meant for the guest.
            unsafe { vm.set_user_memory_region(region) }
                .map_err(kvm_err("KVM_SET_USER_MEMORY_REGION"))?;
        }
        let cpuid = kvm
            .get_supported_cpuid(kvm_bindings::KVM_MAX_CPUID_ENTRIES)
            .map_err(kvm_err("KVM_GET_SUPPORTED_CPUID"))?;
        let xcr0 = supported_xcr0(&cpuid);
        let m = Machine {
            _kvm: kvm,
            vm,
            pool,
            cpuid,
            xcr0,
            vcpus: Mutex::new(VcpuPool::default()),
            maint: Mutex::new(None),
            _mf: mf,
        };
        m.build_platform_pages();
        Ok(m)
    }

    fn build_platform_pages(&self) {
        let p = &self.pool;
        let pd = p.entries(PD_PAGE);
        // The pool, supervisor read/write, never executable, in 2 MiB pages.
        for i in 0..(POOL_SIZE >> 21) {
            let e = (p.gpa + (i << 21)) | PTE_P | PTE_W | PTE_A | PTE_D | PTE_PS | PTE_NX;
            pd[i as usize].store(e, Ordering::Relaxed);
        }
        pd[FIXED_PDE].store(
            p.gpa(FIXED_PT_PAGE) | PTE_P | PTE_W | PTE_U | PTE_A,
            Ordering::Relaxed,
        );
        p.write(CODE_PAGE, &code_page());
        p.write(IDT_PAGE, &idt_page());
        let pt = p.entries(FIXED_PT_PAGE);
        pt[CODE_SLOT as usize].store(p.gpa(CODE_PAGE) | PTE_P | PTE_U | PTE_A, Ordering::Relaxed);
        pt[IDT_SLOT as usize].store(p.gpa(IDT_PAGE) | PTE_P | PTE_A | PTE_NX, Ordering::Relaxed);
        p.entries(KERNEL_PML4_PAGE)[255].store(
            p.gpa(KERNEL_PDPT_PAGE) | PTE_P | PTE_W | PTE_U | PTE_A,
            Ordering::Relaxed,
        );
        p.entries(KERNEL_PDPT_PAGE)[511].store(self.platform_pdpte(), Ordering::Relaxed);
    }

    /// The entry every page-table root has for the platform's gigabyte.
    pub fn platform_pdpte(&self) -> u64 {
        self.pool.gpa(PD_PAGE) | PTE_P | PTE_W | PTE_U | PTE_A
    }

    /// A vCPU for a context: an idle one, or a new one.
    pub fn acquire_vcpu(&self) -> Result<Vcpu> {
        let mut pool = self.vcpus.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = pool.idle.pop_front() {
            return Ok(v);
        }
        let index = pool.created;
        if index >= MAX_VCPUS {
            return Err(PlatformError::Unsupported(
                "too many application threads for the kvm platform's vCPUs",
            ));
        }
        pool.created += 1;
        drop(pool);
        self.new_vcpu(index, false)
    }

    pub fn release_vcpu(&self, v: Vcpu) {
        self.vcpus
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .idle
            .push_back(v);
    }

    fn new_vcpu(&self, index: usize, kernel: bool) -> Result<Vcpu> {
        let p = &self.pool;
        let fd = self
            .vm
            .create_vcpu(index as u64)
            .map_err(kvm_err("KVM_CREATE_VCPU"))?;
        fd.set_cpuid2(&self.cpuid)
            .map_err(kvm_err("KVM_SET_CPUID2"))?;
        let tss = p.allocate()?;
        let stack_page = p.allocate()?;
        let stack_va = fixed_va(stack_slot(index));
        p.write(tss, &tss_page(stack_va + 4096));
        let pt = p.entries(FIXED_PT_PAGE);
        pt[tss_slot(index) as usize].store(
            p.gpa(tss) | PTE_P | PTE_W | PTE_A | PTE_D | PTE_NX,
            Ordering::Relaxed,
        );
        pt[stack_slot(index) as usize].store(
            p.gpa(stack_page) | PTE_P | PTE_W | PTE_A | PTE_D | PTE_NX,
            Ordering::Relaxed,
        );
        let msrs = Msrs::from_entries(&[
            msr(
                MSR_STAR,
                (u64::from(KERNEL_CS) << 32) | (u64::from(USER32_CS) << 48),
            ),
            msr(MSR_LSTAR, CODE_VA + SYSCALL_ENTRY),
            msr(MSR_CSTAR, CODE_VA + SYSCALL_ENTRY),
            msr(MSR_SFMASK, SFMASK),
        ])
        .map_err(|_| PlatformError::Unsupported("building the MSR list"))?;
        let set = fd.set_msrs(&msrs).map_err(kvm_err("KVM_SET_MSRS"))?;
        if set != msrs.as_fam_struct_ref().nmsrs as usize {
            return Err(PlatformError::Unsupported("KVM refused the syscall MSRs"));
        }
        let mut xcrs = kvm_bindings::kvm_xcrs {
            nr_xcrs: 1,
            ..Default::default()
        };
        xcrs.xcrs[0].xcr = 0;
        xcrs.xcrs[0].value = self.xcr0;
        fd.set_xcrs(&xcrs).map_err(kvm_err("KVM_SET_XCRS"))?;
        {
            // The vDSO reads the TSC and converts it with the sentry's (host) parameters: the
            // guest's TSC must be the host's.
            let attr = kvm_bindings::kvm_device_attr {
                group: kvm_bindings::KVM_VCPU_TSC_CTRL,
                attr: u64::from(kvm_bindings::KVM_VCPU_TSC_OFFSET),
                addr: &0u64 as *const u64 as u64,
                flags: 0,
            };
            if vcpu_device_attr(&fd, KVM_HAS_DEVICE_ATTR, &attr)
                && !vcpu_device_attr(&fd, KVM_SET_DEVICE_ATTR, &attr)
            {
                return Err(PlatformError::last("KVM_SET_DEVICE_ATTR(TSC offset)"));
            }
        }
        let mut s = fd.get_sregs().map_err(kvm_err("KVM_GET_SREGS"))?;
        s.cr0 = CR0;
        s.cr4 = CR4;
        s.efer = EFER;
        s.cr3 = p.gpa(KERNEL_PML4_PAGE);
        s.gdt.base = GDT_VA;
        s.gdt.limit = GDT_LIMIT;
        s.idt.base = IDT_VA;
        s.idt.limit = IDT_LIMIT;
        s.tr = kvm_segment {
            base: fixed_va(tss_slot(index)),
            limit: TSS_LIMIT,
            selector: TSS_SEL,
            type_: 11,
            present: 1,
            ..Default::default()
        };
        s.ldt = kvm_segment {
            unusable: 1,
            ..Default::default()
        };
        if kernel {
            s.cs = code_segment(KERNEL_CS, 0);
            s.ss = data_segment(KERNEL_DS, 0);
        } else {
            s.cs = code_segment(USER_CS, 3);
            s.ss = data_segment(USER_DS, 3);
        }
        for seg in [&mut s.ds, &mut s.es, &mut s.fs, &mut s.gs] {
            *seg = data_segment(0, 3);
        }
        fd.set_sregs(&s).map_err(kvm_err("KVM_SET_SREGS"))?;
        let mut v = Vcpu {
            fd,
            index,
            stack_page,
            stack_va,
        };
        v.fd.set_sync_valid_reg(SyncReg::Register);
        v.fd.set_sync_valid_reg(SyncReg::SystemRegister);
        // The synced copy is filled by KVM only at an exit; start it from the real state.
        let regs = v.fd.get_regs().map_err(kvm_err("KVM_GET_REGS"))?;
        let sync = v.fd.sync_regs_mut();
        sync.regs = regs;
        sync.sregs = s;
        Ok(v)
    }

    /// Store `(guest virtual address in the pool window, value)` pairs from inside the guest,
    /// so that KVM sees each store. `two_bytes` stores only the low 16 bits (to drop shadows).
    pub fn guest_store(&self, pairs: &[(u64, u64)], two_bytes: bool) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let mut maint = self.maint.lock().unwrap_or_else(|e| e.into_inner());
        if maint.is_none() {
            let index = {
                let mut pool = self.vcpus.lock().unwrap_or_else(|e| e.into_inner());
                pool.created += 1;
                pool.created - 1
            };
            *maint = Some(self.new_vcpu(index, true)?);
        }
        let Some(v) = maint.as_mut() else {
            return Err(PlatformError::Unsupported("no maintenance vCPU"));
        };
        let routine = if two_bytes { STORE16 } else { STORE64 };
        for chunk in pairs.chunks(STORES) {
            let stack = self.pool.entries(v.stack_page);
            let first = 512 - 2 * chunk.len();
            for (i, &(addr, value)) in chunk.iter().enumerate() {
                stack[first + 2 * i].store(addr, Ordering::Relaxed);
                stack[first + 2 * i + 1].store(value, Ordering::Relaxed);
            }
            run_stores(v, routine, chunk.len(), v.stack_va + first as u64 * 8)?;
        }
        Ok(())
    }

    /// Give page-table pages back: make KVM drop any shadow of them first.
    pub fn free_tables(&self, pages: Vec<u64>) {
        let pairs: Vec<(u64, u64)> = pages
            .iter()
            .map(|&p| (POOL_VA + p * 4096, self.pool.read_u64(p, 0)))
            .collect();
        match self.guest_store(&pairs, true) {
            Ok(()) => self.pool.release(pages),
            // Without the guarantee the pages stay out of use: a leak, not a stale mapping.
            Err(e) => tracing::error!("kvm: not reusing {} page-table pages: {e}", pages.len()),
        }
    }
}

/// Run the last `n` stores of `routine` on the maintenance vCPU, their pairs at `rsp`. A
/// stray signal only means running the batch again (the stores are idempotent).
fn run_stores(v: &mut Vcpu, routine: u64, n: usize, rsp: u64) -> Result<()> {
    for _ in 0..8 {
        let r = &mut v.fd.sync_regs_mut().regs;
        r.rip = store_entry(routine, n);
        r.rsp = rsp;
        r.rflags = 2;
        v.fd.set_sync_dirty_reg(SyncReg::Register);
        match v.fd.run() {
            Ok(VcpuExit::IoOut(DONE_PORT, _)) => return Ok(()),
            Ok(VcpuExit::IoOut(port, _)) if port >= VECTOR_PORT => {
                let cr2 = v.fd.sync_regs().sregs.cr2;
                tracing::error!(
                    "kvm: page-table store faulted: vector {} cr2 {cr2:#x}",
                    port - VECTOR_PORT
                );
                return Err(PlatformError::Unsupported("a page-table store faulted"));
            }
            Ok(e) => {
                tracing::error!("kvm: page-table store ended with {e:?}");
                return Err(PlatformError::Unsupported(
                    "a page-table store ended unexpectedly",
                ));
            }
            Err(e) if e.errno() == libc::EINTR => continue,
            Err(e) => return Err(kvm_err("KVM_RUN(page-table store)")(e)),
        }
    }
    Err(PlatformError::Unsupported(
        "a page-table store did not complete",
    ))
}

/// A vCPU device-attribute ioctl (kvm-ioctls offers these for vCPUs only on other
/// architectures).
fn vcpu_device_attr(fd: &VcpuFd, op: u64, attr: &kvm_bindings::kvm_device_attr) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: the ioctl reads one kvm_device_attr, which `attr` is, and (for SET) the u64
    // its `addr` points at, which outlives the call.
    unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            op,
            attr as *const kvm_bindings::kvm_device_attr,
        ) == 0
    }
}

fn msr(index: u32, data: u64) -> kvm_bindings::kvm_msr_entry {
    kvm_bindings::kvm_msr_entry {
        index,
        data,
        ..Default::default()
    }
}

pub(crate) fn code_segment(selector: u16, dpl: u8) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_: 11,
        present: 1,
        dpl,
        db: u8::from(selector == USER32_CS),
        s: 1,
        l: u8::from(selector != USER32_CS),
        g: 1,
        ..Default::default()
    }
}

pub(crate) fn data_segment(selector: u16, dpl: u8) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_: 3,
        present: 1,
        dpl,
        db: 1,
        s: 1,
        g: 1,
        unusable: u8::from(selector == 0),
        ..Default::default()
    }
}

/// The XSAVE features to enable in the guest: what KVM supports (CPUID leaf 0xd) and the host
/// has enabled.
fn supported_xcr0(cpuid: &CpuId) -> u64 {
    let kvm = cpuid
        .as_slice()
        .iter()
        .find(|e| e.function == 0xd && e.index == 0)
        .map_or(3, |e| u64::from(e.eax) | (u64::from(e.edx) << 32));
    kvm & crate::host::xcr0() | 1
}
