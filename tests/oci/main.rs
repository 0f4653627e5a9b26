//! The OCI runtime CLI (issue 5): bundles run by hand as with runc, bad configurations
//! refused clearly, lifecycles that leave nothing behind, and containerd driving `palisade`
//! through its runc shim.

#[path = "../support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use support::{palisade, run, Output};

const T: Duration = Duration::from_secs(60);

/// The tests share the host's process table and cgroups: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("oci")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

/// A busybox-static root file system.
fn rootfs(dir: &Path) -> PathBuf {
    let root = dir.join("rootfs");
    for d in ["bin", "proc", "sys", "dev", "tmp", "etc"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("busybox-static");
    for a in [
        "sh", "echo", "cat", "sleep", "ls", "id", "hostname", "ps", "true",
    ] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).expect("symlink");
    }
    root
}

/// A bundle made by `palisade spec`, with `args` and no terminal.
fn bundle(name: &str, args: &[&str]) -> PathBuf {
    let dir = tmp(name);
    rootfs(&dir);
    let o = run(Command::new(palisade()).arg("spec").current_dir(&dir), T);
    assert_eq!(o.code, Some(0), "spec: {}", o.stderr_str());
    edit(&dir, |c| {
        c["process"]["terminal"] = false.into();
        c["process"]["args"] = serde_json::json!(args);
    });
    dir
}

fn edit(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join("config.json");
    let mut c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&p).expect("config.json")).expect("json");
    f(&mut c);
    std::fs::write(&p, serde_json::to_vec_pretty(&c).expect("json")).expect("write");
}

fn cli(root: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(palisade());
    c.arg("--root").arg(root).args(args);
    c
}

/// Run a command whose stdio a sandbox may keep (create): output through files.
fn detached(mut cmd: Command, dir: &Path) -> Output {
    let (o, e) = (dir.join("out"), dir.join("err"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&o).expect("out"))
        .stderr(std::fs::File::create(&e).expect("err"))
        .spawn()
        .expect("spawn");
    let code = child.wait().expect("wait").code();
    Output {
        code,
        stdout: std::fs::read(o).unwrap_or_default(),
        stderr: std::fs::read(e).unwrap_or_default(),
    }
}

fn pids_of(pattern: &str) -> Vec<i32> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        let zombie = std::fs::read_to_string(e.path().join("stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(true);
        if cmd.contains(pattern) && !zombie {
            v.push(pid);
        }
    }
    v
}

#[test]
fn bundle_run_by_hand_like_runc() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = bundle(
        "by_hand",
        &["sh", "-c", "echo out $(hostname); echo err >&2; exit 3"],
    );
    let root = dir.join("state");
    let o = run(cli(&root, &["run", "c1"]).current_dir(&dir), T);
    assert_eq!(o.code, Some(3), "{}", o.stderr_str());
    assert_eq!(o.stdout_str(), "out palisade\n");
    assert_eq!(o.stderr_str(), "err\n");
    // runc, on the same bundle, agrees.
    let r = run(
        Command::new("runc")
            .arg("--root")
            .arg(dir.join("runc"))
            .args(["run", "c1"])
            .current_dir(&dir),
        T,
    );
    assert_eq!(r.code, o.code, "runc: {}", r.stderr_str());
    assert_eq!(r.stdout, o.stdout);
    // `run` removes the container when it exits.
    let o = run(&mut cli(&root, &["state", "c1"]), T);
    assert_eq!(o.code, Some(1));
    assert!(
        o.stderr_str().contains("does not exist"),
        "{}",
        o.stderr_str()
    );

    // create, state, start, state, kill, state, delete.
    edit(&dir, |c| {
        c["process"]["args"] = serde_json::json!(["sleep", "100"])
    });
    let o = detached(
        {
            let mut c = cli(&root, &["create", "--bundle"]);
            c.arg(&dir).arg("--pid-file").arg(dir.join("pid")).arg("c2");
            c
        },
        &dir,
    );
    assert_eq!(o.code, Some(0), "create: {}", o.stderr_str());
    let pid: i32 = std::fs::read_to_string(dir.join("pid"))
        .expect("pid file")
        .parse()
        .expect("pid");
    let state = |want: &str| {
        let o = run(&mut cli(&root, &["state", "c2"]), T);
        assert_eq!(o.code, Some(0), "{}", o.stderr_str());
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("state JSON");
        for k in ["ociVersion", "id", "status", "pid", "bundle"] {
            assert!(v.get(k).is_some(), "state lacks {k}: {v}");
        }
        assert_eq!(v["status"], want, "{v}");
        assert_eq!(v["id"], "c2");
        assert_eq!(v["bundle"], dir.to_string_lossy().as_ref());
        v
    };
    assert_eq!(state("created")["pid"], pid);
    assert_eq!(run(&mut cli(&root, &["start", "c2"]), T).code, Some(0));
    state("running");
    let o = run(&mut cli(&root, &["delete", "c2"]), T);
    assert_eq!(o.code, Some(1), "delete of a running container must fail");
    assert_eq!(
        run(&mut cli(&root, &["kill", "c2", "KILL"]), T).code,
        Some(0)
    );
    // The pid-file process exits with 128+9 (it is our grandchild: watch it go).
    for _ in 0..500 {
        if pids_of(&format!("--state-dir {}", root.join("c2").display())).is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    state("stopped");
    // kill --all of a stopped container succeeds (containerd's shim relies on it).
    assert_eq!(
        run(&mut cli(&root, &["kill", "--all", "c2", "9"]), T).code,
        Some(0)
    );
    assert_eq!(run(&mut cli(&root, &["delete", "c2"]), T).code, Some(0));
    assert!(!root.join("c2").exists());
}

