//! Shared harness code for the fuzz targets: feed bytes to a reader, then run the whole analysis
//! on what it produced, so the decoders, token index, timeline and diagnosis see hostile input too.

use harken::analysis::{self, Options};
use harken::catalog::Catalog;
use harken::ingest::pcap::{Engine, Meta};
use harken::ingest::{IngestOptions, ReadCx, Source};
use harken::model::{Capture, Exchange, Format, Input};
use harken::timeline::Profile;
use harken::token::TokenOptions;

/// The analysis options, built once per process: building the catalog and parsing the
/// profile on every input cost most of each run (about 70 inputs a second instead of
/// thousands), and they do not depend on the input.
fn options() -> &'static Options {
    static OPTIONS: std::sync::OnceLock<Options> = std::sync::OnceLock::new();
    OPTIONS.get_or_init(|| Options {
        catalog: Catalog::genesys(),
        profile: Profile::genesys(),
        show_secrets: false,
        tokens: TokenOptions::default(),
    })
}

/// Read `data` with one of harken's readers, then analyze the exchanges.
pub fn read_and_analyze(data: &[u8], read: fn(&Source, &mut ReadCx<'_>)) {
    let src = Source::Owned(data.to_vec());
    let mut exchanges: Vec<Exchange> = Vec::new();
    {
        let mut sink = |ex: Exchange| exchanges.push(ex);
        let mut cx = ReadCx::new(0, IngestOptions::default(), &mut sink);
        read(&src, &mut cx);
    }
    analyze(exchanges, Format::Har);
}

/// Run tokens, timeline and diagnosis over some exchanges, and render them.
pub fn analyze(mut exchanges: Vec<Exchange>, format: Format) {
    exchanges.sort_by_key(|e| (e.started, e.origin));
    let input = Input {
        path: "fuzz".into(),
        format: Some(format),
        exchanges: exchanges.len(),
        creator: None,
        notes: Vec::new(),
        error: None,
    };
    let capture = Capture::new(vec![input], exchanges, Vec::new());
    let a = analysis::run(&capture, options());
    for ex in &capture.exchanges {
        let _ = harken::redact::mask_url(&ex.request.url);
        let _ = ex.host_and_path();
    }
    let _ = serde_json::to_string(&a.findings);
}

/// A TCP conversation between a client (10.0.0.1:40000) and a server (10.0.0.2:80) built from
/// fuzz bytes, fed to the packet engine as raw IPv4 frames. `client_prefix` and
/// `server_prefix` are sent first (an HTTP/2 preface, a websocket upgrade).
///
/// After the handshake the input is a list of segments: one control byte (bit 0: direction,
/// bits 1-2: 0 data, 1 FIN, 2 RST, 3 a retransmission of the previous segment; bits 3-5: a
/// sequence gap in 100-byte steps; bit 6: send it out of order, after the next one), one
/// length byte, then that many payload bytes.
pub fn tcp_conversation(data: &[u8], client_prefix: &[u8], server_prefix: &[u8]) {
    let mut eng = Engine::new(IngestOptions::default());
    let mut ts: i64 = 1_700_000_000_000_000_000;
    let mut frame = 0u64;
    let mut seq = [1000u32, 5000u32];
    let mut send = |eng: &mut Engine, dir: usize, seq: u32, flags: u8, payload: &[u8]| {
        frame += 1;
        ts += 1_000_000;
        let pkt = ipv4_tcp(dir, seq, flags, payload);
        eng.frame(Meta { frame, ts }, 101, &pkt, pkt.len() as u32);
    };
    send(&mut eng, 0, seq[0].wrapping_sub(1), 0x02, &[]);
    send(&mut eng, 1, seq[1].wrapping_sub(1), 0x12, &[]);
    for (dir, p) in [(0usize, client_prefix), (1, server_prefix)] {
        if !p.is_empty() {
            send(&mut eng, dir, seq[dir], 0x18, p);
            seq[dir] = seq[dir].wrapping_add(p.len() as u32);
        }
    }
    let mut rest = data;
    let mut held: Option<(usize, u32, u8, Vec<u8>)> = None;
    let mut last: Option<(usize, u32, u8, Vec<u8>)> = None;
    while rest.len() >= 2 {
        let ctl = rest[0];
        let len = usize::from(rest[1]).min(rest.len() - 2);
        let payload = &rest[2..2 + len];
        rest = &rest[2 + len..];
        let dir = usize::from(ctl & 1);
        let kind = (ctl >> 1) & 3;
        let gap = u32::from((ctl >> 3) & 7) * 100;
        if kind == 3 {
            if let Some((d, s, f, p)) = last.clone() {
                send(&mut eng, d, s, f, &p);
            }
            continue;
        }
        let flags = match kind {
            1 => 0x11,
            2 => 0x04,
            _ => 0x18,
        };
        seq[dir] = seq[dir].wrapping_add(gap);
        let seg = (dir, seq[dir], flags, payload.to_vec());
        seq[dir] = seq[dir].wrapping_add(len as u32 + u32::from(flags & 1));
        if ctl & 0x40 != 0 && held.is_none() {
            held = Some(seg);
            continue;
        }
        send(&mut eng, seg.0, seg.1, seg.2, &seg.3);
        if let Some((d, s, f, p)) = held.take() {
            send(&mut eng, d, s, f, &p);
        }
        last = Some(seg);
    }
    if let Some((d, s, f, p)) = held.take() {
        send(&mut eng, d, s, f, &p);
    }
    let mut exchanges: Vec<Exchange> = Vec::new();
    {
        let mut sink = |ex: Exchange| exchanges.push(ex);
        let mut cx = ReadCx::new(0, IngestOptions::default(), &mut sink);
        eng.finish(&mut cx);
    }
    analyze(exchanges, Format::Pcap);
}

fn ipv4_tcp(dir: usize, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sport, dport) =
        if dir == 0 { ([10, 0, 0, 1], [10, 0, 0, 2], 40000u16, 80u16) } else { ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000) };
    let total = (40 + payload.len()).min(65535) as u16;
    let mut p = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&0u32.to_be_bytes());
    p.push(5 << 4);
    p.push(flags);
    p.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    p
}
