//! Captured vs replayed: status, chosen headers, JSON body shape (keys and types, never
//! values) and time, and the verdict for each request (now passing, still failing, ...).

use crate::model::{Body, BodyState, Exchange, Headers};
use serde::Serialize;
use serde_json::Value;

/// What the capture says the response was.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    pub status: Option<u16>,
    pub headers: Headers,
    /// The JSON shape of the body, when it was kept and is JSON.
    pub shape: Option<Value>,
    /// The body was captured (kept) at all.
    pub body_kept: bool,
    pub duration_ms: Option<f64>,
}

/// The captured response of an exchange, summarised.
pub fn expected(ex: &Exchange) -> Expected {
    let Some(r) = &ex.response else {
        return Expected { duration_ms: ex.duration_ms, ..Default::default() };
    };
    let body_kept = r.body.as_ref().is_some_and(|b| !b.omitted);
    Expected {
        status: Some(r.status),
        headers: r.headers.clone(),
        shape: crate::body::json(&r.headers, r.body.as_deref()).map(|v| shape(&v)),
        body_kept,
        duration_ms: ex.duration_ms,
    }
}

/// What the replay got back.
#[derive(Debug, Clone)]
pub struct Observed {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
    pub ms: f64,
}

impl Observed {
    /// The JSON shape of the (content-decoded) body, when it is JSON.
    pub fn shape(&self) -> Option<Value> {
        let body = Body { state: BodyState::ContentEncoded, ..Body::decoded(self.body.clone()) };
        crate::body::json(&self.headers, Some(&body)).map(|v| shape(&v))
    }
}

/// The shape of a JSON value: objects keep their keys, arrays the union of their elements'
/// shapes, scalars become their type name.
pub fn shape(v: &Value) -> Value {
    match v {
        Value::Null => Value::String("null".into()),
        Value::Bool(_) => Value::String("boolean".into()),
        Value::Number(_) => Value::String("number".into()),
        Value::String(_) => Value::String("string".into()),
        Value::Array(items) => {
            let mut merged: Option<Value> = None;
            for it in items.iter().take(1000) {
                let s = shape(it);
                merged = Some(match merged {
                    None => s,
                    Some(m) => merge(m, s),
                });
            }
            Value::Array(merged.into_iter().collect())
        }
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut x), Value::Object(y)) => {
            for (k, v) in y {
                let merged = match x.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                x.insert(k, merged);
            }
            Value::Object(x)
        }
        (Value::Array(x), Value::Array(y)) => match (x.into_iter().next(), y.into_iter().next()) {
            (Some(a), Some(b)) => Value::Array(vec![merge(a, b)]),
            (a, b) => Value::Array(a.or(b).into_iter().collect()),
        },
        (Value::String(n), other) if n == "null" => other,
        (a, _) => a,
    }
}

fn type_name(v: &Value) -> &str {
    match v {
        Value::String(s) => s,
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        _ => "?",
    }
}

/// The differences between two shapes, one line each (`+ $.id (string)`, `- $.code`,
/// `~ $.count: number -> string`). `null` matches any type: it is a value, not a type.
pub fn compare(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    if out.len() >= 50 {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let p = format!("{path}.{k}");
                match y.get(k) {
                    Some(w) => compare(v, w, &p, out),
                    None => out.push(format!("- {p}")),
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    out.push(format!("+ {path}.{k} ({})", type_name(w)));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if let (Some(v), Some(w)) = (x.first(), y.first()) {
                compare(v, w, &format!("{path}[]"), out);
            }
        }
        (Value::String(s), _) | (_, Value::String(s)) if s == "null" => {}
        _ => {
            let (ta, tb) = (type_name(a), type_name(b));
            if ta != tb {
                out.push(format!("~ {path}: {ta} -> {tb}"));
            }
        }
    }
}

/// The verdict on one replayed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Captured 401/403, replayed 1xx-3xx: fixed.
    NowPassing,
    /// Captured 401/403, replayed 401/403: not fixed.
    StillFailing,
    /// Captured fine, refused now.
    NowFailing,
    /// Same status, headers and shape.
    Same,
    /// Something differs (status, a chosen header, the body shape).
    Changed,
    /// Not sent: see `skip`.
    Skipped,
    /// Sent, no answer (connection refused, timeout, a redirect to a host not allowed).
    Error,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::NowPassing => "now passing",
            Outcome::StillFailing => "still failing",
            Outcome::NowFailing => "now failing",
            Outcome::Same => "same",
            Outcome::Changed => "changed",
            Outcome::Skipped => "skipped",
            Outcome::Error => "error",
        }
    }
}

