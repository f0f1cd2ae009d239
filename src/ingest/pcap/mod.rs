//! pcap and pcapng: HTTP exchanges out of raw packets.
//!
//! A packet capture is read in one pass over the memory-mapped file. Each frame goes down the
//! stack: container record ([`read`]: classic pcap in both byte orders, micro- and nanosecond
//! and the "modified pcap" variant; pcapng with several sections, interfaces and timestamp
//! resolutions) → link layer ([`link`]) → IPv4/IPv6 with IPv4 fragment reassembly ([`ip`]) →
//! TCP reassembly per connection and direction ([`tcp`]) → the application protocol found on the
//! connection: HTTP/1.x ([`http1`]), HTTP/2 cleartext ([`http2`]), websocket ([`websocket`]) or
//! TLS, which is only reported ([`tls`]).
//!
//! Exchanges are handed to the [`ReadCx`] as soon as they are complete, so memory holds only
//! the open connections (their unparsed bytes and the messages in flight); closed and idle
//! connections are flushed. Anything odd in the packets becomes a [`Note`], never a panic.
//! docs/pcap.md describes what is read and the notes emitted.

pub mod http1;
pub mod http2;
pub mod ip;
pub mod link;
pub mod stream;
pub mod tcp;
pub mod tls;
pub mod tunnel;
pub mod websocket;

use super::{ReadCx, ReadError, Source};
use crate::model::{Format, Note};
pub use stream::{ms, origin, time, Meta, Out, Stats};

/// The packet pipeline of one input.
pub struct Engine {
    pub out: Out,
    tcp: tcp::Table,
    frags: ip::Defrag,
    emitted: usize,
}

impl Engine {
    pub fn new(opts: super::IngestOptions) -> Self {
        Engine {
            out: Out { exchanges: Vec::new(), opts, stats: Stats::default() },
            tcp: tcp::Table::default(),
            frags: ip::Defrag::default(),
            emitted: 0,
        }
    }

    /// Feed one captured frame.
    pub fn frame(&mut self, meta: Meta, linktype: u32, data: &[u8], orig_len: u32) {
        self.out.stats.frames += 1;
        if (data.len() as u64) < u64::from(orig_len) {
            self.out.stats.snaplen_cut += 1;
        }
        *self.out.stats.links.entry(linktype).or_default() += 1;
        let l3 = match link::decode(linktype, data) {
            link::Link::Ip(l3) => l3,
            link::Link::NotIp => {
                self.out.stats.non_tcp += 1;
                return;
            }
            link::Link::Unsupported => {
                *self.out.stats.unsupported_links.entry(linktype).or_default() += 1;
                return;
            }
            link::Link::Bad => {
                self.out.stats.bad_packets += 1;
                return;
            }
        };
        let mut l3 = l3;
        for _ in 0..tunnel::MAX_DEPTH {
            let Some((inner, name)) = tunnel::unwrap(l3) else { break };
            *self.out.stats.tunnels.entry(name).or_default() += 1;
            l3 = match inner {
                tunnel::Inner::Ip(x) => x,
                tunnel::Inner::Ether(f) => match link::decode(link::ETHERNET, f) {
                    link::Link::Ip(x) => x,
                    link::Link::NotIp => {
                        self.out.stats.non_tcp += 1;
                        return;
                    }
                    _ => {
                        self.out.stats.bad_packets += 1;
                        return;
                    }
                },
            };
        }
        if let Some((proto, port)) = tunnel::protocol(l3) {
            if proto != 6 && self.out.stats.other_protocols.len() < 16 {
                *self.out.stats.other_protocols.entry((proto, port)).or_default() += 1;
            } else if proto != 6 {
                if let Some(n) = self.out.stats.other_protocols.get_mut(&(proto, port)) {
                    *n += 1;
                }
            }
        }
        let mut scratch = Vec::new();
        if let Some(seg) = ip::decode(l3, meta, &mut self.frags, &mut scratch, &mut self.out.stats) {
            self.tcp.segment(seg, meta, &mut self.out);
        }
        if self.out.stats.frames.is_multiple_of(1024) {
            self.tcp.sweep(meta.ts, &mut self.out);
            self.frags.sweep(meta.ts, &mut self.out.stats);
        }
    }

