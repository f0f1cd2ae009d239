//! `harken tokens`: one row per credential seen in the inputs.

use super::{code, load};
use crate::cli::{OutputFormat, TokensArgs};
use crate::ingest::IngestOptions;
use crate::report::{self, table};
use crate::token::TokenIndex;
use std::io::Write;

pub fn run(a: &TokensArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let (capture, failed) = load(&a.input, IngestOptions::default());
    let idx = TokenIndex::build(&capture);
    match a.format {
        OutputFormat::Json => report::write_json(out, &serde_json::json!({ "tokens": idx.tokens }))?,
        OutputFormat::Ndjson => {
            for t in &idx.tokens {
                report::write_json_line(out, t)?;
            }
        }
        _ => {
            let mut t = table::new(&["credential", "grant", "uses", "refused"]);
            for tok in &idx.tokens {
                t.add_row(vec![
                    format!("{}:{}", tok.kind.name(), tok.fingerprint),
                    format!("{:?}", tok.grant),
                    tok.uses.to_string(),
                    tok.refused.to_string(),
                ]);
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(code(failed))
}
