//! One row type per concept, defined once and used by every command, by statistics and by
//! exports: [`ExchangeRow`], [`FindingRow`], [`TokenRow`], [`EventRow`], [`InputRow`].
//!
//! A row's `Serialize` is its JSON (the contract of docs/output.md); [`Row::COLUMNS`] and
//! [`Row::cells`] are its flat form (CSV, exports); [`Row::TABLE`] and [`Row::table_cells`]
//! what a terminal table shows. Cells hold raw captured text: the renderers escape.
//! Secrets are masked when a row is built (unless `--show-secrets`).

use super::escape::push_json_str;
use super::table::clip;
use super::{push_time, short_time, time};
use crate::diagnose::Finding;
use crate::model::{Exchange, Input};
pub use crate::parts::{Notes, RowParts};
use crate::redact::mask_url_cow;
use crate::timeline::{Conversation, Event, Proof};
use crate::token::{primary_credential, Credential, Token};
use bytes::BufMut;
use serde::Serialize;
use std::borrow::Cow;

/// A row in every format. See the module docs of [`crate::report`].
pub trait Row: Serialize {
    /// Every column, flat (CSV header, exports).
    const COLUMNS: &'static [&'static str];
    /// The values for [`Row::COLUMNS`], in order; raw (the renderer escapes).
    fn cells(&self) -> Vec<String>;
    /// The columns of a terminal table.
    const TABLE: &'static [Col];
    /// The values for [`Row::TABLE`], in order; raw, with a tone for colour.
    fn table_cells(&self) -> Vec<Cell>;
}

/// A table column.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub name: &'static str,
    /// Never wrapped (timestamps, ids).
    pub nowrap: bool,
    /// Right-aligned (numbers).
    pub right: bool,
}

impl Col {
    pub const fn text(name: &'static str) -> Col {
        Col { name, nowrap: false, right: false }
    }
    /// A column that is never wrapped mid-value (timestamps, fingerprints).
    pub const fn fixed(name: &'static str) -> Col {
        Col { name, nowrap: true, right: false }
    }
    pub const fn number(name: &'static str) -> Col {
        Col { name, nowrap: true, right: true }
    }
}

/// What a cell means, for colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Plain,
    Good,
    Warn,
    Bad,
    Dim,
}

/// One table cell: raw text and its tone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

impl Cell {
    pub fn new(text: impl Into<String>, tone: Tone) -> Cell {
        Cell { text: text.into(), tone }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell { text, tone: Tone::Plain }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell { text: text.to_string(), tone: Tone::Plain }
    }
}

/// The tone of an HTTP status: refusals red, other errors yellow, success green.
pub fn status_tone(status: Option<u16>) -> Tone {
    match status {
        Some(401 | 403) => Tone::Bad,
        Some(s) if s >= 500 => Tone::Bad,
        Some(s) if s >= 400 => Tone::Warn,
        Some(s) if s < 300 => Tone::Good,
        Some(_) => Tone::Plain,
        None => Tone::Dim,
    }
}

