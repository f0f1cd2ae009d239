//! `harken analyze`: the main job. A summary of the inputs, then every 401/403 explained.

use super::{load_kept, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::analysis::{self, Analysis, Options};
use crate::catalog::Catalog;
use crate::cli::{AnalyzeArgs, OutputFormat};
use crate::diagnose::Finding;
use crate::keep::Keep;
use crate::model::{Capture, Input, Level, Note};
use crate::redact::escape;
use crate::report::{self, table};
use crate::timeline::{Conversation, Profile};
use crate::token::{ClockSkew, Token, TokenOptions};
use anyhow::bail;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

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
    pub findings: &'a [Finding],
}

pub fn report<'a>(capture: &'a Capture, analysis: &'a Analysis) -> Report<'a> {
    Report {
        inputs: &capture.inputs,
        exchanges: capture.exchanges.len(),
        statuses: statuses(capture),
        notes: &capture.notes,
        exchanges_with_notes: capture.exchanges.iter().filter(|e| !e.notes.is_empty()).count(),
        tokens: &analysis.tokens.tokens,
        clock_skew: analysis.tokens.clock_skew.as_ref(),
        conversations: &analysis.timeline.conversations,
        findings: &analysis.findings,
    }
}

/// Status code → count (`none` for no response), in code order.
pub fn statuses(capture: &Capture) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for ex in &capture.exchanges {
        let key = ex.status().map(|s| s.to_string()).unwrap_or_else(|| "none".into());
        *m.entry(key).or_insert(0) += 1;
    }
    m
}

/// Which finding statuses make the run exit 1.
fn fail_on(spec: &str) -> anyhow::Result<Option<Vec<u16>>> {
    if spec.trim().eq_ignore_ascii_case("any") {
        return Ok(None);
    }
    spec.split(',')
        .map(|s| match s.trim().parse::<u16>() {
            Ok(c) => Ok(c),
            Err(_) => bail!("--fail-on: {s:?} is not a status code; use a list like 401,403 or `any`"),
        })
        .collect::<anyhow::Result<Vec<u16>>>()
        .map(Some)
}

pub fn run(a: &AnalyzeArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let fail = a.fail_on.as_deref().map(fail_on).transpose()?;
    let catalog = match &a.catalog {
        Some(p) => Catalog::load(p)?,
        None => Catalog::genesys(),
    };
    let mut tokens = match &a.jwks {
        Some(p) => TokenOptions::with_jwks_file(p)?,
        None => TokenOptions::default(),
    };
    tokens.forget_secrets = !a.input.show_secrets;
    let profile = match &a.profile {
        Some(p) => Profile::load(p)?,
        None => Profile::genesys(),
    };
    let (capture, failed) = load_kept(&a.input, &Keep { profile: Some(&profile) });
    let analysis = analysis::run(&capture, &Options { catalog, profile, show_secrets: a.input.show_secrets, tokens });
    match a.format {
        OutputFormat::Json => report::write_json(out, &report(&capture, &analysis))?,
        OutputFormat::Ndjson => {
            for f in &analysis.findings {
                report::write_json_line(out, f)?;
            }
        }
        OutputFormat::Csv => write_findings_csv(out, &analysis.findings)?,
        OutputFormat::Table => write_table(out, &capture, &analysis)?,
    }
    if failed {
        return Ok(EXIT_ERROR);
    }
    let hit = match fail {
        None => false,
        Some(None) => !analysis.findings.is_empty(),
        Some(Some(codes)) => analysis.findings.iter().any(|f| codes.contains(&f.status)),
    };
    Ok(if hit { EXIT_FINDINGS } else { EXIT_OK })
}

/// One row per finding, for spreadsheets and batch audits. `causes` are joined with `;` and
/// evidence is given as `input#index: fact` lines joined with ` | `.
fn write_findings_csv(out: &mut dyn Write, findings: &[Finding]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "input",
        "index",
        "time",
        "method",
        "url",
        "status",
        "cause",
        "causes",
        "summary",
        "evidence",
        "fix",
        "credential",
        "conversation",
    ])?;
    for f in findings {
        let causes: Vec<&str> = f.causes.iter().map(|c| c.name()).collect();
        let evidence: Vec<String> = f.evidence.iter().map(|e| format!("{}#{}: {}", e.input, e.index, e.fact)).collect();
        w.write_record([
            f.input.as_str(),
            &f.index.to_string(),
            &report::time(&f.time),
            &f.method,
            &f.url,
            &f.status.to_string(),
            f.cause.name(),
            &causes.join(";"),
            &f.summary,
            &evidence.join(" | "),
            &f.fix,
            f.credential.as_deref().unwrap_or(""),
            f.conversation.as_deref().unwrap_or(""),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_table(out: &mut dyn Write, capture: &Capture, analysis: &Analysis) -> anyhow::Result<()> {
    let mut t = table::new(&["input", "format", "creator", "exchanges", "notes"]);
    for i in &capture.inputs {
        t.add_row(vec![
            escape(&i.path),
            i.format.map(|f| f.to_string()).unwrap_or_else(|| "?".into()),
            escape(i.creator.as_deref().unwrap_or("")),
            i.exchanges.to_string(),
            i.notes.len().to_string(),
        ]);
    }
    writeln!(out, "{t}")?;
    let st: Vec<String> = statuses(capture).into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
    writeln!(
        out,
        "{} exchanges; statuses {}",
        capture.exchanges.len(),
        if st.is_empty() { "-".into() } else { st.join(", ") }
    )?;
    let notes: Vec<(&str, &Note)> = capture
        .inputs
        .iter()
        .flat_map(|i| i.notes.iter().map(move |n| (i.path.as_str(), n)))
        .filter(|(_, n)| n.level >= Level::Warning)
        .collect();
    if !notes.is_empty() {
        writeln!(out, "\nNotes:")?;
        for (path, n) in notes.iter().take(20) {
            writeln!(out, "  {} [{}] {}: {}", escape(path), n.code, level(n.level), escape(&n.message))?;
        }
        if notes.len() > 20 {
            writeln!(out, "  … and {} more (see --format json)", notes.len() - 20)?;
        }
    }
    if analysis.findings.is_empty() {
        let refused = capture.exchanges.iter().filter(|e| matches!(e.status(), Some(401 | 403))).count();
        if refused == 0 {
            writeln!(out, "\nNo request was refused (no 401 or 403).")?;
        }
        return Ok(());
    }
    writeln!(out, "\nFindings:")?;
    let mut t = table::new(&["time", "method", "path", "status", "cause", "why"]);
    for f in &analysis.findings {
        let path = url::Url::parse(&f.url).map(|u| u.path().to_string()).unwrap_or_else(|_| f.url.clone());
        t.add_row(vec![
            report::short_time(&f.time),
            escape(&f.method),
            table::clip(&escape(&path), 50),
            f.status.to_string(),
            serde_json::to_value(f.cause).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            table::clip(&escape(&f.summary), 100),
        ]);
    }
    writeln!(out, "{t}")?;
    for (n, f) in analysis.findings.iter().enumerate() {
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

fn level(l: Level) -> &'static str {
    match l {
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}
