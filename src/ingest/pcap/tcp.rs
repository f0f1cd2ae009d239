//! TCP reassembly: one [`Conn`] per connection, one [`Half`] per direction.
//!
//! Rules: a direction's byte stream starts after the SYN's sequence number (or, when the capture
//! starts mid-connection, at the first data segment seen). Bytes already delivered are dropped
//! (retransmissions), the new tail of an overlapping segment is kept (first copy wins), segments
//! ahead of the stream wait in order until the hole is filled. A hole that is never filled — the
//! connection ends, or more than [`MAX_PENDING`] bytes wait behind it — is a gap: the parser is
//! told, the `pcap.tcp_gap` note counts it, and reading goes on after it. A SYN with a new
//! sequence number on a known 4-tuple starts a new connection (port reuse). Connections are
//! flushed when closed (FIN both ways or RST, after [`LINGER_NS`]), when idle for [`IDLE_NS`],
//! and at the end of the input; at most [`MAX_CONNS`] are open at once.

use super::ip::{Seg, ACK, FIN, RST, SYN};
use super::stream::{Half, Info, Io, Meta, Next, Out, Step};
use super::{http1, http2, tls, websocket};
use std::collections::HashMap;
use std::net::IpAddr;

/// Bytes allowed to wait behind a hole before it is declared a gap.
pub const MAX_PENDING: usize = 4 << 20;
/// Unparsed bytes allowed in one direction before the parser is reset.
pub const MAX_BUFFER: usize = 32 << 20;
/// How long a closed connection stays open for late retransmissions.
pub const LINGER_NS: i64 = 5_000_000_000;
/// A connection silent this long is flushed.
pub const IDLE_NS: i64 = 300_000_000_000;
/// Open connections kept at most; beyond, the least recently active are flushed.
pub const MAX_CONNS: usize = 100_000;

pub type Addr = (IpAddr, u16);

/// The protocol parsed on a connection.
pub enum App {
    /// Not decided yet (no data seen, or too little to tell).
    Unknown,
    H1(Box<http1::H1>),
    H2(Box<http2::H2>),
    Ws(Box<websocket::Ws>),
    /// Not parsed (TLS, or not HTTP).
    Ignore,
}

/// One TCP connection.
pub struct Conn {
    addrs: [Addr; 2],
    halves: [Half; 2],
    client: Option<usize>,
    app: App,
    info: Info,
    last_ts: i64,
    closed_at: Option<i64>,
    syn_seen: bool,
}

fn show(a: &Addr) -> String {
    match a.0 {
        IpAddr::V4(ip) => format!("{ip}:{}", a.1),
        IpAddr::V6(ip) => format!("[{ip}]:{}", a.1),
    }
}

fn looks_client(b: &[u8]) -> bool {
    http1::looks_like_request(b) || b.starts_with(b"PRI * HTTP/2.0") || tls::is_client_hello(b)
}

impl Conn {
    fn new(n: u64, first: Addr, other: Addr, ts: i64) -> Self {
        Conn {
            addrs: [first, other],
            halves: [Half::default(), Half::default()],
            client: None,
            app: App::Unknown,
            info: Info { id: format!("tcp:{n}"), ..Info::default() },
            last_ts: ts,
            closed_at: None,
            syn_seen: false,
        }
    }

    fn set_client(&mut self, c: usize) {
        if self.client.is_none() {
            self.client = Some(c);
            self.info.client = show(&self.addrs[c]);
            self.info.server = show(&self.addrs[1 - c]);
        }
    }

