//! `harken replay`: plan (dry run, the default) or send (`--send`) captured requests, and
//! compare what comes back with what was captured.

use super::{code, load, EXIT_FINDINGS};
use crate::cli::{Only, ReplayArgs, ReplayFormat};
use crate::ingest::{BodyPolicy, IngestOptions};
use crate::redact::escape;
use crate::replay::client::{self, Answer, SendOptions, Timing};
use crate::replay::diff::{self, Diff, Outcome};
use crate::replay::plan::{self, NewCredential, PlanOptions, Selection, Step};
use crate::replay::target::Targets;
use crate::report::rows::status_tone;
use crate::report::{self, table, Cell, Col, Row, Tone};
use anyhow::{bail, Context};
use serde::Serialize;
use std::io::Write;
use std::time::Duration;

/// One replayed request: the JSON contract of `replay --send --format json|ndjson`.
#[derive(Debug, Serialize)]
pub struct ResultRow {
    pub n: usize,
    pub input: String,
    pub index: usize,
    pub chosen: &'static str,
    pub method: String,
    pub url: Option<String>,
    pub credential: String,
    pub captured_status: Option<u16>,
    pub replayed_status: Option<u16>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<Diff>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub notes: Vec<String>,
}

/// Counts over a replay.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub sent: usize,
    pub now_passing: usize,
    pub still_failing: usize,
    pub now_failing: usize,
    pub changed: usize,
    pub same: usize,
    pub errors: usize,
    pub skipped: usize,
    /// Sent requests whose response differs from the captured one, or that failed.
    pub with_diff: usize,
}

fn credential(a: &ReplayArgs) -> anyhow::Result<NewCredential> {
    if a.use_captured_credentials {
        return Ok(NewCredential::Captured);
    }
    if let Some(var) = &a.token_env {
        let v = std::env::var(var).with_context(|| format!("--token-env {var}: the variable is not set"))?;
        return NewCredential::token(&v, format!("--token-env {var}"));
    }
    if let Some(f) = &a.token_file {
        let v = std::fs::read_to_string(f).with_context(|| format!("--token-file {}", f.display()))?;
        return NewCredential::token(&v, format!("--token-file {}", f.display()));
    }
    Ok(NewCredential::None)
}

fn selection(a: &ReplayArgs) -> anyhow::Result<Selection> {
    let files: Vec<String> = a.input.files.iter().map(|p| p.display().to_string()).collect();
    Ok(Selection {
        refused: a.only == Some(Only::Refused),
        lead_up: a.lead_up,
        pick: crate::filter::Pick::parse(a.status.as_deref(), a.method.as_deref(), a.path.as_deref())?,
        since: a.since.as_deref().map(crate::settings::parse_when).transpose().context("--since")?,
        until: a.until.as_deref().map(crate::settings::parse_when).transpose().context("--until")?,
        entries: (!a.entry.is_empty()).then(|| Selection::parse_entries(&a.entry, &files)).transpose()?,
        limit: a.limit,
    })
}

