//! HAR ingest: the shared corpus (counts and statuses as expected.tsv states) and producer
//! quirks in small HARs we wrote (tests/fixtures/har/).

use crate::common::*;
use std::collections::BTreeMap;

fn status_counts(rows: &[serde_json::Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        let k = r["status"].as_u64().map(|s| s.to_string()).unwrap_or_else(|| "none".into());
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

#[test]
fn corpus_hars_match_expected_counts_and_statuses() {
    let Some(corpus) = corpus() else { return };
    for name in
        ["chrome_har_capturer_cnn.har", "chrome_with_bom.har", "mitmproxy_h2_bearer_br.har", "safari_webkit.har"]
    {
        let rel = format!("har/{name}");
        let exp = expected(&corpus, &rel);
        let path = corpus.join(&rel);
        let rows = ndjson(&["exchanges", "--format", "ndjson", path.to_str().unwrap()]);
        let entries: usize = exp["entries"].parse().unwrap();
        assert_eq!(rows.len(), entries, "{name}: entries");
        assert_eq!(status_counts(&rows), counts(&exp["response_status_counts"]), "{name}: statuses");
        // index is the 0-based entry index; every row names its input.
        let mut idx: Vec<u64> = rows.iter().map(|r| r["index"].as_u64().unwrap()).collect();
        idx.sort();
        assert_eq!(idx, (0..entries as u64).collect::<Vec<_>>(), "{name}: indexes");
        assert!(rows.iter().all(|r| r["input"].as_str().unwrap().ends_with(name)));
        let auth = exp["requests_with_authorization"].parse::<usize>().unwrap();
        // Cookies and API keys are credentials too; expected.tsv counts Authorization headers.
        let with_cred = rows
            .iter()
            .filter(|r| r["credential"]["carrier"].as_str().is_some_and(|c| c.starts_with("authorization")))
            .count();
        assert_eq!(with_cred, auth, "{name}: requests with a credential");
        let doc = json(&["analyze", "--format", "json", path.to_str().unwrap()]);
        assert_eq!(doc["exchanges"].as_u64().unwrap() as usize, entries);
        assert_eq!(doc["inputs"][0]["format"], "har");
        assert_eq!(doc["findings"].as_array().unwrap().len(), 0, "{name}: no 401/403, no findings");
    }
}

#[test]
fn corpus_http_versions_are_kept_as_written() {
    let Some(corpus) = corpus() else { return };
    for name in ["chrome_har_capturer_cnn.har", "safari_webkit.har", "mitmproxy_h2_bearer_br.har"] {
        let rel = format!("har/{name}");
        let exp = expected(&corpus, &rel);
        let path = corpus.join(&rel);
        let rows = ndjson(&["exchanges", "--format", "ndjson", path.to_str().unwrap()]);
        let mut m = BTreeMap::new();
        for r in &rows {
            let v = r["http_version"].as_str().unwrap();
            *m.entry(if v.is_empty() { "(empty)".to_string() } else { v.to_string() }).or_insert(0) += 1;
        }
        // Empty response versions fall back to the request's; compare only the non-empty ones.
        let want: BTreeMap<String, usize> =
            counts(&exp["http_version_counts"]).into_iter().filter(|(k, _)| k != "(empty)").collect();
        for (k, v) in want {
            assert!(m.get(&k).copied().unwrap_or(0) >= v, "{name}: version {k}: {m:?}");
        }
    }
}

#[test]
fn bom_file_parses_and_mitmproxy_bearer_is_opaque() {
    let Some(corpus) = corpus() else { return };
    let doc = json(&["analyze", "--format", "json", corpus.join("har/chrome_with_bom.har").to_str().unwrap()]);
    let notes: Vec<&str> =
        doc["inputs"][0]["notes"].as_array().unwrap().iter().map(|n| n["code"].as_str().unwrap()).collect();
    assert!(notes.contains(&"har.bom"), "{notes:?}");
    let rows =
        ndjson(&["exchanges", "--format", "ndjson", corpus.join("har/mitmproxy_h2_bearer_br.har").to_str().unwrap()]);
    let cred: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| r["credential"]["carrier"].as_str().is_some_and(|c| c.starts_with("authorization")))
        .collect();
    assert_eq!(cred.len(), 1);
    assert_eq!(cred[0]["credential"]["kind"], "opaque");
    // The token itself never reaches the output.
    let out = stdout(&harken(&[
        "exchanges",
        "--format",
        "json",
        corpus.join("har/mitmproxy_h2_bearer_br.har").to_str().unwrap(),
    ]));
    assert!(!out.contains("ya29."), "a token value leaked");
}

/// An entry that is not UTF-8 (a byte 0xff inside a string, long enough for the vector check)
/// is skipped with a note that names it and serde_json's reason; the entries around it, one of
/// them not ASCII, are read.
#[test]
fn entry_that_is_not_utf8_is_a_note_and_the_rest_is_read() {
    let entry = |url: &str, extra: &str| {
        format!(
            r#"{{"startedDateTime":"2024-05-01T12:00:00Z","time":1,"request":{{"method":"GET","url":"{url}","httpVersion":"HTTP/1.1","headers":[{{"name":"X-Note","value":"{extra}"}}],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0}},"response":{{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"cookies":[],"content":{{"size":0,"mimeType":"text/plain"}},"redirectURL":"","headersSize":-1,"bodySize":0}},"cache":{{}},"timings":{{"send":0,"wait":1,"receive":0}}}}"#
        )
    };
    let first = "https://a.example/caf\u{e9}/\u{65e5}\u{672c}";
    let mut bytes = format!(
        r#"{{"log":{{"version":"1.2","creator":{{"name":"t","version":"1"}},"entries":[{},"#,
        entry(first, &"x".repeat(200))
    )
    .into_bytes();
    let mut bad = entry("https://b.example/", &format!("{}#{}", "y".repeat(100), "z".repeat(100))).into_bytes();
    let at = bad.iter().position(|&b| b == b'#').unwrap();
    bad[at] = 0xff;
    bytes.extend_from_slice(&bad);
    bytes.extend_from_slice(format!(",{}]}}}}", entry("https://c.example/", "ok")).as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad-utf8.har");
    std::fs::write(&p, &bytes).unwrap();
    let doc = json(&["exchanges", "--format", "json", p.to_str().unwrap()]);
    let urls: Vec<&str> = doc.as_array().unwrap().iter().map(|r| r["url"].as_str().unwrap()).collect();
    assert_eq!(urls, [first, "https://c.example/"], "{doc}");
    let analysis = json(&["analyze", "--format", "json", p.to_str().unwrap()]);
    let notes = analysis["inputs"][0]["notes"].as_array().unwrap();
    let bad = notes.iter().find(|n| n["code"] == "har.entry_malformed").expect("a note for entry 1");
    let message = bad["message"].as_str().unwrap();
    assert!(message.starts_with("entry 1 (byte "), "{message}");
    assert!(message.contains("invalid unicode") || message.contains("UTF-8"), "{message}");
}

/// Never panic on input: every HAR we have, cut at many places and with bytes flipped, reads
/// to an error or notes, never a crash (and analysis runs over whatever was read).
#[test]
fn garbled_and_truncated_hars_never_panic() {
    use harken::ingest::{read_input, BodyPolicy, IngestOptions};
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(fixture("har"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "har"))
        .collect();
    if let Some(c) = corpus() {
        files.push(c.join("har/chrome_with_bom.har"));
        files.push(c.join("har/mitmproxy_h2_bearer_br.har"));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let opts = IngestOptions { bodies: BodyPolicy::All, ..Default::default() };
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let n = bytes.len();
        for k in 0..60 {
            let mut v = bytes[..(n * k / 60).max(1)].to_vec();
            if k % 2 == 1 {
                for _ in 0..8 {
                    let i = (next() as usize) % v.len();
                    v[i] = (next() & 0xff) as u8;
                }
            }
            let p = dir.path().join("g.har");
            std::fs::write(&p, &v).unwrap();
            let mut exchanges = Vec::new();
            let info = read_input(&p, 0, opts, &mut |ex| exchanges.push(ex));
            let capture = harken::model::Capture::new(vec![info], exchanges, Vec::new());
            let options = harken::analysis::Options {
                catalog: harken::catalog::Catalog::genesys(),
                profile: harken::timeline::Profile::genesys(),
                show_secrets: false,
                tokens: Default::default(),
            };
            harken::analysis::run(&capture, &options);
        }
    }
}
