//! `harken stats` and `harken export`: totals against `harken exchanges`, percentiles against a
//! direct computation, and the Parquet read back by DuckDB (the fleet merge of docs/fleet.md).

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn samples() -> Vec<String> {
    sample_hars().iter().map(|p| p.display().to_string()).collect()
}

fn corpus_files() -> Option<Vec<String>> {
    let c = corpus()?;
    let text = std::fs::read_to_string(c.join("MANIFEST.tsv")).unwrap();
    Some(text.lines().skip(1).filter_map(|l| l.split('\t').next()).map(|f| c.join(f).display().to_string()).collect())
}

/// Status → count as `harken exchanges` lists them (`none` without a response).
fn exchange_statuses(files: &[String]) -> BTreeMap<String, i64> {
    let mut args = vec!["exchanges", "--format", "ndjson"];
    args.extend(files.iter().map(String::as_str));
    let mut m = BTreeMap::new();
    for r in ndjson(&args) {
        let k = r["status"].as_u64().map(|s| s.to_string()).unwrap_or_else(|| "none".into());
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

fn stats_json(extra: &[&str], files: &[String]) -> Value {
    let mut args = vec!["stats", "--format", "json", "--top", "0"];
    args.extend_from_slice(extra);
    args.extend(files.iter().map(String::as_str));
    json(&args)
}

fn stats_statuses(files: &[String]) -> BTreeMap<String, i64> {
    let doc = stats_json(&["--by", "status"], files);
    let mut m = BTreeMap::new();
    for g in doc["groups"].as_array().unwrap() {
        m.insert(g["status"].as_str().unwrap().to_string(), g["exchanges"].as_i64().unwrap());
    }
    let total: i64 = m.values().sum();
    assert_eq!(doc["total"]["exchanges"].as_i64().unwrap(), total);
    m
}

#[test]
fn totals_equal_exchanges_per_status_on_the_samples() {
    let files = samples();
    assert!(files.len() > 10);
    let want = exchange_statuses(&files);
    assert!(want.values().sum::<i64>() > 50);
    assert_eq!(stats_statuses(&files), want);
    // Every file alone too (a group per input gives the same split).
    let doc = stats_json(&["--by", "input"], &files);
    for g in doc["groups"].as_array().unwrap() {
        let f = g["input"].as_str().unwrap().to_string();
        let n: i64 = exchange_statuses(std::slice::from_ref(&f)).values().sum();
        assert_eq!(g["exchanges"].as_i64().unwrap(), n, "{f}");
    }
}

#[test]
fn totals_equal_exchanges_per_status_on_the_corpus() {
    let Some(files) = corpus_files() else { return };
    for f in &files {
        let one = std::slice::from_ref(f);
        assert_eq!(stats_statuses(one), exchange_statuses(one), "{f}");
    }
}

#[test]
fn refusals_and_default_view() {
    let files = samples();
    let doc = stats_json(&[], &files);
    assert_eq!(doc["dimensions"], serde_json::json!(["endpoint", "credential"]));
    let groups = doc["groups"].as_array().unwrap();
    // Sorted by refusals, largest first.
    let refused: Vec<i64> = groups.iter().map(|g| g["refused"].as_i64().unwrap()).collect();
    assert!(refused.windows(2).all(|w| w[0] >= w[1]), "{refused:?}");
    let total = &doc["total"];
    assert_eq!(
        total["refused"].as_i64().unwrap(),
        total["status_401"].as_i64().unwrap() + total["status_403"].as_i64().unwrap()
    );
    let st = exchange_statuses(&files);
    assert_eq!(total["status_401"].as_i64().unwrap(), st.get("401").copied().unwrap_or(0));
    assert_eq!(total["status_403"].as_i64().unwrap(), st.get("403").copied().unwrap_or(0));
    // Catalog templates, never raw ids.
    assert!(groups.iter().any(|g| g["endpoint"].as_str().unwrap().contains("{conversationId}")), "{doc}");
    // Causes come from the diagnosis and add up to the refusals.
    let doc = stats_json(&["--by", "cause"], &files);
    let with_cause: i64 = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| !g["cause"].is_null())
        .map(|g| g["exchanges"].as_i64().unwrap())
        .sum();
    // The two 401s of the NTLM handshake sample are not refusals the diagnosis explains.
    let handshake = if files.iter().any(|f| f.ends_with("auth_ntlm_handshake.har")) { 2 } else { 0 };
    assert_eq!(with_cause + handshake, total["refused"].as_i64().unwrap());
    // The table names the view and the total.
    let o = harken(&["stats", &files[0]]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("exchanges:"), "{}", stdout(&o));
}

/// A HAR whose entries have the given total times (ms) and statuses.
fn har_with_timings(times: &[(f64, u16, &str)]) -> String {
    let entries: Vec<Value> = times
        .iter()
        .enumerate()
        .map(|(i, (ms, status, path))| {
            serde_json::json!({
                "startedDateTime": format!("2024-05-01T10:{:02}:{:02}.000Z", (i / 60) % 60, i % 60),
                "time": ms,
                "request": {"method": "GET", "url": format!("https://api.example.com{path}"), "httpVersion": "HTTP/1.1",
                    "headers": [], "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
                "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "headers": [], "cookies": [],
                    "content": {"size": 10, "mimeType": "text/plain", "text": "0123456789"}, "redirectURL": "", "headersSize": -1, "bodySize": 10},
                "cache": {},
                "timings": {"send": 0, "wait": ms, "receive": 0}
            })
        })
        .collect();
    serde_json::json!({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}})
        .to_string()
}

