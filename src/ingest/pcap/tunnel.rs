//! Tunnels: traffic mirrored from a switch or router arrives encapsulated. The inner frame or
//! packet is unwrapped before IP and TCP are read:
//!
//! - GRE (RFC 2784/2890: with or without checksum, key and sequence number) carrying IPv4,
//!   IPv6, Ethernet (transparent bridging, 0x6558) or MPLS;
//! - ERSPAN type I (GRE 0x88BE without sequence number), type II (0x88BE, 8-byte header) and
//!   type III (0x22EB, 12-byte header plus the optional 8-byte platform subheader), carrying
//!   Ethernet;
//! - VXLAN (UDP 4789, and 8472 as Linux used before the IANA port) and Geneve (UDP 6081),
//!   carrying Ethernet (or IP for Geneve);
//! - MPLS label stacks (Ethernet 0x8847/0x8848, GRE, UDP 6635), carrying IPv4, IPv6 or an
//!   Ethernet pseudowire (with or without its control word).
//!
//! Unwrapping is bounded ([`MAX_DEPTH`] layers per frame); fragmented outer packets are not
//! unwrapped (the IP layer counts them).

use super::stream::L3;

/// Encapsulation layers unwrapped per frame, at most.
pub const MAX_DEPTH: usize = 4;

