//! Packet sequences built in code: reassembly and HTTP/1 framing cases.

use super::ip::{ACK, FIN, RST, SYN};
use super::link::ETHERNET;
use super::{Engine, Meta};
use crate::ingest::{BodyPolicy, IngestOptions};
use crate::model::Exchange;

const CLIENT: ([u8; 4], u16) = ([10, 0, 0, 1], 40000);
const SERVER: ([u8; 4], u16) = ([10, 0, 0, 2], 80);

fn frame(src: ([u8; 4], u16), dst: ([u8; 4], u16), seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + 20 + payload.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&src.0);
    ip.extend_from_slice(&dst.0);
    f.extend_from_slice(&ip);
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&src.1.to_be_bytes());
    t[2..4].copy_from_slice(&dst.1.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = flags;
    f.extend_from_slice(&t);
    f.extend_from_slice(payload);
    f
}

/// A connection being written: client ISN 1000, server ISN 5000 (data offsets from 0).
struct Sim {
    frames: Vec<Vec<u8>>,
    cisn: u32,
    sisn: u32,
    port: u16,
}

impl Sim {
    fn new() -> Self {
        Sim::with(1000, 5000, CLIENT.1)
    }
    fn with(cisn: u32, sisn: u32, port: u16) -> Self {
        let mut s = Sim { frames: Vec::new(), cisn, sisn, port };
        s.handshake();
        s
    }
    fn handshake(&mut self) {
        let c = (CLIENT.0, self.port);
        self.frames.push(frame(c, SERVER, self.cisn, SYN, b""));
        self.frames.push(frame(SERVER, c, self.sisn, SYN | ACK, b""));
        self.frames.push(frame(c, SERVER, self.cisn + 1, ACK, b""));
    }
    /// Client bytes at stream offset `off`.
    fn c(&mut self, off: usize, data: &[u8]) -> &mut Self {
        self.frames.push(frame((CLIENT.0, self.port), SERVER, self.cisn + 1 + off as u32, ACK, data));
        self
    }
    fn s(&mut self, off: usize, data: &[u8]) -> &mut Self {
        self.frames.push(frame(SERVER, (CLIENT.0, self.port), self.sisn + 1 + off as u32, ACK, data));
        self
    }
    fn flags(&mut self, client: bool, off: usize, flags: u8) -> &mut Self {
        let c = (CLIENT.0, self.port);
        let f = if client {
            frame(c, SERVER, self.cisn + 1 + off as u32, flags, b"")
        } else {
            frame(SERVER, c, self.sisn + 1 + off as u32, flags, b"")
        };
        self.frames.push(f);
        self
    }
}

fn run(frames: &[Vec<u8>]) -> (Vec<Exchange>, super::Stats) {
    let mut eng = Engine::new(IngestOptions { bodies: BodyPolicy::All });
    for (i, f) in frames.iter().enumerate() {
        let meta = Meta { frame: i as u64 + 1, ts: 1_700_000_000_000_000_000 + i as i64 * 1_000_000 };
        eng.frame(meta, ETHERNET, f, f.len() as u32);
    }
    eng.tcp.flush_all(&mut eng.out);
    let ex = std::mem::take(&mut eng.out.exchanges);
    (ex, std::mem::take(&mut eng.out.stats))
}

fn body(b: &Option<crate::model::Body>) -> String {
    String::from_utf8_lossy(&b.as_ref().map(|b| b.raw.clone()).unwrap_or_default()).into_owned()
}

const OK2: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

#[test]
fn out_of_order_segments_are_put_back_in_order() {
    let req = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789";
    let (a, rest) = req.split_at(20);
    let (b, c) = rest.split_at(15);
    let mut s = Sim::new();
    s.c(0, a).c(35, c).c(20, b).s(0, OK2);
    let (ex, stats) = run(&s.frames);
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].request.url, "http://h/a");
    assert_eq!(body(&ex[0].request.body), "0123456789");
    assert_eq!(ex[0].status(), Some(200));
    assert_eq!(ex[0].origin.request_frame, Some(4));
    assert_eq!(ex[0].origin.response_frame, Some(7));
    assert_eq!(ex[0].client.as_deref(), Some("10.0.0.1:40000"));
    assert_eq!(ex[0].server.as_deref(), Some("10.0.0.2:80"));
    assert_eq!(stats.gaps, 0);
}

