//! A user-defined access-log format (`--log-format FILE`), a small TOML file:
//!
//! ```toml
//! name = "orders-gateway"
//! # Text lines: a regular expression whose named groups are harken's field names...
//! regex = '^(?P<time>\S+) (?P<client>\S+) (?P<method>[A-Z]+) (?P<target>\S+) (?P<status>\d{3})'
//! # ...or JSON lines: harken field = dotted path into the object (`a.b.0.c`).
//! [json]
//! time = "ts"
//! method = "req.method"
//! ```
//!
//! Fields: `time`, `method`, `target` (path and query, or an absolute URL), `url`, `scheme`,
//! `host`, `path`, `query`, `status`, `size` (response bytes), `request_size`,
//! `duration_ms`, `duration_s`, `duration_us`, `client`, `forwarded_for`, `user` (the
//! identity), `request_id`, `user_agent`, `referer`, `upstream`, `protocol`, `authorization`
//! (a logged `Authorization` value: its credential is then read). `time_format` (strftime, as
//! chrono reads it) is optional: without it RFC 3339, `$time_local` and epoch seconds are tried.
//! A line the format does not match goes on to the built-in formats.

use super::{any_time, epoch_time, identity, value, Record};
use crate::model::Unrecorded;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const FIELDS: &[&str] = &[
    "time",
    "method",
    "target",
    "url",
    "scheme",
    "host",
    "path",
    "query",
    "status",
    "size",
    "request_size",
    "duration_ms",
    "duration_s",
    "duration_us",
    "client",
    "forwarded_for",
    "user",
    "request_id",
    "user_agent",
    "referer",
    "upstream",
    "protocol",
    "authorization",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    name: Option<String>,
    regex: Option<String>,
    json: Option<BTreeMap<String, String>>,
    time_format: Option<String>,
}

/// A parsed `--log-format` file.
#[derive(Debug)]
pub struct UserFormat {
    pub name: &'static str,
    regex: Option<regex::Regex>,
    json: Vec<(String, Vec<String>)>,
    time_format: Option<String>,
}

impl UserFormat {
    /// Parse and check a format file's text.
    pub fn from_toml(text: &str) -> Result<UserFormat, String> {
        let spec: Spec = toml::from_str(text).map_err(|e| e.to_string())?;
        let name: &'static str = Box::leak(spec.name.unwrap_or_else(|| "user format".into()).into_boxed_str());
        let regex = match &spec.regex {
            Some(r) => {
                let re = regex::RegexBuilder::new(r).size_limit(1 << 20).build().map_err(|e| format!("regex: {e}"))?;
                for n in re.capture_names().flatten() {
                    if !FIELDS.contains(&n) {
                        return Err(format!("regex group {n:?} is not a field; fields are: {}", FIELDS.join(", ")));
                    }
                }
                Some(re)
            }
            None => None,
        };
        let mut json = Vec::new();
        for (k, path) in spec.json.unwrap_or_default() {
            if !FIELDS.contains(&k.as_str()) {
                return Err(format!("[json] key {k:?} is not a field; fields are: {}", FIELDS.join(", ")));
            }
            json.push((k, path.split('.').map(str::to_string).collect()));
        }
        match (regex.is_some(), json.is_empty()) {
            (false, true) => return Err("give either `regex = '...'` or a [json] table".into()),
            (true, false) => return Err("give `regex` or [json], not both".into()),
            _ => {}
        }
        let has = |f: &str| {
            regex
                .as_ref()
                .map(|r| r.capture_names().flatten().any(|n| n == f))
                .unwrap_or_else(|| json.iter().any(|(k, _)| k == f))
        };
        if !has("status") {
            return Err("the format must give `status`".into());
        }
        if !(has("target") || has("url") || has("path")) {
            return Err("the format must give `target`, `url` or `path`".into());
        }
        Ok(UserFormat { name, regex, json, time_format: spec.time_format })
    }

