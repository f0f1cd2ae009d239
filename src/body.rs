//! Message bodies: undo transfer and content codings, find the charset, parse JSON and forms.
//!
//! Decoding is done on demand (most bodies are never looked at) and capped: a decompression
//! bomb stops at [`MAX_DECODED`] bytes and becomes a note, not an out-of-memory. A body that
//! cannot be decoded is kept raw, with a note saying why.

use crate::model::{Body, BodyState, Headers, Note};
use std::borrow::Cow;
use std::cell::RefCell;
use std::io::Read;
use std::rc::{Rc, Weak};
use std::sync::{Condvar, Mutex, PoisonError};

/// Largest decoded body, after all content codings (64 MiB).
pub const MAX_DECODED: usize = 64 << 20;

/// Decoded bytes any one body may reach on its own (1 MiB). A body that expands past this
/// continues only while holding the one process-wide large-decode permit, kept for as long as
/// its [`Decoded`] lives. So however many threads decode at once, at most one body is larger
/// than this: peak memory is `threads × 1 MiB (plus decoder state) + 64 MiB`, not
/// `threads × 64 MiB` (80 small zstd bombs once took 0.6 GB on 2 threads and 2.8 GB on 16).
/// zstd windows are limited to 8 MiB, as RFC 9659 allows HTTP decoders to require. The permit is re-entrant per
/// thread, and a thread only waits for it while holding none, so it cannot deadlock.
pub const SMALL_DECODED: usize = 1 << 20;

static LARGE: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

thread_local! {
    static HELD: RefCell<Weak<Lease>> = const { RefCell::new(Weak::new()) };
}

/// The large-decode permit, held by one thread at a time (not `Send`: released where taken).
#[derive(Debug)]
pub struct Lease(std::marker::PhantomData<*const ()>);

impl Lease {
    fn acquire() -> Rc<Lease> {
        if let Some(l) = HELD.with(|h| h.borrow().upgrade()) {
            return l;
        }
        let (m, cv) = &LARGE;
        let mut busy = m.lock().unwrap_or_else(PoisonError::into_inner);
        while *busy {
            busy = cv.wait(busy).unwrap_or_else(PoisonError::into_inner);
        }
        *busy = true;
        drop(busy);
        let l = Rc::new(Lease(std::marker::PhantomData));
        HELD.with(|h| *h.borrow_mut() = Rc::downgrade(&l));
        l
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let (m, cv) = &LARGE;
        *m.lock().unwrap_or_else(PoisonError::into_inner) = false;
        cv.notify_one();
    }
}

/// A body made readable: its bytes after transfer and content decoding, and what went wrong.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    pub bytes: Cow<'a, [u8]>,
    pub notes: Vec<Note>,
    /// True when every coding was undone; false when `bytes` are (partly) still encoded.
    pub complete: bool,
    /// Held while `bytes` are larger than [`SMALL_DECODED`].
    _lease: Option<Rc<Lease>>,
}

/// Undo chunked framing (when the body still has it) and the Content-Encoding chain (when the
/// producer did not already), capped at [`MAX_DECODED`].
pub fn decode<'a>(body: &'a Body, headers: &Headers) -> Decoded<'a> {
    decode_capped(body, headers, MAX_DECODED)
}

pub fn decode_capped<'a>(body: &'a Body, headers: &Headers, cap: usize) -> Decoded<'a> {
    let mut notes = Vec::new();
    let mut lease = None;
    let mut bytes: Cow<'a, [u8]> = Cow::Borrowed(&body.raw);
    let mut state = body.state;
    if state == BodyState::Chunked {
        match dechunk(&bytes) {
            Ok(d) => bytes = Cow::Owned(d.body),
            Err(e) => {
                notes.push(Note::warning("body.chunked_invalid", format!("chunked framing is broken ({e}); kept raw")));
                return Decoded { bytes, notes, complete: false, _lease: lease };
            }
        }
        state = BodyState::ContentEncoded;
    }
    let codings: Vec<String> = headers
        .get_all("content-encoding")
        .flat_map(|v| v.split(','))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    if codings.is_empty() {
        return Decoded { bytes, notes, complete: true, _lease: lease };
    }
    if state == BodyState::Decoded {
        // Producers (browsers) store the decoded entity. Some do not: trust the bytes' magic.
        let first = codings.last().map(String::as_str).unwrap_or("");
        if !looks_encoded(first, &bytes) {
            return Decoded { bytes, notes, complete: true, _lease: lease };
        }
    }
    // Codings are listed in the order applied; undo them last first.
    for coding in codings.iter().rev() {
        match decompress_leased(coding, &bytes, cap, &mut lease) {
            Ok(Some(out)) => bytes = Cow::Owned(out),
            Ok(None) => {
                notes.push(Note::warning(
                    "body.too_large",
                    format!("{coding} body expands beyond {} MiB; decoding stopped (kept raw)", cap >> 20),
                ));
                return Decoded { bytes, notes, complete: false, _lease: lease };
            }
            Err(e) => {
                notes.push(Note::warning(
                    "body.decode_failed",
                    format!("{coding} body does not decode ({e}); kept raw"),
                ));
                return Decoded { bytes, notes, complete: false, _lease: lease };
            }
        }
    }
    Decoded { bytes, notes, complete: true, _lease: lease }
}

