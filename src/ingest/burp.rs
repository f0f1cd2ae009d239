//! Burp Suite items XML ("Save items" from Proxy > HTTP history, Target, Logger): an `<items>`
//! document, one `<item>` per exchange with `time`, `url`, `host` (`ip` attribute), `port`,
//! `protocol`, `method`, `path`, `status`, `mimetype`, and the raw `request` and `response`
//! messages, base64 (`base64="true"`) or plain text (CDATA or escaped).
//!
//! The raw messages go through the one HTTP/1 parser ([`super::http1`]); HTTP/2 items are
//! written by Burp as HTTP/1 text with `HTTP/2` as version and read the same way. The inline
//! DTD Burp writes is skipped; entities are never resolved beyond XML's five and character
//! references (no external entity is ever fetched or read). An item that cannot be read is a
//! note; an XML document that breaks is an error naming the byte.

use super::{http1, ReadCx, ReadError, Source};
use crate::model::{Exchange, Headers, Note, Origin, Request};
use base64::Engine;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use quick_xml::events::Event;

pub fn read(src: &Source, cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    read_bytes(src.bytes(), cx)
}

/// One `<item>` as collected from the XML.
#[derive(Default)]
struct Item {
    fields: Vec<(String, String)>,
    request_b64: bool,
    response_b64: bool,
    ip: Option<String>,
}

