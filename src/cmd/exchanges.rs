//! `harken exchanges`: one row per exchange, filtered, in time order across all inputs.

use super::{code, report_errors};
use crate::cli::{ExchangesArgs, OutputFormat};
use crate::ingest::{self, BodyPolicy, IngestOptions};
use crate::model::Exchange;
use crate::redact::{escape, mask_url};
use crate::report::{self, table};
use crate::token::primary_credential;
use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;
use serde::Serialize;
use std::io::Write;

/// One row: the JSON contract of `exchanges --format json|ndjson` (docs/output.md).
#[derive(Debug, Serialize)]
pub struct Row {
    pub input: String,
    pub index: usize,
    pub time: String,
    pub method: String,
    pub url: String,
    pub host: String,
    pub path: String,
    pub status: Option<u16>,
    pub http_version: String,
    pub duration_ms: Option<f64>,
    pub size: Option<u64>,
    pub credential: Option<CredentialRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_frame: Option<u64>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CredentialRef {
    pub kind: String,
    pub fingerprint: String,
    /// Where it travelled: `authorization: bearer`, `header: x-api-key`, `query: access_token`,
    /// `cookie: SESSIONID`, `sec-websocket-protocol`.
    pub carrier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The row for an exchange. URLs are masked unless `show_secrets`.
pub fn row(input_path: &str, ex: &Exchange, show_secrets: bool) -> Row {
    let url = if show_secrets { ex.request.url.clone() } else { mask_url(&ex.request.url) };
    let version = ex
        .response
        .as_ref()
        .map(|r| r.http_version.as_str())
        .filter(|v| !v.is_empty())
        .unwrap_or(&ex.request.http_version);
    let (host, path) = ex.host_and_path();
    Row {
        input: input_path.to_string(),
        index: ex.origin.index,
        time: report::time(&ex.started),
        method: ex.request.method.clone(),
        url,
        host,
        path,
        status: ex.status(),
        http_version: version.to_string(),
        duration_ms: ex.duration_ms,
        size: ex.response_size(),
        credential: primary_credential(ex).map(|c| CredentialRef {
            kind: c.kind.name().to_string(),
            fingerprint: c.fingerprint.clone(),
            carrier: c.carrier.clone(),
            value: show_secrets.then(|| c.secret.clone()),
        }),
        request_frame: ex.origin.request_frame,
        response_frame: ex.origin.response_frame,
        notes: ex.notes.iter().map(|n| n.code.clone()).collect(),
    }
}

/// The filters of `harken exchanges`.
pub struct Filter {
    statuses: Option<Vec<StatusMatch>>,
    host: Option<String>,
    methods: Option<Vec<String>>,
    path: Option<Regex>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

#[derive(Debug, PartialEq)]
enum StatusMatch {
    Exact(u16),
    Class(u16),
    None,
}

impl Filter {
    pub fn from_args(a: &ExchangesArgs) -> anyhow::Result<Filter> {
        Ok(Filter {
            statuses: a.status.as_deref().map(parse_statuses).transpose()?,
            host: a.host.as_ref().map(|h| h.to_ascii_lowercase()),
            methods: a.method.as_ref().map(|m| m.split(',').map(|s| s.trim().to_ascii_uppercase()).collect()),
            path: a.path.as_deref().map(Regex::new).transpose().context("--path is not a valid regular expression")?,
            since: a.since.as_deref().map(parse_when).transpose().context("--since")?,
            until: a.until.as_deref().map(parse_when).transpose().context("--until")?,
        })
    }

    pub fn keep(&self, ex: &Exchange) -> bool {
        if let Some(st) = &self.statuses {
            let s = ex.status();
            let hit = st.iter().any(|m| match (m, s) {
                (StatusMatch::Exact(c), Some(s)) => *c == s,
                (StatusMatch::Class(c), Some(s)) => s / 100 == *c,
                (StatusMatch::None, None) => true,
                _ => false,
            });
            if !hit {
                return false;
            }
        }
        if let Some(h) = &self.host {
            let host = ex.host();
            let ok = match h.strip_prefix("*.") {
                Some(suffix) => host == suffix || host.ends_with(&format!(".{suffix}")),
                None => host == *h,
            };
            if !ok {
                return false;
            }
        }
        if let Some(ms) = &self.methods {
            if !ms.iter().any(|m| m.eq_ignore_ascii_case(&ex.request.method)) {
                return false;
            }
        }
        if let Some(re) = &self.path {
            if !re.is_match(&ex.path()) {
                return false;
            }
        }
        if self.since.is_some_and(|t| ex.started < t) || self.until.is_some_and(|t| ex.started >= t) {
            return false;
        }
        true
    }
}

fn parse_statuses(s: &str) -> anyhow::Result<Vec<StatusMatch>> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lower = p.to_ascii_lowercase();
            if lower == "none" {
                return Ok(StatusMatch::None);
            }
            if lower.len() == 3 && lower.ends_with("xx") {
                if let Some(d) = lower[..1].parse::<u16>().ok().filter(|d| (1..=5).contains(d)) {
                    return Ok(StatusMatch::Class(d));
                }
            }
            match p.parse::<u16>() {
                Ok(c) if (100..=999).contains(&c) => Ok(StatusMatch::Exact(c)),
                _ => bail!("--status: {p:?} is not a status code (401), a class (4xx) or `none`"),
            }
        })
        .collect()
}

