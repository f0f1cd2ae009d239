//! What `analyze`, `tokens` and `timeline` keep of each exchange: memory follows what the
//! analysis reads, not the input.
//!
//! The analysis reads every exchange's method, URL, status, time, credential headers and
//! `Date`; but bodies and the other headers only of a few: refused exchanges (the error body,
//! `WWW-Authenticate`), token traffic (token-endpoint replies, `/api/v2/tokens/me`,
//! introspection, revocation, guest JWT exchanges and websocket frames) and the bodies the
//! conversation profile's rules may read ([`crate::timeline::may_read_body`]). [`Keep::trim`]
//! runs on each exchange as soon as it is read and drops the rest, so a multi-gigabyte input
//! is held as a few hundred bytes per exchange. Nothing the analysis reads is dropped: the
//! findings, tokens and timelines are the same as with every exchange kept whole (the
//! benchmark script checks it on generated inputs, tests/it on every sample).

use crate::model::{Body, BodyState, Exchange, Headers};
use crate::timeline::Profile;

/// Response headers the analysis reads on every exchange (clock offset, implicit-grant
/// redirects, body decoding).
const RESPONSE_HEADERS: &[&str] = &["date", "age", "location", "content-type", "content-encoding", "transfer-encoding"];

/// Request headers read on every exchange besides the credential ones (host fallback, body
/// decoding).
const REQUEST_HEADERS: &[&str] = &["host", ":authority", "content-type", "content-encoding", "transfer-encoding"];

/// What to keep for one run.
pub struct Keep<'a> {
    /// The conversation profile whose rules read bodies (None: no timeline is built).
    pub profile: Option<&'a Profile>,
}

impl Keep<'_> {
    /// Drop from `ex` what the analysis will not read.
    pub fn trim(&self, ex: &mut Exchange) {
        if matches!(ex.status(), Some(401 | 403)) || !ex.websocket.is_empty() {
            return;
        }
        let (host, path) = ex.host_and_path();
        if token_traffic(&path) {
            return;
        }
        let (mut keep_req, mut keep_resp) = (false, false);
        if let Some(p) = self.profile {
            if p.covers_host(&host) {
                // Field names can only be looked for in plain bytes: a body still stored with
                // its content or transfer coding (packet captures, proxy sessions) would be
                // kept whole and decoded by the timeline later; decode it once here instead,
                // so most are dropped right away.
                if let Some(b) = &mut ex.request.body {
                    plain(b, &ex.request.headers);
                }
                if let Some(r) = &mut ex.response {
                    if let Some(b) = &mut r.body {
                        plain(b, &r.headers);
                    }
                }
            }
            keep_req = crate::timeline::may_read_body(p, ex, &host, &path, false);
            keep_resp = crate::timeline::may_read_body(p, ex, &host, &path, true);
        }
        if !keep_req {
            if let Some(b) = &mut ex.request.body {
                drop_bytes(b);
            }
        }
        if let Some(r) = &mut ex.response {
            if !keep_resp {
                if let Some(b) = &mut r.body {
                    drop_bytes(b);
                }
            }
        }
        if keep_req || keep_resp {
            return;
        }
        retain(&mut ex.request.headers, |n| crate::token::is_credential_header(n) || one_of(REQUEST_HEADERS, n));
        if let Some(r) = &mut ex.response {
            retain(&mut r.headers, |n| one_of(RESPONSE_HEADERS, n));
        }
    }
}

/// Paths of requests that issue, describe or revoke tokens (a superset of what
/// [`crate::token::learn`] reads: any path naming a token, introspection or revocation).
fn token_traffic(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    let p = p.trim_end_matches('/');
    p.contains("token") || p.ends_with("/introspect") || p.ends_with("/revoke")
}

fn one_of(names: &[&str], name: &str) -> bool {
    names.iter().any(|n| name.eq_ignore_ascii_case(n))
}

fn retain(headers: &mut Headers, keep: impl Fn(&str) -> bool) {
    headers.0.retain(|h| keep(&h.name));
    headers.0.shrink_to_fit();
}

/// Undo a kept body's chunked framing and content coding in place (what [`crate::body::decode`]
/// would do each time it is read), keeping its stored size. Left as it is when decoding fails
/// or stops (too large): the reader of the body notes that later, as before.
fn plain(b: &mut Body, headers: &Headers) {
    if b.omitted
        || b.state == BodyState::Decoded
        || (b.state != BodyState::Chunked && !headers.contains("content-encoding"))
    {
        return;
    }
    let d = crate::body::decode(b, headers);
    if !d.complete || !d.notes.is_empty() {
        return;
    }
    if let std::borrow::Cow::Owned(bytes) = d.bytes {
        let size = b.size();
        b.raw = bytes;
        b.state = BodyState::Decoded;
        b.declared_size = Some(size);
    }
}

/// Forget a body's bytes, keeping its size and type.
fn drop_bytes(b: &mut Body) {
    if b.omitted {
        return;
    }
    b.declared_size = Some(b.size());
    b.omitted = true;
    b.raw = Vec::new();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BodyState, Origin, Request, Response};

    fn ex(method: &str, url: &str, status: u16, body: &str) -> Exchange {
        let mut req_headers = Headers::new();
        req_headers.push("Authorization", "Bearer abc");
        req_headers.push("User-Agent", "x");
        let mut e = Exchange::new(
            Origin::entry(0, 0),
            chrono::DateTime::UNIX_EPOCH,
            Request {
                method: method.into(),
                url: url.into(),
                http_version: String::new(),
                headers: req_headers,
                body: None,
            },
        );
        let mut headers = Headers::new();
        headers.push("Date", "Wed, 01 May 2024 12:00:00 GMT");
        headers.push("Server", "envoy");
        let mut b = Body::decoded(body.as_bytes().to_vec());
        b.state = BodyState::Decoded;
        e.response =
            Some(Response { status, reason: String::new(), http_version: String::new(), headers, body: Some(b) });
        e
    }

    #[test]
    fn drops_what_no_rule_reads_and_keeps_the_rest() {
        let genesys = Profile::genesys();
        let keep = Keep { profile: Some(&genesys) };
        let mut plain = ex("GET", "https://api.example.com/v1/users/1", 200, r#"{"name": "x"}"#);
        keep.trim(&mut plain);
        let r = plain.response.as_ref().unwrap();
        let b = r.body.as_ref().unwrap();
        assert!(b.omitted && b.raw.is_empty() && b.size() == 13);
        assert_eq!(r.headers.len(), 1, "only Date is left");
        assert_eq!(plain.request.headers.get("authorization"), Some("Bearer abc"));
        assert!(!plain.request.headers.contains("user-agent"));

        for (url, status, body) in [
            ("https://api.example.com/v1/users/1", 403, "{}"),
            ("https://login.mypurecloud.com/oauth/token", 200, "{}"),
            ("https://api.mypurecloud.com/api/v2/tokens/me", 200, "{}"),
            ("https://api.mypurecloud.com/api/v2/x", 200, r#"{"conversationId": "x"}"#),
        ] {
            let mut e = ex("GET", url, status, body);
            keep.trim(&mut e);
            let r = e.response.as_ref().unwrap();
            assert!(!r.body.as_ref().unwrap().omitted, "{url} {status}");
            assert_eq!(r.headers.len(), 2, "{url} {status}");
        }
        // Without a profile, a conversationId body is nobody's business.
        let mut e = ex("GET", "https://api.mypurecloud.com/api/v2/x", 200, r#"{"conversationId": "x"}"#);
        Keep { profile: None }.trim(&mut e);
        assert!(e.response.unwrap().body.unwrap().omitted);
    }
}
