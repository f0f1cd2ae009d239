//! `harken analyze`: the main job. A summary of the inputs, then every 401/403 explained.

use super::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::analysis::{self, Analysis};
use crate::cli::{AnalyzeArgs, OutputFormat};
use crate::diagnose::{Context, Finding, Pending};
use crate::ingest::IngestOptions;
use crate::model::Exchange;
use crate::model::{Capture, Input, Level, Note};
use crate::report::escape::escape;
use crate::report::rows::{FindingRow, InputRow};
use crate::report::{self, json, Format, Style};
use crate::settings::{report_errors, Settings, Window};
use crate::stats::{source::Keys, Aggregator, Every};
use crate::timeline::Conversation;
use crate::token::Credential;
use crate::token::{ClockSkew, Token};
use anyhow::bail;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

/// The JSON document of `harken analyze --format json` (docs/output.md), but for its last
/// field, `findings`, which [`Report::write_json`] writes as they are made.
#[derive(Serialize)]
pub struct Report<'a> {
    pub inputs: &'a [Input],
    /// Total number of exchanges over all inputs.
    pub exchanges: usize,
    /// Response status → count; requests without a response are counted under `none`.
    pub statuses: BTreeMap<String, usize>,
    /// Notes that belong to no single input.
    pub notes: &'a [Note],
    /// Number of exchanges that carry notes of their own.
    pub exchanges_with_notes: usize,
    pub tokens: &'a [Token],
    /// Server clock minus capture clock, estimated from response `Date` headers.
    pub clock_skew: Option<&'a ClockSkew>,
    pub conversations: &'a [Conversation],
}

/// The document for a capture and its analysis, but its findings.
pub fn report<'a>(capture: &'a Capture, analysis: &'a Analysis) -> Report<'a> {
    Report {
        inputs: &capture.inputs,
        exchanges: analysis.counts.exchanges,
        statuses: analysis.counts.by_name(),
        notes: &capture.notes,
        exchanges_with_notes: analysis.counts.with_notes,
        tokens: &analysis.tokens.tokens,
        clock_skew: analysis.tokens.clock_skew.as_ref(),
        conversations: &analysis.timeline.conversations,
    }
}

impl Report<'_> {
    /// The document as [`json::write_document`] writes it, with the token and finding arrays
    /// rendered on both cores ([`json::Object`]); `findings` writes the last field's elements.
    /// Keep the fields in the struct's order.
    pub fn write_json(
        &self,
        out: &mut dyn Write,
        findings: impl FnOnce(&mut json::ArrayOut) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let mut o = json::Object::new(out)?;
        o.field("inputs", self.inputs)?;
        o.field("exchanges", &self.exchanges)?;
        o.field("statuses", &self.statuses)?;
        o.field("notes", self.notes)?;
        o.field("exchanges_with_notes", &self.exchanges_with_notes)?;
        o.array("tokens", self.tokens)?;
        o.field("clock_skew", &self.clock_skew)?;
        o.array("conversations", self.conversations)?;
        let mut a = o.array_open("findings")?;
        findings(&mut a)?;
        a.close()?;
        o.close()
    }
}

/// The findings of a pending diagnosis in the time window, a batch at a time.
struct Batches<'a> {
    pending: Option<&'a Pending>,
    cx: &'a Context<'a>,
    window: &'a Window,
}

impl Batches<'_> {
    /// Each batch through `map` (on the thread that made it), then `sink` (in order).
    fn each<R: Send>(
        &self,
        map: impl Fn(Vec<Finding>) -> R + Sync,
        sink: impl FnMut(R) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let Some(p) = self.pending else { return Ok(()) };
        p.each(
            self.cx,
            |mut batch| {
                batch.retain(|f| self.window.contains(f.time));
                map(batch)
            },
            sink,
        )
    }
}

/// Which finding statuses make the run exit 1.
fn fail_on(spec: &str) -> anyhow::Result<Option<Vec<u16>>> {
    if spec.trim().eq_ignore_ascii_case("any") {
        return Ok(None);
    }
    spec.split(',')
        .map(|s| match s.trim().parse::<u16>() {
            Ok(c) => Ok(c),
            Err(_) => bail!("--fail-on: {:?} is not a status code; use a list like 401,403 or `any`", escape(s)),
        })
        .collect::<anyhow::Result<Vec<u16>>>()
        .map(Some)
}

