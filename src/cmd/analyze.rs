//! `harken analyze`: the main job. A summary of the inputs, then every 401/403 explained.

use super::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::analysis::{self, Analysis};
use crate::cli::{AnalyzeArgs, OutputFormat};
use crate::diagnose::Finding;
use crate::ingest::IngestOptions;
use crate::model::Exchange;
use crate::model::{Capture, Input, Level, Note};
use crate::report::escape::escape;
use crate::report::rows::{FindingRow, InputRow};
use crate::report::{self, json, Format, Style};
use crate::settings::{report_errors, Settings};
use crate::stats::{source::Keys, Aggregator, Every};
use crate::timeline::Conversation;
use crate::token::Credential;
use crate::token::{ClockSkew, Token};
use anyhow::bail;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

/// The JSON document of `harken analyze --format json` (docs/output.md).
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
    pub findings: Vec<FindingRow<'a>>,
}

/// The document for a capture and its analysis; findings limited to `findings`.
pub fn report<'a>(capture: &'a Capture, analysis: &'a Analysis, findings: &[&'a Finding]) -> Report<'a> {
    Report {
        inputs: &capture.inputs,
        exchanges: analysis.counts.exchanges,
        statuses: analysis.counts.by_name(),
        notes: &capture.notes,
        exchanges_with_notes: analysis.counts.with_notes,
        tokens: &analysis.tokens.tokens,
        clock_skew: analysis.tokens.clock_skew.as_ref(),
        conversations: &analysis.timeline.conversations,
        findings: findings.iter().map(|f| FindingRow(f)).collect(),
    }
}

impl Report<'_> {
    /// The document as [`json::write_document`] writes it, with the token and finding arrays
    /// rendered on both cores ([`json::Object`]). Keep the fields in the struct's order.
    pub fn write_json(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut o = json::Object::new(out)?;
        o.field("inputs", self.inputs)?;
        o.field("exchanges", &self.exchanges)?;
        o.field("statuses", &self.statuses)?;
        o.field("notes", self.notes)?;
        o.field("exchanges_with_notes", &self.exchanges_with_notes)?;
        o.array("tokens", self.tokens)?;
        o.field("clock_skew", &self.clock_skew)?;
        o.array("conversations", self.conversations)?;
        o.array("findings", &self.findings)?;
        o.close()
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
    let analysis = fold.finish(&capture);
    let summary = summary.into_inner().unwrap_or_else(|e| e.into_inner()).and_then(|a| a.finish().ok());
    let findings: Vec<&Finding> = analysis.findings.iter().filter(|f| s.window.contains(f.time)).collect();
    let style = s.style();
    match a.format {
        OutputFormat::Json => report(&capture, &analysis, &findings).write_json(out)?,
        OutputFormat::Table => {
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
            report::render(Format::from(f), out, &style, findings.iter().map(|f| FindingRow(f)))?;
        }
    }
    let hit = match fail {
        None => false,
        Some(None) => !findings.is_empty(),
        Some(Some(codes)) => findings.iter().any(|f| codes.contains(&f.status)),
    };
    drop(findings);
    // The process ends right after: freeing every token, finding and exchange one by one cost
    // 2-3% of the run on one thread. The memory goes back with the process.
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