#[test]
fn bad_configurations_are_refused_clearly() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = bundle("bad", &["true"]);
    let root = dir.join("state");
    let good = std::fs::read(dir.join("config.json")).expect("config");
    type Break = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Break, &str)> = vec![
        (
            "bad JSON",
            Box::new(|d| std::fs::write(d.join("config.json"), b"{\"ociVersion\": ").unwrap()),
            "invalid JSON",
        ),
        (
            "no process.args",
            Box::new(|d| edit(d, |c| c["process"]["args"] = serde_json::json!([]))),
            "process.args",
        ),
        (
            "unknown mount type",
            Box::new(|d| {
                edit(d, |c| {
                    c["mounts"]
                        .as_array_mut()
                        .unwrap()
                        .push(serde_json::json!({"destination": "/x", "type": "zfs"}))
                })
            }),
            "unsupported mount type \"zfs\"",
        ),
        (
            "no root path",
            Box::new(|d| edit(d, |c| c["root"]["path"] = "nowhere".into())),
            "root.path",
        ),
        (
            "wrong field type",
            Box::new(|d| edit(d, |c| c["process"]["user"]["uid"] = "root".into())),
            "process.user.uid",
        ),
    ];
    for (what, break_it, message) in cases {
        std::fs::write(dir.join("config.json"), &good).expect("restore");
        break_it(&dir);
        let mut c = cli(&root, &["create", "--bundle"]);
        c.arg(&dir).arg("bad1");
        let o = detached(c, &dir);
        assert_eq!(o.code, Some(1), "{what}: {}", o.stderr_str());
        assert!(
            o.stderr_str().contains(message),
            "{what}: the error should name {message:?}: {}",
            o.stderr_str()
        );
        assert!(!root.join("bad1").exists(), "{what}: state left behind");
    }
    // A duplicate id.
    std::fs::write(dir.join("config.json"), &good).expect("restore");
    edit(&dir, |c| {
        c["process"]["args"] = serde_json::json!(["sleep", "100"])
    });
    let create = |id: &str| {
        let mut c = cli(&root, &["create", "--bundle"]);
        c.arg(&dir).arg(id);
        detached(c, &dir)
    };
    assert_eq!(create("dup").code, Some(0));
    let o = create("dup");
    assert_eq!(o.code, Some(1));
    assert!(
        o.stderr_str().contains("already exists"),
        "{}",
        o.stderr_str()
    );
    assert_eq!(
        run(&mut cli(&root, &["delete", "--force", "dup"]), T).code,
        Some(0)
    );
    // Errors also go to --log as runc's JSON lines, the last one for the caller to show.
    let log = dir.join("log.json");
    let mut c = cli(&root, &["--log"]);
    c.arg(&log)
        .args(["--log-format", "json", "start", "nosuch"]);
    assert_eq!(run(&mut c, T).code, Some(1));
    let text = std::fs::read_to_string(&log).expect("log");
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("a line")).expect("JSON line");
    assert_eq!(last["level"], "error");
    assert!(last["msg"]
        .as_str()
        .unwrap_or("")
        .contains("does not exist"));
}

/// Host mounts, as a count of mountinfo lines.
fn mounts() -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn hundred_lifecycles_leave_nothing_behind() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = bundle("cycles", &["sleep", "1000"]);
    edit(&dir, |c| {
        c["linux"]["cgroupsPath"] = "/palisade-test/cycle".into();
    });
    let root = dir.join("state");
    let before = mounts();
    for i in 0..100 {
        let id = format!("cycle{i}");
        let mut c = cli(&root, &["create", "--bundle"]);
        c.arg(&dir).arg(&id);
        let o = detached(c, &dir);
        assert_eq!(o.code, Some(0), "create {id}: {}", o.stderr_str());
        let o = run(&mut cli(&root, &["start", &id]), T);
        assert_eq!(o.code, Some(0), "start {id}: {}", o.stderr_str());
        let o = run(&mut cli(&root, &["kill", &id, "9"]), T);
        assert_eq!(o.code, Some(0), "kill {id}: {}", o.stderr_str());
        let o = run(&mut cli(&root, &["delete", "--force", &id]), T);
        assert_eq!(o.code, Some(0), "delete {id}: {}", o.stderr_str());
    }
    let state = root.to_string_lossy().into_owned();
    assert_eq!(pids_of(&state), Vec::<i32>::new(), "sandbox processes left");
    let gofers: Vec<i32> = pids_of("gofer --fd")
        .into_iter()
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&*dir.to_string_lossy()))
                .unwrap_or(false)
        })
        .collect();
    assert_eq!(gofers, Vec::<i32>::new(), "gofers left");
    let left: Vec<_> = std::fs::read_dir(&root)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "state left: {left:?}");
    assert_eq!(mounts(), before, "host mounts changed");
    for ctrl in ["memory", "pids", "cpu", ""] {
        let cg = Path::new("/sys/fs/cgroup")
            .join(ctrl)
            .join("palisade-test/cycle");
        assert!(!cg.exists(), "{} left", cg.display());
    }
    let _ = std::fs::remove_dir_all(Path::new("/sys/fs/cgroup/palisade-test"));
    for ctrl in ["memory", "pids", "cpu", "cpuacct", "blkio", "devices"] {
        let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(ctrl).join("palisade-test"));
    }
}

/// A containerd of our own: root, state and socket in a temporary directory, no CRI.
struct Containerd {
    dir: PathBuf,
    child: std::process::Child,
}