/// A gzip body that is one whole member declaring at most `max` bytes (its trailer's ISIZE),
/// decoded in one call by libdeflate into a buffer of that size. `None` for anything else: a
/// larger or lying size, several members, bytes after the member, a damaged stream; the
/// streaming decoder then gives the result or the error, so the outcome is the same either way.
///
/// Why: bodies are decoded when a rule looks into them (the timeline looks for a
/// conversation id in every reply of a covered host), and zlib's streaming inflate was 12% of
/// `analyze`'s CPU on the 1 GB benchmark capture; libdeflate decodes a whole buffer about
/// twice as fast.
fn gzip_whole(input: &[u8], max: usize) -> Option<Vec<u8>> {
    let trailer: [u8; 4] = input.get(input.len().checked_sub(4)?..)?.try_into().ok()?;
    let size = u32::from_le_bytes(trailer) as usize;
    if size > max {
        return None;
    }
    INFLATER.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Inflater::new();
        }
        let d = cell.as_ref()?;
        let mut out: Vec<u8> = Vec::with_capacity(size);
        let (mut used, mut made) = (0usize, 0usize);
        // SAFETY: `d` is a live decompressor owned by this thread; `input` is readable for its
        // length and `out`'s spare capacity writable for `size` bytes; libdeflate writes
        // within them and sets both counts on success.
        let r = unsafe {
            libdeflate_sys::libdeflate_gzip_decompress_ex(
                d.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                size,
                &mut used,
                &mut made,
            )
        };
        if r != libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS || used != input.len() || made > size {
            return None;
        }
        // SAFETY: libdeflate wrote `made` bytes (at most the capacity) on success.
        unsafe { out.set_len(made) };
        Some(out)
    })
}

/// libdeflate's decompressor, one per thread (allocated once: it holds its tables).
struct Inflater(std::ptr::NonNull<libdeflate_sys::libdeflate_decompressor>);

