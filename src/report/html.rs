//! `harken report -o report.html`: one self-contained page for a support ticket.
//!
//! Inline CSS and SVG only; a Content-Security-Policy of `default-src 'none'` forbids any
//! request (no fonts, images, scripts or styles from anywhere). Readable without JavaScript:
//! the few lines of inline script only add a filter box and open every section for printing.
//! Light and dark (`prefers-color-scheme`), print styles, and repeated findings grouped by
//! cause and operation in `<details>` so 10,000 findings stay a short page. Every captured
//! string goes through [`escape::html`].

use super::escape::html as e;
use super::ticket::{at, meaning, path_of, title, Bar, Chart, Group, Ticket, MAX_INSTANCES};
use super::{short_time, time};
use crate::model::{Capture, Level};
use crate::timeline::ConvState;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const STYLE: &str = r#"
:root{--bg:#fbfcfd;--fg:#1c2430;--mut:#5d6b7e;--line:#dde3ea;--card:#fff;--code:#eef2f6;
--bad:#d42a46;--badbg:#fde8ec;--good:#1f9254;--warn:#b86e00;--warnbg:#fff4e0;--info:#2f6fd6;
--active:#2fa36b;--ended:#e08a1a;--term:#8a5cc7;--unknown:#c3ccd6;--accent:#3b5bdb;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#10141a;--fg:#e4e9f0;--mut:#9aa7b8;--line:#2a323d;--card:#171d25;
--code:#222a35;--bad:#ff5c77;--badbg:#3a1a22;--good:#4cc38a;--warn:#f0a43a;--warnbg:#35290f;--info:#6ea1ff;
--active:#3fbf80;--ended:#f0a43a;--term:#a985e6;--unknown:#4a5565;--accent:#7c95ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Ubuntu,sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 28px 64px}
header.top{border-bottom:1px solid var(--line);padding-bottom:14px;margin-bottom:8px}
h1{font-size:26px;margin:0 0 4px}h1 span{color:var(--mut);font-weight:400;font-size:16px}
h2{font-size:20px;margin:34px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:18px 0 6px}
a{color:var(--accent)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
code{background:var(--code);padding:1px 5px;border-radius:4px;word-break:break-all}
nav.toc{display:flex;flex-wrap:wrap;gap:6px 14px;font-size:14px;margin:8px 0 0}
.chips{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0 4px}
.chip{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:8px 14px;min-width:120px}
.chip b{display:block;font-size:22px;line-height:1.2}.chip span{color:var(--mut);font-size:13px}
.chip.bad b{color:var(--bad)}
.verdict{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--bad);border-radius:8px;padding:14px 18px;font-size:16px}
.verdict.ok{border-left-color:var(--good)}
.verdict ul{margin:8px 0 0;padding-left:20px}.verdict li{margin:4px 0}
.badge{display:inline-block;font:600 12px/1.6 ui-monospace,Menlo,Consolas,monospace;padding:0 7px;border-radius:10px;background:var(--badbg);color:var(--bad);white-space:nowrap}
.badge.st{background:var(--code);color:var(--fg)}.badge.warning{background:var(--warnbg);color:var(--warn)}
.badge.info{background:var(--code);color:var(--info)}.badge.error{background:var(--badbg);color:var(--bad)}
details.group{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:10px 0}
details.group>summary{cursor:pointer;padding:10px 14px;display:flex;flex-wrap:wrap;gap:6px 10px;align-items:center;list-style:none}
details.group>summary::-webkit-details-marker{display:none}
details.group>summary:before{content:"▸";color:var(--mut)}details.group[open]>summary:before{content:"▾"}
details.group .body{padding:0 16px 14px;border-top:1px solid var(--line)}
.count{margin-left:auto;color:var(--mut);font-size:13px;white-space:nowrap}
.why{font-size:15px}.meaning{color:var(--mut)}
.fix{background:var(--code);border-left:4px solid var(--good);padding:8px 12px;border-radius:4px;margin:10px 0}
.fix b{color:var(--good)}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13.5px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--mut);font-weight:600;font-size:12.5px;text-transform:uppercase;letter-spacing:.03em}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.refused td{background:var(--badbg)}
td.path{word-break:break-all;min-width:16em}
td:first-child.mono{white-space:nowrap}
.more{color:var(--mut);font-size:13px}
figure{margin:12px 0 20px;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;break-inside:avoid}
figcaption{font-size:14px;margin-bottom:4px}figcaption .mut,.mut{color:var(--mut)}
svg{width:100%;height:auto;display:block}
svg text{fill:var(--mut);font:11px ui-monospace,Menlo,Consolas,monospace}
svg .lbl{fill:var(--fg)}svg .badtxt{fill:var(--bad);font-weight:700}
.s-active{fill:var(--active)}.s-disconnected{fill:var(--ended)}.s-terminated{fill:var(--term)}.s-unknown{fill:var(--unknown)}
.m-ok{fill:var(--good)}.m-other{fill:var(--mut)}.m-bad{fill:var(--bad)}.axis{stroke:var(--line)}
.endline{stroke:var(--fg);stroke-dasharray:4 3}.life{fill:var(--info);opacity:.35}.life-edge{stroke:var(--info)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px;color:var(--mut);margin:4px 0 10px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:4px;vertical-align:-1px}
ol.steps li{margin:3px 0}
.filter{margin:6px 0 4px}.filter input{width:100%;max-width:420px;padding:7px 10px;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg);font:inherit}
footer{margin-top:40px;color:var(--mut);font-size:13px;border-top:1px solid var(--line);padding-top:10px}
@media print{body{background:#fff;color:#000;font-size:11pt}main{max-width:none;padding:0}
.filter,nav.toc{display:none}details.group{break-inside:avoid-page}details>summary:before{content:""}
h2{break-after:avoid}a{color:inherit;text-decoration:none}}
"#;

const SCRIPT: &str = r#"
(function(){
var box=document.getElementById('filter');var wrap=document.getElementById('filterwrap');
if(box&&wrap){wrap.hidden=false;box.addEventListener('input',function(){
var q=box.value.toLowerCase();var n=0;
document.querySelectorAll('details.group').forEach(function(d){
var hit=!q||d.textContent.toLowerCase().indexOf(q)>=0;d.hidden=!hit;if(hit)n++;});
var c=document.getElementById('filtercount');if(c)c.textContent=q?(n+' group(s) match'):'';});}
window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});
})();
"#;

