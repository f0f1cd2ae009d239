//! Access logs: web servers, proxies, load balancers and gateways, one record per line.
//!
//! The family is detected per line, not per file: a file may mix formats (an nginx access log
//! with error-log lines, a container log with JSON and text records, HAProxy inside syslog).
//! Each family lives in its own file and turns one line into a [`Record`]; a line that is not
//! an access record becomes a counted note, never an error.
//!
//! - [`clf`]: the Common Log Format family: nginx and Apache common/combined (with a vhost or
//!   `host:port` prefix, trailing `X-Forwarded-For`), Apache `vhost_combined`, ingress-nginx
//!   `upstreaminfo`, Envoy's default text format, HAProxy `httplog`;
//! - [`aws`]: AWS Application and Classic Load Balancer logs;
//! - [`w3c`]: W3C extended logs with `#Fields` directives: IIS and AWS CloudFront;
//! - [`json`]: JSON records: nginx `escape=json`, Envoy, Traefik, Caddy, Google Cloud load
//!   balancer `LogEntry`, Azure Application Gateway, and any JSON with recognisable keys;
//! - [`user`]: a format described by the user in TOML (`--log-format FILE`).
//!
//! Wrappers are taken off first: a container runtime's CRI prefix
//! (`2024-01-01T00:00:00.000Z stdout F `) and a syslog header (`Feb 25 16:19:49 host tag: `).
//!
//! Reading is parallel: a plain file is memory-mapped and cut into chunks at newlines; chunks
//! are parsed on every core (rayon) a batch at a time and handed on in file order, so memory
//! holds one batch, not the file (consumed pages are released). A compressed file arrives
//! decompressed into a mapped temporary file (src/ingest/decompress.rs) and is read the same
//! way. The exchange's origin index is the 1-based line number.

pub mod aws;
pub mod clf;
pub mod json;
pub mod user;
pub mod w3c;

use super::{ReadCx, ReadError, Source};
use crate::model::{Body, BodyState, Exchange, Headers, Identity, Note, Origin, Request, Response, Unrecorded};
use crate::parts::{Notes, RowParts};
use crate::token::Credential;
use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::BTreeMap;

pub use user::UserFormat;

/// Longest line read; a longer one (a hostile or corrupt line) is skipped with a note.
pub const MAX_LINE: usize = 64 * 1024;

/// Text of a record: borrowed from the line where it is logged as is, owned where it had to be
/// unescaped, joined or built.
pub type Text<'a> = Cow<'a, str>;

/// One access record, as far as its log says: its text borrowed from the line where it can be
/// (a combined log line becomes a record with no allocation of its own); [`Record::into_owned`]
/// keeps it beyond the line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record<'a> {
    /// The log family that matched (`nginx/apache combined`, `caddy`...).
    pub family: &'static str,
    pub time: Option<DateTime<Utc>>,
    pub method: Text<'a>,
    /// `https`, `http`, when the log says.
    pub scheme: Option<Text<'a>>,
    /// The requested host (vhost, `:authority`, `Host`), when the log says.
    pub host: Option<Text<'a>>,
    /// The request target: a path with its query, or an absolute URL.
    pub target: Text<'a>,
    pub http_version: Text<'a>,
    pub status: Option<u16>,
    pub response_size: Option<u64>,
    pub request_size: Option<u64>,
    pub duration_ms: Option<f64>,
    pub client: Option<Text<'a>>,
    pub forwarded_for: Option<Text<'a>>,
    /// The server or upstream that answered.
    pub upstream: Option<Text<'a>>,
    pub identity: Option<Identity>,
    pub request_id: Option<Text<'a>>,
    pub user_agent: Option<Text<'a>>,
    pub referer: Option<Text<'a>>,
    /// Request headers the log records beyond the fields above.
    pub request_headers: Vec<(String, String)>,
    /// Response headers the log records.
    pub response_headers: Vec<(String, String)>,
    /// What this family never records.
    pub unrecorded: Unrecorded,
    /// Producer facts worth keeping (`response_flags UAEX`, `statusDetails ...`).
    pub details: Vec<String>,
}

/// What one line is.
#[derive(Debug, Clone, PartialEq)]
pub enum Line<'a> {
    /// Boxed: a record is about 470 bytes, and a line's value passes through several returns
    /// (copied whole at each: 3% of `harken exchanges` on a log) where a box costs one
    /// allocation from the thread's own free list.
    Record(Box<Record<'a>>),
    /// A W3C `#Fields:` directive: the columns of the following lines.
    Fields(W3cFields),
    /// Another directive or header line (`#Version`, `#Software`): not a record, not a problem.
    Directive,
    Blank,
    /// Not an access record (an error-log line, a debug line, garbage): why.
    Other(&'static str),
}

/// The columns declared by the last W3C `#Fields:` line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct W3cFields {
    pub names: Vec<String>,
    /// CloudFront (tab-separated, `time-taken` in seconds) rather than IIS.
    pub cloudfront: bool,
}

/// What a line is read with: the `#Fields` in force and the user's format.
#[derive(Clone, Copy, Default)]
pub struct LineCx<'a> {
    pub fields: Option<&'a W3cFields>,
    pub user: Option<&'a UserFormat>,
}

/// Parse one line with no file state: the entry point for fuzzing. Never panics.
pub fn parse(line: &[u8]) -> Line<'_> {
    parse_line(line, LineCx::default())
}

/// Parse one line (without its newline). Never panics; lines over [`MAX_LINE`] are `Other`.
pub fn parse_line<'a>(line: &'a [u8], cx: LineCx<'_>) -> Line<'a> {
    if line.len() > MAX_LINE {
        return Line::Other("line longer than 64 KiB");
    }
    match std::str::from_utf8(line) {
        Ok(text) => parse_str_line(text, cx),
        Err(_) => {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            parse_text(String::from_utf8_lossy(line).trim(), cx, 0).into_owned()
        }
    }
}

/// [`parse_line`] for a line already known to be UTF-8 (its chunk was checked at once).
fn parse_str_line<'a>(line: &'a str, cx: LineCx<'_>) -> Line<'a> {
    if line.len() > MAX_LINE {
        return Line::Other("line longer than 64 KiB");
    }
    parse_text(line.strip_suffix('\r').unwrap_or(line).trim(), cx, 0)
}

impl Line<'_> {
    /// The line, owning its text.
    pub fn into_owned(self) -> Line<'static> {
        match self {
            Line::Record(r) => Line::Record(Box::new(r.into_owned())),
            Line::Fields(f) => Line::Fields(f),
            Line::Directive => Line::Directive,
            Line::Blank => Line::Blank,
            Line::Other(why) => Line::Other(why),
        }
    }
}

