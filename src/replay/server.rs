//! `harken serve`: answer with the captured responses. hyper 1 (HTTP/1.1) on a tokio runtime
//! that lives only for this command.
//!
//! Requests are matched by method, path and query (parameters in any order, `--ignore-param`
//! names left out) and, with `--match-body`, the body (JSON compared as values). Each match
//! key answers its captured responses in captured order; when they run out the last one is
//! repeated. Nothing matched: 404 with a JSON body naming the closest candidates.

use crate::model::{Capture, Exchange};
use crate::redact::{escape, mask_url};
use anyhow::Context;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Largest request body read when matching bodies.
const MAX_REQUEST_BODY: usize = 16 << 20;

/// Response headers never served from the capture: they describe the captured connection,
/// and Content-Length is recomputed for the body actually served.
const CONNECTION_HEADERS: &[&str] =
    &["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "trailer", "content-length"];

#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Query parameters left out of matching.
    pub ignore_params: Vec<String>,
    /// Captured response headers not served.
    pub ignore_headers: Vec<String>,
    pub match_body: bool,
    /// Wait the captured response time before answering.
    pub latency_original: bool,
    pub show_secrets: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    method: String,
    path: String,
    query: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
enum BodyKey {
    None,
    Json(Value),
    Raw(Vec<u8>),
}

fn body_key(bytes: &[u8]) -> BodyKey {
    if bytes.is_empty() {
        return BodyKey::None;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => BodyKey::Json(v),
        Err(_) => BodyKey::Raw(bytes.to_vec()),
    }
}

/// One captured answer, ready to serve.
#[derive(Debug, Clone)]
struct Canned {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
    delay: Option<Duration>,
    /// `input#index`.
    label: String,
}

#[derive(Debug)]
struct Group {
    body: BodyKey,
    answers: Vec<Canned>,
    next: usize,
}

struct State {
    routes: Mutex<HashMap<Key, Vec<Group>>>,
    opts: ServeOptions,
    log: mpsc::UnboundedSender<String>,
}

fn key_of(method: &str, path: &str, query: Option<&str>, ignore: &[String]) -> Key {
    let mut q: Vec<(String, String)> = query
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect::<Vec<(String, String)>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _): &(String, String)| !ignore.iter().any(|i| i.eq_ignore_ascii_case(k)))
        .collect();
    q.sort();
    Key {
        method: method.to_ascii_uppercase(),
        path: if path.is_empty() { "/".into() } else { path.to_string() },
        query: q,
    }
}

fn canned(ex: &Exchange, input: &str, opts: &ServeOptions) -> Canned {
    let label = format!("{input}#{}", ex.origin.index);
    let delay = if opts.latency_original {
        ex.duration_ms.filter(|d| d.is_finite() && *d > 0.0).map(|d| Duration::from_secs_f64((d / 1000.0).min(600.0)))
    } else {
        None
    };
    let Some(r) = &ex.response else {
        let body = json!({"harken": "the captured request got no response", "entry": label});
        return Canned {
            status: 502,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(body.to_string()),
            delay,
            label,
        };
    };
    let mut headers: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|h| {
            let l = h.name.to_ascii_lowercase();
            !l.starts_with(':')
                && !CONNECTION_HEADERS.contains(&l.as_str())
                && !opts.ignore_headers.iter().any(|i| i.eq_ignore_ascii_case(&l))
        })
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect();
    let body = match &r.body {
        Some(b) if b.omitted => {
            headers.push(("x-harken-note".into(), format!("body not captured ({} bytes)", b.size())));
            Bytes::new()
        }
        Some(b) => {
            // Served decoded (Content-Encoding dropped) when every coding could be undone;
            // otherwise the stored bytes with their Content-Encoding, as captured.
            let d = crate::body::decode(b, &r.headers);
            if d.complete {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-encoding"));
            }
            Bytes::from(d.bytes.into_owned())
        }
        None => Bytes::new(),
    };
    Canned { status: r.status, headers, body, delay, label }
}

