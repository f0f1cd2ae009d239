//! `harken exchanges` and the CLI contract: filters, formats, merging, secrets, exit codes.

use crate::common::*;

fn f(name: &str) -> String {
    fixture(&format!("har/{name}")).to_str().unwrap().to_string()
}

#[test]
fn ndjson_rows_carry_the_contract_fields() {
    let rows = ndjson(&["exchanges", "--format", "ndjson", &f("chrome_full.har")]);
    for key in ["input", "index", "time", "method", "url", "status", "http_version", "duration_ms", "credential"] {
        assert!(rows[0].get(key).is_some(), "missing {key}: {}", rows[0]);
    }
    assert_eq!(rows[0]["time"], "2025-03-04T10:00:00.123000Z");
    assert_eq!(rows[0]["credential"]["kind"], "opaque");
}

#[test]
fn several_inputs_merge_in_time_order() {
    let rows = ndjson(&["exchanges", "--format", "ndjson", &f("playwright.har"), &f("chrome_full.har")]);
    let times: Vec<&str> = rows.iter().map(|r| r["time"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().any(|r| r["input"].as_str().unwrap().ends_with("playwright.har")));
}

#[test]
fn filters() {
    let both = [f("chrome_full.har"), f("fiddler.har"), f("playwright.har")];
    let run = |extra: &[&str]| {
        let mut args = vec!["exchanges", "--format", "ndjson"];
        args.extend_from_slice(extra);
        args.extend(both.iter().map(String::as_str));
        ndjson(&args)
    };
    assert_eq!(run(&["--status", "401,403"]).len(), 2);
    assert_eq!(run(&["--status", "4xx"]).len(), 2);
    assert_eq!(run(&["--status", "none"]).len(), 1);
    assert_eq!(run(&["--host", "API.mypurecloud.com"]).len(), 2);
    assert_eq!(run(&["--host", "*.mypurecloud.com"]).len(), 3);
    assert_eq!(run(&["--method", "post"]).len(), 1);
    assert_eq!(run(&["--path", "^/v1/(early|late)$"]).len(), 2);
    assert_eq!(run(&["--since", "2025-03-04T10:00:02Z", "--until", "2025-03-04T10:00:05Z"]).len(), 3);
    let o = harken(&["exchanges", "--status", "abc", &both[0]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--status"));
}

#[test]
fn csv_and_json_formats() {
    let out = stdout(&harken(&["exchanges", "--format", "csv", &f("chrome_full.har")]));
    let mut lines = out.lines();
    assert!(lines.next().unwrap().starts_with("input,index,time,method,url"));
    assert_eq!(lines.count(), 4);
    let doc = json(&["exchanges", "--format", "json", &f("chrome_full.har")]);
    assert_eq!(doc.as_array().unwrap().len(), 4);
}

#[test]
fn secrets_are_masked_unless_asked() {
    let token = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDREVGR0hJSktMTU5PUA";
    for format in ["table", "json", "ndjson", "csv"] {
        let out = stdout(&harken(&["exchanges", "--format", format, &f("chrome_full.har")]));
        assert!(!out.contains(token), "{format} leaked the token");
        let a = stdout(&harken(&[
            "analyze",
            "--format",
            if format == "table" { "table" } else { "json" },
            &f("chrome_full.har"),
        ]));
        assert!(!a.contains(token), "analyze {format} leaked the token");
    }
    let out = stdout(&harken(&["exchanges", "--format", "json", "--show-secrets", &f("chrome_full.har")]));
    assert!(out.contains(token));
}

#[test]
fn control_characters_are_escaped_on_the_terminal() {
    let out = stdout(&harken(&["exchanges", &f("control_chars.har")]));
    assert!(!out.contains('\u{1b}'), "raw ESC reached the terminal");
}

#[test]
fn exit_codes() {
    assert_eq!(harken(&["exchanges", &f("safari.har")]).status.code(), Some(0));
    assert_eq!(harken(&["exchanges", "no/such/file.har"]).status.code(), Some(2));
    assert_eq!(harken(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(harken(&["--help"]).status.code(), Some(0));
    let o = harken(&["analyze", "no/such/file.har"]);
    assert!(stderr(&o).contains("no/such/file.har"));
}

#[test]
fn help_teaches() {
    let out = stdout(&harken(&["--help"]));
    for word in ["analyze", "exchanges", "tokens", "timeline", "Exit codes", "Examples"] {
        assert!(out.contains(word), "--help lacks {word}");
    }
    let out = stdout(&harken(&["exchanges", "--help"]));
    assert!(out.contains("4xx"));
}

#[test]
fn analyze_csv_has_one_row_per_finding() {
    let s = sample("forum_wrong_region.har");
    let out = stdout(&harken(&["analyze", "--format", "csv", s.to_str().unwrap()]));
    let mut r = csv_rows(&out);
    let header = r.remove(0);
    assert_eq!(header[..8], ["input", "index", "time", "method", "url", "status", "cause", "causes"]);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0][1], "1");
    assert_eq!(r[0][6], "token_wrong_region");
    assert_eq!(header[8..12], ["confidence", "inferred_from", "summary", "evidence"]);
    assert_eq!(r[0][8], "proven");
    assert!(r[0][11].contains("forum_wrong_region.har#0"), "evidence names the token's issue: {}", r[0][11]);
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// One log streamed: rows come out in time order through a window of 65,536 rows, written from
/// the buffers of several chunks; a row earlier than rows already written is written where it
/// was read, and counted on stderr.
#[test]
fn a_streamed_log_comes_out_in_time_order_and_rows_too_late_are_counted() {
    let line = |sec: i64| {
        let t = chrono::DateTime::from_timestamp(1_700_000_000 + sec, 0).unwrap();
        format!(
            "10.0.0.1 - - [{}] \"GET /a/{sec} HTTP/1.1\" 200 5 \"-\" \"curl/8\"\n",
            t.format("%d/%b/%Y:%H:%M:%S +0000")
        )
    };
    let mut log = String::new();
    for i in 0..70_000 {
        log += &line(100_000 + 2 * i);
    }
    log += &line(5_000); // far out of order: late
    log += &line(6_000); // later than that one, but still late
    log += &line(100_000 + 2 * 69_990 + 1); // a little out of order: put in its place
    let (_dir, path) = temp_file("access.log", log.as_bytes());
    let out = harken(&["exchanges", "--format", "ndjson", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let paths: Vec<&str> = text.lines().map(|l| &l[l.find("\"path\":\"").unwrap() + 8..]).collect();
    let secs: Vec<i64> = paths.iter().map(|p| p[3..p.find('"').unwrap()].parse().unwrap()).collect();
    assert_eq!(secs.len(), 70_003);
    // Written when read: after the 70,000 - 65,536 rows the window had let out.
    assert_eq!((secs[4_464], secs[4_465]), (5_000, 6_000));
    let rest: Vec<i64> = secs[..4_464].iter().chain(&secs[4_466..]).copied().collect();
    assert!(rest.is_sorted(), "the other rows are in time order");
    assert!(rest.contains(&(100_000 + 2 * 69_990 + 1)));
    assert!(stderr(&out).contains("2 row(s) of"), "{}", stderr(&out));
}
