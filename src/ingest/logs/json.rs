//! JSON access records, one object per line (or one pretty-printed document).
//!
//! Recognised by their keys:
//! - **Caddy** (`logger` = `http.log.access...`): `request{remote_ip, client_ip, proto, method,
//!   host, uri, headers}`, `user_id`, `duration` (s), `size`, `status`, `resp_headers`. Caddy
//!   logs request and response headers but redacts `Authorization`/`Cookie` (logged as `[]`);
//!   other Caddy loggers are not access records;
//! - **Traefik** (`RequestMethod`, `DownstreamStatus`): `ClientHost`, `ClientUsername`,
//!   `Duration` (ns), `RequestHost`, `RequestPath`, `StartUTC`, `request_*`/`downstream_*`
//!   headers when kept;
//! - **Google Cloud load balancer `LogEntry`** (`httpRequest`): `requestMethod`, `requestUrl`,
//!   `status`, `latency` (`"0.1s"`), `remoteIp`, `serverIp`, `timestamp`, `trace`;
//!   `jsonPayload.statusDetails` and a Cloud Armor outcome are kept as details;
//! - **Azure Application Gateway** (`properties` with `httpMethod`/`requestUri`, or the Log
//!   Analytics columns `HttpMethod`, `RequestUri`...): `clientIP`, `httpStatus`, `timeTaken`
//!   (s), `host`/`originalHost`, `transactionId`, `serverRouted`;
//! - **Envoy** JSON and **nginx** `log_format ... escape=json`, and anything else with a status
//!   and a method or request: read by common key names (`status`/`response_code`,
//!   `request_method`/`method`, `request`, `request_uri`/`path`, `remote_addr`, `remote_user`,
//!   `request_time` (s), `duration` (ms), `http_user_agent`, `upstream_addr`, `request_id`...).
//!
//! A logged identity (`remote_user`, `user_id`, a consumer or client id) becomes the exchange's
//! identity; a logged JWT (in any string field) gives its subject or client id; a logged
//! `Authorization` header value is kept as the request's header, so its credential is read.

use super::{any_time, epoch_time, first_forwarded, identity, request_line, value, Record, Text};
use crate::ingest::{ReadCx, ReadError};
use crate::model::{Identity, Note, Origin, Unrecorded};
use serde_json::{Map, Value};

type Obj = Map<String, Value>;

fn s(v: Option<&Value>) -> Option<Text<'static>> {
    match v? {
        Value::String(x) => value(x).map(|x| Text::Owned(x.to_string())),
        Value::Number(n) => Some(Text::Owned(n.to_string())),
        Value::Array(a) => a.first().and_then(|x| s(Some(x))),
        _ => None,
    }
}

fn f(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(x) => value(x).and_then(|x| x.trim_end_matches('s').parse().ok()),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite() && *x >= 0.0)
}

fn u(v: Option<&Value>) -> Option<u64> {
    f(v).map(|x| x as u64)
}

fn status(v: Option<&Value>) -> Option<u16> {
    u(v).and_then(|x| u16::try_from(x).ok()).filter(|x| *x == 0 || (100..=999).contains(x))
}

/// The first of these keys present with a usable value.
fn first<'a>(o: &'a Obj, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().filter_map(|k| o.get(*k)).find(|v| !v.is_null() && s(Some(v)).is_some())
}

/// An access record from a JSON value, or `None` when it is not one.
pub fn record(v: &Value) -> Option<Record<'static>> {
    let o = v.as_object()?;
    if let Some(logger) = o.get("logger").and_then(Value::as_str) {
        return if logger.starts_with("http.log.access") { caddy(o) } else { None };
    }
    if let Some(h) = o.get("httpRequest").and_then(Value::as_object) {
        return gcp(o, h);
    }
    if o.contains_key("RequestMethod") && o.contains_key("DownstreamStatus") {
        return traefik(o);
    }
    if let Some(p) = o.get("properties").and_then(Value::as_object) {
        if p.contains_key("httpMethod") || p.contains_key("requestUri") {
            return azure(o, p);
        }
    }
    if o.contains_key("HttpMethod") && o.contains_key("RequestUri") {
        return azure(o, o);
    }
    generic(o)
}