fn parse_text<'a>(t: &'a str, cx: LineCx<'_>, depth: u8) -> Line<'a> {
    if t.is_empty() {
        return Line::Blank;
    }
    if let Some(u) = cx.user {
        if let Some(r) = u.parse(t) {
            return Line::Record(Box::new(r));
        }
    }
    if depth < 2 {
        if let Some(rest) = cri_payload(t) {
            return parse_text(rest.trim(), cx, depth + 1);
        }
    }
    if t.starts_with('{') {
        return match serde_json::from_str::<serde_json::Value>(t) {
            Ok(v) => json::record(&v)
                .map(|r| Line::Record(Box::new(r)))
                .unwrap_or(Line::Other("JSON that is not an access record")),
            Err(_) => Line::Other("a JSON line that does not parse"),
        };
    }
    if t.starts_with('#') {
        return w3c::directive(t);
    }
    if let Some(f) = cx.fields {
        if let Some(r) = w3c::record(t, f) {
            return Line::Record(Box::new(r));
        }
    }
    if let Some(r) = clf::record(t).or_else(|| aws::record(t)) {
        return Line::Record(Box::new(r));
    }
    if depth < 2 {
        if let Some(rest) = syslog_payload(t) {
            return match parse_text(rest.trim(), cx, depth + 1) {
                Line::Record(r) => Line::Record(r),
                _ => Line::Other("a syslog line that is not an access record"),
            };
        }
    }
    Line::Other("not an access record of a known format")
}

/// The payload of a container runtime (CRI) log line: `<RFC 3339> stdout|stderr F|P <payload>`.
fn cri_payload(t: &str) -> Option<&str> {
    let b = t.as_bytes();
    if b.len() < 20 || !b[0].is_ascii_digit() || b.get(4) != Some(&b'-') {
        return None;
    }
    let mut it = t.splitn(4, ' ');
    let ts = it.next()?;
    let stream = it.next()?;
    let tag = it.next()?;
    let rest = it.next()?;
    (ts.contains('T') && matches!(stream, "stdout" | "stderr") && matches!(tag, "F" | "P")).then_some(rest)
}

/// The message of a syslog line: RFC 3164 (`Feb 25 16:19:49 host tag[pid]: msg`) or RFC 5424
/// (`<134>1 2024-01-01T00:00:00Z host app pid msgid - msg`).
fn syslog_payload(t: &str) -> Option<&str> {
    let t = match t.strip_prefix('<') {
        Some(r) => {
            let end = r.find('>')?;
            if end > 3 || !r[..end].bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            &r[end + 1..]
        }
        None => t,
    };
    if let Some(r) = t.strip_prefix("1 ") {
        // RFC 5424: version, timestamp, host, app, procid, msgid, structured data, msg.
        let mut it = r.splitn(6, ' ');
        for _ in 0..5 {
            it.next()?;
        }
        let rest = it.next()?;
        let rest = if let Some(r) = rest.strip_prefix("- ") {
            r
        } else if rest.starts_with('[') {
            rest.split_once("] ").map(|x| x.1)?
        } else {
            return None;
        };
        return Some(rest);
    }
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    if t.len() < 16 || !MONTHS.iter().any(|m| t.starts_with(m)) {
        return None;
    }
    // `Mmm dd hh:mm:ss ` then host then `tag: `.
    let rest = t.get(16..)?;
    let b = t.as_bytes();
    if b[3] != b' ' || b[9] != b':' || b[12] != b':' {
        return None;
    }
    let (_host, rest) = rest.split_once(' ')?;
    let colon = rest.find(": ")?;
    if colon > 64 || rest[..colon].contains(' ') {
        return None;
    }
    Some(&rest[colon + 2..])
}

// ---- time ----

fn month(m: &[u8]) -> Option<u32> {
    Some(match m {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0')))
}

/// `22/Jan/2019:03:56:14 +0330` (nginx/Apache `$time_local`), `25/Feb/2019:16:19:48.143`
/// (HAProxy, no zone: read as UTC).
pub fn clf_time(s: &str) -> Option<DateTime<Utc>> {
    // Consecutive lines of a log mostly share their second: the last one read on this thread
    // is remembered.
    thread_local!(static LAST: std::cell::RefCell<crate::recent::Recent<Option<DateTime<Utc>>, 1, 32>> = const { std::cell::RefCell::new(crate::recent::Recent::new()) });
    LAST.with_borrow_mut(|last| last.get_or(s.as_bytes(), || clf_time_uncached(s.as_bytes())))
}

fn clf_time_uncached(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[14] != b':' || b[17] != b':' {
        return None;
    }
    let day = digits(&b[0..2])?;
    let mon = month(&b[3..6])?;
    let year = digits(&b[7..11])? as i32;
    let (h, mi, sec) = (digits(&b[12..14])?, digits(&b[15..17])?, digits(&b[18..20])?);
    let mut rest = &b[20..];
    let mut nanos = 0u32;
    if let Some(r) = rest.strip_prefix(b".") {
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        let frac = &r[..n.min(9)];
        nanos = digits(frac).unwrap_or(0) * 10u32.pow(9 - frac.len() as u32);
        rest = &r[n..];
    }
    let mut offset = 0i64;
    if let Some(z) = rest.strip_prefix(b" ") {
        if z.len() != 5 || !(z[0] == b'+' || z[0] == b'-') {
            return None;
        }
        let hh = i64::from(digits(&z[1..3])?);
        let mm = i64::from(digits(&z[3..5])?);
        offset = (hh * 60 + mm) * 60 * if z[0] == b'-' { -1 } else { 1 };
    } else if !rest.is_empty() {
        return None;
    }
    let naive = NaiveDate::from_ymd_opt(year, mon, day)?.and_hms_nano_opt(h, mi, sec, nanos)?;
    naive.and_utc().checked_sub_signed(chrono::Duration::seconds(offset))
}

/// RFC 3339 / ISO 8601 (`2024-01-01T00:00:00.123Z`, with an offset, or with no zone = UTC).
pub fn iso_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f %z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    None
}

/// Seconds since the epoch, as a float or integer (Caddy `ts`); milliseconds when large.
pub fn epoch_time(x: f64) -> Option<DateTime<Utc>> {
    if !x.is_finite() || x <= 0.0 || x > 1e20 {
        return None;
    }
    if x.fract() == 0.0 && x > 1e11 {
        // Whole milli-, micro- or nanoseconds: exact, without float rounding.
        let n = x as i64;
        return if x > 1e17 {
            Some(DateTime::from_timestamp_nanos(n))
        } else if x > 1e14 {
            DateTime::from_timestamp_micros(n)
        } else {
            DateTime::from_timestamp_millis(n)
        };
    }
    let secs = if x > 1e17 {
        x / 1e9
    } else if x > 1e14 {
        x / 1e6
    } else if x > 1e11 {
        x / 1e3
    } else {
        x
    };
    let whole = secs.floor();
    DateTime::from_timestamp(whole as i64, ((secs - whole) * 1e9) as u32)
}

/// Any of the time forms above.
pub fn any_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    clf_time(s).or_else(|| iso_time(s)).or_else(|| s.parse::<f64>().ok().and_then(epoch_time))
}