#[test]
fn retransmitted_and_overlapping_segments_are_not_doubled() {
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\nabcdefghijklmnopqrstuvwxyz";
    let mut s = Sim::new();
    s.c(0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    s.s(0, &resp[..30]).s(0, &resp[..30]); // retransmission
    s.s(20, &resp[20..50]); // overlaps the first
    s.s(45, &resp[45..]); // overlaps the second
    s.s(45, &resp[45..]);
    let (ex, stats) = run(&s.frames);
    assert_eq!(ex.len(), 1);
    assert_eq!(body(&ex[0].response.as_ref().unwrap().body), "abcdefghijklmnopqrstuvwxyz");
    assert_eq!(stats.gaps, 0);
}

#[test]
fn a_gap_keeps_the_exchange_and_the_next_one() {
    let resp1 = b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n012345678901234567890123456789";
    let head = resp1.len() - 30;
    let mut s = Sim::new();
    let req1 = b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
    let req2 = b"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
    s.c(0, req1).s(0, &resp1[..head + 10]);
    // Bytes head+10..head+20 are never captured.
    s.s(head + 20, &resp1[head + 20..]);
    s.c(req1.len(), req2).s(resp1.len(), OK2);
    let (ex, stats) = run(&s.frames);
    assert_eq!(ex.len(), 2, "{ex:#?}");
    assert_eq!(ex[0].path(), "/1");
    assert_eq!(ex[0].status(), Some(200));
    assert!(ex[0].notes.iter().any(|n| n.code == "pcap.tcp_gap"));
    let b = ex[0].response.as_ref().unwrap().body.as_ref().unwrap();
    assert!(b.omitted);
    assert_eq!(b.size(), 30);
    assert_eq!(ex[1].path(), "/2");
    assert_eq!(body(&ex[1].response.as_ref().unwrap().body), "ok");
    assert_eq!((stats.gaps, stats.gap_bytes), (1, 10));
}

#[test]
fn pipelined_requests_pair_in_order_and_head_has_no_body() {
    let mut s = Sim::new();
    s.c(0, b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
    s.s(
        0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    );
    let (ex, _) = run(&s.frames);
    let got: Vec<(String, Option<u16>)> = ex.iter().map(|e| (e.path(), e.status())).collect();
    assert_eq!(got, vec![("/1".into(), Some(200)), ("/2".into(), Some(200)), ("/3".into(), Some(404))]);
    assert_eq!(body(&ex[0].response.as_ref().unwrap().body), "A");
    assert!(ex[1].response.as_ref().unwrap().body.is_none());
    let idx: Vec<_> = ex.iter().map(|e| e.connection.clone()).collect();
    assert!(idx.iter().all(|c| c == &idx[0]));
}

#[test]
fn chunked_body_with_trailers_across_segments() {
    let resp: &[u8] =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n";
    let mut s = Sim::new();
    s.c(0, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    // Cut in awkward places: inside a size line, inside the data, before the final LF.
    let cuts = [50, 53, 62, resp.len() - 1];
    let mut prev = 0;
    for &c in cuts.iter().chain(std::iter::once(&resp.len())) {
        s.s(prev, &resp[prev..c]);
        prev = c;
    }
    s.c(26, b"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n").s(resp.len(), OK2);
    let (ex, _) = run(&s.frames);
    assert_eq!(ex.len(), 2);
    let r = ex[0].response.as_ref().unwrap();
    assert_eq!(body(&r.body), "hello world");
    assert_eq!(r.headers.get("x-trailer"), Some("yes"));
    assert_eq!(ex[1].status(), Some(200));
}

#[test]
fn continue_then_final_answer_and_read_until_close() {
    let mut s = Sim::new();
    let head: &[u8] = b"POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
    s.c(0, head);
    s.s(0, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.c(head.len(), b"abc");
    let resp = b"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\n\r\nno entry";
    s.s(25, resp);
    s.flags(false, 25 + resp.len(), FIN | ACK);
    s.flags(true, head.len() + 3, FIN | ACK);
    let (ex, _) = run(&s.frames);
    assert_eq!(ex.len(), 1, "{ex:#?}");
    assert_eq!(ex[0].status(), Some(401));
    assert_eq!(body(&ex[0].request.body), "abc");
    assert_eq!(body(&ex[0].response.as_ref().unwrap().body), "no entry");
    assert!(ex[0].notes.iter().any(|n| n.code == "http.interim"));
}

#[test]
fn capture_starting_mid_connection_resynchronises() {
    // No handshake: the first bytes are the end of an earlier body.
    let frames = vec![
        frame(CLIENT, SERVER, 7000, ACK, b"tail of a body\r\nmore\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
        frame(SERVER, CLIENT, 9000, ACK, b"ody bytes\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ];
    let (ex, stats) = run(&frames);
    assert_eq!(ex.len(), 1, "{ex:#?}");
    assert_eq!(ex[0].path(), "/next");
    assert_eq!(ex[0].status(), Some(200));
    assert_eq!(stats.midstream, 1);
}

#[test]
fn port_reuse_starts_a_new_connection_and_rst_ends_one() {
    let mut s = Sim::with(1000, 5000, 40001);
    s.c(0, b"GET /first HTTP/1.1\r\nHost: h\r\n\r\n");
    s.flags(false, 0, RST);
    let mut t = Sim::with(77_000, 88_000, 40001);
    t.c(0, b"GET /second HTTP/1.1\r\nHost: h\r\n\r\n").s(0, OK2);
    let mut frames = s.frames.clone();
    frames.extend(t.frames);
    let (ex, _) = run(&frames);
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].path(), "/first");
    assert!(ex[0].response.is_none());
    assert!(ex[0].notes.iter().any(|n| n.code == "pcap.no_response"));
    assert_eq!(ex[1].path(), "/second");
    assert_ne!(ex[0].connection, ex[1].connection);
}

#[test]
fn sequence_numbers_wrap() {
    let mut s = Sim::with(u32::MAX - 10, 5000, 40002);
    s.c(0, b"GET /wrap HTTP/1.1\r\nHost: h\r\n\r\n").s(0, OK2);
    let (ex, _) = run(&s.frames);
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].path(), "/wrap");
}

// ---- containers built in code ----

use crate::ingest::{ReadCx, Source};
use crate::model::{Format, Note};

fn read_all(bytes: Vec<u8>, format: Format) -> (Result<(), String>, Vec<Exchange>, Vec<Note>) {
    let mut v = Vec::new();
    let mut sink = |e: Exchange| v.push(e);
    let mut cx = ReadCx::new(0, IngestOptions { bodies: BodyPolicy::All }, &mut sink);
    let r = super::read(&Source::Owned(bytes), format, &mut cx).map_err(|e| e.message);
    let notes = std::mem::take(&mut cx.notes);
    drop(cx);
    (r, v, notes)
}

fn u32b(be: bool, v: u32) -> [u8; 4] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn u16b(be: bool, v: u16) -> [u8; 2] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

/// A two-packet HTTP exchange (request, response), each as an IPv4 packet.
fn http_pair() -> (Vec<u8>, Vec<u8>) {
    let s = {
        let mut s = Sim::new();
        s.c(0, b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n").s(0, OK2);
        s
    };
    let n = s.frames.len();
    (s.frames[n - 2][14..].to_vec(), s.frames[n - 1][14..].to_vec())
}

#[test]
fn big_endian_nanosecond_pcap_with_sll2() {
    let be = true;
    let mut f = Vec::new();
    f.extend_from_slice(&u32b(be, 0xa1b2_3c4d));
    f.extend_from_slice(&u16b(be, 2));
    f.extend_from_slice(&u16b(be, 4));
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&u32b(be, 65535));
    f.extend_from_slice(&u32b(be, super::link::SLL2));
    let (req, resp) = http_pair();
    for (i, ip) in [req, resp].iter().enumerate() {
        let mut fr = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 4, 6, 0, 0, 0, 0, 0, 0, 0];
        fr.extend_from_slice(ip);
        f.extend_from_slice(&u32b(be, 1_700_000_000 + i as u32));
        f.extend_from_slice(&u32b(be, 123_456_789));
        f.extend_from_slice(&u32b(be, fr.len() as u32));
        f.extend_from_slice(&u32b(be, fr.len() as u32));
        f.extend_from_slice(&fr);
    }
    let (r, ex, _) = read_all(f, Format::Pcap);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].started.timestamp_subsec_nanos(), 123_456_789);
    assert_eq!(ex[0].duration_ms, Some(1000.0));
    assert_eq!(ex[0].origin.request_frame, Some(1));
    assert_eq!(ex[0].origin.response_frame, Some(2));
}

