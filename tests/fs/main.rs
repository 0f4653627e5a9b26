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
    let mut c = support::palisade_cmd();
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

/// A root built by the test, with links planted to lead outside it, and a secret outside.
fn escape_fixture(name: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::symlink;
    let base = tmp().join(name);
    let _ = std::fs::remove_dir_all(&base);
    let root = base.join("rootfs");
    let outside = base.join("outside");
    for d in ["bin", "etc", "proc", "dev", "tmp", "swap"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("busybox");
    symlink("busybox", root.join("bin/sh")).expect("symlink");
    std::fs::write(root.join("swap/x"), "inside\n").expect("write");
    let secret = outside.join("secret");
    std::fs::write(&secret, "SECRET\n").expect("write");
    let depth = secret.components().count();
    symlink(&secret, root.join("abs_link")).expect("symlink");
    symlink(&outside, root.join("dir_link")).expect("symlink");
    symlink(
        format!("{}{}", "../".repeat(depth + 3), secret.display()),
        root.join("rel_link"),
    )
    .expect("symlink");
    // A hard link planted in the root names the secret's inode from inside.
    std::fs::hard_link(&secret, root.join("hard")).expect("link");
    (root, secret)
}

fn run_in(root: &Path, extra: &[&str], script: &str) -> Output {
    let mut c = support::palisade_cmd();
    c.arg("do")
        .arg("--rootfs")
        .arg(root)
        .args(extra)
        .args(["--", "/bin/sh", "-c", script])
        .current_dir("/");
    support::run(&mut c, T)
}

/// Symlinks (absolute, relative, to directories), `..` chains and /proc/self/root never lead
/// out of the sandbox's root, for reading or writing, in either root mode; a hard link
/// planted inside is written in the overlay, not in the host file.
#[test]
fn planted_links_never_leave_the_root() {
    for (mode, extra) in [
        ("overlay", &[][..]),
        ("through", &["--overlay2", "none"][..]),
    ] {
        let (root, secret) = escape_fixture(&format!("escape-{mode}"));
        let secret_s = secret.to_string_lossy().into_owned();
        let dir_s = secret
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let script = format!(
            "for p in /abs_link /rel_link /dir_link/secret /../../../..{secret_s} \
                 /proc/self/root/../../..{secret_s} {secret_s} /proc/1/root{secret_s}; do \
                 cat $p 2>/dev/null; done; \
             cd /../../..; ls {dir_s} 2>/dev/null; \
             echo pwned > /abs_link 2>/dev/null; echo pwned > /dir_link/secret 2>/dev/null; \
             echo pwned > /rel_link 2>/dev/null; \
             ln /abs_link /hard2 2>/dev/null; cat /hard2 2>/dev/null; cat /swap/x"
        );
        let s = run_in(&root, extra, &script);
        assert_eq!(s.code, Some(0), "{mode}: {}", s.stderr_str());
        assert!(
            !s.stdout_str().contains("SECRET"),
            "{mode}: {}",
            s.stdout_str()
        );
        assert_eq!(
            std::fs::read_to_string(&secret).ok().as_deref(),
            Some("SECRET\n"),
            "{mode}"
        );
        assert_eq!(
            std::fs::read_dir(secret.parent().expect("parent"))
                .map(|d| d.count())
                .unwrap_or(0),
            1,
            "{mode}: nothing new outside"
        );
    }
    // In the overlay, writing the planted hard link copies it up: the host inode is unchanged.
    let (root, secret) = escape_fixture("escape-hard");
    let s = run_in(&root, &[], "echo changed > /hard; cat /hard");
    assert_eq!(s.stdout_str(), "changed\n", "{}", s.stderr_str());
    assert_eq!(
        std::fs::read_to_string(&secret).ok().as_deref(),
        Some("SECRET\n")
    );
}

/// A host process swaps a directory of the root for a symlink to the outside, again and
/// again, while the sandbox reads through it: the gofer opens each component with
/// O_NOFOLLOW, so the outside is never reached.
#[test]
fn symlink_swapped_under_the_sandbox_never_leads_out() {
    let (root, secret) = escape_fixture("escape-swap");
    let outside = secret.parent().expect("parent").to_path_buf();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (root, outside, stop) = (root.clone(), outside.clone(), stop.clone());
        std::thread::spawn(move || {
            let (dir, parked, link) = (root.join("swap"), root.join("swap.d"), root.join("swap.l"));
            let _ = std::os::unix::fs::symlink(&outside, &link);
            std::fs::rename(&dir, &parked).ok();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // swap -> symlink to the outside, then back to the real directory.
                let _ = std::fs::rename(&link, &dir);
                let _ = std::fs::rename(&dir, &link);
                let _ = std::fs::rename(&parked, &dir);
                let _ = std::fs::rename(&dir, &parked);
            }
            let _ = std::fs::rename(&parked, &dir);
        })
    };
    let s = run_in(
        &root,
        &[],
        "i=0; while [ $i -lt 300 ]; do cat /swap/x /swap/secret 2>/dev/null; \
         ls /swap 2>/dev/null; i=$((i+1)); done; true",
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = swapper.join();
    assert_eq!(s.code, Some(0), "{}", s.stderr_str());
    assert!(!s.stdout_str().contains("SECRET"));
    assert!(!s.stdout_str().contains("secret"));
}

/// The gofer runs chroot'ed into the tree it serves, in its own mount namespace, under a
/// seccomp filter.
#[test]
fn gofer_is_confined() {
    let (root, _) = escape_fixture("confined");
    let mut child = support::palisade_cmd()
        .arg("do")
        .arg("--rootfs")
        .arg(&root)
        .args(["--", "/bin/busybox", "sleep", "2"])
        .spawn()
        .expect("spawn");
    let me = child.id();
    let mut found = None;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(20));
        found = std::fs::read_dir("/proc").ok().and_then(|d| {
            d.flatten().find_map(|e| {
                let pid: u32 = e.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                let ppid: u32 = stat
                    .rsplit(')')
                    .next()?
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()?;
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
                (ppid == me && cmd.windows(14).any(|w| w == b"palisade-gofer")).then_some(pid)
            })
        });
        if found.is_some() {
            break;
        }
    }
    let pid = found.expect("the gofer process");
    // The gofer is found by name as soon as it has exec'd; it confines itself a moment later
    // (namespace, chroot, then the filter last), so wait for the filter before looking.
    let mut status = String::new();
    for _ in 0..100 {
        status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        if status.contains("Seccomp:\t2") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let root_link = std::fs::read_link(format!("/proc/{pid}/root")).expect("root");
    let ns = |p: u32| std::fs::read_link(format!("/proc/{p}/ns/mnt")).ok();
    let (gofer_ns, my_ns) = (ns(pid), ns(std::process::id()));
    let _ = child.wait();
    assert!(status.contains("Seccomp:\t2"), "{status}");
    assert!(status.contains("NoNewPrivs:\t1"));
    // A host that refuses new mount namespaces (an unprivileged container) gets no chroot;
    // everywhere else the gofer is in its own namespace, chroot'ed into the root it serves.
    let can_unshare = std::process::Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if can_unshare {
        assert_eq!(root_link, root.canonicalize().expect("canonical root"));
        assert_ne!(gofer_ns, my_ns);
    } else {
        eprintln!("this host refuses mount namespaces: the gofer is not chroot'ed here");
        assert_eq!(gofer_ns, my_ns);
    }
}
