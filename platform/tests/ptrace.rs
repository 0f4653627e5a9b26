//! The ptrace platform runs code in a stub, catches its syscalls, faults and traps.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use platform::ptrace::PtracePlatform;
use platform::{Access, Event, MemoryFile, Platform, Prot, PAGE_SIZE};

const CODE: u64 = 0x40_0000;

fn setup(code: &[u8]) -> (PtracePlatform, Arc<dyn platform::AddressSpace>) {
    let mf = Arc::new(MemoryFile::with_size(1 << 26).unwrap());
    let p = PtracePlatform::new(mf.clone()).unwrap();
    let a = p.new_address_space().unwrap();
    let off = mf.allocate(PAGE_SIZE).unwrap();
    mf.write(off, code).unwrap();
    a.map_file(
        CODE,
        PAGE_SIZE,
        off,
        Prot {
            read: true,
            write: false,
            exec: true,
        },
    )
    .unwrap();
    (p, a)
}

#[test]
fn syscall_fault_and_trap() {
    // mov eax, 39; syscall; mov rax, [0x1000]; int3; ud2
    let code = [
        0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00, 0xcc, 0x0f,
        0x0b,
    ];
    let (p, a) = setup(&code);
    let mut ctx = p.new_context();
    let mut regs = p.initial_regs();
    regs.0.rip = CODE;
    match ctx.switch(a.as_ref(), &mut regs).unwrap() {
        Event::Syscall => assert_eq!(regs.0.orig_rax, 39),
        e => panic!("expected a syscall, got {e:?}"),
    }
    assert_eq!(regs.0.rip, CODE + 7);
    regs.0.rax = 1234;
    match ctx.switch(a.as_ref(), &mut regs).unwrap() {
        Event::Fault { addr, access, .. } => {
            assert_eq!(addr, 0x1000);
            assert_eq!(access, Access::READ);
        }
        e => panic!("expected a fault, got {e:?}"),
    }
    regs.0.rip += 8; // skip the faulting load
    match ctx.switch(a.as_ref(), &mut regs).unwrap() {
        Event::Signal(si) => assert_eq!(si.signo, libc::SIGTRAP),
        e => panic!("expected SIGTRAP, got {e:?}"),
    }
    match ctx.switch(a.as_ref(), &mut regs).unwrap() {
        Event::Signal(si) => assert_eq!(si.signo, libc::SIGILL),
        e => panic!("expected SIGILL, got {e:?}"),
    }
    let fp = ctx.fp_state(a.as_ref()).unwrap();
    assert!(fp.bytes.len() >= 512);
    ctx.reset_fp_state(a.as_ref()).unwrap();
}

#[test]
fn syscall_outside_sysemu_is_killed_by_seccomp() {
    // The stub's seccomp filter kills a syscall not made from the stub page. We provoke one by
    // resuming the stub with PTRACE_CONT instead of SYSEMU, which the platform never does.
    let code = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe];
    let (p, a) = setup(&code);
    let pid = a
        .as_any()
        .downcast_ref::<platform::ptrace::PtraceAddressSpace>()
        .unwrap()
        .pid();
    let mut regs = p.initial_regs();
    regs.0.rip = CODE;
    // SAFETY-free test helper: the stub is our tracee and stopped.
    let rc = platform::ptrace::test_support::cont_with_regs(pid, &regs);
    assert!(rc.is_ok());
    let status = platform::ptrace::test_support::wait(pid);
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS,
        "status {status:#x}"
    );
}
