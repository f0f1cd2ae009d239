//! The one model every input format is read into.
//!
//! A [`Capture`] is everything read from the inputs of one run: the inputs themselves (with their
//! format and the anomalies found in them), every [`Exchange`] (one request and, where the capture
//! has it, its response), and notes that belong to no single input. Every exchange knows its
//! [`Origin`], so that any later finding can point at the evidence: the input file, the entry
//! index in it, and for packet captures the frame numbers.
//!
//! Anomalies are data ([`Note`]), never a reason to stop reading.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;

/// The formats harken reads or recognizes. The names are part of the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Har,
    Pcap,
    Pcapng,
    Mitm,
    Burp,
    Saz,
    Chlsj,
    Jsonl,
    /// A web-server, proxy or load-balancer access log (text or JSON lines; src/ingest/logs/).
    Log,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Har => "har",
            Format::Pcap => "pcap",
            Format::Pcapng => "pcapng",
            Format::Mitm => "mitm",
            Format::Burp => "burp",
            Format::Saz => "saz",
            Format::Chlsj => "chlsj",
            Format::Jsonl => "jsonl",
            Format::Log => "log",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How serious an anomaly is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing (e.g. a producer quirk that was handled).
    Info,
    /// Something was lost or guessed (e.g. a body that could not be decoded).
    Warning,
    /// Part of the input could not be read at all.
    Error,
}

/// An anomaly found while reading or decoding. Notes are data: they are reported, never fatal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub level: Level,
    /// A stable dotted code, e.g. `har.sanitized`, `body.decode_failed`, `pcap.truncated`.
    pub code: String,
    /// One human sentence. Captured data inside it has already been escaped.
    pub message: String,
    /// Where it was found, when it concerns one entry or frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Origin>,
}

impl Note {
    pub fn new(level: Level, code: impl Into<String>, message: impl Into<String>) -> Self {
        Note { level, code: code.into(), message: message.into(), at: None }
    }
    pub fn info(code: impl Into<String>, message: impl Into<String>) -> Self {
        Note::new(Level::Info, code, message)
    }
    pub fn warning(code: impl Into<String>, message: impl Into<String>) -> Self {
        Note::new(Level::Warning, code, message)
    }
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Note::new(Level::Error, code, message)
    }
    pub fn at(mut self, origin: Origin) -> Self {
        self.at = Some(origin);
        self
    }
}

/// Where an exchange came from: which input, which entry in it, and (packet captures) which
/// frames. `input` indexes [`Capture::inputs`]; `index` is the 0-based entry index within that
/// input (HAR entry, mitmproxy flow, or the n-th exchange reassembled from a pcap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Origin {
    pub input: usize,
    pub index: usize,
    /// 1-based frame number of the first packet of the request, for packet captures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_frame: Option<u64>,
    /// 1-based frame number of the first packet of the response, for packet captures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_frame: Option<u64>,
}

impl Origin {
    pub fn entry(input: usize, index: usize) -> Self {
        Origin { input, index, request_frame: None, response_frame: None }
    }
}

/// One header as captured: name case and position are kept, duplicates are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// An ordered header list. Lookups are case-insensitive; nothing is merged or reordered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    pub fn new() -> Self {
        Headers(Vec::new())
    }
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push(Header { name: name.into(), value: value.into() });
    }
    /// The first value of a header, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }
    /// Every value of a header, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
    }
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// In what state the body bytes were stored by the producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyState {
    /// Content-Encoding already removed (browsers' HAR `content.text`): `raw` is the entity.
    Decoded,
    /// Bytes as the message carried them after transfer decoding: any Content-Encoding
    /// (gzip, br, ...) named in the headers is still applied.
    ContentEncoded,
    /// Bytes as on the wire, still with chunked transfer framing.
    Chunked,
}

