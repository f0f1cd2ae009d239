//! Exchanges into [`Record`]s: the value of each dimension for one exchange.

use super::{endpoint, Aggregator, Dim, Every, Partial, Record};
use crate::analysis::Analysis;
use crate::catalog::Catalog;
use crate::ingest::{self, IngestOptions};
use crate::model::{Capture, Exchange, Input};
use crate::settings::Window;
use crate::token::{primary_credential, Credential};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;

/// What the dimensions are read from.
pub struct Keys<'a> {
    pub dims: &'a [Dim],
    pub catalog: &'a Catalog,
    pub every: Every,
    /// Input paths, by input number.
    pub paths: &'a [String],
    /// Tokens, conversations and findings, when a dimension needs them.
    pub analysis: Option<&'a AnalysisKeys<'a>>,
}

/// The analysis, indexed for per-exchange look-ups.
pub struct AnalysisKeys<'a> {
    pub analysis: &'a Analysis,
    /// (input, index) → primary cause name.
    pub causes: HashMap<(usize, usize), &'static str>,
}

impl<'a> AnalysisKeys<'a> {
    pub fn new(analysis: &'a Analysis, capture: &Capture) -> AnalysisKeys<'a> {
        let by_path: HashMap<&str, usize> =
            capture.inputs.iter().enumerate().map(|(i, inp)| (inp.path.as_str(), i)).collect();
        let causes = analysis
            .findings
            .iter()
            .filter_map(|f| by_path.get(f.input.as_str()).map(|&i| ((i, f.index), f.cause.name())))
            .collect();
        AnalysisKeys { analysis, causes }
    }
}

impl Keys<'_> {
    /// The record of one exchange.
    pub fn record(&self, ex: &Exchange) -> Record {
        self.record_knowing(ex, None)
    }

    /// [`Self::record`] when the exchange's primary credential is already known
    /// (`Some(None)`: it carried none).
    pub fn record_knowing(&self, ex: &Exchange, primary: Option<Option<&Credential>>) -> Record {
        let mut host_path: Option<(String, String)> = None;
        let mut cred = None;
        let mut cred_done = false;
        let mut keys = Vec::with_capacity(self.dims.len());
        for d in self.dims {
            let v = match d {
                Dim::Endpoint => {
                    let (h, p) = host_path.get_or_insert_with(|| ex.host_and_path());
                    Some(endpoint::endpoint(self.catalog, h, &ex.request.method, p))
                }
                Dim::Method => Some(ex.request.method.to_ascii_uppercase()),
                Dim::Status => Some(ex.status().map(|s| s.to_string()).unwrap_or_else(|| "none".into())),
                Dim::Host => {
                    Some(host_path.get_or_insert_with(|| ex.host_and_path()).0.clone()).filter(|h| !h.is_empty())
                }
                Dim::Input => self.paths.get(ex.origin.input).cloned(),
                Dim::Time => Some(self.every.label(&ex.started)),
                Dim::Credential | Dim::Kind | Dim::Grant | Dim::Client | Dim::Identity => {
                    if !cred_done {
                        cred = match primary {
                            Some(c) => c.cloned(),
                            None => primary_credential(ex),
                        };
                        cred_done = true;
                    }
                    let token = || {
                        let c = cred.as_ref()?;
                        self.analysis?.analysis.tokens.get(&c.fingerprint)
                    };
                    match d {
                        Dim::Credential => cred.as_ref().map(|c| format!("{}:{}", c.kind.name(), c.fingerprint)),
                        Dim::Kind => cred.as_ref().map(|c| c.kind.name().to_string()),
                        Dim::Grant => token().map(|t| t.grant.name().to_string()),
                        Dim::Client => token()
                            .and_then(|t| t.client_id.as_ref().map(String::from))
                            .or_else(|| cred.as_ref().and_then(|c| c.principal.clone())),
                        _ => token().and_then(|t| {
                            t.subject.as_ref().map(String::from).or_else(|| t.rare().organization.clone())
                        }),
                    }
                }
                Dim::Cause => {
                    self.analysis.and_then(|a| a.causes.get(&(ex.origin.input, ex.origin.index))).map(|c| c.to_string())
                }
                Dim::Conversation => {
                    self.analysis.and_then(|a| a.analysis.timeline.conversation_of(&ex.origin)).map(|c| c.id.clone())
                }
            };
            keys.push(v);
        }
        Record {
            keys,
            status: ex.status(),
            latency_us: ex.duration_ms.and_then(super::bucket::ms_to_us),
            request_bytes: ex.request.body.as_ref().map(|b| b.size()),
            response_bytes: ex.response_size(),
        }
    }
}

/// Statistics straight from the inputs (exchanges started in `window`; `opts` should keep no
/// bodies): each input is read (in parallel) into its own [`Aggregator`], so only one batch
/// per input and the groups stay in memory. `analysis` (of the same files, folded in a first
/// pass: [`crate::analysis::Fold`]) answers the dimensions that need it.
pub fn stream(
    files: &[PathBuf],
    dims: &[Dim],
    catalog: &Catalog,
    every: Every,
    window: &Window,
    opts: IngestOptions,
    analysis: Option<&AnalysisKeys<'_>>,
) -> anyhow::Result<(Vec<Input>, Partial)> {
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let keys = Keys { dims, catalog, every, paths: &paths, analysis };
    let parts: Vec<(Input, anyhow::Result<Partial>)> = files
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut agg = Aggregator::new(dims);
            let mut err: Option<anyhow::Error> = None;
            let info = ingest::read_input(p, i, opts, &mut |ex| {
                if err.is_none() && window.contains(ex.started) {
                    if let Err(e) = agg.push(keys.record(&ex)) {
                        err = Some(e);
                    }
                }
            });
            let part = match err {
                Some(e) => Err(e),
                None => agg.finish(),
            };
            (info, part)
        })
        .collect();
    let mut inputs = Vec::with_capacity(parts.len());
    let mut partials = Vec::with_capacity(parts.len());
    for (info, part) in parts {
        inputs.push(info);
        partials.push(part?);
    }
    if partials.is_empty() {
        partials.push(Aggregator::new(dims).finish()?);
    }
    Ok((inputs, Partial::merge(partials)?))
}
