//! `harken report`: the HTML page in headless Chromium (renders, no console message, no network
//! request), the Markdown through a CommonMark parser, and no secret in either.

use crate::common::*;
use crate::secrets::secrets_of;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn report(files: &[PathBuf], out: &Path, extra: &[&str]) -> String {
    let mut args: Vec<&str> = vec!["report"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    args.extend_from_slice(&["-o", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let o = harken(&args);
    assert!(o.status.success(), "harken report: {}", stderr(&o));
    std::fs::read_to_string(out).unwrap()
}

/// Every finding of `harken analyze` over the same files.
fn findings(files: &[PathBuf]) -> Vec<Value> {
    let mut args: Vec<&str> = vec!["analyze", "--format", "json"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    json(&args)["findings"].as_array().unwrap().clone()
}

fn file_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[test]
fn html_report_holds_every_cause_and_evidence_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let files = sample_hars();
    let page = report(&files, &dir.path().join("r.html"), &[]);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"), "CSP missing");
    // Nothing that could load anything.
    for bad in ["src=\"http", "href=\"http", "url(", "@import", "<link rel=\"stylesheet"] {
        assert!(!page.contains(bad), "the page may load something: {bad}");
    }
    assert!(page.contains("prefers-color-scheme:dark") && page.contains("@media print"));
    let fs = findings(&files);
    assert!(fs.len() >= 20);
    for f in &fs {
        let cause = f["cause"].as_str().unwrap();
        assert!(page.contains(cause), "cause {cause} missing");
        let at = format!("{}#{}", file_name(f["input"].as_str().unwrap()), f["index"]);
        assert!(page.contains(&html_escape(&at)), "refused request {at} missing");
        for e in f["evidence"].as_array().unwrap() {
            let at = format!("{}#{}", file_name(e["input"].as_str().unwrap()), e["index"]);
            assert!(page.contains(&html_escape(&at)), "evidence {at} missing");
        }
        // The first finding of every group shows its fix.
    }
    for section in
        ["Verdict", "Findings", "Conversations", "Credentials", "Statistics", "Capture quality", "What was read"]
    {
        assert!(page.contains(&format!("<h2>{section}</h2>")), "section {section} missing");
    }
    assert!(page.contains("<svg") && page.contains("class=\"endline\""), "no timeline chart with an end");
    // No secret of any sample, while --show-secrets shows them.
    let mut all = std::collections::BTreeSet::new();
    for f in &files {
        let har: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        all.extend(secrets_of(&har));
    }
    assert!(all.len() > 20);
    for s in &all {
        assert!(!page.contains(s.as_str()), "the report shows a secret ({}…)", &s[..6]);
    }
    let shown = report(&files, &dir.path().join("s.html"), &["--show-secrets"]);
    assert!(all.iter().any(|s| shown.contains(s.as_str())), "--show-secrets shows no secret");
}

/// A hostile capture: markup and control characters in every captured string reach the page
/// only escaped.
#[test]
fn captured_markup_is_escaped_in_html_and_markdown() {
    let har = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "<script>alert(1)</script>", "version": "1"},
    "entries": [{
        "startedDateTime": "2024-05-01T12:00:00Z", "time": 1,
        "request": {"method": "GET", "url": "https://api.example.com/x/<img src=x onerror=alert(1)>/`|*y*|`",
            "httpVersion": "HTTP/1.1", "headers": [{"name": "Authorization", "value": "Bearer undefined"}]},
        "response": {"status": 401, "statusText": "no", "httpVersion": "HTTP/1.1",
            "headers": [], "content": {"size": 0, "mimeType": "text/plain", "text": "\u{1b}[31m<b>x</b>"}}
    }]}});
    let (_d, p) = temp_file("evil<b>|`.har", serde_json::to_string(&har).unwrap().as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let page = report(std::slice::from_ref(&p), &dir.path().join("r.html"), &[]);
    assert!(!page.contains("<img src=x") && !page.contains("<script>alert") && !page.contains("evil<b>"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;") || page.contains("%3Cimg"), "path not shown escaped");
    assert!(!page.contains('\u{1b}'));
    let md = report(std::slice::from_ref(&p), &dir.path().join("r.md"), &[]);
    assert!(!md.contains('\u{1b}'));
    // Markup may appear literally inside code spans; parsed as CommonMark + tables, the
    // document has no HTML at all.
    use pulldown_cmark::{Event, Options, Parser};
    for ev in Parser::new_ext(&md, Options::ENABLE_TABLES) {
        assert!(!matches!(ev, Event::Html(_) | Event::InlineHtml(_)), "raw HTML in Markdown: {ev:?}");
    }
}

#[test]
fn markdown_report_parses_into_the_expected_headings_and_tables() {
    use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
    let dir = tempfile::tempdir().unwrap();
    let files = sample_hars();
    let md = report(&files, &dir.path().join("r.md"), &[]);
    let mut headings: Vec<(HeadingLevel, String)> = Vec::new();
    let mut tables: Vec<Vec<String>> = Vec::new(); // header cells of each table
    let mut in_heading: Option<HeadingLevel> = None;
    let mut in_head = false;
    let mut text = String::new();
    let mut cells: Vec<String> = Vec::new();
    let mut code_blocks = 0;
    let mut code_spans = 0;
    for ev in Parser::new_ext(&md, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::Heading { level, .. }) => {
                in_heading = Some(level);
                text.clear();
            }
            Event::End(TagEnd::Heading(_)) => {
                headings.push((in_heading.take().unwrap(), text.clone()));
            }
            Event::Start(Tag::TableHead) => {
                in_head = true;
                cells.clear();
            }
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                tables.push(cells.clone());
            }
            Event::Start(Tag::TableCell) => text.clear(),
            Event::End(TagEnd::TableCell) if in_head => cells.push(text.clone()),
            Event::Start(Tag::CodeBlock(_)) => code_blocks += 1,
            Event::Text(t) => text.push_str(&t),
            Event::Code(t) => {
                code_spans += 1;
                text.push_str(&t)
            }
            Event::Html(h) | Event::InlineHtml(h) => panic!("raw HTML in the Markdown report: {h}"),
            _ => {}
        }
    }
    let h2: Vec<&str> = headings.iter().filter(|(l, _)| *l == HeadingLevel::H2).map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        h2,
        vec!["Verdict", "Findings", "Conversations", "Credentials", "Statistics", "Capture quality", "What was read"]
    );
    assert!(headings[0].0 == HeadingLevel::H1 && headings[0].1.starts_with("harken report"));
    let fs = findings(&files);
    let h3: Vec<&str> = headings.iter().filter(|(l, _)| *l == HeadingLevel::H3).map(|(_, t)| t.as_str()).collect();
    for f in &fs {
        let cause = f["cause"].as_str().unwrap();
        assert!(md.contains(cause), "{cause} missing");
        let at = format!("{}#{}", file_name(f["input"].as_str().unwrap()), f["index"]);
        assert!(md.contains(&at), "{at} missing");
    }
    assert!(h3.iter().any(|h| h.contains("The token had expired")), "{h3:?}");
    assert!(h3.iter().any(|h| h.starts_with("Conversation ")), "{h3:?}");
    let has = |cols: &[&str]| tables.iter().any(|t| t.iter().map(String::as_str).collect::<Vec<_>>() == cols);
    assert!(has(&["cause", "refusals", "what it means", "fix"]), "{tables:?}");
    assert!(has(&["time (UTC)", "method", "path", "status", "file#index", "what it shows"]), "{tables:?}");
    assert!(has(&["status", "exchanges"]) && has(&["cause", "refusals", "share"]), "{tables:?}");
    assert!(has(&["input", "format", "producer", "exchanges", "notes"]), "{tables:?}");
    assert!(has(&["credential", "grant", "region", "scopes", "issued", "expires", "revoked", "uses", "refused"]));
    assert!(code_blocks >= 2 && code_spans > 50, "text timelines and code spans expected");
    // No secret.
    for f in &files {
        let har: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        for s in secrets_of(&har) {
            assert!(!md.contains(s.as_str()), "{}: the Markdown shows a secret ({}…)", f.display(), &s[..6]);
        }
    }
}