fn caddy(o: &Obj) -> Option<Record<'static>> {
    let req = o.get("request")?.as_object()?;
    let mut r = Record {
        family: "caddy",
        time: o
            .get("ts")
            .and_then(Value::as_f64)
            .and_then(epoch_time)
            .or_else(|| s(o.get("ts")).and_then(|t| any_time(&t))),
        method: s(req.get("method")).unwrap_or_default(),
        target: s(req.get("uri")).unwrap_or_default(),
        host: s(req.get("host")),
        http_version: s(req.get("proto")).unwrap_or_default(),
        status: status(o.get("status")),
        response_size: u(o.get("size")),
        request_size: u(o.get("bytes_read")),
        duration_ms: f(o.get("duration")).map(|d| d * 1000.0),
        client: s(req.get("client_ip")).or_else(|| s(req.get("remote_ip"))),
        identity: s(o.get("user_id")).and_then(|u| identity("user_id", &u)),
        unrecorded: Unrecorded::CREDENTIALS.with(Unrecorded::REQUEST_BODY).with(Unrecorded::RESPONSE_BODY),
        ..Default::default()
    };
    r.scheme = Some(if req.get("tls").is_some() { "https" } else { "http" }.into());
    if let Some(h) = req.get("headers").and_then(Value::as_object) {
        headers_into(h, &mut r.request_headers);
        if r.request_headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization") || n.eq_ignore_ascii_case("cookie"))
        {
            r.unrecorded = r.unrecorded.without(Unrecorded::CREDENTIALS);
        }
        if h.get("Authorization").and_then(Value::as_array).is_some_and(|a| a.is_empty()) {
            r.details.push("Authorization header present but redacted by Caddy".into());
        }
        r.user_agent = take_header(&mut r.request_headers, "user-agent");
        r.referer = take_header(&mut r.request_headers, "referer");
    }
    if let Some(h) = o.get("resp_headers").and_then(Value::as_object) {
        headers_into(h, &mut r.response_headers);
    }
    if r.status == Some(0) {
        r.details.push("status 0: Caddy wrote no status (the handler chain ended without a response)".into());
    }
    Some(r)
}

/// `{"Name": ["v1", "v2"]}` into (name, value) pairs; empty lists (redacted) are left out.
fn headers_into(h: &Obj, out: &mut Vec<(String, String)>) {
    for (name, vals) in h.iter().take(128) {
        match vals {
            Value::Array(a) => {
                for v in a.iter().take(16) {
                    if let Some(x) = v.as_str() {
                        out.push((name.clone(), x.to_string()));
                    }
                }
            }
            Value::String(x) => out.push((name.clone(), x.clone())),
            _ => {}
        }
    }
}

fn take_header(h: &mut Vec<(String, String)>, name: &str) -> Option<Text<'static>> {
    let i = h.iter().position(|(n, _)| n.eq_ignore_ascii_case(name))?;
    Some(Text::Owned(h.remove(i).1))
}

fn traefik(o: &Obj) -> Option<Record<'static>> {
    let mut r = Record {
        family: "traefik",
        time: s(o.get("StartUTC")).or_else(|| s(o.get("time"))).and_then(|t| any_time(&t)),
        method: s(o.get("RequestMethod")).unwrap_or_default(),
        target: s(o.get("RequestPath")).unwrap_or_default(),
        host: s(o.get("RequestHost")).or_else(|| s(o.get("RequestAddr"))),
        scheme: s(o.get("RequestScheme")),
        http_version: s(o.get("RequestProtocol")).unwrap_or_default(),
        status: status(o.get("DownstreamStatus")),
        response_size: u(o.get("DownstreamContentSize")),
        request_size: u(o.get("RequestContentSize")),
        duration_ms: f(o.get("Duration")).map(|ns| ns / 1e6),
        client: s(o.get("ClientHost")).and_then(|c| first_forwarded(&c)).map(Text::Owned),
        identity: s(o.get("ClientUsername")).and_then(|u| identity("ClientUsername", &u)),
        upstream: s(o.get("ServiceAddr")),
        unrecorded: Unrecorded::ACCESS_LOG,
        ..Default::default()
    };
    for (k, v) in o {
        if let (Some(name), Some(val)) = (k.strip_prefix("request_"), v.as_str()) {
            r.request_headers.push((name.to_string(), val.to_string()));
        } else if let (Some(name), Some(val)) = (k.strip_prefix("downstream_"), v.as_str()) {
            r.response_headers.push((name.to_string(), val.to_string()));
        }
    }
    if r.request_headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("authorization")) {
        r.unrecorded = r.unrecorded.without(Unrecorded::CREDENTIALS);
    }
    r.user_agent = take_header(&mut r.request_headers, "user-agent");
    r.referer = take_header(&mut r.request_headers, "referer");
    r.request_id = take_header(&mut r.request_headers, "x-request-id");
    if u(o.get("OriginStatus")) == Some(0) {
        r.details.push("OriginStatus 0: no backend answered; Traefik itself replied".into());
    }
    if let Some(router) = s(o.get("RouterName")) {
        r.details.push(format!("router {router}"));
    }
    Some(r)
}

