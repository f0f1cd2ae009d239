//! mitmproxy flow dumps (`mitmdump -w`, the `.mitm`/`.flows` files of mitmproxy and mitmweb):
//! a sequence of tnetstring dictionaries, one per flow.
//!
//! Every flow-format version is read, from the legacy 0.10 dumps (byte-string keys, version
//! `[0, 10, x]`, `httpversion` pairs, `code`/`msg`/`content`) through the renames of mitmproxy's
//! own migrations (`status_code`, `reason`, `body` then `content` again, `address` to
//! `peername`, websocket records of format 7 to 11 joining their handshake flow) to the
//! current format 21. Fields are looked up by every name they had, so one reader serves all.
//!
//! HTTP flows become exchanges: request, response (raw bytes as sent, Content-Encoding still
//! applied), websocket messages, and the flow's error as a note. A flow without a response is
//! an exchange without one plus a note. TCP, UDP and DNS flows are counted in one note.

use super::tnetstring::{self, Value};
use super::{ReadCx, ReadError, Source};
use crate::model::{
    Body, BodyState, Direction, Exchange, Headers, Note, Origin, Request, Response, WsMessage, WsOpcode,
};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::HashMap;

/// The newest flow format this reader knows (mitmproxy 11/12).
pub const KNOWN_FORMAT: i64 = 21;
/// Handshake flows held while waiting for their separate websocket record (formats 7-11).
const MAX_HELD: usize = 10_000;

pub fn read(src: &Source, cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    read_bytes(src.bytes(), cx)
}

/// Read a flow dump from its bytes (the fuzzing entry point).
pub fn read_bytes(data: &[u8], cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    let mut pos = 0usize;
    let mut index = 0usize;
    let mut versions: Vec<String> = Vec::new();
    let mut other: HashMap<String, usize> = HashMap::new();
    let mut newer = false;
    // Formats 7-11: handshake flows by id, waiting for their websocket record; and websocket
    // records whose handshake has not been seen yet.
    let mut held: HashMap<String, Exchange> = HashMap::new();
    let mut held_order: Vec<String> = Vec::new();
    let mut orphans: HashMap<String, Vec<WsMessage>> = HashMap::new();
    while pos < data.len() {
        if data[pos..].iter().all(u8::is_ascii_whitespace) {
            break;
        }
        let (v, next) = match tnetstring::parse(data, pos) {
            Ok(x) => x,
            Err(e) => {
                let what = if index == 0 { "not a mitmproxy flow dump" } else { "the flow dump breaks" };
                flush_held(&mut held, &mut held_order, &mut orphans, cx);
                return Err(ReadError::new(format!("flow {index}, {e}: {what}")));
            }
        };
        let this = index;
        index += 1;
        pos = next;
        if !matches!(v, Value::Dict(_)) {
            cx.note(Note::warning("mitm.not_a_flow", format!("record {this} is not a dictionary; skipped")));
            continue;
        }
        let (ver_text, ver_num) = version_of(&v);
        if !versions.contains(&ver_text) && versions.len() < 8 {
            versions.push(ver_text.clone());
        }
        if ver_num.is_some_and(|n| n > KNOWN_FORMAT) && !newer {
            newer = true;
            cx.note(Note::warning(
                "mitm.newer_format",
                format!(
                    "flow format {ver_text} is newer than the newest harken knows ({KNOWN_FORMAT}); read by the fields it had"
                ),
            ));
        }
        let kind = v.get("type").and_then(Value::text).unwrap_or_else(|| "http".into());
        match kind.as_str() {
            "http" => {
                let ex = flow(&v, cx, this);
                let meta = v.get("metadata");
                let is_handshake = meta.and_then(|m| m.get("websocket")).and_then(Value::as_bool).unwrap_or(false);
                let id = v.get("id").and_then(Value::text).unwrap_or_default();
                if is_handshake && !id.is_empty() {
                    let mut ex = ex;
                    if let Some(msgs) = orphans.remove(&id) {
                        ex.websocket.extend(msgs);
                        cx.emit(ex);
                    } else {
                        held_order.push(id.clone());
                        held.insert(id, ex);
                        if held.len() > MAX_HELD {
                            let first = held_order.remove(0);
                            if let Some(ex) = held.remove(&first) {
                                cx.emit(ex);
                            }
                        }
                    }
                } else {
                    cx.emit(ex);
                }
            }
            "websocket" => {
                // Formats 7-11: the messages of a websocket, in their own record, pointing at
                // the HTTP flow that opened it.
                let msgs = ws_messages(v.get("messages"));
                let hs = v
                    .get("metadata")
                    .and_then(|m| m.get("websocket_handshake"))
                    .and_then(Value::text)
                    .unwrap_or_default();
                if let Some(mut ex) = held.remove(&hs) {
                    held_order.retain(|h| h != &hs);
                    ex.websocket.extend(msgs);
                    cx.emit(ex);
                } else if orphans.len() < MAX_HELD {
                    orphans.entry(hs).or_default().extend(msgs);
                }
            }
            _ => *other.entry(kind.chars().take(32).collect()).or_default() += 1,
        }
    }
    flush_held(&mut held, &mut held_order, &mut orphans, cx);
    if !other.is_empty() {
        let mut kinds: Vec<String> = other.iter().map(|(k, n)| format!("{n} {}", crate::redact::escape(k))).collect();
        kinds.sort();
        cx.note(Note::info("mitm.not_http", format!("flows that are not HTTP were skipped: {}", kinds.join(", "))));
    }
    if index == 0 {
        cx.note(Note::warning("mitm.empty", "the flow dump holds no flows"));
    }
    cx.creator = Some(format!("mitmproxy flow format {}", versions.join(", ")));
    Ok(())
}

