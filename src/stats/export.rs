//! The tables of `harken export` (schema in docs/output.md, "Export tables"), and their
//! hive-partitioned layout: `DIR/<table>/date=YYYY-MM-DD/[host=H/]<file>`.

use super::endpoint;
use super::table::{Cell, Table};
use crate::analysis::Analysis;
use crate::catalog::Catalog;
use crate::model::Capture;
use crate::redact::mask_url;
use crate::settings::Window;
use crate::token::primary_credential;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

/// Version of the export schema (Parquet key `harken.export.schema`; docs/output.md).
pub const SCHEMA_VERSION: &str = "1";

/// Hive's name for a null partition value.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

fn s(v: impl Into<String>) -> Cell {
    Cell::S(Some(v.into()))
}
fn so(v: Option<impl Into<String>>) -> Cell {
    Cell::S(v.map(Into::into))
}
fn i(v: Option<i64>) -> Cell {
    Cell::I(v)
}
fn time(t: &DateTime<Utc>) -> Cell {
    s(crate::report::time(t))
}
fn micros(t: &DateTime<Utc>) -> Cell {
    Cell::I(Some(t.timestamp_micros()))
}
fn u(v: usize) -> Option<i64> {
    i64::try_from(v).ok()
}

/// A table and the partition of each of its rows: (date, host).
pub struct Partitioned {
    pub table: Table,
    pub parts: Vec<(Option<String>, Option<String>)>,
}

fn date(t: &DateTime<Utc>) -> Option<String> {
    Some(t.format("%Y-%m-%d").to_string())
}

/// All four tables: exchanges, findings and events that happened in `window`; the tokens used
/// (or issued) in it.
pub fn tables(
    capture: &Capture,
    analysis: &Analysis,
    catalog: &Catalog,
    show_secrets: bool,
    window: &Window,
) -> Vec<Partitioned> {
    vec![
        exchanges(capture, analysis, catalog, show_secrets, window),
        findings(analysis, show_secrets, window),
        tokens(analysis, window),
        events(analysis, window),
    ]
}

fn exchanges(
    capture: &Capture,
    analysis: &Analysis,
    catalog: &Catalog,
    show_secrets: bool,
    window: &Window,
) -> Partitioned {
    let mut t = Table::new(
        "exchanges",
        &[
            ("input", 's'),
            ("index", 'i'),
            ("time", 's'),
            ("time_us", 'i'),
            ("method", 's'),
            ("url", 's'),
            ("host", 's'),
            ("path", 's'),
            ("endpoint", 's'),
            ("status", 'i'),
            ("http_version", 's'),
            ("duration_ms", 'f'),
            ("request_bytes", 'i'),
            ("response_bytes", 'i'),
            ("credential", 's'),
            ("credential_kind", 's'),
            ("cause", 's'),
            ("conversation", 's'),
            ("request_frame", 'i'),
            ("response_frame", 'i'),
            ("notes", 's'),
        ],
    );
    let causes: HashMap<(&str, usize), &'static str> =
        analysis.findings.iter().map(|f| ((f.input.as_str(), f.index), f.cause.name())).collect();
    let mut parts = Vec::with_capacity(capture.exchanges.len());
    for ex in capture.exchanges.iter().filter(|e| window.contains(e.started)) {
        let input = capture.input_path(&ex.origin);
        let (host, path) = ex.host_and_path();
        let cred = primary_credential(ex);
        let version = ex
            .response
            .as_ref()
            .map(|r| r.http_version.as_str())
            .filter(|v| !v.is_empty())
            .unwrap_or(&ex.request.http_version);
        let notes: Vec<&str> = ex.notes.iter().map(|n| n.code.as_str()).collect();
        t.row(vec![
            s(input),
            i(u(ex.origin.index)),
            time(&ex.started),
            micros(&ex.started),
            s(ex.request.method.clone()),
            s(if show_secrets { ex.request.url.clone() } else { mask_url(&ex.request.url) }),
            s(host.clone()),
            s(path.clone()),
            s(endpoint::endpoint(catalog, &host, &ex.request.method, &path)),
            i(ex.status().map(i64::from)),
            s(version),
            Cell::F(ex.duration_ms.filter(|d| d.is_finite())),
            i(ex.request.body.as_ref().map(|b| b.size()).and_then(|v| i64::try_from(v).ok())),
            i(ex.response_size().and_then(|v| i64::try_from(v).ok())),
            so(cred.as_ref().map(|c| format!("{}:{}", c.kind.name(), c.fingerprint))),
            so(cred.as_ref().map(|c| c.kind.name())),
            so(causes.get(&(input, ex.origin.index)).copied()),
            so(analysis.timeline.conversation_of(&ex.origin).map(|c| c.id.clone())),
            i(ex.origin.request_frame.and_then(|f| i64::try_from(f).ok())),
            i(ex.origin.response_frame.and_then(|f| i64::try_from(f).ok())),
            so((!notes.is_empty()).then(|| notes.join(","))),
        ]);
        parts.push((date(&ex.started), Some(host).filter(|h| !h.is_empty())));
    }
    Partitioned { table: t, parts }
}

