//! `harken timeline`: one timeline per conversation, with its state at every step.

use super::code;
use crate::analysis::{self, Fold, Parts};
use crate::cli::{OutputFormat, TimelineArgs};
use crate::ingest::IngestOptions;
use crate::report::escape::escape;
use crate::report::rows::{proof_ref, EventRow};
use crate::report::{self, json, ndjson, short_time, Format, Style};
use crate::settings::{report_errors, Settings};
use crate::timeline::Conversation;
use serde::Serialize;
use std::borrow::Cow;
use std::io::Write;

/// The JSON document of `harken timeline --format json`, serialized without an intermediate tree.
#[derive(Serialize)]
struct Doc<'a> {
    conversations: &'a [Cow<'a, Conversation>],
}

pub fn run(a: &TimelineArgs, s: &Settings, out: &mut dyn Write) -> anyhow::Result<i32> {
    let fold = Fold::new(&s.analysis, s.paths()).only(Parts::TIMELINE);
    let capture = analysis::load(&s.files, s.ingest(IngestOptions::default()), &fold);
    let failed = report_errors(&capture.inputs);
    let tl = fold.finish(&capture)?.timeline;
    // The conversations asked for, with only the events in the time window.
    let convs: Vec<Cow<Conversation>> = tl
        .conversations
        .iter()
        .filter(|c| a.conversation.as_deref().is_none_or(|id| c.id.eq_ignore_ascii_case(id.trim())))
        .filter_map(|c| {
            if s.window.is_open() {
                return Some(Cow::Borrowed(c));
            }
            let events: Vec<_> = c.events.iter().filter(|e| s.window.contains(e.time)).cloned().collect();
            (!events.is_empty()).then(|| {
                let mut c = Conversation { events: Vec::new(), ..c.clone() };
                c.events = events;
                Cow::Owned(c)
            })
        })
        .collect();
    match a.format {
        OutputFormat::Json => json::write_document(out, &Doc { conversations: &convs })?,
        OutputFormat::Ndjson => {
            for c in &convs {
                ndjson::write_line(out, c)?;
            }
        }
        OutputFormat::Csv => {
            report::render(Format::Csv, out, &s.style(), convs.iter().flat_map(|c| EventRow::all(c)))?;
        }
        OutputFormat::Table => write_tables(out, &convs, a.conversation.as_deref(), &tl.profile, &s.style())?,
    }
    Ok(code(failed))
}

fn write_tables(
    out: &mut dyn Write,
    convs: &[Cow<Conversation>],
    wanted: Option<&str>,
    profile: &str,
    style: &Style,
) -> anyhow::Result<()> {
    if convs.is_empty() {
        match wanted {
            Some(id) => writeln!(out, "No conversation {} in the inputs (profile {}).", escape(id), escape(profile))?,
            None => writeln!(out, "No conversation found in the inputs (profile {}).", escape(profile))?,
        }
        return Ok(());
    }
    for (n, c) in convs.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        let last = c.events.last().map(|e| e.proof.as_ref().map(proof_ref).unwrap_or_else(|| "no evidence".into()));
        writeln!(
            out,
            "Conversation {}: {} ({}), {} events, {} → {}",
            escape(&c.id),
            c.state,
            escape(&last.unwrap_or_default()),
            c.events.len(),
            short_time(&c.first_seen),
            short_time(&c.last_seen),
        )?;
        report::render(Format::Table, out, style, EventRow::all(c))?;
    }
    Ok(())
}
