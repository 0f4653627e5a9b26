//! End-to-end: real programs under `palisade do` give the same output and exit status as
//! natively (issue 2's acceptance items 1-3).

#[path = "../support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{native, sandboxed, Output};

const T: Duration = Duration::from_secs(120);

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

fn both(args: &[&str]) -> (Output, Output) {
    let cwd = Path::new("/");
    (native(args, cwd, &[], T), sandboxed(args, cwd, &[], T))
}

#[track_caller]
fn assert_same(args: &[&str]) -> Output {
    let (n, s) = both(args);
    assert_eq!(n.code, Some(0), "{args:?} natively: {}", n.stderr_str());
    assert_eq!(
        s.code,
        n.code,
        "{args:?} exit status; stderr: {}",
        s.stderr_str()
    );
    assert_eq!(s.stdout_str(), n.stdout_str(), "{args:?} output");
    s
}

fn compile(name: &str, src: &str, extra: &[&str]) -> String {
    let dir = tmp().join("e2e");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let c = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    std::fs::write(&c, src).expect("write source");
    let o = support::run(
        std::process::Command::new("cc")
            .args(extra)
            .arg("-o")
            .arg(&bin)
            .arg(&c),
        T,
    );
    assert_eq!(o.code, Some(0), "compile {name}: {}", o.stderr_str());
    bin.to_string_lossy().into_owned()
}

#[test]
fn static_hello_world() {
    let bin = compile(
        "hello_static",
        "#include <stdio.h>\nint main(){puts(\"hello, world\");return 0;}\n",
        &["-static", "-O2"],
    );
    let s = assert_same(&[&bin]);
    assert_eq!(s.stdout_str(), "hello, world\n");
}

#[test]
fn busybox_echo_cat_ls() {
    assert_same(&["/bin/busybox", "echo", "hello", "from", "busybox"]);
    assert_same(&["/bin/busybox", "cat", "/etc/os-release"]);
}

#[test]
fn busybox_ls_la_root() {
    // /dev, /proc and /sys are the sandbox's own file systems, not the host's, so their lines
    // (attributes of the mount roots) differ by design; every other line must match.
    let (n, s) = both(&["/bin/busybox", "ls", "-la", "/"]);
    assert_eq!(n.code, Some(0));
    assert_eq!(s.code, Some(0), "{}", s.stderr_str());
    let keep = |o: &Output| -> Vec<String> {
        o.stdout_str()
            .lines()
            .filter(|l| {
                !(l.ends_with(" dev")
                    || l.ends_with(" proc")
                    || l.ends_with(" sys")
                    || l.starts_with("total"))
            })
            .map(str::to_string)
            .collect()
    };
    assert_eq!(keep(&s), keep(&n));
    assert!(keep(&s).len() > 10);
}

#[test]
fn glibc_dynamic_ls_and_sha256sum() {
    assert_same(&["/bin/ls", "/usr"]);
    let s = assert_same(&["/usr/bin/sha256sum", "/bin/busybox"]);
    assert!(s.stdout_str().len() > 64);
}

#[test]
fn python3_json() {
    let s = assert_same(&[
        "/usr/bin/python3",
        "-c",
        "import json,sys; print(json.dumps({\"v\": sys.version_info[:2]}))",
    ]);
    assert!(s.stdout_str().starts_with("{\"v\": [3, "));
}

#[test]
fn exit_statuses_propagate() {
    let cwd = Path::new("/");
    assert_eq!(sandboxed(&["/bin/false"], cwd, &[], T).code, Some(1));
    assert_eq!(
        sandboxed(&["/bin/sh", "-c", "exit 7"], cwd, &[], T).code,
        Some(7)
    );
    assert_eq!(
        sandboxed(&["/bin/busybox", "sh", "-c", "kill -9 $$"], cwd, &[], T).code,
        Some(137)
    );
    assert_eq!(
        sandboxed(&["/bin/busybox", "sh", "-c", "kill -TERM $$"], cwd, &[], T).code,
        Some(143)
    );
    // A program that faults dies of SIGSEGV (139) and the sentry reports it, not crashes.
    let bin = compile(
        "segv",
        "int main(){ *(volatile int*)8 = 1; return 0; }\n",
        &["-O0"],
    );
    assert_eq!(sandboxed(&[&bin], cwd, &[], T).code, Some(139));
    // Not found and not executable.
    assert_eq!(
        sandboxed(&["/nonexistent-program"], cwd, &[], T).code,
        Some(127)
    );
    assert_eq!(sandboxed(&["/etc/passwd"], cwd, &[], T).code, Some(126));
}