impl Containerd {
    fn start(dir: &Path) -> Containerd {
        let cfg = dir.join("config.toml");
        std::fs::write(
            &cfg,
            format!(
                "version = 2\nroot = \"{0}/root\"\nstate = \"{0}/state\"\n\
                 disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
                 [grpc]\n  address = \"{0}/containerd.sock\"\n",
                dir.display()
            ),
        )
        .expect("config");
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("containerd.log")).expect("log"))
            .stderr(std::fs::File::create(dir.join("containerd.err")).expect("log"))
            .spawn()
            .expect("containerd (apt-get install containerd)");
        let c = Containerd {
            dir: dir.to_path_buf(),
            child,
        };
        for _ in 0..500 {
            if c.ctr(&["version"]).code == Some(0) {
                return c;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("containerd did not come up");
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ctr");
        c.arg("-a").arg(self.dir.join("containerd.sock")).args(args);
        c
    }

    fn ctr(&self, args: &[&str]) -> Output {
        run(&mut self.cmd(args), T)
    }

    /// `ctr` on a terminal (script(1) gives it one), typing `input`.
    fn ctr_tty(&self, args: &[&str], input: &str) -> Output {
        let line = format!(
            "stty rows 30 cols 100; exec ctr -a {} {}",
            self.dir.join("containerd.sock").display(),
            args.join(" ")
        );
        let mut c = Command::new("script");
        c.args(["-qec", &line, "/dev/null"]);
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_string();
        std::thread::spawn(move || {
            use std::io::Write;
            // The shell prints its prompt first; type line by line.
            for line in input.split_inclusive('\n') {
                std::thread::sleep(Duration::from_millis(700));
                let _ = stdin.write_all(line.as_bytes());
            }
            std::thread::sleep(Duration::from_secs(10));
        });
        let o = child.wait_with_output().expect("script output");
        Output {
            code: o.status.code(),
            stdout: o.stdout,
            stderr: o.stderr,
        }
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn containerd_runs_containers_on_palisade() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmp("containerd");
    let image = dir.join("image.tar");
    let o = run(
        Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/oci/make_image.py"
            ))
            .arg(&image)
            .arg("docker.io/library/bbtest:1"),
        T,
    );
    assert_eq!(o.code, Some(0), "image: {}", o.stderr_str());
    let ctd = Containerd::start(&dir);
    let o = ctd.ctr(&["image", "import", &image.to_string_lossy()]);
    assert_eq!(o.code, Some(0), "import: {}", o.stderr_str());
    let bin = palisade().to_string_lossy().into_owned();
    let img = "docker.io/library/bbtest:1";
    let run_args = |extra: &[&str], id: &str, cmd: &[&str]| {
        let mut v: Vec<String> = vec!["run".into(), "--runc-binary".into(), bin.clone()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push(img.into());
        v.push(id.into());
        v.extend(cmd.iter().map(|s| s.to_string()));
        v
    };
    let ctr = |v: &[String]| ctd.ctr(&v.iter().map(String::as_str).collect::<Vec<_>>());

    // Output and exit statuses.
    let o = ctr(&run_args(
        &["--rm"],
        "r0",
        &["sh", "-c", "echo hello; uname -r"],
    ));
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    assert_eq!(o.stdout_str(), "hello\n4.4.0-palisade\n");
    let o = ctr(&run_args(&["--rm"], "r3", &["sh", "-c", "exit 3"]));
    assert_eq!(o.code, Some(3), "{}", o.stderr_str());

    // A long-running task: exec, ps, pause/resume, kill -9, delete.
    let o = ctr(&run_args(&["-d"], "long", &["sleep", "1000"]));
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    let o = ctd.ctr(&[
        "task",
        "exec",
        "--exec-id",
        "e1",
        "long",
        "sh",
        "-c",
        "echo in; exit 4",
    ]);
    assert_eq!(
        (o.code, o.stdout_str().as_str()),
        (Some(4), "in\n"),
        "{}",
        o.stderr_str()
    );
    let o = ctd.ctr(&["task", "ps", "long"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    assert!(o.stdout_str().lines().count() >= 2, "{}", o.stdout_str());
    assert_eq!(ctd.ctr(&["task", "pause", "long"]).code, Some(0));
    assert!(ctd.ctr(&["task", "ls"]).stdout_str().contains("PAUSED"));
    assert_eq!(ctd.ctr(&["task", "resume", "long"]).code, Some(0));
    assert!(ctd.ctr(&["task", "ls"]).stdout_str().contains("RUNNING"));
    // An exec on a terminal, sized like the caller's.
    let o = ctd.ctr_tty(
        &["task", "exec", "-t", "--exec-id", "e2", "long", "sh"],
        "tty; stty size; echo $((6*7))\nexit 6\n",
    );
    let out = o.stdout_str();
    assert_eq!(o.code, Some(6), "{out}");
    assert!(out.contains("/dev/pts/"), "{out}");
    assert!(out.contains("30 100"), "{out}");
    assert!(out.contains("42"), "{out}");
    assert_eq!(
        ctd.ctr(&["task", "kill", "-s", "SIGKILL", "long"]).code,
        Some(0)
    );
    let mut status = String::new();
    for _ in 0..200 {
        status = ctd.ctr(&["task", "ls"]).stdout_str();
        if status.contains("STOPPED") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(status.contains("STOPPED"), "{status}");
    let o = ctd.ctr(&["task", "delete", "long"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    assert_eq!(ctd.ctr(&["container", "rm", "long"]).code, Some(0));

    // kill -9 of a container that `ctr run` waits for: it exits 137.
    let v = run_args(&["--rm"], "k9", &["sleep", "1000"]);
    let mut waiting = ctd
        .cmd(&v.iter().map(String::as_str).collect::<Vec<_>>())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ctr run");
    for _ in 0..500 {
        if ctd.ctr(&["task", "ls"]).stdout_str().contains("RUNNING") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(ctd.ctr(&["task", "kill", "-s", "9", "k9"]).code, Some(0));
    assert_eq!(waiting.wait().expect("ctr run").code(), Some(137));

    // `ctr run -t`: a shell on a terminal.
    let mut v = run_args(&["-t", "--rm"], "tty", &["sh"]);
    v.remove(0);
    let mut args = vec!["run"];
    args.extend(v.iter().map(String::as_str));
    let o = ctd.ctr_tty(&args, "tty; echo $((6*7))\nexit 5\n");
    let out = o.stdout_str();
    assert_eq!(o.code, Some(5), "{out}");
    assert!(out.contains("/dev/pts/0"), "{out}");
    assert!(out.contains("42"), "{out}");

    // Nothing is left of the sandboxes.
    let root = "/run/containerd/runc/default";
    for id in ["r0", "r3", "long", "k9", "tty"] {
        assert!(!Path::new(root).join(id).exists(), "{id}: state left");
    }
    assert!(
        pids_of(&format!("--state-dir {root}/")).is_empty(),
        "sandboxes left"
    );
}

#[test]
fn install_registers_the_runtime() {
    let dir = tmp("install");
    let (ctd, docker) = (dir.join("config.toml"), dir.join("daemon.json"));
    std::fs::write(&ctd, "version = 2\n[grpc]\n  address = \"/x.sock\"\n").expect("write");
    std::fs::write(&docker, "{\"debug\": true}").expect("write");
    for _ in 0..2 {
        let o = run(
            Command::new(palisade())
                .arg("install")
                .arg("--containerd-config")
                .arg(&ctd)
                .arg("--docker-config")
                .arg(&docker),
            T,
        );
        assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    }
    let text = std::fs::read_to_string(&ctd).expect("config");
    assert_eq!(text.matches("BinaryName").count(), 1, "{text}");
    // The result is TOML containerd reads: the handler, the shim, the binary.
    let o = run(
        Command::new("python3")
            .arg("-c")
            .arg(
                "import sys,tomllib;c=tomllib.load(open(sys.argv[1],'rb'));\
             r=c['plugins']['io.containerd.grpc.v1.cri']['containerd']['runtimes']['palisade'];\
             print(r['runtime_type'], r['options']['BinaryName'], c['grpc']['address'])",
            )
            .arg(&ctd),
        T,
    );
    assert_eq!(
        o.stdout_str().trim(),
        format!("io.containerd.runc.v2 {} /x.sock", palisade().display()),
        "{}",
        o.stderr_str()
    );
    let d: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&docker).expect("daemon.json")).expect("json");
    assert_eq!(d["debug"], true);
    assert_eq!(
        d["runtimes"]["palisade"]["path"],
        palisade().to_string_lossy().as_ref()
    );
}

#[test]
fn the_sandbox_process_is_confined() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A host system call outside the sentry's allow-list, made once the sandbox is sealed,
    // kills the process with SIGSYS (128 + 31): `do` and a container's sandbox alike.
    let o = run(
        Command::new(palisade())
            .args(["do", "/bin/true"])
            .env("PALISADE_TEST_FORBIDDEN_SYSCALL", "1"),
        T,
    );
    assert_eq!(o.code, Some(128 + 31), "{}", o.stderr_str());
    assert_eq!(
        run(Command::new(palisade()).args(["do", "/bin/true"]), T).code,
        Some(0)
    );

    let dir = bundle("confined", &["sleep", "100"]);
    let root = dir.join("state");
    let create = |id: &str| {
        let mut c = cli(&root, &["create", "--bundle"]);
        c.arg(&dir).arg("--pid-file").arg(dir.join("pid")).arg(id);
        c
    };
    let mut c = create("forbidden");
    c.env("PALISADE_TEST_FORBIDDEN_SYSCALL", "1");
    let o = detached(c, &dir);
    assert_eq!(o.code, Some(1), "create must fail: {}", o.stderr_str());
    assert!(!root.join("forbidden").exists());

    let o = detached(create("c1"), &dir);
    assert_eq!(o.code, Some(0), "create: {}", o.stderr_str());
    let pid: i32 = std::fs::read_to_string(dir.join("pid"))
        .expect("pid file")
        .parse()
        .expect("pid");
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let status = std::fs::read_to_string(proc.join("status")).expect("status");
    let field = |name: &str| -> String {
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {status}"))
            .trim()
            .to_string()
    };
    assert_eq!(field("Seccomp"), "2", "seccomp filter mode");
    assert!(field("Seccomp_filters").parse::<u32>().expect("count") >= 1);
    assert_eq!(field("NoNewPrivs"), "1");
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(field(set), "0000000000000000", "{set}");
    }
    for ns in ["mnt", "pid", "ipc", "uts", "net"] {
        let theirs = std::fs::read_link(proc.join("ns").join(ns)).expect("ns");
        let ours = std::fs::read_link(format!("/proc/self/ns/{ns}")).expect("ns");
        assert_ne!(theirs, ours, "the sandbox shares the host's {ns} namespace");
    }
    // Its root is an empty directory.
    let entries: Vec<_> = std::fs::read_dir(proc.join("root"))
        .expect("root")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(entries.is_empty(), "sandbox root not empty: {entries:?}");
    // And the container still works: start it, exec into it, stop it.
    assert_eq!(run(&mut cli(&root, &["start", "c1"]), T).code, Some(0));
    let o = run(
        &mut cli(
            &root,
            &["exec", "c1", "sh", "-c", "echo hi; ls /bin | wc -l"],
        ),
        T,
    );
    assert_eq!(o.code, Some(0), "exec: {}", o.stderr_str());
    assert!(o.stdout_str().starts_with("hi\n"), "{}", o.stdout_str());
    assert_eq!(run(&mut cli(&root, &["kill", "c1", "9"]), T).code, Some(0));
    for _ in 0..500 {
        if !proc.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(run(&mut cli(&root, &["delete", "c1"]), T).code, Some(0));
}

#[test]
fn bind_mounts_serve_host_files() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = bundle(
        "binds",
        &[
            "sh",
            "-c",
            "cat /data/in; echo out > /data/out; cat /etc/hosts; \
             echo x > /etc/hosts || echo hosts-ro; ls /ro; echo y > /ro/z || echo ro-ro; \
             grep -c ' 9p ' /proc/mounts",
        ],
    );
    let host = dir.join("host");
    std::fs::create_dir_all(&host).expect("mkdir");
    std::fs::write(host.join("in"), "from the host\n").expect("write");
    std::fs::write(dir.join("hosts"), "198.18.0.1 gateway\n").expect("write");
    edit(&dir, |c| {
        let mounts = c["mounts"].as_array_mut().expect("mounts");
        mounts.push(serde_json::json!({"destination": "/data", "type": "bind",
            "source": "host", "options": ["rbind", "rw"]}));
        mounts.push(
            serde_json::json!({"destination": "/etc/hosts", "type": "bind",
            "source": dir.join("hosts"), "options": ["rbind", "ro"]}),
        );
        mounts.push(serde_json::json!({"destination": "/ro", "type": "none",
            "source": host, "options": ["bind", "ro"]}));
    });
    let root = dir.join("state");
    let o = run(cli(&root, &["run", "b1"]).current_dir(&dir), T);
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    assert_eq!(
        o.stdout_str(),
        "from the host\n198.18.0.1 gateway\nhosts-ro\nin\nout\nro-ro\n3\n"
    );
    // A writable bind mount writes through to the host; read-only ones change nothing.
    assert_eq!(
        std::fs::read_to_string(host.join("out")).expect("out"),
        "out\n"
    );
    assert!(!host.join("z").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("hosts")).expect("hosts"),
        "198.18.0.1 gateway\n"
    );
    // A missing source is refused, naming the mount.
    edit(&dir, |c| {
        c["mounts"]
            .as_array_mut()
            .expect("mounts")
            .push(serde_json::json!({"destination": "/gone", "type": "bind",
                "source": "/nonexistent/palisade", "options": ["rbind"]}));
    });
    let o = run(cli(&root, &["run", "b2"]).current_dir(&dir), T);
    assert_eq!(o.code, Some(1));
    assert!(
        o.stderr_str().contains("destination /gone")
            && o.stderr_str().contains("/nonexistent/palisade"),
        "{}",
        o.stderr_str()
    );
    assert!(!root.join("b2").exists());
}

#[test]
fn masked_and_readonly_paths_as_runc() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // `palisade spec` lists runc's default maskedPaths (/sys/firmware...) and readonlyPaths
    // (/proc/sys...); a file is masked too.
    let dir = bundle(
        "masked",
        &[
            "sh",
            "-c",
            "ls -A /sys/firmware | wc -l; touch /sys/firmware/x || echo fw-ro; \
             ls /proc/sys | wc -l; cat /proc/version | wc -c; \
             grep -E ' /sys/firmware | /proc/sys | /proc/version ' /proc/mounts | cut -d' ' -f2,3,4",
        ],
    );
    edit(&dir, |c| {
        let masked = c["linux"]["maskedPaths"]
            .as_array_mut()
            .expect("maskedPaths");
        assert!(masked.iter().any(|p| p == "/sys/firmware"));
        masked.push("/proc/version".into());
        let ro = c["linux"]["readonlyPaths"]
            .as_array()
            .expect("readonlyPaths");
        assert!(ro.iter().any(|p| p == "/proc/sys"));
    });
    let root = dir.join("state");
    let o = run(cli(&root, &["run", "m1"]).current_dir(&dir), T);
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    let out = o.stdout_str();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0", "{out}");
    assert_eq!(lines[1], "fw-ro", "{out}");
    assert_ne!(lines[2], "0", "/proc/sys stays visible: {out}");
    assert_eq!(lines[3], "0", "/proc/version is masked: {out}");
    assert!(
        lines.contains(&"/sys/firmware tmpfs ro,nosuid,nodev,noexec,relatime"),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("/proc/sys proc ro")),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("/proc/version ")),
        "{out}"
    );
}