/// `-` and the empty string mean "not logged".
pub fn value(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty() && s != "-").then_some(s)
}

pub fn number(s: &str) -> Option<u64> {
    value(s).and_then(|v| v.parse().ok())
}

/// Seconds (possibly fractional) as milliseconds; negative (ALB `-1`) means unknown.
pub fn secs_ms(s: &str) -> Option<f64> {
    value(s).and_then(|v| v.parse::<f64>().ok()).filter(|x| x.is_finite() && *x >= 0.0).map(|x| x * 1000.0)
}

/// The first address of an `X-Forwarded-For` chain: the original client.
pub fn first_forwarded(xff: &str) -> Option<String> {
    let first = xff.split(',').next()?.trim();
    value(first).map(str::to_string)
}

/// An identity from a log field, unless it is empty or `-`.
pub fn identity(source: &str, name: &str) -> Option<Identity> {
    value(name).filter(|n| *n != "\"\"").map(|n| Identity { source: source.to_string(), name: n.to_string() })
}

/// Split `METHOD target PROTOCOL` (a logged request line). `None` for `-` or garbage.
pub fn request_line(r: &str) -> Option<(&str, &str, &str)> {
    let method_ok = |m: &str| m.bytes().all(|c| c.is_ascii_alphabetic() || c == b'-' || c == b'_');
    // Nearly every line: `METHOD target PROTOCOL` with single spaces, found with memchr (a
    // split on a char searches byte by byte, on every line of a log).
    let b = r.as_bytes();
    if let Some(a) = memchr::memchr(b' ', b).filter(|&a| a > 0) {
        if let Some(t) = memchr::memchr(b' ', &b[a + 1..]).map(|t| a + 1 + t).filter(|&t| t > a + 1) {
            let proto = &r[t + 1..];
            if !proto.is_empty() && memchr::memchr(b' ', proto.as_bytes()).is_none() {
                let m = &r[..a];
                return method_ok(m).then_some((m, &r[a + 1..t], proto));
            }
        }
    }
    let mut it = r.split(' ').filter(|s| !s.is_empty());
    let m = it.next()?;
    let target = it.next()?;
    let proto = it.next().unwrap_or("");
    if it.next().is_some() || !method_ok(m) {
        return None;
    }
    Some((m, target, proto))
}

// ---- records to exchanges ----

