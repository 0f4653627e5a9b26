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
    let mut rst = segment(tcp.dst_port(), tcp.src_port(), TcpControl::Rst, 0);
    rst.ack_number = Some(tcp.seq_number() + tcp.segment_len());
    Some(packet(dst, src, &rst))
}

/// A bare TCP segment: no options, no data, no window.
fn segment(src_port: u16, dst_port: u16, control: TcpControl, seq: i32) -> TcpRepr<'static> {
    TcpRepr {
        src_port,
        dst_port,
        control,
        seq_number: TcpSeqNumber(seq),
        ack_number: None,
        window_len: 0,
        window_scale: None,
        max_seg_size: None,
        sack_permitted: false,
        sack_ranges: [None; 3],
        timestamp: None,
        payload: &[],
    }
}

/// `seg` in an IP packet from `src` to `dst`, checksums filled in.
fn packet(src: IpAddress, dst: IpAddress, seg: &TcpRepr<'_>) -> Vec<u8> {
    let ip = IpRepr::new(src, dst, IpProtocol::Tcp, seg.buffer_len(), 64);
    let caps = ChecksumCapabilities::default();
    let mut out = vec![0u8; ip.header_len() + seg.buffer_len()];
    ip.emit(&mut out[..], &caps);
    seg.emit(
        &mut TcpPacket::new_unchecked(&mut out[ip.header_len()..]),
        &src,
        &dst,
        &caps,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn(v4: bool, port: u16) -> Vec<u8> {
        let a = if v4 {
            IpAddress::v4(127, 0, 0, 1)
        } else {
            IpAddress::Ipv6(smoltcp::wire::Ipv6Address::LOCALHOST)
        };
        packet(a, a, &segment(40000, port, TcpControl::Syn, 1000))
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
