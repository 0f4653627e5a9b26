//! `--strace`: each syscall with decoded arguments and its result, like runsc's.

use std::fmt::Write;

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::syscalls::table::{Arg, Entry};

const MAX_SHOWN: usize = 64;

fn show_bytes(b: &[u8], total: usize) -> String {
    let mut s = String::from("\"");
    for &c in b.iter().take(MAX_SHOWN) {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let _ = write!(s, "\\x{c:02x}");
            }
        }
    }
    s.push('"');
    if total > MAX_SHOWN {
        s.push_str("...");
    }
    s
}

fn arg(t: &Task, kind: Arg, v: u64, args: &[u64; 6], ret: Option<&SysResult>) -> String {
    match kind {
        Arg::Int => (v as i64).to_string(),
        Arg::Hex => format!("{v:#x}"),
        Arg::Fd => (v as i32).to_string(),
        Arg::Oct => format!("{v:#o}"),
        Arg::Path => match t.mm.read_cstr(v, 4096) {
            Ok(p) => show_bytes(&p, p.len()),
            Err(_) => format!("{v:#x}"),
        },
        Arg::InBuf(n) => {
            let len = args[n] as usize;
            match t.mm.read_vec(v, len.min(MAX_SHOWN)) {
                Ok(b) => show_bytes(&b, len),
                Err(_) => format!("{v:#x}"),
            }
        }
        Arg::OutBuf => match ret {
            Some(Ok(n)) => match t.mm.read_vec(v, (*n as usize).min(MAX_SHOWN)) {
                Ok(b) => show_bytes(&b, *n as usize),
                Err(_) => format!("{v:#x}"),
            },
            _ => format!("{v:#x}"),
        },
    }
}

fn line(t: &Task, nr: u64, e: Option<&Entry>, args: &[u64; 6], ret: Option<&SysResult>) -> String {
    let name = e
        .map(|e| e.name.to_string())
        .unwrap_or_else(|| format!("syscall_{nr}"));
    let kinds: &[Arg] = e.map(|e| e.args).unwrap_or(&[Arg::Hex; 6]);
    let shown: Vec<String> = kinds
        .iter()
        .zip(args.iter())
        .map(|(&k, &v)| arg(t, k, v, args, ret))
        .collect();
    format!("[{:>4}] {}({})", t.tid, name, shown.join(", "))
}

pub fn enter(t: &Task, nr: u64, e: Option<&Entry>, args: &[u64; 6]) {
    eprintln!("{} E", line(t, nr, e, args, None));
}

pub fn exit(t: &Task, nr: u64, e: Option<&Entry>, args: &[u64; 6], ret: &SysResult) {
    let r = match ret {
        Ok(v) => format!("{:#x}", v),
        Err(Errno(n)) => format!("-{} ({})", n, Errno(*n).name()),
    };
    eprintln!("{} = {}", line(t, nr, e, args, Some(ret)), r);
}
