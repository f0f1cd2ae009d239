//! Fiddler session archives (`.saz`): a zip with, per session N, `raw/N_c.txt` (the request as
//! sent), `raw/N_s.txt` (the response), `raw/N_m.xml` (timers and flags) and, for websockets,
//! `raw/N_w.txt` (the messages). The zip comment names the Fiddler version.
//!
//! Raw messages go through the one HTTP/1 parser ([`super::http1`]). Times come from the
//! `SessionTimers` of `_m.xml` (`ClientBeginRequest`, `ClientDoneResponse`); the client and
//! server addresses from its `x-clientip`/`x-clientport`/`x-hostip` flags. A session without
//! `_s.txt` is an exchange without a response plus a note. A password-protected archive is a
//! clear error (Fiddler encrypts with a password the file does not carry). Entries are read
//! with a size cap, so a crafted archive cannot expand without bound.

use super::{http1, ReadCx, ReadError, Source};
use crate::model::{Direction, Exchange, Headers, Note, Origin, Request, WsMessage, WsOpcode};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::Read;

/// Largest entry read (a session's request or response as stored).
const MAX_ENTRY: u64 = 512 << 20;

pub fn read(src: &Source, cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    read_bytes(src.bytes(), cx)
}

#[derive(Default)]
struct Session {
    c: Option<usize>,
    s: Option<usize>,
    m: Option<usize>,
    w: Option<usize>,
}

/// Read a SAZ from its bytes (the fuzzing entry point).
pub fn read_bytes(data: &[u8], cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data))
        .map_err(|e| ReadError::new(format!("byte 0: not a readable zip archive ({e}); a SAZ is a zip")))?;
    let comment = String::from_utf8_lossy(zip.comment()).trim().to_string();
    let mut sessions: BTreeMap<u64, Session> = BTreeMap::new();
    let mut encrypted = 0usize;
    for i in 0..zip.len() {
        let f = match zip.by_index_raw(i) {
            Ok(f) => f,
            Err(e) => {
                cx.note(Note::warning("saz.entry_unreadable", format!("zip entry {i} cannot be read: {e}")));
                continue;
            }
        };
        if f.encrypted() {
            encrypted += 1;
        }
        let Ok(name) = f.name() else { continue };
        let name = name.replace('\\', "/");
        let Some(base) = name.strip_prefix("raw/") else { continue };
        let Some((num, kind)) = base.split_once('_') else { continue };
        let Ok(n) = num.parse::<u64>() else { continue };
        let s = sessions.entry(n).or_default();
        match kind.to_ascii_lowercase().as_str() {
            "c.txt" => s.c = Some(i),
            "s.txt" => s.s = Some(i),
            "m.xml" => s.m = Some(i),
            "w.txt" => s.w = Some(i),
            _ => {}
        }
    }
    if encrypted > 0 {
        return Err(ReadError::new(format!(
            "byte 0: the archive is password-protected ({encrypted} encrypted entries); harken cannot read it: save the sessions from Fiddler again without a password"
        )));
    }
    if sessions.is_empty() {
        cx.note(Note::warning("saz.no_sessions", "the archive holds no raw/N_c.txt sessions"));
    }
    let mut index = 0usize;
    for (n, s) in sessions {
        let Some(ci) = s.c else {
            cx.note(Note::warning("saz.no_request", format!("session {n} has no raw/{n}_c.txt; skipped")));
            continue;
        };
        let mut entry = |i: usize, cx: &mut ReadCx<'_>| -> Option<Vec<u8>> {
            let f = match zip.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    cx.note(Note::warning("saz.entry_unreadable", format!("session {n}: zip entry {i}: {e}")));
                    return None;
                }
            };
            let mut v = Vec::new();
            let mut limited = f.take(MAX_ENTRY + 1);
            if let Err(e) = limited.read_to_end(&mut v) {
                cx.note(Note::warning("saz.entry_unreadable", format!("session {n}: zip entry {i}: {e}")));
                return None;
            }
            if v.len() as u64 > MAX_ENTRY {
                cx.note(Note::warning(
                    "saz.entry_too_large",
                    format!("session {n}: zip entry {i} is larger than {MAX_ENTRY} bytes; cut there"),
                ));
                v.truncate(MAX_ENTRY as usize);
            }
            Some(v)
        };
        let c = entry(ci, cx);
        let sv = s.s.and_then(|i| entry(i, cx));
        let m = s.m.and_then(|i| entry(i, cx));
        let w = s.w.and_then(|i| entry(i, cx));
        let Some(c) = c else { continue };
        session(n, index, &c, sv.as_deref(), m.as_deref(), w.as_deref(), cx);
        index += 1;
    }
    cx.creator = Some(if comment.is_empty() { "Fiddler".to_string() } else { comment.chars().take(80).collect() });
    Ok(())
}

