//! One run of the analysis over a capture: tokens, conversations, then diagnosis.

use crate::catalog::Catalog;
pub use crate::diagnose::Context;
use crate::diagnose::{self, Finding};
use crate::model::Capture;
use crate::timeline::{Profile, Timeline};
use crate::token::{TokenIndex, TokenOptions};

/// The results of `harken analyze`.
pub struct Analysis {
    pub tokens: TokenIndex,
    pub timeline: Timeline,
    pub findings: Vec<Finding>,
}

pub struct Options {
    pub catalog: Catalog,
    /// Where conversation ids are and what proves a state (`Profile::genesys()` by default).
    pub profile: Profile,
    pub show_secrets: bool,
    /// Token options (`--jwks`).
    pub tokens: TokenOptions,
}

pub fn run(capture: &Capture, opts: &Options) -> Analysis {
    let tokens = if opts.show_secrets {
        let mut t = TokenIndex::build_with(capture, &opts.tokens);
        t.reveal_secrets();
        t
    } else {
        TokenIndex::build_without_secrets(capture, &opts.tokens)
    };
    let timeline = Timeline::build_with(capture, &opts.profile);
    let cx = Context {
        capture,
        tokens: &tokens,
        timeline: &timeline,
        catalog: &opts.catalog,
        show_secrets: opts.show_secrets,
    };
    let findings = diagnose::diagnose(&cx);
    Analysis { tokens, timeline, findings }
}
