//! The stream types every layer of the packet pipeline shares: frame metadata, the output
//! side, one direction of a TCP connection ([`Half`]), what a parser works with ([`Io`]) and
//! returns ([`Step`], [`Next`]), and a request waiting for its answer ([`Pending`]).
//!
//! Dependencies go one way: [`super::tcp`] drives the parsers ([`super::http1`],
//! [`super::http2`], [`super::websocket`]), and all of them use this module, which uses none of
//! them.

use crate::model::{Exchange, Note, Origin, Request, Response};
use std::collections::{BTreeMap, VecDeque};

/// Buffer capacity a direction keeps once everything in it was parsed.
pub(super) const KEEP_CAPACITY: usize = 2 << 10;

/// The network-layer packet of a frame.
#[derive(Debug, Clone, Copy)]
pub enum L3<'a> {
    V4(&'a [u8]),
    V6(&'a [u8]),
}

/// Where and when a frame was captured: its 1-based frame number and its time (ns since epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Meta {
    pub frame: u64,
    pub ts: i64,
}

/// Counters of what was skipped or repaired, reported as notes at the end of an input.
#[derive(Debug, Default)]
pub struct Stats {
    pub frames: u64,
    pub unsupported_links: BTreeMap<u32, u64>,
    pub snaplen_cut: u64,
    pub bad_packets: u64,
    pub non_tcp: u64,
    pub frag_incomplete: u64,
    pub ipv6_fragments: u64,
    pub tls_connections: u64,
    pub tls_names: std::collections::BTreeSet<String>,
    pub tls_no_sni: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub midstream: u64,
    pub ignored_connections: u64,
    pub unknown_interface: u64,
    pub h2_errors: u64,
    pub ws_errors: u64,
    /// Frames per link type.
    pub links: BTreeMap<u32, u64>,
    /// Frames unwrapped per encapsulation (GRE, ERSPAN, VXLAN...).
    pub tunnels: BTreeMap<&'static str, u64>,
    /// Packets per IP protocol other than TCP (and UDP destination port), at most 16 kinds.
    pub other_protocols: BTreeMap<(u8, Option<u16>), u64>,
}

/// The output side shared by every layer: finished exchanges waiting to be emitted, the reading
/// options, and the counters.
pub struct Out {
    pub exchanges: Vec<Exchange>,
    pub opts: crate::ingest::IngestOptions,
    pub stats: Stats,
}

/// One direction of a connection: reassembly state plus the delivered, not yet parsed bytes.
#[derive(Default)]
pub struct Half {
    pub(super) isn: Option<u32>,
    /// Stream offset of the next byte expected.
    pub(super) next: u64,
    pub(super) pending: BTreeMap<u64, (Vec<u8>, Meta)>,
    pub(super) pending_bytes: usize,
    pub fin: bool,
    /// Data from here on is dropped (the connection is not parsed).
    pub ignore: bool,
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
    /// Stream offset of `buf[0]`.
    pub(super) base: u64,
    /// Stream offset at which each delivered segment starts, with its frame.
    pub(super) marks: VecDeque<(u64, Meta)>,
    /// Whether any payload was seen.
    pub seen: bool,
}

