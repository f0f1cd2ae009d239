//! Reading inputs into the [`Capture`] model.
//!
//! The format of every input is detected from its content ([`detect`]), never from its name.
//! Each format lives in its own file and pushes exchanges, one at a time, into a [`ReadCx`];
//! a malformed entry or packet becomes a [`Note`] and reading goes on. Only an input that cannot
//! be read at all (or stops being readable part way) is an error, and the error names the file
//! and the byte or entry where it broke; the other inputs are still read.
//!
//! Inputs are read in parallel (rayon) and merged in time order.

pub mod burp;
pub mod chlsj;
pub mod decompress;
pub mod har;
pub mod http1;
pub mod logs;
pub mod mitm;
pub mod pcap;
pub mod saz;
pub mod tnetstring;

use crate::model::{Capture, Exchange, Format, Input, Note};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Which bodies to keep in memory. Sizes are always kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyPolicy {
    /// Keep every body.
    All,
    /// Keep none (listing exchanges needs sizes only).
    None,
    /// Keep what the analysis reads: bodies that can carry JSON, forms or tokens (JSON, form,
    /// plain text, JWT, or no declared type) up to [`ANALYSIS_BODY_CAP`] bytes. HTML, XML,
    /// scripts, styles, images, media and fonts are dropped (their size is kept): nothing in
    /// the analysis reads them.
    Analysis,
}

/// Largest body kept under [`BodyPolicy::Analysis`]: token replies, conversation resources
/// and error bodies are a few KiB; a larger JSON body is a listing the analysis does not split.
pub const ANALYSIS_BODY_CAP: usize = 1 << 20;

/// Which headers a reader keeps of each exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderPolicy {
    /// Every header, in order.
    #[default]
    All,
    /// Those the analysis reads ([`crate::keep::request_header_read`],
    /// [`crate::keep::response_header_read`]), in order; the others are skipped as they are
    /// read, not copied (HAR, and the HTTP/1 messages of captures, Burp and SAZ, which also
    /// keep what their reader reads: [`http1::kept_by`]). For readers that fold what they read
    /// ([`crate::analysis::load`]), and for `exchanges` and `stats`, whose rows and groups read
    /// no other header (the credential, the `Host` of a URL without one).
    Analysis,
}

#[derive(Debug, Clone, Copy)]
pub struct IngestOptions {
    pub bodies: BodyPolicy,
    pub headers: HeaderPolicy,
    /// A user-defined access-log format (`--log-format FILE`), tried before the built-in ones.
    pub log_format: Option<&'static logs::UserFormat>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions { bodies: BodyPolicy::Analysis, headers: HeaderPolicy::All, log_format: None }
    }
}

impl IngestOptions {
    /// Whether a body of this media type and size should be kept.
    pub fn keep_body(&self, mime: Option<&str>, len: usize) -> bool {
        match self.bodies {
            BodyPolicy::All => true,
            BodyPolicy::None => false,
            BodyPolicy::Analysis => len <= ANALYSIS_BODY_CAP && is_textual(mime),
        }
    }
}

/// How far ahead of what a reader parses it asks for the bytes of a mapped input (a prefetch
/// hint). The readers are the first to touch the file's pages and waited on memory at each new
/// page: 12% of `analyze`'s CPU on the 1 GB HAR went to the scanner, 5% with the hint.
pub(crate) const PREFETCH: usize = 4096;

/// Ask for the cache lines of `data[from..to]` shifted [`PREFETCH`] bytes ahead (those past
/// the end are not asked for). Only a hint: nothing is read.
#[inline]
pub(crate) fn prefetch(data: &[u8], from: usize, to: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        let end = to.saturating_add(PREFETCH).min(data.len());
        let mut at = from.saturating_add(PREFETCH);
        while at < end {
            // SAFETY: a prefetch is a hint that never faults; the address is inside `data`.
            unsafe {
                std::arch::x86_64::_mm_prefetch(data.as_ptr().add(at) as *const i8, std::arch::x86_64::_MM_HINT_T0)
            };
            at += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, from, to);
}

/// Whether a body of this media type may hold what the analysis reads (JSON, a form, a token);
/// an undeclared type counts, since APIs mislabel JSON.
pub fn is_textual(mime: Option<&str>) -> bool {
    let Some(m) = mime else { return true };
    let m = m.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    m.is_empty()
        || m.contains("json")
        || m.contains("x-www-form-urlencoded")
        || m == "text/plain"
        || m == "application/jwt"
        || m == "application/octet-stream"
        || m == "x-unknown"
}

