//! ICMP errors about UDP datagrams we sent (destination or port unreachable): read off the
//! packets the stack receives, so a connected UDP socket learns that nobody listens (Linux
//! reports the "hard" ones to connected sockets: ECONNREFUSED for a closed port).

use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv6Address};

use crate::errno::Errno;

/// An error about a datagram from `local` to `remote`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpError {
    pub local: IpEndpoint,
    pub remote: IpEndpoint,
    pub errno: Errno,
}

const IPPROTO_ICMP: u8 = 1;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMPV6: u8 = 58;

fn port(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The UDP error an IP packet carries, if it is one we report.
pub fn udp_error(p: &[u8]) -> Option<UdpError> {
    match p.first()? >> 4 {
        4 => v4(p),
        6 => v6(p),
        _ => None,
    }
}

fn v4(p: &[u8]) -> Option<UdpError> {
    let ihl = usize::from(p.first()? & 0xf) * 4;
    if *p.get(9)? != IPPROTO_ICMP {
        return None;
    }
    let icmp = p.get(ihl..)?;
    // Destination unreachable: port (3) is ECONNREFUSED, protocol (2) ENOPROTOOPT; the
    // others are soft errors Linux does not report without IP_RECVERR.
    if *icmp.first()? != 3 {
        return None;
    }
    let errno = match *icmp.get(1)? {
        2 => Errno::ENOPROTOOPT,
        3 => Errno::ECONNREFUSED,
        _ => return None,
    };
    let inner = icmp.get(8..)?;
    let ihl2 = usize::from(inner.first()? & 0xf) * 4;
    if *inner.get(9)? != IPPROTO_UDP {
        return None;
    }
    let addr = |at: usize| -> Option<IpAddress> {
        let b = inner.get(at..at + 4)?;
        Some(IpAddress::Ipv4(Ipv4Address::new(b[0], b[1], b[2], b[3])))
    };
    Some(UdpError {
        local: IpEndpoint::new(addr(12)?, port(inner, ihl2)?),
        remote: IpEndpoint::new(addr(16)?, port(inner, ihl2 + 2)?),
        errno,
    })
}

fn v6(p: &[u8]) -> Option<UdpError> {
    if *p.get(6)? != IPPROTO_ICMPV6 {
        return None;
    }
    let icmp = p.get(40..)?;
    // Destination unreachable: port (4) is ECONNREFUSED, administratively prohibited (1)
    // EACCES.
    if *icmp.first()? != 1 {
        return None;
    }
    let errno = match *icmp.get(1)? {
        1 => Errno::EACCES,
        4 => Errno::ECONNREFUSED,
        _ => return None,
    };
    let inner = icmp.get(8..)?;
    if *inner.get(6)? != IPPROTO_UDP {
        return None;
    }
    let addr = |at: usize| -> Option<IpAddress> {
        let b: [u8; 16] = inner.get(at..at + 16)?.try_into().ok()?;
        Some(IpAddress::Ipv6(Ipv6Address::from(b)))
    };
    Some(UdpError {
        local: IpEndpoint::new(addr(8)?, port(inner, 40)?),
        remote: IpEndpoint::new(addr(24)?, port(inner, 42)?),
        errno,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_unreachable_v4() {
        // ICMP port unreachable from 127.0.0.1 about 127.0.0.1:40000 -> 127.0.0.1:9.
        let mut p = vec![
            0x45,
            0,
            0,
            56,
            0,
            0,
            0,
            0,
            64,
            IPPROTO_ICMP,
            0,
            0,
            127,
            0,
            0,
            1,
            127,
            0,
            0,
            1,
        ];
        p.extend_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[
            0x45,
            0,
            0,
            29,
            0,
            0,
            0,
            0,
            64,
            IPPROTO_UDP,
            0,
            0,
            127,
            0,
            0,
            1,
            127,
            0,
            0,
            1,
        ]);
        p.extend_from_slice(&[0x9c, 0x40, 0, 9, 0, 9, 0, 0]);
        let e = udp_error(&p).expect("an error");
        assert_eq!(e.local.port, 40000);
        assert_eq!(e.remote.port, 9);
        assert_eq!(e.errno, Errno::ECONNREFUSED);
        // Cut anywhere: no error, no panic.
        for n in 0..p.len() {
            let _ = udp_error(&p[..n]);
        }
        p[21] = 1; // host unreachable: soft
        assert!(udp_error(&p).is_none());
    }
}