/// Owned text.
fn owned(t: Option<Text<'_>>) -> Option<Text<'static>> {
    t.map(|t| Cow::Owned(t.into_owned()))
}

impl Record<'_> {
    /// The record, owning its text.
    pub fn into_owned(self) -> Record<'static> {
        Record {
            family: self.family,
            time: self.time,
            method: Cow::Owned(self.method.into_owned()),
            scheme: owned(self.scheme),
            host: owned(self.host),
            target: Cow::Owned(self.target.into_owned()),
            http_version: Cow::Owned(self.http_version.into_owned()),
            status: self.status,
            response_size: self.response_size,
            request_size: self.request_size,
            duration_ms: self.duration_ms,
            client: owned(self.client),
            forwarded_for: owned(self.forwarded_for),
            upstream: owned(self.upstream),
            identity: self.identity,
            request_id: owned(self.request_id),
            user_agent: owned(self.user_agent),
            referer: owned(self.referer),
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            unrecorded: self.unrecorded,
            details: self.details,
        }
    }

    /// The request URL: absolute as logged, or built from scheme, host and target.
    pub fn url(&self) -> String {
        self.built_url().unwrap_or_else(|| self.target.to_string())
    }

    /// The URL built from scheme, host and target; `None` when it is the target as logged.
    fn built_url(&self) -> Option<String> {
        let t = &*self.target;
        if t.starts_with("http://") || t.starts_with("https://") || t.starts_with("ws://") || t.starts_with("wss://") {
            return None;
        }
        match &self.host {
            Some(h) if !h.is_empty() => {
                let scheme = self.scheme.as_deref().unwrap_or(if h.ends_with(":443") { "https" } else { "http" });
                let h = match (scheme, h.rsplit_once(':')) {
                    ("https", Some((name, "443"))) | ("http", Some((name, "80"))) => name,
                    _ => &**h,
                };
                let slash = if t.starts_with('/') || t.is_empty() { "" } else { "/" };
                Some(format!("{scheme}://{h}{slash}{t}"))
            }
            _ => None,
        }
    }

    /// The parts of this record's row ([`crate::parts::RowParts`]), as its exchange
    /// ([`Record::into_exchange`]) gives them, without building it; its credential is
    /// [`Record::identity_credential`]. `None` when the exchange could carry another credential
    /// than the logged identity (crate::token::request_credentials reads request headers and
    /// the query of an absolute URL): a record with logged request headers, or an absolute URL
    /// with a query. Then the exchange is built.
    pub fn row_parts(&self, origin: Origin, fallback: DateTime<Utc>) -> Option<RowParts<'_>> {
        if !self.request_headers.is_empty() {
            return None;
        }
        let url = match self.built_url() {
            Some(u) => Cow::Owned(u),
            None => Cow::Borrowed(&*self.target),
        };
        if !url.starts_with('/') && url.contains('?') {
            return None;
        }
        let host_header = self.host.as_deref().filter(|_| crate::redact::scheme_sep(&url).is_none());
        Some(RowParts {
            origin,
            started: self.time.unwrap_or(fallback),
            method: &self.method,
            url,
            host_header,
            status: self.status,
            http_version: &self.http_version,
            duration_ms: self.duration_ms,
            size: self.status.and(self.response_size),
            notes: Notes::Log { no_time: self.time.is_none(), details: self.details.len() },
        })
    }

    /// The credential of the logged identity ([`crate::token::identity_credential`]), made
    /// once per identity and thread (a log repeats its identities: fingerprints are SHA-256).
    pub fn identity_credential(&self) -> Option<std::rc::Rc<Credential>> {
        type Cache = std::collections::HashMap<String, std::rc::Rc<Credential>, foldhash::fast::RandomState>;
        thread_local!(static KNOWN: std::cell::RefCell<Cache> = std::cell::RefCell::new(Cache::default()));
        let id = self.identity.as_ref()?;
        KNOWN.with_borrow_mut(|known| {
            if let Some(c) = known.get(id.name.as_str()) {
                if c.carrier.strip_prefix("log: ") == Some(id.source.as_str()) {
                    return Some(c.clone());
                }
            }
            if known.len() >= 4096 {
                known.clear();
            }
            let c = std::rc::Rc::new(crate::token::identity_credential(id));
            known.insert(id.name.clone(), c.clone());
            Some(c)
        })
    }

    /// The exchange this record stands for. `started` falls back to `fallback` (the previous
    /// record's time) when the line has no readable time.
    pub fn into_exchange(mut self, origin: Origin, fallback: DateTime<Utc>) -> Exchange {
        let url = self.built_url().unwrap_or_else(|| std::mem::take(&mut self.target).into_owned());
        let host_header = self.host.is_some() && !url.contains("://");
        let n = [host_header, self.user_agent.is_some(), self.referer.is_some()]
            .into_iter()
            .chain([self.forwarded_for.is_some(), self.request_id.is_some()])
            .filter(|x| *x)
            .count();
        let mut headers = Headers(Vec::with_capacity(n + self.request_headers.len()));
        // The client before the forwarded-for chain moves into the headers.
        let client =
            self.client.take().map(Cow::into_owned).or_else(|| self.forwarded_for.as_deref().and_then(first_forwarded));
        if let Some(h) = self.host.take() {
            if host_header {
                headers.push("Host", h);
            }
        }
        if let Some(ua) = self.user_agent {
            headers.push("User-Agent", ua);
        }
        if let Some(r) = self.referer {
            headers.push("Referer", r);
        }
        if let Some(x) = self.forwarded_for {
            headers.push("X-Forwarded-For", x);
        }
        if let Some(id) = self.request_id {
            headers.push("X-Request-Id", id);
        }
        for (n, v) in self.request_headers {
            headers.push(n, v);
        }
        let request_body = self.request_size.map(|n| Body {
            raw: Vec::new(),
            state: BodyState::Decoded,
            stored_as: None,
            mime: None,
            declared_size: Some(n),
            omitted: true,
        });
        let req = Request {
            method: self.method.into_owned(),
            url,
            http_version: self.http_version.to_string(),
            headers,
            body: request_body.map(Box::new),
        };
        let mut ex = Exchange::new(origin, self.time.unwrap_or(fallback), req);
        if self.time.is_none() {
            ex.notes.push(
                Note::warning("log.no_time", "the line has no readable time; the previous line's is used").at(origin),
            );
        }
        ex.duration_ms = self.duration_ms;
        ex.client = client;
        ex.server = self.upstream.map(Cow::into_owned);
        ex.unrecorded = self.unrecorded;
        ex.identity = self.identity;
        if let Some(status) = self.status {
            let mut rh = Headers::new();
            for (n, v) in self.response_headers {
                rh.push(n, v);
            }
            let body = self.response_size.map(|n| Body {
                raw: Vec::new(),
                state: BodyState::Decoded,
                stored_as: None,
                mime: rh.get("content-type").map(str::to_string),
                declared_size: Some(n),
                omitted: true,
            });
            ex.response = Some(Response {
                status,
                reason: String::new(),
                http_version: self.http_version.into_owned(),
                headers: rh,
                body: body.map(Box::new),
            });
        }
        for d in self.details {
            ex.notes.push(Note::info("log.detail", crate::redact::escape(&d)).at(origin));
        }
        ex
    }
}

// ---- the line loop ----

/// Lines per note code kept with their line numbers; the rest are only counted.
const NOTE_EXAMPLES: usize = 5;

/// One exchange of a chunk, as handed on.
enum Item<T> {
    /// Mapped on the worker.
    Mapped(T),
    /// A record with no time before any timed record of its chunk: its time is the previous
    /// chunk's last one, known only in order, so it is mapped when handed on.
    Pending(Box<Exchange>),
}

/// What one chunk produced, in line order.
struct Chunk<T> {
    /// What the map made of the chunk as a whole ([`LineMap::chunk_done`]), handed on before
    /// its items.
    head: Option<T>,
    items: Vec<Item<T>>,
    /// Exchanges read (kept by the map or not).
    count: usize,
    other: BTreeMap<&'static str, (usize, Vec<usize>)>,
    directives: usize,
    families: BTreeMap<&'static str, usize>,
    last_time: Option<DateTime<Utc>>,
}

/// What each exchange becomes on the worker threads (a row, formatted bytes, the exchange
/// itself); `None` drops it.
pub type MapFn<'m, T> = &'m dyn LineMap<T>;

/// What the records of a log become on the worker threads. Any `Fn(Exchange) -> Option<T>` is
/// one; a map that can use a record without its exchange (the rows of `harken exchanges`)
/// also implements [`LineMap::record`].
pub trait LineMap<T>: Sync {
    /// What an exchange becomes; `None` drops it.
    fn exchange(&self, ex: Exchange) -> Option<T>;
    /// What a record becomes without its exchange being built, when the map can tell from the
    /// record alone: `Some(None)` drops it; `None` asks for the exchange. `fallback` is the time
    /// of a record that has none (the previous record's).
    fn record(&self, _r: &Record, _origin: Origin, _fallback: DateTime<Utc>) -> Option<Option<T>> {
        None
    }
    /// What an exchange becomes, from a borrow, when the map does not need to own it:
    /// `Some(None)` drops it; `None` (the default) asks for [`LineMap::exchange`]. A capture's
    /// exchanges are mapped on another thread than the one that made them and go back to it to
    /// be freed (freeing another thread's memory is slow with every allocator).
    fn exchange_ref(&self, _ex: &Exchange) -> Option<Option<T>> {
        None
    }
    /// A chunk's lines are about to be read (on the thread that reads them).
    fn chunk_start(&self) {}
    /// A chunk's lines are done (on the thread that read them): what the chunk as a whole
    /// became, handed on before what its lines became (a buffer they were written into).
    fn chunk_done(&self) -> Option<T> {
        None
    }
}

impl<T, F: Fn(Exchange) -> Option<T> + Sync> LineMap<T> for F {
    fn exchange(&self, ex: Exchange) -> Option<T> {
        self(ex)
    }
}

