//! The Common Log Format family, read from one tokenisation of the line.
//!
//! - nginx / Apache common: `client ident user [time] "request" status bytes`;
//! - combined adds `"referer" "user-agent"`; nginx's frequent `"$http_x_forwarded_for"` after
//!   it is read as the forwarded-for chain; further quoted fields are ignored;
//! - a virtual-host prefix (`vhost` or `vhost:port`, Apache `vhost_combined`);
//! - ingress-nginx `upstreaminfo`: after combined, `request_length request_time
//!   [upstream] [alternative] upstream_addr upstream_response_length upstream_response_time
//!   upstream_status req_id`;
//! - Envoy's default text format: `[start] "METHOD path PROTO" code flags rx tx duration
//!   upstream_time "xff" "ua" "request-id" "authority" "upstream-host"`;
//! - HAProxy `httplog`: `client:port [accept_date] frontend backend/server Tq/Tw/Tc/Tr/Ta
//!   status bytes cookie cookie flags conns queues {req headers} {resp headers} "request"`.
//!
//! None of them logs headers (beyond referer, user agent, forwarded-for), bodies or credentials.

use super::{clf_time, first_forwarded, identity, iso_time, number, request_line, value, Record, Text};
use crate::model::Unrecorded;
use std::borrow::Cow;

/// A token of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok<'a> {
    Bare(&'a str),
    /// `"..."` with the quotes taken off (escapes are left as logged).
    Quoted(&'a str),
    /// `[...]`
    Bracket(&'a str),
    /// `{...}`
    Brace(&'a str),
}

impl<'a> Tok<'a> {
    pub fn text(self) -> &'a str {
        match self {
            Tok::Bare(s) | Tok::Quoted(s) | Tok::Bracket(s) | Tok::Brace(s) => s,
        }
    }
}

/// Most tokens a line is split into (a hostile line cannot make the list grow further).
const MAX_TOKENS: usize = 64;

/// The tokens of a line: on the stack up to 32 (a combined line has about 12).
pub type Tokens<'a> = smallvec::SmallVec<[Tok<'a>; 32]>;

/// Split a line into tokens; `None` when a quote or bracket is never closed.
pub fn tokens(line: &str) -> Option<Tokens<'_>> {
    let mut out = Tokens::new();
    tokens_into(line, &mut out).then_some(out)
}

/// [`tokens`] into `out` (cleared first), which the caller keeps on its stack: a token list
/// returned by value is copied whole (about 800 bytes), on every line of a log. `false` when a
/// quote or bracket is never closed.
pub fn tokens_into<'a>(line: &'a str, out: &mut Tokens<'a>) -> bool {
    out.clear();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        if out.len() >= MAX_TOKENS {
            break;
        }
        let (tok, next) = match b[i] {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                loop {
                    match memchr::memchr2(b'"', b'\\', &b[j..]) {
                        None => return false,
                        Some(k) if b[j + k] == b'\\' => j += k + 2,
                        Some(k) => {
                            j += k;
                            break;
                        }
                    }
                    if j >= b.len() {
                        return false;
                    }
                }
                let Some(s) = line.get(start..j) else { return false };
                (Tok::Quoted(s), j + 1)
            }
            open @ (b'[' | b'{') => {
                let close = if open == b'[' { b']' } else { b'}' };
                let Some(s) = memchr::memchr(close, &b[i + 1..]).and_then(|k| line.get(i + 1..i + 1 + k)) else {
                    return false;
                };
                let k = s.len();
                (if open == b'[' { Tok::Bracket(s) } else { Tok::Brace(s) }, i + 2 + k)
            }
            _ => {
                let k = memchr::memchr2(b' ', b'\t', &b[i..]).unwrap_or(b.len() - i);
                let Some(s) = line.get(i..i + k) else { return false };
                (Tok::Bare(s), i + k)
            }
        };
        out.push(tok);
        i = next;
    }
    true
}

fn quoted<'a>(t: Option<&Tok<'a>>) -> Option<Text<'a>> {
    match t {
        Some(Tok::Quoted(s)) => value(s).map(unescaped),
        _ => None,
    }
}

