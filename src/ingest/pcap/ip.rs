//! IPv4 and IPv6 down to TCP segments, with IPv4 fragment reassembly.
//!
//! Lengths are taken from the IP header and clamped to what was captured. IPv6 extension headers
//! (hop-by-hop, routing, destination options) are skipped; IPv6 fragments are counted and
//! skipped. Fragment reassembly keeps at most [`MAX_DATAGRAMS`] datagrams in flight and drops
//! those that stay incomplete for [`FRAG_TIMEOUT_NS`].

use super::stream::L3;
use super::stream::{Meta, Stats};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct Seg<'a> {
    pub src: (IpAddr, u16),
    pub dst: (IpAddr, u16),
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub payload: &'a [u8],
    /// Payload bytes the IP header announces but the frame does not hold (cut by the capture's
    /// snapshot length).
    pub missing: usize,
}

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

pub const MAX_DATAGRAMS: usize = 4096;
pub const FRAG_TIMEOUT_NS: i64 = 60_000_000_000;

type FragKey = (Ipv4Addr, Ipv4Addr, u16, u8);

struct Datagram {
    parts: Vec<(usize, Vec<u8>)>,
    /// Bytes held in `parts` (duplicates and overlaps included).
    held: usize,
    total: Option<usize>,
    first_ts: i64,
}

/// Bytes one datagram may hold while it is reassembled: twice the largest IPv4 datagram, so
/// that retransmitted and overlapping fragments fit but a flood of duplicates does not grow
/// memory until the timeout.
const MAX_HELD: usize = 2 * 65_536;

/// IPv4 datagrams being reassembled.
#[derive(Default)]
pub struct Defrag {
    pending: HashMap<FragKey, Datagram>,
}

impl Defrag {
    /// Add a fragment; returns the whole payload when the datagram is complete.
    fn add(
        &mut self,
        key: FragKey,
        offset: usize,
        more: bool,
        data: &[u8],
        ts: i64,
        stats: &mut Stats,
    ) -> Option<Vec<u8>> {
        if self.pending.len() >= MAX_DATAGRAMS && !self.pending.contains_key(&key) {
            // Drop the oldest to stay bounded.
            if let Some(k) = self.pending.iter().min_by_key(|(_, d)| d.first_ts).map(|(k, _)| *k) {
                self.pending.remove(&k);
                stats.frag_incomplete += 1;
            }
        }
        let d = self.pending.entry(key).or_insert_with(|| Datagram {
            parts: Vec::new(),
            held: 0,
            total: None,
            first_ts: ts,
        });
        if offset + data.len() > 65_535 + 1500 {
            return None;
        }
        if !more {
            d.total = Some(offset + data.len());
        }
        if d.held + data.len() > MAX_HELD {
            self.pending.remove(&key);
            stats.frag_incomplete += 1;
            return None;
        }
        d.held += data.len();
        d.parts.push((offset, data.to_vec()));
        let total = d.total?;
        let mut spans: Vec<(usize, usize)> = d.parts.iter().map(|(o, b)| (*o, o + b.len())).collect();
        spans.sort_unstable();
        let mut covered = 0usize;
        for (off, end) in spans {
            if off > covered {
                return None;
            }
            covered = covered.max(end);
        }
        if covered < total {
            return None;
        }
        let d = self.pending.remove(&key)?;
        // Overlapping fragments: the first copy of a byte wins, as in TCP reassembly.
        let mut out = vec![0u8; total];
        let mut filled = vec![false; total];
        for (off, bytes) in d.parts {
            let end = (off + bytes.len()).min(total);
            for i in off..end {
                if !filled[i] {
                    filled[i] = true;
                    out[i] = bytes[i - off];
                }
            }
        }
        Some(out)
    }

    /// Drop datagrams that waited too long.
    pub fn sweep(&mut self, now: i64, stats: &mut Stats) {
        let before = self.pending.len();
        self.pending.retain(|_, d| now.saturating_sub(d.first_ts) < FRAG_TIMEOUT_NS);
        stats.frag_incomplete += (before - self.pending.len()) as u64;
    }

    pub fn finish(&mut self, stats: &mut Stats) {
        stats.frag_incomplete += self.pending.len() as u64;
        self.pending.clear();
    }
}