impl Half {
    /// The delivered bytes not yet consumed by the parser.
    pub fn data(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }
    /// Stream offset of the first unconsumed byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }
    /// Mark `n` bytes as parsed.
    pub fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
        if self.pos == self.buf.len() {
            self.base += self.buf.len() as u64;
            if self.buf.capacity() > KEEP_CAPACITY {
                // A burst (a large body, many pipelined messages) is over: do not keep its
                // memory for the rest of a connection that may stay open for minutes.
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
            self.pos = 0;
        } else if self.pos > 64 * 1024 && self.pos * 2 > self.buf.len() {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        let off = self.offset();
        while self.marks.len() > 1 && self.marks.get(1).is_some_and(|m| m.0 <= off) {
            self.marks.pop_front();
        }
    }
    /// Drop every unconsumed byte.
    pub fn clear(&mut self) {
        let n = self.data().len();
        self.consume(n);
    }
    /// The frame that carried the byte at stream offset `off`.
    pub fn meta_at(&self, off: u64) -> Meta {
        let i = self.marks.partition_point(|m| m.0 <= off);
        match i.checked_sub(1).and_then(|i| self.marks.get(i)) {
            Some(m) => m.1,
            None => self.marks.front().map(|m| m.1).unwrap_or_default(),
        }
    }
    /// The frame of the first unconsumed byte.
    pub fn meta(&self) -> Meta {
        self.meta_at(self.offset())
    }
    /// The frame of the byte `n` bytes past the first unconsumed one.
    pub fn meta_plus(&self, n: usize) -> Meta {
        self.meta_at(self.offset() + n as u64)
    }

    pub(super) fn deliver(&mut self, data: &[u8], meta: Meta) {
        if data.is_empty() {
            return;
        }
        if self.ignore {
            self.next += data.len() as u64;
            self.base = self.next;
            return;
        }
        if self.buf.is_empty() {
            self.base = self.next;
            self.pos = 0;
        }
        self.marks.push_back((self.next, meta));
        self.buf.extend_from_slice(data);
        self.next += data.len() as u64;
    }

    pub(super) fn drain_pending(&mut self) {
        while let Some((&k, _)) = self.pending.first_key_value() {
            if k > self.next {
                break;
            }
            let Some((data, meta)) = self.pending.remove(&k) else { break };
            self.pending_bytes = self.pending_bytes.saturating_sub(data.len());
            let skip = usize::try_from(self.next - k).unwrap_or(usize::MAX);
            if skip < data.len() {
                self.deliver(&data[skip..], meta);
            }
        }
    }

    /// Add a segment's payload at sequence number `seq`. Returns the stream offset just past it
    /// when any of it was new.
    pub fn insert(&mut self, seq: u32, data: &[u8], meta: Meta) -> Option<u64> {
        self.seen = true;
        let isn = *self.isn.get_or_insert(seq);
        let expected = isn.wrapping_add(self.next as u32);
        let delta = i64::from(seq.wrapping_sub(expected) as i32);
        let mut off = i64::try_from(self.next).unwrap_or(i64::MAX).saturating_add(delta);
        let mut data = data;
        let next = i64::try_from(self.next).unwrap_or(i64::MAX);
        if off < next {
            let trim = usize::try_from(next - off).unwrap_or(usize::MAX);
            if trim >= data.len() {
                return None; // retransmission of delivered bytes
            }
            data = &data[trim..];
            off = next;
        }
        let off = off as u64;
        if off == self.next {
            self.deliver(data, meta);
            self.drain_pending();
        } else if !self.ignore {
            let keep = match self.pending.get(&off) {
                Some((old, _)) => old.len() < data.len(),
                None => true,
            };
            if keep {
                if let Some((old, _)) = self.pending.insert(off, (data.to_vec(), meta)) {
                    self.pending_bytes = self.pending_bytes.saturating_sub(old.len());
                }
                self.pending_bytes += data.len();
            }
        }
        Some(off + data.len() as u64)
    }

    /// Skip to stream offset `to`, past bytes known to be lost.
    pub(super) fn skip_to(&mut self, to: u64) {
        if to <= self.next {
            return;
        }
        self.clear();
        self.next = to;
        self.base = to;
        self.buf.clear();
        self.pos = 0;
        self.marks.clear();
        // Segments that waited inside the skipped range are partly new; keep their tails.
        while let Some((&k, _)) = self.pending.first_key_value() {
            if k >= to {
                break;
            }
            let Some((data, meta)) = self.pending.remove(&k) else { break };
            self.pending_bytes = self.pending_bytes.saturating_sub(data.len());
            let skip = usize::try_from(to - k).unwrap_or(usize::MAX);
            if skip < data.len() {
                self.pending.insert(to, (data[skip..].to_vec(), meta));
                self.pending_bytes += data.len() - skip;
            }
        }
        self.drain_pending();
    }

    /// Skip to the first waiting segment; returns the gap length (0 if nothing waits).
    pub(super) fn skip_gap(&mut self) -> u64 {
        let Some((&k, _)) = self.pending.first_key_value() else { return 0 };
        let gap = k.saturating_sub(self.next);
        self.clear();
        self.next = k;
        self.base = k;
        self.buf.clear();
        self.pos = 0;
        self.marks.clear();
        self.drain_pending();
        gap
    }
}

/// What a parser step did.
pub enum Step {
    /// Nothing more can be parsed until more bytes arrive.
    Idle,
    /// Something was parsed; call again.
    Progress,
    /// The connection switches protocol (upgrade, or given up); the TCP layer starts the
    /// parser [`Next`] names.
    Switch(Next),
}

/// The protocol a connection switches to. The parsers name it; [`super::tcp`] builds it, so
/// that no parser depends on another or on the TCP layer.
pub enum Next {
    /// Not decided yet.
    Unknown,
    /// Not parsed (TLS, not HTTP, given up).
    Ignore,
    /// HTTP/1; `midstream` when the connection's start was not captured.
    Http1 { midstream: bool },
    /// HTTP/2 with prior knowledge (the client preface).
    Http2Preface,
    /// HTTP/2 after `Upgrade: h2c`; the upgrade request becomes stream 1.
    Http2Upgrade(Box<Pending>),
    /// Websocket frames after a 101 answer to the upgrade request.
    WebSocket(Box<Pending>),
}

/// Who is who on a connection, as shown in exchanges.
#[derive(Debug, Clone, Default)]
pub struct Info {
    pub id: String,
    pub client: String,
    pub server: String,
    /// Whether the capture started after the connection did.
    pub midstream: bool,
}

/// What a parser works with: the client and server halves, the connection, the output.
pub struct Io<'a> {
    pub cl: &'a mut Half,
    pub sv: &'a mut Half,
    pub info: &'a Info,
    pub out: &'a mut Out,
}

