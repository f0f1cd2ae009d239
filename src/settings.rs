//! One validated settings value, built from the command line before any work.
//!
//! The command line (src/cli.rs) declares each flag once; [`Settings::new`] turns the shared
//! ones into high-level values: the catalog, profile and JWK Set loaded, the time window
//! parsed, colour decided. A wrong flag fails here, with exit code 2, before any input is read.
//! Commands then run `settings -> pipeline -> render`.

use crate::analysis::Options;
use crate::catalog::Catalog;
use crate::cli::{AnalysisArgs, ColorChoice, InputArgs};
use crate::ingest::{self, IngestOptions};
use crate::model::Capture;
use crate::timeline::Profile;
use crate::token::TokenOptions;
use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Everything a command needs to know from the command line, validated.
pub struct Settings {
    /// The inputs, in command-line order.
    pub files: Vec<PathBuf>,
    /// `--show-secrets`.
    pub show_secrets: bool,
    /// Catalog, profile, JWKS and `show_secrets`, ready for [`crate::analysis::run`].
    pub analysis: Options,
    /// `--since` / `--until`: what is reported (everything is still read and learned from).
    pub window: Window,
    /// Whether tables are coloured (from `--color` and `NO_COLOR`).
    pub color: bool,
    /// `--log-format`: a user-defined access-log format (parsed once, kept for the run).
    pub log_format: Option<&'static crate::ingest::logs::UserFormat>,
}

impl Settings {
    /// Validate the shared flags. `shared` is absent for commands that only read.
    pub fn new(input: &InputArgs, shared: &AnalysisArgs, color: ColorChoice) -> anyhow::Result<Settings> {
        let catalog = match &shared.catalog {
            Some(p) => Catalog::load(p).with_context(|| format!("--catalog {}", p.display()))?,
            None => Catalog::genesys(),
        };
        let profile = match &shared.profile {
            Some(p) => Profile::load(p).with_context(|| format!("--profile {}", p.display()))?,
            None => Profile::genesys(),
        };
        let tokens = match &shared.jwks {
            Some(p) => TokenOptions::with_jwks_file(p)?,
            None => TokenOptions::default(),
        };
        let window = Window {
            since: shared.since.as_deref().map(parse_when).transpose().context("--since")?,
            until: shared.until.as_deref().map(parse_when).transpose().context("--until")?,
        };
        if let (Some(s), Some(u)) = (window.since, window.until) {
            if s >= u {
                bail!("--since must come before --until (the window {s} .. {u} is empty)");
            }
        }
        let log_format = match &input.log_format {
            Some(p) => {
                let f = crate::ingest::logs::UserFormat::load(p).map_err(|e| anyhow::anyhow!("--log-format {e}"))?;
                // One per run, read by every reader thread: leaked rather than reference-counted.
                Some(&*Box::leak(Box::new(f)))
            }
            None => None,
        };
        Ok(Settings {
            log_format,
            files: input.files.clone(),
            show_secrets: input.show_secrets,
            analysis: Options { catalog, profile, show_secrets: input.show_secrets, tokens },
            window,
            color: color_enabled(color),
        })
    }

    /// Read every input; inputs that could not be read to their end are reported on stderr and
    /// the flag returned is true.
    pub fn load(&self, opts: IngestOptions) -> (Capture, bool) {
        let opts = self.ingest(opts);
        let capture = ingest::load(&self.files, opts);
        let failed = report_errors(&capture.inputs);
        (capture, failed)
    }

    /// The inputs' paths as every output names them ([`crate::model::Input::path`]).
    pub fn paths(&self) -> Vec<String> {
        self.files.iter().map(|p| p.display().to_string()).collect()
    }

    /// Reading options with what the command line adds to them (`--log-format`).
    pub fn ingest(&self, opts: IngestOptions) -> IngestOptions {
        IngestOptions { log_format: self.log_format.or(opts.log_format), ..opts }
    }

    /// Options for the renderers.
    pub fn style(&self) -> crate::report::Style {
        crate::report::Style { color: self.color }
    }
}

/// Say on stderr which inputs could not be read (to the end); true if any.
pub fn report_errors(inputs: &[crate::model::Input]) -> bool {
    let mut failed = false;
    for input in inputs {
        if let Some(err) = &input.error {
            eprintln!("harken: error: {}", crate::escape::escape(err));
            failed = true;
        }
    }
    failed
}

/// `--color` with `NO_COLOR` (https://no-color.org) and whether stdout is a terminal.
pub fn color_enabled(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
        }
    }
}

/// A time window: `since <= t < until`; either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    /// Whether `[from, to]` meets the window.
    pub fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| to >= s) && self.until.is_none_or(|u| from < u)
    }

    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

/// RFC 3339, or a bare date (midnight UTC).
pub fn parse_when(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Some(t) = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)) {
        return Ok(t.and_utc());
    }
    bail!(
        "{:?} is not a time: use RFC 3339 (2024-05-01T12:00:00Z) or a date (2024-05-01)",
        crate::report::escape::escape(s)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert!(parse_when("2024-05-01").is_ok());
        assert!(parse_when("2024-05-01T10:00:00+02:00").is_ok());
        assert!(parse_when("May 1").is_err());
    }

    #[test]
    fn windows() {
        let t = |s| parse_when(s).unwrap();
        let w = Window { since: Some(t("2024-05-01")), until: Some(t("2024-05-02")) };
        assert!(w.contains(t("2024-05-01T12:00:00Z")));
        assert!(!w.contains(t("2024-05-02")));
        assert!(w.overlaps(t("2024-04-01"), t("2024-05-01T01:00:00Z")));
        assert!(!w.overlaps(t("2024-04-01"), t("2024-04-30")));
    }
}