/// A message body: the bytes as the producer stored them, plus how they were stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Body {
    /// The bytes (after undoing a producer's own storage encoding such as HAR base64).
    #[serde(skip)]
    pub raw: Vec<u8>,
    pub state: BodyState,
    /// How the producer stored it in the file (`base64`, or none for text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_as: Option<String>,
    /// Media type the producer recorded (HAR `mimeType`) or the Content-Type header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// The size the producer declared (HAR `content.size` / `bodySize`), when different from raw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_size: Option<u64>,
    /// True when the bytes were not kept (the producer omitted them, or harken dropped a body
    /// the analysis does not need to bound memory); `declared_size` still says how large it was.
    pub omitted: bool,
}

impl Body {
    pub fn decoded(raw: Vec<u8>) -> Self {
        Body { raw, state: BodyState::Decoded, stored_as: None, mime: None, declared_size: None, omitted: false }
    }
    pub fn size(&self) -> u64 {
        if self.omitted {
            self.declared_size.unwrap_or(0)
        } else {
            self.declared_size.unwrap_or(self.raw.len() as u64).max(self.raw.len() as u64)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub method: String,
    /// Absolute URL as captured (scheme://host/path?query#fragment).
    pub url: String,
    /// As the producer wrote it (`HTTP/1.1`, `h2`, `http/2.0`, or empty).
    pub http_version: String,
    pub headers: Headers,
    /// Boxed, as is the response's: an [`Exchange`] is 176 bytes smaller for it (456, was
    /// 632), and cheaper to move. The analysis keeps every refusal whole: an access log's has
    /// no request body and a response body of a logged size only, 80 bytes less each.
    pub body: Option<Box<Body>>,
}

impl Request {
    /// The `Host` (or HTTP/2 `:authority`) header: the host of a URL that has none.
    pub fn host_header(&self) -> Option<&str> {
        self.headers.get("host").or_else(|| self.headers.get(":authority"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub http_version: String,
    pub headers: Headers,
    pub body: Option<Box<Body>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Client to server.
    Send,
    /// Server to client.
    Receive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WsOpcode {
    Text,
    Binary,
    Close,
    Ping,
    Pong,
    Continuation,
}

impl WsOpcode {
    /// The opcode of a frame's low four bits (RFC 6455 §5.2); `None` for reserved values.
    pub fn from_bits(op: u8) -> Option<WsOpcode> {
        Some(match op {
            0 => WsOpcode::Continuation,
            1 => WsOpcode::Text,
            2 => WsOpcode::Binary,
            8 => WsOpcode::Close,
            9 => WsOpcode::Ping,
            10 => WsOpcode::Pong,
            _ => return None,
        })
    }
}

/// One websocket message that travelled over an upgraded exchange.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WsMessage {
    pub time: DateTime<Utc>,
    pub direction: Direction,
    pub opcode: WsOpcode,
    /// The payload (unmasked, decompressed where permessage-deflate was negotiated).
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Frame number (packet captures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<u64>,
}

impl WsMessage {
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }
}

/// One request and, if captured, its response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exchange {
    pub origin: Origin,
    /// When the request started, UTC, microsecond precision or better.
    pub started: DateTime<Utc>,
    /// Total time from request start to response end, where known.
    pub duration_ms: Option<f64>,
    pub request: Request,
    pub response: Option<Response>,
    /// Server address (`ip` or `ip:port`) where known.
    pub server: Option<String>,
    /// Client address where known.
    pub client: Option<String>,
    /// Connection id (HAR `connection`, or a TCP 4-tuple id) where known.
    pub connection: Option<String>,
    /// HTTP/2 stream id where known.
    pub stream: Option<u64>,
    pub websocket: Vec<WsMessage>,
    pub notes: Vec<Note>,
    /// What the source never records (an access log has no request headers, bodies or
    /// credentials): the analysis must not read the absence of these as a fact.
    #[serde(skip_serializing_if = "Unrecorded::is_empty")]
    pub unrecorded: Unrecorded,
    /// The identity a log records for the request (remote user, Caddy `user_id`,
    /// `DOMAIN\user`, a JWT's subject, a consumer or client id), when it records one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

/// Fields a source never records, as a small set. Empty for HAR, pcap and proxy sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Unrecorded(u8);

impl Unrecorded {
    /// No credential value: `Authorization`, cookies, API keys (not logged, or redacted).
    pub const CREDENTIALS: Unrecorded = Unrecorded(1);
    /// Request headers other than the few the log names (user agent, referer...).
    pub const REQUEST_HEADERS: Unrecorded = Unrecorded(2);
    pub const REQUEST_BODY: Unrecorded = Unrecorded(4);
    /// Response headers (`WWW-Authenticate`, `Date`...).
    pub const RESPONSE_HEADERS: Unrecorded = Unrecorded(8);
    /// Response bodies (the server's error body).
    pub const RESPONSE_BODY: Unrecorded = Unrecorded(16);
    /// What an access log never carries: headers, bodies and credentials.
    pub const ACCESS_LOG: Unrecorded = Unrecorded(31);
    const NAMES: [(u8, &'static str); 5] = [
        (1, "credentials"),
        (2, "request headers"),
        (4, "request body"),
        (8, "response headers"),
        (16, "response body"),
    ];

    pub const fn empty() -> Self {
        Unrecorded(0)
    }
    /// The set as a byte (src/spill.rs writes it so).
    pub fn bits(self) -> u8 {
        self.0
    }
    /// The set [`Unrecorded::bits`] gave (unknown bits dropped).
    pub fn from_bits(b: u8) -> Self {
        Unrecorded(b & Self::ACCESS_LOG.0)
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    pub fn contains(self, other: Unrecorded) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
    pub fn with(self, other: Unrecorded) -> Self {
        Unrecorded(self.0 | other.0)
    }
    pub fn without(self, other: Unrecorded) -> Self {
        Unrecorded(self.0 & !other.0)
    }
    /// The names, in a fixed order: `credentials`, `request headers`, ...
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES.iter().filter(|(b, _)| self.0 & b != 0).map(|(_, n)| *n).collect()
    }
}

impl Serialize for Unrecorded {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

/// An identity a log records for a request. It is not a secret (the log already shows it),
/// but it is masked like a credential by default since it names a person or a client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Identity {
    /// Which log field carried it: `remote_user`, `user_id`, `cs-username`, `jwt sub`...
    pub source: String,
    pub name: String,
}

impl Exchange {
    pub fn new(origin: Origin, started: DateTime<Utc>, request: Request) -> Self {
        Exchange {
            origin,
            started,
            duration_ms: None,
            request,
            response: None,
            server: None,
            client: None,
            connection: None,
            stream: None,
            websocket: Vec::new(),
            notes: Vec::new(),
            unrecorded: Unrecorded::empty(),
            identity: None,
        }
    }
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }
    /// The parsed URL, when it parses.
    pub fn url(&self) -> Option<url::Url> {
        url::Url::parse(&self.request.url).ok()
    }
    /// Host of the request URL (lower case), falling back to the Host header.
    pub fn host(&self) -> Cow<'_, str> {
        host_and_path(&self.request.url, self.request.host_header()).0
    }

    /// Path of the request URL without query or fragment.
    pub fn path(&self) -> Cow<'_, str> {
        host_and_path(&self.request.url, self.request.host_header()).1
    }

    /// Host and path from one parse of the URL (for callers that need both).
    pub fn host_and_path(&self) -> (String, String) {
        let (host, path) = host_and_path(&self.request.url, self.request.host_header());
        (host.into_owned(), path.into_owned())
    }
    /// Request body size plus response body size as the producer reported them.
    pub fn response_size(&self) -> Option<u64> {
        self.response.as_ref().and_then(|r| r.body.as_ref()).map(|b| b.size())
    }
}

/// The host (lower case, without a port) and the path (without query or fragment) of a
/// request URL; the host falls back to the `Host` (or `:authority`) header `host_header` when
/// the URL has none. Borrows when nothing changes (every row of `harken exchanges` asks).
pub fn host_and_path<'a>(url: &'a str, host_header: Option<&'a str>) -> (Cow<'a, str>, Cow<'a, str>) {
    fn lower(s: &str) -> Cow<'_, str> {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    }
    // Nearly every captured URL is already written as a parser would write it: read as it is.
    if let Some(p) = plain_url(url) {
        return (lower(p.host), Cow::Borrowed(p.path));
    }
    // A path alone (an access log's request target) never parses as a URL: not tried.
    let parsed = if url.starts_with('/') { None } else { url::Url::parse(url).ok() };
    let host = match parsed.as_ref().and_then(|u| u.host_str()) {
        Some(h) => Cow::Owned(h.to_ascii_lowercase()),
        None => host_header.map(|h| lower(h.split(':').next().unwrap_or(h))).unwrap_or_default(),
    };
    let path = match parsed {
        Some(u) => Cow::Owned(u.path().to_string()),
        None => {
            let end = memchr::memchr2(b'?', b'#', url.as_bytes()).unwrap_or(url.len());
            Cow::Borrowed(&url[..end])
        }
    };
    (host, path)
}

/// An absolute URL's host, path and query, read from the text as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlainUrl<'a> {
    /// As written (a parser lower-cases it).
    pub host: &'a str,
    pub path: &'a str,
    /// What follows `?`, up to any `#`, as written (read it with `form_urlencoded::parse`).
    pub query: Option<&'a str>,
}

/// `url` as a parser reads it, when reading it is only cutting it: an `http` or `https` URL
/// whose host is a plain domain name (letters, digits, `-` and `.`; not an IPv4 address, no
/// punycode, no user, a valid port) and whose path a parser leaves as it is (characters that
/// need no escape, `%` escapes, no `.` or `..` segment, no `\`), with no tab, line break or
/// trailing space anywhere (a parser drops them). Then `url::Url::parse(url)` gives the same
/// host (lower-cased), the same path and a query with the same pairs (the parser escapes
/// characters the pairs decode again: `"` is `%22`); anything else is `None`, for the caller
/// to parse. Every exchange's URL is asked for several times (host, path, region,
/// query credentials): parsing it each time was 6% of `analyze` on a HAR.
pub fn plain_url(url: &str) -> Option<PlainUrl<'_>> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let b = url.as_bytes();
    if memchr::memchr3(b'\t', b'\n', b'\r', b).is_some() || b.last().is_some_and(|&c| c <= b' ') {
        return None;
    }
    let r = rest.as_bytes();
    let auth_end = r.iter().position(|&c| matches!(c, b'/' | b'?' | b'#' | b'\\'))?;
    if r[auth_end] != b'/' {
        return None;
    }
    let authority = &rest[..auth_end];
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(p) = port {
        let digits = !p.is_empty() && p.len() <= 5 && p.bytes().all(|c| c.is_ascii_digit());
        if !digits || p.parse::<u32>().map_or(true, |n| n > 65535) {
            return None;
        }
    }
    let h = host.as_bytes();
    let last_label = host.rsplit('.').next().unwrap_or("");
    if h.is_empty()
        || !h.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        || h[0] == b'.'
        || h[h.len() - 1] == b'.'
        || memchr::memmem::find(h, b"..").is_some()
        // A last label that starts with a digit may make an IPv4 address (`127.1`, `0x7f.1`).
        || !last_label.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        || h.windows(4).any(|w| w.eq_ignore_ascii_case(b"xn--"))
    {
        return None;
    }
    let after = &rest[auth_end..];
    let path_end = memchr::memchr2(b'?', b'#', after.as_bytes()).unwrap_or(after.len());
    let path = &after[..path_end];
    let p = path.as_bytes();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'%' => {
                let hex = p.get(i + 1..i + 3).is_some_and(|x| x.iter().all(u8::is_ascii_hexdigit));
                // `%2e` is a dot to a parser (`/%2e%2e/` is `/../`).
                if !hex || p[i + 1..i + 3].eq_ignore_ascii_case(b"2e") {
                    return None;
                }
                i += 3;
                continue;
            }
            c if c.is_ascii_alphanumeric() => {}
            b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':'
            | b'@' | b'/' => {}
            _ => return None,
        }
        i += 1;
    }
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return None;
    }
    let query = after[path_end..].strip_prefix('?').map(|q| q.split('#').next().unwrap_or(q));
    Some(PlainUrl { host, path, query })
}