#[test]
fn format_comes_from_the_extension_or_the_flag() {
    let f = sample("cause_token_expired.har");
    let o = harken(&["report", f.to_str().unwrap(), "--format", "markdown"]);
    assert!(o.status.success() && stdout(&o).starts_with("# harken report"), "{}", stderr(&o));
    let o = harken(&["report", f.to_str().unwrap(), "--format", "html"]);
    assert!(stdout(&o).starts_with("<!DOCTYPE html>"));
    let dir = tempfile::tempdir().unwrap();
    let o = harken(&["report", f.to_str().unwrap(), "-o", dir.path().join("r.txt").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(".html or .md"), "{}", stderr(&o));
    let o = harken(&["report", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

/// 10,000 refusals stay a page of groups.
#[test]
fn ten_thousand_findings_are_grouped() {
    let mut entries = Vec::new();
    for i in 0..10_000 {
        entries.push(serde_json::json!({
            "startedDateTime": format!("2024-05-01T12:{:02}:{:02}.{:03}Z", (i / 1000) % 60, (i / 10) % 60, i % 1000),
            "time": 1,
            "request": {"method": "GET", "url": format!("https://api.mypurecloud.com/api/v2/users/{i:08x}-0000-4000-8000-000000000000"),
                "httpVersion": "h2", "headers": []},
            "response": {"status": 401, "statusText": "", "httpVersion": "h2", "headers": [],
                "content": {"size": 0, "mimeType": "application/json", "text": ""}}
        }));
    }
    let har =
        serde_json::json!({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": entries}});
    let (_d, p) = temp_file("many.har", serde_json::to_string(&har).unwrap().as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let page = report(std::slice::from_ref(&p), &dir.path().join("r.html"), &[]);
    assert_eq!(page.matches("<details class=\"group\"").count(), 1, "one group for one cause on one operation");
    assert!(page.contains("10000 requests") && page.contains("… and 9975 more"));
    assert!(page.len() < 2_000_000, "page is {} bytes", page.len());
}

// ---------------------------------------------------------------------------------------------
// Headless Chromium

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser"] {
        if let Ok(o) = Command::new("which").arg(name).output() {
            if o.status.success() {
                let p = String::from_utf8_lossy(&o.stdout).trim().to_string();
                if !p.is_empty() {
                    return Some(PathBuf::from(p));
                }
            }
        }
    }
    if std::env::var_os("HARKEN_CORPUS").is_some() {
        panic!("chromium is not installed (CI installs it in .ci/run: apt-get install -y chromium)");
    }
    eprintln!("note: Chromium tests skipped: no `chromium` on PATH (apt-get install chromium)");
    None
}

struct Rendered {
    png: Vec<u8>,
    /// Console messages Chromium logged for the page.
    console: Vec<String>,
    /// URLs the page itself requested (not the browser's own background requests).
    requests: Vec<String>,
}

/// Open a local page in headless Chromium: screenshot, console messages (from
/// `--enable-logging=stderr`) and the page's requests (from `--log-net-log`: URL requests whose
/// network isolation key is the page's `file://` site; the browser's own requests have others).
fn render(bin: &Path, page: &Path, dir: &Path) -> Rendered {
    let shot = dir.join("shot.png");
    let net = dir.join("net.json");
    let profile = tempfile::tempdir_in(dir).unwrap();
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2200",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--log-net-log={}", net.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = reader.join().unwrap();
    let console: Vec<String> =
        log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).map(str::to_string).collect();
    let net: Value = serde_json::from_slice(&std::fs::read(&net).unwrap_or_default()).unwrap_or(Value::Null);
    let mut requests = Vec::new();
    for e in net["events"].as_array().into_iter().flatten() {
        let p = &e["params"];
        let (Some(url), Some(nik)) = (p["url"].as_str(), p["network_isolation_key"].as_str()) else { continue };
        if nik.starts_with("file://") || p["initiator"].as_str().is_some_and(|i| i == "null" || i.starts_with("file:"))
        {
            requests.push(url.to_string());
        }
    }
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}); chromium said:\n{log}"));
    Rendered { png, console, requests }
}

/// Distinct colours (sampled) and the share of pixels that are not the background colour.
fn variety(png_bytes: &[u8]) -> (usize, f64, (u32, u32)) {
    let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks(ch).collect();
    let mut colors = std::collections::HashMap::new();
    for p in px.iter().step_by(7) {
        *colors.entry(p[..3.min(p.len())].to_vec()).or_insert(0usize) += 1;
    }
    let bg = colors.iter().max_by_key(|(_, n)| **n).map(|(c, _)| c.clone()).unwrap();
    let other = px.iter().filter(|p| p[..3.min(p.len())] != bg[..]).count();
    (colors.len(), other as f64 / px.len() as f64, (info.width, info.height))
}

#[test]
fn chromium_renders_the_html_report_without_requests_or_console_messages() {
    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The checks themselves work: a page that logs and loads an image is caught.
    std::fs::write(
        dir.path().join("bad.html"),
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><h1>x</h1>\
         <img src=\"http://127.0.0.1:9/x.png\"><script>console.error('boom')</script></body></html>",
    )
    .unwrap();
    let bad = render(&bin, &dir.path().join("bad.html"), dir.path());
    assert!(bad.console.iter().any(|l| l.contains("boom")), "console detection does not work: {:?}", bad.console);
    assert!(
        bad.requests.iter().any(|u| u.contains("127.0.0.1:9")),
        "request detection does not work: {:?}",
        bad.requests
    );

    let page = dir.path().join("r.html");
    report(&sample_hars(), &page, &[]);
    let r = render(&bin, &page, dir.path());
    assert!(r.console.is_empty(), "console messages: {:#?}", r.console);
    let external: Vec<&String> =
        r.requests.iter().filter(|u| !u.starts_with("file:") && !u.starts_with("data:")).collect();
    assert!(external.is_empty(), "the page made requests: {external:?}");
    let (colors, share, size) = variety(&r.png);
    assert!(size.0 >= 1000 && size.1 >= 1000, "screenshot {size:?}");
    assert!(colors >= 30 && share > 0.03, "blank-looking screenshot: {colors} colours, {share:.3} non-background");
    if let Some(keep) = std::env::var_os("HARKEN_KEEP_SCREENSHOT") {
        let _ = std::fs::write(keep, &r.png);
    }
}