    /// Hand finished exchanges to the reader context, numbering them in emission order.
    pub fn drain(&mut self, cx: &mut ReadCx<'_>) {
        for mut ex in self.out.exchanges.drain(..) {
            ex.origin.input = cx.input;
            ex.origin.index = self.emitted;
            for n in &mut ex.notes {
                if let Some(at) = &mut n.at {
                    at.input = cx.input;
                    at.index = self.emitted;
                }
            }
            self.emitted += 1;
            cx.emit(ex);
        }
    }

    /// Flush every connection and report the counters as notes.
    pub fn finish(&mut self, cx: &mut ReadCx<'_>) {
        self.tcp.flush_all(&mut self.out);
        self.frags.finish(&mut self.out.stats);
        self.drain(cx);
        cx.note(Note::info(
            "pcap.summary",
            format!(
                "{} frame(s), {} TCP connection(s), {} HTTP exchange(s)",
                self.out.stats.frames,
                self.tcp.connections(),
                self.emitted
            ),
        ));
        for n in notes(&self.out.stats) {
            cx.note(n);
        }
        if self.emitted == 0 && self.out.stats.frames > 0 {
            cx.note(nothing_decoded(&self.out.stats, self.tcp.connections()));
        }
    }
}

/// Why a capture with frames gave no exchange: its link types, the encapsulations seen, and
/// where the frames went.
fn nothing_decoded(s: &Stats, connections: u64) -> Note {
    let links: Vec<String> = s
        .links
        .iter()
        .map(|(lt, n)| {
            let name = pcap_parser::Linktype(i32::try_from(*lt).unwrap_or(-1)).to_string();
            format!("{n} on link type {lt} ({})", crate::redact::escape(&name))
        })
        .collect();
    let tunnels: Vec<String> = s.tunnels.iter().map(|(t, n)| format!("{n} {t}")).collect();
    let mut why = Vec::new();
    if !s.unsupported_links.is_empty() {
        why.push("link types harken does not read".to_string());
    }
    if s.non_tcp > 0 {
        let kinds: Vec<String> = s
            .other_protocols
            .iter()
            .map(|((proto, port), n)| match (proto, port) {
                (17, Some(p)) => format!("{n} UDP to port {p}"),
                (1, _) => format!("{n} ICMP"),
                (47, _) => format!("{n} GRE of a kind harken does not unwrap"),
                (p, _) => format!("{n} IP protocol {p}"),
            })
            .collect();
        let kinds = if kinds.is_empty() { String::new() } else { format!(": {}", kinds.join(", ")) };
        why.push(format!(
            "{} packet(s) were not TCP or used an encapsulation harken does not unwrap{kinds}",
            s.non_tcp
        ));
    }
    if s.bad_packets > 0 {
        why.push(format!("{} packet(s) were malformed", s.bad_packets));
    }
    if s.tls_connections > 0 {
        why.push(format!("{} connection(s) were TLS-encrypted", s.tls_connections));
    }
    if connections > 0 && s.tls_connections == 0 {
        why.push(format!("{connections} TCP connection(s) carried no HTTP/1 or HTTP/2 harken recognized"));
    }
    Note::warning(
        "pcap.nothing_decoded",
        format!(
            "no HTTP exchange could be decoded from {} frame(s): {}; encapsulation unwrapped: {}; {}",
            s.frames,
            links.join(", "),
            if tunnels.is_empty() { "none".to_string() } else { tunnels.join(", ") },
            if why.is_empty() { "no TCP payload was seen".to_string() } else { why.join("; ") }
        ),
    )
}