/// A map that also counts what it is given (progress): `tick(n)`, `n` exchanges more. Records
/// mapped on the workers are counted per thread and told once per chunk (one shared counter
/// bumped by every line of both workers was a contended cache line).
pub struct Counted<'m, T> {
    pub map: MapFn<'m, T>,
    pub tick: &'m (dyn Fn(u64) + Sync),
}

thread_local!(static RECORDS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) });

impl<T> LineMap<T> for Counted<'_, T> {
    fn exchange(&self, ex: Exchange) -> Option<T> {
        (self.tick)(1);
        self.map.exchange(ex)
    }
    fn record(&self, r: &Record, origin: Origin, fallback: DateTime<Utc>) -> Option<Option<T>> {
        let t = self.map.record(r, origin, fallback)?;
        RECORDS.set(RECORDS.get() + 1);
        Some(t)
    }
    fn exchange_ref(&self, ex: &Exchange) -> Option<Option<T>> {
        let t = self.map.exchange_ref(ex)?;
        (self.tick)(1);
        Some(t)
    }
    fn chunk_start(&self) {
        self.map.chunk_start();
    }
    fn chunk_done(&self) -> Option<T> {
        let n = RECORDS.replace(0);
        if n > 0 {
            (self.tick)(n);
        }
        self.map.chunk_done()
    }
}

/// Read an access log (plain or decompressed) into exchanges.
pub fn read(src: &Source, cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    let body = content(src);
    if starts_multiline_json(body) {
        return json::read_document(body, cx);
    }
    let prepare = cx.prepare;
    let map = move |mut ex: Exchange| {
        if let Some(p) = prepare {
            p(&mut ex);
        }
        Some(ex)
    };
    let (user, input) = (cx.opts.log_format, cx.input);
    let lines = run(src, body, user, input, &map, &mut |ex| cx.emit_prepared(ex), EXCHANGE_CHUNK, BATCH);
    lines.finish(cx);
    Ok(())
}

/// Read an access log, turning each exchange into what the caller keeps with `map` on the
/// worker threads that parse the lines (so the caller's per-exchange work is parallel too);
/// `sink` gets the values in line order. `cx` collects the count, notes and creator.
pub fn read_map<T: Send>(
    src: &Source,
    cx: &mut ReadCx<'_>,
    map: MapFn<'_, T>,
    sink: &mut dyn FnMut(T),
) -> Result<(), ReadError> {
    let body = content(src);
    if starts_multiline_json(body) {
        let mut each = |ex: Exchange| {
            if let Some(t) = map.exchange(ex) {
                sink(t)
            }
        };
        let mut inner = ReadCx::new(cx.input, cx.opts, &mut each);
        let result = json::read_document(body, &mut inner);
        cx.count += inner.count;
        cx.notes.append(&mut inner.notes);
        if inner.creator.is_some() {
            cx.creator = inner.creator.take();
        }
        return result;
    }
    let lines = run(src, body, cx.opts.log_format, cx.input, map, sink, CHUNK, BATCH);
    cx.count += lines.count;
    lines.finish(cx);
    Ok(())
}

/// The bytes of a log without a byte-order mark. Compressed inputs arrive decompressed
/// (src/ingest/decompress.rs, into a mapped temporary file): they are cut into chunks like a
/// plain file.
fn content(src: &Source) -> &[u8] {
    let bytes = src.bytes();
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

/// The line loop over `body` (the content of `src`): chunks of about `chunk` bytes cut at
/// newlines, parsed `batch` at a time on every core.
#[allow(clippy::too_many_arguments)]
fn run<T: Send>(
    src: &Source,
    body: &[u8],
    user: Option<&'static UserFormat>,
    input: usize,
    map: MapFn<'_, T>,
    sink: &mut dyn FnMut(T),
    chunk: usize,
    batch: usize,
) -> Lines {
    let mut lines = Lines::new();
    let mut start = 0usize;
    let mut line_no = 1usize;
    // `body` may start after a byte-order mark: release() takes offsets into `src`.
    let base = src.bytes().len() - body.len();
    // A pipeline: while the pool parses a batch, this thread hands the previous one on (the
    // consumer, e.g. writing rows, runs beside the parsing) and cuts the next one into chunks
    // (counting its lines is a sequential scan: done here, it no longer leaves the pool idle).
    let mut pending: (Vec<Chunk<T>>, usize, usize) = (Vec::new(), 0, 0);
    let mut next = batch_at(&mut lines, body, start, &mut line_no, chunk, batch);
    while let Some((prepared, end)) = next.take() {
        let previous = std::mem::take(&mut pending.0);
        let (parsed, following) = std::thread::scope(|ts| {
            let h = ts.spawn(move || {
                prepared
                    .into_par_iter()
                    .map(|(piece, first, fields)| parse_chunk(piece, first, fields, user, input, map))
                    .collect::<Vec<_>>()
            });
            lines.hand_on(previous, map, sink);
            let following = batch_at(&mut lines, body, end, &mut line_no, chunk, batch);
            (h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), following)
        });
        src.release(base + pending.1, base + pending.2);
        pending = (parsed, start, end);
        start = end;
        next = following;
    }
    lines.hand_on(pending.0, map, sink);
    src.release(base + pending.1, base + pending.2);
    lines
}

