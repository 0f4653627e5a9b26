//! Where things are in the guest, and the few bytes of guest code the platform owns.
//!
//! Guest physical memory has two slots: the memory file at GPA 0 (so a memory-file offset is
//! its guest physical address) and the platform's *pool* above it, which holds every page
//! table, the descriptor tables, the entry code and the per-vCPU stacks.
//!
//! The top gigabyte of the application's half, `PLATFORM_VA..0x8000_0000_0000`, is the
//! platform's in every address space (the application's address space ends below it). It has
//! to be in the lower half: on nested PVM hosts the guest cannot fetch from the upper half.
//! Every address space's page tables point their entry for that gigabyte at one shared page
//! directory (pool page `PD_PAGE`), which maps:
//!
//! - the pool itself, supervisor-only, with 2 MiB pages at `POOL_VA` (the maintenance vCPU
//!   edits page tables through this window, see `machine.rs`);
//! - a fixed page table at `FIXED_VA`: the entry code page (user-readable: on PVM the
//!   `syscall` instruction jumps to LSTAR without leaving ring 3), the IDT and GDT, and for
//!   each vCPU its TSS and exception stack.

/// The platform's gigabyte; the application's addresses end here.
pub const PLATFORM_VA: u64 = 0x7fff_c000_0000;
/// The pool, mapped whole for the supervisor.
pub const POOL_VA: u64 = PLATFORM_VA;
/// Size of the pool (guest memory for page tables and the platform's pages).
pub const POOL_SIZE: u64 = 256 << 20;
/// The fixed page table's window: 512 pages.
pub const FIXED_VA: u64 = PLATFORM_VA + (512 << 20);
/// Index of the fixed page table in the shared page directory.
pub const FIXED_PDE: usize = 256;

/// Pool pages with a fixed role; the rest are allocated.
pub const PD_PAGE: u64 = 0;
pub const FIXED_PT_PAGE: u64 = 1;
pub const CODE_PAGE: u64 = 2;
pub const IDT_PAGE: u64 = 3;
/// The maintenance vCPU's root: it maps nothing but the platform's gigabyte.
pub const KERNEL_PML4_PAGE: u64 = 4;
pub const KERNEL_PDPT_PAGE: u64 = 5;
pub const FIRST_FREE_PAGE: u64 = 6;

/// Fixed page table slots: the code page, the IDT/GDT page, then two per vCPU.
pub const CODE_SLOT: u64 = 0;
pub const IDT_SLOT: u64 = 1;
pub const MAX_VCPUS: usize = 254;

pub fn tss_slot(vcpu: usize) -> u64 {
    2 + 2 * vcpu as u64
}

pub fn stack_slot(vcpu: usize) -> u64 {
    3 + 2 * vcpu as u64
}

pub fn fixed_va(slot: u64) -> u64 {
    FIXED_VA + slot * 4096
}

pub const CODE_VA: u64 = FIXED_VA + CODE_SLOT * 4096;
pub const IDT_VA: u64 = FIXED_VA + IDT_SLOT * 4096;
/// The GDT shares the IDT's page.
pub const GDT_OFFSET: u64 = 0x800;
pub const GDT_VA: u64 = IDT_VA + GDT_OFFSET;

/// Selectors (Linux's): kernel code and data, 32-bit user code, user data, 64-bit user code.
pub const KERNEL_CS: u16 = 0x10;
pub const KERNEL_DS: u16 = 0x18;
pub const USER32_CS: u16 = 0x23;
pub const USER_DS: u16 = 0x2b;
pub const USER_CS: u16 = 0x33;
/// The TSS selector; the descriptor is loaded through KVM_SET_SREGS, never from the GDT.
pub const TSS_SEL: u16 = 0x40;

const GDT: [u64; 7] = [
    0,
    0,
    0x00af_9b00_0000_ffff, // 0x10 kernel code, 64-bit
    0x00cf_9300_0000_ffff, // 0x18 kernel data
    0x00cf_fb00_0000_ffff, // 0x23 user code, 32-bit
    0x00cf_f300_0000_ffff, // 0x2b user data
    0x00af_fb00_0000_ffff, // 0x33 user code, 64-bit
];
pub const GDT_LIMIT: u16 = (GDT.len() * 8 - 1) as u16;
/// Exceptions only: no interrupt is ever injected into the guest.
pub const IDT_VECTORS: usize = 32;
pub const IDT_LIMIT: u16 = (IDT_VECTORS * 16 - 1) as u16;

/// I/O ports the entry code uses to leave the guest.
pub const SYSCALL_PORT: u16 = 0x10;
pub const DONE_PORT: u16 = 0x11;
pub const VECTOR_PORT: u16 = 0x20;

/// Code page offsets.
pub const SYSCALL_ENTRY: u64 = 0x0;
pub const VECTOR_ENTRY: u64 = 0x10;
const VECTOR_STRIDE: u64 = 4;
/// Unrolled page-table stores: `pop %rdi; pop %rax; mov %rax,(%rdi)` STORES times, then
/// `out %al, $DONE_PORT`. Entering at `STORE64 + (STORES - n) * 5` does the last n.
pub const STORE64: u64 = 0x100;
/// The same with a two-byte store (`mov %ax,(%rdi)`): KVM drops its shadow of a page table
/// on a misaligned write, which is how a freed page-table page is made safe to reuse.
pub const STORE16: u64 = 0x500;
pub const STORES: usize = 192;
const STORE_LEN: u64 = 5;
// Both routines fit in the code page, and a batch's stack (two words a store) in a page.
const _: () = assert!(STORE64 + STORES as u64 * STORE_LEN + 2 <= STORE16);
const _: () = assert!(STORE16 + STORES as u64 * STORE_LEN + 2 < 4096);
const _: () = assert!(STORES * 16 <= 4096);

