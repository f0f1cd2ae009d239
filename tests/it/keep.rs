//! Trimming exchanges to what the analysis reads (src/keep.rs) changes no result: on every
//! sample and every corpus capture, findings, tokens, clock skew and conversations are the same
//! as with every exchange kept whole.

use crate::common::{corpus, root};
use harken::analysis::{self, Options};
use harken::catalog::Catalog;
use harken::ingest::{self, IngestOptions};
use harken::keep::Keep;
use harken::model::{Capture, Exchange};
use harken::timeline::Profile;
use harken::token::TokenOptions;
use std::path::{Path, PathBuf};

fn results(capture: &Capture, opts: &Options) -> String {
    let a = analysis::run(capture, opts);
    serde_json::to_string(&(&a.findings, &a.tokens.tokens, &a.tokens.clock_skew, &a.timeline.conversations))
        .expect("serializable")
}

fn same_with_and_without_trimming(path: &Path) {
    let opts = Options {
        catalog: Catalog::genesys(),
        profile: Profile::genesys(),
        show_secrets: false,
        tokens: TokenOptions::default(),
    };
    let files = vec![path.to_path_buf()];
    let whole = ingest::load(&files, IngestOptions::default());
    let keep = Keep { profile: Some(&opts.profile) };
    let trim = |ex: &mut Exchange| keep.trim(ex);
    let (inputs, exchanges) =
        ingest::load_map_with(&files, IngestOptions::default(), Some(&trim), Some, |ex| (ex.started, ex.origin));
    let trimmed = Capture::new(inputs, exchanges, Vec::new());
    assert_eq!(whole.exchanges.len(), trimmed.exchanges.len(), "{}", path.display());
    assert_eq!(results(&whole, &opts), results(&trimmed, &opts), "{}", path.display());
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
fn samples_analyze_the_same_trimmed() {
    let files = files_in(&root().join("samples"));
    assert!(files.len() > 20, "{files:?}");
    for f in files {
        same_with_and_without_trimming(&f);
    }
}

#[test]
fn corpus_analyzes_the_same_trimmed() {
    let Some(dir) = corpus() else { return };
    for f in files_in(&dir) {
        same_with_and_without_trimming(&f);
    }
}
