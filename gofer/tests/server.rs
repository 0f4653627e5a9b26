//! The gofer server against a real directory tree: what it serves and what it refuses.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use gofer::client::{socketpair, Client, ClientError};

fn tree(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/file"), b"inside").unwrap();
    symlink("/etc/passwd", d.join("abs_link")).unwrap();
    symlink("../../..", d.join("up_link")).unwrap();
    symlink("sub", d.join("dir_link")).unwrap();
    d
}

fn serve(root: PathBuf) -> (Client, std::thread::JoinHandle<bool>) {
    let (a, b) = socketpair().unwrap();
    let h = std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let mut s = gofer::server::Server::new(&root, false).unwrap();
        s.serve(a.as_raw_fd()).is_ok()
    });
    (Client::new(b), h)
}

#[test]
fn walks_opens_and_lists_inside_the_root() {
    let (c, _h) = serve(tree("gofer-basic"));
    let root = c.attach().unwrap();
    assert_eq!(root.mode & libc::S_IFMT, libc::S_IFDIR);
    let (nodes, errno) = c.walk(0, vec![b"sub".to_vec(), b"file".to_vec()]).unwrap();
    assert_eq!((nodes.len(), errno), (2, 0));
    let fd = c.open(nodes[1].0, libc::O_RDONLY as u32).unwrap();
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    assert_eq!(s, "inside");
    let (entries, eof) = c.readdir(0, 0).unwrap();
    assert!(eof);
    let mut names: Vec<_> = entries
        .iter()
        .map(|e| String::from_utf8_lossy(&e.name).into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["abs_link", "dir_link", "sub", "up_link"]);
    // Writes are refused: the tree is served read-only.
    assert!(matches!(
        c.open(nodes[1].0, libc::O_RDWR as u32),
        Err(ClientError::Errno(libc::EROFS))
    ));
}

#[test]
fn never_leaves_the_root() {
    let (c, _h) = serve(tree("gofer-escape"));
    // ".." and names with "/" are not components.
    assert_eq!(
        c.walk(0, vec![b"..".to_vec()]).unwrap(),
        (vec![], libc::EINVAL)
    );
    assert_eq!(
        c.walk(0, vec![b"sub/../..".to_vec()]).unwrap(),
        (vec![], libc::EINVAL)
    );
    assert_eq!(
        c.walk(0, vec![b".".to_vec()]).unwrap(),
        (vec![], libc::EINVAL)
    );
    // A symlink is returned as a symlink, never followed: walking through it fails.
    for link in ["abs_link", "up_link", "dir_link"] {
        let (nodes, errno) = c
            .walk(0, vec![link.as_bytes().to_vec(), b"passwd".to_vec()])
            .unwrap();
        assert_eq!(nodes.len(), 1, "{link}");
        assert_eq!(nodes[0].1.mode & libc::S_IFMT, libc::S_IFLNK);
        assert_eq!(errno, 0, "the walk stops after a symlink");
        // Opening a symlink node is refused.
        assert!(c.open(nodes[0].0, 0).is_err());
        assert!(c.readlink(nodes[0].0).is_ok());
    }
    assert_eq!(c.readlink(0).map_err(|e| e.errno()), Err(libc::EINVAL));
}

#[test]
fn malformed_message_closes_the_connection() {
    let (a, b) = socketpair().unwrap();
    let root = tree("gofer-malformed");
    let h = std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let mut s = gofer::server::Server::new(&root, false).unwrap();
        s.serve(a.as_raw_fd())
    });
    use std::os::fd::AsRawFd;
    nix::sys::socket::send(
        b.as_raw_fd(),
        &[0xff, 1, 2, 3],
        nix::sys::socket::MsgFlags::empty(),
    )
    .unwrap();
    let r = h.join().unwrap();
    assert!(r.is_err(), "a malformed request must end the connection");
    // The client sees the closed connection as an I/O error, never a hang or a panic.
    let c = Client::new(b);
    assert_eq!(c.attach().map_err(|e| e.errno()), Err(libc::EIO));
}