impl Inflater {
    fn new() -> Option<Inflater> {
        // SAFETY: allocates a decompressor; null when out of memory.
        std::ptr::NonNull::new(unsafe { libdeflate_sys::libdeflate_alloc_decompressor() }).map(Inflater)
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by `libdeflate_alloc_decompressor` and freed once, here.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

thread_local! {
    static INFLATER: RefCell<Option<Inflater>> = const { RefCell::new(None) };
}

fn looks_encoded(coding: &str, b: &[u8]) -> bool {
    match coding {
        "gzip" | "x-gzip" => b.starts_with(&[0x1f, 0x8b]),
        "zstd" => b.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
        // zlib header: CMF 0x78 and a valid check.
        "deflate" => b.len() >= 2 && b[0] & 0x0f == 8 && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0,
        // Brotli has no magic; a decoded JSON/text body starts with a printable byte.
        "br" => !b.is_empty() && std::str::from_utf8(b).is_err(),
        _ => false,
    }
}

/// Decompress one coding; `Ok(None)` when the output would pass `cap`. Output past
/// [`SMALL_DECODED`] waits for the large-decode permit, released when this returns.
pub fn decompress(coding: &str, input: &[u8], cap: usize) -> Result<Option<Vec<u8>>, String> {
    decompress_leased(coding, input, cap, &mut None)
}

fn decompress_leased(
    coding: &str,
    input: &[u8],
    cap: usize,
    lease: &mut Option<Rc<Lease>>,
) -> Result<Option<Vec<u8>>, String> {
    let capped = |mut r: Box<dyn Read + '_>, lease: &mut Option<Rc<Lease>>| -> Result<Option<Vec<u8>>, String> {
        let small = cap.min(SMALL_DECODED);
        let mut out = Vec::new();
        let n = (&mut r).take(small as u64 + 1).read_to_end(&mut out).map_err(|e| e.to_string())?;
        if n <= small {
            return Ok(Some(out));
        }
        if cap <= small {
            return Ok(None);
        }
        lease.get_or_insert_with(Lease::acquire);
        let rest = (cap - out.len()) as u64 + 1;
        (&mut r).take(rest).read_to_end(&mut out).map_err(|e| e.to_string())?;
        if out.len() > cap {
            return Ok(None);
        }
        Ok(Some(out))
    };
    match coding {
        "gzip" | "x-gzip" => match gzip_whole(input, cap.min(SMALL_DECODED)) {
            Some(out) => Ok(Some(out)),
            None => capped(Box::new(flate2::read::MultiGzDecoder::new(input)), lease),
        },
        "deflate" => {
            // RFC 9110 says zlib; some servers send raw deflate.
            match capped(Box::new(flate2::read::ZlibDecoder::new(input)), lease) {
                Ok(v) => Ok(v),
                Err(_) => capped(Box::new(flate2::read::DeflateDecoder::new(input)), lease),
            }
        }
        "br" => capped(
            Box::new(brotli_decompressor::reader::DecompressorCustomAlloc::new(
                input,
                Cells::Heap(vec![0u8; 4096].into_boxed_slice()),
                ZeroPages,
                brotli_decompressor::StandardAlloc::default(),
                brotli_decompressor::StandardAlloc::default(),
            )),
            lease,
        ),
        "zstd" => {
            let mut dec = zstd::stream::read::Decoder::new(input).map_err(|e| e.to_string())?;
            dec.window_log_max(23).map_err(|e| e.to_string())?;
            capped(Box::new(dec), lease)
        }
        other => Err(format!("unknown content coding {other:?}")),
    }
}

/// Brotli's byte buffers, its ring buffer above all: up to 16 MiB (the window a stream's first
/// bytes declare), zeroed before use. From the heap, every page of it was written (and, after
/// the heap gave memory back, faulted in) before a byte was decoded; a few hundred random
/// bodies labelled `br` on token endpoints spent 0.1 s of the one thread that learns tokens in
/// the 1 GB HAR that way. Large cells are fresh anonymous mappings instead: zero already, and
/// only the pages the decoder writes are ever touched.
struct ZeroPages;

/// A cell of [`ZeroPages`].
#[derive(Default)]
enum Cells {
    #[default]
    Empty,
    Heap(Box<[u8]>),
    Mapped(memmap2::MmapMut),
}

impl brotli_decompressor::SliceWrapper<u8> for Cells {
    fn slice(&self) -> &[u8] {
        match self {
            Cells::Empty => &[],
            Cells::Heap(b) => b,
            Cells::Mapped(m) => m,
        }
    }
}

impl brotli_decompressor::SliceWrapperMut<u8> for Cells {
    fn slice_mut(&mut self) -> &mut [u8] {
        match self {
            Cells::Empty => &mut [],
            Cells::Heap(b) => b,
            Cells::Mapped(m) => m,
        }
    }
}

impl brotli_decompressor::Allocator<u8> for ZeroPages {
    type AllocatedMemory = Cells;
    fn alloc_cell(&mut self, len: usize) -> Cells {
        if len >= SMALL_DECODED {
            if let Ok(m) = memmap2::MmapMut::map_anon(len) {
                return Cells::Mapped(m);
            }
        }
        Cells::Heap(vec![0u8; len].into_boxed_slice())
    }
    fn free_cell(&mut self, _cell: Cells) {}
}

/// The result of undoing chunked transfer coding.
#[derive(Debug, Clone, PartialEq)]
pub struct Dechunked {
    pub body: Vec<u8>,
    /// Trailer fields after the last chunk.
    pub trailers: Headers,
    /// Bytes of `input` consumed (through the final CRLF).
    pub consumed: usize,
}

/// Undo chunked transfer coding (RFC 9112 §7.1): hex sizes with optional extensions, then the
/// data, a zero-size last chunk and optional trailers. Lenient about bare LF line ends.
pub fn dechunk(input: &[u8]) -> Result<Dechunked, String> {
    let mut pos = 0;
    let mut body = Vec::new();
    loop {
        let line_end = find_line(&input[pos..]).ok_or("chunk size line is cut off")?;
        let line = &input[pos..pos + line_end.0];
        pos += line_end.1;
        let size_txt = line.split(|&c| c == b';').next().unwrap_or(b"");
        let size_txt = std::str::from_utf8(size_txt).map_err(|_| "chunk size is not text")?.trim();
        let size = usize::from_str_radix(size_txt, 16).map_err(|_| format!("chunk size {size_txt:?} is not hex"))?;
        if size == 0 {
            break;
        }
        if input.len() - pos < size {
            return Err(format!("chunk of {size} bytes is cut off after {}", input.len() - pos));
        }
        if body.len() + size > MAX_DECODED {
            return Err("chunked body exceeds the size cap".into());
        }
        body.extend_from_slice(&input[pos..pos + size]);
        pos += size;
        // CRLF after the data.
        if input[pos..].starts_with(b"\r\n") {
            pos += 2;
        } else if input[pos..].starts_with(b"\n") {
            pos += 1;
        } else if pos < input.len() {
            return Err("chunk data is not followed by CRLF".into());
        }
    }
    let mut trailers = Headers::new();
    while let Some((len, adv)) = find_line(&input[pos..]) {
        let line = &input[pos..pos + len];
        pos += adv;
        if line.is_empty() {
            break;
        }
        if let Some(colon) = line.iter().position(|&c| c == b':') {
            trailers.push(
                String::from_utf8_lossy(&line[..colon]).trim().to_string(),
                String::from_utf8_lossy(&line[colon + 1..]).trim().to_string(),
            );
        }
    }
    Ok(Dechunked { body, trailers, consumed: pos })
}

/// Length of the next line (without its terminator) and how far to advance past it.
fn find_line(b: &[u8]) -> Option<(usize, usize)> {
    let nl = memchr::memchr(b'\n', b)?;
    let len = if nl > 0 && b[nl - 1] == b'\r' { nl - 1 } else { nl };
    Some((len, nl + 1))
}

/// The charset named in a Content-Type (`text/html; charset=ISO-8859-1` → `ISO-8859-1`).
pub fn charset(content_type: Option<&str>) -> Option<&str> {
    content_type?.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches('"'))
    })
}