/// Emit held handshakes (their websocket record never came) and note orphaned messages.
fn flush_held(
    held: &mut HashMap<String, Exchange>,
    order: &mut Vec<String>,
    orphans: &mut HashMap<String, Vec<WsMessage>>,
    cx: &mut ReadCx<'_>,
) {
    for id in order.drain(..) {
        if let Some(ex) = held.remove(&id) {
            cx.emit(ex);
        }
    }
    let lost: usize = orphans.drain().map(|(_, m)| m.len()).sum();
    if lost > 0 {
        cx.note(Note::warning(
            "mitm.websocket_orphaned",
            format!("{lost} websocket messages belong to a handshake flow that is not in the file"),
        ));
    }
}

/// The flow format as written (`20`, `0.10.1`) and as a number for integer versions.
fn version_of(v: &Value<'_>) -> (String, Option<i64>) {
    match v.get("version") {
        Some(Value::Int(i)) => (i.to_string(), Some(*i)),
        Some(Value::List(parts)) => {
            let s: Vec<String> =
                parts.iter().map(|p| p.as_i64().map(|i| i.to_string()).unwrap_or("?".into())).collect();
            (s.join("."), None)
        }
        _ => ("unknown".into(), None),
    }
}

fn time(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() || !(0.0..1e11).contains(&secs) {
        return None;
    }
    let micros = (secs * 1e6).round() as i64;
    Utc.timestamp_micros(micros).single()
}

fn headers(v: Option<&Value<'_>>) -> Headers {
    let mut h = Headers::new();
    if let Some(list) = v.and_then(Value::as_list) {
        for pair in list {
            if let Some([k, val, ..]) = pair.as_list() {
                if let (Some(k), Some(val)) = (k.text(), val.text()) {
                    h.push(k, val);
                }
            }
        }
    }
    h
}

/// `HTTP/1.1` from `http_version` text or a legacy `httpversion` pair.
fn http_version(m: &Value<'_>) -> String {
    if let Some(t) = m.get("http_version").and_then(Value::text) {
        return t;
    }
    match m.get("httpversion").and_then(Value::as_list) {
        Some([a, b, ..]) => format!("HTTP/{}.{}", a.as_i64().unwrap_or(1), b.as_i64().unwrap_or(1)),
        _ => String::new(),
    }
}

/// An address as `host:port` from `[host, port]` or the 0.x/1.x `{"address": [host, port]}`.
fn address(v: Option<&Value<'_>>) -> Option<String> {
    let v = v?;
    let v = match v {
        Value::Dict(_) => v.get("address")?,
        _ => v,
    };
    match v.as_list()? {
        [h, p, ..] => {
            let host = h.text()?;
            if host.is_empty() {
                return None;
            }
            match p.as_i64() {
                Some(p) if host.contains(':') => Some(format!("[{host}]:{p}")),
                Some(p) => Some(format!("{host}:{p}")),
                None => Some(host),
            }
        }
        _ => None,
    }
}

