//! What the analysis keeps of the exchanges it keeps whole: memory follows what the analysis
//! reads, not the input.
//!
//! The analysis folds every exchange into facts as it is read (src/analysis.rs) and keeps
//! only the refused exchanges (the diagnosis reads their error body and `WWW-Authenticate`)
//! and the token traffic (token-endpoint replies, `/api/v2/tokens/me`, introspection,
//! revocation, guest JWT exchanges, websocket frames, implicit-grant fragments), which the
//! token learners read in time order at the end. [`trim`] drops from a kept exchange what
//! those readers never look at: every header but the credential ones, the few read on every
//! exchange and, on a refusal, `WWW-Authenticate`; and the bodies, except a refusal's (its
//! error body) and those of the token traffic (kept whole). An access log's refusal so loses
//! its `User-Agent`, `Referer` and `X-Forwarded-For` (about a third of what it held). What is
//! kept goes to disk until the end ([`crate::spill`]).

use crate::model::{Body, Exchange, Headers};

/// Response headers the analysis reads on every exchange (clock offset, implicit-grant
/// redirects, body decoding).
const RESPONSE_HEADERS: &[&str] = &["date", "age", "location", "content-type", "content-encoding", "transfer-encoding"];

/// Request headers read on every exchange besides the credential ones (host fallback, body
/// decoding).
const REQUEST_HEADERS: &[&str] = &["host", ":authority", "content-type", "content-encoding", "transfer-encoding"];

/// Drop from `ex` what the analysis will not read.
pub fn trim(ex: &mut Exchange) {
    if !ex.websocket.is_empty() || crate::token::learn::token_path(&ex.path()) {
        return;
    }
    let refused = matches!(ex.status(), Some(401 | 403));
    if !refused {
        if let Some(b) = &mut ex.request.body {
            drop_bytes(b);
        }
        if let Some(r) = &mut ex.response {
            if let Some(b) = &mut r.body {
                drop_bytes(b);
            }
        }
    }
    retain(&mut ex.request.headers, request_header_read);
    if let Some(r) = &mut ex.response {
        retain(&mut r.headers, |n| {
            one_of(RESPONSE_HEADERS, n) || (refused && n.eq_ignore_ascii_case("www-authenticate"))
        });
    }
}

/// Whether the analysis reads a request header with this name, on any exchange: the
/// credential headers and [`REQUEST_HEADERS`]. [`trim`] keeps these.
pub fn request_header_read(name: &str) -> bool {
    crate::token::is_credential_header(name) || one_of(REQUEST_HEADERS, name)
}

/// Whether the analysis reads a response header with this name, on any exchange:
/// [`RESPONSE_HEADERS`], `WWW-Authenticate` (a refusal's challenge; an NTLM or Negotiate
/// handshake's legs) and `Set-Cookie` (whether a HAR was exported sanitized). [`trim`] keeps
/// fewer.
pub fn response_header_read(name: &str) -> bool {
    one_of(RESPONSE_HEADERS, name) || one_of(&["www-authenticate", "set-cookie"], name)
}

fn one_of(names: &[&str], name: &str) -> bool {
    names.iter().any(|n| name.eq_ignore_ascii_case(n))
}

fn retain(headers: &mut Headers, keep: impl Fn(&str) -> bool) {
    headers.0.retain(|h| keep(&h.name));
    headers.0.shrink_to_fit();
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
        e.response = Some(Response {
            status,
            reason: String::new(),
            http_version: String::new(),
            headers,
            body: Some(Box::new(b)),
        });
        e
    }

    #[test]
    fn drops_what_no_reader_reads_and_keeps_the_rest() {
        let mut plain = ex("GET", "https://api.example.com/v1/users/1#access_token=x", 200, r#"{"name": "x"}"#);
        trim(&mut plain);
        let r = plain.response.as_ref().unwrap();
        let b = r.body.as_ref().unwrap();
        assert!(b.omitted && b.raw.is_empty() && b.size() == 13);
        assert_eq!(r.headers.len(), 1, "only Date is left");
        assert_eq!(plain.request.headers.get("authorization"), Some("Bearer abc"));
        assert!(!plain.request.headers.contains("user-agent"));

        // A refusal keeps its error body and challenge, not the other headers.
        let mut refused = ex("GET", "https://api.example.com/v1/users/1", 403, "{}");
        refused.response.as_mut().unwrap().headers.push("WWW-Authenticate", "Bearer error=\"insufficient_scope\"");
        trim(&mut refused);
        let r = refused.response.as_ref().unwrap();
        assert!(!r.body.as_ref().unwrap().omitted);
        let names: Vec<&str> = r.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["Date", "WWW-Authenticate"]);
        assert_eq!(refused.request.headers.get("authorization"), Some("Bearer abc"));
        assert!(!refused.request.headers.contains("user-agent"));

        // Token traffic is kept whole.
        for url in ["https://login.mypurecloud.com/oauth/token", "https://api.mypurecloud.com/api/v2/tokens/me"] {
            let mut e = ex("GET", url, 200, "{}");
            trim(&mut e);
            let r = e.response.as_ref().unwrap();
            assert!(!r.body.as_ref().unwrap().omitted, "{url}");
            assert_eq!(r.headers.len(), 2, "{url}");
            assert!(e.request.headers.contains("user-agent"), "{url}");
        }
    }
}
