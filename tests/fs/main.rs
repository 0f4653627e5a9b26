//! File system end to end (issue 4): real workloads give the same results as natively, and the
//! overlay root keeps the sandbox's changes in the sandbox.

#[path = "../support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use support::{native, sandboxed, Output};

const T: Duration = Duration::from_secs(300);

/// Tests that write to the host's file systems (natively) take this, so that a test counting
/// files does not race them.
static HOST_WRITES: Mutex<()> = Mutex::new(());

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fs/scripts")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fs")
}

#[track_caller]
fn assert_same(args: &[&str]) -> Output {
    let _g = HOST_WRITES.lock().unwrap_or_else(|e| e.into_inner());
    let cwd = Path::new("/");
    let n = native(args, cwd, &[], T);
    let s = sandboxed(args, cwd, &[], T);
    assert_eq!(n.code, Some(0), "{args:?} natively: {}", n.stderr_str());
    assert_eq!(s.code, n.code, "{args:?} sandboxed: {}", s.stderr_str());
    assert_eq!(s.stdout_str(), n.stdout_str(), "{args:?} output");
    s
}

#[test]
fn tar_of_a_2000_file_tree_like_native() {
    let s = assert_same(&["/bin/sh", &script("tar_tree.sh")]);
    assert!(s.stdout_str().contains("identical"));
}

#[test]
fn python_sqlite3_like_native() {
    let s = assert_same(&["python3", &script("sqlite.py")]);
    assert!(s.stdout_str().contains("(10000, 499520.0"));
}

#[test]
fn python_compileall_like_native() {
    let s = assert_same(&["/bin/sh", &script("compileall.sh")]);
    assert!(s.stdout_str().starts_with("compiled\n62\n"));
}

#[test]
fn find_counts_the_root_like_native() {
    // Nothing of this binary writes meanwhile; anything else on the host might, so the
    // native count is taken before and after and must agree.
    let _g = HOST_WRITES.lock().unwrap_or_else(|e| e.into_inner());
    let args = ["/bin/sh", "-c", "find / -xdev -type f | wc -l"];
    for _ in 0..3 {
        let n1 = native(&args, Path::new("/"), &[], T);
        let s = sandboxed(&args, Path::new("/"), &[], T);
        let n2 = native(&args, Path::new("/"), &[], T);
        assert_eq!(s.code, Some(0), "{}", s.stderr_str());
        if n1.stdout != n2.stdout {
            continue;
        }
        assert_eq!(s.stdout_str(), n1.stdout_str());
        return;
    }
    panic!("the host's file count kept changing");
}

#[test]
fn writes_to_the_root_stay_in_the_sandbox() {
    let before = std::fs::read("/etc/hosts").expect("read /etc/hosts");
    let s = sandboxed(
        &[
            "/bin/sh",
            "-c",
            "echo '10.9.9.9 palisade-test' >> /etc/hosts && grep -c palisade-test /etc/hosts \
             && rm /etc/hostname && ! test -e /etc/hostname && echo removed \
             && mkdir /palisade-new && echo hi > /palisade-new/f && cat /palisade-new/f",
        ],
        Path::new("/"),
        &[],
        T,
    );
    assert_eq!(s.code, Some(0), "{}", s.stderr_str());
    assert_eq!(s.stdout_str(), "1\nremoved\nhi\n");
    assert_eq!(
        std::fs::read("/etc/hosts").expect("read /etc/hosts"),
        before
    );
    assert!(Path::new("/etc/hostname").exists());
    assert!(!Path::new("/palisade-new").exists());
}

/// A lower tree on the host; the sandbox removes, replaces and renames in it.
#[test]
fn overlay_whiteouts_opaque_directories_and_renames() {
    let d = tmp().join("overlay");
    let _ = std::fs::remove_dir_all(&d);
    for p in ["sub", "deep/x", "keep"] {
        std::fs::create_dir_all(d.join(p)).expect("mkdir");
    }
    for (p, text) in [
        ("a", "A\n"),
        ("b", "B\n"),
        ("sub/c", "C\n"),
        ("deep/x/y", "Y\n"),
        ("keep/k", "K\n"),
    ] {
        std::fs::write(d.join(p), text).expect("write");
    }
    let body = "set -e; cd \"$1\"
rm a; ls; test ! -e a && echo a-hidden
rm -r sub; mkdir sub; ls sub | wc -l
echo new > b; mv deep deep2; cat deep2/x/y; ls deep2/x
mv b deep2/b; cat deep2/b; ls
mkdir -p e/f; echo q > e/f/g; mv e e2; cat e2/f/g
ln deep2/b hard; stat -c %h hard
mv keep keep2; echo more >> keep2/k; cat keep2/k; ls -a keep2
mv deep2 keep2/inner; cat keep2/inner/x/y
rm -r keep2; ls";
    let s = sandboxed(
        &["/bin/sh", "-c", body, "sh", &d.to_string_lossy()],
        Path::new("/"),
        &[],
        T,
    );
    assert_eq!(s.code, Some(0), "{}", s.stderr_str());
    assert_eq!(
        s.stdout_str(),
        "b\ndeep\nkeep\nsub\na-hidden\n0\nY\ny\nnew\ndeep2\nkeep\nsub\nq\n2\nK\nmore\n.\n..\nk\nY\ne2\nhard\nsub\n"
    );
    // The host tree is untouched.
    assert_eq!(
        std::fs::read_to_string(d.join("a")).ok().as_deref(),
        Some("A\n")
    );
    assert_eq!(
        std::fs::read_to_string(d.join("b")).ok().as_deref(),
        Some("B\n")
    );
    assert!(d.join("sub/c").exists() && d.join("deep/x/y").exists());
    assert_eq!(
        std::fs::read_to_string(d.join("keep/k")).ok().as_deref(),
        Some("K\n")
    );
}

/// `--overlay2 none` writes through to the host, as runsc's option of that name.
#[test]
fn write_through_root_changes_the_host() {
    let d = tmp().join("through");
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("mkdir");
    std::fs::write(d.join("f"), "orig\n").expect("write");
    let mut c = std::process::Command::new(support::palisade());
    c.args(["do", "--overlay2", "none", "--", "/bin/sh", "-c"])
        .arg(
            "set -e; cd \"$1\"; echo more >> f; mkdir sub; echo x > sub/y; mv sub/y sub/z; \
             ln -s z sub/link; chmod 600 sub/z; rm f; echo gone > g; cat sub/link",
        )
        .arg("sh")
        .arg(&d)
        .current_dir("/");
    let s = support::run(&mut c, T);
    assert_eq!(s.code, Some(0), "{}", s.stderr_str());
    assert_eq!(s.stdout_str(), "x\n");
    use std::os::unix::fs::PermissionsExt;
    assert!(!d.join("f").exists());
    assert_eq!(
        std::fs::read_to_string(d.join("g")).ok().as_deref(),
        Some("gone\n")
    );
    let z = std::fs::metadata(d.join("sub/z")).expect("sub/z");
    assert_eq!(z.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::read_link(d.join("sub/link")).ok(),
        Some(PathBuf::from("z"))
    );
}
