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
        .thread_tid()
        .unwrap();
    let mut regs = p.initial_regs();
    regs.0.rip = CODE;
    let rc = platform::ptrace::test_support::cont_with_regs(pid, &regs);
    assert!(rc.is_ok(), "{rc:?}");
    let status = platform::ptrace::test_support::wait(pid);
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS,
        "status {status:#x}"
    );
}

#[test]
fn threads_of_one_address_space_run_from_several_sentry_threads() {
    // Each sentry thread gets its own stub thread (created by an injected clone); memory is
    // shared between them. The code increments a counter in a data page and calls getpid.
    //   lock inc qword [0x500000]; mov eax, 39; syscall; jmp $-14
    let code = [
        0xf0, 0x48, 0xff, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00, 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb,
        0xee,
    ];
    let (p, a) = setup(&code);
    let mf = p.memory_file().clone();
    let data = mf.allocate(PAGE_SIZE).unwrap();
    a.map_file(
        0x50_0000,
        PAGE_SIZE,
        data,
        Prot {
            read: true,
            write: true,
            exec: false,
        },
    )
    .unwrap();
    let p = Arc::new(p);
    let mut handles = Vec::new();
    for _ in 0..3 {
        let (p, a) = (p.clone(), a.clone());
        handles.push(std::thread::spawn(move || {
            let mut ctx = p.new_context();
            let mut regs = p.initial_regs();
            regs.0.rip = CODE;
            for _ in 0..100 {
                match ctx.switch(a.as_ref(), &mut regs).unwrap() {
                    Event::Syscall => assert_eq!(regs.0.orig_rax, 39),
                    e => panic!("expected a syscall, got {e:?}"),
                }
            }
            let tid = a
                .as_any()
                .downcast_ref::<platform::ptrace::PtraceAddressSpace>()
                .unwrap()
                .thread_tid()
                .unwrap();
            // A sentry thread lets go of its stub thread before it exits (else the kernel's
            // PTRACE_O_EXITKILL would kill the whole stub).
            a.release_thread().unwrap();
            tid
        }));
    }
    let mut tids: Vec<i32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    tids.sort();
    tids.dedup();
    assert_eq!(tids.len(), 3, "one stub thread per sentry thread");
    let mut buf = [0u8; 8];
    mf.read(data, &mut buf).unwrap();
    assert_eq!(u64::from_le_bytes(buf), 300);
    // Address-space changes from a thread with no stub thread go through the master.
    a.unmap(0x50_0000, PAGE_SIZE).unwrap();
}