#[test]
fn resource_limits_are_the_sandboxs_size() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = bundle(
        "limits",
        &[
            "sh",
            "-c",
            "busybox nproc; grep MemTotal /proc/meminfo; busybox free -k | grep Mem:; \
             cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max; \
             grep -c ' /sys/fs/cgroup cgroup2 ro,' /proc/mounts; \
             echo 1 > /sys/fs/cgroup/memory.max || echo read-only; cat /proc/self/cgroup",
        ],
    );
    let cg = format!("/palisade-test-limits-{}", std::process::id());
    edit(&dir, |c| {
        c["linux"]["cgroupsPath"] = cg.clone().into();
        c["linux"]["resources"] = serde_json::json!({
            "memory": {"limit": 256u64 << 20},
            "cpu": {"quota": 50000, "period": 100000}
        });
    });
    let root = dir.join("state");
    let o = run(cli(&root, &["run", "l1"]).current_dir(&dir), T);
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    let out = o.stdout_str();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1", "half a CPU of quota is one CPU: {out}");
    assert_eq!(lines[1], "MemTotal:         262144 kB", "{out}");
    assert!(
        lines[2].split_whitespace().nth(1) == Some("262144"),
        "sysinfo: {out}"
    );
    // The container's cgroup (OCI mount type cgroup) shows the same limits, read-only.
    assert_eq!(
        lines[3..].join("\n"),
        "268435456\n100000 100000\n1\nread-only\n0::/",
        "{out}"
    );
}

