//! pcap/pcapng ingest on the shared corpus: counts against tshark's (expected.tsv), the
//! websocket and bearer captures, the malformed files, and no panic on cut or garbled input.

use crate::common::{corpus, counts, expected, harken, ndjson, stderr};
use harken::ingest::{self, BodyPolicy, IngestOptions, ReadCx, Source};
use harken::model::{Exchange, Format, Input, Note};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn captures(c: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in ["pcap", "pcapng"] {
        for e in std::fs::read_dir(c.join(dir)).into_iter().flatten().flatten() {
            let p = e.path();
            if matches!(p.extension().and_then(|x| x.to_str()), Some("pcap" | "pcapng")) {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

fn load(p: &Path) -> (Input, Vec<Exchange>) {
    let mut v = Vec::new();
    let info = ingest::read_input(p, 0, IngestOptions { bodies: BodyPolicy::All }, &mut |e| v.push(e));
    (info, v)
}

fn note<'a>(info: &'a Input, code: &str) -> Option<&'a Note> {
    info.notes.iter().find(|n| n.code == code)
}

#[test]
fn every_corpus_capture_matches_tshark_counts() {
    let Some(c) = corpus() else { return };
    let files = captures(&c);
    assert!(files.len() >= 13, "expected the corpus captures, found {files:?}");
    for f in files {
        let rel = f.strip_prefix(&c).unwrap().to_string_lossy().replace('\\', "/");
        let exp = expected(&c, &rel);
        let path = f.to_string_lossy().into_owned();
        let out = harken(&["exchanges", "--format", "ndjson", &path]);
        if exp.get("capinfos_file_type").is_some_and(|t| t.starts_with("unreadable")) {
            assert_eq!(out.status.code(), Some(2), "{rel}: an unreadable capture exits 2");
            let err = stderr(&out);
            assert!(err.contains(&path) && err.contains("byte 0"), "{rel}: error names file and position: {err}");
            continue;
        }
        assert_eq!(out.status.code(), Some(0), "{rel}: {}", stderr(&out));
        let rows = ndjson(&["exchanges", "--format", "ndjson", &path]);
        // How tshark counts: HTTP/1 requests and responses; HTTP/2 HEADERS with a method or a
        // status. An h2c upgrade is one HTTP/1 request answered 101, then a stream-1 HTTP/2
        // response (tshark shows no HTTP/2 request for stream 1).
        let (mut h1_req, mut h2_req) = (0usize, 0usize);
        let mut h1_status: BTreeMap<String, usize> = BTreeMap::new();
        let mut h2_status: BTreeMap<String, usize> = BTreeMap::new();
        for r in &rows {
            let h2 = r["http_version"] == "HTTP/2";
            let upgraded = r["notes"].as_array().unwrap().iter().any(|n| n == "http2.h2c_upgrade");
            let status = r["status"].as_u64().map(|s| s.to_string());
            if upgraded {
                h1_req += 1;
                *h1_status.entry("101".into()).or_default() += 1;
            } else if h2 {
                h2_req += 1;
            } else {
                h1_req += 1;
            }
            if let Some(s) = status {
                *(if h2 { &mut h2_status } else { &mut h1_status }).entry(s).or_default() += 1;
            }
        }
        let want = |k: &str| exp.get(k).map(|v| v.parse::<usize>().unwrap()).unwrap_or(0);
        assert_eq!(h1_req, want("http_requests"), "{rel}: HTTP/1 requests");
        assert_eq!(h1_status.values().sum::<usize>(), want("http_responses"), "{rel}: HTTP/1 responses");
        assert_eq!(
            h1_status,
            counts(exp.get("http_response_status_counts").map_or("none", |s| s)),
            "{rel}: HTTP/1 statuses"
        );
        assert_eq!(h2_req, want("http2_requests"), "{rel}: HTTP/2 requests");
        assert_eq!(
            h2_status,
            counts(exp.get("http2_response_status_counts").map_or("none", |s| s)),
            "{rel}: HTTP/2 statuses"
        );
        // Every exchange points at its frames.
        for r in &rows {
            assert!(r["request_frame"].as_u64().is_some(), "{rel}: request frame in {r}");
        }
    }
}

#[test]
fn h2c_upgrades_are_stream_one_with_the_101_noted() {
    let Some(c) = corpus() else { return };
    let (info, ex) = load(&c.join("pcap/h2c_upgrade_range_206.pcap"));
    assert!(info.error.is_none());
    assert_eq!(ex.len(), 5);
    let upgraded: Vec<&Exchange> = ex.iter().filter(|e| e.stream == Some(1)).collect();
    assert_eq!(upgraded.len(), 3);
    for e in &upgraded {
        assert_eq!(e.request.http_version, "HTTP/1.1");
        assert_eq!(e.status(), Some(206));
        assert!(e.request.headers.get("upgrade").is_some_and(|u| u.contains("h2c")));
        let n = e.notes.iter().find(|n| n.code == "http2.h2c_upgrade").expect("upgrade note");
        assert!(n.message.contains("101"), "{}", n.message);
    }
    // Five TCP connections, five ids.
    let conns: std::collections::BTreeSet<_> = ex.iter().map(|e| e.connection.clone()).collect();
    assert_eq!(conns.len(), 5);
}

#[test]
fn h2_prior_knowledge_reads_the_404_and_its_body() {
    let Some(c) = corpus() else { return };
    let (_, ex) = load(&c.join("pcap/h2_prior_knowledge_404.pcap"));
    assert_eq!(ex.len(), 1);
    let e = &ex[0];
    assert_eq!(e.request.method, "GET");
    assert_eq!(e.path(), "/watchdog/watchdog.exe");
    assert_eq!(e.status(), Some(404));
    assert_eq!(e.stream, Some(1));
    assert!(e.response.as_ref().unwrap().body.is_some(), "the two DATA frames are the body");
}

#[test]
fn websocket_upgrade_keeps_ten_inflated_messages() {
    let Some(c) = corpus() else { return };
    let (info, ex) = load(&c.join("pcap/websocket_permessage_deflate.pcap"));
    assert!(info.error.is_none());
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].status(), Some(101));
    let ws = &ex[0].websocket;
    assert_eq!(ws.len(), 10, "tshark counts 10 websocket frames");
    for m in ws {
        assert!(m.text().is_some_and(|t| !t.is_empty()), "inflated text, got {:?}", m.data);
        assert!(m.frame.is_some());
    }
    assert!(!ex[0].notes.iter().any(|n| n.code.starts_with("websocket.")), "{:?}", ex[0].notes);
}