/// Work on each exchange that a reader may run in parallel, before the exchange is handed on
/// (e.g. dropping what the caller will not read).
pub type Prepare<'a> = &'a (dyn Fn(&mut Exchange) + Sync);

/// The state of one input being read: where its exchanges and notes go.
pub struct ReadCx<'a> {
    pub input: usize,
    pub opts: IngestOptions,
    pub notes: Vec<Note>,
    pub creator: Option<String>,
    pub count: usize,
    /// Run on every exchange before the sink: by [`ReadCx::emit`], or by a reader that runs it
    /// on its worker threads and then calls [`ReadCx::emit_prepared`].
    pub prepare: Option<Prepare<'a>>,
    sink: &'a mut dyn FnMut(Exchange),
}

impl<'a> ReadCx<'a> {
    pub fn new(input: usize, opts: IngestOptions, sink: &'a mut dyn FnMut(Exchange)) -> Self {
        ReadCx { input, opts, notes: Vec::new(), creator: None, count: 0, prepare: None, sink }
    }
    /// Hand one exchange on. Its `origin.input` must be `self.input`.
    pub fn emit(&mut self, mut ex: Exchange) {
        if let Some(p) = self.prepare {
            p(&mut ex);
        }
        self.emit_prepared(ex)
    }
    /// Hand on an exchange that [`ReadCx::prepare`] already ran on.
    pub fn emit_prepared(&mut self, ex: Exchange) {
        self.count += 1;
        (self.sink)(ex)
    }
    pub fn note(&mut self, note: Note) {
        self.notes.push(note)
    }
}

/// Why an input could not be read (to the end). The message names the position.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ReadError {
    pub message: String,
}

impl ReadError {
    pub fn new(message: impl Into<String>) -> Self {
        ReadError { message: message.into() }
    }
}

/// Identify a format from the first bytes of an input.
pub fn detect(head: &[u8]) -> Result<Format, String> {
    let b = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if b.len() >= 4 {
        match [b[0], b[1], b[2], b[3]] {
            [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0xa1, 0xb2, 0xcd, 0x34]
            | [0x34, 0xcd, 0xb2, 0xa1] => return Ok(Format::Pcap),
            [0x0a, 0x0d, 0x0d, 0x0a] => return Ok(Format::Pcapng),
            [b'P', b'K', 0x03, 0x04] | [b'P', b'K', 0x05, 0x06] => return Ok(Format::Saz),
            _ => {}
        }
        if let Some(e) = pcapng_block_without_shb(b) {
            return Err(e);
        }
    }
    let text = trim_ws(b);
    if text.starts_with(b"{") {
        let window = &text[..text.len().min(64 * 1024)];
        if contains(window, b"\"log\"") {
            return Ok(Format::Har);
        }
        if contains(window, b"\"entries\"") && contains(window, b"\"request\"") {
            return Ok(Format::Har);
        }
        // One JSON object per line: an access log.
        if let Some(nl) = text.iter().position(|&c| c == b'\n') {
            if trim_ws(&text[..nl]).ends_with(b"}") {
                return Ok(Format::Jsonl);
            }
        }
        if logs::looks_like(text) {
            return Ok(Format::Log);
        }
        return Err(format!("JSON object without a HAR \"log\" (starts {})", show_head(b)));
    }
    if text.starts_with(b"[") && logs::looks_like(text) {
        return Ok(Format::Log);
    }
    if text.starts_with(b"[") {
        return Ok(Format::Chlsj);
    }
    if text.starts_with(b"<") {
        let window = &text[..text.len().min(4096)];
        if contains(window, b"<items") {
            return Ok(Format::Burp);
        }
        if logs::looks_like(text) {
            // `<134>1 2024-...`: syslog lines with a priority.
            return Ok(Format::Log);
        }
        return Err(format!("XML that is not a Burp items export (starts {})", show_head(b)));
    }
    // mitmproxy flows are tnetstrings: `<digits>:<payload><type>`.
    if let Some(colon) = b.iter().take(12).position(|&c| c == b':') {
        if colon > 0 && b[..colon].iter().all(u8::is_ascii_digit) {
            return Ok(Format::Mitm);
        }
    }
    if b.is_empty() {
        return Err("empty file".into());
    }
    if logs::looks_like(b) {
        return Ok(Format::Log);
    }
    Err(format!("unknown format (starts {})", show_head(b)))
}

