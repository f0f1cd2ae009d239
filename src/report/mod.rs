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

/// Serialize a time exactly as chrono's `Serialize` for `DateTime<Utc>` writes it (RFC 3339,
/// `AutoSi`: no fraction or 3, 6 or 9 digits; `Z`), built in a stack buffer and handed over
/// as one string: chrono's formatter writes it in a dozen small pieces, each through the
/// escaping writer (3% of `analyze --format json` on the 1 GB HAR, one token row per
/// request). Years outside 0..=9999 and leap seconds take chrono's own path.
pub fn serialize_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 30];
    match auto_si(t, &mut buf) {
        Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
        None => t.serialize(s),
    }
}

/// [`serialize_time`] for an optional time (`#[serde(serialize_with = ...)]`): `None` as
/// chrono's `Option` writes it.
pub fn serialize_opt_time<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    struct Time<'a>(&'a DateTime<Utc>);
    impl Serialize for Time<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_time(self.0, s)
        }
    }
    match t {
        Some(t) => s.serialize_some(&Time(t)),
        None => s.serialize_none(),
    }
}

/// `2024-05-01T12:00:00.123Z` into `buf`: its length, or `None` where chrono's path is needed.
fn auto_si(t: &DateTime<Utc>, buf: &mut [u8; 30]) -> Option<usize> {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let mut put = |at: usize, v: u32, digits: usize| {
        let mut v = v;
        for k in (at..at + digits).rev() {
            buf[k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, t.month(), 2);
    put(8, t.day(), 2);
    put(11, t.hour(), 2);
    put(14, t.minute(), 2);
    put(17, t.second(), 2);
    let (frac, digits) = if nanos == 0 {
        (0, 0)
    } else if nanos.is_multiple_of(1_000_000) {
        (nanos / 1_000_000, 3)
    } else if nanos.is_multiple_of(1000) {
        (nanos / 1000, 6)
    } else {
        (nanos, 9)
    };
    if digits > 0 {
        put(20, frac, digits);
    }
    buf[4] = b'-';
    buf[7] = b'-';
    buf[10] = b'T';
    buf[13] = b':';
    buf[16] = b':';
    let mut n = 19;
    if digits > 0 {
        buf[19] = b'.';
        n = 20 + digits;
    }
    buf[n] = b'Z';
    Some(n + 1)
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
    fn serialize_time_is_chronos_serialize() {
        // Every fraction form, both ends of the fast path's years, a leap second, and years
        // chrono writes with a sign; through serde_json as a value and inside an option.
        let base = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 58).unwrap();
        let mut times: Vec<DateTime<Utc>> =
            [0i64, 1, 10, 999, 1000, 1_000_000, 120_000_000, 999_999_999, 1_500_000_000]
                .iter()
                .map(|n| base + chrono::Duration::nanoseconds(*n))
                .collect();
        times.push(DateTime::UNIX_EPOCH);
        times.push(DateTime::UNIX_EPOCH - chrono::Duration::milliseconds(500));
        times.push(Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap());
        times.push(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap() + chrono::Duration::nanoseconds(7));
        times.push(Utc.with_ymd_and_hms(12000, 5, 6, 7, 8, 9).unwrap());
        times.push(Utc.with_ymd_and_hms(-3, 5, 6, 7, 8, 9).unwrap());
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_nano_opt(23, 59, 59, 1_250_000_000);
        times.push(leap.unwrap().and_utc());
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = (x % 400_000_000_000) as i64 - 62_000_000_000;
            let nanos = [
                0,
                (x >> 40) as u32 % 1000 * 1_000_000,
                (x >> 40) as u32 % 1_000_000 * 1000,
                (x >> 34) as u32 % 1_000_000_000,
            ][(x >> 60) as usize % 4];
            times.push(DateTime::from_timestamp(secs, nanos).unwrap());
        }
        struct Via<'a>(&'a Option<DateTime<Utc>>);
        impl serde::Serialize for Via<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                super::serialize_opt_time(self.0, s)
            }
        }
        for t in times {
            let chrono = serde_json::to_string(&t).unwrap();
            let mut ours = Vec::new();
            super::serialize_time(&t, &mut serde_json::Serializer::new(&mut ours)).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), chrono, "{t:?}");
            assert_eq!(serde_json::to_string(&Via(&Some(t))).unwrap(), chrono);
        }
        assert_eq!(serde_json::to_string(&Via(&None)).unwrap(), "null");
    }

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
