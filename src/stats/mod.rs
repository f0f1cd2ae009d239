//! Summary statistics over exchanges.
//!
//! Exchanges become flat records (the chosen dimensions as strings, a latency bucket, status
//! indicators and byte counts) folded into partial statistics: one row per (group, latency
//! bucket) seen, so memory grows with the number of groups, not the number of exchanges.
//! Two engines give the same results: with the cargo feature `polars`, records are gathered in
//! batches of [`BATCH`] rows, each a polars `DataFrame` folded into the running aggregate with
//! the lazy API (`group_by` the dimensions and the latency bucket, `sum` the counts, `max` the
//! latency), and the aggregate can be written as Parquet; without it, a hash map does the same
//! folding (no Parquet). The aggregate is exactly what `harken stats --format parquet`
//! writes ([`Partial`]): partial results from many machines concatenate and re-aggregate the
//! same way ([`Partial::merge`], or SQL in docs/fleet.md), and [`Partial::finish`] computes
//! rates and percentiles from the merged buckets.
//!
//! Percentiles are nearest-rank over the fixed logarithmic buckets of [`bucket`]: the reported
//! value is the largest latency observed in the bucket holding the percentile, never below the
//! exact value and at most one bucket (4.4%) above it; exact whenever the values around the
//! percentile fall in different buckets.

pub mod bucket;
pub mod endpoint;
pub mod export;
#[cfg(feature = "polars")]
mod frame;
#[cfg(not(feature = "polars"))]
mod map;
pub mod source;
pub mod summary;
pub mod table;

#[cfg(feature = "polars")]
pub use frame::{Aggregator, Partial};
#[cfg(not(feature = "polars"))]
pub use map::{Aggregator, Partial};

use anyhow::{bail, Context as _};

/// Rows per batch handed to polars.
pub const BATCH: usize = 64 * 1024;

/// Version of the partial-statistics schema (Parquet key `harken.stats.schema`, docs/output.md).
pub const SCHEMA_VERSION: &str = "1";

/// What statistics can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dim {
    /// The catalog's operation template, or a template inferred by collapsing ids.
    Endpoint,
    Method,
    /// Response status code (`none` when no response was captured).
    Status,
    Host,
    /// The primary credential as `kind:fingerprint`.
    Credential,
    /// The kind of the primary credential (`jwt`, `opaque`, `basic`...).
    Kind,
    /// How the credential was obtained (`client_credentials`, `authorization_code`...).
    Grant,
    /// The OAuth client id of the credential.
    Client,
    /// Who the credential acts for (its `sub`, or organization).
    Identity,
    /// The diagnosed cause of a 401/403.
    Cause,
    Conversation,
    /// The input file.
    Input,
    /// Start of the time bucket (`--every`).
    Time,
}

pub const ALL_DIMS: [Dim; 13] = [
    Dim::Endpoint,
    Dim::Method,
    Dim::Status,
    Dim::Host,
    Dim::Credential,
    Dim::Kind,
    Dim::Grant,
    Dim::Client,
    Dim::Identity,
    Dim::Cause,
    Dim::Conversation,
    Dim::Input,
    Dim::Time,
];