/// Render the whole page.
pub fn render(t: &Ticket<'_>) -> String {
    let mut h = String::with_capacity(64 * 1024 + t.findings.len() * 200);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n\
         <meta name=\"generator\" content=\"harken {}\">\n<title>{}</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        env!("CARGO_PKG_VERSION"),
        e(&page_title(t))
    );
    header(&mut h, t);
    verdict(&mut h, t);
    findings(&mut h, t);
    conversations(&mut h, t);
    credentials(&mut h, t);
    statistics(&mut h, t);
    quality(&mut h, t);
    inputs(&mut h, t);
    let _ = write!(
        h,
        "<footer>Made by harken {} from the captures listed above. Credentials are shown as kind:fingerprint{}. \
         Evidence is named <code>file#index</code>: the index of the entry (HAR), flow or reassembled exchange in that file, from 0.</footer>\n\
         </main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        if t.show_secrets { " and, because --show-secrets was given, their values" } else { "; their values are not in this report" }
    );
    h
}

fn page_title(t: &Ticket<'_>) -> String {
    let names: Vec<&str> = t.capture.inputs.iter().map(|i| super::rows::short_input(&i.path)).collect();
    let what = match names.len() {
        0 => "no input".to_string(),
        1 => names[0].to_string(),
        n => format!("{} and {} more", names[0], n - 1),
    };
    format!("harken report: {what}")
}