fn body(m: &Value<'_>, hdrs: &Headers, cx: &ReadCx<'_>, notes: &mut Vec<Note>, what: &str) -> Option<Body> {
    let content = m.get_any(&["content", "body"]);
    let mime = hdrs.get("content-type").map(str::to_string);
    match content {
        None => {
            if m.get("content").is_some_and(Value::is_null) {
                notes.push(Note::info(
                    "mitm.body_not_stored",
                    format!("mitmproxy did not store the {what} body (streamed or dropped)"),
                ));
                let declared = hdrs.get("content-length").and_then(|l| l.trim().parse::<u64>().ok());
                return declared.filter(|&n| n > 0).map(|n| Body {
                    raw: Vec::new(),
                    state: BodyState::ContentEncoded,
                    stored_as: None,
                    mime,
                    declared_size: Some(n),
                    omitted: true,
                });
            }
            None
        }
        Some(c) => {
            let raw = c.as_bytes().unwrap_or(&[]);
            if raw.is_empty() {
                return None;
            }
            let keep = cx.opts.keep_body(mime.as_deref(), raw.len());
            Some(Body {
                raw: if keep { raw.to_vec() } else { Vec::new() },
                state: BodyState::ContentEncoded,
                stored_as: None,
                mime,
                declared_size: (!keep).then_some(raw.len() as u64),
                omitted: !keep,
            })
        }
    }
}

fn default_port(scheme: &str, port: i64) -> bool {
    (scheme == "http" && port == 80) || (scheme == "https" && port == 443)
}

fn request(r: &Value<'_>, cx: &ReadCx<'_>, notes: &mut Vec<Note>) -> Request {
    let method = r.get("method").and_then(Value::text).unwrap_or_default();
    let scheme = r.get("scheme").and_then(Value::text).filter(|s| !s.is_empty()).unwrap_or_else(|| "http".into());
    let path = r.get("path").and_then(Value::text).unwrap_or_default();
    let mut hdrs = headers(r.get("headers"));
    let url = if path.starts_with("http://") || path.starts_with("https://") {
        path
    } else {
        // The host the client asked for: HTTP/2+ authority, else the Host header, else the
        // address mitmproxy connected to.
        let authority = r.get("authority").and_then(Value::text).filter(|a| !a.is_empty());
        let host = authority.or_else(|| hdrs.get("host").map(|h| h.trim().to_string()).filter(|h| !h.is_empty()));
        let host = host.unwrap_or_else(|| {
            let h = r.get("host").and_then(Value::text).unwrap_or_default();
            let h = if h.contains(':') && !h.starts_with('[') { format!("[{h}]") } else { h };
            match r.get("port").and_then(Value::as_i64) {
                Some(p) if !default_port(&scheme, p) => format!("{h}:{p}"),
                _ => h,
            }
        });
        let path = if path.is_empty() || path.starts_with('/') || path == "*" { path } else { format!("/{path}") };
        if method.eq_ignore_ascii_case("CONNECT") {
            format!("{scheme}://{host}")
        } else {
            format!("{scheme}://{host}{path}")
        }
    };
    let body = body(r, &hdrs, cx, notes, "request");
    hdrs.0.extend(headers(r.get("trailers")).0);
    Request { method, url, http_version: http_version(r), headers: hdrs, body: body.map(Box::new) }
}

fn response(r: &Value<'_>, cx: &ReadCx<'_>, notes: &mut Vec<Note>) -> Response {
    let status = r.get_any(&["status_code", "code"]).and_then(Value::as_i64).unwrap_or(0);
    let status = u16::try_from(status).unwrap_or(0);
    let reason = r.get_any(&["reason", "msg"]).and_then(Value::text).unwrap_or_default();
    let mut hdrs = headers(r.get("headers"));
    let body = body(r, &hdrs, cx, notes, "response");
    hdrs.0.extend(headers(r.get("trailers")).0);
    Response { status, reason, http_version: http_version(r), headers: hdrs, body: body.map(Box::new) }
}

fn ws_messages(v: Option<&Value<'_>>) -> Vec<WsMessage> {
    let mut out = Vec::new();
    for m in v.and_then(Value::as_list).unwrap_or(&[]) {
        let Some([kind, from_client, content, ts, ..]) = m.as_list() else { continue };
        let opcode = match kind.as_i64() {
            Some(0) => WsOpcode::Continuation,
            Some(1) => WsOpcode::Text,
            Some(8) => WsOpcode::Close,
            Some(9) => WsOpcode::Ping,
            Some(10) => WsOpcode::Pong,
            _ => WsOpcode::Binary,
        };
        let Some(time) = ts.as_f64().and_then(time) else { continue };
        out.push(WsMessage {
            time,
            direction: if from_client.as_bool().unwrap_or(false) { Direction::Send } else { Direction::Receive },
            opcode,
            data: content.as_bytes().unwrap_or(&[]).to_vec(),
            frame: None,
        });
    }
    out
}

