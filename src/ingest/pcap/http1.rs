//! HTTP/1.x over a reassembled TCP connection.
//!
//! Requests and responses are parsed with `httparse`, one direction each, and paired in order
//! (HTTP/1.1 answers pipelined requests in the order they were sent). Bodies are framed as
//! RFC 9112 §6 says: no body for HEAD answers, 1xx, 204 and 304; chunked (trailers are appended
//! to the headers); Content-Length; otherwise, for responses, until the connection closes.
//! Bodies are read incrementally: bytes the [`IngestOptions`](crate::ingest::IngestOptions) do
//! not keep are counted, not stored. Interim 1xx responses (100 Continue) are skipped with a note
//! on the exchange. A 101 answer to `Upgrade: websocket` or `Upgrade: h2c` hands the connection
//! to the websocket or HTTP/2 parser. When bytes are missing or unparseable, the parser skips
//! to the next line that starts a message (resynchronisation).

use super::stream::{build, Half, Io, Meta, Next, Out, Pending, Step};
use crate::ingest::http1::{
    absolute_url, feed_body, framing, looks_like_response, request_head, response_has_no_body, response_head, Framing,
    Head, MAX_HEAD,
};
pub use crate::ingest::http1::{looks_like_request, BodyAcc};
use crate::model::{Headers, Note, Request, Response};
use std::collections::VecDeque;

/// Bytes scanned for a message start before a direction is given up as not HTTP.
const SCAN_BUDGET: usize = 64 * 1024;
/// Requests waiting for an answer on one connection, at most. Beyond, the oldest is emitted
/// without one: a capture that holds only one direction (asymmetric routing, a filter on one
/// address) would otherwise keep every request of a long connection until it ends.
pub const MAX_QUEUE: usize = 1024;

/// A response head being read (its body follows).
struct RespHead {
    resp: Response,
    first: Meta,
}

struct InBody {
    acc: BodyAcc,
    framing: Framing,
    trailers: Headers,
    last: Meta,
    resp: Option<RespHead>,
    notes: Vec<Note>,
}

#[derive(Default)]
struct Reader {
    body: Option<InBody>,
    resync: bool,
    scanned: usize,
    dead: bool,
    messages: u64,
}

/// HTTP/1 state of one connection.
pub struct H1 {
    queue: VecDeque<Pending>,
    req: Reader,
    resp: Reader,
}

enum Unit {
    None,
    Progress,
    Switch(Next),
}

impl H1 {
    /// `midstream`: the connection's start was not captured, so the first bytes may be in the
    /// middle of a message.
    pub fn new(midstream: bool) -> Self {
        H1 {
            queue: VecDeque::new(),
            req: Reader { resync: midstream, ..Default::default() },
            resp: Reader { resync: midstream, ..Default::default() },
        }
    }

    fn waiting_upgrade(&self) -> bool {
        self.queue.iter().any(|p| p.done && p.upgrade.is_some() && p.resp.is_none())
    }

    pub fn step(&mut self, io: &mut Io<'_>) -> Step {
        if self.request_unit(io) {
            return Step::Progress;
        }
        match self.response_unit(io) {
            Unit::Progress => return Step::Progress,
            Unit::Switch(app) => return Step::Switch(app),
            Unit::None => {}
        }
        if self.req.dead && self.resp.dead && self.queue.is_empty() {
            io.out.stats.ignored_connections += 1;
            return Step::Switch(Next::Ignore);
        }
        Step::Idle
    }

    /// Skip to the next line starting a message. Returns whether bytes were consumed.
    fn resync(r: &mut Reader, h: &mut Half, client: bool) -> bool {
        let d = h.data();
        if d.is_empty() {
            return false;
        }
        let starts = |b: &[u8]| if client { looks_like_request(b) } else { looks_like_response(b) };
        let mut found = None;
        if starts(d) {
            found = Some(0);
        } else {
            for nl in memchr::memchr_iter(b'\n', d) {
                let rest = &d[nl + 1..];
                if rest.is_empty() {
                    break;
                }
                if starts(rest) || (rest.len() < 10 && !client && looks_like_response(rest)) {
                    found = Some(nl + 1);
                    break;
                }
            }
        }
        match found {
            Some(0) => {
                r.resync = false;
                true
            }
            Some(n) => {
                h.consume(n);
                r.scanned += n;
                r.resync = false;
                true
            }
            None => {
                // Keep a possibly cut message start after the last line end.
                let keep_from = memchr::memrchr(b'\n', d).map(|p| p + 1).unwrap_or(0);
                let keep_from = if d.len() - keep_from > 64 { d.len() } else { keep_from };
                if keep_from == 0 {
                    return false;
                }
                h.consume(keep_from);
                r.scanned += keep_from;
                if r.scanned > SCAN_BUDGET && r.messages == 0 {
                    r.dead = true;
                    h.clear();
                }
                true
            }
        }
    }

