//! `harken tokens`: one row per credential seen in the inputs: kind, grant, issuer, region,
//! scopes, issue and expiry, first and last use, uses, and how many uses were refused.

use super::code;
use crate::analysis::{self, Fold, Parts};
use crate::cli::{OutputFormat, TokensArgs};
use crate::ingest::IngestOptions;
use crate::report::escape::escape;
use crate::report::rows::TokenRow;
use crate::report::{self, json, Format};
use crate::settings::{report_errors, Settings, Window};
use crate::token::{ClockSkew, JwksSummary, Token, TokenIndex};
use serde::Serialize;
use std::io::Write;

/// The JSON document of `harken tokens --format json`.
#[derive(Serialize)]
pub struct Document<'a> {
    /// Server clock minus capture clock, estimated from response `Date` headers.
    pub clock_skew: Option<&'a ClockSkew>,
    /// Present when `--jwks` was given: which tokens were verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<&'a JwksSummary>,
    pub tokens: Vec<TokenRow<'a>>,
}

pub fn run(a: &TokensArgs, s: &Settings, out: &mut dyn Write) -> anyhow::Result<i32> {
    let fold = Fold::new(&s.analysis, s.paths()).only(Parts::TOKENS);
    let capture = analysis::load(&s.files, s.ingest(IngestOptions::default()), &fold);
    let failed = report_errors(&capture.inputs);
    let idx = fold.finish(&capture)?.tokens;
    let tokens: Vec<TokenRow> = idx.tokens.iter().filter(|t| in_window(t, &s.window)).map(TokenRow).collect();
    match a.format {
        OutputFormat::Json => {
            // `Document`, field by field, the tokens rendered on both cores.
            let mut o = json::Object::new(out)?;
            o.field("clock_skew", &idx.clock_skew.as_ref())?;
            if let Some(j) = idx.jwks.as_ref() {
                o.field("jwks", j)?;
            }
            o.array("tokens", &tokens)?;
            o.close()?
        }
        OutputFormat::Table => write_table(out, &idx, tokens, s)?,
        f => {
            report::render(Format::from(f), out, &s.style(), tokens)?;
        }
    }
    Ok(code(failed))
}

/// A token belongs to the window when it was issued or used in it.
fn in_window(t: &Token, w: &Window) -> bool {
    if w.is_open() {
        return true;
    }
    let times = [t.issued, t.first_use, t.last_use];
    let from = times.iter().flatten().min();
    let to = times.iter().flatten().max();
    match (from, to) {
        (Some(f), Some(t)) => w.overlaps(*f, *t),
        _ => false,
    }
}

fn write_table(out: &mut dyn Write, idx: &TokenIndex, tokens: Vec<TokenRow>, s: &Settings) -> anyhow::Result<()> {
    match &idx.clock_skew {
        Some(s) => writeln!(out, "Clock: {}.", s.statement)?,
        None => writeln!(
            out,
            "Clock: no usable response Date header (none, unparseable, or more than a year off), so the server/capture clock skew is unknown."
        )?,
    }
    if let Some(j) = &idx.jwks {
        writeln!(
            out,
            "Signatures: {} key{} given; {} token{} verified, {} did not verify.",
            j.keys,
            if j.keys == 1 { "" } else { "s" },
            j.verified.len(),
            if j.verified.len() == 1 { "" } else { "s" },
            j.invalid.len()
        )?;
        for s in &j.skipped {
            writeln!(out, "  key skipped: {}", escape(s))?;
        }
    } else {
        writeln!(out, "Signatures: not checked (give --jwks FILE to verify JWTs).")?;
    }
    if tokens.is_empty() {
        if idx.tokens.is_empty() {
            writeln!(out, "\nNo credential was found in any request or reply.")?;
        } else {
            writeln!(out, "\nNo credential was issued or used between --since and --until.")?;
        }
        return Ok(());
    }
    report::render(Format::Table, out, &s.style(), tokens.iter().copied())?;
    let mut notes = Vec::new();
    for TokenRow(tok) in &tokens {
        let l = tok.label();
        if let Some(m) = &tok.rare().malformed {
            notes.push(format!("{l}: malformed: {}", escape(m)));
        }
        if let Some(j) = &tok.jwt {
            let sig = match j.signature {
                crate::token::jwt::Signature::Unchecked => String::new(),
                s => format!(
                    "; signature {}",
                    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
                ),
            };
            notes.push(format!("{l}: {}{sig}", escape(&j.form)));
        }
        if let Some(r) = &tok.rare().revoked {
            notes.push(format!(
                "{l}: revoked at {} ({})",
                report::short_time(r),
                escape(tok.rare().revoked_reason.as_deref().unwrap_or("revocation"))
            ));
        }
        if let Some(r) = &tok.region {
            let other: Vec<&str> = tok.used_regions.iter().filter(|u| *u != r).copied().collect();
            if !other.is_empty() {
                notes.push(format!("{l}: issued in {r} but sent to {}: tokens are region-bound", other.join(", ")));
            }
        }
        if let Some(s) = &tok.rare().supersedes {
            notes.push(format!("{l}: refreshed from {s}"));
        }
        if let (Some(by), Some(at)) = (&tok.rare().superseded_by, &tok.rare().superseded_at) {
            notes.push(format!("{l}: superseded by {by} at {}", report::short_time(at)));
        }
        if let Some(u) = tok.has_user {
            notes.push(format!(
                "{l}: {}{}",
                if u { "acts for a user" } else { "acts for no user (client or guest)" },
                tok.client_id.as_deref().map(|c| format!("; client {}", escape(c))).unwrap_or_default()
            ));
        }
        if s.show_secrets {
            notes.push(format!("{l}: value {}", escape(&tok.secret)));
        }
    }
    if !notes.is_empty() {
        writeln!(out)?;
        for n in notes {
            writeln!(out, "  {}", escape(&n))?;
        }
    }
    Ok(())
}
