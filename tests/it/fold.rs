//! The analysis folded while reading (src/analysis.rs: every exchange folded into facts, only
//! the refused ones and the token traffic kept) gives the same results as the analysis of
//! every exchange kept whole: on every sample, every corpus capture and all samples read
//! together (inputs read in parallel, batches folded in whatever order they come), findings,
//! tokens, clock skew, conversations and counts are the same, with and without
//! `--show-secrets`. The folded analysis keeps its refusals and token traffic on disk
//! (src/spill.rs) and reads them back at the end.

use crate::common::{corpus, root};
use harken::analysis::{self, Fold, Options};
use harken::catalog::Catalog;
use harken::ingest::{self, IngestOptions};
use harken::timeline::Profile;
use harken::token::{learn, request_credentials, use_region, TokenIndex, TokenOptions, Uses};
use std::path::{Path, PathBuf};

fn options(show_secrets: bool) -> Options {
    Options { catalog: Catalog::genesys(), profile: Profile::genesys(), show_secrets, tokens: TokenOptions::default() }
}

fn results(a: &analysis::Analysis) -> String {
    serde_json::to_string(&(&a.findings, &a.tokens.tokens, &a.tokens.clock_skew, &a.timeline.conversations))
        .expect("serializable")
}

fn same_folded_as_whole(files: &[PathBuf], show_secrets: bool) {
    let opts = options(show_secrets);
    let whole = ingest::load(files, IngestOptions::default());
    let of_whole = analysis::run(&whole, &opts);

    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let fold = Fold::new(&opts, paths);
    let kept = analysis::load(files, IngestOptions::default(), &fold);
    let folded = fold.finish(&kept).expect("refusals written to a temporary file and read back");

    let what = format!("{files:?}");
    assert!(kept.exchanges.len() <= whole.exchanges.len(), "{what}");
    // What the analysis keeps whole (refusals, token traffic) went to disk (src/spill.rs).
    assert!(kept.exchanges.is_empty(), "{what}");
    assert_eq!(of_whole.counts, folded.counts, "{what}");
    assert_eq!(folded.counts.exchanges, whole.exchanges.len(), "{what}");
    assert_eq!(results(&of_whole), results(&folded), "{what}");
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("readable folder").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_in(&p));
        } else if !p.extension().is_some_and(|x| x == "md" || x == "toml" || x == "json" || x == "tsv") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn samples_analyze_the_same_folded() {
    let files = files_in(&root().join("samples"));
    assert!(files.len() > 20, "{files:?}");
    for f in &files {
        same_folded_as_whole(std::slice::from_ref(f), false);
    }
    // Together: tokens learned in one input apply to the others, whatever order the inputs
    // and their batches are folded in.
    same_folded_as_whole(&files, false);
    same_folded_as_whole(&files, true);
}

#[test]
fn corpus_analyzes_the_same_folded() {
    let Some(dir) = corpus() else { return };
    for f in files_in(&dir) {
        same_folded_as_whole(std::slice::from_ref(&f), false);
    }
}

#[test]
fn credential_uses_fold_the_same_in_any_order() {
    let files: Vec<PathBuf> =
        files_in(&root().join("samples")).into_iter().filter(|p| p.extension().is_some_and(|x| x == "har")).collect();
    let capture = ingest::load(&files, IngestOptions::default());
    let index = |order: Vec<&harken::model::Exchange>| {
        let mut uses = Uses::new(true);
        for ex in order {
            let creds = request_credentials(ex);
            uses.observe(ex, &creds, use_region(ex, &creds));
        }
        let learn_from = capture.exchanges.iter().filter(|ex| learn::may_learn(ex));
        let idx = TokenIndex::from_uses(learn_from, uses, None, &TokenOptions::default(), false);
        (idx.tokens.len(), serde_json::to_string(&idx.tokens).expect("serializable"))
    };
    let forward = index(capture.exchanges.iter().collect());
    let backward = index(capture.exchanges.iter().rev().collect());
    let mut shuffled: Vec<&harken::model::Exchange> = capture.exchanges.iter().collect();
    // A fixed interleaving: odd positions first, then even ones.
    shuffled.sort_by_key(|ex| (ex.origin.index % 2 == 0, ex.origin.input));
    let interleaved = index(shuffled);
    assert!(forward.0 > 10, "{}", forward.0);
    assert_eq!(forward, backward);
    assert_eq!(forward, interleaved);
}

/// Without a usable `$TMPDIR` the analysis keeps what it reads whole in memory instead of on
/// disk (src/spill.rs), and says the same: every sample analysed together, in JSON and as a
/// table, with the same exit code.
#[test]
fn without_a_temporary_directory_the_same_findings_in_memory() {
    let files: Vec<String> = files_in(&root().join("samples"))
        .into_iter()
        .filter(|p| !p.extension().is_some_and(|x| x == "gz" || x == "zst" || x == "bz2" || x == "zhar"))
        .map(|p| p.display().to_string())
        .collect();
    let run = |format: &str, tmp: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_harken"));
        c.args(["analyze", "--format", format]).args(&files).current_dir(root());
        if let Some(t) = tmp {
            c.env("TMPDIR", t);
        }
        c.output().expect("run harken")
    };
    for format in ["json", "table"] {
        let on_disk = run(format, None);
        let in_memory = run(format, Some("/nonexistent/harken-tmp"));
        assert_eq!(on_disk.status.code(), in_memory.status.code(), "{format}");
        assert!(on_disk.stdout.len() > 10_000, "{format}: {}", on_disk.stdout.len());
        assert!(on_disk.stdout == in_memory.stdout, "{format}: outputs differ");
        assert_eq!(String::from_utf8_lossy(&on_disk.stderr), String::from_utf8_lossy(&in_memory.stderr), "{format}");
    }
}