    /// Feed body bytes. Returns (consumed, done, error).
    fn body_unit(b: &mut InBody, h: &Half, out: &Out) -> (usize, bool, Option<String>) {
        feed_body(&mut b.framing, &mut b.acc, &mut b.trailers, h.data(), &out.opts)
    }

    fn request_unit(&mut self, io: &mut Io<'_>) -> bool {
        if self.req.dead {
            if !io.cl.data().is_empty() {
                io.cl.clear();
            }
            return false;
        }
        if io.cl.data().is_empty() || self.waiting_upgrade() {
            return false;
        }
        if let Some(mut b) = self.req.body.take() {
            let (n, done, err) = Self::body_unit(&mut b, io.cl, io.out);
            if n > 0 {
                b.last = io.cl.meta_plus(n - 1);
            }
            io.cl.consume(n);
            if let Some(e) = err {
                self.finish_request(
                    b,
                    Some(Note::warning("http.bad_chunk", format!("request body: {e}; resynchronising"))),
                );
                self.req.resync = true;
                return true;
            }
            if done {
                self.finish_request(b, None);
                self.drain(io);
            } else {
                self.req.body = Some(b);
            }
            return n > 0 || done;
        }
        if self.req.resync {
            return Self::resync(&mut self.req, io.cl, true);
        }
        let d = io.cl.data();
        match request_head(d, io.out.opts.headers) {
            Ok(Head::Complete(head)) => {
                let n = head.len;
                let headers = head.headers;
                let method = head.method;
                let version = head.version;
                let meta = io.cl.meta();
                io.cl.consume(n);
                self.req.messages += 1;
                let url = absolute_url(&method, &head.target, &headers, "http", &io.info.server);
                let upgrade = headers.get("upgrade").map(|u| u.trim().to_ascii_lowercase()).filter(|u| !u.is_empty());
                let mut notes = Vec::new();
                let fr = framing(&headers, &mut notes);
                let fr = match fr {
                    Some(Framing::Close) => None, // requests without length have no body
                    other => other,
                };
                let mime = headers.get("content-type").map(str::to_string);
                let p = Pending {
                    method,
                    request: Request { method: String::new(), url, http_version: version, headers, body: None },
                    req_meta: meta,
                    done: fr.is_none(),
                    upgrade,
                    resp: None,
                    notes,
                };
                let mut p = p;
                p.request.method = p.method.clone();
                self.queue.push_back(p);
                while self.queue.len() > MAX_QUEUE {
                    let Some(mut old) = self.queue.pop_front() else { break };
                    if old.resp.is_none() {
                        old.notes.push(Note::warning(
                            "pcap.no_response",
                            format!(
                                "no response was captured for this request while {MAX_QUEUE} later ones waited; it was emitted without one (was only one direction captured?)"
                            ),
                        ));
                    }
                    io.out.exchanges.push(build(old, io.info));
                }
                if let Some(f) = fr {
                    self.req.body = Some(InBody {
                        acc: BodyAcc::new(mime.as_deref()),
                        framing: f,
                        trailers: Headers::new(),
                        last: meta,
                        resp: None,
                        notes: Vec::new(),
                    });
                } else {
                    self.drain(io);
                }
                true
            }
            Ok(Head::Partial) => {
                if d.len() > MAX_HEAD {
                    self.req.resync = true;
                    io.cl.consume(1);
                    return true;
                }
                false
            }
            Err(_) => {
                self.req.resync = true;
                io.cl.consume(1);
                true
            }
        }
    }

    fn finish_request(&mut self, b: InBody, note: Option<Note>) {
        if let Some(p) = self.queue.back_mut() {
            let mut b = b;
            for t in std::mem::take(&mut b.trailers.0) {
                p.request.headers.0.push(t);
            }
            p.request.body = b.acc.finish().map(Box::new);
            p.done = true;
            p.notes.extend(note);
        }
    }