fn block(be: bool, typ: u32, body: &[u8]) -> Vec<u8> {
    let pad = (4 - body.len() % 4) % 4;
    let len = (12 + body.len() + pad) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(&u32b(be, typ));
    b.extend_from_slice(&u32b(be, len));
    b.extend_from_slice(body);
    b.extend(std::iter::repeat_n(0u8, pad));
    b.extend_from_slice(&u32b(be, len));
    b
}

fn shb(be: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u32b(be, 0x1A2B_3C4D));
    body.extend_from_slice(&u16b(be, 1));
    body.extend_from_slice(&u16b(be, 0));
    body.extend_from_slice(&[0xff; 8]);
    block(be, 0x0A0D_0D0A, &body)
}

fn idb(be: bool, linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u16b(be, linktype));
    body.extend_from_slice(&u16b(be, 0));
    body.extend_from_slice(&u32b(be, 0));
    if let Some(r) = tsresol {
        body.extend_from_slice(&u16b(be, 9));
        body.extend_from_slice(&u16b(be, 1));
        body.extend_from_slice(&[r, 0, 0, 0]);
        body.extend_from_slice(&[0, 0, 0, 0]);
    }
    block(be, 1, &body)
}

fn epb(be: bool, ifid: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u32b(be, ifid));
    body.extend_from_slice(&u32b(be, (ts >> 32) as u32));
    body.extend_from_slice(&u32b(be, ts as u32));
    body.extend_from_slice(&u32b(be, data.len() as u32));
    body.extend_from_slice(&u32b(be, data.len() as u32));
    body.extend_from_slice(data);
    body.extend(std::iter::repeat_n(0u8, (4 - data.len() % 4) % 4));
    block(be, 6, &body)
}