/// The address execution returns to after the exit of vector `v`'s entry.
pub fn vector_exit_rip(v: u8) -> u64 {
    CODE_VA + VECTOR_ENTRY + VECTOR_STRIDE * v as u64 + 2
}

/// Where to enter a store routine to do its last `n` stores.
pub fn store_entry(routine: u64, n: usize) -> u64 {
    CODE_VA + routine + (STORES - n) as u64 * STORE_LEN
}

/// The entry code page.
pub fn code_page() -> [u8; 4096] {
    let mut c = [0xf4u8; 4096]; // hlt everywhere else
    let out = |c: &mut [u8; 4096], at: usize, port: u16| {
        c[at] = 0xe6; // out %al, $imm8
        c[at + 1] = port as u8;
    };
    out(&mut c, SYSCALL_ENTRY as usize, SYSCALL_PORT);
    for v in 0..IDT_VECTORS {
        out(
            &mut c,
            (VECTOR_ENTRY + VECTOR_STRIDE * v as u64) as usize,
            VECTOR_PORT + v as u16,
        );
    }
    for (base, store) in [
        (STORE64 as usize, [0x48u8, 0x89, 0x07]),
        (STORE16 as usize, [0x66u8, 0x89, 0x07]),
    ] {
        for i in 0..STORES {
            let at = base + i * STORE_LEN as usize;
            c[at] = 0x5f; // pop %rdi
            c[at + 1] = 0x58; // pop %rax
            c[at + 2..at + 5].copy_from_slice(&store);
        }
        out(&mut c, base + STORES * STORE_LEN as usize, DONE_PORT);
    }
    c
}

/// The IDT (32 interrupt gates to the vector entries) and, at `GDT_OFFSET`, the GDT.
pub fn idt_page() -> [u8; 4096] {
    let mut p = [0u8; 4096];
    for v in 0..IDT_VECTORS {
        let h = CODE_VA + VECTOR_ENTRY + VECTOR_STRIDE * v as u64;
        // #BP and #OF may be raised from ring 3 (int3, into), as on Linux.
        let dpl: u64 = if v == 3 || v == 4 { 3 } else { 0 };
        let kind = 0x8e | (dpl << 5); // present, 64-bit interrupt gate
        let lo = (h & 0xffff)
            | (u64::from(KERNEL_CS) << 16)
            | (kind << 40)
            | (((h >> 16) & 0xffff) << 48);
        let hi = h >> 32;
        p[v * 16..v * 16 + 8].copy_from_slice(&lo.to_le_bytes());
        p[v * 16 + 8..v * 16 + 16].copy_from_slice(&hi.to_le_bytes());
    }
    for (i, d) in GDT.iter().enumerate() {
        let at = GDT_OFFSET as usize + i * 8;
        p[at..at + 8].copy_from_slice(&d.to_le_bytes());
    }
    p
}

/// Offset of the I/O permission bitmap in the TSS, and the TSS limit: the bitmap covers ports
/// 0..32 and allows only `SYSCALL_PORT` (the entry code's `out` runs in ring 3 on PVM);
/// every other port is beyond the limit and faults.
const IOMAP: usize = 0x68;
pub const TSS_LIMIT: u32 = IOMAP as u32 + 4;

/// A vCPU's TSS: the exception stack and the I/O bitmap.
pub fn tss_page(stack_top: u64) -> [u8; 4096] {
    let mut t = [0u8; 4096];
    t[4..12].copy_from_slice(&stack_top.to_le_bytes()); // RSP0
    t[0x66..0x68].copy_from_slice(&(IOMAP as u16).to_le_bytes());
    t[IOMAP..IOMAP + 5].fill(0xff);
    let port = usize::from(SYSCALL_PORT);
    t[IOMAP + port / 8] &= !(1 << (port % 8));
    t
}

/// Page table entry bits.
pub const PTE_P: u64 = 1;
pub const PTE_W: u64 = 1 << 1;
pub const PTE_U: u64 = 1 << 2;
pub const PTE_A: u64 = 1 << 5;
pub const PTE_D: u64 = 1 << 6;
pub const PTE_PS: u64 = 1 << 7;
pub const PTE_NX: u64 = 1 << 63;
pub const PTE_ADDR: u64 = 0x000f_ffff_ffff_f000;

/// Which exception vectors push an error code.
pub fn has_error_code(v: u8) -> bool {
    matches!(v, 8 | 10 | 11 | 12 | 13 | 14 | 17 | 21 | 29 | 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_routines_fit_and_end_with_their_exit() {
        let c = code_page();
        for base in [STORE64, STORE16] {
            let end = (base + STORES as u64 * STORE_LEN) as usize;
            assert_eq!(&c[end..end + 2], &[0xe6, DONE_PORT as u8]);
            assert_eq!(store_entry(base, 0), CODE_VA + end as u64);
            assert_eq!(store_entry(base, STORES), CODE_VA + base);
        }
    }

    #[test]
    fn tss_allows_only_the_syscall_port() {
        let t = tss_page(0x1234);
        // The CPU reads two bytes of the bitmap; beyond the TSS limit a port is refused.
        let allowed = |port: usize| {
            IOMAP + port / 8 < TSS_LIMIT as usize && t[IOMAP + port / 8] & (1 << (port % 8)) == 0
        };
        assert!(allowed(SYSCALL_PORT as usize));
        assert!(!allowed(DONE_PORT as usize));
        assert!(!allowed(VECTOR_PORT as usize + 14));
        assert_eq!(
            u64::from_le_bytes(t[4..12].try_into().unwrap_or_default()),
            0x1234
        );
    }
}