    fn response_unit(&mut self, io: &mut Io<'_>) -> Unit {
        if self.resp.dead {
            if !io.sv.data().is_empty() {
                io.sv.clear();
            }
            return Unit::None;
        }
        if io.sv.data().is_empty() {
            return Unit::None;
        }
        if let Some(mut b) = self.resp.body.take() {
            let (n, done, err) = Self::body_unit(&mut b, io.sv, io.out);
            if n > 0 {
                b.last = io.sv.meta_plus(n - 1);
            }
            io.sv.consume(n);
            if let Some(e) = err {
                self.resp.resync = true;
                let note = Note::warning("http.bad_chunk", format!("response body: {e}; resynchronising"));
                return self.complete_response(b, Some(note), io);
            }
            if done {
                return self.complete_response(b, None, io);
            }
            self.resp.body = Some(b);
            return if n > 0 { Unit::Progress } else { Unit::None };
        }
        if self.resp.resync {
            return if Self::resync(&mut self.resp, io.sv, false) { Unit::Progress } else { Unit::None };
        }
        let d = io.sv.data();
        match response_head(d, io.out.opts.headers) {
            Ok(Head::Complete(head)) => {
                let n = head.len;
                let headers = head.headers;
                let status = head.status;
                let reason = head.reason;
                let version = head.version;
                let meta = io.sv.meta();
                let last = io.sv.meta_plus(n.saturating_sub(1));
                io.sv.consume(n);
                self.resp.messages += 1;
                let target = self.queue.iter_mut().find(|p| p.resp.is_none());
                let method = target.as_ref().map(|p| p.method.clone()).unwrap_or_default();
                if (100..200).contains(&status) && status != 101 {
                    if let Some(p) = target {
                        p.notes.push(Note::info(
                            "http.interim",
                            format!("interim response {status} {} came first", crate::redact::escape(&reason)),
                        ));
                    }
                    return Unit::Progress;
                }
                let mut notes = Vec::new();
                let no_body = response_has_no_body(&method, status);
                let fr = if no_body { None } else { framing(&headers, &mut notes) };
                let mime = headers.get("content-type").map(str::to_string);
                let head = RespHead {
                    resp: Response { status, reason, http_version: version, headers, body: None },
                    first: meta,
                };
                let mut b = InBody {
                    acc: BodyAcc::new(mime.as_deref()),
                    framing: Framing::Length(0),
                    trailers: Headers::new(),
                    last,
                    resp: Some(head),
                    notes: Vec::new(),
                };
                b.notes = notes;
                match fr {
                    None => self.complete_response(b, None, io),
                    Some(f) => {
                        b.framing = f;
                        self.resp.body = Some(b);
                        Unit::Progress
                    }
                }
            }
            Ok(Head::Partial) => {
                if d.len() > MAX_HEAD {
                    self.resp.resync = true;
                    io.sv.consume(1);
                    return Unit::Progress;
                }
                Unit::None
            }
            Err(_) => {
                self.resp.resync = true;
                io.sv.consume(1);
                Unit::Progress
            }
        }
    }

    /// A response is complete: pair it, emit what can be emitted, switch protocol on 101.
    fn complete_response(&mut self, b: InBody, note: Option<Note>, io: &mut Io<'_>) -> Unit {
        let InBody { acc, trailers, last, resp, notes: head_notes, .. } = b;
        let Some(RespHead { mut resp, first }) = resp else { return Unit::Progress };
        resp.headers.0.extend(trailers.0);
        resp.body = acc.finish().map(Box::new);
        let idx = match self.queue.iter().position(|p| p.resp.is_none()) {
            Some(i) => i,
            None => {
                self.queue.push_back(Pending {
                    method: String::new(),
                    request: Request {
                        method: String::new(),
                        url: format!("http://{}/", io.info.server),
                        http_version: String::new(),
                        headers: Headers::new(),
                        body: None,
                    },
                    req_meta: first,
                    done: true,
                    upgrade: None,
                    resp: None,
                    notes: vec![Note::warning(
                        "pcap.response_without_request",
                        "a response whose request was not captured (the capture started late or lost packets)",
                    )],
                });
                self.queue.len() - 1
            }
        };
        let status = resp.status;
        let resp_upgrade = resp.headers.get("upgrade").map(|u| u.to_ascii_lowercase());
        let Some(p) = self.queue.get_mut(idx) else { return Unit::Progress };
        p.notes.extend(head_notes);
        p.notes.extend(note);
        let method = p.method.clone();
        p.resp = Some((resp, first, last));
        if status == 101 {
            let proto = resp_upgrade.or_else(|| p.upgrade.clone()).unwrap_or_default();
            self.drain(io);
            // The upgraded exchange is now the oldest unanswered one.
            let pos = self.queue.iter().position(|q| q.resp.as_ref().is_some_and(|r| r.0.status == 101));
            let Some(p) = pos.and_then(|i| self.queue.remove(i)) else { return Unit::Progress };
            // Exchanges still queued (their requests unfinished) are emitted as they are.
            self.flush_queue(io);
            if proto.contains("websocket") {
                return Unit::Switch(Next::WebSocket(Box::new(p)));
            }
            if proto.contains("h2c") {
                return Unit::Switch(Next::Http2Upgrade(Box::new(p)));
            }
            let mut ex = build(p, io.info);
            ex.notes.push(Note::info(
                "http.upgrade",
                format!("the connection switched to {:?}, which harken does not read", crate::redact::escape(&proto)),
            ));
            io.out.exchanges.push(ex);
            io.out.stats.ignored_connections += 1;
            return Unit::Switch(Next::Ignore);
        }
        if method.eq_ignore_ascii_case("CONNECT") && (200..300).contains(&status) {
            self.drain(io);
            self.flush_queue(io);
            return Unit::Switch(Next::Unknown);
        }
        self.drain(io);
        Unit::Progress
    }

