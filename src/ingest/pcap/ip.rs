//! IPv4 and IPv6 down to TCP segments, with IPv4 fragment reassembly.
//!
//! Lengths are taken from the IP header and clamped to what was captured. IPv6 extension headers
//! (hop-by-hop, routing, destination options) are skipped; IPv6 fragments are counted and
//! skipped. Fragment reassembly keeps at most [`MAX_DATAGRAMS`] datagrams in flight and drops
//! those that stay incomplete for [`FRAG_TIMEOUT_NS`].

use super::stream::L3;
use super::stream::{Meta, Stats};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, VecDeque};
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
    /// Fragments received, empty ones included.
    fragments: usize,
    /// The byte ranges received so far, disjoint and merged: start -> end.
    covered: BTreeMap<usize, usize>,
    total: Option<usize>,
    first_ts: i64,
    /// Which insertion this is, to tell a live entry of [`Defrag::order`] from a stale one.
    generation: u64,
}

/// Bytes one datagram may hold while it is reassembled: twice the largest IPv4 datagram, so
/// that retransmitted and overlapping fragments fit but a flood of duplicates does not grow
/// memory until the timeout.
const MAX_HELD: usize = 2 * 65_536;

/// Fragments one datagram may have: twice the 8-byte fragments of the largest datagram. Empty
/// fragments hold no bytes, so they are counted here instead.
const MAX_PARTS: usize = 2 * 65_536 / 8;

/// IPv4 datagrams being reassembled. Each fragment costs O(log n) to record and the datagram
/// O(its size) to assemble once complete, whatever the order of arrival; the oldest datagram is
/// found in O(1) when the table is full.
#[derive(Default)]
pub struct Defrag {
    pending: HashMap<FragKey, Datagram>,
    /// Datagrams in the order they started (with stale entries for those already gone).
    order: VecDeque<(FragKey, u64)>,
    generation: u64,
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
        if offset + data.len() > 65_535 + 1500 {
            return None;
        }
        if self.pending.len() >= MAX_DATAGRAMS && !self.pending.contains_key(&key) {
            // Drop the oldest to stay bounded.
            while let Some((k, g)) = self.order.pop_front() {
                if self.pending.get(&k).is_some_and(|d| d.generation == g) {
                    self.pending.remove(&k);
                    stats.frag_incomplete += 1;
                    break;
                }
            }
        }
        if self.order.len() > 2 * MAX_DATAGRAMS {
            let pending = &self.pending;
            self.order.retain(|(k, g)| pending.get(k).is_some_and(|d| d.generation == *g));
        }
        let d = match self.pending.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                self.generation += 1;
                self.order.push_back((key, self.generation));
                e.insert(Datagram {
                    parts: Vec::new(),
                    held: 0,
                    fragments: 0,
                    covered: BTreeMap::new(),
                    total: None,
                    first_ts: ts,
                    generation: self.generation,
                })
            }
        };
        if !more {
            d.total = Some(offset + data.len());
        }
        d.fragments += 1;
        if d.held + data.len() > MAX_HELD || d.fragments > MAX_PARTS {
            self.pending.remove(&key);
            stats.frag_incomplete += 1;
            return None;
        }
        d.held += data.len();
        if !data.is_empty() {
            cover(&mut d.covered, offset, offset + data.len());
            d.parts.push((offset, data.to_vec()));
        }
        let total = d.total?;
        let whole = total == 0 || d.covered.first_key_value().is_some_and(|(&s, &e)| s == 0 && e >= total);
        if !whole {
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
        self.order.clear();
    }
}