fn gcp(o: &Obj, h: &Obj) -> Option<Record<'static>> {
    let mut r = Record {
        family: "gcp load balancer",
        time: s(o.get("timestamp")).and_then(|t| any_time(&t)),
        method: s(h.get("requestMethod")).unwrap_or_default(),
        target: s(h.get("requestUrl")).unwrap_or_default(),
        http_version: s(h.get("protocol")).unwrap_or_default(),
        status: status(h.get("status")),
        response_size: u(h.get("responseSize")),
        request_size: u(h.get("requestSize")),
        duration_ms: f(h.get("latency")).map(|x| x * 1000.0),
        client: s(h.get("remoteIp")),
        upstream: s(h.get("serverIp")),
        user_agent: s(h.get("userAgent")),
        referer: s(h.get("referer")),
        request_id: s(o.get("trace")).or_else(|| s(o.get("insertId"))),
        unrecorded: Unrecorded::ACCESS_LOG,
        ..Default::default()
    };
    if let Some(p) = o.get("jsonPayload").and_then(Value::as_object) {
        if let Some(d) = s(p.get("statusDetails")) {
            r.details.push(format!("statusDetails {d}"));
        }
        if let Some(sp) = p.get("enforcedSecurityPolicy").and_then(Value::as_object) {
            let name = s(sp.get("name")).unwrap_or_default();
            let outcome = s(sp.get("outcome")).unwrap_or_default();
            r.details.push(format!("Cloud Armor policy {name} outcome {outcome}"));
        }
    }
    if r.method.is_empty() && r.target.is_empty() && r.status.is_none() {
        return None;
    }
    Some(r)
}

fn azure(top: &Obj, p: &Obj) -> Option<Record<'static>> {
    let g = |keys: &[&str]| first(p, keys).and_then(|v| s(Some(v)));
    let mut target = g(&["originalRequestUriWithArgs", "requestUri", "RequestUri", "OriginalRequestUriWithArgs"])
        .unwrap_or_default();
    if !target.contains('?') {
        if let Some(q) = g(&["requestQuery", "RequestQuery"]) {
            target = format!("{target}?{q}").into();
        }
    }
    let time = first(top, &["timeStamp", "time", "TimeGenerated", "timestamp"])
        .and_then(|v| s(Some(v)))
        .and_then(|t| any_time(&t));
    let ssl = g(&["sslEnabled", "SslEnabled"]).map(|v| v.eq_ignore_ascii_case("on") || v == "true");
    let r = Record {
        family: "azure application gateway",
        time,
        method: g(&["httpMethod", "HttpMethod"]).unwrap_or_default(),
        target,
        host: g(&["originalHost", "host", "OriginalHost", "Host"]),
        scheme: ssl.map(|on| if on { "https" } else { "http" }.into()),
        http_version: g(&["httpVersion", "HttpVersion"]).unwrap_or_default(),
        status: status(first(p, &["httpStatus", "HttpStatus"])),
        response_size: u(first(p, &["sentBytes", "SentBytes"])),
        request_size: u(first(p, &["receivedBytes", "ReceivedBytes"])),
        duration_ms: f(first(p, &["timeTaken", "TimeTaken"])).map(|x| x * 1000.0),
        client: g(&["clientIP", "ClientIp", "ClientIP"]),
        upstream: g(&["serverRouted", "ServerRouted"]),
        user_agent: g(&["userAgent", "UserAgent"]),
        request_id: g(&["transactionId", "TransactionId"]),
        unrecorded: Unrecorded::ACCESS_LOG,
        ..Default::default()
    };
    (r.status.is_some() || !r.method.is_empty()).then_some(r)
}

