//! `harken stats`: counts, refusal rates, latency percentiles and bytes, grouped by any of the
//! dimensions of [`crate::stats::Dim`]. See docs/output.md ("stats") and docs/fleet.md.

use super::code;
use crate::analysis;
pub use crate::cli::{StatsArgs, StatsFormat};
use crate::ingest::{BodyPolicy, HeaderPolicy, IngestOptions};
use crate::report::rows::human_size;
use crate::report::{self, table, Cell, Col, Style, Tone};
use crate::settings::report_errors;
use crate::settings::Settings;
use crate::stats::{source, Dim, Every, GroupStats, Partial, Sort};
use std::io::Write;

/// The options of a stats run, validated.
pub struct Plan {
    pub dims: Vec<Dim>,
    pub every: Every,
    pub top: Option<usize>,
    pub sort: Sort,
}

impl Plan {
    pub fn from_args(a: &StatsArgs) -> anyhow::Result<Plan> {
        let mut dims = if a.by.trim().eq_ignore_ascii_case("none") { Vec::new() } else { Dim::parse_list(&a.by)? };
        let every = match &a.every {
            Some(e) => {
                if !dims.contains(&Dim::Time) {
                    dims.insert(0, Dim::Time);
                }
                Every::parse(e)?
            }
            None => Every { seconds: 3600 },
        };
        let top = match (a.top, a.format) {
            (Some(0), _) => None,
            (Some(n), _) => Some(n),
            (None, StatsFormat::Table) => Some(20),
            (None, _) => None,
        };
        Ok(Plan { dims, every, top, sort: Sort::parse(&a.sort)? })
    }
}

pub fn run(a: &StatsArgs, s: &Settings, out: &mut dyn Write) -> anyhow::Result<i32> {
    let plan = Plan::from_args(a)?;
    if a.format == StatsFormat::Parquet {
        // Refused before any input is read or `--output` is created.
        if cfg!(not(feature = "polars")) {
            anyhow::bail!("{}", NO_PARQUET);
        }
        check_not_terminal(a.output.is_none())?;
    }
    let catalog = &s.analysis.catalog;
    // Grouping reads no header beyond the analysis' own (the credential, `Host`): the readers
    // skip the others before any copy.
    let opts =
        s.ingest(IngestOptions { bodies: BodyPolicy::None, headers: HeaderPolicy::Analysis, ..Default::default() });
    let (inputs, partial) = if plan.dims.iter().any(|d| d.needs_analysis()) {
        // Two passes over the files, so that memory holds groups, not exchanges: the analysis
        // folded first (keeping only refused exchanges and token traffic), then each exchange
        // grouped with what the analysis says of it.
        let fold = analysis::Fold::new(&s.analysis, s.paths());
        let kept = analysis::load(&s.files, s.ingest(IngestOptions::default()), &fold);
        let analysis = fold.finish(&kept)?;
        let keys = source::AnalysisKeys::new(&analysis, &kept);
        // Read as in the first pass, so that every exchange has the same origin.
        let opts = s.ingest(IngestOptions { headers: HeaderPolicy::Analysis, ..Default::default() });
        source::stream(&s.files, &plan.dims, catalog, plan.every, &s.window, opts, Some(&keys))?
    } else {
        source::stream(&s.files, &plan.dims, catalog, plan.every, &s.window, opts, None)?
    };
    let failed = report_errors(&inputs);
    let mut file;
    let out: &mut dyn Write = match &a.output {
        Some(p) => {
            file = std::io::BufWriter::new(
                std::fs::File::create(p).map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", p.display()))?,
            );
            &mut file
        }
        None => out,
    };
    render(out, a.format, &plan, &s.style(), &partial)?;
    out.flush()?;
    Ok(code(failed))
}

