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

fn run(frames: &[Vec<u8>]) -> (Vec<Exchange>, super::stream::Stats) {
    let mut eng = Engine::new(IngestOptions { bodies: BodyPolicy::All, ..Default::default() });
    for (i, f) in frames.iter().enumerate() {
        let meta = Meta { frame: i as u64 + 1, ts: 1_700_000_000_000_000_000 + i as i64 * 1_000_000 };
        eng.frame(meta, ETHERNET, f, f.len() as u32);
    }
    eng.tcp.flush_all(&mut eng.out);
    let ex = std::mem::take(&mut eng.out.exchanges);
    (ex, std::mem::take(&mut eng.out.stats))
}

fn body(b: &Option<Box<crate::model::Body>>) -> String {
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
    let got: Vec<(String, Option<u16>)> = ex.iter().map(|e| (e.path().into_owned(), e.status())).collect();
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
    let mut cx = ReadCx::new(0, IngestOptions { bodies: BodyPolicy::All, ..Default::default() }, &mut sink);
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

// ---- adversarial sequences (review of the pcap ingest) ----

fn run_policy(frames: &[(Vec<u8>, u32)], bodies: BodyPolicy) -> (Vec<Exchange>, Vec<Note>, usize) {
    let mut eng = Engine::new(IngestOptions { bodies, ..Default::default() });
    for (i, (f, orig)) in frames.iter().enumerate() {
        let meta = Meta { frame: i as u64 + 1, ts: 1_700_000_000_000_000_000 + i as i64 * 1_000_000 };
        eng.frame(meta, ETHERNET, f, *orig);
    }
    let before_flush = eng.out.exchanges.len();
    eng.tcp.flush_all(&mut eng.out);
    eng.frags.finish(&mut eng.out.stats);
    let ex = std::mem::take(&mut eng.out.exchanges);
    (ex, super::notes(&eng.out.stats), before_flush)
}

fn whole(frames: &[Vec<u8>]) -> Vec<(Vec<u8>, u32)> {
    frames.iter().map(|f| (f.clone(), f.len() as u32)).collect()
}

fn has(ex: &Exchange, code: &str) -> bool {
    ex.notes.iter().any(|n| n.code == code)
}

#[test]
fn connections_beyond_the_open_cap_are_flushed_with_what_they_had() {
    use super::tcp::MAX_CONNS;
    let mut eng = Engine::new(IngestOptions { bodies: BodyPolicy::None, ..Default::default() });
    let n = MAX_CONNS + 50;
    let mut no = 0u64;
    let mut feed = |eng: &mut Engine, f: Vec<u8>| {
        no += 1;
        let meta = Meta { frame: no, ts: 1_700_000_000_000_000_000 + no as i64 * 1000 };
        eng.frame(meta, ETHERNET, &f, f.len() as u32);
    };
    for i in 0..n {
        let c = ([10, 1, (i >> 16) as u8, (i >> 8) as u8], 1024 + (i & 0xff) as u16);
        feed(&mut eng, frame(c, SERVER, 7, SYN, b""));
        feed(&mut eng, frame(c, SERVER, 8, ACK, b"GET /q HTTP/1.1\r\nHost: h\r\n\r\n"));
    }
    assert!(eng.tcp.open() <= MAX_CONNS, "open connections stay under the cap: {}", eng.tcp.open());
    // The oldest connections were flushed already: their requests were emitted unanswered.
    let early = eng.out.exchanges.len();
    assert!(early >= MAX_CONNS / 10, "evicted connections emitted their exchanges: {early}");
    assert!(eng.out.exchanges.iter().all(|e| has(e, "pcap.no_response")));
    eng.tcp.flush_all(&mut eng.out);
    assert_eq!(eng.out.exchanges.len(), n, "every request is emitted once");
}

#[test]
fn a_body_over_the_keep_cap_is_counted_not_kept() {
    let big = crate::ingest::ANALYSIS_BODY_CAP + 5000;
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {big}\r\n\r\n");
    let mut resp = head.into_bytes();
    resp.extend(std::iter::repeat_n(b'x', big));
    let mut s = Sim::new();
    let req1 = b"GET /big HTTP/1.1\r\nHost: h\r\n\r\n";
    s.c(0, req1);
    for (i, chunk) in resp.chunks(1460).enumerate() {
        s.s(i * 1460, chunk);
    }
    s.c(req1.len(), b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n").s(resp.len(), OK2);
    let (ex, _, _) = run_policy(&whole(&s.frames), BodyPolicy::Analysis);
    assert_eq!(ex.len(), 2);
    let b = ex[0].response.as_ref().unwrap().body.as_ref().unwrap();
    assert!(b.omitted && b.raw.is_empty());
    assert_eq!(b.declared_size, Some(big as u64), "the size says what was not kept");
    assert_eq!(body(&ex[1].response.as_ref().unwrap().body), "ok");
}

#[test]
fn a_response_without_request_and_a_request_never_answered_are_noted() {
    // The capture starts after the request: only the answer is seen.
    let mut s = Sim::new();
    s.frames.clear();
    s.s(0, b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    let (ex, _, _) = run_policy(&whole(&s.frames), BodyPolicy::All);
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].status(), Some(403));
    assert!(has(&ex[0], "pcap.response_without_request"), "{:?}", ex[0].notes);

    let mut s = Sim::new();
    let req = b"GET /lost HTTP/1.1\r\nHost: h\r\n\r\n";
    s.c(0, req).flags(true, req.len(), FIN | ACK).flags(false, 0, FIN | ACK);
    let (ex, _, _) = run_policy(&whole(&s.frames), BodyPolicy::All);
    assert_eq!(ex.len(), 1);
    assert!(ex[0].response.is_none());
    assert!(has(&ex[0], "pcap.no_response"));
}

#[test]
fn one_direction_only_does_not_hold_every_request_until_the_end() {
    // A capture of the client side only: no request is ever answered. Requests must not pile up
    // for the life of the connection (regression: the queue grew without bound).
    use super::http1::MAX_QUEUE;
    let req = b"GET /poll HTTP/1.1\r\nHost: h\r\n\r\n";
    let n = MAX_QUEUE + 300;
    let mut s = Sim::new();
    for i in 0..n {
        s.c(i * req.len(), req);
    }
    let (ex, _, before_flush) = run_policy(&whole(&s.frames), BodyPolicy::None);
    assert_eq!(ex.len(), n);
    assert_eq!(before_flush, n - MAX_QUEUE, "the oldest are emitted while the connection is open");
    assert!(ex.iter().all(|e| has(e, "pcap.no_response")));
    assert!(ex[0].notes.iter().any(|n| n.message.contains("later ones waited")), "{:?}", ex[0].notes);
}

// -- HTTP/2 --

fn h2f(typ: u8, flags: u8, sid: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, typ, flags];
    f.extend_from_slice(&sid.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// An HTTP/2 prior-knowledge connection: client bytes and server bytes written in order.
struct H2Sim {
    sim: Sim,
    coff: usize,
    soff: usize,
    cenc: loona_hpack::Encoder<'static>,
    senc: loona_hpack::Encoder<'static>,
}

impl H2Sim {
    fn new() -> Self {
        let mut h = H2Sim {
            sim: Sim::new(),
            coff: 0,
            soff: 0,
            cenc: loona_hpack::Encoder::new(),
            senc: loona_hpack::Encoder::new(),
        };
        let mut c = H2_PREFACE.to_vec();
        c.extend(h2f(4, 0, 0, b""));
        h.c(&c);
        h.s(&h2f(4, 0, 0, b""));
        h
    }
    fn c(&mut self, b: &[u8]) -> &mut Self {
        self.sim.c(self.coff, b);
        self.coff += b.len();
        self
    }
    fn s(&mut self, b: &[u8]) -> &mut Self {
        self.sim.s(self.soff, b);
        self.soff += b.len();
        self
    }
    fn req_block(&mut self, path: &str) -> Vec<u8> {
        let h: Vec<(&[u8], &[u8])> = vec![
            (b":method", b"GET"),
            (b":scheme", b"http"),
            (b":authority", b"api.example"),
            (b":path", path.as_bytes()),
        ];
        self.cenc.encode(h)
    }
    fn resp_block(&mut self, status: &str) -> Vec<u8> {
        let h: Vec<(&[u8], &[u8])> = vec![(b":status", status.as_bytes()), (b"content-type", b"application/json")];
        self.senc.encode(h)
    }
    fn request(&mut self, sid: u32, path: &str) -> &mut Self {
        let b = self.req_block(path);
        self.c(&h2f(1, 0x5, sid, &b))
    }
    fn response(&mut self, sid: u32, status: &str, end: bool) -> &mut Self {
        let b = self.resp_block(status);
        self.s(&h2f(1, if end { 0x5 } else { 0x4 }, sid, &b))
    }
}

#[test]
fn http2_many_interleaved_streams_pair_their_own_frames() {
    let mut h = H2Sim::new();
    let n = 150u32;
    for i in 0..n {
        h.request(1 + 2 * i, &format!("/r/{i}"));
    }
    for i in (0..n).rev() {
        h.response(1 + 2 * i, if i.is_multiple_of(3) { "401" } else { "200" }, false);
    }
    // Bodies in two DATA frames each, interleaved across streams.
    for part in 0..2u8 {
        for i in 0..n {
            let flags = if part == 1 { 0x1 } else { 0 };
            h.s(&h2f(0, flags, 1 + 2 * i, format!("{i}-{part};").as_bytes()));
        }
    }
    let (ex, notes, _) = run_policy(&whole(&h.sim.frames), BodyPolicy::All);
    assert_eq!(ex.len(), n as usize, "{notes:?}");
    for e in &ex {
        let i: u32 = e.path().rsplit('/').next().unwrap().parse().unwrap();
        assert_eq!(e.stream, Some(u64::from(1 + 2 * i)));
        assert_eq!(e.status(), Some(if i.is_multiple_of(3) { 401 } else { 200 }));
        assert_eq!(body(&e.response.as_ref().unwrap().body), format!("{i}-0;{i}-1;"));
        assert!(e.notes.is_empty(), "{:?}", e.notes);
    }
}

#[test]
fn http2_streams_waiting_forever_are_capped() {
    // Client side only: no stream ever ends. Regression: every stream was held to the end.
    use super::http2::MAX_STREAMS;
    let mut h = H2Sim::new();
    let n = MAX_STREAMS as u32 + 100;
    for i in 0..n {
        h.request(1 + 2 * i, "/x");
    }
    let (ex, _, before_flush) = run_policy(&whole(&h.sim.frames), BodyPolicy::None);
    assert_eq!(ex.len(), n as usize);
    assert_eq!(before_flush, 100);
    assert_eq!(ex[0].stream, Some(1), "the oldest goes first");
    assert!(ex[0].notes.iter().any(|n| n.code == "pcap.no_response" && n.message.contains("oldest")));
}

#[test]
fn http2_table_size_update_continuation_padding_and_priority() {
    let mut h = H2Sim::new();
    // Stream 1: a dynamic table size update (to 0, then back to 4096) opens the block, which is
    // split over HEADERS (PADDED | PRIORITY, no END_HEADERS) and two CONTINUATION frames.
    let mut block = vec![0x20, 0x3f, 0xe1, 0x1f];
    block.extend(h.req_block("/cont"));
    let (a, rest) = block.split_at(3);
    let (b, c) = rest.split_at(rest.len() / 2);
    let mut p = vec![4u8]; // pad length
    p.extend_from_slice(&[0x80, 0, 0, 0, 15]); // exclusive dependency on 0, weight 15
    p.extend_from_slice(a);
    p.extend_from_slice(&[0; 4]);
    h.c(&h2f(1, 0x8 | 0x20 | 0x1, 1, &p));
    h.c(&h2f(9, 0, 1, b));
    h.c(&h2f(9, 0x4, 1, c));
    h.response(1, "200", false);
    // A padded DATA frame: the padding is not body.
    let mut d = vec![3u8];
    d.extend_from_slice(b"{}");
    d.extend_from_slice(&[0, 0, 0]);
    h.s(&h2f(0, 0x8 | 0x1, 1, &d));
    // Bad padding (longer than the frame) is skipped, not a panic.
    h.s(&h2f(0, 0x8, 1, &[200, 1, 2]));
    let (ex, notes, _) = run_policy(&whole(&h.sim.frames), BodyPolicy::All);
    assert_eq!(ex.len(), 1, "{notes:?}");
    assert_eq!(ex[0].path(), "/cont");
    assert_eq!(ex[0].status(), Some(200));
    assert_eq!(body(&ex[0].response.as_ref().unwrap().body), "{}");
    assert!(ex[0].notes.is_empty(), "{:?}", ex[0].notes);
}

#[test]
fn http2_table_size_update_over_the_cap_is_a_note() {
    let mut h = H2Sim::new();
    // Size update to 2 MiB (over the 1 MiB cap): 0x3f then 2097152 - 31 as a varint.
    let mut v = (2u32 << 20) - 31;
    let mut block = vec![0x3f];
    while v >= 128 {
        block.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    block.push(v as u8);
    block.push(0x82);
    h.c(&h2f(1, 0x5, 1, &block));
    let (ex, notes, _) = run_policy(&whole(&h.sim.frames), BodyPolicy::All);
    assert!(notes.iter().any(|n| n.code == "http2.hpack"), "{notes:?}");
    assert!(ex.is_empty() || ex.iter().all(|e| e.response.is_none()));
}

#[test]
fn http2_an_interrupted_header_block_is_noted_on_its_stream_and_stops_the_direction() {
    // Regression: the note went to the interrupting frame's stream, a CONTINUATION of another
    // stream dropped the block silently, and later blocks were decoded against a lost HPACK
    // state.
    let mut h = H2Sim::new();
    h.request(1, "/ok");
    let b = h.req_block("/cut");
    h.c(&h2f(1, 0x1, 3, &b[..2])); // no END_HEADERS
    h.c(&h2f(9, 0x4, 5, &b[2..])); // CONTINUATION of another stream
    h.request(7, "/after");
    h.response(1, "200", true);
    let (ex, notes, _) = run_policy(&whole(&h.sim.frames), BodyPolicy::All);
    let one = ex.iter().find(|e| e.stream == Some(1)).expect("stream 1");
    assert_eq!(one.status(), Some(200));
    assert!(notes.iter().any(|n| n.code == "http2.hpack"), "{notes:?}");
    assert!(ex.iter().all(|e| e.stream != Some(7)), "blocks after the loss are not decoded");
}

#[test]
fn http2_rst_stream_and_goaway_say_what_happened() {
    let mut h = H2Sim::new();
    h.request(1, "/a").request(3, "/b").request(5, "/c").request(7, "/d");
    h.response(1, "200", true);
    h.s(&h2f(3, 0, 3, &8u32.to_be_bytes())); // RST_STREAM CANCEL
    let mut ga = 3u32.to_be_bytes().to_vec();
    ga.extend_from_slice(&0u32.to_be_bytes());
    h.s(&h2f(7, 0, 0, &ga)); // GOAWAY, last stream 3
    let (ex, _, _) = run_policy(&whole(&h.sim.frames), BodyPolicy::All);
    assert_eq!(ex.len(), 4);
    let by = |sid: u64| ex.iter().find(|e| e.stream == Some(sid)).unwrap();
    assert_eq!(by(1).status(), Some(200));
    assert!(has(by(3), "http2.rst_stream"));
    for sid in [5, 7] {
        assert!(has(by(sid), "http2.goaway"), "{:?}", by(sid).notes);
        assert!(by(sid).response.is_none());
    }
}

// -- websocket --

fn ws_upgrade(s: &mut Sim) -> (usize, usize) {
    let req = b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    s.c(0, req).s(0, resp);
    (req.len(), resp.len())
}

fn ws_frame(fin: bool, op: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![if fin { 0x80 } else { 0 } | op];
    let m = if mask.is_some() { 0x80 } else { 0 };
    if payload.len() < 126 {
        f.push(m | payload.len() as u8);
    } else if payload.len() < 65536 {
        f.push(m | 126);
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    } else {
        f.push(m | 127);
        f.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    }
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

#[test]
fn websocket_fragments_split_segments_control_frames_and_close() {
    let mut s = Sim::new();
    let (mut co, mut so) = ws_upgrade(&mut s);
    // Client: "hel" + ping + "lo" as a fragmented text message, the frames cut across segments.
    let mut c = ws_frame(false, 1, Some([9, 8, 7, 6]), b"hel");
    c.extend(ws_frame(true, 9, Some([1, 1, 1, 1]), b"p"));
    c.extend(ws_frame(true, 0, Some([5, 5, 5, 5]), b"lo"));
    for piece in c.chunks(3) {
        s.c(co, piece);
        co += piece.len();
    }
    // Server: a continuation whose first frame was never seen, then a close (1000 "bye").
    let mut sv = ws_frame(true, 0, None, b"orphan");
    sv.extend(ws_frame(true, 8, None, b"\x03\xe8bye"));
    // And a fragmented message the connection ends inside.
    sv.extend(ws_frame(false, 2, None, b"\x00\x01"));
    s.s(so, &sv);
    so += sv.len();
    s.flags(true, co, FIN | ACK).flags(false, so, FIN | ACK);
    let (ex, notes, _) = run_policy(&whole(&s.frames), BodyPolicy::All);
    assert_eq!(ex.len(), 1, "{notes:?}");
    let ws = &ex[0].websocket;
    let got: Vec<(crate::model::WsOpcode, Vec<u8>)> = ws.iter().map(|m| (m.opcode, m.data.clone())).collect();
    use crate::model::WsOpcode as Op;
    assert_eq!(
        got,
        vec![(Op::Ping, b"p".to_vec()), (Op::Text, b"hello".to_vec()), (Op::Close, b"\x03\xe8bye".to_vec())]
    );
    assert!(has(&ex[0], "websocket.bad_frame"), "the orphan continuation is noted: {:?}", ex[0].notes);
    assert!(has(&ex[0], "websocket.truncated"), "the unfinished message is noted: {:?}", ex[0].notes);
}

#[test]
fn websocket_payloads_past_the_keep_cap_are_noted() {
    let mut s = Sim::new();
    let (_, so) = ws_upgrade(&mut s);
    let big = vec![b'a'; crate::ingest::ANALYSIS_BODY_CAP];
    let mut sv = ws_frame(true, 1, None, b"small");
    sv.extend(ws_frame(true, 1, None, &big));
    sv.extend(ws_frame(true, 1, None, b"after"));
    for (i, chunk) in sv.chunks(60_000).enumerate() {
        s.s(so + i * 60_000, chunk);
    }
    let (ex, _, _) = run_policy(&whole(&s.frames), BodyPolicy::Analysis);
    let ws = &ex[0].websocket;
    assert_eq!(ws.len(), 3);
    assert_eq!(ws[0].data, b"small");
    assert!(ws[1].data.is_empty() && ws[2].data.is_empty());
    let n = ex[0].notes.iter().find(|n| n.code == "websocket.omitted").expect("omitted note");
    assert!(n.message.starts_with("the payloads of 2 "), "{}", n.message);
}

#[test]
fn websocket_fragmented_message_growth_is_capped() {
    // Regression: continuation frames were joined without limit.
    let mut s = Sim::new();
    let (_, so) = ws_upgrade(&mut s);
    let mb = vec![b'z'; 1 << 20];
    let mut sv = ws_frame(false, 2, None, &mb);
    for _ in 0..17 {
        sv.extend(ws_frame(false, 0, None, &mb));
    }
    for (i, chunk) in sv.chunks(65_000).enumerate() {
        s.s(so + i * 65_000, chunk);
    }
    let (ex, notes, _) = run_policy(&whole(&s.frames), BodyPolicy::None);
    assert!(ex[0].websocket.is_empty());
    assert!(
        ex[0].notes.iter().any(|n| n.code == "websocket.bad_frame" && n.message.contains("16 MiB")),
        "{:?}",
        ex[0].notes
    );
    assert!(notes.iter().any(|n| n.code == "websocket.bad_frame"));
}

// -- IP fragments, pcapng blocks, snapshot length --

/// Cut one Ethernet/IPv4 frame into IPv4 fragments: (offset in 8-byte units, more, bytes of the
/// IP payload).
fn fragments(f: &[u8], parts: &[(usize, usize, bool)]) -> Vec<Vec<u8>> {
    let ip = &f[14..];
    let payload = &ip[20..];
    parts
        .iter()
        .map(|&(from, to, more)| {
            let mut h = ip[..20].to_vec();
            let total = (20 + to - from) as u16;
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h[4..6].copy_from_slice(&0x4242u16.to_be_bytes());
            let fl = (from / 8) as u16 | if more { 0x2000 } else { 0 };
            h[6..8].copy_from_slice(&fl.to_be_bytes());
            let mut out = f[..14].to_vec();
            out.extend(h);
            out.extend_from_slice(&payload[from..to]);
            out
        })
        .collect()
}

#[test]
fn ipv4_fragments_out_of_order_overlapping_and_duplicated() {
    let mut s = Sim::new();
    s.c(0, b"GET /frag HTTP/1.1\r\nHost: h\r\nX-Pad: 0123456789abcdef0123456789abcdef\r\n\r\n");
    let req = s.frames.pop().unwrap();
    let plen = req.len() - 34;
    // Three fragments sent last first; the middle one overlaps both neighbours and comes twice.
    let fr = fragments(&req, &[(0, 32, true), (24, 56, true), (48, plen, false)]);
    s.frames.extend([fr[2].clone(), fr[1].clone(), fr[1].clone(), fr[0].clone()]);
    s.s(0, OK2);
    let (ex, notes, _) = run_policy(&whole(&s.frames), BodyPolicy::All);
    assert_eq!(ex.len(), 1, "{notes:?}");
    assert_eq!(ex[0].path(), "/frag");
    assert_eq!(ex[0].request.headers.get("x-pad"), Some("0123456789abcdef0123456789abcdef"));
    assert_eq!(ex[0].status(), Some(200));
    assert_eq!(ex[0].origin.request_frame, Some(7), "the frame that completed the datagram");
    assert!(!notes.iter().any(|n| n.code == "pcap.ip_fragments"));
}

#[test]
fn a_flood_of_duplicate_fragments_is_dropped_not_kept() {
    let mut s = Sim::new();
    s.c(0, b"GET /dup HTTP/1.1\r\nHost: h\r\n\r\n");
    let req = s.frames.pop().unwrap();
    let fr = fragments(&req, &[(0, 16, true)]);
    let mut frames = whole(&s.frames);
    for _ in 0..10_000 {
        frames.push((fr[0].clone(), fr[0].len() as u32));
    }
    let (ex, notes, _) = run_policy(&frames, BodyPolicy::All);
    assert!(ex.is_empty());
    assert!(notes.iter().any(|n| n.code == "pcap.ip_fragments"), "{notes:?}");
}

#[test]
fn pcapng_statistics_and_name_resolution_blocks_are_skipped() {
    let (req, resp) = http_pair();
    let eth = |ip: &[u8]| {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(ip);
        f
    };
    let mut f = shb(false);
    f.extend(idb(false, 1, None));
    // Name Resolution Block: one IPv4 record (10.0.0.2 = api.example), then end of records.
    let mut nrb = Vec::new();
    let rec = [&[10u8, 0, 0, 2][..], b"api.example\0"].concat();
    nrb.extend_from_slice(&1u16.to_le_bytes());
    nrb.extend_from_slice(&(rec.len() as u16).to_le_bytes());
    nrb.extend_from_slice(&rec);
    nrb.extend(std::iter::repeat_n(0u8, (4 - rec.len() % 4) % 4));
    nrb.extend_from_slice(&[0, 0, 0, 0]);
    f.extend(block(false, 4, &nrb));
    f.extend(epb(false, 0, 1_700_000_000_000_000, &eth(&req)));
    // Interface Statistics Block with an isb_ifrecv option.
    let mut isb = Vec::new();
    isb.extend_from_slice(&0u32.to_le_bytes());
    isb.extend_from_slice(&0u32.to_le_bytes());
    isb.extend_from_slice(&0u32.to_le_bytes());
    isb.extend_from_slice(&4u16.to_le_bytes());
    isb.extend_from_slice(&8u16.to_le_bytes());
    isb.extend_from_slice(&2u64.to_le_bytes());
    isb.extend_from_slice(&[0, 0, 0, 0]);
    f.extend(block(false, 5, &isb));
    f.extend(epb(false, 0, 1_700_000_000_500_000, &eth(&resp)));
    let (r, ex, notes) = read_all(f, Format::Pcapng);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(ex.len(), 1, "{notes:?}");
    assert_eq!((ex[0].origin.request_frame, ex[0].origin.response_frame), (Some(1), Some(2)));
    assert!(!notes.iter().any(|n| n.code == "pcapng.bad_block"), "{notes:?}");
}

#[test]
fn snaplen_cut_frames_are_gaps_at_once() {
    // The response body's middle segment was cut by the snapshot length. Regression: the bytes
    // after it waited (up to 4 MiB per direction) until the connection ended.
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n012345678901234567890123456789";
    let head = resp.len() - 30;
    let mut s = Sim::new();
    let req1 = b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
    s.c(0, req1).s(0, &resp[..head + 10]).s(head + 10, &resp[head + 10..head + 20]);
    s.s(head + 20, &resp[head + 20..]);
    s.c(req1.len(), b"GET /2 HTTP/1.1\r\nHost: h\r\n\r\n").s(resp.len(), OK2);
    let mut frames = whole(&s.frames);
    // Frame 6 holds 10 payload bytes; keep 4 of them.
    let (f, orig) = &mut frames[5];
    f.truncate(f.len() - 6);
    let _ = orig;
    let (ex, notes, before_flush) = run_policy(&frames, BodyPolicy::All);
    assert_eq!(ex.len(), 2, "{notes:?}");
    assert_eq!(before_flush, 2, "both exchanges are complete before the connection ends");
    let b = ex[0].response.as_ref().unwrap().body.as_ref().unwrap();
    assert!(b.omitted);
    assert_eq!(b.size(), 30);
    assert!(has(&ex[0], "pcap.tcp_gap"));
    assert_eq!(body(&ex[1].response.as_ref().unwrap().body), "ok");
    assert!(notes.iter().any(|n| n.code == "pcap.snaplen"));
    assert!(notes.iter().any(|n| n.code == "pcap.tcp_gap" && n.message.contains("6 bytes")), "{notes:?}");
}

fn hpack_int(prefix_bits: u8, first: u8, mut v: usize) -> Vec<u8> {
    let max = (1usize << prefix_bits) - 1;
    if v < max {
        return vec![first | v as u8];
    }
    let mut out = vec![first | max as u8];
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
    out
}

#[test]
fn http2_a_block_repeating_a_huge_table_entry_is_capped() {
    use super::http2::MAX_HEADER_LIST;
    let mut h = H2Sim::new();
    // Table size 1 MiB, one 200 KB entry, then 3000 one-byte references to it: 600 MB decoded.
    let mut block = hpack_int(5, 0x20, 1 << 20);
    block.extend([0x82, 0x86, 0x84]);
    block.push(0x40);
    block.extend(hpack_int(7, 0, 5));
    block.extend(b"x-big");
    block.extend(hpack_int(7, 0, 200_000));
    block.extend(std::iter::repeat_n(b'a', 200_000));
    block.extend(std::iter::repeat_n(0xbe, 3000));
    let frame = h2f(1, 0x5, 1, &block);
    for chunk in frame.chunks(60_000) {
        h.c(chunk);
    }
    let b = h.resp_block("200");
    h.s(&h2f(1, 0x5, 1, &b));
    let (ex, _, _) = run_policy(&whole(&h.sim.frames), BodyPolicy::All);
    assert_eq!(ex.len(), 1);
    let req = &ex[0].request;
    let kept: usize = req.headers.0.iter().map(|x| x.name.len() + x.value.len() + 32).sum();
    assert!(kept <= MAX_HEADER_LIST, "{kept}");
    assert_eq!(req.method, "GET");
    assert!(has(&ex[0], "http2.header_list"), "{:?}", ex[0].notes);
    assert_eq!(ex[0].response.as_ref().map(|r| r.status), Some(200), "the table stayed in step");
}
