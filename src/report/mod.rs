//! Output: rows, renderers and the one escape boundary.
//!
//! # The pieces
//! - [`escape`]: the one escape boundary. Terminal and CSV text goes through
//!   [`escape::escape`]; JSON goes through [`escape::to_writer`] (a `serde_json` formatter
//!   that writes dangerous characters as `\uXXXX`). Renderers call them; commands never do.
//! - [`rows`]: one row type per concept, defined once: [`rows::ExchangeRow`],
//!   [`rows::FindingRow`], [`rows::TokenRow`], [`rows::EventRow`], [`rows::InputRow`]. Rows are
//!   built from the model and the analysis with secrets already masked (unless
//!   `--show-secrets`), and hold raw captured text: escaping is the renderer's job.
//! - Renderers, one per format, each a [`Sink`] writing to a `&mut dyn Write`: [`table`],
//!   [`json`] (one array), [`ndjson`] and [`csv`]. ndjson and csv stream (one row in, one
//!   line out); json streams its array; a table needs every row to size its columns.
//!
//! # Writing rows
//! ```ignore
//! let mut sink = report::sink::<ExchangeRow>(Format::Ndjson, out, &settings.style());
//! for row in rows { sink.row(&row)?; }
//! sink.finish()?;
//! ```
//! Whole documents (e.g. `analyze --format json`) go through [`json::write_document`] and
//! [`ndjson::write_line`], which escape the same way.
//!
//! # Adding a row type
//! Define the struct in [`rows`] (derive `Serialize`: that is its JSON), implement [`Row`]:
//! `COLUMNS` + `cells` (every field, flat, for CSV and exports) and `TABLE` + `table_cells`
//! (what a terminal shows, with [`Tone`]s for colour). Build it from the model with masking
//! applied. Every renderer then handles it.
//!
//! # Adding a renderer
//! Add `src/report/<format>.rs` with a type implementing [`Sink<R>`] for every `R: Row`
//! (write each row as it comes when the format allows), a [`Format`] variant, and one arm in
//! [`sink`]. Pass every captured string through [`escape`]; nothing else is needed.

pub mod csv;
pub mod escape;
pub mod html;
pub mod json;
pub mod markdown;
pub mod ndjson;
#[cfg(feature = "polars")]
pub mod parquet;
pub mod rows;
pub mod table;
pub mod ticket;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::io::{self, Write};

pub use rows::{Cell, Col, Row, Tone};

/// The row formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Ndjson,
    Csv,
}

impl From<crate::cli::OutputFormat> for Format {
    fn from(f: crate::cli::OutputFormat) -> Format {
        use crate::cli::OutputFormat as O;
        match f {
            O::Table => Format::Table,
            O::Json => Format::Json,
            O::Ndjson => Format::Ndjson,
            O::Csv => Format::Csv,
        }
    }
}

/// How to draw: colour (decided once in [`crate::settings::Settings`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
}

/// A renderer receiving rows one by one.
pub trait Sink<R: Row> {
    /// Write (or, for tables, keep) one row.
    fn row(&mut self, row: &R) -> io::Result<()>;
    /// Write what is left (a table, the closing `]`) and flush.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// The renderer for `format`, writing to `out`.
pub fn sink<'w, R: Row + 'w>(format: Format, out: &'w mut dyn Write, style: &Style) -> Box<dyn Sink<R> + 'w> {
    match format {
        Format::Table => Box::new(table::TableSink::new(out, style)),
        Format::Json => Box::new(json::ArraySink::new(out)),
        Format::Ndjson => Box::new(ndjson::LineSink::new(out)),
        Format::Csv => Box::new(csv::CsvSink::new(out)),
    }
}

/// Render every row of `rows` in `format`; returns how many.
pub fn render<R: Row>(
    format: Format,
    out: &mut dyn Write,
    style: &Style,
    rows: impl IntoIterator<Item = R>,
) -> io::Result<usize> {
    let mut s = sink::<R>(format, out, style);
    let mut n = 0;
    for r in rows {
        s.row(&r)?;
        n += 1;
    }
    s.finish()?;
    Ok(n)
}

/// `rows` as CSV (the records, without the header) or else NDJSON writes them, as bytes, on
/// any thread: for a command that renders batches of rows in parallel and writes them in
/// order after [`render`] wrote the start of an empty output (the CSV header). Whole
/// documents and tables are not made of such pieces: render those with [`render`].
pub fn render_bytes<R: Row>(format: Format, rows: impl IntoIterator<Item = R>) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut s: Box<dyn Sink<R> + '_> = match format {
        Format::Csv => Box::new(csv::CsvSink::headless(&mut buf)),
        Format::Ndjson | Format::Json | Format::Table => Box::new(ndjson::LineSink::new(&mut buf)),
    };
    for r in rows {
        s.row(&r)?;
    }
    s.finish()?;
    Ok(buf)
}

/// RFC 3339 with microseconds, UTC (`2024-05-01T12:00:00.123456Z`).
pub fn time(t: &DateTime<Utc>) -> String {
    let mut v = Vec::with_capacity(27);
    push_time(&mut v, t);
    String::from_utf8(v).unwrap_or_default()
}

/// [`time`], appended to a buffer (the hand-written row writer's form).
pub fn push_time(out: &mut impl bytes::BufMut, t: &DateTime<Utc>) {
    use chrono::Timelike;
    // Rows come in time order, many in the same second (an access log): the part up to the
    // seconds is formatted once per second and thread. Leap seconds take chrono's own path.
    thread_local!(static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) });
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        out.put_slice(t.to_rfc3339_opts(SecondsFormat::Micros, true).as_bytes());
        return;
    }
    LAST.with_borrow_mut(|(secs, head)| {
        if *secs != t.timestamp() {
            *head = t.to_rfc3339_opts(SecondsFormat::Secs, true);
            head.pop(); // the `Z`
            *secs = t.timestamp();
        }
        out.put_slice(head.as_bytes());
    });
    let mut micros = nanos / 1000;
    let mut frac = *b".000000Z";
    for d in frac[1..7].iter_mut().rev() {
        *d = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    out.put_slice(&frac);
}

/// Short time for tables (`2024-05-01 12:00:00.123`).
pub fn short_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// Write one value as an indented JSON document followed by a newline (escaped).
pub fn write_json(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    json::write_document(out, value)
}

/// Write one value as one JSON line (escaped).
pub fn write_json_line(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    ndjson::write_line(out, value)
}

/// A `serde_json` error as an I/O error (keeps the I/O error, e.g. a closed pipe, when it was one).
pub(crate) fn json_io(e: serde_json::Error) -> io::Error {
    match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::new(io::ErrorKind::InvalidData, e),
    }
}

#[cfg(test)]
mod time_tests {
    use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

    #[test]
    fn time_is_chronos_rfc3339_with_micros() {
        let base = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let mut times: Vec<DateTime<Utc>> =
            [0i64, 1, 999, 1_000_000, 999_999_999].iter().map(|n| base + chrono::Duration::nanoseconds(*n)).collect();
        times.push(DateTime::UNIX_EPOCH - chrono::Duration::milliseconds(500));
        times.push(Utc.with_ymd_and_hms(12000, 5, 6, 7, 8, 9).unwrap());
        times.push(base);
        for t in times {
            assert_eq!(super::time(&t), t.to_rfc3339_opts(SecondsFormat::Micros, true));
        }
    }
}