fn header(h: &mut String, t: &Ticket<'_>) {
    let span = t
        .span
        .map(|(a, b)| format!("{} → {} UTC", short_time(&a), short_time(&b)))
        .unwrap_or_else(|| "no exchanges".into());
    let _ = write!(
        h,
        "<header class=\"top\"><h1>Why were requests refused? <span>harken report</span></h1>\
         <div class=\"mut\">{} · {}</div>",
        e(&page_title(t).replace("harken report: ", "")),
        e(&span)
    );
    let chips = [
        (t.capture.exchanges.len().to_string(), "exchanges", false),
        (t.findings.len().to_string(), "refused (401/403)", !t.findings.is_empty()),
        (t.causes.len().to_string(), "causes", false),
        (t.conversations_total.to_string(), "conversations", false),
        (t.tokens_total.to_string(), "credentials", false),
    ];
    h.push_str("<div class=\"chips\">");
    for (n, label, bad) in chips {
        let _ = write!(h, "<div class=\"chip{}\"><b>{n}</b><span>{label}</span></div>", if bad { " bad" } else { "" });
    }
    h.push_str("</div><nav class=\"toc\"><a href=\"#verdict\">Verdict</a><a href=\"#findings\">Findings</a>\
        <a href=\"#conversations\">Conversations</a><a href=\"#credentials\">Credentials</a>\
        <a href=\"#statistics\">Statistics</a><a href=\"#quality\">Capture quality</a><a href=\"#inputs\">What was read</a></nav></header>\n");
}

fn verdict(h: &mut String, t: &Ticket<'_>) {
    let ok = t.findings.is_empty();
    let _ = write!(
        h,
        "<section id=\"verdict\"><h2>Verdict</h2><div class=\"verdict{}\"><p style=\"margin:0\">{}</p>",
        if ok { " ok" } else { "" },
        e(&t.verdict())
    );
    if !ok {
        h.push_str("<ul>");
        for c in &t.causes {
            let _ = write!(
                h,
                "<li><span class=\"badge\">{}</span> <b>{}</b> × {} — <b>fix:</b> {}</li>",
                e(c.cause.name()),
                e(title(c.cause)),
                c.count,
                e(&c.fix)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</div></section>\n");
}

fn findings(h: &mut String, t: &Ticket<'_>) {
    let _ = write!(
        h,
        "<section id=\"findings\"><h2>Findings</h2><p class=\"mut\">{} refusal{} in {} group{} (same cause on the same operation). \
         Each group shows why, the evidence and the fix; open a group for every request in it.</p>\
         <div class=\"filter\" id=\"filterwrap\" hidden><input id=\"filter\" type=\"search\" placeholder=\"Filter by cause, path, status, file#index…\" aria-label=\"Filter findings\"> <span id=\"filtercount\" class=\"mut\"></span></div>",
        t.findings.len(),
        if t.findings.len() == 1 { "" } else { "s" },
        t.groups.len(),
        if t.groups.len() == 1 { "" } else { "s" }
    );
    if t.groups.is_empty() {
        h.push_str("<p>No request was refused.</p>");
    }
    let open = t.groups.len() <= 12;
    for (i, g) in t.groups.iter().enumerate() {
        group(h, t, g, i, open);
    }
    h.push_str("</section>\n");
}

fn group(h: &mut String, t: &Ticket<'_>, g: &Group<'_>, i: usize, open: bool) {
    let f = g.first();
    let statuses: Vec<String> = g.statuses.iter().map(|s| s.to_string()).collect();
    let _ = write!(
        h,
        "<details class=\"group\" id=\"{}\"{}><summary><span class=\"badge\">{}</span><b>{}</b><code>{}</code>\
         <span class=\"badge st\">{}</span><span class=\"count\">{} request{}</span></summary><div class=\"body\">",
        Group::anchor(i),
        if open { " open" } else { "" },
        e(g.cause.name()),
        e(title(g.cause)),
        e(&g.operation),
        e(&statuses.join(" ")),
        g.findings.len(),
        if g.findings.len() == 1 { "" } else { "s" }
    );
    let _ =
        write!(h, "<p class=\"why\"><b>Why:</b> {}</p><p class=\"meaning\">{}</p>", e(&f.summary), e(meaning(g.cause)));
    let others: Vec<&str> = f.causes.iter().filter(|c| **c != f.cause).map(|c| c.name()).collect();
    if !others.is_empty() {
        let _ = write!(h, "<p class=\"mut\">Also found: {}</p>", e(&others.join(", ")));
    }
    let mut extra = Vec::new();
    if let Some(c) = &f.credential {
        extra.push(format!("credential <code>{}</code>", e(c)));
    }
    if let Some(c) = &f.conversation {
        extra.push(format!("conversation <code>{}</code>", e(c)));
    }
    if !extra.is_empty() {
        let _ = write!(h, "<p class=\"mut\">{}</p>", extra.join(" · "));
    }
    // The evidence of the first refusal.
    h.push_str("<h3>Evidence</h3><table><thead><tr><th>time (UTC)</th><th>method</th><th>path</th><th class=\"n\">status</th><th>file#index</th><th>what it shows</th></tr></thead><tbody>");
    for ev in &f.evidence {
        let ex = find(t.capture, &ev.input, ev.index);
        let refused = ex.and_then(|x| x.status()).is_some_and(|s| s == 401 || s == 403);
        let _ = write!(
            h,
            "<tr{}><td class=\"mono\">{}</td><td>{}</td><td class=\"path mono\">{}</td><td class=\"n\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            if refused { " class=\"refused\"" } else { "" },
            ex.map(|x| short_time(&x.started)).unwrap_or_default(),
            e(ex.map(|x| x.request.method.as_str()).unwrap_or("")),
            e(&ex.map(|x| x.path()).unwrap_or_default()),
            ex.and_then(|x| x.status()).map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            e(&at(&ev.input, ev.index)),
            e(&ev.fact)
        );
    }
    h.push_str("</tbody></table>");
    let _ = write!(h, "<div class=\"fix\"><b>Fix:</b> {}</div>", e(&f.fix));
    if g.findings.len() > 1 {
        let _ = write!(
            h,
            "<h3>Every refused request in this group ({})</h3><table><thead><tr><th>time (UTC)</th><th>method</th><th>path</th><th class=\"n\">status</th><th>file#index</th></tr></thead><tbody>",
            g.findings.len()
        );
        for x in g.findings.iter().take(MAX_INSTANCES) {
            let _ = write!(
                h,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td class=\"path mono\">{}</td><td class=\"n\">{}</td><td class=\"mono\">{}</td></tr>",
                short_time(&x.time),
                e(&x.method),
                e(&path_of(&x.url)),
                x.status,
                e(&at(&x.input, x.index))
            );
        }
        h.push_str("</tbody></table>");
        if g.findings.len() > MAX_INSTANCES {
            let rest: Vec<String> =
                g.findings.iter().skip(MAX_INSTANCES).take(2000).map(|x| at(&x.input, x.index)).collect();
            let _ = write!(
                h,
                "<p class=\"more\">… and {} more: <span class=\"mono\">{}</span>{}</p>",
                g.findings.len() - MAX_INSTANCES,
                e(&rest.join(", ")),
                if g.findings.len() - MAX_INSTANCES > rest.len() { " …" } else { "" }
            );
        }
    }
    h.push_str("</div></details>\n");
}

/// The exchange an evidence line points at (by input path and index).
fn find<'c>(c: &'c Capture, input: &str, index: usize) -> Option<&'c crate::model::Exchange> {
    let i = c.inputs.iter().position(|x| x.path == input)?;
    c.find(i, index)
}

