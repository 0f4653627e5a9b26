//! `palisade-cri`: the Kubernetes CRI v1 server. Not implemented yet: it needs the OCI runtime
//! (containers, exec, pods) first. It says so and fails rather than pretending to serve.
#![deny(unsafe_code)]

fn main() {
    eprintln!("palisade-cri: the CRI server is not implemented yet; use `palisade` under containerd's runc shim");
    std::process::exit(1);
}