/// Captured vs replayed for one request.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub status: Option<(Option<u16>, u16)>,
    /// `name: captured -> replayed` for each chosen header that differs.
    pub headers: Vec<String>,
    /// Shape differences (see [`compare`]); a body that stopped or started being JSON is one
    /// line.
    pub body: Vec<String>,
    pub captured_ms: Option<f64>,
    pub replayed_ms: f64,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.headers.is_empty() && self.body.is_empty()
    }
}

fn media_type(v: &str) -> String {
    v.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Compare a captured response with the replayed one on status, the chosen headers and the
/// JSON shape.
pub fn diff(e: &Expected, o: &Observed, chosen_headers: &[String]) -> Diff {
    let status = (e.status != Some(o.status)).then_some((e.status, o.status));
    let mut headers = Vec::new();
    for name in chosen_headers {
        let a = e.headers.get(name);
        let b = o.headers.get(name);
        let same = match (a, b) {
            (Some(a), Some(b)) if name.eq_ignore_ascii_case("content-type") => media_type(a) == media_type(b),
            (Some(a), Some(b)) => a.trim() == b.trim(),
            (None, None) => true,
            // An absent Content-Type on an empty captured body is not a difference.
            (None, Some(_)) | (Some(_), None) => false,
        };
        if !same {
            let show =
                |v: Option<&str>| v.map(|v| crate::redact::mask_header(name, v)).unwrap_or_else(|| "(absent)".into());
            headers.push(format!("{name}: {} -> {}", show(a), show(b)));
        }
    }
    let mut body = Vec::new();
    match (&e.shape, o.shape()) {
        (Some(a), Some(b)) => compare(a, &b, "$", &mut body),
        (Some(_), None) => body.push("the body is no longer JSON".into()),
        (None, Some(_)) if e.body_kept => body.push("the body is now JSON".into()),
        _ => {}
    }
    Diff { status, headers, body, captured_ms: e.duration_ms, replayed_ms: o.ms }
}

/// The verdict from captured and replayed statuses and the diff.
pub fn outcome(captured: Option<u16>, d: &Diff, replayed: u16) -> Outcome {
    let refused = |s: u16| s == 401 || s == 403;
    match captured {
        Some(c) if refused(c) && refused(replayed) => Outcome::StillFailing,
        Some(c) if refused(c) && replayed < 400 => Outcome::NowPassing,
        Some(c) if !refused(c) && c < 400 && refused(replayed) => Outcome::NowFailing,
        _ if d.is_empty() => Outcome::Same,
        _ => Outcome::Changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_ignore_values() {
        let a = shape(&json!({"id": "a", "n": 1, "items": [{"x": 1}, {"y": "z"}], "gone": null}));
        let b = shape(&json!({"id": "b", "n": 2, "items": [{"x": 5, "y": "q"}], "gone": "now"}));
        let mut out = Vec::new();
        compare(&a, &b, "$", &mut out);
        assert!(out.is_empty(), "{out:?}");
        let c = shape(&json!({"id": 3, "items": [], "extra": true}));
        let mut out = Vec::new();
        compare(&a, &c, "$", &mut out);
        assert!(out.contains(&"~ $.id: string -> number".to_string()), "{out:?}");
        assert!(out.contains(&"- $.n".to_string()));
        assert!(out.contains(&"+ $.extra (boolean)".to_string()));
    }

    #[test]
    fn outcomes() {
        let empty = Diff { status: None, headers: vec![], body: vec![], captured_ms: None, replayed_ms: 1.0 };
        assert_eq!(outcome(Some(401), &empty, 200), Outcome::NowPassing);
        assert_eq!(outcome(Some(403), &empty, 401), Outcome::StillFailing);
        assert_eq!(outcome(Some(200), &empty, 401), Outcome::NowFailing);
        assert_eq!(outcome(Some(200), &empty, 200), Outcome::Same);
        let changed = Diff { body: vec!["- $.x".into()], ..empty };
        assert_eq!(outcome(Some(200), &changed, 200), Outcome::Changed);
    }
}
