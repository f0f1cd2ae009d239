//! Charles Proxy JSON sessions (`.chlsj`, File > Export Session > JSON Session File): a JSON
//! array, one object per transaction with `method`, `scheme`, `host`, `port`, `path`, `query`,
//! `protocolVersion`, `status` (`COMPLETE`, `FAILED`...), `times`, `remoteAddress`,
//! `clientAddress`, and `request`/`response` objects holding `header.headers` (name/value
//! pairs), `header.firstLine` and `body` (`text`, or base64 in `encoded`; Charles stores the body
//! decoded, Content-Encoding removed, when `decoded` is true).
//!
//! A transaction that cannot be read is a note; a document that is not JSON is an error naming
//! the line and column. Charles' HAR export is read by the HAR reader.

use super::{ReadCx, ReadError, Source};
use crate::model::{Body, BodyState, Exchange, Headers, Note, Origin, Request, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub fn read(src: &Source, cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    read_bytes(src.bytes(), cx)
}

/// Read a Charles JSON session from its bytes (the fuzzing entry point).
pub fn read_bytes(data: &[u8], cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let doc: Value = serde_json::from_slice(data).map_err(|e| {
        ReadError::new(format!("line {} column {}: not a readable Charles JSON session: {e}", e.line(), e.column()))
    })?;
    let Value::Array(items) = doc else {
        return Err(ReadError::new("byte 0: a Charles JSON session is an array of transactions"));
    };
    for (index, t) in items.iter().enumerate() {
        if !t.is_object() {
            cx.note(Note::warning("chlsj.not_a_transaction", format!("item {index} is not an object; skipped")));
            continue;
        }
        let ex = transaction(t, index, cx);
        cx.emit(ex);
    }
    cx.creator = Some("Charles Proxy".into());
    Ok(())
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn headers(part: &Value) -> Headers {
    let mut h = Headers::new();
    let list = part.get("header").and_then(|x| x.get("headers")).and_then(Value::as_array);
    for x in list.into_iter().flatten() {
        if let (Some(n), Some(v)) = (s(x, "name"), s(x, "value")) {
            h.push(n, v);
        }
    }
    h
}

fn body(part: &Value, hdrs: &Headers, cx: &ReadCx<'_>, notes: &mut Vec<Note>) -> Option<Body> {
    let b = part.get("body")?;
    let mime = s(part, "mimeType").map(str::to_string).or_else(|| hdrs.get("content-type").map(str::to_string));
    let raw = if let Some(t) = s(b, "text") {
        if s(b, "encoding") == Some("base64") {
            super::har::base64_lenient(t)
        } else {
            Some(t.as_bytes().to_vec())
        }
    } else if let Some(e) = s(b, "encoded") {
        let clean: String = e.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD.decode(clean).ok()
    } else {
        None
    };
    let Some(raw) = raw else {
        notes.push(Note::warning("chlsj.body_unreadable", "a body is neither text nor base64"));
        return None;
    };
    if raw.is_empty() {
        return None;
    }
    let decoded = b.get("decoded").and_then(Value::as_bool).unwrap_or(false) || s(part, "contentEncoding").is_none();
    let keep = cx.opts.keep_body(mime.as_deref(), raw.len());
    Some(Body {
        declared_size: (!keep).then_some(raw.len() as u64),
        raw: if keep { raw } else { Vec::new() },
        state: if decoded { BodyState::Decoded } else { BodyState::ContentEncoded },
        stored_as: s(b, "encoded").map(|_| "base64".to_string()),
        mime,
        omitted: !keep,
    })
}

fn transaction(t: &Value, index: usize, cx: &ReadCx<'_>) -> Exchange {
    let origin = Origin::entry(cx.input, index);
    let mut notes = Vec::new();
    let scheme = s(t, "scheme").unwrap_or("http").to_ascii_lowercase();
    let host = s(t, "host").unwrap_or("").to_string();
    let port = t.get("port").and_then(Value::as_u64);
    let host_port = match port {
        Some(p) if !((scheme == "http" && p == 80) || (scheme == "https" && p == 443)) => format!("{host}:{p}"),
        _ => host,
    };
    let path = s(t, "path").unwrap_or("/");
    let url = match s(t, "query").filter(|q| !q.is_empty()) {
        Some(q) => format!("{scheme}://{host_port}{path}?{q}"),
        None => format!("{scheme}://{host_port}{path}"),
    };
    let req_v = t.get("request").cloned().unwrap_or(Value::Null);
    let req_headers = headers(&req_v);
    let req_body = body(&req_v, &req_headers, cx, &mut notes);
    let request = Request {
        method: s(t, "method").unwrap_or("").to_string(),
        url,
        http_version: s(t, "protocolVersion").unwrap_or("").to_string(),
        headers: req_headers,
        body: req_body.map(Box::new),
    };
    let times = t.get("times");
    let time = |k: &str| times.and_then(|x| s(x, k)).and_then(super::har::parse_time).map(|x| x.0);
    let started = time("start").or_else(|| time("requestBegin")).unwrap_or_else(|| {
        notes.push(Note::warning("chlsj.time_missing", "the transaction has no readable times.start"));
        DateTime::<Utc>::UNIX_EPOCH
    });
    let mut ex = Exchange::new(origin, started, request);
    let status = s(t, "status").unwrap_or("");
    if let Some(r) = t.get("response").filter(|r| r.is_object()) {
        let code = r.get("status").and_then(Value::as_u64).and_then(|c| u16::try_from(c).ok());
        if let Some(code) = code.filter(|&c| c > 0) {
            let hdrs = headers(r);
            let first = r.get("header").and_then(|h| s(h, "firstLine")).unwrap_or("");
            let mut parts = first.splitn(3, ' ');
            let version = parts.next().unwrap_or("").to_string();
            let reason = parts.nth(1).unwrap_or("").to_string();
            let b = body(r, &hdrs, cx, &mut notes);
            ex.response =
                Some(Response { status: code, reason, http_version: version, headers: hdrs, body: b.map(Box::new) });
        }
    }
    if ex.response.is_none() {
        let why = s(t, "errorMessage").map(|e| format!(": {}", crate::redact::escape(e))).unwrap_or_default();
        notes.push(Note::info(
            "chlsj.no_response",
            format!("Charles recorded no response (status {}){why}", crate::redact::escape(status)),
        ));
    }
    if let (Some(a), Some(b)) = (time("start"), time("end")) {
        let ms = (b - a).num_microseconds().unwrap_or(0) as f64 / 1000.0;
        if ms >= 0.0 {
            ex.duration_ms = Some(ms);
        }
    }
    ex.server = s(t, "remoteAddress").map(|a| a.rsplit('/').next().unwrap_or(a).to_string()).filter(|a| !a.is_empty());
    ex.client = s(t, "clientAddress").map(|a| a.trim_start_matches('/').to_string()).filter(|a| !a.is_empty());
    for n in &mut notes {
        n.at = Some(origin);
    }
    ex.notes = notes;
    ex
}