const TIME: &[&str] =
    &["time_iso8601", "time_local", "@timestamp", "timestamp", "start_time", "time", "ts", "date", "msec", "datetime"];
const METHOD: &[&str] = &["request_method", "method", "http_method", "verb", "httpMethod"];
const TARGET: &[&str] = &["x-envoy-origin-path", "request_uri", "uri", "path", "request_path", "url", "requestUrl"];
const HOST: &[&str] = &[":authority", "authority", "host", "http_host", "server_name", "vhost", "hostname"];
const STATUS: &[&str] = &["status", "response_code", "status_code", "http_status", "statusCode", "code"];
const SIZE: &[&str] = &["body_bytes_sent", "bytes_sent", "response_size", "size", "bytes", "responseSize"];
const REQ_SIZE: &[&str] = &["request_length", "bytes_received", "request_size", "requestSize"];
const CLIENT: &[&str] =
    &["remote_addr", "client_ip", "clientip", "remote_ip", "client", "downstream_remote_address", "realip_remote_addr"];
const XFF: &[&str] = &["http_x_forwarded_for", "x_forwarded_for", "x-forwarded-for", "xff", "forwarded_for"];
const REQUEST_ID: &[&str] =
    &["request_id", "req_id", "x-request-id", "x_request_id", "http_x_request_id", "trace_id", "traceId", "requestId"];
const UA: &[&str] = &["http_user_agent", "user_agent", "user-agent", "userAgent", "ua"];
const REFERER: &[&str] = &["http_referer", "referer", "referrer"];
const UPSTREAM: &[&str] = &["upstream_addr", "upstream_host", "upstream", "upstream_cluster"];
/// Identity fields, most specific first; the value is the identity as logged.
const IDENTITY: &[&str] = &[
    "remote_user",
    "user_id",
    "user",
    "username",
    "user_name",
    "userName",
    "principal",
    "consumer_id",
    "consumer",
    "consumer_username",
    "http_x_consumer_username",
    "http_x_consumer_id",
    "x-consumer-username",
    "client_id",
    "clientId",
    "jwt_sub",
    "jwt_client_id",
    "sub",
];
const AUTHORIZATION: &[&str] = &["http_authorization", "authorization", "Authorization", "auth_header"];

fn generic(o: &Obj) -> Option<Record<'static>> {
    let g = |keys: &[&str]| first(o, keys).and_then(|v| s(Some(v)));
    let st = status(first(o, STATUS))?;
    let mut r =
        Record { family: "json access", status: Some(st), unrecorded: Unrecorded::ACCESS_LOG, ..Default::default() };
    if let Some(req) = o.get("request").and_then(Value::as_str) {
        if let Some((m, t, p)) = request_line(req) {
            r.method = m.to_string().into();
            r.target = t.to_string().into();
            r.http_version = p.to_string().into();
        }
    }
    if r.method.is_empty() {
        r.method = g(METHOD)?;
    }
    if r.target.is_empty() {
        r.target = g(TARGET).unwrap_or_default();
        if let Some(q) = g(&["args", "query_string", "query"]) {
            if !r.target.contains('?') {
                r.target = format!("{}?{q}", r.target).into();
            }
        }
    }
    if r.http_version.is_empty() {
        r.http_version = g(&["server_protocol", "protocol", "proto", "http_version"]).unwrap_or_default();
    }
    r.time = first(o, TIME).and_then(|v| match v {
        Value::Number(n) => n.as_f64().and_then(epoch_time),
        _ => s(Some(v)).and_then(|t| any_time(&t)),
    });
    r.host = g(HOST);
    r.scheme = g(&["scheme", "request_scheme"]);
    r.response_size = u(first(o, SIZE));
    r.request_size = u(first(o, REQ_SIZE));
    r.duration_ms = if let Some(x) = f(first(o, &["request_time", "duration_s", "latency_s"])) {
        Some(x * 1000.0)
    } else if let Some(x) = f(first(o, &["duration_ms", "elapsed_ms", "latency_ms", "response_time_ms", "duration"])) {
        Some(x)
    } else {
        f(first(o, &["duration_us", "latency_us"])).map(|x| x / 1000.0)
    };
    r.forwarded_for = g(XFF);
    r.client = g(CLIENT).map(|c| strip_port(&c).into());
    r.request_id = g(REQUEST_ID);
    r.user_agent = g(UA);
    r.referer = g(REFERER);
    r.upstream = g(UPSTREAM);
    if o.contains_key("response_flags") || o.contains_key("upstream_cluster") {
        r.family = "envoy json";
        if let Some(fl) = g(&["response_flags"]) {
            r.details.push(format!("response_flags {fl}"));
        }
        if let Some(d) = g(&["response_code_details"]) {
            r.details.push(format!("response_code_details {d}"));
        }
    } else if o.contains_key("remote_addr") || o.contains_key("body_bytes_sent") || o.contains_key("request_time") {
        r.family = "nginx json";
    }
    if let Some(a) = g(AUTHORIZATION) {
        r.request_headers.push(("Authorization".into(), a.into_owned()));
        r.unrecorded = r.unrecorded.without(Unrecorded::CREDENTIALS);
    }
    r.identity = IDENTITY.iter().find_map(|k| o.get(*k).and_then(|v| s(Some(v))).and_then(|v| identity(k, &v)));
    if r.identity.is_none() {
        r.identity = logged_jwt(o);
    }
    Some(r)
}