fn status_cell(status: Option<u16>) -> Cell {
    Cell::new(status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()), status_tone(status))
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// `1.2 kB`-style sizes for tables.
pub fn human_size(n: u64) -> String {
    match n {
        0..=999 => format!("{n} B"),
        1_000..=999_999 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

// ---------------------------------------------------------------------------------------------
// Exchanges

/// One exchange: the JSON contract of `exchanges --format json|ndjson` (docs/output.md).
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeRow {
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

/// The credential an exchange carried, as kind and fingerprint.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialRef {
    pub kind: String,
    pub fingerprint: String,
    /// Where it travelled: `authorization: bearer`, `header: x-api-key`, `query: access_token`,
    /// `cookie: SESSIONID`, `sec-websocket-protocol`.
    pub carrier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl ExchangeRow {
    /// The row for an exchange read from `input_path`. URLs are masked unless `show_secrets`.
    pub fn new(input_path: &str, ex: &Exchange, show_secrets: bool) -> ExchangeRow {
        let credential = primary_credential(ex);
        let parts = RowParts::of(ex);
        RowRef::new(&parts, credential.as_ref(), show_secrets).to_row(input_path)
    }
}

/// An exchange row, borrowed: [`ExchangeRow`] without its input, written as an NDJSON line by
/// [`RowRef::write_line`] with no allocation (the hot path of `exchanges --format ndjson`).
pub struct RowRef<'a> {
    parts: &'a RowParts<'a>,
    url: Cow<'a, str>,
    host: Cow<'a, str>,
    path: Cow<'a, str>,
    credential: Option<&'a Credential>,
    show_secrets: bool,
}

impl<'a> RowRef<'a> {
    /// The row of `parts` with its primary credential; URLs are masked unless `show_secrets`.
    pub fn new(parts: &'a RowParts<'a>, credential: Option<&'a Credential>, show_secrets: bool) -> RowRef<'a> {
        let url = if show_secrets { Cow::Borrowed(&*parts.url) } else { mask_url_cow(&parts.url) };
        let (host, path) = parts.host_and_path();
        RowRef { parts, url, host, path, credential, show_secrets }
    }

    /// The owned row, read from `input_path`.
    pub fn to_row(&self, input_path: &str) -> ExchangeRow {
        let p = self.parts;
        ExchangeRow {
            input: input_path.to_string(),
            index: p.origin.index,
            time: time(&p.started),
            method: p.method.to_string(),
            url: self.url.to_string(),
            host: self.host.to_string(),
            path: self.path.to_string(),
            status: p.status,
            http_version: p.http_version.to_string(),
            duration_ms: p.duration_ms,
            size: p.size,
            credential: self.credential.map(|c| CredentialRef {
                kind: c.kind.name().to_string(),
                fingerprint: c.fingerprint.clone(),
                carrier: c.carrier.clone(),
                value: self.show_secrets.then(|| c.secret.clone()),
            }),
            request_frame: p.origin.request_frame,
            response_frame: p.origin.response_frame,
            notes: p.notes.codes().map(str::to_string).collect(),
        }
    }

    /// The start of every line of one input: `{"input":"<path>","index":` (escaped once).
    pub fn line_prefix(input_path: &str) -> Vec<u8> {
        let mut v = b"{\"input\":".to_vec();
        push_json_str(&mut v, input_path);
        v.extend_from_slice(b",\"index\":");
        v
    }

    /// Append this row as one NDJSON line (with its newline), byte for byte the line
    /// [`ExchangeRow`]'s `Serialize` gives through the escape boundary; `prefix` is
    /// [`RowRef::line_prefix`] of the input.
    pub fn write_line(&self, prefix: &[u8], out: &mut impl BufMut) {
        let p = self.parts;
        let mut num = itoa::Buffer::new();
        out.put_slice(prefix);
        out.put_slice(num.format(p.origin.index).as_bytes());
        out.put_slice(b",\"time\":\"");
        push_time(out, &p.started);
        out.put_slice(b"\",\"method\":");
        push_json_str(out, p.method);
        out.put_slice(b",\"url\":");
        push_json_str(out, &self.url);
        out.put_slice(b",\"host\":");
        push_json_str(out, &self.host);
        out.put_slice(b",\"path\":");
        push_json_str(out, &self.path);
        out.put_slice(b",\"status\":");
        match p.status {
            Some(s) => out.put_slice(num.format(s).as_bytes()),
            None => out.put_slice(b"null"),
        }
        out.put_slice(b",\"http_version\":");
        push_json_str(out, p.http_version);
        out.put_slice(b",\"duration_ms\":");
        match p.duration_ms {
            // serde_json's own form of a float (shortest round trip; `null` when not finite).
            Some(d) => {
                if serde_json::to_writer(out.writer(), &d).is_err() {
                    out.put_slice(b"null");
                }
            }
            None => out.put_slice(b"null"),
        }
        out.put_slice(b",\"size\":");
        match p.size {
            Some(s) => out.put_slice(num.format(s).as_bytes()),
            None => out.put_slice(b"null"),
        }
        out.put_slice(b",\"credential\":");
        match self.credential {
            Some(c) => {
                out.put_slice(b"{\"kind\":");
                push_json_str(out, c.kind.name());
                out.put_slice(b",\"fingerprint\":");
                push_json_str(out, &c.fingerprint);
                out.put_slice(b",\"carrier\":");
                push_json_str(out, &c.carrier);
                if self.show_secrets {
                    out.put_slice(b",\"value\":");
                    push_json_str(out, &c.secret);
                }
                out.put_u8(b'}');
            }
            None => out.put_slice(b"null"),
        }
        if let Some(f) = p.origin.request_frame {
            out.put_slice(b",\"request_frame\":");
            out.put_slice(num.format(f).as_bytes());
        }
        if let Some(f) = p.origin.response_frame {
            out.put_slice(b",\"response_frame\":");
            out.put_slice(num.format(f).as_bytes());
        }
        out.put_slice(b",\"notes\":[");
        for (i, code) in p.notes.codes().enumerate() {
            if i > 0 {
                out.put_u8(b',');
            }
            push_json_str(out, code);
        }
        out.put_slice(b"]}\n");
    }
}

impl Row for ExchangeRow {
    const COLUMNS: &'static [&'static str] = &[
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
    ];
    fn cells(&self) -> Vec<String> {
        let (kind, fp) = self.credential.as_ref().map(|c| (c.kind.clone(), c.fingerprint.clone())).unwrap_or_default();
        vec![
            self.input.clone(),
            self.index.to_string(),
            self.time.clone(),
            self.method.clone(),
            self.url.clone(),
            self.host.clone(),
            self.path.clone(),
            opt(&self.status),
            self.http_version.clone(),
            opt(&self.duration_ms),
            opt(&self.size),
            kind,
            fp,
        ]
    }
    const TABLE: &'static [Col] = &[
        Col::fixed("time"),
        Col::text("method"),
        Col::text("host"),
        Col::text("path"),
        Col::number("status"),
        Col::number("ms"),
        Col::number("size"),
        Col::fixed("credential"),
    ];
    fn table_cells(&self) -> Vec<Cell> {
        vec![
            self.time[..23.min(self.time.len())].replace('T', " ").into(),
            self.method.clone().into(),
            self.host.clone().into(),
            clip(&self.path, 60).into(),
            status_cell(self.status),
            self.duration_ms.map(|d| format!("{d:.0}")).unwrap_or_default().into(),
            self.size.map(human_size).unwrap_or_default().into(),
            self.credential.as_ref().map(|c| format!("{}:{}", c.kind, c.fingerprint)).unwrap_or_default().into(),
        ]
    }
}

// ---------------------------------------------------------------------------------------------
// Findings

/// One refused request explained (docs/output.md, "Findings"). The finding's URL is already
/// masked by the diagnosis unless `--show-secrets`.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(transparent)]
pub struct FindingRow<'a>(pub &'a Finding);