#[test]
fn sandbox_identity() {
    let cwd = Path::new("/");
    let host = native(&["/bin/busybox", "uname", "-r"], cwd, &[], T).stdout_str();
    let inside = sandboxed(&["/bin/busybox", "uname", "-r"], cwd, &[], T);
    assert_eq!(inside.code, Some(0));
    assert_ne!(inside.stdout_str(), host, "uname -r must not be the host's");
    let pid = sandboxed(&["/bin/busybox", "sh", "-c", "echo $$ $PPID"], cwd, &[], T);
    assert_eq!(pid.stdout_str(), "1 0\n");
}

#[test]
fn unimplemented_syscall_is_enosys_and_sentry_survives() {
    // A real Linux syscall the sentry does not implement (io_uring_setup): ENOSYS, and the
    // program goes on to print and exit normally.
    let bin = compile(
        "enosys_real",
        "#include <stdio.h>\n#include <errno.h>\n#include <unistd.h>\n#include <sys/syscall.h>\n\
         int main(){ long r = syscall(SYS_io_uring_setup, 1, (void*)0); \
         printf(\"%ld %d\\n\", r, errno); return !(r == -1 && errno == ENOSYS); }\n",
        &[],
    );
    let s = sandboxed(&[&bin], Path::new("/"), &[], T);
    assert_eq!(s.code, Some(0), "{}", s.stderr_str());
    assert_eq!(s.stdout_str(), "-1 38\n");
}

#[test]
fn environment_and_cwd_are_preserved() {
    let s = sandboxed(
        &["/bin/busybox", "sh", "-c", "echo $PALISADE_E2E; pwd"],
        Path::new("/usr/share"),
        &[("PALISADE_E2E", "yes")],
        T,
    );
    assert_eq!(s.stdout_str(), "yes\n/usr/share\n");
}