pub fn run(a: &AnalyzeArgs, s: &Settings, out: &mut dyn Write) -> anyhow::Result<i32> {
    let fail = a.fail_on.as_deref().map(fail_on).transpose()?;
    let paths = s.paths();
    // The table ends with the statistics that matter for its findings (src/stats/summary.rs),
    // gathered while the analysis reads.
    let dims = crate::stats::summary::DIMS;
    let keys = Keys {
        dims: &dims,
        catalog: &s.analysis.catalog,
        every: Every { seconds: 3600 },
        paths: &paths,
        analysis: None,
    };
    let summary = Mutex::new(Some(Aggregator::new(&dims)));
    let gather = |ex: &Exchange, primary: Option<&Credential>| {
        if s.window.contains(ex.started) {
            let r = keys.record_knowing(ex, Some(primary));
            let mut agg = summary.lock().unwrap_or_else(|e| e.into_inner());
            // Statistics that cannot be gathered are left out of the summary.
            if agg.as_mut().is_some_and(|a| a.push(r).is_err()) {
                *agg = None;
            }
        }
    };
    let mut fold = analysis::Fold::new(&s.analysis, paths.clone());
    if a.format == OutputFormat::Table {
        fold = fold.also(&gather);
    }
    let capture = analysis::load(&s.files, s.ingest(IngestOptions::default()), &fold);
    let failed = report_errors(&capture.inputs);
    let (analysis, pending) = fold.resolve(&capture)?;
    let summary = summary.into_inner().unwrap_or_else(|e| e.into_inner()).and_then(|a| a.finish().ok());
    let cx = analysis.context(&capture, &s.analysis);
    let style = s.style();
    // Whether a finding makes the run exit 1.
    let fails = |f: &Finding| match &fail {
        None => false,
        Some(None) => true,
        Some(Some(codes)) => codes.contains(&f.status),
    };
    let mut hit = false;
    // The findings in the window are made a batch at a time on both cores and written in
    // capture order as they come: only the table holds them all (it sizes its columns).
    let batches = Batches { pending: pending.as_ref(), cx: &cx, window: &s.window };
    match a.format {
        OutputFormat::Json => report(&capture, &analysis).write_json(out, |array| {
            batches.each(
                |batch| (batch.iter().any(fails), json::render_elements(batch.iter().map(FindingRow))),
                |(h, rendered)| {
                    hit |= h;
                    array.write(&rendered?)
                },
            )
        })?,
        OutputFormat::Table => {
            let mut findings = Vec::new();
            batches.each(
                |batch| batch,
                |batch| {
                    findings.extend(batch);
                    std::io::Result::Ok(())
                },
            )?;
            hit = findings.iter().any(fails);
            let findings: Vec<&Finding> = findings.iter().collect();
            write_table(out, &capture, &analysis, &findings, &style)?;
            if let Some(partial) = summary.as_ref().filter(|_| !findings.is_empty()) {
                // The statistics that matter for the findings (src/stats/summary.rs).
                let top = crate::stats::summary::refusals(partial, 5)?;
                let lines = crate::stats::summary::lines(&top);
                if !lines.is_empty() {
                    writeln!(out, "\n{}", lines.join("\n"))?;
                }
            }
        }
        f => {
            let format = Format::from(f);
            // The header (CSV), then each batch's rows rendered where it was made.
            report::render(format, out, &style, std::iter::empty::<FindingRow>())?;
            batches.each(
                |batch| (batch.iter().any(fails), report::render_bytes(format, batch.iter().map(FindingRow))),
                |(h, rendered)| {
                    hit |= h;
                    out.write_all(&rendered?)
                },
            )?;
        }
    }
    // The process ends right after: freeing every token and exchange one by one cost 2-3% of
    // the run on one thread. The memory goes back with the process.
    std::mem::forget(pending);
    std::mem::forget(analysis);
    std::mem::forget(capture);
    if failed {
        return Ok(EXIT_ERROR);
    }
    Ok(if hit { EXIT_FINDINGS } else { EXIT_OK })
}

fn write_table(
    out: &mut dyn Write,
    capture: &Capture,
    analysis: &Analysis,
    findings: &[&Finding],
    style: &Style,
) -> anyhow::Result<()> {
    report::render(Format::Table, out, style, capture.inputs.iter().map(InputRow))?;
    let st: Vec<String> = analysis.counts.by_name().into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
    writeln!(
        out,
        "{} exchanges; statuses {}",
        analysis.counts.exchanges,
        if st.is_empty() { "-".into() } else { st.join(", ") }
    )?;
    write_notes(out, capture)?;
    if findings.is_empty() {
        if analysis.counts.refused() == 0 {
            writeln!(out, "\nNo request was refused (no 401 or 403).")?;
        }
        return Ok(());
    }
    writeln!(out, "\nFindings:")?;
    report::render(Format::Table, out, style, findings.iter().map(|f| FindingRow(f)))?;
    for (n, f) in findings.iter().enumerate() {
        writeln!(
            out,
            "\n#{} {} {} → {} ({}#{})",
            n + 1,
            escape(&f.method),
            escape(&f.url),
            f.status,
            escape(&f.input),
            f.index
        )?;
        for e in &f.evidence {
            writeln!(out, "  evidence {}#{}: {}", escape(&e.input), e.index, escape(&e.fact))?;
        }
        writeln!(out, "  fix: {}", escape(&f.fix))?;
    }
    Ok(())
}

/// Warnings and errors in full (up to 20), info notes counted by code on one line each; where
/// the rest is.
fn write_notes(out: &mut dyn Write, capture: &Capture) -> anyhow::Result<()> {
    let all: Vec<(&str, &Note)> = capture
        .inputs
        .iter()
        .flat_map(|i| i.notes.iter().map(move |n| (i.path.as_str(), n)))
        .chain(capture.notes.iter().map(|n| ("", n)))
        .collect();
    if all.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nNotes:")?;
    let serious: Vec<&(&str, &Note)> = all.iter().filter(|(_, n)| n.level >= Level::Warning).collect();
    for (path, n) in serious.iter().take(20) {
        let at = if path.is_empty() { String::new() } else { format!("{} ", escape(path)) };
        writeln!(out, "  {at}[{}] {}: {}", escape(&n.code), level(n.level), escape(&n.message))?;
    }
    let mut info: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
    for (_, n) in all.iter().filter(|(_, n)| n.level < Level::Warning) {
        info.entry(&n.code).or_insert((0, &n.message)).0 += 1;
    }
    for (code, (count, first)) in &info {
        let times = if *count > 1 { format!(" (×{count})") } else { String::new() };
        writeln!(out, "  [{}] info{times}: {}", escape(code), escape(&report::table::clip(first, 100)))?;
    }
    let hidden = serious.len().saturating_sub(20);
    if hidden > 0 || info.values().any(|(c, _)| *c > 1) {
        let more = if hidden > 0 { format!("{hidden} more warnings; ") } else { String::new() };
        writeln!(out, "  ({more}every note with its position: --format json, `inputs[].notes`)")?;
    }
    Ok(())
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}