impl Dim {
    pub fn name(self) -> &'static str {
        match self {
            Dim::Endpoint => "endpoint",
            Dim::Method => "method",
            Dim::Status => "status",
            Dim::Host => "host",
            Dim::Credential => "credential",
            Dim::Kind => "kind",
            Dim::Grant => "grant",
            Dim::Client => "client",
            Dim::Identity => "identity",
            Dim::Cause => "cause",
            Dim::Conversation => "conversation",
            Dim::Input => "input",
            Dim::Time => "time",
        }
    }

    pub fn parse(s: &str) -> anyhow::Result<Dim> {
        let s = s.trim().to_ascii_lowercase();
        match ALL_DIMS.iter().find(|d| d.name() == s) {
            Some(d) => Ok(*d),
            None => {
                let names: Vec<&str> = ALL_DIMS.iter().map(|d| d.name()).collect();
                bail!("--by: unknown dimension {s:?}; one of {}", names.join(", "))
            }
        }
    }

    /// A comma-separated list, without repeats.
    pub fn parse_list(s: &str) -> anyhow::Result<Vec<Dim>> {
        let mut out = Vec::new();
        for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let d = Dim::parse(p)?;
            if !out.contains(&d) {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Whether the value comes from the analysis (tokens, conversations, diagnosis) rather than
    /// from the exchange alone.
    pub fn needs_analysis(self) -> bool {
        matches!(self, Dim::Grant | Dim::Client | Dim::Identity | Dim::Cause | Dim::Conversation)
    }
}

/// Time buckets for [`Dim::Time`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Every {
    pub seconds: i64,
}

impl Every {
    pub fn parse(s: &str) -> anyhow::Result<Every> {
        let s = s.trim();
        let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
        let n: i64 = if num.is_empty() { 1 } else { num.parse().context("--every")? };
        let unit = match unit {
            "s" => 1,
            "m" | "min" => 60,
            "h" => 3600,
            "d" => 86400,
            _ => bail!("--every: {s:?} is not a period such as 1m, 5m, 1h or 1d"),
        };
        if n <= 0 || n > 366 * 86400 / unit {
            bail!("--every: {s:?} is out of range");
        }
        Ok(Every { seconds: n * unit })
    }

    /// The start of the bucket holding `t`, as RFC 3339.
    pub fn label(self, t: &chrono::DateTime<chrono::Utc>) -> String {
        let start = t.timestamp().div_euclid(self.seconds) * self.seconds;
        match chrono::DateTime::from_timestamp(start, 0) {
            Some(s) => s.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            None => String::new(),
        }
    }
}

/// One exchange, as statistics see it.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// One value per dimension, in the order of the aggregator's dimensions.
    pub keys: Vec<Option<String>>,
    pub status: Option<u16>,
    /// Request-to-response time, whole microseconds, when the input records one.
    pub latency_us: Option<i64>,
    pub request_bytes: Option<u64>,
    pub response_bytes: Option<u64>,
}

/// The count columns, summed when merging.
pub const COUNTS: [&str; 9] = [
    "exchanges",
    "refused",
    "status_401",
    "status_403",
    "status_4xx",
    "status_5xx",
    "no_response",
    "request_bytes",
    "response_bytes",
];

/// Column names of a partial: the dimensions, `latency_bucket`, [`COUNTS`], `latency_max_us`.
pub fn columns(dims: &[Dim]) -> Vec<String> {
    let mut c: Vec<String> = dims.iter().map(|d| d.name().to_string()).collect();
    c.push("latency_bucket".into());
    c.extend(COUNTS.iter().map(|s| s.to_string()));
    c.push("latency_max_us".into());
    c
}

/// The counts of one record, in [`COUNTS`] order.
pub fn counts_of(r: &Record) -> [i64; 9] {
    let s = r.status.unwrap_or(0);
    let clamp = |v: Option<u64>| i64::try_from(v.unwrap_or(0)).unwrap_or(i64::MAX);
    [
        1,
        (s == 401 || s == 403) as i64,
        (s == 401) as i64,
        (s == 403) as i64,
        (400..500).contains(&s) as i64,
        (500..600).contains(&s) as i64,
        r.status.is_none() as i64,
        clamp(r.request_bytes),
        clamp(r.response_bytes),
    ]
}

/// One partial row: keys, latency bucket, counts in [`COUNTS`] order, latency max in µs.
pub type PartialRow = (Vec<Option<String>>, Option<i32>, [i64; 9], Option<i64>);

