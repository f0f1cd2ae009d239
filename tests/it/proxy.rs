//! Proxy sessions and compressed inputs: mitmproxy flow dumps, Burp items XML, Fiddler SAZ,
//! Charles sessions, producer HARs, and gzip/zstd/bzip2/zlib around them. Counts and statuses
//! come from ../shared/corpus/expected.tsv (established with mitmproxy, unzip and the XML);
//! garbled and truncated copies of every reader's inputs must end in notes or an error naming
//! the file and position, never a panic.

use crate::common::*;
use harken::ingest::{read_input, BodyPolicy, IngestOptions};
use std::collections::BTreeMap;
use std::path::Path;

fn status_counts(rows: &[serde_json::Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        let k = r["status"].as_u64().map(|s| s.to_string()).unwrap_or_else(|| "none".into());
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

/// Every exchange of one input, read through the library (websocket messages, notes).
fn read_all(p: &Path) -> (harken::model::Input, Vec<harken::model::Exchange>) {
    let mut got = Vec::new();
    let info = read_input(p, 0, IngestOptions { bodies: BodyPolicy::All, ..Default::default() }, &mut |e| got.push(e));
    (info, got)
}

/// Read `rel` with the binary: its rows must have these statuses, its format this name, and
/// `analyze` must exit 0 with findings exactly when a 401/403 is there.
fn check(corpus: &Path, rel: &str, format: &str, statuses: &[(&str, usize)]) -> Vec<serde_json::Value> {
    let path = corpus.join(rel);
    let p = path.to_str().unwrap();
    let rows = ndjson(&["exchanges", "--format", "ndjson", p]);
    let want: BTreeMap<String, usize> = statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(status_counts(&rows), want, "{rel}: statuses");
    let mut idx: Vec<u64> = rows.iter().map(|r| r["index"].as_u64().unwrap()).collect();
    idx.sort();
    idx.dedup();
    assert_eq!(idx.len(), rows.len(), "{rel}: one index per exchange");
    let o = harken(&["analyze", "--format", "json", p]);
    assert_eq!(o.status.code(), Some(0), "{rel}: analyze exit code; stderr {}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["inputs"][0]["format"], format, "{rel}");
    assert!(doc["inputs"][0].get("error").is_none(), "{rel}: {}", doc["inputs"][0]);
    let refused = want.keys().any(|k| k == "401" || k == "403");
    let findings = doc["findings"].as_array().unwrap().len();
    assert_eq!(findings > 0, refused, "{rel}: findings only where a 401/403 is");
    rows
}

#[test]
fn corpus_mitm_dumps_match_expected() {
    let Some(c) = corpus() else { return };
    for (rel, statuses) in [
        ("mitm/websocket.mitm", vec![("101", 3)]),
        ("mitm/dumpfile-7.mitm", vec![("200", 2)]),
        ("mitm/dumpfile-19.mitm", vec![("200", 1)]),
        ("mitm/flows-error_log.mitm", vec![("405", 1), ("none", 1)]),
        // Legacy 0.10 (current mitmproxy refuses it): read through the old field names.
        ("mitm/dumpfile-010_legacy.mitm", vec![("200", 1)]),
    ] {
        let exp = expected(&c, rel);
        let rows = check(&c, rel, "mitm", &statuses);
        if let Some(n) = exp.get("flows") {
            assert_eq!(rows.len(), n.parse::<usize>().unwrap(), "{rel}: flows");
        }
        let (info, ex) = read_all(&c.join(rel));
        if let Some(n) = exp.get("websocket_messages") {
            let got: usize = ex.iter().map(|e| e.websocket.len()).sum();
            assert_eq!(got, n.parse::<usize>().unwrap(), "{rel}: websocket messages");
        }
        if let Some(n) = exp.get("flows_with_error") {
            let got = ex.iter().filter(|e| e.notes.iter().any(|n| n.code == "mitm.error")).count();
            assert_eq!(got, n.parse::<usize>().unwrap(), "{rel}: flows with an error");
        }
        if let Some(v) = exp.get("flow_format_version").or(exp.get("first_flow_format_version")) {
            let v = v.trim_matches(['[', ']']).replace(", ", ".");
            assert!(info.creator.as_deref().unwrap_or("").contains(&v), "{rel}: {:?} vs {v}", info.creator);
        }
    }
    // The legacy dump: HTTP/1.1 from the `httpversion` pair, body kept content-encoded.
    let (_, ex) = read_all(&c.join("mitm/dumpfile-010_legacy.mitm"));
    assert_eq!(ex[0].request.url, "http://example.com/");
    assert_eq!(ex[0].request.http_version, "HTTP/1.1");
    assert_eq!(ex[0].response.as_ref().unwrap().body.as_ref().unwrap().raw.len(), 606);
    assert_eq!(ex[0].client.as_deref(), Some("127.0.0.1:56104"));
}

/// Cut and flip bytes of `files` at many places: every reading ends in exchanges, notes or an
/// error that names the file, and the analysis runs over it; nothing panics.
fn garble(files: &[std::path::PathBuf], name: &str) {
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
        let bytes = std::fs::read(f).unwrap();
        let n = bytes.len();
        for k in 0..40 {
            let mut v = bytes[..(n * k / 40).max(1)].to_vec();
            if k % 2 == 1 {
                for _ in 0..8 {
                    let i = (next() as usize) % v.len();
                    v[i] = (next() & 0xff) as u8;
                }
            }
            let p = dir.path().join(name);
            std::fs::write(&p, &v).unwrap();
            let mut exchanges = Vec::new();
            let info = read_input(&p, 0, opts, &mut |ex| exchanges.push(ex));
            if let Some(e) = &info.error {
                assert!(e.contains(name), "error names the file: {e}");
            }
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

fn corpus_files(dir: &str) -> Vec<std::path::PathBuf> {
    let Some(c) = corpus() else { return Vec::new() };
    let mut v: Vec<_> = std::fs::read_dir(c.join(dir)).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

#[test]
fn garbled_mitm_dumps_never_panic() {
    let mut files = corpus_files("mitm");
    files.retain(|f| std::fs::metadata(f).unwrap().len() < 64 * 1024);
    files.extend(samples_with(".mitm"));
    garble(&files, "g.mitm");
}

#[test]
fn truncated_mitm_dump_is_an_error_naming_file_and_position() {
    let Some(c) = corpus() else { return };
    let bytes = std::fs::read(c.join("mitm/dumpfile-7.mitm")).unwrap();
    let (_d, p) = temp_file("cut.mitm", &bytes[..bytes.len() - 100]);
    let o = harken(&["exchanges", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("cut.mitm") && e.contains("flow 1, byte"), "{e}");
    // The flow read before the cut is still listed.
    assert!(stdout(&o).contains("example.com"), "{}", stdout(&o));
}

fn samples_with(suffix: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root().join("samples"))
        .map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().ends_with(suffix)).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn gz(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// gzip (two members), zstd, bzip2 and zlib around a HAR, a pcap and a flow dump read exactly
/// as the plain files; the name plays no part.
#[test]
fn compressed_inputs_read_like_plain_ones() {
    use std::io::Write;
    let Some(c) = corpus() else { return };
    for rel in ["har/insomnia.har", "pcap/http_403.pcap", "mitm/flows-error_log.mitm"] {
        let plain = std::fs::read(c.join(rel)).unwrap();
        let want = ndjson(&["exchanges", "--format", "ndjson", c.join(rel).to_str().unwrap()]);
        let half = plain.len() / 2;
        let mut two = gz(&plain[..half]);
        two.extend(gz(&plain[half..]));
        let zst = zstd::encode_all(&plain[..], 3).unwrap();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(&plain).unwrap();
        let bz = bz.finish().unwrap();
        let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zl.write_all(&plain).unwrap();
        let zl = zl.finish().unwrap();
        let nested = zstd::encode_all(&gz(&plain)[..], 1).unwrap();
        for (kind, bytes) in [("gzip", two), ("zstd", zst), ("bzip2", bz), ("zlib", zl), ("zstd", nested)] {
            let (_d, p) = temp_file("input.bin", &bytes);
            let got = ndjson(&["exchanges", "--format", "ndjson", p.to_str().unwrap()]);
            assert_eq!(got.len(), want.len(), "{rel} in {kind}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!((&g["url"], &g["status"]), (&w["url"], &w["status"]), "{rel} in {kind}");
            }
            let doc = json(&["analyze", "--format", "json", p.to_str().unwrap()]);
            let notes = doc["inputs"][0]["notes"].as_array().unwrap();
            assert!(notes
                .iter()
                .any(|n| n["code"] == "input.compressed" && n["message"].as_str().unwrap().contains(kind)));
        }
    }
}

#[test]
fn compressed_but_unreadable_inside_is_exit_2_with_position() {
    let mut g = gz(&vec![b'{'; 200_000]);
    g.truncate(g.len() / 2);
    let (_d, p) = temp_file("cut.har.gz", &g);
    let o = harken(&["exchanges", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("cut.har.gz") && e.contains("gzip-compressed, but unreadable inside"), "{e}");
    assert!(e.contains("compressed byte") && e.contains("bytes decompressed"), "{e}");
    // Garbled compressed files: errors or notes, never a panic.
    let mut files = Vec::new();
    if let Some(c) = corpus() {
        files.push(c.join("gz/lnav-playground-access_log.gz"));
    }
    let dir = tempfile::tempdir().unwrap();
    let z = dir.path().join("x.zst");
    std::fs::write(&z, zstd::encode_all(&b"{\"log\":{\"entries\":[]}}"[..], 3).unwrap()).unwrap();
    files.push(z);
    garble(&files, "g.gz");
}

#[test]
fn corpus_burp_and_saz_match_expected() {
    let Some(c) = corpus() else { return };
    for (rel, format, statuses) in [
        ("burp/nuclei_burp.xml", "burp", vec![("200", 1), ("301", 1)]),
        ("burp/burp2har_fixture_edge_cases.xml", "burp", vec![("200", 2), ("302", 1), ("none", 1)]),
        ("burp/mrts-burp-http-history.xml", "burp", vec![("200", 2)]),
        ("saz/node_saz_multiple_sessions.saz", "saz", vec![("200", 4)]),
        ("saz/joelverhagen-images.saz", "saz", vec![("200", 3)]),
    ] {
        let exp = expected(&c, rel);
        let rows = check(&c, rel, format, &statuses);
        let n = exp.get("items").or(exp.get("sessions")).unwrap().parse::<usize>().unwrap();
        assert_eq!(rows.len(), n, "{rel}");
        let (info, _) = read_all(&c.join(rel));
        if let Some(v) = exp.get("burpVersion").or(exp.get("fiddler_version")) {
            assert!(info.creator.as_deref().unwrap_or("").contains(v.as_str()), "{rel}: {:?}", info.creator);
        }
    }
    // The HTTP/2 Burp item keeps its version; the chunked+gzip one is de-chunked.
    let (_, ex) = read_all(&c.join("burp/burp2har_fixture_edge_cases.xml"));
    assert!(ex.iter().any(|e| e.response.as_ref().is_some_and(|r| r.http_version == "HTTP/2")));
    let saz = read_all(&c.join("saz/node_saz_multiple_sessions.saz")).1;
    assert!(saz.iter().all(|e| e.request.url == "http://localhost:9000/test"));
    // SAZ timers: the joelverhagen archive has _m.xml, so durations are known.
    let (_, ex) = read_all(&c.join("saz/joelverhagen-images.saz"));
    assert!(ex.iter().all(|e| e.duration_ms.is_some() && e.started.timestamp() > 1_700_000_000));
    // Not a zip at all: exit 2 naming the file.
    let o = harken(&["exchanges", c.join("saz/not_a_saz.saz").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not_a_saz.saz"), "{}", stderr(&o));
}

#[test]
fn corpus_producer_hars_match_expected() {
    let Some(c) = corpus() else { return };
    for (rel, statuses) in [
        ("har/insomnia.har", vec![("200", 1)]),
        ("har/playwright-har-redirect.har", vec![("200", 1), ("301", 2)]),
        ("har/harviewer-ie11.fiddler.har", vec![("200", 7), ("304", 4)]),
    ] {
        let exp = expected(&c, rel);
        let rows = check(&c, rel, "har", &statuses);
        assert_eq!(rows.len(), exp["entries"].parse::<usize>().unwrap(), "{rel}");
        let (info, _) = read_all(&c.join(rel));
        assert!(info.creator.as_deref().unwrap_or("").starts_with(exp["creator"].split(' ').next().unwrap()));
    }
}

/// A SAZ whose entries are encrypted (Fiddler's password option) is a clear error.
#[test]
fn password_protected_saz_is_a_clear_error() {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("raw/1_c.txt", o).unwrap();
    w.write_all(b"GET http://a/ HTTP/1.1\r\n\r\n").unwrap();
    let mut z = w.finish().unwrap().into_inner();
    // Set the "encrypted" flag in the local and central headers.
    for (sig, off) in [(&b"PK\x03\x04"[..], 6), (&b"PK\x01\x02"[..], 8)] {
        let at = z.windows(4).position(|x| x == sig).unwrap();
        z[at + off] |= 1;
    }
    let (_d, p) = temp_file("locked.saz", &z);
    let out = harken(&["exchanges", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(e.contains("locked.saz") && e.contains("password-protected"), "{e}");
}

#[test]
fn garbled_burp_and_saz_never_panic() {
    let mut files = corpus_files("burp");
    files.retain(|f| std::fs::metadata(f).unwrap().len() < 16 * 1024);
    garble(&files, "g.xml");
    let mut files = corpus_files("saz");
    files.retain(|f| f.to_string_lossy().contains("multiple"));
    garble(&files, "g.saz");
}

#[test]
fn charles_json_session_reads_and_explains_its_401() {
    let f = fixture("proxy/charles_401.chlsj");
    let rows = ndjson(&["exchanges", "--format", "ndjson", f.to_str().unwrap()]);
    let want: BTreeMap<String, usize> =
        [("200", 1), ("401", 1), ("none", 1)].iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(status_counts(&rows), want);
    assert_eq!(rows[2]["url"], "https://api.mypurecloud.com/api/v2/conversations?pageSize=25");
    let (_, ex) = read_all(&f);
    // The base64 ("encoded") error body decodes; the failed transaction keeps Charles' reason.
    assert!(String::from_utf8_lossy(&ex[1].response.as_ref().unwrap().body.as_ref().unwrap().raw)
        .contains("bad.credentials"));
    assert!(ex[2].notes.iter().any(|n| n.code == "chlsj.no_response" && n.message.contains("Connection reset")));
    let doc = json(&["analyze", "--format", "json", f.to_str().unwrap()]);
    assert_eq!(doc["inputs"][0]["format"], "chlsj");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    garble(&[f], "g.chlsj");
}

/// Mirrored traffic: the same 401 exchange inside every encapsulation harken unwraps
/// (tests/fixtures/tunnels/gen.py writes them), and a capture where nothing decodes says why.
#[test]
fn tunnelled_captures_are_unwrapped() {
    for (name, tunnel) in [
        ("gre", "GRE"),
        ("gre_key_seq", "GRE"),
        ("gre_eth", "GRE (Ethernet)"),
        ("erspan1", "ERSPAN type I"),
        ("erspan2", "ERSPAN type II"),
        ("erspan3", "ERSPAN type III"),
        ("vxlan", "VXLAN"),
        ("geneve", "Geneve"),
        ("mpls", ""),
        ("mpls_pw", ""),
        ("ipv6_gre", "GRE"),
    ] {
        let f = fixture(&format!("tunnels/{name}.pcap"));
        let rows = ndjson(&["exchanges", "--format", "ndjson", f.to_str().unwrap()]);
        assert_eq!(rows.len(), 1, "{name}");
        assert_eq!(rows[0]["status"], 401, "{name}");
        assert_eq!(rows[0]["url"], "http://api.mypurecloud.com/api/v2/users/me", "{name}");
        let doc = json(&["analyze", "--format", "json", f.to_str().unwrap()]);
        assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{name}");
        if !tunnel.is_empty() {
            let notes = doc["inputs"][0]["notes"].as_array().unwrap();
            assert!(
                notes.iter().any(|n| n["code"] == "pcap.tunnel" && n["message"].as_str().unwrap().contains(tunnel)),
                "{name}: {notes:?}"
            );
        }
    }
    let f = fixture("tunnels/unknown_udp.pcap");
    let doc = json(&["analyze", "--format", "json", f.to_str().unwrap()]);
    assert_eq!(doc["exchanges"], 0);
    let notes = doc["inputs"][0]["notes"].as_array().unwrap();
    let n = notes.iter().find(|n| n["code"] == "pcap.nothing_decoded").expect("a warning says why nothing decoded");
    let m = n["message"].as_str().unwrap();
    assert!(m.contains("link type 1") && m.contains("UDP to port 4790"), "{m}");
    let mut files: Vec<_> = std::fs::read_dir(fixture("tunnels"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    files.sort();
    garble(&files, "g.pcap");
}

/// samples/proxy_genesys.mitm, recorded by real mitmdump (samples/gen/mitm.py): the token
/// reply and tokens/me are learned, the 403 names the missing permission, the websocket keeps
/// its two messages.
#[test]
fn mitmdump_sample_tells_its_story() {
    let f = sample("proxy_genesys.mitm");
    let rows = ndjson(&["exchanges", "--format", "ndjson", f.to_str().unwrap()]);
    let want: BTreeMap<String, usize> =
        [("101", 1), ("200", 3), ("401", 1), ("403", 1)].iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(status_counts(&rows), want);
    let (info, ex) = read_all(&f);
    assert!(info.creator.as_deref().unwrap().contains("21"), "{:?}", info.creator);
    let ws = ex.iter().find(|e| e.status() == Some(101)).unwrap();
    assert_eq!(ws.websocket.len(), 2, "the heartbeat and the ping (mitmproxy keeps closes out of messages)");
    let doc = json(&["analyze", "--format", "json", f.to_str().unwrap()]);
    let causes: Vec<&str> = doc["findings"].as_array().unwrap().iter().map(|f| f["cause"].as_str().unwrap()).collect();
    assert_eq!(causes.len(), 2, "{causes:?}");
    assert!(causes.contains(&"permission_missing"), "{causes:?}");
    garble(&[f], "g.mitm");
}
