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
    let info =
        ingest::read_input(p, 0, IngestOptions { bodies: BodyPolicy::All, ..Default::default() }, &mut |e| v.push(e));
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

/// Frame numbers and request times of every exchange, established with tshark 4 on the corpus
/// files. The first request packet: `tshark -r F -Y 'http.request or http2.headers.method' -T
/// fields -e frame.number -e frame.time_epoch` (with `-d tcp.port==80,http2` for the
/// prior-knowledge file). The first response packet: the first of the segments tshark lists for
/// the response (`-Y 'http.response or http2.headers.status' -T fields -e frame.number -e
/// tcp.segment`; `http.response` alone names the frame where reassembly ends, e.g. 8 for
/// http_brotli's first answer whose head is in frame 5). For an h2c upgrade the response is
/// stream 1's HTTP/2 HEADERS (tshark's `http2.headers.status` frame), not the 101.
const TSHARK_FRAMES: &[(&str, u64, u64, &str)] = &[
    ("pcap/h2_prior_knowledge_404.pcap", 6, 9, "1672178578.196951"),
    ("pcap/h2c_upgrade_range_206.pcap", 5, 23, "1630659999.997686"),
    ("pcap/h2c_upgrade_range_206.pcap", 35, 37, "1630660000.013655"),
    ("pcap/h2c_upgrade_range_206.pcap", 49, 65, "1630660000.023055"),
    ("pcap/h2c_upgrade_range_206.pcap", 77, 79, "1630660000.034343"),
    ("pcap/h2c_upgrade_range_206.pcap", 91, 109, "1630660000.098263"),
    ("pcap/http_401_no_www_authenticate.pcap", 4, 5, "1451761681.402061"),
    ("pcap/http_403.pcap", 4, 5, "1451761681.402560"),
    ("pcap/http_bearer_rfc6750.pcap", 5, 7, "1687260767.234383"),
    ("pcap/http_brotli.pcap", 4, 5, "1668614357.800879"),
    ("pcap/http_brotli.pcap", 9, 10, "1668614358.386947"),
    ("pcap/http_brotli.pcap", 12, 13, "1668614358.834397"),
    ("pcap/http_gzip.pcap", 4, 6, "1363624631.406021"),
    ("pcap/http_malformed_transfer_encoding.pcap", 4, 0, "1695936918.482490"),
    ("pcap/http_nflog_linktype.pcap", 6, 8, "1470574779.148133"),
    ("pcap/websocket_permessage_deflate.pcap", 4, 6, "1726767241.964955"),
];

#[test]
fn frames_and_times_match_tshark() {
    let Some(c) = corpus() else { return };
    let mut by_file: BTreeMap<&str, Vec<(u64, u64, &str)>> = BTreeMap::new();
    for &(f, q, r, t) in TSHARK_FRAMES {
        by_file.entry(f).or_default().push((q, r, t));
    }
    for (f, want) in by_file {
        let path = c.join(f).to_string_lossy().into_owned();
        let rows = ndjson(&["exchanges", "--format", "ndjson", &path]);
        let mut got: Vec<(u64, u64, String)> = rows
            .iter()
            .map(|r| {
                let t = chrono::DateTime::parse_from_rfc3339(r["time"].as_str().unwrap()).unwrap();
                (
                    r["request_frame"].as_u64().unwrap(),
                    r["response_frame"].as_u64().unwrap_or(0),
                    format!("{}.{:06}", t.timestamp(), t.timestamp_subsec_micros()),
                )
            })
            .collect();
        got.sort();
        let want: Vec<(u64, u64, String)> = want.into_iter().map(|(q, r, t)| (q, r, t.to_string())).collect();
        assert_eq!(got, want, "{f}");
    }
}
