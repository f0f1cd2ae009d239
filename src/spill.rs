//! What a streamed analysis keeps of whole exchanges, kept on disk instead of in memory.
//!
//! The analysis reads two kinds of exchange whole, at the end: the refusals (the diagnosis;
//! later evidence can still change what it says) and the token traffic (the learners, in time
//! order). On an access log with a refusal every twentieth line the refusals were the largest
//! thing the analysis held (650 bytes each, 560 MB for a 3 GB log); on a HAR or a capture
//! the token calls were (110,000 in a generated 1 GB HAR). [`Spill`] writes each, trimmed
//! ([`crate::keep::trim`]), in a compact binary form to an unnamed temporary file (in
//! `$TMPDIR`) as it is read, and keeps only its place and [`Kind`] (40 bytes); at the end the
//! file is mapped and [`Spilled`] reads them back in capture order: the learners one at a
//! time ([`merged`]), the diagnosis a window at a time on every core
//! ([`crate::diagnose::Pending::each`]). The mapped pages are the kernel's page cache, not
//! the process's heap: reclaimable, and shared with nothing else. When no temporary file can
//! be made, they stay in memory as before. [`Records`] does the same for fixed-size records
//! (the successes the diagnosis compares refusals with).
//!
//! The form is private to one run: lengths and numbers as LEB128 varints, strings as length
//! and bytes, every field of [`Exchange`] in declaration order. [`decode`] gives back exactly
//! what [`encode`] was given (tested on every sample).

use crate::model::{
    Body, BodyState, Direction, Exchange, Header, Headers, Identity, Level, Note, Origin, Request, Response,
    Unrecorded, WsMessage, WsOpcode,
};
use chrono::{DateTime, Utc};
use std::io::Write;

/// Where one spilled exchange is, its place in capture order and who reads it (40 bytes).
#[derive(Clone, Copy)]
struct Slot {
    started: DateTime<Utc>,
    input: u32,
    index: u64,
    offset: u64,
    len: u32,
    /// [`Kind`] bits.
    kind: u8,
}

/// Who reads a spilled exchange back: the diagnosis (a refusal), the token learners (token
/// traffic), or both (a refused token call).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Kind(u8);

impl Kind {
    pub const REFUSAL: Kind = Kind(1);
    pub const TOKEN_TRAFFIC: Kind = Kind(2);

    pub fn with(self, other: Kind) -> Kind {
        Kind(self.0 | other.0)
    }

    fn has(self, other: Kind) -> bool {
        self.0 & other.0 != 0
    }
}

impl Slot {
    /// Capture order, as [`order_of`] gives it.
    fn order(&self) -> (DateTime<Utc>, u32, u64) {
        (self.started, self.input, self.index)
    }
}

/// Exchanges being written.
pub struct Spill {
    file: std::io::BufWriter<std::fs::File>,
    written: u64,
    slots: Vec<Slot>,
    buf: Vec<u8>,
    /// The first write error: the exchanges after it could not be kept.
    failed: Option<std::io::Error>,
}

impl Spill {
    /// A spill in a new unnamed temporary file; `None` when none can be made.
    pub fn new() -> Option<Spill> {
        let file = tempfile::tempfile().ok()?;
        Some(Spill {
            file: std::io::BufWriter::with_capacity(1 << 16, file),
            written: 0,
            slots: Vec::new(),
            buf: Vec::new(),
            failed: None,
        })
    }

    /// Write one exchange, to be read back as `kind`.
    pub fn push(&mut self, ex: &Exchange, kind: Kind) {
        if self.failed.is_some() {
            return;
        }
        self.buf.clear();
        encode(ex, &mut self.buf);
        if let Err(e) = self.file.write_all(&self.buf) {
            self.failed = Some(e);
            return;
        }
        let (started, input, index) = order_of(ex);
        self.slots.push(Slot {
            started,
            input,
            index,
            offset: self.written,
            len: u32::try_from(self.buf.len()).unwrap_or(u32::MAX),
            kind: kind.0,
        });
        self.written += self.buf.len() as u64;
    }

