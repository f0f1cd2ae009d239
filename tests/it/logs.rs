//! Access logs: every corpus log gives the counts of expected.tsv; `analyze` finds only where
//! there are 401/403s and every finding says what the log cannot carry; our own samples of the
//! formats without a corpus file; garbled lines give notes, never a panic.

use crate::common::*;
use std::collections::BTreeMap;

/// (corpus file, expected.tsv check holding the exchange count)
const CORPUS_LOGS: &[(&str, &str)] = &[
    ("logs/nginx/lnav-logfile_shop_access_log.0.log", "requests"),
    ("logs/apache/beats-apache-access-test.log", "requests"),
    ("logs/envoy/crowdsec-envoy-gateway-cri.log", "requests"),
    ("logs/aws-alb/crowdsec-aws-alb-logs.log", "requests"),
    ("logs/haproxy/lnav-logfile_haproxy.0.log", "requests"),
    ("logs/traefik/crowdsec-traefik_json.log", "requests"),
    ("logs/caddy/crowdsec-caddy-logs.log", "requests"),
    ("logs/iis/lnav-logfile_w3c_big.0.log", "requests"),
    ("logs/gcp-lb/otel-gcp-armor-enforced_security_policy.json", "requests"),
    ("gz/lnav-playground-access_log.gz", "requests"),
];

fn statuses(rows: &[serde_json::Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        let k = r["status"].as_u64().map(|s| s.to_string()).unwrap_or_else(|| "none".into());
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

/// `status_200 938` lines of expected.tsv as a map (the other status_* families, such as
/// Traefik's origin_status_*, are not the response status).
fn expected_statuses(e: &std::collections::HashMap<String, String>) -> BTreeMap<String, usize> {
    e.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("status_")?.to_string(), v.parse().ok()?)))
        .filter(|(k, _): &(String, usize)| k.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

#[test]
fn corpus_logs_give_the_established_counts() {
    let Some(c) = corpus() else { return };
    for (file, check) in CORPUS_LOGS {
        let e = expected(&c, file);
        let path = c.join(file);
        let rows = ndjson(&["exchanges", "--format", "ndjson", path.to_str().unwrap()]);
        let want: usize = e[*check].parse().unwrap();
        assert_eq!(rows.len(), want, "{file}: exchanges");
        assert_eq!(statuses(&rows), expected_statuses(&e), "{file}: statuses");
        // Origins are line numbers: unique, and within the file.
        let mut idx: Vec<u64> = rows.iter().map(|r| r["index"].as_u64().unwrap()).collect();
        idx.sort();
        idx.dedup();
        assert_eq!(idx.len(), rows.len(), "{file}: one line, one exchange");
    }
}

#[test]
fn corpus_logs_record_what_they_say() {
    let Some(c) = corpus() else { return };
    let p = |f: &str| c.join(f).to_str().unwrap().to_string();
    // The remote users of the gzipped log are identities: 1511 requests carry one.
    let rows = ndjson(&["exchanges", "--format", "ndjson", &p("gz/lnav-playground-access_log.gz")]);
    let with_user = rows.iter().filter(|r| r["credential"]["kind"] == "identity").count();
    assert_eq!(with_user, 1511);
    let refused_with_user = rows.iter().filter(|r| r["credential"]["kind"] == "identity" && r["status"] == 403).count();
    assert_eq!(refused_with_user, 249);
    // Caddy's user_id.
    let rows = ndjson(&["exchanges", "--format", "ndjson", &p("logs/caddy/crowdsec-caddy-logs.log")]);
    assert_eq!(rows.iter().filter(|r| r["credential"]["carrier"] == "log: user_id").count(), 1);
    // Non-record lines are counted notes, not errors.
    let d = json(&["analyze", "--format", "json", &p("logs/haproxy/lnav-logfile_haproxy.0.log")]);
    let notes = d["inputs"][0]["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["code"] == "log.not_access" && n["message"].as_str().unwrap().starts_with("4 lines")),
        "{notes:?}"
    );
    let d = json(&["analyze", "--format", "json", &p("logs/iis/lnav-logfile_w3c_big.0.log")]);
    let notes = d["inputs"][0]["notes"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["code"] == "log.directives" && n["message"].as_str().unwrap().starts_with("44 ")));
    // The GCP record keeps Cloud Armor's verdict.
    let rows =
        ndjson(&["exchanges", "--format", "ndjson", &p("logs/gcp-lb/otel-gcp-armor-enforced_security_policy.json")]);
    assert_eq!(rows[0]["url"], "http://136.110.215.198/");
    assert_eq!(rows[0]["duration_ms"], 102.951);
}