/// `1.2.3.4:5678` → `1.2.3.4`; IPv6 in brackets keeps its address.
fn strip_port(c: &str) -> String {
    if let Some(rest) = c.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match c.rsplit_once(':') {
        Some((a, p)) if !a.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => a.to_string(),
        _ => c.to_string(),
    }
}

/// An identity from a JWT logged in some field (not an `Authorization` field): its subject, else
/// its client id. Claims logged as an object (`jwt_claims`, `jwt`) are read too.
fn logged_jwt(o: &Obj) -> Option<Identity> {
    for (k, v) in o.iter().take(256) {
        let claims = match v {
            Value::String(x) => {
                let t = x.strip_prefix("Bearer ").unwrap_or(x).trim();
                if !t.starts_with("eyJ") || t.len() > 16 * 1024 {
                    continue;
                }
                crate::token::jwt::decode(t).into_claims()
            }
            Value::Object(m) if k.contains("jwt") || k.contains("claims") => {
                Some(Box::new(crate::token::jwt::Claims::from_object(m)))
            }
            _ => None,
        };
        if let Some(c) = claims {
            if let Some(sub) = c.sub.as_deref().and_then(value) {
                return Some(Identity { source: format!("{k}: jwt sub"), name: sub.to_string() });
            }
            if let Some(cid) = c.client_id.as_deref().or(c.azp.as_deref()).and_then(value) {
                return Some(Identity { source: format!("{k}: jwt client_id"), name: cid.to_string() });
            }
        }
    }
    None
}

