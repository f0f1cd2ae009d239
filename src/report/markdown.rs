//! `harken report -o report.md`: the same content as the HTML page, as Markdown that renders
//! on GitHub, GitLab and in Jira/Zendesk Markdown editors: headings, pipe tables, code spans,
//! fenced text blocks; no raw HTML. Charts become compact text timelines.
//!
//! Captured text goes through [`escape::markdown`] (inline text) and
//! [`escape::markdown_code`] (code spans; pipes escaped in tables).

use super::escape::{markdown as t, markdown_code as c};
use super::html::duration;
use super::short_time;
use super::ticket::{at, meaning, path_of, title, Bar, Chart, Ticket, MAX_INSTANCES};
use crate::model::{Capture, Level};
use crate::timeline::ConvState;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// Characters of a text timeline.
const STRIP: usize = 60;

pub fn render(k: &Ticket<'_>) -> String {
    let mut m = String::with_capacity(16 * 1024 + k.findings.len() * 120);
    let names: Vec<&str> = k.capture.inputs.iter().map(|i| super::rows::short_input(&i.path)).collect();
    let _ = writeln!(m, "# harken report: {}\n", t(&names.join(", ")));
    let _ = writeln!(m, "## Verdict\n\n{}\n", t(&k.verdict()));
    if !k.causes.is_empty() {
        m.push_str("| cause | refusals | what it means | fix |\n|---|---:|---|---|\n");
        for x in &k.causes {
            let _ =
                writeln!(m, "| {} | {} | {} | {} |", c(x.cause.name(), true), x.count, t(title(x.cause)), t(&x.fix));
        }
        m.push('\n');
    }
    findings(&mut m, k);
    conversations(&mut m, k);
    credentials(&mut m, k);
    statistics(&mut m, k);
    quality(&mut m, k);
    inputs(&mut m, k);
    let _ = writeln!(
        m,
        "---\n\nMade by harken {}. Credentials are shown as kind:fingerprint{}. Evidence is named `file#index` (entry index in that file, from 0).",
        env!("CARGO_PKG_VERSION"),
        if k.show_secrets { " and their values (--show-secrets)" } else { "; their values are not in this report" }
    );
    m
}

fn find<'c>(cap: &'c Capture, input: &str, index: usize) -> Option<&'c crate::model::Exchange> {
    let i = cap.inputs.iter().position(|x| x.path == input)?;
    cap.find(i, index)
}

