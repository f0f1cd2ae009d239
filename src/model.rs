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
    pub fn host(&self) -> String {
        self.host_and_path().0
    }

    /// Path of the request URL without query or fragment.
    pub fn path(&self) -> String {
        self.host_and_path().1
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