    /// Everything written, ready to be read back in capture order. An error when the file
    /// could not be written or mapped (the disk filled up): it names the temporary directory.
    pub fn finish(mut self) -> std::io::Result<Spilled> {
        let context = |e: std::io::Error| {
            let dir = std::env::temp_dir();
            std::io::Error::new(
                e.kind(),
                format!(
                    "writing the refused exchanges and token traffic to a temporary file in {}: {e}",
                    dir.display()
                ),
            )
        };
        if let Some(e) = self.failed.take() {
            return Err(context(e));
        }
        let file = self.file.into_inner().map_err(|e| context(e.into_error()))?;
        self.slots.sort_unstable_by_key(Slot::order);
        // SAFETY: the file is ours alone (unnamed, opened by this process) and nothing writes
        // to it any more.
        let map = if self.written == 0 { None } else { Some(unsafe { memmap2::Mmap::map(&file) }.map_err(context)?) };
        if let Some(m) = &map {
            // Each exchange is read once, in nearly the order written: its pages can go after.
            let _ = m.advise(memmap2::Advice::Sequential);
        }
        Ok(Spilled { map, slots: self.slots })
    }
}

/// Spilled exchanges, mapped, in capture order.
pub struct Spilled {
    map: Option<memmap2::Mmap>,
    slots: Vec<Slot>,
}

impl Spilled {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The `i`-th exchange in capture order, if it decodes (it always does: the bytes are the
    /// run's own).
    pub fn get(&self, i: usize) -> Option<Exchange> {
        let s = self.slots.get(i)?;
        let bytes = self.map.as_ref()?.get(s.offset as usize..(s.offset as usize).checked_add(s.len as usize)?)?;
        decode(bytes)
    }

    /// The capture-order key of the `i`-th exchange.
    pub fn order(&self, i: usize) -> Option<(DateTime<Utc>, u32, u64)> {
        self.slots.get(i).map(Slot::order)
    }

    /// The number of the first exchange at or after `i` that is read as `kind`.
    pub fn next_of(&self, kind: Kind, i: usize) -> Option<usize> {
        self.slots.get(i..)?.iter().position(|s| Kind(s.kind).has(kind)).map(|n| n + i)
    }
}

/// Capture order of an exchange: start, then input and entry ([`crate::ingest::load_batched`]'s
/// order), as [`Spilled::order`] gives it for a spilled one.
pub fn order_of(ex: &Exchange) -> (DateTime<Utc>, u32, u64) {
    (ex.started, u32::try_from(ex.origin.input).unwrap_or(u32::MAX), ex.origin.index as u64)
}

/// Where an exchange of a merged sequence ([`positions`]) is.
#[derive(Clone, Copy)]
pub enum At {
    /// In the held slice, at this position.
    Held(usize),
    /// On disk: its number in [`Spilled`].
    Spilled(usize),
}

/// The exchanges that `keep` chooses among `held` (in capture order) and those of `spilled`
/// read as `kind`, merged in capture order, by where each is.
pub fn positions<'a>(
    held: &'a [Exchange],
    keep: impl Fn(&Exchange) -> bool + 'a,
    spilled: Option<&'a Spilled>,
    kind: Kind,
) -> impl Iterator<Item = At> + 'a {
    let mut chosen = held.iter().enumerate().filter(move |(_, e)| keep(e)).map(|(i, _)| i).peekable();
    let mut next = spilled.and_then(|s| s.next_of(kind, 0));
    std::iter::from_fn(move || {
        let from_disk = match (chosen.peek(), next.and_then(|n| spilled?.order(n))) {
            (None, None) => return None,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some(&i), Some(k)) => held.get(i).is_none_or(|e| k < order_of(e)),
        };
        if !from_disk {
            return chosen.next().map(At::Held);
        }
        let n = next?;
        next = spilled.and_then(|s| s.next_of(kind, n + 1));
        Some(At::Spilled(n))
    })
}

