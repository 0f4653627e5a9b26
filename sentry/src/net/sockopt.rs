//! The stack's tunables (what /proc/sys/net shows) and the integer socket options whose value
//! is kept for getsockopt and checked as Linux checks it, without a field of their own in
//! `Opts` because the stack has nothing to do with them (IP_RECVERR, TCP_CORK...).

/// net.core.{r,w}mem_{default,max}: UDP's buffer sizes and the cap on SO_{RCV,SND}BUF.
pub const RMEM_DEFAULT: i32 = 212_992;
pub const WMEM_DEFAULT: i32 = 212_992;
pub const RMEM_MAX: i32 = 212_992;
pub const WMEM_MAX: i32 = 212_992;
/// net.ipv4.tcp_{r,w}mem: min, default, max.
pub const TCP_RMEM: [i32; 3] = [4096, 131_072, 6_291_456];
pub const TCP_WMEM: [i32; 3] = [4096, 16_384, 4_194_304];
/// net.core.somaxconn: listen()'s backlog is capped by it.
pub const SOMAXCONN: i32 = 4096;
/// Floors of SO_RCVBUF and SO_SNDBUF (after doubling), Linux's SOCK_MIN_{RCV,SND}BUF.
pub const MIN_RCVBUF: i32 = 2304;
pub const MIN_SNDBUF: i32 = 4608;

/// How a value is checked and stored.
#[derive(Clone, Copy)]
pub enum Check {
    /// Any value; stored as 0 or 1.
    Bool,
    /// In the range (else EINVAL); -1 means the default when `minus_one_default`.
    Range {
        lo: i32,
        hi: i32,
        minus_one_default: bool,
    },
}

/// Which sockets an option applies to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    All,
    Stream,
    Dgram,
}

pub struct IntOpt {
    pub level: i32,
    pub name: i32,
    pub default: i32,
    pub check: Check,
    pub applies: Applies,
}

const fn flag(level: i32, name: i32, default: i32) -> IntOpt {
    IntOpt {
        level,
        name,
        default,
        check: Check::Bool,
        applies: Applies::All,
    }
}

const fn range(level: i32, name: i32, default: i32, lo: i32, hi: i32, m1: bool) -> IntOpt {
    IntOpt {
        level,
        name,
        default,
        check: Check::Range {
            lo,
            hi,
            minus_one_default: m1,
        },
        applies: Applies::All,
    }
}

const fn tcp(o: IntOpt) -> IntOpt {
    IntOpt {
        applies: Applies::Stream,
        ..o
    }
}

use libc::{IPPROTO_IP as IP, IPPROTO_IPV6 as IP6, IPPROTO_TCP as TCP, SOL_SOCKET as SOL};

/// Options kept as set. (TCP_CORK is kept, not acted on: Nagle already merges small writes.)
pub const TABLE: &[IntOpt] = &[
    range(SOL, libc::SO_PRIORITY, 0, i32::MIN, i32::MAX, false),
    flag(SOL, libc::SO_DONTROUTE, 0),
    flag(SOL, libc::SO_TIMESTAMP, 0),
    flag(SOL, libc::SO_TIMESTAMPNS, 0),
    range(SOL, libc::SO_MARK, 0, i32::MIN, i32::MAX, false),
    flag(IP, libc::IP_RECVERR, 0),
    flag(IP, libc::IP_PKTINFO, 0),
    flag(IP, libc::IP_RECVTOS, 0),
    flag(IP, libc::IP_RECVTTL, 0),
    flag(IP, libc::IP_MULTICAST_LOOP, 1),
    range(IP, libc::IP_MULTICAST_TTL, 1, 0, 255, true),
    range(IP, libc::IP_MTU_DISCOVER, 1, 0, 5, false),
    flag(IP, libc::IP_FREEBIND, 0),
    flag(IP, libc::IP_TRANSPARENT, 0),
    flag(IP6, libc::IPV6_RECVERR, 0),
    flag(IP6, libc::IPV6_RECVPKTINFO, 0),
    flag(IP6, libc::IPV6_MULTICAST_LOOP, 1),
    range(IP6, libc::IPV6_MULTICAST_HOPS, 1, 0, 255, true),
    range(IP6, libc::IPV6_TCLASS, 0, 0, 255, true),
    flag(IP6, libc::IPV6_RECVTCLASS, 0),
    tcp(flag(TCP, libc::TCP_CORK, 0)),
    tcp(flag(TCP, libc::TCP_QUICKACK, 1)),
    tcp(range(
        TCP,
        libc::TCP_DEFER_ACCEPT,
        0,
        i32::MIN,
        i32::MAX,
        false,
    )),
    tcp(range(TCP, libc::TCP_USER_TIMEOUT, 0, 0, i32::MAX, false)),
    tcp(range(TCP, libc::TCP_SYNCNT, 6, 1, 127, false)),
    tcp(range(TCP, libc::TCP_LINGER2, 60, i32::MIN, i32::MAX, false)),
    tcp(range(TCP, libc::TCP_WINDOW_CLAMP, 0, 0, i32::MAX, false)),
    tcp(range(TCP, libc::TCP_NOTSENT_LOWAT, 0, 0, i32::MAX, false)),
    tcp(flag(TCP, libc::TCP_FASTOPEN_CONNECT, 0)),
];

pub fn find(level: i32, name: i32) -> Option<&'static IntOpt> {
    TABLE.iter().find(|o| o.level == level && o.name == name)
}

impl IntOpt {
    /// The value to store for `v`, or EINVAL.
    pub fn accept(&self, v: i32) -> Result<i32, crate::errno::Errno> {
        match self.check {
            Check::Bool => Ok((v != 0) as i32),
            Check::Range {
                minus_one_default: true,
                ..
            } if v == -1 => Ok(self.default),
            Check::Range { lo, hi, .. } if (lo..=hi).contains(&v) => Ok(v),
            Check::Range { .. } => Err(crate::errno::Errno::EINVAL),
        }
    }
}

/// The files of /proc/sys/net: (directory, name, contents).
pub fn sysctl_files() -> Vec<(&'static str, &'static str, String)> {
    let triple = |v: [i32; 3]| format!("{}\t{}\t{}\n", v[0], v[1], v[2]);
    let ports = super::stack::EPHEMERAL;
    vec![
        ("core", "rmem_default", format!("{RMEM_DEFAULT}\n")),
        ("core", "wmem_default", format!("{WMEM_DEFAULT}\n")),
        ("core", "rmem_max", format!("{RMEM_MAX}\n")),
        ("core", "wmem_max", format!("{WMEM_MAX}\n")),
        ("core", "somaxconn", format!("{SOMAXCONN}\n")),
        ("ipv4", "tcp_rmem", triple(TCP_RMEM)),
        ("ipv4", "tcp_wmem", triple(TCP_WMEM)),
        (
            "ipv4",
            "ip_local_port_range",
            format!("{}\t{}\n", ports.start(), ports.end()),
        ),
        (
            "ipv4",
            "ping_group_range",
            format!("{}\t{}\n", PING_GROUPS.0, PING_GROUPS.1),
        ),
    ]
}

/// net.ipv4.ping_group_range: the groups that may open ICMP echo ("ping") sockets. Linux's
/// default, `1 0`, lets none; the sandbox keeps it (and has no ping sockets yet).
pub const PING_GROUPS: (u32, u32) = (1, 0);

/// Linux's TCP states (include/net/tcp_states.h; libc has no names for them), as TCP_INFO and
/// /proc/net/tcp number them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum TcpState {
    Established = 1,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
}
