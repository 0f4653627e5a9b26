//! Extended attributes: get/set/list/removexattr and their l- and f- forms.
//!
//! Namespaces as Linux checks them (`xattr_permission`): `user.*` on regular files and
//! directories with read or write permission (sticky directories: owner only); `trusted.*`
//! with CAP_SYS_ADMIN (hidden from listings otherwise); `security.*` readable by all, written
//! with CAP_SYS_ADMIN. `system.*` (POSIX ACLs) is not supported: EOPNOTSUPP.

use std::sync::Arc;

use super::fd_arg;
use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::vfs::{self, Inode};

const XATTR_NAME_MAX: usize = 255;
const XATTR_SIZE_MAX: usize = 65536;
const XATTR_LIST_MAX: usize = 65536;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Space {
    User,
    Trusted,
    Security,
}

/// How the file is named: a path (following a last symlink or not) or a descriptor.
#[derive(Clone, Copy)]
enum Target {
    Path { follow: bool },
    Fd,
}

fn target(t: &Task, how: Target, arg: u64) -> Result<(Arc<dyn Inode>, bool), Errno> {
    match how {
        Target::Path { follow } => {
            let path = t.path_arg(arg)?;
            let d = super::fs::lookup_at(t, libc::AT_FDCWD, &path, follow, false)?;
            let ro = d.read_only();
            Ok((d.inode.clone(), ro))
        }
        Target::Fd => {
            let f = t.fds.get(fd_arg(arg))?;
            if f.is_path() {
                return Err(Errno::EBADF);
            }
            let d = f.dentry.clone().ok_or(Errno::EOPNOTSUPP)?;
            let ro = d.read_only();
            Ok((d.inode.clone(), ro))
        }
    }
}

/// Read the attribute name: ERANGE when empty or longer than XATTR_NAME_MAX.
fn name_arg(t: &Task, addr: u64) -> Result<(Vec<u8>, Space), Errno> {
    let name = match t.mm.read_cstr(addr, XATTR_NAME_MAX + 1) {
        Ok(n) => n,
        Err(Errno::ENAMETOOLONG) => return Err(Errno::ERANGE),
        Err(e) => return Err(e),
    };
    if name.is_empty() || name.len() > XATTR_NAME_MAX {
        return Err(Errno::ERANGE);
    }
    let space = if name.starts_with(b"user.") {
        Space::User
    } else if name.starts_with(b"trusted.") {
        Space::Trusted
    } else if name.starts_with(b"security.") {
        Space::Security
    } else {
        return Err(Errno::EOPNOTSUPP);
    };
    Ok((name, space))
}

/// Linux's xattr_permission.
fn permitted(t: &Task, inode: &dyn Inode, space: Space, write: bool) -> Result<(), Errno> {
    let st = inode.stat()?;
    match space {
        Space::Trusted if !t.creds.has_cap(caps::Capability::CAP_SYS_ADMIN) => {
            return Err(if write { Errno::EPERM } else { Errno::ENODATA });
        }
        Space::Trusted => return Ok(()),
        Space::Security if write && !t.creds.has_cap(caps::Capability::CAP_SYS_ADMIN) => {
            return Err(Errno::EPERM)
        }
        Space::Security => return Ok(()),
        Space::User => {}
    }
    let ft = st.file_type();
    if ft != libc::S_IFREG && ft != libc::S_IFDIR {
        return Err(if write { Errno::EPERM } else { Errno::ENODATA });
    }
    if write
        && ft == libc::S_IFDIR
        && st.mode & libc::S_ISVTX != 0
        && st.uid != t.creds.fsuid
        && !t.creds.has_cap(caps::Capability::CAP_FOWNER)
    {
        return Err(Errno::EPERM);
    }
    if t.creds.has_cap(caps::Capability::CAP_DAC_OVERRIDE) {
        return Ok(());
    }
    vfs::may_access(&st, &t.creds, if write { 2 } else { 4 }, false)
}

fn get(t: &mut Task, how: Target, a: [u64; 6]) -> SysResult {
    let (inode, _) = target(t, how, a[0])?;
    let (name, space) = name_arg(t, a[1])?;
    permitted(t, &*inode, space, false)?;
    let v = inode.getxattr(&name)?;
    let size = (a[3] as usize).min(XATTR_SIZE_MAX);
    if size == 0 {
        return Ok(v.len() as u64);
    }
    if v.len() > size {
        return Err(Errno::ERANGE);
    }
    t.mm.write_bytes(a[2], &v)?;
    Ok(v.len() as u64)
}

fn set(t: &mut Task, how: Target, a: [u64; 6]) -> SysResult {
    let (inode, read_only) = target(t, how, a[0])?;
    let flags = a[4] as u32;
    if flags & !((libc::XATTR_CREATE | libc::XATTR_REPLACE) as u32) != 0 {
        return Err(Errno::EINVAL);
    }
    let (name, space) = name_arg(t, a[1])?;
    let size = a[3] as usize;
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let mut value = vec![0u8; size];
    t.mm.read_bytes(a[2], &mut value)?;
    if read_only {
        return Err(Errno::EROFS);
    }
    permitted(t, &*inode, space, true)?;
    inode.setxattr(&name, &value, flags)?;
    Ok(0)
}

fn list(t: &mut Task, how: Target, a: [u64; 6]) -> SysResult {
    let (inode, _) = target(t, how, a[0])?;
    let admin = t.creds.has_cap(caps::Capability::CAP_SYS_ADMIN);
    let mut out = Vec::new();
    for n in inode.listxattr()? {
        if n.starts_with(b"trusted.") && !admin {
            continue;
        }
        out.extend_from_slice(&n);
        out.push(0);
    }
    let size = (a[2] as usize).min(XATTR_LIST_MAX);
    if size == 0 {
        return Ok(out.len() as u64);
    }
    if out.len() > size {
        return Err(if out.len() > XATTR_LIST_MAX {
            Errno::E2BIG
        } else {
            Errno::ERANGE
        });
    }
    t.mm.write_bytes(a[1], &out)?;
    Ok(out.len() as u64)
}

fn remove(t: &mut Task, how: Target, a: [u64; 6]) -> SysResult {
    let (inode, read_only) = target(t, how, a[0])?;
    let (name, space) = name_arg(t, a[1])?;
    if read_only {
        return Err(Errno::EROFS);
    }
    permitted(t, &*inode, space, true)?;
    inode.removexattr(&name)?;
    Ok(0)
}

const FOLLOW: Target = Target::Path { follow: true };
const NOFOLLOW: Target = Target::Path { follow: false };

pub fn getxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    get(t, FOLLOW, a)
}
pub fn lgetxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    get(t, NOFOLLOW, a)
}
pub fn fgetxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    get(t, Target::Fd, a)
}
pub fn setxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    set(t, FOLLOW, a)
}
pub fn lsetxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    set(t, NOFOLLOW, a)
}
pub fn fsetxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    set(t, Target::Fd, a)
}
pub fn listxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    list(t, FOLLOW, a)
}
pub fn llistxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    list(t, NOFOLLOW, a)
}
pub fn flistxattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    list(t, Target::Fd, a)
}
pub fn removexattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    remove(t, FOLLOW, a)
}
pub fn lremovexattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    remove(t, NOFOLLOW, a)
}
pub fn fremovexattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    remove(t, Target::Fd, a)
}