/// [`positions`], each exchange itself: the held ones borrowed, the spilled ones read back one
/// at a time (a form that does not decode, which the run's own bytes never are, is skipped).
pub fn merged<'a>(
    held: &'a [Exchange],
    keep: impl Fn(&Exchange) -> bool + 'a,
    spilled: Option<&'a Spilled>,
    kind: Kind,
) -> impl Iterator<Item = std::borrow::Cow<'a, Exchange>> + 'a {
    use std::borrow::Cow;
    positions(held, keep, spilled, kind).filter_map(move |at| match at {
        At::Held(i) => held.get(i).map(Cow::Borrowed),
        At::Spilled(n) => spilled?.get(n).map(Cow::Owned),
    })
}

/// A growable array of plain fixed-size records (`T`: [`bytemuck::Pod`]), in memory up to
/// 1 MiB, then in an unnamed temporary file, mapped: what the analysis keeps of every success
/// of an access log (40 bytes each, millions of them) lives in the page cache instead of the
/// heap, and is sorted in place there. A small capture never touches the disk; in memory too
/// when no temporary file can be made.
pub struct Records<T: bytemuck::Pod> {
    disk: Option<(std::fs::File, memmap2::MmapMut)>,
    /// Records on disk.
    len: usize,
    /// Whether a file was tried.
    tried: bool,
    /// The records while they are few, or when no file could be made.
    mem: Vec<T>,
}

impl<T: bytemuck::Pod> Default for Records<T> {
    fn default() -> Self {
        Records { disk: None, len: 0, tried: false, mem: Vec::new() }
    }
}

/// Bytes of records held in memory before they move to a file.
const IN_MEMORY: usize = 1 << 20;

impl<T: bytemuck::Pod> Records<T> {
    pub fn push(&mut self, x: T) {
        let size = std::mem::size_of::<T>().max(1);
        if !self.tried && self.mem.len() * size >= IN_MEMORY {
            self.tried = true;
            self.move_to_disk();
        }
        let full = self.disk.as_ref().is_some_and(|(_, map)| (self.len + 1) * size > map.len());
        if full {
            let grown = self.disk.as_ref().and_then(|(file, map)| Self::mapped(file, map.len() / size * 2));
            match grown {
                Some(m) => {
                    if let Some((_, map)) = &mut self.disk {
                        *map = m;
                    }
                }
                None => {
                    // The disk is full: the records go on in memory.
                    self.mem = self.as_slice().to_vec();
                    self.disk = None;
                    self.len = 0;
                }
            }
        }
        match &mut self.disk {
            Some((_, map)) => {
                let at = self.len * size;
                map[at..at + size].copy_from_slice(bytemuck::bytes_of(&x));
                self.len += 1;
            }
            None => self.mem.push(x),
        }
    }

    /// Move the records to a new temporary file with room for as many again; they stay in
    /// memory if none can be made.
    fn move_to_disk(&mut self) {
        let Ok(file) = tempfile::tempfile() else { return };
        let Some(mut map) = Self::mapped(&file, self.mem.len().max(1) * 2) else { return };
        let bytes: &[u8] = bytemuck::cast_slice(&self.mem);
        map[..bytes.len()].copy_from_slice(bytes);
        self.len = self.mem.len();
        self.mem = Vec::new();
        self.disk = Some((file, map));
    }

    /// `file` made `records` long, mapped.
    fn mapped(file: &std::fs::File, records: usize) -> Option<memmap2::MmapMut> {
        let bytes = records.checked_mul(std::mem::size_of::<T>())?;
        file.set_len(bytes as u64).ok()?;
        // SAFETY: the file is ours alone (unnamed, opened by this process) and is only
        // changed through this map (an earlier map of it is dropped as soon as this one is
        // made).
        unsafe { memmap2::MmapMut::map_mut(file) }.ok()
    }

