//! One run of the analysis: tokens, conversations, then diagnosis, folded from a stream of
//! exchanges.
//!
//! The analysis keeps facts, not exchanges. What each exchange says is found on the reading
//! threads, in parallel ([`Fold::fold`]): its credentials (decoded and fingerprinted), its
//! clock offset, its conversation events, whether it is a success that carried a credential
//! and on which operation. That is folded into compact state: one record per credential
//! value ([`Uses`]), the conversation events ([`Events`]), the successes the diagnosis
//! compares refusals with ([`Seen`]), counts per status. Only the refused exchanges (the
//! diagnosis reads them whole) and the token traffic ([`learn::may_learn`]: the learners
//! read it in time order at the end) are kept, on disk ([`crate::spill`]), as are the
//! successes. [`Fold::finish`] resolves everything once all is read, when later evidence (a
//! later `tokens/me` reply, more `Date` headers) can no longer change it. The state does not
//! depend on the order exchanges arrive in: inputs and batches are read in parallel, and the
//! results are those of one pass in time order.

use crate::catalog::Catalog;
pub use crate::diagnose::Context;
use crate::diagnose::{self, Finding, Seen};
use crate::ingest::{self, IngestOptions};
use crate::model::{Capture, Exchange, Input};
use crate::spill::{Kind, Spill, Spilled};
use crate::timeline::{Events, Profile, Timeline};
use crate::token::{
    learn, primary_credential, request_credentials, use_region, ClockSkew, Credential, TokenIndex, TokenOptions, Uses,
};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// The results of `harken analyze`.
pub struct Analysis {
    pub tokens: TokenIndex,
    pub timeline: Timeline,
    pub findings: Vec<Finding>,
    /// Over every exchange read, kept or not.
    pub counts: Counts,
}

/// Counts over every exchange read.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counts {
    pub exchanges: usize,
    /// Response status → count (`None`: no response).
    pub statuses: BTreeMap<Option<u16>, usize>,
    /// Exchanges that carry notes of their own.
    pub with_notes: usize,
}

impl Counts {
    fn add(&mut self, ex: &Exchange) {
        self.exchanges += 1;
        *self.statuses.entry(ex.status()).or_insert(0) += 1;
        self.with_notes += !ex.notes.is_empty() as usize;
    }

    /// Status → count with `none` for no response, in the order of the names.
    pub fn by_name(&self) -> BTreeMap<String, usize> {
        self.statuses.iter().map(|(s, n)| (s.map(|s| s.to_string()).unwrap_or_else(|| "none".into()), *n)).collect()
    }

    /// Exchanges answered 401 or 403.
    pub fn refused(&self) -> usize {
        [Some(401), Some(403)].iter().filter_map(|s| self.statuses.get(s)).sum()
    }
}

pub struct Options {
    pub catalog: Catalog,
    /// Where conversation ids are and what proves a state (`Profile::genesys()` by default).
    pub profile: Profile,
    pub show_secrets: bool,
    /// Token options (`--jwks`).
    pub tokens: TokenOptions,
}

impl Options {
    /// Whether token values must be kept to the end (`--show-secrets` shows them, `--jwks`
    /// verifies them).
    fn keep_secrets(&self) -> bool {
        self.show_secrets || self.tokens.jwks.is_some()
    }
}

/// The analysis of an already loaded capture (every exchange in it).
pub fn run(capture: &Capture, opts: &Options) -> Analysis {
    let paths: Vec<String> = capture.inputs.iter().map(|i| i.path.clone()).collect();
    let fold = Fold::new(opts, paths);
    for chunk in capture.exchanges.chunks(BATCH) {
        let found: Vec<Found> = chunk.par_iter().map(|ex| fold.find(ex)).collect();
        fold.add(chunk.iter().zip(found));
    }
    // Nothing is written to disk: the capture holds every exchange.
    fold.finish_with(capture, None)
}

/// Exchanges found in parallel, then folded, at a time (1,024: 4,096 held 15 MB more of a
/// capture's bodies at once for no gain in speed).
const BATCH: usize = 1024;

/// What one exchange says (found on any thread).
struct Found {
    /// Not found when no part needs them (the timeline asks for the few it labels events with).
    creds: Option<Vec<Credential>>,
    region: Option<&'static str>,
    clock: Option<f64>,
    events: crate::timeline::Seen,
    seen: diagnose::SeenOne,
}

/// Work of a command on every exchange the analysis reads, with the exchange's primary
/// credential (found once, for both): it runs on the reading threads, in any order.
pub type Also<'o> = &'o (dyn Fn(&Exchange, Option<&Credential>) + Sync);

/// Which parts of the analysis a command needs (`tokens` and `timeline` need one each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub tokens: bool,
    pub timeline: bool,
    /// The findings (needs the other two).
    pub findings: bool,
}