/// The batch of `batch` chunks of about `chunk` bytes starting at `start` (`None` at the end of
/// `body`), cut into chunks, with its end.
#[allow(clippy::type_complexity)]
fn batch_at<'b>(
    lines: &mut Lines,
    body: &'b [u8],
    start: usize,
    line_no: &mut usize,
    chunk: usize,
    batch: usize,
) -> Option<(Vec<(&'b [u8], usize, Option<W3cFields>)>, usize)> {
    if start >= body.len() {
        return None;
    }
    let end = cut(body, start, chunk.saturating_mul(batch));
    Some((lines.prepare(&body[start..end], line_no, chunk), end))
}

/// A JSON document spread over lines (a pretty-printed `LogEntry`, an array of them): the first
/// line opens a value it does not close.
fn starts_multiline_json(b: &[u8]) -> bool {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let b = &b[start..];
    if b.first() == Some(&b'[') {
        let next = b[1..].iter().find(|c| !c.is_ascii_whitespace());
        return matches!(next, Some(b'{') | Some(b']'));
    }
    if b.first() != Some(&b'{') {
        return false;
    }
    let line = &b[..memchr::memchr(b'\n', b).unwrap_or(b.len())];
    serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err()
        && serde_json::Deserializer::from_slice(b)
            .into_iter::<serde::de::IgnoredAny>()
            .next()
            .is_some_and(|r| r.is_ok())
}

/// Bytes per chunk parsed by one task, and chunks per batch handed on together.
const CHUNK: usize = 1 << 20;
const BATCH: usize = 8;
/// Bytes per chunk when the lines become whole exchanges ([`read`]): an [`Exchange`] is about
/// 600 bytes before its strings, more than three times the line it comes from, and two
/// batches are in flight; 1 MiB chunks held 80 MB of exchanges at once.
const EXCHANGE_CHUNK: usize = 1 << 18;

/// The end of a chunk starting at `start`: `len` bytes on, moved forward to a line's end (and
/// past CRI partial lines, which continue on the next line).
fn cut(b: &[u8], start: usize, len: usize) -> usize {
    let mut end = line_end(b, start.saturating_add(len.max(1)).min(b.len()));
    while end < b.len() && ends_partial(&b[start..end]) {
        end = line_end(b, end + 1);
    }
    end
}

/// `at`, or the end of the line it falls in (after its newline).
fn line_end(b: &[u8], at: usize) -> usize {
    if at >= b.len() || b[at - 1] == b'\n' {
        return at.min(b.len());
    }
    match memchr::memchr(b'\n', &b[at..]) {
        Some(i) => at + i + 1,
        None => b.len(),
    }
}

/// Whether the last line of `piece` is a CRI partial line (`<time> stdout P <part>`).
fn ends_partial(piece: &[u8]) -> bool {
    let body = piece.strip_suffix(b"\n").unwrap_or(piece);
    let line = &body[memchr::memrchr(b'\n', body).map_or(0, |i| i + 1)..];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    cri_split(line).is_some_and(|(_, tag, _)| line[tag] == b'P')
}

/// A container runtime (CRI) log line, `<RFC 3339> stdout|stderr F|P <payload>`, as its
/// stream, the index of its `F`/`P` tag and its payload. Kubelet splits a line longer than
/// 16 KiB into `P` (partial) lines ended by an `F` line; their payloads join into one.
fn cri_split(line: &[u8]) -> Option<(&[u8], usize, &[u8])> {
    if line.len() < 20 || !line[0].is_ascii_digit() || line[4] != b'-' {
        return None;
    }
    let s1 = memchr::memchr(b' ', line)?;
    if !line[..s1].contains(&b'T') {
        return None;
    }
    let s2 = s1 + 1 + memchr::memchr(b' ', &line[s1 + 1..])?;
    let stream = &line[s1 + 1..s2];
    if stream != b"stdout" && stream != b"stderr" {
        return None;
    }
    let tag = s2 + 1;
    if !matches!(line.get(tag), Some(b'P' | b'F')) {
        return None;
    }
    match line.get(tag + 1) {
        None => Some((stream, tag, &[])),
        Some(b' ') => Some((stream, tag, &line[tag + 2..])),
        Some(_) => None,
    }
}

/// The state of the line loop over one input.
struct Lines {
    fields: Option<W3cFields>,
    other: BTreeMap<&'static str, (usize, Vec<usize>)>,
    directives: usize,
    families: BTreeMap<&'static str, usize>,
    last_time: DateTime<Utc>,
    count: usize,
}

impl Lines {
    fn new() -> Self {
        Lines {
            fields: None,
            other: BTreeMap::new(),
            directives: 0,
            families: BTreeMap::new(),
            last_time: DateTime::UNIX_EPOCH,
            count: 0,
        }
    }

    /// Cut a run of whole lines into chunks, noting each chunk's first line number and the
    /// `#Fields` in force at its start (a cheap sequential scan).
    fn prepare<'b>(
        &mut self,
        b: &'b [u8],
        line_no: &mut usize,
        chunk: usize,
    ) -> Vec<(&'b [u8], usize, Option<W3cFields>)> {
        let mut chunks = Vec::new();
        let mut start = 0;
        while start < b.len() {
            let end = cut(b, start, chunk);
            let piece = &b[start..end];
            chunks.push((piece, *line_no, self.fields.clone()));
            *line_no += memchr::memchr_iter(b'\n', piece).count();
            if let Some(f) = last_fields(piece) {
                self.fields = Some(f);
            }
            start = end;
        }
        if !b.is_empty() && !b.ends_with(b"\n") {
            *line_no += 1;
        }
        chunks
    }

    /// Hand parsed chunks on, in order.
    fn hand_on<T>(&mut self, results: Vec<Chunk<T>>, map: MapFn<'_, T>, sink: &mut dyn FnMut(T)) {
        for c in results {
            for (code, (n, ex)) in c.other {
                let e = self.other.entry(code).or_default();
                e.0 += n;
                for l in ex {
                    if e.1.len() < NOTE_EXAMPLES {
                        e.1.push(l);
                    }
                }
            }
            self.directives += c.directives;
            self.count += c.count;
            for (f, n) in c.families {
                *self.families.entry(f).or_default() += n;
            }
            if let Some(h) = c.head {
                sink(h);
            }
            for item in c.items {
                match item {
                    Item::Mapped(t) => sink(t),
                    Item::Pending(mut ex) => {
                        ex.started = self.last_time;
                        if let Some(t) = map.exchange(*ex) {
                            sink(t)
                        }
                    }
                }
            }
            if let Some(t) = c.last_time {
                self.last_time = t;
            }
        }
    }

    fn finish(self, cx: &mut ReadCx<'_>) {
        if !self.families.is_empty() {
            let list: Vec<String> = self.families.iter().map(|(f, n)| format!("{f} ({n})")).collect();
            cx.creator = Some(format!("access log: {}", list.join(", ")));
        }
        for (why, (n, lines)) in self.other {
            let shown: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let more = if n > lines.len() { ", ..." } else { "" };
            cx.note(Note::info(
                "log.not_access",
                format!(
                    "{n} line{} not read as access records ({why}): line{} {}{more}",
                    if n == 1 { "" } else { "s" },
                    if lines.len() == 1 { "" } else { "s" },
                    shown.join(", ")
                ),
            ));
        }
        if self.directives > 0 {
            cx.note(Note::info(
                "log.directives",
                format!(
                    "{} directive line{} (#Fields, #Version...)",
                    self.directives,
                    if self.directives == 1 { "" } else { "s" }
                ),
            ));
        }
    }
}

/// The last `#Fields:` directive in a piece of a file, if any (a cheap scan).
fn last_fields(piece: &[u8]) -> Option<W3cFields> {
    let finder = memchr::memmem::Finder::new(b"#Fields:");
    let pos = finder.find_iter(piece).filter(|&i| i == 0 || piece[i - 1] == b'\n').last()?;
    let end = memchr::memchr(b'\n', &piece[pos..]).map(|e| pos + e).unwrap_or(piece.len());
    match w3c::directive(String::from_utf8_lossy(&piece[pos..end]).trim()) {
        Line::Fields(f) => Some(f),
        _ => None,
    }
}