fn findings(analysis: &Analysis, show_secrets: bool, window: &Window) -> Partitioned {
    let mut t = Table::new(
        "findings",
        &[
            ("input", 's'),
            ("index", 'i'),
            ("time", 's'),
            ("time_us", 'i'),
            ("method", 's'),
            ("url", 's'),
            ("host", 's'),
            ("status", 'i'),
            ("cause", 's'),
            ("causes", 's'),
            ("summary", 's'),
            ("fix", 's'),
            ("credential", 's'),
            ("conversation", 's'),
            ("evidence", 'i'),
        ],
    );
    let mut parts = Vec::new();
    for f in analysis.findings.iter().filter(|f| window.contains(f.time)) {
        let host = url::Url::parse(&f.url).ok().and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase()));
        let causes: Vec<&str> = f.causes.iter().map(|c| c.name()).collect();
        // Finding URLs are already masked unless --show-secrets; mask again to be sure.
        let url = if show_secrets { f.url.clone() } else { mask_url(&f.url) };
        t.row(vec![
            s(f.input.clone()),
            i(u(f.index)),
            time(&f.time),
            micros(&f.time),
            s(f.method.clone()),
            s(url),
            so(host.clone()),
            i(Some(i64::from(f.status))),
            s(f.cause.name()),
            s(causes.join(",")),
            s(f.summary.clone()),
            s(f.fix.clone()),
            so(f.credential.clone()),
            so(f.conversation.clone()),
            i(u(f.evidence.len())),
        ]);
        parts.push((date(&f.time), host));
    }
    Partitioned { table: t, parts }
}

fn tokens(analysis: &Analysis, window: &Window) -> Partitioned {
    let mut t = Table::new(
        "tokens",
        &[
            ("fingerprint", 's'),
            ("kind", 's'),
            ("grant", 's'),
            ("issuer", 's'),
            ("region", 's'),
            ("scopes", 's'),
            ("scopes_from", 's'),
            ("issued", 's'),
            ("expires", 's'),
            ("not_before", 's'),
            ("revoked", 's'),
            ("first_use", 's'),
            ("last_use", 's'),
            ("first_use_us", 'i'),
            ("uses", 'i'),
            ("refused", 'i'),
            ("has_user", 'b'),
            ("client_id", 's'),
            ("subject", 's'),
            ("organization", 's'),
            ("supersedes", 's'),
            ("superseded_by", 's'),
            ("carriers", 's'),
            ("malformed", 's'),
            ("signature", 's'),
            ("claims", 's'),
        ],
    );
    let mut parts = Vec::new();
    let ts = |x: &Option<DateTime<Utc>>| so(x.as_ref().map(crate::report::time));
    let used_in = |k: &crate::token::Token| match (k.first_use.or(k.issued), k.last_use.or(k.issued)) {
        (Some(a), Some(b)) => window.overlaps(a, b),
        _ => window.is_open(),
    };
    for k in analysis.tokens.tokens.iter().filter(|k| used_in(k)) {
        let claims = k.jwt.as_ref().and_then(|j| j.claims.as_ref()).and_then(|c| serde_json::to_string(c).ok());
        let signature = k
            .jwt
            .as_ref()
            .and_then(|j| serde_json::to_value(j.signature).ok())
            .and_then(|v| v.as_str().map(str::to_string));
        t.row(vec![
            s(k.fingerprint.clone()),
            s(k.kind.name()),
            s(k.grant.name()),
            so(k.issuer.clone()),
            so(k.region),
            so(k.scopes.as_ref().map(|v| v.join(" "))),
            so(k.scopes_from),
            ts(&k.issued),
            ts(&k.expires),
            ts(&k.rare().not_before),
            ts(&k.rare().revoked),
            ts(&k.first_use),
            ts(&k.last_use),
            i(k.first_use.map(|t| t.timestamp_micros())),
            i(u(k.uses)),
            i(u(k.refused)),
            Cell::B(k.has_user),
            so(k.client_id.clone()),
            so(k.subject.clone()),
            so(k.rare().organization.clone()),
            so(k.rare().supersedes.clone()),
            so(k.rare().superseded_by.clone()),
            so((!k.carriers.is_empty()).then(|| k.carriers.join(","))),
            so(k.rare().malformed.clone()),
            so(signature),
            so(claims),
        ]);
        parts.push((k.first_use.as_ref().or(k.issued.as_ref()).and_then(date), None));
    }
    Partitioned { table: t, parts }
}

