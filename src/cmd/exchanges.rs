//! `harken exchanges`: one row per exchange, filtered, in time order across all inputs.

use super::{code, report_errors};
use crate::cli::ExchangesArgs;
use crate::filter::Pick;
use crate::ingest::logs::{LineMap, Record};
use crate::ingest::{self, BodyPolicy, HeaderPolicy, IngestOptions};
use crate::model::{Exchange, Origin};
use crate::report::rows::{ExchangeRow, RowParts, RowRef};
use crate::report::{self, Format};
use crate::settings::{Settings, Window};
use crate::token::{primary_credential, Credential};
use chrono::{DateTime, Utc};
use std::io::Write;

/// The filters of `harken exchanges`.
pub struct Filter {
    pick: Pick,
    host: Option<String>,
    window: Window,
}

impl Filter {
    pub fn new(a: &ExchangesArgs, window: Window) -> anyhow::Result<Filter> {
        Ok(Filter {
            pick: Pick::parse(a.status.as_deref(), a.method.as_deref(), a.path.as_deref())?,
            host: a.host.as_ref().map(|h| h.to_ascii_lowercase()),
            window,
        })
    }

    pub fn keep(&self, ex: &Exchange) -> bool {
        self.keep_parts(&RowParts::of(ex))
    }

    /// [`Filter::keep`] on a row's parts (a log record's, without its exchange).
    pub fn keep_parts(&self, p: &RowParts<'_>) -> bool {
        if !self.pick.keeps_parts(p.status, p.method, || p.host_and_path().1) {
            return false;
        }
        if let Some(h) = &self.host {
            let (host, _) = p.host_and_path();
            let ok = match h.strip_prefix("*.") {
                Some(suffix) => host == suffix || host.ends_with(&format!(".{suffix}")),
                None => host == h.as_str(),
            };
            if !ok {
                return false;
            }
        }
        self.window.contains(p.started)
    }
}

/// Rows held back to put one input in time order while streaming it (`stream_one`).
const REORDER_WINDOW: usize = 1 << 16;

/// A row with its sort key, ordered by the key alone (for the reorder heap). NDJSON rows are
/// formatted on the reader's worker threads (access logs parse in parallel), so they wait here
/// as their finished line.
struct Keyed((DateTime<Utc>, Origin), Made);

enum Made {
    Row(Box<ExchangeRow>),
    /// A line as formatted on a worker outside an access log's chunks (a HAR's entries): a
    /// slice of that worker's buffer (see [`Slabs`]).
    Shared(bytes::Bytes),
    /// A line waiting in the reorder window, in its own allocation.
    Line(Box<[u8]>),
    /// A line of an access log as formatted on a worker: where it is in its chunk's buffer
    /// (start, length). The buffer comes first ([`Made::Buffer`]); `stream_one` numbers it.
    Span(u32, u32),
    /// The buffer the lines of one chunk of an access log were written into, handed on before
    /// them (the key is not used).
    Buffer(Vec<u8>),
    /// A [`Made::Span`] numbered: buffer, start, length.
    At(u64, u32, u32),
}

/// Where rows go: a renderer, or (NDJSON formatted beforehand) the output itself.
enum Dest<'w> {
    Sink(Box<dyn report::Sink<ExchangeRow> + 'w>),
    Raw(&'w mut dyn Write),
}

/// What each record or exchange becomes on the workers: filtered, then a row (NDJSON: its line,
/// written straight into the worker's buffer).
struct Make<'a> {
    filter: &'a Filter,
    path: &'a str,
    /// `{"input":"<path>","index":`, escaped once.
    prefix: Vec<u8>,
    show_secrets: bool,
    lines: bool,
    /// Chunk buffers whose lines have all been written, for the workers to fill again (fresh
    /// memory is memory the kernel must fault in and zero).
    spare: std::sync::Mutex<Vec<Vec<u8>>>,
}

/// Chunk buffers kept for reuse ([`Make::spare`]), and the size of a new one (an access log's
/// chunk is 1 MiB; its NDJSON is about 1.6 times that).
const SPARE_BUFFERS: usize = 16;
const BUFFER: usize = 2 << 20;

thread_local! {
    /// The buffer of the access-log chunk this worker is reading (between
    /// [`LineMap::chunk_start`] and [`LineMap::chunk_done`]), if any.
    static CHUNK: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
}

