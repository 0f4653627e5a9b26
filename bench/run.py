#!/usr/bin/env python3
"""Palisade's benchmark harness: native, palisade (each platform) and gVisor's runsc
(--platform=ptrace --network=none do) side by side, in one run. Medians of several runs.

Usage: bench/run.py [--runs N] [--quick] [--only NAME,...]
Needs: cc, a built palisade (target/release/palisade), and runsc (apt-get install runsc).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PALISADE = os.path.join(ROOT, "target", "release", "palisade")

# name, iterations natively (sandboxes get fewer when the syscall is slow there)
MICRO = [
    ("getpid", 200000, 20000),
    ("stat", 100000, 10000),
    ("open_read_close", 50000, 5000),
    ("mmap_munmap", 100000, 10000),
    ("mmap_touch_munmap", 20000, 2000),
    ("clock_gettime", 1000000, 1000000),
    ("pipe_pingpong", 20000, 2000),
    ("fork_exit_wait", 2000, 100),
    ("fork_exec_true", 1000, 50),
    ("futex_handoff", 20000, 2000),
    ("signal_roundtrip", 100000, 5000),
    # File system (issue 4): metadata in /tmp (the root overlay in sandboxes), data on tmpfs.
    ("getdents_1000", 2000, 200),
    ("create_unlink", 20000, 2000),
    ("write_1m", 2000, 500),
    ("read_1m", 2000, 500),
    ("random_read_4k", 100000, 10000),
    # Network (issue 6), over loopback inside one sandbox: a round trip per iteration.
    ("tcp_rr", 10000, 10000),
]

# Throughputs (MiB/s; higher is better): name, MiB moved.
STREAM = [("tcp_stream", 1024)]


def runners():
    r = [("native", [])]
    r.append(("palisade-ptrace", [PALISADE, "do", "--platform", "ptrace", "--"]))
    if kvm_usable():
        r.append(("palisade-kvm", [PALISADE, "do", "--platform", "kvm", "--"]))
    if shutil.which("runsc"):
        r.append(("runsc-ptrace", ["runsc", "--platform=ptrace", "--network=none", "do"]))
    return r


def kvm_usable():
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        print("# no usable /dev/kvm: the kvm platform is left out", file=sys.stderr)
        return False


def run_micro(prefix, binary, name, iters):
    out = subprocess.run(prefix + [binary, name, str(iters)], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"{name} under {prefix[:1]}: {out.stderr.strip()[-300:]}")
    return float(out.stdout.strip().splitlines()[-1])


def wall(prefix, argv):
    t = time.perf_counter()
    subprocess.run(prefix + argv, capture_output=True, timeout=120, check=True)
    return (time.perf_counter() - t) * 1e3


def descendants(pid):
    """pid and all its descendants, from /proc."""
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [pid]
    while todo:
        q = todo.pop()
        out.append(q)
        todo.extend(children.get(q, []))
    return out


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def idle_memory(prefix):
    """Total PSS (KiB) of the whole process tree of a sandbox running `sleep`."""
    p = subprocess.Popen(prefix + ["/bin/sleep", "4"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    total = sum(pss_kib(q) for q in descendants(p.pid))
    p.wait(timeout=30)
    return total


def oci_bundle(tmp, args):
    """A bundle (busybox-static root, `palisade spec` config) running `args`."""
    import json
    b = os.path.join(tmp, "bundle-" + args[0])
    os.makedirs(os.path.join(b, "rootfs", "bin"), exist_ok=True)
    for d in ["proc", "sys", "dev", "tmp", "etc"]:
        os.makedirs(os.path.join(b, "rootfs", d), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(b, "rootfs", "bin", "busybox"))
    for a in ["sh", "true", "sleep"]:
        link = os.path.join(b, "rootfs", "bin", a)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    cfg = os.path.join(b, "config.json")
    if os.path.exists(cfg):
        os.remove(cfg)
    subprocess.run([PALISADE, "spec"], cwd=b, check=True)
    c = json.load(open(cfg))
    c["process"]["terminal"] = False
    c["process"]["args"] = args
    json.dump(c, open(cfg, "w"))
    return b


class Veth:
    """A network namespace with a veth pair into it: 198.18.0.1/24 on the host's end,
    198.18.0.2/24 inside (the benchmark range). Made afresh for each run, since a sandbox's
    stack takes the inner address away from the host kernel."""
    NS, HOST, INNER = "palisade-bench", "pvbh", "pvbc"

    def __enter__(self):
        self.__exit__()
        for args in (["netns", "add", self.NS],
                     ["link", "add", self.HOST, "type", "veth", "peer", "name", self.INNER],
                     ["link", "set", self.INNER, "netns", self.NS],
                     ["addr", "add", "198.18.0.1/24", "dev", self.HOST],
                     ["link", "set", self.HOST, "up"],
                     ["-n", self.NS, "addr", "add", "198.18.0.2/24", "dev", self.INNER],
                     ["-n", self.NS, "link", "set", self.INNER, "up"],
                     ["-n", self.NS, "link", "set", "lo", "up"]):
            subprocess.run(["ip"] + args, check=True, capture_output=True)
        return self

    def __exit__(self, *_):
        subprocess.run(["ip", "netns", "del", self.NS], capture_output=True)
        subprocess.run(["ip", "link", "del", self.HOST], capture_output=True)


def veth_stream(runner, prefix, bundle, micro, mib, to_host, cid):
    """MiB/s of one TCP stream through the veth: from the sandbox to a host sink
    (`to_host`), or from the host to a sink in the sandbox; the sink measures."""
    import json
    cfg = os.path.join(bundle, "config.json")
    c = json.load(open(cfg))
    # runsc (2022) fails here on kernels that show /proc/sys/net/core/rmem_default in every
    # network namespace (6.x): it takes that file for the sign of the root namespace and
    # refuses ("cannot run with network enabled in root network namespace").
    nss = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
    c["linux"]["namespaces"] = nss + [{"type": "network", "path": f"/var/run/netns/{Veth.NS}"}]
    with Veth():
        if to_host:
            sink = subprocess.Popen([micro, "tcp_sink", "0", "198.18.0.1"], stdout=subprocess.PIPE, text=True)
            port = sink.stdout.readline().split()[1]
            c["process"]["args"] = ["/bin/micro", "tcp_send", str(mib), "198.18.0.1", port]
        else:
            c["process"]["args"] = ["/bin/micro", "tcp_sink", "5001", "0.0.0.0"]
        json.dump(c, open(cfg, "w"))
        if runner == "native":
            inside = ["nsenter", f"--net=/var/run/netns/{Veth.NS}", micro] + c["process"]["args"][1:]
        else:
            inside = prefix + ["run", "--bundle", bundle, cid]
        box = subprocess.Popen(inside, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if to_host:
                out, err = box.communicate(timeout=300)
                if box.returncode != 0:
                    raise RuntimeError(err.strip()[-300:])
                return float(sink.communicate(timeout=60)[0].split()[-1])
            if "listening" not in box.stdout.readline():
                raise RuntimeError(box.communicate(timeout=60)[1].strip()[-300:])
            subprocess.run([micro, "tcp_send", str(mib), "198.18.0.2", "5001"], check=True, timeout=300)
            out, err = box.communicate(timeout=60)
            if box.returncode != 0:
                raise RuntimeError(err.strip()[-300:])
            return float(out.split()[-1])
        finally:
            for p in [box] + ([sink] if to_host else []):
                if p.poll() is None:
                    p.kill()
                    p.wait()


def oci_runners(tmp):
    """OCI runtimes: `X --root R run --bundle B ID` for runc, palisade and runsc."""
    r = []
    if shutil.which("runc"):
        r.append(("runc", ["runc", "--root", os.path.join(tmp, "runc")]))
    r.append(("palisade-ptrace", [PALISADE, "--root", os.path.join(tmp, "palisade")]))
    if shutil.which("runsc"):
        r.append(("runsc-ptrace", ["runsc", "--root", os.path.join(tmp, "runsc"), "--platform=ptrace", "--network=none"]))
    return r


def oci_idle_memory(prefix, bundle, cid):
    """Total PSS (KiB) of a container's processes (sandbox, gofer, stubs) running `sleep`:
    the descendants of `run`, not `run` itself (under containerd it is gone)."""
    p = subprocess.Popen(prefix + ["run", "--bundle", bundle, cid], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    total = sum(pss_kib(q) for q in descendants(p.pid) if q != p.pid)
    p.wait(timeout=30)
    return total


def fmt_ratio(v, base):
    return f"{v / base:6.2f}x" if base else "   -  "


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="fewer iterations (smoke test)")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    if not os.path.exists(PALISADE):
        sys.exit("build first: cargo build --release")
    # Not under /tmp: a sandbox's /tmp is its own.
    os.makedirs(os.path.join(ROOT, "target"), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="bench-", dir=os.path.join(ROOT, "target"))
    micro = os.path.join(tmp, "micro")
    subprocess.run(["cc", "-O2", "-pthread", "-o", micro, os.path.join(ROOT, "bench", "micro.c")], check=True)
    rs = runners()
    names = [n for n, _ in rs]
    if (not only or "oci" in only) and shutil.which("runc"):
        names.insert(1, "runc")
    print(f"# palisade benchmarks: medians of {args.runs} runs; ratios are palisade-ptrace/runsc-ptrace"
          " (lower is better for times, higher for MiB/s)")
    print(f"{'benchmark':<24}" + "".join(f"{n:>18}" for n in names) + f"{'palisade/runsc':>16}")
    results = {}

    def row(label, unit, values):
        results[label] = values
        line = f"{label + ' (' + unit + ')':<24}"
        for n in names:
            v = values.get(n)
            line += f"{v:>18.1f}" if v is not None else f"{'n/a':>18}"
        p, r = values.get("palisade-ptrace"), values.get("runsc-ptrace")
        line += f"{fmt_ratio(p, r) if p and r else '-':>16}"
        print(line, flush=True)

    for name, n_native, n_sandbox in MICRO:
        if only and name not in only:
            continue
        vals = {}
        for rn, prefix in rs:
            iters = n_native if rn == "native" else n_sandbox
            if args.quick:
                iters = max(100, iters // 20)
            try:
                vals[rn] = statistics.median(run_micro(prefix, micro, name, iters) for _ in range(args.runs))
            except Exception as e:  # a sandbox that cannot run it is reported, not fatal
                print(f"# {name} on {rn}: {e}", file=sys.stderr)
        row(name, "ns/op", vals)

    for name, mib in STREAM:
        if only and name not in only:
            continue
        vals = {}
        for rn, prefix in rs:
            try:
                vals[rn] = statistics.median(
                    run_micro(prefix, micro, name, max(64, mib // 16) if args.quick else mib)
                    for _ in range(args.runs))
            except Exception as e:
                print(f"# {name} on {rn}: {e}", file=sys.stderr)
        row(name, "MiB/s", vals)

    if (not only or "veth" in only) and shutil.which("ip"):
        # Issue 6: one TCP stream between the host and a container whose network namespace
        # holds the other end of a veth (`--network sandbox`, the default of `run`), each way.
        static = os.path.join(tmp, "micro-static")
        subprocess.run(["cc", "-O2", "-static", "-pthread", "-o", static,
                        os.path.join(ROOT, "bench", "micro.c")], check=True)
        vb = oci_bundle(tmp, ["true"])
        shutil.copy(static, os.path.join(vb, "rootfs", "bin", "micro"))
        vrs = [("native", []), ("palisade-ptrace", [PALISADE, "--root", os.path.join(tmp, "palisade")])]
        if "palisade-kvm" in names:
            vrs.append(("palisade-kvm", [PALISADE, "--root", os.path.join(tmp, "palisade"), "--platform", "kvm"]))
        if "runsc-ptrace" in names:
            vrs.append(("runsc-ptrace", ["runsc", "--root", os.path.join(tmp, "runsc"), "--platform=ptrace"]))
        mib = 64 if args.quick else 512
        for to_host, label in ((True, "veth sandbox->host"), (False, "veth host->sandbox")):
            vals = {}
            for rn, prefix in vrs:
                try:
                    vals[rn] = statistics.median(
                        veth_stream(rn, prefix, vb, static, mib, to_host, f"veth{i}{int(to_host)}")
                        for i in range(args.runs))
                except Exception as e:
                    print(f"# {label} on {rn}: {e}", file=sys.stderr)
            row(label, "MiB/s", vals)

    if (not only or "kvm_floor" in only) and "palisade-kvm" in names:
        # The raw KVM exit round trip of this machine (a ring-3 guest doing `out` in a loop):
        # the floor under the kvm platform's syscall cost.
        floor = os.path.join(tmp, "kvm_floor")
        subprocess.run(["cc", "-O2", "-o", floor, os.path.join(ROOT, "bench", "kvm_floor.c")], check=True)
        n = "2000" if args.quick else "20000"
        v = statistics.median(
            float(subprocess.run([floor, n], capture_output=True, text=True, check=True).stdout)
            for _ in range(args.runs)
        )
        row("kvm exit floor", "ns", {"palisade-kvm": v})

    if not only or "do_true" in only:
        vals = {}
        for rn, prefix in rs:
            n = 5 if args.quick else 20
            try:
                wall(prefix, ["/bin/true"])
                vals[rn] = statistics.median(wall(prefix, ["/bin/true"]) for _ in range(n))
            except Exception as e:
                print(f"# do_true on {rn}: {e}", file=sys.stderr)
        row("do /bin/true", "ms", vals)

    if not only or "idle_rss" in only:
        vals = {}
        for rn, prefix in rs:
            if rn == "native":
                continue
            try:
                vals[rn] = statistics.median(idle_memory(prefix) / 1024 for _ in range(1 if args.quick else 3))
            except Exception as e:
                print(f"# idle memory on {rn}: {e}", file=sys.stderr)
        row("idle sandbox PSS", "MiB", vals)
    if not only or "oci" in only:
        # Issue 5: whole container lifecycles through the OCI command line.
        true_b = oci_bundle(tmp, ["true"])
        sleep_b = oci_bundle(tmp, ["sleep", "4"])
        ors = oci_runners(tmp)
        counter = [0]

        def cid():
            counter[0] += 1
            return f"bench{counter[0]}"

        vals = {}
        for rn, prefix in ors:
            n = 5 if args.quick else 20
            try:
                wall(prefix, ["run", "--bundle", true_b, cid()])
                vals[rn] = statistics.median(wall(prefix, ["run", "--bundle", true_b, cid()]) for _ in range(n))
            except Exception as e:
                print(f"# run true on {rn}: {e}", file=sys.stderr)
        row("run busybox true", "ms", vals)
        vals = {}
        for rn, prefix in ors:
            if rn == "runc":
                continue
            try:
                vals[rn] = statistics.median(
                    oci_idle_memory(prefix, sleep_b, cid()) / 1024 for _ in range(1 if args.quick else 3))
            except Exception as e:
                print(f"# idle container memory on {rn}: {e}", file=sys.stderr)
        row("idle container PSS", "MiB", vals)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