    /// Emit answered, complete exchanges from the head of the queue.
    fn drain(&mut self, io: &mut Io<'_>) {
        while self.queue.front().is_some_and(|p| p.done && p.resp.is_some() && !is_101(p)) {
            if let Some(p) = self.queue.pop_front() {
                io.out.exchanges.push(build(p, io.info));
            }
        }
    }

    fn flush_queue(&mut self, io: &mut Io<'_>) {
        while let Some(mut p) = self.queue.pop_front() {
            if p.resp.is_none() {
                p.notes.push(Note::info("pcap.no_response", "no response was captured for this request"));
            }
            io.out.exchanges.push(build(p, io.info));
        }
    }

    /// Bytes are missing in one direction.
    pub fn gap(&mut self, io: &mut Io<'_>, client: bool, missing: u64) {
        let note = || Note::warning("pcap.tcp_gap", format!("{missing} bytes of this message were never captured"));
        let r = if client { &mut self.req } else { &mut self.resp };
        if let Some(b) = &mut r.body {
            if let Framing::Length(rem) = &mut b.framing {
                if missing < *rem && missing > 0 {
                    *rem -= missing;
                    b.acc.missing(missing);
                    let target =
                        if client { self.queue.back_mut() } else { self.queue.iter_mut().find(|p| p.resp.is_none()) };
                    if let Some(p) = target {
                        if !p.notes.iter().any(|n| n.code == "pcap.tcp_gap") {
                            p.notes.push(note());
                        }
                    }
                    return;
                }
            }
        }
        if client {
            if let Some(mut b) = self.req.body.take() {
                b.acc.missing(missing);
                self.finish_request(b, Some(note()));
            } else if !io.cl.data().is_empty() {
                if let Some(p) = self.queue.back_mut() {
                    p.notes.push(note());
                }
            }
            self.req.resync = true;
            self.drain(io);
        } else {
            if let Some(mut b) = self.resp.body.take() {
                b.acc.missing(missing);
                let _ = self.complete_response(b, Some(note()), io);
            }
            self.resp.resync = true;
        }
    }

    /// The connection ended: complete read-until-close bodies and emit everything queued.
    pub fn finish(&mut self, io: &mut Io<'_>) {
        if let Some(b) = self.req.body.take() {
            let note =
                Note::warning("http.truncated", "the request body was cut off by the end of the connection or capture");
            self.finish_request(b, Some(note));
        }
        if let Some(b) = self.resp.body.take() {
            let note = match b.framing {
                Framing::Close => None,
                _ => Some(Note::warning(
                    "http.truncated",
                    "the response body was cut off by the end of the connection or capture",
                )),
            };
            let _ = self.complete_response(b, note, io);
        }
        if !io.sv.data().is_empty() && !self.resp.dead && self.queue.iter().any(|p| p.resp.is_none()) {
            if let Some(p) = self.queue.iter_mut().find(|p| p.resp.is_none()) {
                p.notes.push(Note::warning(
                    "http.truncated",
                    "the response head was cut off by the end of the connection or capture",
                ));
            }
        }
        self.flush_queue(io);
    }
}

fn is_101(p: &Pending) -> bool {
    p.resp.as_ref().is_some_and(|r| r.0.status == 101)
}
