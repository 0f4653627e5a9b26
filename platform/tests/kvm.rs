//! The KVM platform runs code in guest ring 3 and catches its syscalls, faults and traps; page
//! table changes reach the guest at once (KVM shadows the tables on the hosts we run on).
//! Skipped, with a message, where /dev/kvm is missing.

use std::sync::Arc;

use platform::kvm::KvmPlatform;
use platform::{Access, AddressSpace, Event, MemoryFile, Platform, Prot, Regs, PAGE_SIZE};

type Res = Result<(), Box<dyn std::error::Error>>;

const CODE: u64 = 0x40_0000;
const DATA: u64 = 0x60_0000;
const RX: Prot = Prot {
    read: true,
    write: false,
    exec: true,
};
const RW: Prot = Prot {
    read: true,
    write: true,
    exec: false,
};

fn platform() -> Option<(KvmPlatform, Arc<MemoryFile>)> {
    if !std::path::Path::new("/dev/kvm").exists() {
        eprintln!("skipped: /dev/kvm is missing");
        return None;
    }
    let mf = Arc::new(MemoryFile::with_size(1 << 26).ok()?);
    let dev = match KvmPlatform::open_device() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("skipped: {e}");
            return None;
        }
    };
    match KvmPlatform::new(dev, mf.clone()) {
        Ok(p) => Some((p, mf)),
        Err(e) => {
            eprintln!("skipped: the kvm platform is unavailable: {e}");
            None
        }
    }
}

fn load_code(
    p: &KvmPlatform,
    mf: &MemoryFile,
    code: &[u8],
) -> Result<Arc<dyn AddressSpace>, Box<dyn std::error::Error>> {
    let a = p.new_address_space()?;
    let off = mf.allocate(PAGE_SIZE)?;
    mf.write(off, code)?;
    a.map_file(CODE, PAGE_SIZE, off, RX)?;
    Ok(a)
}

fn start(p: &KvmPlatform) -> Regs {
    let mut regs = p.initial_regs();
    regs.0.rip = CODE;
    regs
}

fn expect_signal(e: Event, signo: i32) -> Res {
    match e {
        Event::Signal(si) if si.signo == signo => Ok(()),
        e => Err(format!("expected signal {signo}, got {e:?}").into()),
    }
}

#[test]
fn syscall_fault_and_trap() -> Res {
    let Some((p, mf)) = platform() else {
        return Ok(());
    };
    // mov eax, 39; syscall; mov rax, [0x1000]; int3; ud2
    let code = [
        0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00, 0xcc, 0x0f,
        0x0b,
    ];
    let a = load_code(&p, &mf, &code)?;
    let mut ctx = p.new_context();
    let mut regs = start(&p);
    regs.0.rbx = 0x1234_5678;
    match ctx.switch(a.as_ref(), &mut regs)? {
        Event::Syscall => assert_eq!(regs.0.orig_rax, 39),
        e => return Err(format!("expected a syscall, got {e:?}").into()),
    }
    assert_eq!(regs.0.rip, CODE + 7);
    assert_eq!(regs.0.rbx, 0x1234_5678);
    regs.0.rax = 1234;
    match ctx.switch(a.as_ref(), &mut regs)? {
        Event::Fault { addr, access, .. } => {
            assert_eq!(addr, 0x1000);
            assert_eq!(access, Access::READ);
        }
        e => return Err(format!("expected a fault, got {e:?}").into()),
    }
    assert_eq!(regs.0.rip, CODE + 7);
    assert_eq!(regs.0.rax, 1234);
    regs.0.rip += 8; // skip the faulting load
    expect_signal(ctx.switch(a.as_ref(), &mut regs)?, libc::SIGTRAP)?;
    assert_eq!(regs.0.rip, CODE + 16, "int3 traps after itself");
    expect_signal(ctx.switch(a.as_ref(), &mut regs)?, libc::SIGILL)?;
    assert_eq!(regs.0.rip, CODE + 16, "ud2 faults at itself");
    let fp = ctx.fp_state(a.as_ref())?;
    assert!(fp.bytes.len() >= 512);
    ctx.reset_fp_state(a.as_ref())?;
    Ok(())
}