    pub fn len(&self) -> usize {
        self.len + self.mem.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_slice(&self) -> &[T] {
        match &self.disk {
            Some((_, map)) => bytemuck::cast_slice(&map[..self.len * std::mem::size_of::<T>()]),
            None => &self.mem,
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        match &mut self.disk {
            Some((_, map)) => bytemuck::cast_slice_mut(&mut map[..self.len * std::mem::size_of::<T>()]),
            None => &mut self.mem,
        }
    }
}

// ---- the form ----

/// Every variant of each enum the form holds, in order: a variant is written as its position.
const BODY_STATES: [BodyState; 3] = [BodyState::Decoded, BodyState::ContentEncoded, BodyState::Chunked];
const DIRECTIONS: [Direction; 2] = [Direction::Send, Direction::Receive];
const OPCODES: [WsOpcode; 6] =
    [WsOpcode::Text, WsOpcode::Binary, WsOpcode::Close, WsOpcode::Ping, WsOpcode::Pong, WsOpcode::Continuation];
const LEVELS: [Level; 3] = [Level::Info, Level::Warning, Level::Error];

fn code<T: PartialEq>(all: &[T], x: &T) -> u8 {
    all.iter().position(|y| y == x).unwrap_or(0) as u8
}

fn put_u64(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_i64(out: &mut Vec<u8>, n: i64) {
    put_u64(out, ((n << 1) ^ (n >> 63)) as u64);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u64(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

fn put_opt<T>(out: &mut Vec<u8>, v: &Option<T>, put: impl FnOnce(&mut Vec<u8>, &T)) {
    match v {
        None => out.push(0),
        Some(x) => {
            out.push(1);
            put(out, x);
        }
    }
}

fn put_opt_u64(out: &mut Vec<u8>, v: Option<u64>) {
    put_opt(out, &v, |o, n| put_u64(o, *n));
}

fn put_opt_str(out: &mut Vec<u8>, v: &Option<String>) {
    put_opt(out, v, |o, s| put_str(o, s));
}

fn put_time(out: &mut Vec<u8>, t: &DateTime<Utc>) {
    put_i64(out, t.timestamp());
    put_u64(out, u64::from(t.timestamp_subsec_nanos()));
}

fn put_origin(out: &mut Vec<u8>, o: &Origin) {
    put_u64(out, o.input as u64);
    put_u64(out, o.index as u64);
    put_opt_u64(out, o.request_frame);
    put_opt_u64(out, o.response_frame);
}

fn put_headers(out: &mut Vec<u8>, h: &Headers) {
    put_u64(out, h.0.len() as u64);
    for x in &h.0 {
        put_str(out, &x.name);
        put_str(out, &x.value);
    }
}

fn put_body(out: &mut Vec<u8>, b: &Option<Box<Body>>) {
    put_opt(out, b, |out, b| {
        put_bytes(out, &b.raw);
        out.push(code(&BODY_STATES, &b.state));
        put_opt_str(out, &b.stored_as);
        put_opt_str(out, &b.mime);
        put_opt_u64(out, b.declared_size);
        out.push(b.omitted as u8);
    });
}

/// Append the form of `ex` to `out`.
pub fn encode(ex: &Exchange, out: &mut Vec<u8>) {
    put_origin(out, &ex.origin);
    put_time(out, &ex.started);
    put_opt(out, &ex.duration_ms, |o, d| o.extend_from_slice(&d.to_bits().to_le_bytes()));
    let r = &ex.request;
    put_str(out, &r.method);
    put_str(out, &r.url);
    put_str(out, &r.http_version);
    put_headers(out, &r.headers);
    put_body(out, &r.body);
    put_opt(out, &ex.response, |out, r| {
        put_u64(out, u64::from(r.status));
        put_str(out, &r.reason);
        put_str(out, &r.http_version);
        put_headers(out, &r.headers);
        put_body(out, &r.body);
    });
    put_opt_str(out, &ex.server);
    put_opt_str(out, &ex.client);
    put_opt_str(out, &ex.connection);
    put_opt_u64(out, ex.stream);
    put_u64(out, ex.websocket.len() as u64);
    for m in &ex.websocket {
        put_time(out, &m.time);
        out.push(code(&DIRECTIONS, &m.direction));
        out.push(code(&OPCODES, &m.opcode));
        put_bytes(out, &m.data);
        put_opt_u64(out, m.frame);
    }
    put_u64(out, ex.notes.len() as u64);
    for n in &ex.notes {
        out.push(code(&LEVELS, &n.level));
        put_str(out, &n.code);
        put_str(out, &n.message);
        put_opt(out, &n.at, put_origin);
    }
    out.push(ex.unrecorded.bits());
    put_opt(out, &ex.identity, |o, i| {
        put_str(o, &i.source);
        put_str(o, &i.name);
    });
}

/// Reads the form back; every read is checked (`None` past the end).
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&x, rest) = self.b.split_first()?;
        self.b = rest;
        Some(x)
    }

    /// A variant written by [`code`].
    fn one_of<T: Copy>(&mut self, all: &[T]) -> Option<T> {
        all.get(usize::from(self.byte()?)).copied()
    }

    fn u64(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let x = self.byte()?;
            n |= u64::from(x & 0x7f) << shift;
            if x < 0x80 {
                return Some(n);
            }
        }
        None
    }

    fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }

    fn i64(&mut self) -> Option<i64> {
        let n = self.u64()?;
        Some(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.usize()?;
        if n > self.b.len() {
            return None;
        }
        let (x, rest) = self.b.split_at(n);
        self.b = rest;
        Some(x)
    }

    fn string(&mut self) -> Option<String> {
        std::str::from_utf8(self.bytes()?).ok().map(str::to_string)
    }

    fn opt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.byte()? {
            0 => Some(None),
            1 => read(self).map(Some),
            _ => None,
        }
    }

    fn opt_u64(&mut self) -> Option<Option<u64>> {
        self.opt(Self::u64)
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        self.opt(Self::string)
    }

    fn time(&mut self) -> Option<DateTime<Utc>> {
        let secs = self.i64()?;
        let nanos = u32::try_from(self.u64()?).ok()?;
        DateTime::from_timestamp(secs, nanos)
    }

    fn origin(&mut self) -> Option<Origin> {
        Some(Origin {
            input: self.usize()?,
            index: self.usize()?,
            request_frame: self.opt_u64()?,
            response_frame: self.opt_u64()?,
        })
    }

    /// A count of items that each take at least one byte (bounds what is reserved).
    fn count(&mut self) -> Option<usize> {
        self.usize().filter(|&n| n <= self.b.len())
    }

    fn headers(&mut self) -> Option<Headers> {
        let n = self.count()?;
        let mut h = Vec::with_capacity(n);
        for _ in 0..n {
            h.push(Header { name: self.string()?, value: self.string()? });
        }
        Some(Headers(h))
    }

    fn body(&mut self) -> Option<Option<Box<Body>>> {
        self.opt(|r| {
            Some(Box::new(Body {
                raw: r.bytes()?.to_vec(),
                state: r.one_of(&BODY_STATES)?,
                stored_as: r.opt_string()?,
                mime: r.opt_string()?,
                declared_size: r.opt_u64()?,
                omitted: r.byte()? != 0,
            }))
        })
    }
}