fn parse_chunk<T>(
    piece: &[u8],
    first_line: usize,
    mut fields: Option<W3cFields>,
    user: Option<&'static UserFormat>,
    input: usize,
    map: MapFn<'_, T>,
) -> Chunk<T> {
    map.chunk_start();
    let mut c = Chunk {
        head: None,
        // About one record per 128 bytes: no regrowth of a vector handed to another thread.
        items: Vec::with_capacity(piece.len() / 128 + 1),
        count: 0,
        other: BTreeMap::new(),
        directives: 0,
        families: BTreeMap::new(),
        last_time: None,
    };
    let mut last: Option<DateTime<Utc>> = None;
    // UTF-8 checked once for the chunk (nearly always valid), not line by line.
    let text = std::str::from_utf8(piece).ok();
    let mut one = |line: &[u8], text: Option<&str>, this: usize| match text.map_or_else(
        || parse_line(line, LineCx { fields: fields.as_ref(), user }),
        |t| parse_str_line(t, LineCx { fields: fields.as_ref(), user }),
    ) {
        Line::Record(r) => {
            *c.families.entry(r.family).or_default() += 1;
            c.count += 1;
            let timed = r.time.is_some();
            if timed || last.is_some() {
                if let Some(t) = map.record(&r, Origin::entry(input, this), last.unwrap_or(DateTime::UNIX_EPOCH)) {
                    if timed {
                        last = r.time;
                    }
                    if let Some(t) = t {
                        c.items.push(Item::Mapped(t));
                    }
                    return;
                }
            }
            let ex = r.into_exchange(Origin::entry(input, this), last.unwrap_or(DateTime::UNIX_EPOCH));
            if timed {
                last = Some(ex.started);
            } else if last.is_none() {
                c.items.push(Item::Pending(Box::new(ex)));
                return;
            }
            if let Some(t) = map.exchange(ex) {
                c.items.push(Item::Mapped(t));
            }
        }
        Line::Fields(f) => {
            c.directives += 1;
            fields = Some(f);
        }
        Line::Directive => c.directives += 1,
        Line::Blank => {}
        Line::Other(why) => {
            let e = c.other.entry(why).or_default();
            e.0 += 1;
            if e.1.len() < NOTE_EXAMPLES {
                e.1.push(this);
            }
        }
    };
    // CRI partial lines (`P`) being joined: the first line's number, the joined line (read as
    // one `F` line), and its stream.
    let mut partial: Option<(usize, Vec<u8>, &[u8])> = None;
    // Lines found with memchr (a split on a byte predicate tests every byte one at a time).
    let mut starts = 0;
    let mut ends = memchr::memchr_iter(b'\n', piece).chain(std::iter::once(piece.len()));
    let lines = std::iter::from_fn(|| {
        let end = ends.next()?;
        let line = (&piece[starts..end], text.and_then(|t| t.get(starts..end)));
        starts = end + 1;
        Some(line)
    });
    for (this, (line, line_text)) in (first_line..).zip(lines) {
        if line.is_empty() {
            continue;
        }
        let cri = cri_split(line.strip_suffix(b"\r").unwrap_or(line));
        match (cri, partial.take()) {
            (Some((stream, tag, part)), Some((first, mut joined, s))) if s == stream => {
                // Bounded: a joined line over MAX_LINE is refused by parse_line anyway.
                let room = (MAX_LINE + 1).saturating_sub(joined.len());
                joined.extend_from_slice(&part[..part.len().min(room)]);
                if line[tag] == b'P' {
                    partial = Some((first, joined, s));
                } else {
                    one(&joined, None, first);
                }
            }
            (Some((stream, tag, _)), pending) if line[tag] == b'P' => {
                if let Some((first, joined, _)) = pending {
                    one(&joined, None, first);
                }
                let mut joined = Vec::with_capacity(line.len() * 2);
                joined.extend_from_slice(&line[..tag]);
                joined.push(b'F');
                joined.extend_from_slice(line[tag + 1..].strip_suffix(b"\r").unwrap_or(&line[tag + 1..]));
                partial = Some((this, joined, stream));
            }
            (_, pending) => {
                if let Some((first, joined, _)) = pending {
                    one(&joined, None, first);
                }
                one(line, line_text, this);
            }
        }
    }
    if let Some((first, joined, _)) = partial {
        one(&joined, None, first);
    }
    c.head = map.chunk_done();
    c.last_time = last;
    c
}

/// Whether one of the first lines of a file is a record of the user's format.
pub fn user_matches(u: &UserFormat, head: &[u8]) -> bool {
    head.split(|&b| b == b'\n')
        .take(64)
        .any(|l| l.len() <= MAX_LINE && u.parse(String::from_utf8_lossy(l).trim()).is_some())
}