fn findings(m: &mut String, k: &Ticket<'_>) {
    let _ = writeln!(
        m,
        "## Findings\n\n{} refusal(s) in {} group(s): the same cause on the same operation is one group.\n",
        k.findings.len(),
        k.groups.len()
    );
    for (i, g) in k.groups.iter().enumerate() {
        let f = g.first();
        let statuses: Vec<String> = g.statuses.iter().map(|s| s.to_string()).collect();
        let _ = writeln!(
            m,
            "### {}. {} on {} ({}, {} request{})\n",
            i + 1,
            t(title(g.cause)),
            c(&g.operation, false),
            statuses.join("/"),
            g.findings.len(),
            if g.findings.len() == 1 { "" } else { "s" }
        );
        let _ = writeln!(m, "- **Cause:** {}", c(g.cause.name(), false));
        let _ = writeln!(m, "- **Why:** {}", t(&f.summary));
        let _ = writeln!(m, "- **What it means:** {}", t(meaning(g.cause)));
        let others: Vec<&str> = f.causes.iter().filter(|x| **x != f.cause).map(|x| x.name()).collect();
        if !others.is_empty() {
            let _ = writeln!(m, "- **Also found:** {}", t(&others.join(", ")));
        }
        if let Some(cr) = &f.credential {
            let _ = writeln!(m, "- **Credential:** {}", c(cr, false));
        }
        if let Some(cv) = &f.conversation {
            let _ = writeln!(m, "- **Conversation:** {}", c(cv, false));
        }
        let _ = writeln!(m, "- **Fix:** {}\n", t(&f.fix));
        m.push_str("Evidence:\n\n| time (UTC) | method | path | status | file#index | what it shows |\n|---|---|---|---:|---|---|\n");
        for ev in &f.evidence {
            let ex = find(k.capture, &ev.input, ev.index);
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} |",
                ex.map(|x| short_time(&x.started)).unwrap_or_default(),
                t(ex.map(|x| x.request.method.as_str()).unwrap_or("")),
                c(&ex.map(|x| x.path()).unwrap_or_default(), true),
                ex.and_then(|x| x.status()).map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                c(&at(&ev.input, ev.index), true),
                t(&ev.fact)
            );
        }
        m.push('\n');
        if g.findings.len() > 1 {
            let _ = writeln!(
                m,
                "Every refused request in this group:\n\n| time (UTC) | method | path | status | file#index |\n|---|---|---|---:|---|"
            );
            for x in g.findings.iter().take(MAX_INSTANCES) {
                let _ = writeln!(
                    m,
                    "| {} | {} | {} | {} | {} |",
                    short_time(&x.time),
                    t(&x.method),
                    c(&path_of(&x.url), true),
                    x.status,
                    c(&at(&x.input, x.index), true)
                );
            }
            m.push('\n');
            if g.findings.len() > MAX_INSTANCES {
                let rest: Vec<String> =
                    g.findings.iter().skip(MAX_INSTANCES).take(500).map(|x| at(&x.input, x.index)).collect();
                let _ = writeln!(
                    m,
                    "… and {} more: {}{}\n",
                    g.findings.len() - MAX_INSTANCES,
                    t(&rest.join(", ")),
                    if g.findings.len() - MAX_INSTANCES > rest.len() { " …" } else { "" }
                );
            }
        }
    }
}

fn pos(start: DateTime<Utc>, end: DateTime<Utc>, x: DateTime<Utc>) -> usize {
    let span = ((end - start).num_milliseconds() as f64).max(1000.0);
    let f = ((x - start).num_milliseconds() as f64 / span).clamp(0.0, 1.0);
    ((f * (STRIP - 1) as f64).round() as usize).min(STRIP - 1)
}

fn state_char(s: ConvState) -> char {
    match s {
        ConvState::Active => '=',
        ConvState::Disconnected => '-',
        ConvState::Terminated => '_',
        ConvState::Unknown => '.',
    }
}

/// `[....====|====X----]`: states (`.` unknown, `=` active, `-` disconnected, `_` terminated),
/// requests `|`, refusals `X`, the end `#`.
fn strip(ch: &Chart<'_>) -> String {
    let mut cells: Vec<char> = vec![' '; STRIP];
    for (a, b, st) in &ch.segments {
        let (i, j) = (pos(ch.start, ch.end, *a), pos(ch.start, ch.end, *b));
        for cell in cells.iter_mut().take(j + 1).skip(i) {
            *cell = state_char(*st);
        }
    }
    for ev in &ch.conversation.events {
        let i = pos(ch.start, ch.end, ev.time);
        if cells[i] != 'X' {
            cells[i] = if matches!(ev.status, Some(401 | 403)) { 'X' } else { '|' };
        }
    }
    if let Some((when, _)) = &ch.ended {
        let i = pos(ch.start, ch.end, *when);
        if cells[i] != 'X' {
            cells[i] = '#';
        }
    }
    cells.into_iter().collect()
}

