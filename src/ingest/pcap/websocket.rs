//! Websocket frames after a `101 Switching Protocols` (RFC 6455), kept as the upgrade exchange's
//! messages: client frames are unmasked, fragmented messages joined, and with
//! permessage-deflate (RFC 7692) compressed messages (RSV1) are inflated with a raw deflate
//! stream per direction (the `00 00 ff ff` tail re-appended; the window is reset per message
//! when `*_no_context_takeover` was negotiated). The exchange is emitted when the connection
//! ends.

use super::stream::{build, time, Info, Io, Meta, Pending, Step};
use crate::model::{Direction, Exchange, Note, WsMessage, WsOpcode};
use flate2::{Decompress, FlushDecompress, Status};

/// Largest frame read; a larger one stops the direction.
const MAX_FRAME: u64 = 16 << 20;
/// Largest inflated message, and largest message joined from fragments.
const MAX_INFLATED: usize = 16 << 20;
/// Messages kept per connection; later ones are counted (a note says how many).
pub const MAX_MESSAGES: usize = 100_000;

struct Partial {
    opcode: WsOpcode,
    data: Vec<u8>,
    compressed: bool,
    meta: Meta,
}

struct Dir {
    partial: Option<Partial>,
    inflater: Option<Decompress>,
    no_context: bool,
    dead: bool,
}

/// Websocket state of an upgraded connection.
pub struct Ws {
    ex: Exchange,
    dirs: [Dir; 2],
    deflate: bool,
    kept: usize,
    /// Messages whose payload was not kept (the body policy's cap), and messages not kept at all.
    emptied: u64,
    dropped: u64,
    orphans: u64,
}

/// Inflate one permessage-deflate message.
pub fn inflate(d: &mut Decompress, input: &[u8]) -> Result<Vec<u8>, String> {
    let mut src = Vec::with_capacity(input.len() + 4);
    src.extend_from_slice(input);
    src.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(input.len() * 3 + 64);
    let mut inp: &[u8] = &src;
    for _ in 0..100_000 {
        if out.len() == out.capacity() {
            if out.len() >= MAX_INFLATED {
                return Err("inflated message exceeds the size cap".into());
            }
            out.reserve(out.len().max(1024));
        }
        let before = d.total_in();
        let out_before = out.len();
        let status = d.decompress_vec(inp, &mut out, FlushDecompress::Sync).map_err(|e| e.to_string())?;
        let used = usize::try_from(d.total_in() - before).unwrap_or(inp.len()).min(inp.len());
        inp = &inp[used..];
        if status == Status::StreamEnd || (inp.is_empty() && out.len() < out.capacity()) {
            break;
        }
        if used == 0 && out.len() == out_before && out.len() < out.capacity() {
            break;
        }
    }
    Ok(out)
}