/// Render statistics in one format.
pub fn render(
    out: &mut dyn Write,
    format: StatsFormat,
    plan: &Plan,
    style: &Style,
    partial: &Partial,
) -> anyhow::Result<()> {
    if format == StatsFormat::Parquet {
        return write_parquet(out, plan, partial);
    }
    let mut groups = partial.finish()?;
    let total = partial.rollup(&[])?.finish()?.pop().unwrap_or_else(|| GroupStats::empty(Vec::new()));
    plan.sort.apply(&mut groups);
    let n_groups = groups.len();
    if let Some(n) = plan.top {
        groups.truncate(n);
    }
    match format {
        StatsFormat::Json => {
            // Written field by field, each group serialized as it is written (a tree of
            // `serde_json::Value`s cost 5 KiB a group: 800 MiB for a log's 113,000 groups).
            let mut o = report::json::Object::new(out)?;
            o.field("dimensions", &plan.dims.iter().map(|d| d.name()).collect::<Vec<_>>())?;
            o.field("groups_total", &n_groups)?;
            let rows: Vec<GroupJson> = groups.iter().map(|g| GroupJson { dims: &plan.dims, g }).collect();
            o.array("groups", &rows)?;
            o.field("total", &GroupJson { dims: &[], g: &total })?;
            o.close()?;
        }
        StatsFormat::Csv => {
            let mut w = report::csv::CsvSink::new(out);
            let mut header: Vec<&str> = plan.dims.iter().map(|d| d.name()).collect();
            header.extend(MEASURES);
            w.record(&header)?;
            for g in &groups {
                let mut rec: Vec<String> = g.keys.iter().map(|k| k.clone().unwrap_or_default()).collect();
                rec.extend(measure_cells(g));
                w.record(&rec)?;
            }
            w.flush()?;
        }
        StatsFormat::Table | StatsFormat::Parquet => write_table(out, plan, style, &groups, n_groups, &total)?,
    }
    Ok(())
}

/// The partial statistics as Parquet (docs/output.md, "Partial statistics").
#[cfg(feature = "polars")]
fn write_parquet(out: &mut dyn Write, plan: &Plan, partial: &Partial) -> anyhow::Result<()> {
    let mut df = partial.parquet_frame()?;
    let dims: Vec<&str> = plan.dims.iter().map(|d| d.name()).collect();
    let dims = dims.join(",");
    let every = plan.every.seconds.to_string();
    let mut meta =
        vec![("harken.stats.schema", crate::stats::SCHEMA_VERSION), ("harken.stats.dimensions", dims.as_str())];
    if plan.dims.contains(&Dim::Time) {
        meta.push(("harken.stats.every_seconds", every.as_str()));
    }
    report::parquet::write(out, &mut df, &meta)
}

#[cfg(not(feature = "polars"))]
fn write_parquet(_: &mut dyn Write, _: &Plan, _: &Partial) -> anyhow::Result<()> {
    anyhow::bail!("{}", NO_PARQUET)
}

/// Why Parquet is refused by a build without polars.
pub const NO_PARQUET: &str =
    "this harken was built without Parquet support (cargo feature `polars`): use --format json or csv";

/// Refuse to write binary output to a terminal.
pub fn check_not_terminal(to_stdout: bool) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if to_stdout && std::io::stdout().is_terminal() {
        anyhow::bail!("Parquet is binary: redirect standard output to a file, or give --output FILE");
    }
    Ok(())
}

/// Measure columns of JSON and CSV, in order.
pub const MEASURES: [&str; 16] = [
    "exchanges",
    "refused",
    "refused_rate",
    "status_401",
    "status_403",
    "status_4xx",
    "status_5xx",
    "no_response",
    "timed",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "max_ms",
    "request_bytes",
    "response_bytes",
    "failure_rate_4xx_5xx",
];

fn rate(n: i64, d: i64) -> f64 {
    if d > 0 {
        n as f64 / d as f64
    } else {
        0.0
    }
}

fn measure_cells(g: &GroupStats) -> Vec<String> {
    let o = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    vec![
        g.exchanges.to_string(),
        g.refused.to_string(),
        format!("{:.6}", g.refused_rate),
        g.status_401.to_string(),
        g.status_403.to_string(),
        g.status_4xx.to_string(),
        g.status_5xx.to_string(),
        g.no_response.to_string(),
        g.timed.to_string(),
        o(g.p50_ms),
        o(g.p90_ms),
        o(g.p99_ms),
        o(g.max_ms),
        g.request_bytes.to_string(),
        g.response_bytes.to_string(),
        format!("{:.6}", rate(g.status_4xx + g.status_5xx, g.exchanges)),
    ]
}

/// One group as JSON: its dimensions by name, then the measures (docs/output.md, "stats").
struct GroupJson<'a> {
    dims: &'a [Dim],
    g: &'a GroupStats,
}