impl Item {
    fn get(&self, k: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

/// Read a Burp items export from its bytes (the fuzzing entry point).
pub fn read_bytes(data: &[u8], cx: &mut ReadCx<'_>) -> Result<(), ReadError> {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let mut r = quick_xml::Reader::from_reader(data);
    r.config_mut().check_end_names = false;
    let mut depth = 0usize;
    let mut in_items = false;
    let mut item: Option<Item> = None;
    let mut field: Option<(String, String)> = None;
    let mut index = 0usize;
    let mut version: Option<String> = None;
    loop {
        let ev = match r.read_event() {
            Ok(e) => e,
            Err(e) => {
                let at = r.error_position();
                return Err(ReadError::new(format!(
                    "item {index}, byte {at}: the XML breaks: {}",
                    crate::redact::escape(&e.to_string())
                )));
            }
        };
        match ev {
            Event::Start(e) => {
                depth += 1;
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if depth == 1 {
                    if name != "items" {
                        return Err(ReadError::new(format!(
                            "byte {}: the XML root is <{}>, not a Burp <items> export",
                            r.buffer_position(),
                            crate::redact::escape(&name)
                        )));
                    }
                    in_items = true;
                    for a in e.attributes().flatten() {
                        if a.key.as_ref() == b"burpVersion" {
                            version = Some(String::from_utf8_lossy(&a.value).into_owned());
                        }
                    }
                } else if depth == 2 && in_items && name == "item" {
                    item = Some(Item::default());
                } else if depth == 3 {
                    if let Some(it) = item.as_mut() {
                        for a in e.attributes().flatten() {
                            let yes = a.value.as_ref() == b"true";
                            match (name.as_str(), a.key.as_ref()) {
                                ("request", b"base64") => it.request_b64 = yes,
                                ("response", b"base64") => it.response_b64 = yes,
                                ("host", b"ip") => it.ip = Some(String::from_utf8_lossy(&a.value).into_owned()),
                                _ => {}
                            }
                        }
                        field = Some((name, String::new()));
                    }
                }
            }
            Event::Empty(e) => {
                if depth == 0 && e.local_name().as_ref() == b"items" {
                    in_items = true;
                }
                if depth == 1 && e.local_name().as_ref() == b"item" {
                    cx.note(Note::warning("burp.item_empty", format!("item {index} is empty; skipped")));
                    index += 1;
                }
            }
            Event::End(_) => {
                if depth == 3 {
                    if let (Some(it), Some(f)) = (item.as_mut(), field.take()) {
                        it.fields.push(f);
                    }
                } else if depth == 2 {
                    if let Some(it) = item.take() {
                        item_exchange(it, index, cx);
                        index += 1;
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                if let Some((_, v)) = field.as_mut() {
                    v.push_str(&String::from_utf8_lossy(&t.into_inner()));
                }
            }
            Event::CData(t) => {
                if let Some((_, v)) = field.as_mut() {
                    v.push_str(&String::from_utf8_lossy(&t.into_inner()));
                }
            }
            Event::GeneralRef(g) => {
                if let Some((_, v)) = field.as_mut() {
                    match g.resolve_char_ref() {
                        Ok(Some(c)) => v.push(c),
                        _ => {
                            let name = String::from_utf8_lossy(&g.into_inner()).into_owned();
                            match name.as_str() {
                                "amp" => v.push('&'),
                                "lt" => v.push('<'),
                                "gt" => v.push('>'),
                                "quot" => v.push('"'),
                                "apos" => v.push('\''),
                                // Never resolved: kept as written.
                                other => {
                                    v.push('&');
                                    v.push_str(other);
                                    v.push(';');
                                }
                            }
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !in_items {
        return Err(ReadError::new("byte 0: no <items> element: not a Burp items export"));
    }
    if item.is_some() || depth > 0 {
        cx.note(Note::warning(
            "burp.truncated",
            format!("the XML ends inside item {index} (byte {}): the export is cut off", data.len()),
        ));
    }
    cx.creator = Some(format!("Burp Suite {}", version.unwrap_or_default()).trim().to_string());
    Ok(())
}

/// A Java `Date.toString()` time (`Mon Nov 06 15:30:12 CST 2023`). Zone abbreviations are
/// ambiguous; the common ones are mapped, others read as UTC (with a note by the caller).
pub fn parse_time(s: &str) -> Option<(DateTime<Utc>, bool)> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, mon, day, hms, zone, year] = parts.as_slice() else { return None };
    let naive = NaiveDateTime::parse_from_str(&format!("{mon} {day} {year} {hms}"), "%b %d %Y %H:%M:%S").ok()?;
    let hours: Option<f64> = match *zone {
        "UTC" | "GMT" | "Z" => Some(0.0),
        "EST" => Some(-5.0),
        "EDT" => Some(-4.0),
        "CDT" => Some(-5.0),
        "CST" => Some(-6.0),
        "MST" => Some(-7.0),
        "MDT" => Some(-6.0),
        "PST" => Some(-8.0),
        "PDT" => Some(-7.0),
        "BST" | "CET" => Some(1.0),
        "CEST" | "EET" => Some(2.0),
        "EEST" | "MSK" => Some(3.0),
        "IST" => Some(5.5),
        "JST" | "KST" => Some(9.0),
        "AEST" => Some(10.0),
        "AEDT" => Some(11.0),
        z if z.starts_with("GMT") || z.starts_with("UTC") => {
            let off = &z[3..];
            let (sign, rest) = match off.as_bytes().first() {
                Some(b'+') => (1.0, &off[1..]),
                Some(b'-') => (-1.0, &off[1..]),
                _ => return None,
            };
            let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
            Some(sign * (h.parse::<f64>().ok()? + m.parse::<f64>().ok()? / 60.0))
        }
        _ => None,
    };
    let known = hours.is_some();
    let secs = (hours.unwrap_or(0.0) * 3600.0) as i32;
    let tz = FixedOffset::east_opt(secs)?;
    Some((tz.from_local_datetime(&naive).single()?.with_timezone(&Utc), known))
}

fn decode(text: &str, b64: bool) -> Result<Vec<u8>, String> {
    if b64 {
        let clean: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(clean.as_bytes())
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(clean.trim_end_matches('=')))
            .map_err(|e| format!("base64 that does not decode ({e})"))
    } else {
        Ok(text.as_bytes().to_vec())
    }
}

fn item_exchange(it: Item, index: usize, cx: &mut ReadCx<'_>) {
    let origin = Origin::entry(cx.input, index);
    let mut notes = Vec::new();
    let scheme = it.get("protocol").unwrap_or("http").to_ascii_lowercase();
    let host = it.get("host").unwrap_or("").to_string();
    let port = it.get("port").and_then(|p| p.trim().parse::<u16>().ok());
    let host_port = match port {
        Some(p) if !((scheme == "http" && p == 80) || (scheme == "https" && p == 443)) => format!("{host}:{p}"),
        _ => host.clone(),
    };
    let method_field = it.get("method").unwrap_or("GET").to_string();
    let raw_req = it.get("request").map(|t| decode(t, it.request_b64));
    let request = match raw_req {
        Some(Ok(bytes)) if !bytes.is_empty() => match http1::parse_request(&bytes, &scheme, &host_port, &cx.opts) {
            Ok((mut r, n)) => {
                notes.extend(n);
                if let Some(u) = it.get("url").filter(|u| u.starts_with("http://") || u.starts_with("https://")) {
                    r.url = u.trim().to_string();
                }
                Some(r)
            }
            Err(e) => {
                notes.push(Note::warning("burp.request_unreadable", format!("the stored request is {e}")));
                None
            }
        },
        Some(Err(e)) => {
            notes.push(Note::warning("burp.request_unreadable", format!("the stored request is {e}")));
            None
        }
        _ => None,
    };
    let request = request.unwrap_or_else(|| {
        let url = it
            .get("url")
            .map(str::to_string)
            .unwrap_or_else(|| format!("{scheme}://{host_port}{}", it.get("path").unwrap_or("/")));
        Request { method: method_field.clone(), url, http_version: String::new(), headers: Headers::new(), body: None }
    });
    let started = match it.get("time").and_then(parse_time) {
        Some((t, true)) => t,
        Some((t, false)) => {
            notes.push(Note::info(
                "burp.time_zone",
                "the item's time zone abbreviation is not one harken knows; read as UTC",
            ));
            t
        }
        None => {
            notes.push(Note::warning("burp.time_missing", "the item has no readable <time>"));
            DateTime::<Utc>::UNIX_EPOCH
        }
    };
    let method = request.method.clone();
    let mut ex = Exchange::new(origin, started, request);
    match it.get("response").map(|t| decode(t, it.response_b64)) {
        Some(Ok(bytes)) if !bytes.is_empty() => match http1::parse_response(&bytes, &method, &cx.opts) {
            Ok((resp, n)) => {
                notes.extend(n);
                ex.response = Some(resp);
            }
            Err(e) => notes.push(Note::warning("burp.response_unreadable", format!("the stored response is {e}"))),
        },
        Some(Err(e)) => notes.push(Note::warning("burp.response_unreadable", format!("the stored response is {e}"))),
        _ => notes.push(Note::info("burp.no_response", "Burp stored no response for this request")),
    }
    ex.server = it.ip.clone().filter(|i| !i.is_empty()).map(|ip| match port {
        Some(p) if ip.contains(':') => format!("[{ip}]:{p}"),
        Some(p) => format!("{ip}:{p}"),
        None => ip,
    });
    for n in &mut notes {
        n.at = Some(origin);
    }
    ex.notes = notes;
    cx.emit(ex);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_dates() {
        let (t, known) = parse_time("Mon Nov 06 15:30:12 CST 2023").unwrap();
        assert!(known);
        assert_eq!(t.to_rfc3339(), "2023-11-06T21:30:12+00:00");
        assert!(!parse_time("Mon Nov 06 15:30:12 XYZ 2023").unwrap().1);
        assert!(parse_time("garbage").is_none());
    }
}
