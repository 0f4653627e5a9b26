//! Loading a program: `#!` scripts, static and dynamic ELF, the initial stack and auxv.

pub mod elf;
pub mod vdso;

use std::sync::Arc;

use platform::{Prot, PAGE_SIZE};

use crate::errno::Errno;
use crate::mm::{page_down, page_up, Backing, MemoryManager, MmapOpts};
use crate::vfs::{self, Creds, Dentry, FsContext, OpenFile};

/// Where a position-independent executable is loaded (Linux's ELF_ET_DYN_BASE).
const ET_DYN_BASE: u64 = 0x5555_5555_4000;
/// `#!` line limit (BINPRM_BUF_SIZE) and nesting limit of interpreters.
const BINPRM_BUF_SIZE: usize = 256;
const MAX_INTERP_DEPTH: usize = 4;
/// Longest single argument or environment string (MAX_ARG_STRLEN).
const MAX_ARG_STRLEN: usize = 32 * PAGE_SIZE as usize;
/// Initial size of the stack mapping; it grows down to RLIMIT_STACK.
const INITIAL_STACK: u64 = 128 * 1024;

// Auxiliary vector keys (elf.h).
const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_BASE: u64 = 7;
const AT_FLAGS: u64 = 8;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_PLATFORM: u64 = 15;
const AT_HWCAP: u64 = 16;
const AT_CLKTCK: u64 = 17;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_HWCAP2: u64 = 26;
const AT_EXECFN: u64 = 31;
const AT_SYSINFO_EHDR: u64 = 33;
const AT_MINSIGSTKSZ: u64 = 51;

/// What exec needs from the caller.
pub struct ExecArgs<'a> {
    pub fs: &'a FsContext,
    pub creds: Creds,
    pub path: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub stack_limit: u64,
}

/// The loaded image: where to start.
pub struct Image {
    pub entry: u64,
    pub sp: u64,
    /// The executable's path as given (for /proc/self/exe and comm).
    pub exe: Arc<Dentry>,
    pub argv: Vec<Vec<u8>>,
}

/// Open an executable for exec: a regular file we may execute.
fn open_exec(
    fs: &FsContext,
    creds: &Creds,
    path: &[u8],
) -> Result<(Arc<Dentry>, Arc<OpenFile>), Errno> {
    let d = vfs::resolve(fs, creds, &fs.cwd, path, true)?;
    if d.file_type() != libc::S_IFREG || d.noexec() {
        return Err(Errno::EACCES);
    }
    vfs::may_access(&d.inode.stat()?, creds, 1, false)?;
    let ops = d.inode.open(libc::O_RDONLY as u32)?;
    Ok((
        d.clone(),
        OpenFile::new(Some(d), ops, libc::O_RDONLY as u32),
    ))
}

fn read_at(f: &OpenFile, off: u64, len: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while done < len {
        let n = f.ops.read(&mut buf[done..], off + done as u64)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    buf.truncate(done);
    Ok(buf)
}

/// Parse a `#!` line: (interpreter, optional argument).
fn parse_shebang(head: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>), Errno> {
    let line = &head[2..head.len().min(BINPRM_BUF_SIZE)];
    let line = match line.iter().position(|&b| b == b'\n') {
        Some(i) => &line[..i],
        None => line,
    };
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = line.iter().position(|b| !is_ws(b)).ok_or(Errno::ENOEXEC)?;
    let line = &line[start..];
    let end = line
        .iter()
        .rposition(|b| !is_ws(b))
        .map(|i| i + 1)
        .unwrap_or(0);
    let line = &line[..end];
    let (interp, rest) = match line.iter().position(is_ws) {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, &line[line.len()..]),
    };
    if interp.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    let arg = rest
        .iter()
        .position(|b| !is_ws(b))
        .map(|i| rest[i..].to_vec());
    Ok((interp.to_vec(), arg))
}

/// Parse the ELF header in `head` and read the program headers it points to.
fn read_elf(file: &OpenFile, head: &[u8]) -> Result<(elf::Header, Vec<elf::Phdr>), Errno> {
    let h = elf::parse_header(head)?;
    let bytes = read_at(file, h.phoff, h.phnum as usize * 56)?;
    Ok((h, elf::parse_phdrs(&h, &bytes)?))
}

