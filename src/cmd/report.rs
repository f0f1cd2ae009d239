//! `harken report`: the analysis as a document to attach to a support ticket (HTML or
//! Markdown; see [`crate::report::ticket`]).

use super::{EXIT_ERROR, EXIT_OK};
use crate::analysis;
use crate::cli::{ReportArgs, ReportFormat};
use crate::diagnose::Finding;
use crate::ingest::IngestOptions;
use crate::report::{html, markdown, ticket::Ticket};
use crate::settings::Settings;
use anyhow::bail;
use std::io::Write;

/// The format: `--format`, else the extension of `--output`.
fn format(a: &ReportArgs) -> anyhow::Result<ReportFormat> {
    if let Some(f) = a.format {
        return Ok(f);
    }
    let Some(out) = &a.output else {
        bail!(
            "say where the report goes: -o report.html or -o report.md (or --format html|markdown for standard output)"
        );
    };
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => Ok(ReportFormat::Html),
        "md" | "markdown" => Ok(ReportFormat::Markdown),
        _ => bail!(
            "cannot tell the report format from {:?}: use a .html or .md name, or --format html|markdown",
            crate::report::escape::escape(&out.display().to_string())
        ),
    }
}

pub fn run(a: &ReportArgs, s: &Settings, out: &mut dyn Write) -> anyhow::Result<i32> {
    let fmt = format(a)?;
    let (capture, failed) = s.load(IngestOptions::default());
    let analysis = analysis::run(&capture, &s.analysis);
    let findings: Vec<&Finding> = analysis.findings.iter().filter(|f| s.window.contains(f.time)).collect();
    let ticket = Ticket::build(&capture, &analysis, findings, s.show_secrets);
    let doc = match fmt {
        ReportFormat::Html => html::render(&ticket),
        ReportFormat::Markdown => markdown::render(&ticket),
    };
    match &a.output {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::write(p, doc.as_bytes()).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
            eprintln!(
                "harken: wrote {} ({} refusal{}, {} group{})",
                crate::report::escape::escape(&p.display().to_string()),
                ticket.findings.len(),
                if ticket.findings.len() == 1 { "" } else { "s" },
                ticket.groups.len(),
                if ticket.groups.len() == 1 { "" } else { "s" }
            );
        }
        _ => out.write_all(doc.as_bytes())?,
    }
    Ok(if failed { EXIT_ERROR } else { EXIT_OK })
}