// ---------------------------------------------------------------------------------------------
// Charts

const W: f64 = 1000.0;
const PAD: f64 = 14.0;

struct Scale {
    start: DateTime<Utc>,
    span_ms: f64,
}

impl Scale {
    fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Scale {
        let span_ms = ((end - start).num_milliseconds() as f64).max(1000.0);
        Scale { start, span_ms }
    }
    fn x(&self, t: DateTime<Utc>) -> f64 {
        let ms = (t - self.start).num_milliseconds() as f64;
        PAD + (ms / self.span_ms).clamp(0.0, 1.0) * (W - 2.0 * PAD)
    }
    fn ticks(&self, h: &mut String, y: f64) {
        for k in 0..=4 {
            let ms = self.span_ms * f64::from(k) / 4.0;
            let t = self.start + chrono::Duration::milliseconds(ms as i64);
            let x = PAD + (W - 2.0 * PAD) * f64::from(k) / 4.0;
            let anchor = match k {
                0 => "start",
                4 => "end",
                _ => "middle",
            };
            let _ = write!(
                h,
                "<line class=\"axis\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
                y - 4.0,
                y,
                y + 12.0,
                t.format("%H:%M:%S")
            );
        }
    }
}

/// Text anchor for a label at `x`, so it stays inside the chart.
fn anchor(x: f64) -> &'static str {
    if x > W - 160.0 {
        "end"
    } else if x < 160.0 {
        "start"
    } else {
        "middle"
    }
}