pub fn run(a: &ReplayArgs, color: bool, out: &mut dyn Write) -> anyhow::Result<i32> {
    // Everything the command line says is checked before any input is read.
    let targets = Targets::new(a.target.as_deref(), &a.map, &a.allow_host)?;
    let sel = selection(a)?;
    let mut cred = credential(a)?;
    let timing = Timing::parse(&a.timing)?;
    let rate = a.rate.as_deref().map(client::parse_rate).transpose()?;
    if !(a.timeout.is_finite() && a.timeout > 0.0 && a.timeout <= 86_400.0) {
        bail!("--timeout must be a number of seconds between 0 and 86400");
    }

    let (capture, failed) = load(&a.input, IngestOptions { bodies: BodyPolicy::All, ..Default::default() });
    let chosen = sel.select(&capture);

    if a.oauth_client_credentials {
        let ep = capture
            .exchanges
            .iter()
            .find(|e| e.request.method.eq_ignore_ascii_case("POST") && plan::is_token_endpoint(&e.path()))
            .context("--oauth-client-credentials: the capture has no POST to a token endpoint (.../oauth/token)")?;
        let captured = ep.url().context("the token endpoint's URL does not parse")?;
        let endpoint = targets.rewrite(&captured).with_context(|| {
            format!(
                "--oauth-client-credentials: the token endpoint's host {} is named by no --target or --map",
                ep.host()
            )
        })?;
        let (id, secret) = if a.send {
            let id = std::env::var(&a.client_id_env)
                .with_context(|| format!("--oauth-client-credentials: {} is not set", a.client_id_env))?;
            let secret = std::env::var(&a.client_secret_env)
                .with_context(|| format!("--oauth-client-credentials: {} is not set", a.client_secret_env))?;
            (id, secret)
        } else {
            (String::new(), String::new())
        };
        cred = NewCredential::OAuth { endpoint, client_id: id, client_secret: secret };
    }

    let opts = PlanOptions {
        targets: &targets,
        credential: &cred,
        allow_unsafe: a.allow_unsafe,
        show_secrets: a.input.show_secrets,
    };
    let first = chosen.first().map(|(i, _)| capture.exchanges[*i].started).unwrap_or_default();
    let mut steps: Vec<Step> = chosen
        .iter()
        .enumerate()
        .map(|(n, (i, why))| {
            let ex = &capture.exchanges[*i];
            plan::step(n + 1, why, capture.input_path(&ex.origin), ex, first, &opts)
        })
        .collect();
    if steps.iter().any(|s| matches!(s.captured_status, Some(401 | 403))) {
        attach_findings(&capture, &mut steps, a.input.show_secrets);
    }

    if !a.send {
        write_plan(out, a, &targets, &cred, &steps)?;
        return Ok(code(failed));
    }

    let oauth = match &cred {
        NewCredential::OAuth { endpoint, client_id, client_secret } => {
            Some((endpoint, client_id.as_str(), client_secret.as_str()))
        }
        _ => None,
    };
    let send_opts =
        SendOptions { timing, rate, concurrency: a.concurrency as usize, timeout: Duration::from_secs_f64(a.timeout) };
    let answers = client::run(&steps, &targets, oauth, &send_opts)?;
    let mut chosen_headers = vec!["content-type".to_string()];
    chosen_headers.extend(a.diff_header.iter().map(|h| h.trim().to_ascii_lowercase()));
    chosen_headers.dedup();
    let mut summary = Summary::default();
    let rows: Vec<ResultRow> = steps
        .iter()
        .zip(answers)
        .map(|(s, ans)| {
            let mut row = ResultRow {
                n: s.n,
                input: s.input.clone(),
                index: s.index,
                chosen: s.chosen,
                method: s.method.clone(),
                url: s.url.clone(),
                credential: s.credential.clone(),
                captured_status: s.captured_status,
                replayed_status: None,
                outcome: Outcome::Skipped,
                finding: s.finding.clone(),
                diff: None,
                skip: s.skip.clone(),
                error: None,
                notes: Vec::new(),
            };
            match ans {
                None => summary.skipped += 1,
                Some(Answer::Failed(e)) => {
                    summary.sent += 1;
                    summary.errors += 1;
                    summary.with_diff += 1;
                    row.outcome = Outcome::Error;
                    row.error = Some(e);
                }
                Some(Answer::Response { observed, notes }) => {
                    summary.sent += 1;
                    let d = diff::diff(&s.expected, &observed, &chosen_headers);
                    row.outcome = diff::outcome(s.captured_status, &d, observed.status);
                    match row.outcome {
                        Outcome::NowPassing => summary.now_passing += 1,
                        Outcome::StillFailing => summary.still_failing += 1,
                        Outcome::NowFailing => summary.now_failing += 1,
                        Outcome::Changed => summary.changed += 1,
                        Outcome::Same => summary.same += 1,
                        _ => {}
                    }
                    if !d.is_empty() {
                        summary.with_diff += 1;
                    }
                    row.replayed_status = Some(observed.status);
                    row.diff = Some(d);
                    row.notes = notes;
                }
            }
            row
        })
        .collect();
    write_results(out, a, &rows, &summary, &report::Style { color })?;
    if failed {
        return Ok(code(failed));
    }
    if a.fail_on_diff && summary.with_diff > 0 {
        return Ok(EXIT_FINDINGS);
    }
    Ok(code(false))
}