/// Nearest-rank percentile of sorted values.
fn nearest_rank(sorted: &[f64], permille: usize) -> f64 {
    let n = sorted.len();
    let rank = ((permille * n).div_ceil(1000)).clamp(1, n);
    sorted[rank - 1]
}

const BUCKET_WIDTH: f64 = 0.044_273_782_427_413_84;

#[test]
fn latency_percentiles_equal_a_direct_computation() {
    // Timings 5% apart (more than a bucket's 4.4%): every value has its own bucket, so the
    // bucketed percentiles must be the exact ones.
    let mut times: Vec<(f64, u16, &str)> = Vec::new();
    for k in 0..150 {
        let ms = ((10.0 * 1.05f64.powi(k)) * 1000.0).round() / 1000.0;
        let status = if k % 7 == 0 { 401 } else { 200 };
        let path = if k % 2 == 0 { "/api/orders/17" } else { "/api/orders/18/items" };
        times.push((ms, status, path));
    }
    // Shuffle deterministically so order does not help.
    let mut shuffled = Vec::new();
    for i in 0..times.len() {
        shuffled.push(times[(i * 67) % times.len()]);
    }
    let (_d, p) = temp_file("timed.har", har_with_timings(&shuffled).as_bytes());
    let files = vec![p.display().to_string()];
    let doc = stats_json(&["--by", "endpoint"], &files);
    let groups = doc["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{doc}");
    for (path, tmpl) in [("/api/orders/17", "/api/orders/{n}"), ("/api/orders/18/items", "/api/orders/{n}/items")] {
        let mut v: Vec<f64> = times.iter().filter(|t| t.2 == path).map(|t| t.0).collect();
        v.sort_by(f64::total_cmp);
        let g = groups.iter().find(|g| g["endpoint"] == tmpl).unwrap_or_else(|| panic!("{tmpl} in {doc}"));
        assert_eq!(g["timed"].as_u64().unwrap() as usize, v.len());
        for (key, p) in [("p50_ms", 500), ("p90_ms", 900), ("p99_ms", 990), ("max_ms", 1000)] {
            let got = g[key].as_f64().unwrap();
            assert!((got - nearest_rank(&v, p)).abs() < 1e-9, "{tmpl} {key}: {got} vs {}", nearest_rank(&v, p));
        }
    }
    // Dense, irregular timings: within one bucket above the exact value.
    let dense: Vec<(f64, u16, &str)> =
        (0..400).map(|i| ((((i * 7919) % 4001) as f64 + 0.5) / 3.0, 200u16, "/x")).collect();
    let (_d2, p2) = temp_file("dense.har", har_with_timings(&dense).as_bytes());
    let doc = stats_json(&["--by", "none"], &[p2.display().to_string()]);
    let t = &doc["total"];
    let mut v: Vec<f64> = dense.iter().map(|d| (d.0 * 1000.0).round() / 1000.0).collect();
    v.sort_by(f64::total_cmp);
    for (key, p) in [("p50_ms", 500), ("p90_ms", 900), ("p99_ms", 990)] {
        let got = t[key].as_f64().unwrap();
        let exact = nearest_rank(&v, p);
        assert!(got >= exact - 1e-9 && got <= exact * (1.0 + BUCKET_WIDTH) + 1e-9, "{key}: {got} vs {exact}");
    }
    assert_eq!(t["max_ms"].as_f64().unwrap(), *v.last().unwrap());
}