/// Map an ELF file's PT_LOAD segments. Returns (bias, entry, phdr address, phnum, end of image).
fn map_elf(
    mm: &MemoryManager,
    file: &Arc<OpenFile>,
    h: &elf::Header,
    phdrs: &[elf::Phdr],
    is_interp: bool,
) -> Result<(u64, u64, u64, u64), Errno> {
    let loads: Vec<&elf::Phdr> = phdrs.iter().filter(|p| p.kind == elf::PT_LOAD).collect();
    let first = loads.first().ok_or(Errno::ENOEXEC)?;
    let lo = page_down(first.vaddr);
    let mut hi = 0;
    for p in &loads {
        if p.filesz > p.memsz || (p.vaddr.wrapping_sub(p.offset)) % PAGE_SIZE != 0 {
            return Err(Errno::ENOEXEC);
        }
        let end = p
            .vaddr
            .checked_add(p.memsz)
            .and_then(page_up)
            .ok_or(Errno::ENOEXEC)?;
        hi = hi.max(end);
    }
    let span = hi.checked_sub(lo).ok_or(Errno::ENOEXEC)?;
    let bias = if h.kind == elf::ET_DYN {
        let base = if is_interp {
            mm.find_free_range(span).ok_or(Errno::ENOMEM)?
        } else {
            ET_DYN_BASE
        };
        base.wrapping_sub(lo)
    } else {
        0
    };
    let mut mappable = file.ops.mappable().ok_or(Errno::EACCES)?;
    if let Some(d) = &file.dentry {
        // The path from the sandbox's root, for /proc/<pid>/maps.
        let mut root = d.clone();
        loop {
            let up = match (root.parent(), &root.covers) {
                (Some(p), _) => p,
                (None, Some(c)) => c.clone(),
                (None, None) => break,
            };
            root = up;
        }
        mappable = crate::mm::named(mappable, d, &root);
    }
    for p in &loads {
        let prot = Prot {
            read: p.flags & elf::PF_R != 0,
            write: p.flags & elf::PF_W != 0,
            exec: p.flags & elf::PF_X != 0,
        };
        let start = page_down(p.vaddr).wrapping_add(bias);
        let file_end = p.vaddr.wrapping_add(p.filesz).wrapping_add(bias);
        let mem_end =
            page_up(p.vaddr.wrapping_add(p.memsz).wrapping_add(bias)).ok_or(Errno::ENOEXEC)?;
        if start >= mem_end || file_end < start {
            return Err(Errno::ENOEXEC);
        }
        let map_end = page_up(file_end).ok_or(Errno::ENOEXEC)?;
        if p.filesz > 0 {
            let backing = Backing::Object {
                obj: mappable.clone(),
                off: page_down(p.offset),
            };
            mm.mmap(MmapOpts::fixed_private(
                start,
                map_end - start,
                prot,
                backing,
            ))?;
            // Zero the rest of the last file page (bss start).
            if p.memsz > p.filesz && map_end > file_end && prot.write {
                mm.zero_bytes(file_end, map_end - file_end)?;
            }
        }
        let anon_start = if p.filesz > 0 { map_end } else { start };
        if mem_end > anon_start {
            mm.mmap(MmapOpts::fixed_private(
                anon_start,
                mem_end - anon_start,
                prot,
                Backing::Anon,
            ))?;
        }
    }
    // Where the program headers are in memory.
    let phdr = match phdrs.iter().find(|p| p.kind == elf::PT_PHDR) {
        Some(p) => p.vaddr.wrapping_add(bias),
        None => loads
            .iter()
            .find(|p| p.offset <= h.phoff && h.phoff < p.offset + p.filesz)
            .map(|p| p.vaddr.wrapping_add(h.phoff - p.offset).wrapping_add(bias))
            .unwrap_or(0),
    };
    Ok((
        bias,
        h.entry.wrapping_add(bias),
        phdr,
        hi.wrapping_add(bias),
    ))
}