/// Wait for our child (adopted: we are a subreaper) `pid`; its exit status as a shell
/// reports it.
fn reap(pid: i32) -> i32 {
    use nix::sys::wait::{waitpid, WaitStatus};
    match waitpid(nix::unistd::Pid::from_raw(pid), None).expect("waitpid") {
        WaitStatus::Exited(_, c) => c,
        WaitStatus::Signaled(_, s, _) => 128 + s as i32,
        other => panic!("{other:?}"),
    }
}

fn pid_file(p: &Path) -> i32 {
    std::fs::read_to_string(p)
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid")
}

fn status_of(root: &Path, id: &str) -> String {
    let o = run(&mut cli(root, &["state", id]), T);
    assert_eq!(o.code, Some(0), "state {id}: {}", o.stderr_str());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("state json");
    v["status"].as_str().unwrap_or_default().to_string()
}

/// A pod as containerd's CRI plugin makes one: the sandbox ("pause") container, then
/// containers annotated with its id, which join its sandbox with roots of their own.
#[test]
fn pod_containers_share_one_sandbox() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The pid files' processes are orphaned by `create`: we adopt and reap them.
    nix::sys::prctl::set_child_subreaper(true).expect("subreaper");
    let pod = bundle("pod", &["sleep", "1000"]);
    std::fs::write(pod.join("rootfs/only-in-pod"), "pod\n").expect("write");
    edit(&pod, |c| {
        c["annotations"] = serde_json::json!({
            "io.kubernetes.cri.container-type": "sandbox",
            "io.kubernetes.cri.sandbox-id": "pod1"});
    });
    let member = |name: &str, script: &str| {
        let dir = bundle(name, &["sh", "-c", script]);
        std::fs::write(dir.join("rootfs/only-in-app"), "app\n").expect("write");
        edit(&dir, |c| {
            c["hostname"] = "not-the-pods".into();
            c["root"]["readonly"] = false.into();
            c["annotations"] = serde_json::json!({
                "io.kubernetes.cri.container-type": "container",
                "io.kubernetes.cri.sandbox-id": "pod1"});
        });
        dir
    };
    let app = member(
        "pod-app",
        "cat /only-in-app; cat /only-in-pod || echo not-in-pod; hostname; \
         cat /proc/1/comm; echo ready > /tmp/ready; sleep 1000",
    );
    let quick = member("pod-quick", "echo quick; exit 3");
    let root = pod.join("state");
    let create = |dir: &Path, id: &str| {
        let mut c = cli(&root, &["create", "--pid-file"]);
        c.arg(dir.join("pid")).arg("--bundle").arg(dir).arg(id);
        let o = detached(c, dir);
        assert_eq!(o.code, Some(0), "create {id}: {}", o.stderr_str());
        pid_file(&dir.join("pid"))
    };
    // A container cannot join a pod whose sandbox does not exist.
    let mut c = cli(&root, &["create", "--bundle"]);
    c.arg(&app).arg("early");
    let o = detached(c, &app);
    assert_eq!(o.code, Some(1));
    assert!(o.stderr_str().contains("pod1"), "{}", o.stderr_str());
    assert!(!root.join("early").exists());

    let pod_pid = create(&pod, "pod1");
    let o = run(&mut cli(&root, &["start", "pod1"]), T);
    assert_eq!(o.code, Some(0), "start pod1: {}", o.stderr_str());
    let app_pid = create(&app, "app1");
    assert_eq!(status_of(&root, "app1"), "created");
    let o = run(&mut cli(&root, &["start", "app1"]), T);
    assert_eq!(o.code, Some(0), "start app1: {}", o.stderr_str());
    assert_eq!(status_of(&root, "app1"), "running");
    // Its own root; the pod's hostname and pid space (pid 1 is the pod's init).
    let ready = run(
        &mut cli(
            &root,
            &[
                "exec",
                "app1",
                "sh",
                "-c",
                "until [ -e /tmp/ready ]; do sleep 0.05; done",
            ],
        ),
        T,
    );
    assert_eq!(ready.code, Some(0), "{}", ready.stderr_str());
    let out = std::fs::read_to_string(app.join("out")).expect("out");
    assert_eq!(out, "app\nnot-in-pod\npalisade\nsleep\n");
    // exec and ps reach each container's own processes and tree.
    let o = run(&mut cli(&root, &["exec", "app1", "cat", "/only-in-app"]), T);
    assert_eq!((o.code, o.stdout_str().as_str()), (Some(0), "app\n"));
    let o = run(&mut cli(&root, &["exec", "pod1", "cat", "/only-in-app"]), T);
    assert_eq!(o.code, Some(1), "{}", o.stdout_str());
    let ps = |id: &str| -> Vec<i32> {
        let o = run(&mut cli(&root, &["ps", "--format", "json", id]), T);
        assert_eq!(o.code, Some(0), "ps {id}: {}", o.stderr_str());
        serde_json::from_slice(&o.stdout).expect("ps json")
    };
    assert_eq!(ps("pod1"), vec![1]);
    let app_procs = ps("app1");
    assert_eq!(app_procs.len(), 1, "{app_procs:?}");
    // A container's status is its first process's exit status.
    let quick_pid = create(&quick, "quick1");
    let o = run(&mut cli(&root, &["start", "quick1"]), T);
    assert_eq!(o.code, Some(0), "start quick1: {}", o.stderr_str());
    assert_eq!(reap(quick_pid), 3);
    assert_eq!(
        std::fs::read_to_string(quick.join("out")).expect("out"),
        "quick\n"
    );
    assert_eq!(status_of(&root, "quick1"), "stopped");
    let o = run(&mut cli(&root, &["delete", "quick1"]), T);
    assert_eq!(o.code, Some(0), "delete quick1: {}", o.stderr_str());
    // Killing one container leaves the pod running.
    let o = run(&mut cli(&root, &["kill", "app1", "KILL"]), T);
    assert_eq!(o.code, Some(0), "kill app1: {}", o.stderr_str());
    assert_eq!(reap(app_pid), 137);
    assert_eq!(status_of(&root, "app1"), "stopped");
    assert_eq!(status_of(&root, "pod1"), "running");
    assert_eq!(ps("pod1"), vec![1]);
    let o = run(&mut cli(&root, &["delete", "app1"]), T);
    assert_eq!(o.code, Some(0), "delete app1: {}", o.stderr_str());
    // A container deleted while it runs is taken out of the sandbox with its processes.
    let app_pid = create(&app, "app2");
    let o = run(&mut cli(&root, &["start", "app2"]), T);
    assert_eq!(o.code, Some(0), "start app2: {}", o.stderr_str());
    let o = run(&mut cli(&root, &["delete", "--force", "app2"]), T);
    assert_eq!(o.code, Some(0), "delete app2: {}", o.stderr_str());
    assert_eq!(reap(app_pid), 137);
    assert_eq!(ps("pod1"), vec![1]);
    let o = run(&mut cli(&root, &["kill", "pod1", "KILL"]), T);
    assert_eq!(o.code, Some(0), "kill pod1: {}", o.stderr_str());
    assert_eq!(reap(pod_pid), 137);
    let o = run(&mut cli(&root, &["delete", "pod1"]), T);
    assert_eq!(o.code, Some(0), "delete pod1: {}", o.stderr_str());
    let state = root.to_string_lossy().into_owned();
    assert_eq!(pids_of(&state), Vec::<i32>::new(), "processes left");
    // Nor a gofer of the pod's containers, nor a standing-in process.
    let pod_dirs = pod.parent().expect("dir").join("pod");
    assert_eq!(
        pids_of(&pod_dirs.to_string_lossy()),
        Vec::<i32>::new(),
        "pod processes left"
    );
    let left: Vec<_> = std::fs::read_dir(&root)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "state left: {left:?}");
}