#[test]
fn bearer_capture_carries_the_rfc6750_token() {
    let Some(c) = corpus() else { return };
    let (_, ex) = load(&c.join("pcap/http_bearer_rfc6750.pcap"));
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].request.headers.get("authorization"), Some("Bearer mF_9.B5f-4.1JqM"));
    assert_eq!(ex[0].status(), Some(200));
    assert_eq!(ex[0].origin.request_frame, Some(5));
}

#[test]
fn gzip_body_is_kept_content_encoded_and_decodes() {
    let Some(c) = corpus() else { return };
    let (_, ex) = load(&c.join("pcap/http_gzip.pcap"));
    let r = ex[0].response.as_ref().unwrap();
    let body = r.body.as_ref().unwrap();
    assert_eq!(body.state, harken::model::BodyState::ContentEncoded);
    let text = harken::body::text(&r.headers, Some(body)).expect("decodes");
    assert!(text.contains("gzipped"), "{text}");
}

#[test]
fn odd_files_give_notes_not_failures() {
    let Some(c) = corpus() else { return };
    let (info, ex) = load(&c.join("pcap/modified_pcap_magic.pcap"));
    assert!(info.error.is_none(), "{:?}", info.error);
    assert!(ex.is_empty());
    assert!(note(&info, "pcap.modified").is_some());
    assert!(note(&info, "pcap.summary").unwrap().message.starts_with("1 frame(s)"));

    let (info, ex) = load(&c.join("pcapng/two_idbs_different_linktypes.pcapng"));
    assert!(info.error.is_none(), "{:?}", info.error);
    assert!(ex.is_empty());
    assert!(note(&info, "pcap.summary").unwrap().message.starts_with("5 frame(s)"));

    let (info, ex) = load(&c.join("pcapng/truncated_epb_no_shb.pcapng"));
    assert!(ex.is_empty());
    assert!(info.error.as_deref().is_some_and(|e| e.contains("no Section Header Block")), "{:?}", info.error);

    let (info, ex) = load(&c.join("pcap/http_nflog_linktype.pcap"));
    assert_eq!(ex.len(), 1);
    assert!(note(&info, "pcap.link_type").is_none());

    let (info, ex) = load(&c.join("pcap/http_malformed_transfer_encoding.pcap"));
    assert_eq!(ex.len(), 1);
    assert!(ex[0].response.is_none());
    assert!(ex[0].request.headers.get("cookie").is_some());
    assert!(info.error.is_none());
}