/// Load the program named by `args` into a fresh address space, made by `make_mm` once the
/// program is found and its headers read (a failed lookup, as a shell's PATH search makes
/// many of, costs no address space); the image and that address space.
pub fn load(
    make_mm: impl FnOnce() -> Result<Arc<MemoryManager>, Errno>,
    vdso: &Arc<vdso::Vdso>,
    args: ExecArgs<'_>,
) -> Result<(Image, Arc<MemoryManager>), Errno> {
    let mut path = args.path.clone();
    let mut argv = args.argv.clone();
    let execfn = args.path.clone();
    let mut depth = 0;
    let (exe, file, head) = loop {
        let (d, f) = open_exec(args.fs, &args.creds, &path)?;
        let head = read_at(&f, 0, BINPRM_BUF_SIZE.max(64))?;
        if head.starts_with(b"#!") {
            depth += 1;
            if depth > MAX_INTERP_DEPTH {
                return Err(Errno::ELOOP);
            }
            let (interp, arg) = parse_shebang(&head)?;
            let mut nargv = vec![interp.clone()];
            nargv.extend(arg);
            nargv.push(path.clone());
            nargv.extend(argv.into_iter().skip(1));
            argv = nargv;
            path = interp;
            continue;
        }
        break (d, f, head);
    };
    let (h, phdrs) = read_elf(&file, &head)?;
    let mm_ref = make_mm()?;
    let mm = &*mm_ref;
    // The stub maps the program's pages in one go at the end.
    mm.begin_load();

    // Layout: stack at the top, mmap area below it, heap after the executable.
    let stack_top = page_down(mm.max_addr() - PAGE_SIZE) & !0xffff;
    let mmap_top = stack_top - args.stack_limit.max(128 << 20) - (1 << 30);
    mm.set_layout(0, mmap_top, args.stack_limit);

    let (_, entry, phdr, end) = map_elf(mm, &file, &h, &phdrs, false)?;
    let mut base = 0;
    let mut start = entry;
    if let Some(ip) = phdrs.iter().find(|p| p.kind == elf::PT_INTERP) {
        if ip.filesz == 0 || ip.filesz > 4096 {
            return Err(Errno::ENOEXEC);
        }
        let mut ipath = read_at(&file, ip.offset, ip.filesz as usize)?;
        while ipath.last() == Some(&0) {
            ipath.pop();
        }
        let (_, ifile) = open_exec(args.fs, &args.creds, &ipath)?;
        let (ih, iph) = read_elf(&ifile, &read_at(&ifile, 0, 64)?)?;
        let (ibias, ientry, _, _) = map_elf(mm, &ifile, &ih, &iph, true)?;
        let first = iph
            .iter()
            .filter(|p| p.kind == elf::PT_LOAD)
            .map(|p| page_down(p.vaddr))
            .min();
        base = ibias.wrapping_add(first.unwrap_or(0));
        start = ientry;
    }
    mm.set_layout(end, mmap_top, args.stack_limit);
    let vdso_addr = vdso.map(mm)?;

    // The stack.
    let stack_start = stack_top - INITIAL_STACK;
    let rw = Prot {
        read: true,
        write: true,
        exec: false,
    };
    mm.mmap(MmapOpts {
        growsdown: true,
        ..MmapOpts::fixed_private(stack_start, INITIAL_STACK, rw, Backing::Anon)
    })?;
    mm.set_name(stack_start, "[stack]");
    let auxv_info = AuxInfo {
        phdr,
        phnum: h.phnum as u64,
        base,
        entry,
        vdso: vdso_addr,
        creds: args.creds,
    };
    let sp = build_stack(
        mm,
        stack_top,
        args.stack_limit,
        &argv,
        &args.envp,
        &execfn,
        &auxv_info,
    )?;
    mm.end_load();
    let image = Image {
        entry: start,
        sp,
        exe,
        argv,
    };
    Ok((image, mm_ref))
}

struct AuxInfo {
    phdr: u64,
    phnum: u64,
    base: u64,
    entry: u64,
    vdso: u64,
    creds: Creds,
}

