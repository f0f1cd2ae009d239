//! `harken timeline`: one timeline per conversation.

use super::{code, load};
use crate::cli::{OutputFormat, TimelineArgs};
use crate::ingest::IngestOptions;
use crate::report;
use crate::timeline::Timeline;
use std::io::Write;

pub fn run(a: &TimelineArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let (capture, failed) = load(&a.input, IngestOptions::default());
    let tl = Timeline::build(&capture);
    let convs: Vec<_> =
        tl.conversations.iter().filter(|c| a.conversation.as_deref().is_none_or(|id| c.id == id)).collect();
    match a.format {
        OutputFormat::Json => report::write_json(out, &serde_json::json!({ "conversations": convs }))?,
        _ => {
            for c in convs {
                writeln!(out, "{} {:?} ({} events)", c.id, c.state, c.events.len())?;
            }
        }
    }
    Ok(code(failed))
}
