//! Shared test helpers.
//!
//! Tests that need the shared corpus (../shared/corpus, never committed here) call
//! [`corpus`]: it returns None, after saying so, when the folder is absent, and panics when
//! `HARKEN_CORPUS` is set but the folder is missing (CI sets it, so a missing corpus fails CI
//! rather than silently skipping).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpus folder, or None (test skipped) when it is absent and not required.
pub fn corpus() -> Option<PathBuf> {
    let (dir, required) = match std::env::var_os("HARKEN_CORPUS") {
        Some(d) => {
            let p = PathBuf::from(d);
            (if p.is_absolute() { p } else { root().join(p) }, true)
        }
        None => (root().join("../shared/corpus"), false),
    };
    if dir.join("MANIFEST.tsv").is_file() {
        return Some(dir);
    }
    if required {
        panic!("HARKEN_CORPUS is set but {} has no MANIFEST.tsv", dir.display());
    }
    say_once(&format!(
        "note: corpus tests skipped: the shared corpus is not at {} (set HARKEN_CORPUS to require it)",
        dir.display()
    ));
    None
}

/// Print a line once per test run, past libtest's output capture (which would hide it in a
/// passing test), so that a skipped check is visible.
fn say_once(msg: &str) {
    use std::io::Write;
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        let _ = writeln!(std::io::stderr().lock(), "{msg}");
    });
}

/// The shared specs folder (Genesys catalog data), with the same gate as [`corpus`].
pub fn specs() -> Option<PathBuf> {
    let c = corpus()?;
    let s = c.join("../specs");
    if s.is_dir() {
        Some(s)
    } else {
        if std::env::var_os("HARKEN_CORPUS").is_some() {
            panic!("HARKEN_CORPUS is set but {} is missing", s.display());
        }
        say_once(&format!("note: catalog tests skipped: {} is missing", s.display()));
        None
    }
}

/// `expected.tsv` facts for one corpus file: check → expected.
pub fn expected(corpus: &Path, file: &str) -> std::collections::HashMap<String, String> {
    let text = std::fs::read_to_string(corpus.join("expected.tsv")).expect("expected.tsv");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() >= 3 && cols[0] == file).then(|| (cols[1].to_string(), cols[2].to_string()))
        })
        .collect()
}

/// Parse `200:212,204:27` (or `none`) into a sorted map.
pub fn counts(s: &str) -> std::collections::BTreeMap<String, usize> {
    if s == "none" {
        return Default::default();
    }
    s.split(',')
        .filter_map(|p| {
            let (k, v) = p.rsplit_once(':')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

pub fn sample(name: &str) -> PathBuf {
    root().join("samples").join(name)
}

/// Every HAR under samples/, sorted.
pub fn sample_hars() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "har"))
        .collect();
    v.sort();
    v
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// Run the harken binary.
pub fn harken(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harken")).args(args).current_dir(root()).output().expect("run harken")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run harken and parse its stdout as one JSON document.
pub fn json(args: &[&str]) -> serde_json::Value {
    let o = harken(args);
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("harken {args:?}: not JSON ({e}): {}\nstderr: {}", stdout(&o), stderr(&o)))
}

/// Run harken and parse each stdout line as JSON.
pub fn ndjson(args: &[&str]) -> Vec<serde_json::Value> {
    let o = harken(args);
    stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}"))).collect()
}

/// Write a temporary file with the given bytes and return its guard.
pub fn temp_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    (dir, p)
}