/// Decode an IP packet down to its TCP segment. Reassembled fragments are stored in `scratch`.
pub fn decode<'a>(
    l3: L3<'a>,
    meta: Meta,
    frags: &mut Defrag,
    scratch: &'a mut Vec<u8>,
    stats: &mut Stats,
) -> Option<Seg<'a>> {
    match l3 {
        L3::V4(p) => {
            let Some(&vihl) = p.first() else {
                stats.bad_packets += 1;
                return None;
            };
            let ihl = usize::from(vihl & 0x0f) * 4;
            if vihl >> 4 != 4 || ihl < 20 || p.len() < ihl {
                stats.bad_packets += 1;
                return None;
            }
            let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
            let end = if total >= ihl { total.min(p.len()) } else { p.len() };
            let cut = if total >= ihl { total.saturating_sub(p.len()) } else { 0 };
            let id = u16::from_be_bytes([p[4], p[5]]);
            let fl = u16::from_be_bytes([p[6], p[7]]);
            let more = fl & 0x2000 != 0;
            let offset = usize::from(fl & 0x1fff) * 8;
            let proto = p[9];
            let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
            let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
            let payload = &p[ihl..end];
            if proto != 6 {
                stats.non_tcp += 1;
                return None;
            }
            if more || offset > 0 {
                let whole = frags.add((src, dst, id, proto), offset, more, payload, meta.ts, stats)?;
                *scratch = whole;
                return tcp(IpAddr::V4(src), IpAddr::V4(dst), scratch, 0, stats);
            }
            tcp(IpAddr::V4(src), IpAddr::V4(dst), payload, cut, stats)
        }
        L3::V6(p) => {
            if p.len() < 40 || p[0] >> 4 != 6 {
                stats.bad_packets += 1;
                return None;
            }
            let plen = usize::from(u16::from_be_bytes([p[4], p[5]]));
            let mut next = p[6];
            let mut a = [0u8; 16];
            a.copy_from_slice(&p[8..24]);
            let src = Ipv6Addr::from(a);
            a.copy_from_slice(&p[24..40]);
            let dst = Ipv6Addr::from(a);
            let end = if plen == 0 { p.len() } else { (40 + plen).min(p.len()) };
            let cut = if plen == 0 { 0 } else { (40 + plen).saturating_sub(p.len()) };
            let mut rest = &p[40..end];
            for _ in 0..8 {
                match next {
                    6 => return tcp(IpAddr::V6(src), IpAddr::V6(dst), rest, cut, stats),
                    0 | 43 | 60 => {
                        if rest.len() < 8 {
                            stats.bad_packets += 1;
                            return None;
                        }
                        let len = (usize::from(rest[1]) + 1) * 8;
                        next = rest[0];
                        rest = rest.get(len..)?;
                    }
                    44 => {
                        if rest.len() < 8 {
                            stats.bad_packets += 1;
                            return None;
                        }
                        let fo = u16::from_be_bytes([rest[2], rest[3]]);
                        if fo & 0xfff8 != 0 || fo & 1 != 0 {
                            stats.ipv6_fragments += 1;
                            return None;
                        }
                        // An atomic fragment (offset 0, no more): just skip its header.
                        next = rest[0];
                        rest = &rest[8..];
                    }
                    _ => {
                        stats.non_tcp += 1;
                        return None;
                    }
                }
            }
            None
        }
    }
}

fn tcp<'a>(src: IpAddr, dst: IpAddr, t: &'a [u8], missing: usize, stats: &mut Stats) -> Option<Seg<'a>> {
    if t.len() < 20 {
        stats.bad_packets += 1;
        return None;
    }
    let doff = usize::from(t[12] >> 4) * 4;
    if doff < 20 || doff > t.len() {
        stats.bad_packets += 1;
        return None;
    }
    Some(Seg {
        src: (src, u16::from_be_bytes([t[0], t[1]])),
        dst: (dst, u16::from_be_bytes([t[2], t[3]])),
        seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
        ack: u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
        flags: t[13],
        payload: &t[doff..],
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(id: u16, off8: u16, more: bool, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 0, (id >> 8) as u8, id as u8, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        let fl = off8 | if more { 0x2000 } else { 0 };
        p[6..8].copy_from_slice(&fl.to_be_bytes());
        let total = (20 + payload.len()) as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn fragments_out_of_order_are_reassembled() {
        let mut tcp = vec![0u8; 20];
        tcp[0..2].copy_from_slice(&1234u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[12] = 5 << 4;
        tcp.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        let (a, b) = tcp.split_at(16);
        let mut frags = Defrag::default();
        let mut stats = Stats::default();
        let f2 = v4(7, 2, false, b);
        let f1 = v4(7, 0, true, a);
        let mut s = Vec::new();
        assert!(decode(L3::V4(&f2), Meta::default(), &mut frags, &mut s, &mut stats).is_none());
        let mut s = Vec::new();
        let seg = decode(L3::V4(&f1), Meta::default(), &mut frags, &mut s, &mut stats).expect("reassembled");
        assert_eq!(seg.dst.1, 80);
        assert_eq!(seg.payload, b"GET / HTTP/1.1\r\n\r\n");
    }
}