/// One input as read: its path, detected format and what was found in it.
#[derive(Debug, Clone, Serialize)]
pub struct Input {
    pub path: String,
    /// Detected format; `None` when the content matched no known format.
    pub format: Option<Format>,
    /// Number of exchanges read from it.
    pub exchanges: usize,
    /// Producer, e.g. `WebInspector 537.36`, where the format says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    pub notes: Vec<Note>,
    /// Set when the input could not be read to its end: names the position where it broke.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything read from the inputs of one run, exchanges in time order.
#[derive(Debug, Default, Serialize)]
pub struct Capture {
    pub inputs: Vec<Input>,
    pub exchanges: Vec<Exchange>,
    /// Notes that belong to no single input.
    pub notes: Vec<Note>,
    /// (input, index) → position in `exchanges`; built by [`Capture::reindex`].
    #[serde(skip)]
    by_origin: std::collections::HashMap<(usize, usize), usize>,
}

impl Capture {
    /// The path of the input an origin points at.
    pub fn input_path(&self, origin: &Origin) -> &str {
        self.inputs.get(origin.input).map(|i| i.path.as_str()).unwrap_or("?")
    }
    /// A capture from already-ordered parts (the index is built here).
    pub fn new(inputs: Vec<Input>, exchanges: Vec<Exchange>, notes: Vec<Note>) -> Self {
        let mut c = Capture { inputs, exchanges, notes, by_origin: Default::default() };
        c.reindex();
        c
    }