/// [`unescape`], borrowing when there is nothing to undo.
pub fn unescaped(s: &str) -> Text<'_> {
    if memchr::memchr(b'\\', s.as_bytes()).is_some() {
        Cow::Owned(unescape(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// Undo nginx (`\x22`) and Apache (`\"`) escapes in a logged string.
pub fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('x') => {
                let h: String = it.by_ref().take(2).collect();
                match u8::from_str_radix(&h, 16) {
                    Ok(v) if v.is_ascii() => out.push(v as char),
                    _ => {
                        out.push_str("\\x");
                        out.push_str(&h);
                    }
                }
            }
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A line of the CLF family, Envoy text or HAProxy httplog.
pub fn record(line: &str) -> Option<Record<'_>> {
    let mut toks = Tokens::new();
    if !tokens_into(line, &mut toks) {
        return None;
    }
    let at = toks.iter().position(|t| matches!(t, Tok::Bracket(_)))?;
    match at {
        0 => envoy(&toks),
        1 => haproxy(&toks),
        3 | 4 => common(&toks, at),
        _ => None,
    }
}

/// The request line's method, target and protocol, borrowed from the line unless unescaping
/// made a new string.
fn set_request<'a>(r: &mut Record<'a>, req: Text<'a>) -> bool {
    let parts: Option<[Text<'a>; 3]> = match &req {
        Cow::Borrowed(b) => request_line(b).map(|(m, t, p)| [m.into(), t.into(), p.into()]),
        Cow::Owned(o) => {
            request_line(o).map(|(m, t, p)| [m.to_string().into(), t.to_string().into(), p.to_string().into()])
        }
    };
    match parts {
        Some([m, t, p]) => {
            r.method = m;
            r.target = t;
            r.http_version = p;
            true
        }
        None => {
            // `-` (a connection closed before a request: 408) or bytes that are no request.
            if value(&req).is_some() {
                r.details.push(format!("request line not HTTP: {}", req.chars().take(120).collect::<String>()));
            }
            false
        }
    }
}

fn common<'a>(toks: &[Tok<'a>], at: usize) -> Option<Record<'a>> {
    let time = clf_time(toks[at].text())?;
    let Some(Tok::Quoted(req)) = toks.get(at + 1) else { return None };
    let status: u16 = toks.get(at + 2)?.text().parse().ok().filter(|s| (100..=999).contains(s))?;
    let mut r = Record {
        family: "nginx/apache common",
        time: Some(time),
        status: Some(status),
        unrecorded: Unrecorded::ACCESS_LOG,
        ..Default::default()
    };
    if at == 4 {
        r.host = value(toks[0].text()).map(Cow::Borrowed);
    }
    for t in &toks[..at] {
        if !matches!(t, Tok::Bare(_)) {
            return None;
        }
    }
    r.client = value(toks[at - 3].text()).map(Cow::Borrowed);
    r.identity = identity("remote_user", toks[at - 1].text()).map(|mut i| {
        if i.name.contains('\\') {
            i.name = unescape(&i.name);
        }
        i
    });
    set_request(&mut r, unescaped(req));
    if let Some(b) = toks.get(at + 3) {
        r.response_size = number(b.text());
    }
    let rest = &toks[(at + 4).min(toks.len())..];
    if rest.len() >= 2 && matches!(rest[0], Tok::Quoted(_)) && matches!(rest[1], Tok::Quoted(_)) {
        r.family = "nginx/apache combined";
        r.referer = quoted(rest.first());
        r.user_agent = quoted(rest.get(1));
        let tail = &rest[2..];
        match tail.first() {
            Some(Tok::Quoted(x)) => {
                r.forwarded_for = value(x).map(unescaped);
            }
            Some(Tok::Bare(_)) if tail.len() >= 9 && matches!(tail.get(2), Some(Tok::Bracket(_))) => {
                // ingress-nginx upstreaminfo
                r.family = "ingress-nginx upstreaminfo";
                r.request_size = number(tail[0].text());
                r.duration_ms = super::secs_ms(tail[1].text());
                r.upstream = value(tail[4].text()).map(Cow::Borrowed);
                r.request_id = value(tail[8].text()).map(Cow::Borrowed);
                if let Some(name) = value(tail[2].text()) {
                    r.details.push(format!("upstream {name}"));
                }
            }
            _ => {}
        }
    } else if !rest.is_empty() {
        r.family = "nginx/apache common";
    }
    Some(r)
}