impl Parts {
    pub const ALL: Parts = Parts { tokens: true, timeline: true, findings: true };
    pub const TOKENS: Parts = Parts { tokens: true, timeline: false, findings: false };
    pub const TIMELINE: Parts = Parts { tokens: false, timeline: true, findings: false };
}

/// The analysis being folded.
pub struct Fold<'o> {
    opts: &'o Options,
    parts: Parts,
    /// Input paths by input number (as [`Input::path`] will say).
    paths: Vec<String>,
    also: Option<Also<'o>>,
    state: Mutex<State>,
    /// The refusals and token traffic read, on disk ([`crate::spill`]).
    spill: Mutex<Spilling>,
}

/// Where [`Fold::fold`] puts what it keeps.
enum Spilling {
    /// None yet: the file is made for the first.
    NotYet,
    Open(Spill),
    /// No temporary file could be made: all is kept in memory.
    InMemory,
}

struct State {
    uses: Uses,
    clock: Vec<f64>,
    events: Events,
    seen: Seen,
    counts: Counts,
}

impl<'o> Fold<'o> {
    pub fn new(opts: &'o Options, paths: Vec<String>) -> Fold<'o> {
        let state = State {
            uses: Uses::new(!opts.keep_secrets()),
            clock: Vec::new(),
            events: Events::default(),
            seen: Seen::default(),
            counts: Counts::default(),
        };
        Fold {
            opts,
            parts: Parts::ALL,
            paths,
            also: None,
            state: Mutex::new(state),
            spill: Mutex::new(Spilling::NotYet),
        }
    }

    /// Build only `parts` (the others come out empty).
    pub fn only(mut self, parts: Parts) -> Fold<'o> {
        self.parts = parts;
        self
    }