    /// Rebuild the origin index after `exchanges` was changed.
    pub fn reindex(&mut self) {
        self.by_origin =
            self.exchanges.iter().enumerate().map(|(i, e)| ((e.origin.input, e.origin.index), i)).collect();
    }

    /// Position in `exchanges` of the exchange with this origin (input, index).
    pub fn position(&self, input: usize, index: usize) -> Option<usize> {
        match self.by_origin.get(&(input, index)) {
            Some(&i) if self.exchanges.get(i).is_some_and(|e| (e.origin.input, e.origin.index) == (input, index)) => {
                Some(i)
            }
            _ => self.exchanges.iter().position(|e| e.origin.input == input && e.origin.index == index),
        }
    }

    /// Find an exchange by its origin (input, index).
    pub fn find(&self, input: usize, index: usize) -> Option<&Exchange> {
        self.position(input, index).map(|i| &self.exchanges[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every URL read without parsing reads as the parser reads it; combinations of the parts
    /// parsers rewrite (case, IPv4 shorthands, punycode, ports, dot segments, escapes, spaces).
    #[test]
    fn a_plain_url_is_what_the_parser_says() {
        // Each list begins with parts read plainly (the first `n`), picked three times in four.
        let schemes = (2, ["http://", "https://", "HTTP://", "ftp://", "http:/", "http:///"]);
        let users = (1, ["", "user@", "u:p@"]);
        let hosts = (
            5,
            [
                "api.example.com",
                "API.Example.COM",
                "a-b.c-d",
                "localhost",
                "1.example.com",
                "127.0.0.1",
                "127.1",
                "0x7f.1",
                "a..b",
                ".a",
                "a.",
                "xn--nxasmq6b.com",
                "xn--a.com",
                "XN--a.com",
                "ex_ample.com",
                "[::1]",
                "ex%41.com",
                "exämple.com",
                "example.123",
                "example.0x1",
                "",
            ],
        );
        let ports = (6, ["", ":80", ":443", ":8080", ":65535", ":0", ":65536", ":", ":08", ":abc"]);
        let paths = (
            10,
            [
                "",
                "/",
                "/a/b",
                "/a%20b",
                "/a/b/",
                "//x",
                "/a;b=c",
                "/~u/(x)*!$&+,:@",
                "/.well-known/x",
                "/..a/.b",
                "/a/./b",
                "/a/../b",
                "/.",
                "/..",
                "/%2e/",
                "/%2E%2e/x",
                "/a%zzb",
                "/a%2",
                "/a b",
                "/a|b",
                "/a^b",
                "/a'b",
                "/é",
                "/a\\b",
                "/a{b}",
                "/a`b",
                "/a\"b",
                "/a<b>",
            ],
        );
        let queries =
            (9, ["", "?", "?a=1&b=2", "?access_token=x+y%20z", "?a=é", "?a=1 2", "?a=\"<>\"", "?x='", "?a=%zz"]);
        let fragments = (4, ["", "#f", "#a?b", "# x"]);
        let tails = (1, ["", " ", "\t", "\n", "\u{1}"]);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        fn choose<'s, const N: usize>(
            next: &mut impl FnMut(usize) -> usize,
            (good, list): (usize, [&'s str; N]),
        ) -> &'s str {
            if next(4) == 0 {
                list[next(N)]
            } else {
                list[next(good)]
            }
        }
        let mut plain = 0;
        for _ in 0..40_000 {
            let mut u = String::new();
            for part in [
                choose(&mut next, schemes),
                choose(&mut next, users),
                choose(&mut next, hosts),
                choose(&mut next, ports),
                choose(&mut next, paths),
                choose(&mut next, paths),
                choose(&mut next, queries),
                choose(&mut next, fragments),
            ] {
                u.push_str(part);
            }
            // A tail at the end, or a tab or line break inside.
            let tail = choose(&mut next, tails);
            if next(2) == 0 {
                u.push_str(tail);
            } else {
                let at = next(u.len() + 1);
                if u.is_char_boundary(at) {
                    u.insert_str(at, tail);
                }
            }
            let Some(p) = plain_url(&u) else { continue };
            plain += 1;
            let parsed = url::Url::parse(&u).unwrap_or_else(|e| panic!("{u:?} read plainly but does not parse: {e}"));
            assert_eq!(parsed.host_str(), Some(p.host.to_ascii_lowercase().as_str()), "{u:?}");
            assert_eq!(parsed.path(), p.path, "{u:?}");
            // The same pairs (the parser escapes what the pairs decode again).
            assert_eq!(parsed.query().is_some(), p.query.is_some(), "{u:?}");
            let pairs: Vec<_> = form_urlencoded::parse(p.query.unwrap_or("").as_bytes()).collect();
            assert_eq!(parsed.query_pairs().collect::<Vec<_>>(), pairs, "{u:?}");
            let (host, path) = host_and_path(&u, None);
            assert_eq!((host.as_ref(), path.as_ref()), (parsed.host_str().unwrap(), parsed.path()), "{u:?}");
        }
        // The common shapes are read plainly.
        assert!(plain > 2_000, "only {plain} read plainly");
        for u in [
            "https://api.mypurecloud.com/api/v2/users/me",
            "https://API.usw2.pure.cloud:443/api/v2/conversations/messages/abc-123/communications?x=1#y",
            "http://localhost:8080/a%20b/c;d?access_token=e",
        ] {
            assert!(plain_url(u).is_some(), "{u}");
        }
    }
}