/// The diagnosed cause of each captured 401/403 in the plan.
fn attach_findings(capture: &crate::model::Capture, steps: &mut [Step], show_secrets: bool) {
    let opts = crate::analysis::Options {
        catalog: crate::catalog::Catalog::genesys(),
        profile: crate::timeline::Profile::genesys(),
        show_secrets,
        tokens: Default::default(),
    };
    let analysis = crate::analysis::run(capture, &opts);
    for s in steps.iter_mut() {
        if let Some(f) = analysis.findings.iter().find(|f| f.input == s.input && f.index == s.index) {
            s.finding = Some(f.cause.name().to_string());
        }
    }
}

#[derive(Serialize)]
struct PlanDoc<'a> {
    mode: &'static str,
    routes: Vec<String>,
    credential: String,
    steps: &'a [Step],
}

fn credential_line(c: &NewCredential) -> String {
    match c {
        NewCredential::None => "captured credentials stripped; none added".into(),
        NewCredential::Captured => "captured credentials sent (--use-captured-credentials)".into(),
        NewCredential::Token { authorization, source } => {
            format!("Authorization: {} from {source}", plan::label_of(authorization))
        }
        NewCredential::OAuth { endpoint, .. } => {
            format!("Authorization: Bearer <fetched from {} with the client-credentials grant>", endpoint)
        }
    }
}

