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
        // Authorization-borne credentials only (cookies are credentials too, but expected.tsv
        // counts Authorization headers).
        let with_cred = rows
            .iter()
            .filter(|r| matches!(r["credential"]["kind"].as_str(), Some("jwt" | "opaque" | "basic" | "guest_jwt")))
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
    let cred: Vec<&serde_json::Value> =
        rows.iter().filter(|r| matches!(r["credential"]["kind"].as_str(), Some("jwt" | "opaque"))).collect();
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

fn har_fixture(name: &str) -> String {
    fixture(&format!("har/{name}")).to_str().unwrap().to_string()
}

fn analyze_json(name: &str) -> serde_json::Value {
    json(&["analyze", "--format", "json", &har_fixture(name)])
}

fn note_codes(doc: &serde_json::Value) -> Vec<String> {
    doc["inputs"][0]["notes"].as_array().unwrap().iter().map(|n| n["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn chrome_full_export_keeps_websocket_credentials_and_no_response() {
    let rows = ndjson(&["exchanges", "--format", "ndjson", &har_fixture("chrome_full.har")]);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["status"], 401);
    assert_eq!(rows[0]["http_version"], "h2");
    assert!(rows[0]["credential"]["fingerprint"].as_str().unwrap().len() == 12);
    // status 0 + _error: no response.
    assert!(rows[3]["status"].is_null());
    assert_eq!(rows[3]["notes"][0], "har.no_response");
    let doc = analyze_json("chrome_full.har");
    assert!(!note_codes(&doc).contains(&"har.sanitized".to_string()));
    assert_eq!(doc["statuses"]["none"], 1);
}

#[test]
fn websocket_messages_and_base64_bodies_are_read() {
    use harken::ingest::{load, BodyPolicy, IngestOptions};
    let cap = load(&[fixture("har/chrome_full.har")], IngestOptions { bodies: BodyPolicy::All });
    let ws = &cap.exchanges[1].websocket;
    assert_eq!(ws.len(), 3);
    assert_eq!(ws[0].direction, harken::model::Direction::Send);
    assert_eq!(ws[1].text().unwrap(), r#"{"type":"response","class":"SessionResponse"}"#);
    assert_eq!(ws[2].opcode, harken::model::WsOpcode::Binary);
    assert_eq!(ws[2].data, b"\x00\x01bin");
    let png = cap.exchanges[2].response.as_ref().unwrap().body.as_ref().unwrap();
    assert!(png.raw.starts_with(b"\x89PNG"));
    assert_eq!(png.stored_as.as_deref(), Some("base64"));
}

#[test]
fn sanitized_chrome_export_is_noted() {
    let doc = analyze_json("chrome_sanitized.har");
    assert!(note_codes(&doc).contains(&"har.sanitized".to_string()), "{doc}");
}

#[test]
fn producer_quirks() {
    use harken::ingest::{load, BodyPolicy, IngestOptions};
    let all = IngestOptions { bodies: BodyPolicy::All };
    // Firefox: postData as params only, +01:00 offset.
    let cap = load(&[fixture("har/firefox.har")], all);
    let ex = &cap.exchanges[0];
    assert_eq!(ex.started.to_rfc3339(), "2025-03-04T10:00:00+00:00");
    let form = harken::body::form(&ex.request.headers, ex.request.body.as_ref()).unwrap();
    assert_eq!(form, vec![("grant_type".to_string(), "client_credentials".to_string())]);
    // Safari: empty httpVersion.
    let cap = load(&[fixture("har/safari.har")], all);
    assert_eq!(cap.exchanges[0].request.http_version, "");
    // mitmproxy: [name, value] pairs, order and duplicates kept.
    let cap = load(&[fixture("har/mitmproxy_pairs.har")], all);
    let names: Vec<&str> = cap.exchanges[0].request.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["Host", "X-Dup", "x-dup"]);
    assert_eq!(cap.exchanges[0].request.headers.get_all("x-dup").collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(cap.exchanges[0].server.as_deref(), Some("93.184.216.34"));
    // Charles: status and time as strings; body left gzip-encoded is decoded on demand.
    let cap = load(&[fixture("har/charles.har")], all);
    let ex = &cap.exchanges[0];
    assert_eq!(ex.status(), Some(200));
    assert_eq!(ex.duration_ms, Some(33.0));
    let resp = ex.response.as_ref().unwrap();
    assert_eq!(harken::body::json(&resp.headers, resp.body.as_ref()).unwrap()["zipped"], true);
    // Fiddler: +0200 offset with 7 fractional digits, numeric connection, null timings/postData.
    let cap = load(&[fixture("har/fiddler.har")], all);
    let ex = &cap.exchanges[0];
    assert_eq!(ex.started.to_rfc3339(), "2025-03-04T10:00:00.123456700+00:00");
    assert_eq!(ex.connection.as_deref(), Some("8443"));
    assert!(ex.request.body.is_none());
    // HTTP Toolkit: base64 postData; content.text missing = omitted body.
    let cap = load(&[fixture("har/httptoolkit.har")], all);
    let ex = &cap.exchanges[0];
    assert_eq!(ex.request.body.as_ref().unwrap().raw, br#"{"k":"v"}"#);
    assert!(ex.response.as_ref().unwrap().body.as_ref().unwrap().omitted);
    // Playwright: entries out of order are merged in time order; origin keeps entry index.
    let cap = load(&[fixture("har/playwright.har")], all);
    assert_eq!(cap.exchanges[0].path(), "/v1/early");
    assert_eq!(cap.exchanges[0].origin.index, 1);
    // HAR 1.3 with a BOM.
    let cap = load(&[fixture("har/har13_bom.har")], all);
    assert_eq!(cap.exchanges.len(), 1);
    assert_eq!(cap.inputs[0].creator.as_deref(), Some("Edge 120"));
}

#[test]
fn malformed_entries_become_notes_and_the_run_goes_on() {
    let o = harken(&["analyze", "--format", "json", &har_fixture("bad_entries.har")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["exchanges"], 2);
    let codes = note_codes(&doc);
    assert_eq!(codes.iter().filter(|c| *c == "har.entry_malformed").count(), 2, "{codes:?}");
}

#[test]
fn truncated_har_is_an_error_naming_the_position_and_keeps_what_was_read() {
    let ok = fixture("har/safari.har");
    let o = harken(&["exchanges", "--format", "ndjson", &har_fixture("truncated.har"), ok.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("truncated.har") && err.contains("entry 2") && err.contains("byte"), "{err}");
    // The two complete entries and the other input are still reported.
    assert_eq!(stdout(&o).lines().count(), 3);
}

#[test]
fn not_a_har_is_an_error_that_names_what_was_seen() {
    let (_d, p) = temp_file("x.har", b"{\"hello\": 1}");
    let o = harken(&["analyze", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("without a HAR \"log\""), "{}", stderr(&o));
    let (_d, p) = temp_file("x.har", b"\x00\x01garbage");
    let o = harken(&["analyze", p.to_str().unwrap()]);
    assert!(stderr(&o).contains("unknown format (starts 00 01"), "{}", stderr(&o));
}