/// A file that starts with a pcapng block other than the Section Header Block (for instance a
/// fragment cut out of a pcapng): name what it looks like instead of "unknown format".
fn pcapng_block_without_shb(b: &[u8]) -> Option<String> {
    let name = |t: u32| match t {
        1 => Some("Interface Description"),
        2 => Some("(obsolete) Packet"),
        3 => Some("Simple Packet"),
        4 => Some("Name Resolution"),
        5 => Some("Interface Statistics"),
        6 => Some("Enhanced Packet"),
        _ => None,
    };
    let head: [u8; 8] = b.get(..8)?.try_into().ok()?;
    for be in [false, true] {
        let rd = |i: usize| {
            let w = [head[i], head[i + 1], head[i + 2], head[i + 3]];
            if be {
                u32::from_be_bytes(w)
            } else {
                u32::from_le_bytes(w)
            }
        };
        let (t, len) = (rd(0), rd(4));
        if let Some(n) = name(t) {
            if len >= 12 && len.is_multiple_of(4) && len <= 1 << 24 {
                let cut = if (len as usize) > b.len() {
                    format!(", cut off: it declares {len} bytes and the file has {}", b.len())
                } else {
                    String::new()
                };
                return Some(format!(
                    "byte 0: starts with a pcapng {n} Block but no Section Header Block, which every pcapng file must begin with{cut}; not a readable pcapng (a fragment of a capture?)"
                ));
            }
        }
    }
    None
}

fn trim_ws(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    &b[start..]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The first bytes of a file, for error messages: hex, plus printable text if any.
pub fn show_head(b: &[u8]) -> String {
    let n = b.len().min(8);
    let hex: Vec<String> = b[..n].iter().map(|c| format!("{c:02x}")).collect();
    let text: String =
        b[..b.len().min(16)].iter().map(|&c| if c.is_ascii_graphic() || c == b' ' { c as char } else { '.' }).collect();
    format!("{} \"{}\"", hex.join(" "), text)
}

/// Bytes of a non-regular input (stdin, a pipe) kept in memory before it is spooled to disk.
pub const SPOOL_IN_MEMORY: usize = 16 << 20;

/// The bytes of an input: memory-mapped when it is a regular file (or a long stream spooled
/// to disk), read otherwise.
pub enum Source {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Source {
    pub fn open(path: &Path) -> std::io::Result<Source> {
        if path.as_os_str() == "-" {
            return Source::spool(&mut std::io::stdin().lock());
        }
        let mut file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.len() > 0 {
            // SAFETY: the map is read-only; a file truncated under us while mapped can fault,
            // as in every mmap reader (ripgrep makes the same trade for speed).
            if let Ok(m) = unsafe { memmap2::Mmap::map(&file) } {
                let _ = m.advise(memmap2::Advice::Sequential);
                return Ok(Source::Mapped(m));
            }
        }
        if meta.is_file() {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut v)?;
            return Ok(Source::Owned(v));
        }
        // A pipe, FIFO, socket or device (`<(zcat x.har)`, /dev/stdin): spool it.
        Source::spool(&mut file)
    }

    /// Read a stream that cannot be mapped. The first [`SPOOL_IN_MEMORY`] bytes are kept in
    /// memory; a longer stream goes to an unlinked temporary file that is then mapped, so a
    /// multi-gigabyte pipe costs disk, not memory (like a regular file). Falls back to memory
    /// when no temporary file can be made.
    pub fn spool(r: &mut dyn std::io::Read) -> std::io::Result<Source> {
        use std::io::{Read, Write};
        let mut head = Vec::new();
        r.take(SPOOL_IN_MEMORY as u64 + 1).read_to_end(&mut head)?;
        if head.len() <= SPOOL_IN_MEMORY {
            return Ok(Source::Owned(head));
        }
        let Ok(mut file) = tempfile::tempfile() else {
            r.read_to_end(&mut head)?;
            return Ok(Source::Owned(head));
        };
        file.write_all(&head)?;
        drop(head);
        std::io::copy(r, &mut file)?;
        file.flush()?;
        // SAFETY: the file is private to this process (created, then unlinked at once).
        let m = unsafe { memmap2::Mmap::map(&file) }?;
        let _ = m.advise(memmap2::Advice::Sequential);
        Ok(Source::Mapped(m))
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(m) => m,
            Source::Owned(v) => v,
        }
    }

    /// Tell the kernel a consumed range will not be read again, so a large mapped input does
    /// not stay resident. Best effort; a no-op for owned buffers.
    pub fn release(&self, start: usize, end: usize) {
        #[cfg(unix)]
        if let Source::Mapped(m) = self {
            let page = 4096;
            let s = start.div_ceil(page) * page;
            let e = end / page * page;
            if e > s {
                // SAFETY: the mapping is private and read-only; dropped pages are re-read
                // from the file if touched again.
                let _ = unsafe { m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, s, e - s) };
            }
        }
    }
}