#[test]
fn privileged_instructions_are_sigsegv() -> Res {
    let Some((p, mf)) = platform() else {
        return Ok(());
    };
    for (name, insn) in [
        ("hlt", &[0xf4u8][..]),
        ("out", &[0xe6, 0x80][..]),
        ("out to the syscall port", &[0xe6, 0x10][..]),
        ("in", &[0xe4, 0x10][..]),
        ("wrmsr", &[0x0f, 0x30][..]),
        ("mov cr3", &[0x0f, 0x22, 0xd8][..]),
        ("cli", &[0xfa][..]),
        ("lgdt", &[0x0f, 0x01, 0x10][..]),
    ] {
        let a = load_code(&p, &mf, insn)?;
        let mut ctx = p.new_context();
        let mut regs = start(&p);
        match ctx.switch(a.as_ref(), &mut regs)? {
            Event::Signal(si) if si.signo == libc::SIGSEGV => {}
            e => return Err(format!("{name}: expected SIGSEGV, got {e:?}").into()),
        }
    }
    Ok(())
}

#[test]
fn probing_outside_the_mappings_faults() -> Res {
    let Some((p, mf)) = platform() else {
        return Ok(());
    };
    // mov rax, [rdi]; syscall (reached only if the read succeeded)
    let code = [0x48, 0x8b, 0x07, 0x0f, 0x05];
    let a = load_code(&p, &mf, &code)?;
    let mut ctx = p.new_context();
    // The platform's own gigabyte (its page tables, descriptor tables and stacks; only the
    // entry code page, at +512 MiB, is readable from ring 3), the kernel half and
    // non-canonical addresses.
    for addr in [
        p.max_user_address(),
        p.max_user_address() + 0x2000_1000,
        p.max_user_address() + 0x2000_3000,
        0x7fff_ffff_f000,
        0xffff_8000_0000_0000,
        0xffff_ffff_ff60_0000,
        0x8000_0000_0000,
    ] {
        let mut regs = start(&p);
        regs.0.rdi = addr;
        match ctx.switch(a.as_ref(), &mut regs)? {
            Event::Fault { .. } | Event::Signal(_) => {}
            e => return Err(format!("{addr:#x}: expected a fault, got {e:?}").into()),
        }
    }
    Ok(())
}

/// Read the qword at DATA and leave with a syscall: returns what was read.
fn read_data(
    ctx: &mut Box<dyn platform::Context>,
    a: &dyn AddressSpace,
    p: &KvmPlatform,
) -> Result<Result<u64, Event>, Box<dyn std::error::Error>> {
    let mut regs = start(p);
    match ctx.switch(a, &mut regs)? {
        Event::Syscall => Ok(Ok(regs.0.rbx)),
        e => Ok(Err(e)),
    }
}

