//! Writing exchanges back as HAR 1.2 entries (any input format), secrets replaced on the way.

use super::Sanitizer;
use crate::model::{Body, Capture, Direction, Exchange, Headers, WsOpcode};
use base64::Engine;
use chrono::SecondsFormat;
use serde_json::{json, Map, Value};

/// The whole document: `log` with version, creator, pages (none) and entries.
pub fn document(capture: &Capture, entries: Vec<Value>) -> Value {
    // Keep the producer when every input had the same one: readers (harken's too) use it for
    // producer quirks.
    let creators: Vec<&str> = capture.inputs.iter().filter_map(|i| i.creator.as_deref()).collect();
    let same =
        !creators.is_empty() && creators.len() == capture.inputs.len() && creators.iter().all(|c| *c == creators[0]);
    let creator = if same {
        let (name, version) = creators[0].rsplit_once(' ').unwrap_or((creators[0], ""));
        json!({"name": name, "version": version})
    } else {
        json!({"name": "harken", "version": env!("CARGO_PKG_VERSION")})
    };
    let sources: Vec<String> = capture
        .inputs
        .iter()
        .map(|i| {
            format!(
                "{} ({}, {} exchanges{})",
                file_name(&i.path),
                i.format.map(|f| f.name()).unwrap_or("?"),
                i.exchanges,
                i.creator.as_deref().map(|c| format!(", {c}")).unwrap_or_default()
            )
        })
        .collect();
    json!({
        "log": {
            "version": "1.2",
            "creator": creator,
            "pages": [],
            "comment": format!(
                "Sanitized by harken {} sanitize: credentials, cookies, secret parameters and body secrets are keyed \
                 pseudonyms. Read from: {}",
                env!("CARGO_PKG_VERSION"),
                sources.join("; ")
            ),
            "entries": entries,
        }
    })
}

fn file_name(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

fn headers(h: &Headers, s: &mut Sanitizer) -> Vec<Value> {
    h.iter().map(|x| json!({"name": x.name, "value": s.header(&x.name, &x.value)})).collect()
}

fn cookies(h: &Headers, response: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for v in h.get_all(if response { "set-cookie" } else { "cookie" }) {
        let pairs: Vec<&str> = if response { v.split(';').take(1).collect() } else { v.split(';').collect() };
        for p in pairs {
            if let Some((k, val)) = p.trim().split_once('=') {
                out.push(json!({"name": k.trim(), "value": val.trim()}));
            }
        }
    }
    out
}

fn query(url: &str) -> Vec<Value> {
    let Some(q) = url.split('#').next().and_then(|u| u.split_once('?')).map(|x| x.1) else { return Vec::new() };
    url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| json!({"name": k, "value": v})).collect()
}

/// A body's bytes, decoded from any transfer and content coding when possible. The second
/// value is true when the bytes are still content-encoded (decoding failed).
fn body_bytes(b: &Body, h: &Headers) -> (Vec<u8>, bool) {
    let d = crate::body::decode(b, h);
    (d.bytes.into_owned(), !d.complete)
}

fn text_or_base64(
    bytes: &[u8],
    mime: Option<&str>,
    form: bool,
    s: &mut Sanitizer,
    kind: &'static str,
) -> Map<String, Value> {
    let mut m = Map::new();
    match std::str::from_utf8(bytes) {
        Ok(t) => {
            m.insert("text".into(), Value::String(s.text(t, form, kind)));
        }
        Err(_) => {
            let _ = mime;
            m.insert("text".into(), Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)));
            m.insert("encoding".into(), Value::String("base64".into()));
        }
    }
    m
}