/// Read one input, pushing its exchanges into `sink`. Returns what is known of the input; its
/// `error` is set when it could not be read to the end.
pub fn read_input(path: &Path, input: usize, opts: IngestOptions, sink: &mut dyn FnMut(Exchange)) -> Input {
    read_input_with(path, input, opts, None, sink)
}

/// [`read_input`] with work to run on each exchange before the sink (see [`Prepare`]).
pub fn read_input_with(
    path: &Path,
    input: usize,
    opts: IngestOptions,
    prepare: Option<Prepare<'_>>,
    sink: &mut dyn FnMut(Exchange),
) -> Input {
    let (mut info, opened) = open_input(path, opts);
    let Some((src, format)) = opened else { return info };
    let mut cx = ReadCx::new(input, opts, sink);
    cx.prepare = prepare;
    let result = read_format(&src, format, &mut cx);
    finish_input(&mut info, cx, result);
    info
}

/// [`read_input`] where each exchange is first turned by `map` into what the caller keeps (or
/// nothing). Readers that parse on worker threads (access logs, HAR) run `map` there, so building
/// and formatting rows is parallel too; `sink` gets the values in input order.
pub fn read_input_map<T: Send>(
    path: &Path,
    input: usize,
    opts: IngestOptions,
    map: logs::MapFn<'_, T>,
    sink: &mut dyn FnMut(T),
) -> Input {
    let (mut info, opened) = open_input(path, opts);
    let Some((src, format)) = opened else { return info };
    let progress = crate::progress::Progress::new(1);
    let tick = |n| progress.exchanges_read(n);
    let each = logs::Counted { map, tick: &tick };
    let counted = |ex: Exchange| logs::LineMap::exchange(&each, ex);
    let mut unmapped = |ex: Exchange| {
        if let Some(t) = counted(ex) {
            sink(t)
        }
    };
    if matches!(format, Format::Log | Format::Jsonl | Format::Har) {
        let mut none = |_: Exchange| {};
        let mut cx = ReadCx::new(input, opts, &mut none);
        let result = match format {
            Format::Har => har::read_map(&src, &mut cx, &counted, sink),
            _ => logs::read_map(&src, &mut cx, &each, sink),
        };
        finish_input(&mut info, cx, result);
        progress.input_done();
        return info;
    }
    if !matches!(format, Format::Pcap | Format::Pcapng) {
        let mut cx = ReadCx::new(input, opts, &mut unmapped);
        let result = read_format(&src, format, &mut cx);
        finish_input(&mut info, cx, result);
        progress.input_done();
        return info;
    }
    // A capture is read on one thread (packets, then TCP streams, in order): `map` runs beside
    // it, a batch at a time, on a thread that does not use the pool (so this one may wait for
    // it wherever it runs). The exchanges it mapped from a borrow come back to be freed here.
    beside(
        MAP_BATCH,
        MAP_BATCHES,
        |read| {
            let mut cx = ReadCx::new(input, opts, read);
            let result = read_format(&src, format, &mut cx);
            finish_input(&mut info, cx, result);
        },
        |batch| {
            let mut out = Vec::with_capacity(batch.len());
            let mut back = Vec::with_capacity(batch.len());
            for ex in batch {
                match logs::LineMap::exchange_ref(&each, &ex) {
                    Some(t) => {
                        out.extend(t);
                        back.push(ex);
                    }
                    None => out.extend(logs::LineMap::exchange(&each, ex)),
                }
            }
            (out, back)
        },
        |(ts, _freed_here)| ts.into_iter().for_each(&mut *sink),
    );
    progress.input_done();
    info
}