impl Row for FindingRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "input",
        "index",
        "time",
        "method",
        "url",
        "status",
        "cause",
        "causes",
        "confidence",
        "inferred_from",
        "summary",
        "evidence",
        "fix",
        "credential",
        "conversation",
    ];
    fn cells(&self) -> Vec<String> {
        let f = self.0;
        let causes: Vec<&str> = f.causes.iter().map(|c| c.name()).collect();
        let evidence: Vec<String> = f.evidence.iter().map(|e| format!("{}#{}: {}", e.input, e.index, e.fact)).collect();
        vec![
            f.input.clone(),
            f.index.to_string(),
            time(&f.time),
            f.method.clone(),
            f.url.clone(),
            f.status.to_string(),
            f.cause.name().to_string(),
            causes.join(";"),
            f.confidence.name().to_string(),
            f.inferred_from.map(|n| n.to_string()).unwrap_or_default(),
            f.summary.clone(),
            evidence.join(" | "),
            f.fix.clone(),
            opt(&f.credential),
            opt(&f.conversation),
        ]
    }
    const TABLE: &'static [Col] = &[
        Col::fixed("time"),
        Col::text("method"),
        Col::text("path"),
        Col::number("status"),
        Col::fixed("cause"),
        Col::fixed("confidence"),
        Col::text("why"),
    ];
    fn table_cells(&self) -> Vec<Cell> {
        let f = self.0;
        let path = url::Url::parse(&f.url).map(|u| u.path().to_string()).unwrap_or_else(|_| f.url.clone());
        vec![
            short_time(&f.time).into(),
            f.method.clone().into(),
            clip(&path, 50).into(),
            status_cell(Some(f.status)),
            Cell::new(f.cause.name(), Tone::Bad),
            f.confidence.label().into(),
            clip(&f.summary, 100).into(),
        ]
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// One credential (docs/tokens.md). Its value is present only after
/// [`crate::token::TokenIndex::reveal_secrets`] (`--show-secrets`).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(transparent)]
pub struct TokenRow<'a>(pub &'a Token);