/// `update --resources` (CRI UpdateContainerResources) changes the host cgroup's limits and
/// the size the sandbox reports.
#[test]
fn update_changes_the_limits() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = bundle("update", &["sleep", "1000"]);
    let cg = format!("palisade-test-update-{}", std::process::id());
    edit(&dir, |c| {
        c["linux"]["cgroupsPath"] = format!("/{cg}").into();
        c["linux"]["resources"] = serde_json::json!({"memory": {"limit": 256u64 << 20}});
    });
    let root = dir.join("state");
    let mut c = cli(&root, &["run", "--detach", "--bundle"]);
    c.arg(&dir).arg("u1");
    let o = detached(c, &dir);
    assert_eq!(o.code, Some(0), "run: {}", o.stderr_str());
    let meminfo = || {
        let o = run(
            &mut cli(
                &root,
                &[
                    "exec",
                    "u1",
                    "sh",
                    "-c",
                    "grep MemTotal /proc/meminfo; busybox nproc",
                ],
            ),
            T,
        );
        assert_eq!(o.code, Some(0), "exec: {}", o.stderr_str());
        o.stdout_str()
    };
    let before = meminfo();
    assert!(
        before.starts_with("MemTotal:         262144 kB\n"),
        "{before}"
    );
    let res = dir.join("resources.json");
    std::fs::write(
        &res,
        r#"{"memory": {"limit": 134217728}, "cpu": {"quota": 100000, "period": 100000}}"#,
    )
    .expect("write");
    let o = run(
        &mut cli(
            &root,
            &["update", "--resources", &res.to_string_lossy(), "u1"],
        ),
        T,
    );
    assert_eq!(o.code, Some(0), "update: {}", o.stderr_str());
    assert_eq!(meminfo(), "MemTotal:         131072 kB\n1\n");
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let (file, want) = if v2 {
        (format!("/sys/fs/cgroup/{cg}/memory.max"), "134217728")
    } else {
        (
            format!("/sys/fs/cgroup/memory/{cg}/memory.limit_in_bytes"),
            "134217728",
        )
    };
    assert_eq!(std::fs::read_to_string(&file).expect("limit").trim(), want);
    // A limit removed: the host's size again.
    std::fs::write(&res, r#"{"memory": {"limit": -1}}"#).expect("write");
    let o = run(
        &mut cli(
            &root,
            &["update", "--resources", &res.to_string_lossy(), "u1"],
        ),
        T,
    );
    assert_eq!(o.code, Some(0), "update: {}", o.stderr_str());
    let host = std::fs::read_to_string("/proc/meminfo").expect("meminfo");
    assert_eq!(meminfo().lines().next(), host.lines().next());
    let o = run(&mut cli(&root, &["delete", "--force", "u1"]), T);
    assert_eq!(o.code, Some(0), "delete: {}", o.stderr_str());
    assert!(!Path::new(&file).exists(), "cgroup left");
}