/// An XML attribute value from `_m.xml` (which Fiddler writes flat and simple).
fn attr(xml: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let at = xml.find(&key)? + key.len();
    let end = xml[at..].find('"')? + at;
    Some(xml[at..end].to_string())
}

/// A `SessionFlag` value: `<SessionFlag N="x-clientip" V="..." />`.
fn flag(xml: &str, name: &str) -> Option<String> {
    let key = format!("N=\"{name}\"");
    let at = xml.find(&key)? + key.len();
    attr(&xml[at..xml[at..].find("/>").map(|e| e + at).unwrap_or(xml.len())], "V")
}

fn time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.with_timezone(&Utc)).filter(|t| t.timestamp() > 0)
}

fn session(n: u64, index: usize, c: &[u8], s: Option<&[u8]>, m: Option<&[u8]>, w: Option<&[u8]>, cx: &mut ReadCx<'_>) {
    let origin = Origin::entry(cx.input, index);
    let mut notes = Vec::new();
    let meta = m.map(|m| String::from_utf8_lossy(m).into_owned()).unwrap_or_default();
    // Fiddler writes plain-HTTP requests in absolute form; an origin-form target is a
    // decrypted HTTPS request.
    let request = match http1::parse_request(c, "https", "unknown-host", &cx.opts) {
        Ok((r, n)) => {
            notes.extend(n);
            r
        }
        Err(e) => {
            notes.push(Note::warning("saz.request_unreadable", format!("raw/{n}_c.txt is {e}")));
            Request {
                method: String::new(),
                url: String::new(),
                http_version: String::new(),
                headers: Headers::new(),
                body: None,
            }
        }
    };
    let begin = attr(&meta, "ClientBeginRequest").and_then(|t| time(&t));
    let done = attr(&meta, "ClientDoneResponse").and_then(|t| time(&t));
    let started = begin.unwrap_or_else(|| {
        if m.is_none() {
            notes.push(Note::info("saz.no_timers", format!("session {n} has no raw/{n}_m.xml: no request time")));
        } else {
            notes.push(Note::warning("saz.no_timers", format!("raw/{n}_m.xml has no readable ClientBeginRequest")));
        }
        DateTime::<Utc>::UNIX_EPOCH
    });
    let method = request.method.clone();
    let mut ex = Exchange::new(origin, started, request);
    match s {
        Some(sv) if !sv.iter().all(u8::is_ascii_whitespace) => match http1::parse_response(sv, &method, &cx.opts) {
            Ok((r, n)) => {
                notes.extend(n);
                ex.response = Some(r);
            }
            Err(e) => notes.push(Note::warning("saz.response_unreadable", format!("raw/{n}_s.txt is {e}"))),
        },
        _ => notes.push(Note::info("saz.no_response", "Fiddler stored no response for this session")),
    }
    if let (Some(b), Some(d)) = (begin, done) {
        let ms = (d - b).num_microseconds().unwrap_or(0) as f64 / 1000.0;
        if ms >= 0.0 {
            ex.duration_ms = Some(ms);
        }
    }
    ex.client = flag(&meta, "x-clientip").map(|ip| {
        let ip = ip.trim_start_matches("::ffff:").to_string();
        match flag(&meta, "x-clientport") {
            Some(p) => format!("{ip}:{p}"),
            None => ip,
        }
    });
    ex.server = flag(&meta, "x-hostip");
    if let Some(w) = w {
        let (msgs, bad) = websocket(w);
        ex.websocket = msgs;
        if bad {
            notes
                .push(Note::warning("saz.websocket_unreadable", format!("raw/{n}_w.txt could not be read to its end")));
        }
    }
    for n in &mut notes {
        n.at = Some(origin);
    }
    ex.notes = notes;
    cx.emit(ex);
}