fn write_plan(
    out: &mut dyn Write,
    a: &ReplayArgs,
    targets: &Targets,
    cred: &NewCredential,
    steps: &[Step],
) -> anyhow::Result<()> {
    match a.format {
        ReplayFormat::Json => Ok(report::write_json(
            out,
            &PlanDoc { mode: "plan", routes: targets.describe(), credential: credential_line(cred), steps },
        )?),
        ReplayFormat::Ndjson => {
            for s in steps {
                report::write_json_line(out, s)?;
            }
            Ok(())
        }
        ReplayFormat::Table => {
            writeln!(out, "Dry run: nothing was sent (add --send to send). Routes:")?;
            for r in targets.describe() {
                writeln!(out, "  {}", escape(&r))?;
            }
            writeln!(out, "Credential: {}", escape(&credential_line(cred)))?;
            let sendable = steps.iter().filter(|s| s.send.is_some()).count();
            writeln!(out, "{} request{} selected, {sendable} would be sent.", steps.len(), plural(steps.len()))?;
            for s in steps {
                writeln!(out)?;
                let status = s.captured_status.map(|c| c.to_string()).unwrap_or_else(|| "-".into());
                let finding = s.finding.as_deref().map(|f| format!(", {f}")).unwrap_or_default();
                writeln!(
                    out,
                    "{:>3}. {} {}  [{}#{}, captured {status}{finding}, +{:.3}s]",
                    s.n,
                    escape(&s.method),
                    escape(s.url.as_deref().unwrap_or(&s.captured_url)),
                    escape(&s.input),
                    s.index,
                    s.captured_offset_s
                )?;
                if let Some(why) = &s.skip {
                    writeln!(out, "     SKIPPED: {}", escape(why))?;
                    continue;
                }
                for h in &s.headers {
                    writeln!(out, "     {}: {}", escape(&h.name), escape(&h.value))?;
                }
                writeln!(out, "     credential: {}; body: {} bytes", escape(&s.credential), s.body_size)?;
            }
            Ok(())
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn diff_text(r: &ResultRow) -> String {
    if let Some(e) = &r.error {
        return e.clone();
    }
    if let Some(s) = &r.skip {
        return format!("skipped: {s}");
    }
    let Some(d) = &r.diff else { return String::new() };
    let mut parts: Vec<String> = Vec::new();
    if let Some((c, n)) = d.status {
        parts.push(format!("status {} -> {n}", c.map(|c| c.to_string()).unwrap_or_else(|| "-".into())));
    }
    parts.extend(d.headers.iter().cloned());
    parts.extend(d.body.iter().take(4).cloned());
    if d.body.len() > 4 {
        parts.push(format!("... {} more body differences", d.body.len() - 4));
    }
    parts.extend(r.notes.iter().cloned());
    parts.join("; ")
}

fn write_results(
    out: &mut dyn Write,
    a: &ReplayArgs,
    rows: &[ResultRow],
    s: &Summary,
    style: &report::Style,
) -> anyhow::Result<()> {
    match a.format {
        ReplayFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                mode: &'static str,
                requests: &'a [ResultRow],
                summary: &'a Summary,
            }
            Ok(report::write_json(out, &Doc { mode: "send", requests: rows, summary: s })?)
        }
        ReplayFormat::Ndjson => {
            for r in rows {
                report::write_json_line(out, r)?;
            }
            Ok(report::write_json_line(out, &serde_json::json!({ "summary": s }))?)
        }
        ReplayFormat::Table => {
            if !rows.is_empty() {
                report::render(report::Format::Table, out, style, rows.iter())?;
            }
            writeln!(
                out,
                "{} sent: {} now passing, {} still failing, {} now failing, {} changed, {} same; {} error{}, {} skipped.",
                s.sent,
                s.now_passing,
                s.still_failing,
                s.now_failing,
                s.changed,
                s.same,
                s.errors,
                plural(s.errors),
                s.skipped
            )?;
            let refused: Vec<&ResultRow> = rows.iter().filter(|r| r.chosen == "refused").collect();
            if !refused.is_empty() {
                writeln!(out, "Is it fixed?")?;
                for r in refused {
                    let answer = match r.outcome {
                        Outcome::NowPassing => format!("yes: now {}", r.replayed_status.unwrap_or(0)),
                        Outcome::StillFailing => format!("no: still {}", r.replayed_status.unwrap_or(0)),
                        Outcome::Skipped => "not replayed".to_string(),
                        Outcome::Error => "unknown: no answer".to_string(),
                        _ => format!("changed: now {}", r.replayed_status.map(|s| s.to_string()).unwrap_or_default()),
                    };
                    writeln!(
                        out,
                        "  {}#{} {} ({}): {}",
                        escape(&r.input),
                        r.index,
                        escape(&r.method),
                        r.finding.as_deref().unwrap_or("refused"),
                        answer
                    )?;
                }
            }
            Ok(())
        }
    }
}

impl Row for &ResultRow {
    const COLUMNS: &'static [&'static str] = &[
        "n",
        "input",
        "index",
        "method",
        "url",
        "captured_status",
        "replayed_status",
        "outcome",
        "finding",
        "replayed_ms",
        "differences",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.n.to_string(),
            self.input.clone(),
            self.index.to_string(),
            self.method.clone(),
            self.url.clone().unwrap_or_default(),
            self.captured_status.map(|c| c.to_string()).unwrap_or_default(),
            self.replayed_status.map(|c| c.to_string()).unwrap_or_default(),
            self.outcome.name().to_string(),
            self.finding.clone().unwrap_or_default(),
            self.diff.as_ref().map(|d| format!("{:.1}", d.replayed_ms)).unwrap_or_default(),
            diff_text(self),
        ]
    }
    const TABLE: &'static [Col] = &[
        Col::number("#"),
        Col::fixed("entry"),
        Col::text("method"),
        Col::text("url"),
        Col::number("captured"),
        Col::number("replayed"),
        Col::fixed("outcome"),
        Col::number("ms"),
        Col::text("differences"),
    ];
    fn table_cells(&self) -> Vec<Cell> {
        let tone = match self.outcome {
            Outcome::NowPassing | Outcome::Same => Tone::Good,
            Outcome::StillFailing | Outcome::NowFailing | Outcome::Error => Tone::Bad,
            Outcome::Changed => Tone::Warn,
            Outcome::Skipped => Tone::Dim,
        };
        let status = |s: Option<u16>| Cell::new(s.map(|c| c.to_string()).unwrap_or_else(|| "-".into()), status_tone(s));
        vec![
            self.n.to_string().into(),
            format!("{}#{}", report::rows::short_input(&self.input), self.index).into(),
            self.method.clone().into(),
            table::clip(self.url.as_deref().unwrap_or("-"), 60).into(),
            status(self.captured_status),
            status(self.replayed_status),
            Cell::new(self.outcome.name(), tone),
            self.diff.as_ref().map(|d| format!("{:.0}", d.replayed_ms)).unwrap_or_default().into(),
            table::clip(&diff_text(self), 120).into(),
        ]
    }
}
