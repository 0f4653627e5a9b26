//! Builds the sentry's vDSO (a tiny shared object, C compiled by the system compiler).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = PathBuf::from("src/loader/vdso");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("vdso.so");
    for f in ["vdso.c", "vdso.lds", "vdso.map"] {
        println!("cargo:rerun-if-changed={}", src.join(f).display());
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args([
            "-O2",
            "-fPIC",
            "-shared",
            "-nostdlib",
            "-fno-stack-protector",
            "-fno-builtin",
            "-fno-asynchronous-unwind-tables",
            "-fno-exceptions",
            "-mno-red-zone",
            "-Wall",
            "-Wl,--hash-style=both",
            "-Wl,-soname=linux-vdso.so.1",
            "-Wl,--build-id=none",
            "-Wl,-Bsymbolic",
            "-Wl,-z,max-page-size=4096",
            "-Wl,--no-undefined",
        ])
        .arg(format!("-Wl,-T,{}", src.join("vdso.lds").display()))
        .arg(format!(
            "-Wl,--version-script={}",
            src.join("vdso.map").display()
        ))
        .arg(src.join("vdso.c"))
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("running {cc} to build the vDSO: {e}"));
    assert!(status.success(), "building the vDSO failed");
}
