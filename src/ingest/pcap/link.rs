//! Link layers: from a captured frame to the IP packet inside it.
//!
//! Read: Ethernet (with 802.1Q/802.1ad VLAN tags and PPPoE sessions), Linux cooked capture v1
//! (SLL) and v2 (SLL2), MPLS label stacks (popped to IP or an Ethernet pseudowire), raw IP (DLT_RAW, IPv4, IPv6), BSD NULL and OpenBSD LOOP, and Linux NFLOG
//! (its TLVs are walked to the packet payload). Other link types are counted and named in a note.

pub use super::stream::L3;

/// What a frame holds.
#[derive(Debug)]
pub enum Link<'a> {
    Ip(L3<'a>),
    /// A frame of a known link type carrying something other than IP (ARP, LLDP...).
    NotIp,
    /// A link type harken does not read.
    Unsupported,
    /// Too short or inconsistent.
    Bad,
}

pub const NULL: u32 = 0;
pub const ETHERNET: u32 = 1;
pub const RAW: u32 = 101;
pub const RAW_OPENBSD: u32 = 14;
pub const RAW_ALT: u32 = 12;
pub const LOOP: u32 = 108;
pub const SLL: u32 = 113;
pub const IPV4: u32 = 228;
pub const IPV6: u32 = 229;
pub const NFLOG: u32 = 239;
pub const SLL2: u32 = 276;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Decode the link layer of one frame.
pub fn decode(linktype: u32, data: &[u8]) -> Link<'_> {
    match linktype {
        ETHERNET => match (be16(data, 12), data.get(14..)) {
            (Some(et), Some(rest)) => ether(et, rest),
            _ => Link::Bad,
        },
        SLL => match (be16(data, 14), data.get(16..)) {
            (Some(et), Some(rest)) => ether(et, rest),
            _ => Link::Bad,
        },
        SLL2 => match (be16(data, 0), data.get(20..)) {
            (Some(et), Some(rest)) => ether(et, rest),
            _ => Link::Bad,
        },
        RAW | RAW_ALT | RAW_OPENBSD => raw(data),
        IPV4 => Link::Ip(L3::V4(data)),
        IPV6 => Link::Ip(L3::V6(data)),
        NULL | LOOP => {
            let Some(fam) = data.get(0..4) else { return Link::Bad };
            let rest = &data[4..];
            // NULL stores the family in the capturing host's byte order, LOOP in network order.
            let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let be = u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]]);
            let f = if linktype == LOOP {
                be
            } else if le < 256 {
                le
            } else {
                be
            };
            match f {
                2 => Link::Ip(L3::V4(rest)),
                // AF_INET6 differs per BSD: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
                10 | 24 | 28 | 30 => Link::Ip(L3::V6(rest)),
                _ => Link::NotIp,
            }
        }
        NFLOG => nflog(data),
        _ => Link::Unsupported,
    }
}

fn raw(data: &[u8]) -> Link<'_> {
    match data.first().map(|b| b >> 4) {
        Some(4) => Link::Ip(L3::V4(data)),
        Some(6) => Link::Ip(L3::V6(data)),
        Some(_) => Link::NotIp,
        None => Link::Bad,
    }
}

fn ether(mut et: u16, mut rest: &[u8]) -> Link<'_> {
    // Walk stacked VLAN tags (802.1Q, 802.1ad, QinQ) and PPPoE sessions.
    for _ in 0..8 {
        match et {
            0x0800 => return Link::Ip(L3::V4(rest)),
            0x86DD => return Link::Ip(L3::V6(rest)),
            0x8100 | 0x88A8 | 0x9100 => {
                let (Some(next), Some(r)) = (be16(rest, 2), rest.get(4..)) else { return Link::Bad };
                et = next;
                rest = r;
            }
            0x8847 | 0x8848 => {
                return match super::tunnel::mpls(rest) {
                    Some(super::tunnel::Inner::Ip(l3)) => Link::Ip(l3),
                    Some(super::tunnel::Inner::Ether(f)) => {
                        let (Some(next), Some(r)) = (be16(f, 12), f.get(14..)) else { return Link::Bad };
                        et = next;
                        rest = r;
                        continue;
                    }
                    None => Link::Bad,
                };
            }
            0x8864 => {
                let (Some(proto), Some(r)) = (be16(rest, 6), rest.get(8..)) else { return Link::Bad };
                return match proto {
                    0x0021 => Link::Ip(L3::V4(r)),
                    0x0057 => Link::Ip(L3::V6(r)),
                    _ => Link::NotIp,
                };
            }
            _ => return Link::NotIp,
        }
    }
    Link::Bad
}

/// NFLOG: a 4-byte header (family, version, resource id), then TLVs whose length and type are in
/// the capturing host's byte order (little-endian on every common host, big-endian tried too).
/// Type 9 (NFULA_PAYLOAD) holds the IP packet.
fn nflog(data: &[u8]) -> Link<'_> {
    let Some(&family) = data.first() else { return Link::Bad };
    for be in [false, true] {
        if let Some(payload) = nflog_payload(data, be) {
            return match family {
                2 => Link::Ip(L3::V4(payload)),
                10 => Link::Ip(L3::V6(payload)),
                _ => raw(payload),
            };
        }
    }
    Link::Bad
}

fn nflog_payload(data: &[u8], be: bool) -> Option<&[u8]> {
    let mut pos = 4usize;
    while pos + 4 <= data.len() {
        let l = [*data.get(pos)?, *data.get(pos + 1)?];
        let t = [*data.get(pos + 2)?, *data.get(pos + 3)?];
        let (len, typ) = if be {
            (u16::from_be_bytes(l), u16::from_be_bytes(t))
        } else {
            (u16::from_le_bytes(l), u16::from_le_bytes(t))
        };
        let len = usize::from(len);
        if len < 4 || pos + len > data.len() {
            return None;
        }
        if typ & 0x7fff == 9 {
            return data.get(pos + 4..pos + len);
        }
        pos += len.div_ceil(4) * 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_tagged_ethernet_reaches_ipv4() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00, 0x45]);
        assert!(matches!(decode(ETHERNET, &f), Link::Ip(L3::V4(p)) if p == [0x45]));
    }

    #[test]
    fn short_frames_are_bad_not_panics() {
        for lt in [ETHERNET, SLL, SLL2, NULL, LOOP, NFLOG, RAW] {
            for n in 0..24 {
                let _ = decode(lt, &vec![0x81; n]);
            }
        }
        assert!(matches!(decode(147, &[1, 2, 3]), Link::Unsupported));
    }
}