/// Exchanges per batch handed to the mapping thread of a capture ([`read_input_map`]), and
/// batches waiting for it.
const MAP_BATCH: usize = 256;
const MAP_BATCHES: usize = 4;

/// Read on this thread while a second thread works on what was read: `read` gets the sink of
/// the exchanges, which go to `work` in batches of `size` (at most `waiting` full batches wait
/// for it). What `work` returns comes back, in order, to `done` on this thread (after each batch
/// handed on, and at the end), so that what it gives back is freed where it was allocated
/// (freeing another thread's memory is slow with every allocator). On a rayon worker (several
/// inputs read in parallel) the batches are worked on here, one after the other: a worker
/// waiting for `work`, which may wait for the pool, could be waiting for itself.
fn beside<O, R: Send>(
    size: usize,
    waiting: usize,
    read: impl FnOnce(&mut dyn FnMut(Exchange)) -> O,
    mut work: impl FnMut(Vec<Exchange>) -> R + Send,
    mut done: impl FnMut(R),
) -> O {
    if rayon::current_thread_index().is_some() {
        let mut batch = Vec::with_capacity(size);
        let out = read(&mut |ex| {
            batch.push(ex);
            if batch.len() >= size {
                done(work(std::mem::replace(&mut batch, Vec::with_capacity(size))));
            }
        });
        done(work(batch));
        return out;
    }
    std::thread::scope(|ts| {
        let (to_work, batches) = std::sync::mpsc::sync_channel::<Vec<Exchange>>(waiting);
        // Unbounded: the worker never waits, and this thread takes the results after every
        // batch it hands on, so at most the batches in flight wait here.
        let (to_done, results) = std::sync::mpsc::channel::<R>();
        let worker = ts.spawn(move || {
            for b in batches {
                if to_done.send(work(b)).is_err() {
                    break;
                }
            }
        });
        let mut batch = Vec::with_capacity(size);
        let out = read(&mut |ex| {
            batch.push(ex);
            if batch.len() >= size {
                // The worker ends only when this sender is dropped: a send fails only if it
                // panicked, which the join below reports.
                let _ = to_work.send(std::mem::replace(&mut batch, Vec::with_capacity(size)));
                results.try_iter().for_each(&mut done);
            }
        });
        let _ = to_work.send(batch);
        drop(to_work);
        results.iter().for_each(&mut done);
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic)
        }
        out
    })
}

/// Open an input, undo its compression and detect its format: the input's facts so far, and
/// its bytes and format when it can be read.
fn open_input(path: &Path, opts: IngestOptions) -> (Input, Option<(Source, Format)>) {
    let shown = path.display().to_string();
    let mut info =
        Input { path: shown.clone(), format: None, exchanges: 0, creator: None, notes: Vec::new(), error: None };
    let src = match Source::open(path) {
        Ok(s) => s,
        Err(e) => {
            info.error = Some(format!("{shown}: cannot read: {e}"));
            return (info, None);
        }
    };
    let (src, layers) = match decompress::unwrap_source(src) {
        Ok(x) => x,
        Err(e) => {
            info.error = Some(format!("{shown}: {}", e.message));
            return (info, None);
        }
    };
    for (c, packed, unpacked) in &layers {
        info.notes.push(Note::info(
            "input.compressed",
            format!("{c}-compressed: {packed} bytes decompressed to {unpacked} (in a temporary file)"),
        ));
    }
    let format = match detect(src.bytes()) {
        Ok(f) => f,
        Err(_) if opts.log_format.is_some_and(|u| logs::user_matches(u, src.bytes())) => Format::Log,
        Err(seen) => {
            info.error = Some(format!("{shown}: not a capture harken can read: {seen}"));
            return (info, None);
        }
    };
    info.format = Some(format);
    (info, Some((src, format)))
}

fn read_format(src: &Source, format: Format, cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    match format {
        Format::Har => har::read(src, cx),
        Format::Pcap | Format::Pcapng => pcap::read(src, format, cx),
        Format::Mitm => mitm::read(src, cx),
        Format::Burp => burp::read(src, cx),
        Format::Saz => saz::read(src, cx),
        Format::Chlsj => chlsj::read(src, cx),
        Format::Log | Format::Jsonl => logs::read(src, cx),
    }
}

