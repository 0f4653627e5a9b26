//! Connections a listener's family refuses. smoltcp's listening sockets on the wildcard
//! address take both families, but on Linux an IPv4 listener on 0.0.0.0 never takes an IPv6
//! connection, nor an IPV6_V6ONLY listener on :: an IPv4 one: the peer gets a reset
//! (ECONNREFUSED). The stack answers such SYNs itself before smoltcp sees them.

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    IpAddress, IpProtocol, IpRepr, Ipv4Packet, Ipv6Packet, TcpControl, TcpPacket, TcpRepr,
    TcpSeqNumber,
};

/// A port whose listeners take only one family: SYNs of the other are refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Refused {
    pub port: u16,
    /// The family refused: IPv4 (true) or IPv6.
    pub v4: bool,
}

/// For an IP packet carrying a SYN to a refused port and family, the RST that answers it.
pub fn reset_for(ip: &[u8], refused: &[Refused]) -> Option<Vec<u8>> {
    let (src, dst, proto, payload) = match ip.first()? >> 4 {
        4 => {
            let p = Ipv4Packet::new_checked(ip).ok()?;
            let body = ip.get(p.header_len() as usize..p.total_len() as usize)?;
            (
                IpAddress::Ipv4(p.src_addr()),
                IpAddress::Ipv4(p.dst_addr()),
                p.next_header(),
                body,
            )
        }
        6 => {
            let p = Ipv6Packet::new_checked(ip).ok()?;
            let body = ip.get(40..40 + p.payload_len() as usize)?;
            (
                IpAddress::Ipv6(p.src_addr()),
                IpAddress::Ipv6(p.dst_addr()),
                p.next_header(),
                body,
            )
        }
        _ => return None,
    };
    if proto != IpProtocol::Tcp {
        return None;
    }
    let tcp = TcpPacket::new_checked(payload).ok()?;
    if !tcp.syn() || tcp.ack() || tcp.rst() {
        return None;
    }
    let v4 = matches!(dst, IpAddress::Ipv4(_));
    let hit = Refused {
        port: tcp.dst_port(),
        v4,
    };
    if !refused.contains(&hit) {
        return None;
    }
    // RFC 793: a reset for a SYN acknowledges it (seq + 1) from sequence number 0.
    let rst = TcpRepr {
        src_port: tcp.dst_port(),
        dst_port: tcp.src_port(),
        control: TcpControl::Rst,
        seq_number: TcpSeqNumber(0),
        ack_number: Some(tcp.seq_number() + tcp.segment_len()),
        window_len: 0,
        window_scale: None,
        max_seg_size: None,
        sack_permitted: false,
        sack_ranges: [None; 3],
        timestamp: None,
        payload: &[],
    };
    let ip_repr = IpRepr::new(dst, src, IpProtocol::Tcp, rst.buffer_len(), 64);
    let caps = ChecksumCapabilities::default();
    let mut out = vec![0u8; ip_repr.header_len() + rst.buffer_len()];
    ip_repr.emit(&mut out[..], &caps);
    let mut t = TcpPacket::new_unchecked(&mut out[ip_repr.header_len()..]);
    rst.emit(&mut t, &dst, &src, &caps);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn(v4: bool, port: u16) -> Vec<u8> {
        let (src, dst) = if v4 {
            (IpAddress::v4(127, 0, 0, 1), IpAddress::v4(127, 0, 0, 1))
        } else {
            let l = IpAddress::Ipv6(smoltcp::wire::Ipv6Address::LOCALHOST);
            (l, l)
        };
        let s = TcpRepr {
            src_port: 40000,
            dst_port: port,
            control: TcpControl::Syn,
            seq_number: TcpSeqNumber(1000),
            ack_number: None,
            window_len: 100,
            window_scale: None,
            max_seg_size: None,
            sack_permitted: false,
            sack_ranges: [None; 3],
            timestamp: None,
            payload: &[],
        };
        let ip = IpRepr::new(src, dst, IpProtocol::Tcp, s.buffer_len(), 64);
        let caps = ChecksumCapabilities::default();
        let mut out = vec![0u8; ip.header_len() + s.buffer_len()];
        ip.emit(&mut out[..], &caps);
        s.emit(
            &mut TcpPacket::new_unchecked(&mut out[ip.header_len()..]),
            &src,
            &dst,
            &caps,
        );
        out
    }

    #[test]
    fn refuses_only_the_listed_family_and_port() {
        let r = [Refused { port: 80, v4: true }];
        assert!(reset_for(&syn(false, 80), &r).is_none());
        assert!(reset_for(&syn(true, 81), &r).is_none());
        let rst = reset_for(&syn(true, 80), &r).expect("a reset");
        let p = Ipv4Packet::new_checked(&rst[..]).expect("IPv4");
        let t = TcpPacket::new_checked(p.payload()).expect("TCP");
        assert!(t.rst() && t.ack());
        assert_eq!((t.src_port(), t.dst_port()), (80, 40000));
        assert_eq!(t.ack_number(), TcpSeqNumber(1001));
    }
}