/// The routes of a capture, and how many exchanges were left out (websocket upgrades).
fn routes(capture: &Capture, opts: &ServeOptions) -> (HashMap<Key, Vec<Group>>, usize) {
    let mut routes: HashMap<Key, Vec<Group>> = HashMap::new();
    let mut left_out = 0;
    for ex in &capture.exchanges {
        let Some(u) = ex.url() else {
            left_out += 1;
            continue;
        };
        if ex.status() == Some(101) || matches!(u.scheme(), "ws" | "wss") {
            left_out += 1;
            continue;
        }
        let key = key_of(&ex.request.method, u.path(), u.query(), &opts.ignore_params);
        let body = if opts.match_body {
            ex.request
                .body
                .as_ref()
                .filter(|b| !b.omitted)
                .map(|b| body_key(&crate::body::decode(b, &ex.request.headers).bytes))
                .unwrap_or(BodyKey::None)
        } else {
            BodyKey::None
        };
        let c = canned(ex, capture.input_path(&ex.origin), opts);
        let groups = routes.entry(key).or_default();
        match groups.iter_mut().find(|g| g.body == body) {
            Some(g) => g.answers.push(c),
            None => groups.push(Group { body, answers: vec![c], next: 0 }),
        }
    }
    (routes, left_out)
}

fn show_target(path: &str, query: &[(String, String)], show_secrets: bool) -> String {
    let mut s = path.to_string();
    if !query.is_empty() {
        s.push('?');
        s.push_str(&url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish());
    }
    if show_secrets {
        s
    } else {
        mask_url(&s)
    }
}

/// The closest captured routes to an unmatched request, best first, with what differs.
fn candidates(routes: &HashMap<Key, Vec<Group>>, k: &Key, body_differs: bool, show: bool) -> Vec<Value> {
    let segs = |p: &str| p.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<_>>();
    let want = segs(&k.path);
    let mut scored: Vec<(i64, &Key)> = routes
        .keys()
        .map(|c| {
            let have = segs(&c.path);
            let same_prefix = want.iter().zip(&have).take_while(|(a, b)| a == b).count() as i64;
            let same_pos = want.iter().zip(&have).filter(|(a, b)| a == b).count() as i64;
            let mut score = same_prefix * 10 + same_pos * 5 - (want.len() as i64 - have.len() as i64).abs() * 3;
            if c.path == k.path {
                score += 100;
            }
            if c.method == k.method {
                score += 20;
            }
            if c.query == k.query {
                score += 4;
            }
            (score, c)
        })
        .filter(|(s, _)| *s > 0)
        .collect();
    scored
        .sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.path.cmp(&b.1.path)).then_with(|| a.1.method.cmp(&b.1.method)));
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| {
            let mut differs = Vec::new();
            if c.method != k.method {
                differs.push("method");
            }
            if c.path != k.path {
                differs.push("path");
            }
            if c.query != k.query {
                differs.push("query");
            }
            if differs.is_empty() && body_differs {
                differs.push("body");
            }
            json!({"method": c.method, "target": show_target(&c.path, &c.query, show), "differs": differs})
        })
        .collect()
}