fn finish_input(info: &mut Input, mut cx: ReadCx<'_>, result: Result<(), ReadError>) {
    info.exchanges = cx.count;
    info.creator = cx.creator.take();
    info.notes.append(&mut cx.notes);
    if let Err(e) = result {
        info.error = Some(format!("{}: {}", info.path, e.message));
    }
}

/// Read every input (in parallel) into one capture, exchanges merged in time order
/// (ties keep input order, then entry order).
pub fn load(paths: &[PathBuf], opts: IngestOptions) -> Capture {
    let (inputs, exchanges) = load_map(paths, opts, Some, |ex| (ex.started, ex.origin));
    Capture::new(inputs, exchanges, Vec::new())
}

/// Read every input (in parallel), turning each exchange into what the caller keeps (or
/// nothing) as soon as it is read, so memory holds only the kept values; then sort them by
/// `key`. This is how `exchanges` streams a multi-gigabyte input into a few rows.
pub fn load_map<T, K, F, G>(paths: &[PathBuf], opts: IngestOptions, map: F, key: G) -> (Vec<Input>, Vec<T>)
where
    T: Send,
    K: Ord,
    F: Fn(Exchange) -> Option<T> + Sync,
    G: Fn(&T) -> K + Sync,
{
    load_map_with(paths, opts, None, map, key)
}

/// [`load_map`] with work to run on each exchange first, in parallel where the reader can
/// (see [`Prepare`]).
pub fn load_map_with<T, K, F, G>(
    paths: &[PathBuf],
    opts: IngestOptions,
    prepare: Option<Prepare<'_>>,
    map: F,
    key: G,
) -> (Vec<Input>, Vec<T>)
where
    T: Send,
    K: Ord,
    F: Fn(Exchange) -> Option<T> + Sync,
    G: Fn(&T) -> K + Sync,
{
    let progress = crate::progress::Progress::new(paths.len());
    let one = |(i, p): (usize, &PathBuf)| {
        let mut kept = Vec::new();
        let info = read_input_with(p, i, opts, prepare, &mut |ex| {
            progress.exchange();
            kept.extend(map(ex))
        });
        progress.input_done();
        (info, kept)
    };
    let per_input = each_input(paths, one);
    progress.finish();
    merge_sorted(per_input, key)
}

/// `read` of every input, in parallel (one rayon task each). A single input is read on the
/// calling thread, outside the pool, so its reader can overlap its own stages with the pool's
/// work (see `har::read_entries`).
fn each_input<R: Send>(paths: &[PathBuf], read: impl Fn((usize, &PathBuf)) -> R + Sync) -> Vec<R> {
    if paths.len() == 1 {
        return vec![read((0, &paths[0]))];
    }
    paths.par_iter().enumerate().map(&read).collect()
}

/// The values of every input in one list, sorted by `key`.
fn merge_sorted<T: Send, K: Ord>(
    per_input: Vec<(Input, Vec<T>)>,
    key: impl Fn(&T) -> K + Sync,
) -> (Vec<Input>, Vec<T>) {
    let mut inputs = Vec::with_capacity(per_input.len());
    let mut all = Vec::new();
    for (info, mut kept) in per_input {
        inputs.push(info);
        if all.is_empty() {
            // One input (the usual case): its values are not copied.
            std::mem::swap(&mut all, &mut kept);
        } else {
            all.append(&mut kept);
        }
    }
    // Sorted in place (no buffer as large as the values). Keys are meant to be unique (they
    // end with the origin), so an unstable sort orders as a stable one would; already ordered
    // values (most HARs) are not moved at all.
    if !all.is_sorted_by_key(&key) {
        all.par_sort_unstable_by_key(|t| key(t));
    }
    all.shrink_to_fit();
    (inputs, all)
}