/// A whole JSON document (a pretty-printed `LogEntry`, a concatenation of them, or an array of
/// them, as `gcloud logging read --format=json` writes): each value is one record. A value
/// that is not an access record is counted in a note; JSON that stops parsing ends the input
/// with an error naming the byte.
pub fn read_document(b: &[u8], cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    let line_of = |off: usize| 1 + memchr::memchr_iter(b'\n', &b[..off.min(b.len())]).count();
    let mut other = 0usize;
    let mut last = chrono::DateTime::UNIX_EPOCH;
    let mut families: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let mut handle = |v: &Value, off: usize, cx: &mut ReadCx<'_>, other: &mut usize| match record(v) {
        Some(r) => {
            *families.entry(r.family).or_default() += 1;
            let ex = r.into_exchange(Origin::entry(cx.input, line_of(off)), last);
            last = ex.started;
            cx.emit(ex);
        }
        None => *other += 1,
    };
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let mut result = Ok(());
    if b.get(start) == Some(&b'[') {
        // Element by element, so each keeps the line it starts on.
        let mut pos = start + 1;
        let ws = |b: &[u8], p: usize| p + b[p.min(b.len())..].iter().take_while(|c| c.is_ascii_whitespace()).count();
        loop {
            pos = ws(b, pos);
            match b.get(pos) {
                Some(b']') => break,
                None => {
                    result = Err(ReadError::new(format!("JSON array not closed (line {})", line_of(pos))));
                    break;
                }
                _ => {}
            }
            let mut it = serde_json::Deserializer::from_slice(&b[pos..]).into_iter::<Value>();
            match it.next() {
                Some(Ok(v)) => {
                    handle(&v, pos, cx, &mut other);
                    pos += it.byte_offset();
                }
                Some(Err(e)) => {
                    result =
                        Err(ReadError::new(format!("JSON array broken at line {}: {e}", line_of(pos) + e.line() - 1)));
                    break;
                }
                None => break,
            }
            pos = ws(b, pos);
            match b.get(pos) {
                Some(b',') => pos += 1,
                Some(b']') => break,
                _ => {
                    result =
                        Err(ReadError::new(format!("JSON array broken at line {}: expected , or ]", line_of(pos))));
                    break;
                }
            }
        }
    } else {
        let mut it = serde_json::Deserializer::from_slice(b).into_iter::<Value>();
        loop {
            let off = it.byte_offset();
            match it.next() {
                None => break,
                Some(Ok(v)) => {
                    let skip = b[off..].iter().take_while(|c| c.is_ascii_whitespace()).count();
                    handle(&v, off + skip, cx, &mut other)
                }
                Some(Err(e)) => {
                    result =
                        Err(ReadError::new(format!("JSON broken at line {} column {}: {e}", e.line(), e.column())));
                    break;
                }
            }
        }
    }
    if !families.is_empty() {
        let list: Vec<String> = families.iter().map(|(f, n)| format!("{f} ({n})")).collect();
        cx.creator = Some(format!("access log: {}", list.join(", ")));
    }
    if other > 0 {
        cx.note(Note::info("log.not_access", format!("{other} JSON value(s) not read as access records")));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(j: &str) -> Record<'static> {
        record(&serde_json::from_str(j).unwrap()).unwrap()
    }

    #[test]
    fn nginx_json_with_identity_and_jwt() {
        let r = rec(
            r#"{"time_iso8601":"2024-05-01T10:00:00+00:00","remote_addr":"10.0.0.1","remote_user":"","request_method":"GET","request_uri":"/api/v2/users/me","status":"403","body_bytes_sent":"98","request_time":"0.012","http_host":"api.mypurecloud.com","jwt_sub":"agent-7"}"#,
        );
        assert_eq!(r.family, "nginx json");
        assert_eq!(r.identity.as_ref().unwrap().name, "agent-7");
        assert_eq!(r.status, Some(403));
        assert_eq!(r.duration_ms, Some(12.0));
        assert_eq!(r.url(), "http://api.mypurecloud.com/api/v2/users/me");
        let jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ.";
        let r = rec(&format!(r#"{{"status":401,"method":"GET","path":"/x","token":"{jwt}"}}"#));
        assert_eq!(r.identity.unwrap().name, "bob");
    }

    #[test]
    fn azure_gateway() {
        let r = rec(
            r#"{"timeStamp":"2024-05-01T10:00:00Z","category":"ApplicationGatewayAccessLog","properties":{"clientIP":"52.161.0.1","httpMethod":"GET","requestUri":"/api/orders","requestQuery":"id=1","userAgent":"curl/8","httpStatus":401,"httpVersion":"HTTP/1.1","receivedBytes":200,"sentBytes":500,"timeTaken":0.05,"sslEnabled":"on","host":"shop.example.com","transactionId":"abc"}}"#,
        );
        assert_eq!(r.url(), "https://shop.example.com/api/orders?id=1");
        assert_eq!(r.status, Some(401));
        assert_eq!(r.duration_ms, Some(50.0));
    }

    #[test]
    fn not_access() {
        assert!(record(&serde_json::json!({"level":"debug","logger":"http.handlers.reverse_proxy"})).is_none());
        assert!(record(&serde_json::json!({"msg":"hello"})).is_none());
        assert!(record(&serde_json::json!([1, 2])).is_none());
    }
}