#[test]
fn stdin_is_passed_through() {
    let mut c = support::palisade_cmd();
    c.args(["do", "--", "/bin/busybox", "wc", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    {
        use std::io::Write;
        let mut i = child.stdin.take().expect("stdin");
        i.write_all(&[b'x'; 100_000]).expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "100000");
}

#[test]
fn strace_prints_decoded_syscalls() {
    let mut c = support::palisade_cmd();
    c.args(["do", "--strace", "--", "/bin/busybox", "true"]);
    let o = support::run(&mut c, T);
    assert_eq!(o.code, Some(0));
    let err = o.stderr_str();
    assert!(err.contains("exit_group(0)"), "{err}");
    assert!(
        err.contains("execve") || err.contains("arch_prctl"),
        "{err}"
    );
}

#[test]
fn syscalls_command_prints_coverage() {
    let o = support::run(support::palisade_cmd().arg("syscalls"), T);
    assert_eq!(o.code, Some(0));
    let out = o.stdout_str();
    assert!(out.contains("  0 read"));
    assert!(out.contains("missing"));
    assert!(out.lines().last().unwrap_or("").starts_with("# "));
}

#[test]
fn sentry_opens_no_host_path_after_boot() {
    // DESIGN.md invariant 2: once booted, files reach the sentry only from the gofer. Trace the
    // sentry process (not its children: the stubs must be traced by the sentry) while python3
    // imports its standard library, and require every open to be one of the launcher's own
    // start-up files.
    if support::run(std::process::Command::new("strace").arg("-V"), T).code != Some(0) {
        panic!("strace is needed for this test (apt-get install strace)");
    }
    let trace = tmp().join("sentry-opens.txt");
    let mut c = std::process::Command::new("strace");
    c.args(["-qq", "-e", "trace=open,openat,openat2,creat", "-o"])
        .arg(&trace);
    c.arg(support::palisade())
        .args(["--platform", &support::platform()])
        .args([
            "do",
            "--",
            "/usr/bin/python3",
            "-c",
            "import json, email, http.client; print('ok')",
        ]);
    let o = support::run(&mut c, T);
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    assert_eq!(o.stdout_str(), "ok\n");
    let text = std::fs::read_to_string(&trace).expect("trace");
    // The launcher's last open before boot is /dev/null for the gofer's stdio; after it, none.
    let opens: Vec<&str> = text.lines().filter(|l| l.contains("open")).collect();
    let last_setup = opens
        .iter()
        .rposition(|l| l.contains("\"/dev/null\""))
        .expect("gofer stdio open");
    let after: Vec<&&str> = opens[last_setup + 1..].iter().collect();
    assert!(
        after.is_empty(),
        "the sentry opened host paths after boot: {after:#?}"
    );
}

#[test]
fn hostile_elf_headers_never_crash_the_sentry() {
    // Mutations of a real executable's ELF and program headers: any outcome (ENOEXEC, a
    // signal, even running) is fine except the sentry itself panicking or aborting.
    let orig = std::fs::read("/bin/true").expect("/bin/true");
    let dir = tmp().join("hostile-elf");
    std::fs::create_dir_all(&dir).expect("dir");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..150 {
        let mut b = orig.clone();
        let flips = 1 + next() % 8;
        for _ in 0..flips {
            // Header (64 bytes) and program headers (up to 13 * 56 bytes after it).
            let at = (next() % 792) as usize;
            b[at] = match next() % 4 {
                0 => 0,
                1 => 0xff,
                2 => b[at] ^ (1 << (next() % 8)),
                _ => next() as u8,
            };
        }
        let path = dir.join(format!("elf{i}"));
        std::fs::write(&path, &b).expect("write");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let p = path.to_string_lossy().into_owned();
        let o = sandboxed(&[&p], Path::new("/"), &[], Duration::from_secs(10));
        let err = o.stderr_str();
        assert!(
            o.code != Some(134) && !err.contains("panicked"),
            "mutant {i} crashed the sentry: {err}"
        );
    }
}

fn script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/e2e/scripts")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn busybox_shell_pipelines_like_native() {
    // 5-command pipelines, subshells, command substitution, background jobs and wait, a
    // `while read` loop over 10,000 lines: output and status as natively.
    let s = script("pipeline.sh");
    let out = assert_same(&["/bin/busybox", "sh", &s]);
    assert!(
        out.stdout_str().contains("50005000"),
        "{}",
        out.stdout_str()
    );
}

#[test]
fn busybox_shell_traps_and_job_control_like_native() {
    let s = script("traps.sh");
    let out = assert_same(&["/bin/busybox", "sh", &s]);
    assert!(
        out.stdout_str().contains("got INT\ngot TERM\n"),
        "{}",
        out.stdout_str()
    );
}

#[test]
fn python3_processes_threads_and_signals() {
    let code = r#"
import os, signal, subprocess, threading, time
print(subprocess.run(["ls", "/usr"], capture_output=True, text=True).stdout.split()[:2])
a = subprocess.Popen(["echo", "one two three"], stdout=subprocess.PIPE)
b = subprocess.Popen(["wc", "-w"], stdin=a.stdout, stdout=subprocess.PIPE, text=True)
a.stdout.close()
print(b.communicate()[0].strip())
out = []
lock = threading.Lock()
def work(i):
    for _ in range(1000):
        with lock:
            out.append(i)
ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
[t.start() for t in ts]
[t.join() for t in ts]
print(len(out))
pid = os.fork()
if pid == 0:
    os._exit(7)
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
class Alarm(Exception):
    pass
def on_alarm(s, f):
    raise Alarm()
signal.signal(signal.SIGALRM, on_alarm)
signal.alarm(1)
t0 = time.monotonic()
try:
    time.sleep(10)
except Alarm:
    print("alarm after", round(time.monotonic() - t0))
"#;
    let s = assert_same(&["/usr/bin/python3", "-c", code]);
    assert_eq!(
        s.stdout_str(),
        "['bin', 'etc']\n3\n8000\n7\nalarm after 1\n"
    );
}

#[test]
fn fork_bomb_is_stopped_and_the_sentry_survives() {
    // A non-root process with RLIMIT_NPROC 50 forking without end: fork fails with EAGAIN,
    // the processes are counted, and the sandbox goes on.
    let bin = compile(
        "forkbomb",
        r#"#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    if (getuid() == 0 && setuid(65534) != 0) { perror("setuid"); }
    struct rlimit r = { 50, 50 };
    setrlimit(RLIMIT_NPROC, &r);
    int made = 0, eagain = 0;
    for (int i = 0; i < 200; i++) {
        pid_t p = fork();
        if (p == 0) { pause(); _exit(0); }
        if (p < 0) { eagain += errno == EAGAIN; break; }
        made++;
    }
    signal(SIGTERM, SIG_IGN); /* the group signal must not end us too */
    kill(0, SIGTERM);
    while (wait(NULL) > 0) {}
    printf("made<=50:%d eagain:%d\n", made <= 50, eagain);
    return 0;
}
"#,
        &[],
    );
    let o = sandboxed(&[&bin], Path::new("/"), &[], T);
    assert!(
        o.stdout_str().contains("made<=50:1 eagain:1"),
        "{} {}",
        o.stdout_str(),
        o.stderr_str()
    );
    // The sandbox is still fine for the next program.
    assert_eq!(
        sandboxed(&["/bin/true"], Path::new("/"), &[], T).code,
        Some(0)
    );
}