/// What a tunnel carries.
#[derive(Debug, Clone, Copy)]
pub enum Inner<'a> {
    /// An Ethernet frame (from its destination MAC).
    Ether(&'a [u8]),
    Ip(L3<'a>),
}

/// If this IP packet is a tunnel harken unwraps, its payload and the encapsulation's name.
pub fn unwrap(l3: L3<'_>) -> Option<(Inner<'_>, &'static str)> {
    let (proto, payload) = transport(l3)?;
    match proto {
        47 => gre(payload),
        17 => {
            let dport = u16::from_be_bytes([*payload.get(2)?, *payload.get(3)?]);
            let ulen = usize::from(u16::from_be_bytes([*payload.get(4)?, *payload.get(5)?]));
            let end = if ulen >= 8 { ulen.min(payload.len()) } else { payload.len() };
            let body = payload.get(8..end)?;
            match dport {
                4789 | 8472 => vxlan(body),
                6081 => geneve(body),
                6635 => mpls(body).map(|i| (i, "MPLS-in-UDP")),
                _ => None,
            }
        }
        // IP in IP (4: IPv4, 41: IPv6).
        4 => Some((Inner::Ip(L3::V4(payload)), "IP-in-IP")),
        41 => Some((Inner::Ip(L3::V6(payload)), "IPv6-in-IP")),
        _ => None,
    }
}

/// The transport protocol of an unfragmented IP packet, and the UDP destination port when UDP
/// (to say what a capture held when nothing was decoded).
pub fn protocol(l3: L3<'_>) -> Option<(u8, Option<u16>)> {
    let (proto, p) = transport(l3)?;
    let port = (proto == 17).then(|| p.get(2..4).map(|b| u16::from_be_bytes([b[0], b[1]]))).flatten();
    Some((proto, port))
}

/// The transport protocol number and payload of an unfragmented IP packet.
fn transport(l3: L3<'_>) -> Option<(u8, &[u8])> {
    match l3 {
        L3::V4(p) => {
            let ihl = usize::from(*p.first()? & 0x0f) * 4;
            if *p.first()? >> 4 != 4 || ihl < 20 || p.len() < ihl {
                return None;
            }
            let fl = u16::from_be_bytes([p[6], p[7]]);
            if fl & 0x2000 != 0 || fl & 0x1fff != 0 {
                return None;
            }
            let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
            let end = if total >= ihl { total.min(p.len()) } else { p.len() };
            Some((p[9], &p[ihl..end]))
        }
        L3::V6(p) => {
            if p.len() < 40 || p[0] >> 4 != 6 {
                return None;
            }
            let plen = usize::from(u16::from_be_bytes([p[4], p[5]]));
            let end = if plen == 0 { p.len() } else { (40 + plen).min(p.len()) };
            let mut next = p[6];
            let mut rest = &p[40..end];
            for _ in 0..8 {
                match next {
                    0 | 43 | 60 => {
                        let len = (usize::from(*rest.get(1)?) + 1) * 8;
                        next = *rest.first()?;
                        rest = rest.get(len..)?;
                    }
                    _ => return Some((next, rest)),
                }
            }
            None
        }
    }
}

fn gre(p: &[u8]) -> Option<(Inner<'_>, &'static str)> {
    let flags = u16::from_be_bytes([*p.first()?, *p.get(1)?]);
    if flags & 0x0007 != 0 {
        // GRE version 1 (PPTP) carries PPP, not read.
        return None;
    }
    let proto = u16::from_be_bytes([*p.get(2)?, *p.get(3)?]);
    let mut at = 4usize;
    if flags & 0x8000 != 0 {
        at += 4; // checksum + reserved
    }
    if flags & 0x2000 != 0 {
        at += 4; // key
    }
    let seq = flags & 0x1000 != 0;
    if seq {
        at += 4;
    }
    let body = p.get(at..)?;
    match proto {
        0x0800 => Some((Inner::Ip(L3::V4(body)), "GRE")),
        0x86DD => Some((Inner::Ip(L3::V6(body)), "GRE")),
        0x6558 => Some((Inner::Ether(body), "GRE (Ethernet)")),
        0x8847 | 0x8848 => mpls(body).map(|i| (i, "MPLS-in-GRE")),
        // ERSPAN type II has the sequence number; type I does not and has no header.
        0x88BE if seq => Some((Inner::Ether(body.get(8..)?), "ERSPAN type II")),
        0x88BE => Some((Inner::Ether(body), "ERSPAN type I")),
        0x22EB => {
            let hdr = body.get(..12)?;
            let extra = if hdr[11] & 0x01 != 0 { 8 } else { 0 };
            Some((Inner::Ether(body.get(12 + extra..)?), "ERSPAN type III"))
        }
        _ => None,
    }
}

fn vxlan(b: &[u8]) -> Option<(Inner<'_>, &'static str)> {
    if *b.first()? & 0x08 == 0 {
        return None;
    }
    Some((Inner::Ether(b.get(8..)?), "VXLAN"))
}

fn geneve(b: &[u8]) -> Option<(Inner<'_>, &'static str)> {
    let ver = *b.first()? >> 6;
    if ver != 0 {
        return None;
    }
    let opt = usize::from(b[0] & 0x3f) * 4;
    let proto = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
    let body = b.get(8 + opt..)?;
    match proto {
        0x6558 => Some((Inner::Ether(body), "Geneve")),
        0x0800 => Some((Inner::Ip(L3::V4(body)), "Geneve")),
        0x86DD => Some((Inner::Ip(L3::V6(body)), "Geneve")),
        _ => None,
    }
}

/// Pop an MPLS label stack; what follows is IPv4, IPv6 (by its version nibble), or an
/// Ethernet pseudowire (a first nibble of 0 is the pseudowire control word).
pub fn mpls(b: &[u8]) -> Option<Inner<'_>> {
    let mut at = 0usize;
    for _ in 0..16 {
        let e = b.get(at..at + 4)?;
        at += 4;
        if e[2] & 0x01 != 0 {
            let rest = b.get(at..)?;
            return match *rest.first()? >> 4 {
                4 => Some(Inner::Ip(L3::V4(rest))),
                6 => Some(Inner::Ip(L3::V6(rest))),
                // A control word (first nibble 0) is told from a MAC starting 0x0 by where an
                // Ethernet type is found.
                0 if !ethertype_at(rest, 12) && ethertype_at(rest, 16) => Some(Inner::Ether(&rest[4..])),
                _ => Some(Inner::Ether(rest)),
            };
        }
    }
    None
}

fn ethertype_at(b: &[u8], at: usize) -> bool {
    matches!(
        b.get(at..at + 2),
        Some([0x08, 0x00] | [0x86, 0xDD] | [0x81, 0x00] | [0x88, 0xA8] | [0x88, 0x47] | [0x08, 0x06])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_headers_never_panic() {
        for n in 0..64 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let _ = gre(&junk);
            let _ = vxlan(&junk);
            let _ = geneve(&junk);
            let _ = mpls(&junk);
            let _ = unwrap(L3::V4(&junk));
            let _ = unwrap(L3::V6(&junk));
        }
    }

    #[test]
    fn gre_flags_move_the_payload() {
        // C, K and S set: 4 + 12 bytes of header.
        let mut g = vec![0xB0, 0x00, 0x08, 0x00];
        g.extend([0u8; 12]);
        g.push(0x45);
        assert!(matches!(gre(&g), Some((Inner::Ip(L3::V4(p)), "GRE")) if p == [0x45]));
    }
}