/// Messages of `_w.txt`: blocks of `Request-Length:` (client) or `Response-Length:` (server)
/// and timer headers, a blank line, then the message's frame bytes. Returns the messages and
/// whether the file broke part way.
fn websocket(w: &[u8]) -> (Vec<WsMessage>, bool) {
    let mut out = Vec::new();
    let mut p = 0usize;
    while p < w.len() {
        while p < w.len() && matches!(w[p], b'\r' | b'\n') {
            p += 1;
        }
        if p >= w.len() {
            break;
        }
        let Some(end) = memchr::memmem::find(&w[p..], b"\r\n\r\n")
            .map(|e| (e, 4))
            .or_else(|| memchr::memmem::find(&w[p..], b"\n\n").map(|e| (e, 2)))
        else {
            return (out, true);
        };
        let head = String::from_utf8_lossy(&w[p..p + end.0]).into_owned();
        p += end.0 + end.1;
        let mut len = None;
        let mut dir = Direction::Send;
        let mut when = None;
        for line in head.lines() {
            let Some((k, v)) = line.split_once(':') else { continue };
            let v = v.trim();
            match k.trim().to_ascii_lowercase().as_str() {
                "request-length" => {
                    len = v.parse::<usize>().ok();
                    dir = Direction::Send;
                }
                "response-length" => {
                    len = v.parse::<usize>().ok();
                    dir = Direction::Receive;
                }
                "doneread" | "beginsend" if when.is_none() => when = time(v),
                _ => {}
            }
        }
        let Some(len) = len else { return (out, true) };
        if len > w.len() - p {
            return (out, true);
        }
        let frame = &w[p..p + len];
        p += len;
        let (opcode, data) = unframe(frame).unwrap_or((WsOpcode::Binary, frame.to_vec()));
        out.push(WsMessage {
            time: when.unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
            direction: dir,
            opcode,
            data,
            frame: None,
        });
    }
    (out, false)
}

/// The opcode and unmasked payload of one websocket frame, when the bytes are one.
fn unframe(f: &[u8]) -> Option<(WsOpcode, Vec<u8>)> {
    let b0 = *f.first()?;
    let b1 = *f.get(1)?;
    let opcode = WsOpcode::from_bits(b0 & 0x0f)?;
    let mut p = 2usize;
    let mut len = u64::from(b1 & 0x7f);
    if len == 126 {
        len = u64::from(u16::from_be_bytes([*f.get(2)?, *f.get(3)?]));
        p = 4;
    } else if len == 127 {
        len = u64::from_be_bytes(f.get(2..10)?.try_into().ok()?);
        p = 10;
    }
    let mask = if b1 & 0x80 != 0 {
        let m: [u8; 4] = f.get(p..p + 4)?.try_into().ok()?;
        p += 4;
        Some(m)
    } else {
        None
    };
    if (f.len() - p) as u64 != len {
        return None;
    }
    let mut data = f[p..].to_vec();
    if let Some(m) = mask {
        data.iter_mut().enumerate().for_each(|(i, b)| *b ^= m[i % 4]);
    }
    Some((opcode, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_blocks_and_frames() {
        let mut w = b"Request-Length: 7\r\nID: 1\r\nDoneRead: 2024-01-02T03:04:05.1234567+00:00\r\n\r\n".to_vec();
        w.extend([0x81, 0x05]);
        w.extend(b"hello");
        w.extend(b"\r\nResponse-Length: 3\r\n\r\n\x89\x01x");
        let (m, bad) = websocket(&w);
        assert!(!bad);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].text(), m[0].direction), (Some("hello"), Direction::Send));
        assert_eq!(m[1].opcode, WsOpcode::Ping);
        let (_, bad) = websocket(b"Request-Length: 99\r\n\r\nshort");
        assert!(bad);
    }
}