    fn io(&mut self, c: usize, out: &mut Out, f: impl FnOnce(&mut App, &mut Io<'_>) -> Step) -> Step {
        let (a, b) = self.halves.split_at_mut(1);
        let (cl, sv) = if c == 0 { (&mut a[0], &mut b[0]) } else { (&mut b[0], &mut a[0]) };
        let mut io = Io { cl, sv, info: &self.info, out };
        f(&mut self.app, &mut io)
    }

    fn segment(&mut self, dir: usize, seg: &Seg<'_>, meta: Meta, out: &mut Out) {
        self.last_ts = meta.ts;
        let mut seq = seg.seq;
        if seg.flags & SYN != 0 {
            self.syn_seen = true;
            let h = &mut self.halves[dir];
            if !h.seen {
                h.isn = Some(seg.seq.wrapping_add(1));
            }
            seq = seg.seq.wrapping_add(1);
            if seg.flags & ACK == 0 {
                self.set_client(dir);
            } else {
                self.set_client(1 - dir);
            }
        }
        if !seg.payload.is_empty() || seg.missing > 0 {
            let end = self.halves[dir].insert(seq, seg.payload, meta);
            if seg.missing > 0 && end.is_some() && end == Some(self.halves[dir].next) {
                // The frame was cut by the snapshot length: its missing bytes will never come.
                // Skip them now rather than holding what follows until the connection ends.
                self.process(out);
                self.known_gap(dir, seg.missing as u64, out);
            }
            if self.halves[dir].pending_bytes > MAX_PENDING {
                self.process(out);
                self.gap(dir, out);
            }
        }
        if seg.flags & FIN != 0 {
            self.halves[dir].fin = true;
        }
        if seg.flags & RST != 0 || (self.halves[0].fin && self.halves[1].fin) {
            self.closed_at.get_or_insert(meta.ts);
        }
        self.process(out);
    }

    /// Skip the hole at the head of one direction, telling the parser.
    fn gap(&mut self, dir: usize, out: &mut Out) {
        if self.halves[dir].pending.is_empty() {
            return;
        }
        let Some(c) = self.client else {
            self.halves[dir].skip_gap();
            return;
        };
        // Let the parser see how many bytes are missing before the buffer is dropped.
        let missing = self.halves[dir]
            .pending
            .first_key_value()
            .map(|(k, _)| k.saturating_sub(self.halves[dir].next))
            .unwrap_or(0);
        self.tell_gap(dir, c, missing, out);
        self.halves[dir].skip_gap();
    }

    /// Count a gap of `missing` bytes in one direction and tell its parser (unless ignored).
    fn tell_gap(&mut self, dir: usize, client: usize, missing: u64, out: &mut Out) {
        if self.halves[dir].ignore {
            return;
        }
        out.stats.gaps += 1;
        out.stats.gap_bytes += missing;
        let is_client = dir == client;
        self.io(client, out, |app, io| {
            gap_app(app, io, is_client, missing);
            Step::Idle
        });
    }

    /// `missing` bytes right after what was delivered in one direction are known to be lost.
    fn known_gap(&mut self, dir: usize, missing: u64, out: &mut Out) {
        let to = self.halves[dir].next + missing;
        if let Some(c) = self.client {
            self.tell_gap(dir, c, missing, out);
        }
        self.halves[dir].skip_to(to);
    }

    fn decide_roles(&mut self) -> bool {
        if self.client.is_some() {
            return true;
        }
        let mut any = false;
        for d in 0..2 {
            let b = self.halves[d].data();
            if b.is_empty() {
                continue;
            }
            any = true;
            if looks_client(b) {
                self.set_client(d);
                return true;
            }
            if b.starts_with(b"HTTP/") {
                self.set_client(1 - d);
                return true;
            }
        }
        if !any {
            return false;
        }
        // Neither side says: the lower port is the server's.
        let c = if self.addrs[0].1 < self.addrs[1].1 { 1 } else { 0 };
        self.set_client(c);
        true
    }

    /// Parse whatever can be parsed.
    fn process(&mut self, out: &mut Out) {
        if !self.decide_roles() {
            return;
        }
        let Some(c) = self.client else { return };
        for _ in 0..1_000_000 {
            let syn = self.syn_seen;
            let step = self.io(c, out, |app, io| match app {
                App::Unknown => classify(io, syn),
                App::H1(h) => h.step(io),
                App::H2(h) => h.step(io),
                App::Ws(w) => w.step(io),
                App::Ignore => {
                    io.cl.clear();
                    io.sv.clear();
                    Step::Idle
                }
            });
            match step {
                Step::Idle => break,
                Step::Progress => {}
                Step::Switch(next) => {
                    let app = start(next, &self.info);
                    if let App::Ignore = app {
                        self.halves[0].ignore = true;
                        self.halves[1].ignore = true;
                    }
                    if let App::H1(_) | App::H2(_) = app {
                        if !self.syn_seen && !self.info.midstream {
                            self.info.midstream = true;
                            out.stats.midstream += 1;
                        }
                    }
                    self.app = app;
                }
            }
        }
        for d in 0..2 {
            if self.halves[d].data().len() > MAX_BUFFER {
                let is_client = d == c;
                self.io(c, out, |app, io| {
                    gap_app(app, io, is_client, 0);
                    Step::Idle
                });
                self.halves[d].clear();
            }
        }
    }

    /// The connection is over: fill nothing more, skip remaining holes, emit what is known.
    fn flush(mut self, out: &mut Out) {
        for _ in 0..4096 {
            if self.halves[0].pending.is_empty() && self.halves[1].pending.is_empty() {
                break;
            }
            self.process(out);
            for d in 0..2 {
                self.gap(d, out);
            }
        }
        self.process(out);
        let Some(c) = self.client else { return };
        let syn = self.syn_seen;
        self.io(c, out, |app, io| {
            if let App::Unknown = app {
                if let Step::Switch(next) = classify_final(io, syn) {
                    *app = start(next, io.info);
                    // Parse what is there now that the protocol is known.
                    for _ in 0..1_000_000 {
                        let s = match app {
                            App::H1(h) => h.step(io),
                            App::H2(h) => h.step(io),
                            _ => Step::Idle,
                        };
                        if !matches!(s, Step::Progress) {
                            break;
                        }
                    }
                }
            }
            match app {
                App::H1(h) => h.finish(io),
                App::H2(h) => h.finish(io),
                App::Ws(w) => w.finish(io),
                App::Unknown | App::Ignore => {}
            }
            Step::Idle
        });
    }
}

/// The parser a switch names.
fn start(next: Next, info: &Info) -> App {
    match next {
        Next::Unknown => App::Unknown,
        Next::Ignore => App::Ignore,
        Next::Http1 { midstream } => App::H1(Box::new(http1::H1::new(midstream))),
        Next::Http2Preface => App::H2(Box::new(http2::H2::new(true))),
        Next::Http2Upgrade(p) => App::H2(Box::new(http2::H2::upgraded(*p))),
        Next::WebSocket(p) => App::Ws(Box::new(websocket::Ws::new(*p, info))),
    }
}

fn gap_app(app: &mut App, io: &mut Io<'_>, is_client: bool, missing: u64) {
    match app {
        App::H1(h) => h.gap(io, is_client, missing),
        App::H2(h) => h.gap(io, is_client),
        App::Ws(w) => w.gap(io, is_client),
        App::Unknown | App::Ignore => {}
    }
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Decide the protocol from the first bytes.
fn classify(io: &mut Io<'_>, syn: bool) -> Step {
    let cd = io.cl.data();
    if cd.is_empty() && io.sv.data().is_empty() {
        return Step::Idle;
    }
    if cd.is_empty() && !io.sv.data().starts_with(b"HTTP/") {
        return Step::Idle; // the server spoke first (an HTTP/2 SETTINGS, a banner): wait for the client
    }
    if !cd.is_empty() {
        if cd.len() < PREFACE.len() && PREFACE.starts_with(cd) {
            return Step::Idle; // wait for the rest of the preface
        }
        if cd.len() < 6 && cd.first() == Some(&0x16) {
            return Step::Idle;
        }
    }
    classify_final(io, syn)
}

fn classify_final(io: &mut Io<'_>, syn: bool) -> Step {
    let cd = io.cl.data();
    if tls::is_client_hello(cd) {
        io.out.stats.tls_connections += 1;
        match tls::sni(cd) {
            Some(name) => {
                if io.out.stats.tls_names.len() < 1000 {
                    io.out.stats.tls_names.insert(name);
                }
            }
            None => io.out.stats.tls_no_sni += 1,
        }
        return Step::Switch(Next::Ignore);
    }
    if cd.starts_with(PREFACE) {
        return Step::Switch(Next::Http2Preface);
    }
    if cd.is_empty() && io.sv.data().is_empty() {
        return Step::Idle;
    }
    let clean = syn && (cd.is_empty() || http1::looks_like_request(cd));
    Step::Switch(Next::Http1 { midstream: !clean })
}

type Key = (Addr, Addr);

/// Every open connection of one input.
#[derive(Default)]
pub struct Table {
    /// Looked up for every packet: hashed with foldhash (randomly seeded), not SipHash, which
    /// was 3% of reading a capture.
    conns: HashMap<Key, Conn, foldhash::fast::RandomState>,
    next_id: u64,
    last_ts: i64,
}

impl Table {
    /// How many connections were seen.
    pub fn connections(&self) -> u64 {
        self.next_id
    }

    /// How many connections are open now.
    pub fn open(&self) -> usize {
        self.conns.len()
    }

    /// The time of the last segment seen (for packets without a timestamp).
    pub fn last_ts(&self) -> i64 {
        self.last_ts
    }

    pub fn segment(&mut self, seg: Seg<'_>, meta: Meta, out: &mut Out) {
        self.last_ts = meta.ts;
        let key = if seg.src <= seg.dst { (seg.src, seg.dst) } else { (seg.dst, seg.src) };
        if seg.flags & SYN != 0 && seg.flags & ACK == 0 {
            let reuse = self.conns.get(&key).is_some_and(|c| {
                let dir = usize::from(c.addrs[0] != seg.src);
                c.closed_at.is_some() || c.halves[dir].isn.is_some_and(|i| i != seg.seq.wrapping_add(1))
            });
            if reuse {
                if let Some(old) = self.conns.remove(&key) {
                    old.flush(out);
                }
            }
        }
        if !self.conns.contains_key(&key) && self.conns.len() >= MAX_CONNS {
            self.evict(out);
        }
        let conn = self.conns.entry(key).or_insert_with(|| {
            let c = Conn::new(self.next_id, seg.src, seg.dst, meta.ts);
            self.next_id += 1;
            c
        });
        let dir = usize::from(conn.addrs[0] != seg.src);
        conn.segment(dir, &seg, meta, out);
    }

    fn evict(&mut self, out: &mut Out) {
        let mut by_age: Vec<(i64, Key)> = self.conns.iter().map(|(k, c)| (c.last_ts, *k)).collect();
        by_age.sort_unstable();
        for (_, k) in by_age.into_iter().take(MAX_CONNS / 10) {
            if let Some(c) = self.conns.remove(&k) {
                c.flush(out);
            }
        }
    }

    /// Flush closed and idle connections.
    pub fn sweep(&mut self, now: i64, out: &mut Out) {
        let done: Vec<Key> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.closed_at.is_some_and(|t| now.saturating_sub(t) > LINGER_NS)
                    || now.saturating_sub(c.last_ts) > IDLE_NS
            })
            .map(|(k, _)| *k)
            .collect();
        let mut conns: Vec<Conn> = done.iter().filter_map(|k| self.conns.remove(k)).collect();
        // Emit in the order the connections started, for a stable output.
        conns.sort_by(|a, b| a.info.id.len().cmp(&b.info.id.len()).then(a.info.id.cmp(&b.info.id)));
        for c in conns {
            c.flush(out);
        }
    }