fn conversations(m: &mut String, k: &Ticket<'_>) {
    let _ = writeln!(
        m,
        "## Conversations\n\n{} conversation(s){}. Timelines: `.` unknown, `=` active, `-` disconnected, `_` terminated; `|` a request, `X` a refusal, `#` the end.\n",
        k.conversations_total,
        if k.conversations_total > k.charts.len() {
            format!(" (the {} with refusals or the most events are shown)", k.charts.len())
        } else {
            String::new()
        }
    );
    for ch in &k.charts {
        let conv = ch.conversation;
        let _ = writeln!(m, "### Conversation {}\n", c(&conv.id, false));
        let mut facts = format!("{} events, last state {}", conv.events.len(), conv.state.name());
        if ch.refused > 0 {
            let _ = write!(facts, ", {} refused", ch.refused);
        }
        if let Some((when, proof)) = &ch.ended {
            let _ = write!(facts, "; ended {} (proof {})", short_time(when), proof);
        }
        let _ = writeln!(m, "{}\n", t(&facts));
        let _ = writeln!(m, "```text\n{} [{}] {}", ch.start.format("%H:%M:%S"), strip(ch), ch.end.format("%H:%M:%S"));
        for ev in conv.events.iter().take(40) {
            let mark = if matches!(ev.status, Some(401 | 403)) { "X" } else { " " };
            let change = if ev.state != ev.state_before {
                format!("{} -> {}", ev.state_before.name(), ev.state.name())
            } else {
                ev.state.name().to_string()
            };
            let _ = writeln!(
                m,
                "{mark} {} {:<6} {:<3} {:<22} {}{} {}",
                ev.time.format("%H:%M:%S%.3f"),
                fence_safe(&ev.method),
                ev.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                fence_safe(&at(&ev.input, ev.index)),
                change,
                if ev.after_end { " (after the end)" } else { "" },
                fence_safe(&clip(&ev.path, 70))
            );
        }
        if conv.events.len() > 40 {
            let _ = writeln!(m, "  … {} more events", conv.events.len() - 40);
        }
        m.push_str("```\n\n");
    }
}

/// Text for a fenced block: escaped, and never a line of backticks that would close it.
fn fence_safe(s: &str) -> String {
    super::escape::escape(s).replace("```", "'''")
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut x: String = s.chars().take(n - 1).collect();
        x.push('…');
        x
    }
}

fn bar_strip(b: &Bar<'_>) -> String {
    let tk = b.token;
    let mut cells: Vec<char> = vec![' '; STRIP];
    let (life_start, life_end) = tk.lifetime(b.start, b.end);
    let (i, j) = (pos(b.start, b.end, life_start), pos(b.start, b.end, life_end.max(life_start)));
    for cell in cells.iter_mut().take(j + 1).skip(i) {
        *cell = '=';
    }
    for (when, status, _) in &b.uses {
        let p = pos(b.start, b.end, *when);
        if cells[p] != 'X' {
            cells[p] = if matches!(status, Some(401 | 403)) { 'X' } else { '|' };
        }
    }
    for (when, ch) in [(tk.issued, '^'), (tk.rare().superseded_at, '*'), (tk.expires, '!'), (tk.rare().revoked, 'R')] {
        if let Some(w) = when.filter(|w| *w >= b.start && *w <= b.end) {
            let p = pos(b.start, b.end, w);
            if cells[p] != 'X' {
                cells[p] = ch;
            }
        }
    }
    cells.into_iter().collect()
}

fn credentials(m: &mut String, k: &Ticket<'_>) {
    let _ = writeln!(
        m,
        "## Credentials\n\n{} credential(s){}. Lifetimes: `=` usable, `^` issued, `*` refreshed, `!` expired, `R` revoked; `|` a use, `X` a refused use.\n",
        k.tokens_total,
        if k.tokens_total > k.bars.len() { format!(" (the {} with refusals or the most uses are shown)", k.bars.len()) } else { String::new() }
    );
    if k.bars.is_empty() {
        return;
    }
    m.push_str("| credential | grant | region | scopes | issued | expires | revoked | uses | refused |\n|---|---|---|---|---|---|---|---:|---:|\n");
    let when = |v: Option<DateTime<Utc>>| v.map(|x| short_time(&x)).unwrap_or_else(|| "-".into());
    for b in &k.bars {
        let tk = b.token;
        let scopes = match &tk.scopes {
            None => "?".to_string(),
            Some(s) if s.is_empty() => "(none)".to_string(),
            Some(s) => s.join(" "),
        };
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c(&tk.label(), true),
            t(tk.grant.name()),
            t(tk.region.unwrap_or("-")),
            c(&scopes, true),
            when(tk.issued),
            when(tk.expires),
            when(tk.rare().revoked),
            tk.uses,
            tk.refused
        );
    }
    m.push_str("\n```text\n");
    for b in &k.bars {
        let _ = writeln!(
            m,
            "{:<20} {} [{}] {}{}",
            fence_safe(&b.token.label()),
            b.start.format("%H:%M:%S"),
            bar_strip(b),
            b.end.format("%H:%M:%S"),
            match b.token.expires {
                Some(x) if x > b.end => format!(" (expires {} ->)", short_time(&x)),
                _ => String::new(),
            }
        );
    }
    m.push_str("```\n\n");
    if k.show_secrets {
        for b in &k.bars {
            if let Some(v) = &b.token.rare().value {
                let _ = writeln!(m, "- {} value: {}", c(&b.token.label(), false), c(v, false));
            }
        }
        m.push('\n');
    }
}

