//! The few statistics `harken analyze` ends its summary with: the endpoints and credentials
//! refused most, with their refusal rates.

use super::{Dim, GroupStats, Partial, Sort};
use serde::Serialize;

/// One line: an endpoint or a credential, how often it was refused, out of how many calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Top {
    /// The endpoint template or `kind:fingerprint` (`(none)` for requests without one).
    pub name: String,
    pub refused: i64,
    pub status_401: i64,
    pub status_403: i64,
    pub exchanges: i64,
    /// `refused / exchanges`.
    pub rate: f64,
}

/// Endpoints and credentials with refusals, most refused first, at most `n` of each.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Refusals {
    pub endpoints: Vec<Top>,
    pub credentials: Vec<Top>,
}

fn top(rows: Vec<GroupStats>, n: usize) -> Vec<Top> {
    let mut rows: Vec<GroupStats> = rows.into_iter().filter(|g| g.refused > 0).collect();
    Sort::Refused.apply(&mut rows);
    rows.truncate(n);
    rows.into_iter()
        .map(|g| Top {
            name: g.keys.first().cloned().flatten().unwrap_or_else(|| "(none)".into()),
            refused: g.refused,
            status_401: g.status_401,
            status_403: g.status_403,
            exchanges: g.exchanges,
            rate: g.refused_rate,
        })
        .collect()
}

/// The dimensions [`refusals`] needs its partial statistics grouped by.
pub const DIMS: [Dim; 3] = [Dim::Method, Dim::Endpoint, Dim::Credential];

/// The top refused endpoints (method and template) and credentials, from statistics grouped
/// by [`DIMS`].
pub fn refusals(partial: &Partial, n: usize) -> anyhow::Result<Refusals> {
    let endpoints = partial
        .rollup(&[Dim::Method, Dim::Endpoint])?
        .finish()?
        .into_iter()
        .map(|mut g| {
            let label = format!(
                "{} {}",
                g.keys.first().cloned().flatten().unwrap_or_default(),
                g.keys.get(1).cloned().flatten().unwrap_or_default()
            );
            g.keys = vec![Some(label)];
            g
        })
        .collect();
    let credentials = partial.rollup(&[Dim::Credential])?.finish()?;
    Ok(Refusals { endpoints: top(endpoints, n), credentials: top(credentials, n) })
}

/// Text lines for a terminal summary (already escaped), empty without refusals.
pub fn lines(r: &Refusals) -> Vec<String> {
    let mut out = Vec::new();
    let fmt = |t: &Top| {
        format!(
            "  {:>5} of {:<5} ({:>5.1}%; 401: {}, 403: {})  {}",
            t.refused,
            t.exchanges,
            100.0 * t.rate,
            t.status_401,
            t.status_403,
            crate::report::escape::escape(&t.name)
        )
    };
    if !r.endpoints.is_empty() {
        out.push("Most refused endpoints (refused of calls):".to_string());
        out.extend(r.endpoints.iter().map(fmt));
    }
    if !r.credentials.is_empty() {
        out.push("Most refused credentials (refused of uses):".to_string());
        out.extend(r.credentials.iter().map(fmt));
    }
    out
}