#[test]
fn pcapng_sections_with_both_byte_orders_interfaces_spb_and_unknown_blocks() {
    let (req, resp) = http_pair();
    let mut null_req = 2u32.to_le_bytes().to_vec();
    null_req.extend_from_slice(&req);
    let mut eth_resp = vec![0u8; 12];
    eth_resp.extend_from_slice(&[0x08, 0x00]);
    eth_resp.extend_from_slice(&resp);
    let mut f = shb(false);
    f.extend(idb(false, 0, Some(9))); // NULL, nanoseconds
    f.extend(block(false, 0x0BAD_0BAD, b"who knows"));
    f.extend(epb(false, 0, 1_700_000_000_000_000_000, &null_req));
    // A second section, big-endian: Ethernet in microseconds, then a simple packet.
    f.extend(shb(true));
    f.extend(idb(true, 1, None));
    f.extend(epb(true, 0, 1_700_000_000_250_000, &eth_resp));
    let mut spb = u32b(true, eth_resp.len() as u32).to_vec();
    spb.extend_from_slice(&eth_resp);
    f.extend(block(true, 3, &spb)); // the response again (a retransmission)
    let (r, ex, notes) = read_all(f, Format::Pcapng);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(ex.len(), 1, "{notes:?}");
    assert_eq!(ex[0].status(), Some(200));
    assert_eq!(ex[0].duration_ms, Some(250.0));
    assert_eq!(ex[0].origin.response_frame, Some(2));
    assert!(notes.iter().any(|n| n.code == "pcapng.sections"));
}

#[test]
fn unknown_link_type_is_named_and_a_cut_block_is_a_note() {
    let mut f = shb(false);
    f.extend(idb(false, 147, None));
    f.extend(epb(false, 0, 0, b"\x01\x02\x03\x04"));
    let cut = epb(false, 0, 0, b"0123456789");
    f.extend_from_slice(&cut[..cut.len() - 6]);
    let (r, ex, notes) = read_all(f, Format::Pcapng);
    assert!(r.is_ok());
    assert!(ex.is_empty());
    let lt = notes.iter().find(|n| n.code == "pcap.link_type").expect("link type note");
    assert!(lt.message.contains("147"), "{}", lt.message);
    assert!(notes.iter().any(|n| n.code == "pcap.truncated"));
}

#[test]
fn websocket_frames_are_unmasked_and_inflated() {
    use flate2::{Compress, Compression, FlushCompress};
    let mut s = Sim::new();
    let req = b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
    // Client: a masked text frame, split in two segments.
    let key = [1u8, 2, 3, 4];
    let mut cf = vec![0x81, 0x80 | 5];
    cf.extend_from_slice(&key);
    cf.extend(b"hello".iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    // Server: a compressed text frame (RSV1), deflate tail removed.
    let mut c = Compress::new(Compression::default(), false);
    let mut z = Vec::with_capacity(256);
    c.compress_vec(b"{\"ok\":true}", &mut z, FlushCompress::Sync).unwrap();
    z.truncate(z.len() - 4);
    let mut sf = vec![0xC1, z.len() as u8];
    sf.extend_from_slice(&z);
    s.c(0, req).s(0, resp);
    s.c(req.len(), &cf[..4]).c(req.len() + 4, &cf[4..]).s(resp.len(), &sf);
    let (ex, _) = run(&s.frames);
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].status(), Some(101));
    let texts: Vec<_> = ex[0].websocket.iter().map(|m| m.text().unwrap_or("?").to_string()).collect();
    assert_eq!(texts, vec!["hello", "{\"ok\":true}"]);
}