fn statistics(m: &mut String, k: &Ticket<'_>) {
    m.push_str("## Statistics\n\n### Responses by status\n\n| status | exchanges |\n|---|---:|\n");
    for (s, n) in &k.statuses {
        let _ = writeln!(m, "| {} | {n} |", t(s));
    }
    m.push_str("\n### Refusals by cause\n\n| cause | refusals | share |\n|---|---:|---:|\n");
    let total = k.findings.len().max(1) as f64;
    for x in &k.causes {
        let _ = writeln!(m, "| {} | {} | {:.0}% |", c(x.cause.name(), true), x.count, x.count as f64 * 100.0 / total);
    }
    m.push_str("\n### Hosts\n\n| host | requests | 401/403 | other errors |\n|---|---:|---:|---:|\n");
    for h in k.hosts.iter().take(50) {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} |",
            c(if h.host.is_empty() { "(none)" } else { &h.host }, true),
            h.requests,
            h.refused,
            h.errors
        );
    }
    m.push('\n');
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

fn quality(m: &mut String, k: &Ticket<'_>) {
    m.push_str("## Capture quality\n\n");
    if k.quality.is_empty() {
        m.push_str("Nothing was lost or guessed while reading the inputs.\n\n");
        return;
    }
    m.push_str("| level | note | count | example |\n|---|---|---:|---|\n");
    for q in &k.quality {
        let _ = writeln!(m, "| {} | {} | {} | {} |", level(q.level), c(&q.code, true), q.count, t(&q.example));
    }
    m.push('\n');
    for q in k.quality.iter().filter(|q| !q.steps.is_empty()) {
        let _ = writeln!(m, "To capture what {} hides:\n", c(&q.code, false));
        for (i, s) in q.steps.iter().enumerate() {
            let _ = writeln!(m, "{}. {}", i + 1, t(s));
        }
        m.push('\n');
    }
}

fn inputs(m: &mut String, k: &Ticket<'_>) {
    m.push_str("## What was read\n\n| input | format | producer | exchanges | notes |\n|---|---|---|---:|---:|\n");
    for i in &k.capture.inputs {
        let _ = writeln!(
            m,
            "| {}{} | {} | {} | {} | {} |",
            c(&i.path, true),
            i.error.as_deref().map(|e| format!(" (error: {})", t(e))).unwrap_or_default(),
            t(i.format.map(|f| f.name()).unwrap_or("?")),
            t(i.creator.as_deref().unwrap_or("-")),
            i.exchanges,
            i.notes.len()
        );
    }
    let span = k
        .span
        .map(|(a, b)| {
            format!("from {} to {} UTC ({})", short_time(&a), short_time(&b), duration((b - a).num_seconds()))
        })
        .unwrap_or_else(|| "no exchanges".into());
    let _ = writeln!(
        m,
        "\nTime span: {}. Conversation profile: {}. Clock: {}.\n",
        t(&span),
        c(&k.analysis.timeline.profile, false),
        t(k.analysis
            .tokens
            .clock_skew
            .as_ref()
            .map(|x| x.statement.as_str())
            .unwrap_or("no response Date header to compare the server's clock with"))
    );
}
