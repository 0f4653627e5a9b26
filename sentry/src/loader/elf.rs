//! ELF64 header and program header parsing. Every field read is bounds-checked; anything
//! malformed is ENOEXEC.

use crate::errno::Errno;

pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;
pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
/// Linux refuses more than 64 KiB of program headers.
const MAX_PHDRS_BYTES: usize = 65536;

#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub kind: u16,
    pub entry: u64,
    pub phoff: u64,
    pub phentsize: u16,
    pub phnum: u16,
}

#[derive(Debug, Clone, Copy)]
pub struct Phdr {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

fn u16_at(b: &[u8], o: usize) -> Result<u16, Errno> {
    b.get(o..o + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(Errno::ENOEXEC)
}
fn u32_at(b: &[u8], o: usize) -> Result<u32, Errno> {
    b.get(o..o + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(Errno::ENOEXEC)
}
fn u64_at(b: &[u8], o: usize) -> Result<u64, Errno> {
    let s = b.get(o..o + 8).ok_or(Errno::ENOEXEC)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

pub fn is_elf(b: &[u8]) -> bool {
    b.starts_with(b"\x7fELF")
}

pub fn parse_header(b: &[u8]) -> Result<Header, Errno> {
    if b.len() < EHDR_SIZE || !is_elf(b) {
        return Err(Errno::ENOEXEC);
    }
    // ELFCLASS64, ELFDATA2LSB, EV_CURRENT.
    if b[4] != 2 || b[5] != 1 || b[6] != 1 {
        return Err(Errno::ENOEXEC);
    }
    let h = Header {
        kind: u16_at(b, 16)?,
        entry: u64_at(b, 24)?,
        phoff: u64_at(b, 32)?,
        phentsize: u16_at(b, 54)?,
        phnum: u16_at(b, 56)?,
    };
    if u16_at(b, 18)? != EM_X86_64 || !(h.kind == ET_EXEC || h.kind == ET_DYN) {
        return Err(Errno::ENOEXEC);
    }
    if h.phentsize as usize != PHDR_SIZE
        || h.phnum == 0
        || h.phnum as usize * PHDR_SIZE > MAX_PHDRS_BYTES
    {
        return Err(Errno::ENOEXEC);
    }
    Ok(h)
}

pub fn parse_phdrs(h: &Header, b: &[u8]) -> Result<Vec<Phdr>, Errno> {
    (0..h.phnum as usize)
        .map(|i| {
            let o = i * PHDR_SIZE;
            Ok(Phdr {
                kind: u32_at(b, o)?,
                flags: u32_at(b, o + 4)?,
                offset: u64_at(b, o + 8)?,
                vaddr: u64_at(b, o + 16)?,
                filesz: u64_at(b, o + 32)?,
                memsz: u64_at(b, o + 40)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_header(b"#!/bin/sh\n").err(), Some(Errno::ENOEXEC));
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        assert!(parse_header(&h).is_err());
        h[4] = 2;
        h[5] = 1;
        h[6] = 1;
        h[16] = 2;
        h[18] = 62;
        h[54] = 56;
        h[56] = 1;
        assert!(parse_header(&h).is_ok());
        h[56] = 0;
        assert!(parse_header(&h).is_err());
        for n in 0..64 {
            let _ = parse_header(&h[..n]);
        }
    }
}