/// RFC 3339, or a bare date (midnight UTC).
pub fn parse_when(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    bail!("{s:?} is not a time: use RFC 3339 (2024-05-01T12:00:00Z) or a date (2024-05-01)")
}

pub fn run(a: &ExchangesArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let filter = Filter::from_args(a)?;
    // Rows are made as exchanges are read: only the kept rows stay in memory.
    let paths: Vec<String> = a.input.files.iter().map(|p| p.display().to_string()).collect();
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let (inputs, rows) = ingest::load_map(
        &a.input.files,
        IngestOptions { bodies: BodyPolicy::None, ..Default::default() },
        |ex| {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            filter.keep(&ex).then(|| (ex.started, ex.origin, row(&paths[ex.origin.input], &ex, a.input.show_secrets)))
        },
        |(t, o, _)| (*t, *o),
    );
    let failed = report_errors(&inputs);
    let total = seen.into_inner();
    let rows = rows.into_iter().map(|(_, _, r)| r);
    match a.format {
        OutputFormat::Ndjson => {
            for r in rows {
                report::write_json_line(out, &r)?;
            }
        }
        OutputFormat::Json => {
            let all: Vec<Row> = rows.collect();
            report::write_json(out, &all)?;
        }
        OutputFormat::Csv => write_csv(out, rows)?,
        OutputFormat::Table => {
            let mut t = table::new(&["time", "method", "host", "path", "status", "ms", "size", "credential"]);
            let mut n = 0;
            for r in rows {
                n += 1;
                t.add_row(vec![
                    r.time[..23.min(r.time.len())].replace('T', " "),
                    escape(&r.method),
                    escape(&r.host),
                    table::clip(&escape(&r.path), 60),
                    r.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                    r.duration_ms.map(|d| format!("{d:.0}")).unwrap_or_default(),
                    r.size.map(human_size).unwrap_or_default(),
                    r.credential.map(|c| format!("{}:{}", c.kind, c.fingerprint)).unwrap_or_default(),
                ]);
            }
            if n > 0 {
                writeln!(out, "{t}")?;
            }
            writeln!(out, "{n} exchange{} of {total}", if n == 1 { "" } else { "s" })?;
        }
    }
    Ok(code(failed))
}

fn write_csv(out: &mut dyn Write, rows: impl Iterator<Item = Row>) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "input",
        "index",
        "time",
        "method",
        "url",
        "host",
        "path",
        "status",
        "http_version",
        "duration_ms",
        "size",
        "credential_kind",
        "credential_fingerprint",
    ])?;
    for r in rows {
        let (kind, fp) = r.credential.map(|c| (c.kind, c.fingerprint)).unwrap_or_default();
        w.write_record([
            r.input,
            r.index.to_string(),
            r.time,
            r.method,
            r.url,
            r.host,
            r.path,
            r.status.map(|s| s.to_string()).unwrap_or_default(),
            r.http_version,
            r.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
            r.size.map(|s| s.to_string()).unwrap_or_default(),
            kind,
            fp,
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// `1.2 kB`-style sizes for tables.
pub fn human_size(n: u64) -> String {
    match n {
        0..=999 => format!("{n} B"),
        1_000..=999_999 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lists() {
        assert_eq!(
            parse_statuses("401, 4xx,none").unwrap(),
            vec![StatusMatch::Exact(401), StatusMatch::Class(4), StatusMatch::None]
        );
        assert!(parse_statuses("abc").is_err());
        assert!(parse_statuses("9xx").is_err());
    }

    #[test]
    fn times() {
        assert!(parse_when("2024-05-01").is_ok());
        assert!(parse_when("2024-05-01T10:00:00+02:00").is_ok());
        assert!(parse_when("May 1").is_err());
    }
}
