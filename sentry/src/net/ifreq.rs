//! The interface ioctls any socket takes (SIOCGIF*): what `ifconfig`, busybox `ip` and older
//! programs ask of the sandbox's interfaces (loopback, index 1, and the interface the stack
//! took over, index 2).

use std::net::IpAddr;

use super::stack::NicInfo;
use crate::errno::Errno;
use crate::mm::MemoryManager;

/// sizeof(struct ifreq).
const IFREQ: usize = 40;
const IFNAMSIZ: usize = 16;

/// One interface as the ioctls describe it.
struct If<'a> {
    index: i32,
    name: &'a str,
    flags: i32,
    mtu: i32,
    mac: [u8; 6],
    /// ARPHRD_* for SIOCGIFHWADDR.
    hwtype: u16,
    /// The first IPv4 address and its prefix.
    v4: Option<(std::net::Ipv4Addr, u8)>,
}

fn interfaces(nic: Option<&NicInfo>) -> Vec<If<'_>> {
    let up = libc::IFF_UP | libc::IFF_RUNNING | libc::IFF_LOWER_UP;
    let mut v = vec![If {
        index: super::netlink::LO_INDEX as i32,
        name: "lo",
        flags: up | libc::IFF_LOOPBACK,
        mtu: 65536,
        mac: [0; 6],
        hwtype: libc::ARPHRD_LOOPBACK,
        v4: Some((std::net::Ipv4Addr::LOCALHOST, 8)),
    }];
    if let Some(n) = nic {
        v.push(If {
            index: super::netlink::NIC_INDEX as i32,
            name: &n.name,
            flags: up | libc::IFF_BROADCAST | libc::IFF_MULTICAST,
            mtu: n.mtu as i32,
            mac: n.mac,
            hwtype: libc::ARPHRD_ETHER,
            v4: n.addrs.iter().find_map(|&(a, p)| match a {
                IpAddr::V4(v4) => Some((v4, p)),
                IpAddr::V6(_) => None,
            }),
        });
    }
    v
}

/// A struct sockaddr_in (16 bytes).
fn sockaddr_in(a: std::net::Ipv4Addr) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
    b[4..8].copy_from_slice(&a.octets());
    b
}

fn mask(prefix: u8) -> std::net::Ipv4Addr {
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
        .into()
}

/// The interface ioctls handled here.
const REQUESTS: [libc::c_ulong; 10] = [
    libc::SIOCGIFCONF,
    libc::SIOCGIFNAME,
    libc::SIOCGIFINDEX,
    libc::SIOCGIFFLAGS,
    libc::SIOCGIFMTU,
    libc::SIOCGIFTXQLEN,
    libc::SIOCGIFADDR,
    libc::SIOCGIFNETMASK,
    libc::SIOCGIFBRDADDR,
    libc::SIOCGIFHWADDR,
];

/// Whether `req` is an interface ioctl (checked before anything else is looked up).
pub fn is_interface_request(req: u64) -> bool {
    REQUESTS.contains(&(req as libc::c_ulong))
}

/// Answer interface ioctl `req` (one `is_interface_request` accepts).
pub fn ioctl(nic: Option<&NicInfo>, mm: &MemoryManager, req: u64, arg: u64) -> Result<u64, Errno> {
    handle(nic, mm, req as libc::c_ulong, arg)
}

fn handle(
    nic: Option<&NicInfo>,
    mm: &MemoryManager,
    req: libc::c_ulong,
    arg: u64,
) -> Result<u64, Errno> {
    let ifs = interfaces(nic);
    if req == libc::SIOCGIFCONF {
        // struct ifconf { int ifc_len; char *ifc_buf; }: one ifreq per IPv4 address.
        let len: i32 = mm.copy_in(arg)?;
        let buf: u64 = mm.copy_in(arg + 8)?;
        let mut out = Vec::new();
        for i in ifs.iter() {
            let Some((a, _)) = i.v4 else { continue };
            let mut r = [0u8; IFREQ];
            r[..i.name.len()].copy_from_slice(i.name.as_bytes());
            r[IFNAMSIZ..IFNAMSIZ + 16].copy_from_slice(&sockaddr_in(a));
            out.push(r);
        }
        let fit = if buf == 0 {
            out.len()
        } else {
            (len.max(0) as usize / IFREQ).min(out.len())
        };
        if buf != 0 {
            let bytes: Vec<u8> = out[..fit].concat();
            mm.write_bytes(buf, &bytes)?;
        }
        mm.copy_out(arg, &((fit * IFREQ) as i32))?;
        return Ok(0);
    }
    let mut r = [0u8; IFREQ];
    mm.read_bytes(arg, &mut r)?;
    let i = if req == libc::SIOCGIFNAME {
        let index = i32::from_ne_bytes([r[16], r[17], r[18], r[19]]);
        ifs.iter().find(|i| i.index == index).ok_or(Errno::ENODEV)?
    } else {
        let end = r[..IFNAMSIZ]
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(IFNAMSIZ);
        let name = &r[..end];
        ifs.iter()
            .find(|i| i.name.as_bytes() == name)
            .ok_or(Errno::ENODEV)?
    };
    let u = &mut r[IFNAMSIZ..];
    match req {
        libc::SIOCGIFNAME => {
            let mut n = [0u8; IFNAMSIZ];
            n[..i.name.len()].copy_from_slice(i.name.as_bytes());
            mm.write_bytes(arg, &n)?;
            return Ok(0);
        }
        libc::SIOCGIFINDEX => u[..4].copy_from_slice(&i.index.to_ne_bytes()),
        libc::SIOCGIFFLAGS => u[..2].copy_from_slice(&(i.flags as i16).to_ne_bytes()),
        libc::SIOCGIFMTU => u[..4].copy_from_slice(&i.mtu.to_ne_bytes()),
        libc::SIOCGIFTXQLEN => u[..4].copy_from_slice(&1000i32.to_ne_bytes()),
        libc::SIOCGIFHWADDR => {
            u[..2].copy_from_slice(&i.hwtype.to_ne_bytes());
            u[2..8].copy_from_slice(&i.mac);
        }
        _ => {
            let (a, p) = i.v4.ok_or(Errno::EADDRNOTAVAIL)?;
            let v = match req {
                libc::SIOCGIFADDR => a,
                libc::SIOCGIFNETMASK => mask(p),
                _ => {
                    if i.flags & libc::IFF_BROADCAST == 0 {
                        return Err(Errno::EADDRNOTAVAIL);
                    }
                    (u32::from(a) | !u32::from(mask(p))).into()
                }
            };
            u[..16].copy_from_slice(&sockaddr_in(v));
        }
    }
    mm.write_bytes(arg, &r)?;
    Ok(0)
}