fn events(analysis: &Analysis, window: &Window) -> Partitioned {
    let mut t = Table::new(
        "events",
        &[
            ("conversation", 's'),
            ("time", 's'),
            ("time_us", 'i'),
            ("input", 's'),
            ("index", 'i'),
            ("method", 's'),
            ("path", 's'),
            ("status", 'i'),
            ("credential", 's'),
            ("state_before", 's'),
            ("state", 's'),
            ("after_end", 'b'),
            ("key", 's'),
            ("evidence", 's'),
        ],
    );
    let mut parts = Vec::new();
    for c in &analysis.timeline.conversations {
        for e in c.events.iter().filter(|e| window.contains(e.time)) {
            t.row(vec![
                s(c.id.clone()),
                time(&e.time),
                micros(&e.time),
                s(e.input.clone()),
                i(u(e.index)),
                s(e.method.clone()),
                s(e.path.clone()),
                i(e.status.map(i64::from)),
                so(e.credential.clone()),
                s(e.state_before.name()),
                s(e.state.name()),
                Cell::B(Some(e.after_end)),
                s(e.key.clone()),
                so(e.evidence.clone()),
            ]);
            parts.push((date(&e.time), None));
        }
    }
    Partitioned { table: t, parts }
}

/// A partition directory name component: `key=value`, with the value percent-encoded so that a
/// captured host can never name another directory (`/`, `..`) or an odd file name.
pub fn partition_dir(key: &str, value: Option<&str>) -> String {
    let v = match value {
        None | Some("") => NULL_PARTITION.to_string(),
        Some(v) => {
            let mut out = String::with_capacity(v.len());
            for b in v.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') || (b == b'.' && !out.is_empty()) {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }
    };
    format!("{key}={v}")
}

/// Row indices by partition directory (relative, e.g. `date=2024-05-01/host=api.x.com`).
pub fn partitions(p: &Partitioned, by_host: bool) -> BTreeMap<String, Vec<usize>> {
    let mut m: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (ix, (d, h)) in p.parts.iter().enumerate() {
        let mut dir = partition_dir("date", d.as_deref());
        if by_host && p.table.header().contains(&"host") {
            dir.push('/');
            dir.push_str(&partition_dir("host", h.as_deref()));
        }
        m.entry(dir).or_default().push(ix);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_cannot_escape() {
        assert_eq!(partition_dir("host", Some("api.example.com")), "host=api.example.com");
        assert_eq!(partition_dir("host", Some("../etc")), "host=%2E.%2Fetc");
        assert_eq!(partition_dir("host", Some("a/b")), "host=a%2Fb");
        assert_eq!(partition_dir("date", None), "date=__HIVE_DEFAULT_PARTITION__");
    }
}