/// One HTTP flow as an exchange.
fn flow(v: &Value<'_>, cx: &ReadCx<'_>, index: usize) -> Exchange {
    let origin = Origin::entry(cx.input, index);
    let mut notes = Vec::new();
    let req_v = v.get("request");
    let req = match req_v {
        Some(r @ Value::Dict(_)) => request(r, cx, &mut notes),
        _ => {
            notes.push(Note::warning("mitm.no_request", "the flow has no request"));
            Request {
                method: String::new(),
                url: String::new(),
                http_version: String::new(),
                headers: Headers::new(),
                body: None,
            }
        }
    };
    let started = req_v
        .and_then(|r| r.get("timestamp_start"))
        .and_then(Value::as_f64)
        .or_else(|| v.get("timestamp_created").and_then(Value::as_f64))
        .and_then(time);
    let started = started.unwrap_or_else(|| {
        notes.push(Note::warning("mitm.time_missing", "the flow has no usable request time"));
        DateTime::<Utc>::UNIX_EPOCH
    });
    let mut ex = Exchange::new(origin, started, req);
    if let Some(r @ Value::Dict(_)) = v.get("response") {
        let resp = response(r, cx, &mut notes);
        let end = r.get_any(&["timestamp_end", "timestamp_start"]).and_then(Value::as_f64);
        let start = req_v.and_then(|r| r.get("timestamp_start")).and_then(Value::as_f64);
        if let (Some(s), Some(e)) = (start, end) {
            if e >= s && (e - s) < 1e9 {
                ex.duration_ms = Some((e - s) * 1000.0);
            }
        }
        ex.response = Some(resp);
    }
    if let Some(err) = v.get("error").filter(|e| matches!(e, Value::Dict(_))) {
        let msg = err.get("msg").and_then(Value::text).unwrap_or_default();
        notes
            .push(Note::warning("mitm.error", format!("mitmproxy recorded an error: {}", crate::redact::escape(&msg))));
    }
    if ex.response.is_none() {
        notes.push(Note::info("mitm.no_response", "the flow has no response"));
    }
    if let Some(ws) = v.get("websocket").filter(|w| matches!(w, Value::Dict(_))) {
        ex.websocket = ws_messages(ws.get("messages"));
    }
    let cc = v.get("client_conn").or_else(|| req_v.and_then(|r| r.get("client_conn")));
    if let Some(cc) = cc {
        ex.client = address(cc.get_any(&["peername", "address"]));
        ex.connection = cc.get("id").and_then(Value::text);
    }
    if let Some(sc) = v.get("server_conn") {
        ex.server = address(sc.get_any(&["peername", "ip_address", "address"]));
    }
    for n in &mut notes {
        n.at = Some(origin);
    }
    ex.notes = notes;
    ex
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::IngestOptions;

    fn t(v: &str, tag: char) -> String {
        format!("{}:{v}{tag}", v.len())
    }
    fn dict(items: &[(&str, String)]) -> String {
        let body: String = items.iter().map(|(k, v)| format!("{}{v}", t(k, ';'))).collect();
        t(&body, '}')
    }

    fn read(data: &[u8]) -> (Vec<Exchange>, Vec<Note>, Result<(), ReadError>) {
        let mut got = Vec::new();
        let mut sink = |e| got.push(e);
        let mut cx = ReadCx::new(0, IngestOptions::default(), &mut sink);
        let r = read_bytes(data, &mut cx);
        let notes = std::mem::take(&mut cx.notes);
        drop(cx);
        (got, notes, r)
    }

    #[test]
    fn current_format_flow_without_response() {
        let req = dict(&[
            ("method", t("GET", ',')),
            ("scheme", t("https", ',')),
            ("host", t("api.example", ';')),
            ("port", t("443", '#')),
            ("path", t("/api/v2/users/me", ',')),
            ("http_version", t("HTTP/1.1", ',')),
            ("headers", t(&t(&format!("{}{}", t("Authorization", ','), t("Bearer abc", ',')), ']'), ']')),
            ("content", t("", ',')),
            ("timestamp_start", t("1700000000.5", '^')),
        ]);
        let f = dict(&[
            ("version", t("21", '#')),
            ("type", t("http", ';')),
            ("request", req),
            ("response", "0:~".into()),
            ("error", dict(&[("msg", t("connection refused", ';'))])),
        ]);
        let (ex, _, r) = read(f.as_bytes());
        r.unwrap();
        assert_eq!(ex.len(), 1);
        assert_eq!(ex[0].request.url, "https://api.example/api/v2/users/me");
        assert_eq!(ex[0].request.headers.get("authorization"), Some("Bearer abc"));
        assert!(ex[0].response.is_none());
        assert!(ex[0].notes.iter().any(|n| n.code == "mitm.error" && n.message.contains("refused")));
        assert!(ex[0].notes.iter().any(|n| n.code == "mitm.no_response"));
    }

    /// Formats 7-11: the websocket messages are a record of their own that names its handshake
    /// flow; it joins that flow, whichever comes first.
    #[test]
    fn separate_websocket_records_join_their_handshake() {
        let req = dict(&[
            ("method", t("GET", ',')),
            ("scheme", t("http", ',')),
            ("host", t("h", ',')),
            ("port", t("80", '#')),
            ("path", t("/ws", ',')),
            ("http_version", t("HTTP/1.1", ',')),
            ("headers", "0:]".into()),
            ("content", t("", ',')),
            ("timestamp_start", t("1600000000.0", '^')),
        ]);
        let resp = dict(&[
            ("status_code", t("101", '#')),
            ("reason", t("Switching Protocols", ',')),
            ("http_version", t("HTTP/1.1", ',')),
            ("headers", "0:]".into()),
            ("content", t("", ',')),
            ("timestamp_end", t("1600000000.1", '^')),
        ]);
        let handshake = |id: &str| {
            dict(&[
                ("version", t("7", '#')),
                ("type", t("http", ';')),
                ("id", t(id, ';')),
                ("request", req.clone()),
                ("response", resp.clone()),
                ("metadata", dict(&[("websocket", "4:true!".into())])),
            ])
        };
        let msg = |text: &str, client: bool| {
            let body = format!(
                "{}{}{}{}",
                t("1", '#'),
                if client { "4:true!".to_string() } else { "5:false!".to_string() },
                t(text, ','),
                t("1600000001.5", '^')
            );
            t(&body, ']')
        };
        let ws = |hs: &str| {
            dict(&[
                ("version", t("7", '#')),
                ("type", t("websocket", ';')),
                ("id", t("w", ';')),
                ("messages", t(&format!("{}{}", msg("hello", true), msg("world", false)), ']')),
                ("metadata", dict(&[("websocket_handshake", t(hs, ';'))])),
            ])
        };
        // Handshake first, then messages; and messages first, then the handshake.
        let data = format!("{}{}{}{}", handshake("a"), ws("a"), ws("b"), handshake("b"));
        let (ex, notes, r) = read(data.as_bytes());
        r.unwrap();
        assert_eq!(ex.len(), 2);
        for e in &ex {
            assert_eq!(e.status(), Some(101));
            assert_eq!(e.websocket.len(), 2);
            assert_eq!(e.websocket[0].text(), Some("hello"));
            assert_eq!(e.websocket[0].direction, Direction::Send);
            assert_eq!(e.websocket[1].direction, Direction::Receive);
        }
        assert!(notes.iter().all(|n| n.code != "mitm.websocket_orphaned"));
        // A handshake whose record never comes is still emitted; lost messages are noted.
        let data = format!("{}{}", handshake("c"), ws("zzz"));
        let (ex, notes, _) = read(data.as_bytes());
        assert_eq!(ex.len(), 1);
        assert!(notes.iter().any(|n| n.code == "mitm.websocket_orphaned"));
    }

    #[test]
    fn truncated_and_garbled_dumps_name_the_position() {
        let f = dict(&[("version", t("20", '#')), ("type", t("http", ';'))]);
        let cut = &f.as_bytes()[..f.len() - 5];
        let (_, _, r) = read(cut);
        let e = r.unwrap_err().message;
        assert!(e.contains("flow 0, byte") && e.contains("not a mitmproxy flow dump"), "{e}");
        let two = format!("{f}{}", &f[..10]);
        let (ex, _, r) = read(two.as_bytes());
        assert_eq!(ex.len(), 1);
        assert!(r.unwrap_err().message.contains("flow 1, byte"));
    }
}
