//! W3C extended log files: Microsoft IIS and AWS CloudFront standard logs.
//!
//! The columns are declared by a `#Fields:` directive, which may be repeated part way through a
//! file (IIS writes the directives again at every restart); each data line is read with the
//! last `#Fields` before it. IIS separates fields with spaces (and writes spaces inside values
//! as `+`), CloudFront with tabs (and percent-encodes values). `time-taken` is milliseconds
//! for IIS and seconds for CloudFront.
//!
//! Read: `date time`, `cs-method`, `cs-uri-stem`, `cs-uri-query`, `cs-host`/`cs(Host)`/
//! `x-host-header`, `cs-protocol`, `s-port`, `sc-status`, `sc-bytes`, `cs-bytes`,
//! `time-taken`, `c-ip`, `s-ip`, `cs-username` (`DOMAIN\user`: the identity), `cs(User-Agent)`,
//! `cs(Referer)`, `cs(Cookie)`, `x-edge-request-id`, `sc-substatus`/`x-edge-result-type`
//! (details). Not recorded: other headers, bodies, and credentials unless `cs(Cookie)` is.

use super::{identity, number, value, Line, Record, W3cFields};
use crate::model::Unrecorded;

/// A `#...` line: `#Fields:` gives the columns, the rest are directives.
pub fn directive(t: &str) -> Line<'static> {
    if let Some(rest) = t.strip_prefix("#Fields:") {
        let names: Vec<String> = rest.split_whitespace().take(128).map(str::to_ascii_lowercase).collect();
        if names.is_empty() {
            return Line::Other("an empty #Fields directive");
        }
        let cloudfront = names.iter().any(|n| n.starts_with("x-edge-"));
        return Line::Fields(W3cFields { names, cloudfront });
    }
    Line::Directive
}

fn plus_decode(s: &str) -> String {
    s.replace('+', " ")
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// A data line under `fields`.
pub fn record<'a>(t: &'a str, fields: &W3cFields) -> Option<Record<'a>> {
    let vals: Vec<&str> =
        if t.contains('\t') { t.split('\t').collect() } else { t.split(' ').filter(|s| !s.is_empty()).collect() };
    if vals.len() != fields.names.len() {
        return None;
    }
    let get = |name: &str| fields.names.iter().position(|n| n == name).and_then(|i| value(vals[i]));
    let text = |name: &str| get(name).map(|v| if fields.cloudfront { percent_decode(v) } else { plus_decode(v) });
    let time = match (get("date"), get("time")) {
        (Some(d), Some(tm)) => super::iso_time(&format!("{d}T{tm}Z")),
        (None, Some(tm)) => super::iso_time(tm),
        _ => None,
    };
    let status = get("sc-status").and_then(|s| s.parse::<u16>().ok());
    time.or(status.map(|_| chrono::DateTime::UNIX_EPOCH))?;
    let method = get("cs-method")?;
    let mut r = Record {
        family: if fields.cloudfront { "aws cloudfront" } else { "iis w3c" },
        time,
        status,
        method: method.into(),
        unrecorded: Unrecorded::ACCESS_LOG,
        ..Default::default()
    };
    let mut target = get("cs-uri-stem").unwrap_or("/").to_string();
    if let Some(q) = get("cs-uri-query") {
        target.push('?');
        target.push_str(q);
    }
    r.target = target.into();
    r.host = get("x-host-header").or_else(|| get("cs-host")).or_else(|| get("cs(host)")).map(Into::into);
    let port = get("s-port");
    r.scheme = get("cs-protocol").map(|p| p.to_ascii_lowercase().into()).or_else(|| match port {
        Some("443") => Some("https".into()),
        Some(_) => Some("http".into()),
        None => None,
    });
    if let (Some(h), Some(p)) = (&r.host, port) {
        if !h.contains(':') && p != "80" && p != "443" {
            r.host = Some(format!("{h}:{p}").into());
        }
    }
    r.http_version = get("cs-version").or_else(|| get("cs-protocol-version")).unwrap_or("").into();
    r.response_size = get("sc-bytes").and_then(number);
    r.request_size = get("cs-bytes").and_then(number);
    r.duration_ms =
        get("time-taken").and_then(|v| v.parse::<f64>().ok()).filter(|x| x.is_finite() && *x >= 0.0).map(|x| {
            if fields.cloudfront {
                x * 1000.0
            } else {
                x
            }
        });
    r.client = get("c-ip").map(Into::into);
    r.upstream = get("s-ip").map(Into::into);
    r.identity = get("cs-username").and_then(|u| identity("cs-username", &plus_decode(u)));
    r.user_agent = text("cs(user-agent)").map(Into::into);
    r.referer = text("cs(referer)").map(Into::into);
    r.request_id = get("x-edge-request-id").map(Into::into);
    if let Some(c) = text("cs(cookie)") {
        r.request_headers.push(("Cookie".into(), c));
        r.unrecorded = r.unrecorded.without(Unrecorded::CREDENTIALS);
    }
    for d in ["sc-substatus", "sc-win32-status", "x-edge-result-type", "x-edge-detailed-result-type"] {
        if let Some(v) = get(d) {
            if v != "0" {
                r.details.push(format!("{d} {v}"));
            }
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudfront() {
        let Line::Fields(f) = directive("#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken") else { panic!() };
        assert!(f.cloudfront);
        let l = "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t403\t-\tMozilla/5.0%20(Windows)\t-\t-\tError\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\tapi.example.com\thttps\t23\t0.001";
        let r = record(l, &f).unwrap();
        assert_eq!(r.status, Some(403));
        assert_eq!(r.url(), "https://api.example.com/index.html");
        assert_eq!(r.user_agent.as_deref(), Some("Mozilla/5.0 (Windows)"));
        assert_eq!(r.duration_ms, Some(1.0));
    }

    #[test]
    fn iis_domain_user() {
        let Line::Fields(f) = directive("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken") else { panic!() };
        let r = record(
            r"2024-03-01 10:00:00 10.0.0.5 GET /api/orders id=3 443 CONTOSO\jdoe 10.1.1.1 curl/8 403 0 5 12",
            &f,
        )
        .unwrap();
        assert_eq!(r.identity.unwrap().name, r"CONTOSO\jdoe");
        assert_eq!(r.scheme.as_deref(), Some("https"));
        assert_eq!(r.status, Some(403));
    }
}