    /// Run `also` on every exchange as well (`harken analyze` gathers its summary's
    /// statistics so).
    pub fn also(mut self, also: Also<'o>) -> Fold<'o> {
        self.also = Some(also);
        self
    }

    fn find(&self, ex: &Exchange) -> Found {
        let p = self.parts;
        let creds = (p.tokens || p.findings || self.also.is_some()).then(|| request_credentials(ex));
        let primary = creds.as_ref().and_then(|c| c.first());
        if let Some(f) = self.also {
            f(ex, primary);
        }
        Found {
            region: creds.as_ref().filter(|_| p.tokens).and_then(|c| use_region(ex, c)),
            clock: if p.tokens { ClockSkew::estimate_one(ex) } else { None },
            events: if p.timeline { Events::of(ex, &self.opts.profile) } else { Events::nothing() },
            seen: if p.findings { Seen::of(ex, primary, &self.opts.catalog) } else { Seen::nothing() },
            creds,
        }
    }

    /// Fold exchanges with what was found in them, in any order.
    fn add<'e>(&self, found: impl Iterator<Item = (&'e Exchange, Found)>) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let st = &mut *st;
        for (ex, f) in found {
            if let Some(creds) = f.creds.as_ref().filter(|_| self.parts.tokens) {
                st.uses.observe(ex, creds, f.region);
            }
            st.clock.extend(f.clock);
            let input = self.paths.get(ex.origin.input).map(String::as_str).unwrap_or("");
            let label = |c: &Credential| c.label();
            st.events.add(ex, f.events, input, || match &f.creds {
                Some(creds) => creds.first().map(label),
                None => primary_credential(ex).as_ref().map(label),
            });
            st.seen.add(f.seen, ex.started);
            st.counts.add(ex);
        }
    }

    /// Fold a batch of exchanges read, in parallel; keep those the end of the analysis reads
    /// whole (refusals, token traffic), trimmed to what it reads, on disk ([`crate::spill`];
    /// moved to `kept` when no temporary file can be made). What is not moved stays in `batch`
    /// for the caller to drop: on the thread that read it, whose memory it is.
    pub fn fold(&self, batch: &mut Vec<Exchange>, kept: &mut Vec<Exchange>) {
        let found: Vec<Found> = batch.par_iter().map(|ex| self.find(ex)).collect();
        self.add(batch.iter().zip(found));
        let p = self.parts;
        let mut keep: Vec<(usize, Kind)> = Vec::new();
        for (i, ex) in batch.iter_mut().enumerate() {
            let refusal = p.findings && matches!(ex.status(), Some(401 | 403));
            let kind = match (refusal, p.tokens && learn::may_learn(ex)) {
                (true, true) => Kind::REFUSAL.with(Kind::TOKEN_TRAFFIC),
                (true, false) => Kind::REFUSAL,
                (false, true) => Kind::TOKEN_TRAFFIC,
                (false, false) => continue,
            };
            crate::keep::trim(ex);
            keep.push((i, kind));
        }
        if keep.is_empty() {
            return;
        }
        let mut spill = self.spill.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*spill, Spilling::NotYet) {
            *spill = Spill::new().map_or(Spilling::InMemory, Spilling::Open);
        }
        match &mut *spill {
            Spilling::Open(s) => keep.iter().for_each(|(i, kind)| s.push(&batch[*i], *kind)),
            _ => {
                // The kept ones, in order, out of the batch.
                let mut next = keep.iter().map(|k| k.0).peekable();
                let mut i = 0;
                kept.extend(batch.extract_if(.., |_| {
                    let hit = next.next_if_eq(&i).is_some();
                    i += 1;
                    hit
                }));
            }
        }
    }

    /// Resolve the analysis once everything is read. `capture` holds the exchanges kept
    /// ([`Fold::fold`]) or every exchange ([`run`]), in time order. An error only when what
    /// it keeps could not be written to disk (the disk filled up).
    pub fn finish(self, capture: &Capture) -> std::io::Result<Analysis> {
        let spilled = self.take_spill()?;
        Ok(self.finish_with(capture, spilled))
    }

    fn finish_with(self, capture: &Capture, spilled: Option<Spilled>) -> Analysis {
        let opts = self.opts;
        let (mut analysis, pending) = self.resolve_with(capture, spilled);
        if let Some(p) = pending {
            analysis.findings = diagnose::diagnose_pending(&analysis.context(capture, opts), &p);
        }
        analysis
    }

    /// What was written to disk, ready to be read back.
    fn take_spill(&self) -> std::io::Result<Option<Spilled>> {
        let mut spill = self.spill.lock().unwrap_or_else(|e| e.into_inner());
        match std::mem::replace(&mut *spill, Spilling::NotYet) {
            Spilling::Open(s) => s.finish().map(Some),
            _ => Ok(None),
        }
    }

    /// [`Fold::finish`] without the findings: the diagnosis comes back ready to explain the
    /// refusals a batch at a time ([`diagnose::Pending::each`]), for a command that writes
    /// each finding as it is made (`analyze`). `None` when the fold was asked for no findings.
    pub fn resolve(self, capture: &Capture) -> std::io::Result<(Analysis, Option<diagnose::Pending>)> {
        let spilled = self.take_spill()?;
        Ok(self.resolve_with(capture, spilled))
    }

    fn resolve_with(self, capture: &Capture, spilled: Option<Spilled>) -> (Analysis, Option<diagnose::Pending>) {
        let opts = self.opts;
        let st = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        // Token traffic is on disk or (no temporary file, or every exchange kept) in the
        // capture.
        let learn_from =
            crate::spill::merged(&capture.exchanges, learn::may_learn, spilled.as_ref(), Kind::TOKEN_TRAFFIC);
        let keep_secrets = opts.keep_secrets();
        // What reading used, idle in the readers' heaps, goes back before the index is built.
        crate::alloc::release();
        let mut tokens =
            TokenIndex::from_uses(learn_from, st.uses, ClockSkew::from_estimates(st.clock), &opts.tokens, keep_secrets);
        if opts.show_secrets {
            tokens.reveal_secrets();
        }
        if !opts.show_secrets {
            // Kept at most for `--jwks` to verify them: no output shows them.
            tokens.forget_secrets();
        }
        // And what the uses and learners freed (allocated on the reading threads).
        crate::alloc::release();
        let timeline = st.events.finish(&opts.profile);
        let analysis = Analysis { tokens, timeline, findings: Vec::new(), counts: st.counts };
        let pending =
            self.parts.findings.then(|| diagnose::Pending::new(&analysis.context(capture, opts), st.seen, spilled));
        (analysis, pending)
    }
}

impl Analysis {
    /// What the diagnosis reads of this analysis of `capture`.
    pub fn context<'a>(&'a self, capture: &'a Capture, opts: &'a Options) -> Context<'a> {
        Context {
            capture,
            tokens: &self.tokens,
            timeline: &self.timeline,
            catalog: &opts.catalog,
            show_secrets: opts.show_secrets,
        }
    }
}

/// Read `files` and analyse them, keeping only the exchanges the analysis reads whole: the
/// returned capture holds the inputs, the refused exchanges and the token traffic.
/// Readers skip the headers the analysis never reads ([`ingest::HeaderPolicy::Analysis`]):
/// what it keeps is trimmed to those anyway ([`crate::keep::trim`]).
pub fn load(files: &[PathBuf], ingest: IngestOptions, fold: &Fold<'_>) -> Capture {
    let ingest = IngestOptions { headers: ingest::HeaderPolicy::Analysis, ..ingest };
    let (inputs, kept): (Vec<Input>, Vec<Exchange>) =
        ingest::load_batched(files, ingest, BATCH, &|batch, kept| fold.fold(batch, kept));
    Capture::new(inputs, kept, Vec::new())
}
