//! The one HTTP/1 message parser, shared by the packet-capture reader (a streaming state machine
//! over reassembled TCP in [`crate::ingest::pcap`]) and the proxy-session readers that store
//! whole raw messages (Burp items, Fiddler SAZ).
//!
//! Heads are parsed with `httparse` under one lenient configuration ([`config`]); bodies are
//! framed as RFC 9112 §6 says ([`framing`]): chunked (trailers are appended to the headers),
//! Content-Length, or, for responses, until the end. [`feed_body`] decodes a body
//! incrementally from whatever bytes are available, so the streaming reader and the
//! whole-message readers ([`parse_request`], [`parse_response`]) run the same code.

use crate::ingest::{HeaderPolicy, IngestOptions};
use crate::model::{Body, BodyState, Headers, Note, Request, Response};

/// Largest message head accepted.
pub const MAX_HEAD: usize = 256 * 1024;

const METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"PUT ",
    b"DELETE ",
    b"HEAD ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
    b"PROPFIND ",
    b"PROPPATCH ",
    b"MKCOL ",
    b"COPY ",
    b"MOVE ",
    b"LOCK ",
    b"UNLOCK ",
    b"REPORT ",
    b"SEARCH ",
    b"PURGE ",
];

/// Whether bytes begin like an HTTP/1 request line.
pub fn looks_like_request(b: &[u8]) -> bool {
    METHODS.iter().any(|m| b.starts_with(m))
}

/// Whether bytes begin like an HTTP/1 status line (or a cut-off start of one).
pub fn looks_like_response(b: &[u8]) -> bool {
    b.starts_with(b"HTTP/1.") || (b.len() < 7 && b"HTTP/1.".starts_with(b) && !b.is_empty())
}

/// A body being accumulated: its bytes when kept, its size always.
#[derive(Debug, Default)]
pub struct BodyAcc {
    data: Vec<u8>,
    len: u64,
    dropped: bool,
    mime: Option<String>,
}