#[test]
fn no_latency_is_null_not_zero() {
    // A HAR whose entries have no time: null percentiles, never 0.
    let har = har_with_timings(&[(1.0, 200, "/a")]).replace("\"time\":1.0", "\"time\":-1");
    let (_d, p) = temp_file("untimed.har", har.as_bytes());
    let doc = stats_json(&["--by", "none"], &[p.display().to_string()]);
    let t = &doc["total"];
    assert!(har.contains("\"time\":-1"));
    assert_eq!(t["timed"].as_i64(), Some(0), "{doc}");
    assert_eq!(t["exchanges"].as_i64(), Some(1), "{doc}");
    assert!(t["p50_ms"].is_null() && t["p99_ms"].is_null() && t["max_ms"].is_null(), "{doc}");
    let o = harken(&["stats", "--by", "nonsense", &p.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown dimension"), "{}", stderr(&o));
}

#[test]
fn time_buckets_and_csv() {
    let files = samples();
    let o = harken(
        &[
            &["stats", "--format", "csv", "--every", "1d", "--by", "status", "--top", "0"][..],
            &files.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("time,status,exchanges,refused,"));
    let mut total = 0;
    for l in lines {
        let cols: Vec<&str> = l.split(',').collect();
        assert!(cols[0].ends_with("T00:00:00Z"), "{l}");
        total += cols[2].parse::<i64>().unwrap();
    }
    assert_eq!(total, exchange_statuses(&files).values().sum::<i64>());
}

#[cfg(not(feature = "polars"))]
#[test]
fn parquet_needs_the_polars_feature() {
    let f = samples();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.parquet").display().to_string();
    let o = harken(&["stats", "--format", "parquet", "-o", &out, &f[0]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cargo feature `polars`"), "{}", stderr(&o));
    eprintln!("note: Parquet and DuckDB tests skipped: built without the cargo feature `polars`");
}

/// Export as NDJSON (the format without polars): every table, row counts as harken's.
#[test]
fn export_ndjson_tables() {
    let files = samples();
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().display().to_string();
    let mut args = vec!["export", "--format", "ndjson", "--to", &to, "--partition-host"];
    args.extend(files.iter().map(String::as_str));
    let o = harken(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let count = |table: &str| -> Vec<Value> {
        let mut rows = Vec::new();
        for f in walk_files(&dir.path().join(table)) {
            let rel = f.strip_prefix(dir.path()).unwrap().display().to_string();
            assert!(rel.contains("/date="), "{rel}");
            for l in std::fs::read_to_string(&f).unwrap().lines() {
                rows.push(serde_json::from_str::<Value>(l).unwrap());
            }
        }
        rows
    };
    let ex = count("exchanges");
    let want = exchange_statuses(&files);
    assert_eq!(ex.len() as i64, want.values().sum::<i64>());
    let mut got: BTreeMap<String, i64> = BTreeMap::new();
    for r in &ex {
        *got.entry(r["status"].as_i64().map(|s| s.to_string()).unwrap_or_else(|| "none".into())).or_insert(0) += 1;
    }
    assert_eq!(got, want);
    let mut args = vec!["analyze", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let report = json(&args);
    let findings = count("findings");
    assert_eq!(findings.len(), report["findings"].as_array().unwrap().len());
    let tokens = count("tokens");
    assert_eq!(tokens.len(), report["tokens"].as_array().unwrap().len());
    for t in &tokens {
        assert!(t.get("value").is_none() && t.get("secret").is_none(), "{t}");
    }
    let all: String = walk_files(dir.path()).iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    assert!(!all.contains("eyJhbGciOi"), "a JWT reached the export");
    // CSV: same tables, a header row.
    let dir2 = tempfile::tempdir().unwrap();
    let to2 = dir2.path().display().to_string();
    let mut args = vec!["export", "--format", "csv", "--to", &to2];
    args.extend(files.iter().map(String::as_str));
    assert_eq!(harken(&args).status.code(), Some(0));
    let csv_rows: usize = walk_files(&dir2.path().join("exchanges"))
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap().lines().count() - 1)
        .sum();
    assert_eq!(csv_rows, ex.len());
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn analyze_ends_with_the_refusal_statistics() {
    let o = harken(&["analyze", &sample("forum_followup_after_disconnect.har").display().to_string()]);
    let text = stdout(&o);
    assert!(text.contains("Most refused endpoints"), "{text}");
    assert!(text.contains("Most refused credentials"), "{text}");
}

// ---- DuckDB ----

#[cfg(feature = "polars")]
/// The Python with `duckdb`, or None (skipped) when absent; under CI (HARKEN_CORPUS set) a
/// missing DuckDB fails.
fn duckdb_python() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = std::env::var_os("HARKEN_DUCKDB_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/harken-venv/bin/python")))
        .collect();
    for py in candidates {
        let ok = std::process::Command::new(&py)
            .args(["-c", "import duckdb"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Some(py);
        }
    }
    if std::env::var_os("HARKEN_CORPUS").is_some() {
        panic!("HARKEN_CORPUS is set but DuckDB is missing: .ci/run installs it (pip install duckdb into ~/.cache/harken-venv)");
    }
    eprintln!("note: DuckDB tests skipped: no Python with `duckdb` (set HARKEN_DUCKDB_PYTHON)");
    None
}

#[cfg(feature = "polars")]
/// Run SQL in DuckDB; rows as JSON arrays.
fn duck(py: &Path, sql: &str) -> Vec<Vec<Value>> {
    let script = "import duckdb, json, sys\nrows = duckdb.sql(sys.argv[1]).fetchall()\nprint(json.dumps([list(r) for r in rows], default=str))";
    let o = std::process::Command::new(py).args(["-c", script, sql]).output().expect("run python");
    assert!(o.status.success(), "duckdb failed on {sql}:\n{}", String::from_utf8_lossy(&o.stderr));
    let v: Vec<Vec<Value>> = serde_json::from_slice(&o.stdout).expect("duckdb json");
    v
}

#[cfg(feature = "polars")]
fn glob(dir: &Path, table: &str) -> String {
    format!("{}/{table}/**/*.parquet", dir.display())
}

#[cfg(feature = "polars")]
#[test]
fn duckdb_reads_the_export() {
    let Some(py) = duckdb_python() else { return };
    let files = samples();
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().display().to_string();
    let mut args = vec!["export", "--to", &to, "--partition-host"];
    args.extend(files.iter().map(String::as_str));
    let o = harken(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ex = glob(dir.path(), "exchanges");
    let rows = duck(&py, &format!("select count(*) from read_parquet('{ex}', hive_partitioning = true)"));
    let want = exchange_statuses(&files);
    assert_eq!(rows[0][0].as_i64().unwrap(), want.values().sum::<i64>());
    let rows = duck(
        &py,
        &format!(
            "select coalesce(cast(status as varchar), 'none'), count(*) from read_parquet('{ex}', hive_partitioning = true) group by 1"
        ),
    );
    let got: BTreeMap<String, i64> =
        rows.iter().map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_i64().unwrap())).collect();
    assert_eq!(got, want);
    // Partition columns come back from the paths.
    let rows = duck(
        &py,
        &format!(
            "select count(distinct date), count(distinct host) from read_parquet('{ex}', hive_partitioning = true)"
        ),
    );
    assert!(rows[0][0].as_i64().unwrap() >= 1 && rows[0][1].as_i64().unwrap() >= 1);
    // Finding causes equal `harken analyze`.
    let mut args = vec!["analyze", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let report = json(&args);
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        *want.entry(f["cause"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    let fi = glob(dir.path(), "findings");
    let rows =
        duck(&py, &format!("select cause, count(*) from read_parquet('{fi}', hive_partitioning = true) group by 1"));
    let got: BTreeMap<String, i64> =
        rows.iter().map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_i64().unwrap())).collect();
    assert_eq!(got, want);
    // Tokens: fingerprints, never the secrets.
    let tk = glob(dir.path(), "tokens");
    let rows = duck(
        &py,
        &format!("select count(*), count(distinct fingerprint) from read_parquet('{tk}', hive_partitioning = true)"),
    );
    assert_eq!(rows[0][0], rows[0][1]);
    assert_eq!(rows[0][0].as_u64().unwrap() as usize, report["tokens"].as_array().unwrap().len());
    let ev = glob(dir.path(), "events");
    let rows = duck(&py, &format!("select count(*) from read_parquet('{ev}', hive_partitioning = true)"));
    let events: usize =
        report["conversations"].as_array().unwrap().iter().map(|c| c["events"].as_array().unwrap().len()).sum();
    assert_eq!(rows[0][0].as_u64().unwrap() as usize, events);
    for f in walk_files(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        for secret in ["eyJhbGciOiJSUzI1NiIs", "Bearer "] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{} holds {secret}", f.display());
        }
    }
}

#[cfg(feature = "polars")]
/// The DuckDB merge query of docs/fleet.md (the block after `<!-- duckdb-merge -->`).
fn fleet_query() -> String {
    let doc = std::fs::read_to_string(root().join("docs/fleet.md")).unwrap();
    let at = doc.find("<!-- duckdb-merge -->").expect("docs/fleet.md has the DuckDB merge query");
    let rest = &doc[at..];
    let start = rest.find("```sql\n").unwrap() + 7;
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end].to_string()
}

#[cfg(feature = "polars")]
#[test]
fn shards_merged_in_duckdb_equal_stats_over_both() {
    let Some(py) = duckdb_python() else { return };
    let files = samples();
    let (a, b) = files.split_at(files.len() / 2);
    let dir = tempfile::tempdir().unwrap();
    for (name, shard) in [("a", a), ("b", b)] {
        let out = dir.path().join(format!("shard-{name}.parquet")).display().to_string();
        let mut args = vec!["stats", "--format", "parquet", "--by", "endpoint,status", "-o", &out];
        args.extend(shard.iter().map(String::as_str));
        let o = harken(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let whole = stats_json(&["--by", "endpoint,status"], &files);
    let sql = fleet_query().replace("'shards/*.parquet'", &format!("'{}/shard-*.parquet'", dir.path().display()));
    let rows = duck(&py, &sql);
    let groups = whole["groups"].as_array().unwrap();
    assert_eq!(rows.len(), groups.len(), "{rows:?}");
    for r in &rows {
        // endpoint, status, exchanges, refused, status_401, status_403, p50_ms, p90_ms, p99_ms, max_ms
        let g = groups
            .iter()
            .find(|g| g["endpoint"] == r[0] && g["status"] == r[1])
            .unwrap_or_else(|| panic!("no group {r:?}"));
        assert_eq!(r[2].as_i64(), g["exchanges"].as_i64(), "{r:?}");
        assert_eq!(r[3].as_i64(), g["refused"].as_i64(), "{r:?}");
        assert_eq!(r[4].as_i64(), g["status_401"].as_i64(), "{r:?}");
        assert_eq!(r[5].as_i64(), g["status_403"].as_i64(), "{r:?}");
        match (r[7].as_f64(), g["p90_ms"].as_f64()) {
            (Some(x), Some(y)) => assert!((x - y).abs() <= y * BUCKET_WIDTH + 1e-9, "p90 {x} vs {y}"),
            (x, y) => assert_eq!(x, y, "{r:?}"),
        }
    }
}