    pub fn load(path: &std::path::Path) -> Result<UserFormat, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        UserFormat::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The record of a line, when the format matches it.
    pub fn parse(&self, line: &str) -> Option<Record<'static>> {
        let mut got: Vec<(&str, String)> = Vec::new();
        if let Some(re) = &self.regex {
            let c = re.captures(line)?;
            for n in re.capture_names().flatten() {
                if let Some(m) = c.name(n) {
                    got.push((n, m.as_str().to_string()));
                }
            }
        } else {
            if !line.starts_with('{') {
                return None;
            }
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            for (k, path) in &self.json {
                let mut cur = &v;
                let mut ok = true;
                for p in path {
                    cur = match cur {
                        serde_json::Value::Object(o) => match o.get(p) {
                            Some(x) => x,
                            None => {
                                ok = false;
                                break;
                            }
                        },
                        serde_json::Value::Array(a) => match p.parse::<usize>().ok().and_then(|i| a.get(i)) {
                            Some(x) => x,
                            None => {
                                ok = false;
                                break;
                            }
                        },
                        _ => {
                            ok = false;
                            break;
                        }
                    };
                }
                if !ok {
                    continue;
                }
                let s = match cur {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => continue,
                };
                got.push((k.as_str(), s));
            }
        }
        self.build(got)
    }

    fn build(&self, got: Vec<(&str, String)>) -> Option<Record<'static>> {
        let mut r = Record { family: self.name, unrecorded: Unrecorded::ACCESS_LOG, ..Default::default() };
        let (mut path, mut query) = (None, None);
        for (k, v) in got {
            let Some(v) = value(&v).map(str::to_string) else { continue };
            match k {
                "time" => {
                    r.time = match &self.time_format {
                        Some(f) => chrono::DateTime::parse_from_str(&v, f)
                            .map(|t| t.to_utc())
                            .ok()
                            .or_else(|| chrono::NaiveDateTime::parse_from_str(&v, f).ok().map(|t| t.and_utc())),
                        None => any_time(&v).or_else(|| v.parse::<f64>().ok().and_then(epoch_time)),
                    }
                }
                "method" => r.method = v.into(),
                "target" | "url" => r.target = v.into(),
                "path" => path = Some(v),
                "query" => query = Some(v),
                "scheme" => r.scheme = Some(v.into()),
                "host" => r.host = Some(v.into()),
                "status" => r.status = v.parse().ok(),
                "size" => r.response_size = v.parse().ok(),
                "request_size" => r.request_size = v.parse().ok(),
                "duration_ms" => r.duration_ms = v.parse().ok(),
                "duration_s" => r.duration_ms = v.parse::<f64>().ok().map(|x| x * 1000.0),
                "duration_us" => r.duration_ms = v.parse::<f64>().ok().map(|x| x / 1000.0),
                "client" => r.client = Some(v.into()),
                "forwarded_for" => r.forwarded_for = Some(v.into()),
                "user" => r.identity = identity("user", &v),
                "request_id" => r.request_id = Some(v.into()),
                "user_agent" => r.user_agent = Some(v.into()),
                "referer" => r.referer = Some(v.into()),
                "upstream" => r.upstream = Some(v.into()),
                "protocol" => r.http_version = v.into(),
                "authorization" => {
                    r.request_headers.push(("Authorization".into(), v));
                    r.unrecorded = r.unrecorded.without(Unrecorded::CREDENTIALS);
                }
                _ => {}
            }
        }
        if r.target.is_empty() {
            r.target = path.unwrap_or_default().into();
            if let Some(q) = query {
                r.target = format!("{}?{}", r.target, q.trim_start_matches('?')).into();
            }
        }
        r.status?;
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_and_json_formats() {
        let f = UserFormat::from_toml(
            r#"name = "gw"
regex = '^(?P<time>\S+) (?P<client>\S+) (?P<user>\S+) (?P<method>[A-Z]+) (?P<target>\S+) (?P<status>\d{3}) (?P<duration_ms>\d+)ms$'"#,
        )
        .unwrap();
        let r = f.parse("2024-05-01T10:00:00Z 10.0.0.1 svc-orders GET /v1/orders?x=1 403 12ms").unwrap();
        assert_eq!(r.identity.unwrap().name, "svc-orders");
        assert_eq!(r.status, Some(403));
        assert!(f.parse("garbage").is_none());
        let f = UserFormat::from_toml(
            "[json]\nstatus = \"res.code\"\npath = \"req.path\"\nmethod = \"req.m\"\nuser = \"auth.sub\"\n",
        )
        .unwrap();
        let r = f.parse(r#"{"res":{"code":401},"req":{"path":"/a","m":"POST"},"auth":{"sub":"u1"}}"#).unwrap();
        assert_eq!((r.status, &*r.method, r.identity.unwrap().name.as_str()), (Some(401), "POST", "u1"));
        assert!(UserFormat::from_toml("regex = '(?P<nope>x)'").unwrap_err().contains("not a field"));
        assert!(UserFormat::from_toml("name = 'x'").is_err());
    }
}
