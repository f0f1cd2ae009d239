//! `harken tokens`: one row per credential seen in the inputs: kind, grant, issuer, region,
//! scopes, issue and expiry, first and last use, uses, and how many uses were refused.

use super::{code, load_kept};
use crate::cli::{OutputFormat, TokensArgs};
use crate::keep::Keep;
use crate::redact::escape;
use crate::report::{self, table};
use crate::token::{ClockSkew, JwksSummary, Token, TokenIndex, TokenOptions};
use chrono::{DateTime, Utc};
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
    pub tokens: &'a [Token],
}

pub fn run(a: &TokensArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let mut opts = match &a.jwks {
        Some(p) => TokenOptions::with_jwks_file(p)?,
        None => TokenOptions::default(),
    };
    opts.forget_secrets = !a.input.show_secrets;
    let (capture, failed) = load_kept(&a.input, &Keep { profile: None });
    let mut idx = TokenIndex::build_with(&capture, &opts);
    if a.input.show_secrets {
        idx.reveal_secrets();
    }
    match a.format {
        OutputFormat::Json => report::write_json(
            out,
            &Document { clock_skew: idx.clock_skew.as_ref(), jwks: idx.jwks.as_ref(), tokens: &idx.tokens },
        )?,
        OutputFormat::Ndjson => {
            for t in &idx.tokens {
                report::write_json_line(out, t)?;
            }
        }
        OutputFormat::Csv => write_csv(out, &idx, a.input.show_secrets)?,
        OutputFormat::Table => write_table(out, &idx, a.input.show_secrets)?,
    }
    Ok(code(failed))
}

/// One row per credential with the JSON field names as columns (lists joined by spaces,
/// carriers by `; `; `value`
/// only with `--show-secrets`). Captured text is escaped like the table's.
fn write_csv(out: &mut dyn Write, idx: &TokenIndex, show_secrets: bool) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![
        "fingerprint",
        "kind",
        "grant",
        "issuer",
        "region",
        "scopes",
        "issued",
        "expires",
        "revoked",
        "first_use",
        "last_use",
        "uses",
        "refused",
        "has_user",
        "client_id",
        "supersedes",
        "superseded_by",
        "carriers",
        "used_regions",
        "malformed",
    ];
    if show_secrets {
        header.push("value");
    }
    w.write_record(&header)?;
    let time = |t: &Option<DateTime<Utc>>| t.as_ref().map(report::time).unwrap_or_default();
    let text = |s: &Option<String>| s.as_deref().map(escape).unwrap_or_default();
    for t in &idx.tokens {
        let mut row = vec![
            t.fingerprint.clone(),
            t.kind.name().to_string(),
            t.grant.name().to_string(),
            text(&t.issuer),
            text(&t.region),
            t.scopes.as_ref().map(|s| escape(&s.join(" "))).unwrap_or_default(),
            time(&t.issued),
            time(&t.expires),
            time(&t.revoked),
            time(&t.first_use),
            time(&t.last_use),
            t.uses.to_string(),
            t.refused.to_string(),
            t.has_user.map(|u| u.to_string()).unwrap_or_default(),
            text(&t.client_id),
            t.supersedes.clone().unwrap_or_default(),
            t.superseded_by.clone().unwrap_or_default(),
            escape(&t.carriers.join("; ")),
            t.used_regions.join(" "),
            text(&t.malformed),
        ];
        if show_secrets {
            row.push(escape(&t.secret));
        }
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

fn when(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(report::short_time).unwrap_or_else(|| "-".into())
}

fn write_table(out: &mut dyn Write, idx: &TokenIndex, show_secrets: bool) -> anyhow::Result<()> {
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
    if idx.tokens.is_empty() {
        writeln!(out, "\nNo credential was found in any request or reply.")?;
        return Ok(());
    }
    let mut t = table::new(&[
        "credential",
        "grant",
        "issuer",
        "region",
        "scopes",
        "issued",
        "expires",
        "first use",
        "last use",
        "uses",
        "401/403",
    ]);
    for tok in &idx.tokens {
        let scopes = match &tok.scopes {
            None => "?".to_string(),
            Some(s) if s.is_empty() => "(none)".to_string(),
            Some(s) => table::clip(&escape(&s.join(" ")), 40),
        };
        t.add_row(vec![
            tok.label(),
            tok.grant.name().to_string(),
            escape(tok.issuer.as_deref().unwrap_or("-")),
            tok.region.clone().unwrap_or_else(|| "-".into()),
            scopes,
            when(&tok.issued),
            when(&tok.expires),
            when(&tok.first_use),
            when(&tok.last_use),
            tok.uses.to_string(),
            tok.refused.to_string(),
        ]);
    }
    writeln!(out, "{t}")?;
    let mut notes = Vec::new();
    for tok in &idx.tokens {
        let l = tok.label();
        if let Some(m) = &tok.malformed {
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
        if let Some(r) = &tok.revoked {
            notes.push(format!(
                "{l}: revoked at {} ({})",
                report::short_time(r),
                escape(tok.revoked_reason.as_deref().unwrap_or("revocation"))
            ));
        }
        if let Some(r) = &tok.region {
            let other: Vec<&str> = tok.used_regions.iter().filter(|u| *u != r).map(String::as_str).collect();
            if !other.is_empty() {
                notes.push(format!("{l}: issued in {r} but sent to {}: tokens are region-bound", other.join(", ")));
            }
        }
        if let Some(s) = &tok.supersedes {
            notes.push(format!("{l}: refreshed from {s}"));
        }
        if let (Some(by), Some(at)) = (&tok.superseded_by, &tok.superseded_at) {
            notes.push(format!("{l}: superseded by {by} at {}", report::short_time(at)));
        }
        if let Some(u) = tok.has_user {
            notes.push(format!(
                "{l}: {}{}",
                if u { "acts for a user" } else { "acts for no user (client or guest)" },
                tok.client_id.as_deref().map(|c| format!("; client {}", escape(c))).unwrap_or_default()
            ));
        }
        if show_secrets {
            notes.push(format!("{l}: value {}", escape(&tok.secret)));
        }
    }
    if !notes.is_empty() {
        writeln!(out)?;
        for n in notes {
            writeln!(out, "  {n}")?;
        }
    }
    Ok(())
}