impl Row for TokenRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "fingerprint",
        "kind",
        "grant",
        "issuer",
        "region",
        "scopes",
        "issued",
        "expires",
        "revoked",
        "first_use",
        "last_use",
        "uses",
        "refused",
        "has_user",
        "client_id",
        "supersedes",
        "superseded_by",
        "carriers",
        "used_regions",
        "malformed",
        "value",
    ];
    fn cells(&self) -> Vec<String> {
        let t = self.0;
        let when = |v: &Option<chrono::DateTime<chrono::Utc>>| v.as_ref().map(time).unwrap_or_default();
        vec![
            t.fingerprint.clone(),
            t.kind.name().to_string(),
            t.grant.name().to_string(),
            opt(&t.issuer),
            opt(&t.region),
            t.scopes.as_ref().map(|s| s.join(" ")).unwrap_or_default(),
            when(&t.issued),
            when(&t.expires),
            when(&t.rare().revoked),
            when(&t.first_use),
            when(&t.last_use),
            t.uses.to_string(),
            t.refused.to_string(),
            opt(&t.has_user),
            opt(&t.client_id),
            opt(&t.rare().supersedes),
            opt(&t.rare().superseded_by),
            t.carriers.join("; "),
            t.used_regions.join(" "),
            opt(&t.rare().malformed),
            opt(&t.rare().value),
        ]
    }
    const TABLE: &'static [Col] = &[
        Col::fixed("credential"),
        Col::text("grant"),
        Col::text("issuer"),
        Col::text("region"),
        Col::text("scopes"),
        Col::fixed("issued"),
        Col::fixed("expires"),
        Col::fixed("first use"),
        Col::fixed("last use"),
        Col::number("uses"),
        Col::number("401/403"),
    ];
    fn table_cells(&self) -> Vec<Cell> {
        let t = self.0;
        let when = |v: &Option<chrono::DateTime<chrono::Utc>>| v.as_ref().map(short_time).unwrap_or_else(|| "-".into());
        let scopes = match &t.scopes {
            None => "?".to_string(),
            Some(s) if s.is_empty() => "(none)".to_string(),
            Some(s) => clip(&s.join(" "), 40),
        };
        vec![
            t.label().into(),
            t.grant.name().into(),
            t.issuer.as_deref().unwrap_or("-").into(),
            t.region.unwrap_or("-").into(),
            scopes.into(),
            when(&t.issued).into(),
            when(&t.expires).into(),
            when(&t.first_use).into(),
            when(&t.last_use).into(),
            t.uses.to_string().into(),
            Cell::new(t.refused.to_string(), if t.refused > 0 { Tone::Bad } else { Tone::Plain }),
        ]
    }
}

// ---------------------------------------------------------------------------------------------
// Timeline events

/// One event of a conversation's timeline (docs/conversations.md): the event's fields plus
/// the conversation id.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EventRow<'a> {
    pub conversation: &'a str,
    #[serde(flatten)]
    pub event: &'a Event,
}

impl<'a> EventRow<'a> {
    /// Every event of a conversation, in order.
    pub fn all(c: &'a Conversation) -> impl Iterator<Item = EventRow<'a>> + 'a {
        c.events.iter().map(move |event| EventRow { conversation: &c.id, event })
    }
}