impl serde::Serialize for GroupJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let g = self.g;
        let mut m = s.serialize_map(Some(self.dims.len() + 16))?;
        for (d, k) in self.dims.iter().zip(&g.keys) {
            m.serialize_entry(d.name(), k)?;
        }
        m.serialize_entry("exchanges", &g.exchanges)?;
        m.serialize_entry("refused", &g.refused)?;
        m.serialize_entry("refused_rate", &g.refused_rate)?;
        m.serialize_entry("status_401", &g.status_401)?;
        m.serialize_entry("status_403", &g.status_403)?;
        m.serialize_entry("status_4xx", &g.status_4xx)?;
        m.serialize_entry("status_5xx", &g.status_5xx)?;
        m.serialize_entry("no_response", &g.no_response)?;
        m.serialize_entry("timed", &g.timed)?;
        m.serialize_entry("p50_ms", &g.p50_ms)?;
        m.serialize_entry("p90_ms", &g.p90_ms)?;
        m.serialize_entry("p99_ms", &g.p99_ms)?;
        m.serialize_entry("max_ms", &g.max_ms)?;
        m.serialize_entry("request_bytes", &g.request_bytes)?;
        m.serialize_entry("response_bytes", &g.response_bytes)?;
        m.serialize_entry("failure_rate_4xx_5xx", &rate(g.status_4xx + g.status_5xx, g.exchanges))?;
        m.end()
    }
}

fn ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x < 10.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.0}"),
    }
}

fn pct(n: i64, d: i64) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * n as f64 / d as f64)
    }
}

fn write_table(
    out: &mut dyn Write,
    plan: &Plan,
    style: &Style,
    groups: &[GroupStats],
    n_groups: usize,
    tot: &GroupStats,
) -> anyhow::Result<()> {
    let mut cols: Vec<Col> = plan.dims.iter().map(|d| Col::text(d.name())).collect();
    for m in ["exchanges", "401", "403", "refused", "4xx", "5xx", "p50 ms", "p90 ms", "p99 ms", "max ms", "bytes"] {
        cols.push(Col::number(m));
    }
    let mut t = table::new(&cols, style);
    for g in groups {
        let mut row: Vec<Cell> = g
            .keys
            .iter()
            .map(|k| Cell::from(k.as_deref().map(|s| table::clip(s, 60)).unwrap_or_else(|| "-".into())))
            .collect();
        let tone = |n: i64, bad: Tone| if n > 0 { bad } else { Tone::Plain };
        row.extend([
            Cell::from(g.exchanges.to_string()),
            Cell::new(g.status_401.to_string(), tone(g.status_401, Tone::Bad)),
            Cell::new(g.status_403.to_string(), tone(g.status_403, Tone::Bad)),
            Cell::new(pct(g.refused, g.exchanges), tone(g.refused, Tone::Bad)),
            Cell::new(pct(g.status_4xx, g.exchanges), tone(g.status_4xx, Tone::Warn)),
            Cell::new(pct(g.status_5xx, g.exchanges), tone(g.status_5xx, Tone::Bad)),
            Cell::from(ms(g.p50_ms)),
            Cell::from(ms(g.p90_ms)),
            Cell::from(ms(g.p99_ms)),
            Cell::from(ms(g.max_ms)),
            Cell::from(human_size(u64::try_from(g.request_bytes.saturating_add(g.response_bytes)).unwrap_or(0))),
        ]);
        table::add(&mut t, &row, style);
    }
    if !groups.is_empty() {
        writeln!(out, "{t}")?;
    }
    if groups.len() < n_groups {
        writeln!(out, "{} of {n_groups} groups shown (--top 0 for all)", groups.len())?;
    }
    writeln!(
        out,
        "{} exchanges: {} refused ({}; 401: {}, 403: {}), 5xx {}; {} with a latency (p50 {} ms, p90 {} ms, p99 {} ms)",
        tot.exchanges,
        tot.refused,
        pct(tot.refused, tot.exchanges),
        tot.status_401,
        tot.status_403,
        pct(tot.status_5xx, tot.exchanges),
        tot.timed,
        ms(tot.p50_ms),
        ms(tot.p90_ms),
        ms(tot.p99_ms),
    )?;
    Ok(())
}