/// Turn the counters into notes for the user.
pub fn notes(s: &Stats) -> Vec<Note> {
    let mut v = Vec::new();
    if !s.tunnels.is_empty() {
        let t: Vec<String> = s.tunnels.iter().map(|(t, n)| format!("{n} {t}")).collect();
        v.push(Note::info("pcap.tunnel", format!("encapsulated frames were unwrapped: {}", t.join(", "))));
    }
    for (lt, n) in &s.unsupported_links {
        let name = pcap_parser::Linktype(i32::try_from(*lt).unwrap_or(-1)).to_string();
        v.push(Note::warning(
            "pcap.link_type",
            format!(
                "{n} frame(s) use link type {lt} ({}), which harken does not read; they were skipped",
                crate::redact::escape(&name)
            ),
        ));
    }
    if s.snaplen_cut > 0 {
        v.push(Note::warning(
            "pcap.snaplen",
            format!(
                "{} frame(s) were cut short by the capture's snapshot length; their missing bytes show up as TCP gaps (capture with `tcpdump -s 0`)",
                s.snaplen_cut
            ),
        ));
    }
    if s.bad_packets > 0 {
        v.push(Note::warning(
            "pcap.bad_packet",
            format!("{} frame(s) had malformed link, IP or TCP headers and were skipped", s.bad_packets),
        ));
    }
    if s.frag_incomplete > 0 {
        v.push(Note::warning(
            "pcap.ip_fragments",
            format!("{} IPv4 datagram(s) were missing fragments and were dropped", s.frag_incomplete),
        ));
    }
    if s.ipv6_fragments > 0 {
        v.push(Note::warning(
            "pcap.ipv6_fragments",
            format!("{} IPv6 fragment(s) were skipped (IPv6 reassembly is not supported)", s.ipv6_fragments),
        ));
    }
    if s.gaps > 0 {
        v.push(Note::warning(
            "pcap.tcp_gap",
            format!(
                "{} gap(s) in TCP streams ({} bytes never captured); the exchanges around them keep what was seen",
                s.gaps, s.gap_bytes
            ),
        ));
    }
    if s.midstream > 0 {
        v.push(Note::info(
            "pcap.tcp_midstream",
            format!("{} TCP stream(s) were picked up mid-way (no start seen); harken resynchronised on the next HTTP message", s.midstream),
        ));
    }
    if s.unknown_interface > 0 {
        v.push(Note::warning(
            "pcapng.interface",
            format!(
                "{} packet(s) named an interface that no Interface Description Block declared; skipped",
                s.unknown_interface
            ),
        ));
    }
    if s.h2_errors > 0 {
        v.push(Note::warning(
            "http2.hpack",
            format!(
                "{} HTTP/2 header block(s) could not be decoded; those directions were not read further",
                s.h2_errors
            ),
        ));
    }
    if s.ws_errors > 0 {
        v.push(Note::warning(
            "websocket.bad_frame",
            format!("{} websocket message(s) could not be read (bad frame or failed inflate)", s.ws_errors),
        ));
    }
    if s.tls_connections > 0 {
        let mut names: Vec<String> = s.tls_names.iter().take(20).map(|n| crate::redact::escape(n)).collect();
        if s.tls_names.len() > 20 {
            names.push(format!("and {} more", s.tls_names.len() - 20));
        }
        let shown = if names.is_empty() {
            "no server name (SNI) was sent".to_string()
        } else {
            format!("server names: {}", names.join(", "))
        };
        v.push(Note::warning(
            "pcap.tls",
            format!(
                "{} TLS connection(s) could not be read ({shown}). To see their HTTP, capture plaintext: \
                 record a key log (start the browser or client with SSLKEYLOGFILE=/path/keys.log, then in Wireshark \
                 Edit > Preferences > Protocols > TLS > (Pre)-Master-Secret log filename, and export HTTP as a HAR or \
                 `tshark -o tls.keylog_file:keys.log`), or capture behind the TLS terminator (load balancer or proxy to the app server)",
                s.tls_connections
            ),
        ));
    }
    v
}

/// Read a pcap or pcapng input, emitting exchanges as they complete.
pub fn read(src: &Source, format: Format, cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    let mut eng = Engine::new(cx.opts);
    let result = match format {
        Format::Pcap => read_pcap(src, &mut eng, cx),
        _ => read_pcapng(src, &mut eng, cx),
    };
    eng.finish(cx);
    result
}

const RELEASE_EVERY: usize = 16 << 20;

fn u32_at(b: &[u8], at: usize, be: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if be { u32::from_be_bytes(s) } else { u32::from_le_bytes(s) })
}