/// A request and what is known of its answer.
pub struct Pending {
    pub method: String,
    pub request: Request,
    pub req_meta: Meta,
    pub done: bool,
    /// The protocol asked for in `Upgrade`, lower case.
    pub upgrade: Option<String>,
    pub resp: Option<(Response, Meta, Meta)>,
    pub notes: Vec<Note>,
}

/// Build the exchange of a request and its answer.
pub fn build(p: Pending, info: &Info) -> Exchange {
    let resp_meta = p.resp.as_ref().map(|r| r.1);
    let mut ex = Exchange::new(origin(Some(p.req_meta), resp_meta), time(p.req_meta.ts), p.request);
    if let Some((resp, _, last)) = p.resp {
        ex.duration_ms = Some(ms(p.req_meta.ts, last.ts));
        ex.response = Some(resp);
    }
    ex.server = Some(info.server.clone());
    ex.client = Some(info.client.clone());
    ex.connection = Some(info.id.clone());
    ex.notes = p.notes;
    if info.midstream && !ex.notes.iter().any(|n| n.code == "pcap.tcp_midstream") {
        ex.notes.push(Note::info("pcap.tcp_midstream", "the capture started after this connection opened"));
    }
    ex
}

/// Build an exchange skeleton shared by the HTTP/1 and HTTP/2 parsers.
pub fn origin(req: Option<Meta>, resp: Option<Meta>) -> Origin {
    Origin { input: 0, index: 0, request_frame: req.map(|m| m.frame), response_frame: resp.map(|m| m.frame) }
}

/// Nanoseconds since the epoch as a UTC time.
pub fn time(ts: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_nanos(ts)
}

/// Milliseconds between two packet times.
pub fn ms(from: i64, to: i64) -> f64 {
    (to.saturating_sub(from)) as f64 / 1e6
}
