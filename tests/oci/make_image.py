#!/usr/bin/env python3
"""Build an OCI image archive (as `ctr image import` takes it) whose one layer is a
busybox-static root: /bin/busybox with its applet links, /etc/passwd and /etc/group.

usage: make_image.py OUT.tar REF
"""
import hashlib, io, json, sys, tarfile, time

BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "echo", "cat", "ls", "sleep", "true", "false", "id", "env", "ps",
           "hostname", "kill", "wc", "head", "touch", "mkdir", "rm", "test", "printf", "tty",
           "stty", "uname", "sync"]


def layer():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add_dir(name, mode=0o755):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, mode, 0
            t.addfile(ti)

        def add_file(name, data, mode=0o644):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), mode, 0
            t.addfile(ti, io.BytesIO(data))

        for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "run"]:
            add_dir(d, 0o1777 if d == "tmp" else 0o755)
        add_file("bin/busybox", open(BUSYBOX, "rb").read(), 0o755)
        for a in APPLETS:
            ti = tarfile.TarInfo("bin/" + a)
            ti.type, ti.linkname, ti.mode, ti.mtime = tarfile.SYMTYPE, "busybox", 0o777, 0
            t.addfile(ti)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    return buf.getvalue()


def main():
    out, ref = sys.argv[1], sys.argv[2]
    blobs = {}

    def blob(data, media):
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[d] = data
        return {"mediaType": media, "digest": d, "size": len(data)}

    lay = layer()
    lay_desc = blob(lay, "application/vnd.oci.image.layer.v1.tar")
    config = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(0)),
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [lay_desc["digest"]]},
    }
    cfg_desc = blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cfg_desc, "layers": [lay_desc]}
    man_desc = blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
    man_desc["annotations"] = {"org.opencontainers.image.ref.name": ref,
                               "io.containerd.image.name": ref}
    man_desc["platform"] = {"architecture": "amd64", "os": "linux"}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [man_desc]}
    with tarfile.open(out, "w") as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o644
            t.addfile(ti, io.BytesIO(data))
        add("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add("index.json", json.dumps(index).encode())
        for d, data in blobs.items():
            add("blobs/sha256/" + d.split(":")[1], data)


main()
