//! `harken exchanges`: one row per exchange, filtered, in time order across all inputs.

use super::{code, report_errors};
use crate::cli::ExchangesArgs;
use crate::ingest::{self, BodyPolicy, IngestOptions};
use crate::model::Exchange;
use crate::report::rows::ExchangeRow;
use crate::report::{self, Format};
use crate::settings::{Settings, Window};
use anyhow::{bail, Context};
use regex::Regex;
use std::io::Write;

/// The filters of `harken exchanges`.
pub struct Filter {
    statuses: Option<Vec<StatusMatch>>,
    host: Option<String>,
    methods: Option<Vec<String>>,
    path: Option<Regex>,
    window: Window,
}

#[derive(Debug, PartialEq)]
enum StatusMatch {
    Exact(u16),
    Class(u16),
    None,
}

impl Filter {
    pub fn new(a: &ExchangesArgs, window: Window) -> anyhow::Result<Filter> {
        Ok(Filter {
            statuses: a.status.as_deref().map(parse_statuses).transpose()?,
            host: a.host.as_ref().map(|h| h.to_ascii_lowercase()),
            methods: a.method.as_ref().map(|m| m.split(',').map(|s| s.trim().to_ascii_uppercase()).collect()),
            path: a.path.as_deref().map(Regex::new).transpose().context("--path is not a valid regular expression")?,
            window,
        })
    }

    pub fn keep(&self, ex: &Exchange) -> bool {
        if let Some(st) = &self.statuses {
            let s = ex.status();
            let hit = st.iter().any(|m| match (m, s) {
                (StatusMatch::Exact(c), Some(s)) => *c == s,
                (StatusMatch::Class(c), Some(s)) => s / 100 == *c,
                (StatusMatch::None, None) => true,
                _ => false,
            });
            if !hit {
                return false;
            }
        }
        if let Some(h) = &self.host {
            let host = ex.host();
            let ok = match h.strip_prefix("*.") {
                Some(suffix) => host == suffix || host.ends_with(&format!(".{suffix}")),
                None => host == *h,
            };
            if !ok {
                return false;
            }
        }
        if let Some(ms) = &self.methods {
            if !ms.iter().any(|m| m.eq_ignore_ascii_case(&ex.request.method)) {
                return false;
            }
        }
        if let Some(re) = &self.path {
            if !re.is_match(&ex.path()) {
                return false;
            }
        }
        self.window.contains(ex.started)
    }
}

fn parse_statuses(s: &str) -> anyhow::Result<Vec<StatusMatch>> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lower = p.to_ascii_lowercase();
            if lower == "none" {
                return Ok(StatusMatch::None);
            }
            if lower.len() == 3 && lower.ends_with("xx") {
                if let Some(d) = lower[..1].parse::<u16>().ok().filter(|d| (1..=5).contains(d)) {
                    return Ok(StatusMatch::Class(d));
                }
            }
            match p.parse::<u16>() {
                Ok(c) if (100..=999).contains(&c) => Ok(StatusMatch::Exact(c)),
                _ => bail!("--status: {p:?} is not a status code (401), a class (4xx) or `none`"),
            }
        })
        .collect()
}

pub fn run(a: &ExchangesArgs, s: &Settings, out: &mut dyn Write) -> anyhow::Result<i32> {
    let filter = Filter::new(a, s.window)?;
    // Rows are made as exchanges are read: only the kept rows stay in memory.
    let paths: Vec<String> = s.files.iter().map(|p| p.display().to_string()).collect();
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let (inputs, rows) = ingest::load_map(
        &s.files,
        s.ingest(IngestOptions { bodies: BodyPolicy::None, ..Default::default() }),
        |ex| {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            filter
                .keep(&ex)
                .then(|| (ex.started, ex.origin, ExchangeRow::new(&paths[ex.origin.input], &ex, s.show_secrets)))
        },
        |(t, o, _)| (*t, *o),
    );
    let failed = report_errors(&inputs);
    let total = seen.into_inner();
    let format = Format::from(a.format);
    let n = report::render(format, out, &s.style(), rows.into_iter().map(|(_, _, r)| r))?;
    if format == Format::Table {
        writeln!(out, "{n} exchange{} of {total}", if n == 1 { "" } else { "s" })?;
    }
    Ok(code(failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lists() {
        assert_eq!(
            parse_statuses("401, 4xx,none").unwrap(),
            vec![StatusMatch::Exact(401), StatusMatch::Class(4), StatusMatch::None]
        );
        assert!(parse_statuses("abc").is_err());
        assert!(parse_statuses("9xx").is_err());
    }
}