/// Write strings, auxv, envp, argv and argc below `top`; returns the initial stack pointer.
fn build_stack(
    mm: &MemoryManager,
    top: u64,
    stack_limit: u64,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
    aux: &AuxInfo,
) -> Result<u64, Errno> {
    let strings: usize =
        argv.iter().chain(envp).map(|s| s.len() + 1).sum::<usize>() + execfn.len() + 1;
    if argv.iter().chain(envp).any(|s| s.len() >= MAX_ARG_STRLEN)
        || strings > (stack_limit / 4) as usize
    {
        return Err(Errno::E2BIG);
    }
    let mut sp = top - 8; // a NULL word at the very top, as Linux leaves
    let push_bytes = |sp: &mut u64, b: &[u8]| -> Result<u64, Errno> {
        *sp -= b.len() as u64 + 1;
        mm.write_bytes(*sp, b)?;
        mm.write_bytes(*sp + b.len() as u64, &[0])?;
        Ok(*sp)
    };
    let execfn_addr = push_bytes(&mut sp, execfn)?;
    let mut env_addrs = Vec::with_capacity(envp.len());
    for e in envp.iter().rev() {
        env_addrs.push(push_bytes(&mut sp, e)?);
    }
    env_addrs.reverse();
    let mut arg_addrs = Vec::with_capacity(argv.len());
    for a in argv.iter().rev() {
        arg_addrs.push(push_bytes(&mut sp, a)?);
    }
    arg_addrs.reverse();
    // Where the strings are, for /proc/<pid>/cmdline and environ (argv's, then envp's, then
    // the executable's name, upward).
    let env_start = env_addrs.first().copied().unwrap_or(execfn_addr);
    let arg_start = arg_addrs.first().copied().unwrap_or(env_start);
    mm.set_arg_env(arg_start, env_start, env_start, execfn_addr);
    let platform_addr = push_bytes(&mut sp, b"x86_64")?;
    let mut random = [0u8; 16];
    platform::host::getrandom(&mut random);
    sp = (sp - 16) & !15;
    let random_addr = sp;
    mm.write_bytes(random_addr, &random)?;

    let auxv: Vec<(u64, u64)> = vec![
        (AT_SYSINFO_EHDR, aux.vdso),
        (AT_MINSIGSTKSZ, 2048),
        (AT_HWCAP, platform::host::hwcap()),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, 100),
        (AT_PHDR, aux.phdr),
        (AT_PHENT, 56),
        (AT_PHNUM, aux.phnum),
        (AT_BASE, aux.base),
        (AT_FLAGS, 0),
        (AT_ENTRY, aux.entry),
        (AT_UID, aux.creds.uid as u64),
        (AT_EUID, aux.creds.euid as u64),
        (AT_GID, aux.creds.gid as u64),
        (AT_EGID, aux.creds.egid as u64),
        (AT_SECURE, 0),
        (AT_RANDOM, random_addr),
        (AT_HWCAP2, platform::host::hwcap2()),
        (AT_EXECFN, execfn_addr),
        (AT_PLATFORM, platform_addr),
        (AT_NULL, 0),
    ];
    let words = 1 + arg_addrs.len() + 1 + env_addrs.len() + 1 + auxv.len() * 2;
    sp -= words as u64 * 8;
    sp &= !15;
    let mut v: Vec<u64> = Vec::with_capacity(words);
    v.push(argv.len() as u64);
    v.extend(&arg_addrs);
    v.push(0);
    v.extend(&env_addrs);
    v.push(0);
    for (k, val) in auxv {
        v.push(k);
        v.push(val);
    }
    let bytes: Vec<u8> = v.iter().flat_map(|w| w.to_le_bytes()).collect();
    mm.write_bytes(sp, &bytes)?;
    Ok(sp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang_lines() {
        assert_eq!(
            parse_shebang(b"#!/bin/sh\necho"),
            Ok((b"/bin/sh".to_vec(), None))
        );
        let env = parse_shebang(b"#! /usr/bin/env  python3 -u \n");
        assert_eq!(
            env,
            Ok((b"/usr/bin/env".to_vec(), Some(b"python3 -u".to_vec())))
        );
        assert_eq!(parse_shebang(b"#!   \n"), Err(Errno::ENOEXEC));
    }
}
