//! The filters `harken exchanges` and `harken replay` share: which statuses (`--status`),
//! methods (`--method`) and paths (`--path`) an exchange must have to be picked.

use crate::model::Exchange;
use anyhow::{bail, Context};
use regex::Regex;
use std::borrow::Cow;

/// One item of a `--status` list: a code (`401`), a class (`4xx`), or `none` (no response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    Exact(u16),
    Class(u16),
    None,
}

impl StatusMatch {
    /// Whether a response status (`None`: no response) is this one.
    pub fn matches(self, status: Option<u16>) -> bool {
        match (self, status) {
            (StatusMatch::Exact(c), Some(s)) => c == s,
            (StatusMatch::Class(c), Some(s)) => s / 100 == c,
            (StatusMatch::None, None) => true,
            _ => false,
        }
    }
}

/// Parse `401,403,5xx,none`.
pub fn parse_statuses(s: &str) -> anyhow::Result<Vec<StatusMatch>> {
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

/// `--status`, `--method` and `--path`, parsed; each one absent picks everything.
#[derive(Debug, Default)]
pub struct Pick {
    pub statuses: Option<Vec<StatusMatch>>,
    /// Upper case.
    pub methods: Option<Vec<String>>,
    pub path: Option<Regex>,
}

impl Pick {
    /// From the command line's values (`method`: `GET,POST`; `path`: a regular expression).
    pub fn parse(status: Option<&str>, method: Option<&str>, path: Option<&str>) -> anyhow::Result<Pick> {
        Ok(Pick {
            statuses: status.map(parse_statuses).transpose()?,
            methods: method.map(|m| m.split(',').map(|s| s.trim().to_ascii_uppercase()).collect()),
            path: path.map(Regex::new).transpose().context("--path is not a valid regular expression")?,
        })
    }

    /// Whether `ex` has one of the statuses, one of the methods and a matching path.
    pub fn keeps(&self, ex: &Exchange) -> bool {
        self.keeps_parts(ex.status(), &ex.request.method, || ex.path())
    }

    /// [`Pick::keeps`] on an exchange's parts (a row made without an exchange); `path` is asked
    /// only under `--path`.
    pub fn keeps_parts<'p>(&self, status: Option<u16>, method: &str, path: impl FnOnce() -> Cow<'p, str>) -> bool {
        if let Some(st) = &self.statuses {
            if !st.iter().any(|m| m.matches(status)) {
                return false;
            }
        }
        if let Some(ms) = &self.methods {
            if !ms.iter().any(|m| m.eq_ignore_ascii_case(method)) {
                return false;
            }
        }
        self.path.as_ref().is_none_or(|re| re.is_match(&path()))
    }
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
        assert!(StatusMatch::Class(4).matches(Some(403)));
        assert!(!StatusMatch::Class(4).matches(None));
        assert!(StatusMatch::None.matches(None));
    }
}