impl Make<'_> {
    fn made(&self, parts: &RowParts<'_>, credential: Option<&Credential>) -> Option<Keyed> {
        let key = (parts.started, parts.origin);
        let row = RowRef::new(parts, credential, self.show_secrets);
        if !self.lines {
            return Some(Keyed(key, Made::Row(Box::new(row.to_row(self.path)))));
        }
        // In an access log's chunk: the line goes at the end of the chunk's buffer, which is
        // handed on whole (no allocation, no shared count per line).
        let span = CHUNK.with_borrow_mut(|chunk| {
            chunk.as_mut().map(|buf| {
                let start = buf.len();
                row.write_line(&self.prefix, buf);
                Made::Span(start as u32, (buf.len() - start) as u32)
            })
        });
        if let Some(span) = span {
            return Some(Keyed(key, span));
        }
        // Elsewhere the NDJSON line, written at the end of this worker's buffer and handed on
        // as a slice of it: no allocation per row on the workers (a row allocated here and
        // freed on the writing thread made the allocator build fresh pages all the time: 12% of
        // a run).
        SLABS.with_borrow_mut(|slabs| {
            let slab = slabs.current();
            row.write_line(&self.prefix, slab);
            Some(Keyed(key, Made::Shared(slab.split().freeze())))
        })
    }

    /// A chunk buffer whose lines are written, for reuse.
    fn give_back(&self, mut buf: Vec<u8>) {
        buf.clear();
        if let Ok(mut spare) = self.spare.lock() {
            if spare.len() < SPARE_BUFFERS {
                spare.push(buf);
            }
        }
    }
}

/// Bytes of a worker's output buffer ([`Slabs`]).
const SLAB: usize = 512 * 1024;
/// Buffers a worker keeps for reuse: enough for the lines of two batches in flight (the one
/// being written and the one being parsed, about 1.6 bytes of NDJSON per byte of input).
const SPARE_SLABS: usize = 48;

thread_local!(static SLABS: std::cell::RefCell<Slabs> = std::cell::RefCell::new(Slabs::default()));

/// A worker's output buffers. Lines are slices of them; a buffer whose lines have all been
/// written (no slice of it is left) is taken again instead of a new one, so a long run writes
/// into the same warm memory instead of new pages the kernel must fault in and zero (on a
/// 256 MB access log: a fifth fewer page faults, a third of the system time).
#[derive(Default)]
struct Slabs {
    current: Option<bytes::BytesMut>,
    spare: std::collections::VecDeque<bytes::BytesMut>,
}

impl Slabs {
    /// The buffer to write the next line into, with room for a typical line.
    fn current(&mut self) -> &mut bytes::BytesMut {
        if self.current.as_ref().is_none_or(|c| c.capacity() < 16 * 1024) {
            if let Some(full) = self.current.take() {
                self.spare.push_back(full);
            }
            // Oldest first: its lines are the likeliest to have been written.
            let free = self.spare.iter_mut().position(|b| b.try_reclaim(SLAB));
            let next = match free.and_then(|i| self.spare.remove(i)) {
                Some(b) => b,
                None => bytes::BytesMut::with_capacity(SLAB),
            };
            while self.spare.len() > SPARE_SLABS {
                self.spare.pop_front();
            }
            self.current = Some(next);
        }
        self.current.get_or_insert_with(|| bytes::BytesMut::with_capacity(SLAB))
    }
}

impl LineMap<Keyed> for Make<'_> {
    fn exchange(&self, ex: Exchange) -> Option<Keyed> {
        self.exchange_ref(&ex).flatten()
    }
    fn exchange_ref(&self, ex: &Exchange) -> Option<Option<Keyed>> {
        let parts = RowParts::of(ex);
        if !self.filter.keep_parts(&parts) {
            return Some(None);
        }
        let credential = primary_credential(ex);
        Some(self.made(&parts, credential.as_ref()))
    }
    fn record(&self, r: &Record, origin: Origin, fallback: DateTime<Utc>) -> Option<Option<Keyed>> {
        let parts = r.row_parts(origin, fallback)?;
        if !self.filter.keep_parts(&parts) {
            return Some(None);
        }
        let credential = r.identity_credential();
        Some(self.made(&parts, credential.as_deref()))
    }
    fn chunk_start(&self) {
        if self.lines {
            let buf = self.spare.lock().ok().and_then(|mut s| s.pop()).unwrap_or_else(|| Vec::with_capacity(BUFFER));
            CHUNK.set(Some(buf));
        }
    }
    fn chunk_done(&self) -> Option<Keyed> {
        let mut buf = CHUNK.take()?;
        // Few lines kept (a filter): they go on in a buffer of their size, and the large one
        // back to the spares at once. Lines wait in the reorder window for 65,536 rows, which
        // a sparse filter spreads over hundreds of chunks: each holding a whole buffer made
        // `--status 401,403` on the 1 GB log take 506 MB instead of 84.
        if buf.len() < buf.capacity() / 4 {
            let small = buf.clone();
            self.give_back(std::mem::replace(&mut buf, small));
        }
        Some(Keyed((DateTime::UNIX_EPOCH, Origin::entry(0, 0)), Made::Buffer(buf)))
    }
}