fn state_class(s: ConvState) -> &'static str {
    match s {
        ConvState::Active => "s-active",
        ConvState::Disconnected => "s-disconnected",
        ConvState::Terminated => "s-terminated",
        ConvState::Unknown => "s-unknown",
    }
}

fn conversations(h: &mut String, t: &Ticket<'_>) {
    let _ = write!(
        h,
        "<section id=\"conversations\"><h2>Conversations</h2><p class=\"mut\">{} conversation{} named by the traffic{}. \
         Each chart shows the state over time as the capture proves it, every request as a mark (refusals in red, taller), \
         and the instant the conversation ended.</p>\
         <div class=\"legend\"><span><i class=\"s-active\" style=\"background:var(--active)\"></i>active</span>\
         <span><i style=\"background:var(--ended)\"></i>disconnected</span><span><i style=\"background:var(--term)\"></i>terminated</span>\
         <span><i style=\"background:var(--unknown)\"></i>unknown (no evidence yet)</span><span><i style=\"background:var(--good)\"></i>request accepted</span>\
         <span><i style=\"background:var(--bad)\"></i>refused (401/403)</span><span>┆ ended</span></div>",
        t.conversations_total,
        if t.conversations_total == 1 { "" } else { "s" },
        if t.conversations_total > t.charts.len() {
            format!("; the {} with refusals or the most events are drawn", t.charts.len())
        } else {
            String::new()
        }
    );
    if t.charts.is_empty() {
        h.push_str("<p>No request named a conversation.</p>");
    }
    for c in &t.charts {
        chart(h, c);
    }
    h.push_str("</section>\n");
}

fn chart(h: &mut String, c: &Chart<'_>) {
    let s = Scale::new(c.start, c.end);
    let conv = c.conversation;
    let mut caption = format!(
        "<b>conversation</b> <code>{}</code> <span class=\"mut\">{} event{}, last state {}",
        e(&conv.id),
        conv.events.len(),
        if conv.events.len() == 1 { "" } else { "s" },
        e(conv.state.name())
    );
    if c.refused > 0 {
        let _ = write!(caption, ", <b style=\"color:var(--bad)\">{} refused</b>", c.refused);
    }
    if c.after_end > 0 {
        let _ = write!(caption, ", {} after it ended", c.after_end);
    }
    if let Some((when, proof)) = &c.ended {
        let _ = write!(caption, "; ended {} (proof <code>{}</code>)", short_time(when), e(proof));
    }
    caption.push_str("</span>");
    let _ = write!(
        h,
        "<figure><figcaption>{caption}</figcaption><svg viewBox=\"0 0 {W} 118\" role=\"img\" aria-label=\"timeline of conversation {}\">",
        e(&conv.id)
    );
    for (a, b, st) in &c.segments {
        let (x1, x2) = (s.x(*a), s.x(*b));
        let _ = write!(
            h,
            "<rect class=\"{}\" x=\"{x1:.1}\" y=\"14\" width=\"{:.1}\" height=\"20\" rx=\"3\"><title>{} from {} to {}</title></rect>",
            state_class(*st),
            (x2 - x1).max(2.0),
            st.name(),
            short_time(a),
            short_time(b)
        );
        if x2 - x1 > 70.0 {
            let _ = write!(h, "<text class=\"lbl\" x=\"{:.1}\" y=\"28\">{}</text>", x1 + 5.0, st.name());
        }
    }
    let _ = write!(h, "<line class=\"axis\" x1=\"{PAD}\" y1=\"62\" x2=\"{}\" y2=\"62\"/>", W - PAD);
    let mut labels = 0;
    for ev in conv.events.iter().take(3000) {
        let x = s.x(ev.time);
        let refused = matches!(ev.status, Some(401 | 403));
        let class = match ev.status {
            Some(401 | 403) => "m-bad",
            Some(st) if st < 400 => "m-ok",
            _ => "m-other",
        };
        let (y, hgt, w) = if refused { (42.0, 30.0, 4.0) } else { (52.0, 20.0, 2.5) };
        let ws = ev.websocket.as_ref().map(|w| format!(".{}", w.message)).unwrap_or_default();
        let _ = write!(
            h,
            "<rect class=\"{class}\" x=\"{:.1}\" y=\"{y}\" width=\"{w}\" height=\"{hgt}\" rx=\"1\"><title>{} {} {} → {} ({}{}) state {} → {}{}</title></rect>",
            x - w / 2.0,
            short_time(&ev.time),
            e(&ev.method),
            e(&ev.path),
            ev.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            e(&at(&ev.input, ev.index)),
            ws,
            ev.state_before.name(),
            ev.state.name(),
            if ev.after_end { ", after the end" } else { "" }
        );
        if refused && labels < 6 {
            let _ = write!(
                h,
                "<text class=\"badtxt\" x=\"{x:.1}\" y=\"{}\" text-anchor=\"{}\">{} {}</text>",
                86 + (labels % 2) * 11,
                anchor(x),
                ev.status.unwrap_or(0),
                e(&at(&ev.input, ev.index))
            );
            labels += 1;
        }
    }
    if let Some((when, _)) = &c.ended {
        let x = s.x(*when);
        let _ = write!(
            h,
            "<line class=\"endline\" x1=\"{x:.1}\" y1=\"6\" x2=\"{x:.1}\" y2=\"76\"/><text class=\"lbl\" x=\"{:.1}\" y=\"10\">ended {}</text>",
            x + 4.0,
            when.format("%H:%M:%S")
        );
    }
    s.ticks(h, 104.0);
    h.push_str("</svg></figure>\n");
}

