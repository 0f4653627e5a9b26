//! The sandbox's mount table: what `/proc/mounts` and `/proc/<pid>/mountinfo` list and what
//! `umount2` removes. A mount is a file system's root dentry placed over a dentry (see
//! `Dentry::mount`); this table records, for each, its id, type, source, flags and options.

use std::sync::{Arc, Mutex, MutexGuard};

use super::Dentry;
use crate::errno::Errno;

/// Mount flags the table reports (a subset of MS_*).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub read_only: bool,
    pub nosuid: bool,
    pub nodev: bool,
    pub noexec: bool,
}

impl Flags {
    pub fn from_ms(ms: u64) -> Flags {
        Flags {
            read_only: ms & libc::MS_RDONLY != 0,
            nosuid: ms & libc::MS_NOSUID != 0,
            nodev: ms & libc::MS_NODEV != 0,
            noexec: ms & libc::MS_NOEXEC != 0,
        }
    }

    fn text(&self) -> String {
        let mut s = String::from(if self.read_only { "ro" } else { "rw" });
        for (on, name) in [
            (self.nosuid, "nosuid"),
            (self.nodev, "nodev"),
            (self.noexec, "noexec"),
        ] {
            if on {
                s.push(',');
                s.push_str(name);
            }
        }
        s.push_str(",relatime");
        s
    }
}

/// What a mount is: type, source and options as `mount(8)` shows them.
#[derive(Debug, Clone)]
pub struct Spec {
    pub fstype: String,
    pub source: String,
    pub flags: Flags,
    /// File system options ("size=..,mode=..").
    pub data: String,
}

impl Spec {
    pub fn new(fstype: &str, source: &str, flags: Flags, data: &str) -> Spec {
        Spec {
            fstype: fstype.into(),
            source: source.into(),
            flags,
            data: data.into(),
        }
    }
}

pub struct Mount {
    pub id: u32,
    pub parent: u32,
    /// The mounted file system's root dentry (its `covers` is the mount point).
    pub root: Arc<Dentry>,
    pub spec: Mutex<Spec>,
    /// umount2(MNT_EXPIRE) marked it: the next such call unmounts it.
    pub expiry_mark: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Table {
    mounts: Vec<Arc<Mount>>,
    next_id: u32,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    mounts: Vec::new(),
    next_id: 0,
});

fn table() -> MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Record a mount whose root dentry is `root`.
pub fn register(root: &Arc<Dentry>, spec: Spec) {
    root.set_mount_flags(&spec.flags);
    let parent = root
        .covers
        .as_ref()
        .and_then(mount_of)
        .map(|m| m.id)
        .unwrap_or(0);
    let mut t = table();
    t.next_id += 1;
    let id = t.next_id;
    t.mounts.push(Arc::new(Mount {
        id,
        parent,
        root: root.clone(),
        spec: Mutex::new(spec),
        expiry_mark: std::sync::atomic::AtomicBool::new(false),
    }));
}

/// Change a mount's flags (MS_REMOUNT).
pub fn remount(root: &Arc<Dentry>, flags: Flags) -> Result<(), Errno> {
    let m = all()
        .into_iter()
        .find(|m| Arc::ptr_eq(&m.root, root))
        .ok_or(Errno::EINVAL)?;
    m.spec.lock().unwrap_or_else(|e| e.into_inner()).flags = flags;
    root.set_mount_flags(&flags);
    Ok(())
}

/// A remounted file system's options, as /proc/mounts shows them.
pub fn set_data(root: &Arc<Dentry>, data: &str) {
    if let Some(m) = all().into_iter().find(|m| Arc::ptr_eq(&m.root, root)) {
        m.spec.lock().unwrap_or_else(|e| e.into_inner()).data = data.into();
    }
}

/// Every mount, in the order they were made.
pub fn all() -> Vec<Arc<Mount>> {
    table().mounts.clone()
}

/// The mount a dentry lies in: its file system root's entry.
pub fn mount_of(d: &Arc<Dentry>) -> Option<Arc<Mount>> {
    let mut cur = d.clone();
    let mut hops = 0;
    while let Some(p) = cur.parent() {
        cur = p;
        hops += 1;
        if hops > 4096 {
            return None;
        }
    }
    table()
        .mounts
        .iter()
        .find(|m| Arc::ptr_eq(&m.root, &cur))
        .cloned()
}

/// Take the mount whose root is `root` out of the table; EBUSY while other mounts sit on it.
pub fn unregister(root: &Arc<Dentry>) -> Result<(), Errno> {
    let mut t = table();
    let i = t
        .mounts
        .iter()
        .position(|m| Arc::ptr_eq(&m.root, root))
        .ok_or(Errno::EINVAL)?;
    let id = t.mounts[i].id;
    if t.mounts.iter().any(|m| m.parent == id) {
        return Err(Errno::EBUSY);
    }
    t.mounts.remove(i);
    Ok(())
}

/// Take every mount in the tree of `root` out of the table (a container's, when it leaves
/// the sandbox).
pub fn forget_below(root: &Arc<Dentry>) {
    let mine: Vec<Arc<Mount>> = all()
        .into_iter()
        .filter(|m| m.root.is_below(root))
        .collect();
    table()
        .mounts
        .retain(|m| !mine.iter().any(|x| Arc::ptr_eq(x, m)));
}

/// One line of /proc/mounts for `m`, with its mount point as seen from `root`.
pub fn mounts_line(m: &Mount, root: &Arc<Dentry>) -> String {
    let s = m.spec.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let point = escape(&m.root.path(root));
    let mut opts = s.flags.text();
    if !s.data.is_empty() {
        opts.push(',');
        opts.push_str(&s.data);
    }
    format!("{} {} {} {} 0 0\n", s.source, point, s.fstype, opts)
}

/// One line of /proc/<pid>/mountinfo for `m`.
pub fn mountinfo_line(m: &Mount, root: &Arc<Dentry>) -> String {
    let s = m.spec.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let dev = m.root.inode.stat().map(|st| st.dev).unwrap_or(0);
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let point = escape(&m.root.path(root));
    let super_opts = if s.data.is_empty() {
        String::from(if s.flags.read_only { "ro" } else { "rw" })
    } else {
        format!("{},{}", if s.flags.read_only { "ro" } else { "rw" }, s.data)
    };
    format!(
        "{} {} {major}:{minor} / {point} {} - {} {} {super_opts}\n",
        m.id,
        m.parent,
        s.flags.text(),
        s.fstype,
        s.source
    )
}

/// Octal escapes for the characters the mount files escape (space, tab, newline, backslash).
fn escape(p: &[u8]) -> String {
    let mut out = Vec::new();
    for &b in p {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            _ => out.push(b),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