#[test]
fn page_table_changes_reach_the_guest() -> Res {
    let Some((p, mf)) = platform() else {
        return Ok(());
    };
    // mov rbx, [DATA]; syscall
    let code = [0x48, 0x8b, 0x1c, 0x25, 0x00, 0x00, 0x60, 0x00, 0x0f, 0x05];
    let a = load_code(&p, &mf, &code)?;
    let x = mf.allocate(PAGE_SIZE)?;
    let y = mf.allocate(PAGE_SIZE)?;
    mf.write(x, &111u64.to_le_bytes())?;
    mf.write(y, &222u64.to_le_bytes())?;
    let mut ctx = p.new_context();
    for round in 0..20 {
        a.map_file(DATA, PAGE_SIZE, x, RW)?;
        assert_eq!(
            read_data(&mut ctx, a.as_ref(), &p)?.ok(),
            Some(111),
            "round {round}"
        );
        a.map_file(DATA, PAGE_SIZE, y, RW)?;
        assert_eq!(
            read_data(&mut ctx, a.as_ref(), &p)?.ok(),
            Some(222),
            "round {round}"
        );
        a.unmap(DATA, PAGE_SIZE)?;
        match read_data(&mut ctx, a.as_ref(), &p)? {
            Err(Event::Fault { addr, .. }) if addr == DATA => {}
            r => return Err(format!("round {round}: read after unmap gave {r:?}").into()),
        }
    }
    // Write protection: mov [DATA], rbx; syscall
    let code = [0x48, 0x89, 0x1c, 0x25, 0x00, 0x00, 0x60, 0x00, 0x0f, 0x05];
    let b = load_code(&p, &mf, &code)?;
    b.map_file(DATA, PAGE_SIZE, x, RW)?;
    let mut regs = start(&p);
    assert!(matches!(ctx.switch(b.as_ref(), &mut regs)?, Event::Syscall));
    b.protect(DATA, PAGE_SIZE, RX)?;
    let mut regs = start(&p);
    match ctx.switch(b.as_ref(), &mut regs)? {
        Event::Fault { addr, access, .. } if addr == DATA && access == Access::WRITE => {}
        e => return Err(format!("write to a read-only page gave {e:?}").into()),
    }
    Ok(())
}

#[test]
fn a_new_address_space_sees_nothing_of_a_dropped_one() -> Res {
    let Some((p, mf)) = platform() else {
        return Ok(());
    };
    let code = [0x48, 0x8b, 0x1c, 0x25, 0x00, 0x00, 0x60, 0x00, 0x0f, 0x05];
    let secret = mf.allocate(PAGE_SIZE)?;
    mf.write(secret, &0x5ec7e7u64.to_le_bytes())?;
    let mut ctx = p.new_context();
    for _ in 0..10 {
        let a = load_code(&p, &mf, &code)?;
        a.map_file(DATA, PAGE_SIZE, secret, RW)?;
        assert_eq!(read_data(&mut ctx, a.as_ref(), &p)?.ok(), Some(0x5ec7e7));
        drop(a);
        // Its page tables are reused by the next address space, which maps no data.
        let b = load_code(&p, &mf, &code)?;
        match read_data(&mut ctx, b.as_ref(), &p)? {
            Err(Event::Fault { addr, .. }) if addr == DATA => {}
            r => return Err(format!("a fresh address space read {r:?}").into()),
        }
    }
    Ok(())
}

#[test]
fn another_thread_interrupts_a_spinning_guest() -> Res {
    let Some((p, mf)) = platform() else {
        return Ok(());
    };
    let a = load_code(&p, &mf, &[0xeb, 0xfe])?; // jmp .
    let mut ctx = p.new_context();
    let kick = ctx.interrupter();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let kicker = std::thread::spawn(move || {
        while !s.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(20));
            kick.interrupt();
        }
    });
    let mut regs = start(&p);
    for _ in 0..5 {
        let e = ctx.switch(a.as_ref(), &mut regs)?;
        assert!(matches!(e, Event::Interrupt), "{e:?}");
        assert_eq!(regs.0.rip, CODE);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    kicker.join().map_err(|_| "kicker panicked")?;
    Ok(())
}

#[test]
fn floating_point_state_round_trips() -> Res {
    let Some((p, mf)) = platform() else {
        return Ok(());
    };
    // movq xmm0 -> rbx; syscall   (66 48 0f 7e c3 = movq rbx, xmm0)
    let code = [0x66, 0x48, 0x0f, 0x7e, 0xc3, 0x0f, 0x05];
    let a = load_code(&p, &mf, &code)?;
    let mut ctx = p.new_context();
    let mut fp = ctx.fp_state(a.as_ref())?;
    fp.bytes[160..168].copy_from_slice(&0xfeed_f00du64.to_le_bytes()); // XMM0
    ctx.set_fp_state(a.as_ref(), &fp)?;
    let mut regs = start(&p);
    assert!(matches!(ctx.switch(a.as_ref(), &mut regs)?, Event::Syscall));
    assert_eq!(regs.0.rbx, 0xfeed_f00d);
    Ok(())
}