/// Bytes to text using the declared charset (default UTF-8; a BOM wins). Invalid sequences
/// become U+FFFD.
pub fn to_text<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    let enc = charset(content_type)
        .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = enc.decode(bytes);
    text
}

/// The decoded text of a message body, or None when there is no (kept) body.
pub fn text(headers: &Headers, body: Option<&Body>) -> Option<String> {
    let body = body.filter(|b| !b.omitted)?;
    let d = decode(body, headers);
    let ct = headers.get("content-type").or(body.mime.as_deref());
    Some(to_text(&d.bytes, ct).into_owned())
}

/// The body parsed as JSON, when it is JSON (by content, whatever the declared type).
pub fn json(headers: &Headers, body: Option<&Body>) -> Option<serde_json::Value> {
    let body = body.filter(|b| !b.omitted)?;
    json_bytes(&decode(body, headers).bytes)
}

/// Decoded body bytes parsed as JSON, when they hold an object or array (after a BOM).
pub fn json_bytes(b: &[u8]) -> Option<serde_json::Value> {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let first = b.iter().find(|c| !c.is_ascii_whitespace())?;
    if *first != b'{' && *first != b'[' {
        return None;
    }
    serde_json::from_slice(b).ok()
}

/// The body parsed as `application/x-www-form-urlencoded` pairs, when it looks like a form.
pub fn form(headers: &Headers, body: Option<&Body>) -> Option<Vec<(String, String)>> {
    let body = body.filter(|b| !b.omitted)?;
    let d = decode(body, headers);
    let ct = headers.get("content-type").or(body.mime.as_deref()).unwrap_or("");
    let b: &[u8] = &d.bytes;
    let looks_form = ct.to_ascii_lowercase().contains("x-www-form-urlencoded")
        || (!b.is_empty() && b.contains(&b'=') && !b.iter().any(|c| c.is_ascii_whitespace() || *c == b'{'));
    if !looks_form {
        return None;
    }
    Some(url::form_urlencoded::parse(b).into_owned().collect())
}