/// `--preserve-fds N` (create/run and exec): the caller's fds 3 .. 3+N-1 are the process's.
#[test]
fn preserved_fds_reach_the_process() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = bundle(
        "preserve",
        &[
            "sh",
            "-c",
            "cat <&3; echo to-four >&4; echo more >&4; cat <&5 || echo no-five",
        ],
    );
    std::fs::write(dir.join("in"), "from three\n").expect("write");
    let root = dir.join("state");
    let sh = format!(
        "exec 3<in 4>out4; exec {} --root state run --preserve-fds 2 --bundle . p1",
        palisade().display()
    );
    let o = run(Command::new("sh").arg("-c").arg(&sh).current_dir(&dir), T);
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    assert!(
        o.stdout_str().starts_with("from three\n"),
        "{}",
        o.stdout_str()
    );
    assert!(o.stdout_str().ends_with("no-five\n"), "{}", o.stdout_str());
    assert_eq!(
        std::fs::read_to_string(dir.join("out4")).expect("out4"),
        "to-four\nmore\n"
    );
    // exec passes them too.
    let mut c = cli(&root, &["run", "--detach", "--bundle"]);
    c.arg(&dir).arg("p2");
    edit(&dir, |c| {
        c["process"]["args"] = serde_json::json!(["sleep", "1000"])
    });
    let o = detached(c, &dir);
    assert_eq!(o.code, Some(0), "run: {}", o.stderr_str());
    let sh = format!(
        "exec 3<in; exec {} --root state exec --preserve-fds 1 p2 cat /proc/self/fd/3",
        palisade().display()
    );
    let o = run(Command::new("sh").arg("-c").arg(&sh).current_dir(&dir), T);
    assert_eq!(
        (o.code, o.stdout_str().as_str()),
        (Some(0), "from three\n"),
        "{}",
        o.stderr_str()
    );
    // Asking for descriptors that are not open is refused.
    let o = run(
        &mut cli(&root, &["exec", "--preserve-fds", "3", "p2", "true"]),
        T,
    );
    assert_eq!(o.code, Some(1));
    assert!(
        o.stderr_str().contains("--preserve-fds"),
        "{}",
        o.stderr_str()
    );
    let o = run(&mut cli(&root, &["delete", "--force", "p2"]), T);
    assert_eq!(o.code, Some(0), "delete: {}", o.stderr_str());
}

/// `linux.seccomp` is enforced by the sentry, for the container's processes and for those
/// exec'd into it.
#[test]
fn seccomp_profile_is_enforced_inside() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = bundle(
        "seccomp",
        &[
            "sh",
            "-c",
            "mkdir /tmp/x 2>/dev/null || echo mkdir-refused; \
             hostname foo 2>/dev/null || echo hostname-refused; \
             kill -s 0 $$ 2>/dev/null || echo kill0-refused; kill -s CONT $$ && echo cont-ok; \
             cat /proc/self/status; sleep 1000",
        ],
    );
    edit(&dir, |c| {
        c["root"]["readonly"] = false.into();
        c["linux"]["seccomp"] = serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["sethostname"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 3,
                 "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]}
            ]
        });
    });
    let root = dir.join("state");
    let mut c = cli(&root, &["run", "--detach", "--bundle"]);
    c.arg(&dir).arg("s1");
    let o = detached(c, &dir);
    assert_eq!(o.code, Some(0), "run: {}", o.stderr_str());
    let o = run(
        &mut cli(
            &root,
            &[
                "exec",
                "s1",
                "sh",
                "-c",
                "mkdir /tmp/y || echo exec-refused",
            ],
        ),
        T,
    );
    assert!(
        o.stdout_str().contains("exec-refused"),
        "{}",
        o.stdout_str()
    );
    // The script has printed everything once its status is there.
    let mut out = String::new();
    for _ in 0..500 {
        out = std::fs::read_to_string(dir.join("out")).unwrap_or_default();
        if out.contains("Seccomp_filters") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = run(&mut cli(&root, &["delete", "--force", "s1"]), T);
    assert_eq!(o.code, Some(0), "delete: {}", o.stderr_str());
    assert!(
        out.starts_with("mkdir-refused\nhostname-refused\nkill0-refused\ncont-ok\n"),
        "{out}"
    );
    // Allow-all by default, and one filter per other action (errno 13, EPERM, ESRCH).
    assert!(
        out.contains("\nSeccomp:\t2\nSeccomp_filters:\t3\n"),
        "{out}"
    );
    // A profile the sentry cannot honour is refused, naming the field.
    edit(&dir, |c| {
        c["linux"]["seccomp"]["listenerPath"] = "/run/agent.sock".into();
    });
    let o = run(cli(&root, &["run", "s2"]).current_dir(&dir), T);
    assert_eq!(o.code, Some(1));
    assert!(
        o.stderr_str().contains("linux.seccomp.listenerPath"),
        "{}",
        o.stderr_str()
    );
}

/// A network namespace with a veth pair into it (198.18.0.1/24 on the host's end, 198.18.0.2/24
/// inside, and a default route unless `new_without_route`), removed when dropped.
struct Veth {
    ns: String,
    host: String,
    inner: String,
}

impl Veth {
    fn new() -> Veth {
        let v = Veth::new_without_route();
        let o = run(
            Command::new("ip").args(["-n", &v.ns, "route", "add", "default", "via", "198.18.0.1"]),
            T,
        );
        assert_eq!(o.code, Some(0), "ip route: {}", o.stderr_str());
        v
    }

    fn new_without_route() -> Veth {
        let n = std::process::id() % 100_000;
        let v = Veth {
            ns: format!("palisade-t{n}"),
            host: format!("pvh{n}"),
            inner: format!("pvc{n}"),
        };
        v.cleanup();
        let ip = |args: &[&str]| {
            let o = run(Command::new("ip").args(args), T);
            assert_eq!(o.code, Some(0), "ip {args:?}: {}", o.stderr_str());
        };
        ip(&["netns", "add", &v.ns]);
        ip(&[
            "link", "add", &v.host, "type", "veth", "peer", "name", &v.inner,
        ]);
        ip(&["link", "set", &v.inner, "netns", &v.ns]);
        ip(&["addr", "add", "198.18.0.1/24", "dev", &v.host]);
        ip(&["link", "set", &v.host, "up"]);
        ip(&["-n", &v.ns, "addr", "add", "198.18.0.2/24", "dev", &v.inner]);
        ip(&["-n", &v.ns, "link", "set", &v.inner, "up"]);
        ip(&["-n", &v.ns, "link", "set", "lo", "up"]);
        v
    }