impl BodyAcc {
    pub fn new(mime: Option<&str>) -> Self {
        BodyAcc { mime: mime.map(str::to_string), ..Default::default() }
    }
    pub fn push(&mut self, b: &[u8], opts: &IngestOptions) {
        self.len += b.len() as u64;
        if self.dropped || b.is_empty() {
            return;
        }
        if opts.keep_body(self.mime.as_deref(), usize::try_from(self.len).unwrap_or(usize::MAX)) {
            self.data.extend_from_slice(b);
        } else {
            self.dropped = true;
            self.data = Vec::new();
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Count bytes known to exist but never captured.
    pub fn missing(&mut self, n: u64) {
        self.len += n;
        self.dropped = true;
        self.data = Vec::new();
    }
    pub fn finish(self) -> Option<Body> {
        if self.len == 0 {
            return None;
        }
        Some(Body {
            raw: self.data,
            state: BodyState::ContentEncoded,
            stored_as: None,
            mime: self.mime,
            declared_size: self.dropped.then_some(self.len),
            omitted: self.dropped,
        })
    }
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy)]
pub enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// How a message body is delimited.
#[derive(Debug, Clone, Copy)]
pub enum Framing {
    Length(u64),
    Chunked(Chunk),
    /// Until the connection (or the stored message) ends.
    Close,
}

/// The one lenient `httparse` configuration.
pub fn config() -> httparse::ParserConfig {
    let mut c = httparse::ParserConfig::default();
    c.allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .ignore_invalid_headers_in_requests(true)
        .ignore_invalid_headers_in_responses(true);
    c
}

/// Parsed headers as the model keeps them (order, case and duplicates kept): every one, or
/// only those `keep` names (see [`kept_by`]), the others skipped before any copy.
///
/// Values that are UTF-8 (nearly all: ASCII) are checked by `str::from_utf8`, which skips
/// ASCII words at a time, and copied; `from_utf8_lossy` walked them in chunks (1.5% of
/// `analyze`'s CPU on the 1 GB benchmark capture), and still replaces what is not UTF-8.
pub fn headers_of(h: &[httparse::Header<'_>], keep: Option<fn(&str) -> bool>) -> Headers {
    Headers(
        h.iter()
            .filter(|x| keep.is_none_or(|k| k(x.name)))
            .map(|x| {
                let value = match std::str::from_utf8(x.value) {
                    Ok(v) => v.to_owned(),
                    Err(_) => String::from_utf8_lossy(x.value).into_owned(),
                };
                crate::model::Header { name: x.name.to_owned(), value }
            })
            .collect(),
    )
}

/// Which headers a head parser keeps of a request (`request`) or a response under `policy`:
/// all (`None`), or under [`HeaderPolicy::Analysis`] those the analysis reads
/// ([`crate::keep`]) and those the HTTP/1 readers read themselves ([`READ_HERE`]). On the 1 GB
/// benchmark capture, copying the others cost 4-6% of `analyze`'s CPU, on the one thread that
/// reassembles the streams.
pub fn kept_by(policy: HeaderPolicy, request: bool) -> Option<fn(&str) -> bool> {
    match (policy, request) {
        (HeaderPolicy::All, _) => None,
        (HeaderPolicy::Analysis, true) => Some(|n| crate::keep::request_header_read(n) || read_here(n)),
        (HeaderPolicy::Analysis, false) => Some(|n| crate::keep::response_header_read(n) || read_here(n)),
    }
}

/// Headers the HTTP/1 readers read themselves: framing ([`framing`]), the request target's
/// host ([`absolute_url`]), the body's type, protocol switches and a WebSocket's compression
/// (src/ingest/pcap).
const READ_HERE: &[&str] =
    &["content-length", "transfer-encoding", "host", "content-type", "upgrade", "sec-websocket-extensions"];

fn read_here(name: &str) -> bool {
    READ_HERE.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// How the body after these headers is framed; `None` for an empty body (Content-Length: 0).
/// Oddities (unknown Transfer-Encoding, conflicting or bad Content-Length) become notes.
pub fn framing(headers: &Headers, notes: &mut Vec<Note>) -> Option<Framing> {
    let te: Vec<String> = headers
        .get_all("transfer-encoding")
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if te.last().map(String::as_str) == Some("chunked") {
        return Some(Framing::Chunked(Chunk::Size));
    }
    if headers.contains("transfer-encoding") && !te.iter().any(|t| t == "identity") {
        notes.push(Note::warning(
            "http.transfer_encoding",
            format!(
                "Transfer-Encoding {:?} is not one harken can frame; the body was read by Content-Length or until close",
                crate::redact::escape(headers.get("transfer-encoding").unwrap_or(""))
            ),
        ));
    }
    let mut lens = headers.get_all("content-length").map(|v| v.trim().to_string());
    if let Some(first) = lens.next() {
        if lens.any(|v| v != first) {
            notes.push(Note::warning(
                "http.content_length",
                "several different Content-Length values; the first was used",
            ));
        }
        match first.parse::<u64>() {
            Ok(0) => return None,
            Ok(n) => return Some(Framing::Length(n)),
            Err(_) => notes.push(Note::warning(
                "http.content_length",
                format!("Content-Length {:?} is not a number", crate::redact::escape(&first)),
            )),
        }
    }
    Some(Framing::Close)
}

/// Whether a response to `method` with `status` has no body whatever its headers say.
pub fn response_has_no_body(method: &str, status: u16) -> bool {
    method.eq_ignore_ascii_case("HEAD")
        || (100..200).contains(&status)
        || status == 204
        || status == 304
        || (method.eq_ignore_ascii_case("CONNECT") && (200..300).contains(&status))
}

/// Feed the available body bytes `d` to a body being read. Returns (bytes consumed, body
/// complete, framing error). Chunk trailers go to `trailers`.
pub fn feed_body(
    framing: &mut Framing,
    acc: &mut BodyAcc,
    trailers: &mut Headers,
    d: &[u8],
    opts: &IngestOptions,
) -> (usize, bool, Option<String>) {
    let mut p = 0usize;
    let mut done = false;
    let mut err = None;
    loop {
        match framing {
            Framing::Length(rem) => {
                let n = usize::try_from(*rem).unwrap_or(usize::MAX).min(d.len() - p);
                acc.push(&d[p..p + n], opts);
                p += n;
                *rem -= n as u64;
                done = *rem == 0;
                break;
            }
            Framing::Close => {
                acc.push(&d[p..], opts);
                p = d.len();
                break;
            }
            Framing::Chunked(st) => match *st {
                Chunk::Size => {
                    let Some(nl) = memchr::memchr(b'\n', &d[p..]) else {
                        if d.len() - p > 1024 {
                            err = Some("chunk size line is too long".to_string());
                        }
                        break;
                    };
                    let line = &d[p..p + nl];
                    let size_txt = line.split(|&c| c == b';').next().unwrap_or(b"");
                    let size_txt = String::from_utf8_lossy(size_txt);
                    match u64::from_str_radix(size_txt.trim(), 16) {
                        Ok(0) => *st = Chunk::Trailers,
                        Ok(n) => *st = Chunk::Data(n),
                        Err(_) => {
                            err = Some(format!("chunk size {:?} is not hex", crate::redact::escape(size_txt.trim())));
                            break;
                        }
                    }
                    p += nl + 1;
                }
                Chunk::Data(n) => {
                    let take = usize::try_from(n).unwrap_or(usize::MAX).min(d.len() - p);
                    acc.push(&d[p..p + take], opts);
                    p += take;
                    let left = n - take as u64;
                    *st = if left == 0 { Chunk::DataEnd } else { Chunk::Data(left) };
                    if left > 0 {
                        break;
                    }
                }
                Chunk::DataEnd => {
                    let r = &d[p..];
                    if r.starts_with(b"\r\n") {
                        p += 2;
                    } else if r.starts_with(b"\n") {
                        p += 1;
                    } else if r.is_empty() || r == b"\r" {
                        break;
                    }
                    *st = Chunk::Size;
                }
                Chunk::Trailers => {
                    let Some(nl) = memchr::memchr(b'\n', &d[p..]) else { break };
                    let line = &d[p..p + nl];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    p += nl + 1;
                    if line.is_empty() {
                        done = true;
                        break;
                    }
                    if let Some(c) = line.iter().position(|&c| c == b':') {
                        trailers.push(
                            String::from_utf8_lossy(&line[..c]).trim().to_string(),
                            String::from_utf8_lossy(&line[c + 1..]).trim().to_string(),
                        );
                    }
                }
            },
        }
    }
    (p, done, err)
}

/// A parsed request head.
#[derive(Debug)]
pub struct RequestHead {
    pub method: String,
    /// The request target as written (origin form, absolute form, authority form).
    pub target: String,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    pub headers: Headers,
    /// Length of the head in bytes.
    pub len: usize,
}

/// A parsed status line and headers.
#[derive(Debug)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    pub version: String,
    pub headers: Headers,
    pub len: usize,
}

/// The outcome of parsing a head from the bytes available so far.
pub enum Head<T> {
    Complete(T),
    /// More bytes are needed.
    Partial,
}

/// Parse a request head, keeping the headers `policy` keeps ([`kept_by`]). `Err` when the
/// bytes are not an HTTP/1 request head.
pub fn request_head(d: &[u8], policy: HeaderPolicy) -> Result<Head<RequestHead>, httparse::Error> {
    let mut hdrs = [httparse::EMPTY_HEADER; 128];
    let mut big;
    let mut req = httparse::Request::new(&mut hdrs);
    let mut res = config().parse_request(&mut req, d);
    if let Err(httparse::Error::TooManyHeaders) = res {
        big = vec![httparse::EMPTY_HEADER; 4096];
        req = httparse::Request::new(&mut big);
        res = config().parse_request(&mut req, d);
    }
    match res? {
        httparse::Status::Complete(n) => Ok(Head::Complete(RequestHead {
            method: req.method.unwrap_or("").to_string(),
            target: req.path.unwrap_or("").to_string(),
            version: format!("HTTP/1.{}", req.version.unwrap_or(1)),
            headers: headers_of(req.headers, kept_by(policy, true)),
            len: n,
        })),
        httparse::Status::Partial => Ok(Head::Partial),
    }
}

/// Parse a response head, keeping the headers `policy` keeps ([`kept_by`]). `Err` when the
/// bytes are not an HTTP/1 status line and headers.
pub fn response_head(d: &[u8], policy: HeaderPolicy) -> Result<Head<ResponseHead>, httparse::Error> {
    let mut hdrs = [httparse::EMPTY_HEADER; 128];
    let mut big;
    let mut resp = httparse::Response::new(&mut hdrs);
    let mut res = config().parse_response(&mut resp, d);
    if let Err(httparse::Error::TooManyHeaders) = res {
        big = vec![httparse::EMPTY_HEADER; 4096];
        resp = httparse::Response::new(&mut big);
        res = config().parse_response(&mut resp, d);
    }
    match res? {
        httparse::Status::Complete(n) => Ok(Head::Complete(ResponseHead {
            status: resp.code.unwrap_or(0),
            reason: resp.reason.unwrap_or("").to_string(),
            version: format!("HTTP/1.{}", resp.version.unwrap_or(1)),
            headers: headers_of(resp.headers, kept_by(policy, false)),
            len: n,
        })),
        httparse::Status::Partial => Ok(Head::Partial),
    }
}

/// The absolute URL of a request target: absolute-form as is; origin-form against the Host
/// header (or `fallback_host`) with `scheme`.
pub fn absolute_url(method: &str, target: &str, headers: &Headers, scheme: &str, fallback_host: &str) -> String {
    if target.starts_with("http://") || target.starts_with("https://") {
        return target.to_string();
    }
    let host = headers.get("host").map(str::trim).filter(|h| !h.is_empty()).unwrap_or(fallback_host);
    if target.starts_with('/') {
        format!("{scheme}://{host}{target}")
    } else if method.eq_ignore_ascii_case("CONNECT") {
        format!("{scheme}://{target}")
    } else {
        format!("{scheme}://{host}/{target}")
    }
}

/// Leading bytes to skip before a stored message: blank lines (some producers pad).
fn skip_blank(d: &[u8]) -> usize {
    d.iter().position(|c| !matches!(c, b'\r' | b'\n')).unwrap_or(d.len())
}

/// Read a body framed by `fr` from a stored message's remaining bytes; notes say when it
/// was cut short or badly framed.
fn stored_body(
    fr: Option<Framing>,
    rest: &[u8],
    mime: Option<&str>,
    opts: &IngestOptions,
    notes: &mut Vec<Note>,
    what: &str,
) -> (Option<Body>, Headers) {
    let mut trailers = Headers::new();
    let Some(mut f) = fr else {
        return (None, trailers);
    };
    let mut acc = BodyAcc::new(mime);
    let (n, done, err) = feed_body(&mut f, &mut acc, &mut trailers, rest, opts);
    if let Some(e) = err {
        notes.push(Note::warning("http.bad_chunk", format!("{what} body: {e}; the rest was kept as it is")));
        acc.push(&rest[n..], opts);
    } else if !done && !matches!(f, Framing::Close) {
        let how = match f {
            Framing::Length(rem) => format!("{rem} bytes short of its Content-Length"),
            _ => "its chunked encoding does not end".to_string(),
        };
        notes.push(Note::warning("http.truncated", format!("the stored {what} body is cut off: {how}")));
    } else if done && n < rest.len() && rest[n..].iter().any(|c| !c.is_ascii_whitespace()) {
        notes.push(Note::info(
            "http.trailing_bytes",
            format!("{} bytes after the {what} body were ignored", rest.len() - n),
        ));
    }
    (acc.finish(), trailers)
}

/// Stored messages of HTTP/2 or HTTP/3 exchanges (Burp, Fiddler) are written as HTTP/1 text
/// with `HTTP/2` as the version, which httparse refuses: parse them as `HTTP/1.1` and keep the
/// version as written. Returns the bytes to parse and the version to report, when rewritten.
fn h2_as_h1(d: &[u8], request: bool) -> Option<(Vec<u8>, String)> {
    let eol = memchr::memchr(b'\n', d).unwrap_or(d.len());
    let line = &d[..eol];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (start, end) = if request {
        let s = memchr::memrchr(b' ', line)? + 1;
        (s, line.len())
    } else {
        (0, memchr::memchr(b' ', line).unwrap_or(line.len()))
    };
    let token = &line[start..end];
    let known: &[&[u8]] = &[b"HTTP/2", b"HTTP/2.0", b"HTTP/3", b"HTTP/3.0"];
    if !known.iter().any(|k| token.eq_ignore_ascii_case(k)) {
        return None;
    }
    let mut v = Vec::with_capacity(d.len() + 4);
    v.extend_from_slice(&d[..start]);
    v.extend_from_slice(b"HTTP/1.1");
    v.extend_from_slice(&d[end..]);
    Some((v, String::from_utf8_lossy(token).into_owned()))
}

/// Parse one whole stored request (Burp item, SAZ `_c.txt`). `scheme` and `fallback_host`
/// make an origin-form target absolute. `Err` says why the bytes are not a request.
pub fn parse_request(
    d: &[u8],
    scheme: &str,
    fallback_host: &str,
    opts: &IngestOptions,
) -> Result<(Request, Vec<Note>), String> {
    let d = &d[skip_blank(d)..];
    let rewritten = h2_as_h1(d, true);
    let d = rewritten.as_ref().map(|r| r.0.as_slice()).unwrap_or(d);
    let head = match request_head(d, opts.headers) {
        Ok(Head::Complete(h)) => h,
        Ok(Head::Partial) => return Err("the request head is cut off (no blank line ends it)".into()),
        Err(e) => return Err(format!("not an HTTP/1 request head ({e})")),
    };
    let mut notes = Vec::new();
    let fr = match framing(&head.headers, &mut notes) {
        // A stored request without a length carries whatever follows its head.
        Some(Framing::Close) if d.len() > head.len => Some(Framing::Close),
        Some(Framing::Close) => None,
        other => other,
    };
    let mime = head.headers.get("content-type").map(str::to_string);
    let (body, trailers) = stored_body(fr, &d[head.len..], mime.as_deref(), opts, &mut notes, "request");
    let url = absolute_url(&head.method, &head.target, &head.headers, scheme, fallback_host);
    let mut headers = head.headers;
    headers.0.extend(trailers.0);
    let version = rewritten.map(|r| r.1).unwrap_or(head.version);
    Ok((Request { method: head.method, url, http_version: version, headers, body: body.map(Box::new) }, notes))
}

/// Parse one whole stored response to a request with `method`. `Err` says why the bytes are
/// not a response.
pub fn parse_response(d: &[u8], method: &str, opts: &IngestOptions) -> Result<(Response, Vec<Note>), String> {
    let d = &d[skip_blank(d)..];
    let rewritten = h2_as_h1(d, false);
    let mut d = rewritten.as_ref().map(|r| r.0.as_slice()).unwrap_or(d);
    let mut notes = Vec::new();
    // Interim answers stored ahead of the final one (100 Continue).
    let head = loop {
        match response_head(d, opts.headers) {
            Ok(Head::Complete(h)) if (100..200).contains(&h.status) && h.status != 101 && h.len < d.len() => {
                notes.push(Note::info(
                    "http.interim",
                    format!("interim response {} {} came first", h.status, crate::redact::escape(&h.reason)),
                ));
                d = &d[h.len..];
                d = &d[skip_blank(d)..];
            }
            Ok(Head::Complete(h)) => break h,
            Ok(Head::Partial) => return Err("the response head is cut off (no blank line ends it)".into()),
            Err(e) => return Err(format!("not an HTTP/1 status line and headers ({e})")),
        }
    };
    let fr = if response_has_no_body(method, head.status) { None } else { framing(&head.headers, &mut notes) };
    let mime = head.headers.get("content-type").map(str::to_string);
    let (body, trailers) = stored_body(fr, &d[head.len..], mime.as_deref(), opts, &mut notes, "response");
    let mut headers = head.headers;
    headers.0.extend(trailers.0);
    let version = rewritten.map(|r| r.1).unwrap_or(head.version);
    Ok((
        Response { status: head.status, reason: head.reason, http_version: version, headers, body: body.map(Box::new) },
        notes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> IngestOptions {
        IngestOptions { bodies: crate::ingest::BodyPolicy::All, ..Default::default() }
    }

    #[test]
    fn header_values_keep_order_case_and_replace_what_is_not_utf8() {
        let raw = b"GET / HTTP/1.1\r\nHost: a.example\r\nX-Latin: caf\xe9\r\nX-Utf8: caf\xc3\xa9\r\nhost: b\r\n\r\n";
        let (r, _) = parse_request(raw, "http", "x", &all()).unwrap();
        let got: Vec<(&str, &str)> = r.headers.0.iter().map(|h| (h.name.as_str(), h.value.as_str())).collect();
        assert_eq!(got, [("Host", "a.example"), ("X-Latin", "caf\u{fffd}"), ("X-Utf8", "café"), ("host", "b")]);
    }

    #[test]
    fn stored_request_with_length_and_origin_form() {
        let raw = b"POST /oauth/token HTTP/1.1\r\nHost: login.example\r\nContent-Length: 5\r\n\r\nabcde";
        let (r, notes) = parse_request(raw, "https", "x", &all()).unwrap();
        assert_eq!(r.url, "https://login.example/oauth/token");
        assert_eq!(r.body.unwrap().raw, b"abcde");
        assert!(notes.is_empty());
    }

    #[test]
    fn stored_chunked_response_and_bare_lf() {
        let raw = b"HTTP/1.1 401 Unauthorized\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n";
        let (r, notes) = parse_response(raw, "GET", &all()).unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(r.body.unwrap().raw, b"abc");
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn cut_bodies_and_garbage_are_notes_or_errors() {
        let (r, notes) = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "GET", &all()).unwrap();
        assert_eq!(r.body.unwrap().raw, b"abc");
        assert!(notes.iter().any(|n| n.code == "http.truncated"));
        assert!(parse_response(b"garbage", "GET", &all()).is_err());
        assert!(parse_request(b"GET / HTTP/1.1\r\nHost: a", "http", "x", &all()).is_err());
        let (r, notes) =
            parse_response(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No\r\n\r\n", "GET", &all()).unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(notes[0].code, "http.interim");
    }

    #[test]
    fn the_analysis_policy_keeps_what_the_analysis_and_the_reader_read() {
        let analysis = IngestOptions { headers: HeaderPolicy::Analysis, ..all() };
        let names = |h: &Headers| h.0.iter().map(|h| h.name.clone()).collect::<Vec<_>>();
        let req = b"POST /api HTTP/1.1\r\nHost: a.example\r\nUser-Agent: curl\r\nAuthorization: Bearer x\r\n\
                    X-Pad: 1\r\nX-Api-Key: k\r\nContent-Length: 2\r\nUpgrade: websocket\r\n\r\n{}";
        let (r, _) = parse_request(req, "https", "x", &analysis).unwrap();
        assert_eq!(names(&r.headers), ["Host", "Authorization", "X-Api-Key", "Content-Length", "Upgrade"]);
        assert_eq!((r.url.as_str(), r.body.unwrap().raw.as_slice()), ("https://a.example/api", &b"{}"[..]));
        let (r, _) = parse_request(req, "https", "x", &all()).unwrap();
        assert_eq!(r.headers.0.len(), 7);

        let resp = b"HTTP/1.1 401 Unauthorized\r\nServer: envoy\r\nDate: Wed, 01 May 2024 12:00:00 GMT\r\n\
                     WWW-Authenticate: Bearer error=\"invalid_token\"\r\nVary: Origin\r\n\
                     Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
        let (r, _) = parse_response(resp, "GET", &analysis).unwrap();
        assert_eq!(names(&r.headers), ["Date", "WWW-Authenticate", "Transfer-Encoding", "Content-Type"]);
        assert_eq!(r.body.unwrap().raw, b"{}");
        let (r, _) = parse_response(resp, "GET", &all()).unwrap();
        assert_eq!(r.headers.0.len(), 6);
    }
}