/// Record `start..end` as received in a set of disjoint ranges, merging what it touches.
fn cover(set: &mut BTreeMap<usize, usize>, mut start: usize, mut end: usize) {
    // A range starting at or before `start` that reaches it.
    if let Some((&s, &e)) = set.range(..=start).next_back() {
        if e >= start {
            if e >= end {
                return;
            }
            start = s;
            set.remove(&s);
        }
    }
    // Ranges starting inside the new one.
    while let Some((&s, &e)) = set.range(start..=end).next() {
        set.remove(&s);
        end = end.max(e);
    }
    set.insert(start, end);
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

    fn tcp_payload(len: usize) -> Vec<u8> {
        let mut tcp = vec![0u8; 20];
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[12] = 5 << 4;
        tcp.extend((0..len).map(|i| (i % 251) as u8));
        tcp
    }

    #[test]
    fn last_fragment_first_then_thousands_of_small_ones_with_overlaps() {
        // The shape that once re-sorted every fragment list on each arrival: the last fragment
        // first, then 8-byte fragments, each sent twice, in reverse order.
        let tcp = tcp_payload(60_000 - 20);
        let (mut frags, mut stats) = (Defrag::default(), Stats::default());
        let n = tcp.len() / 8;
        let last = v4(9, n as u16, false, &tcp[n * 8..]);
        let mut s = Vec::new();
        assert!(decode(L3::V4(&last), Meta::default(), &mut frags, &mut s, &mut stats).is_none());
        let mut got = None;
        for i in (0..n).rev() {
            for _ in 0..2 {
                let f = v4(9, i as u16, true, &tcp[i * 8..i * 8 + 8]);
                let mut s = Vec::new();
                if let Some(seg) = decode(L3::V4(&f), Meta::default(), &mut frags, &mut s, &mut stats) {
                    got = Some(seg.payload.to_vec());
                }
            }
        }
        assert_eq!(got.as_deref(), Some(&tcp[20..]), "reassembled once the first fragment came");
        assert_eq!(stats.frag_incomplete, 0);
    }

    #[test]
    fn empty_fragments_count_against_the_cap() {
        let (mut frags, mut stats) = (Defrag::default(), Stats::default());
        for _ in 0..=MAX_PARTS {
            let f = v4(3, 100, true, &[]);
            let mut s = Vec::new();
            assert!(decode(L3::V4(&f), Meta::default(), &mut frags, &mut s, &mut stats).is_none());
        }
        assert_eq!(stats.frag_incomplete, 1, "the datagram was dropped at the cap");
        assert!(frags.pending.len() <= 1);
    }

    #[test]
    fn a_full_table_drops_the_oldest_datagram() {
        let (mut frags, mut stats) = (Defrag::default(), Stats::default());
        for id in 0..(MAX_DATAGRAMS as u32 + 10) {
            let f = v4(id as u16, 0, true, &[0u8; 8]);
            let mut src = f.clone();
            src[12] = (id >> 16) as u8;
            let mut s = Vec::new();
            let meta = Meta { frame: u64::from(id), ts: i64::from(id) };
            assert!(decode(L3::V4(&src), meta, &mut frags, &mut s, &mut stats).is_none());
        }
        assert_eq!(frags.pending.len(), MAX_DATAGRAMS);
        assert_eq!(stats.frag_incomplete, 10);
        assert!(!frags.pending.keys().any(|k| k.2 < 10), "the oldest went first");
        frags.finish(&mut stats);
        assert_eq!(stats.frag_incomplete, 10 + MAX_DATAGRAMS as u64);
    }

    #[test]
    fn ranges_merge() {
        let mut set = BTreeMap::new();
        cover(&mut set, 8, 16);
        cover(&mut set, 24, 32);
        cover(&mut set, 0, 8);
        assert_eq!(set.iter().map(|(a, b)| (*a, *b)).collect::<Vec<_>>(), vec![(0, 16), (24, 32)]);
        cover(&mut set, 10, 30);
        assert_eq!(set.iter().map(|(a, b)| (*a, *b)).collect::<Vec<_>>(), vec![(0, 32)]);
        cover(&mut set, 4, 6);
        assert_eq!(set.len(), 1);
    }
}