/// Classic pcap: a 24-byte file header, then records of (16 or, in the modified format, 24)
/// header bytes and the frame.
fn read_pcap(src: &Source, eng: &mut Engine, cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    let data = src.bytes();
    let (_, hdr) = pcap_parser::pcap::parse_pcap_header(data).map_err(|_| {
        ReadError::new(format!("byte 0: the pcap file header is cut off or invalid ({} bytes)", data.len()))
    })?;
    let be = hdr.is_bigendian();
    let nano = hdr.is_nanosecond_precision();
    let modified = hdr.magic_number == 0xa1b2_cd34 || hdr.magic_number == 0x34cd_b2a1;
    let rec_len = if modified { 24 } else { 16 };
    let linktype = u32::try_from(hdr.network.0).unwrap_or(u32::MAX);
    if modified {
        cx.note(Note::info(
            "pcap.modified",
            "the file uses the \"modified pcap\" format (magic a1b2cd34, patched libpcap); its extra per-record fields are skipped",
        ));
    }
    // Largest record we believe: the snapshot length, but at least 256 KiB (some writers lie).
    let max_caplen = (hdr.snaplen as usize).max(256 * 1024);
    let mut pos = 24usize;
    let mut frame = 0u64;
    let mut released = 0usize;
    while pos < data.len() {
        let rest = &data[pos..];
        frame += 1;
        if rest.len() < rec_len {
            cx.note(Note::warning(
                "pcap.truncated",
                format!(
                    "the file ends inside the record header of frame {frame} at byte {pos} ({} of {rec_len} bytes)",
                    rest.len()
                ),
            ));
            break;
        }
        let (Some(sec), Some(frac), Some(caplen), Some(origlen)) =
            (u32_at(rest, 0, be), u32_at(rest, 4, be), u32_at(rest, 8, be), u32_at(rest, 12, be))
        else {
            break;
        };
        let caplen = caplen as usize;
        if caplen > max_caplen {
            eng.drain(cx);
            return Err(ReadError::new(format!(
                "frame {frame} at byte {pos}: record length {caplen} is larger than any packet (snapshot length {}); the file is corrupt from here",
                hdr.snaplen
            )));
        }
        let body_start = pos + rec_len;
        crate::ingest::prefetch(data, pos, body_start + caplen);
        if rest.len() - rec_len < caplen {
            cx.note(Note::warning(
                "pcap.truncated",
                format!(
                    "the last frame ({frame}, at byte {pos}) is cut off: {caplen} bytes declared, {} present; it was skipped",
                    rest.len() - rec_len
                ),
            ));
            break;
        }
        let frac_ns = if nano { i64::from(frac) } else { i64::from(frac) * 1000 };
        let ts = i64::from(sec) * 1_000_000_000 + frac_ns;
        eng.frame(Meta { frame, ts }, linktype, &data[body_start..body_start + caplen], origlen);
        eng.drain(cx);
        pos = body_start + caplen;
        if pos - released >= RELEASE_EVERY {
            src.release(released, pos);
            released = pos;
        }
    }
    Ok(())
}

/// One pcapng interface: its link type and how to turn its timestamps into nanoseconds.
struct Iface {
    linktype: u32,
    /// Timestamp units per second.
    units: u128,
    offset_s: i64,
    snaplen: u32,
}

fn units_per_second(tsresol: u8) -> Option<u128> {
    let v = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 != 0 {
        2u128.checked_pow(v)
    } else {
        10u128.checked_pow(v)
    }
}

fn ts_ns(units: u128, offset_s: i64, raw: u64) -> i64 {
    let ns = u128::from(raw).saturating_mul(1_000_000_000).checked_div(units).unwrap_or(0);
    i64::try_from(ns).unwrap_or(i64::MAX).saturating_add(offset_s.saturating_mul(1_000_000_000))
}