impl Ws {
    pub fn new(p: Pending, info: &Info) -> Self {
        let ext = p
            .resp
            .as_ref()
            .map(|r| r.0.headers.get_all("sec-websocket-extensions").collect::<Vec<_>>().join(","))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let deflate = ext.contains("permessage-deflate");
        let dir = |no_context: bool| Dir {
            partial: None,
            inflater: deflate.then(|| Decompress::new(false)),
            no_context,
            dead: false,
        };
        let dirs = [dir(ext.contains("client_no_context_takeover")), dir(ext.contains("server_no_context_takeover"))];
        Ws { ex: build(p, info), dirs, deflate, kept: 0, emptied: 0, dropped: 0, orphans: 0 }
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
        let dir = &mut self.dirs[usize::from(!client)];
        if dir.dead {
            if !h.data().is_empty() {
                h.clear();
            }
            return false;
        }
        let d = h.data();
        if d.len() < 2 {
            return false;
        }
        let fin = d[0] & 0x80 != 0;
        let rsv1 = d[0] & 0x40 != 0;
        let op = d[0] & 0x0f;
        let masked = d[1] & 0x80 != 0;
        let mut hdr = 2usize;
        let len = match d[1] & 0x7f {
            126 => {
                let Some(b) = d.get(2..4) else { return false };
                hdr = 4;
                u64::from(u16::from_be_bytes([b[0], b[1]]))
            }
            127 => {
                let Some(b) = d.get(2..10) else { return false };
                hdr = 10;
                u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
            }
            n => u64::from(n),
        };
        let key = if masked {
            let Some(k) = d.get(hdr..hdr + 4) else { return false };
            hdr += 4;
            [k[0], k[1], k[2], k[3]]
        } else {
            [0; 4]
        };
        let Some(kind) = WsOpcode::from_bits(op).filter(|_| len <= MAX_FRAME) else {
            dir.dead = true;
            io.out.stats.ws_errors += 1;
            self.ex.notes.push(Note::warning(
                "websocket.bad_frame",
                "an unreadable websocket frame; this direction is no longer read",
            ));
            return true;
        };
        let len = len as usize;
        if d.len() < hdr + len {
            return false;
        }
        let mut payload = d[hdr..hdr + len].to_vec();
        if masked {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        let meta = h.meta();
        h.consume(hdr + len);
        let done = match kind {
            WsOpcode::Continuation => match dir.partial.as_mut() {
                Some(p) if p.data.len().saturating_add(payload.len()) > MAX_INFLATED => {
                    dir.partial = None;
                    dir.dead = true;
                    io.out.stats.ws_errors += 1;
                    self.ex.notes.push(Note::warning(
                        "websocket.bad_frame",
                        "a fragmented websocket message grew past 16 MiB; it was dropped and this direction is no longer read",
                    ));
                    return true;
                }
                Some(p) => {
                    p.data.extend_from_slice(&payload);
                    if fin {
                        dir.partial.take()
                    } else {
                        None
                    }
                }
                None => {
                    // The message's first frame was not read (lost in a gap or before the capture).
                    self.orphans += 1;
                    None
                }
            },
            WsOpcode::Text | WsOpcode::Binary => {
                let p = Partial { opcode: kind, data: payload, compressed: rsv1 && self.deflate, meta };
                if fin {
                    Some(p)
                } else {
                    dir.partial = Some(p);
                    None
                }
            }
            _ => Some(Partial { opcode: kind, data: payload, compressed: false, meta }),
        };
        if let Some(mut p) = done {
            if p.compressed {
                if let Some(inf) = dir.inflater.as_mut() {
                    if dir.no_context {
                        inf.reset(false);
                    }
                    match inflate(inf, &p.data) {
                        Ok(v) => p.data = v,
                        Err(e) => {
                            io.out.stats.ws_errors += 1;
                            self.ex.notes.push(Note::warning(
                                "websocket.inflate",
                                format!("a compressed message could not be inflated: {e}"),
                            ));
                        }
                    }
                }
            }
            if self.ex.websocket.len() >= MAX_MESSAGES {
                self.dropped += 1;
                return true;
            }
            self.kept += p.data.len();
            if !p.data.is_empty() && !io.out.opts.keep_body(None, self.kept) {
                p.data = Vec::new();
                self.emptied += 1;
            }
            self.ex.websocket.push(WsMessage {
                time: time(p.meta.ts),
                direction: if client { crate::model::Direction::Send } else { Direction::Receive },
                opcode: p.opcode,
                data: p.data,
                frame: Some(p.meta.frame),
            });
        }
        true
    }

    pub fn gap(&mut self, _io: &mut Io<'_>, client: bool) {
        self.dirs[usize::from(!client)].dead = true;
        self.ex.notes.push(Note::warning(
            "pcap.tcp_gap",
            "bytes of the websocket stream were never captured; later frames were not read",
        ));
    }

    pub fn finish(&mut self, io: &mut Io<'_>) {
        for d in &mut self.dirs {
            if let Some(p) = d.partial.take() {
                self.ex.notes.push(Note::warning(
                    "websocket.truncated",
                    format!(
                        "a fragmented {:?} message ({} bytes so far) had not ended when the connection or capture did; it was dropped",
                        p.opcode,
                        p.data.len()
                    ),
                ));
            }
        }
        if self.emptied > 0 {
            self.ex.notes.push(Note::info(
                "websocket.omitted",
                format!(
                    "the payloads of {} websocket message(s) were not kept (past what this command keeps: {} bytes per connection for the analysis, none for listings); their times, directions and kinds are",
                    self.emptied,
                    crate::ingest::ANALYSIS_BODY_CAP
                ),
            ));
        }
        if self.dropped > 0 {
            self.ex.notes.push(Note::warning(
                "websocket.omitted",
                format!("{} websocket message(s) after the first {MAX_MESSAGES} were not kept", self.dropped),
            ));
        }
        if self.orphans > 0 {
            self.ex.notes.push(Note::warning(
                "websocket.bad_frame",
                format!(
                    "{} continuation frame(s) belonged to a message whose first frame was not captured; skipped",
                    self.orphans
                ),
            ));
        }
        let fresh = Exchange::new(self.ex.origin, self.ex.started, self.ex.request.clone());
        let ex = std::mem::replace(&mut self.ex, fresh);
        io.out.exchanges.push(ex);
    }
}
