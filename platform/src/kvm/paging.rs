//! An application address space: four-level page tables in the pool.
//!
//! Entries are written by the sentry while they were not present, and by the guest (through
//! the maintenance vCPU, see `machine.rs`) once they were, so KVM's shadow of them follows.
//! Intermediate tables are kept until the address space goes: Linux frees them on munmap,
//! but keeping them saves the guest stores that unlinking would need.

use std::any::Any;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::layout::*;
use super::machine::Machine;
use crate::{AddressSpace, PlatformError, Prot, Result, PAGE_SIZE};

pub struct KvmAddressSpace {
    pub(crate) machine: Arc<Machine>,
    /// Pool page of the PML4.
    root: u64,
    tables: Mutex<Vec<u64>>,
}

impl std::fmt::Debug for KvmAddressSpace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KvmAddressSpace(root={})", self.root)
    }
}

/// A leaf entry for a memory-file page: user, accessed and dirty preset (KVM need not write
/// them back), writable and executable as asked. PROT_NONE is not present.
fn leaf(offset: u64, prot: Prot) -> u64 {
    if !(prot.read || prot.write || prot.exec) {
        return 0;
    }
    let mut e = offset | PTE_P | PTE_U | PTE_A | PTE_D;
    if prot.write {
        e |= PTE_W;
    }
    if !prot.exec {
        e |= PTE_NX;
    }
    e
}

/// One entry's change: where it is (pool page, index) and its new value.
struct Edit {
    page: u64,
    index: usize,
    value: u64,
}

impl KvmAddressSpace {
    pub(crate) fn new(machine: Arc<Machine>) -> Result<KvmAddressSpace> {
        let root = machine.pool.allocate()?;
        let pdpt = machine.pool.allocate()?;
        let pool = &machine.pool;
        pool.entries(pdpt)[511].store(machine.platform_pdpte(), Ordering::Relaxed);
        pool.entries(root)[255].store(
            pool.gpa(pdpt) | PTE_P | PTE_W | PTE_U | PTE_A,
            Ordering::Relaxed,
        );
        Ok(KvmAddressSpace {
            machine,
            root,
            tables: Mutex::new(vec![root, pdpt]),
        })
    }

    /// Guest physical address of the root, for CR3.
    pub(crate) fn cr3(&self) -> u64 {
        self.machine.pool.gpa(self.root)
    }

    /// The page table holding `addr`'s leaf entry, made if `create`.
    fn table(&self, tables: &mut Vec<u64>, addr: u64, create: bool) -> Result<Option<u64>> {
        let pool = &self.machine.pool;
        let mut page = self.root;
        for shift in [39u32, 30, 21] {
            let index = ((addr >> shift) & 511) as usize;
            let e = &pool.entries(page)[index];
            let v = e.load(Ordering::Relaxed);
            if v & PTE_P != 0 {
                page = pool
                    .page_of(v & PTE_ADDR)
                    .ok_or(PlatformError::Unsupported(
                        "a page-table entry left the pool",
                    ))?;
                continue;
            }
            if !create {
                return Ok(None);
            }
            let next = pool.allocate()?;
            tables.push(next);
            // Not present before: the sentry may write it (KVM walks afresh on the fault).
            e.store(
                pool.gpa(next) | PTE_P | PTE_W | PTE_U | PTE_A,
                Ordering::Relaxed,
            );
            page = next;
        }
        Ok(Some(page))
    }

    /// Apply leaf changes over `[addr, addr+len)`: `f(old)` gives the new entry (None: keep).
    fn edit(
        &self,
        addr: u64,
        len: u64,
        create: bool,
        mut f: impl FnMut(u64, u64) -> Option<u64>,
    ) -> Result<()> {
        if !addr.is_multiple_of(PAGE_SIZE)
            || !len.is_multiple_of(PAGE_SIZE)
            || addr.saturating_add(len) > PLATFORM_VA
        {
            return Err(PlatformError::Unsupported(
                "a mapping outside the application's half",
            ));
        }
        let pool = &self.machine.pool;
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let mut guest: Vec<Edit> = Vec::new();
        let mut a = addr;
        let end = addr + len;
        while a < end {
            let table_end = ((a >> 21) + 1) << 21;
            let stop = table_end.min(end);
            let Some(page) = self.table(&mut tables, a, create)? else {
                a = stop;
                continue;
            };
            let entries = pool.entries(page);
            while a < stop {
                let index = ((a >> 12) & 511) as usize;
                let old = entries[index].load(Ordering::Relaxed);
                if let Some(new) = f(a, old) {
                    if new != old {
                        if old & PTE_P == 0 {
                            entries[index].store(new, Ordering::Relaxed);
                        } else {
                            guest.push(Edit {
                                page,
                                index,
                                value: new,
                            });
                        }
                    }
                }
                a += PAGE_SIZE;
            }
        }
        // Still under the lock: edits of one address space land in the order they were made.
        let pairs: Vec<(u64, u64)> = guest
            .iter()
            .map(|e| (POOL_VA + e.page * 4096 + e.index as u64 * 8, e.value))
            .collect();
        let done = self.machine.guest_store(&pairs, false);
        drop(tables);
        done
    }
}

impl AddressSpace for KvmAddressSpace {
    fn map_file(&self, addr: u64, len: u64, offset: u64, prot: Prot) -> Result<()> {
        self.edit(addr, len, true, |a, _| {
            Some(leaf(offset + (a - addr), prot))
        })
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<()> {
        self.edit(addr, len, false, |_, _| Some(0))
    }

    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<()> {
        self.edit(addr, len, false, |_, old| {
            (old & PTE_P != 0).then(|| leaf(old & PTE_ADDR, prot))
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for KvmAddressSpace {
    fn drop(&mut self) {
        let tables = std::mem::take(self.tables.get_mut().unwrap_or_else(|e| e.into_inner()));
        self.machine.free_tables(tables);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_entries_follow_the_protection() {
        let rx = Prot {
            read: true,
            write: false,
            exec: true,
        };
        let e = leaf(0x5000, rx);
        assert_eq!(e & PTE_ADDR, 0x5000);
        assert!(e & PTE_P != 0 && e & PTE_U != 0 && e & PTE_W == 0 && e & PTE_NX == 0);
        let rw = Prot {
            read: true,
            write: true,
            exec: false,
        };
        let e = leaf(0x6000, rw);
        assert!(e & PTE_W != 0 && e & PTE_NX != 0);
        assert_eq!(leaf(0x7000, Prot::NONE), 0);
    }
}