pub fn entry(capture: &Capture, ex: &Exchange, s: &mut Sanitizer) -> Value {
    let url = s.url(&ex.request.url);
    let req_h = headers(&ex.request.headers, s);
    let mut request = json!({
        "method": ex.request.method,
        "url": url,
        "httpVersion": ex.request.http_version,
        "cookies": [],
        "headers": req_h,
        "queryString": query(&url),
        "headersSize": -1,
        "bodySize": ex.request.body.as_ref().map(|b| b.size() as i64).unwrap_or(0),
    });
    // Cookies and query as HAR lists, read back from the sanitized headers and URL.
    let sanitized_req: Headers = Headers(
        request["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| crate::model::Header {
                name: h["name"].as_str().unwrap_or("").into(),
                value: h["value"].as_str().unwrap_or("").into(),
            })
            .collect(),
    );
    request["cookies"] = Value::Array(cookies(&sanitized_req, false));
    if let Some(b) = &ex.request.body {
        let mime = b.mime.clone().or_else(|| ex.request.headers.get("content-type").map(str::to_string));
        let mut pd = if b.omitted {
            Map::new()
        } else {
            let (bytes, _) = body_bytes(b, &ex.request.headers);
            let form = mime.as_deref().is_some_and(|m| m.to_ascii_lowercase().contains("x-www-form-urlencoded"));
            text_or_base64(&bytes, mime.as_deref(), form, s, "body field")
        };
        pd.insert("mimeType".into(), Value::String(mime.unwrap_or_default()));
        if b.omitted {
            pd.insert("comment".into(), Value::String("body not kept in the source capture".into()));
        }
        request["postData"] = Value::Object(pd);
    }
    let (response, error) = match &ex.response {
        Some(r) => {
            let resp_h = headers(&r.headers, s);
            let sanitized: Headers = Headers(
                resp_h
                    .iter()
                    .map(|h| crate::model::Header {
                        name: h["name"].as_str().unwrap_or("").into(),
                        value: h["value"].as_str().unwrap_or("").into(),
                    })
                    .collect(),
            );
            let mut content = Map::new();
            let mime = r
                .body
                .as_ref()
                .and_then(|b| b.mime.clone())
                .or_else(|| r.headers.get("content-type").map(str::to_string))
                .unwrap_or_else(|| "x-unknown".into());
            let mut size = 0i64;
            if let Some(b) = &r.body {
                size = b.size() as i64;
                if !b.omitted {
                    let (bytes, still_encoded) = body_bytes(b, &r.headers);
                    if still_encoded {
                        content.insert(
                            "text".into(),
                            Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
                        );
                        content.insert("encoding".into(), Value::String("base64".into()));
                    } else {
                        content.extend(text_or_base64(&bytes, Some(&mime), false, s, "body field"));
                        size = size.max(bytes.len() as i64);
                    }
                }
            }
            content.insert("size".into(), json!(size));
            content.insert("mimeType".into(), Value::String(mime));
            let redirect = r.headers.get("location").map(|l| s.url(l)).unwrap_or_default();
            (
                json!({
                    "status": r.status,
                    "statusText": r.reason,
                    "httpVersion": r.http_version,
                    "cookies": cookies(&sanitized, true),
                    "headers": resp_h,
                    "content": Value::Object(content),
                    "redirectURL": redirect,
                    "headersSize": -1,
                    "bodySize": size,
                }),
                None,
            )
        }
        None => (
            json!({
                "status": 0,
                "statusText": "",
                "httpVersion": "",
                "cookies": [],
                "headers": [],
                "content": {"size": 0, "mimeType": "x-unknown"},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": -1,
            }),
            Some("no response in the source capture"),
        ),
    };
    let time = ex.duration_ms.unwrap_or(0.0).max(0.0);
    let mut e = json!({
        "startedDateTime": ex.started.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        "time": time,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": time, "receive": 0},
    });
    if let Some(err) = error {
        e["_error"] = json!(err);
    }
    if let Some(ip) = &ex.server {
        e["serverIPAddress"] = json!(ip);
    }
    if let Some(c) = &ex.connection {
        e["connection"] = json!(c);
    }
    if !ex.websocket.is_empty() {
        let frames: Vec<Value> = ex
            .websocket
            .iter()
            .map(|m| {
                let (opcode, data) = match m.opcode {
                    WsOpcode::Binary => (2, base64::engine::general_purpose::STANDARD.encode(&m.data)),
                    op => {
                        let code = match op {
                            WsOpcode::Close => 8,
                            WsOpcode::Ping => 9,
                            WsOpcode::Pong => 10,
                            _ => 1,
                        };
                        (code, s.text(&String::from_utf8_lossy(&m.data), false, "websocket field"))
                    }
                };
                let t = m.time.timestamp() as f64 + f64::from(m.time.timestamp_subsec_micros()) / 1e6;
                json!({
                    "type": if m.direction == Direction::Send { "send" } else { "receive" },
                    "time": t,
                    "opcode": opcode,
                    "data": data,
                })
            })
            .collect();
        e["_webSocketMessages"] = Value::Array(frames);
    }
    let mut origin = json!({"input": file_name(capture.input_path(&ex.origin)), "index": ex.origin.index});
    if let Some(f) = ex.origin.request_frame {
        origin["request_frame"] = json!(f);
    }
    if let Some(f) = ex.origin.response_frame {
        origin["response_frame"] = json!(f);
    }
    e["_harken_origin"] = origin;
    e
}