impl PartialEq for Keyed {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Keyed {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.cmp(&o.0)
    }
}

/// The reorder window: the smallest item first. Items arriving in order (nearly all of them
/// in a log) go to the back of a sorted run at no cost; the others wait in a heap.
struct Reorder<T: Ord> {
    run: std::collections::VecDeque<T>,
    rest: std::collections::BinaryHeap<std::cmp::Reverse<T>>,
}

impl<T: Ord> Reorder<T> {
    fn new() -> Self {
        Reorder { run: std::collections::VecDeque::new(), rest: std::collections::BinaryHeap::new() }
    }
    fn len(&self) -> usize {
        self.run.len() + self.rest.len()
    }
    fn push(&mut self, t: T) {
        if self.run.back().is_none_or(|b| *b <= t) {
            self.run.push_back(t);
        } else {
            self.rest.push(std::cmp::Reverse(t));
        }
    }
    fn pop(&mut self) -> Option<T> {
        match (self.run.front(), self.rest.peek()) {
            (Some(a), Some(std::cmp::Reverse(b))) if b < a => self.rest.pop().map(|r| r.0),
            (Some(_), _) => self.run.pop_front(),
            (None, _) => self.rest.pop().map(|r| r.0),
        }
    }
}

/// The writing end of [`stream_one`]: rows in order to the output; the lines of an access log
/// from the chunk buffers they were formatted in, a run of neighbouring lines in one write.
struct Out<'w, 'm> {
    dest: Dest<'w>,
    make: &'m Make<'m>,
    /// Chunk buffers with lines still to write, numbered from `first`, and how many of their
    /// lines wait in the reorder window.
    bufs: std::collections::VecDeque<(Vec<u8>, usize)>,
    first: u64,
    /// Lines read from the buffers but not yet written: buffer, start, end, lines.
    run: Option<(u64, usize, usize, usize)>,
    err: Option<std::io::Error>,
}

impl Out<'_, '_> {
    /// A chunk buffer arrives (its lines follow).
    fn buffer(&mut self, b: Vec<u8>) {
        self.bufs.push_back((b, 0));
    }

    /// A line of the newest buffer (start, length) waits to be written: numbered.
    fn hold(&mut self, start: u32, len: u32) -> Made {
        let n = self.first + self.bufs.len().saturating_sub(1) as u64;
        if let Some(b) = self.bufs.back_mut() {
            b.1 += 1;
        }
        Made::At(n, start, len)
    }

    /// The bytes of a line of buffer `n`.
    fn line(&self, n: u64, start: u32, len: u32) -> &[u8] {
        let (s, e) = (start as usize, start as usize + len as usize);
        self.bufs.get((n - self.first) as usize).and_then(|b| b.0.get(s..e)).unwrap_or_default()
    }

    /// Write one row.
    fn emit(&mut self, k: Keyed) -> (DateTime<Utc>, Origin) {
        if let Made::At(n, start, len) = k.1 {
            let (s, e) = (start as usize, start as usize + len as usize);
            match &mut self.run {
                Some((rn, _, end, lines)) if *rn == n && *end == s => {
                    *end = e;
                    *lines += 1;
                }
                _ => {
                    self.flush();
                    self.run = Some((n, s, e, 1));
                }
            }
            return k.0;
        }
        self.flush();
        if self.err.is_none() {
            let r = match (&k.1, &mut self.dest) {
                (Made::Line(l), Dest::Raw(out)) => out.write_all(l),
                (Made::Shared(l), Dest::Raw(out)) => out.write_all(l),
                (Made::Row(r), Dest::Sink(sink)) => sink.row(r),
                _ => Ok(()),
            };
            if let Err(e) = r {
                self.err = Some(e);
            }
        }
        k.0
    }

    /// Write the run of buffered lines, and give back the buffers all of whose lines are
    /// written.
    fn flush(&mut self) {
        let Some((n, s, e, lines)) = self.run.take() else { return };
        let i = (n - self.first) as usize;
        if let (None, Dest::Raw(out), Some(b)) = (&self.err, &mut self.dest, self.bufs.get(i)) {
            if let Err(err) = out.write_all(b.0.get(s..e).unwrap_or_default()) {
                self.err = Some(err);
            }
        }
        if let Some(b) = self.bufs.get_mut(i) {
            b.1 = b.1.saturating_sub(lines);
        }
        // The newest buffer may still get lines: kept.
        while self.bufs.len() > 1 && self.bufs.front().is_some_and(|b| b.1 == 0) {
            if let Some((b, _)) = self.bufs.pop_front() {
                self.make.give_back(b);
            }
            self.first += 1;
        }
    }
}

