//! Credential uses folded as exchanges are read: one record per distinct credential value, not
//! one per request, so the analysis does not keep the exchanges to count them.
//!
//! Uses arrive in any order (inputs and batches are read in parallel). Everything a use adds
//! to its token is either order-free (counts, first and last use) or kept with the position
//! of the use that added it (`(time, origin, n-th credential of the request)`, the order of a
//! pass over the capture sorted by time), so [`Uses::apply`] gives the [`TokenIndex`] exactly
//! what counting each use in capture order would: the same tokens, in the same order, with the
//! same carriers, regions, malformations and client ids.

use super::{jwt, Credential, CredentialKind, TokenIndex};
use crate::model::Exchange;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// Where a use stands in capture order: request start, input, entry, n-th credential of the
/// request (an input and entry name one exchange).
type Pos = (DateTime<Utc>, usize, usize, usize);

/// Every use of one credential value.
struct Agg {
    fingerprint: String,
    /// The first use (any, counted or not): where a pass in capture order creates the token.
    first: Pos,
    /// The kind and value of that first use.
    kind: CredentialKind,
    secret: String,
    guest: bool,
    shape: Option<Arc<jwt::Shape>>,
    /// Carriers and regions with their first use, in no order until [`Uses::apply`].
    carriers: Vec<(Pos, String)>,
    regions: Vec<(Pos, &'static str)>,
    uses: usize,
    refused: usize,
    first_use: Option<DateTime<Utc>>,
    last_use: Option<DateTime<Utc>>,
    /// The earliest counted use that said the value is malformed (boxed: rare, and one
    /// record per distinct value adds up).
    malformed: Option<Box<(Pos, String)>>,
    /// The earliest counted Basic use with a user name (the client id of a token request).
    principal: Option<Box<(Pos, String)>>,
}

/// Credential uses, folded.
#[derive(Default)]
pub struct Uses {
    /// Drop a value once its shape is known (no output will show it).
    forget: bool,
    by_fp: HashMap<String, usize>,
    all: Vec<Agg>,
}

fn earlier<T>(slot: &mut Option<Box<(Pos, T)>>, at: Pos, v: impl FnOnce() -> T) {
    if slot.as_ref().is_none_or(|b| at < b.0) {
        *slot = Some(Box::new((at, v())));
    }
}

impl Uses {
    /// `forget`: values are not kept once their shape is known (outputs without
    /// `--show-secrets` and without `--jwks`).
    pub fn new(forget: bool) -> Uses {
        Uses { forget, ..Default::default() }
    }

    /// Fold the credentials one request carried ([`super::request_credentials`], in order),
    /// sent to a host of Genesys region `region`.
    pub fn observe(&mut self, ex: &Exchange, creds: &[Credential], region: Option<&'static str>) {
        let refused = matches!(ex.status(), Some(401 | 403));
        for (n, c) in creds.iter().enumerate() {
            let at: Pos = (ex.started, ex.origin.input, ex.origin.index, n);
            // The same value in two places of one request is one use, with both carriers.
            let count = !creds[..n].iter().any(|p| p.fingerprint == c.fingerprint);
            let i = match self.by_fp.get(&c.fingerprint) {
                Some(&i) => i,
                None => {
                    self.by_fp.insert(c.fingerprint.clone(), self.all.len());
                    self.all.push(Agg {
                        fingerprint: c.fingerprint.clone(),
                        first: at,
                        kind: c.kind,
                        secret: String::new(),
                        guest: false,
                        shape: None,
                        carriers: Vec::new(),
                        regions: Vec::new(),
                        uses: 0,
                        refused: 0,
                        first_use: None,
                        last_use: None,
                        malformed: None,
                        principal: None,
                    });
                    self.all.len() - 1
                }
            };
            let a = &mut self.all[i];
            if at < a.first {
                a.first = at;
                a.kind = c.kind;
            }
            a.guest |= c.kind == CredentialKind::GuestJwt;
            if a.shape.is_none() {
                a.shape.clone_from(&c.shape);
            }
            // The value is needed when no shape says what it is (opaque tokens, cookies,
            // keys: the index reads them at the end) or an output shows it.
            if a.shape.is_some() && self.forget {
                a.secret = String::new();
            } else if a.secret.is_empty() {
                a.secret.clone_from(&c.secret);
            }
            match a.carriers.iter_mut().find(|(_, k)| *k == c.carrier) {
                Some((p, _)) if at < *p => *p = at,
                Some(_) => {}
                None => a.carriers.push((at, c.carrier.clone())),
            }
            if !count {
                continue;
            }
            a.uses += 1;
            a.refused += refused as usize;
            if a.first_use.is_none_or(|f| ex.started < f) {
                a.first_use = Some(ex.started);
            }
            if a.last_use.is_none_or(|l| ex.started > l) {
                a.last_use = Some(ex.started);
            }
            if let Some(m) = &c.malformed {
                earlier(&mut a.malformed, at, || m.clone());
            }
            if let Some(r) = region {
                match a.regions.iter_mut().find(|(_, k)| *k == r) {
                    Some((p, _)) if at < *p => *p = at,
                    Some(_) => {}
                    None => a.regions.push((at, r)),
                }
            }
            if c.kind == CredentialKind::Basic {
                if let Some(p) = &c.principal {
                    earlier(&mut a.principal, at, || p.clone());
                }
            }
        }
    }

    /// Add every use to the index (after [`super::learn::learn`]), the values in order of
    /// their first use.
    pub(super) fn apply(self, idx: &mut TokenIndex) {
        let mut all = self.all;
        all.sort_unstable_by_key(|a| a.first);
        idx.tokens.reserve_exact(all.len());
        for mut a in all {
            let i = idx.entry_index(&a.fingerprint, &a.secret, a.kind);
            if a.guest {
                // What `entry_index` does for each guest use.
                idx.entry_index(&a.fingerprint, &a.secret, CredentialKind::GuestJwt);
            }
            let forget = idx.forget;
            let t = &mut idx.tokens[i];
            if t.shape.is_none() && t.jwt.is_none() && a.shape.is_some() {
                t.shape = a.shape.take();
                if forget {
                    // finish() reads the shape, not the value.
                    t.secret = String::new();
                }
            }
            a.carriers.sort();
            for (_, c) in a.carriers {
                if !t.carriers.contains(&c) {
                    t.carriers.push(c);
                }
            }
            t.uses += a.uses;
            t.refused += a.refused;
            if let Some(f) = a.first_use {
                if t.first_use.is_none_or(|x| f < x) {
                    t.first_use = Some(f);
                }
            }
            if let Some(l) = a.last_use {
                if t.last_use.is_none_or(|x| l > x) {
                    t.last_use = Some(l);
                }
            }
            if t.malformed.is_none() {
                t.malformed = a.malformed.map(|b| b.1);
            }
            a.regions.sort();
            for (_, r) in a.regions {
                if !t.used_regions.iter().any(|u| u == r) {
                    t.used_regions.push(r.to_string());
                }
            }
            if t.client_id.is_none() {
                t.client_id = a.principal.map(|b| b.1);
            }
        }
    }
}