/// The file name of an input path, for table cells.
pub fn short_input(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// `file#index` or `file#index.message` of a proof.
pub fn proof_ref(p: &Proof) -> String {
    match p.message {
        Some(m) => format!("{}#{}.{m}", short_input(&p.input), p.index),
        None => format!("{}#{}", short_input(&p.input), p.index),
    }
}

impl Row for EventRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "conversation",
        "time",
        "input",
        "index",
        "message",
        "method",
        "path",
        "status",
        "credential",
        "state_before",
        "state",
        "after_end",
        "evidence",
        "proof_input",
        "proof_index",
    ];
    fn cells(&self) -> Vec<String> {
        let e = self.event;
        vec![
            self.conversation.to_string(),
            time(&e.time),
            e.input.clone(),
            e.index.to_string(),
            e.websocket.as_ref().map(|m| m.message.to_string()).unwrap_or_default(),
            e.method.clone(),
            e.path.clone(),
            opt(&e.status),
            opt(&e.credential),
            e.state_before.to_string(),
            e.state.to_string(),
            e.after_end.to_string(),
            opt(&e.evidence),
            e.proof.as_ref().map(|p| p.input.clone()).unwrap_or_default(),
            e.proof.as_ref().map(|p| p.index.to_string()).unwrap_or_default(),
        ]
    }
    const TABLE: &'static [Col] = &[
        Col::fixed("time"),
        Col::text("input#index"),
        Col::text("actor"),
        Col::text("method"),
        Col::text("path"),
        Col::number("status"),
        Col::text("state"),
        Col::text("note"),
    ];
    fn table_cells(&self) -> Vec<Cell> {
        let e = self.event;
        let changed = e.state_before != e.state;
        let state = if changed { format!("{} → {}", e.state_before, e.state) } else { e.state.to_string() };
        let mut note = Vec::new();
        if e.after_end {
            let before = e.proof_before.as_ref().map(proof_ref).unwrap_or_else(|| "?".into());
            note.push(format!("after end ({} since {before})", e.state_before));
        }
        if let Some(r) = &e.evidence {
            note.push(format!("evidence: {r}"));
        }
        let at = match &e.websocket {
            Some(w) => format!("{}#{}.{}", short_input(&e.input), e.index, w.message),
            None => format!("{}#{}", short_input(&e.input), e.index),
        };
        vec![
            short_time(&e.time).into(),
            at.into(),
            e.credential.as_deref().unwrap_or("-").into(),
            e.method.clone().into(),
            clip(&e.path, 90).into(),
            status_cell(e.status),
            Cell::new(state, if changed { Tone::Warn } else { Tone::Plain }),
            Cell::new(note.join("; "), if e.after_end { Tone::Bad } else { Tone::Plain }),
        ]
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// One input file: format, producer, exchanges, notes.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(transparent)]
pub struct InputRow<'a>(pub &'a Input);

impl Row for InputRow<'_> {
    const COLUMNS: &'static [&'static str] = &["path", "format", "creator", "exchanges", "notes", "error"];
    fn cells(&self) -> Vec<String> {
        let i = self.0;
        vec![
            i.path.clone(),
            opt(&i.format),
            opt(&i.creator),
            i.exchanges.to_string(),
            i.notes.len().to_string(),
            opt(&i.error),
        ]
    }
    const TABLE: &'static [Col] = &[
        Col::text("input"),
        Col::text("format"),
        Col::text("creator"),
        Col::number("exchanges"),
        Col::number("notes"),
    ];
    fn table_cells(&self) -> Vec<Cell> {
        let i = self.0;
        vec![
            i.path.clone().into(),
            i.format.map(|f| f.to_string()).unwrap_or_else(|| "?".into()).into(),
            i.creator.as_deref().unwrap_or("").into(),
            Cell::new(i.exchanges.to_string(), if i.error.is_some() { Tone::Bad } else { Tone::Plain }),
            i.notes.len().to_string().into(),
        ]
    }
}