/// Per-group totals, rates and percentiles from partial rows `(keys, latency bucket, counts in
/// [`COUNTS`] order, latency max in µs)`, whatever engine produced them.
pub fn finish_rows(rows: impl Iterator<Item = PartialRow>) -> Vec<GroupStats> {
    type Buckets = Vec<(i32, i64, i64)>;
    let mut groups: std::collections::HashMap<Vec<Option<String>>, (GroupStats, Buckets)> =
        std::collections::HashMap::new();
    for (keys, bucket, c, lmax) in rows {
        let g = groups.entry(keys.clone()).or_insert_with(|| (GroupStats::empty(keys), Vec::new()));
        let s = &mut g.0;
        s.exchanges += c[0];
        s.refused += c[1];
        s.status_401 += c[2];
        s.status_403 += c[3];
        s.status_4xx += c[4];
        s.status_5xx += c[5];
        s.no_response += c[6];
        s.request_bytes = s.request_bytes.saturating_add(c[7]);
        s.response_bytes = s.response_bytes.saturating_add(c[8]);
        if let Some(b) = bucket {
            s.timed += c[0];
            g.1.push((b, c[0], lmax.unwrap_or(0)));
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (_, (mut s, mut buckets)) in groups {
        buckets.sort_unstable_by_key(|b| b.0);
        let ms = |us: Option<i64>| us.map(|v| v as f64 / 1000.0);
        s.p50_ms = ms(bucket::percentile(&buckets, 500));
        s.p90_ms = ms(bucket::percentile(&buckets, 900));
        s.p99_ms = ms(bucket::percentile(&buckets, 990));
        s.max_ms = ms(buckets.iter().map(|b| b.2).max());
        s.refused_rate = if s.exchanges > 0 { s.refused as f64 / s.exchanges as f64 } else { 0.0 };
        out.push(s);
    }
    out
}

/// One group's statistics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupStats {
    /// The group's value of each dimension, in `--by` order (`None`: unknown / not applicable).
    pub keys: Vec<Option<String>>,
    pub exchanges: i64,
    /// 401 + 403.
    pub refused: i64,
    pub status_401: i64,
    pub status_403: i64,
    pub status_4xx: i64,
    pub status_5xx: i64,
    pub no_response: i64,
    /// `refused / exchanges`.
    pub refused_rate: f64,
    /// Exchanges with a known latency (the percentiles are over these).
    pub timed: i64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub request_bytes: i64,
    pub response_bytes: i64,
}

impl GroupStats {
    /// A group with nothing counted yet.
    pub fn empty(keys: Vec<Option<String>>) -> GroupStats {
        GroupStats {
            keys,
            exchanges: 0,
            refused: 0,
            status_401: 0,
            status_403: 0,
            status_4xx: 0,
            status_5xx: 0,
            no_response: 0,
            refused_rate: 0.0,
            timed: 0,
            p50_ms: None,
            p90_ms: None,
            p99_ms: None,
            max_ms: None,
            request_bytes: 0,
            response_bytes: 0,
        }
    }
}

/// How groups are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Refused,
    Exchanges,
    Rate,
    P50,
    P90,
    P99,
    Max,
    Bytes,
    /// By the dimension values.
    Key,
}