#[test]
fn analyze_on_logs_finds_only_refusals_and_says_what_a_log_cannot_carry() {
    let Some(c) = corpus() else { return };
    for (file, _) in CORPUS_LOGS {
        let path = c.join(file);
        let o = harken(&["analyze", "--format", "json", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{file}: {}", stderr(&o));
        let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let refused = d["statuses"].get("401").and_then(|v| v.as_u64()).unwrap_or(0)
            + d["statuses"].get("403").and_then(|v| v.as_u64()).unwrap_or(0);
        let findings = d["findings"].as_array().unwrap();
        assert_eq!(findings.len() as u64, refused, "{file}: one finding per 401/403");
        for f in findings {
            assert_ne!(f["cause"], "credentials_missing", "{file}: a log does not record credentials");
            let says = f["evidence"].as_array().unwrap().iter().any(|e| {
                let t = e["fact"].as_str().unwrap();
                t.contains("does not record") && t.contains("credentials")
            });
            assert!(says, "{file}: {f}");
        }
    }
}

/// Our own samples of the formats without a corpus file: (fixture, exchanges, statuses, family).
const OWN: &[(&str, usize, &str, &str)] = &[
    ("nginx_json.log", 2, "200:1,403:1", "nginx json"),
    ("ingress_upstreaminfo.log", 2, "200:1,401:1", "ingress-nginx upstreaminfo"),
    ("apache_vhost_combined.log", 2, "200:1,403:1", "nginx/apache combined"),
    ("envoy_text.log", 2, "200:1,403:1", "envoy text"),
    ("aws_classic_elb.log", 2, "200:1,401:1", "aws classic elb"),
    ("cloudfront.log", 2, "200:1,403:1", "aws cloudfront"),
    ("azure_appgw.json.log", 2, "200:1,401:1", "azure application gateway"),
    ("haproxy_rfc5424.log", 1, "403:1", "haproxy httplog"),
    ("caddy_user.log", 2, "200:1,401:1", "caddy"),
    ("gcp_array.json", 2, "200:1,403:1", "gcp load balancer"),
];

#[test]
fn own_samples_of_each_family() {
    for (name, n, st, family) in OWN {
        let p = fixture(&format!("logs/{name}"));
        let d = json(&["analyze", "--format", "json", p.to_str().unwrap()]);
        assert_eq!(d["exchanges"], *n as u64, "{name}");
        let got: BTreeMap<String, usize> =
            d["statuses"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap() as usize)).collect();
        assert_eq!(got, counts(st), "{name}");
        let creator = d["inputs"][0]["creator"].as_str().unwrap_or("");
        assert!(creator.contains(family), "{name}: {creator}");
        for f in d["findings"].as_array().unwrap() {
            assert_ne!(f["cause"], "credentials_missing", "{name}");
        }
    }
    // Identities: remote user, Caddy user_id, a JWT subject logged by nginx.
    let rows = ndjson(&[
        "exchanges",
        "--format",
        "ndjson",
        "--show-secrets",
        fixture("logs/nginx_json.log").to_str().unwrap(),
    ]);
    assert_eq!(rows[1]["credential"]["value"], "agent-2");
    assert_eq!(rows[1]["credential"]["carrier"], "log: jwt_sub");
    let rows = ndjson(&["exchanges", "--format", "ndjson", fixture("logs/envoy_text.log").to_str().unwrap()]);
    assert_eq!(rows[1]["notes"][0], "log.detail");
    // Identities are masked by default like any credential.
    let o = harken(&["exchanges", "--format", "ndjson", fixture("logs/apache_vhost_combined.log").to_str().unwrap()]);
    assert!(!stdout(&o).contains("alice"), "{}", stdout(&o));
}

#[test]
fn garbled_truncated_and_wrong_lines_give_notes_never_a_panic() {
    use harken::ingest::logs::{parse, Line};
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for (name, ..) in OWN {
        inputs.push(std::fs::read(fixture(&format!("logs/{name}"))).unwrap());
    }
    if let Some(c) = corpus() {
        for (file, _) in CORPUS_LOGS.iter().filter(|(f, _)| !f.ends_with(".gz")) {
            let b = std::fs::read(c.join(file)).unwrap();
            inputs.push(b[..b.len().min(20_000)].to_vec());
        }
    }
    let mut seed = 0x2545F4914F6CDD1Du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for text in &inputs {
        for line in text.split(|&b| b == b'\n') {
            // Every cut of every line, and flipped bytes.
            for cut in (0..line.len()).step_by(7) {
                let _ = parse(&line[..cut]);
            }
            for _ in 0..8 {
                let mut l = line.to_vec();
                if l.is_empty() {
                    break;
                }
                let i = (rnd() as usize) % l.len();
                l[i] = (rnd() & 0xff) as u8;
                let _ = parse(&l);
            }
        }
        // Whole files, cut and garbled, through the reader: notes or an error, no panic.
        for k in 0..6 {
            let mut b = text.clone();
            match k {
                0 => b.truncate(b.len() / 2),
                1 => b.truncate(b.len().saturating_sub(5)),
                2 => b.iter_mut().step_by(13).for_each(|x| *x = b'"'),
                3 => b.iter_mut().step_by(17).for_each(|x| *x = b'{'),
                4 => b.splice(0..0, b"garbage line\n\xff\xfe[[[\n".iter().copied()).for_each(drop),
                _ => b.iter_mut().step_by(5).for_each(|x| *x = b'['),
            }
            let (_d, p) = temp_file("garbled.log", &b);
            let mut n = 0;
            let info = harken::ingest::read_input(&p, 0, Default::default(), &mut |_| n += 1);
            assert_eq!(info.exchanges, n);
        }
    }
    assert!(matches!(parse(b"this is not a log line"), Line::Other(_)));
    // A line of the wrong format inside an otherwise good file is a counted note.
    let mut b = std::fs::read(fixture("logs/envoy_text.log")).unwrap();
    b.extend_from_slice(b"{\"level\":\"warn\",\"msg\":\"upstream reset\"}\nnot a record at all\n");
    let (_d, p) = temp_file("mixed.log", &b);
    let d = json(&["analyze", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(d["exchanges"], 2);
    let notes: Vec<String> = d["inputs"][0]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("line 3")) && notes.iter().any(|n| n.contains("line 4")), "{notes:?}");
}

#[test]
fn a_hostile_line_is_skipped_with_a_note() {
    let mut b = std::fs::read(fixture("logs/envoy_text.log")).unwrap();
    b.extend(std::iter::repeat_n(b'"', 100_000));
    b.push(b'\n');
    let (_d, p) = temp_file("long.log", &b);
    let d = json(&["analyze", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(d["exchanges"], 2);
    assert!(d["inputs"][0]["notes"].to_string().contains("64 KiB"));
}

/// Sample HARs written again as the nginx JSON log a gateway would have kept
/// (samples/gen/har_to_log.py): the log tells the same story where it carries the facts, and
/// says what it cannot carry where it does not (the PATCH body that disconnected).
#[test]
fn sample_stories_as_nginx_json_logs() {
    for story in ["forum_followup_after_disconnect", "forum_proactive_invented_endpoint", "cause_endpoint_unknown"] {
        let har = sample(&format!("{story}.har"));
        let log = sample(&format!("logs/{story}.nginx.json.log"));
        let h = json(&["analyze", "--format", "json", har.to_str().unwrap()]);
        let l = json(&["analyze", "--format", "json", log.to_str().unwrap()]);
        let (hf, lf) = (h["findings"].as_array().unwrap(), l["findings"].as_array().unwrap());
        assert_eq!(hf.len(), lf.len(), "{story}");
        assert_eq!(h["exchanges"], l["exchanges"], "{story}");
        for (a, b) in hf.iter().zip(lf) {
            assert_eq!(a["cause"], b["cause"], "{story}: {b}");
            assert_eq!(
                (&a["method"], &a["status"], &a["conversation"]),
                (&b["method"], &b["status"], &b["conversation"])
            );
            // The logged identity stands where the HAR had the token.
            assert_eq!(b["credential"].as_str().unwrap().split(':').next(), Some("identity"));
            let facts = |f: &serde_json::Value| -> Vec<String> {
                f["evidence"].as_array().unwrap().iter().map(|e| e["fact"].as_str().unwrap().to_string()).collect()
            };
            let (ha, lb) = (facts(a), facts(b));
            assert!(lb.iter().any(|x| x.contains("does not record") && x.contains("request body")), "{lb:?}");
            if a["cause"] == "endpoint_unknown" {
                // Method and path are all this cause needs: the same evidence, word for word.
                for x in &ha {
                    assert!(lb.contains(x), "{story}: {x} not in {lb:?}");
                }
                assert_eq!(a["summary"], b["summary"]);
            } else {
                // The disconnect is in the PATCH body, which a log does not record: probable,
                // pointing at the PATCH line, saying its body is not recorded.
                assert!(b["summary"].as_str().unwrap().contains("probably ended"), "{b}");
                assert!(lb.iter().any(|x| x.contains("PATCH") && x.contains("body")), "{lb:?}");
                let patch_line = b["evidence"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["fact"].as_str().unwrap().contains("was accepted here"))
                    .unwrap();
                let patch_entry = a["evidence"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["fact"].as_str().unwrap().contains("became disconnected"))
                    .unwrap();
                assert_eq!(
                    patch_line["index"].as_u64().unwrap(),
                    patch_entry["index"].as_u64().unwrap() + 1,
                    "line = entry + 1"
                );
            }
        }
    }
}

/// The two worked examples of docs/formats.md: a regex format and a JSON-paths format.
#[test]
fn user_defined_formats() {
    for (fmt, log) in [("orders-service", "orders-service"), ("kong-file-log", "kong-file-log")] {
        let f = sample(&format!("logs/formats/{fmt}.toml"));
        let l = sample(&format!("logs/formats/{log}.log"));
        let args = ["--log-format", f.to_str().unwrap(), "--show-secrets", l.to_str().unwrap()];
        let mut ex = vec!["exchanges", "--format", "ndjson"];
        ex.extend_from_slice(&args);
        let rows = ndjson(&ex);
        assert_eq!(rows.len(), 3, "{fmt}");
        assert_eq!(rows[1]["status"], 403);
        assert_eq!(rows[1]["method"], "DELETE");
        assert_eq!(rows[1]["path"], "/v1/orders/3");
        assert_eq!(rows[1]["credential"]["value"], "svc-orders", "{fmt}");
        assert_eq!(rows[2]["credential"]["value"], "svc-billing", "{fmt}");
        let mut an = vec!["analyze", "--format", "json"];
        an.extend_from_slice(&args);
        let d = json(&an);
        assert_eq!(d["findings"].as_array().unwrap().len(), 1);
        assert!(d["inputs"][0]["creator"].as_str().unwrap().contains(fmt));
    }
    // Without the format, the service's own log is not a capture harken knows.
    let o = harken(&["exchanges", sample("logs/formats/orders-service.log").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    // A bad format file is a clear error before any reading.
    let (_d, bad) = temp_file("bad.toml", b"regex = '(?P<colour>x)'\n");
    let o = harken(&[
        "exchanges",
        "--log-format",
        bad.to_str().unwrap(),
        sample("logs/formats/orders-service.log").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--log-format") && stderr(&o).contains("not a field"), "{}", stderr(&o));
}

/// A log of several chunks (1 MiB each, parsed in parallel), plain and gzipped: every record
/// comes out once, with its own line number, in time order; garbled lines (one cut in half,
/// one of invalid UTF-8, a CRLF one) are counted notes naming their lines, whatever chunk they
/// fall in; the NDJSON rows (formatted on the parsing threads) are those of the JSON array.
#[test]
fn a_log_of_many_chunks_reads_every_line_once_in_order() {
    let mut text = Vec::new();
    let mut garbled = Vec::new();
    let mut records = 0usize;
    for i in 0..30_000usize {
        let line_no = i + 1;
        if i % 7919 == 13 {
            text.extend_from_slice(b"10.0.0.9 - - [01/Jan/2024:00:00:00 +0000] \"GET /cut-in-ha\n");
            garbled.push(line_no);
            continue;
        }
        if i % 9973 == 5 {
            text.extend_from_slice(b"\xff\xfe not an access line\r\n");
            garbled.push(line_no);
            continue;
        }
        let (m, s) = (i / 60, i % 60);
        let line = format!(
            "10.1.{}.{} - - [01/Jan/2024:{:02}:{:02}:{:02} +0000] \"GET /api/v2/users/{i}?pageSize=25 HTTP/1.1\" {} 1234 \"-\" \"curl/8.4.0 {}\"{}\n",
            i % 250,
            i % 199,
            m / 60,
            m % 60,
            s,
            if i % 50 == 0 { 401 } else { 200 },
            "x".repeat(i % 13),
            if i % 3 == 0 { "\r" } else { "" },
        );
        text.extend_from_slice(line.as_bytes());
        records += 1;
    }
    assert!(text.len() > 3 << 20, "more than three chunks");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &text).unwrap();
    let gz = gz.finish().unwrap();
    let (_d1, plain) = temp_file("many.log", &text);
    let (_d2, packed) = temp_file("many.log.gz", &gz);
    for path in [&plain, &packed] {
        let p = path.to_str().unwrap();
        let rows = ndjson(&["exchanges", "--format", "ndjson", p]);
        assert_eq!(rows.len(), records, "{p}");
        let idx: Vec<u64> = rows.iter().map(|r| r["index"].as_u64().unwrap()).collect();
        let mut sorted = idx.clone();
        sorted.sort();
        assert_eq!(idx, sorted, "{p}: time order is line order here");
        sorted.dedup();
        assert_eq!(sorted.len(), records, "{p}: one line, one exchange");
        for r in rows.iter().step_by(997) {
            let i = r["path"].as_str().unwrap().rsplit('/').next().unwrap().parse::<u64>().unwrap();
            assert_eq!(r["index"].as_u64().unwrap(), i + 1, "{p}: the origin is the line number");
        }
        assert_eq!(rows.iter().filter(|r| r["status"] == 401).count(), 600, "{p}");
        let array = json(&["exchanges", "--format", "json", p]);
        assert_eq!(array.as_array().unwrap(), &rows, "{p}: ndjson rows are the json array's");
        let report = json(&["analyze", "--format", "json", p]);
        let notes = report["inputs"][0]["notes"].to_string();
        garbled.sort();
        let shown: Vec<String> = garbled.iter().take(5).map(|l| l.to_string()).collect();
        assert!(notes.contains(&format!("{} lines not read", garbled.len())), "{p}: {notes}");
        assert!(notes.contains(&shown.join(", ")), "{p}: garbled lines by number: {notes}");
    }
}

/// `exchanges` makes the row of a log line straight from its record, without building the
/// exchange (src/report/rows.rs `RowParts`): on every line of the corpus logs, our log fixtures
/// and hand-made lines (hosts, ports, queries with secrets, no time, details, hostile bytes),
/// that row's NDJSON line is byte for byte the line of the record's exchange through the
/// general path (`ExchangeRow` serialized through the escape boundary), with and without
/// `--show-secrets`.
#[test]
fn rows_made_from_log_records_equal_the_rows_of_their_exchanges() {
    use harken::ingest::logs::{parse, Line};
    use harken::model::Origin;
    use harken::report::escape::to_string;
    use harken::report::rows::{ExchangeRow, RowRef};
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&fixture("logs"), &mut files);
    if let Some(c) = corpus() {
        walk(&c.join("logs"), &mut files);
    }
    let mut texts: Vec<(String, Vec<u8>)> =
        files.iter().map(|p| (p.display().to_string(), std::fs::read(p).unwrap())).collect();
    texts.push((
        "hand-made".into(),
        concat!(
            "shop.Example.com:443 10.0.0.1 - bob [01/Jan/2024:00:00:01 +0000] \"GET /a?access_token=abc123&x=1 HTTP/1.1\" 401 12 \"-\" \"curl\"\n",
            "API.example.com 10.0.0.1 - - [01/Jan/2024:00:00:01 +0100] \"GET /p;jsessionid=0123456789abcdef0123 HTTP/2.0\" 200 -\n",
            "10.0.0.2 - \"al\\x22ice\" [01/Jan/2024:00:00:02 +0000] \"GET http://u:pw@h.example/x?api_key=k HTTP/1.1\" 403 5\n",
            "10.0.0.2 - - [01/Jan/2024:00:00:02 +0000] \"GET /\\x1b[31m\u{202e}é日本/bot0123456789abcdefghij:AAHk/getMe HTTP/1.1\" 200 5 \"-\" \"-\" \"1.2.3.4, 5.6.7.8\"\n",
            "10.0.0.3 - - [01/Jan/2024:00:00:03 +0000] \"\\x16\\x03\\x01\" 400 0 \"-\" \"-\"\n",
            "[2024-01-01T00:00:04.123Z] \"GET /e HTTP/1.1\" 403 UAEX 0 12 3 - \"10.0.0.9\" \"curl\" \"req-1\" \"Svc.local:8080\" \"10.1.1.1:80\"\n",
            "{\"status\": 401, \"request_uri\": \"/no-time?token=x\", \"request_method\": \"GET\", \"remote_user\": \"carol\"}\n",
            "{\"time\": \"2024-01-01T00:00:05Z\", \"status\": 200, \"host\": \"h.example\", \"request_uri\": \"/j?q=1\", \"request_method\": \"POST\", \"request_time\": \"0.125\"}\n",
        )
        .as_bytes()
        .to_vec(),
    ));
    let fallback = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
    let (mut fast, mut general) = (0, 0);
    for (name, text) in &texts {
        for input in ["in.log", "odd \"dir\"/x\u{202e}.log"] {
            let prefix = RowRef::line_prefix(input);
            for (i, line) in text.split(|&b| b == b'\n').enumerate() {
                let Line::Record(r) = parse(line) else { continue };
                let origin = Origin::entry(0, i + 1);
                for show in [false, true] {
                    let Some(parts) = r.row_parts(origin, fallback) else {
                        general += 1;
                        continue;
                    };
                    fast += 1;
                    let ex = r.clone().into_exchange(origin, fallback);
                    let want = to_string(&ExchangeRow::new(input, &ex, show)) + "\n";
                    let credential = r.identity_credential();
                    let row = RowRef::new(&parts, credential.as_deref(), show);
                    let mut got = Vec::new();
                    row.write_line(&prefix, &mut got);
                    assert_eq!(String::from_utf8(got).unwrap(), want, "{name} line {}", i + 1);
                    assert_eq!(to_string(&row.to_row(input)) + "\n", want, "{name} line {}", i + 1);
                }
            }
        }
    }
    assert!(fast > 40 && general > 4, "both paths are exercised: {fast} fast, {general} general");
}