#[test]
fn garbled_streams_never_panic() {
    let seeds: [&[u8]; 5] = [
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x05\x01\x05\x00\x00\x00\x01\x82\x86\x84\x41\x8a",
        b"GET /x HTTP/1.1\r\nUpgrade: h2c\r\n\r\n\x00\x00\x03\x09\x04\x00\x00\x00\x01\x88\x00\x00",
        b"\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..400 {
        let mut s = Sim::with(1000 + round, 5000, 30000 + round as u16);
        for _ in 0..8 {
            let base = seeds[(rnd() % seeds.len() as u64) as usize];
            let mut b = base.to_vec();
            for _ in 0..(rnd() % 4) {
                let at = (rnd() as usize) % b.len();
                b[at] = rnd() as u8;
            }
            let cut = (rnd() as usize) % (b.len() + 1);
            let off = (rnd() % 200) as usize;
            if rnd() % 2 == 0 {
                s.c(off, &b[..cut]);
            } else {
                s.s(off, &b[..cut]);
            }
        }
        let _ = run(&s.frames);
    }
}

#[test]
fn tls_connections_are_counted_with_their_server_names() {
    // A minimal ClientHello with SNI api.example.com.
    let name = b"api.example.com";
    let mut ext = vec![0, 0];
    ext.extend_from_slice(&((5 + name.len()) as u16).to_be_bytes());
    ext.extend_from_slice(&((3 + name.len()) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&[0; 32]);
    hello.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    hello.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    hello.extend_from_slice(&ext);
    let mut rec = vec![0x16, 3, 1];
    rec.extend_from_slice(&((hello.len() + 4) as u16).to_be_bytes());
    rec.extend_from_slice(&[1, 0]);
    rec.extend_from_slice(&(hello.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hello);
    let mut s = Sim::with(1, 2, 50000);
    s.c(0, &rec).s(0, b"\x16\x03\x03\x00\x02\x02\x00 lots of encrypted bytes");
    let (ex, stats) = run(&s.frames);
    assert!(ex.is_empty());
    assert_eq!(stats.tls_connections, 1);
    assert!(stats.tls_names.contains("api.example.com"));
    let notes = super::notes(&stats);
    let n = notes.iter().find(|n| n.code == "pcap.tls").expect("tls note");
    assert!(n.message.contains("api.example.com") && n.message.contains("SSLKEYLOGFILE"), "{}", n.message);
}

#[test]
fn ipv6_over_raw_link() {
    fn v6(src: u8, dst: u8, sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[6, 64]);
        let mut a = [0u8; 16];
        a[15] = src;
        p.extend_from_slice(&a);
        a[15] = dst;
        p.extend_from_slice(&a);
        let mut t = vec![0u8; 20];
        t[0..2].copy_from_slice(&sport.to_be_bytes());
        t[2..4].copy_from_slice(&dport.to_be_bytes());
        t[4..8].copy_from_slice(&seq.to_be_bytes());
        t[12] = 5 << 4;
        t[13] = flags;
        p.extend_from_slice(&t);
        p.extend_from_slice(payload);
        p
    }
    let frames = [
        v6(1, 2, 41000, 8080, 10, SYN, b""),
        v6(2, 1, 8080, 41000, 20, SYN | ACK, b""),
        v6(1, 2, 41000, 8080, 11, ACK, b"GET /six HTTP/1.1\r\nHost: [::2]:8080\r\n\r\n"),
        v6(2, 1, 8080, 41000, 21, ACK, OK2),
    ];
    let mut eng = Engine::new(IngestOptions::default());
    for (i, f) in frames.iter().enumerate() {
        eng.frame(Meta { frame: i as u64 + 1, ts: 0 }, super::link::RAW, f, f.len() as u32);
    }
    eng.tcp.flush_all(&mut eng.out);
    let ex = &eng.out.exchanges;
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].request.url, "http://[::2]:8080/six");
    assert_eq!(ex[0].server.as_deref(), Some("[::2]:8080"));
    assert_eq!(ex[0].status(), Some(200));
}