fn credentials(h: &mut String, t: &Ticket<'_>) {
    let _ = write!(
        h,
        "<section id=\"credentials\"><h2>Credentials</h2><p class=\"mut\">{} credential{} seen{}. Each bar is a credential's life as the capture shows it: \
         issued ▲, refreshed ◆, expired │, revoked ✕; below it every request that carried it (refusals in red). A dashed start means the issue was not captured.</p>",
        t.tokens_total,
        if t.tokens_total == 1 { "" } else { "s" },
        if t.tokens_total > t.bars.len() { format!("; the {} with refusals or the most uses are drawn", t.bars.len()) } else { String::new() }
    );
    if t.bars.is_empty() {
        h.push_str("<p>No credential was sent or issued.</p>");
    }
    for b in &t.bars {
        bar(h, b, t.show_secrets);
    }
    h.push_str("</section>\n");
}

fn bar(h: &mut String, b: &Bar<'_>, show: bool) {
    let tk = b.token;
    let s = Scale::new(b.start, b.end);
    let mut facts = vec![format!("grant {}", tk.grant.name())];
    if let Some(r) = &tk.region {
        facts.push(format!("region {r}"));
    }
    match &tk.scopes {
        Some(sc) if sc.is_empty() => facts.push("no scopes".into()),
        Some(sc) => facts.push(format!("scopes {}", sc.join(" "))),
        None => {}
    }
    facts.push(format!("{} use{}, {} refused", tk.uses, if tk.uses == 1 { "" } else { "s" }, tk.refused));
    let _ = write!(
        h,
        "<figure><figcaption><code>{}</code> <span class=\"mut\">{}</span>{}</figcaption>",
        e(&tk.label()),
        e(&facts.join(" · ")),
        match (&tk.rare().value, show) {
            (Some(v), true) => format!("<div class=\"mono\" style=\"word-break:break-all\">value: {}</div>", e(v)),
            _ => String::new(),
        }
    );
    let _ = write!(h, "<svg viewBox=\"0 0 {W} 96\" role=\"img\" aria-label=\"lifetime of {}\">", e(&tk.label()));
    let (life_start, life_end) = tk.lifetime(b.start, b.end);
    let (x1, x2) = (s.x(life_start), s.x(life_end.max(life_start)));
    let _ = write!(
        h,
        "<rect class=\"life\" x=\"{x1:.1}\" y=\"16\" width=\"{:.1}\" height=\"18\" rx=\"3\"><title>usable from {} to {}</title></rect>",
        (x2 - x1).max(2.0),
        short_time(&life_start),
        short_time(&life_end)
    );
    if tk.issued.is_none() {
        let _ = write!(
            h,
            "<line class=\"life-edge\" stroke-dasharray=\"3 3\" x1=\"{x1:.1}\" y1=\"14\" x2=\"{x1:.1}\" y2=\"36\"/>"
        );
    }
    let mark = |t: Option<DateTime<Utc>>, sym: &str, label: &str, class: &str, h: &mut String| {
        if let Some(t) = t {
            let x = s.x(t);
            let _ = write!(
                h,
                "<text class=\"{class}\" x=\"{x:.1}\" y=\"12\" text-anchor=\"middle\">{sym}<title>{label} {}</title></text>",
                short_time(&t)
            );
        }
    };
    mark(tk.issued, "▲", "issued", "lbl", h);
    mark(tk.rare().superseded_at, "◆", "refreshed (replaced)", "lbl", h);
    mark(tk.rare().revoked, "✕", "revoked", "badtxt", h);
    if let Some(x) = tk.expires {
        let word = if tk.last_use.is_some_and(|l| l >= x) { "expired" } else { "expires" };
        if x <= b.end {
            let xx = s.x(x);
            let _ = write!(
                h,
                "<line stroke=\"var(--bad)\" stroke-width=\"2\" x1=\"{xx:.1}\" y1=\"12\" x2=\"{xx:.1}\" y2=\"38\"><title>{word} {}</title></line><text class=\"badtxt\" x=\"{:.1}\" y=\"30\" text-anchor=\"{}\">{word}</text>",
                short_time(&x),
                if anchor(xx) == "end" { xx - 4.0 } else { xx + 4.0 },
                if anchor(xx) == "end" { "end" } else { "start" }
            );
        } else {
            let _ = write!(
                h,
                "<text class=\"lbl\" x=\"{:.1}\" y=\"30\" text-anchor=\"end\">{word} {} →</text>",
                W - PAD - 4.0,
                short_time(&x)
            );
        }
    }
    for (when, status, where_) in b.uses.iter().take(3000) {
        let x = s.x(*when);
        let refused = matches!(status, Some(401 | 403));
        let class = match status {
            Some(401 | 403) => "m-bad",
            Some(st) if *st < 400 => "m-ok",
            _ => "m-other",
        };
        let (y, hgt, w) = if refused { (40.0, 26.0, 4.0) } else { (46.0, 16.0, 2.5) };
        let _ = write!(
            h,
            "<rect class=\"{class}\" x=\"{:.1}\" y=\"{y}\" width=\"{w}\" height=\"{hgt}\"><title>{} {} ({})</title></rect>",
            x - w / 2.0,
            short_time(when),
            status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            e(where_)
        );
    }
    s.ticks(h, 84.0);
    h.push_str("</svg></figure>\n");
}