/// The exchange whose form `b` holds; `None` if it is not one whole form.
pub fn decode(b: &[u8]) -> Option<Exchange> {
    let mut r = Reader { b };
    let origin = r.origin()?;
    let started = r.time()?;
    let duration_ms = r.opt(|r| {
        let x = r.b.get(..8)?;
        r.b = &r.b[8..];
        Some(f64::from_bits(u64::from_le_bytes(x.try_into().ok()?)))
    })?;
    let request = Request {
        method: r.string()?,
        url: r.string()?,
        http_version: r.string()?,
        headers: r.headers()?,
        body: r.body()?,
    };
    let response = r.opt(|r| {
        Some(Response {
            status: u16::try_from(r.u64()?).ok()?,
            reason: r.string()?,
            http_version: r.string()?,
            headers: r.headers()?,
            body: r.body()?,
        })
    })?;
    let mut ex = Exchange::new(origin, started, request);
    ex.duration_ms = duration_ms;
    ex.response = response;
    ex.server = r.opt_string()?;
    ex.client = r.opt_string()?;
    ex.connection = r.opt_string()?;
    ex.stream = r.opt_u64()?;
    let n = r.count()?;
    ex.websocket.reserve_exact(n);
    for _ in 0..n {
        ex.websocket.push(WsMessage {
            time: r.time()?,
            direction: r.one_of(&DIRECTIONS)?,
            opcode: r.one_of(&OPCODES)?,
            data: r.bytes()?.to_vec(),
            frame: r.opt_u64()?,
        });
    }
    let n = r.count()?;
    ex.notes.reserve_exact(n);
    for _ in 0..n {
        ex.notes.push(Note {
            level: r.one_of(&LEVELS)?,
            code: r.string()?,
            message: r.string()?,
            at: r.opt(Reader::origin)?,
        });
    }
    ex.unrecorded = Unrecorded::from_bits(r.byte()?);
    ex.identity = r.opt(|r| Some(Identity { source: r.string()?, name: r.string()? }))?;
    r.b.is_empty().then_some(ex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_exchange_comes_back_as_it_went() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file() && !p.extension().is_some_and(|x| x == "md" || x == "py" || x == "sh" || x == "toml")
            })
            .collect();
        let capture = crate::ingest::load(&files, crate::ingest::IngestOptions::default());
        assert!(capture.exchanges.len() > 100, "{}", capture.exchanges.len());
        let mut spill = Spill::new().expect("a temporary file");
        let mut trimmed = Vec::new();
        for ex in &capture.exchanges {
            let mut buf = Vec::new();
            encode(ex, &mut buf);
            assert_eq!(decode(&buf).as_ref(), Some(ex), "{:?}", ex.origin);
            // Cut short or with a byte more, it is not a form.
            assert!(decode(&buf[..buf.len() - 1]).is_none());
            buf.push(0);
            assert!(decode(&buf).is_none());
            let mut t = ex.clone();
            crate::keep::trim(&mut t);
            spill.push(&t, Kind::REFUSAL);
            trimmed.push(t);
        }
        let spilled = spill.finish().unwrap();
        assert_eq!(spilled.len(), trimmed.len());
        trimmed.sort_by_key(order_of);
        for (i, t) in trimmed.iter().enumerate() {
            assert_eq!(spilled.get(i).as_ref(), Some(t));
        }
    }

    #[test]
    fn records_move_to_disk_past_a_mebibyte_and_sort_in_place() {
        let mut r: Records<u64> = Records::default();
        let n = 3 * IN_MEMORY / 8 + 5;
        for i in 0..n as u64 {
            r.push(i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            if i == 1000 {
                assert!(r.disk.is_none(), "a few records stay in memory");
            }
        }
        assert!(r.disk.is_some() && r.mem.is_empty(), "past 1 MiB the records are on disk");
        assert_eq!(r.len(), n);
        r.as_mut_slice().sort_unstable();
        let mut want: Vec<u64> = (0..n as u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        want.sort_unstable();
        assert_eq!(r.as_slice(), &want[..]);
    }

    #[test]
    fn garbage_is_no_exchange() {
        for b in [
            &b""[..],
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\x00\x00\x00\x00\x00",
            b"\x01\x02\xff\xff\xff\xff\x7f",
        ] {
            assert!(decode(b).is_none());
        }
    }
}