/// pcapng: a sequence of blocks; every Section Header Block starts a section with its own byte
/// order and interfaces.
fn read_pcapng(src: &Source, eng: &mut Engine, cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    use pcap_parser::pcapng::{parse_block_be, parse_block_le, parse_sectionheaderblock};
    use pcap_parser::traits::PcapNGPacketBlock;
    use pcap_parser::Block;
    const SHB: u32 = 0x0A0D_0D0A;
    let data = src.bytes();
    let mut pos = 0usize;
    let mut be = false;
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut frame = 0u64;
    let mut released = 0usize;
    let mut sections = 0u32;
    let mut skipped_blocks = 0u64;
    let mut bad_blocks = 0u64;
    let mut bad_resolution = false;
    while pos < data.len() {
        let rest = &data[pos..];
        if rest.len() < 12 {
            cx.note(Note::warning(
                "pcap.truncated",
                format!("the file ends inside a block header at byte {pos} ({} bytes left)", rest.len()),
            ));
            break;
        }
        let is_shb = u32_at(rest, 0, false) == Some(SHB);
        if is_shb {
            // The byte-order magic decides how this section is read.
            match u32_at(rest, 8, false) {
                Some(0x1A2B_3C4D) => be = false,
                Some(0x4D3C_2B1A) => be = true,
                _ => {
                    eng.drain(cx);
                    return Err(ReadError::new(format!(
                        "byte {pos}: section header block with an unknown byte-order magic"
                    )));
                }
            }
        } else if sections == 0 {
            return Err(ReadError::new(format!("byte {pos}: a pcapng file must start with a Section Header Block")));
        }
        let blen = u32_at(rest, 4, be).unwrap_or(0) as usize;
        crate::ingest::prefetch(data, pos, pos.saturating_add(blen));
        if blen < 12 || !blen.is_multiple_of(4) {
            eng.drain(cx);
            return Err(ReadError::new(format!(
                "byte {pos}: block length {blen} is invalid (must be a multiple of 4, at least 12); the file is corrupt from here"
            )));
        }
        if blen > rest.len() {
            cx.note(Note::warning(
                "pcap.truncated",
                format!(
                    "the last block (at byte {pos}) is cut off: {blen} bytes declared, {} present; it was skipped",
                    rest.len()
                ),
            ));
            break;
        }
        let block = &rest[..blen];
        let parsed = if is_shb {
            parse_sectionheaderblock(block).map(|(r, b)| (r, Block::SectionHeader(b)))
        } else if be {
            parse_block_be(block)
        } else {
            parse_block_le(block)
        };
        match parsed {
            Ok((_, Block::SectionHeader(_))) => {
                sections += 1;
                ifaces.clear();
            }
            Ok((_, Block::InterfaceDescription(idb))) => {
                let units = match units_per_second(idb.if_tsresol) {
                    Some(u) if u > 0 => u,
                    _ => {
                        bad_resolution = true;
                        1_000_000
                    }
                };
                ifaces.push(Iface {
                    linktype: u32::try_from(idb.linktype.0).unwrap_or(u32::MAX),
                    units,
                    offset_s: idb.if_tsoffset,
                    snaplen: idb.snaplen,
                });
            }
            Ok((_, Block::EnhancedPacket(epb))) => {
                frame += 1;
                match ifaces.get(epb.if_id as usize) {
                    Some(ifc) => {
                        let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                        let ts = ts_ns(ifc.units, ifc.offset_s, raw);
                        eng.frame(Meta { frame, ts }, ifc.linktype, epb.packet_data(), epb.origlen);
                    }
                    None => eng.out.stats.unknown_interface += 1,
                }
            }
            Ok((_, Block::SimplePacket(spb))) => {
                frame += 1;
                match ifaces.first() {
                    Some(ifc) => {
                        let mut d = spb.packet_data();
                        if ifc.snaplen > 0 && d.len() > ifc.snaplen as usize {
                            d = &d[..ifc.snaplen as usize];
                        }
                        // A simple packet has no timestamp: it takes the last one seen.
                        let ts = eng.tcp.last_ts();
                        eng.frame(Meta { frame, ts }, ifc.linktype, d, spb.origlen);
                    }
                    None => eng.out.stats.unknown_interface += 1,
                }
            }
            Ok(_) => skipped_blocks += 1,
            Err(_) => bad_blocks += 1,
        }
        eng.drain(cx);
        pos += blen;
        if pos - released >= RELEASE_EVERY {
            src.release(released, pos);
            released = pos;
        }
    }
    if sections > 1 {
        cx.note(Note::info(
            "pcapng.sections",
            format!("the file holds {sections} sections; each was read with its own byte order and interfaces"),
        ));
    }
    if bad_blocks > 0 {
        cx.note(Note::warning(
            "pcapng.bad_block",
            format!("{bad_blocks} block(s) could not be parsed and were skipped"),
        ));
    }
    if bad_resolution {
        cx.note(Note::warning(
            "pcapng.ts_resolution",
            "an interface declares an impossible timestamp resolution; microseconds were assumed",
        ));
    }
    let _ = skipped_blocks;
    Ok(())
}

#[cfg(test)]
mod tests;