#[test]
fn python3_multiprocessing_pool() {
    // Pool needs fork, pipes, threads and POSIX semaphores in /dev/shm (a tmpfs).
    let code = "import multiprocessing as mp\ndef sq(x): return x * x\nif __name__ == '__main__':\n    with mp.Pool(2) as p: print(p.map(sq, range(10)))\n";
    let s = assert_same(&["/usr/bin/python3", "-c", code]);
    assert_eq!(s.stdout_str(), "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\n");
}

#[test]
fn dev_shm_is_private_to_the_sandbox() {
    let marker = format!("/dev/shm/palisade-e2e-{}", std::process::id());
    let o = sandboxed(
        &[
            "/bin/busybox",
            "sh",
            "-c",
            &format!("echo inside > {marker} && cat {marker}"),
        ],
        Path::new("/"),
        &[],
        T,
    );
    assert_eq!(o.stdout_str(), "inside\n", "{}", o.stderr_str());
    assert!(
        !Path::new(&marker).exists(),
        "the sandbox's /dev/shm must not reach the host's"
    );
}

/// 32 threads in 8 processes doing syscalls, page faults and signals (tests/stress/stress.c):
/// 60 seconds on the kvm platform (its stress test), 10 on ptrace; every check must hold and
/// nothing may hang.
#[test]
fn stress_threads_processes_faults_and_signals() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/stress/stress.c");
    let bin = tmp().join("stress");
    let o = support::run(
        std::process::Command::new("cc")
            .args(["-O1", "-pthread", "-o"])
            .arg(&bin)
            .arg(&src),
        T,
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    let secs = if support::platform() == "kvm" { 60 } else { 10 };
    let b = bin.to_string_lossy().into_owned();
    let s = support::sandboxed(
        &[&b, &secs.to_string()],
        std::path::Path::new("/"),
        &[],
        std::time::Duration::from_secs(secs * 3 + 60),
    );
    assert_eq!(
        s.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        s.stdout_str(),
        s.stderr_str()
    );
    assert!(s.stdout_str().contains("stress: ok"), "{}", s.stdout_str());
}

