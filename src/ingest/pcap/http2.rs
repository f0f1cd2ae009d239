//! HTTP/2 cleartext (h2c): prior knowledge (the client preface, on any port) and the HTTP/1.1
//! `Upgrade: h2c` handshake, whose request becomes stream 1.
//!
//! Frames are read per direction; header blocks (HEADERS or PUSH_PROMISE plus CONTINUATION) are
//! decoded with `loona-hpack`, one decoder per direction as the protocol requires. Each stream
//! is one exchange, emitted when its response ends (END_STREAM or RST_STREAM) or when the
//! connection is flushed. After a gap in a direction its frames cannot be found again, so that
//! direction stops being read (the streams keep what was seen).

use super::stream::{ms, origin, time, Io, Meta, Pending, Step};
use crate::ingest::http1::BodyAcc;
use crate::model::{Exchange, Headers, Note, Request, Response};
use std::collections::BTreeMap;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Streams of one connection waiting for their end, at most (servers allow 100 to 250 at once).
pub const MAX_STREAMS: usize = 1024;
/// Largest decoded header list kept per header block, counted as RFC 9113 §6.5.2 does (name +
/// value + 32 per field), as large as the HTTP/1 reader's head limit. HPACK lets a few bytes
/// name a large table entry again and again, so a small block can decode to gigabytes; fields
/// past the cap are decoded (the table must stay in step) but not kept.
pub const MAX_HEADER_LIST: usize = 256 * 1024;

struct Block {
    stream: u32,
    end_stream: bool,
    promised: Option<u32>,
    data: Vec<u8>,
    meta: Meta,
}

struct Dir {
    dec: loona_hpack::Decoder<'static>,
    block: Option<Block>,
    dead: bool,
}

impl Dir {
    fn new() -> Self {
        let mut dec = loona_hpack::Decoder::new();
        dec.set_max_allowed_table_size(1 << 20);
        Dir { dec, block: None, dead: false }
    }
}

#[derive(Default)]
struct Stream {
    request: Option<Request>,
    req_meta: Option<Meta>,
    req_body: BodyAcc,
    resp: Option<Response>,
    resp_meta: Option<Meta>,
    resp_body: BodyAcc,
    resp_end: bool,
    last: Meta,
    notes: Vec<Note>,
}

/// HTTP/2 state of one connection.
pub struct H2 {
    dirs: [Dir; 2],
    streams: BTreeMap<u32, Stream>,
    preface_pending: bool,
}

fn too_many_headers(dropped: usize) -> Note {
    Note::warning(
        "http2.header_list",
        format!(
            "the stream's header fields decoded to more than {} KiB; {dropped} field(s) past that were dropped",
            MAX_HEADER_LIST / 1024
        ),
    )
}

fn headers(list: Vec<(Vec<u8>, Vec<u8>)>) -> Headers {
    let mut h = Headers::new();
    for (n, v) in list {
        h.push(String::from_utf8_lossy(&n).into_owned(), String::from_utf8_lossy(&v).into_owned());
    }
    h
}

impl H2 {
    /// `preface`: the client's bytes start with the connection preface.
    pub fn new(preface: bool) -> Self {
        H2 { dirs: [Dir::new(), Dir::new()], streams: BTreeMap::new(), preface_pending: preface }
    }

    /// After `101 Switching Protocols` to h2c: the HTTP/1.1 request is stream 1.
    pub fn upgraded(p: Pending) -> Self {
        let mut h = H2::new(true);
        let resp101 = p.resp.as_ref().map(|r| r.1.frame);
        let mut notes = p.notes;
        notes.push(Note::info(
            "http2.h2c_upgrade",
            format!(
                "HTTP/1.1 request upgraded to HTTP/2 (h2c){}; its response is stream 1",
                resp101.map(|f| format!(": 101 Switching Protocols in frame {f}")).unwrap_or_default()
            ),
        ));
        let s = Stream {
            request: Some(p.request),
            req_meta: Some(p.req_meta),
            last: p.req_meta,
            notes,
            ..Default::default()
        };
        h.streams.insert(1, s);
        h
    }

    pub fn step(&mut self, io: &mut Io<'_>) -> Step {
        if self.frame_unit(io, true) || self.frame_unit(io, false) {
            Step::Progress
        } else {
            Step::Idle
        }
    }