impl Sort {
    pub const NAMES: [&'static str; 9] = ["refused", "exchanges", "rate", "p50", "p90", "p99", "max", "bytes", "key"];

    pub fn parse(s: &str) -> anyhow::Result<Sort> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "refused" | "failures" => Sort::Refused,
            "exchanges" | "count" => Sort::Exchanges,
            "rate" | "refused_rate" => Sort::Rate,
            "p50" => Sort::P50,
            "p90" => Sort::P90,
            "p99" => Sort::P99,
            "max" => Sort::Max,
            "bytes" => Sort::Bytes,
            "key" | "name" => Sort::Key,
            other => bail!("--sort: {other:?} is not one of {}", Sort::NAMES.join(", ")),
        })
    }

    /// Sort groups: the chosen measure, largest first (keys ascending for `key`), ties by
    /// exchanges then keys, so the order is stable.
    pub fn apply(self, rows: &mut [GroupStats]) {
        let f = |o: Option<f64>| o.unwrap_or(f64::NEG_INFINITY);
        rows.sort_by(|a, b| {
            let primary = match self {
                Sort::Refused => b.refused.cmp(&a.refused),
                Sort::Exchanges => b.exchanges.cmp(&a.exchanges),
                Sort::Rate => b.refused_rate.total_cmp(&a.refused_rate).then(b.refused.cmp(&a.refused)),
                Sort::P50 => f(b.p50_ms).total_cmp(&f(a.p50_ms)),
                Sort::P90 => f(b.p90_ms).total_cmp(&f(a.p90_ms)),
                Sort::P99 => f(b.p99_ms).total_cmp(&f(a.p99_ms)),
                Sort::Max => f(b.max_ms).total_cmp(&f(a.max_ms)),
                Sort::Bytes => (b.request_bytes + b.response_bytes).cmp(&(a.request_bytes + a.response_bytes)),
                Sort::Key => std::cmp::Ordering::Equal,
            };
            primary.then(b.exchanges.cmp(&a.exchanges).then_with(|| a.keys.cmp(&b.keys)))
        });
        if self == Sort::Key {
            rows.sort_by(|a, b| a.keys.cmp(&b.keys));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(k: &str, status: Option<u16>, lat: Option<i64>) -> Record {
        Record { keys: vec![Some(k.into())], status, latency_us: lat, request_bytes: Some(10), response_bytes: Some(5) }
    }

    #[test]
    fn batches_fold_into_groups_and_partials_merge_exactly() {
        let dims = [Dim::Endpoint];
        let mut a = Aggregator::new(&dims);
        let mut b = Aggregator::new(&dims);
        for i in 0..1000i64 {
            let st = if i % 10 == 0 {
                Some(401)
            } else if i % 10 == 1 {
                None
            } else {
                Some(200)
            };
            a.push(rec("/a", st, Some(1000 + i))).unwrap();
            b.push(rec(if i % 2 == 0 { "/a" } else { "/b" }, Some(500), (i % 3 != 0).then_some(50_000 + i))).unwrap();
        }
        let merged = Partial::merge(vec![a.finish().unwrap(), b.finish().unwrap()]).unwrap();
        let mut rows = merged.finish().unwrap();
        Sort::Key.apply(&mut rows);
        assert_eq!(rows.len(), 2);
        let ra = &rows[0];
        assert_eq!(ra.keys, vec![Some("/a".to_string())]);
        assert_eq!(ra.exchanges, 1500);
        assert_eq!(ra.status_401, 100);
        assert_eq!(ra.refused, 100);
        assert_eq!(ra.no_response, 100);
        assert_eq!(ra.status_5xx, 500);
        assert_eq!(ra.request_bytes, 15_000);
        assert_eq!(ra.timed, 1000 + 333);
        assert_eq!(ra.max_ms, Some(50.998));
        assert_eq!(rows[1].exchanges, 500);
    }

    #[test]
    fn untimed_groups_have_no_percentiles() {
        let mut a = Aggregator::new(&[Dim::Host]);
        a.push(rec("h", Some(200), None)).unwrap();
        let rows = a.finish().unwrap().finish().unwrap();
        assert_eq!(rows[0].p50_ms, None);
        assert_eq!(rows[0].max_ms, None);
        assert_eq!(rows[0].timed, 0);
    }

    #[test]
    fn every_labels() {
        let t = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:34:56Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(Every::parse("1h").unwrap().label(&t), "2024-05-01T12:00:00Z");
        assert_eq!(Every::parse("5m").unwrap().label(&t), "2024-05-01T12:30:00Z");
        assert_eq!(Every::parse("1d").unwrap().label(&t), "2024-05-01T00:00:00Z");
        assert!(Every::parse("1y").is_err());
        assert!(Every::parse("0m").is_err());
    }
}