// ---------------------------------------------------------------------------------------------
// Tables

fn statistics(h: &mut String, t: &Ticket<'_>) {
    h.push_str("<section id=\"statistics\"><h2>Statistics</h2><div style=\"display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:0 28px\">");
    h.push_str("<div><h3>Responses by status</h3><table><thead><tr><th>status</th><th class=\"n\">exchanges</th></tr></thead><tbody>");
    for (s, n) in &t.statuses {
        let bad = s == "401" || s == "403";
        let _ = write!(
            h,
            "<tr{}><td>{}</td><td class=\"n\">{n}</td></tr>",
            if bad { " class=\"refused\"" } else { "" },
            e(s)
        );
    }
    h.push_str("</tbody></table></div>");
    h.push_str("<div><h3>Refusals by cause</h3><table><thead><tr><th>cause</th><th class=\"n\">refusals</th><th class=\"n\">share</th></tr></thead><tbody>");
    let total = t.findings.len().max(1) as f64;
    for c in &t.causes {
        let _ = write!(
            h,
            "<tr><td><span class=\"badge\">{}</span></td><td class=\"n\">{}</td><td class=\"n\">{:.0}%</td></tr>",
            e(c.cause.name()),
            c.count,
            c.count as f64 * 100.0 / total
        );
    }
    if t.causes.is_empty() {
        h.push_str("<tr><td colspan=\"3\" class=\"mut\">none</td></tr>");
    }
    h.push_str("</tbody></table></div></div>");
    h.push_str("<h3>Hosts</h3><table><thead><tr><th>host</th><th class=\"n\">requests</th><th class=\"n\">401/403</th><th class=\"n\">other errors</th></tr></thead><tbody>");
    for x in t.hosts.iter().take(50) {
        let _ = write!(
            h,
            "<tr><td class=\"mono\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            e(if x.host.is_empty() { "(none)" } else { &x.host }),
            x.requests,
            x.refused,
            x.errors
        );
    }
    h.push_str("</tbody></table>");
    if !t.groups.is_empty() {
        h.push_str("<h3>Refusals by operation</h3><table><thead><tr><th>operation</th><th>cause</th><th class=\"n\">refusals</th></tr></thead><tbody>");
        let mut groups: Vec<(usize, &Group<'_>)> = t.groups.iter().enumerate().collect();
        groups.sort_by_key(|g| std::cmp::Reverse(g.1.findings.len()));
        for (i, g) in groups.into_iter().take(100) {
            let _ = write!(
                h,
                "<tr><td class=\"mono path\"><a href=\"#{}\">{}</a></td><td><span class=\"badge\">{}</span></td><td class=\"n\">{}</td></tr>",
                Group::anchor(i),
                e(&g.operation),
                e(g.cause.name()),
                g.findings.len()
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>\n");
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

fn quality(h: &mut String, t: &Ticket<'_>) {
    h.push_str("<section id=\"quality\"><h2>Capture quality</h2>");
    if t.quality.is_empty() {
        h.push_str("<p>Nothing was lost or guessed while reading the inputs.</p>");
    }
    let mut steps_shown = false;
    for q in &t.quality {
        let _ = write!(
            h,
            "<h3><span class=\"badge {}\">{}</span> <code>{}</code> <span class=\"mut\">× {}</span></h3><p>{}</p>",
            level(q.level),
            level(q.level),
            e(&q.code),
            q.count,
            e(&q.example)
        );
        if !q.steps.is_empty() {
            steps_shown = true;
            h.push_str("<p><b>To capture the missing evidence:</b></p><ol class=\"steps\">");
            for s in &q.steps {
                let _ = write!(h, "<li>{}</li>", e(s));
            }
            h.push_str("</ol>");
        }
    }
    if !steps_shown && !t.quality.is_empty() {
        h.push_str("<p class=\"mut\">None of these notes hides evidence a diagnosis needs.</p>");
    }
    h.push_str("</section>\n");
}

fn inputs(h: &mut String, t: &Ticket<'_>) {
    h.push_str("<section id=\"inputs\"><h2>What was read</h2><table><thead><tr><th>input</th><th>format</th><th>producer</th><th class=\"n\">exchanges</th><th class=\"n\">notes</th></tr></thead><tbody>");
    for i in &t.capture.inputs {
        let _ = write!(
            h,
            "<tr><td class=\"mono path\">{}{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            e(&i.path),
            i.error.as_deref().map(|x| format!("<br><span style=\"color:var(--bad)\">{}</span>", e(x))).unwrap_or_default(),
            e(i.format.map(|f| f.name()).unwrap_or("?")),
            e(i.creator.as_deref().unwrap_or("-")),
            i.exchanges,
            i.notes.len()
        );
    }
    h.push_str("</tbody></table>");
    let span = t
        .span
        .map(|(a, b)| {
            let secs = (b - a).num_seconds();
            format!("from {} to {} UTC ({})", time(&a), time(&b), duration(secs))
        })
        .unwrap_or_else(|| "no exchanges".into());
    let _ = write!(
        h,
        "<p>Time span: {}. Conversation profile: <code>{}</code>. Clock: {}.</p></section>",
        e(&span),
        e(&t.analysis.timeline.profile),
        e(t.analysis
            .tokens
            .clock_skew
            .as_ref()
            .map(|c| c.statement.as_str())
            .unwrap_or("no response Date header to compare the server's clock with"))
    );
}

/// `1 h 2 min`, `3 min 4 s`, `5 s`.
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}