#[test]
fn python3_http_server_and_urllib_over_loopback() {
    // `python3 -m http.server` (a dual-stack listener on ::) serves a file to urllib over
    // 127.0.0.1, all on the sentry's TCP/IP stack; the same runs natively.
    let code = r#"
import socket, subprocess, sys, time, urllib.request
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
srv = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--directory", "/etc"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
body = None
for _ in range(200):
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/passwd", timeout=10).read()
        break
    except OSError:
        time.sleep(0.05)
srv.terminate()
srv.wait()
print(body == open("/etc/passwd", "rb").read(), len(body or b"") > 0)
"#;
    let s = assert_same(&["/usr/bin/python3", "-c", code]);
    assert_eq!(s.stdout_str(), "True True\n");
}

/// `--network host`: the sandbox's inet sockets are host sockets. A sandboxed client reaches
/// host servers on 127.0.0.1 (TCP and UDP) and ::1, and a host client reaches a server in
/// the sandbox.
#[test]
fn host_network_reaches_host_servers() {
    use std::io::{BufRead, Read, Write};
    let echo = |l: std::net::TcpListener| {
        std::thread::spawn(move || {
            if let Ok((mut c, _)) = l.accept() {
                let mut b = [0u8; 64];
                let n = c.read(&mut b).unwrap_or(0);
                let _ = c.write_all(&[b"echo:", &b[..n]].concat());
            }
        })
    };
    let v4 = std::net::TcpListener::bind("127.0.0.1:0").expect("tcp");
    let v6 = std::net::TcpListener::bind("[::1]:0").expect("tcp6");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    let ports = [&v4.local_addr(), &v6.local_addr(), &udp.local_addr()]
        .map(|a| a.as_ref().map(|a| a.port()).unwrap_or(0));
    let (t4, t6) = (echo(v4), echo(v6));
    let tu = std::thread::spawn(move || {
        let mut b = [0u8; 64];
        if let Ok((n, from)) = udp.recv_from(&mut b) {
            let _ = udp.send_to(&[b"echo:", &b[..n]].concat(), from);
        }
    });
    let code = format!(
        r#"
import socket, sys
def call(fam, addr, port, msg):
    c = socket.socket(fam)
    c.connect((addr, port))
    c.sendall(msg)
    print(c.recv(64).decode())
call(socket.AF_INET, "127.0.0.1", {}, b"v4")
call(socket.AF_INET6, "::1", {}, b"v6")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"udp", ("127.0.0.1", {}))
print(u.recvfrom(64)[0].decode())
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
print("port", l.getsockname()[1], flush=True)
c, peer = l.accept()
c.sendall(b"from-sandbox:" + c.recv(64))
c.close()
print("peer", peer[0])
"#,
        ports[0], ports[1], ports[2]
    );
    let mut child = support::palisade_cmd()
        .args(["--network", "host", "do", "/usr/bin/python3", "-c", &code])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("palisade");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    let mut line = String::new();
    while out.read_line(&mut line).unwrap_or(0) > 0 {
        lines.push(line.trim_end().to_string());
        if let Some(p) = line.trim_end().strip_prefix("port ") {
            let p: u16 = p.parse().expect("port");
            let mut c = std::net::TcpStream::connect(("127.0.0.1", p)).expect("connect");
            c.write_all(b"host").expect("send");
            let mut got = String::new();
            c.read_to_string(&mut got).expect("answer");
            lines.push(got);
        }
        line.clear();
    }
    let status = child.wait().expect("wait");
    let mut err = String::new();
    let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
    assert!(status.success(), "{lines:?}\n{err}");
    for t in [t4, t6, tu] {
        t.join().expect("server");
    }
    assert_eq!(lines[..3], ["echo:v4", "echo:v6", "echo:udp"], "{lines:?}");
    assert_eq!(
        lines[4..],
        ["from-sandbox:host", "peer 127.0.0.1"],
        "{lines:?}"
    );
}