    fn frame_unit(&mut self, io: &mut Io<'_>, client: bool) -> bool {
        let h = if client { &mut *io.cl } else { &mut *io.sv };
        let di = usize::from(!client);
        if self.dirs[di].dead {
            if !h.data().is_empty() {
                h.clear();
            }
            return false;
        }
        let d = h.data();
        if client && self.preface_pending {
            if d.len() < PREFACE.len() {
                if !PREFACE.starts_with(d) {
                    self.dirs[di].dead = true;
                    return true;
                }
                return false;
            }
            if d.starts_with(PREFACE) {
                h.consume(PREFACE.len());
                self.preface_pending = false;
            } else {
                self.dirs[di].dead = true;
            }
            return true;
        }
        if d.len() < 9 {
            return false;
        }
        let len = (usize::from(d[0]) << 16) | (usize::from(d[1]) << 8) | usize::from(d[2]);
        if d.len() < 9 + len {
            return false;
        }
        let typ = d[3];
        let flags = d[4];
        let sid = u32::from_be_bytes([d[5], d[6], d[7], d[8]]) & 0x7fff_ffff;
        let meta = h.meta();
        let last = h.meta_plus(9 + len - 1);
        let payload = &d[9..9 + len];
        self.frame(io.out, client, typ, flags, sid, payload, meta, last, io_info(io.info));
        let h = if client { &mut *io.cl } else { &mut *io.sv };
        h.consume(9 + len);
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn frame(
        &mut self,
        out: &mut super::stream::Out,
        client: bool,
        typ: u8,
        flags: u8,
        sid: u32,
        payload: &[u8],
        meta: Meta,
        last: Meta,
        info: Conn3,
    ) {
        let di = usize::from(!client);
        // A header block in progress must be continued before anything else (RFC 9113 §6.10).
        // A block that is not (another frame type, or a CONTINUATION of another stream) is lost,
        // and with it the HPACK table updates it carried: later blocks of this direction would
        // decode to wrong headers, so the direction is no longer read.
        let interrupted = match &self.dirs[di].block {
            Some(b) => typ != 9 || b.stream != sid,
            None => false,
        };
        if interrupted {
            if let Some(b) = self.dirs[di].block.take() {
                self.dirs[di].dead = true;
                out.stats.h2_errors += 1;
                self.note_stream(
                    b.stream,
                    Note::warning(
                        "http2.continuation",
                        format!(
                            "the header block of stream {} was interrupted by a frame of type {typ} on stream {sid}; it was dropped and this direction is no longer read (its HPACK state is lost)",
                            b.stream
                        ),
                    ),
                );
            }
            return;
        }
        let unpad = |p: &[u8]| -> Option<(usize, usize)> {
            if flags & 0x8 != 0 {
                let pad = usize::from(*p.first()?);
                if 1 + pad > p.len() {
                    return None;
                }
                Some((1, p.len() - pad))
            } else {
                Some((0, p.len()))
            }
        };
        match typ {
            0 => {
                let Some((a, b)) = unpad(payload) else { return };
                let Some(s) = self.streams.get_mut(&sid) else { return };
                s.last = last;
                if client {
                    s.req_body.push(&payload[a..b], &out.opts);
                } else {
                    s.resp_body.push(&payload[a..b], &out.opts);
                    if flags & 0x1 != 0 {
                        s.resp_end = true;
                    }
                }
            }
            1 | 5 => {
                let Some((mut a, b)) = unpad(payload) else { return };
                let mut promised = None;
                if typ == 1 && flags & 0x20 != 0 {
                    a += 5;
                }
                if typ == 5 {
                    let Some(p) = payload.get(a..a + 4) else { return };
                    promised = Some(u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff);
                    a += 4;
                }
                let Some(frag) = payload.get(a..b) else { return };
                let block = Block {
                    stream: sid,
                    end_stream: typ == 1 && flags & 0x1 != 0,
                    promised,
                    data: frag.to_vec(),
                    meta,
                };
                if flags & 0x4 != 0 {
                    self.header_block(out, client, block, last, &info);
                } else {
                    self.dirs[di].block = Some(block);
                }
            }
            9 => {
                let Some(mut block) = self.dirs[di].block.take() else { return };
                block.data.extend_from_slice(payload);
                if block.data.len() > 1 << 20 {
                    self.dirs[di].dead = true;
                    out.stats.h2_errors += 1;
                    self.note_stream(
                        sid,
                        Note::warning(
                            "http2.continuation",
                            "a header block over 1 MiB was dropped; this direction is no longer read",
                        ),
                    );
                    return;
                }
                if flags & 0x4 != 0 {
                    self.header_block(out, client, block, last, &info);
                } else {
                    self.dirs[di].block = Some(block);
                }
            }
            3 => {
                let code = payload.get(0..4).map(|p| u32::from_be_bytes([p[0], p[1], p[2], p[3]])).unwrap_or(0);
                let Some(s) = self.streams.get_mut(&sid) else { return };
                s.last = last;
                s.resp_end = true;
                s.notes.push(Note::warning(
                    "http2.rst_stream",
                    format!("the {} reset the stream (error code {code})", if client { "client" } else { "server" }),
                ));
            }
            7 if !client => {
                // GOAWAY: streams above the last one the server processed were refused.
                let last_sid =
                    payload.get(0..4).map(|p| u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff).unwrap_or(0);
                let code = payload.get(4..8).map(|p| u32::from_be_bytes([p[0], p[1], p[2], p[3]])).unwrap_or(0);
                for (_, s) in self.streams.range_mut(last_sid.saturating_add(1)..) {
                    if s.resp.is_none() {
                        s.notes.push(Note::warning(
                            "http2.goaway",
                            format!("the server closed the connection (GOAWAY, error code {code}) without processing this stream (last stream it processed: {last_sid})"),
                        ));
                    }
                }
            }
            _ => {}
        }
        if self.streams.get(&sid).is_some_and(|s| s.resp_end) {
            if let Some(s) = self.streams.remove(&sid) {
                out.exchanges.push(build(sid, s, &info));
            }
        }
    }

    /// Keep at most [`MAX_STREAMS`] streams waiting: beyond, the oldest (lowest id) is emitted as
    /// it is. Without this a capture of one direction only would keep every stream of a long
    /// connection until it ends.
    fn cap_streams(&mut self, out: &mut super::stream::Out, info: &Conn3) {
        while self.streams.len() > MAX_STREAMS {
            let Some((sid, mut s)) = self.streams.pop_first() else { break };
            s.notes.push(Note::warning(
                if s.resp.is_none() { "pcap.no_response" } else { "http.truncated" },
                format!(
                    "more than {MAX_STREAMS} streams of this connection were waiting for their end; this one, the oldest, was emitted as it was (was only one direction captured?)"
                ),
            ));
            out.exchanges.push(build(sid, s, info));
        }
    }

    fn note_stream(&mut self, sid: u32, n: Note) {
        if let Some(s) = self.streams.get_mut(&sid) {
            s.notes.push(n);
        }
    }

    fn header_block(&mut self, out: &mut super::stream::Out, client: bool, b: Block, last: Meta, info: &Conn3) {
        let di = usize::from(!client);
        let mut list: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let (mut size, mut dropped) = (0usize, 0usize);
        let decoded = self.dirs[di].dec.decode_with_cb(&b.data, |n, v| {
            size = size.saturating_add(n.len() + v.len() + 32);
            if size <= MAX_HEADER_LIST {
                list.push((n.into_owned(), v.into_owned()));
            } else {
                dropped += 1;
            }
        });
        let mut cap_note = (dropped > 0).then(|| too_many_headers(dropped));
        let list = match decoded {
            Ok(()) => list,
            Err(e) => {
                self.dirs[di].dead = true;
                out.stats.h2_errors += 1;
                self.note_stream(
                    b.stream,
                    Note::warning(
                        "http2.hpack",
                        format!("header block could not be decoded ({e:?}); this direction is no longer read"),
                    ),
                );
                return;
            }
        };
        let h = headers(list);
        if let Some(p) = b.promised {
            // A server push: the promised request.
            let s = self.streams.entry(p).or_default();
            s.request = Some(request(h, info));
            s.req_meta = Some(b.meta);
            s.last = last;
            s.notes.push(Note::info("http2.push", format!("pushed by the server on stream {}", b.stream)));
            self.cap_streams(out, info);
            return;
        }
        let s = self.streams.entry(b.stream).or_default();
        s.last = last;
        s.notes.extend(cap_note.take());
        let mut more = |r: &mut Headers, h: Headers| {
            // Trailers and repeated blocks: the stream's whole list stays under the cap too.
            let mut size: usize = r.0.iter().map(|x| x.name.len() + x.value.len() + 32).sum();
            let mut dropped = 0;
            for x in h.0 {
                size += x.name.len() + x.value.len() + 32;
                if size <= MAX_HEADER_LIST {
                    r.0.push(x);
                } else {
                    dropped += 1;
                }
            }
            if dropped > 0 {
                cap_note = Some(too_many_headers(dropped));
            }
        };
        if client {
            match &mut s.request {
                None => {
                    s.request = Some(request(h, info));
                    s.req_meta = Some(b.meta);
                }
                Some(r) => more(&mut r.headers, h),
            }
        } else {
            let status = h.get(":status").and_then(|v| v.trim().parse::<u16>().ok()).unwrap_or(0);
            match &mut s.resp {
                None if (100..200).contains(&status) => {
                    s.notes.push(Note::info("http.interim", format!("interim response {status} came first")));
                }
                None => {
                    s.resp = Some(Response {
                        status,
                        reason: String::new(),
                        http_version: "HTTP/2".to_string(),
                        headers: h,
                        body: None,
                    });
                    s.resp_meta = Some(b.meta);
                    if let Some(ct) = s.resp.as_ref().and_then(|r| r.headers.get("content-type")) {
                        s.resp_body = BodyAcc::new(Some(ct));
                    }
                }
                Some(r) => more(&mut r.headers, h),
            }
            if b.end_stream {
                s.resp_end = true;
            }
        }
        s.notes.extend(cap_note);
        if client {
            if let Some(ct) = s.request.as_ref().and_then(|r| r.headers.get("content-type")).map(str::to_string) {
                if s.req_body.is_empty() {
                    s.req_body = BodyAcc::new(Some(&ct));
                }
            }
        }
        self.cap_streams(out, info);
    }

    pub fn gap(&mut self, _io: &mut Io<'_>, client: bool) {
        let di = usize::from(!client);
        self.dirs[di].dead = true;
        for s in self.streams.values_mut() {
            if !s.resp_end {
                s.notes.push(Note::warning(
                    "pcap.tcp_gap",
                    "bytes of this HTTP/2 connection were never captured; later frames were not read",
                ));
            }
        }
    }

    pub fn finish(&mut self, io: &mut Io<'_>) {
        let info = io_info(io.info);
        for (sid, mut s) in std::mem::take(&mut self.streams) {
            if s.request.is_none() && s.resp.is_none() {
                continue;
            }
            if s.resp.is_none() {
                s.notes.push(Note::info("pcap.no_response", "no response was captured for this request"));
            } else if !s.resp_end {
                s.notes.push(Note::warning(
                    "http.truncated",
                    "the response was cut off by the end of the connection or capture",
                ));
            }
            io.out.exchanges.push(build(sid, s, &info));
        }
    }
}

/// The connection facts an exchange needs (copied so frames can be handled while the halves
/// are borrowed).
struct Conn3 {
    id: String,
    client: String,
    server: String,
}

fn io_info(i: &super::stream::Info) -> Conn3 {
    Conn3 { id: i.id.clone(), client: i.client.clone(), server: i.server.clone() }
}

fn request(h: Headers, info: &Conn3) -> Request {
    let method = h.get(":method").unwrap_or("").to_string();
    let authority = h.get(":authority").or_else(|| h.get("host")).unwrap_or(&info.server).to_string();
    let path = h.get(":path").unwrap_or("/").to_string();
    Request {
        method,
        url: format!("http://{authority}{path}"),
        http_version: "HTTP/2".to_string(),
        headers: h,
        body: None,
    }
}

fn build(sid: u32, s: Stream, info: &Conn3) -> Exchange {
    let mut notes = s.notes;
    let mut req = s.request.unwrap_or_else(|| {
        notes.push(Note::warning("pcap.response_without_request", "a response whose request was not captured"));
        Request {
            method: String::new(),
            url: format!("http://{}/", info.server),
            http_version: "HTTP/2".into(),
            headers: Headers::new(),
            body: None,
        }
    });
    if req.body.is_none() {
        req.body = s.req_body.finish().map(Box::new);
    }
    let req_meta = s.req_meta.or(s.resp_meta).unwrap_or_default();
    let mut ex = Exchange::new(origin(s.req_meta, s.resp_meta), time(req_meta.ts), req);
    if let Some(mut r) = s.resp {
        r.body = s.resp_body.finish().map(Box::new);
        ex.response = Some(r);
        ex.duration_ms = Some(ms(req_meta.ts, s.last.ts));
    }
    ex.stream = Some(u64::from(sid));
    ex.server = Some(info.server.clone());
    ex.client = Some(info.client.clone());
    ex.connection = Some(info.id.clone());
    ex.notes = notes;
    ex
}
