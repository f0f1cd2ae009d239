//! `harken timeline`: one timeline per conversation, with its state at every step.

use super::{code, load_kept};
use crate::cli::{OutputFormat, TimelineArgs};
use crate::keep::Keep;
use crate::redact::escape;
use crate::report::{self, table};
use crate::timeline::{Conversation, Event, Profile, Proof, Timeline};
use serde::Serialize;
use std::io::Write;

/// The JSON document of `harken timeline --format json`, serialized without an intermediate tree.
#[derive(Serialize)]
struct Doc<'a> {
    conversations: &'a [&'a Conversation],
}

pub fn run(a: &TimelineArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let profile = match &a.profile {
        Some(p) => Profile::load(p)?,
        None => Profile::genesys(),
    };
    let (capture, failed) = load_kept(&a.input, &Keep { profile: Some(&profile) });
    let tl = Timeline::build_with(&capture, &profile);
    let convs: Vec<&Conversation> = tl
        .conversations
        .iter()
        .filter(|c| a.conversation.as_deref().is_none_or(|id| c.id.eq_ignore_ascii_case(id.trim())))
        .collect();
    match a.format {
        OutputFormat::Json => report::write_json(out, &Doc { conversations: &convs })?,
        OutputFormat::Ndjson => {
            for c in &convs {
                report::write_json_line(out, c)?;
            }
        }
        OutputFormat::Csv => write_csv(out, &convs)?,
        OutputFormat::Table => write_tables(out, &convs, a.conversation.as_deref(), &tl.profile)?,
    }
    Ok(code(failed))
}

/// The file name of an input path, for table cells.
fn short_input(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn proof_ref(p: &Proof) -> String {
    match p.message {
        Some(m) => format!("{}#{}.{m}", escape(short_input(&p.input)), p.index),
        None => format!("{}#{}", escape(short_input(&p.input)), p.index),
    }
}

fn proof_text(e: &Event) -> String {
    e.proof.as_ref().map(proof_ref).unwrap_or_else(|| "no evidence".into())
}

fn write_tables(
    out: &mut dyn Write,
    convs: &[&Conversation],
    wanted: Option<&str>,
    profile: &str,
) -> anyhow::Result<()> {
    if convs.is_empty() {
        match wanted {
            Some(id) => writeln!(out, "No conversation {} in the inputs (profile {profile}).", escape(id))?,
            None => writeln!(out, "No conversation found in the inputs (profile {profile}).")?,
        }
        return Ok(());
    }
    for (n, c) in convs.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        let last = c.events.last();
        writeln!(
            out,
            "Conversation {}: {} ({}), {} events, {} → {}",
            escape(&c.id),
            c.state,
            last.map(proof_text).unwrap_or_default(),
            c.events.len(),
            report::short_time(&c.first_seen),
            report::short_time(&c.last_seen),
        )?;
        let mut t = table::new(&["time", "input#index", "actor", "method", "path", "status", "state", "note"]);
        for e in &c.events {
            let state = if e.state_before == e.state {
                e.state.to_string()
            } else {
                format!("{} → {}", e.state_before, e.state)
            };
            let mut note = Vec::new();
            if e.after_end {
                note.push(format!("after end ({} since {})", e.state_before, proof_before(e)));
            }
            if let Some(r) = &e.evidence {
                note.push(format!("evidence: {}", escape(r)));
            }
            let at = match &e.websocket {
                Some(w) => format!("{}#{}.{}", escape(short_input(&e.input)), e.index, w.message),
                None => format!("{}#{}", escape(short_input(&e.input)), e.index),
            };
            t.add_row(vec![
                report::short_time(&e.time),
                at,
                e.credential.clone().unwrap_or_else(|| "-".into()),
                escape(&e.method),
                table::clip(&escape(&e.path), 90),
                e.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                state,
                note.join("; "),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    Ok(())
}

fn proof_before(e: &Event) -> String {
    e.proof_before.as_ref().map(proof_ref).unwrap_or_else(|| "?".into())
}

fn write_csv(out: &mut dyn Write, convs: &[&Conversation]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "conversation",
        "time",
        "input",
        "index",
        "message",
        "method",
        "path",
        "status",
        "credential",
        "state_before",
        "state",
        "after_end",
        "evidence",
        "proof_input",
        "proof_index",
    ])?;
    for c in convs {
        for e in &c.events {
            // Ids, methods, paths and input names come from captured data or the command line:
            // escaped like every other output.
            w.write_record([
                escape(&c.id),
                report::time(&e.time),
                escape(&e.input),
                e.index.to_string(),
                e.websocket.as_ref().map(|m| m.message.to_string()).unwrap_or_default(),
                escape(&e.method),
                escape(&e.path),
                e.status.map(|s| s.to_string()).unwrap_or_default(),
                e.credential.clone().unwrap_or_default(),
                e.state_before.to_string(),
                e.state.to_string(),
                e.after_end.to_string(),
                e.evidence.clone().unwrap_or_default(),
                e.proof.as_ref().map(|p| escape(&p.input)).unwrap_or_default(),
                e.proof.as_ref().map(|p| p.index.to_string()).unwrap_or_default(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}