    fn cleanup(&self) {
        let _ = run(Command::new("ip").args(["netns", "del", &self.ns]), T);
        let _ = run(Command::new("ip").args(["link", "del", &self.host]), T);
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// A bundle running `script` under sh, with the `peer` helper in /bin, joining `veth`'s
/// network namespace.
fn net_bundle(name: &str, script: &str, veth: &Veth) -> PathBuf {
    let dir = bundle(name, &["sh", "-c", script]);
    let peer = dir.join("rootfs/bin/peer");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/net/peer.c");
    let o = run(
        Command::new("cc")
            .args(["-O1", "-static", "-o"])
            .arg(&peer)
            .arg(&src),
        T,
    );
    assert_eq!(o.code, Some(0), "cc: {}", o.stderr_str());
    edit(&dir, |c| {
        let nss = c["linux"]["namespaces"].as_array_mut().expect("namespaces");
        nss.retain(|n| n["type"] != "network");
        nss.push(
            serde_json::json!({"type": "network", "path": format!("/var/run/netns/{}", veth.ns)}),
        );
    });
    dir
}

/// The sandbox speaks first to a host on its own network, with no default route and no
/// traffic from the host before: its ARP request must carry the interface's address (a
/// request from 127.0.0.1 goes unanswered).
#[test]
fn sandbox_client_reaches_an_on_link_host_first() {
    use std::io::{Read, Write};
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let veth = Veth::new_without_route();
    let tcp = std::net::TcpListener::bind("198.18.0.1:0").expect("host TCP server");
    let port = tcp.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (mut c, _) = tcp.accept().expect("accept");
        let mut b = [0u8; 64];
        let n = c.read(&mut b).expect("read");
        c.write_all(&[b"echo:", &b[..n]].concat()).expect("write");
    });
    let dir = net_bundle(
        "onlink",
        // Not exec'd by sh: the process to time out must not be pid 1, which ignores it.
        &format!("busybox timeout 10 peer tcp-call 198.18.0.1 {port} first; exit $?"),
        &veth,
    );
    let o = run(
        cli(&dir.join("state"), &["run", "onlink"]).current_dir(&dir),
        T,
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr_str());
    assert_eq!(o.stdout_str(), "echo:first\n");
    server.join().expect("server");
}

/// `--network sandbox` (the default of `run`): the sentry's stack takes over the interface of
/// the container's network namespace. A host client reaches a server in the sandbox and a
/// sandboxed client a host server, over TCP and UDP; the host's ping is answered by the
/// sentry; the host kernel no longer holds the address.
#[test]
fn sandbox_networking_takes_over_the_veth() {
    use std::io::{Read, Write};
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let veth = Veth::new();
    // Host servers, on the host's end of the veth.
    let tcp = std::net::TcpListener::bind("198.18.0.1:0").expect("host TCP server");
    let udp = std::net::UdpSocket::bind("198.18.0.1:0").expect("host UDP server");
    let (tport, uport) = (
        tcp.local_addr().expect("addr").port(),
        udp.local_addr().expect("addr").port(),
    );
    let tcp_server = std::thread::spawn(move || {
        let (mut c, _) = tcp.accept().expect("accept");
        let mut b = [0u8; 64];
        let n = c.read(&mut b).expect("read");
        c.write_all(&[b"echo:", &b[..n]].concat()).expect("write");
    });
    let udp_server = std::thread::spawn(move || {
        let mut b = [0u8; 64];
        let (n, from) = udp.recv_from(&mut b).expect("recv");
        udp.send_to(&[b"echo:", &b[..n]].concat(), from)
            .expect("send");
    });
    // Loopback goes on working beside the interface, to 127.0.0.1 and to our own address.
    let script = format!(
        "peer tcp-serve 8080 & peer udp-serve 8081 & peer tcp-serve 7070 & \
         peer tcp-serve 7071 & sleep 0.3; \
         peer tcp-call 127.0.0.1 7070 lo; peer tcp-call 198.18.0.2 7071 self; \
         peer tcp-call 198.18.0.1 {tport} hello; peer udp-call 198.18.0.1 {uport} hi; \
         busybox ip addr; wait"
    );
    let dir = net_bundle("netns", &script, &veth);
    let root = dir.join("state");
    let out = dir.join("out");
    let mut child = cli(&root, &["run", "net"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("out"))
        .stderr(std::fs::File::create(dir.join("err")).expect("err"))
        .spawn()
        .expect("palisade run");
    let listening = || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .matches("listening")
            .count()
    };
    for _ in 0..300 {
        if listening() == 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(listening(), 4, "the sandbox's servers did not start");
    // Host client to the sandbox's TCP server.
    let addr: std::net::SocketAddr = "198.18.0.2:8080".parse().expect("addr");
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .expect("connect to the sandbox");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"fromhost").expect("send");
    let mut got = String::new();
    s.read_to_string(&mut got).expect("answer");
    assert_eq!(got, "echo:fromhost");
    // Host client to the sandbox's UDP server.
    let u = std::net::UdpSocket::bind("198.18.0.1:0").expect("udp");
    u.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut b = [0u8; 64];
    let mut answer = None;
    for _ in 0..10 {
        u.send_to(b"fromhost", "198.18.0.2:8081").expect("send");
        if let Ok((n, _)) = u.recv_from(&mut b) {
            answer = Some(b[..n].to_vec());
            break;
        }
    }
    assert_eq!(answer.as_deref(), Some(&b"echo:fromhost"[..]));
    // The sentry answers the host's ping.
    let p = run(
        Command::new("busybox").args(["ping", "-c", "1", "-W", "3", "198.18.0.2"]),
        T,
    );
    assert_eq!(p.code, Some(0), "ping: {}", p.stdout_str());
    // The sandboxed clients reached the host's servers.
    let status = child.wait().expect("wait");
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let err = std::fs::read_to_string(dir.join("err")).unwrap_or_default();
    assert!(status.success(), "{text}\n{err}");
    assert!(text.contains("echo:hello\n"), "{text}\n{err}");
    assert!(text.contains("echo:hi\n"), "{text}\n{err}");
    assert!(text.contains("echo:lo\n"), "{text}\n{err}");
    assert!(text.contains("echo:self\n"), "{text}\n{err}");
    // `ip addr` inside shows the interface and its address (netlink).
    assert!(text.contains(&format!(": {}: <", veth.inner)), "{text}");
    assert!(
        text.contains(&format!(
            "inet 198.18.0.2/24 brd 198.18.0.255 scope global {}",
            veth.inner
        )),
        "{text}"
    );
    tcp_server.join().expect("tcp server");
    udp_server.join().expect("udp server");
    // The host kernel gave the address up.
    let o = run(
        Command::new("ip").args(["-n", &veth.ns, "addr", "show", "dev", &veth.inner]),
        T,
    );
    assert!(!o.stdout_str().contains("198.18.0.2"), "{}", o.stdout_str());
}
