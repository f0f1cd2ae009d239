//! The borrowed parts of an exchange's row ([`RowParts`]): what `harken exchanges` needs of an
//! exchange, given by an [`Exchange`] or straight by an access-log record (which then builds no
//! exchange). A leaf beside [`crate::model`], so that readers (src/ingest/) can give rows'
//! parts without depending on the renderers (src/report/rows.rs makes the rows).

use crate::model::{Exchange, Note, Origin};
use chrono::{DateTime, Utc};
use std::borrow::Cow;

/// What an exchange row is made of, borrowed: from an [`Exchange`] ([`RowParts::of`]) or
/// straight from an access-log record (`crate::ingest::logs::Record::row_parts`), so that
/// `exchanges` writes a log line's row without building its exchange. [`RowRef::new`] makes
/// the row of either (masking, host and path), so both give the same row.
#[derive(Debug, Clone)]
pub struct RowParts<'a> {
    pub origin: Origin,
    pub started: DateTime<Utc>,
    pub method: &'a str,
    pub url: Cow<'a, str>,
    /// The `Host` (or `:authority`) header: the host of a URL that has none.
    pub host_header: Option<&'a str>,
    pub status: Option<u16>,
    /// The response's version, or the request's when the response has none.
    pub http_version: &'a str,
    pub duration_ms: Option<f64>,
    /// The response body's size.
    pub size: Option<u64>,
    pub notes: Notes<'a>,
}

/// The note codes of a row.
#[derive(Debug, Clone, Copy)]
pub enum Notes<'a> {
    /// An exchange's notes.
    Of(&'a [Note]),
    /// An access-log record's: `log.no_time` when the line had no time, then one `log.detail`
    /// per detail (as `Record::into_exchange` notes them).
    Log { no_time: bool, details: usize },
}

impl Notes<'_> {
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        let (of, no_time, details) = match *self {
            Notes::Of(n) => (n, false, 0),
            Notes::Log { no_time, details } => (&[][..], no_time, details),
        };
        of.iter()
            .map(|n| n.code.as_str())
            .chain(no_time.then_some("log.no_time"))
            .chain(std::iter::repeat_n("log.detail", details))
    }
}

impl<'a> RowParts<'a> {
    /// The parts of an exchange's row.
    pub fn of(ex: &'a Exchange) -> RowParts<'a> {
        RowParts {
            origin: ex.origin,
            started: ex.started,
            method: &ex.request.method,
            url: Cow::Borrowed(&ex.request.url),
            host_header: ex.request.host_header(),
            status: ex.status(),
            http_version: ex
                .response
                .as_ref()
                .map(|r| r.http_version.as_str())
                .filter(|v| !v.is_empty())
                .unwrap_or(&ex.request.http_version),
            duration_ms: ex.duration_ms,
            size: ex.response_size(),
            notes: Notes::Of(&ex.notes),
        }
    }

    /// The row's host and path ([`crate::model::host_and_path`]).
    pub fn host_and_path(&self) -> (Cow<'_, str>, Cow<'_, str>) {
        crate::model::host_and_path(&self.url, self.host_header)
    }
}