fn read_bytes(bytes: Vec<u8>, format: Format) -> (Result<(), String>, usize, Vec<Note>) {
    let mut n = 0usize;
    let mut sink = |_e: Exchange| n += 1;
    let mut cx = ReadCx::new(0, IngestOptions::default(), &mut sink);
    let src = Source::Owned(bytes);
    let r = ingest::pcap::read(&src, format, &mut cx).map_err(|e| e.message);
    let notes = std::mem::take(&mut cx.notes);
    drop(cx);
    (r, n, notes)
}

#[test]
fn cut_and_garbled_captures_never_panic() {
    let Some(c) = corpus() else { return };
    for (rel, format) in [
        ("pcap/http_brotli.pcap", Format::Pcap),
        ("pcap/websocket_permessage_deflate.pcap", Format::Pcap),
        ("pcap/h2c_upgrade_range_206.pcap", Format::Pcap),
        ("pcap/h2_prior_knowledge_404.pcap", Format::Pcap),
        ("pcapng/two_idbs_different_linktypes.pcapng", Format::Pcapng),
    ] {
        let full = std::fs::read(c.join(rel)).unwrap();
        // Every prefix (a capture cut at any byte).
        let step = (full.len() / 700).max(1);
        for n in (0..full.len()).step_by(step) {
            let (r, _, notes) = read_bytes(full[..n].to_vec(), format);
            // Past the file header, a cut is read up to the cut (a note), never an error.
            if n > 64 {
                assert!(r.is_ok(), "{rel}: cut at {n}: {r:?}");
                assert!(notes.iter().any(|x| x.code == "pcap.summary"), "{rel}: cut at {n}");
            }
        }
        // Garbled bytes (deterministic), in headers and payloads.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        // HARKEN_FUZZ_ITERS=20000 for a longer run.
        let iters: usize = std::env::var("HARKEN_FUZZ_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
        for _ in 0..iters {
            let mut b = full.clone();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed as usize) % b.len();
                b[at] = (seed >> 32) as u8;
            }
            let _ = read_bytes(b, format);
        }
    }
}

#[test]
fn truncated_last_packet_is_a_note() {
    let Some(c) = corpus() else { return };
    let full = std::fs::read(c.join("pcap/http_brotli.pcap")).unwrap();
    let (r, n, notes) = read_bytes(full[..full.len() - 10].to_vec(), Format::Pcap);
    assert!(r.is_ok());
    assert!(n >= 2, "exchanges before the cut are kept");
    let t = notes.iter().find(|x| x.code == "pcap.truncated").expect("truncated note");
    assert!(t.message.contains("byte"), "{}", t.message);
}