fn respond(status: u16, headers: &[(String, String)], body: Bytes) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(status);
    for (n, v) in headers {
        // A captured header hyper cannot carry (invalid bytes) is left out, not fatal.
        if let (Ok(n), Ok(v)) =
            (hyper::header::HeaderName::from_bytes(n.as_bytes()), hyper::header::HeaderValue::from_str(v))
        {
            b = b.header(n, v);
        }
    }
    b.body(Full::new(body.clone())).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(body));
        *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
        r
    })
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let key = key_of(&method, &path, query.as_deref(), &state.opts.ignore_params);
    let body = if state.opts.match_body {
        match Limited::new(req.into_body(), MAX_REQUEST_BODY).collect().await {
            Ok(c) => body_key(&c.to_bytes()),
            Err(_) => BodyKey::Raw(Vec::new()),
        }
    } else {
        drop(req);
        BodyKey::None
    };
    let shown = show_target(&key.path, &key.query, state.opts.show_secrets);
    let picked = {
        let mut routes = state.routes.lock().unwrap_or_else(|e| e.into_inner());
        match routes.get_mut(&key) {
            Some(groups) => match groups.iter_mut().find(|g| g.body == body) {
                Some(g) => {
                    let i = g.next.min(g.answers.len() - 1);
                    let n = g.answers.len();
                    let repeat = g.next >= n;
                    g.next += 1;
                    Ok((g.answers[i].clone(), i + 1, n, repeat))
                }
                None => Err(candidates(&routes, &key, true, state.opts.show_secrets)),
            },
            None => Err(candidates(&routes, &key, false, state.opts.show_secrets)),
        }
    };
    match picked {
        Ok((c, i, n, repeat)) => {
            if let Some(d) = c.delay {
                tokio::time::sleep(d).await;
            }
            let _ = state.log.send(format!(
                "{} {} {} -> {} from {} ({i} of {n}{})",
                now(),
                escape(&method),
                escape(&shown),
                c.status,
                escape(&c.label),
                if repeat { ", repeated" } else { "" }
            ));
            respond(c.status, &c.headers, c.body)
        }
        Err(cands) => {
            let _ = state.log.send(format!("{} {} {} -> 404 unmatched", now(), escape(&method), escape(&shown)));
            let why = if cands.is_empty() {
                "no captured request has this method, path and query, and none is close"
            } else {
                "no captured request has this method, path and query; the closest are listed"
            };
            let body = json!({
                "harken": "no captured exchange matches",
                "request": {"method": method, "target": shown},
                "why": why,
                "candidates": cands,
            });
            respond(404, &[("content-type".into(), "application/json".into())], Bytes::from(body.to_string()))
        }
    }
}

fn now() -> String {
    chrono::Utc::now().format("%H:%M:%S%.3f").to_string()
}

/// Serve until SIGINT or SIGTERM. The first line written to `out` is `listening on
/// http://ADDR` (the bound address, so port 0 works); then one line per request.
pub fn run(capture: &Capture, opts: ServeOptions, listen: SocketAddr, out: &mut dyn Write) -> anyhow::Result<()> {
    let (routes, left_out) = routes(capture, &opts);
    let rt =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let answers: usize = routes.values().flatten().map(|g| g.answers.len()).sum();
        writeln!(out, "listening on http://{addr}")?;
        writeln!(
            out,
            "serving {answers} captured response{} on {} route{}{}; Ctrl-C stops",
            if answers == 1 { "" } else { "s" },
            routes.len(),
            if routes.len() == 1 { "" } else { "s" },
            if left_out > 0 { format!(" ({left_out} websocket/unparsable exchanges left out)") } else { String::new() }
        )?;
        out.flush()?;
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let state = Arc::new(State { routes: Mutex::new(routes), opts, log: tx });
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let (mut served, mut unmatched) = (0usize, 0usize);
        loop {
            tokio::select! {
                _ = &mut ctrl_c => break,
                _ = term.recv() => break,
                line = rx.recv() => {
                    if let Some(line) = line {
                        served += 1;
                        if line.ends_with("unmatched") {
                            unmatched += 1;
                        }
                        writeln!(out, "{line}")?;
                        out.flush()?;
                    }
                }
                conn = listener.accept() => {
                    let Ok((stream, _)) = conn else { continue };
                    let state = state.clone();
                    tokio::spawn(async move {
                        let svc = service_fn(move |req| {
                            let state = state.clone();
                            async move { Ok::<_, Infallible>(handle(state, req).await) }
                        });
                        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                    });
                }
            }
        }
        while let Ok(line) = rx.try_recv() {
            served += 1;
            if line.ends_with("unmatched") {
                unmatched += 1;
            }
            writeln!(out, "{line}")?;
        }
        writeln!(
            out,
            "stopped: {served} request{} answered, {unmatched} unmatched",
            if served == 1 { "" } else { "s" }
        )?;
        out.flush()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_param_order_and_ignored_params() {
        let a = key_of("get", "/a", Some("x=1&y=2&_=9"), &["_".into()]);
        let b = key_of("GET", "/a", Some("y=2&x=1"), &["_".into()]);
        assert_eq!(a, b);
        assert_ne!(a, key_of("GET", "/a", Some("x=1"), &[]));
        assert_eq!(body_key(br#"{"a":1,"b":2}"#), body_key(br#"{ "b":2, "a":1 }"#));
    }
}