/// One input, streamed: rows are written as they are read, through a window of
/// [`REORDER_WINDOW`] rows that puts a nearly ordered input (an access log writes a request when
/// it ends, so its lines are a little out of start order) in time order. Memory holds the
/// window, not the input. A row later than the whole window is written where it was read, and
/// counted on stderr. Inputs smaller than the window come out fully sorted, as with several
/// inputs.
fn stream_one(s: &Settings, filter: &Filter, format: Format, out: &mut dyn Write) -> anyhow::Result<i32> {
    let path = s.files[0].display().to_string();
    let lines = format == Format::Ndjson;
    let dest = if lines { Dest::Raw(out) } else { Dest::Sink(report::sink::<ExchangeRow>(format, out, &s.style())) };
    // Filtering, building the row and (NDJSON) formatting it run where the reader parses.
    let make = Make {
        filter,
        path: &path,
        prefix: RowRef::line_prefix(&path),
        show_secrets: s.show_secrets,
        lines,
        spare: std::sync::Mutex::new(Vec::new()),
    };
    let mut o = Out { dest, make: &make, bufs: Default::default(), first: 0, run: None, err: None };
    let mut heap: Reorder<Keyed> = Reorder::new();
    let mut last: Option<(DateTime<Utc>, Origin)> = None;
    let mut late = 0usize;
    let info = ingest::read_input_map(
        &s.files[0],
        0,
        s.ingest(IngestOptions { bodies: BodyPolicy::None, headers: HeaderPolicy::Analysis, ..Default::default() }),
        &make,
        &mut |k: Keyed| {
            if o.err.is_some() {
                return;
            }
            let k = match k {
                Keyed(_, Made::Buffer(b)) => {
                    o.buffer(b);
                    return;
                }
                Keyed(key, Made::Span(start, len)) => Keyed(key, o.hold(start, len)),
                k => k,
            };
            if last.is_some_and(|l| k.0 < l) {
                late += 1;
                o.emit(k);
                return;
            }
            // A line that waits in the heap (out of order) is copied into its own allocation,
            // so that it never keeps a buffer alive; the lines of the sorted run (all but a few)
            // stay in the buffers they were written in, which the run frees in order.
            let k = match k {
                Keyed(key, Made::Shared(l)) if heap.run.back().is_some_and(|b| b.0 > key) => {
                    Keyed(key, Made::Line(l.as_ref().into()))
                }
                Keyed(key, Made::At(n, start, len)) if heap.run.back().is_some_and(|b| b.0 > key) => {
                    let line: Box<[u8]> = o.line(n, start, len).into();
                    if let Some(b) = o.bufs.get_mut((n - o.first) as usize) {
                        b.1 -= 1;
                    }
                    Keyed(key, Made::Line(line))
                }
                k => k,
            };
            heap.push(k);
            if heap.len() > REORDER_WINDOW {
                if let Some(k) = heap.pop() {
                    last = Some(o.emit(k));
                }
            }
        },
    );
    while let Some(k) = heap.pop() {
        o.emit(k);
    }
    o.flush();
    if let Some(e) = o.err {
        return Err(e.into());
    }
    match o.dest {
        Dest::Sink(sink) => sink.finish()?,
        Dest::Raw(out) => out.flush()?,
    }
    let failed = report_errors(std::slice::from_ref(&info));
    if late > 0 {
        eprintln!(
            "harken: note: {late} row(s) of {} came more than {REORDER_WINDOW} rows out of time order and were written where they were read",
            crate::redact::escape(&path)
        );
    }
    Ok(code(failed))
}

pub fn run(a: &ExchangesArgs, s: &Settings, out: &mut dyn Write) -> anyhow::Result<i32> {
    let filter = Filter::new(a, s.window)?;
    let format = Format::from(a.format);
    if s.files.len() == 1 && format != Format::Table {
        return stream_one(s, &filter, format, out);
    }
    // Rows are made as exchanges are read: only the kept rows stay in memory.
    let paths: Vec<String> = s.files.iter().map(|p| p.display().to_string()).collect();
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let (inputs, rows) = ingest::load_map(
        &s.files,
        s.ingest(IngestOptions { bodies: BodyPolicy::None, headers: HeaderPolicy::Analysis, ..Default::default() }),
        |ex| {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            filter
                .keep(&ex)
                .then(|| (ex.started, ex.origin, ExchangeRow::new(&paths[ex.origin.input], &ex, s.show_secrets)))
        },
        |(t, o, _)| (*t, *o),
    );
    let failed = report_errors(&inputs);
    let total = seen.into_inner();
    let n = report::render(format, out, &s.style(), rows.into_iter().map(|(_, _, r)| r))?;
    if format == Format::Table {
        writeln!(out, "{n} exchange{} of {total}", if n == 1 { "" } else { "s" })?;
    }
    Ok(code(failed))
}