/// Whether the start of a file looks like an access log (for format detection): one of its
/// first lines is an access record.
pub fn looks_like(head: &[u8]) -> bool {
    let body = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if starts_multiline_json(body) {
        let window = &body[..body.len().min(64 * 1024)];
        return memchr::memmem::find(window, b"\"httpRequest\"").is_some()
            || memchr::memmem::find(window, b"\"properties\"").is_some();
    }
    let mut fields = None;
    for line in body.split(|&b| b == b'\n').take(64) {
        match parse_line(line, LineCx { fields: fields.as_ref(), user: None }) {
            Line::Record(_) => return true,
            Line::Fields(f) => fields = Some(f),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = clf_time("22/Jan/2019:03:56:14 +0330").unwrap();
        assert_eq!(t.to_rfc3339(), "2019-01-22T00:26:14+00:00");
        assert!(clf_time("25/Feb/2019:16:19:48.143").is_some());
        assert!(clf_time("32/Jan/2019:03:56:14 +0330").is_none());
        assert!(clf_time("22/Foo/2019:03:56:14 +0330").is_none());
        assert!(iso_time("2023-04-26T12:22:55.463821Z").is_some());
        assert!(epoch_time(1693840791.7564995).is_some());
        assert!(epoch_time(f64::NAN).is_none());
    }

    #[test]
    fn wrappers() {
        assert_eq!(cri_payload("2024-01-01T00:00:00.000Z stdout F {\"a\":1}"), Some("{\"a\":1}"));
        assert_eq!(
            syslog_payload("Feb 25 16:19:38 192.168.4.2 haproxy[1]: Proxy prod_http_in started."),
            Some("Proxy prod_http_in started.")
        );
        assert_eq!(syslog_payload("<134>1 2024-01-01T00:00:00Z h app 1 - - msg here"), Some("msg here"));
    }

    /// Every exchange of `text` as (line, time, URL, status, notes), with the count and the
    /// not-access lines, read in chunks of `chunk` bytes, `batch` chunks at a time.
    #[allow(clippy::type_complexity)]
    fn read_in_chunks(
        text: &[u8],
        chunk: usize,
        batch: usize,
    ) -> (Vec<(usize, String, String, Option<u16>, usize)>, usize, Vec<(&'static str, (usize, Vec<usize>))>) {
        let src = Source::Owned(text.to_vec());
        let mut got = Vec::new();
        let map = |ex: Exchange| {
            Some((ex.origin.index, ex.started.to_rfc3339(), ex.request.url.clone(), ex.status(), ex.notes.len()))
        };
        let lines = run(&src, src.bytes(), None, 0, &map, &mut |t| got.push(t), chunk, batch);
        (got, lines.count, lines.other.into_iter().collect())
    }

    #[test]
    fn chunk_boundaries_change_nothing() {
        let text = concat!(
            "10.0.0.1 - alice [22/Jan/2019:03:56:14 +0000] \"GET /a HTTP/1.1\" 200 5 \"-\" \"curl/8\"\r\n",
            "garbage line here\n",
            "\n",
            "{\"status\": 401, \"request_uri\": \"/nolog-time\", \"request_method\": \"GET\"}\r\n",
            "10.0.0.2 - - [22/Jan/2019:03:56:15 +0000] \"POST /b?x=1 HTTP/1.1\" 403 0\n",
            "2019/01/22 03:56:16 [error] 7#7: *1 open() failed\r\n",
            "{\"status\": 200, \"request_uri\": \"/also-no-time\", \"request_method\": \"GET\"}\n",
            "\r\n",
            "2024-01-01T00:00:00.000000001Z stdout P 10.0.0.4 - - [22/Jan/2019:03:56:18 +0000] \"GET /jo\n",
            "2024-01-01T00:00:00.000000002Z stdout P ined HTTP/1.1\" 2\r\n",
            "2024-01-01T00:00:00.000000003Z stdout F 00 12\n",
            "10.0.0.3 - - [22/Jan/2019:03:56:17 +0000] \"GET /c HTTP/1.1\" 401 7",
        )
        .as_bytes();
        let whole = read_in_chunks(text, 1 << 20, 8);
        let (rows, count, other) = &whole;
        assert_eq!(*count, 6);
        let lines: Vec<usize> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, [1, 4, 5, 7, 9, 12], "line numbers count blank and CRLF lines");
        assert_eq!(rows[0].2, "/a");
        assert_eq!((rows[4].2.as_str(), rows[4].3), ("/joined", Some(200)), "CRI partial lines are joined");
        assert_eq!(rows[5].3, Some(401), "the last line has no newline");
        // A line without a time takes the previous record's.
        assert_eq!(rows[1].1, rows[0].1);
        assert_eq!(rows[3].1, rows[2].1);
        assert_eq!(other.iter().map(|(_, (n, l))| (*n, l.clone())).collect::<Vec<_>>(), [(2, vec![2, 6])]);
        // Any cut (a line split across chunk edges, a CRLF cut between \r and \n, a chunk of
        // one byte) and any batch size give the same exchanges, lines and notes.
        for chunk in 1..=text.len() + 1 {
            for batch in [1, 2, 3, 100] {
                assert_eq!(read_in_chunks(text, chunk, batch), whole, "chunk {chunk} batch {batch}");
            }
        }
    }

    #[test]
    fn cri_partial_lines_join_or_stand_alone() {
        // A partial line followed by an unrelated line, or by a line of the other stream, is
        // read on its own (here: not an access record), and the next line normally.
        let text = concat!(
            "2024-01-01T00:00:00Z stdout P 10.0.0.4 - - [22/Jan/2019:03:56:18 +0000] \"GET /x\n",
            "10.0.0.3 - - [22/Jan/2019:03:56:17 +0000] \"GET /c HTTP/1.1\" 401 7\n",
            "2024-01-01T00:00:00Z stdout P 10.0.0.5 - - [22/Jan/2019:03:56:19 +0000] \"GET /y\n",
            "2024-01-01T00:00:00Z stderr F  HTTP/1.1\" 200 1\n",
            "2024-01-01T00:00:00Z stdout P 10.0.0.6 - - [22/Jan/2019:03:56:20 +0000] \"GET /z",
        )
        .as_bytes();
        let whole = read_in_chunks(text, 1 << 20, 8);
        let (rows, count, other) = &whole;
        assert_eq!(*count, 1, "{rows:?}");
        assert_eq!(rows[0].0, 2);
        let mut lines: Vec<usize> = other.iter().flat_map(|(_, (_, l))| l.clone()).collect();
        lines.sort();
        assert_eq!(lines, [1, 3, 4, 5]);
        for chunk in 1..=text.len() + 1 {
            assert_eq!(read_in_chunks(text, chunk, 2), whole, "chunk {chunk}");
        }
        let long = format!("2024-01-01T00:00:00Z stdout P {}\n", "a".repeat(40_000)).repeat(3);
        let (_, count, other) = read_in_chunks(long.as_bytes(), 1 << 20, 8);
        assert_eq!(count, 0);
        assert_eq!(other, [("line longer than 64 KiB", (1, vec![1]))]);
    }

    #[test]
    fn cut_ends_at_a_newline() {
        let b = b"ab\ncd\nef";
        assert_eq!(cut(b, 0, 1), 3);
        assert_eq!(cut(b, 0, 3), 3);
        assert_eq!(cut(b, 0, 4), 6);
        assert_eq!(cut(b, 3, 100), 8);
        assert_eq!(cut(b, 6, 1), 8);
        assert_eq!(cut(b, 0, 0), 3);
    }

    #[test]
    fn hostile_lines_never_panic() {
        let long = vec![b'a'; MAX_LINE + 1];
        assert_eq!(parse(&long), Line::Other("line longer than 64 KiB"));
        for l in [
            &b"\xff\xfe\x00"[..],
            b"[",
            b"\"",
            b"1.2.3.4 - - [",
            b"1.2.3.4 - - [22/Jan/2019:03:56:14 +0330] \"GET",
            b"{\"httpRequest\": 5}",
            b"#Fields:",
            b"Feb 25 16:19:38 h t: ",
            b"2024-01-01T00:00:00.000Z stdout F 2024-01-01T00:00:00.000Z stdout F 2024-01-01T00:00:00.000Z stdout F x",
        ] {
            let _ = parse(l);
        }
    }
}