/// Read every input (in parallel), handing the exchanges to `fold` `batch` at a time: it
/// moves those it keeps to the input's kept list and leaves the rest in the batch, freed by the
/// reading thread. The kept exchanges of all inputs come back in time order.
pub fn load_batched(
    paths: &[PathBuf],
    opts: IngestOptions,
    batch: usize,
    fold: &(dyn Fn(&mut Vec<Exchange>, &mut Vec<Exchange>) + Sync),
) -> (Vec<Input>, Vec<Exchange>) {
    let progress = crate::progress::Progress::new(paths.len());
    // Reading and folding overlap: a second thread folds each batch (on the pool) while this
    // one reads the next (a capture is read on one thread, which otherwise waited for every
    // fold). Batches come back with what the fold did not keep, to be freed here, where they
    // were made. One batch waits at most.
    let one = |(i, p): (usize, &PathBuf)| {
        let mut kept = Vec::new();
        let info = beside(
            batch,
            0,
            |read| {
                read_input(p, i, opts, &mut |ex| {
                    progress.exchange();
                    read(ex)
                })
            },
            |mut b| {
                fold(&mut b, &mut kept);
                b
            },
            drop,
        );
        progress.input_done();
        (info, kept)
    };
    let per_input = each_input(paths, one);
    progress.finish();
    merge_sorted(per_input, |ex| (ex.started, ex.origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetch_asks_only_inside_the_input() {
        // Any range, near or past either end (a corrupt record length), is only a hint.
        let data = vec![7u8; 3 * PREFETCH];
        for (from, to) in
            [(0, 0), (0, 64), (PREFETCH, 3 * PREFETCH), (3 * PREFETCH, usize::MAX), (usize::MAX - 1, usize::MAX)]
        {
            prefetch(&data, from, to);
            prefetch(&[], from, to);
        }
    }

    #[test]
    fn detects_by_content() {
        assert_eq!(detect(b"\xef\xbb\xbf{\"log\": {}}"), Ok(Format::Har));
        assert_eq!(detect(b"  {\n \"log\": {\"entries\": []}}"), Ok(Format::Har));
        assert_eq!(detect(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]), Ok(Format::Pcap));
        assert_eq!(detect(&[0xa1, 0xb2, 0x3c, 0x4d, 0, 2]), Ok(Format::Pcap));
        assert_eq!(detect(&[0x0a, 0x0d, 0x0d, 0x0a, 0, 0]), Ok(Format::Pcapng));
        assert_eq!(detect(b"PK\x03\x04rest"), Ok(Format::Saz));
        assert_eq!(detect(b"<?xml version=\"1.0\"?>\n<items burpVersion=\"2023\">"), Ok(Format::Burp));
        assert_eq!(detect(b"1234:{\"a\":1}"), Ok(Format::Mitm));
        assert_eq!(detect(b"{\"ts\":1,\"status\":401}\n{\"ts\":2}\n"), Ok(Format::Jsonl));
        assert_eq!(detect(b"[{\"status\":\"COMPLETE\"}]"), Ok(Format::Chlsj));
        assert!(detect(b"").unwrap_err().contains("empty"));
        let e = detect(b"I'm not a saz file!").unwrap_err();
        assert!(e.contains("49 27 6d") && e.contains("I'm not a saz"), "{e}");
        assert!(detect(b"{\"hello\": 1}").unwrap_err().contains("HAR"));
    }

    #[test]
    fn long_streams_are_spooled_to_a_mapped_file_short_ones_kept() {
        let short = b"{\"log\": {}}".to_vec();
        let s = Source::spool(&mut &short[..]).unwrap();
        assert!(matches!(s, Source::Owned(_)));
        assert_eq!(s.bytes(), &short[..]);
        let long: Vec<u8> = (0..SPOOL_IN_MEMORY + 12345).map(|i| (i % 253) as u8).collect();
        let s = Source::spool(&mut &long[..]).unwrap();
        assert!(matches!(s, Source::Mapped(_)), "spooled to disk");
        assert_eq!(s.bytes().len(), long.len());
        assert!(s.bytes() == &long[..]);
    }

    #[test]
    fn analysis_keeps_only_bodies_it_can_read() {
        let o = IngestOptions { bodies: BodyPolicy::Analysis, ..Default::default() };
        assert!(o.keep_body(Some("application/json; charset=utf-8"), 100));
        assert!(o.keep_body(Some("application/vnd.api+json"), 100));
        assert!(o.keep_body(Some("application/x-www-form-urlencoded"), 100));
        assert!(o.keep_body(None, 100));
        assert!(!o.keep_body(Some("text/html"), 100));
        assert!(!o.keep_body(Some("image/png"), 100));
        assert!(!o.keep_body(Some("application/json"), ANALYSIS_BODY_CAP + 1));
        assert!(!IngestOptions { bodies: BodyPolicy::None, ..Default::default() }.keep_body(None, 1));
    }
}