    pub fn flush_all(&mut self, out: &mut Out) {
        let mut conns: Vec<Conn> = self.conns.drain().map(|(_, c)| c).collect();
        conns.sort_by(|a, b| a.info.id.len().cmp(&b.info.id.len()).then(a.info.id.cmp(&b.info.id)));
        for c in conns {
            c.flush(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::pcap::stream::KEEP_CAPACITY;

    #[test]
    fn a_parsed_burst_does_not_keep_its_buffer() {
        // Regression: an emptied direction kept the capacity of its largest burst for the rest
        // of the connection (thousands of idle keep-alive connections each held it).
        let mut h = Half::default();
        let m = Meta { frame: 1, ts: 0 };
        let seg = vec![b'x'; 1460];
        for i in 0..64u32 {
            h.insert(1000 + i * 1460, &seg, m);
        }
        assert_eq!(h.data().len(), 64 * 1460);
        h.consume(64 * 1460);
        assert!(h.buf.capacity() <= KEEP_CAPACITY, "capacity {}", h.buf.capacity());
        assert_eq!(h.offset(), 64 * 1460);
        // Small deliveries keep their buffer (no allocation per segment).
        h.insert(1000 + 64 * 1460, b"abc", m);
        h.consume(3);
        assert!(h.buf.capacity() > 0);
    }
}