fn envoy<'a>(toks: &[Tok<'a>]) -> Option<Record<'a>> {
    let time = iso_time(toks[0].text())?;
    let Some(Tok::Quoted(req)) = toks.get(1) else { return None };
    let status: u16 = toks.get(2)?.text().parse().ok()?;
    let mut r = Record {
        family: "envoy text",
        time: Some(time),
        status: (status != 0).then_some(status),
        unrecorded: Unrecorded::ACCESS_LOG,
        ..Default::default()
    };
    set_request(&mut r, unescaped(req));
    let at = |i: usize| toks.get(i).map(|t| t.text()).unwrap_or("");
    if let Some(flags) = value(at(3)) {
        r.details.push(format!("response_flags {flags}"));
    }
    r.request_size = number(at(4));
    r.response_size = number(at(5));
    r.duration_ms = number(at(6)).map(|ms| ms as f64);
    r.forwarded_for = quoted(toks.get(8));
    r.client = r.forwarded_for.as_deref().and_then(first_forwarded).map(Cow::Owned);
    r.user_agent = quoted(toks.get(9));
    r.request_id = quoted(toks.get(10));
    r.host = quoted(toks.get(11));
    r.upstream = quoted(toks.get(12));
    if status == 0 {
        r.details.push("response code 0: no response was sent (the connection ended first)".into());
    }
    Some(r)
}

fn haproxy<'a>(toks: &[Tok<'a>]) -> Option<Record<'a>> {
    let client = toks[0].text();
    if !client.contains(':') {
        return None;
    }
    let time = clf_time(toks[1].text())?;
    let timers = toks.get(4)?.text();
    if !timers.contains('/') || !toks.get(3)?.text().contains('/') {
        return None;
    }
    let status: i32 = toks.get(5)?.text().parse().ok()?;
    let Some(Tok::Quoted(req)) = toks.last() else { return None };
    let mut r = Record {
        family: "haproxy httplog",
        time: Some(time),
        status: u16::try_from(status).ok().filter(|s| *s >= 100),
        unrecorded: Unrecorded::ACCESS_LOG,
        ..Default::default()
    };
    r.client = Some(client.rsplit_once(':').map(|x| x.0).unwrap_or(client).into());
    r.upstream = Some(toks[3].text().into());
    r.duration_ms =
        timers.rsplit('/').next().and_then(|t| t.trim_start_matches('+').parse::<f64>().ok()).filter(|t| *t >= 0.0);
    r.response_size = number(toks.get(6)?.text());
    if let Some(flags) = toks.get(9).and_then(|t| value(t.text())) {
        if flags != "----" {
            r.details.push(format!("termination state {flags}"));
        }
    }
    // Captured request headers: the first brace block; when a single header is captured it is
    // usually the Host or User-Agent, which cannot be told apart reliably: kept as a detail.
    if let Some(Tok::Brace(h)) = toks.iter().find(|t| matches!(t, Tok::Brace(_))) {
        if let Some(v) = value(h) {
            let first = v.split('|').next().unwrap_or(v);
            if first.contains('/') && first.contains(' ') {
                r.user_agent = Some(first.into());
            } else if !first.contains(' ') && first.contains('.') {
                r.host = Some(first.into());
            }
        }
    }
    set_request(&mut r, unescaped(req));
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_with_vhost_and_xff() {
        let r = record(r#"vhost1.example.com 123.123.123.123 - alice [04/Jul/2019:09:20:46 +0200] "GET /a?b=1 HTTP/1.1" 200 32953 "-" "curl/8" "10.0.0.1, 10.0.0.2""#).unwrap();
        assert_eq!(r.host.as_deref(), Some("vhost1.example.com"));
        assert_eq!(r.client.as_deref(), Some("123.123.123.123"));
        assert_eq!(r.identity.as_ref().unwrap().name, "alice");
        assert_eq!(r.forwarded_for.as_deref(), Some("10.0.0.1, 10.0.0.2"));
        assert_eq!(r.url(), "http://vhost1.example.com/a?b=1");
        assert_eq!(r.status, Some(200));
    }

    #[test]
    fn ingress_upstreaminfo() {
        let l = r#"10.0.0.1 - - [20/Aug/2024:10:00:00 +0000] "GET /api/v2/users/me HTTP/1.1" 401 50 "-" "curl/8.4.0" 120 0.004 [default-api-80] [] 10.244.0.12:8080 50 0.004 401 5f7c2a9d1e"#;
        let r = record(l).unwrap();
        assert_eq!(r.family, "ingress-nginx upstreaminfo");
        assert_eq!(r.upstream.as_deref(), Some("10.244.0.12:8080"));
        assert_eq!(r.request_id.as_deref(), Some("5f7c2a9d1e"));
        assert_eq!(r.duration_ms, Some(4.0));
    }

    #[test]
    fn tokens_refuse_unclosed() {
        assert!(tokens("a \"b").is_none());
        assert!(tokens("a [b").is_none());
        assert_eq!(tokens("a \"b\\\"c\" d").unwrap()[1], Tok::Quoted("b\\\"c"));
    }
}