/// Decode base64 as producers write it: standard or URL-safe alphabet, padded or not, with
/// line breaks.
pub fn base64_lenient(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    if let Ok(v) = STANDARD.decode(s) {
        return Some(v);
    }
    let cleaned: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        if let Ok(v) = engine.decode(&cleaned) {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in pairs {
            h.push(*n, *v);
        }
        h
    }

    fn gzip(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn chains_are_undone_last_first() {
        let inner = gzip(b"{\"a\":1}");
        let outer = zstd::encode_all(&inner[..], 0).unwrap();
        let mut body = Body::decoded(outer);
        body.state = BodyState::ContentEncoded;
        let h = headers(&[("Content-Encoding", "gzip, zstd")]);
        let d = decode(&body, &h);
        assert!(d.complete, "{:?}", d.notes);
        assert_eq!(&*d.bytes, b"{\"a\":1}");
        assert_eq!(json(&h, Some(&body)).unwrap()["a"], 1);
    }

    /// The streaming decoder's answer, for comparison: what `decompress` gave before
    /// libdeflate took whole members.
    fn streamed(gz: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(gz).read_to_end(&mut out).map(|_| out).map_err(|e| e.to_string())
    }

    #[test]
    fn whole_gzip_members_decode_as_the_stream_does() {
        let text: Vec<u8> = (0..10_000u32)
            .flat_map(|i| format!("{{\"n\":{i},\"conversationId\":\"c{}\"}}", i % 97).into_bytes())
            .collect();
        let one = gzip(&text);
        assert!(text.len() < SMALL_DECODED);
        assert!(gzip_whole(&one, SMALL_DECODED) == Some(text.clone()));
        assert!(decompress("gzip", &one, MAX_DECODED).unwrap().unwrap() == streamed(&one).unwrap());
        assert_eq!(gzip_whole(&gzip(b""), 0).as_deref(), Some(&b""[..]));
        // Past the size libdeflate may take: the stream decodes it.
        assert!(gzip_whole(&one, text.len() - 1).is_none());
        // Two members: the stream reads both.
        let two = [gzip(b"{\"a\":"), gzip(b"1}")].concat();
        assert_eq!(gzip_whole(&two, SMALL_DECODED), None);
        assert_eq!(decompress("gzip", &two, MAX_DECODED).unwrap().unwrap(), b"{\"a\":1}");
        // Two members whose trailers match: the first alone would pass every check but one.
        let twice = [gzip(b"same"), gzip(b"same")].concat();
        assert_eq!(gzip_whole(&twice, SMALL_DECODED), None);
        assert_eq!(decompress("gzip", &twice, MAX_DECODED).unwrap().unwrap(), b"samesame");
        // Damaged, cut short, followed by junk, or with a trailer that lies: the stream's
        // answer, error or not.
        let mut flipped = one.clone();
        flipped[one.len() / 2] ^= 0x55;
        let mut lying = one.clone();
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&(text.len() as u32 + 1).to_le_bytes());
        for bad in [flipped, one[..one.len() - 9].to_vec(), [&one[..], b"junk"].concat(), lying] {
            assert!(gzip_whole(&bad, SMALL_DECODED).is_none());
            match (decompress("gzip", &bad, MAX_DECODED), streamed(&bad)) {
                (Ok(Some(a)), Ok(b)) => assert!(a == b),
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("{:?} against {:?}", a.map(|o| o.map(|v| v.len())), b.map(|v| v.len())),
            }
        }
    }

    #[test]
    fn bomb_is_capped() {
        let big = vec![b'a'; 10 << 20];
        let mut body = Body::decoded(gzip(&big));
        body.state = BodyState::ContentEncoded;
        let d = decode_capped(&body, &headers(&[("content-encoding", "gzip")]), 1 << 20);
        assert!(!d.complete);
        assert_eq!(d.notes[0].code, "body.too_large");
    }

    #[test]
    fn undecodable_is_kept_raw_with_note() {
        let mut body = Body::decoded(b"not gzip at all".to_vec());
        body.state = BodyState::ContentEncoded;
        let d = decode(&body, &headers(&[("content-encoding", "gzip")]));
        assert_eq!(&*d.bytes, b"not gzip at all");
        assert_eq!(d.notes[0].code, "body.decode_failed");
    }

    #[test]
    fn brotli_with_a_large_window_decodes_in_mapped_cells() {
        // `brotli.compress(b"harken " * 300000, quality=5, lgwin=22)` (Python `brotli` 1.1):
        // a 4 MiB window, so the ring buffer is one of ZeroPages' mapped cells.
        let hex = "9b1f0b20000436c6d675df4610048de2b6484e0b8044af07";
        let br: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let out = decompress("br", &br, 4 << 20).unwrap().unwrap();
        assert_eq!(out.len(), 2_100_000);
        assert!(out.chunks(7).all(|c| c == b"harken "));
        // Past the cap: refused, as from the heap.
        assert_eq!(decompress("br", &br, 1 << 20).unwrap(), None);
        // Garbage is an error, not a panic, whatever window its first bytes declare.
        for first in [0x0bu8, 0x1b, 0x8b, 0xff] {
            let mut junk = vec![first];
            junk.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
            let _ = decompress("br", &junk, 4 << 20);
        }
        use brotli_decompressor::{Allocator, SliceWrapper};
        let cell = ZeroPages.alloc_cell(SMALL_DECODED);
        assert!(matches!(cell, Cells::Mapped(_)));
        assert!(cell.slice().len() == SMALL_DECODED && cell.slice().iter().all(|&b| b == 0));
        assert!(matches!(ZeroPages.alloc_cell(100), Cells::Heap(_)));
    }

    #[test]
    fn producer_decoded_body_is_left_alone() {
        let body = Body::decoded(b"{\"ok\":true}".to_vec());
        let d = decode(&body, &headers(&[("content-encoding", "br")]));
        assert_eq!(&*d.bytes, b"{\"ok\":true}");
    }

    #[test]
    fn dechunk_with_extensions_and_trailers() {
        let raw = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\n";
        let d = dechunk(raw).unwrap();
        assert_eq!(d.body, b"Wikipedia");
        assert_eq!(d.trailers.get("expires"), Some("never"));
        assert_eq!(d.consumed, raw.len());
        assert!(dechunk(b"zz\r\n").is_err());
        assert!(dechunk(b"10\r\nshort").is_err());
    }

    #[test]
    fn charsets() {
        assert_eq!(to_text(b"caf\xe9", Some("text/plain; charset=ISO-8859-1")), "café");
        assert_eq!(charset(Some("application/json")), None);
    }

    #[test]
    fn forms() {
        let body = Body::decoded(b"grant_type=client_credentials&scope=a+b".to_vec());
        let f = form(&headers(&[("content-type", "application/x-www-form-urlencoded")]), Some(&body)).unwrap();
        assert_eq!(f[1], ("scope".to_string(), "a b".to_string()));
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;
    use std::io::Write;

    fn big_gzip_body(n: usize) -> (Body, Headers) {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&vec![b' '; n]).unwrap();
        let mut h = Headers::new();
        h.push("content-encoding", "gzip");
        let mut b = Body::decoded(e.finish().unwrap());
        b.state = BodyState::ContentEncoded;
        (b, h)
    }

    #[test]
    fn one_large_decode_at_a_time_and_reentrant_per_thread() {
        let (body, h) = big_gzip_body(SMALL_DECODED + 1000);
        let first = decode(&body, &h);
        assert_eq!(first.bytes.len(), SMALL_DECODED + 1000);
        // The same thread decodes another large body while holding the permit: no deadlock.
        let second = decode(&body, &h);
        assert!(second.complete);
        // Another thread must wait until both are dropped.
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            let (body, h) = big_gzip_body(SMALL_DECODED + 10);
            let d = decode(&body, &h);
            tx.send(d.bytes.len()).unwrap();
        });
        assert!(rx.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "waited for the permit");
        drop(first);
        assert!(rx.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "still held by the second");
        drop(second);
        assert_eq!(rx.recv().unwrap(), SMALL_DECODED + 10);
        t.join().unwrap();
        // Small bodies never wait.
        let (small, h) = big_gzip_body(1000);
        assert_eq!(decode(&small, &h).bytes.len(), 1000);
    }
}
